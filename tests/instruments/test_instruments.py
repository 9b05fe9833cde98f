"""Instrument definitions: the shipped demo forms, the loader and every loader message.

Bad definitions are built by loading a shipped YAML as plain data, changing one
thing, and checking the exact message(s) ``check_definition`` gives.
"""

from __future__ import annotations

import copy
import shutil
import warnings
from pathlib import Path

import pytest
import yaml

import sensoryprofile.instruments as instruments_pkg
from sensoryprofile.errors import InstrumentError
from sensoryprofile.instruments import (
    CutTable,
    Instrument,
    InstrumentWarning,
    MeanSD,
    check_definition,
    check_instrument,
    instrument_from_dict,
    list_instruments,
    load_instrument,
    load_instrument_file,
    shipped_instrument_ids,
)
from tests.paths import FIXTURES

PACKAGE_DIR = Path(instruments_pkg.__file__).parent
CHECKS = FIXTURES / "checks"  # files with problems or warnings, kept out of FIXTURES


def shipped_data(name: str) -> dict:
    """A shipped definition file as plain data (a fresh copy every call)."""
    return yaml.safe_load((PACKAGE_DIR / f"{name}.yaml").read_text(encoding="utf-8"))


CHILD_DATA = shipped_data("demo-child")
TODDLER_DATA = shipped_data("demo-toddler")


def errors_after(change, base=CHILD_DATA, source="demo-child.yaml"):
    """Errors (and warnings) of ``base`` after ``change(data)`` mutates a deep copy."""
    data = copy.deepcopy(base)
    change(data)
    result = check_definition(data, source)
    return result.errors, result.warnings


# ---------------------------------------------------------------------------
# the shipped instruments
# ---------------------------------------------------------------------------
def test_shipped_ids():
    assert shipped_instrument_ids() == ["demo-child", "demo-toddler"]
    assert [i.id for i in list_instruments()] == ["demo-child", "demo-toddler"]


@pytest.mark.parametrize("name", ["demo-child", "demo-toddler"])
def test_shipped_files_check_clean(name):
    result = check_instrument(PACKAGE_DIR / f"{name}.yaml")
    assert result.errors == []
    assert result.warnings == []
    assert result.ok
    assert result.instrument.id == name


def test_demo_child_structure():
    inst = load_instrument("demo-child")
    assert (inst.age_min, inst.age_max) == (36, 179)
    assert inst.clinical_use is False
    assert inst.direction == "higher_more"
    assert len(inst.items) == 80
    assert inst.response_scale.na_codes == (0,)
    assert inst.response_scale.na_counts_as == 0  # SP2-style: "does not apply" counts 0
    assert inst.response_scale.answer_values == (1, 2, 3, 4, 5)
    assert inst.response_scale.allowed_values == (0, 1, 2, 3, 4, 5)
    sizes = {s.id: len(s.items) for s in inst.scores}
    assert sizes == {"seeking": 15, "avoiding": 15, "sensitivity": 15, "registration": 15,
                     "auditory": 10, "visual": 10, "touch": 12, "movement": 10,
                     "body_position": 8, "oral": 10, "conduct": 6, "social_emotional": 8,
                     "attention": 6}
    assert inst.score("seeking").items[:4] == ("dc_001", "dc_005", "dc_009", "dc_012")
    assert all(s.max_missing == 2 for s in inst.quadrant_scores)
    assert inst.score("auditory").max_missing == 1
    assert [b.label for b in inst.norms] == ["36-71 months", "72-119 months", "120-179 months"]
    assert inst.norms[0].scores["seeking"] == MeanSD(mean=38.2, sd=9.0)
    comp = inst.compiled
    j = inst.score_ids.index("seeking")
    # 15 items: 15 x 0 (does not apply counts 0) = 0 .. 15 x 5 = 75
    assert (comp.min_possible[j], comp.max_possible[j]) == (0, 75)
    j = inst.score_ids.index("conduct")
    assert (comp.min_possible[j], comp.max_possible[j]) == (0, 30)  # 6 x 5 = 30


def test_demo_toddler_structure():
    inst = load_instrument("demo-toddler")
    assert (inst.age_min, inst.age_max) == (7, 35)
    assert inst.direction == "higher_less"
    assert all(s.direction == "higher_less" for s in inst.scores)
    assert len(inst.items) == 32
    assert inst.response_scale.na_codes == (9,)
    assert inst.response_scale.na_counts_as is None  # "exclude"
    assert inst.response_scale.answer_values == (1, 2, 3, 4, 5)
    assert inst.score("seeking").items == ("dt_03", "dt_08", "dt_12", "dt_17", "dt_21",
                                           "dt_23", "dt_27", "dt_29")
    assert inst.norms[-1].scores == {}
    assert inst.norms[-1].label == "31-35 months"
    cuts = inst.norms[0].scores["seeking"]
    assert isinstance(cuts, CutTable)
    assert cuts.ranges["much_more"] == (8, 12)
    comp = inst.compiled
    j = inst.score_ids.index("seeking")
    # 8 items, "does not apply" excluded: 8 x 1 = 8 .. 8 x 5 = 40
    assert (comp.min_possible[j], comp.max_possible[j]) == (8, 40)
    assert comp.reversed.tolist() == [True] * 10


def test_reliability_sem_and_sdiff():
    rel = load_instrument("demo-child").reliability["seeking"]
    assert (rel.r, rel.kind, rel.sd) == (0.88, "test-retest", 8.5)
    # SEM = 8.5 * sqrt(1 - 0.88) = 8.5 * 0.346410 = 2.944486
    assert rel.sem == pytest.approx(2.944486, abs=1e-6)
    # S_diff = sqrt(2) * 2.944486 = 4.164132
    assert rel.s_diff == pytest.approx(4.164132, abs=1e-6)


def test_band_for_age_edges():
    inst = load_instrument("demo-child")
    assert inst.band_for_age(35) is None
    assert inst.band_for_age(36).label == "36-71 months"
    assert inst.band_for_age(71).label == "36-71 months"
    assert inst.band_for_age(72).label == "72-119 months"
    assert inst.band_for_age(179).label == "120-179 months"
    assert inst.band_for_age(180) is None


# ---------------------------------------------------------------------------
# loading by id, path, folder
# ---------------------------------------------------------------------------
def test_unknown_instrument_id_message():
    with pytest.raises(InstrumentError) as info:
        load_instrument("demo-adult")
    assert str(info.value) == (
        "unknown instrument 'demo-adult': the shipped instruments are demo-child, "
        "demo-toddler, and no definition file declares it in the clinic's folders (none); "
        "register the form's definition file in the dataset's instruments/ folder, with "
        "--instruments DIR or in SENSORYPROFILE_INSTRUMENTS")


def test_missing_definition_file_message(tmp_path):
    missing = tmp_path / "nope.yaml"
    with pytest.raises(InstrumentError) as info:
        load_instrument(missing)
    assert str(info.value) == f"{missing}: no such instrument definition file"


def test_load_instrument_passes_an_instrument_through():
    inst = load_instrument("demo-child")
    assert load_instrument(inst) is inst


def test_load_by_path_and_by_id_in_search_dir(tmp_path):
    by_path = load_instrument(FIXTURES / "tiny-reverse.yaml")
    assert by_path.id == "tiny-reverse"
    assert by_path.source == str(FIXTURES / "tiny-reverse.yaml")
    forms = tmp_path / "instruments"
    forms.mkdir()
    # a file whose name differs from its id is still found by id
    shutil.copy(FIXTURES / "tiny-reverse.yaml", forms / "clinic-form.yaml")
    by_id = load_instrument("tiny-reverse", search_dirs=(forms,))
    assert by_id == by_path
    by_stem = load_instrument("clinic-form", search_dirs=(forms,))
    assert by_stem.id == "tiny-reverse"


def test_shipped_id_is_found_past_a_folder_of_other_forms(tmp_path):
    forms = tmp_path / "instruments"
    forms.mkdir()
    shutil.copy(FIXTURES / "tiny-reverse.yaml", forms / "tiny-reverse.yaml")
    # a shipped id is still found when the folder holds only other (valid) forms
    assert load_instrument("demo-toddler", search_dirs=(forms,)) == load_instrument(
        "demo-toddler")


def test_unrelated_broken_file_does_not_block_a_shipped_id(tmp_path):
    forms = tmp_path / "instruments"
    forms.mkdir()
    shutil.copy(CHECKS / "broken-three.yaml", forms / "draft.yaml")
    assert load_instrument("demo-toddler", search_dirs=(forms,)) == load_instrument(
        "demo-toddler")


def test_fixture_reverse_form_model():
    inst = load_instrument(FIXTURES / "tiny-reverse.yaml")
    assert inst.score("total").items == ("tr_1", "tr_2", "tr_3", "tr_4", "tr_5", "tr_6")
    assert inst.score("total").selector is None
    assert inst.score("seeking").selector == ("quadrant", "seeking")
    assert inst.score("avoiding").prorate is False
    assert inst.score("seeking").max_missing == 0  # the default
    assert inst.labels["typical"] == "Just Like the Majority of Others"  # default labels
    assert inst.z_cuts == (1.0, 2.0)


def test_to_dict_round_trip_through_yaml(tmp_path):
    for inst in [*list_instruments(), load_instrument(FIXTURES / "tiny-reverse.yaml")]:
        text = yaml.safe_dump(inst.to_dict(), sort_keys=False, allow_unicode=True)
        again = instrument_from_dict(yaml.safe_load(text), source="dumped")
        assert again == inst
        assert again.item_ids == inst.item_ids
        assert again.score_ids == inst.score_ids
        path = tmp_path / f"{inst.id}.yaml"
        path.write_text(text, encoding="utf-8")
        assert load_instrument_file(path) == inst


def test_equality_sees_a_changed_norm():
    data = copy.deepcopy(CHILD_DATA)
    data["norms"][0]["scores"]["seeking"]["mean"] = 38.3
    assert instrument_from_dict(data) != load_instrument("demo-child")


# ---------------------------------------------------------------------------
# loader messages: one problem each, exact text
# ---------------------------------------------------------------------------
def _set(path, value):
    """A change that sets data[path...] = value."""
    def change(data):
        target = data
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value
    return change


def _pop(*path):
    def change(data):
        target = data
        for key in path[:-1]:
            target = target[key]
        target.pop(path[-1])
    return change


CHILD_CASES = [
    ("quadrant typo", _set(["items", 12, "quadrant"], "seekng"),
     "demo-child.yaml: items[12].quadrant: 'seekng' is not one of seeking, avoiding, "
     "sensitivity, registration"),
    ("missing required field", _pop("name"),
     "demo-child.yaml: (top level): missing required field 'name'"),
    ("unknown top-level field", _set(["colour"], "red"),
     "demo-child.yaml: (top level): unknown field 'colour' (known fields: age_range, "
     "age_range_months, age_unit, classification, clinical_use, description, direction, fhir, "
     "format, id, items, licence, name, norms, reliability, respondent, respondents, "
     "response_scale, scores, sections, version)"),
    ("unknown item field", _set(["items", 0, "weight"], 2),
     "demo-child.yaml: items[0]: unknown field 'weight' (known fields: id, link_id, quadrant, "
     "reverse, section, text)"),
    ("bad instrument id", _set(["id"], "demo child"),
     "demo-child.yaml: id: 'demo child' is not a valid id: use 1 to 64 letters, digits, '_' "
     "or '-'"),
    ("bad item id", _set(["items", 3, "id"], "dc/004"),
     "demo-child.yaml: items[3].id: 'dc/004' is not a valid id: use 1 to 64 letters, digits, "
     "'_' or '-'"),
    ("id too long", _set(["id"], "x" * 65),
     f"demo-child.yaml: id: {'x' * 65!r} is not a valid id: use 1 to 64 letters, digits, '_' "
     "or '-'"),
    ("score names an unknown item",
     lambda d: d["scores"].append({"id": "total", "name": "Total", "kind": "composite",
                                   "items": ["dc_001", "dc_xyz"]}),
     "demo-child.yaml: scores[13].items[1]: unknown item 'dc_xyz'"),
    ("overlapping age bands", _set(["norms", 1, "ages"], [70, 119]),
     "demo-child.yaml: norms[1].ages: band [70, 119] overlaps the previous band [36, 71]"),
    ("gap between age bands", _set(["norms", 1, "ages"], [74, 119]),
     "demo-child.yaml: norms[1].ages: gap between the previous band [36, 71] and [74, 119]: "
     "ages 72..73 months have no band"),
    ("first band starts late", _set(["norms", 0, "ages"], [40, 71]),
     "demo-child.yaml: norms[0].ages: the first band starts at 40 months but the instrument's "
     "age range starts at 36"),
    ("last band ends early", _set(["norms", 2, "ages"], [120, 170]),
     "demo-child.yaml: norms[2].ages: the last band ends at 170 months but the instrument's age "
     "range ends at 179"),
    ("unknown score in norms", _set(["norms", 0, "scores", "seekng"], {"mean": 1, "sd": 1}),
     "demo-child.yaml: norms[0].scores.seekng: unknown score 'seekng'"),
    ("unknown score in reliability",
     _set(["reliability", "total"], {"r": 0.8, "kind": "alpha", "sd": 3}),
     "demo-child.yaml: reliability.total: unknown score 'total'"),
    ("format", _set(["format"], 2), "demo-child.yaml: format: must be 1, got 2"),
    ("respondent", _set(["respondent"], "parent"),
     "demo-child.yaml: respondent: 'parent' is not one of caregiver, teacher, self, clinician"),
    ("sd zero", _set(["norms", 0, "scores", "seeking"], {"mean": 38.2, "sd": 0}),
     "demo-child.yaml: norms[0].scores.seeking.sd: 0 must be greater than 0"),
    ("mean without sd", _set(["norms", 0, "scores", "seeking"], {"mean": 38.2}),
     "demo-child.yaml: norms[0].scores.seeking: mean/SD norms need both 'mean' and 'sd'"),
    ("empty norm entry", _set(["norms", 0, "scores", "seeking"], {}),
     "demo-child.yaml: norms[0].scores.seeking: give mean and sd, cuts or percentiles (or leave "
     "the score out of the band)"),
    ("counts_as", _set(["response_scale", "not_applicable", "counts_as"], "skip"),
     "demo-child.yaml: response_scale.not_applicable.counts_as: must be a number or 'exclude', "
     "got 'skip'"),
    ("na code not on the scale", _set(["response_scale", "not_applicable", "codes"], [7]),
     "demo-child.yaml: response_scale.not_applicable.codes[0]: 7 is not one of the scale's "
     "values [0, 1, 2, 3, 4, 5]"),
    ("value used twice", _set(["response_scale", "values", "Always"], 5),
     "demo-child.yaml: response_scale.values.Always: value 5 is used by more than one label"),
    ("z cuts reversed", _set(["classification", "z_cuts"], [2.0, 1.0]),
     "demo-child.yaml: classification.z_cuts: the first cut must be below the second, got "
     "[2.0, 1.0]"),
    ("item in an unknown section", _set(["items", 0, "section"], "smell"),
     "demo-child.yaml: items[0].section: 'smell' is not one of attention, auditory, "
     "body_position, conduct, movement, oral, social_emotional, touch, visual"),
    ("item id used twice", _set(["items", 1, "id"], "dc_001"),
     "demo-child.yaml: items[1].id: item id 'dc_001' is used twice"),
    # the optional FHIR keys (issue #15)
    ("linkId used twice", _set(["items", 1, "link_id"], "dc_001"),
     "demo-child.yaml: items[1].link_id: linkId 'dc_001' is already the linkId of item "
     "'dc_001'"),
    ("linkId with a space at the end", _set(["items", 0, "link_id"], "q1 "),
     "demo-child.yaml: items[0].link_id: 'q1 ' is not a valid linkId: no spaces at either end"),
    ("questionnaire not a canonical URL", _set(["fhir", "questionnaire"], "demo child|1.0"),
     "demo-child.yaml: fhir.questionnaire: 'demo child|1.0' is not a canonical URL: an "
     "absolute URI such as https://example.org/fhir/Questionnaire/my-form, without "
     "'|version'"),
    ("unknown fhir field", _set(["fhir", "version"], "4.0.1"),
     "demo-child.yaml: fhir: unknown field 'version' (known fields: questionnaire)"),
    ("two item selectors", _set(["scores", 0, "items"], ["dc_001"]),
     "demo-child.yaml: scores[0]: give exactly one of 'items', 'quadrant' or 'section' (got "
     "items, quadrant)"),
    ("max_missing allows every item", _set(["scores", 10, "missing"], {"max_missing": 6}),
     "demo-child.yaml: scores[10].missing.max_missing: 6 would allow every one of the score's "
     "6 items to be missing"),
]


@pytest.mark.parametrize(("change", "expected"),
                         [pytest.param(c, e, id=name) for name, c, e in CHILD_CASES])
def test_one_problem_exact_message(change, expected):
    errors, warns = errors_after(change)
    assert errors == [expected]
    assert warns == []


def test_reversed_age_range_lists_range_and_band_edges():
    errors, _ = errors_after(_set(["age_range_months"], [179, 36]))
    assert errors == [
        "demo-child.yaml: age_range_months: low end 179 is above high end 36",
        "demo-child.yaml: norms[0].ages: the first band starts at 36 months but the "
        "instrument's age range starts at 179",
        "demo-child.yaml: norms[2].ages: the last band ends at 179 months but the instrument's "
        "age range ends at 36",
    ]


def test_unused_item_is_a_warning_not_an_error():
    errors, warns = errors_after(lambda d: d["items"].append({"id": "dc_999"}))
    assert errors == []
    # the new item is the 81st: index 80
    assert warns == ["demo-child.yaml: items[80]: item 'dc_999' is in no score and no section: "
                     "it is collected but never used"]


def test_item_in_a_section_only_is_not_warned():
    # behavioural items (dc_061..dc_080) carry a section but no quadrant: no warning
    errors, warns = errors_after(
        lambda d: d["items"].append({"id": "dc_998", "section": "conduct"}))
    assert errors == []
    assert warns == []


def test_unused_item_warning_when_loading_a_file():
    with pytest.warns(InstrumentWarning, match=r"tiny-more.yaml: items\[3\]: item 'tm_4' is in "
                      r"no score and no section: it is collected but never used"):
        inst = load_instrument_file(CHECKS / "tiny-more.yaml")
    assert inst.id == "tiny-more"


def test_shipped_files_load_without_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        load_instrument_file(PACKAGE_DIR / "demo-child.yaml")
        load_instrument_file(PACKAGE_DIR / "demo-toddler.yaml")


def test_two_missing_required_fields_are_not_listed_twice():
    errors, _ = errors_after(lambda d: (d.pop("licence"), d.pop("version")))
    assert len(errors) == len(set(errors)), errors
    assert any("'version'" in e for e in errors)
    assert any("'licence'" in e for e in errors)


# ---------------------------------------------------------------------------
# cut tables (demo-toddler is higher_less: much_more holds the lowest raws)
# ---------------------------------------------------------------------------
def _toddler_cuts(**ranges):
    def change(data):
        data["norms"][0]["scores"]["seeking"]["cuts"].update(ranges)
    return change


TODDLER_CUT_CASES = [
    ("not monotone",
     _set(["norms", 0, "scores", "seeking", "cuts"],
          {"much_less": [8, 12], "less": [13, 17], "typical": [18, 30], "more": [31, 35],
           "much_more": [36, 40]}),
     "demo-toddler.yaml: norms[0].scores.seeking.cuts: ranges are not monotone for a "
     "higher_less score: 'more' [31, 35] must lie above 'much_more' [36, 40]"),
    ("overlapping", _toddler_cuts(more=[12, 17]),
     "demo-toddler.yaml: norms[0].scores.seeking.cuts: band 7-12 months, score seeking: ranges "
     "'much_more' [8, 12] and 'more' [12, 17] overlap: raw scores 12..12 are in both"),
    ("gapped", _toddler_cuts(more=[14, 17]),
     "demo-toddler.yaml: norms[0].scores.seeking.cuts: band 7-12 months, score seeking: gap "
     "between 'much_more' [8, 12] and 'more' [14, 17]: raw scores 13..13 have no "
     "classification"),
    ("four ranges", _pop("norms", 0, "scores", "seeking", "cuts", "less"),
     "demo-toddler.yaml: norms[0].scores.seeking.cuts: has 4 of the 5 ranges; missing: less"),
    ("unknown range name", _set(["norms", 0, "scores", "seeking", "cuts", "extreme"], [1, 2]),
     "demo-toddler.yaml: norms[0].scores.seeking.cuts.extreme: 'extreme' is not one of "
     "much_less, less, typical, more, much_more"),
    ("low above high", _toddler_cuts(typical=[30, 18]),
     "demo-toddler.yaml: norms[0].scores.seeking.cuts.typical: low end 30 is above high end 18"),
    ("cuts and mean", _set(["norms", 0, "scores", "seeking", "mean"], 20),
     "demo-toddler.yaml: norms[0].scores.seeking: give one kind of norms (mean and sd, cuts, or percentiles), not mean/sd and cuts"),
]


@pytest.mark.parametrize(("change", "expected"),
                         [pytest.param(c, e, id=name) for name, c, e in TODDLER_CUT_CASES])
def test_cut_table_problem_exact_message(change, expected):
    errors, _ = errors_after(change, TODDLER_DATA, "demo-toddler.yaml")
    assert errors == [expected]


def test_cut_table_with_three_ranges_names_both_missing():
    def change(data):
        cuts = data["norms"][0]["scores"]["seeking"]["cuts"]
        del cuts["less"], cuts["much_more"]
    errors, _ = errors_after(change, TODDLER_DATA, "demo-toddler.yaml")
    assert errors == ["demo-toddler.yaml: norms[0].scores.seeking.cuts: has 3 of the 5 "
                      "ranges; missing: less, much_more"]


def test_higher_more_cut_table_runs_upwards():
    good = {"much_less": [0, 20], "less": [21, 28], "typical": [29, 47], "more": [48, 56],
            "much_more": [57, 75]}
    errors, _ = errors_after(_set(["norms", 0, "scores", "seeking"], {"cuts": good}))
    assert errors == []
    backwards = {"much_more": [0, 20], "more": [21, 28], "typical": [29, 47], "less": [48, 56],
                 "much_less": [57, 75]}
    errors, _ = errors_after(_set(["norms", 0, "scores", "seeking"], {"cuts": backwards}))
    assert errors == ["demo-child.yaml: norms[0].scores.seeking.cuts: ranges are not monotone "
                      "for a higher_more score: 'less' [48, 56] must lie above 'much_less' "
                      "[57, 75]"]


# ---------------------------------------------------------------------------
# several problems, files, YAML errors
# ---------------------------------------------------------------------------
def test_several_problems_are_all_listed():
    def change(data):
        data.pop("name")                                       # 1
        data["items"][12]["quadrant"] = "seekng"               # 2
        data["norms"][1]["ages"] = [74, 119]                   # 3
        data["reliability"]["total"] = {"r": 0.5, "kind": "alpha", "sd": 1}  # 4
    errors, _ = errors_after(change)
    assert len(errors) == 4
    assert errors == [
        "demo-child.yaml: (top level): missing required field 'name'",
        "demo-child.yaml: items[12].quadrant: 'seekng' is not one of seeking, avoiding, "
        "sensitivity, registration",
        "demo-child.yaml: norms[1].ages: gap between the previous band [36, 71] and [74, 119]: "
        "ages 72..73 months have no band",
        "demo-child.yaml: reliability.total: unknown score 'total'",
    ]


BROKEN_THREE = [
    "broken-three.yaml: items[1].quadrant: 'seekng' is not one of seeking, avoiding, "
    "sensitivity, registration",
    "broken-three.yaml: norms[1].ages: gap between the previous band [12, 35] and [37, 59]: "
    "ages 36..36 months have no band",
    "broken-three.yaml: reliability.totl: unknown score 'totl'",
]


def test_check_instrument_lists_every_problem_of_a_file():
    result = check_instrument(CHECKS / "broken-three.yaml")
    assert not result.ok
    assert result.instrument is None
    assert result.errors == BROKEN_THREE


def test_load_instrument_file_raises_with_all_problems():
    with pytest.raises(InstrumentError) as info:
        load_instrument_file(CHECKS / "broken-three.yaml")
    assert info.value.problems == BROKEN_THREE
    lines = str(info.value).splitlines()
    assert lines[0] == "broken-three.yaml: invalid instrument definition (3 problem(s))"
    assert lines[1:] == [f"  {p}" for p in BROKEN_THREE]


def test_instrument_from_dict_raises_with_problems():
    data = copy.deepcopy(CHILD_DATA)
    data["items"][12]["quadrant"] = "seekng"
    with pytest.raises(InstrumentError) as info:
        instrument_from_dict(data, source="demo-child.yaml")
    assert info.value.problems == [
        "demo-child.yaml: items[12].quadrant: 'seekng' is not one of seeking, avoiding, "
        "sensitivity, registration"]


def test_check_definition_names_the_file_not_its_folder():
    data = copy.deepcopy(CHILD_DATA)
    data["format"] = 2
    result = check_definition(data, "/clinic/forms/my-form.yaml")
    assert result.errors == ["my-form.yaml: format: must be 1, got 2"]


def test_duplicate_yaml_key(tmp_path):
    path = tmp_path / "dup.yaml"
    path.write_text("format: 1\nid: x\nname: a\nid: y\n", encoding="utf-8")
    with pytest.raises(InstrumentError) as info:
        check_instrument(path)
    assert str(info.value) == "dup.yaml: line 4: key 'id' is given twice"


def test_duplicate_key_inside_the_shipped_file(tmp_path):
    text = (PACKAGE_DIR / "demo-child.yaml").read_text(encoding="utf-8")
    text = text.replace("version: \"1.0\"\n", "version: \"1.0\"\nversion: \"1.1\"\n", 1)
    path = tmp_path / "demo-child.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InstrumentError, match=r"^demo-child\.yaml: line \d+: key 'version' is "
                       r"given twice$"):
        load_instrument_file(path)


def test_invalid_yaml(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("format: 1\nid: [x\nname: a\n", encoding="utf-8")
    with pytest.raises(InstrumentError) as info:
        check_instrument(path)
    assert str(info.value) == ("bad.yaml: not valid YAML: line 3 column 5: expected ',' or "
                               "']', but got ':'")


def test_yaml_that_is_not_a_mapping(tmp_path):
    path = tmp_path / "list.yaml"
    path.write_text("- a\n- b\n", encoding="utf-8")
    assert check_instrument(path).errors == [
        "list.yaml: the file must hold a mapping of fields (id, name, items, ...), got list"]


def test_valid_fixture_checks_clean():
    result = check_instrument(FIXTURES / "tiny-reverse.yaml")
    assert result.errors == [] and result.warnings == []
    assert isinstance(result.instrument, Instrument)


def test_fhir_keys_are_optional_and_kept():
    """Every existing definition stays valid without the FHIR keys; with them
    the model and to_dict() carry them (issue #15)."""
    data = copy.deepcopy(CHILD_DATA)
    data.pop("fhir")
    plain = check_definition(data, "plain.yaml").instrument
    assert plain.fhir_questionnaire is None
    assert plain.questionnaire_url == "urn:sensoryprofile:questionnaire:demo-child"
    assert plain.items[0].fhir_link_id == "dc_001"
    assert "fhir" not in plain.to_dict()
    data["fhir"] = {"questionnaire": "https://clinic.example/Questionnaire/q"}
    data["items"][0]["link_id"] = "1.1"
    inst = check_definition(data, "linked.yaml").instrument
    assert inst.questionnaire_url == "https://clinic.example/Questionnaire/q"
    assert inst.items[0].fhir_link_id == "1.1"
    assert inst.to_dict()["fhir"] == data["fhir"]
    assert inst.to_dict()["items"][0]["link_id"] == "1.1"
    assert check_definition(inst.to_dict(), "again.yaml").instrument == inst
