"""Project pipelines."""

from __future__ import annotations

from kedro.framework.project import find_pipelines
from kedro.pipeline import Pipeline


def register_pipelines() -> dict[str, Pipeline]:
    """Register the project's pipelines (one folder each under ``pipelines/``)."""
    pipelines = find_pipelines(raise_errors=True)
    # `training` is a kedro-mlflow PipelineML: kept as is so a default run logs and registers
    # the model (adding pipelines to it would turn it into a plain Pipeline).
    pipelines["__default__"] = pipelines.get("training", Pipeline([]))
    return pipelines
