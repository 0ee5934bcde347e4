"""Drift backtest pipeline: the labelled history replayed through the drift policy."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]
