"""The web half of an ingest run as plain functions (no Prefect): plan → fetch → parse → store.

- :func:`plan_web`: the pages to read this run — URL arguments, then each sources.toml
  source's tracked pages plus at most ``max_new`` pages its feed / sitemap / index page /
  URL list names that no source tracks yet (they are tracked from now on) — interleaved by
  host, so consecutive requests go to different hosts.
- :func:`parse_fetched`: parse the pages that came back with a body (bytes equal to the last
  stored ones are not parsed: ``unchanged_bytes``), as :mod:`briefwatch.pipeline.steps` does for
  files; the Content-Type chooses the parser and the declared charset is passed on (and
  kept with the version, with the final URL, for ``briefwatch reparse``).
- :func:`store_fetched`: one page's fetch outcome into the store — parsed pages as for files
  (new / changed / unchanged, and the page's ETag / Last-Modified kept for the next
  conditional GET), a 304 as unchanged without a parse, 404/410 as gone, a block page as
  blocked, anything else as failed (nothing stored before is touched).

``flows/fetch_tasks.py`` runs these as Prefect tasks.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from briefwatch.parsers import Format, ParseContext
from briefwatch.pipeline.sources import SourceItem
from briefwatch.pipeline.steps import IngestOptions, PageResult, parse_page, store_one
from briefwatch.store import Store, WebState
from briefwatch.web.config import SourceSpec, WebConfig
from briefwatch.web.discovery import Discovery, admitted, discover
from briefwatch.web.fetch import Fetched, Fetcher, FetchStatus, Validators
from briefwatch.web.politeness import host_of

_STORED = frozenset({"new", "changed", "unchanged"})


@dataclass(frozen=True, slots=True)
class WebItem:
    """One web page to read this run."""

    url: str  # the page's location (as listed or given; fragment removed)
    source_root: str  # the URL itself for a URL argument, else ``source:<name>``
    source: str | None = None  # the sources.toml source that tracks it

    def source_item(self) -> SourceItem:
        return SourceItem(location=self.url, path=self.url, source_root=self.source_root)


@dataclass(frozen=True, slots=True)
class SourceSummary:
    """What one source's discovery gave this run (for the run's log)."""

    name: str
    listed: int  # page URLs its documents list (after include/exclude)
    new: int  # of those, taken and tracked from this run on
    waiting: int  # new ones left for later runs (over max_new)
    tracked: int  # pages read this run for the source
    errors: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class WebPlan:
    items: tuple[WebItem, ...]
    # (location, source_root, reason): documents that could not be read and links refused;
    # each is recorded as a failed outcome of this run
    problems: tuple[tuple[str, str, str], ...] = ()
    sources: tuple[SourceSummary, ...] = ()


# ---------------------------------------------------------------------- plan


def plan_web(store: Store, run_id: int, urls: Sequence[str], config: WebConfig,
             fetcher: Fetcher) -> WebPlan:
    """The pages of this run; tracks newly discovered pages in the store."""
    items: OrderedDict[str, WebItem] = OrderedDict((u, WebItem(u, u)) for u in urls)
    problems: list[tuple[str, str, str]] = []
    summaries: list[SourceSummary] = []
    for spec in config.sources:
        found = _discover(spec, fetcher)
        listed = admitted(found.urls, spec.include, spec.exclude)
        known = store.already_tracked(listed)
        fresh = [u for u in listed if u not in known]
        taken = store.track_urls(spec.name, fresh[:spec.max_new], run_id)
        if spec.kind == "urls":
            store.untrack_urls(spec.name, keep=listed)
        tracked = store.tracked_urls(spec.name)
        for url in tracked:
            items.setdefault(url, WebItem(url, spec.root, spec.name))
        problems.extend((doc_error.split(": ", 1)[0], spec.root,
                         f"source {spec.name}: {doc_error}") for doc_error in found.errors)
        problems.extend((raw, spec.root, f"source {spec.name}: link refused: {reason}")
                        for raw, reason in found.rejected
                        if admitted([raw], spec.include, spec.exclude))
        summaries.append(SourceSummary(spec.name, len(listed), len(taken),
                                       max(0, len(fresh) - len(taken)), len(tracked),
                                       found.errors))
    return WebPlan(tuple(interleave_hosts(list(items.values()))), tuple(problems),
                   tuple(summaries))


def sources_listing_nothing(plan: WebPlan, config: WebConfig) -> list[str]:
    """One line for each source whose documents were read but list no page (an empty feed
    or sitemap, an index page without article links, or links that include / exclude all
    leave out): it gives this run no new page. A document that could not be read is a failed
    outcome of the run already, not one of these."""
    specs = {spec.name: spec for spec in config.sources}
    lines = []
    for summary in plan.sources:
        spec = specs.get(summary.name)
        if spec is None or summary.listed or summary.errors:
            continue
        where = f"its {spec.kind} {spec.url}" if spec.url else "its URL list"
        admitted_by = " that include / exclude admit" if spec.include or spec.exclude else ""
        lines.append(f"source {spec.name}: {where} lists no pages{admitted_by}; "
                     f"{summary.tracked} page(s) tracked before are read")
    return lines


def _discover(spec: SourceSpec, fetcher: Fetcher) -> Discovery:
    if spec.kind == "urls":
        return Discovery(urls=spec.urls)
    assert spec.url is not None  # checked when the config was read
    try:
        return discover(fetcher, spec.kind, spec.url, spec.links)
    except Exception as exc:  # one source's surprise must not end the run for the others
        return Discovery(errors=(f"{spec.url}: discovery failed: {type(exc).__name__}: "
                                 f"{exc}"[:500],))


def interleave_hosts(items: Sequence[WebItem]) -> list[WebItem]:
    """Round-robin over hosts (each host's pages in their order), so a batch of requests
    spreads over every host instead of queueing on one host's limits."""
    by_host: OrderedDict[str, list[WebItem]] = OrderedDict()
    for item in items:
        by_host.setdefault(host_of(item.url), []).append(item)
    queues = list(by_host.values())
    out: list[WebItem] = []
    depth = 0
    while len(out) < len(items):
        out.extend(queue[depth] for queue in queues if depth < len(queue))
        depth += 1
    return out


def validators_for(state: WebState | None) -> Validators | None:
    """What a conditional GET of a stored page sends (None: nothing stored, plain GET)."""
    if state is None:
        return None
    validators = Validators(state.etag, state.last_modified)
    return validators if validators else None


# --------------------------------------------------------------------- parse


def parse_fetched(pages: Sequence[tuple[WebItem, Fetched]], known_hashes: Mapping[str, str],
                  options: IngestOptions) -> list[PageResult | None]:
    """Parse each page fetched with a body; None for the others (nothing to parse). Never
    raises for a bad page: the error is in its result."""
    return [_parse_one(item, fetched, known_hashes, options)
            if fetched.status is FetchStatus.OK and fetched.body is not None else None
            for item, fetched in pages]


def _parse_one(item: WebItem, fetched: Fetched, known_hashes: Mapping[str, str],
               options: IngestOptions) -> PageResult:
    # parsed at its final URL: a page without a canonical URL is keyed by where it is
    context = ParseContext(fetched.final_url, format=_format(fetched),
                           declared_encoding=fetched.charset)
    return parse_page(item.source_item(), fetched.body or b"", known_hashes, options, context)


_FORMATS: dict[str, Format] = {"html": "html", "text": "text", "markdown": "markdown"}


def _format(fetched: Fetched) -> Format | None:
    """The parser for the Content-Type (None: no or an unknown type, sniffed)."""
    return _FORMATS.get(fetched.page_format or "")


# --------------------------------------------------------------------- store


def store_fetched(store: Store, run_id: int, item: WebItem, fetched: Fetched,
                  result: PageResult | None, state: WebState | None = None) -> str:
    """Store one page's fetch outcome; returns what the run reports for it (``still_gone``:
    a page gone before, not reported again). ``state``: the page's stored state the
    request was made with (looked up when not given)."""
    url = item.url
    if fetched.status is FetchStatus.OK and result is not None:
        outcome = store_one(store, run_id, result)
        if outcome in _STORED:
            store.set_validators(url, etag=fetched.etag, last_modified=fetched.last_modified)
    elif fetched.status is FetchStatus.NOT_MODIFIED:
        outcome = _not_modified(store, run_id, item, fetched, state)
    elif fetched.status is FetchStatus.GONE:
        outcome = store.record_gone(run_id, location=url, reason=fetched.error or "gone")
    elif fetched.status is FetchStatus.BLOCKED:
        store.record_blocked(run_id, location=url, error=fetched.error or "blocked")
        outcome = "blocked"
    else:
        store.record_failure(run_id, location=url, source_root=item.source_root, key=None,
                             error=fetched.error or f"fetch {fetched.status.value}")
        outcome = "failed"
    store.record_fetch(run_id, url, outcome=fetched.status.value,
                       http_status=fetched.http_status, final_url=fetched.final_url,
                       redirects=fetched.redirects, error=fetched.error)
    return outcome


def _not_modified(store: Store, run_id: int, item: WebItem, fetched: Fetched,
                  state: WebState | None) -> str:
    if state is None:
        state = store.web_states([item.url]).get(item.url)
    if state is None:
        store.record_failure(run_id, location=item.url, source_root=item.source_root,
                             key=None, error="HTTP 304 Not Modified for a page the store "
                                             "does not have")
        return "failed"
    store.record_unchanged(run_id, location=item.url, source_root=item.source_root,
                           raw_hash=state.raw_hash)
    if (fetched.etag, fetched.last_modified) != (state.etag, state.last_modified):
        store.set_validators(item.url, etag=fetched.etag, last_modified=fetched.last_modified)
    return "unchanged"


def record_problems(store: Store, run_id: int,
                    problems: Sequence[tuple[str, str, str]]) -> None:
    """Source documents that could not be read and refused links, as failed outcomes."""
    for location, source_root, error in problems:
        store.record_failure(run_id, location=location, source_root=source_root, key=None,
                             error=error)
