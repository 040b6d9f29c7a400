"""Test configuration.

Prefect reads its settings when it is first imported, so the environment is set here at
import time (not in a fixture): a private PREFECT_HOME, no analytics, no tracking.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from tests.support.paths import FIXTURES

_PREFECT_HOME = tempfile.mkdtemp(prefix="briefwatch-test-prefect-")
os.environ["PREFECT_HOME"] = _PREFECT_HOME
os.environ["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"
os.environ["DO_NOT_TRACK"] = "1"
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
# the temporary API server a flow run here starts gets 20 s by default: too few on a loaded
# machine (briefwatch ingest sets the same, see briefwatch.cli)
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")
os.environ.pop("PREFECT_API_URL", None)
os.environ.pop("BRIEFWATCH_DB", None)

import pytest  # noqa: E402


@pytest.fixture
def fresh_db(tmp_path: Path) -> Iterator[object]:
    """A new, migrated store in a real SQLite file under tmp_path."""
    from briefwatch.store import Store

    with Store(tmp_path / "briefwatch.db") as store:
        yield store


# ------------------------------------------------ stores built through the CLI (session)


def _ingest_versions(base: Path, *version_dirs: Path) -> Path:
    """Ingest each directory's pages in turn (one CLI run each) into a store under ``base``,
    as one page folder whose files each run overwrites; returns the store's path."""
    import contextlib
    import io
    import shutil

    from briefwatch.cli import main

    pages, db = base / "pages", base / "briefwatch.db"
    pages.mkdir(parents=True)
    for version_dir in version_dirs:
        for path in sorted(version_dir.iterdir()):
            if path.is_file() and path.suffix in (".md", ".txt", ".html"):
                shutil.copyfile(path, pages / path.name)
        with contextlib.redirect_stdout(io.StringIO()):
            assert main(["ingest", str(pages), "--db", str(db), "--quiet", "--flow"]) == 0
    return db


@pytest.fixture(scope="session")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store of the bundled example pages: run 1 ingests v1, run 2 the edited v2.
    Read-only: tests that write use ``demo_db_copy``."""
    from briefwatch.cli.app import EXAMPLES

    return _ingest_versions(tmp_path_factory.mktemp("demo-store"), EXAMPLES / "v1",
                            EXAMPLES / "v2")


@pytest.fixture(scope="session")
def hostile_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store of tests/fixtures/hostile (v1 then v2): page content that attacks renderers."""
    return _ingest_versions(tmp_path_factory.mktemp("hostile-store"), FIXTURES / "hostile" / "v1",
                            FIXTURES / "hostile" / "v2")


@pytest.fixture
def demo_db_copy(demo_db: Path, tmp_path: Path) -> Path:
    """A private copy of ``demo_db`` that a test may write to."""
    import shutil

    copy = tmp_path / "briefwatch.db"
    for suffix in ("", "-wal"):
        source = Path(str(demo_db) + suffix)
        if source.exists():
            shutil.copyfile(source, Path(str(copy) + suffix))
    return copy
