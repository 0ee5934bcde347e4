"""Which catalog entries move with the scoring purpose, and where to."""

from __future__ import annotations

from kedro.config import OmegaConfigLoader

from future_skills_kedro.scoring_outputs import reroute, routed_entries
from tests.conftest import PROJECT_ROOT

INFERENCE_OUTPUTS = {
    "scoring_snapshot",
    "rejected_scoring_rows",
    "predictions",
    "inference_summary",
    "recommendations",
    "recommendations_chart",
    "recommendations_report",
}


def _catalog() -> dict:
    loader = OmegaConfigLoader(str(PROJECT_ROOT / "conf"), base_env="base", default_run_env="base")
    return loader["catalog"]


def test_every_inference_output_but_the_logs_moves_with_the_purpose():
    routed = routed_entries(_catalog())

    assert set(routed) == INFERENCE_OUTPUTS
    assert "prediction_log_batch" not in routed


def test_reroute_moves_files_and_wrapped_files_one_folder_deeper():
    catalog = _catalog()

    predictions = reroute(catalog["predictions"], "shadow/challenger/newest")
    summary = reroute(catalog["inference_summary"], "backfill/champion/2025-09-30")

    assert predictions["filepath"] == (
        "data/07_model_output/shadow/challenger/newest/predictions.parquet"
    )
    assert summary["dataset"]["filepath"] == (
        "data/08_reporting/backfill/champion/2025-09-30/inference_summary.json"
    )
    assert summary["artifact_path"] == catalog["inference_summary"]["artifact_path"]
    assert catalog["predictions"]["filepath"] == "data/07_model_output/predictions.parquet"
