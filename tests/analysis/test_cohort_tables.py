"""Tests of the cohort tables (sensoryprofile/analysis/cohort.py).

Expected values come from outside the code under test (see the comments):
hand computations, published values, enumeration, scipy's own routines.
"""

from __future__ import annotations

import dataclasses
import re

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps

from sensoryprofile import columns as C
from sensoryprofile.analysis import cohort as CO
from sensoryprofile.analysis import provenance as PV
from sensoryprofile.analysis import psychometrics as PSY
from sensoryprofile.analysis import stats as ST
from sensoryprofile.errors import UsageError
from sensoryprofile.instruments import load_instrument
from sensoryprofile.reports import cohort as RC
from tests.paths import ROOT, SAMPLE

NOTEBOOK = ROOT / "notebooks" / "cohort_analysis.ipynb"


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
    hidden = diag[diag["note"] == "fewer than 5 children"]
    assert hidden["n"].isna().all() and hidden["share"].isna().all()
    assert (diag["n"].dropna() >= 5).all()


# ---------------------------------------------------------------------------
# change and subgroup suppression
# ---------------------------------------------------------------------------
def test_subgroup_suppression(dataset, analysis):
    changes = CO.intake_to_latest(dataset, "demo-child")
    compared = changes[changes["compared"] & (changes["score"] == "seeking")]
    kids = sorted(compared["child_id"].astype(str).unique())
    groups = {"All children": set(kids), "four": set(kids[:4]), "five": set(kids[:5]),
              "nobody": set()}
    table = CO.change_effects(changes, "demo-child", groups, n_boot=50)
    assert len(table) == 4 * 4 * 2
    for name, suppressed in (("four", True), ("nobody", True), ("five", False),
                             ("All children", False)):
        rows = table[table["group"] == name]
        assert (rows["suppressed"] == suppressed).all(), name
        if suppressed:
            assert rows["n"].isna().all()
            assert (rows["note"] == "fewer than 5 children").all()
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
    assert set(shown["Children"]) == {"fewer than 5 children"}
    assert set(shown["Rank-biserial r (95% interval)"]) == {""}


def test_change_statistics_are_stats_paired_change(dataset, analysis):
    changes = CO.intake_to_latest(dataset, "demo-child")
    rows = changes[changes["compared"] & (changes["score"] == "avoiding")]
    expected = ST.paired_change(np.abs(rows["from_z"]), np.abs(rows["to_z"]), n_boot=200)
    got = analysis.change[(analysis.change["group"] == "All children")
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
    # a standard normal cut at +-0.5 and +-1.5 (Phi from tables): Phi(-1.5) = 0.0668072,
    # Phi(-0.5) - Phi(-1.5) = 0.3085375 - 0.0668072 = 0.2417303,
    # Phi(0.5) - Phi(-0.5) = 0.6914625 - 0.3085375 = 0.3829249
    assert levels["expected_share"].tolist() == pytest.approx(
        [0.0668072, 0.2417303, 0.3829249, 0.2417303, 0.0668072], abs=1e-7)
    rated = dataset.goal_ratings.sort_values("date").drop_duplicates("goal_id", keep="last")
    assert levels["n"].sum() == len(rated)
    counts = rated["level"].value_counts()
    assert levels.set_index("level")["n"].to_dict() == {lv: int(counts.get(lv, 0))
                                                        for lv in range(-2, 3)}
    change = analysis.gas_change
    assert change["group"].iloc[0] == "All children"
    hidden = change[change["suppressed"]]
    assert hidden["n"].isna().all() and (hidden["note"] == "fewer than 5 children").all()


# ---------------------------------------------------------------------------
# tidy columns
# ---------------------------------------------------------------------------
TABLE_COLUMNS = {
    "sample": ["measure", "category", "n", "share", "median", "q1", "q3", "note"],
    "consistency": ["score", "score_name", "kind", "n_items", "n_complete", "n_incomplete",
                    "left_out",
                    "alpha", "alpha_low", "alpha_high", "omega", "omega_low", "omega_high",
                    "items_lowering_alpha", "note"],
    "items": ["score", "score_name", "kind", "item", "n_complete", "mean", "sd",
              "item_total_r", "alpha_if_deleted", "lowers_alpha", "loading"],
    "correlations": ["score_a", "score_name_a", "score_b", "score_name_b", "n",
                     "spearman_rho", "p_value"],
    "distribution": ["score", "score_name", "timepoint", "level", "classification", "n",
                     "share", "expected_share", "n_classified", "n_not_classified"],
    "change": ["group", "score", "score_name", "measure", *C.PAIRED_COLUMNS, "n_with_rci",
               "n_reliable", "share_reliable", "n_reliable_toward_typical",
               "share_reliable_toward_typical", "n_reliable_away_from_typical",
               "share_reliable_away_from_typical", "note"],
    "gas_levels": ["level", "n", "share", "expected_share"],
    "gas_change": ["group", *C.PAIRED_COLUMNS, "median_change_low", "median_change_high",
                   "note"],
    "gas_rho": ["n_children", "n_goals", "k0", "ms_between", "ms_within", "f", "df_between",
                "df_within", "p_value", "rho", "rho_low", "rho_high", "rho_assumed"],
}


def test_tidy_column_names(analysis):
    tables = analysis.tables()
    assert set(tables) == set(RC.CSV_FILES) == set(TABLE_COLUMNS)
    for name, frame in tables.items():
        assert list(frame.columns) == TABLE_COLUMNS[name], name
        for col in frame.columns:
            assert re.fullmatch(r"[a-z][a-z0-9_]*", col), col
            assert col not in ("pval", "p_val", "p_unc", "pvalue"), col
    # consistency: one row per quadrant and section, in definition order
    inst = load_instrument("demo-child")
    assert analysis.consistency["score"].tolist() == [
        s.id for s in inst.scores if s.kind in ("quadrant", "section")]



def test_unknown_instrument_is_named(dataset):
    with pytest.raises(UsageError, match="`instrument` must be one of .*demo-child.*'nope'"):
        RC.CohortReport.build(SAMPLE, instrument="nope", dataset=dataset, n_boot=10)



def test_docstring_examples():
    import doctest

    attempted = 0
    for module in (CO, PSY, PV, ST):
        result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
        assert result.failed == 0, module.__name__
        attempted += result.attempted
    assert attempted >= 10
