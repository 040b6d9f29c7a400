"""Finding page URLs in feeds, sitemaps and index pages.

The parsing functions are pure (bytes in, URLs out) and safe on hostile input:

- RSS / Atom feeds: feedparser, given bytes only (it never fetches); a feed that declares
  XML entities is refused before parsing (entity-expansion "billion laughs" attacks).
- XML sitemaps (``<urlset>``) and sitemap indexes (``<sitemapindex>``), also gzipped: parsed
  with defusedxml, which refuses DTD entities and external references; gzip is inflated in
  bounded steps, so a compressed sitemap cannot grow past the byte limit.
- index pages: lxml's HTML parser and a CSS selector (the small subset of
  :mod:`briefwatch.parsers.html.css`) for the links to the articles.

Every link is made absolute against the document's URL; links that are not http(s)
(``javascript:``, ``file:``, ``ftp:``, ``mailto:`` ...) are returned as *rejected*, each
with its reason, never fetched.

:func:`discover` fetches a source's documents through a :class:`briefwatch.web.fetch.Fetcher`
(with its robots.txt, limits and size caps) and returns the page URLs it lists, newest first
where the document says when (sitemap ``lastmod``, feed dates), else in document order.
"""

from __future__ import annotations

import re
import time
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin
from xml.sax import SAXException

import feedparser
import lxml.html
from defusedxml import ElementTree as SafeET
from defusedxml.common import DefusedXmlException
from lxml import etree

from briefwatch.errors import BriefwatchError
from briefwatch.parsers.html.css import select
from briefwatch.web.fetch import Fetched, Fetcher, FetchStatus, UnsupportedURLError, check_url

MAX_CHILD_SITEMAPS = 50  # sitemaps read from one sitemap index (its newest first)
MAX_SITEMAP_DEPTH = 2  # an index of indexes of sitemaps at most
_SITEMAP_NS = re.compile(r"^\{[^}]*\}")
_ENTITY = re.compile(rb"<!ENTITY", re.IGNORECASE)


class DiscoveryError(BriefwatchError):
    """A feed, sitemap or index page could not be read or is not what it should be."""


@dataclass(frozen=True, slots=True)
class Links:
    """What one document lists: page URLs (absolute, http/https, in order, each once) and
    the links that were refused, with the reason."""

    urls: tuple[str, ...] = ()
    rejected: tuple[tuple[str, str], ...] = ()
    children: tuple[str, ...] = ()  # a sitemap index: the sitemaps it lists
    dates: tuple[str | None, ...] = ()  # each URL's date (lastmod, published), if known


@dataclass(frozen=True, slots=True)
class Discovery:
    """What a source's documents gave in one run."""

    urls: tuple[str, ...] = ()
    rejected: tuple[tuple[str, str], ...] = ()
    errors: tuple[str, ...] = ()  # documents that could not be read (one line each)
    documents: tuple[str, ...] = field(default_factory=tuple)  # URLs read


# ------------------------------------------------------------------ helpers


def _absolute(links: Iterable[tuple[str, str | None]], base: str) -> Links:
    """Absolute, checked, de-duplicated URLs of (link, sort key) pairs; links with a sort key
    (a date) come first, newest first, the others after them in document order."""
    dated: list[tuple[str, int, str]] = []
    undated: list[str] = []
    rejected: list[tuple[str, str]] = []
    seen: set[str] = set()
    for index, (raw, when) in enumerate(links):
        raw = raw.strip()
        if not raw:
            continue
        try:
            url = check_url(urljoin(base, raw))
        except UnsupportedURLError as exc:
            rejected.append((raw[:500], str(exc)))
            continue
        except ValueError as exc:  # urljoin on a malformed IPv6 host, for one
            rejected.append((raw[:500], f"malformed URL: {exc}"))
            continue
        if url in seen:
            continue
        seen.add(url)
        if when:
            dated.append((when, index, url))
        else:
            undated.append(url)
    dated.sort(key=lambda t: (t[0], -t[1]), reverse=True)
    return Links(tuple([u for _, _, u in dated] + undated), tuple(rejected),
                 dates=tuple([d for d, _, _ in dated] + [None] * len(undated)))


def _refuse_entities(data: bytes, what: str) -> None:
    # a UTF-16 / UTF-32 document spells "<!ENTITY" with NUL bytes between the letters
    if _ENTITY.search(data) or (b"\0" in data[:4096] and _ENTITY.search(data.replace(b"\0", b""))):
        raise DiscoveryError(f"{what} declares XML entities: refused (entity expansion)")


def _gunzip(data: bytes, limit: int) -> bytes:
    """Inflate a gzip file in bounded steps; DiscoveryError past ``limit`` bytes."""
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        out = inflater.decompress(data, limit + 1)
    except zlib.error as exc:
        raise DiscoveryError(f"broken gzip data: {exc}") from exc
    if len(out) > limit or inflater.unconsumed_tail:
        raise DiscoveryError(f"sitemap too large: over {limit:,} bytes uncompressed")
    return out


# -------------------------------------------------------------------- feeds


def parse_feed(data: bytes, base_url: str, content_type: str | None = None) -> Links:
    """The entry links of an RSS or Atom feed, newest first when entries are dated."""
    _refuse_entities(data, "feed")
    headers = {"content-location": base_url}
    if content_type:
        headers["content-type"] = content_type
    parsed: Any = feedparser.parse(data, response_headers=headers, sanitize_html=False,
                                   resolve_relative_uris=False)
    problem = parsed.get("bozo_exception")
    if not parsed.get("version") and not parsed.entries:
        raise DiscoveryError(f"not an RSS or Atom feed{f' ({problem})' if problem else ''}")
    if not parsed.entries and isinstance(problem, SAXException):
        # a feed cut short or broken before its first entry: not "a feed with no entries"
        raise DiscoveryError(f"malformed feed, no entries read ({problem})"[:300])
    links: list[tuple[str, str | None]] = []
    for entry in parsed.entries:
        link = _entry_link(entry)
        if link:
            when = entry.get("published_parsed") or entry.get("updated_parsed")
            links.append((link, None if when is None else
                          time.strftime("%Y-%m-%dT%H:%M:%S", tuple(when))))
    return _absolute(links, base_url)


def _entry_link(entry: Any) -> str | None:
    for link in entry.get("links") or ():
        if link.get("rel", "alternate") == "alternate" and link.get("href"):
            return str(link["href"])
    link = entry.get("link")
    return str(link) if link else None


# ----------------------------------------------------------------- sitemaps


def parse_sitemap(data: bytes, base_url: str, *, max_bytes: int = 50 * 1024 * 1024) -> Links:
    """A ``<urlset>`` sitemap's page URLs (newest ``lastmod`` first), or a
    ``<sitemapindex>``'s child sitemaps (in ``children``, newest first)."""
    if data[:2] == b"\x1f\x8b":
        data = _gunzip(data, max_bytes)
    _refuse_entities(data, "sitemap")
    try:
        root = SafeET.fromstring(data, forbid_dtd=False, forbid_entities=True,
                                 forbid_external=True)
    except DefusedXmlException as exc:
        raise DiscoveryError(f"sitemap refused: {type(exc).__name__}") from exc
    except (SafeET.ParseError, ValueError) as exc:  # ValueError: an encoding expat lacks
        raise DiscoveryError(f"not an XML sitemap: {exc}") from exc
    kind = _SITEMAP_NS.sub("", root.tag)
    if kind not in ("urlset", "sitemapindex"):
        raise DiscoveryError(f"not an XML sitemap: root element <{kind}>")
    entries: list[tuple[str, str | None]] = []
    for child in root:
        loc = lastmod = None
        for item in child:
            name = _SITEMAP_NS.sub("", item.tag)
            if name == "loc":
                loc = (item.text or "").strip()
            elif name == "lastmod":
                lastmod = (item.text or "").strip() or None
        if loc:
            entries.append((loc, lastmod))
    links = _absolute(entries, base_url)
    if kind == "sitemapindex":
        return Links(children=links.urls, rejected=links.rejected)
    return links


# -------------------------------------------------------------- index pages


def parse_index_page(data: bytes, base_url: str, selector: str) -> Links:
    """Links to articles on an index page: the elements ``selector`` matches (an ``<a>``, or
    an element whose first ``<a href>`` is taken), in document order."""
    if not data.strip():
        raise DiscoveryError("index page is empty")
    try:
        root = lxml.html.document_fromstring(data)
    except (ValueError, etree.ParserError) as exc:
        raise DiscoveryError(f"index page is not HTML: {exc}") from exc
    base = base_url
    for href in root.xpath("//head/base/@href"):
        base = urljoin(base_url, str(href))
        break
    links: list[tuple[str, str | None]] = []
    for element in select(root, selector):
        anchor = element if element.tag == "a" and element.get("href") else next(
            iter(element.xpath(".//a[@href]")), None)
        if anchor is not None:
            links.append((str(anchor.get("href")), None))
    return _absolute(links, base)


# ---------------------------------------------------------------- fetching


def discover(fetcher: Fetcher, kind: str, url: str, selector: str | None = None) -> Discovery:
    """Fetch a source's document(s) and list the page URLs in them. ``kind``: ``feed``,
    ``sitemap`` or ``index``. Never raises for a document's problems: they are in
    ``errors`` (the source's pages tracked before are still read)."""
    if kind == "sitemap":
        return _discover_sitemaps(fetcher, url)
    got = fetcher.fetch(url, kind="discovery")
    if got.status is not FetchStatus.OK or got.body is None:
        return Discovery(errors=(_fetch_problem(got),), documents=(url,))
    try:
        if kind == "feed":
            links = parse_feed(got.body, got.final_url, got.content_type)
        elif kind == "index":
            if selector is None:
                raise DiscoveryError("an index source needs a 'links' CSS selector")
            links = parse_index_page(got.body, got.final_url, selector)
        else:
            raise DiscoveryError(f"unknown source kind {kind!r}")
    except DiscoveryError as exc:
        return Discovery(errors=(f"{url}: {exc}",), documents=(url,))
    return Discovery(links.urls, links.rejected, documents=(url,))


def _discover_sitemaps(fetcher: Fetcher, url: str) -> Discovery:
    found: dict[str, str] = {}  # URL -> lastmod ("" when the sitemap gives none)
    rejected: list[tuple[str, str]] = []
    errors: list[str] = []
    documents: list[str] = []
    pending: list[tuple[str, int]] = [(url, 0)]
    while pending:
        sitemap, depth = pending.pop(0)
        documents.append(sitemap)
        got = fetcher.fetch(sitemap, kind="discovery")
        if got.status is not FetchStatus.OK or got.body is None:
            errors.append(_fetch_problem(got))
            continue
        try:
            links = parse_sitemap(got.body, got.final_url, max_bytes=fetcher.options.max_bytes)
        except DiscoveryError as exc:
            errors.append(f"{sitemap}: {exc}")
            continue
        rejected.extend(links.rejected)
        for page_url, date in zip(links.urls, links.dates, strict=True):
            found.setdefault(page_url, date or "")
        if links.children:
            if depth + 1 > MAX_SITEMAP_DEPTH:
                errors.append(f"{sitemap}: sitemap index nested deeper than "
                              f"{MAX_SITEMAP_DEPTH} levels; not followed")
                continue
            fresh = [c for c in links.children
                     if c not in documents and all(c != p for p, _ in pending)]
            room = 1 + MAX_CHILD_SITEMAPS - len(documents) - len(pending)
            if len(fresh) > room:
                errors.append(f"{sitemap}: lists {len(fresh)} sitemaps; the newest "
                              f"{max(0, room)} are read (at most {MAX_CHILD_SITEMAPS} a run)")
            pending.extend((child, depth + 1) for child in fresh[:max(0, room)])
    # newest first over all the sitemaps (a stable sort: undated ones keep their order)
    urls = sorted(found, key=lambda u: found[u], reverse=True)
    return Discovery(tuple(urls), tuple(rejected), tuple(errors), tuple(documents))


def _fetch_problem(got: Fetched) -> str:
    return f"{got.url}: {got.error or got.status.value}"


def admitted(urls: Sequence[str], include: Sequence[re.Pattern[str]],
             exclude: Sequence[re.Pattern[str]]) -> list[str]:
    """``urls`` that match one of ``include`` (when any is given) and none of ``exclude``
    (``re.search`` on the whole URL), in order."""
    return [u for u in urls
            if (not include or any(p.search(u) for p in include))
            and not any(p.search(u) for p in exclude)]
