"""Instrument definitions: the schema of a definition file, the loader that
checks it, the in-memory model and its compiled arrays, and the registry
that finds a form by id (the shipped demonstration forms, a clinic's files).
See docs/instrument-format.md."""

from sensoryprofile.instruments.loader import (
    CheckResult,
    InstrumentWarning,
    check_definition,
    check_instrument,
    check_text,
    instrument_from_dict,
    load_instrument_file,
)
from sensoryprofile.instruments.model import (
    DEFAULT_LABELS,
    LEVELS,
    CutTable,
    Instrument,
    Item,
    MeanSD,
    NormBand,
    Reliability,
    ResponseScale,
    Score,
    Section,
)
from sensoryprofile.instruments.registry import (
    INSTRUMENTS_ENV,
    SHIPPED,
    Registered,
    add_clinic_folders,
    clinic_folders,
    definition_file,
    known_instruments,
    list_instruments,
    load_instrument,
    registered_instruments,
    shipped_instrument_ids,
)
from sensoryprofile.instruments.schema import INSTRUMENT_SCHEMA, LEVEL_KEYS, QUADRANTS

__all__ = [
    "INSTRUMENTS_ENV",
    "SHIPPED",
    "Registered",
    "add_clinic_folders",
    "clinic_folders",
    "definition_file",
    "known_instruments",
    "registered_instruments",
    "DEFAULT_LABELS",
    "INSTRUMENT_SCHEMA",
    "LEVELS",
    "LEVEL_KEYS",
    "QUADRANTS",
    "CheckResult",
    "CutTable",
    "Instrument",
    "InstrumentWarning",
    "Item",
    "MeanSD",
    "NormBand",
    "Reliability",
    "ResponseScale",
    "Score",
    "Section",
    "check_definition",
    "check_instrument",
    "check_text",
    "instrument_from_dict",
    "list_instruments",
    "load_instrument",
    "load_instrument_file",
    "shipped_instrument_ids",
]
