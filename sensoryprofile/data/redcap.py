"""Importing a REDCap export: records CSV + data dictionary + mapping -> dataset.

:func:`import_redcap` reads a records export (raw codes or labelled values;
raw column headers), checks every row and every form in it, and builds the
four tables of a dataset. It handles:

- longitudinal projects: ``redcap_event_name`` (any number of arms), each
  row's event checked against the mapping's events;
- repeating instruments and events: ``redcap_repeat_instrument`` and
  ``redcap_repeat_instance`` (goals as a repeating instrument, each review or
  administration a repeating instance of a form or of an event);
- checkbox fields (``field___code``), joined into one ``;``-separated value;
- each form's status ``<form>_complete``: only Complete forms are imported by
  default (``min_status``), the others are listed;
- choices from the dictionary, so a labelled cell maps back to its code.

Every row read is imported or listed in the report with the file, its row,
the record (``record_id=..., event=..., instance``), the field, the value,
the rule and what was done; identifying fields (the dictionary's
"Identifier?" column, and the fields mapped to ``date_of_birth`` and
``display_name``) never show their values. The work is array operations per
form and per field (values are translated once per distinct value), never a
Python loop over records, except to word a problem.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from sensoryprofile import columns as C
from sensoryprofile.data.imported import (
    COLUMN_READ_AS_BLANK,
    FORM_NOT_IMPORTED,
    ORIGIN_COLUMNS,
    ROW_NOT_IMPORTED,
    STATUS_NOT_CHECKED,
    TABLE_COLUMNS,
    VALUE_READ_AS_BLANK,
    ImportedTables,
    shown_value,
)
from sensoryprofile.data.redcap_dictionary import (
    CODE_COLUMNS,
    EVENT,
    REDCAP_META,
    REPEAT_INSTANCE,
    REPEAT_INSTRUMENT,
    STATUS_LABELS,
    STATUS_NAMES,
    STATUS_SUFFIX,
    AssessmentForm,
    ColumnSpec,
    DataDictionary,
    Field,
    Mapping,
)
from sensoryprofile.data.validation import COLUMN_IGNORED, ValidationReport
from sensoryprofile.errors import DatasetError, UsageError
from sensoryprofile.ids import is_valid_id

#: Accounting rows of a REDCap import.
ROWS_TABLE = "redcap rows"
FORMS_TABLE = "redcap forms"
#: ``min_status`` values: the least status a form needs to be imported.
MIN_STATUS = {"complete": 2, "unverified": 1, "incomplete": 0}
CHECKED = frozenset({"1", "checked"})
UNCHECKED = frozenset({"0", "unchecked"})
_ISO_START = re.compile(r"^\d{4}-\d{2}-\d{2}(?:[ T].*)?$")


def read_records(path: str | Path) -> pd.DataFrame:
    """A records export as text cells (blank = NA), header as exported."""
    path = Path(path)
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""],
                            encoding="utf-8-sig")
    except FileNotFoundError:
        raise DatasetError(f"{path}: no such records file") from None
    except pd.errors.EmptyDataError:
        raise DatasetError(f"{path.name}: the records file is empty") from None
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise DatasetError(f"{path.name}: cannot be read as UTF-8 CSV ({exc})") from None
    frame.columns = [str(c).strip() for c in frame.columns]
    dupes = frame.columns[frame.columns.duplicated()].tolist()
    if dupes:
        raise DatasetError(f"{path.name}: column(s) {', '.join(map(repr, dupes))} appear more "
                           "than once in the header row")
    return frame


@dataclass
class _Rows:
    """The records file, its row-level facts, and where problems go."""

    frame: pd.DataFrame
    file: str
    report: ValidationReport
    identifying: frozenset
    record: np.ndarray    # record id per row (object, NA as None)
    event: np.ndarray     # unique event name per row (labels translated), None if classic
    rinst: np.ndarray     # repeating instrument (form name) per row or None
    rnum: np.ndarray      # repeat instance per row, 0 when blank
    child: np.ndarray     # child_id per row
    ok: np.ndarray        # row may be imported
    record_field: str
    noted: np.ndarray | None = None  # a row-level problem names the row

    def __post_init__(self):
        self.noted = np.zeros(len(self.frame), dtype=bool)

    def key(self, i: int) -> str:
        parts = []
        rec = self.record[i]
        if rec is not None:
            parts.append(f"{self.record_field}=" + (
                "(hidden: identifying)" if self.record_field in self.identifying else str(rec)))
        if self.event[i] is not None:
            parts.append(f"event={self.event[i]}")
        if self.rinst[i] is not None:
            parts.append(f"instrument={self.rinst[i]}")
        if self.rnum[i]:
            parts.append(f"instance={self.rnum[i]}")
        return ", ".join(parts)

    def problem(self, i, column, value, rule, action, *, table=None, raw=False) -> None:
        shown = value if raw else shown_value(value, column, self.identifying)
        if i is not None and action in (ROW_NOT_IMPORTED, FORM_NOT_IMPORTED):
            self.noted[i] = True
        self.report.add(file=self.file, row=1 if i is None else int(i) + 2, column=column,
                        value=shown, rule=rule, action=action, table=table,
                        key=None if i is None else self.key(i), raw_value=False)


def _text(series: pd.Series) -> np.ndarray:
    """Stripped text values (None for blank) as an object array."""
    codes, uniques = pd.factorize(series)
    clean = np.array([(str(u).strip() or None) for u in uniques] + [None], dtype=object)
    return clean[codes]  # code -1 (blank) indexes the trailing None


# ---------------------------------------------------------------------------
# rows: records, events, instances, duplicates
# ---------------------------------------------------------------------------
def _check_rows(frame: pd.DataFrame, file: str, dictionary: DataDictionary, mapping: Mapping,
                report: ValidationReport, identifying: frozenset) -> _Rows:
    n = len(frame)
    record_field = mapping.record_id
    if record_field not in frame.columns:
        labels = {f.label.strip() for f in dictionary.fields.values()}
        if any(c in labels for c in frame.columns):
            raise DatasetError(f"{file}: the column headers are field labels, not variable "
                               "names: export with raw column headers (REDCap's 'CSV (raw "
                               "data)' or the API's rawOrLabelHeaders=raw); the cells may be "
                               "raw codes or labels")
        raise DatasetError(f"{file}: no {record_field!r} column (the record ID field of the "
                           "mapping)")
    if mapping.events is not None and EVENT not in frame.columns:
        raise DatasetError(f"{file}: no {EVENT} column, but the mapping lists events: export "
                           "the project as longitudinal (every row names its event)")
    record = _text(frame[record_field])
    none = np.full(n, None, dtype=object)
    event = _text(frame[EVENT]) if EVENT in frame.columns else none.copy()
    rinst = _text(frame[REPEAT_INSTRUMENT]) if REPEAT_INSTRUMENT in frame.columns else none.copy()
    rnum_text = _text(frame[REPEAT_INSTANCE]) if REPEAT_INSTANCE in frame.columns else none
    rows = _Rows(frame=frame, file=file, report=report, identifying=identifying, record=record,
                 event=event, rinst=rinst, rnum=np.zeros(n, dtype=np.int64),
                 child=np.full(n, None, dtype=object), ok=np.ones(n, dtype=bool),
                 record_field=record_field)

    for i in np.flatnonzero(pd.isna(record)):
        rows.problem(i, record_field, None, "the record ID is blank", ROW_NOT_IMPORTED)
        rows.ok[i] = False

    if REPEAT_INSTRUMENT in frame.columns:
        forms = set(dictionary.forms)
        by_label = {dictionary.form_label(f).casefold(): f for f in dictionary.forms}
        codes, uniques = pd.factorize(pd.Series(rinst, dtype=object))
        names = [u if u in forms else by_label.get(str(u).casefold()) for u in uniques] + [None]
        translated = np.array(names, dtype=object)[codes]
        for i in np.flatnonzero(rows.ok & (codes >= 0) & pd.isna(translated)):
            rows.problem(i, REPEAT_INSTRUMENT, rinst[i], "unknown repeating instrument: not a "
                         f"form of {dictionary.source}", ROW_NOT_IMPORTED)
            rows.ok[i] = False
        rows.rinst = translated
    if REPEAT_INSTANCE in frame.columns:
        number = pd.to_numeric(pd.Series(rnum_text, dtype=object), errors="coerce").to_numpy()
        bad = pd.notna(rnum_text) & ~((number >= 1) & (number == np.round(number)))
        for i in np.flatnonzero(rows.ok & bad):
            rows.problem(i, REPEAT_INSTANCE, rnum_text[i], "the repeat instance must be a "
                         "whole number of at least 1", ROW_NOT_IMPORTED)
            rows.ok[i] = False
        rows.rnum = np.where(pd.notna(rnum_text) & ~bad, np.nan_to_num(number), 0).astype(
            np.int64)

    if mapping.events is not None:
        by_label = {lab.casefold(): name for name, lab in mapping.events.items() if lab}
        codes, uniques = pd.factorize(pd.Series(event, dtype=object))
        names = []
        for u in uniques:
            names.append(u if u in mapping.events else by_label.get(str(u).casefold()))
        names.append(None)
        translated = np.array(names, dtype=object)[codes]
        known = ", ".join(mapping.events)
        for i in np.flatnonzero(rows.ok & (codes < 0)):
            rows.problem(i, EVENT, None, "missing event: a longitudinal export names each "
                         f"row's event (the mapping's events: {known})", ROW_NOT_IMPORTED)
            rows.ok[i] = False
        for i in np.flatnonzero(rows.ok & (codes >= 0) & pd.isna(translated)):
            rows.problem(i, EVENT, event[i], "unknown event: not one of the mapping's events "
                         f"({known})", ROW_NOT_IMPORTED)
            rows.ok[i] = False
        rows.event = translated
    elif EVENT in frame.columns:
        rows.event = event  # a longitudinal export imported without an event list

    # the child of each record
    codes, uniques = pd.factorize(pd.Series(record, dtype=object))
    child_of = np.array([mapping.child_id(str(u)) for u in uniques] + [None], dtype=object)
    rows.child = child_of[codes]
    valid = np.array([is_valid_id(c) for c in child_of[:-1]] + [False])
    for i in np.flatnonzero(rows.ok & ~valid[codes]):
        rows.problem(i, record_field, record[i], "the record ID does not give a valid child_id "
                     "(1 to 64 letters, digits, '_' or '-', after the mapping's prefix)",
                     ROW_NOT_IMPORTED)
        rows.ok[i] = False

    # the same record, event, repeating instrument and instance twice
    keys = pd.DataFrame({"r": record, "e": event if mapping.events is None else rows.event,
                         "f": rows.rinst, "n": rows.rnum})
    dup = keys.duplicated(keep="first").to_numpy() & rows.ok
    if dup.any():
        first = pd.Series(np.arange(n) + 2).groupby(
            [keys[c].fillna("") for c in ("r", "e", "f")] + [keys["n"]]).transform("first")
        for i in np.flatnonzero(dup):
            rows.problem(i, REPEAT_INSTANCE if rows.rnum[i] else EVENT,
                         rows.rnum[i] if rows.rnum[i] else rows.event[i],
                         f"duplicated instance: this record, event and instance are already "
                         f"on row {int(first.iloc[i])}", ROW_NOT_IMPORTED)
            rows.ok[i] = False
    return rows


# ---------------------------------------------------------------------------
# columns: unknown fields, fields of the mapping missing from the export
# ---------------------------------------------------------------------------
def _check_columns(rows: _Rows, dictionary: DataDictionary, mapping: Mapping) -> set[str]:
    """Report columns that are no field of the dictionary, fields not in the
    mapping, and mapped fields missing from the export; return the columns read."""
    columns = list(rows.frame.columns)
    known: dict[str, str] = {}  # export column -> field
    for fld in dictionary.fields.values():
        for col in fld.export_columns:
            known[col] = fld.name
    forms = set(dictionary.forms)
    status = {f"{form}{STATUS_SUFFIX}" for form in forms}
    timestamps = {f"{form}_timestamp" for form in forms}
    used = mapping.used_fields()
    mapped_forms = set(mapping.forms)
    for col in columns:
        if col in REDCAP_META or col in status or col in timestamps or col == mapping.record_id:
            continue
        if col not in known:
            base = col.split("___")[0]
            fld = dictionary.fields.get(base)
            rule = (f"not a choice of checkbox field {base} ({fld.choice_text()})"
                    if fld is not None and fld.type == "checkbox" and "___" in col else
                    f"unknown field: not a field of the data dictionary ({dictionary.source})")
            rows.problem(None, col, "", rule, COLUMN_IGNORED, raw=True)
        elif known[col] not in used:
            form = dictionary.fields[known[col]].form
            rule = (f"form {form} is not in the mapping: its fields are not imported"
                    if form not in mapped_forms else
                    f"field of form {form} that the mapping does not use: not imported")
            rows.problem(None, col, "", rule, COLUMN_IGNORED, raw=True)
    present = set(columns)
    for name in sorted(used):
        fld = dictionary.fields[name]
        missing = [c for c in fld.export_columns if c not in present]
        if missing and name != mapping.record_id:
            rows.problem(None, missing[0] if len(missing) == 1 else name, "",
                         "field of the mapping is not in the export: read as blank",
                         COLUMN_READ_AS_BLANK, raw=True)
    for form in mapping.forms:
        if f"{form}{STATUS_SUFFIX}" not in present:
            rows.problem(None, f"{form}{STATUS_SUFFIX}", "", "the form's status column is not "
                         "in the export: its forms are imported without a status check",
                         STATUS_NOT_CHECKED, raw=True)
    return present


# ---------------------------------------------------------------------------
# values: choices (codes or labels), checkboxes, dates
# ---------------------------------------------------------------------------
def _translate(rows: _Rows, positions: np.ndarray, fld: Field, spec: ColumnSpec | None,
               *, code_out: bool, table: str) -> np.ndarray:
    """The values of one field at ``positions``, as written to the dataset."""
    n = len(positions)
    if fld.type == "checkbox":
        return _checkbox(rows, positions, fld, spec, table=table)
    if fld.name not in rows.frame.columns:
        return np.full(n, None, dtype=object)
    series = rows.frame[fld.name].iloc[positions]
    codes, uniques = pd.factorize(series)
    if len(uniques) == 0:
        return np.full(n, None, dtype=object)
    out = np.empty(len(uniques) + 1, dtype=object)
    out[-1] = None
    bad: dict[int, str] = {}
    if fld.choices:
        by_label = {label.casefold(): code for code, label in fld.choices.items()}
        for k, u in enumerate(uniques):
            text = str(u).strip()
            code = text if text in fld.choices else by_label.get(text.casefold())
            if code is None:
                bad[k] = (f"not a choice of {fld.name} in the data dictionary (choices: "
                          f"{fld.choice_text()})")
                out[k] = None
            elif spec is not None and spec.values is not None:
                out[k] = spec.values.get(code)
                if out[k] is None:
                    bad[k] = f"the mapping's values for {fld.name} have no entry for code {code}"
            else:
                out[k] = code if code_out else fld.choices[code]
    elif fld.is_date:
        for k, u in enumerate(uniques):
            text = str(u).strip()
            out[k] = text[:10] if _ISO_START.match(text) else text
    else:
        for k, u in enumerate(uniques):
            out[k] = str(u).strip() or None
    for k, rule in bad.items():
        for j in np.flatnonzero(codes == k):
            i = positions[j]
            rows.problem(i, fld.name, series.iloc[j], rule, VALUE_READ_AS_BLANK, table=table)
    return out[codes]


def _checkbox(rows: _Rows, positions: np.ndarray, fld: Field, spec: ColumnSpec | None, *,
              table: str) -> np.ndarray:
    """The checked choices of a checkbox field, as labels joined with ';'."""
    n = len(positions)
    codes = list(fld.choices)
    pattern = np.zeros(n, dtype=np.int64)
    for bit, code in enumerate(codes):
        col = fld.checkbox_column(code)
        if col not in rows.frame.columns:
            continue
        series = rows.frame[col].iloc[positions]
        values, uniques = pd.factorize(series)
        label = fld.choices[code].casefold()
        state = []
        for u in uniques:
            text = str(u).strip().casefold()
            state.append(1 if text in CHECKED or text == label else
                         0 if text in UNCHECKED else -1)
        state = np.array(state + [0], dtype=np.int64)[values]
        for j in np.flatnonzero(state < 0):
            rows.problem(positions[j], col, series.iloc[j], f"a checkbox cell is 1 or 0 (or "
                         f"Checked/Unchecked, or the choice's label {fld.choices[code]!r})",
                         VALUE_READ_AS_BLANK, table=table)
        pattern |= (state > 0).astype(np.int64) << bit
    distinct, inverse = np.unique(pattern, return_inverse=True)
    joined = []
    for p in distinct:
        chosen = [code for bit, code in enumerate(codes) if p >> bit & 1]
        if spec is not None and spec.values is not None:
            words = [spec.values.get(code, fld.choices[code]) for code in chosen]
        else:
            words = [fld.choices[code] for code in chosen]
        joined.append(";".join(words) if words else None)
    return np.array(joined, dtype=object)[inverse]


# ---------------------------------------------------------------------------
# forms
# ---------------------------------------------------------------------------
def _form_rows(rows: _Rows, dictionary: DataDictionary, form: str, present: set[str],
               min_status: int, counts: list[int], check_status: bool) -> np.ndarray:
    """Positions of the rows whose ``form`` is imported; the others are reported."""
    frame = rows.frame
    data_cols = [c for f in dictionary.form_fields(form) for c in f.export_columns
                 if c in present and f.name != rows.record_field]
    checkbox_cols = {c for f in dictionary.form_fields(form) if f.type == "checkbox"
                     for c in f.export_columns}
    status_col = f"{form}{STATUS_SUFFIX}"
    has = np.zeros(len(frame), dtype=bool)
    for col in data_cols:
        values = frame[col]
        filled = values.notna().to_numpy()
        if col in checkbox_cols:
            filled = filled & ~values.str.strip().str.casefold().isin(UNCHECKED).to_numpy()
        has |= filled
    status_text = _text(frame[status_col]) if status_col in present else np.full(
        len(frame), None, dtype=object)
    codes, uniques = pd.factorize(pd.Series(status_text, dtype=object))
    number = np.array([STATUS_LABELS.get(str(u), int(u) if str(u) in ("0", "1", "2") else -1)
                       for u in uniques] + [-2], dtype=np.int64)[codes]  # -2: blank
    has |= number >= 1
    # a row repeating another form holds none of this one
    mine = pd.isna(rows.rinst) | (rows.rinst == form)
    present_rows = has & mine
    counts[0] += int(present_rows.sum())
    if not check_status:
        number = np.where(present_rows, 2, number)
    take = present_rows & rows.ok & (number >= min_status)
    skipped = present_rows & rows.ok & ~take
    for i in np.flatnonzero(skipped):
        status = number[i]
        if status == -1:
            rule = ("the form status is not one of 0 Incomplete, 1 Unverified, 2 Complete")
        else:
            name = STATUS_NAMES.get(int(status), "blank")
            need = STATUS_NAMES[min_status]
            rule = (f"incomplete form: its status is {name}; only forms at least {need} are "
                    f"imported (--min-status)")
        rows.problem(i, status_col, status_text[i], rule, FORM_NOT_IMPORTED, raw=False)
    counts[1] += int(take.sum())
    counts[2] += int((present_rows & ~take).sum())
    return np.flatnonzero(take)


def _keys(rows: _Rows, positions: np.ndarray) -> pd.Series:
    """:meth:`_Rows.key` of many rows at once (the same text, built by column)."""
    def part(values, label):
        series = pd.Series(values[positions], dtype=object)
        return (label + series.astype(str)).where(series.notna(), "")

    if rows.record_field in rows.identifying:
        record = pd.Series(f"{rows.record_field}=(hidden: identifying)", index=range(
            len(positions)), dtype=object)
    else:
        record = part(rows.record, f"{rows.record_field}=")
    number = pd.Series(rows.rnum[positions])
    pieces = [record, part(rows.event, "event="), part(rows.rinst, "instrument="),
              ("instance=" + number.astype(str)).where(number > 0, "")]
    keys = pieces[0]
    for piece in pieces[1:]:
        keys = keys + np.where((keys != "") & (piece != ""), ", ", "") + piece
    return keys


def _origins(rows: _Rows, positions: np.ndarray, group: str) -> pd.DataFrame:
    return pd.DataFrame({
        ORIGIN_COLUMNS[0]: rows.file,
        ORIGIN_COLUMNS[1]: positions + 2,
        ORIGIN_COLUMNS[2]: _keys(rows, positions).to_numpy(dtype=object),
        ORIGIN_COLUMNS[3]: group,
    })


def _spec_columns(rows: _Rows, dictionary: DataDictionary, positions: np.ndarray,
                  specs: list[ColumnSpec], table: str) -> dict[str, np.ndarray]:
    out = {}
    for spec in specs:
        fld = dictionary.fields[spec.field]
        out[spec.column] = _translate(rows, positions, fld, spec,
                                      code_out=spec.column in CODE_COLUMNS, table=table)
    return out


def assessment_id(child: str, event: str | None, form: str, instance: int) -> str:
    """``child-event-form-instance`` (parts left out when absent); a digest
    replaces the tail when that would pass 64 characters."""
    parts = [child] + ([event] if event else []) + [form] + ([str(instance)] if instance else [])
    text = "-".join(parts)
    if len(text) <= 64:
        return text
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]
    return f"{child[:40]}-{form[:10]}-{digest}"


def _assessments(rows: _Rows, dictionary: DataDictionary, spec: AssessmentForm,
                 positions: np.ndarray) -> tuple[pd.DataFrame, dict[str, str]]:
    inst = spec.instrument
    ids = [assessment_id(rows.child[i], rows.event[i], spec.form, rows.rnum[i])
           for i in positions]
    table = {C.ASSESSMENT_ID: np.array(ids, dtype=object), C.CHILD_ID: rows.child[positions],
             C.INSTRUMENT: inst.id}
    meta = [ColumnSpec(C.DATE, spec.date)] + ([spec.respondent] if spec.respondent else [])
    table.update(_spec_columns(rows, dictionary, positions, meta, "assessments"))
    if C.RESPONDENT not in table:
        table[C.RESPONDENT] = None
    item_spec = None if spec.values is None else ColumnSpec("item", "", spec.values)
    for item, name in spec.items.items():
        fld = dictionary.fields[name]
        table[item] = _translate(rows, positions, fld, item_spec, code_out=True,
                                 table="assessments")
    frame = pd.DataFrame(table, index=range(len(positions)))
    fields = {C.DATE: spec.date, **{item: name for item, name in spec.items.items()}}
    if spec.respondent:
        fields[C.RESPONDENT] = spec.respondent.field
    return frame, fields


# ---------------------------------------------------------------------------
# the entry point
# ---------------------------------------------------------------------------
def import_redcap(records: str | Path | pd.DataFrame, dictionary: DataDictionary,
                  mapping: Mapping, *, min_status: str = "complete",
                  source: str | None = None) -> ImportedTables:
    """Turn a REDCap records export into the tables of a dataset.

    Parameters
    ----------
    records : the records CSV (raw or labelled values, raw headers), or the
        same already read as text (:func:`read_records`).
    dictionary : the project's data dictionary (:func:`read_dictionary`).
    mapping : the checked mapping (:func:`load_mapping`).
    min_status : ``"complete"`` (default), ``"unverified"`` or
        ``"incomplete"``: the least form status that is imported.
    source : the file name shown in problems (default: the records file's).

    Returns
    -------
    ImportedTables
        The four tables, where each row came from, and the import's report
        (accounting ``redcap rows`` and ``redcap forms``: read = imported +
        not imported).
    """
    if min_status not in MIN_STATUS:
        raise UsageError(f"`min_status` must be one of {list(MIN_STATUS)}, but "
                         f"{min_status!r} was passed")
    if isinstance(records, pd.DataFrame):
        frame, file = records, source or "records.csv"
    else:
        frame, file = read_records(records), source or Path(records).name
    frame = frame.reset_index(drop=True)
    report = ValidationReport()
    identifying = dictionary.identifying | {
        s.field for s in mapping.children if s.column in (C.DATE_OF_BIRTH, C.DISPLAY_NAME)}
    rows = _check_rows(frame, file, dictionary, mapping, report, identifying)
    present = _check_columns(rows, dictionary, mapping)
    level = MIN_STATUS[min_status]
    form_counts = [0, 0, 0]  # read, imported, not imported
    imported_forms = np.zeros(len(frame), dtype=np.int64)  # forms imported per row

    def take(form):
        check = f"{form}{STATUS_SUFFIX}" in present
        positions = _form_rows(rows, dictionary, form, present, level, form_counts, check)
        imported_forms[positions] += 1
        return positions

    tables: dict[str, pd.DataFrame] = {}
    origins: dict[str, pd.DataFrame] = {}
    fields: dict[str, dict[str, str]] = {}

    # children
    pos = take(mapping.children_form)
    children = {C.CHILD_ID: rows.child[pos]}
    children.update(_spec_columns(rows, dictionary, pos, mapping.children, "children"))
    tables["children"] = pd.DataFrame(children, index=range(len(pos)))
    origins["children"] = _origins(rows, pos, "children")
    fields["children"] = {s.column: s.field for s in mapping.children}
    fields["children"][C.CHILD_ID] = mapping.record_id

    # assessments, one form (instrument) at a time
    pieces, piece_origins = [], []
    for spec in mapping.assessments:
        pos = take(spec.form)
        frame_a, names = _assessments(rows, dictionary, spec, pos)
        pieces.append(frame_a)
        piece_origins.append(_origins(rows, pos, f"assessments:{spec.form}"))
        fields[f"assessments:{spec.form}"] = names | {C.CHILD_ID: mapping.record_id}
    if pieces:
        tables["assessments"] = pd.concat(pieces, ignore_index=True)
        origins["assessments"] = pd.concat(piece_origins, ignore_index=True)
    else:
        tables["assessments"] = pd.DataFrame(columns=TABLE_COLUMNS["assessments"])
        origins["assessments"] = _origins(rows, np.array([], dtype=np.int64), "assessments")

    # goals: a goal is its record's instance of the goals form
    if mapping.goals_form:
        pos = take(mapping.goals_form)
        goals = {C.GOAL_ID: np.array([f"{rows.child[i]}-G{max(rows.rnum[i], 1)}"
                                      for i in pos], dtype=object),
                 C.CHILD_ID: rows.child[pos]}
        goals.update(_spec_columns(rows, dictionary, pos, mapping.goals, "goals"))
        tables["goals"] = pd.DataFrame(goals, index=range(len(pos)))
        origins["goals"] = _origins(rows, pos, "goals")
        fields["goals"] = {s.column: s.field for s in mapping.goals} | {
            C.CHILD_ID: mapping.record_id}
    else:
        tables["goals"] = pd.DataFrame(columns=TABLE_COLUMNS["goals"])
        origins["goals"] = _origins(rows, np.array([], dtype=np.int64), "goals")

    # ratings: each names its goal by the goal's instance number
    if mapping.ratings_form:
        pos = take(mapping.ratings_form)
        goal_fld = dictionary.fields[mapping.rating_goal]
        number = _translate(rows, pos, goal_fld, None, code_out=True, table="goal_ratings")
        as_int = pd.to_numeric(pd.Series(number, dtype=object), errors="coerce").to_numpy()
        bad = ~((as_int >= 1) & (as_int == np.round(as_int)))
        keep = np.ones(len(pos), dtype=bool)
        for j in np.flatnonzero(bad):
            i = pos[j]
            rows.problem(i, mapping.rating_goal, number[j], "the rated goal is named by its "
                         f"instance number in form {mapping.goals_form} (a whole number of at "
                         "least 1)", FORM_NOT_IMPORTED, table="goal_ratings")
            keep[j] = False
            imported_forms[i] -= 1
        form_counts[1] -= int((~keep).sum())
        form_counts[2] += int((~keep).sum())
        pos, as_int = pos[keep], as_int[keep]
        ratings = {C.GOAL_ID: np.array([f"{rows.child[i]}-G{int(g)}"
                                        for i, g in zip(pos, as_int, strict=True)],
                                       dtype=object)}
        ratings.update(_spec_columns(rows, dictionary, pos, mapping.ratings, "goal_ratings"))
        tables["goal_ratings"] = pd.DataFrame(ratings, index=range(len(pos)))
        origins["goal_ratings"] = _origins(rows, pos, "goal_ratings")
        fields["goal_ratings"] = {s.column: s.field for s in mapping.ratings} | {
            C.GOAL_ID: mapping.rating_goal}
    else:
        tables["goal_ratings"] = pd.DataFrame(columns=TABLE_COLUMNS["goal_ratings"])
        origins["goal_ratings"] = _origins(rows, np.array([], dtype=np.int64), "goal_ratings")

    # rows with nothing imported: their forms were reported above, or they hold none
    imported_rows = imported_forms > 0
    for i in np.flatnonzero(rows.ok & ~imported_rows & ~rows.noted):
        rows.problem(i, None, "", "the row holds no form of the mapping with data",
                     ROW_NOT_IMPORTED, raw=True)
    report.count(ROWS_TABLE, read=len(frame), accepted=int(imported_rows.sum()),
                 rejected=int(len(frame) - imported_rows.sum()))
    report.count(FORMS_TABLE, read=form_counts[0], accepted=form_counts[1],
                 rejected=form_counts[2])

    item_order = [i for spec in mapping.assessments for i in spec.instrument.item_ids
                  if i in tables["assessments"].columns]
    tables["assessments"] = tables["assessments"].reindex(
        columns=TABLE_COLUMNS["assessments"] + list(dict.fromkeys(item_order)))
    for table in ("children", "goals", "goal_ratings"):
        tables[table] = tables[table].reindex(columns=TABLE_COLUMNS[table])
    instruments = list({spec.instrument.id: spec.instrument
                        for spec in mapping.assessments}.values())
    return ImportedTables(tables=tables, origins=origins, fields=fields,
                          instruments=instruments, report=report, identifying=identifying)


# ---------------------------------------------------------------------------
# the REDCap API (optional: PyCap, the `redcap` extra)
# ---------------------------------------------------------------------------
#: Environment variable holding the API token (never a command-line argument,
#: which process lists and shell histories keep).
TOKEN_VARIABLE = "REDCAP_API_TOKEN"
#: How the export is asked for: the layout the file route reads.
API_RECORDS = {"format_type": "csv", "raw_or_label": "raw", "raw_or_label_headers": "raw",
               "event_name": "unique", "export_checkbox_labels": False}


def download_redcap(url: str, token: str, folder: str | Path) -> dict[str, Path]:
    """Download a project's records and data dictionary through the REDCap API
    (with PyCap) into ``folder`` as ``records.csv`` and ``dictionary.csv``.

    The records are asked for raw, with raw headers and unique event names:
    exactly the files the import reads, so the API route and the file route
    are one import. The token is never shown in a message.

    Raises
    ------
    UsageError
        PyCap is not installed (``pip install 'sensoryprofile[redcap]'``).
    DatasetError
        The server refused or could not be reached.
    """
    try:
        from redcap import Project, RedcapError
    except ImportError:
        raise UsageError("the REDCap API route needs PyCap: pip install "
                         "'sensoryprofile[redcap]' (or export the records and the data "
                         "dictionary as CSV files and import those)") from None
    folder = Path(folder)
    try:
        project = Project(url, token)
        dictionary = project.export_metadata(format_type="csv")
        records = project.export_records(**API_RECORDS)
    except (RedcapError, ValueError, OSError) as exc:
        text = str(exc).replace(token, "(token)") if token else str(exc)
        raise DatasetError(f"REDCap API at {url}: {type(exc).__name__}: {text[:300]}") from None
    from sensoryprofile.data.tables import write_text_atomic

    return {"dictionary": write_text_atomic(str(dictionary), folder / "dictionary.csv"),
            "records": write_text_atomic(str(records), folder / "records.csv")}
