"""The package as a user installs it: a wheel in a fresh virtual environment,
rendering every kind of report from a folder outside the repository (the
notebooks and templates ship inside the package)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.paths import ROOT, SAMPLE


def _run(args, cwd, timeout=900):
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    result = subprocess.run([str(a) for a in args], cwd=cwd, env=env, capture_output=True,
                            text=True, timeout=timeout)
    assert result.returncode == 0, f"{args}\n{result.stdout}\n{result.stderr}"
    return result.stdout


def _not_sources(folder, names) -> set[str]:
    """What a copy of the sources leaves out: developers' caches and outputs."""
    top = {"build", "dist", "reports"} if Path(folder) == ROOT else set()
    return {n for n in names if n in top or n in {".git", "__pycache__", ".hypothesis"}
            or n.startswith(".venv") or n.endswith((".egg-info", "_cache"))}


def _ours(path) -> bool:
    """Files a developer's own runs make (caches, the venv, rendered reports)."""
    skip = {".git", ".venv", "__pycache__", ".pytest_cache", ".ruff_cache", ".hypothesis",
            "reports", ".import_linter_cache"}
    return bool(skip & set(path.relative_to(ROOT).parts))


@pytest.mark.slow
def test_wheel_in_a_fresh_environment_renders_every_report(tmp_path):
    # build from a copy: building writes build/ and *.egg-info beside the sources
    source = tmp_path / "source"
    shutil.copytree(ROOT, source, ignore=_not_sources)
    dist = tmp_path / "dist"
    _run([sys.executable, "-m", "pip", "wheel", source, "--no-deps", "--quiet", "-w", dist],
         cwd=tmp_path)
    (wheel,) = dist.glob("sensoryprofile-*.whl")
    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", venv], cwd=tmp_path)
    python, command = venv / "bin" / "python", venv / "bin" / "sensoryprofile"
    _run([python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "-c",
          ROOT / "requirements.lock", wheel], cwd=tmp_path)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    # the installed package, not the source tree, is what runs
    where = _run([python, "-c", "import sensoryprofile; print(sensoryprofile.__file__)"],
                 cwd=elsewhere)
    assert where.strip().startswith(str(venv)) and str(ROOT) not in where
    before = sorted(p.relative_to(ROOT) for p in ROOT.rglob("*") if not _ours(p))
    for args in (["report", "child", "C0002", "--as-of", "2026-09-30"],
                 ["report", "family", "C0002", "--lang", "es", "--as-of", "2026-09-30"],
                 ["report", "caseload", "--as-of", "2026-09-30"],
                 ["report", "cohort", "--n-boot", "100"]):
        _run([command, *args, "--data", SAMPLE, "--out", "out"], cwd=elsewhere)
    out = elsewhere / "out"
    # one cohort analysis per form in the data (forms are never pooled)
    for page in ("children/C0002/report.html", "caseload/report.html",
                 "cohort/demo-child/report.html", "cohort/demo-toddler/report.html",
                 "family/C0002/es/report.html", "index.html"):
        text = (out / page).read_text(encoding="utf-8")
        assert "Traceback" not in text, page
    # the family report found its Spanish catalog, ideas and template in the wheel
    family = (out / "family" / "C0002" / "es" / "report.html").read_text(encoding="utf-8")
    assert '<html lang="es">' in family and "Ideas para casa" in family
    # the caseload report's CSV files sit beside it, where its links point
    links = (out / "caseload" / "report.html").read_text(encoding="utf-8")
    for name in ("children_without_intake.csv", "goal_outcomes.csv"):
        assert re.search(rf"href=[\"']{name}[\"']", links), name
        assert (out / "caseload" / name).is_file()
    assert (out / "cohort" / "demo-child" / "provenance.json").is_file()
    index = (out / "index.html").read_text(encoding="utf-8")
    assert 'href="cohort/demo-child/report.html"' in index
    assert 'href="cohort/demo-toddler/report.html"' in index
    # without the `dask` extra, the cluster flags say which extra to install (exit 2)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    no_dask = subprocess.run([str(command), "report", "children", "--data", str(SAMPLE),
                              "--out", "out-dask", "--dask-workers", "2"], cwd=elsewhere,
                             env=env, capture_output=True, text=True, timeout=300)
    assert no_dask.returncode == 2, no_dask.stderr
    assert "install the `dask` extra: pip install 'sensoryprofile[dask]'" in no_dask.stderr
    assert "Traceback" not in no_dask.stderr and not (elsewhere / "out-dask").exists()
    # nothing was written into the source tree
    after = sorted(p.relative_to(ROOT) for p in ROOT.rglob("*") if not _ours(p))
    assert after == before
