"""Scoring a whole assessments table: which instrument each row is, its date
and age, duplicate ids, stray values; then the scoring core per instrument.

:func:`score_assessments` runs a sequence of checks, each a function of its
own that reports what it finds to a
:class:`~sensoryprofile.data.validation.ValidationReport`, and then scores
each instrument's rows with :func:`sensoryprofile.measures.scoring.score_block`
(a loop over instruments, never over rows). The tidy table keeps the input
order and one row per assessment x score; an assessment that cannot be
scored (unknown instrument) keeps a placeholder row with the reason.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from sensoryprofile import columns as C
from sensoryprofile.data.validation import (
    COLUMN_IGNORED,
    NOT_CLASSIFIED,
    SCORE_INVALIDATED,
    VALUE_IGNORED,
    ValidationReport,
)
from sensoryprofile.dates import arrow_text, completed_months, date_problem, parse_dates
from sensoryprofile.errors import DatasetError, InstrumentError, UsageError
from sensoryprofile.instruments import Instrument, known_instruments, load_instrument
from sensoryprofile.measures import norms as N
from sensoryprofile.measures.responses import allowed_text
from sensoryprofile.measures.scoring import (
    empty_scores,
    factorized_dtype,
    score_block,
    sorted_codes,
)

TABLE = "assessments"
#: Columns of an assessments table that are not items.
META_COLUMNS = frozenset({C.ASSESSMENT_ID, C.CHILD_ID, C.INSTRUMENT, C.DATE, C.RESPONDENT,
                          C.AGE_MONTHS, C.SOURCE_ROW, C.NOTES, C.NOTE})
#: Columns of the tidy table held as categoricals.
CATEGORICAL_COLUMNS = (C.ASSESSMENT_ID, C.CHILD_ID, C.INSTRUMENT, C.SCORE, C.SCORE_NAME, C.KIND,
                       C.CLASSIFICATION, C.NORM_BAND, C.INVALID_REASON, C.UNCLASSIFIED_REASON,
                       C.RESPONDENT)


class RowKeys:
    """``assessment_id=...`` labels for problem rows, made only when a problem
    is reported (not for every row of a large, clean file). ``ids`` is an
    array, or the id column, read into an array only when a label is first
    asked for."""

    def __init__(self, ids: np.ndarray | pd.Series | None):
        self._ids = ids

    @property
    def ids(self) -> np.ndarray | None:
        if isinstance(self._ids, pd.Series):
            self._ids = self._ids.to_numpy()
        return self._ids

    def __getitem__(self, i):
        if isinstance(i, np.ndarray):
            return RowKeys(None if self.ids is None else self.ids[i])
        if self.ids is None or pd.isna(self.ids[i]):
            return None
        return f"{C.ASSESSMENT_ID}={self.ids[i]}"


def row_numbers(frame: pd.DataFrame) -> np.ndarray:
    """Each row's number as a person sees it in the file (``source_row``, or
    the position + 2 when the frame did not come from a file: header = 1)."""
    if C.SOURCE_ROW in frame.columns:
        return frame[C.SOURCE_ROW].to_numpy()
    return np.arange(len(frame)) + 2


@dataclass
class _Input:
    """The table being scored and where its problems go."""

    frame: pd.DataFrame
    rows: np.ndarray
    keys: RowKeys
    report: ValidationReport | None
    source: str

    @property
    def n(self) -> int:
        return len(self.frame)

    def problem(self, i, column, value, rule, action, *, raw_value=True) -> None:
        """Report a problem of row position ``i`` (or of the whole file: i None)."""
        if self.report is None:
            return
        self.report.add(file=self.source, row=1 if i is None else self.rows[i], column=column,
                        value=value, rule=rule, action=action, table=TABLE,
                        key=None if i is None else self.keys[i], raw_value=raw_value)


@dataclass
class _RowInstruments:
    """Which instrument scores each row: ``instruments[codes[i]]`` (None when
    unknown); ``unknown`` rows get a placeholder row instead of scores."""

    instruments: list[Instrument | None]
    codes: np.ndarray
    unknown: np.ndarray


# ---------------------------------------------------------------------------
# the checks, in the order they run
# ---------------------------------------------------------------------------
def _row_instruments(inp: _Input, instrument, search_dirs) -> _RowInstruments:
    """One instrument for every row (``instrument`` given), or each row's own
    ``instrument`` column: unknown and blank names are reported."""
    n = inp.n
    if instrument is not None:
        return _RowInstruments([load_instrument(instrument, search_dirs=search_dirs)],
                               np.zeros(n, dtype=np.intp), np.zeros(n, dtype=bool))
    if C.INSTRUMENT not in inp.frame.columns:
        raise DatasetError(f"{inp.source}: no `instrument` column and no instrument given; "
                           "add an `instrument` column or pass --instrument ID_OR_FILE")
    names = inp.frame[C.INSTRUMENT].astype("string").str.strip()
    codes, uniques = pd.factorize(names)
    instruments: list[Instrument | None] = []
    unknown = np.zeros(n, dtype=bool)
    for k, name in enumerate(uniques):
        try:
            instruments.append(load_instrument(str(name), search_dirs=search_dirs,
                                               by_id=True))
        except InstrumentError as exc:
            instruments.append(None)
            unknown[codes == k] = True
            rule = str(exc).splitlines()[0]  # the loader's first line names the instrument
            for i in np.flatnonzero(codes == k):
                inp.problem(i, C.INSTRUMENT, name, rule, SCORE_INVALIDATED)
    blank = codes < 0
    for i in np.flatnonzero(blank):
        inp.problem(i, C.INSTRUMENT, None, "instrument is required", SCORE_INVALIDATED)
    return _RowInstruments(instruments, codes.copy(), unknown | blank)


def _check_columns(inp: _Input, used: _RowInstruments, explicit: bool,
                   search_dirs: tuple = ()) -> None:
    """Columns that belong to no instrument (ignored), and item columns of an
    instrument in use that the file lacks (read as blank)."""
    if inp.report is None:
        return
    in_use = [i for i in used.instruments if i is not None]
    known = set().union(*(set(i.item_ids) for i in in_use))
    if not explicit:  # a column of any registered form is not foreign
        for form in known_instruments(search_dirs):
            known.update(form.item_ids)
    for col in inp.frame.columns:
        if col not in META_COLUMNS and col not in known:
            inp.problem(None, str(col), "", "column belongs to no known instrument",
                        COLUMN_IGNORED, raw_value=False)
    for inst in in_use:
        absent = [i for i in inst.item_ids if i not in inp.frame.columns]
        if absent:
            shown = ", ".join(absent[:5]) + (f" and {len(absent) - 5} more"
                                             if len(absent) > 5 else "")
            inp.problem(None, shown, "", f"{len(absent)} item column(s) of {inst.id} are "
                        "missing from the file; they are read as blank", SCORE_INVALIDATED,
                        raw_value=False)


def _dates(inp: _Input) -> pd.Series:
    """The ``date`` column as datetime64 (NaT for blank or unreadable cells)."""
    frame = inp.frame
    if C.DATE not in frame.columns:
        return pd.Series(pd.NaT, index=frame.index, dtype="datetime64[ns]")
    dates, bad = parse_dates(frame[C.DATE])
    for i in np.flatnonzero(bad):
        value = frame[C.DATE].iloc[i]
        inp.problem(i, C.DATE, value, date_problem(value), NOT_CLASSIFIED)
    return dates


def _ages(inp: _Input, dates: pd.Series, children: pd.DataFrame | None) -> np.ndarray:
    """Age in months at each assessment: from the date of birth when
    ``children`` is given, else from an ``age_months`` column (de-identified
    extracts). An assessment dated before birth is reported."""
    frame = inp.frame
    given = (pd.to_numeric(frame[C.AGE_MONTHS], errors="coerce").to_numpy(dtype=float)
             if C.AGE_MONTHS in frame.columns else None)
    if children is None or C.DATE_OF_BIRTH not in children.columns:
        ages = np.full(inp.n, np.nan)
    else:
        if C.CHILD_ID not in children.columns:
            raise DatasetError("the children table has no child_id column, so no date of "
                               "birth can be matched to an assessment")
        dob_by_child = children.drop_duplicates(C.CHILD_ID).set_index(C.CHILD_ID)[
            C.DATE_OF_BIRTH]
        dob_parsed, _ = parse_dates(dob_by_child)
        if C.CHILD_ID in frame.columns:
            dob = dob_parsed.reindex(frame[C.CHILD_ID].to_numpy()).to_numpy()
        else:
            dob = np.full(inp.n, np.datetime64("NaT"), dtype="datetime64[ns]")
        ages = completed_months(dob, dates.to_numpy())
        for i in np.flatnonzero(ages < 0):
            inp.problem(i, C.DATE, frame[C.DATE].iloc[i],
                        "assessment dated before the child's date of birth", NOT_CLASSIFIED)
    if given is None:
        return ages
    # an extract gives ages where it has no birth dates: a cell used there that is
    # not a number, or is below 0, is reported (it would leave the scores unnormed)
    used = np.isnan(ages)
    cells = frame[C.AGE_MONTHS]
    # only the few cells that are used and did not read as a number are looked at
    candidates = np.flatnonzero(used & np.isnan(given))
    texts = cells.iloc[candidates]
    unreadable = candidates[texts.notna().to_numpy() & (
        texts.astype("string").str.strip() != "").fillna(False).to_numpy(dtype=bool)]
    for i in unreadable:
        inp.problem(i, C.AGE_MONTHS, cells.iloc[i], "age_months is not a number of months",
                    NOT_CLASSIFIED)
    for i in np.flatnonzero(used & (given < 0)):
        inp.problem(i, C.AGE_MONTHS, cells.iloc[i], "age_months is below 0", NOT_CLASSIFIED)
    return np.where(used, given, ages)


def _sexes(inp: _Input, children: pd.DataFrame | None, used: _RowInstruments
            ) -> np.ndarray | None:
    """Each assessment's child's sex (from ``children``), for forms normed by
    sex; None when no form in use is, or the children table has no sex."""
    if not any(inst is not None and any(inst.compiled.band_sex)
               for inst in used.instruments):
        return None
    if children is None or C.SEX not in children.columns or C.CHILD_ID not in children.columns \
            or C.CHILD_ID not in inp.frame.columns:
        return None
    sex_by_child = children.drop_duplicates(C.CHILD_ID).set_index(C.CHILD_ID)[C.SEX]
    return sex_by_child.reindex(inp.frame[C.CHILD_ID].to_numpy()).to_numpy(dtype=object)


def _foreign_rows(inp: _Input, inst: Instrument, row_problem, row_text) -> None:
    """With an explicit instrument, a row whose ``instrument`` column names
    another is never silently re-scored: its scores are invalid."""
    frame = inp.frame
    if C.INSTRUMENT not in frame.columns:
        return
    if _every_cell_is(frame[C.INSTRUMENT], inst.id):  # the usual file: nothing to look at
        return
    codes, names = pd.factorize(frame[C.INSTRUMENT])  # few distinct values: check those
    clean = [str(v).strip() for v in names]
    foreign = np.array([v not in ("", inst.id) for v in clean] + [False])
    for i in np.flatnonzero(foreign[codes]):  # code -1 (blank) indexes the trailing False
        text = (f"the row's instrument is {clean[codes[i]]!r}, not {inst.id!r}, the "
                "instrument it was asked to be scored with")
        row_problem[i], row_text[i] = True, text
        inp.problem(i, C.INSTRUMENT, frame[C.INSTRUMENT].iloc[i], text, SCORE_INVALIDATED)


def _every_cell_is(column: pd.Series, text: str) -> bool:
    """True when ``column`` is text held by pyarrow and every cell is exactly
    ``text`` (compared by pyarrow, without a Python string per cell); False
    otherwise, also when it cannot tell."""
    data = arrow_text(column)
    if data is None or data.null_count:
        return False
    import pyarrow.compute as pc

    return pc.all(pc.equal(data, text)).as_py() is True


def _text_ids(frame: pd.DataFrame) -> pd.Categorical | None:
    """The assessment ids as a categorical with sorted categories, when every
    id is text (or blank); None otherwise. Factorized once: for the
    duplicate check and for the tidy table's ``assessment_id`` column."""
    if C.ASSESSMENT_ID not in frame.columns:
        return None
    column = frame[C.ASSESSMENT_ID]
    text_dtype = pd.api.types.is_string_dtype(column.dtype) and column.dtype != object
    if not text_dtype and pd.api.types.infer_dtype(column, skipna=True) not in (
            "string", "empty"):
        return None
    codes, uniques = sorted_codes(column)
    return pd.Categorical.from_codes(codes, dtype=factorized_dtype(uniques), validate=False)


def _duplicate_ids(inp: _Input, row_problem, row_text, ids: pd.Categorical | None) -> None:
    """Every repeat of an assessment_id after the first is invalid. ``ids``:
    the ids factorized (:func:`_text_ids`), when they are all text."""
    frame = inp.frame
    if C.ASSESSMENT_ID not in frame.columns:
        return
    if ids is not None:  # text ids: a repeat is a code seen on an earlier row
        codes = ids.codes
        seen = codes >= 0
        given = np.flatnonzero(seen)
        if len(given) == len(ids.categories):  # as many distinct ids as ids: no repeat
            return
        first = np.empty(len(ids.categories), dtype=np.int64)
        first[codes[given[::-1]]] = given[::-1]  # earliest row of each id (blanks have none)
        first_pos = np.where(seen, first[np.where(seen, codes, 0)], -1)
        dup = seen & (first_pos != np.arange(inp.n))
        if not dup.any():
            return
        first_row = np.where(seen, inp.rows[np.clip(first_pos, 0, None)], -1)
    else:
        ids_text = frame[C.ASSESSMENT_ID].astype("string")
        dup = ids_text.duplicated(keep="first").to_numpy() & ids_text.notna().to_numpy()
        if not dup.any():
            return
        first_row = pd.Series(inp.rows, index=frame.index).groupby(
            ids_text.to_numpy()).transform("first").to_numpy()
    for i in np.flatnonzero(dup):
        text = f"duplicate assessment_id (first on row {first_row[i]})"
        row_problem[i], row_text[i] = True, text
        inp.problem(i, C.ASSESSMENT_ID, frame[C.ASSESSMENT_ID].iloc[i], text,
                    SCORE_INVALIDATED)


def _stray_values(inp: _Input, used: _RowInstruments) -> None:
    """Values in another instrument's item columns, for rows of a known
    instrument: reported and ignored (that column is blank for this row)."""
    in_use = [i for i in used.instruments if i is not None]
    if inp.report is None or len(in_use) < 2:
        return
    frame = inp.frame
    for k, inst in enumerate(used.instruments):
        if inst is None:
            continue
        mine = used.codes == k
        for other in in_use:
            if other is inst:
                continue
            for item in other.item_ids:
                if item not in frame.columns or item in inst.item_ids:
                    continue
                filled = frame[item].notna().to_numpy() & (
                    frame[item].astype("string").str.strip() != "").fillna(False).to_numpy()
                for i in np.flatnonzero(mine & filled):
                    inp.problem(i, item, frame[item].iloc[i], f"item of {other.id}, not of "
                                f"this row's instrument {inst.id}", VALUE_IGNORED)


def _report_block(inp: _Input, inst: Instrument, block, positions: np.ndarray,
                  ages: np.ndarray) -> None:
    """Off-scale cells of a scored block, and ages outside the instrument's range."""
    if inp.report is None:
        return
    cells = block.cells
    if len(cells.rows):
        rule = allowed_text(inst)
        for r, c, v in zip(cells.rows, cells.cols, cells.values, strict=True):
            inp.problem(positions[r], inst.item_ids[c], v, rule, SCORE_INVALIDATED)
    outside = np.flatnonzero((ages < inst.age_min) | (ages > inst.age_max))
    for r in outside:
        if ages[r] < 0:
            continue  # reported as before birth
        inp.problem(positions[r], C.DATE, f"age {ages[r]:g} months",
                    f"age outside {inst.id}'s range of {inst.age_min}-{inst.age_max} months",
                    NOT_CLASSIFIED, raw_value=False)


def _unscored_rows(frame: pd.DataFrame, dates: pd.Series, ages: np.ndarray) -> pd.DataFrame:
    """One placeholder row per assessment whose instrument is unknown."""
    m = len(frame)
    out = empty_scores(m)
    if C.ASSESSMENT_ID in frame.columns:
        out[C.ASSESSMENT_ID] = frame[C.ASSESSMENT_ID].to_numpy()
    if C.CHILD_ID in frame.columns:
        out[C.CHILD_ID] = frame[C.CHILD_ID].to_numpy()
    names = (frame[C.INSTRUMENT].astype("string").fillna("").to_numpy()
             if C.INSTRUMENT in frame.columns else np.full(m, ""))
    out[C.INSTRUMENT] = names
    out[C.DATE] = dates.to_numpy()
    out[C.AGE_MONTHS] = ages
    out[C.VALID] = False
    out[C.INVALID_REASON] = [f"unknown instrument {x!r}" if x else "no instrument given"
                             for x in names]
    out[C.UNCLASSIFIED_REASON] = N.UNCLASSIFIED_TEXT[N.UNCLASSIFIED_INVALID]
    return out


def _in_input_order(pieces: list[tuple[np.ndarray, pd.DataFrame, int]]) -> pd.DataFrame:
    """The pieces (row positions, tidy rows, scores per row) back in input
    order: assessment-major, each assessment's scores together."""
    if not pieces:
        return empty_scores()
    if len(pieces) == 1:
        table = pieces[0][1]
        for col in CATEGORICAL_COLUMNS:  # a table of unknown instruments only
            if not isinstance(table[col].dtype, pd.CategoricalDtype):
                table[col] = table[col].astype("category")
        return table
    order_key = np.concatenate([np.repeat(idx, s) for idx, _, s in pieces])
    combined = pd.concat([t for _, t, _ in pieces], ignore_index=True)
    for col in CATEGORICAL_COLUMNS:
        combined[col] = combined[col].astype("category")
    return combined.iloc[np.argsort(order_key, kind="stable")].reset_index(drop=True)


# ---------------------------------------------------------------------------
# the entry point
# ---------------------------------------------------------------------------
def score_assessments(assessments: pd.DataFrame, instrument: Instrument | str | None = None, *,
                      children: pd.DataFrame | None = None,
                      report: ValidationReport | None = None,
                      source: str = "assessments.csv",
                      search_dirs: tuple = ()) -> pd.DataFrame:
    """Score a wide item table into the tidy score table.

    Parameters
    ----------
    assessments : DataFrame, one row per assessment: ``assessment_id``,
        ``child_id``, ``date`` (ISO), optionally ``instrument`` and
        ``respondent``, and one column per item id. Never mutated.
    instrument : Instrument, shipped id or path to a definition file. When
        None, each row's ``instrument`` column says which one scores it.
    children : optional table with ``child_id`` and ``date_of_birth`` for
        age at assessment; without it an ``age_months`` column is used if present.
    report : optional ValidationReport that collects every input problem with
        file, row, column, value and rule.
    source : the file name shown in problems.
    search_dirs : folders searched for clinic definition files by id.

    Returns
    -------
    DataFrame
        One row per assessment x score, in input order, columns
        :data:`sensoryprofile.columns.SCORE_COLUMNS`: ``raw`` (NaN when
        invalid), ``min_possible``/``max_possible``, item counts,
        ``prorated``, ``valid`` and ``invalid_reason``, ``age_months``,
        ``norm_band``, behaviour-oriented ``z`` and ``percentile`` (mean/SD
        norms), ``classification`` with its ordinal ``level`` (-2..2), and
        ``unclassified_reason`` when there is none.

    Examples
    --------
    >>> import pandas as pd
    >>> row = {"assessment_id": "A1", "child_id": "C1", "age_months": 60}
    >>> row.update({f"dc_{i:03d}": 3 for i in range(1, 81)})
    >>> scores = score_assessments(pd.DataFrame([row]), "demo-child")
    >>> scores.loc[scores.score == "seeking", ["raw", "valid"]].to_dict("records")
    [{'raw': 45.0, 'valid': True}]
    """
    if not isinstance(assessments, pd.DataFrame):
        raise UsageError("`assessments` must be a pandas DataFrame, but "
                         f"{type(assessments).__name__} was passed")
    frame = assessments  # read-only from here on
    inp = _Input(frame=frame, rows=row_numbers(frame), report=report, source=source,
                 keys=RowKeys(frame[C.ASSESSMENT_ID]
                              if C.ASSESSMENT_ID in frame.columns else None))
    used = _row_instruments(inp, instrument, search_dirs)
    _check_columns(inp, used, explicit=instrument is not None, search_dirs=search_dirs)
    dates = _dates(inp)
    ages = _ages(inp, dates, children)
    sexes = _sexes(inp, children, used)
    row_problem = np.zeros(inp.n, dtype=bool)
    row_text = np.full(inp.n, None, dtype=object)
    if instrument is not None:
        _foreign_rows(inp, used.instruments[0], row_problem, row_text)
    ids = _text_ids(frame)
    _duplicate_ids(inp, row_problem, row_text, ids)
    if instrument is None:
        _stray_values(inp, used)

    pieces: list[tuple[np.ndarray, pd.DataFrame, int]] = []
    for k, inst in enumerate(used.instruments):  # a loop over instruments, not rows
        mask = (used.codes == k) & ~used.unknown
        if inst is None or not mask.any():
            continue
        positions = np.flatnonzero(mask)
        if mask.all():  # one instrument: no copies of the row arrays
            block = score_block(frame, inst, ages=ages, dates=dates.to_numpy(),
                                row_problem=row_problem, row_text=row_text, ids=ids,
                                sexes=sexes)
        else:
            block = score_block(frame[mask], inst, ages=ages[mask], dates=dates[mask].to_numpy(),
                                row_problem=row_problem[mask], row_text=row_text[mask],
                                ids=None if ids is None else ids[mask],
                                sexes=None if sexes is None else sexes[mask])
        _report_block(inp, inst, block, positions, ages[mask])
        pieces.append((positions, block.tidy, len(inst.scores)))
    if used.unknown.any():
        idx = np.flatnonzero(used.unknown)
        pieces.append((idx, _unscored_rows(frame.iloc[idx], dates.iloc[idx], ages[idx]), 1))
    return _in_input_order(pieces)
