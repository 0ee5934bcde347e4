"""`kedro run --pipelines monitoring` through the real CLI: a real champion, real logs.

The module trains once (`kedro run --pipelines training` on a small generated world, with
fast model settings), writes prediction logs scored by that champion for four windows of
known health, then runs the monitoring pipeline per window and exit policy.
"""

from __future__ import annotations

import json
import pickle
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from future_skills_kedro.contract import FEATURE_COLUMNS, NUMERIC_FEATURES
from future_skills_kedro.datagen import GeneratorConfig, generate, write
from future_skills_kedro.datasets import append_prediction_logs
from future_skills_kedro.prediction_log import prediction_log_records
from future_skills_kedro.scoring import predict_need_levels
from tests.conftest import copy_project, kedro_env, run_kedro

pytestmark = pytest.mark.integration

OUTPUTS = Path("data/08_reporting/monitoring")
LOGS = Path("data/07_model_output/prediction_logs")
FAST_TRAINING = ",".join(
    [
        "training.permutation_importance.n_repeats=1",
        "training.permutation_importance.max_rows=1000",
    ]
)
# Window end dates (7-day windows) and what was logged in them.
HEALTHY, DEGRADED, UNHEALTHY, EMPTY = "2025-06-07", "2025-06-17", "2025-06-27", "2025-05-20"
# Nothing logged and the champion old by then: a fired degraded rule must not hide no_data.
EMPTY_OLD_CHAMPION = "2099-12-31"


def _env(project: Path) -> dict[str, str]:
    # A wide console: rich would otherwise wrap the exit-policy message.
    return kedro_env(project) | {"COLUMNS": "1000"}


def _log_window(project: Path, classifier, rows: pd.DataFrame, end: str, seed: int) -> int:
    """Score ``rows`` with the champion's classifier and log them over the window's 7 days."""
    scored = predict_need_levels(classifier, rows)
    first = pd.Timestamp(end, tz="UTC") - pd.Timedelta(days=6)
    day = np.random.default_rng(seed).integers(0, 7, len(rows))
    records = prediction_log_records(
        rows,
        scored,
        purpose="production",
        model_name="future-skills-model",
        model_version="1",
        model_semver="1.0.0",
        model_alias="champion",
        latency_ms=3.0,
        scored_at=list(first + pd.to_timedelta(day * 24 + 9, unit="h")),
    )
    append_prediction_logs(records, project / LOGS)
    return len(records)


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    project = copy_project(tmp_path_factory.mktemp("monitoring"))
    world = generate(GeneratorConfig(seed=21, n_roles=20, n_quarters=8))
    write(world, project / "data" / "01_raw")
    trained = run_kedro(
        project, "run", "--pipelines", "training", "--params", FAST_TRAINING, env=_env(project)
    )
    assert trained.returncode == 0, trained.stdout[-4000:] + trained.stderr[-4000:]

    classifier = pickle.loads((project / "data/06_models/classifier.pkl").read_bytes())
    holdout = set(world.oracle["quarters"]["holdout"])
    train = world.features.loc[~world.features["as_of_date"].isin(holdout)]
    rows = train.loc[:, ["job_role_id", "skill_id", "as_of_date", *FEATURE_COLUMNS]]
    rows = rows.reset_index(drop=True)

    # Healthy: the champion's own training population.
    _log_window(project, classifier, rows, HEALTHY, seed=1)
    # Degraded: the same, plus 1 % corrupt lines (rule corrupt_logs_warning).
    logged = _log_window(project, classifier, rows, DEGRADED, seed=2)
    with (project / LOGS / "predictions_20250615.jsonl").open("a") as handle:
        handle.write("{torn line\n" * (logged // 100))
    # Unhealthy: every numeric feature one standard deviation off (8 of 13 features drift),
    # economic_indicator four: its quarters' means move up to 2.7 of its standard deviations
    # from the pooled training quarters, and its calibrated threshold says so.
    shifted = rows.copy()
    for column in NUMERIC_FEATURES:
        times = 4.0 if column == "economic_indicator" else 1.0
        shifted[column] = shifted[column] + times * shifted[column].std()
    _log_window(project, classifier, shifted, UNHEALTHY, seed=3)
    return project


def _monitor(project: Path, end: str, *params: str) -> subprocess.CompletedProcess:
    # The windows log the champion's training population (pooled quarters): compared with
    # its training quarters (test_drift_on_a_new_quarter.py covers the default, holdout).
    values = ",".join(
        [f"monitoring.window.end_date={end}", "monitoring.drift.reference=training", *params]
    )
    return run_kedro(
        project, "run", "--pipelines", "monitoring", "--params", values, env=_env(project)
    )


def _summary(project: Path) -> dict:
    return json.loads((project / OUTPUTS / "monitoring_summary.json").read_text())


def _output(result: subprocess.CompletedProcess) -> str:
    return result.stdout + result.stderr


def test_healthy_window_exits_zero_and_is_reproducible(project, promtool):
    first = _monitor(project, HEALTHY)
    assert first.returncode == 0, _output(first)[-4000:]
    summary = _summary(project)
    assert summary["status"] == "healthy", summary["health"]["issues"]
    assert summary["window"] == summary["window"] | {"start": "2025-06-01", "end": HEALTHY}
    assert summary["reference"]["version"] == "1"
    assert summary["drift"]["engine"] == "evidently"
    assert summary["drift"]["drifted_features"] == []
    assert summary["drift"]["reference"]["kind"] == "training"
    assert summary["drift"]["thresholds"]["calibrated"] is True
    assert summary["performance"]["status"] == "assessed"
    assert "monitoring status HEALTHY for 2025-06-01..2025-06-07" in _output(first)
    html = (project / OUTPUTS / "drift_report.html").read_text()
    assert "drawDashboard" in html  # Evidently's report
    prom = project / OUTPUTS / "metrics.prom"
    with prom.open() as handle:
        check = subprocess.run(
            [promtool, "check", "metrics"],
            stdin=handle,
            capture_output=True,
            text=True,
            check=False,
        )
    assert check.returncode == 0, check.stdout + check.stderr

    second = _monitor(project, HEALTHY)
    assert second.returncode == 0, _output(second)[-4000:]
    assert _summary(project) == summary


def test_degraded_passes_the_default_policy_and_fails_fail_on_degraded(project):
    result = _monitor(project, DEGRADED)
    assert result.returncode == 0, _output(result)[-4000:]
    summary = _summary(project)
    assert summary["status"] == "degraded"
    assert summary["window"]["corrupt_lines"] > 0
    assert [i["rule"] for i in summary["health"]["issues"]] == ["corrupt_logs_warning"]

    result = _monitor(project, DEGRADED, "monitoring.exit_policy.fail_on=degraded")
    assert result.returncode != 0
    assert "MonitoringStatusError" in _output(result)
    assert "monitoring status DEGRADED for 2025-06-11..2025-06-17" in _output(result)
    assert "corrupt prediction-log lines" in _output(result)
    # Everything was published before the run failed.
    assert _summary(project)["status"] == "degraded"
    assert (
        "future_skills_health_status_code 1.0" in (project / OUTPUTS / "metrics.prom").read_text()
    )


def test_unhealthy_fails_unless_the_policy_is_never(project):
    result = _monitor(project, UNHEALTHY)
    assert result.returncode != 0
    assert "monitoring status UNHEALTHY" in _output(result)
    summary = _summary(project)
    assert summary["status"] == "unhealthy"
    assert set(summary["drift"]["drifted_features"]) == set(NUMERIC_FEATURES)
    assert summary["retrain_recommended"] is True

    result = _monitor(project, UNHEALTHY, "monitoring.exit_policy.fail_on=never")
    assert result.returncode == 0, _output(result)[-4000:]


@pytest.mark.parametrize(
    ("end", "start", "issues"),
    [
        (EMPTY, "2025-05-14", ["no_data"]),
        (EMPTY_OLD_CHAMPION, "2099-12-25", ["no_data", "model_age"]),
    ],
)
def test_empty_window_is_no_data_and_fails_by_default(project, end, start, issues):
    result = _monitor(project, end)
    assert result.returncode == 1, _output(result)[-4000:]
    assert f"monitoring status NO_DATA for {start}..{end}" in _output(result)
    summary = _summary(project)
    assert summary["status"] == "no_data"
    assert summary["window"]["predictions"] == 0
    assert [issue["rule"] for issue in summary["health"]["issues"]] == issues


def test_runs_are_tracked_in_production_monitoring(project):
    import mlflow

    expected_code = {
        HEALTHY: 0.0,
        DEGRADED: 1.0,
        UNHEALTHY: 2.0,
        EMPTY: -1.0,
        EMPTY_OLD_CHAMPION: -1.0,
    }
    failing = {"unhealthy": {2.0, -1.0}, "degraded": {1.0, 2.0, -1.0}, "never": set()}
    client = mlflow.MlflowClient(tracking_uri=kedro_env(project)["MLFLOW_TRACKING_URI"])
    experiment = client.get_experiment_by_name("production-monitoring")
    assert experiment is not None
    runs = client.search_runs([experiment.experiment_id])
    assert runs, "no monitoring run was tracked"
    for run in runs:
        params, metrics = run.data.params, run.data.metrics
        code = expected_code[params["monitoring.window.end_date"]]
        assert metrics["monitoring.health_status_code"] == code
        should_fail = code in failing[params["monitoring.exit_policy.fail_on"]]
        assert run.info.status == ("FAILED" if should_fail else "FINISHED")
        artifacts = {a.path for a in client.list_artifacts(run.info.run_id, "monitoring")}
        assert artifacts == {"monitoring/monitoring_summary.json", "monitoring/drift_report.html"}
        if code >= 0:
            assert "monitoring.drift_score.trend_score" in metrics
