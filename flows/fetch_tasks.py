"""The web half of the ``ingest`` flow: discover → fetch → parse → store, as Prefect tasks.

:class:`FetchTaskSteps` gives :func:`briefwatch.pipeline.ingest.run_ingest` these tasks as its web
steps (run under the store's writer lock, after the run's files). One
:class:`~briefwatch.web.fetch.Fetcher` serves the whole run: its pooled session,
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
from briefwatch.pipeline.ingest import IngestSteps, all_connections_lost, chunks
from briefwatch.pipeline.steps import IngestOptions, PageResult
from briefwatch.pipeline.web import (
    WebItem,
    WebPlan,
    validators_for,
)
from briefwatch.store import WebState
from briefwatch.web.config import WebConfig
from briefwatch.web.fetch import Fetched, Fetcher

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


_STEPS = IngestSteps()


@task(name="discover-web", cache_policy=NO_CACHE)
def discover_task(db_path: str, run_id: int, urls: list[str], config: WebConfig,
                  fetcher: Fetcher) -> WebPlan:
    # the in-process step, logging to this flow run's log
    return IngestSteps.plan_web(FetchTaskSteps(), db_path, run_id, urls, config, fetcher)


@task(name="fetch-pages", cache_policy=NO_CACHE, retry_condition_fn=_only_lost_connections)
def fetch_task(items: list[WebItem], states: dict[str, WebState],
               fetcher: Fetcher) -> list[Fetched]:
    attempt = task_run.get_run_count()
    if attempt > 1:
        fetcher.forget_unavailable()
    fetched = list(fetcher.fetch_many(
        [(i.url, validators_for(states.get(i.url))) for i in items]))
    if all_connections_lost(fetched) and attempt <= fetcher.options.task_retries:
        raise ConnectionsLostError(
            f"all {len(fetched)} page(s) of this batch lost their connection "
            f"(first: {fetched[0].error}); retrying the batch")
    return fetched


@task(name="parse-fetched", cache_policy=NO_CACHE)
def parse_task(pages: list[tuple[WebItem, Fetched]], known: dict[str, str],
               options: IngestOptions) -> list[PageResult | None]:
    return _STEPS.parse_fetched(pages, known, options)


@task(name="store-fetched", cache_policy=NO_CACHE)
def store_task(db_path: str, run_id: int, pages: list[tuple[WebItem, Fetched]],
               results: list[PageResult | None], states: dict[str, WebState]) -> list[str]:
    return _STEPS.store_fetched(db_path, run_id, pages, results, states)


class FetchTaskSteps(IngestSteps):
    """The web steps of an ingest run as Prefect tasks (one ``fetch-pages`` task per batch,
    the next batch fetching while the previous one is parsed and stored)."""

    def log(self, level: int, message: str, *args: object) -> None:
        get_run_logger().log(level, message, *args)

    def plan_web(self, db_path: str, run_id: int, urls: list[str], config: WebConfig,
                 fetcher: Fetcher) -> WebPlan:
        return discover_task(db_path, run_id, urls, _unvisited(config), _unvisited(fetcher))

    def fetched_batches(self, items: Sequence[WebItem], states: dict[str, WebState],
                        fetcher: Fetcher) -> Iterator[list[tuple[WebItem, Fetched]]]:
        """Each batch's fetch results in order; the next batch is fetching meanwhile."""
        task_ = fetch_task.with_options(
            retries=fetcher.options.task_retries,
            retry_delay_seconds=fetcher.options.task_retry_delay)
        pending: deque[tuple[list[WebItem], PrefectFuture[list[Fetched]]]] = deque()
        for batch in chunks(items, fetcher.options.batch_size):
            mine = {i.url: states[i.url] for i in batch if i.url in states}
            pending.append((batch, task_.submit(_unvisited(batch), _unvisited(mine),
                                                _unvisited(fetcher))))
            if len(pending) > 1:
                done, future = pending.popleft()
                yield list(zip(done, future.result(), strict=True))
        while pending:
            done, future = pending.popleft()
            yield list(zip(done, future.result(), strict=True))

    def parse_fetched(self, pages: list[tuple[WebItem, Fetched]], known: dict[str, str],
                      options: IngestOptions) -> list[PageResult | None]:
        return parse_task(_unvisited(pages), _unvisited(known), options)

    def store_fetched(self, db_path: str, run_id: int, pages: list[tuple[WebItem, Fetched]],
                      results: list[PageResult | None],
                      states: dict[str, WebState]) -> list[str]:
        return store_task(db_path, run_id, _unvisited(pages), _unvisited(results),
                          _unvisited(states))
