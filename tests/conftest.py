"""Shared test fixtures: the tiny clinic of the caseload tests, and the sample
clinic's cohort analysis."""

from __future__ import annotations

import os
import shutil
import tempfile

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402


def pytest_configure(config):
    """Checked-definition markers go to a folder of this run (commands the
    tests start inherit it), never to the user's cache."""
    folder = tempfile.mkdtemp(prefix="sp-test-cache-")
    config._sp_cache = folder
    os.environ["SENSORYPROFILE_CACHE_DIR"] = folder


def pytest_unconfigure(config):
    shutil.rmtree(getattr(config, "_sp_cache", ""), ignore_errors=True)


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="session")
def clinic(tmp_path_factory):
    """The tiny clinic of :mod:`tests.tiny_clinic`, loaded."""
    from sensoryprofile.data.dataset import load_dataset
    from tests.tiny_clinic import TODAY, write_clinic

    return load_dataset(write_clinic(tmp_path_factory.mktemp("clinic")), today=TODAY)


@pytest.fixture(scope="session")
def report(clinic):
    """The tiny clinic's caseload report (groups of 2 shown)."""
    from sensoryprofile.reports.caseload import CaseloadReport
    from tests.tiny_clinic import AS_OF

    return CaseloadReport.build(clinic, as_of=AS_OF, min_group=2, n_boot=200)


@pytest.fixture(scope="session")
def dataset():
    """The sample clinic, loaded once."""
    from sensoryprofile.data.dataset import load_dataset_cached
    from tests.paths import SAMPLE

    return load_dataset_cached(SAMPLE)


@pytest.fixture(scope="session")
def analysis(dataset):
    """The sample clinic's cohort analysis (200 resamples)."""
    from sensoryprofile.reports.cohort import CohortReport
    from tests.paths import SAMPLE

    return CohortReport.build(SAMPLE, n_boot=200, dataset=dataset)


@pytest.fixture(scope="session")
def intake_items(dataset):
    """The item matrix of the sample clinic's demo-child intakes."""
    from sensoryprofile.analysis import cohort, psychometrics

    series = cohort.series_assessments(dataset, "demo-child")
    from sensoryprofile import columns as C

    return psychometrics.item_matrix(series[series[C.IS_INTAKE]], "demo-child")
