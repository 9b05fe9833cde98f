"""REDCap import: dictionary, mapping, the round trip with data/sample, and
each kind of damaged export reported (never a traceback).

The committed export data/sample-redcap is the sample clinic (data/sample)
written as a longitudinal REDCap project with two arms; its records.csv rows
used below (file rows, header = 1):

    row 2   record 1, enrolment_arm_1 (the child's form)
    row 5   record 1, enrolment_arm_1, goal_review instance 1
    row 7   record 1, enrolment_arm_1, goal_review instance 3
    row 9   record 1, assessment_arm_1 instance 1 (demo-child, A00001 in data/sample)
    row 11  record 2, enrolment_arm_1
"""

from __future__ import annotations

import re
import shutil

import numpy as np
import pandas as pd
import pytest

from sensoryprofile import columns as C
from sensoryprofile.cli import main
from sensoryprofile.data.dataset import load_dataset
from sensoryprofile.data.imported import write_imported_dataset
from sensoryprofile.data.redcap import import_redcap, read_records
from sensoryprofile.data.redcap_dictionary import (
    load_mapping,
    mapping_from_dict,
    parse_choices,
    read_dictionary,
)
from sensoryprofile.data.redcap_draft import draft_mapping
from sensoryprofile.errors import DatasetError
from sensoryprofile.instruments import list_instruments
from sensoryprofile.synthetic.clinic import generate_clinic
from sensoryprofile.synthetic.redcap import redcap_export
from tests.paths import ROOT, SAMPLE

REDCAP = ROOT / "data" / "sample-redcap"
EVENTS = "enrolment_arm_1, assessment_arm_1, enrolment_arm_2, assessment_arm_2"
DC_CHOICES = ("5 = Almost always, 4 = Frequently, 3 = Half the time, 2 = Occasionally, "
              "1 = Almost never, 0 = Does not apply")


def run(argv, capsys):
    try:
        code = main([str(a) for a in argv])
    except SystemExit as exc:
        code = exc.code
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def dictionary():
    return read_dictionary(REDCAP / "dictionary.csv")


@pytest.fixture(scope="module")
def mapping(dictionary):
    return load_mapping(REDCAP / "mapping.yaml", dictionary)


@pytest.fixture(scope="module")
def sample():
    return load_dataset(SAMPLE)


def records() -> pd.DataFrame:
    return pd.read_csv(REDCAP / "records.csv", dtype=str, keep_default_na=False)


def import_damaged(tmp_path, capsys, frame: pd.DataFrame, *extra):
    """Write a damaged records file beside the sample's dictionary and mapping,
    import it with the CLI, and return (exit code, stdout+stderr, report rows)."""
    src = tmp_path / "src"
    src.mkdir()
    shutil.copy(REDCAP / "dictionary.csv", src)
    shutil.copy(REDCAP / "mapping.yaml", src)
    frame.to_csv(src / "records.csv", index=False)
    report = tmp_path / "problems.csv"
    code, out, err = run(["import", "redcap", src, "--out", tmp_path / "out", "--report",
                          report, *extra], capsys)
    rows = pd.read_csv(report, dtype=str, keep_default_na=False)
    table = [tuple(r) for r in rows[["file", "row", "column", "value", "rule", "action"]]
             .itertuples(index=False)]
    return code, out + err, table, rows


def counted(text: str, table: str, read: int, accepted: int, rejected: int) -> bool:
    """The accounting line of ``table`` says read = accepted + rejected."""
    pattern = rf"^  {re.escape(table)} +{read} = +{accepted} \+ +{rejected}$"
    return re.search(pattern, text, flags=re.MULTILINE) is not None


def assert_no_traceback(text: str) -> None:
    assert "Traceback" not in text
    assert "internal error" not in text


# ---------------------------------------------------------------------------
# the dictionary and the mapping
# ---------------------------------------------------------------------------
def test_choices_are_parsed_from_the_dictionary_column():
    assert parse_choices("1, Almost never | 2, Occasionally, or so | -2, None") == {
        "1": "Almost never", "2": "Occasionally, or so", "-2": "None"}
    assert parse_choices("") == {}


def test_dictionary_fields(dictionary):
    # 9 enrolment + (2 + 80) demo-child + (2 + 32) demo-toddler + 12 goal + 6 review
    # (goal, date, level, rater, note, note for the family)
    assert len(dictionary.fields) == 9 + 82 + 34 + 12 + 6
    assert dictionary.record_id == "record_id"
    assert dictionary.forms == ["enrolment", "demo_child", "demo_toddler", "goal",
                                "goal_review"]
    diagnoses = dictionary.fields["diagnoses"]
    assert diagnoses.type == "checkbox"
    assert diagnoses.export_columns == [f"diagnoses___{k}" for k in range(1, 6)]
    assert dictionary.fields["dob"].identifier and dictionary.fields["dob"].is_date
    assert dictionary.identifying == {"child_name", "dob"}


def test_dictionary_with_api_column_names(tmp_path, dictionary):
    web = pd.read_csv(REDCAP / "dictionary.csv", dtype=str, keep_default_na=False)
    from sensoryprofile.data.redcap_dictionary import API_COLUMNS

    web.columns = list(API_COLUMNS)
    web.to_csv(tmp_path / "api.csv", index=False)
    assert read_dictionary(tmp_path / "api.csv").fields == dictionary.fields


def test_not_a_dictionary_is_a_clear_error(tmp_path):
    (tmp_path / "d.csv").write_text("a,b\n1,2\n")
    with pytest.raises(DatasetError, match="not a REDCap data dictionary"):
        read_dictionary(tmp_path / "d.csv")


def test_mapping_problems_are_all_listed(dictionary):
    data = {"format": 1, "record_id": "record_id",
            "children": {"form": "enrolment", "fields": {"referral_date": "no_such_field",
                                                         "site": "goal_domain"}},
            "assessments": [{"form": "demo_child", "instrument": "no-such-form",
                             "date": "dc_date", "items": {"dc_001": "dc_001"}}]}
    with pytest.raises(DatasetError) as info:
        mapping_from_dict(data, dictionary, source="m.yaml")
    text = str(info.value)
    assert "3 problem(s)" in text
    assert "children.fields.referral_date: 'no_such_field' is not a field of dictionary.csv" \
        in text
    assert "children.fields.site: field 'goal_domain' is in form 'goal', not in 'enrolment'" \
        in text
    assert "assessments[0].instrument: unknown instrument 'no-such-form'" in text


def test_draft_mapping_is_the_committed_mapping(dictionary, mapping):
    """The committed mapping is the draft plus the record -> child rule and the
    events' labels: the draft places every field of the sample's dictionary."""
    events = list(mapping.events)
    draft, unmatched = draft_mapping(dictionary, list_instruments(), events=events)
    assert unmatched == []
    assert draft["child_id"] == {"prefix": "", "pad": 0}
    checked = mapping_from_dict(draft, dictionary)
    assert checked.children == mapping.children
    assert [(a.form, a.instrument.id, a.date, a.respondent, a.items)
            for a in checked.assessments] == [
        (a.form, a.instrument.id, a.date, a.respondent, a.items) for a in mapping.assessments]
    assert (checked.goals_form, checked.goals) == (mapping.goals_form, mapping.goals)
    assert (checked.ratings_form, checked.rating_goal, checked.ratings) == (
        mapping.ratings_form, mapping.rating_goal, mapping.ratings)
    assert list(checked.events) == events


def test_draft_mapping_lists_fields_it_cannot_place(tmp_path, capsys):
    frame = pd.read_csv(REDCAP / "dictionary.csv", dtype=str, keep_default_na=False)
    extra = frame.iloc[[0]].copy()
    extra.iloc[0, :5] = ["pet_name", "enrolment", "", "text", "Name of the family pet"]
    pd.concat([frame, extra]).to_csv(tmp_path / "dict.csv", index=False)
    code, out, err = run(["import", "redcap", "--dictionary", tmp_path / "dict.csv",
                          "--draft-mapping", tmp_path / "m.yaml"], capsys)
    assert code == 0, err
    assert "1 field(s) not matched" in out
    assert "enrolment.pet_name: Name of the family pet" in out
    text = (tmp_path / "m.yaml").read_text()
    assert "#   enrolment.pet_name: Name of the family pet" in text
    assert "instrument: demo-child" in text


# ---------------------------------------------------------------------------
# the round trip: the REDCap export of the sample clinic imports as data/sample
# ---------------------------------------------------------------------------
def _compare_with_sample(sample, imported) -> dict[str, int]:
    """Every child, assessment (item answers), goal and rating equal, ids mapped."""
    children = imported.children.drop(columns=C.SOURCE_ROW)
    pd.testing.assert_frame_equal(children, sample.children.drop(columns=C.SOURCE_ROW))
    # assessments: matched on (child, instrument, date, respondent), unique in the sample
    key = [C.CHILD_ID, C.INSTRUMENT, C.DATE, C.RESPONDENT]
    assert not sample.assessments.duplicated(key).any()
    ours = imported.assessments.drop(columns=[C.SOURCE_ROW]).sort_values(key)
    theirs = sample.assessments.drop(columns=[C.SOURCE_ROW]).sort_values(key)
    id_map = dict(zip(ours[C.ASSESSMENT_ID], theirs[C.ASSESSMENT_ID], strict=True))
    ours = ours.assign(**{C.ASSESSMENT_ID: ours[C.ASSESSMENT_ID].map(id_map)})
    pd.testing.assert_frame_equal(ours[theirs.columns].reset_index(drop=True),
                                  theirs.reset_index(drop=True))
    # goals: matched on (child, set date, description)
    gkey = [C.CHILD_ID, C.SET_DATE, C.DESCRIPTION]
    assert not sample.goals.duplicated(gkey).any()
    g_ours = imported.goals.drop(columns=C.SOURCE_ROW).sort_values(gkey)
    g_theirs = sample.goals.drop(columns=C.SOURCE_ROW).sort_values(gkey)
    goal_map = dict(zip(g_ours[C.GOAL_ID], g_theirs[C.GOAL_ID], strict=True))
    g_ours = g_ours.assign(**{C.GOAL_ID: g_ours[C.GOAL_ID].map(goal_map)})
    pd.testing.assert_frame_equal(g_ours.reset_index(drop=True),
                                  g_theirs.reset_index(drop=True))
    r_ours = imported.goal_ratings.drop(columns=C.SOURCE_ROW)
    r_ours = r_ours.assign(**{C.GOAL_ID: r_ours[C.GOAL_ID].map(goal_map)})
    rkey = [C.GOAL_ID, C.DATE]
    pd.testing.assert_frame_equal(
        r_ours.sort_values(rkey).reset_index(drop=True),
        sample.goal_ratings.drop(columns=C.SOURCE_ROW).sort_values(rkey).reset_index(drop=True))
    # the scores follow (same answers, same ages)
    s_ours = imported.scores.assign(**{C.ASSESSMENT_ID: imported.scores[C.ASSESSMENT_ID]
                                       .astype(str).map(id_map)})
    skey = [C.ASSESSMENT_ID, C.SCORE]
    a = s_ours.sort_values(skey).reset_index(drop=True)
    b = sample.scores.sort_values(skey).reset_index(drop=True)
    np.testing.assert_allclose(a[C.RAW].astype(float), b[C.RAW].astype(float), equal_nan=True)
    assert a[C.CLASSIFICATION].astype(object).equals(b[C.CLASSIFICATION].astype(object))
    return {t: len(getattr(imported, t)) for t in ("children", "assessments", "goals",
                                                    "goal_ratings")}


def test_round_trip_raw_export_equals_the_sample(tmp_path, dictionary, mapping, sample):
    imported = import_redcap(REDCAP / "records.csv", dictionary, mapping)
    dataset, report = write_imported_dataset(imported, tmp_path / "out")
    assert report.problems == []
    counts = _compare_with_sample(sample, dataset)
    # data/sample: 60 children, 202 assessments, 196 goals, 918 ratings
    assert counts == {"children": 60, "assessments": 202, "goals": 196, "goal_ratings": 918}
    # 60 enrolment rows + 196 goal rows + 918 review rows + 202 assessment rows = 1376
    accounting = report.accounting_frame().set_index(C.TABLE)
    assert accounting.loc["redcap rows", C.ROWS_READ] == 1376
    assert accounting.loc["redcap forms", C.ROWS_ACCEPTED] == 1376
    assert accounting[C.RECONCILES].all()
    # a child's imported ids: child-event-form-instance, child-G<goal instance>
    assert dataset.assessments[C.ASSESSMENT_ID].iloc[0] == "C0001-assessment_arm_1-demo_child-1"
    assert dataset.goals[C.GOAL_ID].iloc[0] == "C0001-G1"


def test_round_trip_labelled_export_equals_the_sample(tmp_path, dictionary, mapping, sample):
    """Choice labels, Checked/Unchecked, Complete and event labels map back to codes."""
    export = redcap_export(generate_clinic(60, 0), labels=True)
    assert export.records.loc[0, "sex"] == "Male"
    assert export.records.loc[0, "redcap_event_name"] == (
        "Enrolment (Arm 1: Referred at 3 years or older)")
    assert export.records.loc[0, "diagnoses___1"] == "Checked"
    imported = import_redcap(export.records.astype(object), dictionary, mapping)
    dataset, report = write_imported_dataset(imported, tmp_path / "out")
    assert report.problems == []
    _compare_with_sample(sample, dataset)


def test_read_records_keeps_text(dictionary):
    frame = read_records(REDCAP / "records.csv")
    assert frame.loc[0, "record_id"] == "1"
    assert frame.loc[3, "review_level"] == "-1"  # row 5, G00001 rated -1 on 2026-04-25
    assert pd.isna(frame.loc[0, "discharge_date"])


# ---------------------------------------------------------------------------
# damaged exports: one test per kind, exact report rows, exit 1, no traceback
# ---------------------------------------------------------------------------
def test_missing_event(tmp_path, capsys):
    frame = records()
    frame.loc[7, "redcap_event_name"] = ""  # row 9: record 1's first assessment
    code, text, table, rows = import_damaged(tmp_path, capsys, frame)
    assert code == 1
    assert_no_traceback(text)
    assert table == [("records.csv", "9", "redcap_event_name", "(blank)",
                      "missing event: a longitudinal export names each row's event (the "
                      f"mapping's events: {EVENTS})", "row not imported")]
    assert rows["key"].tolist() == ["record_id=1, instance=1"]
    # 1376 rows read: 1375 imported + 1 not; 201 of the sample's 202 assessments
    assert counted(text, "redcap rows", 1376, 1375, 1)
    assert counted(text, "assessments", 201, 201, 0)


def test_unknown_event(tmp_path, capsys):
    frame = records()
    frame.loc[7, "redcap_event_name"] = "followup_arm_3"
    code, text, table, rows = import_damaged(tmp_path, capsys, frame)
    assert code == 1
    assert_no_traceback(text)
    assert table == [("records.csv", "9", "redcap_event_name", "'followup_arm_3'",
                      f"unknown event: not one of the mapping's events ({EVENTS})",
                      "row not imported")]
    assert rows["key"].tolist() == ["record_id=1, event=followup_arm_3, instance=1"]


def test_missing_enrolment_event_rejects_the_records_rows(tmp_path, capsys):
    """Record 2 without its enrolment row: its assessments, goals and ratings are
    named by their records.csv rows (the loader's rules, relabelled)."""
    frame = records().drop(index=9)  # row 11: record 2's enrolment
    code, text, table, rows = import_damaged(tmp_path, capsys, frame)
    assert code == 1
    assert_no_traceback(text)
    # record 2 (C0002): 3 goals, 27 reviews, 7 assessments in data/sample
    sample = load_dataset(SAMPLE)
    n_goals = int((sample.goals[C.CHILD_ID] == "C0002").sum())
    n_ratings = int(sample.goal_ratings[C.GOAL_ID].isin(
        sample.goals.loc[sample.goals[C.CHILD_ID] == "C0002", C.GOAL_ID]).sum())
    n_ass = int((sample.assessments[C.CHILD_ID] == "C0002").sum())
    assert (n_goals, n_ratings, n_ass) == (3, 27, 7)
    assert len(table) == n_goals + n_ratings + n_ass
    assert set(rows["file"]) == {"records.csv"}
    assert all(k.startswith("record_id=2") for k in rows["key"])
    goal_rows = rows[rows["table"] == "goals"]
    assert goal_rows[["column", "value", "rule", "action"]].drop_duplicates().values.tolist() \
        == [["record_id", "'C0002'", "child_id not found in children.csv", "row rejected"]]
    rating_rows = rows[rows["table"] == "goal_ratings"]
    assert set(rating_rows["action"]) == {"dependent row rejected"}
    assert set(rating_rows["column"]) == {"review_goal"}


def test_unknown_field(tmp_path, capsys):
    frame = records()
    frame.insert(20, "dc_999", "")
    frame.loc[7, "dc_999"] = "3"
    code, text, table, _ = import_damaged(tmp_path, capsys, frame)
    assert code == 1
    assert_no_traceback(text)
    assert table == [("records.csv", "1", "dc_999", "",
                      "unknown field: not a field of the data dictionary (dictionary.csv)",
                      "column ignored")]
    assert counted(text, "assessments", 202, 202, 0)


def test_incomplete_form(tmp_path, capsys):
    frame = records()
    frame.loc[7, "demo_child_complete"] = "0"
    code, text, table, rows = import_damaged(tmp_path, capsys, frame)
    assert code == 1
    assert_no_traceback(text)
    assert table == [("records.csv", "9", "demo_child_complete", "'0'",
                      "incomplete form: its status is Incomplete; only forms at least Complete "
                      "are imported (--min-status)", "form not imported")]
    assert rows["key"].tolist() == ["record_id=1, event=assessment_arm_1, instance=1"]
    assert counted(text, "redcap forms", 1376, 1375, 1)
    # --min-status incomplete imports it
    shutil.rmtree(tmp_path / "src")
    shutil.rmtree(tmp_path / "out")
    code, text, table, _ = import_damaged(tmp_path, capsys, frame, "--min-status",
                                          "incomplete")
    assert (code, table) == (0, [])


def test_unverified_form_with_min_status_unverified(tmp_path, capsys):
    frame = records()
    frame.loc[7, "demo_child_complete"] = "1"
    code, _, table, _ = import_damaged(tmp_path, capsys, frame, "--min-status", "unverified")
    assert (code, table) == (0, [])


def test_labelled_choice_not_in_the_dictionary(tmp_path, capsys):
    frame = redcap_export(generate_clinic(60, 0), labels=True).records
    frame = frame.astype(object).where(frame.notna(), "")
    assert frame.loc[7, "dc_005"] == "Occasionally"  # A00001's dc_005 is 2 in data/sample
    frame.loc[7, "dc_005"] = "Sometimes"
    code, text, table, rows = import_damaged(tmp_path, capsys, frame)
    assert code == 1
    assert_no_traceback(text)
    assert table == [("records.csv", "9", "dc_005", "'Sometimes'",
                      f"not a choice of dc_005 in the data dictionary (choices: {DC_CHOICES})",
                      "value read as blank")]
    assert rows["key"].tolist() == [
        "record_id=1, event=assessment_arm_1, instance=1"]


def test_duplicated_instance(tmp_path, capsys):
    frame = records()
    frame = pd.concat([frame.iloc[:6], frame.iloc[[5]], frame.iloc[6:]], ignore_index=True)
    # rows 7 and 8 are now both record 1's goal_review instance 3
    code, text, table, rows = import_damaged(tmp_path, capsys, frame)
    assert code == 1
    assert_no_traceback(text)
    assert rows["key"].tolist() == [
        "record_id=1, event=enrolment_arm_1, instrument=goal_review, instance=3"]
    assert table == [("records.csv", "8", "redcap_repeat_instance", "3",
                      "duplicated instance: this record, event and instance are already on "
                      "row 7", "row not imported")]
    assert counted(text, "redcap rows", 1377, 1376, 1)


def test_identifying_values_never_appear(tmp_path, capsys):
    frame = records()
    name, dob = frame.loc[0, "child_name"], frame.loc[0, "dob"]
    frame.loc[0, "dob"] = "2019-02-30"   # not a date: reported, value hidden
    code, text, table, _ = import_damaged(tmp_path, capsys, frame)
    assert code == 1
    assert table[0][:4] == ("records.csv", "2", "dob", "(hidden: identifying)")
    for secret in (name, dob, "2019-02-30"):
        assert secret not in text
        assert secret not in (tmp_path / "problems.csv").read_text()


def test_out_must_be_new_or_empty(tmp_path, capsys):
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x.csv").write_text("x\n")
    code, _, err = run(["import", "redcap", REDCAP, "--out", tmp_path / "full"], capsys)
    assert code == 2
    assert "must be a new or empty folder" in err


def test_benchmark_export_imports_cleanly(tmp_path):
    """benchmarks/imports.py's generated export (here 20 children x 5
    administrations, 3 goals x 4 reviews each) imports with no problem."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("benchmark_imports",
                                                  ROOT / "benchmarks" / "imports.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    size = bench.write_export(tmp_path, children=20, administrations=5)
    # 20 enrolment + 60 goal + 240 review + 100 assessment rows
    assert size["rows"] == 20 + 60 + 240 + 100
    result = bench.worker("ours", tmp_path, repeats=1)
    assert result["problems"] == 0
    assert result["counts"] == {"children": 20, "assessments": 100, "goals": 60,
                                "goal_ratings": 240}


def test_draft_from_a_records_file_lists_its_events_and_missing_items(tmp_path, capsys):
    src = tmp_path / "src"
    src.mkdir()
    frame = pd.read_csv(REDCAP / "dictionary.csv", dtype=str, keep_default_na=False)
    # the form lacks dc_079 and dc_080: 78 of 80 items still place it as demo-child
    frame = frame[~frame["Variable / Field Name"].isin(["dc_079", "dc_080"])]
    frame.to_csv(src / "dictionary.csv", index=False)
    shutil.copy(REDCAP / "records.csv", src)
    code, out, err = run(["import", "redcap", src, "--draft-mapping", tmp_path / "m.yaml"],
                         capsys)
    assert code == 0, err
    text = (tmp_path / "m.yaml").read_text()
    assert "events:\n  enrolment_arm_1: null\n  assessment_arm_1: null\n" \
           "  enrolment_arm_2: null\n  assessment_arm_2: null\n" in text
    assert "#   demo_child: 2 item(s) of demo-child with no field: dc_079, dc_080" in text
    assert "demo_child: 2 item(s) of demo-child with no field: dc_079, dc_080" in out


def test_label_headers_are_refused_with_a_message(tmp_path, capsys):
    frame = records().rename(columns={"record_id": "Record ID", "dob": "Date of birth"})
    src = tmp_path / "src"
    src.mkdir()
    shutil.copy(REDCAP / "dictionary.csv", src)
    shutil.copy(REDCAP / "mapping.yaml", src)
    frame.to_csv(src / "records.csv", index=False)
    code, out, err = run(["import", "redcap", src, "--out", tmp_path / "out"], capsys)
    assert code == 1
    assert "records.csv: the column headers are field labels, not variable names" in err
    assert_no_traceback(out + err)
