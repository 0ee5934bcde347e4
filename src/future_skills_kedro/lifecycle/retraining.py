"""Should the scheduled job retrain now? (``kedro models retrain-if-needed``)

Retraining is due when the latest monitoring run recommends it *and* labels newer than
the champion's training data exist: retraining on the same labels gives the same model.
The training run then registers a version and the lifecycle hook decides its promotion,
as after any training run. Plain policy, no Kedro: the command gathers the facts.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any


@dataclass(frozen=True)
class TrainedVersion:
    """A registered version and the newest labelled quarter it was trained on."""

    version: int
    stage: str | None
    data_through: date | None  # None: unknown (a version registered outside training)


@dataclass(frozen=True)
class RetrainingDecision:
    retrain: bool
    reason: str
    facts: dict[str, Any] = field(default_factory=dict)


def decide_retraining(  # noqa: PLR0911 (one guard per reason reads best)
    summary: Mapping[str, Any] | None,
    champion: TrainedVersion | None,
    latest: TrainedVersion | None,
    newest_label: date | None,
    today: date,
    max_summary_age_days: int | None,
) -> RetrainingDecision:
    """The decision and its reason, in the order an operator would check.

    ``latest`` is the most recently registered version: when it was already trained on
    the newest labels (a challenger the policy did not promote), retraining again would
    only rebuild it, every day.
    """
    facts: dict[str, Any] = {
        "champion_version": None if champion is None else champion.version,
        "champion_data_through": _iso(None if champion is None else champion.data_through),
        "newest_label": _iso(newest_label),
    }
    if summary is None:
        return RetrainingDecision(
            False, "no monitoring summary: run `kedro run --pipelines monitoring` first", facts
        )
    window_end = date.fromisoformat(summary["window"]["end"])
    reference = summary.get("reference") or {}
    facts |= {
        "summary_window_end": window_end.isoformat(),
        "summary_status": summary.get("status"),
        "retrain_recommended": bool(summary.get("retrain_recommended")),
        "retrain_reasons": list(summary.get("retrain_reasons") or []),
    }
    if champion is None:
        return RetrainingDecision(
            False, "no champion: train a first model with `kedro run --pipelines training`", facts
        )
    age = (today - window_end).days
    if max_summary_age_days is not None and age > max_summary_age_days:
        return RetrainingDecision(
            False,
            f"the monitoring summary is {age} days old (window ending {window_end}; "
            f"retraining.max_summary_age_days={max_summary_age_days}): is monitoring running?",
            facts,
        )
    if str(reference.get("version")) != str(champion.version):
        return RetrainingDecision(
            False,
            f"the monitoring summary is about v{reference.get('version')}, the champion is now "
            f"v{champion.version}: wait for its next monitoring run",
            facts,
        )
    if not summary.get("retrain_recommended"):
        return RetrainingDecision(
            False, f"monitoring does not recommend retraining (status {summary['status']})", facts
        )
    if newest_label is None or (
        champion.data_through is not None and newest_label <= champion.data_through
    ):
        return RetrainingDecision(
            False,
            f"monitoring recommends retraining, but no label is newer than v{champion.version}'s "
            f"training data (through {_iso(champion.data_through)}): wait for new labels",
            facts,
        )
    if (
        latest is not None
        and latest.version > champion.version
        and latest.data_through is not None
        and latest.data_through >= newest_label
    ):
        return RetrainingDecision(
            False,
            f"v{latest.version} ({latest.stage or 'no stage'}) was already trained on labels "
            f"through {_iso(latest.data_through)}: review it (`kedro models show "
            f"{latest.version}`) instead of retraining",
            facts,
        )
    reasons = "; ".join(summary.get("retrain_reasons") or []) or "monitoring recommends it"
    return RetrainingDecision(
        True,
        f"retraining: {reasons}; labels through {newest_label.isoformat()} are newer than "
        f"v{champion.version}'s training data (through {_iso(champion.data_through)})",
        facts,
    )


def _iso(day: date | None) -> str | None:
    return None if day is None else day.isoformat()
