"""Tests of the cohort analysis (sensoryprofile/cohort.py) and its notebook.

Expected values come from outside the code under test: hand computations
written out in comments, a published value from R, exhaustive enumeration,
scipy's own routines (scipy.stats.bootstrap, wilcoxon, f_oneway, optimize)
and hashes computed here with hashlib.
"""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import json
import re
from pathlib import Path

import matplotlib.pyplot as plt
import nbformat
import numpy as np
import pandas as pd
import pytest
from scipy import optimize
from scipy import stats as sps

from sensoryprofile import cohort as CO
from sensoryprofile import stats as ST
from sensoryprofile.child import load_dataset_cached
from sensoryprofile.dataset import load_dataset
from sensoryprofile.errors import UsageError
from sensoryprofile.instruments import load_instrument

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "data" / "sample"
NOTEBOOK = ROOT / "notebooks" / "cohort_analysis.ipynb"


@pytest.fixture(scope="module")
def dataset():
    return load_dataset_cached(SAMPLE)


@pytest.fixture(scope="module")
def analysis(dataset):
    return CO.CohortAnalysis.build(SAMPLE, n_boot=200, dataset=dataset)


@pytest.fixture(scope="module")
def intake_items(dataset):
    series = CO.series_assessments(dataset, "demo-child")
    return CO.item_matrix(series[series["intake"]], "demo-child")


# ---------------------------------------------------------------------------
# Cronbach's alpha
# ---------------------------------------------------------------------------
# Five people, four items, worked by hand:
#   item 1: 1 2 3 4 5  mean 3.0  squared deviations 4 1 0 1 4        -> 10.0 / 4 = 2.5
#   item 2: 2 3 3 4 5  mean 3.4  1.96 .16 .16 .36 2.56              ->  5.2 / 4 = 1.3
#   item 3: 2 3 4 4 4  mean 3.4  1.96 .16 .36 .36 .36                ->  3.2 / 4 = 0.8
#   item 4: 1 2 3 5 4  mean 3.0  4 1 0 4 1                           -> 10.0 / 4 = 2.5
#   sum of item variances = 7.1
#   totals: 6 10 13 17 18, mean 12.8, squared deviations
#           46.24 7.84 0.04 17.64 27.04 = 98.8 -> total variance 98.8 / 4 = 24.7
#   alpha = 4/3 * (1 - 7.1 / 24.7) = 4/3 * 17.6 / 24.7 = 70.4 / 74.1
HAND_ITEMS = np.array([[1, 2, 2, 1], [2, 3, 3, 2], [3, 3, 4, 3], [4, 4, 4, 5], [5, 5, 4, 4]],
                      dtype=float)
HAND_ALPHA = 70.4 / 74.1

# mtcars (R datasets), columns cyl, hp, gear, carb. R's performance package
# publishes cronbachs_alpha(mtcars[, c("cyl", "gear", "carb", "hp")]) =
# 0.09463206 (easystats/performance, tests/testthat/test-cronbachs_alpha.R).
MTCARS = np.array([
    [6, 110, 4, 4], [6, 110, 4, 4], [4, 93, 4, 1], [6, 110, 3, 1], [8, 175, 3, 2],
    [6, 105, 3, 1], [8, 245, 3, 4], [4, 62, 4, 2], [4, 95, 4, 2], [6, 123, 4, 4],
    [6, 123, 4, 4], [8, 180, 3, 3], [8, 180, 3, 3], [8, 180, 3, 3], [8, 205, 3, 4],
    [8, 215, 3, 4], [8, 230, 3, 4], [4, 66, 4, 1], [4, 52, 4, 2], [4, 65, 4, 1],
    [4, 97, 3, 1], [8, 150, 3, 2], [8, 150, 3, 2], [8, 245, 3, 4], [8, 175, 3, 2],
    [4, 66, 4, 1], [4, 91, 5, 2], [4, 113, 5, 2], [8, 264, 5, 4], [6, 175, 5, 6],
    [8, 335, 5, 8], [4, 109, 4, 2]], dtype=float)


def test_alpha_hand_computed():
    assert CO.cronbach_alpha(HAND_ITEMS) == pytest.approx(HAND_ALPHA, abs=1e-12)
    assert round(HAND_ALPHA, 6) == 0.950067


def test_alpha_published_mtcars():
    # the published data, checked: column sums 198, 4694, 118, 90 (mtcars means
    # 6.1875, 146.6875, 3.6875, 2.8125 times 32 cars)
    assert MTCARS.sum(axis=0).tolist() == [198, 4694, 118, 90]
    assert CO.cronbach_alpha(MTCARS) == pytest.approx(0.09463206, abs=5e-9)


def test_alpha_drops_incomplete_rows():
    with_gap = np.vstack([HAND_ITEMS, [1, np.nan, 5, 5]])
    assert CO.cronbach_alpha(with_gap) == pytest.approx(HAND_ALPHA, abs=1e-12)
    assert np.isnan(CO.cronbach_alpha(HAND_ITEMS[:1]))


# ---------------------------------------------------------------------------
# McDonald's omega (one-factor minres)
# ---------------------------------------------------------------------------
def test_omega_recovers_an_exact_one_factor_model():
    # Sigma = lambda lambda' + Psi with lambda = (.8, .7, .6, .5) and unit
    # variances, so psi = 1 - lambda^2 = (.36, .51, .64, .75), sum 2.26.
    # omega = (sum lambda)^2 / ((sum lambda)^2 + sum psi) = 2.6^2 / (6.76 + 2.26)
    #       = 6.76 / 9.02
    lam = np.array([0.8, 0.7, 0.6, 0.5])
    cov = np.outer(lam, lam) + np.diag(1 - lam**2)
    fitted, converged = CO.one_factor_loadings(cov)
    assert bool(converged)
    np.testing.assert_allclose(fitted, lam, atol=1e-9)
    assert float(CO.omega_from_covariance(cov)) == pytest.approx(6.76 / 9.02, abs=1e-9)


def test_omega_equals_alpha_under_tau_equivalence():
    # every covariance c = 0.5, every variance v = 1, k = 4:
    # alpha = k c / (v + (k - 1) c) = 2 / 2.5 = 0.8; lambda = sqrt(c) for every
    # item, so omega = (4 sqrt(.5))^2 / (8 + 4 * .5) = 8 / 10 = 0.8 too.
    cov = np.full((4, 4), 0.5) + np.eye(4) * 0.5
    assert float(CO.alpha_from_covariance(cov)) == pytest.approx(0.8, abs=1e-12)
    assert float(CO.omega_from_covariance(cov)) == pytest.approx(0.8, abs=1e-9)


def test_minres_matches_an_independent_optimiser(intake_items):
    """On every scale of the sample, the Gauss-Seidel minres fit reaches the
    least residual sum of squares that scipy's L-BFGS-B finds from several
    starts (same bounds: no negative unique variance)."""
    inst = load_instrument("demo-child")
    for score in inst.scores:
        if score.kind not in CO.CONSISTENCY_KINDS:
            continue
        x = intake_items[list(score.items)].dropna().to_numpy()
        cov = np.cov(x, rowvar=False)
        k = len(cov)
        off = ~np.eye(k, dtype=bool)

        def residual(lam, cov=cov, off=off):
            return ((cov - np.outer(lam, lam))[off] ** 2).sum()

        bounds = [(-np.sqrt(cov[i, i]), np.sqrt(cov[i, i])) for i in range(k)]
        starts = [np.sqrt(np.diag(cov)) / 2, np.random.default_rng(0).normal(0, 0.5, k)]
        best = min(optimize.minimize(residual, s, method="L-BFGS-B", bounds=bounds,
                                     options={"ftol": 1e-15, "gtol": 1e-12, "maxiter": 10000}
                                     ).fun for s in starts)
        lam, converged = CO.one_factor_loadings(cov)
        assert bool(converged), score.id
        assert residual(lam) <= best + 1e-9, score.id


def test_heywood_case_is_bounded():
    # item 1 "needs" a loading above its SD: its unique variance is held at 0
    cov = np.array([[1.0, 0.9, 0.9], [0.9, 1.0, 0.5], [0.9, 0.5, 1.0]])
    lam, converged = CO.one_factor_loadings(cov)
    assert bool(converged)
    assert lam[0] == pytest.approx(1.0)
    assert 0 < float(CO.omega_from_covariance(cov)) <= 1


# ---------------------------------------------------------------------------
# bootstrap intervals: the vectorised resamples are scipy's resamples
# ---------------------------------------------------------------------------
def _scipy_bca(statistic, columns, n_boot, seed):
    res = sps.bootstrap(tuple(columns), statistic, paired=True, vectorized=False,
                        method="BCa", n_resamples=n_boot, rng=np.random.default_rng(seed))
    return res.confidence_interval.low, res.confidence_interval.high


def test_alpha_and_omega_intervals_match_scipy_bootstrap(intake_items):
    seed, n_boot = 7, 400
    table = CO.internal_consistency(intake_items, "demo-child", n_boot=n_boot, seed=seed)
    inst = load_instrument("demo-child")
    for score_id in ("seeking", "conduct"):
        x = intake_items[list(inst.score(score_id).items)].dropna().to_numpy()
        row = table[table["score"] == score_id].iloc[0]
        assert row["n_complete"] == len(x)
        assert row["alpha"] == pytest.approx(CO.cronbach_alpha(x), abs=1e-12)
        low, high = _scipy_bca(lambda *c: CO.cronbach_alpha(np.column_stack(c)), x.T,
                               n_boot, seed)
        assert (row["alpha_low"], row["alpha_high"]) == pytest.approx((low, high), abs=1e-10)
        low, high = _scipy_bca(lambda *c: CO.mcdonald_omega(np.column_stack(c)), x.T,
                               n_boot, seed)
        assert (row["omega_low"], row["omega_high"]) == pytest.approx((low, high), abs=1e-7)


def test_resampled_covariances_are_direct_covariances():
    x = np.random.default_rng(0).normal(size=(12, 4))
    idx = CO.bootstrap_indices(12, 5, seed=3)
    boot = CO.weighted_covariances(x, CO.resample_counts(idx, 12))
    for b in range(5):
        np.testing.assert_allclose(boot[b], np.cov(x[idx[b]], rowvar=False), atol=1e-12)
    jack = CO.jackknife_covariances(x)
    for i in range(12):
        np.testing.assert_allclose(jack[i], np.cov(np.delete(x, i, axis=0), rowvar=False),
                                   atol=1e-12)


def test_bootstrap_is_seeded(intake_items):
    kw = {"kinds": ("quadrant",), "n_boot": 100}
    a = CO.internal_consistency(intake_items, "demo-child", seed=1, **kw)
    b = CO.internal_consistency(intake_items, "demo-child", seed=1, **kw)
    c = CO.internal_consistency(intake_items, "demo-child", seed=2, **kw)
    pd.testing.assert_frame_equal(a, b)
    assert not np.allclose(a["alpha_low"], c["alpha_low"])


# ---------------------------------------------------------------------------
# item analysis
# ---------------------------------------------------------------------------
def test_item_statistics_against_direct_computation(intake_items):
    inst = load_instrument("demo-child")
    items = CO.item_statistics(intake_items, inst)
    consistency = CO.internal_consistency(intake_items, inst, n_boot=20)
    for score_id in ("avoiding", "visual"):
        x = intake_items[list(inst.score(score_id).items)].dropna().to_numpy()
        rows = items[items["score"] == score_id].reset_index(drop=True)
        alpha = CO.cronbach_alpha(x)
        for i, row in rows.iterrows():
            rest = np.delete(x, i, axis=1)
            r = np.corrcoef(x[:, i], rest.sum(axis=1))[0, 1]
            assert row["item_total_r"] == pytest.approx(r, abs=1e-12)
            assert row["alpha_if_deleted"] == pytest.approx(CO.cronbach_alpha(rest), abs=1e-12)
            assert row["lowers_alpha"] == (CO.cronbach_alpha(rest) > alpha + 1e-10)
            assert row["sd"] == pytest.approx(x[:, i].std(ddof=1), abs=1e-12)
        listed = consistency.loc[consistency["score"] == score_id,
                                 "items_lowering_alpha"].item()
        assert (listed.split(";") if listed else []) == rows.loc[rows["lowers_alpha"],
                                                                 "item"].tolist()


# ---------------------------------------------------------------------------
# item responses
# ---------------------------------------------------------------------------
def test_item_matrix_blank_off_scale_and_not_applicable_are_nan():
    rows = pd.DataFrame({
        "assessment_id": ["A1", "A2", "A3"],
        "instrument": ["demo-child", "demo-child", "demo-toddler"],
        "dc_001": ["5", "0", "3"],           # 0 = does not apply
        "dc_002": ["almost NEVER", "7", "3"],  # label in any case; 7 off the scale
        "dc_003": [None, " 2 ", "3"],        # blank; spaces
    })
    m = CO.item_matrix(rows, "demo-child")
    assert m.index.tolist() == ["A1", "A2"]  # the toddler row is another instrument's
    assert m.columns.name == "item" and len(m.columns) == 80
    assert m.loc["A1", ["dc_001", "dc_002"]].tolist() == [5.0, 1.0]
    assert np.isnan(m.loc["A1", "dc_003"])
    assert np.isnan(m.loc["A2", "dc_001"]) and np.isnan(m.loc["A2", "dc_002"])
    assert m.loc["A2", "dc_003"] == 2.0
    toddler = CO.item_matrix(pd.DataFrame({"dt_01": ["9", "1"]}), "demo-toddler")
    assert np.isnan(toddler.iloc[0, 0]) and toddler.iloc[1, 0] == 1.0  # 9 = does not apply


def test_item_matrix_refuses_non_frames():
    with pytest.raises(UsageError, match="`assessments` must be a pandas DataFrame"):
        CO.item_matrix([[1, 2]], "demo-child")


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
                CO.paired_change_vectorised(HAND_BEFORE, HAND_AFTER, n_boot=50)):
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
    got = CO.paired_change_vectorised(before, after, n_boot=300, seed=case)
    assert list(got) == list(ST.PAIRED_KEYS)
    for key in ST.PAIRED_KEYS:
        if isinstance(expected[key], float) and np.isnan(expected[key]):
            assert np.isnan(got[key]), key
        else:
            assert got[key] == pytest.approx(expected[key], abs=1e-9), key
    low, high = ST.median_interval(after - before, n_boot=300, seed=case)
    got_low, got_high = CO.median_interval_vectorised(after - before, n_boot=300, seed=case)
    if not np.isnan(before).any():
        assert (got_low, got_high) == pytest.approx((low, high), abs=1e-12)


def test_paired_change_suppresses_small_groups():
    res = CO.paired_change_vectorised([1, 2, 3, 4], [2, 3, 4, 6])
    assert res["suppressed"] and res["n"] == 4 and np.isnan(res["rank_biserial"])


# ---------------------------------------------------------------------------
# goal inter-correlation rho
# ---------------------------------------------------------------------------
# Three children, two goals each (balanced, k = 2):
#   A: 0, 2   mean 1      B: -1, -1   mean -1      C: 1, 2   mean 1.5
#   grand mean = (0 + 2 - 1 - 1 + 1 + 2) / 6 = 0.5
#   SS_B = 2 * [(1 - .5)^2 + (-1 - .5)^2 + (1.5 - .5)^2] = 2 * 3.5 = 7, df 2 -> MS_B = 3.5
#   SS_W = (1 + 1) + 0 + (.25 + .25) = 2.5, df 6 - 3 = 3 -> MS_W = 5/6
#   rho = (3.5 - 5/6) / (3.5 + (2 - 1) * 5/6) = (16/6) / (26/6) = 8/13
BALANCED = pd.DataFrame({"child_id": list("AABBCC"), "latest_level": [0, 2, -1, -1, 1, 2]})


def test_rho_balanced_by_hand():
    row = CO.goal_correlation(BALANCED, n_boot=50).iloc[0]
    assert row["ms_between"] == pytest.approx(3.5, abs=1e-12)
    assert row["ms_within"] == pytest.approx(5 / 6, abs=1e-12)
    assert row["k0"] == pytest.approx(2.0, abs=1e-12)
    assert row["rho"] == pytest.approx(8 / 13, abs=1e-12)
    assert row["f"] == pytest.approx(3.5 / (5 / 6), abs=1e-12)
    assert (row["df_between"], row["df_within"]) == (2, 3)
    assert row["rho_assumed"] == 0.3
    assert list(CO.goal_correlation(BALANCED, n_boot=5).columns) == [
        "n_children", "n_goals", "k0", "ms_between", "ms_within", "f", "df_between",
        "df_within", "p_value", "rho", "rho_low", "rho_high", "rho_assumed"]


# Unequal numbers of goals: sizes 2, 3, 4 (N = 9), plus a child with one rated
# goal and an unrated goal, which are left out.
#   A: 0, 1            mean 0.5    SS 0.5
#   B: -1, 0, 1        mean 0      SS 2
#   C: 1, 2, 2, 1      mean 1.5    SS 1
#   grand mean = (1 + 0 + 6) / 9 = 7/9
#   SS_B = 2(.5 - 7/9)^2 + 3(0 - 7/9)^2 + 4(1.5 - 7/9)^2
#        = 2(25/324) + 3(49/81) + 4(169/324) = (50 + 588 + 676) / 324 = 1314/324
#   MS_B = 1314/648; MS_W = 3.5 / 6
#   k0 = (9 - (4 + 9 + 16)/9) / 2 = (81 - 29) / 18 = 52/18
UNEQUAL = pd.DataFrame({
    "child_id": ["A", "A", "B", "B", "B", "C", "C", "C", "C", "D", "D"],
    "latest_level": pd.array([0, 1, -1, 0, 1, 1, 2, 2, 1, 2, None], dtype="Int64"),
})


def test_rho_unequal_group_sizes_by_hand():
    row = CO.goal_correlation(UNEQUAL, n_boot=50).iloc[0]
    ms_b, ms_w, k0 = 1314 / 648, 3.5 / 6, 52 / 18
    assert (row["n_children"], row["n_goals"]) == (3, 9)
    assert row["k0"] == pytest.approx(k0, abs=1e-12)
    assert row["ms_between"] == pytest.approx(ms_b, abs=1e-12)
    assert row["ms_within"] == pytest.approx(ms_w, abs=1e-12)
    assert row["rho"] == pytest.approx((ms_b - ms_w) / (ms_b + (k0 - 1) * ms_w), abs=1e-12)
    anova = sps.f_oneway([0, 1], [-1, 0, 1], [1, 2, 2, 1])
    assert row["f"] == pytest.approx(anova.statistic, abs=1e-10)
    assert row["p_value"] == pytest.approx(anova.pvalue, abs=1e-10)


def test_rho_cluster_bootstrap_matches_scipy():
    rng = np.random.default_rng(3)
    sizes = rng.integers(2, 6, 25)
    data = pd.DataFrame({"child_id": np.repeat([f"C{i:02d}" for i in range(25)], sizes),
                         "latest_level": rng.integers(-2, 3, sizes.sum())})
    row = CO.goal_correlation(data, n_boot=300, seed=11).iloc[0]
    groups = [g["latest_level"].to_numpy(float) for _, g in data.groupby("child_id")]

    def rho_of(idx):
        chosen = [groups[int(i)] for i in idx]
        frame = pd.DataFrame({"child_id": np.repeat(np.arange(len(chosen)),
                                                    [len(c) for c in chosen]),
                              "latest_level": np.concatenate(chosen)})
        return CO.goal_correlation(frame, n_boot=1).iloc[0]["rho"]

    res = sps.bootstrap((np.arange(25),), rho_of, vectorized=False, method="BCa",
                        n_resamples=300, rng=np.random.default_rng(11))
    assert row["rho"] == pytest.approx(rho_of(np.arange(25)), abs=1e-12)
    assert (row["rho_low"], row["rho_high"]) == pytest.approx(
        (res.confidence_interval.low, res.confidence_interval.high), abs=1e-10)


def test_rho_needs_its_columns():
    with pytest.raises(UsageError, match="'latest_level'"):
        CO.goal_correlation(pd.DataFrame({"child_id": ["A"]}))


# ---------------------------------------------------------------------------
# norms, correlations, sample
# ---------------------------------------------------------------------------
def test_expected_shares_are_the_normal_bands():
    assert (100 * CO.expected_shares()).round(1).tolist() == [2.3, 13.6, 68.3, 13.6, 2.3]
    assert CO.expected_shares().sum() == pytest.approx(1.0)


def test_norm_distribution_counts(analysis, dataset):
    dist = analysis.distribution
    intake = dist[dist["timepoint"] == "intake"]
    for _, part in intake.groupby("score", sort=False):
        assert part["share"].sum() == pytest.approx(1.0)
        assert part["n"].sum() == part["n_classified"].iloc[0]
    assert set(dist["timepoint"]) == {"intake", "latest"}


def test_quadrant_correlations_match_scipy(analysis, dataset):
    series = CO.series_assessments(dataset, "demo-child")
    ids = series.loc[series["intake"], "assessment_id"]
    scores = dataset.scores[dataset.scores["assessment_id"].isin(ids)]
    wide = scores.pivot_table(index="assessment_id", columns="score", values="raw",
                              observed=True)
    row = analysis.correlations.iloc[3]
    pair = wide[[row["score_a"], row["score_b"]]].dropna()
    expected = sps.spearmanr(pair.iloc[:, 0], pair.iloc[:, 1])
    assert row["n"] == len(pair) and len(analysis.correlations) == 6
    assert row["spearman_rho"] == pytest.approx(expected.statistic, abs=1e-12)


def test_sample_description_counts_from_the_files(analysis):
    children = pd.read_csv(SAMPLE / "children.csv", dtype=str)
    assessments = pd.read_csv(SAMPLE / "assessments.csv", dtype=str)
    t = analysis.sample.set_index(["measure", "category"])
    assert t.loc[("children", "in the dataset"), "n"] == len(children)
    assert t.loc[("assessments", "all instruments"), "n"] == len(assessments)
    demo = assessments[assessments["instrument"] == "demo-child"]
    assert t.loc[("assessments", "demo-child"), "n"] == len(demo)
    caregiver = demo[demo["respondent"] == "caregiver"]
    assert t.loc[("children", "with an intake assessment"), "n"] == caregiver[
        "child_id"].nunique()
    # diagnosis counts of 1-4 children are suppressed
    diag = analysis.sample[analysis.sample["measure"] == "diagnosis"]
    hidden = diag[diag["note"] == "fewer than 5"]
    assert hidden["n"].isna().all() and hidden["share"].isna().all()
    assert (diag["n"].dropna() >= 5).all()


# ---------------------------------------------------------------------------
# change and subgroup suppression
# ---------------------------------------------------------------------------
def test_subgroup_suppression(dataset, analysis):
    changes = CO.intake_to_latest(dataset, "demo-child")
    compared = changes[changes["compared"] & (changes["score"] == "seeking")]
    kids = sorted(compared["child_id"].astype(str).unique())
    groups = {"all children": set(kids), "four": set(kids[:4]), "five": set(kids[:5]),
              "nobody": set()}
    table = CO.sensory_change(changes, "demo-child", groups, n_boot=50)
    assert len(table) == 4 * 4 * 2
    for name, suppressed in (("four", True), ("nobody", True), ("five", False),
                             ("all children", False)):
        rows = table[table["group"] == name]
        assert (rows["suppressed"] == suppressed).all(), name
        if suppressed:
            assert rows["n"].isna().all()
            assert (rows["note"] == "fewer than 5").all()
            stats_cols = ["median_change", "wilcoxon_w", "p_value", "rank_biserial",
                          "cohens_dz", "share_reliable", "rank_biserial_low"]
            assert rows[stats_cols].isna().all().all()
            assert rows["n_reliable"].isna().all()
        else:
            assert rows["n"].notna().all() and (rows["note"] == "").all()
    five = table[(table["group"] == "five") & (table["score"] == "seeking")
                 & (table["measure"] == "raw")].iloc[0]
    assert five["n"] == 5
    shown = dataclasses.replace(analysis, change=table).change_shown("raw", "four")
    assert set(shown["Children"]) == {"fewer than 5"}
    assert set(shown["Rank-biserial r (95% interval)"]) == {""}


def test_change_statistics_are_stats_paired_change(dataset, analysis):
    changes = CO.intake_to_latest(dataset, "demo-child")
    rows = changes[changes["compared"] & (changes["score"] == "avoiding")]
    expected = ST.paired_change(np.abs(rows["from_z"]), np.abs(rows["to_z"]), n_boot=200)
    got = analysis.change[(analysis.change["group"] == "all children")
                          & (analysis.change["score"] == "avoiding")
                          & (analysis.change["measure"] == "abs_z")].iloc[0]
    for key in ("n", "wilcoxon_w", "p_value", "rank_biserial", "rank_biserial_low",
                "rank_biserial_high", "cohens_dz", "cohens_dz_low", "cohens_dz_high"):
        assert got[key] == pytest.approx(expected[key], abs=1e-9), key
    reliable = rows["reliable"].astype("boolean")
    assert got["n_reliable"] == int(reliable.fillna(False).sum())
    assert got["share_reliable"] == pytest.approx(reliable.fillna(False).sum()
                                                  / reliable.notna().sum())


def test_gas_tables(analysis, dataset):
    levels = analysis.gas_levels
    assert levels["level"].tolist() == [-2, -1, 0, 1, 2]
    assert levels["expected_share"].tolist() == [0.07, 0.21, 0.43, 0.21, 0.07]
    rated = dataset.goal_ratings.sort_values("date").drop_duplicates("goal_id", keep="last")
    assert levels["n"].sum() == len(rated)
    counts = rated["level"].value_counts()
    assert levels.set_index("level")["n"].to_dict() == {lv: int(counts.get(lv, 0))
                                                        for lv in range(-2, 3)}
    change = analysis.gas_change
    assert change["group"].iloc[0] == "all children"
    hidden = change[change["suppressed"]]
    assert hidden["n"].isna().all() and (hidden["note"] == "fewer than 5").all()


# ---------------------------------------------------------------------------
# tidy columns
# ---------------------------------------------------------------------------
TABLE_COLUMNS = {
    "sample": ["measure", "category", "n", "share", "median", "q1", "q3", "note"],
    "consistency": ["score", "score_name", "kind", "n_items", "n_complete", "n_incomplete",
                    "alpha", "alpha_low", "alpha_high", "omega", "omega_low", "omega_high",
                    "items_lowering_alpha", "note"],
    "items": ["score", "score_name", "kind", "item", "n_complete", "mean", "sd",
              "item_total_r", "alpha_if_deleted", "lowers_alpha", "loading"],
    "correlations": ["score_a", "score_name_a", "score_b", "score_name_b", "n",
                     "spearman_rho", "p_value"],
    "distribution": ["score", "score_name", "timepoint", "level", "classification", "n",
                     "share", "expected_share", "n_classified", "n_not_classified"],
    "change": ["group", "score", "score_name", "measure", *ST.PAIRED_KEYS, "n_with_rci",
               "n_reliable", "share_reliable", "n_reliable_toward_typical",
               "share_reliable_toward_typical", "n_reliable_away_from_typical",
               "share_reliable_away_from_typical", "note"],
    "gas_levels": ["level", "n", "share", "expected_share"],
    "gas_change": ["group", *ST.PAIRED_KEYS, "median_change_low", "median_change_high",
                   "note"],
    "gas_rho": ["n_children", "n_goals", "k0", "ms_between", "ms_within", "f", "df_between",
                "df_within", "p_value", "rho", "rho_low", "rho_high", "rho_assumed"],
}


def test_tidy_column_names(analysis):
    tables = analysis.tables()
    assert set(tables) == set(CO.CSV_FILES) == set(TABLE_COLUMNS)
    for name, frame in tables.items():
        assert list(frame.columns) == TABLE_COLUMNS[name], name
        for col in frame.columns:
            assert re.fullmatch(r"[a-z][a-z0-9_]*", col), col
            assert col not in ("pval", "p_val", "p_unc", "pvalue"), col
    # consistency: one row per quadrant and section, in definition order
    inst = load_instrument("demo-child")
    assert analysis.consistency["score"].tolist() == [
        s.id for s in inst.scores if s.kind in ("quadrant", "section")]


# ---------------------------------------------------------------------------
# reproducible exports and provenance
# ---------------------------------------------------------------------------
def _hashes(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def test_exports_are_byte_identical(tmp_path, dataset):
    first = CO.CohortAnalysis.build(SAMPLE, n_boot=200, seed=5, dataset=dataset)
    second = CO.CohortAnalysis.build(SAMPLE, n_boot=200, seed=5,
                                     dataset=load_dataset(SAMPLE))  # loaded afresh
    written = first.export(tmp_path / "one")
    second.export(tmp_path / "two")
    assert sorted(p.name for p in written) == sorted([*CO.CSV_FILES.values(),
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


def test_unknown_instrument_is_named(dataset):
    with pytest.raises(UsageError, match="`instrument` must be one of .*demo-child.*'nope'"):
        CO.CohortAnalysis.build(SAMPLE, instrument="nope", dataset=dataset, n_boot=10)


# ---------------------------------------------------------------------------
# charts
# ---------------------------------------------------------------------------
def test_plot_consistency_draws_two_series(analysis):
    fig, ax = plt.subplots()
    assert CO.plot_consistency(analysis.consistency, ax=ax) is ax
    assert len(ax.containers) == 2  # alpha and omega error bars
    assert [t.get_text() for t in ax.get_yticklabels()] == analysis.consistency[
        "score_name"].tolist()
    plt.figure()
    assert CO.plot_consistency(analysis.consistency) is plt.gca()  # ax=None: current Axes


def test_plot_change_effects_marks_suppressed_groups(analysis):
    fig, ax = plt.subplots(figsize=(9, 10))
    CO.plot_change_effects(analysis.change, measure="abs_z", ax=ax)
    hidden = int((analysis.change.query("measure == 'abs_z'")["suppressed"]).sum())
    notes = [t for t in ax.texts if "fewer than 5" in t.get_text()]
    assert len(notes) == hidden
    with pytest.raises(UsageError, match="`measure` must be one of"):
        CO.plot_change_effects(analysis.change, measure="z", ax=ax)


def test_other_charts_draw(analysis):
    fig, ax = plt.subplots()
    CO.plot_quadrant_correlations(analysis.correlations, ax=ax)
    assert len(ax.images) == 1 and len(ax.texts) == 16
    fig, ax = plt.subplots()
    CO.plot_norm_comparison(analysis.distribution, ax=ax)
    assert len(ax.patches) == 20  # 4 quadrants x 5 bands
    assert len([line for line in ax.lines if line.get_gid() == "expected"]) == 5
    fig, ax = plt.subplots()
    CO.plot_gas_levels(analysis.gas_levels_chart(), ax=ax)
    assert ax.get_title(loc="left").startswith("Final goal levels")
    with pytest.raises(UsageError, match="must have the column"):
        CO.plot_consistency(pd.DataFrame({"x": [1]}), ax=ax)


def test_docstring_examples():
    import doctest

    result = doctest.testmod(CO, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted >= 10 and result.failed == 0


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
    from sensoryprofile.reports import render_cohort

    monkeypatch.chdir(ROOT)
    first = render_cohort("data/sample", out_dir=tmp_path / "one", n_boot=200)
    render_cohort("data/sample", out_dir=tmp_path / "two", n_boot=200)
    one, two = tmp_path / "one" / "cohort", tmp_path / "two" / "cohort"
    assert first.ok and first.folder == one
    names = sorted(p.name for p in one.glob("*.csv"))
    assert names == sorted(CO.CSV_FILES.values())
    for name in [*names, "provenance.json"]:
        assert (one / name).read_bytes() == (two / name).read_bytes(), name
    record = json.loads((one / "provenance.json").read_text())
    hashes = {f["path"]: f["sha256"] for f in record["inputs"]["files"]}
    assert hashes == {p.relative_to(SAMPLE).as_posix(): hashlib.sha256(
        p.read_bytes()).hexdigest() for p in SAMPLE.rglob("*") if p.is_file()}
    assert record["analysis"]["n_boot"] == 200
    page = (one / "report.html").read_text(encoding="utf-8")
    expected = CO.CohortAnalysis.build(SAMPLE, n_boot=200).consistency
    for value in expected["alpha"]:
        assert f">{value:.3f}<" in page
    assert "Traceback" not in page
    executed = nbformat.read(one / "report.ipynb", as_version=4)
    assert not [o for c in executed.cells if c.cell_type == "code" for o in c.outputs
                if o.output_type == "error"]
    csv_alpha = pd.read_csv(one / "internal_consistency.csv")["alpha"]
    np.testing.assert_allclose(csv_alpha, expected["alpha"], rtol=1e-9)
