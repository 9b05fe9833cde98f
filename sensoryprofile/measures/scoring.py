"""Response codes -> raw scores, validity, norms and classification: the
scoring core, for one instrument at a time.

* :func:`score_codes` / :func:`score_responses` are the array core: an
  ``(n_assessments, n_items)`` code or response array in,
  :class:`WideScores` (``(n_assessments, n_scores)`` arrays) out.
  Item-by-score key matrices and array arithmetic; no Python loop over
  assessments. Callers who need only the numbers pay only for this.
* :func:`score_block` scores a wide item table of one instrument's rows and
  :func:`tidy_scores` reshapes the result to the tidy table: one row per
  assessment x score (:data:`sensoryprofile.columns.SCORE_COLUMNS`).

Nothing is dropped: an invalid score keeps its row, with the reason, and is
never classified. Checking a whole assessments table (which instrument each
row is, dates, ages, duplicate ids) and reporting its problems is
:func:`sensoryprofile.data.assessments.score_assessments`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from sensoryprofile import columns as C
from sensoryprofile.errors import UsageError
from sensoryprofile.instruments import Instrument, load_instrument
from sensoryprofile.measures import norms as N
from sensoryprofile.measures.responses import CellProblems, codec_for, encode_item_columns

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


def _respondent_column(meta: pd.DataFrame, inst: Instrument, s: int) -> pd.Categorical:
    if C.RESPONDENT not in meta.columns:
        return _categorical(np.zeros(len(meta) * s, dtype=np.int8), [inst.respondent])
    codes, uniques = pd.factorize(meta[C.RESPONDENT].to_numpy())
    return _categorical(np.repeat(codes, s), list(uniques))


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

    score_index = tile(np.arange(s, dtype=np.int16), n)
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
        C.SCORE: _categorical(score_index, list(inst.score_ids)),
        C.SCORE_NAME: _categorical(score_index, [sc.name for sc in inst.scores]),
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
# one instrument's rows of a wide item table
# ---------------------------------------------------------------------------
@dataclass
class ScoredBlock:
    """What :func:`score_block` returns.

    ``wide`` the arrays, ``tidy`` the tidy table (assessment-major, in the
    block's row order), ``cells`` the off-scale cells (rows and columns of
    the block, in reading order).
    """

    wide: WideScores
    tidy: pd.DataFrame
    cells: CellProblems


def _meta(frame: pd.DataFrame, inst: Instrument, dates) -> pd.DataFrame:
    """assessment_id, child_id, respondent and date of each row; a blank
    respondent is the instrument's own (cleaned on the few distinct values,
    not on every row)."""
    meta_cols = [c for c in (C.ASSESSMENT_ID, C.CHILD_ID, C.RESPONDENT) if c in frame.columns]
    meta = frame[meta_cols].copy() if meta_cols else pd.DataFrame(index=frame.index)
    if C.RESPONDENT in meta.columns:
        codes_r, values = pd.factorize(meta[C.RESPONDENT])
        clean = np.array([str(v).strip() or inst.respondent for v in values]
                         + [inst.respondent], dtype=object)
        meta[C.RESPONDENT] = clean[codes_r]
    else:
        meta[C.RESPONDENT] = inst.respondent
    if dates is not None:
        meta[C.DATE] = np.asarray(dates, dtype="datetime64[ns]")
    return meta


def score_block(frame: pd.DataFrame, instrument: Instrument, *, ages, dates=None,
                row_problem=None, row_text=None) -> ScoredBlock:
    """Score the rows of a wide item table that all belong to ``instrument``.

    Parameters
    ----------
    frame : DataFrame, one row per assessment, one column per item id (absent
        item columns are blank); ``assessment_id``, ``child_id`` and
        ``respondent`` are carried into the tidy table when present.
    instrument : Instrument
    ages : (n,) age in months at each assessment (NaN unknown).
    dates : (n,) datetime64 dates of the assessments, optional.
    row_problem, row_text : (n,) bool and texts: rows whose every score is
        invalid for a reason found elsewhere (a duplicate id, ...), optional.

    Returns
    -------
    ScoredBlock
    """
    codes, cells = encode_item_columns(frame, instrument)
    wide = score_codes(codes, instrument)
    if row_problem is not None:
        wide.invalidate_rows(row_problem, row_text)
    wide.apply_norms(np.asarray(ages, dtype=float))
    return ScoredBlock(wide=wide, tidy=tidy_scores(wide, _meta(frame, instrument, dates)),
                       cells=cells)


def empty_scores(n: int = 0) -> pd.DataFrame:
    """An all-missing tidy score table of ``n`` rows (columns :data:`~sensoryprofile.columns.SCORE_COLUMNS`)."""
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

