"""data/sample-messy: every planted defect is reported, nothing else is, and the
accounting reconciles. Random corruption never escapes as a foreign error."""

from __future__ import annotations

import datetime as dt
import filecmp

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sensoryprofile.data.dataset import load_dataset
from sensoryprofile.errors import SensoryProfileError
from sensoryprofile.synthetic.clinic import write_clinic
from sensoryprofile.synthetic.messy import build_messy_clinic, write_messy_clinic
from tests.paths import ROOT

TODAY = dt.date(2026, 11, 26)


def _expected(today=TODAY):
    _, defects, expected = build_messy_clinic()
    rows = {tuple(e[:4]) + (e[4].replace("{today}", today.isoformat()),) + tuple(e[5:])
            for e in expected}
    return defects, rows


def test_committed_messy_sample_matches_the_generator(tmp_path):
    write_messy_clinic(tmp_path)
    for name in ("children.csv", "assessments.csv", "goals.csv", "goal_ratings.csv",
                 "README.md"):
        assert filecmp.cmp(tmp_path / name, ROOT / "data" / "sample-messy" / name,
                           shallow=False), name


def test_every_planted_defect_is_reported_and_nothing_else():
    defects, expected = _expected()
    assert len(defects) >= 20
    assert len({d.description for d in defects}) == len(defects)  # different kinds
    ds = load_dataset(ROOT / "data" / "sample-messy", today=TODAY)
    got = {(p.file, p.row, p.column, p.value, p.rule, p.action) for p in ds.report.problems}
    assert len(got) == len(ds.report.problems)  # no problem reported twice
    assert got == expected
    for d in defects:  # each planted defect by itself, exactly as the README lists it
        assert d.expected()[:4] in {g[:4] for g in got}


def test_messy_accounting_reconciles():
    ds = load_dataset(ROOT / "data" / "sample-messy", today=TODAY)
    for table, count in ds.report.counts.items():
        assert count.read == count.accepted + count.rejected, table
    # rejected rows = distinct rows with a "rejected" action in the report
    for table in ("children", "assessments", "goals", "goal_ratings"):
        rejected_rows = {p.row for p in ds.report.problems
                         if p.table == table and "rejected" in p.action}
        assert ds.report.counts[table].rejected == len(rejected_rows), table
    # the files have 25 / 73 / 75 / 353 data rows (header not counted)
    assert {t: c.read for t, c in ds.report.counts.items()} == {
        "children": 25, "assessments": 73, "goals": 75, "goal_ratings": 353}


def test_committed_sample_is_clean_and_regenerates(tmp_path):
    ds = load_dataset(ROOT / "data" / "sample", today=TODAY)
    assert ds.report.problems == []
    write_clinic(tmp_path, n_children=60, seed=0)
    for name in ("children.csv", "assessments.csv", "goals.csv", "goal_ratings.csv"):
        assert filecmp.cmp(tmp_path / name, ROOT / "data" / "sample" / name, shallow=False)


# --- random corruption ----------------------------------------------------------------------
@pytest.fixture(scope="module")
def small_clinic(tmp_path_factory):
    folder = tmp_path_factory.mktemp("clinic")
    write_clinic(folder, n_children=6, seed=3)
    return {name: pd.read_csv(folder / f"{name}.csv", dtype=str, keep_default_na=False)
            for name in ("children", "assessments", "goals", "goal_ratings")}


JUNK = ["", " ", "x", "-1", "99", "2024-13-01", "03/04/2025", "1.5", "NaN", "C 1", "é",
        "<script>", "9999-99-99", "0", "-3", "2030-01-01"]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                  HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_random_corruption_never_escapes_and_always_reconciles(small_clinic, tmp_path_factory,
                                                               data):
    tables = {k: v.copy() for k, v in small_clinic.items()}
    n_edits = data.draw(st.integers(1, 8))
    for _ in range(n_edits):
        name = data.draw(st.sampled_from(sorted(tables)))
        frame = tables[name]
        kind = data.draw(st.sampled_from(["blank", "swap", "junk", "duplicate"]))
        row = data.draw(st.integers(0, len(frame) - 1))
        col = data.draw(st.sampled_from(list(frame.columns)))
        if kind == "blank":
            frame.loc[row, col] = ""
        elif kind == "junk":
            frame.loc[row, col] = data.draw(st.sampled_from(JUNK))
        elif kind == "swap":
            other = data.draw(st.sampled_from([c for c in frame.columns if c != col]))
            frame.loc[row, [col, other]] = frame.loc[row, [other, col]].to_numpy()
        else:
            tables[name] = pd.concat([frame, frame.iloc[[row]]], ignore_index=True)
    folder = tmp_path_factory.mktemp("corrupt")
    for name, frame in tables.items():
        frame.to_csv(folder / f"{name}.csv", index=False)
    try:
        ds = load_dataset(folder, today=TODAY)
    except SensoryProfileError:
        return  # a structural problem, reported as one clear package error
    for table, count in ds.report.counts.items():
        assert count.read == count.accepted + count.rejected, table
        assert count.read == len(tables[table])
        assert count.accepted == len(getattr(ds, table))
    # accepted rows keep their row numbers, and are never listed as rejected
    for table in ("children", "assessments", "goals", "goal_ratings"):
        rejected = {p.row for p in ds.report.problems if p.table == table
                    and "rejected" in p.action}
        kept = set(getattr(ds, table)["source_row"].astype(int))
        assert not rejected & kept
        assert len(rejected) + len(kept) == len(tables[table])
    assert np.isfinite(ds.scores["raw"].dropna()).all()
