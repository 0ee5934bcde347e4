"""The real `kedro run --pipelines training` in a subprocess, checked through MlflowClient."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path

import mlflow
import pandas as pd
import pytest
import yaml
from mlflow import MlflowClient
from packaging.requirements import Requirement

from future_skills_kedro.model_requirements import model_pip_requirements
from tests.conftest import FAST_TRAINING_PARAMS, kedro_env, mlflow_client, mlflow_store, run_kedro

pytestmark = pytest.mark.integration

MODEL_NAME = "future-skills-model"
EXPECTED_METRICS = {
    "accuracy",
    "macro_precision",
    "macro_recall",
    "macro_f1",
    "weighted_precision",
    "weighted_recall",
    "weighted_f1",
    "log_loss",
    "fit_duration_s",
    *(
        f"{kind}_{level}"
        for kind in ("precision", "recall", "f1", "support")
        for level in ("low", "medium", "high")
    ),
}
EXPECTED_ARTIFACTS = {
    "evaluation/confusion_matrix.png",
    "evaluation/classification_report.json",
    "evaluation/permutation_importance.csv",
    "evaluation/permutation_importance.png",
    "evaluation/holdout_predictions.parquet",
    "evaluation/paired_correctness.parquet",
    "evaluation/promotion_evidence.json",
    "evaluation/slice_comparison.csv",
    "evaluation/holdout_summary.json",
    "model_card.md",
    "monitoring/reference_features.parquet",
    "monitoring/probability_calibration.json",
    "monitoring/drift_calibration.json",
}


def _artifact_paths(client: MlflowClient, run_id: str, path: str | None = None) -> set[str]:
    found = set()
    for item in client.list_artifacts(run_id, path):
        found |= _artifact_paths(client, run_id, item.path) if item.is_dir else {item.path}
    return found


def _assert_ok(result: subprocess.CompletedProcess) -> None:
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-6000:]


@pytest.fixture(scope="module")
def trained_project(tmp_path_factory) -> Path:
    """One real training run shared by the read-only checks of this module."""
    from tests.conftest import copy_project

    project = copy_project(tmp_path_factory.mktemp("trained"))
    _assert_ok(run_kedro(project, "run", "--pipelines", "training"))
    return project


def test_training_run_logs_params_metrics_artifacts_and_registers(trained_project):
    client = mlflow_client(trained_project)
    experiment = client.get_experiment_by_name("model-training")
    assert experiment is not None
    runs = client.search_runs([experiment.experiment_id])
    assert len(runs) == 1
    run = runs[0]
    assert run.info.status == "FINISHED"
    assert set(run.data.metrics) >= EXPECTED_METRICS
    assert 0.0 < run.data.metrics["macro_f1"] < 1.0
    params = run.data.params
    assert params["model.algorithm"] == "additive_logistic"
    tuned = yaml.safe_load((trained_project / "conf/base/parameters_tuned.yml").read_text())
    tuned = tuned["training"]["model"]["hyperparameters"]["additive_logistic"]
    assert params["model.C"] == str(tuned["C"])
    assert params["training.split.strategy"] == "time"
    assert int(params["model_input_rows"]) > 1000
    assert int(params["split.train_rows"]) + int(params["split.holdout_rows"]) == int(
        params["model_input_rows"]
    )
    assert len(params["data_hash"]) == 16
    assert not any("password" in key.lower() or "secret" in key.lower() for key in params)
    assert _artifact_paths(client, run.info.run_id) >= EXPECTED_ARTIFACTS
    # The calibration kept with the version, and its cross-fitted check on the holdout.
    calibration = json.loads(
        (trained_project / "data/06_models/probability_calibration.json").read_text()
    )
    assert calibration["method"] == "vector"
    assert set(calibration["maps"]) == {"all", "1", "3", "5"}
    assert calibration["fitted_on"]["rows"] == int(params["split.holdout_rows"])
    assert calibration["diagnostics"]["cross_fitting"] == "leave one holdout quarter out"
    assert abs(run.data.metrics["calibration.holdout_estimation_error_macro_f1"]) < 0.02
    assert run.data.metrics["calibration.log_loss"] > 0
    # The drift thresholds kept with the version: the holdout is the newest two quarters.
    drift = json.loads((trained_project / "data/06_models/drift_calibration.json").read_text())
    assert (
        drift["holdout_quarters"]
        == drift["quarters"][-2:]
        == [
            params["split.holdout_from"],
            params["split.holdout_to"],
        ]
    )
    assert drift["features"]["economic_indicator"]["method"] == "mean_shift"
    assert drift["features"]["trend_score"]["thresholds"]["holdout"] > 0.05

    versions = client.search_model_versions(f"name='{MODEL_NAME}'")
    assert [v.run_id for v in versions] == [run.info.run_id]
    # The first model passing the floor becomes champion (lifecycle hook).
    champion = client.get_model_version_by_alias(MODEL_NAME, "champion")
    assert str(champion.version) == "1"
    assert champion.tags["semver"] == "1.0.0"
    assert champion.tags["stage"] == "Production"
    evidence = json.loads((trained_project / "data/06_models/promotion_evidence.json").read_text())
    assert evidence["champion"]["status"] == "absent"


def test_registered_model_loads_and_predicts_in_a_fresh_process(trained_project):
    rows = pd.read_parquet(trained_project / "data/05_model_input/model_input_rows.parquet")
    script = f"""
import json, sys, mlflow, pandas as pd
mlflow.set_tracking_uri({f"sqlite:///{(trained_project / 'mlflow.db').as_posix()}"!r})
model = mlflow.pyfunc.load_model("models:/{MODEL_NAME}/1")
rows = pd.read_parquet({str(trained_project / "data/05_model_input/model_input_rows.parquet")!r})
out = model.predict(rows)
print(json.dumps({{"columns": list(out.columns), "n": len(out),
                  "levels": sorted(set(out["predicted_need_level"]))}}))
"""
    result = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        env=kedro_env(trained_project),
        cwd=trained_project,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    answer = json.loads(result.stdout.strip().splitlines()[-1])
    assert answer["n"] == len(rows)
    assert answer["columns"] == [
        "predicted_need_level",
        "prob_LOW",
        "prob_MEDIUM",
        "prob_HIGH",
        "confidence",
    ]
    assert set(answer["levels"]) <= {"LOW", "MEDIUM", "HIGH"}


def _installed(name: str) -> bool:
    try:
        metadata.version(name)
    except metadata.PackageNotFoundError:
        return False
    return True


def _installed_with(distributions: list[str]) -> set[str]:
    """The canonical names of ``distributions`` and of what they install with them, their
    optional parts (extras) included where installed: a module such as lz4, which joblib
    and fsspec import only when it is there, is found by MLflow's inference but not needed."""
    seen: set[str] = set()
    pending = list(distributions)
    while pending:
        name = re.sub(r"[-_.]+", "-", pending.pop()).lower()
        if name in seen:
            continue
        seen.add(name)
        for text in metadata.requires(name) or []:
            requirement = Requirement(text)
            marker = requirement.marker
            # a requirement for another platform (pywinpty on Windows) is not installed
            always = marker is None or marker.evaluate({"extra": ""})
            optional = "extra" in str(marker) and _installed(requirement.name)
            if always or optional:
                pending.append(requirement.name)
    return seen


def test_the_model_declares_its_requirements_and_they_cover_mlflows_inference(
    trained_project, tmp_path
):
    """The requirements are declared (model_requirements.py), so MLflow skips inferring them
    in a subprocess; inferred here once, what it would find is pinned alike or comes with a
    declared distribution."""
    with mlflow_store(f"sqlite:///{(trained_project / 'mlflow.db').as_posix()}"):
        model = Path(
            mlflow.artifacts.download_artifacts(f"models:/{MODEL_NAME}/1", dst_path=tmp_path)
        )
    declared = (model / "requirements.txt").read_text().split()
    assert declared == model_pip_requirements()
    inferred = mlflow.models.infer_pip_requirements(str(model), "python_function")
    covered = _installed_with([pin.split("==")[0] for pin in declared])
    for requirement in inferred:
        name = re.sub(r"[-_.]+", "-", re.match(r"[A-Za-z0-9._-]+", requirement)[0]).lower()
        assert requirement in declared or name in covered, (requirement, declared)


def test_second_run_scores_the_champion_on_the_same_holdout(trained_project):
    _assert_ok(run_kedro(trained_project, "run", "--pipelines", "training"))
    client = mlflow_client(trained_project)
    experiment = client.get_experiment_by_name("model-training")
    latest = client.search_runs([experiment.experiment_id], order_by=["start_time DESC"])[0]
    metrics = latest.data.metrics
    assert {"champion_macro_f1", "champion_accuracy", "champion_log_loss"} <= set(metrics)
    paired = pd.read_parquet(trained_project / "data/06_models/paired_correctness.parquet")
    holdout = pd.read_parquet(trained_project / "data/07_model_output/holdout_predictions.parquet")
    assert len(paired) == len(holdout) == int(latest.data.params["split.holdout_rows"])
    assert paired["champion_correct"].notna().all()
    # Same data, same seed: the champion's holdout score equals the first run's.
    assert paired["champion_correct"].mean() == pytest.approx(metrics["champion_accuracy"])
    evidence = json.loads((trained_project / "data/06_models/promotion_evidence.json").read_text())
    assert evidence["champion"]["status"] == "compared"
    assert evidence["champion"]["version"] == "1"


def test_evaluation_pipeline_re_evaluates_the_champion(trained_project):
    _assert_ok(run_kedro(trained_project, "run", "--pipelines", "evaluation"))
    report = json.loads(
        (trained_project / "data/08_reporting/evaluation/evaluation_report.json").read_text()
    )
    assert report["models"]["champion"]["status"] == "evaluated"
    assert 0 < report["models"]["champion"]["metrics"]["macro_f1"] < 1
    assert report["window"]["rows"] > 0
    assert (trained_project / "data/08_reporting/evaluation/metrics_by_quarter.png").exists()
    client = mlflow_client(trained_project)
    experiment = client.get_experiment_by_name("model-evaluation")
    run = client.search_runs([experiment.experiment_id])[0]
    assert "champion_macro_f1" in run.data.metrics


def test_a_run_from_train_classifier_refits_on_the_persisted_split(trained_project):
    # The README's partial run: no validation, no split, a new version on the same holdout.
    model_input = trained_project / "data/05_model_input"
    upstream = [
        model_input / name
        for name in (
            "model_input_table.parquet",
            "train_set.parquet",
            "holdout_set.parquet",
            "split_info.json",
        )
    ]
    written = {path: path.exists() and path.stat().st_mtime_ns for path in upstream}
    client = mlflow_client(trained_project)
    versions_before = len(client.search_model_versions(f"name='{MODEL_NAME}'"))

    result = run_kedro(
        trained_project,
        "run",
        "--pipelines",
        "training",
        "--from-nodes",
        "training.train_classifier",
        "--params",
        FAST_TRAINING_PARAMS,
    )
    _assert_ok(result)
    assert {path: path.exists() and path.stat().st_mtime_ns for path in upstream} == written
    versions = client.search_model_versions(f"name='{MODEL_NAME}'")
    assert len(versions) == versions_before + 1
    newest = max(versions, key=lambda version: int(version.version))
    assert f"{MODEL_NAME} v{newest.version} = " in result.stdout  # the lifecycle decided
    params = client.get_run(newest.run_id).data.params
    split_info = json.loads((model_input / "split_info.json").read_text())
    assert int(params["split.holdout_rows"]) == split_info["holdout_rows"]
    assert len(pd.read_parquet(model_input / "holdout_set.parquet")) == split_info["holdout_rows"]
    evidence = json.loads((trained_project / "data/06_models/promotion_evidence.json").read_text())
    assert evidence["champion"]["status"] == "compared"  # the champion, on the same holdout


def test_unreachable_tracking_server_fails_fast_and_names_the_uri(project_copy):
    env = kedro_env(project_copy)
    env["MLFLOW_TRACKING_URI"] = "http://127.0.0.1:9"
    started = time.monotonic()
    result = run_kedro(project_copy, "run", "--pipelines", "training", env=env, timeout=300)
    elapsed = time.monotonic() - started
    assert result.returncode != 0
    assert "http://127.0.0.1:9" in result.stdout + result.stderr
    assert elapsed < 60, f"took {elapsed:.0f}s to give up"
    assert not (project_copy / "mlflow.db").exists()


def test_single_class_input_fails_before_anything_is_registered(project_copy):
    labels_path = project_copy / "data/01_raw/skill_need_labels.csv"
    labels = pd.read_csv(labels_path, dtype=str)
    labels["future_need_level"] = "HIGH"
    labels.to_csv(labels_path, index=False)
    result = run_kedro(project_copy, "run", "--pipelines", "training")
    assert result.returncode != 0
    assert "single target class" in result.stdout + result.stderr
    client = mlflow_client(project_copy)
    assert client.search_model_versions(f"name='{MODEL_NAME}'") == []
