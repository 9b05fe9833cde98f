"""The front page of a reports folder (reports/index.py), on the tiny clinic of
:mod:`tests.tiny_clinic` (as of 2025-06-30) with report folders made by hand:
the words of every figure, the links, the children without a report, the
page's structure (no script or style fetched, language, caption, header
cells) and a de-identified run that shows pseudonyms only."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from bs4 import BeautifulSoup

from sensoryprofile import __version__
from sensoryprofile.reports.index import index_rows, write_index
from sensoryprofile.reports.render import NOT_RENDERED, RenderResult
from tests.tiny_clinic import AS_OF, DOB, NAMES


def _report(folder: Path, *files: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name in files:
        (folder / name).write_text("<html></html>", encoding="utf-8")


@pytest.fixture
def out(tmp_path):
    """A reports folder: K1 with a PDF and a Spanish family report, K4 and K5
    (HTML only), a report of an earlier run (OLD9), the caseload report."""
    out = tmp_path / "reports"
    _report(out / "children" / "K1", "report.html", "report.pdf")
    _report(out / "family" / "K1" / "es", "report.html")
    _report(out / "children" / "K4", "report.html")
    _report(out / "children" / "K5", "report.html")
    _report(out / "children" / "OLD9", "report.html")
    _report(out / "children" / ".K3.partial-x", "report.html")  # never listed
    _report(out / "caseload", "report.html", "report.pdf")
    return out


RESULTS = [
    RenderResult(name="K1", ok=True, child_id="K1"),
    RenderResult(name="K2", ok=False, child_id="K2",
                 error="child K2: cell 3 ('x') raised ValueError: broken"),
    RenderResult(name="children.csv row 8", ok=False, status=NOT_RENDERED,
                 error="not rendered: the child's row was rejected by validation "
                       "(child_id is 1 to 64 letters)"),
]


def _rows(clinic, out, results=RESULTS):
    from sensoryprofile.analysis.overview import child_overview

    table = child_overview(clinic, as_of=AS_OF)
    return {row.name: row for row in index_rows(table, out_dir=out, as_of=AS_OF,
                                                results=results)}


def test_every_child_of_the_data_then_the_results_then_earlier_reports(clinic, out):
    rows = _rows(clinic, out)
    assert list(rows) == ["K1", "K2", "K3", "K4", "K5", "K6", "children.csv row 8", "OLD9"]


def test_the_figures_in_words(clinic, out):
    rows = _rows(clinic, out)
    k1 = rows["K1"]
    assert (k1.therapist.text, k1.site.text) == ("Ann", "North")
    assert k1.age.text == "9 years 0 months" and k1.age.sort == "108"  # born 2016-06-01
    assert k1.latest.text == "1 May 2025" and k1.latest.sort == "2025-05-01"
    assert k1.reassessment.text == "Not due until 1 November 2025"
    # T = 50 + 10 / sqrt(2.6) = 56.2, from 50 - 30 / sqrt(2.6) = 31.4: +24.8
    assert (k1.t_score.text, k1.t_change.text) == ("56", "+25")
    assert k1.reliable.text == "2 away from typical (of 4)" and k1.reliable.css == "sp-away"
    k2 = rows["K2"]
    assert k2.reassessment.text == "Overdue by 149 days (due 1 February 2025)"
    assert k2.reassessment.css == "sp-overdue"
    assert (k2.t_score.text, k2.t_change.text) == ("30", "\u221210")  # a real minus sign
    assert k2.reliable.text == "None reliable (of 4)"
    k3 = rows["K3"]
    assert (k3.latest.text, k3.reassessment.text) == ("None yet", "No questionnaire yet")
    assert (k3.t_score.text, k3.reliable.text) == ("No review yet", "No questionnaire")
    assert rows["K4"].reassessment.text == "Discharged"
    assert rows["K4"].reliable.text == "2 toward typical (of 4)"
    assert rows["K5"].therapist.text == "not recorded"
    assert rows["K5"].reassessment.text == "Overdue by 232 days (due 10 November 2024)"
    assert rows["K5"].reliable.text == "Only one questionnaire"
    assert rows["K6"].reassessment.text == "Not yet referred"


def test_reassessment_sorts_most_urgent_first(clinic, out):
    rows = _rows(clinic, out)
    urgent = sorted((row.reassessment.sort, name) for name, row in rows.items()
                    if row.reassessment.sort)
    # longest overdue first, then no questionnaire, due soon, not due, discharged, not referred
    assert [name for _, name in urgent] == ["K5", "K2", "K3", "K1", "K4", "K6"]


def test_links_and_status(clinic, out):
    rows = _rows(clinic, out)
    k1 = rows["K1"]
    assert k1.report.href == "children/K1/report.html"
    assert [(link.href, link.text) for link in k1.links] == [
        ("children/K1/report.pdf", "PDF"), ("family/K1/es/report.html", "family (es)")]
    assert k1.links[0].label == "Report of K1 (PDF)"
    assert k1.status.text == "Rendered"
    assert rows["K2"].report is None
    assert rows["K2"].status.text == "Failed: child K2: cell 3 ('x') raised ValueError: broken"
    assert rows["K3"].status.text == "No report in this folder"
    assert rows["children.csv row 8"].status.text == (
        "Not rendered: the child's row was rejected by validation (child_id is 1 to 64 letters)")
    assert rows["OLD9"].status.text.startswith("Report from an earlier run")


def test_the_page(clinic, out):
    page = write_index(out, RESULTS, dataset=clinic, as_of=AS_OF)
    text = page.read_text(encoding="utf-8")
    soup = BeautifulSoup(text, "html.parser")
    assert soup.html["lang"] == "en" and soup.title.get_text() == "Reports: sensoryprofile"
    # self-contained: no script, style sheet or image fetched from anywhere
    assert not soup.select("script[src], link[rel=stylesheet], img[src]")
    assert "http://" not in text and "https://" not in text
    assert len(soup.select("script")) == 1 and "sortBy" in soup.script.get_text()
    table = soup.select_one("table#children")
    assert table.caption.get_text(" ", strip=True).startswith("One row per child")
    heads = [th.get_text(" ", strip=True) for th in table.select("thead th")]
    assert heads[:4] == ["Child", "Therapist", "Site", "Age"] and "Status" in heads
    assert all(th["scope"] == "col" for th in table.select("thead th"))
    assert [th["scope"] for th in table.select("tbody th")] == ["row"] * 8
    assert [tr.th.get_text(strip=True) for tr in table.select("tbody tr")][:2] == ["K1", "K2"]
    # every link points at a file of the folder
    hrefs = [a["href"] for a in soup.select("a[href]")]
    assert "caseload/report.html" in hrefs and "caseload/report.pdf" in hrefs
    assert all((out / href).is_file() for href in hrefs), hrefs
    # the filters offer the data's therapists and sites
    assert [o.get_text() for o in soup.select("#filter-therapist option")] == [
        "All therapists", "Ann", "Ben", "not recorded"]
    assert [o["value"] for o in soup.select("#filter-site option")] == ["", "North", "South"]
    assert soup.select_one("tr[data-therapist='not recorded'] th").get_text() == "K5"
    # the date of the data and the package's version
    meta = soup.select_one(".sp-meta").get_text(" ", strip=True)
    assert "Figures as of 30 June 2025" in meta
    assert "newest questionnaire or goal rating in the data is dated 20 May 2025" in meta
    assert f"sensoryprofile {__version__}" in soup.footer.get_text()
    # nothing identifying: no name, no date of birth
    assert not [n for n in NAMES if n in text] and DOB not in text


def test_a_deidentified_run_shows_pseudonyms_only(clinic, out):
    _report(out / "children" / "R-b2", "report.html", "report.pdf")
    _report(out / "children" / "R-a1", "report.html")
    results = [
        RenderResult(name="R-b2", ok=True, child_id="K1"),
        RenderResult(name="R-a1", ok=True, child_id="K2"),
        RenderResult(name="R-c3", ok=False, child_id="K4", error="child R-c3: cell 2 ... K4"),
        RenderResult(name="K5", ok=False, child_id="K5", error="worker failed: K5"),
        RenderResult(name="children.csv row 8", ok=False, status=NOT_RENDERED,
                     error="not rendered: rejected"),
    ]
    page = write_index(out, results, dataset=clinic, as_of=AS_OF, deidentify=True)
    text = page.read_text(encoding="utf-8")
    soup = BeautifulSoup(text, "html.parser")
    rows = soup.select("table#children tbody tr")
    # in the order of the pseudonyms, never the clinic's
    assert [tr.th.get_text(strip=True) for tr in rows] == ["R-a1", "R-b2", "R-c3"]
    cells = [[td.get_text(strip=True) for td in tr.select("td")] for tr in rows]
    # K2: referred 2024-02-01, latest questionnaire 2024-08-01 (month 6), 149 days late;
    # K1: referred 2024-01-10, latest 2025-05-01 (month 15)
    assert cells[0][:2] == ["9 years 0 months", "month 6"]
    assert cells[0][2] == "Overdue by 149 days"
    assert cells[1][1:3] == ["month 15", "Not due"]
    assert cells[2][-1] == "Failed"  # no message: it may quote an ID
    assert "2 more children were not rendered" in soup.select_one(".sp-note").get_text()
    # no ID, therapist, site or calendar date of the clinic's; no clinic reports linked
    assert not re.search(r"\bK\d\b", text)
    assert not re.search(r"\b(Ann|Ben|North|South)\b", text)
    assert not re.search(r"\d{4}-\d{2}-\d{2}|\b(19|20)\d\d\b", text)
    assert not soup.select("#filter-therapist, #filter-site")
    assert "caseload/report.html" not in text and "OLD9" not in text
    assert [a["href"] for a in soup.select("a[href]")] == [
        "children/R-a1/report.html", "children/R-b2/report.html", "children/R-b2/report.pdf"]


def test_unreadable_data_leave_the_figures_out_not_the_page(out):
    page = write_index(out, data_dir=out / "no-such-data")
    soup = BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser")
    assert "The figures are left out: the data could not be read" in soup.get_text()
    names = [tr.th.get_text(strip=True) for tr in soup.select("table#children tbody tr")]
    assert names == ["K1", "K4", "K5", "OLD9"]  # every report of the folder


def test_written_atomically_into_the_folder_only(clinic, out):
    before = sorted(p.relative_to(out) for p in out.rglob("*"))
    write_index(out, dataset=clinic, as_of=AS_OF)
    after = sorted(p.relative_to(out) for p in out.rglob("*"))
    assert sorted(set(after) - set(before)) == [Path("index.html")]


def test_a_summary_of_who_is_due(clinic, out):
    # overdue: K2 and K5; due soon: none; no questionnaire: K3
    page = write_index(out, dataset=clinic, as_of=AS_OF)
    soup = BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser")
    assert soup.select_one(".sp-due-summary").get_text() == (
        "2 children are overdue for a questionnaire, 0 due within 1 month, 1 without a "
        "questionnaire yet.")


def test_figures_that_cannot_be_computed_leave_the_page(clinic, out, monkeypatch):
    from sensoryprofile.analysis import overview

    def broken(*args, **kwargs):
        raise ZeroDivisionError("K1 divided by nothing")

    monkeypatch.setattr(overview, "child_overview", broken)
    page = write_index(out, RESULTS, dataset=clinic, as_of=AS_OF)
    text = page.read_text(encoding="utf-8")
    assert "The figures are left out: they could not be computed (ZeroDivisionError)." in text
    assert "K1 divided" not in text  # a bug's message may quote anything
    assert "children/K1/report.html" in text
