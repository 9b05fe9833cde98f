"""The fast paths of scoring (issue #13) against the general ones they stand
in for: float cells read by their bits, pyarrow dates read by pyarrow's cast
or by their digits, pyarrow ids split into runs without Python strings, the
categories of factorized ids not checked again, raw scores and norms looked
up by item sum and uncounted items, the instrument column compared by
pyarrow, norms in either memory
order, and the duplicate check beside a blank id. Each is checked on inputs
that take the fast path and on inputs that leave it, and by hand.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sensoryprofile import columns as C
from sensoryprofile.data.assessments import score_assessments
from sensoryprofile.data.validation import ValidationReport
from sensoryprofile.dates import _arrow_days, arrow_text, parse_dates
from sensoryprofile.instruments import load_instrument
from sensoryprofile.measures import norms as N
from sensoryprofile.measures import scoring as S
from sensoryprofile.measures.responses import BLANK, FIRST_VALUE, OFF, _top_lut, codec_for
from tests.paths import FIXTURES

CHILD = load_instrument("demo-child")
TODDLER = load_instrument("demo-toddler")
ARROW_TEXT = ["str", pd.ArrowDtype(__import__("pyarrow").string()),
              pd.ArrowDtype(__import__("pyarrow").large_string())]


def _bits(*patterns: int) -> np.ndarray:
    return np.array(patterns, dtype=np.uint64).view(np.float64)


# ---------------------------------------------------------------------------
# float cells by their bits
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("inst", [CHILD, TODDLER])
def test_float_cells_read_by_their_bits_get_the_codes_of_the_comparison(inst):
    codec = codec_for(inst)
    assert codec.top_lut is not None
    rng = np.random.default_rng(11)
    special = np.array([np.nan, -np.nan, np.inf, -np.inf, 0.0, -0.0, 1e-308, 5e-324, 0.5,
                        1.5, 2.0000000001, 4.999999999, 6.0, -1.0, 1e300, 65536.0])
    payload_nans = _bits(0x7FF0000000000001, 0x7FF8000000000001, 0xFFF0000000000001,
                         0x7FF4000000000000, 0x7FF0000100000000)
    any_bits = rng.integers(0, 2**64 - 1, 50_000, dtype=np.uint64, endpoint=True).view(
        np.float64)
    every_top = (np.arange(1 << 16, dtype=np.uint64) << np.uint64(48)).view(np.float64)
    allowed = np.array(inst.response_scale.allowed_values, dtype=float)
    for values in (special, payload_nans, any_bits, every_top,
                   np.concatenate([np.tile(allowed, 20_000), special])):
        with np.errstate(invalid="ignore"):  # signalling NaNs among the random bits
            np.testing.assert_array_equal(codec.encode(values), codec.encode_exact(values))
    strided = np.tile(allowed, 10)[::2]  # not contiguous: compared, not read by bits
    np.testing.assert_array_equal(codec.encode(strided), codec.encode_exact(strided))


def test_float_cells_by_hand():
    codec = codec_for(CHILD)  # allowed 0, 1, 2, 3, 4, 5
    values = np.array([0.0, -0.0, 1.0, 5.0, np.nan, 6.0, 2.5, np.inf, 1e-308])
    assert codec.encode(values).tolist() == [FIRST_VALUE, FIRST_VALUE, FIRST_VALUE + 1,
                                             FIRST_VALUE + 5, BLANK, OFF, OFF, OFF, OFF]


def test_a_scale_value_needing_more_than_the_top_bits_is_not_read_by_them():
    assert _top_lut(np.array([0.0, 1.0, 2.5])) is not None  # 2.5 needs two mantissa bits
    assert _top_lut(np.array([0.1, 1.0])) is None          # 0.1 has lower bits set
    assert _top_lut(np.array([33.0])) is None               # 33 needs five mantissa bits


# ---------------------------------------------------------------------------
# pyarrow dates by their digits
# ---------------------------------------------------------------------------
TRICKY_DATES = ["2023-01-05", "2023-02-29", "2024-02-29", "1900-02-29", "2000-02-29",
                "2023-1-5", " 2023-01-05", "2023-01-05 ", "20230105", "2023-13-01",
                "2023-00-10", "2023-04-31", "2023-04-30", "2023-06-00", "0000-01-01",
                "1677-12-31", "1678-01-01", "2261-12-31", "2262-01-01", "9999-12-31",
                "2023/01/05", "2023-01-0a", "２０２３-01-05", "١٢٣٤-01-05", "2023-01-05T00:00",
                "03/04/2023", "", None, "abcdefghij", "2023-12-31"]


@pytest.mark.parametrize("dtype", ARROW_TEXT)
def test_pyarrow_dates_read_by_their_digits_equal_the_general_path(dtype):
    column = pd.Series(TRICKY_DATES * 3, dtype=dtype, index=np.arange(90) * 2)
    for part in (column, column.iloc[5:], column.iloc[::2]):
        dates, bad = parse_dates(part)
        general, general_bad = parse_dates(part.astype(object))
        np.testing.assert_array_equal(dates.to_numpy(), general.to_numpy())
        np.testing.assert_array_equal(bad, general_bad)
        assert dates.index.equals(part.index)


def test_pyarrow_dates_over_seven_centuries_equal_the_general_path():
    days = np.arange(np.datetime64("1600-01-01"), np.datetime64("2300-01-01"), 3)
    bad_days = [f"{y:04d}-{m:02d}-{d:02d}" for y in (0, 1678, 1900, 2000, 2100, 2261, 2262)
                for m in range(0, 14) for d in (0, 1, 28, 29, 30, 31, 32)]
    column = pd.Series(list(days.astype(str)) + bad_days, dtype="str")
    dates, bad = parse_dates(column)
    general, general_bad = parse_dates(column.astype(object))
    np.testing.assert_array_equal(dates.to_numpy(), general.to_numpy())
    np.testing.assert_array_equal(bad, general_bad)


def test_pyarrow_dates_by_hand():
    dates, bad = parse_dates(pd.Series(["2024-02-29", "2023-02-29", None, "1677-12-31",
                                        "2023-1-5"], dtype="str"))
    assert dates.iloc[0] == pd.Timestamp("2024-02-29")
    assert dates.iloc[4] == pd.Timestamp("2023-01-05")  # not strict: the general path reads it
    assert bad.tolist() == [False, True, False, True, False]


def test_pyarrow_dates_that_are_all_days_are_read_by_pyarrow_and_equal_the_general_path():
    days = np.arange(np.datetime64("1600-01-01"), np.datetime64("2300-01-01"), 3)
    cells = list(days.astype(str)) + [None, "2023-1-5", " 2023-01-05", ""]  # not strict
    column = pd.Series(cells, dtype="str")
    strict = column.str.len().eq(10).fillna(False).to_numpy()
    assert _arrow_days(arrow_text(column), strict) is not None  # the pyarrow path
    dates, bad = parse_dates(column)
    general, general_bad = parse_dates(column.astype(object))
    np.testing.assert_array_equal(dates.to_numpy(), general.to_numpy())
    np.testing.assert_array_equal(bad, general_bad)


def test_pyarrow_days_by_hand():
    column = pd.Series(["1970-01-02", "2000-03-01", "1969-12-31", "1970-01-01"], dtype="str")
    data, strict = arrow_text(column), np.ones(4, dtype=bool)
    # 2000-03-01: 30 years of 365 days from 1970 and the 7 leap days 1972..1996
    # (10,957 to 2000-01-01), then 31 days of January and 29 of February 2000: 11,017
    assert _arrow_days(data, strict).tolist() == [1, 11_017, -1, 0]
    assert _arrow_days(data, np.array([True, False, True, False])).tolist() == [1, -1]
    # one cell that is not a day: pyarrow refuses, the digits are read instead
    column = pd.Series(["2024-02-29", "2023-02-29"], dtype="str")
    assert _arrow_days(arrow_text(column), np.ones(2, dtype=bool)) is None
    dates, bad = parse_dates(column)
    assert dates.iloc[0] == pd.Timestamp("2024-02-29") and bad.tolist() == [False, True]


# ---------------------------------------------------------------------------
# pyarrow ids in runs
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", ARROW_TEXT)
@pytest.mark.parametrize("ids", [
    ["A1", "A1", "A2", "B", "B", "b", "é", "z"],      # in order: pyarrow runs
    ["Z", "a", "é", "ö", "中", "中", "😀"],           # code point order beyond ASCII
    ["A2", "A1", "A3"],                               # not in order: the general path
    ["A1", None, "A2"],                               # a blank: the general path
    ["A1"],                                           # one row
])
def test_pyarrow_ids_split_into_runs_equal_the_general_path(dtype, ids):
    codes, uniques = S.sorted_codes(pd.Series(ids, dtype=dtype))
    general_codes, general_uniques = S.sorted_codes(np.array(ids, dtype=object))
    np.testing.assert_array_equal(codes, general_codes)
    assert codes.dtype == general_codes.dtype
    assert uniques.dtype == object and uniques.tolist() == general_uniques.tolist()


@pytest.mark.parametrize("values", [
    np.array(["b", "a", "c", "a"], dtype=object),
    np.array(["A1", None, "A2", np.nan, "A1"], dtype=object),
    np.array([3, "3", 1.5, "x"], dtype=object),  # mixed types: first appearance
    np.array([], dtype=object),
])
def test_factorized_dtype_equals_the_checked_one(values):
    _, uniques = S.sorted_codes(values)
    dtype = S.factorized_dtype(uniques)
    checked = pd.CategoricalDtype(pd.Index(uniques, dtype=object), ordered=False)
    assert dtype == checked and dtype.ordered is False
    assert dtype.categories.dtype == object and dtype.categories.equals(checked.categories)


def test_factorized_dtype_without_the_fast_constructor_checks(monkeypatch):
    monkeypatch.delattr(pd.CategoricalDtype, "_from_fastpath")
    assert S.factorized_dtype(["a", "b"]).categories.tolist() == ["a", "b"]
    with pytest.raises(ValueError, match="unique"):  # the public constructor checks
        S.factorized_dtype(["a", "a"])


def test_pyarrow_ids_in_runs_by_hand():
    codes, uniques = S.sorted_codes(pd.Series(["a", "a", "b", "é", "é"], dtype="str"))
    assert codes.tolist() == [0, 0, 1, 2, 2] and uniques.tolist() == ["a", "b", "é"]


# ---------------------------------------------------------------------------
# raw scores and norms looked up by item sum and uncounted items
# ---------------------------------------------------------------------------
SHAPE_FORMS = [load_instrument(FIXTURES / "shapes" / f"{name}.yaml")
               for name in ("fx-adult", "fx-home-school", "fx-short")]


def _random_codes(inst, n: int, seed: int) -> np.ndarray:
    """(n, n_items) codes: answers, ~8% blank, a few off the scale."""
    rng = np.random.default_rng(seed)
    codec = codec_for(inst)
    values = rng.choice(codec.allowed, size=(n, len(inst.item_ids)))
    values[rng.random(values.shape) < 0.08] = np.nan
    values[rng.random(values.shape) < 0.001] = 99.0
    codes = np.empty(values.shape, dtype=np.int8, order="F")
    for j in range(values.shape[1]):
        codes[:, j] = codec.encode(values[:, j])
    return codes


def _same_scores(a: S.WideScores, b: S.WideScores) -> None:
    for name in ("raw", "n_answered", "n_missing", "n_not_applicable", "n_off_scale",
                 "prorated", "valid", "invalid_code", "band", "z", "percentile", "level",
                 "unclassified"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)


@pytest.mark.parametrize("inst", [CHILD, TODDLER, *SHAPE_FORMS], ids=lambda i: i.id)
def test_looked_up_scores_equal_the_computed_ones(inst):
    # cut tables (toddler, short), percentile tables and bands per respondent and
    # sex (home-school), reverse-keyed items (adult), reversed scores (toddler)
    assert S.sum_tables(inst) is not None
    n = 3 * 4096 + 11  # several chunks, the last one short
    codes = _random_codes(inst, n, seed=7)
    rng = np.random.default_rng(8)
    ages = np.floor(rng.uniform(inst.age_min - 12, min(inst.age_max, 400) + 12, n))
    ages[::97] = np.nan
    respondents = pd.Categorical(rng.choice(["caregiver", "teacher", "self", ""], n))
    sexes = rng.choice(np.array(["F", "M", None], dtype=object), n)
    bad = rng.random(n) < 0.01
    kwargs = dict(ages=ages, row_problem=bad, row_text="a duplicate", respondents=respondents,
                  sexes=sexes)
    looked_up = S.score_codes(codes, inst, **kwargs)
    computed = S.score_codes(codes, inst, use_lookup=False, **kwargs)
    comp = inst.compiled
    assert looked_up.prorated.any() or not (comp.prorate & (comp.max_missing >= 1)).any()
    assert not looked_up.valid.all() and (looked_up.level != N.NO_LEVEL).any()
    _same_scores(looked_up, computed)
    np.testing.assert_array_equal(looked_up.row_reason, computed.row_reason)


def test_sum_tables_by_hand():
    tables = S.sum_tables(CHILD)
    # seeking: 15 items, at most 2 missing, values 0-5: keys u * 76 + t for u = 0..2
    # uncounted items and item sums t = 0..75, so avoiding starts at 3 x 76 = 228;
    # sensory sections of 6 items, at most 1 missing: 2 x 31 keys each
    assert tables.start[0, :2].tolist() == [0, 228] and tables.width[0, 0] == 76
    assert tables.width[0, -1] == 31 and tables.start[0, -1] == 1668
    assert tables.size == 1668 + 2 * 31 + 1 and np.isnan(tables.raw[tables.blank])
    # seeking, one item blank, 14 answers adding up to 42: prorated 42 x 15/14 = 45
    key = 1 * 76 + 42
    assert tables.raw[key] == 42 * (15 / 14) == 45.0
    assert tables.raw[42] == 42.0  # none blank: the sum itself
    z, level, pct = tables.norms(N.norm_tables(CHILD.compiled, CHILD.scheme))
    # band 36-71 months, seeking mean 38.2, SD 9: z = (45 - 38.2) / 9 = 0.756, typical;
    # band 72-119: mean 36, SD 8.5: z = 9 / 8.5 = 1.059, more than others
    assert z[key] == pytest.approx(6.8 / 9) and level[key] == 0
    assert pct[key] == pytest.approx(77.504, abs=1e-3)  # Phi(0.7556)
    assert z[tables.size + key] == pytest.approx(9 / 8.5) and level[tables.size + key] == 1
    sentinel = 3 * tables.size  # the row of no band: no z, no level
    assert np.isnan(z[sentinel + key]) and level[sentinel + key] == N.NO_LEVEL


def test_scores_beyond_the_table_limit_are_computed(monkeypatch):
    codes = _random_codes(CHILD, 5000, seed=9)
    ages = np.full(5000, 60.0)
    looked_up = S.score_codes(codes, CHILD, ages=ages)
    monkeypatch.setattr(S, "SUM_TABLE_LIMIT", 1000)
    monkeypatch.delitem(CHILD.__dict__, "_sum_tables")
    assert S.sum_tables(CHILD) is None  # 1,731 keys x 4 band rows: too many
    _same_scores(S.score_codes(codes, CHILD, ages=ages), looked_up)
    monkeypatch.delitem(CHILD.__dict__, "_sum_tables")  # built again after the test


# ---------------------------------------------------------------------------
# norms in either memory order, the duplicate check beside a blank id
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("inst", [CHILD, TODDLER])
def test_norm_block_gives_the_same_values_in_either_memory_order(inst):
    rng = np.random.default_rng(3)
    comp = inst.compiled
    tables = N.norm_tables(comp, inst.scheme)
    m, s = 500, len(inst.scores)
    raw = rng.integers(0, int(np.nanmax(comp.max_possible)) + 3, (m, s)).astype(float)
    raw[rng.random((m, s)) < 0.1] += 0.25  # prorated: computed, not looked up
    raw[rng.random((m, s)) < 0.1] = np.nan
    valid = ~np.isnan(raw)
    band_rows = rng.integers(0, tables.sentinel + 1, m)
    reason = rng.choice(np.array([0, 0, 0, N.UNCLASSIFIED_AGE_UNKNOWN], dtype=np.int8), m)
    by_score = tables.block(np.ascontiguousarray(raw.T), np.ascontiguousarray(valid.T),
                            band_rows, reason)
    by_row = tables.block(raw.T, valid.T, band_rows, reason)  # views of (m, s) arrays
    for a, b in zip(by_score, by_row, strict=True):
        np.testing.assert_array_equal(a, b)
        assert b.T.flags.c_contiguous


@pytest.mark.parametrize("blank_at", [0, 1, 2])
def test_a_blank_id_makes_no_other_id_a_duplicate(blank_at):
    frame = pd.DataFrame({C.ASSESSMENT_ID: ["A1", "A2", "A3"], C.CHILD_ID: "C1",
                          C.AGE_MONTHS: 60})
    frame.loc[blank_at, C.ASSESSMENT_ID] = None
    for item in CHILD.item_ids:
        frame[item] = 3.0
    report = ValidationReport()
    scores = score_assessments(frame, CHILD, report=report)
    assert [p for p in report.problems if p.column == C.ASSESSMENT_ID] == []
    assert scores[C.VALID].all()


@pytest.mark.parametrize("dtype", [*ARROW_TEXT, object])
@pytest.mark.parametrize(("names", "foreign"), [
    (["demo-child"] * 3, []),                                # pyarrow: all equal, skipped
    (["demo-child", " demo-child ", None], []),              # looked at: spaces, a blank
    (["demo-child", "demo-toddler", "demo-child"], ["A2"]),  # looked at: one foreign row
])
def test_rows_of_another_instrument_with_or_without_the_pyarrow_check(dtype, names, foreign):
    frame = pd.DataFrame({C.ASSESSMENT_ID: ["A1", "A2", "A3"], C.CHILD_ID: "C1",
                          C.AGE_MONTHS: 60, C.INSTRUMENT: pd.Series(names, dtype=dtype)})
    for item in CHILD.item_ids:
        frame[item] = 3.0
    report = ValidationReport()
    scores = score_assessments(frame, CHILD, report=report)
    flagged = [p.key for p in report.problems if p.column == C.INSTRUMENT]
    assert flagged == [f"{C.ASSESSMENT_ID}={aid}" for aid in foreign]
    invalid = scores.loc[~scores[C.VALID], C.ASSESSMENT_ID].unique().tolist()
    assert invalid == foreign


# ---------------------------------------------------------------------------
# the shared pool of threads
# ---------------------------------------------------------------------------
def test_blocks_run_on_the_shared_pool_nested_calls_run_in_place_and_errors_surface():
    from sensoryprofile.measures import chunks

    rows = chunks.MIN_THREADED_ROWS
    out = np.zeros(8, dtype=int)

    def inner(i):
        out[i] += 1

    def outer(i):  # a block that runs blocks itself: on its own thread, no deadlock
        chunks.run_blocks(inner, [(i,)], rows=rows, min_blocks=1)
        out[i] += 10

    chunks.run_blocks(outer, [(i,) for i in range(8)], rows=rows)
    assert out.tolist() == [11] * 8

    def failing(i):
        if i == 3:
            raise ValueError("block 3")
        out[i] = -1

    with pytest.raises(ValueError, match="block 3"):
        chunks.run_blocks(failing, [(i,) for i in range(8)], rows=rows)
    assert (out == -1).sum() == 7  # every other block still ran


@pytest.mark.skipif(not hasattr(__import__("os"), "fork"), reason="needs os.fork")
def test_a_forked_child_scores_on_its_own_threads():
    import multiprocessing

    from sensoryprofile.measures import chunks

    chunks.run_blocks(lambda i: None, [(0,), (1,)], rows=chunks.MIN_THREADED_ROWS)
    assert chunks._pool is not None  # the parent's pool exists before the fork
    frame = pd.DataFrame({C.ASSESSMENT_ID: [f"A{i:06d}" for i in range(70_000)],
                          C.CHILD_ID: "C1", C.AGE_MONTHS: 60})
    for item in CHILD.item_ids:
        frame[item] = 3.0
    expected = score_assessments(frame, CHILD)[C.RAW].sum()
    with multiprocessing.get_context("fork").Pool(1) as pool:
        result = pool.apply_async(_raw_total, (frame,)).get(timeout=120)
    assert result == expected


def _raw_total(frame):
    return score_assessments(frame, CHILD)[C.RAW].sum()
