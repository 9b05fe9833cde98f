"""Psychometrics of an instrument's scales on a cohort: Cronbach's alpha,
McDonald's omega, item statistics, with bootstrap intervals.

Every function takes the item matrix of :func:`item_matrix` (one row per
assessment, one column per item, NaN where a cell is not an answer on the
scale) and returns a tidy table, numbers unrounded.

Bootstraps resample with ``numpy.random.default_rng(seed).integers(0, n,
(n_boot, n))``, the draws :func:`scipy.stats.bootstrap` makes, and give BCa
intervals (percentile when BCa is undefined). They are vectorised: every
resample is a row of multiplicities and the resampled covariance matrices
come from one matrix product.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from sensoryprofile import columns as C
from sensoryprofile.analysis import stats as ST
from sensoryprofile.analysis.stats import bca_interval, bootstrap_indices, resample_counts
from sensoryprofile.columns import (
    ALPHA,
    ALPHA_HIGH,
    ALPHA_IF_DELETED,
    ALPHA_LOW,
    ITEM,
    ITEM_TOTAL_R,
    ITEMS_LOWERING_ALPHA,
    LEFT_OUT,
    LOADING,
    LOWERS_ALPHA,
    MEAN,
    N_COMPLETE,
    N_INCOMPLETE,
    NOTE,
    OMEGA,
    OMEGA_HIGH,
    OMEGA_LOW,
    SD,
)
from sensoryprofile.errors import UsageError
from sensoryprofile.instruments import Instrument, load_instrument
from sensoryprofile.measures.responses import (
    BLANK,
    FIRST_VALUE,
    OFF,
    codec_for,
    encode_item_columns,
)

#: Scores analysed for internal consistency.
CONSISTENCY_KINDS = ("quadrant", "section", "composite", "total", "factor")
#: Why an answer is not a position on the scale (:func:`item_gaps`), by code.
GAP_REASONS = {1: "a blank answer", 2: "an answer off the scale", 3: "a \"does not apply\" answer"}
_MAX_SWEEPS = 5000   # minres sweeps before giving up on convergence
_TOL = 1e-12         # minres convergence: largest loading change, relative
_CHUNK = 4_000_000   # elements per block of bootstrap work (memory bound)


# ---------------------------------------------------------------------------
# item responses
# ---------------------------------------------------------------------------
def item_matrix(assessments: pd.DataFrame, instrument: Instrument | str) -> pd.DataFrame:
    """Numeric item responses of one instrument, one row per assessment.

    Parameters
    ----------
    assessments : DataFrame
        A wide assessments table (``Dataset.assessments``): one row per
        assessment, one column per item id, cells as text or numbers. Rows
        whose ``instrument`` column names another instrument are left out;
        without that column every row is read. Never mutated.
    instrument : Instrument or shipped id

    Returns
    -------
    DataFrame
        Float responses, columns the instrument's item ids in definition
        order (column index named ``item``), indexed by ``assessment_id``
        when the table has one. NaN where the cell is blank, off the response
        scale, or "does not apply" (whatever the instrument counts it as in a
        raw score: it is not a position on the frequency scale).

    Notes
    -----
    Cells are read by :func:`sensoryprofile.measures.responses.encode_item_columns`
    (numbers as text, labels in any case), so a value is NaN here exactly
    when scoring does not count it as an answer on the scale. A
    reverse-keyed item holds its answer as it counts in a score (lowest +
    highest - answer), so that every item of a scale runs the same way.

    Examples
    --------
    >>> rows = pd.DataFrame({"assessment_id": ["A1", "A2"], "dc_001": ["5", "0"],
    ...                      "dc_002": ["Half the time", "7"]})
    >>> m = item_matrix(rows, "demo-child")
    >>> m.shape, m.index.tolist()
    ((2, 80), ['A1', 'A2'])
    >>> m.loc["A1", ["dc_001", "dc_002", "dc_003"]].tolist()  # 3 blank
    [5.0, 3.0, nan]
    >>> m.loc["A2", ["dc_001", "dc_002"]].tolist()  # "does not apply", off the scale
    [nan, nan]
    """
    inst = load_instrument(instrument)
    frame = assessments
    if not isinstance(frame, pd.DataFrame):
        raise UsageError("`assessments` must be a pandas DataFrame (a wide assessments "
                         f"table), but {type(frame).__name__} was passed")
    if C.INSTRUMENT in frame.columns:
        mine = (frame[C.INSTRUMENT].astype("string").str.strip() == inst.id).fillna(False)
        frame = frame[mine.to_numpy(dtype=bool)]
    codes, _ = encode_item_columns(frame, inst)
    codec = codec_for(inst)
    answers = np.where(np.isin(codec.allowed, inst.response_scale.na_codes), np.nan,
                       codec.allowed)
    lookup = np.full(FIRST_VALUE + len(answers), np.nan)
    lookup[FIRST_VALUE:] = answers
    # the codes below FIRST_VALUE (blank, off the scale) stay NaN
    values = lookup[codes]
    reverse = np.array([bool(getattr(item, "reverse", False)) for item in inst.items])
    if reverse.any():  # reverse-keyed items as they count: lowest + highest - answer
        low, high = np.nanmin(answers), np.nanmax(answers)
        values[:, reverse] = low + high - values[:, reverse]
    index = (pd.Index(frame[C.ASSESSMENT_ID].to_numpy(dtype=object), name=C.ASSESSMENT_ID)
             if C.ASSESSMENT_ID in frame.columns else frame.index)
    return pd.DataFrame(np.ascontiguousarray(values), index=index,
                        columns=pd.Index(list(inst.item_ids), name=ITEM))


# ---------------------------------------------------------------------------
# covariance matrices of resamples
# ---------------------------------------------------------------------------
def jackknife_covariances(x: np.ndarray) -> np.ndarray:
    """The ``(n, k, k)`` covariance matrices (ddof 1) of the leave-one-out
    samples of the rows of ``x``: the full sums minus each row, O(n k^2)."""
    x = np.asarray(x, dtype=float)
    n = x.shape[0]
    x = x - x.mean(axis=0)
    total = x.sum(axis=0)
    second = x.T @ x
    mean = (total[None, :] - x) / (n - 1.0)
    sums = second[None] - x[:, :, None] * x[:, None, :]
    with np.errstate(invalid="ignore", divide="ignore"):  # n = 2: NaN, no interval
        return (sums - (n - 1.0) * mean[:, :, None] * mean[:, None, :]) / (n - 2.0)


def weighted_covariances(x: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Covariance matrices (ddof 1) of the rows of ``x`` repeated by ``weights``.

    ``x`` is ``(n, k)``; ``weights`` is ``(m, n)`` multiplicities, one row
    per (re)sample, each summing to its sample size. Returns ``(m, k, k)``.
    One matrix product with the ``(n, k*k)`` outer products does every
    resample at once (in blocks, to bound memory).
    """
    x = np.asarray(x, dtype=float)
    n, k = x.shape
    x = x - x.mean(axis=0)  # shift-invariant; keeps the one-pass sums well conditioned
    outer = (x[:, :, None] * x[:, None, :]).reshape(n, k * k)
    out = np.empty((weights.shape[0], k, k))
    step = max(1, _CHUNK // max(1, n + k * k))
    for start in range(0, weights.shape[0], step):
        w = weights[start:start + step].astype(float)
        size = w.sum(axis=1)
        mean = (w @ x) / size[:, None]
        second = (w @ outer).reshape(-1, k, k)
        out[start:start + step] = (second - size[:, None, None] * mean[:, :, None]
                                   * mean[:, None, :]) / (size - 1.0)[:, None, None]
    return out


# ---------------------------------------------------------------------------
# reliability coefficients
# ---------------------------------------------------------------------------
def alpha_from_covariance(cov: np.ndarray) -> np.ndarray:
    """Cronbach's alpha of item covariance matrices ``(..., k, k)``."""
    cov = np.asarray(cov, dtype=float)
    k = cov.shape[-1]
    total = cov.sum(axis=(-2, -1))
    trace = np.trace(cov, axis1=-2, axis2=-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(total > 0, k / (k - 1.0) * (1.0 - trace / total), np.nan)


def one_factor_loadings(cov: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """One-factor loadings of covariance matrices ``(..., k, k)`` by minres.

    Returns ``(loadings, converged)``: loadings ``(..., k)`` in the items'
    units, signed so that they sum to >= 0, and whether the iteration met
    its tolerance. See :func:`omega_from_covariance` for the method.
    """
    cov = np.asarray(cov, dtype=float)
    shape = cov.shape
    k = shape[-1]
    cov = cov.reshape(-1, k, k)
    off = cov.copy()
    off[:, np.arange(k), np.arange(k)] = 0.0
    # start: Thurstone's centroid loadings (positive when items covary positively)
    sums = off.sum(axis=2)
    grand = sums.sum(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        lam = np.where(grand > 0, sums / np.sqrt(np.abs(grand)), np.nan)
    fallback = np.sqrt(np.clip(np.diagonal(cov, axis1=1, axis2=2), 0, None)) / 2.0
    lam = np.where(np.isfinite(lam), lam, fallback)
    scale = np.sqrt(np.clip(np.diagonal(cov, axis1=1, axis2=2).max(axis=1), 1e-300, None))
    bound = np.sqrt(np.clip(np.diagonal(cov, axis1=1, axis2=2), 0, None))  # psi >= 0
    lam = np.clip(lam, -bound, bound)
    active = np.ones(lam.shape[0], dtype=bool)
    squares = (lam**2).sum(axis=1)
    for _ in range(_MAX_SWEEPS):
        rows = np.flatnonzero(active)
        if not len(rows):
            break
        lam_a, off_a, sq, bound_a = lam[rows], off[rows], squares[rows], bound[rows]
        change = np.zeros(len(rows))
        for i in range(k):  # Gauss-Seidel: each loading given the current others
            old = lam_a[:, i].copy()
            rest = sq - old**2
            with np.errstate(invalid="ignore", divide="ignore"):
                new = np.where(rest > 0, np.einsum("rj,rj->r", off_a[:, i, :], lam_a) / rest,
                               old)
            new = np.clip(new, -bound_a[:, i], bound_a[:, i])
            lam_a[:, i] = new
            sq = rest + new**2
            np.maximum(change, np.abs(new - old), out=change)
        lam[rows], squares[rows] = lam_a, sq
        active[rows] = change > _TOL * scale[rows]
    sign = np.where(lam.sum(axis=1) < 0, -1.0, 1.0)
    return (lam * sign[:, None]).reshape(shape[:-1]), (~active).reshape(shape[:-2])


def omega_from_covariance(cov: np.ndarray) -> np.ndarray:
    """McDonald's omega total of item covariance matrices ``(..., k, k)``.

    Notes
    -----
    One-factor model :math:`\\Sigma = \\lambda\\lambda^T + \\Psi` fitted by
    minres (unweighted least squares on the off-diagonal covariances, Harman
    & Jones 1966): coordinate descent, each loading in turn set to its exact
    least-squares value given the others,

    .. math::

        \\lambda_i \\leftarrow \\frac{\\sum_{j \\ne i} s_{ij} \\lambda_j}
                                    {\\sum_{j \\ne i} \\lambda_j^2},

    from Thurstone's centroid loadings, sweeping until no loading moves by
    more than 1e-12 of the largest item SD (at most 5000 sweeps). Every step
    lowers the residual sum of squares, so the result is deterministic and a
    minimum of the minres criterion. Then :math:`\\psi_i = s_{ii} -
    \\lambda_i^2`, set to 0 when negative (a Heywood case), and

    .. math::

        \\omega_t = \\frac{(\\sum \\lambda_i)^2}{(\\sum \\lambda_i)^2 + \\sum \\psi_i}.

    The model is fitted to covariances, so omega, like alpha, describes the
    raw (unweighted) sum score the instrument reports. When every item
    covaries equally with every other (essential tau-equivalence) the two
    coincide.

    References
    ----------
    McDonald, R. P. (1999). Test theory: A unified treatment. Erlbaum.
    Harman, H. H., & Jones, W. H. (1966). Factor analysis by minimizing
    residuals (minres). Psychometrika, 31(3), 351-368.
    """
    cov = np.asarray(cov, dtype=float)
    lam, _ = one_factor_loadings(cov)
    psi = np.clip(np.diagonal(cov, axis1=-2, axis2=-1) - lam**2, 0.0, None)
    common = lam.sum(axis=-1) ** 2
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(common + psi.sum(axis=-1) > 0, common / (common + psi.sum(axis=-1)),
                        np.nan)


def item_gaps(assessments: pd.DataFrame, instrument: Instrument | str) -> pd.DataFrame:
    """Why each cell of :func:`item_matrix` is NaN: 0 answered, then the
    codes of :data:`GAP_REASONS` (1 blank, 2 off the scale, 3 "does not
    apply"); same rows, columns and index as :func:`item_matrix`."""
    inst = load_instrument(instrument)
    frame = assessments
    if C.INSTRUMENT in frame.columns:
        mine = (frame[C.INSTRUMENT].astype("string").str.strip() == inst.id).fillna(False)
        frame = frame[mine.to_numpy(dtype=bool)]
    codes, _ = encode_item_columns(frame, inst)
    codec = codec_for(inst)
    is_na = np.zeros(FIRST_VALUE + len(codec.allowed), dtype=bool)
    is_na[FIRST_VALUE:] = np.isin(codec.allowed, inst.response_scale.na_codes)
    gaps = np.select([codes == BLANK, codes == OFF, is_na[codes]], [1, 2, 3], 0).astype(np.int8)
    index = (pd.Index(frame[C.ASSESSMENT_ID].to_numpy(dtype=object), name=C.ASSESSMENT_ID)
             if C.ASSESSMENT_ID in frame.columns else frame.index)
    return pd.DataFrame(gaps, index=index, columns=pd.Index(list(inst.item_ids), name=ITEM))


def left_out_text(gaps: np.ndarray) -> str:
    """Why the incomplete rows of one scale were left out, in words: each row
    counted once, under its first reason in the order "does not apply",
    blank, off the scale (``gaps``: the scale's columns of :func:`item_gaps`)."""
    gaps = np.asarray(gaps)
    if gaps.size == 0:
        return ""
    left = (gaps != 0).any(axis=1)
    parts = []
    taken = np.zeros(len(gaps), dtype=bool)
    for code in (3, 1, 2):
        rows = left & ~taken & (gaps == code).any(axis=1)
        taken |= rows
        if rows.any():
            parts.append(f"{int(rows.sum())} with {GAP_REASONS[code]}")
    return "; ".join(parts)


def _complete_rows(values: np.ndarray) -> np.ndarray:
    return values[~np.isnan(values).any(axis=1)]


def cronbach_alpha(items) -> float:
    """Cronbach's alpha of an ``(n, k)`` item matrix (rows with a NaN dropped).

    Notes
    -----
    .. math::

        \\alpha = \\frac{k}{k - 1}\\left(1 - \\frac{\\sum_i s_i^2}{s_X^2}\\right)

    with :math:`s_i^2` the item variances and :math:`s_X^2` the variance of
    the sum of the items (Cronbach 1951). NaN with fewer than 2 complete rows
    or items, or when the total does not vary.

    References
    ----------
    Cronbach, L. J. (1951). Coefficient alpha and the internal structure of
    tests. Psychometrika, 16(3), 297-334.

    Examples
    --------
    >>> round(cronbach_alpha([[1, 2, 2, 1], [2, 3, 3, 2], [3, 3, 4, 3], [4, 4, 4, 5],
    ...                       [5, 5, 4, 4]]), 6)
    0.950067
    """
    x = _complete_rows(np.asarray(items, dtype=float))
    if x.shape[0] < 2 or x.shape[1] < 2:
        return float("nan")
    return float(alpha_from_covariance(np.cov(x, rowvar=False)))


def mcdonald_omega(items) -> float:
    """McDonald's omega total of an ``(n, k)`` item matrix (rows with a NaN
    dropped), from a one-factor minres fit; see :func:`omega_from_covariance`."""
    x = _complete_rows(np.asarray(items, dtype=float))
    if x.shape[0] < 2 or x.shape[1] < 2:
        return float("nan")
    return float(omega_from_covariance(np.cov(x, rowvar=False)))


def _scales(instrument: Instrument, kinds: Sequence[str]):
    return [s for s in instrument.scores if s.kind in kinds]


def internal_consistency(items: pd.DataFrame, instrument: Instrument | str, *,
                         kinds: Sequence[str] = CONSISTENCY_KINDS,
                         n_boot: int = ST.DEFAULT_BOOT, seed: int = ST.DEFAULT_SEED,
                         confidence: float = ST.CONFIDENCE,
                         min_n: int = ST.MIN_GROUP, gaps: pd.DataFrame | None = None
                         ) -> pd.DataFrame:
    """Cronbach's alpha and McDonald's omega of each scale of the form
    (quadrants, sections, composites, totals, factors).

    Parameters
    ----------
    items : DataFrame
        Item matrix of :func:`item_matrix`, one row per assessment. Use one
        assessment per child (the intake: :meth:`CohortAnalysis.build` does)
        so that rows are independent observations.
    instrument : Instrument or shipped id
    kinds : which kinds of score to analyse (default every kind).
    n_boot, seed, confidence : bootstrap resamples, seed and interval level.
    min_n : fewer complete assessments than this gives NaN (and a note).
    gaps : :func:`item_gaps` of the same rows, optional: then ``left_out``
        says why the incomplete assessments were left out.

    Returns
    -------
    DataFrame
        One row per score, in definition order: ``score``, ``score_name``,
        ``kind``, ``n_items``, ``n_complete`` (assessments with every item
        of the score answered on the scale: the rows used),
        ``n_incomplete`` (rows left out), ``left_out`` (why, e.g. "3 with a
        \"does not apply\" answer; 1 with a blank answer"), ``alpha``, ``alpha_low``,
        ``alpha_high``, ``omega``, ``omega_low``, ``omega_high``,
        ``items_lowering_alpha`` (item ids, ';'-separated, whose deletion
        would raise alpha; see :func:`item_statistics`) and ``note``.

    Notes
    -----
    Listwise deletion per score: an assessment with a blank, off-scale or
    "does not apply" answer to one of a score's items is left out of that
    score only (``n_incomplete``). Alpha: :func:`cronbach_alpha`; omega:
    :func:`omega_from_covariance`. Intervals are BCa bootstrap intervals
    resampling assessments (see :func:`bca_interval`); the resampled
    coefficients are computed for all resamples at once from their
    covariance matrices.

    Examples
    --------
    >>> rows = pd.DataFrame({f"dc_{i:03d}": [1, 2, 3, 4, 5, 2] for i in range(1, 81)})
    >>> table = internal_consistency(item_matrix(rows, "demo-child"), "demo-child", n_boot=50)
    >>> row = table.iloc[0]
    >>> print(row["score"], int(row["n_complete"]), round(float(row["alpha"]), 6),
    ...       round(float(row["omega"]), 6))
    seeking 6 1.0 1.0
    """
    inst = load_instrument(instrument)
    _check_items(items, inst)
    records = []
    for score in _scales(inst, kinds):
        x_all = items[list(score.items)].to_numpy(dtype=float)
        x = _complete_rows(x_all)
        n, k = x.shape
        rec = {C.SCORE: score.id, C.SCORE_NAME: score.name, C.KIND: score.kind,
               C.N_ITEMS: k, N_COMPLETE: n, N_INCOMPLETE: len(x_all) - n,
               LEFT_OUT: (left_out_text(gaps[list(score.items)].to_numpy())
                          if gaps is not None else "")}
        rec.update(dict.fromkeys([ALPHA, ALPHA_LOW, ALPHA_HIGH, OMEGA, OMEGA_LOW,
                                  OMEGA_HIGH], float("nan")))
        rec[ITEMS_LOWERING_ALPHA], rec[NOTE] = "", ""
        if n < max(min_n, 2) or k < 2:
            rec[NOTE] = (f"fewer than {max(min_n, 2)} complete assessments" if k >= 2
                         else "fewer than 2 items")
            records.append(rec)
            continue
        cov = np.cov(x, rowvar=False)
        rec[ALPHA] = float(alpha_from_covariance(cov))
        lam, converged = one_factor_loadings(cov)
        rec[OMEGA] = float(omega_from_covariance(cov))
        notes = []
        if not bool(converged):
            notes.append("omega: the one-factor fit did not converge")
        if (np.diag(cov) - lam**2 < 0).any():
            notes.append("omega: Heywood case (an item's unique variance set to 0)")
        boot_cov = weighted_covariances(x, resample_counts(bootstrap_indices(n, n_boot, seed),
                                                           n))
        jack_cov = jackknife_covariances(x)
        rec[ALPHA_LOW], rec[ALPHA_HIGH] = bca_interval(
            rec[ALPHA], alpha_from_covariance(boot_cov), alpha_from_covariance(jack_cov),
            confidence=confidence)
        rec[OMEGA_LOW], rec[OMEGA_HIGH] = bca_interval(
            rec[OMEGA], omega_from_covariance(boot_cov), omega_from_covariance(jack_cov),
            confidence=confidence)
        deleted = _alpha_if_deleted(cov)
        rec[ITEMS_LOWERING_ALPHA] = ";".join(
            item for item, a in zip(score.items, deleted, strict=True)
            if _lowers(a, rec[ALPHA]))
        rec[NOTE] = "; ".join(notes)
        records.append(rec)
    return pd.DataFrame.from_records(records, columns=[
        C.SCORE, C.SCORE_NAME, C.KIND, C.N_ITEMS, N_COMPLETE, N_INCOMPLETE, LEFT_OUT, ALPHA,
        ALPHA_LOW, ALPHA_HIGH, OMEGA, OMEGA_LOW, OMEGA_HIGH, ITEMS_LOWERING_ALPHA, NOTE])


def _lowers(alpha_without: float, alpha: float) -> bool:
    """True when deleting the item would raise alpha (beyond rounding noise)."""
    return bool(np.round(alpha_without, 10) > np.round(alpha, 10))


def _alpha_if_deleted(cov: np.ndarray) -> np.ndarray:
    k = cov.shape[0]
    if k < 3:
        return np.full(k, np.nan)
    row = cov.sum(axis=1)
    rest_var = cov.sum() - 2.0 * row + np.diag(cov)
    rest_trace = np.trace(cov) - np.diag(cov)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(rest_var > 0, (k - 1.0) / (k - 2.0) * (1.0 - rest_trace / rest_var),
                        np.nan)


def _check_items(items, inst: Instrument) -> None:
    if not isinstance(items, pd.DataFrame):
        raise UsageError("`items` must be the item matrix of item_matrix() (a DataFrame), "
                         f"but {type(items).__name__} was passed")
    missing = [i for i in inst.item_ids if i not in items.columns]
    if missing:
        raise UsageError(f"`items` lacks {len(missing)} item column(s) of {inst.id} "
                         f"(first: {missing[0]}); build it with item_matrix(..., {inst.id!r})")


def item_statistics(items: pd.DataFrame, instrument: Instrument | str, *,
                    kinds: Sequence[str] = CONSISTENCY_KINDS,
                    min_n: int = ST.MIN_GROUP) -> pd.DataFrame:
    """Item analysis of each quadrant and section.

    Parameters
    ----------
    items : DataFrame, item matrix of :func:`item_matrix` (one row per child).
    instrument : Instrument or shipped id
    kinds : which kinds of score to analyse.
    min_n : fewer complete assessments than this gives NaN statistics.

    Returns
    -------
    DataFrame
        One row per score x item, in definition order: ``score``,
        ``score_name``, ``kind``, ``item``, ``n_complete`` (rows used: those
        complete on the score's items), ``mean``, ``sd`` (ddof 1),
        ``item_total_r`` (corrected item-total correlation: with the sum of
        the score's other items), ``alpha_if_deleted``, ``lowers_alpha``
        (deleting the item would raise alpha) and ``loading`` (standardised
        one-factor minres loading, :func:`one_factor_loadings` divided by the
        item SD).

    Notes
    -----
    With the item covariance matrix :math:`S` and :math:`r_i = \\sum_j s_{ij}`:
    the rest score without item *i* has variance :math:`V_i = \\sum S - 2r_i
    + s_{ii}` and covariance :math:`r_i - s_{ii}` with the item, so the
    corrected correlation is :math:`(r_i - s_{ii}) / \\sqrt{s_{ii} V_i}` and
    alpha if deleted is :math:`\\frac{k-1}{k-2}(1 - (\\mathrm{tr}\\,S -
    s_{ii}) / V_i)`. The same complete rows are used for every item of a
    score, so the numbers agree with :func:`internal_consistency`.
    """
    inst = load_instrument(instrument)
    _check_items(items, inst)
    frames = []
    for score in _scales(inst, kinds):
        x = _complete_rows(items[list(score.items)].to_numpy(dtype=float))
        n, k = x.shape
        nan = np.full(k, np.nan)
        mean, sd, corrected, deleted, loading = nan, nan, nan, nan, nan
        lowers = np.zeros(k, dtype=bool)
        if n >= max(min_n, 2) and k >= 2:
            cov = np.cov(x, rowvar=False)
            var = np.diag(cov)
            row = cov.sum(axis=1)
            rest_var = cov.sum() - 2.0 * row + var
            mean, sd = x.mean(axis=0), np.sqrt(var)
            with np.errstate(divide="ignore", invalid="ignore"):
                corrected = (row - var) / np.sqrt(var * rest_var)
                lam, _ = one_factor_loadings(cov)
                loading = lam / sd
            deleted = _alpha_if_deleted(cov)
            alpha = float(alpha_from_covariance(cov))
            lowers = np.array([_lowers(a, alpha) for a in deleted], dtype=bool)
        frames.append(pd.DataFrame({
            C.SCORE: score.id, C.SCORE_NAME: score.name, C.KIND: score.kind,
            ITEM: list(score.items), N_COMPLETE: n, MEAN: mean, SD: sd,
            ITEM_TOTAL_R: corrected, ALPHA_IF_DELETED: deleted, LOWERS_ALPHA: lowers,
            LOADING: loading}))
    columns = [C.SCORE, C.SCORE_NAME, C.KIND, ITEM, N_COMPLETE, MEAN, SD, ITEM_TOTAL_R,
               ALPHA_IF_DELETED, LOWERS_ALPHA, LOADING]
    if not frames:
        return pd.DataFrame(columns=columns)
    return pd.concat(frames, ignore_index=True)[columns]
