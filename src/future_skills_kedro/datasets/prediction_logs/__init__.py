"""Prediction-log files: writer, reader and Kedro datasets (the record is defined in
:mod:`future_skills_kedro.prediction_log`)."""

from future_skills_kedro.datasets.prediction_logs.dataset import (
    PredictionLogDataset,
    PredictionLogWindowDataset,
    PredictionLogWindowReader,
)
from future_skills_kedro.datasets.prediction_logs.files import (
    DEFAULT_LOG_DIRECTORY,
    log_files,
    log_path,
)
from future_skills_kedro.datasets.prediction_logs.reader import (
    CorruptLine,
    PredictionLogRead,
    read_prediction_logs,
)
from future_skills_kedro.datasets.prediction_logs.writer import append_prediction_logs

__all__ = [
    "DEFAULT_LOG_DIRECTORY",
    "CorruptLine",
    "PredictionLogDataset",
    "PredictionLogRead",
    "PredictionLogWindowDataset",
    "PredictionLogWindowReader",
    "append_prediction_logs",
    "log_files",
    "log_path",
    "read_prediction_logs",
]
