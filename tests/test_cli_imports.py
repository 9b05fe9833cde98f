"""The command line of the imports: import redcap, import fhir, export fhir.

Exit codes (cli.py): 0 nothing to report, 1 data problems, 2 usage errors.
The damaged-export cases are in tests/data/test_redcap.py and test_fhir.py.
"""

from __future__ import annotations

import subprocess
import sys

from sensoryprofile.cli import main
from tests.paths import MESSY, ROOT

REDCAP = ROOT / "data" / "sample-redcap"
BUNDLE = ROOT / "data" / "sample-fhir" / "bundle.json"


def run(argv, capsys):
    try:
        code = main([str(a) for a in argv])
    except SystemExit as exc:
        code = exc.code
    out, err = capsys.readouterr()
    return code, out, err


def test_import_redcap_prints_the_validate_accounting(tmp_path, capsys):
    code, out, err = run(["import", "redcap", REDCAP / "records.csv", "--dictionary",
                          REDCAP / "dictionary.csv", "--mapping", REDCAP / "mapping.yaml",
                          "--out", tmp_path / "clinic"], capsys)
    assert (code, err) == (0, "")
    assert out.splitlines()[0] == (f"wrote a dataset to {tmp_path / 'clinic'}: 60 children, "
                                   "202 assessments, 196 goals, 918 goal ratings accepted")
    assert "Rows read = accepted + rejected:" in out
    assert out.rstrip().endswith("No problems found.")
    assert sorted(p.name for p in (tmp_path / "clinic").iterdir()) == [
        "assessments.csv", "children.csv", "goal_ratings.csv", "goals.csv"]
    # the dataset validates as it is
    code, out, _ = run(["validate", tmp_path / "clinic"], capsys)
    assert code == 0 and "No problems found." in out


def test_import_redcap_usage_errors(tmp_path, capsys):
    code, _, err = run(["import", "redcap", REDCAP / "records.csv", "--out", tmp_path / "o"],
                       capsys)
    assert code == 2
    assert "needs --dictionary FILE" in err
    code, _, err = run(["import", "redcap", REDCAP / "records.csv", "--dictionary",
                        REDCAP / "dictionary.csv", "--out", tmp_path / "o"], capsys)
    assert code == 2
    assert "--mapping FILE" in err
    code, _, err = run(["import", "redcap", REDCAP, "--out", tmp_path / "o", "--min-status",
                        "done"], capsys)
    assert code == 2
    assert "invalid choice: 'done'" in err


def test_mapping_that_does_not_fit_lists_every_problem(tmp_path, capsys):
    text = (REDCAP / "mapping.yaml").read_text()
    bad = text.replace("date_of_birth: dob", "date_of_birth: birth_date").replace(
        "form: goal_review", "form: reviews")
    (tmp_path / "m.yaml").write_text(bad)
    code, out, err = run(["import", "redcap", REDCAP, "--mapping", tmp_path / "m.yaml",
                          "--out", tmp_path / "o"], capsys)
    assert code == 1
    assert "Traceback" not in out + err
    assert "m.yaml: the mapping does not fit dictionary.csv (2 problem(s))" in err
    assert "children.fields.date_of_birth: 'birth_date' is not a field of dictionary.csv" in err
    assert "goal_ratings.form: 'reviews' is not a form of dictionary.csv" in err
    assert not (tmp_path / "o").exists()


def test_import_fhir_missing_input(tmp_path, capsys):
    code, _, err = run(["import", "fhir", tmp_path / "none.json", "--out", tmp_path / "o"],
                       capsys)
    assert code == 1
    assert "no such FHIR file or folder" in err


def test_export_fhir_of_a_dataset_with_problems(tmp_path, capsys):
    """The accepted rows are exported; the problems are pointed to (exit 1)."""
    code, out, err = run(["export", "fhir", MESSY, "--out", tmp_path / "b.json",
                          "--today", "2026-10-01"], capsys)
    assert code == 1
    assert out.startswith(f"wrote a FHIR R4 Bundle to {tmp_path / 'b.json'}")
    assert "data problem(s)" in err and "sensoryprofile validate" in err
    assert (tmp_path / "b.json").exists()


def test_export_fhir_help_and_usage(capsys):
    code, out, _ = run(["export", "fhir", "--help"], capsys)
    assert code == 0
    assert out.startswith("usage: sensoryprofile export fhir")
    code, _, err = run(["export", "fhir", "data/sample"], capsys)
    assert code == 2
    assert "--out" in err


def test_commands_that_do_not_use_fhir_do_not_import_it():
    """`--version` and `validate` stay fast: fhir.resources is imported lazily."""
    code = ("import sys\n"
            "from sensoryprofile.cli import main\n"
            "main(['--version'])\n"
            "main(['validate', 'data/sample'])\n"
            "bad = sorted(m for m in sys.modules if m.startswith(('fhir', 'jupyter', "
            "'nbconvert', 'papermill')))\n"
            "print('loaded:', bad)\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=ROOT, check=False)
    assert "loaded: []" in done.stdout, done.stdout + done.stderr


# ---------------------------------------------------------------------------
# the REDCap API route (PyCap): no server can be reached here, so PyCap's
# Project is replaced by a stand-in that serves the sample's files
# ---------------------------------------------------------------------------
class _FakeRedcapError(Exception):
    pass


def _fake_pycap(monkeypatch, calls: dict, *, fail: str | None = None):
    import types

    class Project:
        def __init__(self, url, token):
            calls["init"] = (url, token)
            if fail:
                raise _FakeRedcapError(fail)

        def export_metadata(self, format_type):
            calls["metadata"] = format_type
            return (REDCAP / "dictionary.csv").read_text()

        def export_records(self, **kwargs):
            calls["records"] = kwargs
            return (REDCAP / "records.csv").read_text()

    module = types.ModuleType("redcap")
    module.Project, module.RedcapError = Project, _FakeRedcapError
    monkeypatch.setitem(sys.modules, "redcap", module)


def test_import_through_the_api(tmp_path, capsys, monkeypatch):
    calls: dict = {}
    _fake_pycap(monkeypatch, calls)
    monkeypatch.setenv("REDCAP_API_TOKEN", "0123456789ABCDEF")
    code, out, err = run(["import", "redcap", "--api-url", "https://redcap.example/api/",
                          "--mapping", REDCAP / "mapping.yaml", "--out", tmp_path / "o",
                          "--keep-export", tmp_path / "export"], capsys)
    assert code == 0, out + err
    assert calls["init"] == ("https://redcap.example/api/", "0123456789ABCDEF")
    assert calls["metadata"] == "csv"
    # raw codes, raw headers, unique event names: the files the file route reads
    assert calls["records"] == {"format_type": "csv", "raw_or_label": "raw",
                                "raw_or_label_headers": "raw", "event_name": "unique",
                                "export_checkbox_labels": False}
    assert "60 children, 202 assessments, 196 goals, 918 goal ratings accepted" in out
    assert (tmp_path / "export" / "records.csv").read_text() == (
        REDCAP / "records.csv").read_text()
    assert "0123456789ABCDEF" not in out + err


def test_api_errors_never_show_the_token(tmp_path, capsys, monkeypatch):
    _fake_pycap(monkeypatch, {}, fail="401 Client Error for token=SECRETTOKEN42")
    monkeypatch.setenv("REDCAP_API_TOKEN", "SECRETTOKEN42")
    code, out, err = run(["import", "redcap", "--api-url", "https://redcap.example/api/",
                          "--mapping", REDCAP / "mapping.yaml", "--out", tmp_path / "o"],
                         capsys)
    assert code == 1
    assert "REDCap API at https://redcap.example/api/: _FakeRedcapError: 401 Client Error " \
           "for token=(token)" in err
    assert "SECRETTOKEN42" not in out + err


def test_api_needs_a_token_in_the_environment(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("REDCAP_API_TOKEN", raising=False)
    code, _, err = run(["import", "redcap", "--api-url", "https://redcap.example/api/",
                        "--mapping", REDCAP / "mapping.yaml", "--out", tmp_path / "o"], capsys)
    assert code == 2
    assert "REDCAP_API_TOKEN" in err


def test_api_arguments_fit_pycap_when_installed():
    """The keyword arguments sent are PyCap's own (checked when PyCap is installed)."""
    import inspect

    import pytest

    redcap = pytest.importorskip("redcap")
    from sensoryprofile.data.redcap import API_RECORDS

    params = inspect.signature(redcap.Project.export_records).parameters
    assert set(API_RECORDS) <= set(params)
    assert "format_type" in inspect.signature(redcap.Project.export_metadata).parameters
