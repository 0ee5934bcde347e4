"""The real `kedro run --pipelines tuning` in a subprocess, checked through MlflowClient."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pandas as pd
import pytest
import yaml
from kedro.config import OmegaConfigLoader

from future_skills_kedro.contract import KEY_COLUMNS
from future_skills_kedro.datagen import GeneratorConfig, generate, write
from future_skills_kedro.settings import CONFIG_LOADER_ARGS
from tests.conftest import copy_project, mlflow_client, run_kedro

pytestmark = pytest.mark.integration

EXPERIMENT = "model-tuning"
# A tiny study: 3 trials of 2 folds, 4-6 spline knots.
TINY_STUDY = ",".join(
    [
        "tuning.n_trials=3",
        "tuning.startup_trials=2",
        "tuning.cv.folds=2",
        "tuning.search_space.n_knots.low=4",
        "tuning.search_space.n_knots.high=6",
    ]
)


def _small_project(parent: Path) -> Path:
    """A project copy whose raw files are a small generated world (10 roles, 16 quarters)."""
    project = copy_project(parent)
    write(generate(GeneratorConfig(seed=5, n_roles=10)), project / "data/01_raw")
    return project


def _keys(frame: pd.DataFrame) -> set[tuple]:
    return set(frame.loc[:, list(KEY_COLUMNS)].astype(str).itertuples(index=False, name=None))


@pytest.fixture(scope="module")
def tuned_project(tmp_path_factory) -> tuple[Path, subprocess.CompletedProcess]:
    project = _small_project(tmp_path_factory.mktemp("tuned"))
    result = run_kedro(project, "run", "--pipelines", "tuning", "--params", TINY_STUDY)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-6000:]
    return project, result


def test_each_trial_is_a_run_nested_under_the_study_run(tuned_project):
    project, _ = tuned_project
    client = mlflow_client(project)
    experiment = client.get_experiment_by_name(EXPERIMENT)
    runs = client.search_runs([experiment.experiment_id])
    parents = [r for r in runs if "mlflow.parentRunId" not in r.data.tags]
    assert len(parents) == 1
    parent = parents[0]
    trials = [r for r in runs if r.data.tags.get("mlflow.parentRunId") == parent.info.run_id]
    assert len(trials) == 3 == len(runs) - 1
    assert {r.info.status for r in [parent, *trials]} == {"FINISHED"}
    assert sorted(r.data.tags["tuning.trial"] for r in trials) == ["0", "1", "2"]
    for trial in trials:
        assert set(trial.data.params) == {"C", "n_knots", "products", "crosses"}
        assert int(trial.data.params["n_knots"]) in (4, 5, 6)
        folds = [trial.data.metrics["fold_1_macro_f1"], trial.data.metrics["fold_2_macro_f1"]]
        assert trial.data.metrics["cv_macro_f1"] == pytest.approx(sum(folds) / 2)


def test_the_parent_holds_the_best_trial(tuned_project):
    project, _ = tuned_project
    client = mlflow_client(project)
    experiment = client.get_experiment_by_name(EXPERIMENT)
    runs = client.search_runs([experiment.experiment_id])
    parent = next(r for r in runs if "mlflow.parentRunId" not in r.data.tags)
    trials = [r for r in runs if r is not parent]
    # the highest mean macro-F1, the earliest trial among equals
    best = max(
        trials,
        key=lambda r: (r.data.metrics["cv_macro_f1"], -int(r.data.tags["tuning.trial"])),
    )
    assert parent.data.tags["tuning.best_trial_run_id"] == best.info.run_id
    assert best.data.tags["tuning.best"] == "true"
    assert [r.data.tags["tuning.best"] for r in trials].count("true") == 1
    assert parent.data.metrics["best_cv_macro_f1"] == pytest.approx(
        best.data.metrics["cv_macro_f1"]
    )
    assert parent.data.params["best.trial"] == best.data.tags["tuning.trial"]
    for name, value in best.data.params.items():
        assert parent.data.params[f"best.{name}"] == value
    # The study's settings are on the parent too (kedro-mlflow logs the node parameters).
    assert parent.data.params["tuning.n_trials"] == "3"


def test_the_best_values_are_where_training_reads_them(tuned_project):
    project, _ = tuned_project
    client = mlflow_client(project)
    experiment = client.get_experiment_by_name(EXPERIMENT)
    parent = next(
        r
        for r in client.search_runs([experiment.experiment_id])
        if "mlflow.parentRunId" not in r.data.tags
    )
    tuned = yaml.safe_load((project / "conf/base/parameters_tuned.yml").read_text())
    values = tuned["training"]["model"]["hyperparameters"]["additive_logistic"]
    for name, value in values.items():
        assert parent.data.params[f"best.{name}"] == str(value)
    loader = OmegaConfigLoader(str(project / "conf"), **CONFIG_LOADER_ARGS)
    merged = loader["parameters"]["training"]["model"]["hyperparameters"]
    kept = {"tol": 0.001, "max_iter": 3000}  # from parameters_training.yml
    assert merged["additive_logistic"] == values | kept


def test_no_holdout_row_reaches_a_fold(tuned_project):
    project, _ = tuned_project
    folds = pd.read_parquet(project / "data/05_model_input/tuning_folds.parquet")
    train = pd.read_parquet(project / "data/05_model_input/train_set.parquet")
    holdout = pd.read_parquet(project / "data/05_model_input/holdout_set.parquet")
    assert len(holdout) > 0
    assert _keys(folds) == _keys(train)
    for column in ("fold_1", "fold_2"):
        used = folds.loc[folds[column].notna()]
        assert len(used) > 0
        assert not _keys(used) & _keys(holdout)


@pytest.mark.parametrize(
    ("params", "named"),
    [
        ("tuning.n_trials=0", "tuning.n_trials = 0: expected an integer >= 1"),
        (
            "tuning.search_space.C.low=50",
            "tuning.search_space.C.high = 20.0: expected a value above low",
        ),
    ],
)
def test_an_impossible_study_fails_before_any_mlflow_run(tmp_path, params, named):
    project = copy_project(tmp_path)
    before = (project / "conf/base/parameters_tuned.yml").read_text()
    result = run_kedro(project, "run", "--pipelines", "tuning", "--params", params)
    assert result.returncode == 2, result.stderr[-3000:]
    assert named in result.stderr
    assert "Traceback" not in result.stderr
    experiment = mlflow_client(project).get_experiment_by_name(EXPERIMENT)
    assert (
        experiment is None or mlflow_client(project).search_runs([experiment.experiment_id]) == []
    )
    assert (project / "conf/base/parameters_tuned.yml").read_text() == before
