"""Scoring an assessments table (data/assessments.py): regression tests for what
the fuzz suite (test_fuzz.py) found."""

from __future__ import annotations

import pandas as pd

from sensoryprofile import columns as C
from sensoryprofile.data.assessments import score_assessments
from sensoryprofile.data.validation import NOT_CLASSIFIED, ValidationReport
from sensoryprofile.instruments import load_instrument

DC = load_instrument("demo-child")


def _extract_rows(ages: list[str]) -> pd.DataFrame:
    """demo-child rows of a no-dates extract: ages in months, no dates of birth."""
    rows = []
    for k, age in enumerate(ages):
        row = {C.ASSESSMENT_ID: f"A{k + 1}", C.CHILD_ID: f"C{k + 1}",
               C.INSTRUMENT: "demo-child", C.AGE_MONTHS: age}
        row.update({item: "3" for item in DC.item_ids})
        rows.append(row)
    return pd.DataFrame(rows)


def test_an_age_in_months_that_is_not_a_number_is_reported():
    # A no-dates extract's age_months of "abc" or "nan" left the scores without
    # norms and nothing was reported; -1 was reported as "assessment dated before
    # the child's date of birth" on a date column the extract does not have (and,
    # with no children table, not at all).
    report = ValidationReport()
    scores = score_assessments(_extract_rows(["60", "abc", "nan", "-1"]), report=report)
    assert [(p.row, p.column, p.value, p.rule, p.action) for p in report.problems] == [
        (3, C.AGE_MONTHS, "'abc'", "age_months is not a number of months", NOT_CLASSIFIED),
        (4, C.AGE_MONTHS, "'nan'", "age_months is not a number of months", NOT_CLASSIFIED),
        (5, C.AGE_MONTHS, "'-1'", "age_months is below 0", NOT_CLASSIFIED)]
    seeking = scores[scores[C.SCORE] == "seeking"]
    # 60 months is in the 36-71 band; the others have no age to norm by
    assert seeking[C.NORM_BAND].notna().tolist() == [True, False, False, False]


def test_an_age_given_beside_a_date_of_birth_is_not_used_nor_checked():
    children = pd.DataFrame({C.CHILD_ID: ["C1"], C.DATE_OF_BIRTH: ["2018-01-15"]})
    rows = _extract_rows(["abc"]).assign(**{C.DATE: "2023-01-15"})
    report = ValidationReport()
    scores = score_assessments(rows, children=children, report=report)
    assert report.problems == []
    # 2018-01-15 to 2023-01-15: 5 years = 60 completed months, from the dates
    assert scores[C.AGE_MONTHS].iloc[0] == 60
