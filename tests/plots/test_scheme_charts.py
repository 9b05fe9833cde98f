"""Charts in a form's own levels: three one-sided levels, and a scheme of
more than five (its outer levels share the outermost band and sit at the
scale's edge), for the child's band charts and the caseload's stacked bars."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from sensoryprofile import columns as C  # noqa: E402
from sensoryprofile import plots  # noqa: E402
from sensoryprofile.instruments.model import Level, Scheme  # noqa: E402
from sensoryprofile.plots.layout import band_labels, band_level  # noqa: E402

ONE_SIDED = Scheme(levels=(Level("typical", "Typical", 0), Level("probable", "Probable", 1),
                           Level("definite", "Definite", 2)), typical="typical")
FOUR = Scheme(levels=(Level("none", "None", 0), Level("mild", "Mild", 1),
                      Level("moderate", "Moderate", 2), Level("severe", "Severe", 3)),
              typical="none")


def test_band_labels_of_a_scheme():
    assert band_labels(ONE_SIDED) == {0: "Typical", 1: "Probable", 2: "Definite"}
    assert band_labels(FOUR) == {0: "None", 1: "Mild", 2: "Moderate", 3: "Severe"}
    assert [band_level(v) for v in (-4, -2, 0, 3)] == [-2, -2, 0, 2]


@pytest.mark.parametrize("scheme", [ONE_SIDED, FOUR], ids=["three one-sided", "four"])
def test_the_childs_band_charts_draw_only_the_forms_levels(scheme):
    labels = band_labels(scheme)
    top = max(labels)
    # positions: typical at 0, the first level out at 1.5, the outermost at the edge (3.0)
    frame = pd.DataFrame({C.SCORE_NAME: ["Touch", "Total"], C.KIND: ["section", "total"],
                          C.SECTION_KIND: ["sensory", None], C.POSITION: [0.0, 3.0],
                          C.CLASSIFICATION: [labels[0], labels[top]]})
    fig, ax = plt.subplots(figsize=(10, 4))
    plots.plot_section_profile(frame, labels=scheme, ax=ax)
    ticks = [t.get_text().replace("\n", " ") for t in ax.get_xticklabels()]
    assert ticks == list(labels.values())  # every level of the form, nothing else
    assert ax.get_xlim() == (-1.0, 3.0)  # from the typical band's lower edge to the top
    shaded = sorted(p.get_gid() for p in ax.patches if str(p.get_gid()).startswith("band:"))
    assert shaded == ["band:0", "band:1", "band:2"]
    assert "Total: " + labels[top] in plots.section_profile_alt(frame, labels=scheme)
    plt.close(fig)


def test_the_caseload_stacked_bars_take_a_scheme_of_four_levels():
    labels = band_labels(FOUR)
    rows = [(point, labels[lv], share) for point, shares in
            (("intake", {0: 0.25, 1: 0.25, 2: 0.25, 3: 0.25}), ("latest", {0: 1.0}))
            for lv, share in shares.items()]
    frame = pd.DataFrame({C.SCORE_NAME: "Total", C.TIMEPOINT: [r[0] for r in rows],
                          C.CLASSIFICATION: [r[1] for r in rows], C.SHARE: [r[2] for r in rows]})
    fig, ax = plt.subplots(figsize=(8, 3))
    plots.plot_classification_shift(frame, labels=FOUR, ax=ax)
    legend = [t.get_text() for t in ax.get_legend().get_texts()] if ax.get_legend() else [
        t.get_text() for t in fig.legends[0].get_texts()]
    assert legend == ["None", "Mild", "Moderate", "Severe"]
    assert "Severe 25%" in plots.classification_shift_alt(frame, labels=FOUR)
    plt.close(fig)
