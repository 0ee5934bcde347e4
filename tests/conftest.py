"""Shared fixtures: a temporary copy of the project and a real `kedro` CLI runner."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
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
    "info.log*",
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


def run_python(
    script: str, *args: str, cwd: Path, env: dict[str, str], timeout: float = 300
) -> subprocess.CompletedProcess:
    """Run ``python -c script args...`` of this interpreter in a fresh process: a Kedro
    session's hooks set process-wide MLflow state that must not leak into the test process."""
    return subprocess.run(
        [sys.executable, "-c", script, *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=timeout,
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


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now, for a server under test."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_http(
    url: str, process: subprocess.Popen, name: str, log: Path | None = None, timeout_s: float = 120
) -> bytes:
    """Poll ``url`` until it answers 200 and return the body; fail, with the server's log,
    as soon as ``process`` exits or when ``timeout_s`` has passed."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"{name} exited {process.returncode}:\n{_tail(log)}")
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                if response.status == 200:
                    return response.read()
        except OSError:  # refused, reset or timed out while the server starts
            pass
        time.sleep(0.2)
    pytest.fail(f"{name} did not answer {url} within {timeout_s} s:\n{_tail(log)}")


def _tail(log: Path | None, chars: int = 4000) -> str:
    return log.read_text(errors="replace")[-chars:] if log and log.exists() else ""


# One SparkSession for every Spark test of the run (starting one takes ~10 s): local[2,2],
# two threads and a task tried twice (local mode's second number), so a task that fails once
# is retried as on a cluster. The settings are conf/spark/spark.yml's otherwise.
SPARK_TEST_MASTER = "local[2,2]"


@pytest.fixture(scope="session")
def spark():
    """The real SparkSession of the Spark tests (PySpark and Java are required in CI)."""
    import yaml

    from future_skills_kedro.spark.session import spark_settings, start_session, stop_session

    configured = yaml.safe_load((PROJECT_ROOT / "conf/spark/spark.yml").read_text())
    settings = spark_settings(
        configured,
        {"master": SPARK_TEST_MASTER, "sql": {"shuffle": {"partitions": 4}}},
    )
    session = start_session(settings)
    yield session
    stop_session()
