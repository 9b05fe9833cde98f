"""A REDCap project's data dictionary and an import mapping checked against it.

The data dictionary is the standard 18-column CSV that REDCap exports
("Variable / Field Name", "Form Name", ..., "Field Annotation"), or the same
columns as the API names them (``field_name``, ``form_name``, ...). Choices
("Choices, Calculations, OR Slider Labels") are read as ``code, label``
pairs separated by ``|``: a labelled export maps back to codes through them.

The mapping (YAML, format 1) says which REDCap fields are the child, which
form is which instrument, and which fields are goals and ratings. Its format
is in docs/redcap-import.md; :func:`draft_mapping` writes a first one from a
dictionary.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import yaml

from sensoryprofile import columns as C
from sensoryprofile.errors import DatasetError, InstrumentError
from sensoryprofile.instruments import Instrument, load_instrument

#: The 18 columns of a REDCap data dictionary, as the web export names them,
#: and the API's names for the same columns (same order).
DICTIONARY_COLUMNS = (
    "Variable / Field Name", "Form Name", "Section Header", "Field Type", "Field Label",
    "Choices, Calculations, OR Slider Labels", "Field Note",
    "Text Validation Type OR Show Slider Number", "Text Validation Min", "Text Validation Max",
    "Identifier?", "Branching Logic (Show field only if...)", "Required Field?",
    "Custom Alignment", "Question Number (surveys only)", "Matrix Group Name",
    "Matrix Ranking?", "Field Annotation",
)
API_COLUMNS = (
    "field_name", "form_name", "section_header", "field_type", "field_label",
    "select_choices_or_calculations", "field_note", "text_validation_type_or_show_slider_number",
    "text_validation_min", "text_validation_max", "identifier", "branching_logic",
    "required_field", "custom_alignment", "question_number", "matrix_group_name",
    "matrix_ranking", "field_annotation",
)
CHOICE_TYPES = frozenset({"radio", "dropdown", "checkbox", "yesno", "truefalse"})
#: Field types that hold no data in an export.
NO_DATA_TYPES = frozenset({"descriptive"})
IMPLICIT_CHOICES = {"yesno": {"1": "Yes", "0": "No"}, "truefalse": {"1": "True", "0": "False"}}
DATE_VALIDATIONS = ("date_", "datetime_")

# REDCap's own columns in a records export.
EVENT = "redcap_event_name"
REPEAT_INSTRUMENT = "redcap_repeat_instrument"
REPEAT_INSTANCE = "redcap_repeat_instance"
#: Columns REDCap adds that carry no clinical data; read, never imported.
REDCAP_META = frozenset({EVENT, REPEAT_INSTRUMENT, REPEAT_INSTANCE, "redcap_data_access_group",
                         "redcap_survey_identifier"})
#: A form's status column, ``<form>_complete``: 0 Incomplete, 1 Unverified, 2 Complete.
STATUS_SUFFIX = "_complete"
STATUS_LABELS = {"Incomplete": 0, "Unverified": 1, "Complete": 2}
STATUS_NAMES = {0: "Incomplete", 1: "Unverified", 2: "Complete"}

MAPPING_FORMAT = 1
#: Dataset columns written from a choice field's code (all others from its label).
CODE_COLUMNS = frozenset({C.SEX, C.IMPORTANCE, C.DIFFICULTY, C.BASELINE_LEVEL, C.LEVEL})
TABLE_FIELDS = {
    "children": [c for c in C.CHILDREN_COLUMNS if c != C.CHILD_ID],
    "goals": [c for c in C.GOALS_COLUMNS if c not in (C.GOAL_ID, C.CHILD_ID)],
    "goal_ratings": [c for c in C.GOAL_RATINGS_COLUMNS if c != C.GOAL_ID],
}
REQUIRED_FIELDS = {
    "children": [C.REFERRAL_DATE],
    "goals": [C.SET_DATE, C.DOMAIN, C.BASELINE_LEVEL],
    "goal_ratings": [C.DATE, C.LEVEL],
}
_FIELD_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


# ---------------------------------------------------------------------------
# the data dictionary
# ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Field:
    """One field of the data dictionary."""

    name: str
    form: str
    type: str
    label: str
    choices: dict[str, str] = field(default_factory=dict)  # code -> label, in order
    validation: str = ""
    identifier: bool = False

    @property
    def is_date(self) -> bool:
        return self.type == "text" and self.validation.startswith(DATE_VALIDATIONS)

    def checkbox_column(self, code: str) -> str:
        """The export column of one checkbox choice: ``field___code``."""
        return f"{self.name}___{re.sub(r'[^a-z0-9_]', '_', code.lower())}"

    @property
    def export_columns(self) -> list[str]:
        if self.type == "checkbox":
            return [self.checkbox_column(c) for c in self.choices]
        if self.type in NO_DATA_TYPES:
            return []
        return [self.name]

    def choice_text(self) -> str:
        return ", ".join(f"{c} = {lab}" for c, lab in self.choices.items())


def parse_choices(text) -> dict[str, str]:
    """``"1, Almost never | 2, Occasionally"`` -> ``{"1": "Almost never", "2": ...}``."""
    if not isinstance(text, str) or not text.strip():
        return {}
    out: dict[str, str] = {}
    for part in text.split("|"):
        code, sep, label = part.partition(",")
        if not sep:
            continue
        out[code.strip()] = label.strip()
    return out


@dataclass
class DataDictionary:
    """The fields of a REDCap project, in dictionary order."""

    fields: dict[str, Field]
    source: str = "dictionary.csv"

    @property
    def record_id(self) -> str:
        """The record ID field: the first field of the dictionary."""
        return next(iter(self.fields))

    @property
    def forms(self) -> list[str]:
        return list(dict.fromkeys(f.form for f in self.fields.values()))

    def form_fields(self, form: str) -> list[Field]:
        return [f for f in self.fields.values() if f.form == form]

    def form_label(self, form: str) -> str:
        """A form's label as a labelled export shows it ("goal_review" -> "Goal Review")."""
        return form.replace("_", " ").title()

    @property
    def identifying(self) -> frozenset:
        return frozenset(f.name for f in self.fields.values() if f.identifier)


def read_dictionary(path: str | Path) -> DataDictionary:
    """Read a REDCap data dictionary CSV (web or API column names).

    Raises
    ------
    DatasetError
        The file is missing or unreadable, lacks the dictionary's columns, or
        has a blank or repeated field name.
    """
    path = Path(path)
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except FileNotFoundError:
        raise DatasetError(f"{path}: no such data dictionary") from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise DatasetError(f"{path.name}: cannot be read as a REDCap data dictionary "
                           f"(UTF-8 CSV): {exc}") from None
    return dictionary_from_frame(frame, path.name)


def dictionary_from_frame(frame: pd.DataFrame, source: str = "dictionary.csv") -> DataDictionary:
    """A data dictionary from its table (text cells; web or API column names)."""
    frame = frame.fillna("")
    header = [str(c).strip() for c in frame.columns]
    if tuple(header[:18]) == API_COLUMNS or set(API_COLUMNS[:6]) <= set(header):
        names = dict(zip(API_COLUMNS, API_COLUMNS, strict=True))
    elif set(DICTIONARY_COLUMNS[:6]) <= set(header):
        names = dict(zip(API_COLUMNS, DICTIONARY_COLUMNS, strict=True))
    else:
        raise DatasetError(f"{source}: not a REDCap data dictionary: it needs the columns "
                           f"{', '.join(repr(c) for c in DICTIONARY_COLUMNS[:6])} (the 18-column "
                           "dictionary REDCap exports)")
    frame.columns = header
    fields: dict[str, Field] = {}
    problems = []
    for k, row in enumerate(frame.to_dict("records"), start=2):
        name = str(row.get(names["field_name"], "")).strip()
        form = str(row.get(names["form_name"], "")).strip()
        if not name or not form:
            problems.append(f"row {k}: a field needs a variable name and a form name")
            continue
        if name in fields:
            problems.append(f"row {k}: field {name!r} is defined twice")
            continue
        ftype = str(row.get(names["field_type"], "")).strip().lower()
        choices = (IMPLICIT_CHOICES.get(ftype) or
                   (parse_choices(row.get(names["select_choices_or_calculations"]))
                    if ftype in CHOICE_TYPES else {}))
        fields[name] = Field(
            name=name, form=form, type=ftype, label=str(row.get(names["field_label"], "")),
            choices=dict(choices),
            validation=str(row.get(names["text_validation_type_or_show_slider_number"], "")
                           ).strip().lower(),
            identifier=str(row.get(names["identifier"], "")).strip().lower() in ("y", "yes"),
        )
    if problems:
        raise DatasetError(f"{source}: " + "; ".join(problems))
    if not fields:
        raise DatasetError(f"{source}: the data dictionary has no fields")
    return DataDictionary(fields=fields, source=source)


# ---------------------------------------------------------------------------
# the mapping
# ---------------------------------------------------------------------------
@dataclass(frozen=True)
class ColumnSpec:
    """One dataset column read from one REDCap field; ``values`` recodes
    choice codes (code -> value written) when given."""

    column: str
    field: str
    values: dict[str, str] | None = None


@dataclass(frozen=True)
class AssessmentForm:
    form: str
    instrument: Instrument
    date: str
    respondent: ColumnSpec | None
    items: dict[str, str]  # instrument item id -> REDCap field
    values: dict[str, str] | None = None  # choice code -> response written, for every item


@dataclass
class Mapping:
    """A checked import mapping."""

    record_id: str
    child_prefix: str
    child_pad: int
    events: dict[str, str | None] | None  # unique event name -> label; None: classic project
    children_form: str
    children: list[ColumnSpec]
    assessments: list[AssessmentForm]
    goals_form: str | None = None
    goals: list[ColumnSpec] = field(default_factory=list)
    ratings_form: str | None = None
    rating_goal: str | None = None
    ratings: list[ColumnSpec] = field(default_factory=list)
    source: str = "mapping.yaml"

    @property
    def forms(self) -> list[str]:
        forms = [self.children_form, *(a.form for a in self.assessments)]
        forms += [f for f in (self.goals_form, self.ratings_form) if f]
        return forms

    def child_id(self, record: str) -> str:
        """The child_id of a record: prefix + record id, zero-padded to ``pad``."""
        text = record.zfill(self.child_pad) if record.isdigit() else record
        return f"{self.child_prefix}{text}"

    def used_fields(self) -> set[str]:
        used = {self.record_id}
        for spec in [*self.children, *self.goals, *self.ratings]:
            used.add(spec.field)
        for a in self.assessments:
            used.update(a.items.values())
            used.add(a.date)
            if a.respondent:
                used.add(a.respondent.field)
        if self.rating_goal:
            used.add(self.rating_goal)
        return used


def _spec(column: str, value, where: str, problems: list[str]) -> ColumnSpec | None:
    if isinstance(value, str):
        return ColumnSpec(column, value)
    if isinstance(value, dict) and isinstance(value.get("field"), str):
        values = value.get("values")
        if values is not None and not isinstance(values, dict):
            problems.append(f"{where}.values: must map choice codes to values")
            values = None
        extra = set(value) - {"field", "values"}
        if extra:
            problems.append(f"{where}: unknown key(s) {', '.join(sorted(extra))} "
                            "(known: field, values)")
        return ColumnSpec(column, value["field"], None if values is None else
                          {str(k): str(v) for k, v in values.items()})
    problems.append(f"{where}: give a field name, or {{field: NAME, values: {{CODE: VALUE}}}}")
    return None


def _table_specs(data, table: str, where: str, problems: list[str]) -> list[ColumnSpec]:
    fields = data.get("fields") if isinstance(data, dict) else None
    if not isinstance(fields, dict):
        problems.append(f"{where}.fields: a mapping of dataset column -> REDCap field")
        return []
    specs = []
    for column, value in fields.items():
        if column not in TABLE_FIELDS[table]:
            problems.append(f"{where}.fields.{column}: not a column of {table}; known: "
                            + ", ".join(TABLE_FIELDS[table]))
            continue
        spec = _spec(column, value, f"{where}.fields.{column}", problems)
        if spec:
            specs.append(spec)
    for column in REQUIRED_FIELDS[table]:
        if column not in fields:
            problems.append(f"{where}.fields: {column} is required")
    return specs


def load_mapping(path: str | Path, dictionary: DataDictionary, *,
                 search_dirs: tuple = ()) -> Mapping:
    """Read a mapping file and check it against the data dictionary.

    Raises
    ------
    DatasetError
        Listing every problem: unknown forms or fields, a field that is not
        in the form named, an unknown instrument or item, a missing key.
    """
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8-sig"))
    except FileNotFoundError:
        raise DatasetError(f"{path}: no such mapping file") from None
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise DatasetError(f"{path.name}: cannot be read as YAML ({exc})") from None
    if not isinstance(data, dict):
        raise DatasetError(f"{path.name}: a mapping file holds a mapping of keys "
                           "(format, record_id, children, assessments, ...)")
    return mapping_from_dict(data, dictionary, source=path.name, search_dirs=search_dirs)


def mapping_from_dict(data: dict, dictionary: DataDictionary, *, source: str = "mapping",
                      search_dirs: tuple = ()) -> Mapping:
    """Check plain mapping data (see :func:`load_mapping`)."""
    problems: list[str] = []
    known = {"format", "record_id", "child_id", "events", "children", "assessments", "goals",
             "goal_ratings"}
    for key in data:
        if key not in known:
            problems.append(f"{key}: unknown key (known: {', '.join(sorted(known))})")
    if data.get("format") != MAPPING_FORMAT:
        problems.append(f"format: must be {MAPPING_FORMAT}, got {data.get('format')!r}")
    record_id = data.get("record_id", dictionary.record_id)
    child = data.get("child_id") or {}
    if not isinstance(child, dict):
        problems.append("child_id: a mapping {prefix: TEXT, pad: DIGITS}")
        child = {}
    prefix, pad = str(child.get("prefix", "")), child.get("pad", 0)
    if not isinstance(pad, int) or isinstance(pad, bool) or not 0 <= pad <= 32:
        problems.append(f"child_id.pad: a whole number of digits 0-32, got {pad!r}")
        pad = 0
    events = data.get("events")
    if events is not None:
        if isinstance(events, list):
            events = dict.fromkeys(map(str, events))
        if not isinstance(events, dict) or not events:
            problems.append("events: the project's unique event names (each optionally with "
                            "its label as a labelled export shows it)")
            events = None
        else:
            events = {str(k): (None if v is None else str(v)) for k, v in events.items()}

    def form_of(where: str, value) -> str | None:
        if not isinstance(value, str) or value not in dictionary.forms:
            problems.append(f"{where}: {value!r} is not a form of {dictionary.source} (forms: "
                            f"{', '.join(dictionary.forms)})")
            return None
        return value

    def check_fields(form: str | None, specs: list[ColumnSpec], where: str) -> None:
        for spec in specs:
            fld = dictionary.fields.get(spec.field)
            if fld is None:
                problems.append(f"{where}.{spec.column}: {spec.field!r} is not a field of "
                                f"{dictionary.source}")
            elif form is not None and fld.form != form:
                problems.append(f"{where}.{spec.column}: field {spec.field!r} is in form "
                                f"{fld.form!r}, not in {form!r}")
            elif spec.values is not None and fld.choices:
                unknown = [c for c in spec.values if c not in fld.choices]
                if unknown:
                    problems.append(f"{where}.{spec.column}.values: {', '.join(unknown)} not "
                                    f"among the choices of {spec.field} ({fld.choice_text()})")

    if record_id not in dictionary.fields:
        problems.append(f"record_id: {record_id!r} is not a field of {dictionary.source}")
    children = data.get("children")
    if not isinstance(children, dict):
        problems.append("children: required: {form: FORM, fields: {date_of_birth: FIELD, ...}}")
        children = {}
    children_form = form_of("children.form", children.get("form"))
    child_specs = _table_specs(children, "children", "children", problems)
    check_fields(children_form, child_specs, "children.fields")

    assessments: list[AssessmentForm] = []
    entries = data.get("assessments") or []
    if not isinstance(entries, list):
        problems.append("assessments: a list of {form, instrument, date, items}")
        entries = []
    for k, entry in enumerate(entries):
        where = f"assessments[{k}]"
        if not isinstance(entry, dict):
            problems.append(f"{where}: {{form, instrument, date, respondent, items}}")
            continue
        extra = set(entry) - {"form", "instrument", "date", "respondent", "items", "values"}
        if extra:
            problems.append(f"{where}: unknown key(s) {', '.join(sorted(extra))}")
        form = form_of(f"{where}.form", entry.get("form"))
        try:
            inst = load_instrument(str(entry.get("instrument")), search_dirs=search_dirs)
        except InstrumentError as exc:
            problems.append(f"{where}.instrument: {str(exc).splitlines()[0]}")
            continue
        date = entry.get("date")
        if not isinstance(date, str):
            problems.append(f"{where}.date: the field that dates each administration is "
                            "required")
            date = ""
        respondent = (None if entry.get("respondent") is None else
                      _spec(C.RESPONDENT, entry["respondent"], f"{where}.respondent", problems))
        items = entry.get("items")
        if not isinstance(items, dict) or not items:
            problems.append(f"{where}.items: a mapping of item id -> REDCap field")
            items = {}
        items = {str(i): str(f) for i, f in items.items()}
        for item in items:
            if item not in inst.item_ids:
                problems.append(f"{where}.items.{item}: not an item of {inst.id}")
        values = entry.get("values")
        if values is not None and not isinstance(values, dict):
            problems.append(f"{where}.values: a mapping of choice code -> response value")
            values = None
        specs = [ColumnSpec(C.DATE, date)] + ([respondent] if respondent else [])
        specs += [ColumnSpec(i, f) for i, f in items.items()]
        check_fields(form, specs, f"{where}")
        if form is not None:
            assessments.append(AssessmentForm(
                form=form, instrument=inst, date=date, respondent=respondent, items=items,
                values=None if values is None else {str(a): str(b) for a, b in values.items()}))

    goals_form = ratings_form = rating_goal = None
    goal_specs: list[ColumnSpec] = []
    rating_specs: list[ColumnSpec] = []
    if data.get("goals") is not None:
        goals = data["goals"] if isinstance(data["goals"], dict) else {}
        goals_form = form_of("goals.form", goals.get("form"))
        goal_specs = _table_specs(goals, "goals", "goals", problems)
        check_fields(goals_form, goal_specs, "goals.fields")
    if data.get("goal_ratings") is not None:
        ratings = data["goal_ratings"] if isinstance(data["goal_ratings"], dict) else {}
        ratings_form = form_of("goal_ratings.form", ratings.get("form"))
        rating_specs = _table_specs(ratings, "goal_ratings", "goal_ratings", problems)
        rating_goal = ratings.get("goal")
        if not isinstance(rating_goal, str):
            problems.append("goal_ratings.goal: the field holding the rated goal's instance "
                            "number is required")
            rating_goal = None
        check_fields(ratings_form, rating_specs + ([ColumnSpec("goal", rating_goal)]
                                                   if rating_goal else []),
                     "goal_ratings.fields")
        if goals_form is None:
            problems.append("goal_ratings: needs goals (ratings name a goal)")
    forms = [f for f in [children_form, *(a.form for a in assessments), goals_form,
                         ratings_form] if f]
    repeated = sorted({f for f in forms if forms.count(f) > 1})
    if repeated:
        problems.append(f"form(s) {', '.join(repeated)} are mapped more than once")
    if problems:
        raise DatasetError(f"{source}: the mapping does not fit {dictionary.source} "
                           f"({len(problems)} problem(s)):\n"
                           + "\n".join(f"  {source}: {p}" for p in problems))
    return Mapping(record_id=record_id, child_prefix=prefix, child_pad=pad, events=events,
                   children_form=children_form, children=child_specs,
                   assessments=assessments, goals_form=goals_form, goals=goal_specs,
                   ratings_form=ratings_form, rating_goal=rating_goal, ratings=rating_specs,
                   source=source)
