"""Tests: the evaluation and benchmark scripts (eval/, bench/)."""
