"""Champion and challenger history (``kedro models history``).

The registry only knows who holds each alias *now*; the audit file's append-only events know
every change. The history replays the events (which role moved to which version, when, who or
which training run, why) and checks the result against the registry: the replay must end on
the registry's champion and challenger, and each version it names must still be in the
registry with the same semver, or have been pruned (a ``prune`` event). Any difference is a
warning, never silently ignored: a change made from another checkout or the MLflow UI shows up
here until ``kedro models sync-audit`` records it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from typing import Any

from future_skills_kedro.lifecycle.audit_log import CHAMPION_ACTIONS
from future_skills_kedro.lifecycle.registry import (
    CHALLENGER,
    CHAMPION,
    LifecycleError,
    RegistryState,
)

ROLES = (CHAMPION, CHALLENGER)
# Bookkeeping events carry the champion of that moment: a different one is a change.
_STATE_ACTIONS = ("recover", "sync", "rebuild")


class InvalidTime(LifecycleError, ValueError):
    """A ``--at`` value that is not an ISO 8601 time."""


@dataclass(frozen=True)
class RoleChange:
    """``role`` moved from ``previous`` to ``version`` (None: the role became empty)."""

    timestamp: str
    role: str
    version: int | None
    semver: str | None
    previous: int | None
    action: str
    reason: str
    user: str
    run_id: str | None

    @property
    def by(self) -> str:
        """Who or which run: the training run for a decision after training, else the user."""
        if self.action in ("promote", "challenger", "development") and self.run_id:
            return f"run {self.run_id} ({self.user})"
        return self.user

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "by": self.by}


@dataclass(frozen=True)
class History:
    model_name: str
    changes: tuple[RoleChange, ...]
    warnings: tuple[str, ...]
    starts_at: str | None  # time of the first event; earlier history is unknown

    def at(self, when: datetime) -> dict[str, RoleChange | None]:
        """The change that put each role's holder in place at ``when`` (None: nobody held it,
        or the role was emptied). Changes are in event order; the last one at or before wins."""
        holders: dict[str, RoleChange | None] = dict.fromkeys(ROLES)
        for change in self.changes:
            if parse_time(change.timestamp) <= when:
                holders[change.role] = change
        return holders

    def known_at(self, when: datetime) -> bool:
        return self.starts_at is not None and parse_time(self.starts_at) <= when


def parse_time(text: str) -> datetime:
    """An ISO 8601 time as an aware UTC datetime; a naive time is UTC.

    Raises :class:`InvalidTime` naming the value.
    """
    try:
        parsed = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except (ValueError, AttributeError):
        raise InvalidTime(
            f"{text!r} is not a time: use ISO 8601, e.g. 2026-03-31T12:00 (UTC) "
            "or 2026-03-31T14:00+02:00"
        ) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed.astimezone(timezone.utc)


def _change(
    event: Mapping[str, Any], role: str, version: int | None, previous: int | None, reason: str
) -> RoleChange:
    return RoleChange(
        timestamp=str(event.get("timestamp", "")),
        role=role,
        version=version,
        semver=event.get("semver") if version == event.get("version") else None,
        previous=previous,
        action=str(event.get("action")),
        reason=reason,
        user=str(event.get("user", "unknown")),
        run_id=event.get("run_id"),
    )


def replay(events: Iterable[Mapping[str, Any]]) -> list[RoleChange]:
    """Every change of champion and challenger the events record, in their order."""
    holder: dict[str, int | None] = dict.fromkeys(ROLES)
    changes: list[RoleChange] = []

    def move(event: Mapping[str, Any], role: str, version: int | None, reason: str) -> None:
        if holder[role] != version:
            changes.append(_change(event, role, version, holder[role], reason))
            holder[role] = version

    for event in events:
        action, version = event.get("action"), event.get("version")
        reason = str(event.get("reason") or "")
        if action in CHAMPION_ACTIONS and version is not None:
            move(event, CHAMPION, version, reason)
            if holder[CHALLENGER] == version:  # promoting the challenger frees its alias
                move(event, CHALLENGER, None, f"v{version} became champion")
        elif action == "challenger" and version is not None:
            move(event, CHALLENGER, version, reason)
        elif action == "development" and version is not None and holder[CHALLENGER] == version:
            move(event, CHALLENGER, None, f"v{version} to development: {reason}")
        elif action in _STATE_ACTIONS:
            move(event, CHAMPION, version, f"{action}: {reason}")
    return changes


def build_history(state: RegistryState, data: Mapping[str, Any]) -> History:
    """The history of the audit file ``data`` (``AuditLog.read()``), checked against ``state``."""
    events = [event for event in data.get("events") or [] if isinstance(event, Mapping)]
    changes = replay(events)
    warnings: list[str] = []
    pruned = {event.get("version") for event in events if event.get("action") == "prune"}
    for role in ROLES:
        actual = getattr(state, role)
        actual_version = None if actual is None else actual.version
        last = next((c for c in reversed(changes) if c.role == role), None)
        recorded = None if last is None else last.version
        if recorded != actual_version:
            warnings.append(
                f"the registry's {role} is {_named(actual_version)} but the audit log's history "
                f"ends with {_named(recorded)}: changed from another checkout or the MLflow UI? "
                "`kedro models sync-audit` records it"
            )
    seen: set[int] = set()
    for change in changes:
        if change.version is None or change.version in seen:
            continue
        seen.add(change.version)
        info = state.get(change.version)
        if info is None:
            if change.version not in pruned:
                warnings.append(f"v{change.version} is in the audit log but not in the registry")
        elif change.semver and info.semver and change.semver != info.semver:
            warnings.append(
                f"v{change.version} is {change.semver} in the audit log, "
                f"{info.semver} in the registry"
            )
    starts_at = str(events[0]["timestamp"]) if events and events[0].get("timestamp") else None
    return History(state.model_name, tuple(changes), tuple(warnings), starts_at)


def _named(version: int | None) -> str:
    return "none" if version is None else f"v{version}"
