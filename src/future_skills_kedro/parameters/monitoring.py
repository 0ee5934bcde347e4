"""``monitoring``: conf/base/parameters_monitoring.yml.

Allowed methods, signals, operators, periods and metrics come from the code that uses them
(``drift.METHODS``, ``health.SIGNALS``, ...), so a new method is allowed where it is added.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, model_validator

from future_skills_kedro.contract import CATEGORICAL_FEATURES, FEATURE_COLUMNS, NUMERIC_FEATURES
from future_skills_kedro.drift import scores as drift
from future_skills_kedro.drift.reference import REFERENCE_KINDS
from future_skills_kedro.parameters.base import (
    Allowed,
    Invalid,
    IsoDate,
    ParameterModel,
    PositiveInt,
    Seed,
    UnitShare,
)
from future_skills_kedro.pipelines.monitoring import health, performance
from future_skills_kedro.pipelines.monitoring.nodes import EXIT_POLICIES
from future_skills_kedro.prediction_log import PRODUCTION, PURPOSES

Feature = Literal[FEATURE_COLUMNS]
_KIND_OF_FEATURE = {
    **dict.fromkeys(NUMERIC_FEATURES, drift.NUMERIC),
    **dict.fromkeys(CATEGORICAL_FEATURES, drift.CATEGORICAL),
}


class Window(ParameterModel):
    """The UTC days of prediction logs monitored."""

    end_date: IsoDate | None = None
    days: PositiveInt = 7
    # One purpose on the command line (--params monitoring.window.purposes=shadow): Kedro's
    # --params cannot carry a list.
    purposes: Annotated[
        list[Literal[PURPOSES]],
        BeforeValidator(lambda value: [value] if isinstance(value, str) else value),
        Field(min_length=1),
    ] = [PRODUCTION]


class Retention(ParameterModel):
    """How long old prediction-log files are kept (`kedro models prune` deletes the rest)."""

    prediction_log_days: Annotated[int, Field(ge=1)] | None = None


class DriftTest(ParameterModel):
    """A distribution test: Evidently's method name and its threshold."""

    method: Literal[tuple(drift.METHODS)] = Field(
        description="Evidently's name of the test; it must apply to the column's kind "
        "(numeric or categorical)."
    )
    threshold: float | None = Field(
        None,
        ge=0,
        description="Drift when a distance is at or above it (a p-value: below it, ks: at or "
        "below); null: Evidently's default for the method.",
    )

    @model_validator(mode="before")
    @classmethod
    def _default_threshold(cls, values: Any) -> Any:
        if isinstance(values, dict) and values.get("threshold") is None:
            method = values.get("method")
            if method in drift.METHODS:
                return {**values, "threshold": drift.METHODS[method][2]}
        return values


NumericTest = Annotated[DriftTest, Allowed("a drift test {method, threshold} for numeric values")]
CategoricalTest = Annotated[DriftTest, Allowed("a drift test {method, threshold} for categories")]


def _check_kind(test: DriftTest, kind: str, at: tuple[str, ...]) -> None:
    kinds = drift.METHODS[test.method][0]
    if kind not in kinds:
        usable = [name for name, (accepted, _, _) in drift.METHODS.items() if kind in accepted]
        raise Invalid(
            f"expected a method for {kind} columns: one of {', '.join(usable)}",
            at=(*at, "method"),
            value=test.method,
        )


class Drift(ParameterModel):
    """Feature drift of the window against a reference (the champion's holdout quarters by
    default), with the thresholds calibrated when the champion was trained."""

    reference: Literal[REFERENCE_KINDS] = "holdout"
    engine: Literal["evidently", "builtin"] = "evidently"
    evidently_max_rows: PositiveInt = 20_000
    sample_seed: Seed = 42
    numeric: NumericTest = DriftTest(method="wasserstein", threshold=0.1)
    categorical: CategoricalTest = DriftTest(method="jensenshannon", threshold=0.1)
    per_column: dict[Feature, DriftTest] = {}
    dataset_drift_share: UnitShare = 0.5

    @model_validator(mode="after")
    def _methods_fit_their_columns(self) -> Drift:
        _check_kind(self.numeric, drift.NUMERIC, ("numeric",))
        _check_kind(self.categorical, drift.CATEGORICAL, ("categorical",))
        for column, test in self.per_column.items():
            _check_kind(test, _KIND_OF_FEATURE[column], ("per_column", column))
        return self


class BacktestInjection(ParameterModel):
    """The shifts the drift backtest injects to measure detection power."""

    numeric_std: float = Field(0.5, gt=0)
    numeric_movement_multiple: float = Field(3.0, ge=0)
    categorical_mass: Annotated[float, Field(gt=0, lt=1)] = 0.15


class BacktestTargets(ParameterModel):
    """What the drift backtest should reach on the labelled history."""

    false_alarm_rate_max: UnitShare = 0.05
    power_min: UnitShare = 0.95


class Backtest(ParameterModel):
    """The labelled history replayed through the drift policy."""

    injection: BacktestInjection = BacktestInjection()
    targets: BacktestTargets = BacktestTargets()


class PredictionDrift(ParameterModel):
    """Class mix and confidence of the window against the champion's holdout predictions."""

    class_mix: CategoricalTest = DriftTest(method="jensenshannon", threshold=0.1)
    confidence: NumericTest = DriftTest(method="wasserstein", threshold=0.2)
    confidence_trend_tolerance: float = Field(0.005, ge=0)

    @model_validator(mode="after")
    def _methods_fit_their_columns(self) -> PredictionDrift:
        _check_kind(self.class_mix, drift.CATEGORICAL, ("class_mix",))
        _check_kind(self.confidence, drift.NUMERIC, ("confidence",))
        return self


class Performance(ParameterModel):
    """Model performance where labels have arrived."""

    period: Literal[performance.PERIODS] = "as_of_date"
    min_rows: PositiveInt = 200
    min_rows_per_period: PositiveInt = 50
    trend_metric: Literal[performance.HEADLINE_METRICS] = "macro_f1"
    trend_tolerance: float = Field(0.01, ge=0)


class PerformanceEstimate(ParameterModel):
    """Performance estimated from calibrated probabilities, before labels arrive."""

    min_rows: PositiveInt = 1000
    confidence: Annotated[float, Field(gt=0, lt=1)] = 0.95
    resamples: PositiveInt = 200
    exact_max_rows: PositiveInt = 20000
    seed: Seed = 42


class ImportantFeatures(ParameterModel):
    """The features whose drift matters most."""

    features: list[Feature] = []
    top_k: PositiveInt = 3


class HealthRule(ParameterModel):
    """Fires when ``signal op threshold``."""

    signal: Literal[health.SIGNALS] = Field(description="The number the rule compares.")
    op: Literal[tuple(health.OPERATORS)] = Field(
        ">=", description="Fires when: signal op threshold."
    )
    threshold: float = Field(description="The value the signal is compared with.")
    severity: Literal[health.SEVERITIES] = Field(description="The status when the rule fires.")
    retrain: bool = Field(False, description="A fired rule recommends retraining.")
    description: str | None = Field(
        None, description="The issue's message (null: the signal's name)."
    )
    enabled: bool = Field(True, description="false: the rule is not evaluated.")


class Health(ParameterModel):
    """Named rules over the signals -> healthy / degraded / unhealthy."""

    important_features: ImportantFeatures = ImportantFeatures()
    expected_predictions_per_day: float | None = Field(None, gt=0)
    rules: dict[str, HealthRule] = {}


class ExitPolicy(ParameterModel):
    """Which statuses make `kedro run` exit non-zero."""

    fail_on: Literal[EXIT_POLICIES] = "unhealthy"
    fail_on_no_data: bool = True


class MonitoringParameters(ParameterModel):
    """Window, drift, performance, health, exit policy."""

    window: Window = Window()
    drift: Drift = Drift()
    backtest: Backtest = Backtest()
    prediction_drift: PredictionDrift = PredictionDrift()
    performance: Performance = Performance()
    performance_estimate: PerformanceEstimate = PerformanceEstimate()
    health: Health = Health()
    exit_policy: ExitPolicy = ExitPolicy()
    retention: Retention = Retention()

    @model_validator(mode="after")
    def _logs_outlive_the_window(self) -> MonitoringParameters:
        keep = self.retention.prediction_log_days
        if keep is not None and keep < self.window.days:
            raise Invalid(
                f"at least window.days ({self.window.days}): monitoring reads that many days",
                at=("retention", "prediction_log_days"),
                value=keep,
            )
        return self
