"""Working through large arrays in blocks that stay in the processor's cache,
on up to two threads.

NumPy releases the GIL inside its loops, so two threads working on disjoint
blocks of rows run side by side; the results do not depend on how many
threads ran (each block is written to its own rows, nothing is summed across
blocks).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor, wait

#: Rows (assessments) worked at a time: a block's temporaries stay in the
#: cache (chosen with benchmarks/scoring.py).
CHUNK = 4096
#: Threads for large inputs: the machines this runs on have two cores.
THREADS = max(1, min(2, os.cpu_count() or 1))


def chunks(n: int, size: int = CHUNK) -> list[tuple[int, int]]:
    """(start, stop) row ranges of at most ``size`` rows covering ``n`` rows."""
    return [(start, min(start + size, n)) for start in range(0, n, size)]


#: Fewer rows than this are worked on one thread (starting threads would cost
#: more than they save).
MIN_THREADED_ROWS = 16 * CHUNK


_pool: ThreadPoolExecutor | None = None
_inside = threading.local()  # set in the pool's threads


def _forget_pool() -> None:
    """A forked child has none of its parent's threads: it starts its own pool."""
    global _pool
    _pool = None


os.register_at_fork(after_in_child=_forget_pool)


def _mark_worker() -> None:
    _inside.worker = True


def _shared_pool() -> ThreadPoolExecutor:
    """The process's pool of :data:`THREADS` threads, started on first use
    (one scoring calls this a dozen times: starting threads each time costs
    more than the shortest of the blocks)."""
    global _pool
    if _pool is None:
        _pool = ThreadPoolExecutor(max_workers=THREADS, thread_name_prefix="sensoryprofile",
                                   initializer=_mark_worker)
    return _pool


def run_blocks(work: Callable, blocks: Iterable, *, rows: int, min_blocks: int = 2) -> None:
    """Call ``work(*block)`` for every block, on :data:`THREADS` threads when
    the input has at least :data:`MIN_THREADED_ROWS` ``rows`` and there are
    at least ``min_blocks`` blocks. ``work`` writes its results itself (to
    disjoint places); an exception in any block is raised here (after every
    block has finished). Called from a block's own work, the blocks run on
    the calling thread (the pool's threads never wait for each other)."""
    blocks = list(blocks)
    if (THREADS < 2 or rows < MIN_THREADED_ROWS or len(blocks) < min_blocks
            or getattr(_inside, "worker", False)):
        for block in blocks:
            work(*block)
        return
    futures = [_shared_pool().submit(work, *block) for block in blocks]
    wait(futures)
    for future in futures:
        future.result()
