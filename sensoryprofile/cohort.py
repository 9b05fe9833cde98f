"""The researcher's cohort analysis: psychometrics, pre/post change, goal
attainment, and provenance so that a rerun can be compared byte for byte.

Every section of ``notebooks/cohort_analysis.ipynb`` is one function here that
returns a tidy table (one row per result, numbers unrounded):

* :func:`describe_sample` - children, assessments, age at intake, diagnoses,
  follow-up time, respondents;
* :func:`internal_consistency` and :func:`item_statistics` - Cronbach's alpha
  and McDonald's omega per quadrant and section with bootstrap intervals,
  corrected item-total correlations and "alpha if item deleted";
* :func:`quadrant_correlations` and :func:`norm_distribution` - Spearman
  intercorrelations, and the share of children per classification against the
  shares the norms imply;
* :func:`sensory_change` - intake versus latest per quadrant: Wilcoxon
  signed-rank, rank-biserial and Cohen's dz with intervals (the numbers of
  :func:`sensoryprofile.stats.paired_change`, computed by
  :func:`paired_change_vectorised`), reliable change (RCI), by diagnosis
  with small groups suppressed;
* :func:`gas_levels`, :func:`gas_tscore_change` and :func:`goal_correlation`
  - final goal levels, T-score change, and the goal inter-correlation rho
  estimated from the data;
* :func:`provenance` - SHA-256 of every input file and instrument definition,
  package versions, seed and number of resamples.

:class:`CohortAnalysis` runs them all; :meth:`CohortAnalysis.export` writes
each numeric table as CSV (``%.10g`` floats, LF line endings, fixed row order)
and ``provenance.json``: no timestamps, so two runs on the same data with the
same seed give byte-identical files.

Bootstraps resample with ``numpy.random.default_rng(seed).integers(0, n,
(n_boot, n))``, the draws :func:`scipy.stats.bootstrap` makes, and give BCa
intervals (percentile when BCa is undefined), like
:func:`sensoryprofile.stats.bootstrap_interval`; the tests check that the
intervals equal scipy's. They are vectorised: for alpha, omega and rho every
resample is a row of multiplicities and the resampled covariance matrices
(or ANOVA sums) come from one matrix product; for the paired statistics the
resampled differences are one ``(n_boot, n)`` array. With the default 2000
resamples the whole analysis of the sample dataset takes about 10 seconds.
"""

from __future__ import annotations

import hashlib
import html
import importlib.metadata
import json
import os
import platform
import textwrap
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.lines import Line2D
from scipy import stats as sps

from sensoryprofile import change as CH
from sensoryprofile import columns as C
from sensoryprofile import goals as G
from sensoryprofile import plots as P
from sensoryprofile import stats as ST
from sensoryprofile.errors import UsageError
from sensoryprofile.instruments import Instrument, load_instrument
from sensoryprofile.scoring import FIRST_VALUE, codec_for, encode_item_columns
from sensoryprofile.tables import atomic_write

# ---------------------------------------------------------------------------
# column names of the cohort tables (the rest come from sensoryprofile.columns
# and the keys of sensoryprofile.stats.paired_change)
# ---------------------------------------------------------------------------
MEASURE = "measure"
CATEGORY = "category"
N = P.N
SHARE = P.SHARE
MEDIAN = P.MEDIAN
Q1 = "q1"
Q3 = "q3"
NOTE = "note"
ITEM = "item"
N_COMPLETE = "n_complete"
N_INCOMPLETE = "n_incomplete"
ALPHA = "alpha"
ALPHA_LOW = "alpha_low"
ALPHA_HIGH = "alpha_high"
OMEGA = "omega"
OMEGA_LOW = "omega_low"
OMEGA_HIGH = "omega_high"
ITEMS_LOWERING_ALPHA = "items_lowering_alpha"
MEAN = "mean"
SD = "sd"
ITEM_TOTAL_R = "item_total_r"
ALPHA_IF_DELETED = "alpha_if_deleted"
LOWERS_ALPHA = "lowers_alpha"
LOADING = "loading"
SCORE_A = "score_a"
SCORE_B = "score_b"
SCORE_NAME_A = "score_name_a"
SCORE_NAME_B = "score_name_b"
SPEARMAN_RHO = "spearman_rho"
P_VALUE = "p_value"
TIMEPOINT = P.TIMEPOINT
EXPECTED_SHARE = "expected_share"
N_CLASSIFIED = "n_classified"
N_NOT_CLASSIFIED = "n_not_classified"
GROUP = "group"
N_WITH_RCI = "n_with_rci"
N_RELIABLE = "n_reliable"
SHARE_RELIABLE = "share_reliable"
N_RELIABLE_TOWARD = "n_reliable_toward_typical"
SHARE_RELIABLE_TOWARD = "share_reliable_toward_typical"
N_RELIABLE_AWAY = "n_reliable_away_from_typical"
SHARE_RELIABLE_AWAY = "share_reliable_away_from_typical"
MEDIAN_CHANGE_LOW = "median_change_low"
MEDIAN_CHANGE_HIGH = "median_change_high"
SUPPRESSED = "suppressed"
N_CHILDREN = "n_children"
N_GOALS = C.N_GOALS
K0 = "k0"
MS_BETWEEN = "ms_between"
MS_WITHIN = "ms_within"
F_STATISTIC = "f"
DF_BETWEEN = "df_between"
DF_WITHIN = "df_within"
RHO = "rho"
RHO_LOW = "rho_low"
RHO_HIGH = "rho_high"
RHO_ASSUMED = "rho_assumed"
NAME = "name"
VALUE = "value"

#: Values of ``timepoint``.
INTAKE = "intake"
LATEST = "latest"
#: Values of ``measure`` in :func:`sensory_change`.
RAW_MEASURE = "raw"
DISTANCE_MEASURE = "abs_z"
MEASURES = (RAW_MEASURE, DISTANCE_MEASURE)
MEASURE_WORDS = {RAW_MEASURE: "raw score",
                 DISTANCE_MEASURE: "distance from the norm mean (|z|)"}
#: The group of every child, first in subgroup tables.
ALL_CHILDREN = "all children"
NOT_RECORDED = "not recorded"
#: Note of a suppressed group (fewer than :data:`sensoryprofile.stats.MIN_GROUP`).
FEWER = f"fewer than {ST.MIN_GROUP}"
#: Scores analysed for internal consistency.
CONSISTENCY_KINDS = ("quadrant", "section")

#: CSV exports: table name -> file name.
CSV_FILES = {
    "sample": "sample_description.csv",
    "consistency": "internal_consistency.csv",
    "items": "item_statistics.csv",
    "correlations": "quadrant_correlations.csv",
    "distribution": "norm_distribution.csv",
    "change": "sensory_change.csv",
    "gas_levels": "gas_levels.csv",
    "gas_change": "gas_tscore_change.csv",
    "gas_rho": "gas_goal_correlation.csv",
}
PROVENANCE_FILE = "provenance.json"
FLOAT_FORMAT = "%.10g"
#: Packages whose versions the provenance records.
PACKAGES = ("sensoryprofile", "numpy", "pandas", "scipy", "matplotlib", "papermill",
            "nbconvert")

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
    Cells are read by :func:`sensoryprofile.scoring.encode_item_columns`
    (numbers as text, labels in any case), so a value is NaN here exactly
    when scoring does not count it as an answer on the scale.

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
    index = (pd.Index(frame[C.ASSESSMENT_ID].to_numpy(dtype=object), name=C.ASSESSMENT_ID)
             if C.ASSESSMENT_ID in frame.columns else frame.index)
    return pd.DataFrame(np.ascontiguousarray(values), index=index,
                        columns=pd.Index(list(inst.item_ids), name=ITEM))


def series_assessments(dataset, instrument: str, respondent: str | None = None
                       ) -> pd.DataFrame:
    """The assessments of one instrument by one respondent type, in order.

    Parameters
    ----------
    dataset : Dataset
    instrument : instrument id (must be among ``dataset.instruments``).
    respondent : respondent type; default the instrument's own respondent
        (e.g. caregiver), so a teacher form is never mixed with a caregiver's.

    Returns
    -------
    DataFrame
        The rows of ``dataset.assessments`` (all columns), sorted by child,
        date and assessment id, with three columns added: ``position`` (0 =
        intake), ``intake`` (first of the child's series) and ``latest``
        (last of a series of two or more).
    """
    inst = _instrument(dataset, instrument)
    respondent = inst.respondent if respondent is None else respondent
    table = dataset.assessments
    mine = ((table[C.INSTRUMENT].astype(str) == inst.id)
            & (table[C.RESPONDENT].astype(str) == respondent)).to_numpy(dtype=bool)
    rows = table[mine].sort_values([C.CHILD_ID, C.DATE, C.ASSESSMENT_ID], kind="stable")
    child = rows[C.CHILD_ID].to_numpy(dtype=object)
    first = np.ones(len(rows), dtype=bool)
    first[1:] = child[1:] != child[:-1]
    last = np.ones(len(rows), dtype=bool)
    last[:-1] = child[:-1] != child[1:]
    position = rows.groupby(C.CHILD_ID, sort=False).cumcount().to_numpy()
    return rows.assign(position=position, intake=first, latest=last & ~first).reset_index(
        drop=True)


def _instrument(dataset, instrument: str) -> Instrument:
    if isinstance(instrument, Instrument):
        instrument = instrument.id
    if instrument not in dataset.instruments:
        known = ", ".join(sorted(dataset.instruments)) or "none"
        raise UsageError(f"The value for `instrument` must be one of the instruments in the "
                         f"dataset [{known}], but {instrument!r} was passed")
    return dataset.instruments[instrument]


# ---------------------------------------------------------------------------
# bootstrap machinery (vectorised; the draws and the BCa of scipy.stats.bootstrap)
# ---------------------------------------------------------------------------
def resample_counts(indices: np.ndarray, n: int) -> np.ndarray:
    """How often each observation appears in each resample, ``(n_boot, n)`` int32."""
    b = indices.shape[0]
    flat = (indices + n * np.arange(b)[:, None]).ravel()
    return np.bincount(flat, minlength=b * n).reshape(b, n).astype(np.int32)


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
                         min_n: int = ST.MIN_GROUP) -> pd.DataFrame:
    """Cronbach's alpha and McDonald's omega of each quadrant and section.

    Parameters
    ----------
    items : DataFrame
        Item matrix of :func:`item_matrix`, one row per assessment. Use one
        assessment per child (the intake: :meth:`CohortAnalysis.build` does)
        so that rows are independent observations.
    instrument : Instrument or shipped id
    kinds : which kinds of score to analyse (default quadrants and sections).
    n_boot, seed, confidence : bootstrap resamples, seed and interval level.
    min_n : fewer complete assessments than this gives NaN (and a note).

    Returns
    -------
    DataFrame
        One row per score, in definition order: ``score``, ``score_name``,
        ``kind``, ``n_items``, ``n_complete`` (assessments with every item
        of the score answered on the scale: the rows used),
        ``n_incomplete`` (rows left out), ``alpha``, ``alpha_low``,
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
               C.N_ITEMS: k, N_COMPLETE: n, N_INCOMPLETE: len(x_all) - n}
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
        C.SCORE, C.SCORE_NAME, C.KIND, C.N_ITEMS, N_COMPLETE, N_INCOMPLETE, ALPHA, ALPHA_LOW,
        ALPHA_HIGH, OMEGA, OMEGA_LOW, OMEGA_HIGH, ITEMS_LOWERING_ALPHA, NOTE])


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


# ---------------------------------------------------------------------------
# quadrant scores: intercorrelations and the norms
# ---------------------------------------------------------------------------
def _quadrant_rows(scores: pd.DataFrame, assessment_ids) -> pd.DataFrame:
    keep = (scores[C.ASSESSMENT_ID].isin(list(assessment_ids))
            & (scores[C.KIND].astype(str) == "quadrant")).to_numpy(dtype=bool)
    return scores[keep]


def quadrant_correlations(scores: pd.DataFrame, instrument: Instrument | str,
                          assessment_ids) -> pd.DataFrame:
    """Spearman correlations between the quadrant scores.

    Parameters
    ----------
    scores : the tidy score table (``Dataset.scores``).
    instrument : Instrument or shipped id (fixes the quadrant order).
    assessment_ids : the assessments to use, one per child (the intakes).

    Returns
    -------
    DataFrame
        One row per pair of quadrants (each pair once, in definition order):
        ``score_a``, ``score_name_a``, ``score_b``, ``score_name_b``, ``n``
        (children with both scores valid), ``spearman_rho`` and ``p_value``
        (two-sided, :func:`scipy.stats.spearmanr`; NaN with fewer than
        :data:`sensoryprofile.stats.MIN_GROUP` children).

    Notes
    -----
    Dunn's quadrants are scored independently and a child can be high on
    several, so moderate positive correlations are expected; Spearman's rank
    correlation makes no assumption of normal, interval-scaled scores.
    """
    inst = load_instrument(instrument)
    rows = _quadrant_rows(scores, assessment_ids)
    wide = (rows.assign(**{C.SCORE: rows[C.SCORE].astype(str)})
            .pivot_table(index=C.ASSESSMENT_ID, columns=C.SCORE, values=C.RAW,
                         aggfunc="first", dropna=False, observed=True))
    quadrants = [s for s in inst.quadrant_scores]
    records = []
    for i, a in enumerate(quadrants):
        for b in quadrants[i + 1:]:
            pair = (wide[[a.id, b.id]].dropna() if {a.id, b.id} <= set(wide.columns)
                    else pd.DataFrame(columns=[a.id, b.id]))
            n = len(pair)
            rho = p = float("nan")
            if n >= ST.MIN_GROUP:
                res = sps.spearmanr(pair[a.id].to_numpy(float), pair[b.id].to_numpy(float))
                rho, p = float(res.statistic), float(res.pvalue)
            records.append({SCORE_A: a.id, SCORE_NAME_A: a.name, SCORE_B: b.id,
                            SCORE_NAME_B: b.name, N: n, SPEARMAN_RHO: rho, P_VALUE: p})
    return pd.DataFrame.from_records(records, columns=[SCORE_A, SCORE_NAME_A, SCORE_B,
                                                       SCORE_NAME_B, N, SPEARMAN_RHO, P_VALUE])


def expected_shares(z_cuts: Sequence[float] = (1.0, 2.0)) -> np.ndarray:
    """Share of a normal population in each of the five classification bands
    (levels -2..+2) with cut points at +-z_cuts[0] and +-z_cuts[1] SD.

    Examples
    --------
    >>> (100 * expected_shares()).round(1).tolist()
    [2.3, 13.6, 68.3, 13.6, 2.3]
    """
    inner, outer = float(z_cuts[0]), float(z_cuts[1])
    edges = sps.norm.cdf([-outer, -inner, inner, outer])
    return np.diff(np.concatenate([[0.0], edges, [1.0]]))


def norm_distribution(scores: pd.DataFrame, instrument: Instrument | str, *,
                      intake_ids, latest_ids=()) -> pd.DataFrame:
    """Share of children in each classification per quadrant, against the
    shares the norms imply.

    Parameters
    ----------
    scores : the tidy score table (``Dataset.scores``).
    instrument : Instrument or shipped id.
    intake_ids : assessment ids of the intakes (one per child).
    latest_ids : assessment ids of the latest reassessments (one per
        reassessed child), optional.

    Returns
    -------
    DataFrame
        One row per quadrant x timepoint x level (-2..2), quadrants in
        definition order, intake first: ``score``, ``score_name``,
        ``timepoint`` ("intake"/"latest"), ``level``, ``classification``,
        ``n`` (children in the band), ``share`` (of the children classified
        on that quadrant and timepoint), ``expected_share``, ``n_classified``
        and ``n_not_classified`` (invalid scores, or no norms at that age).

    Notes
    -----
    Expected shares are those of a normal distribution cut at the
    instrument's z cut points (+-1 and +-2 SD: 2.3, 13.6, 68.3, 13.6 and
    2.3 %). For an instrument normed with cut-score tables they hold only
    as far as its cut scores follow the same SD convention. A referred
    cohort is expected to sit in the tails more often than this.
    """
    inst = load_instrument(instrument)
    expected = expected_shares(inst.z_cuts)
    labels = inst.label_list
    frames = []
    for point, ids in ((INTAKE, intake_ids), (LATEST, latest_ids)):
        rows = _quadrant_rows(scores, ids)
        if point == LATEST and rows.empty:
            continue
        for score in inst.quadrant_scores:
            mine = rows[(rows[C.SCORE].astype(str) == score.id).to_numpy(dtype=bool)]
            level = mine[C.LEVEL].to_numpy(dtype=float, na_value=np.nan)
            level = level[~np.isnan(level)].astype(int)
            counts = np.bincount(level + 2, minlength=5)
            classified = int(counts.sum())
            frames.append(pd.DataFrame({
                C.SCORE: score.id, C.SCORE_NAME: score.name, TIMEPOINT: point,
                C.LEVEL: np.arange(-2, 3), C.CLASSIFICATION: labels, N: counts,
                SHARE: counts / classified if classified else np.nan,
                EXPECTED_SHARE: expected, N_CLASSIFIED: classified,
                N_NOT_CLASSIFIED: len(mine) - classified}))
    columns = [C.SCORE, C.SCORE_NAME, TIMEPOINT, C.LEVEL, C.CLASSIFICATION, N, SHARE,
               EXPECTED_SHARE, N_CLASSIFIED, N_NOT_CLASSIFIED]
    return pd.concat(frames, ignore_index=True)[columns] if frames else pd.DataFrame(
        columns=columns)


# ---------------------------------------------------------------------------
# groups of children
# ---------------------------------------------------------------------------
def diagnosis_groups(children: pd.DataFrame) -> dict[str, set]:
    """Children by diagnosis: ``{"all children": ids, diagnosis: ids, ...}``.

    A child with two diagnoses ('autism;ADHD') is in both groups, so groups
    overlap; a blank is "not recorded". Diagnoses are sorted by name after
    the all-children group.
    """
    ids = children[C.CHILD_ID].astype(str).to_numpy(dtype=object)
    text = (children[C.DIAGNOSES].astype("string") if C.DIAGNOSES in children.columns
            else pd.Series(pd.NA, index=children.index, dtype="string"))
    groups: dict[str, set] = {}
    for child, value in zip(ids, text.fillna(NOT_RECORDED), strict=True):
        names = [d.strip() for d in str(value).split(";") if d.strip()] or [NOT_RECORDED]
        for name in dict.fromkeys(names):
            groups.setdefault(name, set()).add(child)
    return {ALL_CHILDREN: set(ids), **{k: groups[k] for k in sorted(groups, key=str.casefold)}}


def _suppress(n: int, min_n: int = ST.MIN_GROUP):
    """(n shown, suppressed?, note) for a group of n children."""
    if n < min_n:
        return pd.NA, True, FEWER
    return n, False, ""


# ---------------------------------------------------------------------------
# sample description
# ---------------------------------------------------------------------------
def _months(start: pd.Series, end: pd.Series) -> np.ndarray:
    """Elapsed months (days / 30.4375: a year is 12 months of 365.25 days)."""
    days = (pd.to_datetime(end) - pd.to_datetime(start)).dt.days.to_numpy(dtype=float)
    return days / (365.25 / 12.0)


def _spread(values) -> dict:
    v = np.asarray(values, dtype=float)
    v = v[~np.isnan(v)]
    if not len(v):
        return {N: 0, MEDIAN: np.nan, Q1: np.nan, Q3: np.nan}
    q1, med, q3 = np.percentile(v, [25, 50, 75])
    return {N: len(v), MEDIAN: float(med), Q1: float(q1), Q3: float(q3)}


def describe_sample(dataset, series: pd.DataFrame) -> pd.DataFrame:
    """Who is in the cohort.

    Parameters
    ----------
    dataset : Dataset
    series : :func:`series_assessments` of the analysed instrument.

    Returns
    -------
    DataFrame
        One row per figure: ``measure``, ``category``, ``n``, ``share``,
        ``median``, ``q1``, ``q3`` and ``note``. Measures, in order:
        children (in the dataset; with an intake on the instrument;
        reassessed), assessments (all; on the instrument, per respondent),
        age at intake in months, follow-up in months from intake to the
        latest assessment (reassessed children), sex and diagnosis of the
        cohort's children (a child with two diagnoses counts in both, so
        those shares add to more than 1), goals (set; rated at least once),
        and rows rejected at validation per table.

    Notes
    -----
    Counts of 1 to 4 children in a category (sex, diagnosis) are suppressed:
    ``n`` and ``share`` are blank and ``note`` says "fewer than 5". Age and
    follow-up show median and interquartile range (linear interpolation).
    Follow-up months are days / 30.4375.
    """
    rows: list[dict] = []

    def add(measure, category="", *, n=None, share=np.nan, note="", **spread):
        rows.append({MEASURE: measure, CATEGORY: category, N: n, SHARE: share,
                     MEDIAN: spread.get(MEDIAN, np.nan), Q1: spread.get(Q1, np.nan),
                     Q3: spread.get(Q3, np.nan), NOTE: note})

    intake = series[series["intake"]]
    latest = series[series["latest"]]
    cohort = set(intake[C.CHILD_ID].astype(str))
    inst_id = str(series[C.INSTRUMENT].iloc[0]) if len(series) else ""
    add("children", "in the dataset", n=len(dataset.children))
    add("children", "with an intake assessment", n=len(cohort))
    add("children", "reassessed (intake and latest)", n=len(latest))
    add("assessments", "all instruments", n=len(dataset.assessments))
    mine = dataset.assessments[(dataset.assessments[C.INSTRUMENT].astype(str) == inst_id)
                               .to_numpy(dtype=bool)]
    add("assessments", inst_id or "none", n=len(mine))
    for respondent, count in mine[C.RESPONDENT].astype(str).value_counts().sort_index().items():
        add("assessments by respondent", respondent, n=int(count),
            share=count / len(mine))
    ages = (dataset.scores.drop_duplicates(C.ASSESSMENT_ID).set_index(C.ASSESSMENT_ID)
            [C.AGE_MONTHS].reindex(intake[C.ASSESSMENT_ID].to_numpy()))
    add("age at intake (months)", "", **_spread(ages.to_numpy(dtype=float)))
    follow = latest.merge(intake[[C.CHILD_ID, C.DATE]], on=C.CHILD_ID,
                          suffixes=("", "_intake"))
    add("follow-up (months)", "intake to latest",
        **_spread(_months(follow[f"{C.DATE}_intake"], follow[C.DATE])))
    kids = dataset.children[dataset.children[C.CHILD_ID].astype(str).isin(cohort)]
    if C.SEX in kids.columns:
        sexes = kids[C.SEX].astype("string").fillna(NOT_RECORDED)
        for sex, count in sexes.value_counts().sort_index().items():
            shown, hidden, note = _suppress(int(count))
            add("sex", str(sex), n=shown, share=np.nan if hidden else count / len(kids),
                note=note)
    for name, members in diagnosis_groups(kids).items():
        if name == ALL_CHILDREN:
            continue
        shown, hidden, note = _suppress(len(members))
        add("diagnosis", name, n=shown, share=np.nan if hidden else len(members) / len(kids),
            note=note)
    goals = dataset.goals
    add("goals", "set", n=len(goals))
    add("goals", "rated at least once",
        n=int(goals[C.GOAL_ID].isin(dataset.goal_ratings[C.GOAL_ID]).sum()))
    add("children", "with goals", n=int(goals[C.CHILD_ID].nunique()))
    for table, count in dataset.report.counts.items():
        add("rows rejected at validation", table, n=int(count.rejected))
    out = pd.DataFrame(rows, columns=[MEASURE, CATEGORY, N, SHARE, MEDIAN, Q1, Q3, NOTE])
    out[N] = pd.array(out[N].tolist(), dtype="Int64")
    return out


# ---------------------------------------------------------------------------
# sensory change
# ---------------------------------------------------------------------------
def intake_to_latest(dataset, instrument: str, respondent: str | None = None
                     ) -> pd.DataFrame:
    """Intake-to-latest quadrant comparisons of one instrument and respondent
    type: the ``"intake_to_latest"`` rows of
    :func:`sensoryprofile.change.score_changes` (RCI included), compared or not."""
    inst = _instrument(dataset, instrument)
    respondent = inst.respondent if respondent is None else respondent
    scores = dataset.scores
    keep = ((scores[C.INSTRUMENT].astype(str) == inst.id)
            & (scores[C.RESPONDENT].astype(str) == respondent)
            & (scores[C.KIND].astype(str) == "quadrant")).to_numpy(dtype=bool)
    changes = CH.score_changes(scores[keep], {inst.id: inst})
    return changes[(changes[C.COMPARISON] == CH.INTAKE_TO_LATEST).to_numpy(dtype=bool)
                   ].reset_index(drop=True)


def sensory_change(changes: pd.DataFrame, instrument: Instrument | str,
                   groups: Mapping[str, set], *, measures: Sequence[str] = MEASURES,
                   n_boot: int = ST.DEFAULT_BOOT, seed: int = ST.DEFAULT_SEED,
                   min_n: int = ST.MIN_GROUP) -> pd.DataFrame:
    """Change from intake to latest per quadrant, for all children and by group.

    Parameters
    ----------
    changes : intake-to-latest rows of the change table (:func:`intake_to_latest`).
    instrument : Instrument or shipped id (quadrant order).
    groups : group name -> child ids (:func:`diagnosis_groups`).
    measures : ``"raw"`` (raw score) and/or ``"abs_z"`` (distance from the
        norm mean in SD units, |z|: smaller is closer to typical).
    n_boot, seed : bootstrap resamples and seed (per row, the same seed).
    min_n : groups with fewer compared pairs are suppressed.

    Returns
    -------
    DataFrame
        One row per group x quadrant x measure (groups in the order given,
        quadrants in definition order): ``group``, ``score``,
        ``score_name``, ``measure``, then the keys of
        :func:`sensoryprofile.stats.paired_change` (``n`` pairs,
        ``median_before``, ``median_after``, ``median_change``,
        ``iqr_change_low``/``high``, ``wilcoxon_w``, ``p_value``,
        ``rank_biserial`` with ``_low``/``_high``, ``cohens_dz`` with
        ``_low``/``_high``, ``suppressed``), then reliable change:
        ``n_with_rci`` (pairs with an RCI), ``n_reliable``,
        ``share_reliable``, ``n_reliable_toward_typical``,
        ``share_reliable_toward_typical``, ``n_reliable_away_from_typical``,
        ``share_reliable_away_from_typical``, and ``note``.

    Notes
    -----
    Change is latest minus intake, for the same child, instrument and
    respondent type; pairs where either score is invalid are left out. On
    the raw scale a fall is less of the behaviour; on ``abs_z`` a fall is a
    move toward the typical range, whichever tail the child started in
    (DESIGN.md), so a negative rank-biserial means most children moved
    toward typical. Reliable change: |RCI| > 1.96 (Jacobson & Truax 1991),
    on raw scores, split by the direction of the move (toward or away from
    the typical band, :data:`sensoryprofile.change.DIRECTIONS`); the RCI
    columns are the same on both measures' rows.

    Suppression: with fewer than ``min_n`` pairs every statistic is blank,
    ``n`` too, ``suppressed`` is True and ``note`` says "fewer than 5", for
    stability and privacy.
    """
    inst = load_instrument(instrument)
    for m in measures:
        if m not in MEASURES:
            raise UsageError(f"The values of `measures` must be among {list(MEASURES)}, but "
                             f"{m!r} was passed")
    compared = changes[changes[C.COMPARED].to_numpy(dtype=bool)]
    child = compared[C.CHILD_ID].astype(str).to_numpy(dtype=object)
    score_ids = compared[C.SCORE].astype(str).to_numpy(dtype=object)
    values = {
        RAW_MEASURE: (compared[C.FROM_RAW].to_numpy(float), compared[C.TO_RAW].to_numpy(float)),
        DISTANCE_MEASURE: (np.abs(compared[C.FROM_Z].to_numpy(float)),
                           np.abs(compared[C.TO_Z].to_numpy(float))),
    }
    reliable = compared[C.RELIABLE].astype("boolean")
    has_rci = reliable.notna().to_numpy()
    is_reliable = reliable.fillna(False).to_numpy(dtype=bool)
    direction = compared[C.DIRECTION].astype(object).to_numpy()
    records = []
    for group, members in groups.items():
        in_group = np.isin(child, list(members))
        for score in inst.quadrant_scores:
            rows = in_group & (score_ids == score.id)
            for measure in measures:
                before, after = values[measure]
                res = paired_change_vectorised(before[rows], after[rows], n_boot=n_boot,
                                               seed=seed, min_n=min_n)
                rec = {GROUP: group, C.SCORE: score.id, C.SCORE_NAME: score.name,
                       MEASURE: measure, **res}
                counts = {
                    N_WITH_RCI: int((rows & has_rci).sum()),
                    N_RELIABLE: int((rows & is_reliable).sum()),
                    N_RELIABLE_TOWARD: int((rows & is_reliable
                                            & (direction == CH.TOWARD_TYPICAL)).sum()),
                    N_RELIABLE_AWAY: int((rows & is_reliable
                                          & (direction == CH.AWAY_FROM_TYPICAL)).sum()),
                }
                with_rci = counts[N_WITH_RCI]
                shares = {share: counts[count] / with_rci if with_rci else np.nan
                          for share, count in ((SHARE_RELIABLE, N_RELIABLE),
                                               (SHARE_RELIABLE_TOWARD, N_RELIABLE_TOWARD),
                                               (SHARE_RELIABLE_AWAY, N_RELIABLE_AWAY))}
                rec[NOTE] = ""
                if res["suppressed"]:
                    rec[N], rec[NOTE] = pd.NA, FEWER
                    counts = dict.fromkeys(counts, pd.NA)
                    shares = dict.fromkeys(shares, np.nan)
                rec.update(counts)
                rec.update(shares)
                records.append(rec)
    columns = [GROUP, C.SCORE, C.SCORE_NAME, MEASURE, *ST.PAIRED_KEYS, N_WITH_RCI, N_RELIABLE,
               SHARE_RELIABLE, N_RELIABLE_TOWARD, SHARE_RELIABLE_TOWARD, N_RELIABLE_AWAY,
               SHARE_RELIABLE_AWAY, NOTE]
    out = pd.DataFrame.from_records(records, columns=columns)
    for col in (N, N_WITH_RCI, N_RELIABLE, N_RELIABLE_TOWARD, N_RELIABLE_AWAY):
        out[col] = pd.array(out[col].tolist(), dtype="Int64")
    out[SUPPRESSED] = out[SUPPRESSED].astype(bool)
    return out


# ---------------------------------------------------------------------------
# goal attainment
# ---------------------------------------------------------------------------
def gas_levels(goals: pd.DataFrame) -> pd.DataFrame:
    """Distribution of the goals' final (latest) levels.

    Parameters
    ----------
    goals : the per-goal table of :func:`sensoryprofile.goals.goal_attainment`
        (``GoalAttainment.goals``); goals never rated are left out.

    Returns
    -------
    DataFrame
        One row per level (-2..+2; -3 too on the six-level scale): ``level``,
        ``n`` (goals), ``share`` and ``expected_share`` (7/21/43/21/7 % for
        -2..+2 when goals are well set, Kiresuk et al. 1994; blank for -3).
    """
    latest = goals[C.LATEST_LEVEL].to_numpy(dtype=float, na_value=np.nan)
    latest = latest[~np.isnan(latest)].astype(int)
    levels = list(range(-3 if (latest == -3).any() or (
        C.GAS_SCALE in goals.columns and (goals[C.GAS_SCALE] == G.SIX_LEVEL).any()) else -2, 3))
    counts = np.array([(latest == lv).sum() for lv in levels], dtype=int)
    total = counts.sum()
    return pd.DataFrame({
        C.LEVEL: levels, N: counts,
        SHARE: counts / total if total else np.nan,
        EXPECTED_SHARE: [P.EXPECTED_GAS_SHARES.get(lv, np.nan) for lv in levels],
    })


def gas_tscore_change(reviews: pd.DataFrame, groups: Mapping[str, set], *,
                      n_boot: int = ST.DEFAULT_BOOT, seed: int = ST.DEFAULT_SEED,
                      min_n: int = ST.MIN_GROUP) -> pd.DataFrame:
    """Change in GAS T-score from baseline to each child's latest review.

    Parameters
    ----------
    reviews : ``GoalAttainment.reviews`` (one row per child per review).
    groups : group name -> child ids (:func:`diagnosis_groups`).
    n_boot, seed, min_n : as in :func:`sensory_change`.

    Returns
    -------
    DataFrame
        One row per group: ``group``, the keys of
        :func:`sensoryprofile.stats.paired_change` on baseline T versus the
        latest review's T (the same goals and weights, so the change is not
        confounded by a change of goal set), ``median_change_low`` and
        ``median_change_high`` (bootstrap interval of the median change,
        :func:`sensoryprofile.stats.median_interval`) and ``note``.
        Suppressed as in :func:`sensory_change`.
    """
    ordered = reviews.sort_values([C.CHILD_ID, C.DATE], kind="stable")
    last = ordered.drop_duplicates(C.CHILD_ID, keep="last")
    last = last[np.isfinite(last[C.T_SCORE].to_numpy(float))
                & np.isfinite(last[C.BASELINE_T].to_numpy(float))]
    child = last[C.CHILD_ID].astype(str).to_numpy(dtype=object)
    before, after = last[C.BASELINE_T].to_numpy(float), last[C.T_SCORE].to_numpy(float)
    records = []
    for group, members in groups.items():
        rows = np.isin(child, list(members))
        res = paired_change_vectorised(before[rows], after[rows], n_boot=n_boot, seed=seed,
                                       min_n=min_n)
        rec = {GROUP: group, **res, MEDIAN_CHANGE_LOW: np.nan, MEDIAN_CHANGE_HIGH: np.nan,
               NOTE: ""}
        if res["suppressed"]:
            rec[N], rec[NOTE] = pd.NA, FEWER
        else:
            rec[MEDIAN_CHANGE_LOW], rec[MEDIAN_CHANGE_HIGH] = median_interval_vectorised(
                after[rows] - before[rows], n_boot=n_boot, seed=seed)
        records.append(rec)
    out = pd.DataFrame.from_records(records, columns=[
        GROUP, *ST.PAIRED_KEYS, MEDIAN_CHANGE_LOW, MEDIAN_CHANGE_HIGH, NOTE])
    out[N] = pd.array(out[N].tolist(), dtype="Int64")
    out[SUPPRESSED] = out[SUPPRESSED].astype(bool)
    return out


def _anova_sums(n_i: np.ndarray, s_i: np.ndarray, q_i: np.ndarray, weights: np.ndarray):
    """One-way ANOVA of groups repeated by ``weights`` ``(m, g)``; the groups
    are given by their sizes, sums and sums of squares. Returns the ``(m,)``
    arrays (g, N, sum n_i^2, SS_between, SS_within)."""
    weights = weights.astype(float)
    g = weights.sum(axis=1)
    total_n = weights @ n_i
    total_s = weights @ s_i
    between_part = weights @ (s_i**2 / n_i)
    ss_between = between_part - total_s**2 / total_n
    ss_within = weights @ q_i - between_part
    return g, total_n, weights @ n_i**2, ss_between, ss_within


def _anova_sums_left_out(n_i: np.ndarray, s_i: np.ndarray, q_i: np.ndarray):
    """:func:`_anova_sums` of the ``g`` leave-one-group-out samples."""
    g = np.full(len(n_i), len(n_i) - 1.0)
    between = s_i**2 / n_i
    return (g, n_i.sum() - n_i, (n_i**2).sum() - n_i**2,
            between.sum() - between - (s_i.sum() - s_i) ** 2 / (n_i.sum() - n_i),
            (q_i.sum() - q_i) - (between.sum() - between))


def _icc_from_sums(g, total_n, sum_n2, ss_between, ss_within):
    with np.errstate(divide="ignore", invalid="ignore"):
        df_b, df_w = g - 1.0, total_n - g
        ms_b, ms_w = ss_between / df_b, ss_within / df_w
        k0 = (total_n - sum_n2 / total_n) / df_b
        rho = (ms_b - ms_w) / (ms_b + (k0 - 1.0) * ms_w)
    return rho, ms_b, ms_w, k0, df_b, df_w


def goal_correlation(data: pd.DataFrame, *, group: str = C.CHILD_ID,
                     level: str = C.LATEST_LEVEL, rho_assumed: float = G.DEFAULT_RHO,
                     n_boot: int = ST.DEFAULT_BOOT, seed: int = ST.DEFAULT_SEED,
                     confidence: float = ST.CONFIDENCE) -> pd.DataFrame:
    """Estimate the correlation rho between a child's goal scores.

    Parameters
    ----------
    data : DataFrame, one row per goal (``GoalAttainment.goals``).
    group : column naming the child.
    level : column of the level used (default the latest level; unrated
        goals, NA, are left out).
    rho_assumed : the rho the T-scores assume (0.3), shown alongside.
    n_boot, seed, confidence : cluster bootstrap (resampling children).

    Returns
    -------
    DataFrame
        One row: ``n_children`` (with 2 or more rated goals), ``n_goals``,
        ``k0``, ``ms_between``, ``ms_within``, ``f`` (MS_B / MS_W),
        ``df_between``, ``df_within``, ``p_value`` (F test of no
        between-child variance), ``rho``, ``rho_low``, ``rho_high`` and
        ``rho_assumed``.

    Notes
    -----
    The one-way intraclass correlation with children as groups and their
    goals' levels as observations (Kiresuk, Smith & Cardillo 1994):

    .. math::

        \\hat\\rho = \\frac{MS_B - MS_W}{MS_B + (k_0 - 1) MS_W}, \\quad
        k_0 = \\frac{1}{g - 1}\\left(N - \\frac{\\sum_i n_i^2}{N}\\right)

    with *g* children, :math:`n_i` goals of child *i*, :math:`N = \\sum n_i`,
    :math:`MS_B = \\sum_i n_i(\\bar y_i - \\bar y)^2 / (g - 1)` and
    :math:`MS_W = \\sum_i\\sum_j (y_{ij} - \\bar y_i)^2 / (N - g)`. With
    equal group sizes :math:`k_0 = k`; with unequal sizes :math:`k_0` is the
    usual ANOVA adjustment (Snedecor & Cochran), a weighted mean group
    size. Children with fewer than 2 rated goals carry no within-child
    information and are left out. The estimate can be negative (goal scores
    of a child less alike than of different children); the T-score formula
    needs rho in [0, 1). The interval is a BCa cluster bootstrap: children
    are resampled with all their goals, a child drawn twice counting as two
    children.

    References
    ----------
    Kiresuk, T. J., Smith, A., & Cardillo, J. E. (Eds.) (1994). Goal
    Attainment Scaling: Applications, theory, and measurement. Erlbaum.

    Examples
    --------
    Three children with two goals each (worked by hand in the tests):

    >>> goals = pd.DataFrame({"child_id": ["A", "A", "B", "B", "C", "C"],
    ...                       "latest_level": [0, 2, -1, -1, 1, 2]})
    >>> row = goal_correlation(goals, n_boot=20).iloc[0]
    >>> print(*(round(float(row[c]), 6) for c in ("rho", "ms_between", "ms_within")))
    0.615385 3.5 0.833333
    """
    for col in (group, level):
        if col not in data.columns:
            raise UsageError(f"`data` must have a {col!r} column (one row per goal); it has "
                             f"{', '.join(map(str, data.columns))}")
    y = data[level].to_numpy(dtype=float, na_value=np.nan)
    keep = ~np.isnan(y)
    codes, _ = pd.factorize(data[group].astype(str).to_numpy(dtype=object)[keep], sort=True)
    y = y[keep]
    n_i = np.bincount(codes, minlength=codes.max(initial=-1) + 1).astype(float)
    s_i = np.bincount(codes, weights=y, minlength=len(n_i))
    q_i = np.bincount(codes, weights=y * y, minlength=len(n_i))
    several = n_i >= 2
    n_i, s_i, q_i = n_i[several], s_i[several], q_i[several]
    g = len(n_i)
    rec = {N_CHILDREN: g, N_GOALS: int(n_i.sum()), K0: np.nan, MS_BETWEEN: np.nan,
           MS_WITHIN: np.nan, F_STATISTIC: np.nan, DF_BETWEEN: np.nan, DF_WITHIN: np.nan,
           P_VALUE: np.nan, RHO: np.nan, RHO_LOW: np.nan, RHO_HIGH: np.nan,
           RHO_ASSUMED: float(rho_assumed)}
    if g >= 2:
        sums = _anova_sums(n_i, s_i, q_i, np.ones((1, g)))
        rho, ms_b, ms_w, k0, df_b, df_w = (float(v[0]) for v in _icc_from_sums(*sums))
        with np.errstate(divide="ignore", invalid="ignore"):
            f = ms_b / ms_w if ms_w > 0 else np.nan
        rec.update({K0: k0, MS_BETWEEN: ms_b, MS_WITHIN: ms_w, F_STATISTIC: f,
                    DF_BETWEEN: df_b, DF_WITHIN: df_w,
                    P_VALUE: float(sps.f.sf(f, df_b, df_w)) if np.isfinite(f) else np.nan,
                    RHO: rho})
        boot = _icc_from_sums(*_anova_sums(n_i, s_i, q_i, resample_counts(
            bootstrap_indices(g, n_boot, seed), g)))[0]
        jack = _icc_from_sums(*_anova_sums_left_out(n_i, s_i, q_i))[0]
        rec[RHO_LOW], rec[RHO_HIGH] = bca_interval(rho, boot, jack, confidence=confidence)
    return pd.DataFrame([rec])


# ---------------------------------------------------------------------------
# provenance
# ---------------------------------------------------------------------------
def file_sha256(path: str | Path) -> str:
    """SHA-256 of a file's bytes, as hex."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def input_files(data_dir: str | Path) -> list[dict]:
    """Every file of a dataset, sorted by relative path (POSIX separators):
    ``[{"path", "bytes", "sha256"}, ...]``. A workbook is one file."""
    root = Path(data_dir)
    if root.is_file():
        paths, base = [root], root.parent
    else:
        paths, base = [p for p in root.rglob("*") if p.is_file()], root
    entries = [{"path": p.relative_to(base).as_posix(), "bytes": p.stat().st_size,
                "sha256": file_sha256(p)} for p in paths]
    return sorted(entries, key=lambda e: e["path"])


def definition_sha256(instrument: Instrument) -> str:
    """SHA-256 of an instrument definition's canonical JSON (``to_dict()``
    with sorted keys, no whitespace, UTF-8): the same for the same content,
    whatever the YAML file's comments or layout."""
    text = json.dumps(instrument.to_dict(), sort_keys=True, separators=(",", ":"),
                      ensure_ascii=False, allow_nan=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def package_versions() -> dict[str, str]:
    """Versions of Python and of :data:`PACKAGES` ("not installed" if absent)."""
    out = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def provenance(data_dir: str | Path, instruments: Mapping[str, Instrument], *,
               instrument: str, respondent: str, seed: int, n_boot: int,
               confidence: float = ST.CONFIDENCE, as_of=None) -> dict:
    """What a rerun needs to reproduce the analysis, as plain data.

    Returns
    -------
    dict
        ``inputs`` (dataset folder name and :func:`input_files`),
        ``instruments`` (id, version, name and :func:`definition_sha256` of
        each instrument in the data, by id), ``analysis`` (instrument,
        respondent, seed, n_boot, confidence, the GAS as-of date) and
        ``packages`` (:func:`package_versions`). No timestamp and no
        absolute path, so the JSON is identical across reruns and machines.
    """
    return {
        "inputs": {"dataset": Path(data_dir).resolve().name, "files": input_files(data_dir)},
        "instruments": [{"id": i.id, "version": i.version, "name": i.name,
                         "sha256": definition_sha256(i)}
                        for _, i in sorted(instruments.items())],
        "analysis": {"instrument": instrument, "respondent": respondent, "seed": int(seed),
                     "n_boot": int(n_boot), "confidence": float(confidence),
                     "gas_as_of": None if as_of is None else str(as_of)},
        "packages": package_versions(),
    }


def provenance_table(record: Mapping) -> pd.DataFrame:
    """:func:`provenance` as a table: ``category`` (input file, instrument,
    analysis, package), ``name`` and ``value``."""
    rows = [("input file", f["path"], f"sha256 {f['sha256']} ({f['bytes']} bytes)")
            for f in record["inputs"]["files"]]
    rows += [("instrument", f"{i['id']} {i['version']}", f"sha256 {i['sha256']}")
             for i in record["instruments"]]
    rows += [("analysis", k, "" if v is None else str(v))
             for k, v in record["analysis"].items()]
    rows += [("package", k, v) for k, v in record["packages"].items()]
    return pd.DataFrame(rows, columns=[CATEGORY, NAME, VALUE])


def provenance_json(record: Mapping) -> str:
    """The provenance as JSON text: sorted keys, 2-space indent, LF, final newline."""
    return json.dumps(record, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


# ---------------------------------------------------------------------------
# writing
# ---------------------------------------------------------------------------
def csv_text(frame: pd.DataFrame) -> str:
    """A table as CSV text: no index, floats ``%.10g``, LF line endings, blank
    for missing. The same frame always gives the same bytes."""
    return frame.to_csv(index=False, float_format=FLOAT_FORMAT, lineterminator="\n",
                        na_rep="")


def _write(path: Path, text: str) -> Path:
    data = text.encode("utf-8")
    atomic_write(path, lambda tmp: tmp.write_bytes(data))
    os.chmod(path, 0o644)
    return path


# ---------------------------------------------------------------------------
# the whole analysis
# ---------------------------------------------------------------------------
def _latest_date(dataset):
    dates = [dataset.goal_ratings[C.DATE].max(), dataset.goals[C.SET_DATE].max()]
    dates = [d for d in dates if pd.notna(d)]
    return max(dates).date() if dates else None


@dataclass
class CohortAnalysis:
    """Every table of the cohort analysis. Build with :meth:`build`.

    Attributes
    ----------
    instrument, respondent, seed, n_boot : what was analysed, and how.
    provenance : :func:`provenance` record (written as ``provenance.json``).
    sample : :func:`describe_sample`.
    consistency : :func:`internal_consistency` of the intakes.
    items : :func:`item_statistics` of the intakes.
    correlations : :func:`quadrant_correlations` at intake.
    distribution : :func:`norm_distribution` at intake and latest.
    change : :func:`sensory_change`, all children and by diagnosis.
    gas_levels, gas_change, gas_rho : :func:`gas_levels`,
        :func:`gas_tscore_change` (all children and by diagnosis) and
        :func:`goal_correlation`.
    intake_items : the intake item matrix (:func:`item_matrix`), not exported.

    The ``*_shown`` methods give the same tables for reading (plain headers,
    rounded, suppressed counts as "fewer than 5"); the ``*_chart`` methods
    give the frames the shared charts of :mod:`sensoryprofile.plots` take.
    """

    instrument: Instrument
    respondent: str
    seed: int
    n_boot: int
    provenance: dict
    sample: pd.DataFrame
    consistency: pd.DataFrame
    items: pd.DataFrame
    correlations: pd.DataFrame
    distribution: pd.DataFrame
    change: pd.DataFrame
    gas_levels: pd.DataFrame
    gas_change: pd.DataFrame
    gas_rho: pd.DataFrame
    intake_items: pd.DataFrame = field(repr=False, default_factory=pd.DataFrame)

    @classmethod
    def build(cls, data_dir: str | Path, *, instrument: str = "demo-child",
              respondent: str | None = None, seed: int = ST.DEFAULT_SEED,
              n_boot: int = ST.DEFAULT_BOOT, dataset=None) -> CohortAnalysis:
        """Run the analysis on a dataset folder or workbook.

        Parameters
        ----------
        data_dir : the dataset (its files are hashed for the provenance).
        instrument : the instrument analysed (default ``"demo-child"``).
        respondent : respondent type analysed; default the instrument's own.
        seed, n_boot : bootstrap seed and resamples.
        dataset : an already loaded Dataset of ``data_dir`` (optional).

        Notes
        -----
        Psychometrics and the norm comparison at intake use each child's
        first assessment on the instrument by that respondent type, so every
        child counts once and observations are independent; change compares
        it with the child's latest. Goal attainment uses every child with
        goals, judged as of the latest date in the goals data (not today),
        so a rerun gives the same tables.
        """
        from sensoryprofile.child import load_dataset_cached

        dataset = load_dataset_cached(data_dir) if dataset is None else dataset
        inst = _instrument(dataset, instrument)
        respondent = inst.respondent if respondent is None else respondent
        series = series_assessments(dataset, inst.id, respondent)
        intake = series[series["intake"]]
        latest = series[series["latest"]]
        items = item_matrix(intake, inst)
        cohort_children = dataset.children[dataset.children[C.CHILD_ID].astype(str).isin(
            set(intake[C.CHILD_ID].astype(str)))]
        groups = diagnosis_groups(cohort_children)
        as_of = _latest_date(dataset)
        attainment = G.goal_attainment(dataset, as_of=as_of)
        gas_groups = diagnosis_groups(dataset.children[dataset.children[C.CHILD_ID].isin(
            dataset.goals[C.CHILD_ID])])
        return cls(
            instrument=inst, respondent=respondent, seed=int(seed), n_boot=int(n_boot),
            provenance=provenance(data_dir, dataset.instruments, instrument=inst.id,
                                  respondent=respondent, seed=seed, n_boot=n_boot,
                                  as_of=as_of),
            sample=describe_sample(dataset, series),
            consistency=internal_consistency(items, inst, n_boot=n_boot, seed=seed),
            items=item_statistics(items, inst),
            correlations=quadrant_correlations(dataset.scores, inst,
                                               intake[C.ASSESSMENT_ID]),
            distribution=norm_distribution(dataset.scores, inst,
                                           intake_ids=intake[C.ASSESSMENT_ID],
                                           latest_ids=latest[C.ASSESSMENT_ID]),
            change=sensory_change(intake_to_latest(dataset, inst.id, respondent), inst,
                                  groups, n_boot=n_boot, seed=seed),
            gas_levels=gas_levels(attainment.goals),
            gas_change=gas_tscore_change(attainment.reviews, gas_groups, n_boot=n_boot,
                                         seed=seed),
            gas_rho=goal_correlation(attainment.goals, n_boot=n_boot, seed=seed),
            intake_items=items,
        )

    # ------------------------------------------------------------- output
    def tables(self) -> dict[str, pd.DataFrame]:
        """The numeric tables, by export name (keys of :data:`CSV_FILES`)."""
        return {name: getattr(self, name) for name in CSV_FILES}

    def export(self, output_dir: str | Path | None) -> list[Path]:
        """Write every table as CSV and ``provenance.json`` into ``output_dir``
        (created if needed); nothing when it is None. Returns the paths."""
        if output_dir is None:
            return []
        folder = Path(output_dir)
        folder.mkdir(parents=True, exist_ok=True)
        written = [_write(folder / CSV_FILES[name], csv_text(frame))
                   for name, frame in self.tables().items()]
        written.append(_write(folder / PROVENANCE_FILE, provenance_json(self.provenance)))
        return written

    # --------------------------------------------------------- presentation
    def title_html(self) -> str:
        """The report's heading and a line on what was analysed (escaped HTML)."""
        inst = self.instrument
        lines = [f"<h1>Cohort analysis: {html.escape(inst.name)}</h1>",
                 f"<p>Instrument {html.escape(inst.id)} version {html.escape(inst.version)}, "
                 f"answered by: {html.escape(self.respondent)}. Bootstrap: "
                 f"{self.n_boot} resamples, seed {self.seed}, 95% BCa intervals.</p>"]
        if self.demonstration_note:
            lines.append(f"<p><strong>Note:</strong> {html.escape(self.demonstration_note)}</p>")
        return "\n".join(lines)

    @property
    def demonstration_note(self) -> str | None:
        inst = self.instrument
        return None if inst.clinical_use else (
            f"{inst.name} is a demonstration form with invented items and synthetic norms: "
            "the numbers below show how the analysis works, not how any real questionnaire "
            "behaves.")

    def provenance_shown(self) -> pd.DataFrame:
        table = provenance_table(self.provenance)
        return table.rename(columns={CATEGORY: "What", NAME: "Name", VALUE: "Value"})

    def sample_shown(self) -> pd.DataFrame:
        t = self.sample
        return pd.DataFrame({
            "Measure": t[MEASURE], "Category": t[CATEGORY],
            "n": [str(n) if pd.notna(n) else note for n, note in zip(t[N], t[NOTE],
                                                                      strict=True)],
            "Share": [_pct(v) for v in t[SHARE]],
            "Median (IQR)": [f"{_num(m, 1)} ({_num(lo, 1)} to {_num(hi, 1)})"
                             if pd.notna(m) else "" for m, lo, hi in
                             zip(t[MEDIAN], t[Q1], t[Q3], strict=True)]})

    def consistency_shown(self) -> pd.DataFrame:
        t = self.consistency
        return pd.DataFrame({
            "Scale": t[C.SCORE_NAME], "Kind": t[C.KIND], "Items": t[C.N_ITEMS],
            "Children (complete)": t[N_COMPLETE],
            "Cronbach's alpha": [_num(v, 3) for v in t[ALPHA]],
            "alpha 95% interval": [_interval(lo, hi, 3) for lo, hi in
                                   zip(t[ALPHA_LOW], t[ALPHA_HIGH], strict=True)],
            "McDonald's omega": [_num(v, 3) for v in t[OMEGA]],
            "omega 95% interval": [_interval(lo, hi, 3) for lo, hi in
                                   zip(t[OMEGA_LOW], t[OMEGA_HIGH], strict=True)],
            "Items that lower alpha": [s.replace(";", ", ") or "none"
                                       for s in t[ITEMS_LOWERING_ALPHA]],
            "Note": t[NOTE]})

    def items_shown(self, kind: str | None = None) -> pd.DataFrame:
        t = self.items if kind is None else self.items[self.items[C.KIND] == kind]
        t = t.reset_index(drop=True)
        return pd.DataFrame({
            "Scale": t[C.SCORE_NAME], "Item": t[ITEM], "Mean": [_num(v, 2) for v in t[MEAN]],
            "SD": [_num(v, 2) for v in t[SD]],
            "Corrected item-total r": [_num(v, 2) for v in t[ITEM_TOTAL_R]],
            "Alpha if deleted": [_num(v, 3) for v in t[ALPHA_IF_DELETED]],
            "Lowers alpha": ["yes" if v else "" for v in t[LOWERS_ALPHA]],
            "Loading": [_num(v, 2) for v in t[LOADING]]})

    def correlations_shown(self) -> pd.DataFrame:
        t = self.correlations
        return pd.DataFrame({"Quadrant": t[SCORE_NAME_A], "with": t[SCORE_NAME_B],
                             "Children": t[N],
                             "Spearman rho": [_num(v, 2) for v in t[SPEARMAN_RHO]],
                             "p": [_p(v) for v in t[P_VALUE]]})

    def distribution_shown(self, timepoint: str = INTAKE) -> pd.DataFrame:
        t = self.distribution[self.distribution[TIMEPOINT] == timepoint]
        out = t.pivot_table(index=C.SCORE_NAME, columns=C.LEVEL, values=SHARE,
                            aggfunc="first", sort=False)
        frame = pd.DataFrame({"Quadrant": out.index})
        labels = self.instrument.label_list
        for level, label in zip(range(-2, 3), labels, strict=True):
            frame[label] = [_pct(v) for v in out[level]] if level in out.columns else ""
        counts = t.drop_duplicates(C.SCORE_NAME).set_index(C.SCORE_NAME)
        frame["Children classified"] = counts.loc[out.index, N_CLASSIFIED].to_numpy()
        expected = expected_shares(self.instrument.z_cuts)
        frame.loc[len(frame)] = ["Expected from the norms", *[_pct(v) for v in expected], ""]
        return frame

    def change_shown(self, measure: str = DISTANCE_MEASURE,
                     group: str | None = None) -> pd.DataFrame:
        t = self.change[self.change[MEASURE] == measure]
        if group is not None:
            t = t[t[GROUP] == group]
        t = t.reset_index(drop=True)
        return pd.DataFrame({
            "Group": t[GROUP], "Quadrant": t[C.SCORE_NAME],
            "Children": [n if pd.notna(n) else FEWER for n in t[N]],
            "Median at intake": [_num(v, 2) for v in t["median_before"]],
            "Median latest": [_num(v, 2) for v in t["median_after"]],
            "Median change": [_num(v, 2) for v in t["median_change"]],
            "Wilcoxon W": [_num(v, 1) for v in t["wilcoxon_w"]],
            "p": [_p(v) for v in t[P_VALUE]],
            "Rank-biserial r (95% interval)": [
                _with_interval(v, lo, hi) for v, lo, hi in zip(
                    t["rank_biserial"], t["rank_biserial_low"], t["rank_biserial_high"],
                    strict=True)],
            "Cohen's dz (95% interval)": [
                _with_interval(v, lo, hi) for v, lo, hi in zip(
                    t["cohens_dz"], t["cohens_dz_low"], t["cohens_dz_high"], strict=True)],
            "Reliable change (toward / away from typical)": [
                "" if pd.isna(n) else f"{_pct(s)} ({_pct(a)} / {_pct(b)})"
                for n, s, a, b in zip(t[N], t[SHARE_RELIABLE], t[SHARE_RELIABLE_TOWARD],
                                      t[SHARE_RELIABLE_AWAY], strict=True)]})

    def gas_levels_shown(self) -> pd.DataFrame:
        t = self.gas_levels
        return pd.DataFrame({"Final level": [P.GAS_LEVEL_TEXT.get(int(v), str(v))
                                             for v in t[C.LEVEL]],
                             "Goals": t[N], "Share": [_pct(v) for v in t[SHARE]],
                             "Expected when well set": [_pct(v) for v in t[EXPECTED_SHARE]]})

    def gas_change_shown(self) -> pd.DataFrame:
        t = self.gas_change
        return pd.DataFrame({
            "Group": t[GROUP], "Children": [n if pd.notna(n) else FEWER for n in t[N]],
            "Median baseline T": [_num(v, 1) for v in t["median_before"]],
            "Median latest T": [_num(v, 1) for v in t["median_after"]],
            "Median change (95% interval)": [
                _with_interval(v, lo, hi, 1) for v, lo, hi in zip(
                    t["median_change"], t[MEDIAN_CHANGE_LOW], t[MEDIAN_CHANGE_HIGH],
                    strict=True)],
            "Wilcoxon W": [_num(v, 1) for v in t["wilcoxon_w"]],
            "p": [_p(v) for v in t[P_VALUE]],
            "Rank-biserial r (95% interval)": [
                _with_interval(v, lo, hi) for v, lo, hi in zip(
                    t["rank_biserial"], t["rank_biserial_low"], t["rank_biserial_high"],
                    strict=True)],
            "Cohen's dz (95% interval)": [
                _with_interval(v, lo, hi) for v, lo, hi in zip(
                    t["cohens_dz"], t["cohens_dz_low"], t["cohens_dz_high"], strict=True)]})

    def gas_rho_shown(self) -> pd.DataFrame:
        r = self.gas_rho.iloc[0]
        rows = [("Children with 2 or more rated goals", f"{int(r[N_CHILDREN])}"),
                ("Goals", f"{int(r[N_GOALS])}"),
                ("k0 (adjusted goals per child)", _num(r[K0], 3)),
                ("MS between children", _num(r[MS_BETWEEN], 4)),
                ("MS within children", _num(r[MS_WITHIN], 4)),
                ("F (df)", f"{_num(r[F_STATISTIC], 2)} ({_num(r[DF_BETWEEN], 0)}, "
                           f"{_num(r[DF_WITHIN], 0)})"),
                ("p", _p(r[P_VALUE])),
                ("Estimated rho (95% interval)", _with_interval(r[RHO], r[RHO_LOW],
                                                                r[RHO_HIGH], 3)),
                ("Assumed rho in the T-scores", _num(r[RHO_ASSUMED], 2))]
        return pd.DataFrame(rows, columns=["", " "])

    def gas_change_chart(self) -> pd.DataFrame:
        """The GAS change table in the form of :func:`plots.plot_tchange_by_group`."""
        t = self.gas_change
        return pd.DataFrame({GROUP: t[GROUP], P.MEDIAN: t["median_change"],
                             P.CI_LOW: t[MEDIAN_CHANGE_LOW], P.CI_HIGH: t[MEDIAN_CHANGE_HIGH],
                             P.N: t[N].astype("Float64").to_numpy(dtype=float,
                                                                 na_value=np.nan)})

    def gas_levels_chart(self) -> pd.DataFrame:
        """Final GAS levels in the form of :func:`plot_gas_levels`."""
        t = self.gas_levels
        return pd.DataFrame({GROUP: "All rated goals", C.LEVEL: t[C.LEVEL],
                             SHARE: t[SHARE].fillna(0.0), P.N: int(t[N].sum())})


def _num(value, digits: int) -> str:
    if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
        return ""
    return f"{float(value):.{digits}f}"


def _pct(value) -> str:
    if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
        return ""
    return f"{100 * float(value):.1f}%"


def _p(value) -> str:
    if value is None or value is pd.NA or np.isnan(value):
        return ""
    return "< 0.001" if value < 0.001 else f"{value:.3f}"


def _interval(low, high, digits: int = 2) -> str:
    if np.isnan(low) or np.isnan(high):
        return ""
    return f"{low:.{digits}f} to {high:.{digits}f}"


def _with_interval(value, low, high, digits: int = 2) -> str:
    if value is None or np.isnan(value):
        return ""
    text = f"{value:.{digits}f}"
    span = _interval(low, high, digits)
    return f"{text} ({span})" if span else text


# ---------------------------------------------------------------------------
# charts (draw only: tidy data in, ax=None, the Axes out)
# ---------------------------------------------------------------------------
_require = P._require  # the charts' column check, shared with plots.py


def plot_consistency(data: pd.DataFrame, *, ax: Axes | None = None, **kwargs) -> Axes:
    """Alpha and omega with their intervals, one row per scale.

    Parameters
    ----------
    data : the :func:`internal_consistency` table (``score_name``, ``alpha``,
        ``alpha_low``, ``alpha_high``, ``omega``, ``omega_low``, ``omega_high``).
    ax : Axes, optional
    **kwargs : passed to :meth:`Axes.errorbar`.

    Returns
    -------
    Axes
    """
    if ax is None:
        ax = plt.gca()
    _require(data, [C.SCORE_NAME, ALPHA, ALPHA_LOW, ALPHA_HIGH, OMEGA, OMEGA_LOW,
                      OMEGA_HIGH], "plot_consistency")
    rows = data.reset_index(drop=True)
    ys = np.arange(len(rows), dtype=float)
    for offset, (col, lo, hi), color, marker, label in (
            (-0.17, (ALPHA, ALPHA_LOW, ALPHA_HIGH), P.BLUE, "o", "Cronbach's alpha"),
            (0.17, (OMEGA, OMEGA_LOW, OMEGA_HIGH), P.ORANGE, "D", "McDonald's omega")):
        v = rows[col].to_numpy(float)
        err = np.vstack([v - rows[lo].to_numpy(float), rows[hi].to_numpy(float) - v])
        shown = ~np.isnan(v)
        style = {"fmt": marker, "color": color, "markersize": 8, "markeredgecolor": P.INK,
                 "elinewidth": 2, "capsize": 3, "label": label, **kwargs}
        ax.errorbar(v[shown], ys[shown] + offset, xerr=np.nan_to_num(err[:, shown]), **style)
    ax.axvline(0.7, color=P.MUTED, linestyle="--", linewidth=1.0, zorder=1).set_gid("0.70")
    ax.set_yticks(ys, [str(s) for s in rows[C.SCORE_NAME]], fontsize=P.TICK_SIZE)
    ax.tick_params(axis="y", length=0)
    ax.set_ylim(len(rows) - 0.4, -0.6)
    low = np.nanmin(np.concatenate([rows[ALPHA_LOW].to_numpy(float),
                                    rows[OMEGA_LOW].to_numpy(float), [0.6]]))
    low = min(low, np.nanmin(np.concatenate([rows[ALPHA].to_numpy(float),
                                             rows[OMEGA].to_numpy(float), [0.6]])))
    ax.set_xlim(np.floor(low * 10) / 10 - 0.05, 1.0)
    ax.grid(axis="x", color=P.GRID)
    ax.grid(axis="y", visible=False)
    ax.spines["left"].set_visible(False)
    ax.set_xlabel("Internal consistency (dashed line: 0.70)", fontsize=P.LABEL_SIZE)
    ax.legend(loc="lower left", frameon=False, fontsize=P.NOTE_SIZE)
    ax.set_title("Internal consistency, with 95% intervals", loc="left",
                 fontsize=P.TITLE_SIZE, fontweight="bold")
    return ax


def plot_quadrant_correlations(data: pd.DataFrame, *, ax: Axes | None = None,
                               **kwargs) -> Axes:
    """Spearman correlations between quadrants as an annotated matrix.

    Parameters
    ----------
    data : the :func:`quadrant_correlations` table (each pair once).
    ax : Axes, optional
    **kwargs : passed to :meth:`Axes.imshow`.

    Returns
    -------
    Axes
    """
    if ax is None:
        ax = plt.gca()
    _require(data, [SCORE_NAME_A, SCORE_NAME_B, SPEARMAN_RHO], "plot_quadrant_correlations")
    names = list(dict.fromkeys([*data[SCORE_NAME_A].astype(str), *data[SCORE_NAME_B]
                                .astype(str)]))
    k = len(names)
    matrix = np.eye(k)
    for a, b, r in zip(data[SCORE_NAME_A].astype(str), data[SCORE_NAME_B].astype(str),
                       data[SPEARMAN_RHO].to_numpy(float), strict=True):
        i, j = names.index(a), names.index(b)
        matrix[i, j] = matrix[j, i] = r
    style = {"cmap": "PuOr_r", "vmin": -1, "vmax": 1, **kwargs}
    image = ax.imshow(matrix, **style)
    for i in range(k):
        for j in range(k):
            value = matrix[i, j]
            text = "" if np.isnan(value) else f"{value:.2f}"
            ax.text(j, i, text, ha="center", va="center", fontsize=P.TICK_SIZE,
                    color="white" if abs(value) > 0.6 else P.INK)
    ax.set_xticks(range(k), names, fontsize=P.TICK_SIZE)
    ax.set_yticks(range(k), names, fontsize=P.TICK_SIZE)
    ax.tick_params(length=0)
    ax.grid(False)
    for side in ax.spines.values():
        side.set_visible(False)
    ax.figure.colorbar(image, ax=ax, fraction=0.046, pad=0.04, label="Spearman rho")
    ax.set_title("Quadrant intercorrelations at intake", loc="left", fontsize=P.TITLE_SIZE,
                 fontweight="bold")
    return ax


def plot_norm_comparison(data: pd.DataFrame, *, timepoint: str = INTAKE,
                         ax: Axes | None = None, **kwargs) -> Axes:
    """Share of children per classification band and quadrant, bars, with
    the share the norms imply drawn as a black line over each band.

    Parameters
    ----------
    data : the :func:`norm_distribution` table.
    timepoint : which timepoint to draw ("intake" or "latest").
    ax : Axes, optional
    **kwargs : passed to :meth:`Axes.bar`.

    Returns
    -------
    Axes
    """
    if ax is None:
        ax = plt.gca()
    _require(data, [C.SCORE, C.SCORE_NAME, TIMEPOINT, C.LEVEL, C.CLASSIFICATION, SHARE,
                      EXPECTED_SHARE], "plot_norm_comparison")
    if timepoint not in (INTAKE, LATEST):
        raise UsageError(f"The value for `timepoint` must be one of ['{INTAKE}', '{LATEST}'], "
                         f"but {timepoint!r} was passed")
    rows = data[data[TIMEPOINT] == timepoint]
    quadrants = list(dict.fromkeys(rows[C.SCORE].astype(str)))
    levels = list(range(-2, 3))
    width = 0.8 / max(1, len(quadrants))
    for q, score in enumerate(quadrants):
        part = rows[rows[C.SCORE].astype(str) == score].set_index(C.LEVEL)
        shares = part[SHARE].reindex(levels).to_numpy(float)
        xs = np.arange(5) - 0.4 + width * (q + 0.5)
        style = {"color": P.QUADRANT_COLORS.get(score, P.SERIES_COLORS[q % 7]),
                 "hatch": P.SERIES_HATCHES[q % 7] or None, "edgecolor": "white",
                 "label": str(part[C.SCORE_NAME].iloc[0]), **kwargs}
        ax.bar(xs, np.nan_to_num(shares), width=width * 0.92, **style)
    expected = (rows.drop_duplicates(C.LEVEL).set_index(C.LEVEL)[EXPECTED_SHARE]
                .reindex(levels).to_numpy(float))
    for x, e in enumerate(expected):
        ax.plot([x - 0.45, x + 0.45], [e, e], color=P.INK, linewidth=2.5, zorder=4,
                gid="expected")
    labels = (rows.drop_duplicates(C.LEVEL).set_index(C.LEVEL)[C.CLASSIFICATION]
              .reindex(levels).astype(str).tolist())
    ax.set_xticks(range(5), [textwrap.fill(t, 14) for t in labels], fontsize=P.TICK_SIZE - 1)
    ax.tick_params(axis="x", length=0)
    ax.yaxis.set_major_formatter(mpl.ticker.PercentFormatter(xmax=1))
    ax.set_ylim(0, 1)
    ax.grid(axis="y", color=P.GRID)
    ax.grid(axis="x", visible=False)
    ax.set_ylabel("Share of children", fontsize=P.LABEL_SIZE)
    handles, texts = ax.get_legend_handles_labels()
    handles.append(Line2D([], [], color=P.INK, linewidth=2.5))
    texts.append("expected from the norms")
    ax.legend(handles, texts, frameon=False, fontsize=P.NOTE_SIZE, loc="upper left")
    when = "at intake" if timepoint == INTAKE else "at the latest assessment"
    ax.set_title(f"Classifications {when} against the norms", loc="left",
                 fontsize=P.TITLE_SIZE, fontweight="bold")
    return ax


def plot_change_effects(data: pd.DataFrame, *, measure: str = DISTANCE_MEASURE,
                        ax: Axes | None = None, **kwargs) -> Axes:
    """Rank-biserial correlation of intake-to-latest change with its 95%
    interval, one row per group x quadrant; suppressed groups say so.

    Parameters
    ----------
    data : the :func:`sensory_change` table.
    measure : which measure to draw (``"abs_z"`` or ``"raw"``).
    ax : Axes, optional
    **kwargs : passed to :meth:`Axes.errorbar`.

    Returns
    -------
    Axes
    """
    if ax is None:
        ax = plt.gca()
    _require(data, [GROUP, C.SCORE, C.SCORE_NAME, MEASURE, "rank_biserial",
                      "rank_biserial_low", "rank_biserial_high", SUPPRESSED],
               "plot_change_effects")
    if measure not in MEASURES:
        raise UsageError(f"The value for `measure` must be one of {list(MEASURES)}, but "
                         f"{measure!r} was passed")
    rows = data[data[MEASURE] == measure].reset_index(drop=True)
    groups = list(dict.fromkeys(rows[GROUP].astype(str)))
    ys, labels, y = [], [], 0.0
    header_ys = []
    for g in groups:
        header_ys.append((y, g))
        y += 1
        for _ in range(int((rows[GROUP] == g).sum())):
            ys.append(y)
            y += 1
        y += 0.4
    ys = np.array(ys)
    value = rows["rank_biserial"].to_numpy(float)
    low, high = rows["rank_biserial_low"].to_numpy(float), rows["rank_biserial_high"].to_numpy(
        float)
    ax.axvline(0, color=P.INK, linestyle="--", linewidth=1.2, zorder=1).set_gid("no change")
    for score in dict.fromkeys(rows[C.SCORE].astype(str)):
        mask = (rows[C.SCORE].astype(str) == score).to_numpy() & ~np.isnan(value)
        if not mask.any():
            continue
        err = np.nan_to_num(np.vstack([value - low, high - value])[:, mask])
        style = {"fmt": P.QUADRANT_MARKERS.get(score, "o"), "markersize": 8,
                 "color": P.QUADRANT_COLORS.get(score, P.BLUE), "markeredgecolor": P.INK,
                 "elinewidth": 2, "capsize": 3, "zorder": 3, **kwargs}
        ax.errorbar(value[mask], ys[mask], xerr=err, **style)
    for yy, suppressed in zip(ys, rows[SUPPRESSED].to_numpy(dtype=bool), strict=True):
        if suppressed:
            ax.text(0, yy, f"{FEWER} children: not shown", ha="center", va="center",
                    fontsize=P.NOTE_SIZE - 1, style="italic", color=P.INK, zorder=4,
                    bbox={"boxstyle": "round,pad=0.2", "facecolor": "white",
                          "edgecolor": P.MUTED, "linewidth": 0.6})
    labels = [str(s) for s in rows[C.SCORE_NAME]]
    ticks = list(ys) + [h for h, _ in header_ys]
    texts = labels + [g for _, g in header_ys]
    ax.set_yticks(ticks, texts, fontsize=P.TICK_SIZE - 1)
    for tick, text in zip(ax.get_yticklabels(), texts, strict=True):
        if text in groups and text not in labels:
            tick.set_fontweight("bold")
    ax.tick_params(axis="y", length=0)
    ax.set_ylim(y - 0.2, -0.8)
    ax.set_xlim(-1.05, 1.05)
    ax.grid(axis="x", color=P.GRID)
    ax.grid(axis="y", visible=False)
    ax.spines["left"].set_visible(False)
    what = ("distance from typical (negative: closer to typical)" if measure == DISTANCE_MEASURE
            else "raw score (negative: less of the behaviour)")
    ax.set_xlabel(f"Rank-biserial r of the change in {what}", fontsize=P.LABEL_SIZE - 1)
    ax.set_title("Change from intake to latest, with 95% intervals", loc="left",
                 fontsize=P.TITLE_SIZE, fontweight="bold")
    return ax


def plot_gas_levels(data: pd.DataFrame, *, ax: Axes | None = None, **kwargs) -> Axes:
    """Final goal levels against the spread expected when goals are well set,
    drawn by :func:`sensoryprofile.plots.plot_goal_calibration` with one bar
    per group instead of per therapist.

    Parameters
    ----------
    data : DataFrame with ``group``, ``level``, ``share`` and optionally ``n``
        (:meth:`CohortAnalysis.gas_levels_chart`).
    ax : Axes, optional
    **kwargs : passed to :func:`sensoryprofile.plots.plot_goal_calibration`.

    Returns
    -------
    Axes
    """
    if ax is None:
        ax = plt.gca()
    _require(data, [GROUP, C.LEVEL, SHARE], "plot_gas_levels")
    P.plot_goal_calibration(data.rename(columns={GROUP: C.THERAPIST}), ax=ax, **kwargs)
    ax.set_title("Final goal levels against the expected spread", loc="left",
                 fontsize=P.TITLE_SIZE, fontweight="bold")
    return ax


__all__ = [
    "CohortAnalysis", "alpha_from_covariance", "bca_interval", "bootstrap_indices",
    "cronbach_alpha", "csv_text", "definition_sha256", "describe_sample", "diagnosis_groups",
    "expected_shares", "file_sha256", "gas_levels", "gas_tscore_change", "goal_correlation",
    "input_files", "intake_to_latest", "internal_consistency", "item_matrix",
    "item_statistics", "jackknife_covariances", "mcdonald_omega", "median_interval_vectorised",
    "norm_distribution", "omega_from_covariance", "one_factor_loadings", "package_versions",
    "paired_change_vectorised", "plot_change_effects", "plot_consistency", "plot_gas_levels",
    "plot_norm_comparison", "plot_quadrant_correlations", "provenance", "provenance_json",
    "provenance_table", "quadrant_correlations", "resample_counts", "sensory_change",
    "series_assessments", "weighted_covariances",
]


# The vectorised bootstrap lives in sensoryprofile.stats, shared with the
# caseload report; these names are kept for callers of this module.
bootstrap_indices = ST.bootstrap_indices
bca_interval = ST.bca_interval
paired_change_vectorised = ST.paired_change
median_interval_vectorised = ST.median_interval
