"""The data dictionary: what every column of a clinic dataset means.

One source for the README that ``sensoryprofile init`` writes, the committed
sample's README, and the headers of a new workbook.
"""

from __future__ import annotations

from sensoryprofile import columns as C
from sensoryprofile.data.dataset import FAMILY_NOTE_MAX_CHARS, OPTIONAL, REQUIRED, TABLES
from sensoryprofile.instruments import Instrument

TABLE_PURPOSE = {
    "children": "One row per child. Identifying columns (display_name, date_of_birth) never "
                "appear in validation reports, logs or de-identified outputs.",
    "assessments": "One row per questionnaire administration. One column per item id of every "
                   "instrument used; a row is scored on its own instrument's items only, and "
                   "other instruments' columns stay blank.",
    "goals": "One row per goal (goal attainment scaling), with the five level descriptions "
             "written when the goal is set.",
    "goal_ratings": "One row per goal per review date: the level reached.",
}

COLUMN_MEANING = {
    C.CHILD_ID: "Child's ID: 1-64 letters, digits, '_' or '-'. Not a name or record number "
                "that identifies the child outside the clinic.",
    C.DATE_OF_BIRTH: "YYYY-MM-DD. Identifying: used only to compute age in months.",
    C.SEX: "F, M, X or blank.",
    C.DIAGNOSES: "Diagnoses separated by ';' (e.g. 'autism;ADHD'); 'none' if none.",
    C.SITE: "Clinic site.",
    C.THERAPIST: "Treating therapist (as the clinic names them).",
    C.REFERRAL_DATE: "YYYY-MM-DD the child was referred.",
    C.DISCHARGE_DATE: "YYYY-MM-DD of discharge; blank while the child is active.",
    C.DISPLAY_NAME: "Optional name shown on the child's own report. Identifying; dropped by "
                    "--deidentify and by `sensoryprofile export`.",
    C.ASSESSMENT_ID: "Assessment ID: 1-64 letters, digits, '_' or '-', unique.",
    C.INSTRUMENT: "Instrument id (a shipped id such as demo-child, or the id of a definition "
                  "file in the dataset's instruments/ folder).",
    C.DATE: "YYYY-MM-DD of the assessment or rating.",
    C.RESPONDENT: "Who answered: caregiver, teacher, self or clinician; blank means the "
                  "instrument's own respondent. Forms from different respondents are never "
                  "compared with each other.",
    C.GOAL_ID: "Goal ID: 1-64 letters, digits, '_' or '-', unique.",
    C.SET_DATE: "YYYY-MM-DD the goal was set.",
    C.DOMAIN: "Area of the goal: self-care, fine motor, sensory regulation, play/social, "
              "school participation, or the clinic's own.",
    C.DESCRIPTION: "The goal in words (free text; dropped from de-identified exports).",
    C.IMPORTANCE: "0-3: how important the goal is to the family (blank = unweighted).",
    C.DIFFICULTY: "0-3: how difficult the therapist judges it (blank = unweighted). "
                  "Weight = importance x difficulty when both are given, else 1.",
    C.BASELINE_LEVEL: "-1 (some ability at the start) or -2 (none).",
    "level_-2": "What 'much less than expected' looks like for this goal.",
    "level_-1": "What 'less than expected' looks like.",
    "level_0": "The expected outcome: the goal itself.",
    "level_+1": "What 'better than expected' looks like.",
    "level_+2": "What 'much better than expected' looks like.",
    C.TARGET_DATE: "YYYY-MM-DD by which the goal should be met.",
    C.LEVEL: "Level reached: -2, -1, 0, +1 or +2 (-3 = worse than baseline, only when the "
             "dataset declares gas_six_level: true).",
    C.RATER: "Who rated (therapist, caregiver, teacher, ...).",
    C.NOTE: "Optional free-text note (dropped from de-identified outputs).",
    C.FAMILY_NOTE: "Optional note from the therapist to the family, written at this review "
                   "in the family's language; the family report shows the latest one (at most "
                   f"{FAMILY_NOTE_MAX_CHARS} characters). Free text: never shown in validation "
                   "messages, dropped from de-identified outputs.",
}


def table_columns(table: str, instruments: list[Instrument] = ()) -> list[str]:
    cols = REQUIRED[table] + [c for c in OPTIONAL[table] if c not in REQUIRED[table]]
    if table == "assessments":
        for inst in instruments:
            cols += list(inst.item_ids)
    return cols


def data_dictionary_markdown(instruments: list[Instrument] = (), *, title: str = "Dataset"
                             ) -> str:
    lines = [f"# {title}", "",
             "A clinic dataset for sensoryprofile: four tables, as CSV files in this folder "
             "(children.csv, assessments.csv, goals.csv, goal_ratings.csv) or as sheets of "
             "one .xlsx workbook. Dates are ISO 8601 (YYYY-MM-DD); a date such as 03/04/2025 "
             "is refused as ambiguous, never guessed. Check the data with "
             "`sensoryprofile validate DIR`.", "",
             "Optional `dataset.yaml` settings: `gas_six_level: true` allows level -3 (worse "
             "than baseline); `reassessment_interval_months: 6`; `name`.", ""]
    for table in TABLES:
        lines += [f"## {table}", "", TABLE_PURPOSE[table], "",
                  "| column | required | meaning |", "|---|---|---|"]
        for col in REQUIRED[table] + OPTIONAL[table]:
            req = "yes" if col in REQUIRED[table] else "no"
            lines.append(f"| `{col}` | {req} | {COLUMN_MEANING.get(col, '')} |")
        if table == "assessments":
            for inst in instruments:
                values = ", ".join(f"{v:g} = {k}" for k, v in inst.response_scale.values.items())
                first, last = inst.item_ids[0], inst.item_ids[-1]
                lines.append(f"| `{first}` ... `{last}` | no | {len(inst.items)} item columns "
                             f"of {inst.id} ({inst.name}). Values: {values}; blank = "
                             "missing. A label may be typed instead of its number. |")
        lines.append("")
    return "\n".join(lines)
