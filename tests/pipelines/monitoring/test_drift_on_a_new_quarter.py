"""A new user's sequence on a fresh copy: train, score a normal new quarter, monitor.

The committed sample's signals are extended by one quarter that copies the newest one
(re-dated): a normal quarter. Against the champion's holdout quarters, with thresholds
calibrated on the labelled history, monitoring must call it healthy with no feature flagged;
two market features of that quarter moved half-way towards 1 must be exactly the ones
flagged, and the status not healthy.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from tests.conftest import FAST_TRAINING_PARAMS, copy_project, run_kedro

pytestmark = pytest.mark.integration

RAW = Path("data/01_raw")
SUMMARY = Path("data/08_reporting/monitoring/monitoring_summary.json")
LOGS = Path("data/07_model_output/prediction_logs")
NEW_QUARTER = "2026-03-31"
SHIFTED = ("trend_score", "scarcity_index")
SIGNAL_FILES = ("market_signals", "economic_indicators", "internal_signals")


def _add_copy_of_newest_quarter(project: Path) -> None:
    for name in SIGNAL_FILES:
        path = project / RAW / f"{name}.csv"
        table = pd.read_csv(path, dtype=str, keep_default_na=False)
        newest = table.loc[table["as_of_date"] == table["as_of_date"].max()].copy()
        newest["as_of_date"] = NEW_QUARTER
        pd.concat([table, newest]).to_csv(path, index=False)


def _shift_new_quarter(project: Path) -> None:
    path = project / RAW / "market_signals.csv"
    table = pd.read_csv(path, dtype=str, keep_default_na=False)
    new = table["as_of_date"] == NEW_QUARTER
    for column in SHIFTED:  # shares stay in [0, 1]: half-way towards 1
        values = table.loc[new, column].astype(float)
        table.loc[new, column] = (values + 0.5 * (1.0 - values)).round(4).astype(str)
    table.to_csv(path, index=False)


def _run(project: Path, *args: str) -> None:
    result = run_kedro(project, "run", *args)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]


def _monitor(project: Path) -> dict:
    # fail_on=never: the status is asserted here, not the exit policy
    _run(project, "--pipelines", "monitoring", "--params", "monitoring.exit_policy.fail_on=never")
    return json.loads((project / SUMMARY).read_text())


def test_a_normal_new_quarter_is_healthy_and_two_shifted_features_are_exactly_flagged(
    tmp_path,
):
    project = copy_project(tmp_path)
    _add_copy_of_newest_quarter(project)
    _run(project, "--pipelines", "training", "--params", FAST_TRAINING_PARAMS)
    _run(project, "--pipelines", "inference")

    summary = _monitor(project)
    drift = summary["drift"]
    assert drift["reference"]["kind"] == "holdout"
    assert (drift["reference"]["start_date"], drift["reference"]["end_date"]) == (
        "2025-06-30",
        "2025-09-30",
    )
    assert drift["thresholds"]["calibrated"] is True
    assert drift["features"]["trend_score"]["threshold_source"] == "calibrated"
    assert drift["drifted_features"] == [], drift["features"]
    assert summary["status"] == "healthy", summary["health"]["issues"]
    assert summary["window"]["predictions"] > 0

    _shift_new_quarter(project)
    shutil.rmtree(project / LOGS)
    _run(project, "--pipelines", "inference")
    summary = _monitor(project)
    assert sorted(summary["drift"]["drifted_features"]) == sorted(SHIFTED)
    assert summary["status"] != "healthy"
