"""Benchmark: importing a REDCap export of 10,000 children with 5 administrations each.

The export is generated into a temporary folder (never into the repository)
with :func:`sensoryprofile.synthetic.redcap.redcap_export`: the sample
project's layout (two arms, an enrolment event with goals and goal reviews as
repeating instruments, a repeating assessment event), 10,000 children x 5
demo-child administrations + 3 goals x 4 reviews each: 210,000 records rows.

Compared, each in a fresh process (so peaks do not mix), best of 3 runs:

- ours: ``sensoryprofile import redcap`` as the command runs it: read the
  dictionary and mapping, read and check the records file, reshape into the
  four tables, write the dataset folder, then load it with the ordinary
  loader (every validation rule, scoring) and merge the reports. Also shown
  in its two parts: import (read, reshape, write) and validate (load).
- floor: the least work that produces the same files from the same input:
  ``pandas.read_csv`` of the records file as text, and writing the four
  output CSVs from tables already reshaped in memory (the reshape, the
  checks and the validation are free here).
- peak: the peak resident memory of ours' process (``VmHWM``, reset after
  start-up so that it is this work's), and the part above the interpreter
  with the package imported. The parts of ours are those of its best run.

Run:  .venv/bin/python benchmarks/imports.py            (10,000 children)
      .venv/bin/python benchmarks/imports.py --quick    (1,000 children, a smoke run)
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

FULL = {"children": 10_000, "administrations": 5}
QUICK = {"children": 1_000, "administrations": 5}
GOALS, REVIEWS = 3, 4
REPEATS = 3


def make_clinic(children: int, administrations: int, seed: int = 0) -> dict[str, pd.DataFrame]:
    """A synthetic clinic: every child has ``administrations`` demo-child
    administrations 6 months apart, 3 goals and 4 quarterly reviews of each."""
    from sensoryprofile import columns as C
    from sensoryprofile.instruments import load_instrument
    from sensoryprofile.synthetic.clinic import DIAGNOSES, GOAL_DOMAINS, SITES, THERAPISTS

    rng = np.random.default_rng(seed)
    inst = load_instrument("demo-child")
    n = children
    width = len(str(n))
    ids = np.array([f"C{i:0{width}d}" for i in range(1, n + 1)], dtype=object)
    referral = np.datetime64("2022-01-03") + rng.integers(0, 180, n).astype("timedelta64[D]")
    dob = referral - rng.integers(4 * 365, 9 * 365, n).astype("timedelta64[D]")

    def iso(days):
        return np.datetime_as_string(days, unit="D").astype(object)

    child_table = pd.DataFrame({
        C.CHILD_ID: ids, C.DATE_OF_BIRTH: iso(dob),
        C.SEX: rng.choice(np.array(["F", "M", "X"], dtype=object), n, p=[0.3, 0.68, 0.02]),
        C.DIAGNOSES: rng.choice(np.array(DIAGNOSES, dtype=object), n),
        C.SITE: rng.choice(np.array(SITES, dtype=object), n),
        C.THERAPIST: rng.choice(np.array([t[0] for t in THERAPISTS], dtype=object), n),
        C.REFERRAL_DATE: iso(referral), C.DISCHARGE_DATE: None,
        C.DISPLAY_NAME: np.array([f"Child {i}" for i in range(1, n + 1)], dtype=object),
    })
    k = administrations
    child_of = np.repeat(np.arange(n), k)
    when = referral[child_of] + (np.tile(np.arange(k), n) * 183).astype("timedelta64[D]")
    values = rng.integers(1, 6, (n * k, len(inst.items))).astype(float)
    values[rng.random(values.shape) < 0.01] = np.nan
    items = pd.DataFrame({item: pd.array(np.where(np.isnan(values[:, j]), 0, values[:, j])
                                         .astype(int), dtype="Int64")
                          for j, item in enumerate(inst.item_ids)})
    for j, item in enumerate(inst.item_ids):
        items.loc[np.isnan(values[:, j]), item] = pd.NA
    ass = pd.concat([pd.DataFrame({
        C.ASSESSMENT_ID: np.array([f"A{i:07d}" for i in range(n * k)], dtype=object),
        C.CHILD_ID: ids[child_of], C.INSTRUMENT: "demo-child", C.DATE: iso(when),
        C.RESPONDENT: "caregiver"}), items], axis=1)
    g_child = np.repeat(np.arange(n), GOALS)
    goal_ids = np.array([f"G{i:07d}" for i in range(n * GOALS)], dtype=object)
    goals = pd.DataFrame({
        C.GOAL_ID: goal_ids, C.CHILD_ID: ids[g_child], C.SET_DATE: iso(referral[g_child]),
        C.DOMAIN: rng.choice(np.array(GOAL_DOMAINS, dtype=object), n * GOALS),
        C.DESCRIPTION: "Will take part in a group game", C.IMPORTANCE: rng.integers(0, 4, n * GOALS),
        C.DIFFICULTY: rng.integers(0, 4, n * GOALS), C.BASELINE_LEVEL: -1,
        **{c: f"What level {c[6:]} looks like" for c in C.LEVEL_TEXT_COLUMNS},
        C.TARGET_DATE: iso(referral[g_child] + np.timedelta64(365, "D")),
    })
    r_goal = np.repeat(np.arange(n * GOALS), REVIEWS)
    r_when = referral[g_child][r_goal] + (np.tile(np.arange(1, REVIEWS + 1), n * GOALS)
                                          * 91).astype("timedelta64[D]")
    ratings = pd.DataFrame({
        C.GOAL_ID: goal_ids[r_goal], C.DATE: iso(r_when),
        C.LEVEL: rng.integers(-2, 3, len(r_goal)), C.RATER: "therapist", C.NOTE: None,
        C.FAMILY_NOTE: None,
    })
    return {"children": child_table, "assessments": ass, "goals": goals,
            "goal_ratings": ratings}


def write_export(folder: Path, children: int, administrations: int) -> dict:
    """Generate the export into ``folder``; its size."""
    from sensoryprofile.data.redcap_draft import mapping_yaml
    from sensoryprofile.synthetic.redcap import redcap_export

    export = redcap_export(make_clinic(children, administrations))
    export.dictionary.to_csv(folder / "dictionary.csv", index=False)
    export.records.to_csv(folder / "records.csv", index=False, lineterminator="\n")
    (folder / "mapping.yaml").write_text(mapping_yaml(export.mapping))
    return {"rows": len(export.records), "columns": export.records.shape[1],
            "mib": (folder / "records.csv").stat().st_size / 2**20}


def _reset_peak() -> bool:
    """Reset this process's peak resident memory (Linux: /proc/self/clear_refs, "5"),
    so that the peak read later is this work's, not inherited from the parent."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def _peak_mib() -> float:
    """Peak resident memory (VmHWM) of this process in MiB; ru_maxrss where /proc is absent."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _current_mib() -> float:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def worker(kind: str, folder: Path, repeats: int) -> dict:
    """Run in a fresh process: time ``kind`` (ours or floor) on the export in ``folder``."""
    import shutil

    from sensoryprofile.data.imported import write_imported_dataset
    from sensoryprofile.data.redcap import import_redcap
    from sensoryprofile.data.redcap_dictionary import load_mapping, read_dictionary

    today = dt.date(2026, 9, 30)
    result: dict = {"kind": kind, "reset": _reset_peak(), "base_mib": _current_mib()}
    best = {"total": float("inf")}
    tables = None
    for k in range(repeats):
        out = folder / f"out-{kind}-{k}"
        if kind == "ours":
            start = time.perf_counter()
            dictionary = read_dictionary(folder / "dictionary.csv")
            mapping = load_mapping(folder / "mapping.yaml", dictionary)
            imported = import_redcap(folder / "records.csv", dictionary, mapping)
            middle = time.perf_counter()
            dataset, report = write_imported_dataset(imported, out, today=today)
            end = time.perf_counter()
            if k == 0:
                result["peak_mib"] = _peak_mib()
            if end - start < best["total"]:  # the parts of the best run
                best = {"total": end - start, "import": middle - start,
                        "write_validate": end - middle}
            result["problems"] = len(report.problems)
            result["accounting"] = report.accounting_frame().to_dict("records")
            result["counts"] = {t: len(getattr(dataset, t)) for t in
                                ("children", "assessments", "goals", "goal_ratings")}
            del dataset, report, imported
        else:
            if tables is None:  # the reshaped tables, made before the clock starts
                dictionary = read_dictionary(folder / "dictionary.csv")
                mapping = load_mapping(folder / "mapping.yaml", dictionary)
                tables = import_redcap(folder / "records.csv", dictionary, mapping).tables
            start = time.perf_counter()
            pd.read_csv(folder / "records.csv", dtype=str, keep_default_na=False,
                        na_values=[""])
            out.mkdir()
            for name, frame in tables.items():
                frame.to_csv(out / f"{name}.csv", index=False, lineterminator="\n")
            best["total"] = min(best["total"], time.perf_counter() - start)
        shutil.rmtree(out, ignore_errors=True)
    result.update(best)
    return result


def _run_worker(kind: str, folder: Path, repeats: int) -> dict:
    cmd = [sys.executable, __file__, "--worker", kind, "--folder", str(folder), "--repeats",
           str(repeats)]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"benchmark worker {kind} failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def format_report(size: dict, settings: dict, ours: dict, floor: dict) -> str:
    ratio = ours["total"] / floor["total"]
    lines = [
        f"REDCap import: {settings['children']:,} children x {settings['administrations']} "
        f"administrations ({size['rows']:,} records rows x {size['columns']} columns, "
        f"{size['mib']:.0f} MiB CSV), best of {ours['repeats']}",
        "",
        f"{'':<34}{'time (s)':>10}{'x floor':>10}",
        f"{'ours: import redcap, total':<34}{ours['total']:>10.2f}{ratio:>9.1f}x",
        f"{'  read, check, reshape':<34}{ours['import']:>10.2f}"
        f"{ours['import'] / floor['total']:>9.1f}x",
        f"{'  write folder, validate, score':<34}{ours['write_validate']:>10.2f}"
        f"{ours['write_validate'] / floor['total']:>9.1f}x",
        f"{'floor: read_csv + write 4 CSVs':<34}{floor['total']:>10.2f}{1:>9.1f}x",
        "",
        f"peak memory of ours: {ours['peak_mib']:,.0f} MiB resident (VmHWM of its process"
        + (", reset after start-up" if ours["reset"] else "") + f"; "
        f"{ours['peak_mib'] - ours['base_mib']:,.0f} MiB above the interpreter with the "
        f"package imported, {ours['base_mib']:,.0f} MiB)",
        f"imported: {ours['counts']['children']:,} children, "
        f"{ours['counts']['assessments']:,} assessments, {ours['counts']['goals']:,} goals, "
        f"{ours['counts']['goal_ratings']:,} ratings; {ours['problems']} problem(s)",
        "accounting: " + "; ".join(f"{a['table']} {a['rows_read']:,} = {a['rows_accepted']:,}"
                                   f" + {a['rows_rejected']:,}" for a in ours["accounting"]),
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help=f"{QUICK['children']:,} children (a smoke run)")
    parser.add_argument("--repeats", type=int, default=REPEATS)
    parser.add_argument("--worker", choices=["ours", "floor"], help=argparse.SUPPRESS)
    parser.add_argument("--folder", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        print(json.dumps(worker(args.worker, Path(args.folder), args.repeats)))
        return {}
    settings = QUICK if args.quick else FULL
    with tempfile.TemporaryDirectory(prefix="sp-bench-import-") as tmp:
        folder = Path(tmp)
        start = time.perf_counter()
        size = write_export(folder, **settings)
        generated = time.perf_counter() - start
        ours = _run_worker("ours", folder, args.repeats)
        floor = _run_worker("floor", folder, args.repeats)
    ours["repeats"] = args.repeats
    print(format_report(size, settings, ours, floor))
    print(f"(export generated in {generated:.1f} s, not timed)")
    return {"size": size, "ours": ours, "floor": floor}


if __name__ == "__main__":
    main()
