"""additive_logistic: the sparse basis, unseen categories, order independence, checked params."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from future_skills_kedro.additive import AdditiveBasis, AdditiveLogistic
from future_skills_kedro.contract import CATEGORICAL_FEATURES, FEATURE_COLUMNS, TARGET_COLUMN
from future_skills_kedro.encoding import known_categories
from future_skills_kedro.parameters.base import Invalid
from future_skills_kedro.parameters.training import check_hyperparameters
from future_skills_kedro.pipelines.training.nodes import build_classifier
from tests.pipelines.training.test_nodes import make_model_input

ADDITIVE = {
    "algorithm": "additive_logistic",
    "encoding": "target",
    "excluded_features": [],
    "hyperparameters": {"additive_logistic": {"n_knots": 4}},
}


@pytest.fixture(scope="module")
def table() -> pd.DataFrame:
    return make_model_input()


def _fit(table: pd.DataFrame, model: dict = ADDITIVE):
    classifier = build_classifier(model)
    return classifier.fit(table.loc[:, list(FEATURE_COLUMNS)], table[TARGET_COLUMN])


def test_each_row_has_its_terms_the_terms_times_its_horizon_and_its_role_and_skill(table):
    features = table.loc[:, list(FEATURE_COLUMNS)]
    basis = AdditiveBasis(n_knots=4).fit(features)
    matrix = basis.transform(features)
    width = basis.terms_width_
    assert matrix.shape == (len(features), 2 * width + sum(basis.identity_sizes_))
    position = basis.horizon_position(features)
    assert sorted(set(position)) == [0.0, 0.5, 1.0]  # horizons 1, 3, 5
    splines = basis.splines_.transform(features.loc[:, basis.numeric_].to_numpy(float))
    for row in range(0, len(features), 97):
        columns = matrix.indices[matrix.indptr[row] : matrix.indptr[row + 1]]
        values = matrix.data[matrix.indptr[row] : matrix.indptr[row + 1]]
        assert (np.diff(columns) > 0).all()  # sorted, no column twice
        terms = values[columns < width]
        np.testing.assert_allclose(terms[: splines.shape[1]], splines[row])
        scaled = values[(columns >= width) & (columns < 2 * width)]
        np.testing.assert_allclose(scaled, terms * position[row])
        # One column per role and per skill, each equal to 1.
        assert values[columns >= 2 * width].tolist() == [1.0, 1.0]


def test_scoring_equals_the_scaled_logistic_regression_it_was_fitted_as(table):
    features, target = table.loc[:, list(FEATURE_COLUMNS)], table[TARGET_COLUMN]
    model = AdditiveLogistic(n_knots=4).fit(features, target)
    reference = make_pipeline(
        AdditiveBasis(n_knots=4),
        StandardScaler(with_mean=False),
        LogisticRegression(tol=1e-3, max_iter=3000),
    ).fit(features, target)
    np.testing.assert_allclose(
        model.predict_proba(features), reference.predict_proba(features), atol=1e-8
    )


def test_unseen_categories_are_scored_from_the_other_features_and_known(table):
    classifier = _fit(table)
    original = table.loc[:, list(FEATURE_COLUMNS)].head(6)
    rows = original.copy()
    rows.loc[1, "job_role_name"] = "Quantum Prompt Engineer"
    rows.loc[2, list(CATEGORICAL_FEATURES)] = "never seen"
    rows.loc[3, "horizon_years"] = 10  # beyond the longest horizon trained on: clipped to it
    rows.loc[4, ["trend_score", "internal_usage"]] = np.nan  # a missing value adds nothing
    proba = classifier.predict_proba(rows)
    assert np.isfinite(proba).all() and np.allclose(proba.sum(axis=1), 1.0)
    # The unknown role adds nothing: its row moves away from the known role's score.
    assert not np.allclose(proba[1], classifier.predict_proba(original)[1])
    nearest = rows.loc[[3]].assign(horizon_years=max(table["horizon_years"]))
    np.testing.assert_allclose(proba[3], classifier.predict_proba(nearest)[0])

    known = known_categories(classifier)
    assert set(known) == set(CATEGORICAL_FEATURES)
    assert known["skill_name"] == sorted(table["skill_name"].unique())


def test_the_order_of_rows_and_categories_does_not_change_the_model(table):
    shuffled = table.sample(frac=1.0, random_state=3).reset_index(drop=True)
    rows = table.loc[:, list(FEATURE_COLUMNS)].head(200)
    np.testing.assert_allclose(
        _fit(table).predict_proba(rows), _fit(shuffled).predict_proba(rows), atol=1e-6
    )


def test_rows_are_scored_independently_of_their_batch(table):
    classifier = _fit(table)
    rows = table.loc[:, list(FEATURE_COLUMNS)]
    whole = classifier.predict_proba(rows)
    bounds = np.linspace(0, len(rows), 8).astype(int)
    parts = np.vstack(
        [classifier.predict_proba(rows.iloc[a:b]) for a, b in itertools.pairwise(bounds)]
    )
    np.testing.assert_array_equal(whole, parts)


def test_additive_hyperparameters_are_checked_before_any_fit():
    with pytest.raises(Invalid, match="range") as error:
        check_hyperparameters("additive_logistic", {"C": 0.0})
    assert error.value.at == ("hyperparameters", "additive_logistic", "C")
    with pytest.raises(Invalid, match="not a parameter of AdditiveLogistic"):
        check_hyperparameters("additive_logistic", {"n_knot": 5})


def _awkward_rows(table: pd.DataFrame) -> pd.DataFrame:
    """Rows with an unseen role, all categories unseen, a far horizon and missing numbers."""
    rows = table.loc[:, list(FEATURE_COLUMNS)].head(40).copy()
    rows.loc[1, "job_role_name"] = "Quantum Prompt Engineer"
    rows.loc[2, list(CATEGORICAL_FEATURES)] = "never seen"
    rows.loc[3, "horizon_years"] = 10
    rows.loc[4, ["trend_score", "internal_usage"]] = np.nan
    rows.loc[5, "skill_name"] = np.nan
    return rows


@pytest.mark.parametrize("products", [True, False])
def test_weighted_sums_on_the_basis_equal_the_sparse_basis_times_the_weights(table, products):
    features = table.loc[:, list(FEATURE_COLUMNS)]
    basis = AdditiveBasis(n_knots=4, products=products).fit(features)
    rows = _awkward_rows(table)
    weights = np.random.default_rng(0).normal(size=(3, basis.n_features_out_))
    np.testing.assert_allclose(
        basis.dot(rows, weights), basis.transform(rows) @ weights.T, rtol=1e-12, atol=1e-12
    )


@pytest.mark.parametrize("levels", [None, ("LOW", "HIGH")], ids=["three classes", "two"])
def test_scoring_equals_the_fitted_logistic_regression_on_the_sparse_basis(table, levels):
    if levels is not None:
        table = table.loc[table[TARGET_COLUMN].isin(levels)]
    model = AdditiveLogistic(n_knots=4).fit(
        table.loc[:, list(FEATURE_COLUMNS)], table[TARGET_COLUMN]
    )
    rows = _awkward_rows(table.reset_index(drop=True))
    reference = model.logistic_.predict_proba(model.basis_.transform(rows))
    np.testing.assert_allclose(model.predict_proba(rows), reference, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(
        model.decision_function(rows),
        model.logistic_.decision_function(model.basis_.transform(rows)),
        rtol=1e-12,
        atol=1e-12,
    )


def test_each_row_alone_is_scored_as_in_the_whole_batch(table):
    classifier = _fit(table)
    rows = _awkward_rows(table)
    whole = classifier.predict_proba(rows)
    alone = np.vstack([classifier.predict_proba(rows.iloc[[i]]) for i in range(len(rows))])
    np.testing.assert_array_equal(whole, alone)
