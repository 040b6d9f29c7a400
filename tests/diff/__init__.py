"""Tests of briefwatch.diff."""
