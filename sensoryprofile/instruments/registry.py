"""Finding instruments by id: the shipped demonstration forms, and a clinic's
definition files in the folders it names.

:func:`load_instrument` is the one look-up every command uses. Definitions
are checked by :mod:`sensoryprofile.instruments.loader` when loaded.
"""

from __future__ import annotations

import warnings
from functools import cache
from importlib import resources
from pathlib import Path

from sensoryprofile.errors import InstrumentError
from sensoryprofile.ids import is_valid_id
from sensoryprofile.instruments.loader import (
    InstrumentWarning,
    check_text,
    load_instrument_file,
)
from sensoryprofile.instruments.model import Instrument

PACKAGE = "sensoryprofile.instruments"


# ---------------------------------------------------------------------------
def _shipped_files() -> dict[str, resources.abc.Traversable]:
    files = {}
    for entry in resources.files(PACKAGE).iterdir():
        if entry.name.endswith((".yaml", ".yml")):
            files[entry.name.rsplit(".", 1)[0]] = entry
    return files


def shipped_instrument_ids() -> list[str]:
    return sorted(_shipped_files())


@cache
def _load_shipped(instrument_id: str) -> Instrument:
    entry = _shipped_files()[instrument_id]
    result = check_text(entry.read_text(encoding="utf-8"), entry.name)
    if not result.ok:  # a packaging bug, not a user error, but say it plainly
        raise InstrumentError(f"shipped instrument {entry.name} is invalid", result.errors)
    return result.instrument


def list_instruments() -> list[Instrument]:
    """The instruments shipped with the package (demonstration forms)."""
    return [_load_shipped(i) for i in shipped_instrument_ids()]


def looks_like_path(value: str | Path) -> bool:
    text = str(value)
    return isinstance(value, Path) or text.endswith((".yaml", ".yml")) or "/" in text or (
        "\\" in text)


def load_instrument(id_or_path: str | Path | Instrument, *,
                    search_dirs: tuple[str | Path, ...] = (), by_id: bool = False
                    ) -> Instrument:
    """An instrument by shipped id, by id among definition files in
    ``search_dirs`` (a dataset's ``instruments/`` folder), or by file path.

    With ``by_id`` (a name read from a data cell) the value is only ever an
    id: it is never opened as a path, and only the registered folders are
    searched.
    """
    if isinstance(id_or_path, Instrument):
        return id_or_path
    if by_id:
        if not is_valid_id(id_or_path):
            raise InstrumentError(f"unknown instrument {str(id_or_path)[:64]!r}: an instrument "
                                  "is named by its id (letters, digits, '_' or '-')")
    elif looks_like_path(id_or_path) or Path(str(id_or_path)).is_file():
        return load_instrument_file(id_or_path)
    wanted = str(id_or_path)
    folders = [Path(f) for f in search_dirs if Path(f).is_dir()]
    # 1. a clinic's file named after the id (its errors are the user's to see)
    for folder in folders:
        for path in sorted(folder.glob("*.y*ml")):
            if path.stem == wanted:
                return load_instrument_file(path)
    # 2. a shipped instrument
    if wanted in _shipped_files():
        return _load_shipped(wanted)
    # 3. a clinic's file that declares the id under another file name; files
    #    that do not load are skipped here (they are reported when named)
    for folder in folders:
        for path in sorted(folder.glob("*.y*ml")):
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", InstrumentWarning)
                    instrument = load_instrument_file(path)
            except InstrumentError:
                continue
            if instrument.id == wanted:
                return instrument
    known = ", ".join(shipped_instrument_ids())
    raise InstrumentError(f"unknown instrument {wanted!r}: the shipped instruments are {known}; "
                          "for a clinic's own form give the path to its definition file")
