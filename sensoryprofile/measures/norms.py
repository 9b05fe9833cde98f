"""Age bands, z scores, percentiles and the five-level classification.
Everything here works on whole arrays (ages come from
:func:`sensoryprofile.dates.completed_months`).

z scores are behaviour-oriented: positive z means more of the behaviour than
others, whichever way the instrument's raw score runs.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sensoryprofile import columns as C
from sensoryprofile.instruments.model import DEFAULT_Z_CUTS, CompiledInstrument, Scheme
from sensoryprofile.measures.chunks import chunks

# Why a score has no classification (codes used in arrays, texts in tables).
CLASSIFIED = 0
UNCLASSIFIED_INVALID = 1
UNCLASSIFIED_AGE_UNKNOWN = 2
UNCLASSIFIED_BEFORE_BIRTH = 3
UNCLASSIFIED_OUT_OF_RANGE = 4
UNCLASSIFIED_NO_NORMS = 5
UNCLASSIFIED_OFF_TABLE = 6
UNCLASSIFIED_RESPONDENT = 7
UNCLASSIFIED_BELOW_PERCENTILES = 8

UNCLASSIFIED_TEXT = {
    UNCLASSIFIED_INVALID: "score invalid",
    UNCLASSIFIED_AGE_UNKNOWN: "age at assessment unknown",
    UNCLASSIFIED_BEFORE_BIRTH: "assessment dated before the date of birth",
    UNCLASSIFIED_OUT_OF_RANGE: "age outside the instrument's age range",
    UNCLASSIFIED_NO_NORMS: "no norms for this score at this age",
    UNCLASSIFIED_OFF_TABLE: "raw score outside the cut-score table",
    UNCLASSIFIED_RESPONDENT: "the form has no norms for this respondent",
    UNCLASSIFIED_BELOW_PERCENTILES: "raw score below the percentile table",
}

NO_LEVEL = -128  # int8 sentinel: no classification level

#: Where each classification level sits on the z scale (the middle of its band;
#: the outer bands are drawn to |z| = 3): used to place scores that have a
#: classification from a cut table but no z.
BAND_CENTERS = {-2: -2.5, -1: -1.5, 0: 0.0, 1: 1.5, 2: 2.5}
#: A percentile of 0 or 100 in a manual's table is drawn at this |z|.
PERCENTILE_Z_LIMIT = 3.5


def percentile_from_z(z: np.ndarray) -> np.ndarray:
    """Normal-curve percentile (0-100) of a z score."""
    from scipy.special import ndtr  # here: only scoring needs it, and importing it is slow

    return ndtr(np.asarray(z, dtype=float)) * 100.0


def classify_z(z: np.ndarray, z_cuts=DEFAULT_Z_CUTS) -> np.ndarray:
    """Five-level classification of behaviour-oriented z scores.

    |z| <= c1 typical (0); c1 < |z| <= c2 less/more (-1/+1); |z| > c2
    much less/much more (-2/+2). NaN gives :data:`NO_LEVEL`. z is rounded to
    9 decimals first so that a raw score exactly 1 SD from the mean is typical
    despite floating-point error.
    """
    z = np.round(np.asarray(z, dtype=float), 9)
    c1, c2 = z_cuts
    level = np.zeros(z.shape, dtype=np.int8)
    level[z > c1] = 1
    level[z > c2] = 2
    level[z < -c1] = -1
    level[z < -c2] = -2
    level[np.isnan(z)] = NO_LEVEL
    return level


def band_index(ages: np.ndarray, compiled: CompiledInstrument, respondents=None,
               sexes=None) -> np.ndarray:
    """Index of the norm band holding each age, -1 where none does.

    Where the form's bands are per respondent or sex, each assessment takes
    the most specific band that fits: its respondent and sex, its
    respondent, its sex, then the bands for everyone (``respondents`` and
    ``sexes``: (n,) texts or categoricals; None: unknown).
    """
    ages = np.asarray(ages, dtype=float)
    n_bands = len(compiled.band_low)
    if n_bands == 0:
        return np.full(ages.shape, -1, dtype=np.intp)
    groups: dict[tuple, list[int]] = {}
    for b in range(n_bands):
        key = (compiled.band_respondent[b] if compiled.band_respondent else None,
               compiled.band_sex[b] if compiled.band_sex else None)
        groups.setdefault(key, []).append(b)
    if list(groups) == [(None, None)]:
        return _band_in(ages, compiled, np.arange(n_bands))
    out = np.full(ages.shape, -1, dtype=np.intp)
    who = _matcher(respondents, len(ages))
    sex = _matcher(sexes, len(ages))
    # the most specific group first: respondent and sex, respondent, sex, everyone
    order = sorted(groups, key=lambda g: (g[0] is None, g[1] is None))
    for respondent, sex_of in order:
        todo = out < 0
        if respondent is not None:
            todo &= who(respondent)
        if sex_of is not None:
            todo &= sex(sex_of)
        if todo.any():
            members = np.array(groups[(respondent, sex_of)])
            found = _band_in(ages[todo], compiled, members)
            out[todo] = found
    return out


def _band_in(ages: np.ndarray, compiled: CompiledInstrument, members: np.ndarray) -> np.ndarray:
    """Index (among all bands) of the band of ``members`` (sorted, not
    overlapping) holding each age; -1 where none does."""
    low = compiled.band_low[members]
    idx = np.searchsorted(low, np.nan_to_num(ages, nan=-1.0), side="right") - 1
    safe = np.clip(idx, 0, None)
    ok = (idx >= 0) & (ages <= compiled.band_high[members][safe]) & ~np.isnan(ages)
    return np.where(ok, members[safe], -1)


def _matcher(values, n: int):
    """A function of a text giving the (n,) mask of rows whose value it is."""
    if values is None:
        return lambda text: np.zeros(n, dtype=bool)
    if isinstance(values, pd.Series):
        values = values.array
    if isinstance(values, pd.Categorical):
        codes = np.asarray(values.codes)
        index = {str(c).strip(): k for k, c in enumerate(values.categories)}
        return lambda text: codes == index.get(text, -2)
    texts = np.array([None if v is None or (isinstance(v, float) and v != v) else str(v).strip()
                      for v in np.asarray(values, dtype=object)], dtype=object)
    return lambda text: texts == text


def row_reasons(ages: np.ndarray, compiled: CompiledInstrument, age_min: float,
                age_max: float, *, respondents=None, sexes=None,
                form_respondents: tuple = ()) -> tuple[np.ndarray, np.ndarray]:
    """Band index of each assessment (-1 none) and why a whole assessment is
    unclassified (age unknown, before birth, outside the range, a respondent
    the form is not given to; 0 otherwise)."""
    ages = np.asarray(ages, dtype=float)
    band = band_index(ages, compiled, respondents, sexes)
    in_range = (ages >= age_min) & (ages <= age_max)
    other = np.zeros(ages.shape, dtype=bool)
    if respondents is not None and form_respondents:
        who = _matcher(respondents, len(ages))
        known = np.zeros(ages.shape, dtype=bool)
        for respondent in form_respondents:
            known |= who(respondent)
        other = ~known
    row_reason = np.select(
        [np.isnan(ages), ages < 0, ~in_range, other],
        [UNCLASSIFIED_AGE_UNKNOWN, UNCLASSIFIED_BEFORE_BIRTH, UNCLASSIFIED_OUT_OF_RANGE,
         UNCLASSIFIED_RESPONDENT],
        default=CLASSIFIED,
    ).astype(np.int8)
    return np.where(row_reason == CLASSIFIED, band, -1), row_reason


def _scheme_of(scheme_or_cuts) -> Scheme:
    """A classification scheme, or the five levels of z cut points."""
    if isinstance(scheme_or_cuts, Scheme):
        return scheme_or_cuts
    return Scheme.five_level(z_cuts=tuple(scheme_or_cuts))


def percentile_lookup(raw: np.ndarray, raws: np.ndarray, pcts: np.ndarray) -> np.ndarray:
    """The percentile of each raw score in a manual's table: that of the
    highest listed raw at or below it (NaN below the table, or for NaN)."""
    raw = np.asarray(raw, dtype=float)
    idx = np.searchsorted(raws, np.nan_to_num(raw, nan=-np.inf), side="right") - 1
    out = pcts[np.clip(idx, 0, None)]
    return np.where((idx >= 0) & ~np.isnan(raw), out, np.nan)


def z_from_percentile(pct: np.ndarray) -> np.ndarray:
    """The normal-curve equivalent z of a percentile (0-100), clipped to
    :data:`PERCENTILE_Z_LIMIT` at 0 and 100."""
    from scipy.special import ndtri

    p = np.clip(np.asarray(pct, dtype=float) / 100.0, 0.0, 1.0)
    with np.errstate(divide="ignore"):
        z = ndtri(p)
    return np.clip(z, -PERCENTILE_Z_LIMIT, PERCENTILE_Z_LIMIT)


def _take_like(table: np.ndarray, index: np.ndarray) -> np.ndarray:
    """``np.take(table, index)`` in ``index``'s memory order (the transpose of
    a C-ordered array stays one, so writing it back is a plain copy)."""
    if index.flags.f_contiguous and not index.flags.c_contiguous:
        return np.take(table, index.T).T
    return np.take(table, index)


class NormTables:
    """An instrument's norms laid out for scoring blocks of assessments.

    Tables are ``(s, n_bands + 1)``, the last band a sentinel of NaN for "no
    band". For every whole raw score between the lowest and highest possible,
    the z, level and percentile of each (score, band) are computed once, by
    the same operations as for any other raw score, and looked up; raw
    scores that are not whole (prorated) are computed directly. A (score,
    band) normed by a percentile table takes the table's percentile
    (behaviour-oriented: 100 - p for a higher_less score) and its
    normal-curve z. Levels follow the form's classification scheme.
    """

    def __init__(self, compiled: CompiledInstrument, scheme=DEFAULT_Z_CUTS):
        s = len(compiled.score_ids)
        n_bands = len(compiled.band_low)
        self.compiled, self.scheme, self.sentinel = compiled, _scheme_of(scheme), n_bands
        nan_col = np.full((s, 1), np.nan)
        self.mean = np.hstack([compiled.mean.reshape(n_bands, s).T, nan_col])
        self.sd = np.hstack([compiled.sd.reshape(n_bands, s).T, nan_col])
        self.has_cuts = np.hstack([compiled.has_cuts.reshape(n_bands, s).T,
                                   np.zeros((s, 1), bool)])
        self.any_cuts = bool(self.has_cuts.any())
        has_pct = (compiled.has_pct if compiled.has_pct.size
                   else np.zeros((n_bands, s), dtype=bool))
        self.has_pct = np.hstack([has_pct.reshape(n_bands, s).T, np.zeros((s, 1), bool)])
        self.any_pct = bool(self.has_pct.any())
        self.sign = np.where(compiled.reversed, -1.0, 1.0)[:, None]
        low = np.floor(np.nanmin(compiled.min_possible, initial=0.0))
        high = np.ceil(np.nanmax(compiled.max_possible, initial=0.0))
        self.low, self.span = float(low), int(high - low) + 1
        whole = np.arange(self.span, dtype=float) + low  # (R,)
        # (s, n_bands + 1, R): the same operations as _z below
        z = whole[None, None, :] - self.mean[:, :, None]
        z /= self.sd[:, :, None]
        z *= self.sign[:, :, None]
        pct = percentile_from_z(z)
        for (b, j), (raws, pcts) in compiled.pct_tables.items():
            table_pct = self._table_pct(whole, raws, pcts, j)
            pct[j, b] = table_pct
            z[j, b] = z_from_percentile(table_pct)
        self.z_table = z.ravel()
        self.level_table = self.scheme.classify_z(self.z_table)
        self.pct_table = pct.ravel()

    def _table_pct(self, raw, raws, pcts, j) -> np.ndarray:
        found = percentile_lookup(raw, raws, pcts)
        return 100.0 - found if self.sign[j, 0] < 0 else found

    def z_level_pct(self, raw: np.ndarray, band_rows: np.ndarray):
        """z, level and percentile of an ``(s, m)`` block of raw scores (NaN in,
        NaN out), assessment ``k`` in norm band row ``band_rows[k]``."""
        s, m = raw.shape
        offset = raw - self.low
        whole = offset == np.floor(offset)
        whole &= offset >= 0
        whole &= offset < self.span
        first = np.arange(s, dtype=np.intp)[:, None] * (self.sentinel + 1)
        index = np.empty_like(raw, dtype=np.intp)  # in raw's memory order
        np.add(first, band_rows[None, :], out=index)
        index *= self.span
        with np.errstate(invalid="ignore"):  # NaN and huge offsets: not whole, not used
            steps = offset.astype(np.intp)
        np.add(index, steps, out=index, where=whole)
        # a blank raw score (NaN) looks up the sentinel band: NaN, no level
        blank = np.isnan(raw)
        np.copyto(index, np.broadcast_to((first + self.sentinel) * self.span, index.shape),
                  where=blank)
        z = _take_like(self.z_table, index)
        level = _take_like(self.level_table, index)
        pct = _take_like(self.pct_table, index)
        rest = ~(whole | blank)  # not whole (prorated) or off the range: computed
        if rest.any():
            # each (score, assessment) is computed on its own: found in memory order
            k, r = np.nonzero(rest.T) if rest.flags.f_contiguous else np.nonzero(rest)[::-1]
            zr, lr, pr = self.computed(raw[r, k], r, band_rows[k])
            z[r, k] = zr
            level[r, k] = lr
            pct[r, k] = pr
        return z, level, pct

    def computed(self, raw: np.ndarray, scores: np.ndarray, band_rows: np.ndarray):
        """z, level and percentile of single raw scores (1-D): ``raw[i]`` of score
        ``scores[i]`` in band row ``band_rows[i]``, each computed on its own by
        the operations the tables of whole raw scores are made with."""
        r, b = scores, band_rows
        zr = raw - self.mean[r, b]
        zr /= self.sd[r, b]
        zr *= self.sign[r, 0]
        pr = percentile_from_z(zr)
        if self.any_pct:
            table = self.has_pct[r, b]
            for j_, b_ in set(zip(r[table].tolist(), b[table].tolist(), strict=True)):
                raws, pcts = self.compiled.pct_tables[(b_, j_)]
                here = table & (r == j_) & (b == b_)
                pr[here] = self._table_pct(raw[here], raws, pcts, j_)
                zr[here] = z_from_percentile(pr[here])
        return zr, self.scheme.classify_z(zr), pr

    def in_every_band(self, raw: np.ndarray, scores: np.ndarray):
        """z, level and percentile of single raw scores (1-D, ``raw[i]`` of
        score ``scores[i]``) in every band row, the sentinel last: flat
        arrays, band row ``b``'s values at ``b * len(raw) + i``."""
        rows = self.sentinel + 1
        return self.computed(np.tile(raw, rows), np.tile(scores, rows),
                             np.repeat(np.arange(rows), len(raw)))

    def block(self, raw, valid, band_rows, row_reason):
        """Norms of an ``(s, m)`` block: z, percentile, level, unclassified reason.

        The results keep ``raw``'s memory order: given the ``(s, m)``
        transposed view of an ``(m, s)`` array, their transposes are
        ``(m, s)`` arrays in order again (each value is computed the same
        way whatever the order)."""
        z, level, pct = self.z_level_pct(raw, band_rows)
        return self.finish(raw, valid, band_rows, row_reason, z, level, pct)

    def finish(self, raw, valid, band_rows, row_reason, z, level, pct):
        """The rest of :meth:`block` once ``z``, ``level`` and ``pct`` of an
        ``(s, m)`` block are looked up: cut tables, percentile tables, the
        reason a score is unclassified, and no z, level or percentile where
        it is (``z``, ``level`` and ``pct`` are written in place). Returns z,
        percentile, level and the reason, in ``z``'s memory order."""
        s, m = raw.shape
        has_cuts = np.take(self.has_cuts, band_rows, axis=1) if self.any_cuts else None
        off_table = None
        if has_cuts is not None and has_cuts.any():
            comp = self.compiled
            off_table = np.zeros((s, m), dtype=bool)
            j, k = np.nonzero(has_cuts & valid)
            b = band_rows[k]
            r = np.floor(raw[j, k] + 0.5)  # prorated raws: nearest whole, halves up
            lows, highs = comp.cut_low[b, j], comp.cut_high[b, j]  # (k, levels) ascending
            inside = (r[:, None] >= lows) & (r[:, None] <= highs)
            found = inside.any(axis=1)
            lv = comp.cut_level[b, j, inside.argmax(axis=1)]
            level[j, k] = np.where(found, lv, NO_LEVEL)
            off_table[j[~found], k[~found]] = True
        below_pct = None
        if self.any_pct:
            below_pct = np.take(self.has_pct, band_rows, axis=1) & valid & np.isnan(z)
        reason = np.empty_like(z, dtype=np.int8)
        reason[:] = row_reason[None, :]
        no_norms = reason == CLASSIFIED
        no_norms &= np.isnan(z)
        no_norms &= valid
        if has_cuts is not None:
            no_norms &= ~has_cuts
        if below_pct is not None:
            no_norms &= ~below_pct
            reason[below_pct & (reason == CLASSIFIED)] = UNCLASSIFIED_BELOW_PERCENTILES
        # masked writes as copyto(where=): the same values, without gathering the positions
        np.copyto(reason, np.int8(UNCLASSIFIED_NO_NORMS), where=no_norms)
        if off_table is not None:
            reason[off_table & (reason == CLASSIFIED)] = UNCLASSIFIED_OFF_TABLE
        np.copyto(reason, np.int8(UNCLASSIFIED_INVALID), where=~valid)
        unclassified = reason != CLASSIFIED
        np.copyto(level, np.int8(NO_LEVEL), where=unclassified)
        np.copyto(z, np.nan, where=unclassified)
        np.copyto(pct, np.nan, where=unclassified)
        return z, pct, level, reason


def norm_tables(compiled: CompiledInstrument, scheme=DEFAULT_Z_CUTS) -> NormTables:
    """The :class:`NormTables` of a compiled instrument, built once per scheme
    (a :class:`Scheme`, or the z cut points of the five levels)."""
    cache = compiled.__dict__.setdefault("_norm_tables", {})
    key = _scheme_of(scheme)
    if key not in cache:
        cache[key] = NormTables(compiled, key)
    return cache[key]


def apply_norms(raw: np.ndarray, valid: np.ndarray, ages: np.ndarray,
                compiled: CompiledInstrument, age_min: float, age_max: float,
                scheme=DEFAULT_Z_CUTS, *, respondents=None, sexes=None,
                form_respondents: tuple = ()) -> dict[str, np.ndarray]:
    """Norm-reference a block of raw scores.

    Parameters
    ----------
    raw, valid : (n, s) arrays of raw scores and their validity.
    ages : (n,) age in months at assessment (NaN unknown, negative before birth).
    scheme : the form's :class:`~sensoryprofile.instruments.model.Scheme` (or
        the z cut points of the five levels).
    respondents, sexes : (n,) each assessment's respondent and the child's
        sex, for forms normed per respondent or sex (optional).
    form_respondents : the respondents the form is given to; an assessment by
        another is not classified.

    Returns
    -------
    dict of (n, s) arrays: ``band`` (index, -1 none), ``z``, ``percentile``
    (NaN unless mean/SD or percentile norms), ``level`` (int8, the scheme's
    ordinal or NO_LEVEL) and ``unclassified`` (reason code, 0 when classified).

    Notes
    -----
    Rows are worked a chunk at a time (:mod:`sensoryprofile.measures.chunks`) into the result arrays, so every
    temporary is the size of one chunk.
    """
    n, s = raw.shape
    band, row_reason = row_reasons(ages, compiled, age_min, age_max, respondents=respondents,
                                   sexes=sexes, form_respondents=form_respondents)
    tables = norm_tables(compiled, scheme)
    band_rows = np.where(band >= 0, band, tables.sentinel)
    shape = (n, s)
    out = {"band": band, "z": np.empty(shape), "percentile": np.empty(shape),
           "level": np.empty(shape, dtype=np.int8),
           "unclassified": np.empty(shape, dtype=np.int8)}
    for start, stop in chunks(n):
        rows = slice(start, stop)
        z, pct, level, reason = tables.block(
            np.ascontiguousarray(raw[rows].T), np.ascontiguousarray(valid[rows].T),
            band_rows[rows], row_reason[rows])
        out["z"][rows] = z.T
        out["percentile"][rows] = pct.T
        out["level"][rows] = level.T
        out["unclassified"][rows] = reason.T
    return out


def standing(scores: pd.DataFrame) -> pd.Series:
    """Where each score of a tidy score table stands on the classification
    scale, in z units (the ``position`` the charts draw).

    The behaviour-oriented z clipped to [-3, 3] where there is one (mean/SD
    norms); otherwise the centre of the classification band
    (:data:`BAND_CENTERS`, cut-table norms); NaN when unclassified.
    """
    z = scores[C.Z].astype(float).clip(-3, 3)
    level = scores[C.LEVEL].astype("Float64").to_numpy(dtype=float, na_value=np.nan)
    # a scheme with more levels than the five: beyond them, drawn at the edge (|z| = 3)
    centre = pd.Series(level, index=scores.index).map(BAND_CENTERS).where(
        ~(np.abs(level) > 2), np.sign(level) * 3.0)
    return z.where(z.notna(), centre)


def percentile_text(value) -> str:
    """A percentile as reports print it: whole numbers, with "<1" and ">99" at the
    ends (a rounded 0 or 100 would claim a score beyond everyone).

    >>> percentile_text(52.4), percentile_text(99.97), percentile_text(0.2)
    ('52', '>99', '<1')
    """
    value = float(value)
    return ">99" if value >= 99.5 else "<1" if value < 0.5 else f"{value:.0f}"
