"""Audit file ``data/06_models/model_versions.json`` (format: docs/lifecycle.md).

A human-readable mirror of the registry's lifecycle state plus an append-only list of
events. Every write is atomic (temp file in the same directory, fsync, ``os.replace``) so a
reader or a crash never sees half a file. A corrupt file is reported, never overwritten.
"""

from __future__ import annotations

import getpass
import json
import os
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from future_skills_kedro.atomic_files import atomic_write_text
from future_skills_kedro.lifecycle.registry import RegistryState, utc_now_iso

FORMAT_VERSION = 1
Action = Literal[
    "register", "promote", "challenger", "development", "rollback", "manual_promote", "archive"
]
ACTIONS = (
    "register",
    "promote",
    "challenger",
    "development",
    "rollback",
    "manual_promote",
    "archive",
)
CHAMPION_ACTIONS = ("promote", "manual_promote", "rollback")


class AuditLogCorrupt(RuntimeError):
    """The audit file exists but is not a valid audit log."""


def _current_user() -> str:
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
    user: str = field(default_factory=_current_user)
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
                "automatically: repair it or move it aside"
            ) from exc
        if not isinstance(data, dict) or not isinstance(data.get("events", []), list):
            raise AuditLogCorrupt(
                f"audit log {self.path} is not an object with an 'events' list; "
                "repair it or move it aside"
            )
        return {**_empty(), **data}

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
        """
        data = self.read()  # raises on a corrupt file before anything is written
        data["events"] = [*data["events"], *(asdict(e) for e in events)]
        if state is not None:
            data.update(mirror_of(state, metric))
        data["format_version"] = FORMAT_VERSION
        data["updated_at"] = utc_now_iso()
        self.write(data)
        return data

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
