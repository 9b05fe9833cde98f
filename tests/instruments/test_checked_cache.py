"""A definition is checked once per content: markers in the cache folder.

The check (JSON Schema and the cross-reference rules) runs when a text is
new; a text that passed is afterwards only parsed and built, without
importing ``jsonschema``. These tests change the content, damage or forge
the markers and take the cache away, and check the loader always gives the
result a full check would.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

from sensoryprofile.errors import InstrumentError
from sensoryprofile.instruments import check_instrument, load_instrument_file
from sensoryprofile.instruments import loader as L
from tests.paths import FIXTURES

TINY = FIXTURES / "tiny-reverse.yaml"
WARNS = FIXTURES / "checks" / "tiny-more.yaml"  # loads with one warning


@pytest.fixture
def cache(tmp_path, monkeypatch):
    """An empty cache folder of this test, and no markers remembered in memory."""
    folder = tmp_path / "cache"
    monkeypatch.setenv(L.CACHE_ENV, str(folder))
    monkeypatch.setattr(L, "_CHECKED", {})
    return folder


def markers(folder: Path) -> list[Path]:
    return sorted((folder / "checked-definitions").glob("*.json"))


def load_in_fresh_process(path: Path, folder: Path) -> dict:
    """Load ``path`` in a new interpreter; report what it imported."""
    code = ("import json, sys, warnings\n"
            "warnings.simplefilter('ignore')\n"
            "from sensoryprofile.instruments import load_instrument_file\n"
            f"inst = load_instrument_file({str(path)!r})\n"
            "print(json.dumps({'id': inst.id, 'jsonschema': 'jsonschema' in sys.modules}))\n")
    env = {**os.environ, L.CACHE_ENV: str(folder)}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                          check=True)
    return json.loads(done.stdout)


def test_a_passed_definition_is_not_checked_again_in_another_process(cache):
    first = load_in_fresh_process(TINY, cache)
    assert first == {"id": "tiny-reverse", "jsonschema": True}  # checked: the schema was needed
    assert len(markers(cache)) == 1
    # the marker is named by the SHA-256 of the checker and the text
    assert markers(cache)[0].stem == L.definition_key(TINY.read_text(encoding="utf-8"))
    second = load_in_fresh_process(TINY, cache)
    assert second == {"id": "tiny-reverse", "jsonschema": False}


def test_the_cached_load_builds_the_same_instrument(cache):
    checked = load_instrument_file(TINY)
    L._CHECKED.clear()  # forget the memory: read the marker from disk
    cached = load_instrument_file(TINY)
    assert cached == checked
    assert cached is not checked


def test_changed_content_is_checked_again(cache, tmp_path):
    path = tmp_path / "tiny-reverse.yaml"
    shutil.copy(TINY, path)
    load_instrument_file(path)
    # the same file, now with an item in a quadrant that does not exist
    text = path.read_text(encoding="utf-8")
    assert "quadrant: seeking" in text
    path.write_text(text.replace("quadrant: seeking", "quadrant: seekng", 1), encoding="utf-8")
    with pytest.raises(InstrumentError) as info:
        load_instrument_file(path)
    assert any("'seekng' is not one of seeking, avoiding, sensitivity, registration" in e
               for e in info.value.problems)
    assert len(markers(cache)) == 1  # a failed check leaves no marker


def test_warnings_are_given_again_under_the_file_s_own_name(cache, tmp_path):
    with pytest.warns(L.InstrumentWarning, match=r"^tiny-more.yaml: items\[3\]: item 'tm_4'"):
        load_instrument_file(WARNS)
    L._CHECKED.clear()
    renamed = tmp_path / "other-name.yaml"
    shutil.copy(WARNS, renamed)
    with pytest.warns(L.InstrumentWarning, match=r"^other-name.yaml: items\[3\]: item 'tm_4'"):
        load_instrument_file(renamed)


def test_a_forged_marker_does_not_let_a_broken_definition_through(cache, tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text("id: broken\nname: no items, no scores\n", encoding="utf-8")
    key = L.definition_key(path.read_text(encoding="utf-8"))
    marker = cache / "checked-definitions" / f"{key}.json"
    marker.parent.mkdir(parents=True)
    marker.write_text('{"warnings": []}', encoding="utf-8")
    with pytest.raises(InstrumentError) as info:
        load_instrument_file(path)
    assert "broken.yaml: (top level): missing required field 'items'" in info.value.problems
    # `instruments check` never trusts a marker
    assert not check_instrument(path, cache=False).ok


@pytest.mark.parametrize("content", ["", "not json", '{"warnings": 3}', "[]", '{"other": []}'])
def test_a_damaged_marker_means_checking_again(cache, content):
    key = L.definition_key(TINY.read_text(encoding="utf-8"))
    marker = cache / "checked-definitions" / f"{key}.json"
    marker.parent.mkdir(parents=True)
    marker.write_text(content, encoding="utf-8")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert load_instrument_file(TINY).id == "tiny-reverse"
    assert json.loads(marker.read_text(encoding="utf-8")) == {"warnings": []}  # rewritten


def test_a_cache_folder_that_cannot_be_written_only_costs_time(tmp_path, monkeypatch):
    blocked = tmp_path / "a-file"
    blocked.write_text("not a folder", encoding="utf-8")
    monkeypatch.setenv(L.CACHE_ENV, str(blocked))
    monkeypatch.setattr(L, "_CHECKED", {})
    assert load_instrument_file(TINY).id == "tiny-reverse"


def test_the_checker_s_code_is_part_of_the_key(cache, monkeypatch):
    text = TINY.read_text(encoding="utf-8")
    key = L.definition_key(text)
    monkeypatch.setattr(L, "_CHECKER", [b"another version of the rules"])
    assert L.definition_key(text) != key
