"""Load a registered model version by alias, tolerating its absence.

kedro-mlflow's ``MlflowModelRegistryDataset`` raises when the alias does not exist yet; a
training run must instead learn that there is no champion and say so.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from kedro.io import AbstractDataset, DatasetError


@dataclass
class RegisteredModel:
    """A loaded pyfunc model and where it came from in the registry."""

    model: Any
    name: str
    version: str
    alias: str | None
    semver: str | None
    run_id: str | None
    tags: dict[str, str]
    run_params: dict[str, str]
    run_metrics: dict[str, float]

    @property
    def uri(self) -> str:
        return f"models:/{self.name}/{self.version}"


class RegisteredModelDataset(AbstractDataset[None, "RegisteredModel | None"]):
    """``models:/<name>@<alias>`` as a ``RegisteredModel``, or ``None`` when the alias is unset.

    Args:
        model_name: registered model name.
        alias: registry alias, e.g. ``champion`` or ``challenger``.
        required: raise a clear error instead of returning ``None`` when the alias is unset.
    """

    def __init__(
        self,
        model_name: str,
        alias: str = "champion",
        required: bool = False,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        self._model_name = model_name
        self._alias = alias
        self._required = required
        self.metadata = metadata

    def load(self) -> RegisteredModel | None:
        import mlflow
        from mlflow.exceptions import MlflowException

        client = mlflow.MlflowClient()
        try:
            version = client.get_model_version_by_alias(self._model_name, self._alias)
        except MlflowException as exc:
            if exc.error_code not in ("RESOURCE_DOES_NOT_EXIST", "INVALID_PARAMETER_VALUE"):
                raise
            if self._required:
                raise DatasetError(
                    f"No '{self._alias}' version of registered model '{self._model_name}' in "
                    f"the registry at {mlflow.get_tracking_uri()}. Run "
                    "`kedro run --pipelines training` first."
                ) from exc
            return None
        model = mlflow.pyfunc.load_model(f"models:/{self._model_name}/{version.version}")
        run = client.get_run(version.run_id) if version.run_id else None
        return RegisteredModel(
            model=model,
            name=self._model_name,
            version=str(version.version),
            alias=self._alias,
            semver=version.tags.get("semver"),
            run_id=version.run_id,
            tags=dict(version.tags),
            run_params=dict(run.data.params) if run else {},
            run_metrics=dict(run.data.metrics) if run else {},
        )

    def save(self, data: None) -> None:
        raise DatasetError("RegisteredModelDataset is read-only: models are registered by runs.")

    def _describe(self) -> dict[str, Any]:
        return {"model_name": self._model_name, "alias": self._alias}
