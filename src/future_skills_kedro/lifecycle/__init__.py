"""Model lifecycle: semantic versioning, promotion policy, registry adapter, audit log.

Plain Python on top of ``mlflow.MlflowClient`` (docs/lifecycle.md), used by the training
hook (``apply_lifecycle``) and the ``kedro models`` CLI. Deliberately free of Kedro imports.

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

from future_skills_kedro.lifecycle.audit_log import AuditEvent, AuditLog, AuditLogCorrupt
from future_skills_kedro.lifecycle.fingerprints import (
    hash_frame,
    hash_params,
    schema_of,
    target_classes_of,
)
from future_skills_kedro.lifecycle.locking import LockTimeout, decision_lock
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
    LifecycleError,
    ModelRegistry,
    RegistryState,
    VersionInfo,
    VersionNotFound,
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
    promote_version,
    rollback_champion,
    sync_audit_log,
    validate_override,
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
    "CandidateFacts",
    "InvalidSemverOverride",
    "LifecycleError",
    "LifecycleOutcome",
    "LifecycleSettings",
    "LockTimeout",
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
    "decide_promotion",
    "decide_version",
    "decision_lock",
    "format_decision_line",
    "hash_frame",
    "hash_params",
    "paired_bootstrap_ci",
    "promote_version",
    "rollback_champion",
    "schema_hash",
    "schema_of",
    "sync_audit_log",
    "target_classes_of",
    "validate_override",
]
