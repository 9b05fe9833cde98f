"""The analysis commands: goals, change, export (exit codes, files, content)."""

from __future__ import annotations

import os
import stat

import pandas as pd

from sensoryprofile import columns as C
from sensoryprofile.cli import main
from sensoryprofile.data.dataset import load_dataset
from sensoryprofile.measures.change import sensory_change
from sensoryprofile.measures.goals import goal_attainment
from tests.paths import MESSY, SAMPLE


def test_goals_prints_and_writes_the_package_tables(tmp_path, capsys):
    assert main(["goals", str(SAMPLE), "--child", "C0002", "--as-of", "2026-09-30"]) == 0
    out = capsys.readouterr().out
    expected = goal_attainment(_child(load_dataset(SAMPLE), "C0002"), as_of="2026-09-30")
    last = expected.reviews.iloc[-1]
    assert f"{last[C.T_SCORE]:.1f}" in out and "Per goal:" in out
    target = tmp_path / "gas.csv"
    assert main(["goals", str(SAMPLE), "--as-of", "2026-09-30", "--out", str(target)]) == 0
    reviews = pd.read_csv(target)
    per_goal = pd.read_csv(tmp_path / "gas-per-goal.csv")
    full = goal_attainment(load_dataset(SAMPLE), as_of="2026-09-30")
    assert len(reviews) == len(full.reviews) and len(per_goal) == len(full.goals) == 196
    assert reviews[C.T_SCORE].round(6).tolist() == full.reviews[C.T_SCORE].round(6).tolist()


def _child(ds, child_id):
    ds.goals = ds.goals[ds.goals[C.CHILD_ID] == child_id]
    ds.goal_ratings = ds.goal_ratings[ds.goal_ratings[C.GOAL_ID].isin(ds.goals[C.GOAL_ID])]
    return ds


def test_goals_and_change_exit_codes(tmp_path, capsys):
    # the messy sample has problems: results for the accepted rows, and exit 1
    assert main(["goals", str(MESSY)]) == 1
    assert "data problem(s)" in capsys.readouterr().err
    assert main(["change", str(SAMPLE), "--child", "NOPE"]) == 1
    assert "child_id 'NOPE' is not in" in capsys.readouterr().err
    assert main(["change", str(SAMPLE), "--child", "../x"]) == 2
    assert main(["goals"]) == 2


def test_change_writes_the_comparison_table(tmp_path, capsys):
    target = tmp_path / "change.csv"
    assert main(["change", str(SAMPLE), "--out", str(target)]) == 0
    written = pd.read_csv(target)
    expected = sensory_change(load_dataset(SAMPLE))
    assert len(written) == len(expected)
    assert written[C.RCI].round(6).equals(expected[C.RCI].astype(float).round(6).reset_index(
        drop=True))
    capsys.readouterr()
    assert main(["change", str(SAMPLE), "--child", "C0002"]) == 0
    out = capsys.readouterr().out
    assert "intake_to_latest" in out and "C0003" not in out


def test_export_cli_new_key_and_export(tmp_path, capsys):
    key = tmp_path / "secret.key"
    assert main(["export", "--new-key", str(key)]) == 0
    assert stat.S_IMODE(os.stat(key).st_mode) == 0o600
    assert main(["export", "--new-key", str(key)]) != 0  # never overwrites a key
    out = tmp_path / "extract"
    assert main(["export", str(SAMPLE), "--out", str(out), "--key-file", str(key)]) == 0
    names = sorted(p.name for p in out.iterdir())
    assert {"children.csv", "assessments.csv", "goals.csv", "goal_ratings.csv",
            "manifest.json", "MANIFEST.md"} <= set(names)
    children = pd.read_csv(out / "children.csv", dtype=str)
    assert C.DISPLAY_NAME not in children and C.DATE_OF_BIRTH not in children
    assert not children[C.CHILD_ID].isin(pd.read_csv(SAMPLE / "children.csv")[C.CHILD_ID]).any()
    # the extract loads and validates cleanly
    assert main(["validate", str(out)]) == 0
    assert main(["export", str(SAMPLE), "--out", str(tmp_path / "x")]) == 2  # no key given
    assert "not Safe Harbor" in capsys.readouterr().out


def test_export_cli_strict(tmp_path, capsys):
    out, linkage = tmp_path / "extract", tmp_path / "clinic-linkage.csv"
    assert main(["export", str(SAMPLE), "--out", str(out), "--strict", "--linkage",
                 str(linkage)]) == 0
    printed = capsys.readouterr().out
    assert "HIPAA Safe Harbor" in printed and str(linkage) in printed
    assert stat.S_IMODE(os.stat(linkage).st_mode) == 0o600
    children = pd.read_csv(out / "children.csv", dtype=str)
    assert list(children.columns) == [C.CHILD_ID, C.AGE_AT_REFERRAL_MONTHS, C.SEX, C.DIAGNOSES,
                                      "referral_year", "discharge_year"]
    assert children[C.CHILD_ID].str.fullmatch(r"SC-[0-9a-f]{16}").all()
    # usage errors (exit 2), nothing written: no linkage file; the linkage file exists
    # already; --linkage without --strict; a key with --strict; a weak key
    key = tmp_path / "secret.key"
    assert main(["export", "--new-key", str(key)]) == 0
    weak = tmp_path / "weak.key"
    weak.write_text("00" * 32 + "\n")
    weak.chmod(0o600)
    for argv in (["--strict"], ["--strict", "--linkage", str(linkage)],
                 ["--key-file", str(key), "--linkage", str(tmp_path / "l2.csv")],
                 ["--strict", "--linkage", str(tmp_path / "l3.csv"), "--key-file", str(key)],
                 ["--key-file", str(weak)]):
        assert main(["export", str(SAMPLE), "--out", str(tmp_path / "x"), *argv]) == 2, argv
        assert not (tmp_path / "x").exists()
    assert "too weak" in capsys.readouterr().err
    assert not (tmp_path / "l2.csv").exists() and not (tmp_path / "l3.csv").exists()
