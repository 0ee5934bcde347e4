"""Semantic versioning rules (docs/lifecycle.md)."""

from __future__ import annotations

import pytest

from future_skills_kedro.lifecycle import (
    InvalidSemverOverride,
    VersionFacts,
    decide_version,
    schema_hash,
)

SCHEMA = [("job_role_name", "object"), ("trend_score", "float64")]
CLASSES = ("HIGH", "LOW", "MEDIUM")


def facts(semver: str | None = None, **changes) -> VersionFacts:
    values = {
        "input_schema": SCHEMA,
        "target_classes": CLASSES,
        "data_hash": "data1111aaaa",
        "params_hash": "a1b2a1b2ffff",
        "algorithm": "random_forest",
        "semver": semver,
    }
    return VersionFacts(**(values | changes))


@pytest.mark.parametrize(
    ("previous", "candidate", "expected", "bump", "reason_part"),
    [
        (None, facts(), "1.0.0", "initial", "first registered version"),
        (facts("1.2.3"), facts(), "1.2.4", "patch", "PATCH: rebuild"),
        (
            facts("1.2.3"),
            facts(params_hash="c3d4c3d4ffff"),
            "1.3.0",
            "minor",
            "MINOR: hyperparameters changed (params_hash a1b2a1b2→c3d4c3d4)",
        ),
        (facts("1.2.3"), facts(data_hash="data2222"), "1.3.0", "minor", "training data changed"),
        (
            facts("1.2.3"),
            facts(algorithm="hist_gradient_boosting"),
            "1.3.0",
            "minor",
            "algorithm changed (random_forest→hist_gradient_boosting)",
        ),
        (
            facts("1.2.3"),
            facts(input_schema=[*SCHEMA, ("scarcity_index", "float64")]),
            "2.0.0",
            "major",
            "input schema changed (added scarcity_index)",
        ),
        (
            facts("1.2.3"),
            facts(input_schema=[("job_role_name", "object"), ("trend_score", "int64")]),
            "2.0.0",
            "major",
            "retyped trend_score float64→int64",
        ),
        (
            facts("1.2.3"),
            facts(input_schema=list(reversed(SCHEMA))),
            "2.0.0",
            "major",
            "column order changed",
        ),
        (
            facts("1.2.3"),
            facts(target_classes=("HIGH", "LOW")),
            "2.0.0",
            "major",
            "target classes changed (HIGH,LOW,MEDIUM→HIGH,LOW)",
        ),
        # MAJOR wins over MINOR changes happening at the same time.
        (facts("1.2.3"), facts(target_classes=("A",), data_hash="x"), "2.0.0", "major", "MAJOR"),
        # A schema given as a hash on one side compares by hash.
        (facts("1.2.3", input_schema=schema_hash(SCHEMA)), facts(), "1.2.4", "patch", "PATCH"),
        (facts("1.2.3", input_schema="0000"), facts(), "2.0.0", "major", "schema_hash 0000→"),
        # Unknown facts of the previous version count as changed (conservative).
        (facts("1.2.3", params_hash=None), facts(), "1.3.0", "minor", "params_hash unknown→"),
        # Pre-release previous: bump from the finalized version (documented rule).
        (facts("2.0.0-rc.1"), facts(), "2.0.1", "patch", "PATCH"),
        (facts("2.0.0-rc.1"), facts(data_hash="new"), "2.1.0", "minor", "MINOR"),
        (facts("2.0.0-rc.1"), facts(target_classes=("A",)), "3.0.0", "major", "MAJOR"),
    ],
)
def test_bump_rules(previous, candidate, expected, bump, reason_part):
    decision = decide_version(previous, candidate)
    assert (decision.semver, decision.bump) == (expected, bump)
    assert reason_part in decision.reason
    assert decision.parent_semver == (previous.semver if previous else None)


def test_target_classes_order_does_not_matter():
    decision = decide_version(facts("1.0.0"), facts(target_classes=("MEDIUM", "LOW", "HIGH")))
    assert decision.bump == "patch"


@pytest.mark.parametrize(
    ("previous_semver", "override", "expected"),
    [
        (None, "0.1.0", "0.1.0"),
        ("1.2.3", "2.0.0", "2.0.0"),
        ("1.2.3", "2.0.0-rc.1", "2.0.0-rc.1"),
        ("2.0.0-rc.1", "2.0.0-rc.2", "2.0.0-rc.2"),
        ("2.0.0-rc.2", "2.0.0", "2.0.0"),  # releasing the candidate
        ("1.2.3", " 1.2.4 ", "1.2.4"),
    ],
)
def test_valid_override(previous_semver, override, expected):
    previous = facts(previous_semver) if previous_semver else None
    decision = decide_version(previous, facts(data_hash="new"), override)
    assert (decision.semver, decision.bump) == (expected, "override")
    assert "OVERRIDE" in decision.reason
    assert "rules would give" in decision.reason


@pytest.mark.parametrize(
    ("previous_semver", "override", "message"),
    [
        ("1.2.3", "1.2.3", "must be greater than the previous version 1.2.3"),
        ("1.2.3", "1.0.0", "must be greater"),
        ("2.0.0", "2.0.0-rc.1", "must be greater"),  # a pre-release sorts below its release
        ("1.2.3", "1.2.3+build.7", "must be greater"),  # build metadata has no precedence
        ("1.2.3", "v2", "not a valid semantic version"),
        ("1.2.3", "2.0", "not a valid semantic version"),
    ],
)
def test_invalid_override(previous_semver, override, message):
    with pytest.raises(InvalidSemverOverride, match=message):
        decide_version(facts(previous_semver), facts(), override)


@pytest.mark.parametrize("override", [None, ""])
def test_empty_override_means_rules(override):
    assert decide_version(facts("1.0.0"), facts(), override).semver == "1.0.1"
