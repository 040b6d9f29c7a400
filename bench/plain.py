"""The ingest flow's work without Prefect: the same task bodies, chunks and parallelism.

``run_plain`` mirrors ``briefwatch.flows.ingest.ingest_flow`` step by step but calls each task's
plain
function (``task.fn``, or the pipeline function it wraps) and parses the chunks on a
``concurrent.futures`` pool of the same kind, size and look-ahead as the flow (worker
processes started with ``spawn``, as Prefect's ``ProcessPoolTaskRunner`` does, when
``briefwatch.flows.ingest.uses_process_pool`` says so; threads otherwise). The difference between
the
flow's wall time and this one's, in the same process on the same pages, is what Prefect
costs. Keep it in step with ``flows/ingest.py``.
"""

from __future__ import annotations

import multiprocessing
from collections import deque
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import Executor, Future, ProcessPoolExecutor, ThreadPoolExecutor
from typing import Any

from prefect.logging.loggers import disable_run_logger

from briefwatch.flows import ingest as flow_module
from briefwatch.pipeline.sources import SourceItem
from briefwatch.pipeline.steps import IngestOptions, PageResult, read_and_parse
from briefwatch.report.artifact import render_markdown_artifact
from briefwatch.store import Store


def _executor(pages: int, options: IngestOptions) -> Executor:
    if flow_module.uses_process_pool(pages, options):
        return ProcessPoolExecutor(max_workers=options.max_workers,
                                   mp_context=multiprocessing.get_context("spawn"))
    return ThreadPoolExecutor(max_workers=options.max_workers)


def _parsed_chunks(
    items: Sequence[SourceItem], known: Mapping[str, str], options: IngestOptions
) -> Iterator[list[PageResult]]:
    ahead = 2 * max(1, options.max_workers)
    with _executor(len(items), options) as pool:
        pending: deque[Future[list[PageResult]]] = deque()
        for chunk in flow_module._chunks(items, options.chunk_size):
            pending.append(pool.submit(read_and_parse, chunk,
                                       flow_module._known_for(chunk, known), options))
            if len(pending) > ahead:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()


def run_plain(sources: list[str], db_path: str, chunk_size: int = 64) -> dict[str, Any]:
    """One ingest run exactly as the flow does it, minus Prefect; returns the report."""
    options = IngestOptions(chunk_size=chunk_size)
    lock_store = Store(db_path)
    try:
        with disable_run_logger(), lock_store.writer_lock():
            run_id = lock_store.start_run(sources, flow_run_id=None,
                                          options={"chunk_size": chunk_size})
            items = flow_module.discover_task.fn(sources)
            known = lock_store.location_hashes([i.location for i in items])
            for results in _parsed_chunks(items, known, options):
                flow_module.store_chunk.fn(db_path, run_id, results)
            roots = sorted(flow_module._directory_roots(sources))
            report: dict[str, Any] = flow_module.finish_task.fn(
                db_path, run_id, roots, {i.location for i in items}
            )
    finally:
        lock_store.close()
    render_markdown_artifact(report)  # publishing the artifacts costs this besides API calls
    return report
