"""Tests of briefwatch.flows."""
