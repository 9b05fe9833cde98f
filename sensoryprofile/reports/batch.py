"""Rendering many children's reports: worker processes, each with one warm
kernel (:class:`~sensoryprofile.reports.render.KernelSession`), failures
isolated, every child accounted for, and the index page written at the end.

Every child of the dataset gets a line in the result, rendered or not: a
child whose row was rejected by validation is listed as not rendered, with
the reason, and makes the batch exit 1, like a report that failed.

A batch holds its output folder (:func:`~sensoryprofile.reports.lock.output_lock`)
and stops cleanly on SIGINT (Ctrl-C) and SIGTERM: queued children are not
started, the workers and their kernels are ended (killed if they do not end
within a few seconds), partial folders and the kernels' files are removed,
the index of what finished is written, and :class:`~sensoryprofile.errors.Interrupted`
carries the exit code (130 or 143) to the command line.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import shutil
import signal
import sys
import tempfile
import time
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path

from sensoryprofile import columns as C
from sensoryprofile.errors import Interrupted, ReportError, UsageError, stop_on_signals
from sensoryprofile.ids import is_valid_id
from sensoryprofile.reports.lock import output_lock
from sensoryprofile.reports.render import (
    CURRENT_PARTIAL,
    NOT_RENDERED,
    RUNTIME_DIR_ENV,
    KernelSession,
    RenderResult,
    html_exporter,
    prepare_family,
    render_child_unlocked,
    render_family,
    report_name,
    short_text,
)

#: How long stopped workers get to end their kernels before they are killed.
STOP_GRACE_SECONDS = 3.0

_SESSION: KernelSession | None = None


# ---------------------------------------------------------------------------
# workers
# ---------------------------------------------------------------------------
def _worker_stop(signum, frame) -> None:  # pragma: no cover - runs in a worker process
    """A worker told to stop: end its kernel, remove its partial folder, exit."""
    if _SESSION is not None:
        _SESSION.kill()
    for partial in list(CURRENT_PARTIAL):
        shutil.rmtree(partial, ignore_errors=True)
    os._exit(0)


def _worker_init(runtime_dir: str | None = None) -> None:
    """A worker process: its kernel starts at once, and reads the datasets the
    parent keeps in ``runtime_dir``."""
    global _SESSION
    import atexit

    if runtime_dir:
        os.environ[RUNTIME_DIR_ENV] = runtime_dir
    # Ctrl-C reaches every process of the terminal's group: only the parent
    # acts on it (it stops the workers); a worker ends on SIGTERM
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, _worker_stop)
    _SESSION = KernelSession(snapshots=runtime_dir)
    html_exporter()
    atexit.register(_SESSION.shutdown)


def _worker_started() -> int:
    return os.getpid()


def _worker_render(data_dir, child_id, name, out_dir, as_of, deidentify, pdf, family=None,
                   session: KernelSession | None = None) -> RenderResult:
    """One child's report; ``family`` = (lang, strategies) renders the family
    report instead of the clinical one. ``session`` is the kernel (default:
    this worker process's; a Dask worker passes its own)."""
    session = session if session is not None else _SESSION
    try:
        if family is not None:
            lang, strategies = family
            return render_family(data_dir, child_id, out_dir=out_dir, as_of=as_of, lang=lang,
                                 strategies=strategies, pdf=pdf, session=session,
                                 checked=True, locked=True)
        return render_child_unlocked(data_dir, child_id, out_dir=out_dir, as_of=as_of,
                                     deidentify=deidentify, pdf=pdf, session=session,
                                     name=name)
    except ReportError as exc:
        return RenderResult(name=name, ok=False, error=str(exc), child_id=child_id)
    except Exception as exc:  # isolate: one broken child never stops the rest
        if session is not None and not session.closed and not session.km.is_alive():
            session.km.restart_kernel(now=True)
        return RenderResult(name=name, ok=False, child_id=child_id,
                            error=f"child {name}: {type(exc).__name__}: {short_text(exc)}")


# ---------------------------------------------------------------------------
# results
# ---------------------------------------------------------------------------
@dataclass
class BatchResult:
    """Every child of a batch: ``results`` in the dataset's order."""

    results: list[RenderResult]
    index: Path | None
    seconds: float

    @property
    def failed(self) -> list[RenderResult]:
        """Children without a report, for any reason (the batch then exits 1)."""
        return [r for r in self.results if not r.ok]

    @property
    def rendered(self) -> list[RenderResult]:
        return [r for r in self.results if r.ok]

    @property
    def not_rendered(self) -> list[RenderResult]:
        """Children nothing was tried for (rejected data, an interrupted batch)."""
        return [r for r in self.results if r.status == NOT_RENDERED]


def format_summary(batch: BatchResult) -> str:
    broken = [r for r in batch.failed if r.status != NOT_RENDERED]
    lines = [f"Rendered {len(batch.rendered)} report(s), not rendered "
             f"{len(batch.not_rendered)}, failed {len(broken)}, in {batch.seconds:.1f} s."]
    for r in batch.not_rendered:
        lines.append(f"  NOT RENDERED {r.name}: {r.error}")
    for r in broken:
        lines.append(f"  FAILED {r.error}")
    from sensoryprofile.reports.render import FAMILY_PAGES

    for r in batch.rendered:
        if r.pages is not None and r.pages > FAMILY_PAGES:
            lines.append(f"  LONG {r.name}: the family report has {r.pages} printed pages even "
                         "shortened (shorten its goal texts or the note for the family)")
    if batch.index is not None:
        lines.append(f"Index: {batch.index.resolve()}")
    return "\n".join(lines)


def _rejected_children(dataset) -> list[RenderResult]:
    """A line for every children row that validation rejected: by its ID when
    the ID is valid, else by its row (an invalid ID may hold anything)."""
    from sensoryprofile.data.validation import DEPENDENT_REJECTED, ROW_REJECTED

    out: dict[str, list[str]] = {}
    for p in dataset.report.problems:
        if p.table != "children" or p.action not in (ROW_REJECTED, DEPENDENT_REJECTED):
            continue
        name = p.child_id if p.child_id and is_valid_id(p.child_id) else (
            f"{p.file} row {p.row}")
        out.setdefault(name, []).append(p.rule if p.child_id else "the row was rejected")
    accepted = set(dataset.children[C.CHILD_ID].astype(str))
    return [RenderResult(name=name, ok=False, status=NOT_RENDERED,
                         error="not rendered: the child's row was rejected by validation ("
                               + "; ".join(dict.fromkeys(rules)) + ")")
            for name, rules in out.items() if name not in accepted]


# ---------------------------------------------------------------------------
# stopping
# ---------------------------------------------------------------------------
def _descendants(pid: int) -> list[int]:
    """Every process below ``pid`` (Linux /proc; empty elsewhere)."""
    found, todo = [], [pid]
    while todo:
        parent = todo.pop()
        try:
            tasks = os.listdir(f"/proc/{parent}/task")
        except OSError:
            continue
        for task in tasks:
            try:
                with open(f"/proc/{parent}/task/{task}/children") as handle:
                    kids = [int(k) for k in handle.read().split()]
            except OSError:
                continue
            found.extend(kids)
            todo.extend(kids)
    return found


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    try:  # a zombie counts as gone
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().split(") ", 1)[1][:1] != "Z"
    except OSError:
        return True


def _stop_pool(pool: ProcessPoolExecutor) -> None:
    """End the pool now: no queued child starts; workers end their kernels
    (SIGTERM), and whatever is still alive after the grace period is killed."""
    workers = list(getattr(pool, "_processes", {}).values())  # CPython's pool internals
    everyone = [w.pid for w in workers if w.pid] + [
        pid for w in workers if w.pid for pid in _descendants(w.pid)]  # and their kernels
    pool.shutdown(wait=False, cancel_futures=True)
    for process in workers:
        with contextlib.suppress(OSError):
            process.terminate()
    deadline = time.monotonic() + STOP_GRACE_SECONDS
    while time.monotonic() < deadline and any(_alive(p) for p in everyone):
        time.sleep(0.05)
    for pid in everyone:
        if _alive(pid):
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
    for process in workers:
        with contextlib.suppress(Exception):
            process.join(timeout=1)


def _remove_partials(out_dir: Path) -> None:
    for folder in (out_dir, out_dir / "children"):
        if folder.is_dir():
            for stale in folder.glob(".*.partial-*"):
                shutil.rmtree(stale, ignore_errors=True)
            for stale in folder.glob(".*.old"):
                shutil.rmtree(stale, ignore_errors=True)


# ---------------------------------------------------------------------------
# the batch
# ---------------------------------------------------------------------------
def render_children(data_dir: str | Path, child_ids: list[str] | None = None, *,
                    out_dir: str | Path = "reports", jobs: int = 1, pdf: bool = False,
                    as_of=None, deidentify: bool = False, progress: bool = True,
                    key_file=None, wait: bool = False, family: bool = False,
                    lang: str = "en", strategies: str | Path | None = None,
                    cluster=None) -> BatchResult:
    """Render many children's reports; every child is accounted for.

    Parameters
    ----------
    data_dir : the dataset.
    child_ids : which children (default every child of the dataset, and a
        line for each child whose row validation rejected).
    out_dir : output folder; held for the batch (another run refuses, or
        waits with ``wait``).
    jobs : worker processes, each with one warm kernel (1 = in this process).
    deidentify, key_file : de-identified reports under pseudonyms
        (:func:`~sensoryprofile.reports.render.report_name`).
    family, lang, strategies : the family reports in ``lang`` instead
        (``out_dir/family/ID/LANG/``), with the clinic's ``strategies`` file
        if given; the language and the file are checked once, before any kernel.
    cluster : a :class:`~sensoryprofile.data.dask_client.ClusterSpec`: render
        on a Dask cluster instead of local processes (``jobs`` is then unused;
        :mod:`sensoryprofile.reports.cluster`).

    Returns
    -------
    BatchResult
        Writes ``out_dir/index.html``. On SIGINT/SIGTERM raises
        :class:`~sensoryprofile.errors.Interrupted` (``.batch`` holds what
        finished) after cleaning up and writing the index.
    """
    from sensoryprofile.data.dataset import load_dataset_cached, write_snapshot

    if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1:
        raise UsageError(f"`jobs` must be at least 1, but {jobs!r} was passed")
    family_args = None
    if family:
        if deidentify:
            raise UsageError("a family report is for the child's family: it cannot be "
                             "de-identified (leave out --deidentify)")
        family_args = (lang, prepare_family(lang, strategies))
    start = time.perf_counter()
    out = Path(out_dir).resolve()
    with output_lock(out, wait=wait):
        results: list[RenderResult] = []
        # the kernels' private folder; it also holds the checked dataset they read
        runtime = tempfile.mkdtemp(prefix="sp-batch-")
        done: dict[str, RenderResult] = {}
        names: dict[str, str] = {}
        asked = child_ids
        figures = _IndexData(as_of=as_of, deidentify=deidentify)  # the index page's data
        try:
            with stop_on_signals(), _workers(jobs, runtime, cluster, out, data_dir) as workers:
                # the kernels start first and import while this process checks
                # the data once; they then read the checked tables
                dataset = figures.dataset = load_dataset_cached(data_dir)
                write_snapshot(dataset, runtime)
                if asked is None:
                    child_ids = dataset.children[C.CHILD_ID].astype(str).tolist()
                    results.extend(_rejected_children(dataset))
                bad = [c for c in child_ids if not is_valid_id(c)]
                child_ids = [c for c in child_ids if is_valid_id(c)]
                results.extend(RenderResult(name=str(c)[:64], ok=False, status=NOT_RENDERED,
                                            error="invalid child_id: refused before any path "
                                                  "was built") for c in bad)
                names.update({c: report_name(c, deidentify=deidentify, key_file=key_file)
                              for c in child_ids})
                tasks = [(str(data_dir), c, names[c], str(out), as_of, deidentify, pdf,
                          family_args) for c in child_ids]
                workers.run(tasks, done, progress)
        except Interrupted as stop:
            _remove_partials(out)
            results.extend(done.values())
            results.extend(RenderResult(name=names[c], ok=False, status=NOT_RENDERED,
                                        child_id=c, error="not rendered: the batch was "
                                        "interrupted") for c in child_ids or () if c in names
                           and c not in done)
            stop.batch = _finish(results, child_ids or [], names, out, start, figures)
            raise
        finally:
            shutil.rmtree(runtime, ignore_errors=True)
        results.extend(done.values())
        return _finish(results, child_ids, names, out, start, figures)


def _workers(jobs: int, runtime: str, cluster, out: Path, data_dir):
    """The batch's workers: local processes, or a Dask cluster's."""
    if cluster is None:
        return _Workers(jobs, runtime)
    from sensoryprofile.reports.cluster import DaskWorkers

    return DaskWorkers(cluster, runtime, out, data_dir)


class _Workers:
    """The batch's kernels: one in this process (``jobs`` 1) or one per worker
    process. They start on entering, before the parent's own work, and are
    shut down on leaving (stopped at once when leaving on an error or a signal)."""

    def __init__(self, jobs: int, runtime: str):
        self.jobs, self.runtime = jobs, runtime
        self.pool: ProcessPoolExecutor | None = None

    def __enter__(self) -> _Workers:
        global _SESSION
        if self.jobs == 1:
            os.environ[RUNTIME_DIR_ENV] = self.runtime
            _SESSION = KernelSession(snapshots=self.runtime)
            return self
        # spawn, not fork: a forked child inherits the parent's ZeroMQ threads
        # (kernel clients) in an unknown state and can hang
        self.pool = ProcessPoolExecutor(max_workers=self.jobs, initializer=_worker_init,
                                        initargs=(self.runtime,),
                                        mp_context=multiprocessing.get_context("spawn"))
        self.pool.submit(_worker_started)  # starts every worker (and kernel) now
        return self

    def __exit__(self, exc_type, exc, tb) -> bool:
        if self.pool is None:
            os.environ.pop(RUNTIME_DIR_ENV, None)
            _shutdown_local_session()
        elif exc_type is None:
            self.pool.shutdown(wait=True)
        else:
            _stop_pool(self.pool)
        return False

    def run(self, tasks, done: dict, progress: bool) -> None:
        from tqdm import tqdm

        bar = tqdm(total=len(tasks), desc="Rendering reports", unit="report",
                   disable=not progress, file=sys.stderr)
        try:
            if self.pool is None:
                for task in tasks:
                    done[task[1]] = _worker_render(*task)
                    bar.update(1)
                return
            pending = {self.pool.submit(_worker_render, *task): task[1] for task in tasks}
            while pending:
                finished, _ = wait(pending, timeout=0.5, return_when=FIRST_COMPLETED)
                for future in finished:
                    child = pending.pop(future)
                    try:
                        done[child] = future.result()
                    except Exception as exc:  # the worker process itself died
                        done[child] = RenderResult(name=child, ok=False, child_id=child,
                                                   error=f"worker failed: {exc!r}")
                    bar.update(1)
        finally:
            bar.close()


@dataclass
class _IndexData:
    """What the index page's figures are computed from: the batch's checked
    dataset (None until it is loaded: an early interrupt writes no figures)."""

    as_of: object = None
    deidentify: bool = False
    dataset: object = None


def _finish(results, child_ids, names, out: Path, start: float,
            figures: _IndexData | None = None) -> BatchResult:
    order = {names.get(c, c): k for k, c in enumerate(child_ids)}
    results.sort(key=lambda r: order.get(r.name, -1))
    from sensoryprofile.reports.index import write_index  # pandas: after the workers started

    figures = figures or _IndexData()
    index = write_index(out, results, dataset=figures.dataset, as_of=figures.as_of,
                        deidentify=figures.deidentify)
    return BatchResult(results=results, index=index, seconds=time.perf_counter() - start)


def _shutdown_local_session() -> None:
    global _SESSION
    if _SESSION is not None:
        _SESSION.shutdown()
        _SESSION = None


__all__ = ["BatchResult", "format_summary", "render_children", "stop_on_signals"]
