"""A clinic registers its forms once: the dataset's instruments/ folder,
``--instruments DIR`` and ``SENSORYPROFILE_INSTRUMENTS`` are searched, in
that order, by every command; ``instruments list`` says where each form came
from; ``init --instrument FILE`` copies the definition; a broken definition
is reported once with its own problems."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pandas as pd
import pytest

from sensoryprofile.cli import main
from sensoryprofile.errors import InstrumentError
from sensoryprofile.instruments import (
    INSTRUMENTS_ENV,
    SHIPPED,
    clinic_folders,
    load_instrument,
    registered_instruments,
)
from tests.paths import FIXTURES, small_clinic

TINY = FIXTURES / "tiny-reverse.yaml"


@pytest.fixture
def no_env(monkeypatch):
    monkeypatch.setenv(INSTRUMENTS_ENV, "")  # restored after the test (a command may set it)


@pytest.fixture
def forms(tmp_path) -> Path:
    """A clinic-wide folder holding one form (tiny-reverse)."""
    folder = tmp_path / "clinic-forms"
    folder.mkdir()
    shutil.copy(TINY, folder)
    return folder


def a_dataset_using_tiny(folder: Path) -> Path:
    """Three children of the sample; rows 2 and 3 of assessments.csv become
    tiny-reverse administrations (its six items, all answered)."""
    small_clinic(folder, 3)
    frame = pd.read_csv(folder / "assessments.csv", dtype=str, keep_default_na=False)
    for k in range(1, 7):
        frame[f"tr_{k}"] = ""
    frame.loc[[0, 1], "instrument"] = "tiny-reverse"
    frame.loc[[0, 1], [f"tr_{k}" for k in range(1, 7)]] = "3"
    frame.loc[[0, 1], [c for c in frame.columns if c.startswith("dc_")]] = ""
    frame.to_csv(folder / "assessments.csv", index=False)
    return folder


def test_the_environment_variable_lists_folders_in_order(no_env, forms, tmp_path, monkeypatch):
    other = tmp_path / "other"
    other.mkdir()
    monkeypatch.setenv(INSTRUMENTS_ENV, os.pathsep.join([str(other), str(tmp_path / "gone"),
                                                         str(forms), str(forms)]))
    dataset_folder = tmp_path / "ds" / "instruments"
    dataset_folder.mkdir(parents=True)
    # the dataset's folder first; a folder that does not exist, or comes twice, is left out
    assert clinic_folders((dataset_folder,)) == (dataset_folder, other, forms)
    assert load_instrument("tiny-reverse").source == str(forms / "tiny-reverse.yaml")


def test_without_a_registration_the_form_is_unknown_and_the_message_says_where_to_put_it(
        no_env):
    with pytest.raises(InstrumentError, match=r"unknown instrument 'tiny-reverse'.*"
                       r"instruments/ folder, with --instruments DIR or in "
                       r"SENSORYPROFILE_INSTRUMENTS"):
        load_instrument("tiny-reverse")


def test_the_first_definition_of_an_id_wins_and_the_list_says_so(no_env, forms, tmp_path,
                                                                  monkeypatch):
    dataset_forms = tmp_path / "ds" / "instruments"
    dataset_forms.mkdir(parents=True)
    shutil.copy(TINY, dataset_forms)
    monkeypatch.setenv(INSTRUMENTS_ENV, str(forms))
    found = registered_instruments((dataset_forms,))
    sources = [(e.id, e.source, e.shadowed_by) for e in found]
    assert sources == [
        ("tiny-reverse", str(dataset_forms / "tiny-reverse.yaml"), None),
        ("tiny-reverse", str(forms / "tiny-reverse.yaml"), str(dataset_forms / "tiny-reverse.yaml")),
        ("demo-child", SHIPPED, None),
        ("demo-toddler", SHIPPED, None),
    ]


def test_instruments_list_and_show_see_the_clinic_forms(no_env, forms, capsys):
    assert main(["instruments", "list", "--instruments", str(forms)]) == 0
    out = capsys.readouterr().out
    line = next(row for row in out.splitlines() if row.startswith("tiny-reverse"))
    assert str(forms / "tiny-reverse.yaml") in line and " ok " in line
    assert "shipped with the package" in out
    assert main(["--instruments", str(forms), "instruments", "show", "tiny-reverse"]) == 0
    assert "Tiny reversed test form" in capsys.readouterr().out


def test_instruments_list_reports_a_broken_file_with_its_problems(no_env, tmp_path, capsys):
    folder = tmp_path / "forms"
    folder.mkdir()
    (folder / "broken.yaml").write_text("id: broken\nname: Broken\n", encoding="utf-8")
    assert main(["instruments", "list", "--instruments", str(folder)]) == 1
    out = capsys.readouterr().out
    assert "INVALID (" in out
    assert "broken.yaml: (top level): missing required field 'items'" in out


def test_a_missing_instruments_folder_is_a_usage_error(no_env, tmp_path, capsys):
    assert main(["validate", str(tmp_path), "--instruments", str(tmp_path / "nowhere")]) == 2
    assert "--instruments" in capsys.readouterr().err
    assert main(["validate", str(tmp_path), "--instruments"]) == 2


def test_validate_and_score_find_a_form_of_the_clinic_folder(no_env, forms, tmp_path, capsys):
    data = a_dataset_using_tiny(tmp_path / "clinic")
    assert main(["validate", str(data)]) == 1  # not registered: two rows unknown
    assert "unknown instrument" in capsys.readouterr().out
    # registered: the rows are scored; the only problems left are the children's ages
    # (the sample's children are older than tiny-reverse's 12-59 months)
    assert main(["validate", str(data), "--instruments", str(forms)]) == 1
    out = capsys.readouterr().out
    assert "unknown instrument" not in out
    assert out.count("age outside tiny-reverse's range of 12-59 months") == 2
    out = tmp_path / "scores.csv"
    # score on a file, outside the dataset folder's own registration
    shutil.copy(data / "assessments.csv", tmp_path / "loose.csv")
    assert main(["--instruments", str(forms), "score", str(tmp_path / "loose.csv"),
                 "--children", str(data / "children.csv"), "--out", str(out)]) == 1  # ages
    assert "unknown instrument" not in capsys.readouterr().out
    scores = pd.read_csv(out)
    tiny = scores[scores["instrument"] == "tiny-reverse"]
    # two administrations x three scores (seeking, avoiding, total); every item answered 3:
    # seeking = 3 + 3 + 3 = 9, avoiding = 9, total = 18
    assert len(tiny) == 6
    assert tiny.groupby("score")["raw"].first().to_dict() == {"avoiding": 9.0, "seeking": 9.0,
                                                              "total": 18.0}


def test_init_copies_the_definition_into_the_new_dataset(no_env, forms, tmp_path, capsys):
    out = tmp_path / "new"
    assert main(["init", str(out), "--instrument", str(forms / "tiny-reverse.yaml"),
                 "--instrument", "demo-child"]) == 0
    assert f"wrote {out / 'instruments' / 'tiny-reverse.yaml'}" in capsys.readouterr().out
    assert (out / "instruments" / "tiny-reverse.yaml").read_bytes() == TINY.read_bytes()
    assert not (out / "instruments" / "demo-child.yaml").exists()  # shipped: not copied
    # the new dataset knows its form: no "column belongs to no known instrument"
    assert main(["validate", str(out)]) == 0
    capsys.readouterr()


def test_a_broken_definition_is_reported_once_with_its_own_problems(no_env, tmp_path, capsys):
    data = a_dataset_using_tiny(tmp_path / "clinic")
    (data / "instruments").mkdir()
    text = TINY.read_text(encoding="utf-8").replace("quadrant: seeking", "quadrant: seekng", 1)
    (data / "instruments" / "tiny-reverse.yaml").write_text(text, encoding="utf-8")
    assert main(["validate", str(data)]) == 1
    out = capsys.readouterr().out
    # the definition's one problem, once, as `instruments check` words it
    assert out.count("seekng") == 1
    assert ("instruments/tiny-reverse.yaml: items[0].quadrant: 'seekng' is not one of "
            "seeking, avoiding, sensitivity, registration [noted]") in out
    # rows 2 and 3 belong to the same child (C0001 in the sample): one line names both
    assert out.count("does not load") == 1
    assert ("assessments.csv row 2, column instrument: value 'tiny-reverse': the definition "
            "of instrument tiny-reverse (instruments/tiny-reverse.yaml) does not load (1 "
            "problem(s), listed once); this questionnaire is left out until it is fixed "
            "(also rows 3) [dependent row rejected]") in out
    assert "assessments         11 =       9 +     2" in out
