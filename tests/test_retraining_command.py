"""`kedro models retrain-if-needed` end to end with the real CLI.

A champion is trained without the newest labelled quarter; monitoring of today's window
(shifted market signals) recommends retraining. Without newer labels the command does
nothing; once the held-back quarter's labels arrive it retrains, and the lifecycle hook
decides; run again, it does not retrain a second time.
"""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import pandas as pd
import pytest
from mlflow import MlflowClient

from future_skills_kedro.contract import FEATURE_COLUMNS, NUMERIC_FEATURES
from future_skills_kedro.datagen import GeneratorConfig, generate, write
from future_skills_kedro.datasets import append_prediction_logs
from future_skills_kedro.prediction_log import prediction_log_records
from future_skills_kedro.scoring import predict_need_levels
from tests.conftest import FAST_TRAINING_PARAMS, copy_project, kedro_env, run_kedro

pytestmark = pytest.mark.integration

LABELS = Path("data/01_raw/skill_need_labels.csv")


def _ok(result) -> str:
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-5000:]
    return result.stdout


def _json_document(stdout: str) -> dict:
    """The command's JSON document: the end of stdout, from its first line "{".

    Everything the command and the training run print goes to stderr; what Kedro's CLI
    logs at start-up, before any project command runs (its logging-configuration line,
    import warnings), is the console logging's business (conf/logging.yml).
    """
    lines = stdout.splitlines()
    if "{" not in lines:
        pytest.fail(f"no JSON document on stdout:\n{stdout[-3000:]}")
    return json.loads("\n".join(lines[lines.index("{") :]))


def _versions(project: Path) -> list:
    uri = kedro_env(project)["MLFLOW_TRACKING_URI"]
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    return sorted(
        client.search_model_versions("name='future-skills-model'"), key=lambda v: int(v.version)
    )


@pytest.fixture(scope="module")
def monitored(tmp_path_factory):
    """A champion without the newest labelled quarter, and a monitoring summary of today
    that recommends retraining; yields (project, held-back label rows)."""
    project = copy_project(tmp_path_factory.mktemp("retrain"))
    world = generate(GeneratorConfig(seed=21, n_roles=20, n_quarters=8))
    write(world, project / "data/01_raw")
    labels = pd.read_csv(project / LABELS, dtype=str, keep_default_na=False)
    newest = labels["as_of_date"].max()
    held_back = labels.loc[labels["as_of_date"] == newest]
    labels.loc[labels["as_of_date"] != newest].to_csv(project / LABELS, index=False)
    _ok(run_kedro(project, "run", "--pipelines", "training", "--params", FAST_TRAINING_PARAMS))

    classifier = pickle.loads((project / "data/06_models/classifier.pkl").read_bytes())
    rows = world.features.loc[:, ["job_role_id", "skill_id", "as_of_date", *FEATURE_COLUMNS]]
    rows = rows.loc[rows["as_of_date"] < newest].reset_index(drop=True)
    for column in NUMERIC_FEATURES:
        if column != "horizon_years":  # a key too
            rows[column] = rows[column] + rows[column].std()
    stamp = pd.Timestamp.now(tz="UTC") - pd.Timedelta(hours=1)
    append_prediction_logs(
        prediction_log_records(
            rows,
            predict_need_levels(classifier, rows),
            purpose="production",
            model_alias="champion",
            model_name="future-skills-model",
            model_version="1",
            model_semver="1.0.0",
            latency_ms=2.0,
            scored_at=[stamp] * len(rows),
        ),
        project / "data/07_model_output/prediction_logs",
    )
    _ok(
        run_kedro(
            project,
            "run",
            "--pipelines",
            "monitoring",
            "--params",
            "monitoring.exit_policy.fail_on=never,monitoring.drift.engine=builtin",
        )
    )
    summary = json.loads(
        (project / "data/08_reporting/monitoring/monitoring_summary.json").read_text()
    )
    assert summary["retrain_recommended"] is True, summary["health"]["issues"]
    return project, held_back


def test_retrains_only_once_newer_labels_arrive(monitored):
    project, held_back = monitored
    retrain = ("models", "retrain-if-needed", "--params", FAST_TRAINING_PARAMS)

    # Recommended, but the champion already saw every label: nothing to gain.
    waiting = _ok(run_kedro(project, *retrain))
    assert "monitoring recommends retraining, but no label is newer than v1's" in waiting
    assert len(_versions(project)) == 1

    # The held-back quarter's labels arrive: retrain, and the lifecycle hook decides.
    with (project / LABELS).open("a") as handle:
        held_back.to_csv(handle, index=False, header=False)
    dry = _json_document(_ok(run_kedro(project, *retrain, "--dry-run", "--format", "json")))
    assert (dry["retrain"], dry["dry_run"], dry["trained"]) == (True, True, None)
    assert len(_versions(project)) == 1  # a dry run decides, never trains
    result = run_kedro(project, *retrain, "--format", "json")
    decision = _json_document(_ok(result))
    assert decision["retrain"] is True
    assert decision["reason"].startswith("retraining: ")
    assert decision["newest_label"] == held_back["as_of_date"].max()
    versions = _versions(project)
    assert [int(v.version) for v in versions] == [1, 2]
    assert decision["trained"]["version"] == 2
    assert decision["trained"]["stage"] in {"Production", "Staging", "Development"}
    assert decision["trained"]["stage"] == versions[1].tags["stage"]
    assert decision["trained"]["promotion_reason"] == versions[1].tags["promotion_reason"]
    assert "future-skills-model v2 = " in result.stderr  # the hook's decision line

    # The next scheduled run does not retrain the same labels again.
    again = _json_document(
        _ok(run_kedro(project, "models", "retrain-if-needed", "--format", "json"))
    )
    assert again["retrain"] is False
    assert "v2" in again["reason"]
    assert len(_versions(project)) == 2
