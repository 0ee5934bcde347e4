"""Drift thresholds calibrated on a history of quarters whose movement is known."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from future_skills_kedro.drift import calibration, scores
from future_skills_kedro.drift.reference import HOLDOUT, PREVIOUS_WINDOW, TRAINING
from future_skills_kedro.parameters.monitoring import Drift
from future_skills_kedro.parameters.training import DriftCalibration

QUARTERS = pd.date_range("2022-03-31", periods=10, freq="QE")
DRIFT = Drift().model_dump()
SETTINGS = DriftCalibration().model_dump()


def history_table(rows_per_quarter: int = 2000, seed: int = 0) -> pd.DataFrame:
    """A trending market signal, a signal with 4 values per quarter, a stable category."""
    rng = np.random.default_rng(seed)
    frames = []
    for position, quarter in enumerate(QUARTERS):
        frames.append(
            pd.DataFrame(
                {
                    "as_of_date": quarter,
                    # drifts 0.1 std per quarter, like a market signal
                    "trend": rng.normal(0.1 * position, 1.0, rows_per_quarter),
                    # one value per "department", all moving every quarter
                    "indicator": np.repeat(
                        0.5 + 0.02 * position + rng.normal(0, 0.1, 4), rows_per_quarter // 4
                    ),
                    # the same mix every quarter
                    "team": rng.permutation(
                        np.repeat(["a", "b", "c"], np.array([5, 3, 2]) * rows_per_quarter // 10)
                    ),
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


@pytest.fixture(scope="module")
def history() -> calibration.History:
    return calibration.build_history(history_table(), ["trend", "indicator"], ["team"])


def test_thresholds_are_the_margin_times_the_quantile_of_past_quarter_scores(history):
    calibrated = calibration.calibrate(history, 2, DRIFT, SETTINGS)
    trend = calibrated["features"]["trend"]
    assert trend["method"] == "wasserstein"
    # holdout: each quarter against the two before it, recomputed here from the raw rows
    table = history_table()
    expected = []
    for position in range(2, len(QUARTERS)):
        current = table.loc[table["as_of_date"] == QUARTERS[position], "trend"].to_numpy()
        before = table["as_of_date"].isin(QUARTERS[position - 2 : position])
        reference = np.sort(table.loc[before, "trend"].to_numpy())
        expected.append(scores.wasserstein_normed(reference, np.sort(current)))
    assert list(trend["history"][HOLDOUT].values()) == pytest.approx(expected)
    threshold = SETTINGS["margin"] * np.quantile(expected, SETTINGS["quantile"])
    assert trend["thresholds"][HOLDOUT] == pytest.approx(max(threshold, 0.05))
    # the reference kinds see different movement: the pooled older quarters the most
    thresholds = trend["thresholds"]
    assert thresholds[PREVIOUS_WINDOW] < thresholds[HOLDOUT] < thresholds[TRAINING]
    assert calibrated["holdout_quarters"] == ["2024-03-31", "2024-06-30"]


def test_a_normal_quarter_passes_and_a_shifted_one_is_flagged(history):
    calibrated = calibration.calibrate(history, 2, DRIFT, SETTINGS)
    threshold = calibrated["features"]["trend"]["thresholds"][HOLDOUT]
    reference = history.values("trend", [8, 9])
    rng = np.random.default_rng(5)
    normal = np.sort(rng.normal(1.0, 1.0, 2000))  # the next step of the trend
    assert scores.wasserstein_normed(reference, normal) < threshold
    shifted = normal + 0.5
    assert scores.wasserstein_normed(reference, shifted) >= threshold


def test_low_cardinality_numbers_use_the_mean_shift_and_a_floor_holds(history):
    calibrated = calibration.calibrate(history, 2, DRIFT, SETTINGS)
    indicator = calibrated["features"]["indicator"]
    assert indicator["method"] == "mean_shift"
    assert indicator["distinct_values_per_quarter"] == 4
    # a category whose mix never changes: only the floor is left
    team = calibrated["features"]["team"]
    assert team["method"] == "jensenshannon"
    assert max(team["history"][HOLDOUT].values()) == pytest.approx(0.0)
    assert team["thresholds"][HOLDOUT] == SETTINGS["floor"]["categorical"]


def test_too_few_quarters_leave_a_kind_uncalibrated(history):
    short = history.head(4)  # holdout: 2 scores (< min_quarters 3); previous_window: 3
    calibrated = calibration.calibrate(short, 2, DRIFT, SETTINGS)
    thresholds = calibrated["features"]["trend"]["thresholds"]
    assert thresholds[HOLDOUT] is None
    assert thresholds[TRAINING] is None
    assert thresholds[PREVIOUS_WINDOW] is not None


def test_specs_prefer_overrides_then_calibration_then_configuration(history):
    calibrated = calibration.calibrate(history, 2, DRIFT, SETTINGS)
    drift = DRIFT | {"per_column": {"indicator": {"method": "wasserstein", "threshold": 0.3}}}
    specs, sources, note = calibration.resolve_specs(
        drift, calibrated, HOLDOUT, ["trend", "indicator", "absent"], ["team"]
    )
    by_name = {spec.name: spec for spec in specs}
    assert sources == {
        "team": "calibrated",
        "trend": "calibrated",
        "indicator": "override",
        "absent": "configured",
    }
    assert by_name["indicator"].threshold == 0.3
    assert by_name["trend"].threshold == calibrated["features"]["trend"]["thresholds"][HOLDOUT]
    assert by_name["absent"].threshold == DRIFT["numeric"]["threshold"]
    assert "absent" in note


def test_a_champion_without_calibration_uses_the_configured_thresholds():
    specs, sources, note = calibration.resolve_specs(DRIFT, None, HOLDOUT, ["trend"], ["team"])
    assert set(sources.values()) == {"configured"}
    assert [(s.method, s.threshold) for s in specs] == [
        ("jensenshannon", 0.1),
        ("wasserstein", 0.1),
    ]
    assert "no drift calibration" in note
