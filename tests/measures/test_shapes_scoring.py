"""Scoring forms of other shapes (issue #11), each number worked by hand
from the invented definitions in tests/fixtures/instruments/shapes/."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sensoryprofile import columns as C
from sensoryprofile.data.assessments import score_assessments
from sensoryprofile.data.validation import ValidationReport
from sensoryprofile.instruments import load_instrument_file
from tests.paths import FIXTURES

SHAPES = FIXTURES / "shapes"
SHORT = load_instrument_file(SHAPES / "fx-short.yaml")
ADULT = load_instrument_file(SHAPES / "fx-adult.yaml")
HOME_SCHOOL = load_instrument_file(SHAPES / "fx-home-school.yaml")


def row(inst, aid, age, answers, **extra) -> dict:
    values = answers if isinstance(answers, dict) else dict.fromkeys(inst.item_ids, answers)
    return {C.ASSESSMENT_ID: aid, C.CHILD_ID: extra.pop("child", "K1"), C.DATE: "2025-03-01",
            C.AGE_MONTHS: age, **extra, **values}


def by_score(scores: pd.DataFrame, aid: str) -> pd.DataFrame:
    return scores[scores[C.ASSESSMENT_ID] == aid].set_index(C.SCORE)


def test_one_sided_cut_tables_without_quadrants():
    scores = score_assessments(pd.DataFrame([
        row(SHORT, "A1", 50, 5),   # every item 5 (never): sections 4 x 5 = 20, total 60
        row(SHORT, "A2", 55, 3),   # sections 12, total 36
        row(SHORT, "A3", 80, 2),   # sections 8, total 24 (the 72-143 band)
    ]), SHORT)
    assert scores[C.SCORE].cat.categories.tolist() == ["tactile", "auditory", "movement",
                                                       "total"]
    assert by_score(scores, "A1")[C.KIND].tolist() == ["section"] * 3 + ["total"]
    a1, a2, a3 = (by_score(scores, a) for a in ("A1", "A2", "A3"))
    assert a1[C.RAW].tolist() == [20, 20, 20, 60]
    # 36-71 months: tactile typical [15, 20]; total typical [44, 60]
    assert a1[C.CLASSIFICATION].tolist() == ["Typical Performance"] * 4
    assert a1[C.LEVEL].tolist() == [0, 0, 0, 0]
    # raw 12: tactile probable [12, 14] -> 1, auditory probable [11, 13] -> 1,
    # movement definite [4, 12] -> 2; total 36: definite [12, 36] -> 2
    assert a2[C.LEVEL].tolist() == [1, 1, 2, 2]
    assert a2[C.CLASSIFICATION].tolist() == ["Probable Difference", "Probable Difference",
                                             "Definite Difference", "Definite Difference"]
    assert a3[C.NORM_BAND].astype(str).tolist() == ["72-143 months"] * 4
    assert a3[C.LEVEL].tolist() == [2, 2, 2, 2]
    # cut tables give no z and no percentile
    assert scores[C.Z].isna().all() and scores[C.PERCENTILE].isna().all()
    # the categories are the scheme's labels, typical first (ordinals 0, 1, 2)
    assert scores[C.CLASSIFICATION].cat.categories.tolist() == [
        "Typical Performance", "Probable Difference", "Definite Difference"]


def test_prorated_one_sided_score_rounds_before_the_cut_table():
    answers = dict.fromkeys(SHORT.item_ids, 4)
    answers["fs_t1"] = np.nan  # tactile: 3 answered x 4 = 12, prorated 12 x 4 / 3 = 16
    scores = score_assessments(pd.DataFrame([row(SHORT, "A1", 50, answers)]), SHORT)
    tactile = by_score(scores, "A1").loc["tactile"]
    assert tactile[C.RAW] == 16.0 and bool(tactile[C.PRORATED])
    assert tactile[C.LEVEL] == 0  # typical [15, 20]
    # total: 11 answered x 4 = 44, prorated 44 x 12 / 11 = 48 -> typical [44, 60]
    assert by_score(scores, "A1").loc["total", C.RAW] == 48.0


def test_adult_self_report_reverse_keys_and_open_top_band():
    scores = score_assessments(pd.DataFrame([row(ADULT, "B1", 800, 4),
                                             row(ADULT, "B2", 140, 4)]), ADULT)
    b1 = by_score(scores, "B1")
    # fa_03 and fa_12 are reverse-keyed: an answer 4 counts 1 + 5 - 4 = 2
    # seeking = fa_01 4 + fa_02 4 + fa_03 2 = 10; registration = 4 + 4 + 2 = 10
    # total = 10 answers of 4 + 2 reversed of 2 = 44
    assert b1[C.RAW].tolist() == [10, 12, 12, 10, 44]
    # 800 months = 66 years 8 months: the open band 65+ (780 months and over)
    assert b1[C.NORM_BAND].astype(str).unique().tolist() == ["65+ years"]
    # 65+: seeking (10 - 7)/2 = 1.5 more; avoiding (12 - 9)/2 = 1.5 more;
    # sensitivity (12 - 9)/2.5 = 1.2 more; registration (10 - 9)/2 = 0.5 typical;
    # total (44 - 34)/6 = 1.667 more
    np.testing.assert_allclose(b1[C.Z].to_numpy(dtype=float), [1.5, 1.5, 1.2, 0.5, 10 / 6])
    assert b1[C.LEVEL].tolist() == [1, 1, 1, 0, 1]
    # 140 months = 11 years 8 months: the 11-17 band; seeking (10 - 9)/2 = 0.5
    b2 = by_score(scores, "B2")
    assert b2[C.NORM_BAND].astype(str).unique().tolist() == ["11-17 years"]
    assert b2.loc["seeking", C.Z] == pytest.approx(0.5)


def test_two_respondents_norms_by_respondent_sex_and_percentiles():
    inst = HOME_SCHOOL
    children = pd.DataFrame({C.CHILD_ID: ["K1", "K2", "K3"], C.SEX: ["F", "M", "X"]})
    report = ValidationReport()
    scores = score_assessments(pd.DataFrame([
        row(inst, "C1", 60, 3, respondent="teacher", child="K1"),
        row(inst, "C2", 60, 3, respondent="caregiver", child="K1"),
        row(inst, "C3", 60, 3, respondent="caregiver", child="K2"),
        row(inst, "C4", 60, 3, respondent="caregiver", child="K3"),
        row(inst, "C5", 60, 3, respondent="self", child="K2"),
    ]), inst, children=children, report=report)
    # every item 3: quadrants 2 x 3 = 6, reactivity (fh_1, fh_3, fh_5) 9
    assert by_score(scores, "C1")[C.RAW].tolist() == [6, 6, 6, 6, 9]
    c1 = by_score(scores, "C1")
    # teacher, 48-95 months: seeking by the percentile table, raw 6 -> 75th percentile,
    # z = Phi^-1(0.75) = 0.6745 (typical); avoiding (6 - 3.5)/1 = 2.5 much more
    assert c1[C.NORM_BAND].astype(str).unique().tolist() == ["48-95 months (teacher)"]
    assert c1.loc["seeking", C.PERCENTILE] == pytest.approx(75.0)
    assert c1.loc["seeking", C.Z] == pytest.approx(0.6744898, abs=1e-6)
    assert c1.loc["seeking", C.LEVEL] == 0
    assert c1.loc["avoiding", C.Z] == pytest.approx(2.5) and c1.loc["avoiding", C.LEVEL] == 2
    # caregiver of a girl: seeking (6 - 4.5)/1 = 1.5; of a boy: (6 - 5)/1 = 1.0 (typical);
    # of a child of another sex: the caregiver band, (6 - 4.75)/1 = 1.25
    assert by_score(scores, "C2").loc["seeking", C.Z] == pytest.approx(1.5)
    assert by_score(scores, "C3").loc["seeking", C.Z] == pytest.approx(1.0)
    assert by_score(scores, "C3").loc["seeking", C.LEVEL] == 0
    assert by_score(scores, "C4").loc["seeking", C.Z] == pytest.approx(1.25)
    assert by_score(scores, "C2")[C.NORM_BAND].astype(str).iloc[0] == (
        "48-155 months (caregiver, girls/women)")
    assert by_score(scores, "C4")[C.NORM_BAND].astype(str).iloc[0] == (
        "48-155 months (caregiver)")
    # a respondent the form is not given to: scored, never classified
    c5 = by_score(scores, "C5")
    assert c5[C.RAW].tolist() == [6, 6, 6, 6, 9]
    assert c5[C.LEVEL].isna().all()
    assert c5[C.UNCLASSIFIED_REASON].unique().tolist() == [
        "the form has no norms for this respondent"]


def test_the_lowest_raw_score_takes_the_first_percentile_of_the_table():
    inst = HOME_SCHOOL
    answers = dict.fromkeys(inst.item_ids, 1)  # seeking 2: the table starts at 2 -> 2nd pct
    scores = score_assessments(pd.DataFrame([
        row(inst, "D1", 60, answers, respondent="teacher")]), inst)
    seeking = by_score(scores, "D1").loc["seeking"]
    assert seeking[C.PERCENTILE] == pytest.approx(2.0)
    # z = Phi^-1(0.02) = -2.054: much less
    assert seeking[C.Z] == pytest.approx(-2.0537489, abs=1e-6) and seeking[C.LEVEL] == -2
