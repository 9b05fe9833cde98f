"""Text from data is drawn as written: dollar signs never become mathtext.

Before the fix, a goal "Lunch $5 (50% off $10)" made a child's report fail
(matplotlib parsed "$5 (50% off $" as math), and a site "$2 & $1" was drawn
in italics with the dollar signs gone. Every chart is drawn here with such
labels, outside any report style, and rendered to SVG.
"""

from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from sensoryprofile import columns as C  # noqa: E402
from sensoryprofile import plots as P  # noqa: E402
from tests.plots import test_plots as frames  # noqa: E402

GOAL = "Lunch $5 (50% off $10)"
SITE = "$2 & $1"
SCORE = "Seeking $x$"

CHARTS = {
    "quadrant_profile": lambda ax: P.plot_quadrant_profile(
        frames.quadrants().assign(**{C.SCORE_NAME: [SCORE, "Avoiding", "Sensitivity",
                                                    "Registration"]}), ax=ax),
    "section_profile": lambda ax: P.plot_section_profile(
        frames.sections().assign(**{C.SCORE_NAME: [SCORE, "A $1", "B", "C $2", "D"]}), ax=ax),
    "quadrant_trajectories": lambda ax: P.plot_quadrant_trajectories(
        frames.trajectories().assign(**{C.SCORE_NAME: SCORE}), ax=ax),
    "goal_trajectories": lambda ax: P.plot_goal_trajectories(
        frames.goal_ratings().assign(**{C.LABEL: [GOAL] * 4 + ["$3 a week"] * 4}), ax=ax),
    "caseload_counts": lambda ax: P.plot_caseload_counts(
        frames.counts().assign(**{C.SITE: [SITE, SITE, "$South$", "$South$", "Outreach"]}),
        x=C.SITE, hue="review_status", ax=ax),
    "classification_shift": lambda ax: P.plot_classification_shift(
        frames.shift().replace({C.SCORE_NAME: {"Seeking": SCORE, "Avoiding": "Avoiding $1"}}),
        ax=ax),
    "tchange_by_group": lambda ax: P.plot_tchange_by_group(
        frames.tchange().assign(**{C.THERAPIST: [SITE, "B $ Smith", "C $$ Patel"]}),
        group=C.THERAPIST, ax=ax),
    "goal_calibration": lambda ax: P.plot_goal_calibration(
        frames.calibration().assign(**{C.THERAPIST: [SITE] * 5 + ["$Smith$"] * 5}), ax=ax),
}


def _svg(fig) -> str:
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg")  # lays out every text: mathtext would fail here
    return buffer.getvalue()


@pytest.mark.parametrize("name", CHARTS)
def test_dollar_signs_are_drawn_as_written(name):
    fig, ax = plt.subplots(figsize=(9, 6))
    CHARTS[name](ax)
    svg = _svg(fig)
    texts = [t for t in fig.findobj(matplotlib.text.Text) if "$" in t.get_text()]
    assert texts, "the chart shows the labels given"
    assert all(not t.get_parse_math() for t in texts)
    assert "$" in svg  # the dollar signs reach the drawing (SVG keeps text as text)


def test_goal_label_and_site_appear_literally_in_the_svg():
    fig, ax = plt.subplots(figsize=(9, 6))
    CHARTS["goal_trajectories"](ax)
    assert "Lunch $5 (50% off $10)" in _svg(fig).replace("&amp;", "&")
    fig, ax = plt.subplots(figsize=(9, 6))
    CHARTS["tchange_by_group"](ax)
    assert "$2 &amp; $1" in _svg(fig)


def test_global_mathtext_setting_is_restored():
    before = matplotlib.rcParams["text.parse_math"]
    fig, ax = plt.subplots()
    CHARTS["goal_calibration"](ax)
    assert matplotlib.rcParams["text.parse_math"] == before


def test_cohort_charts_too():
    from sensoryprofile.plots import cohort as PC

    data = pd.DataFrame({C.SCORE_NAME: [SCORE, "$1 b"], C.ALPHA: [0.8, 0.7],
                         C.ALPHA_LOW: [0.7, 0.6], C.ALPHA_HIGH: [0.9, 0.8],
                         C.OMEGA: [0.82, 0.71], C.OMEGA_LOW: [0.72, 0.61],
                         C.OMEGA_HIGH: [0.92, 0.81]})
    fig, ax = plt.subplots()
    PC.plot_consistency(data, ax=ax)
    assert "Seeking $x$" in _svg(fig)
