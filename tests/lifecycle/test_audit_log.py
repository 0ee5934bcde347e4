"""Audit file: readable JSON, append-only events, atomic writes, loud on corruption."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from future_skills_kedro.lifecycle import AuditEvent, AuditLog, AuditLogCorrupt
from future_skills_kedro.lifecycle.registry import RegistryState, VersionInfo


def state() -> RegistryState:
    champion = VersionInfo(
        1,
        tags={
            "semver": "1.0.0",
            "stage": "Production",
            "promotion_reason": "first",
            "metric.macro_f1": "0.7",
        },
        aliases=("champion",),
        run_id="r1",
        created_ms=0,
    )
    return RegistryState("future-skills-model", (champion,), champion, None)


def test_missing_file_reads_as_empty_log(tmp_path: Path):
    log = AuditLog(tmp_path / "06_models" / "model_versions.json")
    data = log.read()
    assert data["events"] == []
    assert data["versions"] == []
    assert not log.path.exists()


def test_append_writes_mirror_and_events(tmp_path: Path):
    log = AuditLog(tmp_path / "06_models" / "model_versions.json")
    log.append([AuditEvent("register", 1, "1.0.0", reason="INITIAL", run_id="r1")], state())
    log.append([AuditEvent("promote", 1, "1.0.0", reason="first model passing the floor")])
    text = log.path.read_text()
    assert text.startswith('{\n  "challenger"')  # indent 2, sorted keys
    data = json.loads(text)
    assert [e["action"] for e in data["events"]] == ["register", "promote"]
    event = data["events"][0]
    assert set(event) == {
        "action",
        "version",
        "semver",
        "from_version",
        "reason",
        "user",
        "run_id",
        "timestamp",
    }
    assert event["timestamp"].endswith("+00:00")
    assert event["user"]
    assert data["champion"] == 1
    assert data["versions"] == [
        {
            "version": 1,
            "semver": "1.0.0",
            "stage": "Production",
            "aliases": ["champion"],
            "metric": {"name": "macro_f1", "value": 0.7},
            "reason": "first",
            "created": "1970-01-01T00:00:00+00:00",
            "run_id": "r1",
        }
    ]
    assert log.last_champion_event(1)["action"] == "promote"
    assert oct(log.path.stat().st_mode & 0o777) == "0o644"


def test_unknown_action_is_rejected():
    with pytest.raises(ValueError, match="unknown audit action"):
        AuditEvent("deploy", 1)


def leftovers(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p.name.endswith(".tmp"))


def test_failed_serialisation_keeps_old_file(tmp_path: Path):
    log = AuditLog(tmp_path / "model_versions.json")
    log.append([AuditEvent("register", 1, "1.0.0")])
    before = log.path.read_bytes()
    with pytest.raises(TypeError):
        log.append([AuditEvent("promote", 1, "1.0.0", reason=object())])  # not JSON
    assert log.path.read_bytes() == before
    assert leftovers(tmp_path) == []


def test_failed_replace_keeps_old_file_and_leaves_no_temp(tmp_path: Path, monkeypatch):
    log = AuditLog(tmp_path / "model_versions.json")
    log.append([AuditEvent("register", 1, "1.0.0")])
    before = log.path.read_bytes()

    def crash(*_args, **_kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError, match="disk full"):
        log.append([AuditEvent("promote", 1, "1.0.0")])
    assert log.path.read_bytes() == before
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize("content", ["{not json", "[1, 2]", '{"events": 3}'])
def test_corrupt_file_raises_and_is_never_overwritten(tmp_path: Path, content: str):
    path = tmp_path / "model_versions.json"
    path.write_text(content)
    log = AuditLog(path)
    with pytest.raises(AuditLogCorrupt, match=str(path)):
        log.read()
    with pytest.raises(AuditLogCorrupt):
        log.append([AuditEvent("register", 1, "1.0.0")])
    assert path.read_text() == content
