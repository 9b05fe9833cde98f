"""The strategy library: ideas for home, chosen for a child's pattern and goals.

The library is data: one YAML file per language in ``reports/strategies/``
(``en.yaml``, ``es.yaml``), written for this project (nothing is taken from a
published instrument's manual). A clinic can replace it, or extend it, with
its own file (``--strategies FILE``); ``sensoryprofile strategies check FILE``
lists every problem of such a file with the key and field it is in, e.g.::

    my-ideas.yaml: patterns.seeking.more[1].how: required field is missing

The format (docs/family-report.md describes it for clinics)::

    format: 1
    language: en            # the language the texts are written in
    mode: replace           # or extend: add to the shipped library of the language
    patterns:               # keyed by quadrant, then level
      seeking:
        more:               # much_less, less, more or much_more
          - id: seek-move-first
            title: Move first, then sit
            when: Before homework, meals or a long car ride.
            how: Five minutes of jumping or pushing first, then the sitting task.
            domains: [school participation]   # optional: goal areas it suits best
            ages: [36, 179]                   # optional: ages in months it suits
    sections:               # keyed by a form's section id, then level (forms
      auditory:             # without quadrants, and filling up)
        more: [...]
    domains:                # keyed by goal domain (the goals table's `domain`)
      self-care: [...]
    general: [...]          # for any child; a replacing file needs at least three

:func:`select_strategies` is the choice itself: a pure function of the
library, the child's scores (pattern and level), goal domains and age.
"""

from __future__ import annotations

import itertools
import warnings
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from sensoryprofile import columns as C
from sensoryprofile.errors import InstrumentError, MissingTranslationWarning, StrategyError
from sensoryprofile.ids import ID_PATTERN
from sensoryprofile.instruments.schema import QUADRANTS
from sensoryprofile.reports.i18n import LANGUAGE_PATTERN, SOURCE_LANGUAGE

STRATEGY_DIR = Path(__file__).resolve().parent / "strategies"
FORMAT = 1
#: The levels a strategy can be keyed to (the typical range needs none).
STRATEGY_LEVELS = ("much_less", "less", "more", "much_more")
#: Where to look for a level's strategies, in order: its own, then its neighbour.
LEVEL_LOOKUP = {2: ("much_more", "more"), 1: ("more", "much_more"),
                -1: ("less", "much_less"), -2: ("much_less", "less")}
MODES = ("replace", "extend")
TOP_FIELDS = ("format", "language", "name", "mode", "description", "patterns", "sections",
              "domains", "general")
ENTRY_FIELDS = ("id", "title", "when", "how", "domains", "ages")
TEXT_LIMITS = {"title": 80, "when": 160, "how": 420}
#: A replacing library needs this many general entries: every child gets at least three.
MIN_GENERAL = 3
DEFAULT_MINIMUM, DEFAULT_MAXIMUM = 3, 5


@dataclass(frozen=True)
class Strategy:
    """One idea for home: what to do (``title``), when and how."""

    id: str
    title: str
    when: str
    how: str
    domains: tuple[str, ...] = ()
    ages: tuple[int, int] | None = None
    key: str = ""  # where it is in its file, e.g. "patterns.seeking.more[0]"

    def suits_age(self, age_months) -> bool:
        if self.ages is None or age_months is None or pd.isna(age_months):
            return True
        return self.ages[0] <= age_months <= self.ages[1]


@dataclass
class StrategyLibrary:
    """A language's strategies, by pattern, section, goal domain and general."""

    language: str
    patterns: dict[str, dict[str, tuple[Strategy, ...]]] = field(default_factory=dict)
    sections: dict[str, dict[str, tuple[Strategy, ...]]] = field(default_factory=dict)
    domains: dict[str, tuple[Strategy, ...]] = field(default_factory=dict)
    general: tuple[Strategy, ...] = ()
    mode: str = "replace"
    source: str = "<library>"

    def entries(self) -> Iterator[Strategy]:
        for table in (self.patterns, self.sections):
            for levels in table.values():
                for entries in levels.values():
                    yield from entries
        for entries in self.domains.values():
            yield from entries
        yield from self.general

    def __len__(self) -> int:
        return sum(1 for _ in self.entries())

    def counts(self) -> dict[str, int]:
        """Entries per part of the library (patterns, sections, domains, general)."""
        def count(table):
            return sum(len(e) for levels in table.values() for e in levels.values())
        return {"patterns": count(self.patterns), "sections": count(self.sections),
                "domains": sum(len(e) for e in self.domains.values()),
                "general": len(self.general)}


@dataclass
class StrategyCheck:
    """What :func:`check_strategies` found: errors stop loading, warnings do not."""

    source: str
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    library: StrategyLibrary | None = None

    @property
    def ok(self) -> bool:
        return not self.errors


# ---------------------------------------------------------------------------
# checking a file
# ---------------------------------------------------------------------------
def _domain_key(text: str) -> str:
    return " ".join(str(text).split()).casefold()


def check_library(data: object, source: str = "<library>") -> StrategyCheck:
    """Check a library already read from YAML; every problem with its key path."""
    import re

    from sensoryprofile.instruments.loader import format_path

    result = StrategyCheck(source=source)
    id_pattern = re.compile(ID_PATTERN)

    def err(path, message):
        result.errors.append(f"{source}: {format_path(path)}: {message}")

    def text(value, path, *, limit=None, name="text"):
        if not isinstance(value, str) or not value.strip():
            err(path, f"must be non-empty {name}, but {value!r} was given")
            return None
        if limit is not None and len(value) > limit:
            err(path, f"is {len(value)} characters; at most {limit} fit the family report")
            return None
        return " ".join(value.split())

    if not isinstance(data, dict):
        err([], "a strategy library is a mapping with format, language and the strategies")
        return result
    for key in data:
        if key not in TOP_FIELDS:
            err([key], f"unknown field; the fields are {', '.join(TOP_FIELDS)}")
    if data.get("format") != FORMAT:
        err(["format"], f"must be {FORMAT}, but {data.get('format')!r} was given")
    language = data.get("language")
    if not isinstance(language, str) or not LANGUAGE_PATTERN.match(language):
        err(["language"], f"must be a language code such as 'en' or 'es', but {language!r} was "
            "given")
    mode = data.get("mode", "replace")
    if mode not in MODES:
        err(["mode"], f"must be one of {', '.join(MODES)}, but {mode!r} was given")
    for key in ("name", "description"):
        if key in data:
            text(data[key], [key])

    seen: dict[str, str] = {}

    def entry(value, path) -> Strategy | None:
        if not isinstance(value, dict):
            err(path, "an entry is a mapping with id, title, when and how")
            return None
        for key in value:
            if key not in ENTRY_FIELDS:
                err([*path, key], f"unknown field; the fields are {', '.join(ENTRY_FIELDS)}")
        ok = True
        for key in ("id", "title", "when", "how"):
            if key not in value:
                err([*path, key], "required field is missing")
                ok = False
        sid = value.get("id")
        if "id" in value:
            if not isinstance(sid, str) or not id_pattern.match(sid):
                err([*path, "id"], f"{sid!r} is not an id: 1 to 64 letters, digits, '_' or '-'")
                ok = False
            elif sid in seen:
                err([*path, "id"], f"{sid!r} is used twice (first at {seen[sid]})")
                ok = False
            else:
                seen[sid] = format_path(path)
        texts = {k: text(value[k], [*path, k], limit=TEXT_LIMITS[k]) for k in TEXT_LIMITS
                 if k in value}
        ok = ok and all(v is not None for v in texts.values())
        domains: tuple[str, ...] = ()
        if "domains" in value:
            raw = value["domains"]
            if not isinstance(raw, list) or not raw:
                err([*path, "domains"], "must be a non-empty list of goal domains")
                ok = False
            else:
                cleaned = [text(d, [*path, "domains", k], name="a goal domain")
                           for k, d in enumerate(raw)]
                ok = ok and all(c is not None for c in cleaned)
                domains = tuple(c for c in cleaned if c is not None)
        ages = None
        if "ages" in value:
            raw = value["ages"]
            if (not isinstance(raw, list) or len(raw) != 2
                    or not all(isinstance(a, int) and not isinstance(a, bool) and a >= 0
                               for a in raw) or raw[0] > raw[1]):
                err([*path, "ages"], f"must be [youngest, oldest] in whole months, youngest "
                    f"first, but {raw!r} was given")
                ok = False
            else:
                ages = (raw[0], raw[1])
        if not ok:
            return None
        return Strategy(id=sid, title=texts["title"], when=texts["when"], how=texts["how"],
                        domains=domains, ages=ages, key=format_path(path))

    def entry_list(value, path) -> tuple[Strategy, ...]:
        if not isinstance(value, list):
            err(path, "must be a list of entries")
            return ()
        built = [entry(v, [*path, k]) for k, v in enumerate(value)]
        return tuple(b for b in built if b is not None)

    def by_level(value, path) -> dict[str, tuple[Strategy, ...]]:
        if not isinstance(value, dict):
            err(path, f"must be a mapping of levels ({', '.join(STRATEGY_LEVELS)}) to entries")
            return {}
        out = {}
        for level, entries in value.items():
            if level not in STRATEGY_LEVELS:
                err([*path, level], f"not a level; the levels are {', '.join(STRATEGY_LEVELS)} "
                    "(the typical range needs no strategies)")
                continue
            out[level] = entry_list(entries, [*path, level])
        return out

    def keyed(name, check_key) -> dict:
        value = data.get(name, {})
        if value is None:
            return {}
        if not isinstance(value, dict):
            err([name], "must be a mapping")
            return {}
        out = {}
        for key, levels in value.items():
            problem = check_key(key)
            if problem:
                err([name, key], problem)
                continue
            out[key] = by_level(levels, [name, key])
        return out

    patterns = keyed("patterns", lambda k: None if k in QUADRANTS else
                     f"not a pattern; the patterns are {', '.join(QUADRANTS)}")
    sections = keyed("sections", lambda k: None if isinstance(k, str) and id_pattern.match(k)
                     else f"{k!r} is not a section id (the id in the form's definition file)")
    domains: dict[str, tuple[Strategy, ...]] = {}
    raw_domains = data.get("domains", {}) or {}
    if not isinstance(raw_domains, dict):
        err(["domains"], "must be a mapping of goal domains to entries")
    else:
        for key, entries in raw_domains.items():
            if not isinstance(key, str) or not key.strip():
                err(["domains", key], "a goal domain must be non-empty text")
                continue
            domains[_domain_key(key)] = entry_list(entries, ["domains", key])
    general = entry_list(data.get("general", []) or [], ["general"])
    if mode == "replace" and len(general) < MIN_GENERAL and not result.errors:
        err(["general"], f"a library that replaces the shipped one needs at least {MIN_GENERAL} "
            f"general entries (so every child gets {MIN_GENERAL} ideas), but has {len(general)}")
    if not result.errors:
        result.library = StrategyLibrary(language=language, patterns=patterns,
                                         sections=sections, domains=domains, general=general,
                                         mode=mode, source=source)
    return result


def check_strategies(path: str | Path) -> StrategyCheck:
    """Read and check a strategy library file; never raises for its content."""
    from sensoryprofile.instruments.loader import read_yaml

    path = Path(path)
    source = path.name
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        return StrategyCheck(source=source, errors=[f"{path}: no such file"])
    except (OSError, UnicodeDecodeError) as exc:
        return StrategyCheck(source=source, errors=[f"{source}: cannot be read ({exc})"])
    try:
        data = read_yaml(text, source)
    except InstrumentError as exc:  # the shared strict YAML reader's error
        return StrategyCheck(source=source, errors=[str(exc)])
    return check_library(data, source)


# ---------------------------------------------------------------------------
# loading
# ---------------------------------------------------------------------------
def shipped_path(lang: str) -> Path:
    return STRATEGY_DIR / f"{lang}.yaml"


def shipped_languages() -> list[str]:
    return sorted(p.stem for p in STRATEGY_DIR.glob("*.yaml"))


def _load_file(path: Path) -> StrategyLibrary:
    result = check_strategies(path)
    if not result.ok:
        raise StrategyError(f"{path.name}: invalid strategy library, {len(result.errors)} "
                            "problem(s)", result.errors)
    return result.library


def shipped_library(lang: str = SOURCE_LANGUAGE) -> StrategyLibrary:
    """The shipped library of ``lang``; English, with a warning, when that
    language has no library yet."""
    path = shipped_path(lang)
    if not path.exists():
        warnings.warn(MissingTranslationWarning(
            f"no strategy library for language {lang!r}: the ideas for home are shown in "
            "English"), stacklevel=2)
        path = shipped_path(SOURCE_LANGUAGE)
    return _load_file(path)


def _merge(base: StrategyLibrary, extra: StrategyLibrary) -> StrategyLibrary:
    """``extra``'s entries first, then ``base``'s whose id ``extra`` does not reuse."""
    taken = {s.id for s in extra.entries()}

    def rest(entries):
        return tuple(s for s in entries if s.id not in taken)

    def levels(a, b):
        keys = list(dict.fromkeys([*b, *a]))
        return {k: tuple(b.get(k, ())) + rest(a.get(k, ())) for k in keys}

    def table(a, b):
        keys = list(dict.fromkeys([*b, *a]))
        return {k: levels(a.get(k, {}), b.get(k, {})) for k in keys}

    domains = {k: tuple(extra.domains.get(k, ())) + rest(base.domains.get(k, ()))
               for k in dict.fromkeys([*extra.domains, *base.domains])}
    return StrategyLibrary(language=extra.language, patterns=table(base.patterns, extra.patterns),
                           sections=table(base.sections, extra.sections), domains=domains,
                           general=extra.general + rest(base.general), mode="extend",
                           source=f"{extra.source} + {base.source}")


def load_strategies(lang: str = SOURCE_LANGUAGE, path: str | Path | None = None
                    ) -> StrategyLibrary:
    """The library a family report in ``lang`` uses: the shipped one, or a
    clinic's file (``path``) that replaces it or extends it (``mode``).

    Raises :class:`StrategyError` (every problem, with key and field) for an
    invalid file and when the file's language is not ``lang``.
    """
    if path is None:
        return shipped_library(lang)
    path = Path(path)
    if not path.is_file():
        raise StrategyError(f"{path}: no such strategy file")
    own = _load_file(path)
    if own.language != lang:
        raise StrategyError(f"{path.name}: language is {own.language!r} but the report is in "
                            f"{lang!r}; give a strategy file written in {lang!r}")
    return _merge(shipped_library(lang), own) if own.mode == "extend" else own


# ---------------------------------------------------------------------------
# choosing
# ---------------------------------------------------------------------------
def _round_robin(lists: Sequence[Sequence[Strategy]]) -> Iterator[Strategy]:
    """First of each list, then the second of each, and so on."""
    for group in itertools.zip_longest(*lists):
        yield from (s for s in group if s is not None)


def _atypical(scores: pd.DataFrame, kind: str) -> list[tuple[str, int]]:
    rows = scores[(scores[C.KIND].astype(str) == kind) & scores[C.LEVEL].notna()]
    pairs = [(str(s), int(v)) for s, v in zip(rows[C.SCORE], rows[C.LEVEL], strict=True)
             if int(v) != 0]
    order = {q: k for k, q in enumerate(QUADRANTS)}
    # strongest first; then the quadrants' usual order (sections: the form's order)
    return sorted(pairs, key=lambda p: (-abs(p[1]), order.get(p[0], len(order))))


def select_strategies(library: StrategyLibrary, scores: pd.DataFrame,
                      domains: Iterable[str] = (), *, age_months=None,
                      minimum: int = DEFAULT_MINIMUM, maximum: int = DEFAULT_MAXIMUM
                      ) -> list[Strategy]:
    """Choose ``minimum`` to ``maximum`` ideas for home, in the order to show them.

    Parameters
    ----------
    library : StrategyLibrary
    scores : DataFrame with ``score``, ``kind`` and ``level`` (-2..+2, NA when
        not classified): the child's latest scores (the tidy score table's rows).
    domains : the domains of the child's goals, most important first.
    age_months : the child's age; entries with ``ages`` outside it are skipped.
    minimum, maximum : how many to return (fewer than ``minimum`` only when
        the library has fewer that fit).

    Returns
    -------
    list of Strategy, no id twice.

    Notes
    -----
    The order is deterministic. Patterns outside the typical range, strongest
    first, each give their entries for the level (then the neighbouring level:
    ``much_more`` falls back to ``more``), those suiting the child's goal
    domains first. A form without quadrant scores uses its sections as its
    patterns. Pattern entries alternate with goal-domain entries (the goals'
    order), each side taking its patterns or domains in turn. When fewer than
    ``minimum`` are found, sections (for a form with quadrants) and then
    general entries fill up.
    """
    from sensoryprofile.errors import UsageError

    missing = [c for c in (C.SCORE, C.KIND, C.LEVEL) if c not in scores.columns]
    if missing:
        raise UsageError(f"`scores` must have the columns score, kind and level; missing: "
                         f"{', '.join(missing)}")
    if not 1 <= minimum <= maximum:
        raise UsageError(f"`minimum` and `maximum` must satisfy 1 <= minimum <= maximum, but "
                         f"{minimum} and {maximum} were passed")
    goal_domains = list(dict.fromkeys(_domain_key(d) for d in domains if isinstance(d, str)))

    def ranked(entries: Iterable[Strategy]) -> list[Strategy]:
        fits = [s for s in entries if s.suits_age(age_months)]
        suits = [s for s in fits if {_domain_key(d) for d in s.domains} & set(goal_domains)]
        return suits + [s for s in fits if s not in suits]

    def pattern_lists(table, pairs):
        return [ranked(itertools.chain.from_iterable(table.get(key, {}).get(lk, ())
                                                     for lk in LEVEL_LOOKUP[max(-2, min(2, lv))]))
                for key, lv in pairs]

    quadrants = _atypical(scores, "quadrant")
    sections = _atypical(scores, "section")
    has_quadrants = (scores[C.KIND].astype(str) == "quadrant").any()
    main = pattern_lists(library.patterns, quadrants) if has_quadrants else pattern_lists(
        library.sections, sections)
    by_domain = [ranked(library.domains.get(d, ())) for d in goal_domains]

    chosen: list[Strategy] = []
    taken: set[str] = set()

    def add(strategies: Iterable[Strategy], limit: int) -> None:
        for s in strategies:
            if len(chosen) >= limit:
                return
            if s.id not in taken:
                taken.add(s.id)
                chosen.append(s)

    # alternate: a pattern's idea, a goal's idea, ...
    first, second = _round_robin(main), _round_robin(by_domain)
    for a, b in itertools.zip_longest(first, second):
        add([x for x in (a, b) if x is not None], maximum)
        if len(chosen) >= maximum:
            break
    if len(chosen) < minimum and has_quadrants:
        add(_round_robin(pattern_lists(library.sections, sections)), minimum)
    if len(chosen) < minimum:
        add(ranked(library.general), minimum)
    return chosen


__all__ = ["Strategy", "StrategyCheck", "StrategyLibrary", "check_library", "check_strategies",
           "load_strategies", "select_strategies", "shipped_languages", "shipped_library"]
