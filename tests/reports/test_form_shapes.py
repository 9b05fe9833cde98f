"""Reports follow the form (issue 11): the mixed clinic of tests/mixed_clinic.py
(the demonstration forms plus a form without quadrants and with three
one-sided levels, an adult self-report in years, and a caregiver-and-teacher
form) through the child report, change, the caseload report and the cohort
analysis. Every expected value is worked out by hand in tests/mixed_clinic.py;
the comments repeat the arithmetic."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from sensoryprofile import columns as C
from sensoryprofile.analysis import cohort as CO
from sensoryprofile.analysis.psychometrics import internal_consistency, item_gaps, item_matrix
from sensoryprofile.data.dataset import load_dataset
from sensoryprofile.errors import UsageError
from sensoryprofile.measures.change import primary_rows, sensory_change
from sensoryprofile.reports.caseload import CaseloadReport
from sensoryprofile.reports.child import ChildReport
from tests.mixed_clinic import AS_OF, SHAPES, write_mixed_clinic

TODAY = pd.Timestamp("2026-11-30").date()
LIKE = "Just Like the Majority of Others"
MUCH_MORE = "Much More Than Others"


@pytest.fixture(scope="module")
def clinic(tmp_path_factory):
    data = load_dataset(write_mixed_clinic(tmp_path_factory.mktemp("mixed")), today=TODAY)
    assert data.report.ok, data.report.format_text()
    return data


def _words(report: ChildReport) -> str:
    """Everything the report says in words: header, summary, notes, texts."""
    header = " ".join(str(v) for v in report.header.to_numpy().ravel())
    return " ".join([header, *report.summary, *report.notes, *report.texts().values(),
                     report.title])


# ---------------------------------------------------------------------------
# a form without quadrants, three one-sided levels, cut scores (fx-short)
# ---------------------------------------------------------------------------
def test_a_form_without_quadrants_shows_its_sections_and_total(clinic):
    report = ChildReport.build(clinic, "M_S1", as_of=AS_OF)
    assert not report.has_quadrants and report.quadrant_table.empty
    header = dict(report.header.to_numpy())
    assert header["Questionnaire"] == "Short sensory form (invented, for tests only), version 0.3"
    assert header["Answered by"] == "Caregiver"
    # S1b, every answer 4: each section 4 x 4 = 16 of 20, the total 48 of 60, all
    # typical; cut scores give no percentile, so the table has no such column
    assert report.section_table.columns.tolist() == ["Score", "Raw score", "Classification",
                                                     "Notes"]
    assert report.section_table[["Score", "Raw score", "Classification"]].to_numpy().tolist() == [
        ["Touch", "16 of 20", "Typical Performance"],
        ["Hearing", "16 of 20", "Typical Performance"],
        ["Movement", "16 of 20", "Typical Performance"],
        ["Total", "48 of 60", "Typical Performance"]]
    # S1a -> S1b: touch 12 (definite) -> 16, total 44 (probable) -> 48: toward typical
    change = report.change_table.set_index("Score")
    assert change.loc["Touch", ["Then", "Now", "Raw change", "Direction"]].tolist() == [
        "Definite Difference", "Typical Performance", "+4", "toward typical"]
    assert change.loc["Total", ["Then", "Now", "Direction"]].tolist() == [
        "Probable Difference", "Typical Performance", "toward typical"]
    assert change.loc["Hearing", "Direction"] == "within typical"
    assert report.summary[0] == ("Touch: Typical Performance. Since the assessment on 1 March "
                                 "2025 this has moved toward the typical range, with no "
                                 "reliability figure to judge the change.")
    # the charts' labels are the form's own three levels, from typical outward
    assert report.band_labels.labels_by_ordinal == {
        0: "Typical Performance", 1: "Probable Difference", 2: "Definite Difference"}
    assert set(report.trajectories[C.SCORE]) == {"tactile", "auditory", "movement", "total"}
    assert "This form has no quadrants" in report.texts()["profile"]
    assert "Dunn" not in report.texts()["profile"]
    assert report.texts()["parts"] == ("The same answers grouped into its sections (Touch, "
                                       "Hearing, Movement) and its total.")


def test_does_not_apply_is_prorated_and_named(clinic):
    report = ChildReport.build(clinic, "M_S2", as_of=AS_OF)
    rows = report.section_table.set_index("Score")
    # tactile (0, 2, 2, 2): 6 * 4 / 3 = 8 of 20, definite (4-11 at 61 months)
    assert rows.loc["Touch", ["Raw score", "Classification"]].tolist() == [
        "8 of 20", "Definite Difference"]
    assert "1 item(s) 'does not apply'" in rows.loc["Touch", "Notes"]
    # total: 42 over 11 answered items, 42 * 12 / 11 = 45.8 of 60: typical (44-60)
    assert rows.loc["Total", ["Raw score", "Classification"]].tolist() == [
        "45.8 of 60", "Typical Performance"]


# ---------------------------------------------------------------------------
# an adult's self-report in years (fx-adult)
# ---------------------------------------------------------------------------
def test_an_adults_self_report_speaks_of_a_person(clinic):
    report = ChildReport.build(clinic, "M_A1", as_of=AS_OF)
    words = _words(report)
    assert not re.search(r"\b(child|children|caregiver)", words, re.I), words
    assert report.peers == "people" and dict(report.header.to_numpy())["Answered by"] == (
        "Self-report")
    assert report.header.iloc[0, 0] == "Person"
    change = report.change_table.set_index("Quadrant")
    # A1a -> A1b: seeking 15 (z 3.5) -> 9 (z 0.5); avoiding 6 (z -1.25) -> 9 (z 0.25)
    assert change.loc["Seeking", ["Then", "Now", "Direction"]].tolist() == [
        MUCH_MORE, LIKE, "toward typical"]
    assert change.loc["Avoiding", ["Then", "Now", "Direction"]].tolist() == [
        "Less Than Others", LIKE, "toward typical"]
    # the total (every item counts to a quadrant and to it) is among the other scores
    assert report.section_table["Score"].tolist() == ["Total"]


def test_reverse_keyed_items_and_the_open_top_band(clinic):
    scores = clinic.scores.set_index([C.ASSESSMENT_ID, C.SCORE])
    # A1a: seeking 5 + 5 + (6 - 1) = 15; registration 2 + 2 + (6 - 4) = 6
    assert scores.loc[("A1a", "seeking"), C.RAW] == 15
    assert scores.loc[("A1a", "registration"), C.RAW] == 6
    # A2a, aged 71: the 65+ band, seeking 10, z = (10 - 7) / 2 = 1.5
    assert scores.loc[("A2a", "seeking"), C.NORM_BAND] == "65+ years"
    assert scores.loc[("A2a", "seeking"), C.Z] == pytest.approx(1.5)
    # the item matrix of the psychometrics holds reverse-keyed answers as they count
    items = item_matrix(clinic.assessments, clinic.instruments["fx-adult"])
    assert items.loc["A1a", ["fa_01", "fa_03", "fa_12"]].tolist() == [5.0, 5.0, 2.0]


# ---------------------------------------------------------------------------
# home and school side by side (fx-home-school)
# ---------------------------------------------------------------------------
def test_home_and_school_side_by_side(clinic):
    report = ChildReport.build(clinic, "M_H1", as_of=AS_OF)
    home, school = "Caregiver (1 February 2026)", "Teacher (15 March 2026)"
    assert report.comparison.heads == [home, school]
    # H1c (caregiver, girls' norms) against H1t (teacher): see tests/mixed_clinic.py
    expected = pd.DataFrame([
        ["Seeking", MUCH_MORE, LIKE, "2", "differ by 2 levels"],       # +2 / 0 (pct 37)
        ["Avoiding", LIKE, LIKE, "0", ""],                              # 0 / 0
        ["Sensitivity", MUCH_MORE, MUCH_MORE, "0", ""],                 # +2 / +2
        ["Registration", LIKE, MUCH_MORE, "2", "differ by 2 levels"],  # 0 / +2
        ["Reactivity", MUCH_MORE, "More Than Others", "1", ""],         # +2 / +1
    ], columns=["Score", home, school, "Levels apart", "Flag"])
    pd.testing.assert_frame_equal(report.comparison_table, expected)
    # a row per score and respondent: seeking x2 flagged, avoiding and sensitivity x2
    # not, registration x2 flagged, reactivity x2 not
    assert report.comparison_chart["flagged"].tolist() == (
        [True] * 2 + [False] * 4 + [True] * 2 + [False] * 2)
    assert ("Answers of the caregiver and teacher differ by two levels or more on Seeking "
            "and Registration.") in report.summary
    assert "Home and school side by side" in report.comparison_html()
    # the main series stays the caregiver's: H1c -> H1d
    assert dict(report.header.to_numpy())["Answered by"] == "Caregiver"
    assert report.change_table["Then"].tolist()[0] == MUCH_MORE


def test_the_window_is_a_parameter(clinic):
    # H1c and H1t are 42 days apart: outside a one-month window
    report = ChildReport.build(clinic, "M_H1", as_of=AS_OF, compare_within_months=1)
    assert report.comparison is None and report.comparison_table.empty
    assert any("teacher on fx-home-school" in note and "within 1 months" in note
               for note in report.notes)
    for bad in (0, -1, "3", True, 25):
        with pytest.raises(UsageError, match="compare_within_months"):
            ChildReport.build(clinic, "M_H1", as_of=AS_OF, compare_within_months=bad)


def test_a_child_with_one_respondent_has_no_side_by_side(clinic):
    assert ChildReport.build(clinic, "M_S1", as_of=AS_OF).comparison is None


# ---------------------------------------------------------------------------
# change, caseload and cohort on every form
# ---------------------------------------------------------------------------
def test_change_shows_each_forms_primary_scores(clinic):
    table = sensory_change(clinic)
    shown = table[primary_rows(table, clinic.instruments)]
    by_form = shown.groupby(C.INSTRUMENT, observed=True)[C.SCORE].agg(
        lambda s: sorted(set(s.astype(str))))
    assert by_form["fx-short"] == ["auditory", "movement", "tactile", "total"]
    assert by_form["fx-adult"] == ["avoiding", "registration", "seeking", "sensitivity"]
    assert by_form["fx-home-school"] == ["avoiding", "registration", "seeking", "sensitivity"]
    # one-sided levels never "cross" the typical band
    short = shown[shown[C.INSTRUMENT] == "fx-short"]
    assert "crossed typical" not in set(short[C.DIRECTION].astype(str))


def test_caseload_outcomes_per_form_never_pooled(clinic):
    report = CaseloadReport.build(clinic, as_of=AS_OF, min_group=1, n_boot=20)
    assert {"fx-short", "fx-adult", "fx-home-school"} <= set(report.forms)
    short = report.classification_table("fx-short").set_index("Score")
    assert short.columns.tolist() == ["Children", "Typical Performance", "Probable Difference",
                                      "Definite Difference"]
    # only M_S1 has two fx-short forms: touch definite -> typical, total probable -> typical
    assert short.loc["Touch"].tolist() == ["1", "0% → 100%", "0% → 0%", "100% → 0%"]
    assert short.loc["Total"].tolist() == ["1", "0% → 100%", "100% → 0%", "0% → 0%"]
    adult = report.reliable_change_table("fx-adult").set_index("Quadrant")
    assert adult.loc["Sensory seeking", "Children compared"] == "1"
    # every form's children are counted under their own form only
    counts = report.series.groupby(C.INSTRUMENT)[C.CHILD_ID].nunique()
    assert counts["fx-short"] == 1 and counts["fx-adult"] == 1 and counts["fx-home-school"] == 1


def test_cohort_on_a_cut_score_form_uses_the_ordinal_distance(clinic):
    # |z| where there is a z, else the number of levels from typical
    assert CO.distance_from_typical([np.nan, -1.25, np.nan], [2, -1, None]).tolist()[:2] == [
        2.0, 1.25]
    changes = CO.intake_to_latest(clinic, "fx-short")
    inst = clinic.instruments["fx-short"]
    effects = CO.change_effects(changes, inst, {"all children": {"M_S1"}}, n_boot=20, min_n=1)
    row = effects[(effects[C.SCORE] == "tactile") & (effects[C.MEASURE] == C.DISTANCE_MEASURE)]
    # touch: definite (2 levels from typical) at intake, typical (0) at the latest
    assert row[C.MEDIAN_BEFORE].item() == 2.0 and row[C.MEDIAN_AFTER].item() == 0.0
    distribution = CO.norm_distribution(clinic.scores, inst, intake_ids=["S1a", "S2a"])
    touch = distribution[distribution[C.SCORE] == "tactile"]
    assert touch[C.CLASSIFICATION].tolist() == ["Typical Performance", "Probable Difference",
                                                "Definite Difference"]
    assert touch[C.N].tolist() == [0, 0, 2]  # S1a 12 and S2a 8: both definite
    assert touch[C.EXPECTED_SHARE].isna().all()  # cut scores imply no normal shares


def test_consistency_says_why_children_were_left_out(clinic):
    intake = clinic.assessments[clinic.assessments[C.ASSESSMENT_ID].isin(["S1a", "S2a"])]
    form = clinic.instruments["fx-short"]
    table = internal_consistency(item_matrix(intake, form), form, n_boot=20, min_n=1,
                                 gaps=item_gaps(intake, form)).set_index(C.SCORE)
    # S2a answered "does not apply" to fs_t1: left out of touch and of the total only
    assert table.loc["tactile", [C.N_COMPLETE, C.N_INCOMPLETE]].tolist() == [1, 1]
    assert table.loc["tactile", C.LEFT_OUT] == '1 with a "does not apply" answer'
    assert table.loc["total", C.LEFT_OUT] == '1 with a "does not apply" answer'
    assert table.loc["auditory", [C.N_COMPLETE, C.LEFT_OUT]].tolist() == [2, ""]


# ---------------------------------------------------------------------------
# every notebook on the mixed clinic
# ---------------------------------------------------------------------------
@pytest.mark.slow
def test_every_report_on_the_mixed_clinic(tmp_path):
    from sensoryprofile.cli import main

    data = write_mixed_clinic(tmp_path / "data")
    out = tmp_path / "out"
    common = ["--data", str(data), "--out", str(out), "--as-of", AS_OF]
    assert main(["report", "all", *common, "--cohort", "--jobs", "2", "--quiet"]) == 0
    pages = sorted(p.relative_to(out).as_posix() for p in out.rglob("report.html"))
    forms = ["demo-child", "demo-toddler", "fx-adult", "fx-home-school", "fx-short"]
    assert [p for p in pages if p.startswith("cohort/")] == [
        f"cohort/{form}/report.html" for form in forms]  # one analysis per form
    assert len([p for p in pages if p.startswith("children/")]) == 17
    for page in pages:
        assert "Traceback" not in (out / page).read_text(encoding="utf-8"), page
    index = (out / "index.html").read_text(encoding="utf-8")
    for form in forms:
        assert f'href="cohort/{form}/report.html"' in index

    def text(page):  # the words a reader sees: no style, script or markup
        html = re.sub(r"<(style|script)\b.*?</\1>", " ", (out / page).read_text("utf-8"),
                      flags=re.S)
        return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))

    short = text("children/M_S1/report.html")
    assert "Dunn" not in short and "four quadrants" not in short
    assert "Sections and totals" in short and "Definite Difference" in short
    adult = text("children/M_A1/report.html")
    assert not re.search(r"\b(child|children|caregiver)\b", adult.split("Goals")[0], re.I)
    home = text("children/M_H1/report.html")
    assert "Home and school side by side" in home and "differ by 2 levels" in home
    cohort = text("cohort/fx-short/report.html")
    assert "no expected shares" in cohort and "ordinal distance" in cohort
    caseload = text("caseload/report.html")
    assert "Short sensory form (invented, for tests only), version 0.3" in caseload


def test_fhir_export_codes_a_forms_own_levels(clinic, tmp_path, capsys):
    import json

    from sensoryprofile.cli import main

    bundle = tmp_path / "bundle.json"
    assert main(["export", "fhir", str(clinic.path), "--out", str(bundle)]) == 0
    codes = {}
    for entry in json.loads(bundle.read_text("utf-8"))["entry"]:
        res = entry["resource"]
        if res["resourceType"] == "Observation" and "coding" in res.get(
                "interpretation", [{}])[0]:  # (an unclassified score has text only)
            coding = res["interpretation"][0]["coding"][0]
            codes[res["id"]] = (coding["system"].rsplit("/", 1)[-1], coding["code"])
    # S1a touch: definite, in the form's own code system; total: probable
    assert codes["S1a-tactile"] == ("fx-short", "definite")
    assert codes["S1a-total"] == ("fx-short", "probable")
    # the five levels keep the shared code system: A1a seeking +2
    assert codes["A1a-seeking"] == ("classification", "much_more")


def test_no_family_report_for_an_adults_self_report(clinic):
    from sensoryprofile.reports.family import FamilyReport

    with pytest.raises(UsageError, match="M_A1's questionnaire is a self-report by an adult"):
        FamilyReport.build(clinic, "M_A1", as_of=AS_OF)
    # a child's caregiver form still gets one
    assert FamilyReport.build(clinic, "M_S1", as_of=AS_OF).learned_intro


def test_toward_typical_on_a_one_sided_scheme_classified_by_z(tmp_path):
    # fx-adult with three one-sided levels by z: typical up to z 1, probable 1..2,
    # definite from 2 (invented). Seeking = a1 + a2 + (6 - a3), 18-64 years: mean 8, SD 2.
    from sensoryprofile.data.assessments import score_assessments
    from sensoryprofile.instruments import load_instrument
    from sensoryprofile.measures.change import score_changes

    text = (SHAPES / "fx-adult.yaml").read_text("utf-8").replace("id: fx-adult", "id: fx-onez")
    text += ("classification:\n  levels:\n"
             "    - {key: typical, label: Typical Performance, z: [null, 1]}\n"
             "    - {key: probable, label: Probable Difference, z: [1, 2]}\n"
             "    - {key: definite, label: Definite Difference, z: [2, null]}\n"
             "  typical: typical\n")
    (tmp_path / "fx-onez.yaml").write_text(text, "utf-8")
    inst = load_instrument(tmp_path / "fx-onez.yaml")

    def row(aid, date, first):
        values = dict(zip(inst.item_ids, (*first, *(3,) * 9), strict=True))
        return {C.ASSESSMENT_ID: aid, C.CHILD_ID: "K", C.DATE: date, "age_months": 400,
                **values}

    scores = score_assessments(pd.DataFrame([
        row("A", "2025-06-01", (1, 1, 5)),   # seeking 1 + 1 + 1 = 3: z -2.5, typical
        row("B", "2026-01-01", (4, 4, 2)),   # 4 + 4 + 4 = 12: z +2, probable (edge: nearer)
        row("C", "2026-06-01", (4, 3, 3)),   # 4 + 3 + 3 = 10: z +1, typical (edge)
        row("D", "2026-09-01", (2, 2, 4))]), inst)  # 2 + 2 + 2 = 6: z -1, typical
    change = score_changes(scores, {"fx-onez": inst})
    seeking = change[(change[C.SCORE] == "seeking") & (change[C.COMPARISON] == "consecutive")]
    # z -2.5 -> +2: typical -> probable is AWAY from typical (|z| fell, but a negative
    # z lies deep inside the typical range of a one-sided scheme)
    assert seeking[C.DIRECTION].astype(str).tolist() == [
        "away from typical", "toward typical", "within typical"]


def test_a_cohort_of_a_form_without_assessments_is_refused_before_rendering(clinic, tmp_path,
                                                                          capsys):
    from sensoryprofile.cli import main

    code = main(["report", "cohort", "--data", str(clinic.path), "--out", str(tmp_path / "o"),
                 "--instrument", "fx-seven"])
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err
    assert ("--instruments 'fx-seven'" not in err and "--instrument 'fx-seven': the dataset has "
            "no accepted assessment on this form") in err
    assert "demo-child, demo-toddler, fx-adult, fx-home-school, fx-short" in err
    assert not (tmp_path / "o" / "cohort").exists()
