"""deploy/grafana/future-skills.json: a dashboard JSON model Grafana imports as is."""

from __future__ import annotations

import json
import re

from tests.conftest import PROJECT_ROOT
from tests.pipelines.monitoring import scenarios
from tests.pipelines.monitoring.test_window_and_health import WINDOW, run_monitoring

DASHBOARD = PROJECT_ROOT / "deploy/grafana/future-skills.json"
DATASOURCE = {"type": "prometheus", "uid": "${datasource}"}


def dashboard() -> dict:
    return json.loads(DASHBOARD.read_text())


def panel_queries() -> list[tuple[str, str]]:
    return [
        (panel["title"], target["expr"])
        for panel in dashboard()["panels"]
        for target in panel["targets"]
    ]


def test_dashboard_model_is_importable_as_is():
    model = dashboard()
    assert model["id"] is None  # Grafana assigns its own on import
    assert model["uid"] == "future-skills-monitoring"
    assert isinstance(model["schemaVersion"], int) and model["schemaVersion"] >= 36
    variables = model["templating"]["list"]
    assert [(v["name"], v["type"], v["query"]) for v in variables] == [
        ("datasource", "datasource", "prometheus")
    ]
    ids = [panel["id"] for panel in model["panels"]]
    assert len(ids) == len(set(ids))
    for panel in model["panels"]:
        assert panel["type"] in {"stat", "timeseries", "bargauge"}
        assert panel["datasource"] == DATASOURCE, panel["title"]
        grid = panel["gridPos"]
        assert grid["x"] + grid["w"] <= 24 and grid["h"] > 0
        assert panel["targets"], panel["title"]
        for target in panel["targets"]:
            assert target["datasource"] == DATASOURCE
            assert target["refId"] and target["expr"]
            # No variable but the datasource: a query runs as written.
            assert "$" not in target["expr"], target["expr"]


def test_dashboard_shows_what_users_need():
    text = " ".join(expr for _, expr in panel_queries())
    for metric in (
        "future_skills_health_status_code",  # health
        "future_skills_feature_drift_score",  # drift per feature
        "future_skills_performance_estimate_macro_f1",  # estimated ...
        "future_skills_performance_estimate_realized_macro_f1",  # ... vs realized
        "future_skills_monitoring_window_predictions",  # volume
        "future_skills_predictions",  # class mix
        "future_skills_model_info",  # model version
    ):
        assert metric in text, metric


def test_every_metric_the_dashboard_reads_is_exported(tmp_path):
    scenario = scenarios.stationary(seed=4)
    from future_skills_kedro.datasets import append_prediction_logs

    append_prediction_logs(scenarios.shift_features(scenario).predictions(), tmp_path)
    params = scenarios.parameters() | {"window": WINDOW}
    params["drift"]["engine"] = "builtin"
    _, _, prom = run_monitoring(tmp_path, scenario.reference, scenario.labels, params)
    exported = {line.split()[2] for line in prom.splitlines() if line.startswith("# TYPE ")}
    used = {
        name
        for _, expr in panel_queries()
        for name in re.findall(r"future_skills_[a-z0-9_]+", expr)
    }
    assert used - exported == set()
