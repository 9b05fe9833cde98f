"""Report rendering speed: where the time goes, measured against the command-line
tools in the same run.

    .venv/bin/python benchmarks/reports.py            # 40 children, naive on 4
    .venv/bin/python benchmarks/reports.py --quick    # 6 children, naive on 2

Rows:
  floor          `papermill` then `jupyter nbconvert --to html` (two command-line
                 runs) on a notebook holding only a parameters cell and a print
  single report  `sensoryprofile report child C0002` (one command, one child)
  naive, per child  one `papermill` and one `jupyter nbconvert --no-input` per
                 child in a loop, measured on a few children and extrapolated
  batch --jobs 1 / --jobs 2  `sensoryprofile report children` on the same children
The breakdown comes from one single-report run: process start-up, kernel start
and imports, each notebook cell (papermill's own timings), HTML export.
Targets (issue #5): batch --jobs 2 at least 8x faster per report than the naive
loop; --jobs 2 at least 1.7x faster than --jobs 1; a single report no slower
than 1.5x the floor.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
SAMPLE = ROOT / "data" / "sample"
AS_OF = "2026-10-31"


def run(cmd: list[str], **kwargs) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True, text=True, **kwargs)
    return time.perf_counter() - start


def subset(n_children: int, folder: Path) -> list[str]:
    """A copy of the sample with its first n children (and their rows)."""
    shutil.copytree(SAMPLE, folder)
    children = pd.read_csv(folder / "children.csv", dtype=str, keep_default_na=False)
    keep = children.iloc[:n_children]
    keep.to_csv(folder / "children.csv", index=False)
    for name, key in (("assessments", "child_id"), ("goals", "child_id")):
        table = pd.read_csv(folder / f"{name}.csv", dtype=str, keep_default_na=False)
        table[table[key].isin(keep["child_id"])].to_csv(folder / f"{name}.csv", index=False)
    goals = pd.read_csv(folder / "goals.csv", dtype=str, keep_default_na=False)
    ratings = pd.read_csv(folder / "goal_ratings.csv", dtype=str, keep_default_na=False)
    ratings[ratings["goal_id"].isin(goals["goal_id"])].to_csv(folder / "goal_ratings.csv",
                                                              index=False)
    return keep["child_id"].tolist()


def floor(tmp: Path) -> float:
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell("child_id = 'C0001'")
    params.metadata["tags"] = ["parameters"]
    nb.cells = [params, nbformat.v4.new_code_cell("print(child_id)")]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    src = tmp / "floor.ipynb"
    nbformat.write(nb, src)
    t = run([str(BIN / "papermill"), str(src), str(tmp / "floor-out.ipynb"), "-p", "child_id",
             "C0002", "--no-progress-bar"])
    t += run([str(BIN / "jupyter"), "nbconvert", "--to", "html", str(tmp / "floor-out.ipynb")])
    return t


def naive(data: Path, children: list[str], tmp: Path) -> float:
    start = time.perf_counter()
    for child in children:
        out = tmp / f"naive-{child}.ipynb"
        run([str(BIN / "papermill"), str(ROOT / "notebooks" / "child_report.ipynb"), str(out),
             "-p", "data_dir", str(data), "-p", "child_id", child, "-p", "as_of", AS_OF,
             "--no-progress-bar", "--cwd", str(ROOT / "notebooks")])
        run([str(BIN / "jupyter"), "nbconvert", "--to", "html", "--no-input", str(out)])
    return time.perf_counter() - start


def breakdown(data: Path, tmp: Path) -> list[tuple[str, float]]:
    """One single report, timed by part (in this process, as the CLI does)."""
    t_import = run([sys.executable, "-c", "import sensoryprofile.cli, sensoryprofile.reports.render, "
                    "papermill, nbconvert"])  # a fresh process, as the CLI starts
    from sensoryprofile.reports.render import KernelSession, render_child

    t1 = time.perf_counter()
    session = KernelSession()
    t_kernel = time.perf_counter() - t1
    try:
        result = render_child(data, "C0002", out_dir=tmp / "breakdown", as_of=AS_OF,
                              session=session)
    finally:
        session.shutdown()
    nb = nbformat.read(tmp / "breakdown" / "children" / "C0002" / "report.ipynb", as_version=4)
    cells = [(c.source, c.metadata.get("papermill", {}).get("duration") or 0.0)
             for c in nb.cells if c.cell_type == "code"]
    setup = sum(d for s, d in cells if "ChildReport.build" in s)
    drawing = sum(d for s, d in cells if "plots.plot_" in s)
    other = sum(d for s, d in cells) - setup - drawing
    execute = result.timings["execute"]
    rows = [("CLI process start: Python + papermill/nbconvert/package", t_import),
            ("kernel process start (imports continue inside)", t_kernel),
            ("kernel imports + load data + build report (first cell)", setup),
            ("drawing charts (6 cells)", drawing),
            ("tables and text (other cells)", other),
            ("kernel warm-up imports + papermill (execute - cells)",
             execute - setup - drawing - other),
            ("HTML export (nbconvert)", result.timings["html"])]
    return rows


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    n_batch, n_naive = (6, 2) if args.quick else (40, 4)
    with tempfile.TemporaryDirectory() as tmpdir:
        tmp = Path(tmpdir)
        data = tmp / "data"
        children = subset(n_batch, data)
        cli = str(BIN / "sensoryprofile")
        t_floor = floor(tmp)
        t_single = run([cli, "report", "child", "C0002", "--data", str(data), "--out",
                        str(tmp / "single"), "--as-of", AS_OF])
        t_naive = naive(data, children[:n_naive], tmp) / n_naive
        t_jobs1 = run([cli, "report", "children", "--data", str(data), "--out",
                       str(tmp / "jobs1"), "--as-of", AS_OF, "--jobs", "1", "--quiet"])
        t_jobs2 = run([cli, "report", "children", "--data", str(data), "--out",
                       str(tmp / "jobs2"), "--as-of", AS_OF, "--jobs", "2", "--quiet"])
        parts = breakdown(data, tmp)

    per1, per2 = t_jobs1 / n_batch, t_jobs2 / n_batch
    print(f"{'measure':<52} {'seconds':>9} {'per report':>11}")
    print("-" * 74)
    rows = [("floor: papermill + nbconvert CLI, trivial notebook", t_floor, t_floor),
            ("single report: sensoryprofile report child", t_single, t_single),
            (f"naive loop, per child (measured on {n_naive})", t_naive, t_naive),
            (f"batch --jobs 1 ({n_batch} children)", t_jobs1, per1),
            (f"batch --jobs 2 ({n_batch} children)", t_jobs2, per2)]
    for label, total, per in rows:
        print(f"{label:<52} {total:>9.2f} {per:>11.2f}")
    print("\nWhere one report's time goes (in-process, kernel reused as in a batch worker):")
    for label, seconds in parts:
        print(f"  {label:<60} {seconds:>6.2f} s")
    checks = [("batch --jobs 2 >= 8x faster per report than naive", t_naive / per2 >= 8,
               f"{t_naive / per2:.1f}x"),
              ("--jobs 2 >= 1.7x faster than --jobs 1", t_jobs1 / t_jobs2 >= 1.7,
               f"{t_jobs1 / t_jobs2:.2f}x"),
              ("single report <= 1.5x the floor", t_single / t_floor <= 1.5,
               f"{t_single / t_floor:.2f}x")]
    print("\nTargets:")
    for label, ok, value in checks:
        print(f"  {'PASS' if ok else 'FAIL'}  {label}: {value}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
