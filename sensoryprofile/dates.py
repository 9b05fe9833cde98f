"""Dates: reading them from data files, and counting months between them.

Reading: ISO 8601 only, never a guess. ``03/04/2025`` could be 3 April or
4 March: it is reported as ambiguous, not read. Excel date cells (already
datetimes) are accepted as they are.

Counting: one rule for every "months between two dates" in the package
(age at assessment, months since referral in a de-identified report):
:func:`completed_months`. Follow-up spans in research tables, where a
fraction matters, use :func:`elapsed_months`.
"""

from __future__ import annotations

import datetime as dt
import re

import numpy as np
import pandas as pd

_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}(?:[T ]00:00(?::00(?:\.0+)?)?)?$")
_SLASHED = re.compile(r"^\d{1,2}[/.\-]\d{1,2}[/.\-]\d{2,4}$")

ISO_RULE = "dates must be ISO 8601 (YYYY-MM-DD)"
#: The dates a table can hold (those of a nanosecond timestamp); a cell outside
#: them is not a date a record could carry, and is reported.
EARLIEST = pd.Timestamp("1678-01-01")
LATEST = pd.Timestamp("2261-12-31")
OUT_OF_RANGE_RULE = (f"not a possible date: dates must lie between {EARLIEST.year} and "
                     f"{LATEST.year}")


def _in_range(parsed) -> np.ndarray:
    """Parsed dates as datetime64[ns], NaT outside :data:`EARLIEST`..:data:`LATEST`
    (converting first would wrap a year-9999 date around to another one)."""
    parsed = pd.Series(parsed).astype("datetime64[us]")
    inside = (parsed >= EARLIEST) & (parsed <= LATEST)
    return parsed.where(inside).to_numpy(dtype="datetime64[ns]")


def _date_cell(value) -> np.datetime64:
    """An Excel date cell (date, datetime or Timestamp) as datetime64[ns], NaT
    when it lies outside :data:`EARLIEST`..:data:`LATEST`."""
    try:
        day = value.date() if isinstance(value, (dt.datetime, pd.Timestamp)) else value
        if not (EARLIEST.date() <= day <= LATEST.date()):
            return np.datetime64("NaT")
        return np.datetime64(day.isoformat(), "D").astype("datetime64[ns]")
    except (ValueError, OverflowError, TypeError):
        return np.datetime64("NaT")


def date_problem(value) -> str:
    """Why a cell that failed :func:`parse_dates` is not a date."""
    if isinstance(value, (dt.date, pd.Timestamp, np.datetime64)):
        return OUT_OF_RANGE_RULE
    text = str(value).strip()
    if _SLASHED.match(text):
        # the value itself is not repeated here: a date of birth must not leak
        return (f"ambiguous date: it could be read day-first or month-first, so it is not "
                f"guessed; {ISO_RULE}")
    if _ISO.match(text):
        return "not a calendar date"
    return f"not a date: {ISO_RULE}"


def arrow_text(values: pd.Series):
    """The column's pyarrow string array (its own buffers, no copy) when it
    is text held by pyarrow, else None."""
    dtype = values.dtype
    if not ((isinstance(dtype, pd.StringDtype) and dtype.storage == "pyarrow")
            or (isinstance(dtype, pd.ArrowDtype) and dtype.kind in "OSU")):
        return None
    import pyarrow as pa

    data = pa.array(values.array)
    if isinstance(data, pa.ChunkedArray):
        data = data.combine_chunks()
    if not (pa.types.is_string(data.type) or pa.types.is_large_string(data.type)):
        return None
    return data


def _strict_iso_days(data) -> tuple[np.ndarray, np.ndarray]:
    """Which cells of a pyarrow string array are exactly ``YYYY-MM-DD`` (ten
    ASCII characters, digits and two hyphens), and their dates as
    datetime64[ns] (NaT for a day the calendar lacks or outside
    :data:`EARLIEST`..:data:`LATEST`).

    The characters are read straight from the array's UTF-8 buffer (a cell
    of ten bytes that are all ASCII digits and hyphens is ten characters).
    Exact: the digits are read as numbers and the calendar checked with
    numpy's month arithmetic, the same days ``pd.to_datetime(...,
    format="%Y-%m-%d")`` reads from such cells, and the same NaT where it
    cannot.
    """
    n = len(data)
    wide = 8 if data.type == _large_string() else 4
    offsets = np.frombuffer(data.buffers()[1], dtype=f"<i{wide}")[data.offset:data.offset + n + 1]
    text = np.frombuffer(data.buffers()[2], dtype=np.uint8) if data.buffers()[2] else np.zeros(
        0, np.uint8)
    strict = np.diff(offsets) == 10
    if data.null_count:
        strict &= data.is_valid().to_numpy(zero_copy_only=False)
    days = _arrow_days(data, strict)
    if days is not None:  # every cell of ten bytes is a date: read by pyarrow
        ok = (days >= _EPOCH_DAY_FIRST) & (days <= _EPOCH_DAY_LAST)
        return strict, np.where(ok, days * _NS_PER_DAY, _NAT).view("datetime64[ns]")
    first = offsets[:-1][strict]
    if len(first) and first[-1] - first[0] == 10 * (len(first) - 1):  # one after another
        chars = text[first[0]:first[0] + 10 * len(first)].reshape(-1, 10)
    else:
        chars = text[first[:, None] + np.arange(10)]
    digits = chars - np.uint8(ord("0"))  # a byte below "0" wraps above 9
    shape_ok = (chars[:, 4] == ord("-")) & (chars[:, 7] == ord("-"))
    for k in (0, 1, 2, 3, 5, 6, 8, 9):
        shape_ok &= digits[:, k] <= 9
    strict[np.flatnonzero(strict)[~shape_ok]] = False
    digits = digits[shape_ok]

    def number(*positions: int) -> np.ndarray:
        value = np.zeros(len(digits), dtype=np.int64)
        for k in positions:
            value *= 10
            value += digits[:, k]
        return value

    year, month, day = number(0, 1, 2, 3), number(5, 6), number(8, 9)
    leap = ((year % 4 == 0) & (year % 100 != 0)) | (year % 400 == 0)
    month_days = _MONTH_DAYS[np.clip(month, 0, 13)] + (leap & (month == 2))
    ok = (month >= 1) & (month <= 12) & (day >= 1) & (day <= month_days)
    days = _days_from_civil(year, month, day)
    ok &= (days >= _EPOCH_DAY_FIRST) & (days <= _EPOCH_DAY_LAST)
    return strict, np.where(ok, days * _NS_PER_DAY, _NAT).view("datetime64[ns]")


def _arrow_days(data, strict: np.ndarray) -> np.ndarray | None:
    """Days since 1970-01-01 of the ``strict`` cells (ten bytes) of a pyarrow
    string array, read by pyarrow's cast to ``date32`` in one pass of C++,
    when every one of them is a date; None when any is not (pyarrow refuses
    the whole cast, and the cells are read digit by digit instead).

    Exact: the cast reads a ten-character cell as four, two and two ASCII
    digits with hyphens between, and refuses a month outside 1-12 or a day
    the month lacks (leap years proleptic Gregorian): the cells and days
    :func:`_strict_iso_days` accepts, the range check is done by the caller.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    cells = data if strict.all() else data.filter(pa.array(strict))
    try:
        days = pc.cast(cells, pa.date32())
    except pa.ArrowInvalid:
        return None
    return days.cast(pa.int32()).to_numpy().astype(np.int64)


#: days in each month (index 1-12; 0 and 13 for months that do not exist)
_MONTH_DAYS = np.array([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31, 0])
_NS_PER_DAY = 86_400 * 10**9
_NAT = np.datetime64("NaT", "ns").view(np.int64)


def _days_from_civil(year: np.ndarray, month: np.ndarray, day: np.ndarray) -> np.ndarray:
    """Days since 1970-01-01 of proleptic Gregorian dates (whole-number
    arithmetic, H. Hinnant's ``days_from_civil``; any month 1-12, day 1-31)."""
    y = year - (month <= 2)
    era = np.floor_divide(y, 400)
    year_of_era = y - era * 400
    day_of_year = (153 * ((month + 9) % 12) + 2) // 5 + day - 1
    day_of_era = year_of_era * 365 + year_of_era // 4 - year_of_era // 100 + day_of_year
    return era * 146_097 + day_of_era - 719_468


_EPOCH_DAY_FIRST = int((EARLIEST - pd.Timestamp("1970-01-01")).days)
_EPOCH_DAY_LAST = int((LATEST - pd.Timestamp("1970-01-01")).days)


def _large_string():
    import pyarrow as pa

    return pa.large_string()


def parse_dates(values: pd.Series) -> tuple[pd.Series, np.ndarray]:
    """Parse a column of dates.

    Returns ``(dates, bad)``: ``dates`` is datetime64 (NaT for blank or bad
    cells) on the same index, ``bad`` a boolean array, True where a non-blank
    cell is not a valid ISO date. Blank cells are NaT and not bad.
    """
    if pd.api.types.is_datetime64_any_dtype(values):
        dates = values.dt.tz_localize(None) if getattr(values.dt, "tz", None) else values
        dates = dates.astype("datetime64[us]")  # any range; checked before narrowing
        inside = dates.isna() | ((dates >= EARLIEST) & (dates <= LATEST))
        kept = dates.where(inside).dt.normalize().astype("datetime64[ns]")
        return kept, (~inside).to_numpy()
    blank = values.isna().to_numpy().copy()
    n = len(values)
    out = np.full(n, np.datetime64("NaT"), dtype="datetime64[ns]")  # positional throughout
    # Excel cells may arrive as datetime/date objects inside an object column.
    if values.dtype == object:
        is_obj_date = np.fromiter((isinstance(v, (dt.date, pd.Timestamp)) for v in values),
                                  dtype=bool, count=n)
        for k in np.flatnonzero(is_obj_date):
            # an Excel date cell: kept only inside the range a date can be held in
            # (a year-9999 cell would otherwise wrap around to another date)
            out[k] = _date_cell(values.iloc[k])
    else:
        is_obj_date = np.zeros(n, bool)
    todo = ~blank & ~is_obj_date
    if todo.any() and (arrow := arrow_text(values)) is not None:
        # pyarrow text: cells of exactly YYYY-MM-DD are read from their digits,
        # with no Python strings; only the others go the ways below
        strict, days = _strict_iso_days(arrow)
        out[strict] = days
        todo &= ~strict
    if todo.any():
        # fast path: plain YYYY-MM-DD (the common case), parsed in C
        positions = np.flatnonzero(todo)
        cells = values if len(positions) == n else values.iloc[positions]
        text = cells.astype("string") if cells.dtype != "string" else cells
        fast = _in_range(pd.to_datetime(text, format="%Y-%m-%d", errors="coerce"))
        out[positions] = fast
        # slow path, only for what the fast path could not read
        rest = positions[np.isnat(fast)]
        if len(rest):
            stripped = values.iloc[rest].astype("string").str.strip()
            empty = (stripped == "").to_numpy(dtype=bool)
            blank[rest[empty]] = True
            iso = stripped.str.match(_ISO).fillna(False).to_numpy(dtype=bool) & ~empty
            if iso.any():
                parsed = pd.to_datetime(stripped[iso].str.slice(0, 10), format="%Y-%m-%d",
                                        errors="coerce")
                out[rest[iso]] = _in_range(parsed)
    bad = ~blank & np.isnat(out)
    return pd.Series(out, index=values.index), bad


def to_date(value) -> dt.date | None:
    """A scalar date from a date, datetime, Timestamp or ISO string."""
    if value is None or value is pd.NaT:
        return None
    if isinstance(value, pd.Timestamp):
        return None if pd.isna(value) else value.date()
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, np.datetime64):
        return None if np.isnat(value) else pd.Timestamp(value).date()
    text = str(value).strip()
    if not _ISO.match(text):
        raise ValueError(f"{text!r}: {date_problem(text)}")
    return dt.date.fromisoformat(text[:10])


#: Days in an average month (a year of 365.25 days / 12).
DAYS_PER_MONTH = 365.25 / 12.0


def completed_months(start, end) -> np.ndarray:
    """Completed months from ``start`` to ``end`` (vectorised): a child's age
    in months when ``start`` is the date of birth.

    A month is completed on the same day of a later month, or on the last day
    of a month too short to have that day (born 31 January: one month old on
    28 February, 29 in a leap year). Returns float with NaN where either date
    is missing; negative where ``end`` is before ``start``.

    Examples
    --------
    >>> import pandas as pd
    >>> completed_months(pd.Series(pd.to_datetime(["2020-03-15", "2020-01-31"])),
    ...                  pd.Series(pd.to_datetime(["2023-03-15", "2020-02-29"]))).tolist()
    [36.0, 1.0]
    """
    born = pd.DatetimeIndex(pd.to_datetime(pd.Series(start).to_numpy()))
    seen = pd.DatetimeIndex(pd.to_datetime(pd.Series(end).to_numpy()))
    months = (seen.year - born.year) * 12 + (seen.month - born.month)
    not_reached = seen.day < born.day
    end_of_month = seen.is_month_end
    months = np.asarray(months, dtype=float) - (np.asarray(not_reached) & ~np.asarray(
        end_of_month))
    months[np.asarray(born.isna() | seen.isna())] = np.nan
    # before the start: count backwards so the value is negative, never 0
    before = np.asarray(seen < born)
    months[before] = np.minimum(months[before], -1.0)
    return months


def months_between(start, end) -> int | None:
    """:func:`completed_months` of two scalar dates (None when either is missing)."""
    if start is None or end is None or pd.isna(start) or pd.isna(end):
        return None
    return int(completed_months([pd.Timestamp(start)], [pd.Timestamp(end)])[0])


def elapsed_months(start, end) -> np.ndarray:
    """Fractional months from ``start`` to ``end``: days / :data:`DAYS_PER_MONTH`
    (a year is 12 months of 365.25 days). For follow-up spans in research
    tables; ages and "month N" labels use :func:`completed_months`."""
    days = (pd.to_datetime(pd.Series(end).reset_index(drop=True))
            - pd.to_datetime(pd.Series(start).reset_index(drop=True))).dt.days
    return days.to_numpy(dtype=float) / DAYS_PER_MONTH
