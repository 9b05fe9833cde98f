"""The reports in a real browser (headless Chromium, see conftest.py): the
index and the reports rendered from the sample clinic load without console
errors, the index sorts and filters, every link leads to a file, every chart
shows, axe-core finds nothing serious, and a printed child report cuts no
chart. Screenshots of the index, a child's report and the caseload report
are left in reports/screenshots/ for a person to look at."""

from __future__ import annotations

import base64
import io
import json
import re
from collections import Counter
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest

from sensoryprofile import columns as C
from tests.browser.conftest import AS_OF, PAGES, open_page
from tests.paths import SAMPLE

pytestmark = [pytest.mark.slow, pytest.mark.browser]

NO_ALT = "No description has been provided for this image"  # nbconvert's filler


@pytest.fixture(scope="module")
def overview():
    """The index's figures, computed here as the page was."""
    from sensoryprofile.analysis.overview import child_overview
    from sensoryprofile.data.dataset import load_dataset_cached

    return child_overview(load_dataset_cached(SAMPLE), as_of=AS_OF)


def _rows(driver) -> list[dict]:
    """The index table's rows as shown: name, cells' sort keys and texts."""
    return driver.execute_script("""
        return Array.from(document.querySelectorAll('#children tbody tr')).map(tr => ({
            name: tr.cells[0].textContent.trim(), hidden: tr.hidden,
            therapist: tr.getAttribute('data-therapist'), site: tr.getAttribute('data-site'),
            keys: Array.from(tr.cells).map(c => c.getAttribute('data-sort')),
            texts: Array.from(tr.cells).map(c => c.textContent.trim())}));""")


def _column(driver, heading: str) -> int:
    heads = driver.execute_script(
        "return Array.from(document.querySelectorAll('#children thead th'))"
        ".map(th => th.textContent.trim());")
    return next(k for k, text in enumerate(heads) if text.startswith(heading))


def _sort_by(driver, heading: str) -> str:
    from selenium.webdriver.common.by import By

    column = _column(driver, heading)
    th = driver.find_elements(By.CSS_SELECTOR, "#children thead th")[column]
    th.find_element(By.TAG_NAME, "button").click()
    return th.get_attribute("aria-sort")


# ---------------------------------------------------------------------------
# every page
# ---------------------------------------------------------------------------
def test_pages_load_without_console_errors(driver, site):
    for page in PAGES:
        said = open_page(driver, site / page)
        errors = [entry for entry in said if entry["level"] == "SEVERE"]
        assert errors == [], (page, errors)


def test_every_link_leads_to_a_file(driver, site):
    checked = 0
    for page in PAGES:
        open_page(driver, site / page)
        links = driver.execute_script(
            "return Array.from(document.querySelectorAll('a[href]'))"
            ".map(a => [a.href, a.getAttribute('href')]);")
        for absolute, written in links:
            url = urlparse(absolute)
            assert url.scheme == "file", (page, written)  # offline: nothing on the web
            target = Path(unquote(url.path))
            assert target.is_file(), (page, written)
            if url.fragment:  # a link inside the page: its target exists (as the HTML
                # standard finds it: the fragment as written, else percent-decoded)
                assert driver.execute_script(
                    "const f = arguments[0]; return (document.getElementById(f) || "
                    "document.getElementById(decodeURIComponent(f))) !== null",
                    url.fragment), (page, written)
            checked += 1
    # the index links 60 reports, a PDF, a family report and the two clinic reports
    assert checked > 60


def test_every_chart_is_shown_and_not_blank(driver, site):
    import matplotlib.image as mpimg
    from selenium.webdriver.common.by import By

    for page, expected in PAGES.items():
        open_page(driver, site / page)
        images = driver.find_elements(By.CSS_SELECTOR, "img")
        assert len(images) == expected, page
        for image in images:
            state = driver.execute_script("""
                const img = arguments[0], box = img.getBoundingClientRect(),
                      style = getComputedStyle(img);
                return {complete: img.complete, natural: img.naturalWidth, width: box.width,
                        height: box.height, shown: style.display !== 'none'
                        && style.visibility !== 'hidden' && style.opacity !== '0',
                        alt: img.getAttribute('alt')};""", image)
            assert state["complete"] and state["natural"] > 0, (page, state["alt"])
            assert state["shown"] and state["width"] > 200 and state["height"] > 150, page
            assert state["alt"] and state["alt"] != NO_ALT and len(state["alt"]) > 40, page
            pixels = mpimg.imread(io.BytesIO(image.screenshot_as_png))[..., :3]
            drawn = (pixels < 0.9).any(axis=-1).mean()  # share of pixels that are not white
            assert drawn > 0.02, (page, state["alt"][:60], drawn)


def test_axe_finds_no_serious_or_critical_violation(driver, site, axe_source, screenshots):
    found = {}
    for page in PAGES:
        open_page(driver, site / page)
        driver.execute_script(axe_source)
        result = driver.execute_async_script("""
            const done = arguments[arguments.length - 1];
            axe.run(document, {resultTypes: ['violations']})
               .then(r => done(r.violations.map(v => ({id: v.id, impact: v.impact,
                                                        nodes: v.nodes.length, help: v.help}))))
               .catch(e => done({error: String(e)}));""")
        assert isinstance(result, list), result
        found[page] = result
    (screenshots / "axe-violations.json").write_text(json.dumps(found, indent=1))
    counts = Counter(v["impact"] for violations in found.values() for v in violations)
    print(f"\naxe-core violations by impact: {dict(counts) or 'none'}")
    for page, violations in found.items():
        for v in violations:
            print(f"  {page}: {v['impact']} {v['id']} ({v['nodes']} node(s)): {v['help']}")
    serious = {page: [v for v in violations if v["impact"] in ("serious", "critical")]
               for page, violations in found.items()}
    assert not any(serious.values()), serious


# ---------------------------------------------------------------------------
# the index
# ---------------------------------------------------------------------------
def test_the_index_sorts_by_any_column(driver, site, overview):
    open_page(driver, site / "index.html")
    before = [row["name"] for row in _rows(driver)]
    assert before == overview[C.CHILD_ID].tolist()  # the dataset's order

    assert _sort_by(driver, "Age") == "ascending"
    age = _column(driver, "Age")
    ages = [float(row["keys"][age]) for row in _rows(driver)]
    assert ages == sorted(ages) and ages[0] < ages[-1]
    assert _sort_by(driver, "Age") == "descending"
    assert [float(row["keys"][age]) for row in _rows(driver)] == sorted(ages, reverse=True)

    # most urgent first: the longest overdue, as the overview counts them
    assert _sort_by(driver, "Reassessment") == "ascending"
    column = _column(driver, "Reassessment")
    shown = [row["texts"][column] for row in _rows(driver)]
    late = overview.dropna(subset=[C.DAYS_OVERDUE]).sort_values(C.DAYS_OVERDUE,
                                                                ascending=False)
    days = [int(re.match(r"Overdue by (\d+) day", text).group(1))
            for text in shown[:len(late)]]
    assert days == late[C.DAYS_OVERDUE].astype(int).tolist()

    assert _sort_by(driver, "Goal T-score") == "ascending"
    column = _column(driver, "Goal T-score")
    keys = [row["keys"][column] for row in _rows(driver)]
    numbers = [float(k) for k in keys if k]
    assert numbers == sorted(numbers)
    assert all(not k for k in keys[len(numbers):])  # children with no review last

    assert _sort_by(driver, "Child") == "ascending"
    assert [row["name"] for row in _rows(driver)] == sorted(before)
    assert _sort_by(driver, "Child") == "descending"
    assert [row["name"] for row in _rows(driver)] == sorted(before, reverse=True)


def test_the_index_filters_by_therapist_site_and_text(driver, site, overview):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    open_page(driver, site / "index.html")
    total = len(overview)
    therapist = overview[C.THERAPIST].value_counts().index[0]
    Select(driver.find_element(By.ID, "filter-therapist")).select_by_value(therapist)
    visible = [row for row in _rows(driver) if not row["hidden"]]
    mine = overview[overview[C.THERAPIST] == therapist]
    assert sorted(row["name"] for row in visible) == sorted(mine[C.CHILD_ID])
    assert {row["therapist"] for row in visible} == {therapist}
    status = driver.find_element(By.ID, "shown").text
    assert status == f"Showing {len(mine)} of {total} children."

    place = mine[C.SITE].value_counts().index[0]
    Select(driver.find_element(By.ID, "filter-site")).select_by_value(place)
    visible = [row["name"] for row in _rows(driver) if not row["hidden"]]
    assert sorted(visible) == sorted(mine[mine[C.SITE] == place][C.CHILD_ID])

    driver.find_element(By.ID, "filter-clear").click()
    assert sum(not row["hidden"] for row in _rows(driver)) == total
    search = driver.find_element(By.ID, "filter-text")
    search.send_keys("overdue")
    visible = [row["name"] for row in _rows(driver) if not row["hidden"]]
    assert sorted(visible) == sorted(overview[overview[C.REASSESSMENT] == "overdue"][C.CHILD_ID])
    search.clear()
    search.send_keys("C0002")
    assert [row["name"] for row in _rows(driver) if not row["hidden"]] == ["C0002"]
    search.send_keys(" no-such-words")
    assert not any(not row["hidden"] for row in _rows(driver))
    assert driver.find_element(By.ID, "no-match").is_displayed()
    driver.find_element(By.ID, "filter-clear").click()
    assert sum(not row["hidden"] for row in _rows(driver)) == total
    assert driver.find_element(By.ID, "shown").text == f"Showing all {total} children."


# ---------------------------------------------------------------------------
# printing
# ---------------------------------------------------------------------------
def _figures(pdf: bytes) -> list[tuple[str, set[int]]]:
    """Each Figure of a tagged PDF's structure tree: its alternative text and
    the pages its content is drawn on."""
    from pypdf import PdfReader
    from pypdf.generic import IndirectObject

    reader = PdfReader(io.BytesIO(pdf))
    pages = {p.indirect_reference.idnum: k for k, p in enumerate(reader.pages)}

    def page_of(node, default):
        ref = node.raw_get("/Pg") if "/Pg" in node else None
        return pages.get(ref.idnum, default) if isinstance(ref, IndirectObject) else default

    def content_pages(kid, page, found):
        kid = kid.get_object() if isinstance(kid, IndirectObject) else kid
        if isinstance(kid, int):  # marked content on the element's page
            found.add(page)
        elif isinstance(kid, dict):
            page = page_of(kid, page)
            if kid.get("/Type") in ("/MCR", "/OBJR"):
                found.add(page)
            elif "/K" in kid:
                content_pages(kid.raw_get("/K"), page, found)
        elif isinstance(kid, list):
            for item in kid:
                content_pages(item, page, found)

    figures = []

    def walk(node, page=None):
        node = node.get_object() if isinstance(node, IndirectObject) else node
        if isinstance(node, dict):
            page = page_of(node, page)
            if node.get("/S") == "/Figure":
                found: set[int] = set()
                if "/K" in node:
                    content_pages(node.raw_get("/K"), page, found)
                figures.append((str(node.get("/Alt", "")), found))
            elif "/K" in node:
                walk(node.raw_get("/K"), page)
        elif isinstance(node, list):
            for item in node:
                walk(item, page)

    walk(reader.trailer["/Root"].raw_get("/StructTreeRoot"))
    return figures


def test_printing_a_childs_report_cuts_no_chart(driver, site, screenshots):
    page = site / "children" / "C0002" / "report.html"
    open_page(driver, page)
    alts = driver.execute_script("return Array.from(document.images).map(i => i.alt);")
    printed = driver.execute_cdp_cmd("Page.printToPDF", {
        "printBackground": True, "preferCSSPageSize": True, "generateTaggedPDF": True})
    pdf = base64.b64decode(printed["data"])
    (screenshots / "child-report-printed.pdf").write_bytes(pdf)
    figures = _figures(pdf)
    # every chart is one figure, drawn on one page only (a chart cut by a page
    # break would be drawn on two)
    assert sorted(alt for alt, _ in figures) == sorted(alts) and len(alts) == 6
    assert all(len(on) == 1 for _, on in figures), [(a[:40], on) for a, on in figures]
    # and no chart is taller than the printed page (it would be clipped): A4 less
    # the margins of the report's @page (14 mm top and bottom, 12 mm either side)
    driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "print"})
    try:
        driver.set_window_size(int((210 - 24) / 25.4 * 96), 1000)
        heights = driver.execute_script(
            "return Array.from(document.images).map(i => i.getBoundingClientRect().height);")
    finally:
        driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": ""})
        driver.set_window_size(1280, 1000)
    assert max(heights) < (297 - 28) / 25.4 * 96


# ---------------------------------------------------------------------------
# screenshots, for a person to look at
# ---------------------------------------------------------------------------
def _full_page(driver, path: Path) -> None:
    size = driver.execute_cdp_cmd("Page.getLayoutMetrics", {})["cssContentSize"]
    shot = driver.execute_cdp_cmd("Page.captureScreenshot", {
        "format": "png", "captureBeyondViewport": True,
        "clip": {"x": 0, "y": 0, "width": size["width"], "height": size["height"],
                 "scale": 1}})
    path.write_bytes(base64.b64decode(shot["data"]))


def test_screenshots(driver, site, screenshots):
    for page, name in (("index.html", "index.png"),
                       ("children/C0002/report.html", "child-report-C0002.png"),
                       ("caseload/report.html", "caseload-report.png")):
        open_page(driver, site / page)
        _full_page(driver, screenshots / name)
        assert (screenshots / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
