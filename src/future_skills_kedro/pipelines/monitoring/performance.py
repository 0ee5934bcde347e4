"""Model performance where labels have arrived for logged predictions.

A logged prediction is matched to ``skill_need_labels`` on (job_role_id, skill_id,
horizon_years, as_of_date). Scoring the same snapshot every day logs the same key many
times: within a period only the last prediction of a key counts, so a key weighs once.
Metrics come from :func:`future_skills_kedro.scoring.classification_metrics`, the function
training used for the champion's holdout, so the two figures are comparable.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from future_skills_kedro.contract import KEY_COLUMNS, NEED_LEVELS, TARGET_COLUMN
from future_skills_kedro.scoring import PREDICTION_COLUMN, PROBABILITY_COLUMNS

HEADLINE_METRICS = ("accuracy", "macro_f1")
PERIODS = ("as_of_date", "log_day")


def utc_day(timestamps: pd.Series) -> pd.Series:
    """'YYYY-MM-DD' of each timestamp; each distinct day is formatted once (strftime on a
    million rows takes seconds, flooring is vectorised)."""
    days = timestamps.dt.floor("D")
    codes, uniques = pd.factorize(days)
    table = np.append(pd.DatetimeIndex(uniques).strftime("%Y-%m-%d").to_numpy(dtype=object), None)
    return pd.Series(table[codes], index=timestamps.index, dtype=object)


def as_text(values: pd.Series) -> pd.Series:
    """``values.astype("str")``; a categorical without missing values (how the window's
    text is read) converts each category once and takes them by code, ten times faster."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        codes = values.cat.codes.to_numpy()
        if len(codes) and codes.min() >= 0:
            categories = values.cat.categories.astype("str")
            return pd.Series(categories.take(codes), index=values.index, name=values.name)
    return values.astype("str")


def _iso_day(values: pd.Series) -> pd.Series:
    """'2025-03-31', '2025-03-31T00:00:00' or a Timestamp -> '2025-03-31' (else missing)."""
    if pd.api.types.is_datetime64_any_dtype(values):
        return utc_day(values)
    # A window holds few distinct dates: validate each once, then map the codes back.
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    text = pd.Series(uniques, dtype=object).astype("str").str.strip().str.slice(0, 10)
    valid = pd.to_datetime(text, format="%Y-%m-%d", errors="coerce").notna()
    table = np.append(text.where(valid).to_numpy(dtype=object), None)
    return pd.Series(table[codes], index=values.index, dtype=object)


def _horizon(values: pd.Series) -> pd.Series:
    numbers = pd.to_numeric(values, errors="coerce")
    whole = numbers.notna() & (numbers == np.round(numbers))
    return numbers.where(whole).astype("Int64")


def parse_labels(labels: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, int]]:
    """Typed, de-duplicated label rows from the raw all-strings CSV, and what was dropped."""
    missing = [c for c in (*KEY_COLUMNS, TARGET_COLUMN) if c not in labels.columns]
    if missing:
        raise ValueError(f"skill_need_labels is missing column(s): {', '.join(missing)}")
    parsed = pd.DataFrame(
        {
            "job_role_id": labels["job_role_id"].astype("str").str.strip(),
            "skill_id": labels["skill_id"].astype("str").str.strip(),
            "horizon_years": _horizon(labels["horizon_years"]),
            "as_of_date": _iso_day(labels["as_of_date"]),
            TARGET_COLUMN: labels[TARGET_COLUMN].astype("str").str.strip(),
        }
    )
    valid = parsed[["horizon_years", "as_of_date"]].notna().all(axis=1) & parsed[
        TARGET_COLUMN
    ].isin(NEED_LEVELS)
    parsed = parsed.loc[valid]
    unique = parsed.drop_duplicates(subset=list(KEY_COLUMNS), keep="first")
    stats = {
        "rows": len(labels),
        "invalid_rows": int((~valid).sum()),
        "duplicate_keys": len(parsed) - len(unique),
    }
    return unique.reset_index(drop=True), stats


def match_labels(predictions: pd.DataFrame, labels: pd.DataFrame, period: str) -> pd.DataFrame:
    """The last prediction of each key per period, joined with its label (inner join)."""
    if period not in PERIODS:
        raise ValueError(f"monitoring.performance.period must be one of {PERIODS}, got {period!r}")
    needed = [*KEY_COLUMNS, "prediction", *PROBABILITY_COLUMNS]
    if predictions.empty or any(c not in predictions.columns for c in needed):
        return pd.DataFrame(columns=["period", *KEY_COLUMNS, PREDICTION_COLUMN, TARGET_COLUMN])
    # Text columns stay as read (categoricals hash by code) until the key de-duplication
    # below has left one row per key and period.
    frame = pd.DataFrame(
        {
            "timestamp": predictions["timestamp"],
            "job_role_id": predictions["job_role_id"],
            "skill_id": predictions["skill_id"],
            "horizon_years": _horizon(predictions["horizon_years"]),
            "as_of_date": _iso_day(predictions["as_of_date"]),
            PREDICTION_COLUMN: predictions["prediction"],
            **{column: predictions[column].astype("float64") for column in PROBABILITY_COLUMNS},
        }
    ).dropna(subset=["horizon_years", "as_of_date"])
    if period == "log_day":
        frame["period"] = utc_day(frame["timestamp"])
    else:
        frame["period"] = frame["as_of_date"]
    # Stable sort: equal timestamps keep log order, so "last" is the last line written.
    frame = frame.sort_values("timestamp", kind="stable")
    frame = frame.drop_duplicates(subset=["period", *KEY_COLUMNS], keep="last")
    frame = frame.assign(
        **{
            column: as_text(frame[column])
            for column in ("job_role_id", "skill_id", PREDICTION_COLUMN)
        }
    )
    matched = frame.merge(labels, on=list(KEY_COLUMNS), how="inner", validate="many_to_one")
    return (
        matched.drop(columns="timestamp")
        .sort_values(["period", *KEY_COLUMNS])
        .reset_index(drop=True)
    )


def headline_metrics(y_true: pd.Series, scored: pd.DataFrame) -> dict[str, float]:
    from future_skills_kedro.scoring import classification_metrics

    metrics = classification_metrics(y_true, scored)
    return {name: metrics[name] for name in HEADLINE_METRICS}


def linear_trend(values: list[float], tolerance: float) -> dict[str, Any]:
    """Least-squares slope per step and its direction (flat within ``tolerance``)."""
    if len(values) < 2:
        return {
            "slope_per_period": None,
            "sign": None,
            "direction": "unknown",
            "points": len(values),
        }
    slope = float(np.polyfit(np.arange(len(values), dtype=float), np.asarray(values), 1)[0])
    direction = "flat"
    if slope > tolerance:
        direction = "rising"
    elif slope < -tolerance:
        direction = "falling"
    return {
        "slope_per_period": slope,
        "sign": int(np.sign(slope)),
        "direction": direction,
        "points": len(values),
    }


def evaluate(
    predictions: pd.DataFrame,
    labels: pd.DataFrame,
    reference_holdout: pd.DataFrame | None,
    params: dict[str, Any],
) -> dict[str, Any]:
    """Accuracy and macro-F1 overall and per period, their trend, and the drop vs holdout."""
    period = params["period"]
    min_rows = params["min_rows"]
    min_rows_per_period = params["min_rows_per_period"]
    trend_metric = params["trend_metric"]

    reference = None
    if reference_holdout is not None and len(reference_holdout):
        reference = headline_metrics(reference_holdout[TARGET_COLUMN], reference_holdout)
        reference["rows"] = len(reference_holdout)

    parsed, label_stats = parse_labels(labels)
    matched = match_labels(predictions, parsed, period)
    result: dict[str, Any] = {
        "period": period,
        "labels": label_stats,
        "labelled_predictions": len(matched),
        "reference": reference,
        "overall": None,
        "by_period": [],
        "trend": linear_trend([], 0.0) | {"metric": trend_metric},
        "drop": None,
    }
    if matched.empty:
        return result | {"status": "no_labels"}

    result["overall"] = headline_metrics(matched[TARGET_COLUMN], matched)
    by_period = []
    for name, rows in matched.groupby("period", sort=True):
        entry: dict[str, Any] = {"period": str(name), "rows": len(rows)}
        if len(rows) >= min_rows_per_period:
            entry |= headline_metrics(rows[TARGET_COLUMN], rows)
        by_period.append(entry)
    result["by_period"] = by_period
    series = [entry[trend_metric] for entry in by_period if trend_metric in entry]
    result["trend"] = linear_trend(series, params["trend_tolerance"]) | {"metric": trend_metric}
    if len(matched) < min_rows:
        # Too few labels to judge: the figures are shown, no drop is claimed.
        return result | {"status": "insufficient_labels"}
    if reference is not None:
        result["drop"] = {
            name: reference[name] - result["overall"][name] for name in HEADLINE_METRICS
        }
    return result | {"status": "assessed"}
