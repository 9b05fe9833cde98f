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
from sensoryprofile.errors import UsageError
from sensoryprofile.ids import check_id
from sensoryprofile.instruments.schema import QUADRANT_NAMES
from sensoryprofile.measures import change as CH
from sensoryprofile.measures import goals as G
from sensoryprofile.measures.norms import percentile_text, standing
from sensoryprofile.reports.formatting import (
    age_text,
    items_html,
    keyed_paragraph,
    level_text,
    long_date,
    raw_text,
    table_html,
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
        {k: i.respondents[0] for k, i in dataset.instruments.items()})
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


def respondent_text(respondent) -> str:
    """A respondent type as a report names it: "Caregiver", "Teacher", "Self-report"."""
    if respondent is None or pd.isna(respondent) or not str(respondent).strip():
        return "Not recorded"
    text = str(respondent).strip()
    return "Self-report" if text == "self" else text[:1].upper() + text[1:]


def is_self_report(primary: pd.DataFrame) -> bool:
    """Whether the child's main series is answered by the person themself."""
    return bool(len(primary)) and str(primary[C.RESPONDENT].iloc[-1]) == "self"


def questionnaire_rows(instrument, primary: pd.DataFrame) -> list[tuple[str, str]]:
    """The header rows naming the form, its version and who answered it."""
    if instrument is None or primary.empty:
        return []
    return [("Questionnaire", f"{instrument.name}, version {instrument.version}"),
            ("Answered by", respondent_text(primary[C.RESPONDENT].iloc[-1]))]


def header_table(dataset, child, scores, as_of, deidentify, when, pseudonym=None,
                 subject: str = "Child", form_rows=()) -> pd.DataFrame:
    """The report's header: child (or, for an adult's self-report, person),
    age, therapist, site, referral, assessments, the questionnaire and its
    respondent (de-identified: the pseudonym, age, months since referral; no
    therapist, site or ID of the clinic's)."""
    age = age_on(child, as_of)
    dates = sorted(scores[C.DATE].dropna().unique())
    if deidentify:
        rows = [(subject, pseudonym or "(de-identified)"),
                ("Age", age_text(age)),
                ("Referred", "month 0"),
                ("Assessments", ", ".join(when(d) for d in dates) or "none yet")]
    else:
        rows = [(subject, child[C.CHILD_ID] if pd.isna(child.get(C.DISPLAY_NAME))
                 else f"{child[C.DISPLAY_NAME]} ({child[C.CHILD_ID]})"),
                ("Age", f"{age_text(age)} on {long_date(as_of)}"),
                ("Therapist", child.get(C.THERAPIST) if pd.notna(child.get(C.THERAPIST))
                 else "not recorded"),
                ("Site", child.get(C.SITE) if pd.notna(child.get(C.SITE)) else "not recorded"),
                ("Referred", long_date(child[C.REFERRAL_DATE])),
                ("Assessments", ", ".join(when(d) for d in dates) or "none yet")]
    rows.extend(form_rows)
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
    table = pd.DataFrame({
        what: rows[C.SCORE_NAME].astype(str).to_numpy(),
        "Raw score": [raw_text(r, mx) for r, mx in
                      zip(rows[C.RAW], rows[C.MAX_POSSIBLE], strict=True)],
        "Percentile": ["" if pd.isna(p) else percentile_text(p) for p in rows[C.PERCENTILE]],
        "Classification": rows[C.CLASSIFICATION].astype(object).fillna("-").to_numpy(),
        "Notes": [note(r) for _, r in rows.iterrows()],
    })
    if rows[C.PERCENTILE].isna().all():  # cut-score norms: no percentile to show
        table = table.drop(columns="Percentile")
    return table


def _x_values(dates: pd.Series, intake, deidentify: bool) -> pd.Series:
    """Dates, or months since referral when de-identified (the charts' x values)."""
    if not deidentify:
        return dates
    return dates.map(lambda d: months_between(intake, d) if pd.notna(d) else np.nan)


def _primary_ids(instrument) -> list[str]:
    return [s.id for s in instrument.primary_scores] if instrument is not None else []


def trajectory_frame(primary, intake, deidentify, instrument=None) -> pd.DataFrame:
    """The form's primary scores (quadrants, or its sections and total) at
    each administration of the main series: the chart of change over time."""
    rows = primary[primary[C.SCORE].astype(str).isin(_primary_ids(instrument))]
    return pd.DataFrame({
        C.DATE: _x_values(rows[C.DATE], intake, deidentify).to_numpy(),
        C.SCORE: rows[C.SCORE].astype(str).to_numpy(),
        C.SCORE_NAME: rows[C.SCORE_NAME].astype(str).to_numpy(),
        POSITION: rows[POSITION].to_numpy(),
        C.CLASSIFICATION: rows[C.CLASSIFICATION].astype(object).to_numpy(),  # the alt text's
    })


def change_table(changes: pd.DataFrame, primary: pd.DataFrame, when,
                 instrument=None) -> pd.DataFrame:
    """Change since the previous administration of the main series, per
    primary score of the form."""
    what = "Quadrant" if instrument is not None and instrument.has_quadrants else "Score"
    columns = [what, "Compared with", "Then", "Now", "Raw change", "Reliable change "
               "index", "Reliable?", "Direction"]
    if changes.empty or primary.empty:
        return pd.DataFrame(columns=columns)
    last_id = primary[C.ASSESSMENT_ID].iloc[-1]
    rows = changes[(changes[C.COMPARISON] == CH.CONSECUTIVE)
                   & (changes[C.TO_ASSESSMENT] == last_id)
                   & changes[C.SCORE].astype(str).isin(_primary_ids(instrument))]
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



#: Forms from two respondents this many months apart or closer are shown side
#: by side (the notebook's ``compare_within_months``).
COMPARE_WITHIN_MONTHS = 3
#: Respondents whose classifications of a score are this many levels apart
#: (or more) are flagged.
FLAG_LEVELS = 2


def respondent_comparison(scores: pd.DataFrame, instruments, when,
                          within_months: float = COMPARE_WITHIN_MONTHS) -> SimpleNamespace | None:
    """Forms of the same questionnaire from different respondents (a
    caregiver at home, a teacher at school) answered within ``within_months``
    of each other, side by side; None when the child has none.

    The most recent such set is shown: the latest form that has another
    respondent's form within the window, and for each other respondent its
    form nearest in date. Returns ``instrument`` (its id), ``assessments``
    (assessment_id, respondent, date, in the form's order of respondents),
    ``table`` (a row per score: each respondent's classification, how many
    levels apart, and a flag at :data:`FLAG_LEVELS` or more) and ``chart``
    (the frame of :func:`~sensoryprofile.plots.child.plot_respondent_comparison`).
    """
    if scores.empty:
        return None
    forms = (scores[[C.ASSESSMENT_ID, C.INSTRUMENT, C.RESPONDENT, C.DATE]]
             .drop_duplicates(C.ASSESSMENT_ID).dropna(subset=[C.DATE])
             .sort_values([C.DATE, C.ASSESSMENT_ID], ascending=False, kind="stable"))
    forms = forms.assign(**{C.RESPONDENT: forms[C.RESPONDENT].astype(object).fillna("")})
    window = pd.DateOffset(months=int(within_months),
                           days=round((within_months - int(within_months)) * 30.4375))
    chosen = None
    for _, anchor in forms.iterrows():
        near = forms[(forms[C.INSTRUMENT] == anchor[C.INSTRUMENT])
                     & (forms[C.RESPONDENT] != anchor[C.RESPONDENT])
                     & (forms[C.DATE] >= anchor[C.DATE] - window)
                     & (forms[C.DATE] <= anchor[C.DATE] + window)]
        if near.empty:
            continue
        gap = (near[C.DATE] - anchor[C.DATE]).abs()
        near = near.assign(_gap=gap).sort_values(["_gap", C.DATE], ascending=[True, False],
                                                 kind="stable")
        picked = near.drop_duplicates(C.RESPONDENT).drop(columns="_gap")
        chosen = pd.concat([anchor.to_frame().T, picked], ignore_index=True)
        break
    if chosen is None:
        return None
    form = str(chosen[C.INSTRUMENT].iloc[0])
    inst = instruments.get(form)
    order = list(inst.respondents) if inst is not None else []
    chosen = chosen.assign(_order=[order.index(r) if r in order else len(order)
                                   for r in chosen[C.RESPONDENT]]).sort_values(
        ["_order", C.DATE], kind="stable").drop(columns="_order").reset_index(drop=True)
    heads = [f"{respondent_text(r)} ({when(d)})" for r, d in
             zip(chosen[C.RESPONDENT], chosen[C.DATE], strict=True)]
    rows = scores[scores[C.ASSESSMENT_ID].isin(chosen[C.ASSESSMENT_ID])]
    row_scores = rows[C.SCORE].astype(str)
    score_ids = ([sc.id for sc in inst.scores] if inst is not None
                 else list(pd.unique(row_scores)))
    # the first row of each score, and of each (score, form): read once, not
    # filtered out of the rows again for every score and form
    fields = [C.SCORE_NAME, C.CLASSIFICATION, C.LEVEL, POSITION]
    records = rows[fields].to_dict("records")
    first_of_score: dict[str, dict] = {}
    first_of_form: dict[tuple, dict] = {}
    for score_id, aid, record in zip(row_scores, rows[C.ASSESSMENT_ID], records, strict=True):
        first_of_score.setdefault(score_id, record)
        first_of_form.setdefault((score_id, aid), record)
    table, chart = [], []
    for score_id in score_ids:
        if score_id not in first_of_score:
            continue
        name = str(first_of_score[score_id][C.SCORE_NAME])
        line = {"Score": name}
        levels = []
        for head, aid in zip(heads, chosen[C.ASSESSMENT_ID], strict=True):
            r = first_of_form.get((score_id, aid))
            if r is None or pd.isna(r[C.CLASSIFICATION]):
                line[head] = "-" if r is None else "not classified"
                levels.append(np.nan)
            else:
                line[head] = str(r[C.CLASSIFICATION])
                levels.append(float(r[C.LEVEL]))
        known = [lv for lv in levels if not np.isnan(lv)]
        apart = (max(known) - min(known)) if len(known) >= 2 else np.nan
        flagged = bool(not np.isnan(apart) and apart >= FLAG_LEVELS)
        line["Levels apart"] = "" if np.isnan(apart) else f"{apart:.0f}"
        line["Flag"] = f"differ by {apart:.0f} levels" if flagged else ""
        table.append(line)
        for head, aid in zip(heads, chosen[C.ASSESSMENT_ID], strict=True):
            r = first_of_form.get((score_id, aid))
            if r is not None:
                chart.append({C.SCORE_NAME: name, C.RESPONDENT: head,
                              POSITION: r[POSITION], C.CLASSIFICATION: r[C.CLASSIFICATION],
                              "flagged": flagged})
    return SimpleNamespace(
        instrument=form, name=inst.name if inst is not None else form,
        scheme=inst.scheme if inst is not None else None,
        assessments=chosen[[C.ASSESSMENT_ID, C.RESPONDENT, C.DATE]],
        within_months=within_months, heads=heads,
        table=pd.DataFrame(table, columns=["Score", *heads, "Levels apart", "Flag"]),
        chart=pd.DataFrame(chart, columns=[C.SCORE_NAME, C.RESPONDENT, POSITION,
                                           C.CLASSIFICATION, "flagged"]))


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



def _parts_text(instrument, others: pd.DataFrame) -> str:
    """What the section table holds, in the form's own words: "The same
    answers grouped by the form's sections (Touch, Hearing, Movement) and its
    total."."""
    if instrument is None or others.empty:
        return "The same answers grouped by the form's sections."
    kinds = others[C.KIND].astype(str)
    names = others.loc[kinds == "section", C.SCORE_NAME].astype(str).tolist()
    parts = []
    if names:
        parts.append(f"its sections ({', '.join(names)})")
    for kind, word in (("total", "its total"), ("composite", "composite scores"),
                       ("factor", "factor scores")):
        these = others.loc[kinds == kind, C.SCORE_NAME].astype(str).tolist()
        if these:
            parts.append(word if kind == "total" else f"{word} ({', '.join(these)})")
    listed = (", ".join(parts[:-1]) + " and " + parts[-1]) if len(parts) > 1 else parts[0]
    return f"The same answers grouped into {listed}."


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
    #: the parts the form has: the quadrant profile and Dunn's map only with quadrants
    has_quadrants: bool = True
    #: the form's classification scheme (the charts' band labels); None: the five levels
    band_labels: object = None
    #: who the person is compared with, and what the report calls them
    peers: str = "children"
    subject: str = "child"
    #: the form's own words for its parts (the intro to the section table)
    parts_text: str = ""
    typical_label: str = "Just Like the Majority of Others"
    #: forms of two respondents side by side (:func:`respondent_comparison`)
    comparison: SimpleNamespace | None = None
    comparison_table: pd.DataFrame = field(default_factory=pd.DataFrame)
    comparison_chart: pd.DataFrame = field(default_factory=pd.DataFrame)

    # ------------------------------------------------------------------ build
    @classmethod
    def build(cls, dataset: Dataset | str | Path, child_id: str, *, as_of=None,
              deidentify: bool = False, pseudonym: str | None = None,
              compare_within_months: float = COMPARE_WITHIN_MONTHS) -> ChildReport:
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

        if isinstance(compare_within_months, bool) or not isinstance(
                compare_within_months, int | float) or not 0 < compare_within_months <= 24:
            raise UsageError("`compare_within_months` must be a number of months above 0 "
                             f"and at most 24, but {compare_within_months!r} was passed")
        quadrants = latest[latest[C.KIND] == "quadrant"]
        # every other score the form has: sections, totals, composites, factors
        sections = latest[latest[C.KIND] != "quadrant"]
        if instrument is not None and len(sections):
            kinds = {s.id: s.kind for s in instrument.sections}
            sections = sections.assign(**{C.SECTION_KIND: sections[C.SCORE].astype(str).map(
                kinds).where(sections[C.KIND] == "section")})
        else:
            sections = sections.assign(**{C.SECTION_KIND: pd.Series(dtype="str")})
        self_report = is_self_report(primary)
        comparison = respondent_comparison(scores, dataset.instruments, when,
                                           compare_within_months)

        changes = CH.score_changes(dataset.scores[dataset.scores[C.DATE] <= as_of],
                                   dataset.instruments, child_id=child_id) if len(
            scores) else pd.DataFrame(columns=CH.CHANGE_COLUMNS)
        sub = goal_subset(dataset, child_id)
        if deidentify:  # an area is shown only as a term of the dataset's vocabulary
            sub.goals = sub.goals.assign(**{C.DOMAIN: vocabulary_terms(
                sub.goals[C.DOMAIN], dataset.settings, "goal_domains")})
        attainment = G.goal_attainment(sub, as_of=as_of)
        trajectories = G.goal_trajectories(sub, as_of=as_of)

        header = header_table(dataset, child, scores, as_of, deidentify, when, pseudonym,
                              subject="Person" if self_report else "Child",
                              form_rows=questionnaire_rows(instrument, primary))
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
            section_table=score_table(sections, "Score" if (sections[C.KIND] != "section").any()
                                      else "Section"),
            section_profile=sections[[C.SCORE, C.SCORE_NAME, C.KIND, POSITION,
                                      C.CLASSIFICATION, C.SECTION_KIND, C.PERCENTILE]
                                     ].reset_index(drop=True),
            trajectories=trajectory_frame(primary, intake, deidentify, instrument),
            change_table=change_table(changes, primary, when, instrument),
            goals_table=goals_table(sub.goals, attainment.goals, deidentify, when),
            goal_trajectories=goal_lines(sub.goals, trajectories, intake, deidentify),
            tscores=tscore_frame(attainment.reviews, intake, deidentify),
            scores=scores, changes=changes, reviews=attainment.reviews,
            gas_six_level=bool(dataset.gas_six_level),
            has_quadrants=instrument is None or instrument.has_quadrants,
            band_labels=instrument.scheme if instrument is not None else None,
            peers="people" if self_report else "children",
            subject="person" if self_report else "child",
            parts_text=_parts_text(instrument, sections),
            typical_label=(instrument.scheme.level(instrument.scheme.typical).label
                           if instrument is not None else "Just Like the Majority of Others"),
            comparison=comparison,
            comparison_table=comparison.table if comparison else pd.DataFrame(),
            comparison_chart=comparison.chart if comparison else pd.DataFrame(),
        )
        primary_latest = latest[latest[C.SCORE].astype(str).isin(_primary_ids(instrument))]
        report.summary = report._summary(primary_latest, changes, attainment, when)
        report._window = compare_within_months
        report.notes = report._notes(dataset, scores, latest, trajectories, attainment, primary)
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
        if self.comparison is not None:
            table = self.comparison.table
            flagged = [str(r["Score"]) for _, r in table.iterrows() if r["Flag"]]
            unknown = int((table["Levels apart"] == "").sum())
            who = " and ".join(h.split(" (")[0].lower() for h in self.comparison.heads)
            listed = (", ".join(flagged[:-1]) + " and " + flagged[-1]) if len(
                flagged) > 1 else "".join(flagged)
            every = "every score" if not unknown else "every score both could classify"
            text = (f"Answers of the {who} differ by two levels or more on {listed}."
                    if flagged else f"Answers of the {who} agree within one level on {every}.")
            if unknown:
                text += (f" {unknown} score(s) could not be compared (not classified on one "
                         "of the forms).")
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

    @property
    def comparison_window(self) -> float:
        return (self.comparison.within_months if self.comparison is not None
                else self._window)

    _window: float = COMPARE_WITHIN_MONTHS

    def _notes(self, dataset, scores, latest, trajectories, attainment,
               primary=None) -> list[str]:
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
        shown = set(primary[C.ASSESSMENT_ID].astype(str))
        if self.comparison is not None:
            shown |= set(self.comparison.assessments[C.ASSESSMENT_ID].astype(str))
        others = scores[~scores[C.ASSESSMENT_ID].astype(str).isin(shown)]
        if len(others):
            who = ", ".join(dict.fromkeys(
                f"{respondent_text(r).lower()} on {f}" for r, f in
                zip(others[C.RESPONDENT], others[C.INSTRUMENT], strict=True)))
            notes.append(f"{others[C.ASSESSMENT_ID].nunique()} questionnaire(s) outside the "
                         f"main series ({who}) are not charted: the report follows the latest "
                         "form of its main respondent, and sets another respondent's form "
                         f"beside it only when answered within {self.comparison_window:g} "
                         "months of each other.")
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
        a, people = f"a {self.subject}", self.peers
        one_sided = self.band_labels is not None and self.band_labels.one_sided
        if self.has_quadrants:
            tails = ("the levels beyond it mark a growing difference" if one_sided
                     else "both more and less than others can matter")
            profile = (f"The questionnaire describes how {a} notices and responds to everyday "
                       "sensations. Its answers are grouped into four patterns (Dunn's "
                       "quadrants): seeking more sensation, avoiding it, being sensitive to "
                       "it, and registration (not noticing it). Each is compared with "
                       f"{people} of the same age. {self.typical_label} is the typical "
                       f"range; {tails}, and {a} can be high on more than one pattern.")
        else:
            scheme = self.band_labels
            outward = ([lv.label for lv in scheme.by_ordinal if lv.ordinal != 0]
                       if scheme is not None else [])
            profile = (f"The questionnaire describes how {a} responds to everyday "
                       "sensations. This form has no quadrants: its answers are scored by "
                       f"section and in total, each compared with {people} of the same age "
                       f"by the form's own norms. {self.typical_label} is the typical range"
                       + (f"; {', then '.join(outward)} mark a growing difference from it."
                          if outward and scheme.one_sided else "."))
        return {
            "profile": profile,
            "pattern_map": (f"The same four patterns on Dunn's map: how quickly {a} notices "
                            "sensations (top: slowly, bottom: quickly) and how they respond "
                            "(left: going along with it, right: acting to change it). Larger, "
                            f"darker circles mean more of that pattern than other {people}."),
            "parts": self.parts_text,
            "comparison": self._comparison_text(),
            "reliable": ("A change counts as reliable when it is larger than the "
                         "questionnaire's own measurement error could explain (reliable "
                         f"change index beyond ±{CH.RCI_CRITICAL:g})."),
            "goal_levels": levels.replace("-", "−"),
        }

    @property
    def section_chart_height(self) -> float:
        """The section chart's height in inches: room for its rows and group headings."""
        kinds = self.section_profile[C.KIND].astype(str)
        groups = self.section_profile[C.SECTION_KIND].astype(str).where(kinds == "section", kinds)
        return 1.8 + 0.42 * (len(self.section_profile) + groups.nunique())

    @property
    def comparison_chart_height(self) -> float:
        """The side-by-side chart's height in inches: a row per score."""
        return 2.2 + 0.55 * self.comparison_chart[C.SCORE_NAME].nunique() if len(
            self.comparison_chart) else 3.0

    def _comparison_text(self) -> str:
        if self.comparison is None:
            return ""
        who = " and ".join(self.comparison.heads)
        return (f"{self.comparison.name}: forms answered by different people within "
                f"{self.comparison_window:g} months of each other: {who}. Each score's "
                "classification, in this form's own levels, is shown for each of "
                f"them; where they are {FLAG_LEVELS} or more levels apart the row is flagged, "
                "since the same behaviour looks different at home and at school, or to "
                "different people.")

    def comparison_html(self) -> str:
        """The side-by-side part (heading, text and table) as HTML; empty when
        the child has no forms of two respondents within the window."""
        if self.comparison is None:
            return ""
        heading = ("Home and school side by side" if {"caregiver", "teacher"} <= set(
            self.comparison.assessments[C.RESPONDENT].astype(str)) else
                   "Respondents side by side")
        return (f"<h2 id='respondents'>{html.escape(heading)}</h2>"
                + self.text_html("comparison")
                + table_html(self.comparison_table,
                             caption="Each respondent's classification of every score"))

    def text_html(self, key: str) -> str:
        """A paragraph of :meth:`texts` as inert HTML."""
        return keyed_paragraph(self.texts(), key)

    def title_html(self) -> str:
        banner = (f"<p class='sp-banner'><strong>{html.escape(self.demonstration_note)}"
                  "</strong></p>" if self.demonstration_note else "")
        return f"<h1>{html.escape(self.title)}</h1>{banner}"


__all__ = ["ChildReport"]
