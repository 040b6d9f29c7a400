"""Tests of briefwatch.web."""
