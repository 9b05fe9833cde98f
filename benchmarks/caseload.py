"""Caseload report: render time, peak memory and HTML size at 60, 1,000 and
10,000 children.

    .venv/bin/python benchmarks/caseload.py            # 60, 1,000 and 10,000 children
    .venv/bin/python benchmarks/caseload.py --quick    # 60 and 1,000 (smoke run)

For each size a synthetic clinic is written with
``sensoryprofile.synthetic.clinic.write_clinic`` into a temporary folder, then two
fresh subprocesses measure it, so no peak or cache leaks from one measurement
into the next:

  render  ``reports.render_caseload`` (as of 2026-09-30, the synthetic
          clinics' extract date) in its own kernel: wall time from starting
          the kernel to the report swapped into place (execute = the notebook
          run, html = the export), and peak resident memory of the rendering
          process and of the kernel process
  build   ``CaseloadReport.build`` alone in a plain process: loading the
          dataset, then building the report (bootstrap intervals included)

Peak memory is the kernel's (and the rendering process's) high-water mark of
resident memory: ``VmHWM`` in /proc/PID/status on Linux, read just before the
kernel is shut down; elsewhere, psutil polls the kernel's RSS every 20 ms
(a lower bound). The build column uses ``ru_maxrss``.

Targets (issue #6): the 10,000-child report within 3x the time of the
60-child one, and its HTML under 5 MB.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

SIZES = (60, 1_000, 10_000)
QUICK_SIZES = (60, 1_000)
AS_OF = "2026-09-30"  # write_clinic's default end_date: the data's extract date
TIME_TARGET = 3.0     # 10,000-child render / 60-child render at most this
HTML_TARGET = 5 * 1024 * 1024  # bytes


def _peak_kb(pid: int) -> int | None:
    """High-water mark of resident memory of a live process (kB), Linux only."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


class _Poller:
    """Polls a process's RSS (psutil) where /proc has no high-water mark."""

    def __init__(self, pid: int):
        self.peak_kb = 0
        self._stop = threading.Event()
        try:
            import psutil

            self._proc = psutil.Process(pid)
        except Exception:  # psutil missing or the process gone: no polling
            self._proc = None
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self):
        while self._proc is not None and not self._stop.wait(0.02):
            try:
                self.peak_kb = max(self.peak_kb, self._proc.memory_info().rss // 1024)
            except Exception:
                return

    def stop(self) -> int:
        self._stop.set()
        self._thread.join()
        return self.peak_kb


def _self_peak_kb() -> int:
    peak = _peak_kb(__import__("os").getpid())
    return peak if peak is not None else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


# ---------------------------------------------------------------------------
# workers (each in a fresh subprocess)
# ---------------------------------------------------------------------------
def work_render(data_dir: str, out_dir: str) -> dict:
    from sensoryprofile.reports import render

    start = time.perf_counter()
    session = render.KernelSession()
    pid = getattr(session.km.provisioner, "pid", None) or session.km.provisioner.process.pid
    poller = None if _peak_kb(pid) is not None else _Poller(pid)
    try:
        result = render.render_caseload(data_dir, out_dir=out_dir, as_of=AS_OF,
                                        session=session)
        kernel_kb = _peak_kb(pid) if poller is None else poller.stop()
    finally:
        session.shutdown()
    seconds = time.perf_counter() - start
    html = result.folder / "report.html"
    text = html.read_text(encoding="utf-8")
    return {"seconds": seconds, "execute": result.timings.get("execute"),
            "html_seconds": result.timings.get("html"), "html_bytes": html.stat().st_size,
            "images": text.count('src="data:image/'), "traceback": "Traceback" in text,
            "csv_files": sum(1 for p in result.folder.glob("*.csv")),
            "kernel_peak_kb": kernel_kb, "parent_peak_kb": _self_peak_kb()}


def work_build(data_dir: str) -> dict:
    from sensoryprofile.data.dataset import load_dataset
    from sensoryprofile.reports.caseload import CaseloadReport

    start = time.perf_counter()
    dataset = load_dataset(data_dir)
    loaded = time.perf_counter()
    report = CaseloadReport.build(dataset, as_of=AS_OF)
    built = time.perf_counter()
    return {"load": loaded - start, "build": built - loaded, "peak_kb": _self_peak_kb(),
            "children": len(dataset.children), "goals": len(dataset.goals),
            "ratings": len(dataset.goal_ratings), "assessments": len(dataset.assessments),
            "active": int(report.counts[report.counts["group_by"] == "all"]["n_active"].sum())}


def _worker(args: list[str]) -> dict:
    out = subprocess.run([sys.executable, __file__, "--worker", *args], capture_output=True,
                         text=True, check=False)
    if out.returncode != 0:
        raise RuntimeError(f"worker {args[0]} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


# ---------------------------------------------------------------------------
# the run
# ---------------------------------------------------------------------------
def run(sizes: tuple[int, ...]) -> dict[int, dict]:
    from sensoryprofile.synthetic.clinic import write_clinic

    results = {}
    with tempfile.TemporaryDirectory(prefix="sp-caseload-bench-") as tmp:
        for n in sizes:
            data = Path(tmp) / f"clinic-{n}"
            start = time.perf_counter()
            write_clinic(data, n)
            generated = time.perf_counter() - start
            render = _worker(["render", str(data), str(Path(tmp) / f"out-{n}")])
            build = _worker(["build", str(data)])
            results[n] = {"generate": generated, "render": render, "build": build}
            print(f"  {n:>6,} children: render {render['seconds']:.1f} s, build "
                  f"{build['build']:.1f} s", file=sys.stderr, flush=True)
    return results


def _mb(kb) -> str:
    return "n/a" if kb is None else f"{kb / 1024:,.0f}"


def format_report(results: dict[int, dict]) -> str:
    lines = [
        f"Caseload report (as of {AS_OF}): one render per size, each in a fresh process "
        "and kernel",
        "",
        f"{'children':>9}{'render s':>10}{'execute s':>11}{'html s':>8}{'kernel MB':>11}"
        f"{'parent MB':>11}{'HTML KB':>9}{'charts':>8}{'CSVs':>6}{'load s':>8}{'build s':>9}"
        f"{'build MB':>10}",
    ]
    for n, r in results.items():
        rd, b = r["render"], r["build"]
        lines.append(
            f"{n:>9,}{rd['seconds']:>10.1f}{rd['execute']:>11.1f}{rd['html_seconds']:>8.1f}"
            f"{_mb(rd['kernel_peak_kb']):>11}{_mb(rd['parent_peak_kb']):>11}"
            f"{rd['html_bytes'] / 1024:>9,.0f}{rd['images']:>8}{rd['csv_files']:>6}"
            f"{b['load']:>8.1f}{b['build']:>9.1f}{_mb(b['peak_kb']):>10}")
    lines += [
        "",
        "  render = kernel start + execute + html export + swap into place (wall time);",
        "  kernel/parent MB = peak resident memory (VmHWM) of the kernel and of the",
        "  rendering process; load/build = load_dataset and CaseloadReport.build alone in a",
        "  fresh process, build MB its peak (ru_maxrss, dataset included).",
    ]
    sizes = {n: r for n, r in results.items()}
    for n, r in sizes.items():
        b = r["build"]
        lines.append(f"  {n:,} children: {b['assessments']:,} assessments, {b['goals']:,} goals, "
                     f"{b['ratings']:,} ratings, {b['active']:,} active")
    lines += ["", "targets"]
    small, large = min(sizes), max(sizes)
    if large >= 10_000 and small <= 60:
        ratio = sizes[large]["render"]["seconds"] / sizes[small]["render"]["seconds"]
        lines.append(f"  {'PASS' if ratio <= TIME_TARGET else 'FAIL'}  {large:,}-child render "
                     f"within {TIME_TARGET:g}x of the {small}-child render ({ratio:.1f}x)")
    else:
        lines.append("  (--quick: the time target compares 10,000 with 60 children; not run)")
    html = sizes[large]["render"]["html_bytes"]
    lines.append(f"  {'PASS' if html < HTML_TARGET else 'FAIL'}  {large:,}-child HTML under "
                 f"5 MB ({html / 1024 / 1024:.2f} MB)")
    clean = all(not r["render"]["traceback"] for r in sizes.values())
    lines.append(f"  {'PASS' if clean else 'FAIL'}  no traceback in any report")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> dict:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "--worker":
        kind, *rest = argv[1:]
        result = work_render(*rest) if kind == "render" else work_build(*rest)
        print(json.dumps(result))
        return result
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="smoke run: 60 and 1,000 children only")
    args = parser.parse_args(argv)
    results = run(QUICK_SIZES if args.quick else SIZES)
    print(format_report(results))
    return results


if __name__ == "__main__":
    main()
