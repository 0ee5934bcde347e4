"""The scoring model dataset on a real MLflow registry (temporary SQLite store)."""

from __future__ import annotations

import logging
from importlib.metadata import version
from pathlib import Path

import mlflow
import pandas as pd
import pytest

from future_skills_kedro.datasets.registered_model import ScoringModelDataset
from tests.conftest import mlflow_store

MODEL_NAME = "scoring-model-under-test"
WITHOUT_REQUIREMENTS = "scoring-model-without-requirements"


class _Doubling(mlflow.pyfunc.PythonModel):
    def predict(self, context, model_input: pd.DataFrame, params=None) -> pd.DataFrame:
        return model_input * 2


@pytest.fixture(scope="module")
def registry(tmp_path_factory):
    """A champion whose requirements.txt pins a numpy this environment does not have, and a
    model whose requirements.txt was removed from the store."""
    tmp_path = tmp_path_factory.mktemp("registry")
    with mlflow_store(f"sqlite:///{(tmp_path / 'mlflow.db').as_posix()}"):
        client = mlflow.MlflowClient()
        experiment = client.create_experiment("models", artifact_location=str(tmp_path / "mlruns"))
        for name in (MODEL_NAME, WITHOUT_REQUIREMENTS):
            with mlflow.start_run(experiment_id=experiment):
                mlflow.pyfunc.log_model(
                    name="model",
                    python_model=_Doubling(),
                    pip_requirements=["numpy==0.0.1", f"pandas=={version('pandas')}"],
                    registered_model_name=name,
                )
            client.set_registered_model_alias(name, "champion", "1")
        # a local store: the path returned is the artifact itself
        Path(
            mlflow.artifacts.download_artifacts(
                f"models:/{WITHOUT_REQUIREMENTS}@champion/requirements.txt"
            )
        ).unlink()
        yield


def _environment_warnings(caplog) -> list[str]:
    return [
        record.getMessage()
        for record in caplog.records
        if record.levelno == logging.WARNING and "mismatches" in record.getMessage()
    ]


def test_the_model_loads_and_an_unmet_requirement_is_warned_about_without_mlflows_check(
    registry, caplog, monkeypatch
):
    def slow_check(requirements):
        raise AssertionError("MLflow's own requirement check ran")

    monkeypatch.setattr(mlflow.pyfunc, "warn_dependency_requirement_mismatches", slow_check)
    with caplog.at_level(logging.WARNING):
        model = ScoringModelDataset(MODEL_NAME, alias="champion").load()

    assert model.predict(pd.DataFrame({"x": [1.0, 2.5]}))["x"].tolist() == [2.0, 5.0]
    (warning,) = _environment_warnings(caplog)
    assert f"numpy (current: {version('numpy')}, required: numpy==0.0.1)" in warning
    assert "pandas" not in warning.split("Python environment:")[1].split("To fix")[0]


def test_suppress_warnings_in_load_args_skips_the_check_as_mlflow_does(registry, caplog):
    dataset = ScoringModelDataset(
        MODEL_NAME, alias="champion", load_args={"suppress_warnings": True}
    )
    with caplog.at_level(logging.WARNING):
        dataset.load()
    assert _environment_warnings(caplog) == []


def test_a_model_without_requirements_txt_loads_with_nothing_to_warn_about(registry, caplog):
    with caplog.at_level(logging.WARNING):
        model = ScoringModelDataset(WITHOUT_REQUIREMENTS, alias="champion").load()
    assert model.predict(pd.DataFrame({"x": [3.0]}))["x"].tolist() == [6.0]
    assert _environment_warnings(caplog) == []
