"""Reading and writing tables at the edge: CSV (UTF-8, with or without BOM)
and Excel workbooks. Writes are atomic and spreadsheet-safe.

Reading is strict, so that nothing is lost or shifted on the way in:

* Only regular files are read: a folder, a device or a pipe where a table
  should be is reported, never opened.
* Rows are counted from the file itself, not from a parser's output: every
  line that starts a row is a row read, and is either a row of the table or
  a rejected row named by its line number (header = line 1).
* A row with more or fewer fields than the header is rejected (empty fields
  beyond the header, and empty names at the end of the header, from trailing
  commas, are ignored and noted). A quoted line break is kept only in a
  free-text column, and noted; anywhere else, or when a line it would join
  holds a whole row on its own, the lines it runs together (an unbalanced
  quote) are each rejected.
* A rejected row's values are never shown: a row that does not line up with
  its header may hold a name or a date of birth in any field.

Cells are read as text (CSV) or as Excel gives them, and each row keeps its
number as a person sees it in the file (``source_row``), so every later
problem can name it.

Writing neutralises spreadsheet formulas (OWASP: a text cell that begins with
``=``, ``+``, ``-``, ``@``, a tab or a carriage return gets a leading ``'``);
numbers stay numbers.
"""

from __future__ import annotations

import csv
import io
import os
import re
import stat
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from sensoryprofile.columns import SOURCE_ROW
from sensoryprofile.errors import DatasetError, UsageError

EXCEL_SUFFIXES = (".xlsx", ".xlsm")
#: Characters that make a spreadsheet program read a text cell as a formula.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


# ---------------------------------------------------------------------------
# what a read found
# ---------------------------------------------------------------------------
@dataclass(frozen=True)
class RowProblem:
    """A row of a file that did not become a table row as it was (``rejected``),
    or that did with a note."""

    line: int
    rule: str
    rejected: bool


@dataclass
class TableRead:
    """A table as read from a file.

    ``frame`` holds the rows that line up with the header (with
    ``source_row``); ``rows_read`` counts every row of the file, so
    ``rows_read == len(frame) + len(rejected rows)`` always holds.
    """

    frame: pd.DataFrame
    source: str
    rows_read: int
    problems: list[RowProblem] = field(default_factory=list)

    @property
    def n_rejected(self) -> int:
        return sum(1 for p in self.problems if p.rejected)


def require_regular_file(path: str | Path, label: str | None = None) -> Path:
    """``path`` if it is a regular file; :class:`DatasetError` naming what it
    is instead (missing, a folder, a device, a pipe...). Never opens it."""
    path = Path(path)
    label = label or str(path)
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        raise DatasetError(f"{label}: no such file") from None
    except OSError as exc:
        raise DatasetError(f"{label}: cannot be read ({exc.strerror})") from None
    if stat.S_ISREG(mode):
        if not os.access(path, os.R_OK):
            raise DatasetError(f"{label}: cannot be read (permission denied)")
        return path
    kind = ("a folder" if stat.S_ISDIR(mode) else "a named pipe" if stat.S_ISFIFO(mode)
            else "a device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode)
            else "a socket" if stat.S_ISSOCK(mode) else "not a regular file")
    raise DatasetError(f"{label}: is {kind}, not a file; tables are read only from regular "
                       "files")


# ---------------------------------------------------------------------------
# reading
# ---------------------------------------------------------------------------
def _tidy_frame(frame: pd.DataFrame, source: str, rows) -> pd.DataFrame:
    frame = frame.copy()
    frame.columns = [str(c).strip() for c in frame.columns]
    unnamed = [c for c in frame.columns if c.startswith("Unnamed:") or c == ""]
    empty_unnamed = [c for c in unnamed if frame[c].isna().all()]
    frame = frame.drop(columns=empty_unnamed)
    dupes = frame.columns[frame.columns.duplicated()].tolist()
    if dupes:
        raise DatasetError(f"{source}: column(s) {', '.join(map(repr, dupes))} appear more than "
                           "once in the header row")
    frame.insert(0, SOURCE_ROW, np.asarray(rows, dtype=np.int64))
    # strip surrounding spaces from text cells; a cell of only spaces is blank
    for col in frame.columns:
        if frame[col].dtype == object or pd.api.types.is_string_dtype(frame[col]):
            stripped = frame[col].map(lambda v: v.strip() if isinstance(v, str) else v)
            frame[col] = stripped.mask(stripped.map(lambda v: isinstance(v, str) and v == ""))
    # rows with no value at all (Excel's empty trailing rows) are not data
    data_cols = [c for c in frame.columns if c != SOURCE_ROW]
    if data_cols:
        frame = frame[frame[data_cols].notna().any(axis=1)]
    return frame.reset_index(drop=True)


def _csv_text(path: Path, label: str) -> str:
    require_regular_file(path, label)
    try:
        with open(path, encoding="utf-8-sig", newline="") as handle:
            text = handle.read()
    except UnicodeDecodeError as exc:
        raise DatasetError(f"{label}: is not UTF-8 text (byte {exc.start + 1} cannot be read); "
                           "save it as 'CSV UTF-8'") from None
    except OSError as exc:
        raise DatasetError(f"{label}: cannot be read ({exc.strerror})") from None
    if "\x00" in text:
        raise DatasetError(f"{label}: holds NUL bytes, so it is not a CSV text file")
    return text


def _without_trailing_blanks(names: list[str]) -> list[str]:
    end = len(names)
    while end > 1 and not names[end - 1]:
        end -= 1
    return names[:end]


def _header(names: list[str], label: str) -> list[str]:
    if not names or all(not n.strip() for n in names):
        raise DatasetError(f"{label}: the header row is empty (the first line must name the "
                           "columns)")
    if len(names) == 1:
        for sep, word in ((";", "semicolons"), ("\t", "tabs"), ("|", "bars")):
            if sep in names[0]:
                raise DatasetError(f"{label}: the header row is separated by {word}, not "
                                   "commas; save the file as comma-separated values (CSV)")
    return [n.strip() for n in names]


def _rows_inside(lines: list[str], start: int, end: int, m: int) -> bool:
    """Whether a line after the first of lines ``start``..``end`` holds a whole
    row on its own (``m`` fields or more): then the quote that ran them
    together was unbalanced, and a quoted line break did not make them one
    cell. (A line of a real multi-line note rarely holds as many commas as the
    header; if one does, the record is rejected and named, never lost.)"""
    for line in lines[start:end]:
        try:
            fields = next(csv.reader([line]), [])
        except csv.Error:
            continue
        if len(fields) >= m:
            return True
    return False


def read_csv_rows(path: str | Path, *, free_text=(), label: str | None = None) -> TableRead:
    """Read a CSV file strictly (see the module docstring).

    Parameters
    ----------
    path : the file.
    free_text : columns in which a quoted line break is kept (with a note).
    label : how problems name the file (default its name).

    Returns
    -------
    TableRead
    """
    path = Path(path)
    label = label or path.name
    text = _csv_text(path, label)
    reader = csv.reader(io.StringIO(text))
    physical: list[str] = []

    def lines_of() -> list[str]:
        """The file's lines as the reader counts them (made only when needed)."""
        if not physical:
            physical.extend(text.split("\n"))
        return physical

    try:
        header = next(reader, None)
        if header is None:
            raise DatasetError(f"{label}: the file is empty (it needs at least a header row)")
        if reader.line_num > 1:
            raise DatasetError(f"{label}: a column name in the header holds a line break")
        names = _header(header, label)
        # empty names at the end of the header (trailing commas) name no column
        blank_names = len(names) - len(_without_trailing_blanks(names))
        names = names[: len(names) - blank_names]
        m = len(names)
        free = set(free_text)
        records, lines, problems = [], [], []
        if blank_names:
            problems.append(RowProblem(1, f"the header row ends with {blank_names} empty column "
                                       "name(s) (trailing commas?); they were ignored", False))
        rows_read, trailing, first_trailing = 0, 0, None
        previous_end = reader.line_num
        for record in reader:
            start, end = previous_end + 1, reader.line_num
            previous_end = end
            if not any(field.strip() for field in record):
                continue  # a blank line is not a row
            n = len(record)
            if start == end:
                rows_read += 1
                if n == m:
                    records.append(record)
                    lines.append(start)
                elif n > m and not any(f.strip() for f in record[m:]):
                    records.append(record[:m])
                    lines.append(start)
                    trailing += 1
                    first_trailing = first_trailing or start
                else:
                    problems.append(RowProblem(start, f"the row has {n} field(s) but the header "
                                               f"has {m}; its values would land in the wrong "
                                               "columns, so the row was not read", True))
                continue
            broken = [names[k] if k < m else f"field {k + 1}" for k, f in enumerate(record)
                      if "\n" in f or "\r" in f]
            if (n == m and broken and all(col in free for col in broken)
                    and not _rows_inside(lines_of(), start, end, m)):
                rows_read += 1
                records.append(record)
                lines.append(start)
                problems.append(RowProblem(start, f"a line break inside the quoted "
                                           f"{', '.join(broken)} cell (lines {start}-{end}) "
                                           "was kept", False))
                continue
            for line in range(start, end + 1):
                if not lines_of()[line - 1].strip():
                    continue  # a blank line is not a row, inside a run or not
                rows_read += 1
                problems.append(RowProblem(line, f"lines {start}-{end} run together: a quote "
                                           f"opened on line {start} is not closed on its line "
                                           "(an unbalanced quote?); the line was not read as "
                                           "a row", True))
    except csv.Error as exc:
        raise DatasetError(f"{label}: cannot be read as CSV near line {reader.line_num} "
                           f"({exc})") from None
    if trailing:
        problems.append(RowProblem(first_trailing, f"{trailing} row(s) end with empty fields "
                                   "beyond the header (trailing commas?); the empty fields were "
                                   "ignored", False))
    frame = pd.DataFrame(records, columns=names, dtype=object) if records else pd.DataFrame(
        {name: pd.Series(dtype=object) for name in dict.fromkeys(names)})
    if len(set(names)) != len(names):
        dupes = sorted({n for n in names if names.count(n) > 1})
        raise DatasetError(f"{label}: column(s) {', '.join(map(repr, dupes))} appear more than "
                           "once in the header row")
    tidy = _tidy_frame(frame, label, lines)
    # rows of only spaces were dropped by _tidy_frame and never counted
    rows_read -= len(frame) - len(tidy)
    return TableRead(frame=tidy, source=label, rows_read=rows_read,
                     problems=sorted(problems, key=lambda p: p.line))


def read_csv_table(path: str | Path) -> pd.DataFrame:
    """The rows of a CSV file that line up with its header (strict reading;
    see :func:`read_csv_rows` for what was left out, and why)."""
    return read_csv_rows(path).frame


def read_excel_rows(path: str | Path, sheet: str | int = 0) -> TableRead:
    """One sheet of a workbook (cells as Excel gives them)."""
    path = Path(path)
    label = f"{path.name}[{sheet}]"
    require_regular_file(path, path.name)
    try:
        # keep_default_na=False: a cell that says "NA", "N/A", "None" or "null" is text,
        # as in a CSV file, not a blank
        frame = pd.read_excel(path, sheet_name=sheet, dtype=object, engine="openpyxl",
                              keep_default_na=False, na_values=[])
    except ValueError as exc:
        if "not found" in str(exc).lower() or "worksheet" in str(exc).lower():
            raise DatasetError(f"{path.name}: no sheet named {sheet!r}") from None
        raise DatasetError(f"{path.name}: cannot be read as an Excel workbook ({exc})") from None
    except Exception as exc:  # openpyxl raises many kinds for a damaged file
        raise DatasetError(f"{path.name}: cannot be read as an Excel workbook "
                           f"({type(exc).__name__})") from None
    problems = _cells_read_as_blank(path, sheet, frame)
    tidy = _tidy_frame(frame, label, range(2, 2 + len(frame)))
    return TableRead(frame=tidy, source=label, rows_read=len(tidy), problems=problems)


#: A formula (``<f>``, ``<f t="shared" ...>``) or an error value (``t="e"``) in a
#: worksheet's XML.
_BLANK_READERS = re.compile(rb'<f[ >]|<c [^>]*t="e"')


def _cells_read_as_blank(path: Path, sheet: str | int, frame: pd.DataFrame
                         ) -> list[RowProblem]:
    """Cells of ``sheet`` that read as blank although they are not: a formula
    with no saved value (a workbook written by a program that does not compute
    formulas, such as a script or an export, keeps only the formula) or whose
    saved value is an error, and an error value (#N/A, #DIV/0!). Each is noted
    by row and column; a workbook with neither is not read a second time.
    """
    try:
        with zipfile.ZipFile(path) as book:
            suspect = any(_BLANK_READERS.search(book.read(name))
                          for name in book.namelist()
                          if name.startswith("xl/worksheets/") and name.endswith(".xml"))
    except (zipfile.BadZipFile, OSError, KeyError):
        return []
    if not suspect:
        return []
    from openpyxl import load_workbook

    problems = []
    book = load_workbook(path, read_only=True, data_only=False)
    try:
        cells = book[sheet] if isinstance(sheet, str) else book.worksheets[sheet]
        for row in cells.iter_rows(min_row=2, max_row=len(frame) + 1,
                                   max_col=frame.shape[1]):
            for cell in row:
                kind = getattr(cell, "data_type", None)
                if kind not in ("f", "e"):
                    continue
                i, j = cell.row - 2, cell.column - 1
                value = frame.iat[i, j]
                if not (pd.isna(value) or (isinstance(value, str) and not value.strip())):
                    continue
                what = ("a formula with no saved value, or an error as its value (the "
                        "workbook was not saved by a spreadsheet program, or the formula "
                        "fails)" if kind == "f" else
                        f"the error value {str(cell.value)[:12]}")
                problems.append(RowProblem(cell.row, f"the {frame.columns[j]} cell holds "
                                           f"{what}, so it was read as blank", False))
    finally:
        book.close()
    return problems


def read_excel_sheet(path: str | Path, sheet: str | int = 0) -> pd.DataFrame:
    return read_excel_rows(path, sheet).frame


def read_rows(path: str | Path, sheet: str | int = 0, *, free_text=()) -> TableRead:
    """A CSV file, or one sheet of a workbook, read strictly."""
    path = Path(path)
    if path.suffix.lower() in EXCEL_SUFFIXES:
        return read_excel_rows(path, sheet)
    return read_csv_rows(path, free_text=free_text)


def read_table(path: str | Path, sheet: str | int = 0) -> pd.DataFrame:
    """A CSV file, or one sheet of a workbook, with a ``source_row`` column."""
    return read_rows(path, sheet).frame


# ---------------------------------------------------------------------------
# writing
# ---------------------------------------------------------------------------
def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def neutralise_cell(value):
    """A text cell made safe for a spreadsheet: ``'`` before a leading
    ``=``, ``+``, ``-``, ``@``, tab or carriage return (OWASP CSV injection),
    unless the text is a plain number ("-1", "+2.5"). Other values unchanged.

    >>> neutralise_cell("=HYPERLINK(1)"), neutralise_cell("-1"), neutralise_cell("-1-1")
    ("'=HYPERLINK(1)", '-1', "'-1-1")
    """
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS) and not (
            value[:1] in "+-" and _is_number(value)):
        return "'" + value
    return value


def spreadsheet_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` whose text cells (and column names) are neutralised
    (:func:`neutralise_cell`); numeric, boolean and date columns are untouched."""
    out = frame.copy()
    out.columns = [neutralise_cell(c) if isinstance(c, str) else c for c in out.columns]
    for col in out.columns:
        values = out[col]
        if values.dtype == object or pd.api.types.is_string_dtype(values) or isinstance(
                values.dtype, pd.CategoricalDtype):
            text = values.astype(object)
            risky = text.map(lambda v: isinstance(v, str) and v.startswith(FORMULA_TRIGGERS))
            if risky.any():
                out[col] = text.map(neutralise_cell)
    return out


def atomic_write(path: str | Path, write) -> Path:
    """Call ``write(tmp_path)`` then rename onto ``path``: a reader never sees
    a half-written file, and a failure leaves no file at all. A ``path`` that is
    a folder, or in a folder that cannot be made or written, is a
    :class:`UsageError` (the argument that named it is wrong)."""
    path = Path(path)
    if path.is_dir():
        raise UsageError(f"{path}: is a folder; give the name of a file to write")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    except OSError as exc:  # the place named cannot take a file: the caller's argument
        raise UsageError(f"{path}: cannot be written ({exc.strerror}); give a file in a "
                         "folder you can write to") from None
    os.close(fd)
    try:
        write(Path(tmp))
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes files private; outputs are ordinary
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def write_csv_atomic(frame: pd.DataFrame, path: str | Path, **to_csv) -> Path:
    """Write ``frame`` as spreadsheet-safe CSV (no index, LF line endings), atomically."""
    safe = spreadsheet_safe(frame)
    options = {"index": False, "lineterminator": "\n", **to_csv}
    return atomic_write(path, lambda tmp: safe.to_csv(tmp, **options))


def write_text_atomic(text: str, path: str | Path) -> Path:
    return atomic_write(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))
