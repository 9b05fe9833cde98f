"""The sample clinic as a REDCap project export (``data/sample-redcap``).

A longitudinal project with two arms (children referred at 3 years or older,
and toddlers), each with an ``enrolment`` event (the child's form, goals as a
repeating instrument, goal reviews as a repeating instrument) and a repeating
``assessment`` event (each administration of demo-child or demo-toddler one
instance). Diagnoses are a checkbox field. Everything is invented, like the
sample clinic it is generated from (:func:`sensoryprofile.synthetic.clinic.generate_clinic`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from sensoryprofile import columns as C
from sensoryprofile.data.redcap_dictionary import (
    API_COLUMNS,
    DICTIONARY_COLUMNS,
    EVENT,
    REPEAT_INSTANCE,
    REPEAT_INSTRUMENT,
    STATUS_SUFFIX,
    dictionary_from_frame,
    mapping_from_dict,
    parse_choices,
)
from sensoryprofile.data.redcap_draft import draft_mapping, mapping_yaml
from sensoryprofile.data.tables import write_text_atomic
from sensoryprofile.dates import completed_months
from sensoryprofile.instruments import Instrument, load_instrument
from sensoryprofile.synthetic.clinic import (
    CLINIC_INSTRUMENTS,
    DIAGNOSES,
    GOAL_DOMAINS,
    SITES,
    THERAPISTS,
    generate_clinic,
)

ARMS = {1: "Referred at 3 years or older", 2: "Referred before 3 years"}
ENROLMENT, ASSESSMENT = "enrolment", "assessment"
EVENT_LABELS = {ENROLMENT: "Enrolment", ASSESSMENT: "Assessment"}
FORM_PREFIX = {"demo-child": "dc", "demo-toddler": "dt"}
RESPONDENTS = ("caregiver", "teacher", "self", "clinician")
RATERS = ("therapist", "caregiver", "teacher")
SEXES = {"F": "Female", "M": "Male", "X": "Another sex or not stated"}
FILES = {"dictionary": "dictionary.csv", "records": "records.csv", "mapping": "mapping.yaml"}
COMPLETE = "2"


def event_name(kind: str, arm: int) -> str:
    return f"{kind}_arm_{arm}"


def event_label(kind: str, arm: int) -> str:
    return f"{EVENT_LABELS[kind]} (Arm {arm}: {ARMS[arm]})"


def form_name(instrument_id: str) -> str:
    return instrument_id.replace("-", "_")


def _choices(pairs) -> str:
    return " | ".join(f"{code}, {label}" for code, label in pairs)


def _field(name, form, ftype, label, choices="", validation="", identifier="",
           section="", note="") -> dict:
    row = dict.fromkeys(DICTIONARY_COLUMNS, "")
    row.update({
        "Variable / Field Name": name, "Form Name": form, "Section Header": section,
        "Field Type": ftype, "Field Label": label,
        "Choices, Calculations, OR Slider Labels": choices, "Field Note": note,
        "Text Validation Type OR Show Slider Number": validation, "Identifier?": identifier,
    })
    return row


def data_dictionary(instruments: list[Instrument]) -> pd.DataFrame:
    """The project's 18-column data dictionary."""
    date = "date_ymd"
    rows = [
        _field("record_id", ENROLMENT, "text", "Record ID"),
        _field("child_name", ENROLMENT, "text", "Child's name (as shown on reports)",
               identifier="y"),
        _field("dob", ENROLMENT, "text", "Date of birth", validation=date, identifier="y"),
        _field("sex", ENROLMENT, "radio", "Sex", _choices(SEXES.items())),
        _field("diagnoses", ENROLMENT, "checkbox", "Diagnoses",
               _choices((k + 1, d) for k, d in enumerate(DIAGNOSES))),
        _field("site", ENROLMENT, "dropdown", "Site",
               _choices((k + 1, s) for k, s in enumerate(SITES))),
        _field("therapist", ENROLMENT, "dropdown", "Treating therapist",
               _choices((k + 1, t[0]) for k, t in enumerate(THERAPISTS))),
        _field("referral_date", ENROLMENT, "text", "Referral date", validation=date),
        _field("discharge_date", ENROLMENT, "text", "Discharge date", validation=date),
    ]
    for inst in instruments:
        form, prefix = form_name(inst.id), FORM_PREFIX.get(inst.id, form_name(inst.id))
        scale = _choices((f"{v:g}", label) for label, v in inst.response_scale.values.items())
        rows.append(_field(f"{prefix}_date", form, "text", "Date completed", validation=date,
                           section=inst.name))
        rows.append(_field(f"{prefix}_respondent", form, "radio", "Respondent",
                           _choices((k + 1, r) for k, r in enumerate(RESPONDENTS))))
        sections = {s.id: s.name for s in inst.sections}
        seen = set()
        for item in inst.items:
            header = ""
            if item.section and item.section not in seen:
                seen.add(item.section)
                header = sections[item.section]
            rows.append(_field(item.id, form, "radio", item.text or item.id, scale,
                               section=header))
    goal = "goal"
    rows += [
        _field("goal_set_date", goal, "text", "Date the goal was set", validation=date),
        _field("goal_domain", goal, "dropdown", "Domain",
               _choices((k + 1, d) for k, d in enumerate(GOAL_DOMAINS))),
        _field("goal_description", goal, "notes", "Goal"),
        _field("goal_importance", goal, "radio", "Importance to the family",
               _choices((k, str(k)) for k in range(4))),
        _field("goal_difficulty", goal, "radio", "Difficulty",
               _choices((k, str(k)) for k in range(4))),
        _field("goal_baseline", goal, "radio", "Baseline level",
               _choices([(-1, "Some ability"), (-2, "No ability")])),
        _field("goal_level_m2", goal, "notes", "Level -2: much less than expected"),
        _field("goal_level_m1", goal, "notes", "Level -1: less than expected"),
        _field("goal_level_0", goal, "notes", "Level 0: the expected outcome"),
        _field("goal_level_p1", goal, "notes", "Level +1: better than expected"),
        _field("goal_level_p2", goal, "notes", "Level +2: much better than expected"),
        _field("goal_target_date", goal, "text", "Target date", validation=date),
    ]
    review = "goal_review"
    levels = [(-2, "Much less than expected"), (-1, "Less than expected"),
              (0, "Expected outcome"), (1, "Better than expected"),
              (2, "Much better than expected")]
    rows += [
        _field("review_goal", review, "text", "Goal number (instance of the Goal form)",
               validation="integer"),
        _field("review_date", review, "text", "Review date", validation=date),
        _field("review_level", review, "radio", "Level reached", _choices(levels)),
        _field("review_rater", review, "dropdown", "Rated by",
               _choices((k + 1, r) for k, r in enumerate(RATERS))),
        _field("review_note", review, "notes", "Note"),
        _field("review_family_note", review, "notes", "Note for the family"),
    ]
    return pd.DataFrame(rows, columns=list(DICTIONARY_COLUMNS))


def _code_of(dictionary: pd.DataFrame, field: str) -> dict[str, str]:
    """label -> code of a choice field."""
    row = dictionary[dictionary["Variable / Field Name"] == field].iloc[0]
    return {label: code for code, label in parse_choices(
        row["Choices, Calculations, OR Slider Labels"]).items()}


@dataclass
class RedcapExport:
    """A REDCap project export: dictionary, records and the import mapping."""

    dictionary: pd.DataFrame
    records: pd.DataFrame
    mapping: dict
    unmatched: list[str]


def _record_ids(child_ids: pd.Series) -> tuple[pd.Series, str, int]:
    """Record ids (REDCap numbers records 1, 2, ...) and the rule back to child ids."""
    if child_ids.str.fullmatch(r"C\d+").all() and child_ids.str.len().nunique() == 1:
        digits = child_ids.str[1:]
        return digits.astype(int).astype(str), "C", int(digits.str.len().iloc[0])
    return child_ids, "", 0


def redcap_export(clinic: dict[str, pd.DataFrame], *, labels: bool = False) -> RedcapExport:
    """The clinic's tables as a REDCap project: dictionary, records, mapping.

    ``labels`` writes the records as a labelled export (choice labels,
    Checked/Unchecked, status and event labels) instead of raw codes.
    """
    instruments = [load_instrument(i) for i in CLINIC_INSTRUMENTS]
    dictionary = data_dictionary(instruments)
    children = clinic["children"].astype(object)
    child_ids = children[C.CHILD_ID].astype(str)
    record_of, prefix, pad = _record_ids(child_ids)
    record = dict(zip(child_ids, record_of, strict=True))
    order = {cid: k for k, cid in enumerate(child_ids)}
    dob = pd.to_datetime(children[C.DATE_OF_BIRTH]).to_numpy()
    referral = pd.to_datetime(children[C.REFERRAL_DATE]).to_numpy()
    toddler = completed_months(dob, referral) < 36
    arm = dict(zip(child_ids, np.where(toddler, 2, 1), strict=True))

    def text(values) -> pd.Series:
        series = pd.Series(values, dtype=object)
        return series.where(series.notna(), None).map(lambda v: v if v is None else str(v))

    def block(table_rows: pd.DataFrame, kind: str, sort: int, instrument: str | None,
              instance) -> pd.DataFrame:
        ids = table_rows[C.CHILD_ID].astype(str)
        arms = ids.map(arm)
        out = pd.DataFrame({
            "record_id": ids.map(record).to_numpy(),
            EVENT: [event_name(kind, a) for a in arms],
            REPEAT_INSTRUMENT: instrument,
            REPEAT_INSTANCE: instance,
        })
        out["_order"] = ids.map(order).to_numpy()
        out["_sort"] = sort
        return out

    # enrolment: the child's form
    sex_code = _code_of(dictionary, "sex")
    site_code, ther_code = _code_of(dictionary, "site"), _code_of(dictionary, "therapist")
    enrol = block(children, ENROLMENT, 0, None, None)
    enrol["child_name"] = text(children[C.DISPLAY_NAME]).to_numpy()
    enrol["dob"] = text(children[C.DATE_OF_BIRTH]).to_numpy()
    enrol["sex"] = children[C.SEX].map(lambda s: sex_code.get(SEXES.get(s))).to_numpy()
    held = children[C.DIAGNOSES].fillna("").str.split(";")
    for k, diagnosis in enumerate(DIAGNOSES, start=1):
        enrol[f"diagnoses___{k}"] = held.map(lambda d, x=diagnosis: "1" if x in d else "0"
                                             ).to_numpy()
    enrol["site"] = children[C.SITE].map(site_code).to_numpy()
    enrol["therapist"] = children[C.THERAPIST].map(ther_code).to_numpy()
    enrol["referral_date"] = text(children[C.REFERRAL_DATE]).to_numpy()
    enrol["discharge_date"] = text(children[C.DISCHARGE_DATE]).to_numpy()
    enrol[f"{ENROLMENT}{STATUS_SUFFIX}"] = COMPLETE

    # assessments: each administration an instance of the repeating assessment event
    ass = clinic["assessments"].astype(object)
    ass = ass.iloc[np.lexsort((ass[C.ASSESSMENT_ID].to_numpy(dtype=str),
                               ass[C.DATE].to_numpy(dtype=str),
                               ass[C.CHILD_ID].map(order).to_numpy()))]
    instance = ass.groupby(C.CHILD_ID, sort=False).cumcount().to_numpy() + 1
    pieces = []
    resp_code = {r: str(k + 1) for k, r in enumerate(RESPONDENTS)}
    for inst in instruments:
        mask = (ass[C.INSTRUMENT] == inst.id).to_numpy()
        rows = ass[mask]
        form, prefix_i = form_name(inst.id), FORM_PREFIX[inst.id]
        out = block(rows, ASSESSMENT, 3, None, instance[mask])
        out[f"{prefix_i}_date"] = text(rows[C.DATE]).to_numpy()
        out[f"{prefix_i}_respondent"] = rows[C.RESPONDENT].map(resp_code).to_numpy()
        items = pd.DataFrame({item: text(rows[item]).to_numpy() if item in rows.columns
                              else None for item in inst.item_ids}, index=out.index)
        items[f"{form}{STATUS_SUFFIX}"] = COMPLETE
        pieces.append(pd.concat([out, items], axis=1))

    # goals: a repeating instrument of the enrolment event
    goals = clinic["goals"].astype(object)
    goals = goals.assign(_order=goals[C.CHILD_ID].map(order)).sort_values(
        ["_order", C.SET_DATE, C.GOAL_ID], kind="stable")
    goal_number = goals.groupby(C.CHILD_ID, sort=False).cumcount().to_numpy() + 1
    goal_of = dict(zip(goals[C.GOAL_ID], goal_number, strict=True))
    child_of_goal = dict(zip(goals[C.GOAL_ID], goals[C.CHILD_ID], strict=True))
    domain_code = _code_of(dictionary, "goal_domain")
    gl = block(goals, ENROLMENT, 1, "goal", goal_number)
    gl["goal_set_date"] = text(goals[C.SET_DATE]).to_numpy()
    gl["goal_domain"] = goals[C.DOMAIN].map(domain_code).to_numpy()
    gl["goal_description"] = text(goals[C.DESCRIPTION]).to_numpy()
    gl["goal_importance"] = text(goals[C.IMPORTANCE]).to_numpy()
    gl["goal_difficulty"] = text(goals[C.DIFFICULTY]).to_numpy()
    gl["goal_baseline"] = text(goals[C.BASELINE_LEVEL]).to_numpy()
    for column, field in zip(C.LEVEL_TEXT_COLUMNS, ("goal_level_m2", "goal_level_m1",
                                                    "goal_level_0", "goal_level_p1",
                                                    "goal_level_p2"), strict=True):
        gl[field] = text(goals[column]).to_numpy()
    gl["goal_target_date"] = text(goals[C.TARGET_DATE]).to_numpy()
    gl[f"goal{STATUS_SUFFIX}"] = COMPLETE

    # goal reviews: a repeating instrument, each rating one instance
    ratings = clinic["goal_ratings"].astype(object)
    ratings = ratings.assign(**{C.CHILD_ID: ratings[C.GOAL_ID].map(child_of_goal)})
    ratings = ratings.assign(_order=ratings[C.CHILD_ID].map(order),
                             _goal=ratings[C.GOAL_ID].map(goal_of)).sort_values(
        ["_order", C.DATE, "_goal"], kind="stable")
    review_number = ratings.groupby(C.CHILD_ID, sort=False).cumcount().to_numpy() + 1
    rater_code = {r: str(k + 1) for k, r in enumerate(RATERS)}
    rv = block(ratings, ENROLMENT, 2, "goal_review", review_number)
    rv["review_goal"] = ratings["_goal"].astype(str).to_numpy()
    rv["review_date"] = text(ratings[C.DATE]).to_numpy()
    rv["review_level"] = text(ratings[C.LEVEL]).to_numpy()
    rv["review_rater"] = ratings[C.RATER].map(rater_code).to_numpy()
    rv["review_note"] = text(ratings[C.NOTE]).to_numpy()
    rv["review_family_note"] = text(ratings[C.FAMILY_NOTE]).to_numpy()
    rv[f"goal_review{STATUS_SUFFIX}"] = COMPLETE

    records = pd.concat([enrol, gl, rv, *pieces], ignore_index=True)
    records = records.sort_values(["_order", "_sort", REPEAT_INSTANCE],
                                  kind="stable", na_position="first")
    columns = ["record_id", EVENT, REPEAT_INSTRUMENT, REPEAT_INSTANCE]
    for form in dict.fromkeys(dictionary["Form Name"]):
        fields = dictionary[dictionary["Form Name"] == form]
        for name, ftype, choices in zip(fields["Variable / Field Name"], fields["Field Type"],
                                        fields["Choices, Calculations, OR Slider Labels"],
                                        strict=True):
            if name == "record_id":
                continue
            if ftype == "checkbox":
                columns += [f"{name}___{code}" for code in parse_choices(choices)]
            else:
                columns.append(name)
        columns.append(f"{form}{STATUS_SUFFIX}")
    records = records.reindex(columns=columns).reset_index(drop=True)
    records[REPEAT_INSTANCE] = records[REPEAT_INSTANCE].map(
        lambda v: None if pd.isna(v) else str(int(v)))
    events = [event_name(kind, a) for a in ARMS for kind in (ENROLMENT, ASSESSMENT)]
    if labels:
        records = _labelled(records, dictionary)
    # the mapping is the draft from the dictionary, with the record -> child rule and labels
    dd = dictionary_from_frame(dictionary)
    mapping, unmatched = draft_mapping(dd, instruments, events=events)
    mapping["child_id"] = {"prefix": prefix, "pad": pad}
    mapping["events"] = {event_name(kind, a): event_label(kind, a)
                         for a in ARMS for kind in (ENROLMENT, ASSESSMENT)}
    mapping_from_dict(mapping, dd)  # the sample's mapping must fit its dictionary
    return RedcapExport(dictionary=dictionary, records=records, mapping=mapping,
                        unmatched=unmatched)


def _labelled(records: pd.DataFrame, dictionary: pd.DataFrame) -> pd.DataFrame:
    """Choice codes -> labels, as REDCap's labelled export writes them."""
    out = records.copy()
    for name, _form, ftype, choices in zip(dictionary["Variable / Field Name"],
                                          dictionary["Form Name"], dictionary["Field Type"],
                                          dictionary["Choices, Calculations, OR Slider Labels"],
                                          strict=True):
        pairs = parse_choices(choices)
        if ftype in ("radio", "dropdown"):
            out[name] = out[name].map(lambda v, p=pairs: v if v is None or pd.isna(v)
                                      else p.get(v, v))
        elif ftype == "checkbox":
            for code in pairs:
                col = f"{name}___{code}"
                out[col] = out[col].map({"1": "Checked", "0": "Unchecked"})
    status_cols = [c for c in out.columns if c.endswith(STATUS_SUFFIX)]
    for col in status_cols:
        out[col] = out[col].map({"0": "Incomplete", "1": "Unverified", "2": "Complete"})
    labels = {event_name(kind, a): event_label(kind, a) for a in ARMS
              for kind in (ENROLMENT, ASSESSMENT)}
    out[EVENT] = out[EVENT].map(labels)
    out[REPEAT_INSTRUMENT] = out[REPEAT_INSTRUMENT].map(
        lambda v: v if v is None or pd.isna(v) else v.replace("_", " ").title())
    return out


SAMPLE_README = """\
# data/sample-redcap: the sample clinic as a REDCap export

Synthetic: generated from the sample clinic (`data/sample`) by
`sensoryprofile sample --format redcap --children {n} --seed {seed} --out DIR`.
Nothing here describes a real child, therapist or clinic; no REDCap server was
involved. Import it with

    sensoryprofile import redcap {folder} --out imported
    sensoryprofile report all --data imported --out reports

- `dictionary.csv`: the project's data dictionary (REDCap's 18 columns).
- `records.csv`: the records export (raw codes). A longitudinal project with
  two arms ({arm1}; {arm2}): per arm an `enrolment` event (the child's form,
  `goal` as a repeating instrument, `goal_review` as a repeating instrument:
  each rating one instance) and a repeating `assessment` event (each
  administration of demo-child or demo-toddler one instance). Diagnoses are a
  checkbox field (`diagnoses___1` ... `diagnoses___5`).
- `mapping.yaml`: which fields are the child, which form is which instrument,
  which fields are goals and ratings (docs/redcap-import.md). It is the draft
  `sensoryprofile import redcap --draft-mapping` writes from the dictionary,
  with the record ID -> child_id rule (prefix `C`, zero-padded) and the
  events' labels added.
"""


def write_redcap_sample(out_dir, n_children: int = 60, seed: int = 0, *,
                        labels: bool = False) -> dict[str, Path]:
    """Write the sample clinic as a REDCap export into ``out_dir``.

    Returns the paths written (dictionary, records, mapping, README).
    """
    clinic = generate_clinic(n_children, seed)
    export = redcap_export(clinic, labels=labels)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = {}
    for name, frame in (("dictionary", export.dictionary), ("records", export.records)):
        path = out / FILES[name]
        with open(path, "w", encoding="utf-8", newline="") as handle:
            frame.to_csv(handle, index=False, lineterminator="\n")
        paths[name] = path
    header = ("sensoryprofile REDCap import mapping (format 1): docs/redcap-import.md.\n"
              "The draft of `sensoryprofile import redcap --draft-mapping` for this\n"
              "dictionary, with the record ID -> child_id rule and the events' labels.")
    paths["mapping"] = write_text_atomic(mapping_yaml(export.mapping, export.unmatched,
                                                      header=header), out / FILES["mapping"])
    readme = SAMPLE_README.format(n=n_children, seed=seed, folder="data/sample-redcap",
                                  arm1=f"arm 1: {ARMS[1].lower()}",
                                  arm2=f"arm 2: {ARMS[2].lower()}")
    paths["readme"] = write_text_atomic(readme, out / "README.md")
    return paths


__all__ = ["API_COLUMNS", "RedcapExport", "data_dictionary", "redcap_export",
           "write_redcap_sample"]
