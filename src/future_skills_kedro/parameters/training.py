"""``training``: conf/base/parameters_training.yml."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import Field, ValidationInfo, model_validator

from future_skills_kedro.calibration import CALIBRATION_METHODS
from future_skills_kedro.classifier import ESTIMATORS, NATIVE_CATEGORICAL, estimator_class
from future_skills_kedro.contract import FEATURE_COLUMNS
from future_skills_kedro.encoding import ENCODINGS
from future_skills_kedro.parameters.base import (
    Allowed,
    Invalid,
    ParameterModel,
    PositiveInt,
    Seed,
)
from future_skills_kedro.parameters.errors import did_you_mean
from future_skills_kedro.pipelines.training.nodes import SPLIT_STRATEGIES

Algorithm = Literal[tuple(ESTIMATORS)]
Feature = Literal[FEATURE_COLUMNS]
Hyperparameters = Annotated[
    dict[str, Any],
    Allowed("a mapping of the estimator's keyword arguments (scikit-learn checks them)"),
]
# Validation context key: check hyperparameters with scikit-learn (imports it: only when the
# run fits a model).
CHECK_ESTIMATORS = "check_estimators"


class TrainingSplit(ParameterModel):
    """Train/holdout split."""

    strategy: Literal[SPLIT_STRATEGIES] = "time"
    holdout_quarters: PositiveInt = 2
    holdout_fraction: float = Field(0.2, gt=0, lt=1)
    random_state: Seed = 42
    min_train_rows: PositiveInt = 500
    min_holdout_rows: PositiveInt = 100


class TrainingModel(ParameterModel):
    """Algorithm, excluded features and the hyperparameters of each algorithm."""

    algorithm: Algorithm = "additive_logistic"
    encoding: Literal[ENCODINGS] = "target"
    excluded_features: list[Feature] = []
    hyperparameters: dict[Algorithm, Hyperparameters]  # no default: the yml configures them

    @model_validator(mode="after")
    def _consistent(self, info: ValidationInfo) -> TrainingModel:
        if self.algorithm not in self.hyperparameters:
            configured = ", ".join(self.hyperparameters) or "none"
            raise Invalid(
                f"expected an algorithm with hyperparameters (configured: {configured})",
                at=("algorithm",),
                value=self.algorithm,
            )
        if self.encoding == "native" and self.algorithm not in NATIVE_CATEGORICAL:
            raise Invalid(
                "expected target or one_hot: native categorical support is only in "
                + ", ".join(NATIVE_CATEGORICAL),
                at=("encoding",),
                value=self.encoding,
            )
        if set(FEATURE_COLUMNS) <= set(self.excluded_features):
            raise Invalid(
                "expected to leave at least one feature to the model",
                at=("excluded_features",),
                value=self.excluded_features,
            )
        if (info.context or {}).get(CHECK_ESTIMATORS):
            for algorithm, hyperparameters in self.hyperparameters.items():
                check_hyperparameters(algorithm, hyperparameters)
        return self


def check_hyperparameters(algorithm: str, hyperparameters: dict[str, Any]) -> None:
    """Names and values as scikit-learn's estimator accepts them, checked without fitting."""
    estimator_type = estimator_class(algorithm)
    known = estimator_type().get_params()
    for name, value in hyperparameters.items():
        if name not in known:
            raise Invalid(
                f"not a parameter of {estimator_type.__name__}{did_you_mean(name, list(known))}",
                at=("hyperparameters", algorithm, name),
                value=value,
            )
    estimator = estimator_type(**hyperparameters)
    # scikit-learn's declared constraints, the check fit() itself starts with. The method is
    # private: without it (another scikit-learn), fit() reports the same error later.
    validate = getattr(estimator, "_validate_params", None)
    if validate is None:
        return
    try:
        validate()
    except ValueError as error:
        found = re.match(r"The '(\w+)' parameter of \w+ must be (.+?)\. Got ", str(error), re.S)
        if found is None:
            raise Invalid(
                f"rejected by {estimator_type.__name__}: {error}", at=("hyperparameters", algorithm)
            ) from None
        name = found[1]
        raise Invalid(
            f"expected {found[2]} ({estimator_type.__name__})",
            at=("hyperparameters", algorithm, name),
            value=hyperparameters.get(name),
        ) from None


class PermutationImportance(ParameterModel):
    """Permutation importance on the holdout."""

    n_repeats: PositiveInt = 5
    max_rows: PositiveInt = 5000
    seed: Seed = 42


class ReferenceFeatures(ParameterModel):
    """Training and holdout features kept as monitoring's drift reference."""

    max_rows: PositiveInt = 50_000
    seed: Seed = 42


class Calibration(ParameterModel):
    """The probability calibration fitted on the holdout, kept with the model version."""

    method: Literal[CALIBRATION_METHODS] = "vector"
    min_rows_per_horizon: PositiveInt = 300
    bootstrap_resamples: Annotated[int, Field(ge=0)] = 50
    seed: Seed = 42


class DriftFloor(ParameterModel):
    """The smallest calibrated threshold, per kind of feature."""

    numeric: float = Field(0.05, ge=0)
    categorical: float = Field(0.02, ge=0)


class DriftCalibration(ParameterModel):
    """Drift thresholds calibrated on the labelled quarters, kept with the model version."""

    quantile: Annotated[float, Field(gt=0, le=1)] = 0.95
    margin: Annotated[float, Field(ge=1)] = 1.2
    floor: DriftFloor = DriftFloor()
    min_quarters: PositiveInt = 3
    low_cardinality_max_values: PositiveInt = 20


class TrainingParameters(ParameterModel):
    """Split, model, evaluation artifacts."""

    split: TrainingSplit = TrainingSplit()
    model: TrainingModel
    permutation_importance: PermutationImportance = PermutationImportance()
    signature_rows: PositiveInt = 20
    reference_features: ReferenceFeatures = ReferenceFeatures()
    calibration: Calibration = Calibration()
    drift_calibration: DriftCalibration = DriftCalibration()
