"""boosted_spline_blend: the mean of its halves, unseen categories scored, checked params."""

from __future__ import annotations

import numpy as np
import pytest

from future_skills_kedro.contract import CATEGORICAL_FEATURES, FEATURE_COLUMNS, TARGET_COLUMN
from future_skills_kedro.encoding import known_categories
from future_skills_kedro.parameters.base import Invalid
from future_skills_kedro.parameters.training import check_hyperparameters
from future_skills_kedro.pipelines.training.nodes import build_classifier
from tests.pipelines.training.test_nodes import make_model_input

BLEND = {
    "algorithm": "boosted_spline_blend",
    "encoding": "target",
    "excluded_features": [],
    "hyperparameters": {"boosted_spline_blend": {"max_iter": 20, "n_knots": 4}},
}


def test_blend_averages_its_halves_and_scores_unseen_categories():
    table = make_model_input()
    classifier = build_classifier(BLEND)
    classifier.fit(table.loc[:, list(FEATURE_COLUMNS)], table[TARGET_COLUMN])
    blend = classifier.named_steps["classifier"]

    rows = table.loc[:, list(FEATURE_COLUMNS)].head(5).copy()
    rows.loc[1, "job_role_name"] = "Quantum Prompt Engineer"
    rows.loc[2, list(CATEGORICAL_FEATURES)] = "never seen"
    rows.loc[3, "horizon_years"] = 10  # a horizon training never saw
    proba = classifier.predict_proba(rows)
    halves = [half.predict_proba(rows) for half in blend.estimators_]
    np.testing.assert_allclose(proba, (halves[0] + halves[1]) / 2)
    assert not np.allclose(halves[0], halves[1])
    assert np.isfinite(proba).all() and np.allclose(proba.sum(axis=1), 1.0)
    assert list(classifier.feature_names_in_) == list(FEATURE_COLUMNS)

    known = known_categories(classifier)
    assert set(known) == set(CATEGORICAL_FEATURES)
    assert known["skill_name"] == sorted(table["skill_name"].unique())


def test_blend_hyperparameters_are_checked_before_any_fit():
    with pytest.raises(Invalid, match="range") as error:
        check_hyperparameters("boosted_spline_blend", {"C": -1.0})
    assert error.value.at == ("hyperparameters", "boosted_spline_blend", "C")
    with pytest.raises(Invalid, match="not a parameter of BoostedSplineBlend"):
        check_hyperparameters("boosted_spline_blend", {"n_knot": 5})
