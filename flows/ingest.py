"""The Prefect ``ingest`` flow: read sources → parse → store → diff → report.

Pages are batched into chunks (one task per chunk, not per page: Prefect costs milliseconds
per task). Parse tasks run on a bounded thread pool; store writes run one chunk at a time,
each page in its own transaction, under the store's writer lock for the whole run.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE
from prefect.runtime import flow_run
from prefect.task_runners import ThreadPoolTaskRunner

from briefwatch.pipeline import IngestOptions, PageResult, read_and_parse, store_results
from briefwatch.report import render_markdown
from briefwatch.sources import SourceItem, discover
from store import Store

REPORT_ARTIFACT_KEY = "briefwatch-report"
CHANGED_PAGES_ARTIFACT_KEY = "briefwatch-changed-pages"


@task(name="discover-sources", cache_policy=NO_CACHE)
def discover_task(sources: Sequence[str]) -> list[SourceItem]:
    items = discover(sources)
    get_run_logger().info("%d page(s) found in %d source(s)", len(items), len(sources))
    return items


@task(name="read-and-parse", cache_policy=NO_CACHE)
def parse_chunk(
    items: list[SourceItem], known_hashes: dict[str, str], options: IngestOptions
) -> list[PageResult]:
    return read_and_parse(items, known_hashes, options)


@task(name="store-and-diff", cache_policy=NO_CACHE)
def store_chunk(db_path: str, run_id: int, results: list[PageResult]) -> list[str]:
    store = Store(db_path)
    try:
        # one commit per chunk; each page is a savepoint inside it, so a failing page rolls
        # back alone and a crash never leaves a partial version
        with store.batch():
            return store_results(store, run_id, results)
    finally:
        store.close()


@task(name="finish-run", cache_policy=NO_CACHE)
def finish_task(db_path: str, run_id: int, roots: list[str], seen: set[str]) -> dict[str, Any]:
    store = Store(db_path)
    try:
        for root in roots:
            store.mark_gone(run_id, source_root=root, seen_locations=seen)
        store.finish_run(run_id)
        return store.run_report(run_id)
    finally:
        store.close()


def _chunks(items: Sequence[SourceItem], size: int) -> list[list[SourceItem]]:
    return [list(items[i:i + size]) for i in range(0, len(items), max(1, size))]


def _publish(report: dict[str, Any]) -> None:
    run = report["run"]
    create_markdown_artifact(
        key=REPORT_ARTIFACT_KEY,
        markdown=render_markdown(report),
        description=f"briefwatch change report, run {run['id']}",
    )
    rows = [
        {"status": p["status"], "key": p["key"], "title": p.get("title") or "",
         "version": p.get("version"), "changes": len(p.get("changes") or []),
         "error": p.get("error") or ""}
        for p in report["pages"] if p["status"] != "unchanged"
    ]
    if rows:
        create_table_artifact(key=CHANGED_PAGES_ARTIFACT_KEY, table=rows,
                              description=f"changed pages, run {run['id']}")


@flow(name="ingest", task_runner=ThreadPoolTaskRunner(max_workers=2))  # type: ignore[arg-type]
def ingest(
    sources: list[str],
    db_path: str = "briefwatch.db",
    chunk_size: int = 64,
    publish_artifacts: bool = True,
) -> dict[str, Any]:
    """One ingest run over SOURCE files/directories into the store at ``db_path``.

    Returns the run's report (the JSON report contract). A failing page fails that page
    (it is in the report), not the run.
    """
    logger = get_run_logger()
    options = IngestOptions(chunk_size=chunk_size)
    lock_store = Store(db_path)
    try:
        with lock_store.writer_lock():
            run_id = lock_store.start_run(sources, flow_run_id=_flow_run_id(),
                                          options={"chunk_size": chunk_size})
            items = discover_task(sources)
            known = lock_store.location_hashes([i.location for i in items])
            futures = [parse_chunk.submit(chunk, known, options)
                       for chunk in _chunks(items, options.chunk_size)]
            done = 0
            for future in futures:
                results = future.result()
                store_chunk(db_path, run_id, results)
                done += len(results)
                logger.info("%d/%d pages processed", done, len(items))
            roots = sorted(_directory_roots(sources))
            report = finish_task(db_path, run_id, roots, {i.location for i in items})
    finally:
        lock_store.close()
    if publish_artifacts:
        _publish(report)
    counts = report["run"]["counts"]
    logger.info("run %s: %s", run_id, ", ".join(f"{k} {v}" for k, v in counts.items()))
    return report


def _directory_roots(sources: Sequence[str]) -> set[str]:
    from briefwatch.sources import resolve_sources

    return {p.as_uri() for p in resolve_sources(sources) if p.is_dir()}


def _flow_run_id() -> str | None:
    run_id = flow_run.get_id()
    return str(run_id) if run_id else None
