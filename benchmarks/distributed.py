"""Dask against the local batch, and registry-scale scoring from Parquet, in
one run (issue 17).

    .venv/bin/python benchmarks/distributed.py           # 200 reports; 10 million assessments
    .venv/bin/python benchmarks/distributed.py --quick   # 20 reports; 1 million assessments

Reports: ``sensoryprofile report children`` on the same synthetic clinic
(``sensoryprofile sample --children 200``), once with ``--jobs 2`` (local
worker processes, each with a warm kernel) and once with
``--dask-workers 2`` (a local Dask cluster of two worker processes, each
with a warm kernel), as cold commands: each wall time includes starting
its workers (and, for Dask, the scheduler). The two take turns (jobs, dask,
jobs, dask with ``--rounds 2``), and each counts its best round, so a burst
of load on a shared machine hits them alike. Target: Dask at most 15%
slower than ``--jobs 2``.

Scoring: demo-child assessments (80 items, answers 1-5, ~1% blank, ~1%
"does not apply") written as Parquet partitions of 250,000 assessments
(40 partitions for 10 million), then ``score_parquet`` on a local Dask
cluster of two workers (one thread each), writing the tidy table (13 score
rows per assessment) as Parquet partitioned the same way. Peak memory per
worker is each worker process's largest resident set (``ru_maxrss``, read on
the worker after the run; it includes the worker's own ~0.15 GiB). The peer
is the same code in this process without Dask (``client=None``), one
partition after another, on the first 1 million assessments (4 partitions),
in a fresh process for its own peak; Dask scores the same subset too.
Target: every worker under 2 GiB.

Memory of a report worker: each worker process and its kernel, sampled
every 0.5 s while the batch runs (psutil, resident set), the largest sum
printed for each kind of batch, with the command's own process.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# run as a script, this file's folder is first on sys.path, where its own name
# would hide the `distributed` package: take the folder off before any import
HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

ROOT = HERE.parent
BIN = Path(sys.executable).parent
AS_OF = "2026-10-31"
OVERHEAD_TARGET = 0.15
WORKER_MEMORY_TARGET_GIB = 2.0
PARTITION = 250_000
ITEMS = 80
GIB = 1024 ** 3


# ---------------------------------------------------------------------------
# reports
# ---------------------------------------------------------------------------
def _worker_memory(pid: int) -> tuple[int, dict[int, int]]:
    """The command's own resident set, and each worker's with its kernel's
    (a worker: a process of the command's tree that is a kernel's parent)."""
    import psutil

    try:
        root = psutil.Process(pid)
        tree = root.children(recursive=True)
        own = root.memory_info().rss
    except psutil.Error:
        return 0, {}
    workers: dict[int, int] = {}
    for proc in tree:
        try:
            if "sensoryprofile.reports.kernel" not in " ".join(proc.cmdline()):  # a kernel
                continue
            parent = proc.parent()
            workers[parent.pid] = parent.memory_info().rss + proc.memory_info().rss
        except psutil.Error:
            continue
    return own, workers


def run_command(args: list[str], memory: dict | None = None) -> float:
    """Run one command; with ``memory``, sample its workers' memory every 0.5 s
    (``memory['worker']``: the largest worker with its kernel; ``memory['command']``)."""
    import threading

    start = time.perf_counter()
    process = subprocess.Popen([str(BIN / "sensoryprofile"), *args], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    stop = threading.Event()

    def sample():
        while not stop.wait(0.5):
            own, workers = _worker_memory(process.pid)
            memory["command"] = max(memory.get("command", 0), own)
            memory["worker"] = max([memory.get("worker", 0), *workers.values()])

    sampler = threading.Thread(target=sample, daemon=True)
    if memory is not None:
        sampler.start()
    stdout, stderr = process.communicate()
    seconds = time.perf_counter() - start
    stop.set()
    if process.returncode:
        sys.exit(f"sensoryprofile {' '.join(args)} failed ({process.returncode}):\n"
                 f"{stderr[-2000:]}\n{stdout[-2000:]}")
    return seconds


def bench_reports(work: Path, children: int, rounds: int) -> dict:
    data = work / "clinic"
    run_command(["sample", "--children", str(children), "--out", str(data)])
    runs: dict[str, list[float]] = {"jobs": [], "dask": []}
    loads: dict[str, list[float]] = {"jobs": [], "dask": []}
    memory: dict[str, dict] = {"jobs": {}, "dask": {}}
    kinds = [("jobs", ["--jobs", "2"]), ("dask", ["--dask-workers", "2"])]
    for r in range(rounds):
        # jobs, dask, then dask, jobs: a load that grows or fades hits both alike
        for kind, flags in (kinds if r % 2 == 0 else kinds[::-1]):
            out = work / f"reports-{kind}"
            shutil.rmtree(out, ignore_errors=True)
            runs[kind].append(run_command(["report", "children", "--data", str(data), "--out",
                                           str(out), "--as-of", AS_OF, "--quiet", *flags],
                                          memory[kind]))
            loads[kind].append(os.getloadavg()[0])
            written = len(list((out / "children").glob("*/report.html")))
            if written != children:
                sys.exit(f"{kind}: {written} reports written, {children} expected")
    return {kind: min(times) for kind, times in runs.items()} | {
        "runs": runs, "loads": loads, "memory": memory}


# ---------------------------------------------------------------------------
# scoring
# ---------------------------------------------------------------------------
def write_partitions(folder: Path, n: int, seed: int = 0) -> list[str]:
    """n demo-child assessments as Parquet partitions of PARTITION rows."""
    from sensoryprofile.instruments import load_instrument

    items = list(load_instrument("demo-child").item_ids)
    rng = np.random.default_rng(seed)
    names = []
    for k, start in enumerate(range(0, n, PARTITION)):
        m = min(PARTITION, n - start)
        values = rng.integers(1, 6, (m, ITEMS)).astype(np.float32)
        values[rng.random((m, ITEMS)) < 0.01] = np.nan
        values[rng.random((m, ITEMS)) < 0.01] = 0
        frame = pd.DataFrame(values, columns=items)
        ids = np.arange(start, start + m)
        frame.insert(0, "assessment_id", pd.Series(ids).map("A{:08d}".format))
        frame.insert(1, "child_id", pd.Series(ids // 3).map("C{:08d}".format))
        frame.insert(2, "instrument", "demo-child")
        days = rng.integers(0, 3 * 365, m)
        frame.insert(3, "date", (np.datetime64("2023-01-01") + days).astype(str))
        frame.insert(4, "age_months", rng.integers(36, 180, m))
        name = f"part-{k:04d}.parquet"
        frame.to_parquet(folder / name, index=False)
        names.append(name)
    return names


LOCAL = """
import json, resource, sys, time
from sensoryprofile.data.partitioned import score_parquet
start = time.perf_counter()
result = score_parquet(sys.argv[1], sys.argv[2])
seconds = time.perf_counter() - start
assert not result.failed and not result.problems
print(json.dumps([seconds, result.rows, result.score_rows,
                  resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024]))
"""


def _peak_rss() -> int:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def _rss() -> int:
    import psutil

    return psutil.Process().memory_info().rss


def bench_scoring(work: Path, n: int) -> dict:
    from sensoryprofile.data.dask_client import ClusterSpec, open_client
    from sensoryprofile.data.partitioned import score_parquet

    data = work / "registry"
    data.mkdir()
    t = time.perf_counter()
    names = write_partitions(data, n)
    made = time.perf_counter() - t
    size = sum(p.stat().st_size for p in data.iterdir())
    # the peer: this machine, no Dask, one partition after another (first 4 partitions)
    sub = work / "registry-subset"
    sub.mkdir()
    for name in names[:4]:
        (sub / name).symlink_to(data / name)
    done = subprocess.run([sys.executable, "-c", LOCAL, str(sub), str(work / "scores-local")],
                          capture_output=True, text=True, check=True)
    local_s, local_rows, local_score_rows, local_peak = json.loads(done.stdout)
    with open_client(ClusterSpec(n_workers=2)) as client:
        before = client.run(_rss)
        start = time.perf_counter()
        score_parquet(sub, work / "scores-dask-subset", client=client)
        subset_seconds = time.perf_counter() - start
        start = time.perf_counter()
        result = score_parquet(data, work / "scores-dask", client=client)
        seconds = time.perf_counter() - start
        peaks = client.run(_peak_rss)
    if result.failed or result.problems or result.rows != n:
        sys.exit(f"scoring failed: {result.failed[:3]} {result.problems[:3]}")
    out_size = sum(p.stat().st_size for p in (work / "scores-dask").iterdir())
    return {"n": n, "partitions": len(names), "made": made, "input_bytes": size,
            "output_bytes": out_size, "seconds": seconds, "score_rows": result.score_rows,
            "peaks": sorted(peaks.values()), "before": sorted(before.values()),
            "local_seconds": local_s, "local_rows": local_rows, "local_peak": local_peak,
            "subset_seconds": subset_seconds}


# ---------------------------------------------------------------------------
def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="20 reports, 1 million "
                        "assessments")
    parser.add_argument("--rounds", type=int, default=2, help="rounds of the two report "
                        "batches (each counts its best; default 2)")
    args = parser.parse_args()
    children = 20 if args.quick else 200
    n = 1_000_000 if args.quick else 10_000_000
    work = Path(tempfile.mkdtemp(prefix="sp-bench-dask-"))
    ok = True
    try:
        reports = bench_reports(work, children, args.rounds)
        overhead = reports["dask"] / reports["jobs"] - 1
        print(f"Report batches: {children} children of a synthetic clinic, 2 workers each "
              f"({args.rounds} round(s), best counted)")
        print(f"  {'':<22}{'wall s':>9}{'s/report':>10}{'reports/h/worker':>18}")
        for kind, label in (("jobs", "--jobs 2"), ("dask", "--dask-workers 2")):
            s = reports[kind]
            print(f"  {label:<22}{s:>9.1f}{s / children:>10.2f}"
                  f"{children / s * 3600 / 2:>18.0f}")
        verdict = "ok" if overhead <= OVERHEAD_TARGET else "OVER TARGET"
        ok &= overhead <= OVERHEAD_TARGET
        print(f"  Dask overhead: {overhead * 100:+.1f}% (target at most "
              f"+{OVERHEAD_TARGET * 100:.0f}%): {verdict}")
        for kind in ("jobs", "dask"):
            print(f"  {kind} rounds: " + ", ".join(
                f"{t:.1f} s (load {load:.1f})" for t, load in zip(
                    reports["runs"][kind], reports["loads"][kind], strict=True)))
        print(f"  (load: the machine's 1-minute load average after the round, {os.cpu_count()} "
              "cores)")
        for kind, label in (("jobs", "--jobs 2"), ("dask", "--dask-workers 2")):
            mem = reports["memory"][kind]
            print(f"  peak memory, {label}: largest worker with its kernel "
                  f"{mem.get('worker', 0) / GIB:.2f} GiB; the command's process "
                  f"{mem.get('command', 0) / GIB:.2f} GiB (sampled every 0.5 s)")
        print()
        sc = bench_scoring(work, n)
        print(f"Scoring from Parquet: {sc['n']:,} demo-child assessments in {sc['partitions']} "
              f"partitions of {PARTITION:,} ({sc['input_bytes'] / GIB:.2f} GiB on disk; "
              f"written in {sc['made']:.0f} s)")
        local_rate = sc["local_rows"] / sc["local_seconds"]
        rate = sc["n"] / sc["seconds"]
        print(f"  {'':<34}{'wall s':>9}{'assessments/s':>15}{'peak GiB':>10}")
        print(f"  {'this process, no Dask (1M subset)':<34}{sc['local_seconds']:>9.1f}"
              f"{local_rate:>15,.0f}{sc['local_peak'] / GIB:>10.2f}")
        print(f"  {'--dask-workers 2 (same 1M subset)':<34}{sc['subset_seconds']:>9.1f}"
              f"{sc['local_rows'] / sc['subset_seconds']:>15,.0f}")
        print(f"  {'--dask-workers 2 (all)':<34}{sc['seconds']:>9.1f}{rate:>15,.0f}"
              f"{max(sc['peaks']) / GIB:>10.2f}  (largest worker)")
        print(f"  score rows written: {sc['score_rows']:,} "
              f"({sc['output_bytes'] / GIB:.2f} GiB of Parquet)")
        print("  peak per worker (GiB): " + ", ".join(f"{p / GIB:.2f}" for p in sc["peaks"])
              + "; at start: " + ", ".join(f"{p / GIB:.2f}" for p in sc["before"]))
        under = max(sc["peaks"]) < WORKER_MEMORY_TARGET_GIB * GIB
        ok &= under
        print(f"  every worker under {WORKER_MEMORY_TARGET_GIB:g} GiB: "
              f"{'ok' if under else 'OVER TARGET'}; Dask (all) over one process: "
              f"{rate / local_rate:.2f}x on 2 workers, load {os.getloadavg()[0]:.1f}")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
