"""The Prefect ``ingest`` flow: :func:`briefwatch.pipeline.ingest.run_ingest` with its steps as
Prefect tasks (:class:`FlowSteps`), the report published as artifacts.

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

from prefect import flow, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE
from prefect.futures import PrefectFuture
from prefect.runtime import flow_run
from prefect.states import Failed
from prefect.task_runners import ThreadPoolTaskRunner
from prefect.utilities.annotations import quote

from briefwatch.contract import Report
from briefwatch.errors import StoreBusyError
from briefwatch.flows.fetch_tasks import FetchTaskSteps
from briefwatch.flows.retention import raw_retention_task
from briefwatch.flows.run_support import CHANGED_PAGES_ARTIFACT_KEY as CHANGED_PAGES_ARTIFACT_KEY
from briefwatch.flows.run_support import REPORT_ARTIFACT_KEY as REPORT_ARTIFACT_KEY
from briefwatch.flows.run_support import artifact_keys
from briefwatch.pipeline.ingest import (
    RUNNER_FLOW,
    IngestRequest,
    IngestSteps,
    known_for,
    parse_on,
    parse_pool,
    run_ingest,
)
from briefwatch.pipeline.ingest import chunks as _chunks
from briefwatch.pipeline.sources import SourceItem
from briefwatch.pipeline.steps import IngestOptions, PageResult, ParsePool
from briefwatch.report.artifact import prefect_table_rows, render_markdown_artifact

T = TypeVar("T")
_STEPS = IngestSteps()


@task(name="discover-sources", cache_policy=NO_CACHE)
def discover_task(sources: Sequence[str]) -> list[SourceItem]:
    return _STEPS.discover(sources)


@task(name="read-and-parse", cache_policy=NO_CACHE)
def parse_chunk(
    items: list[SourceItem], known_hashes: dict[str, str], options: IngestOptions,
    pool: ParsePool | None = None,
) -> list[PageResult]:
    return parse_on(pool, items, known_hashes, options)


@task(name="store-and-diff", cache_policy=NO_CACHE)
def store_chunk(db_path: str, run_id: int, results: list[PageResult]) -> list[str]:
    return _STEPS.store_chunk(db_path, run_id, results)


@task(name="finish-run", cache_policy=NO_CACHE)
def finish_task(db_path: str, run_id: int, roots: list[str], seen: set[str]) -> Report:
    return _STEPS.finish(db_path, run_id, roots, seen)


def _unvisited(value: T) -> T:
    """``value`` wrapped in Prefect's ``quote``, so Prefect does not walk it (typed as the
    value itself: Prefect unwraps it before the task body runs)."""
    return cast(T, quote(value))


class FlowSteps(FetchTaskSteps):
    """The ingest run's steps as Prefect tasks, logging to the flow run's log."""

    def __init__(self, *, publish_artifacts: bool, keys: tuple[str, str]) -> None:
        self.publish_artifacts = publish_artifacts
        self.keys = keys

    def discover(self, sources: Sequence[str]) -> list[SourceItem]:
        return discover_task(sources)

    def parsed_chunks(self, items: Sequence[SourceItem], known: Mapping[str, str],
                      options: IngestOptions) -> Iterator[list[PageResult]]:
        """Each chunk's parse results, in order; parsing runs at most ``2 * max_workers``
        chunks ahead of the consumer."""
        ahead = 2 * max(1, options.max_workers)
        with parse_pool(len(items), options) as pool:
            pending: deque[PrefectFuture[list[PageResult]]] = deque()
            for chunk in _chunks(items, options.chunk_size):
                pending.append(parse_chunk.submit(
                    _unvisited(chunk), _unvisited(known_for(chunk, known)), options,
                    _unvisited(pool)))
                if len(pending) > ahead:
                    yield pending.popleft().result()
            while pending:
                yield pending.popleft().result()

    def store_chunk(self, db_path: str, run_id: int, results: list[PageResult]) -> list[str]:
        return store_chunk(db_path, run_id, _unvisited(results))

    def finish(self, db_path: str, run_id: int, roots: list[str],
               seen: set[str]) -> Report:
        return finish_task(db_path, run_id, roots, _unvisited(seen))

    def publish(self, report: Report) -> None:
        if not self.publish_artifacts:
            return
        run = report["run"]
        create_markdown_artifact(
            key=self.keys[0],
            markdown=render_markdown_artifact(report),
            description=f"briefwatch change report, run {run['id']}",
        )
        rows = prefect_table_rows(report)  # page content escaped: Prefect shows cells as Markdown
        if rows:
            create_table_artifact(key=self.keys[1], table=rows,
                                  description=f"changed pages, run {run['id']}")

    def retention(self, db_path: str, days: float) -> None:
        raw_retention_task(db_path, days)


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

    The run itself is :func:`briefwatch.pipeline.ingest.run_ingest` (see there for the
    parameters), each step a Prefect task. ``artifact_suffix``: publish under
    ``briefwatch-report-<suffix>`` (one history per store or deployment) instead of
    ``briefwatch-report``; ``publish_artifacts``: publish the report and changed-pages
    artifacts at all. A store held by another run for longer than ``lock_wait`` ends the
    flow run Failed with the holder in its message, having written nothing.
    """
    keys = artifact_keys(artifact_suffix)
    request = IngestRequest(
        sources=sources, db_path=db_path, chunk_size=chunk_size, lock_wait=lock_wait,
        config=config, mark_reported=mark_reported, raw_retention_days=raw_retention_days,
        flow_run_id=_flow_run_id(), runner=RUNNER_FLOW)
    try:
        report = run_ingest(request, FlowSteps(publish_artifacts=publish_artifacts, keys=keys))
    except StoreBusyError as busy:
        # a Failed state, not a raise: the run's state message names the holder, and
        # `briefwatch ingest` prints no traceback; callers of the flow still get the error
        return Failed(message=str(busy), data=busy)
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


def _flow_run_id() -> str | None:
    run_id = flow_run.get_id()
    return str(run_id) if run_id else None


__all__ = ["CHANGED_PAGES_ARTIFACT_KEY", "REPORT_ARTIFACT_KEY", "FlowSteps", "ingest",
           "ingest_flow"]
