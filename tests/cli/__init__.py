"""Tests of briefwatch.cli."""
