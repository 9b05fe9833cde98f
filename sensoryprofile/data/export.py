"""De-identified export of a clinic dataset, for researchers.

:func:`export_deidentified` writes the dataset's four tables (children.csv,
assessments.csv, goals.csv, goal_ratings.csv) without names, dates of birth,
free text or the clinic's IDs, plus ``manifest.json`` and ``MANIFEST.md``
saying what was done to every column of every table. It has two modes, which
serve two different HIPAA routes (docs/privacy.md has the whole model):

* **keyed** (the default): keyed pseudonyms and shifted dates (or days since
  referral). The pseudonyms are computed from the clinic's IDs and the dates
  keep their intervals, so this is **not** HIPAA Safe Harbor (45 CFR
  164.514(b)(2) and (c) allow neither). It is a *limited data set*
  (164.514(e), shared under a data use agreement) or material for an *expert
  determination* (164.514(b)(1)). Its strength: exports made with the same
  key link.
* **strict** (``strict=True``): HIPAA Safe Harbor. Every date becomes its year
  only; IDs become random study codes, not derived from anything about the
  child (164.514(c)); the table linking the clinic's IDs to the codes is
  written only to a file the clinic names, outside the export; site,
  therapist and the names of raters are removed. No key is used.

Keys, keyed pseudonyms and study codes are in :mod:`sensoryprofile.data.keys`;
the column policies and the manifest in
:mod:`sensoryprofile.data.export_manifest` (both re-exported here).

What happens to each value
--------------------------
* IDs (child, assessment, goal). Keyed: ``prefix + first 16 hex digits of
  HMAC-SHA256(key, kind + NUL + id)``, e.g. ``C-3f2a9c0b5d1e7a44``; the same
  key gives the same pseudonyms in every export and without the key they can
  be neither reversed nor recomputed; the message is namespaced by kind, so a
  child id and a goal id that are equal never share a pseudonym. Strict:
  ``SC-``, ``SA-``, ``SG-`` + 16 random hex digits from :mod:`secrets`, new in
  every export; the linkage table (``linkage_file``) is the only way back.
* Sites, therapists and rater names. Keyed: keyed pseudonyms (``site-…``,
  ``therapist-…``, ``rater-…``), or kept with ``keep_sites=True``. Strict:
  removed. Rater *roles* such as "therapist" or "caregiver" are kept in both.
* ``date_of_birth``, ``display_name``, rating notes, the goal description and
  the five level texts are removed. Columns the toolkit does not know are
  removed too (they could hold anything); they are counted, not named.
* Diagnoses (a ``;``-separated list) and goal domains are written only as
  terms of the dataset's controlled vocabulary
  (:class:`sensoryprofile.data.settings.Settings`: the defaults plus the
  ``diagnoses`` and ``goal_domains`` of ``dataset.yaml``), in the
  vocabulary's spelling; anything else (a rare condition typed as free text,
  markup, a formula) becomes ``other``. The manifest counts the values
  replaced per column, never showing them.
* Ages are whole completed months, ``age_at_referral_months`` on children
  and ``age_months`` at each assessment (scoring uses them in place of
  dates of birth; every instrument's norms are in months). Ages of 90 years
  or more are written as 1080 months, meaning "90 or older" (Safe Harbor
  aggregates ages over 89).
* Calendar dates. Keyed: shifted by a per-child offset derived from the key
  (:data:`DATE_SHIFT_BASE_DAYS` plus a keyed jitter of whole weeks): the same
  offset for every date of a child, so intervals and weekdays are kept. The
  shift moves every date about 200 years into the past, so a shifted date can
  never be mistaken for, or coincide with, a real one (the loader refuses
  future dates, hence the past). The year is kept to within one; the day
  within the year is hidden by the +/-26-week jitter. With ``no_dates=True``
  each date column is replaced by whole days since the child's referral (day
  0), in :data:`C.DAY_COLUMNS`. Strict: each date column is replaced by its
  year (:data:`C.YEAR_COLUMNS`), and :data:`C.SEQUENCE` numbers assessments
  within a child and ratings within a goal in date order. A strict export is
  a set of tables: :func:`~sensoryprofile.data.assessments.score_assessments`
  scores it (from ``age_months``), but :func:`load_dataset` does not read it
  (its rules and analyses need dates or day offsets, which Safe Harbor does
  not allow).
* Item responses are rewritten canonically: the number of an on-scale answer
  (a typed label becomes its number), blank stays blank, and anything else
  (off-scale numbers, free text) becomes ``off-scale``, which scores the same
  way (the score is invalid) but cannot carry text. Cells of another
  instrument's items are blanked (scoring ignores them).
* Rows rejected by validation are not exported; the manifest lists them by
  pseudonym (or study code) with the column that failed, never the rule text
  (it can quote values).
* Output rows are ordered by pseudonym (then by date within a child), never
  in the clinic's order, which may follow names or record numbers.

Every table of an export, and the linkage table, is written by
:func:`~sensoryprofile.data.tables.write_csv_atomic`, which neutralises text
cells a spreadsheet would run as a formula; the other files (settings,
manifest) by :func:`~sensoryprofile.data.tables.write_text_atomic`.

The key file (keyed mode)
-------------------------
:func:`new_key` writes 32 random bytes, hex-encoded, to a new file with mode
0o600 and refuses to overwrite. :func:`read_key` refuses a file that group or
others can read (``chmod 600`` it), a key stored inside the export folder
(the key must never travel with the export), and a weak key
(:func:`key_weakness`): shorter than 32 bytes, every byte the same (all
zero), a repeated block, fewer than 16 distinct byte values, or successive
bytes that step by fewer than 16 distinct amounts (a counter). The manifest
records only the key's fingerprint (first 8 hex digits of its SHA-256).

The linkage file (strict mode)
------------------------------
A CSV of ``id_column, original_id, study_code, in_export``, created with mode
0o600 and never overwritten, refused inside the export folder. It stays with
the clinic: whoever holds it can re-identify every row.

Nothing identifying is logged or raised: messages name files, columns and
counts, never an original ID, name, date or text.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import shutil
import stat
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from sensoryprofile import columns as C
from sensoryprofile.data.dataset import SETTINGS_FILE, TABLES, Dataset, load_dataset
from sensoryprofile.data.export_manifest import (
    AGE_CAP_MONTHS,
    MANIFEST_JSON,
    MANIFEST_MD,
    RATER_ROLES,
    DroppedRow,
    ExportManifest,
    TableExport,
    VocabularyCount,
    column_policies,
    export_notes,
)
from sensoryprofile.data.keys import (
    DATE_SHIFT_BASE_DAYS,
    DATE_SHIFT_JITTER_WEEKS,
    KEY_BYTES,
    MIN_DISTINCT_BYTES,
    STUDY_PREFIXES,
    Pseudonymiser,
    StudyCodes,
    key_fingerprint,
    key_weakness,
    new_key,
    read_key,
)
from sensoryprofile.data.settings import OTHER, Settings
from sensoryprofile.data.tables import write_csv_atomic, write_text_atomic
from sensoryprofile.data.validation import DEPENDENT_REJECTED, ROW_REJECTED
from sensoryprofile.dates import completed_months
from sensoryprofile.errors import UsageError
from sensoryprofile.instruments import list_instruments
from sensoryprofile.measures.responses import BLANK, FIRST_VALUE, OFF, encode_item_columns

__all__ = [
    "AGE_CAP_MONTHS", "DATE_SHIFT_BASE_DAYS", "DATE_SHIFT_JITTER_WEEKS", "KEY_BYTES",
    "MANIFEST_JSON", "MANIFEST_MD", "MIN_DISTINCT_BYTES", "OFF_SCALE_CELL", "ExportManifest",
    "Pseudonymiser", "StudyCodes", "column_policies", "export_deidentified", "key_fingerprint",
    "key_weakness", "new_key", "read_key",
]

log = logging.getLogger(__name__)

#: Shifted dates stay readable as ``datetime64[ns]`` (which starts in 1677).
EARLIEST_SHIFTED = np.datetime64("1678-01-01", "D")

OFF_SCALE_CELL = "off-scale"

#: The columns of the linkage table (strict mode).
LINKAGE_COLUMNS = ("id_column", "original_id", "study_code", "in_export")

#: (table, column, vocabulary of :class:`Settings`, ';'-separated list?)
VOCABULARY_COLUMNS = (("children", C.DIAGNOSES, "diagnoses", True),
                      ("goals", C.DOMAIN, "goal_domains", False))


# ---------------------------------------------------------------------------
# transforming the tables
# ---------------------------------------------------------------------------
@dataclass
class _Context:
    codes: Pseudonymiser | StudyCodes
    strict: bool
    no_dates: bool
    keep_sites: bool
    settings: Settings
    shift: dict      # child_id -> offset in days (keyed, shifted dates)
    referral: dict   # child_id -> referral datetime (no-dates mode)
    vocabulary: list[VocabularyCount] = field(default_factory=list)


def _ages(date_of_birth: pd.Series, on: pd.Series, given: pd.Series | None = None
          ) -> pd.Series:
    """Completed months from the dates; ``given`` (an extract's own ages) where
    there is no date of birth; capped at :data:`AGE_CAP_MONTHS`."""
    months = completed_months(date_of_birth.to_numpy(), on.to_numpy())
    if given is not None:
        given = pd.to_numeric(given, errors="coerce").to_numpy(dtype=float)
        months = np.where(np.isnan(months), given, months)
    months = np.where(months >= AGE_CAP_MONTHS, AGE_CAP_MONTHS, months)
    return pd.Series(months, index=on.index).astype("Int64")


def _dates(ctx: _Context, dates: pd.Series, child_ids: pd.Series) -> pd.Series:
    """Years (strict), whole days since referral (no dates) or shifted ISO
    dates; blank where unknown."""
    dates = pd.Series(pd.to_datetime(dates.to_numpy()), index=dates.index)
    if ctx.strict:
        return dates.dt.year.astype("Int64")
    if ctx.no_dates:
        referral = pd.to_datetime(child_ids.map(ctx.referral).to_numpy())
        days = (dates.to_numpy() - referral) / np.timedelta64(1, "D")
        return pd.Series(days, index=dates.index).round().astype("Int64")
    offset = child_ids.map(ctx.shift).to_numpy(dtype=float)  # NaN: no child -> no date
    shifted = dates.to_numpy().astype("datetime64[D]")
    bad = np.isnan(offset) | np.isnat(shifted)
    moved = shifted.copy()
    moved[~bad] = shifted[~bad] + offset[~bad].astype("int64").astype("timedelta64[D]")
    if (moved[~bad] < EARLIEST_SHIFTED).any():
        raise UsageError(f"a date before {EARLIEST_SHIFTED + DATE_SHIFT_BASE_DAYS + 183} cannot "
                         "be shifted (the result would be before pandas' earliest date); is "
                         "this dataset already a date-shifted export? Use no_dates=True")
    text = np.where(bad, None, np.datetime_as_string(moved, unit="D"))
    return pd.Series(text, index=dates.index, dtype="object")


def _date_column(ctx: _Context, column: str) -> str:
    if ctx.strict:
        return C.YEAR_COLUMNS[column]
    return C.DAY_COLUMNS[column] if ctx.no_dates else column


def _sequence(groups: pd.Series, dates: pd.Series) -> pd.Series:
    """1, 2, ... in date order within each group; equal dates share a number."""
    when = pd.Series(pd.to_datetime(dates.to_numpy()), index=dates.index)
    return when.groupby(groups.to_numpy()).rank(method="dense").astype("Int64")


def _in_vocabulary(ctx: _Context, table: str, column: str, vocabulary: str, values: pd.Series,
                   is_list: bool) -> pd.Series:
    """Values as terms of the vocabulary, in its spelling; anything else
    :data:`OTHER`. A list keeps its order, each term once. Counts what was
    replaced (in ``ctx.vocabulary``), never the values."""
    def rewrite(value) -> tuple[str | None, int]:
        if not isinstance(value, str) or not value.strip():
            return None, 0
        parts = [p for p in value.split(";") if p.strip()] if is_list else [value]
        terms: list[str] = []
        outside = 0
        for part in parts:
            term = ctx.settings.canonical(vocabulary, part)
            if term is None:
                term, outside = OTHER, outside + 1
            if term not in terms:
                terms.append(term)
        return ";".join(terms) or None, outside

    seen: dict = {}  # each distinct value is rewritten once
    replaced = rows = 0
    out = []
    for value in values.to_numpy(dtype=object):
        key = value if isinstance(value, str) else None
        if key not in seen:
            seen[key] = rewrite(value)
        text, outside = seen[key]
        replaced, rows = replaced + outside, rows + (outside > 0)
        out.append(text)
    ctx.vocabulary.append(VocabularyCount(table, column, vocabulary, replaced, rows))
    return pd.Series(out, index=values.index, dtype="object")


def _export_children(ctx: _Context, children: pd.DataFrame) -> pd.DataFrame:
    ids = children[C.CHILD_ID]
    out = pd.DataFrame(index=children.index)
    out[C.CHILD_ID] = ctx.codes.map(C.CHILD_ID, ids)
    out[C.AGE_AT_REFERRAL_MONTHS] = _ages(children[C.DATE_OF_BIRTH], children[C.REFERRAL_DATE],
                                        children.get(C.AGE_AT_REFERRAL_MONTHS))
    out[C.SEX] = children[C.SEX]
    diagnoses = (children[C.DIAGNOSES] if C.DIAGNOSES in children.columns
                 else pd.Series(None, index=children.index, dtype=object))
    out[C.DIAGNOSES] = _in_vocabulary(ctx, "children", C.DIAGNOSES, "diagnoses", diagnoses,
                                      True)
    if not ctx.strict:
        for col in (C.SITE, C.THERAPIST):
            out[col] = children[col] if ctx.keep_sites else ctx.codes.map(col, children[col])
    for col in (C.REFERRAL_DATE, C.DISCHARGE_DATE):
        out[_date_column(ctx, col)] = _dates(ctx, children[col], ids)
    return out.sort_values(C.CHILD_ID, kind="stable")


def _item_columns(assessments: pd.DataFrame, instruments: dict) -> list[str]:
    known = set()
    for inst in [*instruments.values(), *list_instruments()]:
        known.update(inst.item_ids)
    return [c for c in assessments.columns if c in known]


def _canonical_items(assessments: pd.DataFrame, items: list[str], instruments: dict
                     ) -> pd.DataFrame:
    """Item cells as canonical numbers, blank or 'off-scale' (see module notes)."""
    out = pd.DataFrame({col: np.full(len(assessments), None, dtype=object) for col in items},
                       index=assessments.index)
    names = assessments[C.INSTRUMENT]
    for name, inst in instruments.items():
        rows = (names == name).to_numpy()
        if not rows.any():
            continue
        present = [i for i in inst.item_ids if i in items]
        codes, _ = encode_item_columns(assessments.loc[rows, present], inst)
        allowed = inst.response_scale.allowed_values
        texts = np.empty(FIRST_VALUE + len(allowed), dtype=object)
        texts[BLANK], texts[OFF] = None, OFF_SCALE_CELL
        texts[FIRST_VALUE:] = [f"{float(v):g}" for v in allowed]
        position = {item: j for j, item in enumerate(inst.item_ids)}
        for item in present:
            out.loc[rows, item] = texts[codes[:, position[item]]]
    return out


def _export_assessments(ctx: _Context, assessments: pd.DataFrame, children: pd.DataFrame,
                        instruments: dict) -> pd.DataFrame:
    ids = assessments[C.CHILD_ID]
    dob = children.drop_duplicates(C.CHILD_ID).set_index(C.CHILD_ID)[C.DATE_OF_BIRTH]
    out = pd.DataFrame(index=assessments.index)
    out[C.ASSESSMENT_ID] = ctx.codes.map(C.ASSESSMENT_ID, assessments[C.ASSESSMENT_ID])
    out[C.CHILD_ID] = ctx.codes.map(C.CHILD_ID, ids)
    out[C.INSTRUMENT] = assessments[C.INSTRUMENT]
    out[_date_column(ctx, C.DATE)] = _dates(ctx, assessments[C.DATE], ids)
    if ctx.strict:
        out[C.SEQUENCE] = _sequence(ids, assessments[C.DATE])
    # reindex, not map: with no rows left (every child rejected) the ids are an
    # empty float column, which map() cannot pair with dates
    out[C.AGE_MONTHS] = _ages(pd.Series(dob.reindex(ids.astype(object).to_numpy()).to_numpy(),
                                        index=ids.index),
                              assessments[C.DATE], assessments.get(C.AGE_MONTHS))
    out[C.RESPONDENT] = assessments[C.RESPONDENT]
    items = _item_columns(assessments, instruments)
    out = pd.concat([out, _canonical_items(assessments, items, instruments)], axis=1)
    order = pd.DataFrame({"c": out[C.CHILD_ID], "d": assessments[C.DATE],
                          "a": out[C.ASSESSMENT_ID]}).sort_values(["c", "d", "a"]).index
    return out.loc[order]


def _export_goals(ctx: _Context, goals: pd.DataFrame) -> pd.DataFrame:
    ids = goals[C.CHILD_ID]
    out = pd.DataFrame(index=goals.index)
    out[C.GOAL_ID] = ctx.codes.map(C.GOAL_ID, goals[C.GOAL_ID])
    out[C.CHILD_ID] = ctx.codes.map(C.CHILD_ID, ids)
    out[_date_column(ctx, C.SET_DATE)] = _dates(ctx, goals[C.SET_DATE], ids)
    out[C.DOMAIN] = _in_vocabulary(ctx, "goals", C.DOMAIN, "goal_domains", goals[C.DOMAIN],
                                   False)
    for col in (C.IMPORTANCE, C.DIFFICULTY, C.BASELINE_LEVEL):
        out[col] = goals[col]
    out[_date_column(ctx, C.TARGET_DATE)] = _dates(ctx, goals[C.TARGET_DATE], ids)
    order = pd.DataFrame({"c": out[C.CHILD_ID], "d": goals[C.SET_DATE],
                          "g": out[C.GOAL_ID]}).sort_values(["c", "d", "g"]).index
    return out.loc[order]


def _raters(ctx: _Context, raters: pd.Series) -> pd.Series:
    """Roles as written; a person: a keyed pseudonym, or (strict) blank."""
    role = raters.map(lambda v: isinstance(v, str) and v.strip().casefold() in RATER_ROLES)
    role = role.astype(bool)
    if ctx.strict:
        return raters.where(role, None).astype("object")
    people = ctx.codes.map(C.RATER, raters.where(~role))
    return raters.where(role, people).astype("object")


def _export_ratings(ctx: _Context, ratings: pd.DataFrame, goals: pd.DataFrame) -> pd.DataFrame:
    goal_child = goals.drop_duplicates(C.GOAL_ID).set_index(C.GOAL_ID)[C.CHILD_ID]
    ids = pd.Series(ratings[C.GOAL_ID].map(goal_child).to_numpy(), index=ratings.index)
    out = pd.DataFrame(index=ratings.index)
    out[C.GOAL_ID] = ctx.codes.map(C.GOAL_ID, ratings[C.GOAL_ID])
    out[_date_column(ctx, C.DATE)] = _dates(ctx, ratings[C.DATE], ids)
    if ctx.strict:
        out[C.SEQUENCE] = _sequence(ratings[C.GOAL_ID], ratings[C.DATE])
    out[C.LEVEL] = ratings[C.LEVEL]
    out[C.RATER] = _raters(ctx, ratings[C.RATER]) if C.RATER in ratings.columns else None
    order = pd.DataFrame({"g": out[C.GOAL_ID], "d": ratings[C.DATE]}).sort_values(
        ["g", "d"]).index
    return out.loc[order]


def _unknown_columns(table: str, frame: pd.DataFrame, items: list[str]) -> int:
    known = {p.column for p in column_policies()[table]} | {C.SOURCE_ROW, *items}
    if table == "assessments":
        known.add(C.AGE_MONTHS)
    return sum(1 for c in frame.columns if c not in known)


# ---------------------------------------------------------------------------
# rejected rows
# ---------------------------------------------------------------------------
_KEY_KINDS = {"children": C.CHILD_ID, "assessments": C.ASSESSMENT_ID, "goals": C.GOAL_ID,
              "goal_ratings": C.GOAL_ID}


def _dropped_rows(data: Dataset, codes: Pseudonymiser | StudyCodes) -> list[DroppedRow]:
    """Rows the loader rejected, by pseudonym; never the rule text (it can quote values)."""
    rows: dict[tuple, dict] = {}
    for p in data.report.problems:
        if p.action not in (ROW_REJECTED, DEPENDENT_REJECTED) or p.table not in _KEY_KINDS:
            continue
        entry = rows.setdefault((TABLES.index(p.table), p.row), {
            "table": p.table, "key": p.key, "columns": [], "actions": []})
        if p.column and p.column not in entry["columns"]:
            entry["columns"].append(p.column)
        if p.action not in entry["actions"]:
            entry["actions"].append(p.action)
    out = []
    for _, entry in sorted(rows.items(), key=lambda kv: (kv[0][0], kv[0][1] or 0)):
        kind, value = _KEY_KINDS[entry["table"]], None
        if entry["key"] and "=" in entry["key"]:
            column, value = entry["key"].split("=", 1)
            kind = column if column in _KEY_KINDS.values() else kind
        out.append(DroppedRow(table=entry["table"], key_column=kind if value else None,
                              pseudonym=codes.pseudonym(kind, value) if value else None,
                              columns=tuple(entry["columns"]), actions=tuple(entry["actions"])))
    # the same pseudonym order as the tables: nothing follows the clinic's row order
    return sorted(out, key=lambda d: (TABLES.index(d.table), d.pseudonym or ""))


# ---------------------------------------------------------------------------
# writing
# ---------------------------------------------------------------------------
def _inside(path: Path, folder: Path) -> bool:
    """Whether ``path`` is ``folder`` or lies inside it (after resolving links)."""
    path_abs, folder_abs = path.resolve(), folder.resolve()
    return path_abs == folder_abs or folder_abs in path_abs.parents


def _check_out_dir(out: Path) -> None:
    if out.exists() and not out.is_dir():
        raise UsageError(f"{out}: exists and is not a folder; give an empty or new folder")
    if out.is_dir() and any(out.iterdir()):
        raise UsageError(f"{out}: the folder is not empty; an export is written only to a new "
                         "or empty folder (nothing is overwritten)")


def _check_key_file(key_file: Path, out: Path) -> None:
    if _inside(key_file, out):
        raise UsageError(f"{key_file}: the key file is inside the export folder {out}; keep "
                         "the key apart from every export (whoever holds both can re-link)")


def _check_linkage_file(linkage: Path, out: Path) -> None:
    if _inside(linkage, out):
        raise UsageError(f"{linkage}: the linkage file would be inside the export folder "
                         f"{out}; it must stay with the clinic, apart from every export "
                         "(whoever holds it can re-identify every row)")
    if linkage.exists() or linkage.is_symlink():
        raise UsageError(f"{linkage}: a file already exists there; a linkage table is never "
                         "overwritten (it may be the only link to an earlier export). Choose "
                         "another path.")
    if not linkage.parent.is_dir():
        raise UsageError(f"{linkage}: its folder does not exist")


def _write_linkage(frame: pd.DataFrame, path: Path) -> None:
    """Write the linkage table to ``path``, mode 0o600, never overwriting.

    The CSV is written with :func:`write_csv_atomic` into a private (0o700)
    temporary folder beside ``path``, made owner-only, then hard-linked into
    place: the link appears complete or not at all, and fails if anything
    exists at ``path``. Where the file system has no hard links, the file is
    copied into a file created with ``O_EXCL`` instead.
    """
    tmp_dir = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent))
    try:
        tmp = write_csv_atomic(frame, tmp_dir / "linkage.csv")
        os.chmod(tmp, 0o600)
        try:
            os.link(tmp, path)
        except FileExistsError:
            raise UsageError(f"{path}: a file appeared there while exporting; a linkage table "
                             "is never overwritten, and nothing was exported") from None
        except OSError:  # no hard links here: an exclusive create, then copy
            flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
            try:
                fd = os.open(path, flags, 0o600)
            except FileExistsError:
                raise UsageError(f"{path}: a file appeared there while exporting; nothing was "
                                 "exported") from None
            try:
                if hasattr(os, "fchmod"):
                    os.fchmod(fd, 0o600)
                os.write(fd, tmp.read_bytes())
            except BaseException:
                os.close(fd)
                path.unlink(missing_ok=True)
                raise
            os.close(fd)
    finally:
        shutil.rmtree(tmp_dir, ignore_errors=True)


def _publish(tmp: Path, out: Path) -> None:
    """Move the finished export into place: one rename when the platform allows."""
    created = not out.exists()
    out.mkdir(parents=True, exist_ok=True)
    mode = stat.S_IMODE(out.stat().st_mode)
    for item in tmp.iterdir():  # temporary files are 0o600: give them the folder's (umask) mode
        os.chmod(item, mode & 0o666)
    os.chmod(tmp, mode)
    try:
        os.replace(tmp, out)  # POSIX: atomically replaces an empty folder
        return
    except OSError:
        pass
    try:  # e.g. Windows: move file by file (each rename is atomic)
        if any(out.iterdir()):
            raise UsageError(f"{out}: the folder stopped being empty while exporting; nothing "
                             "was written")
        for item in tmp.iterdir():
            os.replace(item, out / item.name)
        tmp.rmdir()
    except BaseException:
        if created and out.is_dir() and not any(out.iterdir()):
            out.rmdir()
        raise


def _settings_yaml(data: Dataset, frames: dict[str, pd.DataFrame], settings: Settings) -> str:
    """The export's dataset.yaml: the GAS scale, the reassessment interval,
    and the vocabulary terms the export uses beyond the defaults (so that it
    validates without notes). Never the clinic's name."""
    lines = ["# settings of the de-identified export (see MANIFEST.md)",
             "name: deidentified",
             f"gas_six_level: {'true' if data.gas_six_level else 'false'}",
             f"reassessment_interval_months: {int(data.reassessment_interval_months)}"]
    defaults = Settings(name="defaults")
    for table, column, vocabulary, is_list in VOCABULARY_COLUMNS:
        used = frames[table][column].dropna()
        terms = [t for v in used for t in (v.split(";") if is_list else [v])]
        extra = sorted({t for t in terms if defaults.canonical(vocabulary, t) is None})
        if extra:  # JSON strings are YAML scalars: any term is quoted safely
            lines.append(f"{vocabulary}: [{', '.join(json.dumps(t) for t in extra)}]")
    return "\n".join(lines) + "\n"


def export_deidentified(data: Dataset | str | Path, out_dir: str | Path, *,
                        key_file: str | Path | None = None, no_dates: bool = False,
                        keep_sites: bool = False, strict: bool = False,
                        linkage_file: str | Path | None = None, today: dt.date | None = None
                        ) -> ExportManifest:
    """Write a de-identified copy of a clinic dataset.

    Two modes (docs/privacy.md): **keyed** (``key_file``; keyed pseudonyms,
    shifted dates or days since referral): a limited data set or material for
    an expert determination, not HIPAA Safe Harbor; and **strict**
    (``strict=True, linkage_file=...``): HIPAA Safe Harbor, with years only,
    random study codes and the linkage table written only to
    ``linkage_file``.

    Parameters
    ----------
    data : a loaded :class:`Dataset`, or the path of one (loaded with
        :func:`load_dataset`; its rejected rows are not exported).
    out_dir : a new or empty folder; refused if it holds anything.
    key_file : keyed mode: the secret key (:func:`new_key`). The same key gives
        the same pseudonyms and date offsets in every export. Keep it apart
        from exports. Not used in strict mode.
    no_dates : keyed mode: replace every date by whole days since the child's
        referral (:data:`C.DAY_COLUMNS`) instead of shifting dates.
    keep_sites : keyed mode: keep site and therapist names instead of
        pseudonymising them.
    strict : Safe Harbor mode (see the module notes).
    linkage_file : strict mode: a new file, outside ``out_dir``, that
        receives the table of original IDs and study codes (mode 0o600,
        never overwritten).
    today : when ``data`` is a path, passed to :func:`load_dataset` (the date
        after which nothing may be dated). Not written anywhere.

    Returns
    -------
    ExportManifest
        Also written as ``manifest.json`` and ``MANIFEST.md``.

    Notes
    -----
    The folder receives children.csv, assessments.csv, goals.csv,
    goal_ratings.csv, dataset.yaml (the GAS scale, the reassessment interval
    and the vocabulary terms used beyond the defaults), manifest.json and
    MANIFEST.md, written to a temporary sibling folder and renamed into place,
    so a reader never sees a partial export. In strict mode the linkage file
    is written first and removed again if the export cannot be published.
    Definitions of a clinic's own instruments are not copied (they are
    licensed): put them in the export's ``instruments/`` folder to score those
    rows.

    Raises
    ------
    UsageError
        Bad or weak key file, a missing or existing linkage file, either of
        them inside the output folder, options that belong to the other mode,
        a non-empty output folder.
    DatasetError
        ``data`` is a path that cannot be loaded.
    """
    out = Path(out_dir)
    if strict:
        if key_file is not None:
            raise UsageError("strict mode uses no key (its study codes are random, derived "
                             "from nothing); leave out the key file")
        if no_dates or keep_sites:
            raise UsageError("strict mode keeps only the year of each date and removes sites "
                             "and therapists; it cannot be combined with no_dates (--no-dates) "
                             "or keep_sites (--keep-sites)")
        if linkage_file is None:
            raise UsageError("strict mode needs a linkage file (--linkage FILE): the table of "
                             "original IDs and study codes, kept by the clinic, outside the "
                             "export")
        linkage = Path(linkage_file)
        _check_linkage_file(linkage, out)
        key = None
        codes: Pseudonymiser | StudyCodes = StudyCodes()
    else:
        if key_file is None:
            raise UsageError("a keyed export needs a key file (--key-file KEY; create one with "
                             "--new-key KEY), or use strict mode (--strict --linkage FILE)")
        if linkage_file is not None:
            raise UsageError("a linkage file belongs to strict mode (--strict); a keyed export "
                             "links through its key")
        linkage = None
        key = read_key(key_file)
        _check_key_file(Path(key_file), out)
        codes = Pseudonymiser(key)
    _check_out_dir(out)
    if not isinstance(data, Dataset):
        data = load_dataset(data, today=today)

    children = data.children
    kept_children = set(children[C.CHILD_ID])
    assessments = data.assessments[data.assessments[C.CHILD_ID].isin(kept_children)]
    goals = data.goals[data.goals[C.CHILD_ID].isin(kept_children)]
    ratings = data.goal_ratings[data.goal_ratings[C.GOAL_ID].isin(set(goals[C.GOAL_ID]))]
    by_child = children.drop_duplicates(C.CHILD_ID)
    settings = data.settings or Settings(name=data.name)
    ctx = _Context(codes=codes, strict=strict, no_dates=no_dates, keep_sites=keep_sites,
                   settings=settings,
                   shift=({} if strict else
                          {c: codes.shift_days(c) for c in by_child[C.CHILD_ID]}),
                   referral=by_child.set_index(C.CHILD_ID)[C.REFERRAL_DATE].to_dict())
    frames = {
        "children": _export_children(ctx, children),
        "assessments": _export_assessments(ctx, assessments, children, data.instruments),
        "goals": _export_goals(ctx, goals),
        "goal_ratings": _export_ratings(ctx, ratings, goals),
    }

    policies = column_policies(no_dates=no_dates, keep_sites=keep_sites, strict=strict)
    items = _item_columns(data.assessments, data.instruments)
    loaded = {"children": data.children, "assessments": data.assessments,
              "goals": data.goals, "goal_ratings": data.goal_ratings}
    tables = {}
    for table in TABLES:
        count = data.report.counts.get(table)
        rows_in = count.read if count else len(loaded[table])
        rejected = count.rejected if count else 0
        tables[table] = TableExport(
            table=table, file=f"{table}.csv", rows_in=rows_in, rows_rejected=rejected,
            rows_excluded=rows_in - rejected - len(frames[table]), rows_out=len(frames[table]),
            columns=policies[table],
            unknown_columns_removed=_unknown_columns(table, loaded[table], items))
    notes = export_notes(strict=strict, no_dates=no_dates, vocabulary=ctx.vocabulary)
    shipped = {i.id for i in list_instruments()}
    clinic_own = sorted(set(data.instruments) - shipped)
    if clinic_own:
        notes.append("Instrument definitions of the clinic's own instruments are not copied "
                     "(licensed); to score those rows put the definition files in the "
                     "export's instruments/ folder.")
    if any(t.unknown_columns_removed for t in tables.values()):
        notes.append("Columns the toolkit does not know were removed without being named "
                     "(their names could themselves identify); see the counts per table.")

    manifest = ExportManifest(
        out_dir=out, key_fingerprint=None if key is None else key_fingerprint(key),
        no_dates=no_dates, keep_sites=keep_sites, tables=tables,
        dropped=_dropped_rows(data, codes), instruments=sorted(data.instruments), notes=notes,
        files=[*(f"{t}.csv" for t in TABLES), SETTINGS_FILE, MANIFEST_JSON, MANIFEST_MD],
        strict=strict, vocabulary=list(ctx.vocabulary), linkage_file=linkage)

    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".part", dir=out.parent))
    try:
        for table in TABLES:
            write_csv_atomic(frames[table], tmp / f"{table}.csv")
        write_text_atomic(_settings_yaml(data, frames, settings), tmp / SETTINGS_FILE)
        write_text_atomic(json.dumps(manifest.to_dict(), indent=2) + "\n", tmp / MANIFEST_JSON)
        write_text_atomic(manifest.to_markdown(), tmp / MANIFEST_MD)
        if linkage is not None:
            _write_linkage(_linkage_table(codes, frames), linkage)
        try:
            _publish(tmp, out)
        except BaseException:
            if linkage is not None:
                linkage.unlink(missing_ok=True)  # ours: written just now, for this export
            raise
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    log.info("de-identified export written (%s mode): %s rows out of %s read (%s)",
             manifest.mode, sum(t.rows_out for t in tables.values()),
             sum(t.rows_in for t in tables.values()),
             "no key; linkage table written apart" if strict
             else f"key {manifest.key_fingerprint}")
    return manifest


def _linkage_table(codes: StudyCodes, frames: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Original ID -> study code, with whether the row is in the export (a
    rejected row's code appears only in the manifest's list of rejected rows)."""
    table = codes.linkage()
    exported = {code for frame in frames.values() for col in STUDY_PREFIXES
                if col in frame.columns for code in frame[col].dropna()}
    table["in_export"] = np.where(table["study_code"].isin(exported), "yes",
                                  "no: rejected by validation")
    return table[list(LINKAGE_COLUMNS)]
