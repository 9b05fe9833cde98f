"""The committed REDCap and FHIR samples are what `sensoryprofile sample
--format redcap|fhir` writes from the sample clinic (deterministic)."""

from __future__ import annotations

import json

import pandas as pd

from sensoryprofile.cli import main
from sensoryprofile.synthetic.clinic import generate_clinic
from sensoryprofile.synthetic.redcap import redcap_export
from tests.paths import ROOT

REDCAP = ROOT / "data" / "sample-redcap"
FHIR = ROOT / "data" / "sample-fhir"


def _same_files(written: dict, folder) -> None:
    for path in written.values():
        assert path.read_bytes() == (folder / path.name).read_bytes(), path.name


def test_redcap_sample_is_regenerated_byte_for_byte(tmp_path, capsys):
    assert main(["sample", "--format", "redcap", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["README.md", "dictionary.csv", "mapping.yaml", "records.csv"]
    assert f"wrote {tmp_path / 'records.csv'}" in out
    _same_files({n: tmp_path / n for n in names}, REDCAP)


def test_fhir_sample_is_regenerated_byte_for_byte(tmp_path, capsys):
    assert main(["sample", "--format", "fhir", "--out", str(tmp_path)]) == 0
    capsys.readouterr()
    _same_files({n: tmp_path / n for n in ("bundle.json", "README.md")}, FHIR)


def test_redcap_sample_layout():
    """Events, arms, repeating instruments and events as the README says."""
    records = pd.read_csv(REDCAP / "records.csv", dtype=str, keep_default_na=False)
    assert set(records["redcap_event_name"]) == {"enrolment_arm_1", "assessment_arm_1",
                                                 "enrolment_arm_2", "assessment_arm_2"}
    assert set(records["redcap_repeat_instrument"]) == {"", "goal", "goal_review"}
    enrol = records[records["redcap_event_name"].str.startswith("enrolment")
                    & (records["redcap_repeat_instrument"] == "")]
    assert len(enrol) == 60 and enrol["redcap_repeat_instance"].eq("").all()
    assessed = records[records["redcap_event_name"].str.startswith("assessment")]
    # data/sample: 202 administrations, each an instance of the repeating event
    assert len(assessed) == 202 and assessed["redcap_repeat_instance"].ne("").all()
    # record 1 (C0001) has diagnosis autism only: checkbox autism ticked, the rest not
    first = records.iloc[0]
    assert [first[f"diagnoses___{k}"] for k in range(1, 6)] == ["1", "0", "0", "0", "0"]


def test_labelled_export_uses_labels():
    records = redcap_export(generate_clinic(3, 1), labels=True).records
    statuses = {v for c in records.columns if c.endswith("_complete")
                for v in records[c].dropna()}
    assert statuses == {"Complete"}
    assert set(records["redcap_repeat_instrument"].dropna()) <= {"Goal", "Goal Review"}


def test_fhir_sample_is_a_bundle_of_four_resource_types():
    data = json.loads((FHIR / "bundle.json").read_text())
    kinds = pd.Series([e["resource"]["resourceType"] for e in data["entry"]]).value_counts()
    # data/sample: 60 children, 202 administrations, 196 goals, 918 ratings
    assert kinds.to_dict() == {"Observation": 918, "QuestionnaireResponse": 202, "Goal": 196,
                               "Patient": 60}
