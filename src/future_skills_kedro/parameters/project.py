"""Every top-level parameter key, and the one function that checks them all."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Annotated, Any, Literal

from pydantic import Field, ValidationError, ValidationInfo, field_validator, model_validator

from future_skills_kedro.lifecycle.registry import CHALLENGER, CHAMPION
from future_skills_kedro.lifecycle.service import LifecycleSettings
from future_skills_kedro.parameters.base import Allowed, Invalid, ParameterModel
from future_skills_kedro.parameters.data_engineering import DataEngineeringParameters
from future_skills_kedro.parameters.errors import did_you_mean, raise_invalid
from future_skills_kedro.parameters.evaluation import EvaluationParameters
from future_skills_kedro.parameters.inference import InferenceParameters
from future_skills_kedro.parameters.monitoring import MonitoringParameters
from future_skills_kedro.parameters.training import CHECK_ESTIMATORS, TrainingParameters
from future_skills_kedro.parameters.tuning import TuningParameters, check_search_space

# Validation context key: the registered pipeline names (mlflow_experiments is keyed by them).
PIPELINES = "pipelines"
# Validation context key: check tuning.search_space against training's estimator (only when
# the run tunes: a training run of another algorithm must not trip on the tuning settings).
CHECK_SEARCH_SPACE = "check_search_space"


class RetrainingParameters(ParameterModel):
    """`kedro models retrain-if-needed`: how fresh the monitoring summary must be."""

    max_summary_age_days: Annotated[int, Field(ge=1)] | None = 7


class ProjectParameters(ParameterModel):
    """conf/<env>/parameters*.yml merged with the run's ``--params``."""

    mlflow_experiments: dict[
        Annotated[str, Allowed("a registered pipeline name or __default__")],
        Annotated[str, Field(min_length=1)],
    ] = {}
    data_engineering: DataEngineeringParameters = DataEngineeringParameters()
    training: TrainingParameters
    tuning: TuningParameters
    evaluation: EvaluationParameters = EvaluationParameters()
    inference: InferenceParameters = InferenceParameters()
    monitoring: MonitoringParameters = MonitoringParameters()
    lifecycle: LifecycleSettings
    retraining: RetrainingParameters = RetrainingParameters()
    # Run-time only (`--params scoring_alias=challenger`): the model inference scores. Unset,
    # the catalog's `${runtime_params:scoring_alias,champion}` takes the champion.
    scoring_alias: Literal[CHAMPION, CHALLENGER] | None = None
    # Run-time only (`--params spark.sql.shuffle.partitions=400`): Spark settings over
    # conf/spark/spark.yml, read by the Spark hook (Kedro nests the dotted keys).
    spark: dict[str, Any] = {}

    @field_validator("mlflow_experiments")
    @classmethod
    def _registered_pipelines(cls, experiments: dict[str, str], info: ValidationInfo):
        names = (info.context or {}).get(PIPELINES)
        for pipeline, experiment in experiments.items():
            if names is not None and pipeline not in names:
                raise Invalid(
                    f"not a registered pipeline{did_you_mean(pipeline, names)}; "
                    f"expected one of {', '.join(sorted(names))}",
                    at=(pipeline,),
                    value=experiment,
                )
        return experiments

    @model_validator(mode="after")
    def _searchable(self, info: ValidationInfo) -> ProjectParameters:
        # The search space is of the algorithm training fits; scikit-learn judges its bounds.
        if (info.context or {}).get(CHECK_SEARCH_SPACE):
            try:
                check_search_space(self.tuning.search_space, self.training.model.algorithm)
            except Invalid as error:
                raise Invalid(
                    error.allowed, at=("tuning", "search_space", *error.at), value=error.value
                ) from None
        return self


def validate_parameters(
    params: Mapping[str, Any],
    *,
    pipelines: Iterable[str] | None = None,
    check_estimators: bool = False,
    check_search_space: bool = False,
) -> ProjectParameters:
    """The run's parameters checked against their models, defaults filled in.

    ``pipelines``: the registered pipeline names (checks ``mlflow_experiments``);
    ``check_estimators``: also check the hyperparameters with scikit-learn (imports it);
    ``check_search_space``: also check ``tuning.search_space`` against the estimator of
    ``training.model.algorithm`` (a tuning run).
    Raises :class:`InvalidParameters`: one line naming the parameter, its value and what is
    allowed.
    """
    context = {
        PIPELINES: None if pipelines is None else sorted(pipelines),
        CHECK_ESTIMATORS: check_estimators,
        CHECK_SEARCH_SPACE: check_search_space,
    }
    try:
        return ProjectParameters.model_validate(dict(params), context=context)
    except ValidationError as error:
        raise_invalid(error, ProjectParameters)
        raise  # unreachable: raise_invalid always raises


def catalog_entries(parameters: ProjectParameters) -> dict[str, Any]:
    """``parameters`` and every ``params:<dotted.name>``, as Kedro names them for nodes."""
    values = parameters.model_dump()
    entries: dict[str, Any] = {"parameters": values}

    def add(name: str, value: Any) -> None:
        entries[f"params:{name}"] = value
        if isinstance(value, dict):
            for key, item in value.items():
                add(f"{name}.{key}", item)

    for key, value in values.items():
        add(key, value)
    return entries
