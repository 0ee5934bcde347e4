"""Tuning pipeline: an Optuna study of the training model on time-based folds."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]
