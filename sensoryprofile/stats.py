"""Statistics shared by the caseload report and the cohort analysis.

GAS levels and T-scores are ordinal (Tennant 2007): summaries lead with
medians, proportions and rank tests, with effect sizes and bootstrap
intervals. Every function is deterministic for a given ``seed``.
"""

from __future__ import annotations

import warnings

import numpy as np
from scipy import stats as sps

from sensoryprofile.errors import UsageError

#: Groups smaller than this show "fewer than 5" instead of statistics.
MIN_GROUP = 5
DEFAULT_BOOT = 2000
DEFAULT_SEED = 20261126
CONFIDENCE = 0.95

# keys of :func:`paired_change`
PAIRED_KEYS = ("n", "median_before", "median_after", "median_change", "iqr_change_low",
               "iqr_change_high", "wilcoxon_w", "p_value", "rank_biserial", "rank_biserial_low",
               "rank_biserial_high", "cohens_dz", "cohens_dz_low", "cohens_dz_high",
               "suppressed")


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


def bootstrap_interval(statistic, *samples, n_boot: int = DEFAULT_BOOT, seed: int = DEFAULT_SEED,
                       paired: bool = True, confidence: float = CONFIDENCE
                       ) -> tuple[float, float]:
    """A bootstrap confidence interval (BCa, falling back to percentile) of
    ``statistic(*samples)``, via :func:`scipy.stats.bootstrap`.

    Returns (nan, nan) when the statistic is constant or undefined on the data.
    """
    if n_boot < 1:
        raise UsageError(f"`n_boot` must be at least 1, but {n_boot} was passed")
    arrays = [np.asarray(s, dtype=float) for s in samples]
    if min(len(a) for a in arrays) < 2:
        return float("nan"), float("nan")
    for method in ("BCa", "percentile"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                res = sps.bootstrap(tuple(arrays), statistic, n_resamples=n_boot,
                                    paired=paired, vectorized=False, method=method,
                                    confidence_level=confidence,
                                    rng=np.random.default_rng(seed))
            except (ValueError, ZeroDivisionError, FloatingPointError):
                continue
        low, high = float(res.confidence_interval.low), float(res.confidence_interval.high)
        if np.isfinite(low) and np.isfinite(high):
            return low, high
    return float("nan"), float("nan")


def paired_change(before, after, *, n_boot: int = DEFAULT_BOOT, seed: int = DEFAULT_SEED,
                  min_n: int = MIN_GROUP) -> dict:
    """Change between paired measurements (e.g. baseline and follow-up GAS T).

    Returns a dict with the keys :data:`PAIRED_KEYS`: ``n`` pairs (pairs with a
    missing value are dropped), medians, median change with its IQR, the
    Wilcoxon signed-rank statistic and two-sided p (scipy: exact for small n
    without ties, else normal approximation; zero differences dropped), the
    matched-pairs rank-biserial correlation and Cohen's dz, each with a
    bootstrap interval. With fewer than ``min_n`` pairs every statistic is NaN
    and ``suppressed`` is True (stability and privacy).
    """
    b, a = np.asarray(before, dtype=float), np.asarray(after, dtype=float)
    if b.shape != a.shape:
        raise UsageError(f"`before` and `after` must have the same length, but {len(b)} and "
                         f"{len(a)} were passed")
    keep = ~np.isnan(b) & ~np.isnan(a)
    b, a = b[keep], a[keep]
    d = a - b
    out = dict.fromkeys(PAIRED_KEYS, float("nan"))
    out["n"] = int(len(d))
    out["suppressed"] = len(d) < min_n
    if out["suppressed"]:
        return out
    out["median_before"], out["median_after"] = float(np.median(b)), float(np.median(a))
    out["median_change"] = float(np.median(d))
    out["iqr_change_low"], out["iqr_change_high"] = (float(q) for q in np.percentile(d, [25, 75]))
    if np.any(d != 0):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res = sps.wilcoxon(d, zero_method="wilcox", alternative="two-sided")
        out["wilcoxon_w"], out["p_value"] = float(res.statistic), float(res.pvalue)
    out["rank_biserial"] = rank_biserial(d)
    out["rank_biserial_low"], out["rank_biserial_high"] = bootstrap_interval(
        rank_biserial, d, n_boot=n_boot, seed=seed)
    out["cohens_dz"] = cohens_dz(d)
    out["cohens_dz_low"], out["cohens_dz_high"] = bootstrap_interval(
        cohens_dz, d, n_boot=n_boot, seed=seed)
    return out


def median_interval(values, *, n_boot: int = DEFAULT_BOOT, seed: int = DEFAULT_SEED
                    ) -> tuple[float, float]:
    """Bootstrap interval of a median."""
    return bootstrap_interval(np.median, values, n_boot=n_boot, seed=seed, paired=False)
