"""Meaning never by colour alone: in the stacked bars (classifications at
intake and now, goal levels by therapist) every level but the typical one has
a pattern of its own, in the bars and in the legend, so a segment says its
level in greyscale or to a reader who does not see the colours."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.colors import to_rgb  # noqa: E402

from sensoryprofile import columns as C  # noqa: E402
from sensoryprofile import plots as P  # noqa: E402
from sensoryprofile.plots import style as S  # noqa: E402

LABELS = ["Much Less Than Others", "Less Than Others", "Just Like the Majority of Others",
          "More Than Others", "Much More Than Others"]


def _segments(ax) -> dict[tuple, str]:
    """Each segment's fill and pattern."""
    return {to_rgb(p.get_facecolor()): p.get_hatch() or "" for p in ax.patches
            if p.get_gid() == "segment"}


def test_every_level_of_a_stacked_bar_has_its_own_pattern():
    patterns = [S.STACK_HATCHES[level] for level in (-3, -2, -1, 1, 2)]
    assert all(patterns) and len(set(patterns)) == 5 and S.STACK_HATCHES[0] == ""


def test_classification_shift_segments_and_legend():
    rows = pd.DataFrame({C.SCORE_NAME: ["Seeking"] * 5, C.TIMEPOINT: ["intake"] * 5,
                         C.CLASSIFICATION: LABELS, C.SHARE: [0.1, 0.2, 0.4, 0.2, 0.1]})
    fig, ax = plt.subplots(figsize=(8, 3))
    P.plot_classification_shift(rows, ax=ax)
    drawn = _segments(ax)
    for level in (-2, -1, 0, 1, 2):
        assert drawn[to_rgb(S.BAND_COLORS[level])] == S.STACK_HATCHES[level], level
    legend = {t.get_text(): h.get_hatch() or "" for t, h in
              zip(ax.get_legend().get_texts(), ax.get_legend().legend_handles, strict=True)}
    assert legend == {LABELS[k]: S.STACK_HATCHES[k - 2] for k in range(5)}
    # the pattern shows on light fills too: drawn in grey there, in white on dark ones
    light = next(p for p in ax.patches if to_rgb(p.get_facecolor()) == to_rgb(S.BAND_COLORS[-1]))
    assert to_rgb(light.get_hatchcolor()) == to_rgb(S.DARK_HATCH_COLOR)
    dark = next(p for p in ax.patches if to_rgb(p.get_facecolor()) == to_rgb(S.BAND_COLORS[2]))
    assert to_rgb(dark.get_hatchcolor()) == to_rgb(S.HATCH_COLOR)


def test_goal_calibration_segments():
    rows = pd.DataFrame({C.THERAPIST: ["Ann"] * 6, C.LEVEL: [-3, -2, -1, 0, 1, 2],
                         C.SHARE: [0.1, 0.1, 0.2, 0.3, 0.2, 0.1]})
    fig, ax = plt.subplots(figsize=(8, 3))
    P.plot_goal_calibration(rows, ax=ax)
    drawn = _segments(ax)
    for level in (-3, -2, -1, 1, 2):
        assert drawn[to_rgb(S.GAS_LEVEL_COLORS[level])] == S.STACK_HATCHES[level], level
    assert [h.get_hatch() or "" for h in ax.get_legend().legend_handles] == [
        S.STACK_HATCHES[level] for level in (-3, -2, -1, 0, 1, 2)]
