"""README "Team setup" for real: PostgreSQL, an `mlflow server` with basic auth, several users.

Debian's PostgreSQL holds runs, registry and users; the server proxies artifacts. A data
scientist trains with credentials from conf/local/credentials.yml and MLFLOW_TRACKING_URI; the
scheduler's account scores and monitors with `--env production` and credentials from the
environment. Both servers stop at the end of the module, also when a test fails.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pandas as pd
import pytest
from mlflow import MlflowClient
from mlflow.server.auth.client import AuthServiceClient

from tests.conftest import (
    FAST_TRAINING_PARAMS,
    WEAK_TRAINING_PARAMS,
    copy_project,
    kedro_env,
    run_kedro,
)
from tests.team_servers import mlflow_server, postgres_bin_dir, postgres_server

pytestmark = [pytest.mark.integration, pytest.mark.team]

MODEL_NAME = "future-skills-model"
WEAK = WEAK_TRAINING_PARAMS
DECISION = re.compile(rf"^{MODEL_NAME} v\d+ = .*$", re.MULTILINE)

if postgres_bin_dir() is None or (os.geteuid() == 0 and shutil.which("runuser") is None):
    # .ci/run installs postgresql: never skip there.
    if os.environ.get("CI"):
        raise RuntimeError("CI must run the team-setup tests: apt-get install postgresql")
    pytest.skip("PostgreSQL is not installed (apt-get install postgresql)", allow_module_level=True)


class Team:
    """The servers, the two accounts and the two project checkouts under test."""

    def __init__(self, server, project: Path, sqlite_project: Path) -> None:
        self.server = server
        self.project = project
        self.sqlite_project = sqlite_project
        self.trainer = ("alice", secrets.token_urlsafe(18))
        self.second_trainer = ("bob", secrets.token_urlsafe(18))
        self.scheduler = ("batch_scheduler", secrets.token_urlsafe(18))

    def use_local_credentials(self, user: tuple[str, str]) -> None:
        """A data scientist's machine: credentials in conf/local (git-ignored)."""
        (self.project / "conf/local/credentials.yml").write_text(
            "mlflow_tracking:\n"
            f"  MLFLOW_TRACKING_USERNAME: {user[0]}\n"
            f"  MLFLOW_TRACKING_PASSWORD: {user[1]}\n"
        )

    def env(self, user: tuple[str, str] | None = None) -> dict[str, str]:
        """A machine pointed at the server; credentials in the environment when given."""
        env = kedro_env(self.project)
        env["MLFLOW_TRACKING_URI"] = self.server.url
        if user:
            env["MLFLOW_TRACKING_USERNAME"], env["MLFLOW_TRACKING_PASSWORD"] = user
        return env

    def client(self) -> MlflowClient:
        os.environ["MLFLOW_TRACKING_USERNAME"] = self.server.admin_user
        os.environ["MLFLOW_TRACKING_PASSWORD"] = self.server.admin_password
        return MlflowClient(tracking_uri=self.server.url, registry_uri=self.server.url)


@pytest.fixture(scope="module")
def team(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("team")
    saved = {k: v for k, v in os.environ.items() if k.startswith("MLFLOW_TRACKING_")}
    with (
        postgres_server(secrets.token_urlsafe(18), ("mlflow", "mlflow_auth")) as postgres,
        mlflow_server(postgres, workdir / "server", secrets.token_urlsafe(18)) as server,
    ):
        project = copy_project(workdir / "server-checkout")
        sqlite_project = copy_project(workdir / "sqlite-checkout")
        team = Team(server, project, sqlite_project)
        os.environ["MLFLOW_TRACKING_USERNAME"] = server.admin_user
        os.environ["MLFLOW_TRACKING_PASSWORD"] = server.admin_password
        admin = AuthServiceClient(server.url)
        for name, password in (team.trainer, team.second_trainer, team.scheduler):
            admin.create_user(name, password)
        # docs/team-setup.md: the people who train share a role: they log runs in every
        # experiment and manage the registered model (the lifecycle hook moves its aliases).
        trainers = admin.create_role("default", "trainers", "train and promote the model")
        admin.add_role_permission(trainers.id, "experiment", "*", "EDIT")
        admin.add_role_permission(trainers.id, "registered_model", MODEL_NAME, "MANAGE")
        for name, _ in (team.trainer, team.second_trainer):
            admin.assign_role(name, trainers.id)
        team.use_local_credentials(team.trainer)
        try:
            yield team
        finally:
            for name in ("MLFLOW_TRACKING_USERNAME", "MLFLOW_TRACKING_PASSWORD"):
                os.environ.pop(name, None)
            os.environ.update(saved)
            print(server.log()[-3000:])  # shown by pytest when a test failed


def _ok(result: subprocess.CompletedProcess) -> str:
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-6000:]
    return result.stdout + result.stderr


def _decisions(output: str) -> list[str]:
    return DECISION.findall(output)


def test_the_server_runs_without_mlflows_job_runner(team):
    # docs/team-setup.md: MLFLOW_SERVER_ENABLE_JOB_EXECUTION=false, no Huey consumers.
    commands = team.server.commands()
    assert any("uvicorn" in line for line in commands), commands  # the server's worker
    assert not [line for line in commands if "mlflow.server.jobs" in line], commands


def test_a_run_without_credentials_is_refused_before_training(team):
    (team.project / "conf/local/credentials.yml").rename(team.project / "credentials.away")
    try:
        result = run_kedro(team.project, "run", "--pipelines", "training", env=team.env())
    finally:
        (team.project / "credentials.away").rename(team.project / "conf/local/credentials.yml")
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "401" in output and "not authenticated" in output
    assert not (team.project / "data/05_model_input/model_input_table.parquet").exists()


def test_two_training_runs_are_promoted_as_on_sqlite(team):
    server_lines, sqlite_lines = [], []
    for params, user in ((WEAK, team.trainer), (FAST_TRAINING_PARAMS, team.second_trainer)):
        # Each data scientist's conf/local/credentials.yml; the same two runs on SQLite in
        # another checkout, at the same time (they share nothing).
        team.use_local_credentials(user)
        with ThreadPoolExecutor(max_workers=2) as pool:
            on_server = pool.submit(
                run_kedro, team.project, "run", "--pipelines", "training", "--params", params,
                env=team.env(),
            )  # fmt: skip
            on_sqlite = pool.submit(
                run_kedro, team.sqlite_project, "run", "--pipelines", "training", "--params",
                params,
            )  # fmt: skip
            server_lines += _decisions(_ok(on_server.result()))
            sqlite_lines += _decisions(_ok(on_sqlite.result()))

    assert len(server_lines) == 2
    assert server_lines == sqlite_lines  # same versions, outcomes, metrics and reasons
    assert server_lines[0].startswith(f"{MODEL_NAME} v1 = 1.0.0 -> champion")
    assert server_lines[1].startswith(f"{MODEL_NAME} v2 = 1.1.0 -> champion")

    client = team.client()
    v1 = client.get_model_version(MODEL_NAME, "1")
    v2 = client.get_model_version(MODEL_NAME, "2")
    assert (v1.tags["semver"], v1.tags["stage"]) == ("1.0.0", "Archived")
    assert (v2.tags["semver"], v2.tags["stage"]) == ("1.1.0", "Production")
    # Two people: the second one's version was promoted over the first one's.
    assert client.get_run(v1.run_id).info.user_id == team.trainer[0]
    assert client.get_run(v2.run_id).info.user_id == team.second_trainer[0]
    assert client.get_model_version_by_alias(MODEL_NAME, "champion").version == "2"
    # Runs, registry and artifacts live on the server, nothing in the checkout.
    assert client.get_run(v2.run_id).info.artifact_uri.startswith("mlflow-artifacts:")
    assert any((Path(team.server.log_path).parent / "artifacts").rglob("MLmodel"))
    assert not (team.project / "mlflow.db").exists()
    assert not (team.project / "mlruns").exists()
    audit = json.loads((team.project / "data/06_models/model_versions.json").read_text())
    actions = [event["action"] for event in audit["events"]]
    assert actions.count("register") == 2
    assert actions[-2:] == ["promote", "archive"]  # v2 promoted, then v1 archived


def test_models_list_through_the_server(team):
    out = _ok(
        run_kedro(team.project, "models", "--env", "production", "list",
                  env=team.env(team.scheduler))
    )  # fmt: skip
    rows = {line.split()[0]: line.split() for line in out.splitlines() if line[:2] in ("v1", "v2")}
    assert rows["v1"][1:3] == ["1.0.0", "Archived"]
    assert rows["v2"][1:4] == ["1.1.0", "Production", "champion"]


def test_inference_loads_the_champion_through_the_server(team):
    _ok(
        run_kedro(team.project, "run", "--env", "production", "--pipelines", "inference",
                  env=team.env(team.scheduler))
    )  # fmt: skip
    predictions = pd.read_parquet(team.project / "data/07_model_output/predictions.parquet")
    assert len(predictions) > 0
    assert set(predictions["model_version"]) == {"2"}
    assert set(predictions["model_semver"]) == {"1.1.0"}
    client = team.client()
    runs = client.search_runs(
        [client.get_experiment_by_name("future-skills-prediction").experiment_id]
    )
    assert len(runs) == 1 and runs[0].info.status == "FINISHED"
    assert runs[0].info.user_id == team.scheduler[0]


def test_monitoring_runs_through_the_server(team):
    _ok(
        run_kedro(team.project, "run", "--env", "production", "--pipelines", "monitoring",
                  "--params", "monitoring.exit_policy.fail_on=never",
                  env=team.env(team.scheduler))
    )  # fmt: skip
    summary = json.loads(
        (team.project / "data/08_reporting/monitoring/monitoring_summary.json").read_text()
    )
    assert summary["status"] in {"healthy", "degraded", "unhealthy"}
    assert summary["reference"]["version"] == "2"  # the champion's reference, from the server
    assert summary["window"]["predictions"] > 0
    # The champion's probability calibration came through the server with its reference.
    assert summary["performance_estimate"]["calibration"]["model_version"] == "2"
    assert summary["performance_estimate"]["estimated"]["macro_f1"] > 0
    client = team.client()
    experiment = client.get_experiment_by_name("production-monitoring")
    (run,) = client.search_runs([experiment.experiment_id])
    assert run.data.metrics, "monitoring metrics are logged to the server"
    assert not (team.project / "mlflow.db").exists()


def test_prune_through_the_server_deletes_the_former_champion_only(team):
    """Last: it deletes v1. Deleting proxied artifacts needs MANAGE on the experiment, which
    the trainers' role does not have: the admin (or a maintainer role) prunes."""
    admin = (team.server.admin_user, team.server.admin_password)
    prune = ("models", "--env", "production", "prune", "--keep-last", "0", "--format", "json")
    plan = json.loads(_ok(run_kedro(team.project, *prune, env=team.env(team.scheduler))))
    assert [d["version"] for d in plan["prune"]] == [1]  # v2: champion, and it scored
    client = team.client()
    v1_run = client.get_model_version(MODEL_NAME, "1").run_id
    v2_run = client.get_model_version(MODEL_NAME, "2").run_id
    store = Path(team.server.log_path).parent / "artifacts"

    def files_of(run_id: str) -> list[Path]:
        return [path for path in store.glob(f"*/{run_id}/**/*") if path.is_file()]

    assert files_of(v1_run) and files_of(v2_run)
    done = json.loads(_ok(run_kedro(team.project, *prune, "--yes", env=team.env(admin))))
    assert [event["version"] for event in done["pruned"]] == [1]
    assert [int(v.version) for v in client.search_model_versions(f"name='{MODEL_NAME}'")] == [2]
    assert client.get_model_version_by_alias(MODEL_NAME, "champion").version == "2"
    assert files_of(v1_run) == [] and files_of(v2_run)
    audit = json.loads((team.project / "data/06_models/model_versions.json").read_text())
    assert audit["events"][-1]["action"] == "prune" and audit["pruning"] is None
