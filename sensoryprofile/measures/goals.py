"""A clinic's goals over time: reviews, carry-forward, goals met.

:func:`goal_attainment` and :func:`goal_trajectories` take a clinic dataset
(anything with ``.goals``, ``.goal_ratings`` and ``.gas_six_level``) and
return tidy tables: one row per child per review, one row per goal, one row
per goal per review. Both share one carry-forward rule, so a chart drawn
from the trajectories and the T-scores in the reviews table always agree.
The formula itself is :mod:`sensoryprofile.measures.gas`.

The levels (and the six-level variant) are described in
:mod:`sensoryprofile.measures.gas`; a goal counts as met at level 0 or above.
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
from sensoryprofile.measures.gas import (
    DEFAULT_RHO,
    MET_LEVEL,
    as_float,
    check_levels,
    check_rho,
    gas_scale_for,
    goal_weights,
    group_rows,
    index_label,
    tscore_from_sums,
)

REVIEW_COLUMNS = [CHILD_ID, DATE, T_SCORE, BASELINE_T, T_CHANGE, N_GOALS, N_RATED, N_CARRIED,
                  N_AT_BASELINE, N_MET, SHARE_MET, GAS_SCALE]
GOAL_COLUMNS = [GOAL_ID, CHILD_ID, DOMAIN, SET_DATE, TARGET_DATE, WEIGHT, BASELINE_LEVEL,
                FIRST_LEVEL, LATEST_LEVEL, LEVEL_CHANGE, DATE_FIRST_MET, DAYS_TO_MET, OVERDUE,
                N_RATINGS, GAS_SCALE]
TRAJECTORY_COLUMNS = [GOAL_ID, CHILD_ID, DOMAIN, DATE, LEVEL, CARRIED, AT_BASELINE,
                      BASELINE_LEVEL, WEIGHT, GAS_SCALE]


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
        place = f"{table} index {index_label(frame.index[i])}"
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
        x = as_float(frame[column], f"{table}.{column}", where)
    check_levels(x, f"{table}.{column}", six_level, where,
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
    scale = gas_scale_for(six_level)[1]
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
    rho = check_rho(rho)
    prepared = _prepare(dataset, as_of)
    goals, ratings, traj = prepared.goals, prepared.ratings, prepared.trajectories
    scale = prepared.scale

    # reviews: one group of trajectory rows per (child_id, date); the rows are
    # sorted that way, and their levels were checked in _prepare
    codes, reviews, n_goals = group_rows(traj, [CHILD_ID, DATE])

    def per_review(values):
        return np.bincount(codes, weights=values, minlength=len(reviews))

    w = traj[WEIGHT].to_numpy(dtype=np.float64)
    x = traj[LEVEL].to_numpy(dtype=np.float64)
    base = traj[BASELINE_LEVEL].to_numpy(dtype=np.float64)
    carried = traj[CARRIED].to_numpy(dtype=bool)
    at_baseline = traj[AT_BASELINE].to_numpy(dtype=bool)
    sw, sw2 = per_review(w), per_review(w * w)
    reviews[T_SCORE] = tscore_from_sums(per_review(w * x), sw2, sw, rho)
    reviews[BASELINE_T] = tscore_from_sums(per_review(w * base), sw2, sw, rho)
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
