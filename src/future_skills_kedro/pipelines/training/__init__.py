"""Training pipeline: split, fit, evaluate; and the inference part the logged model runs."""

from .pipeline import create_inference_pipeline, create_pipeline

__all__ = ["create_inference_pipeline", "create_pipeline"]
