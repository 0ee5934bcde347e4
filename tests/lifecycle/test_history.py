"""Champion/challenger history replayed from audit events and checked against the registry."""

from __future__ import annotations

import pytest

from future_skills_kedro.lifecycle import RegistryState, VersionInfo
from future_skills_kedro.lifecycle.history import InvalidTime, build_history, parse_time


def _event(action: str, version: int | None, minute: int, **extra) -> dict:
    return {
        "action": action,
        "version": version,
        "semver": None if version is None else f"1.{version}.0",
        "reason": extra.pop("reason", f"{action} v{version}"),
        "user": "alice",
        "run_id": extra.pop("run_id", f"run-{version}"),
        "timestamp": f"2026-03-31T12:{minute:02d}:00+00:00",
        **extra,
    }


EVENTS = [
    _event("register", 1, 0),
    _event("promote", 1, 1),
    _event("register", 2, 10),
    _event("challenger", 2, 11),
    _event("register", 3, 20),
    _event("challenger", 3, 21),
    _event("development", 2, 21, reason="displaced as challenger by v3"),
    _event("manual_promote", 3, 30, run_id="run-3"),  # the challenger promoted by hand
    _event("archive", 1, 30),
    _event("rollback", 1, 40),
    _event("archive", 3, 40),
]


def _state(champion: int | None, challenger: int | None, versions=(1, 2, 3)) -> RegistryState:
    infos = {
        n: VersionInfo(
            n,
            tags={"semver": f"1.{n}.0"},
            aliases=tuple(
                a for a, v in (("champion", champion), ("challenger", challenger)) if v == n
            ),
        )
        for n in versions
    }
    return RegistryState(
        "m", tuple(infos.values()), infos.get(champion or -1), infos.get(challenger or -1)
    )


def test_replay_lists_each_role_change_once_in_order():
    history = build_history(_state(1, None), {"events": EVENTS})
    assert [(c.role, c.version, c.previous, c.action) for c in history.changes] == [
        ("champion", 1, None, "promote"),
        ("challenger", 2, None, "challenger"),
        ("challenger", 3, 2, "challenger"),  # v2's development event changes nothing more
        ("champion", 3, 1, "manual_promote"),
        ("challenger", None, 3, "manual_promote"),  # promoting the challenger frees the alias
        ("champion", 1, 3, "rollback"),
    ]
    assert history.warnings == ()
    assert history.changes[0].by == "run run-1 (alice)"
    assert history.changes[3].by == "alice"  # a person's decision names the person


@pytest.mark.parametrize(
    ("when", "champion", "challenger"),
    [
        ("2026-03-31T12:00:59", None, None),
        ("2026-03-31T12:01", 1, None),  # the second of the promotion counts
        ("2026-03-31T12:15", 1, 2),
        ("2026-03-31T12:25", 1, 3),
        ("2026-03-31T14:35+02:00", 3, None),  # 12:35 UTC
        ("2026-04-30T00:00Z", 1, None),
    ],
)
def test_at_names_the_holders_of_that_moment(when, champion, challenger):
    holders = build_history(_state(1, None), {"events": EVENTS}).at(parse_time(when))
    assert [None if c is None else c.version for c in holders.values()] == [champion, challenger]


def test_a_registry_changed_elsewhere_or_a_deleted_version_is_a_warning():
    history = build_history(_state(2, None, versions=(2, 3)), {"events": EVENTS})
    assert history.warnings == (
        "the registry's champion is v2 but the audit log's history ends with v1: changed from "
        "another checkout or the MLflow UI? `kedro models sync-audit` records it",
        "v1 is in the audit log but not in the registry",
    )
    pruned = [*EVENTS, _event("prune", 1, 50)]
    assert len(build_history(_state(2, None, versions=(2, 3)), {"events": pruned}).warnings) == 1


def test_history_starts_at_the_first_event_and_a_rebuild_names_the_champion_then():
    history = build_history(_state(4, None, versions=(4,)), {"events": [_event("rebuild", 4, 5)]})
    assert [(c.version, c.action) for c in history.changes] == [(4, "rebuild")]
    assert not history.known_at(parse_time("2026-03-31T12:00"))
    assert history.known_at(parse_time("2026-03-31T12:05"))


@pytest.mark.parametrize("text", ["yesterday", "2026-13-01", "", "31/03/2026"])
def test_a_time_that_is_not_iso_is_refused_naming_it(text):
    with pytest.raises(InvalidTime, match="is not a time"):
        parse_time(text)
