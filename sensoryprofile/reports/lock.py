"""One run per output folder: a lock on ``<out>/.sensoryprofile.lock``.

Two commands writing reports into the same folder at once could interleave
their partial folders and swaps; the second one therefore refuses, naming
the process that holds the folder, or waits when asked to. The lock is
re-entrant within one process (``report all`` renders the children, the
caseload and the cohort under one lock) and is released when the process
ends, however it ends (an operating-system file lock, not a marker file).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import threading
from pathlib import Path

from sensoryprofile.errors import OutputBusyError, UsageError

LOCK_FILE = ".sensoryprofile.lock"
_HELD: dict[str, int] = {}
_COUNTING = threading.Lock()


def _reason(exc: OSError) -> str:
    """An operating-system error in words, without the path it repeats."""
    if isinstance(exc, FileExistsError | NotADirectoryError):
        return "a file is in the way (the output must be a folder)"
    return exc.strerror or type(exc).__name__


def _holder(fd: int) -> str:
    try:
        os.lseek(fd, 0, os.SEEK_SET)
        pid = os.read(fd, 32).decode("ascii", "ignore").strip()
    except OSError:
        pid = ""
    return f" (process {pid})" if pid.isdigit() else ""


@contextlib.contextmanager
def output_lock(out_dir: str | Path, *, wait: bool = False):
    """Hold ``out_dir`` for this process; :class:`OutputBusyError` if another
    process holds it (unless ``wait``, which waits for it); :class:`UsageError`
    naming the folder when it cannot be made or written (a file, a read-only
    or missing mount)."""
    out = Path(out_dir).resolve()
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"{out}: cannot be used as the output folder: "
                         f"{_reason(exc)}") from None
    key = str(out)
    with _COUNTING:  # threads of one process (report all) share its hold
        nested = bool(_HELD.get(key))
        if nested:
            _HELD[key] += 1
    if nested:
        try:
            yield out
        finally:
            with _COUNTING:
                _HELD[key] -= 1
        return
    try:
        fd = os.open(out / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise UsageError(f"{out}: the output folder is not writable ({_reason(exc)}); "
                         "reports need a folder this process can write into") from None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            raise OutputBusyError(
                f"{out}: another sensoryprofile run is writing reports here{_holder(fd)}; "
                "wait for it to finish, or run again with --wait") from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode("ascii"))
        _HELD[key] = 1
        try:
            yield out
        finally:
            _HELD.pop(key, None)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
