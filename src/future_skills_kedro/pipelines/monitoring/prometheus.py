"""metrics.prom: the monitoring summary as Prometheus text (node_exporter textfile format).

All gauges, prefix ``future_skills_``. A figure that is unknown this run (no labels yet, no
champion) is left out rather than written as NaN, so ``absent()`` alerts work. The text is
rendered by prometheus_client, which escapes label values and writes HELP/TYPE lines.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import pandas as pd

from future_skills_kedro.contract import NEED_LEVELS
from future_skills_kedro.pipelines.monitoring.health import SEVERITIES, STATUS_CODES

PREFIX = "future_skills_"


def _timestamp(day: str | None, end_of_day: bool = False) -> float | None:
    if not day:
        return None
    stamp = pd.Timestamp(day, tz="UTC")
    if end_of_day:
        stamp += pd.Timedelta(days=1)
    return stamp.timestamp()


def _gauge(name: str, doc: str, value: Any = None, labels=None, samples=()):
    """A gauge family: one unlabelled value, or labelled samples (None samples left out)."""
    from prometheus_client.core import GaugeMetricFamily

    family = GaugeMetricFamily(f"{PREFIX}{name}", doc, labels=labels)
    if value is not None:
        family.add_metric([], float(value))
    for label_values, sample in samples:
        if sample is not None:
            family.add_metric(list(label_values), float(sample))
    return family


class _SummaryCollector:
    """A prometheus_client collector over one summary dict (collected once)."""

    def __init__(self, summary: Mapping[str, Any], generated_at: float) -> None:
        self._summary = summary
        self._generated_at = generated_at

    def collect(self) -> Iterator[Any]:
        # A family without samples would only add HELP/TYPE noise.
        return (family for family in self._families() if family.samples)

    def _families(self) -> Iterator[Any]:
        s = self._summary
        reference = s.get("reference") or {}
        yield from _window_families(s["window"], self._generated_at)
        yield from _health_families(s)
        yield from _model_families(reference)
        yield from _drift_families(s.get("drift") or {})
        yield from _prediction_families(s.get("prediction_drift") or {})
        yield from _performance_families(s.get("performance") or {})
        yield from _estimate_families(s.get("performance_estimate") or {})
        yield from _health_detail_families(s["health"], reference)


def _window_families(window: Mapping[str, Any], generated_at: float) -> Iterator[Any]:
    """When the run happened, the window it read and what reading it found."""
    yield _gauge(
        "monitoring_last_success_timestamp_seconds",
        "Unix time the monitoring run finished writing this file (whatever the health).",
        generated_at,
    )
    yield _gauge(
        "monitoring_window_start_timestamp_seconds",
        "Start of the monitored window (UTC midnight).",
        _timestamp(window.get("start")),
    )
    yield _gauge(
        "monitoring_window_end_timestamp_seconds",
        "End of the monitored window (exclusive, UTC midnight after end_date).",
        _timestamp(window.get("end"), end_of_day=True),
    )
    yield _gauge(
        "monitoring_window_predictions",
        "Logged predictions read in the window.",
        window.get("predictions", 0),
    )
    excluded = window.get("excluded_by_purpose") or {}
    yield _gauge(
        "monitoring_excluded_predictions",
        "Logged predictions of the window left out because of their purpose.",
        labels=["purpose"],
        samples=[((purpose,), count) for purpose, count in sorted(excluded.items())],
    )
    yield _gauge(
        "monitoring_log_lines_read",
        "Non-blank prediction-log lines read for the window.",
        window.get("lines_read", 0),
    )
    yield _gauge(
        "monitoring_log_corrupt_lines",
        "Prediction-log lines skipped as corrupt.",
        window.get("corrupt_lines", 0),
    )


def _health_families(s: Mapping[str, Any]) -> Iterator[Any]:
    """The health status, its issues by severity and the retrain recommendation."""
    health = s["health"]
    status = health["status"]
    yield _gauge(
        "health_status",
        "1 for the current health status (healthy, degraded, unhealthy, no_data).",
        labels=["status"],
        samples=[((name,), int(name == status)) for name in STATUS_CODES],
    )
    yield _gauge(
        "health_status_code",
        "Health as a number: 0 healthy, 1 degraded, 2 unhealthy, -1 no_data.",
        STATUS_CODES[status],
    )
    counts = {severity: 0 for severity in SEVERITIES}
    for issue in health["issues"]:
        if issue["severity"] in counts:
            counts[issue["severity"]] += 1
    yield _gauge(
        "health_issues",
        "Health rules that fired, by severity.",
        labels=["severity"],
        samples=[((severity,), count) for severity, count in counts.items()],
    )
    yield _gauge(
        "retrain_recommended",
        "1 when a rule marked retrain fired.",
        int(bool(s.get("retrain_recommended"))),
    )


def _model_families(reference: Mapping[str, Any]) -> Iterator[Any]:
    """The champion monitored and its age."""
    if reference.get("version") is not None:
        yield _gauge(
            "model_info",
            "The champion monitored (always 1).",
            labels=["model_name", "version", "semver"],
            samples=[
                (
                    (
                        str(reference.get("model_name") or ""),
                        str(reference.get("version") or ""),
                        str(reference.get("semver") or ""),
                    ),
                    1,
                )
            ],
        )
    age_days = reference.get("model_age_days")
    yield _gauge(
        "model_age_seconds",
        "Age of the champion version at the end of the window.",
        None if age_days is None else age_days * 86400.0,
    )


def _drift_families(drift: Mapping[str, Any]) -> Iterator[Any]:
    """Feature drift: share, count, and per feature its score, threshold and verdict."""
    features = drift.get("features") or {}
    yield _gauge(
        "drift_share",
        "Share of features whose drift test says drifted.",
        drift.get("drift_share") if features else None,
    )
    yield _gauge(
        "drift_features_drifted",
        "Number of features whose drift test says drifted.",
        len(drift.get("drifted_features") or []) if features else None,
    )
    yield _gauge(
        "feature_drift_score",
        "Drift score per feature (p-value for ks/chisquare, distance otherwise).",
        labels=["feature", "method"],
        samples=[((name, r["method"]), r.get("score")) for name, r in features.items()],
    )
    yield _gauge(
        "feature_drift_threshold",
        "Drift threshold per feature.",
        labels=["feature", "method"],
        samples=[((name, r["method"]), r["threshold"]) for name, r in features.items()],
    )
    yield _gauge(
        "feature_drift_detected",
        "1 when the feature drifted.",
        labels=["feature"],
        samples=[((name,), int(bool(r["drifted"]))) for name, r in features.items()],
    )


def _prediction_families(prediction: Mapping[str, Any]) -> Iterator[Any]:
    """The predicted-class mix and the confidence, against the champion's holdout."""
    class_mix = prediction.get("class_mix") or {}
    counts_by_level = class_mix.get("current_counts") or {}
    yield _gauge(
        "predictions",
        "Logged predictions in the window per predicted level.",
        labels=["level"],
        samples=[((level,), counts_by_level.get(level, 0)) for level in NEED_LEVELS],
    )
    yield _gauge(
        "prediction_class_drift_score",
        "Drift of the predicted-class mix vs the champion's holdout predictions.",
        labels=["method"],
        samples=[((str(class_mix.get("method")),), class_mix.get("score"))],
    )
    confidence = prediction.get("confidence") or {}
    yield _gauge(
        "mean_confidence",
        "Mean confidence of the predictions (window) and of the holdout (reference).",
        labels=["source"],
        samples=[
            (("window",), confidence.get("current_mean")),
            (("reference",), confidence.get("reference_mean")),
        ],
    )
    yield _gauge(
        "confidence_drift_score",
        "Drift of the confidence distribution vs the champion's holdout predictions.",
        labels=["method"],
        samples=[((str(confidence.get("method")),), confidence.get("score"))],
    )


def _performance_families(performance: Mapping[str, Any]) -> Iterator[Any]:
    """Realized performance of the labelled predictions against the holdout's."""
    yield _gauge(
        "performance_labelled_predictions",
        "Logged predictions in the window that have a label.",
        performance.get("labelled_predictions", 0),
    )
    overall = performance.get("overall") or {}
    baseline = performance.get("reference") or {}
    for metric in ("accuracy", "macro_f1"):
        yield _gauge(
            f"performance_{metric}",
            f"{metric} of labelled predictions (window) and on the holdout (reference).",
            labels=["scope"],
            samples=[
                (("window",), overall.get(metric)),
                (("reference",), baseline.get(metric)),
            ],
        )
    drop = performance.get("drop") or {}
    yield _gauge(
        "performance_macro_f1_drop",
        "Holdout macro-F1 minus window macro-F1 (when enough labels).",
        drop.get("macro_f1"),
    )


def _estimate_families(estimate: Mapping[str, Any]) -> Iterator[Any]:
    """performance_estimate: per horizon ("all" = the whole window) and the judged drop."""
    blocks = {"all": estimate} | dict(estimate.get("by_horizon") or {})
    blocks = {key: block for key, block in blocks.items() if block.get("estimated")}

    def per_horizon(pick) -> list:
        return [((key,), pick(block)) for key, block in blocks.items()]

    yield _gauge(
        "performance_estimate_rows",
        "Distinct predictions (keys) the estimate is computed on.",
        labels=["horizon"],
        samples=per_horizon(lambda b: b["rows"]),
    )
    for metric in ("accuracy", "macro_f1"):
        yield _gauge(
            f"performance_estimate_{metric}",
            f"{metric} estimated from calibrated probabilities (no labels needed).",
            labels=["horizon"],
            samples=per_horizon(lambda b, m=metric: b["estimated"][m]),
        )
        yield _gauge(
            f"performance_estimate_{metric}_bound",
            f"Bounds of the bootstrap interval of the estimated {metric}.",
            labels=["horizon", "bound"],
            samples=[
                ((key, bound), (block.get("interval") or {}).get(metric, [None, None])[i])
                for key, block in blocks.items()
                for i, bound in enumerate(("low", "high"))
            ],
        )
        yield _gauge(
            f"performance_estimate_realized_{metric}",
            f"Realized {metric} of the estimated predictions that have a label.",
            labels=["horizon"],
            samples=per_horizon(lambda b, m=metric: (b.get("realized") or {}).get(m)),
        )
        yield _gauge(
            f"performance_estimate_error_{metric}",
            f"Estimated minus realized {metric} on the labelled predictions.",
            labels=["horizon"],
            samples=per_horizon(lambda b, m=metric: (b.get("error") or {}).get(m)),
        )
    if blocks:
        yield _gauge(
            "performance_estimate_judged",
            "1 when the window has performance_estimate.min_rows predictions (rules apply).",
            int(estimate.get("status") == "estimated"),
        )
    yield _gauge(
        "performance_estimate_macro_f1_drop",
        "Holdout macro-F1 minus estimated macro-F1 (only when judged).",
        (estimate.get("drop") or {}).get("macro_f1"),
    )


def _health_detail_families(health: Mapping[str, Any], reference) -> Iterator[Any]:
    """What the alert rules key on: which health rules fired, the signals, the key features."""
    fired = [issue for issue in health["issues"] if issue["severity"] in SEVERITIES]
    yield _gauge(
        "health_rule_fired",
        "1 per health rule that fired (the most severe per signal); status is what it makes "
        "the health.",
        labels=["rule", "signal", "status"],
        samples=[((i["rule"], i["signal"], i["severity"]), 1) for i in fired],
    )
    yield _gauge(
        "health_signal",
        "Value of each health signal known this run (what the rules compare).",
        labels=["signal"],
        samples=[
            ((name,), value)
            for name, value in (health.get("signals") or {}).items()
            if isinstance(value, int | float) and not isinstance(value, bool)
        ],
    )
    yield _gauge(
        "important_feature",
        "1 per feature the health rules treat as important (top permutation importance).",
        labels=["feature"],
        samples=[((name,), 1) for name in reference.get("important_features") or []],
    )


def render(summary: Mapping[str, Any], generated_at: float) -> str:
    """Prometheus text exposition of the summary."""
    from prometheus_client import CollectorRegistry, generate_latest

    registry = CollectorRegistry(auto_describe=False)
    registry.register(_SummaryCollector(summary, generated_at))
    return generate_latest(registry).decode("utf-8")
