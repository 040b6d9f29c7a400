"""Tests of briefwatch.report."""
