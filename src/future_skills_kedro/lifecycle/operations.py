"""Lifecycle commands besides the training decision: the ``kedro models`` write commands, the
check before a training run, and marking the versions of a failed run.

Each write takes the decision lock, undoes a change an earlier process left unfinished, makes
every check that can fail, and only then writes, all or nothing (``changes.py``).
"""

from __future__ import annotations

import os
from pathlib import Path

from future_skills_kedro.lifecycle.audit_log import (
    AuditEvent,
    AuditLog,
    AuditLogCorrupt,
    disagreements,
)
from future_skills_kedro.lifecycle.changes import recover_interrupted, registry_change
from future_skills_kedro.lifecycle.locking import (
    DEFAULT_TIMEOUT_S,
    LockTimeout,
    decision_lock,
    ensure_lock_file,
)
from future_skills_kedro.lifecycle.registry import (
    LifecycleError,
    ModelRegistry,
    RegistryState,
    VersionInfo,
)
from future_skills_kedro.lifecycle.semver_policy import decide_version, parse_semver
from future_skills_kedro.lifecycle.service import archive_event, check_champion, version_event


def validate_override(registry: ModelRegistry, override: str | None) -> None:
    """Fail early (e.g. before training) when the override is invalid or not greater."""
    if override in (None, ""):
        return
    parse_semver(override)
    previous = registry.latest_decided()
    if previous is not None:
        facts = previous.facts()
        decide_version(facts, facts, override)


def check_before_training(
    registry: ModelRegistry,
    audit_log: AuditLog,
    *,
    override: str | None = None,
    lock_path: str | os.PathLike | None = None,
    lock_timeout_s: float = DEFAULT_TIMEOUT_S,
    metric: str = "macro_f1",
) -> None:
    """Everything the decision after a training run needs, checked before the training.

    Audit file readable and its folder writable, lock file creatable, semver override valid.
    An unfinished change left by a killed process is undone now (under the lock).
    """
    lock = lock_path or audit_log.default_lock_path
    audit_log.check_writable()
    ensure_lock_file(lock)
    if audit_log.pending() is not None:  # reads the file: a corrupt one fails here
        with decision_lock(lock, lock_timeout_s):
            recover_interrupted(registry, audit_log, metric)
    validate_override(registry, override)


def _ready_target(registry: ModelRegistry, version: int) -> VersionInfo:
    info = registry.get_version(version)
    if info.status not in (None, "READY"):
        raise LifecycleError(f"v{version} is {info.status}, not READY")
    return info


def promote_version(
    registry: ModelRegistry,
    audit_log: AuditLog,
    version: int,
    reason: str,
    *,
    lock_path: str | os.PathLike | None = None,
    lock_timeout_s: float = DEFAULT_TIMEOUT_S,
    metric: str = "macro_f1",
) -> RegistryState:
    """Manual promotion (``kedro models promote``): bypasses the policy, records who and why."""
    with decision_lock(lock_path or audit_log.default_lock_path, lock_timeout_s):
        recover_interrupted(registry, audit_log, metric)
        info = _ready_target(registry, version)
        former = registry.champion()
        if former is not None and former.version == info.version:
            raise LifecycleError(f"v{version} is already the champion")
        challenger = registry.challenger()
        touched = [v.version for v in (info, former, challenger) if v is not None]
        with registry_change(registry, audit_log, f"promotion of v{version}", touched):
            state = registry.promote_to_champion(info.version, reason)
            events = [
                version_event(
                    "manual_promote", info, info.semver, reason, former.version if former else None
                )
            ]
            if former is not None:
                events.append(archive_event(former, info.version, info.semver))
            check_champion(state, former)
            audit_log.append(events, state, metric)
    return state


def rollback_champion(
    registry: ModelRegistry,
    audit_log: AuditLog,
    *,
    to_version: int | None = None,
    reason: str | None = None,
    lock_path: str | os.PathLike | None = None,
    lock_timeout_s: float = DEFAULT_TIMEOUT_S,
    metric: str = "macro_f1",
) -> RegistryState:
    """Put the previous champion (or ``to_version``) back; the current one becomes Archived.

    The previous champion is the ``from_version`` of the audit event that made the current
    champion champion; without that, the most recently archived version in the registry.
    """
    with decision_lock(lock_path or audit_log.default_lock_path, lock_timeout_s):
        recover_interrupted(registry, audit_log, metric)
        current = registry.champion()
        target = (
            to_version
            if to_version is not None
            else _previous_champion(registry, audit_log, current)
        )
        if target is None:
            raise LifecycleError(
                "no previous champion to roll back to; name the version explicitly"
            )
        info = _ready_target(registry, target)
        if current is not None and current.version == info.version:
            raise LifecycleError(f"v{info.version} is already the champion")
        challenger = registry.challenger()
        why = reason or (
            f"rollback from v{current.version} ({current.semver or 'no semver'})"
            if current
            else "rollback"
        )
        touched = [v.version for v in (info, current, challenger) if v is not None]
        with registry_change(registry, audit_log, f"rollback to v{info.version}", touched):
            state = registry.rollback(info.version, why)
            events = [
                version_event(
                    "rollback", info, info.semver, why, current.version if current else None
                )
            ]
            if current is not None:
                events.append(archive_event(current, info.version, info.semver))
            check_champion(state, current)
            audit_log.append(events, state, metric)
    return state


def _previous_champion(
    registry: ModelRegistry, audit_log: AuditLog, current: VersionInfo | None
) -> int | None:
    if current is not None:
        event = audit_log.last_champion_event(current.version)
        previous = event.get("from_version") if event else None
        if (
            previous is not None
            and previous != current.version
            and registry.find_version(previous) is not None
        ):
            return int(previous)
    fallback = registry.previous_champion()
    if fallback is None or (current is not None and fallback.version == current.version):
        return None
    return fallback.version


def sync_audit_log(
    registry: ModelRegistry,
    audit_log: AuditLog,
    metric: str = "macro_f1",
    lock_path: str | os.PathLike | None = None,
    lock_timeout_s: float = DEFAULT_TIMEOUT_S,
) -> RegistryState:
    """``kedro models sync-audit``: undo an unfinished change, then make the audit file agree
    with the registry, recording what differed (a ``sync`` event) when something did."""
    with decision_lock(lock_path or audit_log.default_lock_path, lock_timeout_s):
        recover_interrupted(registry, audit_log, metric)
        state = registry.state()
        differences = disagreements(audit_log.read(), state)
        events = []
        if differences:
            champion = state.champion
            events.append(
                AuditEvent(
                    "sync",
                    None if champion is None else champion.version,
                    None if champion is None else champion.semver,
                    reason="registry changed outside this audit log: " + "; ".join(differences),
                )
            )
        audit_log.append(events, state, metric)
    return state


def rebuild_audit_log(
    registry: ModelRegistry,
    audit_log: AuditLog,
    metric: str = "macro_f1",
    lock_path: str | os.PathLike | None = None,
    lock_timeout_s: float = DEFAULT_TIMEOUT_S,
) -> tuple[RegistryState, Path]:
    """``kedro models sync-audit --rebuild``: set an unreadable audit file aside (kept for a
    human) and start a new one from the registry. Refuses on a readable file."""
    with decision_lock(lock_path or audit_log.default_lock_path, lock_timeout_s):
        try:
            audit_log.read()
        except AuditLogCorrupt as exc:
            problem = str(exc).split(";")[0]
        else:
            raise LifecycleError(
                f"{audit_log.path} is readable: nothing to rebuild "
                "(`kedro models sync-audit` brings it up to date and keeps its history)"
            )
        state = registry.state()
        aside = audit_log.set_aside()
        champion = state.champion
        event = AuditEvent(
            "rebuild",
            None if champion is None else champion.version,
            None if champion is None else champion.semver,
            reason=(
                f"rebuilt from the registry: {problem}; the unreadable file, with the earlier "
                f"history, is kept as {aside.name}"
            ),
        )
        audit_log.append([event], state, metric)
    return state, aside


def mark_run_versions_development(
    registry: ModelRegistry,
    audit_log: AuditLog,
    run_id: str,
    reason: str,
    *,
    lock_path: str | os.PathLike | None = None,
    lock_timeout_s: float = DEFAULT_TIMEOUT_S,
    metric: str = "macro_f1",
) -> list[int]:
    """A failed run promotes nothing: the undecided versions it registered become Development,
    with the reason, recorded in the audit file too when it is readable and the lock can be
    taken. Returns them.

    Without the lock (another decision holds it past the timeout, which is often why the run
    failed) the versions are still tagged: nobody else decides a run's own undecided versions,
    and an untagged version would look like a decision still to come. The audit file then
    records them at the next ``kedro models sync-audit``.
    """
    try:
        with decision_lock(lock_path or audit_log.default_lock_path, lock_timeout_s):
            return _mark_development_locked(registry, audit_log, run_id, reason, metric)
    except LockTimeout:
        return _tag_development(registry, run_id, reason)


def _tag_development(registry: ModelRegistry, run_id: str, reason: str) -> list[int]:
    undecided = [v for v in registry.versions_for_run(run_id) if v.stage is None]
    for info in undecided:
        registry.mark_development(info.version, reason, {})
    return [info.version for info in undecided]


def _mark_development_locked(
    registry: ModelRegistry, audit_log: AuditLog, run_id: str, reason: str, metric: str
) -> list[int]:
    undecided = [v for v in registry.versions_for_run(run_id) if v.stage is None]
    if not undecided:
        return []
    try:
        recover_interrupted(registry, audit_log, metric)
    except AuditLogCorrupt:
        # Tags only: the registry still says why; the audit file needs a human first.
        return _tag_development(registry, run_id, reason)
    touched = [info.version for info in undecided]
    with registry_change(registry, audit_log, f"marking run {run_id}", touched):
        for info in undecided:
            state = registry.mark_development(info.version, reason, {})
        events = [version_event("development", info, None, reason, None) for info in undecided]
        audit_log.append(events, state, metric)
    return touched
