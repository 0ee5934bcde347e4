"""Model lifecycle: semantic versioning, promotion policy, registry adapter, audit log.

Plain Python on top of ``mlflow.MlflowClient`` (docs/lifecycle.md), used by the training
hooks (``check_before_training``, ``apply_lifecycle``) and the ``kedro models`` CLI.
Deliberately free of Kedro imports. Every write is all or nothing (``changes.py``).

Typical use after a training run::

    settings = LifecycleSettings.from_params(params["lifecycle"], project_path)
    outcome = apply_lifecycle(
        settings.registry(MlflowClient()),
        settings.audit_log(),
        CandidateFacts(facts=VersionFacts(schema, classes, data_hash, params_hash, algorithm),
                       metrics=holdout_metrics, run_id=run_id, holdout_hash=holdout_hash,
                       evaluated_champion_version=champion_version,
                       champion_metrics=champion_metrics,
                       paired_correct=(challenger_correct, champion_correct)),
        settings.policy,
        override=settings.semver_override,
        lock_path=settings.resolved_lock_path,
    )
    logger.info(outcome.line)
"""

from future_skills_kedro.lifecycle.audit_log import (
    AuditEvent,
    AuditLog,
    AuditLogCorrupt,
    AuditLogNotWritable,
    describe_pending,
    disagreements,
)
from future_skills_kedro.lifecycle.changes import ChangeNotUndone, recover_interrupted
from future_skills_kedro.lifecycle.fingerprints import (
    hash_frame,
    hash_params,
    schema_of,
    target_classes_of,
)
from future_skills_kedro.lifecycle.locking import (
    LockTimeout,
    LockUnavailable,
    decision_lock,
    lock_is_held,
)
from future_skills_kedro.lifecycle.operations import (
    check_before_training,
    mark_run_versions_development,
    promote_version,
    rebuild_audit_log,
    rollback_champion,
    sync_audit_log,
    validate_override,
)
from future_skills_kedro.lifecycle.promotion import (
    PromotionDecision,
    PromotionPolicy,
    SignificanceGuard,
    decide_promotion,
    format_decision_line,
    paired_bootstrap_ci,
)
from future_skills_kedro.lifecycle.registry import (
    ARCHIVED,
    CHALLENGER,
    CHAMPION,
    DEVELOPMENT,
    PRODUCTION,
    STAGING,
    InvalidReference,
    LifecycleError,
    ModelRegistry,
    RegistryState,
    VersionInfo,
    VersionNotFound,
    parse_reference,
)
from future_skills_kedro.lifecycle.semver_policy import (
    InvalidSemverOverride,
    VersionDecision,
    VersionFacts,
    decide_version,
    schema_hash,
)
from future_skills_kedro.lifecycle.service import (
    CandidateFacts,
    LifecycleOutcome,
    LifecycleSettings,
    apply_lifecycle,
)

__all__ = [
    "ARCHIVED",
    "CHALLENGER",
    "CHAMPION",
    "DEVELOPMENT",
    "PRODUCTION",
    "STAGING",
    "AuditEvent",
    "AuditLog",
    "AuditLogCorrupt",
    "AuditLogNotWritable",
    "CandidateFacts",
    "ChangeNotUndone",
    "InvalidReference",
    "InvalidSemverOverride",
    "LifecycleError",
    "LifecycleOutcome",
    "LifecycleSettings",
    "LockTimeout",
    "LockUnavailable",
    "ModelRegistry",
    "PromotionDecision",
    "PromotionPolicy",
    "RegistryState",
    "SignificanceGuard",
    "VersionDecision",
    "VersionFacts",
    "VersionInfo",
    "VersionNotFound",
    "apply_lifecycle",
    "check_before_training",
    "decide_promotion",
    "decide_version",
    "decision_lock",
    "describe_pending",
    "disagreements",
    "format_decision_line",
    "hash_frame",
    "hash_params",
    "lock_is_held",
    "mark_run_versions_development",
    "paired_bootstrap_ci",
    "parse_reference",
    "promote_version",
    "rebuild_audit_log",
    "recover_interrupted",
    "rollback_champion",
    "schema_hash",
    "schema_of",
    "sync_audit_log",
    "target_classes_of",
    "validate_override",
]
