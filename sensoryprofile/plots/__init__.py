"""Every chart: a tidy frame in, ``ax=None``, the Axes out. Charts draw; they
compute nothing (the numbers come from :mod:`sensoryprofile.measures` and
:mod:`sensoryprofile.analysis`).

* :mod:`~sensoryprofile.plots.style` - palette, type scale, the report style;
* :mod:`~sensoryprofile.plots.layout` - shared placing and labelling helpers;
* :mod:`~sensoryprofile.plots.child`, :mod:`~sensoryprofile.plots.caseload`,
  :mod:`~sensoryprofile.plots.cohort`, :mod:`~sensoryprofile.plots.family` - one
  module per report.

Every chart function is also a name of this package (imported on first use,
so a report that draws only the child's charts never loads seaborn).
"""

from __future__ import annotations

import importlib

_MODULES = {
    "child": ("plot_quadrant_profile", "plot_section_profile", "plot_pattern_map",
              "plot_quadrant_trajectories", "plot_goal_trajectories", "plot_tscore_over_time"),
    "caseload": ("plot_caseload_counts", "plot_classification_shift", "plot_tchange_by_group",
                 "plot_goal_calibration"),
    "cohort": ("plot_consistency", "plot_quadrant_correlations", "plot_norm_comparison",
               "plot_change_effects", "plot_gas_levels"),
    "family": ("plot_goal_steps",),
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
