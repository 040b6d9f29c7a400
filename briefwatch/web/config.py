"""Web sources: URL arguments and ``sources.toml`` (read without Prefect).

``briefwatch ingest URL ...`` reads each URL as one page. ``--config sources.toml`` names
sources that list pages and the way to fetch them (``deploy/sources.example.toml`` is a
documented example)::

    [fetch]                                   # optional; every key has a default
    contact = "newsdesk@example.org"          # put in the User-Agent (or $BRIEFWATCH_CONTACT)
    per_host_delay = 1.0

    [[source]]
    name = "dod-transcripts"                  # letters, digits, . _ -; unique
    kind = "sitemap"                          # urls | feed | sitemap | index
    url = "https://www.defense.gov/sitemap.xml"
    include = ["/News/Transcripts/Transcript/"]   # regular expressions (re.search)
    exclude = ["\\?"]
    max_new = 20                              # new pages taken per run (default 50)

Unknown keys and bad values are a :class:`SourceConfigError` naming the file and the key
(a misspelt ``exclude`` must not silently fetch everything).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Literal, cast

from briefwatch.errors import SourceError
from briefwatch.parsers.html.css import css_to_xpath
from briefwatch.tomlfile import read_toml
from briefwatch.web.fetch import FetchOptions, UnsupportedURLError, check_url

SourceKind = Literal["urls", "feed", "sitemap", "index"]
SOURCE_KINDS: tuple[str, ...] = ("urls", "feed", "sitemap", "index")
DEFAULT_MAX_NEW = 50
CONTACT_ENV = "BRIEFWATCH_CONTACT"
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
_SOURCE_KEYS = {"name", "kind", "url", "urls", "links", "include", "exclude", "max_new"}
_TOP_KEYS = {"fetch", "source"}
_WEB_SCHEMES = ("http://", "https://")


class SourceConfigError(SourceError):
    """A sources.toml cannot be used (unreadable, unknown key, bad value)."""


@dataclass(frozen=True, slots=True)
class SourceSpec:
    """One ``[[source]]``: where its pages are listed and which of them to take."""

    name: str
    kind: SourceKind
    url: str | None = None  # the feed, sitemap (index) or index page
    urls: tuple[str, ...] = ()  # kind "urls": the pages themselves
    links: str | None = None  # kind "index": CSS selector of the article links
    include: tuple[re.Pattern[str], ...] = ()
    exclude: tuple[re.Pattern[str], ...] = ()
    max_new: int = DEFAULT_MAX_NEW

    @property
    def root(self) -> str:
        """The store's ``source_root`` of this source's pages."""
        return f"source:{self.name}"


@dataclass(frozen=True, slots=True)
class WebConfig:
    """Fetch options and sources of one run (from sources.toml, or the defaults)."""

    fetch: FetchOptions = field(default_factory=FetchOptions)
    sources: tuple[SourceSpec, ...] = ()
    path: str | None = None


def is_url(source: str) -> bool:
    """Whether a SOURCE argument is a URL to fetch (not a file, not a ``file://`` URI)."""
    return "://" in source and not source.lower().startswith("file://")


def split_sources(sources: list[str]) -> tuple[list[str], list[str]]:
    """(files and directories, URLs) of SOURCE arguments; URLs checked (SourceError for
    anything but http/https), each once, without fragment."""
    local: list[str] = []
    urls: list[str] = []
    for source in sources:
        if not is_url(source):
            local.append(source)
            continue
        try:
            url = check_url(source)
        except UnsupportedURLError as exc:
            raise SourceError(str(exc)) from None
        if url not in urls:
            urls.append(url)
    return local, urls


def load_web_config(path: str | Path | None) -> WebConfig:
    """Read and check a sources.toml (None: no sources, default fetch options); the contact
    comes from ``$BRIEFWATCH_CONTACT`` when the file sets none."""
    if path is None:
        return WebConfig(fetch=_with_env_contact(FetchOptions()))
    path = Path(path)
    return parse_web_config(read_toml(path, SourceConfigError), str(path))


def parse_web_config(data: dict[str, Any], where: str) -> WebConfig:
    unknown = sorted(set(data) - _TOP_KEYS)
    if unknown:
        raise SourceConfigError(f"{where}: unknown key(s) {', '.join(unknown)} "
                                f"(known: {', '.join(sorted(_TOP_KEYS))})")
    fetch = _fetch_options(data.get("fetch", {}), f"{where}: [fetch]")
    tables = data.get("source", [])
    if not isinstance(tables, list):
        raise SourceConfigError(f"{where}: 'source' must be an array of tables ([[source]])")
    sources = tuple(_source(t, f"{where}: source {i + 1}") for i, t in enumerate(tables))
    names = [s.name for s in sources]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise SourceConfigError(f"{where}: source name(s) used twice: {', '.join(twice)}")
    return WebConfig(fetch=_with_env_contact(fetch), sources=sources, path=where)


def _with_env_contact(options: FetchOptions) -> FetchOptions:
    contact = os.environ.get(CONTACT_ENV, "").strip()
    if options.contact or not contact:
        return options
    return replace(options, contact=contact)


def _fetch_options(table: Any, where: str) -> FetchOptions:
    if not isinstance(table, dict):
        raise SourceConfigError(f"{where} must be a table")
    known = {f.name: f for f in fields(FetchOptions)}
    unknown = sorted(set(table) - set(known))
    if unknown:
        raise SourceConfigError(f"{where}: unknown key(s) {', '.join(unknown)} "
                                f"(known: {', '.join(sorted(known))})")
    values: dict[str, Any] = {}
    defaults = FetchOptions()
    for name, value in table.items():
        default = getattr(defaults, name)
        if isinstance(default, bool):
            ok = isinstance(value, bool)
        elif isinstance(default, int):
            ok = isinstance(value, int) and not isinstance(value, bool) and value >= 0
        elif isinstance(default, float):
            ok = isinstance(value, (int, float)) and not isinstance(value, bool) and value >= 0
            value = float(value) if ok else value
        else:  # str, or None (contact)
            ok = isinstance(value, str)
        if not ok:
            raise SourceConfigError(f"{where}: {name} = {value!r} is not a valid value "
                                    f"(like {default!r})")
        values[name] = value
    for name in ("concurrency", "per_host_concurrency", "batch_size", "max_bytes"):
        if name in values and values[name] < 1:
            raise SourceConfigError(f"{where}: {name} must be at least 1")
    for name in ("connect_timeout", "read_timeout", "total_timeout"):
        if name in values and values[name] <= 0:
            raise SourceConfigError(f"{where}: {name} must be more than 0")
    return FetchOptions(**values)


def _source(table: Any, where: str) -> SourceSpec:
    if not isinstance(table, dict):
        raise SourceConfigError(f"{where} must be a table")
    unknown = sorted(set(table) - _SOURCE_KEYS)
    if unknown:
        raise SourceConfigError(f"{where}: unknown key(s) {', '.join(unknown)} "
                                f"(known: {', '.join(sorted(_SOURCE_KEYS))})")
    name = table.get("name")
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise SourceConfigError(f"{where}: name must be letters, digits, '.', '_' or '-' "
                                f"(starting with a letter or digit), not {name!r}")
    where = f"{where} ({name})"
    kind = table.get("kind")
    if kind not in SOURCE_KINDS:
        raise SourceConfigError(f"{where}: kind must be one of {', '.join(SOURCE_KINDS)}, "
                                f"not {kind!r}")
    url = _url(table.get("url"), where) if kind != "urls" else None
    if kind != "urls" and url is None:
        raise SourceConfigError(f"{where}: a {kind} source needs url = \"https://...\"")
    if kind == "urls" and "url" in table:
        raise SourceConfigError(f"{where}: a urls source lists its pages in urls = [...]")
    urls = tuple(_urls(table.get("urls"), where)) if kind == "urls" else ()
    if kind != "urls" and "urls" in table:
        raise SourceConfigError(f"{where}: urls = [...] belongs to kind = \"urls\"")
    links = table.get("links")
    if kind == "index":
        links = _selector(links, where)
    elif links is not None:
        raise SourceConfigError(f"{where}: links (a CSS selector) belongs to kind = \"index\"")
    max_new = table.get("max_new", DEFAULT_MAX_NEW)
    if isinstance(max_new, bool) or not isinstance(max_new, int) or max_new < 0:
        raise SourceConfigError(f"{where}: max_new must be an integer >= 0, not {max_new!r}")
    return SourceSpec(name=name, kind=cast(SourceKind, kind), url=url, urls=urls, links=links,
                      include=_patterns(table.get("include"), "include", where),
                      exclude=_patterns(table.get("exclude"), "exclude", where),
                      max_new=max_new)


def _url(value: Any, where: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise SourceConfigError(f"{where}: url must be a string")
    try:
        return check_url(value)
    except UnsupportedURLError as exc:
        raise SourceConfigError(f"{where}: {exc}") from None


def _urls(value: Any, where: str) -> list[str]:
    if not isinstance(value, list) or not value:
        raise SourceConfigError(f"{where}: urls must be a non-empty list of URLs")
    urls: list[str] = []
    for item in value:
        url = _url(item, where)
        if url is not None and url not in urls:
            urls.append(url)
    return urls


def _selector(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise SourceConfigError(f"{where}: an index source needs links = \"CSS selector\"")
    try:
        css_to_xpath(value)
    except ValueError as exc:
        raise SourceConfigError(f"{where}: links: {exc} (supported: tags, .class, #id, "
                                "[attr], [attr=value] and its ^= $= *= ~= forms, descendant "
                                "and > combinators, groups with ',')") from None
    return value


def _patterns(value: Any, key: str, where: str) -> tuple[re.Pattern[str], ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise SourceConfigError(f"{where}: {key} must be a list of regular expressions")
    patterns = []
    for text in value:
        try:
            patterns.append(re.compile(text))
        except re.error as exc:
            raise SourceConfigError(f"{where}: {key} {text!r}: bad regular expression: "
                                    f"{exc}") from None
    return tuple(patterns)
