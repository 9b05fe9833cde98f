"""Tests of the cohort report (sensoryprofile/reports/cohort.py) and its notebook.

Expected values come from outside the code under test (see the comments):
hand computations, published values, enumeration, scipy's own routines.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import nbformat
import numpy as np
import pandas as pd
import pytest

from sensoryprofile.data.dataset import load_dataset
from sensoryprofile.instruments import load_instrument
from sensoryprofile.reports import cohort as RC
from tests.paths import ROOT, SAMPLE

NOTEBOOK = ROOT / "notebooks" / "cohort_analysis.ipynb"


# ---------------------------------------------------------------------------
# reproducible exports and provenance
# ---------------------------------------------------------------------------
def _hashes(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def test_exports_are_byte_identical(tmp_path, dataset):
    first = RC.CohortReport.build(SAMPLE, n_boot=200, seed=5, dataset=dataset)
    second = RC.CohortReport.build(SAMPLE, n_boot=200, seed=5,
                                     dataset=load_dataset(SAMPLE))  # loaded afresh
    written = first.export(tmp_path / "one")
    second.export(tmp_path / "two")
    assert sorted(p.name for p in written) == sorted([*RC.CSV_FILES.values(),
                                                      "provenance.json"])
    for path in written:
        one = path.read_bytes()
        assert one == (tmp_path / "two" / path.name).read_bytes(), path.name
        assert b"\r" not in one
        assert not re.search(rb"\d{2}:\d{2}:\d{2}", one), path.name  # no timestamps
    text = (tmp_path / "one" / "internal_consistency.csv").read_text()
    # floats at most 10 significant digits
    for number in re.findall(r"-?\d+\.\d+(?:e-?\d+)?", text):
        assert len(re.sub(r"[^0-9]", "", number.split("e")[0]).lstrip("0")) <= 10
    assert first.export(None) == []


def test_provenance_hashes_every_input(analysis):
    record = analysis.provenance
    files = {f["path"]: f["sha256"] for f in record["inputs"]["files"]}
    expected = {p.relative_to(SAMPLE).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
                for p in SAMPLE.rglob("*") if p.is_file()}
    assert files == expected
    assert list(files) == sorted(files)
    inst = load_instrument("demo-child")
    canonical = json.dumps(inst.to_dict(), sort_keys=True, separators=(",", ":"),
                           ensure_ascii=False)
    by_id = {i["id"]: i for i in record["instruments"]}
    assert by_id["demo-child"]["sha256"] == hashlib.sha256(canonical.encode()).hexdigest()
    assert by_id["demo-child"]["version"] == inst.version
    assert set(record["packages"]) == {"python", "sensoryprofile", "numpy", "pandas", "scipy",
                                       "matplotlib", "papermill", "nbconvert"}
    assert record["analysis"]["seed"] == analysis.seed
    assert record["analysis"]["n_boot"] == 200
    shown = analysis.provenance_shown()
    assert len(shown) == len(files) + len(by_id) + len(record["analysis"]) + 8



# ---------------------------------------------------------------------------
# the notebook
# ---------------------------------------------------------------------------
def test_notebook_is_layout_only():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code[0].metadata.get("tags") == ["parameters"]
    params = code[0].source
    for name in ("data_dir", "instrument", "seed", "n_boot", "output_dir"):
        assert re.search(rf"^{name} = ", params, re.M), name
    for cell in code:
        assert cell.outputs == [] and cell.execution_count is None
        assert not re.search(r"^\s*(def|class) ", cell.source, re.M)
        assert ".merge(" not in cell.source and "pd." not in cell.source
    sizes = re.findall(r"figsize=\((\d+(?:\.\d+)?),", "\n".join(c.source for c in code))
    assert sizes and all(float(w) <= 9 for w in sizes)
    joined = "\n".join(c.source for c in code)
    assert "plots.apply_style()" in joined and 'set_matplotlib_formats("svg")' in joined


@pytest.mark.slow
def test_rendered_notebook_is_reproducible(tmp_path, monkeypatch):
    from sensoryprofile.reports.render import render_cohort

    monkeypatch.chdir(ROOT)
    first = render_cohort("data/sample", out_dir=tmp_path / "one", n_boot=200)
    render_cohort("data/sample", out_dir=tmp_path / "two", n_boot=200)
    one, two = (tmp_path / "one" / "cohort" / "demo-child",
                tmp_path / "two" / "cohort" / "demo-child")
    assert first.ok and first.folder == one
    names = sorted(p.name for p in one.glob("*.csv"))
    assert names == sorted(RC.CSV_FILES.values())
    for name in [*names, "provenance.json"]:
        assert (one / name).read_bytes() == (two / name).read_bytes(), name
    record = json.loads((one / "provenance.json").read_text())
    hashes = {f["path"]: f["sha256"] for f in record["inputs"]["files"]}
    assert hashes == {p.relative_to(SAMPLE).as_posix(): hashlib.sha256(
        p.read_bytes()).hexdigest() for p in SAMPLE.rglob("*") if p.is_file()}
    assert record["analysis"]["n_boot"] == 200
    page = (one / "report.html").read_text(encoding="utf-8")
    expected = RC.CohortReport.build(SAMPLE, n_boot=200).consistency
    for value in expected["alpha"]:
        assert f">{value:.3f}<" in page
    assert "Traceback" not in page
    executed = nbformat.read(one / "report.ipynb", as_version=4)
    assert not [o for c in executed.cells if c.cell_type == "code" for o in c.outputs
                if o.output_type == "error"]
    csv_alpha = pd.read_csv(one / "internal_consistency.csv")["alpha"]
    np.testing.assert_allclose(csv_alpha, expected["alpha"], rtol=1e-9)
