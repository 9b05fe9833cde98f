"""The optional `family_note` column of goal_ratings (the family report's note
from the therapist): read and typed like any column, its text never shown in
a validation message, a note too long for the report left out and reported
(the rating kept, the accounting intact), and removed from de-identified
extracts; the sample clinic's notes sit on each child's latest review."""

from __future__ import annotations

import pandas as pd

from sensoryprofile import columns as C
from sensoryprofile.data.dataset import FAMILY_NOTE_MAX_CHARS, OPTIONAL, load_dataset
from sensoryprofile.data.dictionary import data_dictionary_markdown
from sensoryprofile.data.export import column_policies, export_deidentified, new_key
from sensoryprofile.data.validation import HIDDEN, VALUE_IGNORED
from tests.family_clinic import TODAY, write_family_clinic
from tests.paths import SAMPLE

SECRET = "Alice's dad asked about the move to Elm Street. "  # names a person and a place


def test_family_note_is_an_optional_column():
    assert C.FAMILY_NOTE in OPTIONAL["goal_ratings"]
    assert C.GOAL_RATINGS_COLUMNS[-1] == C.FAMILY_NOTE
    assert "| `family_note` | no | Optional note from the therapist to the family" in \
        data_dictionary_markdown()


def test_a_note_too_long_is_left_out_and_reported_without_its_text(tmp_path):
    long_note = (SECRET * 20)[:FAMILY_NOTE_MAX_CHARS + 1]
    data = load_dataset(write_family_clinic(tmp_path, long_note=long_note), today=TODAY)
    (problem,) = data.report.problems
    # goal_ratings.csv: header is row 1, G2's rating of 2024-07-20 is the 4th data row
    assert (problem.file, problem.row, problem.column, problem.value, problem.action) == (
        "goal_ratings.csv", 5, C.FAMILY_NOTE, HIDDEN, VALUE_IGNORED)
    assert problem.rule.startswith("family_note is at most 500 characters")
    assert "Elm" not in str(problem) and "Alice's dad" not in data.report.format_text()
    # the rating is kept, only the note is dropped; rows read = accepted + rejected
    count = data.report.counts["goal_ratings"]
    assert (count.read, count.accepted, count.rejected) == (5, 5, 0)
    rating = data.goal_ratings[(data.goal_ratings[C.GOAL_ID] == "G2")
                               & (data.goal_ratings[C.DATE] == "2024-07-20")]
    assert rating[C.LEVEL].tolist() == [0] and rating[C.FAMILY_NOTE].isna().all()
    # exactly the limit is fine
    ok = load_dataset(write_family_clinic(tmp_path / "ok", long_note="x" * FAMILY_NOTE_MAX_CHARS),
                      today=TODAY)
    assert ok.report.ok


def test_de_identified_extracts_drop_the_note(tmp_path):
    policy = {p.column: p for p in column_policies()["goal_ratings"]}
    assert policy[C.FAMILY_NOTE].output is None
    clinic = write_family_clinic(tmp_path / "clinic", long_note=SECRET)
    key = new_key(tmp_path / "key")
    export_deidentified(clinic, tmp_path / "out", key_file=key, today=TODAY)
    ratings = pd.read_csv(tmp_path / "out" / "goal_ratings.csv")
    assert C.FAMILY_NOTE not in ratings.columns
    for path in (tmp_path / "out").iterdir():
        assert "Elm Street" not in path.read_text(encoding="utf-8"), path.name


def test_sample_notes_sit_on_each_childs_latest_review():
    ratings = pd.read_csv(SAMPLE / "goal_ratings.csv", dtype=str)
    goals = pd.read_csv(SAMPLE / "goals.csv", dtype=str)
    ratings["child"] = ratings[C.GOAL_ID].map(goals.set_index(C.GOAL_ID)[C.CHILD_ID])
    latest = ratings.groupby("child")[C.DATE].transform("max")
    noted = ratings[ratings[C.FAMILY_NOTE].notna()]
    assert len(noted) == 18 and noted["child"].is_unique  # 18 of 60 children (share 0.35)
    assert (noted[C.DATE] == latest[noted.index]).all()
