"""Every chart of the per-child and caseload reports.

Each function takes a tidy frame first and everything else keyword-only, draws
into ``ax`` (the current Axes when ``ax`` is None) and returns it. A chart
function draws: it computes no statistics (those live in ``scoring``,
``change``, ``goals`` and ``caseload``), never creates a figure, never shows or
saves one. Input frames are never modified.

The charts are printed for families, so:

* every title, axis label and tick label is plain language (no column names);
* type is large (:data:`TITLE_SIZE`, :data:`LABEL_SIZE`, :data:`TICK_SIZE`,
  :data:`NOTE_SIZE` are set on each text, so a chart reads well with or
  without :func:`report_style`);
* colours are Okabe-Ito (colour-blind safe) and nothing depends on hue alone:
  the five classification bands differ in lightness and the two outer bands
  are hatched; each quadrant has its own marker and line style.

The band scale
--------------
Sensory charts share one horizontal (or vertical) scale in z units, from -3 to
+3, split by :data:`BAND_EDGES` into the five classification bands. The charts
read a ``position`` column: the score's z clipped to +-3, or for an instrument
normed with a cut-score table (no z) the centre of its band
(:data:`BAND_CENTERS`). The position is computed before plotting, not here.
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager

import matplotlib as mpl
import matplotlib.dates as mdates
import matplotlib.patheffects as pe
import matplotlib.pyplot as plt
import matplotlib.transforms as mtransforms
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.colors import to_rgb
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, Rectangle

from sensoryprofile import columns as C
from sensoryprofile.columns import (  # columns the charts read beyond the score tables
    CI_HIGH,
    CI_LOW,
    COUNT,
    IS_BASELINE,
    LABEL,
    MEDIAN,
    POSITION,
    SECTION_KIND,
    SHARE,
    TIMEPOINT,
    N,
)
from sensoryprofile.errors import UsageError
from sensoryprofile.instruments.model import DEFAULT_LABELS, LEVELS
from sensoryprofile.instruments.schema import LEVEL_KEYS, QUADRANTS
from sensoryprofile.norms import BAND_CENTERS

# ---------------------------------------------------------------------------
# palette: Okabe & Ito (2008), "Color Universal Design"
# ---------------------------------------------------------------------------
BLACK = "#000000"
ORANGE = "#E69F00"
SKY_BLUE = "#56B4E9"
BLUISH_GREEN = "#009E73"
YELLOW = "#F0E442"
BLUE = "#0072B2"
VERMILLION = "#D55E00"
REDDISH_PURPLE = "#CC79A7"
OKABE_ITO = (ORANGE, SKY_BLUE, BLUISH_GREEN, YELLOW, BLUE, VERMILLION, REDDISH_PURPLE, BLACK)

INK = "#222222"     # text and neutral marks
MUTED = "#5A5A5A"   # secondary text
GRID = "#DDDDDD"
HATCH_COLOR = "#FFFFFF"  # hatching drawn in white reads as lighter stripes in any print

#: Series colours in order of use, picked so neighbours differ in lightness.
SERIES_COLORS = (BLUE, ORANGE, BLUISH_GREEN, REDDISH_PURPLE, VERMILLION, SKY_BLUE, BLACK)
#: Hatching per series (caseload bars with ``hue``), so series read in greyscale.
SERIES_HATCHES = ("", "//", "..", "xx", "\\\\", "++", "oo")
SERIES_MARKERS = ("o", "^", "D", "v", "P", "X", "<", ">")

#: Fixed quadrant colours, markers and line styles (lines read in greyscale).
QUADRANT_COLORS = {
    "seeking": ORANGE,
    "avoiding": BLUE,
    "sensitivity": VERMILLION,
    "registration": BLUISH_GREEN,
}
QUADRANT_MARKERS = {"seeking": "o", "avoiding": "s", "sensitivity": "^", "registration": "D"}
QUADRANT_LINESTYLES = {
    "seeking": "-",
    "avoiding": "--",
    "sensitivity": ":",
    "registration": "-.",
}
#: Dunn's person label of each quadrant.
PERSON_LABELS = {
    "seeking": "Seeker",
    "avoiding": "Avoider",
    "sensitivity": "Sensor",
    "registration": "Bystander",
}

#: Band colours by classification level (-2 much less ... +2 much more). Their
#: lightness (Rec. 601 luma 0.60, 0.84, 0.945, 0.73, 0.48) differs by at least
#: 0.10 between any two, so the bands stay apart in greyscale print.
BAND_COLORS = {
    -2: "#64A9D0",  # much less: Okabe-Ito blue, lightened
    -1: "#B8DFF6",  # less: sky blue, lightened
    0: "#E7F6F2",   # typical: bluish green, nearly white
    1: "#ECB842",   # more: orange, lightened
    2: "#D66206",   # much more: vermillion
}
#: Hatching of the two outer bands (different directions, so they differ too).
BAND_HATCHES = {-2: "//", -1: "", 0: "", 1: "", 2: "\\\\"}

#: Band edges in z units: much less < -2 <= less < -1 <= typical <= 1 < more <= 2 < much more.
BAND_EDGES = (-3, -2, -1, 1, 2, 3)
#: Where a band's marks sit when a score has a band but no z (cut-score norms).

#: Goal attainment levels. -3 exists only on the six-level scale.
GAS_LEVEL_TEXT = {
    -3: "\u22123 worse than at the start",
    -2: "\u22122 much less than expected",
    -1: "\u22121 less than expected",
    0: "0 expected level",
    1: "+1 better than expected",
    2: "+2 much better than expected",
}
GAS_LEVEL_COLORS = {**BAND_COLORS, -3: "#4D4D4D"}
GAS_LEVEL_HATCHES = {**BAND_HATCHES, -3: "xx"}
#: Share of final levels -2..+2 expected when goals are well set (Kiresuk & Sherman 1968).
EXPECTED_GAS_SHARES = {-2: 0.07, -1: 0.21, 0: 0.43, 1: 0.21, 2: 0.07}

# ---------------------------------------------------------------------------
# type scale and the report style
# ---------------------------------------------------------------------------
TITLE_SIZE = 15
LABEL_SIZE = 13
TICK_SIZE = 12
NOTE_SIZE = 11

#: Figure sizes (inches) the reports use.
FIGSIZE = (8.0, 4.5)
FIGSIZE_SQUARE = (6.5, 6.5)

REPORT_RC = {
    "figure.figsize": FIGSIZE,
    "figure.dpi": 100,
    "figure.facecolor": "white",
    "savefig.dpi": 200,
    "savefig.bbox": "tight",
    "savefig.facecolor": "white",
    "svg.fonttype": "none",  # SVG text stays text: small files, crisp in print
    "svg.hashsalt": "sensoryprofile",  # the same figure gives the same SVG, every run
    "font.family": "sans-serif",
    "font.size": TICK_SIZE,
    "axes.titlesize": TITLE_SIZE,
    "axes.titleweight": "bold",
    "axes.titlelocation": "left",
    "axes.titlepad": 12,
    "axes.labelsize": LABEL_SIZE,
    "axes.labelcolor": INK,
    "axes.edgecolor": MUTED,
    "axes.linewidth": 0.8,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "axes.axisbelow": True,
    "axes.prop_cycle": mpl.cycler(color=list(SERIES_COLORS)),
    "grid.color": GRID,
    "grid.linewidth": 0.8,
    "xtick.labelsize": TICK_SIZE,
    "ytick.labelsize": TICK_SIZE,
    "xtick.color": INK,
    "ytick.color": INK,
    "legend.fontsize": NOTE_SIZE,
    "legend.frameon": False,
    "lines.linewidth": 2.0,
    "lines.markersize": 8,
    "text.color": INK,
    "hatch.linewidth": 1.5,
}


def apply_style() -> None:
    """Set the report style in matplotlib's global rcParams (for a notebook)."""
    mpl.rcParams.update(REPORT_RC)


@contextmanager
def report_style() -> Iterator[None]:
    """The report style for the duration of a ``with`` block only."""
    with mpl.rc_context(REPORT_RC):
        yield


# ---------------------------------------------------------------------------
# small helpers (layout only)
# ---------------------------------------------------------------------------
def _require(data: pd.DataFrame, needed: Sequence[str], func: str) -> None:
    if not isinstance(data, pd.DataFrame):
        raise UsageError(f"`data` for {func} must be a pandas DataFrame, "
                         f"but {type(data).__name__} was passed")
    missing = [c for c in needed if c not in data.columns]
    if missing:
        raise UsageError(f"`data` for {func} must have the column(s) {', '.join(needed)}; "
                         f"missing: {', '.join(missing)}")


def _band_labels(labels) -> dict[int, str]:
    """Classification text by level -2..2 from None, a mapping (level keys such
    as ``"much_less"`` or levels -2..2) or five texts from least to most."""
    if labels is None:
        return {LEVELS[k]: DEFAULT_LABELS[k] for k in LEVEL_KEYS}
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


def _wrap(text: str, width: int) -> str:
    return "\n".join(textwrap.wrap(str(text), max(4, int(width)))) or str(text)


def _size_pt(ax: Axes) -> tuple[float, float]:
    """The axes' width and height in points, as laid out when the chart is drawn
    (layout math: it decides wrapping, tick counts and marker sizes)."""
    fig = ax.figure
    pos = ax.get_position()
    return pos.width * fig.get_figwidth() * 72, pos.height * fig.get_figheight() * 72


def _chars(width_pt: float, fontsize: float) -> int:
    """About how many characters of DejaVu Sans fit in ``width_pt``."""
    return int(width_pt / (0.58 * fontsize))


def _plain(name: str) -> str:
    """A column name as words: ``"social_emotional"`` -> ``"social emotional"``."""
    return str(name).replace("_", " ").strip()


def _luma(color) -> float:
    """Lightness as a greyscale printer sees it (Rec. 601 luma, 0..1)."""
    r, g, b = to_rgb(color)
    return 0.299 * r + 0.587 * g + 0.114 * b


def _text_color_on(color) -> str:
    return "white" if _luma(color) < 0.45 else INK


def _quadrant_key(row) -> str | None:
    """The quadrant id of a row: its ``score`` if present, else its name."""
    for col in (C.SCORE, C.SCORE_NAME):
        value = row.get(col)
        if value is not None and not pd.isna(value) and str(value).lower() in QUADRANTS:
            return str(value).lower()
    return None


def _finish_axes(ax: Axes, *, grid: str | None, numeric: str | None = None) -> None:
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


def _title(ax: Axes, text: str) -> None:
    ax.set_title(text, fontsize=TITLE_SIZE, fontweight="bold", loc="left", pad=12, color=INK)


def _shade_bands(ax: Axes, *, orient: str, only_typical: bool = False) -> None:
    """The five classification bands as spans (``gid`` ``"band:<level>"``)."""
    span = ax.axvspan if orient == "x" else ax.axhspan
    for level, lo, hi in zip((-2, -1, 0, 1, 2), BAND_EDGES[:-1], BAND_EDGES[1:], strict=True):
        if only_typical and level != 0:
            continue
        patch = span(lo, hi, facecolor=BAND_COLORS[level], edgecolor=HATCH_COLOR,
                     hatch=BAND_HATCHES[level] or None, linewidth=0, zorder=0)
        patch.set_gid(f"band:{level}")


def _band_ticks(ax: Axes, band_text: dict[int, str], *, orient: str, width: int) -> None:
    """Band labels at the band centres; on x, ``width`` is the characters per
    line of a one-unit band (the typical band is two units wide)."""
    levels = sorted(BAND_CENTERS)
    ticks = [BAND_CENTERS[lv] for lv in levels]
    factor = {lv: (2 if lv == 0 and orient == "x" else 1) for lv in levels}
    texts = [_wrap(band_text[lv], width * factor[lv]) for lv in levels]
    if orient == "x":
        ax.set_xticks(ticks, texts, fontsize=TICK_SIZE - 1)
        ax.tick_params(axis="x", length=0)
    else:
        ax.set_yticks(ticks, texts, fontsize=TICK_SIZE - 1)
        ax.tick_params(axis="y", length=0)


def _grouped_rows(groups: Sequence[tuple[str | None, Sequence]]) -> tuple[list, list, list]:
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


def _set_row_ticks(ax: Axes, ticks, header_idx) -> None:
    """y tick labels for :func:`_grouped_rows`, headers in bold."""
    ax.set_yticks([t[0] for t in ticks], [t[1] for t in ticks], fontsize=TICK_SIZE)
    ax.tick_params(axis="y", length=0)
    labels = ax.get_yticklabels()
    for i in header_idx:
        labels[i].set_fontweight("bold")


def _is_months(values) -> bool:
    """True when a ``date`` column holds months since referral (numbers), as a
    de-identified report passes it, rather than calendar dates."""
    values = pd.Series(values)
    if pd.api.types.is_bool_dtype(values):
        return False
    if pd.api.types.is_numeric_dtype(values):
        return True
    present = values.dropna()
    return len(present) > 0 and all(
        isinstance(v, int | float | np.integer | np.floating) for v in present)


def _as_times(values) -> pd.Series:
    """x values of a ``date`` column: timestamps, or floats for months since referral."""
    values = pd.Series(values).reset_index(drop=True)
    if _is_months(values):
        return pd.to_numeric(values, errors="coerce").astype(float)
    return pd.to_datetime(values)


def _time_axis(ax: Axes, times: pd.Series, *, date_label: str) -> None:
    """Month-year ticks, or whole months since referral, with a margin either
    side; the axis label says which."""
    if not pd.api.types.is_datetime64_any_dtype(times):
        months = times.dropna()
        nbins = max(2, min(8, int(_size_pt(ax)[0] // 50)))
        ax.xaxis.set_major_locator(mpl.ticker.MaxNLocator(integer=True, nbins=nbins))
        ax.set_xlabel("Months since referral", fontsize=LABEL_SIZE)
        ax.tick_params(axis="x", labelsize=TICK_SIZE - 1)
        if len(months):
            pad = max(0.5, (months.max() - months.min()) * 0.06)
            ax.set_xlim(months.min() - pad, months.max() + pad)
        return
    ax.set_xlabel(date_label, fontsize=LABEL_SIZE)
    _date_axis(ax, times)


def _date_axis(ax: Axes, dates: pd.Series) -> None:
    """Month-year ticks with a margin either side: at the dates themselves when
    few enough fit (and no two fall in one month), else evenly spaced months;
    as many as fit the axes' width (a label needs about 80 points)."""
    dates = pd.to_datetime(pd.Series(dates)).dropna()
    if dates.empty:
        return
    lo, hi = dates.min(), dates.max()
    unique = pd.DatetimeIndex(sorted(dates.unique()))
    fit = max(2, min(8, int(_size_pt(ax)[0] // 80)))
    if len(unique) <= fit and unique.to_period("M").is_unique:
        ax.set_xticks(mdates.date2num(unique))
    else:
        months = (hi.year - lo.year) * 12 + hi.month - lo.month
        interval = max(1, -(-months // (fit - 1)))
        ax.xaxis.set_major_locator(mdates.MonthLocator(interval=interval))
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%b %Y"))
    pad = max(pd.Timedelta(days=20), (hi - lo) * 0.06)
    ax.set_xlim(lo - pad, hi + pad)
    ax.tick_params(axis="x", labelsize=TICK_SIZE - 1)


def _legend(ax: Axes, handles, labels, *, ncol: int) -> None:
    """A legend centred under the x axis label, placed in points so that it
    clears the tick labels and the axis label whatever the axes' height."""
    drop = (8 + 1.3 * TICK_SIZE + 8 + 1.3 * LABEL_SIZE + 6) / 72
    offset = mtransforms.ScaledTranslation(0, -drop, ax.figure.dpi_scale_trans)
    ax.legend(handles, labels, loc="upper center", bbox_to_anchor=(0.5, 0),
              bbox_transform=ax.transAxes + offset, ncol=ncol, frameon=False,
              fontsize=NOTE_SIZE, handlelength=2.6, columnspacing=1.6)


# ---------------------------------------------------------------------------
# per-child charts
# ---------------------------------------------------------------------------
def _band_dotplot(ax: Axes, data: pd.DataFrame, ys: list[float], band_text: dict[int, str],
                  *, colors: list, markers: list, kwargs: dict) -> None:
    """Marks on the band scale: a stem from 0 and a marker at each position,
    the classification written at the right, "not classified" for a NaN."""
    _shade_bands(ax, orient="x")
    ax.text(0, 0.995, "typical range", transform=ax.get_xaxis_transform(), ha="center",
            va="top", fontsize=NOTE_SIZE, style="italic", color=MUTED)
    right = mtransforms.blended_transform_factory(ax.transAxes, ax.transData)
    width_pt, height_pt = _size_pt(ax)
    # the classification at the right of each row, when there is room for it:
    # on two lines when rows are far enough apart, else on one
    rows_pt = 0.85 * height_pt / max(1.0, max(ys, default=0) - min(ys, default=0) + 1.2)
    write_class = width_pt >= 400 and rows_pt >= 1.3 * NOTE_SIZE
    class_chars = 24 if rows_pt >= 2.7 * NOTE_SIZE else 60
    if write_class:  # the layout will narrow the axes by about the text's width
        longest = max((len(str(c)) for c in data[C.CLASSIFICATION].dropna()), default=0)
        width_pt -= 0.58 * NOTE_SIZE * min(longest, class_chars) + 15
    positions = pd.to_numeric(data[POSITION], errors="coerce").to_numpy(dtype=float)
    classes = data[C.CLASSIFICATION].to_numpy(dtype=object)
    for y, pos, cls, color, marker in zip(ys, positions, classes, colors, markers, strict=True):
        if np.isnan(pos):
            ax.text(0, y, "not classified", ha="center", va="center", fontsize=NOTE_SIZE,
                    style="italic", color=INK, zorder=4,
                    bbox={"boxstyle": "round,pad=0.3", "facecolor": "white",
                          "edgecolor": MUTED, "linewidth": 0.8})
            continue
        ax.plot([0, pos], [y, y], color=INK, linewidth=1.5, zorder=2, solid_capstyle="butt")
        style = {"s": 190, "color": color, "marker": marker, "edgecolors": INK,
                 "linewidths": 1.3, "zorder": 3, "clip_on": False,
                 "path_effects": [pe.withStroke(linewidth=5, foreground="white")], **kwargs}
        ax.scatter([pos], [y], **style)
        if write_class and cls is not None and not pd.isna(cls):
            ax.text(1.035, y, _wrap(cls, class_chars), transform=right, ha="left", va="center",
                    fontsize=NOTE_SIZE, color=INK)
    ax.set_xlim(BAND_EDGES[0], BAND_EDGES[-1])
    _band_ticks(ax, band_text, orient="x",
                width=min(13, max(11, _chars(0.9 * width_pt / 6, TICK_SIZE - 1))))
    _finish_axes(ax, grid=None)
    ax.spines["left"].set_visible(False)


def plot_quadrant_profile(data: pd.DataFrame, *, labels=None, ax: Axes | None = None,
                          **kwargs) -> Axes:
    """The child's four quadrant scores on the five classification bands.

    One row per quadrant, top to bottom in the order given. Each score is a
    marker (the quadrant's colour and shape) joined to the middle of the
    typical band; its classification is written at the right when the axes
    are at least 400 points (5.6 inches) wide and the rows far enough apart. A quadrant with
    no position (not classified: too many missing items, no norms for the
    age, ...) shows the note "not classified".

    Parameters
    ----------
    data : DataFrame, one row per quadrant, with columns
        ``score_name`` (the name shown), ``position`` (float, z clipped to
        +-3, or the band centre for cut-score norms; NaN when not
        classified), ``classification`` (label text, or missing).
        Optional ``score`` (quadrant id: seeking, avoiding, sensitivity,
        registration) picks the quadrant's colour and marker; without it the
        name is tried.
    labels : mapping or sequence, optional
        Band labels: a mapping with keys much_less ... much_more (as
        ``Instrument.labels``) or five texts from least to most. Default: the
        standard labels.
    ax : Axes, optional
    **kwargs : passed to :meth:`Axes.scatter` for the markers.

    Returns
    -------
    Axes
    """
    if ax is None:
        ax = plt.gca()
    _require(data, [C.SCORE_NAME, POSITION, C.CLASSIFICATION], "plot_quadrant_profile")
    band_text = _band_labels(labels)
    rows = data.reset_index(drop=True)
    keys = [_quadrant_key(row) for _, row in rows.iterrows()]
    colors = [QUADRANT_COLORS.get(k, INK) for k in keys]
    markers = [QUADRANT_MARKERS.get(k, "o") for k in keys]
    ys = list(range(len(rows)))
    _band_dotplot(ax, rows, ys, band_text, colors=colors, markers=markers, kwargs=kwargs)
    ax.set_yticks(ys, [str(n) for n in rows[C.SCORE_NAME]], fontsize=LABEL_SIZE)
    ax.tick_params(axis="y", length=0)
    ax.set_ylim(len(rows) - 0.4, -0.6)
    ax.set_xlabel("Compared with other children of the same age", fontsize=LABEL_SIZE,
                  labelpad=8)
    _title(ax, "Sensory patterns")
    return ax


def plot_section_profile(data: pd.DataFrame, *, labels=None, ax: Axes | None = None,
                         **kwargs) -> Axes:
    """Section scores on the five classification bands, sensory sections
    first, then behavioural, each group under a bold heading.

    Parameters
    ----------
    data : DataFrame, one row per section score, with columns ``score_name``,
        ``position`` (as in :func:`plot_quadrant_profile`), ``classification``
        and ``section_kind`` ("sensory" or "behavioural"). When a ``kind``
        column is present only rows with kind "section" are drawn.
    labels : band labels, as in :func:`plot_quadrant_profile`.
    ax : Axes, optional
    **kwargs : passed to :meth:`Axes.scatter` for the markers.

    Returns
    -------
    Axes
    """
    if ax is None:
        ax = plt.gca()
    _require(data, [C.SCORE_NAME, POSITION, C.CLASSIFICATION, SECTION_KIND],
             "plot_section_profile")
    band_text = _band_labels(labels)
    rows = data
    if C.KIND in rows.columns:
        rows = rows[rows[C.KIND].astype(object) == "section"]
    kinds = rows[SECTION_KIND].astype(object)
    bad = sorted({str(k) for k in kinds if k not in ("sensory", "behavioural")})
    if bad:
        raise UsageError("The values of `section_kind` must be one of ['sensory', "
                         f"'behavioural'], but {bad} was passed")
    groups = []
    parts = []
    for kind, header in (("sensory", "The senses"), ("behavioural", "Behaviour")):
        part = rows[kinds == kind]
        if len(part):
            groups.append((header, [str(n) for n in part[C.SCORE_NAME]]))
            parts.append(part)
    if not parts:
        _title(ax, "Sensory and behaviour sections")
        ax.text(0.5, 0.5, "no section scores", transform=ax.transAxes, ha="center",
                fontsize=NOTE_SIZE, style="italic")
        return ax
    member_y, ticks, header_idx = _grouped_rows(groups)
    ordered = pd.concat(parts, ignore_index=True)
    ys = [y for group in member_y for y in group]
    n = len(ordered)
    _band_dotplot(ax, ordered, ys, band_text, colors=[INK] * n, markers=["o"] * n,
                  kwargs=kwargs)
    _set_row_ticks(ax, ticks, header_idx)
    ax.set_ylim(ticks[-1][0] + 0.6, -0.6)
    ax.set_xlabel("Compared with other children of the same age", fontsize=LABEL_SIZE,
                  labelpad=8)
    _title(ax, "Senses and behaviour")
    return ax


def _standing_fill(position: float) -> tuple:
    """Fill for the pattern-map marker: white (much less) to dark blue (much more)."""
    t = (np.clip(position, BAND_EDGES[0], BAND_EDGES[-1]) - BAND_EDGES[0]) / 6
    dark = np.array(to_rgb("#034168"))
    return tuple(1 - (1 - dark) * (0.08 + 0.92 * t))


def _standing_size(position: float, largest: float) -> float:
    """Marker area (points squared) for the pattern map: grows linearly with
    the position, from a tenth of ``largest`` to ``largest``."""
    t = (np.clip(position, BAND_EDGES[0], BAND_EDGES[-1]) - BAND_EDGES[0]) / 6
    return largest * (0.1 + 0.9 * t)


def plot_pattern_map(data: pd.DataFrame, *, ax: Axes | None = None, **kwargs) -> Axes:
    """Dunn's 2x2 map of the four sensory patterns, with the child's standing.

    Columns: how the child responds (going along with sensations = passive
    self-regulation, left; acting to change them = active, right). Rows: how
    quickly the child notices sensations (slowly = high neurological
    threshold, top; quickly = low threshold, bottom). So registration
    (Bystander) is top left, seeking (Seeker) top right, sensitivity (Sensor)
    bottom left and avoiding (Avoider) bottom right.

    In each cell a circle shows the child's standing: the more of that pattern
    compared with other children, the bigger and darker the circle (both
    encode the position, so it reads in greyscale); the classification is
    written underneath. A quadrant without a position shows "not classified";
    one absent from ``data`` shows "no score".

    Parameters
    ----------
    data : DataFrame, at most one row per quadrant, with columns ``score``
        (quadrant id: seeking, avoiding, sensitivity, registration),
        ``position`` (float, z clipped to +-3 or the band centre; NaN when not
        classified) and ``classification`` (label text, or missing).
    ax : Axes, optional
    **kwargs : passed to :meth:`Axes.scatter` for the circles.

    Returns
    -------
    Axes
    """
    if ax is None:
        ax = plt.gca()
    _require(data, [C.SCORE, POSITION, C.CLASSIFICATION], "plot_pattern_map")
    ids = data[C.SCORE].astype(object).map(lambda v: str(v).lower() if not pd.isna(v) else v)
    bad = sorted({str(v) for v in ids if v not in QUADRANTS})
    if bad:
        raise UsageError(f"The values of `score` must be quadrants {list(QUADRANTS)}, "
                         f"but {bad} was passed")
    if ids.duplicated().any():
        raise UsageError("`data` for plot_pattern_map must have one row per quadrant, but "
                         f"{sorted(set(ids[ids.duplicated()]))} appear more than once")
    by_id = {q: row for q, (_, row) in zip(ids, data.iterrows(), strict=True)}
    cells = {"registration": (0, 1), "seeking": (1, 1), "sensitivity": (0, 0),
             "avoiding": (1, 0)}
    # layout in points, so that the cell texts never overlap whatever the size
    # (0.8: labels and the equal aspect usually take a fifth of the room)
    cell_pt = max(60.0, 0.8 * min(_size_pt(ax)) / 2)
    head_size = LABEL_SIZE if cell_pt >= 120 else NOTE_SIZE
    note_size = NOTE_SIZE if cell_pt >= 120 else NOTE_SIZE - 1
    top_pt = 5 + 1.3 * head_size + 1.3 * note_size + 4
    texts = {q: _wrap(by_id[q][C.CLASSIFICATION], _chars(cell_pt * 0.9, note_size))
             for q in by_id if not pd.isna(by_id[q][C.CLASSIFICATION])}
    lines = max([t.count("\n") + 1 for t in texts.values()], default=1)
    bottom_pt = 6 + 1.25 * note_size * lines + 4
    free_pt = max(10.0, cell_pt - top_pt - bottom_pt)
    centre = (bottom_pt + free_pt / 2) / cell_pt  # in cell units
    largest = min(0.9 * free_pt, 0.45 * cell_pt) ** 2

    def note(x, y, text, dy, size, **style):
        ax.annotate(text, xy=(x, y), xytext=(0, dy), textcoords="offset points",
                    ha="center", fontsize=size, **style)

    for quadrant, (cx, cy) in cells.items():
        rect = Rectangle((cx + 0.02, cy + 0.02), 0.96, 0.96, facecolor=QUADRANT_COLORS[quadrant],
                         alpha=0.10, edgecolor="none", zorder=0)
        rect.set_gid(f"cell:{quadrant}")
        ax.add_patch(rect)
        ax.add_patch(Rectangle((cx + 0.02, cy + 0.02), 0.96, 0.96, facecolor="none",
                               edgecolor=QUADRANT_COLORS[quadrant], linewidth=2, zorder=1))
        note(cx + 0.5, cy + 1, quadrant.capitalize(), -5, head_size, va="top",
             fontweight="bold", color=INK)
        note(cx + 0.5, cy + 1, f"({PERSON_LABELS[quadrant]})", -5 - 1.3 * head_size,
             note_size, va="top", color=MUTED)
        row = by_id.get(quadrant)
        if row is None:
            note(cx + 0.5, cy + centre, "no score", 0, note_size, va="center",
                 style="italic", color=MUTED)
            continue
        pos = pd.to_numeric(pd.Series([row[POSITION]]), errors="coerce").iloc[0]
        if pd.isna(pos):
            note(cx + 0.5, cy + centre, "not classified", 0, note_size, va="center",
                 style="italic", color=INK)
            continue
        style = {"s": _standing_size(pos, largest), "color": [_standing_fill(pos)],
                 "marker": "o", "edgecolors": INK, "linewidths": 1.2, "zorder": 3, **kwargs}
        ax.scatter([cx + 0.5], [cy + centre], **style)
        if quadrant in texts:
            note(cx + 0.5, cy, texts[quadrant], 6, note_size, va="bottom", color=INK)
    ax.set_xlim(0, 2)
    ax.set_ylim(0, 2)
    ax.set_aspect("equal", adjustable="box")
    ax.set_xticks([0.5, 1.5], [_wrap("going along with it", _chars(cell_pt, TICK_SIZE)),
                               _wrap("acting to change it", _chars(cell_pt, TICK_SIZE))],
                  fontsize=TICK_SIZE)
    ax.set_yticks([0.5, 1.5], ["quickly", "slowly"], fontsize=TICK_SIZE)
    ax.set_xlabel("Responds to sensations by\u2026", fontsize=LABEL_SIZE, labelpad=6)
    ax.set_ylabel("Notices sensations\u2026", fontsize=LABEL_SIZE)
    ax.tick_params(length=0, colors=INK)
    ax.grid(False)
    for spine in ax.spines.values():
        spine.set_visible(False)
    ax.annotate(_wrap("Bigger, darker circle: more of this pattern than other children of "
                      "the same age", _chars(2.3 * cell_pt, NOTE_SIZE - 1)),
                xy=(0.5, 0), xycoords=ax.xaxis.label, xytext=(0, -8),
                textcoords="offset points", ha="center", va="top", fontsize=NOTE_SIZE - 1,
                color=MUTED)
    _title(ax, "Sensory pattern map")
    return ax


def plot_quadrant_trajectories(data: pd.DataFrame, *, labels=None, ax: Axes | None = None,
                               **kwargs) -> Axes:
    """Quadrant positions across assessments: one line per quadrant.

    The typical band (-1..1) is shaded; the y axis is the band scale labelled
    with the classification labels; the x axis shows month and year. A NaN
    position (not classified that time) leaves a gap in the line.

    Parameters
    ----------
    data : DataFrame, one row per assessment x quadrant, with columns ``date``
        (dates; or numbers, read as months since referral, as a de-identified
        report passes them), ``score`` (quadrant id, picks colour, marker and line style),
        ``score_name`` (shown in the legend) and ``position``.
    labels : band labels, as in :func:`plot_quadrant_profile`.
    ax : Axes, optional
    **kwargs : passed to :meth:`Axes.plot` for every line.

    Returns
    -------
    Axes
    """
    if ax is None:
        ax = plt.gca()
    _require(data, [C.DATE, C.SCORE, C.SCORE_NAME, POSITION], "plot_quadrant_trajectories")
    band_text = _band_labels(labels)
    _shade_bands(ax, orient="y", only_typical=True)
    for edge in BAND_EDGES[1:-1]:
        ax.axhline(edge, color=GRID, linewidth=0.8, zorder=0.5)
    frame = pd.DataFrame({
        "date": _as_times(data[C.DATE]),
        "score": data[C.SCORE].astype(object).to_numpy(),
        "name": data[C.SCORE_NAME].astype(object).to_numpy(),
        "position": pd.to_numeric(data[POSITION], errors="coerce").to_numpy(dtype=float),
    })
    handles, names = [], []
    for i, score in enumerate(pd.unique(frame["score"])):
        part = frame[frame["score"] == score].sort_values("date", kind="stable")
        key = str(score).lower()
        style = {
            "color": QUADRANT_COLORS.get(key, SERIES_COLORS[i % len(SERIES_COLORS)]),
            "marker": QUADRANT_MARKERS.get(key, SERIES_MARKERS[i % len(SERIES_MARKERS)]),
            "linestyle": QUADRANT_LINESTYLES.get(key, "-"),
            "linewidth": 2.2, "markersize": 9, "markeredgecolor": INK,
            "markeredgewidth": 1.0, "clip_on": False, "zorder": 3, **kwargs,
        }
        (line,) = ax.plot(part["date"], part["position"], **style)
        line.set_gid(f"quadrant:{score}")
        handles.append(line)
        names.append(str(part["name"].iloc[0]))
    ax.set_ylim(BAND_EDGES[0], BAND_EDGES[-1])
    _band_ticks(ax, band_text, orient="y", width=16)
    _time_axis(ax, frame["date"], date_label="Date of questionnaire")
    _finish_axes(ax, grid="x")
    ax.set_ylabel("Compared with other children", fontsize=LABEL_SIZE)
    if handles:
        _legend(ax, handles, names, ncol=min(4, len(handles)))
    _title(ax, "Sensory patterns over time")
    return ax


def plot_goal_trajectories(data: pd.DataFrame, *, ax: Axes | None = None, **kwargs) -> Axes:
    """Goal attainment levels over time: one line per goal.

    The expected level (0) is a dashed line; y ticks say what each level
    means. The level when a goal was set (its baseline row) is a grey square;
    ratings are filled markers; a rating carried forward from an earlier
    review (not re-rated) is hollow. Goals on the same date are nudged apart
    sideways by a few points so none hides another. A -3 (six-level scale)
    extends the axis.

    Parameters
    ----------
    data : DataFrame, one row per goal x date, with columns ``goal_id``,
        ``date`` (dates, or numbers read as months since referral), ``level`` (-3..2) and ``label`` (short goal text shown in
        the legend). Optional: ``carried`` (bool, default False),
        ``is_baseline`` (bool, default False; True for the row holding the
        level when the goal was set, dated at its set date). Other columns
        (e.g. ``baseline_level``) are ignored.
    ax : Axes, optional
    **kwargs : passed to :meth:`Axes.plot` for every goal line.

    Returns
    -------
    Axes
    """
    if ax is None:
        ax = plt.gca()
    _require(data, [C.GOAL_ID, C.DATE, C.LEVEL, LABEL], "plot_goal_trajectories")
    n = len(data)
    frame = pd.DataFrame({
        "goal": data[C.GOAL_ID].astype(object).to_numpy(),
        "date": _as_times(data[C.DATE]),
        "level": pd.to_numeric(data[C.LEVEL], errors="coerce").to_numpy(dtype=float),
        "label": data[LABEL].astype(object).to_numpy(),
        "carried": (data[C.CARRIED].fillna(False).astype(bool).to_numpy()
                    if C.CARRIED in data.columns else np.zeros(n, dtype=bool)),
        "baseline": (data[IS_BASELINE].fillna(False).astype(bool).to_numpy()
                     if IS_BASELINE in data.columns else np.zeros(n, dtype=bool)),
    })
    bad = sorted({v for v in frame["level"].dropna() if v not in GAS_LEVEL_TEXT})
    if bad:
        raise UsageError(f"The values of `level` must be one of {sorted(GAS_LEVEL_TEXT)}, "
                         f"but {bad} was passed")
    low = -3 if (frame["level"] == -3).any() else -2
    ax.axhline(0, color=INK, linestyle="--", linewidth=1.4, zorder=1).set_gid("expected")
    goals = list(pd.unique(frame["goal"]))
    width_pt = _size_pt(ax)[0]
    ncol = 2 if width_pt >= 420 else 1
    label_chars = min(40, _chars(width_pt / ncol, NOTE_SIZE) - 6)
    handles, names = [], []
    for i, goal in enumerate(goals):
        part = frame[frame["goal"] == goal].sort_values(["date", "baseline"],
                                                        ascending=[True, False], kind="stable")
        color = SERIES_COLORS[i % len(SERIES_COLORS)]
        marker = SERIES_MARKERS[i % len(SERIES_MARKERS)]
        shift = mtransforms.ScaledTranslation((i - (len(goals) - 1) / 2) * 8 / 72, 0,
                                              ax.figure.dpi_scale_trans)
        transform = ax.transData + shift
        style = {"color": color, "linewidth": 2.2, "zorder": 2, **kwargs}
        (line,) = ax.plot(part["date"], part["level"], transform=transform, **style)
        line.set_gid(f"goal:{goal}")
        base = part[part["baseline"]]
        rated = part[~part["baseline"] & ~part["carried"]]
        carried = part[~part["baseline"] & part["carried"]]
        common = {"linestyle": "none", "markersize": 10, "markeredgewidth": 1.8,
                  "transform": transform, "zorder": 3, "clip_on": False}
        if len(rated):
            ax.plot(rated["date"], rated["level"], marker=marker, color=color,
                    markeredgecolor=INK, **common)[0].set_gid(f"rated:{goal}")
        if len(carried):
            ax.plot(carried["date"], carried["level"], marker=marker, color=color,
                    markerfacecolor="none", markeredgecolor=color,
                    **common)[0].set_gid(f"carried:{goal}")
        if len(base):
            ax.plot(base["date"], base["level"], marker="s", markerfacecolor="#BBBBBB",
                    markeredgecolor=color, **common)[0].set_gid(f"baseline:{goal}")
        handles.append(Line2D([], [], color=color, marker=marker, markeredgecolor=INK,
                              linewidth=2.2, markersize=9))
        names.append(_wrap(part["label"].iloc[0], label_chars))
    if frame["baseline"].any():
        handles.append(Line2D([], [], linestyle="none", marker="s", markersize=9,
                              markerfacecolor="#BBBBBB", markeredgecolor=INK))
        names.append("level when the goal was set")
    if frame["carried"].any():
        handles.append(Line2D([], [], linestyle="none", marker="o", markersize=9,
                              markerfacecolor="none", markeredgecolor=INK))
        names.append("not re-rated: earlier rating carried forward")
    levels = [lv for lv in sorted(GAS_LEVEL_TEXT) if lv >= low]
    tick_chars = 40 if width_pt >= 420 else 16
    ax.set_yticks(levels, [_wrap(GAS_LEVEL_TEXT[lv], tick_chars) for lv in levels],
                  fontsize=TICK_SIZE - 1)
    ax.get_yticklabels()[levels.index(0)].set_fontweight("bold")
    ax.set_ylim(low - 0.4, 2.4)
    _time_axis(ax, frame["date"], date_label="Review date")
    _finish_axes(ax, grid="y")
    ax.tick_params(axis="y", length=0)
    if handles:
        _legend(ax, handles, names, ncol=ncol)
    _title(ax, "Progress on each goal")
    return ax


def plot_tscore_over_time(data: pd.DataFrame, *, ax: Axes | None = None, **kwargs) -> Axes:
    """The goal attainment T-score at each review, against the expected 50.

    Parameters
    ----------
    data : DataFrame, one row per review, with columns ``date`` (dates, or
        numbers read as months since referral) and ``t_score`` (NaN leaves a gap); optional ``baseline_t`` (the T-score
        of the levels when the goals were set, with the same weights), drawn
        as a dashed grey line with square markers.
    ax : Axes, optional
    **kwargs : passed to :meth:`Axes.plot` for the T-score line.

    Returns
    -------
    Axes
    """
    if ax is None:
        ax = plt.gca()
    _require(data, [C.DATE, C.T_SCORE], "plot_tscore_over_time")
    frame = pd.DataFrame({
        "date": _as_times(data[C.DATE]),
        "t": pd.to_numeric(data[C.T_SCORE], errors="coerce").to_numpy(dtype=float),
    })
    if C.BASELINE_T in data.columns:
        frame["base"] = pd.to_numeric(data[C.BASELINE_T], errors="coerce").to_numpy(dtype=float)
    frame = frame.sort_values("date", kind="stable")
    expected = ax.axhline(50, color=INK, linestyle="--", linewidth=1.4, zorder=1)
    expected.set_gid("expected")
    # labelled just outside the right edge, where no data point can hide it
    ax.text(1.01, 50, "expected outcome\n(T = 50)",
            transform=mtransforms.blended_transform_factory(ax.transAxes, ax.transData),
            ha="left", va="center", fontsize=NOTE_SIZE, color=INK)
    handles, names = [], []
    if "base" in frame and frame["base"].notna().any():
        (base,) = ax.plot(frame["date"], frame["base"], color=MUTED, linestyle=":",
                          linewidth=2, marker="s", markersize=8, markerfacecolor="white",
                          markeredgecolor=MUTED, markeredgewidth=1.5, zorder=2, clip_on=False)
        base.set_gid("baseline")
        handles.append(base)
        names.append("when the goals were set")
    style = {"color": BLUE, "linewidth": 2.5, "marker": "o", "markersize": 10,
             "markeredgecolor": INK, "zorder": 3, "clip_on": False, **kwargs}
    (line,) = ax.plot(frame["date"], frame["t"], **style)
    line.set_gid("t_score")
    handles.insert(0, line)
    names.insert(0, "at each review")
    values = pd.concat([frame["t"], frame.get("base", pd.Series(dtype=float))]).dropna()
    lo = min(30.0, float(values.min()) - 5) if len(values) else 30.0
    hi = max(70.0, float(values.max()) + 5) if len(values) else 70.0
    ax.set_ylim(lo, hi)
    _time_axis(ax, frame["date"], date_label="Review date")
    _finish_axes(ax, grid="y", numeric="y")
    ax.set_ylabel("Goal score (T-score)", fontsize=LABEL_SIZE)
    if len(handles) > 1:
        _legend(ax, handles, names, ncol=2)
    _title(ax, "Progress on all goals together")
    return ax


# ---------------------------------------------------------------------------
# caseload charts
# ---------------------------------------------------------------------------
def _order(values: pd.Series) -> list:
    """Category order: a categorical's order, else first appearance."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        present = set(values.dropna())
        return [c for c in values.cat.categories if c in present]
    return list(pd.unique(values.dropna()))


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
    _require(data, needed, "plot_caseload_counts")
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
    per_bar = _chars(_size_pt(ax)[0] / max(len(cats), 1), TICK_SIZE)  # room under each bar
    ax.set_xticks(range(len(cats)), [_wrap(c, max(6, per_bar)) for c in cats],
                  fontsize=TICK_SIZE)
    ax.tick_params(axis="x", length=0)
    ax.set_xlim(-0.6, len(cats) - 0.4)
    ax.margins(y=0.12)
    _finish_axes(ax, grid="y", numeric="y")
    ax.yaxis.set_major_locator(mpl.ticker.MaxNLocator(integer=True))
    ax.set_xlabel(_plain(x).capitalize(), fontsize=LABEL_SIZE)
    ax.set_ylabel(ylabel, fontsize=LABEL_SIZE)
    if hue is not None and len(levels) > 1:
        ax.legend(handles, [_plain(lv) for lv in levels], title=_plain(hue).capitalize(),
                  frameon=False, fontsize=NOTE_SIZE, title_fontsize=NOTE_SIZE,
                  loc="upper left", bbox_to_anchor=(1.0, 1.0))
    _title(ax, f"{ylabel} by {_plain(x)}")
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
                     "edgecolor": MUTED if color == "white" else "white", **kwargs}
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
    _require(data, [C.SCORE_NAME, TIMEPOINT, C.CLASSIFICATION, SHARE],
             "plot_classification_shift")
    band_text = _band_labels(labels)
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
    _title(ax, "Sensory patterns at intake and now")
    if not names:
        ax.text(0.5, 0.5, "no classifications to show", transform=ax.transAxes,
                ha="center", fontsize=NOTE_SIZE, style="italic")
        return ax
    point_text = {"intake": "at intake", "latest": "latest"}
    groups = [(str(name), [point_text[p] for p in ("intake", "latest")
                           if ((frame["name"] == name) & (frame["point"] == p)).any()])
              for name in names]
    member_y, ticks, header_idx = _grouped_rows(groups)
    rows = []
    unclassified = False
    for name, ys, (_, members) in zip(names, member_y, groups, strict=True):
        for y, member in zip(ys, members, strict=True):
            point = "intake" if member == "at intake" else "latest"
            part = frame[(frame["name"] == name) & (frame["point"] == point)]
            segments = []
            for level in (-2, -1, 0, 1, 2):
                value = part.loc[part["level"] == level, "share"].max()
                segments.append((value, BAND_COLORS[level], BAND_HATCHES[level] or None))
            missing = part.loc[part["level"].isna(), "share"].max()
            if not np.isnan(missing):
                unclassified = True
                segments.append((missing, "white", "xx"))
            rows.append((y, segments))
    _stacked_rows(ax, rows, kwargs=kwargs)
    _set_row_ticks(ax, ticks, header_idx)
    ax.set_ylim(ticks[-1][0] + 0.6, -0.6)
    ax.set_xlim(0, 1)
    ax.xaxis.set_major_formatter(mpl.ticker.PercentFormatter(xmax=1))
    _finish_axes(ax, grid=None, numeric="x")
    ax.spines["left"].set_visible(False)
    ax.set_xlabel("Share of children", fontsize=LABEL_SIZE)
    handles = [Patch(facecolor=BAND_COLORS[lv], hatch=BAND_HATCHES[lv] or None,
                     edgecolor="white") for lv in (-2, -1, 0, 1, 2)]
    texts = [band_text[lv] for lv in (-2, -1, 0, 1, 2)]
    if unclassified:
        handles.append(Patch(facecolor="white", hatch="xx", edgecolor=MUTED))
        texts.append("not classified")
    _legend(ax, handles, texts, ncol=3)
    return ax


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
    _require(data, [group, MEDIAN, CI_LOW, CI_HIGH, N], "plot_tchange_by_group")
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
    _finish_axes(ax, grid="x", numeric="x")
    ax.spines["left"].set_visible(False)
    ax.set_xlabel(f"Change in goal T-score since goals were set (median, {interval})",
                  fontsize=LABEL_SIZE)
    _title(ax, f"Goal progress by {_plain(group)}")
    return ax


def plot_goal_calibration(data: pd.DataFrame, *, ax: Axes | None = None, **kwargs) -> Axes:
    """Final goal levels per therapist against the shape expected when goals
    are well set (7/21/43/21/7 % for -2..+2, Kiresuk & Sherman 1968).

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
    _require(data, [C.THERAPIST, C.LEVEL, SHARE], "plot_goal_calibration")
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
        return [(shares.get(lv, np.nan), GAS_LEVEL_COLORS[lv], GAS_LEVEL_HATCHES[lv] or None)
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
    _finish_axes(ax, grid=None, numeric="x")
    ax.spines["left"].set_visible(False)
    ax.set_xlabel("Share of goals at each final level", fontsize=LABEL_SIZE)
    handles = [Patch(facecolor=GAS_LEVEL_COLORS[lv], hatch=GAS_LEVEL_HATCHES[lv] or None,
                     edgecolor="white") for lv in levels]
    _legend(ax, handles, [GAS_LEVEL_TEXT[lv] for lv in levels], ncol=3)
    _title(ax, "How well goals are set, by therapist")
    return ax
