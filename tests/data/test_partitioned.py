"""Scoring a Parquet dataset partition by partition (issue 17): the result is
the whole table's, the output is partitioned as the input, a repeat across
partitions is caught, a damaged partition is reported and the others scored;
on a Dask cluster the result is the same."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sensoryprofile import columns as C
from sensoryprofile.cli import main
from sensoryprofile.data.assessments import score_assessments
from sensoryprofile.data.partitioned import find_partitions, other_files, score_parquet

ITEMS = [f"dc_{i:03d}" for i in range(1, 81)]  # demo-child's 80 items


def _assessments(n: int, seed: int = 0) -> pd.DataFrame:
    """n demo-child assessments: answers 1-5, a few blank, ages 36-179 months."""
    rng = np.random.default_rng(seed)
    values = rng.integers(1, 6, (n, len(ITEMS))).astype(float)
    values[rng.random(values.shape) < 0.02] = np.nan
    frame = pd.DataFrame(values, columns=ITEMS)
    frame.insert(0, C.ASSESSMENT_ID, [f"A{i:05d}" for i in range(n)])
    frame.insert(1, C.CHILD_ID, [f"C{i // 2:05d}" for i in range(n)])
    frame.insert(2, C.INSTRUMENT, "demo-child")
    frame.insert(3, C.DATE, (np.datetime64("2025-01-01") + rng.integers(0, 365, n)).astype(str))
    frame.insert(4, C.AGE_MONTHS, rng.integers(36, 180, n))
    return frame


def _write(frame: pd.DataFrame, folder: Path, names: list[str], sizes: list[int]) -> Path:
    start = 0
    for name, size in zip(names, sizes, strict=True):
        target = folder / name
        target.parent.mkdir(parents=True, exist_ok=True)
        frame.iloc[start:start + size].to_parquet(target, index=False)
        start += size
    return folder


def _read(out: Path, names: list[str]) -> pd.DataFrame:
    return pd.concat([pd.read_parquet(out / n) for n in names], ignore_index=True)


def _same(a: pd.DataFrame, b: pd.DataFrame) -> None:
    """Equal cell by cell (categories may differ between partitions)."""
    assert list(a.columns) == list(b.columns) == C.SCORE_COLUMNS
    for col in a.columns:
        x, y = a[col], b[col]
        if isinstance(x.dtype, pd.CategoricalDtype) or isinstance(y.dtype, pd.CategoricalDtype):
            x, y = x.astype(object), y.astype(object)
        pd.testing.assert_series_equal(x.reset_index(drop=True), y.reset_index(drop=True),
                                       check_dtype=False, check_names=False, obj=col)


PARTS = ["site=A/part-0.parquet", "site=A/part-1.parquet", "site=B/part-0.parquet"]


def test_partitions_score_as_the_whole_table_and_keep_their_layout(tmp_path):
    frame = _assessments(300)
    frame.loc[0, ITEMS] = 3.0  # every item "3": seeking sums its 15 items, 15 x 3 = 45
    data = _write(frame, tmp_path / "data", PARTS, [120, 100, 80])
    (data / "_metadata").write_bytes(b"")  # not a partition
    assert find_partitions(data) == PARTS
    result = score_parquet(data, tmp_path / "out")
    # one output file per input partition, at the same relative path
    assert sorted(p.relative_to(tmp_path / "out").as_posix()
                  for p in (tmp_path / "out").rglob("*.parquet")) == sorted(PARTS)
    got = _read(tmp_path / "out", PARTS)
    _same(got, score_assessments(frame))
    # 13 scores per assessment of demo-child (4 quadrants + sections + composites)
    assert result.rows == 300 and result.score_rows == len(got) == 300 * 13
    assert [p.rows for p in result.parts] == [120, 100, 80]
    first = got[(got[C.ASSESSMENT_ID] == "A00000") & (got[C.SCORE] == "seeking")]
    assert first[C.RAW].tolist() == [45.0]
    assert result.problems == [] and result.failed == []
    # read back as one dataset, the Hive folders give the site column again
    sites = pd.read_parquet(tmp_path / "out")["site"].astype(str)
    assert sites.value_counts().to_dict() == {"A": 220 * 13, "B": 80 * 13}


def test_an_id_repeated_in_a_later_partition_is_invalidated_and_named(tmp_path):
    frame = _assessments(30)
    frame.loc[25, C.ASSESSMENT_ID] = "A00003"  # row 26 repeats row 4, in another partition
    frame.loc[27, C.ASSESSMENT_ID] = "A00026"  # a repeat within the last partition
    data = _write(frame, tmp_path / "data", ["p0.parquet", "p1.parquet", "p2.parquet"],
                  [10, 10, 10])
    result = score_parquet(data, tmp_path / "out")
    got = _read(tmp_path / "out", ["p0.parquet", "p1.parquet", "p2.parquet"])
    whole = score_assessments(frame)
    # the later copy is invalid, as in the whole table; only its reason says more
    # (a partition's rows count from 1; the whole table's from 2, below its header)
    texts = {"duplicate assessment_id (first on row 5)":
             "duplicate assessment_id (first in p0.parquet row 4)",
             "duplicate assessment_id (first on row 28)":  # row 27 of the table: p2's 7th
             "duplicate assessment_id (first on row 7)"}
    expected = whole.copy()
    expected[C.INVALID_REASON] = whole[C.INVALID_REASON].astype(object).replace(texts)
    _same(got, expected)
    repeat = got.iloc[25 * 13:26 * 13]
    assert not repeat[C.VALID].any() and repeat[C.RAW].isna().all()
    assert [str(p) for p in result.problems] == [
        "p2.parquet row 6 (assessment_id=A00003), column assessment_id: value 'A00003': "
        "duplicate assessment_id (first in p0.parquet row 4) [score invalidated]",
        "p2.parquet row 8 (assessment_id=A00026), column assessment_id: value 'A00026': "
        "duplicate assessment_id (first on row 7) [score invalidated]"]


def test_a_damaged_partition_is_reported_and_the_others_are_scored(tmp_path, capsys):
    frame = _assessments(20)
    data = _write(frame, tmp_path / "data", ["a.parquet", "c.parquet"], [10, 10])
    (data / "b.parquet").write_bytes(b"PAR1 this is not a Parquet file")
    # d: its columns lack `instrument`, so no row says what it answers
    frame.iloc[:5].drop(columns=[C.INSTRUMENT]).to_parquet(data / "d.parquet", index=False)
    # files that are not partitions are named, not read; _SUCCESS and instruments/ are expected
    (data / "notes.txt").write_text("exported 2026-09-30\n", encoding="ascii")
    (data / "site=B").mkdir()
    (data / "site=B" / "late.csv").write_text("assessment_id\nA99999\n", encoding="ascii")
    (data / "_SUCCESS").write_bytes(b"")
    (data / "instruments").mkdir()
    (data / "instruments" / "clinic-form.yaml").write_text("id: x\n", encoding="ascii")
    assert other_files(data) == ["notes.txt", "site=B/late.csv"]
    out = tmp_path / "out"
    code = main(["score", str(data), "--out", str(out), "--quiet"])
    captured = capsys.readouterr()
    assert code == 1
    # a and c: 10 assessments each, 13 scores each (2 x 10 x 13 = 260)
    assert "wrote 260 score rows for 20 assessment(s) in 4 partition(s)" in captured.out
    assert "FAILED b.parquet: " in captured.err and "cannot be read as a Parquet file" in (
        captured.err)
    assert ("FAILED d.parquet: d.parquet: no `instrument` column and no instrument given; add "
            "an `instrument` column or pass --instrument ID_OR_FILE") in captured.err
    assert ("not read: notes.txt, site=B/late.csv (not Parquet partitions: a partition's name "
            "ends in .parquet)") in captured.err
    assert "Traceback" not in captured.err
    assert sorted(p.name for p in out.iterdir()) == ["a.parquet", "c.parquet"]


def test_names_never_reach_the_scores(tmp_path):
    frame = _assessments(4)
    frame[C.RESPONDENT] = ["parent", "Ada Lovelace", "parent", "parent"]  # a name typed in
    children = pd.DataFrame({C.CHILD_ID: ["C00000", "C00001"],
                             C.DISPLAY_NAME: ["Ada Lovelace", "Alan Turing"],
                             C.DATE_OF_BIRTH: ["2018-03-01", "2017-06-15"]})
    data = _write(frame, tmp_path / "data", ["p.parquet"], [4])
    score_parquet(data, tmp_path / "out", children=children)
    got = pd.read_parquet(tmp_path / "out" / "p.parquet")
    assert "Ada Lovelace" not in got.astype(str).to_numpy()
    # ages from the dates of birth: 2018-03-01 to the row's date, in completed months
    dates = pd.to_datetime(frame[C.DATE])
    months = (dates.dt.year - 2018) * 12 + dates.dt.month - 3 - (dates.dt.day < 1)
    assert got.groupby(C.ASSESSMENT_ID, sort=True)[C.AGE_MONTHS].first().iloc[0] == months[0]


def test_the_output_folder_must_be_new_or_empty(tmp_path, capsys):
    data = _write(_assessments(4), tmp_path / "data", ["p.parquet"], [4])
    (tmp_path / "used").mkdir()
    (tmp_path / "used" / "old.parquet").write_bytes(b"")
    assert main(["score", str(data), "--out", str(tmp_path / "used")]) == 2
    assert "must be a new or empty folder" in capsys.readouterr().err
    assert main(["score", str(data)]) == 2
    assert "give --out DIR" in capsys.readouterr().err
    in_the_way = tmp_path / "a-file"
    in_the_way.write_text("not a folder\n", encoding="ascii")
    assert main(["score", str(data), "--out", str(in_the_way / "scores")]) == 2
    assert (f"{in_the_way / 'scores'}: cannot be used as the output folder (a file is in the "
            "way)") in capsys.readouterr().err
    assert main(["score", str(tmp_path / "empty-dir-missing"), "--out", "x"]) == 1
    csv = tmp_path / "a.csv"
    _assessments(2).to_csv(csv, index=False)
    assert main(["score", str(csv), "--dask-workers", "2"]) == 2
    assert "score a Parquet dataset" in capsys.readouterr().err


@pytest.mark.slow
def test_dask_scoring_equals_local_scoring(tmp_path, capfd):
    frame = _assessments(600, seed=3)
    frame.loc[450, C.ASSESSMENT_ID] = "A00010"  # a repeat across partitions
    frame.loc[500, ITEMS[0]] = 9  # off the scale: reported, its scores invalid
    names = [f"part-{k}.parquet" for k in range(4)]
    data = _write(frame, tmp_path / "data", names, [150, 150, 150, 150])
    (data / "part-9.parquet").write_bytes(b"PAR1 damaged")  # read on a worker, and fails
    local = score_parquet(data, tmp_path / "local")
    code = main(["score", str(data), "--out", str(tmp_path / "dask"), "--dask-workers", "2",
                 "--quiet"])
    captured = capfd.readouterr()
    assert code == 1  # two problems in the input, one partition unreadable
    assert "wrote 7800 score rows for 600 assessment(s) in 5 partition(s)" in captured.out
    assert "on 2 Dask worker(s)" in captured.out
    pd.testing.assert_frame_equal(_read(tmp_path / "dask", names),
                                  _read(tmp_path / "local", names))
    assert [f"  {p}" for p in local.problems] == [
        line for line in captured.err.splitlines() if line.startswith("  part-")]
    assert len(local.problems) == 2
    # the damaged partition is reported as on this machine; the worker logs nothing
    (failed,) = local.failed
    assert failed.error.startswith("part-9.parquet: ")
    assert f"FAILED {failed.error}" in captured.err.splitlines()
    assert "Traceback" not in captured.err and "Compute Failed" not in captured.err
    assert sorted(p.name for p in (tmp_path / "dask").iterdir()) == names
