"""Reaching a Dask cluster: an existing scheduler (``--scheduler ADDRESS``) or
a local cluster started for one command (``--dask-workers N``), and checks
run on every worker before any work is sent.

Dask is optional (the ``dask`` extra): nothing here imports it until a
cluster is asked for, and a missing installation is a usage error that says
how to install it. Partitioned scoring (:mod:`sensoryprofile.data.partitioned`)
and report batches (:mod:`sensoryprofile.reports.cluster`) both connect here.

A local cluster runs one thread per worker process (a report worker keeps
one kernel; a scoring worker holds one partition at a time, so its memory is
one partition's), without the dashboard or the workers' statistical
profiler, and is closed with the command.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import threading
import uuid
from dataclasses import dataclass
from pathlib import Path

from sensoryprofile.errors import UsageError

#: How long to wait for a scheduler (and its workers) to answer.
CONNECT_SECONDS = 30
INSTALL_HINT = "install the `dask` extra: pip install 'sensoryprofile[dask]'"


def require_dask(what: str = "--scheduler and --dask-workers") -> None:
    """:class:`UsageError` naming the extra when dask.distributed is missing."""
    try:
        import dask.dataframe  # noqa: F401
        import distributed  # noqa: F401
        import pyarrow  # noqa: F401
    except ImportError as exc:
        raise UsageError(f"{what} need Dask ({exc.name} is not installed): "
                         f"{INSTALL_HINT}") from None


@dataclass(frozen=True)
class ClusterSpec:
    """Where work runs: ``scheduler`` (an address such as
    ``tcp://10.0.0.5:8786``) or ``n_workers`` local worker processes."""

    scheduler: str | None = None
    n_workers: int | None = None

    def __post_init__(self):
        if (self.scheduler is None) == (self.n_workers is None):
            raise UsageError("give either --scheduler ADDRESS or --dask-workers N, not both")
        if self.n_workers is not None and (
                isinstance(self.n_workers, bool) or not isinstance(self.n_workers, int)
                or self.n_workers < 1):
            raise UsageError(f"--dask-workers must be at least 1, but {self.n_workers!r} "
                             "was passed")
        if self.scheduler is not None and not str(self.scheduler).strip():
            raise UsageError("--scheduler needs an address, e.g. tcp://scheduler-host:8786")

    @property
    def label(self) -> str:
        return (f"the Dask scheduler at {self.scheduler}" if self.scheduler
                else f"a local Dask cluster of {self.n_workers} worker(s)")

    @classmethod
    def from_args(cls, scheduler: str | None, n_workers: int | None) -> ClusterSpec | None:
        """The spec of a command's ``--scheduler``/``--dask-workers`` (None: neither)."""
        if scheduler is None and n_workers is None:
            return None
        return cls(scheduler=scheduler, n_workers=n_workers)


@contextlib.contextmanager
def _sigint_ignored():
    """SIGINT ignored while a local cluster's processes are spawned: they keep
    ignoring it, so Ctrl-C in a terminal (which signals the whole process
    group) reaches only the command, which stops the cluster itself."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


@contextlib.contextmanager
def local_cluster(n_workers: int):
    """A local cluster of ``n_workers`` processes, one thread each, closed on
    leaving. Call it from the main thread (see :func:`_sigint_ignored`)."""
    require_dask()
    import dask
    from distributed import LocalCluster

    # no statistical profiler sampling every worker's threads each 10 ms: there
    # is no dashboard to show it, and it takes CPU from the work. No dashboard;
    # the scheduler's small HTTP server (health checks) on a free local port, so
    # a second cluster on the machine warns of no port "already in use".
    with _sigint_ignored(), dask.config.set({"distributed.worker.profile.enabled": False}):
        cluster = LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=True,
                               dashboard_address=None, silence_logs=logging.ERROR,
                               scheduler_kwargs={"dashboard_address": "127.0.0.1:0"})
    try:
        yield cluster
    finally:
        with contextlib.suppress(Exception):
            cluster.close(timeout=10)


@contextlib.contextmanager
def open_client(spec: ClusterSpec):
    """A ``distributed.Client`` for ``spec``, closed on leaving (a local
    cluster is started here and closed with it)."""
    require_dask()
    with contextlib.ExitStack() as stack:
        if spec.n_workers is not None:
            target = stack.enter_context(local_cluster(spec.n_workers))
        else:
            target = spec.scheduler
        yield stack.enter_context(connect(target, spec.label))


@contextlib.contextmanager
def connect(target, label: str):
    """A client of ``target`` (a scheduler's address, or a local cluster) that
    has at least one worker; :class:`UsageError` when there is none."""
    from distributed import Client

    try:
        client = Client(target, timeout=CONNECT_SECONDS)
    except ValueError as exc:  # not an address at all
        raise UsageError(f"{label}: not a scheduler address ({exc}); give one such as "
                         "tcp://scheduler-host:8786") from None
    except (OSError, TimeoutError) as exc:
        raise UsageError(f"cannot reach {label} within {CONNECT_SECONDS} s "
                         f"({type(exc).__name__}: {exc}); is it running, and is the address "
                         "right?") from None
    try:
        if not client.scheduler_info().get("workers"):
            client.wait_for_workers(1, timeout=CONNECT_SECONDS)
    except (OSError, TimeoutError) as exc:
        client.close()
        raise UsageError(f"{label} has no worker (waited {CONNECT_SECONDS} s: "
                         f"{type(exc).__name__}); start workers with "
                         "`dask worker SCHEDULER-ADDRESS --nthreads 1`") from None
    try:
        yield client
    finally:
        with contextlib.suppress(Exception):
            client.close(timeout=10)


# ---------------------------------------------------------------------------
# what every worker must see
# ---------------------------------------------------------------------------
def probe_folders(writable: str, visible: tuple[str, ...] = ()) -> dict:
    """Run on a worker: can it write into ``writable`` (a probe file written
    and removed), and does it see each path of ``visible``?"""
    import socket

    out: dict = {"host": socket.gethostname(), "pid": os.getpid(), "problems": []}
    probe = Path(writable) / f".sensoryprofile-probe-{uuid.uuid4().hex}"
    try:
        probe.write_text("probe\n", encoding="ascii")
        probe.unlink()
    except OSError as exc:
        out["problems"].append(f"cannot write into the output folder {writable} "
                               f"({exc.strerror or type(exc).__name__})")
    for path in visible:
        if not os.path.exists(path):
            out["problems"].append(f"does not see {path}")
    return out


def check_workers(client, writable: str | Path, visible: tuple = (), *,
                  what: str = "output folder") -> dict:
    """Check from every worker that ``writable`` can be written and each of
    ``visible`` is there; :class:`UsageError` naming the workers and paths
    when not (a cluster needs them on a shared filesystem, at the same path
    on every machine). Returns the answers by worker address."""
    answers = client.run(probe_folders, str(writable), tuple(str(p) for p in visible),
                         on_error="return")
    problems = []
    for address, answer in sorted(answers.items()):
        if isinstance(answer, BaseException):
            problems.append(f"  worker {address}: the check failed ({type(answer).__name__}: "
                            f"{answer})")
            continue
        problems.extend(f"  worker {address} on {answer['host']}: {text}"
                        for text in answer["problems"])
    if problems:
        raise UsageError(
            f"the Dask workers cannot use the {what} and data as given:\n"
            + "\n".join(problems)
            + "\nOn a cluster, the data, the instrument definitions and the output folder "
              "must be on a shared filesystem, mounted at the same path on every worker "
              "(README: Running on a cluster).")
    return answers


__all__ = ["ClusterSpec", "check_workers", "connect", "local_cluster", "open_client",
           "probe_folders", "require_dask"]
