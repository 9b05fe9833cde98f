"""What a de-identified export says about itself: the policy for every column,
the HIPAA route of each mode, and the manifest (``manifest.json``,
``MANIFEST.md``) with its notes.

:mod:`sensoryprofile.data.export` builds an :class:`ExportManifest`; this
module only describes. Nothing here holds an identifying value: the manifest
names files, columns, counts, pseudonyms and study codes, never an original
ID, name, date or text, and never a path (a path can carry a name).
docs/privacy.md explains the model.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from sensoryprofile import __version__
from sensoryprofile import columns as C
from sensoryprofile.data.keys import (
    DATE_SHIFT_BASE_DAYS,
    DATE_SHIFT_JITTER_WEEKS,
    FINGERPRINT_HEX,
    ID_HEX,
    PREFIXES,
    STUDY_PREFIXES,
)
from sensoryprofile.data.settings import OTHER, SETTINGS_FILE
from sensoryprofile.instruments.schema import RESPONDENTS

# -- files of an extract (the columns it adds are in sensoryprofile.columns) --
MANIFEST_JSON = "manifest.json"
MANIFEST_MD = "MANIFEST.md"
FORMAT = "sensoryprofile-deidentified-export"
#: 2: the mode (keyed or strict), the HIPAA route, vocabulary counts.
FORMAT_VERSION = 2

# -- the two modes and the routes they serve (docs/privacy.md) -----------------
KEYED = "keyed"
STRICT = "strict"
ROUTES = {
    KEYED: ("limited data set (45 CFR 164.514(e), under a data use agreement) or expert "
            "determination (164.514(b)(1)); not HIPAA Safe Harbor: the pseudonyms are derived "
            "from the clinic's IDs and the dates keep more than the year"),
    STRICT: ("HIPAA Safe Harbor (45 CFR 164.514(b)(2)): years only, random study codes not "
             "derived from anything about the child (164.514(c)), linkage table held by the "
             "clinic"),
}

#: Rater values kept as they are: roles, not people (compared case-insensitively).
RATER_ROLES = frozenset({*RESPONDENTS, "therapist", "parent", "carer", "guardian", "family",
                         "child", "other"})

# -- dates and ages ------------------------------------------------------------
#: Safe Harbor: ages over 89 years are aggregated into "90 or older".
AGE_CAP_MONTHS = 90 * 12


# -- what happens to a column --------------------------------------------------
KEPT = "kept"
REMOVED = "removed"
PSEUDONYMISED = "pseudonymised"
CODED = "random study code"
SHIFTED = "date-shifted"
DAYS = "replaced by days since intake"
YEARS = "replaced by the year"
ADDED = "added"
CANONICALISED = "canonicalised"
VOCABULARY = "controlled vocabulary"


# ---------------------------------------------------------------------------
# the manifest
# ---------------------------------------------------------------------------
@dataclass(frozen=True)
class ColumnPolicy:
    """What the export did to one input column."""

    column: str
    action: str
    output: str | None
    detail: str


@dataclass(frozen=True)
class TableExport:
    """Row accounting and column policy of one exported table.

    ``rows_in = rows_rejected + rows_excluded + rows_out``: rejected rows
    failed validation; excluded rows were absent from the :class:`Dataset`
    passed in (a caller's subset) or had no exported parent row.
    """

    table: str
    file: str
    rows_in: int
    rows_rejected: int
    rows_excluded: int
    rows_out: int
    columns: list[ColumnPolicy]
    unknown_columns_removed: int = 0

    @property
    def reconciles(self) -> bool:
        return self.rows_in == self.rows_rejected + self.rows_excluded + self.rows_out


@dataclass(frozen=True)
class DroppedRow:
    """A row rejected by validation, named by the pseudonym (or study code) of its key."""

    table: str
    key_column: str | None
    pseudonym: str | None
    columns: tuple[str, ...]
    actions: tuple[str, ...]


@dataclass(frozen=True)
class VocabularyCount:
    """How many values of a column were outside the vocabulary (written ``other``)."""

    table: str
    column: str
    vocabulary: str
    values_replaced: int
    rows_affected: int


@dataclass
class ExportManifest:
    """What :func:`export_deidentified` wrote. Holds nothing identifying.

    ``to_dict()`` is what ``manifest.json`` holds; ``to_markdown()`` is
    ``MANIFEST.md``. ``out_dir`` and ``linkage_file`` are not written to
    either file (a path can carry a name). ``key_fingerprint`` is None in
    strict mode (no key is used).
    """

    out_dir: Path
    key_fingerprint: str | None
    no_dates: bool
    keep_sites: bool
    tables: dict[str, TableExport]
    dropped: list[DroppedRow]
    instruments: list[str]
    notes: list[str]
    files: list[str] = field(default_factory=list)
    strict: bool = False
    vocabulary: list[VocabularyCount] = field(default_factory=list)
    linkage_file: Path | None = None

    @property
    def mode(self) -> str:
        return STRICT if self.strict else KEYED

    @property
    def reconciles(self) -> bool:
        return all(t.reconciles for t in self.tables.values())

    def options(self) -> dict:
        if self.strict:
            dates = {"mode": "year only", "columns": dict(C.YEAR_COLUMNS),
                     "order": f"{C.SEQUENCE}: 1, 2, ... in date order within a child "
                              "(assessments) or a goal (ratings)"}
        elif self.no_dates:
            dates = {"mode": "days since intake", "columns": dict(C.DAY_COLUMNS)}
        else:
            dates = {"mode": "shifted", "base_days": -DATE_SHIFT_BASE_DAYS,
                     "jitter_weeks": [-DATE_SHIFT_JITTER_WEEKS, DATE_SHIFT_JITTER_WEEKS],
                     "per": "child (keyed); intervals and weekdays preserved"}
        return {"strict": self.strict, "no_dates": self.no_dates, "keep_sites": self.keep_sites,
                "dates": dates}

    def to_dict(self) -> dict:
        return {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "made_by": f"sensoryprofile {__version__}",
            "mode": self.mode,
            "route": ROUTES[self.mode],
            "key_used": not self.strict,
            "key_fingerprint": self.key_fingerprint,
            "key_fingerprint_is": (
                "no key is used: study codes are random" if self.strict
                else f"first {FINGERPRINT_HEX} hex digits of SHA-256 of the key"),
            "linkage_table": (
                "written to a file the clinic named, outside this export; not part of it"
                if self.strict else None),
            "options": self.options(),
            "vocabulary": {
                f"{v.table}.{v.column}": {"vocabulary": v.vocabulary,
                                          "values_replaced_by_other": v.values_replaced,
                                          "rows_affected": v.rows_affected}
                for v in self.vocabulary},
            "tables": {
                name: {
                    "file": t.file, "rows_in": t.rows_in, "rows_rejected": t.rows_rejected,
                    "rows_excluded": t.rows_excluded, "rows_out": t.rows_out,
                    "reconciles": t.reconciles,
                    "unknown_columns_removed": t.unknown_columns_removed,
                    "columns": [{"column": c.column, "action": c.action, "output": c.output,
                                 "detail": c.detail} for c in t.columns],
                } for name, t in self.tables.items()},
            "dropped": {
                "count": len(self.dropped),
                "rows": [{"table": d.table, "key_column": d.key_column,
                          "pseudonym": d.pseudonym, "columns": list(d.columns),
                          "actions": list(d.actions)} for d in self.dropped]},
            "instruments": self.instruments,
            "notes": self.notes,
            "files": self.files,
        }

    def _date_text(self) -> str:
        if self.strict:
            return (f"the year only ({', '.join(C.YEAR_COLUMNS.values())}); `{C.SEQUENCE}` "
                    "gives the order of a child's assessments and of a goal's ratings")
        if self.no_dates:
            return "replaced by whole days since the child's referral (day 0)"
        return (f"shifted by a keyed per-child offset of {-DATE_SHIFT_BASE_DAYS} days "
                f"± up to {DATE_SHIFT_JITTER_WEEKS} weeks (whole weeks)")

    def to_markdown(self) -> str:
        if self.strict:
            mode = ("**strict** (HIPAA Safe Harbor). No key was used: IDs are random study "
                    "codes, new in every export. The table linking them to the clinic's IDs "
                    "was written to a file the clinic named; it is not part of this export "
                    "and stays with the clinic.")
            labels = "removed (not pseudonymised)."
        else:
            mode = ("**keyed** (a limited data set, or material for an expert determination; "
                    "**not** HIPAA Safe Harbor, since the pseudonyms are derived from the "
                    "clinic's IDs and the dates keep more than the year). Key fingerprint: "
                    f"`{self.key_fingerprint}` (first {FINGERPRINT_HEX} hex digits of SHA-256 "
                    "of the key; the key itself is not part of this export).")
            labels = ("kept as written." if self.keep_sites
                      else "replaced by keyed pseudonyms.")
        lines = [
            "# De-identified export", "",
            f"Made by sensoryprofile {__version__} (`{FORMAT}` version {FORMAT_VERSION}).", "",
            f"- Mode: {mode}",
            f"- Route: {ROUTES[self.mode]}.",
            f"- Dates: {self._date_text()}.",
            f"- Sites and therapists: {labels}",
            f"- Instruments: {', '.join(self.instruments) or '(none)'}.", "",
            "## Rows", "",
            "| table | rows in | rejected (not exported) | excluded | rows out | reconciles |",
            "|---|---:|---:|---:|---:|---|",
        ]
        for name, t in self.tables.items():
            lines.append(f"| {name} | {t.rows_in} | {t.rows_rejected} | {t.rows_excluded} | "
                         f"{t.rows_out} | {'yes' if t.reconciles else 'NO'} |")
        lines += ["", "## Controlled vocabularies", "",
                  "| column | vocabulary | values written as `other` | rows affected |",
                  "|---|---|---:|---:|"]
        for v in self.vocabulary:
            lines.append(f"| {v.table}.{v.column} | {v.vocabulary.replace('_', ' ')} | "
                         f"{v.values_replaced} | {v.rows_affected} |")
        lines += ["", "## Columns", ""]
        for t in self.tables.values():
            lines += [f"### {t.file}", "", "| column | action | written as | detail |",
                      "|---|---|---|---|"]
            for c in t.columns:
                lines.append(f"| `{c.column}` | {c.action} | "
                             f"{f'`{c.output}`' if c.output else '-'} | {c.detail} |")
            if t.unknown_columns_removed:
                lines.append(f"| ({t.unknown_columns_removed} other column(s)) | {REMOVED} | - "
                             "| not a column the toolkit knows; could hold anything |")
            lines.append("")
        lines += ["## Rows rejected by validation (not exported)", "",
                  f"{len(self.dropped)} row(s)."]
        if self.dropped:
            named = "study code" if self.strict else "pseudonym"
            lines += ["", f"| table | key | {named} | column(s) | action |",
                      "|---|---|---|---|---|"]
            for d in self.dropped:
                lines.append(f"| {d.table} | {d.key_column or '-'} | {d.pseudonym or '(none)'} | "
                             f"{', '.join(d.columns) or '-'} | {', '.join(d.actions)} |")
        lines += ["", "## Notes", ""]
        lines += [f"- {note}" for note in self.notes]
        return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------
# column policies
# ---------------------------------------------------------------------------
def _date_policy(column: str, no_dates: bool, strict: bool) -> ColumnPolicy:
    if strict:
        return ColumnPolicy(column, YEARS, C.YEAR_COLUMNS[column],
                            "the year only (Safe Harbor keeps no other element of a date)")
    if no_dates:
        return ColumnPolicy(column, DAYS, C.DAY_COLUMNS[column],
                            "whole days since the child's referral date (day 0)")
    return ColumnPolicy(column, SHIFTED, column, "keyed per-child offset; intervals kept")


def _label_policy(column: str, keep_sites: bool, strict: bool) -> ColumnPolicy:
    if strict:
        return ColumnPolicy(column, REMOVED, None,
                            "strict mode: a site places a child, a therapist is a person")
    if keep_sites:
        return ColumnPolicy(column, KEPT, column, "kept as written (keep_sites)")
    return ColumnPolicy(column, PSEUDONYMISED, column, f"keyed pseudonym '{PREFIXES[column]}…'")


def _id_policy(column: str, strict: bool) -> ColumnPolicy:
    if strict:
        return ColumnPolicy(column, CODED, column,
                            f"'{STUDY_PREFIXES[column]}' + {ID_HEX} random hex digits, new in "
                            "every export; the linkage table stays with the clinic")
    return ColumnPolicy(column, PSEUDONYMISED, column,
                        f"keyed pseudonym '{PREFIXES[column]}' + {ID_HEX} hex digits")


def _vocabulary_policy(column: str, vocabulary: str) -> ColumnPolicy:
    return ColumnPolicy(column, VOCABULARY, column,
                        f"terms of the dataset's {vocabulary.replace('_', ' ')} (defaults plus "
                        f"{SETTINGS_FILE}) in their own spelling; any other value is written "
                        f"'{OTHER}'")


def column_policies(*, no_dates: bool = False, keep_sites: bool = False, strict: bool = False
                    ) -> dict[str, list[ColumnPolicy]]:
    """What the export does to every column the toolkit knows, per table
    (item columns are one entry)."""
    removed_text = "free text: may name or describe the child"
    sequence = [ColumnPolicy(C.SEQUENCE, ADDED, C.SEQUENCE,
                             "1, 2, ... in date order (the dates hold the year only)")
                ] if strict else []
    if strict:
        rater = ("roles ({}) kept; any other value (a person) removed, the cell left blank"
                 .format(", ".join(sorted(RATER_ROLES))))
    else:
        rater = (f"roles ({', '.join(sorted(RATER_ROLES))}) kept; any other value (a person) "
                 f"becomes a keyed pseudonym '{PREFIXES[C.RATER]}…'")
    return {
        "children": [
            _id_policy(C.CHILD_ID, strict),
            ColumnPolicy(C.DATE_OF_BIRTH, REMOVED, None,
                         f"identifying; ages kept as {C.AGE_AT_REFERRAL_MONTHS} and assessments' "
                         f"{C.AGE_MONTHS}"),
            ColumnPolicy(C.AGE_AT_REFERRAL_MONTHS, ADDED, C.AGE_AT_REFERRAL_MONTHS,
                         f"completed months at referral ({AGE_CAP_MONTHS} = 90 years or older)"),
            ColumnPolicy(C.SEX, KEPT, C.SEX, "F, M, X or blank"),
            _vocabulary_policy(C.DIAGNOSES, "diagnoses"),
            _label_policy(C.SITE, keep_sites, strict),
            _label_policy(C.THERAPIST, keep_sites, strict),
            _date_policy(C.REFERRAL_DATE, no_dates, strict),
            _date_policy(C.DISCHARGE_DATE, no_dates, strict),
            ColumnPolicy(C.DISPLAY_NAME, REMOVED, None, "a name"),
        ],
        "assessments": [
            _id_policy(C.ASSESSMENT_ID, strict),
            _id_policy(C.CHILD_ID, strict),
            ColumnPolicy(C.INSTRUMENT, KEPT, C.INSTRUMENT, "instrument id"),
            _date_policy(C.DATE, no_dates, strict),
            *sequence,
            ColumnPolicy(C.AGE_MONTHS, ADDED, C.AGE_MONTHS,
                         "completed months at the assessment, from the date of birth; scoring "
                         f"uses it in place of the date of birth ({AGE_CAP_MONTHS} = 90 years or "
                         "older)"),
            ColumnPolicy(C.RESPONDENT, KEPT, C.RESPONDENT,
                         "blank filled with the instrument's own respondent"),
            ColumnPolicy("(item columns)", CANONICALISED, "(item columns)",
                         "the number of an on-scale answer; blank; or 'off-scale' for anything "
                         "else (scores the same); other instruments' items blanked"),
        ],
        "goals": [
            _id_policy(C.GOAL_ID, strict),
            _id_policy(C.CHILD_ID, strict),
            _date_policy(C.SET_DATE, no_dates, strict),
            _vocabulary_policy(C.DOMAIN, "goal_domains"),
            ColumnPolicy(C.DESCRIPTION, REMOVED, None, removed_text),
            ColumnPolicy(C.IMPORTANCE, KEPT, C.IMPORTANCE, "0-3"),
            ColumnPolicy(C.DIFFICULTY, KEPT, C.DIFFICULTY, "0-3"),
            ColumnPolicy(C.BASELINE_LEVEL, KEPT, C.BASELINE_LEVEL, "-1 or -2"),
            *[ColumnPolicy(col, REMOVED, None, removed_text) for col in C.LEVEL_TEXT_COLUMNS],
            _date_policy(C.TARGET_DATE, no_dates, strict),
        ],
        "goal_ratings": [
            _id_policy(C.GOAL_ID, strict),
            _date_policy(C.DATE, no_dates, strict),
            *sequence,
            ColumnPolicy(C.LEVEL, KEPT, C.LEVEL, "attainment level"),
            ColumnPolicy(C.RATER, REMOVED if strict else PSEUDONYMISED, C.RATER, rater),
            ColumnPolicy(C.NOTE, REMOVED, None, removed_text),
            ColumnPolicy(C.FAMILY_NOTE, REMOVED, None, removed_text),
        ],
    }


def export_notes(*, strict: bool, no_dates: bool, vocabulary: list[VocabularyCount]) -> list[str]:
    replaced = "; ".join(f"{v.table}.{v.column}: {v.values_replaced} value(s) in "
                         f"{v.rows_affected} row(s)" for v in vocabulary)
    notes = [
        ("Strict mode, for HIPAA Safe Harbor: names, dates of birth, free text, the clinic's "
         "IDs, sites, therapists and raters' names are removed; every date is its year only; "
         "IDs are random study codes derived from nothing about the child, and the linkage "
         "table stays with the clinic. Safe Harbor also requires that the clinic has no actual "
         "knowledge that what remains could identify a child: review rare combinations (an "
         "uncommon diagnosis, an age, a small clinic) before release."
         if strict else
         "Keyed mode: a limited data set (share it under a data use agreement) or material for "
         "an expert determination, NOT HIPAA Safe Harbor: the pseudonyms are derived from the "
         "clinic's IDs with the key, and the dates keep intervals (Safe Harbor allows neither). "
         "Names, dates of birth, free text and the clinic's IDs are removed. For Safe Harbor "
         "use strict mode (`sensoryprofile export --strict --linkage FILE`)."),
        f"Ages are whole completed months (every instrument's norms are in months); ages of 90 "
        f"years or more are written as {AGE_CAP_MONTHS} months ('90 or older'), moot for "
        "children.",
    ]
    if strict:
        notes.append(f"Dates are years only ({', '.join(C.YEAR_COLUMNS.values())}); "
                     f"`{C.SEQUENCE}` numbers a child's assessments and a goal's ratings in date "
                     "order. This export is a set of tables: score_assessments() scores it from "
                     "age_months, but load_dataset() (and the report notebooks) need dates or "
                     "days since referral, which Safe Harbor does not allow, so they do not "
                     "read it.")
    elif no_dates:
        notes.append("No calendar dates: every date is whole days since the child's referral "
                     "(day 0).")
    else:
        notes.append(f"Dates are shifted about 200 years back ({-DATE_SHIFT_BASE_DAYS} days, "
                     f"plus or minus up to {DATE_SHIFT_JITTER_WEEKS} keyed weeks per child): "
                     "intervals and weekdays are kept and no shifted date can coincide with a "
                     "real one; the real year is within one of the shifted year plus 200.")
    notes += [
        "Diagnoses and goal domains are written only as terms of the dataset's controlled "
        f"vocabulary (the defaults plus {SETTINGS_FILE}); any other value, including markup, "
        f"formulas and free text, is written '{OTHER}' ({replaced}). A rare term can still "
        "single a child out in combination with age and sex: add to the vocabulary only terms "
        "you are content to release.",
        ("IDs are random study codes, new in every export: two strict exports do not link "
         "without the clinic's linkage tables." if strict else
         "Pseudonyms are keyed (HMAC-SHA256): the same key gives the same pseudonyms in every "
         "export; without the key they cannot be reversed. Keep the key apart from exports."),
        "Rows are ordered by pseudonym, not in the clinic's order.",
        "Ages come from the dates of birth: assessments carry age_months, which scoring uses "
        "when no date of birth is given.",
        "Rejected rows are listed by " + ("study code" if strict else "pseudonym")
        + " and column only; `sensoryprofile validate` on the original data gives the rules "
        "they broke.",
    ]
    return notes
