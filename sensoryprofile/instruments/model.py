"""The in-memory form of an instrument definition, and its compiled arrays.

An :class:`Instrument` is immutable. Its :attr:`Instrument.compiled` form holds
the item-by-score key matrix and the norm tables as numpy arrays, so that
scoring is array arithmetic with no Python loop over assessments.
"""

from __future__ import annotations

import math
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
#: An open top of an age range ("65 and over"), in months.
OPEN_AGE = math.inf


# ---------------------------------------------------------------------------
# classification schemes
# ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Level:
    """One classification level. ``ordinal`` is its signed distance from the
    typical level in the scheme's order (typical = 0): the five-level scheme
    runs -2 (much less) .. +2 (much more); a one-sided scheme 0, 1, 2.
    ``z_low``/``z_high`` bound the behaviour-oriented z it covers (None = open)."""

    key: str
    label: str
    ordinal: int
    z_low: float | None = None
    z_high: float | None = None


@dataclass(frozen=True)
class Scheme:
    """A form's classification levels, listed from one end to the other.

    Every level has an ordinal (its distance from the typical level, signed
    by the side it is on); a change "toward typical" is a smaller absolute
    ordinal. A z score on the edge between two levels belongs to the one
    nearer typical (|z| = 1 is typical in the five-level scheme).
    """

    levels: tuple[Level, ...]
    typical: str

    @classmethod
    def five_level(cls, labels: dict | None = None, z_cuts=DEFAULT_Z_CUTS) -> Scheme:
        """The default scheme: five levels, symmetric z cuts."""
        labels = dict(labels or DEFAULT_LABELS)
        c1, c2 = (float(z) for z in z_cuts)
        edges = {"much_less": (None, -c2), "less": (-c2, -c1), "typical": (-c1, c1),
                 "more": (c1, c2), "much_more": (c2, None)}
        return cls(levels=tuple(Level(key=k, label=labels[k], ordinal=LEVELS[k],
                                      z_low=edges[k][0], z_high=edges[k][1])
                                for k in LEVEL_KEYS), typical="typical")

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(level.key for level in self.levels)

    def level(self, key: str) -> Level:
        return next(level for level in self.levels if level.key == key)

    @property
    def by_ordinal(self) -> tuple[Level, ...]:
        """The levels from the lowest ordinal to the highest."""
        return tuple(sorted(self.levels, key=lambda level: level.ordinal))

    @property
    def labels_by_ordinal(self) -> dict[int, str]:
        return {level.ordinal: level.label for level in self.levels}

    @property
    def min_ordinal(self) -> int:
        return min(level.ordinal for level in self.levels)

    @property
    def max_ordinal(self) -> int:
        return max(level.ordinal for level in self.levels)

    @property
    def one_sided(self) -> bool:
        """True when every level is on one side of typical (a difference scale)."""
        return self.min_ordinal == 0 or self.max_ordinal == 0

    @property
    def is_five_level(self) -> bool:
        return self.keys == LEVEL_KEYS and self.typical == "typical"

    @property
    def has_z(self) -> bool:
        """True when the levels are bounded on the z scale (mean/SD and
        percentile norms classify through it)."""
        return all(level.z_low is not None or level.z_high is not None
                   for level in self.levels)

    def classify_z(self, z: np.ndarray) -> np.ndarray:
        """The ordinal of each z (behaviour-oriented); ``NO_LEVEL`` (-128) for NaN.
        z is rounded to 9 decimals first, so that a raw score exactly on an
        edge (1 SD from the mean) is not moved across it by floating-point error."""
        z = np.round(np.asarray(z, dtype=float), 9)
        if not self.has_z:  # a scheme of cut tables only: nothing classifies by z
            return np.full(z.shape, np.int8(-128), dtype=np.int8)
        ordered = sorted(self.levels, key=lambda lv: -math.inf if lv.z_low is None
                         else lv.z_low)
        index = np.zeros(z.shape, dtype=np.int16)
        for below, above in zip(ordered, ordered[1:], strict=False):
            edge = above.z_low if above.z_low is not None else below.z_high
            # the edge belongs to the level nearer typical
            index += (z > edge) if abs(below.ordinal) <= abs(above.ordinal) else (z >= edge)
        ordinals = np.array([lv.ordinal for lv in ordered], dtype=np.int8)
        out = ordinals[np.clip(index, 0, len(ordered) - 1)]
        return np.where(np.isnan(z), np.int8(-128), out).astype(np.int8)

    def to_dict(self) -> dict:
        levels = []
        for level in self.levels:
            entry: dict = {"key": level.key, "label": level.label}
            if level.z_low is not None or level.z_high is not None:
                entry["z"] = [level.z_low, level.z_high]
            levels.append(entry)
        return {"levels": levels, "typical": self.typical}


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
    # reverse-keyed: counts as (lowest + highest answer value) - answer
    reverse: bool = False

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
    # shown by default; None: the instrument decides (Instrument.primary_scores)
    primary: bool | None = None


@dataclass(frozen=True)
class MeanSD:
    mean: float
    sd: float


@dataclass(frozen=True)
class CutTable:
    ranges: dict[str, tuple[int, int]]  # level key -> (low, high), inclusive


@dataclass(frozen=True)
class PercentileTable:
    """A manual's raw score -> percentile table: ``points`` are (raw,
    percentile) pairs with raw ascending; a raw score takes the percentile of
    the highest listed raw at or below it. The z is the normal-curve
    equivalent of the percentile, and classifies through the scheme's z."""

    points: tuple[tuple[float, float], ...]


def age_text(low: float, high: float, unit: str = "months") -> str:
    """An age range as a form gives it: "36-47 months", "11-17 years", "65+ years"."""
    if unit == "years":
        lo = int(low // 12)
        if math.isinf(high):
            return f"{lo}+ years"
        return f"{lo}-{int(high // 12)} years"
    if math.isinf(high):
        return f"{int(low)}+ months"
    return f"{int(low)}-{int(high)} months"


@dataclass(frozen=True)
class NormBand:
    low: float  # months, inclusive
    high: float  # months, inclusive; OPEN_AGE for an open top band
    scores: dict[str, MeanSD | CutTable | PercentileTable]
    note: str | None = None
    respondent: str | None = None  # norms of one respondent type (None: every one)
    sex: str | None = None  # norms of one sex (None: both)
    unit: str = "months"  # the unit the form gives ages in (labels only)

    @property
    def label(self) -> str:
        text = age_text(self.low, self.high, self.unit)
        extra = [x for x in (self.respondent, {"F": "girls/women", "M": "boys/men"}.get(
            self.sex, self.sex)) if x]
        return text + (f" ({', '.join(extra)})" if extra else "")


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
    #: every respondent type the form is given to (the first is the default)
    respondents: tuple[str, ...] = ()
    #: the unit the form gives ages in (ages are held in months)
    age_unit: str = "months"
    #: a classification scheme of the form's own; None: the five levels
    #: (``labels``, ``z_cuts``)
    custom_scheme: Scheme | None = None

    def __post_init__(self):
        if not self.respondents:
            object.__setattr__(self, "respondents", (self.respondent,))

    def __hash__(self) -> int:
        return hash((self.id, self.version, self.source))

    def __eq__(self, other) -> bool:
        return isinstance(other, Instrument) and self.to_dict() == other.to_dict()

    # ---- look-ups -------------------------------------------------------
    @property
    def normed_respondents(self) -> tuple[str, ...]:
        """The respondent types with norms of their own, when every norm band
        names one (an answer by anyone else cannot be classified); empty when
        some band serves every respondent."""
        named = tuple(dict.fromkeys(band.respondent for band in self.norms))
        return () if not named or None in named else named

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
    def has_quadrants(self) -> bool:
        return any(s.kind == "quadrant" for s in self.scores)

    @property
    def primary_scores(self) -> tuple[Score, ...]:
        """The scores shown by default (change, summaries): those the form
        marks ``primary``; else its quadrants; else its sections and totals
        (and, without those, every score)."""
        marked = tuple(s for s in self.scores if s.primary)
        if marked:
            return marked
        quadrants = self.quadrant_scores
        if quadrants:
            return quadrants
        found = tuple(s for s in self.scores if s.kind in ("section", "total"))
        return found or self.scores

    @cached_property
    def scheme(self) -> Scheme:
        """The classification scheme: the form's own, or the five levels."""
        return self.custom_scheme or Scheme.five_level(self.labels, self.z_cuts)

    @property
    def label_list(self) -> list[str]:
        """The classification labels in ordinal order (from least to most of
        the behaviour for the five levels; from typical outward for a
        one-sided scheme)."""
        return [level.label for level in self.scheme.by_ordinal]

    @property
    def age_text(self) -> str:
        """The form's age range in its own unit ("36-179 months", "11+ years")."""
        return age_text(self.age_min, self.age_max, self.age_unit)

    def band_for_age(self, age_months: float, respondent: str | None = None,
                     sex: str | None = None) -> NormBand | None:
        """The norm band of an age (in months), the most specific first: of
        this respondent and sex, of this respondent, of this sex, of everyone."""
        for want in ((respondent, sex), (respondent, None), (None, sex), (None, None)):
            for band in self.norms:
                if (band.respondent, band.sex) == want and band.low <= age_months <= band.high:
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
        }
        if self.respondents == (self.respondent,):
            out["respondent"] = self.respondent
        else:
            out["respondents"] = list(self.respondents)
        if self.age_unit == "months" and not math.isinf(self.age_max):
            out["age_range_months"] = [int(self.age_min), int(self.age_max)]
        else:
            out["age_unit"] = self.age_unit
            out["age_range"] = _ages_in_unit(self.age_min, self.age_max, self.age_unit)
        out["licence"] = self.licence
        out["clinical_use"] = self.clinical_use
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
            if item.reverse:
                entry["reverse"] = True
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
            if score.primary is not None:
                entry["primary"] = score.primary
            scores.append(entry)
        out["scores"] = scores
        out["classification"] = (self.custom_scheme.to_dict() if self.custom_scheme else
                                 {"labels": dict(self.labels), "z_cuts": list(self.z_cuts)})
        norms = []
        for band in self.norms:
            entry = {"ages": _ages_in_unit(band.low, band.high, self.age_unit), "scores": {}}
            for key in ("respondent", "sex"):
                if getattr(band, key) is not None:
                    entry[key] = getattr(band, key)
            for score_id, norm in band.scores.items():
                if isinstance(norm, MeanSD):
                    entry["scores"][score_id] = {"mean": norm.mean, "sd": norm.sd}
                elif isinstance(norm, PercentileTable):
                    entry["scores"][score_id] = {"percentiles": [list(p) for p in norm.points]}
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


def _ages_in_unit(low: float, high: float, unit: str) -> list:
    """[low, high] of an age range in months, as the form writes it."""
    if unit == "years":
        return [int(low // 12), None if math.isinf(high) else int(high // 12)]
    return [int(low), None if math.isinf(high) else int(high)]


@dataclass(frozen=True)
class CompiledInstrument:
    """Arrays for vectorised scoring.

    key : (n_items, n_scores) float64, 1 where an item belongs to a score.
    reversed : (n_scores,) bool, True for ``higher_less`` scores.
    band_low, band_high : (n_bands,) inclusive age edges, sorted.
    mean, sd : (n_bands, n_scores), NaN where a band has no mean/SD norms.
    cut_low, cut_high : (n_bands, n_scores, n_levels) in ascending raw order,
        cut_level : the classification ordinal of each range (-2..2 for the
        five levels); NaN rows where a band has no cut table for the score.
    item_reverse : (n_items,) bool, reverse-keyed items; ``answer_sum`` the
        lowest plus the highest answer value (a reversed answer v counts as
        answer_sum - v).
    band_respondent, band_sex : per band, the respondent type and sex its
        norms are for (None: every one).
    has_pct : (n_bands, n_scores) bool, a percentile table; ``pct_tables``
        holds it as ``{(band, score): (raws, percentiles)}``.
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
    item_reverse: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))
    answer_sum: float = 0.0
    band_respondent: tuple = ()
    band_sex: tuple = ()
    has_pct: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), dtype=bool))
    pct_tables: dict = field(default_factory=dict)

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
        ordinal = {level.key: level.ordinal for level in inst.scheme.levels}
        n_levels = len(inst.scheme.levels)
        mean = np.full((n_bands, n_scores), np.nan)
        sd = np.full((n_bands, n_scores), np.nan)
        has_cuts = np.zeros((n_bands, n_scores), dtype=bool)
        has_pct = np.zeros((n_bands, n_scores), dtype=bool)
        pct_tables: dict = {}
        cut_low = np.full((n_bands, n_scores, n_levels), np.nan)
        cut_high = np.full((n_bands, n_scores, n_levels), np.nan)
        cut_level = np.zeros((n_bands, n_scores, n_levels), dtype=np.int8)
        for b, band in enumerate(inst.norms):
            for score_id, norm in band.scores.items():
                j = score_index[score_id]
                if isinstance(norm, MeanSD):
                    mean[b, j], sd[b, j] = norm.mean, norm.sd
                elif isinstance(norm, PercentileTable):
                    has_pct[b, j] = True
                    pct_tables[(b, j)] = (np.array([p[0] for p in norm.points], dtype=float),
                                          np.array([p[1] for p in norm.points], dtype=float))
                else:
                    has_cuts[b, j] = True
                    ordered = sorted(norm.ranges.items(), key=lambda kv: kv[1][0])
                    for k, (level_key, (low, high)) in enumerate(ordered):
                        cut_low[b, j, k], cut_high[b, j, k] = low, high
                        cut_level[b, j, k] = ordinal[level_key]
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
            item_reverse=np.array([item.reverse for item in inst.items], dtype=bool),
            answer_sum=float(min(scale.answer_values) + max(scale.answer_values)),
            band_respondent=tuple(b.respondent for b in inst.norms),
            band_sex=tuple(b.sex for b in inst.norms),
            has_pct=has_pct,
            pct_tables=pct_tables,
        )

