"""JSON Schema for instrument definition files (format 1).

Structure only: cross-references (a score naming an unknown item, age bands
that overlap, cut tables that are not monotone) are checked in
:mod:`sensoryprofile.instruments.loader`, which also turns every error into a
message naming the file and the field path. docs/instrument-format.md is the
human description of the same format.
"""

from __future__ import annotations

from sensoryprofile.ids import ID_PATTERN

QUADRANTS = ("seeking", "avoiding", "sensitivity", "registration")
#: Each quadrant's name in plain words (reports and tables).
QUADRANT_NAMES = {"seeking": "Sensory seeking", "avoiding": "Sensory avoiding",
                  "sensitivity": "Sensory sensitivity", "registration": "Low registration"}
SCORE_KINDS = ("quadrant", "section", "composite", "total", "factor")
SECTION_KINDS = ("sensory", "behavioural")
DIRECTIONS = ("higher_more", "higher_less")
RESPONDENTS = ("caregiver", "teacher", "self", "clinician")
LEVEL_KEYS = ("much_less", "less", "typical", "more", "much_more")
AGE_UNITS = ("months", "years")
#: Norm samples may be given by sex (the values of the children table's ``sex``).
NORM_SEXES = ("F", "M", "X")

_ident = {"type": "string", "pattern": ID_PATTERN}
_range = {
    "type": "array",
    "items": {"type": "integer", "minimum": 0},
    "minItems": 2,
    "maxItems": 2,
}
#: [low, high] with an open top: high may be null ("65 and over": [65, null])
_open_range = {
    "type": "array",
    "prefixItems": [{"type": "integer", "minimum": 0},
                    {"anyOf": [{"type": "integer", "minimum": 0}, {"type": "null"}]}],
    "items": False,
    "minItems": 2,
    "maxItems": 2,
}
#: a z interval of a classification level, either end open (null)
_z_range = {
    "type": "array",
    "items": {"anyOf": [{"type": "number"}, {"type": "null"}]},
    "minItems": 2,
    "maxItems": 2,
}
_missing = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "max_missing": {"type": "integer", "minimum": 0},
        "prorate": {"type": "boolean"},
    },
}

# ---------------------------------------------------------------------------
# FHIR keys (optional, additive; docs/instrument-format.md, "fhir" and
# "link_id"): used by `sensoryprofile import fhir` and `export fhir`.
# ---------------------------------------------------------------------------
#: A FHIR linkId: non-empty text of at most 255 characters, no surrounding space.
FHIR_LINK_ID = {"type": "string", "minLength": 1, "maxLength": 255, "pattern": r"^\S(.*\S)?$"}
FHIR_BLOCK = {
    "type": "object",
    "additionalProperties": False,
    "required": ["questionnaire"],
    "properties": {
        # a canonical URL (absolute URI, no version suffix: "|1.0" is matched apart)
        "questionnaire": {"type": "string", "pattern": r"^[A-Za-z][A-Za-z0-9+.-]*:[^\s|]+$"},
    },
}

INSTRUMENT_SCHEMA: dict = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "sensoryprofile instrument definition, format 1",
    "type": "object",
    "additionalProperties": False,
    # one of respondent/respondents and one of age_range_months/age_range is
    # required: checked by the loader, which says so plainly
    "required": [
        "format", "id", "name", "version", "licence",
        "clinical_use", "response_scale", "sections", "items", "scores", "norms",
    ],
    "properties": {
        "format": {"const": 1},
        "id": _ident,
        "name": {"type": "string", "minLength": 1},
        "version": {"type": "string", "minLength": 1},
        "respondent": {"enum": list(RESPONDENTS)},
        # several respondent types (a parent form and a teacher form of one instrument)
        "respondents": {"type": "array", "items": {"enum": list(RESPONDENTS)}, "minItems": 1,
                        "uniqueItems": True},
        "age_range_months": _range,
        # ages in the form's own unit (age_unit), the top may be open (null)
        "age_unit": {"enum": list(AGE_UNITS)},
        "age_range": _open_range,
        "licence": {"type": "string", "minLength": 1},
        "clinical_use": {"type": "boolean"},
        "description": {"type": "string"},
        "direction": {"enum": list(DIRECTIONS)},
        # FHIR (optional): the Questionnaire this form is, by its canonical URL
        "fhir": FHIR_BLOCK,
        "response_scale": {
            "type": "object",
            "additionalProperties": False,
            "required": ["values"],
            "properties": {
                "values": {
                    "type": "object",
                    "minProperties": 2,
                    "additionalProperties": {"type": "number"},
                },
                "not_applicable": {
                    "type": "object",
                    "additionalProperties": False,
                    "required": ["codes", "counts_as"],
                    "properties": {
                        "codes": {"type": "array", "items": {"type": "number"}},
                        "counts_as": {
                            "anyOf": [{"type": "number"}, {"const": "exclude"}],
                        },
                    },
                },
            },
        },
        "sections": {
            "type": "array",
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["id", "name", "kind"],
                "properties": {
                    "id": _ident,
                    "name": {"type": "string", "minLength": 1},
                    "kind": {"enum": list(SECTION_KINDS)},
                },
            },
        },
        "items": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["id"],
                "properties": {
                    "id": _ident,
                    "text": {"type": "string"},
                    "section": {"type": "string"},
                    "quadrant": {"enum": list(QUADRANTS)},
                    # reverse-keyed: the answer counts as (lowest + highest answer) - answer
                    "reverse": {"type": "boolean"},
                    # FHIR (optional): the item's linkId in the Questionnaire
                    "link_id": FHIR_LINK_ID,
                },
            },
        },
        "scores": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["id", "name", "kind"],
                "properties": {
                    "id": _ident,
                    "name": {"type": "string", "minLength": 1},
                    "kind": {"enum": list(SCORE_KINDS)},
                    "items": {"type": "array", "items": {"type": "string"}, "minItems": 1},
                    "quadrant": {"enum": list(QUADRANTS)},
                    "section": {"type": "string"},
                    "direction": {"enum": list(DIRECTIONS)},
                    "missing": _missing,
                    # shown by default (change, reports); default: the quadrants, or
                    # without quadrants the sections and totals
                    "primary": {"type": "boolean"},
                },
            },
        },
        "classification": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "labels": {
                    "type": "object",
                    "additionalProperties": False,
                    "required": list(LEVEL_KEYS),
                    "properties": {k: {"type": "string", "minLength": 1} for k in LEVEL_KEYS},
                },
                "z_cuts": {
                    "type": "array",
                    "items": {"type": "number", "exclusiveMinimum": 0},
                    "minItems": 2,
                    "maxItems": 2,
                },
                # a scheme of the form's own: its levels from one end to the other
                "levels": {
                    "type": "array",
                    "minItems": 2,
                    "items": {
                        "type": "object",
                        "additionalProperties": False,
                        "required": ["key", "label"],
                        "properties": {
                            "key": _ident,
                            "label": {"type": "string", "minLength": 1},
                            "z": _z_range,
                        },
                    },
                },
                "typical": {"type": "string"},
            },
        },
        "norms": {
            "type": "array",
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["ages", "scores"],
                "properties": {
                    "ages": _open_range,
                    "note": {"type": "string"},
                    # norms of one respondent type, or one sex, where a manual gives them
                    "respondent": {"enum": list(RESPONDENTS)},
                    "sex": {"enum": list(NORM_SEXES)},
                    "scores": {
                        "type": "object",
                        "additionalProperties": {
                            "type": "object",
                            "additionalProperties": False,
                            "properties": {
                                "mean": {"type": "number"},
                                "sd": {"type": "number", "exclusiveMinimum": 0},
                                "cuts": {
                                    "type": "object",
                                    "additionalProperties": _range | {
                                        "items": {"type": "integer"},
                                    },
                                },
                                # a manual's table: [raw, percentile] pairs, raw ascending
                                "percentiles": {
                                    "type": "array",
                                    "minItems": 2,
                                    "items": {
                                        "type": "array",
                                        "items": {"type": "number"},
                                        "minItems": 2,
                                        "maxItems": 2,
                                    },
                                },
                            },
                        },
                    },
                },
            },
        },
        "reliability": {
            "type": "object",
            "additionalProperties": {
                "type": "object",
                "additionalProperties": False,
                "required": ["r", "kind", "sd"],
                "properties": {
                    "r": {"type": "number", "minimum": 0, "exclusiveMaximum": 1},
                    "kind": {"type": "string", "minLength": 1},
                    "sd": {"type": "number", "exclusiveMinimum": 0},
                },
            },
        },
    },
}
