"""Family-facing text in the family's language: gettext, with Babel.

Every string a family reads is written in English in the code, marked
``_("...")`` where it is used or :func:`N_` where it is defined ahead of use,
and looked up in a gettext catalog of the chosen language. The catalogs are
the ``.po`` files under ``reports/locale/<lang>/LC_MESSAGES/sensoryprofile.po``
(``locale/sensoryprofile.pot`` is the template, extracted from the code with
``make i18n``). They are compiled in memory when first used
(:func:`babel.messages.pofile.read_po`, :func:`babel.messages.mofile.write_mo`,
:class:`gettext.GNUTranslations`), so no binary ``.mo`` file is committed
or written anywhere.

A message without a translation (absent, empty or marked fuzzy) is shown in
English, with a :class:`~sensoryprofile.errors.MissingTranslationWarning`:
never a blank. Dates and numbers follow the language's locale (Babel's CLDR
data): ``Translator("es").date(...)`` gives "5 de marzo de 2026".

Adding a language: docs/family-report.md.
"""

from __future__ import annotations

import datetime as dt
import gettext
import io
import re
import warnings
from functools import lru_cache
from pathlib import Path

import pandas as pd

from sensoryprofile.errors import MissingTranslationWarning, UsageError

LOCALE_DIR = Path(__file__).resolve().parent / "locale"
DOMAIN = "sensoryprofile"
#: The language the messages are written in (needs no catalog).
SOURCE_LANGUAGE = "en"
LANGUAGE_PATTERN = re.compile(r"^[a-z]{2,3}(_[A-Z]{2})?$")


def N_(message: str) -> str:
    """Mark a message for extraction without translating it yet (a table of
    texts defined ahead of use; translate it with :meth:`Translator.gettext`)."""
    return message


def catalog_path(lang: str) -> Path:
    return LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


def available_languages() -> list[str]:
    """English and every language with a catalog, sorted."""
    found = {p.parent.parent.name for p in LOCALE_DIR.glob(f"*/LC_MESSAGES/{DOMAIN}.po")}
    return sorted(found | {SOURCE_LANGUAGE})


def check_language(lang: str) -> str:
    """``lang`` if there is a catalog for it; :class:`UsageError` otherwise."""
    if not isinstance(lang, str) or not LANGUAGE_PATTERN.match(lang):
        raise UsageError(f"`lang` must be a language code such as 'en' or 'es', but {lang!r} "
                         "was passed")
    languages = available_languages()
    if lang not in languages:
        raise UsageError(f"no translation for language {lang!r}; available: "
                         f"{', '.join(languages)} (docs/family-report.md says how to add one)")
    return lang


@lru_cache(maxsize=8)
def _compiled(lang: str) -> tuple[gettext.NullTranslations, frozenset[str]]:
    """The language's translations, and the message ids it translates."""
    if lang == SOURCE_LANGUAGE:
        return gettext.NullTranslations(), frozenset()
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    with open(catalog_path(lang), "rb") as handle:
        catalog = read_po(handle, locale=lang, domain=DOMAIN)
    buffer = io.BytesIO()
    write_mo(buffer, catalog, use_fuzzy=False)
    buffer.seek(0)
    translated = frozenset(
        m.id if isinstance(m.id, str) else m.id[0] for m in catalog
        if m.id and not m.fuzzy and (all(m.string) if isinstance(m.string, (list, tuple))
                                     else bool(m.string)))
    return gettext.GNUTranslations(buffer), translated


def missing_messages(lang: str, messages) -> list[str]:
    """The messages of ``messages`` (ids) that ``lang`` does not translate."""
    check_language(lang)
    if lang == SOURCE_LANGUAGE:
        return []
    _, translated = _compiled(lang)
    return [m for m in messages if m not in translated]


def template_path() -> Path:
    return LOCALE_DIR / f"{DOMAIN}.pot"


@lru_cache(maxsize=1)
def template_messages() -> tuple[str, ...]:
    """Every message id of the template (``locale/sensoryprofile.pot``)."""
    from babel.messages.pofile import read_po

    with open(template_path(), "rb") as handle:
        template = read_po(handle, domain=DOMAIN)
    return tuple(m.id if isinstance(m.id, str) else m.id[0] for m in template if m.id)


def untranslated(lang: str) -> list[str]:
    """The template's messages that ``lang`` does not translate (shown in English)."""
    return missing_messages(lang, template_messages())


class Translator:
    """Messages, dates and numbers in one language.

    >>> Translator("es").gettext("Ideas for home")
    'Ideas para casa'
    >>> Translator("es").date(dt.date(2026, 3, 5))
    '5 de marzo de 2026'
    >>> Translator("en").date(dt.date(2026, 3, 5))
    'March 5, 2026'
    """

    def __init__(self, lang: str = SOURCE_LANGUAGE):
        self.lang = check_language(lang)
        self._translations, self._translated = _compiled(self.lang)
        self.missing: list[str] = []

    def _note_missing(self, message: str) -> None:
        if (self.lang != SOURCE_LANGUAGE and message not in self._translated
                and message not in self.missing):
            self.missing.append(message)
            warnings.warn(MissingTranslationWarning(
                f"no {self.lang!r} translation for {message!r}: shown in English"),
                stacklevel=3)

    def gettext(self, message: str) -> str:
        """``message`` in this language (English, with a warning, if untranslated)."""
        self._note_missing(message)
        return self._translations.gettext(message) or message

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        """The singular or plural form for ``n``, in this language."""
        self._note_missing(singular)
        return self._translations.ngettext(singular, plural, n) or (
            singular if n == 1 else plural)

    def date(self, value) -> str:
        """A date in words, in the locale's long format."""
        from babel.dates import format_date

        if value is None or pd.isna(value):
            return ""
        value = pd.Timestamp(value).date() if not isinstance(value, dt.date) else value
        return format_date(value, format="long", locale=self.lang)

    def number(self, value) -> str:
        """A number in the locale's way of writing it."""
        from babel.numbers import format_decimal

        return format_decimal(value, locale=self.lang)

    def join(self, items) -> str:
        """'a, b and c' in the locale's words ('a, b y c')."""
        from babel.lists import format_list

        items = [str(i) for i in items]
        return format_list(items, locale=self.lang) if items else ""


def sentence(text: str) -> str:
    """``text`` with its first letter in upper case (a name or phrase that
    starts a sentence)."""
    return text[:1].upper() + text[1:]


__all__ = ["DOMAIN", "LOCALE_DIR", "N_", "SOURCE_LANGUAGE", "Translator", "available_languages",
           "catalog_path", "check_language", "missing_messages", "sentence", "template_messages",
           "untranslated"]
