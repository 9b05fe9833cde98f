"""Rendering many children's reports: worker processes, each with one warm
kernel (:class:`~sensoryprofile.reports.render.KernelSession`), failures
isolated and summarised, and the index page written at the end.
"""

from __future__ import annotations

import multiprocessing
import sys
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path

from sensoryprofile.errors import ReportError, UsageError
from sensoryprofile.ids import is_valid_id
from sensoryprofile.reports.index import write_index
from sensoryprofile.reports.render import (
    KernelSession,
    RenderResult,
    html_exporter,
    prepare_family,
    render_child,
    render_family,
    short_text,
)

_SESSION: KernelSession | None = None


def _worker_init() -> None:
    global _SESSION
    import atexit

    _SESSION = KernelSession()
    html_exporter()
    atexit.register(_SESSION.shutdown)


def _worker_render(data_dir, child_id, out_dir, as_of, deidentify, pdf, family=None
                   ) -> RenderResult:
    """One child's report; ``family`` = (lang, strategies) renders the family
    report instead of the clinical one."""
    global _SESSION
    if _SESSION is None:
        _worker_init()
    try:
        if family is not None:
            lang, strategies = family
            return render_family(data_dir, child_id, out_dir=out_dir, as_of=as_of, lang=lang,
                                 strategies=strategies, pdf=pdf, session=_SESSION,
                                 checked=True)
        return render_child(data_dir, child_id, out_dir=out_dir, as_of=as_of,
                            deidentify=deidentify, pdf=pdf, session=_SESSION)
    except ReportError as exc:
        return RenderResult(name=child_id, ok=False, error=str(exc))
    except Exception as exc:  # isolate: one broken child never stops the rest
        if _SESSION is not None and not _SESSION.km.is_alive():
            _SESSION.km.restart_kernel(now=True)
        return RenderResult(name=child_id, ok=False,
                            error=f"child {child_id}: {type(exc).__name__}: {short_text(exc)}")


@dataclass
class BatchResult:
    results: list[RenderResult]
    index: Path | None
    seconds: float

    @property
    def failed(self) -> list[RenderResult]:
        return [r for r in self.results if not r.ok]

    @property
    def rendered(self) -> list[RenderResult]:
        return [r for r in self.results if r.ok]


def render_children(data_dir: str | Path, child_ids: list[str] | None = None, *,
                    out_dir: str | Path = "reports", jobs: int = 1, pdf: bool = False,
                    as_of=None, deidentify: bool = False, progress: bool = True,
                    family: bool = False, lang: str = "en",
                    strategies: str | Path | None = None) -> BatchResult:
    """Render many children's reports; failures are isolated and summarised.

    Each worker (``jobs`` processes; 1 = in this process) keeps one kernel.
    Writes ``out_dir/index.html`` linking every report rendered so far.
    With ``family`` the family reports in ``lang`` are rendered instead
    (``out_dir/family/ID/LANG/``), with the clinic's ``strategies`` file if
    given; the language and the file are checked once, before any kernel.
    """
    from tqdm import tqdm

    from sensoryprofile.data.dataset import load_dataset_cached

    if jobs < 1:
        raise UsageError(f"`jobs` must be at least 1, but {jobs} was passed")
    start = time.perf_counter()
    family_args = None
    if family:
        if deidentify:
            raise UsageError("a family report is for the child's family: it cannot be "
                             "de-identified (leave out --deidentify)")
        family_args = (lang, prepare_family(lang, strategies))
    if child_ids is None:
        dataset = load_dataset_cached(data_dir)
        child_ids = dataset.children["child_id"].astype(str).tolist()
    bad = [c for c in child_ids if not is_valid_id(c)]
    child_ids = [c for c in child_ids if is_valid_id(c)]
    results: list[RenderResult] = [RenderResult(name=str(c)[:64], ok=False,
                                                error="invalid child_id: refused before any "
                                                "path was built") for c in bad]
    bar = tqdm(total=len(child_ids), desc="Rendering reports", unit="report",
               disable=not progress, file=sys.stderr)
    args = [(str(data_dir), c, str(out_dir), as_of, deidentify, pdf, family_args)
            for c in child_ids]
    try:
        if jobs == 1:
            for a in args:
                results.append(_worker_render(*a))
                bar.update(1)
        else:
            # spawn, not fork: a forked child inherits the parent's ZeroMQ threads
            # (kernel clients) in an unknown state and can hang
            context = multiprocessing.get_context("spawn")
            with ProcessPoolExecutor(max_workers=jobs, initializer=_worker_init,
                                     mp_context=context) as pool:
                futures = {pool.submit(_worker_render, *a): a[1] for a in args}
                for future in as_completed(futures):
                    try:
                        results.append(future.result())
                    except Exception as exc:  # the worker process itself died
                        results.append(RenderResult(name=futures[future], ok=False,
                                                    error=f"worker failed: {exc!r}"))
                    bar.update(1)
    finally:
        bar.close()
        if jobs == 1 and _SESSION is not None:
            _shutdown_local_session()
    order = {c: k for k, c in enumerate(child_ids)}
    results.sort(key=lambda r: order.get(r.name, -1))
    index = write_index(Path(out_dir), results)
    return BatchResult(results=results, index=index, seconds=time.perf_counter() - start)


def _shutdown_local_session() -> None:
    global _SESSION
    if _SESSION is not None:
        _SESSION.shutdown()
        _SESSION = None


def format_summary(batch: BatchResult) -> str:
    lines = [f"Rendered {len(batch.rendered)} report(s), failed {len(batch.failed)}, in "
             f"{batch.seconds:.1f} s."]
    for r in batch.failed:
        lines.append(f"  FAILED {r.error}")
    from sensoryprofile.reports.render import FAMILY_PAGES

    for r in batch.rendered:
        if r.pages is not None and r.pages > FAMILY_PAGES:
            lines.append(f"  LONG {r.name}: the family report has {r.pages} printed pages even "
                         "shortened (shorten its goal texts or the note for the family)")
    if batch.index is not None:
        lines.append(f"Index: {batch.index.resolve()}")
    return "\n".join(lines)


__all__ = ["BatchResult", "format_summary", "render_children"]
