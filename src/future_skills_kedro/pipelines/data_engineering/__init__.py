"""Data engineering pipeline: validate raw files, quarantine bad rows, build the model input."""

from .nodes import build_feature_table, missing_feature_reasons
from .pipeline import create_pipeline

__all__ = ["build_feature_table", "create_pipeline", "missing_feature_reasons"]
