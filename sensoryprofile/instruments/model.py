"""The in-memory form of an instrument definition, and its compiled arrays.

An :class:`Instrument` is immutable. Its :attr:`Instrument.compiled` form holds
the item-by-score key matrix and the norm tables as numpy arrays, so that
scoring is array arithmetic with no Python loop over assessments.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from sensoryprofile.errors import UsageError
from sensoryprofile.instruments.schema import LEVEL_KEYS

DEFAULT_LABELS = {
    "much_less": "Much Less Than Others",
    "less": "Less Than Others",
    "typical": "Just Like the Majority of Others",
    "more": "More Than Others",
    "much_more": "Much More Than Others",
}
DEFAULT_Z_CUTS = (1.0, 2.0)
#: Canonical URL of a form's Questionnaire when its definition names none.
DEFAULT_QUESTIONNAIRE_PREFIX = "urn:sensoryprofile:questionnaire:"
#: Ordinal level of each classification: -2 (much less) ... +2 (much more).
LEVELS = dict(zip(LEVEL_KEYS, (-2, -1, 0, 1, 2), strict=True))


@dataclass(frozen=True)
class ResponseScale:
    values: dict[str, float]          # label -> number
    na_codes: tuple[float, ...] = ()  # numbers meaning "does not apply"
    na_counts_as: float | None = None  # None: excluded like a blank, counted apart

    @property
    def answer_values(self) -> tuple[float, ...]:
        """The numbers that are real answers (not "does not apply")."""
        return tuple(sorted(v for v in set(self.values.values()) if v not in self.na_codes))

    @property
    def allowed_values(self) -> tuple[float, ...]:
        return tuple(sorted(set(self.values.values())))


@dataclass(frozen=True)
class Section:
    id: str
    name: str
    kind: str


@dataclass(frozen=True)
class Item:
    id: str
    text: str | None = None
    section: str | None = None
    quadrant: str | None = None
    # FHIR (optional): the item's linkId in the form's Questionnaire
    link_id: str | None = None

    @property
    def fhir_link_id(self) -> str:
        """The linkId of this item in a QuestionnaireResponse (default: its id)."""
        return self.link_id if self.link_id is not None else self.id


@dataclass(frozen=True)
class Score:
    id: str
    name: str
    kind: str
    items: tuple[str, ...]
    direction: str = "higher_more"
    max_missing: int = 0
    prorate: bool = True
    # how the file selected the items, kept so a dump reproduces the file
    selector: tuple[str, str] | None = None  # ("quadrant", "seeking") or ("section", "oral")


@dataclass(frozen=True)
class MeanSD:
    mean: float
    sd: float


@dataclass(frozen=True)
class CutTable:
    ranges: dict[str, tuple[int, int]]  # level key -> (low, high), inclusive


@dataclass(frozen=True)
class NormBand:
    low: int
    high: int
    scores: dict[str, MeanSD | CutTable]
    note: str | None = None

    @property
    def label(self) -> str:
        return f"{self.low}-{self.high} months"


@dataclass(frozen=True)
class Reliability:
    r: float
    kind: str
    sd: float

    @property
    def sem(self) -> float:
        """Standard error of measurement, SD·√(1−r) (Jacobson & Truax 1991)."""
        return self.sd * (1.0 - self.r) ** 0.5

    @property
    def s_diff(self) -> float:
        """Standard error of a difference between two scores, √2·SEM."""
        return 2.0**0.5 * self.sem


@dataclass(frozen=True)
class Instrument:
    id: str
    name: str
    version: str
    respondent: str
    age_min: int
    age_max: int
    licence: str
    clinical_use: bool
    response_scale: ResponseScale
    sections: tuple[Section, ...]
    items: tuple[Item, ...]
    scores: tuple[Score, ...]
    norms: tuple[NormBand, ...]
    labels: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_LABELS))
    z_cuts: tuple[float, float] = DEFAULT_Z_CUTS
    reliability: dict[str, Reliability] = field(default_factory=dict)
    direction: str = "higher_more"
    description: str | None = None
    source: str | None = None  # file it was loaded from (a shipped id for package data)
    # FHIR (optional): the canonical URL of the form's Questionnaire
    fhir_questionnaire: str | None = None

    def __hash__(self) -> int:
        return hash((self.id, self.version, self.source))

    def __eq__(self, other) -> bool:
        return isinstance(other, Instrument) and self.to_dict() == other.to_dict()

    # ---- look-ups -------------------------------------------------------
    @property
    def item_ids(self) -> tuple[str, ...]:
        return tuple(item.id for item in self.items)

    @property
    def score_ids(self) -> tuple[str, ...]:
        return tuple(score.id for score in self.scores)

    def score(self, score_id: str) -> Score:
        """The score with this id; :class:`UsageError` naming the known ids if none."""
        for score in self.scores:
            if score.id == score_id:
                return score
        raise UsageError(f"The value for `score_id` must be one of {list(self.score_ids)} "
                         f"({self.id}), but {score_id!r} was passed")

    def section(self, section_id: str) -> Section:
        """The section with this id; :class:`UsageError` naming the known ids if none."""
        for section in self.sections:
            if section.id == section_id:
                return section
        raise UsageError(f"The value for `section_id` must be one of "
                         f"{[s.id for s in self.sections]} ({self.id}), but {section_id!r} "
                         "was passed")

    @property
    def questionnaire_url(self) -> str:
        """The canonical URL of this form's FHIR Questionnaire: the ``fhir``
        key of the definition, else ``urn:sensoryprofile:questionnaire:<id>``."""
        return self.fhir_questionnaire or f"{DEFAULT_QUESTIONNAIRE_PREFIX}{self.id}"

    @property
    def quadrant_scores(self) -> tuple[Score, ...]:
        return tuple(s for s in self.scores if s.kind == "quadrant")

    @property
    def label_list(self) -> list[str]:
        """The five classification labels from least to most of the behaviour."""
        return [self.labels[k] for k in LEVEL_KEYS]

    def band_for_age(self, age_months: float) -> NormBand | None:
        for band in self.norms:
            if band.low <= age_months <= band.high:
                return band
        return None

    @cached_property
    def compiled(self) -> CompiledInstrument:
        return CompiledInstrument.build(self)

    # ---- serialisation ----------------------------------------------------
    def to_dict(self) -> dict:
        """The definition as plain data, in the file format (format 1)."""
        scale: dict = {"values": dict(self.response_scale.values)}
        if self.response_scale.na_codes:
            scale["not_applicable"] = {
                "codes": list(self.response_scale.na_codes),
                "counts_as": ("exclude" if self.response_scale.na_counts_as is None
                              else self.response_scale.na_counts_as),
            }
        out: dict = {
            "format": 1,
            "id": self.id,
            "name": self.name,
            "version": self.version,
            "respondent": self.respondent,
            "age_range_months": [self.age_min, self.age_max],
            "licence": self.licence,
            "clinical_use": self.clinical_use,
        }
        if self.description is not None:
            out["description"] = self.description
        out["direction"] = self.direction
        if self.fhir_questionnaire is not None:
            out["fhir"] = {"questionnaire": self.fhir_questionnaire}
        out["response_scale"] = scale
        out["sections"] = [{"id": s.id, "name": s.name, "kind": s.kind} for s in self.sections]
        items = []
        for item in self.items:
            entry: dict = {"id": item.id}
            for key in ("text", "section", "quadrant", "link_id"):
                if getattr(item, key) is not None:
                    entry[key] = getattr(item, key)
            items.append(entry)
        out["items"] = items
        scores = []
        for score in self.scores:
            entry = {"id": score.id, "name": score.name, "kind": score.kind}
            if score.selector is not None:
                entry[score.selector[0]] = score.selector[1]
            else:
                entry["items"] = list(score.items)
            entry["direction"] = score.direction
            entry["missing"] = {"max_missing": score.max_missing, "prorate": score.prorate}
            scores.append(entry)
        out["scores"] = scores
        out["classification"] = {"labels": dict(self.labels), "z_cuts": list(self.z_cuts)}
        norms = []
        for band in self.norms:
            entry = {"ages": [band.low, band.high], "scores": {}}
            for score_id, norm in band.scores.items():
                if isinstance(norm, MeanSD):
                    entry["scores"][score_id] = {"mean": norm.mean, "sd": norm.sd}
                else:
                    entry["scores"][score_id] = {
                        "cuts": {k: list(v) for k, v in norm.ranges.items()}}
            if band.note is not None:
                entry["note"] = band.note
            norms.append(entry)
        out["norms"] = norms
        if self.reliability:
            out["reliability"] = {k: {"r": v.r, "kind": v.kind, "sd": v.sd}
                                  for k, v in self.reliability.items()}
        return out


@dataclass(frozen=True)
class CompiledInstrument:
    """Arrays for vectorised scoring.

    key : (n_items, n_scores) float64, 1 where an item belongs to a score.
    reversed : (n_scores,) bool, True for ``higher_less`` scores.
    band_low, band_high : (n_bands,) inclusive age edges, sorted.
    mean, sd : (n_bands, n_scores), NaN where a band has no mean/SD norms.
    cut_low, cut_high : (n_bands, n_scores, 5) in ascending raw order,
        cut_level : the classification level (-2..2) of each range; NaN rows
        where a band has no cut table for the score.
    """

    item_ids: tuple[str, ...]
    score_ids: tuple[str, ...]
    key: np.ndarray
    n_items: np.ndarray
    max_missing: np.ndarray
    prorate: np.ndarray
    reversed: np.ndarray
    min_possible: np.ndarray
    max_possible: np.ndarray
    band_low: np.ndarray
    band_high: np.ndarray
    band_labels: tuple[str, ...]
    mean: np.ndarray
    sd: np.ndarray
    has_cuts: np.ndarray
    cut_low: np.ndarray
    cut_high: np.ndarray
    cut_level: np.ndarray
    rel_r: np.ndarray
    rel_sd: np.ndarray

    @classmethod
    def build(cls, inst: Instrument) -> CompiledInstrument:
        item_index = {item_id: i for i, item_id in enumerate(inst.item_ids)}
        n_scores = len(inst.scores)
        key = np.zeros((len(inst.items), n_scores))
        for j, score in enumerate(inst.scores):
            for item_id in score.items:
                key[item_index[item_id], j] = 1.0
        n_items = key.sum(axis=0)
        scale = inst.response_scale
        lo, hi = min(scale.answer_values), max(scale.answer_values)
        if scale.na_codes and scale.na_counts_as is not None:
            lo, hi = min(lo, scale.na_counts_as), max(hi, scale.na_counts_as)
        score_index = {s.id: j for j, s in enumerate(inst.scores)}
        n_bands = len(inst.norms)
        mean = np.full((n_bands, n_scores), np.nan)
        sd = np.full((n_bands, n_scores), np.nan)
        has_cuts = np.zeros((n_bands, n_scores), dtype=bool)
        cut_low = np.full((n_bands, n_scores, 5), np.nan)
        cut_high = np.full((n_bands, n_scores, 5), np.nan)
        cut_level = np.zeros((n_bands, n_scores, 5), dtype=np.int8)
        for b, band in enumerate(inst.norms):
            for score_id, norm in band.scores.items():
                j = score_index[score_id]
                if isinstance(norm, MeanSD):
                    mean[b, j], sd[b, j] = norm.mean, norm.sd
                else:
                    has_cuts[b, j] = True
                    ordered = sorted(norm.ranges.items(), key=lambda kv: kv[1][0])
                    for k, (level_key, (low, high)) in enumerate(ordered):
                        cut_low[b, j, k], cut_high[b, j, k] = low, high
                        cut_level[b, j, k] = LEVELS[level_key]
        rel_r = np.array([inst.reliability[s.id].r if s.id in inst.reliability else np.nan
                          for s in inst.scores])
        rel_sd = np.array([inst.reliability[s.id].sd if s.id in inst.reliability else np.nan
                           for s in inst.scores])
        return cls(
            item_ids=inst.item_ids,
            score_ids=inst.score_ids,
            key=key,
            n_items=n_items,
            max_missing=np.array([s.max_missing for s in inst.scores], dtype=float),
            prorate=np.array([s.prorate for s in inst.scores], dtype=bool),
            reversed=np.array([s.direction == "higher_less" for s in inst.scores], dtype=bool),
            # a plain (unprorated) sum may lack up to max_missing items
            min_possible=np.where(
                np.array([s.prorate for s in inst.scores], dtype=bool) | (lo <= 0),
                n_items * lo,
                (n_items - np.array([s.max_missing for s in inst.scores], dtype=float)) * lo),
            max_possible=n_items * hi,
            band_low=np.array([b.low for b in inst.norms], dtype=float),
            band_high=np.array([b.high for b in inst.norms], dtype=float),
            band_labels=tuple(b.label for b in inst.norms),
            mean=mean,
            sd=sd,
            has_cuts=has_cuts,
            cut_low=cut_low,
            cut_high=cut_high,
            cut_level=cut_level,
            rel_r=rel_r,
            rel_sd=rel_sd,
        )

