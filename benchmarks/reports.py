"""Report rendering speed: one report from a cold command against its floor,
command start-up, batches, the sample clinic (``make demo``) and the naive
loop, measured in the same run.

    .venv/bin/python benchmarks/reports.py            # 40 children, naive on 4, 5 rounds
    .venv/bin/python benchmarks/reports.py --quick    # 6 children, naive on 2, 2 rounds

Rows:
  floor          ``benchmarks/report_floor.py`` in a fresh process: import
                 papermill and nbconvert, execute a notebook holding only a
                 parameters cell and a print (papermill starts the kernel and
                 waits for it), export it to HTML with nbconvert (code hidden),
                 write the file. The least any notebook-rendered report costs,
                 in the same environment.
  single report  ``sensoryprofile report child C0002`` (a cold command: one
                 child, the full report: C0002 has seven charts, its caregiver
                 and teacher forms side by side among them).
  --version      ``sensoryprofile --version``, a cold command.
  instruments list  a command that loads definitions but renders nothing.
  naive, per child  one ``papermill`` and one ``jupyter nbconvert --no-input``
                 per child in a loop, measured on a few children and
                 extrapolated (the baseline of issue #5).
  batch --jobs 1 / --jobs 2  ``sensoryprofile report children`` on the same children.
  make demo      ``sensoryprofile report all --cohort --jobs 2`` on the whole
                 sample clinic (60 children, caseload, cohort), as ``make demo``.
Floor, single report and the start-up commands take turns for several rounds;
each counts its best round (and the median is shown), so a burst of load
on a shared machine hits them alike. Peak memory is the largest resident
set of any process of the command (``ru_maxrss`` of its waited-for
children, read by a small wrapper process around each command).

The breakdown comes from one more single report, run through the same
function the command calls (``render_child``), in a fresh process: starting
the kernel, checking the data in the parent while the kernel imports
(the console script's start-up included: hypothesis marked absent),
importing papermill and preparing the notebook (the part of ``execute`` before
papermill's own clock starts), waiting for the kernel, running the notebook
(papermill's cell timings: building the report model, drawing the charts,
tables and text; the rest of papermill's run is its work around the cells),
exporting HTML.

Targets (issue #13): single report at most 1.5x the floor; --version at
most 0.3 s; the sample clinic (``make demo``) in at most 90 s. Kept from
issue #5: batch --jobs 2 at least 8x faster per report than the naive
loop, and --jobs 2 at least 1.7x faster than --jobs 1.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
SAMPLE = ROOT / "data" / "sample"
AS_OF = "2026-10-31"
SINGLE_TARGET = 1.5
VERSION_TARGET = 0.3
DEMO_TARGET = 90.0


MEASURE = """
import json, resource, subprocess, sys, time
start = time.perf_counter()
done = subprocess.run(sys.argv[1:], capture_output=True, text=True)
seconds = time.perf_counter() - start
if done.returncode:
    sys.exit(done.stderr or done.stdout)
print(json.dumps([seconds, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024]))
"""


def run(cmd: list[str]) -> tuple[float, float]:
    """Wall seconds of a command, and the peak resident MiB of its largest
    process (measured by a small wrapper process, so each command's peak is
    its own)."""
    done = subprocess.run([sys.executable, "-c", MEASURE, *cmd], check=True,
                          capture_output=True, text=True)
    seconds, peak = json.loads(done.stdout.strip().splitlines()[-1])
    return seconds, peak


def subset(n_children: int, folder: Path) -> list[str]:
    """A copy of the sample with its first n children (and their rows)."""
    import pandas as pd

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


def naive(data: Path, children: list[str], tmp: Path) -> float:
    notebook = ROOT / "sensoryprofile" / "reports" / "notebooks" / "child_report.ipynb"
    start = time.perf_counter()
    for child in children:
        out = tmp / f"naive-{child}.ipynb"
        run([str(BIN / "papermill"), str(notebook), str(out), "-p", "data_dir", str(data),
             "-p", "child_id", child, "-p", "as_of", AS_OF, "--no-progress-bar",
             "--cwd", str(tmp)])
        run([str(BIN / "jupyter"), "nbconvert", "--to", "html", "--no-input", str(out)])
    return time.perf_counter() - start


def rounds(commands: dict[str, list[str]], n: int) -> dict[str, dict]:
    """Run the commands in turn, ``n`` rounds: best, median and peak of each."""
    times: dict[str, list[float]] = {k: [] for k in commands}
    peaks: dict[str, float] = dict.fromkeys(commands, 0.0)
    for _ in range(n):
        for name, cmd in commands.items():
            seconds, peak = run(cmd)
            times[name].append(seconds)
            peaks[name] = max(peaks[name], peak)
    return {k: {"best": min(v), "median": statistics.median(v), "peak": peaks[k]}
            for k, v in times.items()}


BREAKDOWN = """
import json, sys, time
start = time.perf_counter()
from sensoryprofile import cli
for name in cli.NEVER_USED:  # as the console script does (cli.run)
    sys.modules.setdefault(name, None)
from sensoryprofile.reports.render import render_child
imported = time.perf_counter() - start
result = render_child(sys.argv[1], "C0002", out_dir=sys.argv[2], as_of=sys.argv[3])
print(json.dumps({"import": imported, "total": time.perf_counter() - start,
                  "timings": result.timings}))
"""


def breakdown(data: Path, tmp: Path) -> list[tuple[str, float]]:
    """One single report through ``render_child`` in a fresh process, by part."""
    import nbformat

    out = tmp / "breakdown"
    done = subprocess.run([sys.executable, "-c", BREAKDOWN, str(data), str(out), AS_OF],
                          check=True, capture_output=True, text=True)
    measured = json.loads(done.stdout.strip().splitlines()[-1])
    nb = nbformat.read(out / "children" / "C0002" / "report.ipynb", as_version=4)
    cells = [(c.source, c.metadata.get("papermill", {}).get("duration") or 0.0)
             for c in nb.cells if c.cell_type == "code"]
    run_seconds = nb.metadata.get("papermill", {}).get("duration") or 0.0
    build = sum(d for s, d in cells if "ChildReport.build" in s)
    drawing = sum(d for s, d in cells if "plots.plot_" in s and "ChildReport.build" not in s)
    other = sum(d for _, d in cells) - build - drawing
    t = measured["timings"]
    execute = t["execute"]
    return [
        ("import the command's modules (light: no Jupyter yet)", measured["import"]),
        ("start the kernel (it imports on its own from here)", t["start the kernel"]),
        ("check the data here, keep it for the kernel", t["check the data (this process)"]),
        ("papermill: imported, notebook read and parameterized here", execute - run_seconds),
        ("wait until the kernel has imported", t["wait for the kernel"]),
        ("cell: build the report model from the checked data", build),
        ("cells: draw the charts (seven for C0002)", drawing),
        ("cells: tables and text", other),
        ("papermill around and between the cells", run_seconds - build - drawing - other),
        ("export HTML (exporter warmed while the kernel ran)", t["html"]),
        ("total in that process", measured["total"]),
    ]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    n_batch, n_naive, n_rounds = (6, 2, 2) if args.quick else (40, 4, 5)
    cli = str(BIN / "sensoryprofile")
    with tempfile.TemporaryDirectory() as tmpdir:
        tmp = Path(tmpdir)
        data = tmp / "data"
        children = subset(n_batch, data)
        run([cli, "instruments", "list"])  # definitions checked once, as after installing
        single = rounds({
            "floor": [sys.executable, str(Path(__file__).with_name("report_floor.py")),
                      str(tmp / "floor")],
            "single": [cli, "report", "child", "C0002", "--data", str(SAMPLE), "--out",
                       str(tmp / "single"), "--as-of", AS_OF],
            "version": [cli, "--version"],
            "instruments": [cli, "instruments", "list"],
        }, n_rounds)
        t_naive = naive(data, children[:n_naive], tmp) / n_naive
        t_jobs1, _ = run([cli, "report", "children", "--data", str(data), "--out",
                          str(tmp / "jobs1"), "--as-of", AS_OF, "--jobs", "1", "--quiet"])
        t_jobs2, peak_batch = run([cli, "report", "children", "--data", str(data), "--out",
                                   str(tmp / "jobs2"), "--as-of", AS_OF, "--jobs", "2",
                                   "--quiet"])
        t_demo = None
        if not args.quick:
            t_demo, _ = run([cli, "report", "all", "--data", str(SAMPLE), "--out",
                             str(tmp / "demo"), "--jobs", "2", "--cohort", "--quiet"])
        parts = breakdown(SAMPLE, tmp)

    floor, one = single["floor"], single["single"]
    print(f"{'measure':<56} {'best s':>8} {'median s':>9} {'per report':>11} {'peak MiB':>9}")
    print("-" * 97)
    rows = [
        ("floor: papermill + nbconvert, trivial notebook, 1 process", floor, 1),
        ("single report: sensoryprofile report child (cold)", one, 1),
        ("sensoryprofile --version (cold)", single["version"], 1),
        ("sensoryprofile instruments list (cold, no Jupyter)", single["instruments"], 1),
    ]
    for label, m, per in rows:
        print(f"{label:<56} {m['best']:>8.2f} {m['median']:>9.2f} {m['best'] / per:>11.2f} "
              f"{m['peak']:>9.0f}")
    others = [(f"naive loop, per child (measured on {n_naive})", t_naive, t_naive),
              (f"batch --jobs 1 ({n_batch} children)", t_jobs1, t_jobs1 / n_batch),
              (f"batch --jobs 2 ({n_batch} children)", t_jobs2, t_jobs2 / n_batch)]
    if t_demo is not None:
        others.append(("make demo: report all --cohort --jobs 2 (60 children)", t_demo,
                       t_demo / 62))
    for label, total, per in others:
        print(f"{label:<56} {total:>8.2f} {'':>9} {per:>11.2f}")
    print(f"  (largest process of the --jobs 2 batch: {peak_batch:.0f} MiB)")
    print("\nWhere one report's time goes (render_child in a fresh process; the kernel "
          "imports while this process works):")
    for label, seconds in parts:
        print(f"  {label:<64} {seconds:>6.2f} s")
    ratio = one["best"] / floor["best"]
    checks = [
        (f"single report <= {SINGLE_TARGET}x the floor", ratio <= SINGLE_TARGET,
         f"{ratio:.2f}x (medians {one['median'] / floor['median']:.2f}x)"),
        (f"--version <= {VERSION_TARGET} s", single["version"]["best"] <= VERSION_TARGET,
         f"{single['version']['best']:.2f} s"),
        ("batch --jobs 2 >= 8x faster per report than naive",
         t_naive / (t_jobs2 / n_batch) >= 8, f"{t_naive / (t_jobs2 / n_batch):.1f}x"),
        ("--jobs 2 >= 1.7x faster than --jobs 1", t_jobs1 / t_jobs2 >= 1.7,
         f"{t_jobs1 / t_jobs2:.2f}x"),
    ]
    if t_demo is not None:
        checks.append((f"make demo renders in <= {DEMO_TARGET:.0f} s", t_demo <= DEMO_TARGET,
                       f"{t_demo:.1f} s"))
    print("\nTargets:")
    for label, ok, value in checks:
        print(f"  {'PASS' if ok else 'FAIL'}  {label}: {value}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
