"""Audit file ``data/06_models/model_versions.json`` (format: docs/lifecycle.md).

A human-readable mirror of the registry's lifecycle state plus an append-only list of
events. Every write is atomic (temp file in the same directory, fsync, ``os.replace``) so a
reader or a crash never sees half a file. A corrupt file is reported, never overwritten: it is
only ever set aside, by an explicit ``kedro models sync-audit --rebuild``.

While a lifecycle command changes the registry, ``pending`` holds what it is doing and how
the registry looked before (see ``changes.py``); it is cleared by the same write that records
the command's events.
"""

from __future__ import annotations

import getpass
import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from future_skills_kedro.atomic_files import atomic_write_text
from future_skills_kedro.lifecycle.registry import RegistryState, utc_now_iso

FORMAT_VERSION = 1
Action = Literal[
    "register",
    "promote",
    "challenger",
    "development",
    "rollback",
    "manual_promote",
    "archive",
    "prune",
    "recover",
    "sync",
    "rebuild",
]
ACTIONS = (
    "register",
    "promote",
    "challenger",
    "development",
    "rollback",
    "manual_promote",
    "archive",
    # Retention: a version's registry entry and artifacts deleted by `kedro models prune`.
    "prune",
    # Bookkeeping: an unfinished change undone, registry changes made elsewhere recorded
    # (another checkout, the MLflow UI), the file rebuilt from the registry.
    "recover",
    "sync",
    "rebuild",
)
CHAMPION_ACTIONS = ("promote", "manual_promote", "rollback")


class AuditLogCorrupt(RuntimeError):
    """The audit file exists but is not a valid audit log."""


class AuditLogNotWritable(RuntimeError):
    """The audit file's folder cannot be created or written."""


REBUILD_HINT = "`kedro models sync-audit --rebuild` sets it aside and rebuilds it from the registry"


def current_user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no login name in some containers: still record the event
        return "unknown"


@dataclass(frozen=True)
class AuditEvent:
    """One lifecycle event; ``from_version`` is the former champion / parent when relevant."""

    action: Action
    version: int | None
    semver: str | None = None
    from_version: int | None = None
    reason: str = ""
    run_id: str | None = None
    user: str = field(default_factory=current_user)
    timestamp: str = field(default_factory=utc_now_iso)

    def __post_init__(self) -> None:
        if self.action not in ACTIONS:
            raise ValueError(f"unknown audit action {self.action!r}; expected one of {ACTIONS}")


def mirror_of(state: RegistryState, metric: str) -> dict[str, Any]:
    """The registry part of the audit file: champion, challenger and every version."""
    return {
        "model_name": state.model_name,
        "champion": state.champion.version if state.champion else None,
        "challenger": state.challenger.version if state.challenger else None,
        "warnings": list(state.warnings),
        "versions": [
            {
                "version": v.version,
                "semver": v.semver,
                "stage": v.stage,
                "aliases": list(v.aliases),
                "metric": {"name": metric, "value": v.metric(metric)},
                "reason": v.promotion_reason,
                "created": v.created_iso,
                "run_id": v.run_id,
            }
            for v in state.versions
        ],
    }


def _empty() -> dict[str, Any]:
    return {
        "format_version": FORMAT_VERSION,
        "model_name": None,
        "champion": None,
        "challenger": None,
        "warnings": [],
        "versions": [],
        "events": [],
        "pending": None,
    }


class AuditLog:
    """Reader/writer of the audit file at ``path``."""

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = Path(path)

    @property
    def default_lock_path(self) -> Path:
        """The lock file serialising decisions: next to the audit file."""
        return self.path.with_name(self.path.name + ".lock")

    def read(self) -> dict[str, Any]:
        """The whole log; an empty log when the file does not exist."""
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return _empty()
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise AuditLogCorrupt(
                f"audit log {self.path} is not valid JSON ({exc}); it is never overwritten "
                f"automatically: repair it, or {REBUILD_HINT}"
            ) from exc
        if not isinstance(data, dict) or not isinstance(data.get("events", []), list):
            raise AuditLogCorrupt(
                f"audit log {self.path} is not an object with an 'events' list; "
                f"repair it, or {REBUILD_HINT}"
            )
        pending = data.get("pending")
        if pending is not None and not (
            isinstance(pending, dict) and isinstance(pending.get("snapshot"), dict)
        ):
            raise AuditLogCorrupt(
                f"audit log {self.path} has an unreadable 'pending' entry; "
                f"repair it, or {REBUILD_HINT}"
            )
        return {**_empty(), **data}

    def pending(self) -> dict[str, Any] | None:
        """The unfinished change recorded by :meth:`begin`, if any."""
        return self.read()["pending"]

    def check_writable(self) -> None:
        """Fail now, naming the folder, if the audit file could not be written later."""
        folder = self.path.parent
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise AuditLogNotWritable(
                f"cannot create the audit log's folder {folder}: {exc}"
            ) from exc
        if not os.access(folder, os.W_OK | os.X_OK):
            raise AuditLogNotWritable(f"the audit log's folder {folder} is not writable")

    def events(self) -> list[dict[str, Any]]:
        return self.read()["events"]

    def append(
        self,
        events: Iterable[AuditEvent],
        state: RegistryState | None = None,
        metric: str = "macro_f1",
    ) -> dict[str, Any]:
        """Append events and refresh the registry mirror, in one atomic write.

        Not safe against concurrent writers on its own: call it under ``decision_lock``.
        Clears ``pending``: the write that records a change's events is the one that ends it.
        """
        data = self.read()  # raises on a corrupt file before anything is written
        data["events"] = [*data["events"], *(asdict(e) for e in events)]
        if state is not None:
            data.update(mirror_of(state, metric))
        data["pending"] = None
        data["format_version"] = FORMAT_VERSION
        data["updated_at"] = utc_now_iso()
        self.write(data)
        return data

    def begin(self, intent: dict[str, Any]) -> None:
        """Record an unfinished change (``intent`` holds its registry snapshot), atomically."""
        data = self.read()
        if data["pending"] is not None:
            raise AuditLogCorrupt(f"audit log {self.path} already has an unfinished change")
        data["pending"] = intent
        self.write(data)

    def clear_pending(self) -> None:
        """Forget the unfinished change (its registry writes were undone)."""
        data = self.read()
        if data["pending"] is not None:
            data["pending"] = None
            self.write(data)

    def set_aside(self) -> Path:
        """Rename the file to ``<name>.unreadable-<UTC time>`` (kept for a human) and return it."""
        stamp = utc_now_iso().replace(":", "").replace("+0000", "Z")
        aside = self.path.with_name(f"{self.path.name}.unreadable-{stamp}")
        os.replace(self.path, aside)
        return aside

    def write(self, data: dict[str, Any]) -> None:
        """Atomically replace the file with ``data`` (indent 2, sorted keys)."""
        # Serialise first: an unserialisable value fails before any file is touched.
        text = json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
        # Keeps the permissions of the file it replaces (readable, not mkstemp's 0600).
        atomic_write_text(self.path, text)

    def last_champion_event(self, version: int) -> dict[str, Any] | None:
        """The latest event that made ``version`` champion (its from_version is the one before)."""
        for event in reversed(self.events()):
            if event.get("action") in CHAMPION_ACTIONS and event.get("version") == version:
                return event
        return None


def _named(version: Any) -> str:
    return "none" if version is None else f"v{version}"


def disagreements(data: Mapping[str, Any], state: RegistryState) -> list[str]:
    """Where the audit file's mirror and the registry differ; empty when they agree.

    With a shared registry each checkout has its own audit file, so a difference can be a
    change made from another checkout or in the MLflow UI, not only an interrupted command.
    """
    problems = []
    for role in ("champion", "challenger"):
        recorded = data.get(role)
        actual = getattr(state, role)
        actual_version = None if actual is None else actual.version
        if recorded != actual_version:
            problems.append(
                f"the audit log records {role} {_named(recorded)}, "
                f"the registry has {_named(actual_version)}"
            )
    recorded_versions = {
        entry.get("version"): entry
        for entry in data.get("versions") or []
        if isinstance(entry, dict)
    }
    missing = [info.version for info in state.versions if info.version not in recorded_versions]
    if missing:
        names = ", ".join(_named(v) for v in missing)
        problems.append(f"{names} {'is' if len(missing) == 1 else 'are'} not in the audit log")
    for info in state.versions:
        entry = recorded_versions.get(info.version)
        if entry is not None and entry.get("stage") != info.stage:
            problems.append(
                f"v{info.version} is {info.stage or 'undecided'} in the registry, "
                f"{entry.get('stage') or 'undecided'} in the audit log"
            )
    return problems


def describe_pending(pending: Mapping[str, Any], in_progress: bool) -> str:
    """One sentence on an unfinished change found in the audit file."""
    who = (
        f"{pending.get('operation', 'a change')} by {pending.get('user', 'unknown')} "
        f"(pid {pending.get('pid', '?')} on {pending.get('host', '?')}, "
        f"started {pending.get('started', '?')})"
    )
    if in_progress:
        return f"{who} is in progress"
    return (
        f"{who} did not finish and may have left the registry partly changed: "
        "the next `kedro models` write command or `kedro models sync-audit` puts it back"
    )
