"""Monitoring nodes: window, drift, performance, health, outputs, exit policy.

Pure functions of their inputs (no file or network I/O: the catalog reads and writes), except
:func:`load_prediction_window`, which calls the lazy log reader the catalog hands it because
the window comes from parameters (the way nodes call a PartitionedDataset's loaders), and
the two clock reads: "today" when no end date is configured, and the last-success time
of metrics.prom. The summary itself holds no wall-clock value, so one window run twice
gives the same summary.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Mapping
from datetime import date, timedelta
from typing import Any

import numpy as np
import pandas as pd

from future_skills_kedro.contract import CATEGORICAL_FEATURES, NEED_LEVELS, NUMERIC_FEATURES
from future_skills_kedro.drift import calibration as drift_calibration
from future_skills_kedro.drift import reference as drift_reference
from future_skills_kedro.drift import scores as drift
from future_skills_kedro.pipelines.monitoring import (
    estimation,
    health,
    performance,
    prometheus,
)
from future_skills_kedro.scoring import CONFIDENCE_COLUMN, PREDICTION_COLUMN
from future_skills_kedro.tracking import as_mlflow_metrics

logger = logging.getLogger(__name__)

SUMMARY_SCHEMA_VERSION = 1
EXIT_POLICIES = ("unhealthy", "degraded", "never")
MAX_CORRUPT_EXAMPLES = 5


class MonitoringStatusError(RuntimeError):
    """Raised by the last node when the health status fails the configured exit policy."""


# --------------------------------------------------------------------------- window


def resolve_window(window: Mapping[str, Any], today: date | None = None) -> tuple[date, date]:
    """First and last UTC day (both inclusive) of the monitored window."""
    end_day = window["end_date"]
    if end_day is None:
        end_day = today or pd.Timestamp.now(tz="UTC").date()
    return end_day - timedelta(days=window["days"] - 1), end_day


def load_prediction_window(
    log_source: Any, window: Mapping[str, Any]
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """The logged predictions of the window and what reading them found.

    Only records of ``window.purposes`` (default: production) are monitored; the others of
    the window are counted per purpose in ``excluded_by_purpose``.
    """
    start, end = resolve_window(window)
    purposes = list(window["purposes"])
    read = log_source.read(start.isoformat(), end.isoformat(), purposes=purposes)
    frame = read.frame
    by_day: dict[str, int] = {}
    versions: dict[str, int] = {}
    if len(frame):
        days = performance.utc_day(frame["timestamp"]).value_counts().sort_index()
        by_day = {str(k): int(v) for k, v in days.items()}
        counted = frame["model_version"].astype("str").value_counts().sort_index()
        versions = {str(k): int(v) for k, v in counted.items()}
    info = window_info(
        window,
        engine="pandas",
        files_read=read.files_read,
        lines_read=read.lines_read,
        corrupt_lines=read.corrupt_lines,
        corrupt_examples=[
            {"file": example.file, "line": example.line_number, "reason": example.reason}
            for example in read.corrupt_examples
        ],
        excluded_by_purpose=dict(read.excluded_by_purpose),
        predictions=len(frame),
        predictions_by_day=by_day,
        model_versions=versions,
    )
    return frame, info


def window_info(
    window: Mapping[str, Any],
    *,
    engine: str,
    files_read: int,
    lines_read: int,
    corrupt_lines: int,
    corrupt_examples: list[dict[str, Any]],
    excluded_by_purpose: Mapping[str, int],
    predictions: int,
    predictions_by_day: Mapping[str, int],
    model_versions: Mapping[str, int],
) -> dict[str, Any]:
    """The summary's ``window``: what was read and counted, whichever engine read it."""
    start, end = resolve_window(window)
    purposes = list(window["purposes"])
    info: dict[str, Any] = {
        "start": start.isoformat(),
        "end": end.isoformat(),
        "days": (end - start).days + 1,
        "end_date_configured": window["end_date"] is not None,
        "engine": engine,
        "files_read": files_read,
        "lines_read": lines_read,
        "corrupt_lines": corrupt_lines,
        "corrupt_line_share": corrupt_lines / lines_read if lines_read else None,
        "corrupt_examples": list(corrupt_examples[:MAX_CORRUPT_EXAMPLES]),
        "predictions": predictions,
        "purposes": purposes,
        "excluded_by_purpose": dict(excluded_by_purpose),
        "excluded_predictions": sum(excluded_by_purpose.values()),
        "predictions_by_day": dict(predictions_by_day),
        "model_versions": dict(model_versions),
    }
    logger.info(
        "monitoring window %s..%s (%s): %d %s predictions (%d of other purposes left out), "
        "%d corrupt line(s) in %d file(s)",
        info["start"],
        info["end"],
        engine,
        predictions,
        "/".join(purposes),
        info["excluded_predictions"],
        corrupt_lines,
        files_read,
    )
    return info


# --------------------------------------------------------------------------- reference


def describe_reference(
    reference: Any, window: Mapping[str, Any], importance: Mapping[str, Any]
) -> dict[str, Any] | None:
    """The champion monitored: version, age at the end of the window, key features."""
    if reference is None:
        return None
    registered = pd.Timestamp(reference.created_at)
    registered = registered.tz_localize("UTC") if registered.tzinfo is None else registered
    # Age at the end of the window, not "now": a backfill gives the same answer every time.
    window_end = pd.Timestamp(window["end"], tz="UTC") + pd.Timedelta(days=1)
    age_days = max((window_end - registered).total_seconds() / 86400.0, 0.0)

    configured = list(importance["features"])
    top_k = importance["top_k"]
    if configured:
        features, source = configured[:top_k], "configured"
    elif reference.feature_importance is not None and len(reference.feature_importance):
        table = reference.feature_importance.sort_values(
            ["importance_mean", "feature"], ascending=[False, True], kind="stable"
        )
        features, source = table["feature"].astype("str").head(top_k).tolist(), "champion"
    else:
        features, source = [], "unavailable"
    return {
        "model_name": reference.model_name,
        "version": str(reference.version),
        "alias": reference.alias,
        "semver": reference.semver,
        "stage": reference.stage,
        "run_id": reference.run_id,
        "registered_at": registered.tz_convert("UTC").isoformat().replace("+00:00", "Z"),
        "model_age_days": age_days,
        "feature_rows": len(reference.features),
        "holdout_rows": (
            None if reference.holdout_predictions is None else len(reference.holdout_predictions)
        ),
        "important_features": features,
        "important_features_source": source,
    }


# --------------------------------------------------------------------------- drift


def _skipped_drift(reason: str) -> dict[str, Any]:
    return {
        "status": "skipped",
        "reason": reason,
        "engine": None,
        "reference": None,
        "thresholds": None,
        "features": {},
        "drifted_features": [],
        "drift_share": None,
        "dataset_drift": None,
    }


def load_previous_window(
    log_source: Any, window: Mapping[str, Any], drift_params: Mapping[str, Any]
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """The window just before the monitored one, read only for ``drift.reference:
    previous_window`` (otherwise an empty frame: no second read of the logs)."""
    info = previous_window_info(window)
    if drift_params["reference"] != drift_reference.PREVIOUS_WINDOW:
        return pd.DataFrame(), info
    read = log_source.read(info["start"], info["end"], purposes=list(window["purposes"]))
    return read.frame, info | {"read": True, "predictions": len(read.frame)}


def previous_window_info(window: Mapping[str, Any]) -> dict[str, Any]:
    """The span of the window just before the monitored one (as long as it), not yet read."""
    start, _ = resolve_window(window)
    end = start - timedelta(days=1)
    first = end - timedelta(days=window["days"] - 1)
    return {"start": first.isoformat(), "end": end.isoformat(), "read": False, "predictions": 0}


def _thresholds_info(
    reference: Any, sources: Mapping[str, str], note: str | None
) -> dict[str, Any]:
    calibration = getattr(reference, "drift_calibration", None)
    kinds = set(sources.values())
    return {
        "source": kinds.pop() if len(kinds) == 1 else "mixed",
        "calibrated": calibration is not None,
        "calibration_quarters": (
            None
            if calibration is None
            else [calibration["quarters"][0], calibration["quarters"][-1]]
        ),
        "note": note,
    }


def detect_feature_drift(
    predictions: pd.DataFrame,
    reference: Any,
    params: Mapping[str, Any],
    previous_predictions: pd.DataFrame | None = None,
    previous_window: Mapping[str, Any] | None = None,
) -> tuple[dict[str, Any], str]:
    """Per-feature drift of the window against the reference rows (``drift.reference``:
    the champion's holdout quarters by default), with the thresholds calibrated at training
    time (explicit ``per_column`` settings win), + HTML.

    Evidently decides when the window has at most ``evidently_max_rows`` rows; above that,
    the vectorised engine decides on all rows (same definitions, same numbers) and Evidently
    only draws the report from a seeded sample. ``engine: builtin`` never imports Evidently;
    an Evidently failure falls back to the engine with the reason recorded.
    """
    title = "Feature drift report"
    if reference is None:
        result = _skipped_drift("no champion model in the registry")
        return result, drift.fallback_html(title, result["reason"], {})
    if predictions.empty:
        result = _skipped_drift("no predictions logged in the window")
        return result, drift.fallback_html(title, result["reason"], {})
    return feature_drift_of(
        _LoggedRows(predictions), reference, params, previous_predictions, previous_window
    )


class _LoggedRows:
    """The window as rows (the pandas engine): prepared once, scored on every row."""

    def __init__(self, predictions: pd.DataFrame) -> None:
        self.predictions = predictions
        self.rows = len(predictions)
        self._prepared: pd.DataFrame | None = None

    def prepared(self, specs: list[drift.ColumnSpec]) -> pd.DataFrame:
        if self._prepared is None:
            self._prepared = drift.prepare_features(self.predictions, specs)
        return self._prepared

    def report_rows(
        self, specs: list[drift.ColumnSpec], max_rows: int, seed: int
    ) -> tuple[pd.DataFrame, bool]:
        """The rows Evidently draws (all, or a seeded uniform sample) and whether sampled."""
        current = self.prepared(specs)
        sampled = len(current) > max_rows
        return (current.sample(n=max_rows, random_state=seed) if sampled else current), sampled

    def feature_drift(
        self, reference: pd.DataFrame, specs: list[drift.ColumnSpec]
    ) -> dict[str, dict[str, Any]]:
        return drift.builtin_feature_drift(reference, self.prepared(specs), specs)


def feature_drift_of(
    current: Any,
    reference: Any,
    params: Mapping[str, Any],
    previous_predictions: pd.DataFrame | None = None,
    previous_window: Mapping[str, Any] | None = None,
) -> tuple[dict[str, Any], str]:
    """:func:`detect_feature_drift` for a non-empty window ``current``: rows (pandas) or
    counts per feature (Spark), anything with ``rows``, ``report_rows(specs, max_rows,
    seed)`` and ``feature_drift(reference, specs)``."""
    title = "Feature drift report"
    reference_rows, reference_info = drift_reference.select_reference(
        reference, params["reference"], previous_predictions, dict(previous_window or {})
    )
    specs, sources, note = drift_calibration.resolve_specs(
        params,
        getattr(reference, "drift_calibration", None),
        reference_info["kind"],
        NUMERIC_FEATURES,
        CATEGORICAL_FEATURES,
    )
    if note:
        logger.warning("monitoring drift: %s", note)
    if reference_info["note"]:
        logger.warning("monitoring drift: %s", reference_info["note"])
    # A previous window aggregated by Spark: scored from its counts, drawn from its sample.
    reference_counts = getattr(reference_rows, "feature_counts", None)
    reference_sampled = reference_counts is not None and reference_rows.sampled
    ref = drift.prepare_features(
        reference_rows.report_rows if reference_counts is not None else reference_rows, specs
    )
    engine = params["engine"]
    max_rows = params["evidently_max_rows"]
    share_threshold = params["dataset_drift_share"]
    report: dict[str, Any] = {"engine": None, "current_rows": 0, "sampled": False, "error": None}
    fallback_reason = None
    features = None
    report_html = None

    if engine == "evidently":
        report_rows, sampled = current.report_rows(specs, max_rows, params["sample_seed"])
        try:
            evidently_features, report_html = drift.run_evidently(
                ref, report_rows, specs, share_threshold
            )
        except Exception as error:  # any Evidently failure means the fallback, not a crash
            fallback_reason = f"Evidently failed: {type(error).__name__}: {error}"
            logger.warning("monitoring: %s; using the built-in drift engine", fallback_reason)
            report["error"] = fallback_reason
        else:
            report |= {"engine": "evidently", "current_rows": len(report_rows), "sampled": sampled}
            if sampled or reference_sampled:
                drawn = [(len(report_rows), current.rows, "current")] if sampled else []
                if reference_sampled:
                    drawn.append((len(ref), reference_info["rows"], "reference"))
                samples = " and ".join(f"{n:,} of {all_:,} {side} rows" for n, all_, side in drawn)
                report_html = drift.add_banner(
                    report_html,
                    f"Evidently report drawn from a uniform sample of {samples}. The verdicts "
                    "in monitoring_summary.json are computed on all rows.",
                )
            else:
                features = evidently_features

    decided_by = "evidently" if features is not None else "builtin"
    if features is None:
        features = current.feature_drift(
            reference_counts if reference_counts is not None else ref, specs
        )
    if report_html is None:
        reason = (
            "Evidently is disabled (monitoring.drift.engine: builtin)."
            if engine == "builtin"
            else f"No Evidently report: {fallback_reason}"
        )
        report_html = drift.fallback_html(
            title, f"{reason} Built-in drift results on all rows:", features
        )
        report["engine"] = "fallback"

    share = drift.drift_share(features)
    result = {
        "status": "tested",
        "reason": None,
        "engine": decided_by,
        "fallback_reason": fallback_reason,
        "rows": {"reference": reference_info["rows"], "current": current.rows},
        "reference": reference_info,
        "thresholds": _thresholds_info(reference, sources, note),
        "features": {
            name: result | {"threshold_source": sources[name]} for name, result in features.items()
        },
        "drifted_features": [name for name, r in features.items() if r["drifted"]],
        "drift_share": share,
        "dataset_drift_share_threshold": share_threshold,
        "dataset_drift": share >= share_threshold,
        "report": report,
    }
    return result, report_html


def _distribution_test(
    reference: pd.Series,
    current: pd.Series | drift.Counts,
    name: str,
    kind: str,
    setting: Mapping[str, Any],
) -> dict[str, Any]:
    spec = drift.make_spec(name, kind, setting)
    return drift.test_values(reference, current, spec)


def _shares(counts: pd.Series) -> tuple[dict[str, int], dict[str, float]]:
    """Counts and shares per class (``counts``: per predicted class, as text)."""
    total = int(counts.sum())
    levels = [*NEED_LEVELS, *sorted(set(counts.index) - set(NEED_LEVELS))]
    count_map = {level: int(counts.get(level, 0)) for level in levels}
    return count_map, {k: (v / total if total else 0.0) for k, v in count_map.items()}


def detect_prediction_drift(
    predictions: pd.DataFrame, reference: Any, params: Mapping[str, Any]
) -> dict[str, Any]:
    """Class mix and confidence of the window vs the champion's holdout predictions,
    and the daily confidence trend."""
    if predictions.empty:
        return {"status": "skipped", "reason": "no predictions logged in the window"}
    daily = (
        predictions.assign(day=performance.utc_day(predictions["timestamp"]))
        .groupby("day", sort=True)[CONFIDENCE_COLUMN]
        .agg(["size", "mean"])
    )
    classes = performance.as_text(predictions["prediction"])
    return prediction_drift_of(
        classes.value_counts(),
        classes,
        predictions[CONFIDENCE_COLUMN],
        float(predictions[CONFIDENCE_COLUMN].mean()),
        daily,
        reference,
        params,
    )


def prediction_drift_of(
    class_counts: pd.Series,
    classes: pd.Series | drift.Counts,
    confidence_values: pd.Series | drift.Counts,
    mean_confidence: float,
    daily: pd.DataFrame,
    reference: Any,
    params: Mapping[str, Any],
) -> dict[str, Any]:
    """:func:`detect_prediction_drift` of a non-empty window, as rows (pandas) or counts
    (Spark): ``class_counts`` per predicted class, the classes and confidences to test,
    their mean, and ``daily`` (``size`` and ``mean`` confidence per UTC day, by day)."""
    holdout = None if reference is None else reference.holdout_predictions
    result: dict[str, Any] = {"status": "tested", "reason": None}
    counts, shares = _shares(class_counts)
    class_mix: dict[str, Any] = {"current_counts": counts, "current_shares": shares}
    confidence: dict[str, Any] = {"current_mean": mean_confidence}
    if holdout is not None and len(holdout):
        class_mix |= _distribution_test(
            holdout[PREDICTION_COLUMN].astype("str"),
            classes,
            "prediction",
            drift.CATEGORICAL,
            params["class_mix"],
        )
        class_mix["reference_shares"] = _shares(
            holdout[PREDICTION_COLUMN].astype("str").value_counts()
        )[1]
        confidence |= _distribution_test(
            holdout[CONFIDENCE_COLUMN],
            confidence_values,
            "confidence",
            drift.NUMERIC,
            params["confidence"],
        )
        confidence["reference_mean"] = float(holdout[CONFIDENCE_COLUMN].mean())
        confidence["mean_drop"] = confidence["reference_mean"] - confidence["current_mean"]
    else:
        result["reason"] = "the champion has no holdout predictions to compare with"
    result["class_mix"] = class_mix
    result["confidence"] = confidence

    trend = performance.linear_trend(daily["mean"].tolist(), params["confidence_trend_tolerance"])
    result["confidence_trend"] = {
        "by_day": [
            {"day": str(day), "predictions": int(row["size"]), "mean_confidence": row["mean"]}
            for day, row in daily.iterrows()
        ],
        "slope_per_day": trend["slope_per_period"],
        "sign": trend["sign"],
        "direction": trend["direction"],
    }
    return result


# --------------------------------------------------------------------------- performance


def evaluate_performance(
    predictions: pd.DataFrame,
    labels: pd.DataFrame,
    reference: Any,
    params: Mapping[str, Any],
) -> dict[str, Any]:
    """Accuracy and macro-F1 where labels match logged predictions, by period, with trend
    and drop against the champion's holdout."""
    holdout = None if reference is None else reference.holdout_predictions
    return performance.evaluate(predictions, labels, holdout, dict(params))


def estimate_performance(
    predictions: pd.DataFrame,
    labels: pd.DataFrame,
    reference: Any,
    params: Mapping[str, Any],
) -> dict[str, Any]:
    """Accuracy and macro-F1 per horizon estimated from calibrated probabilities (no labels
    needed), with a bootstrap interval; realized figures and the error where labels exist."""
    return estimation.estimate(predictions, labels, reference, params)


# --------------------------------------------------------------------------- health


# A signal is a number the rules compare, or a reason why it is unknown this time.
_Signals = dict[str, "float | str"]


def _drift_signals(feature_drift: Mapping[str, Any], important: list[str]) -> _Signals:
    if feature_drift.get("status") != "tested":
        reason = feature_drift.get("reason") or "drift not tested"
        return {"drift_share": reason, "important_features_drifted": reason}
    drifted = set(feature_drift["drifted_features"])
    return {
        "drift_share": feature_drift["drift_share"],
        "important_features_drifted": (
            float(len(drifted & set(important))) if important else "no feature importance available"
        ),
    }


def _prediction_signals(prediction_drift: Mapping[str, Any]) -> _Signals:
    class_mix = prediction_drift.get("class_mix") or {}
    confidence = prediction_drift.get("confidence") or {}
    if "drifted" not in class_mix:
        reason = prediction_drift.get("reason") or "prediction drift not tested"
        return dict.fromkeys(
            ("prediction_class_drifted", "confidence_drifted", "mean_confidence_drop"), reason
        )
    return {
        "prediction_class_drifted": float(class_mix["drifted"]),
        "confidence_drifted": float(confidence["drifted"]),
        "mean_confidence_drop": confidence["mean_drop"],
    }


def _performance_signals(model_performance: Mapping[str, Any]) -> _Signals:
    drop = model_performance.get("drop")
    if drop:
        return {"macro_f1_drop": drop["macro_f1"], "accuracy_drop": drop["accuracy"]}
    reason = {
        "no_labels": "no logged prediction has a label yet",
        "insufficient_labels": (
            f"only {model_performance.get('labelled_predictions')} labelled predictions"
        ),
    }.get(model_performance.get("status"), "the champion's holdout metrics are unknown")
    return {"macro_f1_drop": reason, "accuracy_drop": reason}


def _estimate_signals(performance_estimate: Mapping[str, Any] | None) -> _Signals:
    estimate = performance_estimate or {}
    drop = estimate.get("drop")
    if drop:
        return {"estimated_macro_f1_drop": drop["macro_f1"]}
    if estimate.get("status") == "estimated":  # estimated, but no holdout figure to compare
        return {"estimated_macro_f1_drop": "the champion's holdout metrics are unknown"}
    return {"estimated_macro_f1_drop": estimate.get("reason") or "performance not estimated"}


def _window_signals(
    window: Mapping[str, Any], reference_info: Mapping[str, Any] | None, expected: Any
) -> _Signals:
    return {
        "prediction_volume_ratio": (
            window["predictions"] / (float(expected) * window["days"])
            if expected
            else "monitoring.health.expected_predictions_per_day is not set"
        ),
        "model_age_days": (
            reference_info["model_age_days"] if reference_info is not None else "no champion"
        ),
        "corrupt_line_share": (
            window["corrupt_line_share"]
            if window.get("corrupt_line_share") is not None
            else "no log line read"
        ),
    }


def assess_health(
    window: Mapping[str, Any],
    reference_info: Mapping[str, Any] | None,
    feature_drift: Mapping[str, Any],
    prediction_drift: Mapping[str, Any],
    model_performance: Mapping[str, Any],
    params: Mapping[str, Any],
    performance_estimate: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Signals -> named rules -> status, issues and the retrain recommendation."""
    no_data_reason = None
    if reference_info is None:
        no_data_reason = "no champion model in the registry: nothing to monitor against"
    elif not window["predictions"]:
        no_data_reason = f"no predictions logged between {window['start']} and {window['end']}"

    important = list((reference_info or {}).get("important_features") or [])
    collected = {
        **_drift_signals(feature_drift, important),
        **_prediction_signals(prediction_drift),
        **_performance_signals(model_performance),
        **_estimate_signals(performance_estimate),
        **_window_signals(window, reference_info, params["expected_predictions_per_day"]),
    }
    signals = {name: collected.get(name) for name in health.SIGNALS}
    unavailable = {name: value for name, value in signals.items() if isinstance(value, str)}
    signals = {name: None if name in unavailable else value for name, value in signals.items()}

    verdict = health.assess(signals, unavailable, params["rules"], no_data_reason)
    logger.info(
        "monitoring health: %s%s",
        verdict["status"],
        "".join(f"\n  - [{i['severity']}] {i['message']}" for i in verdict["issues"]),
    )
    return verdict


# --------------------------------------------------------------------------- outputs


def _clean(value: Any) -> Any:
    """JSON-safe: numpy scalars to Python, NaN/inf to null, tuples to lists."""
    if isinstance(value, Mapping):
        return {str(key): _clean(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(item) for item in value]
    if isinstance(value, np.bool_ | bool):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating | float):
        number = float(value)
        return number if math.isfinite(number) else None
    return value


def build_summary(
    window: Mapping[str, Any],
    reference_info: Mapping[str, Any] | None,
    feature_drift: Mapping[str, Any],
    prediction_drift: Mapping[str, Any],
    model_performance: Mapping[str, Any],
    health_verdict: Mapping[str, Any],
    performance_estimate: Mapping[str, Any] | None = None,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """monitoring_summary.json, and the headline figures as MLflow metrics."""
    summary = _clean(
        {
            "schema_version": SUMMARY_SCHEMA_VERSION,
            "status": health_verdict["status"],
            "retrain_recommended": health_verdict["retrain_recommended"],
            "retrain_reasons": health_verdict["retrain_reasons"],
            "window": window,
            "reference": reference_info,
            "drift": feature_drift,
            "prediction_drift": {
                key: value for key, value in prediction_drift.items() if key != "confidence_trend"
            },
            "confidence_trend": prediction_drift.get("confidence_trend"),
            "performance": model_performance,
            "performance_estimate": performance_estimate,
            "health": health_verdict,
        }
    )
    return summary, mlflow_metrics(summary)


def mlflow_metrics(summary: Mapping[str, Any]) -> dict[str, dict[str, float]]:
    """Figures for the production-monitoring run (kedro-mlflow metrics format)."""
    figures: dict[str, Any] = {
        "health_status_code": health.STATUS_CODES[summary["status"]],
        "retrain_recommended": int(summary["retrain_recommended"]),
        "predictions": summary["window"]["predictions"],
        "corrupt_lines": summary["window"]["corrupt_lines"],
        "issues": sum(1 for i in summary["health"]["issues"] if i["severity"] != health.NO_DATA),
    }
    reference = summary.get("reference") or {}
    figures["model_age_days"] = reference.get("model_age_days")
    feature_drift = summary["drift"]
    figures["drift_share"] = feature_drift.get("drift_share")
    for name, result in (feature_drift.get("features") or {}).items():
        figures[f"drift_score.{name}"] = result.get("score")
    prediction = summary.get("prediction_drift") or {}
    figures["prediction_class_drift_score"] = (prediction.get("class_mix") or {}).get("score")
    confidence = prediction.get("confidence") or {}
    figures["mean_confidence"] = confidence.get("current_mean")
    figures["mean_confidence_drop"] = confidence.get("mean_drop")
    perf = summary.get("performance") or {}
    figures["labelled_predictions"] = perf.get("labelled_predictions", 0)
    for name, value in (perf.get("overall") or {}).items():
        figures[name] = value
    for name, value in (perf.get("drop") or {}).items():
        figures[f"{name}_drop"] = value
    figures |= _estimate_figures(summary.get("performance_estimate") or {})
    return as_mlflow_metrics({key: value for key, value in figures.items() if value is not None})


def _estimate_figures(estimate: Mapping[str, Any]) -> dict[str, Any]:
    """performance_estimate.* metrics: overall (h=all) and per horizon (h1, h3, h5)."""
    figures: dict[str, Any] = {}
    blocks = {"all": estimate} | {
        f"h{key}": block for key, block in (estimate.get("by_horizon") or {}).items()
    }
    for scope, block in blocks.items():
        prefix = f"performance_estimate.{scope}"
        figures[f"{prefix}.rows"] = block.get("rows") if block.get("estimated") else None
        for name in estimation.HEADLINE:
            figures[f"{prefix}.{name}"] = (block.get("estimated") or {}).get(name)
            low_high = (block.get("interval") or {}).get(name) or [None, None]
            figures[f"{prefix}.{name}_low"], figures[f"{prefix}.{name}_high"] = low_high
            figures[f"{prefix}.realized_{name}"] = (block.get("realized") or {}).get(name)
            figures[f"{prefix}.error_{name}"] = (block.get("error") or {}).get(name)
    figures["performance_estimate.macro_f1_drop"] = (estimate.get("drop") or {}).get("macro_f1")
    return figures


def render_prometheus_metrics(summary: Mapping[str, Any]) -> tuple[str, str]:
    """metrics.prom text, twice: for the textfile collector and for the Pushgateway."""
    text = prometheus.render(summary, generated_at=time.time())
    return text, text


def enforce_exit_policy(
    summary: Mapping[str, Any],
    metrics_prom: str,
    push_result: Mapping[str, Any] | None,
    policy: Mapping[str, Any],
) -> None:
    """Last node: raise (so `kedro run` exits non-zero) when the status fails the policy.

    ``no_data`` fails unless ``fail_on_no_data`` is false; even then, a rule of a failing
    severity that fired on what is known (e.g. every log line of the window corrupt) fails
    the run. It takes the written outputs as inputs only so that Kedro runs it after all
    of them.
    """
    fail_on = policy["fail_on"]
    failing = {
        "never": set(),
        "unhealthy": {health.UNHEALTHY},
        "degraded": {health.DEGRADED, health.UNHEALTHY},
    }[fail_on]
    if fail_on != "never" and policy["fail_on_no_data"]:
        failing.add(health.NO_DATA)
    status = summary["status"]
    issues = [issue["message"] for issue in summary["health"]["issues"]]
    if push_result and push_result.get("enabled") and not push_result.get("pushed"):
        logger.warning("monitoring: metrics were not pushed: %s", push_result.get("error"))
    line = (
        f"monitoring status {status.upper()} for {summary['window']['start']}.."
        f"{summary['window']['end']}"
        + (f": {'; '.join(issues)}" if issues else "")
        + (" (retrain recommended)" if summary.get("retrain_recommended") else "")
    )
    fired = {issue["severity"] for issue in summary["health"]["issues"]}
    if status in failing or (status == health.NO_DATA and fired & failing):
        raise MonitoringStatusError(f"{line} [exit_policy.fail_on={fail_on}]")
    logger.info(line)
