"""Data engineering pipeline: validate raw files, quarantine bad rows, build the model input."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]
