"""Performance where labels arrive: matching, periods, trend, drop vs the champion's holdout."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from future_skills_kedro.contract import KEY_COLUMNS, TARGET_COLUMN
from future_skills_kedro.pipelines.monitoring import health, nodes
from tests.pipelines.monitoring import scenarios


@pytest.fixture(scope="module")
def stationary():
    return scenarios.stationary(seed=2)


def _health(scenario, predictions, performance, params):
    window = {
        "start": "2025-06-24",
        "end": scenarios.WINDOW_END,
        "days": 7,
        "predictions": len(predictions),
        "corrupt_line_share": 0.0,
    }
    info = nodes.describe_reference(scenario.reference, window, {"features": [], "top_k": 3})
    drift_result = {"status": "tested", "drift_share": 0.0, "drifted_features": []}
    prediction_drift = nodes.detect_prediction_drift(
        predictions, scenario.reference, params["prediction_drift"]
    )
    return nodes.assess_health(
        window, info, drift_result, prediction_drift, performance, params["health"]
    )


def test_clean_labels_match_the_holdout(stationary, params):
    predictions = stationary.predictions()
    performance = nodes.evaluate_performance(
        predictions, stationary.labels, stationary.reference, params["performance"]
    )
    assert performance["status"] == "assessed"
    assert performance["labelled_predictions"] == len(stationary.production)
    assert abs(performance["drop"]["macro_f1"]) < 0.03
    periods = performance["by_period"]
    assert [p["period"] for p in periods] == sorted(stationary.production["as_of_date"].unique())
    assert sum(p["rows"] for p in periods) == len(stationary.production)
    assert performance["trend"]["points"] == len(periods)
    verdict = _health(stationary, predictions, performance, params)
    assert verdict["status"] == "healthy"


def test_degraded_labels_are_flagged_as_a_performance_issue(stationary, params):
    degraded = scenarios.degrade_labels(stationary, share=0.3)
    predictions = stationary.predictions()
    performance = nodes.evaluate_performance(
        predictions, degraded.labels, stationary.reference, params["performance"]
    )
    assert performance["drop"]["macro_f1"] > 0.10
    assert performance["drop"]["accuracy"] > 0.10
    verdict = _health(stationary, predictions, performance, params)
    assert verdict["status"] == health.UNHEALTHY
    rules = [issue["rule"] for issue in verdict["issues"]]
    # The critical rule replaces the warning on the same signal.
    assert rules == ["performance_drop_critical"]
    assert verdict["retrain_recommended"]
    assert verdict["retrain_reasons"][0].startswith("macro-F1 far below the holdout's")


def test_a_falling_trend_per_quarter(stationary, params):
    # Label quality worsening quarter after quarter: 0 %, 10 %, 20 %, ... flipped.
    quarters = sorted(stationary.production["as_of_date"].unique())
    labels = stationary.labels
    for index, quarter in enumerate(quarters):
        part = replace(
            stationary,
            labels=labels,
            production=stationary.production.loc[stationary.production["as_of_date"] == quarter],
        )
        labels = scenarios.degrade_labels(part, share=0.1 * index, seed=index).labels
    performance = nodes.evaluate_performance(
        stationary.predictions(), labels, stationary.reference, params["performance"]
    )
    assert performance["trend"]["direction"] == "falling"
    assert performance["trend"]["slope_per_period"] < -0.03
    f1 = [p["macro_f1"] for p in performance["by_period"]]
    assert f1[0] > f1[-1] + 0.3


def test_a_key_logged_many_times_counts_once_with_its_last_prediction(stationary, params):
    first = stationary.predictions(seed=1)
    later = first.copy()
    later["timestamp"] = later["timestamp"] + pd.Timedelta(days=1)
    # The later log says the opposite of the truth everywhere: only it must count.
    truth = stationary.labels.set_index(list(KEY_COLUMNS))[TARGET_COLUMN]
    keys = pd.MultiIndex.from_frame(later[list(KEY_COLUMNS)].astype("str"))
    wrong = {"LOW": "HIGH", "MEDIUM": "LOW", "HIGH": "MEDIUM"}
    later["prediction"] = [wrong[level] for level in truth.loc[keys].to_numpy()]
    both = pd.concat([later, first], ignore_index=True)  # file order is not time order

    performance = nodes.evaluate_performance(
        both, stationary.labels, stationary.reference, params["performance"]
    )
    assert performance["labelled_predictions"] == len(first)
    assert performance["overall"]["accuracy"] == 0.0

    by_day = nodes.evaluate_performance(
        both, stationary.labels, stationary.reference, params["performance"] | {"period": "log_day"}
    )
    assert by_day["labelled_predictions"] == 2 * len(first)
    assert len(by_day["by_period"]) == 8  # 7 days, the later copy shifted by one


def test_few_or_no_labels_are_reported_not_judged(stationary, params):
    predictions = stationary.predictions()
    few = params["performance"] | {"min_rows": len(predictions) + 1}
    performance = nodes.evaluate_performance(
        predictions, stationary.labels, stationary.reference, few
    )
    assert performance["status"] == "insufficient_labels"
    assert performance["overall"] is not None
    assert performance["drop"] is None
    verdict = _health(stationary, predictions, performance, params)
    skipped = {s["rule"]: s["reason"] for s in verdict["skipped_rules"]}
    assert skipped["performance_drop_warning"] == f"only {len(predictions)} labelled predictions"

    future = stationary.labels.assign(as_of_date="2031-12-31")
    performance = nodes.evaluate_performance(
        predictions, future, stationary.reference, params["performance"]
    )
    assert performance["status"] == "no_labels"
    assert performance["labelled_predictions"] == 0
    verdict = _health(stationary, predictions, performance, params)
    skipped = {s["rule"]: s["reason"] for s in verdict["skipped_rules"]}
    assert skipped["performance_drop_critical"] == "no logged prediction has a label yet"


def test_bad_label_rows_are_counted_and_ignored(stationary, params):
    labels = stationary.labels.copy()
    labels.loc[0, TARGET_COLUMN] = "VERY HIGH"
    labels.loc[1, "horizon_years"] = "three"
    labels.loc[2, "as_of_date"] = "31/03/2025"
    labels = pd.concat([labels, labels.iloc[[5, 6]]], ignore_index=True)
    performance = nodes.evaluate_performance(
        stationary.predictions(), labels, stationary.reference, params["performance"]
    )
    assert performance["labels"] == {"rows": len(labels), "invalid_rows": 3, "duplicate_keys": 2}
    assert performance["status"] == "assessed"
    assert np.isfinite(performance["overall"]["macro_f1"])


@pytest.mark.parametrize(
    "values",
    [
        pd.Series(pd.Categorical(["HIGH", "LOW", "HIGH", "MEDIUM"]), index=[4, 3, 2, 1]),
        pd.Series(pd.Categorical(["HIGH", None, "LOW"])),  # a missing value: astype's path
        pd.Series(["HIGH", "LOW"], dtype="str"),
        pd.Series(pd.Categorical([], categories=["LOW"])),
    ],
)
def test_as_text_is_astype_str_whatever_the_dtype(values):
    from future_skills_kedro.pipelines.monitoring.performance import as_text

    pd.testing.assert_series_equal(as_text(values), values.astype("str"))
