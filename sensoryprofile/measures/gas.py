"""Goal attainment scaling (GAS): levels, weights and the T-score formula.

* :func:`gas_tscore` scores one set of goals (a child's goals at one review).
* :func:`gas_tscores` scores every group of a long table at once (one row per
  goal per review): group sums of w*x, w**2 and w by array arithmetic, no
  Python loop per group.

A clinic's goals over time (reviews, carry-forward, goals met) are
:mod:`sensoryprofile.measures.goals`.

Levels: +2 much better than expected, +1 better, 0 the expected outcome (the
goal), -1 less than expected, -2 much less. The six-level variant adds -3,
worse than baseline (Turner-Stokes & Williams 2010). A goal counts as met at
level 0 or above.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from sensoryprofile.columns import (
    CHILD_ID,
    DATE,
    LEVEL,
    N_GOALS,
    T_SCORE,
    WEIGHT,
)
from sensoryprofile.errors import UsageError

FIVE_LEVEL = "five-level"
SIX_LEVEL = "six-level"
DEFAULT_RHO = 0.3
TOP_LEVEL = 2
MET_LEVEL = 0  # a goal is met at level 0 (the expected outcome) or above
#: The five levels of the standard scale, from much less to much better than expected.
FIVE_LEVELS = (-2, -1, 0, 1, 2)


def _expected_shares() -> dict[int, float]:
    # each whole level k holds the standard normal scores nearest to it:
    # P(k - 0.5 < Z < k + 0.5), the outer levels open-ended
    edges = (-1.5, -0.5, 0.5, 1.5)
    cdf = np.array([0.0, *(0.5 * math.erfc(-e / math.sqrt(2.0)) for e in edges), 1.0])
    return dict(zip(FIVE_LEVELS, np.diff(cdf).tolist(), strict=True))


#: Share of goals expected at each final level when goals are well set.
#: The T-score formula standardises each goal's level as a score with mean 0
#: and SD 1 (Kiresuk & Sherman 1968): five whole levels cut that normal curve
#: at +-0.5 and +-1.5 SD, which gives 6.7, 24.2, 38.3, 24.2 and 6.7 % for
#: -2..+2 (computed here, not copied). The 7/21/43/21/7 % often quoted could
#: not be traced to a source and is not used.
EXPECTED_GAS_SHARES: dict[int, float] = _expected_shares()



# ---------------------------------------------------------------------------
# argument checks
# ---------------------------------------------------------------------------
def gas_scale_for(six_level: bool) -> tuple[int, str]:
    """Lowest level and the scale's name."""
    return (-3, SIX_LEVEL) if six_level else (-2, FIVE_LEVEL)


def _fmt(value) -> str:
    """A value as a person reads it in an error message."""
    if value is None or value is pd.NA or value is pd.NaT:
        return "a missing value"
    if isinstance(value, (float, np.floating)):
        if np.isnan(value):
            return "a missing value"
        return str(int(value)) if float(value).is_integer() else f"{float(value):g}"
    return repr(value) if isinstance(value, str) else str(value)


def index_label(value) -> str:
    """An index label as written in Python (no numpy scalar reprs)."""
    return repr(value.item() if isinstance(value, np.generic) else value)


def check_rho(rho) -> float:
    what = "(the assumed correlation between goal scores; 0.3 is usual)"
    try:
        value = float(rho)
    except (TypeError, ValueError):
        raise UsageError(f"`rho` must be a number in [0, 1) {what}, but {rho!r} was "
                         "passed.") from None
    if not 0.0 <= value < 1.0:
        raise UsageError(f"`rho` must be in [0, 1) {what}, but {rho!r} was passed.")
    return value


def as_float(values, arg: str, where) -> np.ndarray:
    """1-D float array of numbers (NaN where blank); text raises UsageError."""
    if np.ndim(values) == 0:
        values = [values]
    elif np.ndim(values) > 1:
        raise UsageError(f"`{arg}` must be one-dimensional (one value per goal), but an array "
                         f"of shape {np.shape(values)} was passed.")
    if not isinstance(values, pd.Series):
        values = pd.Series(values, copy=False) if isinstance(
            values, (np.ndarray, pd.Index, pd.api.extensions.ExtensionArray)
        ) else pd.Series(list(values), dtype=object)
    if values.dtype.kind in "iuf":
        return values.to_numpy(dtype=np.float64)
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        return values.to_numpy(dtype=np.float64, na_value=np.nan)
    numbers = pd.to_numeric(values, errors="coerce")
    text = (numbers.isna() & values.notna()).to_numpy(dtype=bool)
    if pd.api.types.is_bool_dtype(values):
        text[:] = True
    if text.any():
        i = int(np.flatnonzero(text)[0])
        raise UsageError(f"The values in `{arg}` must be numbers, but {values.iloc[i]!r} was "
                         f"passed ({where(i, int(text.sum()))}).")
    return numbers.to_numpy(dtype=np.float64, na_value=np.nan)


def _off_scale(x: np.ndarray, six_level: bool) -> np.ndarray | None:
    """Boolean mask of levels off the scale, or None when all are on it."""
    low, _ = gas_scale_for(six_level)
    if x.size == 0:
        return None
    if x.dtype.kind in "iu":
        if x.min() >= low and x.max() <= TOP_LEVEL:
            return None
        return (x < low) | (x > TOP_LEVEL)
    with np.errstate(invalid="ignore"):
        ok = (x >= low) & (x <= TOP_LEVEL) & (np.floor(x) == x)
    return None if ok.all() else ~ok


def _level_message(arg: str, value, six_level: bool, where: str,
                   six_level_switch: str = "six_level=True") -> str:
    low, scale = gas_scale_for(six_level)
    allowed = ", ".join(str(v) for v in range(low, TOP_LEVEL + 1))
    message = (f"The values in `{arg}` must be one of {allowed} ({scale} GAS), but "
               f"{_fmt(value)} was passed ({where}).")
    if not six_level and value == -3:
        message += (" Level -3 (worse than baseline) is allowed only on the six-level scale "
                    f"({six_level_switch}).")
    elif value == -0.5:
        message += (" A partial-achievement -0.5 counts as -1 for analysis (Turner-Stokes & "
                    "Williams 2010): convert it to -1 before scoring.")
    return message


def check_levels(x: np.ndarray, arg: str, six_level: bool, where,
                  six_level_switch: str = "six_level=True") -> None:
    bad = _off_scale(x, six_level)
    if bad is not None:
        i = int(np.flatnonzero(bad)[0])
        raise UsageError(_level_message(arg, x[i], six_level, where(i, int(bad.sum())),
                                        six_level_switch))


def _check_weights(w: np.ndarray, arg: str, where) -> None:
    # two reductions, no temporary: a blank makes the minimum NaN (not >= 0)
    if w.size == 0 or (w.min() >= 0 and w.max() < np.inf):
        return
    bad = ~(np.isfinite(w) & (w >= 0))
    i = int(np.flatnonzero(bad)[0])
    if np.isnan(w[i]):
        raise UsageError(f"The values in `{arg}` must not be blank, but a missing value was "
                         f"passed ({where(i, int(bad.sum()))}). goal_weights() gives 1 where "
                         "importance or difficulty is blank.")
    raise UsageError(f"The values in `{arg}` must be finite and >= 0, but {_fmt(w[i])} was "
                     f"passed ({where(i, int(bad.sum()))}).")


def _goal_where(n: int, noun: str = "goal"):
    def where(i: int, n_bad: int) -> str:
        more = f"; {n_bad} {noun}s in all" if n_bad > 1 else ""
        return f"{noun} {i + 1} of {n}{more}"
    return where


def tscore_from_sums(swx, sw2, sw, rho: float):
    """T from the group sums; NaN where every weight is 0 (denominator 0).

    (1-rho)*sw2 + rho*sw**2 is computed as sw2 + rho*(sw**2 - sw2): the same
    number, with less rounding (the worked example gives exactly 196).
    """
    squared = sw2 + rho * (sw * sw - sw2)
    with np.errstate(divide="ignore", invalid="ignore"):
        t = 50.0 + 10.0 * swx / np.sqrt(squared)
    return np.where(squared > 0, t, np.nan)


# ---------------------------------------------------------------------------
# weights and one set of goals
# ---------------------------------------------------------------------------
def goal_weights(importance, difficulty):
    """Goal weights: importance x difficulty, or 1 where either is blank.

    Parameters
    ----------
    importance, difficulty : scalar or array-like of numbers
        Importance (0-3, rated with the family) and difficulty (0-3, rated by
        the therapist) of each goal; blank (None, NaN, ``pd.NA``) allowed.
        Same length, or one of them a scalar.

    Returns
    -------
    numpy.ndarray of float (one weight per goal), or a float when both
    arguments are scalars.

    Raises
    ------
    UsageError
        A value is negative or not a number, or the lengths differ.

    Notes
    -----
    A goal rated 0 for importance or for difficulty gets weight 0: it then
    contributes nothing to the T-score (neither to Σwx nor to the
    denominator); see :func:`gas_tscore` for what happens when every goal of a
    set has weight 0. A blank rating is not 0: the goal is unweighted
    (weight 1). Weighting, difficulty especially, can behave perversely when
    goals are not achieved (King's College London GAS guidance), which is why
    many services report unweighted T-scores alongside.

    Examples
    --------
    >>> goal_weights([2, 3, None, 0], [3, 1, 2, 2]).tolist()
    [6.0, 3.0, 1.0, 0.0]
    >>> goal_weights(2, 3)
    6.0
    """
    scalar = np.ndim(importance) == 0 and np.ndim(difficulty) == 0
    imp = as_float(importance, "importance", _goal_where(max(np.size(importance), 1)))
    dif = as_float(difficulty, "difficulty", _goal_where(max(np.size(difficulty), 1)))
    try:
        imp, dif = np.broadcast_arrays(imp, dif)
    except ValueError:
        raise UsageError("`importance` and `difficulty` must have one value per goal (the same "
                         f"length), but lengths {imp.size} and {dif.size} were passed.") from None
    for arg, values in (("importance", imp), ("difficulty", dif)):
        with np.errstate(invalid="ignore"):
            negative = values < 0
        if negative.any():
            i = int(np.flatnonzero(negative)[0])
            raise UsageError(f"The values in `{arg}` must be >= 0 (or blank), but "
                             f"{_fmt(values[i])} was passed "
                             f"({_goal_where(values.size)(i, int(negative.sum()))}).")
    weights = np.where(np.isnan(imp) | np.isnan(dif), 1.0, imp * dif)
    return float(weights[0]) if scalar else weights


def gas_tscore(levels, weights=None, rho: float = DEFAULT_RHO, *,
               six_level: bool = False) -> float:
    """GAS T-score of one set of goals (Kiresuk & Sherman, corrected).

    Parameters
    ----------
    levels : array-like of int
        Attainment level of each goal: -2..+2, or -3..+2 when ``six_level``.
    weights : array-like of float, optional
        One weight >= 0 per goal (:func:`goal_weights`); default 1 each.
    rho : float, default 0.3
        Assumed correlation between goal scores, in [0, 1).
    six_level : bool, default False
        Allow -3 (worse than baseline; Turner-Stokes & Williams 2010).

    Returns
    -------
    float
        The T-score (50 when every goal is at its expected level), or NaN when
        every weight is 0.

    Raises
    ------
    UsageError
        A level is off the scale or blank, ``levels`` is empty, ``weights``
        has another length or a negative or blank value, or ``rho`` is outside
        [0, 1).

    Notes
    -----
    .. math::

        T = 50 + \\frac{10 \\sum w_i x_i}
                       {\\sqrt{(1 - \\rho) \\sum w_i^2 + \\rho (\\sum w_i)^2}}

    with :math:`x_i` the level and :math:`w_i` the weight of goal *i*
    (Kiresuk & Sherman 1968, as corrected in the Turner-Stokes 2009 erratum).
    One unweighted goal gives T = 50 + 10x; with rho = 0 the denominator is
    the root of the sum of squared weights.

    Zero weights: a goal with weight 0 contributes nothing. When every weight
    of the set is 0 the formula is 0/0 and the T-score is undefined: NaN is
    returned (not an error), the same in :func:`gas_tscores` and
    :func:`goal_attainment`, so one child whose goals were all rated 0 for
    importance does not stop a caseload report.

    Six-level scale: -3 enters the formula as -3. A partial-achievement
    -0.5 (the other six-level variant) is rejected: convert it to -1 first,
    as Turner-Stokes & Williams (2010) advise for analysis.

    References
    ----------
    .. [1] Kiresuk TJ, Sherman RE (1968). Goal attainment scaling: a general
       method for evaluating comprehensive community mental health programs.
       Community Mental Health Journal 4(6):443-453.
    .. [2] Turner-Stokes L (2009). Goal attainment scaling (GAS) in
       rehabilitation: a practical guide. Clinical Rehabilitation
       23(4):362-370; erratum 23(10):959.

    Examples
    --------
    Worked example: Σwx = 7, Σw² = 91, Σw = 21, √(0.7·91 + 0.3·21²) = 14.

    >>> gas_tscore([-2, 0, -1, 2, 0, 1], weights=[3, 5, 1, 4, 2, 6])
    55.0
    >>> gas_tscore([1])
    60.0
    >>> round(gas_tscore([-1, -1, -1]), 3)
    36.307
    """
    rho = check_rho(rho)
    n = int(np.size(levels)) if np.ndim(levels) else 1
    x = as_float(levels, "levels", _goal_where(n))
    if x.size == 0:
        raise UsageError("`levels` must hold at least one goal's level, but an empty sequence "
                         "was passed.")
    check_levels(x, "levels", six_level, _goal_where(x.size))
    if weights is None:
        w = np.ones_like(x)
    else:
        w = as_float(weights, "weights", _goal_where(x.size))
        if w.size != x.size:
            raise UsageError(f"`weights` must hold one weight per goal in `levels` ({x.size}), "
                             f"but {w.size} were passed.")
        _check_weights(w, "weights", _goal_where(x.size))
    return float(tscore_from_sums(float(w @ x), float(w @ w), float(w.sum()), rho))


# ---------------------------------------------------------------------------
# many sets of goals: a long table
# ---------------------------------------------------------------------------
def _lexicographic(keys: list[np.ndarray], strict: bool) -> bool:
    """True when the rows of ``keys`` (one array per column) are in order."""
    if keys[0].size < 2:
        return True
    increasing = np.zeros(keys[0].size - 1, dtype=bool)
    tied = np.ones(keys[0].size - 1, dtype=bool)
    for key in keys:
        increasing |= tied & np.asarray(key[1:] > key[:-1], dtype=bool)
        tied &= np.asarray(key[1:] == key[:-1], dtype=bool)
    return bool(increasing.all() if strict else (increasing | tied).all())


#: Largest combined key: the codes of the key columns are packed into one int64.
_KEY_LIMIT = 2**63 - 1


def _arrow_text(series: pd.Series):
    """The pyarrow array (one chunk) of a column held by pyarrow (text, as a
    rule), with no blank; None for any other column. pandas keeps text in
    pyarrow when pyarrow is installed (the ``dask`` extra brings it): turning
    such a column into Python strings costs more than grouping it, so its
    keys are read from pyarrow's buffers instead (no copy of the text)."""
    dtype = series.dtype
    arrow = (isinstance(dtype, pd.ArrowDtype)
             or (isinstance(dtype, pd.StringDtype) and dtype.storage == "pyarrow"))
    if not arrow or series.isna().any():
        return None
    import pyarrow as pa

    data = pa.array(series.array)  # no copy: the column's own buffers
    if isinstance(data, pa.ChunkedArray):
        data = data.combine_chunks()
    return data


def _text_buffers(data):
    """The offsets (n + 1 of them, as numpy) and the bytes buffer of a
    non-empty pyarrow text array ``data`` (string or large_string; a slice of
    a longer array is read in place); None for any other array."""
    import pyarrow as pa

    if pa.types.is_string(data.type):
        offset_type = np.int32
    elif pa.types.is_large_string(data.type):
        offset_type = np.int64
    else:
        return None
    n = len(data)
    if n == 0:
        return None
    buffers = data.buffers()
    offsets = np.frombuffer(buffers[1], dtype=offset_type, count=n + 1,
                            offset=data.offset * np.dtype(offset_type).itemsize)
    return offsets, buffers[2]


def _fixed_width_key(data) -> np.ndarray | None:
    """Each text's UTF-8 bytes read as one unsigned big-endian integer, when
    every text of the pyarrow array ``data`` has the same number of bytes, at
    most 8; None otherwise.

    Exact: texts of one width are equal exactly when their integers are, and
    the integers are in the texts' order (big-endian bytes compare as the
    bytes do, and UTF-8 bytes compare as the code points do, which is how
    Python compares str). Zero-padded ids ("C0000123") are the usual case:
    reading them costs one pass over the offsets and one copy of the bytes,
    where hashing the texts costs a look-up per row.
    """
    text_buffers = _text_buffers(data)
    if text_buffers is None:
        return None
    offsets, text_buffer = text_buffers
    n = len(data)
    width = int(offsets[1] - offsets[0])
    if width > 8 or int(offsets[-1] - offsets[0]) != n * width:
        return None
    if n > 1 and not (np.diff(offsets) == width).all():
        return None
    padded = np.zeros((n, 8), dtype=np.uint8)
    if width:
        text = np.frombuffer(text_buffer, dtype=np.uint8, count=n * width,
                             offset=int(offsets[0])).reshape(n, width)
        padded[:, 8 - width:] = text  # right-aligned: leading zero bytes
    return padded.view(">u8").ravel().astype(np.uint64)


def _short_text_key(data) -> np.ndarray | None:
    """Each text of the pyarrow array ``data`` as one unsigned integer when
    every text has at most 7 UTF-8 bytes (of any widths): its bytes
    left-aligned in the first 7 bytes of a big-endian uint64, zero-padded, and
    its length in the last byte; None otherwise.

    Exact and in the texts' order: the padded bytes compare as the texts do up
    to the shorter one's end; when one text is the other's prefix, the
    shorter pads with zeros where the longer has bytes (>= 0), and when those
    are all zero bytes too, the length byte puts the shorter first, as Python
    does. So ids of varying widths ("C1" .. "C9999999") are read without
    hashing text, like :func:`_fixed_width_key`'s.
    """
    text_buffers = _text_buffers(data)
    if text_buffers is None:
        return None
    offsets, text_buffer = text_buffers
    n = len(data)
    lengths = np.diff(offsets)
    if int(lengths.max()) > 7:
        return None
    padded = np.zeros((n, 8), dtype=np.uint8)
    padded[:, 7] = lengths
    first, size = int(offsets[0]), int(offsets[-1] - offsets[0])
    if size:
        text = np.frombuffer(text_buffer, dtype=np.uint8, count=size, offset=first)
        # byte b of the texts (they lie end to end) goes to row r, column
        # b - start(r): flat position 8r + b - start(r)
        where = np.repeat(np.arange(n, dtype=np.int64) * 8 - (offsets[:-1] - first), lengths)
        where += np.arange(size)
        padded.reshape(-1)[where] = text
    return padded.view(">u8").ravel().astype(np.uint64)


def _arrow_codes(data) -> np.ndarray:
    """Integer codes (0..k-1, in order of first appearance) of the texts of
    the pyarrow array ``data``, from pyarrow's dictionary encoding."""
    import pyarrow.compute as pc

    encoded = pc.dictionary_encode(data)
    return encoded.indices.to_numpy(zero_copy_only=False).astype(np.int64, copy=False)


def _text_key(series: pd.Series) -> tuple[np.ndarray, bool] | None:
    """An integer key of each row of a column held by pyarrow with no blank
    (text, as a rule), and whether the keys are dense codes (0..k-1 in order
    of first appearance); None for any other column.

    The key is :func:`_fixed_width_key` or :func:`_short_text_key` when the
    texts allow it, else the dictionary codes of :func:`_arrow_codes` (also for columns held by
    pyarrow that are not text). Both serve
    :func:`_sorted_runs`: the first keeps the texts' order; the second is
    non-decreasing exactly when each text's rows are contiguous.
    """
    data = _arrow_text(series)
    if data is None:
        return None
    key = _fixed_width_key(data)
    if key is None:
        key = _short_text_key(data)
    return (key, False) if key is not None else (_arrow_codes(data), True)


def _sorted_runs(table: pd.DataFrame, by: list[str],
                 text_keys: list | None = None) -> np.ndarray | None:
    """Start row of each group when the rows are sorted by ``by``, else None.

    Adjacent rows are compared (no hashing). Each run of equal keys must
    start with a key greater (lexicographically over ``by``) than the run
    before, so that no group is split into two runs;
    anything else (unsorted rows, blank or uncomparable keys, categoricals)
    returns None and the caller hashes the keys instead. Two small samples
    (the first rows, and every k-th row) are checked first, so unsorted input
    is turned away cheaply. ``text_keys`` (one :func:`_text_key` or None per
    column) stand for text columns held by pyarrow; computed here when not
    given.
    """
    n = len(table)
    if n == 0:
        return None
    try:
        columns = [table[column] for column in by]
        if any(isinstance(c.dtype, pd.CategoricalDtype) for c in columns):
            return None
        stride = max(n // 1024, 1)
        if not (_lexicographic([c.iloc[:1024].to_numpy() for c in columns], strict=False)
                and _lexicographic([c.iloc[::stride].to_numpy() for c in columns],
                                   strict=False)):
            return None
        if text_keys is None:
            text_keys = [_text_key(series) for series in columns]
        # a pyarrow text column: its fixed-width integers (in the texts' order),
        # or its codes in order of first appearance, which are non-decreasing
        # exactly when each text's rows are contiguous
        keys = [series.to_numpy() if text is None else text[0]
                for series, text in zip(columns, text_keys, strict=True)]
        # rows i and i+1 differ on column j: changes[j][i]
        changes = [np.asarray(key[1:] != key[:-1], dtype=bool) for key in keys]
        boundary = np.flatnonzero(np.logical_or.reduce(changes))
        # at each boundary the first column that changes must increase
        starts = np.concatenate([[0], boundary + 1])
        decided = np.zeros(boundary.size, dtype=bool)
        for key, changed in zip(keys, changes, strict=True):
            first = changed[boundary] & ~decided
            if first.all():  # the usual case for the first column: compare whole runs
                run_keys = key[starts]
                increasing = np.asarray(run_keys[1:] > run_keys[:-1], dtype=bool)
            elif first.any():
                rows = boundary[first]
                increasing = np.asarray(key[rows + 1] > key[rows], dtype=bool)
            else:
                continue
            if not increasing.all():
                return None
            decided |= first
    except (TypeError, ValueError):
        return None
    return starts


def _dense_codes(key: np.ndarray) -> np.ndarray:
    """Codes 0..k-1 of the integer keys, in order of first appearance: one
    hash pass, by pyarrow's dictionary encoding when pyarrow is installed
    (faster than ``pd.factorize`` on int64, and it releases the GIL), else by
    ``pd.factorize``. Both number the distinct keys as they first appear."""
    try:
        import pyarrow as pa
    except ImportError:
        return pd.factorize(key)[0].astype(np.int64, copy=False)
    import pyarrow.compute as pc

    encoded = pc.dictionary_encode(pa.array(key))
    return encoded.indices.to_numpy(zero_copy_only=False).astype(np.int64, copy=False)


#: Steps of a day in each unit pandas holds datetime64 values in.
_PER_DAY = {"s": 86_400, "ms": 86_400_000, "us": 86_400_000_000, "ns": 86_400_000_000_000}


def _day_codes(series: pd.Series) -> tuple[np.ndarray, int] | None:
    """Whole days since the earliest value, and their bound, for a datetime64
    column held by numpy, with no blank, whose values all fall at one time of
    day (review dates: midnights) and span no more days than there are rows;
    None otherwise.

    Exact: distinct dates are distinct day counts (one subtraction and one
    division; no hashing). The span limit keeps the bound no larger than a
    factorization's could be, so packing it costs no extra hash pass.
    """
    dtype = series.dtype
    if not (isinstance(dtype, np.dtype) and dtype.kind == "M"):
        return None
    per_day = _PER_DAY.get(np.datetime_data(dtype)[0])
    if per_day is None:
        return None
    ticks = series.to_numpy().view(np.int64)
    low, high = int(ticks.min()), int(ticks.max())
    if low == np.iinfo(np.int64).min:  # NaT: a blank
        return None
    span = (high - low) // per_day + 1
    if span > ticks.size:
        return None
    shifted = ticks - low
    days = shifted // per_day
    if not (days * per_day == shifted).all():  # not all at one time of day
        return None
    return days, span


def _column_codes(series: pd.Series, text: tuple[np.ndarray, bool] | None
                  ) -> tuple[np.ndarray, int, bool]:
    """Codes >= 0 of one key column (equal values, equal codes; blank keys
    one code of their own), their bound (every code is below it) and whether
    they are dense (0..k-1 in order of first appearance)."""
    if text is not None:
        key, dense = text
        if dense:
            return key, int(key.max()) + 1, True
        low, high = key.min(), key.max()
        if high - low < _KEY_LIMIT:  # the shifted integers fit in int64
            return (key - low).astype(np.int64), int(high - low) + 1, False
        codes = _dense_codes(key.view(np.int64))  # same bits, same equalities
        return codes, int(codes.max()) + 1, True
    days = _day_codes(series)
    if days is not None:
        return days[0], days[1], False
    values = series
    if values.dtype == object or pd.api.types.is_string_dtype(values.dtype):
        values = values.to_numpy()  # hashing the object array directly is faster
    codes, uniques = pd.factorize(values)
    n_uniques = len(uniques)
    blank = codes < 0
    if not blank.any():
        return codes.astype(np.int64, copy=False), n_uniques, True
    # blank keys (code -1) become one more code of this column
    return np.where(blank, n_uniques, codes).astype(np.int64), n_uniques + 1, False


def _hashed_groups(table: pd.DataFrame, by: list[str],
                   text_keys: list | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Group codes 0..k-1 in order of first appearance, and one row of each group.

    Each key column becomes integer codes (:func:`_column_codes`: a text's
    fixed-width integer, a date's day count, or a factorization), and the
    codes of all columns are packed into one int64, ``key = key * bound +
    codes`` column by column, which is exact (one key per combination of codes) while the
    product of the bounds fits in int64; when it would not, the key so far
    is first made dense (at most one code per row). The packed key is then
    hashed once (:func:`_dense_codes`), so (text id, date) costs one hash
    pass over int64, not one over the texts, one over the dates and another
    over the pairs.
    """
    if text_keys is None:
        text_keys = [_text_key(table[column]) for column in by]
    key = bound = dense = None
    for column, text in zip(by, text_keys, strict=True):
        codes, n_codes, codes_dense = _column_codes(table[column], text)
        if key is None:
            key, bound, dense = codes, n_codes, codes_dense
            continue
        if bound * n_codes > _KEY_LIMIT:
            if not dense:
                key = _dense_codes(key)
                bound = int(key.max()) + 1
            if bound * n_codes > _KEY_LIMIT:  # a wide column: dense codes fit
                codes = _dense_codes(codes)
                n_codes = int(codes.max()) + 1
        key = key * n_codes + codes
        bound *= n_codes
        dense = False
    codes = key if dense else _dense_codes(key)
    some_row = np.empty(int(codes.max()) + 1, dtype=np.int64)
    # repeated indices: some row of the group is stored; all share the keys
    some_row[codes] = np.arange(codes.size)
    return codes, some_row


def group_rows(table: pd.DataFrame, by: list[str]) -> tuple[np.ndarray, pd.DataFrame, np.ndarray]:
    """Group code of every row (0..k-1, in order of first appearance), the
    keys of each group (a k-row frame of the ``by`` columns), and group sizes.

    Sorted rows are grouped by comparing adjacent rows (:func:`_sorted_runs`),
    any others by hashing (:func:`_hashed_groups`); text held by pyarrow is
    read once (:func:`_text_key`) for either."""
    n = len(table)
    if n == 0:
        keys = table[by].iloc[:0].reset_index(drop=True)
        codes = counts = np.zeros(0, dtype=np.int64)
        return codes, keys, counts
    text_keys = [_text_key(table[column]) for column in by]
    starts = _sorted_runs(table, by, text_keys)
    if starts is not None:
        keys = table[by].iloc[starts].reset_index(drop=True)
        counts = np.diff(np.append(starts, n))
        codes = np.repeat(np.arange(starts.size), counts)
    else:
        codes, some_row = _hashed_groups(table, by, text_keys)
        keys = table[by].iloc[some_row].reset_index(drop=True)
        counts = np.bincount(codes, minlength=some_row.size)
    return codes, keys, counts.astype(np.int64)


def gas_tscores(table: pd.DataFrame, *, by=(CHILD_ID, DATE), level: str = LEVEL,
                weight: str | None = WEIGHT, rho: float = DEFAULT_RHO,
                six_level: bool = False) -> pd.DataFrame:
    """GAS T-score of every group of goals in a long table.

    Parameters
    ----------
    table : pandas.DataFrame
        One row per goal per group (e.g. per child per review date).
    by : str or sequence of str, default (``child_id``, ``date``)
        Columns that identify a set of goals.
    level : str, default ``level``
        Column of attainment levels (-2..+2, or -3..+2 when ``six_level``).
    weight : str or None, default ``weight``
        Column of weights >= 0 (:func:`goal_weights`); None for unweighted.
    rho : float, default 0.3
        Assumed correlation between goal scores, in [0, 1).
    six_level : bool, default False
        Allow -3 (worse than baseline).

    Returns
    -------
    pandas.DataFrame
        One row per group, in order of first appearance in ``table`` (so in
        key order when ``table`` is sorted by ``by``); blank keys form a
        group of their own. Columns:

        - the ``by`` columns;
        - ``t_score`` : float, as :func:`gas_tscore`; NaN when every weight
          of the group is 0;
        - ``n_goals`` : int, rows (goals) in the group.

    Raises
    ------
    UsageError
        A column is missing, a level is off the scale or blank, a weight is
        negative or blank, or ``rho`` is outside [0, 1). The message names
        the first offending row by its index label.

    Notes
    -----
    T = 50 + 10·Σwx / √((1−ρ)Σw² + ρ(Σw)²) per group (Kiresuk & Sherman
    1968; Turner-Stokes 2009 erratum). The three sums are taken for all
    groups at once (``np.bincount`` over integer group codes); there is no
    Python loop per group. When the rows are
    already sorted by ``by`` (as the tables of :func:`goal_trajectories`
    are), groups are found by comparing adjacent rows; otherwise the key
    columns are turned into integer codes, packed into one int64 and hashed
    once, which for text keys in random order still costs more than the
    arithmetic (see ``benchmarks/goals.py``). Text ids held by pyarrow that
    all have the same width (at most 8 bytes) are read as integers, never
    hashed as text (:func:`group_rows`). Zero weights are handled as in
    :func:`gas_tscore`.

    References
    ----------
    .. [1] Kiresuk TJ, Sherman RE (1968). Community Mental Health Journal
       4(6):443-453.
    .. [2] Turner-Stokes L (2009). Clinical Rehabilitation 23(4):362-370;
       erratum 23(10):959.

    Examples
    --------
    >>> table = pd.DataFrame({"child_id": ["C1", "C1", "C2", "C2"],
    ...                       "date": pd.to_datetime(["2024-03-01"] * 4),
    ...                       "level": [0, 1, -1, -1],
    ...                       "weight": [1.0, 1.0, 1.0, 1.0]})
    >>> gas_tscores(table).round({"t_score": 3})
      child_id       date  t_score  n_goals
    0       C1 2024-03-01   56.202        2
    1       C2 2024-03-01   37.597        2
    """
    rho = check_rho(rho)
    if not isinstance(table, pd.DataFrame):
        raise UsageError(f"`table` must be a pandas DataFrame, but {type(table).__name__} was "
                         "passed.")
    by = [by] if isinstance(by, str) else list(by)
    if not by:
        raise UsageError("`by` must name at least one column, but an empty sequence was "
                         "passed.")
    wanted = [*by, level] + ([weight] if weight is not None else [])
    missing = [c for c in wanted if c not in table.columns]
    if missing:
        hint = (" Pass weight=None for unweighted goals, or add weights with goal_weights()."
                if weight in missing else "")
        raise UsageError(f"`table` has no column {', '.join(map(repr, missing))}; its columns "
                         f"are {', '.join(map(repr, table.columns))}.{hint}")

    def where(i: int, n_bad: int) -> str:
        more = f"; {n_bad} rows in all" if n_bad > 1 else ""
        return f"`table` index {index_label(table.index[i])}{more}"

    x = table[level].to_numpy()
    if x.dtype.kind not in "iu":
        x = as_float(table[level], level, where)
    check_levels(x, level, six_level, where)
    if weight is not None:
        w = as_float(table[weight], weight, where)
        _check_weights(w, weight, where)

    codes, keys, counts = group_rows(table, by)

    def group_sum(values):
        return np.bincount(codes, weights=values, minlength=len(keys))

    if weight is None:
        sw = counts.astype(np.float64)
        t = tscore_from_sums(group_sum(x.astype(np.float64)), sw, sw, rho)
    else:
        t = tscore_from_sums(group_sum(w * x), group_sum(w * w), group_sum(w), rho)
    out = keys
    out[T_SCORE] = t
    out[N_GOALS] = counts.astype(np.int64)
    return out


