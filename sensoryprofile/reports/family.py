"""The family report: what the questionnaire says in everyday words, how the
goals are going, ideas for home and questions for the next visit, in the
family's language.

Built from the same data as :class:`~sensoryprofile.reports.child.ChildReport`
(its helpers choose the child's latest questionnaire and goals); the notebook
``reports/notebooks/family_report.ipynb`` only lays out what
:class:`FamilyReport` holds. Every text a family reads is a gettext message
(:mod:`sensoryprofile.reports.i18n`) or an entry of the strategy library
(:mod:`sensoryprofile.reports.strategies`), in our own words; the goals and the
therapist's note are shown as the therapist wrote them. No statistics: no
percentiles, no scores, only "more than most children" and the like.
"""

from __future__ import annotations

import datetime as dt
import html
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from sensoryprofile import columns as C
from sensoryprofile.data.dataset import Dataset, load_dataset_cached
from sensoryprofile.errors import UsageError
from sensoryprofile.ids import check_id
from sensoryprofile.instruments.schema import QUADRANTS
from sensoryprofile.measures import goals as G
from sensoryprofile.reports.child import age_on, goal_subset, latest_scores
from sensoryprofile.reports.i18n import N_, Translator, sentence
from sensoryprofile.reports.strategies import (
    DEFAULT_MINIMUM,
    Strategy,
    StrategyLibrary,
    load_strategies,
    select_strategies,
)

# ---------------------------------------------------------------------------
# the words (gettext messages; the English is the message id)
# ---------------------------------------------------------------------------
#: The report's name (the page title, and the heading when the child has no name).
REPORT_TITLE = N_("A report for the family")
HEADINGS = {
    "learned": N_("What we learned"),
    "goals": N_("The goals"),
    "ideas": N_("Ideas for home"),
    "next_visit": N_("For the next visit"),
    "note": N_("A note from your therapist"),
}
#: Each quadrant as a family would name it (lower case: used inside sentences too).
PATTERN_NAMES = {
    "seeking": N_("looking for sensations"),
    "avoiding": N_("keeping away from sensations"),
    "sensitivity": N_("noticing small details"),
    "registration": N_("missing everyday signals"),
}
#: How much of a pattern, by classification level.
AMOUNTS = {
    2: N_("much more than most children"),
    1: N_("more than most children"),
    -1: N_("less than most children"),
    -2: N_("much less than most children"),
}
#: What a pattern above (+) or below (-) the typical range looks like at home.
PATTERN_SENTENCES = {
    ("seeking", 1): N_(
        "{name} often looks for extra movement, touch and noise, like jumping, spinning or "
        "touching everything. Busy play can help {name} settle before sitting still."),
    ("seeking", -1): N_(
        "{name} looks for extra movement, touch and noise less often than other children. "
        "{name} may enjoy calm play and may need an invitation to join busy games."),
    ("avoiding", 1): N_(
        "{name} often moves away from noise, crowds, mess or new things, or tries to keep "
        "them under control. Clear routines and a quiet place to go can help."),
    ("avoiding", -1): N_(
        "{name} seldom moves away from noise, crowds or mess. Busy places do not seem to "
        "bother {name} much."),
    ("sensitivity", 1): N_(
        "{name} notices small sounds, touches, smells and changes that others miss. They can "
        "feel too strong, so {name} may get upset or distracted quickly."),
    ("sensitivity", -1): N_(
        "Small sounds, touches or changes do not bother {name} much. Strong feelings from "
        "the senses rarely upset {name}."),
    ("registration", 1): N_(
        "{name} may miss things that other children notice, like a name being called, a "
        "messy face or a bump. {name} may seem slow to get going or tired."),
    ("registration", -1): N_(
        "{name} quickly notices what is going on nearby, like a name being called or a "
        "change in the room."),
}
#: A form's sections (forms without quadrants), by section id: the topic.
SECTION_TOPICS = {
    "auditory": N_("hearing and sounds"),
    "visual": N_("seeing and light"),
    "touch": N_("touch"),
    "movement": N_("movement"),
    "body_position": N_("body position and strength"),
    "oral": N_("taste, smell and the mouth"),
    "conduct": N_("behaviour"),
    "social_emotional": N_("feelings and friends"),
    "attention": N_("paying attention"),
    "general": N_("everyday reactions"),
}
SECTION_MORE = N_("In {topic}, {name} shows the behaviours the questions ask about more "
                  "often than most children.")
SECTION_LESS = N_("In {topic}, {name} shows the behaviours the questions ask about less "
                  "often than most children.")
#: GAS levels in a family's words.
GOAL_WORDS = {
    -3: N_("harder than at the start"),
    -2: N_("not yet"),
    -1: N_("part of the way"),
    0: N_("goal reached"),
    1: N_("beyond the goal"),
    2: N_("well beyond the goal"),
}
NOT_RATED = N_("not checked yet")
SAME_AS_START = N_("{words}, the same as at the start")
#: One thing to watch for before the next visit, by the strongest pattern.
WATCH_FOR = {
    ("seeking", 1): N_("When does {name} look for the most movement or noise? What happens "
                       "just before?"),
    ("seeking", -1): N_("Which kinds of play does {name} enjoy most?"),
    ("avoiding", 1): N_("Which places, sounds or things does {name} try to get away from?"),
    ("avoiding", -1): N_("Did {name} go into a busy or unsafe place without a second look?"),
    ("sensitivity", 1): N_("Which sounds, clothes or foods upset {name} most this month?"),
    ("sensitivity", -1): N_("Did {name} notice small hurts, like a bump or a scratch?"),
    ("registration", 1): N_("When did {name} miss something, like a name being called? What "
                            "helped {name} notice?"),
    ("registration", -1): N_("Which places help {name} focus best?"),
}
WATCH_SECTION = N_("Write down one moment this month when {topic} made the day harder or "
                   "easier.")


#: How a long report is shortened to fit two printed pages, one step per level
#: of ``compact`` (each keeps the steps before it).
COMPACT_STEPS = (
    "the goals' starting points without the therapist's level texts",
    "the goals' current levels without the therapist's level texts",
    "three ideas for home",
    "print type 11pt (about 15px) instead of 12pt, and a lower goal chart",
    "goal descriptions shortened to 90 characters",
)
#: The print type of the last steps (still above 14px, the family template's floor).
COMPACT_PRINT_CSS = ("<style>@media print { body, .jp-RenderedHTMLCommon, "
                     ".jp-RenderedHTMLCommon p, .jp-RenderedHTMLCommon li "
                     "{ font-size: 11pt !important; } }</style>")
MAX_COMPACT = len(COMPACT_STEPS)
SHORT_DESCRIPTION = 90


def shorten(text: str, limit: int = SHORT_DESCRIPTION) -> str:
    """``text`` cut at a word to at most ``limit`` characters, with '…'.

    >>> shorten("Will put on socks and shoes alone", 20)
    'Will put on socks…'
    """
    if len(text) <= limit:
        return text
    cut = text[: limit - 1].rsplit(" ", 1)[0].rstrip(",;:")
    return f"{cut}…"


def form_topic(name: str) -> str:
    """A clinic form's section name used inside a sentence: first letter in
    lower case unless the name starts with an acronym.

    >>> form_topic("Bedtime"), form_topic("ADL routines")
    ('bedtime', 'ADL routines')
    """
    name = " ".join(str(name).split())
    return name if name[1:2].isupper() else name[:1].lower() + name[1:]


def ideas_count(n_goals: int, n_patterns: int) -> int:
    """How many ideas for home fit the two pages: five, one fewer with four or
    more goals, one fewer with three or more patterns outside the typical
    range (never fewer than three).

    >>> ideas_count(2, 1), ideas_count(4, 1), ideas_count(5, 3)
    (5, 4, 3)
    """
    return max(3, 5 - (n_goals >= 4) - (n_patterns >= 3))


#: From this age (months) a person's own self-report gets no family report.
ADULT_MONTHS = 18 * 12


@dataclass(frozen=True)
class PatternLine:
    """One line of "What we learned": a pattern, how much, what it looks like."""

    score: str
    level: int | None
    heading: str
    text: str
    kind: str = "quadrant"  # or "section" (a form without quadrants)


@dataclass(frozen=True)
class GoalLine:
    """One goal as the family report shows it."""

    number: int
    description: str
    start: str
    start_detail: str | None
    now: str
    now_detail: str | None


# ---------------------------------------------------------------------------
# the parts of the report (each a function of the data, testable alone)
# ---------------------------------------------------------------------------
class Words:
    """A report's messages in one language, with the child's name filled in."""

    def __init__(self, translator: Translator, name: str):
        self.t = translator
        self.name = name

    def fill(self, text: str, **values) -> str:
        """An already translated ``text`` with ``{name}`` and ``values`` filled in,
        as a sentence."""
        text = text.format(name=self.name, **values)
        if self.name.endswith("."):  # "Alder N." ending a sentence: one full stop
            text = text.replace(f"{self.name}.", self.name)
        return sentence(text)

    def say(self, message: str, **values) -> str:
        """``message`` translated, then filled in."""
        return self.fill(self.t.gettext(message), **values)

    def topic(self, score: str, section_names: dict) -> str:
        """A section as a family would name it (a form's own section: its name)."""
        if score in SECTION_TOPICS:
            return self.t.gettext(SECTION_TOPICS[score])
        return form_topic(section_names.get(score, score))


def _sections(instrument) -> dict[str, str]:
    return {s.id: s.name for s in instrument.sections} if instrument is not None else {}


def pattern_lines(latest: pd.DataFrame, instrument, words: Words
                  ) -> tuple[list[PatternLine], str | None]:
    """"What we learned": a line per pattern outside the typical range (a
    form without quadrants: per section), and one sentence for the typical ones.

    ``latest`` holds the score rows of the child's latest questionnaire.
    """
    _ = words.t.gettext
    quadrant_form = (latest[C.KIND].astype(str) == "quadrant").any()
    rows = latest[latest[C.KIND].astype(str) == ("quadrant" if quadrant_form else "section")]
    if quadrant_form:
        order = {q: k for k, q in enumerate(QUADRANTS)}
        rows = rows.assign(_order=rows[C.SCORE].astype(str).map(order)).sort_values(
            "_order", kind="stable")
    section_names = _sections(instrument)
    kind = "quadrant" if quadrant_form else "section"
    learned, typical_names = [], []
    for _i, r in rows.iterrows():
        score = str(r[C.SCORE])
        level = None if pd.isna(r[C.LEVEL]) or not r[C.VALID] else int(r[C.LEVEL])
        topic = (_(PATTERN_NAMES[score]) if quadrant_form
                 else words.topic(score, section_names))
        if level == 0:
            typical_names.append(topic)
            continue
        if level is None:
            learned.append(PatternLine(score, None, sentence(topic), words.say(N_(
                "We could not compare this with other children this time.")), kind))
            continue
        sign = 1 if level > 0 else -1
        text = (words.say(PATTERN_SENTENCES[(score, sign)]) if quadrant_form
                else words.say(SECTION_MORE if sign > 0 else SECTION_LESS, topic=topic))
        learned.append(PatternLine(score, level, f"{sentence(topic)}: {_(AMOUNTS[level])}",
                                   text, kind))
    if not len(rows):
        typical = None
    elif not learned:
        typical = words.say(N_("In every part of the questionnaire, {name} is like most "
                               "children of the same age."))
    elif typical_names:
        typical = words.say(N_("In {parts}, {name} is like most children of the same age."),
                            parts=words.t.join(typical_names))
    else:
        typical = None
    return learned, typical


def questionnaire_intro(latest: pd.DataFrame, words: Words) -> str:
    """Who answered the questionnaire, when, and what it was compared with."""
    if not len(latest):
        return words.say(N_("No questionnaire has been filled in yet. After the first one, "
                            "this part will say what it shows."))
    intro = {
        "caregiver": N_("On {date}, you answered questions about how {name} reacts to everyday "
                        "sounds, touch, movement and sights. We compared your answers with "
                        "answers about other children of the same age."),
        "teacher": N_("On {date}, {name}'s teacher answered questions about how {name} reacts "
                      "to everyday sounds, touch, movement and sights. We compared the answers "
                      "with answers about other children of the same age."),
        "self": N_("On {date}, {name} answered questions about everyday sounds, touch, movement "
                   "and sights. We compared the answers with answers from other children of the "
                   "same age."),
        "clinician": N_("On {date}, your therapist answered questions about how {name} reacts "
                        "to everyday sounds, touch, movement and sights. We compared the "
                        "answers with answers about other children of the same age."),
    }.get(str(latest[C.RESPONDENT].iloc[0]))
    intro = intro or N_("On {date}, questions were answered about how {name} reacts to "
                        "everyday sounds, touch, movement and sights.")
    return words.say(intro, date=words.t.date(latest[C.DATE].iloc[0]))


def goal_lines(goals: pd.DataFrame, per_goal: pd.DataFrame, words: Words, *,
               compact: int = 0) -> tuple[list[GoalLine], pd.DataFrame]:
    """Each goal in the therapist's words, where it started and where it is
    now; and the chart's frame (``label``, ``baseline_level``, ``latest_level``).

    ``per_goal`` is :func:`~sensoryprofile.measures.goals.goal_attainment`'s
    per-goal table indexed by goal id.
    """
    _ = words.t.gettext
    lines, chart_rows = [], []
    for k, (_i, goal) in enumerate(goals.iterrows(), start=1):
        info = per_goal.loc[goal[C.GOAL_ID]] if goal[C.GOAL_ID] in per_goal.index else None
        base = int(goal[C.BASELINE_LEVEL])
        rated = info is not None and int(info[C.N_RATINGS]) > 0
        latest_level = int(info[C.LATEST_LEVEL]) if rated else None

        def detail(level, goal=goal):
            value = goal.get(f"level_{level:+d}".replace("+0", "0"))
            return " ".join(str(value).split()) if pd.notna(value) else None

        if not rated:
            now, now_detail = _(NOT_RATED), None
        elif latest_level == base:  # said once, not twice
            now, now_detail = _(SAME_AS_START).format(words=_(GOAL_WORDS[base])), None
        else:
            now, now_detail = _(GOAL_WORDS[latest_level]), detail(latest_level)
        description = (" ".join(str(goal[C.DESCRIPTION]).split())
                       if pd.notna(goal.get(C.DESCRIPTION)) else str(goal[C.DOMAIN]))
        lines.append(GoalLine(
            number=k, description=shorten(description) if compact >= 5 else description,
            start=_(GOAL_WORDS[base]), start_detail=detail(base) if compact < 1 else None,
            now=now, now_detail=now_detail if compact < 2 else None))
        chart_rows.append({C.LABEL: _("Goal {number}").format(number=words.t.number(k)),
                           C.BASELINE_LEVEL: base,
                           C.LATEST_LEVEL: latest_level if rated else pd.NA})
    chart = pd.DataFrame(chart_rows, columns=[C.LABEL, C.BASELINE_LEVEL, C.LATEST_LEVEL])
    chart[C.LATEST_LEVEL] = chart[C.LATEST_LEVEL].astype("Int64")
    return lines, chart


def next_visit_questions(learned: list[PatternLine], instrument, goals: pd.DataFrame,
                         per_goal: pd.DataFrame, words: Words) -> list[str]:
    """Up to five things to bring: the ideas tried, one thing to watch for
    (the strongest pattern), and the goals in progress, past their date, reached."""
    t = words.t
    questions = [words.say(N_("Which idea for home did you try? What helped, and what did "
                              "not?"))]
    strongest = sorted((p for p in learned if p.level is not None), key=lambda p: -abs(p.level))
    if strongest:
        top = strongest[0]
        sign = 1 if top.level > 0 else -1
        if top.kind == "quadrant":
            questions.append(words.say(WATCH_FOR[(top.score, sign)]))
        else:
            questions.append(words.say(WATCH_SECTION,
                                       topic=words.topic(top.score, _sections(instrument))))
    reached, overdue, going = [], [], []
    for k, goal_id in enumerate(goals[C.GOAL_ID], start=1):
        info = per_goal.loc[goal_id] if goal_id in per_goal.index else None
        if info is not None and pd.notna(info[C.DATE_FIRST_MET]):
            reached.append(t.number(k))
        elif info is not None and bool(info[C.OVERDUE]):
            overdue.append(t.number(k))
        else:
            going.append(t.number(k))
    if going:
        questions.append(words.fill(t.ngettext(
            "Goal {numbers}: write down one time it went a little better, and what helped.",
            "Goals {numbers}: write down one time each went a little better, and what "
            "helped.", len(going)), numbers=t.join(going)))
    if overdue:
        questions.append(words.fill(t.ngettext(
            "Goal {numbers} is past its planned date. Ask us if the plan should change.",
            "Goals {numbers} are past their planned date. Ask us if the plan should change.",
            len(overdue)), numbers=t.join(overdue)))
    if reached:
        questions.append(words.fill(t.ngettext(
            "Goal {numbers} has been reached. What would you like to work on next?",
            "Goals {numbers} have been reached. What would you like to work on next?",
            len(reached)), numbers=t.join(reached)))
    return questions[:5]


def family_note(ratings: pd.DataFrame, goals: pd.DataFrame, as_of) -> list[str]:
    """The notes for the family of the latest review (up to ``as_of``) that
    has any, in goal order, as written (each once)."""
    if C.FAMILY_NOTE not in ratings.columns:
        return []
    noted = ratings[(ratings[C.DATE] <= as_of) & ratings[C.FAMILY_NOTE].notna()]
    if not len(noted):
        return []
    last = noted[noted[C.DATE] == noted[C.DATE].max()]
    order = {g: k for k, g in enumerate(goals[C.GOAL_ID])}
    last = last.assign(_order=last[C.GOAL_ID].map(order)).sort_values("_order", kind="stable")
    return list(dict.fromkeys(" ".join(str(n).split()) for n in last[C.FAMILY_NOTE]))


@dataclass
class FamilyReport:
    """The content of one child's family report. Build with :meth:`build`."""

    child_id: str
    as_of: dt.date
    lang: str
    title: str
    meta: str
    learned_intro: str
    learned: list[PatternLine]
    typical: str | None
    goals_intro: str
    goals: list[GoalLine]
    goal_chart: pd.DataFrame
    chart_text: dict
    ideas_intro: str
    strategies: list[Strategy]
    next_visit: list[str]
    note: list[str] = field(default_factory=list)
    footer: list[str] = field(default_factory=list)
    headings: dict[str, str] = field(default_factory=dict)
    missing_translations: list[str] = field(default_factory=list)
    compact: int = 0

    # ------------------------------------------------------------------ build
    @classmethod
    def build(cls, dataset: Dataset | str | Path, child_id: str, *, as_of=None,
              lang: str = "en", strategies: StrategyLibrary | str | Path | None = None,
              compact: int = 0) -> FamilyReport:
        """Assemble the family report of ``child_id`` in language ``lang``.

        ``strategies`` is a library, a clinic's strategy file, or None for
        the shipped library of ``lang``. ``compact`` (0 to :data:`MAX_COMPACT`)
        shortens a report that would not fit two printed pages, step by step
        (:data:`COMPACT_STEPS`); the renderer raises it only when the page count
        it measures needs it.
        """
        check_id(child_id)
        if compact not in range(MAX_COMPACT + 1):

            raise UsageError(f"`compact` must be 0 to {MAX_COMPACT}, but {compact!r} was passed")
        t = Translator(lang)
        _ = t.gettext
        if not isinstance(strategies, StrategyLibrary):
            strategies = load_strategies(lang, strategies)
        if not isinstance(dataset, Dataset):
            dataset = load_dataset_cached(dataset)
        as_of = pd.Timestamp(as_of if as_of is not None else dt.date.today()).normalize()
        child = dataset.child(child_id)
        has_name = pd.notna(child.get(C.DISPLAY_NAME)) and str(child[C.DISPLAY_NAME]).strip()
        # TRANSLATORS: stands for the child's name ({name}) when the clinic gave none;
        # it may start a sentence (its first letter is then capitalised).
        words = Words(t, str(child[C.DISPLAY_NAME]).strip() if has_name else _("your child"))
        say = words.say

        found = latest_scores(dataset, child_id, as_of)
        age_now = age_on(child, as_of)
        if (len(found.primary) and str(found.primary[C.RESPONDENT].iloc[-1]) == "self"
                and not pd.isna(age_now) and age_now >= ADULT_MONTHS):
            raise UsageError(f"{child_id}'s questionnaire is a self-report by an adult: the "
                             "family report is written to a child's family (\"your child\"); "
                             "use the sensory and goals report (`report child`) instead")
        learned, typical = pattern_lines(found.latest, found.instrument, words)
        sub = goal_subset(dataset, child_id)
        goals = sub.goals[sub.goals[C.SET_DATE] <= as_of]
        per_goal = G.goal_attainment(sub, as_of=as_of).goals.set_index(C.GOAL_ID)
        goal_list, goal_chart = goal_lines(goals, per_goal, words, compact=compact)
        lowest = -3 if dataset.gas_six_level else -2
        chart_text = {
            "level_text": {lv: _(GOAL_WORDS[lv]) for lv in range(lowest, 3)},
            "start_text": _("At the start"), "now_text": _("Now"),
            "not_rated_text": _(NOT_RATED), "empty_text": _("No goals yet."),
        }
        goals_intro = (say(N_("These are the goals we agreed on, in the therapist's words. The "
                              "chart shows where each goal started and where it is now."))
                       if goal_list else say(N_("No goals have been set yet. We will agree on "
                                                "them together.")))

        age = age_on(child, as_of)
        chosen = select_strategies(strategies, found.latest,
                                   goals[C.DOMAIN].dropna().astype(str).tolist(),
                                   age_months=None if pd.isna(age) else float(age),
                                   maximum=(ideas_count(len(goal_list), len(learned))
                                            if compact < 3 else DEFAULT_MINIMUM))
        ideas_intro = (say(N_("Pick one or two ideas to try this month. We chose them for "
                              "{name}'s patterns and goals."))
                       if any(p.level for p in learned) or goal_list else
                       say(N_("Pick one or two ideas to try this month. Many families find "
                              "them helpful.")))

        therapist = child.get(C.THERAPIST)
        meta = (say(N_("Report of {date}. Therapist: {therapist}."), date=t.date(as_of),
                    therapist=str(therapist)) if pd.notna(therapist) and str(therapist).strip()
                else say(N_("Report of {date}."), date=t.date(as_of)))
        footer = []
        if found.instrument is not None and not found.instrument.clinical_use:
            footer.append(say(N_("The questionnaire in this report is a demonstration form made "
                                 "up for testing. Its results are not real results.")))
        footer.append(say(N_("Questions about this report? Ask us at any visit.")))
        title = (_("{name}: a report for the family").format(name=words.name) if has_name
                 else _(REPORT_TITLE))
        report = cls(
            child_id=child_id, as_of=as_of.date(), lang=lang, title=title, meta=meta,
            learned_intro=questionnaire_intro(found.latest, words), learned=learned,
            typical=typical, goals_intro=goals_intro, goals=goal_list, goal_chart=goal_chart,
            chart_text=chart_text, ideas_intro=ideas_intro, strategies=chosen,
            next_visit=next_visit_questions(learned, found.instrument, goals, per_goal, words),
            note=family_note(sub.goal_ratings, goals, as_of), footer=footer,
            headings={k: _(v) for k, v in HEADINGS.items()}, compact=compact)
        report.missing_translations = list(t.missing)
        return report

    # ------------------------------------------------------------ text
    def chart_size(self) -> tuple[float, float]:
        """Figure size (inches) of the goal chart: taller with more goals."""
        per_goal = 0.5 if self.compact < 4 else 0.4
        return (8.0, 1.6 + per_goal * max(1, len(self.goals)))

    def plain_text(self) -> str:
        """Everything the family reads, as plain text in reading order (the
        therapist's words included). The reading-grade test reads this."""
        parts = [self.title, self.meta, self.headings["learned"], self.learned_intro]
        for p in self.learned:
            parts += [p.heading + ".", p.text]
        if self.typical:
            parts.append(self.typical)
        parts += [self.headings["goals"], self.goals_intro]
        for g in self.goals:
            parts.append(f"{g.description}.")
            parts += [f"{self._start_label}: {g.start}.", f"{self._now_label}: {g.now}."]
            parts += [f"{d}." for d in (g.start_detail, g.now_detail) if d]
        parts += [self.headings["ideas"], self.ideas_intro]
        for s in self.strategies:
            parts += [s.title + ".", s.when, s.how]
        parts += [self.headings["next_visit"], *self.next_visit]
        if self.note:
            parts += [self.headings["note"], *self.note]
        parts += self.footer
        # a heading or label is a unit of its own: end it like a sentence
        return "\n".join(p if p.rstrip().endswith((".", "?", "!", ":")) else f"{p}." for p in parts)

    @property
    def _start_label(self) -> str:
        return self.chart_text["start_text"]

    @property
    def _now_label(self) -> str:
        return self.chart_text["now_text"]

    # ------------------------------------------------------------ display
    def heading_html(self, key: str) -> str:
        """A section heading as inert HTML."""

        if key not in self.headings:
            raise UsageError(f"`key` must be one of {list(self.headings)}, but {key!r} was "
                             "passed")
        return f"<h2>{html.escape(self.headings[key])}</h2>"

    def header_html(self) -> str:
        style = COMPACT_PRINT_CSS if self.compact >= 4 else ""
        return (f"{style}<h1>{html.escape(self.title)}</h1>"
                f"<p class='sp-meta'>{html.escape(self.meta)}</p>")

    def learned_html(self) -> str:
        items = "".join(f"<li><strong>{html.escape(p.heading)}.</strong> "
                        f"{html.escape(p.text)}</li>" for p in self.learned)
        out = f"<p>{html.escape(self.learned_intro)}</p>"
        if items:
            out += f"<ul class='sp-learned'>{items}</ul>"
        if self.typical:
            out += f"<p>{html.escape(self.typical)}</p>"
        return out

    def goals_intro_html(self) -> str:
        return f"<p>{html.escape(self.goals_intro)}</p>"

    def goals_html(self) -> str:
        """Each goal in the therapist's words: where it started, where it is now."""
        if not self.goals:
            return ""
        items = []
        for g in self.goals:
            start = html.escape(g.start) + (f" <span class='sp-words'>({html.escape(g.start_detail)})"
                                            "</span>" if g.start_detail else "")
            now = html.escape(g.now) + (f" <span class='sp-words'>({html.escape(g.now_detail)})"
                                        "</span>" if g.now_detail else "")
            items.append(f"<li><strong>{html.escape(g.description)}</strong><br>"
                         f"{html.escape(self._start_label)}: {start}<br>"
                         f"{html.escape(self._now_label)}: {now}</li>")
        return f"<ol class='sp-goals'>{''.join(items)}</ol>"

    def strategies_html(self) -> str:
        items = "".join(
            f"<li><strong>{html.escape(s.title)}.</strong> "
            f"<em>{html.escape(s.when)}</em> {html.escape(s.how)}</li>"
            for s in self.strategies)
        return (f"<p>{html.escape(self.ideas_intro)}</p>"
                f"<ul class='sp-ideas'>{items}</ul>")

    def next_visit_html(self) -> str:
        items = "".join(f"<li>{html.escape(q)}</li>" for q in self.next_visit)
        return f"<ul class='sp-next'>{items}</ul>"

    def note_html(self) -> str:
        """The therapist's note under its heading, or nothing when there is none."""
        if not self.note:
            return ""
        paragraphs = "".join(f"<p>{html.escape(n)}</p>" for n in self.note)
        return f"{self.heading_html('note')}<div class='sp-note'>{paragraphs}</div>"

    def footer_html(self) -> str:
        return f"<p class='sp-footer'>{html.escape(' '.join(self.footer))}</p>"


__all__ = ["FamilyReport", "GoalLine", "PatternLine"]
