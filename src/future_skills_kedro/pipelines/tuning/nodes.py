"""Tuning nodes: folds of the training quarters, the seeded study, the best trial."""

from __future__ import annotations

import json
from typing import Any

import pandas as pd

from future_skills_kedro import tuning as search
from future_skills_kedro.tracking import as_mlflow_metrics


def assign_time_folds(train_set: pd.DataFrame, cv: dict[str, Any]) -> pd.DataFrame:
    """Per training row (by key), its role in each fold: fit, validate or none."""
    return search.assign_folds(train_set, int(cv["folds"]), int(cv["validation_quarters"]))


def search_hyperparameters(
    train_set: pd.DataFrame,
    tuning_folds: pd.DataFrame,
    model: dict[str, Any],
    tuning: dict[str, Any],
) -> pd.DataFrame:
    """Every trial of the seeded study: its values and its macro-F1 on each fold."""
    return search.run_study(train_set, tuning_folds, model, tuning)


def select_best_trial(
    tuning_trials: pd.DataFrame, model: dict[str, Any], tuning: dict[str, Any]
) -> tuple[pd.DataFrame, dict[str, Any], dict[str, dict], str]:
    """The trials marked with the best, its values and score for the parent run, and the
    tuned parameters file (last: written only once everything before it is saved)."""
    best = search.best_trial(tuning_trials)
    values = json.loads(best["params"])
    objective = f"cv_{search.OBJECTIVE}"
    trials = tuning_trials.assign(is_best=tuning_trials["trial"] == best["trial"])
    metrics = {
        f"best_{objective}": best[objective],
        "trials": len(tuning_trials),
    }
    current = tuning_trials.loc[tuning_trials["source"] == "current", objective]
    if len(current):
        metrics[f"current_{objective}"] = current.iloc[0]
    facts = {
        "best trial": f"{best['trial']} of {len(tuning_trials)}",
        f"mean {search.OBJECTIVE} over the folds": round(float(best[objective]), 4),
        "folds": f"{tuning['cv']['folds']} x {tuning['cv']['validation_quarters']} quarters "
        "(training quarters only)",
        "seed": tuning["seed"],
    }
    text = search.render_tuned_parameters(values, model["algorithm"], facts)
    best_params = {"trial": int(best["trial"]), **values}
    return trials, best_params, as_mlflow_metrics(metrics), text
