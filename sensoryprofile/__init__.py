"""sensoryprofile: open toolkit for pediatric occupational-therapy outcomes.

Scores sensory-processing questionnaires into Dunn's four quadrants, tracks goal
attainment scaling over time, and renders per-child and caseload reports.

Names are imported on first use, so ``import sensoryprofile`` (and the
command line) stays quick.
"""

from __future__ import annotations

import importlib

__version__ = "0.1.0"

_LAZY = {
    "DatasetError": "sensoryprofile.errors",
    "InstrumentError": "sensoryprofile.errors",
    "SensoryProfileError": "sensoryprofile.errors",
    "UsageError": "sensoryprofile.errors",
    "Instrument": "sensoryprofile.instruments",
    "list_instruments": "sensoryprofile.instruments",
    "load_instrument": "sensoryprofile.instruments",
    "score_assessments": "sensoryprofile.data.assessments",
    "score_responses": "sensoryprofile.measures.scoring",
    "load_dataset": "sensoryprofile.data.dataset",
    "Dataset": "sensoryprofile.data.dataset",
    "goal_attainment": "sensoryprofile.measures.goals",
    "gas_tscore": "sensoryprofile.measures.gas",
    "score_changes": "sensoryprofile.measures.change",
}

__all__ = ["__version__", *sorted(_LAZY)]


def __getattr__(name: str):
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'sensoryprofile' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_LAZY))
