"""The caseload report for clinic directors: the tables of
:mod:`sensoryprofile.analysis.caseload`, ready to print and chart.

The notebook (``reports/notebooks/caseload_report.ipynb``) only lays out
what :class:`CaseloadReport` holds. The printable tables are functions of
the tidy tables (``caseload_table(counts)``, ...), so each can be tested on
its own; the report's methods call them with its own tables. Children are
listed by ID only: no name, no date of birth, no free text.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from sensoryprofile import columns as C
from sensoryprofile.analysis import stats
from sensoryprofile.analysis.caseload import RATING_INTERVAL_MONTHS, CaseloadTables
from sensoryprofile.analysis.groups import GROUPINGS
from sensoryprofile.analysis.outcomes import (
    AS_EXPECTED,
    EASY_MEAN_T,
    EASY_TOP_SHARE,
    HARD_BELOW_SHARE,
    HARD_MEAN_T,
    LEVEL_LABELS,
    MIXED,
    TOO_EASY,
    TOO_HARD,
)
from sensoryprofile.columns import (
    ALL,
    ALL_CHILDREN,
    INTAKE,
    LATEST,
    SHARE,
    SUPPRESSED,
    SUPPRESSION,
    TIMEPOINT,
    N,
)
from sensoryprofile.data.dataset import Dataset, load_dataset_cached
from sensoryprofile.data.tables import write_csv_atomic
from sensoryprofile.errors import UsageError
from sensoryprofile.measures.change import RCI_CRITICAL
from sensoryprofile.measures.gas import EXPECTED_GAS_SHARES
from sensoryprofile.reports.formatting import (
    iso_date,
    keyed_paragraph,
    level_text,
    long_date,
    number,
    p_value,
    percent,
    span,
    table_html,
)

#: Long lists (overdue children, goals past target) show this many rows in the
#: report; the full lists go to CSV files beside it.
LIST_LIMIT = 25

GROUPING_WORDS = {C.SITE: "Site", C.THERAPIST: "Therapist", C.DIAGNOSIS: "Diagnosis",
                  ALL: ALL_CHILDREN}
FLAG_WORDS = {TOO_EASY: "goals may be too easy", TOO_HARD: "goals may be too hard",
              MIXED: "mixed signs: worth a closer look", AS_EXPECTED: "as expected"}
#: Display headers of the lists.
LIST_HEADERS = {C.CHILD_ID: "Child ID", C.GOAL_ID: "Goal ID", C.SITE: "Site",
                C.THERAPIST: "Therapist", C.DOMAIN: "Goal area",
                C.REFERRAL_DATE: "Referred", C.DAYS_SINCE_REFERRAL: "Days since referral",
                C.LAST_ASSESSMENT: "Last assessed", C.DUE_DATE: "Reassessment was due",
                C.DAYS_OVERDUE: "Days overdue", C.SET_DATE: "Goal set",
                C.LAST_RATING: "Last rated", C.DAYS_WITHOUT_RATING: "Days without a rating",
                C.TARGET_DATE: "Target date", C.LATEST_LEVEL: "Latest level",
                C.DAYS_PAST_TARGET: "Days past target"}
#: File names of the CSV lists and tables written by :meth:`CaseloadReport.write_lists`.
LIST_FILES = {"no_intake": "children_without_intake.csv",
              "reassessment_overdue": "reassessments_overdue.csv",
              "goals_unrated": "goals_without_recent_rating.csv",
              "goals_past_target": "goals_past_target.csv"}
TABLE_FILES = {"counts": "caseload_counts.csv", "coverage": "coverage.csv",
               "classification": "sensory_classification.csv",
               "reliable_change": "sensory_reliable_change.csv",
               "goal_outcomes": "goal_outcomes.csv", "calibration": "goal_calibration.csv",
               "calibration_levels": "goal_calibration_levels.csv",
               "quality": "data_quality.csv", "accounting": "data_accounting.csv"}
LIST_TITLES = {"no_intake": "Active children with no intake assessment",
               "reassessment_overdue": "Reassessments overdue",
               "goals_unrated": "Goals with no recent rating",
               "goals_past_target": "Goals past their target date and not met"}


# ---------------------------------------------------------------------------
# printable tables: tidy table in, plain headers and rounded text out
# ---------------------------------------------------------------------------
def _group_text(by, group) -> str:
    return ALL_CHILDREN if by == ALL else f"{GROUPING_WORDS[by]}: {group}"


def _groups(frame: pd.DataFrame) -> list[str]:
    return [_group_text(b, g) for b, g in zip(frame[C.GROUP_BY], frame[C.GROUP], strict=True)]


def display_list(frame: pd.DataFrame) -> pd.DataFrame:
    """A list (``lists[name]``) with plain headers, dates ISO, levels signed."""
    out = pd.DataFrame(index=frame.index)
    for column in frame.columns:
        values = frame[column]
        if pd.api.types.is_datetime64_any_dtype(values):
            out[LIST_HEADERS[column]] = [iso_date(v) for v in values]
        elif column == C.LATEST_LEVEL:
            out[LIST_HEADERS[column]] = [level_text(v) for v in values]
        else:
            out[LIST_HEADERS[column]] = values.astype(object).where(values.notna(), "")
    return out.reset_index(drop=True)


def caseload_table(counts: pd.DataFrame) -> pd.DataFrame:
    """Active children, referrals and discharges per group."""
    return pd.DataFrame({
        "Group": _groups(counts),
        "Active children": counts[C.N_ACTIVE].astype(str).to_numpy(),
        "New referrals in the period": counts[C.N_REFERRED].astype(str).to_numpy(),
        "Discharges in the period": counts[C.N_DISCHARGED].astype(str).to_numpy(),
    })


def coverage_table(summary: pd.DataFrame, rating_interval_months: int) -> pd.DataFrame:
    """Intake, reassessment and goal-review gaps per group."""
    return pd.DataFrame({
        "Group": _groups(summary),
        "Active children": summary[C.N_ACTIVE].astype(str).to_numpy(),
        "No intake assessment": summary[C.N_NO_INTAKE].astype(str).to_numpy(),
        "Reassessment overdue": summary[C.N_REASSESSMENT_OVERDUE].astype(str).to_numpy(),
        "Goals": summary[C.N_GOALS].astype(str).to_numpy(),
        f"Goals not rated in {rating_interval_months} months":
            summary[C.N_GOALS_UNRATED].astype(str).to_numpy(),
        "Goals past target, not met": summary[C.N_GOALS_PAST_TARGET].astype(str).to_numpy(),
    })


def classification_table(classification: pd.DataFrame, min_group: int) -> pd.DataFrame:
    """Quadrant x classification: share at intake and latest, as text."""
    c = classification
    if c.empty:
        return pd.DataFrame(columns=["Quadrant", "Children"])
    frame = c.assign(label=c[C.CLASSIFICATION].fillna("Not classified"))
    intake = frame[frame[TIMEPOINT] == INTAKE].set_index([C.SCORE_NAME, "label"])[SHARE]
    latest = frame[frame[TIMEPOINT] == LATEST].set_index([C.SCORE_NAME, "label"])[SHARE]
    labels = [LEVEL_LABELS[lv] for lv in (-2, -1, 0, 1, 2)]
    if frame[C.CLASSIFICATION].isna().any():
        labels.append("Not classified")
    rows = []
    for name, part in frame.groupby(C.SCORE_NAME, sort=False):
        n = int(part[N].iloc[0])
        if bool(part[SUPPRESSED].iloc[0]):
            rows.append([name, str(n)] + [stats.suppression_note(min_group)]
                        + [""] * (len(labels) - 1))
            continue
        rows.append([name, str(n)] + [
            f"{percent(intake.get((name, lb), 0.0))} → {percent(latest.get((name, lb), 0.0))}"
            for lb in labels])
    return pd.DataFrame(rows, columns=["Quadrant", "Children", *labels])


def classification_chart(classification: pd.DataFrame) -> pd.DataFrame:
    """Rows of the quadrants shown, for ``plot_classification_shift``."""
    c = classification
    return c[~c[SUPPRESSED]][[C.SCORE_NAME, TIMEPOINT, C.CLASSIFICATION, SHARE]
                             ].reset_index(drop=True)


def reliable_change_table(reliable: pd.DataFrame) -> pd.DataFrame:
    """Reliable improvement and deterioration per quadrant, as text."""
    r = reliable

    def share(count, base, value):
        return [("" if hide else f"{percent(v)} ({k} of {b})" if b else "")
                for hide, v, k, b in zip(r[SUPPRESSED], r[value], r[count], r[base],
                                         strict=True)]

    return pd.DataFrame({
        "Quadrant": r[C.SCORE_NAME].to_numpy(),
        "Children compared": r[C.N_COMPARED].astype(str).to_numpy(),
        "Reliable improvement": share(C.N_RELIABLE_IMPROVEMENT, C.N_WITH_RCI,
                                      C.SHARE_RELIABLE_IMPROVEMENT),
        "Reliable deterioration": share(C.N_RELIABLE_DETERIORATION, C.N_WITH_RCI,
                                        C.SHARE_RELIABLE_DETERIORATION),
        "Moved toward typical (any amount)": share(C.N_TOWARD_TYPICAL, C.N_COMPARED,
                                                   C.SHARE_TOWARD_TYPICAL),
        "Atypical at intake, now typical": share(C.N_NOW_TYPICAL, C.N_ATYPICAL_AT_INTAKE,
                                                 C.SHARE_NOW_TYPICAL),
        "Note": r[SUPPRESSION].fillna("").to_numpy(),
    })


def _grouping_rows(outcomes: pd.DataFrame, grouping: str) -> pd.DataFrame:
    """One grouping's rows, with the whole caseload last."""
    if grouping not in GROUPINGS:
        raise UsageError(f"`grouping` must be one of {list(GROUPINGS)}, but {grouping!r} was "
                         "passed")
    return pd.concat([outcomes[outcomes[C.GROUP_BY] == grouping],
                      outcomes[outcomes[C.GROUP_BY] == ALL]])


def outcome_table(outcomes: pd.DataFrame, grouping: str) -> pd.DataFrame:
    """Goal outcomes of one grouping ("site", "therapist", "diagnosis"), with
    the whole caseload as the last row."""
    o = _grouping_rows(outcomes, grouping)
    return pd.DataFrame({
        GROUPING_WORDS[grouping]: [ALL_CHILDREN if b == ALL else g
                                   for b, g in zip(o[C.GROUP_BY], o[C.GROUP], strict=True)],
        "Children with a goal review": o[C.N_CHILDREN].astype(str).to_numpy(),
        "Goals rated": o[C.N_GOALS_RATED].astype(str).to_numpy(),
        "Goals met": [percent(s) for s in o[C.SHARE_MET]],
        "Follow-up T: median (IQR)": [
            "" if pd.isna(m) else f"{number(m)} ({span(lo, hi)})"
            for m, lo, hi in zip(o[C.MEDIAN_T], o[C.T_Q1], o[C.T_Q3], strict=True)],
        "Change in T: median (95% CI)": [
            "" if pd.isna(m) else f"{number(m, signed=True)} ({span(lo, hi, signed=True)})"
            for m, lo, hi in zip(o[C.MEDIAN_T_CHANGE], o[C.T_CHANGE_CI_LOW],
                                 o[C.T_CHANGE_CI_HIGH], strict=True)],
        "Wilcoxon p": [p_value(p) for p in o[C.P_VALUE]],
        "Rank-biserial r (95% CI)": [
            "" if pd.isna(r) else f"{number(r, 2)} ({span(lo, hi, 2)})"
            for r, lo, hi in zip(o[C.RANK_BISERIAL], o[C.RANK_BISERIAL_LOW],
                                 o[C.RANK_BISERIAL_HIGH], strict=True)],
        "Note": o[SUPPRESSION].fillna("").to_numpy(),
    })


def tchange_chart(outcomes: pd.DataFrame, grouping: str) -> pd.DataFrame:
    """Median T change per group (whole caseload last), for
    :func:`~sensoryprofile.plots.plot_tchange_by_group` with ``group=grouping``."""
    o = _grouping_rows(outcomes, grouping)
    o = o[o[C.N_CHILDREN] > 0]
    return pd.DataFrame({
        grouping: [ALL_CHILDREN if b == ALL else g
                   for b, g in zip(o[C.GROUP_BY], o[C.GROUP], strict=True)],
        C.MEDIAN: o[C.MEDIAN_T_CHANGE].to_numpy(), C.CI_LOW: o[C.T_CHANGE_CI_LOW].to_numpy(),
        C.CI_HIGH: o[C.T_CHANGE_CI_HIGH].to_numpy(), N: o[C.N_CHILDREN].to_numpy()})


def calibration_table(calibration: pd.DataFrame, levels: pd.DataFrame) -> pd.DataFrame:
    """Final levels per therapist against the expected spread, with the flag."""
    share = levels.set_index([C.THERAPIST, C.LEVEL])[SHARE]
    scale = sorted(set(levels[C.LEVEL]) | set(EXPECTED_GAS_SHARES))
    expected = {"Therapist": "Expected when goals are well set", "Children": "",
                "Goals rated": "", "Mean follow-up T": "50.0", "Check": "", "Why": ""}
    rows = [expected | {level_text(lv): percent(EXPECTED_GAS_SHARES.get(lv, 0.0))
                        for lv in scale}]
    for _, r in calibration.iterrows():  # one row per therapist (a handful), not per child
        name = ALL_CHILDREN if r[C.GROUP_BY] == ALL else r[C.GROUP]
        row = {"Therapist": name, "Children": str(r[C.N_CHILDREN]),
               "Goals rated": str(r[C.N_GOALS_RATED]), "Mean follow-up T": number(r[C.MEAN_T])}
        for lv in scale:
            row[level_text(lv)] = ("" if r[SUPPRESSED]
                                   else percent(share.get((r[C.GROUP], lv), np.nan)))
        row["Check"] = (r[SUPPRESSION] if r[SUPPRESSED] else
                        "" if pd.isna(r[C.FLAG]) else FLAG_WORDS[r[C.FLAG]])
        row["Why"] = ("" if r[SUPPRESSED] or pd.isna(r[C.FLAG]) or r[C.FLAG] == AS_EXPECTED
                      else r[C.FLAG_REASON])
        rows.append(row)
    columns = ["Therapist", "Children", "Goals rated", *[level_text(lv) for lv in scale],
               "Mean follow-up T", "Check", "Why"]
    return pd.DataFrame(rows, columns=columns)


def quality_table(quality: pd.DataFrame) -> pd.DataFrame:
    """Problems found at validation, counted by table and rule."""
    return pd.DataFrame({"Table": quality[C.TABLE].to_numpy(),
                         "Rule broken": quality[C.RULE].to_numpy(),
                         "What was done": quality[C.ACTION].to_numpy(),
                         "Problems": quality[C.COUNT].astype(str)})


def accounting_table(accounting: pd.DataFrame) -> pd.DataFrame:
    """Rows read, accepted and rejected per table."""
    a = accounting
    return pd.DataFrame({"Table": a[C.TABLE].to_numpy(),
                         "Rows read": a[C.ROWS_READ].astype(str).to_numpy(),
                         "Accepted": a[C.ROWS_ACCEPTED].astype(str).to_numpy(),
                         "Rejected": a[C.ROWS_REJECTED].astype(str).to_numpy(),
                         "Read = accepted + rejected": np.where(a[C.RECONCILES], "yes", "NO")})


def _known_values(dataset, site, therapist) -> str:
    """Which sites / therapists exist, to help after a filter matched nobody."""
    parts = []
    for column, wanted, word in ((C.SITE, site, "Sites"), (C.THERAPIST, therapist,
                                                          "Therapists")):
        if wanted is None:
            continue
        values = sorted(set(dataset.children[column].dropna().astype(str)), key=str.casefold)
        if values:
            parts.append(f"{word} in this dataset: {', '.join(values)}.")
    return " ".join(parts)


# ---------------------------------------------------------------------------
# the report
# ---------------------------------------------------------------------------
@dataclass
class CaseloadReport(CaseloadTables):
    """The content of the clinic director's caseload report: the tidy tables
    of :class:`~sensoryprofile.analysis.caseload.CaseloadTables` plus their
    printable forms. Build with :meth:`build`; the notebook only lays it out.

    Ready-to-print tables (plain-language headers, rounded): ``header``,
    ``caseload_table``, ``coverage_table``, ``classification_table``,
    ``reliable_change_table``, ``outcome_table(grouping)``,
    ``calibration_table``, ``quality_table``, ``accounting_table``. Chart
    frames: ``counts_by_site``, ``counts_by_therapist``,
    ``classification_chart``, ``tchange_chart(grouping)``,
    ``calibration_levels``. ``message`` is set when no child matches the
    filters.
    """

    list_limit: int = LIST_LIMIT
    message: str | None = None
    demonstration_note: str | None = None
    header: pd.DataFrame = field(default_factory=pd.DataFrame)
    written: dict[str, Path] = field(default_factory=dict)

    @classmethod
    def build(cls, dataset: Dataset | str | Path, *, list_limit: int = LIST_LIMIT,
              rating_interval_months: int = RATING_INTERVAL_MONTHS,
              **kwargs) -> CaseloadReport:
        """Assemble the caseload report.

        Parameters
        ----------
        dataset : Dataset, or the path of a dataset folder or workbook
            (loaded once per kernel while the files are unchanged).
        list_limit : int, default :data:`LIST_LIMIT`
            Rows of each long list shown in the report (the CSVs hold all).
        rating_interval_months, **kwargs : as for
            :meth:`~sensoryprofile.analysis.caseload.CaseloadTables.build` (as_of,
            period_start, period_end, site, therapist, min_group,
            reassessment_interval_months, n_boot, seed).

        Returns
        -------
        CaseloadReport
            A filter that matches nobody gives a report whose ``message``
            says so and whose tables are empty; it is not an error.
        """
        if not isinstance(dataset, Dataset):
            dataset = load_dataset_cached(dataset)
        if isinstance(list_limit, bool) or not isinstance(list_limit, (int, np.integer)) or (
                list_limit < 1):
            raise UsageError(f"`list_limit` must be a whole number of at least 1, but "
                             f"{list_limit!r} was passed")
        report = super().build(dataset, rating_interval_months=rating_interval_months,
                               list_limit=int(list_limit), **kwargs)
        report.message = report._message(dataset)
        demo = sorted(dataset.instruments[k].name for k in report.instruments
                      if k in dataset.instruments and not dataset.instruments[k].clinical_use)
        if demo:
            report.demonstration_note = (f"{' and '.join(demo)}: demonstration form(s) with "
                                         "invented items and synthetic norms, not validated "
                                         "and not for clinical use.")
        report.header = report._header(dataset)
        return report

    def _message(self, dataset) -> str | None:
        if (self.site is not None or self.therapist is not None) and self.n_matched == 0:
            message = (f"No children match these filters (site={self.site!r}, "
                       f"therapist={self.therapist!r}).")
            known = _known_values(dataset, self.site, self.therapist)
            return message + (" " + known if known else "")
        if self.n_children == 0:
            return (f"No children were referred on or before {self.as_of}"
                    + (" with these filters" if self.site or self.therapist else "") + ".")
        return None

    def _header(self, dataset) -> pd.DataFrame:
        active = self.counts.loc[self.counts[C.GROUP_BY] == ALL, C.N_ACTIVE]
        rows = [("Data", dataset.name),
                ("As of", long_date(self.as_of)),
                ("Period", f"{long_date(self.period_start)} to {long_date(self.period_end)}"),
                ("Site", self.site or "all sites"),
                ("Therapist", self.therapist or "all therapists"),
                ("Children referred by the as-of date", str(self.n_children)),
                ("Active children", str(int(active.iloc[0]) if len(active) else 0)),
                ("Smallest group with statistics", f"{self.min_group} children")]
        return pd.DataFrame(rows, columns=["", " "])

    # ------------------------------------------------------ printable tables
    @property
    def caseload_table(self) -> pd.DataFrame:
        return caseload_table(self.counts)

    def _counts_for(self, grouping: str) -> pd.DataFrame:
        rows = self.counts[self.counts[C.GROUP_BY] == grouping]
        return pd.DataFrame({grouping: rows[C.GROUP].astype(str).to_numpy(),
                             C.COUNT: rows[C.N_ACTIVE].to_numpy()})

    @property
    def counts_by_site(self) -> pd.DataFrame:
        """Active children per site, for :func:`~sensoryprofile.plots.plot_caseload_counts`."""
        return self._counts_for(C.SITE)

    @property
    def counts_by_therapist(self) -> pd.DataFrame:
        """Active children per therapist, for ``plot_caseload_counts``."""
        return self._counts_for(C.THERAPIST)

    @property
    def coverage_table(self) -> pd.DataFrame:
        return coverage_table(self.coverage_summary, self.rating_interval_months)

    @property
    def classification_table(self) -> pd.DataFrame:
        return classification_table(self.classification, self.min_group)

    @property
    def classification_chart(self) -> pd.DataFrame:
        return classification_chart(self.classification)

    @property
    def reliable_change_table(self) -> pd.DataFrame:
        return reliable_change_table(self.reliable_change)

    def outcome_table(self, grouping: str) -> pd.DataFrame:
        return outcome_table(self.goal_outcomes, grouping)

    def tchange_chart(self, grouping: str) -> pd.DataFrame:
        return tchange_chart(self.goal_outcomes, grouping)

    @property
    def calibration_table(self) -> pd.DataFrame:
        return calibration_table(self.calibration, self.calibration_levels)

    @property
    def quality_table(self) -> pd.DataFrame:
        return quality_table(self.quality)

    @property
    def accounting_table(self) -> pd.DataFrame:
        return accounting_table(self.accounting)

    def list_table(self, name: str) -> pd.DataFrame:
        """The first ``list_limit`` rows of a list, ready to print."""
        return display_list(self._list(name).head(self.list_limit))

    def _list(self, name: str) -> pd.DataFrame:
        if name not in self.lists:
            raise UsageError(f"`name` must be one of {list(self.lists)}, but {name!r} was "
                             "passed")
        return self.lists[name]

    # ---------------------------------------------------------------- charts
    def figsize(self, chart: str) -> tuple[float, float]:
        """A figure size (inches) that prints on A4: width at most 9, height
        grown with the rows drawn, at most 10.

        ``chart``: "counts_site", "counts_therapist", "classification",
        "tchange_site", "tchange_therapist", "tchange_diagnosis",
        "calibration".
        """
        width = 8.5
        if chart == "counts_site":
            return (7.0, 4.2)
        if chart == "counts_therapist":
            return (9.0, 4.6)
        if chart == "classification":
            rows = 3 * self.classification_chart[C.SCORE_NAME].nunique()
            height = 2.6 + 0.42 * max(rows, 2)
        elif chart.startswith("tchange_") and chart.removeprefix("tchange_") in GROUPINGS:
            height = 1.8 + 0.62 * max(len(self.tchange_chart(chart.removeprefix("tchange_"))),
                                      1)
        elif chart == "calibration":
            height = 3.0 + 0.62 * (self.calibration_levels[C.THERAPIST].nunique() + 1)
        else:
            raise UsageError(f"`chart` must be one of 'counts_site', 'counts_therapist', "
                             "'classification', 'tchange_site', 'tchange_therapist', "
                             f"'tchange_diagnosis', 'calibration', but {chart!r} was passed")
        return (width, min(round(height, 2), 10.0))

    # ------------------------------------------------------------------ html
    def title_html(self) -> str:
        parts = ["<h1>Caseload report</h1>"]
        if self.demonstration_note:
            parts.append(f"<p class='sp-banner'>{html.escape(self.demonstration_note)}</p>")
        if self.message:
            parts.append(f"<p class='sp-banner'><strong>{html.escape(self.message)}"
                         "</strong></p>")
        return "".join(parts)

    def list_html(self, name: str) -> str:
        """A long list, capped at ``list_limit`` rows, with "and N more"."""
        full = self._list(name)
        title = f"<h3>{html.escape(LIST_TITLES[name])} ({len(full)})</h3>"
        if full.empty:
            return title + "<p>None.</p>"
        more = len(full) - self.list_limit
        text = table_html(self.list_table(name), caption=LIST_TITLES[name] + (
            f": the first {self.list_limit} of {len(full)}" if more > 0 else ""))
        if more > 0:
            where = (f"the full list is in {LIST_FILES[name]} beside this report"
                     if name in self.written else
                     "render the report with an output folder for the full list as CSV")
            text += f"<p>… and {more} more ({html.escape(where)}).</p>"
        return title + text

    def texts(self) -> dict[str, str]:
        """The report's paragraphs whose words depend on its settings, by key."""
        expected = ", ".join(f"{percent(share)} {words}" for share, words in zip(
            EXPECTED_GAS_SHARES.values(), ("much less than expected (−2)",
                                           "less (−1)", "as expected (0)", "better (+1)",
                                           "much better (+2)"), strict=True))
        return {
            "overdue": (f"Active children on {long_date(self.as_of)}: referred by then and not "
                        "discharged. A reassessment is overdue when the latest questionnaire "
                        f"is more than {self.reassessment_interval_months} months old. Children "
                        "are listed by ID only; the longest waiting come first."),
            "coverage": (f"Goals of active children are expected to be rated at least every "
                         f"{self.rating_interval_months} months; goals set more recently are "
                         "not yet counted as unrated. A goal is past its target when its "
                         "target date has passed and no rating has reached the expected level "
                         "(0)."),
            "groups": (f"Groups with fewer than {self.min_group} children show no statistics "
                       "(too few to be stable, and to protect privacy)."),
            "reliable": (f"A change is reliable when it is larger than the questionnaire's own "
                         f"measurement error could explain (reliable change index beyond "
                         f"±{RCI_CRITICAL:g}, Jacobson & Truax 1991). Reliable improvement is "
                         "a reliable change toward the typical band; reliable deterioration, "
                         "away from it. Evidence that sensory questionnaires respond to "
                         "therapy is limited: read these rates alongside the goal outcomes, "
                         "not as proof of a treatment effect."),
            "outcomes": (f"Goal attainment scaling (GAS) T-scores at each child's latest goal "
                         "review: 50 means the goals were met as expected. The change is "
                         "measured from the T-score of the same goals at their starting "
                         "levels. Goals met are rated at the expected level (0) or above at "
                         "their latest rating. Because GAS is ordinal, the table shows "
                         "medians, a Wilcoxon signed-rank test of the start against the "
                         "latest review, and the matched-pairs rank-biserial correlation (+1: "
                         f"every child improved), with {percent(stats.CONFIDENCE)} bootstrap "
                         "intervals."),
            "calibration": (f"When goals are well set, their final levels spread like a normal "
                            f"curve: about {expected}. So the mean follow-up T-score is near "
                            "50. Many +2 ratings or a mean well above 50 suggest goals set too "
                            "easily; most goals below 0 or a mean well below 50, too "
                            "ambitiously. The flags use conventional thresholds (mean T above "
                            f"{EASY_MEAN_T:g} or more than {percent(EASY_TOP_SHARE)} at +2; "
                            f"mean T below {HARD_MEAN_T:g} or more than "
                            f"{percent(HARD_BELOW_SHARE)} below 0): they start a "
                            "conversation, they do not judge a therapist's work."),
            "quality": ("Data quality covers the whole dataset, whatever the site or therapist "
                        "filter: rows with problems were rejected or noted when the data were "
                        "loaded, and every row read is either accepted or rejected."),
        }

    def text_html(self, key: str) -> str:
        """A paragraph whose words depend on the report's settings (:meth:`texts`)."""
        return keyed_paragraph(self.texts(), key)

    def files_html(self) -> str:
        """Links to the CSV files written beside the report."""
        if not self.written:
            return ("<p>No files were written (no output folder was given). Rendered with "
                    "<code>sensoryprofile report caseload</code>, the full lists and tables "
                    "are written as CSV beside the report.</p>")
        items = "".join(f"<li><a href='{html.escape(p.name)}'>{html.escape(p.name)}</a></li>"
                        for p in self.written.values())
        return f"<ul>{items}</ul>"

    # ----------------------------------------------------------------- files
    def write_lists(self, output_dir: str | Path | None) -> list[Path]:
        """Write the full lists and the main tables as CSV into ``output_dir``.

        Dates are ISO (YYYY-MM-DD), numbers unrounded; each file is written
        atomically. ``None`` writes nothing. Returns the paths written (also
        kept in ``written``, by name).
        """
        if output_dir is None:
            return []
        folder = Path(output_dir)
        folder.mkdir(parents=True, exist_ok=True)
        frames = {name: self.lists[name] for name in LIST_FILES}
        files = dict(LIST_FILES)
        frames.update({"counts": self.counts, "coverage": self.coverage_summary,
                       "classification": self.classification,
                       "reliable_change": self.reliable_change,
                       "goal_outcomes": self.goal_outcomes, "calibration": self.calibration,
                       "calibration_levels": self.calibration_levels,
                       "quality": self.quality, "accounting": self.accounting})
        files.update(TABLE_FILES)
        for name, frame in frames.items():
            path = folder / files[name]
            write_csv_atomic(frame, path, date_format="%Y-%m-%d")
            self.written[name] = path
        return list(self.written.values())
