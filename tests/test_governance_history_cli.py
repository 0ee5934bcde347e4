"""`kedro models history | trace | prune` on real training and inference runs (real CLI, real
SQLite store, a git checkout so that versions carry a real git sha).

One project lives through the module: three trainings (v1 champion, v2 champion, v3
challenger), an inference run scored by v2, then a rollback to v1.
"""

from __future__ import annotations

import json
import subprocess
import time
from datetime import datetime, timedelta
from itertools import pairwise
from pathlib import Path

import pandas as pd
import pytest
from mlflow import MlflowClient

from tests.conftest import (
    FAST_TRAINING_PARAMS,
    WEAK_TRAINING_PARAMS,
    copy_project,
    kedro_env,
    mlflow_client,
    run_kedro,
    run_python,
)

pytestmark = pytest.mark.integration

MODEL_NAME = "future-skills-model"
WEAK = WEAK_TRAINING_PARAMS
WEAKER = WEAK_TRAINING_PARAMS.replace("max_iter=3", "max_iter=4")
AUDIT_FILE = "data/06_models/model_versions.json"
LOGS = "data/07_model_output/prediction_logs"

# The real CLI in a process that SIGKILLs itself (no finally, no cleanup) right after the
# first registry entry it deletes: a prune interrupted half way.
KILLED_AFTER_FIRST_DELETION = """
import os, signal, sys
from mlflow import MlflowClient
from kedro.framework.cli import main

original = MlflowClient.delete_model_version

def delete_then_die(self, *args, **kwargs):
    original(self, *args, **kwargs)
    os.kill(os.getpid(), signal.SIGKILL)

MlflowClient.delete_model_version = delete_then_die
sys.argv = ["kedro", *sys.argv[1:]]
main()
"""


def _ok(result: subprocess.CompletedProcess) -> str:
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-5000:]
    return result.stdout


def _json(project: Path, *args: str) -> dict:
    return json.loads(_ok(run_kedro(project, "models", *args, "--format", "json")))


def _git(project: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-c", "user.name=test", "-c", "user.email=test@example.org", *args],
        cwd=project, capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip


def _one_line_error(result: subprocess.CompletedProcess, code: int, message: str) -> None:
    assert result.returncode == code, result.stdout[-2000:] + result.stderr[-3000:]
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.stderr[-3000:]
    assert message in lines[0], lines[0]


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    project = copy_project(tmp_path_factory.mktemp("governance"))
    _git(project, "init", "-q")
    _git(project, "add", "-A")
    _git(project, "commit", "-q", "-m", "a fresh clone")
    for params in (WEAK, FAST_TRAINING_PARAMS):
        _ok(run_kedro(project, "run", "--pipelines", "training", "--params", params))
    _ok(run_kedro(project, "run", "--pipelines", "inference"))  # scored by v2
    _ok(run_kedro(project, "run", "--pipelines", "training", "--params", WEAKER))
    # Changes are stamped to the second; the test names a moment between consecutive ones,
    # which needs them 2 s apart (a forked rollback can follow the decision within 1 s).
    time.sleep(2)
    _ok(run_kedro(project, "models", "rollback", "--reason", "HR complaints about v2"))
    return project


def _between(first: str, second: str) -> str:
    a, b = datetime.fromisoformat(first), datetime.fromisoformat(second)
    assert b - a >= timedelta(seconds=2), (first, second)
    return (a + (b - a) / 2).strftime("%Y-%m-%dT%H:%M:%S")  # naive: read as UTC


def test_history_lists_every_change_and_names_the_champion_at_any_time(project):
    client = mlflow_client(project)
    assert int(client.get_model_version_by_alias(MODEL_NAME, "champion").version) == 1
    assert int(client.get_model_version_by_alias(MODEL_NAME, "challenger").version) == 3
    runs = {n: client.get_model_version(MODEL_NAME, str(n)).run_id for n in (1, 2, 3)}

    document = _json(project, "history")
    assert document["warnings"] == []
    changes = document["changes"]
    assert [(c["role"], c["version"], c["previous"], c["action"]) for c in changes] == [
        ("champion", 1, None, "promote"),
        ("champion", 2, 1, "promote"),
        ("challenger", 3, None, "challenger"),
        ("champion", 1, 2, "rollback"),
    ]
    assert [c["semver"] for c in changes] == ["1.0.0", "1.1.0", "1.2.0", "1.0.0"]
    # Which run decided it, or who: the training runs, then the user who rolled back.
    assert [c["run_id"] for c in changes[:3]] == [runs[1], runs[2], runs[3]]
    assert changes[0]["by"].startswith(f"run {runs[1]}")
    assert "HR complaints about v2" in changes[3]["reason"] and changes[3]["user"]

    table = _ok(run_kedro(project, "models", "history")).splitlines()
    assert table[0].split()[:7] == ["time", "role", "version", "semver", "from", "action", "by"]
    assert [line.split()[1:3] for line in table[1:]] == [
        ["champion", "v1"],
        ["champion", "v2"],
        ["challenger", "v3"],
        ["champion", "v1"],
    ]

    times = [c["timestamp"] for c in changes]
    expected = [  # (champion, challenger) between consecutive changes, and after the last
        (1, None),
        (2, None),
        (2, 3),
        (1, 3),
    ]
    moments = [_between(a, b) for a, b in pairwise(times)]
    moments.append((datetime.fromisoformat(times[-1]) + timedelta(days=1)).isoformat())
    for moment, (champion, challenger) in zip(moments, expected, strict=True):
        at = _json(project, "history", "--at", moment)
        assert at["known"] is True
        assert (at["champion"] or {}).get("version") == champion, moment
        assert (at["challenger"] or {}).get("version") == challenger, moment
    before = _json(project, "history", "--at", "2020-03-31T12:00")
    assert before["champion"] is None and before["known"] is False

    sentence = _ok(run_kedro(project, "models", "history", "--at", moments[1]))
    assert "champion: v2 (1.1.0) since" in sentence
    assert "challenger: none" in sentence


def test_trace_resolves_a_logged_request_to_its_version_run_and_git_sha(project):
    predictions = pd.read_parquet(project / "data/07_model_output/predictions.parquet")
    row = predictions.iloc[7]
    client = mlflow_client(project)
    v2 = client.get_model_version(MODEL_NAME, "2")

    traced = _json(project, "trace", row["request_id"])
    model = traced["model"]
    assert model["version"] == 2 and model["semver"] == "1.1.0" == v2.tags["semver"]
    assert model["training_run_id"] == v2.run_id
    assert model["git_sha"] == _git(project, "rev-parse", "HEAD")  # a real commit, clean
    assert model["data_hash"] == v2.tags["data_hash"]
    assert model["params_hash"] == v2.tags["params_hash"]
    assert traced["prediction"]["prediction"] == row["predicted_need_level"]
    assert traced["prediction"]["keys"]["skill_id"] == row["skill_id"]
    assert traced["prediction"]["source"].startswith(str(project / LOGS))

    text = _ok(run_kedro(project, "models", "trace", row["request_id"]))
    assert f"{MODEL_NAME} v2 (1.1.0)" in text
    assert v2.run_id in text and model["git_sha"] in text


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("trace", "0123abcd-999999"), "request id '0123abcd-999999' is in no prediction log"),
        (("trace", "not an id"), "'not an id' is not a request id"),
        (("history", "--at", "last tuesday"), "'last tuesday' is not a time"),
        (("prune", "--yes"), "--keep-last N and/or --older-than DAYS"),
    ],
)
def test_unknown_or_invalid_input_is_one_line_and_exit_2(project, args, message):
    _one_line_error(run_kedro(project, "models", *args), 2, message)


def _artifact_dirs(client: MlflowClient, version: int) -> list[Path]:
    info = client.get_model_version(MODEL_NAME, str(version))
    model = client.get_logged_model(info.source.removeprefix("models:/"))
    return [Path(client.get_run(info.run_id).info.artifact_uri), Path(model.artifact_location)]


def test_prune_dry_run_changes_nothing_and_an_interrupted_prune_is_finished(project):
    client = mlflow_client(project)
    v2_dirs = _artifact_dirs(client, 2)
    kept_dirs = _artifact_dirs(client, 1) + _artifact_dirs(client, 3)
    assert all(path.is_dir() and any(path.iterdir()) for path in v2_dirs + kept_dirs)
    audit_before = (project / AUDIT_FILE).read_bytes()

    # v2 scored today's predictions: inside the monitoring window, it is kept.
    plan = _json(project, "prune", "--keep-last", "0")
    assert plan["prune"] == []
    assert {d["version"]: d["why"] for d in plan["keep"]} == {
        1: "champion",
        2: "scored predictions within the monitoring window",
        3: "challenger",
    }
    # Once those logs are older than the window, v2 is prunable; a dry run changes nothing.
    [log] = (project / LOGS).glob("predictions_*.jsonl")
    log.rename(log.with_name("predictions_20200101.jsonl"))
    plan = _json(project, "prune", "--keep-last", "0")
    assert [d["version"] for d in plan["prune"]] == [2]
    dry = run_kedro(project, "models", "prune", "--keep-last", "0")
    rows = [line.split() for line in _ok(dry).splitlines()[1:]]
    assert [(row[0], row[4]) for row in rows] == [("v1", "keep"), ("v2", "delete"), ("v3", "keep")]
    assert "dry run: nothing changed" in dry.stderr
    assert (project / AUDIT_FILE).read_bytes() == audit_before
    assert int(client.get_model_version(MODEL_NAME, "2").version) == 2
    assert all(path.is_dir() and any(path.iterdir()) for path in v2_dirs)

    # Killed right after deleting v2's registry entry, before its artifacts and audit event.
    killed = run_python(
        KILLED_AFTER_FIRST_DELETION, "models", "prune", "--keep-last", "0", "--yes",
        cwd=project, env=kedro_env(project),
    )  # fmt: skip
    assert killed.returncode == -9, killed.stderr[-3000:]
    registered = client.search_model_versions(f"name='{MODEL_NAME}'")
    assert sorted(int(v.version) for v in registered) == [1, 3]
    assert any(path.is_dir() and any(path.iterdir()) for path in v2_dirs)  # not finished
    audit = json.loads((project / AUDIT_FILE).read_text())
    assert [item["version"] for item in audit["pruning"]["versions"]] == [2]
    assert "prune" not in [event["action"] for event in audit["events"]]
    unfinished = run_kedro(project, "models", "prune", "--keep-last", "0")
    assert "did not finish v2" in unfinished.stderr
    assert "did not finish v2" in run_kedro(project, "models", "list").stderr

    # The re-run finishes it: exactly what the dry run listed, nothing the champion needs.
    rerun = _json(project, "prune", "--keep-last", "0", "--yes")
    assert [event["version"] for event in rerun["pruned"]] == [2]
    assert rerun["champion"]["version"] == 1 and rerun["challenger"]["version"] == 3
    assert not any(path.exists() and any(path.iterdir()) for path in v2_dirs)
    assert all(path.is_dir() and any(path.iterdir()) for path in kept_dirs)
    assert any(kept_dirs[1].rglob("MLmodel")) and any(kept_dirs[3].rglob("MLmodel"))
    audit = json.loads((project / AUDIT_FILE).read_text())
    assert audit["pruning"] is None
    [event] = [event for event in audit["events"] if event["action"] == "prune"]
    assert event["version"] == 2 and event["run_id"] == rerun["pruned"][0]["run_id"]
    assert "finishing the prune" in event["reason"]
    assert client.get_run(event["run_id"]).data.tags["artifacts_pruned_at"]

    # Idempotent: nothing left to do; history and trace still answer for the pruned v2.
    assert "nothing to prune" in _ok(run_kedro(project, "models", "prune", "--keep-last", "0",
                                               "--yes"))  # fmt: skip
    assert _json(project, "history")["warnings"] == []
    predictions = pd.read_parquet(project / "data/07_model_output/predictions.parquet")
    traced = _json(project, "trace", predictions["request_id"].iloc[0])
    assert traced["model"]["version"] == 2 and traced["model"]["in_registry"] is False
    assert traced["model"]["training_run_id"] == event["run_id"]
    assert traced["model"]["git_sha"] == _git(project, "rev-parse", "HEAD")
