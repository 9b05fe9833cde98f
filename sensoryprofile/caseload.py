"""Everything the caseload report shows, computed here so tests can reach it.

The clinic director's report (``notebooks/caseload_report.ipynb``) only lays
out what :class:`CaseloadReport` holds. The analyses are separate functions,
each returning a tidy table (one row per result, numbers unrounded):

* :func:`filter_dataset` - a dataset restricted to one site and/or therapist;
* :func:`caseload_counts` - active children, new referrals and discharges,
  by site, therapist and diagnosis;
* :func:`coverage` - who has no intake assessment, whose reassessment is
  overdue, which goals have no recent rating or are past their target date;
* :func:`sensory_series`, :func:`classification_distribution`,
  :func:`reliable_change_rates` - sensory classifications at intake and now,
  and how often change was reliable, per quadrant;
* :func:`goal_outcomes` - goal attainment per site, therapist and diagnosis,
  with a Wilcoxon signed-rank test, the rank-biserial correlation and
  bootstrap intervals (:func:`sensoryprofile.stats.paired_change`);
* :func:`goal_calibration` - how each therapist's final goal levels compare
  with the spread expected of well-set goals;
* :func:`data_quality` - the validation report counted by table and rule.

Decisions common to all of them:

* **As of a date.** Everything is judged on ``as_of``: children referred
  after it, and assessments, goals and ratings dated after it, are left out.
* **Active** means referred on or before ``as_of`` and not discharged by then
  (no ``discharge_date``, or one after ``as_of``). Counts and coverage lists
  are about active children; sensory and goal *outcomes* cover every child
  referred by ``as_of``, discharged or not (discharged children's outcomes are
  the most complete).
* **Groups.** A child belongs to its site, its therapist and each of its
  diagnoses (``diagnoses`` is ';'-separated: a child with two counts once in
  each), plus the whole caseload. A blank site, therapist or diagnosis is the
  group "not recorded".
* **Small groups.** A group with fewer than ``min_group`` children (default
  :data:`sensoryprofile.stats.MIN_GROUP`, 5) shows no statistics: the numbers
  are NaN, ``suppressed`` is True and ``suppression`` says "fewer than 5
  children". Counts of children and goals are still shown. This is for
  stability (a median of three children says little) and privacy.
* **Nothing identifying.** Children are listed by ``child_id`` only: no name,
  no date of birth, no free text (goal descriptions and rating notes).
* No Python loop runs per child: tables are built with merges and group-bys;
  the only loops are over groups (sites, therapists, diagnoses).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import html
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from sensoryprofile import change as CH
from sensoryprofile import columns as C
from sensoryprofile import goals as G
from sensoryprofile import stats
from sensoryprofile.child import QUADRANT_WORDS, load_dataset_cached, table_html
from sensoryprofile.dataset import TABLES, Dataset
from sensoryprofile.dates import to_date
from sensoryprofile.errors import UsageError
from sensoryprofile.instruments.model import DEFAULT_LABELS, LEVELS
from sensoryprofile.instruments.schema import QUADRANTS
from sensoryprofile.plots import (
    CI_HIGH,
    CI_LOW,
    COUNT,
    EXPECTED_GAS_SHARES,
    MEDIAN,
    SHARE,
    TIMEPOINT,
    N,
)
from sensoryprofile.tables import atomic_write

# ---------------------------------------------------------------------------
# settings (conventions: parameters of CaseloadReport.build)
# ---------------------------------------------------------------------------
#: Default reporting period: the 12 months up to and including its end.
DEFAULT_PERIOD_MONTHS = 12
#: A goal of an active child should be rated at least this often (months);
#: a convention (reviews every 3 months are usual), not a published rule.
RATING_INTERVAL_MONTHS = 3
#: Long lists (overdue children, goals past target) show this many rows in the
#: report; the full lists go to CSV files beside it.
LIST_LIMIT = 25

# Goal-setting calibration. Well-set goals end roughly 7/21/43/21/7 % across
# levels -2..+2 (Kiresuk 1994), so the mean follow-up T is near 50, about 7%
# of goals reach +2 and about 28% stay below 0. These thresholds flag a
# therapist's goals for a conversation, not a verdict: they are conventions.
#: Mean follow-up T above this suggests goals set too easily.
EASY_MEAN_T = 55.0
#: Share of goals ending at +2 above this (expected about 7%) suggests goals set
#: too easily.
EASY_TOP_SHARE = 0.20
#: Mean follow-up T below this suggests goals set too ambitiously.
HARD_MEAN_T = 45.0
#: Share of goals ending below 0 above this (expected about 28%) suggests goals
#: set too ambitiously.
HARD_BELOW_SHARE = 0.50

# flags of goal_calibration
TOO_EASY = "may be too easy"
TOO_HARD = "may be too hard"
MIXED = "mixed signs"
AS_EXPECTED = "as expected"
FLAG_WORDS = {TOO_EASY: "goals may be too easy", TOO_HARD: "goals may be too hard",
              MIXED: "mixed signs: worth a closer look", AS_EXPECTED: "as expected"}

# ---------------------------------------------------------------------------
# column names of the caseload tables (the chart columns come from plots.py)
# ---------------------------------------------------------------------------
GROUP_BY = "group_by"          # "site", "therapist", "diagnosis" or "all"
GROUP = "group"                # the site, therapist or diagnosis; "All children"
DIAGNOSIS = "diagnosis"        # one diagnosis (the children table holds a ';' list)
ALL = "all"                    # group_by of the whole-caseload row
ALL_CHILDREN = "All children"  # its group
NOT_RECORDED = "not recorded"  # group of a blank site, therapist or diagnosis
GROUPINGS = (C.SITE, C.THERAPIST, DIAGNOSIS)
GROUPING_WORDS = {C.SITE: "Site", C.THERAPIST: "Therapist", DIAGNOSIS: "Diagnosis",
                  ALL: "All children"}

ACTIVE = "active"
N_ACTIVE = "n_active"
N_REFERRED = "n_referred"
N_DISCHARGED = "n_discharged"
N_CHILDREN = "n_children"
SUPPRESSED = "suppressed"
SUPPRESSION = "suppression"    # "fewer than 5 children" where suppressed, else NA

# coverage
N_NO_INTAKE = "n_no_intake"
N_REASSESSMENT_OVERDUE = "n_reassessment_overdue"
N_GOALS_UNRATED = "n_goals_unrated"
N_GOALS_PAST_TARGET = "n_goals_past_target"
LAST_ASSESSMENT = "last_assessment_date"
DUE_DATE = "due_date"
DAYS_OVERDUE = "days_overdue"
DAYS_SINCE_REFERRAL = "days_since_referral"
LAST_RATING = "last_rating_date"
DAYS_WITHOUT_RATING = "days_without_rating"
DAYS_PAST_TARGET = "days_past_target"

# sensory outcomes
N_COMPARED = "n_compared"
N_WITH_RCI = "n_with_rci"
N_RELIABLE_IMPROVEMENT = "n_reliable_improvement"
SHARE_RELIABLE_IMPROVEMENT = "share_reliable_improvement"
N_RELIABLE_DETERIORATION = "n_reliable_deterioration"
SHARE_RELIABLE_DETERIORATION = "share_reliable_deterioration"
N_TOWARD_TYPICAL = "n_toward_typical"
SHARE_TOWARD_TYPICAL = "share_toward_typical"
N_ATYPICAL_AT_INTAKE = "n_atypical_at_intake"
N_NOW_TYPICAL = "n_now_typical"
SHARE_NOW_TYPICAL = "share_now_typical"
INTAKE, LATEST = "intake", "latest"

# goal outcomes (the statistics keep the names of stats.paired_change)
N_GOALS_RATED = "n_goals_rated"
MEDIAN_T = "median_t"
T_Q1 = "t_q1"
T_Q3 = "t_q3"
MEDIAN_BASELINE_T = "median_baseline_t"
MEDIAN_T_CHANGE = "median_t_change"
T_CHANGE_CI_LOW = "t_change_ci_low"
T_CHANGE_CI_HIGH = "t_change_ci_high"
WILCOXON_W = "wilcoxon_w"
P_VALUE = "p_value"
RANK_BISERIAL = "rank_biserial"
RANK_BISERIAL_LOW = "rank_biserial_low"
RANK_BISERIAL_HIGH = "rank_biserial_high"

# calibration
MEAN_T = "mean_t"
SHARE_TOP = "share_top"
SHARE_BELOW = "share_below"
FLAG = "flag"
FLAG_REASON = "flag_reason"

# data quality
TABLE = "table"
RULE = "rule"
ACTION = "action"

# ---------------------------------------------------------------------------
# column lists of the tidy tables
# ---------------------------------------------------------------------------
COUNTS_COLUMNS = [GROUP_BY, GROUP, N_ACTIVE, N_REFERRED, N_DISCHARGED]
COVERAGE_COLUMNS = [GROUP_BY, GROUP, N_ACTIVE, N_NO_INTAKE, N_REASSESSMENT_OVERDUE, C.N_GOALS,
                    N_GOALS_UNRATED, N_GOALS_PAST_TARGET]
LIST_COLUMNS = {
    "no_intake": [C.CHILD_ID, C.SITE, C.THERAPIST, C.REFERRAL_DATE, DAYS_SINCE_REFERRAL],
    "reassessment_overdue": [C.CHILD_ID, C.SITE, C.THERAPIST, LAST_ASSESSMENT, DUE_DATE,
                             DAYS_OVERDUE],
    "goals_unrated": [C.GOAL_ID, C.CHILD_ID, C.SITE, C.THERAPIST, C.DOMAIN, C.SET_DATE,
                      LAST_RATING, DAYS_WITHOUT_RATING],
    "goals_past_target": [C.GOAL_ID, C.CHILD_ID, C.SITE, C.THERAPIST, C.DOMAIN, C.TARGET_DATE,
                          C.LATEST_LEVEL, DAYS_PAST_TARGET],
}
CLASSIFICATION_COLUMNS = [C.SCORE, C.SCORE_NAME, TIMEPOINT, C.LEVEL, C.CLASSIFICATION, COUNT, N,
                          SHARE, SUPPRESSED, SUPPRESSION]
RELIABLE_COLUMNS = [C.SCORE, C.SCORE_NAME, N, N_COMPARED, N_WITH_RCI, N_RELIABLE_IMPROVEMENT,
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
QUALITY_COLUMNS = [TABLE, RULE, ACTION, COUNT]

#: Classification text of each level (the standard five labels; an
#: instrument's own labels may differ, so the caseload speaks in these).
LEVEL_LABELS = {LEVELS[key]: text for key, text in DEFAULT_LABELS.items()}


# ---------------------------------------------------------------------------
# arguments
# ---------------------------------------------------------------------------
def _timestamp(value, name: str) -> pd.Timestamp | None:
    """A date argument as a midnight Timestamp (None stays None)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        date = to_date(value)
    except (TypeError, ValueError):
        raise UsageError(f"`{name}` must be a date (YYYY-MM-DD), but {value!r} was "
                         "passed") from None
    return None if date is None else pd.Timestamp(date)


def _whole(value, name: str, *, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise UsageError(f"`{name}` must be a whole number of at least {minimum}, but "
                         f"{value!r} was passed")
    return int(value)


def _as_of(value) -> pd.Timestamp:
    stamp = _timestamp(value, "as_of")
    return stamp if stamp is not None else pd.Timestamp(dt.date.today())


def _filter_value(value, name: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise UsageError(f"`{name}` must be text (a {name} as the children table names it) "
                         f"or None for all, but {value!r} was passed")
    return value.strip() or None


def _fewer_than(min_group: int) -> str:
    return f"fewer than {min_group} children"


# ---------------------------------------------------------------------------
# filtering and groups
# ---------------------------------------------------------------------------
def _key(values: pd.Series) -> pd.Series:
    """Text as compared by the filters: stripped, case-folded; blank = NA."""
    text = values.astype("string").str.strip().str.casefold()
    return text.mask(text == "")


def filter_dataset(dataset: Dataset, *, site: str | None = None,
                   therapist: str | None = None) -> Dataset:
    """The dataset restricted to children of one site and/or therapist.

    Parameters
    ----------
    dataset : Dataset
        A loaded clinic dataset. Never modified.
    site, therapist : str, optional
        Keep children whose ``site`` / ``therapist`` equals this, ignoring
        case and surrounding spaces ("hillcrest" matches "Hillcrest"). None
        (or blank) keeps every value, including blank ones.

    Returns
    -------
    Dataset
        A copy holding only the matching children and their assessments,
        scores, goals and goal ratings (indexes renumbered from 0). The
        validation ``report``, instruments and settings are those of the whole
        dataset. No match gives empty tables, not an error.

    Raises
    ------
    UsageError
        ``site`` or ``therapist`` is not text.

    Examples
    --------
    >>> from sensoryprofile.dataset import load_dataset
    >>> d = load_dataset("data/sample")  # doctest: +SKIP
    >>> filter_dataset(d, site="Hillcrest").children["site"].unique().tolist()  # doctest: +SKIP
    ['Hillcrest']
    """
    site = _filter_value(site, "site")
    therapist = _filter_value(therapist, "therapist")
    children = dataset.children
    keep = pd.Series(True, index=children.index)
    for column, wanted in ((C.SITE, site), (C.THERAPIST, therapist)):
        if wanted is not None:
            keep &= (_key(children[column]) == wanted.casefold()).fillna(False).astype(bool)
    kept = children[keep]
    ids = kept[C.CHILD_ID]
    goals = dataset.goals[dataset.goals[C.CHILD_ID].isin(ids)]
    ratings = dataset.goal_ratings[dataset.goal_ratings[C.GOAL_ID].isin(goals[C.GOAL_ID])]
    return dataclasses.replace(
        dataset,
        children=kept.reset_index(drop=True),
        assessments=dataset.assessments[dataset.assessments[C.CHILD_ID].isin(ids)
                                        ].reset_index(drop=True),
        scores=dataset.scores[dataset.scores[C.CHILD_ID].isin(ids)].reset_index(drop=True),
        goals=goals.reset_index(drop=True),
        goal_ratings=ratings.reset_index(drop=True),
    )


def _label(values: pd.Series) -> pd.Series:
    """Group names: the text stripped; blank is "not recorded"."""
    text = values.astype("string").str.strip()
    return text.mask(text == "").fillna(NOT_RECORDED).astype(object)


def _children(dataset, as_of: pd.Timestamp) -> pd.DataFrame:
    """Children referred on or before ``as_of``: id, site, therapist,
    diagnoses, referral and discharge dates, and whether active on ``as_of``."""
    kids = dataset.children
    kids = kids[kids[C.REFERRAL_DATE] <= as_of]
    out = pd.DataFrame({
        C.CHILD_ID: kids[C.CHILD_ID].astype(object).to_numpy(),
        C.SITE: _label(kids[C.SITE]).to_numpy(),
        C.THERAPIST: _label(kids[C.THERAPIST]).to_numpy(),
        C.DIAGNOSES: kids[C.DIAGNOSES].astype(object).to_numpy(),
        C.REFERRAL_DATE: kids[C.REFERRAL_DATE].to_numpy(),
        C.DISCHARGE_DATE: kids[C.DISCHARGE_DATE].to_numpy(),
    })
    out[ACTIVE] = (out[C.DISCHARGE_DATE].isna() | (out[C.DISCHARGE_DATE] > as_of)).astype(bool)
    return out


def group_memberships(children: pd.DataFrame, *, groupings=GROUPINGS) -> pd.DataFrame:
    """Which groups each child belongs to: one row per child per group.

    Parameters
    ----------
    children : DataFrame with ``child_id`` and the columns ``site``,
        ``therapist`` and ``diagnoses`` (as needed by ``groupings``).
    groupings : any of "site", "therapist", "diagnosis"; the whole caseload
        (``group_by`` "all", group "All children") is always added.

    Returns
    -------
    DataFrame
        ``child_id``, ``group_by`` (categorical in the order of ``groupings``,
        then "all"), ``group``. Diagnoses are split on ';': a child with two
        belongs to both; a blank site, therapist or diagnosis is
        "not recorded".
    """
    parts = []
    ids = children[C.CHILD_ID].astype(object)
    for grouping in groupings:
        if grouping == DIAGNOSIS:
            lists = children[C.DIAGNOSES].astype("string").fillna("").str.split(";")
            exploded = pd.DataFrame({C.CHILD_ID: ids.to_numpy(), GROUP: lists.to_numpy()}
                                    ).explode(GROUP)
            exploded[GROUP] = _label(exploded[GROUP].astype("string")).to_numpy()
            exploded = exploded.drop_duplicates([C.CHILD_ID, GROUP])
            parts.append(exploded.assign(**{GROUP_BY: DIAGNOSIS}))
        elif grouping in (C.SITE, C.THERAPIST):
            parts.append(pd.DataFrame({C.CHILD_ID: ids.to_numpy(), GROUP_BY: grouping,
                                       GROUP: _label(children[grouping])}))
        else:
            raise UsageError(f"`groupings` must hold values from {list(GROUPINGS)}, but "
                             f"{grouping!r} was passed")
    parts.append(pd.DataFrame({C.CHILD_ID: ids.to_numpy(), GROUP_BY: ALL,
                               GROUP: ALL_CHILDREN}))
    out = pd.concat(parts, ignore_index=True)[[C.CHILD_ID, GROUP_BY, GROUP]]
    out[GROUP_BY] = pd.Categorical(out[GROUP_BY], categories=[*groupings, ALL])
    out[GROUP] = out[GROUP].astype(object)
    return out


def _group_order(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows in report order: by grouping, then the groups alphabetically
    (ignoring case) with "not recorded" last."""
    key = pd.DataFrame({
        "g": frame[GROUP_BY].cat.codes.to_numpy(),
        "nr": (frame[GROUP] == NOT_RECORDED).to_numpy(),
        "name": frame[GROUP].astype(str).str.casefold().to_numpy(),
    })
    order = key.sort_values(["g", "nr", "name"], kind="stable").index
    return frame.iloc[order].reset_index(drop=True)


def _group_sums(members: pd.DataFrame, per_child: pd.DataFrame, columns: list[str]
                ) -> pd.DataFrame:
    """Sum per-child numbers over every group (all groups kept, zeros included)."""
    table = members.merge(per_child[[C.CHILD_ID, *columns]], on=C.CHILD_ID, how="left")
    sums = table.groupby([GROUP_BY, GROUP], observed=True, sort=False)[columns].sum()
    return _group_order(sums.reset_index())


# ---------------------------------------------------------------------------
# caseload size
# ---------------------------------------------------------------------------
def _period(as_of, period_start, period_end) -> tuple[pd.Timestamp, pd.Timestamp]:
    end = _timestamp(period_end, "period_end")
    end = as_of if end is None else end
    start = _timestamp(period_start, "period_start")
    if start is None:
        start = end - pd.DateOffset(months=DEFAULT_PERIOD_MONTHS) + pd.Timedelta(days=1)
    if start > end:
        raise UsageError(f"`period_start` ({start.date()}) must be on or before `period_end` "
                         f"({end.date()})")
    if end > as_of:
        raise UsageError(f"`period_end` ({end.date()}) is after `as_of` ({as_of.date()}): the "
                         "report describes the data as they stood on as_of; pass an as_of on "
                         "or after the end of the period (or leave as_of out: it then "
                         "defaults to period_end)")
    return start, end


def caseload_counts(dataset, *, as_of=None, period_start=None, period_end=None
                    ) -> pd.DataFrame:
    """Active children, new referrals and discharges per site, therapist and
    diagnosis, and for the whole caseload.

    Parameters
    ----------
    dataset : Dataset (or anything with a ``children`` table).
    as_of : date, default today
        Active means referred on or before ``as_of`` and not discharged by
        then (no ``discharge_date``, or one after ``as_of``).
    period_start, period_end : date, optional
        The period (both ends included) in which referrals and discharges are
        counted. Default: the 12 months up to ``period_end``; ``period_end``
        defaults to ``as_of`` and may not be after it.

    Returns
    -------
    DataFrame
        One row per group, columns :data:`COUNTS_COLUMNS`: ``group_by``
        ("site", "therapist", "diagnosis", "all"), ``group``, ``n_active``,
        ``n_referred`` (referral_date in the period), ``n_discharged``
        (discharge_date in the period). A child with two diagnoses counts once
        under each, so diagnosis rows may add up to more than the whole.
        Every group of a child referred by ``as_of`` has a row, even at 0.

    Raises
    ------
    UsageError
        A date is not a date, or the period is reversed or ends after as_of.
    """
    as_of = _as_of(as_of)
    start, end = _period(as_of, period_start, period_end)
    kids = _children(dataset, as_of)
    flags = pd.DataFrame({
        C.CHILD_ID: kids[C.CHILD_ID],
        N_ACTIVE: kids[ACTIVE].astype(np.int64),
        N_REFERRED: kids[C.REFERRAL_DATE].between(start, end).astype(np.int64),
        N_DISCHARGED: kids[C.DISCHARGE_DATE].between(start, end).fillna(False)
        .astype(np.int64),
    })
    out = _group_sums(group_memberships(kids), flags, [N_ACTIVE, N_REFERRED, N_DISCHARGED])
    return out[COUNTS_COLUMNS].astype({c: np.int64 for c in COUNTS_COLUMNS[2:]})


# ---------------------------------------------------------------------------
# coverage
# ---------------------------------------------------------------------------
@dataclass
class Coverage:
    """Result of :func:`coverage`.

    Attributes
    ----------
    summary : DataFrame, columns :data:`COVERAGE_COLUMNS`, one row per site,
        therapist and the whole caseload (active children only).
    lists : dict of DataFrames keyed "no_intake", "reassessment_overdue",
        "goals_unrated", "goals_past_target" (columns :data:`LIST_COLUMNS`),
        most urgent first. Children by ID only.
    """

    summary: pd.DataFrame
    lists: dict[str, pd.DataFrame]


def _lookup(keys: pd.Series, values: pd.Series) -> pd.Series:
    """``values`` looked up by ``keys`` (NaN/NaT where absent), on ``keys``' index.
    (Series.map with an empty datetime mapper fails in pandas.)"""
    return pd.Series(values.reindex(keys.to_numpy()).to_numpy(), index=keys.index)


def _days(as_of: pd.Timestamp, earlier: pd.Series) -> np.ndarray:
    """Whole days from each date in ``earlier`` to ``as_of``."""
    return (as_of - earlier).dt.days.astype("Int64").to_numpy()


def coverage(dataset, *, as_of=None, reassessment_interval_months: int | None = None,
             rating_interval_months: int = RATING_INTERVAL_MONTHS,
             attainment: G.GoalAttainment | None = None) -> Coverage:
    """Gaps in the active caseload's assessments and goal reviews.

    Parameters
    ----------
    dataset : Dataset
    as_of : date, default today
    reassessment_interval_months : int, optional
        How often a child should be reassessed; default the dataset's
        ``reassessment_interval_months`` setting (6 unless the dataset says).
    rating_interval_months : int, default 3
        How often each goal should be rated (:data:`RATING_INTERVAL_MONTHS`).
    attainment : GoalAttainment, optional
        ``goal_attainment(dataset, as_of=as_of)`` if already computed.

    Returns
    -------
    Coverage
        ``.summary`` counts per site and therapist and for all active
        children: ``n_active``, ``n_no_intake``, ``n_reassessment_overdue``,
        ``n_goals`` (goals of active children set by as_of),
        ``n_goals_unrated``, ``n_goals_past_target``; ``.lists`` the rows
        behind the counts (see below).

    Notes
    -----
    All four are about *active* children (see :func:`caseload_counts`):

    - ``no_intake``: no assessment dated on or before ``as_of``; with
      ``days_since_referral``. Longest waiting first.
    - ``reassessment_overdue``: the latest assessment (any instrument or
      respondent) is more than the interval old: ``due_date`` = latest +
      interval months, overdue when ``due_date`` is before ``as_of``; with
      ``days_overdue``. Most overdue first.
    - ``goals_unrated``: a goal set on or before ``as_of`` minus the rating
      interval (younger goals are not yet due a rating) with no rating in the
      interval (after ``as_of`` minus the interval, up to ``as_of``);
      ``last_rating_date`` is NaT when never rated and
      ``days_without_rating`` counts from the last rating, else from the set
      date. Longest without a rating first.
    - ``goals_past_target``: ``overdue`` in :func:`sensoryprofile.goals.goal_attainment`:
      the target date is before ``as_of`` and no rating by then reached level
      0; with the latest level and ``days_past_target``.
    """
    as_of = _as_of(as_of)
    interval = (dataset.reassessment_interval_months if reassessment_interval_months is None
                else reassessment_interval_months)
    interval = _whole(interval, "reassessment_interval_months")
    rating_interval = _whole(rating_interval_months, "rating_interval_months")
    kids = _children(dataset, as_of)
    active = kids[kids[ACTIVE]].reset_index(drop=True)

    # assessments
    assessed = dataset.assessments[dataset.assessments[C.DATE] <= as_of]
    last = assessed.groupby(C.CHILD_ID, sort=False)[C.DATE].max()
    active[LAST_ASSESSMENT] = _lookup(active[C.CHILD_ID], last).astype("datetime64[ns]")
    due = active[LAST_ASSESSMENT] + pd.DateOffset(months=interval)
    active[DUE_DATE] = due.astype("datetime64[ns]")
    no_intake = active[active[LAST_ASSESSMENT].isna()].assign(**{
        DAYS_SINCE_REFERRAL: lambda f: _days(as_of, f[C.REFERRAL_DATE])})
    overdue = active[active[DUE_DATE].notna() & (active[DUE_DATE] < as_of)].assign(**{
        DAYS_OVERDUE: lambda f: _days(as_of, f[DUE_DATE])})

    # goals of active children
    if attainment is None:
        attainment = G.goal_attainment(dataset, as_of=as_of.date())
    goals = attainment.goals.merge(active[[C.CHILD_ID, C.SITE, C.THERAPIST]], on=C.CHILD_ID,
                                   how="inner")
    ratings = dataset.goal_ratings[dataset.goal_ratings[C.DATE] <= as_of]
    last_rating = ratings.groupby(C.GOAL_ID, sort=False)[C.DATE].max()
    goals[LAST_RATING] = _lookup(goals[C.GOAL_ID], last_rating).astype("datetime64[ns]")
    window = as_of - pd.DateOffset(months=rating_interval)
    unrated = goals[(goals[C.SET_DATE] <= window)
                    & (goals[LAST_RATING].isna() | (goals[LAST_RATING] <= window))]
    unrated = unrated.assign(**{DAYS_WITHOUT_RATING: lambda f: _days(
        as_of, f[LAST_RATING].fillna(f[C.SET_DATE]))})
    past = goals[goals[C.OVERDUE]].assign(**{
        DAYS_PAST_TARGET: lambda f: _days(as_of, f[C.TARGET_DATE])})

    def listed(frame, name, by, ids):
        frame = frame.sort_values([by, *ids], ascending=[False] + [True] * len(ids),
                                  kind="stable")
        return frame[LIST_COLUMNS[name]].reset_index(drop=True)

    lists = {
        "no_intake": listed(no_intake, "no_intake", DAYS_SINCE_REFERRAL, [C.CHILD_ID]),
        "reassessment_overdue": listed(overdue, "reassessment_overdue", DAYS_OVERDUE,
                                       [C.CHILD_ID]),
        "goals_unrated": listed(unrated, "goals_unrated", DAYS_WITHOUT_RATING,
                                [C.CHILD_ID, C.GOAL_ID]),
        "goals_past_target": listed(past, "goals_past_target", DAYS_PAST_TARGET,
                                    [C.CHILD_ID, C.GOAL_ID]),
    }

    per_child = pd.DataFrame({C.CHILD_ID: active[C.CHILD_ID], N_ACTIVE: 1})
    for column, frame in ((N_NO_INTAKE, no_intake), (N_REASSESSMENT_OVERDUE, overdue),
                          (C.N_GOALS, goals), (N_GOALS_UNRATED, unrated),
                          (N_GOALS_PAST_TARGET, past)):
        counts = frame.groupby(C.CHILD_ID, sort=False).size()
        per_child[column] = _lookup(per_child[C.CHILD_ID], counts).fillna(0).astype(np.int64)
    members = group_memberships(active, groupings=(C.SITE, C.THERAPIST))
    summary = _group_sums(members, per_child, COVERAGE_COLUMNS[2:])
    summary = summary[COVERAGE_COLUMNS].astype({c: np.int64 for c in COVERAGE_COLUMNS[2:]})
    return Coverage(summary=summary, lists=lists)


# ---------------------------------------------------------------------------
# sensory outcomes
# ---------------------------------------------------------------------------
def sensory_series(dataset, *, as_of=None) -> pd.DataFrame:
    """Intake-to-latest change of each child's four quadrant scores, one
    series per child.

    Parameters
    ----------
    dataset : Dataset
    as_of : date, default today
        Assessments dated after it are ignored.

    Returns
    -------
    DataFrame
        The ``"intake_to_latest"`` quadrant rows of
        :func:`sensoryprofile.change.score_changes` (columns
        :data:`sensoryprofile.change.CHANGE_COLUMNS`): children with at least
        two assessments on the same instrument by the same respondent type.

    Notes
    -----
    A child with several such series (a teacher's form beside the
    caregiver's, or a toddler form before the child form) counts once: the
    series answered by the instrument's own respondent (usually the
    caregiver) is preferred, then the one with the latest assessment, then
    the instrument id in alphabetical order. This is the series the child's
    own report shows.
    """
    as_of = _as_of(as_of)
    kids = _children(dataset, as_of)
    scores = dataset.scores
    scores = scores[(scores[C.DATE] <= as_of) & scores[C.CHILD_ID].isin(kids[C.CHILD_ID])]
    changes = CH.score_changes(scores, dataset.instruments)
    rows = changes[(changes[C.COMPARISON] == CH.INTAKE_TO_LATEST)
                   & changes[C.SCORE].astype(object).isin(QUADRANTS)]
    own = {key: inst.respondent for key, inst in dataset.instruments.items()}
    series = pd.DataFrame({
        C.CHILD_ID: rows[C.CHILD_ID].astype(object).to_numpy(),
        C.INSTRUMENT: rows[C.INSTRUMENT].astype(object).to_numpy(),
        C.RESPONDENT: rows[C.RESPONDENT].astype(object).to_numpy(),
        C.TO_DATE: rows[C.TO_DATE].to_numpy(),
    })
    series["own"] = (series[C.RESPONDENT] == series[C.INSTRUMENT].map(own)).to_numpy()
    best = (series.sort_values([C.CHILD_ID, "own", C.TO_DATE, C.INSTRUMENT, C.RESPONDENT],
                               ascending=[True, False, False, True, True], kind="stable")
            .drop_duplicates(C.CHILD_ID))
    chosen = pd.MultiIndex.from_frame(best[[C.CHILD_ID, C.INSTRUMENT, C.RESPONDENT]])
    keep = pd.MultiIndex.from_frame(series[[C.CHILD_ID, C.INSTRUMENT, C.RESPONDENT]]
                                    ).isin(chosen)
    return rows[keep].reset_index(drop=True)


def _quadrant_frame() -> pd.DataFrame:
    return pd.DataFrame({C.SCORE: list(QUADRANTS),
                         C.SCORE_NAME: [QUADRANT_WORDS.get(q, q) for q in QUADRANTS]})


def classification_distribution(series: pd.DataFrame, *, min_group: int = stats.MIN_GROUP
                                ) -> pd.DataFrame:
    """Share of children in each classification at intake and at the latest
    assessment, per quadrant (for :func:`sensoryprofile.plots.plot_classification_shift`).

    Parameters
    ----------
    series : DataFrame from :func:`sensory_series`.
    min_group : int, default 5
        A quadrant with fewer children shows no shares.

    Returns
    -------
    DataFrame
        One row per quadrant x timepoint x classification, columns
        :data:`CLASSIFICATION_COLUMNS`: ``score`` (quadrant id),
        ``score_name`` (plain words), ``timepoint`` ("intake" or "latest"),
        ``level`` (-2..2; NA = not classified), ``classification`` (the
        standard label of the level; NA = not classified), ``count``
        (children), ``n`` (children in the quadrant), ``share`` (count / n;
        NaN when suppressed), ``suppressed``, ``suppression``. The five
        classifications always have a row (count 0 included); "not
        classified" (invalid score, no norms at that age) only when it occurs.
        Quadrants in Dunn's order: seeking, avoiding, sensitivity,
        registration; quadrants with no child are left out.
    """
    min_group = _whole(min_group, "min_group")
    score = series[C.SCORE].astype(object).to_numpy()
    parts = []
    for point, column in ((INTAKE, C.FROM_LEVEL), (LATEST, C.TO_LEVEL)):
        level = pd.to_numeric(series[column].astype("Float64"), errors="coerce")
        parts.append(pd.DataFrame({C.SCORE: score, TIMEPOINT: point,
                                   "code": level.fillna(9).astype(int)}))
    long = pd.concat(parts, ignore_index=True)
    counts = long.groupby([C.SCORE, TIMEPOINT, "code"]).size().rename(COUNT)
    n = pd.Series(score).value_counts().rename(N)
    present = [q for q in QUADRANTS if q in n.index]
    grid = pd.MultiIndex.from_product([present, [INTAKE, LATEST], [-2, -1, 0, 1, 2, 9]],
                                      names=[C.SCORE, TIMEPOINT, "code"])
    out = counts.reindex(grid, fill_value=0).reset_index()
    out = out[(out["code"] != 9) | (out[COUNT] > 0)]
    out = _quadrant_frame().merge(out, on=C.SCORE).merge(n.rename_axis(C.SCORE).reset_index(),
                                                         on=C.SCORE)
    out[C.LEVEL] = pd.array(out["code"].where(out["code"] != 9), dtype="Int64")
    out[C.CLASSIFICATION] = out["code"].map(LEVEL_LABELS).astype(object)
    out[SUPPRESSED] = (out[N] < min_group).to_numpy()
    out[SHARE] = (out[COUNT] / out[N]).where(~out[SUPPRESSED])
    out[SUPPRESSION] = pd.Series(np.where(out[SUPPRESSED], _fewer_than(min_group), None),
                                 dtype=object)
    return out[CLASSIFICATION_COLUMNS].astype({COUNT: np.int64, N: np.int64}
                                              ).reset_index(drop=True)


def reliable_change_rates(series: pd.DataFrame, *, min_group: int = stats.MIN_GROUP
                          ) -> pd.DataFrame:
    """How often each quadrant changed reliably, and toward the typical band.

    Parameters
    ----------
    series : DataFrame from :func:`sensory_series`.
    min_group : int, default 5
        A quadrant with fewer children compared shows no shares.

    Returns
    -------
    DataFrame
        One row per quadrant (Dunn's order), columns :data:`RELIABLE_COLUMNS`:

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
    Direction follows :mod:`sensoryprofile.change`: improvement is movement
    toward the typical band, since both tails are atypical. A reliable change
    from one atypical tail to the other ("crossed the typical band") is
    neither improvement nor deterioration.
    """
    min_group = _whole(min_group, "min_group")
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
        C.SCORE: series[C.SCORE].astype(object).to_numpy(), N: 1, N_COMPARED: compared,
        N_WITH_RCI: has_rci, N_RELIABLE_IMPROVEMENT: is_reliable & toward,
        N_RELIABLE_DETERIORATION: is_reliable & away, N_TOWARD_TYPICAL: compared & toward,
        N_ATYPICAL_AT_INTAKE: atypical, N_NOW_TYPICAL: now_typical,
    })
    sums = flags.groupby(C.SCORE).sum().astype(np.int64)
    out = _quadrant_frame().merge(sums.reset_index(), on=C.SCORE)
    out[SUPPRESSED] = (out[N_COMPARED] < min_group).to_numpy()
    for share, count, base in (
            (SHARE_RELIABLE_IMPROVEMENT, N_RELIABLE_IMPROVEMENT, N_WITH_RCI),
            (SHARE_RELIABLE_DETERIORATION, N_RELIABLE_DETERIORATION, N_WITH_RCI),
            (SHARE_TOWARD_TYPICAL, N_TOWARD_TYPICAL, N_COMPARED),
            (SHARE_NOW_TYPICAL, N_NOW_TYPICAL, N_ATYPICAL_AT_INTAKE)):
        with np.errstate(invalid="ignore", divide="ignore"):
            value = out[count].to_numpy(dtype=float) / out[base].to_numpy(dtype=float)
        out[share] = np.where(out[SUPPRESSED] | (out[base] == 0), np.nan, value)
    out[SUPPRESSION] = pd.Series(np.where(out[SUPPRESSED], _fewer_than(min_group), None),
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
                          C.N_MET: (latest >= G.MET_LEVEL).fillna(False).to_numpy(dtype=bool)})
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
    n_boot, seed : bootstrap resamples and seed (:mod:`sensoryprofile.stats`).
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
          (:func:`sensoryprofile.stats.median_interval`);
        - ``wilcoxon_w``, ``p_value``: Wilcoxon signed-rank test of baseline
          vs follow-up T; ``rank_biserial`` (matched pairs) with its bootstrap
          interval ``rank_biserial_low`` / ``rank_biserial_high``
          (:func:`sensoryprofile.stats.paired_change`);
        - ``suppressed``, ``suppression``: fewer than ``min_group`` children:
          every statistic (share_met included) is NaN; counts stay.

    Notes
    -----
    GAS is ordinal (Tennant 2007): medians, proportions of goals met and rank
    tests lead. Baseline and follow-up T score the same goals with the same
    weights (:func:`sensoryprofile.goals.goal_attainment`), so the change is
    not confounded by a change of goal set. Discharged children are
    included. Loops run over groups only (each calls the bootstrap).
    """
    as_of = _as_of(as_of)
    min_group = _whole(min_group, "min_group")
    kids = _children(dataset, as_of)
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
    out[SUPPRESSION] = pd.Series(np.where(out[SUPPRESSED], _fewer_than(min_group), None),
                                 dtype=object)
    return _group_order(out)[OUTCOME_COLUMNS]


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
    7/21/43/21/7 % expected of well-scaled goals.

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
    Well-set goals end roughly 7/21/43/21/7 % across -2..+2 (Kiresuk 1994):
    mean T near 50, about 7% at +2, about 28% below 0. Flags (conventions,
    module constants): too easy when the mean T is above
    :data:`EASY_MEAN_T` (55) or more than :data:`EASY_TOP_SHARE` (20%) of goals
    end at +2; too hard when the mean T is below :data:`HARD_MEAN_T` (45) or
    more than :data:`HARD_BELOW_SHARE` (50%) end below 0; "mixed signs" when
    both fire. A flag starts a conversation about goal setting; it is not a
    judgement of the therapist's work.
    """
    as_of = _as_of(as_of)
    min_group = _whole(min_group, "min_group")
    kids = _children(dataset, as_of)
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
    summary[SUPPRESSION] = pd.Series(np.where(summary[SUPPRESSED], _fewer_than(min_group),
                                              None), dtype=object)
    summary = _group_order(summary)[CALIBRATION_COLUMNS]

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


# ---------------------------------------------------------------------------
# data quality
# ---------------------------------------------------------------------------
def data_quality(report) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The validation report counted by table and rule, and its accounting.

    Parameters
    ----------
    report : ValidationReport (``Dataset.report``).

    Returns
    -------
    (problems, accounting)
        ``problems``: one row per table x rule x action, columns
        :data:`QUALITY_COLUMNS` (``count`` = problems), tables in dataset
        order, then most frequent first. No value, row number or child ID
        appears. ``accounting``: rows read, accepted and rejected per table
        (:meth:`ValidationReport.accounting_frame`).
    """
    problems = report.to_frame()
    problems = problems.assign(**{TABLE: problems["table"].fillna("(whole dataset)")})
    counts = (problems.groupby([TABLE, RULE, ACTION], sort=False).size().rename(COUNT)
              .reset_index())
    order = {t: k for k, t in enumerate(TABLES)}
    counts["_t"] = counts[TABLE].map(order).fillna(len(order))
    counts = counts.sort_values(["_t", COUNT, RULE], ascending=[True, False, True],
                                kind="stable")
    return (counts[QUALITY_COLUMNS].astype({COUNT: np.int64}).reset_index(drop=True),
            report.accounting_frame())


# ---------------------------------------------------------------------------
# presentation helpers (rounding happens only here)
# ---------------------------------------------------------------------------
def _pct(value) -> str:
    return "" if pd.isna(value) else f"{value:.0%}"


def _num(value, digits: int = 1, signed: bool = False) -> str:
    if pd.isna(value):
        return ""
    return f"{value:+.{digits}f}" if signed else f"{value:.{digits}f}"


def _p(value) -> str:
    if pd.isna(value):
        return ""
    return "< 0.001" if value < 0.001 else f"{value:.3f}"


def _range(low, high, digits: int = 1, signed: bool = False) -> str:
    if pd.isna(low) or pd.isna(high):
        return ""
    return f"{_num(low, digits, signed)} to {_num(high, digits, signed)}"


def _date(value) -> str:
    return "" if pd.isna(value) else pd.Timestamp(value).date().isoformat()


def _long_date(value) -> str:
    value = pd.Timestamp(value)
    return f"{value.day} {value.strftime('%B %Y')}"


def _group_text(by, group) -> str:
    return ALL_CHILDREN if by == ALL else f"{GROUPING_WORDS[by]}: {group}"


def _level_text(level) -> str:
    return "" if pd.isna(level) else f"{int(level):+d}".replace("+0", "0")


#: Display headers of the lists.
LIST_HEADERS = {C.CHILD_ID: "Child ID", C.GOAL_ID: "Goal ID", C.SITE: "Site",
                C.THERAPIST: "Therapist", C.DOMAIN: "Goal area",
                C.REFERRAL_DATE: "Referred", DAYS_SINCE_REFERRAL: "Days since referral",
                LAST_ASSESSMENT: "Last assessed", DUE_DATE: "Reassessment was due",
                DAYS_OVERDUE: "Days overdue", C.SET_DATE: "Goal set",
                LAST_RATING: "Last rated", DAYS_WITHOUT_RATING: "Days without a rating",
                C.TARGET_DATE: "Target date", C.LATEST_LEVEL: "Latest level",
                DAYS_PAST_TARGET: "Days past target"}
#: File names of the CSV lists and tables written by :meth:`CaseloadReport.write_lists`.
LIST_FILES = {"no_intake": "children_without_intake.csv",
              "reassessment_overdue": "reassessments_overdue.csv",
              "goals_unrated": "goals_without_recent_rating.csv",
              "goals_past_target": "goals_past_target.csv"}
TABLE_FILES = {"counts": "caseload_counts.csv", "coverage": "coverage.csv",
               "classification": "sensory_classification.csv",
               "reliable_change": "sensory_reliable_change.csv",
               "goal_outcomes": "goal_outcomes.csv", "calibration": "goal_calibration.csv",
               "calibration_levels": "goal_calibration_levels.csv",
               "quality": "data_quality.csv", "accounting": "data_accounting.csv"}
LIST_TITLES = {"no_intake": "Active children with no intake assessment",
               "reassessment_overdue": "Reassessments overdue",
               "goals_unrated": "Goals with no recent rating",
               "goals_past_target": "Goals past their target date and not met"}


def _display_list(frame: pd.DataFrame) -> pd.DataFrame:
    out = pd.DataFrame(index=frame.index)
    for column in frame.columns:
        values = frame[column]
        if pd.api.types.is_datetime64_any_dtype(values):
            out[LIST_HEADERS[column]] = [_date(v) for v in values]
        elif column == C.LATEST_LEVEL:
            out[LIST_HEADERS[column]] = [_level_text(v) for v in values]
        else:
            out[LIST_HEADERS[column]] = values.astype(object).where(values.notna(), "")
    return out.reset_index(drop=True)


# ---------------------------------------------------------------------------
# the report
# ---------------------------------------------------------------------------
@dataclass
class CaseloadReport:
    """The content of the clinic director's caseload report. Build with
    :meth:`build`; the notebook only lays it out.

    Tidy tables (numbers unrounded; see the analysis functions for their
    columns): ``counts``, ``coverage_summary``, ``lists`` (full lists by
    name), ``series``, ``classification``, ``reliable_change``,
    ``goal_outcomes``, ``calibration``, ``calibration_levels``, ``quality``,
    ``accounting``. Ready-to-print tables (plain-language headers, rounded):
    ``header``, ``caseload_table``, ``coverage_table``,
    ``classification_table``, ``reliable_change_table``, ``outcome_tables``
    (by grouping), ``calibration_table``, ``quality_table``,
    ``accounting_table``. Chart frames: ``counts_by_site``,
    ``counts_by_therapist``, ``classification_chart``, ``tchange_charts`` (by
    grouping), ``calibration_levels``. ``message`` is set when no child
    matches the filters.
    """

    as_of: dt.date
    period_start: dt.date
    period_end: dt.date
    site: str | None
    therapist: str | None
    min_group: int
    reassessment_interval_months: int
    rating_interval_months: int
    list_limit: int
    n_children: int
    message: str | None
    demonstration_note: str | None
    header: pd.DataFrame
    counts: pd.DataFrame
    coverage_summary: pd.DataFrame
    lists: dict[str, pd.DataFrame]
    series: pd.DataFrame
    classification: pd.DataFrame
    reliable_change: pd.DataFrame
    goal_outcomes: pd.DataFrame
    calibration: pd.DataFrame
    calibration_levels: pd.DataFrame
    quality: pd.DataFrame
    accounting: pd.DataFrame
    written: dict[str, Path] = field(default_factory=dict)

    # ------------------------------------------------------------------ build
    @classmethod
    def build(cls, dataset: Dataset | str | Path, *, as_of=None, period_start=None,
              period_end=None, site: str | None = None, therapist: str | None = None,
              min_group: int = stats.MIN_GROUP, reassessment_interval_months: int | None = None,
              rating_interval_months: int = RATING_INTERVAL_MONTHS,
              list_limit: int = LIST_LIMIT, n_boot: int = stats.DEFAULT_BOOT,
              seed: int = stats.DEFAULT_SEED) -> CaseloadReport:
        """Assemble the caseload report.

        Parameters
        ----------
        dataset : Dataset, or the path of a dataset folder or workbook
            (loaded once per kernel while the files are unchanged).
        as_of : date, optional
            The day the report describes; default ``period_end`` if given,
            else today.
        period_start, period_end : date, optional
            Referrals and discharges are counted in this period (both ends
            included); default the 12 months up to as_of.
        site, therapist : str, optional
            Only children of this site / therapist (:func:`filter_dataset`).
        min_group : int, default 5
            Smallest group whose statistics are shown.
        reassessment_interval_months : int, optional
            Default the dataset's setting.
        rating_interval_months : int, default 3
        list_limit : int, default 25
            Rows of each long list shown in the report (the CSVs hold all).
        n_boot, seed : bootstrap settings (:mod:`sensoryprofile.stats`).

        Returns
        -------
        CaseloadReport
            A filter that matches nobody gives a report whose ``message``
            says so and whose tables are empty; it is not an error.
        """
        if not isinstance(dataset, Dataset):
            dataset = load_dataset_cached(dataset)
        stamp = _timestamp(as_of, "as_of")
        if stamp is None:
            stamp = _timestamp(period_end, "period_end")
        as_of_ts = _as_of(stamp)
        start, end = _period(as_of_ts, period_start, period_end)
        min_group = _whole(min_group, "min_group")
        list_limit = _whole(list_limit, "list_limit")
        interval = _whole(dataset.reassessment_interval_months
                          if reassessment_interval_months is None
                          else reassessment_interval_months, "reassessment_interval_months")
        rating_interval = _whole(rating_interval_months, "rating_interval_months")
        site, therapist = _filter_value(site, "site"), _filter_value(therapist, "therapist")
        subset = filter_dataset(dataset, site=site, therapist=therapist)
        n_children = int((subset.children[C.REFERRAL_DATE] <= as_of_ts).sum())

        message = None
        if (site is not None or therapist is not None) and len(subset.children) == 0:
            message = (f"No children match these filters (site={site!r}, "
                       f"therapist={therapist!r}).")
            known = _known_values(dataset, site, therapist)
            if known:
                message += " " + known
        if message is None and n_children == 0:
            message = (f"No children were referred on or before {as_of_ts.date()}"
                       + (" with these filters" if site or therapist else "") + ".")

        attainment = G.goal_attainment(subset, as_of=as_of_ts.date())
        cov = coverage(subset, as_of=as_of_ts, reassessment_interval_months=interval,
                       rating_interval_months=rating_interval, attainment=attainment)
        series = sensory_series(subset, as_of=as_of_ts)
        calibration = goal_calibration(subset, as_of=as_of_ts, min_group=min_group,
                                       attainment=attainment)
        quality, accounting = data_quality(dataset.report)
        demo = sorted(i.name for k, i in subset.instruments.items()
                      if not i.clinical_use and (subset.assessments[C.INSTRUMENT] == k).any())
        report = cls(
            as_of=as_of_ts.date(), period_start=start.date(), period_end=end.date(),
            site=site, therapist=therapist, min_group=min_group,
            reassessment_interval_months=interval, rating_interval_months=rating_interval,
            list_limit=list_limit, n_children=n_children, message=message,
            demonstration_note=(None if not demo else
                                f"{' and '.join(demo)}: demonstration form(s) with invented "
                                "items and synthetic norms, not validated and not for "
                                "clinical use."),
            header=pd.DataFrame(),
            counts=caseload_counts(subset, as_of=as_of_ts, period_start=start,
                                   period_end=end),
            coverage_summary=cov.summary, lists=cov.lists, series=series,
            classification=classification_distribution(series, min_group=min_group),
            reliable_change=reliable_change_rates(series, min_group=min_group),
            goal_outcomes=goal_outcomes(subset, as_of=as_of_ts, min_group=min_group,
                                        n_boot=n_boot, seed=seed, attainment=attainment),
            calibration=calibration.summary, calibration_levels=calibration.levels,
            quality=quality, accounting=accounting,
        )
        report.header = report._header(dataset)
        return report

    def _header(self, dataset) -> pd.DataFrame:
        active = self.counts.loc[self.counts[GROUP_BY] == ALL, N_ACTIVE]
        rows = [("Data", dataset.name),
                ("As of", _long_date(self.as_of)),
                ("Period", f"{_long_date(self.period_start)} to {_long_date(self.period_end)}"),
                ("Site", self.site or "all sites"),
                ("Therapist", self.therapist or "all therapists"),
                ("Children referred by the as-of date", str(self.n_children)),
                ("Active children", str(int(active.iloc[0]) if len(active) else 0)),
                ("Smallest group with statistics", f"{self.min_group} children")]
        return pd.DataFrame(rows, columns=["", " "])

    # ------------------------------------------------------ printable tables
    @property
    def caseload_table(self) -> pd.DataFrame:
        """Active children, referrals and discharges per group."""
        c = self.counts
        return pd.DataFrame({
            "Group": [_group_text(b, g) for b, g in zip(c[GROUP_BY], c[GROUP], strict=True)],
            "Active children": c[N_ACTIVE].astype(str).to_numpy(),
            "New referrals in the period": c[N_REFERRED].astype(str).to_numpy(),
            "Discharges in the period": c[N_DISCHARGED].astype(str).to_numpy(),
        })

    def _counts_for(self, grouping: str) -> pd.DataFrame:
        rows = self.counts[self.counts[GROUP_BY] == grouping]
        return pd.DataFrame({grouping: rows[GROUP].astype(str).to_numpy(),
                             COUNT: rows[N_ACTIVE].to_numpy()})

    @property
    def counts_by_site(self) -> pd.DataFrame:
        """Active children per site, for :func:`~sensoryprofile.plots.plot_caseload_counts`."""
        return self._counts_for(C.SITE)

    @property
    def counts_by_therapist(self) -> pd.DataFrame:
        """Active children per therapist, for ``plot_caseload_counts``."""
        return self._counts_for(C.THERAPIST)

    @property
    def coverage_table(self) -> pd.DataFrame:
        c = self.coverage_summary
        return pd.DataFrame({
            "Group": [_group_text(b, g) for b, g in zip(c[GROUP_BY], c[GROUP], strict=True)],
            "Active children": c[N_ACTIVE].astype(str).to_numpy(),
            "No intake assessment": c[N_NO_INTAKE].astype(str).to_numpy(),
            "Reassessment overdue": c[N_REASSESSMENT_OVERDUE].astype(str).to_numpy(),
            "Goals": c[C.N_GOALS].astype(str).to_numpy(),
            f"Goals not rated in {self.rating_interval_months} months":
                c[N_GOALS_UNRATED].astype(str).to_numpy(),
            "Goals past target, not met": c[N_GOALS_PAST_TARGET].astype(str).to_numpy(),
        })

    @property
    def classification_table(self) -> pd.DataFrame:
        """Quadrant x classification: share at intake and latest, as text."""
        c = self.classification
        if c.empty:
            return pd.DataFrame(columns=["Quadrant", "Children"])
        frame = c.assign(label=c[C.CLASSIFICATION].fillna("Not classified"))
        intake = frame[frame[TIMEPOINT] == INTAKE].set_index([C.SCORE_NAME, "label"])[SHARE]
        latest = frame[frame[TIMEPOINT] == LATEST].set_index([C.SCORE_NAME, "label"])[SHARE]
        labels = [LEVEL_LABELS[lv] for lv in (-2, -1, 0, 1, 2)]
        if frame[C.CLASSIFICATION].isna().any():
            labels.append("Not classified")
        rows = []
        for name, part in frame.groupby(C.SCORE_NAME, sort=False):
            n = int(part[N].iloc[0])
            if bool(part[SUPPRESSED].iloc[0]):
                rows.append([name, str(n)] + [_fewer_than(self.min_group)]
                            + [""] * (len(labels) - 1))
                continue
            rows.append([name, str(n)] + [
                f"{_pct(intake.get((name, lb), 0.0))} → {_pct(latest.get((name, lb), 0.0))}"
                for lb in labels])
        return pd.DataFrame(rows, columns=["Quadrant", "Children", *labels])

    @property
    def classification_chart(self) -> pd.DataFrame:
        """Rows of the quadrants shown, for ``plot_classification_shift``."""
        c = self.classification
        return c[~c[SUPPRESSED]][[C.SCORE_NAME, TIMEPOINT, C.CLASSIFICATION, SHARE]
                                 ].reset_index(drop=True)

    @property
    def reliable_change_table(self) -> pd.DataFrame:
        r = self.reliable_change

        def share(count, base, value):
            return [("" if hide else f"{_pct(v)} ({k} of {b})" if b else "")
                    for hide, v, k, b in zip(r[SUPPRESSED], r[value], r[count], r[base],
                                             strict=True)]

        return pd.DataFrame({
            "Quadrant": r[C.SCORE_NAME].to_numpy(),
            "Children compared": r[N_COMPARED].astype(str).to_numpy(),
            "Reliable improvement": share(N_RELIABLE_IMPROVEMENT, N_WITH_RCI,
                                          SHARE_RELIABLE_IMPROVEMENT),
            "Reliable deterioration": share(N_RELIABLE_DETERIORATION, N_WITH_RCI,
                                            SHARE_RELIABLE_DETERIORATION),
            "Moved toward typical (any amount)": share(N_TOWARD_TYPICAL, N_COMPARED,
                                                       SHARE_TOWARD_TYPICAL),
            "Atypical at intake, now typical": share(N_NOW_TYPICAL, N_ATYPICAL_AT_INTAKE,
                                                     SHARE_NOW_TYPICAL),
            "Note": r[SUPPRESSION].fillna("").to_numpy(),
        })

    def outcome_table(self, grouping: str) -> pd.DataFrame:
        """Goal outcomes of one grouping ("site", "therapist", "diagnosis"),
        with the whole caseload as the last row."""
        o = self.goal_outcomes
        o = pd.concat([o[o[GROUP_BY] == grouping], o[o[GROUP_BY] == ALL]])
        return pd.DataFrame({
            GROUPING_WORDS[grouping]: [ALL_CHILDREN if b == ALL else g
                                       for b, g in zip(o[GROUP_BY], o[GROUP], strict=True)],
            "Children with a goal review": o[N_CHILDREN].astype(str).to_numpy(),
            "Goals rated": o[N_GOALS_RATED].astype(str).to_numpy(),
            "Goals met": [_pct(s) for s in o[C.SHARE_MET]],
            "Follow-up T: median (IQR)": [
                "" if pd.isna(m) else f"{_num(m)} ({_range(lo, hi)})"
                for m, lo, hi in zip(o[MEDIAN_T], o[T_Q1], o[T_Q3], strict=True)],
            "Change in T: median (95% CI)": [
                "" if pd.isna(m) else f"{_num(m, signed=True)} ({_range(lo, hi, signed=True)})"
                for m, lo, hi in zip(o[MEDIAN_T_CHANGE], o[T_CHANGE_CI_LOW], o[T_CHANGE_CI_HIGH],
                                     strict=True)],
            "Wilcoxon p": [_p(p) for p in o[P_VALUE]],
            "Rank-biserial r (95% CI)": [
                "" if pd.isna(r) else f"{_num(r, 2)} ({_range(lo, hi, 2)})"
                for r, lo, hi in zip(o[RANK_BISERIAL], o[RANK_BISERIAL_LOW],
                                     o[RANK_BISERIAL_HIGH], strict=True)],
            "Note": o[SUPPRESSION].fillna("").to_numpy(),
        })

    @property
    def outcome_tables(self) -> dict[str, pd.DataFrame]:
        return {g: self.outcome_table(g) for g in GROUPINGS}

    def tchange_chart(self, grouping: str) -> pd.DataFrame:
        """Median T change per group (whole caseload last), for
        :func:`~sensoryprofile.plots.plot_tchange_by_group` with ``group=grouping``."""
        o = self.goal_outcomes
        o = pd.concat([o[o[GROUP_BY] == grouping], o[o[GROUP_BY] == ALL]])
        o = o[o[N_CHILDREN] > 0]
        return pd.DataFrame({
            grouping: [ALL_CHILDREN if b == ALL else g
                       for b, g in zip(o[GROUP_BY], o[GROUP], strict=True)],
            MEDIAN: o[MEDIAN_T_CHANGE].to_numpy(), CI_LOW: o[T_CHANGE_CI_LOW].to_numpy(),
            CI_HIGH: o[T_CHANGE_CI_HIGH].to_numpy(), N: o[N_CHILDREN].to_numpy()})

    @property
    def tchange_charts(self) -> dict[str, pd.DataFrame]:
        return {g: self.tchange_chart(g) for g in GROUPINGS}

    @property
    def calibration_table(self) -> pd.DataFrame:
        c = self.calibration
        levels = self.calibration_levels
        share = levels.set_index([C.THERAPIST, C.LEVEL])[SHARE]
        scale = sorted(set(levels[C.LEVEL]) | {-2, -1, 0, 1, 2})
        expected = {"Therapist": "Expected when goals are well set", "Children": "",
                    "Goals rated": "", "Mean follow-up T": "50.0", "Check": "", "Why": ""}
        rows = [expected | {_level_text(lv): _pct(EXPECTED_GAS_SHARES.get(lv, 0.0))
                            for lv in scale}]
        for _, r in c.iterrows():  # one row per therapist (a handful), not per child
            name = ALL_CHILDREN if r[GROUP_BY] == ALL else r[GROUP]
            row = {"Therapist": name, "Children": str(r[N_CHILDREN]),
                   "Goals rated": str(r[N_GOALS_RATED]), "Mean follow-up T": _num(r[MEAN_T])}
            for lv in scale:
                row[_level_text(lv)] = ("" if r[SUPPRESSED]
                                        else _pct(share.get((r[GROUP], lv), np.nan)))
            row["Check"] = (r[SUPPRESSION] if r[SUPPRESSED] else
                            "" if pd.isna(r[FLAG]) else FLAG_WORDS[r[FLAG]])
            row["Why"] = ("" if r[SUPPRESSED] or pd.isna(r[FLAG]) or r[FLAG] == AS_EXPECTED
                          else r[FLAG_REASON])
            rows.append(row)
        columns = ["Therapist", "Children", "Goals rated",
                   *[_level_text(lv) for lv in scale], "Mean follow-up T", "Check", "Why"]
        return pd.DataFrame(rows, columns=columns)

    @property
    def quality_table(self) -> pd.DataFrame:
        q = self.quality
        return pd.DataFrame({"Table": q[TABLE].to_numpy(), "Rule broken": q[RULE].to_numpy(),
                             "What was done": q[ACTION].to_numpy(),
                             "Problems": q[COUNT].astype(str)})

    @property
    def accounting_table(self) -> pd.DataFrame:
        a = self.accounting
        return pd.DataFrame({"Table": a["table"].to_numpy(),
                             "Rows read": a["rows_read"].astype(str).to_numpy(),
                             "Accepted": a["rows_accepted"].astype(str).to_numpy(),
                             "Rejected": a["rows_rejected"].astype(str).to_numpy(),
                             "Read = accepted + rejected": np.where(a["reconciles"], "yes",
                                                                    "NO")})

    def list_table(self, name: str) -> pd.DataFrame:
        """The first ``list_limit`` rows of a list, ready to print."""
        return _display_list(self._list(name).head(self.list_limit))

    def _list(self, name: str) -> pd.DataFrame:
        if name not in self.lists:
            raise UsageError(f"`name` must be one of {list(self.lists)}, but {name!r} was "
                             "passed")
        return self.lists[name]

    # ---------------------------------------------------------------- charts
    def figsize(self, chart: str) -> tuple[float, float]:
        """A figure size (inches) that prints on A4: width at most 9, height
        grown with the rows drawn, at most 10.

        ``chart``: "counts_site", "counts_therapist", "classification",
        "tchange_site", "tchange_therapist", "tchange_diagnosis",
        "calibration".
        """
        width = 8.5
        if chart == "counts_site":
            return (7.0, 4.2)
        if chart == "counts_therapist":
            return (9.0, 4.6)
        if chart == "classification":
            rows = 3 * self.classification_chart[C.SCORE_NAME].nunique()
            height = 2.6 + 0.42 * max(rows, 2)
        elif chart.startswith("tchange_"):
            grouping = chart.removeprefix("tchange_")
            if grouping not in GROUPINGS:
                raise UsageError(f"`chart` must name a grouping {list(GROUPINGS)}, but "
                                 f"{chart!r} was passed")
            height = 1.8 + 0.62 * max(len(self.tchange_chart(grouping)), 1)
        elif chart == "calibration":
            height = 3.0 + 0.62 * (self.calibration_levels[C.THERAPIST].nunique() + 1)
        else:
            raise UsageError(f"`chart` must be one of 'counts_site', 'counts_therapist', "
                             "'classification', 'tchange_site', 'tchange_therapist', "
                             f"'tchange_diagnosis', 'calibration', but {chart!r} was passed")
        return (width, min(round(height, 2), 10.0))

    # ------------------------------------------------------------------ html
    def title_html(self) -> str:
        parts = ["<h1>Caseload report</h1>"]
        if self.demonstration_note:
            parts.append(f"<p class='sp-banner'>{html.escape(self.demonstration_note)}</p>")
        if self.message:
            parts.append(f"<p class='sp-banner'><strong>{html.escape(self.message)}"
                         "</strong></p>")
        return "".join(parts)

    def list_html(self, name: str) -> str:
        """A long list, capped at ``list_limit`` rows, with "and N more"."""
        full = self._list(name)
        title = f"<h3>{html.escape(LIST_TITLES[name])} ({len(full)})</h3>"
        if full.empty:
            return title + "<p>None.</p>"
        text = table_html(self.list_table(name))
        more = len(full) - self.list_limit
        if more > 0:
            where = (f"the full list is in {LIST_FILES[name]} beside this report"
                     if name in self.written else
                     "render the report with an output folder for the full list as CSV")
            text += f"<p>… and {more} more ({html.escape(where)}).</p>"
        return title + text

    def text_html(self, key: str) -> str:
        """A paragraph whose words depend on the report's settings."""
        texts = {
            "overdue": (f"Active children on {_long_date(self.as_of)}: referred by then and not "
                        "discharged. A reassessment is overdue when the latest questionnaire "
                        f"is more than {self.reassessment_interval_months} months old. Children "
                        "are listed by ID only; the longest waiting come first."),
            "coverage": (f"Goals of active children are expected to be rated at least every "
                         f"{self.rating_interval_months} months; goals set more recently are "
                         "not yet counted as unrated. A goal is past its target when its "
                         "target date has passed and no rating has reached the expected level "
                         "(0)."),
            "groups": (f"Groups with fewer than {self.min_group} children show no statistics "
                       "(too few to be stable, and to protect privacy)."),
            "quality": ("Data quality covers the whole dataset, whatever the site or therapist "
                        "filter: rows with problems were rejected or noted when the data were "
                        "loaded, and every row read is either accepted or rejected."),
        }
        if key not in texts:
            raise UsageError(f"`key` must be one of {list(texts)}, but {key!r} was passed")
        return f"<p>{html.escape(texts[key])}</p>"

    def files_html(self) -> str:
        """Links to the CSV files written beside the report."""
        if not self.written:
            return ("<p>No files were written (no output folder was given). Rendered with "
                    "<code>sensoryprofile.reports.render_caseload</code>, the full lists and "
                    "tables are written as CSV beside the report.</p>")
        items = "".join(f"<li><a href='{html.escape(p.name)}'>{html.escape(p.name)}</a></li>"
                        for p in self.written.values())
        return f"<ul>{items}</ul>"

    # ----------------------------------------------------------------- files
    def write_lists(self, output_dir: str | Path | None) -> list[Path]:
        """Write the full lists and the main tables as CSV into ``output_dir``.

        Dates are ISO (YYYY-MM-DD), numbers unrounded; each file is written
        atomically. ``None`` writes nothing. Returns the paths written (also
        kept in ``written``, by name).
        """
        if output_dir is None:
            return []
        folder = Path(output_dir)
        folder.mkdir(parents=True, exist_ok=True)
        frames = {name: self.lists[name] for name in LIST_FILES}
        files = dict(LIST_FILES)
        frames.update({"counts": self.counts, "coverage": self.coverage_summary,
                       "classification": self.classification,
                       "reliable_change": self.reliable_change,
                       "goal_outcomes": self.goal_outcomes, "calibration": self.calibration,
                       "calibration_levels": self.calibration_levels,
                       "quality": self.quality, "accounting": self.accounting})
        files.update(TABLE_FILES)
        for name, frame in frames.items():
            path = folder / files[name]
            atomic_write(path, lambda tmp, frame=frame: frame.to_csv(
                tmp, index=False, lineterminator="\n", date_format="%Y-%m-%d"))
            path.chmod(0o644)  # an ordinary file beside the report (mkstemp makes it private)
            self.written[name] = path
        return list(self.written.values())


def _known_values(dataset, site, therapist) -> str:
    """Which sites / therapists exist, to help after a filter matched nobody."""
    parts = []
    for column, wanted, word in ((C.SITE, site, "Sites"), (C.THERAPIST, therapist,
                                                          "Therapists")):
        if wanted is None:
            continue
        values = sorted(set(dataset.children[column].dropna().astype(str)), key=str.casefold)
        if values:
            parts.append(f"{word} in this dataset: {', '.join(values)}.")
    return " ".join(parts)


__all__ = ["CaseloadReport", "Calibration", "Coverage", "calibration_flag", "caseload_counts",
           "classification_distribution", "coverage", "data_quality", "filter_dataset",
           "goal_calibration", "goal_outcomes", "group_memberships", "reliable_change_rates",
           "sensory_series"]
