"""Tests of the psychometrics (sensoryprofile/analysis/psychometrics.py).

Expected values come from outside the code under test: hand computations
written out in comments, a published value from R, exhaustive enumeration,
scipy's own routines (scipy.stats.bootstrap, wilcoxon, f_oneway, optimize)
and hashes computed here with hashlib.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import optimize
from scipy import stats as sps

from sensoryprofile.analysis import psychometrics as PSY
from sensoryprofile.analysis import stats as ST
from sensoryprofile.errors import UsageError
from sensoryprofile.instruments import load_instrument
from tests.paths import ROOT

NOTEBOOK = ROOT / "notebooks" / "cohort_analysis.ipynb"


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
    assert PSY.cronbach_alpha(HAND_ITEMS) == pytest.approx(HAND_ALPHA, abs=1e-12)
    assert round(HAND_ALPHA, 6) == 0.950067


def test_alpha_published_mtcars():
    # the published data, checked: column sums 198, 4694, 118, 90 (mtcars means
    # 6.1875, 146.6875, 3.6875, 2.8125 times 32 cars)
    assert MTCARS.sum(axis=0).tolist() == [198, 4694, 118, 90]
    assert PSY.cronbach_alpha(MTCARS) == pytest.approx(0.09463206, abs=5e-9)


def test_alpha_drops_incomplete_rows():
    with_gap = np.vstack([HAND_ITEMS, [1, np.nan, 5, 5]])
    assert PSY.cronbach_alpha(with_gap) == pytest.approx(HAND_ALPHA, abs=1e-12)
    assert np.isnan(PSY.cronbach_alpha(HAND_ITEMS[:1]))


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
    fitted, converged = PSY.one_factor_loadings(cov)
    assert bool(converged)
    np.testing.assert_allclose(fitted, lam, atol=1e-9)
    assert float(PSY.omega_from_covariance(cov)) == pytest.approx(6.76 / 9.02, abs=1e-9)


def test_omega_equals_alpha_under_tau_equivalence():
    # every covariance c = 0.5, every variance v = 1, k = 4:
    # alpha = k c / (v + (k - 1) c) = 2 / 2.5 = 0.8; lambda = sqrt(c) for every
    # item, so omega = (4 sqrt(.5))^2 / (8 + 4 * .5) = 8 / 10 = 0.8 too.
    cov = np.full((4, 4), 0.5) + np.eye(4) * 0.5
    assert float(PSY.alpha_from_covariance(cov)) == pytest.approx(0.8, abs=1e-12)
    assert float(PSY.omega_from_covariance(cov)) == pytest.approx(0.8, abs=1e-9)


def test_minres_matches_an_independent_optimiser(intake_items):
    """On every scale of the sample, the Gauss-Seidel minres fit reaches the
    least residual sum of squares that scipy's L-BFGS-B finds from several
    starts (same bounds: no negative unique variance)."""
    inst = load_instrument("demo-child")
    for score in inst.scores:
        if score.kind not in PSY.CONSISTENCY_KINDS:
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
        lam, converged = PSY.one_factor_loadings(cov)
        assert bool(converged), score.id
        assert residual(lam) <= best + 1e-9, score.id


def test_heywood_case_is_bounded():
    # item 1 "needs" a loading above its SD: its unique variance is held at 0
    cov = np.array([[1.0, 0.9, 0.9], [0.9, 1.0, 0.5], [0.9, 0.5, 1.0]])
    lam, converged = PSY.one_factor_loadings(cov)
    assert bool(converged)
    assert lam[0] == pytest.approx(1.0)
    assert 0 < float(PSY.omega_from_covariance(cov)) <= 1


# ---------------------------------------------------------------------------
# bootstrap intervals: the vectorised resamples are scipy's resamples
# ---------------------------------------------------------------------------
def _scipy_bca(statistic, columns, n_boot, seed):
    res = sps.bootstrap(tuple(columns), statistic, paired=True, vectorized=False,
                        method="BCa", n_resamples=n_boot, rng=np.random.default_rng(seed))
    return res.confidence_interval.low, res.confidence_interval.high


def test_alpha_and_omega_intervals_match_scipy_bootstrap(intake_items):
    seed, n_boot = 7, 400
    table = PSY.internal_consistency(intake_items, "demo-child", n_boot=n_boot, seed=seed)
    inst = load_instrument("demo-child")
    for score_id in ("seeking", "conduct"):
        x = intake_items[list(inst.score(score_id).items)].dropna().to_numpy()
        row = table[table["score"] == score_id].iloc[0]
        assert row["n_complete"] == len(x)
        assert row["alpha"] == pytest.approx(PSY.cronbach_alpha(x), abs=1e-12)
        low, high = _scipy_bca(lambda *c: PSY.cronbach_alpha(np.column_stack(c)), x.T,
                               n_boot, seed)
        assert (row["alpha_low"], row["alpha_high"]) == pytest.approx((low, high), abs=1e-10)
        low, high = _scipy_bca(lambda *c: PSY.mcdonald_omega(np.column_stack(c)), x.T,
                               n_boot, seed)
        assert (row["omega_low"], row["omega_high"]) == pytest.approx((low, high), abs=1e-7)


def test_resampled_covariances_are_direct_covariances():
    x = np.random.default_rng(0).normal(size=(12, 4))
    idx = ST.bootstrap_indices(12, 5, seed=3)
    boot = PSY.weighted_covariances(x, ST.resample_counts(idx, 12))
    for b in range(5):
        np.testing.assert_allclose(boot[b], np.cov(x[idx[b]], rowvar=False), atol=1e-12)
    jack = PSY.jackknife_covariances(x)
    for i in range(12):
        np.testing.assert_allclose(jack[i], np.cov(np.delete(x, i, axis=0), rowvar=False),
                                   atol=1e-12)


def test_bootstrap_is_seeded(intake_items):
    kw = {"kinds": ("quadrant",), "n_boot": 100}
    a = PSY.internal_consistency(intake_items, "demo-child", seed=1, **kw)
    b = PSY.internal_consistency(intake_items, "demo-child", seed=1, **kw)
    c = PSY.internal_consistency(intake_items, "demo-child", seed=2, **kw)
    pd.testing.assert_frame_equal(a, b)
    assert not np.allclose(a["alpha_low"], c["alpha_low"])


# ---------------------------------------------------------------------------
# item analysis
# ---------------------------------------------------------------------------
def test_item_statistics_against_direct_computation(intake_items):
    inst = load_instrument("demo-child")
    items = PSY.item_statistics(intake_items, inst)
    consistency = PSY.internal_consistency(intake_items, inst, n_boot=20)
    for score_id in ("avoiding", "visual"):
        x = intake_items[list(inst.score(score_id).items)].dropna().to_numpy()
        rows = items[items["score"] == score_id].reset_index(drop=True)
        alpha = PSY.cronbach_alpha(x)
        for i, row in rows.iterrows():
            rest = np.delete(x, i, axis=1)
            r = np.corrcoef(x[:, i], rest.sum(axis=1))[0, 1]
            assert row["item_total_r"] == pytest.approx(r, abs=1e-12)
            assert row["alpha_if_deleted"] == pytest.approx(PSY.cronbach_alpha(rest), abs=1e-12)
            assert row["lowers_alpha"] == (PSY.cronbach_alpha(rest) > alpha + 1e-10)
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
    m = PSY.item_matrix(rows, "demo-child")
    assert m.index.tolist() == ["A1", "A2"]  # the toddler row is another instrument's
    assert m.columns.name == "item" and len(m.columns) == 80
    assert m.loc["A1", ["dc_001", "dc_002"]].tolist() == [5.0, 1.0]
    assert np.isnan(m.loc["A1", "dc_003"])
    assert np.isnan(m.loc["A2", "dc_001"]) and np.isnan(m.loc["A2", "dc_002"])
    assert m.loc["A2", "dc_003"] == 2.0
    toddler = PSY.item_matrix(pd.DataFrame({"dt_01": ["9", "1"]}), "demo-toddler")
    assert np.isnan(toddler.iloc[0, 0]) and toddler.iloc[1, 0] == 1.0  # 9 = does not apply


def test_item_matrix_refuses_non_frames():
    with pytest.raises(UsageError, match="`assessments` must be a pandas DataFrame"):
        PSY.item_matrix([[1, 2]], "demo-child")
