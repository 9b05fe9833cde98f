"""Charts: check what was drawn (patches, lines, texts), not pixels."""

from __future__ import annotations

import itertools
import subprocess
import sys

import matplotlib

matplotlib.use("Agg")

import matplotlib as mpl  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import matplotlib.text  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from matplotlib.colors import to_rgb, to_rgba  # noqa: E402

from sensoryprofile import columns as C  # noqa: E402
from sensoryprofile import plots as P  # noqa: E402
from sensoryprofile.errors import UsageError  # noqa: E402
from sensoryprofile.instruments.model import DEFAULT_LABELS  # noqa: E402
from sensoryprofile.instruments.schema import LEVEL_KEYS  # noqa: E402
from sensoryprofile.measures import norms as N  # noqa: E402
from sensoryprofile.plots import style as S  # noqa: E402

LABELS = [DEFAULT_LABELS[k] for k in LEVEL_KEYS]  # least .. most


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


# ---------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------
def flat(text: str) -> str:
    """A (possibly wrapped) text on one line."""
    return " ".join(str(text).split())


def visible_texts(ax) -> list[str]:
    texts = [ax.get_title(), ax.get_title("left"), ax.get_title("right"),
             ax.get_xlabel(), ax.get_ylabel()]
    texts += [t.get_text() for t in ax.get_xticklabels() + ax.get_yticklabels()]
    texts += [t.get_text() for t in ax.texts]
    legend = ax.get_legend()
    if legend is not None:
        texts += [t.get_text() for t in legend.get_texts()]
        texts.append(legend.get_title().get_text())
    return [flat(t) for t in texts if t]


def title(ax):
    """The title artist (the charts put their title at the left)."""
    text = ax.get_title("left") or ax.get_title()
    return next(t for t in ax.get_children()
                if isinstance(t, matplotlib.text.Text) and t.get_text() == text and text)


def xticklabels(ax) -> list[str]:
    return [flat(t.get_text()) for t in ax.get_xticklabels()]


def yticklabels(ax) -> list[str]:
    return [flat(t.get_text()) for t in ax.get_yticklabels()]


def span(ax, patch, axis: str) -> tuple[float, float]:
    """Data extent of a patch along one axis (works for Rectangle and Polygon)."""
    ax.figure.canvas.draw()
    data = ax.transData.inverted().transform(patch.get_verts())
    values = data[:, 0 if axis == "x" else 1]
    return round(float(values.min()), 6), round(float(values.max()), 6)


def bands(ax) -> dict[int, object]:
    return {int(p.get_gid().split(":")[1]): p for p in ax.patches
            if (p.get_gid() or "").startswith("band:")}


def by_gid(ax, prefix: str) -> list:
    return [a for a in ax.get_children() if (a.get_gid() or "").startswith(prefix)]


def luma(color) -> float:
    r, g, b = to_rgb(color)
    return 0.299 * r + 0.587 * g + 0.114 * b


def relative_luminance(color) -> float:
    """WCAG 2 relative luminance (linearised sRGB)."""
    rgb = np.array(to_rgb(color))
    lin = np.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)
    return float(lin @ [0.2126, 0.7152, 0.0722])


# ---------------------------------------------------------------------------
# frames built by hand
# ---------------------------------------------------------------------------
def quadrants(**overrides) -> pd.DataFrame:
    frame = pd.DataFrame({
        C.SCORE: ["seeking", "avoiding", "sensitivity", "registration"],
        C.SCORE_NAME: ["Seeking", "Avoiding", "Sensitivity", "Registration"],
        C.POSITION: [2.4, -0.3, 1.4, np.nan],
        C.CLASSIFICATION: [LABELS[4], LABELS[2], LABELS[3], None],
    })
    return frame.assign(**overrides)


def sections() -> pd.DataFrame:
    return pd.DataFrame({
        C.SCORE_NAME: ["Conduct", "Auditory", "Seeking", "Touch", "Attention"],
        C.KIND: ["section", "section", "quadrant", "section", "section"],
        C.SECTION_KIND: ["behavioural", "sensory", None, "sensory", "behavioural"],
        C.POSITION: [-2.5, 1.2, 2.0, np.nan, 0.3],
        C.CLASSIFICATION: [LABELS[0], LABELS[3], LABELS[3], None, LABELS[2]],
    })


def trajectories() -> pd.DataFrame:
    rows = []
    dates = ["2023-03-10", "2023-09-15", "2024-04-02"]
    for score, values in [("seeking", [2.5, 1.8, 0.9]), ("avoiding", [0.2, 0.1, -0.3]),
                          ("sensitivity", [1.6, np.nan, 1.0]),
                          ("registration", [-1.2, -0.8, -0.5])]:
        for date, value in zip(dates, values, strict=True):
            rows.append({C.DATE: pd.Timestamp(date).date(), C.SCORE: score,
                         C.SCORE_NAME: score.capitalize(), C.POSITION: value})
    return pd.DataFrame(rows)


def goal_ratings(levels_g2=(-2, -1, -1, 0)) -> pd.DataFrame:
    dates = pd.to_datetime(["2024-01-10", "2024-03-01", "2024-05-01", "2024-07-01"])
    return pd.DataFrame({
        C.GOAL_ID: ["G1"] * 4 + ["G2"] * 4,
        C.DATE: list(dates) * 2,
        C.LEVEL: pd.array([-1, -1, 0, 1, *levels_g2], dtype="Int8"),
        C.CARRIED: [False, False, False, False, False, False, True, False],
        C.IS_BASELINE: [True, False, False, False, True, False, False, False],
        C.BASELINE_LEVEL: [-1] * 4 + [levels_g2[0]] * 4,
        C.LABEL: ["Dresses for school"] * 4 + ["Joins in at circle time"] * 4,
    })


def tscores(baseline=True) -> pd.DataFrame:
    frame = pd.DataFrame({C.DATE: pd.to_datetime(["2024-03-01", "2024-05-01", "2024-07-01"]),
                          C.T_SCORE: [38.5, 45.2, 53.1]})
    if baseline:
        frame[C.BASELINE_T] = 31.2
    return frame


def counts() -> pd.DataFrame:
    return pd.DataFrame({C.SITE: ["North", "North", "South", "South", "Outreach"],
                         "review_status": ["up to date", "overdue"] * 2 + ["up to date"],
                         C.COUNT: [23, 4, 17, 9, 6]})


def shift() -> pd.DataFrame:
    rows = []
    for name in ("Seeking", "Avoiding"):
        for point, shares in (("intake", [0.1, 0.2, 0.3, 0.2, 0.2]),
                              ("latest", [0.0, 0.1, 0.6, 0.2, 0.05])):
            for label, share in zip(LABELS, shares, strict=True):
                if share:
                    rows.append({C.SCORE_NAME: name, C.TIMEPOINT: point,
                                 C.CLASSIFICATION: label, C.SHARE: share})
        rows.append({C.SCORE_NAME: name, C.TIMEPOINT: "latest", C.CLASSIFICATION: None,
                     C.SHARE: 0.05})
    return pd.DataFrame(rows)


def tchange() -> pd.DataFrame:
    return pd.DataFrame({C.THERAPIST: ["A. Jones", "B. Smith", "C. Patel"],
                         C.MEDIAN: [12.5, np.nan, -2.0], C.CI_LOW: [8.1, np.nan, -9.0],
                         C.CI_HIGH: [16.0, np.nan, 4.1], C.N: [14, 3, 6]})


def calibration() -> pd.DataFrame:
    rows = []
    for who, shares in (("A. Jones", [0.05, 0.2, 0.45, 0.2, 0.1]),
                        ("B. Smith", [0.0, 0.05, 0.25, 0.35, 0.35])):
        for level, share in zip(range(-2, 3), shares, strict=True):
            rows.append({C.THERAPIST: who, C.LEVEL: level, C.SHARE: share, C.N: 20})
    return pd.DataFrame(rows)


CHARTS = {
    "quadrant_profile": lambda ax: P.plot_quadrant_profile(quadrants(), ax=ax),
    "pattern_map": lambda ax: P.plot_pattern_map(quadrants(), ax=ax),
    "section_profile": lambda ax: P.plot_section_profile(sections(), ax=ax),
    "quadrant_trajectories": lambda ax: P.plot_quadrant_trajectories(trajectories(), ax=ax),
    "goal_trajectories": lambda ax: P.plot_goal_trajectories(goal_ratings(), ax=ax),
    "tscore_over_time": lambda ax: P.plot_tscore_over_time(tscores(), ax=ax),
    "caseload_counts": lambda ax: P.plot_caseload_counts(counts(), x=C.SITE,
                                                         hue="review_status", ax=ax),
    "classification_shift": lambda ax: P.plot_classification_shift(shift(), ax=ax),
    "tchange_by_group": lambda ax: P.plot_tchange_by_group(tchange(), group=C.THERAPIST,
                                                           ax=ax),
    "goal_calibration": lambda ax: P.plot_goal_calibration(calibration(), ax=ax),
}


# ---------------------------------------------------------------------------
# every chart
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("name", CHARTS)
def test_draws_into_the_given_axes_and_returns_it(name):
    fig, ax = plt.subplots()
    other = fig.add_axes((0.8, 0.8, 0.1, 0.1))
    n_figures = len(plt.get_fignums())
    assert CHARTS[name](ax) is ax
    assert ax.has_data() or ax.patches or ax.texts
    assert not other.has_data() and not other.texts
    assert len(plt.get_fignums()) == n_figures  # no new figure


@pytest.mark.parametrize("name", CHARTS)
def test_uses_current_axes_when_none_given(name):
    fig, ax = plt.subplots()
    assert CHARTS[name](None) is ax


@pytest.mark.parametrize("name", CHARTS)
def test_visible_text_is_plain_language(name):
    _, ax = plt.subplots()
    CHARTS[name](ax)
    texts = visible_texts(ax)
    assert title(ax).get_text()  # every chart has a title
    assert [t for t in texts if "_" in t] == []


@pytest.mark.parametrize("name", CHARTS)
def test_no_top_or_right_spine(name):
    _, ax = plt.subplots()
    CHARTS[name](ax)
    assert not ax.spines["top"].get_visible()
    assert not ax.spines["right"].get_visible()


@pytest.mark.parametrize("name", CHARTS)
def test_type_is_large_enough(name):
    _, ax = plt.subplots()
    CHARTS[name](ax)
    assert title(ax).get_fontsize() >= S.TITLE_SIZE
    labels = [lab for lab in (ax.xaxis.label, ax.yaxis.label) if lab.get_text()]
    assert all(lab.get_fontsize() >= S.LABEL_SIZE for lab in labels)
    ticks = [t for t in ax.get_xticklabels() + ax.get_yticklabels() if t.get_text()]
    assert ticks and all(t.get_fontsize() >= S.NOTE_SIZE for t in ticks)
    assert all(t.get_fontsize() >= S.NOTE_SIZE - 1 for t in ax.texts)


def test_input_frames_are_not_modified():
    frames = {"quadrants": quadrants(), "sections": sections(), "goals": goal_ratings(),
              "shift": shift()}
    before = {k: v.copy() for k, v in frames.items()}
    P.plot_quadrant_profile(frames["quadrants"], ax=plt.subplots()[1])
    P.plot_pattern_map(frames["quadrants"], ax=plt.subplots()[1])
    P.plot_section_profile(frames["sections"], ax=plt.subplots()[1])
    P.plot_goal_trajectories(frames["goals"], ax=plt.subplots()[1])
    P.plot_classification_shift(frames["shift"], ax=plt.subplots()[1])
    for key, frame in frames.items():
        pd.testing.assert_frame_equal(frame, before[key])


@pytest.mark.parametrize("func, column", [
    (P.plot_quadrant_profile, C.POSITION),
    (P.plot_pattern_map, C.SCORE),
    (P.plot_section_profile, C.SECTION_KIND),
])
def test_missing_column_is_named(func, column):
    with pytest.raises(UsageError, match=column):
        func(quadrants().drop(columns=[column], errors="ignore"), ax=plt.subplots()[1])


# ---------------------------------------------------------------------------
# style
# ---------------------------------------------------------------------------
def test_band_colours_differ_in_greyscale():
    colors = [S.BAND_COLORS[level] for level in (-2, -1, 0, 1, 2)]
    for a, b in itertools.combinations(colors, 2):
        assert abs(luma(a) - luma(b)) >= 0.08, (a, b)
        assert abs(relative_luminance(a) - relative_luminance(b)) >= 0.08, (a, b)
    # the typical band is the lightest; the two outer bands are hatched, differently
    assert max(colors, key=luma) == S.BAND_COLORS[0]
    assert S.BAND_HATCHES[-2] and S.BAND_HATCHES[2]
    assert S.BAND_HATCHES[-2] != S.BAND_HATCHES[2]
    assert not any(S.BAND_HATCHES[level] for level in (-1, 0, 1))


def test_band_geometry():
    assert S.BAND_EDGES == (-3, -2, -1, 1, 2, 3)
    assert N.BAND_CENTERS == {-2: -2.5, -1: -1.5, 0: 0.0, 1: 1.5, 2: 2.5}
    for level, lo, hi in zip((-2, -1, 0, 1, 2), S.BAND_EDGES[:-1], S.BAND_EDGES[1:],
                             strict=True):
        assert lo <= N.BAND_CENTERS[level] <= hi


def test_palette_is_okabe_ito_and_quadrants_are_distinct():
    assert set(S.OKABE_ITO) == {"#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2",
                                "#D55E00", "#CC79A7", "#000000"}
    quadrant_ids = ("seeking", "avoiding", "sensitivity", "registration")
    for table in (S.QUADRANT_COLORS, S.QUADRANT_MARKERS, S.QUADRANT_LINESTYLES,
                  S.PERSON_LABELS):
        assert set(table) == set(quadrant_ids)
        assert len(set(table.values())) == 4
    assert set(S.QUADRANT_COLORS.values()) <= set(S.OKABE_ITO)
    assert S.TITLE_SIZE > S.LABEL_SIZE > S.TICK_SIZE > S.NOTE_SIZE >= 10


def test_import_has_no_style_side_effects():
    code = ("import matplotlib as mpl; before = dict(mpl.rcParams); "
            "import sensoryprofile.plots.child, sensoryprofile.plots.caseload, "
            "sensoryprofile.plots.cohort; "
            "changed = [k for k, v in mpl.rcParams.items() if before[k] != v]; "
            "print(changed); raise SystemExit(1 if changed else 0)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr


def test_report_style_is_scoped_and_apply_style_sets_it():
    with mpl.rc_context():
        mpl.rcdefaults()
        with P.report_style():
            assert mpl.rcParams["axes.spines.top"] is False
            assert mpl.rcParams["axes.titlesize"] == S.TITLE_SIZE
        assert mpl.rcParams["axes.spines.top"] is True
        P.apply_style()
        assert mpl.rcParams["axes.labelsize"] == S.LABEL_SIZE
    assert mpl.rcParams["axes.spines.top"] is True  # the rc_context restored it


# ---------------------------------------------------------------------------
# quadrant profile
# ---------------------------------------------------------------------------
def test_quadrant_profile_shades_and_labels_the_five_bands():
    _, ax = plt.subplots()
    P.plot_quadrant_profile(quadrants(), ax=ax)
    shaded = bands(ax)
    assert sorted(shaded) == [-2, -1, 0, 1, 2]
    assert [span(ax, shaded[lv], "x") for lv in (-2, -1, 0, 1, 2)] == [
        (-3, -2), (-2, -1), (-1, 1), (1, 2), (2, 3)]
    for level, patch in shaded.items():
        assert to_rgba(patch.get_facecolor()) == pytest.approx(to_rgba(S.BAND_COLORS[level]))
        assert bool(patch.get_hatch()) == (level in (-2, 2))
    assert xticklabels(ax) == LABELS
    assert list(ax.get_xticks()) == [-2.5, -1.5, 0.0, 1.5, 2.5]
    assert "typical range" in visible_texts(ax)
    assert ax.get_xlim() == (-3, 3)


def test_quadrant_profile_marks_each_classified_quadrant():
    _, ax = plt.subplots()
    P.plot_quadrant_profile(quadrants(), ax=ax)
    assert yticklabels(ax) == ["Seeking", "Avoiding", "Sensitivity", "Registration"]
    points = ax.collections
    assert len(points) == 3  # registration is not classified
    xs = [float(c.get_offsets()[0][0]) for c in points]
    assert xs == [2.4, -0.3, 1.4]
    colors = [to_rgba(c.get_facecolor()[0]) for c in points]
    assert colors == [to_rgba(S.QUADRANT_COLORS[q]) for q in ("seeking", "avoiding",
                                                              "sensitivity")]
    texts = visible_texts(ax)
    for label in (LABELS[4], LABELS[2], LABELS[3]):
        assert label in texts  # the classification is written next to each row


def test_quadrant_profile_says_not_classified():
    _, ax = plt.subplots()
    P.plot_quadrant_profile(quadrants(), ax=ax)
    notes = [t for t in ax.texts if t.get_text() == "not classified"]
    assert len(notes) == 1
    assert notes[0].get_position()[1] == 3  # the registration row


@pytest.mark.parametrize("labels", [
    {"much_less": "Far below", "less": "Below", "typical": "Typical", "more": "Above",
     "much_more": "Far above"},
    ["Far below", "Below", "Typical", "Above", "Far above"],
])
def test_quadrant_profile_band_labels_can_be_overridden(labels):
    _, ax = plt.subplots()
    P.plot_quadrant_profile(quadrants(), labels=labels, ax=ax)
    assert xticklabels(ax) == ["Far below", "Below", "Typical", "Above", "Far above"]


def test_bad_labels_name_the_argument():
    with pytest.raises(UsageError, match="`labels`"):
        P.plot_quadrant_profile(quadrants(), labels=["a", "b"], ax=plt.subplots()[1])


def test_quadrant_profile_categorical_input():
    frame = quadrants()
    frame[C.SCORE] = frame[C.SCORE].astype("category")
    frame[C.CLASSIFICATION] = pd.Categorical(frame[C.CLASSIFICATION], categories=LABELS)
    _, ax = plt.subplots()
    P.plot_quadrant_profile(frame, ax=ax)
    assert len(ax.collections) == 3


# ---------------------------------------------------------------------------
# pattern map
# ---------------------------------------------------------------------------
def test_pattern_map_cells_are_dunns_grid():
    _, ax = plt.subplots()
    P.plot_pattern_map(quadrants(), ax=ax)
    texts = visible_texts(ax)
    for quadrant, person in (("Registration", "Bystander"), ("Seeking", "Seeker"),
                             ("Sensitivity", "Sensor"), ("Avoiding", "Avoider")):
        assert quadrant in texts
        assert f"({person})" in texts
    cells = {p.get_gid().split(":")[1]: p.get_xy() for p in by_gid(ax, "cell:")}
    # x: passive (left) -> active (right); y: low threshold (bottom) -> high (top)
    assert cells["registration"][0] < 1 and cells["registration"][1] > 1
    assert cells["seeking"][0] > 1 and cells["seeking"][1] > 1
    assert cells["sensitivity"][0] < 1 and cells["sensitivity"][1] < 1
    assert cells["avoiding"][0] > 1 and cells["avoiding"][1] < 1
    assert xticklabels(ax) == ["going along with it", "acting to change it"]
    assert yticklabels(ax) == ["quickly", "slowly"]
    assert ax.get_xlabel().startswith("Responds to sensations by")
    assert ax.get_ylabel().startswith("Notices sensations")


def test_pattern_map_marker_encodes_standing():
    _, ax = plt.subplots()
    P.plot_pattern_map(quadrants(), ax=ax)
    markers = {}
    for coll in ax.collections:
        x, y = coll.get_offsets()[0]
        markers[(x > 1, y > 1)] = coll
    seeking, avoiding, sensitivity = markers[(True, True)], markers[(True, False)], markers[
        (False, False)]
    assert (False, True) not in markers  # registration: not classified
    # position 2.4 > 1.4 > -0.3: bigger and darker
    sizes = [float(m.get_sizes()[0]) for m in (seeking, sensitivity, avoiding)]
    assert sizes == sorted(sizes, reverse=True)
    lightness = [luma(m.get_facecolor()[0][:3]) for m in (seeking, sensitivity, avoiding)]
    assert lightness == sorted(lightness)
    texts = visible_texts(ax)
    assert "not classified" in texts
    assert LABELS[4] in texts and LABELS[3] in texts and LABELS[2] in texts


def test_pattern_map_missing_quadrant_and_bad_input():
    _, ax = plt.subplots()
    P.plot_pattern_map(quadrants().iloc[:2], ax=ax)
    assert visible_texts(ax).count("no score") == 2
    with pytest.raises(UsageError, match="quadrants"):
        P.plot_pattern_map(quadrants(**{C.SCORE: ["seeking", "avoiding", "touch",
                                                  "registration"]}), ax=ax)
    with pytest.raises(UsageError, match="one row per quadrant"):
        P.plot_pattern_map(pd.concat([quadrants(), quadrants()]), ax=ax)


# ---------------------------------------------------------------------------
# section profile
# ---------------------------------------------------------------------------
def test_section_profile_groups_sensory_then_behavioural():
    _, ax = plt.subplots()
    P.plot_section_profile(sections(), ax=ax)
    assert yticklabels(ax) == ["The senses", "Auditory", "Touch", "Behaviour", "Conduct",
                               "Attention"]
    bold = [t.get_text() for t in ax.get_yticklabels() if t.get_fontweight() == "bold"]
    assert bold == ["The senses", "Behaviour"]
    assert len(ax.collections) == 3  # the quadrant row is dropped, touch is not classified
    assert "not classified" in visible_texts(ax)
    assert sorted(bands(ax)) == [-2, -1, 0, 1, 2]
    assert xticklabels(ax) == LABELS


def test_section_profile_rejects_unknown_kind():
    frame = sections().assign(**{C.KIND: "section", C.SECTION_KIND: "motor"})
    with pytest.raises(UsageError, match="sensory"):
        P.plot_section_profile(frame, ax=plt.subplots()[1])


# ---------------------------------------------------------------------------
# quadrant trajectories
# ---------------------------------------------------------------------------
def test_quadrant_trajectories_one_line_per_quadrant():
    _, ax = plt.subplots()
    P.plot_quadrant_trajectories(trajectories(), ax=ax)
    lines = by_gid(ax, "quadrant:")
    assert len(lines) == 4
    assert len({line.get_marker() for line in lines}) == 4
    assert len({line.get_linestyle() for line in lines}) == 4
    seeking = next(line for line in lines if line.get_gid() == "quadrant:seeking")
    assert list(seeking.get_ydata()) == [2.5, 1.8, 0.9]
    assert to_rgba(seeking.get_color()) == to_rgba(S.QUADRANT_COLORS["seeking"])
    assert [t.get_text() for t in ax.get_legend().get_texts()] == [
        "Seeking", "Avoiding", "Sensitivity", "Registration"]


def test_quadrant_trajectories_typical_band_and_axes():
    _, ax = plt.subplots()
    P.plot_quadrant_trajectories(trajectories(), ax=ax)
    shaded = bands(ax)
    assert list(shaded) == [0]
    assert span(ax, shaded[0], "y") == (-1, 1)
    assert yticklabels(ax) == LABELS
    ax.figure.canvas.draw()
    assert xticklabels(ax) == ["Mar 2023", "Sep 2023", "Apr 2024"]
    assert ax.get_ylim() == (-3, 3)


# ---------------------------------------------------------------------------
# goal trajectories
# ---------------------------------------------------------------------------
def test_goal_trajectories_lines_baseline_and_carried():
    _, ax = plt.subplots()
    P.plot_goal_trajectories(goal_ratings(), ax=ax)
    goal_lines = by_gid(ax, "goal:")
    assert len(goal_lines) == 2
    assert list(goal_lines[0].get_ydata()) == [-1, -1, 0, 1]
    carried = by_gid(ax, "carried:")
    assert [c.get_gid() for c in carried] == ["carried:G2"]
    assert carried[0].get_markerfacecolor() == "none"
    assert list(carried[0].get_ydata()) == [-1]
    rated = by_gid(ax, "rated:")
    assert all(r.get_markerfacecolor() != "none" for r in rated)
    baseline = by_gid(ax, "baseline:")
    assert len(baseline) == 2
    assert {b.get_marker() for b in baseline} == {"s"}
    assert {b.get_marker() for b in rated}.isdisjoint({"s"})
    g1 = next(b for b in baseline if b.get_gid() == "baseline:G1")
    assert list(g1.get_ydata()) == [-1]
    assert pd.Timestamp(list(g1.get_xdata())[0]) == pd.Timestamp("2024-01-10")
    legend = [flat(t.get_text()) for t in ax.get_legend().get_texts()]
    assert legend[:2] == ["Dresses for school", "Joins in at circle time"]
    assert "level when the goal was set" in legend


def test_goal_trajectories_expected_line_and_level_ticks():
    _, ax = plt.subplots()
    P.plot_goal_trajectories(goal_ratings(), ax=ax)
    (expected,) = by_gid(ax, "expected")
    assert list(expected.get_ydata()) == [0, 0]
    assert yticklabels(ax) == ["\u22122 much less than expected", "\u22121 less than expected",
                               "0 expected level", "+1 better than expected",
                               "+2 much better than expected"]
    assert ax.get_ylim()[0] > -3


def test_goal_trajectories_six_level_scale_extends_axis():
    _, ax = plt.subplots()
    P.plot_goal_trajectories(goal_ratings(levels_g2=(-2, -3, -2, -1)), ax=ax)
    assert yticklabels(ax)[0] == "\u22123 worse than at the start"
    assert ax.get_ylim()[0] < -3


def test_goal_trajectories_rejects_off_scale_level():
    frame = goal_ratings().assign(**{C.LEVEL: 5})
    with pytest.raises(UsageError, match="`level`"):
        P.plot_goal_trajectories(frame, ax=plt.subplots()[1])


def test_goal_trajectories_without_optional_columns():
    frame = goal_ratings().drop(columns=[C.CARRIED, C.IS_BASELINE])
    _, ax = plt.subplots()
    P.plot_goal_trajectories(frame, ax=ax)
    assert by_gid(ax, "baseline:") == [] and by_gid(ax, "carried:") == []
    assert len(by_gid(ax, "rated:")) == 2


# ---------------------------------------------------------------------------
# T-score over time
# ---------------------------------------------------------------------------
def test_tscore_expected_line_at_50_and_baseline():
    _, ax = plt.subplots()
    P.plot_tscore_over_time(tscores(), ax=ax)
    (expected,) = by_gid(ax, "expected")
    assert list(expected.get_ydata()) == [50, 50]
    assert "expected outcome (T = 50)" in visible_texts(ax)
    (line,) = by_gid(ax, "t_score")
    assert list(line.get_ydata()) == [38.5, 45.2, 53.1]
    (baseline,) = by_gid(ax, "baseline")
    assert list(baseline.get_ydata()) == [31.2] * 3
    assert len(ax.get_legend().get_texts()) == 2
    low, high = ax.get_ylim()
    assert low < 31.2 and high > 53.1


def test_tscore_without_baseline():
    _, ax = plt.subplots()
    P.plot_tscore_over_time(tscores(baseline=False), ax=ax)
    assert by_gid(ax, "baseline") == []
    assert ax.get_legend() is None  # a single series needs no legend


# ---------------------------------------------------------------------------
# caseload charts
# ---------------------------------------------------------------------------
def test_caseload_counts_with_hue():
    _, ax = plt.subplots()
    P.plot_caseload_counts(counts(), x=C.SITE, hue="review_status", ax=ax)
    heights = sorted(p.get_height() for p in ax.patches)
    assert heights == [4, 6, 9, 17, 23]
    assert xticklabels(ax) == ["North", "South", "Outreach"]
    assert ax.get_xlabel() == "Site"
    assert sorted(t.get_text() for t in ax.texts) == sorted(["23", "4", "17", "9", "6"])
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["up to date", "overdue"]
    assert ax.get_legend().get_title().get_text() == "Review status"
    hatches = {p.get_hatch() for p in ax.patches}
    assert len(hatches) == 2  # series differ without colour


def test_caseload_counts_without_hue_has_no_legend():
    _, ax = plt.subplots()
    frame = counts().drop_duplicates(C.SITE)
    P.plot_caseload_counts(frame, x=C.SITE, ylabel="Children overdue", ax=ax)
    assert len(ax.patches) == 3
    assert ax.get_legend() is None
    assert ax.get_ylabel() == "Children overdue"
    with pytest.raises(UsageError, match="one row per"):
        P.plot_caseload_counts(counts(), x=C.SITE, ax=ax)


def test_classification_shift_stacked_shares():
    _, ax = plt.subplots()
    P.plot_classification_shift(shift(), ax=ax)
    segments = by_gid(ax, "segment")
    assert len(segments) == 5 + 4 + 1 + 5 + 4 + 1
    per_bar = {}
    for seg in segments:
        y = round(seg.get_y() + seg.get_height() / 2, 6)
        per_bar.setdefault(y, []).append(seg)
    assert len(per_bar) == 4
    for segs in per_bar.values():
        assert sum(s.get_width() for s in segs) == pytest.approx(1.0)
        lefts = [s.get_x() for s in segs]
        assert lefts == sorted(lefts)
    first = sorted(per_bar.items())[0][1]
    assert [to_rgba(s.get_facecolor()) for s in first] == [
        to_rgba(S.BAND_COLORS[lv]) for lv in (-2, -1, 0, 1, 2)]
    assert yticklabels(ax) == ["Seeking", "at intake", "latest", "Avoiding", "at intake",
                               "latest"]
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == [*LABELS, "not classified"]
    assert "60%" in visible_texts(ax)


def test_classification_shift_rejects_bad_input():
    ax = plt.subplots()[1]
    with pytest.raises(UsageError, match="fraction"):
        P.plot_classification_shift(shift().assign(**{C.SHARE: 30.0}), ax=ax)
    with pytest.raises(UsageError, match="`classification`"):
        P.plot_classification_shift(shift().assign(**{C.CLASSIFICATION: "Odd"}), ax=ax)
    with pytest.raises(UsageError, match="`timepoint`"):
        P.plot_classification_shift(shift().assign(**{C.TIMEPOINT: "first"}), ax=ax)


def test_tchange_by_group_intervals_and_suppressed_groups():
    _, ax = plt.subplots()
    P.plot_tchange_by_group(tchange(), group=C.THERAPIST, ax=ax)
    assert yticklabels(ax) == ["A. Jones (n = 14)", "B. Smith (n = 3)", "C. Patel (n = 6)"]
    (points,) = [line for line in ax.get_lines() if line.get_marker() == "o"]
    assert list(points.get_xdata()) == [12.5, -2.0]
    assert list(points.get_ydata()) == [0, 2]
    (bars,) = ax.collections  # the interval lines
    extents = sorted(tuple(np.round(seg[:, 0], 6)) for seg in bars.get_segments())
    assert extents == [(-9.0, 4.1), (8.1, 16.0)]
    notes = [t for t in ax.texts if "fewer than 5" in t.get_text()]
    assert len(notes) == 1 and notes[0].get_position()[1] == 1
    (zero,) = by_gid(ax, "no change")
    assert list(zero.get_xdata()) == [0, 0]
    assert "therapist" in title(ax).get_text()


def test_goal_calibration_against_expected_shape():
    _, ax = plt.subplots()
    P.plot_goal_calibration(calibration(), ax=ax)
    segments = by_gid(ax, "segment")
    assert len(segments) == 5 + 5 + 4
    reference = sorted((s for s in segments if abs(s.get_y() + s.get_height() / 2) < 1e-9),
                       key=lambda s: s.get_x())
    # the expected spread of well-set goals: a standard normal cut at +-0.5 and +-1.5
    # (Phi(-1.5) = 0.066807, Phi(-0.5) = 0.308538, Phi(0.5) = 0.691462, Phi(1.5) = 0.933193)
    assert [round(s.get_width(), 6) for s in reference] == [0.066807, 0.241730, 0.382925,
                                                             0.241730, 0.066807]
    boundaries = sorted(round(float(line.get_xdata()[0]), 6)
                        for line in by_gid(ax, "expected boundary"))
    assert boundaries == [0.066807, 0.308538, 0.691462, 0.933193]
    assert [a.get_gid() for a in by_gid(ax, "expected")].count("expected") == 1  # outline
    assert yticklabels(ax) == ["Expected when goals are well set", "A. Jones (n = 20)",
                               "B. Smith (n = 20)"]
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == [S.GAS_LEVEL_TEXT[lv] for lv in (-2, -1, 0, 1, 2)]


def test_goal_calibration_six_level():
    frame = pd.concat([calibration(), pd.DataFrame(
        {C.THERAPIST: ["C. Wu"] * 2, C.LEVEL: [-3, 0], C.SHARE: [0.1, 0.9]})])
    _, ax = plt.subplots()
    P.plot_goal_calibration(frame, ax=ax)
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend[0] == "\u22123 worse than at the start"
    assert yticklabels(ax)[-1] == "C. Wu"


@pytest.mark.parametrize("func, columns, keywords", [
    (P.plot_quadrant_profile, [C.SCORE_NAME, C.POSITION, C.CLASSIFICATION], {}),
    (P.plot_pattern_map, [C.SCORE, C.POSITION, C.CLASSIFICATION], {}),
    (P.plot_section_profile, [C.SCORE_NAME, C.POSITION, C.CLASSIFICATION, C.SECTION_KIND], {}),
    (P.plot_quadrant_trajectories, [C.DATE, C.SCORE, C.SCORE_NAME, C.POSITION], {}),
    (P.plot_goal_trajectories, [C.GOAL_ID, C.DATE, C.LEVEL, C.LABEL], {}),
    (P.plot_tscore_over_time, [C.DATE, C.T_SCORE], {}),
    (P.plot_caseload_counts, [C.SITE, C.COUNT], {"x": C.SITE}),
    (P.plot_classification_shift, [C.SCORE_NAME, C.TIMEPOINT, C.CLASSIFICATION, C.SHARE], {}),
    (P.plot_tchange_by_group, [C.SITE, C.MEDIAN, C.CI_LOW, C.CI_HIGH, C.N], {"group": C.SITE}),
    (P.plot_goal_calibration, [C.THERAPIST, C.LEVEL, C.SHARE], {}),
])
def test_empty_frames_draw_without_error(func, columns, keywords):
    fig, ax = plt.subplots()
    assert func(pd.DataFrame(columns=columns), ax=ax, **keywords) is ax
    fig.canvas.draw()


def test_classification_written_beside_rows_only_when_there_is_room():
    wide = plt.subplots(figsize=(10, 4))[1]
    P.plot_quadrant_profile(quadrants(), ax=wide)
    beside = [flat(t.get_text()) for t in wide.texts]
    assert [LABELS[4], LABELS[2], LABELS[3]] == [t for t in beside if t in LABELS]
    narrow = plt.subplots(figsize=(4, 4))[1]
    P.plot_quadrant_profile(quadrants(), ax=narrow)
    assert not [t for t in narrow.texts if flat(t.get_text()) in LABELS]
    assert xticklabels(narrow) == LABELS  # the bands are still labelled


@pytest.mark.parametrize("func, frame", [
    (P.plot_quadrant_trajectories, lambda: trajectories().assign(**{C.DATE: [0, 6, 13] * 4})),
    (P.plot_goal_trajectories, lambda: goal_ratings().assign(**{C.DATE: [0, 2, 4, 6] * 2})),
    (P.plot_tscore_over_time, lambda: tscores().assign(**{C.DATE: [2, 4, 6]})),
])
def test_months_since_referral_instead_of_dates(func, frame):
    """A de-identified report passes months since referral in the date column."""
    fig, ax = plt.subplots()
    func(frame(), ax=ax)
    fig.canvas.draw()
    assert ax.get_xlabel() == "Months since referral"
    ticks = [t for t in ax.get_xticks() if ax.get_xlim()[0] <= t <= ax.get_xlim()[1]]
    assert ticks and all(float(t).is_integer() for t in ticks)
    assert not any("1970" in t for t in xticklabels(ax))


def test_legend_sits_below_the_axis_label():
    fig, ax = plt.subplots()
    P.plot_quadrant_trajectories(trajectories(), ax=ax)
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    legend_top = ax.get_legend().get_window_extent(renderer).y1
    label_bottom = ax.xaxis.label.get_window_extent(renderer).y0
    assert legend_top <= label_bottom
