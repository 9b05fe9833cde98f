"""The one vocabulary: every column name of every table, and the values that
several tables share ("All children", "intake", ...), defined once.

Tables, tests, charts and notebooks import their names from here; a module
that needs a name missing here adds it here. Grouped by the table that
introduces a name; a later table reuses the earlier name rather than
spelling it again.
"""

# ---------------------------------------------------------------------------
# keys and identifiers (clinic dataset tables: data/sample/README.md)
# ---------------------------------------------------------------------------
ASSESSMENT_ID = "assessment_id"
CHILD_ID = "child_id"
GOAL_ID = "goal_id"
INSTRUMENT = "instrument"
DATE = "date"
RESPONDENT = "respondent"
DATE_OF_BIRTH = "date_of_birth"
DISPLAY_NAME = "display_name"
AGE_MONTHS = "age_months"
SOURCE_ROW = "source_row"  # row number as a person sees it in the file (header = 1)

# children table
SEX = "sex"
DIAGNOSES = "diagnoses"  # ';'-separated
SITE = "site"
THERAPIST = "therapist"
REFERRAL_DATE = "referral_date"
DISCHARGE_DATE = "discharge_date"
CHILDREN_COLUMNS = [CHILD_ID, DATE_OF_BIRTH, SEX, DIAGNOSES, SITE, THERAPIST, REFERRAL_DATE,
                    DISCHARGE_DATE, DISPLAY_NAME]

# assessments table: the item columns are the instruments' item ids
ASSESSMENTS_META_COLUMNS = [ASSESSMENT_ID, CHILD_ID, INSTRUMENT, DATE, RESPONDENT]
#: Free-text columns an assessments table may carry; never scored, never shown.
NOTES = "notes"

# goals table
SET_DATE = "set_date"
DOMAIN = "domain"
DESCRIPTION = "description"
IMPORTANCE = "importance"
DIFFICULTY = "difficulty"
BASELINE_LEVEL = "baseline_level"
TARGET_DATE = "target_date"
LEVEL_TEXT_COLUMNS = ["level_-2", "level_-1", "level_0", "level_+1", "level_+2"]
GOALS_COLUMNS = [GOAL_ID, CHILD_ID, SET_DATE, DOMAIN, DESCRIPTION, IMPORTANCE, DIFFICULTY,
                 BASELINE_LEVEL, *LEVEL_TEXT_COLUMNS, TARGET_DATE]

# goal_ratings table (key: goal_id, date)
LEVEL = "level"  # a GAS level -2..+2 (-3 six-level); in score tables the classification level
RATER = "rater"
NOTE = "note"
#: Optional free text for the family report ("a note from the therapist"),
#: written at a review. Identifying-capable: never in messages or extracts.
FAMILY_NOTE = "family_note"
GOAL_RATINGS_COLUMNS = [GOAL_ID, DATE, LEVEL, RATER, NOTE, FAMILY_NOTE]
#: Free-text columns: a quoted line break is kept in them, and their values are
#: never shown in a message (they may name or describe a child).
FREE_TEXT_COLUMNS = frozenset({DESCRIPTION, NOTE, NOTES, FAMILY_NOTE, *LEVEL_TEXT_COLUMNS})

# ---------------------------------------------------------------------------
# the tidy score table (measures.scoring)
# ---------------------------------------------------------------------------
SCORE = "score"
SCORE_NAME = "score_name"
KIND = "kind"
RAW = "raw"
MIN_POSSIBLE = "min_possible"
MAX_POSSIBLE = "max_possible"
N_ITEMS = "n_items"
N_ANSWERED = "n_answered"
N_MISSING = "n_missing"
N_NOT_APPLICABLE = "n_not_applicable"
N_OFF_SCALE = "n_off_scale"
PRORATED = "prorated"
VALID = "valid"
INVALID_REASON = "invalid_reason"
NORM_BAND = "norm_band"
Z = "z"
PERCENTILE = "percentile"
CLASSIFICATION = "classification"
UNCLASSIFIED_REASON = "unclassified_reason"

SCORE_COLUMNS = [
    ASSESSMENT_ID, CHILD_ID, INSTRUMENT, DATE, RESPONDENT, SCORE, SCORE_NAME, KIND,
    RAW, MIN_POSSIBLE, MAX_POSSIBLE, N_ITEMS, N_ANSWERED, N_MISSING, N_NOT_APPLICABLE,
    N_OFF_SCALE, PRORATED, VALID, INVALID_REASON, AGE_MONTHS, NORM_BAND, Z, PERCENTILE,
    CLASSIFICATION, LEVEL, UNCLASSIFIED_REASON,
]

# ---------------------------------------------------------------------------
# goal attainment (measures.goals)
# ---------------------------------------------------------------------------
WEIGHT = "weight"
T_SCORE = "t_score"
BASELINE_T = "baseline_t"
T_CHANGE = "t_change"
N_GOALS = "n_goals"
N_RATED = "n_rated"
N_CARRIED = "n_carried"
N_MET = "n_met"
SHARE_MET = "share_met"
CARRIED = "carried"  # a rating carried forward from an earlier review
FIRST_LEVEL = "first_level"
LATEST_LEVEL = "latest_level"
LEVEL_CHANGE = "level_change"
DATE_FIRST_MET = "date_first_met"
DAYS_TO_MET = "days_to_met"
OVERDUE = "overdue"
GAS_SCALE = "gas_scale"  # "five-level" or "six-level"
N_AT_BASELINE = "n_at_baseline"  # goals set but not yet rated: counted at baseline
AT_BASELINE = "at_baseline"  # trajectory row: goal not yet rated, shown at baseline
N_RATINGS = "n_ratings"  # ratings of a goal up to as_of

# ---------------------------------------------------------------------------
# change between administrations (measures.change)
# ---------------------------------------------------------------------------
COMPARISON = "comparison"  # "consecutive" or "intake_to_latest"
FROM_ASSESSMENT = "from_assessment_id"
TO_ASSESSMENT = "to_assessment_id"
FROM_DATE = "from_date"
TO_DATE = "to_date"
FROM_RAW = "from_raw"
TO_RAW = "to_raw"
RAW_CHANGE = "raw_change"
FROM_Z = "from_z"
TO_Z = "to_z"
Z_CHANGE = "z_change"
RELIABILITY_R = "reliability_r"
RELIABILITY_KIND = "reliability_kind"
SEM = "sem"
S_DIFF = "s_diff"
RCI = "rci"
RELIABLE = "reliable"
FROM_CLASSIFICATION = "from_classification"
TO_CLASSIFICATION = "to_classification"
FROM_LEVEL = "from_level"
TO_LEVEL = "to_level"
BAND_TRANSITION = "band_transition"
DIRECTION = "direction"  # "toward typical", "away from typical", "no change", ...
COMPARED = "compared"
NOT_COMPARED_REASON = "not_compared_reason"
RCI_NOTE = "rci_note"  # why no RCI was computed for a compared row

# ---------------------------------------------------------------------------
# validation report (data.validation)
# ---------------------------------------------------------------------------
FILE = "file"
ROW = "row"
COLUMN = "column"
VALUE = "value"
RULE = "rule"
ACTION = "action"
TABLE = "table"
KEY = "key"
REPORT_COLUMNS = [FILE, ROW, COLUMN, VALUE, RULE, ACTION, TABLE, KEY]
ROWS_READ = "rows_read"
ROWS_ACCEPTED = "rows_accepted"
ROWS_REJECTED = "rows_rejected"
RECONCILES = "reconciles"
ACCOUNTING_COLUMNS = [TABLE, ROWS_READ, ROWS_ACCEPTED, ROWS_REJECTED, RECONCILES]

# ---------------------------------------------------------------------------
# statistics shared by analyses (analysis.stats.paired_change and the tables)
# ---------------------------------------------------------------------------
N = "n"
COUNT = "count"
SHARE = "share"  # a fraction, 0..1
MEDIAN = "median"
Q1 = "q1"
Q3 = "q3"
MEAN = "mean"
SD = "sd"
CI_LOW = "ci_low"
CI_HIGH = "ci_high"
MEDIAN_BEFORE = "median_before"
MEDIAN_AFTER = "median_after"
MEDIAN_CHANGE = "median_change"
IQR_CHANGE_LOW = "iqr_change_low"
IQR_CHANGE_HIGH = "iqr_change_high"
WILCOXON_W = "wilcoxon_w"
P_VALUE = "p_value"
RANK_BISERIAL = "rank_biserial"
RANK_BISERIAL_LOW = "rank_biserial_low"
RANK_BISERIAL_HIGH = "rank_biserial_high"
COHENS_DZ = "cohens_dz"
COHENS_DZ_LOW = "cohens_dz_low"
COHENS_DZ_HIGH = "cohens_dz_high"
SUPPRESSED = "suppressed"
SUPPRESSION = "suppression"  # "fewer than 5 children" where suppressed, else NA
#: The keys of :func:`sensoryprofile.analysis.stats.paired_change`, in order.
PAIRED_COLUMNS = (N, MEDIAN_BEFORE, MEDIAN_AFTER, MEDIAN_CHANGE, IQR_CHANGE_LOW,
                  IQR_CHANGE_HIGH, WILCOXON_W, P_VALUE, RANK_BISERIAL, RANK_BISERIAL_LOW,
                  RANK_BISERIAL_HIGH, COHENS_DZ, COHENS_DZ_LOW, COHENS_DZ_HIGH, SUPPRESSED)

# groups of children (caseload and cohort tables)
GROUP_BY = "group_by"          # "site", "therapist", "diagnosis" or "all"
GROUP = "group"                # the site, therapist or diagnosis; ALL_CHILDREN
DIAGNOSIS = "diagnosis"        # one diagnosis (the children table holds a ';' list)
N_CHILDREN = "n_children"
TIMEPOINT = "timepoint"        # INTAKE or LATEST

# ---------------------------------------------------------------------------
# caseload tables (analysis.caseload)
# ---------------------------------------------------------------------------
ACTIVE = "active"
N_ACTIVE = "n_active"
N_REFERRED = "n_referred"
N_DISCHARGED = "n_discharged"
# coverage
N_NO_INTAKE = "n_no_intake"
N_REASSESSMENT_OVERDUE = "n_reassessment_overdue"
N_GOALS_UNRATED = "n_goals_unrated"
N_GOALS_PAST_TARGET = "n_goals_past_target"
LAST_ASSESSMENT = "last_assessment_date"
DUE_DATE = "due_date"
DAYS_OVERDUE = "days_overdue"
DAYS_SINCE_REFERRAL = "days_since_referral"
LAST_RATING = "last_rating_date"
DAYS_WITHOUT_RATING = "days_without_rating"
DAYS_PAST_TARGET = "days_past_target"
# the index page's row per child (analysis.overview)
REASSESSMENT = "reassessment"  # "overdue", "due soon", "not due", ... (analysis.overview)
LAST_REVIEW = "last_review_date"  # the latest goal review (GAS T-score) up to as_of
N_RELIABLE_WITHIN = "n_reliable_within_typical"  # reliable change, typical before and after
# sensory outcomes
N_COMPARED = "n_compared"
N_WITH_RCI = "n_with_rci"
N_RELIABLE_IMPROVEMENT = "n_reliable_improvement"
SHARE_RELIABLE_IMPROVEMENT = "share_reliable_improvement"
N_RELIABLE_DETERIORATION = "n_reliable_deterioration"
SHARE_RELIABLE_DETERIORATION = "share_reliable_deterioration"
N_TOWARD_TYPICAL = "n_toward_typical"
SHARE_TOWARD_TYPICAL = "share_toward_typical"
N_ATYPICAL_AT_INTAKE = "n_atypical_at_intake"
N_NOW_TYPICAL = "n_now_typical"
SHARE_NOW_TYPICAL = "share_now_typical"
# goal outcomes (the test statistics keep the names of paired_change)
N_GOALS_RATED = "n_goals_rated"
MEDIAN_T = "median_t"
T_Q1 = "t_q1"
T_Q3 = "t_q3"
MEDIAN_BASELINE_T = "median_baseline_t"
MEDIAN_T_CHANGE = "median_t_change"
T_CHANGE_CI_LOW = "t_change_ci_low"
T_CHANGE_CI_HIGH = "t_change_ci_high"
# goal-setting calibration
MEAN_T = "mean_t"
SHARE_TOP = "share_top"
SHARE_BELOW = "share_below"
FLAG = "flag"
FLAG_REASON = "flag_reason"

# ---------------------------------------------------------------------------
# cohort tables (analysis.cohort, analysis.psychometrics, analysis.provenance)
# ---------------------------------------------------------------------------
MEASURE = "measure"
CATEGORY = "category"
NAME = "name"
ITEM = "item"
N_COMPLETE = "n_complete"
N_INCOMPLETE = "n_incomplete"
ALPHA = "alpha"
ALPHA_LOW = "alpha_low"
ALPHA_HIGH = "alpha_high"
OMEGA = "omega"
OMEGA_LOW = "omega_low"
OMEGA_HIGH = "omega_high"
ITEMS_LOWERING_ALPHA = "items_lowering_alpha"
ITEM_TOTAL_R = "item_total_r"
ALPHA_IF_DELETED = "alpha_if_deleted"
LOWERS_ALPHA = "lowers_alpha"
LOADING = "loading"
SCORE_A = "score_a"
SCORE_B = "score_b"
SCORE_NAME_A = "score_name_a"
SCORE_NAME_B = "score_name_b"
SPEARMAN_RHO = "spearman_rho"
EXPECTED_SHARE = "expected_share"
N_CLASSIFIED = "n_classified"
N_NOT_CLASSIFIED = "n_not_classified"
N_RELIABLE = "n_reliable"
SHARE_RELIABLE = "share_reliable"
N_RELIABLE_TOWARD = "n_reliable_toward_typical"
SHARE_RELIABLE_TOWARD = "share_reliable_toward_typical"
N_RELIABLE_AWAY = "n_reliable_away_from_typical"
SHARE_RELIABLE_AWAY = "share_reliable_away_from_typical"
MEDIAN_CHANGE_LOW = "median_change_low"
MEDIAN_CHANGE_HIGH = "median_change_high"
K0 = "k0"
MS_BETWEEN = "ms_between"
MS_WITHIN = "ms_within"
F_STATISTIC = "f"
DF_BETWEEN = "df_between"
DF_WITHIN = "df_within"
RHO = "rho"
RHO_LOW = "rho_low"
RHO_HIGH = "rho_high"
RHO_ASSUMED = "rho_assumed"
# series of one child's assessments (analysis.cohort.series_assessments)
SERIES_POSITION = "position"  # 0 = intake
IS_INTAKE = "intake"          # first of the child's series
IS_LATEST = "latest"          # last of a series of two or more

# ---------------------------------------------------------------------------
# chart inputs and report frames (plots, reports)
# ---------------------------------------------------------------------------
POSITION = "position"  # z clipped to +-3, or the band centre (cut-table norms)
SECTION_KIND = "section_kind"  # "sensory" or "behavioural"
LABEL = "label"  # a short goal label chosen by the caller
IS_BASELINE = "is_baseline"  # the goal row that holds the level when the goal was set

# ---------------------------------------------------------------------------
# de-identified extracts (data.export)
# ---------------------------------------------------------------------------
AGE_AT_REFERRAL_MONTHS = "age_at_referral_months"
#: With ``--no-dates``: each date column -> whole days since the child's referral.
DAY_COLUMNS = {
    REFERRAL_DATE: "referral_day",
    DISCHARGE_DATE: "discharge_day",
    DATE: "date_day",
    SET_DATE: "set_day",
    TARGET_DATE: "target_day",
}
#: Day 0 of a no-dates extract when it is read back as dates (intervals kept).
DAY_ZERO = "1900-01-01"
#: With ``--strict`` (Safe Harbor): each date column -> its year only.
YEAR_COLUMNS = {
    REFERRAL_DATE: "referral_year",
    DISCHARGE_DATE: "discharge_year",
    DATE: "date_year",
    SET_DATE: "set_year",
    TARGET_DATE: "target_year",
}
#: With ``--strict``: 1, 2, ... in date order within a child (assessments) or a
#: goal (ratings); assessments of one child on one day share a number.
SEQUENCE = "sequence"

# ---------------------------------------------------------------------------
# values shared by several tables
# ---------------------------------------------------------------------------
#: ``group_by`` of the whole-caseload row, and the group holding every child.
ALL = "all"
ALL_CHILDREN = "All children"
#: Group of a blank site, therapist or diagnosis.
NOT_RECORDED = "not recorded"
#: Values of ``timepoint``.
INTAKE = "intake"
LATEST = "latest"
#: Values of ``measure`` in the cohort's change table: the raw score, and the
#: distance from the norm mean (|z|: smaller is closer to typical).
RAW_MEASURE = "raw"
DISTANCE_MEASURE = "abs_z"
