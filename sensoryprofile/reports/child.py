"""Everything a per-child report shows, computed here so tests can reach it.

The notebook ``reports/notebooks/child_report.ipynb`` only lays out what
:class:`ChildReport` holds: tables ready to print (plain-language headers,
rounded only here), frames ready to chart, a plain-language summary and data
notes. With ``deidentify=True`` nothing identifying is kept: no name, no date
of birth, no calendar dates (months since intake instead), no free text (goals
are named by number and domain; notes are dropped).
"""

from __future__ import annotations

import datetime as dt
import html
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd

from sensoryprofile import columns as C
from sensoryprofile.columns import POSITION
from sensoryprofile.data.dataset import Dataset, load_dataset_cached
from sensoryprofile.data.validation import DEPENDENT_REJECTED, ROW_REJECTED
from sensoryprofile.dates import completed_months, months_between
from sensoryprofile.ids import check_id
from sensoryprofile.instruments.schema import QUADRANT_NAMES
from sensoryprofile.measures import change as CH
from sensoryprofile.measures import goals as G
from sensoryprofile.measures.norms import standing
from sensoryprofile.reports.formatting import (
    age_text,
    items_html,
    keyed_paragraph,
    level_text,
    long_date,
    raw_text,
)

LEVEL_WORDS = {-3: "worse than at the start", -2: "much less than expected",
               -1: "less than expected", 0: "the expected outcome",
               1: "better than expected", 2: "much better than expected"}


# ---------------------------------------------------------------------------
# the parts of the report (each a function of the data, testable alone)
# ---------------------------------------------------------------------------
def primary_series(scores: pd.DataFrame, dataset: Dataset) -> pd.DataFrame:
    """The child's main series: the instrument and respondent of the latest
    assessment answered by the instrument's own respondent (usually a
    caregiver), all its administrations in date order."""
    if scores.empty:
        return scores
    own = scores[C.RESPONDENT].astype(str) == scores[C.INSTRUMENT].astype(str).map(
        {k: i.respondent for k, i in dataset.instruments.items()})
    pool = scores[own] if own.any() else scores
    last = pool.sort_values([C.DATE, C.ASSESSMENT_ID]).iloc[-1]
    same = ((scores[C.INSTRUMENT].astype(str) == str(last[C.INSTRUMENT]))
            & (scores[C.RESPONDENT].astype(str) == str(last[C.RESPONDENT])))
    return scores[same].sort_values([C.DATE, C.ASSESSMENT_ID], kind="stable")


def goal_subset(dataset: Dataset, child_id: str) -> SimpleNamespace:
    """The child's goals and ratings, as :func:`~sensoryprofile.measures.goals.goal_attainment` takes them."""
    goals = dataset.goals[dataset.goals[C.CHILD_ID] == child_id]
    ratings = dataset.goal_ratings[dataset.goal_ratings[C.GOAL_ID].isin(goals[C.GOAL_ID])]
    return SimpleNamespace(goals=goals, goal_ratings=ratings,
                           gas_six_level=dataset.gas_six_level)


def age_on(child: pd.Series, as_of) -> float:
    """The child's age in completed months on ``as_of`` (NaN when unknown): from
    the date of birth, or in an extract from the age at referral."""
    age = completed_months([child.get(C.DATE_OF_BIRTH)], [as_of])[0]
    if pd.isna(age) and pd.notna(child.get(C.AGE_AT_REFERRAL_MONTHS)):  # an extract
        age = float(child[C.AGE_AT_REFERRAL_MONTHS]) + months_between(
            child[C.REFERRAL_DATE], as_of)
    return age


def latest_scores(dataset: Dataset, child_id: str, as_of: pd.Timestamp) -> SimpleNamespace:
    """The child's scores up to ``as_of``: ``scores`` (every administration,
    with ``position``), ``primary`` (:func:`primary_series`), ``latest`` (the
    rows of the primary series' last administration) and ``instrument`` (its
    :class:`~sensoryprofile.instruments.Instrument`, or None)."""
    scores = dataset.scores[(dataset.scores[C.CHILD_ID] == child_id)
                            & (dataset.scores[C.DATE] <= as_of)].copy()
    scores[POSITION] = standing(scores)
    primary = primary_series(scores, dataset)
    latest = (primary[primary[C.ASSESSMENT_ID] == primary[C.ASSESSMENT_ID].iloc[-1]]
              if len(primary) else primary)
    instrument = (dataset.instruments.get(str(latest[C.INSTRUMENT].iloc[0]))
                  if len(latest) else None)
    return SimpleNamespace(scores=scores, primary=primary, latest=latest, instrument=instrument)


def header_table(dataset, child, scores, as_of, deidentify, when, pseudonym=None
                 ) -> pd.DataFrame:
    """The report's header: child, age, therapist, site, referral, assessments
    (de-identified: the pseudonym, age, months since referral; no therapist,
    site or ID of the clinic's)."""
    age = age_on(child, as_of)
    dates = sorted(scores[C.DATE].dropna().unique())
    if deidentify:
        rows = [("Child", pseudonym or "(de-identified)"),
                ("Age", age_text(age)),
                ("Referred", "month 0"),
                ("Assessments", ", ".join(when(d) for d in dates) or "none yet")]
    else:
        rows = [("Child", child[C.CHILD_ID] if pd.isna(child.get(C.DISPLAY_NAME))
                 else f"{child[C.DISPLAY_NAME]} ({child[C.CHILD_ID]})"),
                ("Age", f"{age_text(age)} on {long_date(as_of)}"),
                ("Therapist", child.get(C.THERAPIST) if pd.notna(child.get(C.THERAPIST))
                 else "not recorded"),
                ("Site", child.get(C.SITE) if pd.notna(child.get(C.SITE)) else "not recorded"),
                ("Referred", long_date(child[C.REFERRAL_DATE])),
                ("Assessments", ", ".join(when(d) for d in dates) or "none yet")]
    if pd.notna(child.get(C.DISCHARGE_DATE)) and child[C.DISCHARGE_DATE] <= as_of:
        rows.append(("Discharged", when(child[C.DISCHARGE_DATE])))
    if deidentify:
        rows.append(("Note", "De-identified: no name, no calendar dates (months since "
                     "referral instead), no therapist or site, goals named by area only."))
    return pd.DataFrame(rows, columns=["", " "])


def score_table(rows: pd.DataFrame, what: str) -> pd.DataFrame:
    """Score rows as printed: name, raw score, percentile, classification, notes."""
    def note(r):
        if not r[C.VALID]:
            return f"not scored: {r[C.INVALID_REASON]}"
        parts = []
        if pd.isna(r[C.CLASSIFICATION]):
            parts.append(f"not classified: {r[C.UNCLASSIFIED_REASON]}")
        if r[C.PRORATED]:
            parts.append(f"prorated ({r[C.N_MISSING] + 0} item(s) unanswered)")
        if r[C.N_NOT_APPLICABLE]:
            parts.append(f"{r[C.N_NOT_APPLICABLE]} item(s) 'does not apply'")
        return "; ".join(parts)

    if rows.empty:
        return pd.DataFrame(columns=[what, "Raw score", "Percentile", "Classification",
                                     "Notes"])
    return pd.DataFrame({
        what: rows[C.SCORE_NAME].astype(str).to_numpy(),
        "Raw score": [raw_text(r, mx) for r, mx in
                      zip(rows[C.RAW], rows[C.MAX_POSSIBLE], strict=True)],
        "Percentile": ["" if pd.isna(p) else f"{p:.0f}" for p in rows[C.PERCENTILE]],
        "Classification": rows[C.CLASSIFICATION].astype(object).fillna("-").to_numpy(),
        "Notes": [note(r) for _, r in rows.iterrows()],
    })


def _x_values(dates: pd.Series, intake, deidentify: bool) -> pd.Series:
    """Dates, or months since referral when de-identified (the charts' x values)."""
    if not deidentify:
        return dates
    return dates.map(lambda d: months_between(intake, d) if pd.notna(d) else np.nan)


def trajectory_frame(primary, intake, deidentify) -> pd.DataFrame:
    rows = primary[primary[C.KIND] == "quadrant"]
    return pd.DataFrame({
        C.DATE: _x_values(rows[C.DATE], intake, deidentify).to_numpy(),
        C.SCORE: rows[C.SCORE].astype(str).to_numpy(),
        C.SCORE_NAME: rows[C.SCORE_NAME].astype(str).to_numpy(),
        POSITION: rows[POSITION].to_numpy(),
        C.CLASSIFICATION: rows[C.CLASSIFICATION].astype(object).to_numpy(),  # the alt text's
    })


def change_table(changes: pd.DataFrame, primary: pd.DataFrame, when) -> pd.DataFrame:
    columns = ["Quadrant", "Compared with", "Then", "Now", "Raw change", "Reliable change "
               "index", "Reliable?", "Direction"]
    if changes.empty or primary.empty:
        return pd.DataFrame(columns=columns)
    last_id = primary[C.ASSESSMENT_ID].iloc[-1]
    rows = changes[(changes[C.COMPARISON] == CH.CONSECUTIVE)
                   & (changes[C.TO_ASSESSMENT] == last_id) & (changes[C.KIND] == "quadrant")]
    out = []
    for _, r in rows.iterrows():
        if not r[C.COMPARED]:
            out.append([r[C.SCORE_NAME], when(r[C.FROM_DATE]), "", "", "", "", "",
                        f"not compared: {r[C.NOT_COMPARED_REASON]}"])
            continue
        rci = r[C.RCI]
        out.append([
            r[C.SCORE_NAME], when(r[C.FROM_DATE]),
            r[C.FROM_CLASSIFICATION] if pd.notna(r[C.FROM_CLASSIFICATION]) else "-",
            r[C.TO_CLASSIFICATION] if pd.notna(r[C.TO_CLASSIFICATION]) else "-",
            f"{r[C.RAW_CHANGE]:+.0f}" if float(r[C.RAW_CHANGE]).is_integer()
            else f"{r[C.RAW_CHANGE]:+.1f}",
            "" if pd.isna(rci) else f"{rci:+.2f}",
            "" if pd.isna(r[C.RELIABLE]) else ("yes" if r[C.RELIABLE] else "no"),
            r[C.DIRECTION] if pd.notna(r[C.DIRECTION]) else ""])
    return pd.DataFrame(out, columns=columns)


def vocabulary_terms(values: pd.Series, settings, vocabulary: str) -> pd.Series:
    """Each value as the vocabulary spells it, or ``other`` (a free-text area
    may describe or name a child; a de-identified report shows only terms)."""
    from sensoryprofile.data.settings import OTHER, Settings

    settings = settings or Settings(name="dataset")
    return values.map(lambda v: OTHER if pd.isna(v) else (settings.canonical(vocabulary, v)
                                                          or OTHER)).astype(object)


def goal_label(k: int, goal: pd.Series, deidentify: bool) -> str:
    if deidentify or pd.isna(goal.get(C.DESCRIPTION)):
        return f"Goal {k} ({goal[C.DOMAIN]})"
    text = str(goal[C.DESCRIPTION])
    return f"Goal {k}: {text if len(text) <= 60 else text[:57] + '...'}"


def goals_table(goals, per_goal, deidentify, when) -> pd.DataFrame:
    columns = ["Goal", "Area", "Weight", "At the start", "Latest", "Met", "Target date"]
    if goals.empty:
        return pd.DataFrame(columns=columns)
    info = per_goal.set_index(C.GOAL_ID)
    out = []
    for k, (_, goal) in enumerate(goals.iterrows(), start=1):
        g = info.loc[goal[C.GOAL_ID]] if goal[C.GOAL_ID] in info.index else None
        latest = g[C.LATEST_LEVEL] if g is not None else pd.NA

        def describe(level, goal=goal):
            if pd.isna(level):
                return "not rated yet"
            words = f"{level_text(level)} {LEVEL_WORDS.get(int(level), '')}"
            text_col = f"level_{level_text(level)}"
            if not deidentify and text_col in goal and pd.notna(goal[text_col]):
                words += f": {goal[text_col]}"
            return words

        met = ("not yet" if g is None or pd.isna(g[C.DATE_FIRST_MET])
               else f"yes, {when(g[C.DATE_FIRST_MET])}")
        if g is not None and bool(g[C.OVERDUE]):
            met += " (past target date)"
        out.append([goal_label(k, goal, deidentify), goal[C.DOMAIN],
                    "" if g is None else f"{g[C.WEIGHT]:g}",
                    describe(goal[C.BASELINE_LEVEL]), describe(latest), met,
                    when(goal.get(C.TARGET_DATE))])
    return pd.DataFrame(out, columns=columns)


def goal_lines(goals, trajectories, intake, deidentify) -> pd.DataFrame:
    """One row per goal per date (baseline, then each rating), for the chart;
    de-identified, goals are "goal-1", "goal-2"... (never the clinic's IDs)."""
    labels = {g[C.GOAL_ID]: goal_label(k, g, deidentify)
              for k, (_, g) in enumerate(goals.iterrows(), start=1)}
    numbers = {g: f"goal-{k}" for k, g in enumerate(goals[C.GOAL_ID], start=1)}
    base = goals[[C.GOAL_ID, C.SET_DATE, C.BASELINE_LEVEL]].rename(
        columns={C.SET_DATE: C.DATE})
    base = base.assign(**{C.LEVEL: base[C.BASELINE_LEVEL], C.CARRIED: False,
                          C.IS_BASELINE: True})
    rated = trajectories[~trajectories[C.AT_BASELINE]] if len(trajectories) else trajectories
    rated = rated[[C.GOAL_ID, C.DATE, C.LEVEL, C.CARRIED, C.BASELINE_LEVEL]].assign(
        **{C.IS_BASELINE: False})
    lines = pd.concat([base, rated], ignore_index=True).sort_values(
        [C.GOAL_ID, C.DATE, C.IS_BASELINE], ascending=[True, True, False], kind="stable")
    lines[C.LABEL] = lines[C.GOAL_ID].map(labels)
    lines[C.DATE] = _x_values(lines[C.DATE], intake, deidentify)
    lines[C.LEVEL] = lines[C.LEVEL].astype(int)
    if deidentify:
        lines[C.GOAL_ID] = lines[C.GOAL_ID].map(numbers)
    return lines.reset_index(drop=True)


def tscore_frame(reviews, intake, deidentify) -> pd.DataFrame:
    return pd.DataFrame({C.DATE: _x_values(reviews[C.DATE], intake, deidentify).to_numpy(),
                         C.T_SCORE: reviews[C.T_SCORE].to_numpy(),
                         C.BASELINE_T: reviews[C.BASELINE_T].to_numpy()})


def left_out_notes(report, child_id: str, scores: pd.DataFrame, deidentify: bool) -> list[str]:
    """What the child's report lacks because of data problems: each of the
    child's rows that validation rejected (an assessment, a goal, a rating),
    by file and row and the rule it broke, never its values; and how many
    problems touch the assessments it does show."""
    rejected = [p for p in report.problems if p.child_id == child_id
                and p.action in (ROW_REJECTED, DEPENDENT_REJECTED) and p.table != "children"]
    notes = []
    if rejected:
        what = {"assessments": "questionnaire", "goals": "goal", "goal_ratings": "goal rating"}
        counts = pd.Series([what.get(p.table, "row") for p in rejected]).value_counts()
        kinds = ", ".join(f"{n} {k}{'s' if n > 1 else ''}" for k, n in counts.items())
        where = "; ".join(dict.fromkeys(
            f"{p.file} row {p.row}: {p.rule}" for p in rejected))
        notes.append(f"Left out of this report because of data problems: {kinds}"
                     + ("." if deidentify else f" ({where})."))
    shown = set(scores[C.ASSESSMENT_ID].astype(str))
    touching = [p for p in report.problems
                if p.key and p.key.split("=", 1)[-1] in shown]
    if touching:
        notes.append(f"{len(touching)} data problem(s) affect this child's assessments "
                     "(see the clinic's validation report).")
    return notes


# ---------------------------------------------------------------------------
# the report
# ---------------------------------------------------------------------------
@dataclass
class ChildReport:
    """The content of one child's report. Build with :meth:`build`."""

    child_id: str
    as_of: dt.date
    deidentify: bool
    header: pd.DataFrame
    title: str
    instrument_name: str | None
    demonstration_note: str | None
    quadrant_table: pd.DataFrame
    quadrant_profile: pd.DataFrame
    section_table: pd.DataFrame
    section_profile: pd.DataFrame
    trajectories: pd.DataFrame
    change_table: pd.DataFrame
    goals_table: pd.DataFrame
    goal_trajectories: pd.DataFrame
    tscores: pd.DataFrame
    summary: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    scores: pd.DataFrame | None = None
    changes: pd.DataFrame | None = None
    reviews: pd.DataFrame | None = None
    gas_six_level: bool = False

    # ------------------------------------------------------------------ build
    @classmethod
    def build(cls, dataset: Dataset | str | Path, child_id: str, *, as_of=None,
              deidentify: bool = False, pseudonym: str | None = None) -> ChildReport:
        """Assemble the report of ``child_id`` from a dataset (or its path).

        With ``deidentify`` the report shows no name, no calendar date, no
        free text, no therapist or site, and no ID of the clinic's: the child
        is named by ``pseudonym`` (or not at all) and goals by number.
        """
        check_id(child_id)
        if pseudonym is not None:
            check_id(pseudonym, "pseudonym")
        if not isinstance(dataset, Dataset):
            dataset = load_dataset_cached(dataset)
        as_of = pd.Timestamp(as_of if as_of is not None else dt.date.today()).normalize()
        child = dataset.child(child_id)
        intake = child[C.REFERRAL_DATE]

        def when(value) -> str:
            if pd.isna(value):
                return ""
            if deidentify:
                return f"month {months_between(intake, value)}"
            return long_date(value)

        # sensory scores of this child up to as_of
        found = latest_scores(dataset, child_id, as_of)
        scores, primary, latest, instrument = (found.scores, found.primary, found.latest,
                                               found.instrument)

        quadrants = latest[latest[C.KIND] == "quadrant"]
        sections = latest[latest[C.KIND] == "section"]
        if instrument is not None and len(sections):
            kinds = {s.id: s.kind for s in instrument.sections}
            sections = sections.assign(**{C.SECTION_KIND: sections[C.SCORE].astype(str).map(kinds)})
        else:
            sections = sections.assign(**{C.SECTION_KIND: pd.Series(dtype="str")})

        changes = CH.score_changes(dataset.scores[dataset.scores[C.DATE] <= as_of],
                                   dataset.instruments, child_id=child_id) if len(
            scores) else pd.DataFrame(columns=CH.CHANGE_COLUMNS)
        sub = goal_subset(dataset, child_id)
        if deidentify:  # an area is shown only as a term of the dataset's vocabulary
            sub.goals = sub.goals.assign(**{C.DOMAIN: vocabulary_terms(
                sub.goals[C.DOMAIN], dataset.settings, "goal_domains")})
        attainment = G.goal_attainment(sub, as_of=as_of)
        trajectories = G.goal_trajectories(sub, as_of=as_of)

        header = header_table(dataset, child, scores, as_of, deidentify, when, pseudonym)
        report = cls(
            child_id=child_id, as_of=as_of.date(), deidentify=deidentify, header=header,
            title=("Sensory and goals report" if deidentify or pd.isna(child.get(C.DISPLAY_NAME))
                   else f"Sensory and goals report: {child[C.DISPLAY_NAME]}"),
            instrument_name=instrument.name if instrument is not None else None,
            demonstration_note=(None if instrument is None or instrument.clinical_use else
                                f"{instrument.name} is a demonstration form with invented "
                                "items and synthetic norms: not validated, not for clinical "
                                "use."),
            quadrant_table=score_table(quadrants, "Quadrant"),
            quadrant_profile=quadrants[[C.SCORE, C.SCORE_NAME, POSITION, C.CLASSIFICATION,
                                        C.LEVEL, C.PERCENTILE]].reset_index(drop=True),
            section_table=score_table(sections, "Section"),
            section_profile=sections[[C.SCORE, C.SCORE_NAME, C.KIND, POSITION,
                                      C.CLASSIFICATION, C.SECTION_KIND, C.PERCENTILE]
                                     ].reset_index(drop=True),
            trajectories=trajectory_frame(primary, intake, deidentify),
            change_table=change_table(changes, primary, when),
            goals_table=goals_table(sub.goals, attainment.goals, deidentify, when),
            goal_trajectories=goal_lines(sub.goals, trajectories, intake, deidentify),
            tscores=tscore_frame(attainment.reviews, intake, deidentify),
            scores=scores, changes=changes, reviews=attainment.reviews,
            gas_six_level=bool(dataset.gas_six_level),
        )
        report.summary = report._summary(quadrants, changes, attainment, when)
        report.notes = report._notes(dataset, scores, latest, trajectories, attainment)
        return report

    # -------------------------------------------------------------- words
    def _summary(self, quadrants, changes, attainment, when) -> list[str]:
        lines = []
        last = {}
        if len(changes):
            rows = changes[(changes[C.COMPARISON] == CH.CONSECUTIVE) & changes[C.COMPARED]]
            for _, r in rows.iterrows():
                last[str(r[C.SCORE])] = r  # rows are in date order: keep the latest
        for _, q in quadrants.iterrows():
            name = QUADRANT_NAMES.get(str(q[C.SCORE]), str(q[C.SCORE_NAME]))
            if not q[C.VALID]:
                lines.append(f"{name}: could not be scored ({q[C.INVALID_REASON]}).")
                continue
            text = (f"{name}: {q[C.CLASSIFICATION]}." if pd.notna(q[C.CLASSIFICATION])
                    else f"{name}: not classified ({q[C.UNCLASSIFIED_REASON]}).")
            r = last.get(str(q[C.SCORE]))
            if r is not None and r[C.TO_ASSESSMENT] == q[C.ASSESSMENT_ID]:
                since = (f"Since the assessment in {when(r[C.FROM_DATE])}" if self.deidentify
                         else f"Since the assessment on {when(r[C.FROM_DATE])}")
                direction = r[C.DIRECTION]
                reliable = r[C.RELIABLE]
                verdict = ("a reliable change" if pd.notna(reliable) and bool(reliable)
                           else "but by no more than measurement error could explain (not a "
                           "reliable change)" if pd.notna(reliable)
                           else "with no reliability figure to judge the change")
                if direction == CH.TOWARD_TYPICAL:
                    text += f" {since} this has moved toward the typical range, {verdict}."
                elif direction == CH.AWAY_FROM_TYPICAL:
                    text += f" {since} this has moved away from the typical range, {verdict}."
                elif direction == CH.WITHIN_TYPICAL:
                    text += f" {since} it has stayed within the typical range."
                elif direction == CH.CROSSED_TYPICAL:
                    text += f" {since} it has moved from one side of the typical range to " \
                            f"the other, {verdict}."
                elif direction == CH.NO_CHANGE:
                    text += f" {since} it has not changed."
            lines.append(text)
        goals = attainment.goals
        if len(goals):
            met = int(goals[C.DATE_FIRST_MET].notna().sum())
            lines.append(f"Goals: {met} of {len(goals)} goal(s) have reached the expected level "
                         "at least once.")
            if len(attainment.reviews):
                r = attainment.reviews.iloc[-1]
                lines.append(f"Goal attainment at the latest review ({when(r[C.DATE])}): "
                             f"T-score {r[C.T_SCORE]:.0f}, from {r[C.BASELINE_T]:.0f} at the "
                             "start (50 means goals met as expected).")
        return lines

    def _notes(self, dataset, scores, latest, trajectories, attainment) -> list[str]:
        notes = []
        if self.demonstration_note:
            notes.append(self.demonstration_note)
        for _, r in latest.iterrows():
            if r[C.N_MISSING]:
                notes.append(f"{r[C.SCORE_NAME]}: {r[C.N_MISSING]} item(s) left blank"
                             + (" (score prorated)." if r[C.PRORATED] else "."))
            if not r[C.VALID]:
                notes.append(f"{r[C.SCORE_NAME]}: not scored ({r[C.INVALID_REASON]}).")
            elif pd.isna(r[C.CLASSIFICATION]):
                notes.append(f"{r[C.SCORE_NAME]}: not classified ({r[C.UNCLASSIFIED_REASON]}).")
        if len(attainment.reviews):
            carried = int(attainment.reviews[C.N_CARRIED].sum())
            if carried:
                notes.append(f"{carried} goal rating(s) were carried forward from an earlier "
                             "review where a goal was not rated at a later one.")
        others = scores[~scores[C.ASSESSMENT_ID].isin(latest[C.ASSESSMENT_ID])]
        teacher = others[others[C.RESPONDENT].astype(str) != "caregiver"]
        if len(teacher):
            notes.append(f"{teacher[C.ASSESSMENT_ID].nunique()} questionnaire(s) from another "
                         "respondent (e.g. a teacher) are not compared with the caregiver's.")
        notes.extend(left_out_notes(dataset.report, self.child_id, scores, self.deidentify))
        return notes

    # ------------------------------------------------------------ display
    def summary_html(self) -> str:
        return items_html(self.summary, css_class="sp-summary", empty="Nothing to summarise yet.")

    def notes_html(self) -> str:
        return items_html(self.notes, css_class="sp-notes", empty="No data notes.")

    def texts(self) -> dict[str, str]:
        """The report's paragraphs whose numbers come from the package, by key."""
        low = -3 if self.gas_six_level else -2
        count = {5: "five", 6: "six"}[3 - low]
        levels = (f"Goals are rated on {count} levels: {level_text(low)} "
                  f"({LEVEL_WORDS[low]}) to +2 ({LEVEL_WORDS[2]}); 0 is the goal itself.")
        return {
            "reliable": ("A change counts as reliable when it is larger than the "
                         "questionnaire's own measurement error could explain (reliable "
                         f"change index beyond ±{CH.RCI_CRITICAL:g})."),
            "goal_levels": levels.replace("-", "−"),
        }

    def text_html(self, key: str) -> str:
        """A paragraph of :meth:`texts` as inert HTML."""
        return keyed_paragraph(self.texts(), key)

    def title_html(self) -> str:
        banner = (f"<p class='sp-banner'><strong>{html.escape(self.demonstration_note)}"
                  "</strong></p>" if self.demonstration_note else "")
        return f"<h1>{html.escape(self.title)}</h1>{banner}"


__all__ = ["ChildReport"]
