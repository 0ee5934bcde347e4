"""Project-specific Kedro datasets (each module imports only what it needs)."""

from future_skills_kedro.datasets.prediction_logs import (
    DEFAULT_LOG_DIRECTORY,
    CorruptLine,
    PredictionLogDataset,
    PredictionLogRead,
    PredictionLogWindowDataset,
    append_prediction_logs,
    read_prediction_logs,
)

__all__ = [
    "DEFAULT_LOG_DIRECTORY",
    "CorruptLine",
    "PredictionLogDataset",
    "PredictionLogRead",
    "PredictionLogWindowDataset",
    "append_prediction_logs",
    "read_prediction_logs",
]
