"""Where a Kedro session sends MLflow, whatever directory it is opened from."""

from __future__ import annotations

import socket
import subprocess
from pathlib import Path

import pytest
import yaml
from mlflow import MlflowClient

from tests.conftest import copy_project, kedro_env, mlflow_store, run_python

pytestmark = pytest.mark.integration

# What `kedro jupyter` / `%load_ext kedro.ipython` do: open a session on the project from
# wherever the user is (argv: project, Kedro environment or "").
OPEN_SESSION = """
import sys
import mlflow
from kedro.framework.session import KedroSession
from kedro.framework.startup import bootstrap_project
bootstrap_project(sys.argv[1])
with KedroSession.create(project_path=sys.argv[1], env=sys.argv[2] or None) as session:
    session.load_context()
print(mlflow.get_tracking_uri())
"""


def _open_session(
    project: Path, cwd: Path, env: dict[str, str], kedro_env_name: str = ""
) -> subprocess.CompletedProcess:
    return run_python(OPEN_SESSION, str(project), kedro_env_name, cwd=cwd, env=env)


def _port_is_open(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def test_a_session_from_notebooks_keeps_store_and_artifacts_at_the_project_root(tmp_path):
    project = copy_project(tmp_path)
    notebooks = project / "notebooks"
    notebooks.mkdir()
    env = kedro_env(project)
    del env["MLFLOW_TRACKING_URI"]  # the embedded default, as on a fresh clone

    result = _open_session(project, notebooks, env)

    assert result.returncode == 0, result.stderr[-4000:]
    uri = result.stdout.strip().splitlines()[-1]
    assert uri == f"sqlite:///{(project / 'mlflow.db').resolve().as_posix()}"
    client = MlflowClient(tracking_uri=uri)
    experiments = {e.name: e.artifact_location for e in client.search_experiments()}
    # Every experiment a pipeline logs to exists, its artifacts beside mlflow.db.
    assert {"Default", "model-training", "future-skills-prediction"} <= set(experiments)
    for name, location in experiments.items():
        assert location.startswith((project / "mlruns").resolve().as_posix()), (name, location)
    assert not (notebooks / "mlruns").exists()
    assert not (notebooks / "mlflow.db").exists()


def test_a_server_in_the_environment_is_used_and_checked(tmp_path):
    project = copy_project(tmp_path)
    env = kedro_env(project) | {"MLFLOW_TRACKING_URI": "http://127.0.0.1:9"}
    result = _open_session(project, project, env)
    assert result.returncode != 0
    assert "http://127.0.0.1:9 is unreachable" in result.stderr
    assert not (project / "mlflow.db").exists()


def test_the_production_environment_points_at_the_team_server(tmp_path):
    project = copy_project(tmp_path)
    env = kedro_env(project) | {"MLFLOW_TRACKING_URI": "http://127.0.0.1:9"}
    result = _open_session(project, project, env, "production")
    assert "http://127.0.0.1:9 is unreachable" in result.stderr

    if _port_is_open(5000):
        pytest.skip("something listens on 127.0.0.1:5000, the production default")
    del env["MLFLOW_TRACKING_URI"]
    result = _open_session(project, project, env, "production")
    assert "http://127.0.0.1:5000 is unreachable" in result.stderr  # conf/production's default
    assert not (project / "mlflow.db").exists()


# A notebook's kernel runs sessions one after another in one process (`%reload_kedro`, then
# `session.run(...)`); one node of a tracked pipeline (evaluation) is enough to start a run.
RUN_TWICE = """
import sys
import mlflow
from kedro.framework.session import KedroSession
from kedro.framework.startup import bootstrap_project
bootstrap_project(sys.argv[1])
for _ in range(2):
    with KedroSession.create(project_path=sys.argv[1]) as session:
        session.run(pipeline_names=["evaluation"], node_names=["data_engineering.validate_skills"])
    left = mlflow.active_run()
    print("active:", left.info.run_id if left else None)
"""


def test_each_session_run_in_one_process_is_its_own_finished_run(tmp_path):
    project = copy_project(tmp_path)
    result = run_python(RUN_TWICE, str(project), cwd=project, env=kedro_env(project))
    assert result.returncode == 0, result.stderr[-4000:]
    # kedro-mlflow re-enters the run before each node: nested re-entries (tracking.run.nested)
    # stayed on MLflow's stack after the run ended, and the next session logged into that
    # finished run, setting it RUNNING again.
    assert [line for line in result.stdout.splitlines() if line.startswith("active:")] == [
        "active: None",
        "active: None",
    ]
    client = MlflowClient(tracking_uri=kedro_env(project)["MLFLOW_TRACKING_URI"])
    experiments = yaml.safe_load((project / "conf/base/parameters.yml").read_text())
    experiment = client.get_experiment_by_name(experiments["mlflow_experiments"]["evaluation"])
    runs = client.search_runs([experiment.experiment_id])
    assert [run.info.status for run in runs] == ["FINISHED", "FINISHED"]


@pytest.fixture
def tracking_store(tmp_path):
    """A temporary SQLite store as this process's MLflow store; restored afterwards."""
    import mlflow

    uri = f"sqlite:///{(tmp_path / 'mlflow.db').as_posix()}"
    with mlflow_store(uri):
        try:
            yield MlflowClient(tracking_uri=uri)
        finally:
            while mlflow.active_run():
                mlflow.end_run()


def test_a_failed_run_ends_failed_whether_active_or_already_finished(tracking_store):
    import mlflow

    from future_skills_kedro.tracking import ERROR_TAG, end_run_as_failed

    # An explicit experiment: other in-process tests may leave another one active.
    experiment = tracking_store.create_experiment("failed-runs")
    # Ended FINISHED already (kedro-mlflow's after_pipeline_run), then a later hook failed.
    finished = mlflow.start_run(experiment_id=experiment).info.run_id
    mlflow.end_run()
    end_run_as_failed(finished, RuntimeError("decision failed"))
    run = tracking_store.get_run(finished)
    assert run.info.status == "FAILED"
    assert run.data.tags[ERROR_TAG] == "RuntimeError: decision failed"

    # Still active, entered once more per node as kedro-mlflow's before_node_run does: every
    # entry ends, so MLflow's exit handler has nothing left to end FINISHED.
    active = mlflow.start_run(experiment_id=experiment).info.run_id
    for _ in range(3):
        mlflow.start_run(run_id=active, nested=True)
    end_run_as_failed(active, ValueError("bad"))
    assert mlflow.active_run() is None
    assert tracking_store.get_run(active).info.status == "FAILED"


@pytest.mark.parametrize(
    ("configured_for", "env_value", "advice", "not_advised"),
    [
        (None, "http://127.0.0.1:9", "unset MLFLOW_TRACKING_URI to use the embedded", None),
        (
            "production",
            None,
            "Kedro environment 'production' (MLFLOW_TRACKING_URI is not set)",
            "unset MLFLOW_TRACKING_URI",
        ),
        (
            "production",
            "http://127.0.0.1:9",
            "taken from MLFLOW_TRACKING_URI",
            "unset MLFLOW_TRACKING_URI",
        ),
    ],
)
def test_an_unreachable_server_is_explained_for_where_its_address_came_from(
    monkeypatch, configured_for, env_value, advice, not_advised
):
    from future_skills_kedro.tracking import (
        TrackingServerUnreachable,
        ensure_tracking_server_reachable,
    )

    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    if env_value is not None:
        monkeypatch.setenv("MLFLOW_TRACKING_URI", env_value)
    with pytest.raises(TrackingServerUnreachable) as error:
        ensure_tracking_server_reachable("http://127.0.0.1:9", configured_for=configured_for)
    message = str(error.value)
    assert "http://127.0.0.1:9 is unreachable" in message
    assert advice in message
    if not_advised:
        assert not_advised not in message
