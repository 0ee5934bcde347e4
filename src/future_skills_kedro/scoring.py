"""Scoring and quality metrics shared by training, evaluation, inference and monitoring.

One implementation of "what a prediction is" and "how good it is", so that the champion,
the challenger and production are measured the same way.
"""

from __future__ import annotations

import functools
import math
from concurrent.futures import ThreadPoolExecutor
from itertools import pairwise
from typing import Any

import numpy as np
import pandas as pd

from future_skills_kedro.contract import FEATURE_COLUMNS, NEED_LEVELS
from future_skills_kedro.cores import numeric_threads

PREDICTION_COLUMN = "predicted_need_level"
CONFIDENCE_COLUMN = "confidence"
PROBABILITY_COLUMNS = tuple(f"prob_{level}" for level in NEED_LEVELS)
_LEVELS = pd.Index(NEED_LEVELS)  # a level's position: its probability column's
# Metrics of classification_metrics where lower is better (all others: higher is better).
LOWER_IS_BETTER = frozenset({"log_loss"})
# Fewest rows worth a thread of their own: below, starting threads costs more than it saves.
ROWS_PER_THREAD = 20_000


def predict_proba_in_blocks(classifier: Any, features: pd.DataFrame, threads: int) -> np.ndarray:
    """``classifier.predict_proba(features)``, in row blocks scored by up to ``threads`` threads.

    A fitted scikit-learn estimator only reads its state when it predicts, each row's
    probabilities depend on that row alone, and numpy and SciPy release the GIL for the bulk of
    the work: the default model scores 100,000 rows in 0.29-0.31 s on 2 threads instead of
    0.55-0.66 s on one, the same probabilities to the bit. Native thread pools (OpenMP in
    gradient boosting, BLAS) get one thread each meanwhile, so the cores are not oversubscribed.
    """
    threads = min(threads, len(features) // ROWS_PER_THREAD)
    if threads < 2:
        return classifier.predict_proba(features)
    from threadpoolctl import threadpool_limits

    bounds = np.linspace(0, len(features), threads + 1).astype(int)
    blocks = [features.iloc[start:end] for start, end in pairwise(bounds)]
    with threadpool_limits(limits=1), ThreadPoolExecutor(threads) as pool:
        return np.concatenate(list(pool.map(classifier.predict_proba, blocks)))


def predict_need_levels(classifier: Any, model_input: pd.DataFrame) -> pd.DataFrame:
    """Predicted level, probability of each class and confidence, one row per input row."""
    # The columns the classifier was fitted on (a model may exclude some contract features).
    expected = list(getattr(classifier, "feature_names_in_", FEATURE_COLUMNS))
    missing = [column for column in expected if column not in model_input.columns]
    if missing:
        raise ValueError(f"model input is missing feature column(s): {', '.join(missing)}")
    features = model_input.loc[:, expected]
    raw_proba = predict_proba_in_blocks(classifier, features, numeric_threads())
    # Columns in contract order whatever order the estimator learned its classes in.
    class_index = {label: i for i, label in enumerate(classifier.classes_)}
    proba = np.zeros((len(features), len(NEED_LEVELS)))
    for j, level in enumerate(NEED_LEVELS):
        if level in class_index:
            proba[:, j] = raw_proba[:, class_index[level]]
    scored = pd.DataFrame(proba, columns=list(PROBABILITY_COLUMNS), index=model_input.index)
    best = proba.argmax(axis=1)
    scored.insert(0, PREDICTION_COLUMN, np.asarray(NEED_LEVELS, dtype=object)[best])
    scored[CONFIDENCE_COLUMN] = proba[np.arange(len(proba)), best]
    return scored


def classification_metrics(
    y_true: pd.Series | np.ndarray,
    predictions: pd.DataFrame,
) -> dict[str, float]:
    """Accuracy, macro/weighted P/R/F1, per-class P/R/F1/support and log loss."""
    from sklearn.metrics import precision_recall_fscore_support

    # scikit-learn on the levels' positions, not their names (it finds the labels of object
    # arrays with Python comparisons), once per call: the per-class values, averaged here as
    # scikit-learn averages them (zero_division=0 leaves no NaN: macro is their mean, weighted
    # their support-weighted mean, the plain mean when no row has a label). 6,000 rows: 56 ms
    # -> 6 ms; a training run's slice, bootstrap and champion comparisons call this ~40 times.
    true_codes = level_codes(y_true)
    predicted = _LEVELS.get_indexer(predictions[PREDICTION_COLUMN].to_numpy(object))
    precision, recall, f1, support = precision_recall_fscore_support(
        true_codes, predicted, labels=list(range(len(NEED_LEVELS))), average=None, zero_division=0
    )
    metrics: dict[str, float] = {"accuracy": float(np.mean(true_codes == predicted))}
    for average, weights in (("macro", None), ("weighted", support if support.sum() else None)):
        metrics[f"{average}_precision"] = float(np.average(precision, weights=weights))
        metrics[f"{average}_recall"] = float(np.average(recall, weights=weights))
        metrics[f"{average}_f1"] = float(np.average(f1, weights=weights))
    for i, level in enumerate(NEED_LEVELS):
        key = level.lower()
        metrics[f"precision_{key}"] = float(precision[i])
        metrics[f"recall_{key}"] = float(recall[i])
        metrics[f"f1_{key}"] = float(f1[i])
        metrics[f"support_{key}"] = float(support[i])
    metrics["log_loss"] = float(_true_class_log_loss(true_codes, predictions).mean())
    return metrics


@functools.cache
def classification_metric_names() -> tuple[str, ...]:
    """The names :func:`classification_metrics` returns, asked of the function itself.

    Parameters that name a metric (the promotion policy's) are checked against this, so a
    metric added to the function is allowed there at once. Imports scikit-learn (~1 s).
    """
    levels = list(NEED_LEVELS)
    one_per_class = pd.DataFrame(np.eye(len(levels)), columns=list(PROBABILITY_COLUMNS))
    one_per_class.insert(0, PREDICTION_COLUMN, levels)
    return tuple(classification_metrics(levels, one_per_class))


def row_log_loss(y_true: pd.Series | np.ndarray, predictions: pd.DataFrame) -> np.ndarray:
    """Negative log probability of the true class, per row (their mean is the log loss)."""
    return _true_class_log_loss(level_codes(y_true), predictions)


def _true_class_log_loss(codes: np.ndarray, predictions: pd.DataFrame) -> np.ndarray:
    """Computed here because sklearn's ``log_loss`` assumes lexicographically ordered labels,
    while the probability columns follow the contract's LOW < MEDIUM < HIGH order."""
    proba = predictions.loc[:, list(PROBABILITY_COLUMNS)].to_numpy(dtype=float)
    proba = np.clip(proba, 1e-15, 1.0)
    proba = proba / proba.sum(axis=1, keepdims=True)
    return -np.log(proba[np.arange(len(proba)), codes])


def level_codes(y_true: pd.Series | np.ndarray) -> np.ndarray:
    """Each target's position in NEED_LEVELS; raises naming the values that are not a level."""
    values = np.asarray(y_true, dtype=object)
    codes = _LEVELS.get_indexer(values)
    if (codes < 0).any():
        unknown = sorted(set(values[codes < 0]), key=str)
        raise ValueError(f"unknown target level(s) {unknown}; expected {list(NEED_LEVELS)}")
    return codes


def is_finite_number(value: Any) -> bool:
    """True for a real, finite number (metrics can be missing or NaN)."""
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
