"""The caseload report (sensoryprofile/reports/caseload.py): every analysis checked against hand computations on a
tiny clinic, small-group suppression, filters, "no children match", nothing
identifying; and (slow) the real notebook rendered on the sample data.

The tiny clinic and its hand computations: tests/tiny_clinic.py.
"""

from __future__ import annotations

import html
import re

import numpy as np
import pandas as pd
import pytest

from sensoryprofile import columns as C
from sensoryprofile.analysis import groups as GR
from sensoryprofile.data.dataset import load_dataset
from sensoryprofile.errors import UsageError
from sensoryprofile.reports import caseload as RCL
from sensoryprofile.reports.caseload import CaseloadReport
from tests.paths import ROOT, SAMPLE
from tests.tiny_clinic import AS_OF, DOB, NAMES, T2, write_clinic
from tests.tiny_clinic import row as group_row


# ---------------------------------------------------------------------------
# the report object
# ---------------------------------------------------------------------------
def test_report_tables_agree_with_the_analyses(report, clinic):
    assert report.as_of.isoformat() == AS_OF
    assert report.period_start.isoformat() == "2024-07-01"  # 12 months up to as_of
    assert report.n_children == 5 and report.message is None  # K6 referred after as_of
    header = dict(zip(report.header.iloc[:, 0], report.header.iloc[:, 1], strict=True))
    assert header["Active children"] == "4"
    assert header["Period"] == "1 July 2024 to 30 June 2025"
    caseload = report.caseload_table.set_index("Group")
    assert caseload.loc["All children", "Active children"] == "4"
    assert caseload.loc["Diagnosis: autism", "Active children"] == "3"
    assert report.counts_by_site.to_dict("list") == {"site": ["North", "South"],
                                                     "count": [2, 2]}
    outcome = report.outcome_table(C.SITE).set_index("Site")
    assert outcome.loc["All children", "Follow-up T: median (IQR)"] == "45.0 (37.5 to 51.6)"
    assert outcome.loc["All children", "Goals met"] == "60%"
    chart = report.tchange_chart(C.THERAPIST)
    assert chart[C.THERAPIST].tolist() == ["Ann", "Ben", "not recorded", "All children"]
    assert chart[C.N].tolist() == [2, 1, 1, 4]
    assert np.isnan(chart[C.MEDIAN].iloc[1]) and chart[C.MEDIAN].iloc[3] == pytest.approx(5)
    table = report.classification_table.set_index("Quadrant")
    assert table.loc["Sensory seeking", "Much More Than Others"] == "67% → 33%"
    assert report.reliable_change_table.set_index("Quadrant").loc[
        "Sensory seeking", "Reliable improvement"] == "67% (2 of 3)"
    calibration = report.calibration_table.set_index("Therapist")
    assert calibration.loc["Expected when goals are well set", "0"] == "38%"  # Phi(.5)-Phi(-.5)
    assert calibration.loc["Ann", "-2"] == "33%"
    assert calibration.loc["Ben", "Check"] == "fewer than 2 children"
    assert calibration.loc["Ann", "Check"] == "goals may be too hard"
    assert calibration.loc["Ann", "Why"] == "mean follow-up T 43.1 is below 45"
    assert calibration.loc["Ann", "Mean follow-up T"] == "43.1"
    assert report.accounting_table["Read = accepted + rejected"].tolist() == ["yes"] * 4
    for chart_name in ("counts_site", "counts_therapist", "classification", "tchange_site",
                       "tchange_therapist", "tchange_diagnosis", "calibration"):
        width, height = report.figsize(chart_name)
        assert width <= 9 and height <= 10


def test_long_lists_are_capped_and_written_in_full(clinic, tmp_path):
    report = CaseloadReport.build(clinic, as_of=AS_OF, list_limit=1, n_boot=20)
    assert len(report.list_table("reassessment_overdue")) == 1
    page = report.list_html("reassessment_overdue")
    assert "Reassessments overdue (2)" in page and "K5" in page and "K2" not in page
    assert "… and 1 more (render the report with an output folder" in page
    paths = report.write_lists(tmp_path / "out")
    names = {p.name for p in paths}
    assert set(RCL.LIST_FILES.values()) | set(RCL.TABLE_FILES.values()) == names
    full = pd.read_csv(tmp_path / "out" / RCL.LIST_FILES["reassessment_overdue"])
    assert full[C.CHILD_ID].tolist() == ["K5", "K2"]
    assert full[C.DUE_DATE].tolist() == ["2024-11-10", "2025-02-01"]
    assert "the full list is in reassessments_overdue.csv beside this report" in (
        report.list_html("reassessment_overdue"))
    assert "reassessments_overdue.csv" in report.files_html()
    assert report.write_lists(None) == []


def test_no_children_match_gives_a_message_not_an_error(clinic):
    report = CaseloadReport.build(clinic, as_of=AS_OF, site="South", therapist="Ann",
                                  n_boot=20)
    assert report.message.startswith(
        "No children match these filters (site='South', therapist='Ann').")
    assert "Sites in this dataset: North, South." in report.message
    assert html.escape(report.message) in report.title_html()
    assert report.counts.empty and report.goal_outcomes.empty and report.series.empty
    assert report.caseload_table.empty and report.outcome_table(C.SITE).empty
    assert report.classification_chart.empty and report.calibration_levels.empty
    assert all(frame.empty for frame in report.lists.values())
    assert len(report.accounting_table) == 4  # data quality still covers the dataset


def test_report_filtered_by_site_and_by_therapist(clinic):
    north = CaseloadReport.build(clinic, as_of=AS_OF, site="north", min_group=2, n_boot=50)
    assert north.site == "north" and north.n_children == 2
    assert set(north.counts.loc[north.counts[C.GROUP_BY] == "site", C.GROUP]) == {"North"}
    assert north.lists["reassessment_overdue"][C.CHILD_ID].tolist() == ["K2"]
    everyone = group_row(north.goal_outcomes, "all", "All children")
    assert everyone[C.MEDIAN_T] == pytest.approx((50 + T2 + 30) / 2)
    ben = CaseloadReport.build(clinic, as_of=AS_OF, therapist="Ben", n_boot=50)
    assert ben.lists["no_intake"][C.CHILD_ID].tolist() == ["K3"]
    assert group_row(ben.counts, "all", "All children")[C.N_DISCHARGED] == 1  # K4


def test_nothing_identifying_in_any_table(report, tmp_path):
    frames = {name: getattr(report, name) for name in (
        "header", "counts", "coverage_summary", "series", "classification", "reliable_change",
        "goal_outcomes", "calibration", "calibration_levels", "quality", "accounting",
        "caseload_table", "coverage_table", "classification_table", "reliable_change_table",
        "calibration_table", "quality_table", "accounting_table", "classification_chart",
        "counts_by_site", "counts_by_therapist")}
    frames.update({f"list {k}": v for k, v in report.lists.items()})
    frames.update({f"shown {k}": report.list_table(k) for k in report.lists})
    frames.update({f"outcomes {g}": report.outcome_table(g) for g in GR.GROUPINGS})
    frames.update({f"chart {g}": report.tchange_chart(g) for g in GR.GROUPINGS})
    forbidden = [*NAMES, DOB, "Secret"]
    for name, frame in frames.items():
        assert C.DISPLAY_NAME not in frame.columns and C.DATE_OF_BIRTH not in frame.columns, name
        text = frame.to_csv(index=False)
        assert not [v for v in forbidden if v in text], name
    html_parts = [report.title_html(), *(report.list_html(k) for k in report.lists)]
    assert not [v for v in forbidden if any(v in part for part in html_parts)]
    for path in report.write_lists(tmp_path):
        text = path.read_text(encoding="utf-8")
        assert "display_name" not in text and not [v for v in forbidden if v in text]


def test_build_from_a_path_and_argument_errors(tmp_path):
    folder = write_clinic(tmp_path / "clinic")
    report = CaseloadReport.build(folder, as_of=AS_OF, period_end="2025-03-31", n_boot=20)
    assert report.period_end.isoformat() == "2025-03-31"
    built = CaseloadReport.build(folder, period_end="2025-03-31", n_boot=20)
    assert built.as_of.isoformat() == "2025-03-31"  # as_of defaults to the period's end
    with pytest.raises(UsageError, match="`list_limit`"):
        CaseloadReport.build(folder, as_of=AS_OF, list_limit=0)
    with pytest.raises(UsageError, match="`chart` must be one of"):
        report.figsize("pie")
    with pytest.raises(UsageError, match="`name` must be one of"):
        report.list_html("everything")


# ---------------------------------------------------------------------------
# the notebook, rendered for real (slow)
# ---------------------------------------------------------------------------
SAMPLE_AS_OF = "2026-09-30"
N_CHARTS = 7  # counts by site and by therapist, classification, 3 x T change, calibration


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    """The sample clinic rendered whole, for one site, and for a site nobody is at,
    in one kernel."""
    from sensoryprofile.reports import render

    out = tmp_path_factory.mktemp("caseload")
    session = render.KernelSession()
    results = {}
    try:
        for name, filters in (("all", {}), ("hillcrest", {"site": "Hillcrest"}),
                              ("nobody", {"site": "Nowhere"})):
            results[name] = render.render_caseload(SAMPLE, out_dir=out / name,
                                                    as_of=SAMPLE_AS_OF, session=session,
                                                    **filters)
    finally:
        session.shutdown()
    return out, results


def _page(rendered, name) -> str:
    out, results = rendered
    assert results[name].ok
    return (out / name / "caseload" / "report.html").read_text(encoding="utf-8")


def _clean(page: str) -> None:
    assert "Traceback" not in page
    assert 'data-mime-type="application/vnd.jupyter.stderr"' not in page
    assert "CaseloadReport.build" not in page and "plots.plot_" not in page  # code hidden


@pytest.mark.slow
@pytest.mark.parametrize(("name", "site"), [("all", None), ("hillcrest", "Hillcrest")])
def test_notebook_shows_what_the_package_computes(rendered, name, site):
    page = _page(rendered, name)
    _clean(page)
    expected = CaseloadReport.build(SAMPLE, as_of=SAMPLE_AS_OF, site=site)
    header = dict(zip(expected.header.iloc[:, 0], expected.header.iloc[:, 1], strict=True))
    active = header["Active children"]
    assert re.search(rf'<th scope="row">Active children</th>\s*<td>{active}</td>', page)
    caseload = expected.caseload_table.set_index("Group")
    assert caseload.loc["All children", "Active children"] == active
    outcome = expected.outcome_table(C.THERAPIST).set_index("Therapist")
    median_t = outcome.loc["All children", "Follow-up T: median (IQR)"]
    assert median_t and f"<td>{median_t}</td>" in page
    change = outcome.loc["All children", "Change in T: median (95% CI)"]
    assert f"<td>{change}</td>" in page
    assert len(re.findall(r"<img[^>]+src=\"data:image/", page)) == N_CHARTS
    # children by ID only
    children = load_dataset(SAMPLE).children
    assert not [n for n in children[C.DISPLAY_NAME].dropna() if n in page]
    # the full lists beside the report
    out, results = rendered
    folder = out / name / "caseload"
    for file_name in (*RCL.LIST_FILES.values(), *RCL.TABLE_FILES.values()):
        assert (folder / file_name).is_file(), file_name
    overdue = pd.read_csv(folder / RCL.LIST_FILES["goals_past_target"])
    assert len(overdue) == len(expected.lists["goals_past_target"])
    assert f"Goals past their target date and not met ({len(overdue)})</h3>" in page
    if len(overdue) > RCL.LIST_LIMIT:
        assert (f"… and {len(overdue) - RCL.LIST_LIMIT} more (the full list is in "
                f"{RCL.LIST_FILES['goals_past_target']} beside this report)") in page
    if site is not None:
        assert set(pd.read_csv(folder / RCL.LIST_FILES["goals_past_target"])[C.SITE]) <= {site}


@pytest.mark.slow
def test_notebook_with_a_filter_that_matches_nobody(rendered):
    page = _page(rendered, "nobody")
    _clean(page)
    assert ("No children match these filters (site='Nowhere', therapist=None). Sites in this "
            "dataset: Hillcrest, Northside, Riverside.") in html.unescape(page)
    assert len(re.findall(r"<img[^>]+src=\"data:image/", page)) == N_CHARTS


def test_committed_notebook_is_layout_only():
    import nbformat

    nb = nbformat.read(ROOT / "notebooks" / "caseload_report.ipynb", as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code[0].metadata.get("tags") == ["parameters"]
    assert all(not c.get("outputs") and c.get("execution_count") is None for c in code)
    source = "\n".join(c.source for c in code)
    assert not re.search(r"^\s*(def|class) ", source, re.M) and ".merge(" not in source
    assert source.count("figsize=report.figsize(") == N_CHARTS
