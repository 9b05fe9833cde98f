"""FHIR R4: importing Patient, QuestionnaireResponse, Goal and Observation
resources into a dataset, and exporting scored administrations.

Resources are parsed and checked with ``fhir.resources`` (its ``R4B``
models: FHIR 4.3, whose Patient, QuestionnaireResponse, Goal, Observation
and Bundle are the R4 resources; the package's pure-R4 releases need
pydantic 1, which this environment's pydantic 2 excludes). It is imported
inside the functions, so commands that do not read or write FHIR never load it.

Import (:func:`import_fhir`): a Bundle (JSON) or NDJSON files (a folder of
them, as a bulk-data export writes them). Every resource read is imported or
listed with its file, its entry or line number, its type and id, the
element, the rule and the action:

- ``Patient`` -> children: ``id`` (or an identifier of a given system) is the
  child_id; ``birthDate``, ``gender``, the name (identifying: never shown),
  ``managingOrganization.display`` (site), ``generalPractitioner[0].display``
  (therapist), and this project's extensions for referral and discharge
  dates and diagnoses (:data:`EXT`).
- ``QuestionnaireResponse`` -> assessments: the instrument whose definition
  names the ``questionnaire`` canonical URL (``fhir.questionnaire``), answers
  by ``linkId`` (an item's ``link_id``, else its id) from ``valueCoding``,
  ``valueInteger`` or ``valueDecimal``, in nested groups too. Only
  ``completed`` and ``amended`` responses are scored.
- ``Goal`` -> goals, with the GAS extensions; ``Observation`` of the GAS
  level code -> goal ratings (``focus`` names the goal).
- ``Observation`` of a score (what :func:`export_fhir` writes) is recognised
  and not imported: scores are computed again from the responses.

Export (:func:`export_bundle`): each accepted administration as a
``QuestionnaireResponse`` (items grouped by section), each score as an
``Observation`` (the raw score, the classification as a coded
``interpretation``, z, percentile and the norm band as components), with the
Patients, Goals and rating Observations, in a ``collection`` Bundle that the
same library validates.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from sensoryprofile import columns as C
from sensoryprofile.data.imported import (
    ORIGIN_COLUMNS,
    RESOURCE_NOT_IMPORTED,
    TABLE_COLUMNS,
    VALUE_READ_AS_BLANK,
    ImportedTables,
    shown_value,
)
from sensoryprofile.data.validation import HIDDEN, VALUE_IGNORED, ValidationReport
from sensoryprofile.errors import DatasetError, InstrumentError
from sensoryprofile.ids import is_valid_id
from sensoryprofile.instruments import LEVEL_KEYS, Instrument, list_instruments
from sensoryprofile.instruments.loader import load_instrument_file

#: The base of this project's FHIR names (an invented domain reserved for examples).
BASE = "https://sensoryprofile.example/fhir"
EXT = {
    "referral_date": f"{BASE}/StructureDefinition/referral-date",
    "discharge_date": f"{BASE}/StructureDefinition/discharge-date",
    "diagnosis": f"{BASE}/StructureDefinition/diagnosis",
    "respondent": f"{BASE}/StructureDefinition/respondent",
    "importance": f"{BASE}/StructureDefinition/gas-importance",
    "difficulty": f"{BASE}/StructureDefinition/gas-difficulty",
    "baseline": f"{BASE}/StructureDefinition/gas-baseline-level",
    "level_text": f"{BASE}/StructureDefinition/gas-level-text",
    "family_note": f"{BASE}/StructureDefinition/family-note",
}
OBSERVATION_SYSTEM = f"{BASE}/CodeSystem/observation"
GAS_LEVEL_CODE = "gas-level"
SCORE_SYSTEM = f"{BASE}/CodeSystem/score"
SCORE_PART_SYSTEM = f"{BASE}/CodeSystem/score-part"
CLASSIFICATION_SYSTEM = f"{BASE}/CodeSystem/classification"
CATEGORY_SYSTEM = "http://terminology.hl7.org/CodeSystem/observation-category"
DATA_ABSENT = "http://hl7.org/fhir/StructureDefinition/data-absent-reason"
SCORED_STATUSES = ("completed", "amended")
RATING_STATUSES = ("final", "amended", "corrected")
GENDER_TO_SEX = {"female": "F", "male": "M", "other": "X"}
SEX_TO_GENDER = {"F": "female", "M": "male", "X": "other"}
#: Accounting rows of a FHIR import, by resource type.
RESOURCE_TABLES = ("Patient", "QuestionnaireResponse", "Goal", "Observation",
                   "other resources")
SCORES_TABLE = "Observation (scores: recomputed)"
#: Elements whose values identify a child: never shown in a message.
IDENTIFYING_ELEMENTS = frozenset({"birthDate", "name", "telecom", "address", "identifier"})


def _models():
    """The R4(B) model look-up of ``fhir.resources`` (imported only when needed)."""
    from fhir.resources.R4B import get_fhir_model_class

    return get_fhir_model_class


# ---------------------------------------------------------------------------
# reading resources
# ---------------------------------------------------------------------------
@dataclass
class _Resource:
    file: str
    row: int          # entry number in a Bundle (1 = first), line number in NDJSON
    data: dict
    model: object = None

    @property
    def type(self) -> str:
        return str(self.data.get("resourceType", ""))

    @property
    def id(self) -> str | None:
        value = self.data.get("id")
        return value if isinstance(value, str) else None

    @property
    def key(self) -> str:
        rid = self.id
        shown = rid if rid is not None and len(rid) <= 64 else "(no id)"
        return f"{self.type or 'resource'}/{shown}"


def read_resources(path: str | Path, report: ValidationReport) -> list[_Resource]:
    """Resources of a Bundle JSON file, an NDJSON file or a folder of NDJSON
    (and JSON) files; unreadable lines and entries are reported."""
    path = Path(path)
    if not path.exists():
        raise DatasetError(f"{path}: no such FHIR file or folder")
    files = (sorted(p for p in path.iterdir() if p.suffix.lower() in (".ndjson", ".json"))
             if path.is_dir() else [path])
    if not files:
        raise DatasetError(f"{path}: no .ndjson or .json files in the folder")
    out: list[_Resource] = []
    for file in files:
        try:
            text = file.read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as exc:
            raise DatasetError(f"{file.name}: cannot be read as UTF-8 ({exc})") from None
        if file.suffix.lower() == ".ndjson":
            for k, line in enumerate(text.splitlines(), start=1):
                if not line.strip():
                    continue
                try:
                    data = json.loads(line)
                except json.JSONDecodeError as exc:
                    report.add(file=file.name, row=k, column=None, value="",
                               rule=f"not valid JSON ({exc.msg})",
                               action=RESOURCE_NOT_IMPORTED, raw_value=False)
                    continue
                out.append(_Resource(file.name, k, data))
            continue
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise DatasetError(f"{file.name}: not valid JSON (line {exc.lineno}: "
                               f"{exc.msg})") from None
        if not isinstance(data, dict):
            raise DatasetError(f"{file.name}: a FHIR JSON file holds one resource or a Bundle")
        if data.get("resourceType") != "Bundle":
            out.append(_Resource(file.name, 1, data))
            continue
        entries = data.get("entry") or []
        if not isinstance(entries, list):
            raise DatasetError(f"{file.name}: Bundle.entry must be a list")
        for k, entry in enumerate(entries, start=1):
            resource = entry.get("resource") if isinstance(entry, dict) else None
            if not isinstance(resource, dict):
                report.add(file=file.name, row=k, column="entry.resource", value="",
                           rule="a Bundle entry holds a resource", action=RESOURCE_NOT_IMPORTED,
                           raw_value=False)
                continue
            out.append(_Resource(file.name, k, resource))
    return out


def _parse(resources: list[_Resource], report: ValidationReport) -> list[_Resource]:
    """Each resource checked by fhir.resources; invalid ones are reported."""
    from pydantic import ValidationError

    model_class = _models()
    parsed = []
    for res in resources:
        rtype = res.type
        try:
            cls = model_class(rtype)
        except (KeyError, ValueError, TypeError, AttributeError):
            report.add(file=res.file, row=res.row, column="resourceType", value=rtype or "",
                       rule="not a FHIR R4 resource type", action=RESOURCE_NOT_IMPORTED,
                       table=None, key=res.key)
            continue
        try:
            res.model = cls.model_validate(res.data)
        except ValidationError as exc:
            errors = exc.errors()
            first = errors[0] if errors else {"loc": (), "msg": "invalid"}
            loc = ".".join(str(p) for p in first.get("loc", ()) if p != rtype)
            top = str(first.get("loc", ("",))[0]) if first.get("loc") else ""
            msg = ("invalid value" if top in IDENTIFYING_ELEMENTS
                   else str(first.get("msg", "invalid")))
            more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
            report.add(file=res.file, row=res.row, column=loc or None, value="",
                       rule=f"not a valid FHIR R4 {rtype}: {msg}{more}",
                       action=RESOURCE_NOT_IMPORTED, key=res.key, raw_value=False)
            continue
        except (ValueError, TypeError) as exc:
            report.add(file=res.file, row=res.row, column=None, value="",
                       rule=f"not a valid FHIR R4 {rtype}: {type(exc).__name__}",
                       action=RESOURCE_NOT_IMPORTED, key=res.key, raw_value=False)
            continue
        parsed.append(res)
    return parsed


# ---------------------------------------------------------------------------
# small readers of elements
# ---------------------------------------------------------------------------
def _ext(model, url: str) -> list:
    return [e for e in (getattr(model, "extension", None) or []) if e.url == url]


def _ext_value(model, url: str, kind: str):
    found = _ext(model, url)
    return getattr(found[0], kind) if found else None


def _date_text(value) -> str | None:
    """A FHIR date/dateTime (parsed by the library) as YYYY-MM-DD, local date as written."""
    if value is None:
        return None
    if hasattr(value, "date") and callable(value.date):
        return value.date().isoformat()
    if hasattr(value, "isoformat"):
        return value.isoformat()[:10]
    text = str(value)
    return text[:10] if len(text) >= 10 else text  # a partial date: the loader reports it


def _reference_id(reference, rtype: str) -> str | None:
    """``Patient/abc`` (or a full URL ending so) -> ``abc``."""
    ref = getattr(reference, "reference", None) if reference is not None else None
    if not isinstance(ref, str):
        return None
    parts = ref.rstrip("/").split("/")
    if len(parts) >= 2 and parts[-2] == rtype:
        return parts[-1]
    if "/_history/" in ref:
        parts = ref.split("/_history/")[0].split("/")
        if len(parts) >= 2 and parts[-2] == rtype:
            return parts[-1]
    return None


def fhir_id(dataset_id: str) -> str:
    """A dataset ID as a FHIR id: FHIR ids are letters, digits, '-' and '.', ours
    letters, digits, '-' and '_'; '_' <-> '.' maps one onto the other both ways."""
    return str(dataset_id).replace("_", ".")


def dataset_id(resource_id: str | None) -> str | None:
    """A FHIR id as a dataset ID (the inverse of :func:`fhir_id`)."""
    return None if resource_id is None else str(resource_id).replace(".", "_")


def _number_text(value) -> str:
    value = float(value)
    return str(int(value)) if value.is_integer() else repr(value)


# ---------------------------------------------------------------------------
# the import
# ---------------------------------------------------------------------------
@dataclass
class _Rows:
    """Rows of one output table and where each came from."""

    rows: list[dict] = field(default_factory=list)
    origin: list[tuple] = field(default_factory=list)

    def add(self, row: dict, res: _Resource, group: str) -> None:
        self.rows.append(row)
        self.origin.append((res.file, res.row, res.key, group))

    def frames(self, table: str, extra_columns=()) -> tuple[pd.DataFrame, pd.DataFrame]:
        columns = TABLE_COLUMNS[table] + [c for c in extra_columns
                                          if c not in TABLE_COLUMNS[table]]
        frame = pd.DataFrame(self.rows, columns=columns).astype(object)
        frame = frame.where(frame.notna(), None)
        origin = pd.DataFrame(self.origin, columns=ORIGIN_COLUMNS)
        return frame, origin


class _Counts:
    def __init__(self):
        self.read = dict.fromkeys(RESOURCE_TABLES, 0) | {SCORES_TABLE: 0}
        self.taken = dict.fromkeys(self.read, 0)

    @staticmethod
    def table(rtype: str) -> str:
        return rtype if rtype in RESOURCE_TABLES else "other resources"


def instruments_by_url(search_dirs: tuple = ()) -> dict[str, Instrument]:
    """Canonical Questionnaire URL -> instrument, for the shipped forms and
    every definition file in ``search_dirs`` (a clinic's file wins)."""
    from sensoryprofile.instruments import clinic_folders

    found: dict[str, Instrument] = {i.questionnaire_url: i for i in list_instruments()}
    # the clinic's folders, the first one's file winning (so read last)
    for folder in reversed(clinic_folders(tuple(search_dirs))):
        for path in sorted(Path(folder).glob("*.y*ml")):
            try:
                inst = load_instrument_file(path)
            except InstrumentError:
                continue  # an invalid file is reported when a dataset names it
            found[inst.questionnaire_url] = inst
    return found


def _answers(items, prefix: str = "") -> list[tuple[str, str, list]]:
    """(linkId, element path, answers) of every item in a tree of items
    (nested groups, and items nested under answers)."""
    out = []
    for k, item in enumerate(items or []):
        path = f"{prefix}item[{k}]"
        answers = list(item.answer or [])
        if answers:
            out.append((item.linkId, path, answers))
        out.extend(_answers(item.item, f"{path}."))
        for a, answer in enumerate(answers):
            out.extend(_answers(getattr(answer, "item", None), f"{path}.answer[{a}]."))
    return out


def _answer_value(answer, inst: Instrument) -> tuple[str | None, str | None]:
    """(cell text, problem) of one answer."""
    labels = {lab.strip().casefold(): v for lab, v in inst.response_scale.values.items()}
    if answer.valueCoding is not None:
        coding = answer.valueCoding
        for text in (coding.code, coding.display):
            if text is None:
                continue
            try:
                return _number_text(float(text)), None
            except ValueError:
                if str(text).strip().casefold() in labels:
                    return _number_text(labels[str(text).strip().casefold()]), None
        return None, ("valueCoding has no code on the response scale (code "
                      f"{coding.code!r}, display {coding.display!r})")
    if answer.valueInteger is not None:
        return str(int(answer.valueInteger)), None
    if answer.valueDecimal is not None:
        return _number_text(answer.valueDecimal), None
    if answer.valueString is not None:
        text = answer.valueString.strip().casefold()
        if text in labels:
            return _number_text(labels[text]), None
        return answer.valueString, None  # scored as off the scale, and reported there
    return None, "answers are read from valueCoding, valueInteger or valueDecimal"


def import_fhir(path: str | Path, *, search_dirs: tuple = (),
                child_id_system: str | None = None) -> ImportedTables:
    """Turn FHIR resources (a Bundle, NDJSON files) into the tables of a dataset.

    Parameters
    ----------
    path : a Bundle JSON file, an NDJSON file, or a folder of them.
    search_dirs : folders of clinic instrument definitions (their ``fhir``
        canonical URLs are matched as well as the shipped forms').
    child_id_system : take each child's id from the Patient identifier of
        this system instead of the Patient's id.

    Returns
    -------
    ImportedTables
        Accounting per resource type: read = imported + not imported.
    """
    report = ValidationReport()
    resources = read_resources(path, report)
    counts = _Counts()
    for res in resources:
        counts.read[_Counts.table(res.type)] += 1
    parsed = _parse(resources, report)
    identifying = IDENTIFYING_ELEMENTS

    def skip(res, column, value, rule, action=RESOURCE_NOT_IMPORTED, *, table=None):
        report.add(file=res.file, row=res.row, column=column,
                   value=shown_value(value, column, identifying), rule=rule, action=action,
                   table=table, key=res.key, raw_value=False)

    def taken(res):
        counts.taken[_Counts.table(res.type)] += 1

    # one resource per type and id
    seen: dict[tuple, _Resource] = {}
    unique = []
    for res in parsed:
        key = (res.type, res.id)
        if res.id is not None and key in seen:
            first = seen[key]
            skip(res, "id", res.id, f"duplicate resource: {res.key} is already {first.file} "
                 f"entry/line {first.row}")
            continue
        seen[key] = res
        unique.append(res)
    by_type: dict[str, list[_Resource]] = {}
    for res in unique:
        by_type.setdefault(res.type, []).append(res)
    for rtype, group in by_type.items():
        if rtype not in RESOURCE_TABLES:
            for res in group:
                skip(res, "resourceType", rtype, "this resource type is not imported (only "
                     "Patient, QuestionnaireResponse, Goal and Observation)")

    # Patients -> children
    children = _Rows()
    child_of: dict[str, str] = {}
    for res in by_type.get("Patient", []):
        p = res.model
        child = dataset_id(p.id)
        if child_id_system:
            child = next((i.value for i in (p.identifier or []) if i.system == child_id_system),
                         None)
        if not is_valid_id(child):
            rule = (f"no identifier of system {child_id_system} that is a valid child_id"
                    if child_id_system else "the Patient id is not a valid child_id (1 to 64 "
                    "letters, digits, '_' or '-')")
            skip(res, "identifier" if child_id_system else "id",
                 None if child_id_system else p.id, rule)
            continue
        child_of[p.id] = child
        name = None
        if p.name:
            first = p.name[0]
            name = first.text or " ".join([*(first.given or []), first.family or ""]).strip()
        diagnoses = [e.valueString for e in _ext(p, EXT["diagnosis"]) if e.valueString]
        children.add({
            C.CHILD_ID: child,
            C.DATE_OF_BIRTH: _date_text(p.birthDate),
            C.SEX: GENDER_TO_SEX.get(p.gender) if p.gender else None,
            C.DIAGNOSES: ";".join(diagnoses) if diagnoses else None,
            C.SITE: p.managingOrganization.display if p.managingOrganization else None,
            C.THERAPIST: (p.generalPractitioner[0].display if p.generalPractitioner
                          else None),
            C.REFERRAL_DATE: _date_text(_ext_value(p, EXT["referral_date"], "valueDate")),
            C.DISCHARGE_DATE: _date_text(_ext_value(p, EXT["discharge_date"], "valueDate")),
            C.DISPLAY_NAME: name or None,
        }, res, "Patient")
        taken(res)

    def subject_child(res, reference) -> str | None:
        pid = _reference_id(reference, "Patient")
        if pid is None:
            skip(res, "subject", getattr(reference, "reference", None),
                 "the subject must reference a Patient (Patient/ID)")
            return None
        if pid not in child_of:
            skip(res, "subject", reference.reference, "the subject is not a Patient imported "
                 "from this input")
            return None
        return child_of[pid]

    # QuestionnaireResponses -> assessments
    instruments = instruments_by_url(search_dirs)
    known_urls = ", ".join(sorted(instruments))
    assessments = _Rows()
    used: dict[str, Instrument] = {}
    item_columns: list[str] = []
    for res in by_type.get("QuestionnaireResponse", []):
        qr = res.model
        if qr.status not in SCORED_STATUSES:
            skip(res, "status", qr.status, f"only completed and amended responses are scored "
                 f"(this one is {qr.status})")
            continue
        url = (qr.questionnaire or "").split("|")[0]
        inst = instruments.get(url)
        if inst is None:
            skip(res, "questionnaire", qr.questionnaire, "response for an unknown "
                 f"Questionnaire: no instrument definition names this canonical URL "
                 f"(known: {known_urls})")
            continue
        if not is_valid_id(dataset_id(qr.id)):
            skip(res, "id", qr.id, "the QuestionnaireResponse id is not a valid assessment_id "
                 "(1 to 64 letters, digits, '_' or '-')")
            continue
        child = subject_child(res, qr.subject)
        if child is None:
            continue
        link_to_item = {item.fhir_link_id: item.id for item in inst.items}
        values: dict[str, list] = {}
        for link, where, answers in _answers(qr.item):
            if link not in link_to_item:
                skip(res, f"{where}.linkId", link, f"linkId {link!r} is not an item of "
                     f"{inst.id}: its answer is not imported", VALUE_IGNORED,
                     table="assessments")
                continue
            item = link_to_item[link]
            if len(answers) > 1:
                skip(res, f"{where}.answer", f"{len(answers)} answers", "an item of "
                     f"{inst.id} takes one answer", VALUE_READ_AS_BLANK, table="assessments")
                values.setdefault(item, []).append(None)
                continue
            text, problem = _answer_value(answers[0], inst)
            if problem:
                skip(res, f"{where}.answer", "", problem, VALUE_READ_AS_BLANK,
                     table="assessments")
            values.setdefault(item, []).append(text)
        row = {C.ASSESSMENT_ID: dataset_id(qr.id), C.CHILD_ID: child, C.INSTRUMENT: inst.id,
               C.DATE: _date_text(qr.authored),
               C.RESPONDENT: _ext_value(qr, EXT["respondent"], "valueCode")}
        for item, texts in values.items():
            distinct = set(texts)
            if len(distinct) > 1:
                skip(res, link_to_item_inverse(inst, item), ", ".join(
                    sorted(str(t) for t in distinct)), "linkId repeated with different "
                    "answers: the item is read as blank", VALUE_READ_AS_BLANK,
                    table="assessments")
                continue
            row[item] = texts[0]
        used[inst.id] = inst
        for item in inst.item_ids:
            if item not in item_columns:
                item_columns.append(item)
        assessments.add(row, res, f"QuestionnaireResponse:{inst.id}")
        taken(res)

    # Goals
    goals = _Rows()
    for res in by_type.get("Goal", []):
        g = res.model
        if g.lifecycleStatus == "entered-in-error":
            skip(res, "lifecycleStatus", g.lifecycleStatus, "a goal entered in error is not "
                 "imported")
            continue
        if not is_valid_id(dataset_id(g.id)):
            skip(res, "id", g.id, "the Goal id is not a valid goal_id")
            continue
        child = subject_child(res, g.subject)
        if child is None:
            continue
        texts = {}
        for e in _ext(g, EXT["level_text"]):
            parts = {x.url: x for x in (e.extension or [])}
            if "level" in parts and "text" in parts:
                texts[parts["level"].valueInteger] = parts["text"].valueString
        row = {
            C.GOAL_ID: dataset_id(g.id), C.CHILD_ID: child, C.SET_DATE: _date_text(g.startDate),
            C.DOMAIN: g.category[0].text if g.category else None,
            C.DESCRIPTION: g.description.text if g.description else None,
            C.IMPORTANCE: _ext_value(g, EXT["importance"], "valueInteger"),
            C.DIFFICULTY: _ext_value(g, EXT["difficulty"], "valueInteger"),
            C.BASELINE_LEVEL: _ext_value(g, EXT["baseline"], "valueInteger"),
            C.TARGET_DATE: _date_text(g.target[0].dueDate) if g.target else None,
        }
        for level, column in zip((-2, -1, 0, 1, 2), C.LEVEL_TEXT_COLUMNS, strict=True):
            row[column] = texts.get(level)
        goals.add(row, res, "Goal")
        taken(res)

    # Observations: GAS ratings; score observations are recognised, not imported
    ratings = _Rows()
    for res in by_type.get("Observation", []):
        o = res.model
        codings = [(c.system, c.code) for c in (o.code.coding or [])] if o.code else []
        if any(system == SCORE_SYSTEM for system, _ in codings):
            counts.read["Observation"] -= 1
            counts.read[SCORES_TABLE] += 1
            counts.taken[SCORES_TABLE] += 1
            continue
        if (OBSERVATION_SYSTEM, GAS_LEVEL_CODE) not in codings:
            skip(res, "code", ", ".join(f"{s}|{c}" for s, c in codings) or None,
                 f"not a goal rating ({OBSERVATION_SYSTEM}|{GAS_LEVEL_CODE}) nor a score: "
                 "this Observation is not imported")
            continue
        if o.status not in RATING_STATUSES:
            skip(res, "status", o.status, f"only final, amended and corrected ratings are "
                 f"imported (this one is {o.status})")
            continue
        goal = next((_reference_id(f, "Goal") for f in (o.focus or [])
                     if _reference_id(f, "Goal")), None)
        if goal is None:
            skip(res, "focus", None, "a goal rating names its Goal in focus (Goal/ID)")
            continue
        ratings.add({
            C.GOAL_ID: dataset_id(goal), C.DATE: _date_text(o.effectiveDateTime),
            C.LEVEL: o.valueInteger,
            C.RATER: o.performer[0].display if o.performer else None,
            C.NOTE: o.note[0].text if o.note else None,
            C.FAMILY_NOTE: _ext_value(o, EXT["family_note"], "valueString"),
        }, res, "Observation")
        taken(res)

    for table in RESOURCE_TABLES + (SCORES_TABLE,):
        if counts.read[table]:
            report.count(table, read=counts.read[table], accepted=counts.taken[table],
                         rejected=counts.read[table] - counts.taken[table])
    tables, origins = {}, {}
    tables["children"], origins["children"] = children.frames("children")
    tables["assessments"], origins["assessments"] = assessments.frames("assessments",
                                                                       item_columns)
    tables["goals"], origins["goals"] = goals.frames("goals")
    tables["goal_ratings"], origins["goal_ratings"] = ratings.frames("goal_ratings")
    for table in ("goals", "goal_ratings"):
        for column in (C.IMPORTANCE, C.DIFFICULTY, C.BASELINE_LEVEL, C.LEVEL):
            if column in tables[table].columns:
                tables[table][column] = tables[table][column].map(
                    lambda v: None if v is None or (isinstance(v, float) and math.isnan(v))
                    else str(int(v)))
    fields = {
        "Patient": {C.CHILD_ID: "id", C.DATE_OF_BIRTH: "birthDate", C.SEX: "gender",
                    C.DIAGNOSES: "extension(diagnosis)", C.SITE: "managingOrganization",
                    C.THERAPIST: "generalPractitioner",
                    C.REFERRAL_DATE: "extension(referral-date)",
                    C.DISCHARGE_DATE: "extension(discharge-date)", C.DISPLAY_NAME: "name"},
        "Goal": {C.GOAL_ID: "id", C.CHILD_ID: "subject", C.SET_DATE: "startDate",
                 C.DOMAIN: "category", C.DESCRIPTION: "description",
                 C.IMPORTANCE: "extension(gas-importance)",
                 C.DIFFICULTY: "extension(gas-difficulty)",
                 C.BASELINE_LEVEL: "extension(gas-baseline-level)",
                 C.TARGET_DATE: "target.dueDate"},
        "Observation": {C.GOAL_ID: "focus", C.DATE: "effectiveDateTime",
                        C.LEVEL: "valueInteger", C.RATER: "performer", C.NOTE: "note",
                        C.FAMILY_NOTE: "extension(family-note)"},
    }
    for inst in used.values():
        fields[f"QuestionnaireResponse:{inst.id}"] = {
            C.ASSESSMENT_ID: "id", C.CHILD_ID: "subject", C.DATE: "authored",
            C.RESPONDENT: "extension(respondent)", C.INSTRUMENT: "questionnaire",
            **{item.id: f"linkId {item.fhir_link_id}" for item in inst.items}}
    return ImportedTables(tables=tables, origins=origins, fields=fields,
                          instruments=list(used.values()), report=report,
                          identifying=frozenset(identifying) | {"name", "birthDate"})


def link_to_item_inverse(inst: Instrument, item_id: str) -> str:
    for item in inst.items:
        if item.id == item_id:
            return f"linkId {item.fhir_link_id}"
    return item_id


# ---------------------------------------------------------------------------
# the export
# ---------------------------------------------------------------------------
def _clean(obj):
    """Drop None, empty lists and empty mappings (FHIR has no empty elements)."""
    if isinstance(obj, dict):
        out = {k: _clean(v) for k, v in obj.items()}
        return {k: v for k, v in out.items() if v not in (None, [], {})}
    if isinstance(obj, list):
        return [x for x in (_clean(v) for v in obj) if x not in (None, [], {})]
    return obj


def _present(value) -> bool:
    """A cell that holds a value (not None, NaN, NaT, NA or empty text)."""
    if value is None or (isinstance(value, str) and value == ""):
        return False
    try:
        return not bool(pd.isna(value))
    except (TypeError, ValueError):
        return True


def _iso(value) -> str | None:
    if not _present(value):
        return None
    return pd.Timestamp(value).date().isoformat()


def _ref(rtype: str, value) -> dict:
    return {"reference": f"{rtype}/{fhir_id(value)}"}


def _entry(resource: dict) -> dict:
    return {"fullUrl": f"{BASE}/{resource['resourceType']}/{resource['id']}",
            "resource": _clean(resource)}


def patient_resource(row) -> dict:
    diagnoses = [d for d in str(row.get(C.DIAGNOSES) or "").split(";") if d] if _present(
        row.get(C.DIAGNOSES)) else []
    name = row.get(C.DISPLAY_NAME)
    return {
        "resourceType": "Patient", "id": fhir_id(row[C.CHILD_ID]),
        "extension": [
            {"url": EXT["referral_date"], "valueDate": _iso(row.get(C.REFERRAL_DATE))}
            if _present(row.get(C.REFERRAL_DATE)) else None,
            {"url": EXT["discharge_date"], "valueDate": _iso(row.get(C.DISCHARGE_DATE))}
            if _present(row.get(C.DISCHARGE_DATE)) else None,
            *({"url": EXT["diagnosis"], "valueString": d} for d in diagnoses),
        ],
        "name": [{"text": name}] if _present(name) else None,
        "gender": SEX_TO_GENDER.get(row.get(C.SEX)) if _present(row.get(C.SEX)) else None,
        "birthDate": _iso(row.get(C.DATE_OF_BIRTH)),
        "generalPractitioner": [{"display": row[C.THERAPIST]}]
        if _present(row.get(C.THERAPIST)) else None,
        "managingOrganization": {"display": row[C.SITE]} if _present(row.get(C.SITE)) else None,
    }


def _answer(inst: Instrument, value: float) -> dict:
    label = {v: lab for lab, v in inst.response_scale.values.items()}.get(value)
    return {"valueCoding": {"code": _number_text(value), "display": label}}


def response_resource(row, inst: Instrument, codes: np.ndarray, raw_cells) -> dict:
    """One administration as a QuestionnaireResponse (items grouped by section)."""
    from sensoryprofile.measures.responses import BLANK, FIRST_VALUE, OFF, codec_for

    allowed = codec_for(inst).allowed
    by_section: dict[str | None, list] = {}
    for j, item in enumerate(inst.items):
        code = int(codes[j])
        if code == BLANK:
            continue
        answer = ({"valueString": str(raw_cells[j])} if code == OFF
                  else _answer(inst, float(allowed[code - FIRST_VALUE])))
        by_section.setdefault(item.section, []).append(
            {"linkId": item.fhir_link_id, "answer": [answer]})
    names = {s.id: s.name for s in inst.sections}
    items = [{"linkId": f"section-{section}", "text": names.get(section), "item": entries}
             if section else entries for section, entries in by_section.items()]
    flat = []
    for entry in items:
        flat.extend(entry if isinstance(entry, list) else [entry])
    respondent = row.get(C.RESPONDENT)
    return {
        "resourceType": "QuestionnaireResponse", "id": fhir_id(row[C.ASSESSMENT_ID]),
        "extension": [{"url": EXT["respondent"], "valueCode": respondent}]
        if _present(respondent) else None,
        "questionnaire": f"{inst.questionnaire_url}|{inst.version}",
        "status": "completed",
        "subject": _ref("Patient", row[C.CHILD_ID]),
        "authored": _iso(row.get(C.DATE)),
        "item": flat,
    }


def score_resource(score, inst: Instrument, observation_id: str) -> dict:
    """One score as an Observation: raw score, classification, z, percentile, band."""
    valid = bool(score[C.VALID])
    components = []
    if _present(score[C.Z]):
        components.append({"code": {"coding": [{"system": SCORE_PART_SYSTEM, "code": "z"}]},
                           "valueQuantity": {"value": round(float(score[C.Z]), 6)}})
    if _present(score[C.PERCENTILE]):
        components.append({"code": {"coding": [{"system": SCORE_PART_SYSTEM,
                                                "code": "percentile"}]},
                           "valueQuantity": {"value": round(float(score[C.PERCENTILE]), 6),
                                             "unit": "%"}})
    if _present(score[C.NORM_BAND]):
        components.append({"code": {"coding": [{"system": SCORE_PART_SYSTEM,
                                                "code": "norm-band"}]},
                           "valueString": str(score[C.NORM_BAND])})
    interpretation = None
    if _present(score[C.LEVEL]) and _present(score[C.CLASSIFICATION]):
        key = LEVEL_KEYS[int(score[C.LEVEL]) + 2]
        interpretation = [{"coding": [{"system": CLASSIFICATION_SYSTEM, "code": key,
                                       "display": str(score[C.CLASSIFICATION])}],
                           "text": str(score[C.CLASSIFICATION])}]
    elif _present(score[C.UNCLASSIFIED_REASON]):
        interpretation = [{"text": f"not classified: {score[C.UNCLASSIFIED_REASON]}"}]
    return {
        "resourceType": "Observation", "id": observation_id, "status": "final",
        "category": [{"coding": [{"system": CATEGORY_SYSTEM, "code": "survey"}]}],
        "code": {"coding": [{"system": SCORE_SYSTEM, "code": f"{inst.id}/{score[C.SCORE]}",
                             "display": str(score[C.SCORE_NAME])}],
                 "text": f"{inst.name}: {score[C.SCORE_NAME]}"},
        "subject": _ref("Patient", score[C.CHILD_ID]),
        "effectiveDateTime": _iso(score[C.DATE]),
        "derivedFrom": [_ref("QuestionnaireResponse", score[C.ASSESSMENT_ID])],
        "valueQuantity": {"value": float(score[C.RAW]), "unit": "raw score"} if valid else None,
        "dataAbsentReason": None if valid else {"text": str(score[C.INVALID_REASON])},
        "interpretation": interpretation,
        "component": components,
    }


def goal_resource(row) -> dict:
    levels = []
    for level, column in zip((-2, -1, 0, 1, 2), C.LEVEL_TEXT_COLUMNS, strict=True):
        if _present(row.get(column)):
            levels.append({"url": EXT["level_text"], "extension": [
                {"url": "level", "valueInteger": level},
                {"url": "text", "valueString": str(row[column])}]})
    ints = [(EXT[k], row.get(c)) for k, c in (("importance", C.IMPORTANCE),
                                               ("difficulty", C.DIFFICULTY),
                                               ("baseline", C.BASELINE_LEVEL))]
    description = row.get(C.DESCRIPTION)
    return {
        "resourceType": "Goal", "id": fhir_id(row[C.GOAL_ID]),
        "extension": [{"url": url, "valueInteger": int(v)} for url, v in ints if _present(v)]
        + levels,
        "lifecycleStatus": "active",
        "category": [{"text": row[C.DOMAIN]}] if _present(row.get(C.DOMAIN)) else None,
        "description": {"text": description} if _present(description) else {
            "extension": [{"url": DATA_ABSENT, "valueCode": "unknown"}]},
        "subject": _ref("Patient", row[C.CHILD_ID]),
        "startDate": _iso(row.get(C.SET_DATE)),
        "target": [{"dueDate": _iso(row.get(C.TARGET_DATE))}]
        if _present(row.get(C.TARGET_DATE)) else None,
    }


def rating_resource(row, child_id: str, observation_id: str) -> dict:
    return {
        "resourceType": "Observation", "id": observation_id, "status": "final",
        "category": [{"coding": [{"system": CATEGORY_SYSTEM, "code": "survey"}]}],
        "code": {"coding": [{"system": OBSERVATION_SYSTEM, "code": GAS_LEVEL_CODE,
                             "display": "Goal attainment scaling level"}]},
        "subject": _ref("Patient", child_id),
        "focus": [_ref("Goal", row[C.GOAL_ID])],
        "effectiveDateTime": _iso(row[C.DATE]),
        "performer": [{"display": row[C.RATER]}] if _present(row.get(C.RATER)) else None,
        "valueInteger": int(row[C.LEVEL]),
        "note": [{"text": row[C.NOTE]}] if _present(row.get(C.NOTE)) else None,
        # the therapist's words for the family (the family report), kept apart
        # from the clinical note
        "extension": [{"url": EXT["family_note"], "valueString": row[C.FAMILY_NOTE]}]
        if _present(row.get(C.FAMILY_NOTE)) else None,
    }


def observation_id(*parts: str) -> str:
    """A deterministic Observation id (FHIR ids: 1-64 of [A-Za-z0-9.-])."""
    text = fhir_id("-".join(parts))
    if len(text) <= 64:
        return text
    import hashlib

    return f"{text[:40]}-{hashlib.sha256(text.encode()).hexdigest()[:16]}"


def export_bundle(dataset, *, scores: bool = True) -> dict:
    """The dataset's accepted rows as a FHIR R4 ``collection`` Bundle (plain data).

    ``dataset`` is a loaded :class:`~sensoryprofile.data.dataset.Dataset`, or
    anything with its ``children``, ``assessments``, ``goals``,
    ``goal_ratings``, ``scores`` tables and ``instruments`` by id.

    Patients (identifying: birth dates and names go to the clinic's own
    record), each scored administration as a QuestionnaireResponse, each score
    as an Observation (``scores``), Goals and rating Observations. The Bundle
    is validated with ``fhir.resources`` before it is returned.
    """
    from sensoryprofile.measures.responses import encode_item_columns

    entries = [_entry(patient_resource(row)) for row in dataset.children.to_dict("records")]
    assessments = dataset.assessments
    for inst_id, inst in dataset.instruments.items():
        rows = assessments[assessments[C.INSTRUMENT] == inst_id]
        if rows.empty:
            continue
        codes, _ = encode_item_columns(rows, inst)
        cells = rows.reindex(columns=list(inst.item_ids)).to_numpy(dtype=object)
        for k, row in enumerate(rows.to_dict("records")):
            entries.append(_entry(response_resource(row, inst, codes[k], cells[k])))
    if scores:
        for row in dataset.scores.to_dict("records"):
            inst = dataset.instruments.get(row[C.INSTRUMENT])
            if inst is None:
                continue
            oid = observation_id(str(row[C.ASSESSMENT_ID]), str(row[C.SCORE]))
            entries.append(_entry(score_resource(row, inst, oid)))
    child_of_goal = dict(zip(dataset.goals[C.GOAL_ID], dataset.goals[C.CHILD_ID], strict=True))
    entries.extend(_entry(goal_resource(row)) for row in dataset.goals.to_dict("records"))
    for row in dataset.goal_ratings.to_dict("records"):
        oid = observation_id(str(row[C.GOAL_ID]), _iso(row[C.DATE]) or "undated")
        entries.append(_entry(rating_resource(row, child_of_goal[row[C.GOAL_ID]], oid)))
    bundle = {"resourceType": "Bundle", "type": "collection", "entry": entries}
    validate_bundle(bundle)
    return bundle


def validate_bundle(bundle: dict):
    """Check a Bundle with fhir.resources; :class:`DatasetError` names the first problem."""
    from pydantic import ValidationError

    try:
        return _models()("Bundle").model_validate(bundle)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ()))
        raise DatasetError(f"the FHIR Bundle does not validate: {where}: "
                           f"{first.get('msg')}") from None


def bundle_json(bundle: dict) -> str:
    """The Bundle as JSON text: one entry per line (compact, and a diff shows
    which resources changed)."""
    head = {k: v for k, v in bundle.items() if k != "entry"}
    text = json.dumps(head, ensure_ascii=False, separators=(",", ":"))[:-1]
    entries = ",\n".join(json.dumps(e, ensure_ascii=False, separators=(",", ":"))
                         for e in bundle.get("entry", []))
    return f'{text},"entry":[\n{entries}\n]}}\n'


def write_bundle(bundle: dict, path: str | Path) -> Path:
    """Write a Bundle (:func:`bundle_json`) atomically."""
    from sensoryprofile.data.tables import write_text_atomic

    return write_text_atomic(bundle_json(bundle), path)


__all__ = ["BASE", "EXT", "HIDDEN", "bundle_json", "export_bundle", "import_fhir",
           "instruments_by_url", "read_resources", "validate_bundle", "write_bundle"]
