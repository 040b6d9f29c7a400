"""One ingest run, start to delivered report, in plain Python (no Prefect).

:func:`run_ingest` is the whole lifecycle: take the store's writer lock → start the run →
read and parse the local pages in chunks → store and diff them → read the web pages
(discover → fetch → parse → store) → mark pages gone from their directories → finish the run
→ publish → deliver → mark it reported → retention. Each step is a method of
:class:`IngestSteps`; the defaults run in this process. The Prefect ``ingest`` flow
(:mod:`briefwatch.flows.ingest`) runs the same function with steps that are Prefect tasks,
so the CLI, the flow, the tests and the benches share one lifecycle.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field, replace
from typing import Any

from briefwatch.contract import Report
from briefwatch.errors import OptionError, StoreBusyError, StoreError
from briefwatch.pipeline import delivery, progress
from briefwatch.pipeline.sources import SourceItem, discover, resolve_sources, without_pages
from briefwatch.pipeline.steps import (
    IngestOptions,
    PageResult,
    ParsePool,
    read_and_parse,
    store_results,
)
from briefwatch.pipeline.web import (
    WebItem,
    WebPlan,
    parse_fetched,
    plan_web,
    record_problems,
    sources_listing_nothing,
    store_fetched,
    validators_for,
)
from briefwatch.store import Store, WebState
from briefwatch.store.maintenance import RetentionPolicy, drop_raw
from briefwatch.web.config import WebConfig, load_web_config, split_sources
from briefwatch.web.fetch import Fetched, Fetcher, FetchStatus

__all__ = ["RUNNER_FLOW", "RUNNER_IN_PROCESS", "IngestRequest", "IngestSteps",
           "all_connections_lost", "chunks", "known_for", "parse_on", "parse_pool", "run_ingest",
           "uses_process_pool"]

LOG = logging.getLogger("briefwatch.ingest")
RUNNER_IN_PROCESS = "in-process"
RUNNER_FLOW = "prefect flow"


@dataclass(frozen=True, slots=True)
class IngestRequest:
    """What one ingest run reads and where it writes (the flow's parameters).

    ``lock_wait``: seconds to wait when another run holds the store (0: refuse at once).
    ``config``: a sources.toml of web sources. ``mark_reported``: mark the run reported
    once its report is delivered. ``raw_retention_days``: afterwards drop raw bytes of
    versions older than that (None: keep all). ``flow_run_id``: the Prefect flow run this
    run is, if any (stored with the run; null in-process)."""

    sources: list[str]
    db_path: str = "briefwatch.db"
    chunk_size: int = 64
    lock_wait: float = 0.0
    config: str | None = None
    mark_reported: bool = True
    raw_retention_days: float | None = None
    flow_run_id: str | None = None
    options: IngestOptions = field(default=IngestOptions())
    runner: str = RUNNER_IN_PROCESS

    def __post_init__(self) -> None:
        """OptionError for values that would make the run quietly do nothing or wrong."""
        if self.chunk_size < 1:
            raise OptionError(f"chunk_size must be at least 1, not {self.chunk_size}")
        if not self.lock_wait >= 0:
            raise OptionError(f"lock_wait must be a number of seconds >= 0, not "
                              f"{self.lock_wait}")

    def run_options(self) -> dict[str, Any]:
        """The options stored with the run (and shown in its report): chunk size, config,
        and which runner ran it (``prefect flow`` or ``in-process``)."""
        return {"chunk_size": self.chunk_size, **({"config": self.config} if self.config else {}),
                "runner": self.runner}


def chunks(items: Sequence[Any], size: int) -> list[list[Any]]:
    """``items`` in lists of ``size`` (at least 1)."""
    size = max(1, size)
    return [list(items[i:i + size]) for i in range(0, len(items), size)]


def uses_process_pool(pages: int, options: IngestOptions) -> bool:
    """Whether a run over ``pages`` pages parses on worker processes."""
    return options.max_workers > 1 and pages >= options.process_pool_min_pages


@contextmanager
def parse_pool(pages: int, options: IngestOptions) -> Iterator[ParsePool | None]:
    """Worker processes for a run over ``pages`` pages when it pays to start them, else
    None (parse in this process); closed on exit."""
    pool = ParsePool(options.max_workers) if uses_process_pool(pages, options) else None
    try:
        yield pool
    finally:
        if pool is not None:
            pool.close()


def parse_on(pool: ParsePool | None, chunk: Sequence[SourceItem], known: Mapping[str, str],
             options: IngestOptions) -> list[PageResult]:
    """Read and parse one chunk, on ``pool``'s workers or (None) in this process."""
    if pool is None:
        return read_and_parse(chunk, known, options)
    return pool.read_and_parse(chunk, known, options)


def known_for(chunk: Sequence[SourceItem], known: Mapping[str, str]) -> dict[str, str]:
    """The last raw hashes of one chunk's locations (a step gets only what it needs)."""
    return {i.location: known[i.location] for i in chunk if i.location in known}


def all_connections_lost(fetched: Sequence[Fetched]) -> bool:
    """Whether every page of a fetched batch lost its connection (no HTTP answer at all):
    worth one more try of the whole batch later."""
    return bool(fetched) and all(f.status is FetchStatus.FAILED and f.transient
                                 and f.http_status is None for f in fetched)


class IngestSteps:
    """The steps of :func:`run_ingest`, run in this process. The Prefect flow overrides
    them with tasks; every override keeps these signatures and results."""

    def log(self, level: int, message: str, *args: object) -> None:
        LOG.log(level, message, *args)

    def writer_lock(self, store: Store, wait: float) -> AbstractContextManager[None]:
        return _writer_lock(self, store, wait)

    def discover(self, sources: Sequence[str]) -> list[SourceItem]:
        items = discover(sources)
        self.log(logging.INFO, "%d page(s) found in %d source(s)", len(items), len(sources))
        return items

    def parsed_chunks(self, items: Sequence[SourceItem], known: Mapping[str, str],
                      options: IngestOptions) -> Iterator[list[PageResult]]:
        with parse_pool(len(items), options) as pool:
            for chunk in chunks(items, options.chunk_size):
                yield parse_on(pool, chunk, known_for(chunk, known), options)

    def store_chunk(self, db_path: str, run_id: int, results: list[PageResult]) -> list[str]:
        with Store(db_path) as store, store.batch():
            # one commit per chunk; each page is a savepoint inside it
            return store_results(store, run_id, results)

    def plan_web(self, db_path: str, run_id: int, urls: list[str], config: WebConfig,
                 fetcher: Fetcher) -> WebPlan:
        with Store(db_path) as store:
            plan = plan_web(store, run_id, urls, config, fetcher)
            with store.batch():
                record_problems(store, run_id, plan.problems)
        for source in plan.sources:
            self.log(logging.INFO, "source %s: %d page(s) listed, %d new (tracked from now "
                     "on), %d left for later runs, %d to read", source.name, source.listed,
                     source.new, source.waiting, source.tracked)
            for error in source.errors:
                self.log(logging.WARNING, "source %s: %s", source.name, error)
        return plan

    def fetched_batches(self, items: Sequence[WebItem], states: dict[str, WebState],
                        fetcher: Fetcher) -> Iterator[list[tuple[WebItem, Fetched]]]:
        """Each batch fetched in turn; a batch whose every page lost its connection is tried
        again (``task_retries`` times, ``task_retry_delay`` apart), as the flow's task
        retries do."""
        for batch in chunks(items, fetcher.options.batch_size):
            requests = [(i.url, validators_for(states.get(i.url))) for i in batch]
            fetched = list(fetcher.fetch_many(requests))
            for _retry in range(fetcher.options.task_retries):
                if not all_connections_lost(fetched):
                    break
                self.log(logging.WARNING, "all %d page(s) of this batch lost their connection "
                         "(first: %s); retrying the batch", len(fetched), fetched[0].error)
                time.sleep(fetcher.options.task_retry_delay)
                fetcher.forget_unavailable()
                fetched = list(fetcher.fetch_many(requests))
            yield list(zip(batch, fetched, strict=True))

    def parse_fetched(self, pages: list[tuple[WebItem, Fetched]], known: dict[str, str],
                      options: IngestOptions) -> list[PageResult | None]:
        return parse_fetched(pages, known, options)

    def store_fetched(self, db_path: str, run_id: int, pages: list[tuple[WebItem, Fetched]],
                      results: list[PageResult | None],
                      states: dict[str, WebState]) -> list[str]:
        with Store(db_path) as store, store.batch():
            return [store_fetched(store, run_id, item, fetched, result, states.get(item.url))
                    for (item, fetched), result in zip(pages, results, strict=True)]

    def finish(self, db_path: str, run_id: int, roots: list[str],
               seen: set[str]) -> Report:
        with Store(db_path) as store:
            for root in roots:
                store.mark_gone(run_id, source_root=root, seen_locations=seen)
            store.finish_run(run_id, reported=False)  # marked once its report is delivered
            return store.run_report(run_id)

    def publish(self, report: Report) -> None:
        """Publish the report where the runner shows reports (Prefect: artifacts)."""

    def retention(self, db_path: str, days: float) -> None:
        """Drop raw payloads older than ``days``; a refusal is logged, the run stays done."""
        try:
            with Store(db_path) as store:
                result = drop_raw(store, RetentionPolicy(days))
        except StoreError as exc:
            self.log(logging.ERROR, "raw retention (%g days) failed, nothing dropped: %s",
                     days, exc)
            return
        self.log(logging.INFO, "raw retention (%g days): dropped the raw bytes of %d blob(s),"
                 " %d bytes raw, %d bytes stored", days, result.blobs_dropped,
                 result.raw_bytes_dropped, result.stored_bytes_dropped)


@contextmanager
def _writer_lock(steps: IngestSteps, store: Store, wait: float) -> Iterator[None]:
    """Hold ``store``'s writer lock; wait up to ``wait`` s for another holder (saying so),
    then StoreBusyError naming the holder (the run has written nothing)."""
    try:
        lock = store.writer_lock()
        lock.__enter__()
    except StoreBusyError as busy:
        if wait <= 0:
            steps.log(logging.ERROR, "%s; this run stops without writing (lock_wait is 0)",
                      busy)
            raise
        waiting = f"{busy}; this run waits up to {wait:g} s for it"
        # a watching terminal (`briefwatch ingest --wait`) prints it itself
        steps.log(logging.INFO if progress.notice(waiting) else logging.WARNING, waiting)
        try:
            lock = store.writer_lock(wait=wait)
            lock.__enter__()
        except StoreBusyError as still_busy:
            steps.log(logging.ERROR, "%s; this run waited %g s and stops without writing",
                      still_busy, wait)
            raise still_busy from None
        steps.log(logging.INFO, "store %s is free; this run goes on", store.path)
    try:
        yield
    finally:
        lock.__exit__(None, None, None)


def run_ingest(request: IngestRequest, steps: IngestSteps | None = None) -> Report:
    """One ingest run over ``request``'s SOURCE files/directories, http(s) URLs and web
    sources into its store; returns the run's report (the JSON report contract), after
    handing it to the installed deliverer. A failing page fails that page (it is in the
    report), not the run. StoreBusyError if another run holds the store for longer than
    ``lock_wait``; SourceConfigError / SourceError for a bad config or URL, before anything
    is written."""
    steps = steps or IngestSteps()
    options = replace(request.options, chunk_size=request.chunk_size)
    local, urls = split_sources(request.sources)
    web_config = load_web_config(request.config)
    with Store(request.db_path) as store, steps.writer_lock(store, request.lock_wait):
        run_id = store.start_run(request.sources, flow_run_id=request.flow_run_id,
                                 options=request.run_options())
        items = steps.discover(local) if local else []
        for line in without_pages(local, items) if local else []:
            _tell(steps, line)
        known = store.location_hashes([i.location for i in items])
        done = 0
        for results in steps.parsed_chunks(items, known, options):
            steps.store_chunk(request.db_path, run_id, results)
            done += len(results)
            steps.log(logging.INFO, "%d/%d pages processed", done, len(items))
            progress.report("read", done, len(items))
        seen = {i.location for i in items}
        seen |= _ingest_web(steps, request.db_path, run_id, store, urls, web_config, options)
        roots = sorted(_directory_roots(local)) if local else []
        report = steps.finish(request.db_path, run_id, roots, seen)
        steps.publish(report)
        delivery.deliver(report)
        if request.mark_reported:
            store.mark_reported(run_id)
        if request.raw_retention_days is not None:
            steps.retention(request.db_path, request.raw_retention_days)
    counts = report["run"]["counts"]
    steps.log(logging.INFO, "run %s: %s", run_id, ", ".join(f"{k} {v}" for k, v in counts.items()))
    return report


def _ingest_web(steps: IngestSteps, db_path: str, run_id: int, store: Store, urls: list[str],
                config: WebConfig, options: IngestOptions) -> set[str]:
    """Read the run's web pages into the store; returns the locations read."""
    if not urls and not config.sources:
        return set()
    counts: dict[str, int] = {}
    with Fetcher(config.fetch) as fetcher:
        plan = steps.plan_web(db_path, run_id, urls, config, fetcher)
        for line in sources_listing_nothing(plan, config):
            _tell(steps, line)
        items = list(plan.items)
        states = store.web_states([i.url for i in items])
        steps.log(logging.INFO, "fetching %d page(s) from %d host(s), %d conditionally (ETag /"
                  " Last-Modified)", len(items), len({i.url.split("/")[2] for i in items}),
                  sum(1 for s in states.values() if s.etag or s.last_modified))
        done = 0
        progress.report("fetch", 0, len(items))
        for pages in steps.fetched_batches(items, states, fetcher):
            mine = {i.url: states[i.url] for i, _ in pages if i.url in states}
            results = steps.parse_fetched(pages, {u: s.raw_hash for u, s in mine.items()},
                                          options)
            for status in steps.store_fetched(db_path, run_id, pages, results, mine):
                counts[status] = counts.get(status, 0) + 1
            done += len(pages)
            progress.report("fetch", done, len(items))
            steps.log(logging.INFO, "%d/%d web page(s) done (%s)", done, len(items),
                      ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
    return {i.url for i in items}


def _tell(steps: IngestSteps, message: str) -> None:
    """``message`` to whoever watches the run (the terminal of ``briefwatch ingest``), and
    into the run's log (a warning when nobody watches)."""
    steps.log(logging.INFO if progress.notice(message) else logging.WARNING, message)


def _directory_roots(sources: Sequence[str]) -> set[str]:
    return {p.as_uri() for p in resolve_sources(sources) if p.is_dir()}
