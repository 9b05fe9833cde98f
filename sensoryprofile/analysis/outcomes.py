"""Outcomes across a caseload: sensory classifications at intake and now,
how often change was reliable, goal attainment per group, and how well each
therapist's goals are set.

* :func:`sensory_series`, :func:`classification_distribution`,
  :func:`reliable_change_rates` - per quadrant;
* :func:`goal_outcomes` - goal attainment per site, therapist and diagnosis,
  with a Wilcoxon signed-rank test, the rank-biserial correlation and
  bootstrap intervals (:func:`sensoryprofile.analysis.stats.paired_change`);
* :func:`goal_calibration` - final goal levels against the spread expected
  of well-set goals.

Outcomes cover every child referred by ``as_of``, discharged or not
(discharged children's outcomes are the most complete). A group with fewer
than ``min_group`` children (default
:data:`sensoryprofile.analysis.stats.MIN_GROUP`) shows no statistics: the
numbers are NaN, ``suppressed`` is True and ``suppression`` says so; counts
of children and goals are still shown. No Python loop runs per child.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from sensoryprofile import columns as C
from sensoryprofile.analysis import stats
from sensoryprofile.analysis.groups import (
    as_of_date,
    children_as_of,
    group_memberships,
    group_order,
    whole_number,
)
from sensoryprofile.analysis.stats import suppression_note
from sensoryprofile.columns import (
    COUNT,
    FLAG,
    FLAG_REASON,
    GROUP,
    GROUP_BY,
    INTAKE,
    LATEST,
    MEAN_T,
    MEDIAN_BASELINE_T,
    MEDIAN_T,
    MEDIAN_T_CHANGE,
    N_ATYPICAL_AT_INTAKE,
    N_CHILDREN,
    N_COMPARED,
    N_GOALS_RATED,
    N_NOW_TYPICAL,
    N_RELIABLE_DETERIORATION,
    N_RELIABLE_IMPROVEMENT,
    N_TOWARD_TYPICAL,
    N_WITH_RCI,
    P_VALUE,
    RANK_BISERIAL,
    RANK_BISERIAL_HIGH,
    RANK_BISERIAL_LOW,
    SHARE,
    SHARE_BELOW,
    SHARE_NOW_TYPICAL,
    SHARE_RELIABLE_DETERIORATION,
    SHARE_RELIABLE_IMPROVEMENT,
    SHARE_TOP,
    SHARE_TOWARD_TYPICAL,
    SUPPRESSED,
    SUPPRESSION,
    T_CHANGE_CI_HIGH,
    T_CHANGE_CI_LOW,
    T_Q1,
    T_Q3,
    TIMEPOINT,
    WILCOXON_W,
    N,
)
from sensoryprofile.instruments.model import DEFAULT_LABELS, LEVELS
from sensoryprofile.instruments.schema import QUADRANT_NAMES, QUADRANTS
from sensoryprofile.measures import change as CH
from sensoryprofile.measures import goals as G
from sensoryprofile.measures.gas import EXPECTED_GAS_SHARES, MET_LEVEL

# Goal-setting calibration. Well-set goals end spread like a normal curve
# across levels -2..+2 (EXPECTED_GAS_SHARES: about 7% at +2 and 31% below 0),
# so the mean follow-up T is near 50. These thresholds flag a therapist's goals
# for a conversation, not a verdict: they are conventions, not published rules.
#: Mean follow-up T above this suggests goals set too easily.
EASY_MEAN_T = 55.0
#: Share of goals ending at +2 above this suggests goals set too easily.
EASY_TOP_SHARE = 0.20
#: Mean follow-up T below this suggests goals set too ambitiously.
HARD_MEAN_T = 45.0
#: Share of goals ending below 0 above this suggests goals set too ambitiously.
HARD_BELOW_SHARE = 0.50

# flags of goal_calibration
TOO_EASY = "may be too easy"
TOO_HARD = "may be too hard"
MIXED = "mixed signs"
AS_EXPECTED = "as expected"

CLASSIFICATION_COLUMNS = [C.INSTRUMENT, C.SCORE, C.SCORE_NAME, TIMEPOINT, C.LEVEL, C.CLASSIFICATION, COUNT, N,
                          SHARE, SUPPRESSED, SUPPRESSION]


RELIABLE_COLUMNS = [C.INSTRUMENT, C.SCORE, C.SCORE_NAME, N, N_COMPARED, N_WITH_RCI, N_RELIABLE_IMPROVEMENT,
                    SHARE_RELIABLE_IMPROVEMENT, N_RELIABLE_DETERIORATION,
                    SHARE_RELIABLE_DETERIORATION, N_TOWARD_TYPICAL, SHARE_TOWARD_TYPICAL,
                    N_ATYPICAL_AT_INTAKE, N_NOW_TYPICAL, SHARE_NOW_TYPICAL, SUPPRESSED,
                    SUPPRESSION]


OUTCOME_COLUMNS = [GROUP_BY, GROUP, N_CHILDREN, C.N_GOALS, N_GOALS_RATED, C.N_MET, C.SHARE_MET,
                   MEDIAN_T, T_Q1, T_Q3, MEDIAN_BASELINE_T, MEDIAN_T_CHANGE, T_CHANGE_CI_LOW,
                   T_CHANGE_CI_HIGH, WILCOXON_W, P_VALUE, RANK_BISERIAL, RANK_BISERIAL_LOW,
                   RANK_BISERIAL_HIGH, SUPPRESSED, SUPPRESSION]


CALIBRATION_COLUMNS = [GROUP_BY, GROUP, N_CHILDREN, N_GOALS_RATED, MEAN_T, SHARE_TOP, SHARE_BELOW,
                       FLAG, FLAG_REASON, SUPPRESSED, SUPPRESSION]


CALIBRATION_LEVEL_COLUMNS = [C.THERAPIST, C.LEVEL, COUNT, SHARE, N]


#: Classification text of each level (the standard five labels; an
#: instrument's own labels may differ, so the caseload speaks in these).
LEVEL_LABELS = {LEVELS[key]: text for key, text in DEFAULT_LABELS.items()}


# ---------------------------------------------------------------------------
# sensory outcomes
# ---------------------------------------------------------------------------
def sensory_series(dataset, *, as_of=None) -> pd.DataFrame:
    """Intake-to-latest change of each child's primary scores on each form
    (its quadrants, or its sections and total), one series per child and form.

    Parameters
    ----------
    dataset : Dataset
    as_of : date, default today
        Assessments dated after it are ignored.

    Returns
    -------
    DataFrame
        The ``"intake_to_latest"`` rows of
        :func:`sensoryprofile.measures.change.score_changes` (columns
        :data:`sensoryprofile.measures.change.CHANGE_COLUMNS`) of the scores
        each form marks primary: children with at least two assessments on
        the same instrument by the same respondent type.

    Notes
    -----
    Different forms are never pooled: a child counts once per form. A child
    with several series on one form (a teacher's beside the caregiver's)
    counts once for it: the series answered by the form's first respondent
    (usually the caregiver) is preferred, then the one with the latest
    assessment. This is the series the child's own report shows.
    """
    as_of = as_of_date(as_of)
    kids = children_as_of(dataset, as_of)
    scores = dataset.scores
    scores = scores[(scores[C.DATE] <= as_of) & scores[C.CHILD_ID].isin(kids[C.CHILD_ID])]
    changes = CH.score_changes(scores, dataset.instruments)
    rows = changes[(changes[C.COMPARISON] == CH.INTAKE_TO_LATEST)]
    rows = rows[CH.primary_rows(rows, dataset.instruments)]
    own = {key: inst.respondents[0] for key, inst in dataset.instruments.items()}
    series = pd.DataFrame({
        C.CHILD_ID: rows[C.CHILD_ID].astype(object).to_numpy(),
        C.INSTRUMENT: rows[C.INSTRUMENT].astype(object).to_numpy(),
        C.RESPONDENT: rows[C.RESPONDENT].astype(object).to_numpy(),
        C.TO_DATE: rows[C.TO_DATE].to_numpy(),
    })
    series["own"] = (series[C.RESPONDENT] == series[C.INSTRUMENT].map(own)).to_numpy()
    best = (series.sort_values([C.CHILD_ID, C.INSTRUMENT, "own", C.TO_DATE, C.RESPONDENT],
                               ascending=[True, True, False, False, True], kind="stable")
            .drop_duplicates([C.CHILD_ID, C.INSTRUMENT]))
    chosen = pd.MultiIndex.from_frame(best[[C.CHILD_ID, C.INSTRUMENT, C.RESPONDENT]])
    keep = pd.MultiIndex.from_frame(series[[C.CHILD_ID, C.INSTRUMENT, C.RESPONDENT]]
                                    ).isin(chosen)
    return rows[keep].reset_index(drop=True)


def _score_frame(series: pd.DataFrame, instruments) -> pd.DataFrame:
    """The (instrument, score) pairs of ``series`` in report order: forms by
    id, each form's primary scores in its own order (quadrants named in plain
    words); a form not in ``instruments`` keeps its scores' order of appearance."""
    rows = []
    present = series[[C.INSTRUMENT, C.SCORE, C.SCORE_NAME]].astype(str).drop_duplicates()
    for form in sorted(present[C.INSTRUMENT].unique()):
        mine = present[present[C.INSTRUMENT] == form]
        inst = (instruments or {}).get(form)
        order = [sc.id for sc in inst.primary_scores] if inst is not None else []
        ids = [i for i in order if i in set(mine[C.SCORE])] + [
            i for i in mine[C.SCORE] if i not in order]
        names = dict(zip(mine[C.SCORE], mine[C.SCORE_NAME], strict=True))
        for score in ids:
            name = (QUADRANT_NAMES.get(score, names[score])
                    if score in QUADRANTS else names[score])
            rows.append((form, score, name))
    return pd.DataFrame(rows, columns=[C.INSTRUMENT, C.SCORE, C.SCORE_NAME])


def _form_levels(form: str, instruments) -> dict[int, str]:
    """The classification levels of a form: its own scheme's ordinals and
    labels, else the standard five."""
    inst = (instruments or {}).get(form)
    if inst is None:
        return dict(LEVEL_LABELS)
    return {int(k): v for k, v in sorted(inst.scheme.labels_by_ordinal.items())}


def classification_distribution(series: pd.DataFrame, instruments=None, *,
                                min_group: int = stats.MIN_GROUP) -> pd.DataFrame:
    """Share of children in each classification at intake and at the latest
    assessment, per form and primary score (for
    :func:`sensoryprofile.plots.plot_classification_shift`).

    Parameters
    ----------
    series : DataFrame from :func:`sensory_series`.
    instruments : mapping of id to Instrument, optional
        Each form's classification levels and labels, and its scores' order
        (without it: the five standard levels).
    min_group : int, default 5
        A score with fewer children shows no shares.

    Returns
    -------
    DataFrame
        One row per form x score x timepoint x classification, columns
        :data:`CLASSIFICATION_COLUMNS`: ``instrument``, ``score``,
        ``score_name`` (plain words), ``timepoint`` ("intake" or "latest"),
        ``level`` (the form's ordinal: -2..2 for the five levels, 0..2 from
        typical outward for three one-sided levels; NA = not classified),
        ``classification`` (the form's label; NA = not classified),
        ``count`` (children), ``n`` (children with the score on that form),
        ``share`` (count / n; NaN when suppressed), ``suppressed``,
        ``suppression``. Every level of the form has a row (count 0
        included); "not classified" only when it occurs. Forms by id, each
        form's scores in its own order; different forms are never pooled.
    """
    min_group = whole_number(min_group, "min_group")
    frames = []
    for form, score_id, name in _score_frame(series, instruments).itertuples(index=False):
        mine = series[(series[C.INSTRUMENT].astype(str) == form)
                      & (series[C.SCORE].astype(str) == score_id)]
        levels = _form_levels(form, instruments)
        n = len(mine)
        for point, column in ((INTAKE, C.FROM_LEVEL), (LATEST, C.TO_LEVEL)):
            level = pd.to_numeric(mine[column].astype("Float64"), errors="coerce")
            counts = level.value_counts()
            codes = list(levels) + ([None] if level.isna().any() else [])
            frames.append(pd.DataFrame({
                C.INSTRUMENT: form, C.SCORE: score_id, C.SCORE_NAME: name, TIMEPOINT: point,
                C.LEVEL: pd.array(codes, dtype="Int64"),
                C.CLASSIFICATION: pd.Series([levels.get(c) if c is not None else None
                                             for c in codes], dtype=object),
                COUNT: [int(counts.get(float(c), 0)) if c is not None
                        else int(level.isna().sum()) for c in codes],
                N: n}))
    if not frames:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in CLASSIFICATION_COLUMNS})
    out = pd.concat(frames, ignore_index=True)
    out[SUPPRESSED] = (out[N] < min_group).to_numpy()
    out[SHARE] = (out[COUNT] / out[N]).where(~out[SUPPRESSED])
    out[SUPPRESSION] = pd.Series(np.where(out[SUPPRESSED], suppression_note(min_group), None),
                                 dtype=object)
    return out[CLASSIFICATION_COLUMNS].astype({COUNT: np.int64, N: np.int64}
                                              ).reset_index(drop=True)


def reliable_change_rates(series: pd.DataFrame, instruments=None, *,
                          min_group: int = stats.MIN_GROUP) -> pd.DataFrame:
    """How often each primary score of each form changed reliably, and
    toward the typical band.

    Parameters
    ----------
    series : DataFrame from :func:`sensory_series`.
    instruments : mapping of id to Instrument, optional (the scores' order).
    min_group : int, default 5
        A score with fewer children compared shows no shares.

    Returns
    -------
    DataFrame
        One row per form and score (forms by id, each in its own order; never
        pooled across forms), columns :data:`RELIABLE_COLUMNS`:

        - ``n``: children with two or more assessments; ``n_compared``: of
          them, intake and latest both valid and dated (``compared``);
          ``n_with_rci``: compared with a reliable change index (the
          instrument declares the score's reliability);
        - ``n_reliable_improvement`` / ``share_reliable_improvement``:
          reliable (|RCI| > 1.96) and toward typical, of ``n_with_rci``;
        - ``n_reliable_deterioration`` / ``share_reliable_deterioration``:
          reliable and away from typical, of ``n_with_rci``;
        - ``n_toward_typical`` / ``share_toward_typical``: moved toward
          typical by any amount (direction "toward typical"), of ``n_compared``;
        - ``n_atypical_at_intake``: compared and classified outside the
          typical band at intake (and classified at latest);
          ``n_now_typical`` / ``share_now_typical``: of them, in the typical
          band at the latest assessment;
        - ``suppressed``, ``suppression``: fewer than ``min_group`` compared:
          the shares are NaN.

    Notes
    -----
    Direction follows :mod:`sensoryprofile.measures.change`: improvement is movement
    toward the typical band, since both tails are atypical. A reliable change
    from one atypical tail to the other ("crossed the typical band") is
    neither improvement nor deterioration.
    """
    min_group = whole_number(min_group, "min_group")
    compared = series[C.COMPARED].astype(bool).to_numpy()
    reliable = series[C.RELIABLE].astype("boolean")
    has_rci = compared & reliable.notna().to_numpy()
    is_reliable = has_rci & reliable.fillna(False).to_numpy(dtype=bool)
    direction = series[C.DIRECTION].astype(object)
    toward = (direction == CH.TOWARD_TYPICAL).to_numpy()
    away = (direction == CH.AWAY_FROM_TYPICAL).to_numpy()
    start = pd.to_numeric(series[C.FROM_LEVEL].astype("Float64"), errors="coerce").to_numpy()
    end = pd.to_numeric(series[C.TO_LEVEL].astype("Float64"), errors="coerce").to_numpy()
    with np.errstate(invalid="ignore"):
        atypical = compared & ~np.isnan(start) & ~np.isnan(end) & (start != 0)
        now_typical = atypical & (end == 0)
    flags = pd.DataFrame({
        C.INSTRUMENT: series[C.INSTRUMENT].astype(str).to_numpy(),
        C.SCORE: series[C.SCORE].astype(str).to_numpy(), N: 1, N_COMPARED: compared,
        N_WITH_RCI: has_rci, N_RELIABLE_IMPROVEMENT: is_reliable & toward,
        N_RELIABLE_DETERIORATION: is_reliable & away, N_TOWARD_TYPICAL: compared & toward,
        N_ATYPICAL_AT_INTAKE: atypical, N_NOW_TYPICAL: now_typical,
    })
    sums = flags.groupby([C.INSTRUMENT, C.SCORE]).sum().astype(np.int64)
    out = _score_frame(series, instruments).merge(sums.reset_index(),
                                                  on=[C.INSTRUMENT, C.SCORE])
    out[SUPPRESSED] = (out[N_COMPARED] < min_group).to_numpy()
    for share, count, base in (
            (SHARE_RELIABLE_IMPROVEMENT, N_RELIABLE_IMPROVEMENT, N_WITH_RCI),
            (SHARE_RELIABLE_DETERIORATION, N_RELIABLE_DETERIORATION, N_WITH_RCI),
            (SHARE_TOWARD_TYPICAL, N_TOWARD_TYPICAL, N_COMPARED),
            (SHARE_NOW_TYPICAL, N_NOW_TYPICAL, N_ATYPICAL_AT_INTAKE)):
        with np.errstate(invalid="ignore", divide="ignore"):
            value = out[count].to_numpy(dtype=float) / out[base].to_numpy(dtype=float)
        out[share] = np.where(out[SUPPRESSED] | (out[base] == 0), np.nan, value)
    out[SUPPRESSION] = pd.Series(np.where(out[SUPPRESSED], suppression_note(min_group), None),
                                 dtype=object)
    return out[RELIABLE_COLUMNS].reset_index(drop=True)


# ---------------------------------------------------------------------------
# goal outcomes
# ---------------------------------------------------------------------------
def _latest_reviews(attainment: G.GoalAttainment) -> pd.DataFrame:
    """Each child's latest review with a T-score (reviews are sorted by child
    and date)."""
    reviews = attainment.reviews
    reviews = reviews[reviews[C.T_SCORE].notna() & reviews[C.BASELINE_T].notna()]
    latest = reviews.drop_duplicates(C.CHILD_ID, keep="last")
    return latest[[C.CHILD_ID, C.DATE, C.T_SCORE, C.BASELINE_T, C.T_CHANGE]].reset_index(
        drop=True)


def _goal_counts(attainment: G.GoalAttainment) -> pd.DataFrame:
    goals = attainment.goals
    latest = goals[C.LATEST_LEVEL]
    flags = pd.DataFrame({C.CHILD_ID: goals[C.CHILD_ID].astype(object).to_numpy(),
                          C.N_GOALS: 1,
                          N_GOALS_RATED: latest.notna().to_numpy(),
                          C.N_MET: (latest >= MET_LEVEL).fillna(False).to_numpy(dtype=bool)})
    return flags.groupby(C.CHILD_ID, sort=False).sum().astype(np.int64).reset_index()


def goal_outcomes(dataset, *, as_of=None, min_group: int = stats.MIN_GROUP,
                  n_boot: int = stats.DEFAULT_BOOT, seed: int = stats.DEFAULT_SEED,
                  attainment: G.GoalAttainment | None = None) -> pd.DataFrame:
    """Goal attainment per site, therapist and diagnosis, and for the whole
    caseload.

    Parameters
    ----------
    dataset : Dataset
    as_of : date, default today
        Goals set and ratings made after it are ignored.
    min_group : int, default 5
        Groups with fewer children with a goal review show no statistics.
    n_boot, seed : bootstrap resamples and seed (:mod:`sensoryprofile.analysis.stats`).
    attainment : GoalAttainment, optional
        ``goal_attainment(dataset, as_of=as_of)`` if already computed.

    Returns
    -------
    DataFrame
        One row per group (all groups of children referred by ``as_of``),
        columns :data:`OUTCOME_COLUMNS`:

        - ``group_by``, ``group``;
        - ``n_children``: children with at least one goal review (a T-score);
        - ``n_goals``: goals of the group's children set by ``as_of``;
          ``n_goals_rated``: of them, rated at least once; ``n_met``: rated
          and at level 0 or above at the latest rating; ``share_met`` =
          n_met / n_goals_rated;
        - ``median_t``, ``t_q1``, ``t_q3``: median and quartiles of each
          child's follow-up T (the latest review); ``median_baseline_t``;
        - ``median_t_change`` (follow-up minus baseline T, per child) and its
          bootstrap interval ``t_change_ci_low`` / ``t_change_ci_high``
          (:func:`sensoryprofile.analysis.stats.median_interval`);
        - ``wilcoxon_w``, ``p_value``: Wilcoxon signed-rank test of baseline
          vs follow-up T; ``rank_biserial`` (matched pairs) with its bootstrap
          interval ``rank_biserial_low`` / ``rank_biserial_high``
          (:func:`sensoryprofile.analysis.stats.paired_change`);
        - ``suppressed``, ``suppression``: fewer than ``min_group`` children:
          every statistic (share_met included) is NaN; counts stay.

    Notes
    -----
    GAS is ordinal (Tennant 2007): medians, proportions of goals met and rank
    tests lead. Baseline and follow-up T score the same goals with the same
    weights (:func:`sensoryprofile.measures.goals.goal_attainment`), so the change is
    not confounded by a change of goal set. Discharged children are
    included. Loops run over groups only (each calls the bootstrap).
    """
    as_of = as_of_date(as_of)
    min_group = whole_number(min_group, "min_group")
    kids = children_as_of(dataset, as_of)
    if attainment is None:
        attainment = G.goal_attainment(dataset, as_of=as_of.date())
    per_child = kids[[C.CHILD_ID]].merge(_goal_counts(attainment), on=C.CHILD_ID, how="left")
    per_child = per_child.merge(_latest_reviews(attainment), on=C.CHILD_ID, how="left")
    members = group_memberships(kids)
    table = members.merge(per_child, on=C.CHILD_ID, how="left")
    grouped = table.groupby([GROUP_BY, GROUP], observed=True, sort=False)
    out = grouped.agg(**{
        N_CHILDREN: (C.T_SCORE, "count"),
        C.N_GOALS: (C.N_GOALS, "sum"), N_GOALS_RATED: (N_GOALS_RATED, "sum"),
        C.N_MET: (C.N_MET, "sum"),
        MEDIAN_T: (C.T_SCORE, "median"), MEDIAN_BASELINE_T: (C.BASELINE_T, "median"),
        MEDIAN_T_CHANGE: (C.T_CHANGE, "median"),
    })
    out[T_Q1] = grouped[C.T_SCORE].quantile(0.25)
    out[T_Q3] = grouped[C.T_SCORE].quantile(0.75)
    out = out.reset_index()
    for column in (N_CHILDREN, C.N_GOALS, N_GOALS_RATED, C.N_MET):
        out[column] = out[column].fillna(0).astype(np.int64)
    with np.errstate(invalid="ignore", divide="ignore"):
        out[C.SHARE_MET] = out[C.N_MET] / out[N_GOALS_RATED].where(out[N_GOALS_RATED] > 0)
    out[SUPPRESSED] = (out[N_CHILDREN] < min_group).to_numpy()

    # the tests and intervals: one call per group that is shown
    tests = {col: np.full(len(out), np.nan) for col in (
        T_CHANGE_CI_LOW, T_CHANGE_CI_HIGH, WILCOXON_W, P_VALUE, RANK_BISERIAL,
        RANK_BISERIAL_LOW, RANK_BISERIAL_HIGH)}
    positions = grouped.indices
    for i, (by, group) in enumerate(zip(out[GROUP_BY], out[GROUP], strict=True)):
        if out.at[i, SUPPRESSED]:
            continue
        rows = table.iloc[positions[(by, group)]]
        rows = rows[rows[C.T_SCORE].notna()]
        result = stats.paired_change(rows[C.BASELINE_T].to_numpy(dtype=float),
                                     rows[C.T_SCORE].to_numpy(dtype=float), n_boot=n_boot,
                                     seed=seed, min_n=min_group)
        for key in (WILCOXON_W, P_VALUE, RANK_BISERIAL, RANK_BISERIAL_LOW, RANK_BISERIAL_HIGH):
            tests[key][i] = result[key]
        tests[T_CHANGE_CI_LOW][i], tests[T_CHANGE_CI_HIGH][i] = stats.median_interval(
            rows[C.T_CHANGE].to_numpy(dtype=float), n_boot=n_boot, seed=seed)
    for key, values in tests.items():
        out[key] = values
    hidden = [C.SHARE_MET, MEDIAN_T, T_Q1, T_Q3, MEDIAN_BASELINE_T, MEDIAN_T_CHANGE]
    out[hidden] = out[hidden].astype(float).where(~out[SUPPRESSED], axis=0)
    out[SUPPRESSION] = pd.Series(np.where(out[SUPPRESSED], suppression_note(min_group), None),
                                 dtype=object)
    return group_order(out)[OUTCOME_COLUMNS]


# ---------------------------------------------------------------------------
# goal-setting calibration
# ---------------------------------------------------------------------------
@dataclass
class Calibration:
    """Result of :func:`goal_calibration`.

    Attributes
    ----------
    summary : DataFrame, columns :data:`CALIBRATION_COLUMNS`, one row per
        therapist and one for all children.
    levels : DataFrame, columns :data:`CALIBRATION_LEVEL_COLUMNS`, one row
        per therapist x final level (then "All children"), for
        :func:`sensoryprofile.plots.plot_goal_calibration`; therapists whose
        statistics are suppressed are left out.
    """

    summary: pd.DataFrame
    levels: pd.DataFrame


def calibration_flag(mean_t: float, top: float, below: float) -> tuple[str, str]:
    """The calibration flag of one therapist's goals, and its reason in words.

    Parameters
    ----------
    mean_t : mean follow-up GAS T-score of the therapist's children.
    top : share of goals whose final level is +2.
    below : share of goals whose final level is below 0.

    Returns
    -------
    (flag, reason)
        ``flag`` is :data:`TOO_EASY` (mean T above :data:`EASY_MEAN_T` or
        ``top`` above :data:`EASY_TOP_SHARE`), :data:`TOO_HARD` (mean T below
        :data:`HARD_MEAN_T` or ``below`` above :data:`HARD_BELOW_SHARE`),
        :data:`MIXED` (both) or :data:`AS_EXPECTED`; ``reason`` names the
        numbers that decided it.

    Examples
    --------
    >>> calibration_flag(61.6, 0.21, 0.06)[0]
    'may be too easy'
    >>> calibration_flag(50.0, 0.07, 0.28)[0]
    'as expected'
    """
    expected_below = EXPECTED_GAS_SHARES[-2] + EXPECTED_GAS_SHARES[-1]
    easy, hard = [], []
    if mean_t > EASY_MEAN_T:
        easy.append(f"mean follow-up T {mean_t:.1f} is above {EASY_MEAN_T:g}")
    if top > EASY_TOP_SHARE:
        easy.append(f"{top:.0%} of goals ended at +2 (about {EXPECTED_GAS_SHARES[2]:.0%} "
                    "expected)")
    if mean_t < HARD_MEAN_T:
        hard.append(f"mean follow-up T {mean_t:.1f} is below {HARD_MEAN_T:g}")
    if below > HARD_BELOW_SHARE:
        hard.append(f"{below:.0%} of goals ended below the expected level (about "
                    f"{expected_below:.0%} expected)")
    if easy and hard:
        return MIXED, "; ".join(easy + hard)
    if easy:
        return TOO_EASY, "; ".join(easy)
    if hard:
        return TOO_HARD, "; ".join(hard)
    return AS_EXPECTED, ("mean follow-up T and the shares at +2 and below 0 are within the "
                         "conventional limits")


def goal_calibration(dataset, *, as_of=None, min_group: int = stats.MIN_GROUP,
                     attainment: G.GoalAttainment | None = None) -> Calibration:
    """How well each therapist's goals are set: final levels against the
    spread expected of well-set goals.

    Parameters
    ----------
    dataset : Dataset
    as_of : date, default today
    min_group : int, default 5
        Therapists with fewer children with a goal review get no shares, no
        mean and no flag.
    attainment : GoalAttainment, optional

    Returns
    -------
    Calibration
        ``.summary`` (one row per therapist, then all children):
        ``n_children`` (with a goal review), ``n_goals_rated``, ``mean_t``
        (mean of the children's follow-up T), ``share_top`` (goals whose
        latest level is +2), ``share_below`` (latest level below 0),
        ``flag`` (:data:`TOO_EASY`, :data:`TOO_HARD`, :data:`MIXED` or
        :data:`AS_EXPECTED`) and ``flag_reason`` in words, ``suppressed``,
        ``suppression``. ``.levels``: the share of each final level per
        therapist, with ``n`` the goals rated.

    Notes
    -----
    Final level = the latest rating of each goal rated at least once.
    Well-set goals end spread like a normal curve across -2..+2
    (:data:`~sensoryprofile.measures.gas.EXPECTED_GAS_SHARES`: 6.7, 24.2,
    38.3, 24.2 and 6.7 %): mean T near 50, about 7% at +2, about 31% below 0.
    Flags (conventions,
    module constants): too easy when the mean T is above
    :data:`EASY_MEAN_T` (55) or more than :data:`EASY_TOP_SHARE` (20%) of goals
    end at +2; too hard when the mean T is below :data:`HARD_MEAN_T` (45) or
    more than :data:`HARD_BELOW_SHARE` (50%) end below 0; "mixed signs" when
    both fire. A flag starts a conversation about goal setting; it is not a
    judgement of the therapist's work.
    """
    as_of = as_of_date(as_of)
    min_group = whole_number(min_group, "min_group")
    kids = children_as_of(dataset, as_of)
    if attainment is None:
        attainment = G.goal_attainment(dataset, as_of=as_of.date())
    members = group_memberships(kids, groupings=(C.THERAPIST,))
    goals = attainment.goals
    rated = goals[goals[C.LATEST_LEVEL].notna()]
    levels = pd.DataFrame({C.CHILD_ID: rated[C.CHILD_ID].astype(object).to_numpy(),
                           C.LEVEL: rated[C.LATEST_LEVEL].astype(np.int64)})
    low = -3 if (dataset.gas_six_level or (levels[C.LEVEL] == -3).any()) else -2
    scale = list(range(low, 3))
    by_level = members.merge(levels, on=C.CHILD_ID)
    counts = (by_level.groupby([GROUP_BY, GROUP, C.LEVEL], observed=True).size()
              .unstack(C.LEVEL, fill_value=0).reindex(columns=scale, fill_value=0))
    latest = _latest_reviews(attainment)
    with_t = members.merge(latest[[C.CHILD_ID, C.T_SCORE]], on=C.CHILD_ID, how="left")
    summary = with_t.groupby([GROUP_BY, GROUP], observed=True, sort=False).agg(
        **{N_CHILDREN: (C.T_SCORE, "count"), MEAN_T: (C.T_SCORE, "mean")})
    counts = counts.reindex(summary.index, fill_value=0)
    total = counts.sum(axis=1)
    summary[N_GOALS_RATED] = total.astype(np.int64)
    share = counts.div(total.where(total > 0), axis=0)
    summary[SHARE_TOP] = share[2]
    summary[SHARE_BELOW] = share[[lv for lv in scale if lv < 0]].sum(axis=1, min_count=1)
    summary = summary.reset_index()
    summary[SUPPRESSED] = (summary[N_CHILDREN] < min_group).to_numpy()
    for column in (MEAN_T, SHARE_TOP, SHARE_BELOW):
        summary[column] = summary[column].astype(float).where(~summary[SUPPRESSED])
    flags = [(None, None) if hide or np.isnan(t) or np.isnan(top) else
             calibration_flag(t, top, below)
             for hide, t, top, below in zip(summary[SUPPRESSED], summary[MEAN_T],
                                            summary[SHARE_TOP], summary[SHARE_BELOW],
                                            strict=True)]
    summary[FLAG] = pd.Series([f for f, _ in flags], dtype=object)
    summary[FLAG_REASON] = pd.Series([r for _, r in flags], dtype=object)
    summary[SUPPRESSION] = pd.Series(np.where(summary[SUPPRESSED], suppression_note(min_group),
                                              None), dtype=object)
    summary = group_order(summary)[CALIBRATION_COLUMNS]

    shown = summary[~summary[SUPPRESSED] & (summary[N_GOALS_RATED] > 0)]
    wide = counts.loc[list(zip(shown[GROUP_BY], shown[GROUP], strict=True))] if len(
        shown) else counts.iloc[:0]
    long = wide.stack().rename(COUNT).reset_index()
    long = long.rename(columns={GROUP: C.THERAPIST})
    long[N] = long.groupby(C.THERAPIST, sort=False)[COUNT].transform("sum")
    long[SHARE] = long[COUNT] / long[N]
    long = long[CALIBRATION_LEVEL_COLUMNS].astype({C.LEVEL: np.int64, COUNT: np.int64,
                                                   N: np.int64})
    return Calibration(summary=summary.reset_index(drop=True), levels=long.reset_index(drop=True))
