"""The Atom feed: valid Atom 1.0 (RFC 4287) structure, stable entry ids, everything escaped."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from briefwatch.diff.significance import Level
from briefwatch.report.atom import ATOM, FeedOptions, build_feed, entry_id, feed_id_for
from briefwatch.store import Store
from tests.report.test_report_html import XSS, hostile_report
from tests.support.htmlcheck import assert_inert

NS = {"a": ATOM}
RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")
OPTIONS = FeedOptions(feed_id="urn:uuid:6f1c1d43-2f4c-4b5f-9c0e-0d7e2b0b9a11")


def _feed(reports: list[dict[str, Any]], options: FeedOptions = OPTIONS) -> ET.Element:
    return ET.fromstring(build_feed(reports, options, now="2026-01-02T03:04:05Z"))


def assert_valid_atom(feed: ET.Element) -> None:
    """The RFC 4287 requirements a validator checks first."""
    assert feed.tag == f"{{{ATOM}}}feed"
    for name in ("id", "title", "updated"):
        assert len(feed.findall(f"a:{name}", NS)) == 1, name
    assert RFC3339.match(feed.findtext("a:updated", namespaces=NS) or "")
    feed_has_author = feed.find("a:author/a:name", NS) is not None
    ids = []
    for entry in feed.findall("a:entry", NS):
        for name in ("id", "title", "updated"):
            assert len(entry.findall(f"a:{name}", NS)) == 1, name
        assert RFC3339.match(entry.findtext("a:updated", namespaces=NS) or "")
        assert feed_has_author or entry.find("a:author", NS) is not None
        has_alternate = any(link.get("rel", "alternate") == "alternate"
                            for link in entry.findall("a:link", NS))
        assert has_alternate or entry.find("a:content", NS) is not None
        for link in entry.findall("a:link", NS):
            assert link.get("href", "").startswith(("http://", "https://"))
        ids.append(entry.findtext("a:id", namespaces=NS))
        assert (ids[-1] or "").startswith("urn:uuid:")
    assert len(ids) == len(set(ids)), "entry ids repeat"


def test_hostile_report_feed_is_valid_and_escaped() -> None:
    report = hostile_report()
    report["pages"][0]["changes"][4]["new"] = "nul \x00 esc \x1b and \ufffe end"
    raw = build_feed([report], OPTIONS, now="2026-01-02T03:04:05Z")
    feed = ET.fromstring(raw)  # well-formed despite the control characters
    assert_valid_atom(feed)
    entries = feed.findall("a:entry", NS)
    # changed, new and gone pages; not the failed or the unchanged one
    assert [e.findtext("a:title", namespaces=NS) for e in entries] == [
        f"Changed: Title {XSS} (v1 → v2)", "Gone: Gone",
        "New: data:text/html,<script>document.title='PWNED'</script>"]
    changed = entries[0]
    # no alternate link: its URL is javascript:; the gone page's http URL is a link
    assert changed.find("a:link", NS) is None
    terms = {c.get("term") for c in changed.findall("a:category", NS)}
    assert terms == {"changed", "high"}
    content = changed.find("a:content", NS)
    assert content is not None and content.get("type") == "html"
    html = f"<html><head><title>briefwatch</title><style></style></head><body>{content.text}" \
           "</body></html>"
    doc = assert_inert(html, payloads=(XSS, "nul \ufffd esc \ufffd and  end"))
    assert "163" in [d.text_content() for d in doc.xpath("//li//del")]


def test_demo_feed(demo_db: Path) -> None:
    with Store(demo_db, create=False) as store:
        reports = [store.run_report(run.id) for run in store.runs()]
    feed = _feed(reports)
    assert_valid_atom(feed)
    entries = feed.findall("a:entry", NS)
    # run 2: three changed pages; run 1: three new pages
    assert [e.findtext("a:title", namespaces=NS).split(":")[0] for e in entries] == [
        "Changed"] * 3 + ["New"] * 3
    gaggle = next(e for e in entries if "Press Gaggle" in e.findtext("a:title", namespaces=NS))
    [link] = gaggle.findall("a:link", NS)
    assert link.get("href", "").startswith("https://www.whitehouse.gov/briefing-room/")
    summary = entries[0].findtext("a:summary", namespaces=NS) or ""
    assert summary.startswith("Run 2:")
    # regenerating gives the same ids (feed readers do not see duplicates)
    again = _feed(reports)
    assert [e.findtext("a:id", namespaces=NS) for e in again.findall("a:entry", NS)] == [
        e.findtext("a:id", namespaces=NS) for e in entries]


def test_min_significance_drops_entries_and_changes(demo_db: Path) -> None:
    with Store(demo_db, create=False) as store:
        report = store.run_report("latest")
    all_changes = _feed([report]).findall("a:entry", NS)
    high = _feed([report], FeedOptions(feed_id=OPTIONS.feed_id, min_significance=Level.HIGH))
    entries = high.findall("a:entry", NS)
    assert len(entries) == len(all_changes)  # each page has a high change
    mosul = next(e for e in entries if "Mosul" in (e.findtext("a:title", namespaces=NS) or ""))
    assert "deconfliction" not in (mosul.findtext("a:content", namespaces=NS) or "")  # medium


def test_self_link_only_for_http_urls() -> None:
    feed = _feed([], FeedOptions(feed_id=OPTIONS.feed_id, self_url="https://x.gov/feed.xml"))
    assert_valid_atom(feed)
    assert feed.find("a:link", NS).get("rel") == "self"  # type: ignore[union-attr]
    assert feed.findtext("a:updated", namespaces=NS) == "2026-01-02T03:04:05Z"
    bad = _feed([], FeedOptions(feed_id=OPTIONS.feed_id, self_url="javascript:alert(1)"))
    assert bad.find("a:link", NS) is None


@pytest.mark.parametrize(
    ("page", "expected_suffix"),
    [({"key": "https://x.gov/a", "status": "changed", "version": 3}, "x.gov/a#v3"),
     ({"key": "https://x.gov/a", "status": "gone", "version": 3}, "x.gov/a#gone-run9")],
)
def test_entry_ids_are_stable(page: dict[str, Any], expected_suffix: str) -> None:
    import uuid

    assert entry_id(page, 9) == uuid.uuid5(uuid.NAMESPACE_URL,
                                           f"https://{expected_suffix}").urn
    assert feed_id_for("/a/b.db") == feed_id_for("/a/b.db") != feed_id_for("/a/c.db")


def test_feed_counts_ingest_runs_only(demo_db_copy: Path, tmp_path: Path) -> None:
    """A reparse run (here started with the --wait spelling of the lock option) takes no
    slot of ``feed --runs N``: the feed of the last run is still the edited capture's."""
    from briefwatch.cli import main

    db = str(demo_db_copy)
    assert main(["reparse", "--db", db, "--wait", "1", "--format", "json",
                 "-o", str(tmp_path / "reparse.json")]) == 0
    with Store(demo_db_copy, create=False) as store:
        assert [r.id for r in store.runs()] == [3, 2, 1]
        assert [r.id for r in store.runs(kind="ingest")] == [2, 1]
        assert [r.id for r in store.runs(1, kind="reparse")] == [3]
    out = tmp_path / "feed.xml"
    assert main(["feed", "--db", db, "--runs", "1", "-o", str(out)]) == 0
    entries = ET.fromstring(out.read_bytes()).findall("a:entry", NS)
    assert [e.findtext("a:title", namespaces=NS).split(":")[0] for e in entries] == [
        "Changed"] * 3
