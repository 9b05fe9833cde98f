"""The child report model (sensoryprofile/reports/child.py), without running a
notebook: summary wording, de-identification and empty states, on a tiny
clinic whose every number is worked out by hand below.

The clinic (demo-child; every child born 2016-06-01, so the 72-119 month
norms apply: seeking 36.0/8.5, avoiding 35.6/8.4, sensitivity 36.5/8.5,
registration 34.4/8.1, mean/SD). All 15 items of a quadrant get the same
answer v, so raw = 15v; the 20 section-only items answer 2.

- K1 "Alice Zed", referred 2024-01-10, therapist Ann, site North.
  A1 2024-01-15 (91 months), v = (4, 4, 2, 1) for seeking, avoiding,
  sensitivity, registration -> raw 60, 60, 30, 15 -> z +2.82, +2.90, -0.76,
  -2.40 -> Much More, Much More, typical, Much Less.
  A2 2024-07-15 (97 months), v = (2, 2, 2, 2) -> raw 30 each -> z -0.71,
  -0.67, -0.76, -0.54: all typical.
  Change A1 -> A2: seeking -30 with S_diff = sqrt(2) * 8.5 * sqrt(1 - .88)
  = 4.16, RCI = -7.2 (reliable), toward typical; avoiding -30, S_diff 4.45,
  reliable, toward typical; sensitivity 0, within typical; registration +15,
  S_diff = sqrt(2) * 8.1 * sqrt(.13) = 4.13, RCI = +3.6, reliable, toward typical.
  Goals G1 (baseline -1) and G2 (baseline -2), set 2024-01-20, unweighted;
  rated 2024-07-20: G1 +1, G2 0.
  T = 50 + 10 * (1 + 0) / sqrt((1 - .3) * 2 + .3 * 2**2) = 50 + 10 / sqrt(2.6)
  = 56.20; baseline T = 50 + 10 * (-1 - 2) / sqrt(2.6) = 31.39.
- K2, referred 2024-03-01: nothing yet (no questionnaire, no goal).
- K3, referred 2024-02-01: one questionnaire, A3 2024-02-05, v = (2, 2, 2, 2).
"""

from __future__ import annotations

import pandas as pd
import pytest

from sensoryprofile import columns as C
from sensoryprofile.data.dataset import load_dataset
from sensoryprofile.errors import UsageError
from sensoryprofile.instruments import load_instrument
from sensoryprofile.reports.child import ChildReport

AS_OF = "2024-09-30"
TODAY = pd.Timestamp("2025-01-01").date()
QUADRANTS = ("seeking", "avoiding", "sensitivity", "registration")
TYPICAL = "Just Like the Majority of Others"


def _assessment(inst, assessment_id, child_id, date, values):
    row = {C.ASSESSMENT_ID: assessment_id, C.CHILD_ID: child_id, C.INSTRUMENT: inst.id,
           C.DATE: date, C.RESPONDENT: "caregiver"}
    by_quadrant = dict(zip(QUADRANTS, values, strict=True))
    for item in inst.items:
        row[item.id] = by_quadrant.get(item.quadrant, 2)
    return row


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    folder = tmp_path_factory.mktemp("tiny")
    inst = load_instrument("demo-child")
    pd.DataFrame([
        {C.CHILD_ID: "K1", C.DATE_OF_BIRTH: "2016-06-01", C.REFERRAL_DATE: "2024-01-10",
         C.THERAPIST: "Ann", C.SITE: "North", C.DISPLAY_NAME: "Alice Zed"},
        {C.CHILD_ID: "K2", C.DATE_OF_BIRTH: "2016-06-01", C.REFERRAL_DATE: "2024-03-01",
         C.THERAPIST: "Ben", C.SITE: "South", C.DISPLAY_NAME: "Bruno Yarrow"},
        {C.CHILD_ID: "K3", C.DATE_OF_BIRTH: "2016-06-01", C.REFERRAL_DATE: "2024-02-01",
         C.THERAPIST: "Ann", C.SITE: "North", C.DISPLAY_NAME: "Cleo Xu"},
    ]).to_csv(folder / "children.csv", index=False)
    pd.DataFrame([
        _assessment(inst, "A1", "K1", "2024-01-15", (4, 4, 2, 1)),
        _assessment(inst, "A2", "K1", "2024-07-15", (2, 2, 2, 2)),
        _assessment(inst, "A3", "K3", "2024-02-05", (2, 2, 2, 2)),
    ]).to_csv(folder / "assessments.csv", index=False)
    pd.DataFrame([
        {C.GOAL_ID: "G1", C.CHILD_ID: "K1", C.SET_DATE: "2024-01-20", C.DOMAIN: "self-care",
         C.DESCRIPTION: "Will put on socks alone", C.BASELINE_LEVEL: -1,
         "level_+1": "Puts on socks and shoes alone"},
        {C.GOAL_ID: "G2", C.CHILD_ID: "K1", C.SET_DATE: "2024-01-20", C.DOMAIN: "play/social",
         C.DESCRIPTION: "Will join a game at break", C.BASELINE_LEVEL: -2},
    ]).to_csv(folder / "goals.csv", index=False)
    pd.DataFrame([
        {C.GOAL_ID: "G1", C.DATE: "2024-07-20", C.LEVEL: 1, C.RATER: "therapist",
         C.NOTE: "Alice managed it at home"},
        {C.GOAL_ID: "G2", C.DATE: "2024-07-20", C.LEVEL: 0, C.RATER: "therapist"},
    ]).to_csv(folder / "goal_ratings.csv", index=False)
    data = load_dataset(folder, today=TODAY)
    assert data.report.ok, data.report.format_text()
    return data


def test_summary_in_words(dataset):
    report = ChildReport.build(dataset, "K1", as_of=AS_OF)
    since = "Since the assessment on 15 January 2024"
    assert report.summary == [
        f"Sensory seeking: {TYPICAL}. {since} this has moved toward the typical range, a "
        "reliable change.",
        f"Sensory avoiding: {TYPICAL}. {since} this has moved toward the typical range, a "
        "reliable change.",
        f"Sensory sensitivity: {TYPICAL}. {since} it has stayed within the typical range.",
        f"Low registration: {TYPICAL}. {since} this has moved toward the typical range, a "
        "reliable change.",
        "Goals: 2 of 2 goal(s) have reached the expected level at least once.",
        "Goal attainment at the latest review (20 July 2024): T-score 56, from 31 at the start "
        "(50 means goals met as expected).",
    ]
    assert report.title == "Sensory and goals report: Alice Zed"
    header = dict(zip(report.header.iloc[:, 0], report.header.iloc[:, 1], strict=True))
    # born 2016-06-01, as of 2024-09-30: 8 years 3 completed months
    assert header["Age"] == "8 years 3 months on 30 September 2024"
    assert header["Assessments"] == "15 January 2024, 15 July 2024"
    assert header["Therapist"] == "Ann" and header["Site"] == "North"


def test_tables_follow_the_hand_computation(dataset):
    report = ChildReport.build(dataset, "K1", as_of=AS_OF)
    quadrants = report.quadrant_table.set_index("Quadrant")
    assert quadrants["Raw score"].tolist() == ["30 of 75"] * 4  # 15 items of 1..5 (+0)
    assert set(quadrants["Classification"]) == {TYPICAL}
    change = report.change_table.set_index("Quadrant")
    assert change.loc["Seeking", "Then"] == "Much More Than Others"
    assert change.loc["Registration", "Then"] == "Much Less Than Others"
    assert change.loc["Seeking", "Raw change"] == "-30"
    # RCI = -30 / (sqrt(2) * 8.5 * sqrt(0.12)) = -30 / 4.164 = -7.20
    assert change.loc["Seeking", "Reliable change index"] == "-7.20"
    assert change.loc["Registration", "Reliable change index"] == "+3.63"  # 15 / 4.130
    assert change.loc["Sensitivity", "Direction"] == "within typical"
    goals = report.goals_table.set_index("Area")
    assert goals.loc["self-care", "Goal"] == "Goal 1: Will put on socks alone"
    assert goals.loc["self-care", "Latest"] == "+1 better than expected: Puts on socks and " \
                                               "shoes alone"
    assert goals.loc["play/social", "At the start"] == "-2 much less than expected"
    assert goals.loc["play/social", "Met"] == "yes, 20 July 2024"
    assert report.tscores["t_score"].round(2).tolist() == [56.2]
    assert report.tscores["baseline_t"].round(2).tolist() == [31.39]


def test_deidentified_report_has_no_name_dates_or_free_text(dataset):
    report = ChildReport.build(dataset, "K1", as_of=AS_OF, deidentify=True, pseudonym="R-0a1b")
    assert report.title == "Sensory and goals report"
    header = dict(zip(report.header.iloc[:, 0], report.header.iloc[:, 1], strict=True))
    assert header["Child"] == "R-0a1b"  # the pseudonym, never the clinic's ID
    assert "Therapist" not in header and "Site" not in header
    assert header["Age"] == "8 years 3 months"
    # referred 2024-01-10: assessed in completed month 0 and month 6
    assert header["Referred"] == "month 0" and header["Assessments"] == "month 0, month 6"
    text = "\n".join([report.title_html(), report.summary_html(), report.notes_html(),
                      *(frame.to_csv() for frame in (report.header, report.quadrant_table,
                                                     report.change_table, report.goals_table,
                                                     report.goal_trajectories))])
    for secret in ("Alice", "Zed", "2016", "2024", "January", "socks", "break",
                   "managed it at home", "K1", "G1", "G2", "Ann", "North"):
        assert secret not in text, secret
    assert report.goal_trajectories[C.GOAL_ID].unique().tolist() == ["goal-1", "goal-2"]
    anonymous = ChildReport.build(dataset, "K1", as_of=AS_OF, deidentify=True)
    assert anonymous.header.iloc[0, 1] == "(de-identified)"
    assert "Since the assessment in month 0" in report.summary[0]
    assert report.goals_table["Goal"].tolist() == ["Goal 1 (self-care)", "Goal 2 (play/social)"]
    # charts are drawn against months since referral, not dates
    assert report.trajectories[C.DATE].tolist() == [0, 0, 0, 0, 6, 6, 6, 6]


def test_a_child_with_nothing_yet(dataset):
    report = ChildReport.build(dataset, "K2", as_of=AS_OF)
    assert report.summary == [] and report.summary_html() == "<p>Nothing to summarise yet.</p>"
    assert report.quadrant_table.empty and report.section_table.empty
    assert report.change_table.empty and report.goals_table.empty
    assert report.quadrant_profile.empty and report.tscores.empty
    header = dict(zip(report.header.iloc[:, 0], report.header.iloc[:, 1], strict=True))
    assert header["Assessments"] == "none yet"
    assert report.instrument_name is None and report.demonstration_note is None


def test_one_questionnaire_has_nothing_to_compare(dataset):
    report = ChildReport.build(dataset, "K3", as_of=AS_OF)
    assert report.change_table.empty
    assert report.summary == [f"{name}: {TYPICAL}." for name in (
        "Sensory seeking", "Sensory avoiding", "Sensory sensitivity", "Low registration")]
    assert report.demonstration_note.startswith("Demo Child Sensory Questionnaire")
    assert report.notes[0] == report.demonstration_note


def test_as_of_hides_later_data(dataset):
    # on 2024-03-31 only A1 exists and the goals are not yet rated
    report = ChildReport.build(dataset, "K1", as_of="2024-03-31")
    assert report.quadrant_table.set_index("Quadrant").loc["Seeking", "Classification"] == \
        "Much More Than Others"
    assert report.change_table.empty and report.tscores.empty
    assert report.summary[-1] == ("Goals: 0 of 2 goal(s) have reached the expected level at "
                                  "least once.")


def test_texts_take_their_numbers_from_the_package(dataset):
    report = ChildReport.build(dataset, "K1", as_of=AS_OF)
    assert "beyond ±1.96" in report.texts()["reliable"]
    assert report.texts()["goal_levels"].startswith("Goals are rated on five levels: −2")
    with pytest.raises(UsageError, match="`key` must be one of"):
        report.text_html("nope")


def test_refuses_an_unknown_or_unsafe_child(dataset):
    with pytest.raises(UsageError, match="must be 1 to 64 letters"):
        ChildReport.build(dataset, "../K1")
    with pytest.raises(Exception, match="'K9' is not in"):
        ChildReport.build(dataset, "K9")


def test_deidentified_report_shows_an_area_only_as_a_vocabulary_term(dataset):
    """A goal area typed as free text ("Alice's bedtime at Zed's") may name the
    child: the de-identified report shows it as ``other``, like the export;
    areas in the vocabulary keep the vocabulary's own spelling."""
    import dataclasses

    goals = dataset.goals.copy()
    goals.loc[goals[C.GOAL_ID] == "G2", C.DOMAIN] = "Alice's bedtime at Zed's"
    goals.loc[goals[C.GOAL_ID] == "G1", C.DOMAIN] = "  SELF-CARE "
    changed = dataclasses.replace(dataset, goals=goals)
    report = ChildReport.build(changed, "K1", as_of=AS_OF, deidentify=True)
    assert report.goals_table["Area"].tolist() == ["self-care", "other"]
    assert report.goals_table["Goal"].tolist() == ["Goal 1 (self-care)", "Goal 2 (other)"]
    assert "Alice" not in report.goal_trajectories.to_csv()
    # the clinic's own report shows the area as written
    named = ChildReport.build(changed, "K1", as_of=AS_OF)
    assert "Alice's bedtime at Zed's" in named.goals_table["Area"].tolist()
