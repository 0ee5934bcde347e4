"""Scoring: large inputs in row blocks on several threads (the same probabilities, bit for
bit), and the quality metrics."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from future_skills_kedro import scoring
from future_skills_kedro.contract import FEATURE_COLUMNS, NEED_LEVELS, TARGET_COLUMN
from future_skills_kedro.pipelines.training.nodes import build_classifier
from tests.pipelines.training.test_nodes import MODEL, make_model_input

ALGORITHMS = ("additive_logistic", "hist_gradient_boosting", "random_forest", "logistic_regression")


@pytest.fixture(scope="module")
def table() -> pd.DataFrame:
    return make_model_input()


@pytest.fixture(scope="module")
def many_rows(table) -> pd.DataFrame:
    """5,040 rows: the table seven times, numbers jittered so that no two rows are equal."""
    rows = pd.concat([table] * 7, ignore_index=True)
    jitter = np.random.default_rng(1).normal(0, 0.01, len(rows))
    return rows.assign(trend_score=rows["trend_score"] + jitter).loc[:, list(FEATURE_COLUMNS)]


class _Recording:
    """A fitted classifier whose predict_proba calls are counted (sizes of the blocks)."""

    def __init__(self, classifier) -> None:
        self._classifier, self.block_rows = classifier, []

    def predict_proba(self, features: pd.DataFrame) -> np.ndarray:
        self.block_rows.append(len(features))
        return self._classifier.predict_proba(features)


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_blocks_scored_on_threads_give_the_probabilities_of_one_call(
    algorithm, table, many_rows, monkeypatch
):
    model = MODEL | {"algorithm": algorithm}
    model["hyperparameters"] = MODEL["hyperparameters"] | {"additive_logistic": {"n_knots": 4}}
    classifier = build_classifier(model).fit(
        table.loc[:, list(FEATURE_COLUMNS)], table[TARGET_COLUMN]
    )
    monkeypatch.setattr(scoring, "ROWS_PER_THREAD", 1000)
    recording = _Recording(classifier)

    in_blocks = scoring.predict_proba_in_blocks(recording, many_rows, threads=3)

    assert recording.block_rows == [1680, 1680, 1680]
    np.testing.assert_array_equal(in_blocks, classifier.predict_proba(many_rows))


@pytest.mark.parametrize(
    ("rows", "threads", "blocks"),
    [(5040, 8, [1008] * 5), (1999, 4, [1999]), (5040, 1, [5040]), (2000, 2, [1000, 1000])],
)
def test_only_inputs_worth_a_thread_per_block_are_split(
    rows, threads, blocks, table, many_rows, monkeypatch
):
    classifier = build_classifier(MODEL).fit(
        table.loc[:, list(FEATURE_COLUMNS)], table[TARGET_COLUMN]
    )
    monkeypatch.setattr(scoring, "ROWS_PER_THREAD", 1000)
    recording = _Recording(classifier)

    proba = scoring.predict_proba_in_blocks(recording, many_rows.head(rows), threads)

    assert recording.block_rows == blocks
    assert proba.shape == (rows, len(classifier.classes_))


def test_predict_need_levels_uses_the_threads_the_process_may_use(table, many_rows, monkeypatch):
    classifier = build_classifier(MODEL).fit(
        table.loc[:, list(FEATURE_COLUMNS)], table[TARGET_COLUMN]
    )
    monkeypatch.setattr(scoring, "ROWS_PER_THREAD", 1000)
    monkeypatch.setattr(scoring, "numeric_threads", lambda: 2)
    recording = _Recording(classifier)
    recording.classes_ = classifier.classes_

    scoring.predict_need_levels(recording, many_rows)

    assert recording.block_rows == [2520, 2520]


def _scored(proba: np.ndarray) -> pd.DataFrame:
    predictions = pd.DataFrame(proba, columns=list(scoring.PROBABILITY_COLUMNS))
    best = np.asarray(NEED_LEVELS, dtype=object)[proba.argmax(axis=1)]
    predictions.insert(0, scoring.PREDICTION_COLUMN, best)
    return predictions


@pytest.mark.parametrize("case", ["every level", "HIGH never predicted", "one level true"])
def test_metrics_are_scikit_learns_on_the_level_names(case):
    """classification_metrics hands scikit-learn the levels' positions (faster): the values
    are those scikit-learn gives on the names themselves, per class in contract order."""
    from sklearn.metrics import accuracy_score, precision_recall_fscore_support

    rng = np.random.default_rng(7)
    y_true = rng.choice(np.asarray(NEED_LEVELS, dtype=object), 500)
    proba = rng.dirichlet([1, 1, 1], 500)
    if case == "HIGH never predicted":
        proba[:, NEED_LEVELS.index("HIGH")] = 0.0
    if case == "one level true":
        y_true[:] = "MEDIUM"

    metrics = scoring.classification_metrics(pd.Series(y_true), _scored(proba))

    y_pred = _scored(proba)[scoring.PREDICTION_COLUMN].to_numpy(object)
    expected = {"accuracy": accuracy_score(y_true, y_pred)}
    for average in ("macro", "weighted"):
        precision, recall, f1, _ = precision_recall_fscore_support(
            y_true, y_pred, labels=list(NEED_LEVELS), average=average, zero_division=0
        )
        expected |= {f"{average}_precision": precision, f"{average}_recall": recall}
        expected[f"{average}_f1"] = f1
    per_class = precision_recall_fscore_support(
        y_true, y_pred, labels=list(NEED_LEVELS), average=None, zero_division=0
    )
    for name, values in zip(("precision", "recall", "f1", "support"), per_class, strict=True):
        expected |= {f"{name}_{level.lower()}": values[i] for i, level in enumerate(NEED_LEVELS)}
    assert {name: metrics[name] for name in expected} == expected


def test_an_unknown_target_level_is_named():
    predictions = _scored(np.eye(3))
    with pytest.raises(ValueError, match=r"unknown target level\(s\) \['VERY_HIGH'\]"):
        scoring.classification_metrics(["LOW", "VERY_HIGH", "HIGH"], predictions)
