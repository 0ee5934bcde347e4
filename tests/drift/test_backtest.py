"""The backtest's injected shifts and its bookkeeping, in-process."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from future_skills_kedro.drift import backtest, calibration
from future_skills_kedro.parameters.monitoring import Backtest, Drift
from future_skills_kedro.parameters.training import DriftCalibration
from tests.drift.test_calibration import history_table


def test_mass_moves_into_the_rarest_category_from_the_most_frequent():
    values = pd.Series(["a"] * 50 + ["b"] * 30 + ["c"] * 20)
    moved, target = backtest.move_mass(values, 0.15, seed=0)
    assert target == "c"
    assert moved.value_counts().to_dict() == {"a": 35, "b": 30, "c": 35}
    # a top category smaller than the move: the next one gives the rest
    moved, target = backtest.move_mass(pd.Series(["x"] * 10 + ["y"] * 8 + ["z"] * 2), 0.75, 0)
    assert target == "z"
    assert moved.value_counts().to_dict() == {"z": 17, "y": 3}


def test_natural_movement_is_the_median_move_of_the_quarterly_mean():
    assert backtest.natural_movement([1.0, 1.1, 1.4, 1.5]) == pytest.approx(0.1)
    assert backtest.natural_movement([2.0]) == 0.0


def test_replay_counts_false_alarms_and_detections_per_feature():
    history = calibration.build_history(history_table(), ["trend", "indicator"], ["team"])
    result = backtest.replay(
        history,
        "holdout",
        2,
        Drift().model_dump(),
        DriftCalibration().model_dump(),
        Backtest().model_dump()["injection"],
    )
    # quarters 0-4 lack the 2 reference + 3 calibration quarters
    assert result["tested_quarters"] == history.quarters[5:]
    assert len(result["skipped_quarters"]) == 5
    assert len(result["tests"]) == 5 * 3
    assert len(result["injected"]) == 5 * (2 + 2 + 1)
    assert result["false_alarm_rate"]["false_alarms"] == sum(t["drifted"] for t in result["tests"])
    # a steady trend and a fixed mix: no false alarm, every injected shift seen
    for name in ("trend", "team"):
        assert (
            result["by_feature"][name] | {"false_alarms": 0, "power": 1.0}
            == (result["by_feature"][name])
        )
    trend = [shift for shift in result["injected"] if shift["feature"] == "trend"]
    assert {np.sign(shift["shift"]) for shift in trend} == {1.0, -1.0}
