"""The cohort analysis as a report: its tables for reading, the frames its
charts take, and the files written beside it.

:class:`CohortReport` extends :class:`sensoryprofile.analysis.cohort.CohortAnalysis`.
The ``*_shown`` methods give the tables for reading (plain headers, rounded,
suppressed counts as "fewer than 5 children"); the ``*_chart`` methods give
the frames the charts of :mod:`sensoryprofile.plots` take; :meth:`export`
writes each numeric table as CSV (``%.10g`` floats, LF line endings, fixed
row order) and ``provenance.json``: no timestamps, so two runs on the same
data with the same seed give byte-identical files.
"""

from __future__ import annotations

import html
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from sensoryprofile import columns as C
from sensoryprofile.analysis import stats as ST
from sensoryprofile.analysis.cohort import CohortAnalysis, scheme_expected_shares
from sensoryprofile.analysis.provenance import provenance_json, provenance_table
from sensoryprofile.columns import (
    ALPHA,
    ALPHA_HIGH,
    ALPHA_IF_DELETED,
    ALPHA_LOW,
    CATEGORY,
    DF_BETWEEN,
    DF_WITHIN,
    DISTANCE_MEASURE,
    EXPECTED_SHARE,
    F_STATISTIC,
    GROUP,
    INTAKE,
    ITEM,
    ITEM_TOTAL_R,
    ITEMS_LOWERING_ALPHA,
    K0,
    LEFT_OUT,
    LOADING,
    LOWERS_ALPHA,
    MEAN,
    MEASURE,
    MEDIAN,
    MEDIAN_CHANGE_HIGH,
    MEDIAN_CHANGE_LOW,
    MS_BETWEEN,
    MS_WITHIN,
    N_CHILDREN,
    N_CLASSIFIED,
    N_COMPLETE,
    N_GOALS,
    N_INCOMPLETE,
    NAME,
    NOTE,
    OMEGA,
    OMEGA_HIGH,
    OMEGA_LOW,
    P_VALUE,
    Q1,
    Q3,
    RHO,
    RHO_ASSUMED,
    RHO_HIGH,
    RHO_LOW,
    SCORE_NAME_A,
    SCORE_NAME_B,
    SD,
    SHARE,
    SHARE_RELIABLE,
    SHARE_RELIABLE_AWAY,
    SHARE_RELIABLE_TOWARD,
    SPEARMAN_RHO,
    TIMEPOINT,
    VALUE,
    N,
)
from sensoryprofile.data.tables import atomic_write, spreadsheet_safe
from sensoryprofile.measures.change import RCI_CRITICAL
from sensoryprofile.measures.gas import DEFAULT_RHO, EXPECTED_GAS_SHARES
from sensoryprofile.plots.style import GAS_LEVEL_TEXT
from sensoryprofile.reports.formatting import (
    keyed_paragraph,
    number,
    p_value,
    percent,
    span,
    with_interval,
)

#: CSV exports: table name -> file name.
CSV_FILES = {
    "sample": "sample_description.csv",
    "consistency": "internal_consistency.csv",
    "items": "item_statistics.csv",
    "correlations": "quadrant_correlations.csv",
    "distribution": "norm_distribution.csv",
    "change": "sensory_change.csv",
    "gas_levels": "gas_levels.csv",
    "gas_change": "gas_tscore_change.csv",
    "gas_rho": "gas_goal_correlation.csv",
}
PROVENANCE_FILE = "provenance.json"
FLOAT_FORMAT = "%.10g"


def csv_text(frame: pd.DataFrame) -> str:
    """A table as CSV text: no index, floats ``%.10g``, LF line endings, blank
    for missing. The same frame always gives the same bytes."""
    return spreadsheet_safe(frame).to_csv(index=False, float_format=FLOAT_FORMAT,
                                          lineterminator="\n",
                        na_rep="")


def _write(path: Path, text: str) -> Path:
    data = text.encode("utf-8")
    atomic_write(path, lambda tmp: tmp.write_bytes(data))
    os.chmod(path, 0o644)
    return path


def _pct1(value) -> str:
    return percent(value, 1)


@dataclass
class CohortReport(CohortAnalysis):
    """The cohort analysis, ready to lay out: the tables of
    :class:`~sensoryprofile.analysis.cohort.CohortAnalysis` (built the same
    way, with :meth:`build`) plus how to read, chart and export them."""

    # ------------------------------------------------------------- output
    def export(self, output_dir: str | Path | None) -> list[Path]:
        """Write every table as CSV (:data:`CSV_FILES`) and ``provenance.json``
        into ``output_dir`` (created if needed); nothing when it is None.
        Returns the paths."""
        if output_dir is None:
            return []
        folder = Path(output_dir)
        folder.mkdir(parents=True, exist_ok=True)
        written = [_write(folder / CSV_FILES[name], csv_text(frame))
                   for name, frame in self.tables().items()]
        written.append(_write(folder / PROVENANCE_FILE, provenance_json(self.provenance)))
        return written

    # --------------------------------------------------------- presentation
    def title_html(self) -> str:
        """The report's heading and a line on what was analysed (escaped HTML)."""
        inst = self.instrument
        lines = [f"<h1>Cohort analysis: {html.escape(inst.name)}</h1>",
                 f"<p>Instrument {html.escape(inst.id)} version {html.escape(inst.version)}, "
                 f"answered by: {html.escape(self.respondent)}. Bootstrap: "
                 f"{self.n_boot} resamples, seed {self.seed}, {percent(ST.CONFIDENCE)} BCa "
                 "intervals.</p>"]
        if self.demonstration_note:
            lines.append(f"<p><strong>Note:</strong> {html.escape(self.demonstration_note)}</p>")
        return "\n".join(lines)

    @property
    def main_kind(self) -> str:
        """The kind of the form's main scales: "quadrant", or "section" for a
        form without quadrants."""
        return "quadrant" if self.instrument.has_quadrants else "section"

    @property
    def _cut_scores(self) -> bool:
        """Whether some primary score of the form is normed by cut scores (no z)."""
        compiled = self.instrument.compiled
        ids = list(self.instrument.score_ids)
        return any(bool(compiled.has_cuts[:, ids.index(s.id)].any())
                   for s in self.instrument.primary_scores)

    def texts(self) -> dict[str, str]:
        """The report's paragraphs whose numbers come from the analysis and the
        package's settings, by key (the notebook shows them with :meth:`text_html`)."""
        conf = percent(ST.CONFIDENCE)
        c1, c2 = self.instrument.z_cuts
        expected = scheme_expected_shares(self.instrument)
        norm = ", ".join(number(100 * v, 1) for v in expected)
        scheme = self.instrument.scheme
        if scheme.is_five_level:
            norms = ("Share of the children classified in each band at intake, against the "
                     "shares a normal distribution puts in the bands "
                     f"({norm} % for cut points at {c1:g} and {c2:g} SD). A referred cohort "
                     "is expected to sit in the tails more often than this.")
        elif np.isnan(expected).all():
            norms = ("Share of the children classified in each of the form's levels "
                     f"({', '.join(lv.label for lv in scheme.by_ordinal)}) at intake. The "
                     "form is normed by cut-score tables with levels of its own, which imply "
                     "no share of a normal population, so no expected shares are shown.")
        else:
            norms = ("Share of the children classified in each of the form's levels at "
                     f"intake, against the shares a normal distribution puts in them ({norm} "
                     "%, from the levels' z edges).")
        scales = ("quadrant and section" if self.instrument.has_quadrants
                  else "section, total and composite")
        distance = ("the distance from the norm mean (|z|, where a fall means a move toward "
                    "the typical range from either tail)" if not self._cut_scores else
                    "the distance from typical: |z| where the norms give a z and otherwise "
                    "(cut-score norms) the ordinal distance, the number of levels between "
                    "the child's and the typical one, so a fall means a move toward typical")
        gas = ", ".join(number(100 * v, 1) for v in EXPECTED_GAS_SHARES.values())
        return {
            "sample": ("Children, assessments and goals in the dataset. The cohort is every "
                       "child with an assessment on the instrument by its own respondent "
                       "type; the first such assessment is the child's intake, the last (for "
                       "children assessed at least twice) the latest. Counts of 1 to "
                       f"{self.min_group - 1} children in a category are not shown."),
            "consistency": ("Cronbach's alpha and McDonald's omega (total) for each "
                            f"{scales} scale, on the intake assessments only, so that each "
                            "child counts once and the observations are independent. An "
                            "assessment with a blank, off-scale or \"does not apply\" answer "
                            "to one of a scale's items is left out of that scale (listwise); "
                            "the table gives, for each scale, how many children it used and "
                            "why the others were left out. Reverse-keyed items count as "
                            "scored. Omega comes "
                            "from a one-factor model fitted to the item covariances by minres "
                            "(least squares on the off-diagonal covariances), with unique "
                            "variances kept at or above zero. Intervals are "
                            f"{conf} BCa bootstrap intervals resampling children."),
            "norms": norms,
            "correlations": (
                "Spearman rank correlations between the four quadrant raw scores at intake. "
                "Dunn's quadrants are scored separately and a child can be high on several, "
                "so moderate correlations are expected." if self.instrument.has_quadrants else
                "Spearman rank correlations between the raw scores of the form's sections at "
                "intake (its total is left out: it holds the sections' items, so it would "
                "correlate with them by construction)."),
            "change": ("Each reassessed child's intake compared with their latest assessment "
                       "on the same instrument by the same respondent type. Two measures: "
                       f"{distance}, and the raw score (where a fall means less of the "
                       "behaviour on a form where higher is more). Wilcoxon signed-rank test "
                       "(two-sided), matched-pairs rank-biserial correlation and Cohen's dz "
                       f"with {conf} bootstrap intervals; reliable change is the share of "
                       "children whose change exceeds the Reliable Change Index threshold "
                       f"(|RCI| > {RCI_CRITICAL:g}), and in which direction. A child with "
                       "two diagnoses appears in both groups; groups of fewer than "
                       f"{self.min_group} children are not shown."),
            "gas_levels": ("Final (latest) level of every rated goal, against the spread "
                           f"expected when goals are set well ({gas} % from −2 to +2: a "
                           "normal curve cut at ±0.5 and ±1.5 SD)."),
            "gas_change": ("Each child's goal attainment T-score at their latest review "
                           "against the same goals scored at baseline (so the change is not "
                           f"confounded by a change of goal set), with rho = {DEFAULT_RHO:g} "
                           "as the T-score formula assumes."),
            "rho": (f"The T-score formula assumes a correlation rho = {DEFAULT_RHO:g} between "
                    "a child's goal scores. Estimated here from the data as a one-way "
                    "intraclass correlation (Kiresuk, Smith & Cardillo 1994): children are "
                    "the groups and the latest levels of their goals the observations. The "
                    "interval resamples children."),
        }

    def text_html(self, key: str) -> str:
        """A paragraph of :meth:`texts` as inert HTML."""
        return keyed_paragraph(self.texts(), key)

    @property
    def fewer(self) -> str:
        """What a suppressed group shows instead of its numbers."""
        return ST.suppression_note(self.min_group)

    @property
    def demonstration_note(self) -> str | None:
        inst = self.instrument
        return None if inst.clinical_use else (
            f"{inst.name} is a demonstration form with invented items and synthetic norms: "
            "the numbers below show how the analysis works, not how any real questionnaire "
            "behaves.")

    def provenance_shown(self) -> pd.DataFrame:
        table = provenance_table(self.provenance)
        return table.rename(columns={CATEGORY: "What", NAME: "Name", VALUE: "Value"})

    def sample_shown(self) -> pd.DataFrame:
        t = self.sample
        return pd.DataFrame({
            "Measure": t[MEASURE], "Category": t[CATEGORY],
            "n": [str(n) if pd.notna(n) else note for n, note in zip(t[N], t[NOTE],
                                                                      strict=True)],
            "Share": [_pct1(v) for v in t[SHARE]],
            "Median (IQR)": [f"{number(m, 1)} ({number(lo, 1)} to {number(hi, 1)})"
                             if pd.notna(m) else "" for m, lo, hi in
                             zip(t[MEDIAN], t[Q1], t[Q3], strict=True)]})

    def consistency_shown(self) -> pd.DataFrame:
        t = self.consistency
        return pd.DataFrame({
            "Scale": t[C.SCORE_NAME], "Kind": t[C.KIND], "Items": t[C.N_ITEMS],
            "Children (complete)": t[N_COMPLETE],
            "Left out": [f"{n} ({why})" if n and why else str(n) for n, why in
                         zip(t[N_INCOMPLETE], t[LEFT_OUT], strict=True)],
            "Cronbach's alpha": [number(v, 3) for v in t[ALPHA]],
            "alpha 95% interval": [span(lo, hi, 3) for lo, hi in
                                   zip(t[ALPHA_LOW], t[ALPHA_HIGH], strict=True)],
            "McDonald's omega": [number(v, 3) for v in t[OMEGA]],
            "omega 95% interval": [span(lo, hi, 3) for lo, hi in
                                   zip(t[OMEGA_LOW], t[OMEGA_HIGH], strict=True)],
            "Items that lower alpha": [s.replace(";", ", ") or "none"
                                       for s in t[ITEMS_LOWERING_ALPHA]],
            "Note": t[NOTE]})

    def items_shown(self, kind: str | None = None) -> pd.DataFrame:
        t = self.items if kind is None else self.items[self.items[C.KIND] == kind]
        t = t.reset_index(drop=True)
        return pd.DataFrame({
            "Scale": t[C.SCORE_NAME], "Item": t[ITEM], "Mean": [number(v, 2) for v in t[MEAN]],
            "SD": [number(v, 2) for v in t[SD]],
            "Corrected item-total r": [number(v, 2) for v in t[ITEM_TOTAL_R]],
            "Alpha if deleted": [number(v, 3) for v in t[ALPHA_IF_DELETED]],
            "Lowers alpha": ["yes" if v else "" for v in t[LOWERS_ALPHA]],
            "Loading": [number(v, 2) for v in t[LOADING]]})

    def correlations_shown(self) -> pd.DataFrame:
        t = self.correlations
        return pd.DataFrame({"Quadrant" if self.instrument.has_quadrants else "Score":
                             t[SCORE_NAME_A], "with": t[SCORE_NAME_B],
                             "Children": t[N],
                             "Spearman rho": [number(v, 2) for v in t[SPEARMAN_RHO]],
                             "p": [p_value(v) for v in t[P_VALUE]]})

    def distribution_shown(self, timepoint: str = INTAKE) -> pd.DataFrame:
        t = self.distribution[self.distribution[TIMEPOINT] == timepoint]
        out = t.pivot_table(index=C.SCORE_NAME, columns=C.LEVEL, values=SHARE,
                            aggfunc="first", sort=False)
        inst = self.instrument
        frame = pd.DataFrame({"Quadrant" if inst.has_quadrants else "Score": out.index})
        levels = inst.scheme.by_ordinal
        for level in levels:
            frame[level.label] = ([_pct1(v) for v in out[level.ordinal]]
                                  if level.ordinal in out.columns else "")
        counts = t.drop_duplicates(C.SCORE_NAME).set_index(C.SCORE_NAME)
        frame["Children classified"] = counts.loc[out.index, N_CLASSIFIED].to_numpy()
        expected = scheme_expected_shares(inst)
        if not np.isnan(expected).all():  # a scheme of cut scores only implies no shares
            frame.loc[len(frame)] = ["Expected from the norms",
                                     *[_pct1(v) for v in expected], ""]
        return frame

    def change_shown(self, measure: str = DISTANCE_MEASURE,
                     group: str | None = None) -> pd.DataFrame:
        t = self.change[self.change[MEASURE] == measure]
        if group is not None:
            t = t[t[GROUP] == group]
        t = t.reset_index(drop=True)
        return pd.DataFrame({
            "Group": t[GROUP], ("Quadrant" if self.instrument.has_quadrants else "Score"):
            t[C.SCORE_NAME],
            "Children": [n if pd.notna(n) else self.fewer for n in t[N]],
            "Median at intake": [number(v, 2) for v in t[C.MEDIAN_BEFORE]],
            "Median latest": [number(v, 2) for v in t[C.MEDIAN_AFTER]],
            "Median change": [number(v, 2) for v in t[C.MEDIAN_CHANGE]],
            "Wilcoxon W": [number(v, 1) for v in t[C.WILCOXON_W]],
            "p": [p_value(v) for v in t[P_VALUE]],
            "Rank-biserial r (95% interval)": [
                with_interval(v, lo, hi) for v, lo, hi in zip(
                    t[C.RANK_BISERIAL], t[C.RANK_BISERIAL_LOW], t[C.RANK_BISERIAL_HIGH],
                    strict=True)],
            "Cohen's dz (95% interval)": [
                with_interval(v, lo, hi) for v, lo, hi in zip(
                    t[C.COHENS_DZ], t[C.COHENS_DZ_LOW], t[C.COHENS_DZ_HIGH], strict=True)],
            "Reliable change (toward / away from typical)": [
                "" if pd.isna(n) else f"{_pct1(s)} ({_pct1(a)} / {_pct1(b)})"
                for n, s, a, b in zip(t[N], t[SHARE_RELIABLE], t[SHARE_RELIABLE_TOWARD],
                                      t[SHARE_RELIABLE_AWAY], strict=True)]})

    def gas_levels_shown(self) -> pd.DataFrame:
        t = self.gas_levels
        return pd.DataFrame({"Final level": [GAS_LEVEL_TEXT.get(int(v), str(v))
                                             for v in t[C.LEVEL]],
                             "Goals": t[N], "Share": [_pct1(v) for v in t[SHARE]],
                             "Expected when well set": [_pct1(v) for v in t[EXPECTED_SHARE]]})

    def gas_change_shown(self) -> pd.DataFrame:
        t = self.gas_change
        return pd.DataFrame({
            "Group": t[GROUP], "Children": [n if pd.notna(n) else self.fewer for n in t[N]],
            "Median baseline T": [number(v, 1) for v in t[C.MEDIAN_BEFORE]],
            "Median latest T": [number(v, 1) for v in t[C.MEDIAN_AFTER]],
            "Median change (95% interval)": [
                with_interval(v, lo, hi, 1) for v, lo, hi in zip(
                    t[C.MEDIAN_CHANGE], t[MEDIAN_CHANGE_LOW], t[MEDIAN_CHANGE_HIGH],
                    strict=True)],
            "Wilcoxon W": [number(v, 1) for v in t[C.WILCOXON_W]],
            "p": [p_value(v) for v in t[P_VALUE]],
            "Rank-biserial r (95% interval)": [
                with_interval(v, lo, hi) for v, lo, hi in zip(
                    t[C.RANK_BISERIAL], t[C.RANK_BISERIAL_LOW], t[C.RANK_BISERIAL_HIGH],
                    strict=True)],
            "Cohen's dz (95% interval)": [
                with_interval(v, lo, hi) for v, lo, hi in zip(
                    t[C.COHENS_DZ], t[C.COHENS_DZ_LOW], t[C.COHENS_DZ_HIGH], strict=True)]})

    def gas_rho_shown(self) -> pd.DataFrame:
        r = self.gas_rho.iloc[0]
        rows = [("Children with 2 or more rated goals", f"{int(r[N_CHILDREN])}"),
                ("Goals", f"{int(r[N_GOALS])}"),
                ("k0 (adjusted goals per child)", number(r[K0], 3)),
                ("MS between children", number(r[MS_BETWEEN], 4)),
                ("MS within children", number(r[MS_WITHIN], 4)),
                ("F (df)", f"{number(r[F_STATISTIC], 2)} ({number(r[DF_BETWEEN], 0)}, "
                           f"{number(r[DF_WITHIN], 0)})"),
                ("p", p_value(r[P_VALUE])),
                ("Estimated rho (95% interval)", with_interval(r[RHO], r[RHO_LOW],
                                                                r[RHO_HIGH], 3)),
                ("Assumed rho in the T-scores", number(r[RHO_ASSUMED], 2))]
        return pd.DataFrame(rows, columns=["", " "])

    @property
    def interval_label(self) -> str:
        """How the charts name the intervals: '95% BCa interval'."""
        return f"{percent(ST.CONFIDENCE)} BCa interval"

    def gas_change_chart(self) -> pd.DataFrame:
        """The GAS change table in the form of :func:`plots.plot_tchange_by_group`."""
        t = self.gas_change
        return pd.DataFrame({GROUP: t[GROUP], MEDIAN: t[C.MEDIAN_CHANGE],
                             C.CI_LOW: t[MEDIAN_CHANGE_LOW], C.CI_HIGH: t[MEDIAN_CHANGE_HIGH],
                             N: t[N].astype("Float64").to_numpy(dtype=float,
                                                                 na_value=np.nan)})

    def gas_levels_chart(self) -> pd.DataFrame:
        """Final GAS levels in the form of :func:`plot_gas_levels`."""
        t = self.gas_levels
        return pd.DataFrame({GROUP: "All rated goals", C.LEVEL: t[C.LEVEL],
                             SHARE: t[SHARE].fillna(0.0), N: int(t[N].sum())})
