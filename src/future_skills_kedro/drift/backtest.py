"""The drift backtest: the labelled history replayed through the drift policy.

Each quarter in turn is the "current" window. What the policy would have known then is the
quarters before it: a champion trained on them (its newest ``n_holdout`` quarters held out)
with its thresholds calibrated on them (:mod:`.calibration`), and the reference of the
configured kind. Every (quarter, feature) is tested as it is, where any flag is a false
alarm, and with an injected shift, where a flag is a detection:

* numeric: + and - the larger of 0.5 reference standard deviations and 3x the feature's
  natural quarter-to-quarter movement (the median move of its quarterly mean over the
  history);
* categorical: 15 points of probability mass moved into the least frequent category, taken
  from the most frequent one (and the next ones when it holds less).

Quarters with too few quarters before them to calibrate the thresholds (fewer scores than
``min_quarters``) are not tested.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from future_skills_kedro.drift import calibration, scores
from future_skills_kedro.drift.calibration import History


def natural_movement(means: Sequence[float]) -> float:
    """Median absolute move of a feature's quarterly mean from one quarter to the next."""
    steps = np.abs(np.diff(np.asarray(means, dtype="float64")))
    steps = steps[np.isfinite(steps)]
    return float(np.median(steps)) if steps.size else 0.0


def shift_numeric(values: np.ndarray, delta: float) -> np.ndarray:
    return values + delta


def move_mass(values: pd.Series, share: float, seed: int) -> tuple[pd.Series, str]:
    """``share`` of the rows relabelled to the least frequent category, taken from the most
    frequent categories first (rows at random within a category)."""
    counts = values.value_counts(sort=False)
    ordered = counts.sort_values(ascending=False, kind="stable")
    target = str(ordered.index[-1])
    needed = round(share * len(values))
    rng = np.random.default_rng(seed)
    array = values.to_numpy(dtype=object).copy()
    moved: list[np.ndarray] = []
    for category in ordered.index[:-1]:
        if needed <= 0:
            break
        rows = rng.permutation(np.flatnonzero(array == category))[:needed]
        moved.append(rows)
        needed -= rows.size
    if moved:
        array[np.concatenate(moved)] = target
    return pd.Series(array, dtype=values.dtype), target


def _test(spec: scores.ColumnSpec, reference: Any, current: Any) -> tuple[float | None, bool]:
    if len(reference) == 0 or len(current) == 0:
        return None, True
    value = scores.score_column(reference, current, spec.kind, spec.method)
    return (float(value) if np.isfinite(value) else None), spec.is_drifted(value)


def replay(
    history: History,
    kind: str,
    n_holdout: int,
    drift_params: Mapping[str, Any],
    calibration_settings: Mapping[str, Any],
    injection: Mapping[str, Any],
) -> dict[str, Any]:
    """Per (quarter, feature): score, threshold, flag, and the injected shifts' verdicts."""
    numeric, categorical = list(history.numeric), list(history.categorical)
    tests: list[dict[str, Any]] = []
    injected: list[dict[str, Any]] = []
    skipped: list[dict[str, str]] = []
    for position, quarter in enumerate(history.quarters):
        positions = calibration.reference_positions(position, kind, n_holdout)
        past = history.head(position)
        known = calibration.calibrate(
            past, n_holdout, drift_params, calibration_settings, kinds=(kind,)
        )
        specs, sources, _ = calibration.resolve_specs(
            drift_params, known, kind, numeric, categorical
        )
        uncalibrated = [
            name
            for name, entry in known["features"].items()
            if entry["thresholds"].get(kind) is None and "note" not in entry
        ]
        if positions is None or uncalibrated:
            skipped.append(
                {
                    "quarter": quarter,
                    "reason": f"{position} quarter(s) before it: too few to calibrate {kind} "
                    "thresholds (training.drift_calibration.min_quarters)",
                }
            )
            continue
        for spec in specs:
            reference = history.values(spec.name, positions)
            current = history.values(spec.name, [position])
            score, drifted = _test(spec, reference, current)
            tests.append(
                {
                    "quarter": quarter,
                    "feature": spec.name,
                    "method": spec.method,
                    "threshold_source": sources[spec.name],
                    "score": score,
                    "threshold": spec.threshold,
                    "drifted": drifted,
                }
            )
            for shift in _shifts(history, spec, position, reference, current, injection):
                score, drifted = _test(spec, reference, shift.pop("values"))
                injected.append(
                    {"quarter": quarter, "feature": spec.name, "method": spec.method}
                    | shift
                    | {"score": score, "threshold": spec.threshold, "detected": drifted}
                )
    return summarise(kind, n_holdout, history.quarters, tests, injected, skipped)


def _shifts(
    history: History,
    spec: scores.ColumnSpec,
    position: int,
    reference: Any,
    current: Any,
    injection: Mapping[str, Any],
) -> list[dict[str, Any]]:
    if spec.kind == scores.NUMERIC:
        means = [float(values.mean()) for values in history.numeric[spec.name][:position]]
        movement = natural_movement(means)
        delta = max(
            float(injection["numeric_std"]) * float(np.std(reference)),
            float(injection["numeric_movement_multiple"]) * movement,
        )
        return [
            {"shift": sign * delta, "natural_movement": movement, "values": current + sign * delta}
            for sign in (1.0, -1.0)
        ]
    moved, target = move_mass(current, float(injection["categorical_mass"]), position)
    return [{"shift": float(injection["categorical_mass"]), "into": target, "values": moved}]


def _rate(hits: int, total: int) -> float | None:
    return hits / total if total else None


def summarise(
    kind: str,
    n_holdout: int,
    quarters: Sequence[str],
    tests: list[dict[str, Any]],
    injected: list[dict[str, Any]],
    skipped: list[dict[str, str]],
) -> dict[str, Any]:
    """False-alarm rate over all tests, detection power over all injected shifts."""
    false_alarms = sum(bool(test["drifted"]) for test in tests)
    detected = sum(bool(shift["detected"]) for shift in injected)
    by_feature: dict[str, dict[str, Any]] = {}
    for name in dict.fromkeys(test["feature"] for test in tests):
        own = [t for t in tests if t["feature"] == name]
        shifts = [s for s in injected if s["feature"] == name]
        alarms = sum(bool(t["drifted"]) for t in own)
        hits = sum(bool(s["detected"]) for s in shifts)
        by_feature[name] = {
            "method": own[0]["method"],
            "tests": len(own),
            "false_alarms": alarms,
            "false_alarm_rate": _rate(alarms, len(own)),
            "injected": len(shifts),
            "detected": hits,
            "power": _rate(hits, len(shifts)),
        }
    return {
        "reference": kind,
        "holdout_quarters": n_holdout,
        "quarters": list(quarters),
        "tested_quarters": sorted({test["quarter"] for test in tests}),
        "skipped_quarters": skipped,
        "false_alarm_rate": {
            "tests": len(tests),
            "false_alarms": false_alarms,
            "rate": _rate(false_alarms, len(tests)),
        },
        "power": {
            "injected": len(injected),
            "detected": detected,
            "rate": _rate(detected, len(injected)),
        },
        "by_feature": by_feature,
        "tests": tests,
        "injected": injected,
    }
