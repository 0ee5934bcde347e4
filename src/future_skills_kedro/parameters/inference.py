"""``inference``: conf/base/parameters_inference.yml."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from future_skills_kedro.contract import HORIZONS
from future_skills_kedro.parameters.base import (
    Allowed,
    Invalid,
    IsoDate,
    ParameterModel,
    PositiveInt,
    UnitShare,
)
from future_skills_kedro.pipelines.inference.recommendations import ACTIONS
from future_skills_kedro.prediction_log import PURPOSES

Horizon = Literal[HORIZONS]
Horizons = Annotated[list[Horizon], Field(min_length=1)]


def _unique(values: list, at: tuple[str, ...]) -> None:
    repeated = sorted({value for value in values if values.count(value) > 1})
    if repeated:
        raise Invalid(
            f"expected each value once; repeated: {', '.join(map(str, repeated))}",
            at=at,
            value=values,
        )


class Snapshot(ParameterModel):
    """What is scored: the date, the horizons, and the tolerated share of rejected rows."""

    as_of_date: IsoDate | None = None
    horizons: Horizons = list(HORIZONS)
    max_rejected_share: UnitShare = 0.2

    @model_validator(mode="after")
    def _distinct(self) -> Snapshot:
        _unique(self.horizons, ("horizons",))
        return self


class TrainRule(ParameterModel):
    """TRAIN: moderate in-house usage and many training requests."""

    min_internal_usage: UnitShare = 0.3
    max_internal_usage: UnitShare = 0.75
    min_training_requests: float = Field(5, ge=0)

    @model_validator(mode="after")
    def _ordered(self) -> TrainRule:
        if self.min_internal_usage > self.max_internal_usage:
            raise Invalid(
                f"expected at most max_internal_usage ({self.max_internal_usage:g})",
                at=("min_internal_usage",),
                value=self.min_internal_usage,
            )
        return self


class ReskillRule(ParameterModel):
    """RESKILL: low own usage, a related skill in use whose market trend is weak."""

    max_internal_usage: UnitShare = 0.5
    min_related_internal_usage: UnitShare = 0.5
    max_related_trend_score: UnitShare = 0.4


class HireRule(ParameterModel):
    """HIRE: low in-house usage and a scarce skill."""

    max_internal_usage: UnitShare = 0.45
    min_scarcity_index: UnitShare = 0.55


class FallbackRule(ParameterModel):
    """No rule matched: TRAIN from this usage on, else HIRE."""

    train_if_internal_usage_at_least: UnitShare = 0.45


class Recommendations(ParameterModel):
    """The HR plan: which predictions feed it, the rules, the chart."""

    horizons: Horizons = list(HORIZONS)
    min_high_share: UnitShare = 0.5
    top_n_per_department: PositiveInt | None = 10
    rule_order: Annotated[
        list[Literal[ACTIONS]],
        Allowed(f"a list of {', '.join(ACTIONS)}, each once, in the order the rules apply"),
    ] = ["TRAIN", "RESKILL", "HIRE"]
    train: TrainRule = TrainRule()
    reskill: ReskillRule = ReskillRule()
    hire: HireRule = HireRule()
    fallback: FallbackRule = FallbackRule()
    chart_top_n: PositiveInt = 5
    chart_file_name: Annotated[
        str, Field(pattern=r"^[^/\\]+\.png$"), Allowed("a file name ending in .png")
    ] = "recommendations_top_skills.png"

    @model_validator(mode="after")
    def _rules_once(self) -> Recommendations:
        if sorted(self.rule_order) != sorted(ACTIONS):
            raise Invalid(
                f"expected {', '.join(ACTIONS)}, each once",
                at=("rule_order",),
                value=self.rule_order,
            )
        _unique(self.horizons, ("horizons",))
        return self


class Scoring(ParameterModel):
    """How the snapshot goes through the model."""

    chunk_rows: PositiveInt = 100_000


class InferenceParameters(ParameterModel):
    """Snapshot scoring and the HR recommendations."""

    snapshot: Snapshot = Snapshot()
    scoring: Scoring = Scoring()
    purpose: Literal[PURPOSES] | None = None
    recommendations: Recommendations = Recommendations()

    @model_validator(mode="after")
    def _recommend_from_scored_horizons(self) -> InferenceParameters:
        unscored = [h for h in self.recommendations.horizons if h not in self.snapshot.horizons]
        if unscored:
            scored = ", ".join(map(str, self.snapshot.horizons))
            raise Invalid(
                f"expected horizons that inference.snapshot.horizons scores ({scored})",
                at=("recommendations", "horizons"),
                value=self.recommendations.horizons,
            )
        return self
