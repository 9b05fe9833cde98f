"""A tiny clinic whose every number the caseload tests work out by hand.

tiny clinic, small-group suppression, filters, "no children match", nothing
identifying; and (slow) the real notebook rendered on the sample data.

The tiny clinic (as of 2025-06-30; the default period is then 2024-07-01 to
2025-06-30; reassessment every 6 months; ratings expected every 3 months):

===== ===== ======= ============ ========== ============ ====================
child site  therap. diagnoses    referred   discharged   assessments (demo-child)
===== ===== ======= ============ ========== ============ ====================
K1    North Ann     autism;ADHD  2024-01-10              A1 A2 A3 caregiver,
                                                         A9 A10 teacher
K2    North Ann     autism       2024-02-01              A4 A5
K3    South Ben     ADHD         2025-03-01              none
K4    South Ben     (blank)      2023-09-01 2025-02-15   A6 A7
K5    South (blank) autism       2024-05-01 2025-08-01   A8
K6    North Ann     autism       2025-08-01              none (after as_of)
===== ===== ======= ============ ========== ============ ====================

Active on 2025-06-30: K1, K2, K3, K5 (K4 discharged before, K5 after it; K6
not yet referred, so left out of everything).

Every child is 7-9 years old at its assessments (born 2016-06-01), so the
72-119 month norms apply: seeking 36.0/8.5, avoiding 35.6/8.4, sensitivity
36.5/8.5, registration 34.4/8.1 (mean/SD). All 15 items of a quadrant get the
same answer v, so raw = 15v:

- v=1 -> 15: z from -2.40 (registration) to -2.53 (sensitivity): level -2;
- v=2 -> 30: z from -0.54 to -0.76: level 0 (typical);
- v=4 -> 60: z from 2.76 to 3.16: level +2.

A change of 15 or 30 raw points is reliable on every quadrant: S_diff =
sqrt(2) * SD * sqrt(1 - r) is 4.16 (seeking: 8.5, r .88), 4.45 (avoiding: 8.4,
.86), 4.66 (sensitivity: 8.5, .85), 4.13 (registration: 8.1, .87), so the
threshold 1.96 * S_diff is at most 9.1 points.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from sensoryprofile import columns as C
from sensoryprofile.instruments import load_instrument

AS_OF = "2025-06-30"
TODAY = pd.Timestamp("2025-09-01").date()
NAMES = ("Alice Zed", "Bruno Yarrow", "Cleo Xu", "Dara Wren", "Emil Vale", "Faye Umber",
         "Gus Tarn")
DOB = "2016-06-01"
T2 = 10 / np.sqrt(2.6)  # one level on one of two unweighted goals: (1-.3)*2 + .3*4 = 2.6

# (assessment, child, date, respondent, v for seeking, avoiding, sensitivity, registration)
ASSESSMENTS = [
    ("A1", "K1", "2024-01-15", "caregiver", (4, 4, 2, 1)),
    ("A2", "K1", "2024-07-15", "caregiver", (2, 2, 2, 2)),
    ("A3", "K1", "2025-01-20", "caregiver", (2, 4, 4, 2)),
    ("A9", "K1", "2025-02-01", "teacher", (1, 1, 1, 1)),
    ("A10", "K1", "2025-05-01", "teacher", (4, 4, 4, 4)),
    ("A4", "K2", "2024-02-05", "caregiver", (4, 2, 2, 2)),
    ("A5", "K2", "2024-08-01", "caregiver", (4, 2, 2, 2)),
    ("A6", "K4", "2023-09-10", "caregiver", (1, 4, 2, 4)),
    ("A7", "K4", "2024-03-10", "caregiver", (2, 2, 2, 4)),
    ("A8", "K5", "2024-05-10", "caregiver", (2, 2, 2, 2)),
]


def write_clinic(folder: Path) -> Path:
    """Write the tiny clinic as CSV files into ``folder``."""
    inst = load_instrument("demo-child")
    children = pd.DataFrame({
        C.CHILD_ID: ["K1", "K2", "K3", "K4", "K5", "K6", "K 7"],  # "K 7": invalid, rejected
        C.DATE_OF_BIRTH: [DOB] * 7,
        C.SEX: ["F", "M", "F", "M", "X", "F", "M"],
        C.DIAGNOSES: ["autism;ADHD", "autism", "ADHD", "", "autism", "autism", "ADHD"],
        C.SITE: ["North", "North", "South", "South", "South", "North", "North"],
        C.THERAPIST: ["Ann", "Ann", "Ben", "Ben", "", "Ann", "Ann"],
        C.REFERRAL_DATE: ["2024-01-10", "2024-02-01", "2025-03-01", "2023-09-01",
                          "2024-05-01", "2025-08-01", "2024-01-01"],
        C.DISCHARGE_DATE: ["", "", "", "2025-02-15", "2025-08-01", "", ""],
        C.DISPLAY_NAME: list(NAMES),
    })
    rows = []
    for aid, child, date, respondent, values in ASSESSMENTS:
        v = dict(zip(("seeking", "avoiding", "sensitivity", "registration"), values,
                     strict=True))
        row = {C.ASSESSMENT_ID: aid, C.CHILD_ID: child, C.INSTRUMENT: "demo-child",
               C.DATE: date, C.RESPONDENT: respondent}
        row.update({item.id: v.get(item.quadrant, 2) for item in inst.items})
        rows.append(row)
    assessments = pd.DataFrame(rows)
    goals = pd.DataFrame({
        C.GOAL_ID: ["G1", "G2", "G3", "G4", "G5", "G6"],
        C.CHILD_ID: ["K1", "K1", "K2", "K3", "K4", "K5"],
        C.SET_DATE: ["2024-01-20", "2024-01-20", "2024-02-10", "2025-05-01", "2023-09-15",
                     "2024-05-15"],
        C.DOMAIN: ["self-care", "play/social", "fine motor", "self-care", "play/social",
                   "sensory regulation"],
        C.DESCRIPTION: [f"Secret goal text {k}" for k in range(1, 7)],
        C.BASELINE_LEVEL: [-1, -2, -1, -2, -1, -1],
        C.TARGET_DATE: ["2024-12-31", "2025-12-31", "2024-08-10", "2025-11-01", "2024-03-15",
                        "2025-05-15"],
    })
    ratings = pd.DataFrame([
        ("G1", "2024-04-20", 0), ("G1", "2024-10-20", 1), ("G1", "2024-12-01", 5),  # 5: bad
        ("G2", "2024-04-20", -1), ("G2", "2025-05-20", 0),
        ("G3", "2024-05-10", -1), ("G3", "2024-11-10", -2), ("G3", "2024-12-01", 7),  # bad
        ("G5", "2024-03-01", 0),
        ("G6", "2024-08-15", -1), ("G6", "2025-04-01", -1),
    ], columns=[C.GOAL_ID, C.DATE, C.LEVEL])
    ratings[C.NOTE] = "Secret note"
    folder.mkdir(parents=True, exist_ok=True)
    for name, frame in (("children", children), ("assessments", assessments),
                        ("goals", goals), ("goal_ratings", ratings)):
        frame.to_csv(folder / f"{name}.csv", index=False)
    return folder


def row(frame, by, group):
    """The one row of a caseload table for a group."""
    rows = frame[(frame[C.GROUP_BY] == by) & (frame[C.GROUP] == group)]
    assert len(rows) == 1, (by, group)
    return rows.iloc[0]
