"""Alternative text: every chart has a builder beside it that words what the
chart draws from the same frame; the texts are checked word for word on
frames built by hand, and :func:`show_figure` hands them to the report."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from sensoryprofile import columns as C  # noqa: E402
from sensoryprofile import plots as P  # noqa: E402
from sensoryprofile.errors import UsageError  # noqa: E402
from sensoryprofile.plots import _MODULES  # noqa: E402
from sensoryprofile.plots.layout import runs, when_text  # noqa: E402

MINUS = "\u2212"


def test_every_chart_has_an_alt_text_builder_beside_it():
    for module, names in _MODULES.items():
        for name in names:
            if name.startswith("plot_"):
                alt = name.removeprefix("plot_") + "_alt"
                assert alt in names, f"plots.{module}.{name} has no {alt}"
                assert callable(getattr(P, alt))


def quadrants() -> pd.DataFrame:
    return pd.DataFrame({
        C.SCORE: ["seeking", "avoiding", "sensitivity", "registration"],
        C.SCORE_NAME: ["Seeking", "Avoiding", "Sensitivity", "Registration"],
        C.POSITION: [0.05, 2.4, 1.4, np.nan],
        C.CLASSIFICATION: ["Just Like the Majority of Others", "Much More Than Others",
                           None, None],
        C.PERCENTILE: [52.0, 99.2, 91.9, np.nan],
    })


def test_quadrant_profile_words_each_score_as_the_issue_asks():
    text = P.quadrant_profile_alt(quadrants())
    assert text == (
        "Chart of sensory patterns compared with other children of the same age. "
        "Seeking: Just Like the Majority of Others, percentile 52. "
        "Avoiding: Much More Than Others, percentile 99. "
        # no classification but a position of 1.4 (between 1 and 2): the band "More"
        "Sensitivity: More Than Others, percentile 92. "
        "Registration: not classified.")


def test_a_form_without_quadrants_is_worded_from_its_rows():
    rows = pd.DataFrame({C.SCORE_NAME: ["Total"], C.POSITION: [-1.5],
                         C.CLASSIFICATION: ["Probable Difference"]})
    assert P.quadrant_profile_alt(rows).endswith(". Total: Probable Difference.")
    assert P.quadrant_profile_alt(rows.iloc[:0]).endswith("No score to show.")


def test_section_profile_groups_senses_then_behaviour():
    rows = pd.DataFrame({
        C.SCORE_NAME: ["Conduct", "Auditory", "Seeking", "Touch"],
        C.KIND: ["section", "section", "quadrant", "section"],
        C.SECTION_KIND: ["behavioural", "sensory", None, "sensory"],
        C.POSITION: [-2.5, 1.2, 2.0, np.nan],
        C.CLASSIFICATION: ["Much Less Than Others", "More Than Others", "x", None],
    })
    assert P.section_profile_alt(rows) == (
        "Chart of section scores compared with other children of the same age. "
        "The senses: Auditory: More Than Others; Touch: not classified. "
        "Behaviour: Conduct: Much Less Than Others.")


def test_pattern_map_says_where_each_quadrant_sits():
    text = P.pattern_map_alt(quadrants().iloc[:2])
    assert ("Seeking (Seeker: notices sensations slowly, acts to change them): Just Like the "
            "Majority of Others, percentile 52.") in text
    assert "Sensitivity (Sensor: notices sensations quickly, goes along with them): no score" \
        in text


def test_runs_say_a_repeated_state_once():
    assert runs([("A", "May"), ("A", "June"), ("B", "July"), ("A", "August")]) == (
        "A (May to June), then B (July), then A (August)")
    assert when_text(pd.Timestamp("2024-03-05")) == "March 2024"
    assert when_text(np.int64(6)) == "month 6" and when_text(6.0) == "month 6"


def test_trajectories_in_date_order_or_months_since_referral():
    rows = pd.DataFrame({
        C.DATE: pd.to_datetime(["2024-09-01", "2024-03-01", "2024-03-01", "2024-09-01"]),
        C.SCORE: ["seeking", "seeking", "avoiding", "avoiding"],
        C.SCORE_NAME: ["Seeking", "Seeking", "Avoiding", "Avoiding"],
        C.POSITION: [0.2, 1.5, 0.0, np.nan],
        C.CLASSIFICATION: ["Typical", "More", "Typical", None],
    })
    assert P.quadrant_trajectories_alt(rows) == (
        "Chart of sensory patterns over time, at 2 questionnaires. "
        "Seeking: More (March 2024), then Typical (September 2024). "
        "Avoiding: Typical (March 2024), then not classified (September 2024).")
    months = rows.assign(**{C.DATE: [6, 0, 0, 6]})  # a de-identified report's x values
    assert "Seeking: More (month 0), then Typical (month 6)" in (
        P.quadrant_trajectories_alt(months))


def test_goal_trajectories_and_tscores():
    goals = pd.DataFrame({
        C.GOAL_ID: ["G1", "G1", "G1", "G1"],
        C.DATE: pd.to_datetime(["2024-01-20", "2024-04-20", "2024-10-20", "2025-05-20"]),
        C.LEVEL: [-1, 0, 1, 1],
        C.LABEL: ["Goal 1 (self-care)"] * 4,
        C.CARRIED: [False, False, False, True],
        C.IS_BASELINE: [True, False, False, False],
    })
    assert P.goal_trajectories_alt(goals) == (
        "Chart of progress on each goal, 0 being the expected level. Goal 1 (self-care): "
        f"{MINUS}1 less than expected when set (January 2024), then 0 expected level "
        "(April 2024), then +1 better than expected (October 2024), then +1 better than "
        "expected, carried forward (May 2025).")
    # the tiny clinic's K1: T 43.8 then 56.2, from 31.4 when the goals were set
    reviews = pd.DataFrame({C.DATE: pd.to_datetime(["2024-04-20", "2024-10-20"]),
                            C.T_SCORE: [43.798, 56.202], C.BASELINE_T: [31.395, 31.395]})
    assert P.tscore_over_time_alt(reviews) == (
        "Chart of progress on all goals together (the goal T-score; 50 is the expected "
        "outcome). Goal T-score at the reviews: 44 (April 2024), then 56 (October 2024). "
        "When the goals were set: 31.")


def test_caseload_charts():
    counts = pd.DataFrame({C.SITE: ["North", "South"], C.COUNT: [3, 2]})
    assert P.caseload_counts_alt(counts, x=C.SITE, ylabel="Active children") == (
        "Bar chart of active children by site. North: 3; South: 2.")
    shift = pd.DataFrame({
        C.SCORE_NAME: ["Seeking"] * 4, C.TIMEPOINT: ["intake", "intake", "latest", "latest"],
        C.CLASSIFICATION: ["Much More Than Others", "Just Like the Majority of Others",
                           "Just Like the Majority of Others", None],
        C.SHARE: [0.25, 0.75, 0.5, 0.5]})
    assert P.classification_shift_alt(shift).endswith(
        "Seeking: at intake Just Like the Majority of Others 75%, Much More Than Others 25%; "
        "latest Just Like the Majority of Others 50%, not classified 50%.")
    change = pd.DataFrame({C.THERAPIST: ["Ann", "Ben"], C.MEDIAN: [12.4, np.nan],
                           C.CI_LOW: [-1.25, np.nan], C.CI_HIGH: [20.0, np.nan],
                           C.N: [6, 2]})
    assert P.tchange_by_group_alt(change, group=C.THERAPIST).endswith(
        f"Ann (n = 6): +12.4 ({MINUS}1.2 to +20.0); Ben (n = 2): fewer than 5 children, "
        "not shown.")
    levels = pd.DataFrame({C.THERAPIST: ["Ann"] * 5, C.LEVEL: [-2, -1, 0, 1, 2],
                           C.SHARE: [0.0, 0.25, 0.5, 0.25, 0.0], C.N: [4] * 5})
    text = P.goal_calibration_alt(levels)
    assert f"Ann (n = 4): {MINUS}2 0%, {MINUS}1 25%, 0 50%, +1 25%, +2 0%." in text
    assert f"from {MINUS}2 to +2" in text


def test_family_chart_speaks_the_reports_language_only():
    steps = pd.DataFrame({C.LABEL: ["Objetivo 1", "Objetivo 2"], C.BASELINE_LEVEL: [-1, -2],
                          C.LATEST_LEVEL: pd.array([0, pd.NA], dtype="Int64")})
    words = {-2: "todavía no", -1: "parte del camino", 0: "objetivo logrado",
             1: "más allá", 2: "mucho más allá"}
    assert P.goal_steps_alt(steps, level_text=words, start_text="Al principio",
                            now_text="Ahora", not_rated_text="sin revisar") == (
        "Objetivo 1: Al principio: parte del camino; Ahora: objetivo logrado. "
        "Objetivo 2: Al principio: todavía no; Ahora: sin revisar.")
    assert P.goal_steps_alt(steps.iloc[:0], level_text=words,
                            empty_text="Sin objetivos.") == "Sin objetivos."


def test_show_figure_passes_the_text_to_the_report(monkeypatch):
    import IPython.display

    shown = []
    monkeypatch.setattr(IPython.display, "display",
                        lambda obj, **kw: shown.append((obj, kw)))
    fig, ax = plt.subplots()
    P.show_figure(fig, alt="Bar chart of nothing.")
    assert shown[0][0] is fig
    assert shown[0][1]["metadata"]["image/svg+xml"] == {"alt": "Bar chart of nothing."}
    assert not plt.fignum_exists(fig.number)  # closed: not shown twice
    with pytest.raises(UsageError, match="`alt` must be the chart's description"):
        P.show_figure(plt.figure(), alt=" ")
