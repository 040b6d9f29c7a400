"""Where the tests' data lives: the checkout, its fixtures and golden files, ../shared."""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
TESTS = REPO / "tests"
FIXTURES = TESTS / "fixtures"
GOLDEN = TESTS / "golden"
HOSTILE = TESTS / "hostile"
SHARED = REPO.parent / "shared"
