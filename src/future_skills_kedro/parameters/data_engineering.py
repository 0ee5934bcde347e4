"""``data_engineering``: conf/base/parameters_data_engineering.yml."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from future_skills_kedro.contract import RAW_FILES
from future_skills_kedro.parameters.base import ParameterModel, UnitShare

RawFile = Literal[tuple(RAW_FILES)]


class DataEngineeringParameters(ParameterModel):
    """Validation of the raw files and the quality gate."""

    max_rejected_share: UnitShare = 0.05
    max_rejected_share_per_file: dict[RawFile, UnitShare] = {}
    require_quarter_end_dates: bool = True
    failure_cases_in_error: int = Field(5, ge=0)
