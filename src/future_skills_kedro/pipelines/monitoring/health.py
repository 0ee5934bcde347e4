"""Health: named rules over numeric signals -> healthy / degraded / unhealthy (or no_data).

A rule is ``{signal, op, threshold, severity, retrain}``; it fires when ``signal op
threshold``. A rule whose signal is unknown this time (no labels yet, no expected volume
configured...) is listed as skipped with the reason, never silently passed. When several
rules on one signal fire, only the most severe is reported (the warning adds nothing to the
critical one).
"""

from __future__ import annotations

import math
import operator
from collections.abc import Mapping
from typing import Any

HEALTHY, DEGRADED, UNHEALTHY, NO_DATA = "healthy", "degraded", "unhealthy", "no_data"
SEVERITIES = (DEGRADED, UNHEALTHY)
_RANK = {HEALTHY: 0, DEGRADED: 1, UNHEALTHY: 2}
# Numeric code of each status in metrics.prom (future_skills_health_status_code).
STATUS_CODES = {HEALTHY: 0, DEGRADED: 1, UNHEALTHY: 2, NO_DATA: -1}
OPERATORS = {
    ">=": operator.ge,
    ">": operator.gt,
    "<=": operator.le,
    "<": operator.lt,
}
SIGNALS = (
    "drift_share",
    "important_features_drifted",
    "prediction_class_drifted",
    "confidence_drifted",
    "mean_confidence_drop",
    "prediction_volume_ratio",
    "macro_f1_drop",
    "accuracy_drop",
    "estimated_macro_f1_drop",
    "model_age_days",
    "corrupt_line_share",
)


def _format(value: float) -> str:
    return f"{value:.4g}"


def evaluate_rules(
    signals: Mapping[str, float | None],
    unavailable: Mapping[str, str],
    rules: Mapping[str, Mapping[str, Any]],
) -> dict[str, Any]:
    """Fired rules (issues), skipped rules and the combined status.

    ``rules`` are checked parameters (signal, op, threshold, severity, retrain, description,
    enabled all present: ``parameters.monitoring.HealthRule``).
    """
    fired: list[dict[str, Any]] = []
    skipped: list[dict[str, str]] = []
    for name, rule in rules.items():
        if not rule["enabled"]:
            continue
        signal = rule["signal"]
        value = signals.get(signal)
        if value is None or (isinstance(value, float) and math.isnan(value)):
            reason = unavailable.get(signal, "signal not available")
            skipped.append({"rule": name, "signal": signal, "reason": reason})
            continue
        op = rule["op"]
        threshold = float(rule["threshold"])
        if not OPERATORS[op](float(value), threshold):
            continue
        description = rule["description"] or signal.replace("_", " ")
        fired.append(
            {
                "rule": name,
                "severity": rule["severity"],
                "signal": signal,
                "value": float(value),
                "op": op,
                "threshold": threshold,
                "retrain": rule["retrain"],
                "message": f"{description}: {signal} = {_format(float(value))} "
                f"{op} {_format(threshold)}",
            }
        )
    # Most severe rule per signal only, in the order the rules are configured.
    worst: dict[str, dict[str, Any]] = {}
    for issue in fired:
        kept = worst.get(issue["signal"])
        if kept is None or _RANK[issue["severity"]] > _RANK[kept["severity"]]:
            worst[issue["signal"]] = issue
    issues = [issue for issue in fired if worst[issue["signal"]] is issue]
    status = HEALTHY
    for issue in issues:
        if _RANK[issue["severity"]] > _RANK[status]:
            status = issue["severity"]
    return {"status": status, "issues": issues, "skipped": skipped}


def assess(
    signals: Mapping[str, float | None],
    unavailable: Mapping[str, str],
    rules: Mapping[str, Mapping[str, Any]],
    no_data_reason: str | None = None,
) -> dict[str, Any]:
    """The health verdict; ``no_data_reason`` set means there was nothing to monitor.

    Nothing to monitor is ``no_data`` whatever else fires: an old champion or a window of
    corrupt lines says nothing about predictions that were never logged, and an inference
    job that stopped logging must not pass for ``degraded``. Rules that fired on what is
    known are still listed (the exit policy weighs them too).
    """
    verdict = evaluate_rules(signals, unavailable, rules)
    if no_data_reason is not None:
        verdict["status"] = NO_DATA
    retrain_reasons = [issue["message"] for issue in verdict["issues"] if issue["retrain"]]
    issues = list(verdict["issues"])
    if no_data_reason is not None:
        issues.insert(0, {"rule": "no_data", "severity": NO_DATA, "message": no_data_reason})
    return {
        "status": verdict["status"],
        "no_data_reason": no_data_reason,
        "issues": issues,
        "skipped_rules": verdict["skipped"],
        "signals": dict(signals),
        "retrain_recommended": bool(retrain_reasons) and no_data_reason is None,
        "retrain_reasons": retrain_reasons if no_data_reason is None else [],
    }
