"""`kedro run --pipelines monitoring_backtest` on a fresh copy: the report's figures
recomputed from its own per-test rows, and the targets on the committed sample."""

from __future__ import annotations

import json

import pytest

from tests.conftest import run_kedro

pytestmark = pytest.mark.integration


def test_backtest_reports_false_alarms_and_power_that_its_rows_support(project_copy):
    result = run_kedro(project_copy, "run", "--pipelines", "monitoring_backtest")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    folder = project_copy / "data/08_reporting/monitoring"
    report = json.loads((folder / "drift_backtest.json").read_text())
    assert (folder / "drift_backtest.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    tests, injected = report["tests"], report["injected"]
    quarters = {test["quarter"] for test in tests}
    assert len(quarters) >= 8 and report["reference"] == "holdout"
    assert len(tests) == 13 * len(quarters)  # every feature of every tested quarter
    for row in [*tests, *injected]:  # every verdict is its score against its threshold
        flagged = row.get("drifted", row.get("detected"))
        assert flagged == (row["score"] >= row["threshold"]), row
    false_alarm_rate = sum(test["drifted"] for test in tests) / len(tests)
    power = sum(shift["detected"] for shift in injected) / len(injected)
    assert report["false_alarm_rate"]["rate"] == pytest.approx(false_alarm_rate)
    assert report["power"]["rate"] == pytest.approx(power)
    # numeric features: two shifts (+/-) per test, categorical ones: one mass move
    assert len(injected) == len(quarters) * (8 * 2 + 5)
    assert false_alarm_rate <= 0.05
    assert power >= 0.95
    assert report["targets"]["met"] is True
