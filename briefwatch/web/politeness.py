"""Politeness towards the sites briefwatch reads: per-host limits and robots.txt.

:class:`HostLimiter` is shared by every thread (and every Prefect task, which run on threads
of the flow's process) that fetches in one run. For each host (``host:port``) it holds

- at most ``per_host`` requests in flight at once, and
- request *starts* at least ``min_delay`` seconds apart (each request reserves the next free
  start time, so threads queue fairly instead of racing), pushed further back when a host
  answers 429/503 with ``Retry-After`` (:meth:`HostLimiter.defer`) or asks for a longer
  ``Crawl-delay`` in its robots.txt.

Overall concurrency across hosts is the size of the fetcher's thread pool (see
:mod:`briefwatch.web.fetch`), so a run over many hosts keeps that many requests in flight while a
run over one host is held to that host's limits.

:class:`RobotsRules` reads a robots.txt with :mod:`urllib.robotparser`, following RFC 9309 on
what a failed fetch means: a 4xx answer (no robots.txt) allows everything; a 5xx answer or
no answer at all means "try later" — the host's pages fail for this run, they are not read.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from urllib.parse import urlsplit
from urllib.robotparser import RobotFileParser

# a robots.txt Crawl-delay above this is capped (a site asking for an hour between requests
# would stall a run; its pages are then read at this pace)
MAX_CRAWL_DELAY = 60.0


def host_of(url: str) -> str:
    """The politeness key of a URL: ``host:port`` (lower case), default ports included."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return f"{host}:{port}"


@dataclass
class _Host:
    slots: threading.BoundedSemaphore
    min_delay: float
    next_start: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)


class HostLimiter:
    """Per-host concurrency and minimum delay between request starts; thread-safe."""

    def __init__(
        self,
        *,
        per_host: int = 2,
        min_delay: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if per_host < 1:
            raise ValueError(f"per_host must be at least 1, not {per_host}")
        if min_delay < 0:
            raise ValueError(f"min_delay must not be negative, not {min_delay}")
        self.per_host = per_host
        self.min_delay = min_delay
        self._clock = clock
        self._sleep = sleep
        self._hosts: dict[str, _Host] = {}
        self._lock = threading.Lock()

    def _host(self, host: str) -> _Host:
        with self._lock:
            state = self._hosts.get(host)
            if state is None:
                state = _Host(threading.BoundedSemaphore(self.per_host), self.min_delay)
                self._hosts[host] = state
            return state

    @contextmanager
    def slot(self, host: str) -> Iterator[None]:
        """Hold one of ``host``'s request slots, starting no earlier than its next turn."""
        state = self._host(host)
        state.slots.acquire()
        try:
            with state.lock:
                now = self._clock()
                start = max(now, state.next_start)
                state.next_start = start + state.min_delay
            if start > now:
                self._sleep(start - now)
            yield
        finally:
            state.slots.release()

    def defer(self, host: str, seconds: float) -> None:
        """No request to ``host`` starts within the next ``seconds`` (a Retry-After)."""
        state = self._host(host)
        with state.lock:
            state.next_start = max(state.next_start, self._clock() + max(0.0, seconds))

    def slow_down(self, host: str, min_delay: float) -> None:
        """Space ``host``'s requests at least ``min_delay`` apart (robots.txt Crawl-delay)."""
        state = self._host(host)
        with state.lock:
            state.min_delay = max(state.min_delay, min(min_delay, MAX_CRAWL_DELAY))


@dataclass(frozen=True, slots=True)
class RobotsRules:
    """One host's robots.txt as far as briefwatch cares: may ``agent`` read a URL?

    ``unavailable`` is the reason when the host's robots.txt could not be had (5xx, no
    answer): nothing may be read from the host in this run.
    """

    parser: RobotFileParser | None  # None: no rules (everything allowed) or unavailable
    unavailable: str | None = None

    @classmethod
    def from_response(cls, status: int | None, text: str, *, error: str | None = None
                      ) -> RobotsRules:
        """Rules from the fetch of ``/robots.txt``: its final HTTP status (None when there
        was no answer, ``error`` saying why) and its text."""
        if status is None:
            return cls(None, unavailable=f"robots.txt could not be read ({error or 'no answer'})")
        if status >= 500:
            return cls(None, unavailable=f"robots.txt answered HTTP {status}")
        if status >= 400:
            return cls(None)  # RFC 9309: no robots.txt, no restrictions
        parser = RobotFileParser()
        parser.parse(text.splitlines())
        return cls(parser)

    def allows(self, agent: str, url: str) -> bool:
        if self.unavailable is not None:
            return False
        return self.parser is None or self.parser.can_fetch(agent, url)

    def crawl_delay(self, agent: str) -> float | None:
        if self.parser is None:
            return None
        delay = self.parser.crawl_delay(agent)
        return None if delay is None else float(delay)
