"""The chunked scoring engine (issue #13): chunk boundaries, the packed
look-up sums, the norm look-up tables, categorical id columns, and the
duplicate check that reuses the id factorization.

Values are checked against scoring the same rows another way (separately,
without the packed table, with the formula directly), or by hand.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
from scipy.special import ndtr

from sensoryprofile import columns as C
from sensoryprofile.data.assessments import score_assessments
from sensoryprofile.data.validation import ValidationReport
from sensoryprofile.instruments import load_instrument
from sensoryprofile.measures import norms as N
from sensoryprofile.measures import scoring as S
from sensoryprofile.measures.chunks import CHUNK
from sensoryprofile.measures.responses import BLANK, FIRST_VALUE, OFF, codec_for

CHILD = load_instrument("demo-child")
TODDLER = load_instrument("demo-toddler")


def random_frame(n: int, seed: int = 0, inst=CHILD) -> pd.DataFrame:
    """n assessments with values on the scale, ~5% blank, a few off the scale."""
    rng = np.random.default_rng(seed)
    allowed = np.array(inst.response_scale.allowed_values, dtype=float)
    data = {C.ASSESSMENT_ID: [f"A{i:05d}" for i in range(n)],
            C.CHILD_ID: [f"C{i // 2:05d}" for i in range(n)],
            C.AGE_MONTHS: rng.integers(inst.age_min - 3, inst.age_max + 3, n),
            C.DATE: (np.datetime64("2024-01-01") + rng.integers(0, 365, n)).astype(str)}
    for item in inst.item_ids:
        values = rng.choice(allowed, n)
        values[rng.random(n) < 0.05] = np.nan
        values[rng.random(n) < 0.002] = 9  # off the scale
        data[item] = values
    return pd.DataFrame(data)


def test_a_table_one_row_longer_than_a_chunk_scores_as_its_parts():
    frame = random_frame(CHUNK + 1, seed=3)
    whole = score_assessments(frame, CHILD)
    head = score_assessments(frame.iloc[:CHUNK], CHILD)
    tail = score_assessments(frame.iloc[CHUNK:], CHILD)
    parts = pd.concat([head, tail], ignore_index=True)
    assert len(whole) == (CHUNK + 1) * len(CHILD.scores)
    for col in C.SCORE_COLUMNS:
        if isinstance(whole[col].dtype, pd.CategoricalDtype):  # categories may differ
            pd.testing.assert_series_equal(whole[col].astype(object), parts[col].astype(object))
        else:
            pd.testing.assert_series_equal(whole[col], parts[col])


def test_the_last_row_past_a_chunk_boundary_is_scored_by_hand():
    # row CHUNK (the first row of the second chunk): every item 4, except
    # two seeking items blank -> seeking raw = 13 x 4 prorated x 15/13 = 60
    frame = random_frame(CHUNK + 1, seed=4)
    last = frame.index[-1]
    frame.loc[last, list(CHILD.item_ids)] = 4.0
    seeking = next(sc for sc in CHILD.scores if sc.id == "seeking").items
    frame.loc[last, [seeking[0], seeking[1]]] = np.nan
    frame.loc[last, C.AGE_MONTHS] = 60
    scores = score_assessments(frame, CHILD)
    row = scores[(scores[C.ASSESSMENT_ID] == frame.loc[last, C.ASSESSMENT_ID])
                 & (scores[C.SCORE] == "seeking")].iloc[0]
    assert row[C.RAW] == pytest.approx(60.0, abs=1e-12)  # 52 x (15 / 13)
    assert row[C.PRORATED] and row[C.VALID]
    assert (row[C.N_ANSWERED], row[C.N_MISSING]) == (13, 2)
    # band 36-71: seeking mean 38.2, sd 9.0 -> z = (60 - 38.2) / 9 = 2.4222...
    assert row[C.Z] == pytest.approx((60 - 38.2) / 9.0, abs=1e-12)
    # and the same row scored alone gives the same numbers
    alone = score_assessments(frame.iloc[[-1]], CHILD)
    np.testing.assert_array_equal(alone[C.RAW].to_numpy(),
                                  scores[C.RAW].iloc[-len(CHILD.scores):].to_numpy())


def test_packed_sums_equal_separate_sums():
    codec = codec_for(CHILD)
    assert codec.lut is not None and codec.sum_base == codec.base ** 4
    rng = np.random.default_rng(5)
    codes = rng.integers(0, len(codec.contrib), (CHUNK + 7, len(CHILD.item_ids))).astype(
        np.int8)
    packed = S.score_codes(codes, CHILD)
    plain_codec = dataclasses.replace(codec, lut=None, sum_base=0.0)
    CHILD.__dict__["_codec"] = plain_codec
    try:
        separate = S.score_codes(codes, CHILD)
    finally:
        CHILD.__dict__["_codec"] = codec
    for name in ("raw", "n_answered", "n_missing", "n_not_applicable", "n_off_scale",
                 "prorated", "valid", "invalid_code"):
        np.testing.assert_array_equal(getattr(packed, name), getattr(separate, name),
                                      err_msg=name)


def test_encoding_float_cells():
    codec = codec_for(CHILD)  # allowed 0..5: code of value k is FIRST_VALUE + k
    values = np.array([np.nan, 0, 1, 5, 6, -1, 2.5, np.inf, -np.inf, 3])
    expected = [BLANK, FIRST_VALUE, FIRST_VALUE + 1, FIRST_VALUE + 5, OFF, OFF, OFF, OFF, OFF,
                FIRST_VALUE + 3]
    assert codec.encode(values).tolist() == expected
    # fractions too small to survive a shift by the table's start are still off the
    # scale (1e-308 + 1 == 1.0 in floating point; found by the fuzz suite)
    tiny = np.array([1e-308, -1e-300, 5 + 1e-12, 4.999999999999])
    assert codec.encode(tiny).tolist() == [OFF, OFF, OFF, OFF]


def test_norm_tables_give_the_formula_for_whole_and_prorated_raws():
    comp = CHILD.compiled
    tables = N.norm_tables(comp, CHILD.z_cuts)
    raw = np.array([[38.0], [37.5], [np.nan], [0.0], [75.0]])
    raw = np.vstack([raw, np.full((len(CHILD.scores) - 5, 1), 20.0)])
    z, level, pct = tables.z_level_pct(raw, np.array([0]))  # band 36-71 months
    expected = (raw[:, 0] - comp.mean[0]) / comp.sd[0] * np.where(comp.reversed, -1, 1)
    np.testing.assert_array_equal(z[:, 0], expected)
    np.testing.assert_array_equal(pct[:, 0], ndtr(expected) * 100)
    np.testing.assert_array_equal(level[:, 0], N.classify_z(expected, CHILD.z_cuts))
    # seeking 38.0 in band 36-71 (38.2 / 9.0): z = -0.2 / 9 = -0.0222...
    assert z[0, 0] == pytest.approx(-0.2 / 9.0, abs=1e-15)


def test_id_columns_are_categoricals_that_keep_values_and_sort_order():
    rows = random_frame(6, seed=1)
    rows[C.ASSESSMENT_ID] = ["b2", "a10", "B1", "a2", "c", "a1"]
    rows[C.CHILD_ID] = ["k2", "k1", "k2", None, "k10", "k1"]
    scores = score_assessments(rows, CHILD)
    s = len(CHILD.scores)
    for col in (C.ASSESSMENT_ID, C.CHILD_ID):
        assert isinstance(scores[col].dtype, pd.CategoricalDtype)
        # each assessment's value, repeated for each of its scores, in input order
        assert scores[col].astype(object).tolist() == [
            v for v in rows[col] for _ in range(s)]
    # categories in sorted order: sorting by the column orders as the text would
    assert list(scores[C.ASSESSMENT_ID].cat.categories) == ["B1", "a1", "a10", "a2", "b2", "c"]
    assert list(scores[C.CHILD_ID].cat.categories) == ["k1", "k10", "k2"]
    ordered = scores.sort_values(C.ASSESSMENT_ID, kind="stable")[C.ASSESSMENT_ID]
    assert ordered.astype(object).tolist() == sorted(
        scores[C.ASSESSMENT_ID].astype(object).tolist())
    assert scores[C.CHILD_ID].isna().sum() == s  # the blank child id stays blank


def test_sorted_codes_blank_and_mixed_values():
    codes, uniques = S.sorted_codes(np.array(["b", None, "a", "b"], dtype=object))
    assert codes.tolist() == [1, -1, 0, 1] and uniques.tolist() == ["a", "b"]
    assert codes.dtype == np.int8
    # text already in order (a file written in id order): runs, no hashing
    codes, uniques = S.sorted_codes(np.array(["a", "a", "b", "c", "c", "c"], dtype=object))
    assert codes.tolist() == [0, 0, 1, 2, 2, 2] and uniques.tolist() == ["a", "b", "c"]
    # values that cannot be compared keep the order of first appearance
    codes, uniques = S.sorted_codes(np.array([2, "a", 1, "a"], dtype=object))
    assert codes.tolist() == [0, 1, 2, 1] and uniques.tolist() == [2, "a", 1]


@pytest.mark.parametrize("ids", [
    ["A1", "A2", "A1", "A3", "A2"],          # text: the factorized path
    [1, 2, 1, 3, 2],                         # numbers: the text-conversion path
])
def test_duplicate_ids_on_both_paths(ids):
    frame = random_frame(5, seed=2)
    frame[C.ASSESSMENT_ID] = pd.Series(ids, dtype=object)
    report = ValidationReport()
    scores = score_assessments(frame, CHILD, report=report)
    problems = [(p.row, p.rule) for p in report.problems if p.column == C.ASSESSMENT_ID]
    # header = row 1: positions 2 and 4 repeat the ids first on rows 2 and 3
    assert problems == [(4, "duplicate assessment_id (first on row 2)"),
                        (6, "duplicate assessment_id (first on row 3)")]
    invalid = scores.groupby(scores.index // len(CHILD.scores))[C.VALID].any()
    assert invalid.tolist()[2] is False and invalid.tolist()[4] is False


def test_text_and_number_ids_that_read_alike_are_duplicates():
    frame = random_frame(2, seed=2)
    frame[C.ASSESSMENT_ID] = pd.Series(["7", 7], dtype=object)
    report = ValidationReport()
    score_assessments(frame, CHILD, report=report)
    assert [p.rule for p in report.problems if p.column == C.ASSESSMENT_ID] == [
        "duplicate assessment_id (first on row 2)"]


def test_two_instruments_keep_categorical_ids_in_input_order():
    child = random_frame(3, seed=6)
    toddler = random_frame(2, seed=7, inst=TODDLER)
    child[C.INSTRUMENT] = "demo-child"
    toddler[C.INSTRUMENT] = "demo-toddler"
    toddler[C.ASSESSMENT_ID] = ["T2", "T1"]
    frame = pd.concat([child.iloc[:1], toddler, child.iloc[1:]], ignore_index=True)
    scores = score_assessments(frame)
    assert isinstance(scores[C.ASSESSMENT_ID].dtype, pd.CategoricalDtype)
    order = scores[C.ASSESSMENT_ID].astype(object).drop_duplicates().tolist()
    assert order == frame[C.ASSESSMENT_ID].tolist()
    assert list(scores[C.ASSESSMENT_ID].cat.categories) == sorted(frame[C.ASSESSMENT_ID])
