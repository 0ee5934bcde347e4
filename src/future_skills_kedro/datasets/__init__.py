"""Project-specific Kedro datasets (each module imports only what it needs)."""

from future_skills_kedro.datasets.prediction_logs import (
    DEFAULT_LOG_DIRECTORY,
    CorruptLine,
    PredictionLogDataset,
    PredictionLogRead,
    prediction_log_records,
    read_prediction_logs,
    write_prediction_log,
)

__all__ = [
    "DEFAULT_LOG_DIRECTORY",
    "CorruptLine",
    "PredictionLogDataset",
    "PredictionLogRead",
    "prediction_log_records",
    "read_prediction_logs",
    "write_prediction_log",
]
