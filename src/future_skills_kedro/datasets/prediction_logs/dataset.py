"""The prediction logs as Kedro datasets: inference appends, monitoring reads a window.

Local files only (``flock``). ``path`` (not ``directory``): Kedro anchors a relative
``path`` at the project root, so a session opened from ``notebooks/`` reads and writes where
``kedro run`` does.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pandas as pd
from kedro.io import AbstractDataset, DatasetError

from future_skills_kedro.datasets.prediction_logs.files import DEFAULT_LOG_DIRECTORY, log_files
from future_skills_kedro.datasets.prediction_logs.reader import (
    PredictionLogRead,
    read_prediction_logs,
)
from future_skills_kedro.datasets.prediction_logs.writer import append_prediction_logs
from future_skills_kedro.prediction_log import flat_columns


class PredictionLogDataset(AbstractDataset[pd.DataFrame, pd.DataFrame]):
    """The daily log files: ``save`` appends a run all or nothing, ``load`` reads a window.

    ``save`` takes one flat record frame or an iterable of them (a run scored chunk by chunk;
    a node *returning* a generator hands it over whole, whereas a generator *node* would be
    saved chunk by chunk, each its own commit). It never overwrites.

    ``load`` returns the records of the configured window (``start``/``end``, or the last
    ``window_days`` UTC days including today) and ``purposes`` (default: all), with what the
    read found in ``frame.attrs``: ``files_read``, ``lines_read``, ``corrupt_lines``,
    ``corrupt_examples`` (dicts), ``excluded_by_purpose``. Catalog::

        prediction_log_batch:
          type: future_skills_kedro.datasets.PredictionLogDataset
          path: data/07_model_output/prediction_logs
    """

    def __init__(
        self,
        path: str = DEFAULT_LOG_DIRECTORY,
        *,
        start: Any = None,
        end: Any = None,
        window_days: int | None = None,
        purposes: Sequence[str] | None = None,
        fsync: bool = True,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        if window_days is not None and (start is not None or end is not None):
            raise ValueError("PredictionLogDataset: give either window_days or start/end")
        if window_days is not None and window_days < 1:
            raise ValueError("PredictionLogDataset: window_days must be at least 1")
        self._directory = Path(path)
        self._start = start
        self._end = end
        self._window_days = window_days
        self._purposes = None if purposes is None else list(purposes)
        self._fsync = fsync
        self.metadata = metadata

    def _window(self) -> tuple[Any, Any]:
        if self._window_days is None:
            return self._start, self._end
        # Resolved at load time, so a long-lived session keeps a current window.
        today = pd.Timestamp.now(tz="UTC").date()
        return today - timedelta(days=self._window_days - 1), None

    def load(self) -> pd.DataFrame:
        start, end = self._window()
        result = read_prediction_logs(self._directory, start, end, purposes=self._purposes)
        frame = result.frame
        frame.attrs["files_read"] = result.files_read
        frame.attrs["lines_read"] = result.lines_read
        frame.attrs["corrupt_lines"] = result.corrupt_lines
        frame.attrs["corrupt_examples"] = [asdict(example) for example in result.corrupt_examples]
        frame.attrs["excluded_by_purpose"] = result.excluded_by_purpose
        return frame

    def save(self, data: pd.DataFrame | Iterable[pd.DataFrame]) -> None:
        append_prediction_logs(data, self._directory, fsync=self._fsync)

    def _exists(self) -> bool:
        return bool(log_files(self._directory))

    def _describe(self) -> dict[str, Any]:
        return {
            "directory": str(self._directory),
            "start": self._start,
            "end": self._end,
            "window_days": self._window_days,
            "purposes": self._purposes,
        }


@dataclass(frozen=True)
class PredictionLogWindowReader:
    """Reads one window: ``reader.read(start, end, purposes=...)`` (both ends inclusive),
    returning ``columns`` (None: all) with ``text_as_category`` (see
    :func:`read_prediction_logs`)."""

    directory: Path
    columns: tuple[str, ...] | None = None
    text_as_category: bool = False

    def read(
        self, start: Any, end: Any, purposes: Sequence[str] | None = None
    ) -> PredictionLogRead:
        return read_prediction_logs(
            self.directory,
            start,
            end,
            purposes=purposes,
            columns=self.columns,
            text_as_category=self.text_as_category,
        )


class PredictionLogWindowDataset(AbstractDataset[None, PredictionLogWindowReader]):
    """Read-only: ``load`` hands over a :class:`PredictionLogWindowReader`.

    Monitoring's window comes from its parameters, which the catalog cannot see; so, like
    ``PartitionedDataset``'s load functions, the node calls the reader with them.
    ``columns`` (default: all) and ``text_as_category`` shape the frames it returns: a
    million-record window is read in a fraction of the memory when only the columns its
    reader uses are kept, repeated text as categoricals. Every line is checked whatever
    ``columns`` says, so corrupt lines are counted the same.
    """

    def __init__(
        self,
        path: str = DEFAULT_LOG_DIRECTORY,
        *,
        columns: Sequence[str] | None = None,
        text_as_category: bool = False,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        self._directory = Path(path)
        # Checked here: a misspelt column fails before a file is read.
        self._columns = None if columns is None else flat_columns(columns)
        self._text_as_category = text_as_category
        self.metadata = metadata

    def load(self) -> PredictionLogWindowReader:
        return PredictionLogWindowReader(self._directory, self._columns, self._text_as_category)

    def save(self, data: None) -> None:
        raise DatasetError(
            "PredictionLogWindowDataset is read-only: inference writes prediction logs."
        )

    def _exists(self) -> bool:
        return bool(log_files(self._directory))

    def _describe(self) -> dict[str, Any]:
        return {
            "directory": str(self._directory),
            "columns": self._columns,
            "text_as_category": self._text_as_category,
        }
