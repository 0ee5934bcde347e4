"""Fixtures for lifecycle tests: a real SQLite MLflow store, copied from one template.

Creating an MLflow SQLite store runs the schema migrations (~1-2 s); copying the migrated
file takes milliseconds, so every test still gets its own fresh, real store.
"""

from __future__ import annotations

import contextlib
import shutil
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest

MODEL_NAME = "future-skills-model"
EXPERIMENT = "lifecycle-tests"


@pytest.fixture(scope="session")
def template_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from mlflow import MlflowClient

    root = tmp_path_factory.mktemp("mlflow-template")
    client = MlflowClient(tracking_uri=f"sqlite:///{root / 'mlflow.db'}")
    client.create_experiment(EXPERIMENT, artifact_location=(root / "artifacts").as_uri())
    return root / "mlflow.db"


@pytest.fixture
def tracking_uri(template_store: Path, tmp_path: Path) -> str:
    db = tmp_path / "mlflow.db"
    shutil.copyfile(template_store, db)
    return f"sqlite:///{db}"


@pytest.fixture
def client(tracking_uri: str):
    from mlflow import MlflowClient

    return MlflowClient(tracking_uri=tracking_uri)


def register_version(client, model_name: str = MODEL_NAME, metric: float | None = None) -> int:
    """A real run with a small model artifact, registered as a new version; returns its number."""
    from mlflow.exceptions import MlflowException

    experiment = client.get_experiment_by_name(EXPERIMENT)
    run = client.create_run(experiment.experiment_id, run_name=f"train-{uuid.uuid4().hex[:6]}")
    run_id = run.info.run_id
    if metric is not None:
        client.log_metric(run_id, "macro_f1", metric)
    client.log_text(run_id, "artifact_path: model\nflavors: {}\n", "model/MLmodel")
    client.set_terminated(run_id)
    with contextlib.suppress(MlflowException):  # already registered
        client.create_registered_model(model_name)
    model_version = client.create_model_version(
        model_name, source=f"{run.info.artifact_uri}/model", run_id=run_id
    )
    return int(model_version.version)


@pytest.fixture
def register(client) -> Callable[..., int]:
    return lambda **kwargs: register_version(client, **kwargs)
