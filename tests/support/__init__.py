"""Helpers shared by the tests: local servers, HTML checks, Prefect processes, paths."""
