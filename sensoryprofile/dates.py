"""Dates in data files: ISO 8601 only, never a guess.

``03/04/2025`` could be 3 April or 4 March: it is reported as ambiguous, not
read. Excel date cells (already datetimes) are accepted as they are.
"""

from __future__ import annotations

import datetime as dt
import re

import numpy as np
import pandas as pd

_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}(?:[T ]00:00(?::00(?:\.0+)?)?)?$")
_SLASHED = re.compile(r"^\d{1,2}[/.\-]\d{1,2}[/.\-]\d{2,4}$")

ISO_RULE = "dates must be ISO 8601 (YYYY-MM-DD)"


def date_problem(value) -> str:
    """Why a cell that failed :func:`parse_dates` is not a date."""
    text = str(value).strip()
    if _SLASHED.match(text):
        # the value itself is not repeated here: a date of birth must not leak
        return (f"ambiguous date: it could be read day-first or month-first, so it is not "
                f"guessed; {ISO_RULE}")
    if _ISO.match(text):
        return "not a calendar date"
    return f"not a date: {ISO_RULE}"


def parse_dates(values: pd.Series) -> tuple[pd.Series, np.ndarray]:
    """Parse a column of dates.

    Returns ``(dates, bad)``: ``dates`` is datetime64 (NaT for blank or bad
    cells) on the same index, ``bad`` a boolean array, True where a non-blank
    cell is not a valid ISO date. Blank cells are NaT and not bad.
    """
    if pd.api.types.is_datetime64_any_dtype(values):
        dates = values.dt.tz_localize(None) if getattr(values.dt, "tz", None) else values
        return dates.dt.normalize().astype("datetime64[ns]"), np.zeros(len(values), bool)
    blank = values.isna().to_numpy().copy()
    n = len(values)
    out = np.full(n, np.datetime64("NaT"), dtype="datetime64[ns]")  # positional throughout
    # Excel cells may arrive as datetime/date objects inside an object column.
    if values.dtype == object:
        is_obj_date = np.fromiter((isinstance(v, (dt.date, pd.Timestamp)) for v in values),
                                  dtype=bool, count=n)
        for k in np.flatnonzero(is_obj_date):
            out[k] = pd.Timestamp(values.iloc[k]).normalize().to_datetime64()
    else:
        is_obj_date = np.zeros(n, bool)
    todo = ~blank & ~is_obj_date
    if todo.any():
        # fast path: plain YYYY-MM-DD (the common case), parsed in C
        text = values.astype("string") if values.dtype != "string" else values
        fast = pd.to_datetime(text.where(todo), format="%Y-%m-%d", errors="coerce")
        out[todo] = fast.to_numpy(dtype="datetime64[ns]")[todo]
        # slow path, only for what the fast path could not read
        rest = np.flatnonzero(todo & np.isnat(out))
        if len(rest):
            stripped = values.iloc[rest].astype("string").str.strip()
            empty = (stripped == "").to_numpy(dtype=bool)
            blank[rest[empty]] = True
            iso = stripped.str.match(_ISO).fillna(False).to_numpy(dtype=bool) & ~empty
            if iso.any():
                parsed = pd.to_datetime(stripped[iso].str.slice(0, 10), format="%Y-%m-%d",
                                        errors="coerce")
                out[rest[iso]] = parsed.to_numpy(dtype="datetime64[ns]")
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
