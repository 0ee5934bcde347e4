"""Semantic version of a new model version (docs/lifecycle.md).

MAJOR: input schema or target classes changed (consumers break).
MINOR: same schema and classes, but training data, algorithm or hyperparameters changed.
PATCH: everything identical (a rebuild).
The first version is 1.0.0; an explicit override wins when it is valid and greater.

Pre-release rule: the bump starts from the *finalized* previous version, so after
``2.0.0-rc.1`` a MINOR change gives ``2.1.0``, a PATCH ``2.0.1`` and a MAJOR ``3.0.0``.
Every result is therefore greater than the pre-release. ``2.0.0`` itself (the release of
the candidate) is never produced automatically: set it with the override.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import semver

INITIAL_SEMVER = "1.0.0"
_SHORT_HASH = 8  # characters of a hash shown in reasons

Bump = Literal["major", "minor", "patch", "initial", "override"]
Schema = Sequence[tuple[str, str]] | str


class InvalidSemverOverride(ValueError):
    """The semver override is not a valid semantic version or is not greater than the previous."""


def schema_hash(schema: Schema | None) -> str | None:
    """Stable hash of an ordered (column, type) list; a string is taken as an existing hash."""
    if schema is None or isinstance(schema, str):
        return schema
    canonical = json.dumps([[str(col), str(typ)] for col, typ in schema], separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class VersionFacts:
    """What decides a version bump. ``semver`` is set for the previous version only.

    ``input_schema`` is the ordered list of (column, type) pairs or a hash of it. Fields
    left ``None`` are unknown and count as changed (the conservative choice).
    """

    input_schema: Schema | None
    target_classes: tuple[str, ...] | None
    data_hash: str | None
    params_hash: str | None
    algorithm: str | None
    semver: str | None = None

    def __post_init__(self) -> None:
        # Normalise so comparisons never depend on how the caller built the values.
        if self.input_schema is not None and not isinstance(self.input_schema, str):
            pairs = tuple((str(c), str(t)) for c, t in self.input_schema)
            object.__setattr__(self, "input_schema", pairs)
        if self.target_classes is not None:
            classes = tuple(sorted(str(c) for c in self.target_classes))
            object.__setattr__(self, "target_classes", classes)

    @property
    def schema_hash(self) -> str | None:
        return schema_hash(self.input_schema)


@dataclass(frozen=True)
class VersionDecision:
    """The semantic version chosen for a candidate, and why."""

    semver: str
    bump: Bump
    reason: str
    parent_semver: str | None


def _short(value: str | None) -> str:
    return "unknown" if value is None else value[:_SHORT_HASH]


def _schema_change(previous: VersionFacts, candidate: VersionFacts) -> str | None:
    old, new = previous.input_schema, candidate.input_schema
    if old is not None and old == new:
        return None
    if previous.schema_hash is not None and previous.schema_hash == candidate.schema_hash:
        return None
    # Name the columns when both sides are known as pairs; otherwise the hashes.
    if isinstance(old, tuple) and isinstance(new, tuple):
        old_types, new_types = dict(old), dict(new)
        parts = []
        if added := [c for c in new_types if c not in old_types]:
            parts.append("added " + ", ".join(added))
        if removed := [c for c in old_types if c not in new_types]:
            parts.append("removed " + ", ".join(removed))
        if retyped := [
            f"{c} {old_types[c]}→{new_types[c]}"
            for c in new_types
            if c in old_types and old_types[c] != new_types[c]
        ]:
            parts.append("retyped " + ", ".join(retyped))
        if not parts:
            parts.append("column order changed")
        return "input schema changed (" + "; ".join(parts) + ")"
    return (
        "input schema changed "
        f"(schema_hash {_short(previous.schema_hash)}→{_short(candidate.schema_hash)})"
    )


def _classes_text(classes: tuple[str, ...] | None) -> str:
    return "unknown" if classes is None else ",".join(classes)


def _changes(previous: VersionFacts, candidate: VersionFacts) -> tuple[list[str], list[str]]:
    """(breaking changes, compatible changes) as human phrases."""
    breaking: list[str] = []
    if schema := _schema_change(previous, candidate):
        breaking.append(schema)
    if previous.target_classes is None or previous.target_classes != candidate.target_classes:
        breaking.append(
            f"target classes changed ({_classes_text(previous.target_classes)}→"
            f"{_classes_text(candidate.target_classes)})"
        )
    compatible: list[str] = []
    if previous.data_hash is None or previous.data_hash != candidate.data_hash:
        compatible.append(
            f"training data changed (data_hash {_short(previous.data_hash)}→"
            f"{_short(candidate.data_hash)})"
        )
    if previous.algorithm is None or previous.algorithm != candidate.algorithm:
        compatible.append(
            f"algorithm changed ({previous.algorithm or 'unknown'}→"
            f"{candidate.algorithm or 'unknown'})"
        )
    if previous.params_hash is None or previous.params_hash != candidate.params_hash:
        compatible.append(
            f"hyperparameters changed (params_hash {_short(previous.params_hash)}→"
            f"{_short(candidate.params_hash)})"
        )
    return breaking, compatible


def _rule_based(previous: VersionFacts | None, candidate: VersionFacts) -> VersionDecision:
    if previous is None:
        return VersionDecision(INITIAL_SEMVER, "initial", "INITIAL: first registered version", None)
    if previous.semver is None:
        raise ValueError("previous VersionFacts needs its semver")
    base = semver.Version.parse(previous.semver).finalize_version()
    breaking, compatible = _changes(previous, candidate)
    if breaking:
        return VersionDecision(
            str(base.bump_major()), "major", "MAJOR: " + "; ".join(breaking), previous.semver
        )
    if compatible:
        return VersionDecision(
            str(base.bump_minor()), "minor", "MINOR: " + "; ".join(compatible), previous.semver
        )
    reason = "PATCH: rebuild with identical schema, target classes, data, algorithm and params"
    return VersionDecision(str(base.bump_patch()), "patch", reason, previous.semver)


def parse_semver(text: str) -> semver.Version:
    """Parse a semantic version, raising :class:`InvalidSemverOverride` with the bad text."""
    try:
        return semver.Version.parse(str(text).strip())
    except (ValueError, TypeError) as exc:
        raise InvalidSemverOverride(
            f"semver override {text!r} is not a valid semantic version "
            "(expected MAJOR.MINOR.PATCH, optionally -prerelease, e.g. 2.0.0-rc.1)"
        ) from exc


def decide_version(
    previous: VersionFacts | None, candidate: VersionFacts, override: str | None = None
) -> VersionDecision:
    """Semantic version of ``candidate`` relative to ``previous`` (None for the first one)."""
    computed = _rule_based(previous, candidate)
    if override is None or str(override).strip() == "":
        return computed
    wanted = parse_semver(override)
    if previous is not None and previous.semver is not None:
        parent = semver.Version.parse(previous.semver)
        # Precedence per semver.org: pre-releases sort below their release, build ignored.
        if wanted.compare(parent) <= 0:
            raise InvalidSemverOverride(
                f"semver override {wanted} must be greater than the previous version "
                f"{parent} (the rules would give {computed.semver})"
            )
    reason = (
        f"OVERRIDE: semver set to {wanted} by parameter "
        f"(rules would give {computed.semver}: {computed.reason})"
    )
    return VersionDecision(str(wanted), "override", reason, computed.parent_semver)
