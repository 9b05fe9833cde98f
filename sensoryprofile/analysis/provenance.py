"""Provenance of an analysis: what a rerun needs to reproduce it, and to
compare its output byte for byte (SHA-256 of every input file and instrument
definition, package versions, analysis settings). No timestamp and no
absolute path, so the record is identical across reruns and machines.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import platform
from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from sensoryprofile.analysis import stats as ST
from sensoryprofile.columns import CATEGORY, NAME, VALUE
from sensoryprofile.instruments import Instrument

#: Packages whose versions the provenance records.
PACKAGES = ("sensoryprofile", "numpy", "pandas", "scipy", "matplotlib", "papermill",
            "nbconvert")


def file_sha256(path: str | Path) -> str:
    """SHA-256 of a file's bytes, as hex."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def input_files(data_dir: str | Path) -> list[dict]:
    """Every file of a dataset, sorted by relative path (POSIX separators):
    ``[{"path", "bytes", "sha256"}, ...]``. A workbook is one file."""
    root = Path(data_dir)
    if root.is_file():
        paths, base = [root], root.parent
    else:
        paths, base = [p for p in root.rglob("*") if p.is_file()], root
    entries = [{"path": p.relative_to(base).as_posix(), "bytes": p.stat().st_size,
                "sha256": file_sha256(p)} for p in paths]
    return sorted(entries, key=lambda e: e["path"])


def definition_sha256(instrument: Instrument) -> str:
    """SHA-256 of an instrument definition's canonical JSON (``to_dict()``
    with sorted keys, no whitespace, UTF-8): the same for the same content,
    whatever the YAML file's comments or layout."""
    text = json.dumps(instrument.to_dict(), sort_keys=True, separators=(",", ":"),
                      ensure_ascii=False, allow_nan=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def package_versions() -> dict[str, str]:
    """Versions of Python and of :data:`PACKAGES` ("not installed" if absent)."""
    out = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def provenance(data_dir: str | Path, instruments: Mapping[str, Instrument], *,
               instrument: str, respondent: str, seed: int, n_boot: int,
               confidence: float = ST.CONFIDENCE, as_of=None) -> dict:
    """What a rerun needs to reproduce the analysis, as plain data.

    Returns
    -------
    dict
        ``inputs`` (dataset folder name and :func:`input_files`),
        ``instruments`` (id, version, name and :func:`definition_sha256` of
        each instrument in the data, by id), ``analysis`` (instrument,
        respondent, seed, n_boot, confidence, the GAS as-of date) and
        ``packages`` (:func:`package_versions`). No timestamp and no
        absolute path, so the JSON is identical across reruns and machines.
    """
    return {
        "inputs": {"dataset": Path(data_dir).resolve().name, "files": input_files(data_dir)},
        "instruments": [{"id": i.id, "version": i.version, "name": i.name,
                         "sha256": definition_sha256(i)}
                        for _, i in sorted(instruments.items())],
        "analysis": {"instrument": instrument, "respondent": respondent, "seed": int(seed),
                     "n_boot": int(n_boot), "confidence": float(confidence),
                     "gas_as_of": None if as_of is None else str(as_of)},
        "packages": package_versions(),
    }


def provenance_table(record: Mapping) -> pd.DataFrame:
    """:func:`provenance` as a table: ``category`` (input file, instrument,
    analysis, package), ``name`` and ``value``."""
    rows = [("input file", f["path"], f"sha256 {f['sha256']} ({f['bytes']} bytes)")
            for f in record["inputs"]["files"]]
    rows += [("instrument", f"{i['id']} {i['version']}", f"sha256 {i['sha256']}")
             for i in record["instruments"]]
    rows += [("analysis", k, "" if v is None else str(v))
             for k, v in record["analysis"].items()]
    rows += [("package", k, v) for k, v in record["packages"].items()]
    return pd.DataFrame(rows, columns=[CATEGORY, NAME, VALUE])


def provenance_json(record: Mapping) -> str:
    """The provenance as JSON text: sorted keys, 2-space indent, LF, final newline."""
    return json.dumps(record, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
