"""The champion's monitoring reference, read from its MLflow training run.

Drift is measured against the data the champion was *trained* on, saved with the model
version by the training pipeline, not against whatever model_input_table is on disk today.
"""

from __future__ import annotations

import json
import logging
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
from kedro.io import AbstractDataset, DatasetError

from future_skills_kedro.datasets.registered_model import version_by_alias

logger = logging.getLogger(__name__)

REFERENCE_FEATURES_ARTIFACT = "monitoring/reference_features.parquet"
HOLDOUT_PREDICTIONS_ARTIFACT = "evaluation/holdout_predictions.parquet"
FEATURE_IMPORTANCE_ARTIFACT = "evaluation/permutation_importance.csv"
PROBABILITY_CALIBRATION_ARTIFACT = "monitoring/probability_calibration.json"
DRIFT_CALIBRATION_ARTIFACT = "monitoring/drift_calibration.json"


@dataclass
class MonitoringReference:
    """What monitoring compares production with: one registered model version's evidence."""

    model_name: str
    version: str
    alias: str | None
    semver: str | None
    stage: str | None
    run_id: str | None
    created_at: str  # ISO 8601 UTC: when the version was registered (model age)
    features: pd.DataFrame  # training feature rows (keys + features), sampled by training
    holdout_predictions: pd.DataFrame | None = None  # labels, predictions, probabilities
    feature_importance: pd.DataFrame | None = None  # feature, importance_mean
    run_metrics: dict[str, float] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    # The holdout-fitted calibration (training's probability_calibration); None for a
    # champion trained before it existed: performance is then not estimated.
    probability_calibration: dict[str, Any] | None = None
    # Drift thresholds calibrated on the labelled history (training's drift_calibration);
    # None for a champion trained before it existed: configured thresholds are used.
    drift_calibration: dict[str, Any] | None = None


class MonitoringReferenceDataset(AbstractDataset[None, "MonitoringReference | None"]):
    """``models:/<name>@<alias>``'s training-run artifacts as a :class:`MonitoringReference`.

    Returns ``None`` when the alias is unset (no champion yet; the pipeline then reports
    ``no_data``), or raises a clear error with ``required: true``. A champion without the
    reference-features artifact (trained before it existed) is always an error: there is
    nothing sound to compare with. Holdout predictions, feature importance and the probability
    and drift calibrations are optional.

    Args:
        model_name: registered model name.
        alias: registry alias to monitor.
        required: raise instead of returning ``None`` when the alias is unset.
        cached: keep the first load's result (``None`` included: Kedro's ``CachedDataset``
            cannot hold it) until the dataset is released, which Kedro's runner does after
            the run's last reader. Several nodes then read one champion with one registry
            query, even if the alias moves during the run.
    """

    def __init__(
        self,
        model_name: str,
        alias: str = "champion",
        required: bool = False,
        *,
        reference_features_artifact: str = REFERENCE_FEATURES_ARTIFACT,
        holdout_predictions_artifact: str = HOLDOUT_PREDICTIONS_ARTIFACT,
        feature_importance_artifact: str = FEATURE_IMPORTANCE_ARTIFACT,
        probability_calibration_artifact: str = PROBABILITY_CALIBRATION_ARTIFACT,
        drift_calibration_artifact: str = DRIFT_CALIBRATION_ARTIFACT,
        cached: bool = False,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        self._model_name = model_name
        self._alias = alias
        self._required = required
        self._artifacts = {
            "features": reference_features_artifact,
            "holdout_predictions": holdout_predictions_artifact,
            "feature_importance": feature_importance_artifact,
            "probability_calibration": probability_calibration_artifact,
            "drift_calibration": drift_calibration_artifact,
        }
        self._cached = cached
        self._cache: tuple[MonitoringReference | None] | None = None
        self.metadata = metadata

    def load(self) -> MonitoringReference | None:
        if self._cache is not None:
            return self._cache[0]
        reference = self._load_from_registry()
        if self._cached:
            self._cache = (reference,)
        return reference

    def _release(self) -> None:
        self._cache = None

    def _load_from_registry(self) -> MonitoringReference | None:
        import mlflow

        version = version_by_alias(self._model_name, self._alias, self._required)
        if version is None:
            logger.warning(
                "monitoring reference: no '%s' version of registered model '%s' in the "
                "registry at %s: run `kedro run --pipelines training`.",
                self._alias,
                self._model_name,
                mlflow.get_tracking_uri(),
            )
            return None
        client = mlflow.MlflowClient()
        run = client.get_run(version.run_id) if version.run_id else None
        frames: dict[str, Any] = {}
        with tempfile.TemporaryDirectory(prefix="monitoring-reference-") as tmp:
            for name, artifact in self._artifacts.items():
                frames[name] = self._download(client, version, artifact, Path(tmp))
        if frames["features"] is None:
            raise DatasetError(
                f"'{self._model_name}' version {version.version} (run {version.run_id}) has no "
                f"artifact {self._artifacts['features']}: it was trained before monitoring "
                "references existed. Retrain with `kedro run --pipelines training`."
            )
        created = pd.Timestamp(int(version.creation_timestamp), unit="ms", tz="UTC")
        reference = MonitoringReference(
            model_name=self._model_name,
            version=str(version.version),
            alias=self._alias,
            semver=version.tags.get("semver"),
            stage=version.tags.get("stage"),
            run_id=version.run_id,
            created_at=created.isoformat().replace("+00:00", "Z"),
            features=frames["features"],
            holdout_predictions=frames["holdout_predictions"],
            feature_importance=frames["feature_importance"],
            probability_calibration=frames["probability_calibration"],
            drift_calibration=frames["drift_calibration"],
            run_metrics=dict(run.data.metrics) if run else {},
            tags=dict(version.tags),
        )
        logger.info(
            "monitoring reference: %s v%s (%s), %d training rows, %s holdout predictions",
            self._model_name,
            reference.version,
            reference.semver,
            len(reference.features),
            "no" if reference.holdout_predictions is None else len(reference.holdout_predictions),
        )
        return reference

    @staticmethod
    def _download(client, version, artifact: str, folder: Path) -> Any:
        """The artifact as a frame (a dict for JSON), or None when the run does not have it."""
        if not version.run_id:
            return None
        parent = str(Path(artifact).parent)
        listed = {item.path for item in client.list_artifacts(version.run_id, parent)}
        if artifact not in listed:
            return None
        local = client.download_artifacts(version.run_id, artifact, str(folder))
        if artifact.endswith(".parquet"):
            return pd.read_parquet(local)
        if artifact.endswith(".json"):
            return json.loads(Path(local).read_text(encoding="utf-8"))
        return pd.read_csv(local)

    def save(self, data: None) -> None:
        raise DatasetError("MonitoringReferenceDataset is read-only: training runs write it.")

    def _describe(self) -> dict[str, Any]:
        return {
            "model_name": self._model_name,
            "alias": self._alias,
            "cached": self._cached,
            **self._artifacts,
        }
