"""The browser tests: Debian's headless Chromium, driven by Selenium through
Debian's chromedriver of the same version (``make browser`` installs both),
on the reports rendered once per session from ``data/sample``.

Selenium rather than Playwright: Playwright drives a browser build of its own
version, and pointed at another Chromium (``executable_path``) it is not
guaranteed to speak that browser's protocol; chromedriver ships with Debian's
Chromium in lockstep, and Selenium needs nothing else (given the driver's
path, it downloads nothing).

Without the browser, the driver or Selenium, every test here is skipped and
says why. Nothing is fetched while the tests run: axe-core is a file of the
repository (``vendor/axe.min.js``), checked against its SHA-256.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import shutil
from pathlib import Path

import pytest

from tests.paths import ROOT, SAMPLE

CHROMIUM = Path(os.environ.get("SENSORYPROFILE_CHROMIUM", "/usr/bin/chromium"))
CHROMEDRIVER = Path(os.environ.get("SENSORYPROFILE_CHROMEDRIVER", "/usr/bin/chromedriver"))
AXE = Path(__file__).resolve().parent / "vendor" / "axe.min.js"
AXE_SHA256 = "29348999450cdf2849a8e70b7912fc2da85a849da39c0d0d5394f51d4a9ed95c"  # 4.14.1
#: Where the screenshots are copied for a person to look at: git-ignored, like
#: every rendered report (SENSORYPROFILE_SCREENSHOTS to put them elsewhere).
SCREENSHOTS = Path(os.environ.get("SENSORYPROFILE_SCREENSHOTS",
                                  ROOT / "reports" / "screenshots"))
AS_OF = "2026-09-30"
#: The pages the tests open, and how many charts each shows.
PAGES = {"index.html": 0, "children/C0002/report.html": 6, "caseload/report.html": 7,
         "cohort/report.html": 7, "family/C0002/en/report.html": 1}
WIDTH, HEIGHT = 1280, 1000


def missing_browser() -> str | None:
    """Why the browser tests cannot run here, or None."""
    if importlib.util.find_spec("selenium") is None:
        return "Selenium is not installed (pip install -e '.[test]')"
    for path, package in ((CHROMIUM, "chromium"), (CHROMEDRIVER, "chromium-driver")):
        if not (path.is_file() and os.access(path, os.X_OK)):
            return (f"headless Chromium is not installed ({path} is missing): run `make browser` "
                    f"as root, or apt-get install {package}")
    return None


@pytest.fixture(scope="session")
def axe_source() -> str:
    source = AXE.read_bytes()
    assert hashlib.sha256(source).hexdigest() == AXE_SHA256, f"{AXE} is not axe-core 4.14.1"
    return source.decode("utf-8")


@pytest.fixture(scope="session")
def driver():
    """One headless Chromium for the session (console messages kept)."""
    reason = missing_browser()
    if reason:
        pytest.skip(reason)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                     f"--window-size={WIDTH},{HEIGHT}", "--disable-extensions",
                     "--no-first-run", "--disable-dev-shm-usage", "--lang=en-GB"):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    browser = webdriver.Chrome(options=options, service=Service(str(CHROMEDRIVER)))
    browser.set_page_load_timeout(60)
    yield browser
    browser.quit()


@pytest.fixture(scope="session")
def site(driver, tmp_path_factory) -> Path:
    """The sample clinic's reports, as `report all --cohort` writes them, with
    a family report (rendered first, so the index links it) and C0002's
    report with its PDF (rendered after)."""
    from sensoryprofile.cli import main

    out = tmp_path_factory.mktemp("browser") / "reports"
    common = ["--data", str(SAMPLE), "--out", str(out), "--as-of", AS_OF]
    assert main(["report", "family", "C0002", *common]) == 0
    assert main(["report", "all", *common, "--jobs", "2", "--cohort", "--quiet"]) == 0
    assert main(["report", "child", "C0002", *common, "--pdf"]) == 0
    return out


@pytest.fixture(scope="session")
def screenshots(tmp_path_factory) -> Path:
    """A folder for the screenshots; copied into :data:`SCREENSHOTS` at the end."""
    folder = tmp_path_factory.mktemp("screenshots")
    yield folder
    if any(folder.iterdir()):
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        for path in folder.iterdir():
            shutil.copy2(path, SCREENSHOTS / path.name)


def open_page(driver, path: Path) -> list[dict]:
    """Open a page of the reports folder (from file://); return what its
    console said while loading."""
    driver.get_log("browser")  # what earlier pages said
    driver.get(path.resolve().as_uri())
    driver.execute_script("return document.readyState")
    return driver.get_log("browser")
