"""Forms of other shapes (issue #11): the invented definitions in
tests/fixtures/instruments/shapes/ load, round-trip, and every new rule of
the format gives its own message when broken."""

from __future__ import annotations

import copy
import math

import numpy as np
import pytest
import yaml

from sensoryprofile.instruments import (
    check_definition,
    instrument_from_dict,
    load_instrument,
    load_instrument_file,
)
from sensoryprofile.instruments.model import Scheme
from tests.paths import FIXTURES

SHAPES = FIXTURES / "shapes"


def shape(name: str) -> dict:
    return yaml.safe_load((SHAPES / f"{name}.yaml").read_text(encoding="utf-8"))


def errors_of(data: dict, name: str) -> list[str]:
    return check_definition(data, f"{name}.yaml").errors


@pytest.mark.parametrize("name", ["fx-short", "fx-adult", "fx-home-school"])
def test_each_shape_loads_and_round_trips(name):
    inst = load_instrument_file(SHAPES / f"{name}.yaml")
    again = instrument_from_dict(copy.deepcopy(inst.to_dict()), source="dumped")
    assert again == inst
    assert again.compiled.band_labels == inst.compiled.band_labels


def test_one_sided_scheme():
    inst = load_instrument_file(SHAPES / "fx-short.yaml")
    scheme = inst.scheme
    assert [(lv.key, lv.ordinal) for lv in scheme.levels] == [
        ("typical", 0), ("probable", 1), ("definite", 2)]
    assert scheme.one_sided and not scheme.is_five_level
    assert inst.label_list == ["Typical Performance", "Probable Difference",
                               "Definite Difference"]
    assert not inst.has_quadrants
    # no quadrants: the primary scores are the sections and the total
    assert [s.id for s in inst.primary_scores] == ["tactile", "auditory", "movement", "total"]
    # the cut tables hold the ordinals: tactile, 36-71 months, in ascending raw order
    # definite [4, 11] -> 2, probable [12, 14] -> 1, typical [15, 20] -> 0
    comp = inst.compiled
    assert comp.cut_low[0, 0].tolist() == [4, 12, 15]
    assert comp.cut_level[0, 0].tolist() == [2, 1, 0]


def test_ages_in_years_with_an_open_top():
    inst = load_instrument_file(SHAPES / "fx-adult.yaml")
    # 11 years = 132 months; the top is open
    assert inst.age_min == 132 and math.isinf(inst.age_max)
    assert inst.age_text == "11+ years"
    # 11-17 years = months 132..215 (17 years 11 months); 65+ = 780 months and over
    assert [(b.low, b.high) for b in inst.norms] == [(132, 215), (216, 779), (780, math.inf)]
    assert list(inst.compiled.band_labels) == ["11-17 years", "18-64 years", "65+ years"]
    assert inst.band_for_age(215).label == "11-17 years"
    assert inst.band_for_age(1100).label == "65+ years"
    assert inst.band_for_age(131) is None
    # reverse-keyed items: an answer v counts as 1 + 5 - v
    assert inst.compiled.item_reverse.tolist() == [False, False, True] + [False] * 8 + [True]
    assert inst.compiled.answer_sum == 6.0
    # every item counts to its quadrant and to the total
    assert inst.compiled.key.sum(axis=1).tolist() == [2.0] * 12


def test_two_respondents_norms_by_respondent_and_sex():
    inst = load_instrument_file(SHAPES / "fx-home-school.yaml")
    assert inst.respondents == ("caregiver", "teacher") and inst.respondent == "caregiver"
    assert inst.band_for_age(60, "caregiver", "F").label == "48-155 months (caregiver, girls/women)"
    assert inst.band_for_age(60, "caregiver", "M").label == "48-155 months (caregiver, boys/men)"
    # no band of this sex: the respondent's own band
    assert inst.band_for_age(60, "caregiver", "X").label == "48-155 months (caregiver)"
    assert inst.band_for_age(100, "teacher", "F").label == "96-155 months (teacher)"
    assert inst.band_for_age(60, "self") is None  # no norms for another respondent
    comp = inst.compiled
    b = inst.norms.index(inst.band_for_age(60, "teacher"))
    raws, pcts = comp.pct_tables[(b, 0)]
    assert raws.tolist() == [2, 3, 4, 5, 6, 7, 8] and pcts.tolist() == [2, 9, 25, 50, 75, 91, 98]
    assert comp.has_pct[b].tolist() == [True, False, False, False, False]


def test_scheme_classifies_z_with_edges_toward_typical():
    five = Scheme.five_level()
    z = np.array([-2.5, -2.0, -1.5, -1.0, 0.0, 1.0, 1.0001, 2.0, 2.0001, np.nan])
    # |z| = 1 is typical, |z| = 2 is less/more, beyond is much less/more
    assert five.classify_z(z).tolist() == [-2, -1, -1, 0, 0, 0, 1, 1, 2, -128]
    one_sided = Scheme(levels=(
        five.levels[2].__class__(key="typical", label="T", ordinal=0, z_low=None, z_high=1.0),
        five.levels[2].__class__(key="probable", label="P", ordinal=1, z_low=1.0, z_high=2.0),
        five.levels[2].__class__(key="definite", label="D", ordinal=2, z_low=2.0, z_high=None)),
        typical="typical")
    assert one_sided.classify_z(np.array([-3.0, 1.0, 1.5, 2.0, 2.5])).tolist() == [0, 0, 1, 1, 2]


# ---------------------------------------------------------------------------
# the new rules, each broken once
# ---------------------------------------------------------------------------
def test_cut_table_leaving_raw_scores_uncovered_names_band_score_and_values():
    data = shape("fx-short")
    data["norms"][0]["scores"]["total"]["cuts"]["definite"] = [14, 36]
    assert errors_of(data, "fx-short") == [
        "fx-short.yaml: norms[0].scores.total.cuts: band 36-71 months, score total: raw "
        "scores 12..13 are in no range (the score runs 12..60)"]


def test_one_sided_cut_ranges_that_overlap():
    data = shape("fx-short")
    data["norms"][1]["scores"]["tactile"]["cuts"]["probable"] = [13, 16]
    assert errors_of(data, "fx-short") == [
        "fx-short.yaml: norms[1].scores.tactile.cuts: band 72-143 months, score tactile: ranges "
        "'probable' [13, 16] and 'typical' [16, 20] overlap: raw scores 16..16 are in both"]


def test_a_cut_table_needs_every_level_of_the_scheme():
    data = shape("fx-short")
    data["norms"][0]["scores"]["movement"]["cuts"]["much_more"] = [1, 2]
    assert errors_of(data, "fx-short") == [
        "fx-short.yaml: norms[0].scores.movement.cuts.much_more: 'much_more' is not one of "
        "typical, probable, definite"]


def test_mean_sd_norms_need_z_ranges_in_a_scheme_of_the_form_s_own():
    data = shape("fx-short")
    data["norms"][0]["scores"]["total"] = {"mean": 50.0, "sd": 5.0}
    assert errors_of(data, "fx-short") == [
        "fx-short.yaml: classification.levels: mean/SD and percentile norms classify by z: "
        "give every level its z range ([low, high], null for an open end)"]
    for level, z in zip(data["classification"]["levels"], ([None, 1], [1, 2], [2, None]),
                        strict=True):
        level["z"] = z
    assert errors_of(data, "fx-short") == []


def test_z_ranges_must_follow_each_other():
    data = shape("fx-short")
    for level, z in zip(data["classification"]["levels"], ([None, 1], [1.5, 2], [2, None]),
                        strict=True):
        level["z"] = z
    assert errors_of(data, "fx-short") == [
        "fx-short.yaml: classification.levels[1].z: level 'probable' must start where "
        "'typical' ends (z 1), got 1.5"]


def test_levels_and_labels_together_are_refused():
    data = shape("fx-short")
    data["classification"]["z_cuts"] = [1, 2]
    assert errors_of(data, "fx-short") == [
        "fx-short.yaml: classification: give levels (a scheme of the form's own), or labels "
        "and z_cuts (the five levels), not both"]


def test_an_open_band_must_be_the_last_of_its_group():
    data = shape("fx-adult")
    data["norms"][1]["ages"] = [18, None]
    errors = errors_of(data, "fx-adult")
    assert errors == ["fx-adult.yaml: norms[2].ages: band [65, None] comes after the open band "
                      "18+, which already covers every age above it"]


def test_a_band_for_a_respondent_the_form_does_not_have():
    data = shape("fx-home-school")
    data["norms"][3]["respondent"] = "self"
    assert "fx-home-school.yaml: norms[3].respondent: 'self' is not one of the form's " \
           "respondents (caregiver, teacher)" in errors_of(data, "fx-home-school")


def test_respondent_and_respondents_together_are_refused():
    data = shape("fx-home-school")
    data["respondent"] = "caregiver"
    assert errors_of(data, "fx-home-school") == [
        "fx-home-school.yaml: (top level): give the respondent (respondent: caregiver) or the "
        "respondents (respondents: [caregiver, teacher]), one of the two"]


def test_percentile_table_rules():
    data = shape("fx-home-school")
    table = data["norms"][3]["scores"]["seeking"]["percentiles"]
    table[3] = [5, 20]  # falls below the 25 at raw 4
    assert errors_of(data, "fx-home-school") == [
        "fx-home-school.yaml: norms[3].scores.seeking.percentiles[3]: band 48-95 months "
        "(teacher), score seeking: percentile 20 falls below 25 at a higher raw score"]
    data = shape("fx-home-school")
    data["norms"][3]["scores"]["seeking"]["percentiles"] = [[4, 25], [8, 98]]
    assert errors_of(data, "fx-home-school") == [
        "fx-home-school.yaml: norms[3].scores.seeking.percentiles: band 48-95 months (teacher), "
        "score seeking: raw scores 2..3 are below the table's first raw score 4 (the score "
        "runs 2..8)"]


def test_every_band_group_covers_the_form_s_ages():
    data = shape("fx-home-school")
    data["norms"][4]["ages"] = [96, 150]
    assert errors_of(data, "fx-home-school") == [
        "fx-home-school.yaml: norms[4].ages: the last band (teacher) ends at 150 months but the "
        "instrument's age range ends at 155"]


def test_shipped_forms_are_unchanged_by_the_new_format():
    # the five-level scheme as before: labels from least to most, ordinals -2..2
    child = load_instrument("demo-child")
    assert [lv.ordinal for lv in child.scheme.levels] == [-2, -1, 0, 1, 2]
    assert child.scheme.is_five_level and child.has_quadrants
    assert [s.id for s in child.primary_scores] == ["seeking", "avoiding", "sensitivity",
                                                    "registration"]
    assert child.respondents == ("caregiver",) and child.age_unit == "months"
    assert "respondents" not in child.to_dict() and "age_unit" not in child.to_dict()
