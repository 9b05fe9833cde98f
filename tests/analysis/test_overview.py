"""The index page's row per child (analysis.overview), worked out by hand on
the tiny clinic of :mod:`tests.tiny_clinic` (as of 2025-06-30, reassessment
every 6 months), and checked against the caseload and child reports on the
sample clinic."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sensoryprofile import columns as C
from sensoryprofile.analysis.caseload import coverage
from sensoryprofile.analysis.overview import (
    DISCHARGED,
    DUE_SOON,
    NO_QUESTIONNAIRE,
    NOT_DUE,
    NOT_REFERRED,
    OVERDUE,
    OVERVIEW_COLUMNS,
    child_overview,
)
from tests.tiny_clinic import AS_OF, T2

T1 = 10.0  # one goal, weight 1: T = 50 + 10 * level / sqrt((1 - .3) + .3) = 50 + 10 * level


@pytest.fixture(scope="module")
def overview(clinic):
    return child_overview(clinic, as_of=AS_OF).set_index(C.CHILD_ID)


def test_one_row_per_accepted_child_in_the_dataset_order(clinic, overview):
    assert list(overview.reset_index().columns) == OVERVIEW_COLUMNS
    # "K 7" was rejected by validation: the index lists it from the batch's results
    assert overview.index.tolist() == ["K1", "K2", "K3", "K4", "K5", "K6"]
    assert overview.loc["K5", C.THERAPIST] == C.NOT_RECORDED  # blank therapist


def test_ages_in_completed_months(overview):
    # everyone was born 2016-06-01: on 2025-06-30, 9 years and 0 months
    assert overview[C.AGE_MONTHS].tolist() == [108.0] * 6


def test_reassessment_states_and_days(overview):
    states = overview[C.REASSESSMENT].to_dict()
    # K1: latest questionnaire A10 (teacher) 2025-05-01, due 2025-11-01: not due;
    # K2: A5 2024-08-01, due 2025-02-01: 149 days late (28+31+30+31+29);
    # K3: referred 2025-03-01, no questionnaire; K4 discharged 2025-02-15;
    # K5: A8 2024-05-10, due 2024-11-10: 232 days late (discharged only after as_of);
    # K6: referred 2025-08-01, after as_of
    assert states == {"K1": NOT_DUE, "K2": OVERDUE, "K3": NO_QUESTIONNAIRE, "K4": DISCHARGED,
                      "K5": OVERDUE, "K6": NOT_REFERRED}
    assert overview[C.DAYS_OVERDUE].dropna().to_dict() == {"K2": 149, "K5": 232}
    assert overview.loc["K1", C.DUE_DATE] == pd.Timestamp("2025-11-01")
    assert overview.loc["K1", C.LAST_ASSESSMENT] == pd.Timestamp("2025-05-01")
    assert overview[C.DUE_DATE].isna().tolist() == [False, False, True, True, False, True]


def test_due_soon_within_a_month(clinic):
    # K1's reassessment falls due on 2025-11-01: on 2025-10-01 it is one month
    # away (due soon); on 2025-09-30 a month and a day (not due); on 2025-11-02 overdue
    def state(as_of):
        table = child_overview(clinic, as_of=as_of).set_index(C.CHILD_ID)
        return table.loc["K1", C.REASSESSMENT]

    assert state("2025-09-30") == NOT_DUE
    assert state("2025-10-01") == DUE_SOON
    assert state("2025-11-01") == DUE_SOON  # due today is not yet late
    assert state("2025-11-02") == OVERDUE


def test_latest_goal_attainment_and_its_change(overview):
    # K1: G1 (baseline -1) and G2 (-2), unweighted; latest review 2025-05-20: G1 at +1
    # (carried from 2024-10-20; the 2024-12-01 rating of 5 was rejected), G2 at 0:
    # T = 50 + 10 * (1 + 0) / sqrt(2.6); at baseline 50 + 10 * (-1 - 2) / sqrt(2.6)
    k1 = overview.loc["K1"]
    assert k1[C.LAST_REVIEW] == pd.Timestamp("2025-05-20")
    assert k1[C.T_SCORE] == pytest.approx(50 + T2)
    assert k1[C.BASELINE_T] == pytest.approx(50 - 3 * T2)
    assert k1[C.T_CHANGE] == pytest.approx(4 * T2)
    # K2: G3 (baseline -1) at -2 on 2024-11-10: T 30, baseline 40, change -10
    # K4: G5 (baseline -1) at 0: T 50, +10; K5: G6 (baseline -1) still -1: T 40, 0
    assert overview[C.T_SCORE].dropna().to_dict() == pytest.approx(
        {"K1": 50 + T2, "K2": 50 - 2 * T1, "K4": 50.0, "K5": 50 - T1})
    assert overview[C.T_CHANGE].dropna().to_dict() == pytest.approx(
        {"K1": 4 * T2, "K2": -T1, "K4": T1, "K5": 0.0})
    # K3's goal has no rating yet: no review, no T-score
    assert np.isnan(overview.loc["K3", C.T_SCORE])


def test_reliable_change_since_the_previous_questionnaire(overview):
    # K1's report shows the caregiver's series (the teacher's A9, A10 are another
    # respondent): A2 (2,2,2,2) -> A3 (2,4,4,2). Avoiding and sensitivity go from
    # raw 30 (typical) to 60 (+2): +30 points, beyond 1.96 * S_diff (<= 9.1), away
    # from typical; seeking and registration do not change.
    counts = [C.N_COMPARED, C.N_RELIABLE, C.N_RELIABLE_TOWARD, C.N_RELIABLE_AWAY,
              C.N_RELIABLE_WITHIN]
    assert overview.loc["K1", C.FROM_DATE] == pd.Timestamp("2024-07-15")
    assert overview.loc["K1", counts].tolist() == [4, 2, 0, 2, 0]
    # K2: A4 -> A5 identical answers: nothing reliable
    assert overview.loc["K2", counts].tolist() == [4, 0, 0, 0, 0]
    # K4: A6 (1,4,2,4) -> A7 (2,2,2,4): seeking 15 -> 30 (level -2 -> 0) and avoiding
    # 60 -> 30 (+2 -> 0) move reliably toward typical
    assert overview.loc["K4", counts].tolist() == [4, 2, 2, 0, 0]
    # K5 has one questionnaire: nothing to compare; K3 and K6 have none
    assert pd.isna(overview.loc["K5", C.FROM_DATE])
    assert overview.loc["K5", counts].tolist() == [0, 0, 0, 0, 0]
    assert overview.loc[["K3", "K6"], counts].isna().all().all()


def test_as_of_leaves_later_records_out(clinic):
    # on 2024-12-31 K1's latest questionnaire is A2 (2024-07-15; A3 and the teacher's
    # come later): due 2025-01-15, within a month. A1 (4,4,2,1) -> A2 (2,2,2,2):
    # seeking and avoiding 60 -> 30 (+2 -> typical), registration 15 -> 30 (-2 ->
    # typical), all reliably toward typical; sensitivity unchanged.
    table = child_overview(clinic, as_of="2024-12-31").set_index(C.CHILD_ID)
    k1 = table.loc["K1"]
    assert k1[C.LAST_ASSESSMENT] == pd.Timestamp("2024-07-15")
    assert k1[C.REASSESSMENT] == DUE_SOON
    assert k1[[C.N_COMPARED, C.N_RELIABLE, C.N_RELIABLE_TOWARD, C.N_RELIABLE_AWAY]
              ].tolist() == [4, 3, 3, 0]
    # the latest review is 2024-10-20: G1 at +1, G2 carried at -1: T = 50
    assert k1[C.LAST_REVIEW] == pd.Timestamp("2024-10-20")
    assert k1[C.T_SCORE] == pytest.approx(50.0)
    assert k1[C.T_CHANGE] == pytest.approx(3 * T2)


def test_overdue_children_are_the_caseload_reports(dataset):
    table = child_overview(dataset, as_of="2026-09-30")
    cov = coverage(dataset, as_of="2026-09-30")
    listed = cov.lists["reassessment_overdue"].set_index(C.CHILD_ID)[C.DAYS_OVERDUE]
    overdue = table[table[C.REASSESSMENT] == OVERDUE].set_index(C.CHILD_ID)[C.DAYS_OVERDUE]
    assert len(listed) > 0
    assert overdue.sort_index().to_dict() == listed.sort_index().to_dict()


def test_reliable_change_matches_the_childs_report(dataset):
    """The counts are those of the change table of the child's own report."""
    from sensoryprofile.reports.child import ChildReport

    table = child_overview(dataset, as_of="2026-09-30").set_index(C.CHILD_ID)
    checked = 0
    for child in table.index[:12]:
        report = ChildReport.build(dataset, child, as_of="2026-09-30")
        shown = report.change_table
        row = table.loc[child]
        compared = shown[~shown["Direction"].astype(str).str.startswith("not compared")]
        assert row[C.N_COMPARED] == (len(compared) if len(shown) else 0), child
        reliable = compared[compared["Reliable?"] == "yes"]
        assert row[C.N_RELIABLE] == len(reliable), child
        assert row[C.N_RELIABLE_TOWARD] == (reliable["Direction"] == "toward typical").sum()
        assert row[C.N_RELIABLE_AWAY] == (reliable["Direction"] == "away from typical").sum()
        assert row[C.N_RELIABLE_WITHIN] == (reliable["Direction"] == "within typical").sum()
        checked += bool(len(reliable))
    assert checked >= 2  # some of these children did change reliably


def test_a_form_without_quadrants_counts_its_next_kind_of_score(clinic):
    """Driven by the score rows: with no quadrant scores, the sections count."""
    import dataclasses

    from sensoryprofile.analysis.overview import latest_change
    from sensoryprofile.instruments import load_instrument

    sections = [s for s in load_instrument("demo-child").scores if s.kind == "section"]
    no_quadrants = dataclasses.replace(
        clinic, scores=clinic.scores[clinic.scores[C.KIND].astype(str) != "quadrant"])
    table = latest_change(no_quadrants, as_of=AS_OF)
    # K2's two questionnaires have the same answers: every section compared, none changed
    assert table.loc["K2", C.N_COMPARED] == len(sections) > 4
    assert table.loc["K2", C.N_RELIABLE] == 0
