"""The monitoring pipeline's wiring and its catalog/parameters as Kedro resolves them."""

from __future__ import annotations

import json
import urllib.request

import pytest
from kedro.config import OmegaConfigLoader
from kedro.io import DataCatalog, MemoryDataset
from kedro.runner import SequentialRunner
from kedro_datasets.json import JSONDataset

from future_skills_kedro.datasets import PredictionLogWindowDataset, append_prediction_logs
from future_skills_kedro.datasets.prometheus import PrometheusTextfileDataset
from future_skills_kedro.pipelines.monitoring import create_pipeline
from future_skills_kedro.settings import CONFIG_LOADER_ARGS
from tests.conftest import PROJECT_ROOT
from tests.datasets.test_prediction_logs import append_lines
from tests.pipelines.monitoring import scenarios

PUBLISHED = {
    "monitoring_summary",
    "monitoring_drift_report",
    "monitoring_metrics",
    "monitoring_metrics_prom",
    "monitoring_pushgateway",
}


PUSHGATEWAY_URL_VARIABLE = "FUTURE_SKILLS_PUSHGATEWAY_URL"


def _config():
    return OmegaConfigLoader(str(PROJECT_ROOT / "conf"), base_env="base", default_run_env="base")


def _production_config():
    """The configuration `kedro run --env production` loads (the project's settings)."""
    return OmegaConfigLoader(str(PROJECT_ROOT / "conf"), env="production", **CONFIG_LOADER_ARGS)


def _pushgateway_from(config) -> object:
    entry = config["catalog"]["monitoring_pushgateway"]
    return DataCatalog.from_config({"monitoring_pushgateway": entry}).get("monitoring_pushgateway")


def test_exit_policy_runs_last_after_everything_is_published():
    pipeline = create_pipeline()
    order = [node.name for node in pipeline.nodes]  # topological
    assert order[-1] == "monitoring.enforce_exit_policy"
    exit_node = pipeline.nodes[-1]
    upstream = pipeline.to_nodes("monitoring.enforce_exit_policy")
    assert {node.name for node in upstream.nodes} == set(order)  # nothing runs after it
    assert set(upstream.all_outputs()) >= PUBLISHED
    assert exit_node.outputs == []
    assert all("monitoring" in node.tags for node in pipeline.nodes)


def test_every_dataset_and_parameter_is_configured():
    config = _config()
    catalog = DataCatalog.from_config(config["catalog"])
    params = config["parameters"]
    pipeline = create_pipeline()
    for name in pipeline.datasets():
        if name.startswith("params:"):
            node = params
            for key in name.removeprefix("params:").split("."):
                node = node[key]
        elif name in PUBLISHED or name in pipeline.inputs():
            assert name in catalog, f"{name} is not in the catalog"
    assert type(catalog["monitoring_predictions"]) is MemoryDataset
    assert "fail_on" in params["monitoring"]["exit_policy"]


@pytest.mark.parametrize("value", [None, "", "http://pushgateway.example:9091"])
def test_production_reads_the_pushgateway_url_from_the_environment(monkeypatch, value):
    if value is None:
        monkeypatch.delenv(PUSHGATEWAY_URL_VARIABLE, raising=False)
    else:
        monkeypatch.setenv(PUSHGATEWAY_URL_VARIABLE, value)
    described = _pushgateway_from(_production_config())._describe()
    assert described["url"] == (value or None)  # unset or empty: no push
    assert described["job"] == "future_skills_monitoring"
    assert described["basic_auth"] is False
    # Local runs (base) never push, whatever the environment says.
    assert _pushgateway_from(_config())._describe()["url"] is None


def test_production_pushgateway_takes_basic_auth_credentials_as_documented():
    # docs/monitoring.md: `credentials: pushgateway` in the entry, the account in
    # conf/production/credentials.yml.
    entry = _production_config()["catalog"]["monitoring_pushgateway"] | {
        "credentials": "pushgateway"
    }
    credentials = {"pushgateway": {"username": "monitoring", "password": "s3cret-password"}}
    catalog = DataCatalog.from_config({"monitoring_pushgateway": entry}, credentials)
    described = catalog.get("monitoring_pushgateway")._describe()
    assert described["basic_auth"] is True
    assert "s3cret-password" not in str(described)


def test_a_production_monitoring_run_pushes_to_a_real_pushgateway(
    tmp_path, monkeypatch, pushgateway
):
    """The monitoring pipeline (SequentialRunner) with conf/production's Pushgateway entry."""
    monkeypatch.setenv(PUSHGATEWAY_URL_VARIABLE, pushgateway)
    scenario = scenarios.stationary(seed=5)
    append_prediction_logs(scenario.predictions(), tmp_path / "logs")
    params = scenarios.parameters()
    params["window"] = {"end_date": scenarios.WINDOW_END, "days": scenarios.WINDOW_DAYS}
    params["drift"]["engine"] = "builtin"  # the push is the subject, not Evidently
    params = scenarios.validated(params)

    pipeline = create_pipeline()
    catalog = DataCatalog(
        {
            "monitoring_pushgateway": _pushgateway_from(_production_config()),
            "monitoring_prediction_logs": PredictionLogWindowDataset(str(tmp_path / "logs")),
            "monitoring_reference": MemoryDataset(scenario.reference),
            "skill_need_labels": MemoryDataset(scenario.labels),
            "monitoring_metrics_prom": PrometheusTextfileDataset(str(tmp_path / "metrics.prom")),
        }
    )
    _add_monitoring_parameters(pipeline, catalog, params)
    SequentialRunner().run(pipeline, catalog)

    outcome = catalog.load("monitoring_pushgateway")
    assert outcome["pushed"] is True, outcome
    assert outcome["url"] == f"{pushgateway}/metrics/job/future_skills_monitoring"
    with urllib.request.urlopen(f"{pushgateway}/metrics", timeout=5) as response:
        exposed = response.read().decode()
    labels = 'instance="",job="future_skills_monitoring"'
    assert f'future_skills_health_status{{{labels},status="healthy"}} 1' in exposed
    # The same samples as the textfile.
    assert "future_skills_health_status_code 0.0" in (tmp_path / "metrics.prom").read_text()


def _add_monitoring_parameters(pipeline, catalog: DataCatalog, params: dict) -> None:
    """Every ``params:monitoring.<dotted.name>`` the pipeline reads, from ``params``."""
    for name in pipeline.datasets():
        if name.startswith("params:monitoring."):
            value = params
            for key in name.removeprefix("params:monitoring.").split("."):
                value = value[key]
            catalog[name] = MemoryDataset(value)


def _run_monitoring(log_source, scenario, params, folder) -> tuple[dict, str]:
    """The pipeline on in-memory inputs; its summary and metrics.prom (without the clock)."""
    folder.mkdir()
    prom_file = folder / "metrics.prom"
    pipeline = create_pipeline()
    catalog = DataCatalog(
        {
            "monitoring_summary": JSONDataset(filepath=str(folder / "summary.json")),
            "monitoring_pushgateway": _pushgateway_from(_config()),  # base: no push
            "monitoring_metrics_prom": PrometheusTextfileDataset(str(prom_file)),
            "monitoring_prediction_logs": log_source,
            "monitoring_reference": MemoryDataset(scenario.reference),
            "skill_need_labels": MemoryDataset(scenario.labels),
        }
    )
    _add_monitoring_parameters(pipeline, catalog, params)
    SequentialRunner().run(pipeline, catalog)
    prom = "".join(
        line
        for line in prom_file.read_text(encoding="utf-8").splitlines(keepends=True)
        if "last_success_timestamp" not in line
    )
    return json.loads((folder / "summary.json").read_text(encoding="utf-8")), prom


@pytest.mark.parametrize("evidently_max_rows", [100_000, 1_000])
def test_the_catalogs_column_projection_gives_the_summary_of_a_full_read(
    tmp_path, evidently_max_rows
):
    """conf/base reads only the columns monitoring uses, text as categoricals (memory at a
    million records): the summary and metrics must be those of reading every column as
    text, with Evidently deciding (small window) or only drawing the report (large)."""
    scenario = scenarios.degrade_labels(
        scenarios.shift_features(scenarios.stationary(seed=5)), share=0.2
    )
    logs = tmp_path / "logs"
    append_prediction_logs(scenario.predictions(), logs)
    day_file = sorted(logs.glob("*.jsonl"))[-1]
    append_lines(day_file, "{torn", '{"timestamp": "2025-06-30T10:00:00Z"}')
    params = scenarios.parameters()
    params["window"] = {"end_date": scenarios.WINDOW_END, "days": scenarios.WINDOW_DAYS}
    params["drift"]["evidently_max_rows"] = evidently_max_rows
    params["exit_policy"]["fail_on"] = "never"  # the outputs are the subject
    params = scenarios.validated(params)
    entry = _config()["catalog"]["monitoring_prediction_logs"] | {"path": str(logs)}
    projected = DataCatalog.from_config({"logs": entry}).get("logs")
    assert projected._describe()["text_as_category"] is True
    assert "request_id" not in projected._describe()["columns"]

    full_summary, full_prom = _run_monitoring(
        PredictionLogWindowDataset(str(logs)), scenario, params, tmp_path / "full"
    )
    summary, prom = _run_monitoring(projected, scenario, params, tmp_path / "projected")

    assert summary == full_summary
    assert prom == full_prom
    assert summary["window"]["corrupt_lines"] == 2
    assert summary["drift"]["drifted_features"]  # the shifted features: a real comparison
    assert summary["performance"]["status"] == "assessed"
    assert summary["performance_estimate"]["realized"] is not None
