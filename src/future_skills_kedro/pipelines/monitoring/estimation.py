"""Performance estimated without labels for a window of logged predictions.

The champion's probability calibration (fitted on its holdout when it was trained, loaded
with the monitoring reference) turns the logged probabilities into an expected confusion
matrix per horizon: :mod:`future_skills_kedro.performance_estimation`. A key logged many
times in the window (the same snapshot scored every day) counts once, its last
prediction, as in the labelled performance: its label is one draw, not seven.
Where labels exist, the realized figures stand beside the estimate, and the error is the
estimate *on those labelled rows* minus the realized figure (like for like).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from future_skills_kedro import performance_estimation
from future_skills_kedro.calibration import Calibration
from future_skills_kedro.contract import KEY_COLUMNS, NEED_LEVELS, TARGET_COLUMN
from future_skills_kedro.pipelines.monitoring import performance
from future_skills_kedro.scoring import PROBABILITY_COLUMNS

METHOD = "cbpe"  # confidence-based performance estimation
HEADLINE = performance_estimation.HEADLINE


def _skipped(reason: str, min_rows: int) -> dict[str, Any]:
    return {
        "status": "skipped",
        "reason": reason,
        "method": METHOD,
        "calibration": None,
        "rows": 0,
        "min_rows": min_rows,
        "by_horizon": {},
        "estimated": None,
        "interval": None,
        "realized": None,
        "error": None,
        "reference": None,
        "drop": None,
    }


def latest_per_key(predictions: pd.DataFrame) -> pd.DataFrame:
    """Keys, predicted class index and probabilities: the last prediction of each key."""
    levels = pd.Index(NEED_LEVELS)
    # The ids stay as read (categoricals hash by code) until one row per key is left.
    frame = pd.DataFrame(
        {
            "timestamp": predictions["timestamp"],
            "job_role_id": predictions["job_role_id"],
            "skill_id": predictions["skill_id"],
            "horizon_years": performance._horizon(predictions["horizon_years"]),
            "as_of_date": performance._iso_day(predictions["as_of_date"]),
            "predicted": levels.get_indexer(performance.as_text(predictions["prediction"])),
            **{column: predictions[column].astype("float64") for column in PROBABILITY_COLUMNS},
        }
    )
    valid = frame[["horizon_years", "as_of_date", *PROBABILITY_COLUMNS]].notna().all(axis=1) & (
        frame["predicted"] >= 0
    )
    frame = frame.loc[valid]
    if not frame["timestamp"].is_monotonic_increasing:  # logs are read in time order
        frame = frame.sort_values("timestamp", kind="stable")
    frame = frame.drop_duplicates(subset=list(KEY_COLUMNS), keep="last")
    frame = frame.assign(
        job_role_id=performance.as_text(frame["job_role_id"]),
        skill_id=performance.as_text(frame["skill_id"]),
    )
    return frame.drop(columns="timestamp").reset_index(drop=True)


def _labelled(rows: pd.DataFrame, labels: pd.DataFrame) -> np.ndarray:
    """Class index of each row's label, -1 where it has none yet."""
    parsed, _ = performance.parse_labels(labels)
    parsed = parsed.loc[parsed["as_of_date"].isin(rows["as_of_date"].unique())]
    if parsed.empty:  # the usual case for 3- and 5-year forecasts: skip the join
        return np.full(len(rows), -1)
    # parse_labels keeps one label per key: a left join keeps the rows' order and count.
    keyed = rows.loc[:, list(KEY_COLUMNS)].merge(parsed, on=list(KEY_COLUMNS), how="left")
    return pd.Index(NEED_LEVELS).get_indexer(keyed[TARGET_COLUMN].astype("object"))


def _point_estimate(calibrated: np.ndarray, predicted: np.ndarray) -> dict[str, float]:
    metrics = performance_estimation.headline_metrics(
        performance_estimation.expected_confusion_matrix(calibrated, predicted)
    )
    return {name: float(value) for name, value in metrics.items()}


def _realized_and_error(calibrated, predicted, label_index) -> tuple[dict | None, dict | None]:
    labelled = label_index >= 0
    if not labelled.any():
        return None, None
    realized = performance_estimation.realized(
        label_index[labelled], predicted[labelled], len(NEED_LEVELS)
    )
    estimated = _point_estimate(calibrated[labelled], predicted[labelled])
    error = {name: estimated[name] - realized[name] for name in HEADLINE}
    return realized | {"rows": int(labelled.sum())}, error


def _calibration_info(calibration: Mapping[str, Any], reference: Any) -> dict[str, Any]:
    diagnostics = calibration.get("diagnostics") or {}
    return {
        "method": calibration.get("method"),
        "model_version": str(reference.version),
        "fitted_on": calibration.get("fitted_on"),
        "bootstrap_resamples": len(calibration.get("bootstrap") or []),
        "holdout_estimation_error": (diagnostics.get("holdout") or {}).get("error"),
    }


def estimate(
    predictions: pd.DataFrame,
    labels: pd.DataFrame,
    reference: Any,
    params: Mapping[str, Any],
) -> dict[str, Any]:
    """``performance_estimate`` of monitoring_summary.json (see docs/monitoring.md)."""
    min_rows = params["min_rows"]
    if reference is None:
        return _skipped("no champion model in the registry", min_rows)
    stored = reference.probability_calibration
    if stored is None:
        return _skipped(
            f"champion v{reference.version} has no probability calibration (trained before "
            "monitoring estimated performance): retrain to get estimates",
            min_rows,
        )
    try:
        calibration = Calibration.from_dict(stored)
    except (KeyError, TypeError, ValueError) as error:
        return _skipped(
            f"champion v{reference.version}'s calibration is unusable: {error}", min_rows
        )
    if predictions.empty:
        return _skipped("no predictions logged in the window", min_rows)
    rows = latest_per_key(predictions)
    if rows.empty:
        return _skipped("no valid prediction with probabilities in the window", min_rows)

    probabilities = rows.loc[:, list(PROBABILITY_COLUMNS)].to_numpy(dtype=float)
    predicted = rows["predicted"].to_numpy(dtype=int)
    horizons = rows["horizon_years"].to_numpy(dtype=np.int64)
    calibrated = calibration.apply(probabilities, horizons)
    estimated = performance_estimation.estimate(
        probabilities,
        predicted,
        horizons,
        calibration,
        calibrated=calibrated,
        resamples=params["resamples"],
        confidence=params["confidence"],
        exact_max_rows=params["exact_max_rows"],
        seed=params["seed"],
    )
    label_index = _labelled(rows, labels)
    by_horizon = {}
    for key, block in estimated["by_horizon"].items():
        in_horizon = horizons == int(key)
        realized, error = _realized_and_error(
            calibrated[in_horizon], predicted[in_horizon], label_index[in_horizon]
        )
        by_horizon[key] = block | {"realized": realized, "error": error}
    realized, error = _realized_and_error(calibrated, predicted, label_index)

    holdout = reference.holdout_predictions
    baseline = None
    if holdout is not None and len(holdout):
        baseline = performance.headline_metrics(holdout[TARGET_COLUMN], holdout)
    enough = len(rows) >= min_rows
    overall = estimated["overall"]
    return {
        "status": "estimated" if enough else "insufficient_rows",
        "reason": None
        if enough
        else f"only {len(rows)} predictions (< min_rows {min_rows}): shown, not judged",
        "method": METHOD,
        "calibration": _calibration_info(stored, reference),
        "rows": len(rows),
        "min_rows": min_rows,
        "confidence": params["confidence"],
        "by_horizon": by_horizon,
        "estimated": overall["estimated"],
        "interval": overall["interval"],
        "realized": realized,
        "error": error,
        "reference": baseline,
        # Judged only on enough rows: a few rows give a wide interval, not an alert.
        "drop": (
            {name: baseline[name] - overall["estimated"][name] for name in HEADLINE}
            if enough and baseline is not None
            else None
        ),
    }
