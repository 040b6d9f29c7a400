"""Reports are inert (issue 7): every renderer that shows page content — terminal text,
Markdown (the report, `diff`, and the Prefect Markdown and table artifacts), HTML (report,
history, diff, speaker, search), the Atom feed, JSON — shows hostile content as text: no
markup, link, script or remote resource of its own, no terminal escape, no bidirectional
override, and the content is still there to read.

One hostile fixture: tests/fixtures/hostile (pages whose titles, statements, speakers and
URLs carry the payloads of payloads.json; a page that fails to parse), ingested v1 then v2
by the CLI (``hostile_db``), plus review notes carrying every payload. Fields a real store
cannot fill with arbitrary text (speaker names, error messages: the parsers and the fetcher
produce them) get the payloads in a synthetic report of the JSON report's shape.
"""

from __future__ import annotations

import contextlib
import io
import json
import re
import shutil
import sqlite3
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import lxml.html
import pytest
from markdown_it import MarkdownIt
from markdown_it.token import Token

from briefwatch.cli import main
from briefwatch.report.artifact import prefect_table_rows
from briefwatch.report.atom import ATOM, FeedOptions, build_feed
from briefwatch.report.registry import render
from tests.support.htmlcheck import assert_inert
from tests.support.paths import FIXTURES

PAYLOADS: dict[str, str] = json.loads((FIXTURES / "hostile" / "payloads.json").read_text())
# what no output may carry raw: C0/C1 controls but newline and tab, bidi overrides/isolates
UNSAFE_CHARS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
# what a GFM renderer links in plain text (Prefect's UI uses marked with gfm on)
GFM_BARE_LINK = re.compile(r"(?i)\b(?:https?|ftp)://|\bwww\.|[\w.+-]+@[\w-]+\.\w")
LIVE_MD_TOKENS = {"html_block", "html_inline", "link_open", "image", "table_open", "hr"}
# payloads with nothing a renderer must replace: each must still be readable, as it was
READABLE = [k for k, v in PAYLOADS.items() if not UNSAFE_CHARS.search(v)]
ALL = " ".join(PAYLOADS.values())
SYNTHETIC_ALL = ALL + " nul \x00 soh \x01 vt \x0b not-a-char \ufffe end"  # past XML 1.0
NS = {"a": ATOM}


def _flat(text: str) -> str:
    return " ".join(text.split())


# ---------------------------------------------------------------------------- checks


def check_text(out: str, readable: list[str]) -> None:
    assert not UNSAFE_CHARS.search(out), repr(UNSAFE_CHARS.search(out))
    flat = _flat(out)
    for name in readable:
        assert _flat(PAYLOADS[name]) in flat, f"{name} not readable in:\n{out[:3000]}"


def _inline_text(token: Token) -> str:
    return "".join(c.content for c in token.children or () if c.type in ("text", "code_inline"))


def check_markdown(md: str, readable: list[str], *, block: bool = True) -> None:
    """Parsed as CommonMark with raw HTML allowed (the most a renderer would do) plus GFM
    tables and strike-through: no HTML, link, image, table or rule token; no text a GFM
    renderer would turn into a link; headings only where briefwatch writes them; every
    ``readable`` payload in the text a reader sees."""
    assert not UNSAFE_CHARS.search(md), repr(UNSAFE_CHARS.search(md))
    parser = MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])
    shown = []
    for token in parser.parse(md):
        assert token.type not in LIVE_MD_TOKENS, (token.type, token.content[:200])
        for child in token.children or ():
            assert child.type not in LIVE_MD_TOKENS, (child.type, child.content[:200])
            if child.type == "text":
                assert not GFM_BARE_LINK.search(child.content), child.content[:200]
        if token.type == "inline":
            shown.append(_inline_text(token))
        if token.type == "heading_open":
            assert block, "a heading in a table cell"
    if block:  # page content never starts a line: each line is briefwatch's own
        for line in md.splitlines():
            assert re.match(r"(#{1,2} | *- |`|_|$)", line), line
    text = _flat(" ".join(shown))
    for name in readable:
        assert _flat(PAYLOADS[name]) in text, f"{name} not readable in:\n{text[:3000]}"


def check_html(html: str, readable: list[str], page_urls: set[str]) -> lxml.html.HtmlElement:
    doc = assert_inert(html, payloads=tuple(PAYLOADS[n] for n in readable))
    assert not UNSAFE_CHARS.search(doc.text_content())
    assert not doc.xpath("//@style"), "a style attribute (ours are in the one <style>)"
    for href in doc.xpath("//a/@href"):  # only the pages' own http(s)/file URLs, or anchors
        assert href.startswith("#") or href in page_urls, href
    return doc


def check_atom(raw: bytes, page_urls: set[str], readable: list[str]) -> None:
    """Well-formed; no control characters in titles and summaries; links only to the pages'
    own http(s) URLs; the HTML content inert (only briefwatch's own few tags, no attribute
    but class); ``readable`` payloads in what a reader shows."""
    feed = ET.fromstring(raw)  # well-formed whatever the content
    assert b"<![CDATA[" not in raw
    shown = []
    for entry in feed.findall("a:entry", NS):
        shown.append(entry.findtext("a:title", "", NS))
        for name in ("title", "summary", "id"):
            assert not UNSAFE_CHARS.search(entry.findtext(f"a:{name}", "", NS))
        for link in entry.findall("a:link", NS):
            assert link.get("href") in page_urls
        content = entry.find("a:content", NS)
        assert content is not None and content.get("type") == "html"
        fragment = lxml.html.fragment_fromstring(content.text or "", create_parent="div")
        for element in fragment.iter():
            assert element.tag in {"div", "p", "ul", "li", "b", "br", "del", "ins", "span", "s"}, (
                element.tag)
            assert not [a for a in element.attrib if a != "class"], element.attrib
        assert not UNSAFE_CHARS.search(fragment.text_content())
        shown.append(fragment.text_content())
    text = _flat(" ".join(shown))
    for name in readable:
        assert _flat(PAYLOADS[name]) in text, f"{name} not readable in:\n{text[:3000]}"


def check_json(out: str, expected: Any = None) -> None:
    data = json.loads(out)
    out.encode("utf-8")  # writable as UTF-8
    if expected is not None:
        assert data == expected


# ----------------------------------------------------------------- synthetic report


def _change(**fields: Any) -> dict[str, Any]:
    base = {"id": None, "type": "added", "kind": "quote", "speaker": SYNTHETIC_ALL,
            "old_speaker": None, "old": None, "new": None, "numbers": [], "words": [],
            "position": 1, "old_position": None, "significance": "high",
            "significance_reason": SYNTHETIC_ALL, "review_status": "flagged",
            "review_note": SYNTHETIC_ALL, "reviewer": SYNTHETIC_ALL}
    return base | fields


def synthetic_report() -> dict[str, Any]:
    """Every field a renderer shows carrying every payload (and characters XML 1.0 has no
    room for); the page URLs are hostile too."""
    url = "https://example.org/brief?a=1&b=\"><script>document.title='PWNED'</script>"
    changes = [
        _change(id=1, type="changed", old_speaker=SYNTHETIC_ALL, old=f"It was 163. {ALL}",
                new=f"It was 170. {ALL}", numbers=[{"old": "163", "new": SYNTHETIC_ALL}],
                words=[["equal", "It was"], ["delete", f"163. {ALL}"],
                       ["insert", f"170. {SYNTHETIC_ALL}"], ["equal", "end"]]),
        _change(id=2, type="added", new=SYNTHETIC_ALL, position=2),
        _change(id=3, type="removed", old=SYNTHETIC_ALL, position=3),
        _change(id=4, type="reattributed", old_speaker=ALL, old="Same.", new="Same.",
                position=4),
        _change(id=5, type="moved", old=SYNTHETIC_ALL, new=SYNTHETIC_ALL, position=5,
                old_position=9, significance="low"),
        _change(id=6, type="changed", old=SYNTHETIC_ALL, new=f"{SYNTHETIC_ALL} more",
                position=6),
    ]
    page = {"url": url, "key": url, "title": SYNTHETIC_ALL, "status": "changed",
            "version": 2, "previous_version": 1, "significance": "high",
            "title_change": {"old": SYNTHETIC_ALL, "new": ALL},
            "metadata_changes": {"values_changed": {"root['byline']": {
                "old_value": SYNTHETIC_ALL, "new_value": "B"}}},
            "error": None, "changes": changes}
    other = {"url": None, "title": None, "version": None, "previous_version": None,
             "significance": None, "title_change": None, "metadata_changes": {},
             "changes": []}
    return {
        "run": {"id": 7, "started_at": "2026-01-01T00:00:00Z",
                "finished_at": "2026-01-01T00:01:00Z", "flow_run_id": SYNTHETIC_ALL,
                "status": "completed", "sources": [ALL],
                "counts": {"new": 1, "changed": 1, "unchanged": 0, "gone": 1, "failed": 1,
                           "blocked": 1}},
        "pages": [
            page,
            other | {"key": "javascript:document.title='PWNED'", "title": SYNTHETIC_ALL,
                     "url": "javascript:document.title='PWNED'", "status": "new", "version": 1,
                     "significance": "medium",
                     "changes": [_change(new=f"{SYNTHETIC_ALL} {i}", position=i)
                                 for i in range(3)]},
            other | {"key": "data:text/html,<script>document.title='PWNED'</script>",
                     "status": "gone", "version": 3, "previous_version": 3,
                     "significance": "high", "title": SYNTHETIC_ALL},
            other | {"key": "file:///x/failed.txt", "status": "failed", "error": SYNTHETIC_ALL},
            other | {"key": "https://blocked.example/", "status": "blocked",
                     "error": SYNTHETIC_ALL},
        ],
    }


SYNTHETIC_URLS = {"https://example.org/brief?a=1&b=\"><script>document.title='PWNED'</script>",
                  "https://blocked.example/", "file:///x/failed.txt"}


@pytest.mark.parametrize("kind", ["ingest", "reparse"])
@pytest.mark.parametrize("fmt", ["text", "markdown", "html", "json", "atom", "table"])
def test_synthetic_report(fmt: str, kind: str) -> None:
    """An ingest run's report, and a reparse run's (its text and Markdown renderers are
    briefwatch.report.reparse's)."""
    report = synthetic_report()
    report["run"]["kind"] = kind
    if fmt == "text":
        check_text(render(report, "text"), READABLE)
    elif fmt == "markdown":
        check_markdown(render(report, "markdown"), READABLE)
    elif fmt == "html":
        check_html(render(report, "html"), READABLE, SYNTHETIC_URLS)
    elif fmt == "json":
        check_json(render(report, "json"), expected=report)
    elif fmt == "atom":
        raw = build_feed([report], FeedOptions(feed_id="urn:uuid:" + str(uuid.uuid4())),
                         now="2026-01-02T03:04:05Z")
        check_atom(raw, SYNTHETIC_URLS, READABLE)
    else:
        rows = prefect_table_rows(report)
        assert [r["status"] for r in rows] == ["changed", "new", "gone", "failed", "blocked"]
        for row in rows:
            for value in row.values():
                if isinstance(value, str):
                    check_markdown(value, [], block=False)
        check_markdown(rows[0]["title"], READABLE, block=False)
        check_markdown(rows[3]["error"], READABLE, block=False)


# --------------------------------------------------------------- the hostile store


@pytest.fixture(scope="module")
def hostile_store(hostile_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of ``hostile_db`` whose every change has a review carrying every payload."""
    copy = tmp_path_factory.mktemp("inert") / "briefwatch.db"
    for suffix in ("", "-wal"):
        if Path(f"{hostile_db}{suffix}").exists():
            shutil.copyfile(f"{hostile_db}{suffix}", f"{copy}{suffix}")
    with contextlib.closing(sqlite3.connect(copy)) as conn:
        ids = [row[0] for row in conn.execute("SELECT id FROM changes ORDER BY id")]
    assert ids
    for change_id in ids:
        _cli("review", str(change_id), "--db", str(copy), "--status", "flagged",
             "--note", ALL, "--by", ALL)
    return copy


def _strings(data: Any) -> Iterator[str]:
    """Every string in a JSON document."""
    if isinstance(data, str):
        yield data
    elif isinstance(data, dict):
        for value in data.values():
            yield from _strings(value)
    elif isinstance(data, list):
        for value in data:
            yield from _strings(value)


def _cli(*argv: str) -> str:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(list(argv)) == 0, argv
    return out.getvalue()


def _page_urls(db: Path) -> set[str]:
    with contextlib.closing(sqlite3.connect(db)) as conn:
        return {row[0] for row in conn.execute("SELECT key FROM pages")}


def _key(db: Path, name: str) -> str:
    with contextlib.closing(sqlite3.connect(db)) as conn:
        keys = [row[0] for row in conn.execute("SELECT key FROM pages")]
    return next(k for k in keys if name in k)


# view -> (CLI arguments after --db, payloads that must be readable in it)
VIEWS: dict[str, tuple[list[str], list[str]]] = {
    "report": (["report"], ["md_image", "html_comment", "base", "script"]),
    "history-markup": (["history", "@hostile-markup"], ["md_js_link", "md_image", "css",
                                                          "table_pipes", "heading"]),
    "history-page": (["history", "@example.org/brief"], ["md_js_link", "md_image"]),
    "diff-markup": (["diff", "@hostile-markup"], ["md_image", "html_comment", "base"]),
    "said": (["said", "smith"], ["md_js_link", "md_image", "www_url", "email",
                                 "style_attr", "data_link", "cdata_end"]),
    "search": (["search", "ministry"], ["md_image", "meta_refresh"]),
}
FORMATS = {"report": ["text", "markdown", "json", "html"],
           "history-markup": ["text", "json", "html"], "history-page": ["text", "json", "html"],
           "diff-markup": ["text", "markdown", "json", "html"],
           "said": ["text", "json", "html"], "search": ["text", "json", "html"]}


@pytest.mark.parametrize(("view", "fmt"), [(v, f) for v, fs in FORMATS.items() for f in fs])
def test_hostile_store_views(hostile_store: Path, view: str, fmt: str) -> None:
    args, readable = VIEWS[view]
    args = [_key(hostile_store, a[1:]) if a.startswith("@") else a for a in args]
    out = _cli(*args, "--db", str(hostile_store), "--format", fmt)
    if fmt == "text":
        check_text(out, readable)
    elif fmt == "markdown":
        check_markdown(out, readable)
    elif fmt == "html":
        check_html(out, readable, _page_urls(hostile_store))
    else:
        check_json(out)
        text = _flat(" ".join(_strings(json.loads(out))))
        for name in readable:
            assert _flat(PAYLOADS[name]) in text, name


def test_hostile_store_review_and_pages(hostile_store: Path) -> None:
    check_text(_cli("review", "2", "--db", str(hostile_store), "--status", "flagged",
                    "--note", ALL), READABLE)
    check_text(_cli("review", "1", "--db", str(hostile_store)), READABLE)
    check_json(_cli("review", "1", "--db", str(hostile_store), "--format", "json"))
    check_text(_cli("pages", "--db", str(hostile_store)), ["md_js_link", "md_image"])
    check_json(_cli("pages", "--db", str(hostile_store), "--format", "json"))


def test_hostile_store_feed(hostile_store: Path, tmp_path: Path) -> None:
    target = tmp_path / "feed.xml"
    _cli("feed", "--db", str(hostile_store), "-o", str(target))
    raw = target.read_bytes()
    check_atom(raw, _page_urls(hostile_store), ["md_js_link", "md_image", "html_comment",
                                                "base", "script"])


# ------------------------------------------------------ what Prefect actually stores


@pytest.fixture(scope="module")
def artifacts(hostile_db: Path) -> Iterator[list[Any]]:
    """The artifacts the flow runs that built ``hostile_db`` published, read back through
    the Prefect client (the test session's ephemeral API)."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId

    with contextlib.closing(sqlite3.connect(hostile_db)) as conn:
        flow_runs = [uuid.UUID(row[0]) for row in conn.execute(
            "SELECT flow_run_id FROM runs WHERE flow_run_id IS NOT NULL ORDER BY id")]
    assert len(flow_runs) == 2
    with get_client(sync_client=True) as client:
        found = client.read_artifacts(artifact_filter=ArtifactFilter(
            flow_run_id=ArtifactFilterFlowRunId(any_=flow_runs)))
    yield found


def test_prefect_markdown_artifacts_are_inert(artifacts: list[Any]) -> None:
    reports = [a for a in artifacts if a.type == "markdown"]
    assert len(reports) == 2
    for artifact in reports:
        check_markdown(artifact.data, [])
    latest = max(reports, key=lambda a: a.created)
    check_markdown(latest.data, ["md_image", "html_comment", "base"])
    assert "\\[click\\](javascript:" in latest.data  # escaped, as Prefect keeps it


def test_prefect_table_artifacts_are_inert(artifacts: list[Any]) -> None:
    """Prefect's UI renders each string cell of a table artifact as Markdown."""
    tables = [a for a in artifacts if a.type == "table"]
    assert len(tables) == 2
    cells = []
    for artifact in tables:
        rows = json.loads(artifact.data) if isinstance(artifact.data, str) else artifact.data
        for row in rows:
            cells += [v for v in row.values() if isinstance(v, str)]
    for cell in cells:
        check_markdown(cell, [], block=False)
    titles = " ".join(cells)
    assert "\\[click\\](javascript:document.title='PWNED')" in titles
    assert "`https://example.org/brief?a=1&b=`\"\\>\\<script\\>document.title" in titles
