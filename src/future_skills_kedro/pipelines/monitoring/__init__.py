"""Monitoring pipeline: drift, performance and health over a window of prediction logs."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]
