"""The lifecycle hook and `kedro models` commands on real training runs (real CLI, real store).

One project lives through the module, as a user's would: the runs build on each other.
"""

from __future__ import annotations

import json
import socket
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from mlflow import MlflowClient

from future_skills_kedro.lifecycle import ModelRegistry
from tests.conftest import (
    FAST_TRAINING_PARAMS,
    WEAK_TRAINING_PARAMS,
    copy_project,
    kedro_env,
    mlflow_client,
    run_kedro,
)

pytestmark = pytest.mark.integration

MODEL_NAME = "future-skills-model"
WEAK = WEAK_TRAINING_PARAMS
DEFAULT = FAST_TRAINING_PARAMS  # the default model, trained with the tests' fast settings
NO_SALARY = f"{DEFAULT},training.model.excluded_features=[avg_salary_k]"
NO_SALARY_WEAK = f"{WEAK},training.model.excluded_features=[avg_salary_k]"


def _train(project: Path, params: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return run_kedro(project, "run", "--pipelines", "training", "--params", params, env=env)


def _ok(result: subprocess.CompletedProcess) -> str:
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-5000:]
    return result.stdout


def _version(client: MlflowClient, version: int):
    return client.get_model_version(MODEL_NAME, str(version))


def _champion(client: MlflowClient) -> int:
    return int(client.get_model_version_by_alias(MODEL_NAME, "champion").version)


AUDIT_FILE = "data/06_models/model_versions.json"
# Third-party warnings that do not apply to this project (README "Quiet by default").
INAPPLICABLE_WARNINGS = (
    "Add type hints to the `predict` method",
    "Inferred schema contains integer column",
    "'exists()' not implemented",
    # the validated parameters replace the loaded ones in the catalog, deliberately
    "Replacing dataset 'params:",
)


def _audit(project: Path) -> dict:
    return json.loads((project / AUDIT_FILE).read_text())


def _one_line_error(result: subprocess.CompletedProcess, code: int, message: str) -> None:
    """Exit ``code``, nothing on stdout, one ``Error:`` line naming ``message`` on stderr."""
    assert result.returncode == code, result.stdout[-2000:] + result.stderr[-3000:]
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.stderr[-3000:]
    assert message in lines[0], lines[0]


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    return copy_project(tmp_path_factory.mktemp("lifecycle"))


def test_first_run_becomes_champion_1_0_0(project):
    result = _train(project, WEAK)
    out = _ok(result)
    # stdout holds the run's result only; the concise log is on stderr, the full one in a file.
    assert out.startswith(f"{MODEL_NAME} v1 = 1.0.0 -> champion: first model passing the floor")
    assert len(out.splitlines()) == 1, out
    for noise in INAPPLICABLE_WARNINGS:
        assert noise not in result.stderr, noise
    assert "Loading data from" not in result.stderr
    assert "Loading data from" in (project / "info.log").read_text()
    client = mlflow_client(project)
    v1 = _version(client, 1)
    assert v1.tags["semver"] == "1.0.0"
    assert v1.tags["stage"] == "Production"
    assert _champion(client) == 1
    for tag in ("promotion_reason", "data_hash", "params_hash", "kedro_run_id", "git_sha"):
        assert tag in v1.tags, tag
    run = client.get_run(v1.run_id)
    assert run.data.tags["promotion_outcome"] == "champion"
    audit = _audit(project)
    assert [e["action"] for e in audit["events"]] == ["register", "promote"]


def test_changed_hyperparameters_give_a_minor_version_promoted_when_better(project):
    out = _ok(_train(project, DEFAULT))
    client = mlflow_client(project)
    v1, v2 = _version(client, 1), _version(client, 2)
    assert v2.tags["semver"] == "1.1.0"
    assert v2.tags["parent_semver"] == "1.0.0"
    gain = float(client.get_run(v2.run_id).data.metrics["macro_f1"]) - float(
        client.get_run(v2.run_id).data.metrics["champion_macro_f1"]
    )
    assert gain >= 0.01, "the default model should clearly beat a 3-iteration model"
    assert "v2 = 1.1.0 -> champion: macro_f1" in out
    assert _champion(client) == 2
    assert v2.tags["stage"] == "Production"
    assert v1.tags["stage"] == "Archived"  # kept, usable for rollback


def test_changed_input_schema_gives_a_major_version(project):
    out = _ok(_train(project, NO_SALARY))
    client = mlflow_client(project)
    v3 = _version(client, 3)
    assert v3.tags["semver"] == "2.0.0"
    assert "MAJOR" in v3.tags["version_reason"]
    # The champion cannot score inputs without avg_salary_k... but it was still compared only
    # if compatible; the decision line says what happened either way.
    assert "v3 = 2.0.0 ->" in out
    assert v3.tags["stage"] in {"Production", "Staging"}


def test_a_worse_model_stays_challenger(project):
    client = mlflow_client(project)
    champion_before = _champion(client)
    out = _ok(_train(project, NO_SALARY_WEAK))
    v4 = _version(client, 4)
    assert v4.tags["semver"] == "2.1.0"
    assert v4.tags["stage"] == "Staging"
    assert "challenger" in v4.aliases
    assert _champion(client) == champion_before
    assert "v4 = 2.1.0 -> challenger:" in out
    assert audit_actions(project)[-1] == "challenger"


def audit_actions(project: Path) -> list[str]:
    return [event["action"] for event in _audit(project)["events"]]


def test_models_list_prints_only_its_table_and_writes_nothing(project):
    watched = [project / AUDIT_FILE, project / "mlflow.db", project / f"{AUDIT_FILE}.lock"]
    before = {path: (path.read_bytes(), path.stat().st_mtime_ns) for path in watched}
    result = run_kedro(project, "models", "list", "--env", "local")  # --env after, as typed
    out = _ok(result)
    lines = out.splitlines()
    assert lines[0].split() == [
        "version",
        "semver",
        "stage",
        "aliases",
        "macro_f1",
        "created",
        "reason",
    ]
    assert [line.split()[:2] for line in lines[1:]] == [
        ["v1", "1.0.0"],
        ["v2", "1.1.0"],
        ["v3", "2.0.0"],
        ["v4", "2.1.0"],
    ]
    assert result.stderr == ""  # registry and audit file agree: nothing to warn about

    document = json.loads(
        _ok(run_kedro(project, "models", "--env", "local", "list", "--format", "json"))
    )
    assert document["champion"] == _champion(mlflow_client(project))
    assert [v["semver"] for v in document["versions"]] == ["1.0.0", "1.1.0", "2.0.0", "2.1.0"]
    assert document["warnings"] == []
    json.loads(_ok(run_kedro(project, "models", "show", "v4", "--format", "json")))
    assert {path: (path.read_bytes(), path.stat().st_mtime_ns) for path in watched} == before


def test_rollback_restores_the_former_champion(project):
    client = mlflow_client(project)
    current = _champion(client)
    previous = int(_audit(project)["events"][-1]["version"])  # noqa: F841 - for the message
    out = _ok(run_kedro(project, "models", "rollback", "--reason", "bad feedback"))
    restored = _champion(client)
    assert restored != current
    assert _version(client, current).tags["stage"] == "Archived"
    assert _version(client, restored).tags["stage"] == "Production"
    assert f"v{restored}" in out
    event = _audit(project)["events"][-2]
    assert event["action"] == "rollback"
    assert event["user"]
    assert "bad feedback" in event["reason"]


def test_show_champion_prints_lineage(project):
    out = _ok(run_kedro(project, "models", "show", "champion"))
    for word in ("semver", "stage: ", "data_hash", "params_hash", "run:", "macro_f1"):
        assert word in out


def test_promote_applies_the_policy_unless_forced(project):
    client = mlflow_client(project)
    refused = run_kedro(project, "models", "promote", "4", "--reason", "try")
    assert refused.returncode != 0
    assert "policy refuses v4" in refused.stderr
    assert _champion(client) != 4
    _ok(run_kedro(project, "models", "promote", "4", "--reason", "business call", "--force"))
    assert _champion(client) == 4
    event = _audit(project)["events"][-2]
    assert event["action"] == "manual_promote"
    assert "business call" in event["reason"] and event["user"]


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (("show", "nonexistent"), 2, "has no version with alias 'nonexistent'"),
        (("promote", "42", "--reason", "x"), 2, "has no version '42'"),
        (("rollback", "--to", "7.7.7"), 2, "has no version '7.7.7'"),
        (("promote", "v1.x", "--reason", "x"), 2, "'v1.x' is not a version reference"),
    ],
)
def test_cli_errors_are_one_line(project, args, code, message):
    _one_line_error(run_kedro(project, "models", *args), code, message)


def test_failed_run_promotes_nothing(project):
    client = mlflow_client(project)
    champion_before = _champion(client)
    versions_before = len(client.search_model_versions(f"name='{MODEL_NAME}'"))
    result = _train(project, f"{FAST_TRAINING_PARAMS},training.split.holdout_quarters=99")
    assert result.returncode != 0
    assert "holdout_quarters=99" in result.stdout + result.stderr
    assert len(client.search_model_versions(f"name='{MODEL_NAME}'")) == versions_before
    assert _champion(client) == champion_before


def test_a_corrupt_audit_file_stops_training_and_commands_until_rebuilt(project):
    """Issue 11.1/11.6: the audit file truncated to half its bytes."""
    client = mlflow_client(project)
    champion_before = _champion(client)
    versions_before = len(client.search_model_versions(f"name='{MODEL_NAME}'"))
    experiment = client.get_experiment_by_name("model-training").experiment_id
    runs_before = len(client.search_runs([experiment]))
    audit_path = project / AUDIT_FILE
    text = audit_path.read_bytes()
    audit_path.write_bytes(text[: len(text) // 2])

    result = _train(project, DEFAULT)
    assert result.returncode == 1
    assert "model_versions.json is not valid JSON" in result.stderr
    assert "Completed 1 out of" not in result.stderr  # no node ran
    assert len(client.search_model_versions(f"name='{MODEL_NAME}'")) == versions_before
    assert len(client.search_runs([experiment])) == runs_before  # no MLflow run either

    older = next(v for v in (1, 2, 3, 4) if v != champion_before)
    for args in (
        ("promote", str(older), "--reason", "t", "--force"),
        ("rollback", "--to", str(older)),
    ):
        _one_line_error(run_kedro(project, "models", *args), 1, "sync-audit --rebuild")
    assert _champion(client) == champion_before
    listed = run_kedro(project, "models", "list")
    assert listed.returncode == 0 and "Warning: audit log" in listed.stderr
    assert "sync-audit --rebuild" in listed.stderr

    _ok(run_kedro(project, "models", "sync-audit", "--rebuild"))
    [aside] = audit_path.parent.glob("model_versions.json.unreadable-*")
    assert aside.read_bytes() == text[: len(text) // 2]
    assert [e["action"] for e in _audit(project)["events"]] == ["rebuild"]

    # A command killed mid-change leaves its intent in the audit file: list says so, and the
    # next write command (here sync-audit) puts the registry back and records it.
    registry = ModelRegistry(client, MODEL_NAME)
    data = _audit(project)
    data["pending"] = {
        "operation": f"promotion of v{older}",
        "user": "alice",
        "pid": 4242,
        "host": "laptop",
        "started": "2026-01-01T00:00:00+00:00",
        "snapshot": registry.snapshot([champion_before, older]),
    }
    audit_path.write_text(json.dumps(data))
    registry.promote_to_champion(older, "half of a killed promotion")
    listed = run_kedro(project, "models", "list")
    assert listed.returncode == 0
    assert f"promotion of v{older} by alice (pid 4242 on laptop" in listed.stderr
    assert "did not finish" in listed.stderr
    synced = _ok(run_kedro(project, "models", "sync-audit"))
    assert "recorded recover" in synced
    assert _champion(client) == champion_before
    assert run_kedro(project, "models", "list").stderr == ""


def test_cli_without_champion_and_with_a_dead_registry(tmp_path):
    fresh = copy_project(tmp_path)
    result = run_kedro(fresh, "models", "rollback")
    assert result.returncode != 0
    assert "no champion yet" in result.stderr
    env = kedro_env(fresh)
    env["MLFLOW_TRACKING_URI"] = "http://127.0.0.1:9"
    result = run_kedro(fresh, "models", "list", env=env)
    assert result.returncode != 0
    assert "http://127.0.0.1:9" in result.stderr


def test_env_production_after_the_subcommand_names_what_applies(project):
    env = kedro_env(project)
    del env["MLFLOW_TRACKING_URI"]
    with socket.socket() as probe:
        if probe.connect_ex(("127.0.0.1", 5000)) == 0:
            pytest.skip("something listens on 127.0.0.1:5000, the production default")
    result = run_kedro(project, "models", "list", "--env", "production", env=env)
    _one_line_error(result, 1, "http://127.0.0.1:5000 is unreachable")
    assert "Kedro environment 'production'" in result.stderr
    assert "unset MLFLOW_TRACKING_URI" not in result.stderr


def test_two_concurrent_training_runs_end_with_the_better_champion(tmp_path):
    """Two checkouts, one registry and one decision lock, finishing together."""
    shared = tmp_path / "shared"
    shared.mkdir()
    store = f"sqlite:///{(shared / 'mlflow.db').as_posix()}"
    lifecycle = (
        f"lifecycle.audit_log_path={shared / 'model_versions.json'},"
        f"lifecycle.lock_path={shared / 'decisions.lock'}"
    )
    # The shared store exists before the runs (as a team's does): two processes creating a
    # fresh SQLite schema at the same moment would race on MLflow's own migrations.
    MlflowClient(tracking_uri=store).create_experiment("model-training")
    weak, strong = copy_project(tmp_path / "a"), copy_project(tmp_path / "b")
    # Two `kedro run` processes at once (each a child of the fork server: no start-up imports).
    with ThreadPoolExecutor(max_workers=2) as pool:
        runs = [
            pool.submit(
                _train,
                project,
                f"{params},{lifecycle}",
                kedro_env(project) | {"MLFLOW_TRACKING_URI": store},
            )
            for project, params in ((weak, WEAK), (strong, DEFAULT))
        ]
        for run in runs:
            _ok(run.result())
    client = MlflowClient(tracking_uri=store, registry_uri=store)
    versions = client.search_model_versions(f"name='{MODEL_NAME}'")
    assert len(versions) == 2
    assert all(v.tags.get("stage") for v in versions), "both versions decided"
    scores = {int(v.version): client.get_run(v.run_id).data.metrics["macro_f1"] for v in versions}
    champion = int(client.get_model_version_by_alias(MODEL_NAME, "champion").version)
    assert scores[champion] == max(scores.values())
    audit = json.loads((shared / "model_versions.json").read_text())
    assert sum(e["action"] == "register" for e in audit["events"]) == 2
