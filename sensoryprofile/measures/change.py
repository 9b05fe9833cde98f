"""Change in sensory scores between administrations: Reliable Change Index
and band transitions.

One row per comparison of two administrations of the same score, for the
same child, instrument and respondent type. Two kinds of comparison are made
(see :data:`COMPARISONS`): each administration with the one before it
(``"consecutive"``), and the first with the last (``"intake_to_latest"``).

Sensory "improvement" is movement toward the typical band, since both tails
are atypical; :data:`DIRECTIONS` is the vocabulary used for it.
The Reliable Change Index says whether a raw change is larger than
measurement error would make likely; it is shown beside the direction, not
as proof of a treatment effect (the responsiveness evidence for sensory
questionnaires is limited).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np
import pandas as pd

from sensoryprofile import columns as C
from sensoryprofile.columns import RCI_NOTE
from sensoryprofile.errors import UsageError
from sensoryprofile.instruments import Instrument

CONSECUTIVE = "consecutive"
INTAKE_TO_LATEST = "intake_to_latest"
#: Values of the ``comparison`` column.
COMPARISONS = (CONSECUTIVE, INTAKE_TO_LATEST)

TOWARD_TYPICAL = "toward typical"
AWAY_FROM_TYPICAL = "away from typical"
WITHIN_TYPICAL = "within typical"
CROSSED_TYPICAL = "crossed the typical band"
NO_CHANGE = "no change"
MORE_BEHAVIOUR = "more of the behaviour"
LESS_BEHAVIOUR = "less of the behaviour"
#: Values of the ``direction`` column (NA when the row is not compared):
#:
#: * ``"within typical"``: both administrations are classified typical (level 0);
#: * ``"crossed the typical band"``: from one atypical tail to the other
#:   (e.g. +2 to -2, or +1 to -1): not an improvement, whatever |z| did;
#: * ``"toward typical"`` / ``"away from typical"``: |z| falls / rises (both z
#:   known); for cut-table norms (no z) |level| falls / rises, and within the
#:   same atypical band the behaviour-oriented raw change decides (less of the
#:   behaviour in a "more than others" band is toward typical);
#: * ``"no change"``: |z| equal, or, without z, the same band and the same raw;
#: * ``"more of the behaviour"`` / ``"less of the behaviour"``: either
#:   administration is unclassified (no norms at that age, age unknown or out
#:   of range), so only the behaviour-oriented raw change can be judged.
DIRECTIONS = (TOWARD_TYPICAL, AWAY_FROM_TYPICAL, WITHIN_TYPICAL, CROSSED_TYPICAL, NO_CHANGE,
              MORE_BEHAVIOUR, LESS_BEHAVIOUR)

#: |RCI| above this is unlikely to be measurement error alone (p < .05,
#: two-tailed; Jacobson & Truax 1991).
RCI_CRITICAL = 1.96

#: Columns of the change table, in order.
CHANGE_COLUMNS = [
    C.CHILD_ID, C.INSTRUMENT, C.RESPONDENT, C.SCORE, C.SCORE_NAME, C.KIND, C.COMPARISON,
    C.FROM_ASSESSMENT, C.TO_ASSESSMENT, C.FROM_DATE, C.TO_DATE, C.FROM_RAW, C.TO_RAW,
    C.RAW_CHANGE, C.FROM_Z, C.TO_Z, C.Z_CHANGE, C.RELIABILITY_R, C.RELIABILITY_KIND, C.SEM,
    C.S_DIFF, C.RCI, C.RELIABLE, RCI_NOTE, C.FROM_CLASSIFICATION, C.TO_CLASSIFICATION,
    C.FROM_LEVEL, C.TO_LEVEL, C.BAND_TRANSITION, C.DIRECTION, C.COMPARED, C.NOT_COMPARED_REASON,
]

_NEEDED = [C.ASSESSMENT_ID, C.CHILD_ID, C.INSTRUMENT, C.DATE, C.RESPONDENT, C.SCORE,
           C.SCORE_NAME, C.KIND, C.RAW, C.VALID, C.INVALID_REASON, C.Z, C.CLASSIFICATION,
           C.LEVEL]
_DECIMALS = 9  # comparisons of computed values ignore floating-point noise beyond this


def score_changes(scores: pd.DataFrame, instruments: Mapping[str, Instrument], *,
                  child_id: str | Iterable[str] | None = None) -> pd.DataFrame:
    """Change in each score between administrations, with the Reliable Change Index.

    A series is one child's administrations of one instrument by one
    respondent type, for one score: a teacher form is never compared with a
    caregiver form. Administrations are ordered by date, then by
    ``assessment_id`` when two share a date. A series of *n* >= 2
    administrations gives *n* - 1 ``"consecutive"`` rows and one
    ``"intake_to_latest"`` row (first with last); when *n* = 2 the two rows
    hold the same numbers and differ only in ``comparison``. A series with a
    single administration gives no rows, so a child assessed once on a form
    does not appear.

    Parameters
    ----------
    scores : DataFrame
        The tidy score table of :func:`sensoryprofile.data.assessments.score_assessments`
        (columns :data:`sensoryprofile.columns.SCORE_COLUMNS`). Never mutated.
    instruments : mapping of instrument id to Instrument
        Definitions of the instruments in ``scores``, for reliability and
        score direction. Every instrument with a valid score must be present.
    child_id : str or iterable of str, optional
        Only these children. An id with no row in ``scores`` is an error.

    Returns
    -------
    DataFrame
        One row per comparison, columns :data:`CHANGE_COLUMNS`:

        - ``child_id``, ``instrument``, ``respondent``, ``score``,
          ``score_name``, ``kind``: the series;
        - ``comparison``: ``"consecutive"`` or ``"intake_to_latest"``
          (categorical, :data:`COMPARISONS`);
        - ``from_assessment_id``, ``to_assessment_id``, ``from_date``,
          ``to_date``: the earlier and the later administration;
        - ``from_raw``, ``to_raw``, ``raw_change`` (later - earlier, on the raw
          scale: for a ``higher_less`` score a rise is *less* of the behaviour);
        - ``from_z``, ``to_z``, ``z_change``: behaviour-oriented z (NaN for
          cut-table norms and unclassified scores);
        - ``reliability_r``, ``reliability_kind``, ``sem``, ``s_diff``: the
          reliability coefficient used, its kind (e.g. test-retest), and the
          standard errors derived from it and the declared SD;
        - ``rci``: raw_change / s_diff (sign of the raw change); ``reliable``:
          |rci| > 1.96 (nullable boolean); ``rci_note``: why a compared row
          has no RCI (the instrument declares no reliability for the score);
        - ``from_classification``, ``to_classification``, ``from_level``,
          ``to_level`` (-2..2, nullable), and ``band_transition``, e.g.
          ``"More Than Others → Just Like the Majority of Others"`` or
          ``"More Than Others (no change)"`` (categorical); NA when either is
          unclassified;
        - ``direction``: one of :data:`DIRECTIONS` (categorical with all of
          them as categories, so counts show zeros);
        - ``compared``: False when the two administrations cannot be
          compared, and ``not_compared_reason`` says why.

    Raises
    ------
    UsageError
        ``scores`` is not a score table, ``instruments`` lacks an instrument
        or score that has valid rows, or ``child_id`` names an unknown child.

    Notes
    -----
    Reliable Change Index (Jacobson & Truax 1991), with the instrument's
    declared reliability *r* and standard deviation *SD* of the score:

    .. math::

        SEM = SD\\sqrt{1 - r}, \\quad S_{diff} = \\sqrt{2}\\,SEM, \\quad
        RCI = \\frac{x_2 - x_1}{S_{diff}}

    and the change is reliable when :math:`|RCI| > 1.96` (p < .05). RCI and
    ``reliable`` are computed on raw scores whichever way the score runs; the
    behaviour-oriented reading is ``direction``. RCI is rounded to 9 decimals
    before the comparison, so a change of exactly 1.96 S_diff is not reliable.

    Rules:

    - A row whose either score is invalid, or whose either assessment has no
      date (its order is unknown), is kept with ``compared`` False and the
      reason (e.g. ``"later score invalid: more than 2 of its 15 items
      missing"``); its change columns, RCI, band transition and direction
      are NA. An invalid administration is still part of its series: its
      neighbours are not compared with each other as consecutive (the
      intake-to-latest row compares the first and last administrations,
      valid or not).
    - No reliability declared for the score: the row is compared (raw and z
      change, band transition and direction are shown) but ``rci`` and
      ``reliable`` are NA, and ``rci_note`` says why. ``not_compared_reason``
      stays NA: it is set exactly when ``compared`` is False.
    - ``direction`` is judged on z when both administrations have one, else on
      the classification level, else on the raw change oriented by the
      score's direction (see :data:`DIRECTIONS`). Norms depend on age, so a
      child can move toward typical with an unchanged raw score.
      Without z (cut-table norms), a change within the same atypical band is
      judged by the behaviour-oriented raw change: less of the behaviour in a
      "more than others" band is toward typical.
    - Rows of ``scores`` with no ``child_id`` belong to no child's series and
      give no rows. A blank ``respondent`` is a respondent type of its own.
    - Rows come in order of first appearance in ``scores`` of child,
      instrument, respondent and score; within a series, the consecutive
      rows in date order, then the intake-to-latest row.

    References
    ----------
    Jacobson, N. S., & Truax, P. (1991). Clinical significance: A statistical
    approach to defining meaningful change in psychotherapy research. Journal
    of Consulting and Clinical Psychology, 59(1), 12-19.

    Examples
    --------
    >>> import pandas as pd
    >>> from sensoryprofile.instruments import load_instrument
    >>> from sensoryprofile.data.assessments import score_assessments
    >>> inst = load_instrument("demo-child")
    >>> rows = []
    >>> for aid, date, seeking_item in [("A1", "2024-01-15", 5), ("A2", "2024-07-15", 1)]:
    ...     row = {"assessment_id": aid, "child_id": "C1", "date": date, "age_months": 80}
    ...     row.update({item: 3 for item in inst.item_ids})
    ...     row.update({item: seeking_item for item in inst.score("seeking").items})
    ...     rows.append(row)
    >>> scores = score_assessments(pd.DataFrame(rows), inst)
    >>> change = score_changes(scores, {"demo-child": inst})
    >>> seeking = change[(change.score == "seeking") & (change.comparison == "consecutive")]
    >>> seeking[["from_raw", "to_raw", "rci", "reliable"]].round(2).to_dict("records")
    [{'from_raw': 75.0, 'to_raw': 15.0, 'rci': -14.41, 'reliable': True}]
    >>> print(seeking["band_transition"].item())
    Much More Than Others → Much Less Than Others
    >>> print(seeking["direction"].item())
    crossed the typical band
    """
    table = _check_scores(scores)
    _check_instruments(instruments)
    if child_id is not None:
        table = _select_children(table, child_id)
    table = table[table[C.CHILD_ID].notna()]

    # ---- order every series and pair its administrations --------------------
    n = len(table)
    keys = [pd.factorize(table[col], use_na_sentinel=False)[0]
            for col in (C.CHILD_ID, C.INSTRUMENT, C.RESPONDENT, C.SCORE)]
    dates = table[C.DATE]
    date_key = dates.to_numpy(dtype="datetime64[ns]").view(np.int64).copy()
    date_key[dates.isna().to_numpy()] = np.iinfo(np.int64).max  # undated last
    id_rank = pd.factorize(table[C.ASSESSMENT_ID].astype("string"), sort=True,
                           use_na_sentinel=False)[0]
    order = np.lexsort((np.arange(n), id_rank, date_key, *reversed(keys)))
    series = np.stack([k[order] for k in keys]) if n else np.zeros((4, 0), dtype=np.intp)
    new_series = np.ones(n, dtype=bool)
    new_series[1:] = (series[:, 1:] != series[:, :-1]).any(axis=0)
    series_id = np.cumsum(new_series) - 1
    starts = np.flatnonzero(new_series)
    ends = np.append(starts[1:], n) - 1
    several = ends > starts
    cons_from = np.flatnonzero(~new_series) - 1  # each administration after a first
    pair_from = np.concatenate([cons_from, starts[several]])
    pair_to = np.concatenate([cons_from + 1, ends[several]])
    comparison = np.concatenate([np.zeros(len(cons_from), dtype=np.int8),
                                 np.ones(int(several.sum()), dtype=np.int8)])
    pair_order = np.lexsort((pair_from, comparison, series_id[pair_to]))
    earlier = order[pair_from[pair_order]]  # positions in `table`
    later = order[pair_to[pair_order]]
    comparison = comparison[pair_order]

    # ---- one definition row per (instrument, score) present ----------------
    inst_code, score_code = keys[1].astype(np.int64), keys[3].astype(np.int64)
    combined = inst_code * (int(score_code.max(initial=0)) + 1) + score_code
    _, first, which = np.unique(combined, return_index=True, return_inverse=True)
    has_valid = np.bincount(which, weights=table[C.VALID].to_numpy(dtype=bool),
                            minlength=len(first)) > 0
    definitions = _definitions(table[C.INSTRUMENT].to_numpy(dtype=object)[first],
                               table[C.SCORE].to_numpy(dtype=object)[first], has_valid,
                               instruments)
    return _change_table(table, earlier, later, comparison, definitions, which.ravel())


def sensory_change(dataset, *, child_id: str | Iterable[str] | None = None) -> pd.DataFrame:
    """:func:`score_changes` of a loaded :class:`~sensoryprofile.dataset.Dataset`.

    Parameters
    ----------
    dataset : Dataset
        Its ``scores`` and ``instruments`` are used.
    child_id : str or iterable of str, optional
        Only these children.

    Returns
    -------
    DataFrame
        See :func:`score_changes`.
    """
    return score_changes(dataset.scores, dataset.instruments, child_id=child_id)


def primary_rows(table: pd.DataFrame, instruments) -> np.ndarray:
    """Which rows of a score or change table belong to a score its form shows
    by default (:attr:`Instrument.primary_scores`: the scores it marks
    primary, else its quadrants, else its sections and total): a boolean
    array. Rows of an instrument not in ``instruments`` are kept."""
    forms = table[C.INSTRUMENT].astype(str).to_numpy()
    scores = table[C.SCORE].astype(str).to_numpy()
    keep = np.ones(len(table), dtype=bool)
    for form in pd.unique(forms):
        inst = instruments.get(form)
        if inst is None:
            continue
        mine = forms == form
        primary = [s.id for s in inst.primary_scores]
        keep[mine] = np.isin(scores[mine], primary)
    return keep


# ---------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------
def _check_scores(scores) -> pd.DataFrame:
    if not isinstance(scores, pd.DataFrame):
        raise UsageError("`scores` must be the tidy score table (a pandas DataFrame from "
                         f"score_assessments), but {type(scores).__name__} was passed")
    missing = [c for c in _NEEDED if c not in scores.columns]
    if missing:
        raise UsageError("`scores` must be the tidy score table from score_assessments; "
                         f"it lacks the column(s) {', '.join(missing)}")
    return scores[_NEEDED]


def _check_instruments(instruments) -> None:
    if not isinstance(instruments, Mapping) or not all(
            isinstance(v, Instrument) for v in instruments.values()):
        raise UsageError("`instruments` must be a mapping of instrument id to Instrument "
                         "(e.g. Dataset.instruments), but "
                         f"{type(instruments).__name__} was passed")


def _select_children(table: pd.DataFrame, child_id) -> pd.DataFrame:
    wanted = [child_id] if isinstance(child_id, str) else list(child_id)
    if not all(isinstance(c, str) for c in wanted):
        raise UsageError("`child_id` must be a child id or a list of them, but "
                         f"{child_id!r} was passed")
    keep = table[C.CHILD_ID].isin(wanted)
    unknown = sorted(set(wanted) - set(table.loc[keep, C.CHILD_ID]))
    if unknown:
        raise UsageError(f"`child_id`: no scores for {', '.join(map(repr, unknown))}; "
                         "check the id against the children table")
    return table[keep]


def _definitions(inst_ids: np.ndarray, score_ids: np.ndarray, has_valid: np.ndarray,
                 instruments: Mapping[str, Instrument]) -> pd.DataFrame:
    """Reliability and direction of each (instrument, score) pair present, in order.

    A loop over the distinct pairs (instruments x scores), never over rows.
    Raises UsageError when a pair with a valid score has no definition.
    """
    records, absent, undeclared = [], [], []
    for inst_id, score_id, valid in zip(inst_ids, score_ids, has_valid, strict=True):
        inst = instruments.get(inst_id) if isinstance(inst_id, str) else None
        sc = next((x for x in inst.scores if x.id == score_id),
                   None) if inst is not None else None
        if sc is None and valid:
            (absent if inst is None else undeclared).append((inst_id, score_id))
        rel = inst.reliability.get(score_id) if inst is not None else None
        records.append((
            rel.r if rel else np.nan, rel.kind if rel else None,
            rel.sem if rel else np.nan, rel.s_diff if rel else np.nan,
            sc is not None and sc.direction == "higher_less",
            None if rel else f"no reliability declared for {score_id} in {inst_id}; "
                             "RCI not computed",
            _outward(inst.scheme) if inst is not None else 0,
        ))
    if absent:
        names = sorted({str(i) for i, _ in absent})
        raise UsageError(
            f"`instruments` has no definition for {', '.join(map(repr, names))}, which "
            "scored valid rows of `scores`; pass every instrument used, by id (given: "
            f"{', '.join(map(repr, instruments)) or 'none'})")
    if undeclared:
        shown = ", ".join(f"{s!r} of {i!r}" for i, s in undeclared[:5])
        raise UsageError(f"`scores` has score(s) {shown} that the definitions in "
                         "`instruments` do not declare; were the scores made with another "
                         "version of the instrument?")
    return pd.DataFrame.from_records(records, columns=[
        C.RELIABILITY_R, C.RELIABILITY_KIND, C.SEM, C.S_DIFF, "reversed", RCI_NOTE, "outward"])


def _outward(scheme) -> int:
    """0 for a scheme with levels on both sides of typical (the distance from
    typical is |z|); for a one-sided scheme, the sign of z that leads away
    from typical (+1 when its outer levels lie above it), since there a
    negative z can lie deep inside the typical range."""
    if not scheme.one_sided:
        return 0
    outer = max(scheme.levels, key=lambda lv: abs(lv.ordinal))
    return -1 if outer.z_low is None and outer.z_high is not None else 1


def _append(out: np.ndarray, mask: np.ndarray, text) -> None:
    """Append ``text`` (one string, or one per True in ``mask``) to ``out``
    where ``mask``, joined by '; ' (in place)."""
    text = np.broadcast_to(np.asarray(text, dtype=object), (int(mask.sum()),))
    current = out[mask]
    has = np.not_equal(current, None)
    current[has] = current[has] + "; " + text[has]
    current[~has] = text[~has]
    out[mask] = current


def _transitions(classes: pd.Series, earlier: np.ndarray, later: np.ndarray,
                 shown: np.ndarray) -> pd.Categorical:
    """Band transition texts, built once per distinct (from, to) pair."""
    codes, labels = pd.factorize(classes)
    labels = np.asarray(labels, dtype=object)
    k = len(labels)
    shown = shown & (codes[earlier] >= 0) & (codes[later] >= 0)
    pair = np.where(shown, codes[earlier] * k + codes[later], -1)
    present = np.unique(pair[pair >= 0])
    texts = [f"{labels[p // k]} (no change)" if p // k == p % k
             else f"{labels[p // k]} → {labels[p % k]}" for p in present]
    return pd.Categorical.from_codes(np.searchsorted(present, pair) * (pair >= 0)
                                     - (pair < 0), categories=texts)


def _change_table(table: pd.DataFrame, earlier: np.ndarray, later: np.ndarray,
                  comparison: np.ndarray, definitions: pd.DataFrame,
                  which: np.ndarray) -> pd.DataFrame:
    """Assemble the change table from positions of the paired rows.

    ``which`` gives each row of ``table`` its row of ``definitions``.
    """
    m = len(earlier)

    def take(col, rows):
        return table[col].take(rows).reset_index(drop=True)

    def floats(col, rows):
        return table[col].to_numpy(dtype=float, na_value=np.nan)[rows]

    out = {c: take(c, later) for c in (C.CHILD_ID, C.INSTRUMENT, C.RESPONDENT, C.SCORE,
                                       C.SCORE_NAME, C.KIND)}
    out[C.COMPARISON] = pd.Categorical.from_codes(comparison, categories=list(COMPARISONS))
    out[C.FROM_ASSESSMENT] = take(C.ASSESSMENT_ID, earlier)
    out[C.TO_ASSESSMENT] = take(C.ASSESSMENT_ID, later)
    out[C.FROM_DATE] = take(C.DATE, earlier)
    out[C.TO_DATE] = take(C.DATE, later)

    # ---- comparable? ----------------------------------------------------------
    valid = table[C.VALID].to_numpy(dtype=bool)
    reason = table[C.INVALID_REASON].to_numpy(dtype=object, na_value=None)
    dated = table[C.DATE].notna().to_numpy()
    why = np.full(m, None, dtype=object)
    for rows, word in ((earlier, "earlier"), (later, "later")):
        bad = ~valid[rows]
        texts = reason[rows[bad]]
        texts[np.equal(texts, None)] = "reason not recorded"
        _append(why, bad, f"{word} score invalid: " + texts)
    for rows, word in ((earlier, "earlier"), (later, "later")):
        _append(why, ~dated[rows], f"{word} assessment has no date, so its order is unknown")
    compared = np.equal(why, None)

    # ---- raw, z and RCI -------------------------------------------------------
    from_raw, to_raw = floats(C.RAW, earlier), floats(C.RAW, later)
    raw_change = np.where(compared, to_raw - from_raw, np.nan)
    from_z, to_z = floats(C.Z, earlier), floats(C.Z, later)
    z_change = np.where(compared, to_z - from_z, np.nan)
    d = which[later]
    s_diff = definitions[C.S_DIFF].to_numpy(dtype=float)[d]
    reversed_ = definitions["reversed"].to_numpy(dtype=bool)[d]
    with np.errstate(invalid="ignore", divide="ignore"):
        rci = raw_change / s_diff
    reliable = pd.array(np.abs(np.round(rci, _DECIMALS)) > RCI_CRITICAL, dtype="boolean")
    reliable[np.isnan(rci)] = pd.NA
    rci_note = definitions[RCI_NOTE].to_numpy(dtype=object)[d]
    rci_note[~compared] = None

    # ---- bands and direction --------------------------------------------------
    from_level, to_level = floats(C.LEVEL, earlier), floats(C.LEVEL, later)
    classified = compared & ~np.isnan(from_level) & ~np.isnan(to_level)
    outward = definitions["outward"].to_numpy(dtype=np.int8)[d]
    one_sided = outward != 0
    both_z = classified & ~np.isnan(from_z) & ~np.isnan(to_z)
    # |z| is the distance from typical only on a two-sided scheme; a one-sided
    # one is judged by its levels, then within a level by z along its side
    has_z = both_z & ~one_sided
    z_out = np.sign(np.round((to_z - from_z) * outward, _DECIMALS))
    abs_z_change = np.round(np.abs(to_z), _DECIMALS) - np.round(np.abs(from_z), _DECIMALS)
    abs_level_change = np.abs(to_level) - np.abs(from_level)
    behaviour = np.sign(np.round(raw_change, _DECIMALS)) * np.where(reversed_, -1.0, 1.0)
    # within the same band (cut tables): toward typical when the behaviour
    # moves against the band's side (less of it in a "more than others" band)
    same_band = np.sign(behaviour * to_level)
    direction = np.select(
        [~compared,
         classified & (from_level == 0) & (to_level == 0),
         classified & (from_level * to_level < 0),
         has_z & (abs_z_change < 0), has_z & (abs_z_change > 0), has_z,
         classified & (abs_level_change < 0), classified & (abs_level_change > 0),
         both_z & one_sided & (z_out < 0), both_z & one_sided & (z_out > 0),
         both_z & one_sided,
         classified & (same_band < 0), classified & (same_band > 0), classified,
         behaviour > 0, behaviour < 0],
        [-1, 2, 3, 0, 1, 4, 0, 1, 0, 1, 4, 0, 1, 4, 5, 6],
        default=4,
    )
    out.update({
        C.FROM_RAW: from_raw, C.TO_RAW: to_raw, C.RAW_CHANGE: raw_change,
        C.FROM_Z: from_z, C.TO_Z: to_z, C.Z_CHANGE: z_change,
        C.RELIABILITY_R: definitions[C.RELIABILITY_R].to_numpy(dtype=float)[d],
        C.RELIABILITY_KIND: pd.Series(definitions[C.RELIABILITY_KIND].to_numpy(
            dtype=object)[d], dtype=object),
        C.SEM: definitions[C.SEM].to_numpy(dtype=float)[d], C.S_DIFF: s_diff,
        C.RCI: rci, C.RELIABLE: reliable, RCI_NOTE: pd.Series(rci_note, dtype=object),
        C.FROM_CLASSIFICATION: take(C.CLASSIFICATION, earlier),
        C.TO_CLASSIFICATION: take(C.CLASSIFICATION, later),
        C.FROM_LEVEL: take(C.LEVEL, earlier), C.TO_LEVEL: take(C.LEVEL, later),
        C.BAND_TRANSITION: _transitions(table[C.CLASSIFICATION], earlier, later, classified),
        C.DIRECTION: pd.Categorical.from_codes(direction, categories=list(DIRECTIONS)),
        C.COMPARED: compared,
        C.NOT_COMPARED_REASON: pd.Series(why, dtype=object),
    })
    return pd.DataFrame({c: out[c] for c in CHANGE_COLUMNS})
