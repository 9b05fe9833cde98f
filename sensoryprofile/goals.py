"""Goal attainment scaling (GAS): levels, weights, T-scores, trajectories.

Three layers:

* :func:`gas_tscore` scores one set of goals (a child's goals at one review).
* :func:`gas_tscores` scores every group of a long table at once (one row per
  goal per review): group sums of w*x, w**2 and w by array arithmetic, no
  Python loop per group.
* :func:`goal_attainment` and :func:`goal_trajectories` take a clinic dataset
  (anything with ``.goals``, ``.goal_ratings`` and ``.gas_six_level``) and
  return tidy tables: one row per child per review, one row per goal, one row
  per goal per review. Both share one carry-forward rule, so a chart drawn
  from the trajectories and the T-scores in the reviews table always agree.

Levels: +2 much better than expected, +1 better, 0 the expected outcome (the
goal), -1 less than expected, -2 much less. The six-level variant adds -3,
worse than baseline (Turner-Stokes & Williams 2010). A goal counts as met at
level 0 or above.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

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
from sensoryprofile.dates import date_problem, parse_dates, to_date
from sensoryprofile.errors import UsageError

FIVE_LEVEL = "five-level"
SIX_LEVEL = "six-level"
DEFAULT_RHO = 0.3
TOP_LEVEL = 2
MET_LEVEL = 0  # a goal is met at level 0 (the expected outcome) or above

REVIEW_COLUMNS = [CHILD_ID, DATE, T_SCORE, BASELINE_T, T_CHANGE, N_GOALS, N_RATED, N_CARRIED,
                  N_AT_BASELINE, N_MET, SHARE_MET, GAS_SCALE]
GOAL_COLUMNS = [GOAL_ID, CHILD_ID, DOMAIN, SET_DATE, TARGET_DATE, WEIGHT, BASELINE_LEVEL,
                FIRST_LEVEL, LATEST_LEVEL, LEVEL_CHANGE, DATE_FIRST_MET, DAYS_TO_MET, OVERDUE,
                N_RATINGS, GAS_SCALE]
TRAJECTORY_COLUMNS = [GOAL_ID, CHILD_ID, DOMAIN, DATE, LEVEL, CARRIED, AT_BASELINE,
                      BASELINE_LEVEL, WEIGHT, GAS_SCALE]


# ---------------------------------------------------------------------------
# argument checks
# ---------------------------------------------------------------------------
def _scale(six_level: bool) -> tuple[int, str]:
    """Lowest level and the scale's name."""
    return (-3, SIX_LEVEL) if six_level else (-2, FIVE_LEVEL)


def _fmt(value) -> str:
    """A value as a person reads it in an error message."""
    if value is None or value is pd.NA or value is pd.NaT:
        return "a missing value"
    if isinstance(value, (float, np.floating)):
        if np.isnan(value):
            return "a missing value"
        return str(int(value)) if float(value).is_integer() else f"{float(value):g}"
    return repr(value) if isinstance(value, str) else str(value)


def _label(value) -> str:
    """An index label as written in Python (no numpy scalar reprs)."""
    return repr(value.item() if isinstance(value, np.generic) else value)


def _check_rho(rho) -> float:
    what = "(the assumed correlation between goal scores; 0.3 is usual)"
    try:
        value = float(rho)
    except (TypeError, ValueError):
        raise UsageError(f"`rho` must be a number in [0, 1) {what}, but {rho!r} was "
                         "passed.") from None
    if not 0.0 <= value < 1.0:
        raise UsageError(f"`rho` must be in [0, 1) {what}, but {rho!r} was passed.")
    return value


def _as_float(values, arg: str, where) -> np.ndarray:
    """1-D float array of numbers (NaN where blank); text raises UsageError."""
    if np.ndim(values) == 0:
        values = [values]
    elif np.ndim(values) > 1:
        raise UsageError(f"`{arg}` must be one-dimensional (one value per goal), but an array "
                         f"of shape {np.shape(values)} was passed.")
    if not isinstance(values, pd.Series):
        values = pd.Series(values, copy=False) if isinstance(
            values, (np.ndarray, pd.Index, pd.api.extensions.ExtensionArray)
        ) else pd.Series(list(values), dtype=object)
    if values.dtype.kind in "iuf":
        return values.to_numpy(dtype=np.float64)
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        return values.to_numpy(dtype=np.float64, na_value=np.nan)
    numbers = pd.to_numeric(values, errors="coerce")
    text = (numbers.isna() & values.notna()).to_numpy(dtype=bool)
    if pd.api.types.is_bool_dtype(values):
        text[:] = True
    if text.any():
        i = int(np.flatnonzero(text)[0])
        raise UsageError(f"The values in `{arg}` must be numbers, but {values.iloc[i]!r} was "
                         f"passed ({where(i, int(text.sum()))}).")
    return numbers.to_numpy(dtype=np.float64, na_value=np.nan)


def _off_scale(x: np.ndarray, six_level: bool) -> np.ndarray | None:
    """Boolean mask of levels off the scale, or None when all are on it."""
    low, _ = _scale(six_level)
    if x.size == 0:
        return None
    if x.dtype.kind in "iu":
        if x.min() >= low and x.max() <= TOP_LEVEL:
            return None
        return (x < low) | (x > TOP_LEVEL)
    with np.errstate(invalid="ignore"):
        ok = (x >= low) & (x <= TOP_LEVEL) & (np.floor(x) == x)
    return None if ok.all() else ~ok


def _level_message(arg: str, value, six_level: bool, where: str,
                   six_level_switch: str = "six_level=True") -> str:
    low, scale = _scale(six_level)
    allowed = ", ".join(str(v) for v in range(low, TOP_LEVEL + 1))
    message = (f"The values in `{arg}` must be one of {allowed} ({scale} GAS), but "
               f"{_fmt(value)} was passed ({where}).")
    if not six_level and value == -3:
        message += (" Level -3 (worse than baseline) is allowed only on the six-level scale "
                    f"({six_level_switch}).")
    elif value == -0.5:
        message += (" A partial-achievement -0.5 counts as -1 for analysis (Turner-Stokes & "
                    "Williams 2010): convert it to -1 before scoring.")
    return message


def _check_levels(x: np.ndarray, arg: str, six_level: bool, where,
                  six_level_switch: str = "six_level=True") -> None:
    bad = _off_scale(x, six_level)
    if bad is not None:
        i = int(np.flatnonzero(bad)[0])
        raise UsageError(_level_message(arg, x[i], six_level, where(i, int(bad.sum())),
                                        six_level_switch))


def _check_weights(w: np.ndarray, arg: str, where) -> None:
    if w.size == 0 or (np.isfinite(w).all() and w.min() >= 0):
        return
    bad = ~(np.isfinite(w) & (w >= 0))
    i = int(np.flatnonzero(bad)[0])
    if np.isnan(w[i]):
        raise UsageError(f"The values in `{arg}` must not be blank, but a missing value was "
                         f"passed ({where(i, int(bad.sum()))}). goal_weights() gives 1 where "
                         "importance or difficulty is blank.")
    raise UsageError(f"The values in `{arg}` must be finite and >= 0, but {_fmt(w[i])} was "
                     f"passed ({where(i, int(bad.sum()))}).")


def _goal_where(n: int, noun: str = "goal"):
    def where(i: int, n_bad: int) -> str:
        more = f"; {n_bad} {noun}s in all" if n_bad > 1 else ""
        return f"{noun} {i + 1} of {n}{more}"
    return where


def _tscore(swx, sw2, sw, rho: float):
    """T from the group sums; NaN where every weight is 0 (denominator 0).

    (1-rho)*sw2 + rho*sw**2 is computed as sw2 + rho*(sw**2 - sw2): the same
    number, with less rounding (the worked example gives exactly 196).
    """
    squared = sw2 + rho * (sw * sw - sw2)
    with np.errstate(divide="ignore", invalid="ignore"):
        t = 50.0 + 10.0 * swx / np.sqrt(squared)
    return np.where(squared > 0, t, np.nan)


# ---------------------------------------------------------------------------
# weights and one set of goals
# ---------------------------------------------------------------------------
def goal_weights(importance, difficulty):
    """Goal weights: importance x difficulty, or 1 where either is blank.

    Parameters
    ----------
    importance, difficulty : scalar or array-like of numbers
        Importance (0-3, rated with the family) and difficulty (0-3, rated by
        the therapist) of each goal; blank (None, NaN, ``pd.NA``) allowed.
        Same length, or one of them a scalar.

    Returns
    -------
    numpy.ndarray of float (one weight per goal), or a float when both
    arguments are scalars.

    Raises
    ------
    UsageError
        A value is negative or not a number, or the lengths differ.

    Notes
    -----
    A goal rated 0 for importance or for difficulty gets weight 0: it then
    contributes nothing to the T-score (neither to Σwx nor to the
    denominator); see :func:`gas_tscore` for what happens when every goal of a
    set has weight 0. A blank rating is not 0: the goal is unweighted
    (weight 1). Weighting, difficulty especially, can behave perversely when
    goals are not achieved (King's College London GAS guidance), which is why
    many services report unweighted T-scores alongside.

    Examples
    --------
    >>> goal_weights([2, 3, None, 0], [3, 1, 2, 2]).tolist()
    [6.0, 3.0, 1.0, 0.0]
    >>> goal_weights(2, 3)
    6.0
    """
    scalar = np.ndim(importance) == 0 and np.ndim(difficulty) == 0
    imp = _as_float(importance, "importance", _goal_where(max(np.size(importance), 1)))
    dif = _as_float(difficulty, "difficulty", _goal_where(max(np.size(difficulty), 1)))
    try:
        imp, dif = np.broadcast_arrays(imp, dif)
    except ValueError:
        raise UsageError("`importance` and `difficulty` must have one value per goal (the same "
                         f"length), but lengths {imp.size} and {dif.size} were passed.") from None
    for arg, values in (("importance", imp), ("difficulty", dif)):
        with np.errstate(invalid="ignore"):
            negative = values < 0
        if negative.any():
            i = int(np.flatnonzero(negative)[0])
            raise UsageError(f"The values in `{arg}` must be >= 0 (or blank), but "
                             f"{_fmt(values[i])} was passed "
                             f"({_goal_where(values.size)(i, int(negative.sum()))}).")
    weights = np.where(np.isnan(imp) | np.isnan(dif), 1.0, imp * dif)
    return float(weights[0]) if scalar else weights


def gas_tscore(levels, weights=None, rho: float = DEFAULT_RHO, *,
               six_level: bool = False) -> float:
    """GAS T-score of one set of goals (Kiresuk & Sherman, corrected).

    Parameters
    ----------
    levels : array-like of int
        Attainment level of each goal: -2..+2, or -3..+2 when ``six_level``.
    weights : array-like of float, optional
        One weight >= 0 per goal (:func:`goal_weights`); default 1 each.
    rho : float, default 0.3
        Assumed correlation between goal scores, in [0, 1).
    six_level : bool, default False
        Allow -3 (worse than baseline; Turner-Stokes & Williams 2010).

    Returns
    -------
    float
        The T-score (50 when every goal is at its expected level), or NaN when
        every weight is 0.

    Raises
    ------
    UsageError
        A level is off the scale or blank, ``levels`` is empty, ``weights``
        has another length or a negative or blank value, or ``rho`` is outside
        [0, 1).

    Notes
    -----
    .. math::

        T = 50 + \\frac{10 \\sum w_i x_i}
                       {\\sqrt{(1 - \\rho) \\sum w_i^2 + \\rho (\\sum w_i)^2}}

    with :math:`x_i` the level and :math:`w_i` the weight of goal *i*
    (Kiresuk & Sherman 1968, as corrected in the Turner-Stokes 2009 erratum).
    One unweighted goal gives T = 50 + 10x; with rho = 0 the denominator is
    the root of the sum of squared weights.

    Zero weights: a goal with weight 0 contributes nothing. When every weight
    of the set is 0 the formula is 0/0 and the T-score is undefined: NaN is
    returned (not an error), the same in :func:`gas_tscores` and
    :func:`goal_attainment`, so one child whose goals were all rated 0 for
    importance does not stop a caseload report.

    Six-level scale: -3 enters the formula as -3. A partial-achievement
    -0.5 (the other six-level variant) is rejected: convert it to -1 first,
    as Turner-Stokes & Williams (2010) advise for analysis.

    References
    ----------
    .. [1] Kiresuk TJ, Sherman RE (1968). Goal attainment scaling: a general
       method for evaluating comprehensive community mental health programs.
       Community Mental Health Journal 4(6):443-453.
    .. [2] Turner-Stokes L (2009). Goal attainment scaling (GAS) in
       rehabilitation: a practical guide. Clinical Rehabilitation
       23(4):362-370; erratum 23(10):959.

    Examples
    --------
    Worked example: Σwx = 7, Σw² = 91, Σw = 21, √(0.7·91 + 0.3·21²) = 14.

    >>> gas_tscore([-2, 0, -1, 2, 0, 1], weights=[3, 5, 1, 4, 2, 6])
    55.0
    >>> gas_tscore([1])
    60.0
    >>> round(gas_tscore([-1, -1, -1]), 3)
    36.307
    """
    rho = _check_rho(rho)
    n = int(np.size(levels)) if np.ndim(levels) else 1
    x = _as_float(levels, "levels", _goal_where(n))
    if x.size == 0:
        raise UsageError("`levels` must hold at least one goal's level, but an empty sequence "
                         "was passed.")
    _check_levels(x, "levels", six_level, _goal_where(x.size))
    if weights is None:
        w = np.ones_like(x)
    else:
        w = _as_float(weights, "weights", _goal_where(x.size))
        if w.size != x.size:
            raise UsageError(f"`weights` must hold one weight per goal in `levels` ({x.size}), "
                             f"but {w.size} were passed.")
        _check_weights(w, "weights", _goal_where(x.size))
    return float(_tscore(float(w @ x), float(w @ w), float(w.sum()), rho))


# ---------------------------------------------------------------------------
# many sets of goals: a long table
# ---------------------------------------------------------------------------
def _lexicographic(keys: list[np.ndarray], strict: bool) -> bool:
    """True when the rows of ``keys`` (one array per column) are in order."""
    if keys[0].size < 2:
        return True
    increasing = np.zeros(keys[0].size - 1, dtype=bool)
    tied = np.ones(keys[0].size - 1, dtype=bool)
    for key in keys:
        increasing |= tied & np.asarray(key[1:] > key[:-1], dtype=bool)
        tied &= np.asarray(key[1:] == key[:-1], dtype=bool)
    return bool(increasing.all() if strict else (increasing | tied).all())


def _sorted_runs(table: pd.DataFrame, by: list[str]) -> np.ndarray | None:
    """Start row of each group when the rows are sorted by ``by``, else None.

    Adjacent rows are compared (no hashing). Each run of equal keys must
    start with a key greater (lexicographically over ``by``) than the run
    before, so that no group is split into two runs;
    anything else (unsorted rows, blank or uncomparable keys, categoricals)
    returns None and the caller hashes the keys instead. Two small samples
    (the first rows, and every k-th row) are checked first, so unsorted input
    is turned away cheaply.
    """
    n = len(table)
    if n == 0:
        return None
    try:
        keys = []
        for column in by:
            series = table[column]
            if isinstance(series.dtype, pd.CategoricalDtype):
                return None
            keys.append(series.to_numpy())
        stride = max(n // 1024, 1)
        if not (_lexicographic([k[:1024] for k in keys], strict=False)
                and _lexicographic([k[::stride] for k in keys], strict=False)):
            return None
        # rows i and i+1 differ on column j: changes[j][i]
        changes = [np.asarray(key[1:] != key[:-1], dtype=bool) for key in keys]
        boundary = np.flatnonzero(np.logical_or.reduce(changes))
        # at each boundary the first column that changes must increase
        starts = np.concatenate([[0], boundary + 1])
        decided = np.zeros(boundary.size, dtype=bool)
        for key, changed in zip(keys, changes, strict=True):
            first = changed[boundary] & ~decided
            if first.all():  # the usual case for the first column: compare whole runs
                run_keys = key[starts]
                increasing = np.asarray(run_keys[1:] > run_keys[:-1], dtype=bool)
            elif first.any():
                rows = boundary[first]
                increasing = np.asarray(key[rows + 1] > key[rows], dtype=bool)
            else:
                continue
            if not increasing.all():
                return None
            decided |= first
    except (TypeError, ValueError):
        return None
    return starts


def _hashed_groups(table: pd.DataFrame, by: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Group codes 0..k-1 in order of first appearance, and one row of each group.

    Each key column is factorized (hashed); the codes are combined column by
    column and made dense again. Blank keys form groups of their own.
    """
    codes = np.zeros(len(table), dtype=np.int64)
    for column in by:
        values = table[column]
        if values.dtype == object or pd.api.types.is_string_dtype(values.dtype):
            values = values.to_numpy()  # hashing the object array directly is faster
        column_codes, uniques = pd.factorize(values)
        # blank keys (code -1) become one more group of this column
        column_codes = np.where(column_codes < 0, len(uniques), column_codes)
        codes, _ = pd.factorize(codes * (len(uniques) + 1) + column_codes)
    some_row = np.empty(int(codes.max()) + 1, dtype=np.int64)
    # repeated indices: some row of the group is stored; all share the keys
    some_row[codes] = np.arange(codes.size)
    return codes, some_row


def _groups(table: pd.DataFrame, by: list[str]) -> tuple[np.ndarray, pd.DataFrame, np.ndarray]:
    """Group code of every row (0..k-1, in order of first appearance), the
    keys of each group (a k-row frame of the ``by`` columns), and group sizes."""
    n = len(table)
    starts = _sorted_runs(table, by)
    if starts is not None:
        keys = table[by].iloc[starts].reset_index(drop=True)
        counts = np.diff(np.append(starts, n))
        codes = np.repeat(np.arange(starts.size), counts)
    elif n == 0:
        keys = table[by].iloc[:0].reset_index(drop=True)
        codes = counts = np.zeros(0, dtype=np.int64)
    else:
        codes, some_row = _hashed_groups(table, by)
        keys = table[by].iloc[some_row].reset_index(drop=True)
        counts = np.bincount(codes, minlength=some_row.size)
    return codes, keys, counts.astype(np.int64)


def gas_tscores(table: pd.DataFrame, *, by=(CHILD_ID, DATE), level: str = LEVEL,
                weight: str | None = WEIGHT, rho: float = DEFAULT_RHO,
                six_level: bool = False) -> pd.DataFrame:
    """GAS T-score of every group of goals in a long table.

    Parameters
    ----------
    table : pandas.DataFrame
        One row per goal per group (e.g. per child per review date).
    by : str or sequence of str, default (``child_id``, ``date``)
        Columns that identify a set of goals.
    level : str, default ``level``
        Column of attainment levels (-2..+2, or -3..+2 when ``six_level``).
    weight : str or None, default ``weight``
        Column of weights >= 0 (:func:`goal_weights`); None for unweighted.
    rho : float, default 0.3
        Assumed correlation between goal scores, in [0, 1).
    six_level : bool, default False
        Allow -3 (worse than baseline).

    Returns
    -------
    pandas.DataFrame
        One row per group, in order of first appearance in ``table`` (so in
        key order when ``table`` is sorted by ``by``); blank keys form a
        group of their own. Columns:

        - the ``by`` columns;
        - ``t_score`` : float, as :func:`gas_tscore`; NaN when every weight
          of the group is 0;
        - ``n_goals`` : int, rows (goals) in the group.

    Raises
    ------
    UsageError
        A column is missing, a level is off the scale or blank, a weight is
        negative or blank, or ``rho`` is outside [0, 1). The message names
        the first offending row by its index label.

    Notes
    -----
    T = 50 + 10·Σwx / √((1−ρ)Σw² + ρ(Σw)²) per group (Kiresuk & Sherman
    1968; Turner-Stokes 2009 erratum). The three sums are taken for all
    groups at once (``np.bincount`` over integer group codes); there is no
    Python loop per group. When the rows are
    already sorted by ``by`` (as the tables of :func:`goal_trajectories`
    are), groups are found by comparing adjacent rows; otherwise each key
    column is hashed (``pd.factorize``), which for text keys in random order
    costs far more than the arithmetic (see ``benchmarks/goals.py``).
    Zero weights are handled as in :func:`gas_tscore`.

    References
    ----------
    .. [1] Kiresuk TJ, Sherman RE (1968). Community Mental Health Journal
       4(6):443-453.
    .. [2] Turner-Stokes L (2009). Clinical Rehabilitation 23(4):362-370;
       erratum 23(10):959.

    Examples
    --------
    >>> table = pd.DataFrame({"child_id": ["C1", "C1", "C2", "C2"],
    ...                       "date": pd.to_datetime(["2024-03-01"] * 4),
    ...                       "level": [0, 1, -1, -1],
    ...                       "weight": [1.0, 1.0, 1.0, 1.0]})
    >>> gas_tscores(table).round({"t_score": 3})
      child_id       date  t_score  n_goals
    0       C1 2024-03-01   56.202        2
    1       C2 2024-03-01   37.597        2
    """
    rho = _check_rho(rho)
    if not isinstance(table, pd.DataFrame):
        raise UsageError(f"`table` must be a pandas DataFrame, but {type(table).__name__} was "
                         "passed.")
    by = [by] if isinstance(by, str) else list(by)
    if not by:
        raise UsageError("`by` must name at least one column, but an empty sequence was "
                         "passed.")
    wanted = [*by, level] + ([weight] if weight is not None else [])
    missing = [c for c in wanted if c not in table.columns]
    if missing:
        hint = (" Pass weight=None for unweighted goals, or add weights with goal_weights()."
                if weight in missing else "")
        raise UsageError(f"`table` has no column {', '.join(map(repr, missing))}; its columns "
                         f"are {', '.join(map(repr, table.columns))}.{hint}")

    def where(i: int, n_bad: int) -> str:
        more = f"; {n_bad} rows in all" if n_bad > 1 else ""
        return f"`table` index {_label(table.index[i])}{more}"

    x = table[level].to_numpy()
    if x.dtype.kind not in "iu":
        x = _as_float(table[level], level, where)
    _check_levels(x, level, six_level, where)
    if weight is not None:
        w = _as_float(table[weight], weight, where)
        _check_weights(w, weight, where)

    codes, keys, counts = _groups(table, by)

    def group_sum(values):
        return np.bincount(codes, weights=values, minlength=len(keys))

    if weight is None:
        sw = counts.astype(np.float64)
        t = _tscore(group_sum(x.astype(np.float64)), sw, sw, rho)
    else:
        t = _tscore(group_sum(w * x), group_sum(w * w), group_sum(w), rho)
    out = keys
    out[T_SCORE] = t
    out[N_GOALS] = counts.astype(np.int64)
    return out


# ---------------------------------------------------------------------------
# a clinic dataset
# ---------------------------------------------------------------------------
@dataclass(frozen=True)
class GoalAttainment:
    """Goal attainment of a clinic dataset, as of a date.

    Attributes
    ----------
    reviews : pandas.DataFrame
        One row per child per review date (a date on which at least one of
        the child's goals was rated, up to ``as_of``), sorted by child and
        date. Columns:

        - ``child_id``, ``date`` (datetime64) : the review;
        - ``t_score`` : float, T-score of the goals included (below);
        - ``baseline_t`` : float, T-score of the same goals at their
          baseline levels, with the same weights;
        - ``t_change`` : float, ``t_score - baseline_t``;
        - ``n_goals`` : int, goals included: every goal of the child set on
          or before the review date;
        - ``n_rated`` : int, included goals rated on that date;
        - ``n_carried`` : int, included goals not rated that date, whose
          latest earlier rating is carried forward;
        - ``n_at_baseline`` : int, included goals never rated yet, counted at
          their baseline level (n_goals = n_rated + n_carried + n_at_baseline);
        - ``n_met`` : int, included goals at level >= 0 (rated, carried or
          baseline, as counted in the T-score);
        - ``share_met`` : float, ``n_met / n_goals``;
        - ``gas_scale`` : str, "five-level" or "six-level".
    goals : pandas.DataFrame
        One row per goal set on or before ``as_of``, in the order of the
        goals table. Columns:

        - ``goal_id``, ``child_id``, ``domain``, ``set_date``, ``target_date``
          (dates datetime64, NaT when blank);
        - ``weight`` : float, importance x difficulty, 1 when either is blank;
        - ``baseline_level`` : int;
        - ``first_level`` : Int64, the first rating (NA when never rated);
        - ``latest_level`` : Int64, the latest rating up to ``as_of``;
        - ``level_change`` : Int64, ``latest_level - baseline_level``;
        - ``date_first_met`` : datetime64, first rating at level >= 0 (NaT
          when never met);
        - ``days_to_met`` : Int64, days from ``set_date`` to
          ``date_first_met``;
        - ``overdue`` : bool, ``target_date`` is before ``as_of`` and the
          goal was never met up to ``as_of``;
        - ``n_ratings`` : int, ratings up to ``as_of``;
        - ``gas_scale`` : str, "five-level" or "six-level".
    as_of : datetime.date
        Ratings and goals dated after this are ignored.
    gas_scale : str
        "five-level" or "six-level".
    rho : float
        The rho used for the T-scores.
    """

    reviews: pd.DataFrame
    goals: pd.DataFrame
    as_of: dt.date
    gas_scale: str
    rho: float


def _as_of(as_of) -> pd.Timestamp:
    if as_of is None:
        return pd.Timestamp(dt.date.today())
    try:
        day = to_date(as_of)
    except (TypeError, ValueError):
        day = None
    if day is None:
        raise UsageError(f"`as_of` must be a date (a datetime.date or 'YYYY-MM-DD'), but "
                         f"{as_of!r} was passed.")
    return pd.Timestamp(day)


def _row(frame: pd.DataFrame, i: int, table: str, keys: list[str]) -> str:
    """'goal_ratings row 7 (goal_id=G1, date=2024-03-01)': where a row is."""
    if SOURCE_ROW in frame.columns:
        place = f"{table} row {frame[SOURCE_ROW].iloc[i]}"
    else:
        place = f"{table} index {_label(frame.index[i])}"
    parts = []
    for key in keys:
        if key in frame.columns:
            value = frame[key].iloc[i]
            if isinstance(value, pd.Timestamp):
                value = value.date().isoformat()
            parts.append(f"{key}={value}")
    return f"{place} ({', '.join(parts)})" if parts else place


def _table(dataset, name: str, required: list[str]) -> pd.DataFrame:
    frame = getattr(dataset, name, None)
    if not isinstance(frame, pd.DataFrame):
        raise UsageError(f"`dataset` must have a `{name}` table (a pandas DataFrame, as a "
                         f"sensoryprofile Dataset has), but {type(dataset).__name__} has "
                         f"{'none' if frame is None else type(frame).__name__}.")
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise UsageError(f"`dataset.{name}` has no column {', '.join(map(repr, missing))}; its "
                         f"columns are {', '.join(map(repr, frame.columns))}.")
    return frame


def _dates(frame: pd.DataFrame, column: str, table: str, keys: list[str],
           required: bool) -> pd.Series:
    """A date column as datetime64[ns] (midnight); bad or required-blank raise."""
    values, bad = parse_dates(frame[column])
    if required:
        bad = bad | values.isna().to_numpy()
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raw = frame[column].iloc[i]
        problem = ("blank; every row needs one" if pd.isna(raw) else date_problem(raw))
        raise UsageError(f"{_row(frame, i, table, keys)}, column {column}: "
                         f"{problem.rstrip('.')}.")
    return values


def _levels(frame: pd.DataFrame, column: str, table: str, keys: list[str],
            six_level: bool) -> np.ndarray:
    """A level column as int64; off-scale or blank raise, naming the row."""
    def where(i: int, n_bad: int) -> str:
        more = f"; {n_bad} rows in all" if n_bad > 1 else ""
        return f"{_row(frame, i, table, keys)}{more}"

    x = frame[column].to_numpy()
    if x.dtype.kind not in "iu":
        x = _as_float(frame[column], f"{table}.{column}", where)
    _check_levels(x, f"{table}.{column}", six_level, where,
                  six_level_switch="dataset.gas_six_level = True")
    return x.astype(np.int64)


def _first_duplicate(frame: pd.DataFrame, keys: list[str]) -> int | None:
    dupes = frame.duplicated(subset=keys, keep="first").to_numpy()
    return int(np.flatnonzero(dupes)[0]) if dupes.any() else None


@dataclass(frozen=True)
class _Prepared:
    goals: pd.DataFrame      # goals set by as_of, input order, with weight and _order
    ratings: pd.DataFrame    # ratings up to as_of: _order, date, level; sorted (_order, date)
    trajectories: pd.DataFrame
    as_of: pd.Timestamp
    scale: str


def _prepare(dataset, as_of) -> _Prepared:
    """Validate the two tables, apply as_of, and carry ratings forward."""
    six_level = bool(getattr(dataset, "gas_six_level", False))
    scale = _scale(six_level)[1]
    cutoff = _as_of(as_of)
    goals_in = _table(dataset, "goals", [GOAL_ID, CHILD_ID, SET_DATE, BASELINE_LEVEL])
    ratings_in = _table(dataset, "goal_ratings", [GOAL_ID, DATE, LEVEL])
    gkeys, rkeys = [GOAL_ID], [GOAL_ID, DATE]

    # goals: a new frame; the caller's is never modified
    i = _first_duplicate(goals_in, [GOAL_ID])
    if i is not None:
        raise UsageError(f"{_row(goals_in, i, 'goals', gkeys)}: goal_id "
                         f"{goals_in[GOAL_ID].iloc[i]} appears more than once; each goal "
                         "needs its own id.")
    goals = pd.DataFrame({
        # Series keep their dtype; reset_index makes every column positional
        GOAL_ID: goals_in[GOAL_ID].reset_index(drop=True),
        CHILD_ID: goals_in[CHILD_ID].reset_index(drop=True),
        DOMAIN: (goals_in[DOMAIN].reset_index(drop=True) if DOMAIN in goals_in.columns
                 else np.full(len(goals_in), None, dtype=object)),
        SET_DATE: _dates(goals_in, SET_DATE, "goals", gkeys, required=True).to_numpy(),
        TARGET_DATE: (_dates(goals_in, TARGET_DATE, "goals", gkeys, required=False).to_numpy()
                      if TARGET_DATE in goals_in.columns
                      else np.full(len(goals_in), np.datetime64("NaT", "ns"))),
        BASELINE_LEVEL: _levels(goals_in, BASELINE_LEVEL, "goals", gkeys, six_level),
    })
    if IMPORTANCE in goals_in.columns and DIFFICULTY in goals_in.columns:
        goals[WEIGHT] = goal_weights(goals_in[IMPORTANCE], goals_in[DIFFICULTY])
    else:
        goals[WEIGHT] = 1.0
    goals["_order"] = np.arange(len(goals))

    # ratings
    rated_on = _dates(ratings_in, DATE, "goal_ratings", rkeys, required=True)
    levels = _levels(ratings_in, LEVEL, "goal_ratings", rkeys, six_level)
    order = pd.Index(goals[GOAL_ID]).get_indexer(ratings_in[GOAL_ID])
    unknown = order < 0
    if unknown.any():
        i = int(np.flatnonzero(unknown)[0])
        raise UsageError(f"{_row(ratings_in, i, 'goal_ratings', rkeys)}: goal_id "
                         f"{ratings_in[GOAL_ID].iloc[i]} is not in the goals table.")
    ratings = pd.DataFrame({"_order": order, DATE: rated_on.to_numpy(), LEVEL: levels})
    i = _first_duplicate(ratings, ["_order", DATE])
    if i is not None:
        raise UsageError(f"{_row(ratings_in, i, 'goal_ratings', rkeys)}: this goal is rated "
                         "more than once on this date; keep one rating per goal per date.")
    set_dates = goals[SET_DATE].to_numpy()[order]
    early = ratings[DATE].to_numpy() < set_dates
    if early.any():
        i = int(np.flatnonzero(early)[0])
        raise UsageError(f"{_row(ratings_in, i, 'goal_ratings', rkeys)}: rated before the goal "
                         f"was set (set_date {pd.Timestamp(set_dates[i]).date().isoformat()}).")

    # as_of: later goals and ratings are ignored; positions are renumbered
    kept = (goals[SET_DATE] <= cutoff).to_numpy()
    position = np.cumsum(kept) - 1
    goals = goals[kept].reset_index(drop=True)
    goals["_order"] = np.arange(len(goals))
    ratings = ratings[(ratings[DATE] <= cutoff).to_numpy() & kept[order]]
    ratings = ratings.assign(_order=position[ratings["_order"].to_numpy()])
    ratings = ratings.sort_values(["_order", DATE], kind="stable").reset_index(drop=True)
    return _Prepared(goals, ratings, _carry_forward(goals, ratings, scale), cutoff, scale)


def _days(dates: pd.Series) -> np.ndarray:
    """Midnight datetimes as int64 days since 1970-01-01."""
    return dates.to_numpy().astype("datetime64[D]").astype(np.int64)


def _carry_forward(goals: pd.DataFrame, ratings: pd.DataFrame, scale: str) -> pd.DataFrame:
    """One row per goal per review date of its child, goal set by that date.

    The level is the rating on that date, else the latest earlier rating
    (carried), else the baseline level (at_baseline). Rows are in order of
    child_id, date, then the goals table. Integer arithmetic throughout: no
    merge on text ids, no loop per child or goal.
    """
    child = pd.factorize(goals[CHILD_ID], sort=True, use_na_sentinel=False)[0].astype(np.int64)
    set_day = _days(goals[SET_DATE])
    r_goal = ratings["_order"].to_numpy(dtype=np.int64)  # ratings sorted by (goal, date)
    r_day = _days(ratings[DATE])
    all_days = np.concatenate([set_day, r_day])
    origin = all_days.min() if all_days.size else 0
    span = (all_days.max() - origin + 1) if all_days.size else 1

    # review dates: the distinct (child, date) of the ratings, sorted
    review = np.unique(child[r_goal] * span + (r_day - origin))
    v_child, v_day = np.divmod(review, span)
    v_day += origin
    # each review with every goal of its child (goals in table order), then
    # keep the goals set on or before the review date
    by_child = np.argsort(child, kind="stable")
    sorted_child = child[by_child]
    first = np.searchsorted(sorted_child, v_child, side="left")
    n_of = np.searchsorted(sorted_child, v_child, side="right") - first
    rep = np.repeat(np.arange(review.size), n_of)
    offset = np.arange(rep.size) - np.repeat(np.cumsum(n_of) - n_of, n_of)
    p_goal = by_child[first[rep] + offset]
    p_day = v_day[rep]
    keep = set_day[p_goal] <= p_day
    p_goal, p_day = p_goal[keep], p_day[keep]

    # latest rating on or before each review date: one sorted integer key
    # (goal, day) and a binary search, instead of a loop per goal
    found_at = np.searchsorted(r_goal * span + (r_day - origin),
                               p_goal * span + (p_day - origin), side="right") - 1
    if r_goal.size:
        safe = np.clip(found_at, 0, None)
        found = (found_at >= 0) & (r_goal[safe] == p_goal)
        rated = found & (r_day[safe] == p_day)
        rated_level = ratings[LEVEL].to_numpy()[safe]
    else:
        found = rated = np.zeros(p_goal.size, dtype=bool)
        rated_level = np.zeros(p_goal.size, dtype=np.int64)
    baseline = goals[BASELINE_LEVEL].to_numpy()[p_goal]
    return pd.DataFrame({
        GOAL_ID: goals[GOAL_ID].iloc[p_goal].reset_index(drop=True),
        CHILD_ID: goals[CHILD_ID].iloc[p_goal].reset_index(drop=True),
        DOMAIN: goals[DOMAIN].iloc[p_goal].reset_index(drop=True),
        DATE: p_day.astype("datetime64[D]").astype("datetime64[ns]"),
        LEVEL: np.where(found, rated_level, baseline).astype(np.int64),
        CARRIED: found & ~rated,
        AT_BASELINE: ~found,
        BASELINE_LEVEL: baseline.astype(np.int64),
        WEIGHT: goals[WEIGHT].to_numpy(dtype=np.float64)[p_goal],
        GAS_SCALE: scale,
    })


def goal_trajectories(dataset, *, as_of=None) -> pd.DataFrame:
    """Each goal's level at every review of its child, for charts.

    Parameters
    ----------
    dataset : Dataset or any object with ``goals``, ``goal_ratings`` and
        ``gas_six_level``
        See :func:`goal_attainment`.
    as_of : datetime.date or str, optional
        Ignore ratings and goals dated after this; default today.

    Returns
    -------
    pandas.DataFrame
        One row per goal per review date of its child (a date on which any
        of the child's goals was rated, up to ``as_of``), for goals set on or
        before that date; sorted by child, date, then goal order. Columns:

        - ``goal_id``, ``child_id``, ``domain``, ``date`` (datetime64);
        - ``level`` : int, the rating on that date, else the latest earlier
          rating, else the baseline level;
        - ``carried`` : bool, not rated that date; an earlier rating carried
          forward;
        - ``at_baseline`` : bool, never rated yet; shown at baseline;
        - ``baseline_level`` : int;
        - ``weight`` : float, as in :func:`goal_attainment`;
        - ``gas_scale`` : str, "five-level" or "six-level".

    Notes
    -----
    These are exactly the goal levels that :func:`goal_attainment` scores:
    ``gas_tscores(goal_trajectories(d))`` equals the review T-scores, so a
    chart drawn from this table and the reported T-scores agree.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> goals = pd.DataFrame({"goal_id": ["G1", "G2"], "child_id": ["C1", "C1"],
    ...                       "set_date": pd.to_datetime(["2024-01-10", "2024-01-10"]),
    ...                       "domain": ["dressing", "play"], "baseline_level": [-1, -2]})
    >>> ratings = pd.DataFrame({"goal_id": ["G1", "G2", "G1"],
    ...                         "date": pd.to_datetime(["2024-03-01", "2024-03-01",
    ...                                                 "2024-05-01"]),
    ...                         "level": [-1, 0, 1]})
    >>> d = SimpleNamespace(goals=goals, goal_ratings=ratings, gas_six_level=False)
    >>> goal_trajectories(d, as_of="2024-06-30")[["goal_id", "date", "level", "carried"]]
      goal_id       date  level  carried
    0      G1 2024-03-01     -1    False
    1      G2 2024-03-01      0    False
    2      G1 2024-05-01      1    False
    3      G2 2024-05-01      0     True
    """
    prepared = _prepare(dataset, as_of)
    return prepared.trajectories[TRAJECTORY_COLUMNS].copy()


def goal_attainment(dataset, *, as_of=None, rho: float = DEFAULT_RHO) -> GoalAttainment:
    """GAS T-scores per child per review, and a summary per goal.

    Parameters
    ----------
    dataset : Dataset or any object with ``goals``, ``goal_ratings`` and
        ``gas_six_level``
        ``goals`` needs ``goal_id``, ``child_id``, ``set_date`` and
        ``baseline_level``; ``domain``, ``importance``, ``difficulty`` and
        ``target_date`` are used when present. ``goal_ratings`` needs
        ``goal_id``, ``date`` and ``level``. Dates are datetime64 (ISO text
        is read too). ``gas_six_level`` True allows level -3.
    as_of : datetime.date or str, optional
        Analyse the data as it stood on this date: ratings and goals dated
        after it are ignored, and ``overdue`` is judged on it. Default today.
    rho : float, default 0.3
        Assumed correlation between goal scores, in [0, 1).

    Returns
    -------
    GoalAttainment
        ``.reviews`` (one row per child per review date) and ``.goals`` (one
        row per goal); every column is listed in :class:`GoalAttainment`.

    Raises
    ------
    UsageError
        A table or column is missing; a level or baseline is off the scale
        or blank; a goal id is repeated, or a rating names an unknown goal,
        repeats a (goal, date) or predates its goal's ``set_date``; a date is
        not ISO; ``rho`` is outside [0, 1). Messages name the table row
        (``source_row`` when present, else the index label).

    Notes
    -----
    T = 50 + 10·Σwx / √((1−ρ)Σw² + ρ(Σw)²) over the goals included in a
    review (Kiresuk & Sherman 1968, as corrected by Turner-Stokes 2009);
    w = importance x difficulty, 1 when either is blank (:func:`goal_weights`).

    Decisions:

    - Goals included at a review: every goal of the child set on or before
      the review date. Each is at the level rated that date, else its latest
      earlier rating (carried forward), else - set but never rated yet - its
      baseline level, counted in ``n_at_baseline``. A goal therefore enters
      the T-score from the first review after it is set, at baseline until
      rated, and a goal set after a review is not in that review's T.
    - ``baseline_t`` scores the same goals at their baseline levels with the
      same weights, so ``t_change`` is never confounded by a change of goal
      set.
    - Zero weights (importance 0 or difficulty 0): the goal contributes
      nothing; if every included goal of a review has weight 0, ``t_score``,
      ``baseline_t`` and ``t_change`` are NaN (undefined, 0/0) while the
      counts are still given.
    - Six-level scale (``gas_six_level``): -3 (worse than baseline) is
      allowed and enters the formula as -3; ``gas_scale`` says which scale on
      every row. A partial-achievement -0.5 is not accepted: convert it to -1
      before loading (Turner-Stokes & Williams 2010).
    - ``as_of``: ratings after it are ignored; goals set after it are left
      out of both tables. A child with goals but no ratings yet has goal rows
      (first and latest level NA) and no review rows.
    - Met means level >= 0; ``overdue`` means ``target_date`` is before
      ``as_of`` and no rating up to ``as_of`` reached level 0; a goal with no
      target date is never overdue.

    References
    ----------
    .. [1] Kiresuk TJ, Sherman RE (1968). Goal attainment scaling: a general
       method for evaluating comprehensive community mental health programs.
       Community Mental Health Journal 4(6):443-453.
    .. [2] Turner-Stokes L (2009). Goal attainment scaling (GAS) in
       rehabilitation: a practical guide. Clinical Rehabilitation
       23(4):362-370; erratum 23(10):959.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> goals = pd.DataFrame({"goal_id": ["G1", "G2"], "child_id": ["C1", "C1"],
    ...                       "set_date": pd.to_datetime(["2024-01-10", "2024-01-10"]),
    ...                       "baseline_level": [-1, -2],
    ...                       "target_date": pd.to_datetime(["2024-04-01", "2024-04-01"])})
    >>> ratings = pd.DataFrame({"goal_id": ["G1", "G2", "G1"],
    ...                         "date": pd.to_datetime(["2024-03-01", "2024-03-01",
    ...                                                 "2024-05-01"]),
    ...                         "level": [-1, 0, 1]})
    >>> d = SimpleNamespace(goals=goals, goal_ratings=ratings, gas_six_level=False)
    >>> result = goal_attainment(d, as_of="2024-06-30")
    >>> result.reviews[["date", "t_score", "baseline_t", "n_rated", "n_carried"]].round(
    ...     {"t_score": 3, "baseline_t": 3})
            date  t_score  baseline_t  n_rated  n_carried
    0 2024-03-01   43.798      31.395        2          0
    1 2024-05-01   56.202      31.395        1          1
    >>> result.goals[["goal_id", "latest_level", "level_change", "days_to_met", "overdue"]]
      goal_id  latest_level  level_change  days_to_met  overdue
    0      G1             1             2          112    False
    1      G2             0             2           51    False
    """
    rho = _check_rho(rho)
    prepared = _prepare(dataset, as_of)
    goals, ratings, traj = prepared.goals, prepared.ratings, prepared.trajectories
    scale = prepared.scale

    # reviews: one group of trajectory rows per (child_id, date); the rows are
    # sorted that way, and their levels were checked in _prepare
    codes, reviews, n_goals = _groups(traj, [CHILD_ID, DATE])

    def per_review(values):
        return np.bincount(codes, weights=values, minlength=len(reviews))

    w = traj[WEIGHT].to_numpy(dtype=np.float64)
    x = traj[LEVEL].to_numpy(dtype=np.float64)
    base = traj[BASELINE_LEVEL].to_numpy(dtype=np.float64)
    carried = traj[CARRIED].to_numpy(dtype=bool)
    at_baseline = traj[AT_BASELINE].to_numpy(dtype=bool)
    sw, sw2 = per_review(w), per_review(w * w)
    reviews[T_SCORE] = _tscore(per_review(w * x), sw2, sw, rho)
    reviews[BASELINE_T] = _tscore(per_review(w * base), sw2, sw, rho)
    reviews[T_CHANGE] = reviews[T_SCORE] - reviews[BASELINE_T]
    reviews[N_GOALS] = n_goals
    for column, flags in ((N_RATED, ~carried & ~at_baseline), (N_CARRIED, carried),
                          (N_AT_BASELINE, at_baseline), (N_MET, x >= MET_LEVEL)):
        reviews[column] = np.bincount(codes[flags], minlength=len(reviews)).astype(np.int64)
    reviews[SHARE_MET] = reviews[N_MET] / reviews[N_GOALS]
    reviews[GAS_SCALE] = scale
    reviews = reviews[REVIEW_COLUMNS]

    # goals: first and latest rating, first met, overdue
    by_goal = ratings.groupby("_order", sort=True)
    summary = pd.DataFrame({FIRST_LEVEL: by_goal[LEVEL].first(),
                            LATEST_LEVEL: by_goal[LEVEL].last(),
                            N_RATINGS: by_goal.size()})
    summary[DATE_FIRST_MET] = ratings[ratings[LEVEL] >= MET_LEVEL].groupby("_order")[DATE].min()
    summary = summary.reindex(goals["_order"])
    out = goals[[GOAL_ID, CHILD_ID, DOMAIN, SET_DATE, TARGET_DATE, WEIGHT,
                 BASELINE_LEVEL]].copy()
    # positional (.array): summary is indexed by goal position, out by row
    out[FIRST_LEVEL] = summary[FIRST_LEVEL].astype("Int64").array
    out[LATEST_LEVEL] = summary[LATEST_LEVEL].astype("Int64").array
    out[LEVEL_CHANGE] = out[LATEST_LEVEL] - out[BASELINE_LEVEL]
    out[DATE_FIRST_MET] = summary[DATE_FIRST_MET].to_numpy().astype("datetime64[ns]")
    out[DAYS_TO_MET] = pd.array(
        (out[DATE_FIRST_MET] - out[SET_DATE]).dt.days, dtype="Int64")
    out[OVERDUE] = (out[TARGET_DATE].notna() & (out[TARGET_DATE] < prepared.as_of)
                    & out[DATE_FIRST_MET].isna()).to_numpy(dtype=bool)
    out[N_RATINGS] = summary[N_RATINGS].fillna(0).to_numpy().astype(np.int64)
    out[GAS_SCALE] = scale
    return GoalAttainment(reviews=reviews.reset_index(drop=True),
                          goals=out.reset_index(drop=True),
                          as_of=prepared.as_of.date(), gas_scale=scale, rho=rho)
