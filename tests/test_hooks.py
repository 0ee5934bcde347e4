"""The project hooks through the real `kedro` CLI: parameters checked before any work, and a
failed run's MLflow run FAILED, never FINISHED (real SQLite store in a project copy)."""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from mlflow.entities import Run

from tests.conftest import FAST_TRAINING_PARAMS, mlflow_client, run_kedro

pytestmark = pytest.mark.integration

MODEL_NAME = "future-skills-model"
OUTPUT_LAYERS = ("02_intermediate", "05_model_input", "06_models", "07_model_output")


def _runs(project: Path) -> list[Run]:
    if not (project / "mlflow.db").exists():
        return []
    client = mlflow_client(project)
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
    assert mlflow_client(project_copy).search_model_versions(f"name='{MODEL_NAME}'") == []


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


@contextmanager
def _held_lock(path: Path) -> Iterator[None]:
    """Hold the lifecycle decision lock, as a concurrent decision would."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def _only_run_failed(project: Path, error_start: str) -> Run:
    runs = _runs(project)
    assert [run.info.status for run in runs] == ["FAILED"], [r.info.status for r in runs]
    assert runs[0].data.tags["error"].startswith(error_start), runs[0].data.tags.get("error")
    return runs[0]


# A hook that fails after kedro-mlflow has ended the run FINISHED (trylast), as the lifecycle
# decision would on a registry outage. Injected into the copy's settings.py: the copy's src/
# is what `kedro` imports there.
_FAILING_HOOK = """

from kedro.framework.hooks import hook_impl


class _FailAfterPipeline:
    @hook_impl(trylast=True)
    def after_pipeline_run(self, run_params, pipeline, catalog):
        raise RuntimeError("injected failure after the pipeline")


HOOKS = (*HOOKS, _FailAfterPipeline())
"""


def test_a_hook_failing_after_the_pipeline_leaves_the_run_failed(project_copy):
    settings = project_copy / "src/future_skills_kedro/settings.py"
    settings.write_text(settings.read_text() + _FAILING_HOOK)
    result = _train(project_copy, FAST_TRAINING_PARAMS)
    assert result.returncode == 1, result.stdout[-2000:] + result.stderr[-3000:]
    assert "injected failure after the pipeline" in result.stderr
    run = _only_run_failed(project_copy, "RuntimeError: injected failure after the pipeline")
    (version,) = mlflow_client(project_copy).search_model_versions(f"name='{MODEL_NAME}'")
    assert version.run_id == run.info.run_id


def test_a_decision_that_times_out_on_the_lock_leaves_the_run_failed(project_copy):
    # The lifecycle decision (after_pipeline_run, after kedro-mlflow ended the run) times out.
    with _held_lock(project_copy / "data/06_models/model_versions.json.lock"):
        result = _train(project_copy, f"{FAST_TRAINING_PARAMS},lifecycle.lock_timeout_s=1")
    assert result.returncode == 1, result.stdout[-2000:] + result.stderr[-3000:]
    run = _only_run_failed(project_copy, "LockTimeout: could not lock")
    (version,) = mlflow_client(project_copy).search_model_versions(f"name='{MODEL_NAME}'")
    assert version.run_id == run.info.run_id
    assert version.tags["stage"] == "Development"  # registered, never promoted


def test_a_corrupt_audit_file_leaves_no_finished_run(project_copy):
    audit = project_copy / "data/06_models/model_versions.json"
    audit.write_text('{"model_name": "future-skills-model", "versions": [')
    result = _train(project_copy, FAST_TRAINING_PARAMS)
    assert result.returncode != 0
    assert "model_versions.json" in result.stdout + result.stderr
    # Caught by the pre-flight check, before kedro-mlflow starts a run: no run at all.
    assert _runs(project_copy) == []
    assert mlflow_client(project_copy).search_model_versions(f"name='{MODEL_NAME}'") == []
    assert audit.read_text() == '{"model_name": "future-skills-model", "versions": ['
