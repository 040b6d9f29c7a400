"""Text and Markdown renderings of a reparse run's report (shape:
``briefwatch.store.queries.reparse``).

``briefwatch.report.registry.render`` hands a report whose ``run.kind`` is ``reparse`` here for text
and Markdown; JSON is the report itself, HTML the generic run page (pages re-parsed show the
changes the reparse added between versions). Page text is escaped as in every report.
"""

from __future__ import annotations

from collections.abc import Callable

from briefwatch.contract import (
    Change,
    Page,
    ReparseDetail,
    ReparsePair,
    ReparseVersion,
    Report,
    Run,
)
from briefwatch.report.escape import md_code, md_escape, plain
from briefwatch.report.markdown import markdown_change
from briefwatch.report.text import text_change

MAX_STATEMENT_CHANGES = 8  # per version, in text and Markdown (the JSON has them all)

__all__ = ["render_markdown", "render_text", "summary_line"]


def summary_line(run: Run) -> str:
    """``pages: 3 re-parsed, 8 unchanged, 0 failed; versions: ...; changes: ...``"""
    c = run.get("counts") or {}
    return (f"pages: {c.get('reparsed', 0)} re-parsed, {c.get('unchanged', 0)} unchanged, "
            f"{c.get('failed', 0)} failed; versions: {c.get('versions_reparsed', 0)} re-parsed,"
            f" {c.get('versions_identical', 0)} identical, {c.get('raw_not_kept', 0)} raw not "
            f"kept; changes between versions: {c.get('changes_added', 0)} added, "
            f"{c.get('changes_superseded', 0)} superseded, {c.get('changes_kept', 0)} kept")


def _heading(run: Run) -> str:
    what = "dry run (nothing written)" if run.get("dry_run") else f"run {run.get('id')}"
    parser = (run.get("options") or {}).get("parser")
    return f"briefwatch reparse {what}" + (f", parser {parser}" if parser else "")


def _version_line(version: ReparseVersion) -> str:
    if version["outcome"] != "reparsed":
        label = "raw not kept" if version["outcome"] == "raw_not_kept" else "failed"
        return f"v{version['version']}: {label}: {version.get('error') or ''}".rstrip(": ")
    counts = ", ".join(f"{n} {t}" for t, n in (version.get("statements") or {}).items() if n)
    if version.get("layout_only"):
        counts = "same statements, paragraphs/sections/typography differ"
    line = (f"v{version['version']}: {counts or 'metadata only'} (statements "
            f"{version.get('old_statement_count')} -> {version.get('new_statement_count')})")
    return line


def _pair_line(pair: ReparsePair) -> str:
    return (f"v{pair['from_version']} -> v{pair['to_version']}: changes {pair['added']} added,"
            f" {pair['superseded']} superseded, {pair['kept']} kept")


def _page_lines(page: Page, esc: Callable[[str | None], str], indent: str,
                change_lines: Callable[[Change], list[str]]) -> list[str]:
    detail: ReparseDetail = page.get("reparse") or {
        "versions": [], "pairs": [], "superseded_changes": []}
    out = []
    if page.get("error"):
        out.append(f"{indent}error: {esc(page['error'])}")
    for version in detail.get("versions") or []:
        out.append(f"{indent}{esc(_version_line(version))}")
        tc = version.get("title_change")
        if tc:
            out.append(f"{indent}  title: {esc(tc.get('old'))!r} -> {esc(tc.get('new'))!r}")
        for key in sorted(version.get("metadata_changes") or {}):
            out.append(f"{indent}  metadata: {esc(key)}")
        shown = (version.get("statement_changes") or [])[:MAX_STATEMENT_CHANGES]
        for change in shown:
            out.extend(change_lines(change))
        hidden = len(version.get("statement_changes") or []) - len(shown)
        if hidden > 0:
            out.append(f"{indent}  ... {hidden} more (JSON report)")
    for pair in detail.get("pairs") or []:
        out.append(f"{indent}{_pair_line(pair)}")
    for change in page.get("changes") or []:
        out.extend(change_lines(change))
    for change in detail.get("superseded_changes") or []:
        out.extend(change_lines(change))
    return out


def render_text(report: Report) -> str:
    run = report["run"]
    lines = [f"{_heading(run)}  ({plain(run.get('started_at'))} → "
             f"{plain(run.get('finished_at'))})", summary_line(run)]
    for page in report["pages"]:
        lines.append("")
        lines.append(f"[{page['status'].upper()}] {plain(page.get('title') or page['key'])}"
                     f" (v{page.get('version')})")
        lines.append(f"    {plain(page['key'])}")
        lines.extend(_page_lines(page, plain, "    ",
                                 lambda c: ["    " + line for line in text_change(c)]))
    if not report["pages"]:
        lines.extend(["", "the current parsers read every selected version as stored: "
                          "nothing to change"])
    return "\n".join(lines) + "\n"


def render_markdown(report: Report) -> str:
    run = report["run"]
    lines = [f"# {md_escape(_heading(run))}", "",
             f"- started: {md_escape(run.get('started_at'))}",
             f"- finished: {md_escape(run.get('finished_at'))}",
             f"- {md_escape(summary_line(run))}"]
    for page in report["pages"]:
        lines.extend(["", f"## {page['status'].upper()}: "
                          f"{md_escape(page.get('title') or page['key'])}", "",
                      f"{md_code(page['key'])} v{page.get('version')}", ""])
        lines.extend(_page_lines(page, md_escape, "- ",
                                 lambda c: ["  " + markdown_change(c)]))
    if not report["pages"]:
        lines.extend(["", "The current parsers read every selected version as stored: "
                          "nothing to change."])
    return "\n".join(lines) + "\n"
