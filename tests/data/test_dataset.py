"""Clinic datasets: loading, every validation rule with its exact report row,
accounting, CSV/XLSX equivalence, structural errors, init."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import load_workbook

from sensoryprofile import columns as C
from sensoryprofile.cli import main
from sensoryprofile.data.dataset import load_dataset
from sensoryprofile.data.template import write_template
from sensoryprofile.errors import DataProblemsError, DatasetError
from sensoryprofile.instruments import load_instrument

TODAY = dt.date(2026, 11, 1)
DC = load_instrument("demo-child")
ITEMS = list(DC.item_ids)


def _children():
    return [
        {"child_id": "C1", "date_of_birth": "2018-03-15", "sex": "F", "diagnoses": "autism",
         "site": "North", "therapist": "T. One", "referral_date": "2023-01-10",
         "discharge_date": "", "display_name": "Secret Name"},
        {"child_id": "C2", "date_of_birth": "2019-05-01", "sex": "M", "diagnoses": "none",
         "site": "South", "therapist": "T. Two", "referral_date": "2023-02-01",
         "discharge_date": "2024-02-01", "display_name": "Other Name"},
    ]


def _assessments():
    rows = []
    for k, (aid, cid, date) in enumerate([("A1", "C1", "2023-01-20"), ("A2", "C1", "2023-07-20"),
                                          ("A3", "C2", "2023-02-10")]):
        row = {"assessment_id": aid, "child_id": cid, "instrument": "demo-child", "date": date,
               "respondent": "caregiver"}
        row.update({item: str(2 + (k % 2)) for item in ITEMS})
        rows.append(row)
    return rows


def _goals():
    base = {"domain": "self-care", "description": "Puts on socks", "importance": "2",
            "difficulty": "3", "baseline_level": "-1", "level_-2": "a", "level_-1": "b",
            "level_0": "c", "level_+1": "d", "level_+2": "e", "target_date": "2023-07-01"}
    return [dict(base, goal_id="G1", child_id="C1", set_date="2023-01-25"),
            dict(base, goal_id="G2", child_id="C2", set_date="2023-02-15")]


def _ratings():
    return [{"goal_id": "G1", "date": "2023-04-01", "level": "0", "rater": "therapist",
             "note": ""},
            {"goal_id": "G1", "date": "2023-07-01", "level": "1", "rater": "therapist",
             "note": "doing well"},
            {"goal_id": "G2", "date": "2023-05-01", "level": "-1", "rater": "caregiver",
             "note": ""}]


def write_dataset(folder: Path, *, children=None, assessments=None, goals=None, ratings=None,
                  settings: str | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, rows in (("children", children or _children()),
                       ("assessments", assessments or _assessments()),
                       ("goals", goals or _goals()), ("goal_ratings", ratings or _ratings())):
        pd.DataFrame(rows).to_csv(folder / f"{name}.csv", index=False)
    if settings is not None:
        (folder / "dataset.yaml").write_text(settings)
    return folder


def problems(dataset):
    return [(p.file, p.row, p.column, p.value, p.rule, p.action) for p in dataset.report.problems]


def test_clean_dataset_loads_with_no_problems_and_reconciles(tmp_path):
    ds = load_dataset(write_dataset(tmp_path / "d"), today=TODAY)
    assert problems(ds) == []
    counts = {t: (c.read, c.accepted, c.rejected) for t, c in ds.report.counts.items()}
    assert counts == {"children": (2, 2, 0), "assessments": (3, 3, 0), "goals": (2, 2, 0),
                      "goal_ratings": (3, 3, 0)}
    # 3 assessments x 13 demo-child scores
    assert len(ds.scores) == 39
    assert ds.children[C.DATE_OF_BIRTH].dtype == "datetime64[ns]"
    assert ds.goals[C.IMPORTANCE].dtype == "Int64"
    # respondent defaults are kept, the instrument is resolved
    assert set(ds.instruments) == {"demo-child"}
    # A1: child C1 born 2018-03-15, assessed 2023-01-20 -> 4 y 10 m = 58 completed months
    a1 = ds.scores[ds.scores[C.ASSESSMENT_ID] == "A1"]
    assert a1[C.AGE_MONTHS].iloc[0] == 58
    # every item 2 -> seeking = 15 x 2 = 30
    assert a1.loc[a1[C.SCORE] == "seeking", C.RAW].iloc[0] == 30


# --- one test per rule: the exact report row --------------------------------------------
def test_id_pattern(tmp_path):
    kids = _children()
    kids[1]["child_id"] = "C 2"
    ds = load_dataset(write_dataset(tmp_path / "d", children=kids), today=TODAY)
    rows = problems(ds)
    # no children.csv value is shown but a valid child ID (a name could sit under any header)
    assert rows[0] == ("children.csv", 3, "child_id", "(hidden: identifying)",
                       "IDs use 1 to 64 letters, digits, '_' or '-', and do not start with '-' (they "
                           "become file names)",
                       "row rejected")
    # C2's assessment and goal now point at no child: rejected as missing parent
    assert ("assessments.csv", 4, "child_id", "'C2'", "child_id not found in children.csv",
            "row rejected") in rows


def test_duplicate_key_keeps_the_first(tmp_path):
    rows = _assessments()
    rows[2]["assessment_id"] = "A1"
    ds = load_dataset(write_dataset(tmp_path / "d", assessments=rows), today=TODAY)
    assert problems(ds) == [("assessments.csv", 4, "assessment_id", "'A1'",
                             "duplicate assessment_id (first on row 2)", "row rejected")]
    assert ds.report.counts["assessments"].accepted == 2


def test_dependent_rows_of_a_rejected_child_are_rejected(tmp_path):
    kids = _children()
    kids[1]["date_of_birth"] = "03/04/2019"
    ds = load_dataset(write_dataset(tmp_path / "d", children=kids), today=TODAY)
    rows = problems(ds)
    # the date of birth is identifying: its value is hidden, and the rule does not echo it
    assert rows[0] == ("children.csv", 3, "date_of_birth", "(hidden: identifying)",
                       "ambiguous date: it could be read day-first or month-first, so it is "
                       "not guessed; dates must be ISO 8601 (YYYY-MM-DD)", "row rejected")
    assert ("assessments.csv", 4, "child_id", "'C2'", "its child (child_id=C2) was rejected",
            "dependent row rejected") in rows
    assert ("goals.csv", 3, "child_id", "'C2'", "its child (child_id=C2) was rejected",
            "dependent row rejected") in rows
    assert ("goal_ratings.csv", 4, "goal_id", "'G2'", "its goal (goal_id=G2) was rejected",
            "dependent row rejected") in rows
    assert "03/04/2019" not in ds.report.format_text()
    counts = {t: (c.read, c.accepted, c.rejected) for t, c in ds.report.counts.items()}
    assert counts == {"children": (2, 1, 1), "assessments": (3, 2, 1), "goals": (2, 1, 1),
                      "goal_ratings": (3, 2, 1)}


def test_unparseable_and_future_dates(tmp_path):
    rows = _assessments()
    rows[0]["date"] = "2023-13-40"
    rows[1]["date"] = "2027-01-01"
    ds = load_dataset(write_dataset(tmp_path / "d", assessments=rows), today=TODAY)
    assert problems(ds) == [
        ("assessments.csv", 2, "date", "'2023-13-40'", "not a calendar date", "row rejected"),
        ("assessments.csv", 3, "date", "'2027-01-01'",
         "date is in the future (after today, 2026-11-01)", "row rejected"),
    ]


def test_assessment_before_birth(tmp_path):
    rows = _assessments()
    rows[2]["date"] = "2019-01-01"  # C2 born 2019-05-01
    ds = load_dataset(write_dataset(tmp_path / "d", assessments=rows), today=TODAY)
    assert problems(ds) == [("assessments.csv", 4, "date", "'2019-01-01'",
                             "assessment dated before the child's date of birth",
                             "row rejected")]


def test_rating_before_set_date_and_duplicate_rating(tmp_path):
    rates = _ratings()
    rates[0]["date"] = "2023-01-01"  # G1 set 2023-01-25
    rates.append(dict(rates[1]))     # same goal, same date
    ds = load_dataset(write_dataset(tmp_path / "d", ratings=rates), today=TODAY)
    assert problems(ds) == [
        ("goal_ratings.csv", 2, "date", "'2023-01-01'",
         "rating dated before its goal's set_date", "row rejected"),
        ("goal_ratings.csv", 5, "date", "'2023-07-01'",
         "duplicate rating: this goal already has a rating on this date", "row rejected"),
    ]


def test_goal_level_five_and_six_level_scales(tmp_path):
    rates = _ratings()
    rates[2]["level"] = "-3"
    ds = load_dataset(write_dataset(tmp_path / "five", ratings=rates), today=TODAY)
    assert problems(ds) == [("goal_ratings.csv", 4, "level", "'-3'",
                             "level is -2, -1, 0, +1 or +2 (the dataset does not declare the "
                             "six-level scale, so -3 is not allowed)", "row rejected")]
    ds6 = load_dataset(write_dataset(tmp_path / "six", ratings=rates,
                                     settings="gas_six_level: true\n"), today=TODAY)
    assert problems(ds6) == []
    assert ds6.gas_six_level is True
    assert ds6.goal_ratings[C.LEVEL].tolist() == [0, 1, -3]


def test_importance_difficulty_baseline_and_whole_numbers(tmp_path):
    goals = _goals()
    goals[0]["importance"] = "4"
    goals[0]["difficulty"] = "1.5"
    goals[1]["baseline_level"] = "0"
    ds = load_dataset(write_dataset(tmp_path / "d", goals=goals), today=TODAY)
    rows = problems(ds)
    assert rows[:3] == [
        ("goals.csv", 2, "difficulty", "'1.5'", "must be a whole number", "row rejected"),
        ("goals.csv", 2, "importance", "'4'", "importance is 0, 1, 2 or 3 (or blank: "
         "unweighted)", "row rejected"),
        ("goals.csv", 3, "baseline_level", "'0'", "baseline_level is -1 (some ability) or -2 "
         "(none)", "row rejected"),
    ]
    # their ratings go with them
    assert ds.report.counts["goal_ratings"].accepted == 0


def test_item_value_off_scale_invalidates_only_its_scores(tmp_path):
    rows = _assessments()
    rows[0][ITEMS[0]] = "7"
    ds = load_dataset(write_dataset(tmp_path / "d", assessments=rows), today=TODAY)
    assert problems(ds) == [("assessments.csv", 2, "dc_001", "'7'",
                             "not on demo-child's response scale; allowed: 0, 1, 2, 3, 4, 5 "
                             "(or their labels)", "score invalidated")]
    a1 = ds.scores[ds.scores[C.ASSESSMENT_ID] == "A1"].set_index(C.SCORE)
    item = DC.items[0]
    assert not a1.loc[item.quadrant, C.VALID] and not a1.loc[item.section, C.VALID]
    assert a1[C.VALID].sum() == 11  # 13 scores, 2 contain dc_001
    assert ds.report.counts["assessments"].rejected == 0


def test_unknown_instrument_and_unknown_column(tmp_path):
    rows = _assessments()
    rows[1]["instrument"] = "sp2-child"
    for row in rows:
        row["mystery"] = ""
    ds = load_dataset(write_dataset(tmp_path / "d", assessments=rows), today=TODAY)
    assert problems(ds) == [
        ("assessments.csv", 1, "mystery", "", "column belongs to no known instrument",
         "column ignored"),
        ("assessments.csv", 3, "instrument", "'sp2-child'",
         "unknown instrument: not one of the shipped instruments (demo-child, demo-toddler), "
         "and no definition file declares it in instruments/ or the clinic's folders "
         "(--instruments, SENSORYPROFILE_INSTRUMENTS)", "row rejected"),
    ]


def test_required_value_missing(tmp_path):
    goals = _goals()
    goals[1]["domain"] = ""
    ds = load_dataset(write_dataset(tmp_path / "d", goals=goals), today=TODAY)
    assert problems(ds)[0] == ("goals.csv", 3, "domain", "(blank)", "domain is required",
                               "row rejected")


def test_date_order_rules(tmp_path):
    kids = _children()
    kids[1]["discharge_date"] = "2022-01-01"   # before referral 2023-02-01
    goals = _goals()
    goals[0]["target_date"] = "2022-12-01"     # before set 2023-01-25
    ds = load_dataset(write_dataset(tmp_path / "d", children=kids, goals=goals), today=TODAY)
    rows = problems(ds)
    assert ("children.csv", 3, "discharge_date", "(hidden: identifying)",
            "discharge_date is before referral_date", "row rejected") in rows
    assert ("goals.csv", 2, "target_date", "'2022-12-01'", "target_date is before set_date",
            "row rejected") in rows


def test_identifying_values_never_reported(tmp_path):
    kids = _children()
    kids[0]["sex"] = "female?"
    kids[0]["display_name"] = "Secret Name"
    ds = load_dataset(write_dataset(tmp_path / "d", children=kids), today=TODAY)
    text = ds.report.format_text() + ds.report.to_frame().to_csv()
    assert "Secret Name" not in text and "2018-03-15" not in text
    assert "child_id=C1" in text


# --- structure ---------------------------------------------------------------------------
def test_missing_file_and_missing_column_stop_loading(tmp_path):
    folder = write_dataset(tmp_path / "d")
    (folder / "goals.csv").unlink()
    with pytest.raises(DatasetError, match=r"missing file\(s\) goals.csv"):
        load_dataset(folder, today=TODAY)
    folder = write_dataset(tmp_path / "e")
    pd.DataFrame(_ratings()).drop(columns=["level"]).to_csv(folder / "goal_ratings.csv",
                                                            index=False)
    with pytest.raises(DatasetError) as err:
        load_dataset(folder, today=TODAY)
    assert str(err.value) == ("goal_ratings.csv: missing required column(s) level; the table "
                              "needs goal_id, date, level")


def test_unreadable_workbook(tmp_path):
    bad = tmp_path / "clinic.xlsx"
    bad.write_bytes(b"not a zip file")
    with pytest.raises(DatasetError, match="cannot be read as an Excel workbook"):
        load_dataset(bad, today=TODAY)


def test_strict_mode_raises(tmp_path):
    rows = _assessments()
    rows[0][ITEMS[0]] = "9"
    with pytest.raises(DataProblemsError, match="1 problem"):
        load_dataset(write_dataset(tmp_path / "d", assessments=rows), strict=True, today=TODAY)


# --- Excel realities and CSV/XLSX equivalence -----------------------------------------------
def _to_workbook(folder: Path, out: Path, *, numbers=True) -> Path:
    with pd.ExcelWriter(out, engine="openpyxl") as xw:
        for table in ("children", "assessments", "goals", "goal_ratings"):
            frame = pd.read_csv(folder / f"{table}.csv", dtype=str, keep_default_na=False)
            if numbers:  # as a person types into Excel: numbers and dates as cells
                for col in frame.columns:
                    if col.startswith("dc_") or col in ("importance", "difficulty",
                                                        "baseline_level", "level"):
                        frame[col] = pd.to_numeric(frame[col])
                    elif "date" in col:
                        frame[col] = pd.to_datetime(frame[col].replace("", None))
            frame.to_excel(xw, sheet_name=table, index=False)
        # Excel's empty trailing rows
        pd.DataFrame({"child_id": [None, None]}).to_excel(
            xw, sheet_name="children", startrow=len(pd.read_csv(folder / "children.csv")) + 1,
            index=False, header=False)
    return out


def test_csv_and_xlsx_load_to_identical_tables(tmp_path):
    folder = write_dataset(tmp_path / "d")
    csv = load_dataset(folder, today=TODAY)
    xlsx = load_dataset(_to_workbook(folder, tmp_path / "clinic.xlsx"), today=TODAY)
    assert problems(xlsx) == []
    for table in ("children", "assessments", "goals", "goal_ratings", "scores"):
        pd.testing.assert_frame_equal(getattr(csv, table), getattr(xlsx, table),
                                      check_dtype=True, obj=table)


def test_bom_trailing_spaces_and_numbers_as_text(tmp_path):
    folder = write_dataset(tmp_path / "d")
    text = (folder / "goals.csv").read_text()
    text = text.replace(",2,3,-1,", ", 2 ,3 , -1,")
    (folder / "goals.csv").write_text("\ufeff" + text, encoding="utf-8")
    ds = load_dataset(folder, today=TODAY)
    assert problems(ds) == []
    assert ds.goals[C.IMPORTANCE].tolist() == [2, 2]
    # the first header ("domain") was read without the BOM in front of it
    assert C.DOMAIN in ds.goals.columns and not any("\ufeff" in c for c in ds.goals.columns)


# --- init ---------------------------------------------------------------------------------
def test_init_csv_writes_headers_and_loads_empty(tmp_path, capsys):
    assert main(["init", str(tmp_path / "new")]) == 0
    header = (tmp_path / "new" / "assessments.csv").read_text().strip().split(",")
    assert header[:5] == ["assessment_id", "child_id", "instrument", "date", "respondent"]
    assert header[5:] == ITEMS
    assert "## goal_ratings" in (tmp_path / "new" / "README.md").read_text()
    ds = load_dataset(tmp_path / "new", today=TODAY)
    assert problems(ds) == [] and len(ds.scores) == 0
    # never overwrites
    assert main(["init", str(tmp_path / "new")]) == 2


def test_init_xlsx_has_dropdowns(tmp_path):
    write_template(tmp_path / "x", xlsx=True, instruments=["demo-child", "demo-toddler"])
    wb = load_workbook(tmp_path / "x" / "dataset.xlsx")
    assert wb.sheetnames == ["children", "assessments", "goals", "goal_ratings", "settings"]
    formulas = {str(dv.sqref): dv.formula1 for dv in
                wb["goal_ratings"].data_validations.dataValidation}
    assert list(formulas.values()) == ['"-2,-1,0,1,2"']
    goal_rules = sorted(dv.formula1 for dv in wb["goals"].data_validations.dataValidation)
    assert goal_rules == ['"-1,-2"', '"0,1,2,3"', '"0,1,2,3"']
    item_rules = {dv.formula1: str(dv.sqref) for dv in
                  wb["assessments"].data_validations.dataValidation}
    assert '"0,1,2,3,4,5"' in item_rules and '"1,2,3,4,5,9"' in item_rules
    # 80 demo-child item columns in one rule, each over rows 2..2000
    assert len(item_rules['"0,1,2,3,4,5"'].split()) == 80
    assert all(dv.showErrorMessage for dv in wb["assessments"].data_validations.dataValidation)
    ds = load_dataset(tmp_path / "x" / "dataset.xlsx", today=TODAY)
    assert problems(ds) == []


def test_validate_cli_exit_codes_and_csv(tmp_path, capsys):
    folder = write_dataset(tmp_path / "d")
    assert main(["validate", str(folder), "--today", "2026-11-01"]) == 0
    rows = _assessments()
    rows[0][ITEMS[3]] = "often"
    bad = write_dataset(tmp_path / "bad", assessments=rows)
    capsys.readouterr()
    assert main(["validate", str(bad), "--format", "csv", "--today", "2026-11-01"]) == 1
    out = capsys.readouterr().out
    assert out.splitlines()[0] == "file,row,column,value,rule,action,table,key"
    assert "assessments.csv,2,dc_004,'often'" in out
    assert main(["validate", str(tmp_path / "nowhere")]) == 1
    assert "no such dataset" in capsys.readouterr().err
    assert main(["validate", str(bad), "--format", "xml"]) == 2


def test_sample_folder_round_trip(tmp_path):
    """A dataset folder copied elsewhere loads the same (paths are not part of the data)."""
    folder = write_dataset(tmp_path / "d")
    shutil.copytree(folder, tmp_path / "copy")
    a, b = load_dataset(folder, today=TODAY), load_dataset(tmp_path / "copy", today=TODAY)
    pd.testing.assert_frame_equal(a.scores, b.scores)


def test_date_cells_in_text_columns_of_a_workbook_are_read_as_iso_text(tmp_path):
    # An Excel date cell where text belongs (openpyxl gives a datetime.datetime)
    # crashed validate: "'datetime.datetime' object has no attribute 'normalize'".
    book = _to_workbook(write_dataset(tmp_path / "d"), tmp_path / "clinic.xlsx")
    wb = load_workbook(book)
    wb["children"]["E2"] = dt.datetime(2025, 3, 4)  # site of C1
    wb["goal_ratings"]["E3"] = dt.datetime(9999, 12, 31, 13, 30)  # note of G1's 2nd rating
    wb.save(book)
    ds = load_dataset(book, today=TODAY)
    assert ds.children[C.SITE].tolist() == ["2025-03-04", "South"]
    assert ds.goal_ratings[C.NOTE].tolist()[1] == "9999-12-31T13:30:00"
    # the site is outside no vocabulary and the note is free text: nothing to report
    assert problems(ds) == []


def test_date_and_boolean_cells_in_id_columns_are_not_ids(tmp_path):
    # Excel turns an ID such as "3-12" into a date; as text ("2025-03-12") or as
    # TRUE/FALSE ("True") it would pass the ID rule and be accepted silently.
    book = _to_workbook(write_dataset(tmp_path / "d"), tmp_path / "clinic.xlsx")
    wb = load_workbook(book)
    wb["assessments"]["A3"] = dt.datetime(2025, 3, 12)  # assessment_id of A2
    wb["goal_ratings"]["A4"] = True  # goal_id of the third rating
    wb.save(book)
    ds = load_dataset(book, today=TODAY)
    assert problems(ds) == [
        ("clinic.xlsx[assessments]", 3, "assessment_id", "2025-03-12 00:00:00",
         "a date cell (Excel may have turned the ID typed into a date), not an ID; format the "
         "column as Text and type the ID again", "row rejected"),
        ("clinic.xlsx[goal_ratings]", 4, "goal_id", "True",
         "a TRUE/FALSE cell, not an ID; format the column as Text and type the ID again",
         "row rejected")]
    assert [(c.read, c.accepted) for c in ds.report.counts.values()] == [
        (2, 2), (3, 2), (2, 2), (3, 2)]


@pytest.mark.parametrize("a, b", [("display_name", "referral_date"),
                                  ("display_name", "child_id"), ("display_name", "sex"),
                                  ("display_name", "diagnoses"),
                                  ("date_of_birth", "child_id"),
                                  ("date_of_birth", "referral_date"),
                                  ("date_of_birth", "discharge_date")])
def test_swapped_children_headers_leak_no_name_or_birth_date(tmp_path, a, b):
    # With two header names exchanged, names (or dates of birth) sit under another
    # header, and the values hidden as identifying were the wrong ones: before the
    # fix validate printed "column referral_date: value 'Secret Name': not a date",
    # "referral_date is before the date of birth" with the real date of birth, and
    # a date of birth under child_id (it passes the ID rule) as the row's key.
    folder = write_dataset(tmp_path / "d")
    kids = pd.read_csv(folder / "children.csv", dtype=str, keep_default_na=False)
    kids = kids.rename(columns={a: b, b: a})
    kids.to_csv(folder / "children.csv", index=False)
    ds = load_dataset(folder, today=TODAY)
    text = ds.report.format_text() + ds.report.to_frame().to_csv()
    assert ds.report.problems  # the swap is found ...
    for secret in ("Secret Name", "Other Name", "Secret", "2018-03-15", "2019-05-01"):
        assert secret not in text  # ... and nothing identifying is shown


def test_a_setting_given_twice_is_refused(tmp_path):
    # PyYAML keeps the last of two equal keys: gas_six_level true, then false, was
    # read as false with no word said.
    folder = write_dataset(tmp_path / "d", settings="gas_six_level: true\n"
                                                     "gas_six_level: false\n")
    with pytest.raises(DatasetError) as err:
        load_dataset(folder, today=TODAY)
    assert str(err.value) == "dataset.yaml: line 2: key 'gas_six_level' is given twice"
    # the same in a workbook's settings sheet (row 3 repeats row 2's key)
    book = _to_workbook(write_dataset(tmp_path / "e"), tmp_path / "clinic.xlsx")
    wb = load_workbook(book)
    sheet = wb.create_sheet("settings")
    for row in (["key", "value"], ["reassessment_interval_months", 6],
                ["reassessment_interval_months ", 12]):
        sheet.append(row)
    wb.save(book)
    with pytest.raises(DatasetError) as err:
        load_dataset(book, today=TODAY)
    assert str(err.value) == ("clinic.xlsx[settings]: row 3: setting "
                              "'reassessment_interval_months' is given twice")


def test_a_name_typed_into_an_item_cell_is_hidden(tmp_path):
    # Scoring's problems were collected in a report that did not know the dataset's
    # names: "column dc_001: value 'Secret Name': not on demo-child's response scale".
    rows = _assessments()
    rows[0][ITEMS[0]] = "Secret Name"
    ds = load_dataset(write_dataset(tmp_path / "d", assessments=rows), today=TODAY)
    assert problems(ds) == [("assessments.csv", 2, ITEMS[0], "(hidden: identifying)",
                             "not on demo-child's response scale; allowed: 0, 1, 2, 3, 4, 5 "
                             "(or their labels)", "score invalidated")]
