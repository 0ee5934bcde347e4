"""Project pipelines: each package under ``pipelines/`` holds its own nodes; this module
composes them into what ``kedro run --pipelines NAME`` runs (docs/pipelines.md)."""

from __future__ import annotations

from kedro.pipeline import Pipeline
from kedro_mlflow.pipeline import pipeline_ml_factory

from future_skills_kedro.pipelines import (
    data_engineering,
    evaluation,
    inference,
    monitoring,
    monitoring_backtest,
    training,
    tuning,
)
from future_skills_kedro.spark.session import active_engine


def create_training_pipeline() -> Pipeline:
    """data_engineering + training, packaged by kedro-mlflow: the run logs the model.

    The logged model is training's inference part (model-input rows in, scored rows out).
    The registered model name is not set here: the lifecycle hook sets it from the
    configuration (``conf/base/globals.yml``) before the run, so it has one source.
    """
    return pipeline_ml_factory(
        training=data_engineering.create_pipeline() + training.create_pipeline(),
        inference=training.create_inference_pipeline(),
        input_name="model_input_rows",
        log_model_kwargs={"name": "model", "signature": "auto"},
    )


def register_pipelines() -> dict[str, Pipeline]:
    """training, evaluation, tuning and inference start with data_engineering: raw files
    are validated (and the validated tables refreshed) before anything uses them."""
    validate = data_engineering.create_pipeline()
    # --env spark (SparkHook found conf/spark/spark.yml and started a session): the same
    # inference nodes on Spark, and monitoring on the window's Spark aggregates (docs/spark.md).
    if active_engine() == "spark":
        scoring = inference.create_spark_pipeline()
    else:
        scoring = inference.create_pipeline()
    pipelines = {
        "data_engineering": validate,
        "training": create_training_pipeline(),
        "evaluation": validate + evaluation.create_pipeline(),
        # The study sees training's split and only its training quarters (train_set).
        "tuning": validate
        + training.create_pipeline().only_nodes("training.split_train_holdout")
        + tuning.create_pipeline(),
        # Inference validates the files it scores from, not the label history (millions of
        # rows in a large organisation) that only training, evaluation and tuning read.
        "inference": data_engineering.create_pipeline(labels=False) + scoring,
        "monitoring": monitoring.create_pipeline(engine=active_engine()),
        # The labelled history replayed through the drift policy (no MLflow run).
        "monitoring_backtest": validate + monitoring_backtest.create_pipeline(),
    }
    # The training PipelineML itself (adding pipelines to it would turn it into a plain
    # Pipeline that logs no model), so a fresh clone's `kedro run` trains and registers.
    pipelines["__default__"] = pipelines["training"]
    return pipelines
