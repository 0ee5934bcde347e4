"""One real training run for all the inference integration tests (package scope).

The trained project is a template: each test works on its own clone (files, SQLite store,
artifacts), so runs never see each other's predictions, logs or MLflow runs.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import FAST_TRAINING_PARAMS, copy_project, mlflow_client, run_kedro

MODEL_NAME = "future-skills-model"
# Training takes ~1 min alone, several when the 2 cores are shared.
TRAINING_TIMEOUT_S = 1800


def assert_ok(result: subprocess.CompletedProcess) -> None:
    """A kedro run that succeeded, or its output tail in the failure message."""
    assert result.returncode == 0, (
        f"kedro exited {result.returncode}\n--- stdout ---\n{result.stdout[-6000:]}"
        f"\n--- stderr ---\n{result.stderr[-6000:]}"
    )


def clone_trained(template: Path, parent: Path) -> Path:
    """A copy of the trained project, with its store; the registered model's artifacts stay
    in the template (the store points at them by absolute path)."""
    target = parent / "project"
    shutil.copytree(template, target, ignore=shutil.ignore_patterns("__pycache__"))
    return target


@pytest.fixture(scope="package")
def trained_template(tmp_path_factory) -> Path:
    """The committed sample after `kedro run --pipelines training`: a champion exists."""
    project = copy_project(tmp_path_factory.mktemp("inference_trained"))
    result = run_kedro(
        project,
        "run",
        "--pipelines",
        "training",
        "--params",
        FAST_TRAINING_PARAMS,
        timeout=TRAINING_TIMEOUT_S,
    )
    assert_ok(result)
    champion = mlflow_client(project).get_model_version_by_alias(MODEL_NAME, "champion")
    assert champion.tags.get("semver")
    return project
