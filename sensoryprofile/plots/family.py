"""The family report's chart: each goal's start and where it is now, read at
a glance. Large type; the words on it come from the caller (the report model
translates them), so this module draws in any language and computes nothing.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.lines import Line2D

from sensoryprofile import columns as C
from sensoryprofile.errors import UsageError
from sensoryprofile.plots.layout import chars, require, size_pt, wrap
from sensoryprofile.plots.style import BAND_COLORS, BLUE, GRID, INK, MUTED

#: Type sizes of the family chart (points): larger than the clinical charts'.
FAMILY_TEXT_SIZE = 15
FAMILY_TICK_SIZE = 14
START_MARKER, NOW_MARKER = "o", "D"
START_SIZE, NOW_SIZE = 24, 15


def plot_goal_steps(data: pd.DataFrame, *, level_text: dict, start_text: str = "At the start",
                    now_text: str = "Now", not_rated_text: str = "not checked yet",
                    empty_text: str = "No goals yet.", ax: Axes | None = None) -> Axes:
    """Goals as steps: one row per goal, from where it started to where it is now.

    The x axis is the goal attainment scale in words (``level_text``), from
    the lowest level to +2; the goal itself (level 0) is a shaded column with
    its label in bold. The start is a large hollow circle, now is a filled
    diamond, and an arrow joins them: shape, fill and the legend carry the
    meaning, not colour alone. A goal not rated yet shows its start and the
    words ``not_rated_text``. With no rows the axes say ``empty_text``.

    Parameters
    ----------
    data : DataFrame, one row per goal (top to bottom), with columns
        ``label`` (the goal's short name, e.g. "Goal 1"), ``baseline_level``
        (-2 or -1) and ``latest_level`` (-3..2, NA when not rated yet).
    level_text : mapping of every level shown (-2..2, or -3..2) to its words.
    start_text, now_text : the legend's words for the two markers.
    not_rated_text : shown beside a goal that has no rating yet.
    empty_text : shown when ``data`` has no rows.
    ax : Axes, optional

    Returns
    -------
    Axes
    """
    if ax is None:
        ax = plt.gca()
    require(data, [C.LABEL, C.BASELINE_LEVEL, C.LATEST_LEVEL], "plot_goal_steps")
    if data.empty:
        ax.set_axis_off()
        ax.text(0.5, 0.5, empty_text, transform=ax.transAxes, ha="center", va="center",
                fontsize=FAMILY_TEXT_SIZE, color=INK).set_gid("empty")
        return ax
    base = pd.to_numeric(data[C.BASELINE_LEVEL], errors="coerce")
    now = pd.to_numeric(data[C.LATEST_LEVEL].astype("Float64"), errors="coerce")
    used = set(base.dropna().astype(int)) | set(now.dropna().astype(int))
    levels = sorted(int(k) for k in level_text)
    if not levels or levels[-1] != 2 or levels != list(range(levels[0], 3)):
        raise UsageError("`level_text` must give words for every level from the lowest to +2, "
                         f"but it has the levels {levels}")
    outside = sorted(used - set(levels))
    if outside or base.isna().any():
        raise UsageError(f"The levels in `data` must be among {levels} (baseline given for "
                         f"every goal), but {outside or 'a blank baseline'} was passed")

    n = len(data)
    ys = list(range(n))
    ax.axvspan(-0.5, 0.5, color=BAND_COLORS[0], zorder=0).set_gid("goal-column")
    ax.axvline(-0.5, color=MUTED, linewidth=1.2, zorder=1)
    ax.axvline(0.5, color=MUTED, linewidth=1.2, zorder=1)
    for y, b, v in zip(ys, base, now, strict=True):
        ax.plot([b], [y], linestyle="none", marker=START_MARKER, markersize=START_SIZE,
                markerfacecolor="white", markeredgecolor=MUTED, markeredgewidth=2.5,
                zorder=3)[0].set_gid(f"start:{y}")
        if pd.isna(v):
            ax.text(b + 0.3, y, not_rated_text, va="center", ha="left", style="italic",
                    fontsize=FAMILY_TICK_SIZE, color=MUTED).set_gid(f"not-rated:{y}")
            continue
        if v != b:
            ax.annotate("", xy=(v, y), xytext=(b, y), zorder=2,
                        arrowprops={"arrowstyle": "-|>", "color": BLUE, "linewidth": 3,
                                    "mutation_scale": 22, "shrinkA": 13, "shrinkB": 11}
                        ).set_gid(f"arrow:{y}")
        ax.plot([v], [y], linestyle="none", marker=NOW_MARKER, markersize=NOW_SIZE,
                markerfacecolor=BLUE, markeredgecolor=INK, markeredgewidth=1.5,
                zorder=4)[0].set_gid(f"now:{y}")

    ax.set_xlim(levels[0] - 0.5, 2.5)
    ax.set_ylim(n - 0.5, -0.6)
    width = chars(size_pt(ax)[0] / len(levels), FAMILY_TICK_SIZE) + 2
    ax.set_xticks(levels, [wrap(level_text[lv], width) for lv in levels],
                  fontsize=FAMILY_TICK_SIZE)
    ax.xaxis.set_ticks_position("top")
    ax.tick_params(axis="x", length=0, pad=8, colors=INK)
    ax.get_xticklabels()[levels.index(0)].set_fontweight("bold")
    ax.set_yticks(ys, [str(label) for label in data[C.LABEL]], fontsize=FAMILY_TEXT_SIZE,
                  fontweight="bold")
    ax.tick_params(axis="y", length=0, pad=10, colors=INK)
    for side in ("top", "right", "left", "bottom"):
        ax.spines[side].set_visible(False)
    ax.grid(False)
    for x in levels:
        if x != 0:
            ax.axvline(x, color=GRID, linewidth=1, zorder=0)
    handles = [Line2D([], [], linestyle="none", marker=START_MARKER, markersize=16,
                      markerfacecolor="white", markeredgecolor=MUTED, markeredgewidth=2.5),
               Line2D([], [], linestyle="none", marker=NOW_MARKER, markersize=13,
                      markerfacecolor=BLUE, markeredgecolor=INK)]
    ax.legend(handles, [start_text, now_text], loc="upper center", bbox_to_anchor=(0.5, 0.0),
              ncol=2, frameon=False, fontsize=FAMILY_TICK_SIZE, handletextpad=0.5,
              columnspacing=2.0)
    return ax


__all__ = ["plot_goal_steps"]


def goal_steps_alt(data: pd.DataFrame, *, level_text: dict, start_text: str = "At the start",
                   now_text: str = "Now", not_rated_text: str = "not checked yet",
                   empty_text: str = "No goals yet.") -> str:
    """The alternative text of :func:`plot_goal_steps`, in the report's
    language: built only from the words the caller gives the chart (each
    goal's label, then ``start_text``: its start level's words, and
    ``now_text``: its level now, or ``not_rated_text``)."""
    require(data, [C.LABEL, C.BASELINE_LEVEL, C.LATEST_LEVEL], "goal_steps_alt")
    if data.empty:
        return empty_text
    words = {int(k): str(v) for k, v in level_text.items()}
    parts = []
    base = pd.to_numeric(data[C.BASELINE_LEVEL], errors="coerce")
    now = pd.to_numeric(data[C.LATEST_LEVEL].astype("Float64"), errors="coerce")
    for label, b, v in zip(data[C.LABEL], base, now, strict=True):
        start = words.get(int(b), "") if not pd.isna(b) else ""
        later = not_rated_text if pd.isna(v) else words.get(int(v), "")
        parts.append(f"{label}: {start_text}: {start}; {now_text}: {later}.")
    return " ".join(parts)
