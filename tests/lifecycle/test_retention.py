"""Which versions a prune selects (pure), and a prune on a real SQLite registry: deletion,
audit events, and finishing a prune that stopped half way."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from mlflow.utils.file_utils import local_file_uri_to_path

from future_skills_kedro.lifecycle import (
    AuditLog,
    LifecycleError,
    ModelRegistry,
    PromotionPolicy,
    RegistryState,
    VersionInfo,
    apply_lifecycle,
)
from future_skills_kedro.lifecycle.retention import (
    PRUNING,
    Criteria,
    expired_log_files,
    plan_prune,
    prune_versions,
)
from tests.lifecycle.conftest import MODEL_NAME, candidate
from tests.lifecycle.faults import FaultyClient

NOW = datetime(2026, 3, 31, 12, tzinfo=timezone.utc)


def _info(number: int, days_old: float, *aliases: str, run: str | None = None) -> VersionInfo:
    created = NOW - timedelta(days=days_old)
    return VersionInfo(
        number,
        tags={"semver": f"1.{number}.0", "stage": "Development"},
        aliases=aliases,
        run_id=run or f"run-{number}",
        created_ms=int(created.timestamp() * 1000),
    )


def _state(*infos: VersionInfo) -> RegistryState:
    def holder(alias: str) -> VersionInfo | None:
        return next((info for info in infos if alias in info.aliases), None)

    return RegistryState("m", infos, holder("champion"), holder("challenger"))


STATE = _state(
    _info(1, 300),
    _info(2, 200, "champion"),
    _info(3, 100),
    _info(4, 50, "challenger"),
    _info(5, 40),
    _info(6, 10),
)


def _pruned(decisions) -> list[int]:
    return [d.version for d in decisions if d.prune]


@pytest.mark.parametrize(
    ("criteria", "scoring", "expected"),
    [
        (Criteria(keep_last=2), (), [1, 3]),  # 5, 6 kept as the last two; 2, 4 protected
        (Criteria(keep_last=0), (), [1, 3, 5, 6]),
        (Criteria(older_than_days=60), (), [1, 3]),
        (Criteria(keep_last=1, older_than_days=45), (), [1, 3]),  # both must hold
        (Criteria(keep_last=0), (3, 6), [1, 5]),  # scored within the window: kept
    ],
)
def test_plan_selects_old_versions_and_never_the_champion_challenger_or_recent_scorers(
    criteria, scoring, expected
):
    decisions = plan_prune(STATE, criteria, scoring, now=NOW)
    assert _pruned(decisions) == expected
    why = {d.version: d.why for d in decisions}
    assert (why[2], why[4]) == ("champion", "challenger")


def test_an_undecided_version_is_kept():
    undecided = VersionInfo(3, run_id="run-3", created_ms=0)
    state = _state(_info(1, 300), _info(2, 200, "champion"), undecided)
    decisions = plan_prune(state, Criteria(keep_last=0), (), now=NOW)
    assert _pruned(decisions) == [1]
    assert decisions[2].why.startswith("undecided")


def test_a_version_sharing_the_champion_s_run_is_kept():
    state = _state(_info(1, 300, run="shared"), _info(2, 200, "champion", run="shared"))
    [first, _] = plan_prune(state, Criteria(keep_last=0), (), now=NOW)
    assert not first.prune and first.why == "its training run is also v2's"


@pytest.mark.parametrize(
    ("keep_last", "older_than", "message"),
    [(None, None, "--keep-last N and/or --older-than DAYS"), (-1, None, "--keep-last")],
)
def test_criteria_must_say_what_to_prune(keep_last, older_than, message):
    with pytest.raises(LifecycleError, match=message):
        Criteria(keep_last, older_than)


def test_expired_prediction_log_files_are_those_past_retention(tmp_path):
    for day in ("20260301", "20260320", "20260321", "20260331"):
        (tmp_path / f"predictions_{day}.jsonl").write_text("{}\n")
    (tmp_path / "notes.txt").write_text("never touched")
    today = NOW.date()
    assert [p.name for p in expired_log_files(tmp_path, 10, today)] == [
        "predictions_20260301.jsonl",
        "predictions_20260320.jsonl",
    ]
    assert expired_log_files(tmp_path, None, today) == ()


# ------------------------------------------------------------------ on a real registry
@pytest.fixture
def lived(client, tmp_path):
    """v1 Archived, v2 champion, v3 Development (failed the floor), v4 challenger; each run
    with its own artifacts under tmp_path."""
    experiment = client.create_experiment("retention", artifact_location=tmp_path.as_uri())
    registry = ModelRegistry(client, MODEL_NAME)
    audit = AuditLog(tmp_path / "model_versions.json")
    client.create_registered_model(MODEL_NAME)
    versions = []
    for _ in range(4):
        run = client.create_run(experiment)
        client.log_text(run.info.run_id, "artifact_path: model\n", "model/MLmodel")
        client.set_terminated(run.info.run_id)
        source = f"{run.info.artifact_uri}/model"
        versions.append(client.create_model_version(MODEL_NAME, source, run.info.run_id))
    policy = PromotionPolicy()
    seen = {"evaluated_champion_version": 1, "champion_metrics": {"macro_f1": 0.6}}
    apply_lifecycle(registry, audit, candidate(1, 0.60), policy)
    apply_lifecycle(registry, audit, candidate(2, 0.70, params_hash="b", **seen), policy)
    seen = {"evaluated_champion_version": 2, "champion_metrics": {"macro_f1": 0.7}}
    apply_lifecycle(registry, audit, candidate(3, 0.30, params_hash="c", **seen), policy)
    apply_lifecycle(registry, audit, candidate(4, 0.69, params_hash="d", **seen), policy)
    runs = {
        int(v.version): Path(local_file_uri_to_path(client.get_run(v.run_id).info.artifact_uri))
        for v in versions
    }
    return registry, audit, runs


def _plan(state):
    return plan_prune(state, Criteria(keep_last=0), (), now=datetime.now(timezone.utc))


def test_prune_deletes_registry_entries_and_artifacts_and_records_each(lived):
    registry, audit, runs = lived
    result = prune_versions(registry, audit, _plan)
    assert [event["version"] for event in result.pruned] == [1, 3]
    assert [info.version for info in registry.list_versions()] == [2, 4]
    assert not runs[1].exists() and not runs[3].exists()
    assert (runs[2] / "model/MLmodel").exists() and (runs[4] / "model/MLmodel").exists()
    data = audit.read()
    assert [e["action"] for e in data["events"][-2:]] == ["prune", "prune"]
    assert data[PRUNING] is None
    assert [v["version"] for v in data["versions"]] == [2, 4]  # the mirror follows
    again = prune_versions(registry, audit, _plan)
    assert again.pruned == [] and len(audit.events()) == len(data["events"])
    # The run stays, with the pruned version's lineage: trace still names data and commit.
    tags = registry.client.get_run(result.pruned[1]["run_id"]).data.tags
    assert tags["artifacts_pruned_at"]
    assert (tags["pruned_version.git_sha"], tags["pruned_version.data_hash"]) == (
        "abc1234",
        "data-q1",
    )


def test_a_prune_that_stopped_half_way_is_finished_by_the_next(lived):
    registry, audit, runs = lived
    # The registry stops answering when the first pruned run is tagged (after its registry
    # entry and artifacts are gone): v1 half done, v3 untouched.
    faulty = FaultyClient(registry.client)
    real_set_tag = registry.client.set_tag

    def failing_set_tag(*args, **kwargs):
        raise OSError("registry unreachable (injected)")

    faulty.set_tag = failing_set_tag  # type: ignore[attr-defined]
    broken = ModelRegistry(faulty, MODEL_NAME)
    with pytest.raises(OSError, match="injected"):
        prune_versions(broken, audit, _plan)
    left = json.loads(audit.path.read_text())[PRUNING]
    assert [item["version"] for item in left["versions"]] == [1, 3]
    assert registry.find_version(1) is None and not runs[1].exists()
    assert registry.find_version(3) is not None and runs[3].exists()
    assert "prune" not in [e["action"] for e in audit.events()]

    assert real_set_tag  # the healthy client finishes both
    result = prune_versions(registry, audit, _plan)
    assert [event["version"] for event in result.pruned] == [1, 3]
    assert all("finishing the prune" in event["reason"] for event in result.pruned)
    assert [info.version for info in registry.list_versions()] == [2, 4]
    assert not runs[3].exists() and (runs[2] / "model/MLmodel").exists()
    assert audit.read()[PRUNING] is None


def test_archive_only_tags_instead_of_deleting(lived):
    registry, audit, runs = lived
    result = prune_versions(registry, audit, _plan_archive, archive_only=True)
    assert [event["version"] for event in result.pruned] == [1, 3]
    assert [info.version for info in registry.list_versions()] == [1, 2, 3, 4]
    assert registry.get_version(3).stage == "Archived" and runs[3].exists()
    assert "retention" in registry.get_version(3).tags
    assert [e["action"] for e in audit.events()[-2:]] == ["archive", "archive"]
    assert prune_versions(registry, audit, _plan_archive, archive_only=True).pruned == []


def _plan_archive(state):
    return plan_prune(
        state, Criteria(keep_last=0), (), now=datetime.now(timezone.utc), archive_only=True
    )


def test_an_artifact_store_refusing_deletions_stops_the_prune_before_any_change(lived, monkeypatch):
    from mlflow.exceptions import MlflowException
    from mlflow.store.artifact.local_artifact_repo import LocalArtifactRepository

    def refuse(self, artifact_path=None):  # what a server's proxy does without MANAGE
        raise MlflowException("403 Forbidden: Permission denied (injected)")

    monkeypatch.setattr(LocalArtifactRepository, "delete_artifacts", refuse)
    registry, audit, runs = lived
    events_before = audit.events()
    with pytest.raises(MlflowException, match="403"):
        prune_versions(registry, audit, _plan)
    assert [info.version for info in registry.list_versions()] == [1, 2, 3, 4]
    assert all(path.exists() for path in runs.values())
    assert audit.events() == events_before and audit.read().get(PRUNING) is None
