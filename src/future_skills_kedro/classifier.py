"""The classifier a ``training.model`` section describes: estimator, encoding, input columns.

Shared by the training pipeline (which fits it once on the training quarters) and the tuning
pipeline (which fits it once per trial and fold), so a tuned value means the same model.
"""

from __future__ import annotations

import importlib
from typing import Any

from future_skills_kedro.contract import FEATURE_COLUMNS

# training.model.algorithm -> its scikit-learn estimator ("module:Class", imported when used).
ESTIMATORS = {
    "hist_gradient_boosting": "sklearn.ensemble:HistGradientBoostingClassifier",
    "random_forest": "sklearn.ensemble:RandomForestClassifier",
    "logistic_regression": "sklearn.linear_model:LogisticRegression",
    "boosted_spline_blend": "future_skills_kedro.blend:BoostedSplineBlend",
    "additive_logistic": "future_skills_kedro.additive:AdditiveLogistic",
}
# Algorithms that split integer-coded categoricals natively (encoding "native" allowed).
NATIVE_CATEGORICAL = ("hist_gradient_boosting", "boosted_spline_blend")


def estimator_class(algorithm: str) -> type:
    """The scikit-learn classifier class of ``algorithm`` (a key of ``ESTIMATORS``)."""
    module, name = ESTIMATORS[algorithm].split(":")
    return getattr(importlib.import_module(module), name)


def model_features(model: dict[str, Any]) -> list[str]:
    """The contract's feature columns minus ``model.excluded_features``: the model's input."""
    excluded = set(model["excluded_features"])
    return [column for column in FEATURE_COLUMNS if column not in excluded]


def build_classifier(model: dict[str, Any]):
    """A scikit-learn Pipeline: categoricals encoded as ``model.encoding`` says, classifier."""
    from sklearn.pipeline import Pipeline

    from future_skills_kedro.encoding import build_preprocessor

    algorithm = model["algorithm"]
    hyperparameters = dict(model["hyperparameters"][algorithm])
    if algorithm == "boosted_spline_blend":  # encodes its own input (blend.py)
        blend = estimator_class(algorithm)(**hyperparameters | {"encoding": model["encoding"]})
        return Pipeline([("classifier", blend)])
    if algorithm == "additive_logistic":  # builds its own basis, no encoding (additive.py)
        return Pipeline([("classifier", estimator_class(algorithm)(**hyperparameters))])
    is_boosting = algorithm == "hist_gradient_boosting"
    preprocess, native = build_preprocessor(
        model["encoding"],
        model_features(model),
        # Linear models need scaled numerics; trees do not care.
        scale_numeric=algorithm == "logistic_regression",
        native_categorical=is_boosting,
        seed=int(hyperparameters.get("random_state") or 0),
    )
    if is_boosting:
        hyperparameters["categorical_features"] = native or None
    classifier = estimator_class(algorithm)(**hyperparameters)
    return Pipeline([("preprocess", preprocess), ("classifier", classifier)])
