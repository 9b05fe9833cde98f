"""FHIR R4 import and export: the round trip with data/sample, export -> import
gives the same scores, answers in nested groups and repeated linkIds, and
each kind of damaged input reported (never a traceback).

data/sample-fhir/bundle.json is the sample clinic as a collection Bundle.
The damage tests use its resources of the children C0001 and C0002 (in
data/sample: 2 + 7 = 9 administrations, 2 + 3 goals, 4 + 27 ratings):
entries 1-2 are the Patients, entry 3 is the first QuestionnaireResponse
(A00001, demo-child, items grouped by section: item[0] is the group
section-auditory, whose item[0] is dc_001).
"""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pytest

from sensoryprofile import columns as C
from sensoryprofile.cli import main
from sensoryprofile.data.dataset import load_dataset
from sensoryprofile.data.fhir import (
    CLASSIFICATION_SYSTEM,
    EXT,
    SCORE_SYSTEM,
    export_bundle,
    import_fhir,
)
from sensoryprofile.data.imported import write_imported_dataset
from sensoryprofile.instruments import LEVEL_KEYS, load_instrument
from tests.data.test_redcap import _compare_with_sample, assert_no_traceback, counted
from tests.paths import ROOT, SAMPLE

BUNDLE = ROOT / "data" / "sample-fhir" / "bundle.json"
DEMO_CHILD_URL = "https://sensoryprofile.example/fhir/Questionnaire/demo-child"
KNOWN = (f"{DEMO_CHILD_URL}, https://sensoryprofile.example/fhir/Questionnaire/demo-toddler")


def run(argv, capsys):
    try:
        code = main([str(a) for a in argv])
    except SystemExit as exc:
        code = exc.code
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def sample():
    return load_dataset(SAMPLE)


def bundle() -> dict:
    """The sample Bundle's resources of C0001 and C0002 (a fresh copy)."""
    data = json.loads(BUNDLE.read_text())
    mine = ("Patient/C0001", "Patient/C0002")
    data["entry"] = [e for e in data["entry"]
                     if f"Patient/{e['resource']['id']}" in mine and
                     e["resource"]["resourceType"] == "Patient"
                     or e["resource"].get("subject", {}).get("reference") in mine]
    return data


def import_bundle(tmp_path, capsys, data: dict):
    """Import a Bundle with the CLI; (exit code, output, report rows, report frame)."""
    path = tmp_path / "bundle.json"
    path.write_text(json.dumps(data))
    report = tmp_path / "problems.csv"
    code, out, err = run(["import", "fhir", path, "--out", tmp_path / "out", "--report",
                          report], capsys)
    rows = pd.read_csv(report, dtype=str, keep_default_na=False)
    table = [tuple(r) for r in rows[["file", "row", "column", "value", "rule", "action"]]
             .itertuples(index=False)]
    return code, out + err, table, rows


# ---------------------------------------------------------------------------
# round trips
# ---------------------------------------------------------------------------
def test_round_trip_sample_bundle_equals_the_sample(tmp_path, sample):
    imported = import_fhir(BUNDLE)
    dataset, report = write_imported_dataset(imported, tmp_path / "out")
    assert report.problems == []
    counts = _compare_with_sample(sample, dataset)
    assert counts == {"children": 60, "assessments": 202, "goals": 196, "goal_ratings": 918}
    # the Patient, QuestionnaireResponse, Goal and Observation ids are the sample's ids
    assert sorted(dataset.assessments[C.ASSESSMENT_ID]) == sorted(
        sample.assessments[C.ASSESSMENT_ID])
    accounting = report.accounting_frame().set_index(C.TABLE)
    assert accounting.loc["QuestionnaireResponse", C.ROWS_ACCEPTED] == 202
    assert accounting.loc["Observation", C.ROWS_READ] == 918


def test_export_validates_and_import_gives_the_same_scores(tmp_path, capsys, sample):
    from fhir.resources.R4B.bundle import Bundle

    out = tmp_path / "scores.json"
    code, text, err = run(["export", "fhir", SAMPLE, "--out", out], capsys)
    assert code == 0, err
    parsed = Bundle.model_validate_json(out.read_text())
    kinds = pd.Series([e.resource.get_resource_type() for e in parsed.entry]).value_counts()
    # 191 demo-child x 13 scores + 11 demo-toddler x 10 = 2593 score Observations,
    # + 918 rating Observations = 3511
    assert kinds.to_dict() == {"Observation": 3511, "QuestionnaireResponse": 202,
                               "Goal": 196, "Patient": 60}
    assert "60 Patient, 202 QuestionnaireResponse, 3511 Observation, 196 Goal" in text

    code, text, err = run(["import", "fhir", out, "--out", tmp_path / "back"], capsys)
    assert code == 0, text + err
    assert counted(text, "Observation (scores: recomputed)", 2593, 2593, 0)
    back = load_dataset(tmp_path / "back")
    key = [C.ASSESSMENT_ID, C.SCORE]
    a = back.scores.sort_values(key).reset_index(drop=True)
    b = sample.scores.sort_values(key).reset_index(drop=True)
    assert len(a) == len(b) == 2593
    assert (a[C.ASSESSMENT_ID].astype(str) == b[C.ASSESSMENT_ID].astype(str)).all()
    for column in (C.RAW, C.Z, C.PERCENTILE, C.AGE_MONTHS):
        np.testing.assert_allclose(a[column].astype(float), b[column].astype(float),
                                   equal_nan=True)
    for column in (C.CLASSIFICATION, C.NORM_BAND, C.VALID):
        assert a[column].astype(object).equals(b[column].astype(object))


def test_score_observation_holds_score_classification_and_band(sample):
    data = export_bundle(sample)
    score = sample.scores[(sample.scores[C.ASSESSMENT_ID] == "A00001")
                          & (sample.scores[C.SCORE] == "seeking")].iloc[0]
    obs = next(e["resource"] for e in data["entry"]
               if e["resource"]["resourceType"] == "Observation"
               and e["resource"]["id"] == "A00001-seeking")
    assert obs["code"]["coding"][0] == {"system": SCORE_SYSTEM, "code": "demo-child/seeking",
                                        "display": "Seeking"}
    assert obs["valueQuantity"]["value"] == float(score[C.RAW])
    coding = obs["interpretation"][0]["coding"][0]
    assert coding["system"] == CLASSIFICATION_SYSTEM
    assert coding["code"] == LEVEL_KEYS[int(score[C.LEVEL]) + 2]
    assert coding["display"] == score[C.CLASSIFICATION]
    parts = {c["code"]["coding"][0]["code"]: c for c in obs["component"]}
    assert parts["norm-band"]["valueString"] == score[C.NORM_BAND]
    assert parts["z"]["valueQuantity"]["value"] == pytest.approx(score[C.Z], abs=1e-6)
    assert obs["derivedFrom"] == [{"reference": "QuestionnaireResponse/A00001"}]


# ---------------------------------------------------------------------------
# answers: nested groups, answers nested under answers, repeated linkIds, types
# ---------------------------------------------------------------------------
def _patient(pid="P1", birth="2019-01-15"):
    return {"resourceType": "Patient", "id": pid, "birthDate": birth, "gender": "female",
            "name": [{"given": ["Saffron"], "family": "Q."}],
            "extension": [{"url": EXT["referral_date"], "valueDate": "2025-01-10"}]}


def _response(qid, items, status="completed", url=DEMO_CHILD_URL):
    return {"resourceType": "QuestionnaireResponse", "id": qid, "status": status,
            "questionnaire": url, "subject": {"reference": "Patient/P1"},
            "authored": "2025-02-01T10:30:00+01:00", "item": items}


def _bundle(*resources):
    return {"resourceType": "Bundle", "type": "collection",
            "entry": [{"resource": r} for r in resources]}


def test_nested_groups_and_value_types_score_by_hand(tmp_path, capsys):
    """Every demo-child item answered 3, in groups two deep, as valueInteger
    (dc_001-dc_040), valueDecimal (dc_041-dc_079) and a valueCoding nested under
    dc_079's answer (dc_080); dc_001 repeated with the same answer.
    Each quadrant has 15 items: raw = 15 x 3 = 45."""
    ints = [{"linkId": f"dc_{k:03d}", "answer": [{"valueInteger": 3}]} for k in range(1, 41)]
    decs = [{"linkId": f"dc_{k:03d}", "answer": [{"valueDecimal": 3.0}]} for k in range(41, 79)]
    nested = {"linkId": "dc_079", "answer": [{"valueDecimal": 3.0, "item": [
        {"linkId": "dc_080", "answer": [{"valueCoding": {"code": "3"}}]}]}]}
    items = [{"linkId": "outer", "item": [{"linkId": "inner", "item": ints}]},
             {"linkId": "second", "item": [*decs, nested,
                                           {"linkId": "dc_001", "answer": [{"valueInteger": 3}]}]}]
    code, text, table, _ = import_bundle(tmp_path, capsys, _bundle(_patient(),
                                                                   _response("Q1", items)))
    assert (code, table) == (0, []), text
    data = load_dataset(tmp_path / "out")
    scores = data.scores.set_index(C.SCORE)
    for quadrant in ("seeking", "avoiding", "sensitivity", "registration"):
        assert scores.loc[quadrant, C.RAW] == 45.0
    # authored 2025-02-01 (local date as written); born 2019-01-15: 72 completed months
    assert data.assessments[C.DATE].iloc[0] == pd.Timestamp("2025-02-01")
    assert scores[C.AGE_MONTHS].iloc[0] == 72
    assert data.children[C.DISPLAY_NAME].iloc[0] == "Saffron Q."


def test_repeated_linkid_with_different_answers(tmp_path, capsys):
    items = [{"linkId": "a", "item": [{"linkId": "dc_002", "answer": [{"valueInteger": 4}]}]},
             {"linkId": "b", "item": [{"linkId": "dc_002", "answer": [{"valueInteger": 2}]}]}]
    code, text, table, _ = import_bundle(tmp_path, capsys, _bundle(_patient(),
                                                                   _response("Q1", items)))
    assert code == 1
    assert_no_traceback(text)
    assert table == [("bundle.json", "2", "linkId dc_002", "'2, 4'",
                      "linkId repeated with different answers: the item is read as blank",
                      "value read as blank")]


# ---------------------------------------------------------------------------
# damaged input: one test per kind, exact report rows, exit 1, no traceback
# ---------------------------------------------------------------------------
def test_response_for_an_unknown_questionnaire(tmp_path, capsys):
    data = bundle()
    qr = data["entry"][2]["resource"]
    assert qr["id"] == "A00001"
    qr["questionnaire"] = "https://example.org/fhir/Questionnaire/other-form"
    code, text, table, rows = import_bundle(tmp_path, capsys, data)
    assert code == 1
    assert_no_traceback(text)
    assert table == [("bundle.json", "3", "questionnaire",
                      "'https://example.org/fhir/Questionnaire/other-form'",
                      "response for an unknown Questionnaire: no instrument definition names "
                      f"this canonical URL (known: {KNOWN})", "resource not imported")]
    assert rows["key"].tolist() == ["QuestionnaireResponse/A00001"]
    assert counted(text, "QuestionnaireResponse", 9, 8, 1)
    assert counted(text, "assessments", 8, 8, 0)


def test_linkid_missing_from_the_definition(tmp_path, capsys):
    data = bundle()
    first = data["entry"][2]["resource"]["item"][0]["item"][0]
    assert first["linkId"] == "dc_001"
    first["linkId"] = "dc_999"
    code, text, table, rows = import_bundle(tmp_path, capsys, data)
    assert code == 1
    assert_no_traceback(text)
    assert rows["key"].tolist() == ["QuestionnaireResponse/A00001"]
    assert table == [("bundle.json", "3", "item[0].item[0].linkId", "'dc_999'",
                      "linkId 'dc_999' is not an item of demo-child: its answer is not "
                      "imported", "value ignored")]
    assert counted(text, "assessments", 9, 9, 0)


def test_item_without_linkid_is_invalid_fhir(tmp_path, capsys):
    data = bundle()
    del data["entry"][2]["resource"]["item"][0]["item"][0]["linkId"]
    code, text, table, _ = import_bundle(tmp_path, capsys, data)
    assert code == 1
    assert_no_traceback(text)
    assert len(table) == 1
    file, row, column, value, rule, action = table[0]
    assert (file, row, value, action) == ("bundle.json", "3", "", "resource not imported")
    assert column.endswith("linkId") and column.startswith("item.0.item.0")
    assert rule.startswith("not a valid FHIR R4 QuestionnaireResponse: ")
    assert counted(text, "QuestionnaireResponse", 9, 8, 1)


@pytest.mark.parametrize("status", ["in-progress", "entered-in-error", "stopped"])
def test_responses_not_completed_are_left_out(tmp_path, capsys, status):
    data = bundle()
    data["entry"][2]["resource"]["status"] = status
    code, text, table, rows = import_bundle(tmp_path, capsys, data)
    assert code == 1
    assert_no_traceback(text)
    assert rows["key"].tolist() == ["QuestionnaireResponse/A00001"]
    assert table == [("bundle.json", "3", "status", repr(status),
                      "only completed and amended responses are scored (this one is "
                      f"{status})", "resource not imported")]


def test_amended_response_is_scored(tmp_path, capsys):
    data = bundle()
    data["entry"][2]["resource"]["status"] = "amended"
    code, _, table, _ = import_bundle(tmp_path, capsys, data)
    assert (code, table) == (0, [])


def test_duplicate_resource_and_unknown_type(tmp_path, capsys):
    data = bundle()
    data["entry"].append({"resource": data["entry"][0]["resource"]})  # Patient C0001 again
    data["entry"].append({"resource": {"resourceType": "Encounter", "id": "E1",
                                       "status": "finished",
                                       "class": {"code": "AMB"}}})
    n = len(data["entry"])
    code, text, table, _ = import_bundle(tmp_path, capsys, data)
    assert code == 1
    assert_no_traceback(text)
    assert table == [
        ("bundle.json", str(n - 1), "id", "'C0001'", "duplicate resource: Patient/C0001 is "
         "already bundle.json entry/line 1", "resource not imported"),
        ("bundle.json", str(n), "resourceType", "'Encounter'", "this resource type is not "
         "imported (only Patient, QuestionnaireResponse, Goal and Observation)",
         "resource not imported"),
    ]
    assert counted(text, "Patient", 3, 2, 1)
    assert counted(text, "other resources", 1, 0, 1)


def test_rating_entered_in_error_is_left_out(tmp_path, capsys):
    data = bundle()
    k, obs = next((k, e["resource"]) for k, e in enumerate(data["entry"])
                  if e["resource"]["resourceType"] == "Observation")
    obs["status"] = "entered-in-error"
    code, text, table, _ = import_bundle(tmp_path, capsys, data)
    assert code == 1
    assert table == [("bundle.json", str(k + 1), "status", "'entered-in-error'",
                      "only final, amended and corrected ratings are imported (this one is "
                      "entered-in-error)", "resource not imported")]


def test_identifying_values_never_appear(tmp_path, capsys):
    patient = _patient(birth="2019-02-30")  # no such day
    code, text, table, _ = import_bundle(tmp_path, capsys, _bundle(patient))
    assert code == 1
    assert_no_traceback(text)
    assert table == [("bundle.json", "1", "birthDate", "",
                      "not a valid FHIR R4 Patient: invalid value", "resource not imported")]
    for secret in ("2019-02-30", "Saffron"):
        assert secret not in text
        assert secret not in (tmp_path / "problems.csv").read_text()


def test_ndjson_folder(tmp_path, capsys):
    folder = tmp_path / "bulk"
    folder.mkdir()
    (folder / "Patient.ndjson").write_text(json.dumps(_patient()) + "\n")
    items = [{"linkId": f"dc_{k:03d}", "answer": [{"valueInteger": 3}]} for k in range(1, 81)]
    (folder / "QuestionnaireResponse.ndjson").write_text(
        json.dumps(_response("Q1", items)) + "\n" + "{not json\n")
    code, out, err = run(["import", "fhir", folder, "--out", tmp_path / "out"], capsys)
    assert code == 1
    assert_no_traceback(out + err)
    assert re.search(r"QuestionnaireResponse\.ndjson row 2: not valid JSON", out)
    assert counted(out, "assessments", 1, 1, 0)


def test_clinic_definition_with_link_ids(tmp_path, capsys):
    """A clinic form whose definition names its Questionnaire and linkIds."""
    inst = load_instrument("demo-child").to_dict()
    inst["id"] = "clinic-form"
    inst["fhir"] = {"questionnaire": "https://clinic.example/Questionnaire/form"}
    for k, item in enumerate(inst["items"], start=1):
        item["link_id"] = f"q{k}"
    import yaml

    forms = tmp_path / "forms"
    forms.mkdir()
    (forms / "clinic-form.yaml").write_text(yaml.safe_dump(inst))
    items = [{"linkId": f"q{k}", "answer": [{"valueInteger": 3}]} for k in range(1, 81)]
    qr = _response("Q1", items, url="https://clinic.example/Questionnaire/form|2.0")
    (tmp_path / "b.json").write_text(json.dumps(_bundle(_patient(), qr)))
    code, out, err = run(["import", "fhir", tmp_path / "b.json", "--out", tmp_path / "out",
                          "--instruments", forms], capsys)
    assert code == 0, out + err
    data = load_dataset(tmp_path / "out")
    assert data.assessments[C.INSTRUMENT].tolist() == ["clinic-form"]
    assert (tmp_path / "out" / "instruments" / "clinic-form.yaml").exists()
    assert data.scores.set_index(C.SCORE).loc["seeking", C.RAW] == 45.0


def test_ids_with_underscores_survive_export_and_import(tmp_path, capsys):
    """Dataset IDs may hold '_', FHIR ids may not: '_' is written as '.' and read
    back as '_' (the REDCap import's ids hold event and form names)."""
    code, out, err = run(["import", "redcap", ROOT / "data" / "sample-redcap", "--out",
                          tmp_path / "from-redcap"], capsys)
    assert code == 0, out + err
    code, out, err = run(["export", "fhir", tmp_path / "from-redcap", "--out",
                          tmp_path / "b.json"], capsys)
    assert code == 0, out + err
    text = (tmp_path / "b.json").read_text()
    assert '"id":"C0001-assessment.arm.1-demo.child-1"' in text
    code, out, err = run(["import", "fhir", tmp_path / "b.json", "--out", tmp_path / "back"],
                         capsys)
    assert code == 0, out + err
    first = load_dataset(tmp_path / "from-redcap")
    back = load_dataset(tmp_path / "back")
    assert sorted(back.assessments[C.ASSESSMENT_ID]) == sorted(first.assessments[C.ASSESSMENT_ID])
    assert sorted(back.goal_ratings[C.GOAL_ID]) == sorted(first.goal_ratings[C.GOAL_ID])
