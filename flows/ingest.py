"""The Prefect ``ingest`` flow: read sources → parse → store → diff → report.

Pages are batched into chunks (one task per chunk, not per page: Prefect costs milliseconds
per task). Parse tasks run on the flow's thread pool, four at a time; a run with enough pages
to pay for starting worker processes (``IngestOptions.process_pool_min_pages``) hands each
chunk's CPU work to a :class:`~briefwatch.pipeline.steps.ParsePool` of plain worker processes
(parsing is CPU-bound Python: threads alone would share one core; Prefect's own
``ProcessPoolTaskRunner`` costs a tenth of a second per task in each worker, rebuilding
settings and API clients). Parsing runs at most a few chunks ahead of the store, so memory
stays bounded. Store writes run one chunk at a time in the flow, each chunk one transaction
(a savepoint per page), under the store's writer lock for the whole run.

Big task arguments and the flow's return value are wrapped in Prefect's ``quote``: Prefect
otherwise walks every element of a task's arguments and of a flow's return value looking
for futures — for a first run over thousands of pages that means every statement of every
page, which cost more than parsing them. :func:`ingest` unwraps the report again.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, TypeVar, cast

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE
from prefect.futures import PrefectFuture
from prefect.runtime import flow_run
from prefect.states import Failed
from prefect.task_runners import ThreadPoolTaskRunner
from prefect.utilities.annotations import quote

from briefwatch.contract import Report
from briefwatch.errors import StoreBusyError
from briefwatch.flows.fetch_tasks import ingest_web
from briefwatch.flows.retention import raw_retention_task
from briefwatch.flows.run_support import CHANGED_PAGES_ARTIFACT_KEY as CHANGED_PAGES_ARTIFACT_KEY
from briefwatch.flows.run_support import REPORT_ARTIFACT_KEY as REPORT_ARTIFACT_KEY
from briefwatch.flows.run_support import artifact_keys, store_writer_lock
from briefwatch.pipeline import delivery, progress
from briefwatch.pipeline.sources import SourceItem, discover
from briefwatch.pipeline.steps import (
    IngestOptions,
    PageResult,
    ParsePool,
    read_and_parse,
    store_results,
)
from briefwatch.report.artifact import prefect_table_rows, render_markdown_artifact
from briefwatch.store import Store
from briefwatch.web.config import load_web_config, split_sources

T = TypeVar("T")



@task(name="discover-sources", cache_policy=NO_CACHE)
def discover_task(sources: Sequence[str]) -> list[SourceItem]:
    items = discover(sources)
    get_run_logger().info("%d page(s) found in %d source(s)", len(items), len(sources))
    return items


@task(name="read-and-parse", cache_policy=NO_CACHE)
def parse_chunk(
    items: list[SourceItem], known_hashes: dict[str, str], options: IngestOptions,
    pool: ParsePool | None = None,
) -> list[PageResult]:
    if pool is None:
        return read_and_parse(items, known_hashes, options)
    return pool.read_and_parse(items, known_hashes, options)


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
def finish_task(db_path: str, run_id: int, roots: list[str], seen: set[str]) -> Report:
    store = Store(db_path)
    try:
        for root in roots:
            store.mark_gone(run_id, source_root=root, seen_locations=seen)
        store.finish_run(run_id, reported=False)  # marked once its report is delivered
        return store.run_report(run_id)
    finally:
        store.close()


def _unvisited(value: T) -> T:
    """``value`` wrapped in Prefect's ``quote``, so Prefect does not walk it (typed as the
    value itself: Prefect unwraps it before the task body runs)."""
    return cast(T, quote(value))


def _chunks(items: Sequence[SourceItem], size: int) -> list[list[SourceItem]]:
    return [list(items[i:i + size]) for i in range(0, len(items), max(1, size))]


def _known_for(chunk: Sequence[SourceItem], known: Mapping[str, str]) -> dict[str, str]:
    """The last raw hashes of one chunk's locations (a task gets only what it needs)."""
    return {i.location: known[i.location] for i in chunk if i.location in known}


def uses_process_pool(pages: int, options: IngestOptions) -> bool:
    """Whether a run over ``pages`` pages parses on worker processes (see the module doc)."""
    return options.max_workers > 1 and pages >= options.process_pool_min_pages


def parsed_chunks(
    items: Sequence[SourceItem], known: Mapping[str, str], options: IngestOptions
) -> Iterator[list[PageResult]]:
    """Each chunk's parse results, in order; parsing runs at most ``2 * max_workers``
    chunks ahead of the consumer."""
    ahead = 2 * max(1, options.max_workers)
    pool = ParsePool(options.max_workers) if uses_process_pool(len(items), options) else None
    try:
        pending: deque[PrefectFuture[list[PageResult]]] = deque()
        for chunk in _chunks(items, options.chunk_size):
            pending.append(parse_chunk.submit(
                _unvisited(chunk), _unvisited(_known_for(chunk, known)), options,
                _unvisited(pool)))
            if len(pending) > ahead:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
    finally:
        if pool is not None:
            pool.close()


def _publish(report: Report, keys: tuple[str, str]) -> None:
    run = report["run"]
    create_markdown_artifact(
        key=keys[0],
        markdown=render_markdown_artifact(report),
        description=f"briefwatch change report, run {run['id']}",
    )
    rows = prefect_table_rows(report)  # page content escaped: Prefect shows cells as Markdown
    if rows:
        create_table_artifact(key=keys[1], table=rows,
                              description=f"changed pages, run {run['id']}")


# Four threads: with parse workers, each of the (2 x max_workers) chunks the flow submits
# ahead holds a thread while its chunk waits in the worker pool's queue, so a worker never
# idles waiting for a thread to hand it the next chunk.
@flow(name="ingest", task_runner=ThreadPoolTaskRunner(max_workers=4))  # type: ignore[arg-type]
def ingest_flow(
    sources: list[str],
    db_path: str = "briefwatch.db",
    chunk_size: int = 64,
    publish_artifacts: bool = True,
    lock_wait: float = 0.0,
    artifact_suffix: str = "",
    config: str | None = None,
    mark_reported: bool = True,
    raw_retention_days: float | None = None,
) -> Any:
    """The Prefect flow behind :func:`ingest`; returns the report wrapped in ``quote``.

    ``lock_wait``: seconds to wait when another run holds the store (0: refuse at once); a
    run that gets no lock ends Failed with the holder in its message, having written
    nothing. ``artifact_suffix``: publish under ``briefwatch-report-<suffix>`` (one history
    per store or deployment) instead of ``briefwatch-report``. ``sources`` may name http(s)
    URLs (each read as one page) and ``config`` a sources.toml of web sources (see
    :mod:`briefwatch.flows.fetch_tasks`); a bad URL or config fails the run before it writes
    anything.
    ``raw_retention_days``: at the end of the run, drop the raw bytes of versions older
    than that many days, current versions' kept (:mod:`briefwatch.flows.retention`; None: keep all).

    Delivery: still under the writer lock, the run publishes its artifacts, hands the
    report to the deliverer ``briefwatch ingest`` installed (:mod:`briefwatch.pipeline.delivery`),
    then, with ``mark_reported``, marks the run (and the earlier unreported runs whose
    changes its report carried over) reported. A run killed before that is carried over
    by the next run's report.
    """
    logger = get_run_logger()
    options = IngestOptions(chunk_size=chunk_size)
    keys = artifact_keys(artifact_suffix)
    local, urls = split_sources(sources)
    web_config = load_web_config(config)
    lock_store = Store(db_path)
    try:
        with store_writer_lock(lock_store, lock_wait):
            run_id = lock_store.start_run(
                sources, flow_run_id=_flow_run_id(),
                options={"chunk_size": chunk_size, **({"config": config} if config else {})})
            items = discover_task(local) if local else []
            known = lock_store.location_hashes([i.location for i in items])
            done = 0
            for results in parsed_chunks(items, known, options):
                store_chunk(db_path, run_id, _unvisited(results))
                done += len(results)
                logger.info("%d/%d pages processed", done, len(items))
                progress.report("read", done, len(items))
            seen = {i.location for i in items}
            seen |= ingest_web(db_path, run_id, lock_store, urls, web_config, options)
            roots = sorted(_directory_roots(local)) if local else []
            report = finish_task(db_path, run_id, roots, _unvisited(seen))
            if publish_artifacts:
                _publish(report, keys)
            delivery.deliver(report)
            if mark_reported:
                lock_store.mark_reported(run_id)
            if raw_retention_days is not None:  # see flows.retention
                raw_retention_task(db_path, raw_retention_days)
    except StoreBusyError as busy:
        # a Failed state, not a raise: the run's state message names the holder, and
        # `briefwatch ingest` prints no traceback; callers of the flow still get the error
        return Failed(message=str(busy), data=busy)
    finally:
        lock_store.close()
    counts = report["run"]["counts"]
    logger.info("run %s: %s", run_id, ", ".join(f"{k} {v}" for k, v in counts.items()))
    return quote(report)


def ingest(
    sources: list[str],
    db_path: str = "briefwatch.db",
    chunk_size: int = 64,
    publish_artifacts: bool = True,
    lock_wait: float = 0.0,
    config: str | None = None,
    mark_reported: bool = True,
    raw_retention_days: float | None = None,
) -> Report:
    """One run of the Prefect ingest flow over SOURCE files/directories and http(s) URLs,
    and the web sources of the sources.toml ``config``, into the store at ``db_path``.

    Returns the run's report (the JSON report contract). A failing page fails that page
    (it is in the report), not the run. StoreBusyError if another run holds the store for
    longer than ``lock_wait`` seconds.
    """
    quoted = cast(quote, ingest_flow(
        sources, db_path=db_path, chunk_size=chunk_size, publish_artifacts=publish_artifacts,
        lock_wait=lock_wait, config=config, mark_reported=mark_reported,
        raw_retention_days=raw_retention_days,
    ))
    report: Report = quoted.unquote()
    return report


def _directory_roots(sources: Sequence[str]) -> set[str]:
    from briefwatch.pipeline.sources import resolve_sources

    return {p.as_uri() for p in resolve_sources(sources) if p.is_dir()}


def _flow_run_id() -> str | None:
    run_id = flow_run.get_id()
    return str(run_id) if run_id else None
