"""The charts of the per-child report.

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
from matplotlib.patches import Rectangle

from sensoryprofile import columns as C
from sensoryprofile.columns import IS_BASELINE, LABEL, POSITION, SECTION_KIND
from sensoryprofile.errors import UsageError
from sensoryprofile.instruments.schema import QUADRANTS
from sensoryprofile.measures.norms import BAND_CENTERS, percentile_text
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
    runs,
    sentences,
    set_row_ticks,
    size_pt,
    title,
    when_text,
    wrap,
)
from sensoryprofile.plots.style import (
    BAND_COLORS,
    BAND_EDGES,
    BAND_HATCHES,
    BLUE,
    GAS_LEVEL_TEXT,
    GRID,
    HATCH_COLOR,
    INK,
    LABEL_SIZE,
    MUTED,
    NOTE_SIZE,
    PERSON_LABELS,
    QUADRANT_COLORS,
    QUADRANT_LINESTYLES,
    QUADRANT_MARKERS,
    SERIES_COLORS,
    SERIES_MARKERS,
    TICK_SIZE,
)


def _quadrant_key(row) -> str | None:
    """The quadrant id of a row: its ``score`` if present, else its name."""
    for col in (C.SCORE, C.SCORE_NAME):
        value = row.get(col)
        if value is not None and not pd.isna(value) and str(value).lower() in QUADRANTS:
            return str(value).lower()
    return None


def _scale(band_text: dict[int, str]) -> tuple[float, float]:
    """The ends of the band scale a form's levels take (the five levels:
    -3..3; three one-sided levels 0, 1, 2: -1..3)."""
    return (BAND_EDGES[band_level(min(band_text)) + 2],
            BAND_EDGES[band_level(max(band_text)) + 3])


def _shade_bands(ax: Axes, *, orient: str, only_typical: bool = False,
                 levels=(-2, -1, 0, 1, 2)) -> None:
    """The classification bands of ``levels`` as spans (``gid`` ``"band:<level>"``)."""
    span = ax.axvspan if orient == "x" else ax.axhspan
    for level, lo, hi in zip((-2, -1, 0, 1, 2), BAND_EDGES[:-1], BAND_EDGES[1:], strict=True):
        if (only_typical and level != 0) or level not in levels:
            continue
        patch = span(lo, hi, facecolor=BAND_COLORS[level], edgecolor=HATCH_COLOR,
                     hatch=BAND_HATCHES[level] or None, linewidth=0, zorder=0)
        patch.set_gid(f"band:{level}")


def _band_ticks(ax: Axes, band_text: dict[int, str], *, orient: str, width: int) -> None:
    """Band labels at the band centres; on x, ``width`` is the characters per
    line of a one-unit band (the typical band is two units wide)."""
    levels = sorted(band_text)
    # a level beyond +-2 (a scheme of more than five) is marked at the scale's edge
    ticks = [BAND_CENTERS.get(lv, 3.0 if lv > 0 else -3.0) for lv in levels]
    factor = {lv: (2 if lv == 0 and orient == "x" else 1) for lv in levels}
    if any(abs(lv) > 2 for lv in levels):  # the edge ticks share room with their neighbours
        factor = {lv: (0.6 if abs(lv) >= 2 else f) for lv, f in factor.items()}
    texts = [wrap(band_text[lv], width * factor[lv]) for lv in levels]
    if orient == "x":
        ax.set_xticks(ticks, texts, fontsize=TICK_SIZE - 1)
        ax.tick_params(axis="x", length=0)
    else:
        ax.set_yticks(ticks, texts, fontsize=TICK_SIZE - 1)
        ax.tick_params(axis="y", length=0)


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


def _date_axis(ax: Axes, dates: pd.Series) -> None:
    """Month-year ticks with a margin either side: at the dates themselves when
    few enough fit (and no two fall in one month), else evenly spaced months;
    as many as fit the axes' width (a label needs about 80 points)."""
    dates = pd.to_datetime(pd.Series(dates)).dropna()
    if dates.empty:
        return
    lo, hi = dates.min(), dates.max()
    unique = pd.DatetimeIndex(sorted(dates.unique()))
    fit = max(2, min(8, int(size_pt(ax)[0] // 80)))
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


def _time_axis(ax: Axes, times: pd.Series, *, date_label: str) -> None:
    """Month-year ticks, or whole months since referral, with a margin either
    side; the axis label says which."""
    if not pd.api.types.is_datetime64_any_dtype(times):
        months = times.dropna()
        nbins = max(2, min(8, int(size_pt(ax)[0] // 50)))
        ax.xaxis.set_major_locator(mpl.ticker.MaxNLocator(integer=True, nbins=nbins))
        ax.set_xlabel("Months since referral", fontsize=LABEL_SIZE)
        ax.tick_params(axis="x", labelsize=TICK_SIZE - 1)
        if len(months):
            pad = max(0.5, (months.max() - months.min()) * 0.06)
            ax.set_xlim(months.min() - pad, months.max() + pad)
        return
    ax.set_xlabel(date_label, fontsize=LABEL_SIZE)
    _date_axis(ax, times)


def _band_dotplot(ax: Axes, data: pd.DataFrame, ys: list[float], band_text: dict[int, str],
                  *, colors: list, markers: list, kwargs: dict) -> None:
    """Marks on the band scale: a stem from 0 and a marker at each position,
    the classification written at the right, "not classified" for a NaN."""
    _shade_bands(ax, orient="x", levels=tuple(band_text))
    ax.text(0, 0.995, "typical range", transform=ax.get_xaxis_transform(), ha="center",
            va="top", fontsize=NOTE_SIZE, style="italic", color=MUTED)
    right = mtransforms.blended_transform_factory(ax.transAxes, ax.transData)
    width_pt, height_pt = size_pt(ax)
    # the classification at the right of each row, when there is room for it:
    # on two lines when rows are far enough apart, else on one
    rows_pt = 0.85 * height_pt / max(1.0, max(ys, default=0) - min(ys, default=0) + 1.2)
    write_class = width_pt >= 400 and rows_pt >= 1.3 * NOTE_SIZE
    class_chars = 24 if rows_pt >= 2.7 * NOTE_SIZE else 60
    if write_class:  # the layout will narrow the axes by about the text's width
        longest = max((len(str(c)) for c in data[C.CLASSIFICATION].dropna()), default=0)
        width_pt -= 0.58 * NOTE_SIZE * min(longest, class_chars) + 15
    # a position beyond the form's scale (a one-sided scheme's typical scores can
    # have z far below it) is drawn at its edge, still in its band
    positions = np.clip(pd.to_numeric(data[POSITION], errors="coerce").to_numpy(dtype=float),
                        *_scale(band_text))
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
            ax.text(1.035, y, wrap(cls, class_chars), transform=right, ha="left", va="center",
                    fontsize=NOTE_SIZE, color=INK)
    ax.set_xlim(*_scale(band_text))
    _band_ticks(ax, band_text, orient="x",
                width=min(13, max(11, chars(0.9 * width_pt / 6, TICK_SIZE - 1))))
    finish_axes(ax, grid=None)
    ax.spines["left"].set_visible(False)


@literal_text
def plot_quadrant_profile(data: pd.DataFrame, *, labels=None, ax: Axes | None = None,
                          peers: str = "children", **kwargs) -> Axes:
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
        standard labels. A form's classification scheme draws only its own
        levels (three one-sided levels: the typical band and the two beyond).
    ax : Axes, optional
    peers : who the scores are compared with, in the axis label ("children";
        "people" for a self-report by an adult).
    **kwargs : passed to :meth:`Axes.scatter` for the markers.

    Returns
    -------
    Axes
    """
    if ax is None:
        ax = plt.gca()
    require(data, [C.SCORE_NAME, POSITION, C.CLASSIFICATION], "plot_quadrant_profile")
    band_text = band_labels(labels)
    rows = data.reset_index(drop=True)
    keys = [_quadrant_key(row) for _, row in rows.iterrows()]
    colors = [QUADRANT_COLORS.get(k, INK) for k in keys]
    markers = [QUADRANT_MARKERS.get(k, "o") for k in keys]
    ys = list(range(len(rows)))
    _band_dotplot(ax, rows, ys, band_text, colors=colors, markers=markers, kwargs=kwargs)
    ax.set_yticks(ys, [str(n) for n in rows[C.SCORE_NAME]], fontsize=LABEL_SIZE)
    ax.tick_params(axis="y", length=0)
    ax.set_ylim(len(rows) - 0.4, -0.6)
    ax.set_xlabel(f"Compared with other {peers} of the same age", fontsize=LABEL_SIZE,
                  labelpad=8)
    title(ax, "Sensory patterns")
    return ax


#: The groups of :func:`plot_section_profile`, in order: sections by their
#: kind, then the scores of other kinds.
_SECTION_HEADERS = {"sensory": "The senses", "behavioural": "Behaviour"}
_KIND_HEADERS = {"section": "Sections", "total": "Overall", "composite": "Composites",
                 "factor": "Factors"}


def _score_groups(data: pd.DataFrame) -> list[tuple[str, pd.DataFrame]]:
    """The non-quadrant scores in their groups: sensory sections, behavioural
    sections, other sections, the total, composites, factors (a frame without
    a ``kind`` column holds sections only)."""
    kinds = (data[C.KIND].astype(object) if C.KIND in data.columns
             else pd.Series("section", index=data.index, dtype=object))
    section_kind = data[SECTION_KIND].astype(object)
    bad = sorted({str(k) for k in section_kind[kinds == "section"]
                  if not is_blank(k) and k not in _SECTION_HEADERS})
    if bad:
        raise UsageError("The values of `section_kind` must be one of ['sensory', "
                         f"'behavioural'], but {bad} was passed")
    out = []
    for kind, header in _SECTION_HEADERS.items():
        out.append((header, data[(kinds == "section") & (section_kind == kind)]))
    out.append((_KIND_HEADERS["section"],
                data[(kinds == "section") & ~section_kind.isin(list(_SECTION_HEADERS))]))
    for kind in ("total", "composite", "factor"):
        out.append((_KIND_HEADERS[kind], data[kinds == kind]))
    return [(header, part) for header, part in out if len(part)]


@literal_text
def plot_section_profile(data: pd.DataFrame, *, labels=None, ax: Axes | None = None,
                         peers: str = "children", **kwargs) -> Axes:
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
    peers : who the scores are compared with ("children", "people").
    **kwargs : passed to :meth:`Axes.scatter` for the markers.

    Returns
    -------
    Axes
    """
    if ax is None:
        ax = plt.gca()
    require(data, [C.SCORE_NAME, POSITION, C.CLASSIFICATION, SECTION_KIND],
             "plot_section_profile")
    band_text = band_labels(labels)
    groups = []
    parts = []
    for header, part in _score_groups(data):
        groups.append((header, [str(n) for n in part[C.SCORE_NAME]]))
        parts.append(part)
    if not parts:
        title(ax, "Sections and totals")
        ax.text(0.5, 0.5, "no section or total scores", transform=ax.transAxes,
                ha="center", fontsize=NOTE_SIZE, style="italic")
        return ax
    member_y, ticks, header_idx = grouped_rows(groups)
    ordered = pd.concat(parts, ignore_index=True)
    ys = [y for group in member_y for y in group]
    n = len(ordered)
    _band_dotplot(ax, ordered, ys, band_text, colors=[INK] * n, markers=["o"] * n,
                  kwargs=kwargs)
    set_row_ticks(ax, ticks, header_idx)
    ax.set_ylim(ticks[-1][0] + 0.6, -0.6)
    ax.set_xlabel(f"Compared with other {peers} of the same age", fontsize=LABEL_SIZE,
                  labelpad=8)
    title(ax, "Senses and behaviour" if {h for h, _ in groups} <= set(_SECTION_HEADERS.values())
          else "Sections and totals")
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


@literal_text
def plot_pattern_map(data: pd.DataFrame, *, ax: Axes | None = None, peers: str = "children",
                     **kwargs) -> Axes:
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
    require(data, [C.SCORE, POSITION, C.CLASSIFICATION], "plot_pattern_map")
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
    cell_pt = max(60.0, 0.8 * min(size_pt(ax)) / 2)
    head_size = LABEL_SIZE if cell_pt >= 120 else NOTE_SIZE
    note_size = NOTE_SIZE if cell_pt >= 120 else NOTE_SIZE - 1
    top_pt = 5 + 1.3 * head_size + 1.3 * note_size + 4
    texts = {q: wrap(by_id[q][C.CLASSIFICATION], chars(cell_pt * 0.9, note_size))
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
    ax.set_xticks([0.5, 1.5], [wrap("going along with it", chars(cell_pt, TICK_SIZE)),
                               wrap("acting to change it", chars(cell_pt, TICK_SIZE))],
                  fontsize=TICK_SIZE)
    ax.set_yticks([0.5, 1.5], ["quickly", "slowly"], fontsize=TICK_SIZE)
    ax.set_xlabel("Responds to sensations by\u2026", fontsize=LABEL_SIZE, labelpad=6)
    ax.set_ylabel("Notices sensations\u2026", fontsize=LABEL_SIZE)
    ax.tick_params(length=0, colors=INK)
    ax.grid(False)
    for spine in ax.spines.values():
        spine.set_visible(False)
    ax.annotate(wrap(f"Bigger, darker circle: more of this pattern than other {peers} of "
                      "the same age", chars(2.3 * cell_pt, NOTE_SIZE - 1)),
                xy=(0.5, 0), xycoords=ax.xaxis.label, xytext=(0, -8),
                textcoords="offset points", ha="center", va="top", fontsize=NOTE_SIZE - 1,
                color=MUTED)
    title(ax, "Sensory pattern map")
    return ax


@literal_text
def plot_quadrant_trajectories(data: pd.DataFrame, *, labels=None, ax: Axes | None = None,
                               peers: str = "children", **kwargs) -> Axes:
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
    peers : who the scores are compared with ("children", "people").
    **kwargs : passed to :meth:`Axes.plot` for every line.

    Returns
    -------
    Axes
    """
    if ax is None:
        ax = plt.gca()
    require(data, [C.DATE, C.SCORE, C.SCORE_NAME, POSITION], "plot_quadrant_trajectories")
    band_text = band_labels(labels)
    _shade_bands(ax, orient="y", only_typical=True)
    low, high = _scale(band_text)
    for edge in BAND_EDGES[1:-1]:
        if low < edge < high:
            ax.axhline(edge, color=GRID, linewidth=0.8, zorder=0.5)
    frame = pd.DataFrame({
        "date": _as_times(data[C.DATE]),
        "score": data[C.SCORE].astype(object).to_numpy(),
        "name": data[C.SCORE_NAME].astype(object).to_numpy(),
        "position": np.clip(pd.to_numeric(data[POSITION], errors="coerce").to_numpy(
            dtype=float), *_scale(band_text)),  # beyond the form's scale: at its edge
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
    ax.set_ylim(low, high)
    _band_ticks(ax, band_text, orient="y", width=16)
    _time_axis(ax, frame["date"], date_label="Date of questionnaire")
    finish_axes(ax, grid="x")
    ax.set_ylabel(f"Compared with other {peers}", fontsize=LABEL_SIZE)
    if handles:
        legend(ax, handles, names, ncol=min(4, len(handles)))
    title(ax, "Sensory patterns over time")
    return ax


@literal_text
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
    require(data, [C.GOAL_ID, C.DATE, C.LEVEL, LABEL], "plot_goal_trajectories")
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
    width_pt = size_pt(ax)[0]
    ncol = 2 if width_pt >= 420 else 1
    label_chars = min(40, chars(width_pt / ncol, NOTE_SIZE) - 6)
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
        names.append(wrap(part["label"].iloc[0], label_chars))
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
    ax.set_yticks(levels, [wrap(GAS_LEVEL_TEXT[lv], tick_chars) for lv in levels],
                  fontsize=TICK_SIZE - 1)
    ax.get_yticklabels()[levels.index(0)].set_fontweight("bold")
    ax.set_ylim(low - 0.4, 2.4)
    _time_axis(ax, frame["date"], date_label="Review date")
    finish_axes(ax, grid="y")
    ax.tick_params(axis="y", length=0)
    if handles:
        legend(ax, handles, names, ncol=ncol)
    title(ax, "Progress on each goal")
    return ax


@literal_text
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
    require(data, [C.DATE, C.T_SCORE], "plot_tscore_over_time")
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
    finish_axes(ax, grid="y", numeric="y")
    ax.set_ylabel("Goal score (T-score)", fontsize=LABEL_SIZE)
    if len(handles) > 1:
        legend(ax, handles, names, ncol=2)
    title(ax, "Progress on all goals together")
    return ax


# ---------------------------------------------------------------------------
# alternative text: what each chart above draws, in words, from the same frame
# ---------------------------------------------------------------------------
def _standing_text(row, band_text: dict[int, str]) -> str:
    """A score's classification (its band's label when only a position is
    given) and percentile, as the chart and the score table show them."""
    cls = row.get(C.CLASSIFICATION)
    if is_blank(cls):
        pos = pd.to_numeric(pd.Series([row.get(POSITION)]), errors="coerce").iloc[0]
        if is_blank(pos):
            return "not classified"
        level = int(np.digitize(pos, BAND_EDGES[1:-1], right=False)) - 2
        cls = band_text[max(min(band_text), min(max(band_text), level))]
    text = str(cls)
    percentile = row.get(C.PERCENTILE)
    if not is_blank(percentile):
        text += f", percentile {percentile_text(percentile)}"
    return text


def quadrant_profile_alt(data: pd.DataFrame, *, labels=None, peers: str = "children") -> str:
    """The alternative text of :func:`plot_quadrant_profile`: each score's
    name, classification and (with a ``percentile`` column) percentile, e.g.
    "Seeking: Just Like the Majority of Others, percentile 52".

    Parameters
    ----------
    data : the chart's frame (``score_name``, ``position``, ``classification``;
        optional ``percentile``).
    labels : band labels, as for the chart (used for a row with a position
        but no classification).

    Returns
    -------
    str
    """
    require(data, [C.SCORE_NAME, POSITION, C.CLASSIFICATION], "quadrant_profile_alt")
    band_text = band_labels(labels)
    parts = [f"{row[C.SCORE_NAME]}: {_standing_text(row, band_text)}"
             for _, row in data.iterrows()]
    return sentences(f"Chart of sensory patterns compared with other {peers} of the same age",
                     parts or ["No score to show"])


def section_profile_alt(data: pd.DataFrame, *, labels=None, peers: str = "children") -> str:
    """The alternative text of :func:`plot_section_profile`: the sensory
    sections, then the behavioural ones, each with its classification and
    percentile (as :func:`quadrant_profile_alt`)."""
    require(data, [C.SCORE_NAME, POSITION, C.CLASSIFICATION, SECTION_KIND],
            "section_profile_alt")
    band_text = band_labels(labels)
    groups = _score_groups(data)
    parts = [f"{header}: " + "; ".join(f"{row[C.SCORE_NAME]}: {_standing_text(row, band_text)}"
                                       for _, row in part.iterrows())
             for header, part in groups]
    sections_only = all(header in (*_SECTION_HEADERS.values(), _KIND_HEADERS["section"])
                        for header, _ in groups)
    what = "section scores" if sections_only else "section and total scores"
    return sentences(f"Chart of {what} compared with other {peers} of the same age",
                     parts or ["No section scores"])


#: Where each quadrant sits on the pattern map, in words.
_MAP_PLACES = {"registration": "notices sensations slowly, goes along with them",
               "seeking": "notices sensations slowly, acts to change them",
               "sensitivity": "notices sensations quickly, goes along with them",
               "avoiding": "notices sensations quickly, acts to change them"}


def pattern_map_alt(data: pd.DataFrame, *, peers: str = "children") -> str:
    """The alternative text of :func:`plot_pattern_map`: each quadrant's
    place on Dunn's map and the child's classification there."""
    require(data, [C.SCORE, POSITION, C.CLASSIFICATION], "pattern_map_alt")
    band_text = band_labels(None)
    by_id = {str(row[C.SCORE]).lower(): row for _, row in data.iterrows()}
    parts = []
    for quadrant in ("registration", "seeking", "sensitivity", "avoiding"):
        standing = (_standing_text(by_id[quadrant], band_text) if quadrant in by_id
                    else "no score")
        parts.append(f"{quadrant.capitalize()} ({PERSON_LABELS[quadrant]}: "
                     f"{_MAP_PLACES[quadrant]}): {standing}")
    return sentences("Chart: Dunn's map of the four sensory patterns, a larger and darker "
                     f"circle meaning more of the pattern than other {peers}", parts)


def quadrant_trajectories_alt(data: pd.DataFrame, *, labels=None) -> str:
    """The alternative text of :func:`plot_quadrant_trajectories`: each
    score's classification at each questionnaire, in date order."""
    require(data, [C.DATE, C.SCORE, C.SCORE_NAME, POSITION], "quadrant_trajectories_alt")
    band_text = band_labels(labels)
    frame = data.assign(_t=_as_times(data[C.DATE]).to_numpy())
    dates = pd.unique(frame["_t"].dropna())
    if not len(dates):
        return sentences("Chart of sensory patterns over time", ["No questionnaire yet"])
    parts = []
    for score in pd.unique(frame[C.SCORE]):
        part = frame[frame[C.SCORE] == score].sort_values("_t", kind="stable")
        steps = [(_standing_text(row.drop(C.PERCENTILE, errors="ignore"), band_text),
                  when_text(row[C.DATE])) for _, row in part.iterrows()]
        parts.append(f"{part[C.SCORE_NAME].iloc[0]}: {runs(steps)}")
    return sentences(f"Chart of sensory patterns over time, at {len(dates)} "
                     f"questionnaire{'s' if len(dates) != 1 else ''}", parts)


def goal_trajectories_alt(data: pd.DataFrame) -> str:
    """The alternative text of :func:`plot_goal_trajectories`: each goal's
    level when set and at each rating (carried-forward ratings said so)."""
    require(data, [C.GOAL_ID, C.DATE, C.LEVEL, LABEL], "goal_trajectories_alt")
    if data.empty:
        return sentences("Chart of progress on each goal", ["No goals yet"])
    parts = []
    for goal in pd.unique(data[C.GOAL_ID]):
        part = data[data[C.GOAL_ID] == goal]
        steps = []
        for _, row in part.iterrows():
            level = GAS_LEVEL_TEXT.get(int(row[C.LEVEL]), str(row[C.LEVEL]))
            if bool(row.get(IS_BASELINE, False)):
                level += " when set"
            elif bool(row.get(C.CARRIED, False)):
                level += ", carried forward"
            steps.append((level, when_text(row[C.DATE])))
        parts.append(f"{part[LABEL].iloc[0]}: {runs(steps)}")
    return sentences("Chart of progress on each goal, 0 being the expected level", parts)


def tscore_over_time_alt(data: pd.DataFrame) -> str:
    """The alternative text of :func:`plot_tscore_over_time`: the T-score at
    each review and, when given, at the levels when the goals were set."""
    require(data, [C.DATE, C.T_SCORE], "tscore_over_time_alt")
    if data.empty:
        return sentences("Chart of progress on all goals together", ["No goal review yet"])
    reviews = runs((number_text(row[C.T_SCORE]), when_text(row[C.DATE]))
                   for _, row in data.iterrows())
    parts = [f"Goal T-score at the reviews: {reviews}"]
    if C.BASELINE_T in data.columns and data[C.BASELINE_T].notna().any():
        base = data[C.BASELINE_T].dropna().round(0).unique()
        parts.append("When the goals were set: " + ", ".join(number_text(b) for b in base))
    return sentences("Chart of progress on all goals together (the goal T-score; 50 is the "
                     "expected outcome)", parts)


@literal_text
def plot_respondent_comparison(data: pd.DataFrame, *, labels=None, ax: Axes | None = None,
                               peers: str = "children", **kwargs) -> Axes:
    """Home and school side by side: each score once per respondent on the
    band scale, the respondents' marks joined by a line; a score on which
    they differ by two levels or more has its name marked "(differ)".

    Parameters
    ----------
    data : DataFrame, one row per score x respondent, with columns
        ``score_name``, ``respondent`` (the text in the legend, e.g.
        "Caregiver, 1 February 2026"), ``position`` (as in
        :func:`plot_quadrant_profile`), ``classification`` and ``flagged``
        (bool: the respondents differ by two levels or more).
    labels : band labels, as in :func:`plot_quadrant_profile`.
    ax : Axes, optional
    peers : who the scores are compared with.
    **kwargs : passed to :meth:`Axes.scatter` for the markers.

    Returns
    -------
    Axes
    """
    if ax is None:
        ax = plt.gca()
    require(data, [C.SCORE_NAME, C.RESPONDENT, POSITION, C.CLASSIFICATION, "flagged"],
            "plot_respondent_comparison")
    band_text = band_labels(labels)
    names = list(pd.unique(data[C.SCORE_NAME].astype(str)))
    who = list(pd.unique(data[C.RESPONDENT].astype(str)))
    _shade_bands(ax, orient="x", levels=tuple(band_text))
    offsets = np.linspace(-0.18, 0.18, len(who)) if len(who) > 1 else np.zeros(1)
    handles = []
    for k, respondent in enumerate(who):
        part = data[data[C.RESPONDENT].astype(str) == respondent]
        ys = [names.index(str(n)) + offsets[k] for n in part[C.SCORE_NAME]]
        xs = np.clip(pd.to_numeric(part[POSITION], errors="coerce").to_numpy(dtype=float),
                     *_scale(band_text))
        handle = ax.scatter(xs, ys, s=150, color=SERIES_COLORS[k % len(SERIES_COLORS)],
                            marker=SERIES_MARKERS[k % len(SERIES_MARKERS)], edgecolors=INK,
                            linewidths=1.2, zorder=3, clip_on=False, **kwargs)
        handle.set_gid(f"respondent:{respondent}")
        handles.append(handle)
    for y, name in enumerate(names):  # join the respondents' marks of each score
        rows = data[data[C.SCORE_NAME].astype(str) == name]
        xs = np.clip(pd.to_numeric(rows[POSITION], errors="coerce").to_numpy(dtype=float),
                     *_scale(band_text))
        ys = [y + offsets[who.index(str(r))] for r in rows[C.RESPONDENT]]
        known = ~np.isnan(xs)
        if known.sum() > 1:
            ax.plot(xs[known], np.asarray(ys)[known], color=INK, linewidth=1.2, zorder=2)
    flagged = {str(n) for n in data.loc[data["flagged"].astype(bool), C.SCORE_NAME]}
    ax.set_yticks(range(len(names)), [f"{n} (differ)" if n in flagged else n for n in names],
                  fontsize=LABEL_SIZE)
    for tick, name in zip(ax.get_yticklabels(), names, strict=True):
        if name in flagged:
            tick.set_fontweight("bold")
    ax.tick_params(axis="y", length=0)
    ax.set_ylim(len(names) - 0.5, -0.5)
    ax.set_xlim(*_scale(band_text))
    _band_ticks(ax, band_text, orient="x", width=12)
    ax.set_xlabel(f"Compared with other {peers} of the same age", fontsize=LABEL_SIZE,
                  labelpad=8)
    finish_axes(ax, grid=None)
    ax.spines["left"].set_visible(False)
    if handles:
        legend(ax, handles, who, ncol=min(3, len(who)))
    title(ax, "Each respondent's answers")
    return ax


def respondent_comparison_alt(data: pd.DataFrame, *, labels=None) -> str:
    """The alternative text of :func:`plot_respondent_comparison`: per score,
    each respondent's classification, and where they differ by two levels
    or more."""
    require(data, [C.SCORE_NAME, C.RESPONDENT, POSITION, C.CLASSIFICATION, "flagged"],
            "respondent_comparison_alt")
    band_text = band_labels(labels)
    parts = []
    for name in pd.unique(data[C.SCORE_NAME].astype(str)):
        rows = data[data[C.SCORE_NAME].astype(str) == name]
        text = f"{name}: " + "; ".join(f"{r[C.RESPONDENT]}: {_standing_text(r, band_text)}"
                                       for _, r in rows.iterrows())
        if rows["flagged"].astype(bool).any():
            text += " (they differ by two levels or more)"
        parts.append(text)
    return sentences("Chart of each respondent's scores side by side", parts
                     or ["No score to compare"])
