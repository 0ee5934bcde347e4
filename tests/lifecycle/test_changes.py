"""All-or-nothing lifecycle commands on a real SQLite registry, with injected failures:
a corrupt audit file, a registry error, a full disk, a registry that stops answering, and
a process killed mid-command."""

from __future__ import annotations

import json
import multiprocessing
from pathlib import Path

import pytest
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException

from future_skills_kedro.lifecycle import (
    ARCHIVED,
    DEVELOPMENT,
    PRODUCTION,
    AuditLog,
    AuditLogCorrupt,
    AuditLogNotWritable,
    ChangeNotUndone,
    InvalidReference,
    InvalidSemverOverride,
    LifecycleError,
    ModelRegistry,
    check_before_training,
    decision_lock,
    describe_pending,
    disagreements,
    lock_is_held,
    mark_run_versions_development,
    parse_reference,
    promote_version,
    rebuild_audit_log,
    rollback_champion,
    sync_audit_log,
)

from ._workers import promote_and_get_killed
from .conftest import HISTORY, MODEL_NAME, copy_history
from .faults import FaultyClient, FullDiskAuditLog


@pytest.fixture
def history_copy(history_template, tmp_path: Path) -> tuple[str, Path]:
    return copy_history(history_template, tmp_path / "history")


@pytest.fixture
def tracking_uri(history_copy) -> str:
    return history_copy[0]


@pytest.fixture
def audit(history_copy) -> AuditLog:
    return AuditLog(history_copy[1])


@pytest.fixture
def history() -> dict[str, int]:
    return HISTORY


def _registry_view(registry: ModelRegistry) -> dict:
    """Aliases and every version's tags: what a failed command must leave as it was."""
    return {
        "aliases": registry.alias_map(),
        "tags": {v.version: dict(v.tags) for v in registry.list_versions()},
    }


def _corrupt(audit: AuditLog) -> bytes:
    text = audit.path.read_bytes()
    audit.path.write_bytes(text[: len(text) // 2])
    return audit.path.read_bytes()


@pytest.mark.parametrize("command", ["promote", "rollback"])
def test_a_corrupt_audit_file_refuses_before_any_registry_write(client, audit, history, command):
    registry = ModelRegistry(client, MODEL_NAME)
    before = _registry_view(registry)
    corrupt = _corrupt(audit)
    with pytest.raises(AuditLogCorrupt, match="sync-audit --rebuild"):
        if command == "promote":
            promote_version(registry, audit, history["challenger"], "t")
        else:
            rollback_champion(registry, audit, to_version=history["archived"])
    assert _registry_view(registry) == before
    assert audit.path.read_bytes() == corrupt  # never overwritten


def test_a_registry_error_after_the_alias_moved_is_undone(client, audit, history):
    registry = ModelRegistry(client, MODEL_NAME)
    before, events = _registry_view(registry), audit.events()
    faulty = FaultyClient(client)
    # The champion alias moves, then archiving the former champion fails.
    calls = []
    original = registry.set_alias

    def alias_then_fail(alias: str, version: int) -> None:
        original(alias, version)
        if not calls:  # the promotion's alias move; not the undo's
            calls.append(alias)
            faulty.fail_at = faulty.calls + 1

    flaky = ModelRegistry(faulty, MODEL_NAME)
    flaky.set_alias = alias_then_fail
    with pytest.raises(LifecycleError, match="undone, nothing changed: MlflowException") as error:
        promote_version(flaky, audit, history["challenger"], "business call")
    assert calls == ["champion"] and faulty.failed
    assert isinstance(error.value.__cause__, MlflowException)
    assert _registry_view(registry) == before
    assert audit.events() == events
    assert audit.pending() is None
    assert disagreements(audit.read(), registry.state()) == []


def test_a_full_disk_at_the_audit_write_undoes_the_registry_change(client, audit, history):
    registry = ModelRegistry(client, MODEL_NAME)
    before, events = _registry_view(registry), audit.events()
    # Write 1 records the intent, write 2 (the events) fails, write 3 clears the intent.
    full = FullDiskAuditLog(audit.path, fail_at=2)
    with pytest.raises(LifecycleError, match="No space left on device"):
        rollback_champion(registry, full, to_version=history["archived"], reason="t")
    assert full.failed
    assert _registry_view(registry) == before
    assert audit.events() == events
    assert audit.pending() is None


def test_a_registry_that_stops_answering_leaves_the_change_pending_until_recovered(
    client, audit, history
):
    registry = ModelRegistry(client, MODEL_NAME)
    before, events = _registry_view(registry), audit.events()
    faulty = FaultyClient(client)
    flaky = ModelRegistry(faulty, MODEL_NAME)
    original = flaky.set_alias

    def alias_then_outage(alias: str, version: int) -> None:
        original(alias, version)
        if faulty.fail_at is None:
            faulty.fail_at, faulty.outage = faulty.calls + 1, True

    flaky.set_alias = alias_then_outage
    with pytest.raises(ChangeNotUndone, match="sync-audit"):
        promote_version(flaky, audit, history["challenger"], "t")
    # The champion moved and could not be moved back: the audit file says so.
    assert registry.champion().version == history["challenger"]
    pending = audit.pending()
    assert pending["operation"] == f"promotion of v{history['challenger']}"
    message = describe_pending(pending, in_progress=False)
    assert "did not finish" in message and "sync-audit" in message

    state = sync_audit_log(registry, audit)  # the registry answers again
    assert _registry_view(registry) == before
    assert state.champion.version == history["champion"]
    assert audit.pending() is None
    recovered = audit.events()
    assert recovered[: len(events)] == events
    assert [e["action"] for e in recovered[len(events) :]] == ["recover"]
    assert "unfinished promotion of v" in recovered[-1]["reason"]


@pytest.mark.parametrize(
    "kill_after",
    [
        # (A kill before the alias move, with the new champion partly tagged, leaves the same
        # kind of state as a registry outage: test_properties.py covers it in-process.)
        "set_registered_model_alias",  # the alias moved, the former champion not archived
        "audit_write",  # the registry fully changed, the audit events not written
    ],
)
def test_a_killed_command_is_put_back_by_the_next_one(
    tracking_uri, client, audit, history, kill_after
):
    registry = ModelRegistry(client, MODEL_NAME)
    before = _registry_view(registry)
    context = multiprocessing.get_context("spawn")  # no forked SQLAlchemy connections
    process = context.Process(
        target=promote_and_get_killed,
        args=(tracking_uri, MODEL_NAME, str(audit.path), history["challenger"], kill_after),
    )
    process.start()
    process.join(timeout=180)
    assert process.exitcode == -9, "the worker should have been killed mid-command"

    lock = audit.default_lock_path
    assert not lock_is_held(lock)  # the OS released the dead process's lock
    assert "did not finish" in describe_pending(audit.pending(), lock_is_held(lock))
    # The next write command puts the registry back first, then does its own work.
    state = rollback_champion(registry, audit, to_version=history["archived"], reason="next")
    assert state.champion.version == history["archived"]
    actions = [e["action"] for e in audit.events()]
    assert actions[-3:] == ["recover", "rollback", "archive"]
    after = _registry_view(registry)
    # Everything but the rollback's own change is as before the killed command.
    assert after["tags"][history["challenger"]] == before["tags"][history["challenger"]]
    assert after["aliases"].get("challenger") == history["challenger"]
    assert after["tags"][history["champion"]]["stage"] == ARCHIVED
    assert disagreements(audit.read(), state) == []


def test_lock_is_held_only_while_a_decision_runs(tmp_path):
    lock = tmp_path / "decisions.lock"
    assert not lock_is_held(lock)  # no file: free, and still no file
    assert not lock.exists()
    with decision_lock(lock):
        assert lock_is_held(lock)
    assert not lock_is_held(lock)


def test_rebuild_sets_an_unreadable_audit_file_aside(client, audit, history):
    registry = ModelRegistry(client, MODEL_NAME)
    with pytest.raises(LifecycleError, match="nothing to rebuild"):
        rebuild_audit_log(registry, audit)
    corrupt = _corrupt(audit)
    state, aside = rebuild_audit_log(registry, audit)
    assert aside.read_bytes() == corrupt
    assert aside.parent == audit.path.parent
    assert aside.name.startswith("model_versions.json.unreadable-")
    [event] = audit.events()
    assert (event["action"], event["version"]) == ("rebuild", history["champion"])
    assert aside.name in event["reason"]
    assert disagreements(audit.read(), state) == []
    # Lifecycle commands work again, with the rebuilt history.
    promote_version(registry, audit, history["challenger"], "after the repair")
    assert registry.champion().version == history["challenger"]


def test_disagreements_name_what_differs(client, audit, history):
    registry = ModelRegistry(client, MODEL_NAME)
    assert disagreements(audit.read(), registry.state()) == []
    registry.rollback(history["archived"], "from the MLflow UI, say")  # not via the lifecycle
    found = disagreements(audit.read(), registry.state())
    assert (
        f"the audit log records champion v{history['champion']}, "
        f"the registry has v{history['archived']}" in found
    )
    assert f"v{history['champion']} is Archived in the registry, Production in the audit log" in (
        found
    )


def test_check_before_training(client, audit, history, tmp_path):
    registry = ModelRegistry(client, MODEL_NAME)
    check_before_training(registry, audit, override="2.0.0")
    with pytest.raises(InvalidSemverOverride, match="greater"):
        check_before_training(registry, audit, override="0.1.0")
    blocked = AuditLog(tmp_path / "a-file" / "model_versions.json")
    (tmp_path / "a-file").write_text("not a folder")
    with pytest.raises(AuditLogNotWritable, match="a-file"):
        check_before_training(registry, blocked)
    _corrupt(audit)
    with pytest.raises(AuditLogCorrupt):
        check_before_training(registry, audit)


@pytest.mark.parametrize(
    ("ref", "expected"),
    [
        ("3", ("version", "3")),
        ("v3", ("version", "3")),
        ("1.2.0", ("semver", "1.2.0")),
        ("v2.0.0-rc.1", ("semver", "2.0.0-rc.1")),
        ("champion", ("alias", "champion")),
        ("nonexistent", ("alias", "nonexistent")),
    ],
)
def test_parse_reference(ref, expected):
    assert parse_reference(ref) == expected


@pytest.mark.parametrize("ref", ["1.0", "v1.x", "two words", "", "../etc"])
def test_parse_reference_rejects_what_names_nothing(ref):
    with pytest.raises(InvalidReference, match="not a version reference"):
        parse_reference(ref)


def test_resolve_by_number_semver_and_alias(client, audit, history):
    registry = ModelRegistry(client, MODEL_NAME)
    assert registry.resolve(f"v{history['champion']}").version == history["champion"]
    assert registry.resolve("1.0.0").version == history["archived"]
    assert registry.resolve("challenger").version == history["challenger"]
    assert registry.resolve("nonexistent") is None
    assert registry.resolve("99") is None
    assert registry.resolve(f"{history['undecided']}").stage is None
    assert registry.get_version(history["champion"]).stage == PRODUCTION


def test_the_audit_file_keeps_its_format(audit, history):
    data = json.loads(audit.path.read_text())
    assert data["pending"] is None
    assert data["champion"] == history["champion"]


def test_faulty_client_counts_and_fails(client):
    faulty = FaultyClient(MlflowClient(tracking_uri=client.tracking_uri), fail_at=2)
    faulty.search_experiments()
    with pytest.raises(MlflowException, match="call 2"):
        faulty.search_experiments()
    faulty.search_experiments()  # one-shot


def test_versions_of_a_failed_run_become_development_in_registry_and_audit(client, audit, history):
    registry = ModelRegistry(client, MODEL_NAME)
    undecided = registry.get_version(history["undecided"])
    marked = mark_run_versions_development(
        registry, audit, undecided.run_id, "training run failed: ValueError: boom"
    )
    assert marked == [history["undecided"]]
    info = registry.get_version(history["undecided"])
    assert (info.stage, info.promotion_reason) == (
        DEVELOPMENT,
        "training run failed: ValueError: boom",
    )
    last = audit.events()[-1]
    assert (last["action"], last["version"]) == ("development", history["undecided"])
    assert disagreements(audit.read(), registry.state()) == []
    # Decided versions are left alone.
    assert mark_run_versions_development(registry, audit, undecided.run_id, "again") == []


def test_versions_of_a_failed_run_are_tagged_development_even_when_the_lock_is_held(
    client, audit, history
):
    # A decision that timed out on the lock fails the run; the marking cannot take the lock
    # either, and still tags the run's undecided version (the audit file catches up on sync).
    import fcntl
    import os

    registry = ModelRegistry(client, MODEL_NAME)
    undecided = registry.get_version(history["undecided"])
    fd = os.open(audit.default_lock_path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        marked = mark_run_versions_development(
            registry, audit, undecided.run_id, "lifecycle decision failed", lock_timeout_s=0.2
        )
    finally:
        os.close(fd)
    assert marked == [history["undecided"]]
    assert registry.get_version(history["undecided"]).stage == DEVELOPMENT
