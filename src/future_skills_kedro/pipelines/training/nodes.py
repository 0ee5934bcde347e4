"""Training nodes: split, fit, evaluate, compare with the champion on the same holdout."""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import pandas as pd

# The classifier itself lives in a shared module (the tuning pipeline builds the same one);
# its names stay importable from here.
from future_skills_kedro.classifier import (  # noqa: F401
    ESTIMATORS,
    NATIVE_CATEGORICAL,
    build_classifier,
    estimator_class,
    model_features,
)
from future_skills_kedro.contract import (
    CATEGORICAL_FEATURES,
    FEATURE_COLUMNS,
    KEY_COLUMNS,
    NEED_LEVELS,
    NUMERIC_FEATURES,
    TARGET_COLUMN,
)
from future_skills_kedro.drift import calibration as drift_calibration
from future_skills_kedro.drift import reference as drift_reference
from future_skills_kedro.scoring import (
    PREDICTION_COLUMN,
    PROBABILITY_COLUMNS,
    classification_metrics,
    predict_need_levels,
)
from future_skills_kedro.tracking import as_mlflow_metrics

SPLIT_STRATEGIES = ("time", "stratified")


class TrainingDataError(ValueError):
    """The model-input table cannot produce a trustworthy model."""


def split_train_holdout(
    model_input_table: pd.DataFrame, split: dict[str, Any]
) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, Any]]:
    """Split by time (newest quarters held out) or stratified at random; no row in both."""
    _check_trainable(model_input_table, split)
    if split["strategy"] == "time":
        dates = np.sort(model_input_table["as_of_date"].unique())
        n_holdout = int(split["holdout_quarters"])
        if n_holdout >= len(dates):
            raise TrainingDataError(
                f"holdout_quarters={n_holdout} leaves no training or no holdout data: the "
                f"model-input table has {len(dates)} quarter(s) ({_date_range(dates)})."
            )
        cutoff = dates[-n_holdout]
        is_holdout = model_input_table["as_of_date"] >= cutoff
    else:  # stratified
        from sklearn.model_selection import train_test_split

        holdout_index = train_test_split(
            model_input_table.index,
            test_size=float(split["holdout_fraction"]),
            stratify=model_input_table[TARGET_COLUMN],
            random_state=int(split["random_state"]),
        )[1]
        is_holdout = model_input_table.index.isin(holdout_index)
    train = model_input_table.loc[~is_holdout].reset_index(drop=True)
    holdout = model_input_table.loc[is_holdout].reset_index(drop=True)
    _check_split(train, holdout, split)
    info = {
        "strategy": split["strategy"],
        "train_rows": len(train),
        "holdout_rows": len(holdout),
        "train_from": _iso(train["as_of_date"].min()),
        "train_to": _iso(train["as_of_date"].max()),
        "holdout_from": _iso(holdout["as_of_date"].min()),
        "holdout_to": _iso(holdout["as_of_date"].max()),
    }
    return train, holdout, info


def _check_trainable(table: pd.DataFrame, split: dict[str, Any]) -> None:
    min_rows = int(split["min_train_rows"]) + int(split["min_holdout_rows"])
    if len(table) < min_rows:
        raise TrainingDataError(
            f"model_input_table has {len(table)} rows; training needs at least {min_rows} "
            "(split.min_train_rows + split.min_holdout_rows)."
        )
    classes = sorted(table[TARGET_COLUMN].dropna().unique())
    if len(classes) < 2:
        raise TrainingDataError(
            f"model_input_table has a single target class {classes}: nothing to learn."
        )


def _check_split(train: pd.DataFrame, holdout: pd.DataFrame, split: dict[str, Any]) -> None:
    if len(holdout) < int(split["min_holdout_rows"]):
        raise TrainingDataError(
            f"holdout has {len(holdout)} rows, fewer than split.min_holdout_rows="
            f"{split['min_holdout_rows']}."
        )
    if len(train) < int(split["min_train_rows"]):
        raise TrainingDataError(
            f"training set has {len(train)} rows, fewer than split.min_train_rows="
            f"{split['min_train_rows']}."
        )
    if train[TARGET_COLUMN].nunique() < 2:
        raise TrainingDataError("the training set holds a single target class.")


def _date_range(dates: np.ndarray) -> str:
    return f"{_iso(dates[0])} .. {_iso(dates[-1])}" if len(dates) else "none"


def _iso(value: Any) -> str:
    return pd.Timestamp(value).date().isoformat()


def train_classifier(train_set: pd.DataFrame, model: dict[str, Any]):
    """Fit the configured classifier on the training rows; report what was fitted and how long."""
    classifier = build_classifier(model)
    started = time.perf_counter()
    classifier.fit(train_set.loc[:, model_features(model)], train_set[TARGET_COLUMN])
    fit_seconds = time.perf_counter() - started
    estimator = classifier.named_steps["classifier"]
    hyperparameters = {
        f"model.{key}": value
        for key, value in sorted(estimator.get_params().items())
        if isinstance(value, str | int | float | bool) or value is None
    }
    hyperparameters["model.algorithm"] = model["algorithm"]
    hyperparameters["model.encoding"] = model["encoding"]
    return classifier, {"fit_duration_s": fit_seconds}, hyperparameters


def score_model_input(classifier, model_input_rows: pd.DataFrame) -> pd.DataFrame:
    """The logged model's inference step: per row the level, class probabilities, confidence."""
    return predict_need_levels(classifier, model_input_rows)


def evaluate_on_holdout(
    classifier, holdout_set: pd.DataFrame, fit_metrics: dict[str, float]
) -> tuple[dict[str, Any], dict[str, float], pd.DataFrame, dict[str, Any]]:
    """Holdout metrics (for MLflow and as plain values), per-row predictions, a report."""
    from sklearn.metrics import classification_report

    scored = predict_need_levels(classifier, holdout_set)
    metrics = classification_metrics(holdout_set[TARGET_COLUMN], scored) | fit_metrics
    holdout_predictions = pd.concat(
        [holdout_set.loc[:, [*KEY_COLUMNS, TARGET_COLUMN]], scored], axis=1
    )
    holdout_predictions["correct"] = (
        holdout_predictions[PREDICTION_COLUMN] == holdout_predictions[TARGET_COLUMN]
    )
    report = classification_report(
        holdout_set[TARGET_COLUMN],
        scored[PREDICTION_COLUMN],
        labels=list(NEED_LEVELS),
        output_dict=True,
        zero_division=0,
    )
    return as_mlflow_metrics(metrics), metrics, holdout_predictions, report


def plot_confusion_matrix(holdout_predictions: pd.DataFrame):
    """Confusion matrix of the holdout, counts and row-normalised shares."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from sklearn.metrics import ConfusionMatrixDisplay

    figure, axes = plt.subplots(1, 2, figsize=(11, 4.5))
    for ax, normalize, title in ((axes[0], None, "counts"), (axes[1], "true", "share of true")):
        ConfusionMatrixDisplay.from_predictions(
            holdout_predictions[TARGET_COLUMN],
            holdout_predictions[PREDICTION_COLUMN],
            labels=list(NEED_LEVELS),
            normalize=normalize,
            values_format=".0f" if normalize is None else ".2f",
            ax=ax,
            colorbar=False,
        )
        ax.set_title(f"Holdout confusion matrix ({title})")
    figure.tight_layout()
    return figure


def permutation_feature_importance(
    classifier, holdout_set: pd.DataFrame, importance: dict[str, Any]
):
    """Permutation importance of each input column (readable names) on the holdout, macro-F1."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from sklearn.inspection import permutation_importance

    sample = holdout_set
    if len(sample) > int(importance["max_rows"]):
        sample = sample.sample(n=int(importance["max_rows"]), random_state=importance["seed"])
    features = list(classifier.feature_names_in_)
    result = permutation_importance(
        classifier,
        sample.loc[:, features],
        sample[TARGET_COLUMN],
        scoring="f1_macro",
        n_repeats=int(importance["n_repeats"]),
        random_state=int(importance["seed"]),
        n_jobs=1,
    )
    table = (
        pd.DataFrame(
            {
                "feature": features,
                "importance_mean": result.importances_mean,
                "importance_std": result.importances_std,
            }
        )
        .sort_values("importance_mean", ascending=False)
        .reset_index(drop=True)
    )
    figure, ax = plt.subplots(figsize=(8, 5))
    ordered = table.iloc[::-1]
    ax.barh(ordered["feature"], ordered["importance_mean"], xerr=ordered["importance_std"])
    ax.set_xlabel("drop in macro-F1 when the column is shuffled")
    ax.set_title("Permutation feature importance (holdout)")
    figure.tight_layout()
    return table, figure


def evaluate_champion(
    champion, holdout_set: pd.DataFrame, holdout_predictions: pd.DataFrame
) -> tuple[dict[str, Any], dict[str, Any], pd.DataFrame, pd.DataFrame]:
    """Score the current champion on the very same holdout rows as the new model.

    Returns champion metrics for MLflow (``champion_<metric>``), the comparison block of the
    promotion evidence, the paired per-row correctness (new vs champion), and the champion's
    scored rows for the per-slice comparison (no rows when there was none to score them).
    """
    paired = holdout_predictions.loc[:, [*KEY_COLUMNS, "correct"]].rename(
        columns={"correct": "challenger_correct"}
    )
    if champion is None:
        paired["champion_correct"] = pd.NA
        absent = {"status": "absent", "reason": "no champion registered yet"}
        return {}, absent, paired, pd.DataFrame()
    try:
        scored = champion.model.predict(holdout_set.loc[:, list(FEATURE_COLUMNS)])
    except Exception as exc:
        paired["champion_correct"] = pd.NA
        return (
            {},
            {
                "status": "incompatible",
                "version": champion.version,
                "semver": champion.semver,
                "reason": f"champion v{champion.version} rejects the current input: "
                f"{type(exc).__name__}: {str(exc).splitlines()[0][:300]}",
            },
            paired,
            pd.DataFrame(),
        )
    metrics = classification_metrics(holdout_set[TARGET_COLUMN], scored)
    paired["champion_correct"] = (
        scored[PREDICTION_COLUMN].to_numpy() == holdout_set[TARGET_COLUMN].to_numpy()
    )
    comparison = {
        "status": "compared",
        "version": champion.version,
        "semver": champion.semver,
        "metrics": metrics,
        "reason": f"champion v{champion.version} scored on the same {len(holdout_set)} rows",
    }
    champion_scored = scored.reset_index(drop=True)
    return as_mlflow_metrics(metrics, prefix="champion_"), comparison, paired, champion_scored


def _scored_or_none(champion_predictions: pd.DataFrame) -> pd.DataFrame | None:
    return None if champion_predictions.empty else champion_predictions


def compare_slices(
    holdout_set: pd.DataFrame,
    holdout_predictions: pd.DataFrame,
    champion_predictions: pd.DataFrame,
    promotion: dict[str, Any],
) -> pd.DataFrame:
    """The policy metric of the new model and the champion on each slice of the holdout
    (``lifecycle.promotion.non_inferiority.slices``): the table the non-inferiority rule, the
    run and the model card use. ``champion`` is empty when there is no champion to compare."""
    from future_skills_kedro.lifecycle.slices import slice_table

    return slice_table(
        holdout_set,
        holdout_predictions,
        _scored_or_none(champion_predictions),
        promotion["non_inferiority"]["slices"],
        promotion["metric"],
    )


def summarise_holdout(
    train_set: pd.DataFrame,
    holdout_set: pd.DataFrame,
    holdout_predictions: pd.DataFrame,
    champion_predictions: pd.DataFrame,
    significance: dict[str, Any],
) -> dict[str, Any]:
    """What the model card states about the holdout: each metric with its bootstrap
    interval, the difference from the champion with its paired interval (same resampling
    as the significance guard), and holdout categories the training rows never had."""
    from future_skills_kedro.lifecycle.compare import compare_scored, metric_intervals

    options = {
        "confidence": float(significance["confidence"]),
        "resamples": int(significance["resamples"]),
        "seed": int(significance["seed"]),
    }
    y_true = holdout_set[TARGET_COLUMN].reset_index(drop=True)
    candidate = holdout_predictions.reset_index(drop=True)
    champion = _scored_or_none(champion_predictions)
    versus = None if champion is None else compare_scored(y_true, champion, candidate, **options)
    unseen = {
        column: sorted(map(str, set(holdout_set[column]) - set(train_set[column])))
        for column in CATEGORICAL_FEATURES
    }
    return {
        "rows": len(holdout_set),
        "bootstrap": options,
        "metrics": metric_intervals(y_true, candidate, **options),
        "versus_champion": versus,
        "unseen_categories": {column: values for column, values in unseen.items() if values},
    }


def build_promotion_evidence(
    model_input_table: pd.DataFrame,
    model_input_rows: pd.DataFrame,
    paired_correctness: pd.DataFrame,
    split_info: dict[str, Any],
    model: dict[str, Any],
    holdout_scores: dict[str, float],
    champion_comparison: dict[str, Any],
) -> tuple[dict[str, Any], dict[str, Any]]:
    """What the lifecycle hook needs to version and promote the new model, and run params."""
    from future_skills_kedro.lifecycle import hash_frame, hash_params, schema_of, target_classes_of

    data_hash = hash_frame(model_input_table)
    params_hash = hash_params(
        {
            "algorithm": model["algorithm"],
            "encoding": model["encoding"],
            **model["hyperparameters"][model["algorithm"]],
        }
    )
    # Same holdout rows => comparable metrics across versions (used if the champion changes).
    holdout_hash = hash_frame(paired_correctness.loc[:, list(KEY_COLUMNS)])
    evidence = {
        "metrics": holdout_scores,
        "champion": champion_comparison,
        "input_schema": [list(pair) for pair in schema_of(model_input_rows)],
        "target_classes": list(target_classes_of(model_input_table[TARGET_COLUMN].dropna())),
        "data_hash": data_hash,
        "params_hash": params_hash,
        "holdout_hash": holdout_hash,
        "algorithm": model["algorithm"],
        "split": split_info,
    }
    run_params = {
        "data_hash": data_hash,
        "params_hash": params_hash,
        "holdout_hash": holdout_hash,
        "model_input_rows": len(model_input_table),
        **{f"split.{key}": value for key, value in split_info.items()},
    }
    return evidence, run_params


def select_signature_rows(
    holdout_set: pd.DataFrame, model: dict[str, Any], n_rows: int
) -> pd.DataFrame:
    """A few feature rows: the logged model's signature and input example come from them."""
    return holdout_set.loc[:, model_features(model)].head(int(n_rows)).reset_index(drop=True)


def select_reference_features(
    train_set: pd.DataFrame, holdout_set: pd.DataFrame, max_rows: int, seed: int
) -> pd.DataFrame:
    """The training and holdout features monitoring compares production traffic against
    (``monitoring.drift.reference`` picks the quarters)."""
    # horizon_years is both a key and a feature: keep it once.
    columns = list(dict.fromkeys([*KEY_COLUMNS, *FEATURE_COLUMNS]))
    reference = pd.concat(
        [train_set.loc[:, columns], holdout_set.loc[:, columns]], ignore_index=True
    )
    if len(reference) > int(max_rows):
        reference = reference.sample(n=int(max_rows), random_state=int(seed))
    return reference.reset_index(drop=True)


def calibrate_drift_thresholds(
    train_set: pd.DataFrame,
    holdout_set: pd.DataFrame,
    drift_params: dict[str, Any],
    settings: dict[str, Any],
) -> dict[str, Any]:
    """Per-feature drift thresholds from the labelled quarters' own quarter-to-quarter
    movement (:mod:`future_skills_kedro.drift.calibration`), kept with the model version."""
    table = pd.concat([train_set, holdout_set], ignore_index=True)
    history = drift_calibration.build_history(table, NUMERIC_FEATURES, CATEGORICAL_FEATURES)
    n_holdout = len(set(drift_reference.quarter_labels(holdout_set["as_of_date"])))
    return drift_calibration.calibrate(history, n_holdout, drift_params, settings)


def calibrate_probabilities(
    holdout_predictions: pd.DataFrame, calibration: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Fit the probability calibration monitoring estimates performance with.

    Fitted on the holdout (rows the model never saw) and stored with the model version.
    The diagnostics are cross-fitted: each holdout quarter is calibrated by a map fitted on
    the other quarters (5 groups of job role x skill when the holdout has one quarter), so
    they say how the estimate does on a quarter its calibration did not see.
    """
    from future_skills_kedro import calibration as calibration_maps
    from future_skills_kedro import performance_estimation as estimation

    levels = pd.Index(NEED_LEVELS)
    probabilities = holdout_predictions.loc[:, list(PROBABILITY_COLUMNS)].to_numpy(dtype=float)
    labels = levels.get_indexer(holdout_predictions[TARGET_COLUMN].astype("str"))
    predicted = levels.get_indexer(holdout_predictions[PREDICTION_COLUMN].astype("str"))
    horizons = holdout_predictions["horizon_years"].to_numpy()
    method = calibration["method"]
    min_rows = int(calibration["min_rows_per_horizon"])
    fitted = calibration_maps.fit_calibration(
        probabilities,
        labels,
        horizons,
        method,
        min_rows,
        bootstrap_resamples=int(calibration["bootstrap_resamples"]),
        seed=int(calibration["seed"]),
    )

    quarters = holdout_predictions["as_of_date"]
    if quarters.nunique() >= 2:
        folds, scheme = pd.factorize(quarters)[0], "leave one holdout quarter out"
    else:
        pairs = (
            holdout_predictions["job_role_id"].astype("str")
            + "|"
            + holdout_predictions["skill_id"].astype("str")
        )
        folds, scheme = pd.factorize(pairs)[0] % 5, "5 groups of job role x skill"
    cross_fitted = calibration_maps.cross_fitted_probabilities(
        probabilities, labels, horizons, folds, method, min_rows
    )
    realized = estimation.realized(labels, predicted, len(NEED_LEVELS))
    estimated = {
        name: float(value)
        for name, value in estimation.headline_metrics(
            estimation.expected_confusion_matrix(cross_fitted, predicted)
        ).items()
    }
    diagnostics = {
        "cross_fitting": scheme,
        "folds": len(np.unique(folds)),
        "log_loss": {
            "uncalibrated": calibration_maps.mean_log_loss(probabilities, labels),
            "calibrated": calibration_maps.mean_log_loss(cross_fitted, labels),
        },
        "expected_calibration_error": {
            "uncalibrated": calibration_maps.expected_calibration_error(probabilities, labels),
            "calibrated": calibration_maps.expected_calibration_error(cross_fitted, labels),
        },
        "holdout": {
            "realized": realized,
            "estimated": estimated,
            "error": {name: estimated[name] - realized[name] for name in realized},
        },
    }
    artifact = fitted.to_dict() | {
        "fitted_on": {
            "rows": len(holdout_predictions),
            "from": _iso(quarters.min()),
            "to": _iso(quarters.max()),
            "rows_by_horizon": {
                str(h): int(n) for h, n in pd.Series(horizons).value_counts().sort_index().items()
            },
        },
        "settings": dict(calibration),
        "diagnostics": diagnostics,
    }
    metrics = {
        "log_loss_uncalibrated": diagnostics["log_loss"]["uncalibrated"],
        "log_loss": diagnostics["log_loss"]["calibrated"],
        "ece_uncalibrated": diagnostics["expected_calibration_error"]["uncalibrated"],
        "ece": diagnostics["expected_calibration_error"]["calibrated"],
        "holdout_estimated_macro_f1": estimated["macro_f1"],
        "holdout_estimation_error_macro_f1": diagnostics["holdout"]["error"]["macro_f1"],
        "holdout_estimation_error_accuracy": diagnostics["holdout"]["error"]["accuracy"],
    }
    return artifact, as_mlflow_metrics(metrics, prefix="calibration.")
