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
