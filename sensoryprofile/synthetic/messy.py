"""A synthetic clinic with planted defects, to show (and test) validation.

:func:`write_messy_clinic` writes a small generated clinic into which a list
of defects of different kinds is planted. Each :class:`Defect` knows the
report row it must produce; rows that depend on a rejected row (a rejected
child's assessments and goals, a rejected goal's ratings) are derived from the
data, so the complete expected report is known. The test suite checks that
validation reports every planted defect and nothing else.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from sensoryprofile import columns as C
from sensoryprofile.data.tables import write_text_atomic
from sensoryprofile.data.validation import (
    COLUMN_IGNORED,
    DEPENDENT_REJECTED,
    HIDDEN,
    ROW_REJECTED,
    SCORE_INVALIDATED,
)
from sensoryprofile.synthetic.clinic import CLINIC_FILES, generate_clinic

MESSY_SEED = 11
MESSY_CHILDREN = 24
MESSY_END = dt.date(2026, 9, 30)
DC_SCALE = ("not on demo-child's response scale; allowed: 0, 1, 2, 3, 4, 5 (or their labels)")


@dataclass(frozen=True)
class Defect:
    """One planted defect and the report row it must produce."""

    description: str
    table: str
    row: int          # as numbered in the file (header = row 1)
    column: str
    value: str        # as shown in the report
    rule: str
    action: str = ROW_REJECTED

    @property
    def file(self) -> str:
        return CLINIC_FILES[self.table]

    def expected(self) -> tuple:
        return (self.file, self.row, self.column, self.value, self.rule, self.action)


def _text(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.astype(object).where(frame.notna(), "").astype(str)


def build_messy_clinic() -> tuple[dict[str, pd.DataFrame], list[Defect], list[tuple]]:
    """The messy tables, the planted defects, and every expected report row
    (planted ones and their dependants), in no particular order."""
    clinic = generate_clinic(MESSY_CHILDREN, seed=MESSY_SEED, end_date=MESSY_END)
    t = {name: _text(frame) for name, frame in clinic.items()}
    ch, ass, goals, rat = t["children"], t["assessments"], t["goals"], t["goal_ratings"]
    defects: list[Defect] = []

    def row_of(frame, i) -> int:
        return int(i) + 2

    used_children: set[str] = set()

    def pick_child(min_goals=1) -> str:
        for cid in ch[C.CHILD_ID]:
            if cid in used_children:
                continue
            n_goals = int((goals[C.CHILD_ID] == cid).sum())
            n_ass = int((ass[C.CHILD_ID] == cid).sum())
            dc = (ass[(ass[C.CHILD_ID] == cid)][C.INSTRUMENT] == "demo-child").all()
            if n_goals >= min_goals and n_ass >= 2 and dc:
                used_children.add(cid)
                return cid
        raise RuntimeError("messy clinic: not enough children to plant defects on")

    def child_index(cid):
        return ch.index[ch[C.CHILD_ID] == cid][0]

    # --- children ------------------------------------------------------------
    cid = pick_child()
    i = child_index(cid)
    ch.loc[i, C.DATE_OF_BIRTH] = "03/04/2016"
    defects.append(Defect("date of birth written day/month ambiguously", "children",
                          row_of(ch, i), C.DATE_OF_BIRTH, HIDDEN,
                          "ambiguous date: it could be read day-first or month-first, so it "
                          "is not guessed; dates must be ISO 8601 (YYYY-MM-DD)"))
    cid = pick_child()
    i = child_index(cid)
    ch.loc[i, C.REFERRAL_DATE] = "2009-01-05"
    defects.append(Defect("referral dated before the child was born", "children",
                          row_of(ch, i), C.REFERRAL_DATE, HIDDEN,
                          "referral_date is before the date of birth"))
    cid = pick_child()
    i = child_index(cid)
    ch.loc[i, C.SEX] = "female"
    defects.append(Defect("sex written as a word", "children", row_of(ch, i), C.SEX,
                          HIDDEN, "sex is F, M, X or blank"))
    dup = ch.loc[[child_index(pick_child())]].copy()
    ch = pd.concat([ch, dup], ignore_index=True)
    first = int(ch.index[ch[C.CHILD_ID] == dup[C.CHILD_ID].iloc[0]][0]) + 2
    defects.append(Defect("child entered twice", "children", len(ch) + 1, C.CHILD_ID,
                          repr(dup[C.CHILD_ID].iloc[0]),
                          f"duplicate child_id (first on row {first})"))

    # --- assessments ---------------------------------------------------------
    def pick_assessment(cid):
        rows = ass.index[(ass[C.CHILD_ID] == cid)]
        return rows[0], rows[1]

    a_cid = pick_child()
    i, j = pick_assessment(a_cid)
    ass.loc[i, "dc_012"] = "7"
    defects.append(Defect("item answer off the scale", "assessments", row_of(ass, i), "dc_012",
                          "'7'", DC_SCALE, SCORE_INVALIDATED))
    ass.loc[j, "dc_040"] = "often"
    defects.append(Defect("item answered with a word that is not a label", "assessments",
                          row_of(ass, j), "dc_040", "'often'", DC_SCALE, SCORE_INVALIDATED))
    a_cid = pick_child()
    i, j = pick_assessment(a_cid)
    ass.loc[i, C.DATE] = "2031-02-01"
    defects.append(Defect("assessment dated in the future", "assessments", row_of(ass, i),
                          C.DATE, "'2031-02-01'", "date is in the future (after today, {today})"))
    ass.loc[j, C.DATE] = "2025-02-30"
    defects.append(Defect("assessment date that does not exist", "assessments", row_of(ass, j),
                          C.DATE, "'2025-02-30'", "not a calendar date"))
    a_cid = pick_child()
    i, j = pick_assessment(a_cid)
    ass.loc[i, C.INSTRUMENT] = "sp2-child"
    defects.append(Defect("instrument the clinic has no definition for", "assessments",
                          row_of(ass, i), C.INSTRUMENT, "'sp2-child'",
                          "unknown instrument: not one of the shipped instruments (demo-child, "
                          "demo-toddler), and no definition file declares it in instruments/ "
                          "or the clinic's folders (--instruments, SENSORYPROFILE_INSTRUMENTS)"))
    ass.loc[j, C.CHILD_ID] = "C9999"
    defects.append(Defect("assessment of a child who is not in children.csv", "assessments",
                          row_of(ass, j), C.CHILD_ID, "'C9999'",
                          "child_id not found in children.csv"))
    a_cid = pick_child()
    i, j = pick_assessment(a_cid)
    dob = ch.loc[child_index(a_cid), C.DATE_OF_BIRTH]
    before = (pd.Timestamp(dob) - pd.Timedelta(days=40)).date().isoformat()
    ass.loc[i, C.DATE] = before
    defects.append(Defect("assessment dated before the child was born", "assessments",
                          row_of(ass, i), C.DATE, repr(before),
                          "assessment dated before the child's date of birth"))
    first_id = ass.loc[i, C.ASSESSMENT_ID]
    ass.loc[j, C.ASSESSMENT_ID] = first_id
    defects.append(Defect("assessment id used twice", "assessments", row_of(ass, j),
                          C.ASSESSMENT_ID, repr(first_id),
                          f"duplicate assessment_id (first on row {row_of(ass, i)})"))
    ass["comments"] = ""
    defects.append(Defect("a column that belongs to no instrument", "assessments", 1,
                          "comments", "", "column belongs to no known instrument",
                          COLUMN_IGNORED))

    # --- goals -----------------------------------------------------------------
    def pick_goal(cid):
        return goals.index[goals[C.CHILD_ID] == cid][0]

    g_cid = pick_child(min_goals=2)
    gi = goals.index[goals[C.CHILD_ID] == g_cid]
    goals.loc[gi[0], C.IMPORTANCE] = "5"
    defects.append(Defect("importance outside 0-3", "goals", row_of(goals, gi[0]),
                          C.IMPORTANCE, "'5'",
                          "importance is 0, 1, 2 or 3 (or blank: unweighted)"))
    goals.loc[gi[1], C.BASELINE_LEVEL] = "0"
    defects.append(Defect("baseline level other than -1 or -2", "goals", row_of(goals, gi[1]),
                          C.BASELINE_LEVEL, "'0'",
                          "baseline_level is -1 (some ability) or -2 (none)"))
    g_cid = pick_child(min_goals=2)
    gi = goals.index[goals[C.CHILD_ID] == g_cid]
    set_date = goals.loc[gi[0], C.SET_DATE]
    target = (pd.Timestamp(set_date) - pd.Timedelta(days=10)).date().isoformat()
    goals.loc[gi[0], C.TARGET_DATE] = target
    defects.append(Defect("target date before the goal was set", "goals", row_of(goals, gi[0]),
                          C.TARGET_DATE, repr(target), "target_date is before set_date"))
    goals.loc[gi[1], C.CHILD_ID] = "C8888"
    defects.append(Defect("goal of a child who is not in children.csv", "goals",
                          row_of(goals, gi[1]), C.CHILD_ID, "'C8888'",
                          "child_id not found in children.csv"))

    # --- goal ratings --------------------------------------------------------------
    r_cid = pick_child(min_goals=2)
    r_goals = goals.loc[goals[C.CHILD_ID] == r_cid, C.GOAL_ID].tolist()
    ri = rat.index[rat[C.GOAL_ID] == r_goals[0]]
    rat.loc[ri[0], C.LEVEL] = "3"
    defects.append(Defect("goal level above +2", "goal_ratings", row_of(rat, ri[0]), C.LEVEL,
                       "'3'", "level is -2, -1, 0, +1 or +2 (the dataset does not declare "
                       "the six-level scale, so -3 is not allowed)"))
    rat.loc[ri[1], C.LEVEL] = "good"
    defects.append(Defect("goal level written as a word", "goal_ratings", row_of(rat, ri[1]),
                          C.LEVEL, "'good'", "must be a whole number"))
    ri = rat.index[rat[C.GOAL_ID] == r_goals[1]]
    g_set = goals.loc[goals[C.GOAL_ID] == r_goals[1], C.SET_DATE].iloc[0]
    early = (pd.Timestamp(g_set) - pd.Timedelta(days=20)).date().isoformat()
    rat.loc[ri[0], C.DATE] = early
    defects.append(Defect("rating dated before its goal was set", "goal_ratings",
                          row_of(rat, ri[0]), C.DATE, repr(early),
                          "rating dated before its goal's set_date"))
    dup = rat.loc[[ri[1]]].copy()
    dup[C.LEVEL] = "1"
    rat = pd.concat([rat, dup], ignore_index=True)
    defects.append(Defect("the same goal rated twice on one date", "goal_ratings", len(rat) + 1,
                          C.DATE, repr(dup[C.DATE].iloc[0]),
                          "duplicate rating: this goal already has a rating on this date"))
    orphan = rat.loc[[ri[1]]].copy()
    orphan[C.GOAL_ID] = "G99999"
    rat = pd.concat([rat, orphan], ignore_index=True)
    defects.append(Defect("rating of a goal that does not exist", "goal_ratings", len(rat) + 1,
                          C.GOAL_ID, "'G99999'", "goal_id not found in goals.csv"))

    tables = {"children": ch, "assessments": ass, "goals": goals, "goal_ratings": rat}
    expected = [d.expected() for d in defects]

    # dependants: rows whose parent row is rejected ------------------------------------
    bad_child_rows = {(d.row - 2) for d in defects if d.table == "children"
                      and not d.rule.startswith("duplicate")}
    rejected_children = set(ch.loc[list(bad_child_rows), C.CHILD_ID])
    planted_rows = {(d.table, d.row) for d in defects}
    for table in ("assessments", "goals"):
        frame = tables[table]
        for k in frame.index[frame[C.CHILD_ID].isin(rejected_children)]:
            if (table, k + 2) in planted_rows:
                continue
            cid = frame.loc[k, C.CHILD_ID]
            expected.append((CLINIC_FILES[table], k + 2, C.CHILD_ID, repr(cid),
                             f"its child (child_id={cid}) was rejected", DEPENDENT_REJECTED))
    rejected_goals = set(goals.loc[goals[C.CHILD_ID].isin(rejected_children), C.GOAL_ID])
    rejected_goals |= {goals.loc[d.row - 2, C.GOAL_ID] for d in defects
                       if d.table == "goals"}
    for k in rat.index[rat[C.GOAL_ID].isin(rejected_goals)]:
        if ("goal_ratings", k + 2) in planted_rows:
            continue
        gid = rat.loc[k, C.GOAL_ID]
        expected.append((CLINIC_FILES["goal_ratings"], k + 2, C.GOAL_ID, repr(gid),
                         f"its goal (goal_id={gid}) was rejected", DEPENDENT_REJECTED))
    return tables, defects, expected


def messy_readme(defects: list[Defect], n_expected: int) -> str:
    lines = [
        "# data/sample-messy: a synthetic clinic with planted defects",
        "",
        "The same kind of invented data as `data/sample/` (written by "
        "`sensoryprofile.synthetic.messy.write_messy_clinic`), with the defects below planted to "
        "show validation. Run:",
        "",
        "    sensoryprofile validate data/sample-messy",
        "",
        "Every defect is reported with file, row (header = row 1), column, value, rule and "
        "what was done; rows that depend on a rejected row (a rejected child's assessments "
        "and goals, a rejected goal's ratings) are reported as dependent rows. Nothing else "
        f"is reported: {len(defects)} planted defects give {n_expected} report rows in all. "
        "'Today' for the future-date rule is the day you run it.",
        "",
        "| # | file | row | column | defect | rule broken | action |",
        "|---|---|---|---|---|---|---|",
    ]
    for k, d in enumerate(defects, start=1):
        rule = d.rule.replace("{today}", "today").replace("|", "/")
        lines.append(f"| {k} | {d.file} | {d.row} | {d.column} | {d.description} | {rule} | "
                     f"{d.action} |")
    lines += ["", "Column meanings: see `data/sample/README.md`."]
    return "\n".join(lines) + "\n"


def write_messy_clinic(out_dir: str | Path) -> dict[str, Path]:
    """Write the messy clinic and its README; deterministic."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    tables, defects, expected = build_messy_clinic()
    written = {}
    for name, frame in tables.items():
        text = frame.to_csv(index=False, lineterminator="\n")
        written[name] = write_text_atomic(text, out_dir / CLINIC_FILES[name])
    written["README"] = write_text_atomic(messy_readme(defects, len(expected)),
                                          out_dir / "README.md")
    return written
