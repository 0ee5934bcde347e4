"""A window of logged predictions as small aggregates, and the monitoring nodes on them.

An engine that cannot hand the driver every logged row (Spark, docs/spark.md) hands it a
:class:`WindowAggregates`: per-feature value counts (``drift.scores.Counts``), the class
counts, the confidence's counts, mean and daily means, a seeded sample for Evidently's
report, the rows whose key has a label, and the last valid prediction of each key. The nodes
below turn it into the same ``feature_drift``, ``prediction_drift``, ``performance`` and
``performance_estimate`` as the pandas nodes, with the pandas nodes' own code
(``nodes.feature_drift_of``, ``nodes.prediction_drift_of``, ``performance.evaluate``,
``estimation.estimate``); the drift scores come from the counts with the definitions the row
engine uses.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from future_skills_kedro.drift import scores as drift
from future_skills_kedro.pipelines.monitoring import nodes

# The columns of the rows handed back for performance (labelled keys) and estimation.
PERFORMANCE_COLUMNS = (
    "timestamp",
    "job_role_id",
    "skill_id",
    "horizon_years",
    "as_of_date",
    "prediction",
    "prob_LOW",
    "prob_MEDIUM",
    "prob_HIGH",
)


@dataclass
class WindowAggregates:
    """What monitoring needs of a window, without its rows (sizes: distinct values, days,
    labelled keys, distinct keys, the report sample)."""

    rows: int
    feature_counts: dict[str, drift.Counts] = field(default_factory=dict)
    class_counts: drift.Counts | None = None
    confidence_counts: drift.Counts | None = None
    mean_confidence: float | None = None
    # size and mean confidence per UTC day, indexed by day, in day order
    daily: pd.DataFrame = field(default_factory=pd.DataFrame)
    # prepared feature columns of every row (at most evidently_max_rows), or of a seeded sample
    report_rows: pd.DataFrame = field(default_factory=pd.DataFrame)
    sampled: bool = False
    # PERFORMANCE_COLUMNS of the last record of each labelled (period, key), in (timestamp,
    # log) order
    labelled_rows: pd.DataFrame = field(default_factory=pd.DataFrame)
    # PERFORMANCE_COLUMNS of each key's last valid prediction, in (timestamp, log) order
    latest_rows: pd.DataFrame = field(default_factory=pd.DataFrame)


class _CountedWindow:
    """The window for ``nodes.feature_drift_of``: scored from counts, drawn from the sample."""

    def __init__(self, aggregates: WindowAggregates) -> None:
        self.aggregates = aggregates
        self.rows = aggregates.rows

    def report_rows(
        self, specs: list[drift.ColumnSpec], max_rows: int, seed: int
    ) -> tuple[pd.DataFrame, bool]:
        return drift.prepare_features(self.aggregates.report_rows, specs), self.aggregates.sampled

    def feature_drift(
        self, reference: pd.DataFrame, specs: list[drift.ColumnSpec]
    ) -> dict[str, dict[str, Any]]:
        return drift.counted_feature_drift(reference, self.aggregates.feature_counts, specs)


def detect_feature_drift(
    aggregates: WindowAggregates,
    reference: Any,
    params: Mapping[str, Any],
    previous_predictions: pd.DataFrame | None = None,
    previous_window: Mapping[str, Any] | None = None,
) -> tuple[dict[str, Any], str]:
    """``nodes.detect_feature_drift`` on the window's counts."""
    if reference is None or not aggregates.rows:
        empty = pd.DataFrame()
        return nodes.detect_feature_drift(empty, reference, params)
    return nodes.feature_drift_of(
        _CountedWindow(aggregates), reference, params, previous_predictions, previous_window
    )


def detect_prediction_drift(
    aggregates: WindowAggregates, reference: Any, params: Mapping[str, Any]
) -> dict[str, Any]:
    """``nodes.detect_prediction_drift`` on the window's class and confidence counts."""
    if not aggregates.rows:
        return nodes.detect_prediction_drift(pd.DataFrame(), reference, params)
    classes = aggregates.class_counts
    return nodes.prediction_drift_of(
        classes.series(),
        classes,
        aggregates.confidence_counts,
        aggregates.mean_confidence,
        aggregates.daily,
        reference,
        params,
    )


def evaluate_performance(
    aggregates: WindowAggregates,
    labels: pd.DataFrame,
    reference: Any,
    params: Mapping[str, Any],
) -> dict[str, Any]:
    """``nodes.evaluate_performance`` on the last record of each labelled (period, key): the
    only ones it matches with a label."""
    return nodes.evaluate_performance(aggregates.labelled_rows, labels, reference, params)


def estimate_performance(
    aggregates: WindowAggregates,
    labels: pd.DataFrame,
    reference: Any,
    params: Mapping[str, Any],
) -> dict[str, Any]:
    """``nodes.estimate_performance`` on each key's last valid prediction (what it keeps)."""
    return nodes.estimate_performance(aggregates.latest_rows, labels, reference, params)
