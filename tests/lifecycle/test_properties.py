"""Property: whatever fails, wherever it fails, the lifecycle commands leave exactly one
champion, a readable audit log, and the two in agreement; a command that fails changes nothing.

Hypothesis draws short sequences of commands (promote, rollback, the training decision,
sync-audit) on a real SQLite registry holding a small history, each with an injected failure:
a registry error on the Nth registry call, a registry that stops answering from the Nth call
(which also leaves a change that cannot be undone at once, as a killed process does), a full
disk from the Nth audit write, or a corrupt audit file. A real killed process is tested in
test_changes.py. Examples are derandomized: CI runs the same ones every time.
"""

from __future__ import annotations

import os
from pathlib import Path

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException

from future_skills_kedro.lifecycle import (
    PRODUCTION,
    AuditLog,
    AuditLogCorrupt,
    LifecycleError,
    ModelRegistry,
    PromotionPolicy,
    apply_lifecycle,
    disagreements,
    promote_version,
    rebuild_audit_log,
    rollback_champion,
    sync_audit_log,
)

from .conftest import HISTORY, MODEL_NAME, candidate, copy_history
from .faults import FaultyClient, FullDiskAuditLog

VERSIONS = sorted(HISTORY.values())
COMMANDS = st.one_of(
    st.tuples(st.just("promote"), st.sampled_from(VERSIONS)),
    st.tuples(st.just("rollback"), st.sampled_from([None, *VERSIONS])),
    st.tuples(st.just("decide"), st.sampled_from([0.30, 0.65, 0.80])),  # v4's macro_f1
    st.tuples(st.just("sync"), st.none()),
)
# (kind, N): the Nth registry call fails, or every call from the Nth on, or every audit write
# from the Nth on (N folded into 1-3: a command writes the audit file 2 or 3 times).
FAULTS = st.tuples(
    st.sampled_from(
        ["registry error", "registry outage", "full disk", "corrupt audit file", "no failure"]
    ),
    st.integers(1, 60),
)
EXPECTED = (LifecycleError, AuditLogCorrupt, MlflowException, OSError)
# The events that say who the champion is, most recent last.
CHAMPION_EVENTS = ("promote", "manual_promote", "rollback", "recover", "sync", "rebuild")


class FullDiskFromNthWrite(FullDiskAuditLog):
    """A disk that stays full once it is: every write from the Nth on fails."""

    def write(self, data):
        if self.fail_at is not None and self.writes + 1 > self.fail_at:
            self.fail_at = self.writes + 1
        super().write(data)


def _registry_view(registry: ModelRegistry) -> dict:
    return {
        "aliases": registry.alias_map(),
        "tags": {v.version: dict(v.tags) for v in registry.list_versions()},
    }


def _run(command: tuple, registry: ModelRegistry, audit: AuditLog) -> None:
    name, argument = command
    if name == "promote":
        promote_version(registry, audit, argument, "property test")
    elif name == "rollback":
        rollback_champion(registry, audit, to_version=argument, reason="property test")
    elif name == "decide":
        champion = registry.champion()
        facts = candidate(
            HISTORY["undecided"],
            argument,
            params_hash="d",
            evaluated_champion_version=champion.version,
            champion_metrics={"macro_f1": champion.metric("macro_f1")},
        )
        apply_lifecycle(registry, audit, facts, PromotionPolicy())
    else:
        sync_audit_log(registry, audit)


def _assert_one_champion_in_agreement(registry: ModelRegistry, audit: AuditLog) -> None:
    data = audit.read()  # readable
    assert data["pending"] is None
    state = registry.state()
    assert state.warnings == ()
    assert state.champion is not None
    production = [v.version for v in state.versions if v.stage == PRODUCTION]
    assert production == [state.champion.version]
    assert disagreements(data, state) == []
    last = [e for e in data["events"] if e["action"] in CHAMPION_EVENTS][-1]
    assert last["version"] == state.champion.version, last


def _step(client: MlflowClient, audit_path: Path, command: tuple, fault: tuple) -> None:
    healthy, audit = ModelRegistry(client, MODEL_NAME), AuditLog(audit_path)
    before, events_before = _registry_view(healthy), audit.events()
    kind, at = fault
    faulty = FaultyClient(client)
    failing_audit = audit
    if kind == "registry error":
        faulty.fail_at = at
    elif kind == "registry outage":
        faulty.fail_at, faulty.outage = at, True
    elif kind == "full disk":
        failing_audit = FullDiskFromNthWrite(audit_path, fail_at=1 + at % 3)
    elif kind == "corrupt audit file":
        text = audit_path.read_bytes()
        audit_path.write_bytes(text[: len(text) // 2])

    try:
        _run(command, ModelRegistry(faulty, MODEL_NAME), failing_audit)
        failure = None
    except EXPECTED as exc:
        failure = exc
    faulty.heal()

    if kind == "corrupt audit file":
        assert isinstance(failure, AuditLogCorrupt), failure
        assert _registry_view(healthy) == before
        rebuild_audit_log(healthy, audit)  # the documented repair
        event("corrupt audit file: refused, rebuilt")
        return
    injected = faulty.failed or getattr(failing_audit, "failed", False)
    if failure is None:
        event(f"{command[0]}: done{' despite a failed read' if injected else ''}")
        return
    if audit.pending() is not None:
        # Not undone at once (registry or disk still failing): the next command does it.
        assert injected
        sync_audit_log(healthy, audit)
        event(f"{command[0]}: {kind} left it unfinished; the next command put it back")
    elif injected:
        event(f"{command[0]}: {kind}: {type(failure).__name__}, nothing changed")
    else:
        event(f"{command[0]}: refused")
    assert _registry_view(healthy) == before, failure  # all or nothing
    events = audit.events()
    assert events[: len(events_before)] == events_before
    assert {e["action"] for e in events[len(events_before) :]} <= {"recover"}, events


@settings(
    max_examples=int(os.environ.get("LIFECYCLE_PROPERTY_EXAMPLES", "40")),
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=st.lists(st.tuples(COMMANDS, FAULTS), min_size=1, max_size=3))
def test_any_injected_failure_leaves_one_champion_in_agreement(
    history_template, tmp_path_factory, steps
):
    uri, audit_path = copy_history(history_template, tmp_path_factory.mktemp("example"))
    client = MlflowClient(tracking_uri=uri)
    for command, fault in steps:
        _step(client, audit_path, command, fault)
        _assert_one_champion_in_agreement(ModelRegistry(client, MODEL_NAME), AuditLog(audit_path))
