"""Deterministic synthetic data: example assessments and whole synthetic
clinics (:func:`generate_clinic`, :func:`write_clinic`). Everything here is
invented; nothing describes a real child, therapist or clinic.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.special import ndtr

from sensoryprofile import columns as C
from sensoryprofile.dates import completed_months
from sensoryprofile.errors import UsageError
from sensoryprofile.instruments import Instrument, load_instrument
from sensoryprofile.measures import norms as N
from sensoryprofile.synthetic.goal_texts import (
    FAMILY_NOTE_SHARE,
    FAMILY_NOTES,
    NOTE_BLANK_SHARE,
    RATING_NOTES,
    expand_templates,
)

# ===========================================================================
# Synthetic clinics
# ===========================================================================
# Everything below is invented: children, therapists, sites, goals and notes.
# The generator draws from one ``numpy.random.default_rng(seed)`` in a fixed
# order, never reads the clock and never uses Python's ``hash()``, so the same
# arguments give byte-identical files.

#: Instruments used by the synthetic clinic, in assessments-column order.
CLINIC_INSTRUMENTS = ("demo-child", "demo-toddler")
CHILD_INSTRUMENT, TODDLER_INSTRUMENT = CLINIC_INSTRUMENTS

SITES = ("Northside", "Riverside", "Hillcrest")

#: (name, home site, share of referrals, goal-setting bias, overdue factor).
#: The bias shifts the latent goal outcome: R. Lindqvist sets goals that are
#: too easy (many +2), K. Adeyemi goals that are too hard; S. Brennan lets
#: reassessments slip more often than the others.
THERAPISTS = (
    ("T. Okafor", "Northside", 0.15, 0.05, 1.0),
    ("R. Lindqvist", "Northside", 0.12, 0.85, 0.8),
    ("M. Haddad", "Northside", 0.10, -0.10, 1.0),
    ("S. Brennan", "Riverside", 0.15, 0.00, 2.2),
    ("J. Nakamura", "Riverside", 0.13, 0.10, 0.8),
    ("A. Moreau", "Riverside", 0.10, -0.05, 1.0),
    ("K. Adeyemi", "Hillcrest", 0.14, -0.75, 0.9),
    ("L. Castillo", "Hillcrest", 0.11, 0.00, 0.7),
)

DIAGNOSES = ("autism", "ADHD", "developmental coordination disorder",
             "sensory processing difficulties", "none")
GOAL_DOMAINS = ("self-care", "fine motor", "sensory regulation", "play/social",
                "school participation")
QUADRANT_ORDER = ("seeking", "avoiding", "sensitivity", "registration")

#: Profile subtypes and their mean latent quadrant z (seeking, avoiding,
#: sensitivity, registration), loosely after the cluster patterns reported for
#: Sensory Profile data (avoiding/sensitivity together, seeking alone, low
#: registration, typical, and globally elevated).
SUBTYPES = ("avoiding+sensitivity high", "seeking high", "registration high",
            "balanced/typical", "all elevated")
_SUBTYPE_MEANS = np.array([
    [-0.1, 1.7, 1.6, 0.4],
    [1.9, 0.1, 0.4, 0.5],
    [-0.3, 0.2, 0.4, 1.8],
    [0.0, 0.0, 0.0, 0.0],
    [1.5, 1.5, 1.6, 1.4],
])
# P(subtype | primary diagnosis), rows in DIAGNOSES order
_SUBTYPE_GIVEN_DIAGNOSIS = np.array([
    [0.40, 0.08, 0.14, 0.10, 0.28],
    [0.08, 0.52, 0.12, 0.15, 0.13],
    [0.10, 0.10, 0.45, 0.25, 0.10],
    [0.35, 0.25, 0.12, 0.10, 0.18],
    [0.12, 0.15, 0.10, 0.53, 0.10],
])
_PRIMARY_DIAGNOSIS = {"child": [0.33, 0.20, 0.14, 0.22, 0.11],
                      "toddler": [0.30, 0.0, 0.0, 0.50, 0.20]}
_SECOND_DIAGNOSIS = np.array([0.35, 0.35, 0.15, 0.15, 0.0])
# latent z of the behavioural sections added per diagnosis held
_BEHAVIOUR_BY_DIAGNOSIS = {
    "conduct": [0.2, 0.6, 0.0, 0.1, 0.0],
    "social_emotional": [0.9, 0.2, 0.2, 0.3, 0.0],
    "attention": [0.3, 0.9, 0.3, 0.1, 0.0],
}
# goal domain preference per subtype (rows SUBTYPES, columns GOAL_DOMAINS)
_DOMAIN_WEIGHTS = np.array([
    [1.2, 0.6, 1.6, 0.9, 1.0],
    [0.8, 0.9, 1.4, 1.0, 1.3],
    [1.0, 1.4, 0.9, 0.9, 1.2],
    [1.0, 1.3, 0.7, 1.0, 1.0],
    [1.2, 0.9, 1.5, 1.0, 1.0],
])

# invented, clearly synthetic first names (nature words), shown with a last initial
_FIRST_NAMES = (
    "Acorn", "Alder", "Basil", "Bramble", "Cinder", "Clover", "Comet", "Dune", "Ember",
    "Fable", "Fennel", "Fern", "Flint", "Grove", "Heron", "Indigo", "Juniper", "Kestrel",
    "Lark", "Linden", "Maple", "Marlin", "Meadow", "Nimbus", "Onyx", "Orchid", "Otter",
    "Pebble", "Pippin", "Quill", "Rook", "Saffron", "Sorrel", "Sparrow", "Thistle", "Umber",
    "Vesper", "Willow", "Yarrow", "Zephyr",
)
_INITIALS = "ABCDEFGHJKLMNOPRSTVWY"

# timing conventions (days)
_REASSESS_EVERY, _REASSESS_JITTER = 183, 21       # ~6 months, +-3 weeks
_REVIEW_EVERY, _REVIEW_JITTER = 91, 10            # goal reviews ~3 months
_OVERDUE_GAP = 220                                # > 7 months (max 215 days)
_REFERRAL_WINDOW = (20, 913)                      # days before end_date
_CHILD_AGE_DAYS = (1100, 5470)                    # 36..179 completed months
_TODDLER_AGE_DAYS = (220, 1000)                   # 7..32 completed months
_ITEM_NOISE = 0.9                                 # SD of the binned-normal item model
#: Cut points of the synthetic clinic's final goal levels on N(0, 1): about
#: 7/21/43/21/7 % across -2..+2 for a therapist who sets goals well. A choice
#: for the demo data (slightly more at 0 than the 6.7/24.2/38.3/24.2/6.7 % of
#: measures.gas.EXPECTED_GAS_SHARES), not a published figure.
_GAS_CUTS = np.array([-1.476, -0.583, 0.583, 1.476])

def _days(value: dt.date) -> int:
    return int(np.datetime64(value, "D").astype(np.int64))


def _iso(days: np.ndarray) -> np.ndarray:
    """ISO YYYY-MM-DD strings of day numbers (days since 1970-01-01)."""
    return np.datetime_as_string(np.asarray(days, dtype=np.int64).astype("datetime64[D]"),
                                 unit="D").astype(object)


def _categorical_draw(rng: np.random.Generator, probs: np.ndarray) -> np.ndarray:
    """One category per row of an (n, k) probability array (rows sum to 1)."""
    cum = np.cumsum(probs, axis=1)
    cum[:, -1] = 1.0
    u = rng.random(len(probs))
    return (u[:, None] >= cum).sum(axis=1)


def _months(dob: np.ndarray, on: np.ndarray) -> np.ndarray:
    """Completed months of age (the scorer's rule) for day-number arrays."""
    if len(dob) == 0:
        return np.zeros(0)
    return completed_months(np.asarray(dob).astype("datetime64[D]"),
                            np.asarray(on).astype("datetime64[D]"))


# ---------------------------------------------------------------------------
# the item-response model
# ---------------------------------------------------------------------------
class _ItemModel:
    """Binned-normal item model for one instrument, in behaviour units.

    An answer's behaviour amount ``a`` (1 = almost never ... k = almost always)
    is ``1 + #{thresholds < loc_g + delta_i + section offset + noise}`` with
    thresholds at 1.5, 2.5, ..., k - 0.5. Each item belongs to one group (its
    quadrant score, or for items without a quadrant its section score). For a
    latent z the target raw score is ``norm mean + z * norm SD`` (in behaviour
    units); ``loc_g`` is found by inverting the expected group sum, so the
    scored z lands near the latent z.
    """

    GRID = np.linspace(-4.0, 10.0, 1401)

    def __init__(self, inst: Instrument, rng: np.random.Generator):
        self.inst = inst
        comp = inst.compiled
        scale = inst.response_scale
        self.answers = np.array(scale.answer_values, dtype=float)
        k = len(self.answers)
        self.na_code = scale.na_codes[0] if scale.na_codes else None
        self.thresholds = np.arange(1, k) + 0.5
        n_items = len(inst.items)
        self.delta = rng.normal(0.0, 0.45, n_items)
        self.delta -= self.delta.mean()
        # groups: quadrant scores, then section scores of items with no quadrant
        score_ids = list(comp.score_ids)
        item_index = {item: i for i, item in enumerate(inst.item_ids)}
        group_scores: list[int] = []
        self.group_key: list[tuple[str, str]] = []
        self.group_of_item = np.full(n_items, -1)
        for kind in ("quadrant", "section"):
            for score in inst.scores:
                if score.kind != kind:
                    continue
                members = [item_index[i] for i in score.items]
                members = [m for m in members if self.group_of_item[m] < 0
                           and (kind == "quadrant" or inst.items[m].quadrant is None)]
                if not members:
                    continue
                self.group_of_item[members] = len(group_scores)
                group_scores.append(score_ids.index(score.id))
                self.group_key.append((kind, score.selector[1] if score.selector
                                       else score.id))
        loose = self.group_of_item < 0
        if loose.any():  # items in no score: follow the overall load
            self.group_of_item[loose] = len(group_scores)
            group_scores.append(-1)
            self.group_key.append(("load", ""))
        self.n_groups = len(group_scores)
        self.group_size = np.bincount(self.group_of_item, minlength=self.n_groups)
        # expected behaviour-unit sum of each group as a function of loc
        per_item = 1.0 + ndtr((self.GRID[:, None, None] + self.delta[None, :, None]
                               - self.thresholds[None, None, :]) / _ITEM_NOISE).sum(axis=2)
        self.expected = np.stack([per_item[:, self.group_of_item == g].sum(axis=1)
                                  for g in range(self.n_groups)], axis=1)
        # norm mean / SD per band and group, in behaviour units, gaps filled
        n_bands = len(comp.band_low)
        a_lo, a_hi = self.answers[0], self.answers[-1]
        mean = np.full((max(n_bands, 1), self.n_groups), np.nan)
        sd = np.full_like(mean, np.nan)
        for g, j in enumerate(group_scores):
            size = self.group_size[g]
            if j < 0:
                continue
            for b in range(n_bands):
                if not np.isnan(comp.mean[b, j]):
                    m, s = comp.mean[b, j], comp.sd[b, j]
                elif comp.has_cuts[b, j]:
                    typical = comp.cut_level[b, j] == 0
                    lo, hi = comp.cut_low[b, j][typical][0], comp.cut_high[b, j][typical][0]
                    m, s = (lo + hi) / 2.0, (hi - lo + 1.0) / 2.0
                else:
                    continue
                if comp.reversed[j]:
                    m = size * (a_lo + a_hi) - m
                mean[b, g], sd[b, g] = m, s
        for g in range(self.n_groups):  # nearest band with norms, else a generic spread
            col_m, col_s = mean[:, g], sd[:, g]
            have = np.flatnonzero(~np.isnan(col_m))
            if len(have) == 0:
                size = self.group_size[g]
                col_m[:] = size * (a_lo + a_hi) / 2.0 - 0.4 * size
                col_s[:] = 0.55 * size
                continue
            nearest = have[np.abs(np.arange(len(col_m))[:, None] - have[None, :]).argmin(axis=1)]
            col_m[:], col_s[:] = col_m[nearest], col_s[nearest]
        self.mean, self.sd = mean, sd

    def draw(self, rng: np.random.Generator, group_z: np.ndarray, ages: np.ndarray,
             item_offset: np.ndarray) -> np.ndarray:
        """Coded answers, ``(n, n_items)`` float, for latent z per group ``(n, n_groups)``."""
        comp = self.inst.compiled
        n = len(group_z)
        band = N.band_index(np.clip(ages, self.inst.age_min, self.inst.age_max), comp)
        band = np.clip(band, 0, self.mean.shape[0] - 1)
        target = self.mean[band] + group_z * self.sd[band]
        lo = self.group_size * self.answers[0] + 0.3
        hi = self.group_size * self.answers[-1] - 0.3
        target = np.clip(target, lo, hi)
        loc = np.empty((n, self.n_groups))
        for g in range(self.n_groups):
            loc[:, g] = np.interp(target[:, g], self.expected[:, g], self.GRID)
        y = loc[:, self.group_of_item] + self.delta + item_offset
        y += rng.normal(0.0, _ITEM_NOISE, y.shape)
        amount = np.zeros(y.shape, dtype=np.int8)
        for t in self.thresholds:
            amount += y > t
        if self.inst.direction == "higher_less":
            amount = len(self.answers) - 1 - amount
        return self.answers[amount]


# ---------------------------------------------------------------------------
# the generator
# ---------------------------------------------------------------------------
def generate_clinic(n_children: int = 60, seed: int = 0, *,
                    end_date: dt.date = dt.date(2026, 9, 30),
                    include_truth: bool = False) -> dict[str, pd.DataFrame]:
    """A whole synthetic clinic: children, assessments, goals and goal ratings.

    Parameters
    ----------
    n_children : number of children (at least 1).
    seed : seed of the one ``numpy.random.default_rng`` all draws come from;
        the same arguments always give the same tables.
    end_date : the extract date; no date in any table is later.
    include_truth : also return ``"truth"``, the latent model per child
        (subtype, intake latent quadrant z, yearly therapy rate), for testing
        methods against a known answer. Not part of a clinic dataset.

    Returns
    -------
    dict of DataFrames keyed ``"children"``, ``"assessments"``, ``"goals"``,
    ``"goal_ratings"`` with the columns of :mod:`sensoryprofile.columns`
    (dates as ISO ``YYYY-MM-DD`` strings, blanks as missing values).

    Notes
    -----
    Children are 3-14 years old at referral (demo-child) or, about 8%,
    7-33 months (demo-toddler until their 36-month birthday, demo-child after).
    Each child has a profile subtype (:data:`SUBTYPES`) giving latent quadrant
    levels in z units; therapy shrinks them toward 0 at a per-child rate
    (some children a lot, some not at all, a few get worse). Items follow a
    binned-normal model around the latent level, calibrated against the
    instrument's own norms. Goals follow goal attainment scaling with final
    levels near 7/21/43/21/7 % across -2..+2 (:data:`_GAS_CUTS`), shifted per therapist
    (:data:`THERAPISTS`).

    Examples
    --------
    >>> clinic = generate_clinic(5, seed=1)
    >>> sorted(clinic)
    ['assessments', 'children', 'goal_ratings', 'goals']
    >>> clinic["children"]["child_id"].tolist()
    ['C0001', 'C0002', 'C0003', 'C0004', 'C0005']
    """
    if isinstance(n_children, bool) or not isinstance(n_children, (int, np.integer)) \
            or n_children < 1:
        raise UsageError(f"`n_children` must be a whole number of at least 1, but "
                         f"{n_children!r} was passed")
    if isinstance(end_date, dt.datetime):
        end_date = end_date.date()
    if not isinstance(end_date, dt.date):
        raise UsageError(f"`end_date` must be a datetime.date, but {end_date!r} was passed")
    n = int(n_children)
    # one generator, drawn from in a fixed order: children, latent profiles,
    # the schedule, item responses, goals (each phase below draws its share)
    rng = np.random.default_rng(seed)
    end = _days(end_date)
    instruments = [load_instrument(i) for i in CLINIC_INSTRUMENTS]
    models = [_ItemModel(inst, rng) for inst in instruments]
    kids = _draw_children(rng, n, end)
    latent = _draw_latent(rng, n, kids, instruments)
    plan = _draw_schedule(rng, n, end, kids, instruments)
    item_ids, values = _draw_responses(rng, plan, latent, instruments, models)

    width_c = max(4, len(str(n)))
    child_ids = np.array([f"C{i:0{width_c}d}" for i in range(1, n + 1)], dtype=object)
    goals, ratings = _generate_goals(
        rng, n=n, child_ids=child_ids, dob=kids.dob, intake=plan.intake, stop=plan.stop,
        discharged=plan.discharged, end=end, subtype=latent.subtype,
        therapist=kids.therapist, responder=latent.responder)
    # drawn last, so that adding the column changed no earlier value
    ratings = _add_family_notes(rng, goals, ratings, child_ids)
    clinic = {"children": _children_table(kids, plan, child_ids),
              "assessments": _assessments_table(plan, child_ids, item_ids, values),
              "goals": goals, "goal_ratings": ratings}
    if include_truth:
        clinic["truth"] = pd.DataFrame({
            C.CHILD_ID: child_ids,
            "subtype": np.array(SUBTYPES, dtype=object)[latent.subtype],
            **{f"z0_{q}": latent.z0[:, k] for k, q in enumerate(QUADRANT_ORDER)},
            "therapy_rate": latent.rate,
            "overdue": plan.overdue,
        })
    return clinic


@dataclass
class _Children:
    """Who the children are (arrays of length n)."""

    toddler: np.ndarray
    referral: np.ndarray
    dob: np.ndarray
    sex: np.ndarray
    primary: np.ndarray
    held: np.ndarray
    diag_text: np.ndarray
    therapist: np.ndarray
    site: np.ndarray
    names: np.ndarray


def _draw_children(rng: np.random.Generator, n: int, end: int) -> _Children:
    """Age, sex, diagnoses, therapist, site and display name of each child."""
    toddler = rng.random(n) < 0.08
    referral = end - rng.integers(_REFERRAL_WINDOW[0], _REFERRAL_WINDOW[1] + 1, n)
    age_days = np.where(
        toddler,
        rng.integers(_TODDLER_AGE_DAYS[0], _TODDLER_AGE_DAYS[1] + 1, n),
        _CHILD_AGE_DAYS[0] + np.floor((_CHILD_AGE_DAYS[1] - _CHILD_AGE_DAYS[0])
                                      * rng.beta(1.6, 3.2, n)).astype(np.int64))
    dob = referral - age_days
    sex = np.array(["F", "M", "X"], dtype=object)[_categorical_draw(
        rng, np.broadcast_to([0.34, 0.64, 0.02], (n, 3)))]
    primary = _categorical_draw(rng, np.where(toddler[:, None],
                                              np.array(_PRIMARY_DIAGNOSIS["toddler"]),
                                              np.array(_PRIMARY_DIAGNOSIS["child"])))
    none_code = DIAGNOSES.index("none")
    p_second = 0.15 / (1.0 - _PRIMARY_DIAGNOSIS["child"][none_code])
    second_w = np.broadcast_to(_SECOND_DIAGNOSIS, (n, len(DIAGNOSES))).copy()
    second_w[toddler, 1:3] = 0.0  # no ADHD or DCD diagnosed before 3
    second_w[np.arange(n), primary] = 0.0
    second_w /= second_w.sum(axis=1, keepdims=True)
    second = _categorical_draw(rng, second_w)
    has_second = (rng.random(n) < p_second) & (primary != none_code)
    held = np.zeros((n, len(DIAGNOSES)), dtype=bool)
    held[np.arange(n), primary] = True
    held[np.flatnonzero(has_second), second[has_second]] = True
    diag_text = np.array([";".join(d for d, h in zip(DIAGNOSES, row, strict=True) if h)
                          for row in held], dtype=object)

    t_weights = np.array([t[2] for t in THERAPISTS])
    therapist = _categorical_draw(rng, np.broadcast_to(t_weights / t_weights.sum(),
                                                       (n, len(THERAPISTS))))
    home = np.array([SITES.index(t[1]) for t in THERAPISTS])[therapist]
    away = rng.random(n) < 0.10
    site = np.where(away, (home + rng.integers(1, len(SITES), n)) % len(SITES), home)
    names = (np.array(_FIRST_NAMES, dtype=object)[rng.integers(0, len(_FIRST_NAMES), n)]
             + " " + np.array(list(_INITIALS), dtype=object)[
                 rng.integers(0, len(_INITIALS), n)] + ".")
    return _Children(toddler=toddler, referral=referral, dob=dob, sex=sex, primary=primary,
                     held=held, diag_text=diag_text, therapist=therapist, site=site,
                     names=names)


@dataclass
class _Latent:
    """The latent model of each child: profile, levels, response to therapy."""

    subtype: np.ndarray
    z0: np.ndarray
    zb0: np.ndarray
    behaviour_ids: tuple[str, ...]
    responder: np.ndarray
    rate: np.ndarray
    rate_q: np.ndarray
    section_ids: list[str]
    section_offset: np.ndarray
    teacher_bias: np.ndarray


def _draw_latent(rng: np.random.Generator, n: int, kids: _Children,
                 instruments: list[Instrument]) -> _Latent:
    """Each child's profile subtype, latent quadrant and behaviour levels at
    intake (z units) and yearly therapy rate."""
    subtype = _categorical_draw(rng, _SUBTYPE_GIVEN_DIAGNOSIS[kids.primary])
    typical = subtype == SUBTYPES.index("balanced/typical")
    general = rng.normal(size=(n, 1))
    spread = np.where(typical[:, None], 0.45 * rng.normal(size=(n, 4)),
                      0.3 * general + 0.45 * rng.normal(size=(n, 4)))
    z0 = _SUBTYPE_MEANS[subtype] + spread
    load = z0.mean(axis=1)
    behaviour_ids = tuple(_BEHAVIOUR_BY_DIAGNOSIS)
    zb0 = 0.35 * load[:, None] + rng.normal(0.0, 0.6, (n, len(behaviour_ids)))
    zb0 += kids.held.astype(float) @ np.array(
        [_BEHAVIOUR_BY_DIAGNOSIS[s] for s in behaviour_ids]).T
    responder = rng.normal(size=n)  # also drives goal outcomes
    rate = 0.4 + 0.3 * responder  # per year; negative = gets worse
    rate_q = rate[:, None] * rng.uniform(0.6, 1.4, (n, 4))
    section_ids = sorted({s.id for inst in instruments for s in inst.sections
                          if s.kind == "sensory"})
    section_offset = rng.normal(0.0, 0.25, (n, len(section_ids)))
    teacher_bias = rng.normal(0.0, 0.35, (n, 4))
    return _Latent(subtype=subtype, z0=z0, zb0=zb0, behaviour_ids=behaviour_ids,
                   responder=responder, rate=rate, rate_q=rate_q, section_ids=section_ids,
                   section_offset=section_offset, teacher_bias=teacher_bias)


@dataclass
class _Schedule:
    """When each child was assessed, discharged or left overdue; one entry per
    assessment in ``a_*`` (child, date, respondent 0/1, age, instrument 0/1)."""

    intake: np.ndarray
    discharged: np.ndarray
    discharge: np.ndarray
    stop: np.ndarray
    overdue: np.ndarray
    a_child: np.ndarray
    a_date: np.ndarray
    a_resp: np.ndarray
    a_age: np.ndarray
    a_inst: np.ndarray


def _draw_schedule(rng: np.random.Generator, n: int, end: int, kids: _Children,
                   instruments: list[Instrument]) -> _Schedule:
    """Intake, reassessments, discharges, overdue reassessments and teacher
    questionnaires."""
    dob, toddler = kids.dob, kids.toddler
    intake = kids.referral + rng.integers(0, 31, n)
    intake = np.minimum(intake, np.where(toddler, end, dob + _CHILD_AGE_DAYS[1]))
    intake = np.minimum(intake, end - 7)  # referral is at least 20 days before the end
    k_max = (_REFERRAL_WINDOW[1] // (_REASSESS_EVERY - _REASSESS_JITTER)) + 1
    gaps = _REASSESS_EVERY + rng.integers(-_REASSESS_JITTER, _REASSESS_JITTER + 1, (n, k_max))
    re_dates = intake[:, None] + np.cumsum(gaps, axis=1)
    n_avail = (re_dates <= end).sum(axis=1)

    # discharges: ~25% of all children, after a review (a few drop out early)
    eligible = intake <= end - 200
    p_dis = min(1.0, 0.25 * n / max(int(eligible.sum()), 1))
    discharged = eligible & (rng.random(n) < p_dis)
    early = discharged & ((rng.random(n) < 0.10) | (n_avail == 0))
    n_kept = np.minimum(np.floor(rng.random(n) * n_avail).astype(int) + 1, n_avail)
    last_kept = re_dates[np.arange(n), np.maximum(n_kept - 1, 0)]
    discharge = np.where(early, intake + rng.integers(30, 151, n),
                         last_kept + rng.integers(0, 22, n))
    discharge = np.minimum(discharge, end)
    discharge = np.where(discharged, discharge, -1)
    stop = np.where(discharged, discharge, end)

    # overdue: ~15% of active children stop being reassessed > 7 months ago
    active = ~discharged
    can_lapse = active & (intake <= end - _OVERDUE_GAP - 10)
    factor = np.array([t[4] for t in THERAPISTS])[kids.therapist]
    p_over = 0.15 * active.sum() / max(float(factor[can_lapse].sum()), 1e-9)
    overdue = can_lapse & (rng.random(n) < np.minimum(p_over * factor, 1.0))
    cutoff = intake + np.floor(rng.random(n) * (end - _OVERDUE_GAP - intake)).astype(np.int64)
    assess_stop = np.where(overdue, np.maximum(cutoff, intake), stop)
    re_mask = re_dates <= assess_stop[:, None]

    # teacher questionnaires: ~10% of children, at intake and one reassessment
    intake_age = _months(dob, intake)
    can_teach = intake_age >= 42
    p_teach = min(1.0, 0.10 * n / max(int(can_teach.sum()), 1))
    teacher = can_teach & (rng.random(n) < p_teach)
    pick_key = np.where(re_mask, rng.random((n, k_max)), -1.0)
    pick = pick_key.argmax(axis=1)
    has_re = re_mask.any(axis=1)
    teacher_offsets = rng.integers(0, 15, (n, 2))

    rows_child = [np.arange(n), np.nonzero(re_mask)[0]]
    rows_date = [intake, re_dates[re_mask]]
    rows_resp = [np.zeros(n, np.int8), np.zeros(int(re_mask.sum()), np.int8)]
    t_int = np.flatnonzero(teacher)
    rows_child.append(t_int)
    rows_date.append(np.minimum(intake[t_int] + teacher_offsets[t_int, 0], assess_stop[t_int]))
    t_re = np.flatnonzero(teacher & has_re)
    rows_child.append(t_re)
    rows_date.append(np.minimum(re_dates[t_re, pick[t_re]] + teacher_offsets[t_re, 1],
                                assess_stop[t_re]))
    rows_resp += [np.ones(len(t_int), np.int8), np.ones(len(t_re), np.int8)]
    a_child = np.concatenate(rows_child)
    a_date = np.concatenate(rows_date)
    a_resp = np.concatenate(rows_resp)
    a_age = _months(dob[a_child], a_date)
    keep = (a_age <= instruments[0].age_max) & (a_date <= end)
    a_child, a_date, a_resp, a_age = a_child[keep], a_date[keep], a_resp[keep], a_age[keep]
    order = np.lexsort((a_resp, a_date, a_child))
    a_child, a_date, a_resp, a_age = a_child[order], a_date[order], a_resp[order], a_age[order]
    a_inst = np.where(a_age <= instruments[1].age_max, 1, 0)
    return _Schedule(intake=intake, discharged=discharged, discharge=discharge, stop=stop,
                     overdue=overdue, a_child=a_child, a_date=a_date, a_resp=a_resp,
                     a_age=a_age, a_inst=a_inst)


def _draw_responses(rng: np.random.Generator, plan: _Schedule, latent: _Latent,
                    instruments: list[Instrument], models: list[_ItemModel]
                    ) -> tuple[list[str], np.ndarray]:
    """Item responses of every assessment: (item ids of all instruments, an
    (assessments x items) float array, NaN where blank or another instrument's)."""
    a_child, a_resp, a_age, a_inst = plan.a_child, plan.a_resp, plan.a_age, plan.a_inst
    n_a = len(a_child)
    years = (plan.a_date - plan.intake[a_child]) / 365.25
    shrink = np.exp(-latent.rate_q[a_child] * years[:, None])
    zq = latent.z0[a_child] * shrink + rng.normal(0.0, 0.12, (n_a, 4))
    zq += np.where(a_resp[:, None] == 1, latent.teacher_bias[a_child], 0.0)
    zq = np.clip(zq, -3.5, 3.5)
    zb = latent.zb0[a_child] * np.exp(-latent.rate[a_child] * years)[:, None]
    zb += rng.normal(0.0, 0.15, zb.shape)
    a_load = zq.mean(axis=1)

    item_ids = [i for inst in instruments for i in inst.item_ids]
    values = np.full((n_a, len(item_ids)), np.nan)
    col = 0
    for k, (inst, model) in enumerate(zip(instruments, models, strict=True)):
        rows = np.flatnonzero(a_inst == k)
        width = len(inst.item_ids)
        group_z = np.empty((len(rows), model.n_groups))
        for g, (kind, name) in enumerate(model.group_key):
            if kind == "quadrant":
                group_z[:, g] = zq[rows, QUADRANT_ORDER.index(name)]
            elif name in latent.behaviour_ids:
                group_z[:, g] = zb[rows, latent.behaviour_ids.index(name)]
            else:
                group_z[:, g] = 0.35 * a_load[rows]
        sec_cols = np.array([latent.section_ids.index(item.section)
                             if item.section in latent.section_ids else -1
                             for item in inst.items])
        offset = np.where(sec_cols >= 0, latent.section_offset[a_child[rows]][:, np.maximum(
            sec_cols, 0)], 0.0)
        block = model.draw(rng, group_z, a_age[rows], offset)
        # ~1% blank, ~1% "does not apply", and ~0.4% of forms with a page skipped
        u = rng.random(block.shape)
        block[u < 0.01] = np.nan
        if model.na_code is not None:
            block[(u >= 0.01) & (u < 0.02)] = model.na_code
        skipped = rng.random(len(rows)) < 0.004
        section_names = [s.id for s in inst.sections if s.kind == "sensory"]
        which = rng.integers(0, len(section_names), len(rows))
        item_sections = np.array([item.section for item in inst.items], dtype=object)
        for r in np.flatnonzero(skipped):
            block[r, item_sections == section_names[which[r]]] = np.nan
        values[rows, col:col + width] = block
        col += width
    return item_ids, values


def _assessments_table(plan: _Schedule, child_ids: np.ndarray, item_ids: list[str],
                       values: np.ndarray) -> pd.DataFrame:
    n_a = len(plan.a_child)
    width_a = max(5, len(str(n_a)))
    assessments = pd.DataFrame({
        C.ASSESSMENT_ID: [f"A{i:0{width_a}d}" for i in range(1, n_a + 1)],
        C.CHILD_ID: child_ids[plan.a_child],
        C.INSTRUMENT: np.array(CLINIC_INSTRUMENTS, dtype=object)[plan.a_inst],
        C.DATE: _iso(plan.a_date),
        C.RESPONDENT: np.array(["caregiver", "teacher"], dtype=object)[plan.a_resp],
    })
    mask = np.isnan(values)
    filled = np.where(mask, 0, values).astype(np.int8)
    items = pd.DataFrame({item: pd.arrays.IntegerArray(filled[:, j], mask[:, j])
                          for j, item in enumerate(item_ids)})
    return pd.concat([assessments, items], axis=1)


def _children_table(kids: _Children, plan: _Schedule, child_ids: np.ndarray) -> pd.DataFrame:
    return pd.DataFrame({
        C.CHILD_ID: child_ids,
        C.DATE_OF_BIRTH: _iso(kids.dob),
        C.SEX: kids.sex,
        C.DIAGNOSES: kids.diag_text,
        C.SITE: np.array(SITES, dtype=object)[kids.site],
        C.THERAPIST: np.array([t[0] for t in THERAPISTS], dtype=object)[kids.therapist],
        C.REFERRAL_DATE: _iso(kids.referral),
        C.DISCHARGE_DATE: np.where(plan.discharged, _iso(np.maximum(plan.discharge, 0)), None),
        C.DISPLAY_NAME: kids.names,
    })


def _generate_goals(rng: np.random.Generator, *, n: int, child_ids: np.ndarray,
                    dob: np.ndarray, intake: np.ndarray, stop: np.ndarray,
                    discharged: np.ndarray, end: int, subtype: np.ndarray,
                    therapist: np.ndarray, responder: np.ndarray
                    ) -> tuple[pd.DataFrame, pd.DataFrame]:
    texts, offsets, counts, t_domain, t_ages = expand_templates(GOAL_DOMAINS)
    n_templates = len(offsets)

    # set dates: one goal-setting session 0-14 days after intake, then review
    # sessions every ~3 months (all of a child's goals are rated together)
    g_set0 = np.minimum(intake + rng.integers(0, 15, n), np.minimum(stop, end - 3))
    span = int(max(np.max(stop - g_set0, initial=0), 0))
    r_max = span // (_REVIEW_EVERY - _REVIEW_JITTER) + 1
    c_gaps = _REVIEW_EVERY + rng.integers(-_REVIEW_JITTER, _REVIEW_JITTER + 1, (n, r_max))
    c_dates = g_set0[:, None] + np.cumsum(c_gaps, axis=1)
    c_valid = c_dates <= stop[:, None]
    last = np.where(c_valid.any(axis=1), np.max(np.where(c_valid, c_dates, 0), axis=1), g_set0)
    at_discharge = discharged & (stop - last >= 30)
    c_dates = np.concatenate([c_dates, stop[:, None]], axis=1)
    c_valid = np.concatenate([c_valid, at_discharge[:, None]], axis=1)
    n_goals = 2 + _categorical_draw(rng, np.broadcast_to([0.2, 0.4, 0.3, 0.1], (n, 4)))
    # a few children get their last goal at the first review, not at intake
    later = (n_goals >= 3) & (rng.random(n) < 0.12) & c_valid[:, 0] & (
        c_dates[:, 0] <= stop - 30)
    later_date = c_dates[:, 0]

    # templates: weighted draw without replacement among age-appropriate ones
    age_at_set = _months(dob, g_set0)
    fits = (age_at_set[:, None] >= t_ages[None, :, 0]) & (age_at_set[:, None] <= t_ages[None, :,
                                                                                        1])
    weights = _DOMAIN_WEIGHTS[subtype][:, t_domain]
    keys = np.where(fits, np.log(weights) + rng.gumbel(size=(n, n_templates)), -np.inf)
    ranked = np.argsort(-keys, axis=1, kind="stable")[:, :5]
    n_goals = np.minimum(n_goals, fits.sum(axis=1))

    g_child = np.repeat(np.arange(n), n_goals)
    g_rank = np.arange(len(g_child)) - np.repeat(np.cumsum(n_goals) - n_goals, n_goals)
    g_template = ranked[g_child, g_rank]
    n_g = len(g_child)
    g_variant = offsets[g_template] + np.floor(rng.random(n_g) * counts[g_template]).astype(int)
    g_is_later = later[g_child] & (g_rank == n_goals[g_child] - 1)
    g_set = np.where(g_is_later, later_date[g_child], g_set0[g_child])
    duration = rng.integers(91, 184, n_g)  # planned time to the target date
    g_target = g_set + duration  # a plan: may lie after end_date, like a real target date

    # weights: mostly 1-3, a few unweighted (blank); calibration differs by therapist
    g_ther = therapist[g_child]
    easy = np.array([t[3] for t in THERAPISTS])[g_ther]
    imp = _categorical_draw(rng, np.broadcast_to([0.03, 0.25, 0.40, 0.32], (n_g, 4)))
    diff_p = np.where((easy > 0.5)[:, None], [0.05, 0.55, 0.30, 0.10],
                      np.where((easy < -0.5)[:, None], [0.02, 0.15, 0.38, 0.45],
                               [0.03, 0.30, 0.42, 0.25]))
    diff = _categorical_draw(rng, diff_p)
    unweighted = rng.random(n_g) < 0.06
    baseline = np.where(rng.random(n_g) < 0.6, -1, -2)

    # outcome level: therapist bias + child's response to therapy + goal noise
    latent = easy + 0.4 * responder[g_child] + 0.82 * rng.normal(size=n_g)
    final = np.searchsorted(_GAS_CUTS, latent) - 2
    reach = duration * rng.uniform(0.7, 1.4, n_g)
    dip = (baseline == -1) & (final >= -1) & (rng.random(n_g) < 0.06)

    # ratings: at each of the child's review sessions after the goal's set date
    r_valid = c_valid[g_child] & (c_dates[g_child] > g_set[:, None])
    r_goal, r_col = np.nonzero(r_valid)
    r_date = c_dates[g_child[r_goal], r_col]
    n_r = len(r_goal)

    elapsed = (r_date - g_set[r_goal]) / reach[r_goal]
    progress = np.minimum(1.0, elapsed) ** 0.6
    b, f = baseline[r_goal], final[r_goal]
    mean = b + progress * (f - b)
    noise = np.where(progress < 1.0, rng.normal(0.0, 0.3, n_r), 0.0)
    level = np.clip(np.round(mean + noise), -2, 2).astype(np.int8)
    first = np.ones(n_r, dtype=bool)
    first[1:] = r_goal[1:] != r_goal[:-1]
    level[first & dip[r_goal]] = -2
    prev = np.empty(n_r, dtype=np.int8)
    prev[first] = b[first]
    prev[~first] = level[np.flatnonzero(~first) - 1]

    # rater: one per review session (teachers only for school-age children)
    c_age = (c_dates - dob[:, None]) / 30.4375
    rater_p = np.where((c_age < 42)[..., None], [0.68, 0.32, 0.0], [0.62, 0.26, 0.12])
    session_rater = _categorical_draw(rng, rater_p.reshape(-1, 3)).reshape(c_dates.shape)
    rater = np.array(["therapist", "caregiver", "teacher"], dtype=object)[
        session_rater[g_child[r_goal], r_col]]
    kind = np.select([(level >= 1) & (level >= prev), level > prev, level < prev],
                     ["above", "up", "down"], default="same")
    pick = rng.random(n_r)
    note = np.full(n_r, None, dtype=object)
    for name, options in RATING_NOTES.items():
        sel = kind == name
        note[sel] = np.array(options, dtype=object)[
            np.floor(pick[sel] * len(options)).astype(int)]
    note[rng.random(n_r) < NOTE_BLANK_SHARE] = None

    width_g = max(5, len(str(n_g)))
    goal_ids = np.array([f"G{i:0{width_g}d}" for i in range(1, n_g + 1)], dtype=object)
    text_table = np.array(texts, dtype=object)[g_variant]
    imp_arr = pd.array(np.where(unweighted, 0, imp).astype(np.int8), dtype="Int8")
    diff_arr = pd.array(np.where(unweighted, 0, diff).astype(np.int8), dtype="Int8")
    imp_arr[unweighted] = pd.NA
    diff_arr[unweighted] = pd.NA
    goals = pd.DataFrame({
        C.GOAL_ID: goal_ids,
        C.CHILD_ID: child_ids[g_child],
        C.SET_DATE: _iso(g_set),
        C.DOMAIN: np.array(GOAL_DOMAINS, dtype=object)[t_domain[g_template]],
        C.DESCRIPTION: text_table[:, 0],
        C.IMPORTANCE: imp_arr,
        C.DIFFICULTY: diff_arr,
        C.BASELINE_LEVEL: baseline.astype(np.int8),
        **{name: text_table[:, k + 1] for k, name in enumerate(C.LEVEL_TEXT_COLUMNS)},
        C.TARGET_DATE: _iso(g_target),
    })[C.GOALS_COLUMNS]
    ratings = pd.DataFrame({
        C.GOAL_ID: goal_ids[r_goal],
        C.DATE: _iso(r_date),
        C.LEVEL: level,
        C.RATER: rater,
        C.NOTE: note,
    })
    return goals, ratings


def _add_family_notes(rng: np.random.Generator, goals: pd.DataFrame, ratings: pd.DataFrame,
                      child_ids: np.ndarray) -> pd.DataFrame:
    """Notes for the family (:data:`FAMILY_NOTES`): about a third of the
    children get one, on the first rating row (in goal order) of their latest
    review."""
    n = len(child_ids)
    gets_note = rng.random(n) < FAMILY_NOTE_SHARE
    pick = np.floor(rng.random(n) * len(FAMILY_NOTES)).astype(int)
    child_of = ratings[C.GOAL_ID].map(goals.set_index(C.GOAL_ID)[C.CHILD_ID]).to_numpy()
    k = pd.Series(np.arange(n), index=child_ids).reindex(child_of).to_numpy()
    dates = ratings[C.DATE].to_numpy()
    latest = pd.Series(dates).groupby(child_of).transform("max").to_numpy()
    first_of_review = ~pd.DataFrame({"child": child_of, "date": dates}).duplicated().to_numpy()
    chosen = (dates == latest) & first_of_review & gets_note[k]
    note = np.full(len(ratings), None, dtype=object)
    note[chosen] = np.array(FAMILY_NOTES, dtype=object)[pick[k[chosen]]]
    return ratings.assign(**{C.FAMILY_NOTE: note})[C.GOAL_RATINGS_COLUMNS]


#: File name of each table written by :func:`write_clinic`.
CLINIC_FILES = {"children": "children.csv", "assessments": "assessments.csv",
                "goals": "goals.csv", "goal_ratings": "goal_ratings.csv"}


def write_clinic(out_dir, n_children: int = 60, seed: int = 0, *,
                 end_date: dt.date = dt.date(2026, 9, 30)) -> dict[str, Path]:
    """Generate a synthetic clinic and write it as a folder of CSV files.

    Writes ``children.csv``, ``assessments.csv``, ``goals.csv`` and
    ``goal_ratings.csv`` (UTF-8 without BOM, LF line endings, ISO dates, blank
    cells for missing values) into ``out_dir``, creating it if needed. The
    same arguments always give byte-identical files.

    Returns
    -------
    dict mapping each table name to the path written.
    """
    clinic = generate_clinic(n_children, seed, end_date=end_date)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths: dict[str, Path] = {}
    for name, file_name in CLINIC_FILES.items():
        path = out / file_name
        with open(path, "w", encoding="utf-8", newline="") as handle:
            clinic[name].to_csv(handle, index=False, lineterminator="\n")
        paths[name] = path
    return paths


def sample_readme(n_children: int, seed: int) -> str:
    """README (data dictionary) for a generated clinic."""
    from sensoryprofile.data.dictionary import data_dictionary_markdown
    from sensoryprofile.instruments import load_instrument

    intro = (
        "\n## About this sample\n\n"
        f"Synthetic clinic: {n_children} invented children, generated by "
        f"`sensoryprofile sample --children {n_children} --seed {seed}` (deterministic: the "
        "same command writes byte-identical files). Nothing here describes a real child, "
        "therapist or clinic; display names are invented nature words.\n\n"
        "- 3 sites, 8 therapists; diagnoses autism, ADHD, developmental coordination "
        "disorder, sensory processing difficulties or none (some children have two).\n"
        "- Most children (3-14 years at referral) are assessed with the demo-child form; a "
        "few toddlers with demo-toddler (reversed scale: 1 = almost always). Both are "
        "demonstration forms with invented items and synthetic norms, not for clinical use.\n"
        "- Intake assessment near referral, reassessments about every 6 months; some "
        "children are discharged, some are overdue; some have a second respondent (teacher).\n"
        "- Responses come from a latent model of sensory-processing profiles (avoiding and "
        "sensitivity high, seeking high, registration high, balanced, all elevated) with "
        "therapy moving scores toward the typical range at uneven rates, and a few blank and "
        "'does not apply' answers.\n"
        "- 2-5 goals per child with importance, difficulty and five level texts; ratings at "
        "reviews about every 3 months, mostly improving from baseline, with realistic "
        "spread (and one therapist's goals too easy, one's too hard).\n"
    )
    text = data_dictionary_markdown(
        [load_instrument("demo-child"), load_instrument("demo-toddler")],
        title="data/sample: a synthetic clinic dataset")
    head, _, rest = text.partition("\n## children")
    return head + intro + "\n## children" + rest + "\n"
