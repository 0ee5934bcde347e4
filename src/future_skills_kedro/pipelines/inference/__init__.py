"""Inference pipeline: score the newest snapshot with the champion, log, recommend."""

from .pipeline import create_pipeline, create_spark_pipeline

__all__ = ["create_pipeline", "create_spark_pipeline"]
