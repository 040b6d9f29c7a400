"""Tests of briefwatch.store."""
