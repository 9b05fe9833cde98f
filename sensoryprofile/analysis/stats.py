"""Statistics shared by the caseload report and the cohort analysis.

GAS levels and T-scores are ordinal (Tennant 2007): summaries lead with
medians, proportions and rank tests, with effect sizes and bootstrap
intervals. Every function is deterministic for a given ``seed``.
"""

from __future__ import annotations

import warnings

import numpy as np
from scipy import stats as sps
from scipy.special import ndtr, ndtri

from sensoryprofile import columns as C
from sensoryprofile.errors import UsageError

#: The smallest group of children whose statistics a table shows; smaller
#: groups show :func:`suppression_note` instead, for stability and privacy
#: (a convention: CMS suppresses cells of 1-10, NHS Digital counts of 1-7;
#: see docs/privacy.md). Every report takes it as a setting.
MIN_GROUP = 5
#: Bootstrap resamples per interval, and the seed: the same seed and data give
#: the same intervals on every rerun.
DEFAULT_BOOT = 2000
DEFAULT_SEED = 20261126
CONFIDENCE = 0.95



def suppression_note(min_group: int = MIN_GROUP) -> str:
    """What a table says in place of a suppressed group's statistics."""
    return f"fewer than {min_group} children"


def rank_biserial(differences) -> float:
    """Matched-pairs rank-biserial correlation of paired differences.

    Notes
    -----
    r = (W+ - W-) / (W+ + W-), where W+ and W- are the sums of the ranks of
    the absolute non-zero differences that are positive and negative (Kerby
    2014, simple difference formula). Zero differences are dropped, as in the
    Wilcoxon signed-rank test ("wilcox" zero method). +1: every child
    improved; -1: every child got worse.

    References
    ----------
    Kerby, D. S. (2014). The simple difference formula: an approach to
    teaching nonparametric correlation. Comprehensive Psychology, 3, 11.IT.3.1.

    Examples
    --------
    >>> rank_biserial([1, 2, 3, -4])  # ranks 1,2,3 positive (6), 4 negative
    0.2
    """
    d = np.asarray(differences, dtype=float)
    d = d[~np.isnan(d) & (d != 0)]
    if len(d) == 0:
        return float("nan")
    ranks = sps.rankdata(np.abs(d))
    w_plus, w_minus = ranks[d > 0].sum(), ranks[d < 0].sum()
    return float((w_plus - w_minus) / (w_plus + w_minus))


def cohens_dz(differences) -> float:
    """Standardised mean of paired differences: mean(d) / SD(d) (ddof 1)."""
    d = np.asarray(differences, dtype=float)
    d = d[~np.isnan(d)]
    if len(d) < 2:
        return float("nan")
    sd = d.std(ddof=1)
    return float(d.mean() / sd) if sd > 0 else float("nan")


def paired_change(before, after, *, n_boot: int = DEFAULT_BOOT, seed: int = DEFAULT_SEED,
                  min_n: int = MIN_GROUP) -> dict:
    """Change between paired measurements (e.g. baseline and follow-up GAS T).

    Returns a dict with the keys :data:`~sensoryprofile.columns.PAIRED_COLUMNS`: ``n`` pairs (pairs with a
    missing value are dropped), medians, median change with its IQR, the
    Wilcoxon signed-rank statistic and two-sided p (scipy: exact for small n
    without ties, else normal approximation; zero differences dropped), the
    matched-pairs rank-biserial correlation and Cohen's dz, each with a
    bootstrap interval. With fewer than ``min_n`` pairs every statistic is NaN
    and ``suppressed`` is True (stability and privacy).

    Intervals: every resample is computed at once as arrays (the draws
    :func:`scipy.stats.bootstrap` makes with the seed); BCa up to
    :data:`BCA_MAX_N` pairs, the percentile interval for larger groups, whose
    jackknife would cost O(n^2).
    """
    b, a = np.asarray(before, dtype=float), np.asarray(after, dtype=float)
    if b.shape != a.shape:
        raise UsageError(f"`before` and `after` must have the same length, but {len(b)} and "
                         f"{len(a)} were passed")
    keep = ~np.isnan(b) & ~np.isnan(a)
    b, a = b[keep], a[keep]
    d = a - b
    out = dict.fromkeys(C.PAIRED_COLUMNS, float("nan"))
    out[C.N] = int(len(d))
    out[C.SUPPRESSED] = len(d) < min_n
    if out[C.SUPPRESSED]:
        return out
    out[C.MEDIAN_BEFORE], out[C.MEDIAN_AFTER] = float(np.median(b)), float(np.median(a))
    out[C.MEDIAN_CHANGE] = float(np.median(d))
    out[C.IQR_CHANGE_LOW], out[C.IQR_CHANGE_HIGH] = (float(q) for q in np.percentile(d, [25, 75]))
    if np.any(d != 0):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res = sps.wilcoxon(d, zero_method="wilcox", alternative="two-sided")
        out[C.WILCOXON_W], out[C.P_VALUE] = float(res.statistic), float(res.pvalue)
    out[C.RANK_BISERIAL] = rank_biserial(d)
    out[C.RANK_BISERIAL_LOW], out[C.RANK_BISERIAL_HIGH] = _interval(
        out[C.RANK_BISERIAL], d, _rank_biserial_rows, n_boot, seed)
    out[C.COHENS_DZ] = cohens_dz(d)
    out[C.COHENS_DZ_LOW], out[C.COHENS_DZ_HIGH] = _interval(
        out[C.COHENS_DZ], d, _cohens_dz_rows, n_boot, seed)
    return out


def median_interval(values, *, n_boot: int = DEFAULT_BOOT, seed: int = DEFAULT_SEED,
                    confidence: float = CONFIDENCE) -> tuple[float, float]:
    """Bootstrap interval of a median (BCa; percentile for large groups)."""
    v = np.asarray(values, dtype=float)
    v = v[~np.isnan(v)]
    return _interval(float(np.median(v)) if len(v) else float("nan"), v,
                     lambda rows: np.median(rows, axis=1), n_boot, seed, confidence)

# ---------------------------------------------------------------------------
# vectorised bootstrap (all resamples as arrays, not a Python loop)
# ---------------------------------------------------------------------------
#: above this many observations BCa's jackknife (n statistics of n - 1 values
#: each) costs O(n^2); the percentile interval is used instead
BCA_MAX_N = 1000
_BATCH = 250  # resamples computed at once (bounds memory for large groups)


def bootstrap_indices(n: int, n_boot: int, seed: int) -> np.ndarray:
    """``(n_boot, n)`` resample indices: the draws :func:`scipy.stats.bootstrap`
    makes with ``rng=numpy.random.default_rng(seed)`` in one batch."""
    if n_boot < 1:
        raise UsageError(f"`n_boot` must be at least 1, but {n_boot} was passed")
    return np.random.default_rng(seed).integers(0, n, (n_boot, n))



def _jackknife_indices(n: int) -> np.ndarray:
    """``(n, n - 1)`` indices of the leave-one-out samples, in order."""
    keep = ~np.eye(n, dtype=bool)
    return np.broadcast_to(np.arange(n), (n, n))[keep].reshape(n, n - 1)



def bca_interval(estimate: float, boot: np.ndarray, jack: np.ndarray, *,
                 confidence: float = CONFIDENCE) -> tuple[float, float]:
    """BCa interval from a bootstrap and a jackknife distribution.

    Follows :func:`scipy.stats.bootstrap` (Efron & Tibshirani 1993, 14.3,
    15.4): the same bias correction (ties count half), acceleration and
    linear-interpolation quantiles, and falls back to the percentile interval
    when the BCa one is undefined; (nan, nan) when that
    is undefined too (a resample gave no value).

    References
    ----------
    Efron, B. (1987). Better bootstrap confidence intervals. Journal of the
    American Statistical Association, 82(397), 171-185.
    """
    boot = np.asarray(boot, dtype=float)
    jack = np.asarray(jack, dtype=float)
    tail = (1.0 - confidence) / 2.0
    if not np.isfinite(estimate) or np.isnan(boot).any() or len(boot) == 0:
        return float("nan"), float("nan")
    with np.errstate(divide="ignore", invalid="ignore"):
        share_below = (np.count_nonzero(boot < estimate)
                       + np.count_nonzero(boot <= estimate)) / (2.0 * len(boot))
        z0 = ndtri(share_below)
        n_j = float(len(jack))
        u = (n_j - 1.0) * (jack.mean() - jack)
        accel = (np.sum(u**3) / n_j**3) / 6.0 / (np.sum(u**2) / n_j**2) ** 1.5
        z = float(ndtri(tail))
        levels = [float(ndtr(z0 + (z0 + zz) / (1.0 - accel * (z0 + zz)))) for zz in (z, -z)]
    for probs in (levels, [tail, 1.0 - tail]):
        if all(np.isfinite(p) and 0.0 <= p <= 1.0 for p in probs):
            low, high = np.quantile(boot, probs)
            if np.isfinite(low) and np.isfinite(high):
                return float(low), float(high)
    return float("nan"), float("nan")



def _rank_biserial_rows(d: np.ndarray) -> np.ndarray:
    """:func:`sensoryprofile.analysis.stats.rank_biserial` of every row of ``d``.

    Zero differences are dropped before ranking; as they are the smallest
    absolute values, the rank of a non-zero difference among the non-zero
    ones is its rank among all minus the number of zeros in its row.
    """
    nonzero = d != 0
    ranks = sps.rankdata(np.abs(d), axis=1) - (~nonzero).sum(axis=1, keepdims=True)
    w_plus = np.where(d > 0, ranks, 0.0).sum(axis=1)
    w_minus = np.where(d < 0, ranks, 0.0).sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(nonzero.any(axis=1), (w_plus - w_minus) / (w_plus + w_minus), np.nan)



def _cohens_dz_rows(d: np.ndarray) -> np.ndarray:
    """:func:`sensoryprofile.analysis.stats.cohens_dz` of every row of ``d``."""
    if d.shape[1] < 2:  # a jackknife of two pairs leaves rows of one
        return np.full(d.shape[0], np.nan)
    sd = d.std(axis=1, ddof=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(sd > 0, d.mean(axis=1) / sd, np.nan)




def _boot_stats(values: np.ndarray, rows_fn, n_boot: int, seed: int) -> np.ndarray:
    """``rows_fn`` of every bootstrap resample of ``values``, in batches."""
    idx = bootstrap_indices(len(values), n_boot, seed)
    return np.concatenate([rows_fn(values[idx[i:i + _BATCH]])
                           for i in range(0, n_boot, _BATCH)])


def _interval(estimate: float, values: np.ndarray, rows_fn, n_boot: int, seed: int,
              confidence: float = CONFIDENCE) -> tuple[float, float]:
    """BCa (percentile above :data:`BCA_MAX_N` values) bootstrap interval."""
    if len(values) < 2:
        return float("nan"), float("nan")
    boot = _boot_stats(values, rows_fn, n_boot, seed)
    if len(values) <= BCA_MAX_N:
        jack = rows_fn(values[_jackknife_indices(len(values))])
        return bca_interval(estimate, boot, jack, confidence=confidence)
    if not np.isfinite(estimate) or np.isnan(boot).any():
        return float("nan"), float("nan")
    tail = (1.0 - confidence) / 2.0
    low, high = np.quantile(boot, [tail, 1.0 - tail])
    return float(low), float(high)


def resample_counts(indices: np.ndarray, n: int) -> np.ndarray:
    """How often each observation appears in each resample, ``(n_boot, n)`` int32."""
    b = indices.shape[0]
    flat = (indices + n * np.arange(b)[:, None]).ravel()
    return np.bincount(flat, minlength=b * n).reshape(b, n).astype(np.int32)
