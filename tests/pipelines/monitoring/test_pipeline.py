"""The monitoring pipeline's wiring and its catalog/parameters as Kedro resolves them."""

from __future__ import annotations

from kedro.config import OmegaConfigLoader
from kedro.io import DataCatalog, MemoryDataset

from future_skills_kedro.pipelines.monitoring import create_pipeline
from tests.conftest import PROJECT_ROOT

PUBLISHED = {
    "monitoring_summary",
    "monitoring_drift_report",
    "monitoring_metrics",
    "monitoring_metrics_prom",
    "monitoring_pushgateway",
}


def _config():
    return OmegaConfigLoader(str(PROJECT_ROOT / "conf"), base_env="base", default_run_env="base")


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
