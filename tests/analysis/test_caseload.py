"""The caseload analyses (analysis/caseload.py, groups.py, outcomes.py): every
analysis checked against hand computations on a tiny clinic, small-group
suppression, filters, "no children match", nothing identifying.

The tiny clinic and its hand computations: tests/tiny_clinic.py.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps

from sensoryprofile import columns as C
from sensoryprofile.analysis import caseload as CL
from sensoryprofile.analysis import groups as GR
from sensoryprofile.analysis import outcomes as OC
from sensoryprofile.errors import UsageError
from tests.tiny_clinic import AS_OF, T2
from tests.tiny_clinic import row as group_row


# ---------------------------------------------------------------------------
# filtering
# ---------------------------------------------------------------------------
def test_filter_by_site_keeps_children_and_their_rows(clinic):
    north = GR.filter_dataset(clinic, site="North")
    assert north.children[C.CHILD_ID].tolist() == ["K1", "K2", "K6"]
    assert set(north.assessments[C.CHILD_ID]) == {"K1", "K2"}
    assert set(north.scores[C.CHILD_ID]) == {"K1", "K2"}
    assert north.goals[C.GOAL_ID].tolist() == ["G1", "G2", "G3"]
    assert set(north.goal_ratings[C.GOAL_ID]) == {"G1", "G2", "G3"}
    assert len(north.goal_ratings) == 6  # G1 x2 (the level-5 row was rejected), G2 x2, G3 x2
    assert len(clinic.children) == 6  # the input is not modified


def test_filter_by_therapist_ignores_case_and_spaces(clinic):
    ben = GR.filter_dataset(clinic, therapist="  ben ")
    assert ben.children[C.CHILD_ID].tolist() == ["K3", "K4"]
    assert ben.goals[C.GOAL_ID].tolist() == ["G4", "G5"]
    both = GR.filter_dataset(clinic, site="south", therapist="Ben")
    assert both.children[C.CHILD_ID].tolist() == ["K3", "K4"]


def test_filter_matching_nobody_gives_empty_tables(clinic):
    none = GR.filter_dataset(clinic, site="South", therapist="Ann")
    assert none.children.empty and none.goals.empty and none.scores.empty
    with pytest.raises(UsageError, match="`site` must be text"):
        GR.filter_dataset(clinic, site=3)


# ---------------------------------------------------------------------------
# caseload counts
# ---------------------------------------------------------------------------
def test_caseload_counts_by_site_therapist_and_diagnosis(clinic):
    counts = CL.caseload_counts(clinic, as_of=AS_OF)
    # default period: 2024-07-01 .. 2025-06-30 (12 months up to as_of)
    # referred in it: K3 (2025-03-01); discharged in it: K4 (2025-02-15)
    expected = {
        ("site", "North"): (2, 0, 0),          # K1, K2 active (K6 referred after as_of)
        ("site", "South"): (2, 1, 1),          # K3, K5 active; K3 referred; K4 discharged
        ("therapist", "Ann"): (2, 0, 0),       # K1, K2
        ("therapist", "Ben"): (1, 1, 1),       # K3 active and referred; K4 discharged
        ("therapist", "not recorded"): (1, 0, 0),  # K5: blank therapist
        ("diagnosis", "ADHD"): (2, 1, 0),      # K1 (autism;ADHD), K3
        ("diagnosis", "autism"): (3, 0, 0),    # K1, K2, K5: K1 counts under both
        ("diagnosis", "not recorded"): (0, 0, 1),  # K4: blank diagnoses, discharged
        ("all", "All children"): (4, 1, 1),
    }
    assert len(counts) == len(expected)
    for (by, group), numbers in expected.items():
        row = group_row(counts, by, group)
        assert (row[C.N_ACTIVE], row[C.N_REFERRED], row[C.N_DISCHARGED]) == numbers
    # report order: sites, therapists, diagnoses ("not recorded" last), all
    assert counts[C.GROUP].tolist() == ["North", "South", "Ann", "Ben", "not recorded",
                                         "ADHD", "autism", "not recorded", "All children"]


def test_caseload_counts_period_and_activity_boundaries(clinic):
    # as of 2025-02-15, K4's discharge day: discharged on as_of is no longer active
    counts = CL.caseload_counts(clinic, as_of="2025-02-15", period_start="2025-02-15",
                                period_end="2025-02-15")
    all_row = group_row(counts, "all", "All children")
    # referred by then: K1, K2, K4, K5 (K3 on 2025-03-01, K6 later); active: K1, K2, K5
    assert (all_row[C.N_ACTIVE], all_row[C.N_REFERRED], all_row[C.N_DISCHARGED]) == (3, 0, 1)
    with pytest.raises(UsageError, match="period_start"):
        CL.caseload_counts(clinic, as_of=AS_OF, period_start="2025-06-01",
                           period_end="2025-05-01")
    with pytest.raises(UsageError, match="after `as_of`"):
        CL.caseload_counts(clinic, as_of=AS_OF, period_end="2025-07-31")
    with pytest.raises(UsageError, match="`as_of` must be a date"):
        CL.caseload_counts(clinic, as_of="30/06/2025")


# ---------------------------------------------------------------------------
# coverage
# ---------------------------------------------------------------------------
def test_coverage_lists(clinic):
    cov = CL.coverage(clinic, as_of=AS_OF)
    # K3 referred 2025-03-01, never assessed: Mar 31 + Apr 30 + May 31 + Jun 29 = 121 days
    assert cov.lists["no_intake"][C.CHILD_ID].tolist() == ["K3"]
    assert cov.lists["no_intake"][C.DAYS_SINCE_REFERRAL].tolist() == [121]
    # latest assessments: K1 2025-05-01 (a teacher's form counts) -> due 2025-11-01, fine;
    # K2 2024-08-01 -> due 2025-02-01, 149 days late (28+31+30+31+29);
    # K5 2024-05-10 -> due 2024-11-10, 232 days late. Most overdue first.
    overdue = cov.lists["reassessment_overdue"]
    assert overdue[C.CHILD_ID].tolist() == ["K5", "K2"]
    assert overdue[C.DAYS_OVERDUE].tolist() == [232, 149]
    assert overdue[C.DUE_DATE].dt.date.astype(str).tolist() == ["2024-11-10", "2025-02-01"]
    # the rating window is after 2025-03-30: G1 last rated 2024-10-20 (253 days ago), G3
    # 2024-11-10 (232); G2 (2025-05-20) and G6 (2025-04-01) were rated in it; G4 was set
    # 2025-05-01, inside it, so is not due yet; G5 is K4's (not active)
    unrated = cov.lists["goals_unrated"]
    assert unrated[C.GOAL_ID].tolist() == ["G1", "G3"]
    assert unrated[C.DAYS_WITHOUT_RATING].tolist() == [253, 232]
    # past target, never at level 0: G3 (target 2024-08-10: 324 days), G6 (2025-05-15: 46)
    past = cov.lists["goals_past_target"]
    assert past[C.GOAL_ID].tolist() == ["G3", "G6"]
    assert past[C.DAYS_PAST_TARGET].tolist() == [324, 46]
    assert past[C.LATEST_LEVEL].tolist() == [-2, -1]


def test_coverage_summary_and_intervals(clinic):
    cov = CL.coverage(clinic, as_of=AS_OF)
    columns = [C.N_ACTIVE, C.N_NO_INTAKE, C.N_REASSESSMENT_OVERDUE, C.N_GOALS,
               C.N_GOALS_UNRATED, C.N_GOALS_PAST_TARGET]
    expected = {
        ("site", "North"): [2, 0, 1, 3, 2, 1],      # K1, K2: G1 G2 G3
        ("site", "South"): [2, 1, 1, 2, 0, 1],      # K3, K5: G4 G6
        ("therapist", "Ann"): [2, 0, 1, 3, 2, 1],
        ("therapist", "Ben"): [1, 1, 0, 1, 0, 0],   # K3 only (K4 discharged)
        ("therapist", "not recorded"): [1, 0, 1, 1, 0, 1],  # K5
        ("all", "All children"): [4, 1, 2, 5, 2, 2],
    }
    assert len(cov.summary) == len(expected)
    for (by, group), numbers in expected.items():
        assert group_row(cov.summary, by, group)[columns].tolist() == numbers
    # a 12-month reassessment interval: K5 due 2025-05-10 (51 days late), K2 not yet due
    longer = CL.coverage(clinic, as_of=AS_OF, reassessment_interval_months=12)
    assert longer.lists["reassessment_overdue"][C.DAYS_OVERDUE].tolist() == [51]
    # rating every 12 months: the window starts 2024-06-30, G1 and G3 were rated after it
    assert CL.coverage(clinic, as_of=AS_OF, rating_interval_months=12
                       ).lists["goals_unrated"].empty
    with pytest.raises(UsageError, match="rating_interval_months"):
        CL.coverage(clinic, as_of=AS_OF, rating_interval_months=0)


# ---------------------------------------------------------------------------
# sensory outcomes
# ---------------------------------------------------------------------------
def test_sensory_series_one_per_child_prefers_the_caregiver(clinic):
    series = OC.sensory_series(clinic, as_of=AS_OF)
    # K5 has one assessment and K3 none; K1's teacher series (A9 -> A10) is later but the
    # caregiver's (A1 -> A3) is the form's own respondent
    assert sorted(set(series[C.CHILD_ID])) == ["K1", "K2", "K4"]
    assert len(series) == 12  # 3 children x 4 quadrants
    k1 = series[series[C.CHILD_ID] == "K1"]
    assert set(k1[C.FROM_ASSESSMENT]) == {"A1"} and set(k1[C.TO_ASSESSMENT]) == {"A3"}


def test_classification_distribution(clinic):
    dist = OC.classification_distribution(OC.sensory_series(clinic, as_of=AS_OF), min_group=2)
    # intake -> latest levels: seeking K1 +2 -> 0, K2 +2 -> +2, K4 -2 -> 0;
    # avoiding +2 -> +2, 0 -> 0, +2 -> 0; sensitivity 0 -> +2, 0 -> 0, 0 -> 0;
    # registration -2 -> 0, 0 -> 0, +2 -> +2. Shares of 3 children.
    expected = {
        "seeking": ({2: 2, -2: 1}, {0: 2, 2: 1}),
        "avoiding": ({2: 2, 0: 1}, {2: 1, 0: 2}),
        "sensitivity": ({0: 3}, {0: 2, 2: 1}),
        "registration": ({-2: 1, 0: 1, 2: 1}, {0: 2, 2: 1}),
    }
    assert dist[C.SCORE].unique().tolist() == list(expected)  # Dunn's order
    assert len(dist) == 4 * 2 * 5  # every classification, no "not classified"
    for score, (intake, latest) in expected.items():
        for point, counts in (("intake", intake), ("latest", latest)):
            part = dist[(dist[C.SCORE] == score) & (dist[C.TIMEPOINT] == point)]
            got = dict(zip(part[C.LEVEL].astype(int), part[C.COUNT], strict=True))
            assert got == {lv: counts.get(lv, 0) for lv in (-2, -1, 0, 1, 2)}
            assert np.allclose(part[C.SHARE], part[C.COUNT] / 3)
    typical = dist[(dist[C.SCORE] == "seeking") & (dist[C.LEVEL] == 0)
                   & (dist[C.TIMEPOINT] == "latest")].iloc[0]
    assert typical[C.CLASSIFICATION] == "Just Like the Majority of Others"
    assert typical[C.SCORE_NAME] == "Sensory seeking"


def test_reliable_change_rates(clinic):
    rates = OC.reliable_change_rates(OC.sensory_series(clinic, as_of=AS_OF), min_group=2)
    rates = rates.set_index(C.SCORE)
    # seeking: K1 60 -> 30 (RCI -30/4.16 = -7.2, toward typical), K2 60 -> 60 (none),
    # K4 15 -> 30 (+3.6, toward typical): 2 of 3 reliable improvements; all 3 atypical at
    # intake, K1 and K4 now typical
    assert rates.loc["seeking", [C.N_COMPARED, C.N_WITH_RCI, C.N_RELIABLE_IMPROVEMENT,
                                 C.N_RELIABLE_DETERIORATION, C.N_TOWARD_TYPICAL,
                                 C.N_ATYPICAL_AT_INTAKE, C.N_NOW_TYPICAL]
                     ].tolist() == [3, 3, 2, 0, 2, 3, 2]
    assert rates.loc["seeking", C.SHARE_RELIABLE_IMPROVEMENT] == pytest.approx(2 / 3)
    assert rates.loc["seeking", C.SHARE_NOW_TYPICAL] == pytest.approx(2 / 3)
    # avoiding: only K4 60 -> 30 (-6.7) toward typical; K1 (+2) and K4 (+2) atypical at
    # intake, K4 now typical
    assert rates.loc["avoiding", [C.N_RELIABLE_IMPROVEMENT, C.N_RELIABLE_DETERIORATION,
                                  C.N_ATYPICAL_AT_INTAKE, C.N_NOW_TYPICAL]].tolist() == [
        1, 0, 2, 1]
    assert rates.loc["avoiding", C.SHARE_NOW_TYPICAL] == pytest.approx(0.5)
    # sensitivity: K1 30 -> 60 (+6.4) away from typical: a reliable deterioration; nobody
    # atypical at intake, so "now typical" has no base
    assert rates.loc["sensitivity", C.N_RELIABLE_DETERIORATION] == 1
    assert rates.loc["sensitivity", C.SHARE_RELIABLE_DETERIORATION] == pytest.approx(1 / 3)
    assert np.isnan(rates.loc["sensitivity", C.SHARE_NOW_TYPICAL])
    # registration: K1 15 -> 30 (+3.6) toward typical; K4 stays at +2
    assert rates.loc["registration", [C.N_RELIABLE_IMPROVEMENT, C.N_TOWARD_TYPICAL,
                                      C.N_ATYPICAL_AT_INTAKE, C.N_NOW_TYPICAL]].tolist() == [
        1, 1, 2, 1]
    assert not rates[C.SUPPRESSED].any()


# ---------------------------------------------------------------------------
# goal outcomes and calibration
# ---------------------------------------------------------------------------
# Latest reviews (unweighted goals, rho .3):
#   K1 2025-05-20: G1 +1, G2 0 -> T = 50 + 10*1/sqrt(2.6) = 56.20; baseline (-1, -2):
#      50 - 3*T2 = 31.39; change 4*T2 = +24.81
#   K2 2024-11-10: G3 -2 -> T 30, baseline 40, change -10
#   K4 2024-03-01: G5 0 -> T 50, baseline 40, change +10
#   K5 2025-04-01: G6 -1 -> T 40, baseline 40, change 0
#   K3: G4 never rated, no review
K1_T, K1_BASE = 50 + T2, 50 - 3 * T2


def test_goal_outcomes_whole_caseload(clinic):
    out = OC.goal_outcomes(clinic, as_of=AS_OF, min_group=2, n_boot=200)
    row = group_row(out, "all", "All children")
    assert row[C.N_CHILDREN] == 4
    # goals of K1..K5: 6; rated: all but G4; met at the latest rating: G1 (+1), G2, G5 (0)
    assert (row[C.N_GOALS], row[C.N_GOALS_RATED], row[C.N_MET]) == (6, 5, 3)
    assert row[C.SHARE_MET] == pytest.approx(3 / 5)
    # follow-up T sorted: 30, 40, 50, 56.20 -> median 45, quartiles (linear) 30 + .75*10 =
    # 37.5 and 50 + .25*6.20 = 51.55
    assert row[C.MEDIAN_T] == pytest.approx(45.0)
    assert row[C.T_Q1] == pytest.approx(37.5)
    assert row[C.T_Q3] == pytest.approx(50 + 0.25 * T2)
    assert row[C.MEDIAN_BASELINE_T] == pytest.approx(40.0)  # 31.39, 40, 40, 40
    # changes -10, 0, +10, +24.81 -> median +5
    assert row[C.MEDIAN_T_CHANGE] == pytest.approx(5.0)
    # Wilcoxon: the zero is dropped; |d| 10, 10, 24.81 rank 1.5, 1.5, 3; W+ = 4.5, W- = 1.5;
    # rank-biserial (4.5 - 1.5) / 6 = 0.5; the statistic is min(W+, W-) = 1.5
    assert row[C.WILCOXON_W] == pytest.approx(1.5)
    assert row[C.RANK_BISERIAL] == pytest.approx(0.5)
    expected_p = sps.wilcoxon([4 * T2, -10, 10], zero_method="wilcox").pvalue
    assert row[C.P_VALUE] == pytest.approx(expected_p)
    assert row[C.RANK_BISERIAL_LOW] <= 0.5 <= row[C.RANK_BISERIAL_HIGH]
    assert row[C.T_CHANGE_CI_LOW] <= 5.0 <= row[C.T_CHANGE_CI_HIGH]
    assert not row[C.SUPPRESSED] and pd.isna(row[C.SUPPRESSION])


def test_goal_outcomes_by_group(clinic):
    out = OC.goal_outcomes(clinic, as_of=AS_OF, min_group=2, n_boot=200)
    north = group_row(out, "site", "North")  # K1, K2
    assert north[C.N_CHILDREN] == 2
    assert north[C.MEDIAN_T] == pytest.approx((50 + T2 + 30) / 2)
    assert north[C.MEDIAN_T_CHANGE] == pytest.approx((4 * T2 - 10) / 2)
    assert north[C.SHARE_MET] == pytest.approx(2 / 3)  # G1, G2 met; G3 at -2
    south = group_row(out, "site", "South")  # K4, K5 reviewed; K3's G4 unrated
    assert (south[C.N_CHILDREN], south[C.N_GOALS], south[C.N_GOALS_RATED]) == (2, 3, 2)
    assert south[C.MEDIAN_T] == pytest.approx(45.0)
    assert south[C.SHARE_MET] == pytest.approx(0.5)
    autism = group_row(out, "diagnosis", "autism")  # K1, K2, K5: T 56.20, 30, 40
    assert autism[C.N_CHILDREN] == 3
    assert autism[C.MEDIAN_T] == pytest.approx(40.0)
    assert autism[C.MEDIAN_T_CHANGE] == pytest.approx(0.0)  # +24.81, -10, 0
    # one child with a review: Ben (K4; K3 has none), not recorded (K5), ADHD (K1)
    for by, group in (("therapist", "Ben"), ("therapist", "not recorded"),
                      ("diagnosis", "ADHD"), ("diagnosis", "not recorded")):
        row = group_row(out, by, group)
        assert row[C.N_CHILDREN] == 1 and row[C.SUPPRESSED]
        assert row[C.SUPPRESSION] == "fewer than 2 children"
        assert np.isnan(row[[C.SHARE_MET, C.MEDIAN_T, C.MEDIAN_T_CHANGE, C.P_VALUE,
                             C.RANK_BISERIAL]].astype(float)).all()


def test_small_groups_are_suppressed_at_five_by_default(clinic):
    out = OC.goal_outcomes(clinic, as_of=AS_OF, n_boot=50)
    assert out[C.SUPPRESSED].all()  # 4 children at most
    assert set(out[C.SUPPRESSION]) == {"fewer than 5 children"}
    assert out[[C.MEDIAN_T, C.T_Q1, C.T_Q3, C.MEDIAN_T_CHANGE, C.WILCOXON_W,
                C.RANK_BISERIAL_LOW]].isna().all().all()
    assert group_row(out, "all", "All children")[C.N_GOALS] == 6  # counts stay
    series = OC.sensory_series(clinic, as_of=AS_OF)
    assert OC.classification_distribution(series)[C.SHARE].isna().all()
    assert OC.reliable_change_rates(series)[C.SHARE_TOWARD_TYPICAL].isna().all()
    cal = OC.goal_calibration(clinic, as_of=AS_OF)
    assert cal.summary[C.FLAG].isna().all() and cal.levels.empty
    with pytest.raises(UsageError, match="min_group"):
        OC.goal_outcomes(clinic, as_of=AS_OF, min_group=0)


def test_goal_calibration(clinic):
    cal = OC.goal_calibration(clinic, as_of=AS_OF, min_group=2)
    ann = group_row(cal.summary, "therapist", "Ann")
    # Ann's goals end at G1 +1, G2 0, G3 -2; mean T of K1, K2 = (56.20 + 30) / 2 = 43.10
    assert ann[C.N_GOALS_RATED] == 3
    assert ann[C.MEAN_T] == pytest.approx((50 + T2 + 30) / 2)
    assert ann[C.SHARE_TOP] == 0 and ann[C.SHARE_BELOW] == pytest.approx(1 / 3)
    assert ann[C.FLAG] == OC.TOO_HARD  # mean T below 45
    assert "mean follow-up T 43.1 is below 45" in ann[C.FLAG_REASON]
    everyone = group_row(cal.summary, "all", "All children")
    # five rated goals: -2 (G3), -1 (G6), 0 (G2, G5), +1 (G1); mean T (56.20+30+50+40)/4
    assert everyone[C.MEAN_T] == pytest.approx((K1_T + 120) / 4)
    assert everyone[C.SHARE_BELOW] == pytest.approx(2 / 5)
    assert group_row(cal.summary, "therapist", "Ben")[C.SUPPRESSED]  # one child with a review
    levels = cal.levels
    assert levels[C.THERAPIST].unique().tolist() == ["Ann", "All children"]
    ann_levels = levels[levels[C.THERAPIST] == "Ann"]
    assert dict(zip(ann_levels[C.LEVEL], ann_levels[C.COUNT], strict=True)) == {
        -2: 1, -1: 0, 0: 1, 1: 1, 2: 0}
    assert set(ann_levels[C.N]) == {3} and ann_levels[C.SHARE].sum() == pytest.approx(1)


@pytest.mark.parametrize(("mean_t", "top", "below", "flag"), [
    (61.6, 0.21, 0.06, OC.TOO_EASY),     # both signs of easy goals
    (52.0, 0.25, 0.10, OC.TOO_EASY),     # many +2s alone
    (55.5, 0.05, 0.20, OC.TOO_EASY),     # a high mean alone
    (42.5, 0.00, 0.49, OC.TOO_HARD),     # a low mean alone
    (48.0, 0.02, 0.55, OC.TOO_HARD),     # most below 0 alone
    (50.0, 0.07, 0.28, OC.AS_EXPECTED),  # the expected shape
    (55.0, 0.20, 0.50, OC.AS_EXPECTED),  # thresholds are strict
    (44.0, 0.30, 0.60, OC.MIXED),
])
def test_calibration_flag_thresholds(mean_t, top, below, flag):
    got, reason = OC.calibration_flag(mean_t, top, below)
    assert got == flag and reason


# ---------------------------------------------------------------------------
# data quality
# ---------------------------------------------------------------------------
def test_data_quality_counts_by_table_and_rule(clinic):
    problems, accounting = CL.data_quality(clinic.report)
    # children first (dataset order): "K 7" breaks the ID rule; then the two ratings off
    # the scale (G1 rated 5, G3 rated 7), counted under one rule
    assert problems[C.TABLE].tolist() == ["children", "goal_ratings"]
    assert problems[C.COUNT].tolist() == [1, 2]
    assert problems[C.RULE].iloc[0].startswith("IDs use 1 to 64 letters")
    assert problems[C.RULE].iloc[1].startswith("level is -2, -1, 0, +1 or +2")
    assert set(problems[C.ACTION]) == {"row rejected"}
    counts = accounting.set_index("table")[["rows_read", "rows_accepted", "rows_rejected"]]
    assert counts.loc["children"].tolist() == [7, 6, 1]
    # G1 x3 and G3 x3 (one bad row each), G2 x2, G5 x1, G6 x2
    assert counts.loc["goal_ratings"].tolist() == [11, 9, 2]
    assert accounting["reconciles"].all()
    assert "K 7" not in problems.to_csv()  # counts by rule only: no values, no IDs
