"""Layout helpers shared by the charts: the column check every chart starts
with, band labels, text wrapping to the space available, row ticks,
titles and legends. They place and label; they compute no statistics."""

from __future__ import annotations

import functools
import numbers
import textwrap
from collections.abc import Mapping, Sequence

import matplotlib as mpl
import matplotlib.text as mtext
import matplotlib.transforms as mtransforms
import numpy as np
import pandas as pd
from matplotlib.axes import Axes

from sensoryprofile.errors import UsageError
from sensoryprofile.instruments.model import DEFAULT_LABELS, LEVELS
from sensoryprofile.instruments.schema import LEVEL_KEYS
from sensoryprofile.plots.style import GRID, INK, LABEL_SIZE, NOTE_SIZE, TICK_SIZE, TITLE_SIZE


def literal_text(chart):
    """Decorate a chart function so that every text it draws is literal: a
    site called "$2 & $1" or a goal "Lunch $5 (50% off $10)" is drawn as
    written, never parsed as mathtext (which would fail, or swallow the
    dollar signs). Text made while the chart draws, tick labels included, is
    created with ``text.parse_math`` off and marked so afterwards."""
    @functools.wraps(chart)
    def draw(*args, **kwargs):
        with mpl.rc_context({"text.parse_math": False}):
            ax = chart(*args, **kwargs)
            for text in ax.figure.findobj(mtext.Text):
                text.set_parse_math(False)
        return ax

    return draw


def require(data: pd.DataFrame, needed: Sequence[str], func: str) -> None:
    """The check every chart starts with: ``data`` is a DataFrame with these columns."""
    if not isinstance(data, pd.DataFrame):
        raise UsageError(f"`data` for {func} must be a pandas DataFrame, "
                         f"but {type(data).__name__} was passed")
    missing = [c for c in needed if c not in data.columns]
    if missing:
        raise UsageError(f"`data` for {func} must have the column(s) {', '.join(needed)}; "
                         f"missing: {', '.join(missing)}")


def band_labels(labels) -> dict[int, str]:
    """Classification text by level from None (the five standard levels), a
    form's classification scheme (its own levels: three one-sided levels are
    0, 1, 2 from typical outward), a mapping (level keys such as
    ``"much_less"``, or levels -2..2 including 0: a form's own subset), or
    five texts from least to most. A scheme's levels beyond +-2 (a form with
    more than five) share the outermost band's colour and are drawn at the
    scale's edge (:func:`band_level`)."""
    if labels is None:
        return {LEVELS[k]: DEFAULT_LABELS[k] for k in LEVEL_KEYS}
    by_ordinal = getattr(labels, "labels_by_ordinal", None)
    if by_ordinal is not None:  # a Scheme: every level of it (beyond +-2: at the edge)
        return {int(k): str(v) for k, v in sorted(by_ordinal.items())}
    if isinstance(labels, Mapping) and labels and all(
            isinstance(k, int | np.integer) and not isinstance(k, bool) for k in labels):
        out = {int(k): str(v) for k, v in labels.items() if -2 <= int(k) <= 2}
        if 0 in out and sorted(out) == list(range(min(out), max(out) + 1)):
            return out
    if isinstance(labels, Mapping):
        out = {}
        for key, level in LEVELS.items():
            if key in labels:
                out[level] = str(labels[key])
            elif level in labels:
                out[level] = str(labels[level])
        if len(out) == 5:
            return out
    elif not isinstance(labels, str) and len(labels) == 5:
        return dict(zip((-2, -1, 0, 1, 2), map(str, labels), strict=True))
    raise UsageError("`labels` must be a mapping with the keys "
                     f"{list(LEVEL_KEYS)} (or levels -2..2), or five texts from "
                     f"least to most, but {labels!r} was passed")


def band_level(level: int) -> int:
    """The band (-2..2) a classification level is drawn in: its own, or the
    outermost on its side for a scheme with more than five levels."""
    return max(-2, min(2, int(level)))


def wrap(text: str, width: int) -> str:
    # whole words only: a label's word is never cut in two
    return "\n".join(textwrap.wrap(str(text), max(4, int(width)),
                                   break_long_words=False)) or str(text)


def size_pt(ax: Axes) -> tuple[float, float]:
    """The axes' width and height in points, as laid out when the chart is drawn
    (layout math: it decides wrapping, tick counts and marker sizes)."""
    fig = ax.figure
    pos = ax.get_position()
    return pos.width * fig.get_figwidth() * 72, pos.height * fig.get_figheight() * 72


def chars(width_pt: float, fontsize: float) -> int:
    """About how many characters of DejaVu Sans fit in ``width_pt``."""
    return int(width_pt / (0.58 * fontsize))


def finish_axes(ax: Axes, *, grid: str | None, numeric: str | None = None) -> None:
    """Light grid on one axis (or none), no top/right spines; tick labels of a
    ``numeric`` axis (whose labels matplotlib makes) at :data:`TICK_SIZE`."""
    ax.spines["top"].set_visible(False)
    ax.spines["right"].set_visible(False)
    ax.tick_params(colors=INK)
    if numeric is not None:
        ax.tick_params(axis=numeric, labelsize=TICK_SIZE)
    ax.grid(False)
    if grid is not None:
        ax.grid(True, axis=grid, color=GRID, linewidth=0.8)
        ax.set_axisbelow(True)


def title(ax: Axes, text: str) -> None:
    ax.set_title(text, fontsize=TITLE_SIZE, fontweight="bold", loc="left", pad=12, color=INK)


def grouped_rows(groups: Sequence[tuple[str | None, Sequence]]) -> tuple[list, list, list]:
    """y positions for rows drawn top to bottom in groups with a header each.

    Returns (the y of each member, per group; the ticks as (y, text) pairs;
    the indexes of the header ticks). y grows downwards (the axis is inverted).
    """
    member_y, tick_y, tick_text, header_idx = [], [], [], []
    y = 0.0
    for g, (header, members) in enumerate(groups):
        if g:
            y += 0.6
        if header is not None:
            header_idx.append(len(tick_y))
            tick_y.append(y)
            tick_text.append(header)
            y += 1
        ys = []
        for member in members:
            ys.append(y)
            tick_y.append(y)
            tick_text.append(member)
            y += 1
        member_y.append(ys)
    return member_y, list(zip(tick_y, tick_text, strict=True)), header_idx


def set_row_ticks(ax: Axes, ticks, header_idx) -> None:
    """y tick labels for :func:`grouped_rows`, headers in bold."""
    ax.set_yticks([t[0] for t in ticks], [t[1] for t in ticks], fontsize=TICK_SIZE)
    ax.tick_params(axis="y", length=0)
    labels = ax.get_yticklabels()
    for i in header_idx:
        labels[i].set_fontweight("bold")


def legend(ax: Axes, handles, labels, *, ncol: int) -> None:
    """A legend centred under the x axis label, placed in points so that it
    clears the tick labels and the axis label whatever the axes' height."""
    drop = (8 + 1.3 * TICK_SIZE + 8 + 1.3 * LABEL_SIZE + 6) / 72
    offset = mtransforms.ScaledTranslation(0, -drop, ax.figure.dpi_scale_trans)
    ax.legend(handles, labels, loc="upper center", bbox_to_anchor=(0.5, 0),
              bbox_transform=ax.transAxes + offset, ncol=ncol, frameon=False,
              fontsize=NOTE_SIZE, handlelength=2.6, columnspacing=1.6)


# ---------------------------------------------------------------------------
# alternative text: each chart module has a ``<chart>_alt`` builder beside its
# chart function, which words what the chart draws from the same frame
# ---------------------------------------------------------------------------
def show_figure(fig, *, alt: str) -> None:
    """Show ``fig`` in a notebook with its alternative text ``alt`` (the
    report template writes it as the image's ``alt``), then close it so that
    it is not shown a second time at the end of the cell."""
    import matplotlib.pyplot as plt
    from IPython.display import display

    if not isinstance(alt, str) or not alt.strip():
        raise UsageError("`alt` must be the chart's description in words (a non-empty text), "
                         f"but {alt!r} was passed")
    metadata = {mime: {"alt": alt} for mime in ("image/svg+xml", "image/png")}
    display(fig, metadata=metadata)
    plt.close(fig)


def is_blank(value) -> bool:
    """True for None, NaN, NA and NaT."""
    if value is None:
        return True
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def when_text(value) -> str:
    """A chart's x value in words: a date as its month ("March 2024", as the
    axis ticks), a number as months since referral ("month 6")."""
    if is_blank(value):
        return "an unknown date"
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        return f"month {float(value):g}"
    try:
        return pd.Timestamp(value).strftime("%B %Y")
    except (TypeError, ValueError):
        return str(value)


def number_text(value, digits: int = 0, *, signed: bool = False, percent: bool = False
                ) -> str:
    """A number as the chart labels it (a real minus sign)."""
    if is_blank(value):
        return "no value"
    value = float(value)
    text = f"{value:+.{digits}%}" if signed and percent else (
        f"{value:.{digits}%}" if percent else f"{value:+.{digits}f}" if signed
        else f"{value:.{digits}f}")
    return text.replace("-", "\u2212")


def sentences(title: str, parts) -> str:
    """``title``, then each part as a sentence: "Title. A. B."."""
    parts = [str(p).strip().rstrip(".") for p in parts if p is not None and str(p).strip()]
    head = title.strip().rstrip(".")
    return ". ".join([head, *parts]) + "."


def runs(steps) -> str:
    """Steps ``(state, when)`` in time order as words, a run of the same state
    said once: "More Than Others (July 2024), then Just Like the Majority of
    Others (January 2025 to July 2026)"."""
    merged: list[list[str]] = []
    for state, when in steps:
        if merged and merged[-1][0] == state:
            merged[-1][2] = when
        else:
            merged.append([state, when, when])
    return ", then ".join(f"{state} ({first})" if first == last else
                          f"{state} ({first} to {last})" for state, first, last in merged)
