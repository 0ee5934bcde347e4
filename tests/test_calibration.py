"""Probability calibration: it repairs miscalibrated probabilities, per horizon, and
survives a JSON round trip (the artifact stored with the model version)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from future_skills_kedro import performance_estimation
from future_skills_kedro.calibration import (
    POOLED,
    Calibration,
    fit_calibration,
    mean_log_loss,
)


def _softmax(logits: np.ndarray) -> np.ndarray:
    exp = np.exp(logits - logits.max(axis=1, keepdims=True))
    return exp / exp.sum(axis=1, keepdims=True)


def _world(n: int, seed: int, sharpness_by_horizon: dict[int, float]):
    """True probabilities, labels drawn from them, and a model whose probabilities are
    too sharp (sharpness > 1) or too flat (< 1) by horizon, with a class-prior shift."""
    rng = np.random.default_rng(seed)
    horizons = rng.choice(sorted(sharpness_by_horizon), n)
    logits = rng.normal(size=(n, 3)) * 1.2
    truth = _softmax(logits)
    labels = (rng.random((n, 1)) > np.cumsum(truth, axis=1)).sum(axis=1)
    sharpness = np.array([sharpness_by_horizon[h] for h in horizons])[:, None]
    model = _softmax(sharpness * logits + np.array([0.4, 0.0, -0.4]))
    return model, labels, horizons, truth


@pytest.mark.parametrize("method", ["vector", "temperature"])
def test_calibration_brings_the_estimate_to_the_true_expected_figure(method):
    model, labels, horizons, _ = _world(6000, seed=1, sharpness_by_horizon={1: 2.0, 3: 0.6})
    calibration = fit_calibration(model, labels, horizons, method, min_rows_per_horizon=300)

    fresh, fresh_labels, fresh_horizons, truth = _world(
        20000, seed=2, sharpness_by_horizon={1: 2.0, 3: 0.6}
    )
    calibrated = calibration.apply(fresh, fresh_horizons)
    assert mean_log_loss(calibrated, fresh_labels) < mean_log_loss(fresh, fresh_labels) - 0.02

    predicted = fresh.argmax(axis=1)
    true_figure = performance_estimation.headline_metrics(
        performance_estimation.expected_confusion_matrix(truth, predicted)
    )["macro_f1"]

    def estimated(probabilities):
        return performance_estimation.headline_metrics(
            performance_estimation.expected_confusion_matrix(probabilities, predicted)
        )["macro_f1"]

    assert abs(estimated(fresh) - true_figure) > 0.03  # the raw probabilities mislead
    assert abs(estimated(calibrated) - true_figure) < 0.01


def test_one_map_per_horizon_and_the_pooled_one_for_thin_horizons():
    model, labels, horizons, _ = _world(4000, seed=3, sharpness_by_horizon={1: 2.0, 3: 0.5})
    horizons = horizons.copy()
    horizons[:100] = 5  # too few rows for a map of its own
    calibration = fit_calibration(model, labels, horizons, "temperature", 300)
    assert set(calibration.maps) == {POOLED, "1", "3"}
    # Too sharp -> T > 1 (softened); too flat -> T < 1 (sharpened).
    assert calibration.maps["3"]["temperature"] < 1.0 < calibration.maps["1"]["temperature"]
    pooled = calibration.apply(model[:100], np.full(100, 5))
    expected = Calibration("temperature", {POOLED: calibration.maps[POOLED]}).apply(
        model[:100], np.full(100, 5)
    )
    np.testing.assert_allclose(pooled, expected)
    # Temperature keeps every row's predicted class.
    np.testing.assert_array_equal(
        calibration.apply(model, horizons).argmax(axis=1), model.argmax(axis=1)
    )


def test_bootstrap_refits_vary_and_survive_a_json_round_trip():
    model, labels, horizons, _ = _world(3000, seed=4, sharpness_by_horizon={1: 1.5, 3: 1.5})
    calibration = fit_calibration(
        model, labels, horizons, "vector", 300, bootstrap_resamples=5, seed=0
    )
    assert len(calibration.bootstrap) == 5
    coefficients = [refit["1"]["coef"][0][0] for refit in calibration.bootstrap]
    assert len(set(coefficients)) == 5  # each refit saw other rows
    restored = Calibration.from_dict(json.loads(json.dumps(calibration.to_dict())))
    np.testing.assert_allclose(
        restored.apply(model, horizons, replicate=2), calibration.apply(model, horizons, 2)
    )


def test_an_artifact_of_another_schema_is_refused_with_the_reason():
    good = fit_calibration(np.full((10, 3), 1 / 3), np.arange(10) % 3, np.ones(10), "none", 1)
    with pytest.raises(ValueError, match="classes"):
        Calibration.from_dict(good.to_dict() | {"classes": ["LOW", "HIGH"]})
    with pytest.raises(ValueError, match="schema_version"):
        Calibration.from_dict(good.to_dict() | {"schema_version": 99})
    with pytest.raises(ValueError, match=r"training\.calibration\.method must be one of"):
        fit_calibration(np.full((10, 3), 1 / 3), np.arange(10) % 3, np.ones(10), "isotonic", 1)
