"""Batches account for every child, stop cleanly on signals, and hold their
output folder; caseload side files land beside the report whatever the
working directory. Each test failed before its fix (issue 12)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from sensoryprofile import columns as C
from sensoryprofile.cli import main
from sensoryprofile.errors import OutputBusyError, UsageError
from sensoryprofile.reports.child import ChildReport
from sensoryprofile.reports.lock import LOCK_FILE, output_lock
from tests.paths import ROOT, small_clinic
from tests.processes import alive, descendants

AS_OF = "2026-09-30"


def _command(*args) -> list[str]:
    return [sys.executable, "-m", "sensoryprofile", *map(str, args)]




# ---------------------------------------------------------------------------
# every child accounted for
# ---------------------------------------------------------------------------
def _with_two_rejected(tmp_path: Path) -> Path:
    data = small_clinic(tmp_path / "data", 8)
    kids = pd.read_csv(data / "children.csv", dtype=str, keep_default_na=False)
    kids.loc[2, C.SEX] = "unknown"            # C0003: sex is F, M, X or blank
    kids.loc[5, C.REFERRAL_DATE] = "2099-01-01"  # C0006: referral in the future
    kids.to_csv(data / "children.csv", index=False)
    return data


@pytest.mark.slow
def test_batch_lists_children_rejected_by_validation(tmp_path, capsys):
    data = _with_two_rejected(tmp_path)
    out = tmp_path / "out"
    code = main(["report", "children", "--data", str(data), "--out", str(out), "--as-of", AS_OF,
                 "--quiet", "--jobs", "2"])
    text = capsys.readouterr().out
    assert code == 1  # before: 0, and "Rendered 6, failed 0"
    assert "Rendered 6 report(s), not rendered 2, failed 0" in text
    assert "NOT RENDERED C0003: not rendered: the child's row was rejected by validation " \
           "(sex is F, M, X or blank)" in text
    assert "NOT RENDERED C0006" in text and "date is in the future" in text
    index = (out / "index.html").read_text(encoding="utf-8")
    assert "C0003" in index and "C0006" in index
    assert sorted(p.name for p in (out / "children").iterdir()) == [
        "C0001", "C0002", "C0004", "C0005", "C0007", "C0008"]


def test_a_childs_report_notes_its_rejected_rows(tmp_path):
    from sensoryprofile.data.dataset import load_dataset

    data = small_clinic(tmp_path / "data", 3)
    assessments = pd.read_csv(data / "assessments.csv", dtype=str, keep_default_na=False)
    mine = assessments.index[assessments[C.CHILD_ID] == "C0002"]
    latest = mine[-1]
    assessments.loc[latest, C.DATE] = "2099-01-01"  # the latest questionnaire is rejected
    assessments.to_csv(data / "assessments.csv", index=False)
    report = ChildReport.build(load_dataset(data), "C0002", as_of=AS_OF)
    row = latest + 2  # the header is row 1
    assert (f"Left out of this report because of data problems: 1 questionnaire "
            f"(assessments.csv row {row}: date is in the future") in " ".join(report.notes)
    deidentified = ChildReport.build(load_dataset(data), "C0002", as_of=AS_OF, deidentify=True)
    assert ("Left out of this report because of data problems: 1 questionnaire."
            in deidentified.notes)


# ---------------------------------------------------------------------------
# signals
# ---------------------------------------------------------------------------
def _interrupt(tmp_path: Path, signum: int, *, group: bool, what: tuple = ("children",)):
    data = small_clinic(tmp_path / "data", 8)
    out = tmp_path / "out"
    scratch = tmp_path / "tmp"  # the run's temporary files land here (TMPDIR)
    scratch.mkdir()
    env = {**os.environ, "TMPDIR": str(scratch)}
    process = subprocess.Popen(_command("report", *what, "--data", data, "--out", out,
                                        "--as-of", AS_OF, "--jobs", "2", "--quiet"),
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env=env, start_new_session=True)
    children: set[int] = set()
    deadline = time.monotonic() + 240
    # wait until at least one report is published and workers are mid-batch
    while time.monotonic() < deadline:
        children |= descendants(process.pid)
        done = [p for p in (out / "children").glob("C*") if p.is_dir()] if (
            out / "children").exists() else []
        if done and len(children) >= 4:
            break
        time.sleep(0.1)
    children |= descendants(process.pid)
    assert len(children) >= 4  # two workers and their kernels at least
    sent = time.monotonic()
    if group:  # Ctrl-C in a terminal signals the whole foreground group
        os.killpg(process.pid, signum)
    else:
        process.send_signal(signum)
    stdout, stderr = process.communicate(timeout=60)
    seconds = time.monotonic() - sent
    time.sleep(0.5)
    return process.returncode, seconds, stdout, stderr, out, scratch, children


@pytest.mark.slow
@pytest.mark.parametrize(("signum", "code", "group"), [(signal.SIGTERM, 143, False),
                                                        (signal.SIGINT, 130, True)])
def test_a_signal_stops_the_batch_and_leaves_nothing(tmp_path, signum, code, group):
    returncode, seconds, stdout, stderr, out, scratch, children = _interrupt(
        tmp_path, signum, group=group)
    assert returncode == code, stderr
    assert seconds < 5, f"took {seconds:.1f} s to stop"
    assert "Traceback" not in stderr and "interrupted" in stderr
    assert [pid for pid in children if alive(pid)] == []  # no worker or kernel left
    left = [p.name for p in out.rglob("*") if ".partial" in p.name or p.name.endswith(".old")]
    assert left == []
    assert list(scratch.iterdir()) == []  # no kernel sockets or connection files
    index = (out / "index.html").read_text(encoding="utf-8")
    finished = sorted(p.name for p in (out / "children").iterdir())
    assert finished and all(f"children/{name}/report.html" in index for name in finished)
    assert "Rendered " in stdout and "not rendered" in stdout


@pytest.mark.slow
def test_a_signal_stops_report_all_with_its_clinic_reports(tmp_path):
    # `report all` renders the caseload report and the cohort analyses in a
    # kernel of its own while the workers render the children: SIGTERM ends
    # that kernel too, and nothing partial of the clinic's reports is left
    returncode, seconds, stdout, stderr, out, scratch, children = _interrupt(
        tmp_path, signal.SIGTERM, group=False, what=("all", "--cohort"))
    assert returncode == 143, stderr
    assert seconds < 5, f"took {seconds:.1f} s to stop"
    assert "Traceback" not in stderr and "interrupted" in stderr
    assert len(children) >= 5  # two workers, their kernels and the clinic's kernel
    assert [pid for pid in children if alive(pid)] == []
    left = [p.name for p in out.rglob("*") if ".partial" in p.name or p.name.endswith(".old")]
    assert left == []
    assert list(scratch.iterdir()) == []


# ---------------------------------------------------------------------------
# one run per output folder
# ---------------------------------------------------------------------------
def test_a_second_run_refuses_a_held_folder(tmp_path, capsys):
    out = tmp_path / "out"
    with output_lock(out):
        # another process: the lock is the operating system's, per open file
        result = subprocess.run(_command("report", "caseload", "--data", ROOT / "data" / "sample",
                                         "--out", out), capture_output=True, text=True,
                                timeout=120)
    assert result.returncode == 1
    assert "another sensoryprofile run is writing reports here (process " in result.stderr
    assert "--wait" in result.stderr and "Traceback" not in result.stderr
    assert (out / LOCK_FILE).exists()
    with output_lock(out), output_lock(out):  # re-entrant within a process
        pass


def test_waiting_for_a_held_folder(tmp_path):
    out = tmp_path / "out"
    holder = subprocess.Popen([sys.executable, "-c", (
        "import sys, time\n"
        "from sensoryprofile.reports.lock import output_lock\n"
        f"with output_lock({str(out)!r}):\n"
        "    print('held', flush=True)\n"
        "    time.sleep(2)\n")], stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "held"
    with pytest.raises(OutputBusyError), output_lock(out):
        pass
    start = time.monotonic()
    with output_lock(out, wait=True):
        waited = time.monotonic() - start
    holder.wait(timeout=30)
    assert waited > 0.5


def test_an_output_folder_that_cannot_be_written_is_named(tmp_path, capsys):
    in_the_way = tmp_path / "a-file"
    in_the_way.write_text("not a folder\n", encoding="ascii")
    for out in (in_the_way, in_the_way / "reports"):
        with pytest.raises(UsageError) as caught, output_lock(out):
            pass
        assert str(caught.value) == (f"{out}: cannot be used as the output folder: a file is "
                                     "in the way (the output must be a folder)")
    # through the command line: a usage error (exit 2), no traceback, nothing made
    code = main(["report", "children", "--data", str(ROOT / "data" / "sample"), "--out",
                 str(in_the_way / "reports"), "--quiet"])
    err = capsys.readouterr().err
    assert code == 2 and f"{in_the_way / 'reports'}: cannot be used as the output" in err
    assert "Traceback" not in err and "internal error" not in err
    assert in_the_way.read_text(encoding="ascii") == "not a folder\n"


# ---------------------------------------------------------------------------
# side files where the links point
# ---------------------------------------------------------------------------
@pytest.mark.slow
def test_caseload_files_land_beside_the_report_with_a_relative_out(tmp_path, monkeypatch):
    data = small_clinic(tmp_path / "data", 8)
    monkeypatch.chdir(tmp_path)
    before = sorted(p for p in (ROOT / "sensoryprofile").rglob("*") if "__pycache__" not in
                    p.parts)
    assert main(["report", "caseload", "--data", str(data), "--out", "rel-out",
                 "--as-of", AS_OF]) == 0
    folder = tmp_path / "rel-out" / "caseload"
    page = (folder / "report.html").read_text(encoding="utf-8")
    csv_files = sorted(p.name for p in folder.glob("*.csv"))
    assert len(csv_files) == 13
    for name in csv_files:
        assert name in page
    after = sorted(p for p in (ROOT / "sensoryprofile").rglob("*") if "__pycache__" not in
                   p.parts)
    assert after == before  # nothing written beside the notebooks
