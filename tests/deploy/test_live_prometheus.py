"""Debian's real Prometheus with the shipped alert rules, scraping a real Pushgateway.

A monitoring run whose status is unhealthy is pushed the way production pushes it
(PushgatewayDataset); Prometheus must fire the unhealthy alert, and every query of the
Grafana dashboard must return data. Only the scrape and evaluation intervals are short
here (1 s instead of production's 15 s-1 min): the shipped rules are loaded unchanged.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import time
import urllib.parse
import urllib.request

import pytest

from future_skills_kedro.contract import NUMERIC_FEATURES
from future_skills_kedro.datasets import append_prediction_logs
from future_skills_kedro.datasets.prometheus import PushgatewayDataset
from tests.conftest import PROJECT_ROOT, free_port, wait_for_http
from tests.deploy.test_grafana_dashboard import panel_queries
from tests.pipelines.monitoring import scenarios
from tests.pipelines.monitoring.conftest import APT_LINE
from tests.pipelines.monitoring.test_window_and_health import WINDOW, run_monitoring

RULES = PROJECT_ROOT / "deploy/prometheus/alert_rules.yml"
MOVED = [column for column in NUMERIC_FEATURES if column != "horizon_years"]  # a key too


def _unhealthy_metrics(tmp_path) -> tuple[dict, str]:
    """A real monitoring run of a window whose numeric signals all moved one std."""
    scenario = scenarios.stationary(seed=8)
    shifted = scenario.production.copy()
    for column in MOVED:
        shifted[column] = shifted[column] + scenario.reference.features[column].std()
    logs = tmp_path / "logs"
    append_prediction_logs(scenarios.log_frame(scenario.world, shifted), logs)
    params = scenarios.parameters() | {"window": WINDOW}
    params["drift"]["engine"] = "builtin"
    summary, _, prom = run_monitoring(logs, scenario.reference, scenario.labels, params)
    return summary, prom


@pytest.fixture
def prometheus(tmp_path, pushgateway):
    binary = shutil.which("prometheus")
    if binary is None:
        pytest.fail(f"prometheus is not installed; install it with: {APT_LINE}")
    port = free_port()
    config = tmp_path / "prometheus.yml"
    target = urllib.parse.urlparse(pushgateway).netloc
    config.write_text(
        "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
        f"rule_files:\n  - {RULES}\n"
        "scrape_configs:\n  - job_name: pushgateway\n    honor_labels: true\n"
        f"    static_configs:\n      - targets: ['{target}']\n"
    )
    log_path = tmp_path / "prometheus.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [
                binary,
                f"--config.file={config}",
                f"--storage.tsdb.path={tmp_path / 'tsdb'}",
                f"--web.listen-address=127.0.0.1:{port}",
            ],
            stdout=log,
            stderr=log,
        )
        url = f"http://127.0.0.1:{port}"
        try:
            wait_for_http(f"{url}/-/ready", process, "prometheus", log_path, timeout_s=60)
            yield url
        finally:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _api(prometheus: str, path: str, **query) -> dict:
    url = f"{prometheus}/api/v1/{path}" + (f"?{urllib.parse.urlencode(query)}" if query else "")
    with urllib.request.urlopen(url, timeout=10) as response:
        body = json.load(response)
    assert body["status"] == "success", body
    return body["data"]


def _firing(prometheus: str) -> list[dict]:
    return [a for a in _api(prometheus, "alerts")["alerts"] if a["state"] == "firing"]


def test_an_unhealthy_run_fires_its_alert_and_every_panel_has_data(
    tmp_path, pushgateway, prometheus
):
    summary, prom = _unhealthy_metrics(tmp_path)
    assert summary["status"] == "unhealthy"
    assert summary["performance_estimate"]["realized"] is not None
    rules = _api(prometheus, "rules")["groups"][0]["rules"]
    assert {rule["name"] for rule in rules} >= {"FutureSkillsMonitoringUnhealthy"}

    pushed = PushgatewayDataset(url=pushgateway)
    pushed.save(prom)
    assert pushed.load()["pushed"] is True

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        names = {alert["labels"]["alertname"] for alert in _firing(prometheus)}
        if "FutureSkillsMonitoringUnhealthy" in names:
            break
        time.sleep(0.5)
    firing = _firing(prometheus)
    names = {alert["labels"]["alertname"] for alert in firing}
    assert "FutureSkillsMonitoringUnhealthy" in names, firing
    unhealthy = next(
        a for a in firing if a["labels"]["alertname"] == "FutureSkillsMonitoringUnhealthy"
    )
    assert unhealthy["labels"]["severity"] == "critical"
    assert unhealthy["labels"]["job"] == "future_skills_monitoring"
    # The run's verdict is not degraded, and it has just reported.
    assert not names & {"FutureSkillsMonitoringDegraded", "FutureSkillsMonitoringStale"}
    drifted = {
        a["labels"]["feature"]
        for a in firing
        if a["labels"]["alertname"] == "FutureSkillsImportantFeatureDrift"
    }
    assert drifted == set(summary["reference"]["important_features"]) & set(MOVED)

    for title, expr in panel_queries():
        result = _api(prometheus, "query", query=expr)["result"]
        assert result, f"panel {title!r}: {expr} returned no data"
