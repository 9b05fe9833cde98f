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
    out = pd.Series(pd.NaT, index=values.index, dtype="datetime64[ns]")
    # Excel cells may arrive as datetime/date objects inside an object column.
    if values.dtype == object:
        is_obj_date = values.map(lambda v: isinstance(v, (dt.date, pd.Timestamp))).to_numpy(
            dtype=bool)
        if is_obj_date.any():
            out[is_obj_date] = pd.to_datetime(values[is_obj_date].map(
                lambda v: pd.Timestamp(v).normalize()))
    else:
        is_obj_date = np.zeros(len(values), bool)
    todo = ~blank & ~is_obj_date
    if todo.any():
        # fast path: plain YYYY-MM-DD (the common case), parsed in C
        plain = values.where(todo).astype("string") if values.dtype != "string" else values
        fast = pd.to_datetime(plain.where(todo), format="%Y-%m-%d", errors="coerce")
        out[todo] = fast[todo]
        # slow path, only for what the fast path could not read
        rest = todo & out.isna().to_numpy()
        if rest.any():
            text = values[rest].astype("string").str.strip()
            empty = (text == "").to_numpy(dtype=bool)
            blank[np.flatnonzero(rest)[empty]] = True
            iso = text.str.match(_ISO).fillna(False).to_numpy(dtype=bool) & ~empty
            if iso.any():
                parsed = pd.to_datetime(text[iso].str.slice(0, 10), format="%Y-%m-%d",
                                        errors="coerce")
                out[np.flatnonzero(rest)[iso]] = parsed.to_numpy()
    bad = ~blank & out.isna().to_numpy()
    return out, bad


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
