"""A clinic that mixes the demonstration forms with the three invented shapes
of tests/fixtures/instruments/shapes/ (issue 11): a small synthetic clinic on
demo-child and demo-toddler, plus children assessed with

- ``fx-short`` (sections and a total, no quadrants, one-sided three levels,
  higher raw = more typical, cut tables): M_S1 twice, M_S2 once with a "does
  not apply" answer;
- ``fx-adult`` (self-report, ages in years, 65+ band, reverse-keyed items, a
  total every item counts to): M_A1 twice (aged 35), M_A2 once (aged 71);
- ``fx-home-school`` (caregiver and teacher, caregiver norms by sex, the
  teacher's seeking by a percentile table, a composite): M_H1 with a home and
  a school form six weeks apart, then a later home form.

Every value the tests assert is worked out here, by hand.

fx-short, M_S1 (born 2019-03-01; band 72-143 months)
  S1a 2025-03-01, 72 months: tactile all 3 -> 12 (definite, 4-12); auditory
  all 4 -> 16 (typical, 15-20); movement all 4 -> 16 (typical, 16-20); total
  12 + 16 + 16 = 44 (probable, 40-46).
  S1b 2026-03-01, 84 months: every answer 4 -> tactile 16 typical, auditory 16
  typical, movement 16 typical, total 48 typical (47-60).
  Change S1a -> S1b: tactile definite -> typical (two levels toward typical),
  total probable -> typical (one level toward typical).
fx-short, M_S2 (born 2021-01-15), S2a 2026-02-15, 61 months (band 36-71):
  tactile (0 = does not apply, 2, 2, 2): one item excluded, prorated
  6 * 4 / 3 = 8 (definite, 4-11); auditory all 5 -> 20 typical; movement all
  4 -> 16 typical (15-20); total: 11 answered items sum 6 + 20 + 16 = 42,
  prorated 42 * 12 / 11 = 45.8 (typical, 44-60).

fx-adult, M_A1 (born 1990-05-10), band 18-64 years; reverse items fa_03 and
fa_12 count 6 - v.
  A1a 2026-01-15 (35 years), answers (5,5,1, 2,2,2, 3,3,3, 2,2,4):
  seeking 5 + 5 + 5 = 15, z = (15 - 8) / 2 = 3.5 -> +2; avoiding 6,
  z = (6 - 8.5) / 2 = -1.25 -> -1; sensitivity 9, z = 0 -> 0; registration
  2 + 2 + 2 = 6, z = (6 - 7.5) / 2 = -0.75 -> 0; total 36,
  z = (36 - 33.5) / 6 = 0.42 -> 0.
  A1b 2026-07-15, every answer 3: seeking 9 (z 0.5), avoiding 9 (z 0.25),
  sensitivity 9 (0), registration 9 (z 0.75), total 36: all typical.
fx-adult, M_A2 (born 1955-01-01), A2a 2026-01-15 (71 years: the 65+ band),
  answers all 3 but fa_01 = 4: seeking 10, z = (10 - 7) / 2 = 1.5 -> +1;
  avoiding 9, sensitivity 9, registration 9 (z 0 each); total 37, z 0.5.

fx-home-school, M_H1 (girl, born 2018-02-01): caregiver norms for girls.
  H1c 2026-02-01 (96 months), caregiver, answers (4,4, 2,2, 4,4, 2,2):
  seeking 8, z = (8 - 4.5) / 1 = 3.5 -> +2; avoiding 4, z 0 -> 0;
  sensitivity 8, z = (8 - 4.5) / 1.5 = 2.33 -> +2; registration 4, z 0 -> 0;
  reactivity fh_1 + fh_3 + fh_5 = 4 + 2 + 4 = 10, z = (10 - 6.5) / 1.5 = 2.33
  -> +2.
  H1t 2026-03-15 (97 months: teacher band 96-155), teacher, answers
  (2,2, 2,2, 4,3, 4,4): seeking 4 -> percentile 37 (the table),
  z = Phi^-1(0.37) = -0.33 -> 0; avoiding 4, z = (4 - 3.5) / 1 = 0.5 -> 0;
  sensitivity 7, z = 3.5 -> +2; registration 8, z = 4.5 -> +2; reactivity
  2 + 2 + 4 = 8, z = (8 - 5.5) / 1.5 = 1.67 -> +1.
  Side by side (home, school, difference): seeking +2 / 0 (2, flagged);
  avoiding 0 / 0; sensitivity +2 / +2; registration 0 / +2 (2, flagged);
  reactivity +2 / +1 (1, not flagged).
  H1d 2026-09-01 (103 months), caregiver, every answer 2: seeking 4
  (z -0.5), avoiding 4 (0), sensitivity 4 (z -0.33), registration 4 (0),
  reactivity 6 (z -0.33): all typical; seven months after the teacher's form,
  so outside a three-month window.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd

from sensoryprofile import columns as C
from sensoryprofile.synthetic.clinic import write_clinic
from tests.paths import FIXTURES

SHAPES = FIXTURES / "shapes"
SHAPE_IDS = ("fx-short", "fx-adult", "fx-home-school")
AS_OF = "2026-10-31"

_CHILDREN = [
    # child, born, sex, therapist, site, name
    ("M_S1", "2019-03-01", "M", "R. Short", "Northside", "Sorrel Quince"),
    ("M_S2", "2021-01-15", "F", "R. Short", "Northside", "Saffron Quill"),
    ("M_A1", "1990-05-10", "F", "R. Short", "Riverside", "Ada Rowan"),
    ("M_A2", "1955-01-01", "M", "R. Short", "Riverside", "Abel Ashby"),
    ("M_H1", "2018-02-01", "F", "R. Short", "Hillcrest", "Hazel Hart"),
]


def _answers(prefix: str, ids, values) -> dict:
    return {f"{prefix}{i}": v for i, v in zip(ids, values, strict=True)}


def _short(assessment, child, date, tactile, auditory, movement) -> dict:
    row = {C.ASSESSMENT_ID: assessment, C.CHILD_ID: child, C.INSTRUMENT: "fx-short",
           C.DATE: date, C.RESPONDENT: "caregiver"}
    for section, values in (("t", tactile), ("a", auditory), ("m", movement)):
        row.update(_answers(f"fs_{section}", range(1, 5), values))
    return row


def _adult(assessment, child, date, values) -> dict:
    return {C.ASSESSMENT_ID: assessment, C.CHILD_ID: child, C.INSTRUMENT: "fx-adult",
            C.DATE: date, C.RESPONDENT: "self",
            **_answers("fa_", [f"{k:02d}" for k in range(1, 13)], values)}


def _home_school(assessment, child, date, respondent, values) -> dict:
    return {C.ASSESSMENT_ID: assessment, C.CHILD_ID: child, C.INSTRUMENT: "fx-home-school",
            C.DATE: date, C.RESPONDENT: respondent, **_answers("fh_", range(1, 9), values)}


SHAPE_ASSESSMENTS = [
    _short("S1a", "M_S1", "2025-03-01", (3,) * 4, (4,) * 4, (4,) * 4),
    _short("S1b", "M_S1", "2026-03-01", (4,) * 4, (4,) * 4, (4,) * 4),
    _short("S2a", "M_S2", "2026-02-15", (0, 2, 2, 2), (5,) * 4, (4,) * 4),
    _adult("A1a", "M_A1", "2026-01-15", (5, 5, 1, 2, 2, 2, 3, 3, 3, 2, 2, 4)),
    _adult("A1b", "M_A1", "2026-07-15", (3,) * 12),
    _adult("A2a", "M_A2", "2026-01-15", (4,) + (3,) * 11),
    _home_school("H1c", "M_H1", "2026-02-01", "caregiver", (4, 4, 2, 2, 4, 4, 2, 2)),
    _home_school("H1t", "M_H1", "2026-03-15", "teacher", (2, 2, 2, 2, 4, 3, 4, 4)),
    _home_school("H1d", "M_H1", "2026-09-01", "caregiver", (2,) * 8),
]


def write_mixed_clinic(folder: Path, *, n_children: int = 12, seed: int = 11) -> Path:
    """Write the mixed clinic into ``folder``: the synthetic clinic's CSV files
    with the shape children appended, and the three definitions in
    ``instruments/``."""
    folder = Path(folder)
    paths = write_clinic(folder, n_children=n_children, seed=seed)
    (folder / "instruments").mkdir(exist_ok=True)
    for form in SHAPE_IDS:
        shutil.copyfile(SHAPES / f"{form}.yaml", folder / "instruments" / f"{form}.yaml")
    children = pd.read_csv(paths["children"], dtype=str, keep_default_na=False)
    extra = pd.DataFrame([
        {C.CHILD_ID: child, C.DATE_OF_BIRTH: born, C.SEX: sex, C.THERAPIST: therapist,
         C.SITE: site, C.REFERRAL_DATE: "2024-12-01", C.DISPLAY_NAME: name}
        for child, born, sex, therapist, site, name in _CHILDREN])
    pd.concat([children, extra], ignore_index=True).fillna("").to_csv(
        paths["children"], index=False, lineterminator="\n")
    assessments = pd.read_csv(paths["assessments"], dtype=str, keep_default_na=False)
    shaped = pd.DataFrame(SHAPE_ASSESSMENTS).astype("string")
    pd.concat([assessments, shaped], ignore_index=True).fillna("").to_csv(
        paths["assessments"], index=False, lineterminator="\n")
    return folder
