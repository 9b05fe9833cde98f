"""Everything a per-child report shows, computed here so tests can reach it.

The notebook ``notebooks/child_report.ipynb`` only lays out what
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
from functools import lru_cache
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd

from sensoryprofile import change as CH
from sensoryprofile import columns as C
from sensoryprofile import goals as G
from sensoryprofile.dataset import Dataset, load_dataset
from sensoryprofile.errors import DatasetError
from sensoryprofile.ids import check_id
from sensoryprofile.instruments.schema import QUADRANTS
from sensoryprofile.norms import BAND_CENTERS

QUADRANT_WORDS = {"seeking": "Sensory seeking", "avoiding": "Sensory avoiding",
                  "sensitivity": "Sensory sensitivity", "registration": "Low registration"}
LEVEL_WORDS = {-3: "worse than at the start", -2: "much less than expected",
               -1: "less than expected", 0: "the expected outcome",
               1: "better than expected", 2: "much better than expected"}
POSITION = C.POSITION


def standing(scores: pd.DataFrame) -> pd.Series:
    """Where each score stands on the classification scale, in z units.

    The behaviour-oriented z clipped to [-3, 3] where there is one (mean/SD
    norms); otherwise the centre of the classification band (cut-table
    norms); NaN when unclassified.
    """
    z = scores[C.Z].astype(float).clip(-3, 3)
    level = scores[C.LEVEL].astype("Float64").to_numpy(dtype=float, na_value=np.nan)
    centre = pd.Series(level, index=scores.index).map(BAND_CENTERS)
    return z.where(z.notna(), centre)


def _date_text(value) -> str:
    if pd.isna(value):
        return ""
    value = pd.Timestamp(value)
    return f"{value.day} {value.strftime('%B %Y')}"


def _months_between(start, end) -> int:
    start, end = pd.Timestamp(start), pd.Timestamp(end)
    months = (end.year - start.year) * 12 + (end.month - start.month)
    return int(months - (end.day < start.day))


def _age_text(months: float) -> str:
    if pd.isna(months):
        return "unknown"
    years, rest = divmod(int(months), 12)
    return f"{years} years {rest} months" if years else f"{rest} months"


@lru_cache(maxsize=4)
def _cached_dataset(path: str, stamp: tuple, today: dt.date | None) -> Dataset:
    return load_dataset(path, today=today)


def dataset_stamp(path: Path) -> tuple:
    """Identity of a dataset's files (name, size, mtime) for caching."""
    files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
    return tuple((str(p), p.stat().st_size, p.stat().st_mtime_ns) for p in files)


def load_dataset_cached(path: str | Path, *, today: dt.date | None = None) -> Dataset:
    """:func:`load_dataset`, remembered while the files are unchanged (a batch
    of reports in one kernel loads the clinic's data once)."""
    path = Path(path).resolve()
    if not path.exists():
        raise DatasetError(f"{path}: no such dataset")
    return _cached_dataset(str(path), dataset_stamp(path), today)


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

    # ------------------------------------------------------------------ build
    @classmethod
    def build(cls, dataset: Dataset | str | Path, child_id: str, *, as_of=None,
              deidentify: bool = False) -> ChildReport:
        """Assemble the report of ``child_id`` from a dataset (or its path)."""
        check_id(child_id)
        if not isinstance(dataset, Dataset):
            dataset = load_dataset_cached(dataset)
        as_of = pd.Timestamp(as_of if as_of is not None else dt.date.today()).normalize()
        child = dataset.child(child_id)
        intake = child[C.REFERRAL_DATE]

        def when(value) -> str:
            if pd.isna(value):
                return ""
            if deidentify:
                return f"month {_months_between(intake, value)}"
            return _date_text(value)

        # sensory scores of this child up to as_of
        scores = dataset.scores[(dataset.scores[C.CHILD_ID] == child_id)
                                & (dataset.scores[C.DATE] <= as_of)].copy()
        scores[POSITION] = standing(scores)
        primary = cls._primary_series(scores, dataset)
        latest = (primary[primary[C.ASSESSMENT_ID] == primary[C.ASSESSMENT_ID].iloc[-1]]
                  if len(primary) else primary)
        instrument = (dataset.instruments.get(str(latest[C.INSTRUMENT].iloc[0]))
                      if len(latest) else None)

        quadrants = latest[latest[C.KIND] == "quadrant"]
        sections = latest[latest[C.KIND] == "section"]
        if instrument is not None and len(sections):
            kinds = {s.id: s.kind for s in instrument.sections}
            sections = sections.assign(section_kind=sections[C.SCORE].astype(str).map(kinds))
        else:
            sections = sections.assign(section_kind=pd.Series(dtype="str"))

        changes = CH.score_changes(dataset.scores[dataset.scores[C.DATE] <= as_of],
                                   dataset.instruments, child_id=child_id) if len(
            scores) else pd.DataFrame(columns=CH.CHANGE_COLUMNS)
        sub = cls._goal_subset(dataset, child_id)
        attainment = G.goal_attainment(sub, as_of=as_of)
        trajectories = G.goal_trajectories(sub, as_of=as_of)

        header = cls._header(dataset, child, scores, as_of, deidentify, when)
        report = cls(
            child_id=child_id, as_of=as_of.date(), deidentify=deidentify, header=header,
            title=("Sensory and goals report" if deidentify or pd.isna(child.get(C.DISPLAY_NAME))
                   else f"Sensory and goals report: {child[C.DISPLAY_NAME]}"),
            instrument_name=instrument.name if instrument is not None else None,
            demonstration_note=(None if instrument is None or instrument.clinical_use else
                                f"{instrument.name} is a demonstration form with invented "
                                "items and synthetic norms: not validated, not for clinical "
                                "use."),
            quadrant_table=cls._score_table(quadrants, "Quadrant"),
            quadrant_profile=quadrants[[C.SCORE, C.SCORE_NAME, POSITION, C.CLASSIFICATION,
                                        C.LEVEL]].reset_index(drop=True),
            section_table=cls._score_table(sections, "Section"),
            section_profile=sections[[C.SCORE, C.SCORE_NAME, C.KIND, POSITION,
                                      C.CLASSIFICATION, "section_kind"]].reset_index(drop=True),
            trajectories=cls._trajectories(primary, intake, deidentify),
            change_table=cls._change_table(changes, primary, when),
            goals_table=cls._goals_table(sub.goals, attainment.goals, deidentify, when),
            goal_trajectories=cls._goal_lines(sub.goals, trajectories, intake, deidentify),
            tscores=cls._tscores(attainment.reviews, intake, deidentify),
            scores=scores, changes=changes, reviews=attainment.reviews,
        )
        report.summary = report._summary(quadrants, changes, attainment, when)
        report.notes = report._notes(dataset, scores, latest, trajectories, attainment)
        return report

    @staticmethod
    def _primary_series(scores: pd.DataFrame, dataset: Dataset) -> pd.DataFrame:
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

    @staticmethod
    def _goal_subset(dataset: Dataset, child_id: str) -> SimpleNamespace:
        goals = dataset.goals[dataset.goals[C.CHILD_ID] == child_id]
        ratings = dataset.goal_ratings[dataset.goal_ratings[C.GOAL_ID].isin(goals[C.GOAL_ID])]
        return SimpleNamespace(goals=goals, goal_ratings=ratings,
                               gas_six_level=dataset.gas_six_level)

    @staticmethod
    def _header(dataset, child, scores, as_of, deidentify, when) -> pd.DataFrame:
        from sensoryprofile.norms import age_in_months

        age = age_in_months(pd.Series([child[C.DATE_OF_BIRTH]]), pd.Series([as_of]))[0]
        if pd.isna(age) and pd.notna(child.get(C.AGE_AT_REFERRAL_MONTHS)):  # an extract
            age = float(child[C.AGE_AT_REFERRAL_MONTHS]) + _months_between(
                child[C.REFERRAL_DATE], as_of)
        dates = sorted(scores[C.DATE].dropna().unique())
        rows = [("Child", child[C.CHILD_ID] if deidentify or pd.isna(child.get(C.DISPLAY_NAME))
                 else f"{child[C.DISPLAY_NAME]} ({child[C.CHILD_ID]})"),
                ("Age", _age_text(age) + ("" if deidentify else f" on {_date_text(as_of)}")),
                ("Therapist", child.get(C.THERAPIST) if pd.notna(child.get(C.THERAPIST))
                 else "not recorded"),
                ("Site", child.get(C.SITE) if pd.notna(child.get(C.SITE)) else "not recorded"),
                ("Referred", "month 0" if deidentify else _date_text(child[C.REFERRAL_DATE])),
                ("Assessments", ", ".join(when(d) for d in dates) or "none yet")]
        if pd.notna(child.get(C.DISCHARGE_DATE)) and child[C.DISCHARGE_DATE] <= as_of:
            rows.append(("Discharged", when(child[C.DISCHARGE_DATE])))
        if deidentify:
            rows.append(("Note", "De-identified: no name, no calendar dates (months since "
                         "referral instead), goals named by area only."))
        return pd.DataFrame(rows, columns=["", " "])

    @staticmethod
    def _score_table(rows: pd.DataFrame, what: str) -> pd.DataFrame:
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
            "Raw score": [("" if pd.isna(r) else f"{r:.0f}" if float(r).is_integer() else
                           f"{r:.1f}") + f" of {mx:.0f}" for r, mx in
                          zip(rows[C.RAW], rows[C.MAX_POSSIBLE], strict=True)],
            "Percentile": ["" if pd.isna(p) else f"{p:.0f}" for p in rows[C.PERCENTILE]],
            "Classification": rows[C.CLASSIFICATION].astype(object).fillna("-").to_numpy(),
            "Notes": [note(r) for _, r in rows.iterrows()],
        })

    @staticmethod
    def _x(dates: pd.Series, intake, deidentify: bool) -> pd.Series:
        if not deidentify:
            return dates
        return dates.map(lambda d: _months_between(intake, d) if pd.notna(d) else np.nan)

    @classmethod
    def _trajectories(cls, primary, intake, deidentify) -> pd.DataFrame:
        rows = primary[primary[C.KIND] == "quadrant"]
        return pd.DataFrame({
            C.DATE: cls._x(rows[C.DATE], intake, deidentify).to_numpy(),
            C.SCORE: rows[C.SCORE].astype(str).to_numpy(),
            C.SCORE_NAME: rows[C.SCORE_NAME].astype(str).to_numpy(),
            POSITION: rows[POSITION].to_numpy(),
        })

    @staticmethod
    def _change_table(changes: pd.DataFrame, primary: pd.DataFrame, when) -> pd.DataFrame:
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

    @staticmethod
    def _goal_label(k: int, goal: pd.Series, deidentify: bool) -> str:
        if deidentify or pd.isna(goal.get(C.DESCRIPTION)):
            return f"Goal {k} ({goal[C.DOMAIN]})"
        text = str(goal[C.DESCRIPTION])
        return f"Goal {k}: {text if len(text) <= 60 else text[:57] + '...'}"

    @classmethod
    def _goals_table(cls, goals, per_goal, deidentify, when) -> pd.DataFrame:
        columns = ["Goal", "Area", "Weight", "At the start", "Latest", "Met", "Target date"]
        if goals.empty:
            return pd.DataFrame(columns=columns)
        info = per_goal.set_index(C.GOAL_ID)
        out = []
        for k, (_, goal) in enumerate(goals.iterrows(), start=1):
            g = info.loc[goal[C.GOAL_ID]] if goal[C.GOAL_ID] in info.index else None
            latest = g[C.LATEST_LEVEL] if g is not None else pd.NA

            def level_text(level, goal=goal):
                if pd.isna(level):
                    return "not rated yet"
                words = f"{int(level):+d} {LEVEL_WORDS.get(int(level), '')}".replace("+0", "0")
                text_col = f"level_{int(level):+d}".replace("+0", "0")
                if not deidentify and text_col in goal and pd.notna(goal[text_col]):
                    words += f": {goal[text_col]}"
                return words

            met = ("not yet" if g is None or pd.isna(g[C.DATE_FIRST_MET])
                   else f"yes, {when(g[C.DATE_FIRST_MET])}")
            if g is not None and bool(g[C.OVERDUE]):
                met += " (past target date)"
            out.append([cls._goal_label(k, goal, deidentify), goal[C.DOMAIN],
                        "" if g is None else f"{g[C.WEIGHT]:g}",
                        level_text(goal[C.BASELINE_LEVEL]), level_text(latest), met,
                        when(goal.get(C.TARGET_DATE))])
        return pd.DataFrame(out, columns=columns)

    @classmethod
    def _goal_lines(cls, goals, trajectories, intake, deidentify) -> pd.DataFrame:
        labels = {g[C.GOAL_ID]: cls._goal_label(k, g, deidentify)
                  for k, (_, g) in enumerate(goals.iterrows(), start=1)}
        base = goals[[C.GOAL_ID, C.SET_DATE, C.BASELINE_LEVEL]].rename(
            columns={C.SET_DATE: C.DATE})
        base = base.assign(**{C.LEVEL: base[C.BASELINE_LEVEL], C.CARRIED: False,
                              "is_baseline": True})
        rated = trajectories[~trajectories[G.AT_BASELINE]] if len(trajectories) else trajectories
        rated = rated[[C.GOAL_ID, C.DATE, C.LEVEL, C.CARRIED, C.BASELINE_LEVEL]].assign(
            is_baseline=False)
        lines = pd.concat([base, rated], ignore_index=True).sort_values(
            [C.GOAL_ID, C.DATE, "is_baseline"], ascending=[True, True, False], kind="stable")
        lines["label"] = lines[C.GOAL_ID].map(labels)
        lines[C.DATE] = cls._x(lines[C.DATE], intake, deidentify)
        lines[C.LEVEL] = lines[C.LEVEL].astype(int)
        return lines.reset_index(drop=True)

    @classmethod
    def _tscores(cls, reviews, intake, deidentify) -> pd.DataFrame:
        return pd.DataFrame({C.DATE: cls._x(reviews[C.DATE], intake, deidentify).to_numpy(),
                             C.T_SCORE: reviews[C.T_SCORE].to_numpy(),
                             C.BASELINE_T: reviews[C.BASELINE_T].to_numpy()})

    # -------------------------------------------------------------- words
    def _summary(self, quadrants, changes, attainment, when) -> list[str]:
        lines = []
        last = {}
        if len(changes):
            rows = changes[(changes[C.COMPARISON] == CH.CONSECUTIVE) & changes[C.COMPARED]]
            for _, r in rows.iterrows():
                last[str(r[C.SCORE])] = r  # rows are in date order: keep the latest
        for _, q in quadrants.iterrows():
            name = QUADRANT_WORDS.get(str(q[C.SCORE]), str(q[C.SCORE_NAME]))
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
        problems = [p for p in dataset.report.problems
                    if p.key and p.key.split("=", 1)[-1] in set(
                        scores[C.ASSESSMENT_ID].astype(str))]
        if problems:
            notes.append(f"{len(problems)} data problem(s) affect this child's assessments "
                         "(see the clinic's validation report).")
        return notes

    # ------------------------------------------------------------ display
    def summary_html(self) -> str:
        items = "".join(f"<li>{html.escape(s)}</li>" for s in self.summary)
        return f"<ul class='sp-summary'>{items}</ul>" if items else "<p>Nothing to summarise " \
            "yet.</p>"

    def notes_html(self) -> str:
        items = "".join(f"<li>{html.escape(s)}</li>" for s in self.notes)
        return f"<ul class='sp-notes'>{items}</ul>" if items else "<p>No data notes.</p>"

    def title_html(self) -> str:
        banner = (f"<p class='sp-banner'><strong>{html.escape(self.demonstration_note)}"
                  "</strong></p>" if self.demonstration_note else "")
        return f"<h1>{html.escape(self.title)}</h1>{banner}"


def table_html(frame: pd.DataFrame, *, empty: str = "None.") -> str:
    """A table as inert HTML: every cell escaped, no index."""
    if frame.empty:
        return f"<p>{html.escape(empty)}</p>"
    return frame.to_html(index=False, escape=True, border=0, classes="sp-table",
                         na_rep="")


__all__ = ["QUADRANTS", "ChildReport", "check_id", "load_dataset_cached", "standing",
           "table_html"]
