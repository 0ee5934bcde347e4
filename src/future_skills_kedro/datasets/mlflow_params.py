"""Log a flat dict as MLflow params of the active run (kedro-mlflow only logs node parameters)."""

from __future__ import annotations

from typing import Any

from kedro.io import AbstractDataset, DatasetError

# MLflow rejects param values longer than this.
_MAX_PARAM_LENGTH = 6000


class MlflowParamsDataset(AbstractDataset[dict, dict]):
    """Save: ``mlflow.log_params`` on the active run, with an optional key prefix. Write-only."""

    def __init__(self, prefix: str = "", metadata: dict[str, Any] | None = None) -> None:
        self._prefix = prefix
        self.metadata = metadata
        self._last_saved: dict | None = None

    def save(self, data: dict) -> None:
        import mlflow

        params = {
            f"{self._prefix}{key}": str(value)[:_MAX_PARAM_LENGTH] for key, value in data.items()
        }
        if mlflow.active_run() is not None:
            mlflow.log_params(params)
        self._last_saved = dict(data)

    def load(self) -> dict:
        if self._last_saved is None:
            raise DatasetError("MlflowParamsDataset holds nothing yet: it is written by a node.")
        return self._last_saved

    def _exists(self) -> bool:
        return self._last_saved is not None

    def _describe(self) -> dict[str, Any]:
        return {"prefix": self._prefix}
