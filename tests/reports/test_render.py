"""Per-child reports: the real notebook executed with papermill on the sample
data, and what it produced (HTML, executed notebook, PDF), de-identification,
inert free text, ID safety, batches with failures, interrupted runs, and
kernel reuse without leaks."""

from __future__ import annotations

import datetime as dt
import html as htmlmod
import json
import re
import shutil
from pathlib import Path

import nbformat
import pandas as pd
import pytest
from pypdf import PdfReader

from sensoryprofile import columns as C
from sensoryprofile import plots
from sensoryprofile.cli import main
from sensoryprofile.data.dataset import load_dataset
from sensoryprofile.errors import ReportError, UsageError
from sensoryprofile.reports import batch, render
from sensoryprofile.reports.child import ChildReport
from tests.paths import SAMPLE

pytestmark = pytest.mark.slow

AS_OF = "2026-10-31"
N_CHARTS = 6  # profile, pattern map, sections, trajectories, goals, T-score


def _long_date(value) -> str:
    value = pd.Timestamp(value)
    return f"{value.day} {value.strftime('%B %Y')}"


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    """C0002 (a school-age child with several reviews) and C0004 (a toddler on
    demo-toddler), rendered once for several tests; C0002 with a PDF."""
    out = tmp_path_factory.mktemp("reports")
    session = render.KernelSession()
    try:
        school = render.render_child(SAMPLE, "C0002", out_dir=out, as_of=AS_OF, pdf=True,
                                      session=session)
        toddler = render.render_child(SAMPLE, "C0004", out_dir=out, as_of=AS_OF,
                                       session=session)
    finally:
        session.shutdown()
    return {"C0002": school, "C0004": toddler, "out": out}


@pytest.mark.parametrize("child_id", ["C0002", "C0004"])
def test_report_shows_what_the_package_computes(rendered, child_id):
    result = rendered[child_id]
    folder = rendered["out"] / "children" / child_id
    assert result.ok and folder.is_dir()
    html = (folder / "report.html").read_text(encoding="utf-8")
    expected = ChildReport.build(SAMPLE, child_id, as_of=AS_OF)
    # every quadrant's classification label, in the quadrant table
    for label in expected.quadrant_table["Classification"]:
        assert f"<td>{label}</td>" in html
    # the latest GAS T-score, as the summary words it
    last = expected.reviews.iloc[-1]
    assert f"T-score {last[C.T_SCORE]:.0f}, from {last[C.BASELINE_T]:.0f}" in html
    # charts embedded (no external files), no code, no tracebacks, no stderr
    # (C0002 has a caregiver's and a teacher's form five days apart: side by side)
    side_by_side = expected.comparison is not None
    assert side_by_side == (child_id == "C0002")
    assert len(re.findall(r"<img[^>]+src=\"data:image/", html)) == N_CHARTS + side_by_side
    # each with its alternative text, worded from the frame it draws
    alts = [plots.quadrant_profile_alt(expected.quadrant_profile),
            plots.pattern_map_alt(expected.quadrant_profile),
            plots.section_profile_alt(expected.section_profile),
            *([plots.respondent_comparison_alt(expected.comparison_chart)] if side_by_side
              else []),
            plots.quadrant_trajectories_alt(expected.trajectories),
            plots.goal_trajectories_alt(expected.goal_trajectories),
            plots.tscore_over_time_alt(expected.tscores)]
    assert [htmlmod.unescape(a) for a in re.findall(r'<img [^>]*alt="([^"]*)"', html)] == alts
    assert "No description has been provided" not in html
    assert "plots.plot_quadrant_profile" not in html and "ChildReport.build" not in html
    body = html.split("<body", 1)[1]  # the page, not its stylesheet
    assert "jp-CodeMirrorEditor" not in body and "highlight" not in body  # no code shown
    assert "Traceback" not in html
    assert 'data-mime-type="application/vnd.jupyter.stderr"' not in html
    assert re.findall(r"<script[^>]*\bsrc=", html) == []  # nothing loaded from elsewhere
    assert re.findall(r"(?:src|href)=\"https?://", html) == []
    nb = nbformat.read(folder / "report.ipynb", as_version=4)
    assert all(o.get("name") != "stderr" for c in nb.cells if c.cell_type == "code"
               for o in c.get("outputs", []))
    assert all(o.get("output_type") != "error" for c in nb.cells if c.cell_type == "code"
               for o in c.get("outputs", []))


def test_toddler_report_uses_cut_tables(rendered):
    html = (rendered["out"] / "children" / "C0004" / "report.html").read_text()
    assert "Demo Toddler Sensory Questionnaire" in html
    # cut-table norms give no percentile: the tables have no such column
    expected = ChildReport.build(SAMPLE, "C0004", as_of=AS_OF)
    assert "Percentile" not in expected.quadrant_table.columns
    assert "Percentile" not in expected.section_table.columns
    assert "<th>Percentile</th>" not in html


def test_pdf_opens_and_has_pages(rendered):
    pdf = rendered["out"] / "children" / "C0002" / "report.pdf"
    reader = PdfReader(pdf)
    assert len(reader.pages) >= 3
    text = " ".join(page.extract_text() for page in reader.pages)
    assert "Sensory and goals report" in text and "Goals" in text
    # tagged (PDF/UA-1): a structure tree whose figures are the charts, with their
    # alternative text; the page's title and language
    from tests.reports.test_pdf_tags import structure

    tags = structure(reader)
    assert tags.marked and tags.title == "Report C0002" and tags.lang == "en"
    html = (rendered["out"] / "children" / "C0002" / "report.html").read_text(encoding="utf-8")
    alts = [htmlmod.unescape(a) for a in re.findall(r'<img [^>]*alt="([^"]*)"', html)]
    assert [alt for alt, _ in tags.figures] == alts and len(alts) == N_CHARTS + 1  # + side by side
    assert "/Table" in tags.kinds and "/TH" in tags.kinds and "/Caption" in tags.kinds


def test_deidentified_report_holds_nothing_identifying(tmp_path):
    child_id = "C0002"
    ds = load_dataset(SAMPLE)
    child = ds.child(child_id)
    goals = ds.goals[ds.goals[C.CHILD_ID] == child_id]
    ratings = ds.goal_ratings[ds.goal_ratings[C.GOAL_ID].isin(goals[C.GOAL_ID])]
    assessments = ds.assessments[ds.assessments[C.CHILD_ID] == child_id]
    dates = [child[C.DATE_OF_BIRTH], child[C.REFERRAL_DATE], *assessments[C.DATE],
             *goals[C.SET_DATE], *goals[C.TARGET_DATE], *ratings[C.DATE]]
    forbidden = {str(child[C.DISPLAY_NAME])}
    for d in dates:
        if pd.notna(d):
            forbidden |= {pd.Timestamp(d).date().isoformat(), _long_date(d)}
    for col in (C.DESCRIPTION, *C.LEVEL_TEXT_COLUMNS):
        forbidden |= {str(v) for v in goals[col].dropna()}
    forbidden |= {str(v) for v in ratings[C.NOTE].dropna()}
    # nor the clinic's own IDs, the therapist or the site
    forbidden |= {child_id, str(child[C.THERAPIST]), str(child[C.SITE]), *goals[C.GOAL_ID],
                  *assessments[C.ASSESSMENT_ID]}
    assert len(forbidden) > 20
    result = render.render_child(SAMPLE, child_id, out_dir=tmp_path, as_of=AS_OF,
                                 deidentify=True, pdf=True)
    folder = result.folder
    assert folder.parent == tmp_path / "children" and folder.name.startswith("R-")
    assert sorted(p.name for p in folder.iterdir()) == ["report.html", "report.pdf"]  # no ipynb
    texts = {"html": (folder / "report.html").read_text(encoding="utf-8"),
             "pdf": "".join(page.extract_text() for page in PdfReader(
                 folder / "report.pdf").pages) + str(PdfReader(folder / "report.pdf").metadata)}
    for name, text in texts.items():
        leaked = sorted(v for v in forbidden if v and v in text)
        assert leaked == [], f"{name} leaks {leaked[:5]}"
    assert result.ok and "months since" in texts["html"].lower()
    assert f"Report {folder.name}" in texts["html"]  # the page's title is the pseudonym


@pytest.mark.slow
def test_deidentified_report_with_a_key_uses_the_export_pseudonym(tmp_path):
    from sensoryprofile.data.export import Pseudonymiser, new_key, read_key

    key = new_key(tmp_path / "key")
    expected = Pseudonymiser(read_key(key)).pseudonym(C.CHILD_ID, "C0002")
    result = render.render_child(SAMPLE, "C0002", out_dir=tmp_path / "out", as_of=AS_OF,
                                 deidentify=True, key_file=key)
    assert result.folder.name == expected and expected.startswith("C-")


def _copy_sample(tmp_path: Path) -> Path:
    data = tmp_path / "data"
    shutil.copytree(SAMPLE, data)
    return data


def test_free_text_is_rendered_inert(tmp_path):
    data = _copy_sample(tmp_path)
    goals = pd.read_csv(data / "goals.csv", dtype=str, keep_default_na=False)
    first = goals.index[goals[C.CHILD_ID] == "C0002"][0]
    goals.loc[first, C.DESCRIPTION] = "<script>alert(1)</script>"
    goals.loc[first, "level_-1"] = "<img src=x onerror=alert(1)>"
    goals.to_csv(data / "goals.csv", index=False)
    render.render_child(data, "C0002", out_dir=tmp_path / "out", as_of=AS_OF, pdf=True)
    folder = tmp_path / "out" / "children" / "C0002"
    html = (folder / "report.html").read_text(encoding="utf-8")
    assert "<script>alert(1)" not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    text = " ".join(p.extract_text() for p in PdfReader(folder / "report.pdf").pages)
    assert "<script>alert(1)</script>" in text.replace("\n", "")


def test_bad_id_is_refused_before_any_path(tmp_path):
    with pytest.raises(UsageError, match="must be 1 to 64 letters"):
        render.render_child(SAMPLE, "../../etc", out_dir=tmp_path)
    assert list(tmp_path.iterdir()) == []
    assert main(["report", "child", "../x", "--data", str(SAMPLE), "--out", str(tmp_path)]) == 2


def test_batch_isolates_failures_and_writes_index(tmp_path, capsys):
    out = tmp_path / "out"
    result = batch.render_children(SAMPLE, ["C0001", "NOPE", "C0003", "../bad"], out_dir=out,
                                   jobs=2, as_of=AS_OF, progress=False)
    assert sorted(r.name for r in result.rendered) == ["C0001", "C0003"]
    failures = {r.name: r.error for r in result.failed}
    assert set(failures) == {"NOPE", "../bad"}
    # the error names the child and the notebook cell, not a wall of traceback
    assert failures["NOPE"].startswith("child NOPE: cell ")
    assert "DatasetError" in failures["NOPE"] and "\n" not in failures["NOPE"]
    index = (out / "index.html").read_text()
    assert "children/C0001/report.html" in index and "children/C0003/report.html" in index
    assert "NOPE" in index  # listed under failures, with no link
    assert not (out / "children" / "NOPE").exists()
    assert not [p for p in (out / "children").iterdir() if p.name.startswith(".")]


def test_cli_batch_exit_code(tmp_path, capsys):
    data = _copy_sample(tmp_path)
    kids = pd.read_csv(data / "children.csv", dtype=str, keep_default_na=False)
    kids.iloc[:2].to_csv(data / "children.csv", index=False)  # two children only
    code = main(["report", "children", "--data", str(data), "--out", str(tmp_path / "r"),
                 "--as-of", AS_OF, "--quiet"])
    out = capsys.readouterr().out
    assert code == 0 and "Rendered 2 report(s), not rendered 0, failed 0" in out
    assert "index.html" in out


def test_failed_or_interrupted_render_leaves_no_complete_looking_report(tmp_path, monkeypatch):
    out = tmp_path / "out"
    first = render.render_child(SAMPLE, "C0003", out_dir=out, as_of=AS_OF)
    before = (out / "children" / "C0003" / "report.html").read_bytes()

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(render, "export_html", interrupted)
    with pytest.raises(KeyboardInterrupt):
        render.render_child(SAMPLE, "C0003", out_dir=out, as_of="2026-01-31")
    with pytest.raises(KeyboardInterrupt):
        render.render_child(SAMPLE, "C0005", out_dir=out, as_of=AS_OF)
    # the earlier complete report is untouched; the interrupted new one does not exist
    assert (out / "children" / "C0003" / "report.html").read_bytes() == before
    assert not (out / "children" / "C0005").exists()
    assert [p.name for p in (out / "children").iterdir()] == ["C0003"]  # no partial folders
    assert first.ok


def _outputs(path: Path) -> list:
    """A notebook's outputs, without execution metadata (timings)."""
    nb = nbformat.read(path, as_version=4)
    cells = []
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        outs = []
        for o in cell.get("outputs", []):
            o = dict(o)
            o.pop("metadata", None)
            outs.append(o)
        cells.append((cell.get("execution_count"), outs))
    return cells


def test_kernel_reuse_leaks_nothing(tmp_path):
    """C0001 rendered after C0002 in the same kernel equals C0001 rendered alone."""
    shared = render.KernelSession()
    try:
        render.render_child(SAMPLE, "C0002", out_dir=tmp_path / "shared", as_of=AS_OF,
                             session=shared)
        render.render_child(SAMPLE, "C0001", out_dir=tmp_path / "shared", as_of=AS_OF,
                             session=shared)
    finally:
        shared.shutdown()
    render.render_child(SAMPLE, "C0001", out_dir=tmp_path / "alone", as_of=AS_OF)
    reused = _outputs(tmp_path / "shared" / "children" / "C0001" / "report.ipynb")
    alone = _outputs(tmp_path / "alone" / "children" / "C0001" / "report.ipynb")
    assert reused == alone
    html_reused = (tmp_path / "shared" / "children" / "C0001" / "report.html").read_text()
    assert "C0002" not in html_reused and "Juniper" not in html_reused


def test_a_kernel_is_ready_once_warm_with_nothing_left_unread():
    """`reset` waits for the warm-up's imports (the kernel answers in order),
    then returns with every message the kernel published read off IOPub, so
    the first cell's output cannot be confused with the warm-up's. The
    warm-up froze what it imported for the garbage collector."""
    import queue

    session = render.KernelSession()
    try:
        session.reset()
        with pytest.raises(queue.Empty):
            session.kc.get_iopub_msg(timeout=0.5)
        printed: list[str] = []

        def keep(msg):
            if msg["msg_type"] == "stream":
                printed.append(msg["content"]["text"])

        probe = ("import gc, sys\n"
                 "print(sorted(m for m in ('pandas', 'matplotlib.pyplot', "
                 "'sensoryprofile.reports.child') if m in sys.modules), "
                 "gc.get_freeze_count() > 10_000)")
        reply = session.kc.execute_interactive(probe, output_hook=keep, timeout=60)
        assert reply["content"]["status"] == "ok"
        assert "".join(printed).strip() == (
            "['matplotlib.pyplot', 'pandas', 'sensoryprofile.reports.child'] True")
        # the next report's reset: ready again, the namespace cleared, nothing left unread
        session.reset()
        with pytest.raises(queue.Empty):
            session.kc.get_iopub_msg(timeout=0.5)
        printed.clear()
        reply = session.kc.execute_interactive("print('gc' in dir())", output_hook=keep,
                                               timeout=60)
        assert "".join(printed).strip() == "False"
    finally:
        session.shutdown()


def test_a_kernel_started_without_warm_up_is_ready_too():
    """Without a warm-up the kernel may answer before IOPub is connected (its
    idle status is then lost): `reset` asks again until the status arrives."""
    import queue

    session = render.KernelSession(warm=False)
    try:
        session.reset()
        with pytest.raises(queue.Empty):
            session.kc.get_iopub_msg(timeout=0.5)
        printed: list[str] = []
        reply = session.kc.execute_interactive(
            "print(6 * 7)", timeout=60,
            output_hook=lambda msg: printed.append(msg["content"].get("text", "")))
        assert reply["content"]["status"] == "ok"
        assert "".join(printed).strip() == "42"
    finally:
        session.shutdown()


def _clock_notebook(path: Path) -> Path:
    """A notebook whose cells write when they ran (``time.monotonic``, the same
    clock in every process of the machine) to ``stamp_file``, a parameter."""
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell("stamp_file = ''")
    params.metadata["tags"] = ["parameters"]
    stamp = ("import time\nwith open(stamp_file, 'a') as f:\n"
             "    f.write(f'{time.monotonic()!r}\\n')")
    nb.cells = [params, nbformat.v4.new_code_cell(stamp), nbformat.v4.new_code_cell(stamp)]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    nbformat.write(nb, path)
    return path


@pytest.mark.parametrize("own_kernel", [False, True])
def test_work_waiting_for_the_cells_starts_once_before_the_first_cell(tmp_path, own_kernel):
    """``on_cells`` (where a report builds its HTML exporter on a thread) runs
    once, after papermill has prepared the notebook and before any cell: with
    a session just before the first cell is sent, without one before papermill
    starts its kernel."""
    import time

    notebook = _clock_notebook(tmp_path / "clock.ipynb")
    stamps = tmp_path / "stamps.txt"
    calls: list[float] = []
    session = None if own_kernel else render.KernelSession()
    try:
        render.execute_notebook(notebook, tmp_path / "out.ipynb", {"stamp_file": str(stamps)},
                                session=session, on_cells=lambda: calls.append(time.monotonic()))
    finally:
        if session is not None:
            session.shutdown()
    cells = [float(x) for x in stamps.read_text().split()]
    assert len(calls) == 1 and len(cells) == 2
    assert calls[0] < cells[0] < cells[1]


def test_a_kernel_that_dies_before_it_is_ready_is_reported_not_awaited():
    session = render.KernelSession()
    try:
        process = session.km.provisioner.process
        process.kill()
        process.wait(timeout=30)
        with pytest.raises(ReportError, match="the report's kernel stopped before it was ready"):
            session.reset()
    finally:
        session.shutdown()


def test_as_of_ignores_later_data(tmp_path):
    early = dt.date(2025, 3, 1)
    render.render_child(SAMPLE, "C0002", out_dir=tmp_path, as_of=early)
    html = (tmp_path / "children" / "C0002" / "report.html").read_text()
    later = ChildReport.build(SAMPLE, "C0002", as_of=AS_OF)
    late_dates = [d for d in later.scores[C.DATE].unique() if pd.Timestamp(d).date() > early]
    assert late_dates and not any(_long_date(d) in html for d in late_dates)


def test_a_child_report_kernel_never_imports_jsonschema(tmp_path, monkeypatch):
    """The single-report path (`sensoryprofile report child`): the kernel runs
    the real notebook, and what it imported is read from it before it ends.
    The parent checked the data and the definitions; the kernel only reads
    the checked tables, so neither the definition checker (jsonschema) nor
    the table validator (pandera) is loaded there."""
    seen: dict[str, list[str]] = {}
    shutdown = render.KernelSession.shutdown

    def ask_then_shutdown(self):
        reply: list[str] = []
        self.kc.execute_interactive(
            "import json, sys; print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))",
            store_history=False, timeout=60,
            output_hook=lambda msg: reply.append(msg["content"].get("text", "")))
        seen["modules"] = json.loads("".join(reply))
        shutdown(self)

    monkeypatch.setattr(render.KernelSession, "shutdown", ask_then_shutdown)
    result = render.render_child(SAMPLE, "C0002", out_dir=tmp_path, as_of=AS_OF)
    assert result.ok
    modules = set(seen["modules"])
    assert {"matplotlib", "pandas", "sensoryprofile"} <= modules  # the report was drawn here
    assert "jsonschema" not in modules
    assert "pandera" not in modules
    # the kernel starts without ipykernel's debugger (sensoryprofile.reports.kernel)
    assert not {"_pydevd_bundle", "pydevd"} & modules
