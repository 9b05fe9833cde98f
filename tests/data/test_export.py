"""De-identified export: nothing identifying anywhere in the output, keyed
pseudonyms that link across exports, dates shifted with intervals kept (or
days since intake), ages in months, row accounting, and unchanged scores."""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
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
    MANIFEST_JSON,
    MANIFEST_MD,
    OFF_SCALE_CELL,
    Pseudonymiser,
    column_policies,
    export_deidentified,
    key_fingerprint,
    new_key,
    read_key,
)
from sensoryprofile.data.tables import read_csv_table
from sensoryprofile.dates import completed_months
from sensoryprofile.errors import UsageError
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
