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
from sensoryprofile.dates import arrow_text
from sensoryprofile.errors import UsageError
from sensoryprofile.instruments import Instrument, load_instrument
from sensoryprofile.instruments.schema import SCORE_KINDS
from sensoryprofile.measures import norms as N
from sensoryprofile.measures.chunks import CHUNK, chunks, run_blocks
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

    def apply_norms(self, ages, respondents=None, sexes=None) -> WideScores:
        """Norm-reference the valid scores for ages in months at assessment
        (and, where the form's norms are per respondent or sex, the
        respondents and sexes)."""
        inst = self.instrument
        self.ages = np.asarray(ages, dtype=float)
        result = N.apply_norms(self.raw, self.valid, self.ages, inst.compiled,
                               inst.age_min, inst.age_max, inst.scheme,
                               respondents=respondents, sexes=sexes,
                               form_respondents=inst.normed_respondents)
        self.band, self.z, self.percentile = result["band"], result["z"], result["percentile"]
        self.level, self.unclassified = result["level"], result["unclassified"]
        return self


def _filled(n: int, s: int, dtype, fill) -> np.ndarray:
    """A new ``(n * s,)`` array, ``fill(out_rows, start, stop)`` writing each
    block of rows (a few large blocks, on two threads: writing fresh memory
    costs the operating system's page faults as much as the copy itself)."""
    out = np.empty((n, s), dtype=dtype)
    size = max(CHUNK, -(-n // 4))
    run_blocks(lambda start, stop: fill(out[start:stop], start, stop), chunks(n, size),
               rows=n * s // 8)
    return out.reshape(-1)


def repeat_rows(values: np.ndarray, s: int) -> np.ndarray:
    """Each of the ``n`` values ``s`` times in a row, as a new ``(n * s,)`` array
    (``np.repeat(values, s)``, by broadcast copies, which are faster)."""
    values = np.asarray(values)

    def fill(out, start, stop):
        out[...] = values[start:stop, None]
    return _filled(len(values), s, values.dtype, fill)


def tile_rows(values: np.ndarray, n: int) -> np.ndarray:
    """The ``s`` values repeated ``n`` times over, as a new ``(n * s,)`` array
    (``np.tile(values, n)``, by broadcast copies)."""
    values = np.asarray(values)

    def fill(out, start, stop):
        out[...] = values[None, :]
    return _filled(n, len(values), values.dtype, fill)


def count_dtype(comp) -> np.dtype:
    """The type of the item-count columns: int8 when every score has fewer
    than 128 items (the usual case), else int16."""
    return np.dtype(np.int8 if comp.n_items.max(initial=0) < 128 else np.int16)


def _score_members(comp) -> tuple[np.ndarray, np.ndarray]:
    """Item positions of every score, concatenated in score order, and where
    each score's run starts and stops (``bounds[j]:bounds[j + 1]``)."""
    members = [np.flatnonzero(comp.key[:, j]) for j in range(comp.key.shape[1])]
    bounds = np.cumsum([0] + [len(m) for m in members])
    items = np.concatenate(members) if members else np.zeros(0, dtype=np.intp)
    return items, bounds


def _item_sums(codes_t: np.ndarray, items, bounds, lut: np.ndarray,
               lut_rev: np.ndarray | None = None, rev_runs=None) -> np.ndarray:
    """``(s, m)`` float64: for each score, the sum of ``lut[code]`` over its items.

    ``codes_t`` is ``(n_items, m)`` (one row per item). The codes of every
    score's items are gathered into one contiguous run and summed row by row;
    scores share items, so this replaces a dense matrix product with the key
    by the few additions the key actually holds. The rows ``rev_runs`` of the
    run (reverse-keyed items) look their codes up in ``lut_rev``.
    """
    gathered = codes_t[items]
    expanded = np.take(lut, gathered)
    if rev_runs is not None and len(rev_runs):
        expanded[rev_runs] = np.take(lut_rev, gathered[rev_runs])
    out = np.empty((len(bounds) - 1, codes_t.shape[1]), dtype=lut.dtype)
    for j in range(len(bounds) - 1):
        expanded[bounds[j]:bounds[j + 1]].sum(axis=0, out=out[j])
    return out


def _rule_constants(comp) -> tuple[np.ndarray, np.ndarray]:
    """Each score's item count and its largest allowed number of uncounted
    items as ``(1, s)`` rows of :func:`count_dtype`, so that the missing-data
    rule runs on the small count arrays without widening them.

    Exact: an uncounted total ``u`` is a whole number in ``0..n_items``, so
    ``u <= max_missing`` holds exactly when ``u <= floor(max_missing)``
    clipped to ``-1..n_items`` (NaN: never, as -1).
    """
    dtype = count_dtype(comp)
    n_items = comp.n_items.astype(dtype)[None, :]
    limit = np.floor(np.nan_to_num(np.asarray(comp.max_missing, dtype=float), nan=-1.0))
    limit = np.clip(limit, -1, comp.n_items).astype(dtype)[None, :]
    return n_items, limit


#: The most entries (all bands) :class:`SumTables` may have; an instrument
#: with more (long scores on a wide scale, many bands) looks its norms up by
#: raw score instead.
SUM_TABLE_LIMIT = 1 << 20


@dataclass
class SumTables:
    """Everything that follows from what a valid score is made of, looked up.

    With whole-number contributions (``ResponseCodec.lut``), a valid score
    of score ``j`` is made of a whole item sum ``t`` (0 to the most its items
    can add up to) and ``u`` uncounted items (0 to its largest allowed
    number); its key is ``start[j] + u * width[j] + t``, and ``blank`` (the
    last entry) is the key of an invalid score. ``raw[key]`` is its raw
    score: ``t``, or prorated ``t * (n_items / counted)`` by the same float64
    operations as on the cell itself. Its z, level and percentile in band row
    ``b`` are at ``key + b * size`` (:meth:`norms`; NaN and no level for
    ``blank``), each computed once by :meth:`NormTables.computed`: the values
    the raw score would be given on its own.
    """

    start: np.ndarray  # (1, s) intp
    width: np.ndarray  # (1, s) intp
    size: int
    raw: np.ndarray
    scores: np.ndarray  # the score of every key
    _norms: dict = field(default_factory=dict)

    @property
    def blank(self) -> int:
        return self.size - 1

    @classmethod
    def build(cls, inst: Instrument) -> SumTables | None:
        """The tables of ``inst``, or None when its contributions are not
        whole numbers or the tables would exceed :data:`SUM_TABLE_LIMIT`."""
        comp, codec = inst.compiled, codec_for(inst)
        if codec.lut is None:
            return None
        highest = max(float(codec.contrib.max(initial=0.0)), 0.0 if codec.contrib_rev is None
                      else float(codec.contrib_rev.max(initial=0.0)))
        n_items = comp.n_items.astype(np.int64)
        _, limit = _rule_constants(comp)
        uncounted = limit[0].astype(np.int64) + 1  # u = 0..limit (none when limit is -1)
        width = n_items * int(highest) + 1         # t = 0..n_items x the highest value
        size = int((uncounted * width).sum()) + 1
        if size * (len(comp.band_low) + 1) > SUM_TABLE_LIMIT:
            return None
        start = np.concatenate([[0], np.cumsum(uncounted * width)[:-1]])
        raw = np.full(size, np.nan)
        scores = np.zeros(size, dtype=np.intp)
        for j in range(len(n_items)):
            for u in range(uncounted[j]):
                counted = n_items[j] - u
                if counted <= 0:
                    continue  # never valid
                keys = slice(start[j] + u * width[j], start[j] + (u + 1) * width[j])
                t = np.arange(width[j], dtype=np.float64)
                # the division and the product of score_codes' prorating, on their own
                raw[keys] = t * (comp.n_items[j] / float(counted)) if (
                    u > 0 and comp.prorate[j]) else t
                scores[keys] = j
        return cls(start=start.astype(np.intp)[None, :], width=width.astype(np.intp)[None, :],
                   size=size, raw=raw, scores=scores)

    def keys(self, sums: np.ndarray, uncounted: np.ndarray, valid: np.ndarray) -> np.ndarray:
        """The ``(m, s)`` keys of a chunk's whole item sums, uncounted items and validity."""
        key = np.multiply(uncounted, self.width, dtype=np.intp)
        key += self.start
        key += sums
        np.copyto(key, self.blank, where=~valid)
        return key

    def norms(self, tables: N.NormTables) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """z, level and percentile of every key in every band row of ``tables``."""
        if tables not in self._norms:
            self._norms[tables] = tables.in_every_band(self.raw, self.scores)
        return self._norms[tables]


def sum_tables(inst: Instrument) -> SumTables | None:
    """The instrument's :class:`SumTables` (None without), built once for its
    codec and cached on the (immutable) instrument."""
    codec = codec_for(inst)
    built_for, tables = inst.__dict__.get("_sum_tables", (None, None))
    if built_for is not codec:
        tables = SumTables.build(inst)
        inst.__dict__["_sum_tables"] = (codec, tables)
    return tables


def score_codes(codes: np.ndarray, instrument: Instrument, *, ages=None, row_problem=None,
                row_text=None, respondents=None, sexes=None,
                use_lookup: bool = True) -> WideScores:
    """The array core: score an ``(n, n_items)`` int8 code array.

    For every score, the sum over its items of what each code contributes and
    of the packed counts (:class:`~sensoryprofile.measures.responses.ResponseCodec`;
    one sum when the codec packs both). See :func:`score_responses` for the
    rules. Rows are scored :data:`CHUNK` at a time straight into the
    ``(n, n_scores)`` result arrays, so every temporary is the size of one chunk
    (on two threads for large inputs: :mod:`sensoryprofile.measures.chunks`).

    With the packed look-up table (whole-number contributions), a chunk's
    cells are looked up once per item (not once per score the item is in)
    and each score's rows of them summed; every partial sum is a whole number
    within the table's exact range (``ResponseCodec.lut``), so the sums are
    exact whatever order the additions take. The sums are then laid out one
    row per assessment, the layout of the result arrays, and the
    missing-data rule and the norms work in that layout.

    ``row_problem`` and ``row_text`` ((n,) bool and texts) invalidate whole
    rows as :meth:`WideScores.invalidate_rows` does; with ``ages`` ((n,)
    months) the scores are also norm-referenced as by
    :meth:`WideScores.apply_norms`, in the same pass over the chunks, each
    assessment in the norm band of its age, its ``respondents`` entry and
    its ``sexes`` entry ((n,) texts or categoricals; None: the form's own
    respondent, sex unknown).

    With whole-number contributions, each score's raw value, z, level and
    percentile are looked up by its item sum and uncounted items
    (:class:`SumTables`; ``use_lookup=False``: computed as above, the
    values the tables hold).
    """
    inst = instrument
    comp = inst.compiled
    codec = codec_for(inst)
    codes_t = np.asfortranarray(codes).T  # one contiguous row per item
    n, s = codes.shape[0], comp.key.shape[1]
    shape = (n, s)
    raw = np.empty(shape)
    counts = {name: np.empty(shape, dtype=count_dtype(comp))
              for name in ("n_answered", "n_missing", "n_not_applicable", "n_off_scale")}
    prorated = np.empty(shape, dtype=bool)
    valid = np.empty(shape, dtype=bool)
    invalid_code = np.empty(shape, dtype=np.int8)
    rows_bad = None
    if row_problem is not None and np.asarray(row_problem, dtype=bool).any():
        rows_bad = np.asarray(row_problem, dtype=bool)
    norms = None
    if ages is not None:
        ages = np.asarray(ages, dtype=float)
        band, row_reason = N.row_reasons(ages, comp, inst.age_min, inst.age_max,
                                         respondents=respondents, sexes=sexes,
                                         form_respondents=inst.normed_respondents)
        tables = N.norm_tables(comp, inst.scheme)
        band_rows = np.where(band >= 0, band, tables.sentinel)
        norms = {"z": np.empty(shape), "percentile": np.empty(shape),
                 "level": np.empty(shape, dtype=np.int8),
                 "unclassified": np.empty(shape, dtype=np.int8)}
    # per-score constants as rows: the elementwise work below runs along a
    # chunk's (assessment, score) arrays with a score's constant in its column
    n_items_row, limit_row = _rule_constants(comp)
    may_prorate = comp.prorate[None, :]
    # the prorating factor n_items / counted of every (score, count), each
    # the same float64 division as on the cell itself, looked up per cell
    top = int(comp.n_items.max(initial=0)) + 1
    with np.errstate(divide="ignore", invalid="ignore"):
        factors = (comp.n_items[:, None] / np.arange(top)[None, :]).ravel()
    factor_rows = np.ascontiguousarray(np.broadcast_to(
        (np.arange(s) * top)[None, :], (min(n, CHUNK), s)))
    k = int(np.log2(codec.base))  # counts are packed base 2**k
    mask = int(codec.base) - 1
    na_counts = inst.response_scale.na_counts_as is not None
    items, bounds = _score_members(comp)
    if codec.lut is not None:
        rev_items = np.flatnonzero(comp.item_reverse) if comp.item_reverse.any() else None
        # whole numbers up to the table's exact range: int32 holds float32's
        int_type = np.int32 if codec.lut.dtype == np.float32 else np.int64
    else:
        rev_runs = np.flatnonzero(comp.item_reverse[items]) if comp.item_reverse.any() else None
    lookup = sum_tables(inst) if use_lookup else None
    if lookup is not None and norms is not None:
        lookup_z, lookup_level, lookup_pct = lookup.norms(tables)
        band_keys = band_rows.astype(np.intp) * lookup.size

    def chunk_sums(start: int, stop: int) -> tuple[np.ndarray | None, np.ndarray]:
        """The chunk's raw sums (float64; None when ``lookup`` reads them from
        the packed sums) and packed counts (integers), ``(m, s)``."""
        block = codes_t[:, start:stop]
        if codec.lut is not None:
            cells = np.take(codec.lut, block)  # (n_items, m)
            if rev_items is not None:
                cells[rev_items] = np.take(codec.lut_rev, block[rev_items])
            runs = np.take(cells, items, axis=0)  # each score's items, one run after another
            totals = np.empty((s, stop - start), dtype=cells.dtype)
            for j in range(s):
                runs[bounds[j]:bounds[j + 1]].sum(axis=0, out=totals[j])
            packed = np.ascontiguousarray(totals.T, dtype=int_type)  # whole numbers: exact
            if lookup is not None:
                return None, packed
            return (packed >> 4 * k).astype(np.float64), packed
        # contributions that are not whole numbers: summed per score as before
        # (the order of the additions kept), in (s, m), looked at as (m, s)
        sums = _item_sums(block, items, bounds, codec.contrib.astype(np.float64),
                          None if codec.contrib_rev is None
                          else codec.contrib_rev.astype(np.float64), rev_runs)
        packed = _item_sums(block, items, bounds, codec.packed).astype(np.int64)
        return sums.T, packed.T

    def score_chunk(start: int, stop: int) -> None:
        rows = slice(start, stop)
        sums, packed = chunk_sums(start, stop)
        n_off, n_na = counts["n_off_scale"][rows], counts["n_not_applicable"][rows]
        n_missing, n_answered = counts["n_missing"][rows], counts["n_answered"][rows]
        np.bitwise_and(packed >> 3 * k, mask, out=n_off, casting="unsafe")
        np.bitwise_and(packed >> 2 * k, mask, out=n_na, casting="unsafe")
        np.bitwise_and(packed >> k, mask, out=n_missing, casting="unsafe")
        np.bitwise_and(packed, mask, out=n_answered, casting="unsafe")
        counted = n_answered + n_na if na_counts else n_answered.copy()
        uncounted = n_items_row - counted
        uncounted -= n_off
        ok = valid[rows]
        np.less_equal(uncounted, limit_row, out=ok)
        ok &= n_off == 0
        ok &= counted > 0
        bad = rows_bad[rows] if rows_bad is not None and rows_bad[rows].any() else None
        if bad is not None:
            ok[bad] = False
        pro = prorated[rows]
        np.greater(uncounted, 0, out=pro)
        pro &= ok
        pro &= may_prorate
        code = invalid_code[rows]
        code[...] = VALID_CODE
        np.copyto(code, np.int8(TOO_MANY_MISSING), where=~ok)
        np.copyto(code, np.int8(OFF_SCALE), where=n_off > 0)
        if bad is not None:
            code[bad] = ROW_PROBLEM
        if lookup is not None:  # the raw scores and norms of each key, looked up
            key = lookup.keys(packed >> 4 * k, uncounted, ok)
            np.take(lookup.raw, key, out=raw[rows], mode="clip")  # keys are in range
            if norms is not None:
                key += band_keys[rows, None]
                z, level, pct = (norms[name][rows] for name in ("z", "level", "percentile"))
                np.take(lookup_z, key, out=z, mode="clip")
                np.take(lookup_level, key, out=level, mode="clip")
                np.take(lookup_pct, key, out=pct, mode="clip")
                # (s, m) views of the (m, s) arrays: results in (m, s)
                *_, reason = tables.finish(raw[rows].T, ok.T, band_rows[rows],
                                           row_reason[rows], z.T, level.T, pct.T)
                norms["unclassified"][rows] = reason.T
            return
        if pro.any():
            factor = np.take(factors, factor_rows[:stop - start] + counted)
            np.multiply(sums, factor, out=sums, where=pro)
        np.copyto(sums, np.nan, where=~ok)
        raw[rows] = sums
        if norms is not None:  # (s, m) views of the (m, s) arrays: results in (m, s)
            z, pct, level, reason = tables.block(raw[rows].T, ok.T, band_rows[rows],
                                                 row_reason[rows])
            norms["z"][rows] = z.T
            norms["percentile"][rows] = pct.T
            norms["level"][rows] = level.T
            norms["unclassified"][rows] = reason.T

    run_blocks(score_chunk, chunks(n), rows=n)
    wide = WideScores(instrument=inst, raw=raw, prorated=prorated, valid=valid,
                      invalid_code=invalid_code, **counts)
    if rows_bad is not None:
        reasons = np.broadcast_to(np.asarray(row_text, dtype=object), (n,))
        wide.row_reason = np.where(rows_bad, reasons, None)
    if norms is not None:
        wide.ages, wide.band = ages, band
        wide.z, wide.percentile = norms["z"], norms["percentile"]
        wide.level, wide.unclassified = norms["level"], norms["unclassified"]
    return wide


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
def code_dtype(n_categories: int) -> np.dtype:
    """The smallest integer type pandas keeps categorical codes in for
    ``n_categories`` (codes of that type become a categorical without a copy)."""
    for dtype in (np.int8, np.int16, np.int32):
        if n_categories < np.iinfo(dtype).max:
            return np.dtype(dtype)
    return np.dtype(np.int64)


def factorized_dtype(uniques) -> pd.CategoricalDtype:
    """The unordered categorical dtype whose categories are ``uniques``: the
    distinct values found by :func:`sorted_codes` (or ``pd.factorize``).

    Those are distinct and never blank by construction, so pandas' check of
    them (a scan for blanks and a hash of every value: about 0.1 s for a
    million ids) is skipped, through the constructor pandas itself uses for
    categories it has already checked (``CategoricalDtype._from_fastpath``);
    the public constructor, which checks, where a pandas version lacks it.
    An object array ``uniques`` is taken over, not copied.
    """
    categories = pd.Index(uniques, dtype=object, copy=False)
    trusted = getattr(pd.CategoricalDtype, "_from_fastpath", None)
    if trusted is None:
        return pd.CategoricalDtype(categories, ordered=False)
    return trusted(categories, False)


def _categorical(codes: np.ndarray, categories) -> pd.Categorical:
    """A categorical from integer codes (-1 = missing); repeated category texts merge."""
    categories = list(categories)
    unique = list(dict.fromkeys(categories))
    if len(unique) != len(categories):
        remap = np.array([unique.index(c) for c in categories] + [-1])
        codes = remap[codes]  # -1 indexes the trailing -1
    codes = np.asarray(codes)
    wanted = code_dtype(len(unique))
    if codes.dtype != wanted:
        codes = codes.astype(wanted)
    return pd.Categorical.from_codes(codes, categories=pd.Index(unique, dtype=object),
                                     validate=False)


def _sorted_runs(values: np.ndarray) -> np.ndarray | None:
    """Where each run of equal values starts, as a mask, when ``values`` are
    text in non-decreasing order without blanks (ids of a file written in id
    order); None otherwise (a sample is checked first, so unsorted input is
    turned away cheaply)."""
    if values.dtype != object or len(values) < 2 or not isinstance(values[0], str):
        return None
    stride = max(len(values) // 1024, 1)
    try:
        sample = values[::stride]
        if not np.all(sample[1:] >= sample[:-1]):
            return None
        if not np.all(values[1:] >= values[:-1]):  # text only: blanks raise TypeError
            return None
    except TypeError:
        return None
    starts = np.empty(len(values), dtype=bool)
    starts[0] = True
    np.not_equal(values[1:], values[:-1], out=starts[1:])
    return starts


def _arrow_sorted_runs(values: pd.Series) -> tuple[np.ndarray, np.ndarray] | None:
    """:func:`sorted_codes` of a text column held by pyarrow that has no blank
    and is in non-decreasing order, compared and split into runs by pyarrow
    (only the distinct values become Python strings); None for any other
    column.

    Exact: pyarrow compares UTF-8 bytes, and UTF-8 byte order is code point
    order, the order in which Python compares strings; so the order check,
    the runs and the values are those :func:`_sorted_runs` finds.
    """
    data = arrow_text(values)
    if data is None or len(data) < 2 or data.null_count:
        return None
    import pyarrow as pa
    import pyarrow.compute as pc

    if not pc.all(pc.greater_equal(data[1:], data[:-1])).as_py():
        return None
    starts = np.empty(len(data), dtype=bool)
    starts[0] = True
    starts[1:] = pc.not_equal(data[1:], data[:-1]).to_numpy(zero_copy_only=False)
    uniques = data.filter(pa.array(starts)).to_numpy(zero_copy_only=False)
    codes = np.cumsum(starts, dtype=np.int64) - 1
    return codes.astype(code_dtype(len(uniques))), np.asarray(uniques, dtype=object)


def sorted_codes(values) -> tuple[np.ndarray, np.ndarray]:
    """Codes (-1 for a blank) and sorted distinct values of ``values``.

    The categories are in the order a sort of the values would give, so that
    sorting or grouping a categorical column orders it as the plain column
    would. Values that cannot be compared with each other keep the order of
    first appearance. The codes have :func:`code_dtype`.
    """
    if isinstance(values, pd.Series) and (arrow := _arrow_sorted_runs(values)) is not None:
        return arrow
    values = values.to_numpy() if isinstance(values, (pd.Series, pd.Index)) else np.asarray(
        values)
    runs = _sorted_runs(values)
    if runs is not None:  # already in order: no hashing
        codes = np.cumsum(runs, dtype=np.int64) - 1
        uniques = values[runs]
        return codes.astype(code_dtype(len(uniques))), np.asarray(uniques, dtype=object)
    codes, uniques = pd.factorize(values)
    uniques = np.asarray(uniques, dtype=object)
    try:
        ordered = len(uniques) < 2 or bool(np.all(uniques[1:] > uniques[:-1]))
        if not ordered:
            order = np.argsort(uniques, kind="stable")
            rank = np.empty(len(order), dtype=codes.dtype)
            rank[order] = np.arange(len(order), dtype=codes.dtype)
            codes = np.where(codes < 0, codes, rank[codes])
            uniques = uniques[order]
    except TypeError:  # mixed types: first appearance
        pass
    return codes.astype(code_dtype(len(uniques)), copy=False), uniques


def _id_column(meta: pd.DataFrame, name: str, n: int, s: int) -> pd.Categorical:
    """A categorical of an identifier column, each row's value ``s`` times (a
    categorical column of ``meta`` keeps its categories)."""
    if name not in meta.columns:
        return pd.Categorical.from_codes(np.full(n * s, -1, dtype=np.int8),
                                         categories=pd.Index([], dtype=object),
                                         validate=False)
    column = meta[name]
    if isinstance(column.dtype, pd.CategoricalDtype):  # keeps its (checked) categories
        return pd.Categorical.from_codes(repeat_rows(column.cat.codes.to_numpy(), s),
                                         dtype=column.dtype, validate=False)
    codes, uniques = sorted_codes(column)
    return pd.Categorical.from_codes(repeat_rows(codes, s), dtype=factorized_dtype(uniques),
                                     validate=False)


def _unique_texts(texts: list[str]) -> tuple[list[str], np.ndarray]:
    """Distinct texts, and for each input text the index of its distinct copy."""
    unique = list(dict.fromkeys(texts))
    return unique, np.array([unique.index(t) for t in texts], dtype=np.int32)


def _respondent_column(meta: pd.DataFrame, inst: Instrument, s: int) -> pd.Categorical:
    if C.RESPONDENT not in meta.columns:
        return _categorical(np.zeros(len(meta) * s, dtype=np.int8), [inst.respondent])
    column = meta[C.RESPONDENT]
    if isinstance(column.dtype, pd.CategoricalDtype):
        return pd.Categorical.from_codes(repeat_rows(column.cat.codes.to_numpy(), s),
                                         dtype=column.dtype, validate=False)
    codes, uniques = pd.factorize(column.to_numpy())
    return _categorical(repeat_rows(codes.astype(code_dtype(len(uniques))), s), list(uniques))


def _reason_codes(wide: WideScores, inst: Instrument, consume: bool = False) -> tuple[
        np.ndarray, list[str]]:
    """Flat codes of ``invalid_reason`` (-1 when valid) and the texts they index:
    per-score "too many missing", off-scale, then the row-level texts. With
    ``consume`` the codes are written over ``wide.invalid_code`` when they fit."""
    n, s = wide.raw.shape
    reason_texts = [f"more than {sc.max_missing} of its {len(sc.items)} items missing or "
                    f"not applicable" if inst.response_scale.na_counts_as is None else
                    f"more than {sc.max_missing} of its {len(sc.items)} items missing"
                    for sc in inst.scores]
    reason_texts, per_score = _unique_texts(reason_texts)
    reason_texts.append(OFF_SCALE_TEXT)
    row_texts, row_codes = [], None
    code = wide.invalid_code.ravel()
    has_rows = wide.row_reason is not None and bool((code == ROW_PROBLEM).any())
    if has_rows:
        given = wide.row_reason != None  # noqa: E711 - elementwise
        texts, inverse = np.unique(wide.row_reason[given].astype(str), return_inverse=True)
        row_texts = texts.tolist()
        row_codes = np.full(n, -1, dtype=np.int64)
        row_codes[given] = inverse + len(reason_texts)
    dtype = code_dtype(len(reason_texts) + len(row_texts))
    too_many = code == TOO_MANY_MISSING
    off_scale = code == OFF_SCALE
    rows_with = code == ROW_PROBLEM if has_rows else None
    if consume and dtype == code.dtype:
        reason = code  # its own masks are taken: overwrite it
        reason[:] = -1
    else:
        reason = np.full(n * s, -1, dtype=dtype)
    # written where their masks hold, each score's or row's code broadcast
    # over the (n, s) layout (no n x s copy of them)
    grid = reason.reshape(n, s)
    if too_many.any():
        np.copyto(grid, per_score.astype(dtype)[None, :], where=too_many.reshape(n, s))
    np.copyto(reason, dtype.type(len(reason_texts) - 1), where=off_scale)
    if has_rows:
        np.copyto(grid, row_codes.astype(dtype)[:, None], where=rows_with.reshape(n, s))
    return reason, reason_texts + row_texts


def tidy_scores(wide: WideScores, meta: pd.DataFrame, *, consume: bool = False) -> pd.DataFrame:
    """Reshape :class:`WideScores` to the tidy table, assessment-major.

    ``meta`` holds one row per assessment with assessment_id, child_id, date
    and respondent (any may be missing). Columns: :data:`columns.SCORE_COLUMNS`.
    ``assessment_id`` and ``child_id`` are categoricals whose categories are
    the distinct ids in sorted order (sorting and grouping them orders rows
    as the plain ids would); every other repeated text is a categorical too.
    The ``(n, s)`` result arrays become columns without a copy (a C-order
    ravel); row values are repeated and score values tiled once each.
    With ``consume``, ``wide.level``, ``wide.unclassified`` and
    ``wide.invalid_code`` are turned into table columns in place (less
    memory) and set to None in ``wide``.
    """
    inst = wide.instrument
    comp = inst.compiled
    n, s = wide.raw.shape
    if wide.level is None:
        wide.apply_norms(np.full(n, np.nan))
    score_index = tile_rows(np.arange(s, dtype=code_dtype(s)), n)
    kind_cats = list(SCORE_KINDS)
    kinds = np.array([kind_cats.index(sc.kind) for sc in inst.scores], dtype=np.int8)
    reason_code, reason_texts = _reason_codes(wide, inst, consume)

    level = wide.level.ravel()
    unclassified = level == N.NO_LEVEL
    # the classification's categories are the scheme's labels in ordinal order
    class_codes = level - np.int8(inst.scheme.min_ordinal)
    np.copyto(class_codes, np.int8(-1), where=unclassified)
    level_values = level if consume else level.copy()
    np.copyto(level_values, np.int8(0), where=unclassified)
    unclass_codes = wide.unclassified.ravel()
    if consume:
        unclass_codes -= np.int8(1)  # 0 (classified) -> -1
        wide.level = wide.unclassified = wide.invalid_code = None
    else:
        unclass_codes = unclass_codes - np.int8(1)
    unclass_texts = [N.UNCLASSIFIED_TEXT[k] for k in sorted(N.UNCLASSIFIED_TEXT)]
    unclass_texts[N.UNCLASSIFIED_OUT_OF_RANGE - 1] = (
        f"age outside {inst.id}'s age range ({inst.age_text})")
    if C.DATE in meta.columns:
        dates = repeat_rows(meta[C.DATE].to_numpy(dtype="datetime64[ns]"), s)
    else:
        dates = np.full(n * s, np.datetime64("NaT"), dtype="datetime64[ns]")

    data = {
        C.ASSESSMENT_ID: _id_column(meta, C.ASSESSMENT_ID, n, s),
        C.CHILD_ID: _id_column(meta, C.CHILD_ID, n, s),
        C.INSTRUMENT: _categorical(np.zeros(n * s, dtype=np.int8), [inst.id]),
        C.DATE: dates,
        C.RESPONDENT: _respondent_column(meta, inst, s),
        C.SCORE: _categorical(score_index, list(inst.score_ids)),
        C.SCORE_NAME: _categorical(score_index, [sc.name for sc in inst.scores]),
        C.KIND: _categorical(tile_rows(kinds, n), kind_cats),
        C.RAW: wide.raw.ravel(),
        # float32: item count x a scale value, to ~7 significant digits, in half the memory
        C.MIN_POSSIBLE: tile_rows(comp.min_possible.astype(np.float32), n),
        C.MAX_POSSIBLE: tile_rows(comp.max_possible.astype(np.float32), n),
        C.N_ITEMS: tile_rows(comp.n_items.astype(count_dtype(comp)), n),
        C.N_ANSWERED: wide.n_answered.ravel(),
        C.N_MISSING: wide.n_missing.ravel(),
        C.N_NOT_APPLICABLE: wide.n_not_applicable.ravel(),
        C.N_OFF_SCALE: wide.n_off_scale.ravel(),
        C.PRORATED: wide.prorated.ravel(),
        C.VALID: wide.valid.ravel(),
        C.INVALID_REASON: _categorical(reason_code, reason_texts),
        C.AGE_MONTHS: repeat_rows(wide.ages, s),
        C.NORM_BAND: _categorical(repeat_rows(wide.band.astype(code_dtype(len(comp.band_labels))),
                                              s), list(comp.band_labels)),
        C.Z: wide.z.ravel(),
        C.PERCENTILE: wide.percentile.ravel(),
        C.CLASSIFICATION: _categorical(class_codes, inst.label_list),
        C.LEVEL: pd.arrays.IntegerArray(level_values, unclassified),
        C.UNCLASSIFIED_REASON: _categorical(unclass_codes, unclass_texts),
    }
    return pd.DataFrame(data, copy=False)

# ---------------------------------------------------------------------------
# one instrument's rows of a wide item table
# ---------------------------------------------------------------------------
@dataclass
class ScoredBlock:
    """What :func:`score_block` returns.

    ``wide`` the arrays (its ``level``, ``unclassified`` and ``invalid_code``
    became table columns in place and are None), ``tidy`` the tidy table
    (assessment-major, in the block's row order), ``cells`` the off-scale
    cells (rows and columns of the block, in reading order).
    """

    wide: WideScores
    tidy: pd.DataFrame
    cells: CellProblems


def _meta(frame: pd.DataFrame, inst: Instrument, dates, ids=None) -> pd.DataFrame:
    """assessment_id, child_id, respondent and date of each row; a blank
    respondent is the instrument's own (cleaned on the few distinct values,
    not on every row). ``ids``, when given, replaces the assessment_id column
    (the same ids as a categorical, already factorized by the caller)."""
    meta_cols = [c for c in (C.ASSESSMENT_ID, C.CHILD_ID, C.RESPONDENT) if c in frame.columns]
    meta = frame[meta_cols].copy() if meta_cols else pd.DataFrame(index=frame.index)
    if ids is not None:
        meta[C.ASSESSMENT_ID] = ids
    if C.RESPONDENT in meta.columns:  # a categorical, in order of first appearance
        codes_r, values = pd.factorize(meta[C.RESPONDENT])
        texts, clean = _unique_texts([str(v).strip() or inst.respondent for v in values]
                                     + [inst.respondent])
        codes, order = pd.factorize(clean[codes_r])  # code -1 indexes the trailing one
        meta[C.RESPONDENT] = pd.Categorical.from_codes(
            codes.astype(code_dtype(len(order))),
            categories=pd.Index([texts[k] for k in order], dtype=object), validate=False)
    # no respondent column: every row is the instrument's own (_respondent_column)
    if dates is not None:
        meta[C.DATE] = np.asarray(dates, dtype="datetime64[ns]")
    return meta


def score_block(frame: pd.DataFrame, instrument: Instrument, *, ages, dates=None,
                row_problem=None, row_text=None, ids=None, sexes=None) -> ScoredBlock:
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
    ids : (n,) Categorical of the rows' assessment ids, optional: the
        caller's factorization (:func:`sorted_codes`), used instead of the
        ``assessment_id`` column.
    sexes : (n,) the children's sex (F, M, X; blank unknown), optional: for
        forms normed by sex.

    Returns
    -------
    ScoredBlock
    """
    codes, cells = encode_item_columns(frame, instrument)
    meta = _meta(frame, instrument, dates, ids)
    respondents = meta[C.RESPONDENT] if C.RESPONDENT in meta.columns else None
    wide = score_codes(codes, instrument, ages=np.asarray(ages, dtype=float),
                       row_problem=row_problem, row_text=row_text, respondents=respondents,
                       sexes=sexes)
    del codes  # before the table is built: it is not part of it
    return ScoredBlock(wide=wide, tidy=tidy_scores(wide, meta, consume=True),
                       cells=cells)


def empty_scores(n: int = 0) -> pd.DataFrame:
    """An all-missing tidy score table of ``n`` rows (columns :data:`~sensoryprofile.columns.SCORE_COLUMNS`)."""
    out = pd.DataFrame({c: pd.Series([None] * n, dtype=object) for c in C.SCORE_COLUMNS})
    for c in (C.RAW, C.AGE_MONTHS, C.Z, C.PERCENTILE):
        out[c] = np.full(n, np.nan)
    for c in (C.MIN_POSSIBLE, C.MAX_POSSIBLE):
        out[c] = np.full(n, np.nan, dtype=np.float32)
    for c in (C.N_ITEMS, C.N_ANSWERED, C.N_MISSING, C.N_NOT_APPLICABLE, C.N_OFF_SCALE):
        out[c] = np.zeros(n, dtype=np.int8)  # the smallest count type (count_dtype)
    out[C.PRORATED] = np.zeros(n, dtype=bool)
    out[C.VALID] = np.zeros(n, dtype=bool)
    out[C.DATE] = pd.Series(pd.NaT, index=range(n), dtype="datetime64[ns]")
    out[C.LEVEL] = pd.array([pd.NA] * n, dtype="Int8")
    return out

