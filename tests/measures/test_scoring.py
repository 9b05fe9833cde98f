"""Scoring: hand-computed raw scores, missing data, "does not apply", direction,
off-scale values, labels, and every input problem in the validation report.

Norms used below (from the shipped YAMLs; demo-child band 36-71 months):
    seeking 38.2/9.0  avoiding 35.1/8.2  sensitivity 36.9/8.7  registration 36.2/8.4
    auditory 24.4/6.6  visual 23.3/6.3  touch 29.6/7.1  conduct 15.1/5.1
demo-toddler band 7-12 months, cut tables (raw ranges, higher_less):
    seeking    much_more 8-12, more 13-17, typical 18-30, less 31-35, much_less 36-40
    avoiding   much_more 8-13, more 14-18, typical 19-31, less 32-36, much_less 37-40
    sensitivity much_more 8-13, more 14-19, typical 20-31, less 32-35, much_less 36-40
    registration much_more 8-12, more 13-18, typical 19-30, less 31-35, much_less 36-40
"""

from __future__ import annotations

import math
import shutil

import numpy as np
import pandas as pd
import pytest

from sensoryprofile import columns as C
from sensoryprofile.data.assessments import score_assessments
from sensoryprofile.data.validation import ValidationReport
from sensoryprofile.errors import DatasetError, UsageError
from sensoryprofile.instruments import load_instrument
from sensoryprofile.measures.scoring import OFF_SCALE_TEXT, score_responses
from tests.paths import FIXTURES

CHECKS = FIXTURES / "checks"
CHILD = load_instrument("demo-child")
TODDLER = load_instrument("demo-toddler")
TINY_REVERSE = load_instrument(FIXTURES / "tiny-reverse.yaml")

TYPICAL = "Just Like the Majority of Others"
MORE = "More Than Others"
MUCH_MORE = "Much More Than Others"
LESS = "Less Than Others"
MUCH_LESS = "Much Less Than Others"

# item keys, copied by hand from the YAML files (checked against the loader below)
CHILD_SEEKING = ["dc_001", "dc_005", "dc_009", "dc_012", "dc_017", "dc_021", "dc_025", "dc_029",
                 "dc_033", "dc_037", "dc_039", "dc_043", "dc_047", "dc_051", "dc_056"]
CHILD_AVOIDING = ["dc_004", "dc_007", "dc_011", "dc_015", "dc_019", "dc_022", "dc_026",
                  "dc_030", "dc_035", "dc_040", "dc_045", "dc_049", "dc_052", "dc_055", "dc_059"]
CHILD_SENSITIVITY = ["dc_002", "dc_006", "dc_010", "dc_013", "dc_016", "dc_020", "dc_023",
                     "dc_027", "dc_031", "dc_036", "dc_041", "dc_046", "dc_050", "dc_054",
                     "dc_058"]
CHILD_REGISTRATION = ["dc_003", "dc_008", "dc_014", "dc_018", "dc_024", "dc_028", "dc_032",
                      "dc_034", "dc_038", "dc_042", "dc_044", "dc_048", "dc_053", "dc_057",
                      "dc_060"]
TODDLER_SEEKING = ["dt_03", "dt_08", "dt_12", "dt_17", "dt_21", "dt_23", "dt_27", "dt_29"]
TODDLER_AVOIDING = ["dt_01", "dt_05", "dt_09", "dt_14", "dt_18", "dt_22", "dt_24", "dt_28"]
TODDLER_SENSITIVITY = ["dt_04", "dt_07", "dt_11", "dt_13", "dt_16", "dt_19", "dt_25", "dt_31"]
TODDLER_REGISTRATION = ["dt_02", "dt_06", "dt_10", "dt_15", "dt_20", "dt_26", "dt_30", "dt_32"]


def child_row(aid="A1", fill=3, age=60, **items):
    row = {C.ASSESSMENT_ID: aid, C.CHILD_ID: "C1", C.AGE_MONTHS: age}
    row.update({f"dc_{i:03d}": fill for i in range(1, 81)})
    row.update(items)
    return row


def toddler_row(aid="T1", fill=3, age=10, **items):
    row = {C.ASSESSMENT_ID: aid, C.CHILD_ID: "C2", C.AGE_MONTHS: age}
    row.update({f"dt_{i:02d}": fill for i in range(1, 33)})
    row.update(items)
    return row


def score_rows(rows, instrument, **kwargs):
    return score_assessments(pd.DataFrame(rows), instrument, **kwargs)


def get(scores, score_id, aid=None):
    """The one row of ``scores`` for a score (and assessment)."""
    mask = scores[C.SCORE].astype(object) == score_id
    if aid is not None:
        mask &= scores[C.ASSESSMENT_ID] == aid
    found = scores[mask]
    assert len(found) == 1, f"{len(found)} rows for {score_id} {aid}"
    return found.iloc[0]


def report_rows(report):
    return [(p.file, p.row, p.column, p.value, p.rule, p.action) for p in report.problems]


def test_hand_copied_item_keys_match_the_files():
    assert list(CHILD.score("seeking").items) == CHILD_SEEKING
    assert list(CHILD.score("avoiding").items) == CHILD_AVOIDING
    assert list(CHILD.score("sensitivity").items) == CHILD_SENSITIVITY
    assert list(CHILD.score("registration").items) == CHILD_REGISTRATION
    assert list(TODDLER.score("seeking").items) == TODDLER_SEEKING
    assert list(TODDLER.score("avoiding").items) == TODDLER_AVOIDING
    assert list(TODDLER.score("sensitivity").items) == TODDLER_SENSITIVITY
    assert list(TODDLER.score("registration").items) == TODDLER_REGISTRATION


# ---------------------------------------------------------------------------
# demo-child (higher_more, "does not apply" = 0 counts as 0)
# ---------------------------------------------------------------------------
CHILD_ALL_THREES = {
    # score: (raw, z, classification)
    "seeking": (45, (45 - 38.2) / 9.0, TYPICAL),          # 15 x 3 = 45; z = 0.7556
    "avoiding": (45, (45 - 35.1) / 8.2, MORE),            # z = 9.9 / 8.2 = 1.2073
    "sensitivity": (45, (45 - 36.9) / 8.7, TYPICAL),      # z = 8.1 / 8.7 = 0.9310
    "registration": (45, (45 - 36.2) / 8.4, MORE),        # z = 8.8 / 8.4 = 1.0476
    "auditory": (30, (30 - 24.4) / 6.6, TYPICAL),         # 10 x 3 = 30; z = 0.8485
    "visual": (30, (30 - 23.3) / 6.3, MORE),              # z = 6.7 / 6.3 = 1.0635
    "touch": (36, (36 - 29.6) / 7.1, TYPICAL),            # 12 x 3 = 36; z = 0.9014
    "movement": (30, (30 - 25.8) / 6.7, TYPICAL),         # z = 0.6269
    "body_position": (24, (24 - 19.2) / 5.8, TYPICAL),    # 8 x 3 = 24; z = 0.8276
    "oral": (30, (30 - 23.6) / 6.3, MORE),                # z = 6.4 / 6.3 = 1.0159
    "conduct": (18, (18 - 15.1) / 5.1, TYPICAL),          # 6 x 3 = 18; z = 0.5686
    "social_emotional": (24, (24 - 18.4) / 5.5, MORE),    # z = 5.6 / 5.5 = 1.0182
    "attention": (18, (18 - 14.7) / 4.9, TYPICAL),        # z = 0.6735
}


def test_child_all_threes_plain_sums():
    scores = score_rows([child_row()], "demo-child")
    assert list(scores.columns) == C.SCORE_COLUMNS
    assert scores[C.SCORE].astype(str).tolist() == list(CHILD_ALL_THREES)
    for score_id, (raw, z, label) in CHILD_ALL_THREES.items():
        row = get(scores, score_id)
        assert row[C.RAW] == raw, score_id
        assert row[C.Z] == pytest.approx(z), score_id
        assert row[C.CLASSIFICATION] == label, score_id
        assert row[C.VALID]
        assert not row[C.PRORATED]
        assert pd.isna(row[C.INVALID_REASON]) and pd.isna(row[C.UNCLASSIFIED_REASON])
        assert row[C.NORM_BAND] == "36-71 months"
    seeking = get(scores, "seeking")
    assert seeking[C.LEVEL] == 0
    assert get(scores, "avoiding")[C.LEVEL] == 1
    # percentile = Phi(0.7556) x 100 = 77.50 (normal table: Phi(0.75)=.7734, Phi(0.76)=.7764)
    assert seeking[C.PERCENTILE] == pytest.approx(77.50, abs=0.01)
    assert (seeking[C.N_ITEMS], seeking[C.N_ANSWERED], seeking[C.N_MISSING],
            seeking[C.N_NOT_APPLICABLE], seeking[C.N_OFF_SCALE]) == (15, 15, 0, 0, 0)
    assert (seeking[C.MIN_POSSIBLE], seeking[C.MAX_POSSIBLE]) == (0, 75)  # 15x0 .. 15x5
    assert seeking[C.INSTRUMENT] == "demo-child"
    assert seeking[C.RESPONDENT] == "caregiver"  # the instrument's, no respondent column
    assert seeking[C.KIND] == "quadrant" and seeking[C.SCORE_NAME] == "Seeking"
    assert get(scores, "social_emotional")[C.SCORE_NAME] == "Social and emotional"
    assert get(scores, "auditory")[C.KIND] == "section"


def test_child_varied_profile():
    items = {i: 5 for i in CHILD_SEEKING} | {i: 1 for i in CHILD_AVOIDING} | {
        i: 2 for i in CHILD_SENSITIVITY} | {i: 4 for i in CHILD_REGISTRATION}
    scores = score_rows([child_row(**items)], "demo-child")
    expected = {
        "seeking": (75, (75 - 38.2) / 9.0, MUCH_MORE, 2),      # 15x5; z = 4.0889
        "avoiding": (15, (15 - 35.1) / 8.2, MUCH_LESS, -2),    # 15x1; z = -2.4512
        "sensitivity": (30, (30 - 36.9) / 8.7, TYPICAL, 0),    # 15x2; z = -0.7931
        "registration": (60, (60 - 36.2) / 8.4, MUCH_MORE, 2),  # 15x4; z = 2.8333
        # auditory dc_001..010 = seek5 sens2 reg4 avoid1 seek5 sens2 avoid1 reg4 seek5 sens2
        #   = 5+2+4+1+5+2+1+4+5+2 = 31; z = (31 - 24.4)/6.6 = 1.0 (typical)
        "auditory": (31, 1.0, TYPICAL, 0),
        # visual dc_011..020 = avoid1 seek5 sens2 reg4 avoid1 sens2 seek5 reg4 avoid1 sens2
        #   = 1+5+2+4+1+2+5+4+1+2 = 27; z = (27 - 23.3)/6.3 = 0.5873
        "visual": (27, (27 - 23.3) / 6.3, TYPICAL, 0),
        "conduct": (18, (18 - 15.1) / 5.1, TYPICAL, 0),         # behavioural items stay 3
    }
    for score_id, (raw, z, label, level) in expected.items():
        row = get(scores, score_id)
        assert row[C.RAW] == raw, score_id
        assert row[C.Z] == pytest.approx(z), score_id
        assert row[C.CLASSIFICATION] == label, score_id
        assert row[C.LEVEL] == level, score_id


def test_child_one_blank_is_prorated():
    scores = score_rows([child_row(dc_001=None, dc_005=5)], "demo-child")
    seeking = get(scores, "seeking")
    # 14 answered: 13 x 3 + 5 = 44; prorated 44 x 15/14 = 47.142857
    assert seeking[C.RAW] == pytest.approx(47.142857, abs=1e-6)
    assert seeking[C.PRORATED] and seeking[C.VALID]
    assert (seeking[C.N_ANSWERED], seeking[C.N_MISSING]) == (14, 1)
    # z = (47.142857 - 38.2) / 9.0 = 0.993651 -> just typical
    assert seeking[C.Z] == pytest.approx(0.993651, abs=1e-6)
    assert seeking[C.CLASSIFICATION] == TYPICAL
    auditory = get(scores, "auditory")
    # 9 answered: 8 x 3 + 5 = 29; prorated 29 x 10/9 = 32.2222; z = 7.8222/6.6 = 1.185185
    assert auditory[C.RAW] == pytest.approx(32.222222, abs=1e-6)
    assert auditory[C.Z] == pytest.approx(1.185185, abs=1e-6)
    assert auditory[C.CLASSIFICATION] == MORE
    # scores without dc_001 are untouched: avoiding 15 x 3 = 45, not prorated
    assert get(scores, "avoiding")[C.RAW] == 45
    assert not get(scores, "avoiding")[C.PRORATED]


def test_child_two_blanks_is_still_valid():
    # dc_001 (auditory) and dc_012 (visual) are both seeking: 2 = max_missing
    scores = score_rows([child_row(dc_001=None, dc_012=None, dc_005=1)], "demo-child")
    seeking = get(scores, "seeking")
    # 13 answered: 12 x 3 + 1 = 37; 37 x 15/13 = 42.692308
    assert seeking[C.RAW] == pytest.approx(42.692308, abs=1e-6)
    assert seeking[C.VALID] and seeking[C.PRORATED]
    assert seeking[C.N_MISSING] == 2


def test_child_three_blanks_invalidate_the_quadrant_only():
    # dc_001 (auditory), dc_012 (visual), dc_021 (touch): all three in seeking
    scores = score_rows([child_row(dc_001=None, dc_012=None, dc_021=None)], "demo-child")
    seeking = get(scores, "seeking")
    assert not seeking[C.VALID]
    assert math.isnan(seeking[C.RAW])
    assert seeking[C.INVALID_REASON] == "more than 2 of its 15 items missing"
    assert pd.isna(seeking[C.CLASSIFICATION])
    assert pd.isna(seeking[C.LEVEL])
    assert seeking[C.UNCLASSIFIED_REASON] == "score invalid"
    assert math.isnan(seeking[C.Z]) and math.isnan(seeking[C.PERCENTILE])
    assert not seeking[C.PRORATED]
    assert (seeking[C.N_ANSWERED], seeking[C.N_MISSING]) == (12, 3)
    # each section loses one item (max_missing 1): prorated, valid
    assert get(scores, "auditory")[C.RAW] == pytest.approx(30.0)  # 9 x 3 x 10/9 = 30
    assert get(scores, "touch")[C.RAW] == pytest.approx(36.0)     # 11 x 3 x 12/11 = 36
    assert get(scores, "auditory")[C.PRORATED]
    assert get(scores, "avoiding")[C.VALID]


def test_child_section_two_blanks_invalid_with_its_own_reason():
    scores = score_rows([child_row(dc_061=None, dc_062=None)], "demo-child")
    conduct = get(scores, "conduct")
    assert not conduct[C.VALID]
    assert conduct[C.INVALID_REASON] == "more than 1 of its 6 items missing"


def test_child_does_not_apply_counts_as_zero():
    scores = score_rows([child_row(dc_001=0)], "demo-child")
    seeking = get(scores, "seeking")
    # 14 x 3 + 0 = 42, not prorated (does not apply counts as answered)
    assert seeking[C.RAW] == 42
    assert not seeking[C.PRORATED]
    assert (seeking[C.N_ANSWERED], seeking[C.N_MISSING], seeking[C.N_NOT_APPLICABLE]) == (
        14, 0, 1)
    # z = (42 - 38.2) / 9.0 = 0.422222
    assert seeking[C.Z] == pytest.approx(0.422222, abs=1e-6)
    auditory = get(scores, "auditory")
    assert auditory[C.RAW] == 27  # 9 x 3 + 0
    assert not auditory[C.PRORATED]


def test_child_three_does_not_apply_stay_valid():
    # three "does not apply" in seeking (and auditory): not missing, so never invalid
    scores = score_rows([child_row(dc_001=0, dc_005=0, dc_009=0)], "demo-child")
    seeking = get(scores, "seeking")
    assert seeking[C.VALID]
    assert seeking[C.RAW] == 36  # 12 x 3 + 3 x 0
    assert seeking[C.N_NOT_APPLICABLE] == 3
    auditory = get(scores, "auditory")
    assert auditory[C.VALID] and auditory[C.RAW] == 21  # 7 x 3


def test_child_does_not_apply_as_label():
    scores = score_rows([child_row(dc_001="Does not apply")], "demo-child")
    assert get(scores, "seeking")[C.RAW] == 42  # 14 x 3 + 0
    assert get(scores, "seeking")[C.N_NOT_APPLICABLE] == 1


# ---------------------------------------------------------------------------
# demo-toddler (higher_less, "does not apply" = 9 excluded)
# ---------------------------------------------------------------------------
def test_toddler_all_threes():
    scores = score_rows([toddler_row()], "demo-toddler")
    assert scores[C.SCORE].astype(str).tolist() == [
        "seeking", "avoiding", "sensitivity", "registration", "general", "auditory",
        "visual", "touch", "movement", "oral"]
    for quadrant in ("seeking", "avoiding", "sensitivity", "registration"):
        row = get(scores, quadrant)
        assert row[C.RAW] == 24  # 8 x 3; inside every typical range at 7-12 months
        assert row[C.CLASSIFICATION] == TYPICAL
        assert row[C.LEVEL] == 0
        assert math.isnan(row[C.Z]) and math.isnan(row[C.PERCENTILE])  # cut tables: no z
        assert row[C.NORM_BAND] == "7-12 months"
        assert (row[C.MIN_POSSIBLE], row[C.MAX_POSSIBLE]) == (8, 40)  # 8x1 .. 8x5
    general = get(scores, "general")
    assert general[C.RAW] == 18  # 6 x 3
    assert general[C.VALID]
    assert pd.isna(general[C.CLASSIFICATION])
    assert general[C.UNCLASSIFIED_REASON] == "no norms for this score at this age"


def test_toddler_reversed_direction():
    items = {i: 1 for i in TODDLER_SEEKING} | {i: 5 for i in TODDLER_AVOIDING} | {
        i: 2 for i in TODDLER_SENSITIVITY} | {i: 4 for i in TODDLER_REGISTRATION}
    scores = score_rows([toddler_row(**items)], "demo-toddler")
    expected = {
        "seeking": (8, MUCH_MORE, 2),        # 8 x 1 = 8 (almost always): in 8-12
        "avoiding": (40, MUCH_LESS, -2),     # 8 x 5 = 40 (almost never): in 37-40
        "sensitivity": (16, MORE, 1),        # 8 x 2 = 16: in 14-19
        "registration": (32, LESS, -1),      # 8 x 4 = 32: in 31-35
    }
    for score_id, (raw, label, level) in expected.items():
        row = get(scores, score_id)
        assert row[C.RAW] == raw, score_id
        assert row[C.CLASSIFICATION] == label, score_id
        assert row[C.LEVEL] == level, score_id


def test_toddler_does_not_apply_is_excluded_and_prorated():
    scores = score_rows([toddler_row(dt_03=9, dt_08=1)], "demo-toddler")
    seeking = get(scores, "seeking")
    # dt_03 excluded: 7 counted, 6 x 3 + 1 = 19; prorated 19 x 8/7 = 21.714286
    assert seeking[C.RAW] == pytest.approx(21.714286, abs=1e-6)
    assert seeking[C.PRORATED]
    assert (seeking[C.N_ANSWERED], seeking[C.N_MISSING], seeking[C.N_NOT_APPLICABLE]) == (
        7, 0, 1)
    assert seeking[C.CLASSIFICATION] == TYPICAL  # rounds to 22: in 18-30
    general = get(scores, "general")
    # general dt_01..06 without dt_03: 5 x 3 = 15; 15 x 6/5 = 18.0
    assert general[C.RAW] == pytest.approx(18.0)
    assert general[C.PRORATED]


def test_toddler_two_not_applicable_invalidate():
    scores = score_rows([toddler_row(dt_03=9, dt_08=9)], "demo-toddler")
    seeking = get(scores, "seeking")
    assert not seeking[C.VALID]
    assert math.isnan(seeking[C.RAW])
    assert seeking[C.INVALID_REASON] == "more than 1 of its 8 items missing or not applicable"
    assert seeking[C.UNCLASSIFIED_REASON] == "score invalid"
    assert seeking[C.N_NOT_APPLICABLE] == 2


def test_toddler_not_applicable_and_blank_together_invalidate():
    scores = score_rows([toddler_row(dt_03=9, dt_12=None)], "demo-toddler")
    seeking = get(scores, "seeking")
    assert not seeking[C.VALID]
    assert (seeking[C.N_ANSWERED], seeking[C.N_MISSING], seeking[C.N_NOT_APPLICABLE]) == (
        6, 1, 1)


def test_toddler_does_not_apply_label():
    scores = score_rows([toddler_row(dt_03=" does not apply ")], "demo-toddler")
    seeking = get(scores, "seeking")
    assert seeking[C.RAW] == pytest.approx(24.0)  # 7 x 3 x 8/7 = 24
    assert seeking[C.N_NOT_APPLICABLE] == 1


# ---------------------------------------------------------------------------
# a higher_less score with mean/SD norms (fixture tiny-reverse: seeking 9.0/2.0,
# avoiding 10.0/2.5, total cut table at 12-35 months)
# ---------------------------------------------------------------------------
@pytest.mark.parametrize(("values", "raw", "z", "label", "level"), [
    ((1, 2, 2), 5, 2.0, MORE, 1),           # z = -(5 - 9)/2 = +2.0: exactly 2 -> more
    ((1, 1, 2), 4, 2.5, MUCH_MORE, 2),      # z = -(4 - 9)/2 = +2.5
    ((3, 4, 4), 11, -1.0, TYPICAL, 0),      # z = -(11 - 9)/2 = -1.0: exactly 1 -> typical
    ((4, 4, 4), 12, -1.5, LESS, -1),        # z = -(12 - 9)/2 = -1.5
    ((5, 5, 5), 15, -3.0, MUCH_LESS, -2),   # z = -(15 - 9)/2 = -3.0
])
def test_higher_less_z_is_behaviour_oriented(values, raw, z, label, level):
    row = dict(assessment_id="R1", age_months=20, tr_1=values[0], tr_2=values[1],
               tr_3=values[2], tr_4=3, tr_5=3, tr_6=3)
    seeking = get(score_rows([row], TINY_REVERSE), "seeking")
    assert seeking[C.RAW] == raw
    assert seeking[C.Z] == pytest.approx(z)
    assert seeking[C.CLASSIFICATION] == label
    assert seeking[C.LEVEL] == level


def test_higher_less_percentile():
    row = dict(assessment_id="R1", age_months=20, tr_1=1, tr_2=2, tr_3=2, tr_4=3, tr_5=3,
               tr_6=3)
    seeking = get(score_rows([row], TINY_REVERSE), "seeking")
    # raw 5 is LESS than the mean 9 but MORE behaviour: z = +2, Phi(2) = 0.97725
    assert seeking[C.PERCENTILE] == pytest.approx(97.725, abs=0.001)


def test_prorate_false_gives_the_plain_sum():
    row = dict(assessment_id="R1", age_months=20, tr_1=3, tr_2=3, tr_3=3, tr_4=4, tr_5=4,
               tr_6=None)
    scores = score_rows([row], TINY_REVERSE)
    avoiding = get(scores, "avoiding")
    assert avoiding[C.RAW] == 8  # 4 + 4, not 8 x 3/2 = 12
    assert not avoiding[C.PRORATED] and avoiding[C.VALID]
    assert avoiding[C.Z] == pytest.approx(0.8)  # -(8 - 10)/2.5 = +0.8
    assert avoiding[C.CLASSIFICATION] == TYPICAL


@pytest.mark.parametrize(("values", "raw", "label"), [
    # 4 answered of 6, prorated S x 6/4 = 1.5 S, rounded half up before the cut table
    ((4, 4, 4, 3, None, None), 22.5, LESS),      # S = 15: 22.5 -> 23 (less 23-26), not 22
    ((1, 2, 2, 4, None, None), 13.5, TYPICAL),   # S = 9: 13.5 -> 14 (typical 14-22), not 13
    ((2, 2, 2, 4, None, None), 15.0, TYPICAL),   # S = 10: 15
    ((1, 1, 1, 3, None, None), 9.0, MUCH_MORE),  # S = 6: 9, top of much_more 6-9
])
def test_prorated_raw_rounds_half_up_for_the_cut_table(values, raw, label):
    row = dict(assessment_id="R1", age_months=20,
               **{f"tr_{k + 1}": v for k, v in enumerate(values)})
    total = get(score_rows([row], TINY_REVERSE), "total")
    assert total[C.RAW] == pytest.approx(raw)  # the raw itself is not rounded
    assert total[C.PRORATED]
    assert total[C.CLASSIFICATION] == label


# ---------------------------------------------------------------------------
# off-scale values, labels, numbers as text
# ---------------------------------------------------------------------------
def test_off_scale_number_invalidates_only_scores_with_that_item():
    scores = score_rows([child_row(dc_001=7)], "demo-child")
    for score_id in ("seeking", "auditory"):  # the two scores holding dc_001
        row = get(scores, score_id)
        assert not row[C.VALID]
        assert math.isnan(row[C.RAW])
        assert row[C.INVALID_REASON] == OFF_SCALE_TEXT
        assert row[C.N_OFF_SCALE] == 1
        assert row[C.UNCLASSIFIED_REASON] == "score invalid"
    valid = scores[C.VALID].to_numpy()
    assert valid.sum() == 11  # 13 scores - 2
    assert get(scores, "avoiding")[C.RAW] == 45


def test_off_scale_text_invalidates_only_scores_with_that_item():
    scores = score_rows([child_row(dc_002="often")], "demo-child")
    invalid = scores.loc[~scores[C.VALID], C.SCORE].astype(str).tolist()
    assert invalid == ["sensitivity", "auditory"]  # dc_002's quadrant and section
    assert get(scores, "seeking")[C.RAW] == 45


@pytest.mark.parametrize("value", [6, 2.5, -1, "7", "sometimes", "3 times"])
def test_other_off_scale_values(value):
    scores = score_rows([child_row(dc_001=value)], "demo-child")
    assert not get(scores, "seeking")[C.VALID]
    assert get(scores, "seeking")[C.N_OFF_SCALE] == 1


@pytest.mark.parametrize("value", [0, 6, 7, 8, 10, "0"])
def test_toddler_off_scale_values(value):
    # toddler scale: 1..5 and 9 (does not apply); 0 and 6-8 are not on it
    scores = score_rows([toddler_row(dt_03=value)], "demo-toddler")
    assert get(scores, "seeking")[C.INVALID_REASON] == OFF_SCALE_TEXT
    assert get(scores, "avoiding")[C.VALID]


def test_labels_and_numbers_as_text():
    items = {f"dc_{i:03d}": "3" for i in range(1, 81)}
    items.update(dc_001="Frequently", dc_005=" almost never ", dc_009="4", dc_012=" 3 ",
                 dc_017="ALMOST ALWAYS")
    scores = score_rows([child_row(**items)], "demo-child")
    assert scores[C.VALID].all()
    # seeking: 4 + 1 + 4 + 3 + 5 + 10 x 3 = 47
    assert get(scores, "seeking")[C.RAW] == 47
    # auditory: dc_001 4 + dc_005 1 + dc_009 4 + 7 x 3 = 30
    assert get(scores, "auditory")[C.RAW] == 30
    # visual: dc_012 3 + dc_017 5 + 8 x 3 = 32
    assert get(scores, "visual")[C.RAW] == 32
    assert get(scores, "avoiding")[C.RAW] == 45


def test_blank_text_cells_are_missing_not_off_scale():
    scores = score_rows([child_row(dc_001="", dc_005="   ")], "demo-child")
    seeking = get(scores, "seeking")
    assert seeking[C.N_MISSING] == 2 and seeking[C.N_OFF_SCALE] == 0
    assert seeking[C.RAW] == pytest.approx(45.0)  # 13 x 3 x 15/13


def test_nullable_integer_columns():
    frame = pd.DataFrame([child_row(), child_row("A2")])
    frame["dc_001"] = pd.array([4, None], dtype="Int64")
    scores = score_assessments(frame, "demo-child")
    assert get(scores, "seeking", "A1")[C.RAW] == 46  # 14 x 3 + 4
    assert get(scores, "seeking", "A2")[C.RAW] == pytest.approx(45.0)  # 14 x 3 x 15/14


# ---------------------------------------------------------------------------
# the array core
# ---------------------------------------------------------------------------
def test_score_responses_array_core():
    values = np.full((2, 32), 3.0)
    values[1, 2] = np.nan  # dt_03 blank (seeking, general)
    wide = score_responses(values, "demo-toddler")
    j = TODDLER.score_ids.index("seeking")
    assert wide.raw[:, j].tolist() == pytest.approx([24.0, 24.0])  # 8x3; 7x3x8/7
    assert wide.prorated[:, j].tolist() == [False, True]
    assert wide.n_missing[:, j].tolist() == [0, 1]
    assert wide.valid.all()


def test_score_responses_wrong_shape():
    with pytest.raises(UsageError) as info:
        score_responses(np.ones((1, 3)), "demo-child")
    assert str(info.value) == ("`values` must have shape (n, 80) for demo-child, but (1, 3) "
                               "was passed")


def test_not_a_dataframe():
    with pytest.raises(UsageError, match="`assessments` must be a pandas DataFrame, but list "
                       "was passed"):
        score_assessments([child_row()], "demo-child")


def test_no_instrument_column_and_no_instrument():
    with pytest.raises(DatasetError) as info:
        score_assessments(pd.DataFrame([child_row()]), source="visits.csv")
    assert str(info.value) == ("visits.csv: no `instrument` column and no instrument given; "
                               "add an `instrument` column or pass --instrument ID_OR_FILE")


def test_empty_frame_gives_empty_table():
    frame = pd.DataFrame([child_row()]).iloc[:0]
    scores = score_assessments(frame, "demo-child")
    assert len(scores) == 0
    assert list(scores.columns) == C.SCORE_COLUMNS


def test_mixed_instruments_keep_input_order():
    rows = [child_row("A1") | {C.INSTRUMENT: "demo-child"},
            toddler_row("T1") | {C.INSTRUMENT: "demo-toddler"},
            child_row("A2", fill=4) | {C.INSTRUMENT: " demo-child "}]
    scores = score_assessments(pd.DataFrame(rows))
    # assessment-major: 13 + 10 + 13 rows, in input order
    assert len(scores) == 36
    assert scores[C.ASSESSMENT_ID].tolist() == ["A1"] * 13 + ["T1"] * 10 + ["A2"] * 13
    assert get(scores, "seeking", "A2")[C.RAW] == 60  # 15 x 4
    assert get(scores, "seeking", "T1")[C.RAW] == 24  # 8 x 3
    assert get(scores, "seeking", "T1")[C.INSTRUMENT] == "demo-toddler"


def test_respondent_column_is_carried():
    scores = score_rows([child_row() | {C.RESPONDENT: "teacher"}], "demo-child")
    assert set(scores[C.RESPONDENT].astype(str)) == {"teacher"}


# ---------------------------------------------------------------------------
# bad input: the exact validation-report rows
# ---------------------------------------------------------------------------
ALLOWED_CHILD = ("not on demo-child's response scale; allowed: 0, 1, 2, 3, 4, 5 "
                 "(or their labels)")


def test_report_off_scale_number_and_text():
    report = ValidationReport()
    score_rows([child_row("A1", dc_001=7), child_row("A2", dc_002="often")], "demo-child",
               report=report, source="assessments.csv")
    assert report_rows(report) == [
        ("assessments.csv", 2, "dc_001", "7", ALLOWED_CHILD, "score invalidated"),
        ("assessments.csv", 3, "dc_002", "'often'", ALLOWED_CHILD, "score invalidated"),
    ]
    assert [p.key for p in report.problems] == ["assessment_id=A1", "assessment_id=A2"]
    assert str(report.problems[0]) == (
        "assessments.csv row 2 (assessment_id=A1), column dc_001: value 7: " + ALLOWED_CHILD
        + " [score invalidated]")


def test_report_toddler_allowed_values():
    report = ValidationReport()
    score_rows([toddler_row(dt_05=6)], "demo-toddler", report=report)
    assert report_rows(report) == [
        ("assessments.csv", 2, "dt_05", "6", "not on demo-toddler's response scale; allowed: "
         "1, 2, 3, 4, 5, 9 (or their labels)", "score invalidated")]


def test_report_uses_source_row_when_given():
    frame = pd.DataFrame([child_row("A1"), child_row("A2", dc_003="x")])
    frame[C.SOURCE_ROW] = [7, 9]
    report = ValidationReport()
    score_assessments(frame, "demo-child", report=report, source="visits.csv")
    assert report_rows(report) == [
        ("visits.csv", 9, "dc_003", "'x'", ALLOWED_CHILD, "score invalidated")]


def test_report_unknown_column():
    frame = pd.DataFrame([child_row()])
    frame["colour"] = "blue"
    report = ValidationReport()
    scores = score_assessments(frame, "demo-child", report=report)
    assert report_rows(report) == [
        ("assessments.csv", 1, "colour", "", "column belongs to no known instrument",
         "column ignored")]
    assert scores[C.VALID].all()


def test_report_missing_item_columns():
    frame = pd.DataFrame([child_row()]).drop(columns=[f"dc_{i:03d}" for i in range(74, 81)])
    report = ValidationReport()
    scores = score_assessments(frame, "demo-child", report=report)
    assert report_rows(report) == [
        ("assessments.csv", 1, "dc_074, dc_075, dc_076, dc_077, dc_078 and 2 more", "",
         "7 item column(s) of demo-child are missing from the file; they are read as blank",
         "score invalidated")]
    # attention (dc_075..080) lost all 6 items; social_emotional lost dc_074 (1 of 8)
    assert not get(scores, "attention")[C.VALID]
    assert get(scores, "attention")[C.N_MISSING] == 6
    assert get(scores, "social_emotional")[C.RAW] == pytest.approx(24.0)  # 7x3x8/7


def test_report_one_missing_item_column():
    frame = pd.DataFrame([child_row()]).drop(columns=["dc_080"])
    report = ValidationReport()
    score_assessments(frame, "demo-child", report=report)
    assert report_rows(report) == [
        ("assessments.csv", 1, "dc_080", "", "1 item column(s) of demo-child are missing from "
         "the file; they are read as blank", "score invalidated")]
    assert "None" not in str(report.problems[0])


def test_report_duplicate_assessment_ids():
    report = ValidationReport()
    scores = score_rows([child_row("A1"), child_row("A2"), child_row("A1", fill=4)],
                        "demo-child", report=report)
    assert report_rows(report) == [
        ("assessments.csv", 4, "assessment_id", "'A1'", "duplicate assessment_id (first on "
         "row 2)", "score invalidated")]
    first, repeat = scores.iloc[:13], scores.iloc[26:]
    assert first[C.VALID].all()
    assert first[C.RAW].iloc[0] == 45
    assert not repeat[C.VALID].any()
    assert repeat[C.RAW].isna().all()
    assert set(repeat[C.INVALID_REASON].astype(str)) == {
        "duplicate assessment_id (first on row 2)"}
    assert set(repeat[C.UNCLASSIFIED_REASON].astype(str)) == {"score invalid"}
    assert repeat[C.CLASSIFICATION].isna().all()


def test_report_duplicate_ids_with_source_rows():
    frame = pd.DataFrame([child_row("A1"), child_row("A1")])
    frame[C.SOURCE_ROW] = [10, 14]
    report = ValidationReport()
    score_assessments(frame, "demo-child", report=report)
    assert report_rows(report) == [
        ("assessments.csv", 14, "assessment_id", "'A1'",
         "duplicate assessment_id (first on row 10)", "score invalidated")]


KIDS = pd.DataFrame({C.CHILD_ID: ["C1"], C.DATE_OF_BIRTH: ["2020-03-15"]})


def dated(aid, date, **items):
    row = child_row(aid, **items)
    del row[C.AGE_MONTHS]
    row[C.DATE] = date
    return row


@pytest.mark.parametrize(("date", "rule"), [
    ("yesterday", "not a date: dates must be ISO 8601 (YYYY-MM-DD)"),
    ("2025-13-45", "not a calendar date"),
    ("2025-02-30", "not a calendar date"),
])
def test_report_bad_dates(date, rule):
    report = ValidationReport()
    scores = score_rows([dated("A1", "2024-06-01"), dated("A2", date)], "demo-child",
                        children=KIDS, report=report)
    assert report_rows(report) == [
        ("assessments.csv", 3, "date", repr(date), rule, "score not classified")]
    good, bad = get(scores, "seeking", "A1"), get(scores, "seeking", "A2")
    # 2020-03-15 -> 2024-06-01: 4 years 2 months, day 1 < 15 -> 50 months
    assert good[C.AGE_MONTHS] == 50
    assert good[C.CLASSIFICATION] == TYPICAL
    assert bad[C.VALID] and bad[C.RAW] == 45  # the score itself stands
    assert math.isnan(bad[C.AGE_MONTHS])
    assert bad[C.UNCLASSIFIED_REASON] == "age at assessment unknown"
    assert pd.isna(bad[C.CLASSIFICATION])


@pytest.mark.parametrize("date", ["03/04/2025", "3.4.25", "12-11-2024"])
def test_report_ambiguous_dates(date):
    report = ValidationReport()
    scores = score_rows([dated("A1", date)], "demo-child", children=KIDS, report=report)
    assert len(report.problems) == 1
    p = report.problems[0]
    assert (p.file, p.row, p.column, p.value, p.action) == (
        "assessments.csv", 2, "date", repr(date), "score not classified")
    assert p.rule.startswith("ambiguous date")
    assert "day-first or month-first" in p.rule
    assert "ISO 8601 (YYYY-MM-DD)" in p.rule
    assert get(scores, "seeking")[C.UNCLASSIFIED_REASON] == "age at assessment unknown"


def test_report_assessment_before_birth():
    report = ValidationReport()
    scores = score_rows([dated("A1", "2020-03-01")], "demo-child", children=KIDS,
                        report=report)
    assert report_rows(report) == [
        ("assessments.csv", 2, "date", "'2020-03-01'",
         "assessment dated before the child's date of birth", "score not classified")]
    row = get(scores, "seeking")
    assert row[C.AGE_MONTHS] < 0
    assert row[C.UNCLASSIFIED_REASON] == "assessment dated before the date of birth"
    assert pd.isna(row[C.CLASSIFICATION])


def test_report_age_outside_range():
    report = ValidationReport()
    # born 2020-03-15; 2023-03-14 is the day before the third birthday: 35 months
    scores = score_rows([dated("A1", "2023-03-14")], "demo-child", children=KIDS,
                        report=report)
    assert report_rows(report) == [
        ("assessments.csv", 2, "date", "age 35 months",
         "age outside demo-child's range of 36-179 months", "score not classified")]
    row = get(scores, "seeking")
    assert row[C.AGE_MONTHS] == 35
    assert row[C.UNCLASSIFIED_REASON] == "age outside demo-child's age range (36-179 months)"


def test_report_unknown_instrument():
    rows = [child_row("A1") | {C.INSTRUMENT: "demo-adult"},
            child_row("A2") | {C.INSTRUMENT: "demo-child"}]
    report = ValidationReport()
    scores = score_assessments(pd.DataFrame(rows), report=report)
    assert len(report.problems) == 1
    p = report.problems[0]
    assert (p.file, p.row, p.column, p.value, p.action) == (
        "assessments.csv", 2, "instrument", "'demo-adult'", "score invalidated")
    assert p.rule.startswith("unknown instrument")
    assert p.rule == ("unknown instrument 'demo-adult': the shipped instruments are demo-child, "
                      "demo-toddler, and no definition file declares it in the clinic's folders (none); "
        "register the form's definition file in the dataset's instruments/ folder, with "
        "--instruments DIR or in SENSORYPROFILE_INSTRUMENTS")
    # one placeholder row for A1, then A2's 13 scores
    assert len(scores) == 1 + 13
    placeholder = scores.iloc[0]
    assert placeholder[C.ASSESSMENT_ID] == "A1"
    assert placeholder[C.INSTRUMENT] == "demo-adult"
    assert not placeholder[C.VALID]
    assert math.isnan(placeholder[C.RAW])
    assert placeholder[C.INVALID_REASON] == "unknown instrument 'demo-adult'"
    assert placeholder[C.UNCLASSIFIED_REASON] == "score invalid"
    assert scores.iloc[1:][C.VALID].all()


def test_unknown_instrument_rule_text_is_clean():
    report = ValidationReport()
    score_assessments(pd.DataFrame([child_row() | {C.INSTRUMENT: "demo-adult"}]),
                      report=report)
    assert " ;" not in report.problems[0].rule


def test_report_blank_instrument():
    rows = [child_row("A1") | {C.INSTRUMENT: None}]
    report = ValidationReport()
    scores = score_assessments(pd.DataFrame(rows), report=report)
    assert report_rows(report) == [
        ("assessments.csv", 2, "instrument", "(blank)", "instrument is required",
         "score invalidated")]
    assert scores[C.INVALID_REASON].tolist() == ["no instrument given"]


def test_report_value_in_another_instruments_column():
    rows = [child_row("A1") | {C.INSTRUMENT: "demo-child", "dt_01": 2},
            toddler_row("T1") | {C.INSTRUMENT: "demo-toddler"}]
    report = ValidationReport()
    scores = score_assessments(pd.DataFrame(rows), report=report)
    assert report_rows(report) == [
        ("assessments.csv", 2, "dt_01", "2", "item of demo-toddler, not of this row's "
         "instrument demo-child", "value ignored")]
    assert get(scores, "avoiding", "A1")[C.RAW] == 45


def test_report_counts_every_problem_once():
    rows = [child_row("A1", dc_001=7), child_row("A1"), child_row("A3", dc_002="often")]
    frame = pd.DataFrame(rows)
    frame["colour"] = "x"
    report = ValidationReport()
    score_assessments(frame, "demo-child", report=report)
    # unknown column + off-scale (row 2) + duplicate id (row 3) + off-scale text (row 4)
    assert sorted((p.row, p.column) for p in report.problems) == [
        (1, "colour"), (2, "dc_001"), (3, "assessment_id"), (4, "dc_002")]


def test_broken_file_in_search_dir_does_not_make_a_shipped_form_unknown(tmp_path):
    shutil.copy(CHECKS / "broken-three.yaml", tmp_path / "draft.yaml")
    row = toddler_row() | {C.INSTRUMENT: "demo-toddler"}
    scores = score_assessments(pd.DataFrame([row]), search_dirs=(tmp_path,))
    assert "unknown instrument 'demo-toddler'" not in scores[C.INVALID_REASON].astype(
        str).tolist()


def test_min_possible_with_prorating():
    # tiny-reverse total: 6 items on 1..5, prorated: min 6 x 1 = 6, max 6 x 5 = 30
    total = get(score_rows([dict(assessment_id="R1", age_months=20, tr_1=1, tr_2=1, tr_3=1,
                                 tr_4=1, tr_5=None, tr_6=None)], TINY_REVERSE), "total")
    assert total[C.RAW] == pytest.approx(6.0)  # 4 x 1 x 6/4
    assert (total[C.MIN_POSSIBLE], total[C.MAX_POSSIBLE]) == (6, 30)


def test_raw_never_below_min_possible_without_prorating():
    # tiny-reverse avoiding: 3 items on 1..5, max_missing 1, prorate false
    avoiding = get(score_rows([dict(assessment_id="R1", age_months=20, tr_1=3, tr_2=3, tr_3=3,
                                    tr_4=1, tr_5=1, tr_6=None)], TINY_REVERSE), "avoiding")
    assert avoiding[C.VALID]
    assert avoiding[C.RAW] == 2  # 1 + 1, plain sum
    assert avoiding[C.MIN_POSSIBLE] <= avoiding[C.RAW]


def test_non_default_index_scores_like_the_default():
    rows = [child_row("A1"), child_row("A2", fill=4, dc_001="often"), child_row("A1", fill=5)]
    frame = pd.DataFrame(rows)
    expected = score_assessments(frame, "demo-child")
    for index in ([10, 5, 7], ["x", "y", "z"], [2, 1, 0]):
        pd.testing.assert_frame_equal(score_assessments(frame.set_axis(index), "demo-child"),
                                      expected)


def test_dates_of_a_filtered_frame_stay_on_their_rows():
    # born 2020-03-15: A1 on 2023-03-15 (written with a midnight time) is 36 months,
    # A2 on 2024-06-01 is 50 months (4 y 2 m, day 1 < 15)
    rows = [dated("A1", "2023-03-15 00:00"), dated("A2", "2024-06-01")]
    frame = pd.DataFrame(rows, index=[1, 0])  # e.g. what frame[mask] or sort_values leave
    report = ValidationReport()
    scores = score_assessments(frame, "demo-child", children=KIDS, report=report)
    assert report.problems == []
    assert get(scores, "seeking", "A1")[C.AGE_MONTHS] == 36
    assert get(scores, "seeking", "A2")[C.AGE_MONTHS] == 50


def test_bad_date_in_a_filtered_frame_is_reported_not_raised():
    rows = [dated("A1", "2024-06-01"), dated("A2", "2024-13-01")]
    frame = pd.DataFrame(rows, index=[10, 11])
    report = ValidationReport()
    score_assessments(frame, "demo-child", children=KIDS, report=report)
    assert report_rows(report) == [
        ("assessments.csv", 3, "date", "'2024-13-01'", "not a calendar date",
         "score not classified")]
