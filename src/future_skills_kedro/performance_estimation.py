"""Accuracy and macro-F1 estimated from calibrated probabilities alone (no labels).

Confidence-based performance estimation, in the spirit of NannyML's CBPE: if a row's
calibrated probabilities are ``q`` and the model predicted class ``j``, the row adds ``q[k]``
to the expected count of (true ``k``, predicted ``j``). Summed over the window this is the
expected confusion matrix, from which accuracy and macro-F1 follow as they would from a
real one. Labels for 3- and 5-year forecasts arrive years later: this is the figure in
the meantime, and where labels exist the realized one is reported beside it.

The interval is a bootstrap of what the labels could turn out to be: each replicate takes
a refit of the calibration on resampled holdout rows (its uncertainty) and draws every
row's label from its calibrated probabilities (the window's own sampling noise), then
computes the figure from that confusion matrix. Few rows give a wide interval.

Large windows: drawing a label per row and replicate is exact but costs rows x
replicates; above ``exact_max_rows`` the counts of each (horizon, predicted class) cell
block are drawn from their normal approximation (sum of independent categorical draws:
mean ``sum q``, covariance ``sum diag(q) - q q^T``), and the calibration refits are
applied to a uniform sample of ``exact_max_rows`` rows, their effect scaled to the window.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from future_skills_kedro.calibration import Calibration, horizon_codes

HEADLINE = ("accuracy", "macro_f1")


def confusion_matrix(true_index: np.ndarray, predicted_index: np.ndarray, n_classes: int):
    """Counts [true, predicted] of two integer label arrays."""
    flat = np.asarray(true_index, dtype=int) * n_classes + np.asarray(predicted_index, dtype=int)
    return np.bincount(flat, minlength=n_classes * n_classes).reshape(n_classes, n_classes)


def expected_confusion_matrix(probabilities: np.ndarray, predicted_index: np.ndarray):
    """Expected counts [true, predicted] given calibrated probabilities (rows x classes)."""
    n_classes = probabilities.shape[1]
    one_hot = np.zeros((len(predicted_index), n_classes))
    one_hot[np.arange(len(predicted_index)), predicted_index] = 1.0
    return probabilities.T @ one_hot


def headline_metrics(confusion: np.ndarray) -> dict[str, float]:
    """Accuracy and macro-F1 of a (possibly fractional) confusion matrix [..., true, pred].

    Per-class F1 = 2 TP / (2 TP + FP + FN), 0 when the class is neither true nor predicted:
    sklearn's definition with ``zero_division=0``, so figures compare with training's.
    Works on a stack of matrices (leading axes) too.
    """
    confusion = np.asarray(confusion, dtype=float)
    true_positive = np.diagonal(confusion, axis1=-2, axis2=-1)
    predicted = confusion.sum(axis=-2)
    actual = confusion.sum(axis=-1)
    denominator = predicted + actual
    f1 = np.divide(
        2 * true_positive, denominator, out=np.zeros_like(true_positive), where=denominator > 0
    )
    total = confusion.sum(axis=(-2, -1))
    accuracy = np.divide(
        true_positive.sum(axis=-1), total, out=np.zeros_like(total), where=total > 0
    )
    return {"accuracy": accuracy, "macro_f1": f1.mean(axis=-1)}


def _as_floats(metrics: Mapping[str, Any]) -> dict[str, float]:
    return {name: float(value) for name, value in metrics.items()}


# --------------------------------------------------------------------------- interval


def _label_noise_exact(probabilities, predicted_index, resamples, rng) -> np.ndarray:
    """Confusion matrices of ``resamples`` label draws (labels ~ the probabilities)."""
    n_rows, n_classes = probabilities.shape
    cumulative = np.cumsum(probabilities, axis=1)
    cumulative[:, -1] = 1.0
    draws = np.empty((resamples, n_classes, n_classes))
    for b in range(resamples):
        labels = (rng.random((n_rows, 1)) > cumulative).sum(axis=1)
        draws[b] = confusion_matrix(labels, predicted_index, n_classes)
    return draws


def _label_noise_normal(probabilities, predicted_index, resamples, rng) -> np.ndarray:
    """As :func:`_label_noise_exact`, each predicted-class column from its normal law."""
    n_classes = probabilities.shape[1]
    draws = np.zeros((resamples, n_classes, n_classes))
    for j in range(n_classes):
        rows = probabilities[predicted_index == j]
        if not len(rows):
            continue
        mean = rows.sum(axis=0)
        covariance = np.diag(mean) - rows.T @ rows
        draws[:, :, j] = rng.multivariate_normal(mean, covariance, size=resamples, method="eigh")
    return np.clip(draws, 0.0, None)


def estimate(
    probabilities: np.ndarray,
    predicted_index: np.ndarray,
    horizons: np.ndarray,
    calibration: Calibration,
    *,
    resamples: int = 200,
    confidence: float = 0.95,
    exact_max_rows: int = 20000,
    seed: int = 0,
    calibrated: np.ndarray | None = None,
) -> dict[str, Any]:
    """Expected accuracy and macro-F1, overall and per horizon, with bootstrap intervals.

    Returns ``{"overall": {...}, "by_horizon": {"1": {...}, ...}}``, each with ``rows``,
    ``estimated`` and ``interval`` ({metric: [low, high]}). ``calibrated``: the
    probabilities already calibrated by ``calibration`` (saves applying it twice).
    """
    probabilities = np.asarray(probabilities, dtype=float)
    predicted_index = np.asarray(predicted_index, dtype=int)
    horizons = horizon_codes(horizons)
    rng = np.random.default_rng(seed)
    if calibrated is None:
        calibrated = calibration.apply(probabilities, horizons)
    refits = len(calibration.bootstrap)
    exact = len(probabilities) <= exact_max_rows
    # The refits' effect is measured on (at most) exact_max_rows rows, scaled to the window.
    sample = (
        np.arange(len(probabilities))
        if exact
        else np.sort(rng.choice(len(probabilities), exact_max_rows, replace=False))
    )
    keys = [int(code) for code in np.unique(horizons)]
    expected, draws = {}, {}
    for key in keys:
        rows = horizons == key
        expected[key] = expected_confusion_matrix(calibrated[rows], predicted_index[rows])
        noise = _label_noise_exact if exact else _label_noise_normal
        simulated = noise(calibrated[rows], predicted_index[rows], resamples, rng)
        if refits:
            in_sample = sample[horizons[sample] == key]
            scale = rows.sum() / max(len(in_sample), 1)
            base = expected_confusion_matrix(calibrated[in_sample], predicted_index[in_sample])
            shifts = np.stack(
                [
                    expected_confusion_matrix(
                        calibration.apply(
                            probabilities[in_sample], horizons[in_sample], replicate=r
                        ),
                        predicted_index[in_sample],
                    )
                    - base
                    for r in range(min(refits, resamples))
                ]
            )
            simulated = np.clip(
                simulated + scale * shifts[np.arange(resamples) % len(shifts)], 0, None
            )
        draws[key] = simulated

    tail = (1.0 - confidence) / 2.0

    def block(confusion: np.ndarray, simulated: np.ndarray) -> dict[str, Any]:
        replicated = headline_metrics(simulated)
        return {
            "rows": round(float(confusion.sum())),
            "estimated": _as_floats(headline_metrics(confusion)),
            "interval": {
                name: [
                    float(np.quantile(replicated[name], tail)),
                    float(np.quantile(replicated[name], 1.0 - tail)),
                ]
                for name in HEADLINE
            },
        }

    by_horizon = {str(key): block(expected[key], draws[key]) for key in keys}
    n_classes = probabilities.shape[1]
    overall_expected = sum(expected.values(), np.zeros((n_classes, n_classes)))
    overall_draws = sum(draws.values(), np.zeros((resamples, n_classes, n_classes)))
    return {"overall": block(overall_expected, overall_draws), "by_horizon": by_horizon}


def realized(labels_index: np.ndarray, predicted_index: np.ndarray, n_classes: int):
    """Accuracy and macro-F1 of labelled rows."""
    return _as_floats(headline_metrics(confusion_matrix(labels_index, predicted_index, n_classes)))
