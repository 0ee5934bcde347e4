"""tuning.* parameters: an impossible search space or zero trials is one line naming it."""

from __future__ import annotations

from future_skills_kedro.parameters.project import validate_parameters
from tests.parameters.test_validation import PIPELINES, base_with, problem


def _space(**dimension) -> dict:
    return {"learning_rate": {"type": "float", "low": 0.02, "high": 0.3} | dimension}


def test_zero_trials():
    assert problem(base_with(tuning__n_trials=0)) == (
        "tuning.n_trials = 0: expected an integer >= 1"
    )


def test_an_empty_range():
    message = problem(base_with(tuning__search_space=_space(low=0.5)))
    assert message.startswith("tuning.search_space.learning_rate.high = 0.3: expected a value")


def test_a_log_scale_from_zero():
    message = problem(base_with(tuning__search_space=_space(low=0.0, log=True)))
    assert message == (
        "tuning.search_space.learning_rate.low = 0.0: expected a value > 0 with log: true"
    )


def test_an_integer_step_wider_than_the_range():
    space = {"max_iter": {"type": "int", "low": 100, "high": 150, "step": 100}}
    message = problem(base_with(tuning__search_space=space))
    assert message.startswith("tuning.search_space.max_iter.step = 100: expected at most")


def test_a_single_choice():
    space = {"class_weight": {"type": "categorical", "choices": ["balanced"]}}
    message = problem(base_with(tuning__search_space=space))
    assert message.startswith("tuning.search_space.class_weight.choices")


def test_an_unknown_dimension_type():
    space = {"max_iter": {"type": "integer", "low": 1, "high": 5}}
    message = problem(base_with(tuning__search_space=space))
    assert message.startswith("tuning.search_space.max_iter")


def test_no_dimension():
    message = problem(base_with(tuning__search_space={}))
    assert message.startswith("tuning.search_space = {}")


def test_a_name_the_estimator_does_not_have():
    space = {"n_knot": {"type": "int", "low": 4, "high": 8}}
    message = problem(base_with(tuning__search_space=space), check_search_space=True)
    assert message.startswith("tuning.search_space.n_knot = ")
    assert "not a parameter of AdditiveLogistic (did you mean n_knots?)" in message


def test_a_bound_scikit_learn_rejects():
    space = {"C": {"type": "float", "low": 0.0, "high": 1.0}}
    message = problem(base_with(tuning__search_space=space), check_search_space=True)
    assert message.startswith("tuning.search_space.C.low = 0.0: expected ")


def test_folds_are_counted_from_one():
    message = problem(base_with(tuning__cv__folds=0))
    assert message == "tuning.cv.folds = 0: expected an integer >= 1"


def test_the_search_space_is_checked_only_when_the_run_tunes():
    # A training run of another algorithm than the one the search space is for (the default
    # space names additive_logistic's C, n_knots, ...) is valid; a tuning run of it is not.
    boosting = base_with(training__model__algorithm="hist_gradient_boosting")
    validate_parameters(boosting, pipelines=PIPELINES, check_estimators=True)
    message = problem(boosting, check_estimators=True, check_search_space=True)
    assert message.startswith("tuning.search_space.C = ")
    assert "not a parameter of HistGradientBoostingClassifier" in message
