"""Working through large arrays in blocks that stay in the processor's cache,
on up to two threads.

NumPy releases the GIL inside its loops, so two threads working on disjoint
blocks of rows run side by side; the results do not depend on how many
threads ran (each block is written to its own rows, nothing is summed across
blocks).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor

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


def run_blocks(work: Callable, blocks: Iterable, *, rows: int, min_blocks: int = 2) -> None:
    """Call ``work(*block)`` for every block, on :data:`THREADS` threads when
    the input has at least :data:`MIN_THREADED_ROWS` ``rows`` and there are
    at least ``min_blocks`` blocks. ``work`` writes its results itself (to
    disjoint places); an exception in any block is raised here."""
    blocks = list(blocks)
    if THREADS < 2 or rows < MIN_THREADED_ROWS or len(blocks) < min_blocks:
        for block in blocks:
            work(*block)
        return
    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        for future in [pool.submit(work, *block) for block in blocks]:
            future.result()
