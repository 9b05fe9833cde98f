"""A first import mapping drafted from a REDCap data dictionary.

:func:`draft_mapping` matches each form to an instrument by its fields (field
name = item id, or field label = item text), finds the child's form, the
goals form and the ratings form by the words in their field names and
labels, and lists every field it could not place. The draft is a starting
point to read and correct, not a guess to trust: :func:`mapping_yaml` writes
it with the unmatched fields as comments.
"""

from __future__ import annotations

import re

import yaml

from sensoryprofile import columns as C
from sensoryprofile.data.redcap_dictionary import (
    MAPPING_FORMAT,
    DataDictionary,
    Field,
)
from sensoryprofile.instruments import Instrument

#: Words in a field's name (or label) that suggest each dataset column.
CHILD_WORDS = {
    C.DATE_OF_BIRTH: ("dob", "birth"),
    C.SEX: ("sex", "gender"),
    C.DIAGNOSES: ("diagnos",),
    C.SITE: ("site", "clinic", "location"),
    C.THERAPIST: ("therapist", "clinician"),
    C.REFERRAL_DATE: ("referr",),
    C.DISCHARGE_DATE: ("discharg",),
    C.DISPLAY_NAME: ("name",),
}
GOAL_WORDS = {
    C.SET_DATE: ("set_date", "date_set", "start_date"),
    C.DOMAIN: ("domain", "area"),
    C.DESCRIPTION: ("description", "describe", "goal_text"),
    C.IMPORTANCE: ("importance",),
    C.DIFFICULTY: ("difficulty",),
    C.BASELINE_LEVEL: ("baseline",),
    "level_-2": ("level_m2", "minus_2", "minus2"),
    "level_-1": ("level_m1", "minus_1", "minus1"),
    "level_0": ("level_0", "level0", "expected"),
    "level_+1": ("level_p1", "plus_1", "plus1"),
    "level_+2": ("level_p2", "plus_2", "plus2"),
    C.TARGET_DATE: ("target", "due"),
}
RATING_WORDS = {
    # before the note: "note" is in "family_note" too
    C.FAMILY_NOTE: ("family_note", "for_the_family"),
    C.DATE: ("date",),
    C.LEVEL: ("level", "attain", "score"),
    C.RATER: ("rater", "rated_by"),
    C.NOTE: ("note", "comment"),
}
RESPONDENT_WORDS = ("respondent", "informant", "completed_by")
#: A form is an instrument's when at least this share of the instrument's items match.
MIN_ITEM_SHARE = 0.5


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", str(text)).strip().casefold().replace("-", "_")


def _item_matches(fields: list[Field], inst: Instrument) -> dict[str, str]:
    """item id -> field, by name first, then by label = item text."""
    by_name = {_norm(f.name): f.name for f in fields}
    by_label = {_norm(f.label): f.name for f in fields if f.label}
    out: dict[str, str] = {}
    taken: set[str] = set()
    for item in inst.items:
        name = by_name.get(_norm(item.id))
        if name is None and item.text:
            name = by_label.get(_norm(item.text))
        if name is not None and name not in taken:
            out[item.id] = name
            taken.add(name)
    return out


def _by_words(fields: list[Field], words: dict, taken: set[str]) -> dict[str, str]:
    """column -> field: the first free field whose name (then label) holds a word."""
    out: dict[str, str] = {}
    for column, keys in words.items():
        for attr in ("name", "label"):
            hit = next((f.name for f in fields if f.name not in taken
                        and any(k in _norm(getattr(f, attr)).replace(" ", "_") for k in keys)),
                       None)
            if hit is not None:
                out[column] = hit
                taken.add(hit)
                break
    return out


def draft_mapping(dictionary: DataDictionary, instruments: list[Instrument], *,
                  events: list[str] | None = None) -> tuple[dict, list[str]]:
    """A first mapping from a dictionary (and the events of a records file).

    Returns
    -------
    (dict, list of str)
        The mapping as plain data (the format of :func:`load_mapping`), and one
        line per field it could not place (``form.field: label``) and per
        instrument form whose items it did not all find.
    """
    forms = dictionary.forms
    taken: set[str] = {dictionary.record_id}
    assessments = []
    unplaced_items: list[str] = []
    assigned: set[str] = set()
    for form in forms:
        fields = [f for f in dictionary.form_fields(form) if f.name not in taken]
        best, best_items = None, {}
        for inst in instruments:
            items = _item_matches(fields, inst)
            if len(items) >= MIN_ITEM_SHARE * len(inst.items) and len(items) > len(best_items):
                best, best_items = inst, items
        if best is None:
            continue
        taken.update(best_items.values())
        dates = [f.name for f in fields if f.is_date and f.name not in taken]
        entry: dict = {"form": form, "instrument": best.id}
        if dates:
            entry["date"] = dates[0]
            taken.add(dates[0])
        resp = _by_words(fields, {C.RESPONDENT: RESPONDENT_WORDS}, taken)
        if resp:
            entry["respondent"] = resp[C.RESPONDENT]
        entry["items"] = best_items
        assessments.append(entry)
        assigned.add(form)
        missing = [i for i in best.item_ids if i not in best_items]
        if missing:
            shown = ", ".join(missing[:10]) + (f" and {len(missing) - 10} more"
                                               if len(missing) > 10 else "")
            unplaced_items.append(f"{form}: {len(missing)} item(s) of {best.id} with no "
                                  f"field: {shown}")

    def best_form(words, *, prefer: tuple[str, ...] = ()):
        scored = []
        for form in forms:
            if form in assigned:
                continue
            fields = dictionary.form_fields(form)
            hits = _by_words(fields, words, set(taken))
            bonus = 2 if any(p in form for p in prefer) else 0
            scored.append((len(hits) + bonus, -forms.index(form), form))
        scored.sort(reverse=True)
        return scored[0][2] if scored and scored[0][0] >= 2 else None

    data: dict = {"format": MAPPING_FORMAT, "record_id": dictionary.record_id,
                  "child_id": {"prefix": "", "pad": 0}}
    if events:
        data["events"] = dict.fromkeys(events)
    ratings_form = best_form(RATING_WORDS, prefer=("review", "rating"))
    if ratings_form:
        assigned.add(ratings_form)
    goals_form = best_form(GOAL_WORDS, prefer=("goal",))
    if goals_form:
        assigned.add(goals_form)
    children_form = best_form(CHILD_WORDS) or forms[0]
    assigned.add(children_form)
    child_fields = _by_words(dictionary.form_fields(children_form), CHILD_WORDS, taken)
    data["children"] = {"form": children_form, "fields": child_fields}
    data["assessments"] = assessments
    if goals_form:
        data["goals"] = {"form": goals_form, "fields": _by_words(
            dictionary.form_fields(goals_form), GOAL_WORDS, taken)}
    if ratings_form and goals_form:
        fields = dictionary.form_fields(ratings_form)
        goal = _by_words(fields, {"goal": ("goal",)}, taken).get("goal")
        ratings = {"form": ratings_form}
        if goal:
            ratings["goal"] = goal
        ratings["fields"] = _by_words(fields, RATING_WORDS, taken)
        data["goal_ratings"] = ratings
    unmatched = [f"{f.form}.{f.name}: {f.label[:60]}" for f in dictionary.fields.values()
                 if f.name not in taken and f.type != "descriptive"]
    return data, unmatched + unplaced_items


def mapping_yaml(data: dict, unmatched: list[str] | None = None, *,
                 header: str | None = None) -> str:
    """A mapping as YAML, with a header and the unmatched fields as comments."""
    lines = [f"# {line}" if line else "#" for line in (header or (
        "sensoryprofile REDCap import mapping (format 1): docs/redcap-import.md.\n"
        "Drafted from the data dictionary: read it, correct it, then import with\n"
        "  sensoryprofile import redcap RECORDS --dictionary DICT --mapping THIS --out DIR"
    )).splitlines()]
    text = "\n".join(lines) + "\n"
    text += yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)
    if unmatched:
        text += ("\n# Fields the draft could not place (map them above, or leave them: the\n"
                 "# import lists every field it does not use):\n")
        text += "".join(f"#   {line}\n" for line in unmatched)
    return text
