"""The data contract (docs/data-contract.md), in one place.

Column names, keys and allowed values used by the generator, the validation schemas,
the feature builder, training and inference. Change them here or nowhere.
"""

from __future__ import annotations

SENIORITIES = ("junior", "mid", "senior", "lead", "manager")
HORIZONS = (1, 3, 5)
NEED_LEVELS = ("LOW", "MEDIUM", "HIGH")  # ordered from least to most need

# Raw files: name -> (key columns, all columns in file order)
RAW_FILES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "job_roles": (
        ("job_role_id",),
        ("job_role_id", "job_role_name", "department", "seniority"),
    ),
    "skills": (
        ("skill_id",),
        ("skill_id", "skill_name", "skill_category"),
    ),
    "market_signals": (
        ("skill_id", "as_of_date"),
        (
            "skill_id",
            "as_of_date",
            "trend_score",
            "scarcity_index",
            "hiring_difficulty",
            "avg_salary_k",
        ),
    ),
    "economic_indicators": (
        ("department", "as_of_date"),
        ("department", "as_of_date", "economic_indicator"),
    ),
    "internal_signals": (
        ("job_role_id", "skill_id", "as_of_date"),
        ("job_role_id", "skill_id", "as_of_date", "internal_usage", "training_requests"),
    ),
    "skill_need_labels": (
        ("job_role_id", "skill_id", "horizon_years", "as_of_date"),
        ("job_role_id", "skill_id", "horizon_years", "as_of_date", "future_need_level"),
    ),
}

# Index of a raw table as the catalog loads it: the CSV line each record starts on (header: 1).
RAW_LINE_INDEX = "csv_line"

KEY_COLUMNS = ("job_role_id", "skill_id", "horizon_years", "as_of_date")
CATEGORICAL_FEATURES = (
    "job_role_name",
    "department",
    "seniority",
    "skill_name",
    "skill_category",
)
NUMERIC_FEATURES = (
    "horizon_years",
    "trend_score",
    "scarcity_index",
    "hiring_difficulty",
    "avg_salary_k",
    "economic_indicator",
    "internal_usage",
    "training_requests",
)
FEATURE_COLUMNS = CATEGORICAL_FEATURES + NUMERIC_FEATURES
TARGET_COLUMN = "future_need_level"
# Feature columns whose values split the holdout into slices (compare --by, slice table).
SLICE_COLUMNS = ("department", "seniority", "horizon_years", "skill_category")
MODEL_INPUT_COLUMNS = (
    "job_role_id",
    "skill_id",
    "as_of_date",
    *FEATURE_COLUMNS,
    TARGET_COLUMN,
)
