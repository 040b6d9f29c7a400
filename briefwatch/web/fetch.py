"""Fetching pages over HTTP(S): one pooled session, retries, limits, politeness.

A :class:`Fetcher` is made once per run and shared by every thread that fetches:

- one ``requests.Session`` whose adapters pool connections per host, with connect and read
  timeouts and urllib3's ``Retry`` (exponential backoff on connection errors, read timeouts,
  429 and 5xx; ``Retry-After`` honoured, and a server asking to wait longer than
  ``max_retry_after`` is not retried at all);
- a descriptive User-Agent that names a contact (``FetchOptions.contact``);
- conditional GET: the caller passes the page's stored ``ETag`` / ``Last-Modified`` and gets
  ``NOT_MODIFIED`` back for a 304;
- limits: only ``http``/``https``; redirects followed one hop at a time (each hop checked
  against robots.txt and the host limits, a loop or more than ``max_redirects`` hops is an
  error, the final URL is kept); the body is read in chunks and given up past ``max_bytes``
  *after decompression* (a gzip bomb costs one chunk of memory, not gigabytes) or past
  ``total_timeout`` seconds;
- robots.txt per host, read once per run (:class:`briefwatch.web.politeness.RobotsRules`), and
  the per-host limits of a shared :class:`briefwatch.web.politeness.HostLimiter`.

:meth:`Fetcher.fetch` never raises for a page's problem: the :class:`Fetched` it returns has
a :class:`FetchStatus` and a one-line ``error``. Statuses are never confused with content:

======================  ==========================================================
``ok``                  2xx with a body (``blocked`` if it is a WAF/captcha page)
``not_modified``        304 to a conditional request
``gone``                404 / 410
``blocked``             403, or a block page (:mod:`briefwatch.web.blockpage`)
``failed``              timeouts, connection errors, 5xx and 429 after retries, other
                        4xx, bad redirects, too large, unsupported content type
``disallowed``          robots.txt forbids it (nothing was requested)
======================  ==========================================================
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from enum import StrEnum
from importlib import metadata as _metadata
from typing import Any, Literal
from urllib.parse import urljoin, urlsplit, urlunsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.exceptions import (
    ConnectTimeoutError,
    HTTPError,
    InvalidHeader,
    MaxRetryError,
    NewConnectionError,
    ReadTimeoutError,
    ResponseError,
)
from urllib3.util.retry import Retry

from briefwatch.errors import SourceError
from briefwatch.web.blockpage import MAX_BLOCK_PAGE, block_reason
from briefwatch.web.politeness import HostLimiter, RobotsRules, host_of

try:
    __version__ = _metadata.version("briefwatch")
except _metadata.PackageNotFoundError:  # pragma: no cover - running from a bare checkout
    __version__ = "0"
ROBOTS_AGENT = "briefwatch"  # the product token robots.txt rules are matched against
DEFAULT_USER_AGENT = (f"briefwatch/{__version__} (+statement-level change monitor for public "
                      "briefing pages)")
# formats the parsers read, by Content-Type; a page of another type fails with a clear error
PAGE_TYPES: dict[str, str] = {
    "text/html": "html",
    "application/xhtml+xml": "html",
    "text/plain": "text",
    "text/markdown": "markdown",
    "text/x-markdown": "markdown",
}
ROBOTS_MAX_BYTES = 512 * 1024  # as Google: rules past 500 KiB are ignored
_CHUNK = 64 * 1024
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
_CHARSET = re.compile(r"charset\s*=\s*[\"']?([A-Za-z0-9._:-]+)", re.I)

FetchKind = Literal["page", "discovery", "robots"]


class UnsupportedURLError(SourceError):
    """A URL briefwatch will not fetch (not http/https, or malformed)."""


class FetchStatus(StrEnum):
    OK = "ok"
    NOT_MODIFIED = "not_modified"
    GONE = "gone"
    BLOCKED = "blocked"
    FAILED = "failed"
    DISALLOWED = "disallowed"


@dataclass(frozen=True, slots=True)
class FetchOptions:
    """How a run fetches (``[fetch]`` in sources.toml; every field has a default)."""

    user_agent: str = DEFAULT_USER_AGENT
    contact: str | None = None  # e-mail or URL site owners can reach the operator at
    connect_timeout: float = 10.0
    read_timeout: float = 30.0  # between two bytes of an answer
    total_timeout: float = 120.0  # a whole response, headers and body
    retries: int = 3  # per request, by urllib3 (connection errors, timeouts, 429, 5xx)
    backoff_factor: float = 0.5  # 0.5 s, 1 s, 2 s, ... between retries
    max_retry_after: float = 120.0  # a longer Retry-After is not waited for: failed
    max_redirects: int = 10
    max_bytes: int = 20 * 1024 * 1024  # decompressed body
    concurrency: int = 8  # requests in flight over all hosts
    per_host_concurrency: int = 2
    per_host_delay: float = 1.0  # seconds between two request starts to one host
    respect_robots: bool = True
    batch_size: int = 100  # pages per Prefect fetch task
    task_retries: int = 1  # Prefect retries of a fetch task that lost every connection
    task_retry_delay: float = 10.0

    def user_agent_header(self) -> str:
        if self.contact:
            return f"{self.user_agent} contact: {self.contact}"
        return self.user_agent


@dataclass(frozen=True, slots=True)
class Validators:
    """What a conditional GET sends: the page's last ETag / Last-Modified."""

    etag: str | None = None
    last_modified: str | None = None

    def __bool__(self) -> bool:
        return bool(self.etag or self.last_modified)


@dataclass(frozen=True, slots=True)
class Fetched:
    """The outcome of fetching one URL."""

    url: str  # as asked for
    status: FetchStatus
    final_url: str  # after redirects
    http_status: int | None = None
    body: bytes | None = None
    content_type: str | None = None  # media type, lower case, no parameters
    charset: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    error: str | None = None
    redirects: tuple[str, ...] = ()  # every URL after the first, in order
    attempts: int = 1
    transient: bool = False  # a failure that another try later may not have

    @property
    def page_format(self) -> str | None:
        """The parser format for the body's content type (None: sniff it)."""
        return None if self.content_type is None else PAGE_TYPES.get(self.content_type)


class _PoliteRetry(Retry):
    """urllib3's Retry that gives up at once when the server asks to wait longer than
    ``give_up_after`` seconds (instead of sleeping that long in a fetch thread), and treats
    an unreadable Retry-After as absent."""

    def __init__(self, *args: Any, give_up_after: float = 120.0, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.give_up_after = give_up_after

    def new(self, **kw: Any) -> _PoliteRetry:
        kw.setdefault("give_up_after", self.give_up_after)
        return super().new(**kw)

    def parse_retry_after(self, retry_after: str) -> float:
        try:
            return super().parse_retry_after(retry_after)
        except InvalidHeader:
            return 0.0

    def increment(self, method: str | None = None, url: str | None = None,
                  response: Any = None, error: Exception | None = None,
                  _pool: Any = None, _stacktrace: Any = None) -> _PoliteRetry:
        if response is not None and self.respect_retry_after_header:
            wait = self.get_retry_after(response)
            if wait is not None and wait > self.give_up_after:
                raise MaxRetryError(_pool, url or "", ResponseError(
                    f"Retry-After {wait:.0f} s is longer than {self.give_up_after:.0f} s"))
        return super().increment(method, url, response, error, _pool, _stacktrace)


class _BodyError(Exception):
    """The body was given up (too large, too slow)."""


def check_url(url: str) -> str:
    """``url`` without its fragment; UnsupportedURLError unless it is an http(s) URL with a
    host."""
    text = url.strip()
    parts = urlsplit(text)
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        shown = f"{scheme}:" if scheme else "no scheme"
        raise UnsupportedURLError(
            f"unsupported URL {text[:200]!r} ({shown}): only http and https URLs are fetched")
    if not parts.hostname:
        raise UnsupportedURLError(f"unsupported URL {text[:200]!r}: no host")
    return urlunsplit((scheme, parts.netloc.lower(), parts.path or "/", parts.query, ""))


def parse_content_type(value: str | None) -> tuple[str | None, str | None]:
    """(media type in lower case, charset) of a Content-Type header."""
    if not value:
        return None, None
    mime = value.split(";", 1)[0].strip().lower() or None
    match = _CHARSET.search(value)
    return mime, match.group(1) if match else None


class Fetcher:
    """Fetches URLs for one run; thread-safe. Use as a context manager (closes the pool)."""

    def __init__(self, options: FetchOptions = FetchOptions(),
                 limiter: HostLimiter | None = None) -> None:
        self.options = options
        self.limiter = limiter or HostLimiter(per_host=options.per_host_concurrency,
                                              min_delay=options.per_host_delay)
        self.session = _session(options)
        self._robots: dict[str, RobotsRules] = {}
        self._robots_locks: dict[str, threading.Lock] = {}
        self._held: dict[str, float] = {}  # host -> monotonic time it asked us to wait until
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(max_workers=max(1, options.concurrency),
                                        thread_name_prefix="briefwatch-fetch")

    # ------------------------------------------------------------------ lifecycle

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)
        self.session.close()

    def __enter__(self) -> Fetcher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---------------------------------------------------------------------- API

    def fetch_many(self, requests_: list[tuple[str, Validators | None]],
                   kind: FetchKind = "page") -> Iterator[Fetched]:
        """Fetch many URLs on the fetcher's thread pool (``concurrency`` at once over all
        hosts, each host within its limits); results in the order asked."""
        futures = [self._pool.submit(self.fetch, url, validators, kind=kind)
                   for url, validators in requests_]
        for future in futures:
            yield future.result()

    def fetch(self, url: str, validators: Validators | None = None, *,
              kind: FetchKind = "page") -> Fetched:
        """Fetch one URL, following redirects; never raises for the page's problems."""
        try:
            current = check_url(url)
        except UnsupportedURLError as exc:
            return Fetched(url, FetchStatus.FAILED, url, error=str(exc))
        seen = [current]
        deadline = time.monotonic() + self.options.total_timeout
        max_hops = self.options.max_redirects if kind != "robots" else min(
            5, self.options.max_redirects)
        for _ in range(max_hops + 1):
            if kind != "robots" and self.options.respect_robots:
                refused = self._robots_refusal(url, current, tuple(seen[1:]))
                if refused is not None:
                    return refused
            outcome = self._one_hop(url, current, validators, kind, tuple(seen[1:]), deadline)
            if isinstance(outcome, Fetched):
                return outcome
            if outcome in seen:
                chain = " → ".join([*seen[seen.index(outcome):], outcome])
                return Fetched(url, FetchStatus.FAILED, current, error=f"redirect loop: {chain}",
                               redirects=tuple(seen[1:]))
            seen.append(outcome)
            current = outcome
        return Fetched(url, FetchStatus.FAILED, current, redirects=tuple(seen[1:]),
                       error=f"too many redirects: more than {max_hops} (last: {current})")

    def forget_unavailable(self) -> None:
        """Ask again for robots.txt files that could not be had (before a retry)."""
        with self._lock:
            for origin in [o for o, r in self._robots.items() if r.unavailable is not None]:
                del self._robots[origin]

    def _held_for(self, host: str) -> float | None:
        """Seconds ``host`` still asked us to keep away (Retry-After over the limit)."""
        with self._lock:
            until = self._held.get(host)
        left = None if until is None else until - time.monotonic()
        return left if left is not None and left > 0 else None

    # ----------------------------------------------------------------- robots

    def robots(self, url: str) -> RobotsRules:
        """The robots.txt rules of ``url``'s host (fetched once per Fetcher)."""
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"
        with self._lock:
            rules = self._robots.get(origin)
            if rules is not None:
                return rules
            lock = self._robots_locks.setdefault(origin, threading.Lock())
        with lock:
            with self._lock:
                rules = self._robots.get(origin)
            if rules is None:
                rules = self._read_robots(origin)
                with self._lock:
                    self._robots[origin] = rules
        return rules

    def _read_robots(self, origin: str) -> RobotsRules:
        got = self.fetch(origin + "/robots.txt", kind="robots")
        if got.status is FetchStatus.OK:
            text = (got.body or b"").decode(got.charset or "utf-8", "replace")
            rules = RobotsRules.from_response(got.http_status, text)
        elif got.http_status is not None and got.status is not FetchStatus.FAILED:
            rules = RobotsRules.from_response(got.http_status, "")  # 404, 410, 403: no rules
        else:
            rules = RobotsRules.from_response(got.http_status if got.http_status and
                                              got.http_status >= 500 else None, "",
                                              error=got.error)
        delay = rules.crawl_delay(ROBOTS_AGENT)
        if delay:
            self.limiter.slow_down(host_of(origin), delay)
        return rules

    def _robots_refusal(self, url: str, current: str, redirects: tuple[str, ...]
                        ) -> Fetched | None:
        rules = self.robots(current)
        if rules.allows(ROBOTS_AGENT, current):
            return None
        host = host_of(current)
        if rules.unavailable is not None:
            return Fetched(url, FetchStatus.FAILED, current, redirects=redirects, transient=True,
                           error=f"not fetched: {rules.unavailable} for {host}; "
                                 "its pages are read when it answers again")
        return Fetched(url, FetchStatus.DISALLOWED, current, redirects=redirects,
                       error=f"skipped: robots.txt of {host} disallows {current} "
                             f"for {ROBOTS_AGENT}")

    # ------------------------------------------------------------------- hops

    def _one_hop(self, url: str, current: str, validators: Validators | None,
                 kind: FetchKind, redirects: tuple[str, ...], deadline: float
                 ) -> Fetched | str:
        """Request ``current`` once (urllib3 retries inside); a Fetched, or the URL a
        redirect points to."""
        headers = {}
        if validators and kind == "page":
            if validators.etag:
                headers["If-None-Match"] = validators.etag
            if validators.last_modified:
                headers["If-Modified-Since"] = validators.last_modified
        host = host_of(current)
        opts = self.options
        held = self._held_for(host)
        if held is not None:
            return Fetched(url, FetchStatus.FAILED, current, redirects=redirects, transient=True,
                           error=f"not fetched: {host} asked to wait {held:.0f} s more "
                                 "(Retry-After); its pages are read in a later run")
        with self.limiter.slot(host):
            try:
                response = self.session.get(
                    current, headers=headers, stream=True, allow_redirects=False,
                    timeout=(opts.connect_timeout, opts.read_timeout))
            except requests.RequestException as exc:
                return Fetched(url, FetchStatus.FAILED, current, redirects=redirects,
                               attempts=opts.retries + 1, transient=True,
                               error=describe_error(exc, host, opts))
            with response:
                return self._classify(url, current, response, validators, kind, redirects,
                                      deadline)

    def _classify(self, url: str, current: str, response: requests.Response,
                  validators: Validators | None, kind: FetchKind,
                  redirects: tuple[str, ...], deadline: float) -> Fetched | str:
        status = response.status_code
        attempts = _attempts(response)
        base = Fetched(url, FetchStatus.FAILED, current, http_status=status, attempts=attempts,
                       redirects=redirects)
        if status in _REDIRECTS:
            return _redirect_target(base, current, response.headers.get("Location"))
        etag = response.headers.get("ETag")
        modified = response.headers.get("Last-Modified")
        if status == 304:
            if not validators:
                return replace(base, error="HTTP 304 Not Modified to a request that was not "
                                           "conditional")
            return replace(base, status=FetchStatus.NOT_MODIFIED,
                           etag=etag or validators.etag,
                           last_modified=modified or validators.last_modified)
        if status in (404, 410):
            return replace(base, status=FetchStatus.GONE, error=_status_line(response))
        if not 200 <= status < 300:
            return self._error_status(base, response, kind, deadline)
        mime, charset = parse_content_type(response.headers.get("Content-Type"))
        if kind == "page" and mime is not None and mime not in PAGE_TYPES:
            return replace(base, content_type=mime, error=(
                f"unsupported content type {mime}: no parser for it (HTML, plain text and "
                "Markdown pages are read)"))
        limit = ROBOTS_MAX_BYTES if kind == "robots" else self.options.max_bytes
        try:
            body = _read_body(response, limit, deadline, truncate=kind == "robots")
        except _BodyError as exc:
            return replace(base, content_type=mime, error=str(exc),
                           transient="took longer" in str(exc))
        except (requests.RequestException, HTTPError) as exc:
            why = describe_error(exc, host_of(current), self.options)
            return replace(base, content_type=mime, transient=True,
                           error=f"broken response body: {why}")
        fetched = replace(base, status=FetchStatus.OK, body=body, content_type=mime,
                          charset=charset, etag=etag, last_modified=modified)
        if kind != "robots":
            blocked = block_reason(status, response.headers, body)
            if blocked is not None:
                return replace(fetched, status=FetchStatus.BLOCKED, body=None,
                               error=f"blocked by the site: {blocked}")
        return fetched

    def _error_status(self, base: Fetched, response: requests.Response, kind: FetchKind,
                      deadline: float) -> Fetched:
        """A 4xx (not 404/410) or 5xx answer, after urllib3's retries."""
        status = response.status_code
        try:
            head = _read_body(response, MAX_BLOCK_PAGE, deadline, truncate=True)
        except (_BodyError, requests.RequestException, HTTPError):
            head = b""
        if kind != "robots":
            blocked = block_reason(status, response.headers, head)
            if blocked is not None:
                return replace(base, status=FetchStatus.BLOCKED,
                               error=f"blocked by the site: {blocked}")
        error = _status_line(response)
        if base.attempts > 1:
            error += f" after {base.attempts} attempts"
        retry_after = response.headers.get("Retry-After")
        if status in (429, 503) and retry_after:
            wait = _retry_after_seconds(retry_after)
            host = host_of(base.final_url)
            if wait is not None and wait > self.options.max_retry_after:
                # the host's other pages are not asked for in this run at all
                with self._lock:
                    self._held[host] = time.monotonic() + wait
                error += (f"; the server asks to wait {wait:.0f} s (Retry-After), longer "
                          f"than max_retry_after ({self.options.max_retry_after:.0f} s)")
            elif wait:
                self.limiter.defer(host, wait)
        return replace(base, error=error, transient=status == 429 or status >= 500)


# ---------------------------------------------------------------- helpers


def _session(options: FetchOptions) -> requests.Session:
    session = requests.Session()
    retry = _PoliteRetry(
        total=options.retries, connect=options.retries, read=options.retries,
        status=options.retries, other=0, redirect=False,
        allowed_methods=frozenset({"GET", "HEAD"}), status_forcelist=_RETRY_STATUSES,
        backoff_factor=options.backoff_factor, respect_retry_after_header=True,
        raise_on_status=False, give_up_after=options.max_retry_after,
    )
    adapter = HTTPAdapter(max_retries=retry, pool_connections=64,
                          pool_maxsize=max(options.per_host_concurrency, 1) * 2)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    session.headers.update({
        "User-Agent": options.user_agent_header(),
        "Accept": "text/html,application/xhtml+xml,text/plain;q=0.9,text/markdown;q=0.9,"
                  "application/rss+xml;q=0.8,application/atom+xml;q=0.8,"
                  "application/xml;q=0.8,*/*;q=0.5",
        "Accept-Encoding": "gzip, deflate",
    })
    return session


def _attempts(response: requests.Response) -> int:
    retries = getattr(response.raw, "retries", None)
    history = getattr(retries, "history", None) or ()
    return 1 + len(history)


def _status_line(response: requests.Response) -> str:
    reason = (response.reason or "").strip()
    return f"HTTP {response.status_code} {reason}".rstrip()


def _retry_after_seconds(value: str) -> float | None:
    try:
        return _PoliteRetry().parse_retry_after(value) or None
    except (ValueError, OverflowError):
        return None


def _redirect_target(base: Fetched, current: str, location: str | None) -> Fetched | str:
    if not location:
        return replace(base, error=f"HTTP {base.http_status} redirect without a Location")
    target = urljoin(current, location.strip())
    try:
        return check_url(target)
    except UnsupportedURLError as exc:
        return replace(base, error=f"redirected to an {exc}")


def _read_body(response: requests.Response, limit: int, deadline: float, *,
               truncate: bool = False) -> bytes:
    """The (decoded) body, read in chunks: _BodyError past ``limit`` bytes (or, with
    ``truncate``, the first ``limit`` bytes) or past ``deadline``."""
    encoding = (response.headers.get("Content-Encoding") or "identity").lower()
    declared = response.headers.get("Content-Length")
    if (not truncate and encoding == "identity" and declared and declared.isdigit()
            and int(declared) > limit):
        raise _BodyError(f"page too large: {int(declared):,} bytes declared, over the "
                         f"{limit:,}-byte limit; not downloaded")
    body = bytearray()
    raw = response.raw
    # read1: whatever the socket has (at most a chunk, decompressed in bounded steps), so
    # a server that sends a byte now and then still meets the deadline
    while chunk := raw.read1(_CHUNK, decode_content=True):
        body += chunk
        if len(body) > limit:
            if truncate:
                return bytes(body[:limit])
            after = "" if encoding == "identity" else f" after decompression ({encoding})"
            raise _BodyError(f"page too large: over {limit:,} bytes{after}; download "
                             "stopped")
        if time.monotonic() > deadline:
            raise _BodyError(f"download took longer than the total timeout; stopped after "
                             f"{len(body):,} bytes")
    return bytes(body)


def describe_error(exc: BaseException, host: str, options: FetchOptions) -> str:
    """A one-line reason for a requests exception (timeouts and refusals named as such)."""
    reason: BaseException = exc
    inner = exc.args[0] if exc.args else None
    if isinstance(inner, MaxRetryError) and inner.reason is not None:
        reason = inner.reason
    tries = f" (after {options.retries + 1} attempts)" if options.retries else ""
    if isinstance(exc, requests.ConnectTimeout) or isinstance(reason, ConnectTimeoutError):
        return (f"timed out connecting to {host} (connect timeout "
                f"{options.connect_timeout:g} s){tries}")
    if isinstance(exc, requests.ReadTimeout) or isinstance(reason, ReadTimeoutError):
        return (f"timed out: {host} sent nothing for {options.read_timeout:g} s "
                f"(read timeout){tries}")
    if isinstance(reason, (NewConnectionError, ConnectionRefusedError)):
        text = str(reason).split(": ", 1)[-1]
        return f"connection to {host} failed: {text[:200]}{tries}"
    if isinstance(exc, requests.exceptions.SSLError):
        return f"TLS error with {host}: {str(reason)[:200]}"
    return f"connection to {host} failed: {type(reason).__name__}: {str(reason)[:200]}{tries}"

