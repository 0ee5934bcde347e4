"""apply_lifecycle and the CLI operations against a real SQLite MLflow store."""

from __future__ import annotations

import json
import multiprocessing
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import yaml

from future_skills_kedro.lifecycle import (
    ARCHIVED,
    DEVELOPMENT,
    PRODUCTION,
    STAGING,
    AuditLog,
    CandidateFacts,
    InvalidSemverOverride,
    LifecycleError,
    LifecycleSettings,
    LockTimeout,
    ModelRegistry,
    PromotionPolicy,
    apply_lifecycle,
    decision_lock,
    promote_version,
    rollback_champion,
    sync_audit_log,
    validate_override,
)

from ._workers import decide_in_process
from .conftest import MODEL_NAME, SCHEMA, candidate

POLICY = PromotionPolicy()

PROJECT_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def registry(client) -> ModelRegistry:
    return ModelRegistry(client, MODEL_NAME)


@pytest.fixture
def audit(tmp_path: Path) -> AuditLog:
    return AuditLog(tmp_path / "data" / "06_models" / "model_versions.json")


def decide(registry, audit, facts: CandidateFacts, policy=POLICY, **kwargs):
    return apply_lifecycle(registry, audit, facts, policy, **kwargs)


def test_first_then_better_then_worse(registry, audit, register):
    v1, v2, v3 = register(), register(), register()

    first = decide(registry, audit, candidate(v1, 0.70))
    assert (first.semver, first.promotion.outcome) == ("1.0.0", "champion")
    assert first.line == (
        f"future-skills-model v{v1} = 1.0.0 -> champion: first model passing the floor: "
        "macro_f1 0.700 (passes floor 0.400)"
    )
    tags = registry.get_version(v1).tags
    assert {k: tags[k] for k in ("semver", "stage", "git_sha", "kedro_run_id")} == {
        "semver": "1.0.0",
        "stage": PRODUCTION,
        "git_sha": "abc1234",
        "kedro_run_id": f"kedro-{v1}",
    }
    assert tags["promotion_reason"].startswith("first model passing the floor")
    assert {"parent_semver"} & set(tags) == set()  # no parent for the first version
    assert {"data_hash", "params_hash", "input_schema_hash", "holdout_hash"} <= set(tags)

    better = candidate(
        v2,
        0.742,
        params_hash="params-b",
        evaluated_champion_version=v1,
        champion_metrics={"macro_f1": 0.721},
    )
    second = decide(registry, audit, better)
    assert second.semver == "1.1.0"
    assert second.promotion.reason == "macro_f1 0.742 vs 0.721 (+0.021 >= 0.010)"
    assert second.evidence == "run-evaluation"
    assert second.champion_version == v2
    assert registry.get_version(v2).tags["parent_semver"] == "1.0.0"
    assert registry.get_version(v1).stage == ARCHIVED

    rebuild = candidate(
        v3,
        0.70,
        params_hash="params-b",
        evaluated_champion_version=v2,
        champion_metrics={"macro_f1": 0.742},
    )
    third = decide(registry, audit, rebuild)
    assert (third.semver, third.promotion.outcome) == ("1.1.1", "challenger")
    assert third.state.challenger.version == v3
    assert third.champion_version == v2

    data = json.loads(audit.path.read_text())
    assert [(e["action"], e["version"]) for e in data["events"]] == [
        ("register", v1),
        ("promote", v1),
        ("register", v2),
        ("promote", v2),
        ("archive", v1),
        ("register", v3),
        ("challenger", v3),
    ]
    assert data["events"][3]["from_version"] == v1
    assert data["champion"] == v2
    assert data["challenger"] == v3
    assert [v["stage"] for v in data["versions"]] == [ARCHIVED, PRODUCTION, STAGING]
    assert data["versions"][1]["metric"] == {"name": "macro_f1", "value": 0.742}


def test_floor_failure_and_nan_go_to_development(registry, audit, register):
    v1, v2, v3 = register(), register(), register()
    decide(registry, audit, candidate(v1, 0.70))
    low = decide(registry, audit, candidate(v2, 0.30, data_hash="data-q2"))
    assert (low.semver, low.promotion.outcome) == ("1.1.0", "development")
    nan = decide(registry, audit, candidate(v3, float("nan"), data_hash="data-q3"))
    assert nan.promotion.reason == "macro_f1 is NaN or not a number in the challenger metrics"
    assert registry.get_version(v3).stage == DEVELOPMENT
    assert "metric.macro_f1" not in registry.get_version(v3).tags
    assert registry.champion().version == v1


def test_incompatible_champion_is_replaced_with_major_bump(registry, audit, register):
    v1, v2 = register(), register()
    decide(registry, audit, candidate(v1, 0.90))
    new_schema = [*SCHEMA, ("scarcity_index", "float64")]
    outcome = decide(registry, audit, candidate(v2, 0.50, input_schema=new_schema))
    assert outcome.semver == "2.0.0"
    assert outcome.version_decision.reason == "MAJOR: input schema changed (added scarcity_index)"
    assert outcome.evidence == "incompatible"
    assert outcome.promotion.outcome == "champion"
    assert outcome.promotion.reason.startswith("champion incompatible with the current input")


def test_stale_champion_blocks_promotion_on_another_holdout(registry, audit, register):
    v1, v2, v3 = register(), register(), register()
    decide(registry, audit, candidate(v1, 0.60))
    decide(
        registry,
        audit,
        candidate(
            v2,
            0.65,
            params_hash="b",
            evaluated_champion_version=v1,
            champion_metrics={"macro_f1": 0.60},
        ),
    )
    # v3's run evaluated v1 on a new holdout, but v2 became champion meanwhile.
    stale = candidate(
        v3,
        0.95,
        data_hash="data-q2",
        holdout_hash="holdout-q2",
        evaluated_champion_version=v1,
        champion_metrics={"macro_f1": 0.60},
    )
    outcome = decide(registry, audit, stale)
    assert outcome.promotion.outcome == "challenger"
    assert outcome.evidence == "stale"
    assert outcome.promotion.reason.startswith(
        f"champion changed during the run (v{v1} -> v{v2}); re-evaluate"
    )
    assert registry.champion().version == v2


def test_stored_metric_on_same_holdout_is_used_when_champion_changed(registry, audit, register):
    v1, v2 = register(), register()
    decide(registry, audit, candidate(v1, 0.60))
    # The run started with no champion, but measured on the same holdout as v1.
    outcome = decide(registry, audit, candidate(v2, 0.70, params_hash="b"))
    assert outcome.evidence == "stored-metric"
    assert outcome.promotion.outcome == "champion"
    assert "same holdout" in outcome.promotion.reason


def test_significance_guard_runs_on_the_paired_rows(registry, audit, register):
    v1, v2 = register(), register()
    guarded = PromotionPolicy.model_validate({"significance": {"enabled": True, "resamples": 500}})
    decide(registry, audit, candidate(v1, 0.60), guarded)
    rng = np.random.default_rng(3)
    pair = (rng.random(120) < 0.7, rng.random(120) < 0.7)
    noisy = candidate(
        v2,
        0.65,
        params_hash="b",
        evaluated_champion_version=v1,
        champion_metrics={"macro_f1": 0.60},
        paired_correct=pair,
    )
    outcome = decide(registry, audit, noisy, guarded)
    assert outcome.promotion.outcome == "challenger"
    assert "not significant" in outcome.promotion.reason


def test_failures_before_any_write(registry, audit, register, client):
    v1, v2 = register(), register()
    decide(registry, audit, candidate(v1, 0.70))
    with pytest.raises(LifecycleError, match="already decided"):
        decide(registry, audit, candidate(v1, 0.70))
    with pytest.raises(InvalidSemverOverride, match="must be greater"):
        decide(registry, audit, candidate(v2, 0.90), override="0.9.0")
    assert "stage" not in registry.get_version(v2).tags
    assert registry.champion().version == v1
    assert len(audit.events()) == 2

    run_id = client.get_model_version(MODEL_NAME, str(v2)).run_id
    by_run = replace(candidate(v2, 0.90), version=None, run_id=run_id)
    outcome = decide(registry, audit, by_run, override="2.0.0-rc.1")
    assert (outcome.version, outcome.semver, outcome.version_decision.bump) == (
        v2,
        "2.0.0-rc.1",
        "override",
    )
    with pytest.raises(LifecycleError, match="no version of future-skills-model"):
        decide(registry, audit, replace(by_run, run_id="f" * 32))


def test_a_failure_after_the_alias_move_is_undone_and_frees_the_lock(
    registry, audit, register, monkeypatch
):
    v1, v2, v3 = register(), register(), register()
    decide(registry, audit, candidate(v1, 0.60))
    events_before = audit.events()

    def crash(*_args, **_kwargs):
        raise RuntimeError("registry error while archiving the former champion")

    monkeypatch.setattr(ModelRegistry, "_archive", crash)
    with pytest.raises(LifecycleError, match=r"undone, nothing changed.*archiving") as failure:
        decide(registry, audit, candidate(v2, 0.70, params_hash="b"))
    assert isinstance(failure.value.__cause__, RuntimeError)
    monkeypatch.undo()
    champion = registry.champion()
    assert (champion.version, champion.status, champion.stage) == (v1, "READY", PRODUCTION)
    assert registry.get_version(v2).tags.get("stage") is None  # undecided, as before
    assert registry.state().warnings == ()
    assert audit.events() == events_before
    assert audit.pending() is None
    # The next decision is not blocked and compares against the valid champion.
    outcome = decide(registry, audit, candidate(v3, 0.65, params_hash="c"))
    assert outcome.compared_with == v1


def test_validate_override(registry, audit, register):
    validate_override(registry, "0.0.1")  # no version yet: anything valid goes
    decide(registry, audit, candidate(register(), 0.70))
    validate_override(registry, None)
    validate_override(registry, "1.0.1-rc.1")
    with pytest.raises(InvalidSemverOverride, match="greater"):
        validate_override(registry, "1.0.0")
    with pytest.raises(InvalidSemverOverride, match="not a valid"):
        validate_override(registry, "latest")


def test_manual_promote_and_rollback(registry, audit, register):
    v1, v2, v3 = register(), register(), register()
    decide(registry, audit, candidate(v1, 0.60))
    decide(
        registry,
        audit,
        candidate(
            v2,
            0.70,
            params_hash="b",
            evaluated_champion_version=v1,
            champion_metrics={"macro_f1": 0.60},
        ),
    )
    decide(
        registry,
        audit,
        candidate(
            v3,
            0.65,
            params_hash="c",
            evaluated_champion_version=v2,
            champion_metrics={"macro_f1": 0.70},
        ),
    )

    state = promote_version(registry, audit, v3, "business sign-off")
    assert state.champion.version == v3
    assert state.challenger is None
    assert state.get(v2).stage == ARCHIVED

    state = rollback_champion(registry, audit)  # audit log: v3 replaced v2
    assert state.champion.version == v2
    assert state.get(v3).stage == ARCHIVED
    assert audit.events()[-2]["action"] == "rollback"
    assert audit.events()[-2]["from_version"] == v3

    state = rollback_champion(registry, audit, to_version=v1, reason="back to basics")
    assert state.champion.version == v1
    assert state.champion.promotion_reason == "back to basics"
    with pytest.raises(LifecycleError, match="already the champion"):
        promote_version(registry, audit, v1, "again")


def test_rollback_without_audit_log_uses_registry(registry, audit, register, tmp_path):
    v1, v2 = register(), register()
    decide(registry, audit, candidate(v1, 0.60))
    decide(registry, audit, candidate(v2, 0.70, params_hash="b"))
    empty_log = AuditLog(tmp_path / "elsewhere" / "model_versions.json")
    state = rollback_champion(registry, empty_log)
    assert state.champion.version == v1
    # The only archived version is now v2: rolling back again goes there, never to nothing.
    assert rollback_champion(registry, empty_log).champion.version == v2


def test_rollback_with_nothing_to_roll_back_to(registry, audit, register):
    decide(registry, audit, candidate(register(), 0.60))
    with pytest.raises(LifecycleError, match="no previous champion"):
        rollback_champion(registry, audit)


def test_sync_audit_log_mirrors_registry(registry, audit, register):
    v1 = register()
    registry.promote_to_champion(v1, "promoted by hand outside the lifecycle")
    state = sync_audit_log(registry, audit)
    assert json.loads(audit.path.read_text())["champion"] == v1 == state.champion.version
    # What changed outside the lifecycle commands is recorded as such, once.
    [event] = audit.events()
    assert (event["action"], event["version"]) == ("sync", v1)
    assert "the audit log records champion none, the registry has v1" in event["reason"]
    sync_audit_log(registry, audit)
    assert len(audit.events()) == 1


def test_decision_waits_for_the_lock(registry, audit, register):
    v1 = register()
    with decision_lock(audit.default_lock_path), pytest.raises(LockTimeout):
        decide(registry, audit, candidate(v1, 0.70), lock_timeout_s=0.2)
    assert registry.get_version(v1).stage is None


@pytest.mark.parametrize("first_better", [True, False])
def test_sequential_finish_in_either_order_keeps_the_better(
    registry, audit, register, first_better
):
    v1 = register()
    decide(registry, audit, candidate(v1, 0.60))
    va, vb = register(), register()
    metrics = {va: 0.80, vb: 0.70} if first_better else {va: 0.70, vb: 0.80}
    for version in (va, vb):  # both runs evaluated v1, on the same holdout
        decide(
            registry,
            audit,
            candidate(
                version,
                metrics[version],
                params_hash=str(version),
                evaluated_champion_version=v1,
                champion_metrics={"macro_f1": 0.60},
            ),
        )
    best = max(metrics, key=metrics.get)
    assert registry.champion().version == best


def test_two_processes_finishing_together(registry, audit, register, tracking_uri):
    v1 = register()
    decide(registry, audit, candidate(v1, 0.60))
    worse, better = register(), register()
    jobs = [  # both runs evaluated champion v1 on the same holdout
        {
            "tracking_uri": tracking_uri,
            "model_name": MODEL_NAME,
            "audit_path": str(audit.path),
            "policy": POLICY,
            "candidate": candidate(
                version,
                metric,
                params_hash=f"params-{version}",
                evaluated_champion_version=v1,
                champion_metrics={"macro_f1": 0.60},
            ),
        }
        for version, metric in ((worse, 0.70), (better, 0.80))
    ]
    context = multiprocessing.get_context("spawn")  # no forked SQLAlchemy connections
    barrier, queue = context.Barrier(2), context.Queue()
    processes = [
        context.Process(target=decide_in_process, args=(job, barrier, queue)) for job in jobs
    ]
    for process in processes:
        process.start()
    results = [queue.get(timeout=180) for _ in processes]
    for process in processes:
        process.join(timeout=60)
    assert [r for r in results if r[1] == "error"] == []

    assert registry.champion().version == better
    # Serialised: the second decision saw the first one's result, not the stale champion v1.
    assert sorted(r[2] for r in results) == ["run-evaluation", "stored-metric"]
    semvers = [registry.get_version(v).semver for v in (v1, worse, better)]
    assert semvers[0] == "1.0.0"
    assert sorted(semvers[1:]) == ["1.1.0", "1.2.0"]  # unique whatever the order
    actions = [(e["action"], e["version"]) for e in audit.events()]
    assert ("promote", better) in actions
    assert ("register", worse) in actions


def test_settings_from_the_parameters_file(tmp_path):
    from kedro.config import OmegaConfigLoader  # the test reads conf/ as Kedro does

    conf = OmegaConfigLoader(str(PROJECT_ROOT / "conf"), base_env="base", default_run_env="base")
    settings = LifecycleSettings.from_params(conf["parameters"]["lifecycle"], project_path=tmp_path)
    # The one place the registered model is named.
    named = yaml.safe_load((PROJECT_ROOT / "conf/base/globals.yml").read_text())
    assert settings.model_name == named["registered_model_name"] == MODEL_NAME
    assert settings.audit_log_path == tmp_path / "data/06_models/model_versions.json"
    assert settings.resolved_lock_path == tmp_path / "data/06_models/model_versions.json.lock"
    assert settings.semver_override is None
    assert settings.policy == PromotionPolicy()
    with pytest.raises(ValueError, match=r"lifecycle\.model = 'x': unknown key"):
        LifecycleSettings.from_params({"model_name": MODEL_NAME, "model": "x"})
    with pytest.raises(ValueError, match=r"lifecycle\.model_name"):
        LifecycleSettings.from_params({"audit_log_path": "audit.json"})


def test_lifecycle_package_does_not_import_kedro():
    code = (
        "import sys, future_skills_kedro.lifecycle as lifecycle\n"
        "assert lifecycle.apply_lifecycle\n"
        "print(sorted(m for m in sys.modules if m == 'kedro' or m.startswith('kedro.')"
        " or m.startswith('kedro_')))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout.strip() == "[]"
