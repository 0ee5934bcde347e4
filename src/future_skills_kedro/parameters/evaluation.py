"""``evaluation``: conf/base/parameters_evaluation.yml."""

from __future__ import annotations

from future_skills_kedro.parameters.base import ParameterModel, PositiveInt


class EvaluationParameters(ParameterModel):
    """Which labelled rows the registered models are re-scored on."""

    min_rows: PositiveInt = 100
    fallback_quarters: PositiveInt = 2
