"""Hyperparameter search of the training model: time-based folds, the search space, the study.

The folds are cut from the training quarters only (the caller never hands the holdout in):
fold ``i`` validates on a block of ``validation_quarters`` quarters and fits on every quarter
before it (an expanding window), so a trial is scored as the model will be used: trained on
the past, judged on the quarters after it. The study is Optuna's TPE sampler seeded by
``tuning.seed``: the same data and parameters give the same trials, values and best trial.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Mapping, Sequence
from datetime import datetime, timezone
from typing import Any

import numpy as np
import pandas as pd

from future_skills_kedro.classifier import build_classifier, model_features
from future_skills_kedro.contract import KEY_COLUMNS, TARGET_COLUMN
from future_skills_kedro.scoring import classification_metrics, predict_need_levels

logger = logging.getLogger(__name__)

FIT, VALIDATE = "fit", "validate"
# The metric a trial maximises (a key of scoring.classification_metrics): the promotion
# policy's default metric.
OBJECTIVE = "macro_f1"


class TuningDataError(ValueError):
    """The training quarters cannot hold the configured folds."""


def fold_quarters(
    dates: Sequence[Any], folds: int, validation_quarters: int
) -> list[tuple[list[pd.Timestamp], list[pd.Timestamp]]]:
    """(fit quarters, validation quarters) of each fold, oldest fold first.

    The newest ``folds * validation_quarters`` quarters are validated on, block by block;
    each block's fit quarters are all the quarters before it.
    """
    quarters = sorted(pd.to_datetime(pd.Series(dates)).unique())
    validated = folds * validation_quarters
    if validated >= len(quarters):
        raise TuningDataError(
            f"tuning.cv.folds={folds} x tuning.cv.validation_quarters={validation_quarters} "
            f"validate {validated} quarters, leaving none to fit the oldest fold on: the "
            f"training set has {len(quarters)} quarter(s)."
        )
    result = []
    for fold in range(folds):
        start = len(quarters) - validated + fold * validation_quarters
        result.append((list(quarters[:start]), list(quarters[start : start + validation_quarters])))
    return result


def fold_column(fold: int) -> str:
    """The column of :func:`assign_folds` for fold ``fold`` (1-based)."""
    return f"fold_{fold}"


def assign_folds(train_set: pd.DataFrame, folds: int, validation_quarters: int) -> pd.DataFrame:
    """Per training row, its keys and its role in each fold: fit, validate or none (null)."""
    dates = pd.to_datetime(train_set["as_of_date"])
    assignments = train_set.loc[:, list(KEY_COLUMNS)].copy()
    for number, (fit, validate) in enumerate(
        fold_quarters(dates, folds, validation_quarters), start=1
    ):
        role = np.where(dates.isin(fit), FIT, np.where(dates.isin(validate), VALIDATE, None))
        assignments[fold_column(number)] = pd.Series(role, index=train_set.index, dtype=object)
    return assignments


def suggest(trial, search_space: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """One value per hyperparameter of ``search_space`` (tuning.search_space), from ``trial``."""
    values = {}
    for name, spec in search_space.items():
        if spec["type"] == "float":
            values[name] = trial.suggest_float(name, spec["low"], spec["high"], log=spec["log"])
        elif spec["type"] == "int":
            values[name] = trial.suggest_int(
                name, spec["low"], spec["high"], step=spec["step"] or 1, log=spec["log"]
            )
        else:
            values[name] = trial.suggest_categorical(name, list(spec["choices"]))
    return values


def with_hyperparameters(model: Mapping[str, Any], values: Mapping[str, Any]) -> dict[str, Any]:
    """``model`` (training.model) with ``values`` over its algorithm's hyperparameters."""
    algorithm = model["algorithm"]
    hyperparameters = dict(model["hyperparameters"]) | {
        algorithm: dict(model["hyperparameters"][algorithm]) | dict(values)
    }
    return dict(model) | {"hyperparameters": hyperparameters}


def cross_validate(
    train_set: pd.DataFrame, assignments: pd.DataFrame, model: Mapping[str, Any]
) -> list[float]:
    """Macro-F1 of ``model`` on each fold's validation rows, fitted on its fit rows."""
    features = model_features(model)
    scores = []
    for column in [c for c in assignments.columns if c.startswith("fold_")]:
        fit = (assignments[column] == FIT).to_numpy()
        validate = (assignments[column] == VALIDATE).to_numpy()
        classifier = build_classifier(model)
        classifier.fit(train_set.loc[fit, features], train_set.loc[fit, TARGET_COLUMN])
        scored = predict_need_levels(classifier, train_set.loc[validate, features])
        metrics = classification_metrics(train_set.loc[validate, TARGET_COLUMN], scored)
        scores.append(metrics[OBJECTIVE])
    return scores


def current_values(
    model: Mapping[str, Any], search_space: Mapping[str, Mapping[str, Any]]
) -> dict[str, Any]:
    """The configured values of the searched hyperparameters that lie inside the space: the
    first trial re-scores them, so the best trial is never worse than today's model on CV."""
    configured = model["hyperparameters"][model["algorithm"]]
    values = {}
    for name, spec in search_space.items():
        if name not in configured:
            continue
        value = configured[name]
        if spec["type"] == "categorical":
            inside = value in spec["choices"]
        else:
            inside = isinstance(value, int | float) and spec["low"] <= value <= spec["high"]
            if spec["type"] == "int":  # and on the range's grid
                step = spec["step"] or 1
                inside = inside and isinstance(value, int) and (value - spec["low"]) % step == 0
        if inside:
            values[name] = value
    return values


def run_study(
    train_set: pd.DataFrame,
    assignments: pd.DataFrame,
    model: Mapping[str, Any],
    tuning: Mapping[str, Any],
) -> pd.DataFrame:
    """Run the seeded study; one row per trial: number, values, per-fold and mean macro-F1."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    sampler = optuna.samplers.TPESampler(
        seed=int(tuning["seed"]), n_startup_trials=int(tuning["startup_trials"])
    )
    study = optuna.create_study(direction="maximize", sampler=sampler)
    if tuning["start_from_current"]:
        start = current_values(model, tuning["search_space"])
        if start:
            study.enqueue_trial(start, user_attrs={"source": "current"})
    rows = []

    def objective(trial) -> float:
        values = suggest(trial, tuning["search_space"])
        started = time.time()
        scores = cross_validate(train_set, assignments, with_hyperparameters(model, values))
        finished = time.time()
        rows.append(
            {
                "trial": trial.number,
                f"cv_{OBJECTIVE}": float(np.mean(scores)),
                **{f"{fold_column(i)}_{OBJECTIVE}": s for i, s in enumerate(scores, start=1)},
                "seconds": round(finished - started, 3),
                "started_at": _iso(started),
                "finished_at": _iso(finished),
                "source": trial.user_attrs.get("source", "sampler"),
                # JSON keeps null, booleans and numbers apart (a CSV cell would not)
                "params": json.dumps(values, sort_keys=True),
            }
        )
        best = max(row[f"cv_{OBJECTIVE}"] for row in rows)
        logger.info(
            "trial %d of %d: cv %s %.4f (best %.4f), %.0f s",
            trial.number + 1,
            tuning["n_trials"],
            OBJECTIVE,
            np.mean(scores),
            best,
            finished - started,
        )
        return float(np.mean(scores))

    study.optimize(objective, n_trials=int(tuning["n_trials"]), gc_after_trial=False)
    return pd.DataFrame(rows)


def best_trial(trials: pd.DataFrame) -> pd.Series:
    """The trial with the highest mean macro-F1 (the earliest among equals)."""
    column = f"cv_{OBJECTIVE}"
    best = trials.loc[trials[column] == trials[column].max(), "trial"].min()
    return trials.loc[trials["trial"] == best].iloc[0]


def _iso(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, tz=timezone.utc).isoformat(timespec="milliseconds")


TUNED_FILE_HEADER = """\
# Written by `kedro run --pipelines tuning` (docs/pipelines.md#tuning); tune again rather than
# edit. Kedro's config loader merges these keys into training.model.hyperparameters (the
# other hyperparameters stay in parameters_training.yml, which must not repeat these keys):
# the next `kedro run` trains with them. Delete the file to fall back to scikit-learn's
# defaults for these keys.
"""


def render_tuned_parameters(
    values: Mapping[str, Any], algorithm: str, facts: Mapping[str, Any]
) -> str:
    """conf/base/parameters_tuned.yml: ``values`` under training.model.hyperparameters."""
    import yaml

    about = "".join(f"# {name}: {value}\n" for name, value in facts.items())
    body = yaml.safe_dump(
        {"training": {"model": {"hyperparameters": {algorithm: dict(values)}}}},
        sort_keys=False,
        default_flow_style=False,
    )
    return TUNED_FILE_HEADER + about + body
