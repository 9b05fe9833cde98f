"""sensoryprofile: open toolkit for pediatric occupational-therapy outcomes.

Scores sensory-processing questionnaires into Dunn's four quadrants, tracks
goal attainment scaling over time, and renders per-child and caseload reports.
"""

from sensoryprofile.errors import (
    DatasetError,
    InstrumentError,
    SensoryProfileError,
    UsageError,
)
from sensoryprofile.instruments import Instrument, list_instruments, load_instrument
from sensoryprofile.scoring import score_assessments, score_responses

__version__ = "0.1.0"

__all__ = [
    "DatasetError",
    "Instrument",
    "InstrumentError",
    "SensoryProfileError",
    "UsageError",
    "__version__",
    "list_instruments",
    "load_instrument",
    "score_assessments",
    "score_responses",
]
