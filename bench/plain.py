"""The ingest run without Prefect: :func:`briefwatch.pipeline.ingest.run_ingest` with its
in-process steps, the same chunks, parse pool and store writes as the flow (which runs the
same function with Prefect tasks as steps). The difference between the flow's wall time and
this one's, in the same process on the same pages, is what Prefect costs.
"""

from __future__ import annotations

from typing import Any

from briefwatch.contract import Report
from briefwatch.pipeline.ingest import IngestRequest, IngestSteps, run_ingest
from briefwatch.report.artifact import render_markdown_artifact


class _RenderArtifact(IngestSteps):
    def publish(self, report: Report) -> None:
        render_markdown_artifact(report)  # publishing the artifacts costs this besides API calls


def run_plain(sources: list[str], db_path: str, chunk_size: int = 64) -> dict[str, Any]:
    """One ingest run exactly as the flow does it, minus Prefect; returns the report."""
    return run_ingest(IngestRequest(sources=sources, db_path=db_path, chunk_size=chunk_size),
                      _RenderArtifact())
