"""An Atom 1.0 feed (RFC 4287) of changes, for feed readers.

One entry per page per run that made it ``changed``, ``new`` or ``gone``: a reader sees one
item when a briefing is edited, however many statements the edit touched. The entry's
content (HTML) lists the page's changes, most important first, with word-level
insertions/deletions and changed numbers; its categories carry the page's status and
significance. Entry ids are stable: ``urn:uuid`` from the page key and the version the run
created (``key#vN``; ``key#gone-runN`` for a page that went away), so regenerating the feed
never duplicates items.

Built with :mod:`xml.etree.ElementTree`, so every value is XML-escaped; characters XML 1.0
cannot carry (NUL, most C0 controls) are dropped. Page content inside the HTML content is
escaped once more by the HTML renderer, so a reader shows it as text.
"""

from __future__ import annotations

import re
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from briefwatch.contract import Page, Run
from briefwatch.diff.significance import Level
from briefwatch.report.escape import neutralise_controls
from briefwatch.report.html import change_fragment_html
from briefwatch.report.views import (
    Report,
    ReportFilter,
    by_significance,
    filter_report,
    order_pages,
)

ATOM = "http://www.w3.org/2005/Atom"
SIGNIFICANCE_SCHEME = "urn:briefwatch:significance"
STATUS_SCHEME = "urn:briefwatch:status"
FEED_STATUSES = ("changed", "new", "gone")
DEFAULT_TITLE = "briefwatch: changed briefing statements"
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")

__all__ = ["ATOM", "DEFAULT_TITLE", "FeedOptions", "build_feed", "entry_id", "feed_id_for"]


@dataclass(frozen=True, slots=True)
class FeedOptions:
    """feed_id: the feed's permanent IRI (see :func:`feed_id_for`); self_url: where the feed
    is published (``rel=self``), if known; min_significance: leave out changes below it
    (and pages left with none)."""

    feed_id: str
    title: str = DEFAULT_TITLE
    self_url: str | None = None
    min_significance: Level | None = None


def feed_id_for(store_path: str) -> str:
    """A stable feed id for a store: ``urn:uuid`` from its absolute path."""
    return uuid.uuid5(uuid.NAMESPACE_URL, f"briefwatch-feed:{store_path}").urn


def entry_id(page: Page, run_id: int | None) -> str:
    if page["status"] == "gone":
        name = f"{page['key']}#gone-run{run_id}"
    else:
        name = f"{page['key']}#v{page.get('version')}"
    return uuid.uuid5(uuid.NAMESPACE_URL, name).urn


def build_feed(reports: Iterable[Report], options: FeedOptions, *, now: str | None = None) -> bytes:
    """The Atom document for ``reports`` (run reports, any order; newest entries first)."""
    ET.register_namespace("", ATOM)
    feed = ET.Element(_tag("feed"))
    _text(feed, "id", options.feed_id)
    _text(feed, "title", options.title)
    entries: list[tuple[str, ET.Element]] = []
    flt = ReportFilter(min_significance=options.min_significance)
    for report in reports:
        filtered = filter_report(report, flt)
        run = filtered["run"]
        updated = _rfc3339(run.get("finished_at") or run.get("started_at") or now)
        for page in order_pages(filtered["pages"]):
            if page["status"] in FEED_STATUSES and (page.get("changes")
                                                    or page["status"] == "gone"
                                                    or page.get("title_change")):
                entries.append((updated, _entry(page, run, updated)))
    entries.sort(key=lambda e: e[0], reverse=True)  # stable: a run's pages keep their order
    _text(feed, "updated", entries[0][0] if entries else _rfc3339(now))
    if options.self_url and options.self_url.lower().startswith(("http://", "https://")):
        ET.SubElement(feed, _tag("link"), rel="self", href=_clean(options.self_url),
                      type="application/atom+xml")
    author = ET.SubElement(feed, _tag("author"))
    _text(author, "name", "briefwatch")
    _text(feed, "generator", "briefwatch")
    seen: set[str | None] = set()
    for _, entry in entries:
        # a page version carried over into a later run's report (its first run was killed
        # before delivering it) is in both reports: one entry, the newest
        entry_key = entry.findtext(_tag("id"))
        if entry_key not in seen:
            seen.add(entry_key)
            feed.append(entry)
    ET.indent(feed)
    document: bytes = ET.tostring(feed, encoding="utf-8", xml_declaration=True)
    return document + b"\n"


def _entry(page: Page, run: Run, updated: str) -> ET.Element:
    entry = ET.Element(_tag("entry"))
    _text(entry, "id", entry_id(page, run["id"]))
    _text(entry, "title", _title(page))
    _text(entry, "updated", updated)
    _text(entry, "published", updated)
    url = page.get("url") or page.get("key") or ""
    if str(url).lower().startswith(("http://", "https://")):
        ET.SubElement(entry, _tag("link"), rel="alternate", type="text/html", href=_clean(url))
    ET.SubElement(entry, _tag("category"), scheme=STATUS_SCHEME, term=page["status"])
    significance = page.get("significance")
    if significance:
        ET.SubElement(entry, _tag("category"), scheme=SIGNIFICANCE_SCHEME,
                      term=significance, label=f"significance: {significance}")
    _text(entry, "summary", _summary(page, run)).set("type", "text")
    content = _text(entry, "content", change_fragment_html(page))
    content.set("type", "html")
    return entry


def _title(page: Page) -> str:
    name = " ".join(str(page.get("title") or page["key"]).split())
    if page["status"] == "changed":
        versions = f" (v{page.get('previous_version')} → v{page.get('version')})"
    else:
        versions = ""
    return f"{page['status'].capitalize()}: {name}{versions}"


def _summary(page: Page, run: Run) -> str:
    changes = page.get("changes") or []
    if page["status"] == "gone":
        return f"Run {run['id']}: the page is no longer found where it was read."
    if page["status"] == "new":
        return f"Run {run['id']}: first capture, {len(changes)} statement(s)."
    top = by_significance(changes)[:1]
    lead = f"; most significant: {top[0].get('significance_reason')}" if top else ""
    return f"Run {run['id']}: {len(changes)} change(s){lead}."


def _tag(name: str) -> str:
    return f"{{{ATOM}}}{name}"


def _clean(text: str) -> str:
    return _XML_INVALID.sub("", text)


def _text(parent: ET.Element, name: str, text: str) -> ET.Element:
    """A child element with ``text``: control characters and bidirectional overrides
    replaced (as in every renderer), then what XML cannot carry dropped."""
    child = ET.SubElement(parent, _tag(name))
    child.text = _clean(text if name == "content" else neutralise_controls(text))
    return child


def _rfc3339(stamp: str | None) -> str:
    """An RFC 3339 date-time (UTC, ``Z``) from an ISO 8601 string; now when missing."""
    if stamp:
        try:
            moment = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
        except ValueError:
            moment = datetime.now(UTC)
    else:
        moment = datetime.now(UTC)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
