"""Every chart: a tidy frame in, ``ax=None``, the Axes out. Charts draw; they
compute nothing (the numbers come from :mod:`sensoryprofile.measures` and
:mod:`sensoryprofile.analysis`).

* :mod:`~sensoryprofile.plots.style` - palette, type scale, the report style;
* :mod:`~sensoryprofile.plots.layout` - shared placing and labelling helpers, and
  :func:`~sensoryprofile.plots.layout.show_figure`, which shows a chart in a
  report with its alternative text;
* :mod:`~sensoryprofile.plots.child`, :mod:`~sensoryprofile.plots.caseload`,
  :mod:`~sensoryprofile.plots.cohort`, :mod:`~sensoryprofile.plots.family` - one
  module per report.

Beside each chart function ``plot_x`` is ``x_alt``: the chart's alternative
text, in words, from the same frame (what it draws, e.g. "Seeking: Just Like
the Majority of Others, percentile 52").

Every chart function is also a name of this package (imported on first use,
so a report that draws only the child's charts never loads seaborn).
"""

from __future__ import annotations

import importlib

_MODULES = {
    "child": ("plot_quadrant_profile", "plot_section_profile", "plot_pattern_map",
              "plot_quadrant_trajectories", "plot_goal_trajectories", "plot_tscore_over_time",
              "quadrant_profile_alt", "section_profile_alt", "pattern_map_alt",
              "quadrant_trajectories_alt", "goal_trajectories_alt", "tscore_over_time_alt"),
    "caseload": ("plot_caseload_counts", "plot_classification_shift", "plot_tchange_by_group",
                 "plot_goal_calibration", "caseload_counts_alt", "classification_shift_alt",
                 "tchange_by_group_alt", "goal_calibration_alt"),
    "cohort": ("plot_consistency", "plot_quadrant_correlations", "plot_norm_comparison",
               "plot_change_effects", "plot_gas_levels", "consistency_alt",
               "quadrant_correlations_alt", "norm_comparison_alt", "change_effects_alt",
               "gas_levels_alt"),
    "family": ("plot_goal_steps", "goal_steps_alt"),
    "layout": ("show_figure",),
    "style": ("apply_style", "report_style", "FIGSIZE", "FIGSIZE_SQUARE"),
}
_LAZY = {name: module for module, names in _MODULES.items() for name in names}

__all__ = sorted(_LAZY)


def __getattr__(name: str):
    if name in _LAZY:
        value = getattr(importlib.import_module(f"sensoryprofile.plots.{_LAZY[name]}"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'sensoryprofile.plots' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_LAZY))
