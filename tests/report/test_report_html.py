"""HTML renderings (report, history, diff, speaker view, search) and the escaping of page
content in every renderer: synthetic hostile reports, then real stores built by the CLI
(``demo_db``: the bundled examples; ``hostile_db``: tests/fixtures/hostile)."""

from __future__ import annotations

import copy
import re
from dataclasses import asdict
from pathlib import Path
from typing import Any

import pytest

from briefwatch.diff import diff_documents
from briefwatch.diff.significance import Level
from briefwatch.report.html import (
    CSP,
    highlight,
    render_diff_html,
    render_history_html,
    render_report_html,
    render_said_html,
    render_search_html,
)
from briefwatch.report.registry import render
from briefwatch.report.views import ReportFilter, diff_page, filter_report, safe_url
from briefwatch.store import Store
from tests.support.htmlcheck import assert_inert, parse

XSS = "<script>document.title='PWNED'</script>"
IMG = "<img src=x onerror=\"document.title='PWNED'\">"
JS_URL = "javascript:document.title='PWNED'"


def _change(**fields: Any) -> dict[str, Any]:
    base = {"id": None, "type": "added", "kind": "narration", "speaker": None,
            "old_speaker": None, "old": None, "new": None, "numbers": [], "words": [],
            "position": 0, "old_position": None, "significance": "medium",
            "significance_reason": "narration added", "review_status": "unreviewed",
            "review_note": None}
    return base | fields


def hostile_report() -> dict[str, Any]:
    """Every field a renderer shows, each carrying an attack."""
    changes = [
        _change(id=1, type="changed", kind="quote", speaker=f"Col. {IMG}",
                old_speaker=f"Col. {IMG}", old=f"It was 163 {XSS} bodies.",
                new=f"It was 170 {XSS} bodies.", numbers=[{"old": "163", "new": f"170{XSS}"}],
                words=[["equal", "It was"], ["delete", "163"], ["insert", f"170 {IMG}"],
                       ["equal", f"{XSS} bodies."]],
                significance="high", significance_reason=f"figure changed {XSS}", position=1,
                review_status="flagged", review_note=f"see {IMG}", reviewer=XSS),
        _change(id=2, type="reattributed", kind="quote", speaker="</span></li><b>NEW</b>",
                old_speaker="OLD\" onmouseover=\"document.title='PWNED'", old="Same.",
                new="Same.", significance="high", position=2),
        _change(id=3, type="moved", new=f"Moved {XSS}", old=f"Moved {XSS}", position=3,
                old_position=9, significance="low"),
        _change(id=4, type="removed", old=f"</style></title></textarea>{XSS}", position=4),
        _change(id=5, type="added", new=f"<a href=\"{JS_URL}\">click</a>", position=5),
    ]
    return {
        "run": {"id": 7, "started_at": "2026-01-01T00:00:00Z", "finished_at": "bad <date>",
                "flow_run_id": f"flow{XSS}", "status": "completed", "sources": [f"/x/{IMG}"],
                "counts": {"new": 1, "changed": 1, "unchanged": 1, "gone": 1, "failed": 1}},
        "pages": [
            {"key": JS_URL, "url": JS_URL, "title": f"Title {XSS}", "status": "changed",
             "version": 2, "previous_version": 1, "significance": "high",
             "title_change": {"old": f"Old {IMG}", "new": f"Title {XSS}"},
             "metadata_changes": {"values_changed": {"root['byline']": {
                 "old_value": f"by {XSS}", "new_value": "by B"}}},
             "error": None, "changes": changes},
            {"key": "data:text/html,<script>document.title='PWNED'</script>",
             "url": " javascript:alert(1)", "title": None, "status": "new", "version": 1,
             "previous_version": None, "significance": "medium", "title_change": None,
             "metadata_changes": {}, "error": None,
             "changes": [_change(new=f"New {IMG} page {i}", position=i) for i in range(15)]},
            {"key": "https://ok.example/gone\" onclick=\"x", "url": None, "title": "Gone",
             "status": "gone", "version": 3, "previous_version": 3, "significance": "high",
             "title_change": None, "metadata_changes": {}, "error": None, "changes": []},
            {"key": "file:///f.txt", "url": None, "title": None, "status": "failed",
             "version": None, "previous_version": None, "title_change": None,
             "metadata_changes": {}, "error": f"cannot parse {XSS}", "changes": []},
            {"key": "https://ok.example/same", "url": "https://ok.example/same",
             "title": f"Same {XSS}", "status": "unchanged", "version": 1, "previous_version": 1,
             "title_change": None, "metadata_changes": {}, "error": None, "changes": []},
        ],
    }


def test_report_html_escapes_everything() -> None:
    html = render_report_html(hostile_report())
    doc = assert_inert(html, payloads=(XSS, IMG, "</style></title></textarea>",
                                       "OLD\" onmouseover=", "</span></li><b>NEW</b>"))
    assert not doc.xpath("//b[text()='NEW']")
    # no link was made from the javascript:/data: keys and URLs; the http(s) ones are links
    hrefs = [a.get("href") for a in doc.xpath("//a")]
    assert all(not h.lower().startswith(("javascript", "data", " ")) for h in hrefs)
    assert "https://ok.example/same" in hrefs


def test_report_html_is_self_contained() -> None:
    html = render_report_html(hostile_report())
    doc = parse(html)
    [meta] = doc.xpath("//meta[@http-equiv='Content-Security-Policy']")
    assert meta.get("content") == CSP and "script-src" not in CSP and "default-src 'none'" in CSP
    # nothing is loaded: no src attribute, no <link>, no CSS import or url(); links to pages
    # (<a href>) are only followed when clicked
    assert not doc.xpath("//@src") and not doc.xpath("//link")
    assert "@import" not in html and "url(" not in html


def test_report_html_content() -> None:
    doc = parse(render_report_html(hostile_report()))
    changed = doc.xpath("//li[@id='change-1']")[0]
    assert [d.text_content() for d in changed.xpath(".//del")] == ["163"]
    assert [i.text_content() for i in changed.xpath(".//ins")] == [f"170 {IMG}"]
    assert changed.xpath(".//span[@class='num']")[0].text_content() == f"163 → 170{XSS}"
    assert "rv-flagged" in changed.get("class") and "sig-high" in changed.get("class")
    assert f"see {IMG}" in changed.text_content()
    reattributed = doc.xpath("//li[@id='change-2']")[0]
    assert reattributed.xpath(".//span[contains(@class, 'was')]")[0].text_content().startswith(
        "OLD")
    assert reattributed.xpath(".//span[contains(@class, 'now')]")[0].text_content() == (
        "</span></li><b>NEW</b>")
    [moved] = doc.xpath("//li[@data-type='moved']")
    assert "#9 → #3" in moved.text_content() and not moved.xpath(".//ins|.//del")
    # unchanged pages collapse to a count; failed pages are listed with their error
    assert "1 unchanged page(s)" in doc.text_content()
    assert not doc.xpath("//article[contains(@class, 'st-unchanged')]")
    assert f"cannot parse {XSS}" in doc.xpath("//div[contains(@class, 'failed')]")[0].text_content()
    # a new page shows its first statements and folds the rest
    new = doc.xpath("//article[contains(@class, 'st-new')]")[0]
    assert "3 more statement(s)" in new.xpath(".//details/summary")[0].text_content()
    # run summary
    summary = doc.xpath("//header[@class='summary']")[0].text_content()
    assert "run 7" in summary and f"flow{XSS}" in summary and "2026-01-01 00:00:00 UTC" in summary


def test_pages_most_significant_first_and_unreviewed_first() -> None:
    report = hostile_report()
    for change in report["pages"][0]["changes"]:
        change["review_status"] = "reviewed"
    doc = parse(render_report_html(report))
    order = [a.get("class") for a in doc.xpath("//article")]
    # the gone page (high, nothing reviewed) and the new page (medium, unreviewed statements)
    # come before the changed page whose changes were all reviewed
    assert order == ["page st-gone", "page st-new", "page st-changed"]


def test_changes_ordered_unreviewed_then_significance() -> None:
    report = hostile_report()
    changes = report["pages"][0]["changes"]
    changes[0]["review_status"] = "dismissed"
    doc = parse(render_report_html(report))
    ids = [li.get("id") for li in doc.xpath("//article[contains(@class,'st-changed')]//li")]
    assert ids == ["change-2", "change-4", "change-5", None, "change-1"]  # None: moved (low)


def test_filter_report_min_significance_and_unreviewed() -> None:
    report = hostile_report()
    high = filter_report(report, ReportFilter(min_significance=Level.HIGH))
    assert [c["id"] for c in high["pages"][0]["changes"]] == [1, 2]
    assert [p["status"] for p in high["pages"]] == ["changed", "gone", "failed", "unchanged"]
    assert high["filter"] == {"min_significance": "high", "unreviewed": False,
                              "hidden_changes": 3 + 15, "hidden_pages": 1}
    assert report["pages"][0]["changes"][2]["id"] == 3, "the input is not modified"
    unreviewed = filter_report(report, ReportFilter(unreviewed=True))
    assert [c["id"] for c in unreviewed["pages"][0]["changes"]] == [2, 3, 4, 5]
    assert filter_report(report, ReportFilter()) is report
    html = render_report_html(high)
    assert "high significance or higher: 18 change(s) and 1 page(s) hidden" in " ".join(
        parse(html).text_content().split())


@pytest.mark.parametrize(
    ("url", "expected"),
    [("https://www.whitehouse.gov/x?a=1&b=2", "https://www.whitehouse.gov/x?a=1&b=2"),
     ("HTTP://EXAMPLE.GOV", "HTTP://EXAMPLE.GOV"), ("file:///tmp/a.txt", "file:///tmp/a.txt"),
     ("javascript:alert(1)", None), ("JaVaScRiPt:alert(1)", None), (" javascript:x", None),
     ("java\tscript:x", None), ("data:text/html,x", None), ("vbscript:x", None),
     ("//evil.example/x", None), ("/relative", None), ("", None), (None, None),
     ("https://x.gov/\nnext", None)],
)
def test_safe_url(url: str | None, expected: str | None) -> None:
    assert safe_url(url) == expected


def test_highlight_marks_query_words() -> None:
    parts = highlight("No casualty figures; casualties rose.", "casualties")
    assert [text for text, hit in parts if hit] == ["casualty", "casualties"]
    assert "".join(text for text, _ in parts) == "No casualty figures; casualties rose."


@pytest.mark.parametrize("fmt", ["text", "markdown"])
def test_text_and_markdown_neutralise_control_characters(fmt: str) -> None:
    report = hostile_report()
    report["pages"][0]["changes"][4]["new"] = "title \x1b]0;PWNED\x07 bell \x00 nul"
    out = render(report, fmt)
    assert "\x1b" not in out and "\x07" not in out and "\x00" not in out
    assert "PWNED\ufffd bell \ufffd nul" in out


def test_markdown_marks_significance_and_review() -> None:
    md = render(hostile_report(), "markdown")
    assert "change 1 flagged" in md and "## CHANGED: Title \\<script\\>" in md
    outside_code = re.sub(r"`[^`\n]*`", "", md)
    assert not re.search(r"(?<!\\)<", outside_code), "unescaped markup outside code spans"


# ------------------------------------------------------------------ real stores


def _views(db: Path) -> dict[str, str]:
    """Every HTML view of the first changed page of a store."""
    with Store(db, create=False) as store:
        report = store.run_report("latest")
        page = next(p for p in report["pages"] if p["status"] == "changed")
        timeline = store.page_timeline(page["key"])
        old = store.load_version(store.version_id(page["key"], 1)).document
        new = store.load_version(store.version_id(page["key"], 2)).document
        speaker = next(c["speaker"] for c in page["changes"] if c["speaker"])
        view = store.speaker_view(speaker)
        hits = [asdict(h) for h in store.search("casualties")]
    entry = diff_page(diff_documents(old, new), key=page["key"], url=new.url, title=new.title,
                      from_version=1, to_version=2)
    return {"report": render_report_html(report), "history": render_history_html(timeline),
            "diff": render_diff_html(entry), "said": render_said_html(view),
            "search": render_search_html("casualties", hits)}


@pytest.mark.parametrize("view", ["report", "history", "diff", "said", "search"])
def test_hostile_store_renders_inert(hostile_db: Path, view: str) -> None:
    html = _views(hostile_db)[view]
    doc = assert_inert(html, payloads=("document.title='PWNED'",))
    assert "<script>" in doc.text_content() or "onerror=" in doc.text_content()


def test_hostile_report_highlights_its_changes(hostile_db: Path) -> None:
    doc = assert_inert(_views(hostile_db)["report"])
    dels = [d.text_content() for d in doc.xpath("//del")]
    inss = [i.text_content() for i in doc.xpath("//ins")]
    assert "12" in dels and "14" in inss and "15" in inss
    assert any("very" in text for text in inss)
    nums = {n.text_content() for n in doc.xpath("//span[@class='num']")}
    assert {"12 → 14", "12 → 15"} <= nums
    # the Markdown page's key is a javascript: URL: shown, never linked
    assert "javascript:document.title='PWNED'" in doc.text_content()
    assert not [a for a in doc.xpath("//a") if "javascript" in a.get("href", "").lower()]


def test_demo_views(demo_db: Path) -> None:
    views = _views(demo_db)
    report = assert_inert(views["report"], payloads=("163", "170", "Ryan S. Dillon"))
    assert "163 → 170" in {n.text_content() for n in report.xpath("//span[@class='num']")}
    was_now = [(s.text_content()) for s in report.xpath("//span[contains(@class,'speaker')]")]
    assert "THE PRESIDENT" in was_now and "MS. JEAN-PIERRE" in was_now
    history = assert_inert(views["history"])
    assert [a.get("id") for a in history.xpath("//article")] == ["v2", "v1"]
    said = assert_inert(views["said"])
    assert "Army Col. Ryan S. Dillon" in said.xpath("//header")[0].text_content()
    search = assert_inert(views["search"])
    assert search.xpath("//mark") and all(
        m.text_content().lower().startswith("casualt") for m in search.xpath("//mark"))
    diff = assert_inert(views["diff"])
    assert diff.xpath("//del") and diff.xpath("//ins")


def test_report_html_from_json_contract_only() -> None:
    """A report from an older store (no significance/review fields) still renders."""
    report = copy.deepcopy(hostile_report())
    for page in report["pages"]:
        page.pop("significance", None)
        for change in page["changes"]:
            for key in ("significance", "significance_reason", "review_status", "review_note"):
                change.pop(key, None)
    assert_inert(render_report_html(report), payloads=(XSS,))
