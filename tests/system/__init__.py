"""Tests: whole-system tests: concurrent runs, crashes, fuzzing, hostile pages."""
