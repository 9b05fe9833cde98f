"""The charts of the caseload report (and the cohort's goal levels): counts
per group, classifications at intake and now, T-score change per group,
goal-setting calibration. Tidy frame in, ``ax=None``, the Axes out; they draw
only."""

from __future__ import annotations

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.colors import to_rgb
from matplotlib.patches import Patch, Rectangle

from sensoryprofile import columns as C
from sensoryprofile.columns import CI_HIGH, CI_LOW, COUNT, MEDIAN, SHARE, TIMEPOINT, N
from sensoryprofile.errors import UsageError
from sensoryprofile.measures.gas import EXPECTED_GAS_SHARES
from sensoryprofile.plots.layout import (
    band_labels,
    band_level,
    chars,
    finish_axes,
    grouped_rows,
    is_blank,
    legend,
    literal_text,
    number_text,
    require,
    sentences,
    set_row_ticks,
    size_pt,
    title,
    wrap,
)
from sensoryprofile.plots.style import (
    BAND_COLORS,
    BLUE,
    DARK_HATCH_COLOR,
    GAS_LEVEL_COLORS,
    GAS_LEVEL_TEXT,
    HATCH_COLOR,
    INK,
    LABEL_SIZE,
    MUTED,
    NOTE_SIZE,
    SERIES_COLORS,
    SERIES_HATCHES,
    STACK_HATCHES,
    TICK_SIZE,
)


def _plain(name: str) -> str:
    """A column name as words: ``"social_emotional"`` -> ``"social emotional"``."""
    return str(name).replace("_", " ").strip()


def _luma(color) -> float:
    """Lightness as a greyscale printer sees it (Rec. 601 luma, 0..1)."""
    r, g, b = to_rgb(color)
    return 0.299 * r + 0.587 * g + 0.114 * b


def _text_color_on(color) -> str:
    return "white" if _luma(color) < 0.45 else INK


def _hatch_color_on(color) -> str:
    """Hatching that shows on a fill: white on dark fills, grey on light ones."""
    return HATCH_COLOR if _luma(color) < 0.6 else DARK_HATCH_COLOR


def _stack_patch(level: int, colors: dict) -> Patch:
    """A legend entry of a stacked bar's level: its fill and its pattern."""
    return Patch(facecolor=colors[level], hatch=STACK_HATCHES[level] or None,
                 edgecolor="white", hatchcolor=_hatch_color_on(colors[level]))


def _order(values: pd.Series) -> list:
    """Category order: a categorical's order, else first appearance."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        present = set(values.dropna())
        return [c for c in values.cat.categories if c in present]
    return list(pd.unique(values.dropna()))


@literal_text
def plot_caseload_counts(data: pd.DataFrame, *, x: str, hue: str | None = None,
                         ylabel: str = "Number of children", ax: Axes | None = None,
                         **kwargs) -> Axes:
    """Counts as bars, one per value of ``x`` (e.g. site or therapist),
    side by side per value of ``hue`` when given (hatched so they read in
    greyscale). Each bar carries its count.

    Parameters
    ----------
    data : DataFrame, one row per ``x`` (x ``hue``) value, with the columns
        named by ``x`` (and ``hue``) and ``count``.
    x : column whose values label the bars.
    hue : column whose values split the bars, optional.
    ylabel : what is counted.
    ax : Axes, optional
    **kwargs : passed to :meth:`Axes.bar`.

    Returns
    -------
    Axes
    """
    if ax is None:
        ax = plt.gca()
    needed = [x, COUNT] + ([hue] if hue is not None else [])
    require(data, needed, "plot_caseload_counts")
    keys = [x] + ([hue] if hue is not None else [])
    if data.duplicated(keys).any():
        raise UsageError(f"`data` for plot_caseload_counts must have one row per {keys}, but "
                         "some appear more than once")
    cats = _order(data[x])
    levels = _order(data[hue]) if hue is not None else [None]
    width = 0.8 / len(levels)
    handles = []
    for i, level in enumerate(levels):
        part = data if level is None else data[data[hue] == level]
        part = part[part[COUNT].notna()]
        xs = [cats.index(v) - 0.4 + width * (i + 0.5) for v in part[x]]
        heights = pd.to_numeric(part[COUNT]).to_numpy(dtype=float)
        style = {"color": SERIES_COLORS[i % len(SERIES_COLORS)], "edgecolor": "white",
                 "hatch": SERIES_HATCHES[i % len(SERIES_HATCHES)] or None, "linewidth": 0.8,
                 "label": None if level is None else str(level), **kwargs}
        bars = ax.bar(xs, heights, width=width * 0.92, **style)
        ax.bar_label(bars, labels=[f"{h:g}" for h in heights], padding=2,
                     fontsize=NOTE_SIZE, color=INK)
        handles.append(bars)
    per_bar = chars(size_pt(ax)[0] / max(len(cats), 1), TICK_SIZE)  # room under each bar
    ax.set_xticks(range(len(cats)), [wrap(c, max(6, per_bar)) for c in cats],
                  fontsize=TICK_SIZE)
    ax.tick_params(axis="x", length=0)
    ax.set_xlim(-0.6, len(cats) - 0.4)
    ax.margins(y=0.12)
    finish_axes(ax, grid="y", numeric="y")
    ax.yaxis.set_major_locator(mpl.ticker.MaxNLocator(integer=True))
    ax.set_xlabel(_plain(x).capitalize(), fontsize=LABEL_SIZE)
    ax.set_ylabel(ylabel, fontsize=LABEL_SIZE)
    if hue is not None and len(levels) > 1:
        ax.legend(handles, [_plain(lv) for lv in levels], title=_plain(hue).capitalize(),
                  frameon=False, fontsize=NOTE_SIZE, title_fontsize=NOTE_SIZE,
                  loc="upper left", bbox_to_anchor=(1.0, 1.0))
    title(ax, f"{ylabel} by {_plain(x)}")
    return ax


def _stacked_rows(ax: Axes, rows: list[tuple[float, list[tuple[float, str, str | None]]]],
                  *, height: float = 0.75, kwargs: dict) -> None:
    """Horizontal 100% bars: ``rows`` holds (y, [(share, colour, hatch), ...]);
    shares of at least 6% carry their percentage. A white segment gets a grey
    outline and grey hatching."""
    for y, segments in rows:
        left = 0.0
        for share, color, hatch in segments:
            if not share or np.isnan(share):
                continue
            style = {"color": color, "hatch": hatch, "linewidth": 0.8, "zorder": 2,
                     "edgecolor": MUTED if color == "white" else "white",
                     "hatchcolor": MUTED if color == "white" else _hatch_color_on(color),
                     **kwargs}
            bar = ax.barh(y, share, left=left, height=height, **style)
            bar.patches[0].set_gid("segment")
            if share >= 0.06:
                ax.text(left + share / 2, y, f"{share:.0%}", ha="center", va="center",
                        fontsize=NOTE_SIZE - 1, color=_text_color_on(color), zorder=6,
                        bbox={"boxstyle": "round,pad=0.15", "facecolor": color,
                              "edgecolor": "none"})
            left += share


def _check_share(data: pd.DataFrame, func: str) -> pd.Series:
    share = pd.to_numeric(data[SHARE], errors="coerce")
    if (share > 1 + 1e-9).any() or (share < 0).any():
        raise UsageError(f"`share` in `data` for {func} must be a fraction from 0 to 1, "
                         f"but values from {share.min():g} to {share.max():g} were passed")
    return share


@literal_text
def plot_classification_shift(data: pd.DataFrame, *, labels=None, ax: Axes | None = None,
                              **kwargs) -> Axes:
    """How the caseload's classifications are spread at intake and latest,
    per quadrant: 100% stacked bars, one pair per quadrant, bands coloured as
    in the child charts. A missing classification is drawn as "not
    classified" (white, grey hatching).

    Parameters
    ----------
    data : DataFrame, one row per quadrant x timepoint x classification, with
        columns ``score_name``, ``timepoint`` ("intake" or "latest"),
        ``classification`` (label text; missing = not classified) and
        ``share`` (fraction of that quadrant and timepoint, 0..1).
    labels : band labels, as in :func:`plot_quadrant_profile`; the
        classification texts must be among them.
    ax : Axes, optional
    **kwargs : passed to :meth:`Axes.barh` for every segment.

    Returns
    -------
    Axes
    """
    if ax is None:
        ax = plt.gca()
    require(data, [C.SCORE_NAME, TIMEPOINT, C.CLASSIFICATION, SHARE],
             "plot_classification_shift")
    band_text = band_labels(labels)
    level_of = {text: level for level, text in band_text.items()}
    share = _check_share(data, "plot_classification_shift")
    classes = data[C.CLASSIFICATION].astype(object)
    bad = sorted({str(c) for c in classes.dropna() if c not in level_of})
    if bad:
        raise UsageError(f"The values of `classification` must be one of "
                         f"{list(band_text.values())}, but {bad} was passed")
    points = data[TIMEPOINT].astype(object)
    bad = sorted({str(t) for t in points if t not in ("intake", "latest")})
    if bad:
        raise UsageError("The values of `timepoint` must be one of ['intake', 'latest'], "
                         f"but {bad} was passed")
    if data.duplicated([C.SCORE_NAME, TIMEPOINT, C.CLASSIFICATION]).any():
        raise UsageError("`data` for plot_classification_shift must have one row per "
                         "score_name x timepoint x classification, but some appear more "
                         "than once")
    frame = pd.DataFrame({"name": data[C.SCORE_NAME].astype(object).to_numpy(),
                          "point": points.to_numpy(), "level": classes.map(level_of).to_numpy(),
                          "share": share.to_numpy(dtype=float)})
    names = _order(data[C.SCORE_NAME])
    title(ax, "Sensory patterns at intake and now")
    if not names:
        ax.text(0.5, 0.5, "no classifications to show", transform=ax.transAxes,
                ha="center", fontsize=NOTE_SIZE, style="italic")
        return ax
    point_text = {"intake": "at intake", "latest": "latest"}
    groups = [(str(name), [point_text[p] for p in ("intake", "latest")
                           if ((frame["name"] == name) & (frame["point"] == p)).any()])
              for name in names]
    member_y, ticks, header_idx = grouped_rows(groups)
    rows = []
    unclassified = False
    for name, ys, (_, members) in zip(names, member_y, groups, strict=True):
        for y, member in zip(ys, members, strict=True):
            point = "intake" if member == "at intake" else "latest"
            part = frame[(frame["name"] == name) & (frame["point"] == point)]
            segments = []
            for level in sorted(band_text):  # the form's own levels
                value = part.loc[part["level"] == level, "share"].max()
                band = band_level(level)  # beyond +-2: the outermost band's colour
                segments.append((value, BAND_COLORS[band], STACK_HATCHES[band] or None))
            missing = part.loc[part["level"].isna(), "share"].max()
            if not np.isnan(missing):
                unclassified = True
                segments.append((missing, "white", "xx"))
            rows.append((y, segments))
    _stacked_rows(ax, rows, kwargs=kwargs)
    set_row_ticks(ax, ticks, header_idx)
    ax.set_ylim(ticks[-1][0] + 0.6, -0.6)
    ax.set_xlim(0, 1)
    ax.xaxis.set_major_formatter(mpl.ticker.PercentFormatter(xmax=1))
    finish_axes(ax, grid=None, numeric="x")
    ax.spines["left"].set_visible(False)
    ax.set_xlabel("Share of children", fontsize=LABEL_SIZE)
    handles = [_stack_patch(band_level(lv), BAND_COLORS) for lv in sorted(band_text)]
    texts = [band_text[lv] for lv in sorted(band_text)]
    if unclassified:
        handles.append(Patch(facecolor="white", hatch="xx", edgecolor=MUTED))
        texts.append("not classified")
    legend(ax, handles, texts, ncol=3)
    return ax


@literal_text
def plot_tchange_by_group(data: pd.DataFrame, *, group: str,
                          interval: str = "95% interval", min_group: int = 5,
                          ax: Axes | None = None, **kwargs) -> Axes:
    """Median change in goal T-score per group, with its interval.

    Groups whose statistics were suppressed (median missing) say "fewer than
    5 children" instead of a point. A vertical line marks no change.

    Parameters
    ----------
    data : DataFrame, one row per group, with columns named by ``group``,
        ``median``, ``ci_low``, ``ci_high`` and ``n`` (children in the group).
    group : column holding the group names (e.g. "site", "therapist").
    interval : how the interval is described in the axis label.
    ax : Axes, optional
    **kwargs : passed to :meth:`Axes.errorbar`.

    Returns
    -------
    Axes
    """
    if ax is None:
        ax = plt.gca()
    require(data, [group, MEDIAN, CI_LOW, CI_HIGH, N], "plot_tchange_by_group")
    rows = data.reset_index(drop=True)
    ys = np.arange(len(rows))
    med = pd.to_numeric(rows[MEDIAN], errors="coerce").to_numpy(dtype=float)
    lo = pd.to_numeric(rows[CI_LOW], errors="coerce").to_numpy(dtype=float)
    hi = pd.to_numeric(rows[CI_HIGH], errors="coerce").to_numpy(dtype=float)
    ns = pd.to_numeric(rows[N], errors="coerce").to_numpy(dtype=float)
    ax.axvline(0, color=INK, linewidth=1.2, linestyle="--", zorder=1).set_gid("no change")
    shown = ~np.isnan(med)
    if shown.any():
        err = np.vstack([med - lo, hi - med])[:, shown]
        err = np.where(np.isnan(err), 0, err)
        style = {"fmt": "o", "color": BLUE, "markersize": 10, "markeredgecolor": INK,
                 "elinewidth": 2.2, "capsize": 5, "capthick": 2, "zorder": 3, **kwargs}
        ax.errorbar(med[shown], ys[shown], xerr=err, **style)
    for y in ys[~shown]:
        ax.text(0, y, f"fewer than {min_group} children: not shown", ha="center",
                va="center",
                fontsize=NOTE_SIZE, style="italic", color=INK, zorder=4,
                bbox={"boxstyle": "round,pad=0.3", "facecolor": "white",
                      "edgecolor": MUTED, "linewidth": 0.8})
    names = [f"{name}\n(n = {n:g})" if not np.isnan(n) else str(name)
             for name, n in zip(rows[group], ns, strict=True)]
    ax.set_yticks(ys, names, fontsize=TICK_SIZE)
    ax.tick_params(axis="y", length=0)
    ax.set_ylim(len(rows) - 0.4, -0.6)
    extent = np.concatenate([lo[shown], hi[shown], med[shown], [0.0]])
    extent = extent[~np.isnan(extent)]
    span = max(5.0, float(np.abs(extent).max()) * 1.15)
    ax.set_xlim(min(-span * 0.35, float(extent.min()) - span * 0.1), span)
    finish_axes(ax, grid="x", numeric="x")
    ax.spines["left"].set_visible(False)
    ax.set_xlabel(f"Change in goal T-score since goals were set (median, {interval})",
                  fontsize=LABEL_SIZE)
    title(ax, f"Goal progress by {_plain(group)}")
    return ax


@literal_text
def plot_goal_calibration(data: pd.DataFrame, *, ax: Axes | None = None, **kwargs) -> Axes:
    """Final goal levels per therapist against the shape expected when goals
    are well set (:data:`~sensoryprofile.measures.gas.EXPECTED_GAS_SHARES`).

    The expected shape is the top bar (outlined in black) and dashed lines
    carry its boundaries down through every therapist's bar, so a bar shifted
    right means goals set too easily, shifted left too ambitiously.

    Parameters
    ----------
    data : DataFrame, one row per therapist x level, with columns
        ``therapist``, ``level`` (-3..2; -3 only on the six-level scale) and
        ``share`` (fraction of that therapist's goals, 0..1). Optional ``n``
        (goals rated for that therapist, the same on each of their rows) is
        shown next to the name.
    ax : Axes, optional
    **kwargs : passed to :meth:`Axes.barh` for every segment.

    Returns
    -------
    Axes
    """
    if ax is None:
        ax = plt.gca()
    require(data, [C.THERAPIST, C.LEVEL, SHARE], "plot_goal_calibration")
    share = _check_share(data, "plot_goal_calibration")
    level = pd.to_numeric(data[C.LEVEL], errors="coerce")
    bad = sorted({v for v in level.dropna() if v not in GAS_LEVEL_TEXT})
    if bad:
        raise UsageError(f"The values of `level` must be one of {sorted(GAS_LEVEL_TEXT)}, "
                         f"but {bad} was passed")
    if data.duplicated([C.THERAPIST, C.LEVEL]).any():
        raise UsageError("`data` for plot_goal_calibration must have one row per therapist x "
                         "level, but some appear more than once")
    frame = pd.DataFrame({"who": data[C.THERAPIST].astype(object).to_numpy(),
                          "level": level.to_numpy(dtype=float),
                          "share": share.to_numpy(dtype=float)})
    levels = [-3, -2, -1, 0, 1, 2] if (frame["level"] == -3).any() else [-2, -1, 0, 1, 2]
    therapists = _order(data[C.THERAPIST])
    ns = {}
    if N in data.columns:
        for who, n in zip(data[C.THERAPIST], pd.to_numeric(data[N], errors="coerce"),
                          strict=True):
            if not np.isnan(n):
                ns[who] = n

    def segments(shares: dict) -> list:
        return [(shares.get(lv, np.nan), GAS_LEVEL_COLORS[lv], STACK_HATCHES[lv] or None)
                for lv in levels]

    rows = [(0.0, segments(EXPECTED_GAS_SHARES))]
    names = ["Expected when goals\nare well set"]
    for i, who in enumerate(therapists, start=1):
        part = frame[frame["who"] == who]
        shares = dict(zip(part["level"], part["share"], strict=True))
        rows.append((i + 0.4, segments(shares)))
        names.append(f"{who} (n = {ns[who]:g})" if who in ns else str(who))
    _stacked_rows(ax, rows, kwargs=kwargs)
    ax.add_patch(Rectangle((0, -0.375), sum(EXPECTED_GAS_SHARES.values()), 0.75,
                           facecolor="none", edgecolor=INK, linewidth=1.8, zorder=4,
                           gid="expected"))
    if therapists:
        cum = np.cumsum([EXPECTED_GAS_SHARES[lv] for lv in (-2, -1, 0, 1)])
        for edge in cum:
            ax.plot([edge, edge], [0.375, len(therapists) + 0.8], color=INK, linestyle="--",
                    linewidth=1.2, zorder=5, gid="expected boundary")
    ax.set_yticks([r[0] for r in rows], names, fontsize=TICK_SIZE)
    ax.get_yticklabels()[0].set_fontweight("bold")
    ax.tick_params(axis="y", length=0)
    ax.set_ylim(len(therapists) + 0.9, -0.6)
    ax.set_xlim(0, 1)
    ax.xaxis.set_major_formatter(mpl.ticker.PercentFormatter(xmax=1))
    finish_axes(ax, grid=None, numeric="x")
    ax.spines["left"].set_visible(False)
    ax.set_xlabel("Share of goals at each final level", fontsize=LABEL_SIZE)
    handles = [_stack_patch(lv, GAS_LEVEL_COLORS) for lv in levels]
    legend(ax, handles, [GAS_LEVEL_TEXT[lv] for lv in levels], ncol=3)
    title(ax, "How well goals are set, by therapist")
    return ax


# ---------------------------------------------------------------------------
# alternative text: what each chart above draws, in words, from the same frame
# ---------------------------------------------------------------------------
def caseload_counts_alt(data: pd.DataFrame, *, x: str, hue: str | None = None,
                        ylabel: str = "Number of children") -> str:
    """The alternative text of :func:`plot_caseload_counts`: every bar's
    group and count (per ``hue`` value when given)."""
    needed = [x, COUNT] + ([hue] if hue is not None else [])
    require(data, needed, "caseload_counts_alt")
    parts = []
    for value in _order(data[x]):
        part = data[(data[x] == value) & data[COUNT].notna()]
        if hue is None:
            parts.extend(f"{value}: {float(n):g}" for n in part[COUNT])
        else:
            parts.append(f"{value}: " + ", ".join(
                f"{_plain(h)} {float(n):g}" for h, n in zip(part[hue], part[COUNT],
                                                          strict=True)))
    return sentences(f"Bar chart of {ylabel.lower()} by {_plain(x)}",
                     ["; ".join(parts)] if parts else ["No children"])


def classification_shift_alt(data: pd.DataFrame, *, labels=None) -> str:
    """The alternative text of :func:`plot_classification_shift`: for each
    score, the share of children in each classification at intake and at the
    latest questionnaire (classifications with no child left out)."""
    require(data, [C.SCORE_NAME, TIMEPOINT, C.CLASSIFICATION, SHARE],
            "classification_shift_alt")
    band_text = band_labels(labels)
    order = {text: level for level, text in band_text.items()}
    parts = []
    for name in _order(data[C.SCORE_NAME]):
        said = []
        for point, words in (("intake", "at intake"), ("latest", "latest")):
            part = data[(data[C.SCORE_NAME] == name) & (data[TIMEPOINT] == point)]
            part = part.assign(_o=part[C.CLASSIFICATION].map(order).fillna(9)).sort_values(
                "_o", kind="stable")
            shares = [f"{'not classified' if is_blank(c) else c} {number_text(s, percent=True)}"
                      for c, s in zip(part[C.CLASSIFICATION], part[SHARE], strict=True)
                      if not is_blank(s) and s > 0]
            if shares:
                said.append(f"{words} " + ", ".join(shares))
        if said:
            parts.append(f"{name}: " + "; ".join(said))
    return sentences("Stacked bar chart of sensory patterns at intake and now (share of "
                     "children in each classification)", parts or ["No classifications to show"])


def tchange_by_group_alt(data: pd.DataFrame, *, group: str, interval: str = "95% interval",
                         min_group: int = 5) -> str:
    """The alternative text of :func:`plot_tchange_by_group`: each group's
    median change in goal T-score with its interval, or that it is not shown."""
    require(data, [group, MEDIAN, CI_LOW, CI_HIGH, N], "tchange_by_group_alt")
    parts = []
    for _, row in data.iterrows():
        name = (f"{row[group]} (n = {float(row[N]):g})" if not is_blank(row[N])
                else str(row[group]))
        if is_blank(row[MEDIAN]):
            parts.append(f"{name}: fewer than {min_group} children, not shown")
            continue
        text = f"{name}: {number_text(row[MEDIAN], 1, signed=True)}"
        if not is_blank(row[CI_LOW]) and not is_blank(row[CI_HIGH]):
            text += (f" ({number_text(row[CI_LOW], 1, signed=True)} to "
                     f"{number_text(row[CI_HIGH], 1, signed=True)})")
        parts.append(text)
    return sentences(f"Chart of goal progress by {_plain(group)}: median change in goal "
                     f"T-score since goals were set, with its {interval}; 0 is no change",
                     ["; ".join(parts)] if parts else ["No groups"])


def _level_shares(shares: dict, levels: list[int]) -> str:
    return ", ".join(f"{GAS_LEVEL_TEXT[lv].split(' ')[0]} {number_text(shares[lv], percent=True)}"
                     for lv in levels if lv in shares and not is_blank(shares[lv]))


def goal_calibration_alt(data: pd.DataFrame, *, who: str = C.THERAPIST,
                         what: str = "How well goals are set, by therapist") -> str:
    """The alternative text of :func:`plot_goal_calibration`: the expected
    spread of final levels, then each therapist's (or group's, ``who``)
    shares of goals at each level."""
    require(data, [who, C.LEVEL, SHARE], "goal_calibration_alt")
    level = pd.to_numeric(data[C.LEVEL], errors="coerce")
    levels = [-3, -2, -1, 0, 1, 2] if (level == -3).any() else [-2, -1, 0, 1, 2]
    parts = [f"Expected when goals are well set: {_level_shares(EXPECTED_GAS_SHARES, levels)}"]
    for name in _order(data[who]):
        part = data[data[who] == name]
        shares = dict(zip(pd.to_numeric(part[C.LEVEL]).astype(int), part[SHARE], strict=True))
        n = part[N].dropna().iloc[0] if N in part.columns and part[N].notna().any() else None
        label = f"{name} (n = {float(n):g})" if n is not None else str(name)
        parts.append(f"{label}: {_level_shares(shares, levels)}")
    lowest = number_text(levels[0])
    return sentences(f"Stacked bar chart: {what.lower()}: the share of goals at each final "
                     f"level, from {lowest} to +2", parts)
