"""The registry facts of ``models:/<name>@<alias>``: version number, semver, run, stage.

kedro-mlflow's ``MlflowModelRegistryDataset`` loads the model but says nothing about which
version it is; predictions and logs must carry it. This dataset asks the registry only (it
does not load the model a second time) and turns a missing alias into a clear message.
"""

from __future__ import annotations

from typing import Any

from kedro.io import AbstractDataset, DatasetError

# Error codes MLflow raises for an unknown registered model or alias (REST and SQL stores).
_ABSENT_CODES = ("RESOURCE_DOES_NOT_EXIST", "INVALID_PARAMETER_VALUE")


class NoChampionError(DatasetError):
    """The alias points at no version: there is no model to score with."""


class RegisteredModelVersionDataset(AbstractDataset[None, dict]):
    """Read-only: ``{"model_name", "alias", "version", "semver", "stage", "run_id", ...}``.

    Args:
        model_name: registered model name.
        alias: registry alias (``champion`` in production).
    """

    def __init__(
        self, model_name: str, alias: str = "champion", metadata: dict[str, Any] | None = None
    ) -> None:
        self._model_name = model_name
        self._alias = alias
        self.metadata = metadata

    def load(self) -> dict:
        import mlflow
        from mlflow.exceptions import MlflowException

        client = mlflow.MlflowClient()
        try:
            version = client.get_model_version_by_alias(self._model_name, self._alias)
        except MlflowException as exc:
            if exc.error_code not in _ABSENT_CODES:
                raise
            hint = (
                "Run `kedro run --pipelines training` first (it registers a model and makes "
                "the first good one the champion)."
            )
            if self._alias != "champion":
                hint += " `kedro models list` shows which aliases are set."
            raise NoChampionError(
                f"No '{self._alias}' version of registered model '{self._model_name}' in the "
                f"registry at {mlflow.get_tracking_uri()}: nothing to score with. {hint}"
            ) from exc
        return {
            "model_name": self._model_name,
            "alias": self._alias,
            "version": str(version.version),
            # A version registered outside the lifecycle hook has no semver tag.
            "semver": version.tags.get("semver") or "unknown",
            "stage": version.tags.get("stage"),
            "run_id": version.run_id,
            "model_uri": f"models:/{self._model_name}/{version.version}",
            "registered_at_ms": int(version.creation_timestamp),
        }

    def save(self, data: None) -> None:
        raise DatasetError("RegisteredModelVersionDataset is read-only: runs register models.")

    def _describe(self) -> dict[str, Any]:
        return {"model_name": self._model_name, "alias": self._alias}
