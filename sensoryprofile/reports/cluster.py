"""Batches of children's reports on a Dask cluster (``report children|all
--scheduler ADDRESS`` or ``--dask-workers N``).

The batch itself is :func:`sensoryprofile.reports.batch.render_children`:
the same output lock, the same children accounted for (rendered, failed,
not rendered), the same summary, index, exit codes and clean stop on
SIGINT/SIGTERM. Only its workers differ: :class:`DaskWorkers` replaces the
local process pool.

- **One warm kernel per Dask worker.** A worker plugin (:class:`KernelPlugin`)
  holds one :class:`~sensoryprofile.reports.render.KernelSession` per worker,
  started as soon as the batch begins and reset between reports exactly as
  in the local batch (the same function renders: ``batch._worker_render``).
  Reports on one worker take turns on its kernel (a worker started with
  more than one thread still keeps one kernel); the plugin is removed, and
  the kernels shut down, when the batch ends.
- **The checked dataset.** The parent checks the data once and writes its
  snapshot into the batch's private runtime folder. A worker that sees that
  folder (a local cluster, or workers on the parent's machine) gives it to
  its kernel, which then reads the checked tables; a worker on another
  machine does not see it, and its kernel checks the dataset's files itself,
  once per batch (it stays loaded across the kernel's resets). The snapshot
  holds the children's records, so it never leaves the parent's private
  folder: it is not copied to the shared output folder.
- **Shared folders.** Before any kernel starts, every worker writes and
  removes a probe file in the output folder and checks that it sees the
  dataset: a worker that cannot is named, with the path, and nothing runs.
- **Lost workers.** A worker that dies mid-report (killed, out of memory)
  is replaced by its nanny; the scheduler sends its report to a live worker
  again, and nothing partial stays: a report becomes visible only when its
  hidden partial folder is renamed into place, and partial folders left by a
  dead worker are removed when the batch ends.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
import time
import uuid
from pathlib import Path

from distributed.diagnostics.plugin import WorkerPlugin

from sensoryprofile.data.dask_client import (
    ClusterSpec,
    check_workers,
    connect,
    local_cluster,
)
from sensoryprofile.instruments import INSTRUMENTS_ENV, clinic_folders
from sensoryprofile.reports.render import RUNTIME_DIR_ENV, RenderResult

PLUGIN_NAME = "sensoryprofile-kernel"


# ---------------------------------------------------------------------------
# on the workers
# ---------------------------------------------------------------------------
class KernelPlugin(WorkerPlugin):
    """Per-worker state of a batch: the worker's kernel (started by its first
    task, in the thread that runs the reports) and whether the parent's
    runtime folder, holding the checked dataset, is visible here.

    Registered with ``Client.register_plugin`` for the batch, and removed
    (``teardown``: the kernel shuts down) when it ends. This module is only
    imported when a cluster is asked for: the local batch needs no Dask.
    """

    name = PLUGIN_NAME
    idempotent = False

    def __init__(self, runtime: str, token: str, instruments: str | None = None):
        self.runtime = runtime
        self.token = token
        #: the command's SENSORYPROFILE_INSTRUMENTS (with its --instruments):
        #: a running worker does not have the command's environment
        self.instruments = instruments
        self._session = None
        self._lock = None
        self.shared = False
        self._env_before: dict[str, str | None] = {}

    def __getstate__(self):
        return {"runtime": self.runtime, "token": self.token, "instruments": self.instruments}

    def __setstate__(self, state):
        self.__init__(state["runtime"], state["token"], state.get("instruments"))

    def setup(self, worker=None) -> None:
        self._lock = threading.Lock()
        self.shared = os.path.isdir(self.runtime) and os.access(self.runtime,
                                                                os.R_OK | os.W_OK | os.X_OK)
        if self.shared:  # the kernel's sockets go where the parent cleans up
            self._set_env(RUNTIME_DIR_ENV, self.runtime)
        if self.instruments:  # the kernel, started later, inherits it
            self._set_env(INSTRUMENTS_ENV, self.instruments)

    def _set_env(self, name: str, value: str) -> None:
        self._env_before[name] = os.environ.get(name)
        os.environ[name] = value

    def teardown(self, worker=None) -> None:
        session, self._session = self._session, None
        if session is not None:
            session.shutdown()
        for name, before in self._env_before.items():
            if before is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = before
        self._env_before = {}

    def kill(self) -> None:
        """End the kernel at once (the batch was interrupted): a report it is
        running fails, and removes its partial folder."""
        if self._session is not None:
            self._session.kill()

    def session(self):
        """The worker's kernel, started on first use (call with the lock held)."""
        if self._session is None:
            from sensoryprofile.reports.render import KernelSession, html_exporter

            self._session = KernelSession(snapshots=self.runtime if self.shared else None)
            html_exporter()
        return self._session

    @contextlib.contextmanager
    def turn(self):
        with self._lock:
            yield self.session()


def _plugin(token: str) -> KernelPlugin:
    from distributed import get_worker

    plugin = get_worker().plugins.get(PLUGIN_NAME)
    if plugin is None or getattr(plugin, "token", None) != token:
        raise RuntimeError("this worker has no sensoryprofile kernel for the batch")
    return plugin


def _warm(token: str) -> dict:
    """A worker's first task: its kernel starts importing now."""
    plugin = _plugin(token)
    with plugin.turn():
        return {"pid": os.getpid(), "shared": plugin.shared}


def _render(token: str, task: tuple) -> RenderResult:
    """One report on this worker's kernel (the local batch's worker function)."""
    from sensoryprofile.reports.batch import _worker_render

    plugin = _plugin(token)
    with plugin.turn() as session:
        return _worker_render(*task, session=session)


def _kill_kernel(dask_worker=None) -> None:
    """Run with ``Client.run``, which passes the worker as ``dask_worker``."""
    plugin = dask_worker.plugins.get(PLUGIN_NAME) if dask_worker is not None else None
    if plugin is not None:
        plugin.kill()


# ---------------------------------------------------------------------------
# in the parent
# ---------------------------------------------------------------------------
class DaskWorkers:
    """The workers of a batch on a Dask cluster, with the interface of the
    local batch's ``_Workers``: entered before the parent checks the data
    (the kernels start and import meanwhile), ``run`` renders the tasks,
    leaving shuts the kernels down (at once on an error or a signal)."""

    def __init__(self, spec: ClusterSpec, runtime: str, out: Path, data_dir):
        self.spec, self.runtime, self.out = spec, runtime, Path(out)
        self.data_dir = Path(data_dir).resolve()
        self.token = uuid.uuid4().hex
        self.client = None
        self.futures: list = []
        self.warmups: list = []
        self.workers: dict = {}
        self._stack = contextlib.ExitStack()
        self._thread: threading.Thread | None = None
        self._target = spec.scheduler
        self._error: BaseException | None = None

    def __enter__(self) -> DaskWorkers:
        if self.spec.n_workers is not None:  # its processes start here, in the main thread
            cluster = self._stack.enter_context(local_cluster(self.spec.n_workers))
            self._target = cluster
        # the workers are reached, checked and given their kernels while this
        # process checks the data; run() waits for that
        self._thread = threading.Thread(target=self._start, name="sp-dask-start", daemon=True)
        self._thread.start()
        return self

    def _start(self) -> None:
        try:
            self.client = self._stack.enter_context(connect(self._target, self.spec.label))
            # the data and the clinic's definition folders this process uses
            folders = tuple(str(d.resolve()) for d in clinic_folders())
            check_workers(self.client, self.out, (str(self.data_dir),) + folders)
            self.client.register_plugin(
                KernelPlugin(self.runtime, self.token, os.pathsep.join(folders) or None),
                name=PLUGIN_NAME)
            self._stack.callback(self._unregister)
            # start every worker's kernel now, one warm-up task pinned to each
            self.warmups = [self.client.submit(_warm, self.token, workers=[address],
                                               allow_other_workers=False, pure=False,
                                               key=f"sensoryprofile-warm-{self.token}-{k}")
                            for k, address in enumerate(self.client.scheduler_info(
                                n_workers=-1)["workers"])]
        except BaseException as exc:  # noqa: BLE001 - raised again in the batch's thread
            self._error = exc

    def _started(self) -> None:
        self._thread.join()
        if self._error is not None:
            raise self._error

    def _unregister(self) -> None:
        with contextlib.suppress(Exception):
            self.client.unregister_worker_plugin(PLUGIN_NAME)

    def __exit__(self, exc_type, exc, tb) -> bool:
        from sensoryprofile.reports.batch import STOP_GRACE_SECONDS, _remove_partials

        try:
            # a stop while the cluster starts waits for the start to end
            self._thread.join(timeout=None if exc_type is None else 60)
            if exc_type is not None and self.client is not None:
                self._stop(STOP_GRACE_SECONDS)
        finally:
            self._stack.close()
            # a worker that died mid-report left its partial folder
            _remove_partials(self.out)
        return False

    def _stop(self, grace: float) -> None:
        """Cancel what has not started; end the kernels of the reports running
        (each removes its partial folder); wait a little for them."""
        with contextlib.suppress(Exception):
            self.client.cancel(self.futures + self.warmups, force=True)
        if self.spec.n_workers is not None:
            return  # closing the local cluster ends its workers, and their kernels with them
        with contextlib.suppress(Exception):
            self.client.run(_kill_kernel, on_error="return")
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline and any(
                (self.out / "children").glob(".*.partial-*")):
            time.sleep(0.05)

    def run(self, tasks, done: dict, progress: bool) -> None:
        from distributed import wait
        from tqdm import tqdm

        self._started()
        with contextlib.suppress(Exception):  # a worker that could not warm up still renders
            self.workers = dict(enumerate(self.client.gather(self.warmups, errors="skip")))
        bar = tqdm(total=len(tasks), desc="Rendering reports", unit="report",
                   disable=not progress, file=sys.stderr)
        # opaque task keys: a scheduler's dashboard and logs never show a child's ID
        pending = {self.client.submit(_render, self.token, task, pure=False,
                                      key=f"sensoryprofile-report-{self.token}-{k}"): task
                   for k, task in enumerate(tasks)}
        self.futures = list(pending)
        try:
            while pending:
                try:
                    finished = wait(list(pending), timeout=0.5,
                                    return_when="FIRST_COMPLETED").done
                except TimeoutError:
                    continue
                for future in finished:
                    task = pending.pop(future)
                    child, name = task[1], task[2]
                    try:
                        done[child] = future.result()
                    except Exception as exc:  # the worker died too often, or was lost
                        done[child] = RenderResult(name=name, ok=False, child_id=child,
                                                   error=f"child {name}: worker failed: "
                                                         f"{type(exc).__name__}: {exc}")
                    bar.update(1)
        finally:
            bar.close()


__all__ = ["DaskWorkers", "KernelPlugin"]
