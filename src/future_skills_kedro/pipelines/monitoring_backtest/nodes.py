"""Drift backtest nodes: replay the labelled quarters, then draw the result.

The replay itself is :mod:`future_skills_kedro.drift.backtest` (shared with monitoring's
calibration); these functions only turn parameters into its arguments and its result into
the report and the plot.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from future_skills_kedro.contract import CATEGORICAL_FEATURES, NUMERIC_FEATURES
from future_skills_kedro.drift import backtest, calibration


def replay_drift_history(
    model_input_table: pd.DataFrame,
    drift_params: dict[str, Any],
    calibration_settings: dict[str, Any],
    holdout_quarters: int,
    backtest_params: dict[str, Any],
) -> dict[str, Any]:
    """Per (quarter, feature): score, threshold, flag; false-alarm rate and detection power
    on injected shifts, against the targets of ``monitoring.backtest``."""
    history = calibration.build_history(model_input_table, NUMERIC_FEATURES, CATEGORICAL_FEATURES)
    result = backtest.replay(
        history,
        drift_params["reference"],
        int(holdout_quarters),
        drift_params,
        calibration_settings,
        backtest_params["injection"],
    )
    targets = backtest_params["targets"]
    far, power = result["false_alarm_rate"]["rate"], result["power"]["rate"]
    result["targets"] = {
        "false_alarm_rate_max": targets["false_alarm_rate_max"],
        "power_min": targets["power_min"],
        "met": far is not None
        and power is not None
        and far <= targets["false_alarm_rate_max"]
        and power >= targets["power_min"],
    }
    result["settings"] = {
        "calibration": dict(calibration_settings),
        "injection": dict(backtest_params["injection"]),
    }
    return result


def plot_drift_backtest(result: dict[str, Any]):
    """Score / threshold per quarter and feature (x: flagged), and power per feature."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    tests = pd.DataFrame(result["tests"])
    features = list(result["by_feature"])
    figure, (grid_ax, power_ax) = plt.subplots(
        1, 2, figsize=(14, 5.5), gridspec_kw={"width_ratios": [3, 1.4]}
    )
    if tests.empty:
        grid_ax.text(0.5, 0.5, "no quarter could be tested", ha="center", va="center")
    else:
        tests["ratio"] = tests["score"].astype(float) / tests["threshold"].astype(float)
        grid = tests.pivot(index="feature", columns="quarter", values="ratio").reindex(features)
        image = grid_ax.imshow(grid.to_numpy(), aspect="auto", cmap="RdYlGn_r", vmin=0, vmax=2)
        flagged = tests.pivot(index="feature", columns="quarter", values="drifted")
        for row, column in zip(
            *np.nonzero(flagged.reindex(features).to_numpy(dtype=bool)), strict=True
        ):
            grid_ax.text(column, row, "x", ha="center", va="center", fontweight="bold")
        grid_ax.set_xticks(range(grid.shape[1]), grid.columns, rotation=60, ha="right")
        grid_ax.set_yticks(range(len(features)), features)
        figure.colorbar(image, ax=grid_ax, label="score / threshold (x: flagged)")
    far = result["false_alarm_rate"]
    grid_ax.set_title(
        f"Normal quarters vs the {result['reference']} reference: "
        f"{far['false_alarms']} false alarm(s) in {far['tests']} tests"
    )
    powers = [result["by_feature"][name]["power"] or 0.0 for name in features]
    power_ax.barh(range(len(features)), powers, color="tab:blue")
    power_ax.set_yticks(range(len(features)), features)
    power_ax.invert_yaxis()
    power_ax.set_xlim(0, 1)
    power_ax.axvline(result["targets"]["power_min"], color="tab:red", linestyle="--")
    rate = result["power"]["rate"]
    power_ax.set_title(
        "Detection power on injected shifts: " + ("n/a" if rate is None else f"{rate:.1%}")
    )
    figure.tight_layout()
    return figure
