"""Scoring a Parquet dataset, partition by partition: on this machine, or on
a Dask cluster with ``dask.dataframe`` (``score FOLDER --out DIR
--dask-workers N`` or ``--scheduler ADDRESS``).

A Parquet dataset is a folder of ``.parquet`` files (its partitions), at any
depth (``site=A/part-0.parquet``: Hive-style folders are kept); names that
start with ``.`` or ``_`` (``_metadata``) are not partitions. Each partition
is an assessments table like ``assessments.csv``: one row per assessment,
one column per item.

Every partition is scored by :func:`sensoryprofile.data.assessments.score_assessments`
(the same checks and the same array core as every other table) and written
as one Parquet file of the tidy score table at the same relative path under
the output folder: the output is partitioned exactly as the input. Memory is
one partition's at a time per worker, so a registry never has to fit in
memory, but a partition does (see README, "Running on a cluster").

The result equals scoring the whole table at once, with one thing the
partitions cannot see by themselves: an ``assessment_id`` repeated in a later
partition. Those are found first (only the ID column of every partition is
read, on this machine), and each later copy is invalidated like a repeat
within one table, its reason naming the partition and row of the first.

Problems name the partition (its path under the dataset folder) and the row
within it, counted from 1 (a ``source_row`` column, when present, is used
instead). A partition that cannot be read is reported and the others are
scored; nothing is written for it.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import re
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from sensoryprofile import columns as C
from sensoryprofile.data.assessments import score_assessments
from sensoryprofile.data.dataset import days_to_dates
from sensoryprofile.data.validation import (
    Problem,
    ValidationReport,
    hide_identifying,
)
from sensoryprofile.errors import DatasetError, SensoryProfileError, UsageError

SUFFIX = ".parquet"
PARTIAL = ".partial-"
#: The text the scoring core gives a repeated assessment_id; a repeat of an
#: earlier partition is given it with a stub's negative row, then renamed.
_REPEAT_TEXT = re.compile(r"duplicate assessment_id \(first on row (-\d+)\)")


# ---------------------------------------------------------------------------
# the partitions
# ---------------------------------------------------------------------------
def find_partitions(folder: str | Path) -> list[str]:
    """The partitions of a Parquet dataset: paths relative to ``folder``
    (POSIX, sorted); :class:`DatasetError` when there is none."""
    folder = Path(folder)
    if not folder.is_dir():
        raise DatasetError(f"{folder}: not a folder of Parquet partitions")
    parts = sorted(p.relative_to(folder).as_posix() for p in folder.rglob(f"*{SUFFIX}")
                   if p.is_file())
    parts = [p for p in parts if not any(n[:1] in "._" for n in p.split("/"))]
    if not parts:
        raise DatasetError(f"{folder}: no {SUFFIX} files (a Parquet dataset is a folder of "
                           "partitions, e.g. part-0000.parquet)")
    return parts


def other_files(folder: str | Path) -> list[str]:
    """Files of ``folder`` that are not partitions and are not expected beside
    them (hidden or ``_`` names such as ``_SUCCESS``, the ``instruments/``
    folder): paths relative to ``folder``, sorted. They are not read, and the
    command names them, so that no rows are lost without a word."""
    folder = Path(folder)
    found = []
    for path in folder.rglob("*"):
        rel = path.relative_to(folder).as_posix()
        names = rel.split("/")
        if (not path.is_file() or path.suffix == SUFFIX or names[0] == "instruments"
                or any(n[:1] in "._" for n in names)):
            continue
        found.append(rel)
    return sorted(found)


def require_pyarrow() -> None:
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        raise UsageError("reading and writing Parquet needs pyarrow: install the `dask` "
                         "extra: pip install 'sensoryprofile[dask]'") from None


def read_partition(path: str) -> pd.DataFrame:
    """One partition as a DataFrame (:class:`DatasetError` naming the file)."""
    try:
        return pd.read_parquet(path, engine="pyarrow")
    except Exception as exc:  # pyarrow raises many kinds for a damaged file
        raise DatasetError(f"{path}: cannot be read as a Parquet file "
                           f"({type(exc).__name__}: {str(exc)[:200]})") from None


#: The column of the one-row frame a Dask read task gives for a partition that
#: cannot be read: the failure travels as data, not as a task error (which a
#: worker would log, with its traceback, on the command's terminal).
_READ_ERROR = "__sensoryprofile_read_error__"


def _read_on_worker(path: str) -> pd.DataFrame:
    try:
        return read_partition(path)
    except DatasetError as exc:
        return pd.DataFrame({_READ_ERROR: [str(exc)]})


def _ids(path: str) -> pd.Series:
    import pyarrow.parquet as pq

    try:
        schema = pq.read_schema(path)
        if C.ASSESSMENT_ID not in schema.names:
            return pd.Series([], dtype="string")
        table = pq.read_table(path, columns=[C.ASSESSMENT_ID])
    except Exception:  # reported when the partition itself is read
        return pd.Series([], dtype="string")
    return table.column(0).to_pandas().astype("string")


def repeated_ids(folder: Path, parts: list[str]) -> dict[int, list[tuple[int, str, int]]]:
    """Rows whose ``assessment_id`` appeared in an earlier partition: for
    partition k, a list of (row position, first partition, its row from 1).
    Only the ID column is read."""
    ids = [_ids(str(folder / p)) for p in parts]
    sizes = np.array([len(s) for s in ids])
    if not sizes.sum():
        return {}
    every = pd.concat(ids, ignore_index=True)
    part_of = np.repeat(np.arange(len(parts)), sizes)
    row_of = np.concatenate([np.arange(n) for n in sizes])
    repeated = every.duplicated(keep=False).to_numpy() & every.notna().to_numpy()
    if not repeated.any():
        return {}
    where = np.flatnonzero(repeated)
    firsts = pd.DataFrame({"id": every.iloc[where].to_numpy(), "part": part_of[where],
                           "row": row_of[where]}).groupby("id", sort=False).first()
    out: dict[int, list[tuple[int, str, int]]] = {}
    for i in where:
        first_part, first_row = firsts.loc[every.iloc[i], ["part", "row"]]
        if first_part < part_of[i]:  # a repeat within one partition is the core's
            out.setdefault(int(part_of[i]), []).append(
                (int(row_of[i]), parts[int(first_part)], int(first_row) + 1))
    return out


# ---------------------------------------------------------------------------
# one partition
# ---------------------------------------------------------------------------
@dataclass(frozen=True)
class ScoringJob:
    """What every partition is scored with (sent to each worker once)."""

    folder: str
    out: str
    instrument: str | None = None
    search_dirs: tuple[str, ...] = ()
    #: names and dates of birth never written (ValidationReport.hide)
    identifying: frozenset[str] = frozenset()


@dataclass
class PartitionResult:
    """What scoring one partition gave: rows read, score rows written, problems."""

    part: str
    rows: int = 0
    score_rows: int = 0
    problems: list[Problem] = field(default_factory=list)
    error: str | None = None


def _with_repeats(frame: pd.DataFrame, repeats) -> tuple[pd.DataFrame, int]:
    """``frame`` with one stub row per repeated ID first (its row number
    negative, no instrument, no item), so that the core marks the later
    copy as a repeat; returns the frame and the number of stubs."""
    if not repeats:
        return frame, 0
    ids = frame[C.ASSESSMENT_ID].astype("string").to_numpy()
    stubs = pd.DataFrame({C.ASSESSMENT_ID: [ids[pos] for pos, _, _ in repeats],
                          C.SOURCE_ROW: -np.arange(1, len(repeats) + 1)})
    return pd.concat([stubs, frame], ignore_index=True), len(repeats)


def score_frame(frame: pd.DataFrame, job: ScoringJob, part: str, *,
                children: pd.DataFrame | None = None, repeats=()
                ) -> tuple[pd.DataFrame, PartitionResult]:
    """Score one partition's rows; the tidy table and what was found."""
    rows = len(frame)
    if C.SOURCE_ROW not in frame.columns:
        frame = frame.assign(**{C.SOURCE_ROW: np.arange(1, rows + 1)})
    frames = {"assessments": frame}
    days_to_dates(frames)
    frame, n_stubs = _with_repeats(frames["assessments"], repeats)
    report = ValidationReport()
    report.hide(job.identifying)
    scores = score_assessments(frame, job.instrument, children=children, report=report,
                               source=part, search_dirs=tuple(Path(d) for d in job.search_dirs))
    problems = report.problems
    if n_stubs:
        per_stub = 1 if job.instrument is None else len(scores) // len(frame)
        scores = scores.iloc[n_stubs * per_stub:].reset_index(drop=True)
        firsts = {f"-{k + 1}": (first, row) for k, (_, first, row) in enumerate(repeats)}

        def rename(text):
            if not isinstance(text, str):
                return text
            return _REPEAT_TEXT.sub(lambda m: "duplicate assessment_id (first in {} row {})"
                                    .format(*firsts[m.group(1)])
                                    if m.group(1) in firsts else m.group(), text)

        reasons = scores[C.INVALID_REASON]
        if isinstance(reasons.dtype, pd.CategoricalDtype):
            scores[C.INVALID_REASON] = reasons.cat.rename_categories(
                [rename(c) for c in reasons.cat.categories])
        else:
            scores[C.INVALID_REASON] = reasons.map(rename)
        problems = [dataclasses.replace(p, rule=rename(p.rule)) for p in problems
                    if p.row is None or p.row >= 0]
    scores = hide_identifying(scores, report)
    return scores, PartitionResult(part=part, rows=rows, score_rows=len(scores),
                                   problems=problems)


def write_partition(scores: pd.DataFrame, target: Path) -> None:
    """Write atomically: a hidden partial file, renamed into place."""
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}{PARTIAL}{uuid.uuid4().hex[:8]}")
    try:
        scores.to_parquet(partial, index=False, engine="pyarrow")
        os.replace(partial, target)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise


def score_partition(frame: pd.DataFrame | None, job: ScoringJob, part: str,
                    children: pd.DataFrame | None = None, repeats=()) -> PartitionResult:
    """Read (when ``frame`` is None), score and write one partition; a data
    problem that stops the whole partition is returned as its ``error``."""
    try:
        if frame is None:
            frame = read_partition(str(Path(job.folder) / part))
        elif _READ_ERROR in frame.columns:  # read on a Dask worker, and failed
            message = str(frame[_READ_ERROR].iloc[0])
            frame = None
            raise DatasetError(message)
        scores, result = score_frame(frame, job, part, children=children, repeats=repeats)
        write_partition(scores, Path(job.out) / part)
        return result
    except SensoryProfileError as exc:
        return PartitionResult(part=part, rows=0 if frame is None else len(frame),
                               error=f"{part}: {exc}")


# ---------------------------------------------------------------------------
# the dataset
# ---------------------------------------------------------------------------
@dataclass
class PartitionedScores:
    """Every partition of a scored Parquet dataset, in the dataset's order."""

    folder: Path
    out: Path
    parts: list[PartitionResult]
    seconds: float
    workers: int = 1
    #: files of the folder that are not partitions (:func:`other_files`), not read
    skipped: list[str] = field(default_factory=list)

    @property
    def rows(self) -> int:
        return sum(p.rows for p in self.parts)

    @property
    def score_rows(self) -> int:
        return sum(p.score_rows for p in self.parts)

    @property
    def failed(self) -> list[PartitionResult]:
        return [p for p in self.parts if p.error is not None]

    @property
    def problems(self) -> list[Problem]:
        return [q for p in self.parts for q in p.problems]


def check_output_folder(out: str | Path) -> Path:
    """The output folder: new, or empty (it receives one file per partition)."""
    out = Path(out)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise UsageError(f"{out}: the output of a Parquet dataset must be a new or empty "
                         "folder (it receives one Parquet file per input partition)")
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / f".sensoryprofile-probe-{uuid.uuid4().hex}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        reason = ("a file is in the way" if isinstance(exc, FileExistsError | NotADirectoryError)
                  else exc.strerror or type(exc).__name__)
        raise UsageError(f"{out}: cannot be used as the output folder ({reason}); the scores "
                         "need a folder this process can write into") from None
    return out.resolve()


def score_parquet(folder: str | Path, out: str | Path, *, instrument: str | Path | None = None,
                  children: pd.DataFrame | None = None, search_dirs: tuple = (),
                  client=None, progress: bool = False) -> PartitionedScores:
    """Score every partition of the Parquet dataset ``folder`` into ``out``.

    Parameters
    ----------
    folder : the Parquet dataset (see the module's description).
    out : a new or empty folder; receives the tidy score table of each
        partition at the partition's relative path.
    instrument : shipped id or definition file for every row (default: each
        row's ``instrument`` column).
    children : ``child_id`` and ``date_of_birth`` for ages (else each row's
        ``age_months``); its names and dates of birth are never written.
    search_dirs : folders of clinic definition files; ``folder/instruments``
        and the folder beside it are searched too, then the folders of
        ``SENSORYPROFILE_INSTRUMENTS`` (and ``--instruments``) of this
        process, by their paths: a worker of a running cluster does not have
        this process's environment, so they travel with the job.
    client : a ``distributed.Client``: the partitions are scored on its
        workers with ``dask.dataframe`` (one task per partition). None: one
        partition after another in this process.

    Returns
    -------
    PartitionedScores
    """
    require_pyarrow()
    start = time.perf_counter()
    folder = Path(folder).resolve()
    parts = find_partitions(folder)
    target = Path(out).resolve()
    if target == folder or folder in target.parents:
        raise UsageError(f"{target}: the output folder cannot be inside the dataset {folder}")
    out = check_output_folder(target)
    if instrument is not None and (Path(instrument).suffix.lower() in (".yaml", ".yml")):
        instrument = str(Path(instrument).resolve())
    from sensoryprofile.instruments import clinic_folders

    dirs = tuple(str(Path(d).resolve()) for d in search_dirs) + (
        str(folder / "instruments"), str(folder.parent / "instruments"))
    dirs += tuple(str(d.resolve()) for d in clinic_folders() if str(d.resolve()) not in dirs)
    identifying: frozenset[str] = frozenset()
    if children is not None:
        from sensoryprofile.data.dataset import identifying_values

        identifying = frozenset(identifying_values(children))
        keep = [c for c in (C.CHILD_ID, C.DATE_OF_BIRTH) if c in children.columns]
        children = children[keep]  # the workers need no more of the children table
    job = ScoringJob(folder=str(folder), out=str(out),
                     instrument=None if instrument is None else str(instrument),
                     search_dirs=dirs, identifying=identifying)
    repeats = repeated_ids(folder, parts)
    try:
        if client is None:
            results, workers = _score_here(job, parts, children, repeats, progress), 1
        else:
            results = _score_on_cluster(client, job, parts, children, repeats, progress)
            workers = len(client.scheduler_info(n_workers=-1)["workers"])
    finally:  # also when interrupted: no partial file is left
        _remove_partials(out)
    return PartitionedScores(folder=folder, out=out, parts=results, workers=workers,
                             seconds=time.perf_counter() - start, skipped=other_files(folder))


def _bar(total: int, progress: bool):
    from tqdm import tqdm

    return tqdm(total=total, desc="Scoring partitions", unit="partition",
                disable=not progress, file=sys.stderr)


def _score_here(job, parts, children, repeats, progress) -> list[PartitionResult]:
    results = []
    with _bar(len(parts), progress) as bar:
        for k, part in enumerate(parts):
            results.append(score_partition(None, job, part, children, repeats.get(k, ())))
            bar.update(1)
    return results


def _score_on_cluster(client, job, parts, children, repeats, progress
                      ) -> list[PartitionResult]:
    """One task per partition: ``dask.dataframe`` reads each file as one
    partition (``from_map``), and each partition is scored and written by
    the worker that read it."""
    import dask
    import dask.dataframe as dd
    from distributed import as_completed

    from sensoryprofile.data.dask_client import check_workers

    # the dataset, and every definition folder that exists here
    check_workers(client, job.out, (job.folder,) + tuple(
        d for d in job.search_dirs if os.path.isdir(d)))
    paths = [str(Path(job.folder) / p) for p in parts]
    meta = _meta(paths[0])
    frames = dd.from_map(_read_on_worker, paths, meta=meta, enforce_metadata=False,
                         label="sensoryprofile-read")
    shared = client.scatter(children, broadcast=True) if children is not None else None
    tasks = [dask.delayed(score_partition, pure=False)(piece, job, part, shared,
                                                       repeats.get(k, ()),
                                                       dask_key_name=f"sensoryprofile-score-{k}-"
                                                       f"{uuid.uuid4().hex[:8]}")
             for k, (piece, part) in enumerate(zip(frames.to_delayed(), parts, strict=True))]
    futures = client.compute(tasks)
    order = {f.key: k for k, f in enumerate(futures)}
    results: list[PartitionResult | None] = [None] * len(parts)
    with _bar(len(parts), progress) as bar, _cancelled_on_error(client, futures):
        for future in as_completed(futures):
            k = order[future.key]
            try:
                results[k] = future.result()
            except SensoryProfileError as exc:  # the partition could not be read
                results[k] = PartitionResult(part=parts[k], error=str(exc))
            except Exception as exc:  # the worker died too often
                results[k] = PartitionResult(part=parts[k], error=f"{parts[k]}: "
                                             f"{type(exc).__name__}: {exc}")
            bar.update(1)
    return results


@contextlib.contextmanager
def _cancelled_on_error(client, futures):
    """Interrupted (Ctrl-C) or failed: no partition not yet started will start."""
    try:
        yield
    except BaseException:
        with contextlib.suppress(Exception):
            client.cancel(futures, force=True)
        raise


def _meta(path: str) -> pd.DataFrame:
    """The columns of the dataset's first partition, without its rows."""
    import pyarrow.parquet as pq

    try:
        return pq.read_schema(path).empty_table().to_pandas()
    except Exception:
        return pd.DataFrame()


def _remove_partials(out: Path) -> None:
    """Partial files left by a worker that died while writing."""
    for stale in out.rglob(f".*{PARTIAL}*"):
        stale.unlink(missing_ok=True)


__all__ = ["PartitionResult", "PartitionedScores", "ScoringJob", "find_partitions",
           "other_files", "read_partition", "score_frame", "score_parquet", "score_partition"]
