"""Languages (sensoryprofile/reports/i18n.py): the catalogs are complete and in
step with the code, dates and numbers follow the locale, and a missing
translation falls back to English with a warning, never a blank."""

from __future__ import annotations

import datetime as dt
import re
import shutil
import warnings

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from sensoryprofile.errors import MissingTranslationWarning, UsageError
from sensoryprofile.reports import i18n
from sensoryprofile.reports.i18n import Translator
from tests.paths import ROOT

PLACEHOLDER = re.compile(r"\{[a-z_]+\}")


def _code_messages() -> dict[str, str | tuple]:
    """Every message the package's code marks (what `make i18n` extracts)."""
    keywords = {"_": None, "N_": None, "gettext": None, "ngettext": (1, 2)}
    found = {}
    for _file, _line, message, _comments, _context in extract_from_dir(
            ROOT / "sensoryprofile", method_map=[("**.py", "python")], keywords=keywords):
        found[message if isinstance(message, str) else message[0]] = message
    return found


def _catalog(path):
    with open(path, "rb") as handle:
        return read_po(handle)


def test_languages_available():
    assert i18n.available_languages() == ["en", "es"]
    with pytest.raises(UsageError, match="no translation for language 'fr'; available: en, es"):
        Translator("fr")
    with pytest.raises(UsageError, match="must be a language code"):
        Translator("../es")


def test_template_is_in_step_with_the_code():
    code = _code_messages()
    template = {m.id if isinstance(m.id, str) else m.id[0] for m in
                _catalog(i18n.template_path()) if m.id}
    assert template == set(code), "run `make i18n` after changing a family-facing message"
    assert len(code) == 78


def test_spanish_is_complete():
    catalog = _catalog(i18n.catalog_path("es"))
    code = _code_messages()
    assert i18n.untranslated("es") == []
    for message in catalog:
        if not message.id:
            continue
        assert not message.fuzzy, message.id
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        assert all(strings), message.id
        # the same placeholders as the English (each used at least once), in every form
        for text in strings:
            assert set(PLACEHOLDER.findall(text)) == set(PLACEHOLDER.findall(ids[-1]))
    assert {m.id if isinstance(m.id, str) else m.id[0] for m in catalog if m.id} == set(code)


def test_dates_numbers_and_lists_follow_the_locale():
    es, en = Translator("es"), Translator("en")
    assert es.date(dt.date(2026, 3, 5)) == "5 de marzo de 2026"
    assert en.date(dt.date(2026, 3, 5)) == "March 5, 2026"
    assert es.number(1234.5) == "1.234,5" and en.number(1234.5) == "1,234.5"
    assert es.join(["1", "2", "3"]) == "1, 2 y 3" and en.join(["1", "2", "3"]) == "1, 2, and 3"
    assert es.gettext("Ideas for home") == "Ideas para casa"
    # plurals by the language's own rule (Spanish: one, many, other)
    one = es.ngettext("Goal {numbers} has been reached. What would you like to work on next?",
                      "Goals {numbers} have been reached. What would you like to work on next?",
                      1)
    two = es.ngettext("Goal {numbers} has been reached. What would you like to work on next?",
                      "Goals {numbers} have been reached. What would you like to work on next?",
                      2)
    assert one.startswith("El objetivo {numbers} se ha logrado")
    assert two.startswith("Los objetivos {numbers} se han logrado")


@pytest.fixture
def french(tmp_path, monkeypatch):
    """A French catalog that translates one message only (in a copy of the
    locale folder, never the package's)."""
    locale = tmp_path / "locale"
    shutil.copytree(i18n.LOCALE_DIR, locale)
    (locale / "fr" / "LC_MESSAGES").mkdir(parents=True)
    (locale / "fr" / "LC_MESSAGES" / "sensoryprofile.po").write_text(
        'msgid ""\nmsgstr ""\n"Language: fr\\n"\n"Content-Type: text/plain; charset=utf-8\\n"\n'
        '"Plural-Forms: nplurals=2; plural=(n > 1);\\n"\n\n'
        'msgid "Ideas for home"\nmsgstr "Idées pour la maison"\n\n'
        'msgid "The goals"\nmsgstr ""\n', encoding="utf-8")
    monkeypatch.setattr(i18n, "LOCALE_DIR", locale)
    i18n._compiled.cache_clear()
    yield "fr"
    i18n._compiled.cache_clear()


def test_a_missing_translation_is_english_with_a_warning(french):
    t = Translator(french)
    assert t.gettext("Ideas for home") == "Idées pour la maison"
    with pytest.warns(MissingTranslationWarning, match="no 'fr' translation for 'The goals'"):
        assert t.gettext("The goals") == "The goals"  # an empty msgstr is not a blank
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # warned once per message, not at every use
        assert t.gettext("The goals") == "The goals"
    assert t.missing == ["The goals"]
    assert len(i18n.untranslated(french)) == 77
    assert t.date(dt.date(2026, 3, 5)) == "5 mars 2026"


def test_a_family_report_in_a_half_translated_language_has_no_blanks(french, tmp_path):
    from sensoryprofile.data.dataset import load_dataset
    from sensoryprofile.reports.family import FamilyReport
    from tests.family_clinic import AS_OF, TODAY, write_family_clinic

    dataset = load_dataset(write_family_clinic(tmp_path / "clinic"), today=TODAY)
    with pytest.warns(MissingTranslationWarning) as caught:
        report = FamilyReport.build(dataset, "F1", as_of=AS_OF, lang=french)
    messages = [str(w.message) for w in caught]
    assert any("no strategy library for language 'fr'" in m for m in messages)
    assert report.headings["ideas"] == "Idées pour la maison"
    assert report.headings["goals"] == "The goals"
    assert "The goals" in report.missing_translations
    assert report.meta == "Report of 30 septembre 2024. Therapist: Ann."
    for line in report.plain_text().splitlines():
        assert line.strip(" .") != ""
    assert [s.id for s in report.strategies][0] == "seek-heavy-jobs"  # the English library
