"""What every import shares: writing the imported tables as a dataset folder,
validating it with the ordinary loader, and one report for both.

An importer (:mod:`sensoryprofile.data.redcap`, :mod:`sensoryprofile.data.fhir`)
turns a clinic system's export into an :class:`ImportedTables`: the four
tables of a dataset (text cells), where each of their rows came from (source
file, record or resource, field names), the import's own problems and its
accounting of what it read. :func:`write_imported_dataset` writes the folder,
loads it with :func:`sensoryprofile.data.dataset.load_dataset` (every rule of
``sensoryprofile validate`` applies), and returns one report in which the
loader's problems are named by where their rows came from: the source file,
its row, the record or resource, the source field.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import yaml

from sensoryprofile import columns as C
from sensoryprofile.data.dataset import INSTRUMENTS_DIR, TABLES, Dataset, load_dataset
from sensoryprofile.data.validation import HIDDEN, Problem, ValidationReport, display_value
from sensoryprofile.errors import UsageError
from sensoryprofile.instruments import Instrument, shipped_instrument_ids

# What an import does with something it cannot use (the loader's own actions,
# "row rejected" and the others of data.validation, apply to the output rows).
ROW_NOT_IMPORTED = "row not imported"
FORM_NOT_IMPORTED = "form not imported"
RESOURCE_NOT_IMPORTED = "resource not imported"
VALUE_READ_AS_BLANK = "value read as blank"
COLUMN_READ_AS_BLANK = "column read as blank"
STATUS_NOT_CHECKED = "status not checked"

#: Columns of the origin frames: where each output row came from.
ORIGIN_FILE, ORIGIN_ROW, ORIGIN_KEY, ORIGIN_GROUP = "file", "row", "key", "group"
ORIGIN_COLUMNS = [ORIGIN_FILE, ORIGIN_ROW, ORIGIN_KEY, ORIGIN_GROUP]


@dataclass
class ImportedTables:
    """An import's result before it is written.

    Attributes
    ----------
    tables : the four dataset tables (``children``, ``assessments``,
        ``goals``, ``goal_ratings``), cells as text, missing as NA.
    origins : per table, one row per table row: ``file``, ``row`` (the row
        or line or entry number in the source), ``key`` (the record or
        resource, e.g. ``record_id=12, event=intake_arm_1``) and ``group``
        (a key into ``fields``).
    fields : per group, dataset column -> source field name, so that a
        problem found in an output column names the source field.
    instruments : the instruments the assessments use; those not shipped
        with the package are written under ``instruments/``.
    report : the import's own problems and its source accounting
        (e.g. ``redcap rows``: read = imported + not imported).
    identifying : source fields whose values never appear in a message.
    """

    tables: dict[str, pd.DataFrame]
    origins: dict[str, pd.DataFrame]
    fields: dict[str, dict[str, str]] = field(default_factory=dict)
    instruments: list[Instrument] = field(default_factory=list)
    report: ValidationReport = field(default_factory=ValidationReport)
    identifying: frozenset = frozenset()


def shown_value(value, source_field: str | None, identifying) -> str:
    """A source cell as shown in a message: hidden when the field identifies a child."""
    if source_field is not None and source_field in identifying:
        return HIDDEN
    return display_value(value, source_field)


def empty_origin() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=object) for c in ORIGIN_COLUMNS})


def check_output_folder(out_dir: str | Path) -> Path:
    """The import's output folder: new, or an existing empty folder."""
    out = Path(out_dir)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise UsageError(f"--out {out} must be a new or empty folder: an import never "
                         "overwrites a dataset")
    return out


def _write_folder(imported: ImportedTables, folder: Path) -> None:
    for table in TABLES:
        frame = imported.tables[table]
        frame.to_csv(folder / f"{table}.csv", index=False, lineterminator="\n")
    shipped = set(shipped_instrument_ids())
    own = [inst for inst in imported.instruments if inst.id not in shipped]
    if own:
        (folder / INSTRUMENTS_DIR).mkdir()
        for inst in own:
            text = yaml.safe_dump(inst.to_dict(), sort_keys=False, allow_unicode=True)
            (folder / INSTRUMENTS_DIR / f"{inst.id}.yaml").write_text(text, encoding="utf-8")


def _relabel(problem: Problem, imported: ImportedTables, files: dict[str, str]) -> Problem:
    """A loader problem named by the source row its output row came from."""
    table = problem.table
    origin = imported.origins.get(table)
    if (origin is None or problem.row is None or problem.row < 2
            or problem.file != files.get(table) or problem.row - 2 >= len(origin)):
        return problem  # a whole-file problem: it stays with the output file
    at = origin.iloc[problem.row - 2]
    names = imported.fields.get(at[ORIGIN_GROUP], {})
    column = names.get(problem.column, problem.column) if problem.column else None
    value = problem.value
    if column in imported.identifying:
        value = HIDDEN
    where = f"{problem.file} row {problem.row}"
    key = f"{at[ORIGIN_KEY]}; {where}" if at[ORIGIN_KEY] else where
    row = None if pd.isna(at[ORIGIN_ROW]) else int(at[ORIGIN_ROW])
    return Problem(file=str(at[ORIGIN_FILE]), row=row, column=column, value=value,
                   rule=problem.rule, action=problem.action, table=problem.table, key=key)


def write_imported_dataset(imported: ImportedTables, out_dir: str | Path, *,
                           today: dt.date | None = None) -> tuple[Dataset, ValidationReport]:
    """Write an import as a dataset folder, load it, and report on both.

    The folder is written under a hidden name beside ``out_dir`` and moved into
    place when complete: a failed import leaves no half-written dataset.

    Returns
    -------
    (Dataset, ValidationReport)
        The loaded dataset, and one report: the import's problems, then the
        loader's (each named by its source row), and the accounting of the
        source followed by that of the four tables.
    """
    out = check_output_folder(out_dir)
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = Path(tempfile.mkdtemp(prefix=f".{out.name}.partial-", dir=out.parent))
    try:
        _write_folder(imported, partial)
        if out.exists():
            out.rmdir()  # empty (checked above)
        os.replace(partial, out)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(out, 0o777 & ~umask)  # mkdtemp makes folders private; a dataset is ordinary
    dataset = load_dataset(out, today=today)
    report = ValidationReport(problems=list(imported.report.problems),
                              counts=dict(imported.report.counts))
    report.problems.extend(_relabel(p, imported, dataset.files)
                           for p in dataset.report.problems)
    report.counts.update(dataset.report.counts)
    return dataset, report


#: The columns of each table, in the order an import writes them (items follow
#: the assessments' meta columns).
TABLE_COLUMNS = {
    "children": list(C.CHILDREN_COLUMNS),
    "assessments": list(C.ASSESSMENTS_META_COLUMNS),
    "goals": list(C.GOALS_COLUMNS),
    "goal_ratings": list(C.GOAL_RATINGS_COLUMNS),
}
