"""Charts of the cohort analysis: tidy table in, ``ax=None``, the Axes out.
They draw only; the tables come from :mod:`sensoryprofile.analysis.cohort`
and :mod:`sensoryprofile.analysis.psychometrics`."""

from __future__ import annotations

import textwrap

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.axes import Axes
from matplotlib.lines import Line2D

from sensoryprofile import columns as C
from sensoryprofile.columns import (
    ALPHA,
    ALPHA_HIGH,
    ALPHA_LOW,
    EXPECTED_SHARE,
    GROUP,
    INTAKE,
    LATEST,
    MEASURE,
    OMEGA,
    OMEGA_HIGH,
    OMEGA_LOW,
    RANK_BISERIAL,
    RANK_BISERIAL_HIGH,
    RANK_BISERIAL_LOW,
    SCORE_NAME_A,
    SCORE_NAME_B,
    SHARE,
    SPEARMAN_RHO,
    SUPPRESSED,
    TIMEPOINT,
)
from sensoryprofile.errors import UsageError
from sensoryprofile.plots import style as P
from sensoryprofile.plots.caseload import plot_goal_calibration
from sensoryprofile.plots.layout import is_blank, literal_text, number_text, require, sentences

MEASURES = (C.RAW_MEASURE, C.DISTANCE_MEASURE)

@literal_text
def plot_consistency(data: pd.DataFrame, *, ax: Axes | None = None, **kwargs) -> Axes:
    """Alpha and omega with their intervals, one row per scale.

    Parameters
    ----------
    data : the :func:`internal_consistency` table (``score_name``, ``alpha``,
        ``alpha_low``, ``alpha_high``, ``omega``, ``omega_low``, ``omega_high``).
    ax : Axes, optional
    **kwargs : passed to :meth:`Axes.errorbar`.

    Returns
    -------
    Axes
    """
    if ax is None:
        ax = plt.gca()
    require(data, [C.SCORE_NAME, ALPHA, ALPHA_LOW, ALPHA_HIGH, OMEGA, OMEGA_LOW,
                      OMEGA_HIGH], "plot_consistency")
    rows = data.reset_index(drop=True)
    ys = np.arange(len(rows), dtype=float)
    for offset, (col, lo, hi), color, marker, label in (
            (-0.17, (ALPHA, ALPHA_LOW, ALPHA_HIGH), P.BLUE, "o", "Cronbach's alpha"),
            (0.17, (OMEGA, OMEGA_LOW, OMEGA_HIGH), P.ORANGE, "D", "McDonald's omega")):
        v = rows[col].to_numpy(float)
        err = np.vstack([v - rows[lo].to_numpy(float), rows[hi].to_numpy(float) - v])
        shown = ~np.isnan(v)
        style = {"fmt": marker, "color": color, "markersize": 8, "markeredgecolor": P.INK,
                 "elinewidth": 2, "capsize": 3, "label": label, **kwargs}
        ax.errorbar(v[shown], ys[shown] + offset, xerr=np.nan_to_num(err[:, shown]), **style)
    ax.axvline(0.7, color=P.MUTED, linestyle="--", linewidth=1.0, zorder=1).set_gid("0.70")
    ax.set_yticks(ys, [str(s) for s in rows[C.SCORE_NAME]], fontsize=P.TICK_SIZE)
    ax.tick_params(axis="y", length=0)
    ax.set_ylim(len(rows) - 0.4, -0.6)
    low = np.nanmin(np.concatenate([rows[ALPHA_LOW].to_numpy(float),
                                    rows[OMEGA_LOW].to_numpy(float), [0.6]]))
    low = min(low, np.nanmin(np.concatenate([rows[ALPHA].to_numpy(float),
                                             rows[OMEGA].to_numpy(float), [0.6]])))
    ax.set_xlim(np.floor(low * 10) / 10 - 0.05, 1.0)
    ax.grid(axis="x", color=P.GRID)
    ax.grid(axis="y", visible=False)
    ax.spines["left"].set_visible(False)
    ax.set_xlabel("Internal consistency (dashed line: 0.70)", fontsize=P.LABEL_SIZE)
    ax.legend(loc="lower left", frameon=False, fontsize=P.NOTE_SIZE)
    ax.set_title("Internal consistency, with 95% intervals", loc="left",
                 fontsize=P.TITLE_SIZE, fontweight="bold")
    return ax


@literal_text
def plot_quadrant_correlations(data: pd.DataFrame, *, ax: Axes | None = None,
                               **kwargs) -> Axes:
    """Spearman correlations between quadrants as an annotated matrix
    (:func:`seaborn.heatmap`).

    Parameters
    ----------
    data : the :func:`~sensoryprofile.analysis.cohort.quadrant_correlations`
        table (each pair once).
    ax : Axes, optional
    **kwargs : passed to :func:`seaborn.heatmap`.

    Returns
    -------
    Axes
    """
    if ax is None:
        ax = plt.gca()
    require(data, [SCORE_NAME_A, SCORE_NAME_B, SPEARMAN_RHO], "plot_quadrant_correlations")
    names = list(dict.fromkeys([*data[SCORE_NAME_A].astype(str),
                                *data[SCORE_NAME_B].astype(str)]))
    matrix = pd.DataFrame(np.eye(len(names)), index=names, columns=names)
    for a, b, r in zip(data[SCORE_NAME_A].astype(str), data[SCORE_NAME_B].astype(str),
                       data[SPEARMAN_RHO].to_numpy(float), strict=True):
        matrix.loc[a, b] = matrix.loc[b, a] = r
    style = {"cmap": "PuOr_r", "vmin": -1, "vmax": 1, "center": 0, "annot": True,
             "fmt": ".2f", "square": True, "linewidths": 1, "linecolor": "white",
             "annot_kws": {"fontsize": P.TICK_SIZE},
             "cbar_kws": {"label": "Spearman rho", "fraction": 0.046, "pad": 0.04}, **kwargs}
    sns.heatmap(matrix, ax=ax, **style)
    ax.tick_params(length=0, labelsize=P.TICK_SIZE)
    ax.set_xticklabels(ax.get_xticklabels(), rotation=0)
    ax.set_yticklabels(ax.get_yticklabels(), rotation=0)
    ax.set_xlabel("")
    ax.set_ylabel("")
    ax.set_title("Quadrant intercorrelations at intake", loc="left", fontsize=P.TITLE_SIZE,
                 fontweight="bold")
    return ax


@literal_text
def plot_norm_comparison(data: pd.DataFrame, *, timepoint: str = INTAKE,
                         ax: Axes | None = None, **kwargs) -> Axes:
    """Share of children per classification band and quadrant, bars, with
    the share the norms imply drawn as a black line over each band.

    Parameters
    ----------
    data : the :func:`norm_distribution` table.
    timepoint : which timepoint to draw ("intake" or "latest").
    ax : Axes, optional
    **kwargs : passed to :meth:`Axes.bar`.

    Returns
    -------
    Axes
    """
    if ax is None:
        ax = plt.gca()
    require(data, [C.SCORE, C.SCORE_NAME, TIMEPOINT, C.LEVEL, C.CLASSIFICATION, SHARE,
                      EXPECTED_SHARE], "plot_norm_comparison")
    if timepoint not in (INTAKE, LATEST):
        raise UsageError(f"The value for `timepoint` must be one of ['{INTAKE}', '{LATEST}'], "
                         f"but {timepoint!r} was passed")
    rows = data[data[TIMEPOINT] == timepoint]
    quadrants = list(dict.fromkeys(rows[C.SCORE].astype(str)))
    levels = list(range(-2, 3))
    width = 0.8 / max(1, len(quadrants))
    for q, score in enumerate(quadrants):
        part = rows[rows[C.SCORE].astype(str) == score].set_index(C.LEVEL)
        shares = part[SHARE].reindex(levels).to_numpy(float)
        xs = np.arange(5) - 0.4 + width * (q + 0.5)
        style = {"color": P.QUADRANT_COLORS.get(score, P.SERIES_COLORS[q % 7]),
                 "hatch": P.SERIES_HATCHES[q % 7] or None, "edgecolor": "white",
                 "label": str(part[C.SCORE_NAME].iloc[0]), **kwargs}
        ax.bar(xs, np.nan_to_num(shares), width=width * 0.92, **style)
    expected = (rows.drop_duplicates(C.LEVEL).set_index(C.LEVEL)[EXPECTED_SHARE]
                .reindex(levels).to_numpy(float))
    for x, e in enumerate(expected):
        ax.plot([x - 0.45, x + 0.45], [e, e], color=P.INK, linewidth=2.5, zorder=4,
                gid="expected")
    labels = (rows.drop_duplicates(C.LEVEL).set_index(C.LEVEL)[C.CLASSIFICATION]
              .reindex(levels).astype(str).tolist())
    ax.set_xticks(range(5), [textwrap.fill(t, 14) for t in labels], fontsize=P.TICK_SIZE - 1)
    ax.tick_params(axis="x", length=0)
    ax.yaxis.set_major_formatter(mpl.ticker.PercentFormatter(xmax=1))
    ax.set_ylim(0, 1)
    ax.grid(axis="y", color=P.GRID)
    ax.grid(axis="x", visible=False)
    ax.set_ylabel("Share of children", fontsize=P.LABEL_SIZE)
    handles, texts = ax.get_legend_handles_labels()
    handles.append(Line2D([], [], color=P.INK, linewidth=2.5))
    texts.append("expected from the norms")
    ax.legend(handles, texts, frameon=False, fontsize=P.NOTE_SIZE, loc="upper left")
    when = "at intake" if timepoint == INTAKE else "at the latest assessment"
    ax.set_title(f"Classifications {when} against the norms", loc="left",
                 fontsize=P.TITLE_SIZE, fontweight="bold")
    return ax


@literal_text
def plot_change_effects(data: pd.DataFrame, *, measure: str = C.DISTANCE_MEASURE,
                        ax: Axes | None = None, **kwargs) -> Axes:
    """Rank-biserial correlation of intake-to-latest change with its 95%
    interval, one row per group x quadrant; suppressed groups say so.

    Parameters
    ----------
    data : the :func:`sensory_change` table.
    measure : which measure to draw (``"abs_z"`` or ``"raw"``).
    ax : Axes, optional
    **kwargs : passed to :meth:`Axes.errorbar`.

    Returns
    -------
    Axes
    """
    if ax is None:
        ax = plt.gca()
    require(data, [GROUP, C.SCORE, C.SCORE_NAME, MEASURE, RANK_BISERIAL, RANK_BISERIAL_LOW,
                   RANK_BISERIAL_HIGH, SUPPRESSED], "plot_change_effects")
    if measure not in MEASURES:
        raise UsageError(f"The value for `measure` must be one of {list(MEASURES)}, but "
                         f"{measure!r} was passed")
    rows = data[data[MEASURE] == measure].reset_index(drop=True)
    groups = list(dict.fromkeys(rows[GROUP].astype(str)))
    ys, labels, y = [], [], 0.0
    header_ys = []
    for g in groups:
        header_ys.append((y, g))
        y += 1
        for _ in range(int((rows[GROUP] == g).sum())):
            ys.append(y)
            y += 1
        y += 0.4
    ys = np.array(ys)
    value = rows[RANK_BISERIAL].to_numpy(float)
    low, high = rows[RANK_BISERIAL_LOW].to_numpy(float), rows[RANK_BISERIAL_HIGH].to_numpy(
        float)
    ax.axvline(0, color=P.INK, linestyle="--", linewidth=1.2, zorder=1).set_gid("no change")
    for score in dict.fromkeys(rows[C.SCORE].astype(str)):
        mask = (rows[C.SCORE].astype(str) == score).to_numpy() & ~np.isnan(value)
        if not mask.any():
            continue
        err = np.nan_to_num(np.vstack([value - low, high - value])[:, mask])
        style = {"fmt": P.QUADRANT_MARKERS.get(score, "o"), "markersize": 8,
                 "color": P.QUADRANT_COLORS.get(score, P.BLUE), "markeredgecolor": P.INK,
                 "elinewidth": 2, "capsize": 3, "zorder": 3, **kwargs}
        ax.errorbar(value[mask], ys[mask], xerr=err, **style)
    notes = (rows[C.NOTE].astype(object).fillna("").to_numpy() if C.NOTE in rows.columns
             else np.full(len(rows), "", dtype=object))
    for yy, suppressed, note in zip(ys, rows[SUPPRESSED].to_numpy(dtype=bool), notes,
                                    strict=True):
        if suppressed:
            ax.text(0, yy, f"{note or 'too few children'}: not shown", ha="center", va="center",
                    fontsize=P.NOTE_SIZE - 1, style="italic", color=P.INK, zorder=4,
                    bbox={"boxstyle": "round,pad=0.2", "facecolor": "white",
                          "edgecolor": P.MUTED, "linewidth": 0.6})
    labels = [str(s) for s in rows[C.SCORE_NAME]]
    ticks = list(ys) + [h for h, _ in header_ys]
    texts = labels + [g for _, g in header_ys]
    ax.set_yticks(ticks, texts, fontsize=P.TICK_SIZE - 1)
    for tick, text in zip(ax.get_yticklabels(), texts, strict=True):
        if text in groups and text not in labels:
            tick.set_fontweight("bold")
    ax.tick_params(axis="y", length=0)
    ax.set_ylim(y - 0.2, -0.8)
    ax.set_xlim(-1.05, 1.05)
    ax.grid(axis="x", color=P.GRID)
    ax.grid(axis="y", visible=False)
    ax.spines["left"].set_visible(False)
    what = ("distance from typical (negative: closer to typical)" if measure == C.DISTANCE_MEASURE
            else "raw score (negative: less of the behaviour)")
    ax.set_xlabel(f"Rank-biserial r of the change in {what}", fontsize=P.LABEL_SIZE - 1)
    ax.set_title("Change from intake to latest, with 95% intervals", loc="left",
                 fontsize=P.TITLE_SIZE, fontweight="bold")
    return ax


@literal_text
def plot_gas_levels(data: pd.DataFrame, *, ax: Axes | None = None, **kwargs) -> Axes:
    """Final goal levels against the spread expected when goals are well set,
    drawn by :func:`sensoryprofile.plots.plot_goal_calibration` with one bar
    per group instead of per therapist.

    Parameters
    ----------
    data : DataFrame with ``group``, ``level``, ``share`` and optionally ``n``
        (:meth:`CohortAnalysis.gas_levels_chart`).
    ax : Axes, optional
    **kwargs : passed to :func:`sensoryprofile.plots.plot_goal_calibration`.

    Returns
    -------
    Axes
    """
    if ax is None:
        ax = plt.gca()
    require(data, [GROUP, C.LEVEL, SHARE], "plot_gas_levels")
    plot_goal_calibration(data.rename(columns={GROUP: C.THERAPIST}), ax=ax, **kwargs)
    ax.set_title("Final goal levels against the expected spread", loc="left",
                 fontsize=P.TITLE_SIZE, fontweight="bold")
    return ax


# ---------------------------------------------------------------------------
# alternative text: what each chart above draws, in words, from the same frame
# ---------------------------------------------------------------------------
def _estimate(value, low, high, digits: int = 2) -> str:
    text = number_text(value, digits)
    if not is_blank(low) and not is_blank(high):
        text += f" ({number_text(low, digits)} to {number_text(high, digits)})"
    return text


def consistency_alt(data: pd.DataFrame) -> str:
    """The alternative text of :func:`plot_consistency`: each scale's alpha
    and omega with their 95% intervals."""
    require(data, [C.SCORE_NAME, ALPHA, ALPHA_LOW, ALPHA_HIGH, OMEGA, OMEGA_LOW, OMEGA_HIGH],
            "consistency_alt")
    parts = [f"{row[C.SCORE_NAME]}: alpha {_estimate(row[ALPHA], row[ALPHA_LOW], row[ALPHA_HIGH])}"
             f", omega {_estimate(row[OMEGA], row[OMEGA_LOW], row[OMEGA_HIGH])}"
             for _, row in data.iterrows()]
    return sentences("Chart of internal consistency (Cronbach's alpha and McDonald's omega) "
                     "with 95% intervals; 0.70 is marked", ["; ".join(parts)] if parts
                     else ["No scales"])


def quadrant_correlations_alt(data: pd.DataFrame) -> str:
    """The alternative text of :func:`plot_quadrant_correlations`: every pair's
    Spearman correlation."""
    require(data, [SCORE_NAME_A, SCORE_NAME_B, SPEARMAN_RHO], "quadrant_correlations_alt")
    parts = [f"{a} and {b}: {number_text(r, 2)}" for a, b, r in
             zip(data[SCORE_NAME_A], data[SCORE_NAME_B], data[SPEARMAN_RHO], strict=True)]
    return sentences("Matrix of Spearman correlations between the scores at intake",
                     ["; ".join(parts)] if parts else ["No pairs"])


def norm_comparison_alt(data: pd.DataFrame, *, timepoint: str = INTAKE) -> str:
    """The alternative text of :func:`plot_norm_comparison`: the share of
    children in each classification per score, beside the share the norms
    imply."""
    require(data, [C.SCORE, C.SCORE_NAME, TIMEPOINT, C.LEVEL, C.CLASSIFICATION, SHARE,
                   EXPECTED_SHARE], "norm_comparison_alt")
    rows = data[data[TIMEPOINT] == timepoint]
    expected = rows.drop_duplicates(C.LEVEL).sort_values(C.LEVEL)
    parts = ["Expected from the norms: " + ", ".join(
        f"{c} {number_text(e, percent=True)}"
        for c, e in zip(expected[C.CLASSIFICATION], expected[EXPECTED_SHARE], strict=True))]
    for name in dict.fromkeys(rows[C.SCORE_NAME].astype(str)):
        part = rows[rows[C.SCORE_NAME].astype(str) == name].sort_values(C.LEVEL)
        parts.append(f"{name}: " + ", ".join(
            f"{c} {number_text(s, percent=True)}"
            for c, s in zip(part[C.CLASSIFICATION], part[SHARE], strict=True)))
    when = "at intake" if timepoint == INTAKE else "at the latest assessment"
    return sentences(f"Bar chart of the share of children in each classification {when}, "
                     "against the share expected from the norms", parts)


def change_effects_alt(data: pd.DataFrame, *, measure: str = C.DISTANCE_MEASURE) -> str:
    """The alternative text of :func:`plot_change_effects`: per group and
    score, the rank-biserial correlation with its 95% interval, or why it is
    not shown."""
    require(data, [GROUP, C.SCORE, C.SCORE_NAME, MEASURE, RANK_BISERIAL, RANK_BISERIAL_LOW,
                   RANK_BISERIAL_HIGH, SUPPRESSED], "change_effects_alt")
    rows = data[data[MEASURE] == measure]
    parts = []
    for group in dict.fromkeys(rows[GROUP].astype(str)):
        part = rows[rows[GROUP].astype(str) == group]
        said = []
        for _, row in part.iterrows():
            if bool(row[SUPPRESSED]) or is_blank(row[RANK_BISERIAL]):
                note = row.get(C.NOTE)
                said.append(f"{row[C.SCORE_NAME]}: "
                            f"{note if not is_blank(note) and note else 'too few children'}, "
                            "not shown")
            else:
                said.append(f"{row[C.SCORE_NAME]}: " + _estimate(
                    row[RANK_BISERIAL], row[RANK_BISERIAL_LOW], row[RANK_BISERIAL_HIGH]))
        parts.append(f"{group}: " + "; ".join(said))
    what = ("distance from typical (negative: closer to typical)"
            if measure == C.DISTANCE_MEASURE else "raw score (negative: less of the behaviour)")
    return sentences("Chart of the change from intake to latest: rank-biserial r of the change "
                     f"in {what}, with 95% intervals", parts or ["No groups"])


def gas_levels_alt(data: pd.DataFrame) -> str:
    """The alternative text of :func:`plot_gas_levels` (the calibration
    chart's, one bar per group)."""
    from sensoryprofile.plots.caseload import goal_calibration_alt

    require(data, [GROUP, C.LEVEL, SHARE], "gas_levels_alt")
    return goal_calibration_alt(data, who=GROUP,
                                what="Final goal levels against the expected spread")
