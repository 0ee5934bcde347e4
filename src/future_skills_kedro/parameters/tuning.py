"""``tuning``: conf/base/parameters_tuning.yml."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, model_validator

from future_skills_kedro.parameters.base import (
    Allowed,
    Invalid,
    ParameterModel,
    PositiveInt,
    Seed,
)

Choice = Annotated[str | bool | int | float | None, Allowed("a text, number, boolean or null")]
DIMENSION_TYPES = ("float", "int", "categorical")


class SearchDimension(ParameterModel):
    """One searched hyperparameter: ``{type: float, low, high, log}``, ``{type: int, low,
    high, step, log}`` or ``{type: categorical, choices}``."""

    type: Literal[DIMENSION_TYPES] = Field(
        description="float or int: a range from low to high; categorical: one of choices."
    )
    low: int | float | None = Field(None, description="The smallest value (float and int).")
    high: int | float | None = Field(
        None, description="The largest value, above low (float and int)."
    )
    step: PositiveInt | None = Field(None, description="Spacing of an int range (1 when unset).")
    log: bool = Field(False, description="Sample on a log scale (low > 0).")
    choices: list[Choice] | None = Field(
        None, description="At least two distinct values (categorical)."
    )

    @model_validator(mode="after")
    def _possible(self) -> SearchDimension:
        if self.type == "categorical":
            return self._possible_choices()
        for bound in ("low", "high"):
            value = getattr(self, bound)
            if value is None:
                raise Invalid(f"expected a number for a {self.type} range", at=(bound,), value=None)
            if self.type == "int" and not isinstance(value, int):
                raise Invalid("expected an integer for an int range", at=(bound,), value=value)
        if self.choices is not None:
            raise Invalid(
                f"expected no choices in a {self.type} range", at=("choices",), value=self.choices
            )
        if self.high <= self.low:
            raise Invalid(
                f"expected a value above low ({self.low}): an empty range",
                at=("high",),
                value=self.high,
            )
        if self.log and self.low <= 0:
            raise Invalid("expected a value > 0 with log: true", at=("low",), value=self.low)
        if self.step is not None:
            if self.type != "int":
                raise Invalid(
                    "expected no step: only int ranges have one", at=("step",), value=self.step
                )
            if self.log and self.step != 1:
                raise Invalid(
                    "expected 1 with log: true (Optuna samples a log scale unstepped)",
                    at=("step",),
                    value=self.step,
                )
            if self.step > self.high - self.low:
                raise Invalid(
                    f"expected at most high - low = {self.high - self.low}: one value only",
                    at=("step",),
                    value=self.step,
                )
        return self

    def _possible_choices(self) -> SearchDimension:
        for name in ("low", "high", "step"):
            if getattr(self, name) is not None:
                raise Invalid(
                    "expected none in a categorical dimension (choices only)",
                    at=(name,),
                    value=getattr(self, name),
                )
        if self.choices is None or len(self.choices) < 2:
            raise Invalid("expected at least two choices", at=("choices",), value=self.choices)
        if len({repr(choice) for choice in self.choices}) != len(self.choices):
            raise Invalid("expected distinct choices", at=("choices",), value=self.choices)
        return self


class TuningCrossValidation(ParameterModel):
    """Time-based folds cut from the training quarters (never the holdout)."""

    folds: PositiveInt = 3
    validation_quarters: PositiveInt = 2


class TuningParameters(ParameterModel):
    """The Optuna study of ``kedro run --pipelines tuning``."""

    n_trials: PositiveInt = 20
    seed: Seed = 42
    startup_trials: PositiveInt = 10
    start_from_current: bool = True
    cv: TuningCrossValidation = TuningCrossValidation()
    # no default: conf/base/parameters_tuning.yml sets it
    search_space: Annotated[dict[str, SearchDimension], Field(min_length=1)]


def check_search_space(search_space: dict[str, Any], algorithm: str) -> None:
    """Every searched name is a hyperparameter of ``algorithm``'s estimator and every bound
    or choice a value scikit-learn accepts (checked without fitting). Raises
    :class:`Invalid` located below ``tuning.search_space``."""
    from future_skills_kedro.parameters.training import check_hyperparameters

    for name, dimension in search_space.items():
        if dimension.type == "categorical":
            values = [("choices", choice) for choice in dimension.choices]
        else:
            values = [("low", dimension.low), ("high", dimension.high)]
        for field, value in values:
            try:
                check_hyperparameters(algorithm, {name: value})
            except Invalid as error:
                unknown = (
                    error.at[-1:] == (name,)
                    and error.value is value
                    and ("not a parameter" in error.allowed)
                )
                raise Invalid(
                    error.allowed,
                    at=(name,) if unknown else (name, field),
                    value=dimension.model_dump(exclude_defaults=True) if unknown else value,
                ) from None
