"""Finding instruments by id: the shipped demonstration forms, and a clinic's
definition files in the folders it names.

A clinic registers its licensed forms once, in any of these places, searched
in this order (the first definition of an id wins):

1. the dataset's own ``instruments/`` folder (the forms its data were
   collected with; passed as ``search_dirs``);
2. the folders of ``--instruments DIR`` on the command line, and then those
   listed in the ``SENSORYPROFILE_INSTRUMENTS`` environment variable
   (``os.pathsep``-separated: ``:`` on Linux and macOS). ``--instruments``
   puts its folders at the front of that variable, so report kernels and
   batch workers started by the command see them too;
3. the demonstration forms shipped with the package.

:func:`load_instrument` is the one look-up every command uses;
:func:`registered_instruments` lists every form found and where it came
from. Definitions are checked by :mod:`sensoryprofile.instruments.loader`
(once per content) when loaded.
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass, field
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
#: Folders of a clinic's definition files, ``os.pathsep``-separated.
INSTRUMENTS_ENV = "SENSORYPROFILE_INSTRUMENTS"
SHIPPED = "shipped"


# ---------------------------------------------------------------------------
# where a clinic's forms are
# ---------------------------------------------------------------------------
def clinic_folders(search_dirs: tuple[str | Path, ...] = ()) -> tuple[Path, ...]:
    """The folders searched for a clinic's definition files, in order:
    ``search_dirs`` (a dataset's ``instruments/``), then the folders of
    :data:`INSTRUMENTS_ENV`. Folders that do not exist are left out; each
    folder comes once."""
    listed = [Path(f) for f in search_dirs]
    listed += [Path(p) for p in os.environ.get(INSTRUMENTS_ENV, "").split(os.pathsep)
               if p.strip()]
    out: list[Path] = []
    seen: set[Path] = set()
    for folder in listed:
        resolved = folder.resolve()
        if resolved in seen or not folder.is_dir():
            continue
        seen.add(resolved)
        out.append(folder)
    return tuple(out)


def add_clinic_folders(folders) -> None:
    """Put ``folders`` (``--instruments DIR``) at the front of
    :data:`INSTRUMENTS_ENV` for this process and every process it starts.
    A folder that does not exist is a :class:`UsageError`."""
    from sensoryprofile.errors import UsageError

    paths = [Path(f) for f in folders]
    for path in paths:
        if not path.is_dir():
            raise UsageError(f"--instruments {path}: no such folder (it should hold the "
                             "clinic's instrument definition files, *.yaml)")
    current = [p for p in os.environ.get(INSTRUMENTS_ENV, "").split(os.pathsep) if p.strip()]
    os.environ[INSTRUMENTS_ENV] = os.pathsep.join([str(p.resolve()) for p in paths] + current)


def _definition_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.glob("*.y*ml") if p.suffix in (".yaml", ".yml"))


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
    folders = clinic_folders(search_dirs)
    # 1. a clinic's file named after the id (its errors are the user's to see)
    for folder in folders:
        for path in _definition_files(folder):
            if path.stem == wanted:
                return load_instrument_file(path)
    # 2. a shipped instrument
    if wanted in _shipped_files():
        return _load_shipped(wanted)
    # 3. a clinic's file that declares the id under another file name; files
    #    that do not load are skipped here (they are reported when named)
    for folder in folders:
        for path in _definition_files(folder):
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", InstrumentWarning)
                    instrument = load_instrument_file(path)
            except InstrumentError:
                continue
            if instrument.id == wanted:
                return instrument
    known = ", ".join(shipped_instrument_ids())
    where = ", ".join(str(f) for f in folders) or "none"
    raise InstrumentError(f"unknown instrument {wanted!r}: the shipped instruments are {known}, "
                          f"and no definition file declares it in the clinic's folders ({where});"
                          " register the form's definition file in the dataset's instruments/ "
                          f"folder, with --instruments DIR or in {INSTRUMENTS_ENV}")


def definition_file(instrument: Instrument) -> Path | None:
    """The clinic definition file an instrument was loaded from (None for a
    shipped form, or one built from data)."""
    if not instrument.source:
        return None
    path = Path(instrument.source)
    package = Path(str(resources.files(PACKAGE)))
    if not path.is_file() or path.resolve().parent == package.resolve():
        return None
    return path


# ---------------------------------------------------------------------------
# every form found, and where it came from
# ---------------------------------------------------------------------------
@dataclass
class Registered:
    """One definition found by :func:`registered_instruments`.

    ``source`` is the file (or :data:`SHIPPED`); ``instrument`` is None when
    the file does not load, ``problems`` then says why (as ``instruments
    check`` lists them); ``shadowed_by`` names the source of an earlier
    definition of the same id, which is the one used.
    """

    source: str
    instrument: Instrument | None = None
    problems: list[str] = field(default_factory=list)
    shadowed_by: str | None = None

    @property
    def id(self) -> str | None:
        return self.instrument.id if self.instrument is not None else None


def registered_instruments(search_dirs: tuple[str | Path, ...] = ()) -> list[Registered]:
    """Every definition in the clinic's folders (:func:`clinic_folders`), in
    search order, then the shipped forms; the first definition of an id is
    the one every command uses."""
    found: list[Registered] = []
    first: dict[str, str] = {}
    for folder in clinic_folders(search_dirs):
        for path in _definition_files(folder):
            entry = Registered(source=str(path))
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", InstrumentWarning)
                    entry.instrument = load_instrument_file(path)
            except InstrumentError as exc:
                entry.problems = exc.problems or [str(exc)]
            found.append(entry)
    for inst in list_instruments():
        found.append(Registered(source=SHIPPED, instrument=inst))
    for entry in found:
        if entry.id is None:
            continue
        if entry.id in first:
            entry.shadowed_by = first[entry.id]
        else:
            first[entry.id] = entry.source
    return found


def known_instruments(search_dirs: tuple[str | Path, ...] = ()) -> list[Instrument]:
    """Every form a command can use: the clinic's (in search order, first
    definition of an id) and the shipped ones; files that do not load are
    left out (``instruments list`` and ``validate`` report them)."""
    return [e.instrument for e in registered_instruments(search_dirs)
            if e.instrument is not None and e.shadowed_by is None]
