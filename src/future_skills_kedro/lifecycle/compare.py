"""``kedro models compare A B``: two versions scored on the same rows, differences with
paired-bootstrap intervals, overall and per slice, and what differs in how they were built.

Plain functions on scored frames and ``VersionInfo``; loading models and rows is the
caller's (the CLI's) job, so everything here is tested in-process. The resampling is
``bootstrap.py``'s, shared with the promotion policy's significance guard.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from future_skills_kedro.contract import NEED_LEVELS, TARGET_COLUMN
from future_skills_kedro.lifecycle.bootstrap import Statistic, bootstrap_intervals
from future_skills_kedro.lifecycle.registry import (
    TAG_ALGORITHM,
    TAG_DATA_HASH,
    TAG_PARAMS_HASH,
    TAG_SCHEMA,
    TAG_SCHEMA_HASH,
    TAG_TARGET_CLASSES,
    VersionInfo,
)
from future_skills_kedro.scoring import PREDICTION_COLUMN, classification_metrics, row_log_loss

# What compare reports, in this order; log_loss is the one where lower is better.
COMPARED_METRICS = (
    "accuracy",
    "macro_f1",
    "log_loss",
    *(f"f1_{level.lower()}" for level in NEED_LEVELS),
)
HYPERPARAMETER_PREFIX = "model."  # run params logged by training.train_classifier


def row_statistics(y_true: Any, scored: pd.DataFrame) -> tuple[np.ndarray, dict[str, Statistic]]:
    """Per-row columns of one model and each compared metric as a function of their sums.

    Columns: 1, correct, loss, then per class (true positive, false positive + false
    negative). Summed over all rows once, the statistics give what ``classification_metrics``
    gives (tested): F1 = 2TP / (2TP + FP + FN), 0 for a class neither true nor predicted.
    """
    y = np.asarray(y_true, dtype=object)
    predicted = scored[PREDICTION_COLUMN].to_numpy(dtype=object)
    columns = [np.ones(len(y)), (y == predicted).astype(float), row_log_loss(y, scored)]
    for level in NEED_LEVELS:
        columns.append(((y == level) & (predicted == level)).astype(float))
        columns.append(((y == level) != (predicted == level)).astype(float))

    def f1_of(i: int) -> Statistic:
        def f1(totals: np.ndarray) -> np.ndarray:
            tp2 = 2 * totals[:, 3 + 2 * i]
            denominator = tp2 + totals[:, 4 + 2 * i]
            return np.divide(tp2, denominator, out=np.zeros_like(tp2), where=denominator > 0)

        return f1

    per_class = {f"f1_{level.lower()}": f1_of(i) for i, level in enumerate(NEED_LEVELS)}
    statistics = {
        "accuracy": lambda t: t[:, 1] / t[:, 0],
        "macro_f1": lambda t: np.mean([f(t) for f in per_class.values()], axis=0),
        "log_loss": lambda t: t[:, 2] / t[:, 0],
        **per_class,
    }
    return np.column_stack(columns), statistics


def metric_intervals(
    y_true: Any,
    scored: pd.DataFrame,
    confidence: float = 0.95,
    resamples: int = 2000,
    seed: int = 42,
) -> dict[str, dict[str, float]]:
    """Each compared metric of one model with its bootstrap interval (seeded)."""
    values = classification_metrics(y_true, scored)
    columns, statistics = row_statistics(y_true, scored)
    intervals = bootstrap_intervals(columns, statistics, confidence, resamples, seed)
    return {
        name: {"value": values[name], "low": intervals[name][0], "high": intervals[name][1]}
        for name in COMPARED_METRICS
    }


def compare_scored(
    y_true: Any,
    scored_a: pd.DataFrame,
    scored_b: pd.DataFrame,
    confidence: float = 0.95,
    resamples: int = 2000,
    seed: int = 42,
) -> dict[str, dict[str, float]]:
    """Per metric: A, B, B - A and the paired-bootstrap interval of B - A (same rows)."""
    values_a = classification_metrics(y_true, scored_a)
    values_b = classification_metrics(y_true, scored_b)
    columns_a, of_a = row_statistics(y_true, scored_a)
    columns_b, of_b = row_statistics(y_true, scored_b)
    width = columns_a.shape[1]  # B's columns follow A's
    differences = {
        name: (lambda t, a=of_a[name], b=of_b[name]: b(t[:, width:]) - a(t[:, :width]))
        for name in COMPARED_METRICS
    }
    intervals = bootstrap_intervals(
        np.hstack([columns_a, columns_b]), differences, confidence, resamples, seed
    )
    return {
        name: {
            "a": values_a[name],
            "b": values_b[name],
            "difference": values_b[name] - values_a[name],
            "low": intervals[name][0],
            "high": intervals[name][1],
        }
        for name in COMPARED_METRICS
    }


def _schema(info: VersionInfo) -> dict[str, str] | None:
    try:
        return {column: kind for column, kind in json.loads(info.tags[TAG_SCHEMA])}
    except (KeyError, ValueError, TypeError):
        return None


def schema_difference(a: VersionInfo, b: VersionInfo) -> dict[str, Any]:
    """Columns B adds, removes or types differently from A (by hash when a list is missing)."""
    schema_a, schema_b = _schema(a), _schema(b)
    if schema_a is None or schema_b is None:
        same = a.tags.get(TAG_SCHEMA_HASH) == b.tags.get(TAG_SCHEMA_HASH)
        return {"same": same, "detail": "input schema hashes only (no column list stored)"}
    changed = sorted(c for c in set(schema_a) & set(schema_b) if schema_a[c] != schema_b[c])
    added = sorted(set(schema_b) - set(schema_a))
    removed = sorted(set(schema_a) - set(schema_b))
    return {
        "same": not (added or removed or changed),
        "added": added,
        "removed": removed,
        "changed": {column: [schema_a[column], schema_b[column]] for column in changed},
    }


def build_differences(
    a: VersionInfo,
    b: VersionInfo,
    params_a: Mapping[str, str],
    params_b: Mapping[str, str],
) -> dict[str, Any]:
    """How A and B were built: algorithm, hyperparameters, input schema, data and classes."""

    def pair(tag: str) -> dict[str, Any]:
        value_a, value_b = a.tags.get(tag), b.tags.get(tag)
        return {"a": value_a, "b": value_b, "same": value_a == value_b}

    keys = sorted(
        key
        for key in set(params_a) | set(params_b)
        if key.startswith(HYPERPARAMETER_PREFIX) and params_a.get(key) != params_b.get(key)
    )
    return {
        "algorithm": pair(TAG_ALGORITHM),
        "hyperparameters": {
            key.removeprefix(HYPERPARAMETER_PREFIX): [params_a.get(key), params_b.get(key)]
            for key in keys
        },
        "input_schema": schema_difference(a, b),
        "data_hash": pair(TAG_DATA_HASH),
        "params_hash": pair(TAG_PARAMS_HASH),
        "target_classes": pair(TAG_TARGET_CLASSES),
    }


def _describe(info: VersionInfo) -> dict[str, Any]:
    return {"version": info.version, "semver": info.semver, "run_id": info.run_id}


def compare_versions(
    rows: pd.DataFrame,
    a: VersionInfo,
    b: VersionInfo,
    score: Callable[[VersionInfo, pd.DataFrame], pd.DataFrame],
    *,
    params_a: Mapping[str, str],
    params_b: Mapping[str, str],
    rows_basis: str,
    by: str | None = None,
    confidence: float = 0.95,
    resamples: int = 2000,
    seed: int = 42,
) -> dict[str, Any]:
    """The comparison document ``kedro models compare`` prints (table) or emits (JSON).

    ``score(info, rows)`` returns the version's scored rows; a version that cannot score
    them (another input schema) makes the document ``comparable: false`` with the reason,
    and the build differences are still reported.
    """
    document: dict[str, Any] = {
        "a": _describe(a),
        "b": _describe(b),
        "rows": {"basis": rows_basis, "count": len(rows)},
        "bootstrap": {"confidence": confidence, "resamples": resamples, "seed": seed},
        "differences": build_differences(a, b, params_a, params_b),
        "comparable": True,
        "incompatible": {},
        "overall": None,
        "by": by,
        "slices": [],
    }
    scored = {}
    for label, info in (("a", a), ("b", b)):
        try:
            scored[label] = score(info, rows).reset_index(drop=True)
        except Exception as exc:  # any refusal of the rows is the finding, not a crash
            first_line = (str(exc).strip().splitlines() or [""])[0][:300]
            document["incompatible"][label] = (
                f"v{info.version} cannot score these rows: {type(exc).__name__}: {first_line}"
            )
    if document["incompatible"]:
        document["comparable"] = False
        return document
    rows = rows.reset_index(drop=True)
    y_true = rows[TARGET_COLUMN]
    options = {"confidence": confidence, "resamples": resamples, "seed": seed}
    document["overall"] = compare_scored(y_true, scored["a"], scored["b"], **options)
    if by is not None:
        for value, index in sorted(rows.groupby(by, observed=True).groups.items()):
            where = np.asarray(index)
            document["slices"].append(
                {
                    "value": value.item() if hasattr(value, "item") else value,
                    "rows": len(where),
                    "metrics": compare_scored(
                        y_true.iloc[where],
                        scored["a"].iloc[where],
                        scored["b"].iloc[where],
                        **options,
                    ),
                }
            )
    return document


# ---------------------------------------------------------------- the table
def _label(described: Mapping[str, Any]) -> str:
    return f"v{described['version']} ({described['semver'] or 'no semver'})"


def _metric_lines(metrics: Mapping[str, Mapping[str, float]], confidence: float) -> list[str]:
    names = list(metrics)
    width = max(len(name) for name in [*names, "metric"])
    interval = f"{confidence:.0%} interval of B - A"
    lines = [f"  {'metric'.ljust(width)}  {'A':>8}  {'B':>8}  {'B - A':>8}  {interval}"]
    for name in names:
        m = metrics[name]
        verdict = "" if m["low"] <= 0 <= m["high"] else "  *"
        lines.append(
            f"  {name.ljust(width)}  {m['a']:8.3f}  {m['b']:8.3f}  {m['difference']:+8.3f}  "
            f"[{m['low']:+.3f}, {m['high']:+.3f}]{verdict}"
        )
    return lines


def format_comparison(document: Mapping[str, Any]) -> str:
    """The table for people: the same numbers as the JSON document, rounded to 3 digits."""
    a, b = _label(document["a"]), _label(document["b"])
    rows = document["rows"]
    boot = document["bootstrap"]
    lines = [
        f"A = {a}, B = {b}",
        f"rows: {rows['count']} ({rows['basis']})",
        f"paired bootstrap: {boot['confidence']:.0%} interval, {boot['resamples']} resamples, "
        f"seed {boot['seed']}; * = the interval excludes 0; log_loss: lower is better",
    ]
    if not document["comparable"]:
        lines.append("not comparable on these rows:")
        lines.extend(f"  {reason}" for reason in document["incompatible"].values())
    else:
        lines.append("")
        lines.append("overall")
        lines.extend(_metric_lines(document["overall"], boot["confidence"]))
        for entry in document["slices"]:
            lines.append("")
            lines.append(f"{document['by']} = {entry['value']} ({entry['rows']} rows)")
            lines.extend(_metric_lines(entry["metrics"], boot["confidence"]))
    lines.append("")
    lines.append("differences in how they were built")
    lines.extend(_difference_lines(document["differences"]))
    return "\n".join(lines)


def _difference_lines(differences: Mapping[str, Any]) -> list[str]:
    lines = []
    for key in ("algorithm", "data_hash", "params_hash", "target_classes"):
        entry = differences[key]
        text = f"same ({entry['a']})" if entry["same"] else f"{entry['a']} -> {entry['b']}"
        lines.append(f"  {key}: {text}")
    hyper = differences["hyperparameters"]
    if not hyper:
        lines.append("  hyperparameters: same")
    for name, (value_a, value_b) in hyper.items():
        lines.append(f"  hyperparameter {name}: {value_a} -> {value_b}")
    schema = differences["input_schema"]
    if schema["same"]:
        lines.append("  input_schema: same")
    elif "detail" in schema:
        lines.append(f"  input_schema: different ({schema['detail']})")
    else:
        for what in ("added", "removed"):
            if schema[what]:
                lines.append(f"  input_schema {what}: {', '.join(schema[what])}")
        for column, (kind_a, kind_b) in schema["changed"].items():
            lines.append(f"  input_schema changed: {column} {kind_a} -> {kind_b}")
    return lines
