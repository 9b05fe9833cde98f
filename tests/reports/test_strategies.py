"""The strategy library (sensoryprofile/reports/strategies.py and the shipped
en.yaml, es.yaml): the files, the checker's messages (key and field of each
problem), a clinic's own file replacing or extending the shipped one, and
the choice of ideas for home, worked out by hand from the shipped files."""

from __future__ import annotations

import re

import pandas as pd
import pytest

from sensoryprofile import columns as C
from sensoryprofile.cli import main
from sensoryprofile.errors import MissingTranslationWarning, StrategyError, UsageError
from sensoryprofile.instruments.schema import QUADRANTS
from sensoryprofile.reports import strategies as S

N_SHIPPED = 44  # 21 pattern, 10 section, 10 domain and 3 general entries per language


def _scores(*rows) -> pd.DataFrame:
    """(score, kind, level) rows as the tidy score table holds them."""
    return pd.DataFrame({C.SCORE: [r[0] for r in rows], C.KIND: [r[1] for r in rows],
                         C.LEVEL: pd.array([r[2] for r in rows], dtype="Int8")})


def _ids(strategies) -> list[str]:
    return [s.id for s in strategies]


@pytest.fixture(scope="module")
def en():
    return S.shipped_library("en")


# ---------------------------------------------------------------------------
# the shipped files
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("lang", ["en", "es"])
def test_shipped_libraries_are_valid_and_complete(lang):
    result = S.check_strategies(S.shipped_path(lang))
    assert result.ok, result.errors
    library = result.library
    assert library.language == lang and len(library) == N_SHIPPED
    assert library.counts() == {"patterns": 21, "sections": 10, "domains": 10, "general": 3}
    # every quadrant has ideas above the typical range, and below it
    for quadrant in QUADRANTS:
        assert library.patterns[quadrant]["more"] and library.patterns[quadrant]["less"]
    # the sample clinic's goal domains all have their own ideas
    from sensoryprofile.synthetic.clinic import GOAL_DOMAINS

    assert set(GOAL_DOMAINS) == set(library.domains)


def test_english_and_spanish_hold_the_same_entries_in_the_same_places(en):
    es = S.shipped_library("es")
    where = {s.id: (s.key, s.domains, s.ages) for s in en.entries()}
    assert {s.id: (s.key, s.domains, s.ages) for s in es.entries()} == where
    # ... translated, not copied
    english = {s.id: s.how for s in en.entries()}
    assert all(s.how != english[s.id] for s in es.entries())


def test_shipped_ideas_are_our_own_words_and_plain(en):
    for s in en.entries():
        assert s.title and s.when and s.how
        assert len(s.how) <= S.TEXT_LIMITS["how"]
        # no instrument words in an idea for home
        assert not re.search(r"quadrant|percentile|sensory profile|seeker|avoider|bystander",
                             f"{s.title} {s.when} {s.how}", re.I), s.id


# ---------------------------------------------------------------------------
# checking a clinic's file
# ---------------------------------------------------------------------------
BAD = """\
format: 1
language: en
mode: replace
colour: blue
patterns:
  seekng:
    more: []
  seeking:
    loads: []
    more:
      - id: idea-a
        title: One
        when: Now
      - id: idea-a
        title: ""
        when: Now
        how: Do it
        shade: red
        ages: [10, 5]
domains:
  self-care:
    - {id: idea-b, title: T, when: W, how: H, domains: []}
general:
  - {id: g1, title: T, when: W, how: H}
"""


def test_check_names_the_key_and_field_of_every_problem(tmp_path):
    path = tmp_path / "ideas.yaml"
    path.write_text(BAD, encoding="utf-8")
    result = S.check_strategies(path)
    assert not result.ok and result.library is None
    assert result.errors == [
        "ideas.yaml: colour: unknown field; the fields are format, language, name, mode, "
        "description, patterns, sections, domains, general",
        "ideas.yaml: patterns.seekng: not a pattern; the patterns are seeking, avoiding, "
        "sensitivity, registration",
        "ideas.yaml: patterns.seeking.loads: not a level; the levels are much_less, less, more, "
        "much_more (the typical range needs no strategies)",
        "ideas.yaml: patterns.seeking.more[0].how: required field is missing",
        "ideas.yaml: patterns.seeking.more[1].shade: unknown field; the fields are id, title, "
        "when, how, domains, ages",
        "ideas.yaml: patterns.seeking.more[1].id: 'idea-a' is used twice (first at "
        "patterns.seeking.more[0])",
        "ideas.yaml: patterns.seeking.more[1].title: must be non-empty text, but '' was given",
        "ideas.yaml: patterns.seeking.more[1].ages: must be [youngest, oldest] in whole months, "
        "youngest first, but [10, 5] was given",
        "ideas.yaml: domains.self-care[0].domains: must be a non-empty list of goal domains",
    ]


def test_check_refuses_too_few_general_ideas_and_long_texts(tmp_path):
    path = tmp_path / "short.yaml"
    path.write_text("format: 1\nlanguage: en\ngeneral:\n  - {id: g1, title: T, when: W, how: H}\n",
                    encoding="utf-8")
    assert S.check_strategies(path).errors == [
        "short.yaml: general: a library that replaces the shipped one needs at least 3 general "
        "entries (so every child gets 3 ideas), but has 1"]
    path.write_text("format: 1\nlanguage: en\nmode: extend\ngeneral:\n"
                    f"  - {{id: g1, title: T, when: W, how: {'x' * 421}}}\n", encoding="utf-8")
    assert S.check_strategies(path).errors == [
        "short.yaml: general[0].how: is 421 characters; at most 420 fit the family report"]


def test_check_reports_broken_yaml_and_missing_files(tmp_path):
    path = tmp_path / "twice.yaml"
    path.write_text("format: 1\nlanguage: en\nlanguage: es\n", encoding="utf-8")
    assert S.check_strategies(path).errors == ["twice.yaml: line 3: key 'language' is given twice"]
    path.write_text("format: [1\n", encoding="utf-8")
    assert S.check_strategies(path).errors[0].startswith("twice.yaml: not valid YAML: line 2")
    assert S.check_strategies(tmp_path / "none.yaml").errors == [
        f"{tmp_path / 'none.yaml'}: no such file"]
    path.write_text("- a list\n", encoding="utf-8")
    assert S.check_strategies(path).errors == [
        "twice.yaml: (top level): a strategy library is a mapping with format, language and "
        "the strategies"]


def test_cli_strategies_check_exit_codes(tmp_path, capsys):
    bad = tmp_path / "ideas.yaml"
    bad.write_text(BAD, encoding="utf-8")
    assert main(["strategies", "check", str(bad)]) == 1
    out = capsys.readouterr().out
    assert "error: ideas.yaml: patterns.seeking.more[0].how: required field is missing" in out
    assert out.rstrip().endswith("ideas.yaml: invalid, 9 problem(s)")
    assert main(["strategies", "check", str(S.shipped_path("es"))]) == 0
    assert "es.yaml: valid (44 strategies in 'es': 21 patterns, 10 sections, 10 domains, 3 " \
           "general; mode replace)" in capsys.readouterr().out
    assert main(["strategies", "list"]) == 0
    out = capsys.readouterr().out
    assert "Languages of the family report (gettext catalogs): en, es" in out
    assert "strategies en: 44 (21 patterns, 10 sections, 10 domains, 3 general)" in out


# ---------------------------------------------------------------------------
# a clinic's own library
# ---------------------------------------------------------------------------
CLINIC = """\
format: 1
language: en
mode: {mode}
patterns:
  seeking:
    more:
      - {{id: clinic-trampoline, title: Trampoline time, when: After school., how: Ten minutes
          of jumping in the garden.}}
general:
  - {{id: clinic-walk, title: A daily walk, when: After dinner., how: Walk together.}}
  - {{id: clinic-song, title: A tidy-up song, when: At tidy-up time., how: Sing it.}}
  - {{id: gen-praise-effort, title: Our praise chart, when: Every day., how: Add a star.}}
"""


def test_a_clinic_file_replaces_the_shipped_library(tmp_path):
    path = tmp_path / "clinic.yaml"
    path.write_text(CLINIC.format(mode="replace"), encoding="utf-8")
    library = S.load_strategies("en", path)
    assert _ids(library.entries()) == ["clinic-trampoline", "clinic-walk", "clinic-song",
                                       "gen-praise-effort"]
    chosen = S.select_strategies(library, _scores(("seeking", "quadrant", 2)), ["self-care"])
    # seeking +2: much_more has none, so more; self-care has no clinic ideas; fill to three
    assert _ids(chosen) == ["clinic-trampoline", "clinic-walk", "clinic-song"]


def test_a_clinic_file_can_extend_the_shipped_library(tmp_path, en):
    path = tmp_path / "clinic.yaml"
    path.write_text(CLINIC.format(mode="extend"), encoding="utf-8")
    library = S.load_strategies("en", path)
    assert len(library) == N_SHIPPED + 3  # gen-praise-effort is replaced, not added
    assert _ids(library.patterns["seeking"]["more"])[:2] == ["clinic-trampoline",
                                                             "seek-move-first"]
    praise = [s for s in library.general if s.id == "gen-praise-effort"]
    assert [s.title for s in praise] == ["Our praise chart"]
    assert _ids(library.general) == ["clinic-walk", "clinic-song", "gen-praise-effort",
                                     "gen-steady-routine", "gen-one-idea"]


def test_a_clinic_file_in_another_language_is_refused(tmp_path):
    path = tmp_path / "clinic.yaml"
    path.write_text(CLINIC.format(mode="replace"), encoding="utf-8")
    with pytest.raises(StrategyError, match="language is 'en' but the report is in 'es'"):
        S.load_strategies("es", path)
    with pytest.raises(StrategyError, match="no such strategy file"):
        S.load_strategies("en", tmp_path / "missing.yaml")
    path.write_text(BAD, encoding="utf-8")
    with pytest.raises(StrategyError) as caught:
        S.load_strategies("en", path)
    assert len(caught.value.problems) == 9


def test_a_language_without_a_library_falls_back_to_english():
    with pytest.warns(MissingTranslationWarning, match="no strategy library for language 'fr'"):
        library = S.shipped_library("fr")
    assert library.language == "en" and len(library) == N_SHIPPED


# ---------------------------------------------------------------------------
# choosing (expected lists read off en.yaml by hand)
# ---------------------------------------------------------------------------
def test_one_pattern_much_more_than_others(en):
    # seeking +2: much_more (seek-daily-plan) first, then more in file order; no goals
    chosen = S.select_strategies(en, _scores(("seeking", "quadrant", 2)), [], age_months=100)
    assert _ids(chosen) == ["seek-daily-plan", "seek-move-first", "seek-heavy-jobs",
                            "seek-hold-something"]


def test_patterns_and_goals_alternate(en):
    # sensitivity +2 (strongest first), seeking -1; goals play/social then self-care.
    # sensitivity: sens-clothes and sens-warn-touch suit self-care, so they lead:
    #   [sens-clothes, sens-warn-touch, sens-quiet-after, sens-turn-down-noise]
    # seeking -1: [seek-less-invite, seek-less-new] (both suit play/social)
    # patterns in turn: sens-clothes, seek-less-invite, sens-warn-touch, ...
    # goals in turn: dom-play-turns, dom-selfcare-pictures, dom-play-join-in, ...
    scores = _scores(("seeking", "quadrant", -1), ("avoiding", "quadrant", 0),
                     ("sensitivity", "quadrant", 2), ("registration", "quadrant", 0))
    chosen = S.select_strategies(en, scores, ["play/social", "self-care"], age_months=110)
    assert _ids(chosen) == ["sens-clothes", "dom-play-turns", "seek-less-invite",
                            "dom-selfcare-pictures", "sens-warn-touch"]
    # the same rows in another order, and domains written differently: the same choice
    again = S.select_strategies(en, scores.iloc[::-1], [" Play/Social", "self-care"],
                                age_months=110)
    assert _ids(again) == _ids(chosen)


def test_two_children_with_different_patterns_get_different_ideas(en):
    seeker = S.select_strategies(en, _scores(("seeking", "quadrant", 2)), ["self-care"])
    sensitive = S.select_strategies(en, _scores(("sensitivity", "quadrant", 2)), ["self-care"])
    assert set(_ids(seeker)).isdisjoint(
        s for s in _ids(sensitive) if not s.startswith("dom-"))
    assert _ids(seeker)[0].startswith("seek-") and _ids(sensitive)[0].startswith("sens-")


def test_a_typical_toddler_gets_goal_and_general_ideas(en):
    # all typical; fine motor: dom-fine-good-seat is for 36 months and up, so only
    # dom-fine-small-things fits a 30-month-old; two general ideas make three
    scores = _scores(*[(q, "quadrant", 0) for q in QUADRANTS])
    chosen = S.select_strategies(en, scores, ["fine motor"], age_months=30)
    assert _ids(chosen) == ["dom-fine-small-things", "gen-steady-routine", "gen-praise-effort"]


def test_a_form_without_quadrants_uses_its_sections(en):
    # touch +2 (more: sec-touch-choice), auditory +1 (sec-auditory-plan), attention -1
    # (no 'less' entry); no goals, so one general idea makes three
    scores = _scores(("auditory", "section", 1), ("touch", "section", 2),
                     ("attention", "section", -1), ("oral", "section", pd.NA))
    chosen = S.select_strategies(en, scores, [])
    assert _ids(chosen) == ["sec-touch-choice", "sec-auditory-plan", "gen-steady-routine"]


def test_not_classified_scores_are_left_out_and_limits_hold(en):
    scores = _scores(("seeking", "quadrant", pd.NA), ("avoiding", "quadrant", 1))
    chosen = S.select_strategies(en, scores, ["sensory regulation"], maximum=3)
    # avoiding +1 looks in 'more', then 'much_more'; avoid-calm-corner and avoid-exit-plan
    # suit sensory regulation, so they lead; alternating with the domain's first idea
    assert _ids(chosen) == ["avoid-calm-corner", "dom-reg-feelings-meter", "avoid-exit-plan"]
    with pytest.raises(UsageError, match="missing: level"):
        S.select_strategies(en, scores.drop(columns=C.LEVEL))
    with pytest.raises(UsageError, match="1 <= minimum <= maximum"):
        S.select_strategies(en, scores, minimum=4, maximum=3)
