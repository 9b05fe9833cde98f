"""The caseload analyses for clinic directors, each a function returning a tidy
table (one row per result, numbers unrounded); the report that lays them out
is :mod:`sensoryprofile.reports.caseload`:

* :func:`caseload_counts` - active children, new referrals and discharges,
  by site, therapist and diagnosis;
* :func:`coverage` - who has no intake assessment, whose reassessment is
  overdue, which goals have no recent rating or are past their target date;
* :func:`data_quality` - the validation report counted by table and rule;
* :class:`CaseloadTables` - every table of the report, with the sensory and
  goal outcomes of :mod:`sensoryprofile.analysis.outcomes`, computed once.

Groups, filters and "active" are defined in :mod:`sensoryprofile.analysis.groups`.
Counts and coverage lists are about active children. Children are listed by
``child_id`` only: no name, no date of birth, no free text (goal descriptions
and rating notes). No Python loop runs per child: tables are built with
merges and group-bys; the only loops are over groups.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sensoryprofile import columns as C
from sensoryprofile.analysis import stats
from sensoryprofile.analysis.groups import (
    as_of_date,
    children_as_of,
    date_argument,
    days_until,
    filter_dataset,
    filter_value,
    group_memberships,
    group_sums,
    lookup,
    reporting_period,
    whole_number,
)
from sensoryprofile.analysis.outcomes import (
    classification_distribution,
    goal_calibration,
    goal_outcomes,
    reliable_change_rates,
    sensory_series,
)
from sensoryprofile.columns import (
    ACTION,
    ACTIVE,
    COUNT,
    DAYS_OVERDUE,
    DAYS_PAST_TARGET,
    DAYS_SINCE_REFERRAL,
    DAYS_WITHOUT_RATING,
    DUE_DATE,
    GROUP,
    GROUP_BY,
    LAST_ASSESSMENT,
    LAST_RATING,
    N_ACTIVE,
    N_DISCHARGED,
    N_GOALS_PAST_TARGET,
    N_GOALS_UNRATED,
    N_NO_INTAKE,
    N_REASSESSMENT_OVERDUE,
    N_REFERRED,
    RULE,
    TABLE,
)
from sensoryprofile.data.dataset import TABLES, Dataset
from sensoryprofile.measures import goals as G

#: A goal of an active child should be rated at least this often (months);
#: a convention (reviews every 3 months are usual), not a published rule.
RATING_INTERVAL_MONTHS = 3

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


QUALITY_COLUMNS = [TABLE, RULE, ACTION, COUNT]


# ---------------------------------------------------------------------------
# caseload size
# ---------------------------------------------------------------------------
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
    as_of = as_of_date(as_of)
    start, end = reporting_period(as_of, period_start, period_end)
    kids = children_as_of(dataset, as_of)
    flags = pd.DataFrame({
        C.CHILD_ID: kids[C.CHILD_ID],
        N_ACTIVE: kids[ACTIVE].astype(np.int64),
        N_REFERRED: kids[C.REFERRAL_DATE].between(start, end).astype(np.int64),
        N_DISCHARGED: kids[C.DISCHARGE_DATE].between(start, end).fillna(False)
        .astype(np.int64),
    })
    out = group_sums(group_memberships(kids), flags, [N_ACTIVE, N_REFERRED, N_DISCHARGED])
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
    - ``goals_past_target``: ``overdue`` in :func:`sensoryprofile.measures.goals.goal_attainment`:
      the target date is before ``as_of`` and no rating by then reached level
      0; with the latest level and ``days_past_target``.
    """
    as_of = as_of_date(as_of)
    interval = (dataset.reassessment_interval_months if reassessment_interval_months is None
                else reassessment_interval_months)
    interval = whole_number(interval, "reassessment_interval_months")
    rating_interval = whole_number(rating_interval_months, "rating_interval_months")
    kids = children_as_of(dataset, as_of)
    active = kids[kids[ACTIVE]].reset_index(drop=True)

    # assessments
    assessed = dataset.assessments[dataset.assessments[C.DATE] <= as_of]
    last = assessed.groupby(C.CHILD_ID, sort=False)[C.DATE].max()
    active[LAST_ASSESSMENT] = lookup(active[C.CHILD_ID], last).astype("datetime64[ns]")
    due = active[LAST_ASSESSMENT] + pd.DateOffset(months=interval)
    active[DUE_DATE] = due.astype("datetime64[ns]")
    no_intake = active[active[LAST_ASSESSMENT].isna()].assign(**{
        DAYS_SINCE_REFERRAL: lambda f: days_until(as_of, f[C.REFERRAL_DATE])})
    overdue = active[active[DUE_DATE].notna() & (active[DUE_DATE] < as_of)].assign(**{
        DAYS_OVERDUE: lambda f: days_until(as_of, f[DUE_DATE])})

    # goals of active children
    if attainment is None:
        attainment = G.goal_attainment(dataset, as_of=as_of.date())
    goals = attainment.goals.merge(active[[C.CHILD_ID, C.SITE, C.THERAPIST]], on=C.CHILD_ID,
                                   how="inner")
    ratings = dataset.goal_ratings[dataset.goal_ratings[C.DATE] <= as_of]
    last_rating = ratings.groupby(C.GOAL_ID, sort=False)[C.DATE].max()
    goals[LAST_RATING] = lookup(goals[C.GOAL_ID], last_rating).astype("datetime64[ns]")
    window = as_of - pd.DateOffset(months=rating_interval)
    unrated = goals[(goals[C.SET_DATE] <= window)
                    & (goals[LAST_RATING].isna() | (goals[LAST_RATING] <= window))]
    unrated = unrated.assign(**{DAYS_WITHOUT_RATING: lambda f: days_until(
        as_of, f[LAST_RATING].fillna(f[C.SET_DATE]))})
    past = goals[goals[C.OVERDUE]].assign(**{
        DAYS_PAST_TARGET: lambda f: days_until(as_of, f[C.TARGET_DATE])})

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
        per_child[column] = lookup(per_child[C.CHILD_ID], counts).fillna(0).astype(np.int64)
    members = group_memberships(active, groupings=(C.SITE, C.THERAPIST))
    summary = group_sums(members, per_child, COVERAGE_COLUMNS[2:])
    summary = summary[COVERAGE_COLUMNS].astype({c: np.int64 for c in COVERAGE_COLUMNS[2:]})
    return Coverage(summary=summary, lists=lists)


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
# every table of the caseload report
# ---------------------------------------------------------------------------
@dataclass
class CaseloadTables:
    """Every tidy table of the caseload report (numbers unrounded), and the
    settings they were computed with. Built by :meth:`build`.

    Attributes
    ----------
    as_of, period_start, period_end : datetime.date
    site, therapist : the filters (None: all).
    min_group, reassessment_interval_months, rating_interval_months : settings.
    n_children : children referred by ``as_of`` (after the filters).
    n_matched : children matching the filters, whenever referred.
    instruments : ids of the instruments of those children's assessments.
    counts : :func:`caseload_counts`.
    coverage_summary, lists : :func:`coverage` (``.summary``, ``.lists``).
    series : :func:`sensory_series`.
    classification : :func:`classification_distribution`.
    reliable_change : :func:`reliable_change_rates`.
    goal_outcomes : :func:`goal_outcomes`.
    calibration, calibration_levels : :func:`goal_calibration`.
    quality, accounting : :func:`data_quality` (of the whole dataset).
    """

    as_of: dt.date
    period_start: dt.date
    period_end: dt.date
    site: str | None
    therapist: str | None
    min_group: int
    reassessment_interval_months: int
    rating_interval_months: int
    n_children: int
    n_matched: int
    instruments: tuple[str, ...]
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

    @classmethod
    def build(cls, dataset: Dataset, *, as_of=None, period_start=None, period_end=None,
              site: str | None = None, therapist: str | None = None,
              min_group: int | None = stats.MIN_GROUP,
              reassessment_interval_months: int | None = None,
              rating_interval_months: int = RATING_INTERVAL_MONTHS,
              n_boot: int | None = stats.DEFAULT_BOOT, seed: int | None = stats.DEFAULT_SEED,
              **extra) -> CaseloadTables:
        """Compute every table of the caseload report.

        Parameters
        ----------
        dataset : Dataset
        as_of : date, optional
            The day the tables describe; default ``period_end`` if given, else today.
        period_start, period_end : date, optional
            Referrals and discharges are counted in this period (both ends
            included); default the 12 months up to as_of.
        site, therapist : str, optional
            Only children of this site / therapist (:func:`filter_dataset`).
        min_group : int, default :data:`~sensoryprofile.analysis.stats.MIN_GROUP`
            Smallest group whose statistics are shown.
        reassessment_interval_months : int, optional
            Default the dataset's setting.
        rating_interval_months : int, default :data:`RATING_INTERVAL_MONTHS`
        n_boot, seed : bootstrap settings (:mod:`sensoryprofile.analysis.stats`).
            None for any of ``min_group``, ``n_boot``, ``seed``: the default.
        **extra : passed to the constructor (fields a subclass adds).

        Returns
        -------
        CaseloadTables
            A filter that matches nobody gives empty tables, not an error.
        """
        stamp = date_argument(as_of, "as_of")
        if stamp is None:
            stamp = date_argument(period_end, "period_end")
        as_of_ts = as_of_date(stamp)
        start, end = reporting_period(as_of_ts, period_start, period_end)
        min_group = whole_number(stats.MIN_GROUP if min_group is None else min_group, "min_group")
        n_boot = stats.DEFAULT_BOOT if n_boot is None else n_boot
        seed = stats.DEFAULT_SEED if seed is None else seed
        interval = whole_number(dataset.reassessment_interval_months
                          if reassessment_interval_months is None
                          else reassessment_interval_months, "reassessment_interval_months")
        rating_interval = whole_number(rating_interval_months, "rating_interval_months")
        site, therapist = filter_value(site, "site"), filter_value(therapist, "therapist")
        subset = filter_dataset(dataset, site=site, therapist=therapist)
        attainment = G.goal_attainment(subset, as_of=as_of_ts.date())
        cov = coverage(subset, as_of=as_of_ts, reassessment_interval_months=interval,
                       rating_interval_months=rating_interval, attainment=attainment)
        series = sensory_series(subset, as_of=as_of_ts)
        calibration = goal_calibration(subset, as_of=as_of_ts, min_group=min_group,
                                       attainment=attainment)
        quality, accounting = data_quality(dataset.report)
        return cls(
            as_of=as_of_ts.date(), period_start=start.date(), period_end=end.date(),
            site=site, therapist=therapist, min_group=min_group,
            reassessment_interval_months=interval, rating_interval_months=rating_interval,
            n_children=int((subset.children[C.REFERRAL_DATE] <= as_of_ts).sum()),
            n_matched=len(subset.children),
            instruments=tuple(sorted(subset.assessments[C.INSTRUMENT].dropna().astype(str)
                                     .unique())),
            counts=caseload_counts(subset, as_of=as_of_ts, period_start=start,
                                   period_end=end),
            coverage_summary=cov.summary, lists=cov.lists, series=series,
            classification=classification_distribution(series, subset.instruments,
                                                       min_group=min_group),
            reliable_change=reliable_change_rates(series, subset.instruments,
                                                  min_group=min_group),
            goal_outcomes=goal_outcomes(subset, as_of=as_of_ts, min_group=min_group,
                                        n_boot=n_boot, seed=seed, attainment=attainment),
            calibration=calibration.summary, calibration_levels=calibration.levels,
            quality=quality, accounting=accounting, **extra)
