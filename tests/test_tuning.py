"""The tuning domain code in-process: time-based folds, the search space, the seeded study."""

from __future__ import annotations

import json
from functools import cache

import optuna
import pandas as pd
import pytest
import yaml

from future_skills_kedro.contract import KEY_COLUMNS
from future_skills_kedro.datagen import GeneratorConfig, generate
from future_skills_kedro.pipelines.training.nodes import split_train_holdout
from future_skills_kedro.tuning import (
    FIT,
    VALIDATE,
    TuningDataError,
    assign_folds,
    best_trial,
    current_values,
    fold_quarters,
    render_tuned_parameters,
    run_study,
    suggest,
    with_hyperparameters,
)

SPLIT = {
    "strategy": "time",
    "holdout_quarters": 2,
    "holdout_fraction": 0.2,
    "random_state": 42,
    "min_train_rows": 500,
    "min_holdout_rows": 100,
}
SPACE = {
    "learning_rate": {"type": "float", "low": 0.05, "high": 0.3, "log": True},
    "max_iter": {"type": "int", "low": 10, "high": 30, "step": 10, "log": False},
    "class_weight": {"type": "categorical", "choices": [None, "balanced"]},
}
MODEL = {
    "algorithm": "hist_gradient_boosting",
    "encoding": "target",
    "excluded_features": [],
    "hyperparameters": {
        "hist_gradient_boosting": {
            "learning_rate": 0.1,
            "max_iter": 20,
            "max_leaf_nodes": 7,
            "early_stopping": False,
            "random_state": 42,
        }
    },
}


def _tuning(**changes) -> dict:
    return {
        "n_trials": 3,
        "seed": 7,
        "startup_trials": 2,
        "start_from_current": True,
        "cv": {"folds": 2, "validation_quarters": 1},
        "search_space": SPACE,
    } | changes


@cache
def _world_split() -> tuple[pd.DataFrame, pd.DataFrame]:
    world = generate(GeneratorConfig(seed=3, n_roles=8, n_quarters=8))
    train, holdout, _ = split_train_holdout(world.features, SPLIT)
    return train, holdout


def _keys(frame: pd.DataFrame) -> set[tuple]:
    return set(frame.loc[:, list(KEY_COLUMNS)].astype(str).itertuples(index=False, name=None))


def test_folds_are_an_expanding_window_over_the_newest_quarters():
    quarters = pd.date_range("2022-03-31", periods=8, freq="QE")
    folds = fold_quarters(quarters, folds=3, validation_quarters=2)
    assert [list(validate) for _, validate in folds] == [
        list(quarters[2:4]),
        list(quarters[4:6]),
        list(quarters[6:8]),
    ]
    assert [list(fit) for fit, _ in folds] == [
        list(quarters[:2]),
        list(quarters[:4]),
        list(quarters[:6]),
    ]


def test_folds_that_leave_nothing_to_fit_on_name_the_parameters():
    quarters = pd.date_range("2022-03-31", periods=4, freq="QE")
    with pytest.raises(TuningDataError, match=r"tuning\.cv\.folds=2 x tuning\.cv\."):
        fold_quarters(quarters, folds=2, validation_quarters=2)


def test_no_holdout_key_in_any_fold():
    train, holdout = _world_split()
    assignments = assign_folds(train, folds=3, validation_quarters=1)
    holdout_keys = _keys(holdout)
    assert _keys(assignments) == _keys(train)
    for column in ("fold_1", "fold_2", "fold_3"):
        for role in (FIT, VALIDATE):
            used = assignments.loc[assignments[column] == role]
            assert len(used) > 0
            assert not _keys(used) & holdout_keys, f"{column} {role}s holdout rows"
        fit = assignments.loc[assignments[column] == FIT, "as_of_date"]
        validate = assignments.loc[assignments[column] == VALIDATE, "as_of_date"]
        assert fit.max() < validate.min()  # trained on the past, judged on what follows


def test_suggest_samples_inside_the_search_space():
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    for _ in range(30):
        values = suggest(study.ask(), SPACE)
        assert 0.05 <= values["learning_rate"] <= 0.3
        assert values["max_iter"] in (10, 20, 30)
        assert values["class_weight"] in (None, "balanced")


def test_with_hyperparameters_overrides_only_the_searched_values():
    tuned = with_hyperparameters(MODEL, {"learning_rate": 0.2})
    assert tuned["hyperparameters"]["hist_gradient_boosting"] == (
        MODEL["hyperparameters"]["hist_gradient_boosting"] | {"learning_rate": 0.2}
    )
    assert MODEL["hyperparameters"]["hist_gradient_boosting"]["learning_rate"] == 0.1


def test_current_values_keep_only_those_inside_the_space():
    model = with_hyperparameters(MODEL, {"learning_rate": 0.5, "class_weight": "balanced"})
    assert current_values(model, SPACE) == {"max_iter": 20, "class_weight": "balanced"}
    off_the_grid = with_hyperparameters(MODEL, {"max_iter": 25})  # steps of 10 from 10
    assert "max_iter" not in current_values(off_the_grid, SPACE)


def test_the_seeded_study_is_reproducible_and_starts_from_the_current_values():
    train, _ = _world_split()
    assignments = assign_folds(train, folds=2, validation_quarters=1)
    first = run_study(train, assignments, MODEL, _tuning())
    second = run_study(train, assignments, MODEL, _tuning())
    columns = ["trial", "params", "cv_macro_f1", "fold_1_macro_f1", "fold_2_macro_f1"]
    pd.testing.assert_frame_equal(first[columns], second[columns])
    assert len(first) == 3
    assert first.loc[0, "source"] == "current"
    # the configured values; class_weight, not configured, is sampled
    assert (
        json.loads(first.loc[0, "params"]).items() >= {"learning_rate": 0.1, "max_iter": 20}.items()
    )
    assert first["cv_macro_f1"].between(0, 1).all()
    other_seed = run_study(train, assignments, MODEL, _tuning(seed=8))
    assert other_seed["params"].tolist()[1:] != first["params"].tolist()[1:]


def test_best_trial_is_the_highest_mean_and_the_earliest_among_equals():
    trials = pd.DataFrame({"trial": [0, 1, 2], "cv_macro_f1": [0.6, 0.7, 0.7]})
    assert best_trial(trials)["trial"] == 1


def test_the_tuned_file_puts_the_values_where_training_reads_them():
    text = render_tuned_parameters(
        {"learning_rate": 0.05, "class_weight": None}, "hist_gradient_boosting", {"seed": 1}
    )
    assert yaml.safe_load(text) == {
        "training": {
            "model": {
                "hyperparameters": {
                    "hist_gradient_boosting": {"learning_rate": 0.05, "class_weight": None}
                }
            }
        }
    }
    assert text.startswith("# Written by `kedro run --pipelines tuning`")
