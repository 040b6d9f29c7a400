"""The run report as terminal text: page content flattened to one line, controls replaced
(:func:`briefwatch.report.escape.plain`)."""

from __future__ import annotations

from briefwatch.contract import Change, Page, Report
from briefwatch.report.escape import plain
from briefwatch.report.labels import (
    CHANGE_MARK,
    carried_line,
    carried_note,
    change_tags,
    counts_line,
    numbers_line,
    shown_changes,
    speaker_label,
    summary_lines,
    word_diff_line,
)
from briefwatch.report.views import order_pages

__all__ = ["render_text", "text_change", "text_page"]


def render_text(report: Report) -> str:
    run = report["run"]
    lines = [f"briefwatch run {run['id']}  ({plain(run.get('started_at'))} → "
             f"{plain(run.get('finished_at'))})"]
    if run.get("flow_run_id"):
        lines.append(f"flow run {plain(run['flow_run_id'])}")
    elif (run.get("options") or {}).get("runner") == "in-process":
        lines.append("ran in-process (no Prefect flow run)")
    lines.append(f"pages: {counts_line(run)}")
    if carried_line(run):
        lines.append(carried_line(run))
    lines.extend(summary_lines(report))
    unchanged = 0
    for page in order_pages(report["pages"]):
        if page["status"] == "unchanged":
            unchanged += 1
            continue
        lines.append("")
        lines.extend(text_page(page))
    if unchanged:
        lines.extend(["", f"{unchanged} unchanged page(s)"])
    return "\n".join(lines) + "\n"


def text_page(page: Page) -> list[str]:
    """One page of a report (or a diff of two versions) as indented lines."""
    version = page.get("version")
    prev = page.get("previous_version")
    ver = f" v{prev} -> v{version}" if prev and version else (f" v{version}" if version else "")
    sig = f"  ({page['significance']})" if page.get("significance") else ""
    out = [f"[{page['status'].upper()}] {plain(page.get('title') or page['key'])}{ver}{sig}",
           f"    {plain(page['key'])}"]
    if carried_note(page):
        out.append(f"    {carried_note(page)}")
    if page.get("error"):
        out.append(f"    error: {plain(page['error'])}")
    tc = page.get("title_change")
    if tc:
        out.append(f"    title: {plain(tc.get('old'))!r} -> {plain(tc.get('new'))!r}")
    shown, hidden = shown_changes(page)
    for change in shown:
        out.extend(text_change(change, tags=page["status"] != "new"))
    if hidden:
        out.append(f"    ... {hidden} more statement(s)")
    return out


def text_change(change: Change, *, tags: bool = True) -> list[str]:
    """A change as indented lines; ``tags``: show its significance and review state (not
    for a new page's statements, which are all "added")."""
    mark = CHANGE_MARK.get(change["type"], "?")
    who = speaker_label(change, plain)
    head = f"  {mark} {change['type']} #{change.get('position')}" + (f" [{who}]" if who else "")
    label = change_tags(change) if tags else ""
    out = [head + (f"  ({plain(label)})" if label else "")]
    if change.get("old") is not None and change["type"] in ("changed", "removed"):
        out.append(f"      - {plain(change['old'])}")
    if change.get("new") is not None:
        out.append(f"      + {plain(change['new'])}")
    if change["type"] == "changed" and change.get("words"):
        out.append(f"      Δ {word_diff_line(change['words'], _mark, plain)}")
    nums = numbers_line(change, plain)
    if nums:
        out.append(f"      numbers: {nums}")
    if change.get("review_note"):
        out.append(f"      review note: {plain(change['review_note'])}")
    return out


def _mark(op: str, text: str) -> str:
    return f"[-{text}-]" if op == "delete" else f"{{+{text}+}}"
