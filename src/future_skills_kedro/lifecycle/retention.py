"""Retention: ``kedro models prune`` deletes (or archives) old versions, and old prediction-log
files go after ``monitoring.retention.prediction_log_days``.

Which versions: those outside the last ``keep_last`` versions and/or created more than
``older_than_days`` ago (both given: both must hold). Never the champion, the challenger, a
version that scored a logged prediction within the monitoring window, a version sharing
its training run with one of those, or an undecided version (no ``stage`` yet: the decision
after its training run may be under way).

Deleting cannot be undone, so a prune rolls *forward*, unlike the other lifecycle changes
(``changes.py``), which roll back. Under the decision lock it:

1. asks every artifact location whether it accepts deletions (deleting a path that never
   exists: a server answers 403 without permission), so that a refusal changes nothing;
   then records the whole plan in the audit file (``pruning``: each version, its run, the artifact
   locations it will delete), in one atomic write;
2. per version: deletes the registry entry first (from then on nobody can promote it), then
   the run's and the logged model's artifacts, tags the run ``artifacts_pruned_at``, and
   records a ``prune`` event while taking the version off ``pruning``, in one atomic write.

Every step is idempotent. A prune killed half way leaves ``pruning`` behind; the next prune
(dry-run or not) says so, and ``--yes`` finishes those versions first, re-checking that none
became champion or challenger meanwhile (one whose registry entry still exists is then left
alone). With ``archive_only`` nothing is deleted: the versions get ``stage`` Archived and a
``retention`` tag, and an ``archive`` event each.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from future_skills_kedro.lifecycle.audit_log import AuditEvent, AuditLog, current_user
from future_skills_kedro.lifecycle.changes import recover_interrupted
from future_skills_kedro.lifecycle.locking import DEFAULT_TIMEOUT_S, decision_lock
from future_skills_kedro.lifecycle.registry import (
    ARCHIVED,
    TAG_ARCHIVED_AT,
    TAG_DATA_HASH,
    TAG_GIT_SHA,
    TAG_KEDRO_RUN_ID,
    TAG_PARAMS_HASH,
    TAG_SEMVER,
    TAG_STAGE,
    LifecycleError,
    ModelRegistry,
    RegistryState,
    VersionInfo,
    utc_now_iso,
)

TAG_RETENTION = "retention"  # on a version archived by `prune --archive-only`: when and why
RUN_TAG_PRUNED = "artifacts_pruned_at"  # on the training run of a pruned version
# The pruned version's lineage tags, kept on its run (which stays) as pruned_version.<tag>:
# `kedro models trace` still names the data, parameters and commit of a pruned version.
RUN_TAG_LINEAGE_PREFIX = "pruned_version."
LINEAGE_TAGS = (TAG_SEMVER, TAG_DATA_HASH, TAG_PARAMS_HASH, TAG_GIT_SHA, TAG_KEDRO_RUN_ID)
PRUNING = "pruning"  # audit-file key of an unfinished prune


@dataclass(frozen=True)
class Criteria:
    keep_last: int | None = None
    older_than_days: float | None = None

    def __post_init__(self) -> None:
        if self.keep_last is None and self.older_than_days is None:
            raise LifecycleError("say what to prune: --keep-last N and/or --older-than DAYS")
        if self.keep_last is not None and self.keep_last < 0:
            raise LifecycleError(f"--keep-last must be >= 0, got {self.keep_last}")
        if self.older_than_days is not None and self.older_than_days < 0:
            raise LifecycleError(f"--older-than must be >= 0 days, got {self.older_than_days}")

    def describe(self) -> str:
        parts = []
        if self.keep_last:
            parts.append(f"not among the last {self.keep_last}")
        elif self.keep_last == 0:
            parts.append("--keep-last 0")
        if self.older_than_days is not None:
            parts.append(f"older than {self.older_than_days:g} days")
        return " and ".join(parts)


@dataclass(frozen=True)
class Decision:
    """One version and what the prune does with it (``prune``) or why it keeps it."""

    version: int
    semver: str | None
    stage: str | None
    created: str | None
    run_id: str | None
    prune: bool
    why: str

    def as_dict(self) -> dict[str, Any]:
        return dict(vars(self))


@dataclass(frozen=True)
class PrunePlan:
    model_name: str
    criteria: Criteria
    archive_only: bool
    decisions: tuple[Decision, ...]
    unfinished: tuple[Mapping[str, Any], ...] = ()  # versions an interrupted prune left
    unfinished_started: str | None = None
    log_files: tuple[Path, ...] = field(default_factory=tuple)  # prediction logs past retention

    @property
    def to_prune(self) -> tuple[Decision, ...]:
        return tuple(d for d in self.decisions if d.prune)

    @property
    def kept(self) -> tuple[Decision, ...]:
        return tuple(d for d in self.decisions if not d.prune)


def _created(info: VersionInfo) -> datetime | None:
    if info.created_ms is None:
        return None
    return datetime.fromtimestamp(info.created_ms / 1000, tz=timezone.utc)


def plan_prune(
    state: RegistryState,
    criteria: Criteria,
    recently_scoring: Iterable[int],
    *,
    now: datetime,
    archive_only: bool = False,
) -> tuple[Decision, ...]:
    """What a prune does with each version of ``state``, oldest first (pure: no I/O)."""
    newest_first = sorted(state.versions, key=lambda v: v.version, reverse=True)
    recent_numbers = (
        {v.version for v in newest_first[: criteria.keep_last]}
        if criteria.keep_last is not None
        else set()
    )
    cutoff = (
        None if criteria.older_than_days is None else now - timedelta(days=criteria.older_than_days)
    )
    scoring = set(recently_scoring)
    protected: dict[int, str] = {}
    if state.champion is not None:
        protected[state.champion.version] = "champion"
    if state.challenger is not None:
        protected.setdefault(state.challenger.version, "challenger")
    for number in sorted(scoring):
        protected.setdefault(number, "scored predictions within the monitoring window")
    protected_runs = {
        info.run_id: number
        for number in protected
        if (info := state.get(number)) is not None and info.run_id
    }
    decisions = []
    for info in sorted(state.versions, key=lambda v: v.version):
        created = _created(info)
        reasons_to_keep = []
        if criteria.keep_last is not None and info.version in recent_numbers:
            reasons_to_keep.append(f"among the last {criteria.keep_last}")
        if cutoff is not None and (created is None or created > cutoff):
            reasons_to_keep.append(f"not older than {criteria.older_than_days:g} days")
        if info.version in protected:
            why = protected[info.version]
        elif info.run_id in protected_runs:
            why = f"its training run is also v{protected_runs[info.run_id]}'s"
        elif info.stage is None:  # registered, not decided yet: its run may be deciding now
            why = "undecided (its training run's decision may still be running)"
        elif reasons_to_keep:
            why = ", ".join(reasons_to_keep)
        elif archive_only and TAG_RETENTION in info.tags:
            why = "already archived by a prune"
        else:
            why = criteria.describe()
            decisions.append(_decision(info, True, why))
            continue
        decisions.append(_decision(info, False, why))
    return tuple(decisions)


def _decision(info: VersionInfo, prune: bool, why: str) -> Decision:
    return Decision(
        info.version, info.semver, info.stage, info.created_iso, info.run_id, prune, why
    )


# ------------------------------------------------------------------------- prediction logs
def expired_log_files(
    directory: str | os.PathLike, keep_days: int | None, today: date
) -> tuple[Path, ...]:
    """Daily prediction-log files whose day is more than ``keep_days`` days before ``today``."""
    from future_skills_kedro.datasets.prediction_logs.files import log_files

    if keep_days is None:
        return ()
    return tuple(log_files(directory, last_day=today - timedelta(days=keep_days + 1)))


def scoring_versions(
    directory: str | os.PathLike, first_day: date, last_day: date, model_name: str
) -> set[int]:
    """Versions of ``model_name`` in the valid log records of the days (every purpose)."""
    from future_skills_kedro.datasets.prediction_logs.reader import read_prediction_logs

    frame = read_prediction_logs(directory, first_day.isoformat(), last_day.isoformat()).frame
    frame = frame[frame["model_name"] == model_name]
    numbers = set()
    for value in frame["model_version"].dropna().unique():
        try:
            numbers.add(int(value))
        except ValueError:
            continue
    return numbers


# ------------------------------------------------------------------------- execution
@dataclass
class PruneResult:
    pruned: list[dict[str, Any]] = field(default_factory=list)  # the events recorded
    skipped: list[str] = field(default_factory=list)
    deleted_log_files: list[str] = field(default_factory=list)
    state: RegistryState | None = None


def _delete_artifacts(uri: str) -> None:
    from mlflow.store.artifact.artifact_repository_registry import get_artifact_repository

    get_artifact_repository(uri).delete_artifacts()  # idempotent: a missing folder is fine


# Never exists: deleting it only asks the artifact store whether this caller may delete there
# (a server's artifact proxy answers 403 without MANAGE on the experiment).
_PERMISSION_PROBE = ".prune-permission-probe"


def _check_deletable(items: Iterable[Mapping[str, Any]]) -> None:
    """Fail before the first deletion when an artifact location refuses deletions."""
    from mlflow.store.artifact.artifact_repository_registry import get_artifact_repository

    for uri in dict.fromkeys(uri for item in items for uri in item.get("artifact_uris", [])):
        get_artifact_repository(uri).delete_artifacts(_PERMISSION_PROBE)


def _artifact_plan(registry: ModelRegistry, decision: Decision) -> dict[str, Any]:
    """The item ``pruning`` records for a version: what will be deleted, where."""
    from mlflow.exceptions import MlflowException

    info = registry.get_version(decision.version)
    client = registry.client
    uris, model_ids = [], []
    if info.run_id:
        uris.append(client.get_run(info.run_id).info.artifact_uri)
    source = info.source or ""
    if source.startswith("models:/m-"):
        model_id = source.removeprefix("models:/").split("/")[0]
        try:
            uris.append(client.get_logged_model(model_id).artifact_location)
            model_ids.append(model_id)
        except MlflowException as exc:
            if exc.error_code != "RESOURCE_DOES_NOT_EXIST":
                raise
    return {
        "version": info.version,
        "semver": info.semver,
        "stage": info.stage,
        "run_id": info.run_id,
        "artifact_uris": uris,
        "logged_model_ids": model_ids,
        "lineage": {tag: info.tags[tag] for tag in LINEAGE_TAGS if tag in info.tags},
        "reason": decision.why,
    }


def _write_pruning(audit_log: AuditLog, items: list[dict[str, Any]], started: str) -> None:
    data = audit_log.read()
    data[PRUNING] = {
        "user": current_user(),
        "pid": os.getpid(),
        "host": socket.gethostname(),
        "started": started,
        "versions": items,
    }
    audit_log.write(data)


def unfinished_prune(data: Mapping[str, Any]) -> Mapping[str, Any] | None:
    pruning = data.get(PRUNING)
    return pruning if isinstance(pruning, Mapping) and pruning.get("versions") else None


def describe_unfinished(pruning: Mapping[str, Any]) -> str:
    names = ", ".join(f"v{item.get('version')}" for item in pruning.get("versions", []))
    return (
        f"a prune by {pruning.get('user', 'unknown')} (pid {pruning.get('pid', '?')} on "
        f"{pruning.get('host', '?')}, started {pruning.get('started', '?')}) did not finish "
        f"{names}: `kedro models prune --yes` finishes it"
    )


def _prune_one(
    registry: ModelRegistry,
    audit_log: AuditLog,
    item: Mapping[str, Any],
    reason: str,
    metric: str,
) -> dict[str, Any] | None:
    """Delete one planned version (idempotent) and record it; None when it must be kept."""
    number = int(item["version"])
    info = registry.find_version(number)
    if info is not None:
        if info.aliases and {"champion", "challenger"} & set(info.aliases):
            return None  # became champion or challenger after an interrupted prune
        registry.client.delete_model_version(registry.model_name, str(number))
    for uri in item.get("artifact_uris", []):
        _delete_artifacts(uri)
    for model_id in item.get("logged_model_ids", []):
        registry.client.delete_logged_model(model_id)
    run_id = item.get("run_id")
    if run_id:
        _tag_run(registry, run_id, item.get("lineage") or {})
    event = AuditEvent(
        "prune", number, item.get("semver"), reason=reason, run_id=item.get("run_id")
    )
    _record(audit_log, registry, [event], number, metric)
    return vars(event) | {}


def _tag_run(registry: ModelRegistry, run_id: str, lineage: Mapping[str, str]) -> None:
    from mlflow.exceptions import MlflowException

    try:
        for tag, value in lineage.items():
            registry.client.set_tag(run_id, f"{RUN_TAG_LINEAGE_PREFIX}{tag}", value)
        registry.client.set_tag(run_id, RUN_TAG_PRUNED, utc_now_iso())
    except MlflowException as exc:  # the run was deleted by hand meanwhile: nothing to tag
        if exc.error_code not in ("RESOURCE_DOES_NOT_EXIST", "INVALID_STATE"):
            raise


def _record(
    audit_log: AuditLog,
    registry: ModelRegistry,
    events: list[AuditEvent],
    done: int | None,
    metric: str,
) -> None:
    """Append ``events`` and take ``done`` off ``pruning`` (cleared when empty), atomically."""
    from dataclasses import asdict

    from future_skills_kedro.lifecycle.audit_log import FORMAT_VERSION, mirror_of

    state = registry.state()
    data = audit_log.read()
    data["events"] = [*data["events"], *(asdict(e) for e in events)]
    data.update(mirror_of(state, metric))
    pruning = data.get(PRUNING)
    if isinstance(pruning, dict) and done is not None:
        left = [i for i in pruning.get("versions", []) if int(i.get("version", -1)) != done]
        data[PRUNING] = {**pruning, "versions": left} if left else None
    data["format_version"] = FORMAT_VERSION
    data["updated_at"] = utc_now_iso()
    audit_log.write(data)


def prune_versions(
    registry: ModelRegistry,
    audit_log: AuditLog,
    plan_versions: Callable[[RegistryState], tuple[Decision, ...]],
    *,
    archive_only: bool = False,
    log_files: Iterable[Path] = (),
    lock_path: str | os.PathLike | None = None,
    lock_timeout_s: float = DEFAULT_TIMEOUT_S,
    metric: str = "macro_f1",
) -> PruneResult:
    """Finish an interrupted prune, then prune what ``plan_versions`` (called under the lock,
    on the registry as it is then) selects, and delete the expired ``log_files``."""
    result = PruneResult()
    user = current_user()
    with decision_lock(lock_path or audit_log.default_lock_path, lock_timeout_s):
        recover_interrupted(registry, audit_log, metric)  # a corrupt audit file fails here
        pruning = unfinished_prune(audit_log.read())
        if pruning is not None:
            for item in list(pruning["versions"]):
                why = (
                    f"pruned by {user}, finishing the prune by {pruning.get('user')} started "
                    f"{pruning.get('started')}: {item.get('reason')}"
                )
                event = _prune_one(registry, audit_log, item, why, metric)
                if event is None:
                    result.skipped.append(
                        f"v{item['version']} became champion or challenger after the "
                        "interrupted prune: kept"
                    )
                    _record(audit_log, registry, [], int(item["version"]), metric)
                else:
                    result.pruned.append(event)
        decisions = [d for d in plan_versions(registry.state()) if d.prune]
        if archive_only:
            for decision in decisions:
                result.pruned.append(_archive_one(registry, audit_log, decision, user, metric))
        elif decisions:
            started = utc_now_iso()
            items = [_artifact_plan(registry, decision) for decision in decisions]
            _check_deletable(items)  # e.g. no permission: nothing deleted, nothing recorded
            _write_pruning(audit_log, items, started)
            for item in items:
                why = (
                    f"pruned by {user}: {item['reason']}; registry entry and run artifacts deleted"
                )
                event = _prune_one(registry, audit_log, item, why, metric)
                if event is None:  # cannot happen under the lock; never delete a champion
                    raise LifecycleError(f"v{item['version']} became champion during the prune")
                result.pruned.append(event)
        files = [Path(path) for path in log_files]
        if files:
            for path in files:
                path.unlink(missing_ok=True)
                result.deleted_log_files.append(str(path))
            event = AuditEvent(
                "prune",
                None,
                reason=(
                    f"{len(files)} prediction-log file(s) past retention deleted by {user}: "
                    + ", ".join(path.name for path in files)
                ),
            )
            _record(audit_log, registry, [event], None, metric)
        result.state = registry.state()
    return result


def _archive_one(
    registry: ModelRegistry, audit_log: AuditLog, decision: Decision, user: str, metric: str
) -> dict[str, Any]:
    now = utc_now_iso()
    registry.set_tags(
        decision.version,
        {
            TAG_STAGE: ARCHIVED,
            TAG_ARCHIVED_AT: now,
            TAG_RETENTION: f"archived by {user}'s prune on {now}: {decision.why}",
        },
    )
    event = AuditEvent(
        "archive",
        decision.version,
        decision.semver,
        reason=f"archived by prune (--archive-only): {decision.why}",
        run_id=decision.run_id,
    )
    _record(audit_log, registry, [event], None, metric)
    return vars(event) | {}
