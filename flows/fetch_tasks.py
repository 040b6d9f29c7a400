"""The web half of the ``ingest`` flow: discover → fetch → parse → store, as Prefect tasks.

:func:`ingest_web` is called by the flow (under the store's writer lock, after the run's
files). One :class:`~briefwatch.web.fetch.Fetcher` serves the whole run: its pooled session,
its robots.txt cache and its :class:`~briefwatch.web.politeness.HostLimiter` are shared by every
fetch task (tasks run on threads of the flow's process), so the per-host limits hold
across tasks; its thread pool (``concurrency`` threads) is the overall limit across hosts.

Pages are fetched in batches of ``batch_size`` (one ``fetch-pages`` task each, the next
batch fetching while the previous one is parsed and stored), interleaved by host.

Retries are layered and bounded: urllib3 retries each request (``retries``, with backoff
and Retry-After) — that is where a flaky page gets its second chance. A fetch task is
retried by Prefect (``task_retries`` times, ``task_retry_delay`` apart) only when *every*
page of its batch lost its connection (the network or the hosts were down for a moment);
on its last attempt it returns the failures instead of raising, so the run completes with
those pages ``failed``. At most ``(retries + 1) × (task_retries + 1)`` requests per page.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator, Sequence
from typing import Any, TypeVar, cast

from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.client.schemas.objects import State, TaskRun
from prefect.futures import PrefectFuture
from prefect.runtime import task_run
from prefect.utilities.annotations import quote

from briefwatch.errors import BriefwatchError
from briefwatch.pipeline import progress
from briefwatch.pipeline.steps import IngestOptions, PageResult
from briefwatch.pipeline.web import (
    WebItem,
    WebPlan,
    parse_fetched,
    plan_web,
    record_problems,
    store_fetched,
    validators_for,
)
from briefwatch.store import Store, WebState
from briefwatch.web.config import WebConfig
from briefwatch.web.fetch import Fetched, Fetcher, FetchStatus

T = TypeVar("T")


class ConnectionsLostError(BriefwatchError):
    """Every page of a fetch batch lost its connection: worth one more try later."""


def _unvisited(value: T) -> T:
    """``value`` wrapped in Prefect's ``quote`` (Prefect does not walk it)."""
    return cast(T, quote(value))


def _only_lost_connections(task_: Any, run: TaskRun, state: State[Any]) -> bool:
    """Prefect retry condition: retry a fetch task only for ConnectionsLostError."""
    del task_, run
    try:
        state.result()
    except ConnectionsLostError:
        return True
    except BaseException:  # any other failure is not retried
        return False
    return False


@task(name="discover-web", cache_policy=NO_CACHE)
def discover_task(db_path: str, run_id: int, urls: list[str], config: WebConfig,
                  fetcher: Fetcher) -> WebPlan:
    logger = get_run_logger()
    store = Store(db_path)
    try:
        plan = plan_web(store, run_id, urls, config, fetcher)
        with store.batch():
            record_problems(store, run_id, plan.problems)
    finally:
        store.close()
    for source in plan.sources:
        logger.info("source %s: %d page(s) listed, %d new (tracked from now on), %d left "
                    "for later runs, %d to read", source.name, source.listed, source.new,
                    source.waiting, source.tracked)
        for error in source.errors:
            logger.warning("source %s: %s", source.name, error)
    return plan


@task(name="fetch-pages", cache_policy=NO_CACHE, retry_condition_fn=_only_lost_connections)
def fetch_task(items: list[WebItem], states: dict[str, WebState],
               fetcher: Fetcher) -> list[Fetched]:
    attempt = task_run.get_run_count()
    if attempt > 1:
        fetcher.forget_unavailable()
    fetched = list(fetcher.fetch_many(
        [(i.url, validators_for(states.get(i.url))) for i in items]))
    lost = all(f.status is FetchStatus.FAILED and f.transient and f.http_status is None
               for f in fetched)
    if fetched and lost and attempt <= fetcher.options.task_retries:
        raise ConnectionsLostError(
            f"all {len(fetched)} page(s) of this batch lost their connection "
            f"(first: {fetched[0].error}); retrying the batch")
    return fetched


@task(name="parse-fetched", cache_policy=NO_CACHE)
def parse_task(pages: list[tuple[WebItem, Fetched]], known: dict[str, str],
               options: IngestOptions) -> list[PageResult | None]:
    return parse_fetched(pages, known, options)


@task(name="store-fetched", cache_policy=NO_CACHE)
def store_task(db_path: str, run_id: int, pages: list[tuple[WebItem, Fetched]],
               results: list[PageResult | None], states: dict[str, WebState]) -> list[str]:
    store = Store(db_path)
    try:
        with store.batch():
            return [store_fetched(store, run_id, item, fetched, result, states.get(item.url))
                    for (item, fetched), result in zip(pages, results, strict=True)]
    finally:
        store.close()


def _batches(items: Sequence[WebItem], size: int) -> list[list[WebItem]]:
    return [list(items[i:i + size]) for i in range(0, len(items), max(1, size))]


def fetched_batches(items: Sequence[WebItem], states: dict[str, WebState],
                    fetcher: Fetcher) -> Iterator[list[tuple[WebItem, Fetched]]]:
    """Each batch's fetch results in order; the next batch is fetching meanwhile."""
    task_ = fetch_task.with_options(
        retries=fetcher.options.task_retries,
        retry_delay_seconds=fetcher.options.task_retry_delay)
    pending: deque[tuple[list[WebItem], PrefectFuture[list[Fetched]]]] = deque()
    for batch in _batches(items, fetcher.options.batch_size):
        mine = {i.url: states[i.url] for i in batch if i.url in states}
        pending.append((batch, task_.submit(_unvisited(batch), _unvisited(mine),
                                            _unvisited(fetcher))))
        if len(pending) > 1:
            done, future = pending.popleft()
            yield list(zip(done, future.result(), strict=True))
    while pending:
        done, future = pending.popleft()
        yield list(zip(done, future.result(), strict=True))


def ingest_web(db_path: str, run_id: int, store: Store, urls: list[str],
               config: WebConfig, options: IngestOptions) -> set[str]:
    """Read the run's web pages (URL arguments and ``config``'s sources, see
    :func:`briefwatch.web.config.load_web_config`) into the store; returns the locations
    read. Call under the store's writer lock."""
    logger = get_run_logger()
    if not urls and not config.sources:
        return set()
    counts: dict[str, int] = {}
    with Fetcher(config.fetch) as fetcher:
        plan = discover_task(db_path, run_id, urls, _unvisited(config), _unvisited(fetcher))
        items = list(plan.items)
        states = store.web_states([i.url for i in items])
        logger.info("fetching %d page(s) from %d host(s), %d conditionally (ETag / "
                    "Last-Modified)", len(items), len({i.url.split("/")[2] for i in items}),
                    sum(1 for s in states.values() if s.etag or s.last_modified))
        done = 0
        progress.report("fetch", 0, len(items))
        for pages in fetched_batches(items, states, fetcher):
            mine = {i.url: states[i.url] for i, _ in pages if i.url in states}
            results = parse_task(_unvisited(pages), _unvisited(
                {url: state.raw_hash for url, state in mine.items()}), options)
            for status in store_task(db_path, run_id, _unvisited(pages), _unvisited(results),
                                     _unvisited(mine)):
                counts[status] = counts.get(status, 0) + 1
            done += len(pages)
            progress.report("fetch", done, len(items))
            logger.info("%d/%d web page(s) done (%s)", done, len(items),
                        ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
    return {i.url for i in items}
