"""Reading and writing tables at the edge: CSV (UTF-8, with or without BOM)
and Excel workbooks. Cells are read as text (CSV) or as Excel gives them, and
each row keeps its number as a person sees it in the file (header = row 1),
so every later problem can name it. Writes are atomic.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pandas as pd

from sensoryprofile.columns import SOURCE_ROW
from sensoryprofile.errors import DatasetError

EXCEL_SUFFIXES = (".xlsx", ".xlsm")


def _tidy_frame(frame: pd.DataFrame, source: str, first_data_row: int) -> pd.DataFrame:
    frame = frame.copy()
    frame.columns = [str(c).strip() for c in frame.columns]
    unnamed = [c for c in frame.columns if c.startswith("Unnamed:") or c == ""]
    empty_unnamed = [c for c in unnamed if frame[c].isna().all()]
    frame = frame.drop(columns=empty_unnamed)
    dupes = frame.columns[frame.columns.duplicated()].tolist()
    if dupes:
        raise DatasetError(f"{source}: column(s) {', '.join(map(repr, dupes))} appear more than "
                           "once in the header row")
    frame.insert(0, SOURCE_ROW, range(first_data_row, first_data_row + len(frame)))
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


def read_csv_table(path: str | Path) -> pd.DataFrame:
    path = Path(path)
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""],
                            encoding="utf-8-sig", skip_blank_lines=False)
    except FileNotFoundError:
        raise DatasetError(f"{path}: no such file") from None
    except pd.errors.EmptyDataError:
        raise DatasetError(f"{path.name}: the file is empty (it needs at least a header "
                           "row)") from None
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise DatasetError(f"{path.name}: cannot be read as UTF-8 CSV ({exc})") from None
    return _tidy_frame(frame, path.name, 2)


def read_excel_sheet(path: str | Path, sheet: str | int = 0) -> pd.DataFrame:
    path = Path(path)
    try:
        frame = pd.read_excel(path, sheet_name=sheet, dtype=object, engine="openpyxl")
    except FileNotFoundError:
        raise DatasetError(f"{path}: no such file") from None
    except ValueError as exc:
        if "not found" in str(exc).lower() or "worksheet" in str(exc).lower():
            raise DatasetError(f"{path.name}: no sheet named {sheet!r}") from None
        raise DatasetError(f"{path.name}: cannot be read as an Excel workbook ({exc})") from None
    except Exception as exc:  # openpyxl raises many kinds for a damaged file
        raise DatasetError(f"{path.name}: cannot be read as an Excel workbook "
                           f"({type(exc).__name__}: {exc})") from None
    return _tidy_frame(frame, f"{path.name}[{sheet}]", 2)


def read_table(path: str | Path, sheet: str | int = 0) -> pd.DataFrame:
    """A CSV file, or one sheet of a workbook, with a ``source_row`` column."""
    path = Path(path)
    if not path.exists():
        raise DatasetError(f"{path}: no such file")
    if path.suffix.lower() in EXCEL_SUFFIXES:
        return read_excel_sheet(path, sheet)
    return read_csv_table(path)


def atomic_write(path: str | Path, write) -> Path:
    """Call ``write(tmp_path)`` then rename onto ``path``: a reader never sees
    a half-written file, and a failure leaves no file at all."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
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


def write_csv_atomic(frame: pd.DataFrame, path: str | Path) -> Path:
    return atomic_write(path, lambda tmp: frame.to_csv(tmp, index=False, lineterminator="\n"))


def write_text_atomic(text: str, path: str | Path) -> Path:
    return atomic_write(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))
