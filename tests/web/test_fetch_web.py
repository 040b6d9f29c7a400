"""Fetching from the web, against real HTTP servers on 127.0.0.1 that the tests start
(``tests/support/webserver.py``: one ThreadingHTTPServer per port, one port per "host").

Three layers: the pure parts (sources.toml, block pages, feeds / sitemaps / index pages,
including hostile ones); the Fetcher against the servers (statuses, conditional GET,
redirects, limits, robots.txt, per-host limits); and whole runs of ``briefwatch ingest``
through the Prefect flow, asserting what the store and the JSON report say in each case
and that nothing stored before is lost. No request is mocked. Timeouts are short.
"""

from __future__ import annotations

import gzip
import io
import itertools
import json
import re
import socket
import sqlite3
import threading
import tracemalloc
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from briefwatch.cli import main
from briefwatch.errors import SourceError
from briefwatch.pipeline import progress
from briefwatch.pipeline.web import WebItem, interleave_hosts
from briefwatch.report.registry import render
from briefwatch.store import Store
from briefwatch.web.blockpage import block_reason
from briefwatch.web.config import (
    SourceConfigError,
    load_web_config,
    parse_web_config,
    split_sources,
)
from briefwatch.web.discovery import (
    DiscoveryError,
    admitted,
    parse_feed,
    parse_index_page,
    parse_sitemap,
)
from briefwatch.web.fetch import Fetcher, FetchOptions, FetchStatus, Validators, check_url
from briefwatch.web.politeness import HostLimiter, RobotsRules
from tests.support.paths import REPO
from tests.support.webserver import Reply, Site, gzip_bomb, html, page, sequence

FAST = FetchOptions(connect_timeout=0.5, read_timeout=0.5, total_timeout=5.0, retries=1,
                    backoff_factor=0.0, per_host_delay=0.0, per_host_concurrency=4,
                    concurrency=8, max_bytes=200_000, task_retry_delay=0.0,
                    contact="briefwatch-tests@example.org")
FAST_TOML = """
[fetch]
connect_timeout = 0.5
read_timeout = 0.5
total_timeout = 5
retries = 1
backoff_factor = 0
per_host_delay = 0
per_host_concurrency = 4
concurrency = 8
max_bytes = 200000
task_retry_delay = 0
max_retry_after = 30
contact = "briefwatch-tests@example.org"
"""
BLOCK_403 = (b"<html><head><title>Access Denied</title></head><body><h1>Access Denied</h1>"
             b"You don't have permission to access \"http&#58;&#47;&#47;www&#46;defense&#46;"
             b"gov&#47;\" on this server.<p>Reference&#32;&#35;18&#46;1f2a3b</p></body></html>")
CAPTCHA_200 = (b"<html><head><title>Just a moment...</title></head><body><div id=\"cf\">"
               b"<script src=\"/cdn-cgi/challenge-platform/h/b/orchestrate/jsch/v1\"></script>"
               b"</div></body></html>")


@pytest.fixture
def site() -> Iterator[Site]:
    with Site() as server:
        yield server


@pytest.fixture
def sites() -> Iterator[list[Site]]:
    servers = [Site() for _ in range(3)]
    try:
        yield servers
    finally:
        for server in servers:
            server.close()


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


# ====================================================================== pure parts


def test_example_sources_toml_is_valid() -> None:
    config = load_web_config(REPO / "deploy" / "sources.example.toml")
    assert [s.kind for s in config.sources] == ["urls", "feed", "sitemap", "index"]
    assert config.fetch.contact == "newsroom-tools@example.org"
    assert "newsroom-tools@example.org" in config.fetch.user_agent_header()
    dod = config.sources[2]
    assert dod.max_new == 20 and admitted(
        ["https://www.defense.gov/News/Transcripts/Transcript/Article/1/",
         "https://www.defense.gov/News/Transcripts/Transcript/Article/1/?print=1",
         "https://www.defense.gov/News/Releases/"], dod.include, dod.exclude
    ) == ["https://www.defense.gov/News/Transcripts/Transcript/Article/1/"]


@pytest.mark.parametrize(("toml", "message"), [
    ("sources = 1", "unknown key(s) sources"),
    ("[fetch]\ntimeout = 3", "unknown key(s) timeout"),
    ("[fetch]\nretries = -1", "retries = -1 is not a valid value"),
    ("[fetch]\nconcurrency = 0", "concurrency must be at least 1"),
    ("[[source]]\nname = 'a'\nkind = 'rss'\nurl = 'https://x.gov/'", "kind must be one of"),
    ("[[source]]\nname = 'a'\nkind = 'feed'", "needs url ="),
    ("[[source]]\nname = 'a'\nkind = 'feed'\nurl = 'ftp://x.gov/f'", "only http and https"),
    ("[[source]]\nname = 'a'\nkind = 'index'\nurl = 'https://x.gov/'", "needs links ="),
    ("[[source]]\nname = 'a'\nkind = 'index'\nurl = 'https://x.gov/'\nlinks = 'a:hover'",
     "unsupported CSS selector syntax"),
    ("[[source]]\nname = 'a'\nkind = 'feed'\nurl = 'https://x.gov/'\ninclude = ['(']",
     "bad regular expression"),
    ("[[source]]\nname = 'a'\nkind = 'feed'\nurl = 'https://x.gov/'\nexlude = ['x']",
     "unknown key(s) exlude"),
    ("[[source]]\nname = 'a'\nkind = 'feed'\nurl = 'https://x.gov/'\nmax_new = -2",
     "max_new must be an integer >= 0"),
    ("[[source]]\nname = 'a'\nkind = 'urls'\nurls = []", "non-empty list"),
    ("[[source]]\nname = 'a b'\nkind = 'urls'\nurls = ['https://x.gov/']", "name must be"),
    ("[[source]]\nname = 'a'\nkind = 'urls'\nurls = ['https://x.gov/']\n"
     "[[source]]\nname = 'a'\nkind = 'urls'\nurls = ['https://y.gov/']", "used twice: a"),
])
def test_sources_toml_errors_name_the_problem(tmp_path: Path, toml: str, message: str) -> None:
    path = tmp_path / "sources.toml"
    path.write_text(toml)
    with pytest.raises(SourceConfigError, match=re.escape(message)):
        load_web_config(path)


def test_contact_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BRIEFWATCH_CONTACT", "ops@example.org")
    assert load_web_config(None).fetch.contact == "ops@example.org"
    config = parse_web_config({"fetch": {"contact": "own@example.org"}}, "t")
    assert config.fetch.contact == "own@example.org"  # the file wins


def test_split_sources_keeps_files_and_checks_urls() -> None:
    local, urls = split_sources(["pages", "file:///tmp/x.html", "HTTPS://Example.gov/a#top",
                                 "https://example.gov/a"])
    assert local == ["pages", "file:///tmp/x.html"]
    assert urls == ["https://example.gov/a"]
    for bad in ("ftp://example.gov/a", "javascript://alert(1)"):
        with pytest.raises(SourceError, match="only http and https"):
            split_sources([bad])


@pytest.mark.parametrize(("status", "headers", "body", "expected"), [
    (403, {}, BLOCK_403, "HTTP 403 Forbidden, Akamai block page"),
    (403, {}, b"", "HTTP 403 Forbidden"),
    (200, {}, CAPTCHA_200, "Cloudflare block page"),
    (503, {"cf-mitigated": "challenge"}, b"<html></html>", "Cloudflare challenge"),
    (200, {}, b"<html><head><title>Robot Check</title></head><body>x</body></html>",
     "block page titled 'Robot Check'"),
    (200, {}, b"<html><body><div class='g-recaptcha'></div></body></html>", "captcha page"),
    # a real article that has a newsletter form with a captcha is an article
    (200, {}, b"<html><body>" + b"<p>The minister spoke at length.</p>" * 2000
     + b"<div class='g-recaptcha'></div></body></html>", None),
    (200, {}, b"<html><head><title>Press briefing</title></head><body>Access denied to "
     b"reporters, the spokesman said.</body></html>", None),
    (500, {}, BLOCK_403, None),
])
def test_block_pages_are_recognised(status: int, headers: dict[str, str], body: bytes,
                                    expected: str | None) -> None:
    reason = block_reason(status, headers, body)
    if expected is None:
        assert reason is None
    else:
        assert reason is not None and expected in reason


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
<!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">]>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><url><loc>&lol4;</loc></url></urlset>
"""


def test_hostile_xml_is_refused_not_expanded() -> None:
    with pytest.raises(DiscoveryError, match="declares XML entities"):
        parse_sitemap(BILLION_LAUGHS, "https://x.gov/sitemap.xml")
    with pytest.raises(DiscoveryError, match="declares XML entities"):
        parse_feed(BILLION_LAUGHS.replace(b"urlset", b"rss"), "https://x.gov/feed")
    external = (b'<?xml version="1.0"?><!DOCTYPE u [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
                b"<urlset><url><loc>&e;</loc></url></urlset>")
    with pytest.raises(DiscoveryError, match="declares XML entities"):
        parse_sitemap(external, "https://x.gov/sitemap.xml")
    bomb = gzip.compress(b"<urlset>" + b" " * 5_000_000 + b"</urlset>")
    with pytest.raises(DiscoveryError, match="sitemap too large"):
        parse_sitemap(bomb, "https://x.gov/s.xml.gz", max_bytes=100_000)


def rss(*items: tuple[str, str]) -> bytes:
    entries = "".join(f"<item><title>t</title><link>{link}</link><pubDate>{date}</pubDate></item>"
                      for link, date in items)
    return (f'<?xml version="1.0"?><rss version="2.0"><channel><title>Briefings</title>'
            f"<link>http://x/</link>{entries}</channel></rss>").encode()


def test_feed_links_absolute_newest_first_and_unsafe_ones_refused() -> None:
    links = parse_feed(rss(("/news/old", "Mon, 06 Jan 2025 10:00:00 GMT"),
                           ("https://x.gov/news/new", "Tue, 07 Jan 2025 10:00:00 GMT"),
                           ("javascript:alert(1)", "Tue, 07 Jan 2025 10:00:00 GMT"),
                           ("file:///etc/passwd", "Tue, 07 Jan 2025 10:00:00 GMT"),
                           ("ftp://x.gov/pub/a.txt", "Tue, 07 Jan 2025 10:00:00 GMT")),
                       "https://x.gov/feed.xml")
    assert links.urls == ("https://x.gov/news/new", "https://x.gov/news/old")
    reasons = dict(links.rejected)
    # (feedparser tidies file:///etc/passwd into file://etc/passwd; refused all the same)
    assert sorted(r.split(":")[0] for r in reasons) == ["file", "ftp", "javascript"]
    assert all("only http and https" in r for r in reasons.values())
    atom = (b'<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><title>t</title>'
            b'<entry><title>a</title><link rel="alternate" href="b/1"/>'
            b"<updated>2025-01-01T00:00:00Z</updated></entry></feed>")
    assert parse_feed(atom, "https://x.gov/feeds/atom.xml").urls == ("https://x.gov/feeds/b/1",)
    with pytest.raises(DiscoveryError, match="not an RSS or Atom feed"):
        parse_feed(b"<html><body>no feed here</body></html>", "https://x.gov/feed")


def test_sitemap_and_index_parsing() -> None:
    index = (b'<?xml version="1.0"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/'
             b'sitemap/0.9"><sitemap><loc>/sm-old.xml</loc><lastmod>2024-01-01</lastmod>'
             b"</sitemap><sitemap><loc>/sm-new.xml</loc><lastmod>2025-01-01</lastmod>"
             b"</sitemap></sitemapindex>")
    links = parse_sitemap(index, "https://x.gov/sitemap.xml")
    assert links.urls == () and links.children == ("https://x.gov/sm-new.xml",
                                                    "https://x.gov/sm-old.xml")
    urlset = gzip.compress(b'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
                           b"<url><loc>https://x.gov/a</loc></url>"
                           b"<url><loc>https://x.gov/b</loc><lastmod>2025-02-01</lastmod></url>"
                           b"<url><loc>mailto:press@x.gov</loc></url></urlset>")
    links = parse_sitemap(urlset, "https://x.gov/sm.xml.gz")
    assert links.urls == ("https://x.gov/b", "https://x.gov/a")  # dated first
    assert [r for r, _ in links.rejected] == ["mailto:press@x.gov"]
    page_ = (b'<html><head><base href="https://x.gov/briefings/"></head><body>'
             b'<nav><a href="/about">About</a></nav><ul class="list">'
             b'<li class="item"><h2><a href="2025/one">One</a></h2></li>'
             b'<li class="item"><h2><a href="javascript:void(0)">Two</a></h2></li>'
             b'<li class="item"><h2><a href="https://y.gov/three#top">Three</a></h2></li>'
             b"</ul></body></html>")
    links = parse_index_page(page_, "https://x.gov/index", "ul.list > li.item")
    assert links.urls == ("https://x.gov/briefings/2025/one", "https://y.gov/three")
    assert [r for r, _ in links.rejected] == ["javascript:void(0)"]


def test_interleave_hosts_round_robin() -> None:
    items = [WebItem(f"http://{h}/{n}", "r") for n, h in enumerate("aaabcc")]
    order = [i.url for i in interleave_hosts(items)]
    assert order == ["http://a/0", "http://b/3", "http://c/4", "http://a/1", "http://c/5",
                     "http://a/2"]


def test_host_limiter_spaces_request_starts() -> None:
    now = [100.0]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    limiter = HostLimiter(per_host=1, min_delay=2.0, clock=lambda: now[0], sleep=sleep)
    for _ in range(3):
        with limiter.slot("a:80"):
            pass
    with limiter.slot("b:80"):  # another host does not wait
        pass
    assert slept == [2.0, 2.0]
    limiter.defer("a:80", 30.0)
    with limiter.slot("a:80"):
        pass
    assert slept[-1] == pytest.approx(30.0)


def test_robots_rules_follow_rfc_9309() -> None:
    rules = RobotsRules.from_response(200, "User-agent: briefwatch\nDisallow: /private\n"
                                           "Crawl-delay: 3\n")
    assert not rules.allows("briefwatch", "https://x.gov/private/a")
    assert rules.allows("briefwatch", "https://x.gov/public/a")
    assert rules.crawl_delay("briefwatch") == 3.0
    assert RobotsRules.from_response(404, "").allows("briefwatch", "https://x.gov/any")
    assert RobotsRules.from_response(403, "").allows("briefwatch", "https://x.gov/any")
    unavailable = RobotsRules.from_response(503, "")
    assert not unavailable.allows("briefwatch", "https://x.gov/any")
    assert unavailable.unavailable == "robots.txt answered HTTP 503"


def test_terminal_progress_line() -> None:
    out = io.StringIO()
    bar = progress.TerminalProgress(out)
    previous = progress.install(bar)
    try:
        progress.report("fetch", 0, 4)
        progress.report("fetch", 4, 4)
    finally:
        progress.install(previous)
    bar.close()
    text = out.getvalue()
    assert text.startswith("\rfetch ") and "4/4" in text and "100%" in text
    assert text.endswith("\n")


# ======================================================================== fetcher


def test_check_url_only_http_and_https() -> None:
    assert check_url(" HTTP://Example.GOV/a?b=1#frag ") == "http://example.gov/a?b=1"
    assert check_url("https://x.gov") == "https://x.gov/"
    for bad in ("file:///etc/passwd", "ftp://x.gov/a", "javascript:alert(1)", "x.gov/a",
                "http:///nohost"):
        with pytest.raises(SourceError):
            check_url(bad)


ARTICLE = html("Briefing", "The minister said 163 people were evacuated on Monday.",
               "Talks continue this week, officials said.")


def _routes(site: Site) -> None:
    site.route("/robots.txt", Reply(200, b"User-agent: *\nDisallow: /private/\n",
                                    {"Content-Type": "text/plain"}))
    site.route("/ok", Reply(200, ARTICLE, {"Content-Type": "text/html; charset=utf-8"}))
    site.route("/text", Reply(200, b"Plain text briefing.\n", {"Content-Type": "text/plain"}))
    site.route("/gone404", Reply(404, b"nope", {"Content-Type": "text/html"}))
    site.route("/gone410", Reply(410, b"", {}))
    site.route("/flaky", sequence(Reply(500), Reply(200, ARTICLE, {"Content-Type": "text/html"})))
    site.route("/down", Reply(503, b"maintenance", {"Content-Type": "text/plain"}))
    site.route("/unauthorised", Reply(401, b"", {}))
    site.route("/slow", Reply(200, ARTICLE, {"Content-Type": "text/html"}, delay=1.5))
    site.route("/trickle", Reply(200, ARTICLE * 20, {"Content-Type": "text/html"},
                                 trickle=0.3, content_length=False))
    site.route("/big", Reply(200, b"x" * 300_000, {"Content-Type": "text/html"}))
    site.route("/big-chunked", Reply(200, b"x" * 300_000, {"Content-Type": "text/html"},
                                     content_length=False))
    site.route("/bomb", gzip_bomb(100_000_000))
    site.route("/pdf", Reply(200, b"%PDF-1.7 ...", {"Content-Type": "application/pdf"}))
    site.route("/blocked", Reply(403, BLOCK_403, {"Content-Type": "text/html"}))
    site.route("/captcha", Reply(200, CAPTCHA_200, {"Content-Type": "text/html"}))
    site.route("/r1", Reply(301, b"", {"Location": "/r2"}))
    site.route("/r2", Reply(302, b"", {"Location": site.url("/r3")}))
    site.route("/r3", Reply(307, b"", {"Location": "/ok#section"}))
    site.route("/loop-a", Reply(302, b"", {"Location": "/loop-b"}))
    site.route("/loop-b", Reply(302, b"", {"Location": "/loop-a"}))
    for n in range(15):
        site.route(f"/hop{n}", Reply(302, b"", {"Location": f"/hop{n + 1}"}))
    site.route("/to-file", Reply(302, b"", {"Location": "file:///etc/passwd"}))
    site.route("/private/page", Reply(200, ARTICLE, {"Content-Type": "text/html"}))


@pytest.mark.parametrize(("path", "status", "http", "error"), [
    ("/ok", FetchStatus.OK, 200, None),
    ("/text", FetchStatus.OK, 200, None),
    ("/gone404", FetchStatus.GONE, 404, "HTTP 404 Not Found"),
    ("/gone410", FetchStatus.GONE, 410, "HTTP 410 Gone"),
    ("/flaky", FetchStatus.OK, 200, None),
    ("/down", FetchStatus.FAILED, 503, "HTTP 503 Service Unavailable after 2 attempts"),
    ("/unauthorised", FetchStatus.FAILED, 401, "HTTP 401 Unauthorized"),
    ("/slow", FetchStatus.FAILED, None, "sent nothing for 0.5 s (read timeout)"),
    ("/big", FetchStatus.FAILED, 200, "300,000 bytes declared, over the 200,000-byte limit"),
    ("/big-chunked", FetchStatus.FAILED, 200, "page too large: over 200,000 bytes"),
    ("/bomb", FetchStatus.FAILED, 200, "over 200,000 bytes after decompression (gzip)"),
    ("/pdf", FetchStatus.FAILED, 200, "unsupported content type application/pdf"),
    ("/blocked", FetchStatus.BLOCKED, 403, "blocked by the site: HTTP 403 Forbidden, Akamai"),
    ("/captcha", FetchStatus.BLOCKED, 200, "Cloudflare block page"),
    ("/loop-a", FetchStatus.FAILED, None, "redirect loop: "),
    ("/hop0", FetchStatus.FAILED, None, "too many redirects: more than 10"),
    ("/to-file", FetchStatus.FAILED, 302, "redirected to an unsupported URL 'file:///etc/passwd'"),
    ("/private/page", FetchStatus.DISALLOWED, None, "robots.txt of 127.0.0.1"),
])
def test_fetch_statuses(site: Site, path: str, status: FetchStatus, http: int | None,
                        error: str | None) -> None:
    _routes(site)
    with Fetcher(FAST) as fetcher:
        got = fetcher.fetch(site.url(path))
    assert (got.status, got.http_status) == (status, http), got.error
    if error is None:
        assert got.error is None and got.body
    else:
        assert got.error is not None and error in got.error
        assert got.body is None or got.status is FetchStatus.OK


def test_fetch_follows_redirects_and_keeps_the_final_url(site: Site) -> None:
    _routes(site)
    with Fetcher(FAST) as fetcher:
        got = fetcher.fetch(site.url("/r1"))
    assert got.status is FetchStatus.OK and got.body == ARTICLE
    assert got.final_url == site.url("/ok")
    assert got.redirects == (site.url("/r2"), site.url("/r3"), site.url("/ok"))


def test_fetch_retries_on_5xx_then_succeeds(site: Site) -> None:
    _routes(site)
    with Fetcher(FAST) as fetcher:
        got = fetcher.fetch(site.url("/flaky"))
    assert got.status is FetchStatus.OK and got.attempts == 2
    assert len(site.requests_to("/flaky")) == 2
    assert len(site.requests_to("/down")) == 0


def test_fetch_honours_retry_after(site: Site) -> None:
    site.route("/busy", sequence(Reply(429, b"", {"Retry-After": "1"}),
                                 Reply(200, ARTICLE, {"Content-Type": "text/html"})))
    site.route("/closed", Reply(429, b"", {"Retry-After": "3600"}))
    site.route("/after", Reply(200, ARTICLE, {"Content-Type": "text/html"}))
    with Fetcher(FAST) as fetcher:
        got = fetcher.fetch(site.url("/busy"))
        assert got.status is FetchStatus.OK and got.attempts == 2
        first, second = site.requests_to("/busy")
        assert second.start - first.end >= 0.9  # waited as asked, not the 0 s backoff
        refused = fetcher.fetch(site.url("/closed"))
        # asked to wait an hour: not retried, and the host is left alone for this run
        assert refused.status is FetchStatus.FAILED and refused.transient
        assert refused.error is not None and "asks to wait 3600 s (Retry-After)" in refused.error
        assert len(site.requests_to("/closed")) == 1
        later = fetcher.fetch(site.url("/after"))
        assert later.status is FetchStatus.FAILED and later.error is not None
        assert "asked to wait" in later.error and not site.requests_to("/after")


def test_fetch_conditional_get(site: Site) -> None:
    site.route("/etag", page(ARTICLE, etag='"v1"'))
    site.route("/modified", page(ARTICLE, last_modified="Wed, 01 Jan 2025 10:00:00 GMT"))
    with Fetcher(FAST) as fetcher:
        first = fetcher.fetch(site.url("/etag"))
        assert (first.status, first.etag) == (FetchStatus.OK, '"v1"')
        again = fetcher.fetch(site.url("/etag"), Validators(etag='"v1"'))
        assert again.status is FetchStatus.NOT_MODIFIED and again.body is None
        stale = fetcher.fetch(site.url("/etag"), Validators(etag='"v0"'))
        assert stale.status is FetchStatus.OK
        modified = fetcher.fetch(site.url("/modified"))
        assert modified.last_modified == "Wed, 01 Jan 2025 10:00:00 GMT"
        assert fetcher.fetch(site.url("/modified"), Validators(
            last_modified=modified.last_modified)).status is FetchStatus.NOT_MODIFIED
    assert site.requests_to("/etag")[1].headers["if-none-match"] == '"v1"'
    assert "if-none-match" not in site.requests_to("/etag")[0].headers


def test_fetch_identifies_itself(site: Site) -> None:
    _routes(site)
    with Fetcher(FAST) as fetcher:
        fetcher.fetch(site.url("/ok"))
    agent = site.requests_to("/ok")[0].headers["user-agent"]
    assert agent.startswith("briefwatch/") and "contact: briefwatch-tests@example.org" in agent
    assert site.requests_to("/robots.txt"), "robots.txt was not asked for"


def test_gzip_bomb_costs_a_chunk_not_the_bomb(site: Site) -> None:
    site.route("/bomb", gzip_bomb(200_000_000))
    with Fetcher(FAST) as fetcher:
        tracemalloc.start()
        try:
            got = fetcher.fetch(site.url("/bomb"))
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    assert got.status is FetchStatus.FAILED and got.error is not None
    assert "after decompression" in got.error
    assert peak < 5 * FAST.max_bytes + 2_000_000  # the bomb inflates to 200 MB


def test_slow_trickle_hits_the_total_timeout(site: Site) -> None:
    _routes(site)
    options = replace(FAST, total_timeout=0.5)
    with Fetcher(options) as fetcher:
        got = fetcher.fetch(site.url("/trickle"))
    assert got.status is FetchStatus.FAILED and got.error is not None
    assert "took longer than the total timeout" in got.error


def test_connection_refused_is_a_transient_failure() -> None:
    port = closed_port()
    with Fetcher(replace(FAST, respect_robots=False)) as fetcher:
        got = fetcher.fetch(f"http://127.0.0.1:{port}/page")
    assert got.status is FetchStatus.FAILED and got.transient and got.http_status is None
    assert got.error is not None and f"127.0.0.1:{port}" in got.error


def test_per_host_limits_hold_while_hosts_run_in_parallel(sites: list[Site]) -> None:
    for server in sites:
        server.latency = 0.15
        for n in range(6):
            server.route(f"/p{n}", Reply(200, ARTICLE, {"Content-Type": "text/html"}))
    options = replace(FAST, per_host_concurrency=2, concurrency=6, respect_robots=False)
    items = interleave_hosts([WebItem(s.url(f"/p{n}"), "r") for s in sites for n in range(6)])
    with Fetcher(options) as fetcher:
        results = list(fetcher.fetch_many([(i.url, None) for i in items]))
    assert all(r.status is FetchStatus.OK for r in results)
    assert [s.max_in_flight for s in sites] == [2, 2, 2]  # the limit, reached, never passed
    spans = [(r.start, r.end, n) for n, s in enumerate(sites) for r in s.seen]
    overlapping_hosts = {
        (a[2], b[2]) for a in spans for b in spans
        if a[2] < b[2] and a[0] < b[1] and b[0] < a[1]
    }
    assert overlapping_hosts == {(0, 1), (0, 2), (1, 2)}, "hosts were fetched one at a time"


def test_per_host_delay_spaces_requests(site: Site) -> None:
    for n in range(4):
        site.route(f"/p{n}", Reply(200, ARTICLE, {"Content-Type": "text/html"}))
    options = replace(FAST, per_host_concurrency=4, per_host_delay=0.2, respect_robots=False)
    with Fetcher(options) as fetcher:
        list(fetcher.fetch_many([(site.url(f"/p{n}"), None) for n in range(4)]))
    starts = sorted(s.start for s in site.seen)
    assert all(b - a >= 0.18 for a, b in itertools.pairwise(starts)), starts


def test_robots_crawl_delay_slows_the_host(site: Site) -> None:
    site.route("/robots.txt", Reply(200, b"User-agent: briefwatch\nCrawl-delay: 1\n",
                                    {"Content-Type": "text/plain"}))
    for n in range(2):
        site.route(f"/p{n}", Reply(200, ARTICLE, {"Content-Type": "text/html"}))
    with Fetcher(FAST) as fetcher:  # per_host_delay 0, but the site asks for 1 s
        list(fetcher.fetch_many([(site.url(f"/p{n}"), None) for n in range(2)]))
    first, second = sorted(s.start for s in site.seen if s.path.startswith("/p"))
    assert second - first >= 0.95


# ============================================================ whole runs (CLI + flow)


def _config(tmp_path: Path, body: str = "", name: str = "sources.toml") -> Path:
    path = tmp_path / name
    path.write_text(FAST_TOML + body)
    return path


def _run(capsys: pytest.CaptureFixture[str], db: Path, *args: str) -> dict[str, Any]:
    capsys.readouterr()
    assert main(["ingest", *args, "--db", str(db), "--format", "json"]) == 0
    report: dict[str, Any] = json.loads(capsys.readouterr().out)
    return report


def _by_location(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {p["location"]: p for p in report["pages"]}


def _count(db: Path, table: str) -> int:
    with sqlite3.connect(db) as conn:
        return int(conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0])


def _article(title: str, *sentences: str, canonical: str | None = None) -> Reply:
    return Reply(200, html(title, *sentences, canonical=canonical),
                 {"Content-Type": "text/html; charset=utf-8"})


def test_web_page_lifecycle(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Five runs over two hosts: new; all unchanged (304s, equal bytes); changed, gone,
    failed and blocked; still gone (not reported again) and back; restored with a diff."""
    db, config = tmp_path / "store.db", _config(tmp_path)
    with Site() as a, Site() as b:
        a.route("/robots.txt", Reply(200, b"User-agent: *\nDisallow: /private/\n",
                                     {"Content-Type": "text/plain"}))
        p1 = a.route("/p1", page(html("Raid briefing", "The ministry said 163 bodies were "
                                      "recovered in Mosul.", "Officials met on Tuesday."),
                                 etag='"a1"'))
        p2 = a.route("/p2", page(html("Aid briefing", "Aid convoys reached the city on "
                                      "Friday.", "The agency said more were planned."),
                                 last_modified="Wed, 01 Jan 2025 10:00:00 GMT"))
        private = a.route("/private/x", _article("Private", "Nobody should read this."))
        pdf = a.route("/doc.pdf", Reply(200, b"%PDF-1.7", {"Content-Type": "application/pdf"}))
        p3_reply = _article("Port briefing", "The port reopened on Sunday.",
                            "Ships are waiting offshore, the harbour master said.")
        p3 = b.route("/p3", p3_reply)
        p4_reply = _article("Moved briefing", "Talks resumed in Geneva.",
                            "Both delegations attended.", canonical="https://b.example/p4")
        old = b.route("/old", Reply(301, b"", {"Location": "/p4"}))
        b.route("/p4", p4_reply)
        notes = b.route("/notes.txt", Reply(200, b"Press notes\n\nThe briefing starts at "
                                            b"noon.\n", {"Content-Type": "text/plain"}))
        urls = [p1, p2, private, pdf, p3, old, notes]

        first = _run(capsys, db, *urls, "--config", str(config))
        pages = _by_location(first)
        assert first["run"]["counts"] == {"new": 5, "changed": 0, "unchanged": 0, "gone": 0,
                                          "failed": 2, "blocked": 0}
        assert "robots.txt" in pages[private]["error"] and not a.requests_to("/private/x")
        assert "unsupported content type application/pdf" in pages[pdf]["error"]
        assert pages[old]["key"] == "https://b.example/p4"  # keyed by canonical URL
        assert pages[notes]["status"] == "new"
        with Store(db) as store:
            assert store.location_state(p1).etag == '"a1"'  # type: ignore[union-attr]
            assert store.location_state(p2).last_modified == (  # type: ignore[union-attr]
                "Wed, 01 Jan 2025 10:00:00 GMT")
            moved = store.web_url(old)
            assert moved is not None and moved["final_url"] == b.url("/p4")
            assert json.loads(moved["redirects"]) == [b.url("/p4")]
            assert moved["http_status"] == 200 and moved["source"] is None

        second = _run(capsys, db, *urls, "--config", str(config))
        pages = _by_location(second)
        assert second["run"]["counts"]["unchanged"] == 5
        assert all(pages[u]["skipped_parse"] for u in (p1, p2, p3, old, notes))
        assert a.requests_to("/p1")[-1].headers["if-none-match"] == '"a1"'
        assert a.requests_to("/p2")[-1].headers["if-modified-since"] == (
            "Wed, 01 Jan 2025 10:00:00 GMT")
        with Store(db) as store:
            assert store.web_url(p1)["outcome"] == "not_modified"  # type: ignore[index]
            assert store.web_url(p3)["outcome"] == "ok"  # type: ignore[index]
        versions, blobs = _count(db, "versions"), _count(db, "blobs")

        a.route("/p1", page(html("Raid briefing", "The ministry said 170 bodies were "
                                 "recovered in Mosul.", "Officials met on Tuesday."),
                            etag='"a2"'))
        a.route("/p2", Reply(404, b"<html><body>Page not found</body></html>",
                             {"Content-Type": "text/html"}))
        b.route("/p3", Reply(500, b"oops", {"Content-Type": "text/plain"}))
        b.route("/p4", Reply(403, BLOCK_403, {"Content-Type": "text/html"}))
        third = _run(capsys, db, *urls, "--config", str(config))
        pages = _by_location(third)
        assert third["run"]["counts"] == {"new": 0, "changed": 1, "unchanged": 1, "gone": 1,
                                          "failed": 3, "blocked": 1}
        [change] = pages[p1]["changes"]
        assert change["numbers"] == [{"old": "163", "new": "170"}]
        assert (pages[p2]["status"], pages[p2]["note"]) == ("gone", "HTTP 404 Not Found")
        assert pages[p2]["version"] == 1  # history kept
        assert pages[p3]["status"] == "failed" and pages[p3]["changes"] == []
        assert "HTTP 500 Internal Server Error after 2 attempts" in pages[p3]["error"]
        assert pages[old]["status"] == "blocked" and pages[old]["key"] == "https://b.example/p4"
        assert "Akamai" in pages[old]["error"] and pages[old]["version"] == 1
        assert _count(db, "versions") == versions + 1  # only p1's new version
        with Store(db) as store:
            for key in (p3, "https://b.example/p4"):
                latest = store.latest_document(key)
                assert latest is not None and latest.number == 1
            history = store.history(p1)
            assert [v.number for v in history] == [2, 1]
            assert b"163 bodies" in store.load_raw(history[1].version_id)
            assert store.location_state(p1).etag == '"a2"'  # type: ignore[union-attr]
        assert _count(db, "blobs") == blobs + 1
        text, page_html = render(third, "text"), render(third, "html")
        assert "3 failed, 1 blocked" in text and "blocked by the site" in text
        assert "1 page(s) blocked" in page_html and "Akamai" in page_html

        b.route("/p3", p3_reply)
        b.route("/p4", p4_reply)
        fourth = _run(capsys, db, *urls, "--config", str(config))
        pages = _by_location(fourth)
        assert p2 not in pages, "a page that is still gone is reported once, not every run"
        assert fourth["run"]["counts"]["gone"] == 0
        assert pages[p3]["status"] == "unchanged" and pages[old]["status"] == "unchanged"

        a.route("/p2", page(html("Aid briefing", "Aid convoys reached the city on Saturday.",
                                 "The agency said more were planned."),
                            last_modified="Thu, 02 Jan 2025 10:00:00 GMT"))
        fifth = _run(capsys, db, *urls, "--config", str(config))
        back = _by_location(fifth)[p2]
        assert (back["status"], back["note"]) == ("changed", "restored")
        assert (back["previous_version"], back["version"]) == (1, 2)
        [edit] = back["changes"]
        assert "Friday" in edit["old"] and "Saturday" in edit["new"]
        with Store(db) as store:
            assert {p.key: p.status for p in store.pages()}[p2] == "active"


def _rss(base: str, *items: tuple[str, str]) -> Reply:
    return Reply(200, rss(*((base + link if link.startswith("/") else link, date)
                            for link, date in items)),
                 {"Content-Type": "application/rss+xml"})


def _urlset(*entries: tuple[str, str]) -> bytes:
    urls = "".join(f"<url><loc>{loc}</loc><lastmod>{mod}</lastmod></url>" for loc, mod in entries)
    return (f'<?xml version="1.0" encoding="UTF-8"?><urlset xmlns="http://www.sitemaps.org/'
            f'schemas/sitemap/0.9">{urls}</urlset>').encode()


def test_sources_discover_track_and_limit(tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "store.db"
    with Site() as s:
        for name in ("f1", "f2", "f3", "t1", "t2", "t3", "t4", "b1", "b2", "other"):
            s.route(f"/{name[0]}/{name}", _article(f"Page {name}", f"Statement of page {name}.",
                                                   f"A second sentence on {name}."))
        s.route("/feed.xml", _rss(s.origin, ("/f/f1", "Mon, 06 Jan 2025 10:00:00 GMT"),
                                  ("/f/f2", "Tue, 07 Jan 2025 10:00:00 GMT"),
                                  ("javascript:alert(1)", "Tue, 07 Jan 2025 10:00:00 GMT"),
                                  ("file:///etc/passwd", "Tue, 07 Jan 2025 10:00:00 GMT"),
                                  ("/o/other", "Tue, 07 Jan 2025 10:00:00 GMT")))
        s.route("/sitemap.xml", Reply(200, (
            '<?xml version="1.0"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/'
            f'sitemap/0.9"><sitemap><loc>{s.url("/sm1.xml")}</loc></sitemap>'
            f'<sitemap><loc>{s.url("/sm2.xml.gz")}</loc></sitemap></sitemapindex>').encode(),
            {"Content-Type": "application/xml"}))
        s.route("/sm1.xml", Reply(200, _urlset((s.url("/t/t1"), "2024-01-01"),
                                               (s.url("/t/t2"), "2024-03-01"),
                                               (s.url("/t/t2") + "?print=1", "2024-05-01")),
                                  {"Content-Type": "application/xml"}))
        s.route("/sm2.xml.gz", Reply(200, gzip.compress(_urlset(
            (s.url("/t/t3"), "2024-02-01"), (s.url("/t/t4"), "2024-04-01"))),
            {"Content-Type": "application/x-gzip"}))
        s.route("/evil.xml", Reply(200, BILLION_LAUGHS, {"Content-Type": "application/xml"}))
        s.route("/briefings/", Reply(200, (
            b'<html><body><nav><a href="/about">About</a></nav><ul class="list">'
            b'<li class="item"><a href="/b/b1">One</a></li>'
            b'<li class="item"><a href="../b/b2">Two</a></li></ul></body></html>'),
            {"Content-Type": "text/html"}))
        config = _config(tmp_path, f"""
[[source]]
name = "feed"
kind = "feed"
url = "{s.url('/feed.xml')}"
exclude = ["/o/"]

[[source]]
name = "sitemap"
kind = "sitemap"
url = "{s.url('/sitemap.xml')}"
exclude = ["\\\\?"]
max_new = 2

[[source]]
name = "index"
kind = "index"
url = "{s.url('/briefings/')}"
links = "ul.list li.item a"

[[source]]
name = "evil"
kind = "sitemap"
url = "{s.url('/evil.xml')}"
""")
        first = _run(capsys, db, "--config", str(config))
        pages = _by_location(first)
        new = sorted(u.rsplit("/", 1)[1] for u, p in pages.items() if p["status"] == "new")
        assert new == ["b1", "b2", "f1", "f2", "t2", "t4"]  # sitemap: the 2 newest
        refused = {u: p["error"] for u, p in pages.items() if p["status"] == "failed"}
        assert "javascript:alert(1)" in refused, pages
        assert refused["javascript:alert(1)"].startswith("source feed: link refused:")
        [file_link] = [u for u in refused if u.startswith("file:")]
        assert "only http and https" in refused[file_link]
        assert "declares XML entities" in refused[s.url("/evil.xml")]
        assert len(refused) == 3 and not s.requests_to("/o/other")
        assert not s.requests_to("/t/t2?print=1")

        # the feed moves on: f1 and f2 drop out of it but stay tracked; the sitemap's other
        # two pages come in on this run
        s.route("/feed.xml", _rss(s.origin, ("/f/f3", "Wed, 08 Jan 2025 10:00:00 GMT")))
        second = _run(capsys, db, "--config", str(config))
        status = {u.rsplit("/", 1)[1]: p["status"] for u, p in _by_location(second).items()
                  if u.startswith("http") and "/evil" not in u}
        assert status == {"f1": "unchanged", "f2": "unchanged", "f3": "new", "t1": "new",
                          "t2": "unchanged", "t3": "new", "t4": "unchanged",
                          "b1": "unchanged", "b2": "unchanged"}
        with Store(db) as store:
            assert len(store.tracked_urls("sitemap")) == 4
            assert store.tracked_urls("feed") == [s.url(f"/f/f{n}") for n in (2, 1, 3)]


def test_failures_lose_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Every way a fetch can fail, after a good first run: each page is failed with its
    reason, nothing stored is touched, and the next good run finds them unchanged."""
    db = tmp_path / "store.db"
    names = ("slow", "big", "bomb", "loop", "throttled", "down", "pdf")
    # the throttled page lives on its own host: a long Retry-After puts its whole host aside
    # for the run, which must not race with the other pages' outcomes
    with Site() as s, Site() as t:

        def site(name: str) -> Site:
            return t if name == "throttled" else s

        good = {n: _article(f"Briefing {n}", f"The {n} statement was made on Monday.",
                            f"Officials discussed {n} issues.") for n in names}
        urls = [site(n).route(f"/{n}", good[n]) for n in names]
        config = _config(tmp_path)
        first = _run(capsys, db, *urls, "--config", str(config))
        assert first["run"]["counts"]["new"] == len(names)
        versions, statements = _count(db, "versions"), _count(db, "statements")
        with Store(db) as store:
            before = {u: store.latest_document(u) for u in urls}

        s.route("/slow", Reply(200, b"", {}, delay=1.5))
        s.route("/big", Reply(200, b"<p>x</p>" * 40_000, {"Content-Type": "text/html"}))
        s.route("/bomb", gzip_bomb(50_000_000))
        s.route("/loop", Reply(302, b"", {"Location": "/loop"}))
        t.route("/throttled", Reply(429, b"", {"Retry-After": "7200"}))
        s.route("/down", Reply(503, b"", {}))
        s.route("/pdf", Reply(200, b"%PDF-1.7", {"Content-Type": "application/pdf"}))
        second = _run(capsys, db, *urls, "--config", str(config))
        pages = _by_location(second)
        assert second["run"]["counts"]["failed"] == len(names)
        errors = {n: pages[site(n).url(f"/{n}")]["error"] for n in names}
        assert "read timeout" in errors["slow"]
        assert "over the 200,000-byte limit" in errors["big"]
        assert "after decompression" in errors["bomb"]
        assert "redirect loop" in errors["loop"]
        assert "Retry-After" in errors["throttled"]
        assert "HTTP 503" in errors["down"]
        assert "unsupported content type application/pdf" in errors["pdf"]
        for url in urls:
            assert pages[url]["changes"] == [] and pages[url]["version"] == 1
        assert (_count(db, "versions"), _count(db, "statements")) == (versions, statements)
        with Store(db) as store:
            for url in urls:
                latest = store.latest_document(url)
                assert latest is not None and before[url] is not None
                assert latest.content_hash == before[url].content_hash  # type: ignore[union-attr]
                state = store.location_state(url)
                assert state is not None and state.status == "active"

        for n in names:
            site(n).route(f"/{n}", good[n])
        third = _run(capsys, db, *urls, "--config", str(config))
        assert third["run"]["counts"]["unchanged"] == len(names)


class _Hangup:
    """A server that accepts connections and closes them at once (counts them)."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.accepted = 0
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.accepted += 1
            conn.recv(65536)
            conn.close()

    def close(self) -> None:
        self.sock.close()


def test_lost_connections_retry_the_batch_once(tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    """urllib3 retries each request (retries = 1: two tries); Prefect retries a batch whose
    every page lost its connection once (task_retries = 1): four tries in all, no more."""
    server = _Hangup()
    try:
        db = tmp_path / "store.db"
        config = _config(tmp_path, "respect_robots = false\nbatch_size = 5\n")
        url = f"http://127.0.0.1:{server.port}/page"
        report = _run(capsys, db, url, "--config", str(config))
    finally:
        server.close()
    [page_] = report["pages"]
    assert page_["status"] == "failed" and "127.0.0.1" in page_["error"]
    assert server.accepted == 4


def test_progress_is_reported_while_fetching(tmp_path: Path) -> None:
    from briefwatch.flows.ingest import ingest

    seen: list[tuple[str, int, int]] = []
    with Site() as s:
        urls = [s.route(f"/p{n}", _article(f"Page {n}", f"Sentence number {n} here.",
                                           "Another sentence."))
                for n in range(5)]
        config = _config(tmp_path, "batch_size = 2\n")
        previous = progress.install(lambda *args: seen.append(args))
        try:
            ingest(urls, db_path=str(tmp_path / "s.db"), config=str(config),
                   publish_artifacts=False)
        finally:
            progress.install(previous)
    assert seen[0] == ("fetch", 0, 5) and seen[-1] == ("fetch", 5, 5)
    assert [done for _, done, _ in seen] == [0, 2, 4, 5]


@pytest.mark.parametrize(("args", "message"), [
    (["ftp://example.gov/a"], "only http and https"),
    (["--config", "/nonexistent/sources.toml"], "cannot read /nonexistent/sources.toml"),
    ([], "no SOURCE given"),
])
def test_ingest_refuses_unusable_arguments(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                           args: list[str], message: str) -> None:
    assert main(["ingest", *args, "--db", str(tmp_path / "s.db")]) == 2
    assert message in capsys.readouterr().err
