"""metrics.prom (promtool), the atomic textfile dataset, and a real Pushgateway."""

from __future__ import annotations

import base64
import logging
import os
import re
import socket
import stat
import subprocess
import threading
import time
import urllib.request

import pytest
from kedro.io import DatasetError

from future_skills_kedro.datasets import append_prediction_logs
from future_skills_kedro.datasets.prometheus import PrometheusTextfileDataset, PushgatewayDataset
from future_skills_kedro.pipelines.monitoring import nodes
from tests.conftest import free_port
from tests.pipelines.monitoring import scenarios
from tests.pipelines.monitoring.conftest import PUSHGATEWAY_PASSWORD, PUSHGATEWAY_USER
from tests.pipelines.monitoring.test_window_and_health import WINDOW, run_monitoring

EXPECTED_METRICS = {
    "future_skills_monitoring_last_success_timestamp_seconds",
    "future_skills_monitoring_window_start_timestamp_seconds",
    "future_skills_monitoring_window_end_timestamp_seconds",
    "future_skills_monitoring_window_predictions",
    "future_skills_monitoring_excluded_predictions",
    "future_skills_monitoring_log_lines_read",
    "future_skills_monitoring_log_corrupt_lines",
    "future_skills_health_status",
    "future_skills_health_status_code",
    "future_skills_health_issues",
    "future_skills_retrain_recommended",
    "future_skills_model_info",
    "future_skills_model_age_seconds",
    "future_skills_drift_share",
    "future_skills_drift_features_drifted",
    "future_skills_feature_drift_score",
    "future_skills_feature_drift_threshold",
    "future_skills_feature_drift_detected",
    "future_skills_predictions",
    "future_skills_prediction_class_drift_score",
    "future_skills_mean_confidence",
    "future_skills_confidence_drift_score",
    "future_skills_performance_labelled_predictions",
    "future_skills_performance_accuracy",
    "future_skills_performance_macro_f1",
    "future_skills_performance_macro_f1_drop",
    "future_skills_performance_estimate_rows",
    "future_skills_performance_estimate_accuracy",
    "future_skills_performance_estimate_macro_f1",
    "future_skills_performance_estimate_accuracy_bound",
    "future_skills_performance_estimate_macro_f1_bound",
    "future_skills_performance_estimate_realized_accuracy",
    "future_skills_performance_estimate_realized_macro_f1",
    "future_skills_performance_estimate_error_accuracy",
    "future_skills_performance_estimate_error_macro_f1",
    "future_skills_performance_estimate_judged",
    "future_skills_performance_estimate_macro_f1_drop",
    "future_skills_health_rule_fired",
    "future_skills_health_signal",
    "future_skills_important_feature",
}


@pytest.fixture(scope="module")
def metrics_text(tmp_path_factory) -> str:
    """metrics.prom of a degraded window (shifted features, labels available)."""
    scenario = scenarios.stationary(seed=4)
    shifted = scenarios.shift_features(scenario)
    log_dir = tmp_path_factory.mktemp("logs")
    append_prediction_logs(shifted.predictions(), log_dir)
    params = scenarios.parameters() | {"window": WINDOW}
    _, _, prom = run_monitoring(log_dir, scenario.reference, scenario.labels, params)
    return prom


def _names(text: str) -> set[str]:
    return {line.split()[2] for line in text.splitlines() if line.startswith("# TYPE ")}


def _promtool(promtool: str, path) -> subprocess.CompletedProcess:
    with open(path, encoding="utf-8") as handle:
        return subprocess.run(
            [promtool, "check", "metrics"],
            stdin=handle,
            capture_output=True,
            text=True,
            check=False,
        )


def test_metrics_prom_passes_promtool(tmp_path, metrics_text, promtool):
    path = tmp_path / "textfile" / "future_skills.prom"
    PrometheusTextfileDataset(str(path)).save(metrics_text)
    result = _promtool(promtool, path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == "" and result.stderr.strip() == ""  # no lint warning
    # ...and promtool does reject a broken file, so the check above means something.
    path.write_text(metrics_text + "future_skills_drift_share{feature=} nope\n")
    assert _promtool(promtool, path).returncode != 0


def test_metrics_prom_names_and_values(metrics_text):
    assert _names(metrics_text) == EXPECTED_METRICS
    lines = metrics_text.splitlines()
    assert 'future_skills_health_status{status="degraded"} 1.0' in lines
    assert "future_skills_health_status_code 1.0" in lines
    assert 'future_skills_feature_drift_detected{feature="trend_score"} 1.0' in lines
    assert 'future_skills_feature_drift_detected{feature="internal_usage"} 0.0' in lines
    assert (
        'future_skills_model_info{model_name="future-skills-model",semver="1.2.0",version="3"} 1.0'
        in lines
    )
    assert "future_skills_model_age_seconds 5.2704e+06" in lines  # 61 days
    assert "future_skills_monitoring_window_start_timestamp_seconds 1.7507232e+09" in lines
    # The estimated performance, per horizon and for the whole window ("all").
    assert "future_skills_performance_estimate_judged 1.0" in lines
    for horizon in ("all", "1", "3", "5"):
        for name in ("macro_f1", "realized_macro_f1", "error_macro_f1"):
            assert f'future_skills_performance_estimate_{name}{{horizon="{horizon}"}}' in (
                metrics_text
            )
    assert 'future_skills_performance_estimate_macro_f1_bound{bound="low",horizon="all"}' in (
        metrics_text
    )
    # What the alert rules key on: the fired health rules and the important features.
    assert (
        'future_skills_health_rule_fired{rule="important_feature_drift",'
        'signal="important_features_drifted",status="degraded"} 1.0'
    ) in lines
    assert 'future_skills_important_feature{feature="trend_score"} 1.0' in lines
    assert 'future_skills_health_signal{signal="drift_share"}' in metrics_text


def test_textfile_is_replaced_atomically(tmp_path):
    path = tmp_path / "metrics.prom"
    dataset = PrometheusTextfileDataset(str(path))
    dataset.save("future_skills_drift_share 0.1\n")
    first_inode = path.stat().st_ino
    dataset.save("future_skills_drift_share 0.2\n")
    # A new file renamed over the old one (readers keep a whole old or a whole new file),
    # world-readable for node_exporter, no temporary file left behind.
    assert path.stat().st_ino != first_inode
    assert stat.S_IMODE(path.stat().st_mode) == 0o644
    assert sorted(os.listdir(tmp_path)) == ["metrics.prom"]
    assert dataset.load() == "future_skills_drift_share 0.2\n"


def test_push_to_a_real_pushgateway_and_read_it_back(metrics_text, pushgateway):
    dataset = PushgatewayDataset(url=pushgateway, grouping_key={"instance": "nightly"})
    dataset.save(metrics_text)
    outcome = dataset.load()
    assert outcome["pushed"] is True
    assert outcome["url"] == f"{pushgateway}/metrics/job/future_skills_monitoring/instance/nightly"
    exposed = _exposed(pushgateway)
    labels = 'instance="nightly",job="future_skills_monitoring"'
    assert f'future_skills_health_status{{{labels},status="degraded"}} 1' in exposed
    assert f'future_skills_feature_drift_detected{{feature="trend_score",{labels}}} 1' in exposed

    # PUT replaces the group: a second push leaves one set of samples.
    dataset.save(metrics_text.replace('status="degraded"} 1.0', 'status="degraded"} 0.0'))
    exposed = _exposed(pushgateway)
    assert f'future_skills_health_status{{{labels},status="degraded"}} 0' in exposed
    assert exposed.count("future_skills_health_status_code{") == 1


def _exposed(pushgateway: str) -> str:
    with urllib.request.urlopen(f"{pushgateway}/metrics", timeout=5) as response:
        return response.read().decode()


def test_a_push_the_gateway_refuses_is_recorded_not_raised(metrics_text, pushgateway, caplog):
    # Another job already exposes a metric of the same name with another type: the
    # Pushgateway refuses the push (HTTP 400) rather than become inconsistent.
    PushgatewayDataset(url=pushgateway, job="other").save(
        "# HELP future_skills_drift_share X.\n# TYPE future_skills_drift_share summary\n"
        "future_skills_drift_share_sum 1\nfuture_skills_drift_share_count 1\n"
    )
    dataset = PushgatewayDataset(url=pushgateway)
    with caplog.at_level(logging.WARNING):
        dataset.save(metrics_text)
    outcome = dataset.load()
    assert outcome["pushed"] is False
    assert outcome["status"] == 400
    assert "inconsistent with existing metrics" in outcome["error"]
    assert "could not push monitoring metrics" in caplog.text
    exposed = _exposed(pushgateway)
    assert "future_skills_health_status_code" not in exposed
    # ...and the gateway itself recorded the failed push.
    assert re.search(
        r'^push_failure_time_seconds\{instance="",job="future_skills_monitoring"\} [1-9]',
        exposed,
        re.MULTILINE,
    )


def test_malformed_text_is_refused_before_any_request(pushgateway, caplog):
    dataset = PushgatewayDataset(url=pushgateway)
    with caplog.at_level(logging.WARNING):
        dataset.save("this is not prometheus text\n")
    outcome = dataset.load()
    assert outcome["pushed"] is False
    assert outcome["status"] is None
    assert outcome["error"].startswith("not valid Prometheus text: ")
    assert "could not push monitoring metrics" in caplog.text
    assert 'job="future_skills_monitoring"' not in _exposed(pushgateway)


def test_grouping_key_values_any_text(metrics_text, pushgateway):
    # Values with "/" or a space, and an empty value, go base64-encoded into the URL path.
    grouping_key = {"instance": "nightly", "site": "/srv/hr analytics", "shard": ""}
    dataset = PushgatewayDataset(url=pushgateway, grouping_key=grouping_key)
    dataset.save(metrics_text)
    outcome = dataset.load()
    assert outcome["pushed"] is True, outcome
    assert "/site@base64/" in outcome["url"] and "/shard@base64/=" in outcome["url"]
    labels = 'instance="nightly",job="future_skills_monitoring",shard="",site="/srv/hr analytics"'
    assert f"future_skills_health_status_code{{{labels}}} 1" in _exposed(pushgateway)


def _not_a_gateway(listener: socket.socket, answer: bytes | None, done: threading.Event):
    """Accept one connection; answer ``answer`` (not HTTP), or nothing until ``done``."""
    connection, _ = listener.accept()
    with connection:
        connection.recv(65536)
        if answer is None:
            done.wait(10)
        else:
            connection.sendall(answer)


@pytest.mark.parametrize(
    ("answer", "error"),
    [(None, "timed out"), (b"SSH-2.0-OpenSSH_9.2\r\n", "BadStatusLine")],
    ids=["never-answers", "not-http"],
)
def test_a_push_to_something_else_than_a_gateway_is_a_warning(metrics_text, caplog, answer, error):
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        done = threading.Event()
        server = threading.Thread(target=_not_a_gateway, args=(listener, answer, done), daemon=True)
        server.start()
        dataset = PushgatewayDataset(
            url=f"http://127.0.0.1:{listener.getsockname()[1]}", timeout_s=0.5
        )
        started = time.monotonic()
        with caplog.at_level(logging.WARNING):
            dataset.save(metrics_text)
        elapsed = time.monotonic() - started
        done.set()
        server.join()
    outcome = dataset.load()
    assert outcome["pushed"] is False
    assert error in outcome["error"]
    assert elapsed < 5  # the 0.5 s timeout, not the silent server's 10 s
    assert "could not push monitoring metrics" in caplog.text


def test_push_with_basic_auth(metrics_text, pushgateway_with_basic_auth):
    url = pushgateway_with_basic_auth
    anonymous = PushgatewayDataset(url=url)
    anonymous.save(metrics_text)
    assert anonymous.load()["status"] == 401

    credentials = {"username": PUSHGATEWAY_USER, "password": PUSHGATEWAY_PASSWORD}
    dataset = PushgatewayDataset(url=url, credentials=credentials)
    assert PUSHGATEWAY_PASSWORD not in str(dataset)  # Kedro logs the description
    dataset.save(metrics_text)
    assert dataset.load()["pushed"] is True, dataset.load()
    request = urllib.request.Request(f"{url}/metrics", headers=_basic_auth(credentials))
    with urllib.request.urlopen(request, timeout=5) as response:
        assert "future_skills_health_status_code{" in response.read().decode()

    with pytest.raises(DatasetError, match=r"'username' and 'password'; missing \['password'\]"):
        PushgatewayDataset(url=url, credentials={"username": "monitoring"})


def _basic_auth(credentials: dict) -> dict:
    token = base64.b64encode(f"{credentials['username']}:{credentials['password']}".encode())
    return {"Authorization": f"Basic {token.decode()}"}


def test_a_push_to_a_dead_url_does_not_fail_the_run(metrics_text, caplog):
    port = free_port()  # nobody listens on it
    dataset = PushgatewayDataset(url=f"http://127.0.0.1:{port}", timeout_s=2)
    with caplog.at_level(logging.WARNING):
        dataset.save(metrics_text)
    outcome = dataset.load()
    assert outcome == {
        "enabled": True,
        "pushed": False,
        "url": f"http://127.0.0.1:{port}/metrics/job/future_skills_monitoring",
        "status": None,
        "error": outcome["error"],
    }
    assert "Connection refused" in outcome["error"] or "URLError" in outcome["error"]
    assert "could not push monitoring metrics" in caplog.text
    # The exit policy logs it and judges the health only.
    summary = {
        "status": "healthy",
        "window": {"start": "2025-06-24", "end": "2025-06-30"},
        "health": {"issues": []},
    }
    nodes.enforce_exit_policy(
        summary, metrics_text, outcome, {"fail_on": "degraded", "fail_on_no_data": True}
    )


def test_push_is_off_without_url():
    dataset = PushgatewayDataset(url=None)
    dataset.save("future_skills_drift_share 0.1\n")
    assert dataset.load() == {"enabled": False, "pushed": False, "url": None, "error": None}
