"""Prediction logs as a lazy reader: the node chooses the window from its parameters.

``PredictionLogDataset`` fixes its window in the catalog; monitoring's window comes from
``monitoring.window`` parameters (end date, days), which the catalog cannot see. So, like
``PartitionedDataset``'s load functions, ``load`` hands over a reader and the node calls it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kedro.io import AbstractDataset, DatasetError

from future_skills_kedro.datasets.prediction_logs import (
    DEFAULT_LOG_DIRECTORY,
    PredictionLogRead,
    log_files,
    read_prediction_logs,
)


@dataclass(frozen=True)
class PredictionLogWindowReader:
    """Reads the logs of one window: ``reader.read(start, end)`` (both inclusive)."""

    directory: Path

    def read(self, start: Any, end: Any) -> PredictionLogRead:
        return read_prediction_logs(self.directory, start, end)


class PredictionLogWindowDataset(AbstractDataset[None, PredictionLogWindowReader]):
    """Read-only: ``load`` returns a :class:`PredictionLogWindowReader` for the log directory.

    ``path`` (not ``directory``): Kedro anchors a relative ``path`` at the project root.
    """

    def __init__(
        self, path: str = DEFAULT_LOG_DIRECTORY, metadata: dict[str, Any] | None = None
    ) -> None:
        self._directory = Path(path)
        self.metadata = metadata

    def load(self) -> PredictionLogWindowReader:
        return PredictionLogWindowReader(self._directory)

    def save(self, data: None) -> None:
        raise DatasetError(
            "PredictionLogWindowDataset is read-only: inference writes prediction logs."
        )

    def _exists(self) -> bool:
        return bool(log_files(self._directory))

    def _describe(self) -> dict[str, Any]:
        return {"directory": str(self._directory)}
