"""Registry adapter over ``mlflow.MlflowClient``: stages as aliases + tags (docs/lifecycle.md).

The ``champion`` alias is the source of truth for Production, ``challenger`` for Staging;
the ``stage`` tag mirrors them and also records Development and Archived. Writes are ordered
so that a crash at any step leaves the alias on a valid, fully tagged version.
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Literal

import semver as semver_lib

from future_skills_kedro.lifecycle.semver_policy import VersionFacts

CHAMPION = "champion"
CHALLENGER = "challenger"

PRODUCTION = "Production"
STAGING = "Staging"
DEVELOPMENT = "Development"
ARCHIVED = "Archived"
STAGES = (DEVELOPMENT, STAGING, PRODUCTION, ARCHIVED)

# Lineage tags every decided version carries (docs/lifecycle.md).
TAG_SEMVER = "semver"
TAG_STAGE = "stage"
TAG_PROMOTION_REASON = "promotion_reason"
TAG_PARENT_SEMVER = "parent_semver"
TAG_DATA_HASH = "data_hash"
TAG_PARAMS_HASH = "params_hash"
TAG_GIT_SHA = "git_sha"
TAG_KEDRO_RUN_ID = "kedro_run_id"
# Extra tags the lifecycle needs to decide the next version and compare champions.
TAG_SCHEMA_HASH = "input_schema_hash"
TAG_SCHEMA = "input_schema"  # JSON [[column, type], ...], only when short enough
TAG_TARGET_CLASSES = "target_classes"  # JSON sorted list
TAG_ALGORITHM = "algorithm"
TAG_HOLDOUT_HASH = "holdout_hash"  # identity of the rows the metric was measured on
TAG_VERSION_REASON = "version_reason"  # why this semver (MAJOR/MINOR/PATCH sentence)
TAG_ARCHIVED_AT = "archived_at"
METRIC_TAG_PREFIX = "metric."  # e.g. metric.macro_f1 = holdout value at decision time
_MAX_SCHEMA_TAG_CHARS = 4000  # stay under the 5000-char tag limit of older MLflow servers


class LifecycleError(RuntimeError):
    """A lifecycle operation cannot be done as asked, or its result failed the re-check."""


class VersionNotFound(LifecycleError, LookupError):
    """No such version of the registered model."""


class InvalidReference(ValueError):
    """A version reference that is neither a number, a semantic version nor an alias name."""


_VERSION_NUMBER = re.compile(r"[vV]?([0-9]+)")  # 3 or v3, as `kedro models list` prints it
_ALIAS_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")
Reference = tuple[Literal["version", "semver", "alias"], str]


def parse_reference(ref: str) -> Reference:
    """What a user's version reference names: ``("version", "3")``, ``("semver", "1.2.0")``
    or ``("alias", "champion")``. Raises :class:`InvalidReference` for anything else."""
    if match := _VERSION_NUMBER.fullmatch(ref):
        return "version", str(int(match[1]))
    bare = ref[1:] if ref[:1] in ("v", "V") else ref
    if semver_lib.Version.is_valid(bare):
        return "semver", bare
    if _ALIAS_NAME.fullmatch(ref):
        return "alias", ref
    raise InvalidReference(
        f"{ref!r} is not a version reference: use a version number (3 or v3), "
        "a semantic version (1.2.0) or an alias (champion, challenger)"
    )


def metric_tag(metric: str) -> str:
    return f"{METRIC_TAG_PREFIX}{metric}"


def utc_now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


@dataclass(frozen=True)
class VersionInfo:
    """One registered model version with its lifecycle tags and aliases."""

    version: int
    tags: Mapping[str, str] = field(default_factory=dict)
    aliases: tuple[str, ...] = ()
    run_id: str | None = None
    source: str | None = None
    status: str | None = None
    created_ms: int | None = None

    @property
    def semver(self) -> str | None:
        return self.tags.get(TAG_SEMVER)

    @property
    def stage(self) -> str | None:
        return self.tags.get(TAG_STAGE)

    @property
    def promotion_reason(self) -> str | None:
        return self.tags.get(TAG_PROMOTION_REASON)

    @property
    def created_iso(self) -> str | None:
        if self.created_ms is None:
            return None
        created = datetime.fromtimestamp(self.created_ms / 1000, tz=timezone.utc)
        return created.isoformat(timespec="seconds")

    def metric(self, name: str) -> float | None:
        """The metric stored at decision time (tag ``metric.<name>``), or None."""
        try:
            return float(self.tags[metric_tag(name)])
        except (KeyError, ValueError):
            return None

    def facts(self) -> VersionFacts:
        """The facts the next semver decision compares against."""
        schema: Any = self.tags.get(TAG_SCHEMA_HASH)
        if TAG_SCHEMA in self.tags:
            # A damaged tag falls back to the hash: it must not block a decision.
            with contextlib.suppress(ValueError, TypeError):
                schema = [tuple(pair) for pair in json.loads(self.tags[TAG_SCHEMA])]
        try:
            classes = tuple(json.loads(self.tags[TAG_TARGET_CLASSES]))
        except (KeyError, ValueError, TypeError):
            classes = None
        return VersionFacts(
            input_schema=schema,
            target_classes=classes,
            data_hash=self.tags.get(TAG_DATA_HASH),
            params_hash=self.tags.get(TAG_PARAMS_HASH),
            algorithm=self.tags.get(TAG_ALGORITHM),
            semver=self.semver,
        )


def facts_tags(facts: VersionFacts) -> dict[str, str | None]:
    """Tags that let a later decision rebuild ``facts`` (see :meth:`VersionInfo.facts`)."""
    tags: dict[str, str | None] = {
        TAG_SCHEMA_HASH: facts.schema_hash,
        TAG_DATA_HASH: facts.data_hash,
        TAG_PARAMS_HASH: facts.params_hash,
        TAG_ALGORITHM: facts.algorithm,
        TAG_TARGET_CLASSES: None
        if facts.target_classes is None
        else json.dumps(list(facts.target_classes)),
    }
    if isinstance(facts.input_schema, tuple):
        schema_json = json.dumps([list(pair) for pair in facts.input_schema])
        if len(schema_json) <= _MAX_SCHEMA_TAG_CHARS:
            tags[TAG_SCHEMA] = schema_json
    return tags


@dataclass(frozen=True)
class RegistryState:
    """Lifecycle state of the registered model, read back after a change."""

    model_name: str
    versions: tuple[VersionInfo, ...]
    champion: VersionInfo | None
    challenger: VersionInfo | None
    warnings: tuple[str, ...] = ()

    def get(self, version: int) -> VersionInfo | None:
        return next((v for v in self.versions if v.version == int(version)), None)


def _semver_key(info: VersionInfo) -> semver_lib.Version:
    return semver_lib.Version.parse(info.semver or "0.0.0")


def _has_valid_semver(info: VersionInfo) -> bool:
    return info.semver is not None and semver_lib.Version.is_valid(info.semver)


class ModelRegistry:
    """Lifecycle reads and crash-safe writes for one registered model."""

    def __init__(self, client: Any, model_name: str) -> None:
        if not model_name or "'" in model_name:
            raise ValueError(f"model name {model_name!r} must be non-empty and without quotes")
        self.client = client
        self.model_name = model_name

    # ---- reads -------------------------------------------------------------------------
    def ensure_registered_model(self) -> None:
        """Create the registered model if it does not exist yet."""
        from mlflow.exceptions import MlflowException

        try:
            self.client.get_registered_model(self.model_name)
        except MlflowException as exc:
            if exc.error_code != "RESOURCE_DOES_NOT_EXIST":
                raise
            self.client.create_registered_model(self.model_name)

    def alias_map(self) -> dict[str, int]:
        """alias -> version; empty when the registered model does not exist."""
        from mlflow.exceptions import MlflowException

        try:
            model = self.client.get_registered_model(self.model_name)
        except MlflowException as exc:
            if exc.error_code == "RESOURCE_DOES_NOT_EXIST":
                return {}
            raise
        return {alias: int(version) for alias, version in (model.aliases or {}).items()}

    def _info(self, model_version: Any, aliases: Mapping[str, int]) -> VersionInfo:
        number = int(model_version.version)
        return VersionInfo(
            version=number,
            tags=dict(model_version.tags or {}),
            # search_model_versions does not return aliases: take them from the model.
            aliases=tuple(sorted(a for a, v in aliases.items() if v == number)),
            run_id=model_version.run_id,
            source=model_version.source,
            status=model_version.status,
            created_ms=model_version.creation_timestamp,
        )

    def _search(self, extra_filter: str = "") -> list[VersionInfo]:
        filter_string = f"name='{self.model_name}'" + extra_filter
        found, token = [], None
        while True:
            page = self.client.search_model_versions(filter_string, page_token=token)
            found.extend(page)
            token = getattr(page, "token", None)
            if not token:
                break
        aliases = self.alias_map()
        return sorted((self._info(mv, aliases) for mv in found), key=lambda v: v.version)

    def list_versions(self) -> list[VersionInfo]:
        """All versions, oldest first, with tags and aliases."""
        return self._search()

    def versions_for_run(self, run_id: str) -> list[VersionInfo]:
        """Versions registered from the given MLflow run, oldest first."""
        if "'" in run_id:
            raise ValueError(f"invalid run id {run_id!r}")
        return self._search(f" and run_id='{run_id}'")

    def find_version(self, version: int | str) -> VersionInfo | None:
        from mlflow.exceptions import MlflowException

        try:
            model_version = self.client.get_model_version(self.model_name, str(version))
        except MlflowException as exc:
            if exc.error_code in ("RESOURCE_DOES_NOT_EXIST", "INVALID_PARAMETER_VALUE"):
                return None
            raise
        return self._info(model_version, self.alias_map())

    def get_version(self, version: int | str) -> VersionInfo:
        info = self.find_version(version)
        if info is None:
            raise VersionNotFound(f"{self.model_name} has no version {version}")
        return info

    def get_by_semver(self, semver: str) -> VersionInfo | None:
        """The version tagged with this semantic version (precedence-equal), or None."""
        wanted = semver_lib.Version.parse(semver)
        matches = [v for v in self.list_versions() if _has_valid_semver(v)]
        return next((v for v in matches if _semver_key(v).compare(wanted) == 0), None)

    def get_by_alias(self, alias: str) -> VersionInfo | None:
        """The version an alias points at; None when the alias (or model) does not exist."""
        from mlflow.exceptions import MlflowException

        try:
            model_version = self.client.get_model_version_by_alias(self.model_name, alias)
        except MlflowException:
            # The error for a missing alias differs between stores (INVALID_PARAMETER_VALUE for
            # SQL, RESOURCE_DOES_NOT_EXIST over REST, PERMISSION_DENIED from a server with basic
            # auth while the model does not exist): confirm absence before returning None.
            if alias not in self.alias_map():
                return None
            raise
        return self._info(model_version, self.alias_map())

    def resolve(self, ref: str) -> VersionInfo | None:
        """The version a user's reference names (see :func:`parse_reference`), or None."""
        kind, value = parse_reference(ref)
        if kind == "version":
            return self.find_version(value)
        if kind == "semver":
            return self.get_by_semver(value)
        return self.get_by_alias(value)

    def champion(self) -> VersionInfo | None:
        return self.get_by_alias(CHAMPION)

    def challenger(self) -> VersionInfo | None:
        return self.get_by_alias(CHALLENGER)

    def latest_version(self, exclude: tuple[int, ...] = ()) -> VersionInfo | None:
        """The most recently registered version (highest number)."""
        candidates = [v for v in self.list_versions() if v.version not in exclude]
        return candidates[-1] if candidates else None

    def latest_decided(self, exclude: tuple[int, ...] = ()) -> VersionInfo | None:
        """The version with the highest ``semver`` tag: the parent of the next semver.

        In sequential runs this is the latest registered version. Using the highest semver
        (not the highest number) keeps semvers unique when concurrent runs register first
        and are decided later in another order.
        """
        decided = [v for v in self.list_versions() if v.version not in exclude]
        decided = [v for v in decided if _has_valid_semver(v)]
        return max(decided, key=_semver_key) if decided else None

    def previous_champion(self) -> VersionInfo | None:
        """The most recently archived former champion (registry-only fallback for rollback)."""
        archived = [v for v in self.list_versions() if v.stage == ARCHIVED]
        if not archived:
            return None
        return max(archived, key=lambda v: (v.tags.get(TAG_ARCHIVED_AT, ""), v.version))

    def state(self) -> RegistryState:
        """All versions, champion, challenger and any inconsistency worth a human look."""
        versions = tuple(self.list_versions())
        by_number = {v.version: v for v in versions}
        aliases = self.alias_map()
        champion = by_number.get(aliases.get(CHAMPION, -1))
        challenger = by_number.get(aliases.get(CHALLENGER, -1))
        warnings = []
        for v in versions:
            if v.stage == PRODUCTION and v is not champion:
                warnings.append(
                    f"v{v.version} is tagged Production but the champion alias is "
                    f"{'v' + str(champion.version) if champion else 'unset'} "
                    "(interrupted promotion?)"
                )
            if v.semver is not None and v.stage is None:
                warnings.append(f"v{v.version} has a semver but no stage (interrupted decision?)")
        if champion is not None and champion.stage != PRODUCTION:
            warnings.append(f"champion v{champion.version} has stage tag {champion.stage}")
        if challenger is not None and challenger.stage != STAGING:
            warnings.append(f"challenger v{challenger.version} has stage tag {challenger.stage}")
        return RegistryState(self.model_name, versions, champion, challenger, tuple(warnings))

    # ---- low-level writes --------------------------------------------------------------
    def set_tags(self, version: int, tags: Mapping[str, Any]) -> None:
        """Set tags on a version; None values are skipped (MLflow rejects them)."""
        for key, value in tags.items():
            if value is not None:
                self.client.set_model_version_tag(self.model_name, str(version), key, str(value))

    def delete_tag(self, version: int, key: str) -> None:
        self.client.delete_model_version_tag(self.model_name, str(version), key)

    def set_alias(self, alias: str, version: int) -> None:
        # One call re-points an existing alias atomically: never delete first.
        self.client.set_registered_model_alias(self.model_name, alias, str(version))

    def delete_alias(self, alias: str) -> None:
        """Remove an alias; a missing alias is not an error."""
        if alias in self.alias_map():
            self.client.delete_registered_model_alias(self.model_name, alias)

    # ---- undo ------------------------------------------------------------------------
    def snapshot(self, versions: tuple[int, ...] | list[int]) -> dict[str, Any]:
        """What a lifecycle change may alter: both aliases and every tag of ``versions``.

        Plain JSON, so that it can wait in the audit file until :meth:`restore` uses it.
        """
        aliases = self.alias_map()
        return {
            "aliases": {alias: aliases.get(alias) for alias in (CHAMPION, CHALLENGER)},
            "tags": {
                str(number): dict(self.get_version(number).tags) for number in sorted(set(versions))
            },
        }

    def restore(self, snapshot: Mapping[str, Any]) -> None:
        """Put aliases and tags back as :meth:`snapshot` saw them. Idempotent.

        The champion alias is re-pointed first, in one call (never deleted when it existed),
        so that a crash while restoring still leaves the version that served before serving.
        """
        current = self.alias_map()
        for alias, version in snapshot["aliases"].items():
            if version is None:
                if alias in current:
                    self.client.delete_registered_model_alias(self.model_name, alias)
            elif current.get(alias) != int(version):
                self.set_alias(alias, int(version))
        for number, tags in snapshot["tags"].items():
            now = self.get_version(int(number)).tags
            for key in sorted(set(now) - set(tags)):
                self.delete_tag(int(number), key)
            self.set_tags(int(number), {k: v for k, v in tags.items() if now.get(k) != v})

    # ---- crash-safe lifecycle transitions ---------------------------------------------
    def _require_ready(self, version: int) -> VersionInfo:
        info = self.get_version(version)
        if info.status not in (None, "READY"):
            raise LifecycleError(f"v{version} is {info.status}, not READY")
        return info

    def _archive(self, version: int) -> None:
        self.set_tags(version, {TAG_STAGE: ARCHIVED, TAG_ARCHIVED_AT: utc_now_iso()})

    def _verify_alias(self, alias: str, expected: int | None) -> RegistryState:
        state = self.state()
        actual = getattr(state, alias)
        actual_number = None if actual is None else actual.version
        if actual_number != expected:
            raise LifecycleError(
                f"re-check failed: alias {alias} of {self.model_name} points at "
                f"{actual_number} instead of {expected}"
            )
        return state

    def promote_to_champion(
        self, version: int, reason: str, tags: Mapping[str, Any] | None = None
    ) -> RegistryState:
        """Make ``version`` the champion; the former champion becomes Archived.

        Order (a crash after any step leaves a valid champion, never none):
        1. tag the new version fully (lineage, stage=Production, reason);
        2. move alias ``champion`` in one call (atomic re-point, no delete first);
        3. tag the former champion stage=Archived;
        4. clear ``challenger`` if it pointed at the new version;
        5. read the aliases back.
        A crash between 1 and 2 leaves the old champion serving and a stray Production
        tag that :meth:`state` reports as a warning.
        """
        info = self._require_ready(version)
        former = self.champion()
        self.set_tags(
            version, {**(tags or {}), TAG_STAGE: PRODUCTION, TAG_PROMOTION_REASON: reason}
        )
        if TAG_ARCHIVED_AT in info.tags:  # a former champion coming back
            self.delete_tag(version, TAG_ARCHIVED_AT)
        self.set_alias(CHAMPION, version)
        if former is not None and former.version != version:
            self._archive(former.version)
        if self.alias_map().get(CHALLENGER) == version:
            self.delete_alias(CHALLENGER)
        return self._verify_alias(CHAMPION, version)

    def mark_challenger(
        self, version: int, reason: str, tags: Mapping[str, Any] | None = None
    ) -> RegistryState:
        """Make ``version`` the challenger (Staging); a displaced challenger goes to Development.

        Development (not Archived) because the displaced challenger never served: it only
        failed to beat the champion, and Archived is reserved for former champions.
        """
        self._require_ready(version)
        if self.alias_map().get(CHAMPION) == version:
            raise LifecycleError(f"v{version} is the champion; roll back or promote another first")
        former = self.challenger()
        self.set_tags(version, {**(tags or {}), TAG_STAGE: STAGING, TAG_PROMOTION_REASON: reason})
        self.set_alias(CHALLENGER, version)
        if former is not None and former.version != version:
            self.set_tags(former.version, {TAG_STAGE: DEVELOPMENT})
        return self._verify_alias(CHALLENGER, version)

    def mark_development(
        self, version: int, reason: str, tags: Mapping[str, Any] | None = None
    ) -> RegistryState:
        """Tag ``version`` Development (failed a quality gate); it loses the challenger alias."""
        aliases = self.alias_map()
        if aliases.get(CHAMPION) == version:
            raise LifecycleError(
                f"v{version} is the champion: demoting it would leave no champion; "
                "roll back or promote another version instead"
            )
        self.set_tags(
            version, {**(tags or {}), TAG_STAGE: DEVELOPMENT, TAG_PROMOTION_REASON: reason}
        )
        if aliases.get(CHALLENGER) == version:
            self.delete_alias(CHALLENGER)
        return self.state()

    def rollback(self, to_version: int, reason: str) -> RegistryState:
        """Make ``to_version`` champion again; the current champion becomes Archived."""
        current = self.champion()
        if current is not None and current.version == int(to_version):
            raise LifecycleError(f"v{to_version} is already the champion")
        return self.promote_to_champion(int(to_version), reason)
