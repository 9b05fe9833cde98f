"""De-identified export of a clinic dataset, for researchers.

:func:`export_deidentified` writes a dataset of the same shape (children.csv,
assessments.csv, goals.csv, goal_ratings.csv) that identifies no child,
following HIPAA Safe Harbor (names, dates and identifying numbers removed;
ages over 89 aggregated), plus ``manifest.json`` and ``MANIFEST.md`` saying
what was done to every column of every table.

What happens to each value
--------------------------
* IDs (child, assessment, goal) become keyed pseudonyms:
  ``prefix + first 16 hex digits of HMAC-SHA256(key, table + NUL + id)``,
  e.g. ``C-3f2a9c0b5d1e7a44``. The same key gives the same pseudonyms in every
  export (extracts link); without the key they cannot be reversed or
  recomputed. The message is namespaced by kind, so a child id and a goal id
  that are equal never share a pseudonym.
* Sites, therapists and rater names become keyed pseudonyms
  (``site-…``, ``therapist-…``, ``rater-…``) unless ``keep_sites=True``
  (rater *roles* such as "therapist" or "caregiver" are kept as they are).
* ``date_of_birth``, ``display_name``, rating notes, the goal description and
  the five level texts are removed. Columns the toolkit does not know are
  removed too (they could hold anything); they are counted, not named.
* Ages are kept in whole completed months: ``age_at_referral_months`` on
  children and ``age_months`` at each assessment (which is what scoring uses
  without dates of birth). Ages of 90 years or more are written as 1080
  months, meaning "90 or older" (Safe Harbor; moot for children).
* Calendar dates are shifted by a per-child offset derived from the key (see
  :data:`DATE_SHIFT_BASE_DAYS`): the same offset for every date of a child, so
  intervals and weekdays are preserved. The offset moves every date about 200
  years into the past, so a shifted date can never be mistaken for, or
  coincide with, a real one (MIMIC shifts into the future for the same
  reason; the loader refuses future dates, hence the past). The real year is
  within one of the shifted year plus 200, which Safe Harbor permits (it
  removes all elements of dates *except the year*); the day within the year
  is hidden by a keyed +/-26-week jitter.
  With ``no_dates=True`` there are no dates at all: each date column is
  replaced by whole days since the child's referral (day 0), in the columns
  of :data:`C.DAY_COLUMNS` (``referral_day``, ``date_day``, ...).
* Item responses are rewritten canonically: the number of an on-scale answer
  (a typed label becomes its number), blank stays blank, and anything else
  (off-scale numbers, free text) becomes ``off-scale``, which scores the same
  way (the score is invalid) but cannot carry text. Cells of another
  instrument's items are blanked (scoring ignores them).
* Rows rejected by validation are not exported; the manifest lists them by
  pseudonym with the column that failed (never the rule text, which can quote
  values).
* Output rows are ordered by pseudonym (then by date within a child), never
  in the clinic's order, which may follow names or record numbers.

The key file
------------
:func:`new_key` writes 32 random bytes, hex-encoded, to a new file with mode
0o600 and refuses to overwrite. Reading a key refuses a file that group or
others can read (``chmod 600`` it), a key shorter than 32 bytes, and a key
stored inside the export folder: the key must never travel with the export.
The manifest records only its fingerprint (first 8 hex digits of its SHA-256).

Nothing identifying is logged or raised: messages name files, columns and
counts, never an original ID, name, date or text.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import logging
import os
import secrets
import shutil
import stat
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from sensoryprofile import __version__
from sensoryprofile import columns as C
from sensoryprofile.data.dataset import SETTINGS_FILE, TABLES, Dataset, load_dataset
from sensoryprofile.data.tables import write_csv_atomic, write_text_atomic
from sensoryprofile.data.validation import DEPENDENT_REJECTED, ROW_REJECTED
from sensoryprofile.dates import completed_months
from sensoryprofile.errors import UsageError
from sensoryprofile.instruments import list_instruments
from sensoryprofile.instruments.schema import RESPONDENTS
from sensoryprofile.measures.responses import BLANK, FIRST_VALUE, OFF, encode_item_columns

log = logging.getLogger(__name__)

# -- files of an extract (the columns it adds are in sensoryprofile.columns) --
MANIFEST_JSON = "manifest.json"
MANIFEST_MD = "MANIFEST.md"
FORMAT = "sensoryprofile-deidentified-export"
FORMAT_VERSION = 1

# -- keys and pseudonyms -------------------------------------------------------
KEY_BYTES = 32
FINGERPRINT_HEX = 8
ID_HEX = 16     # hex digits of an ID pseudonym (64 bits: collisions are checked anyway)
LABEL_HEX = 8   # hex digits of a site / therapist / rater pseudonym
PREFIXES = {
    C.CHILD_ID: "C-",
    C.ASSESSMENT_ID: "A-",
    C.GOAL_ID: "G-",
    C.SITE: "site-",
    C.THERAPIST: "therapist-",
    C.RATER: "rater-",
}
#: Rater values kept as they are: roles, not people (compared case-insensitively).
RATER_ROLES = frozenset({*RESPONDENTS, "therapist", "parent", "carer", "guardian", "family",
                         "child", "other"})

# -- dates and ages ------------------------------------------------------------
#: Every date moves back this many days (10436 weeks, about 200 years) ...
DATE_SHIFT_BASE_DAYS = 7 * 10436
#: ... plus a per-child keyed jitter of -26 to +26 whole weeks.
DATE_SHIFT_JITTER_WEEKS = 26
#: Safe Harbor: ages over 89 years are aggregated into "90 or older".
AGE_CAP_MONTHS = 90 * 12

#: Shifted dates stay readable as ``datetime64[ns]`` (which starts in 1677).
EARLIEST_SHIFTED = np.datetime64("1678-01-01", "D")

OFF_SCALE_CELL = "off-scale"

# -- what happens to a column --------------------------------------------------
KEPT = "kept"
REMOVED = "removed"
PSEUDONYMISED = "pseudonymised"
SHIFTED = "date-shifted"
DAYS = "replaced by days since intake"
ADDED = "added"
CANONICALISED = "canonicalised"

_DIAGNOSES_NOTE = (
    "Diagnoses are kept: in this toolkit's (synthetic) setting a diagnosis is not identifying "
    "by itself. They are free text: review rare diagnoses or any text beyond a diagnosis name "
    "before release, since a rare value can single a child out in combination with age, sex "
    "and site.")


# ---------------------------------------------------------------------------
# keys
# ---------------------------------------------------------------------------
def new_key(path: str | Path) -> Path:
    """Write a new secret key: 32 random bytes, hex-encoded, mode 0o600.

    The file is created with ``O_CREAT | O_EXCL`` (owner read/write only), so
    an existing file, or a symbolic link, is never overwritten.

    Returns
    -------
    Path of the key file.

    Raises
    ------
    UsageError
        The file already exists, or its folder does not.
    """
    path = Path(path)
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(path, flags, 0o600)
    except FileExistsError:
        raise UsageError(f"{path}: a file already exists there; a key is never overwritten "
                         "(exports made with it would no longer link). Choose another path."
                         ) from None
    except FileNotFoundError:
        raise UsageError(f"{path}: its folder does not exist") from None
    try:
        if hasattr(os, "fchmod"):
            os.fchmod(fd, 0o600)  # exactly 0o600, whatever the umask
        os.write(fd, (secrets.token_bytes(KEY_BYTES).hex() + "\n").encode("ascii"))
    finally:
        os.close(fd)
    log.info("new export key written (fingerprint %s)", key_fingerprint(read_key(path)))
    return path


def read_key(path: str | Path) -> bytes:
    """The secret key in a key file written by :func:`new_key`.

    Refuses (:class:`UsageError`) a missing file, a file that group or others
    may read (on POSIX systems), and anything but at least 32 hex-encoded
    bytes. Messages never show the key.
    """
    path = Path(path)
    try:
        info = path.stat()
    except FileNotFoundError:
        raise UsageError(f"{path}: no such key file; create one with new_key() "
                         "(`sensoryprofile export --new-key`) and keep it apart from exports"
                         ) from None
    if not stat.S_ISREG(info.st_mode):
        raise UsageError(f"{path}: the key file is not a regular file")
    if os.name == "posix" and info.st_mode & 0o077:
        raise UsageError(f"{path}: the key file may be read by group or others (mode "
                         f"{stat.S_IMODE(info.st_mode):#o}); restrict it with "
                         f"`chmod 600 {path}`: anyone with the key can re-link pseudonyms")
    text = path.read_text(encoding="ascii", errors="replace").strip()
    try:
        key = bytes.fromhex(text)
    except ValueError:
        key = b""
    if len(key) < KEY_BYTES:
        raise UsageError(f"{path}: not a key file (it must hold at least {KEY_BYTES} bytes "
                         f"as {2 * KEY_BYTES} hex digits, as new_key() writes)")
    return key


def key_fingerprint(key: bytes) -> str:
    """First 8 hex digits of the key's SHA-256: names a key without revealing it."""
    return hashlib.sha256(key).hexdigest()[:FINGERPRINT_HEX]


class Pseudonymiser:
    """Keyed pseudonyms and date offsets (HMAC-SHA256), namespaced by kind."""

    def __init__(self, key: bytes):
        self._key = bytes(key)

    def _digest(self, kind: str, value: str) -> bytes:
        message = kind.encode("utf-8") + b"\x00" + str(value).encode("utf-8")
        return hmac.new(self._key, message, hashlib.sha256).digest()

    def pseudonym(self, kind: str, value: str) -> str:
        """``PREFIXES[kind]`` + hex digits of the keyed digest of ``value``."""
        width = ID_HEX if kind in (C.CHILD_ID, C.ASSESSMENT_ID, C.GOAL_ID) else LABEL_HEX
        return PREFIXES[kind] + self._digest(kind, value).hex()[:width]

    def map(self, kind: str, values: pd.Series) -> pd.Series:
        """Pseudonyms of a column (blank stays blank), checked one-to-one."""
        distinct = pd.unique(values.dropna())
        lookup = {v: self.pseudonym(kind, v) for v in distinct}
        if len(set(lookup.values())) != len(lookup):
            raise UsageError(f"two different {kind} values got the same pseudonym (a 1 in "
                             "2^64 chance); create a new key with new_key() and export again")
        return values.map(lookup).astype("object")

    def shift_days(self, child_id: str) -> int:
        """The child's date offset in days: always negative, a whole number of weeks."""
        span = 2 * DATE_SHIFT_JITTER_WEEKS + 1
        jitter = int.from_bytes(self._digest("date-shift", child_id)[:8], "big") % span
        return -DATE_SHIFT_BASE_DAYS + 7 * (jitter - DATE_SHIFT_JITTER_WEEKS)


# ---------------------------------------------------------------------------
# the manifest
# ---------------------------------------------------------------------------
@dataclass(frozen=True)
class ColumnPolicy:
    """What the export did to one input column."""

    column: str
    action: str
    output: str | None
    detail: str


@dataclass(frozen=True)
class TableExport:
    """Row accounting and column policy of one exported table.

    ``rows_in = rows_rejected + rows_excluded + rows_out``: rejected rows
    failed validation; excluded rows were absent from the :class:`Dataset`
    passed in (a caller's subset) or had no exported parent row.
    """

    table: str
    file: str
    rows_in: int
    rows_rejected: int
    rows_excluded: int
    rows_out: int
    columns: list[ColumnPolicy]
    unknown_columns_removed: int = 0

    @property
    def reconciles(self) -> bool:
        return self.rows_in == self.rows_rejected + self.rows_excluded + self.rows_out


@dataclass(frozen=True)
class DroppedRow:
    """A row rejected by validation, named by the pseudonym of its key."""

    table: str
    key_column: str | None
    pseudonym: str | None
    columns: tuple[str, ...]
    actions: tuple[str, ...]


@dataclass
class ExportManifest:
    """What :func:`export_deidentified` wrote. Holds nothing identifying.

    ``to_dict()`` is what ``manifest.json`` holds; ``to_markdown()`` is
    ``MANIFEST.md``. ``out_dir`` is not written to either file (a path can
    carry a name).
    """

    out_dir: Path
    key_fingerprint: str
    no_dates: bool
    keep_sites: bool
    tables: dict[str, TableExport]
    dropped: list[DroppedRow]
    instruments: list[str]
    notes: list[str]
    files: list[str] = field(default_factory=list)

    @property
    def reconciles(self) -> bool:
        return all(t.reconciles for t in self.tables.values())

    def options(self) -> dict:
        dates = ({"mode": "days since intake", "columns": dict(C.DAY_COLUMNS)} if self.no_dates
                 else {"mode": "shifted", "base_days": -DATE_SHIFT_BASE_DAYS,
                       "jitter_weeks": [-DATE_SHIFT_JITTER_WEEKS, DATE_SHIFT_JITTER_WEEKS],
                       "per": "child (keyed); intervals and weekdays preserved"})
        return {"no_dates": self.no_dates, "keep_sites": self.keep_sites, "dates": dates}

    def to_dict(self) -> dict:
        return {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "made_by": f"sensoryprofile {__version__}",
            "key_fingerprint": self.key_fingerprint,
            "key_fingerprint_is": f"first {FINGERPRINT_HEX} hex digits of SHA-256 of the key",
            "options": self.options(),
            "tables": {
                name: {
                    "file": t.file, "rows_in": t.rows_in, "rows_rejected": t.rows_rejected,
                    "rows_excluded": t.rows_excluded, "rows_out": t.rows_out,
                    "reconciles": t.reconciles,
                    "unknown_columns_removed": t.unknown_columns_removed,
                    "columns": [{"column": c.column, "action": c.action, "output": c.output,
                                 "detail": c.detail} for c in t.columns],
                } for name, t in self.tables.items()},
            "dropped": {
                "count": len(self.dropped),
                "rows": [{"table": d.table, "key_column": d.key_column,
                          "pseudonym": d.pseudonym, "columns": list(d.columns),
                          "actions": list(d.actions)} for d in self.dropped]},
            "instruments": self.instruments,
            "notes": self.notes,
            "files": self.files,
        }

    def to_markdown(self) -> str:
        o = self.options()
        dates = ("replaced by whole days since the child's referral (day 0)" if self.no_dates
                 else f"shifted by a keyed per-child offset of {-DATE_SHIFT_BASE_DAYS} days "
                 f"± up to {DATE_SHIFT_JITTER_WEEKS} weeks (whole weeks)")
        lines = [
            "# De-identified export", "",
            f"Made by sensoryprofile {__version__} (`{FORMAT}` version {FORMAT_VERSION}).", "",
            f"- Key fingerprint: `{self.key_fingerprint}` (first {FINGERPRINT_HEX} hex digits "
            "of SHA-256 of the key; the key itself is not part of this export).",
            f"- Dates: {dates}.",
            "- Sites and therapists: " + ("kept as written." if o["keep_sites"]
                                          else "replaced by keyed pseudonyms."),
            f"- Instruments: {', '.join(self.instruments) or '(none)'}.", "",
            "## Rows", "",
            "| table | rows in | rejected (not exported) | excluded | rows out | reconciles |",
            "|---|---:|---:|---:|---:|---|",
        ]
        for name, t in self.tables.items():
            lines.append(f"| {name} | {t.rows_in} | {t.rows_rejected} | {t.rows_excluded} | "
                         f"{t.rows_out} | {'yes' if t.reconciles else 'NO'} |")
        lines += ["", "## Columns", ""]
        for t in self.tables.values():
            lines += [f"### {t.file}", "", "| column | action | written as | detail |",
                      "|---|---|---|---|"]
            for c in t.columns:
                lines.append(f"| `{c.column}` | {c.action} | "
                             f"{f'`{c.output}`' if c.output else '-'} | {c.detail} |")
            if t.unknown_columns_removed:
                lines.append(f"| ({t.unknown_columns_removed} other column(s)) | {REMOVED} | - "
                             "| not a column the toolkit knows; could hold anything |")
            lines.append("")
        lines += ["## Rows rejected by validation (not exported)", "",
                  f"{len(self.dropped)} row(s)."]
        if self.dropped:
            lines += ["", "| table | key | pseudonym | column(s) | action |", "|---|---|---|---|---|"]
            for d in self.dropped:
                lines.append(f"| {d.table} | {d.key_column or '-'} | {d.pseudonym or '(none)'} | "
                             f"{', '.join(d.columns) or '-'} | {', '.join(d.actions)} |")
        lines += ["", "## Notes", ""]
        lines += [f"- {note}" for note in self.notes]
        return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------
# column policies
# ---------------------------------------------------------------------------
def _date_policy(column: str, no_dates: bool) -> ColumnPolicy:
    if no_dates:
        return ColumnPolicy(column, DAYS, C.DAY_COLUMNS[column],
                            "whole days since the child's referral date (day 0)")
    return ColumnPolicy(column, SHIFTED, column, "keyed per-child offset; intervals kept")


def _label_policy(column: str, keep_sites: bool) -> ColumnPolicy:
    if keep_sites:
        return ColumnPolicy(column, KEPT, column, "kept as written (keep_sites)")
    return ColumnPolicy(column, PSEUDONYMISED, column, f"keyed pseudonym '{PREFIXES[column]}…'")


def _id_policy(column: str) -> ColumnPolicy:
    return ColumnPolicy(column, PSEUDONYMISED, column,
                        f"keyed pseudonym '{PREFIXES[column]}' + {ID_HEX} hex digits")


def column_policies(*, no_dates: bool = False, keep_sites: bool = False
                    ) -> dict[str, list[ColumnPolicy]]:
    """What the export does to every column the toolkit knows, per table
    (item columns are one entry)."""
    removed_text = "free text: may name or describe the child"
    return {
        "children": [
            _id_policy(C.CHILD_ID),
            ColumnPolicy(C.DATE_OF_BIRTH, REMOVED, None,
                         f"identifying; ages kept as {C.AGE_AT_REFERRAL_MONTHS} and assessments' "
                         f"{C.AGE_MONTHS}"),
            ColumnPolicy(C.AGE_AT_REFERRAL_MONTHS, ADDED, C.AGE_AT_REFERRAL_MONTHS,
                         "completed months at referral (1080 = 90 years or older)"),
            ColumnPolicy(C.SEX, KEPT, C.SEX, "F, M, X or blank"),
            ColumnPolicy(C.DIAGNOSES, KEPT, C.DIAGNOSES, "not identifying by itself here; see "
                         "notes"),
            _label_policy(C.SITE, keep_sites),
            _label_policy(C.THERAPIST, keep_sites),
            _date_policy(C.REFERRAL_DATE, no_dates),
            _date_policy(C.DISCHARGE_DATE, no_dates),
            ColumnPolicy(C.DISPLAY_NAME, REMOVED, None, "a name"),
        ],
        "assessments": [
            _id_policy(C.ASSESSMENT_ID),
            _id_policy(C.CHILD_ID),
            ColumnPolicy(C.INSTRUMENT, KEPT, C.INSTRUMENT, "instrument id"),
            _date_policy(C.DATE, no_dates),
            ColumnPolicy(C.AGE_MONTHS, ADDED, C.AGE_MONTHS,
                         "completed months at the assessment, from the date of birth; scoring "
                         "uses it in place of the date of birth (1080 = 90 years or older)"),
            ColumnPolicy(C.RESPONDENT, KEPT, C.RESPONDENT,
                         "blank filled with the instrument's own respondent"),
            ColumnPolicy("(item columns)", CANONICALISED, "(item columns)",
                         "the number of an on-scale answer; blank; or 'off-scale' for anything "
                         "else (scores the same); other instruments' items blanked"),
        ],
        "goals": [
            _id_policy(C.GOAL_ID),
            _id_policy(C.CHILD_ID),
            _date_policy(C.SET_DATE, no_dates),
            ColumnPolicy(C.DOMAIN, KEPT, C.DOMAIN, "area of the goal"),
            ColumnPolicy(C.DESCRIPTION, REMOVED, None, removed_text),
            ColumnPolicy(C.IMPORTANCE, KEPT, C.IMPORTANCE, "0-3"),
            ColumnPolicy(C.DIFFICULTY, KEPT, C.DIFFICULTY, "0-3"),
            ColumnPolicy(C.BASELINE_LEVEL, KEPT, C.BASELINE_LEVEL, "-1 or -2"),
            *[ColumnPolicy(col, REMOVED, None, removed_text) for col in C.LEVEL_TEXT_COLUMNS],
            _date_policy(C.TARGET_DATE, no_dates),
        ],
        "goal_ratings": [
            _id_policy(C.GOAL_ID),
            _date_policy(C.DATE, no_dates),
            ColumnPolicy(C.LEVEL, KEPT, C.LEVEL, "attainment level"),
            ColumnPolicy(C.RATER, PSEUDONYMISED, C.RATER,
                         f"roles ({', '.join(sorted(RATER_ROLES))}) kept; any other value "
                         f"(a person) becomes a keyed pseudonym '{PREFIXES[C.RATER]}…'"),
            ColumnPolicy(C.NOTE, REMOVED, None, removed_text),
            ColumnPolicy(C.FAMILY_NOTE, REMOVED, None, removed_text),
        ],
    }


# ---------------------------------------------------------------------------
# transforming the tables
# ---------------------------------------------------------------------------
@dataclass
class _Context:
    ps: Pseudonymiser
    no_dates: bool
    keep_sites: bool
    shift: dict      # child_id -> offset in days (date mode)
    referral: dict   # child_id -> referral datetime (no-dates mode)


def _ages(date_of_birth: pd.Series, on: pd.Series, given: pd.Series | None = None
          ) -> pd.Series:
    """Completed months from the dates; ``given`` (an extract's own ages) where
    there is no date of birth; capped at :data:`AGE_CAP_MONTHS`."""
    months = completed_months(date_of_birth.to_numpy(), on.to_numpy())
    if given is not None:
        given = pd.to_numeric(given, errors="coerce").to_numpy(dtype=float)
        months = np.where(np.isnan(months), given, months)
    months = np.where(months >= AGE_CAP_MONTHS, AGE_CAP_MONTHS, months)
    return pd.Series(months, index=on.index).astype("Int64")


def _dates(ctx: _Context, dates: pd.Series, child_ids: pd.Series) -> pd.Series:
    """Shifted ISO dates, or whole days since referral; blank where unknown."""
    dates = pd.Series(pd.to_datetime(dates.to_numpy()), index=dates.index)
    if ctx.no_dates:
        referral = pd.to_datetime(child_ids.map(ctx.referral).to_numpy())
        days = (dates.to_numpy() - referral) / np.timedelta64(1, "D")
        return pd.Series(days, index=dates.index).round().astype("Int64")
    offset = child_ids.map(ctx.shift).to_numpy(dtype=float)  # NaN: no child -> no date
    shifted = dates.to_numpy().astype("datetime64[D]")
    bad = np.isnan(offset) | np.isnat(shifted)
    moved = shifted.copy()
    moved[~bad] = shifted[~bad] + offset[~bad].astype("int64").astype("timedelta64[D]")
    if (moved[~bad] < EARLIEST_SHIFTED).any():
        raise UsageError(f"a date before {EARLIEST_SHIFTED + DATE_SHIFT_BASE_DAYS + 183} cannot "
                         "be shifted (the result would be before pandas' earliest date); is "
                         "this dataset already a date-shifted export? Use no_dates=True")
    text = np.where(bad, None, np.datetime_as_string(moved, unit="D"))
    return pd.Series(text, index=dates.index, dtype="object")


def _date_column(ctx: _Context, column: str) -> str:
    return C.DAY_COLUMNS[column] if ctx.no_dates else column


def _export_children(ctx: _Context, children: pd.DataFrame) -> pd.DataFrame:
    ids = children[C.CHILD_ID]
    out = pd.DataFrame(index=children.index)
    out[C.CHILD_ID] = ctx.ps.map(C.CHILD_ID, ids)
    out[C.AGE_AT_REFERRAL_MONTHS] = _ages(children[C.DATE_OF_BIRTH], children[C.REFERRAL_DATE],
                                        children.get(C.AGE_AT_REFERRAL_MONTHS))
    out[C.SEX] = children[C.SEX]
    out[C.DIAGNOSES] = children[C.DIAGNOSES]
    for col in (C.SITE, C.THERAPIST):
        out[col] = children[col] if ctx.keep_sites else ctx.ps.map(col, children[col])
    for col in (C.REFERRAL_DATE, C.DISCHARGE_DATE):
        out[_date_column(ctx, col)] = _dates(ctx, children[col], ids)
    return out.sort_values(C.CHILD_ID, kind="stable")


def _item_columns(assessments: pd.DataFrame, instruments: dict) -> list[str]:
    known = set()
    for inst in [*instruments.values(), *list_instruments()]:
        known.update(inst.item_ids)
    return [c for c in assessments.columns if c in known]


def _canonical_items(assessments: pd.DataFrame, items: list[str], instruments: dict
                     ) -> pd.DataFrame:
    """Item cells as canonical numbers, blank or 'off-scale' (see module notes)."""
    out = pd.DataFrame({col: np.full(len(assessments), None, dtype=object) for col in items},
                       index=assessments.index)
    names = assessments[C.INSTRUMENT]
    for name, inst in instruments.items():
        rows = (names == name).to_numpy()
        if not rows.any():
            continue
        present = [i for i in inst.item_ids if i in items]
        codes, _ = encode_item_columns(assessments.loc[rows, present], inst)
        allowed = inst.response_scale.allowed_values
        texts = np.empty(FIRST_VALUE + len(allowed), dtype=object)
        texts[BLANK], texts[OFF] = None, OFF_SCALE_CELL
        texts[FIRST_VALUE:] = [f"{float(v):g}" for v in allowed]
        position = {item: j for j, item in enumerate(inst.item_ids)}
        for item in present:
            out.loc[rows, item] = texts[codes[:, position[item]]]
    return out


def _export_assessments(ctx: _Context, assessments: pd.DataFrame, children: pd.DataFrame,
                        instruments: dict) -> pd.DataFrame:
    ids = assessments[C.CHILD_ID]
    dob = children.drop_duplicates(C.CHILD_ID).set_index(C.CHILD_ID)[C.DATE_OF_BIRTH]
    out = pd.DataFrame(index=assessments.index)
    out[C.ASSESSMENT_ID] = ctx.ps.map(C.ASSESSMENT_ID, assessments[C.ASSESSMENT_ID])
    out[C.CHILD_ID] = ctx.ps.map(C.CHILD_ID, ids)
    out[C.INSTRUMENT] = assessments[C.INSTRUMENT]
    date_col = _date_column(ctx, C.DATE)
    out[date_col] = _dates(ctx, assessments[C.DATE], ids)
    out[C.AGE_MONTHS] = _ages(pd.Series(ids.map(dob).to_numpy(), index=ids.index),
                              assessments[C.DATE], assessments.get(C.AGE_MONTHS))
    out[C.RESPONDENT] = assessments[C.RESPONDENT]
    items = _item_columns(assessments, instruments)
    out = pd.concat([out, _canonical_items(assessments, items, instruments)], axis=1)
    order = pd.DataFrame({"c": out[C.CHILD_ID], "d": assessments[C.DATE],
                          "a": out[C.ASSESSMENT_ID]}).sort_values(["c", "d", "a"]).index
    return out.loc[order]


def _export_goals(ctx: _Context, goals: pd.DataFrame) -> pd.DataFrame:
    ids = goals[C.CHILD_ID]
    out = pd.DataFrame(index=goals.index)
    out[C.GOAL_ID] = ctx.ps.map(C.GOAL_ID, goals[C.GOAL_ID])
    out[C.CHILD_ID] = ctx.ps.map(C.CHILD_ID, ids)
    out[_date_column(ctx, C.SET_DATE)] = _dates(ctx, goals[C.SET_DATE], ids)
    for col in (C.DOMAIN, C.IMPORTANCE, C.DIFFICULTY, C.BASELINE_LEVEL):
        out[col] = goals[col]
    out[_date_column(ctx, C.TARGET_DATE)] = _dates(ctx, goals[C.TARGET_DATE], ids)
    order = pd.DataFrame({"c": out[C.CHILD_ID], "d": goals[C.SET_DATE],
                          "g": out[C.GOAL_ID]}).sort_values(["c", "d", "g"]).index
    return out.loc[order]


def _raters(ctx: _Context, raters: pd.Series) -> pd.Series:
    role = raters.map(lambda v: isinstance(v, str) and v.strip().casefold() in RATER_ROLES)
    people = ctx.ps.map(C.RATER, raters.where(~role.astype(bool)))
    return raters.where(role.astype(bool), people).astype("object")


def _export_ratings(ctx: _Context, ratings: pd.DataFrame, goals: pd.DataFrame) -> pd.DataFrame:
    goal_child = goals.drop_duplicates(C.GOAL_ID).set_index(C.GOAL_ID)[C.CHILD_ID]
    ids = pd.Series(ratings[C.GOAL_ID].map(goal_child).to_numpy(), index=ratings.index)
    out = pd.DataFrame(index=ratings.index)
    out[C.GOAL_ID] = ctx.ps.map(C.GOAL_ID, ratings[C.GOAL_ID])
    out[_date_column(ctx, C.DATE)] = _dates(ctx, ratings[C.DATE], ids)
    out[C.LEVEL] = ratings[C.LEVEL]
    out[C.RATER] = _raters(ctx, ratings[C.RATER])
    order = pd.DataFrame({"g": out[C.GOAL_ID], "d": ratings[C.DATE]}).sort_values(
        ["g", "d"]).index
    return out.loc[order]


def _unknown_columns(table: str, frame: pd.DataFrame, items: list[str]) -> int:
    known = {p.column for p in column_policies()[table]} | {C.SOURCE_ROW, *items}
    if table == "assessments":
        known.add(C.AGE_MONTHS)
    return sum(1 for c in frame.columns if c not in known)


# ---------------------------------------------------------------------------
# rejected rows
# ---------------------------------------------------------------------------
_KEY_KINDS = {"children": C.CHILD_ID, "assessments": C.ASSESSMENT_ID, "goals": C.GOAL_ID,
              "goal_ratings": C.GOAL_ID}


def _dropped_rows(data: Dataset, ps: Pseudonymiser) -> list[DroppedRow]:
    """Rows the loader rejected, by pseudonym; never the rule text (it can quote values)."""
    rows: dict[tuple, dict] = {}
    for p in data.report.problems:
        if p.action not in (ROW_REJECTED, DEPENDENT_REJECTED) or p.table not in _KEY_KINDS:
            continue
        entry = rows.setdefault((TABLES.index(p.table), p.row), {
            "table": p.table, "key": p.key, "columns": [], "actions": []})
        if p.column and p.column not in entry["columns"]:
            entry["columns"].append(p.column)
        if p.action not in entry["actions"]:
            entry["actions"].append(p.action)
    out = []
    for _, entry in sorted(rows.items(), key=lambda kv: (kv[0][0], kv[0][1] or 0)):
        kind, value = _KEY_KINDS[entry["table"]], None
        if entry["key"] and "=" in entry["key"]:
            column, value = entry["key"].split("=", 1)
            kind = column if column in PREFIXES else kind
        out.append(DroppedRow(table=entry["table"], key_column=kind if value else None,
                              pseudonym=ps.pseudonym(kind, value) if value else None,
                              columns=tuple(entry["columns"]), actions=tuple(entry["actions"])))
    # the same pseudonym order as the tables: nothing follows the clinic's row order
    return sorted(out, key=lambda d: (TABLES.index(d.table), d.pseudonym or ""))


# ---------------------------------------------------------------------------
# writing
# ---------------------------------------------------------------------------
def _check_out_dir(out: Path, key_file: Path) -> None:
    out_abs, key_abs = out.resolve(), key_file.resolve()
    if out_abs in key_abs.parents:
        raise UsageError(f"{key_file}: the key file is inside the export folder {out}; keep "
                         "the key apart from every export (whoever holds both can re-link)")
    if out.exists() and not out.is_dir():
        raise UsageError(f"{out}: exists and is not a folder; give an empty or new folder")
    if out.is_dir() and any(out.iterdir()):
        raise UsageError(f"{out}: the folder is not empty; an export is written only to a new "
                         "or empty folder (nothing is overwritten)")


def _publish(tmp: Path, out: Path) -> None:
    """Move the finished export into place: one rename when the platform allows."""
    created = not out.exists()
    out.mkdir(parents=True, exist_ok=True)
    mode = stat.S_IMODE(out.stat().st_mode)
    for item in tmp.iterdir():  # temporary files are 0o600: give them the folder's (umask) mode
        os.chmod(item, mode & 0o666)
    os.chmod(tmp, mode)
    try:
        os.replace(tmp, out)  # POSIX: atomically replaces an empty folder
        return
    except OSError:
        pass
    try:  # e.g. Windows: move file by file (each rename is atomic)
        if any(out.iterdir()):
            raise UsageError(f"{out}: the folder stopped being empty while exporting; nothing "
                             "was written")
        for item in tmp.iterdir():
            os.replace(item, out / item.name)
        tmp.rmdir()
    except BaseException:
        if created and out.is_dir() and not any(out.iterdir()):
            out.rmdir()
        raise


def _settings_yaml(data: Dataset) -> str:
    return ("# settings of the de-identified export (see MANIFEST.md)\n"
            "name: deidentified\n"
            f"gas_six_level: {'true' if data.gas_six_level else 'false'}\n"
            f"reassessment_interval_months: {int(data.reassessment_interval_months)}\n")


def export_deidentified(data: Dataset | str | Path, out_dir: str | Path, *,
                        key_file: str | Path, no_dates: bool = False,
                        keep_sites: bool = False, today: dt.date | None = None
                        ) -> ExportManifest:
    """Write a de-identified copy of a clinic dataset (HIPAA Safe Harbor).

    Parameters
    ----------
    data : a loaded :class:`Dataset`, or the path of one (loaded with
        :func:`load_dataset`; its rejected rows are not exported).
    out_dir : a new or empty folder; refused if it holds anything.
    key_file : the secret key (:func:`new_key`). The same key gives the same
        pseudonyms and date offsets in every export. Keep it apart from exports.
    no_dates : replace every date by whole days since the child's referral
        (:data:`C.DAY_COLUMNS`) instead of shifting dates.
    keep_sites : keep site and therapist names instead of pseudonymising them.
    today : when ``data`` is a path, passed to :func:`load_dataset` (the date
        after which nothing may be dated). Not written anywhere.

    Returns
    -------
    ExportManifest
        Also written as ``manifest.json`` and ``MANIFEST.md``.

    Notes
    -----
    The folder receives children.csv, assessments.csv, goals.csv,
    goal_ratings.csv, dataset.yaml (the GAS scale and reassessment interval),
    manifest.json and MANIFEST.md, written to a temporary sibling folder and
    renamed into place, so a reader never sees a partial export. Definitions
    of a clinic's own instruments are not copied (they are licensed): put them
    in the export's ``instruments/`` folder to score those rows.

    Raises
    ------
    UsageError
        Bad key file, non-empty output folder, or the key inside it.
    DatasetError
        ``data`` is a path that cannot be loaded.
    """
    key_file, out = Path(key_file), Path(out_dir)
    key = read_key(key_file)
    _check_out_dir(out, key_file)
    if not isinstance(data, Dataset):
        data = load_dataset(data, today=today)
    ps = Pseudonymiser(key)

    children = data.children
    kept_children = set(children[C.CHILD_ID])
    assessments = data.assessments[data.assessments[C.CHILD_ID].isin(kept_children)]
    goals = data.goals[data.goals[C.CHILD_ID].isin(kept_children)]
    ratings = data.goal_ratings[data.goal_ratings[C.GOAL_ID].isin(set(goals[C.GOAL_ID]))]
    by_child = children.drop_duplicates(C.CHILD_ID)
    ctx = _Context(ps=ps, no_dates=no_dates, keep_sites=keep_sites,
                   shift={c: ps.shift_days(c) for c in by_child[C.CHILD_ID]},
                   referral=by_child.set_index(C.CHILD_ID)[C.REFERRAL_DATE].to_dict())
    frames = {
        "children": _export_children(ctx, children),
        "assessments": _export_assessments(ctx, assessments, children, data.instruments),
        "goals": _export_goals(ctx, goals),
        "goal_ratings": _export_ratings(ctx, ratings, goals),
    }

    policies = column_policies(no_dates=no_dates, keep_sites=keep_sites)
    items = _item_columns(data.assessments, data.instruments)
    loaded = {"children": data.children, "assessments": data.assessments,
              "goals": data.goals, "goal_ratings": data.goal_ratings}
    tables = {}
    for table in TABLES:
        count = data.report.counts.get(table)
        rows_in = count.read if count else len(loaded[table])
        rejected = count.rejected if count else 0
        tables[table] = TableExport(
            table=table, file=f"{table}.csv", rows_in=rows_in, rows_rejected=rejected,
            rows_excluded=rows_in - rejected - len(frames[table]), rows_out=len(frames[table]),
            columns=policies[table],
            unknown_columns_removed=_unknown_columns(table, loaded[table], items))
    notes = [
        "Safe Harbor: names, dates of birth, free text and identifying numbers (the clinic's "
        "IDs) are removed; ages are whole months; ages of 90 years or more would be written as "
        f"{AGE_CAP_MONTHS} months ('90 or older'), moot for children.",
        ("No calendar dates: every date is whole days since the child's referral (day 0)."
         if no_dates else
         f"Dates are shifted about 200 years back ({-DATE_SHIFT_BASE_DAYS} days, plus or minus "
         f"up to {DATE_SHIFT_JITTER_WEEKS} keyed weeks per child): intervals and weekdays are "
         "kept, no shifted date can coincide with a real one, and the real year is within one "
         "of the shifted year plus 200 (Safe Harbor allows the year)."),
        _DIAGNOSES_NOTE,
        "Pseudonyms are keyed (HMAC-SHA256): the same key gives the same pseudonyms in every "
        "export; without the key they cannot be reversed. Keep the key apart from exports.",
        "Rows are ordered by pseudonym, not in the clinic's order.",
        "Ages come from the dates of birth: assessments carry age_months, which scoring uses "
        "when no date of birth is given.",
        "Rejected rows are listed by pseudonym and column only; `sensoryprofile validate` on "
        "the original data gives the rules they broke.",
    ]
    shipped = {i.id for i in list_instruments()}
    clinic_own = sorted(set(data.instruments) - shipped)
    if clinic_own:
        notes.append("Instrument definitions of the clinic's own instruments are not copied "
                     "(licensed); to score those rows put the definition files in the "
                     "export's instruments/ folder.")
    if any(t.unknown_columns_removed for t in tables.values()):
        notes.append("Columns the toolkit does not know were removed without being named "
                     "(their names could themselves identify); see the counts per table.")

    manifest = ExportManifest(
        out_dir=out, key_fingerprint=key_fingerprint(key), no_dates=no_dates,
        keep_sites=keep_sites, tables=tables, dropped=_dropped_rows(data, ps),
        instruments=sorted(data.instruments), notes=notes,
        files=[*(f"{t}.csv" for t in TABLES), SETTINGS_FILE, MANIFEST_JSON, MANIFEST_MD])

    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".part", dir=out.parent))
    try:
        for table in TABLES:
            write_csv_atomic(frames[table], tmp / f"{table}.csv")
        write_text_atomic(_settings_yaml(data), tmp / SETTINGS_FILE)
        write_text_atomic(json.dumps(manifest.to_dict(), indent=2) + "\n", tmp / MANIFEST_JSON)
        write_text_atomic(manifest.to_markdown(), tmp / MANIFEST_MD)
        _publish(tmp, out)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    log.info("de-identified export written: %s rows out of %s read (key %s)",
             sum(t.rows_out for t in tables.values()), sum(t.rows_in for t in tables.values()),
             manifest.key_fingerprint)
    return manifest
