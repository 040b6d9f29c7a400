"""Tests of briefwatch.parsers."""
