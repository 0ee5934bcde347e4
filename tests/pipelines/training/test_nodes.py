"""Node-level tests of the training pipeline: split, model building, metrics, champion."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from future_skills_kedro.contract import (
    FEATURE_COLUMNS,
    KEY_COLUMNS,
    MODEL_INPUT_COLUMNS,
    NEED_LEVELS,
    TARGET_COLUMN,
)
from future_skills_kedro.datasets.registered_model import RegisteredModel
from future_skills_kedro.pipelines.training.nodes import (
    TrainingDataError,
    build_classifier,
    build_promotion_evidence,
    compare_slices,
    evaluate_champion,
    evaluate_on_holdout,
    split_train_holdout,
    summarise_holdout,
    train_classifier,
)
from future_skills_kedro.scoring import PROBABILITY_COLUMNS, classification_metrics

SPLIT = {
    "strategy": "time",
    "holdout_quarters": 2,
    "holdout_fraction": 0.25,
    "random_state": 0,
    "min_train_rows": 50,
    "min_holdout_rows": 20,
}
MODEL = {
    "algorithm": "hist_gradient_boosting",
    "encoding": "target",
    "excluded_features": [],
    "hyperparameters": {
        "hist_gradient_boosting": {"max_iter": 30, "random_state": 0},
        "random_forest": {"n_estimators": 20, "random_state": 0},
        "logistic_regression": {"max_iter": 500},
    },
}


def make_model_input(n_per_quarter: int = 120, quarters: int = 6, seed: int = 0) -> pd.DataFrame:
    """A small model-input table whose label depends (noisily) on trend and usage."""
    rng = np.random.default_rng(seed)
    dates = pd.date_range("2023-03-31", periods=quarters, freq="QE")
    n = n_per_quarter * quarters
    frame = pd.DataFrame(
        {
            "job_role_id": [f"JR{i % 12:03d}" for i in range(n)],
            "skill_id": [f"SK{i % 30:03d}" for i in range(n)],
            "horizon_years": rng.choice([1, 3, 5], n),
            "as_of_date": np.repeat(dates.to_numpy(), n_per_quarter),
            "job_role_name": [f"Role {i % 12}" for i in range(n)],
            "department": [f"Dept {i % 4}" for i in range(n)],
            "seniority": rng.choice(["junior", "mid", "senior", "lead", "manager"], n),
            "skill_name": [f"Skill {i % 30}" for i in range(n)],
            "skill_category": [f"Cat {i % 6}" for i in range(n)],
            "trend_score": rng.random(n),
            "scarcity_index": rng.random(n),
            "hiring_difficulty": rng.random(n),
            "avg_salary_k": rng.uniform(40, 200, n),
            "economic_indicator": rng.random(n),
            "internal_usage": rng.random(n),
            "training_requests": rng.poisson(3, n),
        }
    )
    latent = 2.5 * frame["trend_score"] - 1.5 * frame["internal_usage"] + rng.normal(0, 0.4, n)
    frame[TARGET_COLUMN] = pd.cut(
        latent, [-np.inf, -0.2, 0.8, np.inf], labels=list(NEED_LEVELS)
    ).astype(str)
    return frame.loc[:, list(MODEL_INPUT_COLUMNS)]


def test_time_split_holds_out_the_newest_quarters_without_leakage():
    table = make_model_input()
    train, holdout, info = split_train_holdout(table, SPLIT)
    assert train["as_of_date"].max() < holdout["as_of_date"].min()
    assert holdout["as_of_date"].nunique() == 2
    assert len(train) + len(holdout) == len(table)
    overlap = train.merge(holdout, on=list(dict.fromkeys(KEY_COLUMNS)))
    assert overlap.empty
    assert info["holdout_from"] == "2024-03-31"
    assert info["train_rows"] == len(train)


def test_stratified_split_keeps_class_shares():
    table = make_model_input()
    train, holdout, _ = split_train_holdout(table, SPLIT | {"strategy": "stratified"})
    shares_all = table[TARGET_COLUMN].value_counts(normalize=True)
    shares_holdout = holdout[TARGET_COLUMN].value_counts(normalize=True)
    assert (shares_all - shares_holdout).abs().max() < 0.02
    assert len(train) + len(holdout) == len(table)


@pytest.mark.parametrize(
    ("table", "split", "message"),
    [
        (make_model_input().assign(future_need_level="HIGH"), SPLIT, "single target class"),
        (make_model_input().head(30), SPLIT, "training needs at least"),
        (make_model_input(), SPLIT | {"holdout_quarters": 6}, "holdout_quarters=6"),
        (make_model_input(), SPLIT | {"min_holdout_rows": 10_000}, "training needs at least"),
    ],
)
def test_untrainable_inputs_fail_with_a_clear_message(table, split, message):
    with pytest.raises(TrainingDataError, match=message):
        split_train_holdout(table, split)


@pytest.mark.parametrize(
    "algorithm", ["hist_gradient_boosting", "random_forest", "logistic_regression"]
)
def test_each_algorithm_fits_and_ignores_unknown_categories(algorithm):
    table = make_model_input()
    train, holdout, _ = split_train_holdout(table, SPLIT)
    classifier, fit_metrics, hyperparameters = train_classifier(
        train, MODEL | {"algorithm": algorithm}
    )
    assert fit_metrics["fit_duration_s"] > 0
    assert hyperparameters["model.algorithm"] == algorithm
    unseen = holdout.head(5).assign(job_role_name="Never Seen Role", skill_name="Brand New")
    proba = classifier.predict_proba(unseen.loc[:, list(FEATURE_COLUMNS)])
    assert np.allclose(proba.sum(axis=1), 1.0)


def test_preprocessing_one_hot_encodes_categoricals_with_readable_names():
    classifier = build_classifier(MODEL | {"encoding": "one_hot"})
    table = make_model_input()
    classifier.fit(table.loc[:, list(FEATURE_COLUMNS)], table[TARGET_COLUMN])
    names = classifier.named_steps["preprocess"].get_feature_names_out()
    assert "department_Dept 0" in names
    assert "job_role_name_Role 11" in names
    assert "trend_score" in names


def test_holdout_evaluation_reports_every_metric_and_row():
    table = make_model_input()
    train, holdout, _ = split_train_holdout(table, SPLIT)
    classifier, fit_metrics, _ = train_classifier(train, MODEL)
    metrics, _, predictions, report = evaluate_on_holdout(classifier, holdout, fit_metrics)
    names = set(metrics)
    for expected in (
        "accuracy",
        "macro_f1",
        "macro_precision",
        "macro_recall",
        "weighted_f1",
        "weighted_precision",
        "weighted_recall",
        "log_loss",
        "fit_duration_s",
        "f1_low",
        "precision_high",
        "recall_medium",
        "support_low",
    ):
        assert expected in names
    assert len(predictions) == len(holdout)
    assert predictions["correct"].mean() == pytest.approx(metrics["accuracy"]["value"])
    assert np.allclose(predictions.loc[:, list(PROBABILITY_COLUMNS)].sum(axis=1), 1.0)
    # Learnable signal: clearly better than the majority class.
    majority = holdout[TARGET_COLUMN].value_counts(normalize=True).max()
    assert metrics["accuracy"]["value"] > majority + 0.1
    assert set(report) >= {"LOW", "MEDIUM", "HIGH", "macro avg"}


def test_classification_metrics_match_hand_computed_values():
    y_true = pd.Series(["LOW", "LOW", "HIGH", "MEDIUM"])
    predictions = pd.DataFrame(
        {
            "predicted_need_level": ["LOW", "HIGH", "HIGH", "MEDIUM"],
            "prob_LOW": [0.8, 0.3, 0.1, 0.2],
            "prob_MEDIUM": [0.1, 0.2, 0.1, 0.6],
            "prob_HIGH": [0.1, 0.5, 0.8, 0.2],
        }
    )
    metrics = classification_metrics(y_true, predictions)
    assert metrics["accuracy"] == 0.75
    assert metrics["recall_low"] == 0.5
    assert metrics["precision_high"] == 0.5
    assert metrics["support_low"] == 2
    expected_log_loss = -np.mean(np.log([0.8, 0.3, 0.8, 0.6]))
    assert metrics["log_loss"] == pytest.approx(expected_log_loss)


class _FixedModel:
    """A stand-in *champion* pyfunc (not the component under test): predicts one level."""

    def __init__(self, level: str, fail: bool = False) -> None:
        self.level, self.fail = level, fail

    def predict(self, frame: pd.DataFrame) -> pd.DataFrame:
        if self.fail:
            raise ValueError("Failed to enforce schema: missing column 'job_role_name'")
        out = pd.DataFrame({"predicted_need_level": [self.level] * len(frame)})
        for level in NEED_LEVELS:
            out[f"prob_{level}"] = 1.0 if level == self.level else 0.0
        return out


def _champion(model) -> RegisteredModel:
    return RegisteredModel(model, "future-skills-model", "3", "champion", "1.2.0", "r", {}, {}, {})


def test_champion_is_scored_on_the_same_holdout_rows():
    table = make_model_input()
    train, holdout, _ = split_train_holdout(table, SPLIT)
    classifier, fit_metrics, _ = train_classifier(train, MODEL)
    _, _, predictions, _ = evaluate_on_holdout(classifier, holdout, fit_metrics)
    metrics, comparison, paired, _ = evaluate_champion(
        _champion(_FixedModel("HIGH")), holdout, predictions
    )
    assert comparison["status"] == "compared"
    assert comparison["version"] == "3"
    share_high = (holdout[TARGET_COLUMN] == "HIGH").mean()
    assert metrics["champion_accuracy"]["value"] == pytest.approx(share_high)
    assert len(paired) == len(holdout)
    assert paired["champion_correct"].mean() == pytest.approx(share_high)
    assert paired["challenger_correct"].mean() == pytest.approx(predictions["correct"].mean())


@pytest.mark.parametrize(
    ("champion", "status"),
    [(None, "absent"), (_champion(_FixedModel("LOW", fail=True)), "incompatible")],
)
def test_absent_or_incompatible_champion_is_recorded_not_compared(champion, status):
    table = make_model_input()
    train, holdout, _ = split_train_holdout(table, SPLIT)
    classifier, fit_metrics, _ = train_classifier(train, MODEL)
    _, holdout_scores, predictions, _ = evaluate_on_holdout(classifier, holdout, fit_metrics)
    metrics, comparison, paired, _ = evaluate_champion(champion, holdout, predictions)
    assert metrics == {}
    assert comparison["status"] == status
    assert paired["champion_correct"].isna().all()
    evidence, run_params = build_promotion_evidence(
        table, holdout.loc[:, list(FEATURE_COLUMNS)], paired, {}, MODEL, holdout_scores, comparison
    )
    assert evidence["champion"]["status"] == status
    assert evidence["target_classes"] == ["HIGH", "LOW", "MEDIUM"]
    assert run_params["data_hash"] == evidence["data_hash"]


PROMOTION = {"metric": "macro_f1", "non_inferiority": {"slices": ["department", "horizon_years"]}}
SIGNIFICANCE = {"confidence": 0.95, "resamples": 200, "seed": 1}


def test_slices_compare_both_models_on_each_department_and_horizon():
    table = make_model_input()
    train, holdout, _ = split_train_holdout(table, SPLIT)
    classifier, fit_metrics, _ = train_classifier(train, MODEL)
    _, _, predictions, _ = evaluate_on_holdout(classifier, holdout, fit_metrics)
    _, _, _, champion_scored = evaluate_champion(
        _champion(_FixedModel("HIGH")), holdout, predictions
    )
    slices = compare_slices(holdout, predictions, champion_scored, PROMOTION)
    assert list(slices["slice"].unique()) == ["department", "horizon_years"]
    finance = holdout["department"] == "Dept 1"
    row = slices.loc[slices["value"] == "Dept 1"].iloc[0]
    assert row["rows"] == finance.sum()
    expected_new = classification_metrics(
        holdout.loc[finance, TARGET_COLUMN], predictions.loc[finance]
    )["macro_f1"]
    expected_old = classification_metrics(
        holdout.loc[finance, TARGET_COLUMN], champion_scored.loc[finance.to_numpy()]
    )["macro_f1"]
    assert row["challenger"] == pytest.approx(expected_new)
    assert row["champion"] == pytest.approx(expected_old)
    assert row["difference"] == pytest.approx(expected_new - expected_old)
    assert slices.groupby("slice")["rows"].sum().eq(len(holdout)).all()


def test_without_a_champion_the_slice_table_and_summary_have_the_new_model_only():
    table = make_model_input()
    train, holdout, _ = split_train_holdout(table, SPLIT)
    classifier, fit_metrics, _ = train_classifier(train, MODEL)
    _, holdout_scores, predictions, _ = evaluate_on_holdout(classifier, holdout, fit_metrics)
    _, _, _, champion_scored = evaluate_champion(None, holdout, predictions)
    slices = compare_slices(holdout, predictions, champion_scored, PROMOTION)
    assert slices["champion"].isna().all() and slices["challenger"].notna().all()
    summary = summarise_holdout(train, holdout, predictions, champion_scored, SIGNIFICANCE)
    assert summary["versus_champion"] is None
    macro = summary["metrics"]["macro_f1"]
    assert macro["value"] == pytest.approx(holdout_scores["macro_f1"])
    assert macro["low"] <= macro["value"] <= macro["high"]


def test_the_summary_names_holdout_categories_unseen_in_training_and_the_champion_gap():
    table = make_model_input()
    train, holdout, _ = split_train_holdout(table, SPLIT)
    holdout = holdout.assign(
        skill_category=holdout["skill_category"].where(holdout.index % 2 == 0, "Quantum")
    )
    classifier, fit_metrics, _ = train_classifier(train, MODEL)
    _, _, predictions, _ = evaluate_on_holdout(classifier, holdout, fit_metrics)
    _, _, _, champion_scored = evaluate_champion(
        _champion(_FixedModel("HIGH")), holdout, predictions
    )
    summary = summarise_holdout(train, holdout, predictions, champion_scored, SIGNIFICANCE)
    assert summary["unseen_categories"] == {"skill_category": ["Quantum"]}
    gap = summary["versus_champion"]["accuracy"]
    expected = predictions["correct"].mean() - (holdout[TARGET_COLUMN] == "HIGH").mean()
    assert gap["difference"] == pytest.approx(expected)
    assert gap["low"] <= gap["difference"] <= gap["high"]
