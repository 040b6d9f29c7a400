"""The run report as Prefect artifacts: a Markdown report sized for the UI and the
changed-pages table (Prefect renders every table cell as Markdown, so cells are escaped).
Pure functions: :mod:`briefwatch.flows` publishes what these return."""

from __future__ import annotations

from typing import Any

from briefwatch.contract import Page, Report
from briefwatch.report.escape import md_escape
from briefwatch.report.markdown import render_markdown

__all__ = ["ARTIFACT_MAX_CHARS", "ARTIFACT_MAX_TEXT", "prefect_table_rows",
           "render_markdown_artifact"]

# The Prefect Markdown artifact is for reading in the UI: a statement is clipped to this many
# characters and the whole artifact cut at a page boundary near this size (a 5 MB statement
# made a 12 MB artifact Prefect's event stream refused); the store keeps everything, and
# `briefwatch report --run N` prints it whole.
ARTIFACT_MAX_CHARS = 1_000_000
ARTIFACT_MAX_TEXT = 2_000


def prefect_table_rows(report: Report) -> list[dict[str, Any]]:
    """The changed-pages table artifact's rows. Prefect's UI renders every string cell as
    Markdown, so page content in them is escaped as in the Markdown report."""
    return [
        {"status": p["status"], "key": md_escape(p["key"]),
         "title": md_escape(p.get("title") or ""), "version": p.get("version"),
         "changes": len(p.get("changes") or []), "error": md_escape(p.get("error") or "")}
        for p in report["pages"] if p["status"] != "unchanged"
    ]


def render_markdown_artifact(report: Report, *, max_chars: int = ARTIFACT_MAX_CHARS,
                             max_text: int = ARTIFACT_MAX_TEXT) -> str:
    """:func:`render_markdown` for a Prefect artifact: statements longer than ``max_text``
    clipped (saying so), the text cut at the last page boundary under ``max_chars`` with a
    line naming the command that prints the whole report."""
    clipped: Report = {**report, "pages": [_clipped_page(p, max_text) for p in report["pages"]]}
    text = render_markdown(clipped)
    if len(text) <= max_chars:
        return text
    cut = text.rfind("\n\n## ", 0, max(0, max_chars - 200))
    cut = cut if cut > 0 else text.rfind("\n", 0, max(0, max_chars - 200))
    shown = text[:cut].count("\n## ")
    total = text.count("\n## ")
    return (text[:max(cut, 0)] + f"\n\n_Report cut here for the artifact: {shown} of {total} "
            f"pages shown. The whole report: `briefwatch report --run {report['run']['id']}`._\n")


def _clip(text: Any, limit: int) -> Any:
    if not isinstance(text, str) or len(text) <= limit:
        return text
    return f"{text[:limit]} … [{len(text) - limit:,} more characters]"


def _clipped_page(page: Page, limit: int) -> Page:
    changes = page.get("changes")
    if not changes:
        return page
    return {**page, "changes": [
        {**c, "old": _clip(c.get("old"), limit), "new": _clip(c.get("new"), limit),
         "words": [[op, _clip(t, limit)] for op, t in (c.get("words") or [])] or c.get("words")}
        for c in changes]}
