"""The command line: instruments list/show/check, score, demo, exit codes.

Exit codes (cli.py): 0 success, 1 data problems, 2 usage errors. Usage errors
found by argparse raise SystemExit(2); the helper below turns both into a code.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

import sensoryprofile
from sensoryprofile import columns as C
from sensoryprofile.cli import main
from sensoryprofile.data.assessments import score_assessments
from sensoryprofile.data.tables import read_table
from tests.paths import FIXTURES

CHECKS = FIXTURES / "checks"


def run(argv, capsys):
    """(exit code, stdout, stderr) of ``sensoryprofile ARGV``."""
    try:
        code = main([str(a) for a in argv])
    except SystemExit as exc:
        code = exc.code
    out, err = capsys.readouterr()
    return code, out, err


def child_csv(path: Path, rows: list[dict]) -> Path:
    """Write an assessments CSV of demo-child rows (all items 3 unless given)."""
    full = []
    for row in rows:
        items = {f"dc_{i:03d}": 3 for i in range(1, 81)}
        items.update({k: v for k, v in row.items() if k.startswith("dc_")})
        meta = {k: v for k, v in row.items() if not k.startswith("dc_")}
        full.append(meta | items)
    pd.DataFrame(full).to_csv(path, index=False)
    return path


@pytest.fixture(scope="module", autouse=True)
def version_process():
    """`python -m sensoryprofile --version`, started before the first test of this
    module so that the child interpreter's start-up (seconds: it imports pandas)
    overlaps the in-process tests; :func:`test_version_subprocess` collects it."""
    proc = subprocess.Popen([sys.executable, "-m", "sensoryprofile", "--version"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    yield proc
    if proc.poll() is None:
        proc.kill()
    proc.communicate()


# ---------------------------------------------------------------------------
# instruments
# ---------------------------------------------------------------------------
def test_instruments_list(capsys, monkeypatch):
    monkeypatch.setenv("SENSORYPROFILE_INSTRUMENTS", "")
    code, out, err = run(["instruments", "list"], capsys)
    assert code == 0
    assert err == ""
    lines = out.splitlines()
    assert lines[0].split() == ["id", "version", "respondent", "ages", "(months)", "items",
                                "scores", "clinical", "use", "status", "source"]
    assert lines[1].split() == ["demo-child", "1.0", "caregiver", "36-179", "80", "13", "NO",
                                "(demonstration)", "ok", "shipped", "with", "the", "package"]
    assert lines[2].split() == ["demo-toddler", "1.0", "caregiver", "7-35", "32", "10", "NO",
                                "(demonstration)", "ok", "shipped", "with", "the", "package"]
    assert "Clinic forms are read from: no folder" in out
    assert "sensoryprofile instruments check FILE" in out


def test_instruments_show_demo_child(capsys):
    code, out, err = run(["instruments", "show", "demo-child"], capsys)
    assert code == 0
    assert err == ""
    assert out.splitlines()[0] == ("Demo Child Sensory Questionnaire (demonstration, not for "
                                   "clinical use)")
    assert "DEMONSTRATION FORM: not validated, not for clinical use." in out
    assert "ages 36-179 months, direction higher_more" in out
    assert "does not apply: 0, counted as 0" in out
    assert "r=0.88 (test-retest), SD 8.5" in out  # seeking's reliability
    assert "36-71 months: 13 score(s), mean/SD" in out
    assert "dc_001" not in out  # items only with --items


def test_instruments_show_items_and_toddler(capsys):
    code, out, _ = run(["instruments", "show", "demo-toddler", "--items"], capsys)
    assert code == 0
    assert "does not apply: 9, excluded (like a blank)" in out
    assert "31-35 months: no norms (No norms collected at this age in the demonstration " \
           "sample.)" in out
    assert "7-12 months: 4 score(s), cut table" in out
    assert "dt_32" in out


def test_instruments_show_a_clinical_file_has_no_demo_banner(capsys):
    with pytest.warns(UserWarning):  # tiny-more.yaml has an unused item
        code, out, _ = run(["instruments", "show", CHECKS / "tiny-more.yaml"], capsys)
    assert code == 0
    assert "DEMONSTRATION" not in out
    assert "Tiny test form" in out


def test_instruments_show_unknown(capsys):
    code, out, err = run(["instruments", "show", "demo-adult"], capsys)
    assert code == 1
    assert out == ""
    assert "unknown instrument 'demo-adult'" in err
    assert "Traceback" not in err


def test_instruments_check_valid_file(capsys):
    code, out, err = run(["instruments", "check", FIXTURES / "tiny-reverse.yaml"], capsys)
    assert code == 0
    assert out.strip() == "tiny-reverse.yaml: valid (6 items, 3 scores, 2 norm bands)"
    assert err == ""


def test_instruments_check_valid_file_with_warning(capsys):
    code, out, _ = run(["instruments", "check", CHECKS / "tiny-more.yaml"], capsys)
    assert code == 0
    assert out.splitlines() == [
        "warning: tiny-more.yaml: items[3]: item 'tm_4' is in no score and no section: it is "
        "collected but never used",
        "tiny-more.yaml: valid (4 items, 1 scores, 1 norm bands), 1 warning(s)",
    ]


def test_instruments_check_invalid_file_lists_all_three(capsys):
    code, out, _ = run(["instruments", "check", CHECKS / "broken-three.yaml"], capsys)
    assert code == 1
    assert out.splitlines() == [
        "error: broken-three.yaml: items[1].quadrant: 'seekng' is not one of seeking, avoiding, "
        "sensitivity, registration",
        "error: broken-three.yaml: norms[1].ages: gap between the previous band [12, 35] and "
        "[37, 59]: ages 36..36 months have no band",
        "error: broken-three.yaml: reliability.totl: unknown score 'totl'",
        "broken-three.yaml: invalid, 3 problem(s)",
    ]


def test_instruments_check_shipped_file(capsys):
    path = Path(sensoryprofile.__file__).parent / "instruments" / "demo-toddler.yaml"
    code, out, _ = run(["instruments", "check", path], capsys)
    assert code == 0
    assert out.strip() == "demo-toddler.yaml: valid (32 items, 10 scores, 5 norm bands)"


def test_instruments_check_invalid_yaml(tmp_path, capsys):
    path = tmp_path / "form.yaml"
    path.write_text("id: x\nid: y\n", encoding="utf-8")
    code, out, err = run(["instruments", "check", path], capsys)
    assert code == 1
    assert "form.yaml: line 2: key 'id' is given twice" in err
    assert "Traceback" not in err


def test_instruments_check_missing_file(tmp_path, capsys):
    code, _, err = run(["instruments", "check", tmp_path / "nope.yaml"], capsys)
    assert code == 1
    assert err.strip() == f"sensoryprofile: {tmp_path / 'nope.yaml'}: no such instrument " \
                          "definition file"


# ---------------------------------------------------------------------------
# score
# ---------------------------------------------------------------------------
def test_score_prints_a_table(tmp_path, capsys):
    path = child_csv(tmp_path / "assessments.csv", [
        {C.ASSESSMENT_ID: "A1", C.CHILD_ID: "C1", C.INSTRUMENT: "demo-child",
         C.AGE_MONTHS: 60}])
    code, out, err = run(["score", path], capsys)
    assert code == 0, err
    assert err == ""
    lines = out.splitlines()
    assert lines[0].split() == ["assessment", "instrument", "score", "raw", "age", "(m)", "z",
                                "pct", "classification", "note"]
    assert len(lines) == 1 + 13
    # seeking: 15 x 3 = 45; z = (45 - 38.2)/9.0 = +0.76; pct = Phi(0.7556) = 78 (77.5 rounded)
    assert lines[1].split() == ["A1", "demo-child", "seeking", "45.0", "60", "+0.76", "78",
                                "Just", "Like", "the", "Majority", "of", "Others"]
    # avoiding: z = (45 - 35.1)/8.2 = +1.21; pct = Phi(1.2073) = 89 (88.6 rounded)
    assert lines[2].split() == ["A1", "demo-child", "avoiding", "45.0", "60", "+1.21", "89",
                                "More", "Than", "Others"]


def test_score_with_instrument_option_and_children(tmp_path, capsys):
    path = child_csv(tmp_path / "visits.csv", [
        {C.ASSESSMENT_ID: "A1", C.CHILD_ID: "C1", C.DATE: "2023-03-15", "dc_001": ""}])
    kids = tmp_path / "children.csv"
    pd.DataFrame({C.CHILD_ID: ["C1"], C.DATE_OF_BIRTH: ["2020-03-15"]}).to_csv(kids,
                                                                               index=False)
    code, out, err = run(["score", path, "--instrument", "demo-child", "--children", kids],
                         capsys)
    assert code == 0, err
    seeking = next(line for line in out.splitlines() if " seeking " in line)
    # age 36 months on the third birthday; dc_001 blank: 14 x 3 x 15/14 = 45, prorated
    assert seeking.split()[:6] == ["A1", "demo-child", "seeking", "45.0", "36", "+0.76"]
    assert seeking.endswith("(prorated)")


def test_score_out_writes_the_same_values(tmp_path, capsys):
    path = child_csv(tmp_path / "assessments.csv", [
        {C.ASSESSMENT_ID: "A1", C.CHILD_ID: "C1", C.INSTRUMENT: "demo-child",
         C.AGE_MONTHS: 60, "dc_001": "", "dc_005": "5"},
        {C.ASSESSMENT_ID: "A2", C.CHILD_ID: "C2", C.INSTRUMENT: "demo-child",
         C.AGE_MONTHS: 130, "dc_002": "Frequently", "dc_061": "0"},
    ])
    out_path = tmp_path / "out" / "scores.csv"
    code, out, err = run(["score", path, "--out", out_path], capsys)
    assert code == 0, err
    assert out.strip() == f"wrote 26 score rows for 2 assessment(s) to {out_path}"
    written = pd.read_csv(out_path)
    expected = score_assessments(read_table(path))
    assert list(written.columns) == C.SCORE_COLUMNS
    assert len(written) == len(expected) == 26  # 2 x 13
    assert written[C.ASSESSMENT_ID].tolist() == expected[C.ASSESSMENT_ID].tolist()
    assert written[C.SCORE].tolist() == expected[C.SCORE].astype(str).tolist()
    for col in (C.RAW, C.Z, C.PERCENTILE, C.AGE_MONTHS):
        pd.testing.assert_series_equal(written[col], expected[col].astype(float),
                                       check_names=False)
    assert written[C.CLASSIFICATION].fillna("").tolist() == expected[C.CLASSIFICATION].astype(
        object).fillna("").tolist()
    assert written[C.VALID].tolist() == expected[C.VALID].tolist()
    # and by hand: A1 seeking = (13 x 3 + 5) x 15/14 = 47.142857
    a1_seeking = written[(written[C.ASSESSMENT_ID] == "A1") & (written[C.SCORE] == "seeking")]
    assert a1_seeking[C.RAW].iloc[0] == pytest.approx(47.142857, abs=1e-6)
    # A2 (130 months, band 120-179) conduct: 5 x 3 + 0 = 15; z = (15 - 13.6)/4.8 = 0.291667
    a2_conduct = written[(written[C.ASSESSMENT_ID] == "A2") & (written[C.SCORE] == "conduct")]
    assert a2_conduct[C.RAW].iloc[0] == 15
    assert a2_conduct[C.Z].iloc[0] == pytest.approx(0.291667, abs=1e-6)


def test_score_reads_a_no_dates_extract(tmp_path, capsys):
    # An export with --no-dates gives days (date_day) and ages (age_months) instead
    # of dates: score reported date_day as "column belongs to no known instrument"
    # (exit 1) and left the dates blank. Day 44998 counts from 1900-01-01.
    path = child_csv(tmp_path / "assessments.csv", [
        {C.ASSESSMENT_ID: "A1", C.CHILD_ID: "C1", C.INSTRUMENT: "demo-child",
         "date_day": 44998, C.AGE_MONTHS: 60}])
    out_path = tmp_path / "scores.csv"
    code, out, err = run(["score", path, "--out", out_path], capsys)
    assert (code, err) == (0, "")
    written = pd.read_csv(out_path)
    # 1900-01-01 + 44998 days = 2023-03-15 (datetime.date(1900, 1, 1) + timedelta(44998))
    assert set(written[C.DATE]) == {"2023-03-15"}
    assert set(written[C.AGE_MONTHS]) == {60}


def test_score_shows_no_name_typed_into_an_assessment(tmp_path, capsys):
    # A child's name typed into the instrument, respondent or child_id cell was
    # printed in the problem ("unknown instrument 'Alder Brook': ...") and echoed
    # in the score table, on screen and in the CSV.
    path = child_csv(tmp_path / "assessments.csv", [
        {C.ASSESSMENT_ID: "A1", C.CHILD_ID: "C1", C.INSTRUMENT: "Alder Brook",
         C.DATE: "2023-03-15"},
        {C.ASSESSMENT_ID: "A2", C.CHILD_ID: "Alder Brook", C.INSTRUMENT: "demo-child",
         C.RESPONDENT: "alder brook", C.DATE: "2023-03-15"}])
    kids = tmp_path / "children.csv"
    pd.DataFrame({C.CHILD_ID: ["C1"], C.DATE_OF_BIRTH: ["2020-03-15"],
                  C.DISPLAY_NAME: ["Alder Brook"]}).to_csv(kids, index=False)
    out_path = tmp_path / "scores.csv"
    for argv in (["score", path, "--children", kids],
                 ["score", path, "--children", kids, "--out", out_path]):
        code, out, err = run(argv, capsys)
        assert code == 1
        assert "alder" not in (out + err).lower()
    assert "unknown instrument (hidden: identifying): an instrument is named by its id" in err
    written = out_path.read_text()
    assert "alder" not in written.lower()
    scores = pd.read_csv(out_path)
    # A1: a placeholder row whose instrument and reason are hidden; A2: 13 scores
    assert scores[C.INSTRUMENT].iloc[0] == "(hidden: identifying)"
    assert scores[C.INVALID_REASON].iloc[0] == "unknown instrument (hidden: identifying)"
    assert set(scores[C.CHILD_ID].iloc[1:]) == {"(hidden: identifying)"}
    assert len(scores) == 1 + 13


@pytest.mark.parametrize("command", ["validate", "score", "goals", "change"])
def test_out_naming_a_folder_is_a_usage_error(tmp_path, capsys, command):
    # --out naming a folder (or a place no file can be made) ended in "internal
    # error (IsADirectoryError ...). This is a bug in sensoryprofile", exit 1.
    from tests.paths import small_clinic

    data = small_clinic(tmp_path / "clinic", 2)
    target = data / "assessments.csv" if command == "score" else data
    (tmp_path / "folder").mkdir()
    code, out, err = run([command, target, "--out", tmp_path / "folder"], capsys)
    assert code == 2
    assert err.strip().endswith(f"{tmp_path / 'folder'}: is a folder; give the name of a "
                                "file to write")
    code, out, err = run([command, target, "--out", "/proc/nowhere/x.csv"], capsys)
    assert code == 2
    assert "/proc/nowhere/x.csv: cannot be written (" in err
    assert "internal error" not in err


def test_score_exit_1_on_data_problems(tmp_path, capsys):
    path = child_csv(tmp_path / "assessments.csv", [
        {C.ASSESSMENT_ID: "A1", C.CHILD_ID: "C1", C.INSTRUMENT: "demo-child",
         C.AGE_MONTHS: 60, "dc_001": "7"}])
    code, out, err = run(["score", path], capsys)
    assert code == 1
    assert "seeking" in out  # the table is still printed
    assert err.splitlines()[1:] == [
        "1 problem(s) in the input:",
        "  assessments.csv row 2 (assessment_id=A1), column dc_001: value '7': not on "
        "demo-child's response scale; allowed: 0, 1, 2, 3, 4, 5 (or their labels) "
        "[score invalidated]",
    ]


def test_score_without_instrument_column_or_option_is_a_data_problem(tmp_path, capsys):
    # the file lacks a column it needs: a data problem (exit 1), not a usage error (2)
    path = child_csv(tmp_path / "assessments.csv", [
        {C.ASSESSMENT_ID: "A1", C.CHILD_ID: "C1", C.AGE_MONTHS: 60}])
    code, out, err = run(["score", path], capsys)
    assert code == 1
    assert err.strip() == ("sensoryprofile: assessments.csv: no `instrument` column and no "
                           "instrument given; add an `instrument` column or pass --instrument "
                           "ID_OR_FILE")


def test_score_missing_file_no_traceback(tmp_path, capsys):
    missing = tmp_path / "nope.csv"
    code, out, err = run(["score", missing], capsys)
    assert code in (1, 2)
    assert "nope.csv" in err
    assert "Traceback" not in err
    assert out == ""


@pytest.mark.parametrize("argv", [
    ["bogus"],                      # unknown subcommand
    [],                             # no subcommand
    ["score"],                      # missing argument
    ["instruments"],                # missing action
    ["instruments", "show"],        # missing instrument
    ["score", "x.csv", "--bogus"],  # unknown option
])
def test_usage_errors_exit_2(argv, capsys):
    code, out, err = run(argv, capsys)
    assert code == 2
    assert "usage: sensoryprofile" in err
    assert "error:" in err
    assert "Traceback" not in err


def test_unknown_subcommand_message(capsys):
    code, _, err = run(["bogus"], capsys)
    assert code == 2
    assert "invalid choice: 'bogus'" in err


def test_demo(capsys):
    code, out, err = run(["demo"], capsys)
    assert code == 0
    assert err == ""
    assert "== Demo Child Sensory Questionnaire" in out
    assert "== Demo Toddler Sensory Questionnaire" in out
    assert "EX-1" in out and "EX-2" in out


def test_version_subprocess(version_process):
    out, err = version_process.communicate(timeout=120)
    assert version_process.returncode == 0
    assert out.strip() == f"sensoryprofile {sensoryprofile.__version__}"
    assert err == ""
