"""compare's statistics, paired intervals, build differences and incompatible versions."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from future_skills_kedro.contract import NEED_LEVELS, TARGET_COLUMN
from future_skills_kedro.lifecycle import VersionInfo, paired_bootstrap_ci
from future_skills_kedro.lifecycle.compare import (
    COMPARED_METRICS,
    build_differences,
    compare_scored,
    compare_versions,
    format_comparison,
    metric_intervals,
    row_statistics,
)
from future_skills_kedro.scoring import (
    PREDICTION_COLUMN,
    PROBABILITY_COLUMNS,
    classification_metrics,
)

LEVELS = np.asarray(NEED_LEVELS, dtype=object)


def truth(n: int = 400, seed: int = 0) -> np.ndarray:
    return LEVELS[np.random.default_rng(seed).integers(0, 3, n)]


def scored_with_accuracy(y: np.ndarray, accuracy: float, seed: int) -> pd.DataFrame:
    """Scored rows right on about ``accuracy`` of the rows, with probabilities to match."""
    rng = np.random.default_rng(seed)
    predicted = np.where(rng.random(len(y)) < accuracy, y, LEVELS[rng.integers(0, 3, len(y))])
    proba = np.full((len(y), 3), 0.2)
    proba[np.arange(len(y)), pd.Index(NEED_LEVELS).get_indexer(predicted)] = 0.6
    frame = pd.DataFrame(proba, columns=list(PROBABILITY_COLUMNS))
    frame.insert(0, PREDICTION_COLUMN, predicted)
    return frame


def test_resampled_statistics_with_every_row_once_are_the_training_metrics():
    y = truth()
    scored = scored_with_accuracy(y, 0.5, seed=1)
    expected = classification_metrics(y, scored)
    columns, statistics = row_statistics(y, scored)
    totals = columns.sum(axis=0, keepdims=True)
    assert set(statistics) == set(COMPARED_METRICS)
    for name, statistic in statistics.items():
        assert statistic(totals)[0] == pytest.approx(expected[name]), name


def test_a_much_better_model_has_intervals_above_zero_and_equal_models_at_zero():
    y = truth()
    weak, strong = scored_with_accuracy(y, 0.2, seed=1), scored_with_accuracy(y, 0.9, seed=2)
    better = compare_scored(y, weak, strong, resamples=500, seed=3)
    for name in ("accuracy", "macro_f1"):
        assert better[name]["difference"] > 0.4
        assert 0 < better[name]["low"] <= better[name]["difference"] <= better[name]["high"]
    assert better["log_loss"]["high"] < 0  # lower is better: the strong model's loss is lower
    same = compare_scored(y, weak, weak, resamples=500, seed=3)
    assert all(same[name]["low"] == same[name]["high"] == 0.0 for name in COMPARED_METRICS)


def test_the_accuracy_interval_is_the_significance_guard_s_interval():
    y = truth()
    a, b = scored_with_accuracy(y, 0.4, seed=1), scored_with_accuracy(y, 0.6, seed=2)
    interval = compare_scored(y, a, b, confidence=0.9, resamples=700, seed=5)["accuracy"]
    correct_a = (a[PREDICTION_COLUMN].to_numpy() == y).astype(float)
    correct_b = (b[PREDICTION_COLUMN].to_numpy() == y).astype(float)
    guard = paired_bootstrap_ci(correct_b, correct_a, 0.9, 700, 5)
    assert (interval["low"], interval["high"]) == pytest.approx(guard)


def test_intervals_are_seeded():
    y = truth()
    scored = scored_with_accuracy(y, 0.5, seed=1)
    assert metric_intervals(y, scored, seed=7) == metric_intervals(y, scored, seed=7)
    assert metric_intervals(y, scored, seed=7) != metric_intervals(y, scored, seed=8)


def _version(number, **tags):
    return VersionInfo(
        version=number, tags={"semver": f"1.{number}.0", **tags}, run_id=f"r{number}"
    )


SCHEMA_A = json.dumps([["department", "str"], ["trend_score", "float64"]])
SCHEMA_B = json.dumps([["department", "str"], ["trend_score", "int64"], ["seniority", "str"]])


def test_build_differences_name_hyperparameters_algorithm_schema_and_data():
    a = _version(1, algorithm="hist_gradient_boosting", input_schema=SCHEMA_A, data_hash="d1")
    b = _version(2, algorithm="random_forest", input_schema=SCHEMA_B, data_hash="d2")
    differences = build_differences(
        a,
        b,
        {"model.max_iter": "20", "model.seed": "1", "x": "1"},
        {"model.max_iter": "120", "model.seed": "1"},
    )
    assert differences["algorithm"] == {
        "a": "hist_gradient_boosting",
        "b": "random_forest",
        "same": False,
    }
    assert differences["hyperparameters"] == {"max_iter": ["20", "120"]}
    assert differences["input_schema"] == {
        "same": False,
        "added": ["seniority"],
        "removed": [],
        "changed": {"trend_score": ["float64", "int64"]},
    }
    assert differences["data_hash"]["same"] is False


def _rows(n=300):
    y = truth(n)
    return pd.DataFrame(
        {
            TARGET_COLUMN: y,
            "department": np.where(np.arange(n) % 2 == 0, "Finance", "Sales"),
        }
    )


def test_a_version_that_cannot_score_the_rows_is_reported_not_crashed_on():
    rows = _rows()

    def score(info, frame):
        if info.version == 2:
            raise ValueError("Failed to enforce schema: missing column 'department_code'\nmore")
        return scored_with_accuracy(frame[TARGET_COLUMN].to_numpy(), 0.5, seed=1)

    a, b = _version(1, input_schema=SCHEMA_A), _version(2, input_schema=SCHEMA_B)
    document = compare_versions(
        rows, a, b, score, params_a={}, params_b={}, rows_basis="test rows", by="department"
    )
    assert document["comparable"] is False
    assert document["incompatible"] == {
        "b": "v2 cannot score these rows: ValueError: Failed to enforce schema: "
        "missing column 'department_code'"
    }
    assert document["overall"] is None and document["slices"] == []
    assert document["differences"]["input_schema"]["added"] == ["seniority"]
    table = format_comparison(document)
    assert "not comparable on these rows" in table and "input_schema added: seniority" in table


def test_slices_compare_the_same_rows_of_each_value():
    rows = _rows()
    y = rows[TARGET_COLUMN].to_numpy()
    strong = scored_with_accuracy(y, 0.95, seed=2)
    # B is perfect on Sales and the same as A on Finance.
    weak = strong.copy()
    finance = (rows["department"] == "Finance").to_numpy()
    weak.loc[~finance, PREDICTION_COLUMN] = np.roll(y[~finance], 1)

    def score(info, frame):
        return weak if info.version == 1 else strong

    document = compare_versions(
        rows,
        _version(1),
        _version(2),
        score,
        params_a={},
        params_b={},
        rows_basis="test rows",
        by="department",
        resamples=300,
    )
    by_value = {entry["value"]: entry for entry in document["slices"]}
    assert by_value["Finance"]["rows"] == finance.sum()
    assert by_value["Finance"]["metrics"]["accuracy"]["difference"] == 0.0
    assert by_value["Sales"]["metrics"]["accuracy"]["low"] > 0
    json.dumps(document)  # the JSON document is plain data
