"""Test configuration.

Prefect reads its settings when it is first imported, so the environment is set here at
import time (not in a fixture): a private PREFECT_HOME, no analytics, no tracking.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

_PREFECT_HOME = tempfile.mkdtemp(prefix="briefwatch-test-prefect-")
os.environ["PREFECT_HOME"] = _PREFECT_HOME
os.environ["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"
os.environ["DO_NOT_TRACK"] = "1"
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
os.environ.pop("PREFECT_API_URL", None)
os.environ.pop("BRIEFWATCH_DB", None)

import pytest  # noqa: E402

FIXTURES = Path(__file__).parent / "fixtures"
SHARED = Path(__file__).resolve().parents[1].parent / "shared"


@pytest.fixture
def fixtures_dir() -> Path:
    return FIXTURES


@pytest.fixture
def fresh_db(tmp_path: Path) -> Iterator[object]:
    """A new, migrated store in a real SQLite file under tmp_path."""
    from store import Store

    store = Store(tmp_path / "briefwatch.db")
    try:
        yield store
    finally:
        store.close()
