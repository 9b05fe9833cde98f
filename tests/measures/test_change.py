"""Change between administrations: RCI, band transitions, direction, pairing.

Score tables are built by scoring small hand-made wide frames with
``score_assessments``; expected values are hand-computed in the comments.
"""

from __future__ import annotations

import dataclasses
import doctest
import math

import numpy as np
import pandas as pd
import pytest

from sensoryprofile import columns as C
from sensoryprofile.data.assessments import score_assessments
from sensoryprofile.data.dataset import Dataset
from sensoryprofile.errors import UsageError
from sensoryprofile.instruments import Reliability, load_instrument
from sensoryprofile.measures import change as CH
from sensoryprofile.measures.change import CHANGE_COLUMNS, DIRECTIONS, score_changes, sensory_change

CHILD = load_instrument("demo-child")
TODDLER = load_instrument("demo-toddler")
INSTRUMENTS = {CHILD.id: CHILD, TODDLER.id: TODDLER}

MORE = "More Than Others"
MUCH_MORE = "Much More Than Others"
TYPICAL = "Just Like the Majority of Others"


def assessment(aid, date, *, inst=CHILD, child="C1", respondent="caregiver", age=80,
               raw=None, blank=()):
    """One wide row: every item at 3, then each score in ``raw`` set to hit that
    exact raw score (items at base or base + 1), then ``blank`` items emptied."""
    row = {"assessment_id": aid, "child_id": child, "date": date, "instrument": inst.id,
           "respondent": respondent, "age_months": age}
    row.update({item: 3 for item in inst.item_ids})
    for score_id, target in (raw or {}).items():
        items = inst.score(score_id).items
        base, extra = divmod(target, len(items))
        assert base >= 1 and base + (extra > 0) <= 5, "target not reachable"
        for k, item in enumerate(items):
            row[item] = base + (1 if k < extra else 0)
    for item in blank:
        row[item] = None
    return row


def scored(*rows):
    return score_assessments(pd.DataFrame(list(rows)))


def one(change, score, *, comparison="consecutive", child="C1", frm=None, to=None,
        respondent=None):
    """The single row of ``change`` for a score and comparison."""
    sel = (change[C.SCORE] == score) & (change[C.COMPARISON] == comparison) & (
        change[C.CHILD_ID] == child)
    if frm is not None:
        sel &= change[C.FROM_ASSESSMENT] == frm
    if to is not None:
        sel &= change[C.TO_ASSESSMENT] == to
    if respondent is not None:
        sel &= change[C.RESPONDENT] == respondent
    rows = change[sel]
    assert len(rows) == 1, rows
    return rows.iloc[0]


# ---------------------------------------------------------------------------
# Reliable Change Index
# ---------------------------------------------------------------------------
def test_rci_demo_child_seeking_hand_computed():
    # demo-child seeking reliability: r = .88 (test-retest), SD = 8.5
    # SEM = 8.5 * sqrt(1 - .88) = 8.5 * 0.3464102 = 2.9444864
    # S_diff = sqrt(2) * 2.9444864 = 4.1641326; threshold 1.96 * 4.1641326 = 8.1617
    scores = scored(
        assessment("A1", "2024-01-15", raw={"seeking": 45}),
        assessment("A2", "2024-07-15", raw={"seeking": 54}),
        assessment("B1", "2024-01-15", child="C2", raw={"seeking": 45}),
        assessment("B2", "2024-07-15", child="C2", raw={"seeking": 53}),
    )
    change = score_changes(scores, INSTRUMENTS)
    row = one(change, "seeking")
    assert row[C.RELIABILITY_R] == 0.88
    assert row[C.RELIABILITY_KIND] == "test-retest"
    assert row[C.SEM] == pytest.approx(2.9444864, abs=1e-6)
    assert row[C.S_DIFF] == pytest.approx(4.1641326, abs=1e-6)
    assert (row[C.FROM_RAW], row[C.TO_RAW], row[C.RAW_CHANGE]) == (45.0, 54.0, 9.0)
    assert row[C.RCI] == pytest.approx(9 / 4.1641326, abs=1e-6)  # 2.161314 > 1.96
    assert row[C.RELIABLE]
    # C2: a change of 8 is below the 8.16 threshold: RCI = 8 / 4.1641326 = 1.921168
    row2 = one(change, "seeking", child="C2")
    assert row2[C.RCI] == pytest.approx(1.921168, abs=1e-6)
    assert not row2[C.RELIABLE]
    # z, 72-119 month band: seeking mean 36.0, SD 8.5
    # (45 - 36) / 8.5 = 1.0588235 (More); (54 - 36) / 8.5 = 2.1176471 (Much More)
    assert row[C.FROM_Z] == pytest.approx(1.0588235, abs=1e-6)
    assert row[C.TO_Z] == pytest.approx(2.1176471, abs=1e-6)
    assert row[C.Z_CHANGE] == pytest.approx(9 / 8.5, abs=1e-9)
    assert row[C.BAND_TRANSITION] == f"{MORE} → {MUCH_MORE}"
    assert row[C.DIRECTION] == "away from typical"
    assert row[C.COMPARED]
    assert pd.isna(row[C.NOT_COMPARED_REASON]) and pd.isna(row[CH.RCI_NOTE])


def _with_seeking_reliability(r, sd):
    rel = dict(CHILD.reliability)
    rel["seeking"] = Reliability(r=r, kind="test-retest", sd=sd)
    return {CHILD.id: dataclasses.replace(CHILD, reliability=rel)}


def test_rci_references_worked_example():
    # REFERENCES.md / Jacobson & Truax: SD 10, r .85
    # SEM = 10 * sqrt(.15) = 3.8729833; S_diff = sqrt(2) * SEM = 5.4772256
    # threshold = 1.96 * 5.4772256 = 10.7354
    instruments = _with_seeking_reliability(0.85, 10.0)
    scores = scored(
        assessment("A1", "2024-01-15", raw={"seeking": 40}),
        assessment("A2", "2024-04-15", raw={"seeking": 51}),   # +11: RCI 2.008316
        assessment("A3", "2024-07-15", raw={"seeking": 41}),   # -10: RCI -1.825742
        assessment("A4", "2024-10-15", raw={"seeking": 30}),   # -11: RCI -2.008316
    )
    change = score_changes(scores, instruments)
    up = one(change, "seeking", frm="A1")
    assert up[C.SEM] == pytest.approx(3.8729833, abs=1e-6)
    assert up[C.S_DIFF] == pytest.approx(5.4772256, abs=1e-6)
    assert 1.96 * up[C.S_DIFF] == pytest.approx(10.7354, abs=1e-4)
    assert up[C.RCI] == pytest.approx(2.008316, abs=1e-6)
    assert up[C.RELIABLE]
    down10 = one(change, "seeking", frm="A2")
    assert down10[C.RCI] == pytest.approx(-1.825742, abs=1e-6)
    assert not down10[C.RELIABLE]
    down11 = one(change, "seeking", frm="A3")
    assert down11[C.RCI] == pytest.approx(-2.008316, abs=1e-6)
    assert down11[C.RELIABLE]  # |RCI| counts: a reliable fall
    # intake 40 -> latest 30: -10, not reliable
    latest = one(change, "seeking", comparison="intake_to_latest")
    assert (latest[C.FROM_ASSESSMENT], latest[C.TO_ASSESSMENT]) == ("A1", "A4")
    assert latest[C.RCI] == pytest.approx(-1.825742, abs=1e-6)
    assert not latest[C.RELIABLE]


def test_rci_exactly_at_threshold_is_not_reliable():
    # r = .5 makes S_diff = SD * sqrt(2 * .5) = SD; SD = 10 / 1.96 = 5.1020408
    # a change of 10 gives RCI = 10 / (10 / 1.96) = 1.96 (up to float error): not > 1.96
    instruments = _with_seeking_reliability(0.5, 10 / 1.96)
    scores = scored(assessment("A1", "2024-01-15", raw={"seeking": 40}),
                    assessment("A2", "2024-07-15", raw={"seeking": 50}))
    row = one(score_changes(scores, instruments), "seeking")
    assert row[C.RCI] == pytest.approx(1.96, abs=1e-12)
    assert not row[C.RELIABLE]


# ---------------------------------------------------------------------------
# bands and direction
# ---------------------------------------------------------------------------
def test_band_transition_at_exact_one_sd_boundary():
    # sensitivity, 72-119 months: mean 36.5, SD 8.5
    # 46: z = 9.5 / 8.5 = 1.1176 (More); 45: z = 8.5 / 8.5 = 1.0 exactly -> typical
    scores = scored(assessment("A1", "2024-01-15", raw={"sensitivity": 46}),
                    assessment("A2", "2024-07-15", raw={"sensitivity": 45}))
    row = one(score_changes(scores, INSTRUMENTS), "sensitivity")
    assert row[C.TO_Z] == pytest.approx(1.0, abs=1e-12)
    assert (row[C.FROM_LEVEL], row[C.TO_LEVEL]) == (1, 0)
    assert row[C.FROM_CLASSIFICATION] == MORE
    assert row[C.TO_CLASSIFICATION] == TYPICAL
    assert row[C.BAND_TRANSITION] == f"{MORE} → {TYPICAL}"
    assert row[C.DIRECTION] == "toward typical"
    # RCI: sensitivity r .85, SD 8.5: S_diff = sqrt(2) * 8.5 * sqrt(.15) = 4.6556417
    # RCI = -1 / 4.6556417 = -0.214793
    assert row[C.RCI] == pytest.approx(-0.214793, abs=1e-6)
    assert not row[C.RELIABLE]


def test_directions_with_z():
    # 72-119 months. seeking mean 36.0 SD 8.5; avoiding mean 35.6 SD 8.4;
    # sensitivity mean 36.5 SD 8.5; registration mean 34.4 SD 8.1
    scores = scored(
        # seeking 45 -> 46: z 1.0588 -> 1.1765, both More: |z| rises
        # avoiding 45 -> 45: z 1.1190 both times: no change
        # sensitivity 40 -> 44: z 0.4118 -> 0.8824, both typical
        # registration 30 -> 45: z -0.5432 -> 1.3086
        assessment("A1", "2024-01-15", raw={"seeking": 45, "avoiding": 45, "sensitivity": 40,
                                            "registration": 30}),
        assessment("A2", "2024-07-15", raw={"seeking": 46, "avoiding": 45, "sensitivity": 44,
                                            "registration": 45}),
        # C2 seeking 75 -> 15: z 4.5882 (+2) -> -2.4706 (-2): |z| falls but it crossed
        # C2 avoiding 46 -> 25: z (46-35.6)/8.4 = 1.2381 (+1) -> (25-35.6)/8.4 = -1.2619 (-1)
        # C2 sensitivity 60 -> 50: z 2.7647 -> 1.5882: toward typical, +2 -> +1
        assessment("B1", "2024-01-15", child="C2", raw={"seeking": 75, "avoiding": 46,
                                                        "sensitivity": 60}),
        assessment("B2", "2024-07-15", child="C2", raw={"seeking": 15, "avoiding": 25,
                                                        "sensitivity": 50}),
    )
    change = score_changes(scores, INSTRUMENTS)
    away = one(change, "seeking")
    assert away[C.DIRECTION] == "away from typical"
    assert away[C.BAND_TRANSITION] == f"{MORE} (no change)"
    same = one(change, "avoiding")
    assert same[C.DIRECTION] == "no change"
    assert same[C.BAND_TRANSITION] == f"{MORE} (no change)"
    assert same[C.RAW_CHANGE] == 0 and same[C.RCI] == 0 and not same[C.RELIABLE]
    within = one(change, "sensitivity")
    assert within[C.DIRECTION] == "within typical"
    assert within[C.BAND_TRANSITION] == f"{TYPICAL} (no change)"
    up = one(change, "registration")
    assert up[C.FROM_LEVEL] == 0 and up[C.TO_LEVEL] == 1
    assert up[C.DIRECTION] == "away from typical"
    assert up[C.BAND_TRANSITION] == f"{TYPICAL} → {MORE}"
    crossed = one(change, "seeking", child="C2")
    assert (crossed[C.FROM_LEVEL], crossed[C.TO_LEVEL]) == (2, -2)
    assert abs(crossed[C.TO_Z]) < abs(crossed[C.FROM_Z])
    assert crossed[C.DIRECTION] == "crossed the typical band"
    assert crossed[C.BAND_TRANSITION] == f"{MUCH_MORE} → Much Less Than Others"
    crossed1 = one(change, "avoiding", child="C2")
    assert (crossed1[C.FROM_LEVEL], crossed1[C.TO_LEVEL]) == (1, -1)
    assert crossed1[C.DIRECTION] == "crossed the typical band"
    toward = one(change, "sensitivity", child="C2")
    assert (toward[C.FROM_LEVEL], toward[C.TO_LEVEL]) == (2, 1)
    assert toward[C.DIRECTION] == "toward typical"
    assert toward[C.BAND_TRANSITION] == f"{MUCH_MORE} → {MORE}"


def test_unclassified_scores_get_behaviour_direction():
    # age 200 months is outside demo-child's 36-179: no classification, no z;
    # seeking 45 -> 54 is more of the behaviour; RCI still computed: 9 / 4.1641326
    scores = scored(assessment("A1", "2024-01-15", age=200, raw={"seeking": 45}),
                    assessment("A2", "2024-07-15", age=206, raw={"seeking": 54}))
    change = score_changes(scores, INSTRUMENTS)
    row = one(change, "seeking")
    assert row[C.COMPARED]
    assert pd.isna(row[C.FROM_LEVEL]) and pd.isna(row[C.BAND_TRANSITION])
    assert np.isnan(row[C.Z_CHANGE])
    assert row[C.DIRECTION] == "more of the behaviour"
    assert row[C.RCI] == pytest.approx(2.161314, abs=1e-6)
    assert one(change, "avoiding")[C.DIRECTION] == "no change"  # 45 -> 45


def test_reversed_toddler_cut_tables():
    # demo-toddler is higher_less (1 = almost always): a raw RISE is LESS behaviour.
    # Seeking cuts at 19-24 months: much_more 8-13, more 14-19, typical 20-31.
    # seeking reliability r .84, SD 5.2: SEM = 5.2 * sqrt(.16) = 2.08,
    # S_diff = sqrt(2) * 2.08 = 2.9415642
    scores = scored(
        assessment("T1", "2024-01-10", inst=TODDLER, age=20, raw={"seeking": 16}),
        assessment("T2", "2024-02-10", inst=TODDLER, age=21, raw={"seeking": 19}),
        assessment("T3", "2024-03-10", inst=TODDLER, age=22, raw={"seeking": 20}),
        assessment("T4", "2024-04-10", inst=TODDLER, age=23, raw={"seeking": 12}),
    )
    change = score_changes(scores, INSTRUMENTS)
    within = one(change, "seeking", frm="T1")
    # 16 -> 19, both "more" (+1): +3 raw = less of the behaviour in a "more" band
    assert within[C.RAW_CHANGE] == 3
    assert np.isnan(within[C.FROM_Z]) and np.isnan(within[C.Z_CHANGE])
    assert within[C.BAND_TRANSITION] == f"{MORE} (no change)"
    assert within[C.DIRECTION] == "toward typical"
    assert within[C.RCI] == pytest.approx(3 / 2.9415642, abs=1e-6)  # 1.019865
    assert not within[C.RELIABLE]
    boundary = one(change, "seeking", frm="T2")
    # 19 is the top of "more", 20 the bottom of "typical"
    assert (boundary[C.FROM_LEVEL], boundary[C.TO_LEVEL]) == (1, 0)
    assert boundary[C.BAND_TRANSITION] == f"{MORE} → {TYPICAL}"
    assert boundary[C.DIRECTION] == "toward typical"
    away = one(change, "seeking", frm="T3")
    # 20 -> 12: raw falls by 8 = MORE of the behaviour; typical -> much more
    assert away[C.RAW_CHANGE] == -8
    assert away[C.BAND_TRANSITION] == f"{TYPICAL} → {MUCH_MORE}"
    assert away[C.DIRECTION] == "away from typical"
    assert away[C.RCI] == pytest.approx(-8 / 2.9415642, abs=1e-6)  # -2.719641
    assert away[C.RELIABLE]
    intake = one(change, "seeking", comparison="intake_to_latest")
    # 16 (+1) -> 12 (+2): |level| rises
    assert (intake[C.FROM_ASSESSMENT], intake[C.TO_ASSESSMENT]) == ("T1", "T4")
    assert intake[C.DIRECTION] == "away from typical"
    assert intake[C.RCI] == pytest.approx(-4 / 2.9415642, abs=1e-6)


def test_reversed_toddler_reliable_improvement_and_unnormed_section():
    # seeking 16 (more, +1) -> 24 (typical): +8 raw = less behaviour, toward typical;
    # RCI = 8 / 2.9415642 = 2.719641 > 1.96
    # general section (dt_01..dt_06, no norms, no reliability): 18 -> 12 is a
    # raw fall = more of the behaviour
    scores = scored(
        assessment("T1", "2024-01-10", inst=TODDLER, age=20, raw={"seeking": 16}),
        assessment("T2", "2024-07-10", inst=TODDLER, age=26, raw={"seeking": 24}),
        assessment("G1", "2024-01-10", inst=TODDLER, child="C2", age=20),
        assessment("G2", "2024-07-10", inst=TODDLER, child="C2", age=26,
                   raw={"general": 12}),
    )
    change = score_changes(scores, INSTRUMENTS)
    row = one(change, "seeking")
    assert row[C.RAW_CHANGE] == 8
    assert row[C.RCI] == pytest.approx(2.719641, abs=1e-6)
    assert row[C.RELIABLE]
    assert row[C.DIRECTION] == "toward typical"
    # 24 months is in the 19-24 band, 26 in the 25-30 band (seeking typical 20-32)
    assert row[C.BAND_TRANSITION] == f"{MORE} → {TYPICAL}"
    general = one(change, "general", child="C2")
    assert (general[C.FROM_RAW], general[C.TO_RAW]) == (18.0, 12.0)
    assert general[C.COMPARED]
    assert pd.isna(general[C.NOT_COMPARED_REASON])
    assert np.isnan(general[C.RCI]) and pd.isna(general[C.RELIABLE])
    assert np.isnan(general[C.RELIABILITY_R]) and pd.isna(general[C.RELIABILITY_KIND])
    assert general[CH.RCI_NOTE] == ("no reliability declared for general in demo-toddler; "
                                    "RCI not computed")
    assert pd.isna(general[C.BAND_TRANSITION])
    assert general[C.DIRECTION] == "more of the behaviour"
    # a raw rise in a higher_less score: less of the behaviour
    rows = scored(assessment("G1", "2024-01-10", inst=TODDLER, age=20),
                  assessment("G2", "2024-07-10", inst=TODDLER, age=26, raw={"general": 24}))
    assert one(score_changes(rows, INSTRUMENTS), "general")[C.DIRECTION] == (
        "less of the behaviour")


def test_cut_table_same_band_away_and_no_change():
    # toddler seeking at 19-24 months, "more" = 14-19 (+1)
    # 19 -> 16: raw falls by 3 = MORE of the behaviour inside a "more" band: away
    # 16 -> 16: same band, same raw: no change
    scores = scored(
        assessment("T1", "2024-01-10", inst=TODDLER, age=20, raw={"seeking": 19}),
        assessment("T2", "2024-02-10", inst=TODDLER, age=21, raw={"seeking": 16}),
        assessment("T3", "2024-03-10", inst=TODDLER, age=22, raw={"seeking": 16}),
    )
    change = score_changes(scores, INSTRUMENTS)
    away = one(change, "seeking", frm="T1")
    assert away[C.BAND_TRANSITION] == f"{MORE} (no change)"
    assert away[C.DIRECTION] == "away from typical"
    same = one(change, "seeking", frm="T2")
    assert same[C.RAW_CHANGE] == 0
    assert same[C.DIRECTION] == "no change"


def test_norm_band_change_moves_z_without_raw_change():
    # seeking 45 at 80 months (72-119: mean 36.0, SD 8.5): z = 9 / 8.5 = 1.0588
    # seeking 45 at 125 months (120-179: mean 33.6, SD 8.1): z = 11.4 / 8.1 = 1.4074
    scores = scored(assessment("A1", "2024-01-15", age=80, raw={"seeking": 45}),
                    assessment("A2", "2027-10-15", age=125, raw={"seeking": 45}))
    row = one(score_changes(scores, INSTRUMENTS), "seeking")
    assert row[C.RAW_CHANGE] == 0 and row[C.RCI] == 0 and not row[C.RELIABLE]
    assert row[C.Z_CHANGE] == pytest.approx(11.4 / 8.1 - 9 / 8.5, abs=1e-9)  # 0.3486
    assert row[C.DIRECTION] == "away from typical"


# ---------------------------------------------------------------------------
# pairing
# ---------------------------------------------------------------------------
def test_teacher_never_compared_with_caregiver():
    scores = scored(
        assessment("A1", "2024-01-15", respondent="caregiver", raw={"seeking": 40}),
        assessment("T1", "2024-03-15", respondent="teacher", raw={"seeking": 60}),
        assessment("A2", "2024-07-15", respondent="caregiver", raw={"seeking": 44}),
        assessment("T2", "2024-09-15", respondent="teacher", raw={"seeking": 50}),
        # C2 has one caregiver and one teacher form: two series of one, no rows
        assessment("B1", "2024-01-15", child="C2", respondent="caregiver"),
        assessment("U1", "2024-03-15", child="C2", respondent="teacher"),
    )
    change = score_changes(scores, INSTRUMENTS)
    pairs = set(zip(change[C.FROM_ASSESSMENT], change[C.TO_ASSESSMENT], strict=True))
    assert pairs == {("A1", "A2"), ("T1", "T2")}
    assert set(change[C.CHILD_ID]) == {"C1"}
    caregiver = one(change, "seeking", respondent="caregiver")
    assert (caregiver[C.FROM_RAW], caregiver[C.TO_RAW]) == (40.0, 44.0)
    teacher = one(change, "seeking", respondent="teacher")
    assert (teacher[C.FROM_RAW], teacher[C.TO_RAW]) == (60.0, 50.0)
    # 2 series x 13 scores x (1 consecutive + 1 intake_to_latest)
    assert len(change) == 2 * 13 * 2


def test_three_administrations_consecutive_and_intake():
    # input out of order; X2 and X3 share a date, so assessment_id orders them
    scores = scored(
        assessment("X3", "2024-06-01", raw={"seeking": 50}),
        assessment("X1", "2024-01-10", raw={"seeking": 60}),
        assessment("X2", "2024-06-01", raw={"seeking": 45}),
    )
    change = score_changes(scores, INSTRUMENTS)
    seeking = change[change[C.SCORE] == "seeking"]
    got = list(zip(seeking[C.COMPARISON], seeking[C.FROM_ASSESSMENT], seeking[C.TO_ASSESSMENT],
                   seeking[C.RAW_CHANGE], strict=True))
    assert got == [("consecutive", "X1", "X2", -15.0),   # 60 -> 45
                   ("consecutive", "X2", "X3", 5.0),     # 45 -> 50
                   ("intake_to_latest", "X1", "X3", -10.0)]  # 60 -> 50
    assert len(change) == 13 * 3
    assert list(change[C.SCORE].astype(str).unique()) == list(CHILD.score_ids)
    assert seeking[C.FROM_DATE].tolist() == [pd.Timestamp("2024-01-10"),
                                             pd.Timestamp("2024-06-01"),
                                             pd.Timestamp("2024-01-10")]


def test_two_administrations_intake_row_duplicates_consecutive():
    scores = scored(assessment("A1", "2024-01-15", raw={"seeking": 45}),
                    assessment("A2", "2024-07-15", raw={"seeking": 54}))
    change = score_changes(scores, INSTRUMENTS)
    assert change[C.COMPARISON].value_counts().to_dict() == {
        "consecutive": 13, "intake_to_latest": 13}
    cons = change[change[C.COMPARISON] == "consecutive"].drop(columns=C.COMPARISON)
    intake = change[change[C.COMPARISON] == "intake_to_latest"].drop(columns=C.COMPARISON)
    pd.testing.assert_frame_equal(cons.reset_index(drop=True), intake.reset_index(drop=True))


def test_single_administration_gives_no_rows():
    change = score_changes(scored(assessment("A1", "2024-01-15")), INSTRUMENTS)
    assert change.empty
    assert list(change.columns) == CHANGE_COLUMNS


# ---------------------------------------------------------------------------
# invalid and undated administrations
# ---------------------------------------------------------------------------
def test_invalid_score_kept_with_reason():
    seeking = CHILD.score("seeking").items
    # dc_001, dc_005, dc_009 are seeking items (and auditory items): 3 of 15
    # missing breaks seeking's max of 2, and auditory's max of 1 (of 10)
    scores = scored(assessment("A1", "2024-01-15"),
                    assessment("A2", "2024-07-15", blank=seeking[:3]),
                    assessment("A3", "2025-01-15", raw={"seeking": 50}))
    change = score_changes(scores, INSTRUMENTS)
    into = one(change, "seeking", frm="A1")
    assert not into[C.COMPARED]
    assert into[C.NOT_COMPARED_REASON] == (
        "later score invalid: more than 2 of its 15 items missing")
    for col in (C.RAW_CHANGE, C.Z_CHANGE, C.RCI, C.RELIABLE, C.BAND_TRANSITION, C.DIRECTION,
                CH.RCI_NOTE):
        assert pd.isna(into[col]), col
    assert into[C.FROM_RAW] == 45 and np.isnan(into[C.TO_RAW])
    out_of = one(change, "seeking", frm="A2")
    assert not out_of[C.COMPARED]
    assert out_of[C.NOT_COMPARED_REASON] == (
        "earlier score invalid: more than 2 of its 15 items missing")
    assert one(change, "auditory", frm="A1")[C.NOT_COMPARED_REASON] == (
        "later score invalid: more than 1 of its 10 items missing")
    # the intake-to-latest row compares A1 and A3, both valid: 45 -> 50
    intake = one(change, "seeking", comparison="intake_to_latest")
    assert intake[C.COMPARED] and intake[C.RAW_CHANGE] == 5
    # other scores of A2 are valid and compared
    assert one(change, "avoiding", frm="A1")[C.COMPARED]
    # nothing dropped: 13 scores x (2 consecutive + 1 intake)
    assert len(change) == 39
    assert (change[C.COMPARED] == change[C.NOT_COMPARED_REASON].isna()).all()


def test_both_scores_invalid_and_unknown_instrument():
    seeking = CHILD.score("seeking").items
    scores = scored(assessment("A1", "2024-01-15", blank=seeking[:3]),
                    assessment("A2", "2024-07-15", blank=seeking[:4]),
                    {"assessment_id": "U1", "child_id": "C9", "date": "2024-01-01",
                     "instrument": "nope"},
                    {"assessment_id": "U2", "child_id": "C9", "date": "2024-06-01",
                     "instrument": "nope"})
    change = score_changes(scores, INSTRUMENTS)
    row = one(change, "seeking")
    assert row[C.NOT_COMPARED_REASON] == (
        "earlier score invalid: more than 2 of its 15 items missing; "
        "later score invalid: more than 2 of its 15 items missing")
    # an unknown instrument's placeholder rows are paired too, not dropped
    unknown = change[change[C.CHILD_ID] == "C9"]
    assert len(unknown) == 2 and not unknown[C.COMPARED].any()
    assert unknown[C.NOT_COMPARED_REASON].iloc[0] == (
        "earlier score invalid: unknown instrument 'nope'; "
        "later score invalid: unknown instrument 'nope'")


def test_undated_assessment_is_not_compared():
    scores = scored(assessment("A1", "2024-01-15"), assessment("A2", None))
    row = one(score_changes(scores, INSTRUMENTS), "seeking")
    assert not row[C.COMPARED]
    assert row[C.NOT_COMPARED_REASON] == (
        "later assessment has no date, so its order is unknown")
    assert np.isnan(row[C.RAW_CHANGE]) and pd.isna(row[C.DIRECTION])


# ---------------------------------------------------------------------------
# API
# ---------------------------------------------------------------------------
def test_columns_and_dtypes():
    scores = scored(assessment("A1", "2024-01-15"), assessment("A2", "2024-07-15"))
    change = score_changes(scores, INSTRUMENTS)
    assert list(change.columns) == CHANGE_COLUMNS
    assert str(change[C.RELIABLE].dtype) == "boolean"
    assert str(change[C.FROM_LEVEL].dtype) == "Int8"
    assert change[C.COMPARED].dtype == bool
    assert list(change[C.DIRECTION].cat.categories) == list(DIRECTIONS)
    assert list(change[C.COMPARISON].cat.categories) == ["consecutive", "intake_to_latest"]
    assert pd.api.types.is_datetime64_any_dtype(change[C.FROM_DATE])
    assert len(set(DIRECTIONS)) == 7


def test_inputs_not_mutated():
    scores = scored(assessment("A2", "2024-07-15", raw={"seeking": 54}),
                    assessment("A1", "2024-01-15", raw={"seeking": 45}))
    before = scores.copy(deep=True)
    instruments = dict(INSTRUMENTS)
    score_changes(scores, instruments, child_id="C1")
    pd.testing.assert_frame_equal(scores, before)
    assert instruments == INSTRUMENTS


def test_child_id_selection():
    scores = scored(assessment("A1", "2024-01-15", child="C1"),
                    assessment("A2", "2024-07-15", child="C1"),
                    assessment("B1", "2024-01-15", child="C2"),
                    assessment("B2", "2024-07-15", child="C2"))
    assert set(score_changes(scores, INSTRUMENTS, child_id="C2")[C.CHILD_ID]) == {"C2"}
    assert set(score_changes(scores, INSTRUMENTS, child_id=["C1", "C2"])[C.CHILD_ID]) == {
        "C1", "C2"}
    with pytest.raises(UsageError, match="no scores for 'C3'"):
        score_changes(scores, INSTRUMENTS, child_id="C3")


def test_usage_errors():
    scores = scored(assessment("A1", "2024-01-15"), assessment("A2", "2024-07-15"))
    with pytest.raises(UsageError, match="no definition for 'demo-child'.*given: 'demo-toddler'"):
        score_changes(scores, {TODDLER.id: TODDLER})
    with pytest.raises(UsageError, match="mapping of instrument id to Instrument"):
        score_changes(scores, [CHILD])
    with pytest.raises(UsageError, match="lacks the column"):
        score_changes(scores.drop(columns=C.LEVEL), INSTRUMENTS)
    with pytest.raises(UsageError, match="DataFrame"):
        score_changes(scores.to_dict(), INSTRUMENTS)
    with pytest.raises(ValueError):  # UsageError is a ValueError
        score_changes(scores, INSTRUMENTS, child_id="nobody")


def test_sensory_change_uses_dataset_scores_and_instruments():
    scores = scored(assessment("A1", "2024-01-15", raw={"seeking": 45}),
                    assessment("A2", "2024-07-15", raw={"seeking": 54}))
    empty = pd.DataFrame()
    dataset = Dataset(children=empty, assessments=empty, goals=empty, goal_ratings=empty,
                      scores=scores, instruments={CHILD.id: CHILD})
    pd.testing.assert_frame_equal(sensory_change(dataset, child_id="C1"),
                                  score_changes(scores, INSTRUMENTS))


def test_many_children_match_a_naive_loop():
    # a per-series Python reference on 120 children x 1-4 administrations
    rng = np.random.default_rng(7)
    rows = []
    for c in range(120):
        n = int(rng.integers(1, 5))
        days = rng.choice(np.arange(0, 720, 30), size=n, replace=False)
        for k, day in enumerate(days):
            date = (pd.Timestamp("2023-01-01") + pd.Timedelta(days=int(day))).date().isoformat()
            rows.append(assessment(f"C{c:03d}-{k}", date, child=f"C{c:03d}",
                                   respondent=["caregiver", "teacher"][int(rng.integers(0, 2))],
                                   raw={"seeking": int(rng.integers(15, 76))}))
    scores = scored(*rows)
    change = score_changes(scores, INSTRUMENTS)
    seeking = scores[scores[C.SCORE] == "seeking"]
    expected = []
    for (child, resp), g in seeking.groupby([C.CHILD_ID, C.RESPONDENT], sort=False):
        g = g.sort_values([C.DATE, C.ASSESSMENT_ID])
        ids, raws = g[C.ASSESSMENT_ID].tolist(), g[C.RAW].tolist()
        for i in range(1, len(ids)):
            expected.append((child, resp, "consecutive", ids[i - 1], ids[i], raws[i] - raws[i - 1]))
        if len(ids) >= 2:
            expected.append((child, resp, "intake_to_latest", ids[0], ids[-1], raws[-1] - raws[0]))
    got = change[change[C.SCORE] == "seeking"]
    got = list(zip(got[C.CHILD_ID], got[C.RESPONDENT], got[C.COMPARISON].astype(str),
                   got[C.FROM_ASSESSMENT], got[C.TO_ASSESSMENT], got[C.RAW_CHANGE], strict=True))
    assert sorted(got) == sorted(expected)
    s_diff = math.sqrt(2) * 8.5 * math.sqrt(1 - 0.88)
    rci = change.loc[change[C.SCORE] == "seeking", [C.RAW_CHANGE, C.RCI]]
    np.testing.assert_allclose(rci[C.RCI], rci[C.RAW_CHANGE] / s_diff)


def test_docstring_example_runs():
    result = doctest.testmod(CH, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0
