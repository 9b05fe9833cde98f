"""Read and validate instrument definition files.

Every problem is reported, not just the first, each as
``file: field.path: message``, e.g.::

    demo-child.yaml: items[12].quadrant: 'seekng' is not one of seeking, avoiding, sensitivity, registration

Structure is checked with JSON Schema (:mod:`.schema`); cross-references
(unknown items, sections and scores; age bands with gaps or overlaps; cut
tables that are not monotone) are checked here.

A definition is checked once: when a file's exact content has passed, a
small marker named by the SHA-256 of that content (and of the checker's own
code) is kept in the user's cache folder, and later loads of the same
content skip the check and build the instrument directly. ``jsonschema``
is imported only when a definition is really checked, so the commands and
report kernels that load known forms never pay for it. A changed file, or a
changed checker, has another hash and is checked again.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
import stat
import tempfile
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from sensoryprofile.errors import InstrumentError
from sensoryprofile.instruments.model import (
    DEFAULT_LABELS,
    DEFAULT_Z_CUTS,
    OPEN_AGE,
    CutTable,
    Instrument,
    Item,
    Level,
    MeanSD,
    NormBand,
    PercentileTable,
    Reliability,
    ResponseScale,
    Scheme,
    Score,
    Section,
)
from sensoryprofile.instruments.schema import INSTRUMENT_SCHEMA, LEVEL_KEYS, QUADRANTS


class InstrumentWarning(UserWarning):
    """A definition loads but has something worth a look (an unused item)."""


@dataclass
class CheckResult:
    """What :func:`check_instrument` found: errors stop loading, warnings do not."""

    source: str
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    instrument: Instrument | None = None

    @property
    def ok(self) -> bool:
        return not self.errors


# ---------------------------------------------------------------------------
# YAML with duplicate-key detection
# ---------------------------------------------------------------------------
class _DuplicateKey(Exception):
    def __init__(self, key, mark):
        self.key, self.mark = key, mark


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that refuses a mapping key given twice (PyYAML keeps the last)."""


def _construct_mapping(loader, node, deep=False):
    seen = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise _DuplicateKey(key, key_node.start_mark)
        seen.add(key)
    return yaml.SafeLoader.construct_mapping(loader, node, deep=deep)


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def read_yaml(text: str, source: str) -> object:
    try:
        return yaml.load(text, Loader=_StrictLoader)  # noqa: S506 - SafeLoader subclass
    except _DuplicateKey as exc:
        raise InstrumentError(
            f"{source}: line {exc.mark.line + 1}: key {exc.key!r} is given twice",
        ) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1} column {mark.column + 1}: " if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise InstrumentError(f"{source}: not valid YAML: {where}{problem}") from None


# ---------------------------------------------------------------------------
# messages
# ---------------------------------------------------------------------------
def format_path(parts) -> str:
    text = ""
    for part in parts:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text or "(top level)"


_TYPE_NAMES = {"string": "text", "integer": "a whole number", "number": "a number",
               "boolean": "true or false", "array": "a list", "object": "a mapping"}


def _schema_message(error) -> tuple[list, str]:
    """(field path parts, message) for one JSON Schema error."""
    path = list(error.absolute_path)
    v, inst, expected = error.validator, error.instance, error.validator_value
    if v == "enum":
        return path, f"{inst!r} is not one of {', '.join(map(str, expected))}"
    if v == "const":
        return path, f"must be {expected!r}, got {inst!r}"
    if v == "required":  # one error per missing field
        match = re.match(r"^'(.+)' is a required property", error.message)
        name = match.group(1) if match else error.message
        return path, f"missing required field {name!r}"
    if v == "additionalProperties" and expected is False:
        allowed = set(error.schema.get("properties", {}))
        extra = sorted(str(k) for k in inst if k not in allowed)
        known = ", ".join(sorted(allowed))
        return path, f"unknown field {', '.join(map(repr, extra))} (known fields: {known})"
    if v == "type":
        names = expected if isinstance(expected, list) else [expected]
        want = " or ".join(_TYPE_NAMES.get(n, n) for n in names)
        return path, f"expected {want}, got {inst!r}"
    if v == "pattern" and path and path[-1] == "link_id":
        return path, f"{inst!r} is not a valid linkId: no spaces at either end"
    if v == "pattern" and path and path[-1] == "questionnaire":
        return path, (f"{inst!r} is not a canonical URL: an absolute URI such as "
                      "https://example.org/fhir/Questionnaire/my-form, without '|version'")
    if v == "pattern":
        return path, f"{inst!r} is not a valid id: use 1 to 64 letters, digits, '_' or '-'"
    if v in ("minItems", "maxItems") and error.schema.get("minItems") == 2 == error.schema.get(
            "maxItems"):
        return path, f"expected [low, high], got {inst!r}"
    if v == "minItems":
        return path, f"needs at least {expected} entr{'y' if expected == 1 else 'ies'}"
    if v == "minProperties":
        return path, f"needs at least {expected} entries"
    if v == "minLength":
        return path, "must not be empty"
    if v == "minimum":
        return path, f"{inst!r} must be at least {expected}"
    if v == "exclusiveMinimum":
        return path, f"{inst!r} must be greater than {expected}"
    if v == "exclusiveMaximum":
        return path, f"{inst!r} must be less than {expected}"
    if v == "anyOf" and path and path[-1] == "counts_as":
        return path, f"must be a number or 'exclude', got {inst!r}"
    return path, error.message


# ---------------------------------------------------------------------------
# cross-reference checks on the raw data (defensive: the schema may have failed)
# ---------------------------------------------------------------------------
def _is_range(value) -> bool:
    return (isinstance(value, list) and len(value) == 2
            and all(isinstance(x, int) and not isinstance(x, bool) for x in value))


def _semantic_checks(data: dict, err, warn) -> None:  # noqa: C901 - a list of rules
    def dicts(key):
        value = data.get(key)
        return [(i, x) for i, x in enumerate(value) if isinstance(x, dict)] if isinstance(
            value, list) else []

    _check_who_and_ages(data, err)
    unit = data.get("age_unit", "months") if "age_range_months" not in data else "months"
    age = data.get("age_range_months") if "age_range_months" in data else data.get("age_range")
    if _is_open_range(age) and age[1] is not None and age[0] > age[1]:
        err(["age_range_months" if "age_range_months" in data else "age_range"],
            f"low end {age[0]} is above high end {age[1]}")

    # response scale
    scale = data.get("response_scale") if isinstance(data.get("response_scale"), dict) else {}
    values = scale.get("values") if isinstance(scale.get("values"), dict) else {}
    for label in values:
        if not isinstance(label, str):
            err(["response_scale", "values"],
                f"label {label!r} is not text: put it in quotes (YAML reads yes/no/on/off "
                "as true/false)")
    numbers = [v for v in values.values() if isinstance(v, (int, float))
               and not isinstance(v, bool)]
    seen_numbers = set()
    for label, number in values.items():
        if number in seen_numbers and isinstance(number, (int, float)):
            err(["response_scale", "values", str(label)],
                f"value {number} is used by more than one label")
        seen_numbers.add(number)
    na = scale.get("not_applicable") if isinstance(scale.get("not_applicable"), dict) else {}
    na_codes = na.get("codes") if isinstance(na.get("codes"), list) else []
    for k, code in enumerate(na_codes):
        if numbers and code not in numbers:
            err(["response_scale", "not_applicable", "codes", k],
                f"{code!r} is not one of the scale's values {sorted(set(numbers))}")
    if numbers and len({n for n in numbers if n not in na_codes}) < 2:
        err(["response_scale", "values"], "needs at least two answer values besides "
            "'does not apply'")

    # sections and items
    section_ids: set[str] = set()
    for i, section in dicts("sections"):
        sid = section.get("id")
        if sid in section_ids:
            err(["sections", i, "id"], f"section id {sid!r} is used twice")
        section_ids.add(sid)
    item_ids: list[str] = []
    items_by_id: dict[str, dict] = {}
    for i, item in dicts("items"):
        iid = item.get("id")
        if iid in items_by_id:
            err(["items", i, "id"], f"item id {iid!r} is used twice")
        item_ids.append(iid)
        items_by_id[iid] = item
        section = item.get("section")
        if section is not None and section not in section_ids:
            err(["items", i, "section"],
                f"{section!r} is not one of {', '.join(sorted(map(str, section_ids)))}")

    # FHIR linkIds (an item's link_id, else its id) name one item each (two
    # items with one id are reported above, not again here)
    link_owner: dict[str, tuple[str, bool]] = {}
    for i, item in dicts("items"):
        link, explicit = item.get("link_id", item.get("id")), "link_id" in item
        if not isinstance(link, str):
            continue
        if link in link_owner and (explicit or link_owner[link][1]):
            err(["items", i, "link_id" if explicit else "id"],
                f"linkId {link!r} is already the linkId of item {link_owner[link][0]!r}")
        link_owner.setdefault(link, (item.get("id"), explicit))

    # scores
    score_ids: dict[str, dict] = {}
    used_items: set[str] = set()
    score_directions: dict[str, str] = {}
    default_direction = data.get("direction", "higher_more")
    for j, score in dicts("scores"):
        sid = score.get("id")
        if sid in score_ids:
            err(["scores", j, "id"], f"score id {sid!r} is used twice")
        score_ids[sid] = score
        score_directions[sid] = score.get("direction", default_direction)
        given = [k for k in ("items", "quadrant", "section") if k in score]
        if len(given) != 1:
            err(["scores", j], "give exactly one of 'items', 'quadrant' or 'section' "
                f"(got {', '.join(given) if given else 'none'})")
        members: list[str] = []
        if isinstance(score.get("items"), list):
            for k, iid in enumerate(score["items"]):
                if iid not in items_by_id:
                    err(["scores", j, "items", k], f"unknown item {iid!r}")
                elif iid in members:
                    err(["scores", j, "items", k], f"item {iid!r} is listed twice")
                else:
                    members.append(iid)
        if isinstance(score.get("quadrant"), str):
            members = [iid for iid, it in items_by_id.items()
                       if it.get("quadrant") == score["quadrant"]]
            if not members and score["quadrant"] in QUADRANTS:
                err(["scores", j, "quadrant"], f"no item is keyed to quadrant "
                    f"{score['quadrant']!r}")
        if isinstance(score.get("section"), str):
            if score["section"] not in section_ids:
                err(["scores", j, "section"], f"{score['section']!r} is not one of "
                    f"{', '.join(sorted(map(str, section_ids)))}")
            members = [iid for iid, it in items_by_id.items()
                       if it.get("section") == score["section"]]
            if not members and score["section"] in section_ids:
                err(["scores", j, "section"], f"no item is in section {score['section']!r}")
        if score.get("kind") == "quadrant" and sid not in QUADRANTS:
            err(["scores", j, "id"], f"a quadrant score's id must be its quadrant: {sid!r} "
                f"is not one of {', '.join(QUADRANTS)}")
        if (score.get("kind") == "quadrant" and isinstance(score.get("quadrant"), str)
                and score["quadrant"] != sid):
            err(["scores", j, "quadrant"], f"quadrant score {sid!r} selects the items of "
                f"quadrant {score['quadrant']!r}")
        missing = score.get("missing") if isinstance(score.get("missing"), dict) else {}
        max_missing = missing.get("max_missing")
        if isinstance(max_missing, int) and members and max_missing >= len(members):
            err(["scores", j, "missing", "max_missing"], f"{max_missing} would allow every one "
                f"of the score's {len(members)} items to be missing")
        used_items.update(members)

    for i, item in dicts("items"):
        iid = item.get("id")
        if iid not in used_items and item.get("section") is None:
            warn(["items", i], f"item {iid!r} is in no score and no section: it is collected "
                 "but never used")

    # classification
    classification = data.get("classification") if isinstance(
        data.get("classification"), dict) else {}
    z_cuts = classification.get("z_cuts")
    if (isinstance(z_cuts, list) and len(z_cuts) == 2
            and all(isinstance(z, (int, float)) for z in z_cuts) and not z_cuts[0] < z_cuts[1]):
        err(["classification", "z_cuts"], f"the first cut must be below the second, got {z_cuts}")
    level_keys, z_levels = _check_scheme(classification, err)

    # norms: each (respondent, sex) group of bands covers the form's ages
    possible = _possible_raw(data, score_ids, items_by_id)
    bands = dicts("norms")
    groups: dict[tuple, list] = {}
    needs_z = False
    for b, band in bands:
        ages = band.get("ages")
        if _is_open_range(ages):
            if ages[1] is not None and ages[0] > ages[1]:
                err(["norms", b, "ages"], f"low end {ages[0]} is above high end {ages[1]}")
            else:
                groups.setdefault((band.get("respondent"), band.get("sex")), []).append(
                    (b, ages))
        respondent = band.get("respondent")
        declared = data.get("respondents") or [data.get("respondent")]
        if isinstance(respondent, str) and isinstance(declared, list) and (
                respondent not in declared):
            err(["norms", b, "respondent"], f"{respondent!r} is not one of the form's "
                f"respondents ({', '.join(map(str, declared))})")
        scores = band.get("scores") if isinstance(band.get("scores"), dict) else {}
        for score_id, norm in scores.items():
            where = ["norms", b, "scores", score_id]
            if score_id not in score_ids:
                err(where, f"unknown score {score_id!r}")
                continue
            if not isinstance(norm, dict):
                continue
            kinds = [k for k in ("mean/sd", "cuts", "percentiles")
                     if (k == "mean/sd" and ("mean" in norm or "sd" in norm)) or k in norm]
            if len(kinds) > 1:
                err(where, f"give one kind of norms (mean and sd, cuts, or percentiles), not "
                    f"{' and '.join(kinds)}")
            elif kinds == ["mean/sd"] and not ("mean" in norm and "sd" in norm):
                err(where, "mean/SD norms need both 'mean' and 'sd'")
            elif not kinds:
                err(where, "give mean and sd, cuts or percentiles (or leave the score out of "
                    "the band)")
            if kinds in (["mean/sd"], ["percentiles"]):
                needs_z = True
            label = _band_text(band, unit)
            if isinstance(norm.get("cuts"), dict):
                _check_cuts(norm["cuts"], where + ["cuts"],
                            score_directions.get(score_id, default_direction), err,
                            keys=level_keys, possible=possible.get(score_id),
                            context=f"band {label}, score {score_id}")
            if isinstance(norm.get("percentiles"), list):
                _check_percentiles(norm["percentiles"], where + ["percentiles"], err,
                                   possible=possible.get(score_id),
                                   context=f"band {label}, score {score_id}")
    if needs_z and not z_levels:
        err(["classification", "levels"], "mean/SD and percentile norms classify by z: give "
            "every level its z range ([low, high], null for an open end)")
    if _is_open_range(age):
        for (respondent, sex), members in groups.items():
            _check_band_group(members, age, unit, respondent, sex, err)
    # reliability
    reliability = data.get("reliability") if isinstance(data.get("reliability"), dict) else {}
    for score_id in reliability:
        if score_id not in score_ids:
            err(["reliability", score_id], f"unknown score {score_id!r}")


def _is_open_range(value) -> bool:
    """[low, high] of whole numbers; high may be None (an open top)."""
    return (isinstance(value, list) and len(value) == 2
            and isinstance(value[0], int) and not isinstance(value[0], bool)
            and (value[1] is None or (isinstance(value[1], int)
                                      and not isinstance(value[1], bool))))


def _band_text(band: dict, unit: str) -> str:
    ages = band.get("ages")
    if not _is_open_range(ages):
        return "?"
    text = f"{ages[0]}+" if ages[1] is None else f"{ages[0]}-{ages[1]}"
    extra = [str(band[k]) for k in ("respondent", "sex") if band.get(k)]
    return f"{text} {unit}" + (f" ({', '.join(extra)})" if extra else "")


def _check_who_and_ages(data: dict, err) -> None:
    """Exactly one of respondent/respondents and of age_range_months/age_range."""
    if ("respondent" in data) == ("respondents" in data):
        err([], "give the respondent (respondent: caregiver) or the respondents "
            "(respondents: [caregiver, teacher]), one of the two")
    if ("age_range_months" in data) == ("age_range" in data):
        err([], "give the ages as age_range_months: [low, high], or as age_unit and "
            "age_range: [low, high] (high may be null: no upper limit), one of the two")
    if "age_range_months" in data and "age_unit" in data:
        err(["age_unit"], "age_range_months is in months: use age_range with age_unit")


def _check_scheme(classification: dict, err) -> tuple[list[str], bool]:
    """The classification's level keys, and whether every level has a z range."""
    levels = classification.get("levels")
    if levels is None:
        return list(LEVEL_KEYS), True
    if "labels" in classification or "z_cuts" in classification:
        err(["classification"], "give levels (a scheme of the form's own), or labels and "
            "z_cuts (the five levels), not both")
    if not isinstance(levels, list):
        return [], False
    keys = [lv.get("key") for lv in levels if isinstance(lv, dict)]
    for k, key in enumerate(keys):
        if key in keys[:k]:
            err(["classification", "levels", k, "key"], f"level {key!r} is given twice")
    typical = classification.get("typical", "typical")
    if typical not in keys:
        err(["classification", "typical"] if "typical" in classification else
            ["classification"], f"the typical level {typical!r} is not one of the levels "
            f"({', '.join(map(str, keys))}); name it with typical: KEY")
    zs = [lv.get("z") for lv in levels if isinstance(lv, dict)]
    if not any(z is not None for z in zs):
        return keys, False
    if any(z is None for z in zs):
        err(["classification", "levels"], "give every level a z range, or none")
        return keys, False
    ok = all(isinstance(z, list) and len(z) == 2 for z in zs)
    if not ok:
        return keys, False
    if zs[0][0] is not None or zs[-1][1] is not None:
        err(["classification", "levels"], "the z ranges must run from null (the first "
            "level's low end) to null (the last level's high end)")
    for k in range(len(zs) - 1):
        if zs[k][1] is None or zs[k + 1][0] is None or zs[k][1] != zs[k + 1][0]:
            err(["classification", "levels", k + 1, "z"], f"level {keys[k + 1]!r} must start "
                f"where {keys[k]!r} ends (z {zs[k][1]}), got {zs[k + 1][0]}")
        elif zs[k][0] is not None and not zs[k][0] < zs[k][1]:
            err(["classification", "levels", k, "z"], f"low end {zs[k][0]} is not below "
                f"high end {zs[k][1]}")
    return keys, True


def _possible_raw(data: dict, score_ids: dict, items_by_id: dict) -> dict:
    """Whole raw scores each score can take (lowest, highest), for the cut
    and percentile coverage checks."""
    scale = data.get("response_scale") if isinstance(data.get("response_scale"), dict) else {}
    values = scale.get("values") if isinstance(scale.get("values"), dict) else {}
    na = scale.get("not_applicable") if isinstance(scale.get("not_applicable"), dict) else {}
    na_codes = na.get("codes") if isinstance(na.get("codes"), list) else []
    answers = [v for v in values.values() if isinstance(v, (int, float))
               and not isinstance(v, bool) and v not in na_codes]
    if isinstance(na.get("counts_as"), (int, float)) and not isinstance(na.get("counts_as"),
                                                                        bool):
        answers.append(na["counts_as"])
    if not answers:
        return {}
    lo, hi = min(answers), max(answers)
    out = {}
    for sid, score in score_ids.items():
        if isinstance(score.get("items"), list):
            n = len(set(score["items"]))
        elif isinstance(score.get("quadrant"), str):
            n = sum(1 for it in items_by_id.values() if it.get("quadrant") == score["quadrant"])
        elif isinstance(score.get("section"), str):
            n = sum(1 for it in items_by_id.values() if it.get("section") == score["section"])
        else:
            continue
        missing = score.get("missing") if isinstance(score.get("missing"), dict) else {}
        max_missing = missing.get("max_missing", 0) if isinstance(
            missing.get("max_missing", 0), int) else 0
        prorate = missing.get("prorate", True)
        low = n * lo if (prorate or lo <= 0) else (n - max_missing) * lo
        if n:
            out[sid] = (math.ceil(low), math.floor(n * hi))
    return out


def _check_band_group(members: list, age: list, unit: str, respondent, sex, err) -> None:
    """The bands of one (respondent, sex) group: sorted, no overlap, no gap,
    from the form's lowest age to its highest; only the last may be open."""
    who = ", ".join(x for x in (respondent, sex) if x)
    whose = f" ({who})" if who else ""
    previous = None
    for b, ages in members:
        if previous is not None:
            if previous[1] is None:
                err(["norms", b, "ages"], f"band {ages}{whose} comes after the open band "
                    f"{previous[0]}+, which already covers every age above it")
            elif ages[0] <= previous[1]:
                err(["norms", b, "ages"], f"band {ages} overlaps the previous band "
                    f"{previous}{whose}")
            elif ages[0] > previous[1] + 1:
                err(["norms", b, "ages"], f"gap between the previous band {previous} and "
                    f"{ages}{whose}: ages {previous[1] + 1}..{ages[0] - 1} {unit} have no band")
        previous = ages
    first_b, first = members[0]
    last_b, last = members[-1]
    if first[0] != age[0]:
        err(["norms", first_b, "ages"], f"the first band{whose} starts at {first[0]} {unit} "
            f"but the instrument's age range starts at {age[0]}")
    if last[1] != age[1]:
        end = "has no upper limit" if age[1] is None else f"ends at {age[1]}"
        band_end = "has no upper limit" if last[1] is None else f"ends at {last[1]} {unit}"
        err(["norms", last_b, "ages"], f"the last band{whose} {band_end} but the "
            f"instrument's age range {end}")


def _check_cuts(cuts: dict, where: list, direction: str, err, *, keys=LEVEL_KEYS,
                possible=None, context: str = "") -> None:
    """A cut table: one range per level of the scheme, contiguous and in the
    score's direction, covering every whole raw score the score can take."""
    keys = list(keys)
    unknown = [k for k in cuts if k not in keys]
    for k in unknown:
        err(where + [k], f"{k!r} is not one of {', '.join(keys)}")
    missing = [k for k in keys if k not in cuts]
    if missing:
        err(where, f"has {len(keys) - len(missing)} of the {len(keys)} ranges; missing: "
            f"{', '.join(missing)}")
        return
    if not all(_is_range(cuts[k]) for k in keys):
        return  # the schema reports the malformed range
    for k in keys:
        if cuts[k][0] > cuts[k][1]:
            err(where + [k], f"low end {cuts[k][0]} is above high end {cuts[k][1]}")
            return
    # In raw-score order: higher_more runs the levels as listed (lowest raw first).
    order = keys if direction == "higher_more" else list(reversed(keys))
    for below, above in zip(order, order[1:], strict=False):
        lo_range, hi_range = cuts[below], cuts[above]
        if hi_range[0] <= lo_range[1]:
            if hi_range[1] < lo_range[0]:
                err(where, f"ranges are not monotone for a {direction} score: {above!r} "
                    f"{hi_range} must lie above {below!r} {lo_range}")
            else:
                overlap = f"{max(lo_range[0], hi_range[0])}..{min(lo_range[1], hi_range[1])}"
                err(where, f"{context}: ranges {below!r} {lo_range} and {above!r} {hi_range} "
                    f"overlap: raw scores {overlap} are in both")
            return
        if hi_range[0] != lo_range[1] + 1:
            err(where, f"{context}: gap between {below!r} {lo_range} and {above!r} "
                f"{hi_range}: raw scores {lo_range[1] + 1}..{hi_range[0] - 1} have no "
                "classification")
            return
    if possible is not None:
        lowest, highest = cuts[order[0]][0], cuts[order[-1]][1]
        if lowest > possible[0]:
            err(where, f"{context}: raw scores {possible[0]}..{lowest - 1} are in no range "
                f"(the score runs {possible[0]}..{possible[1]})")
        if highest < possible[1]:
            err(where, f"{context}: raw scores {highest + 1}..{possible[1]} are in no range "
                f"(the score runs {possible[0]}..{possible[1]})")


def _check_percentiles(points: list, where: list, err, *, possible=None,
                       context: str = "") -> None:
    """A percentile table: raw ascending, percentiles from 0 to 100 and not
    falling, starting at the lowest raw score the score can take."""
    pairs = [p for p in points if isinstance(p, list) and len(p) == 2
             and all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in p)]
    if len(pairs) != len(points):
        return  # the schema reports the malformed pair
    for k in range(1, len(pairs)):
        if not pairs[k][0] > pairs[k - 1][0]:
            err(where + [k], f"{context}: raw {pairs[k][0]} does not follow "
                f"{pairs[k - 1][0]}: list raw scores in ascending order, each once")
            return
        if pairs[k][1] < pairs[k - 1][1]:
            err(where + [k], f"{context}: percentile {pairs[k][1]} falls below "
                f"{pairs[k - 1][1]} at a higher raw score")
            return
    for k, (_, pct) in enumerate(pairs):
        if not 0 <= pct <= 100:
            err(where + [k], f"{context}: percentile {pct} is not between 0 and 100")
            return
    if possible is not None and pairs and pairs[0][0] > possible[0]:
        err(where, f"{context}: raw scores {possible[0]}..{pairs[0][0] - 1} are below the "
            f"table's first raw score {pairs[0][0]} (the score runs "
            f"{possible[0]}..{possible[1]})")


# ---------------------------------------------------------------------------
# building the model
# ---------------------------------------------------------------------------
def _build(data: dict, source: str | None) -> Instrument:
    default_direction = data.get("direction", "higher_more")
    scale_data = data["response_scale"]
    na = scale_data.get("not_applicable") or {}
    counts_as = na.get("counts_as", "exclude")
    scale = ResponseScale(
        values={str(k): v for k, v in scale_data["values"].items()},
        na_codes=tuple(na.get("codes", ())),
        na_counts_as=None if counts_as == "exclude" else counts_as,
    )
    items = tuple(Item(id=i["id"], text=i.get("text"), section=i.get("section"),
                       quadrant=i.get("quadrant"), link_id=i.get("link_id"),
                       reverse=bool(i.get("reverse", False)))
                  for i in data["items"])
    scores = []
    for s in data["scores"]:
        if "items" in s:
            members, selector = tuple(s["items"]), None
        elif "quadrant" in s:
            members = tuple(i.id for i in items if i.quadrant == s["quadrant"])
            selector = ("quadrant", s["quadrant"])
        else:
            members = tuple(i.id for i in items if i.section == s["section"])
            selector = ("section", s["section"])
        missing = s.get("missing") or {}
        scores.append(Score(
            id=s["id"], name=s["name"], kind=s["kind"], items=members,
            direction=s.get("direction", default_direction),
            max_missing=missing.get("max_missing", 0), prorate=missing.get("prorate", True),
            selector=selector, primary=s.get("primary"),
        ))
    unit, (age_min, age_max) = _age_range(data)
    scheme = _scheme(data)
    keys = scheme.keys if scheme is not None else LEVEL_KEYS
    norms = []
    for band in data["norms"]:
        entries: dict = {}
        for score_id, norm in band["scores"].items():
            if "cuts" in norm:
                entries[score_id] = CutTable({k: tuple(norm["cuts"][k]) for k in keys})
            elif "percentiles" in norm:
                entries[score_id] = PercentileTable(tuple((float(r), float(p))
                                                          for r, p in norm["percentiles"]))
            else:
                entries[score_id] = MeanSD(mean=float(norm["mean"]), sd=float(norm["sd"]))
        low, high = _months(band["ages"], unit)
        norms.append(NormBand(low=low, high=high, scores=entries, note=band.get("note"),
                              respondent=band.get("respondent"), sex=band.get("sex"),
                              unit=unit))
    classification = data.get("classification") or {}
    respondents = tuple(data.get("respondents") or [data["respondent"]])
    reliability = {k: Reliability(r=float(v["r"]), kind=v["kind"], sd=float(v["sd"]))
                   for k, v in (data.get("reliability") or {}).items()}
    return Instrument(
        id=data["id"], name=data["name"], version=str(data["version"]),
        respondent=respondents[0], respondents=respondents, age_min=age_min, age_max=age_max,
        age_unit=unit, custom_scheme=scheme, licence=data["licence"],
        clinical_use=data["clinical_use"], response_scale=scale,
        sections=tuple(Section(id=s["id"], name=s["name"], kind=s["kind"])
                       for s in data["sections"]),
        items=items, scores=tuple(scores), norms=tuple(norms),
        labels=dict(classification.get("labels") or DEFAULT_LABELS),
        z_cuts=tuple(classification.get("z_cuts") or DEFAULT_Z_CUTS),
        reliability=reliability, direction=default_direction,
        description=data.get("description"), source=source,
        fhir_questionnaire=(data.get("fhir") or {}).get("questionnaire"),
    )


def _months(ages: list, unit: str) -> tuple[float, float]:
    """An age range of the file ([low, high], high may be null) in months,
    inclusive: years 11-17 are months 132-215; an open top is OPEN_AGE."""
    low, high = ages
    if unit == "years":
        return low * 12, OPEN_AGE if high is None else high * 12 + 11
    return low, OPEN_AGE if high is None else high


def _age_range(data: dict) -> tuple[str, tuple[float, float]]:
    if "age_range_months" in data:
        return "months", tuple(data["age_range_months"])
    unit = data.get("age_unit", "months")
    return unit, _months(data["age_range"], unit)


def _scheme(data: dict) -> Scheme | None:
    """The form's own classification scheme (``classification.levels``), or
    None for the five levels."""
    classification = data.get("classification") or {}
    levels = classification.get("levels")
    if not levels:
        return None
    keys = [lv["key"] for lv in levels]
    typical = classification.get("typical", "typical")
    centre = keys.index(typical)
    return Scheme(levels=tuple(
        Level(key=lv["key"], label=lv["label"], ordinal=k - centre,
              z_low=(lv.get("z") or [None, None])[0], z_high=(lv.get("z") or [None, None])[1])
        for k, lv in enumerate(levels)), typical=typical)


def check_definition(data: object, source: str = "<definition>") -> CheckResult:
    """Validate already-parsed definition data; build the instrument if valid."""
    result = CheckResult(source=source)
    name = Path(source).name

    def err(path, message):
        result.errors.append(f"{name}: {format_path(path)}: {message}")

    def warn(path, message):
        result.warnings.append(f"{name}: {format_path(path)}: {message}")

    if not isinstance(data, dict):
        result.errors.append(f"{name}: the file must hold a mapping of fields "
                             f"(id, name, items, ...), got {type(data).__name__}")
        return result
    import jsonschema  # only here: importing it is slow, and only a real check needs it

    validator = jsonschema.Draft202012Validator(INSTRUMENT_SCHEMA)
    for error in sorted(validator.iter_errors(data), key=lambda e: list(map(str, e.path))):
        path, message = _schema_message(error)
        err(path, message)
    _semantic_checks(data, err, warn)
    if result.ok:
        result.instrument = _build(data, source)
    return result


# ---------------------------------------------------------------------------
# checked once per content: markers in the user's cache folder
# ---------------------------------------------------------------------------
#: Folder for the markers of checked definitions (default: the user's cache
#: folder, ``$XDG_CACHE_HOME/sensoryprofile`` or ``~/.cache/sensoryprofile``).
CACHE_ENV = "SENSORYPROFILE_CACHE_DIR"
_CHECKED: dict[str, list[str]] = {}  # this process's markers: key -> warnings
_CHECKER: list[bytes] = []


def cache_dir() -> Path:
    """Where checked-definition markers are kept."""
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV])
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "sensoryprofile"


def _checker_fingerprint() -> bytes:
    """The checker's own code (this module and the schema): a marker made by
    another version of the rules never vouches for a definition."""
    if not _CHECKER:
        from sensoryprofile.instruments import schema

        digest = hashlib.sha256()
        for module_file in (__file__, schema.__file__):
            digest.update(Path(module_file).read_bytes())
        _CHECKER.append(digest.digest())
    return _CHECKER[0]


def definition_key(text: str) -> str:
    """SHA-256 of a definition's text and of the checker."""
    return hashlib.sha256(_checker_fingerprint() + text.encode("utf-8")).hexdigest()


def _marker(key: str) -> Path:
    return cache_dir() / "checked-definitions" / f"{key}.json"


def _read_marker(key: str) -> list[str] | None:
    """The warnings recorded when this content passed, or None (never checked)."""
    if key in _CHECKED:
        return _CHECKED[key]
    try:
        found = json.loads(_marker(key).read_text(encoding="utf-8"))
        warnings_ = [str(w) for w in found["warnings"]]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    _CHECKED[key] = warnings_
    return warnings_


def _write_marker(key: str, warnings_: list[str]) -> None:
    """Record a passed check (atomically; a cache that cannot be written is
    only a slower next load, never an error)."""
    _CHECKED[key] = warnings_
    path = _marker(key)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".marker-", dir=path.parent)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump({"warnings": warnings_}, handle)
        os.replace(tmp, path)
    except OSError:
        return


def check_text(text: str, source: str, *, cache: bool = True) -> CheckResult:
    """Check a definition's text (see :func:`check_instrument`). With ``cache``
    a text that passed before is only parsed and built: the same content
    gives the same result, so the check is not repeated."""
    name = Path(source).name
    key = definition_key(text) if cache else None
    known = _read_marker(key) if key else None
    if known is not None:
        # the same text passed the strict read (no key given twice): libyaml's
        # loader, when PyYAML has it, reads it the same way, seven times faster
        try:
            data = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))  # noqa: S506
            instrument = _build(data, source)
        except Exception:  # noqa: BLE001 - a damaged or forged marker: check for real
            instrument = None
        if instrument is not None:
            # warnings are kept without the file name: the same content may
            # come under another name
            return CheckResult(source=source, warnings=[f"{name}: {w}" for w in known],
                               instrument=instrument)
    result = check_definition(read_yaml(text, name), source)
    if key and result.ok:
        _write_marker(key, [w.removeprefix(f"{name}: ") for w in result.warnings])
    return result


def check_instrument(path: str | Path, *, cache: bool = True) -> CheckResult:
    """Validate a definition file, collecting every problem.

    Returns a :class:`CheckResult`; raises :class:`InstrumentError` only when
    the file cannot be read or parsed at all. With ``cache`` (the default) a
    file whose exact content passed before is not checked again; ``cache=False``
    always checks (``sensoryprofile instruments check``).
    """
    path = Path(path)
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):  # a folder, device or pipe: never opened
            raise InstrumentError(f"{path}: not a regular file, so not a definition file")
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise InstrumentError(f"{path}: no such instrument definition file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InstrumentError(f"{path}: cannot read the file ({exc})") from None
    return check_text(text, str(path), cache=cache)


def load_instrument_file(path: str | Path) -> Instrument:
    """Load one definition file; :class:`InstrumentError` lists every problem."""
    result = check_instrument(path)
    if not result.ok:
        raise InstrumentError(f"{Path(path).name}: invalid instrument definition "
                              f"({len(result.errors)} problem(s))", result.errors)
    for message in result.warnings:
        warnings.warn(message, InstrumentWarning, stacklevel=2)
    return result.instrument


def instrument_from_dict(data: dict, source: str = "<definition>") -> Instrument:
    """Build an instrument from plain data (e.g. ``Instrument.to_dict()``)."""
    result = check_definition(data, source)
    if not result.ok:
        raise InstrumentError(f"{source}: invalid instrument definition", result.errors)
    return result.instrument
