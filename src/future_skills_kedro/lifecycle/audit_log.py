"""Audit file ``data/06_models/model_versions.json`` (ARCHITECTURE.md §5).

A human-readable mirror of the registry's lifecycle state plus an append-only list of
events. Every write is atomic (temp file in the same directory, fsync, ``os.replace``) so a
reader or a crash never sees half a file. A corrupt file is reported, never overwritten.
"""

from __future__ import annotations

import getpass
import json
import os
import tempfile
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

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
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(
            dir=self.path.parent, prefix=f".{self.path.name}.", suffix=".tmp"
        )
        try:
            # mkstemp creates 0600; keep the audit file readable like the one it replaces.
            os.chmod(tmp_name, _mode_of(self.path))
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(text)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp_name, self.path)
        except BaseException:
            # Leave the old file intact and no temp file behind.
            Path(tmp_name).unlink(missing_ok=True)
            raise
        _fsync_directory(self.path.parent)

    def last_champion_event(self, version: int) -> dict[str, Any] | None:
        """The latest event that made ``version`` champion (its from_version is the one before)."""
        for event in reversed(self.events()):
            if event.get("action") in CHAMPION_ACTIONS and event.get("version") == version:
                return event
        return None


def _mode_of(path: Path) -> int:
    try:
        return path.stat().st_mode & 0o777
    except FileNotFoundError:
        return 0o644


def _fsync_directory(directory: Path) -> None:
    # Makes the rename itself durable on POSIX; not possible (nor needed) on Windows.
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
