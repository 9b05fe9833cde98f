"""The caseload report: every analysis checked against hand computations on a
tiny clinic, small-group suppression, filters, "no children match", nothing
identifying; and (slow) the real notebook rendered on the sample data.

The tiny clinic (as of 2025-06-30; the default period is then 2024-07-01 to
2025-06-30; reassessment every 6 months; ratings expected every 3 months):

===== ===== ======= ============ ========== ============ ====================
child site  therap. diagnoses    referred   discharged   assessments (demo-child)
===== ===== ======= ============ ========== ============ ====================
K1    North Ann     autism;ADHD  2024-01-10              A1 A2 A3 caregiver,
                                                         A9 A10 teacher
K2    North Ann     autism       2024-02-01              A4 A5
K3    South Ben     ADHD         2025-03-01              none
K4    South Ben     (blank)      2023-09-01 2025-02-15   A6 A7
K5    South (blank) autism       2024-05-01 2025-08-01   A8
K6    North Ann     autism       2025-08-01              none (after as_of)
===== ===== ======= ============ ========== ============ ====================

Active on 2025-06-30: K1, K2, K3, K5 (K4 discharged before, K5 after it; K6
not yet referred, so left out of everything).

Every child is 7-9 years old at its assessments (born 2016-06-01), so the
72-119 month norms apply: seeking 36.0/8.5, avoiding 35.6/8.4, sensitivity
36.5/8.5, registration 34.4/8.1 (mean/SD). All 15 items of a quadrant get the
same answer v, so raw = 15v:

- v=1 -> 15: z from -2.40 (registration) to -2.53 (sensitivity): level -2;
- v=2 -> 30: z from -0.54 to -0.76: level 0 (typical);
- v=4 -> 60: z from 2.76 to 3.16: level +2.

A change of 15 or 30 raw points is reliable on every quadrant: S_diff =
sqrt(2) * SD * sqrt(1 - r) is 4.16 (seeking: 8.5, r .88), 4.45 (avoiding: 8.4,
.86), 4.66 (sensitivity: 8.5, .85), 4.13 (registration: 8.1, .87), so the
threshold 1.96 * S_diff is at most 9.1 points.
"""

from __future__ import annotations

import html
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps

from sensoryprofile import caseload as CL
from sensoryprofile import columns as C
from sensoryprofile.caseload import CaseloadReport
from sensoryprofile.dataset import load_dataset
from sensoryprofile.errors import UsageError
from sensoryprofile.instruments import load_instrument

AS_OF = "2025-06-30"
TODAY = pd.Timestamp("2025-09-01").date()
NAMES = ("Alice Zed", "Bruno Yarrow", "Cleo Xu", "Dara Wren", "Emil Vale", "Faye Umber",
         "Gus Tarn")
DOB = "2016-06-01"
T2 = 10 / np.sqrt(2.6)  # one level on one of two unweighted goals: (1-.3)*2 + .3*4 = 2.6

# (assessment, child, date, respondent, v for seeking, avoiding, sensitivity, registration)
ASSESSMENTS = [
    ("A1", "K1", "2024-01-15", "caregiver", (4, 4, 2, 1)),
    ("A2", "K1", "2024-07-15", "caregiver", (2, 2, 2, 2)),
    ("A3", "K1", "2025-01-20", "caregiver", (2, 4, 4, 2)),
    ("A9", "K1", "2025-02-01", "teacher", (1, 1, 1, 1)),
    ("A10", "K1", "2025-05-01", "teacher", (4, 4, 4, 4)),
    ("A4", "K2", "2024-02-05", "caregiver", (4, 2, 2, 2)),
    ("A5", "K2", "2024-08-01", "caregiver", (4, 2, 2, 2)),
    ("A6", "K4", "2023-09-10", "caregiver", (1, 4, 2, 4)),
    ("A7", "K4", "2024-03-10", "caregiver", (2, 2, 2, 4)),
    ("A8", "K5", "2024-05-10", "caregiver", (2, 2, 2, 2)),
]


def _write_clinic(folder: Path) -> Path:
    inst = load_instrument("demo-child")
    children = pd.DataFrame({
        C.CHILD_ID: ["K1", "K2", "K3", "K4", "K5", "K6", "K 7"],  # "K 7": invalid, rejected
        C.DATE_OF_BIRTH: [DOB] * 7,
        C.SEX: ["F", "M", "F", "M", "X", "F", "M"],
        C.DIAGNOSES: ["autism;ADHD", "autism", "ADHD", "", "autism", "autism", "ADHD"],
        C.SITE: ["North", "North", "South", "South", "South", "North", "North"],
        C.THERAPIST: ["Ann", "Ann", "Ben", "Ben", "", "Ann", "Ann"],
        C.REFERRAL_DATE: ["2024-01-10", "2024-02-01", "2025-03-01", "2023-09-01",
                          "2024-05-01", "2025-08-01", "2024-01-01"],
        C.DISCHARGE_DATE: ["", "", "", "2025-02-15", "2025-08-01", "", ""],
        C.DISPLAY_NAME: list(NAMES),
    })
    rows = []
    for aid, child, date, respondent, values in ASSESSMENTS:
        v = dict(zip(("seeking", "avoiding", "sensitivity", "registration"), values,
                     strict=True))
        row = {C.ASSESSMENT_ID: aid, C.CHILD_ID: child, C.INSTRUMENT: "demo-child",
               C.DATE: date, C.RESPONDENT: respondent}
        row.update({item.id: v.get(item.quadrant, 2) for item in inst.items})
        rows.append(row)
    assessments = pd.DataFrame(rows)
    goals = pd.DataFrame({
        C.GOAL_ID: ["G1", "G2", "G3", "G4", "G5", "G6"],
        C.CHILD_ID: ["K1", "K1", "K2", "K3", "K4", "K5"],
        C.SET_DATE: ["2024-01-20", "2024-01-20", "2024-02-10", "2025-05-01", "2023-09-15",
                     "2024-05-15"],
        C.DOMAIN: ["self-care", "play/social", "fine motor", "self-care", "play/social",
                   "sensory regulation"],
        C.DESCRIPTION: [f"Secret goal text {k}" for k in range(1, 7)],
        C.BASELINE_LEVEL: [-1, -2, -1, -2, -1, -1],
        C.TARGET_DATE: ["2024-12-31", "2025-12-31", "2024-08-10", "2025-11-01", "2024-03-15",
                        "2025-05-15"],
    })
    ratings = pd.DataFrame([
        ("G1", "2024-04-20", 0), ("G1", "2024-10-20", 1), ("G1", "2024-12-01", 5),  # 5: bad
        ("G2", "2024-04-20", -1), ("G2", "2025-05-20", 0),
        ("G3", "2024-05-10", -1), ("G3", "2024-11-10", -2), ("G3", "2024-12-01", 7),  # bad
        ("G5", "2024-03-01", 0),
        ("G6", "2024-08-15", -1), ("G6", "2025-04-01", -1),
    ], columns=[C.GOAL_ID, C.DATE, C.LEVEL])
    ratings[C.NOTE] = "Secret note"
    folder.mkdir(parents=True, exist_ok=True)
    for name, frame in (("children", children), ("assessments", assessments),
                        ("goals", goals), ("goal_ratings", ratings)):
        frame.to_csv(folder / f"{name}.csv", index=False)
    return folder


@pytest.fixture(scope="module")
def clinic(tmp_path_factory):
    return load_dataset(_write_clinic(tmp_path_factory.mktemp("clinic")), today=TODAY)


@pytest.fixture(scope="module")
def report(clinic):
    return CaseloadReport.build(clinic, as_of=AS_OF, min_group=2, n_boot=200)


def _row(frame, by, group):
    rows = frame[(frame[CL.GROUP_BY] == by) & (frame[CL.GROUP] == group)]
    assert len(rows) == 1, (by, group)
    return rows.iloc[0]


# ---------------------------------------------------------------------------
# filtering
# ---------------------------------------------------------------------------
def test_filter_by_site_keeps_children_and_their_rows(clinic):
    north = CL.filter_dataset(clinic, site="North")
    assert north.children[C.CHILD_ID].tolist() == ["K1", "K2", "K6"]
    assert set(north.assessments[C.CHILD_ID]) == {"K1", "K2"}
    assert set(north.scores[C.CHILD_ID]) == {"K1", "K2"}
    assert north.goals[C.GOAL_ID].tolist() == ["G1", "G2", "G3"]
    assert set(north.goal_ratings[C.GOAL_ID]) == {"G1", "G2", "G3"}
    assert len(north.goal_ratings) == 6  # G1 x2 (the level-5 row was rejected), G2 x2, G3 x2
    assert len(clinic.children) == 6  # the input is not modified


def test_filter_by_therapist_ignores_case_and_spaces(clinic):
    ben = CL.filter_dataset(clinic, therapist="  ben ")
    assert ben.children[C.CHILD_ID].tolist() == ["K3", "K4"]
    assert ben.goals[C.GOAL_ID].tolist() == ["G4", "G5"]
    both = CL.filter_dataset(clinic, site="south", therapist="Ben")
    assert both.children[C.CHILD_ID].tolist() == ["K3", "K4"]


def test_filter_matching_nobody_gives_empty_tables(clinic):
    none = CL.filter_dataset(clinic, site="South", therapist="Ann")
    assert none.children.empty and none.goals.empty and none.scores.empty
    with pytest.raises(UsageError, match="`site` must be text"):
        CL.filter_dataset(clinic, site=3)


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
        row = _row(counts, by, group)
        assert (row[CL.N_ACTIVE], row[CL.N_REFERRED], row[CL.N_DISCHARGED]) == numbers
    # report order: sites, therapists, diagnoses ("not recorded" last), all
    assert counts[CL.GROUP].tolist() == ["North", "South", "Ann", "Ben", "not recorded",
                                         "ADHD", "autism", "not recorded", "All children"]


def test_caseload_counts_period_and_activity_boundaries(clinic):
    # as of 2025-02-15, K4's discharge day: discharged on as_of is no longer active
    counts = CL.caseload_counts(clinic, as_of="2025-02-15", period_start="2025-02-15",
                                period_end="2025-02-15")
    all_row = _row(counts, "all", "All children")
    # referred by then: K1, K2, K4, K5 (K3 on 2025-03-01, K6 later); active: K1, K2, K5
    assert (all_row[CL.N_ACTIVE], all_row[CL.N_REFERRED], all_row[CL.N_DISCHARGED]) == (3, 0, 1)
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
    assert cov.lists["no_intake"][CL.DAYS_SINCE_REFERRAL].tolist() == [121]
    # latest assessments: K1 2025-05-01 (a teacher's form counts) -> due 2025-11-01, fine;
    # K2 2024-08-01 -> due 2025-02-01, 149 days late (28+31+30+31+29);
    # K5 2024-05-10 -> due 2024-11-10, 232 days late. Most overdue first.
    overdue = cov.lists["reassessment_overdue"]
    assert overdue[C.CHILD_ID].tolist() == ["K5", "K2"]
    assert overdue[CL.DAYS_OVERDUE].tolist() == [232, 149]
    assert overdue[CL.DUE_DATE].dt.date.astype(str).tolist() == ["2024-11-10", "2025-02-01"]
    # the rating window is after 2025-03-30: G1 last rated 2024-10-20 (253 days ago), G3
    # 2024-11-10 (232); G2 (2025-05-20) and G6 (2025-04-01) were rated in it; G4 was set
    # 2025-05-01, inside it, so is not due yet; G5 is K4's (not active)
    unrated = cov.lists["goals_unrated"]
    assert unrated[C.GOAL_ID].tolist() == ["G1", "G3"]
    assert unrated[CL.DAYS_WITHOUT_RATING].tolist() == [253, 232]
    # past target, never at level 0: G3 (target 2024-08-10: 324 days), G6 (2025-05-15: 46)
    past = cov.lists["goals_past_target"]
    assert past[C.GOAL_ID].tolist() == ["G3", "G6"]
    assert past[CL.DAYS_PAST_TARGET].tolist() == [324, 46]
    assert past[C.LATEST_LEVEL].tolist() == [-2, -1]


def test_coverage_summary_and_intervals(clinic):
    cov = CL.coverage(clinic, as_of=AS_OF)
    columns = [CL.N_ACTIVE, CL.N_NO_INTAKE, CL.N_REASSESSMENT_OVERDUE, C.N_GOALS,
               CL.N_GOALS_UNRATED, CL.N_GOALS_PAST_TARGET]
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
        assert _row(cov.summary, by, group)[columns].tolist() == numbers
    # a 12-month reassessment interval: K5 due 2025-05-10 (51 days late), K2 not yet due
    longer = CL.coverage(clinic, as_of=AS_OF, reassessment_interval_months=12)
    assert longer.lists["reassessment_overdue"][CL.DAYS_OVERDUE].tolist() == [51]
    # rating every 12 months: the window starts 2024-06-30, G1 and G3 were rated after it
    assert CL.coverage(clinic, as_of=AS_OF, rating_interval_months=12
                       ).lists["goals_unrated"].empty
    with pytest.raises(UsageError, match="rating_interval_months"):
        CL.coverage(clinic, as_of=AS_OF, rating_interval_months=0)


# ---------------------------------------------------------------------------
# sensory outcomes
# ---------------------------------------------------------------------------
def test_sensory_series_one_per_child_prefers_the_caregiver(clinic):
    series = CL.sensory_series(clinic, as_of=AS_OF)
    # K5 has one assessment and K3 none; K1's teacher series (A9 -> A10) is later but the
    # caregiver's (A1 -> A3) is the form's own respondent
    assert sorted(set(series[C.CHILD_ID])) == ["K1", "K2", "K4"]
    assert len(series) == 12  # 3 children x 4 quadrants
    k1 = series[series[C.CHILD_ID] == "K1"]
    assert set(k1[C.FROM_ASSESSMENT]) == {"A1"} and set(k1[C.TO_ASSESSMENT]) == {"A3"}


def test_classification_distribution(clinic):
    dist = CL.classification_distribution(CL.sensory_series(clinic, as_of=AS_OF), min_group=2)
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
            part = dist[(dist[C.SCORE] == score) & (dist[CL.TIMEPOINT] == point)]
            got = dict(zip(part[C.LEVEL].astype(int), part[CL.COUNT], strict=True))
            assert got == {lv: counts.get(lv, 0) for lv in (-2, -1, 0, 1, 2)}
            assert np.allclose(part[CL.SHARE], part[CL.COUNT] / 3)
    typical = dist[(dist[C.SCORE] == "seeking") & (dist[C.LEVEL] == 0)
                   & (dist[CL.TIMEPOINT] == "latest")].iloc[0]
    assert typical[C.CLASSIFICATION] == "Just Like the Majority of Others"
    assert typical[C.SCORE_NAME] == "Sensory seeking"


def test_reliable_change_rates(clinic):
    rates = CL.reliable_change_rates(CL.sensory_series(clinic, as_of=AS_OF), min_group=2)
    rates = rates.set_index(C.SCORE)
    # seeking: K1 60 -> 30 (RCI -30/4.16 = -7.2, toward typical), K2 60 -> 60 (none),
    # K4 15 -> 30 (+3.6, toward typical): 2 of 3 reliable improvements; all 3 atypical at
    # intake, K1 and K4 now typical
    assert rates.loc["seeking", [CL.N_COMPARED, CL.N_WITH_RCI, CL.N_RELIABLE_IMPROVEMENT,
                                 CL.N_RELIABLE_DETERIORATION, CL.N_TOWARD_TYPICAL,
                                 CL.N_ATYPICAL_AT_INTAKE, CL.N_NOW_TYPICAL]
                     ].tolist() == [3, 3, 2, 0, 2, 3, 2]
    assert rates.loc["seeking", CL.SHARE_RELIABLE_IMPROVEMENT] == pytest.approx(2 / 3)
    assert rates.loc["seeking", CL.SHARE_NOW_TYPICAL] == pytest.approx(2 / 3)
    # avoiding: only K4 60 -> 30 (-6.7) toward typical; K1 (+2) and K4 (+2) atypical at
    # intake, K4 now typical
    assert rates.loc["avoiding", [CL.N_RELIABLE_IMPROVEMENT, CL.N_RELIABLE_DETERIORATION,
                                  CL.N_ATYPICAL_AT_INTAKE, CL.N_NOW_TYPICAL]].tolist() == [
        1, 0, 2, 1]
    assert rates.loc["avoiding", CL.SHARE_NOW_TYPICAL] == pytest.approx(0.5)
    # sensitivity: K1 30 -> 60 (+6.4) away from typical: a reliable deterioration; nobody
    # atypical at intake, so "now typical" has no base
    assert rates.loc["sensitivity", CL.N_RELIABLE_DETERIORATION] == 1
    assert rates.loc["sensitivity", CL.SHARE_RELIABLE_DETERIORATION] == pytest.approx(1 / 3)
    assert np.isnan(rates.loc["sensitivity", CL.SHARE_NOW_TYPICAL])
    # registration: K1 15 -> 30 (+3.6) toward typical; K4 stays at +2
    assert rates.loc["registration", [CL.N_RELIABLE_IMPROVEMENT, CL.N_TOWARD_TYPICAL,
                                      CL.N_ATYPICAL_AT_INTAKE, CL.N_NOW_TYPICAL]].tolist() == [
        1, 1, 2, 1]
    assert not rates[CL.SUPPRESSED].any()


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
    out = CL.goal_outcomes(clinic, as_of=AS_OF, min_group=2, n_boot=200)
    row = _row(out, "all", "All children")
    assert row[CL.N_CHILDREN] == 4
    # goals of K1..K5: 6; rated: all but G4; met at the latest rating: G1 (+1), G2, G5 (0)
    assert (row[C.N_GOALS], row[CL.N_GOALS_RATED], row[C.N_MET]) == (6, 5, 3)
    assert row[C.SHARE_MET] == pytest.approx(3 / 5)
    # follow-up T sorted: 30, 40, 50, 56.20 -> median 45, quartiles (linear) 30 + .75*10 =
    # 37.5 and 50 + .25*6.20 = 51.55
    assert row[CL.MEDIAN_T] == pytest.approx(45.0)
    assert row[CL.T_Q1] == pytest.approx(37.5)
    assert row[CL.T_Q3] == pytest.approx(50 + 0.25 * T2)
    assert row[CL.MEDIAN_BASELINE_T] == pytest.approx(40.0)  # 31.39, 40, 40, 40
    # changes -10, 0, +10, +24.81 -> median +5
    assert row[CL.MEDIAN_T_CHANGE] == pytest.approx(5.0)
    # Wilcoxon: the zero is dropped; |d| 10, 10, 24.81 rank 1.5, 1.5, 3; W+ = 4.5, W- = 1.5;
    # rank-biserial (4.5 - 1.5) / 6 = 0.5; the statistic is min(W+, W-) = 1.5
    assert row[CL.WILCOXON_W] == pytest.approx(1.5)
    assert row[CL.RANK_BISERIAL] == pytest.approx(0.5)
    expected_p = sps.wilcoxon([4 * T2, -10, 10], zero_method="wilcox").pvalue
    assert row[CL.P_VALUE] == pytest.approx(expected_p)
    assert row[CL.RANK_BISERIAL_LOW] <= 0.5 <= row[CL.RANK_BISERIAL_HIGH]
    assert row[CL.T_CHANGE_CI_LOW] <= 5.0 <= row[CL.T_CHANGE_CI_HIGH]
    assert not row[CL.SUPPRESSED] and pd.isna(row[CL.SUPPRESSION])


def test_goal_outcomes_by_group(clinic):
    out = CL.goal_outcomes(clinic, as_of=AS_OF, min_group=2, n_boot=200)
    north = _row(out, "site", "North")  # K1, K2
    assert north[CL.N_CHILDREN] == 2
    assert north[CL.MEDIAN_T] == pytest.approx((K1_T + 30) / 2)
    assert north[CL.MEDIAN_T_CHANGE] == pytest.approx((4 * T2 - 10) / 2)
    assert north[C.SHARE_MET] == pytest.approx(2 / 3)  # G1, G2 met; G3 at -2
    south = _row(out, "site", "South")  # K4, K5 reviewed; K3's G4 unrated
    assert (south[CL.N_CHILDREN], south[C.N_GOALS], south[CL.N_GOALS_RATED]) == (2, 3, 2)
    assert south[CL.MEDIAN_T] == pytest.approx(45.0)
    assert south[C.SHARE_MET] == pytest.approx(0.5)
    autism = _row(out, "diagnosis", "autism")  # K1, K2, K5: T 56.20, 30, 40
    assert autism[CL.N_CHILDREN] == 3
    assert autism[CL.MEDIAN_T] == pytest.approx(40.0)
    assert autism[CL.MEDIAN_T_CHANGE] == pytest.approx(0.0)  # +24.81, -10, 0
    # one child with a review: Ben (K4; K3 has none), not recorded (K5), ADHD (K1)
    for by, group in (("therapist", "Ben"), ("therapist", "not recorded"),
                      ("diagnosis", "ADHD"), ("diagnosis", "not recorded")):
        row = _row(out, by, group)
        assert row[CL.N_CHILDREN] == 1 and row[CL.SUPPRESSED]
        assert row[CL.SUPPRESSION] == "fewer than 2 children"
        assert np.isnan(row[[C.SHARE_MET, CL.MEDIAN_T, CL.MEDIAN_T_CHANGE, CL.P_VALUE,
                             CL.RANK_BISERIAL]].astype(float)).all()


def test_small_groups_are_suppressed_at_five_by_default(clinic):
    out = CL.goal_outcomes(clinic, as_of=AS_OF, n_boot=50)
    assert out[CL.SUPPRESSED].all()  # 4 children at most
    assert set(out[CL.SUPPRESSION]) == {"fewer than 5 children"}
    assert out[[CL.MEDIAN_T, CL.T_Q1, CL.T_Q3, CL.MEDIAN_T_CHANGE, CL.WILCOXON_W,
                CL.RANK_BISERIAL_LOW]].isna().all().all()
    assert _row(out, "all", "All children")[C.N_GOALS] == 6  # counts stay
    series = CL.sensory_series(clinic, as_of=AS_OF)
    assert CL.classification_distribution(series)[CL.SHARE].isna().all()
    assert CL.reliable_change_rates(series)[CL.SHARE_TOWARD_TYPICAL].isna().all()
    cal = CL.goal_calibration(clinic, as_of=AS_OF)
    assert cal.summary[CL.FLAG].isna().all() and cal.levels.empty
    with pytest.raises(UsageError, match="min_group"):
        CL.goal_outcomes(clinic, as_of=AS_OF, min_group=0)


def test_goal_calibration(clinic):
    cal = CL.goal_calibration(clinic, as_of=AS_OF, min_group=2)
    ann = _row(cal.summary, "therapist", "Ann")
    # Ann's goals end at G1 +1, G2 0, G3 -2; mean T of K1, K2 = (56.20 + 30) / 2 = 43.10
    assert ann[CL.N_GOALS_RATED] == 3
    assert ann[CL.MEAN_T] == pytest.approx((K1_T + 30) / 2)
    assert ann[CL.SHARE_TOP] == 0 and ann[CL.SHARE_BELOW] == pytest.approx(1 / 3)
    assert ann[CL.FLAG] == CL.TOO_HARD  # mean T below 45
    assert "mean follow-up T 43.1 is below 45" in ann[CL.FLAG_REASON]
    everyone = _row(cal.summary, "all", "All children")
    # five rated goals: -2 (G3), -1 (G6), 0 (G2, G5), +1 (G1); mean T (56.20+30+50+40)/4
    assert everyone[CL.MEAN_T] == pytest.approx((K1_T + 120) / 4)
    assert everyone[CL.SHARE_BELOW] == pytest.approx(2 / 5)
    assert _row(cal.summary, "therapist", "Ben")[CL.SUPPRESSED]  # one child with a review
    levels = cal.levels
    assert levels[C.THERAPIST].unique().tolist() == ["Ann", "All children"]
    ann_levels = levels[levels[C.THERAPIST] == "Ann"]
    assert dict(zip(ann_levels[C.LEVEL], ann_levels[CL.COUNT], strict=True)) == {
        -2: 1, -1: 0, 0: 1, 1: 1, 2: 0}
    assert set(ann_levels[CL.N]) == {3} and ann_levels[CL.SHARE].sum() == pytest.approx(1)


@pytest.mark.parametrize(("mean_t", "top", "below", "flag"), [
    (61.6, 0.21, 0.06, CL.TOO_EASY),     # both signs of easy goals
    (52.0, 0.25, 0.10, CL.TOO_EASY),     # many +2s alone
    (55.5, 0.05, 0.20, CL.TOO_EASY),     # a high mean alone
    (42.5, 0.00, 0.49, CL.TOO_HARD),     # a low mean alone
    (48.0, 0.02, 0.55, CL.TOO_HARD),     # most below 0 alone
    (50.0, 0.07, 0.28, CL.AS_EXPECTED),  # the expected shape
    (55.0, 0.20, 0.50, CL.AS_EXPECTED),  # thresholds are strict
    (44.0, 0.30, 0.60, CL.MIXED),
])
def test_calibration_flag_thresholds(mean_t, top, below, flag):
    got, reason = CL.calibration_flag(mean_t, top, below)
    assert got == flag and reason


# ---------------------------------------------------------------------------
# data quality
# ---------------------------------------------------------------------------
def test_data_quality_counts_by_table_and_rule(clinic):
    problems, accounting = CL.data_quality(clinic.report)
    # children first (dataset order): "K 7" breaks the ID rule; then the two ratings off
    # the scale (G1 rated 5, G3 rated 7), counted under one rule
    assert problems[CL.TABLE].tolist() == ["children", "goal_ratings"]
    assert problems[CL.COUNT].tolist() == [1, 2]
    assert problems[CL.RULE].iloc[0].startswith("IDs use 1 to 64 letters")
    assert problems[CL.RULE].iloc[1].startswith("level is -2, -1, 0, +1 or +2")
    assert set(problems[CL.ACTION]) == {"row rejected"}
    counts = accounting.set_index("table")[["rows_read", "rows_accepted", "rows_rejected"]]
    assert counts.loc["children"].tolist() == [7, 6, 1]
    # G1 x3 and G3 x3 (one bad row each), G2 x2, G5 x1, G6 x2
    assert counts.loc["goal_ratings"].tolist() == [11, 9, 2]
    assert accounting["reconciles"].all()
    assert "K 7" not in problems.to_csv()  # counts by rule only: no values, no IDs


# ---------------------------------------------------------------------------
# the report object
# ---------------------------------------------------------------------------
def test_report_tables_agree_with_the_analyses(report, clinic):
    assert report.as_of.isoformat() == AS_OF
    assert report.period_start.isoformat() == "2024-07-01"  # 12 months up to as_of
    assert report.n_children == 5 and report.message is None  # K6 referred after as_of
    header = dict(zip(report.header.iloc[:, 0], report.header.iloc[:, 1], strict=True))
    assert header["Active children"] == "4"
    assert header["Period"] == "1 July 2024 to 30 June 2025"
    caseload = report.caseload_table.set_index("Group")
    assert caseload.loc["All children", "Active children"] == "4"
    assert caseload.loc["Diagnosis: autism", "Active children"] == "3"
    assert report.counts_by_site.to_dict("list") == {"site": ["North", "South"],
                                                     "count": [2, 2]}
    outcome = report.outcome_table(C.SITE).set_index("Site")
    assert outcome.loc["All children", "Follow-up T: median (IQR)"] == "45.0 (37.5 to 51.6)"
    assert outcome.loc["All children", "Goals met"] == "60%"
    chart = report.tchange_chart(C.THERAPIST)
    assert chart[C.THERAPIST].tolist() == ["Ann", "Ben", "not recorded", "All children"]
    assert chart[CL.N].tolist() == [2, 1, 1, 4]
    assert np.isnan(chart[CL.MEDIAN].iloc[1]) and chart[CL.MEDIAN].iloc[3] == pytest.approx(5)
    table = report.classification_table.set_index("Quadrant")
    assert table.loc["Sensory seeking", "Much More Than Others"] == "67% → 33%"
    assert report.reliable_change_table.set_index("Quadrant").loc[
        "Sensory seeking", "Reliable improvement"] == "67% (2 of 3)"
    calibration = report.calibration_table.set_index("Therapist")
    assert calibration.loc["Expected when goals are well set", "0"] == "43%"
    assert calibration.loc["Ann", "-2"] == "33%"
    assert calibration.loc["Ben", "Check"] == "fewer than 2 children"
    assert calibration.loc["Ann", "Check"] == "goals may be too hard"
    assert calibration.loc["Ann", "Why"] == "mean follow-up T 43.1 is below 45"
    assert calibration.loc["Ann", "Mean follow-up T"] == "43.1"
    assert report.accounting_table["Read = accepted + rejected"].tolist() == ["yes"] * 4
    for chart_name in ("counts_site", "counts_therapist", "classification", "tchange_site",
                       "tchange_therapist", "tchange_diagnosis", "calibration"):
        width, height = report.figsize(chart_name)
        assert width <= 9 and height <= 10


def test_long_lists_are_capped_and_written_in_full(clinic, tmp_path):
    report = CaseloadReport.build(clinic, as_of=AS_OF, list_limit=1, n_boot=20)
    assert len(report.list_table("reassessment_overdue")) == 1
    page = report.list_html("reassessment_overdue")
    assert "Reassessments overdue (2)" in page and "K5" in page and "K2" not in page
    assert "… and 1 more (render the report with an output folder" in page
    paths = report.write_lists(tmp_path / "out")
    names = {p.name for p in paths}
    assert set(CL.LIST_FILES.values()) | set(CL.TABLE_FILES.values()) == names
    full = pd.read_csv(tmp_path / "out" / CL.LIST_FILES["reassessment_overdue"])
    assert full[C.CHILD_ID].tolist() == ["K5", "K2"]
    assert full[CL.DUE_DATE].tolist() == ["2024-11-10", "2025-02-01"]
    assert "the full list is in reassessments_overdue.csv beside this report" in (
        report.list_html("reassessment_overdue"))
    assert "reassessments_overdue.csv" in report.files_html()
    assert report.write_lists(None) == []


def test_no_children_match_gives_a_message_not_an_error(clinic):
    report = CaseloadReport.build(clinic, as_of=AS_OF, site="South", therapist="Ann",
                                  n_boot=20)
    assert report.message.startswith(
        "No children match these filters (site='South', therapist='Ann').")
    assert "Sites in this dataset: North, South." in report.message
    assert html.escape(report.message) in report.title_html()
    assert report.counts.empty and report.goal_outcomes.empty and report.series.empty
    assert report.caseload_table.empty and report.outcome_table(C.SITE).empty
    assert report.classification_chart.empty and report.calibration_levels.empty
    assert all(frame.empty for frame in report.lists.values())
    assert len(report.accounting_table) == 4  # data quality still covers the dataset


def test_report_filtered_by_site_and_by_therapist(clinic):
    north = CaseloadReport.build(clinic, as_of=AS_OF, site="north", min_group=2, n_boot=50)
    assert north.site == "north" and north.n_children == 2
    assert set(north.counts.loc[north.counts[CL.GROUP_BY] == "site", CL.GROUP]) == {"North"}
    assert north.lists["reassessment_overdue"][C.CHILD_ID].tolist() == ["K2"]
    everyone = _row(north.goal_outcomes, "all", "All children")
    assert everyone[CL.MEDIAN_T] == pytest.approx((K1_T + 30) / 2)
    ben = CaseloadReport.build(clinic, as_of=AS_OF, therapist="Ben", n_boot=50)
    assert ben.lists["no_intake"][C.CHILD_ID].tolist() == ["K3"]
    assert _row(ben.counts, "all", "All children")[CL.N_DISCHARGED] == 1  # K4


def test_nothing_identifying_in_any_table(report, tmp_path):
    frames = {name: getattr(report, name) for name in (
        "header", "counts", "coverage_summary", "series", "classification", "reliable_change",
        "goal_outcomes", "calibration", "calibration_levels", "quality", "accounting",
        "caseload_table", "coverage_table", "classification_table", "reliable_change_table",
        "calibration_table", "quality_table", "accounting_table", "classification_chart",
        "counts_by_site", "counts_by_therapist")}
    frames.update({f"list {k}": v for k, v in report.lists.items()})
    frames.update({f"shown {k}": report.list_table(k) for k in report.lists})
    frames.update({f"outcomes {g}": report.outcome_table(g) for g in CL.GROUPINGS})
    frames.update({f"chart {g}": report.tchange_chart(g) for g in CL.GROUPINGS})
    forbidden = [*NAMES, DOB, "Secret"]
    for name, frame in frames.items():
        assert C.DISPLAY_NAME not in frame.columns and C.DATE_OF_BIRTH not in frame.columns, name
        text = frame.to_csv(index=False)
        assert not [v for v in forbidden if v in text], name
    html_parts = [report.title_html(), *(report.list_html(k) for k in report.lists)]
    assert not [v for v in forbidden if any(v in part for part in html_parts)]
    for path in report.write_lists(tmp_path):
        text = path.read_text(encoding="utf-8")
        assert "display_name" not in text and not [v for v in forbidden if v in text]


def test_build_from_a_path_and_argument_errors(tmp_path):
    folder = _write_clinic(tmp_path / "clinic")
    report = CaseloadReport.build(folder, as_of=AS_OF, period_end="2025-03-31", n_boot=20)
    assert report.period_end.isoformat() == "2025-03-31"
    built = CaseloadReport.build(folder, period_end="2025-03-31", n_boot=20)
    assert built.as_of.isoformat() == "2025-03-31"  # as_of defaults to the period's end
    with pytest.raises(UsageError, match="`list_limit`"):
        CaseloadReport.build(folder, as_of=AS_OF, list_limit=0)
    with pytest.raises(UsageError, match="`chart` must be one of"):
        report.figsize("pie")
    with pytest.raises(UsageError, match="`name` must be one of"):
        report.list_html("everything")


# ---------------------------------------------------------------------------
# the notebook, rendered for real (slow)
# ---------------------------------------------------------------------------
ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "data" / "sample"
SAMPLE_AS_OF = "2026-09-30"
N_CHARTS = 7  # counts by site and by therapist, classification, 3 x T change, calibration


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    """The sample clinic rendered whole, for one site, and for a site nobody is at,
    in one kernel."""
    from sensoryprofile import reports

    out = tmp_path_factory.mktemp("caseload")
    session = reports.KernelSession()
    results = {}
    try:
        for name, filters in (("all", {}), ("hillcrest", {"site": "Hillcrest"}),
                              ("nobody", {"site": "Nowhere"})):
            results[name] = reports.render_caseload(SAMPLE, out_dir=out / name,
                                                    as_of=SAMPLE_AS_OF, session=session,
                                                    **filters)
    finally:
        session.shutdown()
    return out, results


def _page(rendered, name) -> str:
    out, results = rendered
    assert results[name].ok
    return (out / name / "caseload" / "report.html").read_text(encoding="utf-8")


def _clean(page: str) -> None:
    assert "Traceback" not in page
    assert 'data-mime-type="application/vnd.jupyter.stderr"' not in page
    assert "CaseloadReport.build" not in page and "plots.plot_" not in page  # code hidden


@pytest.mark.slow
@pytest.mark.parametrize(("name", "site"), [("all", None), ("hillcrest", "Hillcrest")])
def test_notebook_shows_what_the_package_computes(rendered, name, site):
    page = _page(rendered, name)
    _clean(page)
    expected = CaseloadReport.build(SAMPLE, as_of=SAMPLE_AS_OF, site=site)
    header = dict(zip(expected.header.iloc[:, 0], expected.header.iloc[:, 1], strict=True))
    active = header["Active children"]
    assert re.search(rf"<td>Active children</td>\s*<td>{active}</td>", page)
    caseload = expected.caseload_table.set_index("Group")
    assert caseload.loc["All children", "Active children"] == active
    outcome = expected.outcome_table(C.THERAPIST).set_index("Therapist")
    median_t = outcome.loc["All children", "Follow-up T: median (IQR)"]
    assert median_t and f"<td>{median_t}</td>" in page
    change = outcome.loc["All children", "Change in T: median (95% CI)"]
    assert f"<td>{change}</td>" in page
    assert len(re.findall(r"<img[^>]+src=\"data:image/", page)) == N_CHARTS
    # children by ID only
    children = load_dataset(SAMPLE).children
    assert not [n for n in children[C.DISPLAY_NAME].dropna() if n in page]
    # the full lists beside the report
    out, results = rendered
    folder = out / name / "caseload"
    for file_name in (*CL.LIST_FILES.values(), *CL.TABLE_FILES.values()):
        assert (folder / file_name).is_file(), file_name
    overdue = pd.read_csv(folder / CL.LIST_FILES["goals_past_target"])
    assert len(overdue) == len(expected.lists["goals_past_target"])
    assert f"Goals past their target date and not met ({len(overdue)})</h3>" in page
    if len(overdue) > CL.LIST_LIMIT:
        assert (f"… and {len(overdue) - CL.LIST_LIMIT} more (the full list is in "
                f"{CL.LIST_FILES['goals_past_target']} beside this report)") in page
    if site is not None:
        assert set(pd.read_csv(folder / CL.LIST_FILES["goals_past_target"])[C.SITE]) <= {site}


@pytest.mark.slow
def test_notebook_with_a_filter_that_matches_nobody(rendered):
    page = _page(rendered, "nobody")
    _clean(page)
    assert ("No children match these filters (site='Nowhere', therapist=None). Sites in this "
            "dataset: Hillcrest, Northside, Riverside.") in html.unescape(page)
    assert len(re.findall(r"<img[^>]+src=\"data:image/", page)) == N_CHARTS


def test_committed_notebook_is_layout_only():
    import nbformat

    nb = nbformat.read(ROOT / "notebooks" / "caseload_report.ipynb", as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code[0].metadata.get("tags") == ["parameters"]
    assert all(not c.get("outputs") and c.get("execution_count") is None for c in code)
    source = "\n".join(c.source for c in code)
    assert not re.search(r"^\s*(def|class) ", source, re.M) and ".merge(" not in source
    assert source.count("figsize=report.figsize(") == N_CHARTS
