"""Tests of the cohort charts (sensoryprofile/plots/cohort.py).

Expected values come from outside the code under test (see the comments):
hand computations, published values, enumeration, scipy's own routines.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd
import pytest

from sensoryprofile.errors import UsageError
from sensoryprofile.plots import cohort as PC
from tests.paths import ROOT

NOTEBOOK = ROOT / "notebooks" / "cohort_analysis.ipynb"


# ---------------------------------------------------------------------------
# charts
# ---------------------------------------------------------------------------
def test_plot_consistency_draws_two_series(analysis):
    fig, ax = plt.subplots()
    assert PC.plot_consistency(analysis.consistency, ax=ax) is ax
    assert len(ax.containers) == 2  # alpha and omega error bars
    assert [t.get_text() for t in ax.get_yticklabels()] == analysis.consistency[
        "score_name"].tolist()
    plt.figure()
    assert PC.plot_consistency(analysis.consistency) is plt.gca()  # ax=None: current Axes


def test_plot_change_effects_marks_suppressed_groups(analysis):
    fig, ax = plt.subplots(figsize=(9, 10))
    PC.plot_change_effects(analysis.change, measure="abs_z", ax=ax)
    hidden = int((analysis.change.query("measure == 'abs_z'")["suppressed"]).sum())
    notes = [t for t in ax.texts if "fewer than 5" in t.get_text()]
    assert len(notes) == hidden
    with pytest.raises(UsageError, match="`measure` must be one of"):
        PC.plot_change_effects(analysis.change, measure="z", ax=ax)


def test_other_charts_draw(analysis):
    fig, ax = plt.subplots()
    PC.plot_quadrant_correlations(analysis.correlations, ax=ax)
    assert len(ax.collections) == 1 and len(ax.texts) == 16  # one heatmap, 4 x 4 values
    fig, ax = plt.subplots()
    PC.plot_norm_comparison(analysis.distribution, ax=ax)
    assert len(ax.patches) == 20  # 4 quadrants x 5 bands
    assert len([line for line in ax.lines if line.get_gid() == "expected"]) == 5
    fig, ax = plt.subplots()
    PC.plot_gas_levels(analysis.gas_levels_chart(), ax=ax)
    assert ax.get_title(loc="left").startswith("Final goal levels")
    with pytest.raises(UsageError, match="must have the column"):
        PC.plot_consistency(pd.DataFrame({"x": [1]}), ax=ax)
