"""The Prefect ingest flow itself, run for real on the ephemeral API (no server configured)."""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
from pathlib import Path

from briefwatch.cli.app import EXAMPLES
from briefwatch.flows.ingest import CHANGED_PAGES_ARTIFACT_KEY, REPORT_ARTIFACT_KEY, ingest


def _artifacts(key: str) -> list[object]:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey

    async def read() -> list[object]:
        async with get_client() as client:
            found = await client.read_artifacts(
                artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=[key]))
            )
            return list(found)

    return asyncio.run(read())


def test_flow_records_flow_run_and_publishes_artifacts(tmp_path: Path) -> None:
    pages, db = tmp_path / "pages", tmp_path / "store.db"
    pages.mkdir()
    for src in (EXAMPLES / "v1").iterdir():
        shutil.copyfile(src, pages / src.name)
    first = ingest(sources=[str(pages)], db_path=str(db), chunk_size=2)
    for src in (EXAMPLES / "v2").iterdir():
        shutil.copyfile(src, pages / src.name)
    second = ingest(sources=[str(pages)], db_path=str(db), chunk_size=2)
    assert first["run"]["counts"]["new"] == 3
    assert second["run"]["counts"]["changed"] == 3
    flow_run_id = second["run"]["flow_run_id"]
    assert flow_run_id and flow_run_id != first["run"]["flow_run_id"]
    with sqlite3.connect(db) as conn:
        stored = conn.execute("SELECT flow_run_id FROM runs WHERE id = ?",
                              [second["run"]["id"]]).fetchone()[0]
    assert stored == flow_run_id
    reports = _artifacts(REPORT_ARTIFACT_KEY)
    assert reports, "no markdown report artifact"
    latest = max(reports, key=lambda a: a.created)  # type: ignore[attr-defined]
    assert str(latest.flow_run_id) == flow_run_id  # type: ignore[attr-defined]
    assert "163 → 170" in latest.data  # type: ignore[attr-defined]
    assert f"# briefwatch run {second['run']['id']}" in latest.data  # type: ignore[attr-defined]
    tables = _artifacts(CHANGED_PAGES_ARTIFACT_KEY)
    assert any(str(t.flow_run_id) == flow_run_id for t in tables)  # type: ignore[attr-defined]


def test_flow_refuses_a_store_held_by_another_run(tmp_path: Path) -> None:
    import pytest

    from briefwatch.errors import StoreBusyError
    from briefwatch.store import Store

    pages, db = tmp_path / "pages", tmp_path / "store.db"
    pages.mkdir()
    shutil.copyfile(EXAMPLES / "v1" / "mattis-iraq-visit.txt", pages / "a.txt")
    holder = Store(db)
    try:
        with holder.writer_lock(), pytest.raises(StoreBusyError, match="in use by another run"):
            ingest(sources=[str(pages)], db_path=str(db), publish_artifacts=False)
    finally:
        holder.close()
    # nothing was recorded by the refused run
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT count(*) FROM runs").fetchone()[0] == 0
