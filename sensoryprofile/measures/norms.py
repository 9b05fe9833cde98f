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
from sensoryprofile.instruments.model import DEFAULT_Z_CUTS, CompiledInstrument

# Why a score has no classification (codes used in arrays, texts in tables).
CLASSIFIED = 0
UNCLASSIFIED_INVALID = 1
UNCLASSIFIED_AGE_UNKNOWN = 2
UNCLASSIFIED_BEFORE_BIRTH = 3
UNCLASSIFIED_OUT_OF_RANGE = 4
UNCLASSIFIED_NO_NORMS = 5
UNCLASSIFIED_OFF_TABLE = 6

UNCLASSIFIED_TEXT = {
    UNCLASSIFIED_INVALID: "score invalid",
    UNCLASSIFIED_AGE_UNKNOWN: "age at assessment unknown",
    UNCLASSIFIED_BEFORE_BIRTH: "assessment dated before the date of birth",
    UNCLASSIFIED_OUT_OF_RANGE: "age outside the instrument's age range",
    UNCLASSIFIED_NO_NORMS: "no norms for this score at this age",
    UNCLASSIFIED_OFF_TABLE: "raw score outside the cut-score table",
}

NO_LEVEL = -128  # int8 sentinel: no classification level

#: Where each classification level sits on the z scale (the middle of its band;
#: the outer bands are drawn to |z| = 3): used to place scores that have a
#: classification from a cut table but no z.
BAND_CENTERS = {-2: -2.5, -1: -1.5, 0: 0.0, 1: 1.5, 2: 2.5}


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


def band_index(ages: np.ndarray, compiled: CompiledInstrument) -> np.ndarray:
    """Index of the norm band holding each age, -1 where none does."""
    ages = np.asarray(ages, dtype=float)
    if len(compiled.band_low) == 0:
        return np.full(ages.shape, -1, dtype=np.intp)
    idx = np.searchsorted(compiled.band_low, np.nan_to_num(ages, nan=-1.0), side="right") - 1
    safe = np.clip(idx, 0, None)
    ok = (idx >= 0) & (ages <= compiled.band_high[safe]) & ~np.isnan(ages)
    return np.where(ok, idx, -1)


#: Assessments norm-referenced at a time (see ``measures.scoring.CHUNK``).
CHUNK = 32_768


def apply_norms(raw: np.ndarray, valid: np.ndarray, ages: np.ndarray,
                compiled: CompiledInstrument, age_min: float, age_max: float,
                z_cuts=DEFAULT_Z_CUTS) -> dict[str, np.ndarray]:
    """Norm-reference a block of raw scores.

    Parameters
    ----------
    raw, valid : (n, s) arrays of raw scores and their validity.
    ages : (n,) age in months at assessment (NaN unknown, negative before birth).

    Returns
    -------
    dict of (n, s) arrays: ``band`` (index, -1 none), ``z``, ``percentile``
    (NaN unless mean/SD norms), ``level`` (int8, -2..2 or NO_LEVEL) and
    ``unclassified`` (reason code, 0 when classified).

    Notes
    -----
    Rows are worked :data:`CHUNK` at a time into the result arrays, so every
    temporary is the size of one chunk.
    """
    n, s = raw.shape
    ages = np.asarray(ages, dtype=float)
    band = band_index(ages, compiled)
    in_range = (ages >= age_min) & (ages <= age_max)
    row_reason = np.select(
        [np.isnan(ages), ages < 0, ~in_range],
        [UNCLASSIFIED_AGE_UNKNOWN, UNCLASSIFIED_BEFORE_BIRTH, UNCLASSIFIED_OUT_OF_RANGE],
        default=CLASSIFIED,
    ).astype(np.int8)
    band = np.where(row_reason == CLASSIFIED, band, -1)
    # Norm tables get a sentinel band row of NaN at the end for "no band".
    n_bands = len(compiled.band_low)
    band_rows = np.where(band >= 0, band, n_bands)
    nan_row = np.full((1, s), np.nan)
    tables = {
        "mean": np.concatenate([compiled.mean.reshape(n_bands, s), nan_row]),
        "sd": np.concatenate([compiled.sd.reshape(n_bands, s), nan_row]),
        "has_cuts": np.concatenate([compiled.has_cuts.reshape(n_bands, s),
                                    np.zeros((1, s), bool)]),
        "sign": np.where(compiled.reversed, -1.0, 1.0),
    }
    shape = (n, s)
    out = {"band": band, "z": np.empty(shape), "percentile": np.empty(shape),
           "level": np.empty(shape, dtype=np.int8),
           "unclassified": np.empty(shape, dtype=np.int8)}
    for start in range(0, n, CHUNK):
        stop = min(start + CHUNK, n)
        rows = slice(start, stop)
        z, level, reason = _norm_block(raw[rows], valid[rows], band_rows[rows],
                                       row_reason[rows], tables, compiled, z_cuts)
        out["z"][rows] = z
        out["percentile"][rows] = percentile_from_z(z)
        out["level"][rows] = level
        out["unclassified"][rows] = reason
    return out


def _norm_block(raw, valid, band_rows, row_reason, tables, compiled, z_cuts):
    """z, level and unclassified reason of one block of rows, as (m, s) arrays."""
    m, s = raw.shape
    has_cuts = tables["has_cuts"][band_rows]
    z = raw - tables["mean"][band_rows]
    z /= tables["sd"][band_rows]
    z *= tables["sign"]
    z[~valid] = np.nan
    level = classify_z(z, z_cuts)
    off_table = np.zeros((m, s), dtype=bool)
    if has_cuts.any():
        r_idx, j = np.nonzero(has_cuts & valid)
        b = band_rows[r_idx]
        r = np.floor(raw[r_idx, j] + 0.5)  # prorated raws: nearest whole, halves up
        lows, highs = compiled.cut_low[b, j], compiled.cut_high[b, j]  # (k, 5) ascending
        inside = (r[:, None] >= lows) & (r[:, None] <= highs)
        found = inside.any(axis=1)
        lv = compiled.cut_level[b, j, inside.argmax(axis=1)]
        level[r_idx, j] = np.where(found, lv, NO_LEVEL)
        off_table[r_idx[~found], j[~found]] = True
    reason = np.empty((m, s), dtype=np.int8)
    reason[:] = row_reason[:, None]
    no_norms = (reason == CLASSIFIED) & np.isnan(z) & ~has_cuts & valid
    reason[no_norms] = UNCLASSIFIED_NO_NORMS
    reason[off_table & (reason == CLASSIFIED)] = UNCLASSIFIED_OFF_TABLE
    reason[~valid] = UNCLASSIFIED_INVALID
    unclassified = reason != CLASSIFIED
    level[unclassified] = NO_LEVEL
    z[unclassified] = np.nan
    return z, level, reason


def standing(scores: pd.DataFrame) -> pd.Series:
    """Where each score of a tidy score table stands on the classification
    scale, in z units (the ``position`` the charts draw).

    The behaviour-oriented z clipped to [-3, 3] where there is one (mean/SD
    norms); otherwise the centre of the classification band
    (:data:`BAND_CENTERS`, cut-table norms); NaN when unclassified.
    """
    z = scores[C.Z].astype(float).clip(-3, 3)
    level = scores[C.LEVEL].astype("Float64").to_numpy(dtype=float, na_value=np.nan)
    centre = pd.Series(level, index=scores.index).map(BAND_CENTERS)
    return z.where(z.notna(), centre)
