"""Registry adapter against a real SQLite MLflow store (no mocks)."""

from __future__ import annotations

import pytest

from future_skills_kedro.lifecycle import (
    ARCHIVED,
    DEVELOPMENT,
    PRODUCTION,
    STAGING,
    LifecycleError,
    ModelRegistry,
    VersionNotFound,
)

from .conftest import MODEL_NAME


@pytest.fixture
def registry(client) -> ModelRegistry:
    return ModelRegistry(client, MODEL_NAME)


def test_reads_on_a_store_without_the_model(registry):
    assert registry.champion() is None
    assert registry.challenger() is None
    assert registry.list_versions() == []
    assert registry.latest_version() is None
    assert registry.find_version(1) is None
    state = registry.state()
    assert (state.champion, state.challenger, state.versions) == (None, None, ())


def test_reads(registry, register, client):
    v1, v2, v3 = register(), register(), register()
    run_of_v2 = client.get_model_version(MODEL_NAME, str(v2)).run_id
    assert [v.version for v in registry.versions_for_run(run_of_v2)] == [v2]
    assert registry.versions_for_run("0" * 32) == []

    assert registry.champion() is None  # registered model exists, alias does not
    registry.set_alias("champion", v1)
    registry.set_alias("challenger", v2)
    registry.set_tags(v1, {"semver": "1.0.0", "stage": PRODUCTION, "skip": None})
    registry.set_tags(v2, {"semver": "1.1.0-rc.1", "stage": STAGING})
    registry.set_tags(v3, {"semver": "1.0.1"})

    assert registry.champion().version == v1
    assert registry.challenger().aliases == ("challenger",)
    assert "skip" not in registry.get_version(v1).tags
    versions = registry.list_versions()
    assert [(v.version, v.aliases) for v in versions] == [
        (v1, ("champion",)),
        (v2, ("challenger",)),
        (v3, ()),
    ]
    assert versions[0].created_iso.endswith("+00:00")
    assert registry.get_by_semver("1.0.1").version == v3
    assert registry.get_by_semver("9.9.9") is None
    assert registry.latest_version().version == v3
    assert registry.latest_version(exclude=(v3,)).version == v2
    # The parent of the next semver is the highest semver, not the highest number.
    assert registry.latest_decided().version == v2
    assert registry.latest_decided(exclude=(v2,)).version == v3
    with pytest.raises(VersionNotFound, match="has no version 99"):
        registry.get_version(99)

    registry.delete_alias("challenger")
    registry.delete_alias("challenger")  # deleting a missing alias is not an error
    assert registry.challenger() is None
    assert any("v3 has a semver but no stage" in w for w in registry.state().warnings)


def test_promote_archive_and_rollback(registry, register):
    v1, v2 = register(), register()
    state = registry.promote_to_champion(v1, "first", {"semver": "1.0.0"})
    assert state.champion.version == v1
    assert state.get(v1).stage == PRODUCTION
    assert state.get(v1).promotion_reason == "first"

    registry.mark_challenger(v2, "close call")
    state = registry.promote_to_champion(v2, "better")
    assert state.champion.version == v2
    assert state.challenger is None  # the challenger was promoted: alias cleared
    assert state.get(v1).stage == ARCHIVED
    assert "archived_at" in state.get(v1).tags
    assert registry.previous_champion().version == v1
    assert state.warnings == ()

    state = registry.rollback(v1, "v2 misbehaves")
    assert state.champion.version == v1
    assert state.get(v2).stage == ARCHIVED
    assert "archived_at" not in state.get(v1).tags
    with pytest.raises(LifecycleError, match="already the champion"):
        registry.rollback(v1, "again")


def test_challenger_and_development(registry, register):
    v1, v2, v3 = register(), register(), register()
    registry.promote_to_champion(v1, "first")
    registry.mark_challenger(v2, "close")
    state = registry.mark_challenger(v3, "closer")
    assert state.challenger.version == v3
    assert state.get(v2).stage == DEVELOPMENT  # displaced challenger
    state = registry.mark_development(v3, "demoted")
    assert state.challenger is None
    assert state.get(v3).stage == DEVELOPMENT
    with pytest.raises(LifecycleError, match="would leave no champion"):
        registry.mark_development(v1, "no")
    with pytest.raises(LifecycleError, match="is the champion"):
        registry.mark_challenger(v1, "no")
    assert registry.champion().version == v1


@pytest.mark.parametrize("crash_at", ["set_alias", "_archive"])
def test_crash_during_promotion_leaves_a_valid_champion(registry, register, monkeypatch, crash_at):
    v1, v2 = register(), register()
    registry.promote_to_champion(v1, "first")

    def crash(*_args, **_kwargs):
        raise RuntimeError("process killed")

    monkeypatch.setattr(registry, crash_at, crash)
    with pytest.raises(RuntimeError, match="process killed"):
        registry.promote_to_champion(v2, "better")
    monkeypatch.undo()

    champion = registry.champion()
    assert champion is not None
    assert champion.status == "READY"
    assert champion.stage == PRODUCTION
    # Before the alias moved the old champion serves; after, the new one does.
    assert champion.version == (v1 if crash_at == "set_alias" else v2)
    # The leftover Production tag (new or former champion) is reported, never silent.
    assert any("interrupted promotion" in w for w in registry.state().warnings)
