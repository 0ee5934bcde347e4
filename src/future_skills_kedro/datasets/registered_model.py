"""Registered models: a version by alias tolerating its absence, its registry facts, and the
scoring model with a fast environment check.

kedro-mlflow's ``MlflowModelRegistryDataset`` raises when the alias does not exist yet; a
training run must instead learn that there is no champion and say so.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kedro.io import AbstractDataset, DatasetError
from kedro_mlflow.io.models import MlflowModelRegistryDataset

from future_skills_kedro.model_requirements import environment_warnings

logger = logging.getLogger(__name__)


class NoChampionError(DatasetError):
    """The alias points at no version: there is no model to use."""


def version_by_alias(model_name: str, alias: str, required: bool):
    """The registry's ``ModelVersion`` behind ``models:/<name>@<alias>``.

    ``None`` when the alias is unset, or ``NoChampionError`` telling what to run if
    ``required``.
    """
    import mlflow
    from mlflow.exceptions import MlflowException

    from future_skills_kedro.lifecycle import ModelRegistry

    client = mlflow.MlflowClient()
    try:
        return client.get_model_version_by_alias(model_name, alias)
    except MlflowException as exc:
        # Stores say "no such alias" differently (400 over SQL, 404 over REST, 403 from a
        # server with basic auth while the model does not exist): the lifecycle's registry
        # adapter confirms absence from the registered model itself, as for every alias read.
        if alias in ModelRegistry(client, model_name).alias_map():
            raise
        if not required:
            return None
        hint = "Run `kedro run --pipelines training` first."
        if alias != "champion":
            hint += " `kedro models list` shows which aliases are set."
        raise NoChampionError(
            f"No '{alias}' version of registered model '{model_name}' in the registry at "
            f"{mlflow.get_tracking_uri()}. {hint}"
        ) from exc


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

        version = version_by_alias(self._model_name, self._alias, self._required)
        if version is None:
            return None
        client = mlflow.MlflowClient()
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

    def _exists(self) -> bool:
        return version_by_alias(self._model_name, self._alias, required=False) is not None

    def _describe(self) -> dict[str, Any]:
        return {"model_name": self._model_name, "alias": self._alias}


class RegisteredModelVersionDataset(AbstractDataset[None, dict]):
    """The registry facts of ``models:/<name>@<alias>``, without loading the model.

    kedro-mlflow's ``MlflowModelRegistryDataset`` loads the model but says nothing about which
    version it is; predictions and logs must carry it. Read-only; a missing alias raises
    ``NoChampionError`` with what to run.
    """

    def __init__(
        self, model_name: str, alias: str = "champion", metadata: dict[str, Any] | None = None
    ) -> None:
        self._model_name = model_name
        self._alias = alias
        self.metadata = metadata

    def load(self) -> dict:
        version = version_by_alias(self._model_name, self._alias, required=True)
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

    def _exists(self) -> bool:
        return version_by_alias(self._model_name, self._alias, required=False) is not None

    def _describe(self) -> dict[str, Any]:
        return {"model_name": self._model_name, "alias": self._alias}


class ScoringModelDataset(MlflowModelRegistryDataset):
    """kedro-mlflow's ``MlflowModelRegistryDataset``, with the environment checked by name.

    The model loads with ``suppress_warnings`` and the same warnings (unmet requirements, a
    different Python minor version) are logged from
    :func:`future_skills_kedro.model_requirements.environment_warnings`: MLflow's own check
    costs 1.3 s of every scoring run here, this one 0.02 s (the module says why). With
    ``load_args: {suppress_warnings: true}`` no check runs at all, as with MLflow.
    """

    def __init__(self, model_name: str, *, load_args: dict[str, Any] | None = None, **kwargs):
        self._check_environment = not (load_args or {}).get("suppress_warnings", False)
        super().__init__(
            model_name, load_args={**(load_args or {}), "suppress_warnings": True}, **kwargs
        )

    def _load(self) -> Any:
        model = super()._load()
        if self._check_environment:
            flavor = model.metadata.flavors.get("python_function", {})
            lines = self._requirement_lines()
            for warning in environment_warnings(lines, flavor.get("python_version")):
                logger.warning(warning)
        return model

    def _requirement_lines(self) -> list[str]:
        """The model's requirements.txt; none when it has no such file, as MLflow reads it."""
        import mlflow
        from mlflow.exceptions import MlflowException

        uri = f"{self.model_uri}/requirements.txt"
        try:
            return Path(mlflow.artifacts.download_artifacts(uri)).read_text().splitlines()
        except (MlflowException, OSError):
            return []
