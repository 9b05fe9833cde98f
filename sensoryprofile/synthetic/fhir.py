"""The sample clinic as FHIR R4 resources (``data/sample-fhir``): what a
health record would send, a ``collection`` Bundle of Patients,
QuestionnaireResponses (items nested in one group per section), Goals and
goal-rating Observations. Everything is invented, like the sample clinic it
is generated from (:func:`sensoryprofile.synthetic.clinic.generate_clinic`).
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

from sensoryprofile.data.fhir import export_bundle, write_bundle
from sensoryprofile.data.tables import write_text_atomic
from sensoryprofile.instruments import load_instrument
from sensoryprofile.measures.scoring import empty_scores
from sensoryprofile.synthetic.clinic import CLINIC_INSTRUMENTS, generate_clinic

BUNDLE_FILE = "bundle.json"

SAMPLE_README = """\
# data/sample-fhir: the sample clinic as FHIR R4 resources

Synthetic: generated from the sample clinic (`data/sample`) by
`sensoryprofile sample --format fhir --children {n} --seed {seed} --out DIR`.
Nothing here describes a real child, therapist or clinic. Import it with

    sensoryprofile import fhir data/sample-fhir/bundle.json --out imported
    sensoryprofile report all --data imported --out reports

`bundle.json` is one `collection` Bundle (one entry per line) of

- `Patient`: id = child_id; `birthDate`, `gender`, `name.text` (identifying);
  site as `managingOrganization.display`, therapist as
  `generalPractitioner[0].display`; referral and discharge dates and diagnoses
  as this project's extensions (`https://sensoryprofile.example/fhir/...`,
  an invented domain reserved for examples);
- `QuestionnaireResponse`: one per administration, `questionnaire` = the
  form's canonical URL (`fhir.questionnaire` in its definition), answers as
  `valueCoding` by `linkId`, nested in one group per section;
- `Goal` with the goal attainment scaling extensions (importance, difficulty,
  baseline level, the five level texts);
- `Observation` of code `gas-level`: one per goal rating, `focus` = the Goal.

docs/fhir.md describes every element read and written.
"""


def sample_bundle(n_children: int = 60, seed: int = 0) -> dict:
    """The sample clinic as a FHIR Bundle (plain data, validated)."""
    clinic = generate_clinic(n_children, seed)
    data = SimpleNamespace(
        children=clinic["children"], assessments=clinic["assessments"],
        goals=clinic["goals"], goal_ratings=clinic["goal_ratings"], scores=empty_scores(0),
        instruments={i: load_instrument(i) for i in CLINIC_INSTRUMENTS})
    return export_bundle(data, scores=False)


def write_fhir_sample(out_dir, n_children: int = 60, seed: int = 0) -> dict[str, Path]:
    """Write the sample clinic as ``bundle.json`` (and a README) into ``out_dir``."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = {"bundle": write_bundle(sample_bundle(n_children, seed), out / BUNDLE_FILE)}
    paths["readme"] = write_text_atomic(SAMPLE_README.format(n=n_children, seed=seed),
                                        out / "README.md")
    return paths
