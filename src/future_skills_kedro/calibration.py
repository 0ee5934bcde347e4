"""Probability calibration of a model version, fitted on its holdout when it is trained.

Monitoring estimates accuracy and macro-F1 before labels arrive from the probabilities the
model logs (:mod:`future_skills_kedro.performance_estimation`). That estimate is only as
good as the probabilities: a model that says 0.8 must be right 8 times in 10. The training
run therefore fits a calibration map on the holdout (rows the model never saw) and stores
it with the model version; every monitoring run of that version applies the same map.

Methods (``training.calibration.method``), each fitted per forecast horizon (1-, 3- and
5-year labels are not equally predictable) with the pooled fit for a horizon with too few
holdout rows:

- ``temperature``: ``p_k ∝ p_k^(1/T)``, one ``T`` per horizon (Guo et al., 2017). One
  parameter cannot overfit a holdout of a few thousand rows, and it keeps the predicted
  class and the ranking of the rows, so the estimate describes the model as served.
- ``vector``: a multinomial logistic regression on the log-probabilities (matrix/vector
  scaling, 12 parameters per horizon), for a model whose classes are miscalibrated
  differently.
- ``none``: the model's probabilities as they are (a baseline to compare with).

``bootstrap`` refits the map on resampled holdout rows: monitoring draws its interval with
these refits, so the uncertainty of the calibration itself is part of the interval.
The diagnostics are cross-fitted (each holdout quarter calibrated by a map fitted on the
other quarters), so the error they report is the error on a quarter the map did not see.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from future_skills_kedro.contract import NEED_LEVELS

CALIBRATION_METHODS = ("temperature", "vector", "none")
CALIBRATION_SCHEMA_VERSION = 1
POOLED = "all"  # key of the map fitted on every horizon's rows
_EPS = 1e-12


def _log_probabilities(probabilities: np.ndarray) -> np.ndarray:
    return np.log(np.clip(np.asarray(probabilities, dtype=float), _EPS, 1.0))


def _softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits - logits.max(axis=1, keepdims=True)
    exp = np.exp(shifted)
    return exp / exp.sum(axis=1, keepdims=True)


def _mean_log_loss(probabilities: np.ndarray, labels: np.ndarray) -> float:
    picked = probabilities[np.arange(len(labels)), labels]
    return float(-np.log(np.clip(picked, _EPS, 1.0)).mean())


# --------------------------------------------------------------------------- one map


def _fit_temperature(logits: np.ndarray, labels: np.ndarray, weights: np.ndarray):
    from scipy.optimize import minimize_scalar

    def loss(log_temperature: float) -> float:
        calibrated = _softmax(logits / np.exp(log_temperature))
        picked = np.log(np.clip(calibrated[np.arange(len(labels)), labels], _EPS, 1.0))
        return float(-(weights * picked).sum() / weights.sum())

    # T in [0.05, 20]: far beyond any sensible calibration, bounded so a degenerate
    # holdout cannot send it to infinity.
    best = minimize_scalar(loss, bounds=(-3.0, 3.0), method="bounded")
    return {"temperature": float(np.exp(best.x))}


def _fit_vector(logits: np.ndarray, labels: np.ndarray, weights: np.ndarray, start=None):
    from sklearn.linear_model import LogisticRegression

    n_classes = logits.shape[1]
    # warm_start: a bootstrap refit starts from the full fit (a few lbfgs steps, not 30).
    model = start if start is not None else LogisticRegression(C=1.0, max_iter=1000)
    model.fit(logits, labels, sample_weight=weights)
    # A class absent from these rows gets a row that never wins.
    coef, intercept = np.zeros((n_classes, n_classes)), np.full(n_classes, -30.0)
    fitted = model.classes_.astype(int)
    if len(fitted) == 2:  # sklearn's binary form: one row, for the second class
        coef[fitted[1]], intercept[fitted[1]] = model.coef_[0], model.intercept_[0]
        intercept[fitted[0]] = 0.0
    else:
        coef[fitted], intercept[fitted] = model.coef_, model.intercept_
    return {"coef": coef.tolist(), "intercept": intercept.tolist()}, model


def _fit_one(method, logits, labels, weights, start=None) -> tuple[dict[str, Any], Any]:
    """One map's parameters, and what a refit of the same rows can start from."""
    present = np.unique(labels[weights > 0])
    if method == "none" or len(present) < 2:
        return {}, None  # the identity: nothing to learn from a single class
    if method == "temperature":
        return _fit_temperature(logits, labels, weights), None
    if start is not None and len(np.unique(labels[weights > 0])) != len(start.classes_):
        start = None
    if start is not None:
        start.set_params(warm_start=True)
    return _fit_vector(logits, labels, weights, start)


def _apply_one(method: str, parameters: Mapping[str, Any], probabilities: np.ndarray):
    if not parameters:
        return np.asarray(probabilities, dtype=float)
    logits = _log_probabilities(probabilities)
    if method == "temperature":
        return _softmax(logits / float(parameters["temperature"]))
    coef = np.asarray(parameters["coef"], dtype=float)
    return _softmax(logits @ coef.T + np.asarray(parameters["intercept"], dtype=float))


# --------------------------------------------------------------------------- per horizon


@dataclass(frozen=True)
class Calibration:
    """A fitted calibration: one map per horizon (and the pooled one), plus bootstrap refits."""

    method: str
    maps: Mapping[str, Mapping[str, Any]]  # horizon ("1", "3", "5", "all") -> parameters
    bootstrap: Sequence[Mapping[str, Mapping[str, Any]]] = ()

    def apply(
        self, probabilities: np.ndarray, horizons: np.ndarray, replicate: int | None = None
    ) -> np.ndarray:
        """Calibrated probabilities (rows x classes); ``replicate`` picks a bootstrap refit."""
        maps = self.maps if replicate is None else self.bootstrap[replicate]
        probabilities = np.asarray(probabilities, dtype=float)
        codes = horizon_codes(horizons)
        out = np.empty_like(probabilities)
        for code in np.unique(codes):
            rows = codes == code
            parameters = maps.get(str(code), maps.get(POOLED, self.maps[POOLED]))
            out[rows] = _apply_one(self.method, parameters, probabilities[rows])
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema_version": CALIBRATION_SCHEMA_VERSION,
            "method": self.method,
            "classes": list(NEED_LEVELS),
            "maps": {key: dict(value) for key, value in self.maps.items()},
            "bootstrap": [{k: dict(v) for k, v in refit.items()} for refit in self.bootstrap],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Calibration:
        if data.get("schema_version") != CALIBRATION_SCHEMA_VERSION:
            raise ValueError(
                f"probability calibration schema_version {data.get('schema_version')!r} is "
                f"not {CALIBRATION_SCHEMA_VERSION}"
            )
        if list(data.get("classes") or []) != list(NEED_LEVELS):
            raise ValueError(
                f"probability calibration classes {data.get('classes')} are not {list(NEED_LEVELS)}"
            )
        if data.get("method") not in CALIBRATION_METHODS:
            raise ValueError(f"unknown calibration method {data.get('method')!r}")
        return cls(data["method"], dict(data["maps"]), tuple(data.get("bootstrap") or ()))


def horizon_codes(horizons: Any) -> np.ndarray:
    """Horizons as integers (-1 where missing): vectorised, a window can hold millions."""
    import pandas as pd

    numbers = pd.to_numeric(pd.Series(np.asarray(horizons)), errors="coerce")
    return numbers.fillna(-1).to_numpy(dtype=np.int64)


def fit_calibration(
    probabilities: np.ndarray,
    labels: np.ndarray,
    horizons: np.ndarray,
    method: str,
    min_rows_per_horizon: int,
    bootstrap_resamples: int = 0,
    seed: int = 0,
) -> Calibration:
    """Fit the pooled map and one per horizon with enough rows; then the bootstrap refits.

    ``labels`` are class indices (0..2 in contract order). A refit resamples rows with
    replacement within each horizon (as weights: no copy), so it keeps the horizons'
    proportions.
    """
    if method not in CALIBRATION_METHODS:
        raise ValueError(
            f"training.calibration.method must be one of {CALIBRATION_METHODS}, got {method!r}"
        )
    logits = _log_probabilities(probabilities)
    labels = np.asarray(labels, dtype=int)
    codes = horizon_codes(horizons)
    horizons_fitted = [
        code
        for code in np.unique(codes)
        if code >= 0 and (codes == code).sum() >= min_rows_per_horizon
    ]

    # The pooled map serves horizons without a map of their own (and unknown ones).
    all_fitted = set(horizons_fitted) == {code for code in np.unique(codes) if code >= 0}
    starts: dict[str, Any] = {}

    def fit_maps(weights: np.ndarray, refit: bool) -> dict[str, dict[str, Any]]:
        maps = {}
        if not (refit and all_fitted):
            maps[POOLED], start = _fit_one(method, logits, labels, weights, starts.get(POOLED))
            starts.setdefault(POOLED, start)
        for code in horizons_fitted:
            rows, key = codes == code, str(code)
            maps[key], start = _fit_one(
                method, logits[rows], labels[rows], weights[rows], starts.get(key)
            )
            starts.setdefault(key, start)
        return maps

    maps = fit_maps(np.ones(len(labels)), refit=False)
    rng = np.random.default_rng(seed)
    groups = [np.flatnonzero(codes == code) for code in np.unique(codes)]
    refits = []
    for _ in range(int(bootstrap_resamples) if method != "none" else 0):
        weights = np.zeros(len(labels))
        for group in groups:
            weights += np.bincount(rng.choice(group, len(group)), minlength=len(labels))
        refits.append(fit_maps(weights, refit=True))
    return Calibration(method, maps, tuple(refits))


def cross_fitted_probabilities(
    probabilities: np.ndarray,
    labels: np.ndarray,
    horizons: np.ndarray,
    folds: np.ndarray,
    method: str,
    min_rows_per_horizon: int,
) -> np.ndarray:
    """Each fold's rows calibrated by a map fitted on the other folds' rows only."""
    out = np.empty_like(np.asarray(probabilities, dtype=float))
    for fold in np.unique(folds):
        held = folds == fold
        calibration = fit_calibration(
            probabilities[~held], labels[~held], horizons[~held], method, min_rows_per_horizon
        )
        out[held] = calibration.apply(probabilities[held], horizons[held])
    return out


def expected_calibration_error(
    probabilities: np.ndarray, labels: np.ndarray, bins: int = 15
) -> float:
    """Top-label ECE: mean |accuracy - confidence| over equal-width confidence bins."""
    confidence = probabilities.max(axis=1)
    correct = probabilities.argmax(axis=1) == labels
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(confidence, edges[1:-1]), 0, bins - 1)
    total = 0.0
    for b in range(bins):
        rows = which == b
        if rows.any():
            total += rows.sum() * abs(correct[rows].mean() - confidence[rows].mean())
    return float(total / max(len(labels), 1))


def mean_log_loss(probabilities: np.ndarray, labels: np.ndarray) -> float:
    """Mean negative log probability of the true class."""
    return _mean_log_loss(np.asarray(probabilities, dtype=float), np.asarray(labels, dtype=int))
