"""Why a scoring run scores (the purpose rule) and where its outputs go (catalog entries
and the hook, in real Kedro sessions)."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from kedro.config import OmegaConfigLoader

from future_skills_kedro.scoring_purpose import (
    ScoringPurpose,
    decide_scoring_purpose,
    reroute,
    routed_entries,
)
from tests.conftest import PROJECT_ROOT, kedro_env, run_python


@pytest.mark.parametrize(
    ("alias", "as_of_date", "override", "purpose", "folder"),
    [
        ("champion", None, None, "production", None),
        ("challenger", None, None, "shadow", "shadow/challenger/newest"),
        ("champion", "2025-09-30", None, "backfill", "backfill/champion/2025-09-30"),
        ("champion", date(2025, 9, 30), None, "backfill", "backfill/champion/2025-09-30"),
        ("challenger", "2025-09-30", None, "shadow", "shadow/challenger/2025-09-30"),
        ("champion", "2025-09-30", "production", "production", None),
        ("champion", None, "shadow", "shadow", "shadow/champion/newest"),
    ],
)
def test_purpose_rule_and_output_folder(alias, as_of_date, override, purpose, folder):
    decision = decide_scoring_purpose(alias, as_of_date, override)

    assert decision.purpose == purpose
    assert decision.output_folder == folder
    assert decision.reason


def test_purpose_rule_names_the_bad_parameter():
    with pytest.raises(ValueError, match=r"inference\.purpose must be one of .* got 'canary'"):
        decide_scoring_purpose("champion", None, "canary")
    with pytest.raises(ValueError, match=r"inference\.snapshot\.as_of_date must be a date"):
        decide_scoring_purpose("champion", "last quarter")
    assert ScoringPurpose("production", "champion", None, "").output_folder is None


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


_SHOW_PATHS = """
import json, sys
from pathlib import Path
from kedro.framework.session import KedroSession
from kedro.framework.startup import bootstrap_project

bootstrap_project(Path.cwd())
for runtime_params in json.loads(sys.argv[1]):
    with KedroSession.create(project_path=Path.cwd(), runtime_params=runtime_params) as session:
        catalog = session.load_context().catalog
        datasets = {name: catalog[name] for name in sys.argv[2:]}
        paths = {n: getattr(d, "_filepath", None) or d._directory for n, d in datasets.items()}
        print("PATHS", json.dumps({name: str(path) for name, path in paths.items()}))
"""


def test_the_hook_moves_a_shadow_or_backfill_runs_outputs(project_copy):
    """The catalogs real Kedro sessions build (hooks, --params merged); no run needed."""
    names = ("predictions", "inference_summary", "prediction_log_batch")
    backfill_params = {"inference": {"snapshot": {"as_of_date": "2025-09-30"}}}
    declared_params = {
        "inference": {"snapshot": {"as_of_date": "2025-09-30"}, "purpose": "production"}
    }
    sessions = [{}, {"scoring_alias": "challenger"}, backfill_params, declared_params]

    result = run_python(
        _SHOW_PATHS, json.dumps(sessions), *names, cwd=project_copy, env=kedro_env(project_copy)
    )

    assert result.returncode == 0, result.stderr[-3000:]
    production, shadow, backfill, declared = (
        {
            name: str(Path(path).relative_to(project_copy))
            for name, path in json.loads(line.removeprefix("PATHS ")).items()
        }
        for line in result.stdout.splitlines()
        if line.startswith("PATHS ")
    )
    assert production["predictions"] == "data/07_model_output/predictions.parquet"
    assert (
        shadow["predictions"] == "data/07_model_output/shadow/challenger/newest/predictions.parquet"
    )
    assert backfill["inference_summary"] == (
        "data/08_reporting/backfill/champion/2025-09-30/inference_summary.json"
    )
    assert declared == production
    # The logs stay where they are: every record says its purpose.
    assert {production["prediction_log_batch"], shadow["prediction_log_batch"]} == {
        "data/07_model_output/prediction_logs"
    }
