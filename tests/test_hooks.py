"""The project hooks through the real `kedro` CLI: parameters checked before any work (real
SQLite store in a project copy)."""

from __future__ import annotations

from pathlib import Path

import pytest
from mlflow import MlflowClient
from mlflow.entities import Run

from tests.conftest import FAST_TRAINING_PARAMS, run_kedro

pytestmark = pytest.mark.integration

MODEL_NAME = "future-skills-model"
OUTPUT_LAYERS = ("02_intermediate", "05_model_input", "06_models", "07_model_output")


def _client(project: Path) -> MlflowClient:
    uri = f"sqlite:///{(project / 'mlflow.db').as_posix()}"
    return MlflowClient(tracking_uri=uri, registry_uri=uri)


def _runs(project: Path) -> list[Run]:
    if not (project / "mlflow.db").exists():
        return []
    client = _client(project)
    experiments = [e.experiment_id for e in client.search_experiments()]
    return client.search_runs(experiments) if experiments else []


def _train(project: Path, params: str):
    return run_kedro(project, "run", "--pipelines", "training", "--params", params)


def _outputs(project: Path) -> list[Path]:
    return [path for layer in OUTPUT_LAYERS for path in (project / "data" / layer).rglob("*")]


@pytest.mark.parametrize(
    ("override", "message"),
    [
        (
            "lifecycle.promotion.threshold=abc",
            "Error: lifecycle.promotion.threshold = 'abc': expected a number >= 0",
        ),
        (
            "lifecycle.promotion.metric=macro_f2",
            "Error: lifecycle.promotion.metric = 'macro_f2': expected a metric the training run "
            "computes (did you mean macro_f1?): one of accuracy, macro_precision,",
        ),
    ],
)
def test_an_invalid_parameter_stops_kedro_run_before_any_work(project_copy, override, message):
    result = _train(project_copy, f"{FAST_TRAINING_PARAMS},{override}")
    assert result.returncode == 2, result.stdout[-2000:] + result.stderr[-3000:]
    last_line = result.stderr.strip().splitlines()[-1]
    assert last_line.startswith(message), result.stderr[-3000:]
    assert "Traceback" not in result.stderr
    # Before any work: no node ran, no MLflow run was started, nothing was registered.
    assert _outputs(project_copy) == []
    assert _runs(project_copy) == []
    assert _client(project_copy).search_model_versions(f"name='{MODEL_NAME}'") == []


def test_kedro_models_names_an_invalid_lifecycle_parameter(project_copy):
    parameters = project_copy / "conf/base/parameters_lifecycle.yml"
    text = parameters.read_text()
    assert "    threshold: 0.01\n" in text
    parameters.write_text(text.replace("    threshold: 0.01\n", "    threshold: abc\n"))
    result = run_kedro(project_copy, "models", "list")
    assert result.returncode != 0
    assert result.stderr.strip().splitlines()[-1] == (
        "Error: lifecycle.promotion.threshold = 'abc': expected a number >= 0"
    )
