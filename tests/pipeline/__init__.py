"""Tests of briefwatch.pipeline."""
