"""Drift thresholds calibrated on the labelled history's own quarter-to-quarter movement.

At training time, for every feature and every reference kind, each historical quarter is
scored against the reference the policy would have given it (``holdout``: the ``H`` quarters
just before it, ``H`` the champion's number of holdout quarters; ``training``: the quarters
before those; ``previous_window``: the quarter just before it). The threshold is

    max(floor, margin x quantile(those scores, q))

so a normal new quarter, which moves about as much as past quarters did, is not drift, and
a threshold never falls below the floor. The margin covers what a handful of quarters cannot
show of the tail (a new quarter exceeds the largest of k past scores about once in k + 1).

Low-cardinality numeric features (at most ``low_cardinality_max_values`` distinct values in
any quarter; economic_indicator has one per department) are scored with ``mean_shift``: the
move of their mean in reference standard deviations. Their distribution is a few atoms that
all move every quarter, and a shape distance mostly measures that normal shuffle.

Only distance methods are calibrated; a feature tested with a p-value (ks, chisquare) keeps
its configured threshold. Pure functions: frames and dicts in, dicts out.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from future_skills_kedro.drift import scores
from future_skills_kedro.drift.reference import (
    HOLDOUT,
    PREVIOUS_WINDOW,
    QUARTER_COLUMN,
    REFERENCE_KINDS,
    TRAINING,
    quarter_labels,
)

SCHEMA_VERSION = 1
LOW_CARDINALITY_METHOD = "mean_shift"
CALIBRATED = "calibrated"
CONFIGURED = "configured"
OVERRIDE = "override"


@dataclass(frozen=True)
class History:
    """The labelled quarters, oldest first, each column ready for scoring: numbers sorted
    and finite, categories as text without missing values."""

    quarters: list[str]
    numeric: dict[str, list[np.ndarray]]
    categorical: dict[str, list[pd.Series]]

    def values(self, feature: str, positions: Sequence[int]) -> Any:
        """The feature's values over the quarters at ``positions``, pooled."""
        if feature in self.numeric:
            arrays = [self.numeric[feature][i] for i in positions]
            return arrays[0] if len(arrays) == 1 else np.sort(np.concatenate(arrays))
        series = [self.categorical[feature][i] for i in positions]
        return series[0] if len(series) == 1 else pd.concat(series, ignore_index=True)

    def head(self, n: int) -> History:
        """The ``n`` oldest quarters."""
        return History(
            self.quarters[:n],
            {name: arrays[:n] for name, arrays in self.numeric.items()},
            {name: series[:n] for name, series in self.categorical.items()},
        )


def build_history(
    table: pd.DataFrame, numeric: Sequence[str], categorical: Sequence[str]
) -> History:
    """Split the feature rows by quarter (``as_of_date``), oldest first."""
    quarter = quarter_labels(table[QUARTER_COLUMN])
    ordered = sorted(set(quarter))
    groups = {label: np.flatnonzero(quarter == label) for label in ordered}
    numbers: dict[str, list[np.ndarray]] = {}
    for name in numeric:
        column = pd.to_numeric(table[name], errors="coerce").to_numpy(dtype="float64")
        numbers[name] = [_sorted_finite(column[rows]) for rows in groups.values()]
    texts: dict[str, list[pd.Series]] = {}
    for name in categorical:
        column = table[name]
        texts[name] = [
            column.iloc[rows].dropna().astype("str").reset_index(drop=True)
            for rows in groups.values()
        ]
    return History(ordered, numbers, texts)


def _sorted_finite(values: np.ndarray) -> np.ndarray:
    values = values[np.isfinite(values)]
    values.sort()
    return values


def reference_positions(position: int, kind: str, n_holdout: int) -> list[int] | None:
    """Positions of the reference quarters of the quarter at ``position`` (None: too early)."""
    if kind == HOLDOUT:
        return list(range(position - n_holdout, position)) if position >= n_holdout else None
    if kind == TRAINING:
        return list(range(position - n_holdout)) if position - n_holdout >= 1 else None
    if kind == PREVIOUS_WINDOW:
        return [position - 1] if position >= 1 else None
    raise ValueError(f"unknown drift reference {kind!r}")


def feature_method(
    history: History, feature: str, drift_params: Mapping[str, Any], max_distinct: int
) -> str:
    """The method a feature is calibrated (and then tested) with."""
    if feature in history.categorical:
        return drift_params["categorical"]["method"]
    distinct = max((np.unique(values).size for values in history.numeric[feature]), default=0)
    if distinct <= max_distinct:
        return LOW_CARDINALITY_METHOD
    return drift_params["numeric"]["method"]


def history_scores(
    history: History, feature: str, method: str, kind: str, n_holdout: int
) -> list[tuple[str, float]]:
    """(quarter, score) of each quarter that has a reference of ``kind`` before it."""
    column_kind = scores.NUMERIC if feature in history.numeric else scores.CATEGORICAL
    found = []
    for position, quarter in enumerate(history.quarters):
        positions = reference_positions(position, kind, n_holdout)
        if positions is None:
            continue
        reference = history.values(feature, positions)
        current = history.values(feature, [position])
        if len(reference) == 0 or len(current) == 0:
            continue
        found.append((quarter, scores.score_column(reference, current, column_kind, method)))
    return found


def threshold_of(history_values: Sequence[float], settings: Mapping[str, Any], floor: float):
    """max(floor, margin x quantile), or None with fewer scores than ``min_quarters``."""
    finite = [value for value in history_values if np.isfinite(value)]
    if len(finite) < int(settings["min_quarters"]):
        return None
    quantile = float(np.quantile(finite, float(settings["quantile"])))
    return max(float(floor), float(settings["margin"]) * quantile)


def calibrate(
    history: History,
    n_holdout: int,
    drift_params: Mapping[str, Any],
    settings: Mapping[str, Any],
    kinds: Sequence[str] = REFERENCE_KINDS,
) -> dict[str, Any]:
    """Per feature: method, and per reference kind the threshold (None: too few quarters)
    with the scores it came from. The newest ``n_holdout`` quarters are the holdout."""
    features: dict[str, Any] = {}
    for feature in [*history.categorical, *history.numeric]:
        is_numeric = feature in history.numeric
        method = feature_method(
            history, feature, drift_params, int(settings["low_cardinality_max_values"])
        )
        entry: dict[str, Any] = {
            "type": scores.NUMERIC if is_numeric else scores.CATEGORICAL,
            "method": method,
            "thresholds": {},
            "history": {},
        }
        if is_numeric:
            entry["distinct_values_per_quarter"] = max(
                (int(np.unique(values).size) for values in history.numeric[feature]), default=0
            )
        if scores.METHODS[method][1] != scores.DISTANCE:
            entry["note"] = f"{method} is a p-value test: its configured threshold is used"
            features[feature] = entry | {"thresholds": dict.fromkeys(kinds)}
            continue
        floor = settings["floor"]["numeric" if is_numeric else "categorical"]
        for kind in kinds:
            found = history_scores(history, feature, method, kind, n_holdout)
            entry["history"][kind] = {quarter: score for quarter, score in found}
            entry["thresholds"][kind] = threshold_of([s for _, s in found], settings, floor)
        features[feature] = entry
    return {
        "schema_version": SCHEMA_VERSION,
        "quarters": list(history.quarters),
        "holdout_quarters": list(history.quarters[-n_holdout:]) if n_holdout else [],
        "settings": {
            "quantile": float(settings["quantile"]),
            "margin": float(settings["margin"]),
            "floor": dict(settings["floor"]),
            "min_quarters": int(settings["min_quarters"]),
            "low_cardinality_max_values": int(settings["low_cardinality_max_values"]),
        },
        "features": features,
    }


def resolve_specs(
    drift_params: Mapping[str, Any],
    calibration: Mapping[str, Any] | None,
    kind: str,
    numeric: Sequence[str],
    categorical: Sequence[str],
) -> tuple[list[scores.ColumnSpec], dict[str, str], str | None]:
    """The spec of every feature, where its threshold comes from, and a note when the
    calibration is missing or incomplete.

    An explicit ``per_column`` setting wins; else the calibration's method and threshold for
    ``kind``; else the configured setting of the feature's kind.
    """
    overrides = drift_params["per_column"]
    calibrated = (calibration or {}).get("features", {})
    specs, sources, uncalibrated = [], {}, []
    for column_kind, columns in ((scores.CATEGORICAL, categorical), (scores.NUMERIC, numeric)):
        for column in columns:
            entry = calibrated.get(column) or {}
            threshold = (entry.get("thresholds") or {}).get(kind)
            if column in overrides:
                spec = scores.make_spec(column, column_kind, overrides[column])
                sources[column] = OVERRIDE
            elif threshold is not None:
                spec = scores.ColumnSpec(column, column_kind, entry["method"], float(threshold))
                sources[column] = CALIBRATED
            else:
                spec = scores.make_spec(column, column_kind, drift_params[column_kind])
                sources[column] = CONFIGURED
                uncalibrated.append(column)
            specs.append(spec)
    note = None
    if calibration is None:
        note = (
            "the champion has no drift calibration (trained before it existed): "
            "configured thresholds"
        )
    elif uncalibrated:
        note = (
            f"no calibrated {kind} threshold for {', '.join(uncalibrated)} "
            "(too few labelled quarters, or a p-value method): configured thresholds"
        )
    return specs, sources, note
