"""The researcher's cohort analysis as tidy tables: who is in the cohort,
how the quadrant scores relate and compare with the norms, change from intake
to latest, and goal attainment.

Every section of the cohort notebook is one function here that returns a
tidy table (one row per result, numbers unrounded):

* :func:`describe_sample` - children, assessments, age at intake, diagnoses,
  follow-up time, respondents;
* :func:`quadrant_correlations` and :func:`norm_distribution` - Spearman
  intercorrelations, and the share of children per classification against the
  shares the norms imply;
* :func:`change_effects` - intake versus latest per quadrant: Wilcoxon
  signed-rank, rank-biserial and Cohen's dz with intervals
  (:func:`sensoryprofile.analysis.stats.paired_change`), reliable change
  (RCI), by diagnosis with small groups suppressed;
* :func:`gas_levels`, :func:`gas_tscore_change` and :func:`goal_correlation`
  - final goal levels, T-score change, and the goal inter-correlation rho
  estimated from the data.

Internal consistency and item statistics are
:mod:`sensoryprofile.analysis.psychometrics`; the provenance record is
:mod:`sensoryprofile.analysis.provenance`. :class:`CohortAnalysis` runs them
all; presenting and exporting them is :mod:`sensoryprofile.reports.cohort`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats as sps

from sensoryprofile import columns as C
from sensoryprofile.analysis import stats as ST
from sensoryprofile.analysis.provenance import provenance
from sensoryprofile.analysis.psychometrics import (
    internal_consistency,
    item_gaps,
    item_matrix,
    item_statistics,
)
from sensoryprofile.analysis.stats import (
    bca_interval,
    bootstrap_indices,
    median_interval,
    paired_change,
    resample_counts,
    suppression_note,
)
from sensoryprofile.columns import (
    ALL_CHILDREN,
    CATEGORY,
    DF_BETWEEN,
    DF_WITHIN,
    DISTANCE_MEASURE,
    EXPECTED_SHARE,
    F_STATISTIC,
    GROUP,
    INTAKE,
    K0,
    LATEST,
    MEASURE,
    MEDIAN,
    MEDIAN_CHANGE_HIGH,
    MEDIAN_CHANGE_LOW,
    MS_BETWEEN,
    MS_WITHIN,
    N_CHILDREN,
    N_CLASSIFIED,
    N_GOALS,
    N_NOT_CLASSIFIED,
    N_RELIABLE,
    N_RELIABLE_AWAY,
    N_RELIABLE_TOWARD,
    N_WITH_RCI,
    NOT_RECORDED,
    NOTE,
    P_VALUE,
    Q1,
    Q3,
    RAW_MEASURE,
    RHO,
    RHO_ASSUMED,
    RHO_HIGH,
    RHO_LOW,
    SCORE_A,
    SCORE_B,
    SCORE_NAME_A,
    SCORE_NAME_B,
    SHARE,
    SHARE_RELIABLE,
    SHARE_RELIABLE_AWAY,
    SHARE_RELIABLE_TOWARD,
    SPEARMAN_RHO,
    SUPPRESSED,
    TIMEPOINT,
    N,
)
from sensoryprofile.dates import elapsed_months
from sensoryprofile.errors import UsageError
from sensoryprofile.instruments import Instrument, load_instrument
from sensoryprofile.measures import change as CH
from sensoryprofile.measures import goals as G
from sensoryprofile.measures.gas import DEFAULT_RHO, EXPECTED_GAS_SHARES, SIX_LEVEL

#: Values of ``measure`` in :func:`change_effects`.
MEASURES = (RAW_MEASURE, DISTANCE_MEASURE)


# ---------------------------------------------------------------------------
# the cohort: assessments in order, groups of children
# ---------------------------------------------------------------------------
def series_assessments(dataset, instrument: str, respondent: str | None = None
                       ) -> pd.DataFrame:
    """The assessments of one instrument by one respondent type, in order.

    Parameters
    ----------
    dataset : Dataset
    instrument : instrument id (must be among ``dataset.instruments``).
    respondent : respondent type; default the instrument's own respondent
        (e.g. caregiver), so a teacher form is never mixed with a caregiver's.

    Returns
    -------
    DataFrame
        The rows of ``dataset.assessments`` (all columns), sorted by child,
        date and assessment id, with three columns added: ``position`` (0 =
        intake), ``intake`` (first of the child's series) and ``latest``
        (last of a series of two or more).
    """
    inst = _instrument(dataset, instrument)
    respondent = inst.respondent if respondent is None else respondent
    table = dataset.assessments
    mine = ((table[C.INSTRUMENT].astype(str) == inst.id)
            & (table[C.RESPONDENT].astype(str) == respondent)).to_numpy(dtype=bool)
    rows = table[mine].sort_values([C.CHILD_ID, C.DATE, C.ASSESSMENT_ID], kind="stable")
    child = rows[C.CHILD_ID].to_numpy(dtype=object)
    first = np.ones(len(rows), dtype=bool)
    first[1:] = child[1:] != child[:-1]
    last = np.ones(len(rows), dtype=bool)
    last[:-1] = child[:-1] != child[1:]
    position = rows.groupby(C.CHILD_ID, sort=False).cumcount().to_numpy()
    return rows.assign(**{C.SERIES_POSITION: position, C.IS_INTAKE: first,
                          C.IS_LATEST: last & ~first}).reset_index(
        drop=True)


def _instrument(dataset, instrument: str) -> Instrument:
    if isinstance(instrument, Instrument):
        instrument = instrument.id
    if instrument not in dataset.instruments:
        known = ", ".join(sorted(dataset.instruments)) or "none"
        raise UsageError(f"The value for `instrument` must be one of the instruments in the "
                         f"dataset [{known}], but {instrument!r} was passed")
    return dataset.instruments[instrument]


# ---------------------------------------------------------------------------
# quadrant scores: intercorrelations and the norms
# ---------------------------------------------------------------------------
def _primary_rows(scores: pd.DataFrame, assessment_ids, inst: Instrument) -> pd.DataFrame:
    """The rows of the form's primary scores (its quadrants, or its sections
    and total) of these assessments."""
    keep = (scores[C.ASSESSMENT_ID].isin(list(assessment_ids))
            & scores[C.SCORE].astype(str).isin([s.id for s in inst.primary_scores])
            ).to_numpy(dtype=bool)
    return scores[keep]


def quadrant_correlations(scores: pd.DataFrame, instrument: Instrument | str,
                          assessment_ids, *, min_n: int = ST.MIN_GROUP) -> pd.DataFrame:
    """Spearman correlations between the quadrant scores.

    Parameters
    ----------
    scores : the tidy score table (``Dataset.scores``).
    instrument : Instrument or shipped id (fixes the quadrant order).
    assessment_ids : the assessments to use, one per child (the intakes).

    Returns
    -------
    DataFrame
        One row per pair of quadrants (each pair once, in definition order):
        ``score_a``, ``score_name_a``, ``score_b``, ``score_name_b``, ``n``
        (children with both scores valid), ``spearman_rho`` and ``p_value``
        (two-sided, :func:`scipy.stats.spearmanr`; NaN with fewer than
        ``min_n`` children).

    Notes
    -----
    Dunn's quadrants are scored independently and a child can be high on
    several, so moderate positive correlations are expected; Spearman's rank
    correlation makes no assumption of normal, interval-scaled scores.
    """
    inst = load_instrument(instrument)
    rows = _primary_rows(scores, assessment_ids, inst)
    wide = (rows.assign(**{C.SCORE: rows[C.SCORE].astype(str)})
            .pivot_table(index=C.ASSESSMENT_ID, columns=C.SCORE, values=C.RAW,
                         aggfunc="first", dropna=False, observed=True))
    # the form's primary scores: its quadrants, or else its sections (a total
    # is left out: it holds the sections' items, so it correlates by construction)
    quadrants = [s for s in inst.primary_scores if s.kind != "total"]
    records = []
    for i, a in enumerate(quadrants):
        for b in quadrants[i + 1:]:
            pair = (wide[[a.id, b.id]].dropna() if {a.id, b.id} <= set(wide.columns)
                    else pd.DataFrame(columns=[a.id, b.id]))
            n = len(pair)
            rho = p = float("nan")
            if n >= min_n:
                res = sps.spearmanr(pair[a.id].to_numpy(float), pair[b.id].to_numpy(float))
                rho, p = float(res.statistic), float(res.pvalue)
            records.append({SCORE_A: a.id, SCORE_NAME_A: a.name, SCORE_B: b.id,
                            SCORE_NAME_B: b.name, N: n, SPEARMAN_RHO: rho, P_VALUE: p})
    return pd.DataFrame.from_records(records, columns=[SCORE_A, SCORE_NAME_A, SCORE_B,
                                                       SCORE_NAME_B, N, SPEARMAN_RHO, P_VALUE])


def expected_shares(z_cuts: Sequence[float] = (1.0, 2.0)) -> np.ndarray:
    """Share of a normal population in each of the five classification bands
    (levels -2..+2) with cut points at +-z_cuts[0] and +-z_cuts[1] SD.

    Examples
    --------
    >>> (100 * expected_shares()).round(1).tolist()
    [2.3, 13.6, 68.3, 13.6, 2.3]
    """
    inner, outer = float(z_cuts[0]), float(z_cuts[1])
    edges = sps.norm.cdf([-outer, -inner, inner, outer])
    return np.diff(np.concatenate([[0.0], edges, [1.0]]))


def scheme_expected_shares(instrument: Instrument) -> np.ndarray:
    """The share of a normal population in each level of a form's scheme (in
    :attr:`Scheme.by_ordinal` order): the five levels by their z cut points;
    another scheme by its own z edges where it has them; NaN for a scheme
    of cut scores only (no population shares follow from a cut table)."""
    scheme = instrument.scheme
    if scheme.is_five_level:
        return expected_shares(instrument.z_cuts)
    if not scheme.has_z:
        return np.full(len(scheme.levels), np.nan)
    edges = [(lv.z_low if lv.z_low is not None else -np.inf,
              lv.z_high if lv.z_high is not None else np.inf) for lv in scheme.by_ordinal]
    return np.array([sps.norm.cdf(hi) - sps.norm.cdf(lo) for lo, hi in edges])


def norm_distribution(scores: pd.DataFrame, instrument: Instrument | str, *,
                      intake_ids, latest_ids=()) -> pd.DataFrame:
    """Share of children in each classification per primary score of the
    form (its quadrants, or its sections and total), against the shares the
    norms imply.

    Parameters
    ----------
    scores : the tidy score table (``Dataset.scores``).
    instrument : Instrument or shipped id.
    intake_ids : assessment ids of the intakes (one per child).
    latest_ids : assessment ids of the latest reassessments (one per
        reassessed child), optional.

    Returns
    -------
    DataFrame
        One row per quadrant x timepoint x level (-2..2), quadrants in
        definition order, intake first: ``score``, ``score_name``,
        ``timepoint`` ("intake"/"latest"), ``level``, ``classification``,
        ``n`` (children in the band), ``share`` (of the children classified
        on that quadrant and timepoint), ``expected_share``, ``n_classified``
        and ``n_not_classified`` (invalid scores, or no norms at that age).

    Notes
    -----
    Expected shares are those of a normal distribution cut at the
    instrument's z cut points (+-1 and +-2 SD: 2.3, 13.6, 68.3, 13.6 and
    2.3 %). For an instrument normed with cut-score tables they hold only
    as far as its cut scores follow the same SD convention; a form with a
    scheme of its own and no z edges (e.g. three one-sided levels from cut
    tables) has no expected shares (NaN). Levels are the scheme's ordinals
    (-2..2 for the five levels; 0, 1, 2 from typical outward for a
    one-sided scheme). A referred cohort is expected to sit in the tails
    more often than this.
    """
    inst = load_instrument(instrument)
    expected = scheme_expected_shares(inst)
    scheme = inst.scheme
    ordinals = np.array([lv.ordinal for lv in scheme.by_ordinal])
    labels = [lv.label for lv in scheme.by_ordinal]
    frames = []
    for point, ids in ((INTAKE, intake_ids), (LATEST, latest_ids)):
        rows = _primary_rows(scores, ids, inst)
        if point == LATEST and rows.empty:
            continue
        for score in inst.primary_scores:
            mine = rows[(rows[C.SCORE].astype(str) == score.id).to_numpy(dtype=bool)]
            level = mine[C.LEVEL].to_numpy(dtype=float, na_value=np.nan)
            level = level[~np.isnan(level)].astype(int)
            counts = np.array([(level == o).sum() for o in ordinals], dtype=int)
            classified = int(counts.sum())
            frames.append(pd.DataFrame({
                C.SCORE: score.id, C.SCORE_NAME: score.name, TIMEPOINT: point,
                C.LEVEL: ordinals, C.CLASSIFICATION: labels, N: counts,
                SHARE: counts / classified if classified else np.nan,
                EXPECTED_SHARE: expected, N_CLASSIFIED: classified,
                N_NOT_CLASSIFIED: len(mine) - classified}))
    columns = [C.SCORE, C.SCORE_NAME, TIMEPOINT, C.LEVEL, C.CLASSIFICATION, N, SHARE,
               EXPECTED_SHARE, N_CLASSIFIED, N_NOT_CLASSIFIED]
    return pd.concat(frames, ignore_index=True)[columns] if frames else pd.DataFrame(
        columns=columns)


# ---------------------------------------------------------------------------
# groups of children
# ---------------------------------------------------------------------------
def diagnosis_groups(children: pd.DataFrame) -> dict[str, set]:
    """Children by diagnosis: ``{"all children": ids, diagnosis: ids, ...}``.

    A child with two diagnoses ('autism;ADHD') is in both groups, so groups
    overlap; a blank is "not recorded". Diagnoses are sorted by name after
    the all-children group.
    """
    ids = children[C.CHILD_ID].astype(str).to_numpy(dtype=object)
    text = (children[C.DIAGNOSES].astype("string") if C.DIAGNOSES in children.columns
            else pd.Series(pd.NA, index=children.index, dtype="string"))
    groups: dict[str, set] = {}
    for child, value in zip(ids, text.fillna(NOT_RECORDED), strict=True):
        names = [d.strip() for d in str(value).split(";") if d.strip()] or [NOT_RECORDED]
        for name in dict.fromkeys(names):
            groups.setdefault(name, set()).add(child)
    return {ALL_CHILDREN: set(ids), **{k: groups[k] for k in sorted(groups, key=str.casefold)}}


def _suppress(n: int, min_n: int):
    """(n shown, suppressed?, note) for a group of n children."""
    if n < min_n:
        return pd.NA, True, suppression_note(min_n)
    return n, False, ""


# ---------------------------------------------------------------------------
# sample description
# ---------------------------------------------------------------------------
def _spread(values) -> dict:
    v = np.asarray(values, dtype=float)
    v = v[~np.isnan(v)]
    if not len(v):
        return {N: 0, MEDIAN: np.nan, Q1: np.nan, Q3: np.nan}
    q1, med, q3 = np.percentile(v, [25, 50, 75])
    return {N: len(v), MEDIAN: float(med), Q1: float(q1), Q3: float(q3)}


def describe_sample(dataset, series: pd.DataFrame, *, min_group: int = ST.MIN_GROUP
                    ) -> pd.DataFrame:
    """Who is in the cohort.

    Parameters
    ----------
    dataset : Dataset
    series : :func:`series_assessments` of the analysed instrument.

    Returns
    -------
    DataFrame
        One row per figure: ``measure``, ``category``, ``n``, ``share``,
        ``median``, ``q1``, ``q3`` and ``note``. Measures, in order:
        children (in the dataset; with an intake on the instrument;
        reassessed), assessments (all; on the instrument, per respondent),
        age at intake in months, follow-up in months from intake to the
        latest assessment (reassessed children), sex and diagnosis of the
        cohort's children (a child with two diagnoses counts in both, so
        those shares add to more than 1), goals (set; rated at least once),
        and rows rejected at validation per table.

    Notes
    -----
    Counts of 1 to 4 children in a category (sex, diagnosis) are suppressed:
    ``n`` and ``share`` are blank and ``note`` says "fewer than 5". Age and
    follow-up show median and interquartile range (linear interpolation).
    Follow-up months are days / 30.4375.
    """
    rows: list[dict] = []

    def add(measure, category="", *, n=None, share=np.nan, note="", **spread):
        rows.append({MEASURE: measure, CATEGORY: category, N: n, SHARE: share,
                     MEDIAN: spread.get(MEDIAN, np.nan), Q1: spread.get(Q1, np.nan),
                     Q3: spread.get(Q3, np.nan), NOTE: note})

    intake = series[series[C.IS_INTAKE]]
    latest = series[series[C.IS_LATEST]]
    cohort = set(intake[C.CHILD_ID].astype(str))
    inst_id = str(series[C.INSTRUMENT].iloc[0]) if len(series) else ""
    add("children", "in the dataset", n=len(dataset.children))
    add("children", "with an intake assessment", n=len(cohort))
    add("children", "reassessed (intake and latest)", n=len(latest))
    add("assessments", "all instruments", n=len(dataset.assessments))
    mine = dataset.assessments[(dataset.assessments[C.INSTRUMENT].astype(str) == inst_id)
                               .to_numpy(dtype=bool)]
    add("assessments", inst_id or "none", n=len(mine))
    for respondent, count in mine[C.RESPONDENT].astype(str).value_counts().sort_index().items():
        add("assessments by respondent", respondent, n=int(count),
            share=count / len(mine))
    ages = (dataset.scores.drop_duplicates(C.ASSESSMENT_ID).set_index(C.ASSESSMENT_ID)
            [C.AGE_MONTHS].reindex(intake[C.ASSESSMENT_ID].to_numpy()))
    add("age at intake (months)", "", **_spread(ages.to_numpy(dtype=float)))
    follow = latest.merge(intake[[C.CHILD_ID, C.DATE]], on=C.CHILD_ID,
                          suffixes=("", "_intake"))
    add("follow-up (months)", "intake to latest",
        **_spread(elapsed_months(follow[f"{C.DATE}_intake"], follow[C.DATE])))
    kids = dataset.children[dataset.children[C.CHILD_ID].astype(str).isin(cohort)]
    if C.SEX in kids.columns:
        sexes = kids[C.SEX].astype("string").fillna(NOT_RECORDED)
        for sex, count in sexes.value_counts().sort_index().items():
            shown, hidden, note = _suppress(int(count), min_group)
            add("sex", str(sex), n=shown, share=np.nan if hidden else count / len(kids),
                note=note)
    for name, members in diagnosis_groups(kids).items():
        if name == ALL_CHILDREN:
            continue
        shown, hidden, note = _suppress(len(members), min_group)
        add("diagnosis", name, n=shown, share=np.nan if hidden else len(members) / len(kids),
            note=note)
    goals = dataset.goals
    add("goals", "set", n=len(goals))
    add("goals", "rated at least once",
        n=int(goals[C.GOAL_ID].isin(dataset.goal_ratings[C.GOAL_ID]).sum()))
    add("children", "with goals", n=int(goals[C.CHILD_ID].nunique()))
    for table, count in dataset.report.counts.items():
        add("rows rejected at validation", table, n=int(count.rejected))
    out = pd.DataFrame(rows, columns=[MEASURE, CATEGORY, N, SHARE, MEDIAN, Q1, Q3, NOTE])
    out[N] = pd.array(out[N].tolist(), dtype="Int64")
    return out


# ---------------------------------------------------------------------------
# sensory change
# ---------------------------------------------------------------------------
def intake_to_latest(dataset, instrument: str, respondent: str | None = None
                     ) -> pd.DataFrame:
    """Intake-to-latest comparisons of the primary scores of one instrument and respondent
    type: the ``"intake_to_latest"`` rows of
    :func:`sensoryprofile.measures.change.score_changes` (RCI included), compared or not."""
    inst = _instrument(dataset, instrument)
    respondent = inst.respondent if respondent is None else respondent
    scores = dataset.scores
    keep = ((scores[C.INSTRUMENT].astype(str) == inst.id)
            & (scores[C.RESPONDENT].astype(str) == respondent)
            & scores[C.SCORE].astype(str).isin([s.id for s in inst.primary_scores])
            ).to_numpy(dtype=bool)
    changes = CH.score_changes(scores[keep], {inst.id: inst})
    return changes[(changes[C.COMPARISON] == CH.INTAKE_TO_LATEST).to_numpy(dtype=bool)
                   ].reset_index(drop=True)


def distance_from_typical(z, level) -> np.ndarray:
    """How far each score is from the typical range: |z| (SD units) where the
    norms give a z; else, for cut-score norms, the ordinal distance |level|,
    the number of classification levels between the score's and the typical
    one (0 typical; a one-sided three-level scheme: 0, 1, 2). NaN when
    unclassified."""
    z = pd.to_numeric(pd.Series(z), errors="coerce").to_numpy(dtype=float)
    level = pd.to_numeric(pd.Series(level).astype("Float64"), errors="coerce").to_numpy(
        dtype=float, na_value=np.nan)
    return np.where(np.isnan(z), np.abs(level), np.abs(z))


def change_effects(changes: pd.DataFrame, instrument: Instrument | str,
                   groups: Mapping[str, set], *, measures: Sequence[str] = MEASURES,
                   n_boot: int = ST.DEFAULT_BOOT, seed: int = ST.DEFAULT_SEED,
                   min_n: int = ST.MIN_GROUP) -> pd.DataFrame:
    """Change from intake to latest per primary score of the form (its
    quadrants, or its sections and total), for all children and by group.

    Parameters
    ----------
    changes : intake-to-latest rows of the change table (:func:`intake_to_latest`).
    instrument : Instrument or shipped id (quadrant order).
    groups : group name -> child ids (:func:`diagnosis_groups`).
    measures : ``"raw"`` (raw score) and/or ``"abs_z"`` (distance from
        typical, :func:`distance_from_typical`: |z| in SD units where the
        norms give z; for cut-score norms the ordinal distance, the number of
        levels from the typical one; smaller is closer to typical either way).
    n_boot, seed : bootstrap resamples and seed (per row, the same seed).
    min_n : groups with fewer compared pairs are suppressed.

    Returns
    -------
    DataFrame
        One row per group x quadrant x measure (groups in the order given,
        quadrants in definition order): ``group``, ``score``,
        ``score_name``, ``measure``, then the keys of
        :func:`sensoryprofile.analysis.stats.paired_change` (``n`` pairs,
        ``median_before``, ``median_after``, ``median_change``,
        ``iqr_change_low``/``high``, ``wilcoxon_w``, ``p_value``,
        ``rank_biserial`` with ``_low``/``_high``, ``cohens_dz`` with
        ``_low``/``_high``, ``suppressed``), then reliable change:
        ``n_with_rci`` (pairs with an RCI), ``n_reliable``,
        ``share_reliable``, ``n_reliable_toward_typical``,
        ``share_reliable_toward_typical``, ``n_reliable_away_from_typical``,
        ``share_reliable_away_from_typical``, and ``note``.

    Notes
    -----
    Change is latest minus intake, for the same child, instrument and
    respondent type; pairs where either score is invalid are left out. On
    the raw scale a fall is less of the behaviour; on ``abs_z`` a fall is a
    move toward the typical range, whichever tail the child started in
    (both tails are atypical), so a negative rank-biserial means most children moved
    toward typical. Reliable change: |RCI| > 1.96 (Jacobson & Truax 1991),
    on raw scores, split by the direction of the move (toward or away from
    the typical band, :data:`sensoryprofile.measures.change.DIRECTIONS`); the RCI
    columns are the same on both measures' rows.

    Suppression: with fewer than ``min_n`` pairs every statistic is blank,
    ``n`` too, ``suppressed`` is True and ``note`` says "fewer than 5", for
    stability and privacy.
    """
    inst = load_instrument(instrument)
    for m in measures:
        if m not in MEASURES:
            raise UsageError(f"The values of `measures` must be among {list(MEASURES)}, but "
                             f"{m!r} was passed")
    compared = changes[changes[C.COMPARED].to_numpy(dtype=bool)]
    child = compared[C.CHILD_ID].astype(str).to_numpy(dtype=object)
    score_ids = compared[C.SCORE].astype(str).to_numpy(dtype=object)
    values = {
        RAW_MEASURE: (compared[C.FROM_RAW].to_numpy(float), compared[C.TO_RAW].to_numpy(float)),
        DISTANCE_MEASURE: (distance_from_typical(compared[C.FROM_Z], compared[C.FROM_LEVEL]),
                           distance_from_typical(compared[C.TO_Z], compared[C.TO_LEVEL])),
    }
    reliable = compared[C.RELIABLE].astype("boolean")
    has_rci = reliable.notna().to_numpy()
    is_reliable = reliable.fillna(False).to_numpy(dtype=bool)
    direction = compared[C.DIRECTION].astype(object).to_numpy()
    records = []
    for group, members in groups.items():
        in_group = np.isin(child, list(members))
        for score in inst.primary_scores:
            rows = in_group & (score_ids == score.id)
            for measure in measures:
                before, after = values[measure]
                res = paired_change(before[rows], after[rows], n_boot=n_boot,
                                               seed=seed, min_n=min_n)
                rec = {GROUP: group, C.SCORE: score.id, C.SCORE_NAME: score.name,
                       MEASURE: measure, **res}
                counts = {
                    N_WITH_RCI: int((rows & has_rci).sum()),
                    N_RELIABLE: int((rows & is_reliable).sum()),
                    N_RELIABLE_TOWARD: int((rows & is_reliable
                                            & (direction == CH.TOWARD_TYPICAL)).sum()),
                    N_RELIABLE_AWAY: int((rows & is_reliable
                                          & (direction == CH.AWAY_FROM_TYPICAL)).sum()),
                }
                with_rci = counts[N_WITH_RCI]
                shares = {share: counts[count] / with_rci if with_rci else np.nan
                          for share, count in ((SHARE_RELIABLE, N_RELIABLE),
                                               (SHARE_RELIABLE_TOWARD, N_RELIABLE_TOWARD),
                                               (SHARE_RELIABLE_AWAY, N_RELIABLE_AWAY))}
                rec[NOTE] = ""
                if res[C.SUPPRESSED]:
                    rec[N], rec[NOTE] = pd.NA, suppression_note(min_n)
                    counts = dict.fromkeys(counts, pd.NA)
                    shares = dict.fromkeys(shares, np.nan)
                rec.update(counts)
                rec.update(shares)
                records.append(rec)
    columns = [GROUP, C.SCORE, C.SCORE_NAME, MEASURE, *C.PAIRED_COLUMNS, N_WITH_RCI, N_RELIABLE,
               SHARE_RELIABLE, N_RELIABLE_TOWARD, SHARE_RELIABLE_TOWARD, N_RELIABLE_AWAY,
               SHARE_RELIABLE_AWAY, NOTE]
    out = pd.DataFrame.from_records(records, columns=columns)
    for col in (N, N_WITH_RCI, N_RELIABLE, N_RELIABLE_TOWARD, N_RELIABLE_AWAY):
        out[col] = pd.array(out[col].tolist(), dtype="Int64")
    out[SUPPRESSED] = out[SUPPRESSED].astype(bool)
    return out


# ---------------------------------------------------------------------------
# goal attainment
# ---------------------------------------------------------------------------
def gas_levels(goals: pd.DataFrame) -> pd.DataFrame:
    """Distribution of the goals' final (latest) levels.

    Parameters
    ----------
    goals : the per-goal table of :func:`sensoryprofile.measures.goals.goal_attainment`
        (``GoalAttainment.goals``); goals never rated are left out.

    Returns
    -------
    DataFrame
        One row per level (-2..+2; -3 too on the six-level scale): ``level``,
        ``n`` (goals), ``share`` and ``expected_share`` (for -2..+2 when
        goals are well set, :data:`~sensoryprofile.measures.gas.EXPECTED_GAS_SHARES`;
        blank for -3).
    """
    latest = goals[C.LATEST_LEVEL].to_numpy(dtype=float, na_value=np.nan)
    latest = latest[~np.isnan(latest)].astype(int)
    levels = list(range(-3 if (latest == -3).any() or (
        C.GAS_SCALE in goals.columns and (goals[C.GAS_SCALE] == SIX_LEVEL).any()) else -2, 3))
    counts = np.array([(latest == lv).sum() for lv in levels], dtype=int)
    total = counts.sum()
    return pd.DataFrame({
        C.LEVEL: levels, N: counts,
        SHARE: counts / total if total else np.nan,
        EXPECTED_SHARE: [EXPECTED_GAS_SHARES.get(lv, np.nan) for lv in levels],
    })


def gas_tscore_change(reviews: pd.DataFrame, groups: Mapping[str, set], *,
                      n_boot: int = ST.DEFAULT_BOOT, seed: int = ST.DEFAULT_SEED,
                      min_n: int = ST.MIN_GROUP) -> pd.DataFrame:
    """Change in GAS T-score from baseline to each child's latest review.

    Parameters
    ----------
    reviews : ``GoalAttainment.reviews`` (one row per child per review).
    groups : group name -> child ids (:func:`diagnosis_groups`).
    n_boot, seed, min_n : as in :func:`sensory_change`.

    Returns
    -------
    DataFrame
        One row per group: ``group``, the keys of
        :func:`sensoryprofile.analysis.stats.paired_change` on baseline T versus the
        latest review's T (the same goals and weights, so the change is not
        confounded by a change of goal set), ``median_change_low`` and
        ``median_change_high`` (bootstrap interval of the median change,
        :func:`sensoryprofile.analysis.stats.median_interval`) and ``note``.
        Suppressed as in :func:`sensory_change`.
    """
    ordered = reviews.sort_values([C.CHILD_ID, C.DATE], kind="stable")
    last = ordered.drop_duplicates(C.CHILD_ID, keep="last")
    last = last[np.isfinite(last[C.T_SCORE].to_numpy(float))
                & np.isfinite(last[C.BASELINE_T].to_numpy(float))]
    child = last[C.CHILD_ID].astype(str).to_numpy(dtype=object)
    before, after = last[C.BASELINE_T].to_numpy(float), last[C.T_SCORE].to_numpy(float)
    records = []
    for group, members in groups.items():
        rows = np.isin(child, list(members))
        res = paired_change(before[rows], after[rows], n_boot=n_boot, seed=seed,
                                       min_n=min_n)
        rec = {GROUP: group, **res, MEDIAN_CHANGE_LOW: np.nan, MEDIAN_CHANGE_HIGH: np.nan,
               NOTE: ""}
        if res[C.SUPPRESSED]:
            rec[N], rec[NOTE] = pd.NA, suppression_note(min_n)
        else:
            rec[MEDIAN_CHANGE_LOW], rec[MEDIAN_CHANGE_HIGH] = median_interval(
                after[rows] - before[rows], n_boot=n_boot, seed=seed)
        records.append(rec)
    out = pd.DataFrame.from_records(records, columns=[
        GROUP, *C.PAIRED_COLUMNS, MEDIAN_CHANGE_LOW, MEDIAN_CHANGE_HIGH, NOTE])
    out[N] = pd.array(out[N].tolist(), dtype="Int64")
    out[SUPPRESSED] = out[SUPPRESSED].astype(bool)
    return out


def _anova_sums(n_i: np.ndarray, s_i: np.ndarray, q_i: np.ndarray, weights: np.ndarray):
    """One-way ANOVA of groups repeated by ``weights`` ``(m, g)``; the groups
    are given by their sizes, sums and sums of squares. Returns the ``(m,)``
    arrays (g, N, sum n_i^2, SS_between, SS_within)."""
    weights = weights.astype(float)
    g = weights.sum(axis=1)
    total_n = weights @ n_i
    total_s = weights @ s_i
    between_part = weights @ (s_i**2 / n_i)
    ss_between = between_part - total_s**2 / total_n
    ss_within = weights @ q_i - between_part
    return g, total_n, weights @ n_i**2, ss_between, ss_within


def _anova_sums_left_out(n_i: np.ndarray, s_i: np.ndarray, q_i: np.ndarray):
    """:func:`_anova_sums` of the ``g`` leave-one-group-out samples."""
    g = np.full(len(n_i), len(n_i) - 1.0)
    between = s_i**2 / n_i
    return (g, n_i.sum() - n_i, (n_i**2).sum() - n_i**2,
            between.sum() - between - (s_i.sum() - s_i) ** 2 / (n_i.sum() - n_i),
            (q_i.sum() - q_i) - (between.sum() - between))


def _icc_from_sums(g, total_n, sum_n2, ss_between, ss_within):
    with np.errstate(divide="ignore", invalid="ignore"):
        df_b, df_w = g - 1.0, total_n - g
        ms_b, ms_w = ss_between / df_b, ss_within / df_w
        k0 = (total_n - sum_n2 / total_n) / df_b
        rho = (ms_b - ms_w) / (ms_b + (k0 - 1.0) * ms_w)
    return rho, ms_b, ms_w, k0, df_b, df_w


def goal_correlation(data: pd.DataFrame, *, group: str = C.CHILD_ID,
                     level: str = C.LATEST_LEVEL, rho_assumed: float = DEFAULT_RHO,
                     n_boot: int = ST.DEFAULT_BOOT, seed: int = ST.DEFAULT_SEED,
                     confidence: float = ST.CONFIDENCE) -> pd.DataFrame:
    """Estimate the correlation rho between a child's goal scores.

    Parameters
    ----------
    data : DataFrame, one row per goal (``GoalAttainment.goals``).
    group : column naming the child.
    level : column of the level used (default the latest level; unrated
        goals, NA, are left out).
    rho_assumed : the rho the T-scores assume (0.3), shown alongside.
    n_boot, seed, confidence : cluster bootstrap (resampling children).

    Returns
    -------
    DataFrame
        One row: ``n_children`` (with 2 or more rated goals), ``n_goals``,
        ``k0``, ``ms_between``, ``ms_within``, ``f`` (MS_B / MS_W),
        ``df_between``, ``df_within``, ``p_value`` (F test of no
        between-child variance), ``rho``, ``rho_low``, ``rho_high`` and
        ``rho_assumed``.

    Notes
    -----
    The one-way intraclass correlation with children as groups and their
    goals' levels as observations (Kiresuk, Smith & Cardillo 1994):

    .. math::

        \\hat\\rho = \\frac{MS_B - MS_W}{MS_B + (k_0 - 1) MS_W}, \\quad
        k_0 = \\frac{1}{g - 1}\\left(N - \\frac{\\sum_i n_i^2}{N}\\right)

    with *g* children, :math:`n_i` goals of child *i*, :math:`N = \\sum n_i`,
    :math:`MS_B = \\sum_i n_i(\\bar y_i - \\bar y)^2 / (g - 1)` and
    :math:`MS_W = \\sum_i\\sum_j (y_{ij} - \\bar y_i)^2 / (N - g)`. With
    equal group sizes :math:`k_0 = k`; with unequal sizes :math:`k_0` is the
    usual ANOVA adjustment (Snedecor & Cochran), a weighted mean group
    size. Children with fewer than 2 rated goals carry no within-child
    information and are left out. The estimate can be negative (goal scores
    of a child less alike than of different children); the T-score formula
    needs rho in [0, 1). The interval is a BCa cluster bootstrap: children
    are resampled with all their goals, a child drawn twice counting as two
    children.

    References
    ----------
    Kiresuk, T. J., Smith, A., & Cardillo, J. E. (Eds.) (1994). Goal
    Attainment Scaling: Applications, theory, and measurement. Erlbaum.

    Examples
    --------
    Three children with two goals each (worked by hand in the tests):

    >>> goals = pd.DataFrame({"child_id": ["A", "A", "B", "B", "C", "C"],
    ...                       "latest_level": [0, 2, -1, -1, 1, 2]})
    >>> row = goal_correlation(goals, n_boot=20).iloc[0]
    >>> print(*(round(float(row[c]), 6) for c in ("rho", "ms_between", "ms_within")))
    0.615385 3.5 0.833333
    """
    for col in (group, level):
        if col not in data.columns:
            raise UsageError(f"`data` must have a {col!r} column (one row per goal); it has "
                             f"{', '.join(map(str, data.columns))}")
    y = data[level].to_numpy(dtype=float, na_value=np.nan)
    keep = ~np.isnan(y)
    codes, _ = pd.factorize(data[group].astype(str).to_numpy(dtype=object)[keep], sort=True)
    y = y[keep]
    n_i = np.bincount(codes, minlength=codes.max(initial=-1) + 1).astype(float)
    s_i = np.bincount(codes, weights=y, minlength=len(n_i))
    q_i = np.bincount(codes, weights=y * y, minlength=len(n_i))
    several = n_i >= 2
    n_i, s_i, q_i = n_i[several], s_i[several], q_i[several]
    g = len(n_i)
    rec = {N_CHILDREN: g, N_GOALS: int(n_i.sum()), K0: np.nan, MS_BETWEEN: np.nan,
           MS_WITHIN: np.nan, F_STATISTIC: np.nan, DF_BETWEEN: np.nan, DF_WITHIN: np.nan,
           P_VALUE: np.nan, RHO: np.nan, RHO_LOW: np.nan, RHO_HIGH: np.nan,
           RHO_ASSUMED: float(rho_assumed)}
    if g >= 2:
        sums = _anova_sums(n_i, s_i, q_i, np.ones((1, g)))
        rho, ms_b, ms_w, k0, df_b, df_w = (float(v[0]) for v in _icc_from_sums(*sums))
        with np.errstate(divide="ignore", invalid="ignore"):
            f = ms_b / ms_w if ms_w > 0 else np.nan
        rec.update({K0: k0, MS_BETWEEN: ms_b, MS_WITHIN: ms_w, F_STATISTIC: f,
                    DF_BETWEEN: df_b, DF_WITHIN: df_w,
                    P_VALUE: float(sps.f.sf(f, df_b, df_w)) if np.isfinite(f) else np.nan,
                    RHO: rho})
        boot = _icc_from_sums(*_anova_sums(n_i, s_i, q_i, resample_counts(
            bootstrap_indices(g, n_boot, seed), g)))[0]
        jack = _icc_from_sums(*_anova_sums_left_out(n_i, s_i, q_i))[0]
        rec[RHO_LOW], rec[RHO_HIGH] = bca_interval(rho, boot, jack, confidence=confidence)
    return pd.DataFrame([rec])


def _latest_date(dataset):
    dates = [dataset.goal_ratings[C.DATE].max(), dataset.goals[C.SET_DATE].max()]
    dates = [d for d in dates if pd.notna(d)]
    return max(dates).date() if dates else None


# ---------------------------------------------------------------------------
# the whole analysis
# ---------------------------------------------------------------------------
@dataclass
class CohortAnalysis:
    """Every table of the cohort analysis. Build with :meth:`build`.

    Attributes
    ----------
    instrument, respondent, seed, n_boot : what was analysed, and how.
    provenance : :func:`provenance` record (written as ``provenance.json``).
    sample : :func:`describe_sample`.
    consistency : :func:`internal_consistency` of the intakes.
    items : :func:`item_statistics` of the intakes.
    correlations : :func:`quadrant_correlations` at intake.
    distribution : :func:`norm_distribution` at intake and latest.
    change : :func:`sensory_change`, all children and by diagnosis.
    gas_levels, gas_change, gas_rho : :func:`gas_levels`,
        :func:`gas_tscore_change` (all children and by diagnosis) and
        :func:`goal_correlation`.
    intake_items : the intake item matrix (:func:`item_matrix`), not exported.

    min_group : the smallest group whose statistics are shown.

    Presenting and exporting the tables is
    :class:`sensoryprofile.reports.cohort.CohortReport`.
    """

    instrument: Instrument
    respondent: str
    seed: int
    n_boot: int
    provenance: dict
    sample: pd.DataFrame
    consistency: pd.DataFrame
    items: pd.DataFrame
    correlations: pd.DataFrame
    distribution: pd.DataFrame
    change: pd.DataFrame
    gas_levels: pd.DataFrame
    gas_change: pd.DataFrame
    gas_rho: pd.DataFrame
    min_group: int = ST.MIN_GROUP
    intake_items: pd.DataFrame = field(repr=False, default_factory=pd.DataFrame)

    @classmethod
    def build(cls, data_dir: str | Path, *, instrument: str = "demo-child",
              respondent: str | None = None, seed: int | None = ST.DEFAULT_SEED,
              n_boot: int | None = ST.DEFAULT_BOOT, min_group: int | None = ST.MIN_GROUP,
              dataset=None) -> CohortAnalysis:
        """Run the analysis on a dataset folder or workbook.

        Parameters
        ----------
        data_dir : the dataset (its files are hashed for the provenance).
        instrument : the instrument analysed (default ``"demo-child"``).
        respondent : respondent type analysed; default the instrument's own.
        seed, n_boot : bootstrap seed and resamples (None: the defaults of
            :mod:`sensoryprofile.analysis.stats`).
        min_group : smaller groups show no statistics (None: the default).
        dataset : an already loaded Dataset of ``data_dir`` (optional).

        Notes
        -----
        Psychometrics and the norm comparison at intake use each child's
        first assessment on the instrument by that respondent type, so every
        child counts once and observations are independent; change compares
        it with the child's latest. Goal attainment uses every child with
        goals, judged as of the latest date in the goals data (not today),
        so a rerun gives the same tables.
        """
        from sensoryprofile.data.dataset import load_dataset_cached

        seed = ST.DEFAULT_SEED if seed is None else int(seed)
        n_boot = ST.DEFAULT_BOOT if n_boot is None else int(n_boot)
        min_group = ST.MIN_GROUP if min_group is None else int(min_group)
        dataset = load_dataset_cached(data_dir) if dataset is None else dataset
        inst = _instrument(dataset, instrument)
        respondent = inst.respondent if respondent is None else respondent
        series = series_assessments(dataset, inst.id, respondent)
        intake = series[series[C.IS_INTAKE]]
        latest = series[series[C.IS_LATEST]]
        items = item_matrix(intake, inst)
        cohort_children = dataset.children[dataset.children[C.CHILD_ID].astype(str).isin(
            set(intake[C.CHILD_ID].astype(str)))]
        groups = diagnosis_groups(cohort_children)
        as_of = _latest_date(dataset)
        attainment = G.goal_attainment(dataset, as_of=as_of)
        gas_groups = diagnosis_groups(dataset.children[dataset.children[C.CHILD_ID].isin(
            dataset.goals[C.CHILD_ID])])
        return cls(
            instrument=inst, respondent=respondent, seed=int(seed), n_boot=int(n_boot),
            provenance=provenance(data_dir, dataset.instruments, instrument=inst.id,
                                  respondent=respondent, seed=seed, n_boot=n_boot,
                                  as_of=as_of),
            sample=describe_sample(dataset, series, min_group=min_group),
            consistency=internal_consistency(items, inst, n_boot=n_boot, seed=seed,
                                             min_n=min_group, gaps=item_gaps(intake, inst)),
            items=item_statistics(items, inst, min_n=min_group),
            correlations=quadrant_correlations(dataset.scores, inst,
                                               intake[C.ASSESSMENT_ID], min_n=min_group),
            distribution=norm_distribution(dataset.scores, inst,
                                           intake_ids=intake[C.ASSESSMENT_ID],
                                           latest_ids=latest[C.ASSESSMENT_ID]),
            change=change_effects(intake_to_latest(dataset, inst.id, respondent), inst,
                                  groups, n_boot=n_boot, seed=seed, min_n=min_group),
            gas_levels=gas_levels(attainment.goals),
            gas_change=gas_tscore_change(attainment.reviews, gas_groups, n_boot=n_boot,
                                         seed=seed, min_n=min_group),
            gas_rho=goal_correlation(attainment.goals, n_boot=n_boot, seed=seed),
            min_group=int(min_group), intake_items=items,
        )

    #: The numeric tables, by name (the reports export each as CSV).
    TABLES = ("sample", "consistency", "items", "correlations", "distribution", "change",
              "gas_levels", "gas_change", "gas_rho")

    def tables(self) -> dict[str, pd.DataFrame]:
        """The numeric tables, by name (:attr:`TABLES`)."""
        return {name: getattr(self, name) for name in self.TABLES}
