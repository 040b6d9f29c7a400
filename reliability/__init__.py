"""Reliability tooling: crash-safety, hostile-input and fuzzing scripts (issue 7)."""
