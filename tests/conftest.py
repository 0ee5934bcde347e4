"""Shared fixtures: a temporary copy of the project and a real `kedro` CLI runner."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[1]
# What a fresh clone holds: no run outputs, no MLflow store, no VCS metadata.
_COPY_IGNORE = shutil.ignore_patterns(
    ".git",
    ".venv",
    "__pycache__",
    "*.egg-info",
    ".pytest_cache",
    ".ruff_cache",
    "mlflow.db*",
    "mlruns",
    "mlartifacts",
    "benchmarks",
    "notebooks",
    "tests",
    "test-artifacts",
)
_OUTPUT_DIRS = (
    "02_intermediate",
    "03_primary",
    "04_feature",
    "05_model_input",
    "06_models",
    "07_model_output",
    "08_reporting",
)


# Real training runs with a smaller model: for tests that check plumbing, not model quality.
FAST_TRAINING_PARAMS = ",".join(
    [
        "training.model.hyperparameters.hist_gradient_boosting.max_iter=20",
        "training.permutation_importance.n_repeats=1",
        "training.permutation_importance.max_rows=1000",
    ]
)


def kedro_env(project: Path) -> dict[str, str]:
    """Environment of a subprocess run: no telemetry, an MLflow store inside the copy."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_")}
    env["KEDRO_DISABLE_TELEMETRY"] = "true"
    env["DO_NOT_TRACK"] = "1"
    env["MLFLOW_TRACKING_URI"] = f"sqlite:///{(project / 'mlflow.db').as_posix()}"
    env["PYTHONWARNINGS"] = "ignore::DeprecationWarning"
    env["COLUMNS"] = "1000"  # Kedro's rich console wraps messages at the terminal width
    return env


def run_kedro(
    project: Path, *args: str, env: dict[str, str] | None = None, timeout: float = 600
) -> subprocess.CompletedProcess:
    """Run the real `kedro` CLI of this interpreter's environment inside ``project``."""
    kedro = Path(sys.executable).with_name("kedro")
    return subprocess.run(
        [str(kedro), *args],
        cwd=project,
        env=env or kedro_env(project),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def copy_project(parent: Path) -> Path:
    """A fresh-clone-like copy of the project (committed raw sample, empty output layers)."""
    target = parent / "project"
    shutil.copytree(PROJECT_ROOT, target, ignore=_COPY_IGNORE)
    for layer in _OUTPUT_DIRS:
        layer_dir = target / "data" / layer
        shutil.rmtree(layer_dir, ignore_errors=True)
        layer_dir.mkdir(parents=True)
    return target


@pytest.fixture
def project_copy(tmp_path: Path) -> Path:
    """A fresh-clone-like copy of the project, per test."""
    return copy_project(tmp_path)
