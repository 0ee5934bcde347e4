"""Promotion policy: does a challenger become champion (docs/lifecycle.md)?

Comparisons use a tolerance of 1e-12 (``TOLERANCE``) so that an improvement exactly at
the threshold promotes even when floating point gives 0.0099999999 for 0.01; the same
tolerance applies to the floor (a value exactly at the floor passes).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import Field, field_validator, model_validator

from future_skills_kedro.lifecycle.bootstrap import paired_bootstrap_ci
from future_skills_kedro.parameters.base import Allowed, Invalid, ParameterModel, Seed
from future_skills_kedro.parameters.errors import did_you_mean

TOLERANCE = 1e-12

Outcome = Literal["champion", "challenger", "development"]
Stage = Literal["Production", "Staging", "Development"]
STAGE_OF_OUTCOME: dict[str, str] = {
    "champion": "Production",
    "challenger": "Staging",
    "development": "Development",
}


def _one_of_the_training_metrics() -> str:
    # Asked of scoring.classification_metrics itself (imports scikit-learn): only when shown.
    from future_skills_kedro.scoring import classification_metric_names

    return f"one of {', '.join(classification_metric_names())}"


class SignificanceGuard(ParameterModel):
    """Paired bootstrap over the holdout rows: promote only if the CI lower bound is > 0."""

    enabled: bool = False
    confidence: float = Field(0.95, gt=0, lt=1)
    resamples: int = Field(2000, ge=100)
    seed: Seed = 42


class NonInferiorityRule(ParameterModel):
    """Per-slice guard: a candidate that wins overall stays challenger if it is worse than
    the champion by more than ``margin`` (policy metric, direction-aware) on any slice of
    ``slices`` with at least ``min_rows`` holdout rows."""

    enabled: bool = False
    margin: float = Field(0.05, ge=0)
    min_rows: int = Field(200, ge=1)
    slices: list[Literal["department", "seniority", "horizon_years", "skill_category"]] = Field(
        default_factory=lambda: ["department", "seniority", "horizon_years"], min_length=1
    )


class PromotionPolicy(ParameterModel):
    """Metric, direction, required improvement and absolute floor (a ceiling when minimizing).

    The ``lifecycle.promotion`` parameters; built with ``PromotionPolicy.model_validate``.
    """

    metric: Annotated[str, Allowed(_one_of_the_training_metrics)] = "macro_f1"
    direction: Literal["maximize", "minimize"] = "maximize"
    threshold: float = Field(0.01, ge=0)
    threshold_type: Literal["absolute", "relative"] = "absolute"
    floor: float | None = 0.40
    significance: SignificanceGuard = SignificanceGuard()
    non_inferiority: NonInferiorityRule = NonInferiorityRule()

    @field_validator("metric")
    @classmethod
    def _computed_by_training(cls, metric: str) -> str:
        from future_skills_kedro.scoring import classification_metric_names

        names = classification_metric_names()
        if metric not in names:
            raise Invalid(
                f"expected a metric the training run computes{did_you_mean(metric, names)}: "
                f"{_one_of_the_training_metrics()}"
            )
        return metric

    @model_validator(mode="after")
    def _direction_fits_metric(self) -> PromotionPolicy:
        from future_skills_kedro.scoring import LOWER_IS_BETTER

        lower = self.metric in LOWER_IS_BETTER
        expected = "minimize" if lower else "maximize"
        if self.direction != expected:
            raise Invalid(
                f"expected {expected}: lower {self.metric} is {'better' if lower else 'worse'}",
                at=("direction",),
                value=self.direction,
            )
        return self

    @property
    def maximize(self) -> bool:
        return self.direction == "maximize"


@dataclass(frozen=True)
class PromotionDecision:
    """Outcome of the policy for one challenger, with the numbers behind it."""

    outcome: Outcome
    stage: Stage
    reason: str
    metric: str
    challenger_value: float | None = None
    champion_value: float | None = None
    delta: float | None = None  # challenger - champion (raw, not direction-aware)
    required: float | None = None  # improvement needed, in metric units
    confidence_interval: tuple[float, float] | None = None
    worst_slice: Mapping[str, Any] | None = None  # the slice the non-inferiority rule names

    @property
    def promoted(self) -> bool:
        return self.outcome == "champion"


def _decision(
    outcome: Outcome, reason: str, policy: PromotionPolicy, **numbers
) -> PromotionDecision:
    return PromotionDecision(
        outcome=outcome,
        stage=STAGE_OF_OUTCOME[outcome],  # type: ignore[arg-type]
        reason=reason,
        metric=policy.metric,
        **numbers,
    )


def metric_value(metrics: Mapping[str, Any] | None, name: str) -> float | None:
    """The finite float value of ``name`` in ``metrics``, or None if missing/NaN/not a number."""
    if not metrics or name not in metrics or metrics[name] is None:
        return None
    try:
        value = float(metrics[name])
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


def _fmt(value: float) -> str:
    return f"{value:.3f}"


def _comparison_text(delta: float, required: float, promoted: bool) -> tuple[str, str]:
    """Delta and required formatted so the printed numbers agree with the outcome."""
    digits = 3
    # 0.0099 vs 0.0100 both print as 0.010: show more digits rather than a confusing line.
    while digits < 9 and f"{abs(delta):.{digits}f}" == f"{required:.{digits}f}" and not promoted:
        digits += 3
    return f"{delta:+.{digits}f}", f"{required:.{digits}f}"


def _gate(policy: PromotionPolicy, metrics: Mapping[str, Any] | None) -> PromotionDecision | None:
    """Development when the challenger metric is missing, NaN or fails the floor."""
    name = policy.metric
    value = metric_value(metrics, name)
    if value is None:
        why = "is NaN or not a number" if metrics is not None and name in metrics else "is missing"
        return _decision("development", f"{name} {why} in the challenger metrics", policy)
    if policy.floor is None:
        return None
    fails = (
        value < policy.floor - TOLERANCE if policy.maximize else value > policy.floor + TOLERANCE
    )
    if not fails:
        return None
    word = "below floor" if policy.maximize else "above ceiling"
    reason = f"{name} {_fmt(value)} {word} {_fmt(policy.floor)}"
    return _decision("development", reason, policy, challenger_value=value)


def _uncontested(
    policy: PromotionPolicy,
    value: float,
    champion_metrics: Mapping[str, Any] | None,
    champion_compatible: bool,
) -> PromotionDecision | None:
    """Champion when there is nothing valid to compare with, else None."""
    name = policy.metric
    if champion_metrics is None:
        why = "first model passing the floor"
    elif not champion_compatible:
        why = "champion incompatible with the current input schema"
    elif metric_value(champion_metrics, name) is None:
        why = f"champion has no usable {name}"
    else:
        return None
    passes = (
        ""
        if policy.floor is None
        else f" (passes {'floor' if policy.maximize else 'ceiling'} {_fmt(policy.floor)})"
    )
    reason = f"{why}: {name} {_fmt(value)}{passes}"
    return _decision("champion", reason, policy, challenger_value=value)


def _compare(policy: PromotionPolicy, value: float, champion_value: float) -> PromotionDecision:
    """Champion if the direction-aware improvement reaches the threshold, else challenger."""
    delta = value - champion_value
    improvement = delta if policy.maximize else -delta
    required = (
        policy.threshold
        if policy.threshold_type == "absolute"
        else policy.threshold * abs(champion_value)
    )
    promoted = improvement >= required - TOLERANCE
    delta_text, required_text = _comparison_text(delta, required, promoted)
    operator = ">=" if promoted else "<"
    if policy.maximize:
        comparison = f"{delta_text} {operator} {required_text}"
    else:
        comparison = f"{delta_text}, lower is better: {-delta:+.3f} {operator} {required_text}"
    if policy.threshold_type == "relative":
        comparison += f" = {policy.threshold:.1%} of champion"
    return _decision(
        "champion" if promoted else "challenger",
        f"{policy.metric} {_fmt(value)} vs {_fmt(champion_value)} ({comparison})",
        policy,
        challenger_value=value,
        champion_value=champion_value,
        delta=delta,
        required=required,
    )


def _guard(
    policy: PromotionPolicy,
    decision: PromotionDecision,
    paired_scores: tuple[np.ndarray, np.ndarray] | None,
) -> PromotionDecision:
    """Keep a promotion only if the paired-bootstrap CI lower bound is above 0."""
    guard = policy.significance
    if paired_scores is None:
        reason = f"{decision.reason} but the significance guard has no paired per-row results"
        return replace(decision, outcome="challenger", stage="Staging", reason=reason)
    low, high = paired_bootstrap_ci(*paired_scores, guard.confidence, guard.resamples, guard.seed)
    ci_text = (
        f"paired {guard.confidence:.0%} CI [{low:+.3f}, {high:+.3f}], n={len(paired_scores[0])}"
    )
    if low > 0:
        return replace(
            decision,
            reason=f"{decision.reason}; significant: {ci_text}",
            confidence_interval=(low, high),
        )
    return replace(
        decision,
        outcome="challenger",
        stage="Staging",
        reason=f"{decision.reason} but not significant: {ci_text} does not exclude 0",
        confidence_interval=(low, high),
    )


def _slice_shortfalls(
    policy: PromotionPolicy, slices: Sequence[Mapping[str, Any]]
) -> list[dict[str, Any]]:
    """Slices with enough rows where the candidate trails the champion by more than the
    margin (direction-aware), worst first."""
    rule = policy.non_inferiority
    found = []
    for entry in slices:
        if entry.get("slice") not in rule.slices or int(entry.get("rows") or 0) < rule.min_rows:
            continue
        candidate = metric_value(entry, "challenger")
        champion = metric_value(entry, "champion")
        if candidate is None or champion is None:
            continue
        loss = champion - candidate if policy.maximize else candidate - champion
        if loss > rule.margin + TOLERANCE:
            found.append({**entry, "loss": loss})
    return sorted(found, key=lambda e: (-e["loss"], str(e["slice"]), str(e["value"])))


def _non_inferior(
    policy: PromotionPolicy,
    decision: PromotionDecision,
    slices: Sequence[Mapping[str, Any]] | None,
) -> PromotionDecision:
    """Keep a promotion only if no slice with enough rows is worse by more than the margin."""
    rule = policy.non_inferiority
    if slices is None:
        reason = f"{decision.reason} but the non-inferiority rule has no per-slice results"
        return replace(decision, outcome="challenger", stage="Staging", reason=reason)
    shortfalls = _slice_shortfalls(policy, slices)
    if not shortfalls:
        return decision
    worst = shortfalls[0]
    more = f" (and {len(shortfalls) - 1} more slice(s))" if len(shortfalls) > 1 else ""
    reason = (
        f"{decision.reason} but worse on {worst['slice']}={worst['value']}: {policy.metric} "
        f"{_fmt(float(worst['challenger']))} vs {_fmt(float(worst['champion']))} "
        f"(trails by {worst['loss']:.3f} > margin {rule.margin:.3f}, n={int(worst['rows'])})"
        f"{more}"
    )
    return replace(
        decision, outcome="challenger", stage="Staging", reason=reason, worst_slice=worst
    )


def decide_promotion(
    policy: PromotionPolicy,
    challenger_metrics: Mapping[str, Any] | None,
    champion_metrics: Mapping[str, Any] | None,
    champion_compatible: bool = True,
    paired_correct: tuple[np.ndarray, np.ndarray] | None = None,
    slices: Sequence[Mapping[str, Any]] | None = None,
) -> PromotionDecision:
    """Champion, challenger or development for a candidate, per ``policy``.

    ``champion_metrics`` must be measured on the same holdout as ``challenger_metrics``;
    ``paired_correct`` holds per-row scores (higher is better, 0/1 correctness by default)
    of both models on those rows, used only by the significance guard. ``slices`` holds the
    per-slice policy metric of both models on those rows (``slice``, ``value``, ``rows``,
    ``challenger``, ``champion``), used only by the non-inferiority rule.
    """
    if rejected := _gate(policy, challenger_metrics):
        return rejected
    value = metric_value(challenger_metrics, policy.metric)
    assert value is not None  # guaranteed by _gate
    if uncontested := _uncontested(policy, value, champion_metrics, champion_compatible):
        return uncontested
    champion_value = metric_value(champion_metrics, policy.metric)
    assert champion_value is not None  # guaranteed by _uncontested
    decision = _compare(policy, value, champion_value)
    if decision.promoted and policy.significance.enabled:
        decision = _guard(policy, decision, paired_correct)
    if decision.promoted and policy.non_inferiority.enabled:
        decision = _non_inferior(policy, decision, slices)
    return decision


def format_decision_line(
    model_name: str, version: int | str, semver: str, decision: PromotionDecision
) -> str:
    """One log line, e.g. ``<model name> v7 = 1.3.0 -> champion: macro_f1 ...``."""
    return f"{model_name} v{version} = {semver} -> {decision.outcome}: {decision.reason}"
