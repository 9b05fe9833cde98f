"""One row per child, for the front page of a reports folder: the figures a
therapist looks for first (age, the latest questionnaire, whether a
reassessment is due, goal attainment, reliable change). The page that lays
them out is :mod:`sensoryprofile.reports.index`.

Every figure is judged on ``as_of`` and computed for every child at once
(merges and group-bys, no loop per child) with the functions the caseload and
child reports use: the reassessment rule of
:func:`sensoryprofile.analysis.caseload.coverage`, the GAS T-scores of
:func:`sensoryprofile.measures.goals.goal_attainment`, and the consecutive
comparisons of :func:`sensoryprofile.measures.change.score_changes` for the
series the child's own report shows. Children are named by ``child_id``
only: no name, no date of birth.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sensoryprofile import columns as C
from sensoryprofile.analysis.groups import as_of_date, group_label, lookup, whole_number
from sensoryprofile.columns import (
    ACTIVE,
    DAYS_OVERDUE,
    DUE_DATE,
    LAST_ASSESSMENT,
    LAST_REVIEW,
    N_COMPARED,
    N_RELIABLE,
    N_RELIABLE_AWAY,
    N_RELIABLE_TOWARD,
    N_RELIABLE_WITHIN,
    REASSESSMENT,
)
from sensoryprofile.dates import completed_months
from sensoryprofile.measures import change as CH
from sensoryprofile.measures import goals as G

#: A reassessment falling due within this many months of ``as_of`` is "due soon"
#: (a convention for planning the next visits, not a published rule).
DUE_SOON_MONTHS = 1

# values of the ``reassessment`` column, most urgent first
OVERDUE = "overdue"
NO_QUESTIONNAIRE = "no questionnaire yet"
DUE_SOON = "due soon"
NOT_DUE = "not due"
DISCHARGED = "discharged"
NOT_REFERRED = "not yet referred"
#: Values of the ``reassessment`` column, most urgent first.
REASSESSMENT_STATES = (OVERDUE, NO_QUESTIONNAIRE, DUE_SOON, NOT_DUE, DISCHARGED, NOT_REFERRED)

#: The scores reliable change is counted over: those of the first kind in this
#: order that the child's form has (its quadrants; a form without quadrants,
#: its total, ...; a kind not listed comes last).
HEADLINE_KINDS = ("quadrant", "total", "factor", "composite", "section")

OVERVIEW_COLUMNS = [C.CHILD_ID, C.SITE, C.THERAPIST, C.REFERRAL_DATE, ACTIVE, C.AGE_MONTHS,
                    LAST_ASSESSMENT, DUE_DATE, REASSESSMENT, DAYS_OVERDUE, LAST_REVIEW,
                    C.T_SCORE, C.BASELINE_T, C.T_CHANGE, C.FROM_DATE, N_COMPARED, N_RELIABLE,
                    N_RELIABLE_TOWARD, N_RELIABLE_AWAY, N_RELIABLE_WITHIN]
_COUNTS = [N_COMPARED, N_RELIABLE, N_RELIABLE_TOWARD, N_RELIABLE_AWAY, N_RELIABLE_WITHIN]


def child_overview(dataset, *, as_of=None, reassessment_interval_months: int | None = None,
                   attainment: G.GoalAttainment | None = None) -> pd.DataFrame:
    """The index page's figures: one row per child of the dataset.

    Parameters
    ----------
    dataset : Dataset
    as_of : date, default today
        Assessments, goals and ratings dated after it are ignored.
    reassessment_interval_months : int, optional
        How often a child should be reassessed; default the dataset's
        ``reassessment_interval_months`` setting (as the caseload report).
    attainment : GoalAttainment, optional
        ``goal_attainment(dataset, as_of=as_of)`` if already computed.

    Returns
    -------
    DataFrame
        One row per accepted child, in the dataset's order, columns
        :data:`OVERVIEW_COLUMNS`:

        - ``child_id``, ``site``, ``therapist`` (blank: "not recorded"),
          ``referral_date``; ``active``: referred by ``as_of`` and not
          discharged by then;
        - ``age_months``: completed months on ``as_of`` (from the date of
          birth, or in a de-identified extract from the age at referral);
        - ``last_assessment_date``: the latest questionnaire (any instrument
          or respondent); ``due_date`` = that + the interval (active
          children); ``reassessment``: one of :data:`REASSESSMENT_STATES`
          (``"overdue"`` when ``due_date`` is before ``as_of``, as in the
          caseload report; ``"due soon"`` within :data:`DUE_SOON_MONTHS`);
          ``days_overdue`` (overdue children only);
        - ``last_review_date``, ``t_score``, ``baseline_t``, ``t_change``:
          the latest goal review's GAS T-score, the T-score of the same goals
          at their levels when set, and the difference (NaN before a first
          review);
        - ``from_date``: the previous questionnaire of the series the
          child's report shows (NaT with only one); ``n_compared``,
          ``n_reliable``, ``n_reliable_toward_typical``,
          ``n_reliable_away_from_typical``, ``n_reliable_within_typical``:
          the scores compared between it and the latest, how many changed
          reliably (|RCI| > 1.96), and of those how many moved toward / away
          from the typical range or stayed within it; counted over the scores
          of the first kind in :data:`HEADLINE_KINDS` the form has (its
          quadrants; a form without quadrants, its total, ...).

    Notes
    -----
    The series a child's report shows: the instrument and respondent of the
    latest questionnaire answered by the instrument's own respondent
    (usually a caregiver), else of the latest questionnaire.
    """
    as_of = as_of_date(as_of)
    interval = whole_number(dataset.reassessment_interval_months
                            if reassessment_interval_months is None
                            else reassessment_interval_months, "reassessment_interval_months")
    kids = dataset.children
    out = pd.DataFrame({
        C.CHILD_ID: kids[C.CHILD_ID].astype(object).to_numpy(),
        C.SITE: group_label(kids[C.SITE]).to_numpy(),
        C.THERAPIST: group_label(kids[C.THERAPIST]).to_numpy(),
        C.REFERRAL_DATE: kids[C.REFERRAL_DATE].to_numpy(),
    })
    referred = (kids[C.REFERRAL_DATE] <= as_of).to_numpy()
    discharged = (kids[C.DISCHARGE_DATE] <= as_of).fillna(False).to_numpy(dtype=bool)
    out[ACTIVE] = referred & ~discharged
    out[C.AGE_MONTHS] = _ages(kids, as_of)

    # the latest questionnaire and the reassessment it makes due
    assessed = dataset.assessments[dataset.assessments[C.DATE] <= as_of]
    last = assessed.groupby(C.CHILD_ID, sort=False)[C.DATE].max()
    out[LAST_ASSESSMENT] = lookup(out[C.CHILD_ID], last).astype("datetime64[ns]")
    due = (out[LAST_ASSESSMENT] + pd.DateOffset(months=interval)).where(out[ACTIVE])
    out[DUE_DATE] = due.astype("datetime64[ns]")
    soon = as_of + pd.DateOffset(months=DUE_SOON_MONTHS)
    state = np.select(
        [~referred, discharged, out[LAST_ASSESSMENT].isna(), out[DUE_DATE] < as_of,
         out[DUE_DATE] <= soon],
        [NOT_REFERRED, DISCHARGED, NO_QUESTIONNAIRE, OVERDUE, DUE_SOON], default=NOT_DUE)
    out[REASSESSMENT] = state.astype(object)
    late = (as_of - out[DUE_DATE]).dt.days.astype("Int64")
    out[DAYS_OVERDUE] = late.where(out[REASSESSMENT] == OVERDUE)

    # goal attainment at the latest review
    if attainment is None:
        attainment = G.goal_attainment(dataset, as_of=as_of.date())
    reviews = attainment.reviews.sort_values([C.CHILD_ID, C.DATE], kind="stable")
    latest = reviews.drop_duplicates(C.CHILD_ID, keep="last").set_index(C.CHILD_ID)
    out[LAST_REVIEW] = lookup(out[C.CHILD_ID], latest[C.DATE]).astype("datetime64[ns]")
    for column in (C.T_SCORE, C.BASELINE_T, C.T_CHANGE):
        out[column] = lookup(out[C.CHILD_ID], latest[column]).astype(float)

    # reliable change since the previous questionnaire
    change = latest_change(dataset, as_of=as_of)
    out[C.FROM_DATE] = lookup(out[C.CHILD_ID], change[C.FROM_DATE]).astype("datetime64[ns]")
    for column in _COUNTS:
        out[column] = lookup(out[C.CHILD_ID], change[column]).astype("Int64")
    return out[OVERVIEW_COLUMNS]


def _ages(kids: pd.DataFrame, as_of: pd.Timestamp) -> np.ndarray:
    """Completed months on ``as_of``: from the date of birth, else (an extract)
    the age at referral plus the completed months since referral."""
    stamp = [as_of] * len(kids)
    ages = completed_months(kids[C.DATE_OF_BIRTH], stamp)
    if C.AGE_AT_REFERRAL_MONTHS in kids.columns:
        since = completed_months(kids[C.REFERRAL_DATE], stamp)
        at_referral = pd.to_numeric(kids[C.AGE_AT_REFERRAL_MONTHS], errors="coerce")
        ages = np.where(np.isnan(ages), at_referral.to_numpy(dtype=float) + since, ages)
    return ages


def primary_assessments(scores: pd.DataFrame, instruments) -> pd.DataFrame:
    """Each child's latest questionnaire of the series its report shows: the
    latest answered by its instrument's own respondent (usually a
    caregiver), else the latest; ties on a date go to the larger
    ``assessment_id``. Columns ``child_id``, ``assessment_id``."""
    done = scores.drop_duplicates(C.ASSESSMENT_ID)
    own_respondent = {key: inst.respondent for key, inst in instruments.items()}
    own = (done[C.RESPONDENT].astype(str).to_numpy()
           == done[C.INSTRUMENT].astype(str).map(own_respondent).to_numpy())
    ranked = pd.DataFrame({C.CHILD_ID: done[C.CHILD_ID].astype(object).to_numpy(),
                           C.ASSESSMENT_ID: done[C.ASSESSMENT_ID].astype(object).to_numpy(),
                           "own": own, C.DATE: done[C.DATE].to_numpy()})
    ranked = ranked.sort_values([C.CHILD_ID, "own", C.DATE, C.ASSESSMENT_ID], kind="stable")
    return ranked.drop_duplicates(C.CHILD_ID, keep="last")[[C.CHILD_ID, C.ASSESSMENT_ID]]


def latest_change(dataset, *, as_of=None) -> pd.DataFrame:
    """Reliable change between each child's latest questionnaire (of the
    series its report shows, :func:`primary_assessments`) and the one before.

    Returns
    -------
    DataFrame indexed by ``child_id`` (children with at least one scored
    questionnaire by ``as_of``): ``from_date`` (the previous questionnaire;
    NaT when there is none), ``n_compared``, ``n_reliable``,
    ``n_reliable_toward_typical``, ``n_reliable_away_from_typical``,
    ``n_reliable_within_typical`` (0 when there is no previous one), over the
    scores of the first kind of :data:`HEADLINE_KINDS` compared.
    """
    as_of = as_of_date(as_of)
    scores = dataset.scores[dataset.scores[C.DATE] <= as_of]
    primary = primary_assessments(scores, dataset.instruments)
    changes = CH.score_changes(scores, dataset.instruments)
    rows = changes[(changes[C.COMPARISON] == CH.CONSECUTIVE)
                   & changes[C.TO_ASSESSMENT].astype(object).isin(primary[C.ASSESSMENT_ID])]
    kind_rank = {kind: k for k, kind in enumerate(HEADLINE_KINDS)}
    rank = rows[C.KIND].astype(object).map(kind_rank).fillna(len(kind_rank))
    first = rank.groupby(rows[C.CHILD_ID].astype(object)).transform("min")
    rows = rows[(rank == first).to_numpy()]
    compared = rows[C.COMPARED].astype(bool).to_numpy()
    reliable = compared & rows[C.RELIABLE].astype("boolean").fillna(False).to_numpy(dtype=bool)
    direction = rows[C.DIRECTION].astype(object).to_numpy()
    flags = pd.DataFrame({
        C.CHILD_ID: rows[C.CHILD_ID].astype(object).to_numpy(),
        C.FROM_DATE: rows[C.FROM_DATE].to_numpy(),
        N_COMPARED: compared.astype(np.int64),
        N_RELIABLE: reliable.astype(np.int64),
        N_RELIABLE_TOWARD: (reliable & (direction == CH.TOWARD_TYPICAL)).astype(np.int64),
        N_RELIABLE_AWAY: (reliable & (direction == CH.AWAY_FROM_TYPICAL)).astype(np.int64),
        N_RELIABLE_WITHIN: (reliable & (direction == CH.WITHIN_TYPICAL)).astype(np.int64),
    })
    counts = flags.groupby(C.CHILD_ID, sort=False).agg(
        **{C.FROM_DATE: (C.FROM_DATE, "max")}, **{c: (c, "sum") for c in _COUNTS})
    out = counts.reindex(primary[C.CHILD_ID].to_numpy())
    for column in _COUNTS:
        out[column] = out[column].fillna(0).astype(np.int64)
    out.index.name = C.CHILD_ID
    return out


__all__ = ["DUE_SOON_MONTHS", "HEADLINE_KINDS", "OVERVIEW_COLUMNS", "REASSESSMENT_STATES",
           "child_overview", "latest_change", "primary_assessments"]
