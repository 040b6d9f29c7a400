"""The run report as Markdown (reviews, Prefect artifacts): every piece of page content
escaped (:func:`briefwatch.report.escape.md_escape`), so none of it can become markup or a
link."""

from __future__ import annotations

from briefwatch.contract import Change, Page, Report
from briefwatch.report.escape import md_code, md_escape
from briefwatch.report.labels import (
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

__all__ = ["markdown_change", "markdown_page", "render_markdown"]


def render_markdown(report: Report) -> str:
    run = report["run"]
    lines = [f"# briefwatch run {run['id']}", ""]
    lines.append(f"- started: {md_escape(run.get('started_at'))}")
    lines.append(f"- finished: {md_escape(run.get('finished_at'))}")
    if run.get("flow_run_id"):
        lines.append(f"- flow run: {md_code(run['flow_run_id'])}")
    elif (run.get("options") or {}).get("runner") == "in-process":
        lines.append("- ran in-process (no Prefect flow run)")
    lines.append(f"- pages: {counts_line(run)}")
    if carried_line(run):
        lines.append(f"- {carried_line(run)}")
    lines.extend(f"- {md_escape(line)}" for line in summary_lines(report))
    unchanged = 0
    for page in order_pages(report["pages"]):
        if page["status"] == "unchanged":
            unchanged += 1
            continue
        lines.extend(["", *markdown_page(page)])
    if unchanged:
        lines.extend(["", f"_{unchanged} unchanged page(s) not shown._"])
    return "\n".join(lines) + "\n"


def markdown_page(page: Page) -> list[str]:
    """One page of a report (or a diff of two versions) as Markdown lines."""
    title = md_escape(page.get("title") or page["key"])
    version = page.get("version")
    prev = page.get("previous_version")
    ver = f"v{prev} → v{version}" if prev and version else (f"v{version}" if version else "")
    sig = f" ({page['significance']})" if page.get("significance") else ""
    out = [f"## {page['status'].upper()}: {title}{sig}", "",
           f"{md_code(page['key'])} {ver}".rstrip()]
    if carried_note(page):
        out.append(f"- _{carried_note(page)}_")
    if page.get("error"):
        out.append(f"- **error:** {md_escape(page['error'])}")
    tc = page.get("title_change")
    if tc:
        out.append(f"- **title:** {md_escape(tc.get('old'))} → {md_escape(tc.get('new'))}")
    shown, hidden = shown_changes(page)
    for change in shown:
        out.append(markdown_change(change, tags=page["status"] != "new"))
    if hidden:
        out.append(f"- … {hidden} more statement(s)")
    return out


def markdown_change(change: Change, *, tags: bool = True) -> str:
    """A change as one Markdown list item."""
    kind = change["type"]
    who = speaker_label(change, md_escape)
    head = f"- **{kind}** #{change.get('position')}" + (f" ({who})" if who else "")
    label = change_tags(change) if tags else ""
    if label:
        head += f" _{md_escape(label)}_"
    if kind == "changed" and change.get("words"):
        body = ": " + word_diff_line(change["words"], _mark, md_escape)
    elif kind == "changed":
        body = f": ~~{md_escape(change.get('old'))}~~ → {md_escape(change.get('new'))}"
    elif kind == "removed":
        body = f": ~~{md_escape(change.get('old'))}~~"
    else:
        body = f": {md_escape(change.get('new'))}"
    nums = numbers_line(change, md_escape)
    note = change.get("review_note")
    return (head + body + (f" — numbers: {nums}" if nums else "")
            + (f" — review note: {md_escape(note)}" if note else ""))


def _mark(op: str, text: str) -> str:
    return f"~~{text}~~" if op == "delete" else f"**{text}**"
