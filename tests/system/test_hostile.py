"""Hostile and broken input (issue 7): the corpus of ``tests/hostile/`` run through the real
product, all cases together, and the whole-run guarantees checked.

Three runs of ``briefwatch ingest`` over one store: a baseline run where every case's place
(file, URL, feed, sitemap) holds a good page; the hostile run, where each place holds its
case (a run of its own, in a subprocess, whose peak RSS is measured with ``wait4``); and a
recovery run with the good pages back. Per case (parametrized below, each reading the one
hostile run) the report must say what went wrong in words (or the page must be stored
right); for the run as a whole: it completes (exit 0), good pages in the same run are stored
normally, peak memory stays under :data:`RSS_LIMIT_MB`, and every row stored before it is
byte-identical after it, in a store that passes ``PRAGMA integrity_check`` and
``foreign_key_check``.

Small cases are files in ``tests/hostile/local`` (pages) and ``tests/hostile/web`` (feeds
and sitemaps; ``$origin`` / ``$host`` are replaced by the test server's); big ones (100k
levels of nesting, 50 MB pages, gzip bombs, a million statements) are generated here, never
committed. ``tests/hostile/README.md`` lists every case and its expected outcome.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import sqlite3
import stat
import subprocess
import sys
import threading
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from briefwatch.cli import main
from briefwatch.store import Store
from tests.support.paths import HOSTILE
from tests.support.webserver import Reply, Site

DEEP = 100_000  # levels of nesting
MB = 1024 * 1024
CAP = 20 * MB  # the default page size limit (IngestOptions.max_bytes, FetchOptions.max_bytes)
BOMB = 256 * MB  # what the gzip bombs inflate to
RSS_LIMIT_MB = 1024  # the hostile run's peak RSS must stay under this
IS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0
FETCH_TOML = """
[fetch]
connect_timeout = 2
read_timeout = 5
total_timeout = 30
retries = 1
backoff_factor = 0
per_host_delay = 0
per_host_concurrency = 4
concurrency = 8
task_retry_delay = 0
contact = "briefwatch-tests@example.org"
"""


# ================================================================== content makers


def article(title: str, *sentences: str, head: str = "", charset: str = "utf-8") -> bytes:
    body = "".join(f"<p>{s}</p>" for s in sentences)
    return (f'<!doctype html><html><head><meta charset="{charset}"><title>{title}</title>'
            f"{head}</head><body><main><article><h1>{title}</h1>{body}</article></main>"
            "</body></html>").encode(charset)


def good_page(name: str) -> bytes:
    """The good version of a case's place (run 1 and run 3)."""
    return article(f"Briefing {name}", f"The ministry said the {name} review was finished on "
                   "Monday.", f"Officials met twice to discuss {name} and the port.")


def deep(open_tags: str, close_tags: str, levels: int = DEEP) -> bytes:
    return (b"<!doctype html><html><head><title>Deep</title></head><body>"
            + open_tags.encode() * levels + b"The minister said the deep text was here."
            + close_tags.encode() * levels + b"</body></html>")


def big_page(size: int) -> bytes:
    """An article padded with an inline script to ``size`` bytes (pages with megabytes of
    inline JSON are real); parses to a few statements."""
    page = article("Big page", "The harbour master said the big page was read in full.",
                   "Ships waited offshore for two days.", head="<script>var d='';</script>")
    return page.replace(b"var d='", b"var d='" + b"A" * (size - len(page)))


def million_statements() -> bytes:
    return b"Go. " * 1_000_000


def million_elements() -> bytes:
    return (b"<!doctype html><html><head><title>Many</title></head><body><main>"
            + b"<p>Go.</p>" * 1_000_000 + b"</main></body></html>")


def many_elements(n: int) -> bytes:
    """``n`` empty elements: under the tag count checked before parsing, over the element
    count checked after."""
    return (b"<!doctype html><html><head><title>Many</title></head><body><main>"
            b"<p>The minister said the page had many breaks.</p>" + b"<br>" * n
            + b"</main></body></html>")


def quoted_sentences(n: int = 20_000) -> bytes:
    """One paragraph of ``n`` short quotations: quadratic in the statement builder before
    the fix (8,000 of them took 9 s; this many, about a minute)."""
    return article("Quotes", "The spokesman said: " + " ".join(f'"Point {i} holds."'
                                                               for i in range(n)))


def long_line() -> bytes:
    return b"The minister said yes and " * 200_000 + b"that was all.\n"


def long_word() -> bytes:
    return article("Long word", "The minister said " + "a" * 5_000_000 + ".",
                   "The port reopened on Sunday.")


def gzip_stream(size: int, chunk: bytes = b"\0" * MB) -> bytes:
    """gzip data that inflates to ``size`` bytes (compressed in steps: a 256 MB bomb costs
    a megabyte of memory to make)."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    parts = [packer.compress(chunk) for _ in range(size // len(chunk))]
    return b"".join([*parts, packer.flush()])


def deep_xml(root: str, levels: int = DEEP) -> bytes:
    return (f'<?xml version="1.0"?><{root}>'.encode() + b"<x>" * levels + b"text"
            + b"</x>" * levels + f"</{root}>".encode())


def rss(origin: str, *paths: str) -> bytes:
    items = "".join(f"<item><title>{p}</title><link>{origin}{p}</link>"
                    "<pubDate>Mon, 06 Jan 2025 10:00:00 GMT</pubDate></item>" for p in paths)
    return (f'<?xml version="1.0"?><rss version="2.0"><channel><title>Good</title>'
            f"<link>{origin}/</link>{items}</channel></rss>").encode()


def urlset(origin: str, *paths: str) -> bytes:
    urls = "".join(f"<url><loc>{origin}{p}</loc></url>" for p in paths)
    return (f'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
            f"{urls}</urlset>").encode()


def web_file(name: str, origin: str) -> bytes:
    """A file of tests/hostile/web with ``$origin`` / ``$host`` filled in (in its own
    encoding: UTF-16 files stay UTF-16, with or without their BOM)."""
    data = (HOSTILE / "web" / name).read_bytes()
    encoding = "utf-8"
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        encoding = "utf-16"
    elif b"\0" in data[:64]:
        encoding = "utf-16-le"
    host = origin.split("://", 1)[1]
    text = data.decode(encoding).replace("$origin", origin).replace("$host", host)
    return text.encode(encoding)


# ======================================================================= the cases


@dataclass(frozen=True)
class Case:
    """One hostile input and what the run must say about it.

    ``kind``: ``local`` (a file under the source directory), ``page`` (a URL of the
    ``pages`` source), ``source`` (a feed or sitemap: its own URL is reported), ``link`` (a
    link a feed or sitemap lists, refused and reported as the feed gives it) or ``listed``
    (a page a feed lists, reported at its URL). ``outcome``: ``failed`` — the page's
    error matches ``reason`` (a regular expression); ``stored`` — the page is stored as a
    new version and one of its statements matches ``reason``; ``read`` — the source's
    documents are read without an error (``reason`` is not used)."""

    name: str
    kind: str
    outcome: str
    reason: str
    where: str  # file name (local), path on the server (page, source), link start (link)
    source: str = ""  # a link: the source that lists it; a source: its URL when not where

    @property
    def document(self) -> str:
        """A source's URL path (the document its sources.toml entry names)."""
        return self.source or self.where


LOCAL = [
    Case("deep-div-100k", "local", "failed", r"nested too deeply .*over 2,048 levels",
         "deep-div.html"),
    Case("deep-inline-100k", "local", "failed", r"nested too deeply", "deep-inline.html"),
    Case("deep-table-100k", "local", "failed", r"nested too deeply", "deep-table.html"),
    Case("deep-unclosed-list-100k", "local", "failed", r"nested too deeply", "deep-list.html"),
    Case("page-50mb", "local", "failed", r"page too large: over 20,971,520 bytes",
         "page-50mb.html"),
    Case("page-just-under-cap", "local", "stored", r"big page was read in full",
         "page-under-cap.html"),
    Case("nul-bytes", "local", "stored", r"^The minister said the port reopened on Sunday\.$",
         "nul-bytes.html"),
    Case("invalid-utf8", "local", "stored", r"minister said the port reopened",
         "invalid-utf8.html"),
    Case("mixed-encodings", "local", "stored", r"^Le ministre a parlé à la presse",
         "mixed-encodings.html"),
    Case("charset-lies", "local", "stored", r"^The café near the port", "charset-lies.html"),
    Case("utf16-bom", "local", "stored", r"minister said the port reopened", "utf16-bom.html"),
    Case("utf16-no-bom", "local", "failed", r"binary data: .*no UTF-16/32 byte-order mark",
         "utf16-no-bom.html"),
    Case("really-json", "local", "failed", r"JSON data, not HTML", "really-json.html"),
    Case("really-pdf", "local", "failed", r"binary data \(PDF\)", "really-pdf.html"),
    Case("empty-file", "local", "failed", r"empty document", "empty.html"),
    Case("whitespace-only", "local", "failed", r"empty document: no text",
         "whitespace-only.txt"),
    Case("binary-garbage", "local", "failed", r"binary data|no HTML markup",
         "binary-garbage.html"),
    Case("markup-without-text", "local", "failed", r"no main-content text",
         "markup-no-text.html"),
    Case("million-statements", "local", "failed", r"too many statements: over 50,000",
         "million-statements.txt"),
    Case("million-elements", "local", "failed", r"too many HTML elements: over 400,000 tags",
         "million-elements.html"),
    Case("elements-300k", "local", "failed", r"too many HTML elements: over 100,000 \(",
         "elements-300k.html"),
    Case("quoted-sentences-20k", "local", "stored", r"^\"Point 19999 holds\.\"$",
         "quoted-sentences.html"),
    Case("long-line-5mb", "local", "stored", r"^The minister said yes and", "long-line.txt"),
    Case("long-word-5mb", "local", "stored", r"^The port reopened on Sunday\.$",
         "long-word.html"),
    Case("symlink-file-outside", "local", "failed",
         r"is a symbolic link to .*outside the source directory", "escape-file.html"),
    Case("symlink-dotdot", "local", "failed",
         r"is a symbolic link to .*outside/secret\.html, outside the source directory",
         "dotdot.html"),
    Case("symlink-dir-outside", "local", "failed",
         r"is a symbolic link to .*outside, outside the source directory", "escape-dir"),
    Case("symlink-file-loop", "local", "failed", r"symbolic link loop", "loop-a.html"),
    Case("symlink-broken", "local", "failed", r"broken symbolic link", "dangling.html"),
    Case("symlink-inside", "local", "stored", r"ministry said the inside review",
         "alias.html"),
    Case("fifo", "local", "failed", r"not a regular file", "fifo.html"),
    Case("unreadable", "local", "failed", r"permission denied", "unreadable.html"),
]

PAGES = [
    Case("web-deep-nesting-100k", "page", "failed", r"nested too deeply", "/p/deep"),
    Case("web-50mb-declared", "page", "failed",
         r"page too large: 52,428,800 bytes declared.*not downloaded", "/p/big-declared"),
    Case("web-50mb-streamed", "page", "failed",
         r"page too large: over 20,971,520 bytes; download stopped", "/p/big-streamed"),
    Case("web-just-under-cap", "page", "stored", r"big page was read in full", "/p/under-cap"),
    Case("web-gzip-bomb", "page", "failed",
         r"page too large: over 20,971,520 bytes after decompression \(gzip\)", "/p/bomb"),
    Case("web-redirect-loop", "page", "failed", r"redirect loop: .*/p/loop-a → .*/p/loop-b",
         "/p/loop-a"),
    Case("web-redirect-self", "page", "failed", r"redirect loop", "/p/loop-self"),
    Case("web-redirect-chain-15", "page", "failed", r"too many redirects: more than 10",
         "/p/chain-0"),
    Case("web-redirect-to-file", "page", "failed",
         r"redirected to an unsupported URL 'file:///etc/passwd' \(file:\)", "/p/to-file"),
    Case("web-redirect-to-ftp", "page", "failed", r"redirected to an unsupported URL .*\(ftp:\)",
         "/p/to-ftp"),
    Case("web-json-as-html", "page", "failed", r"JSON data, not HTML", "/p/json"),
    Case("web-pdf-as-html", "page", "failed", r"binary data \(PDF\)", "/p/pdf-as-html"),
    Case("web-pdf", "page", "failed", r"unsupported content type application/pdf", "/p/pdf"),
    Case("web-empty-200", "page", "failed", r"empty document", "/p/empty"),
    Case("web-nul-bytes", "page", "stored", r"^The minister said the port reopened on Sunday\.$",
         "/p/nul"),
    Case("web-utf16-declared", "page", "stored", r"minister said the port reopened",
         "/p/utf16-declared"),
    Case("web-utf16-undeclared", "page", "failed", r"no UTF-16/32 byte-order mark",
         "/p/utf16-undeclared"),
    Case("web-charset-lies", "page", "stored", r"^The café near the port", "/p/charset-lies"),
    Case("web-million-statements", "page", "failed", r"too many statements", "/p/million"),
    Case("web-binary-garbage", "page", "failed", r"binary data|no HTML markup", "/p/garbage"),
]

SOURCES = [
    Case("feed-billion-laughs", "source", "failed", r"feed declares XML entities: refused",
         "/feeds/laughs.xml"),
    Case("feed-billion-laughs-utf16", "source", "failed",
         r"feed declares XML entities: refused", "/feeds/laughs-utf16.xml"),
    Case("feed-xxe", "source", "failed", r"feed declares XML entities: refused",
         "/feeds/xxe.xml"),
    Case("feed-external-dtd", "source", "read", "", "/feeds/external-dtd.xml"),
    Case("feed-truncated", "source", "failed", r"malformed feed, no entries read",
         "/feeds/truncated.xml"),
    Case("feed-not-a-feed", "source", "failed", r"not an RSS or Atom feed",
         "/feeds/not-a-feed.xml"),
    Case("feed-deep-100k", "source", "read", "", "/feeds/deep.xml"),  # well-formed, no items
    Case("feed-50mb", "source", "failed", r"page too large", "/feeds/big.xml"),
    Case("feed-gzip-bomb", "source", "failed", r"after decompression \(gzip\)",
         "/feeds/bomb.xml"),
    Case("feed-bad-schemes", "source", "read", "", "/feeds/schemes.xml"),
    Case("sitemap-billion-laughs", "source", "failed", r"sitemap declares XML entities",
         "/sitemaps/laughs.xml"),
    Case("sitemap-xxe", "source", "failed", r"sitemap declares XML entities",
         "/sitemaps/xxe.xml"),
    Case("sitemap-external-dtd", "source", "read", "", "/sitemaps/external-dtd.xml"),
    Case("sitemap-malformed", "source", "failed", r"not an XML sitemap: not well-formed",
         "/sitemaps/malformed.xml"),
    Case("sitemap-wrong-root", "source", "failed", r"not an XML sitemap: root element <html>",
         "/sitemaps/wrong-root.xml"),
    Case("sitemap-utf16-no-bom", "source", "failed",
         r"not an XML sitemap: multi-byte encodings are not supported", "/sitemaps/utf16.xml"),
    Case("sitemap-index-loop", "source", "read", "", "/sitemaps/index-loop.xml"),
    # reported at the index whose children would be a level too deep
    Case("sitemap-index-too-deep", "source", "failed", r"nested deeper than 2 levels",
         "/sitemaps/deep-2.xml", source="/sitemaps/index-too-deep.xml"),
    Case("sitemap-gzip-bomb", "source", "failed",
         r"sitemap too large: over 20,971,520 bytes uncompressed", "/sitemaps/bomb.xml.gz"),
    Case("sitemap-deep-100k", "source", "read", "", "/sitemaps/deep.xml"),  # lists nothing
    Case("sitemap-50mb", "source", "failed", r"page too large", "/sitemaps/big.xml"),
]

LINKS = [
    Case("feed-link-file", "link", "failed", r"link refused: .*\(file:\)", "file:",
         "feed-bad-schemes"),
    Case("feed-link-ftp", "link", "failed", r"link refused: .*\(ftp:\)", "ftp:",
         "feed-bad-schemes"),
    Case("feed-link-javascript", "link", "failed", r"link refused: .*\(javascript:\)",
         "javascript:", "feed-bad-schemes"),
    Case("feed-link-data", "link", "failed", r"link refused: .*\(data:\)", "data:",
         "feed-bad-schemes"),
    Case("feed-link-mailto", "link", "failed", r"link refused: .*\(mailto:\)", "mailto:",
         "feed-bad-schemes"),
    Case("sitemap-link-file", "link", "failed", r"link refused: .*\(file:\)", "file:",
         "sitemap-index-loop"),
    Case("sitemap-link-javascript", "link", "failed", r"link refused: .*\(javascript:\)",
         "javascript:", "sitemap-index-loop"),
    # '../../../../etc/passwd' in a feed is relative to the feed's URL: a path on the web
    # host (which answers 404), never a local file
    Case("feed-link-dotdot", "listed", "failed", r"^HTTP 404 Not Found", "/etc/passwd"),
]

CASES = LOCAL + PAGES + SOURCES + LINKS
GOOD_LOCAL = ("good/one.html", "good/two.html", "good/changing.html")


# ==================================================================== the corpus


def write_local_good(pages: Path) -> None:
    """Run 1 (and run 3): every local case's place holds a good page."""
    for case in LOCAL:
        if case.where != "escape-dir":
            _replace(pages / case.where)
            (pages / case.where).write_bytes(good_page(case.name))
    for name in GOOD_LOCAL:
        (pages / name).parent.mkdir(parents=True, exist_ok=True)
        (pages / name).write_bytes(good_page(name.split("/")[1].split(".")[0]))


def write_local_hostile(pages: Path, outside: Path) -> None:
    """Run 2: each local case in its place (big ones generated)."""
    outside.mkdir(exist_ok=True)
    (outside / "secret.html").write_bytes(article("Secret", "SECRET text outside the source "
                                                  "directory must never be read."))
    made: dict[str, Callable[[], bytes]] = {
        "deep-div.html": lambda: deep("<div>", "</div>"),
        "deep-inline.html": lambda: deep("<b><i>", "</i></b>", DEEP // 2),
        "deep-table.html": lambda: deep("<table><tr><td>", "</td></tr></table>", DEEP // 3),
        "deep-list.html": lambda: deep("<ul><li>", "", DEEP // 2),
        "page-50mb.html": lambda: big_page(50 * MB),
        "page-under-cap.html": lambda: big_page(CAP - 64 * 1024),
        "million-statements.txt": million_statements,
        "million-elements.html": million_elements,
        "elements-300k.html": lambda: many_elements(300_000),
        "quoted-sentences.html": quoted_sentences,
        "long-line.txt": long_line,
        "long-word.html": long_word,
    }
    for case in LOCAL:
        path = pages / case.where
        committed = HOSTILE / "local" / case.where
        if case.where in made:
            _replace(path)
            path.write_bytes(made[case.where]())
        elif committed.exists():
            _replace(path)
            path.write_bytes(committed.read_bytes())
    links = {
        "escape-file.html": outside / "secret.html",  # absolute target
        "dotdot.html": Path("..") / outside.name / "secret.html",  # relative, with '..'
        "loop-a.html": Path("loop-b.html"),
        "loop-b.html": Path("loop-a.html"),
        "dangling.html": Path("missing.html"),
        "alias.html": Path("good") / "inside.html",  # inside the source: read
    }
    (pages / "good" / "inside.html").write_bytes(good_page("inside"))
    for name, target in links.items():
        _replace(pages / name)
        (pages / name).symlink_to(target)
    (pages / "escape-dir").symlink_to(outside, target_is_directory=True)
    (pages / "loop").symlink_to(".", target_is_directory=True)  # a directory loop, inside
    _replace(pages / "fifo.html")
    os.mkfifo(pages / "fifo.html")
    (pages / "unreadable.html").write_bytes(good_page("unreadable, changed"))
    (pages / "unreadable.html").chmod(0)
    change_good_page(pages, "Wednesday")


def change_good_page(pages: Path, day: str) -> None:
    (pages / "good" / "changing.html").write_bytes(article(
        "Briefing changing", f"The ministry said the changing review was finished on {day}.",
        "Officials met twice to discuss changing and the port."))


def _replace(path: Path) -> None:
    """Remove whatever is at ``path`` (file, link, FIFO, link to a directory)."""
    if path.is_symlink() or path.exists():
        if path.exists() and not path.is_symlink():
            path.chmod(stat.S_IRUSR | stat.S_IWUSR)
        path.unlink()
    path.parent.mkdir(parents=True, exist_ok=True)


def serve_good(site: Site) -> None:
    """Run 1 (and run 3): every page case answers a good page; every feed and sitemap
    lists a page of its own, which every run reads (tracked)."""
    for case in PAGES:
        site.route(case.where, Reply(200, good_page(case.name),
                                     {"Content-Type": "text/html; charset=utf-8"}))
    for case in SOURCES:
        tracked = f"/tracked/{case.name}"
        site.route(tracked, Reply(200, good_page(case.name),
                                  {"Content-Type": "text/html; charset=utf-8"}))
        if case.name.startswith("feed"):
            site.route(case.document, Reply(200, rss(site.origin, tracked),
                                            {"Content-Type": "application/rss+xml"}))
        else:
            body = urlset(site.origin, tracked)
            if case.document.endswith(".gz"):
                site.route(case.document, Reply(200, zlib_gzip(body),
                                                {"Content-Type": "application/x-gzip"}))
            else:
                site.route(case.document, Reply(200, body, {"Content-Type": "application/xml"}))
    for path in ("/p/feed-page", "/p/dtd-page", "/p/scheme-good", "/p/sitemap-page"):
        site.route(path, Reply(200, good_page(path.rsplit("/", 1)[1]),
                               {"Content-Type": "text/html; charset=utf-8"}))


def zlib_gzip(data: bytes) -> bytes:
    packer = zlib.compressobj(6, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    return packer.compress(data) + packer.flush()


def serve_hostile(site: Site, bomb: bytes) -> None:
    html, xml = {"Content-Type": "text/html; charset=utf-8"}, {"Content-Type": "application/xml"}
    origin = site.origin
    local = HOSTILE / "local"
    routes: dict[str, Reply] = {
        "/p/deep": Reply(200, deep("<div>", "</div>"), html),
        "/p/big-declared": Reply(200, big_page(50 * MB), html),
        "/p/big-streamed": Reply(200, big_page(50 * MB), html, content_length=False),
        "/p/under-cap": Reply(200, big_page(CAP - 64 * 1024), html),
        "/p/bomb": Reply(200, bomb, {"Content-Type": "text/html", "Content-Encoding": "gzip"}),
        "/p/loop-a": Reply(302, b"", {"Location": "/p/loop-b"}),
        "/p/loop-b": Reply(301, b"", {"Location": f"{origin}/p/loop-a"}),
        "/p/loop-self": Reply(307, b"", {"Location": "/p/loop-self"}),
        "/p/to-file": Reply(302, b"", {"Location": "file:///etc/passwd"}),
        "/p/to-ftp": Reply(302, b"", {"Location": "ftp://127.0.0.1/etc/passwd"}),
        "/p/json": Reply(200, (local / "really-json.html").read_bytes(), html),
        "/p/pdf-as-html": Reply(200, (local / "really-pdf.html").read_bytes(), html),
        "/p/pdf": Reply(200, (local / "really-pdf.html").read_bytes(),
                        {"Content-Type": "application/pdf"}),
        "/p/empty": Reply(200, b"", html),
        "/p/nul": Reply(200, (local / "nul-bytes.html").read_bytes(), html),
        "/p/utf16-declared": Reply(200, article(
            "UTF-16", "The minister said the port reopened on Sunday.").decode()
            .replace('<meta charset="utf-8">', "").encode("utf-16-le"),
            {"Content-Type": "text/html; charset=utf-16le"}),
        "/p/utf16-undeclared": Reply(200, (local / "utf16-no-bom.html").read_bytes(),
                                     {"Content-Type": "text/html"}),
        "/p/charset-lies": Reply(200, article(
            "Charset lies", "The café near the port reopened on Sunday, the minister said.",
            charset="utf-8").replace(b'<meta charset="utf-8">', b""),
            {"Content-Type": "text/html; charset=iso-8859-1"}),
        "/p/million": Reply(200, million_statements(), {"Content-Type": "text/plain"}),
        "/p/garbage": Reply(200, (local / "binary-garbage.html").read_bytes(), html),
        "/evil.dtd": Reply(200, b'<!ENTITY xxe SYSTEM "file:///etc/passwd">',
                           {"Content-Type": "application/xml-dtd"}),
    }
    for hop in range(15):
        routes[f"/p/chain-{hop}"] = Reply(302, b"", {"Location": f"/p/chain-{hop + 1}"})
    documents = {
        "/feeds/laughs.xml": "feed-billion-laughs.xml",
        "/feeds/laughs-utf16.xml": "feed-billion-laughs-utf16.xml",
        "/feeds/xxe.xml": "feed-xxe.xml",
        "/feeds/external-dtd.xml": "feed-external-dtd.xml",
        "/feeds/truncated.xml": "feed-truncated.xml",
        "/feeds/not-a-feed.xml": "feed-not-a-feed.xml",
        "/feeds/schemes.xml": "feed-schemes.xml",
        "/sitemaps/laughs.xml": "sitemap-billion-laughs.xml",
        "/sitemaps/xxe.xml": "sitemap-xxe.xml",
        "/sitemaps/external-dtd.xml": "sitemap-external-dtd.xml",
        "/sitemaps/malformed.xml": "sitemap-malformed.xml",
        "/sitemaps/wrong-root.xml": "sitemap-wrong-root.xml",
        "/sitemaps/utf16.xml": "sitemap-utf16-no-bom.xml",
        "/sitemaps/index-loop.xml": "sitemap-index-loop.xml",
        "/sitemaps/index-loop-child.xml": "sitemap-index-loop-child.xml",
        "/sitemaps/loop-urls.xml": "sitemap-loop-urls.xml",
        "/sitemaps/index-too-deep.xml": "sitemap-index-too-deep.xml",
        "/sitemaps/deep-1.xml": "sitemap-deep-1.xml",
        "/sitemaps/deep-2.xml": "sitemap-deep-2.xml",
        "/sitemaps/deep-3.xml": "sitemap-deep-3.xml",
    }
    for path, name in documents.items():
        routes[path] = Reply(200, web_file(name, origin), xml)
    routes["/feeds/deep.xml"] = Reply(200, deep_xml("rss"), xml)
    routes["/feeds/big.xml"] = Reply(200, b" " * (50 * MB), xml)
    routes["/feeds/bomb.xml"] = Reply(200, bomb, {**xml, "Content-Encoding": "gzip"})
    routes["/sitemaps/bomb.xml.gz"] = Reply(200, bomb, {"Content-Type": "application/x-gzip"})
    routes["/sitemaps/deep.xml"] = Reply(200, deep_xml("urlset"), xml)
    routes["/sitemaps/big.xml"] = Reply(200, b" " * (50 * MB), xml, content_length=False)
    for path, reply in routes.items():
        site.route(path, reply)


def sources_toml(site: Site) -> str:
    pages = ", ".join(json.dumps(site.url(c.where)) for c in PAGES)
    parts = [FETCH_TOML, f'[[source]]\nname = "pages"\nkind = "urls"\nurls = [{pages}]\n']
    for case in SOURCES:
        kind = "feed" if case.name.startswith("feed") else "sitemap"
        parts.append(f'[[source]]\nname = "{case.name}"\nkind = "{kind}"\n'
                     f'url = "{site.url(case.document)}"\n')
    return "\n".join(parts)


# ====================================================================== the runs


@dataclass
class Corpus:
    """What the three runs gave (module-scoped: the runs are made once)."""

    site: Site
    db: Path
    pages: Path
    baseline: dict[str, Any]
    hostile: dict[str, Any]
    recovery: dict[str, Any]
    exit_code: int
    stderr: str
    peak_rss_mb: float
    before: dict[str, list[tuple[Any, ...]]]
    after: dict[str, list[tuple[Any, ...]]]
    requests: dict[str, int]
    stored: dict[str, tuple[int, list[str]]]  # key -> (version, statements) after run 2

    def page(self, case: Case) -> dict[str, Any] | None:
        if case.kind == "link":  # reported as the feed gives it (feedparser tidies links)
            return next((p for p in self.hostile["pages"] if p["location"].startswith(
                case.where) and (p.get("error") or "").startswith(f"source {case.source}:")),
                None)
        location = self.location(case)
        return next((p for p in self.hostile["pages"] if p.get("location") == location), None)

    def location(self, case: Case) -> str:
        if case.kind == "local":
            return (self.pages.resolve() / case.where).as_uri()
        if case.kind == "link":
            page = self.page(case)
            return page["location"] if page is not None else case.where
        return self.site.url(case.where)


def _cli(*args: str) -> dict[str, Any]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["ingest", *args, "--format", "json"]) == 0
    report: dict[str, Any] = json.loads(out.getvalue())
    return report


def _ephemeral_api_url() -> str | None:
    """The API of the Prefect server this test process started (so the subprocess need not
    start one of its own: it costs seconds); None when there is none."""
    try:
        from prefect.server.api.server import SubprocessASGIServer

        server = SubprocessASGIServer._instances.get(None)
        return server.api_url if server is not None and server.running else None
    except (ImportError, AttributeError):  # pragma: no cover - another Prefect version
        return None


def run_measured(args: list[str], work: Path, timeout: float = 300) -> tuple[int, str, str, int]:
    """``briefwatch ingest ARGS`` in a subprocess: (exit code, stdout, stderr, peak RSS in
    KiB, from ``wait4``: the process and the children it waited for)."""
    env = dict(os.environ)
    api = _ephemeral_api_url()
    if api is not None:
        env["PREFECT_API_URL"] = api
    out_path, err_path = work / "hostile-run.json", work / "hostile-run.err"
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        proc = subprocess.Popen(
            [sys.executable, "-c", "import sys; from briefwatch.cli import main; "
             "sys.exit(main(sys.argv[1:]))", "ingest", *args],
            stdout=out, stderr=err, env=env, cwd=work)
        timer = threading.Timer(timeout, proc.kill)
        timer.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        finally:
            timer.cancel()
        proc.returncode = os.waitstatus_to_exitcode(status)
    return (proc.returncode, out_path.read_text(), err_path.read_text(errors="replace"),
            usage.ru_maxrss)


# rows that a later run must never change (run bookkeeping and page status may change)
KEPT_TABLES = ("versions", "statements", "version_statements", "changes", "blobs", "page_runs")


def snapshot(db: Path) -> dict[str, list[tuple[Any, ...]]]:
    with contextlib.closing(sqlite3.connect(db)) as conn:
        return {table: list(conn.execute(f"SELECT * FROM {table}")) for table in KEPT_TABLES}


def stored_after(db: Path, report: dict[str, Any]) -> dict[str, tuple[int, list[str]]]:
    """The latest version number and statements of each page a run stored."""
    stored: dict[str, tuple[int, list[str]]] = {}
    with Store(db) as store:
        for page in report["pages"]:
            if page["status"] in ("new", "changed"):
                latest = store.latest_document(page["key"])
                assert latest is not None
                stored[page["key"]] = (latest.number,
                                       [s.text for s in latest.document.statements])
    return stored


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Corpus]:
    work = tmp_path_factory.mktemp("hostile")
    pages, outside, db = work / "pages", work / "outside", work / "store.db"
    pages.mkdir()
    bomb = gzip_stream(BOMB)
    with Site() as site:
        config = work / "sources.toml"
        config.write_text(sources_toml(site))
        write_local_good(pages)
        serve_good(site)
        _cli(str(pages), "--config", str(config), "--db", str(db))
        change_good_page(pages, "Tuesday")  # so that the store holds a change, too
        baseline = _cli(str(pages), "--config", str(config), "--db", str(db))
        before = snapshot(db)

        write_local_hostile(pages, outside)
        serve_hostile(site, bomb)
        # the SOURCE with a '..' in it names the same directory: same pages, same places
        source = str(outside / ".." / pages.name)
        code, out, err, rss_kb = run_measured(
            [source, "--config", str(config), "--db", str(db), "--format", "json"], work)
        hostile = json.loads(out) if code == 0 else {"pages": []}
        after = snapshot(db)
        stored = stored_after(db, hostile)
        requests = {path: len(site.requests_to(path)) for path in
                    ("/evil.dtd", "/sitemaps/index-loop.xml", "/sitemaps/index-loop-child.xml",
                     "/sitemaps/loop-urls.xml", "/sitemaps/deep-3.xml", "/etc/passwd")}

        for link in ("escape-file.html", "dotdot.html", "escape-dir", "loop-a.html",
                     "loop-b.html", "dangling.html", "alias.html", "loop"):
            (pages / link).unlink()
        write_local_good(pages)
        serve_good(site)
        recovery = _cli(str(pages), "--config", str(config), "--db", str(db))
        yield Corpus(site, db, pages, baseline, hostile, recovery, code, err,
                     rss_kb / 1024, before, after, requests, stored)
    # a FIFO / unreadable file must not trouble tmp_path's cleanup
    for name in ("fifo.html", "unreadable.html"):
        _replace(pages / name)


# ==================================================================== the checks


def _skip_unless_applicable(case: Case) -> None:
    if case.name == "unreadable" and IS_ROOT:
        pytest.skip("running as root: a chmod 000 file is still readable")


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_case_outcome(corpus: Corpus, case: Case) -> None:
    """Each case ends the way the README says: a failed page whose error names the problem
    in words (never a traceback or an 'unknown error'), or a page stored right."""
    _skip_unless_applicable(case)
    assert corpus.exit_code == 0, corpus.stderr[-3000:]
    page = corpus.page(case)
    if case.outcome == "read":
        assert page is None, f"{case.name}: {page}"
        return
    assert page is not None, f"{case.name}: not in the report ({corpus.location(case)})"
    if case.outcome == "failed":
        error = page["error"] or ""
        assert page["status"] == "failed", (case.name, page["status"], error)
        assert re.search(case.reason, error), (case.name, error)
        assert "Traceback" not in error and "unknown error" not in error
        assert len(error) < 1000
        assert page["changes"] == []
        return
    assert page["status"] == "changed", (case.name, page["status"], page.get("error"))
    number, texts = corpus.stored[page["key"]]
    assert number == page["version"] == 2
    assert any(re.search(case.reason, t) for t in texts), (case.name, texts[:5])
    assert not any("\0" in t or "\ufffd" in t for t in texts)


def test_every_hostile_page_is_accounted_for(corpus: Corpus) -> None:
    """Nothing in the hostile run failed without a case saying so: every failed or blocked
    page of the report is one of the cases (or a link the bad-scheme feed lists)."""
    expected = {corpus.location(c) for c in CASES}
    expected.add((corpus.pages.resolve() / "loop-b.html").as_uri())  # the loop's other end
    failed = {p["location"] for p in corpus.hostile["pages"]
              if p["status"] in ("failed", "blocked")}
    assert failed <= expected, sorted(failed - expected)
    loop_b = next(p for p in corpus.hostile["pages"] if p["location"].endswith("/loop-b.html"))
    assert "symbolic link loop" in loop_b["error"]


def test_the_run_completes_and_good_pages_are_stored(corpus: Corpus) -> None:
    assert corpus.exit_code == 0, corpus.stderr[-3000:]
    pages = {p["location"]: p for p in corpus.hostile["pages"]}
    root = corpus.pages.resolve()
    assert pages[(root / "good/changing.html").as_uri()]["status"] == "changed"
    counts = corpus.hostile["run"]["counts"]
    failing = {corpus.location(c) for c in CASES if c.outcome == "failed"}
    assert counts["unchanged"] >= 2 and counts["failed"] >= len(failing) - IS_ROOT
    # the '..' SOURCE named the same directory: good pages unchanged, nothing new there
    assert pages[(root / "good/one.html").as_uri()]["status"] == "unchanged"
    assert not [p for p in pages if p.startswith(root.as_uri() + "/loop/")]
    # pages the hostile feeds and sitemaps tracked before are read all the same
    for case in SOURCES:
        tracked = pages[corpus.site.url(f"/tracked/{case.name}")]
        assert tracked["status"] == "unchanged", (case.name, tracked)
    for path in ("/p/dtd-page", "/p/scheme-good", "/p/sitemap-page"):
        assert pages[corpus.site.url(path)]["status"] == "new", path


def test_memory_stays_bounded(corpus: Corpus) -> None:
    """The hostile run (50 MB pages, 256 MB gzip bombs, a million statements, 100k levels)
    peaks well under a gigabyte."""
    print(f"hostile run peak RSS: {corpus.peak_rss_mb:.0f} MB")
    assert 0 < corpus.peak_rss_mb < RSS_LIMIT_MB


def test_nothing_stored_is_lost(corpus: Corpus) -> None:
    """Every row stored before the hostile run is byte-identical after it (and after the
    recovery run), the store is whole, and the recovery run finds the places unchanged."""
    assert corpus.baseline["run"]["counts"]["changed"] == 1
    for table, rows in corpus.before.items():
        assert rows, f"{table}: nothing stored before the hostile run"
        lost = set(rows) - set(corpus.after[table])
        assert not lost, f"{table}: {len(lost)} row(s) changed or gone, e.g. {min(lost)!r:.300}"
    lost = set(corpus.before["versions"]) - set(snapshot(corpus.db)["versions"])
    assert not lost, "the recovery run changed versions stored before the hostile run"
    with contextlib.closing(sqlite3.connect(corpus.db)) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
        secrets = conn.execute("SELECT count(*) FROM statements WHERE text LIKE '%SECRET%' "
                               "OR text LIKE '%root:x:0%'").fetchone()[0]
    assert secrets == 0, "a file outside the source directory was read"
    try:
        from briefwatch.store.integrity import check_store
    except ImportError:  # pragma: no cover - the checker is not there yet
        pass
    else:
        problems = check_store(corpus.db).errors
        assert problems == (), problems
    statuses = {p["location"]: p["status"] for p in corpus.recovery["pages"]}
    for case in LOCAL + PAGES:
        if case.name == "symlink-dir-outside" or (case.name == "unreadable" and IS_ROOT):
            continue  # not a page / read in run 2 as any other page
        status = statuses.get(corpus.location(case))
        # a page stored in run 2 goes back to the good page (version 3); a page that
        # failed was never touched: its good page is unchanged
        assert status == ("changed" if case.outcome == "stored" else "unchanged"), (
            case.name, status)
    for case in SOURCES:
        assert statuses[corpus.site.url(f"/tracked/{case.name}")] == "unchanged", case.name


def test_nothing_is_fetched_that_must_not_be(corpus: Corpus) -> None:
    """External DTDs are never fetched; a sitemap index that lists itself is read once; an
    index nested too deep is not followed to its last level."""
    assert corpus.requests["/evil.dtd"] == 0
    assert corpus.requests["/sitemaps/index-loop.xml"] == 3  # two baseline runs, one hostile
    assert corpus.requests["/sitemaps/index-loop-child.xml"] == 1
    assert corpus.requests["/sitemaps/loop-urls.xml"] == 1
    assert corpus.requests["/sitemaps/deep-3.xml"] == 0


def test_readme_lists_every_case() -> None:
    readme = (HOSTILE / "README.md").read_text()
    listed = set(re.findall(r"^\| `([a-z0-9-]+)` \|", readme, re.M))
    assert listed == {c.name for c in CASES}
    for path in (HOSTILE / "local").iterdir():
        assert any(c.where == path.name for c in LOCAL), path.name
