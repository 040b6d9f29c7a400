"""Terminal renderings of the review views: a page's history, a speaker's statements,
search hits, one change with its reviews. Page content is flattened to one line and its
control characters are replaced (no terminal escapes get through)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from briefwatch.contract import ChangeDetail
from briefwatch.report.escape import plain
from briefwatch.report.text import text_change, text_page
from briefwatch.report.views import PageDict, order_changes


def history_text(timeline: dict[str, Any]) -> str:
    """Versions newest first; under each, what changed to make it."""
    page = timeline["page"]
    lines = [f"{plain(page.get('title') or page['key'])}",
             f"    {plain(page['key'])}",
             f"    {page['versions']} version(s), current v{page['version']}, {page['status']}"]
    for version in timeline["versions"]:
        lines.append("")
        lines.append(history_line(version))
        if version.get("title_change"):
            tc = version["title_change"]
            lines.append(f"    title: {plain(tc.get('old'))!r} -> {plain(tc.get('new'))!r}")
        for change in order_changes(version.get("change_details") or []):
            lines.extend(text_change(change))
    return "\n".join(lines) + "\n"


def history_line(row: dict[str, Any]) -> str:
    """``v2  <created>  run 5  19 statements  6 changes (2 changed, …)  high  <title>``."""
    parts = [f"v{row.get('number')}", str(row.get("created_at") or ""),
             f"run {row.get('run_id')}", f"{row.get('statement_count')} statements"]
    counts = row.get("changes")
    if isinstance(counts, dict) and counts:
        detail = ", ".join(f"{n} {t}" for t, n in sorted(counts.items()))
        parts.append(f"{sum(counts.values())} changes ({detail})")
    elif row.get("number") == 1:
        parts.append("first capture")
    if row.get("significance"):
        parts.append(str(row["significance"]))
    parts.append(plain(row.get("title")))
    return "  ".join(p for p in parts if p)


def diff_text(page: PageDict) -> str:
    if not page.get("changes") and not page.get("title_change"):
        return (f"{plain(page.get('title') or page['key'])}: v{page['previous_version']} and "
                f"v{page['version']} have the same statements\n")
    return "\n".join(text_page(page)) + "\n"


def said_text(view: dict[str, Any]) -> str:
    if not view["speakers"]:
        return f"no speaker's name contains {plain(view['query'])!r}\n"
    lines = ["speakers: " + "; ".join(plain(s) for s in view["speakers"])]
    several = len(view["speakers"]) > 1
    for page in view["pages"]:
        lines.append("")
        lines.append(f"{plain(page.get('title') or page['key'])}  (v{page['version']})")
        lines.append(f"    {plain(page['key'])}")
        if page["changes"]:
            lines.append(f"  changes ({len(page['changes'])}), newest first:")
            for change in page["changes"]:
                head, *rest = text_change(change)
                versions = f"v{change.get('from_version')} -> v{change.get('to_version')}"
                lines.append(f"{head}  {versions}")
                lines.extend(rest)
        if page["statements"]:
            lines.append(f"  says in v{page['version']} ({len(page['statements'])}):")
            for stmt in page["statements"]:
                who = f" [{plain(stmt['speaker'])}]" if several else ""
                lines.append(f"    #{stmt['position']} {stmt['kind']}{who}: {plain(stmt['text'])}")
    return "\n".join(lines) + "\n"


def search_text(query: str, hits: Sequence[dict[str, Any]]) -> str:
    if not hits:
        return f"no statement matches {plain(query)!r}\n"
    lines = []
    for hit in hits:
        where = f"v{hit['version']} #{hit['position']}"
        if not hit["current"]:
            where += " (no longer current)"
        who = plain(hit.get("speaker")) or "narration"
        lines.append(f"{plain(hit.get('title') or hit['key'])}  {where}  [{who}]")
        lines.append(f"    {plain(hit['text'])}")
    return "\n".join(lines) + "\n"


def change_text(change: ChangeDetail) -> str:
    """One stored change, its page and its review history."""
    page = change["page"]
    lines = [f"change {change['id']}: {change['type']} in "
             f"{plain(page.get('title') or page['key'])} "
             f"(v{change.get('from_version')} -> v{change.get('to_version')}, "
             f"run {change.get('run_id')})",
             f"    {plain(page['key'])}"]
    lines.extend(text_change(change))
    lines.append(f"  review: {change.get('review_status')}")
    for review in change.get("reviews") or []:
        by = f" by {plain(review['reviewer'])}" if review.get("reviewer") else ""
        note = f": {plain(review['note'])}" if review.get("note") else ""
        lines.append(f"    {review['created_at']}  {review['status']}{by}{note}")
    return "\n".join(lines) + "\n"
