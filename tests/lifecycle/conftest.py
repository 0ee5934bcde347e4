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

from future_skills_kedro.lifecycle import CandidateFacts, VersionFacts

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


SCHEMA = [("job_role_name", "object"), ("trend_score", "float64")]


def candidate(version: int, f1: float, **changes) -> CandidateFacts:
    fact_fields = {"input_schema", "target_classes", "data_hash", "params_hash", "algorithm"}
    facts = VersionFacts(
        **{
            "input_schema": SCHEMA,
            "target_classes": ("HIGH", "LOW", "MEDIUM"),
            "data_hash": "data-q1",
            "params_hash": "params-a",
            "algorithm": "random_forest",
        }
        | {k: v for k, v in changes.items() if k in fact_fields}
    )
    others = {k: v for k, v in changes.items() if k not in fact_fields}
    return CandidateFacts(
        **{
            "facts": facts,
            "metrics": {"macro_f1": f1, "accuracy": 0.8},
            "version": version,
            "holdout_hash": "holdout-q1",
            "git_sha": "abc1234",
            "kedro_run_id": f"kedro-{version}",
        }
        | others
    )


# A registry as a few training runs leave it: v1 Archived, v2 champion, v3 challenger,
# v4 registered by a run but not decided yet.
HISTORY = {"archived": 1, "champion": 2, "challenger": 3, "undecided": 4}


@pytest.fixture(scope="session")
def history_template(template_store: Path, tmp_path_factory: pytest.TempPathFactory):
    """(store, audit file) holding HISTORY, built once; tests copy both."""
    from mlflow import MlflowClient

    from future_skills_kedro.lifecycle import AuditLog, ModelRegistry, PromotionPolicy
    from future_skills_kedro.lifecycle import apply_lifecycle as decide

    root = tmp_path_factory.mktemp("history-template")
    db = root / "mlflow.db"
    shutil.copyfile(template_store, db)
    client = MlflowClient(tracking_uri=f"sqlite:///{db}")
    registry, audit = ModelRegistry(client, MODEL_NAME), AuditLog(root / "model_versions.json")
    v1, v2, v3, v4 = (register_version(client) for _ in range(4))
    policy = PromotionPolicy()
    decide(registry, audit, candidate(v1, 0.60), policy)
    compared = {"evaluated_champion_version": v1, "champion_metrics": {"macro_f1": 0.60}}
    decide(registry, audit, candidate(v2, 0.70, params_hash="b", **compared), policy)
    compared = {"evaluated_champion_version": v2, "champion_metrics": {"macro_f1": 0.70}}
    decide(registry, audit, candidate(v3, 0.69, params_hash="c", **compared), policy)
    assert (v1, v2, v3, v4) == tuple(HISTORY.values())
    return db, audit.path


def copy_history(history_template, target: Path) -> tuple[str, Path]:
    """A private copy of the HISTORY store and audit file under ``target``."""
    db, audit_path = history_template
    target.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(db, target / "mlflow.db")
    audit_copy = target / "data" / "06_models" / "model_versions.json"
    audit_copy.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(audit_path, audit_copy)
    return f"sqlite:///{target / 'mlflow.db'}", audit_copy
