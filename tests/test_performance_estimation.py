"""Expected confusion matrix, its metrics and the bootstrap interval, against simulation."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from future_skills_kedro import performance_estimation as estimation
from future_skills_kedro.calibration import Calibration, fit_calibration
from future_skills_kedro.contract import NEED_LEVELS
from future_skills_kedro.scoring import PREDICTION_COLUMN, classification_metrics

IDENTITY = Calibration("none", {"all": {}})


def _probabilities(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    logits = rng.normal(size=(n, 3)) * 1.3
    probabilities = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    return probabilities, rng.choice([1, 3, 5], n)


def _draw_labels(probabilities: np.ndarray, rng) -> np.ndarray:
    return (rng.random((len(probabilities), 1)) > np.cumsum(probabilities, axis=1)).sum(axis=1)


def test_metrics_of_a_confusion_matrix_are_trainings_metrics():
    rng = np.random.default_rng(0)
    true = rng.choice(3, 500, p=[0.5, 0.5, 0.0])  # a class never true...
    predicted = rng.choice(3, 500, p=[0.4, 0.3, 0.3])  # ...but predicted
    ours = estimation.realized(true, predicted, 3)
    levels = np.asarray(NEED_LEVELS, dtype=object)
    sklearn = classification_metrics(
        levels[true],
        pd.DataFrame({PREDICTION_COLUMN: levels[predicted]}).assign(
            prob_LOW=1 / 3, prob_MEDIUM=1 / 3, prob_HIGH=1 / 3
        ),
    )
    assert ours["accuracy"] == pytest.approx(sklearn["accuracy"])
    assert ours["macro_f1"] == pytest.approx(sklearn["macro_f1"])


def test_calibrated_probabilities_give_the_mean_realized_figure_and_an_honest_interval():
    probabilities, horizons = _probabilities(3000, seed=1)
    predicted = probabilities.argmax(axis=1)
    result = estimation.estimate(probabilities, predicted, horizons, IDENTITY, seed=2)
    low, high = result["overall"]["interval"]["macro_f1"]

    rng = np.random.default_rng(3)
    realized = np.array(
        [
            estimation.realized(_draw_labels(probabilities, rng), predicted, 3)["macro_f1"]
            for _ in range(300)
        ]
    )
    assert result["overall"]["estimated"]["macro_f1"] == pytest.approx(realized.mean(), abs=0.003)
    coverage = ((realized >= low) & (realized <= high)).mean()
    assert 0.90 <= coverage <= 0.99
    assert set(result["by_horizon"]) == {"1", "3", "5"}
    assert sum(block["rows"] for block in result["by_horizon"].values()) == 3000


def test_the_normal_law_above_exact_max_rows_matches_the_exact_draws():
    probabilities, horizons = _probabilities(4000, seed=4)
    predicted = probabilities.argmax(axis=1)
    exact = estimation.estimate(probabilities, predicted, horizons, IDENTITY, resamples=400)
    normal = estimation.estimate(
        probabilities, predicted, horizons, IDENTITY, resamples=400, exact_max_rows=100
    )
    assert normal["overall"]["estimated"] == exact["overall"]["estimated"]
    np.testing.assert_allclose(
        normal["overall"]["interval"]["macro_f1"],
        exact["overall"]["interval"]["macro_f1"],
        atol=0.004,
    )


def test_fewer_rows_give_a_wider_interval_and_calibration_refits_widen_it_too():
    probabilities, horizons = _probabilities(20000, seed=5)
    labels = _draw_labels(probabilities, np.random.default_rng(6))
    calibration = fit_calibration(
        probabilities[:3000], labels[:3000], horizons[:3000], "vector", 300, 30, seed=0
    )
    predicted = probabilities.argmax(axis=1)

    def width(rows: slice, calib: Calibration) -> float:
        result = estimation.estimate(
            probabilities[rows], predicted[rows], horizons[rows], calib, seed=7
        )
        low, high = result["overall"]["interval"]["macro_f1"]
        return high - low

    assert width(slice(3000, 3100), calibration) > 3 * width(slice(3000, 20000), calibration)
    without_refits = dataclasses.replace(calibration, bootstrap=())
    assert width(slice(3000, 20000), calibration) > 1.5 * width(slice(3000, 20000), without_refits)
