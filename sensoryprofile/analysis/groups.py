"""Who belongs where: filtering a dataset to a site or therapist, the groups
of children the caseload tables report on (site, therapist, each diagnosis,
the whole caseload), and the argument checks those tables share.

* **As of a date.** Everything is judged on ``as_of``: children referred
  after it, and assessments, goals and ratings dated after it, are left out.
* **Active** means referred on or before ``as_of`` and not discharged by then
  (no ``discharge_date``, or one after ``as_of``).
* **Groups.** A child belongs to its site, its therapist and each of its
  diagnoses (``diagnoses`` is ';'-separated: a child with two counts once in
  each), plus the whole caseload. A blank site, therapist or diagnosis is the
  group "not recorded".
"""

from __future__ import annotations

import dataclasses
import datetime as dt

import numpy as np
import pandas as pd

from sensoryprofile import columns as C
from sensoryprofile.columns import (
    ACTIVE,
    ALL,
    ALL_CHILDREN,
    DIAGNOSIS,
    GROUP,
    GROUP_BY,
    NOT_RECORDED,
)
from sensoryprofile.data.dataset import Dataset
from sensoryprofile.dates import to_date
from sensoryprofile.errors import UsageError

#: The groupings of the tables, in report order (then the whole caseload).
GROUPINGS = (C.SITE, C.THERAPIST, C.DIAGNOSIS)


def date_argument(value, name: str) -> pd.Timestamp | None:
    """A date argument as a midnight Timestamp (None stays None)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        date = to_date(value)
    except (TypeError, ValueError):
        raise UsageError(f"`{name}` must be a date (YYYY-MM-DD), but {value!r} was "
                         "passed") from None
    return None if date is None else pd.Timestamp(date)


def whole_number(value, name: str, *, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise UsageError(f"`{name}` must be a whole number of at least {minimum}, but "
                         f"{value!r} was passed")
    return int(value)


def as_of_date(value) -> pd.Timestamp:
    stamp = date_argument(value, "as_of")
    return stamp if stamp is not None else pd.Timestamp(dt.date.today())


def filter_value(value, name: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise UsageError(f"`{name}` must be text (a {name} as the children table names it) "
                         f"or None for all, but {value!r} was passed")
    return value.strip() or None


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
    >>> from sensoryprofile.data.dataset import load_dataset
    >>> d = load_dataset("data/sample")  # doctest: +SKIP
    >>> filter_dataset(d, site="Hillcrest").children["site"].unique().tolist()  # doctest: +SKIP
    ['Hillcrest']
    """
    site = filter_value(site, "site")
    therapist = filter_value(therapist, "therapist")
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


def group_label(values: pd.Series) -> pd.Series:
    """Group names: the text stripped; blank is "not recorded"."""
    text = values.astype("string").str.strip()
    return text.mask(text == "").fillna(NOT_RECORDED).astype(object)


def children_as_of(dataset, as_of: pd.Timestamp) -> pd.DataFrame:
    """Children referred on or before ``as_of``: id, site, therapist,
    diagnoses, referral and discharge dates, and whether active on ``as_of``."""
    kids = dataset.children
    kids = kids[kids[C.REFERRAL_DATE] <= as_of]
    out = pd.DataFrame({
        C.CHILD_ID: kids[C.CHILD_ID].astype(object).to_numpy(),
        C.SITE: group_label(kids[C.SITE]).to_numpy(),
        C.THERAPIST: group_label(kids[C.THERAPIST]).to_numpy(),
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
            exploded[GROUP] = group_label(exploded[GROUP].astype("string")).to_numpy()
            exploded = exploded.drop_duplicates([C.CHILD_ID, GROUP])
            parts.append(exploded.assign(**{GROUP_BY: DIAGNOSIS}))
        elif grouping in (C.SITE, C.THERAPIST):
            parts.append(pd.DataFrame({C.CHILD_ID: ids.to_numpy(), GROUP_BY: grouping,
                                       GROUP: group_label(children[grouping])}))
        else:
            raise UsageError(f"`groupings` must hold values from {list(GROUPINGS)}, but "
                             f"{grouping!r} was passed")
    parts.append(pd.DataFrame({C.CHILD_ID: ids.to_numpy(), GROUP_BY: ALL,
                               GROUP: ALL_CHILDREN}))
    out = pd.concat(parts, ignore_index=True)[[C.CHILD_ID, GROUP_BY, GROUP]]
    out[GROUP_BY] = pd.Categorical(out[GROUP_BY], categories=[*groupings, ALL])
    out[GROUP] = out[GROUP].astype(object)
    return out


def group_order(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows in report order: by grouping, then the groups alphabetically
    (ignoring case) with "not recorded" last."""
    key = pd.DataFrame({
        "g": frame[GROUP_BY].cat.codes.to_numpy(),
        "nr": (frame[GROUP] == NOT_RECORDED).to_numpy(),
        "name": frame[GROUP].astype(str).str.casefold().to_numpy(),
    })
    order = key.sort_values(["g", "nr", "name"], kind="stable").index
    return frame.iloc[order].reset_index(drop=True)


def group_sums(members: pd.DataFrame, per_child: pd.DataFrame, columns: list[str]
                ) -> pd.DataFrame:
    """Sum per-child numbers over every group (all groups kept, zeros included)."""
    table = members.merge(per_child[[C.CHILD_ID, *columns]], on=C.CHILD_ID, how="left")
    sums = table.groupby([GROUP_BY, GROUP], observed=True, sort=False)[columns].sum()
    return group_order(sums.reset_index())


#: Default reporting period: the 12 months up to and including its end.
DEFAULT_PERIOD_MONTHS = 12


def reporting_period(as_of, period_start, period_end) -> tuple[pd.Timestamp, pd.Timestamp]:
    end = date_argument(period_end, "period_end")
    end = as_of if end is None else end
    start = date_argument(period_start, "period_start")
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


def lookup(keys: pd.Series, values: pd.Series) -> pd.Series:
    """``values`` looked up by ``keys`` (NaN/NaT where absent), on ``keys``' index.
    (Series.map with an empty datetime mapper fails in pandas.)"""
    return pd.Series(values.reindex(keys.to_numpy()).to_numpy(), index=keys.index)


def days_until(as_of: pd.Timestamp, earlier: pd.Series) -> np.ndarray:
    """Whole days from each date in ``earlier`` to ``as_of``."""
    return (as_of - earlier).dt.days.astype("Int64").to_numpy()
