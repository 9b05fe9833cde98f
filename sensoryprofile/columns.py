"""Column names, defined once and reused everywhere (tables, tests, notebooks)."""

# keys and identifiers
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

# tidy score table
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
LEVEL = "level"  # ordinal classification level -2 .. +2
UNCLASSIFIED_REASON = "unclassified_reason"

SCORE_COLUMNS = [
    ASSESSMENT_ID, CHILD_ID, INSTRUMENT, DATE, RESPONDENT, SCORE, SCORE_NAME, KIND,
    RAW, MIN_POSSIBLE, MAX_POSSIBLE, N_ITEMS, N_ANSWERED, N_MISSING, N_NOT_APPLICABLE,
    N_OFF_SCALE, PRORATED, VALID, INVALID_REASON, AGE_MONTHS, NORM_BAND, Z, PERCENTILE,
    CLASSIFICATION, LEVEL, UNCLASSIFIED_REASON,
]

# children table
SEX = "sex"
DIAGNOSES = "diagnoses"  # ';'-separated
SITE = "site"
THERAPIST = "therapist"
REFERRAL_DATE = "referral_date"
DISCHARGE_DATE = "discharge_date"
CHILDREN_COLUMNS = [CHILD_ID, DATE_OF_BIRTH, SEX, DIAGNOSES, SITE, THERAPIST, REFERRAL_DATE,
                    DISCHARGE_DATE, DISPLAY_NAME]

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
RATER = "rater"
NOTE = "note"
GOAL_RATINGS_COLUMNS = [GOAL_ID, DATE, LEVEL, RATER, NOTE]

ASSESSMENTS_META_COLUMNS = [ASSESSMENT_ID, CHILD_ID, INSTRUMENT, DATE, RESPONDENT]

# goal attainment outputs (goals.py)
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

# change between administrations (change.py)
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
N_AT_BASELINE = "n_at_baseline"  # goals set but not yet rated: counted at baseline
AT_BASELINE = "at_baseline"  # trajectory row: goal not yet rated, shown at baseline
N_RATINGS = "n_ratings"  # ratings of a goal up to as_of

# chart inputs (plots.py) and report frames
POSITION = "position"  # z clipped to +-3, or the band centre (cut-table norms)
SECTION_KIND = "section_kind"  # "sensory" or "behavioural"
LABEL = "label"  # a short goal label chosen by the caller
IS_BASELINE = "is_baseline"  # the goal row that holds the level when the goal was set
COUNT = "count"
TIMEPOINT = "timepoint"  # "intake" or "latest"
SHARE = "share"  # a fraction, 0..1
MEDIAN = "median"
CI_LOW = "ci_low"
CI_HIGH = "ci_high"
N = "n"

# de-identified extracts (export.py)
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
