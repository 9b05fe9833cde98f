"""Strict reading of CSV files and workbook sheets (data/tables.py): every row of
the file is read, rejected by line, or noted; regression tests for what the
fuzz suite (test_fuzz.py) found."""

from __future__ import annotations

import datetime as dt

import pandas as pd
from openpyxl import Workbook

from sensoryprofile.data.tables import RowProblem, read_csv_rows, read_excel_rows

RATINGS = "goal_id,date,level,rater,note\n"


def _write(tmp_path, text: str, name: str = "goal_ratings.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# --- quotes and line breaks --------------------------------------------------------------
def test_a_line_break_in_a_quoted_note_is_kept_and_noted(tmp_path):
    path = _write(tmp_path, RATINGS + 'G1,2025-01-01,0,therapist,"two\nlines"\n'
                  "G1,2025-02-01,1,therapist,fine\n")
    read = read_csv_rows(path, free_text={"note"})
    assert (read.rows_read, len(read.frame)) == (2, 2)
    assert read.frame["note"].tolist() == ["two\nlines", "fine"]
    assert read.problems == [RowProblem(2, "a line break inside the quoted note cell (lines "
                                           "2-3) was kept", False)]


def test_an_unclosed_quote_in_the_last_column_does_not_swallow_the_rows_below(tmp_path):
    # The note of line 2 opens a quote that is never closed: before the fix the
    # csv module ran lines 2-4 into one row whose note held lines 3 and 4, kept
    # as "a line break inside the quoted note cell" -- 3 rows of the file, 1 read.
    path = _write(tmp_path, RATINGS + 'G1,2025-01-01,0,therapist,"Progress slowed\n'
                  "G1,2025-02-01,1,therapist,fine\nG2,2025-01-01,0,caregiver,ok\n")
    read = read_csv_rows(path, free_text={"note"})
    rule = ("lines 2-4 run together: a quote opened on line 2 is not closed on its line (an "
            "unbalanced quote?); the line was not read as a row")
    assert read.problems == [RowProblem(2, rule, True), RowProblem(3, rule, True),
                             RowProblem(4, rule, True)]
    # every line of the file is a row read: 0 in the table + 3 rejected
    assert (read.rows_read, len(read.frame), read.n_rejected) == (3, 0, 3)


def test_blank_lines_inside_an_unbalanced_run_are_not_rows(tmp_path):
    path = _write(tmp_path, RATINGS + 'G1,2025-01-01,0,therapist,"open\n\n'
                  "G1,2025-02-01,1,therapist,fine\n")
    read = read_csv_rows(path, free_text={"note"})
    # lines 2 and 4 hold rows, line 3 is blank: 2 rows read, both rejected
    assert [p.line for p in read.problems] == [2, 4]
    assert (read.rows_read, read.n_rejected) == (2, 2)


# --- trailing commas ---------------------------------------------------------------------
def test_trailing_commas_on_the_header_are_ignored_and_noted(tmp_path):
    # Before the fix the header's empty last name made every row one field
    # short: all rows rejected ("the row has 5 field(s) but the header has 6").
    path = _write(tmp_path, "goal_id,date,level,rater,note,\n"
                  "G1,2025-01-01,0,therapist,ok\n")
    read = read_csv_rows(path, free_text={"note"})
    assert list(read.frame.columns) == ["source_row", "goal_id", "date", "level", "rater",
                                        "note"]
    assert (read.rows_read, len(read.frame)) == (1, 1)
    assert read.problems == [RowProblem(1, "the header row ends with 1 empty column name(s) "
                                           "(trailing commas?); they were ignored", False)]


def test_a_spreadsheet_export_with_empty_columns_on_every_line_is_read(tmp_path):
    # Before the fix: "column(s) '' appear more than once in the header row", the
    # whole file refused.
    path = _write(tmp_path, "goal_id,date,level,,\nG1,2025-01-01,0,,\nG2,2025-01-01,1,,\n")
    read = read_csv_rows(path)
    assert read.frame[["goal_id", "level"]].values.tolist() == [["G1", "0"], ["G2", "1"]]
    assert [p.rule for p in read.problems] == [
        "the header row ends with 2 empty column name(s) (trailing commas?); they were "
        "ignored",
        "2 row(s) end with empty fields beyond the header (trailing commas?); the empty "
        "fields were ignored"]


# --- workbooks ---------------------------------------------------------------------------
def test_a_formula_with_no_saved_value_is_noted_not_read_as_a_silent_blank(tmp_path):
    # openpyxl (and other programs that write workbooks without computing them)
    # saves only the formula; pandas reads the saved value, which is absent.
    book = Workbook()
    sheet = book.active
    sheet.title = "goal_ratings"
    sheet.append(["goal_id", "date", "level"])
    sheet.append(["G1", dt.date(2025, 1, 1), "=1+1"])
    sheet.append(["G2", dt.date(2025, 1, 1), 1])
    book.save(tmp_path / "clinic.xlsx")
    read = read_excel_rows(tmp_path / "clinic.xlsx", "goal_ratings")
    assert read.rows_read == 2
    assert read.frame["level"].isna().tolist() == [True, False]
    assert read.problems == [RowProblem(2, "the level cell holds a formula with no saved value, "
                                           "or an error as its value (the workbook was not saved "
                                           "by a spreadsheet program, or the formula fails), so "
                                           "it was read as blank", False)]


def test_a_workbook_without_formulas_has_no_notes(tmp_path):
    book = Workbook()
    book.active.title = "goal_ratings"
    book.active.append(["goal_id", "date", "level"])
    book.active.append(["G1", dt.date(2025, 1, 1), 0])
    book.save(tmp_path / "clinic.xlsx")
    assert read_excel_rows(tmp_path / "clinic.xlsx", "goal_ratings").problems == []


def test_na_words_in_a_workbook_are_text_as_in_a_csv_file(tmp_path):
    # pandas reads the text "NA", "N/A", "None", "null" or "nan" of a workbook cell
    # as a blank (its default NA words): an item answered "N/A" became a missing
    # item without a word, where the same CSV cell is reported as off the scale.
    book = Workbook()
    sheet = book.active
    sheet.title = "assessments"
    sheet.append(["assessment_id", "dc_001", "dc_002", "dc_003", "dc_004", "dc_005", "dc_006"])
    sheet.append(["A1", "NA", "N/A", "None", "null", "nan", None])
    book.save(tmp_path / "clinic.xlsx")
    read = read_excel_rows(tmp_path / "clinic.xlsx", "assessments")
    assert read.frame.iloc[0, 2:].tolist()[:5] == ["NA", "N/A", "None", "null", "nan"]
    assert pd.isna(read.frame["dc_006"].iloc[0])  # an empty cell is still blank


def test_an_error_value_in_a_workbook_is_noted(tmp_path):
    # pandas reads an error cell (#N/A typed, or pasted as a value) as a blank
    book = Workbook()
    sheet = book.active
    sheet.title = "goal_ratings"
    sheet.append(["goal_id", "date", "level"])
    sheet.append(["G1", dt.date(2025, 1, 1), "#N/A"])
    book.save(tmp_path / "clinic.xlsx")
    read = read_excel_rows(tmp_path / "clinic.xlsx", "goal_ratings")
    assert read.frame["level"].isna().tolist() == [True]
    assert read.problems == [RowProblem(2, "the level cell holds the error value #N/A, so it "
                                           "was read as blank", False)]
