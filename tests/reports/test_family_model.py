"""The family report model (sensoryprofile/reports/family.py), without a
notebook: the words for each pattern, the goals, the ideas for home, the
questions for the next visit and the therapist's note, on the tiny clinic of
tests/family_clinic.py (every value worked out there); then plain language
on the whole sample clinic: a reading grade of 7 or below and no statistics
terms, in English and Spanish."""

from __future__ import annotations

import re

import pandas as pd
import pytest
import textstat

from sensoryprofile import columns as C
from sensoryprofile.data.dataset import load_dataset, load_dataset_cached
from sensoryprofile.errors import UsageError
from sensoryprofile.reports import family as F
from sensoryprofile.reports.family import FamilyReport, form_topic, ideas_count
from sensoryprofile.reports.strategies import shipped_library
from tests.family_clinic import AS_OF, TODAY, write_family_clinic
from tests.paths import SAMPLE

SAMPLE_AS_OF = "2026-10-31"
MAX_GRADE = 7
#: Statistics a family report must never show, in English and Spanish.
STATISTICS = re.compile(
    r"\b(percentiles?|percentil(es)?|z|z-scores?|rci|reliable change|t-scores?|t score|"
    r"puntuaci[oó]n t|standard deviations?|desviaci[oó]n (t[ií]pica|est[aá]ndar)|sd|"
    r"norms?|baremos?|significan(t|ce|cia))\b", re.I)


@pytest.fixture(scope="module")
def clinic(tmp_path_factory):
    data = load_dataset(write_family_clinic(tmp_path_factory.mktemp("family")), today=TODAY)
    assert data.report.ok, data.report.format_text()
    return data


def _ids(report) -> list[str]:
    return [s.id for s in report.strategies]


# ---------------------------------------------------------------------------
# one child, by hand
# ---------------------------------------------------------------------------
def test_what_we_learned_in_everyday_words(clinic):
    report = FamilyReport.build(clinic, "F1", as_of=AS_OF)
    assert report.title == "Alice Zed: a report for the family"
    assert report.meta == "Report of September 30, 2024. Therapist: Ann."
    assert report.learned_intro.startswith("On July 15, 2024, you answered questions about how "
                                           "Alice Zed reacts to everyday sounds")
    # seeking +2, avoiding +2, registration -2, in the quadrants' order; sensitivity typical
    assert [(p.score, p.level, p.heading) for p in report.learned] == [
        ("seeking", 2, "Looking for sensations: much more than most children"),
        ("avoiding", 2, "Keeping away from sensations: much more than most children"),
        ("registration", -2, "Missing everyday signals: much less than most children")]
    assert report.learned[2].text == ("Alice Zed quickly notices what is going on nearby, like "
                                      "a name being called or a change in the room.")
    assert report.typical == ("In noticing small details, Alice Zed is like most children of "
                              "the same age.")


def test_a_teachers_form_and_three_typical_patterns(clinic):
    report = FamilyReport.build(clinic, "F2", as_of=AS_OF)
    assert report.learned_intro.startswith("On July 15, 2024, Bruno Yarrow's teacher answered")
    assert [(p.score, p.level) for p in report.learned] == [("sensitivity", 2)]
    assert report.typical == ("In looking for sensations, keeping away from sensations, and "
                              "missing everyday signals, Bruno Yarrow is like most children of "
                              "the same age.")


def test_goals_where_they_started_and_where_they_are(clinic):
    report = FamilyReport.build(clinic, "F1", as_of=AS_OF)
    one, two = report.goals
    assert (one.description, one.start, one.start_detail, one.now, one.now_detail) == (
        "Will put on socks alone", "part of the way", "Puts one sock on with help",
        "beyond the goal", "Puts on socks and shoes alone")
    assert (two.start, two.start_detail, two.now, two.now_detail) == (
        "not yet", None, "goal reached", None)
    assert report.goal_chart.to_dict("list") == {
        C.LABEL: ["Goal 1", "Goal 2"], C.BASELINE_LEVEL: [-1, -2], C.LATEST_LEVEL: [1, 0]}
    assert report.chart_text["level_text"] == {-2: "not yet", -1: "part of the way",
                                               0: "goal reached", 1: "beyond the goal",
                                               2: "well beyond the goal"}
    # as of 2024-05-31 only the April review counts: G1 -1 (as at the start), G2 -2
    earlier = FamilyReport.build(clinic, "F1", as_of="2024-05-31")
    assert [g.now for g in earlier.goals] == ["part of the way, the same as at the start",
                                              "not yet, the same as at the start"]
    assert earlier.goal_chart[C.LATEST_LEVEL].tolist() == [-1, -2]


def test_ideas_for_home_follow_the_pattern_and_the_goals(clinic):
    first = FamilyReport.build(clinic, "F1", as_of=AS_OF)
    second = FamilyReport.build(clinic, "F2", as_of=AS_OF)
    # F1: seeking +2, avoiding +2, registration -2; goals self-care, play/social.
    # seeking: seek-heavy-jobs (suits self-care) leads; avoiding: avoid-exit-plan (suits
    # play/social) leads; goals: dom-selfcare-pictures, dom-play-turns. Three patterns
    # outside the typical range leave room for four ideas.
    assert ideas_count(2, 3) == 4
    assert _ids(first) == ["seek-heavy-jobs", "dom-selfcare-pictures", "avoid-exit-plan",
                           "dom-play-turns"]
    # F2: sensitivity +2; goal school participation: sens-turn-down-noise suits it
    assert _ids(second) == ["sens-turn-down-noise", "dom-school-share", "sens-quiet-after",
                            "dom-school-night-before", "sens-clothes"]
    assert not set(_ids(first)) & set(_ids(second))
    assert first.ideas_intro.endswith("We chose them for Alice Zed's patterns and goals.")


def test_ideas_count_keeps_two_pages():
    assert [ideas_count(g, p) for g, p in [(0, 0), (3, 2), (4, 0), (2, 3), (5, 4)]] == [
        5, 5, 4, 4, 3]


def test_a_clinic_strategy_file_replaces_the_shipped_ideas(clinic, tmp_path):
    path = tmp_path / "ours.yaml"
    path.write_text(
        "format: 1\nlanguage: en\ngeneral:\n"
        "  - {id: our-walk, title: A walk, when: After dinner., how: Walk together.}\n"
        "  - {id: our-song, title: A song, when: At tidy-up., how: Sing it.}\n"
        "  - {id: our-book, title: A book, when: At bedtime., how: Read it.}\n",
        encoding="utf-8")
    report = FamilyReport.build(clinic, "F1", as_of=AS_OF, strategies=path)
    assert _ids(report) == ["our-walk", "our-song", "our-book"]


def test_questions_for_the_next_visit(clinic):
    first = FamilyReport.build(clinic, "F1", as_of=AS_OF)
    assert first.next_visit == [
        "Which idea for home did you try? What helped, and what did not?",
        "When does Alice Zed look for the most movement or noise? What happens just before?",
        "Goals 1 and 2 have been reached. What would you like to work on next?"]
    # G3: rated -1 on 2024-07-20, target 2024-06-01, never met: past its date
    second = FamilyReport.build(clinic, "F2", as_of=AS_OF)
    assert second.next_visit[-1] == ("Goal 1 is past its planned date. Ask us if the plan "
                                     "should change.")


def test_the_note_is_the_latest_reviews_and_inert(clinic, tmp_path):
    assert FamilyReport.build(clinic, "F1", as_of=AS_OF).note == ["Great progress this term."]
    assert FamilyReport.build(clinic, "F1", as_of="2024-05-31").note == [
        "Keep practising the sock game at home."]
    assert FamilyReport.build(clinic, "F1", as_of="2024-03-31").note == []
    second = FamilyReport.build(clinic, "F2", as_of=AS_OF)
    assert second.note == [] and second.note_html() == ""
    # free text is shown as text, never as markup
    data = load_dataset(write_family_clinic(tmp_path / "c", long_note="<b>Well done</b> & more"),
                        today=TODAY)
    report = FamilyReport.build(data, "F1", as_of=AS_OF)
    assert "&lt;b&gt;Well done&lt;/b&gt; &amp; more" in report.note_html()
    assert "<b>" not in report.note_html()


def test_a_child_with_nothing_yet(clinic):
    report = FamilyReport.build(clinic, "F3", as_of=AS_OF)
    assert report.title == "A report for the family"
    assert report.meta == "Report of September 30, 2024."
    assert report.learned == [] and report.typical is None and report.goals == []
    assert report.learned_intro.startswith("No questionnaire has been filled in yet.")
    assert report.goals_intro == "No goals have been set yet. We will agree on them together."
    assert report.goal_chart.empty
    assert _ids(report) == ["gen-steady-routine", "gen-praise-effort", "gen-one-idea"]
    assert report.ideas_intro.endswith("Many families find them helpful.")
    # the child's name stands in as "your child", capitalised when it starts a sentence
    assert report.next_visit == ["Which idea for home did you try? What helped, and what did "
                                 "not?"]
    assert report.footer == ["Questions about this report? Ask us at any visit."]


def test_a_form_without_quadrants_speaks_of_its_sections(clinic):
    report = FamilyReport.build(clinic, "F4", as_of=AS_OF)
    assert [(p.score, p.level, p.heading) for p in report.learned] == [
        ("auditory", 2, "Hearing and sounds: much more than most children"),
        ("bedtime", -1, "Bedtime: less than most children")]
    assert report.learned[1].text == ("In bedtime, Cleo Xu shows the behaviours the questions "
                                      "ask about less often than most children.")
    assert _ids(report) == ["sec-auditory-plan", "gen-steady-routine", "gen-praise-effort"]
    assert report.next_visit[1] == ("Write down one moment this month when hearing and sounds "
                                    "made the day harder or easier.")
    assert form_topic("ADL routines") == "ADL routines"


def test_the_report_in_spanish(clinic):
    report = FamilyReport.build(clinic, "F1", as_of=AS_OF, lang="es")
    assert report.missing_translations == []
    assert report.title == "Informe para la familia de Alice Zed"
    assert report.meta == "Informe del 30 de septiembre de 2024. Terapeuta: Ann."
    assert report.headings == {"learned": "Lo que hemos aprendido", "goals": "Los objetivos",
                               "ideas": "Ideas para casa", "next_visit": "Para la próxima visita",
                               "note": "Una nota de su terapeuta"}
    assert report.learned[0].heading == "Buscar sensaciones: mucho más que la mayoría de los niños"
    assert report.typical == ("En cuanto a notar los pequeños detalles, Alice Zed es como la "
                              "mayoría de los niños de su edad.")
    assert report.goals[0].now == "más allá del objetivo"
    assert report.next_visit[-1] == ("Los objetivos 1 y 2 se han logrado. ¿En qué le gustaría "
                                     "trabajar ahora?")
    # the same ideas (same ids), in Spanish
    assert _ids(report) == _ids(FamilyReport.build(clinic, "F1", as_of=AS_OF))
    assert report.strategies[0].title == "Tareas de fuerza en casa"
    assert report.chart_text["start_text"] == "Al principio"
    nameless = FamilyReport.build(clinic, "F3", as_of=AS_OF, lang="es")
    assert nameless.ideas_intro == ("Elija una o dos ideas para probar este mes. A muchas "
                                    "familias les resultan útiles.")


def test_html_is_inert_and_headings_are_checked(clinic, tmp_path):
    folder = write_family_clinic(tmp_path / "markup")
    goals = pd.read_csv(folder / "goals.csv")
    goals.loc[0, C.DESCRIPTION] = "Will <script>alert(1)</script> put on socks"
    goals.to_csv(folder / "goals.csv", index=False)
    report = FamilyReport.build(load_dataset(folder, today=TODAY), "F1", as_of=AS_OF)
    page = report.goals_html()
    assert "<script>" not in page and "&lt;script&gt;" in page
    assert report.heading_html("ideas") == "<h2>Ideas for home</h2>"
    with pytest.raises(UsageError, match="`key` must be one of"):
        report.heading_html("percentiles")
    with pytest.raises(UsageError, match="must be 1 to 64 letters"):
        FamilyReport.build(clinic, "../F1")
    with pytest.raises(UsageError, match="no translation for language 'de'"):
        FamilyReport.build(clinic, "F1", lang="de")


# ---------------------------------------------------------------------------
# plain language on the whole sample clinic
# ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def sample_reports():
    data = load_dataset_cached(SAMPLE)
    libraries = {lang: shipped_library(lang) for lang in ("en", "es")}
    return {(cid, lang): FamilyReport.build(data, cid, as_of=SAMPLE_AS_OF, lang=lang,
                                            strategies=libraries[lang])
            for cid in data.children[C.CHILD_ID] for lang in ("en", "es")}


def _everything(report) -> str:
    """All a family reads: the text, and the chart's words."""
    chart = report.chart_text
    return "\n".join([report.plain_text(), *chart["level_text"].values(), chart["start_text"],
                      chart["now_text"], chart["not_rated_text"], chart["empty_text"],
                      *report.goal_chart[C.LABEL]])


def test_no_statistics_terms_in_any_family_report(sample_reports):
    assert len(sample_reports) == 120
    for key, report in sample_reports.items():
        found = STATISTICS.findall(_everything(report))
        assert not found, (key, found)
        assert not re.search(r"\d+(\.\d+)?\s*%", _everything(report)), key  # no percentages


def test_statistics_check_would_catch_them():
    for text in ("the 93rd percentile", "z = 2.1", "RCI 2.3", "a T-score of 55",
                 "1 standard deviation", "percentil 90", "desviación típica",
                 "puntuación T de 55"):
        assert STATISTICS.search(text), text


def test_english_reading_grade_is_seven_or_below(sample_reports):
    grades = {cid: textstat.flesch_kincaid_grade(report.plain_text())
              for (cid, lang), report in sample_reports.items() if lang == "en"}
    assert len(grades) == 60
    worst = max(grades, key=grades.get)
    assert grades[worst] <= MAX_GRADE, (worst, grades[worst])
    # the sample reports read at about grade 2-4 (Flesch-Kincaid); the check
    # is not vacuous: a sentence of the clinical report scores far higher
    clinical = ("Sensory seeking: Much More Than Others. Since the assessment on 15 January "
                "2024 this has moved toward the typical range, but by no more than measurement "
                "error could explain (not a reliable change).")
    assert textstat.flesch_kincaid_grade(clinical) > MAX_GRADE


def test_every_family_message_and_idea_reads_at_grade_seven_or_below():
    """Also the sentences no sample child shows (each pattern, each idea)."""
    messages = [*F.PATTERN_SENTENCES.values(), *F.WATCH_FOR.values(), F.SECTION_MORE,
                F.SECTION_LESS, F.WATCH_SECTION]
    assert textstat.flesch_kincaid_grade(" ".join(messages).format(name="Sam", topic="touch")) \
        <= MAX_GRADE
    ideas = " ".join(f"{s.title}. {s.when} {s.how}" for s in shipped_library("en").entries())
    assert textstat.flesch_kincaid_grade(ideas) <= MAX_GRADE


def test_compact_steps_shorten_a_long_report(clinic):
    from sensoryprofile.reports import render

    assert render.FAMILY_MAX_COMPACT == F.MAX_COMPACT == len(F.COMPACT_STEPS) == 5
    full = FamilyReport.build(clinic, "F1", as_of=AS_OF)
    steps = [FamilyReport.build(clinic, "F1", as_of=AS_OF, compact=k) for k in range(1, 6)]
    assert full.goals[0].start_detail == "Puts one sock on with help"
    assert steps[0].goals[0].start_detail is None
    assert steps[0].goals[0].now_detail == "Puts on socks and shoes alone"
    assert steps[1].goals[0].now_detail is None
    assert len(full.strategies) == 4 and len(steps[2].strategies) == 3
    # step 4: 11pt print type (11 * 96 / 72 = 14.7px, above the 14px floor), lower chart
    assert "font-size: 11pt" in steps[3].header_html() and "11pt" not in full.header_html()
    assert steps[3].chart_size() == (8.0, 1.6 + 0.4 * 2) and full.chart_size() == (8.0, 2.6)
    assert F.shorten("Will put on socks and shoes alone", 20) == "Will put on socks…"
    assert steps[4].goals[0].description == "Will put on socks alone"  # short ones stay whole
    with pytest.raises(UsageError, match="`compact` must be 0 to 5"):
        FamilyReport.build(clinic, "F1", as_of=AS_OF, compact=6)
