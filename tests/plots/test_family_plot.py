"""The family report's goal chart (sensoryprofile/plots/family.py): what was
drawn, not pixels."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from matplotlib.colors import to_rgba  # noqa: E402

from sensoryprofile import columns as C  # noqa: E402
from sensoryprofile import plots as P  # noqa: E402
from sensoryprofile.errors import UsageError  # noqa: E402
from sensoryprofile.plots import family as PF  # noqa: E402
from sensoryprofile.plots import style as S  # noqa: E402

WORDS = {-2: "not yet", -1: "part of the way", 0: "goal reached", 1: "beyond the goal",
         2: "well beyond the goal"}


def _goals(*rows) -> pd.DataFrame:
    return pd.DataFrame({C.LABEL: [r[0] for r in rows],
                         C.BASELINE_LEVEL: [r[1] for r in rows],
                         C.LATEST_LEVEL: pd.array([r[2] for r in rows], dtype="Int64")})


def _by_gid(ax, prefix):
    return [a for a in [*ax.lines, *ax.texts, *ax.patches] if (a.get_gid() or "").startswith(
        prefix)]


def _flat(text) -> str:
    return " ".join(str(text).split())


def test_each_goal_from_start_to_now():
    fig, ax = plt.subplots(figsize=(8, 3.5))
    data = _goals(("Goal 1", -1, 1), ("Goal 2", -2, -2), ("Goal 3", -2, pd.NA))
    out = P.plot_goal_steps(data, level_text=WORDS, start_text="At the start", now_text="Now",
                            not_rated_text="not checked yet", ax=ax)
    assert out is ax
    starts = _by_gid(ax, "start:")
    nows = _by_gid(ax, "now:")
    # three starts (every goal has one), two "now" markers (goal 3 is not rated yet)
    assert [(s.get_xdata()[0], s.get_ydata()[0]) for s in starts] == [(-1, 0), (-2, 1), (-2, 2)]
    assert [(n.get_xdata()[0], n.get_ydata()[0]) for n in nows] == [(1, 0), (-2, 1)]
    # an arrow only where the goal moved
    arrows = _by_gid(ax, "arrow:")
    assert [a.get_gid() for a in arrows] == ["arrow:0"]
    assert arrows[0].xy == (1, 0) and arrows[0].xyann == (-1, 0)
    assert [t.get_text() for t in _by_gid(ax, "not-rated:")] == ["not checked yet"]
    # start and now differ by shape and fill, not colour alone
    assert starts[0].get_marker() == "o" and nows[0].get_marker() == "D"
    assert to_rgba(starts[0].get_markerfacecolor()) == to_rgba("white")
    assert to_rgba(nows[0].get_markerfacecolor()) == to_rgba(S.BLUE)
    # the steps in words, the goal's step in bold; rows top to bottom
    ticks = ax.get_xticklabels()
    assert [_flat(t.get_text()) for t in ticks] == list(WORDS.values())
    assert [t.get_fontweight() for t in ticks].count("bold") == 1
    assert ticks[2].get_fontweight() == "bold"
    assert [t.get_text() for t in ax.get_yticklabels()] == ["Goal 1", "Goal 2", "Goal 3"]
    assert ax.get_ylim()[0] > ax.get_ylim()[1]  # inverted: goal 1 on top
    assert _by_gid(ax, "goal-column")  # the goal is a shaded column
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == ["At the start", "Now"]


def test_large_type():
    fig, ax = plt.subplots(figsize=(8, 3))
    P.plot_goal_steps(_goals(("Goal 1", -1, 0)), level_text=WORDS, ax=ax)
    sizes = [t.get_fontsize() for t in ax.get_xticklabels() + ax.get_yticklabels()]
    sizes += [t.get_fontsize() for t in ax.get_legend().get_texts()]
    assert min(sizes) >= PF.FAMILY_TICK_SIZE == 14
    assert ax.get_yticklabels()[0].get_fontsize() == PF.FAMILY_TEXT_SIZE == 15


def test_six_level_scale_and_words_in_any_language():
    words = {-3: "más difícil que al principio", -2: "todavía no", -1: "parte del camino",
             0: "objetivo logrado", 1: "más allá del objetivo", 2: "muy por encima del objetivo"}
    fig, ax = plt.subplots(figsize=(8, 3))
    P.plot_goal_steps(_goals(("Objetivo 1", -1, -3)), level_text=words, start_text="Al principio",
                      now_text="Ahora", ax=ax)
    assert [_flat(t.get_text()) for t in ax.get_xticklabels()] == list(words.values())
    assert ax.get_xlim() == (-3.5, 2.5)
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["Al principio", "Ahora"]


def test_no_goals_says_so():
    fig, ax = plt.subplots()
    P.plot_goal_steps(_goals(), level_text=WORDS, empty_text="No goals yet.", ax=ax)
    assert [t.get_text() for t in ax.texts] == ["No goals yet."]
    assert not ax.axison and not ax.lines


def test_bad_input_is_named():
    fig, ax = plt.subplots()
    with pytest.raises(UsageError, match="must have the column"):
        P.plot_goal_steps(pd.DataFrame({C.LABEL: ["Goal 1"]}), level_text=WORDS, ax=ax)
    with pytest.raises(UsageError, match=r"must be among \[-2, -1, 0, 1, 2\].*\[-3\]"):
        P.plot_goal_steps(_goals(("Goal 1", -1, -3)), level_text=WORDS, ax=ax)
    with pytest.raises(UsageError, match="words for every level"):
        P.plot_goal_steps(_goals(("Goal 1", -1, 0)), level_text={0: "goal"}, ax=ax)


def test_uses_the_current_axes_by_default():
    fig, ax = plt.subplots()
    assert P.plot_goal_steps(_goals(("Goal 1", -2, 1)), level_text=WORDS) is ax
