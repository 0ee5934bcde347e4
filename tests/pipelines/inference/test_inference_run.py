"""The real `kedro run --pipelines inference` after a real training run (SQLite registry)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from future_skills_kedro.contract import FEATURE_COLUMNS, KEY_COLUMNS, NEED_LEVELS
from future_skills_kedro.datasets import read_prediction_logs
from future_skills_kedro.pipelines.inference.recommendations import ACTIONS
from future_skills_kedro.scoring import PREDICTION_COLUMN, PROBABILITY_COLUMNS
from tests.conftest import run_kedro

from .conftest import MODEL_NAME, assert_ok, clone_trained, mlflow_client

pytestmark = pytest.mark.integration

PREDICTIONS = Path("data/07_model_output/predictions.parquet")
LOGS = Path("data/07_model_output/prediction_logs")
REJECTED = Path("data/07_model_output/rejected_scoring_rows.csv")
RECOMMENDATIONS = Path("data/08_reporting/recommendations.csv")
REPORT = Path("data/08_reporting/recommendations.md")
CHART = Path("data/08_reporting/recommendations_top_skills.png")
SUMMARY = Path("data/08_reporting/inference_summary.json")
SNAPSHOT = Path("data/04_feature/scoring_snapshot.parquet")
NEWEST = "2025-12-31"


@pytest.fixture(scope="module")
def scored(trained_template, tmp_path_factory) -> Path:
    """A clone of the trained project after one `kedro run --pipelines inference`."""
    project = clone_trained(trained_template, tmp_path_factory.mktemp("scored"))
    assert_ok(run_kedro(project, "run", "--pipelines", "inference"))
    return project


def _champion(project: Path):
    return mlflow_client(project).get_model_version_by_alias(MODEL_NAME, "champion")


def _inference_runs(project: Path):
    client = mlflow_client(project)
    experiment = client.get_experiment_by_name("future-skills-prediction")
    assert experiment is not None, "no future-skills-prediction experiment"
    return client.search_runs([experiment.experiment_id], order_by=["attributes.start_time ASC"])


def _newest_pairs(project: Path) -> pd.DataFrame:
    internal = pd.read_csv(project / "data/01_raw/internal_signals.csv", dtype=str)
    newest = internal.loc[internal["as_of_date"].eq(internal["as_of_date"].max())]
    return newest.loc[:, ["job_role_id", "skill_id"]].drop_duplicates()


def test_predictions_cover_the_whole_newest_snapshot(scored):
    predictions = pd.read_parquet(scored / PREDICTIONS)
    champion = _champion(scored)
    pairs = _newest_pairs(scored)

    assert len(predictions) == 3 * len(pairs)
    assert not predictions.duplicated(list(KEY_COLUMNS)).any()
    assert predictions["as_of_date"].dt.strftime("%Y-%m-%d").unique().tolist() == [NEWEST]
    assert sorted(predictions["horizon_years"].unique()) == [1, 3, 5]
    scored_pairs = predictions.loc[:, ["job_role_id", "skill_id"]].drop_duplicates()
    assert len(scored_pairs.merge(pairs)) == len(pairs)
    assert set(predictions[PREDICTION_COLUMN]) <= set(NEED_LEVELS)
    probabilities = predictions.loc[:, list(PROBABILITY_COLUMNS)].to_numpy()
    assert np.allclose(probabilities.sum(axis=1), 1.0)
    assert np.allclose(predictions["confidence"], probabilities.max(axis=1))
    assert predictions["model_version"].unique().tolist() == [str(champion.version)]
    assert predictions["model_semver"].unique().tolist() == [champion.tags["semver"]]
    assert predictions["scored_at"].nunique() == 1
    assert predictions["unseen_categories"].eq("").all()
    rejected = pd.read_csv(scored / REJECTED)
    assert rejected.empty


def test_prediction_logs_hold_the_batch_with_version_and_latency(scored):
    predictions = pd.read_parquet(scored / PREDICTIONS)
    read = read_prediction_logs(scored / LOGS)
    logs = read.frame
    champion = _champion(scored)

    assert read.corrupt_lines == 0
    assert len(logs) == len(predictions)
    assert logs["request_id"].tolist() == predictions["request_id"].tolist()
    assert logs["prediction"].tolist() == predictions[PREDICTION_COLUMN].tolist()
    assert logs["model_name"].unique().tolist() == [MODEL_NAME]
    assert logs["model_version"].unique().tolist() == [str(champion.version)]
    assert logs["model_semver"].unique().tolist() == [champion.tags["semver"]]
    # latency_ms = batch scoring time / rows: the same value on every row of the batch.
    assert logs["latency_ms"].nunique() == 1
    assert logs["latency_ms"].iloc[0] > 0
    assert set(FEATURE_COLUMNS) <= set(logs.columns)
    assert np.allclose(logs["prob_HIGH"], predictions["prob_HIGH"])


def test_recommendations_are_consistent_with_the_predictions(scored):
    predictions = pd.read_parquet(scored / PREDICTIONS)
    snapshot = pd.read_parquet(scored / SNAPSHOT)
    plan = pd.read_csv(scored / RECOMMENDATIONS)
    rows = predictions.merge(
        snapshot.loc[:, [*KEY_COLUMNS, "department", "internal_usage"]], on=list(KEY_COLUMNS)
    )

    assert len(plan) > 0
    assert set(plan["action"]) <= set(ACTIONS)
    assert plan["rationale"].str.len().gt(20).all()
    for _, department_plan in plan.groupby("department"):
        assert department_plan["rank"].tolist() == list(range(1, len(department_plan) + 1))
        assert department_plan["need_score"].is_monotonic_decreasing
    for item in plan.itertuples(index=False):
        skill_rows = rows.loc[
            rows["department"].eq(item.department) & rows["skill_id"].eq(item.skill_id)
        ]
        high = skill_rows[PREDICTION_COLUMN].eq("HIGH")
        assert high.any(), f"{item.skill_id} in {item.department} has no HIGH prediction"
        assert item.need_score == pytest.approx(skill_rows["prob_HIGH"].mean())
        assert item.high_share == pytest.approx(high.mean())
        assert item.high_share >= 0.5
        assert item.roles_high == skill_rows.loc[high, "job_role_id"].nunique()

    report = (scored / REPORT).read_text()
    assert f"Snapshot **{NEWEST}**" in report
    for department in plan["department"].unique():
        assert f"## {department}" in report
    assert CHART.name in report
    assert (scored / CHART).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_run_is_tracked_in_the_prediction_experiment(scored):
    (run,) = _inference_runs(scored)
    champion = _champion(scored)
    metrics, params = run.data.metrics, run.data.params
    predictions = pd.read_parquet(scored / PREDICTIONS)

    assert run.info.status == "FINISHED"
    assert params["model_version"] == str(champion.version)
    assert params["model_semver"] == champion.tags["semver"]
    assert params["snapshot_as_of_date"] == NEWEST
    assert metrics["rows_scored"] == len(predictions)
    assert sum(metrics[f"predicted_{level}"] for level in NEED_LEVELS) == len(predictions)
    counts = predictions[PREDICTION_COLUMN].value_counts()
    assert metrics["predicted_HIGH"] == counts.get("HIGH", 0)
    assert metrics["mean_confidence"] == pytest.approx(predictions["confidence"].mean(), abs=1e-6)
    assert metrics["rows_unseen_category"] == 0
    assert metrics["rows_rejected"] == 0
    artifacts = {
        item.path
        for item in mlflow_client(scored).list_artifacts(run.info.run_id, "recommendations")
    }
    assert {
        "recommendations/recommendations.csv",
        "recommendations/recommendations.md",
        f"recommendations/{CHART.name}",
    } <= artifacts
    summary = json.loads((scored / SUMMARY).read_text())
    assert summary["unseen_categories"]["source"] == "fitted categorical encoders of the champion"


def test_scoring_again_from_validated_tables_appends_one_more_batch(scored):
    before = read_prediction_logs(scored / LOGS).frame
    assert_ok(run_kedro(scored, "run", "--pipelines", "inference", "--tags", "inference"))
    after = read_prediction_logs(scored / LOGS).frame
    predictions = pd.read_parquet(scored / PREDICTIONS)

    assert len(after) == 2 * len(before)
    batches = after["request_id"].str.rsplit("-", n=1).str[0]
    assert batches.nunique() == 2
    assert set(predictions["request_id"]) == set(after["request_id"].iloc[len(before) :])
    assert len(_inference_runs(scored)) == 2


def test_no_champion_fails_first_and_says_to_run_training(project_copy):
    result = run_kedro(project_copy, "run", "--pipelines", "inference")
    output = " ".join((result.stdout + result.stderr).split())  # rich wraps long lines

    assert result.returncode != 0
    assert "No 'champion' version of registered model 'future-skills-model'" in output
    assert "kedro run --pipelines training" in output
    # It failed before writing any output.
    assert not (project_copy / "data/02_intermediate/rejected_rows.csv").exists()
    assert not (project_copy / PREDICTIONS).exists()
    assert not (project_copy / LOGS).exists()


def _append_csv(path: Path, *lines: str) -> None:
    with path.open("a", encoding="utf-8") as handle:
        handle.write("".join(f"{line}\n" for line in lines))


def test_unseen_categories_are_scored_and_counted_and_rows_without_signals_rejected(
    trained_template, tmp_path
):
    project = clone_trained(trained_template, tmp_path)
    raw = project / "data/01_raw"
    # A new job role (name never seen in training) in an existing department, using two
    # known skills; a new skill with market signals; a new skill with no market signal.
    _append_csv(raw / "job_roles.csv", "JR9999,Quantum Prompt Engineer,Data & Analytics,senior")
    _append_csv(
        raw / "skills.csv", "SK9998,Prompt Security,Data & AI", "SK9999,Unpriced Skill,Data & AI"
    )
    _append_csv(raw / "market_signals.csv", f"SK9998,{NEWEST},0.9100,0.8000,0.7000,120.00")
    _append_csv(
        raw / "internal_signals.csv",
        f"JR9999,SK0001,{NEWEST},0.2000,3",
        f"JR9999,SK0002,{NEWEST},0.1000,0",
        f"JR0001,SK9998,{NEWEST},0.0500,1",
        f"JR0001,SK9999,{NEWEST},0.3000,2",
    )
    assert_ok(run_kedro(project, "run", "--pipelines", "inference"))

    predictions = pd.read_parquet(project / PREDICTIONS)
    expected_rows = 3 * (len(_newest_pairs(project)) - 1)  # SK9999's pair is rejected
    assert len(predictions) == expected_rows
    new_role = predictions.loc[predictions["job_role_id"].eq("JR9999")]
    assert len(new_role) == 6
    assert new_role["unseen_categories"].eq("job_role_name").all()
    assert new_role[PREDICTION_COLUMN].isin(NEED_LEVELS).all()
    new_skill = predictions.loc[predictions["skill_id"].eq("SK9998")]
    assert new_skill["unseen_categories"].eq("skill_name").all()
    assert len(new_skill) == 3
    assert predictions["unseen_categories"].ne("").sum() == 9

    rejected = pd.read_csv(project / REJECTED, dtype=str)
    assert len(rejected) == 3
    assert rejected["skill_id"].eq("SK9999").all()
    assert rejected["reason"].eq(f"no market signal at or before {NEWEST}").all()
    assert "SK9999" not in set(predictions["skill_id"])

    (run,) = _inference_runs(project)
    assert run.data.metrics["rows_unseen_category"] == 9
    assert run.data.metrics["rows_unseen_job_role_name"] == 6
    assert run.data.metrics["rows_unseen_skill_name"] == 3
    assert run.data.metrics["rows_rejected"] == 3
    logs = read_prediction_logs(project / LOGS).frame
    assert len(logs) == expected_rows
    assert "Quantum Prompt Engineer" in set(logs["job_role_name"])
    summary = json.loads((project / SUMMARY).read_text())
    assert summary["unseen_categories"]["by_column"]["job_role_name"] == {
        "rows": 6,
        "values": ["Quantum Prompt Engineer"],
    }


def test_a_shadow_run_keeps_its_own_outputs_and_stays_out_of_monitoring(trained_template, tmp_path):
    """Issue 18 item 3, end to end with the real CLI: the champion, then the challenger;
    production's files stay as they were and monitoring sees production records only.
    (Backfill runs: same hook and rule, tested in tests/test_scoring_purpose.py and
    tests/pipelines/monitoring/test_window_and_health.py.)"""
    project = clone_trained(trained_template, tmp_path)
    assert_ok(run_kedro(project, "run", "--pipelines", "inference", "--tags", "inference"))
    production = pd.read_parquet(project / PREDICTIONS)
    plan = (project / RECOMMENDATIONS).read_bytes()
    champion = _champion(project)
    mlflow_client(project).set_registered_model_alias(MODEL_NAME, "challenger", champion.version)

    shadow_run = run_kedro(
        project,
        "run",
        "--pipelines",
        "inference",
        "--tags",
        "inference",
        "--params",
        "scoring_alias=challenger",
    )

    assert_ok(shadow_run)
    after = pd.read_parquet(project / PREDICTIONS)
    assert after["request_id"].tolist() == production["request_id"].tolist()
    assert (project / RECOMMENDATIONS).read_bytes() == plan
    folder = Path("shadow/challenger/newest")
    shadow = pd.read_parquet(project / PREDICTIONS.parent / folder / PREDICTIONS.name)
    assert len(shadow) == len(production)
    assert set(shadow["request_id"]).isdisjoint(production["request_id"])
    summary = json.loads((project / SUMMARY.parent / folder / SUMMARY.name).read_text())
    assert summary["purpose"]["purpose"] == "shadow"
    assert (project / RECOMMENDATIONS.parent / folder / RECOMMENDATIONS.name).exists()
    logs = read_prediction_logs(project / LOGS).frame
    assert logs.groupby("purpose")["model_alias"].unique().map(list).to_dict() == {
        "production": ["champion"],
        "shadow": ["challenger"],
    }
    assert logs["purpose"].value_counts().to_dict() == {
        "production": len(production),
        "shadow": len(production),
    }
    runs = _inference_runs(project)
    assert [run.data.params["purpose"] for run in runs] == ["production", "shadow"]

    monitored = run_kedro(
        project,
        "run",
        "--pipelines",
        "monitoring",
        "--params",
        "monitoring.exit_policy.fail_on=never",
    )

    assert_ok(monitored)
    window = json.loads(
        (project / "data/08_reporting/monitoring/monitoring_summary.json").read_text()
    )["window"]
    assert window["predictions"] == len(production)
    assert window["excluded_by_purpose"] == {"shadow": len(production), "backfill": 0}
    assert window["model_versions"] == {str(champion.version): len(production)}
