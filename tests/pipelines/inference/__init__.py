"""Tests of the inference pipeline."""
