"""Report renderers: the same content for people (text, Markdown) as the JSON contract."""

from __future__ import annotations

import json
from typing import Any

import pytest

from briefwatch.report.artifact import render_markdown_artifact
from briefwatch.report.escape import md_escape
from briefwatch.report.registry import render

REPORT: dict[str, Any] = {
    "run": {"id": 7, "started_at": "2026-01-01T00:00:00Z", "finished_at": "2026-01-01T00:00:01Z",
            "flow_run_id": "abc", "counts": {"new": 1, "changed": 1, "unchanged": 2, "gone": 0,
                                             "failed": 1}},
    "pages": [
        {"key": "https://x.gov/a", "url": "https://x.gov/a", "title": "Briefing <b>A</b>",
         "status": "changed", "version": 2, "previous_version": 1,
         "title_change": {"old": "Old [title](javascript:alert(1))", "new": "Briefing A"},
         "metadata_changes": {}, "error": None,
         "changes": [
             {"type": "changed", "speaker": "Army Col. Ryan S. Dillon",
              "old_speaker": "Army Col. Ryan S. Dillon", "old": "It was 163 bodies.",
              "new": "It was 170 bodies.", "numbers": [{"old": "163", "new": "170"}],
              "position": 3,
              "words": [["equal", "It was"], ["delete", "163"], ["insert", "170"],
                        ["equal", "bodies."]]},
             {"type": "reattributed", "speaker": "MS. JEAN-PIERRE", "old_speaker": "THE PRESIDENT",
              "old": "So, I mean.", "new": "So, I mean.", "numbers": [], "position": 9},
             {"type": "added", "speaker": None, "old_speaker": None, "old": None,
              "new": "<script>alert('x')</script> **bold** [link](http://evil)", "numbers": [],
              "position": 10},
         ]},
        {"key": "file:///b.txt", "url": None, "title": None, "status": "failed", "version": None,
         "previous_version": None, "title_change": None, "metadata_changes": {},
         "error": "binary file: not text", "changes": []},
        {"key": "file:///c.txt", "url": None, "title": "C", "status": "unchanged", "version": 1,
         "previous_version": 1, "title_change": None, "metadata_changes": {}, "error": None,
         "changes": []},
        {"key": "file:///d.txt", "url": None, "title": "D", "status": "unchanged", "version": 1,
         "previous_version": 1, "title_change": None, "metadata_changes": {}, "error": None,
         "changes": []},
    ],
}


def test_json_is_the_contract() -> None:
    assert json.loads(render(REPORT, "json")) == REPORT


def test_text_rendering() -> None:
    text = render(REPORT, "text")
    assert "pages: 1 new, 1 changed, 2 unchanged, 0 gone, 1 failed" in text
    assert "Δ It was [-163-] {+170+} bodies." in text
    assert "numbers: 163 → 170" in text
    assert "[THE PRESIDENT → MS. JEAN-PIERRE]" in text
    assert "error: binary file: not text" in text
    assert "2 unchanged page(s)" in text
    # failed pages come first, unchanged pages collapse to a count
    assert text.index("[FAILED]") < text.index("[CHANGED]")
    assert "file:///c.txt" not in text


def test_markdown_escapes_page_content() -> None:
    md = render(REPORT, "markdown")
    assert "<script>" not in md and "<b>" not in md
    import re

    assert not re.search(r"(?<!\\)\]\(", md), "an unescaped link survived"
    assert "\\[link\\](`http://evil`)" in md  # a bare URL: a code span, never linked
    assert "\\*\\*bold\\*\\*" in md
    assert "~~163~~ **170**" in md
    assert "flow run: `abc`" in md


@pytest.mark.parametrize(
    ("raw", "escaped"),
    [("a*b*", "a\\*b\\*"), ("[x](y)", "\\[x\\](y)"), ("<img src=x>", "\\<img src=x\\>"),
     ("line\nbreak", "line break"), ("2026-01-01", "2026-01-01"), (None, "")],
)
def test_md_escape(raw: str | None, escaped: str) -> None:
    assert md_escape(raw) == escaped


def test_unknown_format() -> None:
    with pytest.raises(ValueError, match="unknown format"):
        render(REPORT, "xml")


def _big_report(pages: int, statement_chars: int) -> dict[str, Any]:
    long = "The figure was 163. " * (statement_chars // 20)
    page = REPORT["pages"][0]
    return {**REPORT, "pages": [
        {**page, "key": f"https://x.gov/{i}",
         "changes": [{**page["changes"][2], "new": long},
                     {**page["changes"][0], "words": [["equal", long], ["delete", "163"],
                                                      ["insert", "170"]]}]}
        for i in range(pages)]}


def test_artifact_small_report_is_the_markdown_report() -> None:
    assert render_markdown_artifact(REPORT) == render(REPORT, "markdown")


def test_artifact_clips_long_statements_and_cuts_at_a_page() -> None:
    report = _big_report(pages=400, statement_chars=50_000)
    full = render(report, "markdown")
    art = render_markdown_artifact(report, max_chars=200_000, max_text=2_000)
    assert len(full) > 20_000_000 > len(art)
    assert len(art) <= 200_000
    assert "more characters" in art and "The figure was 163. " in art
    assert art.endswith("`briefwatch report --run 7`._\n")
    shown = art.count("\n## ")
    assert 0 < shown < 400
    assert f"{shown} of 400 pages shown" in art
    # the cut falls between pages: the last page shown is whole (its numbers line is there)
    last = art[art.rfind("\n## "):]
    assert "163 → 170" in last
