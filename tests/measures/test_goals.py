"""Goal attainment scaling: T-scores, weights, reviews, goals, trajectories.

Expected values come from the literature (Kiresuk & Sherman 1968 as
corrected by Turner-Stokes 2009; the gasr worked example; the KCL reference
table in REFERENCES.md) or from hand arithmetic shown in the comments.
"""

from __future__ import annotations

import datetime as dt
import doctest
import importlib.util
import math
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sensoryprofile.columns import (
    AT_BASELINE,
    BASELINE_LEVEL,
    BASELINE_T,
    CARRIED,
    CHILD_ID,
    DATE,
    DATE_FIRST_MET,
    DAYS_TO_MET,
    DIFFICULTY,
    DOMAIN,
    FIRST_LEVEL,
    GAS_SCALE,
    GOAL_ID,
    IMPORTANCE,
    LATEST_LEVEL,
    LEVEL,
    LEVEL_CHANGE,
    N_AT_BASELINE,
    N_CARRIED,
    N_GOALS,
    N_MET,
    N_RATED,
    N_RATINGS,
    OVERDUE,
    SET_DATE,
    SHARE_MET,
    SOURCE_ROW,
    T_CHANGE,
    T_SCORE,
    TARGET_DATE,
    WEIGHT,
)
from sensoryprofile.dates import date_problem
from sensoryprofile.errors import UsageError
from sensoryprofile.measures import gas as G
from sensoryprofile.measures.gas import gas_tscore, gas_tscores, goal_weights
from sensoryprofile.measures.goals import (
    GOAL_COLUMNS,
    REVIEW_COLUMNS,
    TRAJECTORY_COLUMNS,
    goal_attainment,
    goal_trajectories,
)
from tests.paths import BENCHMARKS

BENCHMARK = BENCHMARKS / "goals.py"


def days(*iso: str) -> pd.Series:
    return pd.Series(pd.to_datetime(list(iso)), dtype="datetime64[ns]")


# ---------------------------------------------------------------------------
# gas_tscore: published values
# ---------------------------------------------------------------------------
def test_worked_example_is_exactly_55():
    # gasr worked example: levels (-2, 0, -1, 2, 0, 1), weights (3, 5, 1, 4, 2, 6)
    # Σwx = -6 + 0 - 1 + 8 + 0 + 6 = 7; Σw² = 9+25+1+16+4+36 = 91; Σw = 21
    # denominator √(0.7·91 + 0.3·21²) = √(63.7 + 132.3) = √196 = 14
    # T = 50 + 10·7/14 = 55
    assert gas_tscore([-2, 0, -1, 2, 0, 1], weights=[3, 5, 1, 4, 2, 6], rho=0.3) == 55.0


@pytest.mark.parametrize("level", [-2, -1, 0, 1, 2])
def test_one_unweighted_goal_is_50_plus_10x(level):
    # n = 1: denominator √(0.7 + 0.3) = 1, so T = 50 + 10x (+1 -> 60)
    assert gas_tscore([level]) == 50 + 10 * level


# ρ = 0.3, unweighted, n goals all at x: T = 50 + 10·n·x / √(0.7n + 0.3n²)
# (KCL reference table, REFERENCES.md)
AT_MINUS_1 = [40, 37.597, 36.307, 35.490, 34.924, 34.508]
AT_MINUS_2 = [30, 25.193, 22.614, 20.981, 19.849, 19.016]


@pytest.mark.parametrize("n", range(1, 7))
def test_reference_table_all_goals_at_minus_1_and_minus_2(n):
    # e.g. n = 2 at -1: 50 - 20/√(1.4 + 1.2) = 50 - 20/1.61245 = 37.597
    assert round(gas_tscore([-1] * n), 3) == pytest.approx(AT_MINUS_1[n - 1], abs=1e-9)
    assert round(gas_tscore([-2] * n), 3) == pytest.approx(AT_MINUS_2[n - 1], abs=1e-9)


@pytest.mark.parametrize("n", range(1, 7))
def test_all_goals_at_expected_level_is_50(n):
    # Σwx = 0 whatever the weights
    assert gas_tscore([0] * n) == 50.0
    assert gas_tscore([0] * n, weights=list(range(1, n + 1))) == 50.0


def test_rho_zero_is_root_sum_of_squared_weights():
    # ρ = 0: T = 50 + 10·Σwx/√Σw²; two unweighted goals at +1: 50 + 20/√2 = 64.142
    assert gas_tscore([1, 1], rho=0) == pytest.approx(50 + 20 / math.sqrt(2))
    # weights (3, 4) at +1: 50 + 10·7/5 = 64
    assert gas_tscore([1, 1], weights=[3, 4], rho=0.0) == pytest.approx(64.0)


def test_rho_just_below_one_is_allowed_and_one_is_not():
    # ρ -> 1: denominator -> Σw, so T -> 50 + 10·mean level: (1, 1, -2) -> 50
    assert gas_tscore([1, 1, -2], rho=0.999999) == pytest.approx(50.0, abs=1e-4)
    with pytest.raises(UsageError) as err:
        gas_tscore([1, 1, -2], rho=1)
    assert str(err.value) == ("`rho` must be in [0, 1) (the assumed correlation between goal "
                              "scores; 0.3 is usual), but 1 was passed.")
    with pytest.raises(UsageError, match=r"`rho` must be in \[0, 1\).*but -0.1 was passed"):
        gas_tscore([0], rho=-0.1)
    with pytest.raises(UsageError, match="`rho` must be a number"):
        gas_tscore([0], rho="high")
    with pytest.raises(ValueError):  # UsageError is a ValueError
        gas_tscore([0], rho=float("nan"))


def test_six_level_minus_3_counts_as_minus_3():
    # one goal at -3: 50 + 10·(-3) = 20; with a goal at +1: 50 - 20/1.61245 = 37.597
    assert gas_tscore([-3], six_level=True) == 20.0
    assert gas_tscore([-3, 1], six_level=True) == pytest.approx(gas_tscore([-1, -1]))


# ---------------------------------------------------------------------------
# weights
# ---------------------------------------------------------------------------
def test_goal_weights_product_or_one_where_blank():
    importance = pd.array([2, 3, None, 1, 0], dtype="Int64")
    difficulty = pd.array([3, 1, 2, None, 2], dtype="Int64")
    # 2·3 = 6; 3·1 = 3; blank -> 1; blank -> 1; 0·2 = 0
    assert goal_weights(importance, difficulty).tolist() == [6.0, 3.0, 1.0, 1.0, 0.0]
    assert goal_weights(2, 3) == 6.0
    assert goal_weights(None, 3) == 1.0
    # a scalar broadcasts
    assert goal_weights([1, 2, 3], 2).tolist() == [2.0, 4.0, 6.0]


def test_goal_weights_errors():
    with pytest.raises(UsageError) as err:
        goal_weights([1, -2], [1, 1])
    assert str(err.value) == ("The values in `importance` must be >= 0 (or blank), but -2 was "
                              "passed (goal 2 of 2).")
    with pytest.raises(UsageError, match="must have one value per goal"):
        goal_weights([1, 2, 3], [1, 2])
    with pytest.raises(UsageError, match=r"`difficulty` must be numbers, but 'hard' was passed"):
        goal_weights([1], ["hard"])


def test_zero_weight_goal_contributes_nothing():
    # weights (0, 1): the +2 goal is ignored; one goal at -1 -> 40
    assert gas_tscore([2, -1], weights=[0, 1]) == 40.0
    assert gas_tscore([2, -1], weights=goal_weights([0, 3], [3, None])) == 40.0


def test_all_zero_weights_give_nan():
    # Σwx = 0 and denominator 0: T undefined -> NaN (documented), not an error
    assert math.isnan(gas_tscore([1, -1], weights=[0, 0]))
    table = pd.DataFrame({CHILD_ID: ["C1", "C1", "C2"], DATE: days(*["2024-01-01"] * 3),
                          LEVEL: [1, -1, 1], WEIGHT: [0.0, 0.0, 2.0]})
    out = gas_tscores(table)
    assert math.isnan(out[T_SCORE].iloc[0])
    assert out[T_SCORE].iloc[1] == 60.0  # one goal at +1, weight 2: 50 + 10·2/2
    assert out[N_GOALS].tolist() == [2, 1]


# ---------------------------------------------------------------------------
# gas_tscore: argument errors, exact messages
# ---------------------------------------------------------------------------
@pytest.mark.parametrize(("levels", "kwargs", "message"), [
    ([0, 3, -1], {},
     "The values in `levels` must be one of -2, -1, 0, 1, 2 (five-level GAS), but 3 was "
     "passed (goal 2 of 3)."),
    ([0, 3, 5], {},
     "The values in `levels` must be one of -2, -1, 0, 1, 2 (five-level GAS), but 3 was "
     "passed (goal 2 of 3; 2 goals in all)."),
    ([-3, 0], {},
     "The values in `levels` must be one of -2, -1, 0, 1, 2 (five-level GAS), but -3 was "
     "passed (goal 1 of 2). Level -3 (worse than baseline) is allowed only on the six-level "
     "scale (six_level=True)."),
    ([-4], {"six_level": True},
     "The values in `levels` must be one of -3, -2, -1, 0, 1, 2 (six-level GAS), but -4 was "
     "passed (goal 1 of 1)."),
    ([1, -0.5], {"six_level": True},
     "The values in `levels` must be one of -3, -2, -1, 0, 1, 2 (six-level GAS), but -0.5 was "
     "passed (goal 2 of 2). A partial-achievement -0.5 counts as -1 for analysis "
     "(Turner-Stokes & Williams 2010): convert it to -1 before scoring."),
    ([1, None], {},
     "The values in `levels` must be one of -2, -1, 0, 1, 2 (five-level GAS), but a missing "
     "value was passed (goal 2 of 2)."),
    ([1, "x"], {}, "The values in `levels` must be numbers, but 'x' was passed (goal 2 of 2)."),
    ([], {}, "`levels` must hold at least one goal's level, but an empty sequence was passed."),
    ([1, 0], {"weights": [1, 2, 3]},
     "`weights` must hold one weight per goal in `levels` (2), but 3 were passed."),
    ([1, 0], {"weights": [1, -1]},
     "The values in `weights` must be finite and >= 0, but -1 was passed (goal 2 of 2)."),
    ([1, 0], {"weights": [np.nan, 1]},
     "The values in `weights` must not be blank, but a missing value was passed (goal 1 of 2). "
     "goal_weights() gives 1 where importance or difficulty is blank."),
])
def test_gas_tscore_errors_have_exact_messages(levels, kwargs, message):
    with pytest.raises(UsageError) as err:
        gas_tscore(levels, **kwargs)
    assert str(err.value) == message


# ---------------------------------------------------------------------------
# gas_tscores: vectorised == scalar
# ---------------------------------------------------------------------------
group_strategy = st.lists(
    st.lists(st.tuples(st.integers(-2, 2), st.integers(0, 9)), min_size=1, max_size=6),
    min_size=1, max_size=25)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(groups=group_strategy, rho=st.sampled_from([0.0, 0.3, 0.7]),
       shuffle_seed=st.integers(0, 2**16))
def test_vectorised_equals_scalar_on_random_groups(groups, rho, shuffle_seed):
    rows = [(f"C{g:03d}", level, weight)
            for g, goals in enumerate(groups) for level, weight in goals]
    table = pd.DataFrame(rows, columns=[CHILD_ID, LEVEL, WEIGHT])
    table[DATE] = pd.Timestamp("2024-05-01")
    expected = [gas_tscore([lv for lv, _ in goals], [w for _, w in goals], rho=rho)
                for goals in groups]
    ids = [f"C{g:03d}" for g in range(len(groups))]

    # sorted rows (adjacent-row grouping) and shuffled rows (hashed keys)
    for frame in (table, table.sample(frac=1.0, random_state=shuffle_seed)):
        out = gas_tscores(frame, rho=rho).set_index(CHILD_ID).loc[ids]
        np.testing.assert_allclose(out[T_SCORE].to_numpy(), expected, rtol=0, atol=1e-9)
        assert out[N_GOALS].tolist() == [len(goals) for goals in groups]
    # unweighted column path == all weights 1
    out = gas_tscores(table, weight=None, rho=rho)
    unweighted = [gas_tscore([lv for lv, _ in goals], rho=rho) for goals in groups]
    np.testing.assert_allclose(out[T_SCORE].to_numpy(), unweighted, rtol=0, atol=1e-9)


def test_gas_tscores_output_order_keys_and_dtypes():
    table = pd.DataFrame({
        CHILD_ID: pd.Series(["C2", "C1", "C2", "C1"], dtype="str"),
        DATE: days("2024-02-01", "2024-01-01", "2024-02-01", "2024-03-01"),
        LEVEL: [1, 0, 1, -1],
    })
    out = gas_tscores(table, weight=None)
    # order of first appearance: (C2, Feb), (C1, Jan), (C1, Mar)
    assert out.columns.tolist() == [CHILD_ID, DATE, T_SCORE, N_GOALS]
    assert out[CHILD_ID].tolist() == ["C2", "C1", "C1"]
    assert out[DATE].dtype == "datetime64[ns]"
    # C2: two goals at +1: 50 + 20/1.61245 = 62.403; C1 Jan: 50; C1 Mar: 40
    np.testing.assert_allclose(out[T_SCORE], [62.4034, 50.0, 40.0], atol=1e-4)
    assert out[N_GOALS].dtype == np.int64
    # one key, given as a string
    by_child = gas_tscores(table, by=CHILD_ID, weight=None)
    assert by_child[CHILD_ID].tolist() == ["C2", "C1"]
    assert by_child[N_GOALS].tolist() == [2, 2]


def test_gas_tscores_split_group_beyond_the_sorted_samples():
    # 3,000 rows sorted by child except row 2001 (not in the every-2nd-row sample), which
    # holds the last child's key: the adjacent-row check must notice and hash instead
    ids = [f"C{i:05d}" for i in range(3000)]
    ids[2001] = ids[2999]
    table = pd.DataFrame({CHILD_ID: ids, LEVEL: [1] * 3000})
    assert G._sorted_runs(table, [CHILD_ID]) is None
    out = gas_tscores(table, by=CHILD_ID, weight=None).set_index(CHILD_ID)
    assert len(out) == 2999
    # C02999 has two goals at +1: 50 + 20/1.61245 = 62.403
    assert out.loc["C02999", N_GOALS] == 2
    assert out.loc["C02999", T_SCORE] == pytest.approx(gas_tscore([1, 1]))
    # and when sorted, the runs are the groups
    table = table.sort_values(CHILD_ID, kind="stable")
    assert G._sorted_runs(table, [CHILD_ID]).size == 2999


def test_gas_tscores_blank_keys_form_their_own_group():
    table = pd.DataFrame({CHILD_ID: ["C1", None, "C1", None], LEVEL: [1, -1, 1, -1]})
    out = gas_tscores(table, by=[CHILD_ID], weight=None)
    assert out[N_GOALS].tolist() == [2, 2]
    assert out[CHILD_ID].iloc[0] == "C1" and pd.isna(out[CHILD_ID].iloc[1])


def test_gas_tscores_blank_key_first_keeps_first_appearance_order():
    # the blank child comes first, so its group is first. Two unweighted goals
    # each: T = 50 + 10 * sum(x) / sqrt(0.7 * 2 + 0.3 * 2**2)
    table = pd.DataFrame({CHILD_ID: [None, "C2", "C1", None, "C2", "C1"],
                          LEVEL: [-1, 0, 1, -1, 0, 1]})
    out = gas_tscores(table, by=[CHILD_ID], weight=None)
    assert pd.isna(out[CHILD_ID].iloc[0]) and out[CHILD_ID].iloc[1:].tolist() == ["C2", "C1"]
    assert out[N_GOALS].tolist() == [2, 2, 2]
    root = math.sqrt(0.7 * 2 + 0.3 * 4)  # sqrt(2.6) = 1.6125
    assert out[T_SCORE].tolist() == pytest.approx([50 - 20 / root, 50.0, 50 + 20 / root])


def test_gas_tscores_empty_table():
    table = pd.DataFrame({CHILD_ID: pd.Series([], dtype="str"), DATE: days(),
                          LEVEL: pd.Series([], dtype="int64"),
                          WEIGHT: pd.Series([], dtype="float64")})
    out = gas_tscores(table)
    assert out.columns.tolist() == [CHILD_ID, DATE, T_SCORE, N_GOALS]
    assert len(out) == 0


def test_gas_tscores_errors():
    table = pd.DataFrame({CHILD_ID: ["C1", "C1"], DATE: pd.to_datetime(["2024-01-01"] * 2),
                          LEVEL: [0, 3]}, index=[10, 11])
    with pytest.raises(UsageError) as err:
        gas_tscores(table, weight=None)
    assert str(err.value) == ("The values in `level` must be one of -2, -1, 0, 1, 2 (five-level "
                              "GAS), but 3 was passed (`table` index 11).")
    with pytest.raises(UsageError) as err:
        gas_tscores(table)
    assert str(err.value) == ("`table` has no column 'weight'; its columns are 'child_id', "
                              "'date', 'level'. Pass weight=None for unweighted goals, or add "
                              "weights with goal_weights().")
    with pytest.raises(UsageError, match="`rho` must be in"):
        gas_tscores(table, weight=None, rho=1.0)


def test_gas_tscores_does_not_mutate_its_input():
    table = pd.DataFrame({CHILD_ID: ["C2", "C1"], DATE: days("2024-01-01", "2024-01-01"),
                          LEVEL: [1, 0], WEIGHT: [1.0, 2.0]})
    before = table.copy(deep=True)
    gas_tscores(table)
    pd.testing.assert_frame_equal(table, before)


# ---------------------------------------------------------------------------
# goal_attainment: a clinic by hand
# ---------------------------------------------------------------------------
AS_OF = dt.date(2024, 8, 1)


def clinic(*, six_level: bool = False) -> SimpleNamespace:
    """Child C1: three goals, reviews on 1 Mar, 1 May, 1 Jul (and 1 Sep, after
    AS_OF). G3 is set on 15 Apr, after the first review. Child C2: two goals,
    never rated."""
    goals = pd.DataFrame({
        GOAL_ID: pd.Series(["G1", "G2", "G3", "G4", "G5"], dtype="str"),
        CHILD_ID: pd.Series(["C1", "C1", "C1", "C2", "C2"], dtype="str"),
        SET_DATE: days("2024-01-10", "2024-01-10", "2024-04-15", "2024-02-01", "2024-02-01"),
        DOMAIN: pd.Series(["dressing", "play", "feeding", "sleep", "play"], dtype="str"),
        IMPORTANCE: pd.array([2, 1, None, 3, 1], dtype="Int64"),
        DIFFICULTY: pd.array([3, 1, 2, 1, 1], dtype="Int64"),
        BASELINE_LEVEL: np.array([-1, -2, -1, -2, -1], dtype=np.int64),
        TARGET_DATE: days("2024-06-30", "2024-06-30", "2024-06-01", "2024-06-01", "2024-12-01"),
    })
    ratings = pd.DataFrame({
        GOAL_ID: pd.Series(["G1", "G2", "G1", "G3", "G2", "G1"], dtype="str"),
        DATE: days("2024-03-01", "2024-03-01", "2024-05-01", "2024-07-01", "2024-07-01",
                   "2024-09-01"),
        LEVEL: np.array([-1, 0, 1, 0, 1, 2], dtype=np.int64),
    })
    return SimpleNamespace(goals=goals, goal_ratings=ratings, gas_six_level=six_level)


def test_reviews_carry_forward_and_baseline_by_hand():
    reviews = goal_attainment(clinic(), as_of=AS_OF).reviews
    assert reviews.columns.tolist() == REVIEW_COLUMNS
    # C2 has goals but no ratings: no review rows; the 1 Sep rating is after as_of
    assert reviews[CHILD_ID].tolist() == ["C1", "C1", "C1"]
    assert reviews[DATE].tolist() == days("2024-03-01", "2024-05-01", "2024-07-01").tolist()

    # 1 Mar: G1 (w = 2·3 = 6) rated -1, G2 (w = 1·1 = 1) rated 0; G3 not set yet
    #   Σwx = -6, Σw² = 37, Σw = 7, denominator √(0.7·37 + 0.3·49) = √40.6 = 6.37181
    #   T = 50 - 60/6.37181 = 40.584; baseline (-1, -2): Σwx = -8 -> 50 - 80/6.37181 = 37.445
    # 1 May: G1 rated +1, G2 carried 0, G3 (importance blank: w = 1) set 15 Apr, never
    #   rated: at baseline -1. Σwx = 6 + 0 - 1 = 5, Σw² = 38, Σw = 8,
    #   denominator √(0.7·38 + 0.3·64) = √45.8 = 6.76757; T = 50 + 50/6.76757 = 57.388
    #   baseline (-1, -2, -1): Σwx = -9 -> 50 - 90/6.76757 = 36.701
    # 1 Jul: G1 carried +1, G2 rated +1, G3 rated 0: Σwx = 7 -> 50 + 70/6.76757 = 60.343
    np.testing.assert_allclose(reviews[T_SCORE], [40.5835, 57.3882, 60.3434], atol=1e-4)
    np.testing.assert_allclose(reviews[BASELINE_T], [37.4447, 36.7013, 36.7013], atol=1e-4)
    np.testing.assert_allclose(reviews[T_CHANGE], reviews[T_SCORE] - reviews[BASELINE_T])
    assert reviews[N_GOALS].tolist() == [2, 3, 3]
    assert reviews[N_RATED].tolist() == [2, 1, 2]
    assert reviews[N_CARRIED].tolist() == [0, 1, 1]
    assert reviews[N_AT_BASELINE].tolist() == [0, 1, 0]
    # met = level >= 0: 1 Mar G2; 1 May G1, G2; 1 Jul all three
    assert reviews[N_MET].tolist() == [1, 2, 3]
    np.testing.assert_allclose(reviews[SHARE_MET], [1 / 2, 2 / 3, 1.0])
    assert (reviews[GAS_SCALE] == "five-level").all()
    for column in (N_GOALS, N_RATED, N_CARRIED, N_AT_BASELINE, N_MET):
        assert reviews[column].dtype == np.int64


def test_goal_set_after_a_review_is_not_in_that_review():
    # G3 (set 15 Apr) is absent on 1 Mar: that T equals G1 and G2 alone
    reviews = goal_attainment(clinic(), as_of=AS_OF).reviews
    assert reviews[T_SCORE].iloc[0] == pytest.approx(gas_tscore([-1, 0], [6, 1]))
    traj = goal_trajectories(clinic(), as_of=AS_OF)
    on_1_mar = traj[traj[DATE] == pd.Timestamp("2024-03-01")]
    assert on_1_mar[GOAL_ID].tolist() == ["G1", "G2"]


def test_goals_table_by_hand():
    result = goal_attainment(clinic(), as_of=AS_OF)
    goals = result.goals.set_index(GOAL_ID)
    assert result.goals.columns.tolist() == GOAL_COLUMNS
    assert result.goals[GOAL_ID].tolist() == ["G1", "G2", "G3", "G4", "G5"]
    assert goals[WEIGHT].tolist() == [6.0, 1.0, 1.0, 3.0, 1.0]
    assert goals[DOMAIN].tolist() == ["dressing", "play", "feeding", "sleep", "play"]
    # G1: -1 then +1 (the +2 of 1 Sep is after as_of): change +1 - (-1) = 2
    # G2: 0 then +1, baseline -2: change 3.  G3: 0 once, baseline -1: change 1
    assert goals[FIRST_LEVEL].tolist()[:3] == [-1, 0, 0]
    assert goals[LATEST_LEVEL].tolist()[:3] == [1, 1, 0]
    assert goals[LEVEL_CHANGE].tolist()[:3] == [2, 3, 1]
    assert goals[N_RATINGS].tolist() == [2, 2, 1, 0, 0]
    # first met: G1 1 May (112 days after 10 Jan 2024: 21 + 29 + 31 + 30 + 1)
    #            G2 1 Mar (51 days: 21 + 29 + 1); G3 1 Jul (77 days after 15 Apr: 15+31+30+1)
    assert goals[DATE_FIRST_MET].tolist()[:3] == days(
        "2024-05-01", "2024-03-01", "2024-07-01").tolist()
    assert goals[DAYS_TO_MET].tolist()[:3] == [112, 51, 77]
    # C2's goals were never rated: NA levels, no first-met date
    assert goals.loc[["G4", "G5"], [FIRST_LEVEL, LATEST_LEVEL, LEVEL_CHANGE,
                                    DAYS_TO_MET]].isna().all().all()
    assert goals.loc[["G4", "G5"], DATE_FIRST_MET].isna().all()
    # overdue: target before as_of and never met. G3 met late (1 Jul, target 1 Jun): not
    # overdue; G4 target 1 Jun, never met: overdue; G5 target 1 Dec: not yet
    assert goals[OVERDUE].tolist() == [False, False, False, True, False]
    assert goals[OVERDUE].dtype == bool
    for column in (FIRST_LEVEL, LATEST_LEVEL, LEVEL_CHANGE, DAYS_TO_MET):
        assert goals[column].dtype == "Int64"
    assert (goals[GAS_SCALE] == "five-level").all()


def test_as_of_cut_off_ignores_later_ratings():
    # as_of 1 Sep: the +2 of G1 on 1 Sep counts; review 1 Sep: G1 +2 (w 6), G2 carried
    # +1, G3 carried 0: Σwx = 12 + 1 + 0 = 13 -> 50 + 130/6.76757 = 69.210
    later = goal_attainment(clinic(), as_of="2024-09-01")
    assert later.reviews[DATE].iloc[-1] == pd.Timestamp("2024-09-01")
    assert later.reviews[T_SCORE].iloc[-1] == pytest.approx(50 + 130 / math.sqrt(45.8))
    assert later.goals.set_index(GOAL_ID).loc["G1", LATEST_LEVEL] == 2
    # the day before: as of 31 Aug, exactly the 1 Aug picture
    before = goal_attainment(clinic(), as_of=dt.date(2024, 8, 31))
    pd.testing.assert_frame_equal(before.reviews,
                                  goal_attainment(clinic(), as_of=AS_OF).reviews)
    # as of 1 Apr: one review, and G3 (set 15 Apr) is not yet a goal
    early = goal_attainment(clinic(), as_of="2024-04-01")
    assert len(early.reviews) == 1
    assert early.goals[GOAL_ID].tolist() == ["G1", "G2", "G4", "G5"]
    assert early.as_of == dt.date(2024, 4, 1)


def test_goal_set_after_as_of_anywhere_in_the_table():
    # the goals table in reverse order (G3, set 15 Apr, now comes before G1 and G2);
    # as of 1 Apr the 1 Mar review is still G1 -1 (w 6), G2 0 (w 1): T = 40.584
    data = clinic()
    data.goals = data.goals.iloc[::-1]
    early = goal_attainment(data, as_of="2024-04-01")
    assert early.goals[GOAL_ID].tolist() == ["G5", "G4", "G2", "G1"]
    assert early.reviews[T_SCORE].tolist() == pytest.approx([50 - 60 / math.sqrt(40.6)])
    assert early.goals.set_index(GOAL_ID).loc["G1", LATEST_LEVEL] == -1
    assert early.goals.set_index(GOAL_ID).loc["G2", LATEST_LEVEL] == 0
    # and the full picture does not depend on the order of the goals table
    reviews = goal_attainment(data, as_of=AS_OF).reviews
    pd.testing.assert_frame_equal(reviews, goal_attainment(clinic(), as_of=AS_OF).reviews)


def test_as_of_defaults_to_today():
    result = goal_attainment(clinic())
    assert result.as_of == dt.date.today()
    assert len(result.reviews) == 4  # every rating is in the past


def test_child_with_goals_but_no_ratings():
    data = clinic()
    data.goal_ratings = data.goal_ratings.iloc[:0]
    result = goal_attainment(data, as_of=AS_OF)
    assert len(result.reviews) == 0
    assert result.reviews.columns.tolist() == REVIEW_COLUMNS
    assert len(result.goals) == 5
    assert result.goals[LATEST_LEVEL].isna().all()
    assert result.goals[N_RATINGS].tolist() == [0] * 5
    assert len(goal_trajectories(data, as_of=AS_OF)) == 0


def test_trajectories_carry_forward_and_agree_with_t_scores():
    traj = goal_trajectories(clinic(), as_of=AS_OF)
    assert traj.columns.tolist() == TRAJECTORY_COLUMNS
    # 1 Mar: G1, G2; 1 May: G1, G2, G3; 1 Jul: G1, G2, G3
    assert traj[GOAL_ID].tolist() == ["G1", "G2", "G1", "G2", "G3", "G1", "G2", "G3"]
    assert traj[LEVEL].tolist() == [-1, 0, 1, 0, -1, 1, 1, 0]
    assert traj[CARRIED].tolist() == [False, False, False, True, False, True, False, False]
    assert traj[AT_BASELINE].tolist() == [False, False, False, False, True, False, False, False]
    assert traj[BASELINE_LEVEL].tolist() == [-1, -2, -1, -2, -1, -1, -2, -1]
    assert traj[DOMAIN].iloc[4] == "feeding"
    # a chart of these levels and the reported T-scores agree
    reviews = goal_attainment(clinic(), as_of=AS_OF).reviews
    rescored = gas_tscores(traj, by=[CHILD_ID, DATE])
    np.testing.assert_allclose(rescored[T_SCORE], reviews[T_SCORE], rtol=0, atol=1e-12)


def test_six_level_variant():
    data = clinic(six_level=True)
    ratings = data.goal_ratings.copy()
    ratings.loc[0, LEVEL] = -3  # G1 on 1 Mar: worse than baseline
    data.goal_ratings = ratings
    result = goal_attainment(data, as_of=AS_OF)
    # 1 Mar: G1 -3 (w 6), G2 0 (w 1): Σwx = -18 -> 50 - 180/6.37181 = 21.751
    assert result.reviews[T_SCORE].iloc[0] == pytest.approx(50 - 180 / math.sqrt(40.6))
    assert (result.reviews[GAS_SCALE] == "six-level").all()
    assert (result.goals[GAS_SCALE] == "six-level").all()
    assert result.gas_scale == "six-level"
    assert result.goals.set_index(GOAL_ID).loc["G1", FIRST_LEVEL] == -3
    assert (goal_trajectories(data, as_of=AS_OF)[GAS_SCALE] == "six-level").all()


def test_minus_3_on_a_five_level_dataset_names_the_row():
    data = clinic()
    ratings = data.goal_ratings.copy()
    ratings.loc[3, LEVEL] = -3
    ratings[SOURCE_ROW] = np.arange(2, 2 + len(ratings))  # header = row 1
    data.goal_ratings = ratings
    with pytest.raises(UsageError) as err:
        goal_attainment(data, as_of=AS_OF)
    assert str(err.value) == (
        "The values in `goal_ratings.level` must be one of -2, -1, 0, 1, 2 (five-level GAS), "
        "but -3 was passed (goal_ratings row 5 (goal_id=G3, date=2024-07-01)). Level -3 "
        "(worse than baseline) is allowed only on the six-level scale "
        "(dataset.gas_six_level = True).")


def test_bad_baseline_level_names_the_goal():
    data = clinic()
    goals = data.goals.copy()
    goals.loc[1, BASELINE_LEVEL] = 4
    data.goals = goals
    with pytest.raises(UsageError) as err:
        goal_attainment(data, as_of=AS_OF)
    assert str(err.value) == (
        "The values in `goals.baseline_level` must be one of -2, -1, 0, 1, 2 (five-level GAS), "
        "but 4 was passed (goals index 1 (goal_id=G2)).")


def test_zero_weights_in_a_dataset():
    data = clinic()
    goals = data.goals.copy()
    goals[IMPORTANCE] = pd.array([0, 0, 0, 1, 1], dtype="Int64")  # all of C1's goals: w = 0
    data.goals = goals
    result = goal_attainment(data, as_of=AS_OF)
    assert result.reviews[[T_SCORE, BASELINE_T, T_CHANGE]].isna().all().all()
    # the counts are still reported
    assert result.reviews[N_GOALS].tolist() == [2, 3, 3]
    assert result.reviews[N_MET].tolist() == [1, 2, 3]
    assert result.goals[WEIGHT].tolist()[:3] == [0.0, 0.0, 0.0]


def test_one_zero_weight_goal_drops_out_of_the_t_score():
    data = clinic()
    goals = data.goals.copy()
    goals[IMPORTANCE] = pd.array([2, 0, None, 3, 1], dtype="Int64")  # G2: w = 0
    data.goals = goals
    reviews = goal_attainment(data, as_of=AS_OF).reviews
    # 1 Mar: only G1 counts: one goal at -1 -> 40 whatever its weight
    assert reviews[T_SCORE].iloc[0] == pytest.approx(40.0)


def test_inputs_are_not_mutated():
    data = clinic()
    goals, ratings = data.goals.copy(deep=True), data.goal_ratings.copy(deep=True)
    goal_attainment(data, as_of=AS_OF)
    goal_trajectories(data, as_of=AS_OF)
    pd.testing.assert_frame_equal(data.goals, goals)
    pd.testing.assert_frame_equal(data.goal_ratings, ratings)


def test_nullable_integer_levels_as_the_loader_gives_them():
    data = clinic()
    nullable = SimpleNamespace(
        goals=data.goals.astype({BASELINE_LEVEL: "Int64"}),
        goal_ratings=data.goal_ratings.astype({LEVEL: "Int64"}), gas_six_level=False)
    expected = goal_attainment(data, as_of=AS_OF)
    result = goal_attainment(nullable, as_of=AS_OF)
    pd.testing.assert_frame_equal(result.reviews, expected.reviews)
    pd.testing.assert_frame_equal(result.goals, expected.goals)
    # a blank level is named, not guessed
    ratings = nullable.goal_ratings.copy()
    ratings.loc[2, LEVEL] = pd.NA
    nullable.goal_ratings = ratings
    with pytest.raises(UsageError, match=r"but a missing value was passed \(goal_ratings index 2 "
                                         r"\(goal_id=G1, date=2024-05-01\)\)"):
        goal_attainment(nullable, as_of=AS_OF)


def test_iso_text_dates_are_read():
    data = clinic()
    text = SimpleNamespace(
        goals=data.goals.assign(**{SET_DATE: data.goals[SET_DATE].dt.strftime("%Y-%m-%d"),
                                   TARGET_DATE: data.goals[TARGET_DATE].dt.strftime("%Y-%m-%d")}),
        goal_ratings=data.goal_ratings.assign(
            **{DATE: data.goal_ratings[DATE].dt.strftime("%Y-%m-%d")}),
        gas_six_level=False)
    pd.testing.assert_frame_equal(goal_attainment(text, as_of=AS_OF).reviews,
                                  goal_attainment(data, as_of=AS_OF).reviews)


@pytest.mark.parametrize(("change", "message"), [
    (lambda d: setattr(d, "goal_ratings", pd.concat([d.goal_ratings, pd.DataFrame(
        {GOAL_ID: ["G9"], DATE: days("2024-03-01"), LEVEL: [0]})], ignore_index=True)),
     "goal_ratings index 6 (goal_id=G9, date=2024-03-01): goal_id G9 is not in the goals "
     "table."),
    (lambda d: setattr(d, "goal_ratings", pd.concat([d.goal_ratings, d.goal_ratings.iloc[[0]]],
                                                    ignore_index=True)),
     "goal_ratings index 6 (goal_id=G1, date=2024-03-01): this goal is rated more than once "
     "on this date; keep one rating per goal per date."),
    (lambda d: setattr(d, "goal_ratings", pd.concat([d.goal_ratings, pd.DataFrame(
        {GOAL_ID: ["G3"], DATE: days("2024-03-01"), LEVEL: [0]})], ignore_index=True)),
     "goal_ratings index 6 (goal_id=G3, date=2024-03-01): rated before the goal was set "
     "(set_date 2024-04-15)."),
    (lambda d: setattr(d, "goals", d.goals.drop(columns=[BASELINE_LEVEL])),
     "`dataset.goals` has no column 'baseline_level'; its columns are 'goal_id', 'child_id', "
     "'set_date', 'domain', 'importance', 'difficulty', 'target_date'."),
    (lambda d: setattr(d, "goals", pd.concat([d.goals, d.goals.iloc[[0]]], ignore_index=True)),
     "goals index 5 (goal_id=G1): goal_id G1 appears more than once; each goal needs its "
     "own id."),
    (lambda d: setattr(d, "goal_ratings", d.goal_ratings.assign(
        **{DATE: ["2024-03-01", "03/01/2024", "2024-05-01", "2024-07-01", "2024-07-01",
                  "2024-09-01"]})),
     # the reason itself is worded by sensoryprofile.dates
     "goal_ratings index 1 (goal_id=G2, date=03/01/2024), column date: "
     f"{date_problem('03/01/2024').rstrip('.')}."),
])
def test_dataset_errors_name_the_row(change, message):
    data = clinic()
    change(data)
    with pytest.raises(UsageError) as err:
        goal_attainment(data, as_of=AS_OF)
    assert str(err.value) == message


def test_bad_as_of_and_missing_tables():
    with pytest.raises(UsageError) as err:
        goal_attainment(clinic(), as_of="01/08/2024")
    assert str(err.value) == ("`as_of` must be a date (a datetime.date or 'YYYY-MM-DD'), but "
                              "'01/08/2024' was passed.")
    with pytest.raises(UsageError, match="`dataset` must have a `goal_ratings` table"):
        goal_attainment(SimpleNamespace(goals=clinic().goals), as_of=AS_OF)


def test_works_without_optional_goal_columns():
    data = clinic()
    data.goals = data.goals[[GOAL_ID, CHILD_ID, SET_DATE, BASELINE_LEVEL]]
    result = goal_attainment(data, as_of=AS_OF)
    # unweighted: 1 Mar (-1, 0): 50 - 10/1.61245 = 43.798
    assert result.reviews[T_SCORE].iloc[0] == pytest.approx(50 - 10 / math.sqrt(2.6))
    assert not result.goals[OVERDUE].any()  # no target dates: never overdue
    assert result.goals[DOMAIN].isna().all()


# ---------------------------------------------------------------------------
# goal_attainment == a plain loop over children, reviews and goals
# ---------------------------------------------------------------------------
def reference_reviews(data, as_of: pd.Timestamp) -> list[tuple]:
    """The documented rules, written as loops (slow and obvious)."""
    goals = data.goals[data.goals[SET_DATE] <= as_of]
    ratings = data.goal_ratings[data.goal_ratings[DATE] <= as_of]
    rows = []
    for child in sorted(goals[CHILD_ID].unique()):
        mine = goals[goals[CHILD_ID] == child]
        mine_ratings = ratings[ratings[GOAL_ID].isin(mine[GOAL_ID])]
        for day in sorted(mine_ratings[DATE].unique()):
            levels, base, weights, rated, carried = [], [], [], 0, 0
            for goal in mine.itertuples(index=False):
                if getattr(goal, SET_DATE) > day:
                    continue
                history = mine_ratings[(mine_ratings[GOAL_ID] == getattr(goal, GOAL_ID))
                                       & (mine_ratings[DATE] <= day)].sort_values(DATE)
                if len(history):
                    levels.append(int(history[LEVEL].iloc[-1]))
                    rated += history[DATE].iloc[-1] == day
                    carried += history[DATE].iloc[-1] < day
                else:
                    levels.append(int(getattr(goal, BASELINE_LEVEL)))
                base.append(int(getattr(goal, BASELINE_LEVEL)))
                imp, dif = getattr(goal, IMPORTANCE), getattr(goal, DIFFICULTY)
                weights.append(1.0 if pd.isna(imp) or pd.isna(dif) else float(imp * dif))
            rows.append((child, pd.Timestamp(day), gas_tscore(levels, weights),
                         gas_tscore(base, weights), len(levels), rated, carried,
                         sum(lv >= 0 for lv in levels)))
    return rows


@st.composite
def small_clinics(draw):
    goal_rows, rating_rows = [], []
    start = pd.Timestamp("2024-01-01")
    for c in range(draw(st.integers(1, 3))):
        for _ in range(draw(st.integers(1, 4))):
            gid = f"G{len(goal_rows)}"
            set_day = draw(st.integers(0, 40))
            goal_rows.append((gid, f"C{c}", start + pd.Timedelta(days=set_day),
                              draw(st.sampled_from([-2, -1])),
                              draw(st.one_of(st.none(), st.integers(0, 3))),
                              draw(st.one_of(st.none(), st.integers(0, 3)))))
            for day in draw(st.sets(st.integers(set_day, 90), max_size=4)):
                rating_rows.append((gid, start + pd.Timedelta(days=day),
                                    draw(st.integers(-2, 2))))
    goals = pd.DataFrame(goal_rows, columns=[GOAL_ID, CHILD_ID, SET_DATE, BASELINE_LEVEL,
                                             IMPORTANCE, DIFFICULTY])
    goals[IMPORTANCE] = goals[IMPORTANCE].astype("Int64")
    goals[DIFFICULTY] = goals[DIFFICULTY].astype("Int64")
    ratings = pd.DataFrame(rating_rows, columns=[GOAL_ID, DATE, LEVEL])
    ratings[DATE] = ratings[DATE].astype("datetime64[ns]")
    ratings[LEVEL] = ratings[LEVEL].astype("int64")
    as_of = start + pd.Timedelta(days=draw(st.integers(0, 100)))
    return SimpleNamespace(goals=goals, goal_ratings=ratings, gas_six_level=False), as_of


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=small_clinics())
def test_goal_attainment_equals_a_plain_loop(case):
    data, as_of = case
    reviews = goal_attainment(data, as_of=as_of).reviews
    expected = reference_reviews(data, as_of)
    assert len(reviews) == len(expected)
    for row, (child, day, t, bt, n, rated, carried, met) in zip(
            reviews.itertuples(index=False), expected, strict=True):
        assert (getattr(row, CHILD_ID), getattr(row, DATE)) == (child, day)
        np.testing.assert_allclose([getattr(row, T_SCORE), getattr(row, BASELINE_T)], [t, bt],
                                   rtol=0, atol=1e-9)
        assert (getattr(row, N_GOALS), getattr(row, N_RATED), getattr(row, N_CARRIED),
                getattr(row, N_MET)) == (n, rated, carried, met)
        assert getattr(row, N_AT_BASELINE) == n - rated - carried


# ---------------------------------------------------------------------------
# docs and benchmark
# ---------------------------------------------------------------------------
def test_docstring_examples_run():
    outcome = doctest.testmod(G, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert outcome.attempted > 0
    assert outcome.failed == 0


def test_benchmark_quick_smoke(capsys):
    spec = importlib.util.spec_from_file_location("benchmark_goals", BENCHMARK)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    results = module.run(children=2_000, goals=5, naive_children=200, repeats=1)
    assert results["rows"] == 10_000 and results["groups"] == 2_000
    report = module.format_report(results)
    assert "extrapolated linearly" in report
    # per input order: the floor ratio, faster than pandas, faster than polars
    assert report.count("PASS") + report.count("FAIL") == 6
    # the script entry point with --quick prints the same table
    module.main(["--quick"])
    out = capsys.readouterr().out
    assert "ours/floor" in out and "naive/ours" in out
