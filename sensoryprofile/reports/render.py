"""Rendering one report: papermill executes the parameterised notebook (they
ship inside the package, in ``reports/notebooks/``), nbconvert exports
self-contained HTML (code hidden), WeasyPrint prints it to PDF.

A :class:`KernelSession` keeps one Jupyter kernel for several reports.
Between two reports the kernel's namespace is reset (``%reset -f``), figures
are closed and the execution counter restarts, so nothing of one child's
report can reach the next; the test suite renders a child after another in
one kernel and checks the result is identical to rendering it alone. Batches
of children are :mod:`sensoryprofile.reports.batch`.

Writes are atomic: a report is rendered into a hidden ``.ID.partial`` folder
and only then moved into place, so an interrupted or failed run never leaves
a report that looks complete.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import os
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from sensoryprofile import columns as C
from sensoryprofile.errors import ReportError
from sensoryprofile.ids import check_id
from sensoryprofile.reports.lock import output_lock

NOTEBOOK_DIR = Path(__file__).resolve().parent / "notebooks"
TEMPLATE_DIR = Path(__file__).resolve().parent / "templates"
KERNEL_NAME = "python3"
#: What a fresh kernel imports while the parent process is still starting up.
#: Then the imported modules' objects are frozen: the garbage collector's full
#: passes while a report is built and drawn no longer walk them again and again
#: (they live as long as the kernel, so freezing them frees nothing late).
WARM_UP_CODE = ("import matplotlib.pyplot, matplotlib_inline.backend_inline, pandas, "
                "sensoryprofile.reports.child, sensoryprofile.plots.child\n"
                "import gc as _gc\n_gc.freeze()\ndel _gc")
EXECUTION_TIMEOUT = 600
#: Where kernels keep their sockets and connection files: a batch sets it so
#: that everything a kernel leaves on disk is in one folder it removes.
RUNTIME_DIR_ENV = "SENSORYPROFILE_RUNTIME_DIR"
RENDERED, FAILED, NOT_RENDERED = "rendered", "failed", "not rendered"


def notebook_path(name: str) -> Path:
    path = NOTEBOOK_DIR / name
    if not path.exists():
        raise ReportError(f"report notebook {name} is missing from the installed package "
                          f"({NOTEBOOK_DIR}); reinstall sensoryprofile")
    return path


# ---------------------------------------------------------------------------
# results
# ---------------------------------------------------------------------------
@dataclass
class RenderResult:
    """What rendering one report produced, or why it failed."""

    name: str                      # child id (or pseudonym), or "caseload"/"cohort"
    ok: bool
    folder: Path | None = None
    files: list[Path] = field(default_factory=list)
    error: str | None = None
    seconds: float = 0.0
    timings: dict[str, float] = field(default_factory=dict)
    stderr_removed: int = 0
    #: "rendered", "failed" (the render broke), or "not rendered" (nothing was
    #: tried: the child's data were rejected, the batch was interrupted, ...)
    status: str = ""
    #: the child's id when ``name`` is a pseudonym (never written to a page)
    child_id: str | None = None
    pages: int | None = None  # printed (A4) pages, when measured

    def __post_init__(self):
        if not self.status:
            self.status = RENDERED if self.ok else FAILED

    @property
    def html(self) -> Path | None:
        return next((p for p in self.files if p.suffix == ".html"), None)


# ---------------------------------------------------------------------------
# kernels
# ---------------------------------------------------------------------------
class KernelSession:
    """One Jupyter kernel reused for several notebooks, reset between them."""

    def __init__(self, kernel_name: str = KERNEL_NAME, cwd: str | None = None, *,
                 warm: bool = True, snapshots: str | None = None):
        from jupyter_client.manager import KernelManager

        # IPC sockets and the connection file in a private folder: nothing
        # listens on the network, and nothing is left in ~/.local/share/jupyter
        self._ipc = tempfile.mkdtemp(prefix="sp-kernel-",
                                     dir=os.environ.get(RUNTIME_DIR_ENV) or None)
        self.km = KernelManager(kernel_name=kernel_name, transport="ipc",
                                ip=os.path.join(self._ipc, "k"),
                                connection_file=os.path.join(self._ipc, "kernel.json"),
                                kernel_spec_manager=_this_interpreter())
        # the kernel works in a private folder of its own: a notebook that
        # wrote a relative path could not reach the source tree or the caller's
        # folder (every path a report needs is passed to it absolute)
        self.cwd = cwd or self._ipc
        # no IPython history database: nothing of a report is written to ~/.ipython,
        # and the execution counter can restart at 1 for each report
        # checked datasets the parent keeps for this kernel (share_dataset):
        # a batch's shared folder, or the session's own private one
        self.snapshots = snapshots or self._ipc
        self.km.start_kernel(cwd=self.cwd, env=_kernel_env(self.snapshots),
                             extra_arguments=["--HistoryManager.enabled=False"])
        self.used = False
        #: shut down or killed: never started again (a report failing because
        #: its kernel was shut down under it must not start a new one)
        self.closed = False
        self.waited = 0.0  # seconds the last notebook waited for the kernel to be ready
        self._pending: str | None = None  # a kernel_info request not yet answered
        # one client for the session's life: warm-up, resets and every report
        self.kc = self.km.client()
        self.kc.start_channels()
        if warm:
            self.warm()

    def warm(self) -> None:
        """Ask the kernel to import the report's libraries now, without waiting:
        the kernel imports while this process goes on with its own start-up.
        (Modules stay imported across reports; namespaces do not.)"""
        self.kc.execute(WARM_UP_CODE, silent=True, store_history=False)
        # answered once the imports are done (the kernel answers in order)
        self._pending = self.kc.kernel_info()

    def ready(self, timeout: float) -> None:
        """Wait until the kernel answers, and its IOPub messages reach us.

        ``wait_for_ready`` without its last step, 0.2 s of silence awaited on
        IOPub (once per report). The kernel answers a kernel_info request once
        everything sent before it is done (the warm-up's imports), and the
        request's "idle" status is the last message it publishes for it: when
        that status arrives, IOPub is connected and every older message has
        been read off it. If it has not come 0.5 s after the answer (IOPub was
        not yet connected when the kernel published it), the request is sent
        again, as ``wait_for_ready`` does."""
        import queue

        request, self._pending = self._pending or self.kc.kernel_info(), None
        deadline = time.monotonic() + timeout
        replied = None  # when the kernel answered the request
        while True:
            now = time.monotonic()
            if now > deadline:
                raise ReportError(f"the report's kernel did not answer in {timeout:g} s")
            read = self.kc.get_shell_msg if replied is None else self.kc.get_iopub_msg
            try:
                msg = read(timeout=0.2)
            except queue.Empty:
                if not self.km.is_alive():
                    raise ReportError("the report's kernel stopped before it was ready") from None
                if replied is not None and now - replied > 0.5:
                    request, replied = self.kc.kernel_info(), None
                continue
            if msg["parent_header"].get("msg_id") != request:
                continue  # an older request's message: read off, nothing more
            if replied is None:
                if msg["msg_type"] == "kernel_info_reply":
                    replied = time.monotonic()
            elif msg["msg_type"] == "status" and msg["content"].get("execution_state") == "idle":
                return

    def share_dataset(self, dataset) -> None:
        """Give the kernel this process's checked dataset: its reports then
        read the checked tables instead of validating the same files again
        (see :func:`sensoryprofile.data.dataset.write_snapshot`)."""
        from sensoryprofile.data.dataset import write_snapshot

        write_snapshot(dataset, self.snapshots)

    def reset(self) -> None:
        """Clear everything a previous notebook left in the kernel."""
        if not self.used:
            self.used = True
            self.ready(timeout=120)
            return
        if self.closed:
            raise ReportError("the report's kernel was shut down (the batch is stopping)")
        if not self.km.is_alive():
            self.km.restart_kernel(now=True)
            self._pending = None
            self.kc.wait_for_ready(timeout=120)
            return
        self.ready(timeout=60)
        code = ("get_ipython().run_line_magic('reset', '-f')\n"
                "import matplotlib.pyplot as _plt\n_plt.close('all')\n"
                "import matplotlib as _mpl\n_mpl.rcdefaults()\n"
                "del _plt, _mpl\n"
                "get_ipython().execution_count = 1\n")
        reply = self.kc.execute_interactive(code, store_history=False, timeout=60)
        if reply["content"].get("status") != "ok":
            self.km.restart_kernel(now=True)
            self._pending = None
            self.kc.wait_for_ready(timeout=120)

    def shutdown(self) -> None:
        self.closed = True
        with contextlib.suppress(Exception):
            self.kc.stop_channels()
        # ended and waited for here: shutdown_kernel would find it gone at once,
        # where after its own kill it polls the process every 0.1 s
        process = getattr(self.km.provisioner, "process", None)
        with contextlib.suppress(Exception):
            if process is not None:
                process.kill()
                process.wait(timeout=10)
        with contextlib.suppress(Exception):
            self.km.shutdown_kernel(now=True)
        with contextlib.suppress(Exception):
            self.km.cleanup_resources()
        shutil.rmtree(self._ipc, ignore_errors=True)

    def kill(self) -> None:
        """End the kernel at once (a signal handler's shutdown: no messages)."""
        self.closed = True
        with contextlib.suppress(Exception):
            self.km.provisioner.process.kill()
        shutil.rmtree(self._ipc, ignore_errors=True)


def _this_interpreter():
    """A kernel-spec manager whose every kernel is this process's own Python:
    a report runs with exactly the package and libraries of the command that
    asked for it, whatever kernel specs the machine has installed. The kernel
    is ipykernel's, without its debugger (:mod:`sensoryprofile.reports.kernel`)."""
    from jupyter_client.kernelspec import KernelSpec, KernelSpecManager

    class _ThisInterpreter(KernelSpecManager):
        def get_kernel_spec(self, kernel_name):
            return KernelSpec(argv=[sys.executable, "-m", "sensoryprofile.reports.kernel",
                                    "-f", "{connection_file}"],
                              display_name="Python 3 (sensoryprofile)", language="python")

    return _ThisInterpreter()


def _kernel_env(snapshots: str | None = None) -> dict:
    from sensoryprofile.data.snapshots import SNAPSHOT_ENV

    env = dict(os.environ)
    if snapshots:
        env[SNAPSHOT_ENV] = snapshots
    env.setdefault("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    env["PYTHONWARNINGS"] = "ignore"  # a report shows no warnings; tests check for none
    # figures carry no creation time (matplotlib honours SOURCE_DATE_EPOCH): the same
    # data gives the same report, byte for byte
    env.setdefault("SOURCE_DATE_EPOCH", "0")
    return env


# ---------------------------------------------------------------------------
# executing and exporting one notebook
# ---------------------------------------------------------------------------
def execute_notebook(notebook: Path, output: Path, parameters: dict, *,
                     session: KernelSession | None = None, on_cells=None) -> None:
    """Run a notebook with papermill; raise :class:`ReportError` naming the cell.

    ``on_cells`` is called once the notebook is read, parameterized and its
    kernel ready, just before the first cell is sent: from then on this
    process only waits for the kernel, and work started there (the HTML
    exporter's first build) no longer holds up papermill's own preparation
    (threads share one interpreter lock). Without a ``session`` (papermill
    starts the kernel) it is called before papermill runs."""
    import papermill as pm
    from papermill.exceptions import PapermillExecutionError

    kwargs: dict = {"progress_bar": False, "request_save_on_cell_execute": False,
                    "kernel_name": KERNEL_NAME, "cwd": None,
                    "execution_timeout": EXECUTION_TIMEOUT}
    if session is not None:
        t = time.perf_counter()
        session.reset()
        session.waited = time.perf_counter() - t
        kwargs["km"] = session.km
        kwargs["shared_kc"] = session.kc
        kwargs["engine_name"] = _register_engine()
        kwargs["on_cells"] = on_cells
    elif on_cells is not None:
        on_cells()
    try:
        pm.execute_notebook(str(notebook), str(output), parameters=parameters, **kwargs)
    except PapermillExecutionError as exc:
        source = (exc.source or "").strip().splitlines()
        first = source[0][:80] if source else ""
        raise ReportError(f"cell {exc.cell_index} ({first!r}) raised {exc.ename}: "
                          f"{short_text(exc.evalue)}", cell_index=exc.cell_index, ename=exc.ename,
                          evalue=exc.evalue) from None


_ENGINE = "sensoryprofile-reused-kernel"


def _register_engine() -> str:
    """A papermill engine for a kernel we keep: like papermill's own nbclient
    engine, but it closes its kernel client's sockets after each notebook
    (papermill leaves them open when it does not own the kernel, and a batch
    would run out of file descriptors)."""
    from papermill.clientwrap import PapermillNotebookClient
    from papermill.engines import NBClientEngine, papermill_engines

    if _ENGINE in papermill_engines._engines:
        return _ENGINE

    class _Client(PapermillNotebookClient):
        def __init__(self, nb_man, shared_kc=None, on_cells=None, **kw):
            super().__init__(nb_man, **kw)
            self._shared_kc = shared_kc
            self._on_cells = on_cells
            if shared_kc is not None:  # the session's client: no new sockets per report
                self.kc = shared_kc
                self.kc.allow_stdin = False

        def papermill_execute_cells(self):
            if self._on_cells is not None:
                self._on_cells()
            return super().papermill_execute_cells()

        def execute(self, **kwargs):
            try:
                return super().execute(**kwargs)
            finally:
                if self.kc is not None and self.kc is not self._shared_kc:
                    self.kc.stop_channels()
                self.kc = None

    class _Engine(NBClientEngine):
        @classmethod
        def execute_managed_notebook(cls, nb_man, kernel_name, log_output=False,
                                     stdout_file=None, stderr_file=None, start_timeout=60,
                                     execution_timeout=None, **kwargs):
            kwargs.pop("input_path", None)
            kwargs.pop("timeout", None)
            kwargs.pop("startup_timeout", None)
            import logging

            return _Client(nb_man, timeout=execution_timeout, startup_timeout=start_timeout,
                           kernel_name=kernel_name, log=logging.getLogger("papermill"),
                           log_output=log_output, stdout_file=stdout_file,
                           stderr_file=stderr_file, **kwargs).execute()

    papermill_engines.register(_ENGINE, _Engine)
    return _ENGINE


def short_text(text: str, limit: int = 300) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


_EXPORTER = None


def html_exporter():
    """An HTMLExporter (built once per process: building one is slow)."""
    global _EXPORTER
    if _EXPORTER is None:
        from nbconvert import HTMLExporter

        _EXPORTER = HTMLExporter(template_name="sensoryprofile",
                                 extra_template_basedirs=[str(TEMPLATE_DIR)])
        _EXPORTER.exclude_input = True
        _EXPORTER.exclude_input_prompt = True
        _EXPORTER.exclude_output_prompt = True
        _EXPORTER.embed_images = True
    return _EXPORTER


def _prepare_exporter() -> None:
    """Build the exporter and export an empty notebook once (nbconvert loads
    its templates and filters on first use)."""
    import nbformat

    export_html(nbformat.v4.new_notebook(), "warm-up")


def exporter_ready():
    """Get the HTML exporter ready in a background thread, while the kernel
    runs the notebook (this process only waits then); returns a function
    that waits until it is ready."""
    if _EXPORTER is not None:
        return lambda: None
    import threading

    failed: list[BaseException] = []

    def prepare():
        try:
            _prepare_exporter()
        except BaseException as exc:  # noqa: BLE001 - raised again in the caller's thread
            failed.append(exc)

    thread = threading.Thread(target=prepare, name="sp-exporter", daemon=True)
    thread.start()

    def wait():
        thread.join()
        if failed:
            raise failed[0]

    return wait


def strip_stderr(nb) -> int:
    """Remove stderr streams from outputs (a report shows no warnings); return
    how many were removed."""
    removed = 0
    for cell in nb.cells:
        if cell.get("cell_type") != "code":
            continue
        keep = []
        for out in cell.get("outputs", []):
            if out.get("output_type") == "stream" and out.get("name") == "stderr":
                removed += 1
                continue
            keep.append(out)
        cell["outputs"] = keep
    return removed


def export_html(nb, title: str, exporter=None) -> str:
    nb.metadata["title"] = title
    exporter = exporter or html_exporter()
    body, _ = exporter.from_notebook_node(nb, resources={"metadata": {"name": title}})
    return body


def print_layout(html_text: str):
    """The report's HTML laid out on printed pages (a WeasyPrint document).
    Only ``data:`` URLs are fetched (the images embedded in the page): a report
    never reaches the network."""
    import logging

    from weasyprint import HTML
    from weasyprint.urls import URLFetcher

    logging.getLogger("weasyprint").setLevel(logging.ERROR)
    logging.getLogger("fontTools").setLevel(logging.ERROR)
    fetcher = URLFetcher(allowed_protocols={"data"})
    return HTML(string=html_text, url_fetcher=fetcher).render()


#: The PDF variant reports are written as: tagged PDF/UA-1 (a structure tree a
#: screen reader follows, charts as figures with their alternative text, the
#: page's ``<title>`` and ``<html lang>`` as the document's title and language).
PDF_VARIANT = "pdf/ua-1"


def export_pdf(html_text: str, path: Path, document=None) -> None:
    """Print the report's HTML to a tagged PDF (:data:`PDF_VARIANT`);
    ``document`` is its layout, if done already."""
    (document or print_layout(html_text)).write_pdf(str(path), pdf_variant=PDF_VARIANT)


def _swap_into_place(partial: Path, final: Path) -> None:
    """Replace ``final`` by ``partial`` with two renames (old copy removed after)."""
    old = final.parent / f".{final.name}.old"
    if old.exists():
        shutil.rmtree(old)
    if final.exists():
        os.replace(final, old)
    os.replace(partial, final)
    if old.exists():
        shutil.rmtree(old, ignore_errors=True)


#: The partial folder being written now (a signal handler removes it).
CURRENT_PARTIAL: list[Path] = []


def render_notebook(notebook: Path, folder: Path, parameters: dict, *, title: str,
                    pdf: bool = False, session: KernelSession | None = None,
                    name: str = "report", output_dir_parameter: bool = False,
                    keep_notebook: bool = True, exporter=None,
                    measure_pages: bool = False) -> RenderResult:
    """Execute ``notebook`` into ``folder`` (report.ipynb, report.html, report.pdf).

    With ``output_dir_parameter`` the notebook also gets an ``output_dir``
    parameter: the folder its side files go to (moved into place with it).
    Without ``keep_notebook`` the executed notebook is not kept (it holds the
    parameters: a de-identified report must not carry the data's path or
    the child's id).
    ``exporter`` is the HTML exporter (default: the report template's).
    ``measure_pages`` lays the page out for print (even without ``pdf``) and
    sets the result's ``pages``.
    """
    import nbformat

    start = time.perf_counter()
    timings: dict[str, float] = {}
    folder.parent.mkdir(parents=True, exist_ok=True)
    partial = Path(tempfile.mkdtemp(prefix=f".{folder.name}.partial-", dir=folder.parent))
    os.chmod(partial, 0o755)  # mkdtemp makes it private; a report folder is ordinary
    CURRENT_PARTIAL[:] = [partial]
    try:
        t = time.perf_counter()
        executed = partial / "report.ipynb"
        if output_dir_parameter:
            parameters = {**parameters, "output_dir": str(partial)}
        # the exporter is built on a thread while the kernel runs the cells
        exporter_wait = [lambda: None]

        def build_exporter():
            if exporter is None:
                exporter_wait[0] = exporter_ready()

        execute_notebook(notebook, executed, parameters, session=session,
                         on_cells=build_exporter)
        waited = session.waited if session is not None else 0.0
        if session is not None:
            timings["wait for the kernel"] = waited
        timings["execute"] = time.perf_counter() - t - waited
        t = time.perf_counter()
        nb = nbformat.read(executed, as_version=4)
        if output_dir_parameter:  # the executed copy names the final folder, not the partial
            for cell in nb.cells:
                if "injected-parameters" in cell.get("metadata", {}).get("tags", []):
                    cell["source"] = cell["source"].replace(str(partial), str(folder))
        removed = strip_stderr(nb)
        if keep_notebook:
            nbformat.write(nb, executed)
        else:
            executed.unlink()
        exporter_wait[0]()
        html_text = export_html(nb, title, exporter)
        (partial / "report.html").write_text(html_text, encoding="utf-8")
        timings["html"] = time.perf_counter() - t
        document, pages = None, None
        if measure_pages:
            t = time.perf_counter()
            document = print_layout(html_text)
            pages = len(document.pages)
            timings["layout"] = time.perf_counter() - t
        if pdf:
            t = time.perf_counter()
            export_pdf(html_text, partial / "report.pdf", document)
            timings["pdf"] = time.perf_counter() - t
        extras = sorted(p.name for p in partial.iterdir())
        _swap_into_place(partial, folder)
        files = [folder / n for n in extras]
        return RenderResult(name=name, ok=True, folder=folder, files=files,
                            seconds=time.perf_counter() - start, timings=timings,
                            stderr_removed=removed, pages=pages)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    finally:
        CURRENT_PARTIAL.clear()


# ---------------------------------------------------------------------------
# per-child reports
# ---------------------------------------------------------------------------
def child_parameters(data_dir, child_id, as_of, deidentify, pseudonym=None) -> dict:
    return {"data_dir": str(Path(data_dir).resolve()), "child_id": child_id,
            "as_of": None if as_of is None else str(as_of), "deidentify": bool(deidentify),
            "pseudonym": pseudonym}


def report_name(child_id: str, *, deidentify: bool = False, key_file=None) -> str:
    """The name a child's report goes by: its ID, or, de-identified, a
    pseudonym: the export's keyed pseudonym when a key is given (a report
    then matches a de-identified extract), else a random study code."""
    check_id(child_id)
    if not deidentify:
        return child_id
    if key_file is not None:
        from sensoryprofile.data.export import Pseudonymiser, read_key

        return Pseudonymiser(read_key(key_file)).pseudonym(C.CHILD_ID, child_id)
    import secrets

    return f"R-{secrets.token_hex(5)}"


def render_child(data_dir: str | Path, child_id: str, *, out_dir: str | Path = "reports",
                 as_of: dt.date | str | None = None, deidentify: bool = False,
                 pdf: bool = False, session: KernelSession | None = None, key_file=None,
                 wait: bool = False) -> RenderResult:
    """Render one child's report to ``out_dir/children/NAME/``.

    NAME is the child's ID, or with ``deidentify`` a pseudonym
    (:func:`report_name`); a de-identified report keeps no executed notebook.
    Raises :class:`UsageError` for an ID outside the ID rule (checked before
    any path is built), :class:`ReportError` when the notebook fails (naming
    the cell) and :class:`OutputBusyError` when another run writes into
    ``out_dir`` (unless ``wait``).
    """
    check_id(child_id)
    with output_lock(out_dir, wait=wait):
        return render_child_unlocked(data_dir, child_id, out_dir=out_dir, as_of=as_of,
                                     deidentify=deidentify, pdf=pdf, session=session,
                                     name=report_name(child_id, deidentify=deidentify,
                                                      key_file=key_file))


def render_child_unlocked(data_dir, child_id: str, *, out_dir, as_of=None,
                          deidentify: bool = False, pdf: bool = False,
                          session: KernelSession | None = None,
                          name: str | None = None) -> RenderResult:
    """:func:`render_child` for a caller that holds the output folder (a batch)."""
    check_id(child_id)
    name = name or child_id
    check_id(name)
    folder = Path(out_dir).resolve() / "children" / name
    own = session is None
    before: dict[str, float] = {}
    if own:
        # the kernel starts first: it imports the report's libraries while
        # this process checks the data, and then reads the checked tables
        t = time.perf_counter()
        session = KernelSession()
        before["start the kernel"] = time.perf_counter() - t
    try:
        if own:
            from sensoryprofile.data.dataset import load_dataset_cached

            t = time.perf_counter()
            dataset = load_dataset_cached(data_dir)
            dataset.child(child_id)  # an unknown or rejected child: said before any cell runs
            session.share_dataset(dataset)
            before["check the data (this process)"] = time.perf_counter() - t
        result = render_notebook(
            notebook_path("child_report.ipynb"), folder,
            child_parameters(data_dir, child_id, as_of, deidentify,
                             name if deidentify else None),
            title=f"Report {name}", pdf=pdf, session=session, name=name,
            keep_notebook=not deidentify)
        result.child_id = child_id
        result.timings = {**before, **result.timings}
        return result
    except ReportError as exc:
        raise ReportError(f"child {name}: {exc}", cell_index=exc.cell_index,
                          ename=exc.ename, evalue=exc.evalue) from None
    finally:
        if own:
            session.shutdown()


# ---------------------------------------------------------------------------
# family reports (issue #16): out/family/ID/LANG/report.html
# ---------------------------------------------------------------------------
FAMILY_TEMPLATE = "sensoryprofile-family"
#: A family report prints on at most this many A4 pages (issue #16).
FAMILY_PAGES = 2
#: The last ``compact`` step of the family report (reports.family.MAX_COMPACT;
#: a test checks they agree, so this module need not import the model).
FAMILY_MAX_COMPACT = 5
_FAMILY_EXPORTERS: dict = {}


def family_exporter(lang: str):
    """The family report's HTMLExporter for one language (``<html lang>``),
    built once per process and language."""
    if lang not in _FAMILY_EXPORTERS:
        from nbconvert import HTMLExporter

        # the template extends 'sensoryprofile/index.html.j2': TEMPLATE_DIR is
        # also a plain search path, so that name resolves
        exporter = HTMLExporter(template_name=FAMILY_TEMPLATE,
                                extra_template_basedirs=[str(TEMPLATE_DIR)],
                                extra_template_paths=[str(TEMPLATE_DIR)])
        exporter.exclude_input = True
        exporter.exclude_input_prompt = True
        exporter.exclude_output_prompt = True
        exporter.embed_images = True
        # a code nbconvert does not know (not ISO 639-1): the page keeps "en"
        with contextlib.suppress(Exception):
            exporter.language_code = lang.split("_")[0]
        _FAMILY_EXPORTERS[lang] = exporter
    return _FAMILY_EXPORTERS[lang]


def family_folder(out_dir: str | Path, child_id: str, lang: str) -> Path:
    """Where a family report goes: ``out_dir/family/ID/LANG/`` (beside, never
    inside, the child's clinical report folder ``out_dir/children/ID/``)."""
    check_id(child_id)
    return Path(out_dir).resolve() / "family" / child_id / lang


def prepare_family(lang: str, strategies: str | Path | None) -> str | None:
    """Check what a family report needs before any kernel starts: the language
    (:class:`UsageError` if there is no catalog) and the clinic's strategy file
    (:class:`StrategyError` listing every problem). Warns once about messages
    the language does not translate (they are shown in English). Returns the
    strategy file's absolute path (or None)."""
    import warnings

    from sensoryprofile.errors import MissingTranslationWarning
    from sensoryprofile.reports.i18n import check_language, untranslated
    from sensoryprofile.reports.strategies import load_strategies

    check_language(lang)
    load_strategies(lang, strategies)
    missing = untranslated(lang)
    if missing:
        warnings.warn(MissingTranslationWarning(
            f"{len(missing)} message(s) have no {lang!r} translation and are shown in English, "
            f"e.g. {missing[0]!r}"), stacklevel=2)
    return None if strategies is None else str(Path(strategies).resolve())


def render_family(data_dir: str | Path, child_id: str, *, out_dir: str | Path = "reports",
                  as_of: dt.date | str | None = None, lang: str = "en",
                  strategies: str | Path | None = None, pdf: bool = False,
                  session: KernelSession | None = None, checked: bool = False,
                  locked: bool = False, wait: bool = False) -> RenderResult:
    """Render one child's family report in ``lang`` to ``out_dir/family/ID/LANG/``.

    ``strategies`` is a clinic's strategy file (None: the shipped library).
    ``checked`` skips :func:`prepare_family` (a batch checks once);
    ``locked`` says the caller holds the output folder (a batch), else it is
    held here (:class:`OutputBusyError` when another run writes into it,
    unless ``wait``).

    The report must fit :data:`FAMILY_PAGES` printed pages. Its print layout
    is measured (WeasyPrint, A4); a longer report is rendered again one
    ``compact`` step shorter (:data:`~sensoryprofile.reports.family.COMPACT_STEPS`)
    until it fits; the result's ``pages`` says how many it has, and a report
    still too long at the last step is kept with a warning.
    """
    folder = family_folder(out_dir, child_id, lang)
    if not checked:  # before anything is written: a bad file or language leaves no trace
        strategies = prepare_family(lang, strategies)
    if not locked:
        with output_lock(out_dir, wait=wait):
            return render_family(data_dir, child_id, out_dir=out_dir, as_of=as_of, lang=lang,
                                 strategies=strategies, pdf=pdf, session=session,
                                 checked=True, locked=True)
    own = session is None
    if own:
        session = KernelSession()  # starts importing while the data are checked here
    try:
        if own:
            from sensoryprofile.data.dataset import load_dataset_cached

            dataset = load_dataset_cached(data_dir)
            dataset.child(child_id)  # an unknown or rejected child: said before any cell runs
            session.share_dataset(dataset)
        from sensoryprofile.reports.i18n import Translator

        with warnings_ignored():  # prepare_family has warned about missing translations
            # the message of reports.family.REPORT_TITLE
            title = f"{Translator(lang).gettext('A report for the family')} {child_id}"
        params = {"data_dir": str(Path(data_dir).resolve()), "child_id": child_id,
                  "as_of": None if as_of is None else str(as_of), "lang": lang,
                  "strategies": None if strategies is None else str(Path(strategies).resolve())}
        for compact in range(FAMILY_MAX_COMPACT + 1):
            result = render_notebook(notebook_path("family_report.ipynb"), folder,
                                     {**params, "compact": compact}, title=title, pdf=pdf,
                                     session=session, name=child_id,
                                     exporter=family_exporter(lang), measure_pages=True)
            if result.pages <= FAMILY_PAGES:
                return result
        import warnings

        from sensoryprofile.errors import LongReportWarning

        warnings.warn(LongReportWarning(
            f"the family report of {child_id} ({lang}) has {result.pages} printed pages even "
            "shortened: shorten its goal texts or the note for the family"), stacklevel=2)
        return result
    except ReportError as exc:
        raise ReportError(f"family report {child_id} ({lang}): {exc}",
                          cell_index=exc.cell_index, ename=exc.ename, evalue=exc.evalue) from None
    finally:
        if own:
            session.shutdown()


@contextlib.contextmanager
def warnings_ignored():
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


# ---------------------------------------------------------------------------
# clinic-level reports
# ---------------------------------------------------------------------------
def render_caseload(data_dir: str | Path, *, out_dir: str | Path = "reports",
                    as_of=None, period_start=None, period_end=None, site: str | None = None,
                    therapist: str | None = None, min_group: int | None = None,
                    n_boot: int | None = None, seed: int | None = None, pdf: bool = False,
                    session: KernelSession | None = None) -> RenderResult:
    """Render the caseload report (``caseload_report.ipynb``) to
    ``out_dir/caseload/``. Long lists go to CSV files beside the report (the
    notebook writes them into ``output_dir``). ``min_group``, ``n_boot`` and
    ``seed`` default (None) to the package's settings."""
    return _render_clinic("caseload_report.ipynb", "caseload", data_dir, out_dir, pdf, session, {
        "as_of": _iso_or_none(as_of), "period_start": _iso_or_none(period_start),
        "period_end": _iso_or_none(period_end), "site": site, "therapist": therapist,
        "min_group": _int_or_none(min_group), "n_boot": _int_or_none(n_boot),
        "seed": _int_or_none(seed)})


def render_cohort(data_dir: str | Path, *, out_dir: str | Path = "reports",
                  instrument: str = "demo-child", seed: int | None = None,
                  n_boot: int | None = None, min_group: int | None = None, pdf: bool = False,
                  session: KernelSession | None = None) -> RenderResult:
    """Render the cohort analysis (``cohort_analysis.ipynb``) of one form to
    ``out_dir/cohort/<instrument>/``, with its numeric tables as CSV and a
    provenance JSON beside it. ``seed``, ``n_boot`` and ``min_group``
    default (None) to the package's settings."""
    return _render_clinic("cohort_analysis.ipynb", "cohort", data_dir, out_dir, pdf, session, {
        "instrument": instrument, "seed": _int_or_none(seed), "n_boot": _int_or_none(n_boot),
        "min_group": _int_or_none(min_group)}, folder=cohort_folder(instrument))


def cohort_folder(instrument: str) -> str:
    """Where a form's cohort analysis goes, under the output folder."""
    return f"cohort/{instrument}"


def forms_in(dataset) -> list[str]:
    """The forms of a dataset's accepted assessments, by id: one cohort
    analysis each (different forms are never pooled)."""
    return sorted({str(v) for v in dataset.assessments[C.INSTRUMENT].dropna()
                   if str(v) in dataset.instruments})


def render_cohorts(data_dir: str | Path, *, out_dir: str | Path = "reports",
                   instruments=None, seed: int | None = None, n_boot: int | None = None,
                   min_group: int | None = None, pdf: bool = False) -> list[RenderResult]:
    """The cohort analysis of each form (default: every form in the data,
    :func:`forms_in`), one after another in one warm kernel."""
    from sensoryprofile.data.dataset import load_dataset_cached

    dataset = load_dataset_cached(data_dir)
    forms = list(instruments) if instruments else forms_in(dataset)
    session = KernelSession()
    try:
        session.share_dataset(dataset)
        return [render_cohort(data_dir, out_dir=out_dir, instrument=form, seed=seed,
                              n_boot=n_boot, min_group=min_group, pdf=pdf, session=session)
                for form in forms]
    finally:
        session.shutdown()


class ClinicReports:
    """The caseload report and, with ``cohort``, one cohort analysis per form:
    the clinic-level part of ``report all``, in one kernel of its own.

    :meth:`start` renders them in a thread of this process while the caller
    goes on (``report all`` renders the children on worker processes
    meanwhile); :meth:`finish` waits for them, or renders them now if they
    were not started; :meth:`stop` ends their kernel at once (a signal).
    ``outcomes`` holds ``(name, None)`` for each report rendered and
    ``(name, error)`` for each that failed; an error that is not the
    package's own is raised again by :meth:`finish`.
    """

    def __init__(self, data_dir, *, out_dir, as_of=None, pdf: bool = False,
                 cohort: bool = False):
        self.data_dir, self.out_dir, self.as_of, self.pdf = data_dir, out_dir, as_of, pdf
        self.cohort = cohort
        self.outcomes: list[tuple[str, Exception | None]] = []
        self._session: KernelSession | None = None
        self._thread = None
        self._raised: BaseException | None = None
        self._stopped = False

    def start(self) -> None:
        import threading

        self._thread = threading.Thread(target=self._run, name="sensoryprofile-clinic",
                                        daemon=True)
        self._thread.start()

    def finish(self) -> None:
        if self._thread is None:
            self._run()
        else:
            self._thread.join()
        if self._raised is not None:
            raise self._raised

    def stop(self) -> None:
        self._stopped = True
        session = self._session
        if session is not None:
            session.kill()
        if self._thread is not None:
            # a notebook waiting on its killed kernel may take a while to
            # notice: the thread is a daemon and the process is ending, so
            # its half-written report is removed here rather than waited for
            self._thread.join(timeout=1)
            for partial in list(CURRENT_PARTIAL):
                shutil.rmtree(partial, ignore_errors=True)

    def _run(self) -> None:
        from sensoryprofile.data.dataset import load_dataset_cached
        from sensoryprofile.errors import SensoryProfileError

        try:
            self._session = session = KernelSession()
            try:
                if self._stopped:
                    return
                dataset = load_dataset_cached(self.data_dir)
                session.share_dataset(dataset)
                jobs = [("caseload", lambda: render_caseload(
                    self.data_dir, out_dir=self.out_dir, as_of=self.as_of, pdf=self.pdf,
                    session=session))]
                if self.cohort:  # one cohort analysis per form in the data, never pooled
                    jobs.extend(("cohort", functools.partial(
                        render_cohort, self.data_dir, out_dir=self.out_dir, instrument=form,
                        pdf=self.pdf, session=session)) for form in forms_in(dataset))
                failed: dict[str, Exception] = {}
                for name, render in jobs:
                    if self._stopped:
                        return
                    try:
                        render()
                    except SensoryProfileError as exc:
                        failed.setdefault(name, exc)
                self.outcomes.extend((name, failed.get(name))
                                     for name in dict.fromkeys(name for name, _ in jobs))
            finally:
                session.shutdown()
        except BaseException as exc:  # raised again in the caller's thread by finish()
            self._raised = exc


def _int_or_none(value) -> int | None:
    return None if value is None else int(value)


def _iso_or_none(value) -> str | None:
    return None if value is None else str(value)


def _render_clinic(notebook: str, name: str, data_dir, out_dir, pdf, session, extra: dict,
                   folder: str | None = None) -> RenderResult:
    """Render a clinic-level notebook into ``out_dir/folder`` (default
    ``out_dir/name``). The notebook writes its side files (CSV, JSON) into
    the ``output_dir`` parameter, which is the hidden partial folder, so they
    are swapped into place together with the report."""
    with output_lock(out_dir):
        return _render_clinic_unlocked(notebook, name, data_dir, out_dir, pdf, session, extra,
                                       folder)


def _render_clinic_unlocked(notebook, name, data_dir, out_dir, pdf, session, extra,
                            folder: str | None = None) -> RenderResult:
    folder = Path(out_dir).resolve() / (folder or name)
    own = session is None
    if own:
        session = KernelSession()  # starts importing while the data are checked here
    try:
        if own:
            from sensoryprofile.data.dataset import load_dataset_cached

            session.share_dataset(load_dataset_cached(data_dir))
        params = {"data_dir": str(Path(data_dir).resolve()), **extra}
        return render_notebook(notebook_path(notebook), folder, params,
                               title=f"{name.capitalize()} report", pdf=pdf, session=session,
                               name=name, output_dir_parameter=True)
    except ReportError as exc:
        raise ReportError(f"{name} report: {exc}", cell_index=exc.cell_index, ename=exc.ename,
                          evalue=exc.evalue) from None
    finally:
        if own:
            session.shutdown()


__all__ = ["ClinicReports", "KernelSession", "RenderResult", "family_folder", "render_caseload", "render_child",
           "render_child_unlocked", "render_cohort", "render_cohorts", "render_family", "render_notebook",
           "report_name"]
