"""Page metadata from an lxml tree: title, canonical URL, publication date, byline, hints.

Read before any boilerplate is removed (JSON-LD lives in ``<script>``, bylines in headers).
Two passes over the tree at most: one C-level ``iter`` over head-type elements (meta, link,
title, script, h1) and one XPath over body elements that carry dates or bylines
(``<time datetime>``, ``itemprop``, ``rel=author``, ``.byline``).

Publication date, first usable of: ``article:published_time``, JSON-LD ``datePublished``,
other date metas (``og:published_time``, ``pubdate``, Dublin Core, ...), an ``itemprop=
datePublished`` element, the first ``<time datetime>`` inside ``<article>``/``<main>``, then
anywhere. ISO values are kept as the page gives them; written dates ("April 1, 2020",
"11 July 2022") become ``YYYY-MM-DD``.

Byline, first usable of: author metas, JSON-LD ``author`` names, ``rel=author`` link text,
``itemprop=author`` / ``.byline`` / ``.author-name`` text (a leading "By" removed; URLs,
site names and long texts rejected).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin, urlsplit

from lxml import etree

from briefwatch.parsers.html.tree import text_of
from briefwatch.textnorm import clean_text, match_key

__all__ = [
    "BodyMeta",
    "HeadMeta",
    "absolute_url",
    "find_byline",
    "find_published",
    "find_text_date",
    "normalise_date",
    "read_body_meta",
    "read_head_meta",
    "strip_site_suffix",
]

# Simple location paths only: libxml2 is slow with self:: tests inside //*[...].
_BODY_META = etree.XPath(
    "//time[@datetime] | //*[@itemprop='datePublished' or @itemprop='author']"
    " | //a[contains(@rel, 'author')]"
    " | //*[contains(@class, 'byline') or contains(@class, 'author-name')]"
)

_PUBLISHED_META = (
    "og:published_time", "datepublished", "publishdate", "publish-date", "publish_date",
    "pubdate", "parsely-pub-date", "sailthru.date", "dc.date.issued", "dcterms.issued",
    "dc.date", "dcterms.date", "dcterms.created", "dc.date.created",
    "citation_publication_date", "article.published", "date", "og:article:published_time",
)
_AUTHOR_META = (
    "author", "article:author", "byl", "parsely-author", "sailthru.author", "dc.creator",
    "dcterms.creator",
)
_SITE_META = ("og:site_name", "application-name", "apple-mobile-web-app-title")

_MONTHS = {
    m: i
    for i, names in enumerate(
        (
            ("january", "jan"), ("february", "feb"), ("march", "mar"), ("april", "apr"),
            ("may",), ("june", "jun"), ("july", "jul"), ("august", "aug"),
            ("september", "sep", "sept"), ("october", "oct"), ("november", "nov"),
            ("december", "dec"),
        ),
        start=1,
    )
    for m in names
}
_ISO_DATE = re.compile(
    r"^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?$"
)
_ISO_PREFIX = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}")
_COMPACT_DATE = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
_MONTH_NAMES = "|".join(sorted(_MONTHS, key=len, reverse=True))
_TEXT_DATE_MDY = re.compile(
    rf"\b({_MONTH_NAMES})\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?,?\s+(\d{{4}})\b", re.I
)
_TEXT_DATE_DMY = re.compile(
    rf"\b(\d{{1,2}})(?:st|nd|rd|th)?\s+({_MONTH_NAMES})\.?,?\s+(\d{{4}})\b", re.I
)
_TITLE_SEPARATORS = (" | ", " – ", " — ", " - ", " :: ", " » ", " · ")
_HOST_LIKE = re.compile(r"[\w-]+(?:\.[\w-]+)+")
_BY_PREFIX = re.compile(r"^(?:by|written by|posted by|author:?)\s+", re.I)
_HAS_LETTER = re.compile(r"[^\W\d_]")
_MAX_BYLINE = 120
_MAX_H1S = 5


def _page_h1(h1s: list[str], title: str | None, site_names: tuple[str, ...]) -> str | None:
    """The first ``<h1>`` that is not the site's logo (a site name, or the site part of the
    ``<title>``)."""
    sites = {match_key(n).lower() for n in site_names}
    if title:
        full = clean_text(title)
        stripped = strip_site_suffix(full, site_names)
        if stripped != full:
            sites.add(match_key(full[len(stripped):].strip(" |–—-:»·")).lower())
    for h1 in h1s:
        if match_key(h1).lower() not in sites:
            return h1
    return None


@dataclass(frozen=True, slots=True)
class HeadMeta:
    """What the page says about itself, before any content is chosen."""

    title: str | None
    h1: str | None
    canonical_url: str | None
    og_url: str | None
    og_type: str | None
    section: str | None  # article:section
    site_names: tuple[str, ...]
    metas: dict[str, str] = field(default_factory=dict, repr=False)
    json_ld: tuple[dict[str, Any], ...] = field(default=(), repr=False)

    @property
    def url(self) -> str | None:
        return self.canonical_url or self.og_url


# --- dates ---------------------------------------------------------------------------------


def normalise_date(value: str) -> str | None:
    """An ISO 8601 date (or the page's own ISO datetime) from a date string; else ``None``."""
    value = clean_text(value)
    if not value:
        return None
    if _ISO_DATE.match(value) or _ISO_PREFIX.match(value):
        return value
    m = _COMPACT_DATE.match(value)
    if m and 1 <= int(m.group(2)) <= 12 and 1 <= int(m.group(3)) <= 31:
        return f"{m.group(1)}-{m.group(2)}-{m.group(3)}"
    return find_text_date(value)


def find_text_date(text: str) -> str | None:
    """The first written-out date in ``text`` ("April 1, 2020", "11 July 2022") as ISO."""
    found: list[tuple[int, str]] = []
    m = _TEXT_DATE_MDY.search(text)
    if m:
        found.append((m.start(), _iso(m.group(3), m.group(1), m.group(2))))
    m = _TEXT_DATE_DMY.search(text)
    if m:
        found.append((m.start(), _iso(m.group(3), m.group(2), m.group(1))))
    for _pos, iso in sorted(found):
        if iso:
            return iso
    return None


def _iso(year: str, month: str, day: str) -> str:
    month_no = _MONTHS.get(month.lower().rstrip("."))
    day_no = int(day)
    if month_no is None or not 1 <= day_no <= 31:
        return ""
    return f"{int(year):04d}-{month_no:02d}-{day_no:02d}"


# --- titles and URLs -----------------------------------------------------------------------


def strip_site_suffix(title: str, site_names: tuple[str, ...]) -> str:
    """``"Mission Statement | U.S. Department of the Interior"`` -> ``"Mission Statement"``.

    A trailing ``" <sep> <site>"`` goes when ``<site>`` is a known site name (og:site_name
    and the like) or looks like one: a host name, or a short segment after ``" | "``.
    A leading ``"<site> <sep> "`` goes when ``<site>`` is a known site name.
    """
    title = clean_text(title)
    keys = {match_key(n).lower() for n in site_names if n}
    for sep in _TITLE_SEPARATORS:
        head, found, tail = title.rpartition(sep)
        if not found or not head.strip():
            continue
        tail_key = match_key(tail).lower()
        looks_like_host = _HOST_LIKE.fullmatch(tail.strip()) is not None
        short_pipe = sep == " | " and len(tail.split()) <= 6 and len(tail) < len(head)
        if tail_key in keys or looks_like_host or short_pipe:
            return head.strip()
    for sep in _TITLE_SEPARATORS:
        head, found, tail = title.partition(sep)
        if found and tail.strip() and match_key(head).lower() in keys:
            return tail.strip()
    return title


def absolute_url(href: str | None, base_url: str | None) -> str | None:
    """``href`` resolved against ``base_url``; ``None`` unless the result is http(s)."""
    if not href:
        return None
    try:
        url = urljoin(base_url or "", href.strip())
        parts = urlsplit(url)
    except ValueError:  # e.g. an invalid IPv6 host
        return None
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    return url


# --- gathering -----------------------------------------------------------------------------


def _json_ld_objects(scripts: list[str]) -> Iterator[dict[str, Any]]:
    """Every JSON object inside the page's JSON-LD blocks (iteratively, incl. @graph)."""
    for script in scripts:
        try:
            data = json.loads(script)
        except (ValueError, RecursionError):
            continue
        stack: list[Any] = [data]
        while stack:
            item = stack.pop()
            if isinstance(item, dict):
                yield item
                stack.extend(reversed([v for v in item.values() if isinstance(v, dict | list)]))
            elif isinstance(item, list):
                stack.extend(reversed(item))


def read_head_meta(doc: Any, *, base_url: str | None) -> HeadMeta:
    """Title, URLs and type hints of a parsed document (one pass over head elements)."""
    metas: dict[str, str] = {}
    links: dict[str, str] = {}
    title: str | None = None
    h1s: list[str] = []
    scripts: list[str] = []
    for el in doc.iter("meta", "link", "title", "script", "h1"):
        tag = el.tag
        if tag == "meta":
            key = el.get("property") or el.get("name") or el.get("itemprop")
            content = el.get("content")
            if key and content and content.strip():
                metas.setdefault(key.strip().lower(), content.strip())
        elif tag == "link":
            href = el.get("href")
            if href:
                for rel in (el.get("rel") or "").lower().split():
                    links.setdefault(rel, href.strip())
        elif tag == "script":
            if (el.get("type") or "").strip().lower() == "application/ld+json" and el.text:
                scripts.append(el.text)
        elif tag == "title":
            if title is None:
                title = text_of(el)
        elif len(h1s) < _MAX_H1S:
            text = clean_text(text_of(el))
            if text:
                h1s.append(text)

    site_names = tuple(dict.fromkeys(metas[k] for k in _SITE_META if k in metas))
    h1 = _page_h1(h1s, title, site_names)
    raw_title = (
        metas.get("og:title") or metas.get("twitter:title") or metas.get("dc.title") or h1 or title
    )
    return HeadMeta(
        title=(strip_site_suffix(raw_title, site_names) or None) if raw_title else None,
        h1=h1,
        canonical_url=absolute_url(links.get("canonical"), base_url),
        og_url=absolute_url(metas.get("og:url"), base_url),
        og_type=metas.get("og:type"),
        section=metas.get("article:section"),
        site_names=site_names,
        metas=metas,
        json_ld=tuple(_json_ld_objects(scripts)),
    )


@dataclass(slots=True)
class BodyMeta:
    """Body elements that carry dates and bylines (one XPath pass, before any cleaning)."""

    times: list[Any]  # <time datetime>, document order
    content_times: list[Any]  # the same, inside <article>/<main>
    date_props: list[Any]
    authors: list[Any]  # rel=author links, itemprop=author, .byline, .author-name


def read_body_meta(doc: Any) -> BodyMeta:
    found = BodyMeta([], [], [], [])
    for el in _BODY_META(doc):
        if el.tag == "time" and el.get("datetime"):
            found.times.append(el)
            if any(a.tag in ("article", "main") for a in el.iterancestors()):
                found.content_times.append(el)
        if el.get("itemprop") == "datePublished":
            found.date_props.append(el)
        if _is_author_element(el):
            found.authors.append(el)
    return found


def _is_author_element(el: Any) -> bool:
    if el.get("itemprop") == "author":
        return True
    if el.tag == "a" and "author" in (el.get("rel") or "").lower().split():
        return True
    classes = (el.get("class") or "").split()
    return "byline" in classes or "author-name" in classes


# --- date and byline -----------------------------------------------------------------------


def _published_candidates(doc: Any, head: HeadMeta, body: BodyMeta) -> Iterator[str | None]:
    metas, ld = head.metas, head.json_ld
    yield metas.get("article:published_time")
    yield from (obj.get("datePublished") for obj in ld if isinstance(obj.get("datePublished"), str))
    yield from (metas.get(name) for name in _PUBLISHED_META)
    for el in body.date_props:
        yield el.get("datetime") or el.get("content") or text_of(el)
    for el in (*body.content_times[:1], *body.times[:1]):
        yield el.get("datetime")


def find_published(doc: Any, head: HeadMeta, body: BodyMeta) -> str | None:
    """The page's publication date (see the module docstring for the order)."""
    for value in _published_candidates(doc, head, body):
        if value:
            date = normalise_date(value)
            if date:
                return date
    return None


def _ld_author(value: Any) -> str | None:
    names: list[str] = []
    items = value if isinstance(value, list) else [value]
    for item in items:
        if isinstance(item, dict):
            name = item.get("name")
            if isinstance(name, str) and name.strip():
                names.append(clean_text(name))
        elif isinstance(item, str) and item.strip() and "://" not in item:
            names.append(clean_text(item))
    return ", ".join(dict.fromkeys(names)) or None


def clean_byline(text: str | None) -> str | None:
    """A byline without "By", or ``None`` when the text does not look like one."""
    if not text:
        return None
    text = _BY_PREFIX.sub("", clean_text(text)).strip(" ,;|")
    if not text or len(text) > _MAX_BYLINE or "://" in text or not _HAS_LETTER.search(text):
        return None
    return text


def _byline_candidates(head: HeadMeta, body: BodyMeta) -> Iterator[str | None]:
    yield from (head.metas.get(name) for name in _AUTHOR_META)
    yield from (_ld_author(obj.get("author")) for obj in head.json_ld if obj.get("author"))
    for el in body.authors[:3]:
        yield el.get("content") or text_of(el)


def find_byline(head: HeadMeta, body: BodyMeta) -> str | None:
    """The page's byline (see the module docstring for the order)."""
    sites = {match_key(s).lower() for s in head.site_names}
    for value in _byline_candidates(head, body):
        byline = clean_byline(value)
        if byline and match_key(byline).lower() not in sites:
            return byline
    return None
