"""The look shared by every chart: the Okabe-Ito palette, the type scale,
the report's matplotlib style, and the fixed colours, markers and hatches of
quadrants, classification bands and goal levels.

Nothing depends on hue alone: the five classification bands differ in
lightness and the two outer bands are hatched; each quadrant has its own
marker and line style.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import matplotlib as mpl

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
#: Hatching of the segments of a stacked bar (classifications, goal levels):
#: every level but the typical one (0) has a pattern of its own, so a segment
#: says its level without colour. (The band charts of a child's report hatch
#: only the outer bands: there each band is labelled where it lies.)
STACK_HATCHES = {-3: "xx", -2: "//", -1: "..", 0: "", 1: "||", 2: "\\\\"}
#: Hatching drawn on light fills (on dark ones it is white, :data:`HATCH_COLOR`).
DARK_HATCH_COLOR = "#6E6E6E"

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
    "text.parse_math": False,  # text from data is drawn as written ("$5" stays "$5")
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
