"""Window reading from real log files, corrupt lines, empty windows, health rules, exit policy."""

from __future__ import annotations

import json
import subprocess
from dataclasses import replace
from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from pydantic import ValidationError

from future_skills_kedro.contract import NEED_LEVELS
from future_skills_kedro.datasets import PredictionLogWindowDataset, append_prediction_logs
from future_skills_kedro.parameters.errors import InvalidParameters, raise_invalid
from future_skills_kedro.parameters.monitoring import HealthRule, MonitoringParameters
from future_skills_kedro.pipelines.monitoring import health, nodes
from future_skills_kedro.pipelines.monitoring.nodes import MonitoringStatusError
from tests.pipelines.monitoring import scenarios

WINDOW = {
    "end_date": date.fromisoformat(scenarios.WINDOW_END),
    "days": scenarios.WINDOW_DAYS,
    "purposes": ["production"],
}


@pytest.fixture(scope="module")
def stationary():
    return scenarios.stationary(seed=3)


def run_monitoring(log_dir: Path, reference, labels, params: dict) -> tuple[dict, str, str]:
    """Every node of the pipeline in order, from real log files: summary, HTML, metrics.prom."""
    reader = PredictionLogWindowDataset(str(log_dir)).load()
    predictions, window = nodes.load_prediction_window(reader, params["window"])
    info = nodes.describe_reference(reference, window, params["health"]["important_features"])
    feature_drift, report = nodes.detect_feature_drift(predictions, reference, params["drift"])
    prediction_drift = nodes.detect_prediction_drift(
        predictions, reference, params["prediction_drift"]
    )
    performance = nodes.evaluate_performance(predictions, labels, reference, params["performance"])
    estimate = nodes.estimate_performance(
        predictions, labels, reference, params["performance_estimate"]
    )
    verdict = nodes.assess_health(
        window, info, feature_drift, prediction_drift, performance, params["health"], estimate
    )
    summary, metrics = nodes.build_summary(
        window, info, feature_drift, prediction_drift, performance, verdict, estimate
    )
    assert all(set(value) == {"value", "step"} for value in metrics.values())
    prom, pushed = nodes.render_prometheus_metrics(summary)
    assert prom == pushed
    # What the JSON dataset writes and reads back.
    return json.loads(json.dumps(summary, allow_nan=False)), report, prom


def check_with_promtool(promtool: str, text: str) -> None:
    result = subprocess.run(
        [promtool, "check", "metrics"], input=text, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == "" and result.stderr.strip() == ""


def test_corrupt_lines_are_counted_and_reported(tmp_path, stationary, params, promtool):
    params["window"] = WINDOW
    params["drift"]["engine"] = "builtin"
    log_dir = tmp_path / "logs"
    predictions = stationary.predictions()
    append_prediction_logs(predictions, log_dir)
    day_file = log_dir / "predictions_20250627.jsonl"
    good_line = day_file.read_text().splitlines()[0]
    corrupt = (
        [
            "{not json",
            '{"timestamp": "2025-06-27T01:00:00Z"}',  # a JSON object missing every other field
            good_line[: len(good_line) // 2],  # a torn write
        ]
        * 10
    )
    with day_file.open("a") as handle:
        handle.write("\n".join(corrupt) + "\n")

    summary, _, prom = run_monitoring(log_dir, stationary.reference, stationary.labels, params)
    window = summary["window"]
    assert window["predictions"] == len(predictions)
    assert window["corrupt_lines"] == 30
    assert window["lines_read"] == len(predictions) + 30
    assert window["corrupt_line_share"] == pytest.approx(30 / (len(predictions) + 30))
    assert len(window["corrupt_examples"]) == 5
    assert window["corrupt_examples"][0]["file"] == str(day_file)
    assert {e["reason"] for e in window["corrupt_examples"]} >= {"invalid JSON"}
    issue = next(i for i in summary["health"]["issues"] if i["rule"] == "corrupt_logs_warning")
    assert issue["severity"] == "degraded"
    assert summary["status"] == "degraded"
    assert "future_skills_monitoring_log_corrupt_lines 30.0" in prom
    check_with_promtool(promtool, prom)


@pytest.mark.parametrize("logs", ["outside", "none"])
def test_an_empty_window_is_no_data_not_a_crash(tmp_path, stationary, params, promtool, logs):
    params["window"] = WINDOW
    log_dir = tmp_path / "logs"
    if logs == "outside":  # logs exist, but a month before the window
        old = stationary.predictions()
        old["timestamp"] = old["timestamp"] - pd.Timedelta(days=40)
        append_prediction_logs(old, log_dir)

    summary, report, prom = run_monitoring(log_dir, stationary.reference, stationary.labels, params)
    assert summary["status"] == health.NO_DATA
    assert summary["window"]["predictions"] == 0
    reason = "no predictions logged between 2025-06-24 and 2025-06-30"
    assert summary["health"]["no_data_reason"] == reason
    assert summary["health"]["issues"] == [
        {"rule": "no_data", "severity": "no_data", "message": reason}
    ]
    assert summary["drift"]["status"] == "skipped"
    assert summary["performance"]["status"] == "no_labels"
    assert summary["retrain_recommended"] is False
    assert "no predictions logged in the window" in report
    assert 'future_skills_health_status{status="no_data"} 1.0' in prom
    assert "future_skills_health_status_code -1.0" in prom
    check_with_promtool(promtool, prom)

    with pytest.raises(MonitoringStatusError, match=r"monitoring status NO_DATA .*no predictions"):
        nodes.enforce_exit_policy(summary, prom, None, params["exit_policy"])
    nodes.enforce_exit_policy(summary, prom, None, {"fail_on": "never"})
    nodes.enforce_exit_policy(
        summary, prom, None, {"fail_on": "unhealthy", "fail_on_no_data": False}
    )


def test_an_empty_window_is_no_data_whatever_else_fires(tmp_path, stationary, params, promtool):
    # The champion is old at the window's end (model_age fires) and nothing was logged in
    # the window: this was `degraded` and exited 0, so a silent inference job went unseen.
    params = scenarios.validated(params | {"window": {"end_date": "2099-12-31", "days": 7}})
    log_dir = tmp_path / "logs"
    append_prediction_logs(stationary.predictions(), log_dir)  # logs, all before the window

    summary, _, prom = run_monitoring(log_dir, stationary.reference, stationary.labels, params)
    assert summary["status"] == health.NO_DATA
    assert [i["rule"] for i in summary["health"]["issues"]] == ["no_data", "model_age"]
    assert summary["retrain_recommended"] is False
    assert 'future_skills_health_status{status="no_data"} 1.0' in prom
    assert 'future_skills_health_status{status="degraded"} 0.0' in prom
    check_with_promtool(promtool, prom)

    with pytest.raises(
        MonitoringStatusError,
        match=r"monitoring status NO_DATA for 2099-12-25\.\.2099-12-31: no predictions logged "
        r"between 2099-12-25 and 2099-12-31; the champion is old: model_age_days = ",
    ):
        nodes.enforce_exit_policy(summary, prom, None, params["exit_policy"])
    # no_data accepted: the degraded rule alone does not fail fail_on=unhealthy...
    accepted = {"fail_on": "unhealthy", "fail_on_no_data": False}
    nodes.enforce_exit_policy(summary, prom, None, accepted)
    # ...but fails fail_on=degraded.
    with pytest.raises(MonitoringStatusError, match=r"NO_DATA .*fail_on=degraded"):
        nodes.enforce_exit_policy(summary, prom, None, accepted | {"fail_on": "degraded"})


def test_a_window_of_corrupt_lines_only_is_no_data_and_still_fails(tmp_path, stationary, params):
    params["window"] = WINDOW
    log_dir = tmp_path / "logs"
    log_dir.mkdir()
    (log_dir / "predictions_20250627.jsonl").write_text("{torn line\n" * 20)

    summary, _, _ = run_monitoring(log_dir, stationary.reference, stationary.labels, params)
    assert summary["status"] == health.NO_DATA
    assert summary["window"] | {"predictions": 0, "corrupt_lines": 20} == summary["window"]
    assert [i["rule"] for i in summary["health"]["issues"]] == ["no_data", "corrupt_logs_critical"]
    # Accepting no_data does not accept a window whose every line is corrupt.
    with pytest.raises(MonitoringStatusError, match=r"NO_DATA .*many corrupt prediction-log"):
        nodes.enforce_exit_policy(
            summary, "", None, {"fail_on": "unhealthy", "fail_on_no_data": False}
        )
    nodes.enforce_exit_policy(summary, "", None, {"fail_on": "never"})


def test_no_champion_is_no_data(tmp_path, stationary, params, promtool):
    params["window"] = WINDOW
    log_dir = tmp_path / "logs"
    append_prediction_logs(stationary.predictions(), log_dir)
    summary, _, prom = run_monitoring(log_dir, None, stationary.labels, params)
    assert summary["status"] == health.NO_DATA
    assert summary["reference"] is None
    assert summary["health"]["no_data_reason"].startswith("no champion model")
    assert "future_skills_model_info" not in prom
    check_with_promtool(promtool, prom)


def test_the_same_window_gives_the_same_summary(tmp_path, stationary, params):
    params["window"] = WINDOW
    log_dir = tmp_path / "logs"
    append_prediction_logs(scenarios.shift_features(stationary).predictions(), log_dir)
    first, _, first_prom = run_monitoring(log_dir, stationary.reference, stationary.labels, params)
    second, _, second_prom = run_monitoring(
        log_dir, stationary.reference, stationary.labels, params
    )
    assert first == second
    assert first["status"] == "degraded"

    # metrics.prom differs only by its last-success timestamp.
    def _without_clock(text):
        return [line for line in text.splitlines() if "last_success_timestamp_seconds " not in line]

    assert _without_clock(first_prom) == _without_clock(second_prom)


def test_model_age_and_prediction_volume_rules(tmp_path, stationary, params):
    params["window"] = WINDOW
    params["drift"]["engine"] = "builtin"
    log_dir = tmp_path / "logs"
    predictions = stationary.predictions()
    append_prediction_logs(predictions, log_dir)
    old = replace(stationary.reference, created_at="2024-06-30T00:00:00Z")

    summary, _, _ = run_monitoring(log_dir, old, stationary.labels, params)
    assert summary["reference"]["model_age_days"] == pytest.approx(366.0)
    skipped = {s["rule"]: s["reason"] for s in summary["health"]["skipped_rules"]}
    assert skipped == {"low_volume": "monitoring.health.expected_predictions_per_day is not set"}
    assert [i["rule"] for i in summary["health"]["issues"]] == ["model_age"]
    assert summary["retrain_reasons"] == ["the champion is old: model_age_days = 366 >= 180"]

    # Expecting three times the volume actually logged.
    params["health"]["expected_predictions_per_day"] = 3 * len(predictions) / 7
    summary, _, _ = run_monitoring(log_dir, stationary.reference, stationary.labels, params)
    issue = next(i for i in summary["health"]["issues"] if i["rule"] == "low_volume")
    assert issue["value"] == pytest.approx(1 / 3)
    assert summary["status"] == "degraded"
    assert summary["retrain_recommended"] is False


def test_severity_combination():
    rules = {
        name: HealthRule.model_validate(rule).model_dump()  # as checked parameters arrive
        for name, rule in {
            "warn": {"signal": "drift_share", "threshold": 0.3, "severity": "degraded"},
            "crit": {"signal": "drift_share", "threshold": 0.6, "severity": "unhealthy"},
            "age": {"signal": "model_age_days", "threshold": 10, "severity": "degraded"},
        }.items()
    }
    verdict = health.assess({"drift_share": 0.7, "model_age_days": 11.0}, {}, rules)
    assert verdict["status"] == "unhealthy"
    assert [i["rule"] for i in verdict["issues"]] == ["crit", "age"]
    verdict = health.assess({"drift_share": 0.4, "model_age_days": 1.0}, {}, rules)
    assert verdict["status"] == "degraded"
    verdict = health.assess({"drift_share": 0.1}, {"model_age_days": "no champion"}, rules)
    assert verdict["status"] == "healthy"
    assert verdict["skipped_rules"] == [
        {"rule": "age", "signal": "model_age_days", "reason": "no champion"}
    ]


@pytest.mark.parametrize(
    ("status", "fail_on", "fails"),
    [
        ("healthy", "degraded", False),
        ("degraded", "unhealthy", False),
        ("degraded", "degraded", True),
        ("unhealthy", "unhealthy", True),
        ("unhealthy", "degraded", True),
        ("unhealthy", "never", False),
    ],
)
def test_exit_policy(status, fail_on, fails):
    issues = [] if status == "healthy" else [{"severity": status, "message": "drift_share = 0.7"}]
    summary = {
        "status": status,
        "window": {"start": "2025-06-24", "end": "2025-06-30"},
        "health": {"issues": issues},
        "retrain_recommended": status != "healthy",
    }
    policy = {"fail_on": fail_on, "fail_on_no_data": True}
    if fails:
        message = (
            f"monitoring status {status.upper()} for 2025-06-24..2025-06-30: drift_share = 0.7 "
            f"(retrain recommended) [exit_policy.fail_on={fail_on}]"
        )
        with pytest.raises(MonitoringStatusError) as raised:
            nodes.enforce_exit_policy(summary, "", {"enabled": False}, policy)
        assert str(raised.value) == message
    else:
        nodes.enforce_exit_policy(summary, "", {"enabled": False}, policy)


def test_window_resolution():
    today = date(2025, 7, 1)
    assert nodes.resolve_window({"end_date": None, "days": 7}, today) == (
        date(2025, 6, 25),
        today,
    )
    assert nodes.resolve_window({"end_date": date(2025, 6, 30), "days": 1}) == (
        date(2025, 6, 30),
        date(2025, 6, 30),
    )


def _prom_value(prom: str, name: str) -> float:
    (line,) = [line for line in prom.splitlines() if line.startswith(f"{name} ")]
    return float(line.split()[-1])


def test_wrong_typed_records_never_count_as_predictions(tmp_path, stationary, params, promtool):
    """Issue 11 item 3: the record is corrupt, with its reason; level counts add up."""
    params["window"] = WINDOW
    params["drift"]["engine"] = "builtin"
    log_dir = tmp_path / "logs"
    predictions = stationary.predictions()
    append_prediction_logs(predictions, log_dir)
    day_file = log_dir / "predictions_20250627.jsonl"
    record = json.loads(day_file.read_text().splitlines()[0])
    record |= {"prediction": 42, "confidence": "high"}
    record["features"]["trend_score"] = "high"  # a string where a number belongs
    with day_file.open("a") as handle:
        handle.write(json.dumps(record) + "\n")

    summary, _, prom = run_monitoring(log_dir, stationary.reference, stationary.labels, params)

    window = summary["window"]
    assert window["predictions"] == len(predictions)
    assert window["corrupt_lines"] == 1
    assert window["corrupt_examples"][0]["reason"] == (
        'features.trend_score: "high" is not a number; prediction: 42 is not one of LOW, '
        'MEDIUM, HIGH; confidence: "high" is not a number in [0, 1]'
    )
    counts = summary["prediction_drift"]["class_mix"]["current_counts"]
    assert set(counts) == set(NEED_LEVELS)
    levels = [
        float(line.split()[-1])
        for line in prom.splitlines()
        if line.startswith("future_skills_predictions{level=")
    ]
    assert sum(levels) == _prom_value(prom, "future_skills_monitoring_window_predictions")
    assert _prom_value(prom, "future_skills_monitoring_log_corrupt_lines") == 1.0
    check_with_promtool(promtool, prom)


def test_monitoring_reads_production_records_only_and_counts_the_rest(
    tmp_path, stationary, params, promtool
):
    """Issue 18 item 3: a challenger's (shadow) and a re-scored quarter's (backfill) records in
    the same files change nothing in production's monitoring; the summary counts them."""
    params["window"] = WINDOW
    params["drift"]["engine"] = "builtin"
    production = stationary.predictions()
    shifted = scenarios.shift_features(stationary)  # what a different model input would look like
    shadow = scenarios.log_frame(shifted.world, shifted.production, purpose="shadow", seed=5)
    shadow["model_version"] = "4"
    backfill = scenarios.log_frame(
        stationary.world, stationary.production.head(500), purpose="backfill", seed=6
    )
    mixed, alone = tmp_path / "mixed", tmp_path / "production_only"
    for records in (production, shadow, backfill):
        append_prediction_logs(records, mixed)
    append_prediction_logs(production, alone)

    summary, _, prom = run_monitoring(mixed, stationary.reference, stationary.labels, params)
    expected, _, _ = run_monitoring(alone, stationary.reference, stationary.labels, params)

    window = summary["window"]
    assert window["predictions"] == len(production)
    assert window["purposes"] == ["production"]
    assert window["excluded_by_purpose"] == {"shadow": len(shadow), "backfill": 500}
    assert window["excluded_predictions"] == len(shadow) + 500
    assert window["model_versions"] == {"3": len(production)}
    for part in ("status", "drift", "prediction_drift", "performance", "health"):
        assert summary[part] == expected[part], part
    assert 'future_skills_monitoring_excluded_predictions{purpose="shadow"}' in prom
    check_with_promtool(promtool, prom)

    # Asked for, shadow records are monitored too: and the shifted inputs show.
    params["window"] = WINDOW | {"purposes": ["production", "shadow"]}
    both, _, _ = run_monitoring(mixed, stationary.reference, stationary.labels, params)
    assert both["window"]["predictions"] == len(production) + len(shadow)
    assert both["window"]["excluded_by_purpose"] == {"backfill": 500}
    assert both["drift"]["drifted_features"] != expected["drift"]["drifted_features"]


def test_one_purpose_can_be_given_on_the_command_line(tmp_path, stationary):
    log_dir = tmp_path / "logs"
    append_prediction_logs(stationary.predictions(), log_dir)
    shadow = scenarios.log_frame(
        stationary.world, stationary.production.head(100), purpose="shadow"
    )
    append_prediction_logs(shadow, log_dir)
    reader = PredictionLogWindowDataset(str(log_dir)).load()

    # --params monitoring.window.purposes=shadow arrives as a string
    params = scenarios.validated(
        scenarios.parameters() | {"window": WINDOW | {"purposes": "shadow"}}
    )
    frame, window = nodes.load_prediction_window(reader, params["window"])

    assert len(frame) == 100 and frame["purpose"].eq("shadow").all()
    assert window["excluded_by_purpose"] == {
        "production": len(stationary.predictions()),
        "backfill": 0,
    }
    canary = scenarios.parameters() | {"window": WINDOW | {"purposes": ["canary"]}}
    with pytest.raises(ValidationError) as error:
        scenarios.validated(canary)
    with pytest.raises(InvalidParameters, match=r"^monitoring\.window\.purposes.*'canary'"):
        raise_invalid(error.value, MonitoringParameters, ("monitoring",))


def test_previous_window_reference_reads_the_window_before_and_only_then(
    tmp_path, stationary, params
):
    log_dir = tmp_path / "logs"
    # The window before: production as it was; this window: the same rows, three changed.
    previous = scenarios.log_frame(stationary.world, stationary.production, end="2025-06-23")
    append_prediction_logs(previous, log_dir)
    append_prediction_logs(scenarios.shift_features(stationary).predictions(), log_dir)
    reader = PredictionLogWindowDataset(str(log_dir)).load()
    drift_params = params["drift"] | {"reference": "previous_window"}

    before, before_info = nodes.load_previous_window(reader, WINDOW, drift_params)
    assert before_info == {
        "start": "2025-06-17",
        "end": "2025-06-23",
        "read": True,
        "predictions": len(previous),
    }
    window_rows, _ = nodes.load_prediction_window(reader, WINDOW)
    result, _ = nodes.detect_feature_drift(
        window_rows, stationary.reference, drift_params, before, before_info
    )
    assert result["reference"] == {
        "kind": "previous_window",
        "requested": "previous_window",
        "start_date": "2025-06-17",
        "end_date": "2025-06-23",
        "rows": len(previous),
        "note": None,
    }
    changed = {*scenarios.SHIFTED_NUMERIC, scenarios.CHANGED_CATEGORICAL}
    assert set(result["drifted_features"]) == changed

    # Any other reference: the logs are not read a second time.
    nothing, info = nodes.load_previous_window(reader, WINDOW, params["drift"])
    assert nothing.empty and info["read"] is False and info["predictions"] == 0
