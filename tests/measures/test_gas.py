"""GAS T-scores whatever the storage of the text keys (pandas keeps text in
pyarrow when it is installed)."""

import math

import numpy as np
import pandas as pd
import pytest

from sensoryprofile.columns import CHILD_ID, DATE, LEVEL, N_GOALS, T_SCORE, WEIGHT
from sensoryprofile.measures import gas as G
from sensoryprofile.measures.gas import gas_tscores


@pytest.mark.parametrize("dtype", ["string[pyarrow]", "string[python]", object])
@pytest.mark.parametrize("order", ["sorted", "shuffled", "blank key"])
def test_text_keys_held_by_pyarrow_group_as_any_text(dtype, order):
    # pandas keeps text in pyarrow when it is installed: the groups and T-scores
    # must not depend on how the ids are held (C1: levels 0 and 1, w 1 -> T = 50 +
    # 10 * 1 / sqrt(0.7 * 2 + 0.3 * 4) = 56.202; C2: -1, -1 -> 37.597, as above)
    pytest.importorskip("pyarrow")
    ids = ["C1", "C1", "C2", "C2"] if order != "blank key" else ["C1", "C1", None, None]
    table = pd.DataFrame({"child_id": pd.Series(ids, dtype=dtype),
                          "date": pd.to_datetime(["2024-03-01"] * 4),
                          "level": [0, 1, -1, -1], "weight": [1.0] * 4})
    if order == "shuffled":
        table = table.iloc[[2, 0, 3, 1]]
    out = gas_tscores(table)
    by_id = dict(zip(out["child_id"].astype(object).where(out["child_id"].notna(), "blank"),
                     out["t_score"].round(3), strict=True))
    assert by_id == {"C1": 56.202, ("C2" if order != "blank key" else "blank"): 37.597}
    assert out["n_goals"].tolist() == [2, 2]


# ---------------------------------------------------------------------------
# the fixed-width reading of text held by pyarrow, and the packed key
# ---------------------------------------------------------------------------
# Three children, child 1 reviewed twice (w = weight):
#   child 1, 2024-03-01: levels 0, 1, w 1, 1: 50 + 10 * 1 / sqrt(0.7 * 2 + 0.3 * 2**2)
#                        = 50 + 10 / sqrt(2.6) = 56.2017
#   child 2, 2024-03-01: levels -1, -1, w 1, 1: 50 - 20 / sqrt(2.6) = 37.5967
#   child 1, 2024-06-01: levels 1, 2, w 2, 1: sum wx = 4, sum w2 = 5, sum w = 3:
#                        50 + 40 / sqrt(0.7 * 5 + 0.3 * 9) = 50 + 40 / sqrt(6.2) = 66.0644
#   child 3, 2024-06-01: level -2, w 3: 50 - 60 / sqrt(0.7 * 9 + 0.3 * 9) = 30
# rows in order of first appearance of (child, date) as listed; each form of
# ids names children 1, 2, 3
HAND_T = [50 + 10 / math.sqrt(2.6), 50 - 20 / math.sqrt(2.6),
          50 + 40 / math.sqrt(6.2), 30.0]
ID_FORMS = {
    # every id the same number of UTF-8 bytes, at most 8: the fixed-width key
    "two bytes": (["C1", "C2", "C3"], True),
    "eight bytes": (["C0000001", "C0000002", "C0000003"], True),
    "non-ASCII, seven bytes": (["é00001", "é00002", "ü00003"], True),
    "a NUL byte": (["A\x00", "AB", "\x00B"], True),
    # first bytes 0x01 and 0xC3: the integers span more than int64, so they are
    # hashed to dense codes before packing
    "beyond int64": (["\x010000001", "é000002", "\x010000003"], True),
    # widths that vary, at most 7 bytes: the short-text key (bytes and length)
    "varying widths": (["C1", "C22", "C333"], True),
    "a prefix and a NUL byte": (["A", "A\x00", "AB"], True),
    # neither key: dictionary codes
    "varying widths, one of eight bytes": (["C1", "C22", "C0000333"], False),
    "nine bytes": (["C00000001", "C00000002", "C00000003"], False),
}


def _hand_table(ids, dtype):
    child = [ids[0], ids[0], ids[1], ids[1], ids[0], ids[0], ids[2]]
    return pd.DataFrame({
        CHILD_ID: pd.Series(child, dtype=dtype),
        DATE: pd.to_datetime(["2024-03-01"] * 4 + ["2024-06-01"] * 3),
        LEVEL: [0, 1, -1, -1, 1, 2, -2],
        WEIGHT: [1.0, 1.0, 1.0, 1.0, 2.0, 1.0, 3.0],
    })


@pytest.mark.parametrize("form", list(ID_FORMS))
@pytest.mark.parametrize("order", ["sorted", "shuffled", "split group"])
def test_fixed_width_text_keys_group_as_the_general_path(form, order):
    # the fixed-width integers (and the dictionary codes) give the same groups,
    # in the same order, as hashing the ids as Python strings (object column)
    pytest.importorskip("pyarrow")
    ids, fixed = ID_FORMS[form]
    arrow = _hand_table(ids, "string[pyarrow]")
    assert (G._text_key(arrow[CHILD_ID])[1] is False) == fixed  # the path taken
    general = _hand_table(ids, object)
    rows = general.sort_values([CHILD_ID, DATE], kind="stable").index.tolist()
    if order == "shuffled":
        rows = [rows[i] for i in (6, 2, 0, 4, 3, 1, 5)]
    elif order == "split group":  # sorted, then the first and third rows swapped
        rows[0], rows[2] = rows[2], rows[0]
    arrow, general = arrow.loc[rows], general.loc[rows]
    # sorted rows are grouped from adjacent rows, the others hashed
    assert (G._sorted_runs(arrow, [CHILD_ID, DATE]) is not None) == (order == "sorted")
    got, expected = gas_tscores(arrow), gas_tscores(general)
    assert got[CHILD_ID].tolist() == expected[CHILD_ID].tolist()
    pd.testing.assert_frame_equal(got.drop(columns=CHILD_ID), expected.drop(columns=CHILD_ID),
                                  check_exact=True)
    by_group = {(ids.index(c), d.month): t for c, d, t in
                zip(got[CHILD_ID], got[DATE], got[T_SCORE], strict=True)}
    hand = dict(zip([(0, 3), (1, 3), (0, 6), (2, 6)], HAND_T, strict=True))
    assert by_group == pytest.approx(hand, abs=1e-9)
    assert got[N_GOALS].sum() == 7


def test_fixed_width_key_is_the_texts_order():
    # big-endian bytes, right-aligned: the integers sort as the texts do
    pytest.importorskip("pyarrow")
    texts = ["B0", "A9", "é", "A\x00", "\x00Z", "AA"]  # é: two bytes, 0xC3 0xA9
    key, dense = G._text_key(pd.Series(texts, dtype="string[pyarrow]"))
    assert not dense
    assert np.argsort(key, kind="stable").tolist() == sorted(range(6), key=texts.__getitem__)
    # "A0" is 0x41 0x30
    assert G._text_key(pd.Series(["A0"], dtype="string[pyarrow]"))[0].tolist() == [0x4130]


def test_short_text_key_is_the_texts_order():
    # texts of up to 7 bytes, of any widths: bytes left-aligned, zero-padded,
    # the length in the last byte; the integers sort as the texts do, a prefix
    # first (Python's order), and no two texts share one
    pytest.importorskip("pyarrow")
    texts = ["C22", "C1", "A", "A\x00", "", "é9", "\x00", "AB", "A\x00\x00", "zzzzzzz"]
    series = pd.Series(texts, dtype="string[pyarrow]")
    key, dense = G._text_key(series)
    assert not dense
    assert np.argsort(key, kind="stable").tolist() == sorted(range(10), key=texts.__getitem__)
    assert len(set(key.tolist())) == 10
    # "C1": 0x43 0x31, five zero bytes, length 2; "": all zero
    assert key[1] == 0x4331_0000_0000_0002 and key[4] == 0
    # a slice of the column (its buffers start before it) reads the same texts
    assert G._text_key(series.iloc[3:8])[0].tolist() == key[3:8].tolist()


def test_packed_key_too_wide_for_int64_is_made_dense_first():
    # two text columns whose integers each span about 2**62 and a date: their
    # product does not fit in int64, so the packed key is made dense before the
    # next column; groups as the general path (object columns) gives them
    pytest.importorskip("pyarrow")
    n = 12
    site = ["\x01" + "0" * 7 if i % 3 else "~" * 8 for i in range(n)]
    child = ["\x01" + "1" * 7 if i % 2 else "~" + "2" * 7 for i in range(n)]
    table = pd.DataFrame({"site": pd.Series(site, dtype="string[pyarrow]"),
                          CHILD_ID: pd.Series(child, dtype="string[pyarrow]"),
                          DATE: pd.to_datetime(["2024-03-01"] * 6 + ["2024-06-01"] * 6),
                          LEVEL: [0, 1, -1, 2, 0, 0, 1, -2, 0, 1, 1, 0]})
    table = table.iloc[[5, 0, 11, 3, 8, 1, 10, 2, 7, 4, 9, 6]]
    by = ["site", CHILD_ID, DATE]
    general = table.astype({"site": object, CHILD_ID: object})
    got = gas_tscores(table, by=by, weight=None)
    expected = gas_tscores(general, by=by, weight=None)
    assert got[by].astype(object).values.tolist() == expected[by].astype(object).values.tolist()
    pd.testing.assert_series_equal(got[T_SCORE], expected[T_SCORE], check_exact=True)
    assert got[N_GOALS].tolist() == expected[N_GOALS].tolist()
    # row i: site by i % 3 == 0, child by i % 2, date by i < 6: eight groups,
    # rows {0}, {3}, {6}, {9} alone and {1, 5}, {2, 4}, {7, 11}, {8, 10} in pairs
    assert sorted(got[N_GOALS]) == [1, 1, 1, 1, 2, 2, 2, 2]


def test_dense_codes_number_keys_in_order_of_first_appearance():
    key = np.array([7, -3, 7, 2**62, -3, 0], dtype=np.int64)
    assert G._dense_codes(key).tolist() == [0, 1, 0, 2, 1, 3]
    assert G._dense_codes(key).tolist() == pd.factorize(key)[0].tolist()


@pytest.mark.parametrize(("dates", "days"), [
    # midnights: whole days since the earliest (1 March 2024 to 3 March: 2 days)
    (["2024-03-03", "2024-03-01", "2024-03-03", "2024-03-02"], ([2, 0, 2, 1], 3)),
    # one time of day, not midnight: still whole days
    (["2024-03-01 09:30", "2024-03-02 09:30", "2024-03-01 09:30", "2024-03-01 09:30"],
     ([0, 1, 0, 0], 2)),
    # not the day path: two times of day, a blank, a span longer than the rows
    (["2024-03-01 09:30", "2024-03-01 10:00", "2024-03-01 09:30", "2024-03-02 00:00"], None),
    (["2024-03-01", None, "2024-03-01", "2024-03-02"], None),
    (["2000-01-01", "2024-03-01", "2000-01-01", "2024-03-01"], None),
])
def test_dates_as_day_counts_group_as_the_general_path(dates, days):
    # children C1, C2 each with two goals on each of their dates; the dates held as
    # Python objects take the general path (hashing each Timestamp)
    series = pd.Series(pd.to_datetime(dates))
    got_days = G._day_codes(series)
    if days is None:
        assert got_days is None
    else:
        assert got_days[0].tolist() == days[0] and got_days[1] == days[1]
    table = pd.DataFrame({CHILD_ID: ["C2", "C1", "C1", "C2"] * 2,
                          DATE: pd.concat([series, series], ignore_index=True),
                          LEVEL: [1, 0, -1, 2, 1, 0, -1, 2]})
    table = table.iloc[[0, 4, 1, 5, 2, 6, 3, 7]]  # each row beside its twin
    got = gas_tscores(table, weight=None)
    expected = gas_tscores(table.astype({DATE: object}), weight=None)
    assert got[CHILD_ID].tolist() == expected[CHILD_ID].tolist()
    assert got[DATE].tolist() == expected[DATE].tolist()
    pd.testing.assert_series_equal(got[T_SCORE], expected[T_SCORE], check_exact=True)
    assert got[N_GOALS].tolist() == expected[N_GOALS].tolist()
    # each row of 0..3 with its twin: two unweighted goals at its level x,
    # T = 50 + 20x / sqrt(0.7 * 2 + 0.3 * 2**2) = 50 + 20x / sqrt(2.6); levels 1, 0,
    # -1, 2 give 62.403, 50, 37.597, 74.807. In the second case rows 0 and 3 are
    # both C2 at 1 March 09:30: levels 1, 1, 2, 2 give 50 + 60 / sqrt(0.7 * 4 + 0.3 * 4**2)
    # = 50 + 60 / sqrt(7.6) = 71.764
    hand = [71.764, 50.0, 37.597] if dates[1] == "2024-03-02 09:30" else [
        62.403, 50.0, 37.597, 74.807]
    assert got[T_SCORE].round(3).tolist() == hand
