"""The decision after a training run (``apply_lifecycle``) and the lifecycle settings.

``apply_lifecycle`` is what the hook calls after a training run:
lock -> undo an interrupted change -> read latest decided version and champion -> decide
semver -> decide promotion -> write tags/aliases in crash-safe order -> re-check the champion
-> append audit events. The writes are all or nothing (``changes.py``); the manual commands
(promote, rollback, sync) are in ``operations.py``.

Evidence rule (honesty over convenience): the challenger is promoted only on metrics that
are comparable with the *current* champion, i.e. measured on the same holdout rows:
1. the run evaluated the current champion itself (``evaluated_champion_version`` equals
   the champion at decision time) -> the run's champion metrics and paired scores;
2. otherwise (the champion changed during the run, or the run did not evaluate it) the
   champion's stored metric is used only if it was measured on the same holdout
   (``holdout_hash`` tag equal) -- no paired scores or slices then, so an enabled significance
   guard or non-inferiority rule keeps the candidate challenger;
3. otherwise the candidate cannot be promoted on stale evidence: it becomes challenger
   ("champion changed during the run (v4 -> v5); re-evaluate"), or development if it fails
   the floor. An incompatible champion (other input schema or target classes) is never
   compared: a candidate passing the floor replaces it.

Concurrency: every write path takes ``decision_lock`` (a ``flock`` next to the audit file) and
re-reads the champion inside it, so two runs finishing together are decided one after the
other. The lock spans one host; with a shared MLflow server and several hosts, keep the
lock file on a filesystem where ``flock`` works across hosts, or run decisions from one host.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Annotated, Any

import numpy as np
from pydantic import Field, ValidationError, field_validator

from future_skills_kedro.lifecycle.audit_log import AuditEvent, AuditLog
from future_skills_kedro.lifecycle.changes import recover_interrupted, registry_change
from future_skills_kedro.lifecycle.locking import DEFAULT_TIMEOUT_S, decision_lock
from future_skills_kedro.lifecycle.promotion import (
    PromotionDecision,
    PromotionPolicy,
    decide_promotion,
    format_decision_line,
    metric_value,
)
from future_skills_kedro.lifecycle.registry import (
    TAG_GIT_SHA,
    TAG_HOLDOUT_HASH,
    TAG_KEDRO_RUN_ID,
    TAG_PARENT_SEMVER,
    TAG_SEMVER,
    TAG_VERSION_REASON,
    LifecycleError,
    ModelRegistry,
    RegistryState,
    VersionInfo,
    facts_tags,
    metric_tag,
)
from future_skills_kedro.lifecycle.semver_policy import (
    VersionDecision,
    VersionFacts,
    decide_version,
    parse_semver,
)
from future_skills_kedro.parameters.base import Allowed, ParameterModel
from future_skills_kedro.parameters.errors import raise_invalid


class LifecycleSettings(ParameterModel):
    """The ``lifecycle`` parameters (conf/base/parameters_lifecycle.yml).

    ``model_name`` has no default: the project names its registered model in one place,
    ``registered_model_name`` in conf/base/globals.yml, which the parameters refer to.
    """

    model_name: Annotated[str, Field(min_length=1)]
    audit_log_path: Path = Field(Path("data/06_models/model_versions.json"), strict=False)
    lock_path: Path | None = Field(None, strict=False)  # None: next to the audit file
    lock_timeout_s: float = Field(DEFAULT_TIMEOUT_S, gt=0)
    semver_override: (
        Annotated[str, Allowed("a semantic version such as 2.0.0 or 2.0.0-rc.1")] | None
    ) = None
    promotion: PromotionPolicy = PromotionPolicy()

    @field_validator("semver_override", mode="before")
    @classmethod
    def _empty_is_none(cls, value: Any) -> Any:
        return None if value == "" else value

    @field_validator("semver_override")
    @classmethod
    def _semantic_version(cls, value: str | None) -> str | None:
        if value is not None:
            parse_semver(value)  # its syntax now; "greater than the latest" needs the registry
        return value

    @classmethod
    def from_params(
        cls, params: Mapping[str, Any] | None, project_path: str | os.PathLike | None = None
    ) -> LifecycleSettings:
        """Validated ``lifecycle`` parameters; relative paths resolve against ``project_path``.

        Raises :class:`InvalidParameters` with one line naming ``lifecycle.<key>``.
        """
        try:
            settings = cls.model_validate(dict(params or {}))
        except ValidationError as error:
            raise_invalid(error, cls, ("lifecycle",))
        if project_path is None:
            return settings
        root = Path(project_path)  # an absolute path stays as it is: root / "/x" == "/x"
        return settings.model_copy(
            update={
                "audit_log_path": root / settings.audit_log_path,
                "lock_path": None if settings.lock_path is None else root / settings.lock_path,
            }
        )

    @property
    def policy(self) -> PromotionPolicy:
        return self.promotion

    def registry(self, client: Any) -> ModelRegistry:
        return ModelRegistry(client, self.model_name)

    def audit_log(self) -> AuditLog:
        return AuditLog(self.audit_log_path)

    @property
    def resolved_lock_path(self) -> Path:
        return self.lock_path or self.audit_log().default_lock_path


@dataclass(frozen=True)
class CandidateFacts:
    """What the training run knows about the model version it produced.

    ``evaluated_champion_version`` is the champion version the run saw (None when there was
    no champion); ``champion_metrics`` are that champion's metrics on the run's holdout (None
    when it could not be scored), ``paired_correct`` = (challenger, champion) per-row scores on
    the same holdout rows, higher is better (0/1 correctness by default), ``slices`` the
    per-slice policy metric of both on those rows (the non-inferiority rule). ``holdout_hash``
    identifies those rows; equal hashes make stored metrics of other versions comparable.
    """

    facts: VersionFacts
    metrics: Mapping[str, Any]
    version: int | None = None  # None: looked up from run_id
    run_id: str | None = None
    holdout_hash: str | None = None
    evaluated_champion_version: int | None = None
    champion_metrics: Mapping[str, Any] | None = None
    paired_correct: tuple[np.ndarray, np.ndarray] | None = None
    slices: Sequence[Mapping[str, Any]] | None = None  # lifecycle/slices.py records
    git_sha: str | None = None
    kedro_run_id: str | None = None


@dataclass(frozen=True)
class LifecycleOutcome:
    """Result of a lifecycle decision, as read back from the registry."""

    version: int
    version_decision: VersionDecision
    promotion: PromotionDecision
    state: RegistryState
    compared_with: int | None  # champion version at decision time
    evidence: str  # run-evaluation | stored-metric | none | stale | incompatible
    line: str  # the one-line summary for logs

    @property
    def semver(self) -> str:
        return self.version_decision.semver

    @property
    def champion_version(self) -> int | None:
        return self.state.champion.version if self.state.champion else None


def is_compatible(champion: VersionInfo, facts: VersionFacts) -> bool:
    """False when the champion's input schema or target classes differ from ``facts``.

    Unknown (untagged) champions count as compatible: the evidence rule then decides.
    """
    known = champion.facts()
    if known.schema_hash is not None and known.schema_hash != facts.schema_hash:
        return False
    return not (
        known.target_classes is not None
        and facts.target_classes is not None
        and known.target_classes != facts.target_classes
    )


def _resolve_version(registry: ModelRegistry, candidate: CandidateFacts) -> VersionInfo:
    if candidate.version is not None:
        return registry.get_version(candidate.version)
    if candidate.run_id is None:
        raise ValueError("CandidateFacts needs a version or a run_id")
    versions = registry.versions_for_run(candidate.run_id)
    if not versions:
        raise LifecycleError(
            f"no version of {registry.model_name} was registered by run {candidate.run_id}"
        )
    return versions[-1]  # a run registers one version; the newest if it somehow made several


def _decide_with_evidence(
    policy: PromotionPolicy, candidate: CandidateFacts, champion: VersionInfo | None
) -> tuple[PromotionDecision, str]:
    """Promotion decision per the evidence rule in the module docstring."""
    if champion is None:
        return decide_promotion(policy, candidate.metrics, None), "none"
    if not is_compatible(champion, candidate.facts):
        decision = decide_promotion(policy, candidate.metrics, {}, champion_compatible=False)
        return decision, "incompatible"
    fresh = (
        candidate.evaluated_champion_version == champion.version
        and candidate.champion_metrics is not None
    )
    if fresh:
        decision = decide_promotion(
            policy,
            candidate.metrics,
            candidate.champion_metrics,
            True,
            candidate.paired_correct,
            candidate.slices,
        )
        return decision, "run-evaluation"
    stored = champion.metric(policy.metric)
    same_holdout = (
        candidate.holdout_hash is not None
        and champion.tags.get(TAG_HOLDOUT_HASH) == candidate.holdout_hash
    )
    if same_holdout and stored is not None:
        decision = decide_promotion(policy, candidate.metrics, {policy.metric: stored}, True, None)
        if decision.champion_value is not None:  # say where the champion's number came from
            note = f" [vs champion v{champion.version}'s stored {policy.metric}, same holdout]"
            decision = replace(decision, reason=decision.reason + note)
        return decision, "stored-metric"
    # No comparable evidence: never promote; still apply the floor / NaN checks.
    floor_only = decide_promotion(policy, candidate.metrics, None)
    if floor_only.outcome == "development":
        return floor_only, "stale"
    evaluated = candidate.evaluated_champion_version
    if evaluated != champion.version:
        what = (
            f"champion changed during the run (v{evaluated} -> v{champion.version})"
            if evaluated is not None
            else f"champion changed during the run (none -> v{champion.version})"
        )
    else:
        what = f"champion v{champion.version} was not evaluated on this holdout"
    value = metric_value(candidate.metrics, policy.metric)
    reason = f"{what}; re-evaluate: {policy.metric} {value:.3f} passes the floor"
    return replace(floor_only, outcome="challenger", stage="Staging", reason=reason), "stale"


def apply_lifecycle(
    registry: ModelRegistry,
    audit_log: AuditLog,
    candidate: CandidateFacts,
    policy: PromotionPolicy,
    *,
    override: str | None = None,
    lock_path: str | os.PathLike | None = None,
    lock_timeout_s: float = DEFAULT_TIMEOUT_S,
) -> LifecycleOutcome:
    """Decide semver and stage of a freshly registered version and record it everywhere.

    Raises (before any registry write) on a corrupt audit file, an invalid override or an
    already decided version; a failure after the first write is undone (``changes.py``).
    A failed run therefore promotes nothing.
    """
    with decision_lock(lock_path or audit_log.default_lock_path, lock_timeout_s):
        # Reads the audit file: a corrupt one fails here, before any registry write.
        recover_interrupted(registry, audit_log, policy.metric)
        info = _resolve_version(registry, candidate)
        if info.stage is not None:
            raise LifecycleError(
                f"v{info.version} already decided (stage {info.stage}, semver {info.semver})"
            )
        previous = registry.latest_decided(exclude=(info.version,))
        version_decision = decide_version(
            previous.facts() if previous else None, candidate.facts, override
        )
        champion = registry.champion()  # re-read under the lock: sees a concurrent promotion
        promotion, evidence = _decide_with_evidence(policy, candidate, champion)

        value = metric_value(candidate.metrics, policy.metric)
        tags = {
            TAG_SEMVER: version_decision.semver,
            TAG_PARENT_SEMVER: version_decision.parent_semver,
            TAG_VERSION_REASON: version_decision.reason,
            **facts_tags(candidate.facts),
            TAG_HOLDOUT_HASH: candidate.holdout_hash,
            metric_tag(policy.metric): None if value is None else repr(value),
            TAG_GIT_SHA: candidate.git_sha,
            TAG_KEDRO_RUN_ID: candidate.kedro_run_id,
        }
        former_challenger = registry.challenger()
        events = [
            AuditEvent(
                "register",
                info.version,
                version_decision.semver,
                from_version=previous.version if previous else None,
                reason=version_decision.reason,
                run_id=info.run_id,
            )
        ]
        compared_with = champion.version if champion else None
        touched = [v.version for v in (info, champion, former_challenger) if v is not None]
        with registry_change(registry, audit_log, f"decision on v{info.version}", touched):
            state = _record_decision(
                registry,
                audit_log,
                info,
                version_decision.semver,
                promotion,
                tags,
                events,
                champion,
                former_challenger,
                policy.metric,
            )

    line = format_decision_line(
        registry.model_name, info.version, version_decision.semver, promotion
    )
    return LifecycleOutcome(
        info.version, version_decision, promotion, state, compared_with, evidence, line
    )


def _record_decision(
    registry: ModelRegistry,
    audit_log: AuditLog,
    info: VersionInfo,
    semver: str,
    promotion: PromotionDecision,
    tags: Mapping[str, Any],
    events: list[AuditEvent],
    champion: VersionInfo | None,
    former_challenger: VersionInfo | None,
    metric: str,
) -> RegistryState:
    """The registry writes of a decision, then its audit events (inside ``registry_change``)."""
    compared_with = champion.version if champion else None
    if promotion.outcome == "champion":
        state = registry.promote_to_champion(info.version, promotion.reason, tags)
        events.append(version_event("promote", info, semver, promotion.reason, compared_with))
        if champion is not None:
            events.append(archive_event(champion, info.version, semver))
    elif promotion.outcome == "challenger":
        state = registry.mark_challenger(info.version, promotion.reason, tags)
        events.append(version_event("challenger", info, semver, promotion.reason, compared_with))
        if former_challenger is not None and former_challenger.version != info.version:
            events.append(
                AuditEvent(
                    "development",
                    former_challenger.version,
                    former_challenger.semver,
                    reason=f"displaced as challenger by v{info.version}",
                    run_id=former_challenger.run_id,
                )
            )
    else:
        state = registry.mark_development(info.version, promotion.reason, tags)
        events.append(version_event("development", info, semver, promotion.reason, compared_with))
    check_champion(state, champion)
    audit_log.append(events, state, metric)
    return state


def version_event(
    action: str, info: VersionInfo, semver: str | None, reason: str, from_version: int | None
) -> AuditEvent:
    return AuditEvent(action, info.version, semver, from_version, reason, info.run_id)  # type: ignore[arg-type]


def archive_event(former: VersionInfo, new_version: int, new_semver: str | None) -> AuditEvent:
    return AuditEvent(
        "archive",
        former.version,
        former.semver,
        reason=f"superseded by v{new_version} ({new_semver})",
        run_id=former.run_id,
    )


def check_champion(state: RegistryState, before: VersionInfo | None) -> None:
    # Never end with no champion when there was one: fail loudly rather than log success.
    if before is not None and state.champion is None:
        raise LifecycleError(
            f"{state.model_name} has no champion after the decision (was v{before.version})"
        )
