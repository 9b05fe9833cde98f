"""Tests of the shared statistics (sensoryprofile/analysis/stats.py).

Expected values come from outside the code under test (see the comments):
hand computations, published values, enumeration, scipy's own routines.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from scipy import stats as sps

from sensoryprofile import columns as C
from sensoryprofile.analysis import stats as ST
from tests.paths import ROOT

NOTEBOOK = ROOT / "notebooks" / "cohort_analysis.ipynb"


# ---------------------------------------------------------------------------
# Wilcoxon signed-rank and rank-biserial
# ---------------------------------------------------------------------------
# Differences d = (1.5, -0.5, 2, 3, -1, 4): |d| ranks 0.5->1, 1->2, 1.5->3, 2->4,
# 3->5, 4->6. W+ = 3+4+5+6 = 18, W- = 1+2 = 3; scipy reports min(W+, W-) = 3.
# Rank-biserial r = (W+ - W-) / (W+ + W-) = 15 / 21 = 5/7 (Kerby 2014).
# Exact two-sided p: under H0 each of the 2^6 = 64 sign patterns is equally
# likely; subsets of ranks {1..6} with sum <= 3 are {}, {1}, {2}, {3}, {1,2}: 5,
# and by symmetry 5 with sum >= 18, so p = 10/64 = 0.15625.
HAND_BEFORE = np.array([10, 10.5, 9, 8, 12, 7])
HAND_AFTER = HAND_BEFORE + np.array([1.5, -0.5, 2, 3, -1, 4])


def test_wilcoxon_exact_p_by_enumeration():
    d = HAND_AFTER - HAND_BEFORE
    ranks = sps.rankdata(np.abs(d))
    observed = min(ranks[d > 0].sum(), ranks[d < 0].sum())
    extreme = 0
    for signs in itertools.product((1, -1), repeat=len(d)):
        plus = sum(r for r, s in zip(ranks, signs, strict=True) if s > 0)
        if min(plus, ranks.sum() - plus) <= observed:
            extreme += 1
    assert observed == 3 and extreme == 10
    exact = extreme / 2 ** len(d)
    scipy_result = sps.wilcoxon(d, method="exact")
    for res in (ST.paired_change(HAND_BEFORE, HAND_AFTER, n_boot=50),
                ST.paired_change(HAND_BEFORE, HAND_AFTER, n_boot=50)):
        assert res["wilcoxon_w"] == 3 == scipy_result.statistic
        assert res["p_value"] == pytest.approx(exact, abs=1e-12)
        assert res["p_value"] == pytest.approx(scipy_result.pvalue, abs=1e-12)
        assert res["rank_biserial"] == pytest.approx(5 / 7, abs=1e-12)
        assert res["median_change"] == pytest.approx(1.75)  # median of -1,-.5,1.5,2,3,4


@pytest.mark.parametrize("case", range(12))
def test_vectorised_paired_change_equals_stats_paired_change(case):
    rng = np.random.default_rng(case)
    n = [5, 6, 9, 14, 30, 44][case % 6]
    before = rng.integers(10, 60, n).astype(float)
    after = before + (rng.integers(-6, 7, n) if case % 2 else rng.normal(-2, 4, n))
    if case == 3:
        before[1] = np.nan  # pairs with a missing value are dropped
    expected = ST.paired_change(before, after, n_boot=300, seed=case)
    got = ST.paired_change(before, after, n_boot=300, seed=case)
    assert list(got) == list(C.PAIRED_COLUMNS)
    for key in C.PAIRED_COLUMNS:
        if isinstance(expected[key], float) and np.isnan(expected[key]):
            assert np.isnan(got[key]), key
        else:
            assert got[key] == pytest.approx(expected[key], abs=1e-9), key
    low, high = ST.median_interval(after - before, n_boot=300, seed=case)
    got_low, got_high = ST.median_interval(after - before, n_boot=300, seed=case)
    if not np.isnan(before).any():
        assert (got_low, got_high) == pytest.approx((low, high), abs=1e-12)


def test_paired_change_suppresses_small_groups():
    res = ST.paired_change([1, 2, 3, 4], [2, 3, 4, 6])
    assert res["suppressed"] and res["n"] == 4 and np.isnan(res["rank_biserial"])
