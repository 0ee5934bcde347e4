"""MonitoringReferenceDataset against a real MLflow store (SQLite, in tmp_path)."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from kedro.io import DatasetError

from future_skills_kedro.datasets.monitoring_reference import MonitoringReferenceDataset
from tests.conftest import mlflow_store
from tests.pipelines.monitoring import scenarios

MODEL = "future-skills-model"


@pytest.fixture
def client(tmp_path, monkeypatch):
    import mlflow

    uri = f"sqlite:///{(tmp_path / 'mlflow.db').as_posix()}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    with mlflow_store(uri):
        yield mlflow.MlflowClient()


DRIFT_CALIBRATION = {"schema_version": 1, "holdout_quarters": ["2025-06-30"], "features": {}}


def _register(
    client, tmp_path, *, with_reference=True, with_calibration=True, alias="champion"
) -> str:
    """A training-like run with the monitoring artifacts, registered and aliased."""
    import mlflow

    scenario = scenarios.stationary(seed=1)
    folder = tmp_path / "artifacts"
    (folder / "monitoring").mkdir(parents=True, exist_ok=True)
    (folder / "evaluation").mkdir(parents=True, exist_ok=True)
    scenario.reference.features.to_parquet(folder / "monitoring/reference_features.parquet")
    if with_calibration:
        (folder / "monitoring/probability_calibration.json").write_text(
            json.dumps(scenario.reference.probability_calibration)
        )
        (folder / "monitoring/drift_calibration.json").write_text(json.dumps(DRIFT_CALIBRATION))
    scenario.reference.holdout_predictions.to_parquet(
        folder / "evaluation/holdout_predictions.parquet"
    )
    scenarios.IMPORTANCE.to_csv(folder / "evaluation/permutation_importance.csv", index=False)
    (folder / "model").mkdir(exist_ok=True)
    (folder / "model" / "MLmodel").write_text("flavors: {}\n")

    experiment = mlflow.set_experiment("model-training")
    with mlflow.start_run(experiment_id=experiment.experiment_id) as run:
        if with_reference:
            mlflow.log_artifacts(str(folder / "monitoring"), "monitoring")
        mlflow.log_artifacts(str(folder / "evaluation"), "evaluation")
        mlflow.log_artifacts(str(folder / "model"), "model")
        mlflow.log_metric("holdout_metrics.macro_f1", 0.61)
    if not client.search_registered_models(f"name='{MODEL}'"):
        client.create_registered_model(MODEL)
    version = client.create_model_version(
        MODEL, source=f"{run.info.artifact_uri}/model", run_id=run.info.run_id
    )
    client.set_model_version_tag(MODEL, version.version, "semver", "1.0.0")
    client.set_model_version_tag(MODEL, version.version, "stage", "Production")
    if alias:
        client.set_registered_model_alias(MODEL, alias, version.version)
    return str(version.version)


def test_loads_the_champions_training_artifacts(client, tmp_path):
    version = _register(client, tmp_path)
    reference = MonitoringReferenceDataset(MODEL).load()
    expected = scenarios.stationary(seed=1).reference

    assert reference.version == version
    assert reference.semver == "1.0.0"
    assert reference.stage == "Production"
    assert reference.alias == "champion"
    assert reference.run_metrics == {"holdout_metrics.macro_f1": 0.61}
    pd.testing.assert_frame_equal(reference.features, expected.features)
    pd.testing.assert_frame_equal(
        reference.holdout_predictions, expected.holdout_predictions, check_dtype=False
    )
    assert reference.feature_importance["feature"].tolist()[:3] == [
        "trend_score",
        "internal_usage",
        "scarcity_index",
    ]
    assert reference.probability_calibration == expected.probability_calibration
    assert reference.drift_calibration == DRIFT_CALIBRATION
    created = pd.Timestamp(reference.created_at)
    assert created.tzinfo is not None
    assert abs(pd.Timestamp.now(tz="UTC") - created) < pd.Timedelta(minutes=10)


def test_no_champion_is_none_or_a_clear_error(client, tmp_path):
    assert MonitoringReferenceDataset(MODEL).load() is None  # not even registered
    _register(client, tmp_path, alias="challenger")
    assert MonitoringReferenceDataset(MODEL).load() is None  # registered, no champion
    with pytest.raises(DatasetError, match="No 'champion' version of registered model"):
        MonitoringReferenceDataset(MODEL, required=True).load()


def test_a_champion_without_reference_features_is_an_error(client, tmp_path):
    version = _register(client, tmp_path, with_reference=False)
    with pytest.raises(
        DatasetError, match=rf"version {version} .* has no artifact monitoring/reference_features"
    ):
        MonitoringReferenceDataset(MODEL).load()


def test_a_champion_without_calibration_loads_without_it(client, tmp_path):
    _register(client, tmp_path, with_calibration=False)
    reference = MonitoringReferenceDataset(MODEL).load()
    assert reference.probability_calibration is None
    assert reference.drift_calibration is None
    assert len(reference.features) > 0


def test_the_catalog_loads_the_champion_once_per_run(client, tmp_path):
    """conf/base caches the entry: the five nodes that read it get the champion of the run's
    first read (one registry query and download), even if the alias moved in between; a new
    run (a new catalog) sees the new champion. No champion is cached too (None)."""
    from kedro.config import OmegaConfigLoader
    from kedro.io import DataCatalog

    from tests.conftest import PROJECT_ROOT

    config = OmegaConfigLoader(str(PROJECT_ROOT / "conf"), base_env="base", default_run_env="base")
    entry = {"monitoring_reference": config["catalog"]["monitoring_reference"]}
    empty_run = DataCatalog.from_config(entry)
    assert empty_run.load("monitoring_reference") is None
    first = _register(client, tmp_path)
    run = DataCatalog.from_config(entry)
    assert empty_run.load("monitoring_reference") is None

    assert run.load("monitoring_reference").version == first
    second = _register(client, tmp_path / "second")  # the alias moves mid-run
    assert run.load("monitoring_reference").version == first
    assert DataCatalog.from_config(entry).load("monitoring_reference").version == second


def test_a_released_cache_reads_the_registry_again(client, tmp_path):
    dataset = MonitoringReferenceDataset(MODEL, cached=True)
    first = _register(client, tmp_path)
    assert dataset.load().version == first
    second = _register(client, tmp_path / "second")
    assert dataset.load().version == first

    dataset.release()  # what Kedro's runner does after the run's last reader

    assert dataset.load().version == second
    assert MonitoringReferenceDataset(MODEL).load().version == second  # not cached: current
