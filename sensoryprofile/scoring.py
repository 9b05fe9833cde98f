"""Responses -> raw quadrant and section scores, validity, norms, classification.

Two layers:

* :func:`score_responses` is the array core: an ``(n_assessments, n_items)``
  response array in, :class:`WideScores` (``(n_assessments, n_scores)``
  arrays) out. Item-by-score key matrices and array arithmetic; no Python loop
  over assessments. Callers who need only the numbers pay only for this.
* :func:`score_assessments` takes a wide item table (one row per assessment,
  one column per item id), validates the cells, scores, norm-references and
  returns the tidy table: one row per assessment x score (see
  :data:`sensoryprofile.columns.SCORE_COLUMNS`).

Nothing is dropped: an invalid score keeps its row, with the reason, and is
never classified. Problems with the input are added to a
:class:`~sensoryprofile.validation.ValidationReport` when one is passed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from sensoryprofile import columns as C
from sensoryprofile import norms as N
from sensoryprofile.dates import date_problem, parse_dates
from sensoryprofile.errors import InstrumentError, UsageError
from sensoryprofile.instruments import Instrument, load_instrument
from sensoryprofile.validation import (
    COLUMN_IGNORED,
    NOT_CLASSIFIED,
    SCORE_INVALIDATED,
    VALUE_IGNORED,
    ValidationReport,
)

# why a score is invalid (codes in arrays)
VALID_CODE = 0
TOO_MANY_MISSING = 1
OFF_SCALE = 2
ROW_PROBLEM = 3  # row-level: texts supplied by the caller

OFF_SCALE_TEXT = "an item value is not on the response scale (see the validation report)"



@dataclass
class WideScores:
    """Scores of ``n`` assessments on one instrument, as ``(n, n_scores)`` arrays.

    ``raw`` is NaN where a score is invalid. ``invalid_code`` is 0 when valid,
    else one of TOO_MANY_MISSING, OFF_SCALE, ROW_PROBLEM (see ``row_reason``).
    The norm fields (``band``, ``z``, ``percentile``, ``level``,
    ``unclassified``) are filled by :meth:`apply_norms`.
    """

    instrument: Instrument
    raw: np.ndarray
    n_answered: np.ndarray
    n_missing: np.ndarray
    n_not_applicable: np.ndarray
    n_off_scale: np.ndarray
    prorated: np.ndarray
    valid: np.ndarray
    invalid_code: np.ndarray
    row_reason: np.ndarray | None = None  # (n,) object: text of a row-level problem
    ages: np.ndarray | None = None
    band: np.ndarray | None = None
    z: np.ndarray | None = None
    percentile: np.ndarray | None = None
    level: np.ndarray | None = None
    unclassified: np.ndarray | None = None
    extra: dict = field(default_factory=dict)

    @property
    def n(self) -> int:
        return self.raw.shape[0]

    def invalidate_rows(self, rows: np.ndarray, reasons) -> None:
        """Mark every score of the given rows invalid with a row-level reason."""
        rows = np.asarray(rows, dtype=bool)
        if not rows.any():
            return
        if self.row_reason is None:
            self.row_reason = np.full(self.n, None, dtype=object)
        reasons = np.broadcast_to(np.asarray(reasons, dtype=object), (self.n,))
        first = rows & (self.row_reason == None)  # noqa: E711 - elementwise
        self.row_reason[first] = reasons[first]
        self.valid[rows] = False
        self.invalid_code[rows] = ROW_PROBLEM
        self.raw[rows] = np.nan
        self.prorated[rows] = False

    def apply_norms(self, ages) -> WideScores:
        """Norm-reference the valid scores for ages in months at assessment."""
        inst = self.instrument
        self.ages = np.asarray(ages, dtype=float)
        result = N.apply_norms(self.raw, self.valid, self.ages, inst.compiled,
                               inst.age_min, inst.age_max, inst.z_cuts)
        self.band, self.z, self.percentile = result["band"], result["z"], result["percentile"]
        self.level, self.unclassified = result["level"], result["unclassified"]
        return self


# ---------------------------------------------------------------------------
# response codes: every cell becomes a small integer once, at the edge
# ---------------------------------------------------------------------------
BLANK = 0      # code of a blank (missing) cell
OFF = 1        # code of a cell whose value is not on the scale
FIRST_VALUE = 2  # code of the scale's k-th allowed value is FIRST_VALUE + k


@dataclass(frozen=True)
class ResponseCodec:
    """Maps cells to int8 codes and codes to what they contribute.

    ``allowed`` are the scale's numbers, ascending. ``contrib[code]`` is what a
    cell adds to a raw score; ``packed[code]`` packs the counts answered,
    missing, not-applicable and off-scale as ``a + B*m + B^2*na + B^3*off`` so
    that one matrix product with the key gives all four per score (exact:
    ``B`` exceeds any score's item count and the total stays within the
    float's integer range).
    """

    allowed: np.ndarray
    contrib: np.ndarray
    packed: np.ndarray
    base: float
    int_lut: np.ndarray | None  # value - int_lo -> code, for integer scales
    int_lo: int

    @classmethod
    def build(cls, inst: Instrument) -> ResponseCodec:
        scale = inst.response_scale
        allowed = np.array(scale.allowed_values, dtype=float)
        is_na = np.isin(allowed, scale.na_codes)
        counts_as = scale.na_counts_as
        value_contrib = np.where(is_na, 0.0 if counts_as is None else counts_as, allowed)
        integral = bool(np.all(value_contrib == np.round(value_contrib)))
        base = float(int(inst.compiled.n_items.max(initial=0)) + 1)
        dtype = np.float32 if (integral and base**4 <= 2**24) else np.float64
        contrib = np.concatenate([[0.0, 0.0], value_contrib]).astype(dtype)
        packed = np.concatenate([[base, base**3], np.where(is_na, base**2, 1.0)]).astype(dtype)
        int_lut, int_lo = None, 0
        if np.all(allowed == np.round(allowed)) and allowed.max() - allowed.min() < 120:
            int_lo = int(allowed.min()) - 1
            span = int(allowed.max()) - int_lo + 2
            int_lut = np.full(span, OFF, dtype=np.int8)
            int_lut[(allowed - int_lo).astype(int)] = FIRST_VALUE + np.arange(len(allowed))
        return cls(allowed=allowed, contrib=contrib, packed=packed, base=base,
                   int_lut=int_lut, int_lo=int_lo)

    def encode(self, values: np.ndarray) -> np.ndarray:
        """int8 codes of numeric cells (NaN = blank); any shape."""
        values = np.asarray(values)
        if self.int_lut is not None:
            hi = len(self.int_lut) - 1
            if values.dtype.kind in "iu":
                idx = np.clip(values, self.int_lo, self.int_lo + hi) - self.int_lo
                return self.int_lut[idx]
            blank = np.isnan(values)
            clipped = np.clip(values, self.int_lo, self.int_lo + hi)
            clipped[blank] = self.int_lo
            as_int = clipped.astype(np.intp)
            codes = self.int_lut[as_int - self.int_lo]
            codes[as_int != values] = OFF  # fractions, out of range (and NaN: reset below)
            codes[blank] = BLANK
            return codes
        values = values.astype(float)
        pos = np.clip(np.searchsorted(self.allowed, values), 0, len(self.allowed) - 1)
        codes = np.where(self.allowed[pos] == values, FIRST_VALUE + pos, OFF).astype(np.int8)
        codes[np.isnan(values)] = BLANK
        return codes


def codec_for(inst: Instrument) -> ResponseCodec:
    """The instrument's codec, built once and cached on the (immutable) instrument."""
    codec = inst.__dict__.get("_codec")
    if codec is None:
        codec = inst.__dict__["_codec"] = ResponseCodec.build(inst)
    return codec


def score_codes(codes: np.ndarray, instrument: Instrument) -> WideScores:
    """The array core: score an ``(n, n_items)`` int8 code array.

    Two matrix products with the item-by-score key: one for the sums, one for
    the packed counts. See :func:`score_responses` for the rules.
    """
    inst = instrument
    comp = inst.compiled
    codec = codec_for(inst)
    key = comp.key.astype(codec.contrib.dtype)
    # products of a column-major code array come out column-major: make them
    # row-major once, so every later step (and the tidy ravel) runs contiguous
    sums = np.ascontiguousarray(codec.contrib[codes] @ key, dtype=np.float64)
    packed = np.ascontiguousarray(codec.packed[codes] @ key, dtype=np.float64)
    b = codec.base
    n, s = sums.shape
    # Work on flat views with per-score constants tiled to full length: numpy
    # broadcasting a (s,) row over (n, s) runs an inner loop of only s elements.
    packed = packed.ravel()
    n_off = np.floor(packed / b**3)
    packed -= n_off * b**3
    n_na = np.floor(packed / b**2)
    packed -= n_na * b**2
    n_missing = np.floor(packed / b)
    packed -= n_missing * b
    n_answered = packed
    n_items = np.tile(comp.n_items, n)
    counted = n_answered + n_na if inst.response_scale.na_counts_as is not None else n_answered
    uncounted = n_items - counted
    uncounted -= n_off
    valid = uncounted <= np.tile(comp.max_missing, n)
    valid &= n_off == 0
    valid &= counted > 0
    prorated = uncounted > 0
    prorated &= valid
    prorated &= np.tile(comp.prorate, n)
    raw = sums.ravel()
    if prorated.any():
        with np.errstate(divide="ignore", invalid="ignore"):
            raw[prorated] *= n_items[prorated] / counted[prorated]
    raw[~valid] = np.nan
    code = np.full(n * s, VALID_CODE, dtype=np.int8)
    code[~valid] = TOO_MANY_MISSING
    code[n_off > 0] = OFF_SCALE
    shape = (n, s)
    return WideScores(
        instrument=inst, raw=raw.reshape(shape),
        n_answered=n_answered.astype(np.int16).reshape(shape),
        n_missing=n_missing.astype(np.int16).reshape(shape),
        n_not_applicable=n_na.astype(np.int16).reshape(shape),
        n_off_scale=n_off.astype(np.int16).reshape(shape), prorated=prorated.reshape(shape),
        valid=valid.reshape(shape), invalid_code=code.reshape(shape),
    )


def score_responses(values: np.ndarray, instrument: Instrument | str) -> WideScores:
    """Score a response array.

    Parameters
    ----------
    values : (n, n_items) array of coded responses in ``instrument.item_ids``
        order; NaN for a blank (missing) answer. A value not on the response
        scale makes every score containing that item invalid.
    instrument : Instrument or shipped id.

    Returns
    -------
    WideScores

    Notes
    -----
    For score *j* with item set *I*: ``answered`` counts items with a real
    answer, ``not_applicable`` items coded "does not apply", ``missing`` blank
    items. When "does not apply" counts as a number it is added to the sum and
    counts as answered for the missing-data rule; when it is excluded it is
    treated like a blank. With ``u`` uncounted items and ``max_missing`` *m*:
    ``u > m`` makes the score invalid; otherwise ``raw = sum`` or, prorated,
    ``raw = sum x |I| / counted``.
    """
    inst = load_instrument(instrument) if not isinstance(instrument, Instrument) else instrument
    values = np.asarray(values, dtype=float)
    if values.ndim != 2 or values.shape[1] != len(inst.item_ids):
        raise UsageError(f"`values` must have shape (n, {len(inst.item_ids)}) for "
                         f"{inst.id}, but {values.shape} was passed")
    codec = codec_for(inst)
    codes = np.empty(values.shape, dtype=np.int8, order="F")
    for j in range(values.shape[1]):  # column by column: no array-sized temporaries
        codes[:, j] = codec.encode(values[:, j])
    return score_codes(codes, inst)


# ---------------------------------------------------------------------------
# reading item cells
# ---------------------------------------------------------------------------
@dataclass
class CellProblems:
    """Off-scale cells found by :func:`encode_item_columns` (rows, cols, raw values)."""

    rows: np.ndarray
    cols: np.ndarray
    values: list


def _allowed_text(inst: Instrument) -> str:
    nums = ", ".join(f"{v:g}" for v in inst.response_scale.allowed_values)
    return f"not on {inst.id}'s response scale; allowed: {nums} (or their labels)"


def encode_item_columns(frame: pd.DataFrame, instrument: Instrument) -> tuple[
        np.ndarray, CellProblems]:
    """The item columns of ``frame`` as int8 response codes, ``(n, n_items)``
    in ``instrument.item_ids`` order (Fortran order: one column per item).

    Numbers stored as text, surrounding spaces and response labels (any case)
    are read. Columns absent from ``frame`` are all blank. Off-scale cells get
    the OFF code and are listed in the returned :class:`CellProblems`.
    Loops over item columns only, never over rows.
    """
    n = len(frame)
    codec = codec_for(instrument)
    labels = {label.strip().casefold(): number
              for label, number in instrument.response_scale.values.items()}
    item_ids = instrument.item_ids
    codes = np.full((n, len(item_ids)), BLANK, dtype=np.int8, order="F")
    for j, item in enumerate(item_ids):
        if item not in frame.columns:
            continue
        col = frame[item]
        if pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_bool_dtype(col):
            arr = col.to_numpy()
            if arr.dtype == object or pd.api.types.is_extension_array_dtype(col):
                arr = col.to_numpy(dtype=float, na_value=np.nan)
            codes[:, j] = codec.encode(arr)
            continue
        text = col.astype("string").str.strip()
        text = text.mask(text == "")
        number = pd.to_numeric(text, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
        unparsed = text.notna().to_numpy() & np.isnan(number)
        if unparsed.any():
            mapped = text[unparsed].str.casefold().map(labels)
            number[unparsed] = mapped.to_numpy(dtype=float, na_value=np.nan)
        column_codes = codec.encode(number)
        column_codes[unparsed & np.isnan(number)] = OFF
        codes[:, j] = column_codes
    rows_list, cols_list = [], []
    for j in range(len(item_ids)):
        off_rows = np.flatnonzero(codes[:, j] == OFF)
        if len(off_rows):
            rows_list.append(off_rows)
            cols_list.append(np.full(len(off_rows), j))
    rows = np.concatenate(rows_list) if rows_list else np.zeros(0, dtype=np.intp)
    cols = np.concatenate(cols_list) if cols_list else np.zeros(0, dtype=np.intp)
    order = np.lexsort((cols, rows))  # report in reading order: by row, then column
    rows, cols = rows[order], cols[order]
    shown = [frame[item_ids[c]].iloc[r] for r, c in zip(rows, cols, strict=True)]
    return codes, CellProblems(rows=rows, cols=cols, values=shown)


# ---------------------------------------------------------------------------
# the tidy table
# ---------------------------------------------------------------------------
def _categorical(codes: np.ndarray, categories) -> pd.Categorical:
    """A categorical from integer codes (-1 = missing); repeated category texts merge."""
    categories = list(categories)
    unique = list(dict.fromkeys(categories))
    if len(unique) != len(categories):
        remap = np.array([unique.index(c) for c in categories] + [-1])
        codes = remap[codes]  # -1 indexes the trailing -1
    return pd.Categorical.from_codes(codes, categories=pd.Index(unique, dtype=object),
                                     validate=False)


def _unique_texts(texts: list[str]) -> tuple[list[str], np.ndarray]:
    """Distinct texts, and for each input text the index of its distinct copy."""
    unique = list(dict.fromkeys(texts))
    return unique, np.array([unique.index(t) for t in texts], dtype=np.int32)


class _RowKeys:
    """``assessment_id=...`` labels for problem rows, made only when a problem
    is reported (not for every row of a large, clean file)."""

    def __init__(self, ids):
        self.ids = ids

    def __getitem__(self, i):
        if isinstance(i, np.ndarray):
            return _RowKeys(None if self.ids is None else self.ids[i])
        if self.ids is None or pd.isna(self.ids[i]):
            return None
        return f"{C.ASSESSMENT_ID}={self.ids[i]}"


def _respondent_column(meta: pd.DataFrame, inst: Instrument, s: int) -> pd.Categorical:
    if C.RESPONDENT not in meta.columns:
        return _categorical(np.zeros(len(meta) * s, dtype=np.int8), [inst.respondent])
    codes, uniques = pd.factorize(meta[C.RESPONDENT].to_numpy())
    return _categorical(np.repeat(codes, s), list(uniques))


def _row_numbers(frame: pd.DataFrame) -> np.ndarray:
    if C.SOURCE_ROW in frame.columns:
        return frame[C.SOURCE_ROW].to_numpy()
    return np.arange(len(frame)) + 2  # header is row 1


def tidy_scores(wide: WideScores, meta: pd.DataFrame) -> pd.DataFrame:
    """Reshape :class:`WideScores` to the tidy table, assessment-major.

    ``meta`` holds one row per assessment with assessment_id, child_id, date
    and respondent (any may be missing). Columns: :data:`columns.SCORE_COLUMNS`.
    """
    inst = wide.instrument
    comp = inst.compiled
    n, s = wide.raw.shape
    rep = np.repeat  # row-level values, one per score
    tile = np.tile   # score-level values, one per assessment

    def meta_col(name, dtype=object):
        if name in meta.columns:
            values = rep(meta[name].to_numpy(), s)
        else:
            values = np.full(n * s, None if dtype is object else np.nan, dtype=dtype)
        # object columns stay object: inferring a string dtype re-checks every cell
        return pd.Series(values, dtype=object, copy=False) if dtype is object else values

    score_codes = tile(np.arange(s, dtype=np.int16), n)
    kinds = [sc.kind for sc in inst.scores]
    kind_cats = ["quadrant", "section", "composite"]

    # invalid reasons: per-score "too many missing", off-scale, then row texts
    reason_texts = [f"more than {sc.max_missing} of its {len(sc.items)} items missing or "
                    f"not applicable" if inst.response_scale.na_counts_as is None else
                    f"more than {sc.max_missing} of its {len(sc.items)} items missing"
                    for sc in inst.scores]
    reason_texts, per_score = _unique_texts(reason_texts)
    reason_texts.append(OFF_SCALE_TEXT)
    reason_code = np.full((n, s), -1, dtype=np.int32)
    code = wide.invalid_code
    too_many = code == TOO_MANY_MISSING
    if too_many.any():
        reason_code[too_many] = np.broadcast_to(per_score, (n, s))[too_many]
    reason_code[code == OFF_SCALE] = len(reason_texts) - 1
    if wide.row_reason is not None and (code == ROW_PROBLEM).any():
        texts, inverse = np.unique(wide.row_reason[wide.row_reason != None].astype(str),  # noqa: E711
                                   return_inverse=True)
        row_codes = np.full(n, -1, dtype=np.int32)
        row_codes[wide.row_reason != None] = inverse + len(reason_texts)  # noqa: E711
        reason_texts.extend(texts.tolist())
        rows_with = code == ROW_PROBLEM
        reason_code[rows_with] = np.broadcast_to(row_codes[:, None], (n, s))[rows_with]

    if wide.level is None:
        wide.apply_norms(np.full(n, np.nan))
    band_cats = list(comp.band_labels)
    level = wide.level.ravel()
    classified = level != N.NO_LEVEL
    class_codes = np.where(classified, level.astype(np.int16) + 2, -1)
    unclass_codes = wide.unclassified.ravel().astype(np.int16) - 1  # 0 (classified) -> -1
    unclass_texts = [N.UNCLASSIFIED_TEXT[k] for k in sorted(N.UNCLASSIFIED_TEXT)]
    unclass_texts[N.UNCLASSIFIED_OUT_OF_RANGE - 1] = (
        f"age outside {inst.id}'s age range ({inst.age_min}-{inst.age_max} months)")

    data = {
        C.ASSESSMENT_ID: meta_col(C.ASSESSMENT_ID),
        C.CHILD_ID: meta_col(C.CHILD_ID),
        C.INSTRUMENT: _categorical(np.zeros(n * s, dtype=np.int8), [inst.id]),
        C.DATE: meta_col(C.DATE, "datetime64[ns]") if C.DATE in meta.columns else np.full(
            n * s, np.datetime64("NaT"), dtype="datetime64[ns]"),
        C.RESPONDENT: _respondent_column(meta, inst, s),
        C.SCORE: _categorical(score_codes, list(inst.score_ids)),
        C.SCORE_NAME: _categorical(score_codes, [sc.name for sc in inst.scores]),
        C.KIND: _categorical(tile(np.array([kind_cats.index(k) for k in kinds],
                                           dtype=np.int8), n), kind_cats),
        C.RAW: wide.raw.ravel(),
        C.MIN_POSSIBLE: tile(comp.min_possible, n),
        C.MAX_POSSIBLE: tile(comp.max_possible, n),
        C.N_ITEMS: tile(comp.n_items.astype(np.int16), n),
        C.N_ANSWERED: wide.n_answered.ravel(),
        C.N_MISSING: wide.n_missing.ravel(),
        C.N_NOT_APPLICABLE: wide.n_not_applicable.ravel(),
        C.N_OFF_SCALE: wide.n_off_scale.ravel(),
        C.PRORATED: wide.prorated.ravel(),
        C.VALID: wide.valid.ravel(),
        C.INVALID_REASON: _categorical(reason_code.ravel(), reason_texts),
        C.AGE_MONTHS: rep(wide.ages, s),
        C.NORM_BAND: _categorical(rep(wide.band, s), band_cats),
        C.Z: wide.z.ravel(),
        C.PERCENTILE: wide.percentile.ravel(),
        C.CLASSIFICATION: _categorical(class_codes, inst.label_list),
        C.LEVEL: pd.array(np.where(classified, level, 0), dtype="Int8").copy(),
        C.UNCLASSIFIED_REASON: _categorical(unclass_codes, unclass_texts),
    }
    data[C.LEVEL][~classified] = pd.NA
    return pd.DataFrame(data, copy=False)


# ---------------------------------------------------------------------------
# the table-level entry point
# ---------------------------------------------------------------------------
def _ages_for(frame: pd.DataFrame, dates: pd.Series, children: pd.DataFrame | None,
              report: ValidationReport | None, source: str, rows: np.ndarray,
              keys: np.ndarray) -> np.ndarray:
    """Age in months at each assessment: from date of birth when ``children``
    is given, else from an ``age_months`` column (de-identified extracts)."""
    n = len(frame)
    if children is not None and C.DATE_OF_BIRTH in children.columns:
        dob_by_child = children.drop_duplicates(C.CHILD_ID).set_index(C.CHILD_ID)[
            C.DATE_OF_BIRTH]
        dob_parsed, _ = parse_dates(dob_by_child)
        if C.CHILD_ID in frame.columns:
            dob = pd.Series(dob_parsed.reindex(frame[C.CHILD_ID].to_numpy()).to_numpy(),
                            index=frame.index, dtype="datetime64[ns]")
        else:
            dob = pd.Series(pd.NaT, index=frame.index, dtype="datetime64[ns]")
        ages = N.age_in_months(dob.to_numpy(), dates.to_numpy())
        if C.AGE_MONTHS in frame.columns:  # an extract gives ages where it has no birth dates
            given = pd.to_numeric(frame[C.AGE_MONTHS], errors="coerce").to_numpy(dtype=float)
            ages = np.where(np.isnan(ages), given, ages)
        if report is not None:
            before = np.flatnonzero(ages < 0)
            for i in before:
                report.add(file=source, row=rows[i], column=C.DATE, value=frame[C.DATE].iloc[i],
                           rule="assessment dated before the child's date of birth",
                           action=NOT_CLASSIFIED, table="assessments", key=keys[i])
        return ages
    if C.AGE_MONTHS in frame.columns:
        return pd.to_numeric(frame[C.AGE_MONTHS], errors="coerce").to_numpy(dtype=float)
    return np.full(n, np.nan)


def _score_block(frame: pd.DataFrame, inst: Instrument, *, ages: np.ndarray,
                 row_problem: np.ndarray, row_text: np.ndarray,
                 report: ValidationReport | None, source: str, rows: np.ndarray,
                 keys: np.ndarray) -> tuple[WideScores, pd.DataFrame]:
    codes, cells = encode_item_columns(frame, inst)
    if report is not None and len(cells.rows):
        rule = _allowed_text(inst)
        for r, c, v in zip(cells.rows, cells.cols, cells.values, strict=True):
            report.add(file=source, row=rows[r], column=inst.item_ids[c], value=v, rule=rule,
                       action=SCORE_INVALIDATED, table="assessments", key=keys[r])
    wide = score_codes(codes, inst)
    wide.invalidate_rows(row_problem, row_text)
    wide.apply_norms(ages)
    if report is not None:
        outside = np.flatnonzero((ages < inst.age_min) | (ages > inst.age_max))
        for i in outside:
            if ages[i] < 0:
                continue  # reported as before birth
            report.add(file=source, row=rows[i], column=C.DATE, value=f"age {ages[i]:g} months",
                       rule=f"age outside {inst.id}'s range of {inst.age_min}-{inst.age_max} "
                            "months", action=NOT_CLASSIFIED, table="assessments",
                       key=keys[i], raw_value=False)
    meta_cols = [c for c in (C.ASSESSMENT_ID, C.CHILD_ID, C.RESPONDENT) if c in frame.columns]
    meta = frame[meta_cols].copy() if meta_cols else pd.DataFrame(index=frame.index)
    # a blank respondent is the instrument's own respondent (cleaned on the few
    # distinct values, not on every row)
    if C.RESPONDENT in meta.columns:
        codes_r, values = pd.factorize(meta[C.RESPONDENT])
        clean = np.array([str(v).strip() or inst.respondent for v in values]
                         + [inst.respondent], dtype=object)
        meta[C.RESPONDENT] = clean[codes_r]
    else:
        meta[C.RESPONDENT] = inst.respondent
    return wide, meta


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
    n = len(frame)
    rows = _row_numbers(frame)
    keys = _RowKeys(frame[C.ASSESSMENT_ID].to_numpy() if C.ASSESSMENT_ID in frame.columns
                    else None)

    # instruments per row
    if instrument is not None:
        inst_codes = np.zeros(n, dtype=np.intp)
        instruments = [load_instrument(instrument, search_dirs=search_dirs)]
        unknown = np.zeros(n, dtype=bool)
    else:
        if C.INSTRUMENT not in frame.columns:
            raise UsageError(f"{source}: no `instrument` column and no instrument given; "
                             "pass --instrument ID_OR_FILE or add an `instrument` column")
        names = frame[C.INSTRUMENT].astype("string").str.strip()
        codes, uniques = pd.factorize(names)
        instruments, unknown = [], np.zeros(n, dtype=bool)
        inst_codes = codes.copy()
        for k, name in enumerate(uniques):
            try:
                instruments.append(load_instrument(str(name), search_dirs=search_dirs))
            except InstrumentError as exc:
                instruments.append(None)
                unknown[codes == k] = True
                if report is not None:
                    for i in np.flatnonzero(codes == k):
                        report.add(file=source, row=rows[i], column=C.INSTRUMENT, value=name,
                                   rule=_unknown_instrument_rule(exc),
                                   action=SCORE_INVALIDATED, table="assessments", key=keys[i])
        blank_inst = codes < 0
        if blank_inst.any() and report is not None:
            for i in np.flatnonzero(blank_inst):
                report.add(file=source, row=rows[i], column=C.INSTRUMENT, value=None,
                           rule="instrument is required", action=SCORE_INVALIDATED,
                           table="assessments", key=keys[i])
        unknown |= blank_inst

    # columns that belong to no instrument in use
    known_items = set().union(*(set(i.item_ids) for i in instruments if i is not None))
    meta_names = {C.ASSESSMENT_ID, C.CHILD_ID, C.INSTRUMENT, C.DATE, C.RESPONDENT,
                  C.AGE_MONTHS, C.SOURCE_ROW, "notes", "note"}
    if report is not None:
        all_items = set(known_items)
        if instrument is None:  # a column of any shipped instrument is not foreign
            from sensoryprofile.instruments import list_instruments
            for shipped in list_instruments():
                all_items.update(shipped.item_ids)
        for col in frame.columns:
            if col not in meta_names and col not in all_items:
                report.add(file=source, row=1, column=str(col), value="",
                           rule="column belongs to no known instrument",
                           action=COLUMN_IGNORED, table="assessments", raw_value=False)
        for inst in instruments:
            if inst is None:
                continue
            absent = [i for i in inst.item_ids if i not in frame.columns]
            if absent:
                shown = ", ".join(absent[:5]) + (f" and {len(absent) - 5} more" if len(
                    absent) > 5 else "")
                report.add(file=source, row=1, column=shown, value="",
                           rule=f"{len(absent)} item column(s) of {inst.id} are missing from "
                                "the file; they are read as blank",
                           action=SCORE_INVALIDATED, table="assessments", raw_value=False)

    # dates
    if C.DATE in frame.columns:
        dates, bad_date = parse_dates(frame[C.DATE])
        if report is not None:
            for i in np.flatnonzero(bad_date):
                report.add(file=source, row=rows[i], column=C.DATE, value=frame[C.DATE].iloc[i],
                           rule=date_problem(frame[C.DATE].iloc[i]), action=NOT_CLASSIFIED,
                           table="assessments", key=keys[i])
    else:
        dates = pd.Series(pd.NaT, index=frame.index, dtype="datetime64[ns]")
    ages = _ages_for(frame, dates, children, report, source, rows, keys)

    # duplicate assessment ids: every repeat after the first is invalid
    row_problem = np.zeros(n, dtype=bool)
    row_text = np.full(n, None, dtype=object)
    if instrument is not None and C.INSTRUMENT in frame.columns:
        # an explicit instrument never silently re-scores a row written for another
        codes_i, names = pd.factorize(frame[C.INSTRUMENT])  # few distinct values: check those
        clean = [str(v).strip() for v in names]
        foreign = np.array([v not in ("", instruments[0].id) for v in clean] + [False])
        other = foreign[codes_i]  # code -1 (blank) indexes the trailing False
        for i in np.flatnonzero(other):
            text = (f"the row's instrument is {clean[codes_i[i]]!r}, not {instruments[0].id!r}, "
                    "the instrument it was asked to be scored with")
            row_problem[i], row_text[i] = True, text
            if report is not None:
                report.add(file=source, row=rows[i], column=C.INSTRUMENT,
                           value=frame[C.INSTRUMENT].iloc[i], rule=text,
                           action=SCORE_INVALIDATED, table="assessments", key=keys[i])
    if C.ASSESSMENT_ID in frame.columns:
        ids = frame[C.ASSESSMENT_ID].astype("string")
        dup = ids.duplicated(keep="first").to_numpy() & ids.notna().to_numpy()
        if dup.any():
            first_row = pd.Series(rows, index=frame.index).groupby(ids.to_numpy()).transform(
                "first").to_numpy()
            for i in np.flatnonzero(dup):
                text = f"duplicate assessment_id (first on row {first_row[i]})"
                row_problem[i], row_text[i] = True, text
                if report is not None:
                    report.add(file=source, row=rows[i], column=C.ASSESSMENT_ID,
                               value=frame[C.ASSESSMENT_ID].iloc[i], rule=text,
                               action=SCORE_INVALIDATED, table="assessments", key=keys[i])

    # values in another instrument's columns, for rows of a known instrument
    if instrument is None and report is not None and len(instruments) > 1:
        for k, inst in enumerate(instruments):
            if inst is None:
                continue
            mine = inst_codes == k
            for other in instruments:
                if other is None or other is inst:
                    continue
                for item in other.item_ids:
                    if item in frame.columns and item not in inst.item_ids:
                        stray = mine & frame[item].notna().to_numpy() & (
                            frame[item].astype("string").str.strip() != "").fillna(
                            False).to_numpy()
                        for i in np.flatnonzero(stray):
                            report.add(file=source, row=rows[i], column=item,
                                       value=frame[item].iloc[i],
                                       rule=f"item of {other.id}, not of this row's instrument "
                                            f"{inst.id}", action=VALUE_IGNORED,
                                       table="assessments", key=keys[i])

    # score each instrument's rows (a loop over instruments, not rows)
    pieces: list[tuple[np.ndarray, pd.DataFrame]] = []
    for k, inst in enumerate(instruments):
        if inst is None:
            continue
        mask = (inst_codes == k) & ~unknown
        if not mask.any():
            continue
        sub = frame if mask.all() else frame[mask]
        wide, meta = _score_block(sub, inst, ages=ages[mask], row_problem=row_problem[mask],
                                  row_text=row_text[mask], report=report, source=source,
                                  rows=rows[mask], keys=keys[mask])
        meta = meta.assign(**{C.DATE: dates[mask].to_numpy()})
        tidy = tidy_scores(wide, meta)
        pieces.append((np.flatnonzero(mask), tidy, wide.raw.shape[1]))
    if unknown.any():
        idx = np.flatnonzero(unknown)
        tidy = _unscored_rows(frame.iloc[idx], dates.iloc[idx], ages[idx],
                              frame[C.INSTRUMENT].iloc[idx] if C.INSTRUMENT in frame.columns
                              else None)
        pieces.append((idx, tidy, 1))
    if not pieces:
        return _empty_scores()
    if len(pieces) == 1:
        return pieces[0][1]
    # restore input order: assessment-major, each assessment's scores together
    order_key = np.concatenate([np.repeat(idx, s) for idx, _, s in pieces])
    combined = pd.concat([t for _, t, _ in pieces], ignore_index=True)
    for col in (C.INSTRUMENT, C.SCORE, C.SCORE_NAME, C.KIND, C.CLASSIFICATION, C.NORM_BAND,
                C.INVALID_REASON, C.UNCLASSIFIED_REASON, C.RESPONDENT):
        combined[col] = combined[col].astype("category")
    return combined.iloc[np.argsort(order_key, kind="stable")].reset_index(drop=True)


def _unknown_instrument_rule(exc: InstrumentError) -> str:
    """The first line of the loader's message, which names the instrument."""
    return str(exc).splitlines()[0]


def _unscored_rows(frame, dates, ages, inst_names) -> pd.DataFrame:
    """One placeholder row per assessment whose instrument is unknown."""
    m = len(frame)
    out = _empty_scores(m)
    if C.ASSESSMENT_ID in frame.columns:
        out[C.ASSESSMENT_ID] = frame[C.ASSESSMENT_ID].to_numpy()
    if C.CHILD_ID in frame.columns:
        out[C.CHILD_ID] = frame[C.CHILD_ID].to_numpy()
    names = (inst_names.astype("string").fillna("").to_numpy() if inst_names is not None
             else np.full(m, ""))
    out[C.INSTRUMENT] = names
    out[C.DATE] = dates.to_numpy()
    out[C.AGE_MONTHS] = ages
    out[C.VALID] = False
    out[C.INVALID_REASON] = [f"unknown instrument {x!r}" if x else "no instrument given"
                             for x in names]
    out[C.UNCLASSIFIED_REASON] = N.UNCLASSIFIED_TEXT[N.UNCLASSIFIED_INVALID]
    return out


def _empty_scores(n: int = 0) -> pd.DataFrame:
    out = pd.DataFrame({c: pd.Series([None] * n, dtype=object) for c in C.SCORE_COLUMNS})
    for c in (C.RAW, C.MIN_POSSIBLE, C.MAX_POSSIBLE, C.AGE_MONTHS, C.Z, C.PERCENTILE):
        out[c] = np.full(n, np.nan)
    for c in (C.N_ITEMS, C.N_ANSWERED, C.N_MISSING, C.N_NOT_APPLICABLE, C.N_OFF_SCALE):
        out[c] = np.zeros(n, dtype=np.int16)
    out[C.PRORATED] = np.zeros(n, dtype=bool)
    out[C.VALID] = np.zeros(n, dtype=bool)
    out[C.DATE] = pd.Series(pd.NaT, index=range(n), dtype="datetime64[ns]")
    out[C.LEVEL] = pd.array([pd.NA] * n, dtype="Int8")
    return out

