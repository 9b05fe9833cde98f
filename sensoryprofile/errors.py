"""Every exception a user can cause, in one place.

Each subclasses the builtin it refines, so ``except ValueError`` still works.
Messages say where the problem is and what to do; they never carry a child's
name or date of birth.
"""

from __future__ import annotations

import contextlib
import signal
import threading


class SensoryProfileError(Exception):
    """Base class of the package's own errors."""


class UsageError(SensoryProfileError, ValueError):
    """A function or command was called with arguments it cannot accept."""


class InstrumentError(SensoryProfileError, ValueError):
    """An instrument definition file is invalid, or an instrument is unknown.

    ``problems`` holds every problem found (not just the first), each already
    formatted as ``file: field.path: message``.
    """

    def __init__(self, message: str, problems: list[str] | None = None):
        self.problems = list(problems or [])
        if self.problems:
            message = message + "\n" + "\n".join(f"  {p}" for p in self.problems)
        super().__init__(message)


class DatasetError(SensoryProfileError, ValueError):
    """A structural problem with a clinic dataset: a missing file or column,
    an unreadable workbook. Row-level problems are not raised; they are
    collected in a :class:`~sensoryprofile.data.validation.ValidationReport`."""


class DataProblemsError(DatasetError):
    """Raised in strict mode when any row-level problem was found."""

    def __init__(self, message: str, report=None):
        self.report = report
        super().__init__(message)


class ReportError(SensoryProfileError, RuntimeError):
    """Rendering a report failed. ``cell_index`` and ``ename``/``evalue`` say
    where in the notebook, when known."""

    def __init__(self, message: str, *, cell_index: int | None = None,
                 ename: str | None = None, evalue: str | None = None):
        self.cell_index = cell_index
        self.ename = ename
        self.evalue = evalue
        super().__init__(message)


class OutputBusyError(SensoryProfileError, RuntimeError):
    """Another run is writing reports into the same output folder."""


class Interrupted(KeyboardInterrupt):
    """A batch was stopped by a signal (SIGINT or SIGTERM). ``exit_code`` is
    128 + the signal's number (130 or 143); ``batch`` what finished, if known.
    Like KeyboardInterrupt, it is not an ``Exception``: no ``except Exception``
    swallows it on its way out."""

    def __init__(self, signum: int, batch=None):
        self.signum = signum
        self.exit_code = 128 + int(signum)
        self.batch = batch
        super().__init__(f"interrupted by signal {signum}")


@contextlib.contextmanager
def stop_on_signals():
    """SIGINT and SIGTERM raise :class:`Interrupted` in this (main) thread.

    Here, beside :class:`Interrupted`, and not with the batches: a ``report``
    command sets it up before anything heavy is imported (a single report's
    kernel then starts at once)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def raise_interrupted(signum, frame):
        raise Interrupted(signum)

    previous = {sig: signal.signal(sig, raise_interrupted)
                for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


class StrategyError(SensoryProfileError, ValueError):
    """A strategy library file (the family report's ideas for home) is invalid.

    ``problems`` holds every problem found, each formatted as
    ``file: key.path: message`` (the key and the field of the problem).
    """

    def __init__(self, message: str, problems: list[str] | None = None):
        self.problems = list(problems or [])
        if self.problems:
            message = message + "\n" + "\n".join(f"  {p}" for p in self.problems)
        super().__init__(message)


class MissingTranslationWarning(UserWarning):
    """A family-facing text has no translation in the chosen language: it is
    shown in English instead (never blank)."""


class LongReportWarning(UserWarning):
    """A family report is longer than its two printed pages even shortened."""
