"""Scoring speed and memory: our tidy scoring against a numpy floor and a naive
row-by-row baseline, measured in the same run.

    .venv/bin/python benchmarks/scoring.py            # N = 10k, 100k, 1M
    .venv/bin/python benchmarks/scoring.py --quick    # N = 2k, 20k (smoke run)

Columns:
  floor   a bare numpy matrix product over the same response array (float64,
          n x 80 items) with the item-by-score key: the arithmetic alone
  wide    score_responses: the array core (counts, validity, prorating), no table
  tidy    score_assessments: a wide item DataFrame in, the full tidy table out
          (raw, validity, norms, z, percentile, classification), 13 rows per
          assessment
  naive   pandas .apply row by row (a straightforward per-assessment function
          doing the same work), measured at 10k (2k with --quick) and
          extrapolated linearly
  peak    peak resident memory of a fresh process that builds the input
          DataFrame and scores it into the tidy table (ru_maxrss), and the
          part above the input alone
Each size runs in its own subprocess so peaks do not mix; times are the best
of 3 runs (1 at 1M). Targets at 1M (issue #2): tidy within 10x the floor,
at least 100x faster than naive, peak under 3 GiB.
"""

from __future__ import annotations

import argparse
import json
import math
import resource
import subprocess
import sys
import time

import numpy as np
import pandas as pd

ITEMS = 80


def make_input(n: int, seed: int = 0) -> pd.DataFrame:
    """n synthetic demo-child assessments: values 1-5, ~1% blank, ~1% 'does not apply'."""
    from sensoryprofile.instruments import load_instrument

    inst = load_instrument("demo-child")
    rng = np.random.default_rng(seed)
    values = rng.integers(1, 6, (n, ITEMS)).astype(float)
    values[rng.random((n, ITEMS)) < 0.01] = np.nan
    values[rng.random((n, ITEMS)) < 0.01] = 0
    frame = pd.DataFrame(values, columns=list(inst.item_ids))
    frame.insert(0, "assessment_id", [f"A{i:07d}" for i in range(n)])
    frame.insert(1, "child_id", [f"C{i // 3:07d}" for i in range(n)])
    frame.insert(2, "instrument", "demo-child")
    days = rng.integers(0, 3 * 365, n)
    frame.insert(3, "date", (np.datetime64("2023-01-01") + days).astype(str))
    frame.insert(4, "age_months", rng.integers(36, 180, n))
    return frame


def naive_score(frame: pd.DataFrame) -> pd.DataFrame:
    """The obvious way: one Python function per assessment row."""
    from sensoryprofile.instruments import MeanSD, load_instrument

    inst = load_instrument("demo-child")
    labels = inst.label_list

    def one(row):
        out = []
        band = inst.band_for_age(row["age_months"])
        for score in inst.scores:
            vals = [row[i] for i in score.items]
            answered = [v for v in vals if not pd.isna(v)]
            missing = len(vals) - len(answered)
            valid = missing <= score.max_missing and answered
            raw = (sum(answered) * len(vals) / len(answered) if missing else sum(answered)
                   ) if valid else np.nan
            z = pct = np.nan
            cls = None
            norm = band.scores.get(score.id) if band else None
            if valid and isinstance(norm, MeanSD):
                z = (raw - norm.mean) / norm.sd
                pct = 100 * 0.5 * (1 + math.erf(z / math.sqrt(2)))
                level = 2 if z > 2 else 1 if z > 1 else -2 if z < -2 else -1 if z < -1 else 0
                cls = labels[level + 2]
            out.append((row["assessment_id"], score.id, raw, bool(valid), z, pct, cls))
        return out

    rows = frame.apply(one, axis=1)
    return pd.DataFrame([r for group in rows for r in group],
                        columns=["assessment_id", "score", "raw", "valid", "z", "percentile",
                                 "classification"])


def _best(fn, repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def measure(n: int, naive_n: int) -> dict:
    """Run in a fresh process: time everything at size n."""
    from sensoryprofile.data.assessments import score_assessments
    from sensoryprofile.instruments import load_instrument
    from sensoryprofile.measures.scoring import score_responses

    inst = load_instrument("demo-child")
    frame = make_input(n)
    input_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # MiB
    repeats = 1 if n >= 1_000_000 else 3
    tidy_rows = []
    tidy = _best(lambda: tidy_rows.append(len(score_assessments(frame, inst))), repeats)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # input + tidy scoring
    # the array-level measurements need the response array as well (a second copy
    # of the items): taken after the tidy peak was read
    values = frame[list(inst.item_ids)].to_numpy(dtype=float)
    key = inst.compiled.key
    floor = _best(lambda: values @ key, repeats)
    wide = _best(lambda: score_responses(values, inst), repeats)
    result = {"n": n, "floor": floor, "wide": wide, "tidy": tidy, "rows": tidy_rows[-1],
              "peak_mib": peak, "input_mib": input_peak}
    if naive_n:
        sub = frame.iloc[:naive_n]
        t = time.perf_counter()
        naive = naive_score(sub)
        result["naive_measured_n"] = naive_n
        result["naive_measured"] = time.perf_counter() - t
        ours = score_assessments(sub, inst)
        agree = np.allclose(naive["raw"].to_numpy(dtype=float), ours["raw"].to_numpy(dtype=float),
                            equal_nan=True)
        result["naive_agrees"] = bool(agree)
    return result


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--naive", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:  # worker mode
        print(json.dumps(measure(args.child, args.naive)))
        return 0
    sizes = [2_000, 20_000] if args.quick else [10_000, 100_000, 1_000_000]
    naive_n = 2_000 if args.quick else 10_000
    results = []
    for k, n in enumerate(sizes):
        cmd = [sys.executable, __file__, "--child", str(n), "--naive",
               str(naive_n if k == 0 else 0)]
        out = subprocess.run(cmd, capture_output=True, text=True, check=True)
        results.append(json.loads(out.stdout.strip().splitlines()[-1]))
    naive_per_row = results[0]["naive_measured"] / results[0]["naive_measured_n"]
    print(f"naive baseline measured on {results[0]['naive_measured_n']:,} assessments: "
          f"{results[0]['naive_measured']:.2f} s ({naive_per_row * 1e6:.0f} us each; raw scores "
          f"agree with ours: {results[0]['naive_agrees']}); extrapolated linearly below\n")
    header = (f"{'N':>10} {'tidy rows':>11} {'floor s':>8} {'wide s':>8} {'tidy s':>8} "
              f"{'naive s*':>9} {'tidy/floor':>10} {'wide/floor':>10} {'naive/tidy':>10} "
              f"{'peak MiB':>9} {'above input':>11}")
    print(header)
    print("-" * len(header))
    for r in results:
        naive = naive_per_row * r["n"]
        print(f"{r['n']:>10,} {r['rows']:>11,} {r['floor']:>8.3f} {r['wide']:>8.3f} "
              f"{r['tidy']:>8.3f} {naive:>9.1f} {r['tidy'] / r['floor']:>9.1f}x "
              f"{r['wide'] / r['floor']:>9.1f}x {naive / r['tidy']:>9.0f}x "
              f"{r['peak_mib']:>9.0f} {r['peak_mib'] - r['input_mib']:>11.0f}")
    last = results[-1]
    naive = naive_per_row * last["n"]
    print(f"\n* naive extrapolated from {results[0]['naive_measured_n']:,} assessments.")
    print(f"Targets at N = {last['n']:,}:")
    checks = [("tidy within 10x the floor", last["tidy"] / last["floor"] <= 10,
               f"{last['tidy'] / last['floor']:.1f}x"),
              ("tidy at least 100x faster than naive", naive / last["tidy"] >= 100,
               f"{naive / last['tidy']:.0f}x"),
              ("peak memory under 3 GiB", last["peak_mib"] < 3072, f"{last['peak_mib']:.0f} MiB")]
    for label, ok, value in checks:
        print(f"  {'PASS' if ok else 'FAIL'}  {label}: {value}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
