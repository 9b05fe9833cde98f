"""A dataset's settings (``dataset.yaml``, or a workbook's ``settings`` sheet),
checked against a schema, and the controlled vocabularies of diagnoses and
goal domains.

Every setting has a type and a rule; a value that breaks it is an error
naming the file, the key, the value and the rule (never silently truncated
or read as something else). The vocabularies are what a de-identified export
may carry: a diagnosis or goal domain outside them is reported when the data
are loaded and exported as ``other``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

from sensoryprofile.data.tables import require_regular_file
from sensoryprofile.errors import DatasetError, InstrumentError

SETTINGS_FILE = "dataset.yaml"
#: What a value outside a vocabulary becomes in an export.
OTHER = "other"

#: Diagnoses a dataset may name without declaring them (matched ignoring case).
#: A clinic adds its own with the ``diagnoses`` setting.
DEFAULT_DIAGNOSES = (
    "autism", "ADHD", "developmental coordination disorder",
    "sensory processing difficulties", "anxiety", "cerebral palsy", "Down syndrome",
    "fetal alcohol spectrum disorder", "global developmental delay",
    "intellectual disability", "language disorder", "learning disability",
    "premature birth", "none", OTHER,
)
#: Goal domains a dataset may name without declaring them (``goal_domains`` adds).
DEFAULT_GOAL_DOMAINS = (
    "self-care", "feeding", "sleep", "toileting", "dressing", "fine motor", "gross motor",
    "handwriting", "sensory regulation", "emotional regulation", "attention",
    "play/social", "communication", "school participation", "community participation",
    "daily routines", OTHER,
)

#: The longest reassessment interval a dataset may set (five years).
MAX_INTERVAL_MONTHS = 60


@dataclass(frozen=True)
class Settings:
    """A dataset's checked settings."""

    name: str
    gas_six_level: bool = False
    reassessment_interval_months: int = 6
    diagnoses: tuple[str, ...] = DEFAULT_DIAGNOSES
    goal_domains: tuple[str, ...] = DEFAULT_GOAL_DOMAINS

    def canonical(self, vocabulary: str, value: str) -> str | None:
        """The vocabulary's spelling of ``value`` (ignoring case and spaces),
        or None when it is not in the vocabulary."""
        terms = self.diagnoses if vocabulary == "diagnoses" else self.goal_domains
        wanted = " ".join(str(value).split()).casefold()
        for term in terms:
            if term.casefold() == wanted:
                return term
        return None


def _text(file, key, value) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > 200:
        raise DatasetError(f"{file}: setting {key!r}: value {_shown(value)} is not allowed: "
                           "it must be text of 1 to 200 characters")
    return value.strip()


def _flag(file, key, value) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false", "yes", "no"):
        return value.strip().lower() in ("true", "yes")
    raise DatasetError(f"{file}: setting {key!r}: value {_shown(value)} is not allowed: it "
                       "must be true or false")


def _months(file, key, value) -> int:
    number = value
    if isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            number = None
    ok = (not isinstance(number, bool) and isinstance(number, (int, float))
          and math.isfinite(number) and float(number).is_integer()
          and 1 <= number <= MAX_INTERVAL_MONTHS)
    if not ok:
        raise DatasetError(f"{file}: setting {key!r}: value {_shown(value)} is not allowed: it "
                           f"must be a whole number of months from 1 to {MAX_INTERVAL_MONTHS}")
    return int(number)


def _terms(defaults):
    def check(file, key, value) -> tuple[str, ...]:
        items = value.split(";") if isinstance(value, str) else value
        if not isinstance(items, list | tuple) or not all(
                isinstance(t, str) and t.strip() and len(t) <= 100 for t in items):
            raise DatasetError(f"{file}: setting {key!r}: value {_shown(value)} is not "
                               "allowed: it must be a list of terms (text, at most 100 "
                               "characters each)")
        known = {t.casefold() for t in defaults}
        extra = [" ".join(t.split()) for t in items if " ".join(t.split()).casefold() not in known]
        return (*defaults, *dict.fromkeys(extra))
    return check


#: The schema: each setting, how it is checked, and what it means.
SCHEMA = {
    "name": (_text, "the dataset's name in reports (default: the folder's name)"),
    "gas_six_level": (_flag, "true allows GAS level -3, worse than baseline"),
    "reassessment_interval_months": (_months, "how often children are reassessed (months)"),
    "diagnoses": (_terms(DEFAULT_DIAGNOSES), "diagnoses used besides the default vocabulary"),
    "goal_domains": (_terms(DEFAULT_GOAL_DOMAINS),
                     "goal domains used besides the default vocabulary"),
}


def _shown(value) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def check_settings(raw: dict, file: str, default_name: str) -> Settings:
    """Check settings read from a file against :data:`SCHEMA`."""
    if not isinstance(raw, dict):
        raise DatasetError(f"{file}: must hold a mapping of settings (key: value), got "
                           f"{type(raw).__name__}")
    values: dict = {"name": default_name}
    for key, value in raw.items():
        if key not in SCHEMA:
            raise DatasetError(f"{file}: unknown setting {key!r}; known: "
                               f"{', '.join(sorted(SCHEMA))}")
        if value is None:
            raise DatasetError(f"{file}: setting {key!r} has no value")
        values[key] = SCHEMA[key][0](file, key, value)
    return Settings(**values)


def read_settings(path: Path, workbook_sheet=None) -> Settings:
    """The settings of a dataset folder (``dataset.yaml``) or of a workbook
    (its ``settings`` sheet, columns ``key`` and ``value``); defaults when
    there are none."""
    import pandas as pd

    if workbook_sheet is not None:
        file = f"{path.name}[settings]"
        if not {"key", "value"} <= set(workbook_sheet.columns):
            raise DatasetError(f"{file}: the settings sheet needs the columns key and value")
        raw = {}
        for row, (k, v) in enumerate(zip(workbook_sheet["key"], workbook_sheet["value"],
                                         strict=True), start=2):
            if pd.isna(k):
                continue
            key = str(k).strip()
            if key in raw:  # one of two values would be dropped without a word
                raise DatasetError(f"{file}: row {row}: setting {key!r} is given twice")
            raw[key] = None if pd.isna(v) else v
        return check_settings(raw, file, path.stem)
    settings_path = path / SETTINGS_FILE
    if not path.is_dir() or not settings_path.exists():
        return Settings(name=path.stem)
    from sensoryprofile.instruments.loader import read_yaml

    require_regular_file(settings_path, SETTINGS_FILE)
    try:
        text = settings_path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise DatasetError(f"{SETTINGS_FILE}: not valid YAML (it is not UTF-8 text)") from None
    except OSError as exc:
        raise DatasetError(f"{SETTINGS_FILE}: cannot be read ({exc.strerror})") from None
    try:
        # the strict loader refuses a key given twice (PyYAML would keep the last)
        loaded = read_yaml(text, SETTINGS_FILE)
    except InstrumentError as exc:
        raise DatasetError(str(exc)) from None
    return check_settings(loaded or {}, SETTINGS_FILE, path.stem)
