"""A tiny clinic for the family report tests, every value worked out by hand.

Every child is born 2016-06-01 and assessed on 2024-07-15 (97 completed
months), so demo-child's 72-119 month norms apply: seeking 36.0/8.5, avoiding
35.6/8.4, sensitivity 36.5/8.5, registration 34.4/8.1 (mean/SD). All 15 items
of a quadrant get the same answer v (raw = 15v); the 20 section-only items
answer 2. As of 2024-09-30 (99 months).

- F1 "Alice Zed" (therapist Ann), caregiver, v = (4, 4, 2, 1): raw 60, 60,
  30, 15 -> z (60-36)/8.5 = +2.82, (60-35.6)/8.4 = +2.90, (30-36.5)/8.5 =
  -0.76, (15-34.4)/8.1 = -2.40 -> seeking +2, avoiding +2, sensitivity 0
  (typical), registration -2. Goals set 2024-01-20: G1 self-care (baseline
  -1), G2 play/social (baseline -2). Ratings 2024-04-20: G1 -1, G2 -2 (family
  note "Keep practising the sock game at home."); 2024-07-20: G1 +1, G2 0
  (family note on G2 "Great progress this term."). Both goals met on
  2024-07-20.
- F2 "Bruno Yarrow" (therapist Ben), a teacher's form only, v = (2, 2, 4, 2):
  sensitivity (60-36.5)/8.5 = +2.76 -> +2; seeking -0.71, avoiding -0.67,
  registration (30-34.4)/8.1 = -0.54 -> typical. Goal G3 school
  participation (baseline -1), set 2024-02-01, target 2024-06-01, rated -1
  on 2024-07-20: not met and past its target date.
- F3 (no name, no therapist): no questionnaire, no goal.
- F4 "Cleo Xu" on ``tiny-sections``, a form without quadrants (the
  dataset's ``instruments/`` folder): sections auditory (ts_1..3) and bedtime
  (ts_4..6), each mean 9, SD 2. Auditory all 5 -> raw 15, z = +3 -> +2;
  bedtime all 2 -> raw 6, z = -1.5 -> -1.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from sensoryprofile import columns as C
from sensoryprofile.instruments import load_instrument

AS_OF = "2024-09-30"
TODAY = pd.Timestamp("2025-01-01").date()
DOB = "2016-06-01"
QUADRANTS = ("seeking", "avoiding", "sensitivity", "registration")

TINY_SECTIONS = """\
# tiny-sections.yaml -- a form without quadrants, written only for the
# sensoryprofile test suite. Invented items and norms; not for clinical use. CC0.
format: 1
id: tiny-sections
name: Tiny sections form (invented, for tests only)
version: "0.1"
respondent: caregiver
age_range_months: [36, 179]
licence: Written for the sensoryprofile test suite; invented items and norms. CC0.
clinical_use: false
response_scale:
  values: {Almost always: 5, Frequently: 4, Half the time: 3, Occasionally: 2, Almost never: 1}
sections:
  - {id: auditory, name: Auditory, kind: sensory}
  - {id: bedtime, name: Bedtime, kind: behavioural}
items:
  - {id: ts_1, section: auditory}
  - {id: ts_2, section: auditory}
  - {id: ts_3, section: auditory}
  - {id: ts_4, section: bedtime}
  - {id: ts_5, section: bedtime}
  - {id: ts_6, section: bedtime}
scores:
  - {id: auditory, name: Auditory, kind: section, section: auditory}
  - {id: bedtime, name: Bedtime, kind: section, section: bedtime}
norms:
  - ages: [36, 179]
    scores:
      auditory: {mean: 9.0, sd: 2.0}
      bedtime: {mean: 9.0, sd: 2.0}
"""


def _demo_row(inst, assessment_id, child_id, respondent, values):
    row = {C.ASSESSMENT_ID: assessment_id, C.CHILD_ID: child_id, C.INSTRUMENT: inst.id,
           C.DATE: "2024-07-15", C.RESPONDENT: respondent}
    by_quadrant = dict(zip(QUADRANTS, values, strict=True))
    for item in inst.items:
        row[item.id] = by_quadrant.get(item.quadrant, 2)
    return row


def write_family_clinic(folder: Path, *, long_note: str | None = None) -> Path:
    """Write the clinic into ``folder`` (CSV files and ``instruments/``)."""
    folder = Path(folder)
    (folder / "instruments").mkdir(parents=True, exist_ok=True)
    (folder / "instruments" / "tiny-sections.yaml").write_text(TINY_SECTIONS, encoding="utf-8")
    demo = load_instrument("demo-child")
    pd.DataFrame([
        {C.CHILD_ID: "F1", C.DATE_OF_BIRTH: DOB, C.REFERRAL_DATE: "2024-01-10",
         C.THERAPIST: "Ann", C.DISPLAY_NAME: "Alice Zed"},
        {C.CHILD_ID: "F2", C.DATE_OF_BIRTH: DOB, C.REFERRAL_DATE: "2024-01-10",
         C.THERAPIST: "Ben", C.DISPLAY_NAME: "Bruno Yarrow"},
        {C.CHILD_ID: "F3", C.DATE_OF_BIRTH: DOB, C.REFERRAL_DATE: "2024-01-10"},
        {C.CHILD_ID: "F4", C.DATE_OF_BIRTH: DOB, C.REFERRAL_DATE: "2024-01-10",
         C.THERAPIST: "Ann", C.DISPLAY_NAME: "Cleo Xu"},
    ]).to_csv(folder / "children.csv", index=False)
    rows = [_demo_row(demo, "A1", "F1", "caregiver", (4, 4, 2, 1)),
            _demo_row(demo, "A2", "F2", "teacher", (2, 2, 4, 2)),
            {C.ASSESSMENT_ID: "A3", C.CHILD_ID: "F4", C.INSTRUMENT: "tiny-sections",
             C.DATE: "2024-07-15", C.RESPONDENT: "caregiver",
             "ts_1": 5, "ts_2": 5, "ts_3": 5, "ts_4": 2, "ts_5": 2, "ts_6": 2}]
    pd.DataFrame(rows).to_csv(folder / "assessments.csv", index=False)
    pd.DataFrame([
        {C.GOAL_ID: "G1", C.CHILD_ID: "F1", C.SET_DATE: "2024-01-20", C.DOMAIN: "self-care",
         C.DESCRIPTION: "Will put on socks alone", C.BASELINE_LEVEL: -1,
         "level_-1": "Puts one sock on with help", "level_+1": "Puts on socks and shoes alone"},
        {C.GOAL_ID: "G2", C.CHILD_ID: "F1", C.SET_DATE: "2024-01-20", C.DOMAIN: "play/social",
         C.DESCRIPTION: "Will join a game at break", C.BASELINE_LEVEL: -2},
        {C.GOAL_ID: "G3", C.CHILD_ID: "F2", C.SET_DATE: "2024-02-01",
         C.DOMAIN: "school participation", C.DESCRIPTION: "Will stay seated for story time",
         C.BASELINE_LEVEL: -1, C.TARGET_DATE: "2024-06-01"},
    ]).to_csv(folder / "goals.csv", index=False)
    pd.DataFrame([
        {C.GOAL_ID: "G1", C.DATE: "2024-04-20", C.LEVEL: -1, C.RATER: "therapist"},
        {C.GOAL_ID: "G2", C.DATE: "2024-04-20", C.LEVEL: -2, C.RATER: "therapist",
         C.FAMILY_NOTE: "Keep practising the sock game at home."},
        {C.GOAL_ID: "G1", C.DATE: "2024-07-20", C.LEVEL: 1, C.RATER: "therapist",
         C.NOTE: "Alice managed it at home"},
        {C.GOAL_ID: "G2", C.DATE: "2024-07-20", C.LEVEL: 0, C.RATER: "therapist",
         C.FAMILY_NOTE: long_note or "Great progress this term."},
        {C.GOAL_ID: "G3", C.DATE: "2024-07-20", C.LEVEL: -1, C.RATER: "teacher"},
    ]).to_csv(folder / "goal_ratings.csv", index=False)
    return folder
