"""A clinic dataset: a folder of CSV files or one .xlsx workbook.

Tables (their columns: the data dictionary, data/sample/README.md): children, assessments, goals, goal_ratings. Loading
validates every row, rejects bad rows and their dependants, scores the
accepted assessments, and keeps a validation report in which every input row
is accounted for: rows read = rows accepted + rows rejected, per table.

Table rules are declared as pandera schemas (validated lazily, so every
failure is collected, not just the first); cross-table rules (foreign keys,
an assessment before birth, a rating before its goal was set) are array
operations here. Identifying values (display_name, date_of_birth) never
appear in a problem: rows are named by their IDs. No value of the children
table is shown but a valid child ID that is not shaped like a date: a column
whose header was swapped may hold names or dates of birth under any other
name.

Loaded tables have these dtypes: ids and text columns are strings; dates are
``datetime64[ns]`` (NaT when blank); ``importance``/``difficulty`` are
nullable ``Int64``; ``baseline_level`` and ``level`` are ``int64``; item
columns hold the cell text (numbers written canonically, "3" not "3.0");
every table keeps ``source_row``, the row number in its file (header = 1).
"""

from __future__ import annotations

import datetime as dt
import math
import re
import threading
import warnings
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from sensoryprofile import columns as C
from sensoryprofile.data.settings import SETTINGS_FILE, Settings, read_settings
from sensoryprofile.data.snapshots import SNAPSHOT_ENV  # the kernels' snapshot folder
from sensoryprofile.data.tables import (
    EXCEL_SUFFIXES,
    TableRead,
    read_csv_rows,
    read_excel_rows,
    require_regular_file,
)
from sensoryprofile.data.validation import (
    COLUMN_IGNORED,
    DEPENDENT_REJECTED,
    HIDDEN,
    NOTED,
    ROW_REJECTED,
    VALUE_IGNORED,
    ValidationReport,
)
from sensoryprofile.dates import date_problem, parse_dates
from sensoryprofile.errors import DataProblemsError, DatasetError, InstrumentError
from sensoryprofile.ids import ID_PATTERN, ID_RULE, is_valid_id
from sensoryprofile.instruments import (
    Instrument,
    known_instruments,
    list_instruments,
    load_instrument,
)
from sensoryprofile.instruments.schema import RESPONDENTS

if TYPE_CHECKING:  # pandera is imported when a table is validated (it is slow to import)
    import pandera.pandas as pa

TABLES = ("children", "assessments", "goals", "goal_ratings")
INSTRUMENTS_DIR = "instruments"

#: The largest day offset (days since referral) an extract may give: 200 years.
MAX_DAY_OFFSET = 73_050
#: Whole-number columns hold small numbers; anything beyond this is not one.
MAX_WHOLE = 1_000_000
SEXES = ("F", "M", "X")

# Required columns per table (the others of the data dictionary are optional).
REQUIRED = {
    "children": [C.CHILD_ID, C.REFERRAL_DATE],
    "assessments": [C.ASSESSMENT_ID, C.CHILD_ID, C.INSTRUMENT, C.DATE],
    "goals": [C.GOAL_ID, C.CHILD_ID, C.SET_DATE, C.DOMAIN, C.BASELINE_LEVEL],
    "goal_ratings": [C.GOAL_ID, C.DATE, C.LEVEL],
}
OPTIONAL = {
    # date_of_birth is required unless every assessment carries age_months (a
    # de-identified extract): see read_raw_tables
    "children": [C.DATE_OF_BIRTH, C.SEX, C.DIAGNOSES, C.SITE, C.THERAPIST, C.DISCHARGE_DATE,
                 C.DISPLAY_NAME, C.AGE_AT_REFERRAL_MONTHS],
    "assessments": [C.RESPONDENT],
    "goals": [C.DESCRIPTION, C.IMPORTANCE, C.DIFFICULTY, *C.LEVEL_TEXT_COLUMNS,
              C.TARGET_DATE],
    "goal_ratings": [C.RATER, C.NOTE, C.FAMILY_NOTE],
}
#: The longest note for the family a rating row may carry (it must fit the
#: two printed pages of the family report); a longer one is ignored, reported.
FAMILY_NOTE_MAX_CHARS = 500
KEYS = {"children": C.CHILD_ID, "assessments": C.ASSESSMENT_ID, "goals": C.GOAL_ID,
        "goal_ratings": None}
DATE_COLUMNS = {
    "children": [C.DATE_OF_BIRTH, C.REFERRAL_DATE, C.DISCHARGE_DATE],
    "assessments": [C.DATE],
    "goals": [C.SET_DATE, C.TARGET_DATE],
    "goal_ratings": [C.DATE],
}
REQUIRED_DATES = {C.DATE_OF_BIRTH, C.REFERRAL_DATE, C.DATE, C.SET_DATE}
INT_COLUMNS = {
    "goals": [C.IMPORTANCE, C.DIFFICULTY, C.BASELINE_LEVEL],
    "goal_ratings": [C.LEVEL],
}
ID_COLUMNS = {
    "children": [C.CHILD_ID],
    "assessments": [C.ASSESSMENT_ID, C.CHILD_ID],
    "goals": [C.GOAL_ID, C.CHILD_ID],
    "goal_ratings": [C.GOAL_ID],
}


@dataclass
class Dataset:
    """A validated clinic dataset.

    Attributes
    ----------
    children, assessments, goals, goal_ratings : the accepted rows.
    scores : tidy score table of the accepted assessments
        (:func:`sensoryprofile.data.assessments.score_assessments`).
    report : every problem found, and rows read = accepted + rejected per table.
    instruments : the instruments used, by id.
    gas_six_level : True when the dataset declares the six-level GAS variant
        (level -3 = worse than baseline is allowed).
    reassessment_interval_months : the clinic's reassessment interval.
    """

    children: pd.DataFrame
    assessments: pd.DataFrame
    goals: pd.DataFrame
    goal_ratings: pd.DataFrame
    scores: pd.DataFrame
    report: ValidationReport = field(default_factory=ValidationReport)
    instruments: dict[str, Instrument] = field(default_factory=dict)
    gas_six_level: bool = False
    reassessment_interval_months: int = 6
    path: Path | None = None
    name: str = "dataset"
    files: dict[str, str] = field(default_factory=dict)
    settings: Settings | None = None

    def child(self, child_id: str) -> pd.Series:
        """One child's row; :class:`DatasetError` naming the id if absent."""
        rows = self.children[self.children[C.CHILD_ID] == child_id]
        if rows.empty:
            raise DatasetError(f"child_id {child_id!r} is not in {self.name} (or its row was "
                               "rejected: see `sensoryprofile validate`)")
        return rows.iloc[0]


# ---------------------------------------------------------------------------
# reading
# ---------------------------------------------------------------------------
def _canonical_text(value):
    """A cell as text: Excel numbers without a spurious '.0', dates as ISO."""
    if value is None:
        return np.nan
    if isinstance(value, str):
        return value.strip() or np.nan
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        if math.isnan(value):
            return np.nan
        return str(int(value)) if float(value).is_integer() else repr(float(value))
    if isinstance(value, (dt.datetime, pd.Timestamp)):
        if pd.isna(value):
            return np.nan
        # openpyxl gives datetime.datetime (no .normalize()), and any year up to 9999
        midnight = (value.hour, value.minute, value.second, value.microsecond) == (0, 0, 0, 0)
        return value.date().isoformat() if midnight else value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def _as_text(series: pd.Series) -> pd.Series:
    if pd.api.types.is_string_dtype(series) and series.dtype != object:
        return series
    return series.map(_canonical_text).astype("str")


@dataclass
class RawTables:
    """The four tables as read (text cells), before any rule is applied.

    ``reads`` keeps, per table, what strict reading found (rows that did not
    line up with the header, kept line breaks); ``files`` how problems name
    each table's file; ``identifying`` the dataset's names and dates of birth
    as written, so that no message ever repeats one.
    """

    frames: dict[str, pd.DataFrame]
    files: dict[str, str]
    settings: Settings
    reads: dict[str, TableRead]
    identifying: set[str]


def read_raw_tables(path: str | Path) -> RawTables:
    """Read a dataset folder or workbook (see :class:`RawTables`).

    Raises :class:`DatasetError` for structural problems: a missing file or
    sheet, a folder or device where a table should be, an unreadable file or
    workbook, a missing required column, settings that break their schema.
    """
    path = Path(path)
    if not path.exists():
        raise DatasetError(f"{path}: no such dataset (give a folder of CSV files or an .xlsx "
                           "workbook)")
    reads: dict[str, TableRead] = {}
    if path.is_file() and path.suffix.lower() in EXCEL_SUFFIXES:
        require_regular_file(path, path.name)
        try:
            sheets = pd.ExcelFile(path, engine="openpyxl")
        except Exception as exc:  # openpyxl raises many kinds for a damaged file
            raise DatasetError(f"{path.name}: cannot be read as an Excel workbook "
                               f"({type(exc).__name__})") from None
        with sheets:
            names = set(sheets.sheet_names)
            missing = [t for t in TABLES if t not in names]
            if missing:
                raise DatasetError(f"{path.name}: missing sheet(s) {', '.join(missing)}; a "
                                   f"workbook needs sheets named {', '.join(TABLES)}")
            for table in TABLES:
                reads[table] = read_excel_rows(path, table)
            sheet = (pd.read_excel(path, sheet_name="settings", dtype=object)
                     if "settings" in names else None)
        settings = read_settings(path, sheet) if sheet is not None else Settings(name=path.stem)
    elif path.is_dir():
        missing = [f"{t}.csv" for t in TABLES if not (path / f"{t}.csv").exists()]
        if missing:
            raise DatasetError(f"{path}: missing file(s) {', '.join(missing)}; a dataset "
                               f"folder needs {', '.join(f'{t}.csv' for t in TABLES)}")
        for table in TABLES:
            reads[table] = read_csv_rows(path / f"{table}.csv", free_text=C.FREE_TEXT_COLUMNS,
                                         label=f"{table}.csv")
        settings = read_settings(path)
    else:
        raise DatasetError(f"{path.name}: a dataset is a folder of CSV files or an .xlsx "
                           "workbook")
    frames = {table: reads[table].frame for table in TABLES}
    files = {table: reads[table].source for table in TABLES}
    days_to_dates(frames)
    for table, frame in frames.items():
        missing = [c for c in REQUIRED[table] if c not in frame.columns]
        if (table == "children" and C.DATE_OF_BIRTH not in frame.columns
                and C.AGE_MONTHS not in frames["assessments"].columns):
            missing.insert(1, C.DATE_OF_BIRTH)  # needed for ages unless they are given
        if missing:
            raise DatasetError(f"{files[table]}: missing required column(s) "
                               f"{', '.join(missing)}; the table needs "
                               f"{', '.join(REQUIRED[table])}")
    return RawTables(frames=frames, files=files, settings=settings, reads=reads,
                     identifying=identifying_values(frames["children"]))


def identifying_values(children: pd.DataFrame) -> set[str]:
    """Names and dates of birth of a children table, as written (stripped,
    case-folded), for :meth:`ValidationReport.hide`."""
    values: set[str] = set()
    for col in (C.DISPLAY_NAME, C.DATE_OF_BIRTH):
        if col in children.columns:
            values.update(str(v).strip().casefold() for v in children[col].dropna()
                          if str(v).strip())
    return values


def days_to_dates(frames: dict[str, pd.DataFrame]) -> None:
    """A no-dates extract gives days since referral (``date_day``...) instead
    of dates: read them as dates counted from :data:`columns.DAY_ZERO`, so
    every rule and every analysis works unchanged (intervals are kept).
    ``frames`` (table name to frame) is updated in place; ``score`` uses it
    for an extract's assessments file."""
    zero = pd.Timestamp(C.DAY_ZERO)
    for table, frame in frames.items():
        for date_col, day_col in C.DAY_COLUMNS.items():
            if date_col in frame.columns or day_col not in frame.columns:
                continue
            days = pd.to_numeric(frame[day_col], errors="coerce")
            # a cell that is not a whole number of days within 200 years stays as it
            # was: it is then reported as a date that cannot be read
            usable = days.notna() & (days == days.round()) & (days.abs() <= MAX_DAY_OFFSET)
            as_dates = (zero + pd.to_timedelta(days.where(usable, 0), unit="D")
                        ).dt.strftime("%Y-%m-%d")
            frame[date_col] = as_dates.where(usable, frame[day_col])
            frame = frame.drop(columns=[day_col])
        frames[table] = frame


# ---------------------------------------------------------------------------
# validation helpers
# ---------------------------------------------------------------------------
class _Rejections:
    """Which rows of each table are rejected (by frame index)."""

    def __init__(self, frames):
        self.masks = {t: pd.Series(False, index=f.index) for t, f in frames.items()}

    def reject(self, table, index):
        self.masks[table].loc[index] = True

    def ok(self, table) -> pd.Series:
        return ~self.masks[table]


#: A date written with dashes passes the ID rule; under a child_id header it may
#: be a date of birth whose header was swapped.
_DATE_SHAPED = re.compile(r"\d{4}-\d{1,2}-\d{1,2}|\d{1,2}-\d{1,2}-\d{2,4}")


def _shown_child_id(value) -> bool:
    """Whether a children.csv child_id may be shown: a valid ID that is not a date."""
    return is_valid_id(value) and _DATE_SHAPED.fullmatch(value) is None


def _key(table: str, frame: pd.DataFrame, i) -> str | None:
    if table == "goal_ratings":
        goal = frame.at[i, C.GOAL_ID] if C.GOAL_ID in frame.columns else None
        return f"goal_id={goal}" if isinstance(goal, str) else None
    col = KEYS[table]
    value = frame.at[i, col] if col in frame.columns else None
    if table == "children" and not _shown_child_id(value):
        return None  # a name or a date of birth under a child_id header is no key to show
    return f"{col}={value}" if isinstance(value, str) and len(value) <= 64 else None


class _Validator:
    def __init__(self, frames, files, report, today, six_level):
        self.raw = frames
        self.files = files
        self.report = report
        self.today = pd.Timestamp(today)
        self.six_level = six_level
        self.rej = _Rejections(frames)
        self.typed: dict[str, pd.DataFrame] = {}
        self.seen: set = set()
        self.unreadable: set = set()  # (table, index, column) cells that failed to parse
        self._goal_child: dict | None = None

    def child_of(self, table, i) -> str | None:
        """The child a row belongs to (for the child's own report), when known."""
        if table == "goal_ratings":
            if self._goal_child is None:
                goals = self.raw["goals"]
                self._goal_child = (dict(zip(goals[C.GOAL_ID], goals[C.CHILD_ID], strict=True))
                                    if {C.GOAL_ID, C.CHILD_ID} <= set(goals.columns) else {})
            frame = self.raw[table]
            goal = frame.at[i, C.GOAL_ID] if C.GOAL_ID in frame.columns else None
            child = self._goal_child.get(goal)
        else:
            frame = self.raw[table]
            child = frame.at[i, C.CHILD_ID] if C.CHILD_ID in frame.columns else None
        return child if is_valid_id(child) else None

    def problem(self, table, i, column, value, rule, action=ROW_REJECTED, *, raw_value=True):
        seen = (table, i, column, rule)
        if seen in self.seen:  # pandera reports a multi-column rule once per column
            return
        self.seen.add(seen)
        frame = self.raw[table]
        if table == "children" and raw_value and not (column == C.CHILD_ID
                                                      and _shown_child_id(value)):
            # a children column that is not what its header says (swapped, shifted)
            # may hold names or dates of birth: no children.csv value is shown but
            # a valid child ID
            value, raw_value = HIDDEN, False
        self.report.add(file=self.files[table], row=int(frame.at[i, C.SOURCE_ROW]),
                        column=column, value=value, rule=rule, action=action, table=table,
                        key=_key(table, self.typed.get(table, frame), i),
                        raw_value=raw_value, child_id=self.child_of(table, i))
        if action in (ROW_REJECTED, DEPENDENT_REJECTED):
            self.rej.reject(table, i)

    # -- per-table typing: dates and integers, with parse problems ------------
    def type_table(self, table):
        raw = self.raw[table]
        typed = pd.DataFrame(index=raw.index)
        typed[C.SOURCE_ROW] = raw[C.SOURCE_ROW]
        date_cols = DATE_COLUMNS[table]
        int_cols = INT_COLUMNS.get(table, [])
        for col in raw.columns:
            if col == C.SOURCE_ROW:
                continue
            if col in date_cols:
                dates, bad = parse_dates(raw[col])
                for i in raw.index[bad]:
                    self.problem(table, i, col, raw.at[i, col], date_problem(raw.at[i, col]))
                    self.unreadable.add((table, i, col))
                typed[col] = dates
            elif col in int_cols:
                text = _as_text(raw[col])
                number = pd.to_numeric(text, errors="coerce")
                with np.errstate(invalid="ignore"):
                    whole = number.notna() & (number.abs() <= MAX_WHOLE) & (
                        number == np.round(number))
                bad = text.notna() & ~whole
                for i in raw.index[bad.to_numpy()]:
                    self.problem(table, i, col, raw.at[i, col], "must be a whole number")
                    self.unreadable.add((table, i, col))
                typed[col] = number.where(whole).round().astype("Int64")
            else:
                if col in ID_COLUMNS[table] and raw[col].dtype == object:
                    self.excel_ids(table, col)
                typed[col] = _as_text(raw[col])
        for col in OPTIONAL[table]:
            if col not in typed.columns:
                typed[col] = (pd.Series(pd.NaT, index=raw.index, dtype="datetime64[ns]")
                              if col in date_cols else
                              pd.Series(pd.NA, index=raw.index, dtype="Int64")
                              if col in int_cols else
                              pd.Series(np.nan, index=raw.index, dtype="str"))
        self.typed[table] = typed

    def excel_ids(self, table, col):
        """A workbook's date or TRUE/FALSE cell in an ID column is not an ID: Excel
        turns some IDs into dates ("3-12"), and its text would pass the ID rule."""
        raw = self.raw[table]
        for i, value in raw[col].items():
            if isinstance(value, (bool, np.bool_)):
                kind = "a TRUE/FALSE cell"
            elif isinstance(value, (dt.date, pd.Timestamp)):
                kind = "a date cell (Excel may have turned the ID typed into a date)"
            else:
                continue
            self.problem(table, i, col, value, f"{kind}, not an ID; format the column as Text "
                         "and type the ID again")
            self.unreadable.add((table, i, col))

    # -- pandera schemas ------------------------------------------------------
    def schema(self, table) -> pa.DataFrameSchema:
        import pandera.pandas as pa

        ids = {col: pa.Column(
            checks=[pa.Check.str_matches(ID_PATTERN, error=ID_RULE)],
            nullable=False, required=True, coerce=False,
            unique=(col == KEYS[table]), report_duplicates="exclude_first",
        ) for col in ID_COLUMNS[table]}
        not_future = pa.Check(lambda s: s.isna() | (s <= self.today),
                              element_wise=False,
                              error="date is in the future (after today, "
                                    f"{self.today.date().isoformat()})")
        cols: dict[str, pa.Column] = dict(ids)
        for col in DATE_COLUMNS[table]:
            # a target date is a plan, naturally in the future; every other date is an event
            checks = [] if col == C.TARGET_DATE else [not_future]
            absent = col not in self.raw[table].columns  # e.g. no date_of_birth in an extract
            cols[col] = pa.Column(checks=checks, nullable=col not in REQUIRED_DATES or absent,
                                  required=False)
        if table == "children":
            cols[C.SEX] = pa.Column(checks=[pa.Check.isin(SEXES, error="sex is F, M, X or "
                                                          "blank")], nullable=True,
                                    required=False)
        if table == "assessments":
            cols[C.RESPONDENT] = pa.Column(
                checks=[pa.Check.isin(RESPONDENTS, error="respondent is one of "
                                      + ", ".join(RESPONDENTS) + " (or blank: the "
                                      "instrument's own respondent)")],
                nullable=True, required=False)
            cols[C.INSTRUMENT] = pa.Column(nullable=False, required=True)
        if table == "goals":
            for col in (C.IMPORTANCE, C.DIFFICULTY):
                cols[col] = pa.Column(checks=[pa.Check.isin([0, 1, 2, 3],
                                                            error=f"{col} is 0, 1, 2 or 3 "
                                                            "(or blank: unweighted)")],
                                      nullable=True, required=False)
            cols[C.BASELINE_LEVEL] = pa.Column(checks=[pa.Check.isin(
                [-1, -2], error="baseline_level is -1 (some ability) or -2 (none)")],
                nullable=False)
            cols[C.DOMAIN] = pa.Column(nullable=False)
        if table == "goal_ratings":
            levels = [-3, -2, -1, 0, 1, 2] if self.six_level else [-2, -1, 0, 1, 2]
            rule = ("level is -3 (worse than baseline), -2, -1, 0, +1 or +2 (six-level scale)"
                    if self.six_level else "level is -2, -1, 0, +1 or +2 (the dataset does "
                    "not declare the six-level scale, so -3 is not allowed)")
            cols[C.LEVEL] = pa.Column(checks=[pa.Check.isin(levels, error=rule)],
                                      nullable=False)
        unique = [C.GOAL_ID, C.DATE] if table == "goal_ratings" else None
        return pa.DataFrameSchema(cols, unique=unique, report_duplicates="exclude_first",
                                  strict=False, coerce=False)

    def run_schema(self, table):
        import pandera.pandas as pa

        typed = self.typed[table]
        candidates = typed  # every row: a row rejected for a bad date still gets all its problems
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                self.schema(table).validate(candidates, lazy=True)
        except pa.errors.SchemaErrors as exc:
            cases = exc.failure_cases
            cases = cases[cases["index"].notna()]
            raw = self.raw[table]
            first_row = {}
            key = KEYS[table]
            if key is not None:
                first_row = (candidates.drop_duplicates(key).set_index(key)[C.SOURCE_ROW]
                             .to_dict())
            for case in cases.itertuples(index=False):
                i = case.index
                column = case.column if isinstance(case.column, str) else None
                check = str(case.check)
                if (table, i, column) in self.unreadable:
                    continue  # already reported: the cell could not be read
                if check == "not_nullable":
                    rule = f"{column} is required"
                elif check == "field_uniqueness":
                    rule = f"duplicate {column} (first on row {first_row.get(case.failure_case)})"
                elif check.startswith("multiple_fields_uniqueness") or column is None:
                    column = C.DATE
                    rule = "duplicate rating: this goal already has a rating on this date"
                else:
                    rule = check
                value = raw.at[i, column] if column in raw.columns else case.failure_case
                self.problem(table, i, column, value, rule)

    # -- cross-table rules ----------------------------------------------------
    def foreign_key(self, table, col, parent, parent_col):
        frame, parents = self.typed[table], self.typed[parent]
        ok_parent = parents[self.rej.ok(parent)][parent_col]
        all_parent = parents[parent_col]
        todo = self.rej.ok(table) & frame[col].notna()
        missing = todo & ~frame[col].isin(all_parent)
        for i in frame.index[missing]:
            self.problem(table, i, col, frame.at[i, col],
                         f"{col} not found in {self.files[parent]}")
        dependent = todo & frame[col].isin(all_parent) & ~frame[col].isin(ok_parent)
        for i in frame.index[dependent]:
            self.problem(table, i, col, frame.at[i, col],
                         f"its {parent_col.replace('_id', '')} ({parent_col}={frame.at[i, col]}) "
                         f"was rejected", action=DEPENDENT_REJECTED)

    def not_before(self, table, col, parent, parent_key, parent_col, rule, *, key=None):
        """Reject rows of ``table`` whose date ``col`` is before the parent's ``parent_col``."""
        frame, parents = self.typed[table], self.typed[parent]
        key = key or parent_key
        lookup = parents[self.rej.ok(parent)].drop_duplicates(parent_key).set_index(
            parent_key)[parent_col]
        ok = self.rej.ok(table)
        other = pd.Series(lookup.reindex(frame[key].to_numpy()).to_numpy(), index=frame.index)
        before = ok & frame[col].notna() & other.notna() & (frame[col] < other)
        for i in frame.index[before]:
            self.problem(table, i, col, self.raw[table].at[i, col], rule)

    def text_not_longer(self, table, col, limit, rule):
        """Blank (and report, value hidden) free text longer than ``limit``
        characters; the row itself is kept."""
        frame = self.typed[table]
        if col not in frame.columns:
            return
        bad = self.rej.ok(table) & (frame[col].str.len() > limit).fillna(False)
        for i in frame.index[bad]:
            self.problem(table, i, col, frame.at[i, col], rule, VALUE_IGNORED)
        frame.loc[bad, col] = np.nan

    def within_row(self, table, later, earlier, rule):
        frame = self.typed[table]
        bad = (self.rej.ok(table) & frame[later].notna() & frame[earlier].notna()
               & (frame[later] < frame[earlier]))
        for i in frame.index[bad]:
            self.problem(table, i, later, self.raw[table].at[i, later], rule)


def _resolve_instruments(v: _Validator, search_dirs) -> dict[str, Instrument]:
    """Each instrument named by an accepted assessment row, found in the
    registry (the dataset's ``instruments/`` folder, the clinic's folders,
    the shipped forms).

    A definition file of the dataset that does not load is reported once,
    with its own problems (as ``instruments check`` lists them), whether or
    not a row names it. The rows of a form that is unknown are rejected one
    by one (each names the form); the rows of a form whose definition is
    broken are rejected as its dependents, in one problem per child that
    names the rows and points to the definition's problems.
    """
    from sensoryprofile.instruments import registered_instruments

    frame = v.typed["assessments"]
    instruments: dict[str, Instrument] = {}
    broken_files: dict[str, tuple[str, int]] = {}  # id (file stem) -> (file, problems)
    for entry in registered_instruments(tuple(search_dirs)):
        if not entry.problems or Path(entry.source).parent not in {Path(d) for d in search_dirs}:
            continue
        shown = f"{INSTRUMENTS_DIR}/{Path(entry.source).name}"
        for problem in entry.problems:
            v.report.add(file=shown, row=None, column=None, value="", table=None,
                         rule=problem.removeprefix(f"{Path(entry.source).name}: "),
                         action=NOTED, raw_value=False)
        broken_files[Path(entry.source).stem] = (shown, len(entry.problems))
    names = frame.loc[v.rej.ok("assessments"), C.INSTRUMENT].dropna().unique()
    for name in names:
        rows = frame.index[(frame[C.INSTRUMENT] == name) & v.rej.ok("assessments")]
        try:
            instruments[name] = load_instrument(name, search_dirs=search_dirs, by_id=True)
        except InstrumentError as exc:
            text = str(exc).splitlines()[0]
            if text.startswith("unknown instrument"):
                rule = (f"unknown instrument: not one of the shipped instruments "
                        f"({', '.join(i.id for i in list_instruments())}), and no definition "
                        f"file declares it in {INSTRUMENTS_DIR}/ or the clinic's folders "
                        "(--instruments, SENSORYPROFILE_INSTRUMENTS)")
                for i in rows:
                    v.problem("assessments", i, C.INSTRUMENT, name, rule)
                continue
            shown, count = broken_files.get(str(name), (text.split(":", 1)[0], len(
                exc.problems)))
            if str(name) not in broken_files:  # a clinic folder's file: its problems, once
                for problem in exc.problems:
                    v.report.add(file=shown, row=None, column=None, value="", table=None,
                                 rule=problem.split(": ", 1)[-1], action=NOTED,
                                 raw_value=False)
                broken_files[str(name)] = (shown, count)
            _reject_for_definition(v, rows, name, shown, count)
    return instruments


def _reject_for_definition(v: _Validator, rows, name, shown: str, count: int) -> None:
    """Reject the rows of a form whose definition does not load: one problem
    per child, naming its rows (the definition's problems are listed once)."""
    frame = v.raw["assessments"]
    by_child: dict[object, list] = {}
    for i in rows:
        by_child.setdefault(v.child_of("assessments", i), []).append(i)
    for child, members in by_child.items():
        numbers = [int(frame.at[i, C.SOURCE_ROW]) for i in members]
        also = f" (also rows {', '.join(map(str, numbers[1:]))})" if len(numbers) > 1 else ""
        v.report.add(file=v.files["assessments"], row=numbers[0], column=C.INSTRUMENT,
                     value=name, table="assessments", child_id=child,
                     rule=f"the definition of instrument {name} ({shown}) does not load "
                          f"({count} problem(s), listed once); this questionnaire is left out "
                          f"until it is fixed{also}", action=DEPENDENT_REJECTED)
        for i in members:
            v.rej.reject("assessments", i)


def validate_tables(raw: RawTables, *, today: dt.date | None = None,
                    search_dirs: tuple = ()) -> tuple[dict[str, pd.DataFrame],
                                                      ValidationReport, dict]:
    """Validate raw tables; return (accepted typed tables, report, instruments)."""
    report = ValidationReport()
    report.hide(raw.identifying)
    frames, files = raw.frames, raw.files
    for table in TABLES:  # what strict reading left out, by line
        for problem in raw.reads[table].problems:
            report.add(file=files[table], row=problem.line, column=None, value="",
                       rule=problem.rule, action=ROW_REJECTED if problem.rejected else NOTED,
                       table=table, raw_value=False)
    v = _Validator(frames, files, report, today or dt.date.today(), raw.settings.gas_six_level)
    for table in TABLES:
        v.type_table(table)
    for table in TABLES:
        v.run_schema(table)
    _check_vocabulary(v, raw.settings)

    # children: dates in order
    v.within_row("children", C.REFERRAL_DATE, C.DATE_OF_BIRTH,
                 "referral_date is before the date of birth")
    v.within_row("children", C.DISCHARGE_DATE, C.REFERRAL_DATE,
                 "discharge_date is before referral_date")
    # assessments
    v.foreign_key("assessments", C.CHILD_ID, "children", C.CHILD_ID)
    v.not_before("assessments", C.DATE, "children", C.CHILD_ID, C.DATE_OF_BIRTH,
                 "assessment dated before the child's date of birth", key=C.CHILD_ID)
    instruments = _resolve_instruments(v, search_dirs)
    # goals
    v.foreign_key("goals", C.CHILD_ID, "children", C.CHILD_ID)
    v.not_before("goals", C.SET_DATE, "children", C.CHILD_ID, C.DATE_OF_BIRTH,
                 "goal set before the child's date of birth", key=C.CHILD_ID)
    v.within_row("goals", C.TARGET_DATE, C.SET_DATE, "target_date is before set_date")
    # ratings
    v.foreign_key("goal_ratings", C.GOAL_ID, "goals", C.GOAL_ID)
    v.not_before("goal_ratings", C.DATE, "goals", C.GOAL_ID, C.SET_DATE,
                 "rating dated before its goal's set_date", key=C.GOAL_ID)
    v.text_not_longer("goal_ratings", C.FAMILY_NOTE, FAMILY_NOTE_MAX_CHARS,
                      f"family_note is at most {FAMILY_NOTE_MAX_CHARS} characters (it must fit "
                      "the family report's two pages); the note is left out, the rating kept")

    accepted = {}
    for table in TABLES:
        ok = v.rej.ok(table)
        accepted[table] = v.typed[table][ok].reset_index(drop=True)
        unread = raw.reads[table].n_rejected  # rows of the file that never became rows
        report.count(table, read=len(ok) + unread, accepted=int(ok.sum()),
                     rejected=int((~ok).sum()) + unread)
    return accepted, report, instruments


def _check_vocabulary(v: _Validator, settings: Settings) -> None:
    """Diagnoses and goal domains outside the dataset's vocabulary are noted:
    they stay in the clinic's own reports, and an export writes 'other'."""
    for table, col, vocabulary in (("children", C.DIAGNOSES, "diagnoses"),
                                   ("goals", C.DOMAIN, "goal_domains")):
        frame = v.typed[table]
        if col not in frame.columns:
            continue
        values = frame[col].dropna()
        for i, text in values.items():
            terms = [t for t in str(text).split(";") if t.strip()] if col == C.DIAGNOSES else [
                str(text)]
            unknown = [t.strip() for t in terms if settings.canonical(vocabulary, t) is None]
            if unknown:
                v.problem(table, i, col, "; ".join(unknown),
                          f"not in the dataset's vocabulary of {vocabulary.replace('_', ' ')} "
                          f"(add it to {SETTINGS_FILE}); kept here, exported as 'other'",
                          action=NOTED)


def _unknown_columns(table: str, frame: pd.DataFrame, file: str, report: ValidationReport,
                     item_ids: set[str]) -> None:
    known = set(REQUIRED[table]) | set(OPTIONAL[table]) | {C.SOURCE_ROW}
    if table == "assessments":
        known |= item_ids | {C.AGE_MONTHS}
    for col in frame.columns:
        if col not in known:
            rule = ("column belongs to no known instrument" if table == "assessments"
                    else f"not a column of {table}; known columns: "
                    + ", ".join(REQUIRED[table] + OPTIONAL[table]))
            report.add(file=file, row=1, column=col, value="", rule=rule,
                       action=COLUMN_IGNORED, table=table, raw_value=False)


def load_dataset(path: str | Path, *, strict: bool = False, today: dt.date | None = None
                 ) -> Dataset:
    """Load, validate and score a clinic dataset.

    Parameters
    ----------
    path : a folder with children.csv, assessments.csv, goals.csv and
        goal_ratings.csv (and optionally ``dataset.yaml`` settings and an
        ``instruments/`` folder of definition files), or an .xlsx workbook
        with sheets of those names (and optionally a ``settings`` sheet with
        ``key``/``value`` columns).
    strict : raise :class:`DataProblemsError` if any problem is found.
    today : the date after which nothing may be dated (default: today).

    Returns
    -------
    Dataset

    Raises
    ------
    DatasetError
        A structural problem: missing file, sheet or required column;
        unreadable workbook.
    """
    from sensoryprofile.data.assessments import score_assessments

    path = Path(path)
    raw = read_raw_tables(path)
    frames, files, settings = raw.frames, raw.files, raw.settings
    search_dirs = (path / INSTRUMENTS_DIR,) if path.is_dir() else (
        path.parent / INSTRUMENTS_DIR,)
    accepted, report, instruments = validate_tables(raw, today=today,
                                                    search_dirs=search_dirs)
    all_items = set()  # a column of any registered form is not foreign
    for inst in list(instruments.values()) + known_instruments(search_dirs):
        all_items.update(inst.item_ids)
    for table in TABLES:
        _unknown_columns(table, frames[table], files[table], report, all_items)

    # the instrument's own respondent when the column is blank
    assessments = accepted["assessments"]
    if len(assessments):
        default_resp = assessments[C.INSTRUMENT].map(
            {k: i.respondent for k, i in instruments.items()})
        assessments[C.RESPONDENT] = assessments[C.RESPONDENT].fillna(default_resp).astype("str")
    unknown_cols = [c for c in assessments.columns
                    if c not in all_items and c not in REQUIRED["assessments"]
                    + OPTIONAL["assessments"] + [C.SOURCE_ROW, C.AGE_MONTHS]]
    scoring_input = assessments.drop(columns=unknown_cols)
    sink = ValidationReport()  # unknown columns are already reported above
    sink.hide(raw.identifying)  # a name typed into an item cell is hidden here too
    scores = score_assessments(scoring_input, None, children=accepted["children"],
                               report=sink, source=files["assessments"],
                               search_dirs=search_dirs)
    for problem in sink.problems:
        if problem.row == 1 and problem.rule == "column belongs to no known instrument":
            continue
        report.problems.append(problem)
    order = {table: k for k, table in enumerate(TABLES)}
    # file-level problems (a definition file, the settings) first, then by table and row
    report.problems.sort(key=lambda p: (order.get(p.table, -1 if p.table is None else 9),
                                        p.row or 0))
    dataset = Dataset(
        children=accepted["children"], assessments=assessments, goals=accepted["goals"],
        goal_ratings=accepted["goal_ratings"], scores=scores, report=report,
        instruments=instruments, gas_six_level=settings.gas_six_level,
        reassessment_interval_months=settings.reassessment_interval_months,
        path=path, name=settings.name, files=files, settings=settings,
    )
    if strict and report.problems:
        raise DataProblemsError(f"{path.name}: {len(report.problems)} problem(s) found "
                                f"(strict mode):\n" + "\n".join(
                                    f"  {p}" for p in report.problems[:20])
                                + ("\n  ..." if len(report.problems) > 20 else ""),
                                report=report)
    return dataset


# ---------------------------------------------------------------------------
# loading once per process while the files are unchanged
# ---------------------------------------------------------------------------
@lru_cache(maxsize=4)
def _cached_dataset(path: str, stamp: tuple, today: dt.date | None) -> Dataset:
    snapshot = _read_snapshot(path, stamp, today)
    return snapshot if snapshot is not None else load_dataset(path, today=today)


def dataset_stamp(path: Path) -> tuple:
    """Identity of a dataset's files (name, size, mtime) for caching."""
    files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
    return tuple((str(p), p.stat().st_size, p.stat().st_mtime_ns) for p in files)


def load_dataset_cached(path: str | Path, *, today: dt.date | None = None) -> Dataset:
    """:func:`load_dataset`, remembered while the files are unchanged (a batch
    of reports in one kernel loads the clinic's data once). In a report
    kernel the parent's snapshot of the same files is used when there is one.
    Two threads asking at once (``report all`` renders the clinic's reports
    beside the children's batch) check the files once: the second waits."""
    path = Path(path).resolve()
    if not path.exists():
        raise DatasetError(f"{path}: no such dataset")
    with _LOADING:
        return _cached_dataset(str(path), dataset_stamp(path), today)


_LOADING = threading.Lock()


def _snapshot_file(folder: Path, path: str, stamp: tuple, today) -> Path:
    import hashlib

    key = hashlib.sha256(repr((path, stamp, str(today))).encode("utf-8")).hexdigest()
    return folder / f"dataset-{key[:32]}.pickle"


def write_snapshot(dataset: Dataset, folder: str | Path, *, today: dt.date | None = None
                   ) -> Path:
    """Keep a checked dataset for report kernels in ``folder``, a private
    folder of this run (it holds the children's records: the caller removes
    it). A kernel whose environment names ``folder`` (:data:`SNAPSHOT_ENV`)
    then reads the checked tables instead of validating and scoring the
    files again, as long as the files are unchanged (same names, sizes and
    times), and needs neither pandera nor the instrument checker."""
    import pickle

    if dataset.path is None:
        raise DatasetError("only a dataset loaded from files can be kept for the kernels")
    path = Path(dataset.path).resolve()
    target = _snapshot_file(Path(folder), str(path), dataset_stamp(path), today)
    partial = target.with_suffix(".partial")
    with open(partial, "wb") as handle:
        pickle.dump(dataset, handle, protocol=pickle.HIGHEST_PROTOCOL)
    partial.replace(target)
    return target


def _read_snapshot(path: str, stamp: tuple, today) -> Dataset | None:
    import os
    import pickle

    folder = os.environ.get(SNAPSHOT_ENV)
    if not folder:
        return None
    target = _snapshot_file(Path(folder), path, stamp, today)
    try:
        with open(target, "rb") as handle:
            dataset = pickle.load(handle)  # noqa: S301 - written by this run's parent process
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError):
        return None  # no snapshot (or an unusable one): load the files
    return dataset if isinstance(dataset, Dataset) else None
