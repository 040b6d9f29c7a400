"""Parsers: bytes in, :class:`~briefwatch.model.Document` out. Pure — no I/O, no Prefect.

``parse(data, location=...)`` detects the format (HTML, plain text, Markdown with YAML front
matter), decodes the bytes, extracts the main content as blocks, strips text-level
boilerplate, and splits the body into attributed statements.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, get_args

from briefwatch.errors import ParseError
from briefwatch.model import (
    Block,
    Document,
    Extracted,
    PageKind,
    PageMeta,
    Statement,
    StatementKind,
)
from briefwatch.parsers.boilerplate import strip_boilerplate
from briefwatch.parsers.encoding import decode_bytes
from briefwatch.parsers.html import extract_html
from briefwatch.parsers.markdown import extract_markdown
from briefwatch.parsers.statements import build_statements, is_transcript
from briefwatch.parsers.text import extract_text
from briefwatch.textnorm import match_key

Format = Literal["html", "text", "markdown"]
DEFAULT_MAX_BYTES = 20 * 1024 * 1024

_EXTENSIONS: dict[str, Format] = {
    ".html": "html",
    ".htm": "html",
    ".xhtml": "html",
    ".md": "markdown",
    ".markdown": "markdown",
    ".txt": "text",
    ".text": "text",
}

__all__ = [
    "DEFAULT_MAX_BYTES", "ParseContext", "ParseOptions", "detect_format", "parse",
    "parse_extracted",
]


@dataclass(frozen=True, slots=True)
class ParseOptions:
    """How to parse one page."""

    max_bytes: int = DEFAULT_MAX_BYTES
    format: Format | None = None  # None: from the location's extension, else sniffed
    declared_encoding: str | None = None  # e.g. from an HTTP Content-Type header


@dataclass(frozen=True, slots=True)
class ParseContext:
    """What a parse is told about a page's bytes besides the bytes: where they were read
    (a fetched page's final URL: relative canonical URLs, the site profile and the page
    kind depend on it), and the format and charset its HTTP Content-Type declared. The
    store keeps it with each version fetched from the web, so a re-parse reads the bytes
    as the ingest did."""

    location: str
    format: Format | None = None
    declared_encoding: str | None = None

    def options(self, max_bytes: int = DEFAULT_MAX_BYTES) -> ParseOptions:
        return ParseOptions(max_bytes=max_bytes, format=self.format,
                            declared_encoding=self.declared_encoding)

    def as_dict(self) -> dict[str, str]:
        """JSON-able, without the fields that are not set."""
        fields = {"location": self.location, "format": self.format,
                  "declared_encoding": self.declared_encoding}
        return {name: value for name, value in fields.items() if value is not None}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ParseContext:
        """The inverse of :meth:`as_dict` (an unknown format is sniffed, as when absent)."""
        fmt = data.get("format")
        declared = data.get("declared_encoding")
        return cls(location=str(data["location"]),
                   format=fmt if fmt in get_args(Format) else None,
                   declared_encoding=declared if isinstance(declared, str) else None)


def detect_format(location: str, head: bytes) -> Format:
    """The format of a page from its name, or from its first bytes when the name says nothing."""
    lower = location.lower().split("?", 1)[0].split("#", 1)[0]
    sniffed = _sniff(head)
    for ext, fmt in _EXTENSIONS.items():
        if lower.endswith(ext):
            # a .txt/.md file that is really a saved web page is parsed as HTML
            return "html" if sniffed == "html" and fmt != "html" else fmt
    return sniffed


def _sniff(head: bytes) -> Format:
    start = head[:2048].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if start.startswith((b"<!doctype html", b"<html", b"<?xml")) or b"<html" in start[:1024]:
        return "html"
    if start.startswith((b"<head", b"<body", b"<div", b"<p>", b"<article", b"<section")):
        return "html"
    if start.startswith(b"---\n") or start.startswith(b"---\r\n"):
        return "markdown"
    return "text"


def parse(data: bytes, *, location: str, options: ParseOptions = ParseOptions()) -> Document:
    """Parse one page's bytes. Raises ParseError with a one-line reason when it cannot."""
    if len(data) > options.max_bytes:
        raise ParseError(
            f"page too large: {len(data):,} bytes (limit {options.max_bytes:,})"
        )
    if not data:
        raise ParseError("empty document: no bytes")
    if not data.strip():
        raise ParseError("empty document: no text (only white space)")
    fmt = options.format or detect_format(location, data[:4096])
    text = decode_bytes(data, declared=options.declared_encoding, is_html=fmt == "html")
    if fmt == "html":
        extracted = extract_html(text, base_url=location if "://" in location else None)
    elif fmt == "markdown":
        extracted = extract_markdown(text)
    else:
        extracted = extract_text(text)
    return parse_extracted(extracted, location=location)


def parse_extracted(extracted: Extracted, *, location: str) -> Document:
    """Common second half of every format: boilerplate, title, statements, kind, key."""
    blocks, _stats = strip_boilerplate(extracted.blocks)
    meta = extracted.meta
    title, blocks = _title(meta, blocks)
    transcript = is_transcript(blocks)
    statements = build_statements(blocks, transcript=transcript)
    if not statements:
        raise ParseError("no statements: the page has no body text after boilerplate removal")
    headings = tuple(b.text for b in blocks if b.kind == "heading")
    return Document(
        key=meta.canonical_url or location,
        url=meta.canonical_url,
        title=title,
        published=meta.published,
        byline=meta.byline,
        kind=_kind(meta, transcript, statements),
        format=extracted.format,
        headings=headings,
        statements=tuple(statements),
        site=meta.site,
    )


def _title(meta: PageMeta, blocks: tuple[Block, ...]) -> tuple[str | None, tuple[Block, ...]]:
    """The page title, and the blocks without a leading heading that only repeats it."""
    if blocks and blocks[0].kind == "heading":
        first = blocks[0].text
        if meta.title is None or match_key(first) == match_key(meta.title):
            return meta.title or first, blocks[1:]
    return meta.title, blocks


def _kind(meta: PageMeta, transcript: bool, statements: Sequence[Statement]) -> PageKind:
    if transcript:
        return PageKind.TRANSCRIPT
    if meta.kind_hint is not None:
        return meta.kind_hint
    quoted = {StatementKind.QUOTE, StatementKind.PARAPHRASE}
    if any(s.kind in quoted for s in statements):
        return PageKind.ARTICLE
    return PageKind.OTHER
