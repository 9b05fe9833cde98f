"""Norms: age in months, age bands and their edges, z cut points, percentiles,
cut-table look-up (with rounding of prorated raws), and empty bands.

demo-child seeking norms (from demo-child.yaml):
    36-71 months   mean 38.2 sd 9.0
    72-119 months  mean 36.0 sd 8.5
    120-179 months mean 33.6 sd 8.1
An all-3s demo-child assessment has seeking raw 15 x 3 = 45.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sensoryprofile import columns as C
from sensoryprofile.data.assessments import score_assessments
from sensoryprofile.dates import completed_months
from sensoryprofile.instruments import load_instrument
from sensoryprofile.measures import norms as N

CHILD = load_instrument("demo-child")
TODDLER = load_instrument("demo-toddler")
TYPICAL = "Just Like the Majority of Others"
MORE = "More Than Others"
MUCH_MORE = "Much More Than Others"
LESS = "Less Than Others"
MUCH_LESS = "Much Less Than Others"
TODDLER_SEEKING = ["dt_03", "dt_08", "dt_12", "dt_17", "dt_21", "dt_23", "dt_27", "dt_29"]


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


def get(scores, score_id, aid=None):
    mask = scores[C.SCORE].astype(object) == score_id
    if aid is not None:
        mask &= scores[C.ASSESSMENT_ID] == aid
    found = scores[mask]
    assert len(found) == 1
    return found.iloc[0]


# ---------------------------------------------------------------------------
# age in completed months
# ---------------------------------------------------------------------------
@pytest.mark.parametrize(("born", "seen", "months"), [
    ("2020-03-15", "2023-03-15", 36),   # on the third birthday: 3 x 12
    ("2020-03-15", "2023-03-14", 35),   # the day before
    ("2020-03-15", "2020-03-15", 0),    # born that day
    ("2020-03-15", "2020-04-14", 0),
    ("2020-03-15", "2020-04-15", 1),
    ("2020-01-31", "2020-02-29", 1),    # end of a month too short for day 31 (leap year)
    ("2020-01-31", "2020-02-28", 0),    # 2020 has a 29 February: not yet a month
    ("2021-01-31", "2021-02-28", 1),    # end of February in a common year
    ("2020-01-30", "2020-02-29", 1),    # February has no day 30
    ("2020-03-31", "2020-04-30", 1),    # April has no day 31
    ("2020-02-29", "2021-02-28", 12),   # leap-day birthday in a common year
    ("2020-02-29", "2024-02-29", 48),
    ("2019-12-20", "2020-01-19", 0),    # across a year end
    ("2019-12-20", "2020-01-20", 1),
])
def test_age_in_months(born, seen, months):
    result = completed_months(pd.Series(pd.to_datetime([born])), pd.Series(pd.to_datetime([seen])))
    assert result.tolist() == [months]


def test_age_before_birth_is_negative_never_zero():
    born = pd.Series(pd.to_datetime(["2020-03-15", "2020-03-15", "2020-03-31"]))
    seen = pd.Series(pd.to_datetime(["2020-03-14", "2019-01-01", "2020-03-30"]))
    ages = completed_months(born, seen)
    assert ages[0] == -1   # a day before: 0 months would hide it, so -1
    # (2019-2020) x 12 + (1 - 3) = -14, day 1 < 15 -> -15
    assert ages[1] == -15
    assert ages[2] == -1
    assert (ages < 0).all()


def test_age_missing_dates_are_nan():
    born = pd.Series(pd.to_datetime(["2020-03-15", None]))
    seen = pd.Series(pd.to_datetime([None, "2023-03-15"]))
    assert np.isnan(completed_months(born, seen)).all()


# ---------------------------------------------------------------------------
# z cut points and percentiles
# ---------------------------------------------------------------------------
@pytest.mark.parametrize(("z", "level"), [
    (0.0, 0),
    (0.999, 0),
    (1.0, 0),           # |z| <= 1 is typical
    (1.0000001, 1),     # just above 1
    (1.5, 1),
    (2.0, 1),           # 1 < |z| <= 2
    (2.0000001, 2),
    (3.7, 2),
    (-1.0, 0),
    (-1.0000001, -1),
    (-2.0, -1),
    (-2.0000001, -2),
    (-5.0, -2),
    (1.0 + 1e-15, 0),   # float noise around the cut is rounded away
    (2.0 - 1e-15, 1),
    (-2.0 - 1e-15, -1),
])
def test_classify_z_cut_points(z, level):
    assert N.classify_z(np.array([z])).tolist() == [level]


def test_classify_z_nan_and_custom_cuts():
    assert N.classify_z(np.array([np.nan])).tolist() == [N.NO_LEVEL]
    levels = N.classify_z(np.array([1.2, 1.5, 1.6, 2.5, 2.6, -1.6, -2.6]), (1.5, 2.5))
    assert levels.tolist() == [0, 0, 1, 1, 2, -1, -2]


@given(st.floats(min_value=-10, max_value=10, allow_nan=False),
       st.floats(min_value=-10, max_value=10, allow_nan=False))
@settings(max_examples=100, deadline=None)
def test_classify_z_is_monotone_and_symmetric(a, b):
    lo, hi = sorted((a, b))
    levels = N.classify_z(np.array([lo, hi, -lo]))
    assert levels[0] <= levels[1]
    assert levels[2] == -levels[0]


def test_raw_exactly_one_sd_from_the_mean_is_typical_despite_float_error():
    # auditory at 36-71 months: mean 24.4, sd 6.6; raw 31 = 24.4 + 6.6
    # in floats (31 - 24.4) / 6.6 = 1.0000000000000002, still typical
    assert (31 - 24.4) / 6.6 > 1.0
    # visual: mean 23.3, sd 6.3; raw 17 = 23.3 - 6.3 -> z = -1.0000000000000002
    # oral: mean 23.6, sd 6.3; raw 11 = 23.6 - 2 x 6.3 -> z = -2.0000000000000004 (less)
    auditory = [f"dc_{i:03d}" for i in range(1, 11)]
    visual = [f"dc_{i:03d}" for i in range(11, 21)]
    oral = [f"dc_{i:03d}" for i in range(51, 61)]
    items = {i: 4 for i in auditory[:1]} | {i: 3 for i in auditory[1:]}   # 4 + 9 x 3 = 31
    items |= {i: 2 for i in visual[:3]} | {i: 1 for i in visual[3:]}      # 3 x 2 + 7 x 1 = 13
    items |= {i: 1 for i in oral[:9]} | {oral[9]: 2}                     # 9 x 1 + 2 = 11
    items |= {visual[3]: 5}                                             # 13 - 1 + 5 = 17
    scores = score_assessments(pd.DataFrame([child_row(**items)]), CHILD)
    a, v, o = get(scores, "auditory"), get(scores, "visual"), get(scores, "oral")
    assert (a[C.RAW], v[C.RAW], o[C.RAW]) == (31, 17, 11)
    assert a[C.Z] == pytest.approx(1.0)
    assert a[C.CLASSIFICATION] == TYPICAL
    assert v[C.Z] == pytest.approx(-1.0)
    assert v[C.CLASSIFICATION] == TYPICAL
    assert o[C.Z] == pytest.approx(-2.0)
    assert o[C.CLASSIFICATION] == LESS  # |z| = 2 is not "much"


@pytest.mark.parametrize(("z", "pct"), [
    (0.0, 50.0),
    (1.0, 84.1345),     # Phi(1) = 0.841345
    (-1.0, 15.8655),
    (1.96, 97.5002),    # Phi(1.96) = 0.975002
    (-2.0, 2.2750),     # Phi(-2) = 0.022750
])
def test_percentile_from_z(z, pct):
    assert N.percentile_from_z(np.array([z]))[0] == pytest.approx(pct, abs=1e-4)


# ---------------------------------------------------------------------------
# age bands
# ---------------------------------------------------------------------------
def test_band_index_edges():
    comp = CHILD.compiled
    ages = np.array([35, 36, 71, 72, 119, 120, 179, 180, np.nan, -3])
    assert N.band_index(ages, comp).tolist() == [-1, 0, 0, 1, 1, 2, 2, -1, -1, -1]


# seeking raw 45 at each age; z = (45 - mean) / sd of the band holding the age
@pytest.mark.parametrize(("age", "band", "z", "label"), [
    (36, "36-71 months", (45 - 38.2) / 9.0, TYPICAL),     # 0.7556
    (71, "36-71 months", (45 - 38.2) / 9.0, TYPICAL),     # 0.7556
    (72, "72-119 months", (45 - 36.0) / 8.5, MORE),       # 1.0588
    (119, "72-119 months", (45 - 36.0) / 8.5, MORE),      # 1.0588
    (120, "120-179 months", (45 - 33.6) / 8.1, MORE),     # 1.4074
    (179, "120-179 months", (45 - 33.6) / 8.1, MORE),     # 1.4074
])
def test_child_band_edges_use_the_right_band(age, band, z, label):
    seeking = get(score_assessments(pd.DataFrame([child_row(age=age)]), CHILD), "seeking")
    assert seeking[C.NORM_BAND] == band
    assert seeking[C.Z] == pytest.approx(z)
    assert seeking[C.CLASSIFICATION] == label
    assert seeking[C.AGE_MONTHS] == age


@pytest.mark.parametrize("age", [35, 180, 0])
def test_child_age_outside_range(age):
    scores = score_assessments(pd.DataFrame([child_row(age=age)]), CHILD)
    assert scores[C.VALID].all()  # the raw scores stand
    assert (scores[C.UNCLASSIFIED_REASON].astype(str)
            == "age outside demo-child's age range (36-179 months)").all()
    assert scores[C.CLASSIFICATION].isna().all()
    assert scores[C.NORM_BAND].isna().all()
    assert scores[C.Z].isna().all() and scores[C.PERCENTILE].isna().all()


def test_no_age_at_all():
    row = child_row()
    del row[C.AGE_MONTHS]
    scores = score_assessments(pd.DataFrame([row]), CHILD)
    assert (scores[C.UNCLASSIFIED_REASON].astype(str) == "age at assessment unknown").all()


def test_age_from_children_on_the_birthday_and_the_day_before():
    kids = pd.DataFrame({C.CHILD_ID: ["K1"], C.DATE_OF_BIRTH: ["2020-03-15"]})
    rows = []
    for aid, date in (("ON", "2023-03-15"), ("BEFORE", "2023-03-14")):
        row = child_row(aid)
        del row[C.AGE_MONTHS]
        rows.append(row | {C.CHILD_ID: "K1", C.DATE: date})
    scores = score_assessments(pd.DataFrame(rows), CHILD, children=kids)
    on, before = get(scores, "seeking", "ON"), get(scores, "seeking", "BEFORE")
    assert on[C.AGE_MONTHS] == 36
    assert on[C.NORM_BAND] == "36-71 months"
    assert on[C.Z] == pytest.approx((45 - 38.2) / 9.0)  # 0.7556
    assert on[C.CLASSIFICATION] == TYPICAL
    assert on[C.DATE] == pd.Timestamp("2023-03-15")
    assert before[C.AGE_MONTHS] == 35
    assert pd.isna(before[C.CLASSIFICATION])
    assert before[C.UNCLASSIFIED_REASON] == "age outside demo-child's age range (36-179 months)"


def test_age_from_children_end_of_month():
    kids = pd.DataFrame({C.CHILD_ID: ["K1", "K2"],
                         C.DATE_OF_BIRTH: ["2020-01-31", "2021-01-31"]})
    rows = [toddler_row("T1") | {C.CHILD_ID: "K1", C.DATE: "2020-02-29"},
            toddler_row("T2") | {C.CHILD_ID: "K2", C.DATE: "2021-02-28"}]
    for row in rows:
        del row[C.AGE_MONTHS]
    scores = score_assessments(pd.DataFrame(rows), TODDLER, children=kids)
    assert get(scores, "seeking", "T1")[C.AGE_MONTHS] == 1
    assert get(scores, "seeking", "T2")[C.AGE_MONTHS] == 1
    # 1 month is below demo-toddler's 7
    assert get(scores, "seeking", "T1")[C.UNCLASSIFIED_REASON] == (
        "age outside demo-toddler's age range (7-35 months)")


def test_children_date_of_birth_overrides_age_column():
    kids = pd.DataFrame({C.CHILD_ID: ["C1"], C.DATE_OF_BIRTH: ["2014-01-10"]})
    row = child_row(age=60) | {C.DATE: "2024-01-10"}  # 10 years = 120 months
    seeking = get(score_assessments(pd.DataFrame([row]), CHILD, children=kids), "seeking")
    assert seeking[C.AGE_MONTHS] == 120
    assert seeking[C.NORM_BAND] == "120-179 months"


# ---------------------------------------------------------------------------
# demo-toddler: cut tables, the empty band, band edges
# ---------------------------------------------------------------------------
def seeking_items_summing_to(raw):
    """Eight seeking answers (1..5) with the given sum: as equal as possible."""
    base, extra = divmod(raw, 8)
    values = [base + 1] * extra + [base] * (8 - extra)
    assert sum(values) == raw and all(1 <= v <= 5 for v in values)
    return dict(zip(TODDLER_SEEKING, values, strict=True))


# band 7-12 seeking: much_more 8-12, more 13-17, typical 18-30, less 31-35, much_less 36-40
@pytest.mark.parametrize(("raw", "label", "level"), [
    (8, MUCH_MORE, 2),     # low edge of much_more
    (12, MUCH_MORE, 2),    # high edge of much_more
    (13, MORE, 1),         # low edge of more
    (17, MORE, 1),         # high edge of more
    (18, TYPICAL, 0),      # low edge of typical
    (30, TYPICAL, 0),      # high edge of typical
    (31, LESS, -1),        # low edge of less
    (35, LESS, -1),        # high edge of less
    (36, MUCH_LESS, -2),   # low edge of much_less
    (40, MUCH_LESS, -2),   # high edge of much_less
])
def test_toddler_cut_table_edges(raw, label, level):
    scores = score_assessments(pd.DataFrame([toddler_row(**seeking_items_summing_to(raw))]),
                               TODDLER)
    seeking = get(scores, "seeking")
    assert seeking[C.RAW] == raw
    assert seeking[C.CLASSIFICATION] == label
    assert seeking[C.LEVEL] == level
    assert pd.isna(seeking[C.UNCLASSIFIED_REASON])


def test_toddler_band_edge_12_13():
    # raw 13: at 12 months (7-12 table) it is "more" (13-17);
    # at 13 months (13-18 table: much_more 8-13) it is "much more"
    rows = [toddler_row("T12", age=12, **seeking_items_summing_to(13)),
            toddler_row("T13", age=13, **seeking_items_summing_to(13))]
    scores = score_assessments(pd.DataFrame(rows), TODDLER)
    assert get(scores, "seeking", "T12")[C.CLASSIFICATION] == MORE
    assert get(scores, "seeking", "T12")[C.NORM_BAND] == "7-12 months"
    assert get(scores, "seeking", "T13")[C.CLASSIFICATION] == MUCH_MORE
    assert get(scores, "seeking", "T13")[C.NORM_BAND] == "13-18 months"


@pytest.mark.parametrize("age", [31, 33, 35])
def test_toddler_empty_band(age):
    scores = score_assessments(pd.DataFrame([toddler_row(age=age)]), TODDLER)
    assert scores[C.VALID].all()
    assert (scores[C.NORM_BAND].astype(str) == "31-35 months").all()
    assert (scores[C.UNCLASSIFIED_REASON].astype(str)
            == "no norms for this score at this age").all()
    assert scores[C.CLASSIFICATION].isna().all()
    assert scores[C.LEVEL].isna().all()


@pytest.mark.parametrize(("age", "reason"), [
    (6, "age outside demo-toddler's age range (7-35 months)"),
    (7, None),
    (30, None),
    (36, "age outside demo-toddler's age range (7-35 months)"),
])
def test_toddler_age_range_edges(age, reason):
    seeking = get(score_assessments(pd.DataFrame([toddler_row(age=age)]), TODDLER), "seeking")
    if reason is None:
        assert seeking[C.CLASSIFICATION] == TYPICAL  # raw 24 is typical in every normed band
    else:
        assert seeking[C.UNCLASSIFIED_REASON] == reason


def _norms_for(raws, age, inst=TODDLER):
    """apply_norms on one assessment whose every score has the given raw."""
    s = len(inst.scores)
    raw = np.array([raws + [np.nan] * (s - len(raws))], dtype=float)
    valid = ~np.isnan(raw)
    return N.apply_norms(raw, valid, np.array([age], dtype=float), inst.compiled,
                         inst.age_min, inst.age_max, inst.z_cuts)


def test_prorated_raws_round_half_up_before_the_cut_table():
    # band 7-12: seeking much_more 8-12, more 13-17, typical 18-30 (score 0);
    # avoiding much_more 8-13, more 14-18 (score 1); sensitivity more 14-19, typical 20-31
    # (score 2); registration typical 19-30, less 31-35 (score 3)
    result = _norms_for([12.5, 13.49, 19.5, 30.49], age=10)
    assert result["level"][0, :4].tolist() == [
        1,    # 12.5 -> 13: more (not 12, much more)
        2,    # 13.49 -> 13: much more (not 14, more)
        0,    # 19.5 -> 20: typical (not 19, more)
        0,    # 30.49 -> 30: typical (not 31, less)
    ]


def test_half_up_not_half_to_even():
    # band 13-18: avoiding much_more 8-14, more 15-19 (score 1);
    # sensitivity more 13-18, typical 19-30 (score 2). Banker's rounding would take
    # 14.5 -> 14 and 18.5 -> 18; half up takes them to 15 and 19.
    result = _norms_for([20.0, 14.5, 18.5], age=15)
    assert result["level"][0, 1:3].tolist() == [
        1,    # avoiding 14.5 -> 15: more (14 would be much more)
        0,    # sensitivity 18.5 -> 19: typical (18 would be more)
    ]


def test_raw_outside_the_cut_table():
    # seeking's 7-12 table covers 8..40; raw 7 or 41 is outside every range
    result = _norms_for([7.0, 41.0], age=10)
    assert result["level"][0, :2].tolist() == [N.NO_LEVEL, N.NO_LEVEL]
    assert result["unclassified"][0, :2].tolist() == [N.UNCLASSIFIED_OFF_TABLE] * 2


def test_apply_norms_reason_codes():
    inst = CHILD
    s = len(inst.scores)
    raw = np.full((5, s), 45.0)
    valid = np.ones((5, s), dtype=bool)
    valid[4, 0] = False
    raw[4, 0] = np.nan
    ages = np.array([np.nan, -2, 200, 60, 60])
    result = N.apply_norms(raw, valid, ages, inst.compiled, inst.age_min, inst.age_max,
                           inst.z_cuts)
    assert result["unclassified"][:, 0].tolist() == [
        N.UNCLASSIFIED_AGE_UNKNOWN, N.UNCLASSIFIED_BEFORE_BIRTH, N.UNCLASSIFIED_OUT_OF_RANGE,
        N.CLASSIFIED, N.UNCLASSIFIED_INVALID]
    assert result["band"].tolist() == [-1, -1, -1, 0, 0]
    assert result["z"][3, 0] == pytest.approx((45 - 38.2) / 9.0)  # 0.7556
    assert math.isnan(result["z"][4, 0])
    assert result["level"][4, 0] == N.NO_LEVEL
