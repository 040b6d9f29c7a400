"""Renderings of a run report (the dict of the JSON contract) for people and tools.

- ``json``: the contract itself, one object.
- ``markdown``: for Prefect artifacts and reviews; page content is escaped so it can never
  inject markup or links.
- ``text``: for the terminal; control characters in page content are replaced.
- ``html``: a self-contained page (see :mod:`briefwatch.report.html`).

Pages are ordered for people by :func:`briefwatch.report.views.order_pages` (failed first,
then unreviewed, then most significant) and changes by
:func:`briefwatch.report.views.order_changes`; each change shows its significance, and a
stored change its id and review state (``briefwatch review ID``).
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Callable
from typing import Any

from briefwatch.report.views import (
    STATUS_ORDER,
    order_changes,
    order_pages,
    review_counts,
    significance_counts,
)

Report = dict[str, Any]
__all__ = ["STATUS_ORDER", "md_code", "md_escape", "prefect_table_rows", "render",
           "render_json", "render_markdown", "render_markdown_artifact", "render_text",
           "word_diff_line"]
CHANGE_MARK = {"added": "+", "removed": "-", "changed": "~", "moved": ">", "reattributed": "@"}
_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>|~&])")  # what can start inline markup
# what a GFM renderer (Prefect's UI uses marked, GitHub cmark-gfm) links without any markup:
# a scheme URL, www.-something, an e-mail address; shown as a code span instead
# (bounded repeats before '://' and '@': unbounded ones rescan a long word from every
# position, quadratic — a 5 MB word took hours)
_MD_BARE_LINK = re.compile(r"(?i)(?:\b[a-z][a-z0-9+.-]{0,31}://|\bwww\.)[^\s`<>()\[\]\"']*"
                           r"|[^\s`@<>()\[\]]{1,64}@[^\s`@<>()\[\]]{1,255}\.[^\s`<>()\[\]\"']*")
# bidirectional embeddings, overrides and isolates: they reorder how text is shown (a "163"
# shown as "361"); marks (LRM, RLM, ALM) only nudge neutral characters and stay
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
MAX_NEW_PAGE_STATEMENTS = 12  # a new page's statements are all "added"; show the first few


def render(report: Report, fmt: str) -> str:
    from briefwatch.report.html import render_report_html

    renderers: dict[str, Callable[[Report], str]] = {
        "json": render_json,
        "markdown": render_markdown,
        "text": render_text,
        "html": render_report_html,
    }
    if report["run"].get("kind") == "reparse" and fmt in ("text", "markdown"):
        from briefwatch.report import reparse as reparse_report

        renderers |= {"text": reparse_report.render_text,
                      "markdown": reparse_report.render_markdown}
    try:
        renderer = renderers[fmt]
    except KeyError:
        raise ValueError(f"unknown format {fmt!r}; choose json, markdown, text or html") from None
    return renderer(report)


def render_json(report: Report) -> str:
    return json.dumps(report, ensure_ascii=False, indent=2) + "\n"


def neutralise_controls(text: str) -> str:
    """Control characters (terminal escapes, NUL, ...) and bidirectional overrides replaced
    by U+FFFD."""
    if text.isprintable():
        return text
    return "".join("\ufffd" if unicodedata.category(ch) == "Cc" or ch in _BIDI_CONTROLS
                   else ch for ch in text)


def md_escape(text: str | None) -> str:
    """Escape page text for Markdown: no markup, links, HTML or line structure survives.
    A bare URL or e-mail address (which GFM renderers would link) becomes a code span."""
    if text is None:
        return ""
    flat = neutralise_controls(" ".join(str(text).split()))
    out, last = [], 0
    for found in _MD_BARE_LINK.finditer(flat):
        out += [_MD_SPECIAL.sub(r"\\\1", flat[last:found.start()]), md_code(found.group())]
        last = found.end()
    out.append(_MD_SPECIAL.sub(r"\\\1", flat[last:]))
    return "".join(out)


def md_code(text: str | None) -> str:
    """Page text as one Markdown code span (shown literally: no markup, no links); a
    backtick in it becomes %60."""
    if not text:
        return ""
    return f"`{neutralise_controls(' '.join(str(text).split())).replace('`', '%60')}`"


def prefect_table_rows(report: Report) -> list[dict[str, Any]]:
    """The changed-pages table artifact's rows. Prefect's UI renders every string cell as
    Markdown, so page content in them is escaped as in the Markdown report."""
    return [
        {"status": p["status"], "key": md_escape(p["key"]),
         "title": md_escape(p.get("title") or ""), "version": p.get("version"),
         "changes": len(p.get("changes") or []), "error": md_escape(p.get("error") or "")}
        for p in report["pages"] if p["status"] != "unchanged"
    ]


def _counts_line(run: dict[str, Any]) -> str:
    counts = run.get("counts") or {}
    line = ", ".join(f"{counts.get(k, 0)} {k}" for k in ("new", "changed", "unchanged", "gone",
                                                        "failed"))
    # blocked (web pages answered by a bot-block page) only when there are any
    return line + (f", {counts['blocked']} blocked" if counts.get("blocked") else "")


def carried_note(page: dict[str, Any]) -> str:
    """"carried over from run 5 (…)" for a page whose outcomes come from earlier runs whose
    reports were never delivered (see ``briefwatch.store.carryover``); "" otherwise."""
    runs = page.get("carried_from_runs") or []
    if not runs:
        return ""
    names = ", ".join(str(r) for r in runs)
    return (f"carried over from run{'s' if len(runs) > 1 else ''} {names} "
            "(stopped before its report was delivered)")


def carried_line(run: dict[str, Any]) -> str:
    """The run summary's line about carried-over pages; "" when there are none."""
    carried = run.get("carried_over") or {}
    if not carried.get("pages"):
        return ""
    runs = ", ".join(str(r) for r in carried.get("contributing_runs") or [])
    return (f"includes {carried['pages']} page(s), {carried.get('changes', 0)} change(s) "
            f"carried over from undelivered run(s) {runs}")


def _speaker_label(change: dict[str, Any], esc: Callable[[str | None], str]) -> str:
    speaker, old = change.get("speaker"), change.get("old_speaker")
    if change["type"] == "reattributed" or (change["type"] == "changed" and
                                            (old or "") != (speaker or "")):
        return f"{esc(old or 'narration')} → {esc(speaker or 'narration')}"
    return esc(speaker) if speaker else ""


def _numbers(change: dict[str, Any], esc: Callable[[str | None], str]) -> str:
    nums = change.get("numbers") or []
    return ", ".join(f"{esc(n.get('old') or '∅')} → {esc(n.get('new') or '∅')}" for n in nums)


def _sorted_pages(report: Report) -> list[dict[str, Any]]:
    return order_pages(report["pages"])


def _summary_lines(report: Report) -> list[str]:
    """Significance and review counts of the report's changes, and its filter, if any."""
    pages = report["pages"]
    sig = significance_counts(pages)
    lines = []
    if any(sig.values()):
        review = review_counts(pages)
        lines.append("changes: " + ", ".join(f"{n} {k}" for k, n in sig.items()) + "; "
                     + ", ".join(f"{n} {k}" for k, n in review.items() if n))
    flt = report.get("filter")
    if flt:
        shown = []
        if flt.get("min_significance"):
            shown.append(f"significance {flt['min_significance']} or higher")
        if flt.get("unreviewed"):
            shown.append("unreviewed only")
        lines.append(f"showing {', '.join(shown)}: {flt['hidden_changes']} change(s) and "
                     f"{flt['hidden_pages']} page(s) hidden")
    return lines


def _change_tags(change: dict[str, Any]) -> str:
    """``high: figure changed … · change 12 unreviewed`` (plain text, not escaped)."""
    parts = []
    if change.get("significance"):
        parts.append(f"{change['significance']}: {change.get('significance_reason') or ''}"
                     .rstrip(": "))
    if change.get("id") is not None:
        parts.append(f"change {change['id']} {change.get('review_status') or 'unreviewed'}")
    if change.get("superseded_by_run") is not None:
        parts.append(f"superseded by reparse run {change['superseded_by_run']}")
    return " · ".join(parts)


def render_markdown(report: Report) -> str:
    run = report["run"]
    lines = [f"# briefwatch run {run['id']}", ""]
    lines.append(f"- started: {md_escape(run.get('started_at'))}")
    lines.append(f"- finished: {md_escape(run.get('finished_at'))}")
    if run.get("flow_run_id"):
        lines.append(f"- flow run: {md_code(run['flow_run_id'])}")
    lines.append(f"- pages: {_counts_line(run)}")
    if carried_line(run):
        lines.append(f"- {carried_line(run)}")
    lines.extend(f"- {md_escape(line)}" for line in _summary_lines(report))
    unchanged = 0
    for page in _sorted_pages(report):
        if page["status"] == "unchanged":
            unchanged += 1
            continue
        lines.extend(["", *_markdown_page(page)])
    if unchanged:
        lines.extend(["", f"_{unchanged} unchanged page(s) not shown._"])
    return "\n".join(lines) + "\n"


# The Prefect Markdown artifact is for reading in the UI: a statement is clipped to this many
# characters and the whole artifact cut at a page boundary near this size (a 5 MB statement
# made a 12 MB artifact Prefect's event stream refused); the store keeps everything, and
# `briefwatch report --run N` prints it whole.
ARTIFACT_MAX_CHARS = 1_000_000
ARTIFACT_MAX_TEXT = 2_000


def render_markdown_artifact(report: Report, *, max_chars: int = ARTIFACT_MAX_CHARS,
                             max_text: int = ARTIFACT_MAX_TEXT) -> str:
    """:func:`render_markdown` for a Prefect artifact: statements longer than ``max_text``
    clipped (saying so), the text cut at the last page boundary under ``max_chars`` with a
    line naming the command that prints the whole report."""
    clipped = {**report, "pages": [_clipped_page(p, max_text) for p in report["pages"]]}
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


def _clipped_page(page: dict[str, Any], limit: int) -> dict[str, Any]:
    changes = page.get("changes")
    if not changes:
        return page
    return {**page, "changes": [
        {**c, "old": _clip(c.get("old"), limit), "new": _clip(c.get("new"), limit),
         "words": [[op, _clip(t, limit)] for op, t in (c.get("words") or [])] or c.get("words")}
        for c in changes]}


def markdown_page(page: dict[str, Any]) -> list[str]:
    """One page of a report as Markdown lines."""
    return _markdown_page(page)


def _markdown_page(page: dict[str, Any]) -> list[str]:
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
    if page.get("title_change"):
        tc = page["title_change"]
        out.append(f"- **title:** {md_escape(tc.get('old'))} → {md_escape(tc.get('new'))}")
    changes = page.get("changes") or []
    if page["status"] != "new":
        changes = order_changes(changes)
    shown = changes[:MAX_NEW_PAGE_STATEMENTS] if page["status"] == "new" else changes
    for change in shown:
        out.append(_markdown_change(change, tags=page["status"] != "new"))
    if len(shown) < len(changes):
        out.append(f"- … {len(changes) - len(shown)} more statement(s)")
    return out


def _markdown_change(change: dict[str, Any], *, tags: bool = True) -> str:
    kind = change["type"]
    who = _speaker_label(change, md_escape)
    head = f"- **{kind}** #{change.get('position')}" + (f" ({who})" if who else "")
    label = _change_tags(change) if tags else ""
    if label:
        head += f" _{md_escape(label)}_"
    if kind == "changed" and change.get("words"):
        body = ": " + word_diff_line(change["words"], _md_mark, md_escape)
    elif kind == "changed":
        body = f": ~~{md_escape(change.get('old'))}~~ → {md_escape(change.get('new'))}"
    elif kind == "removed":
        body = f": ~~{md_escape(change.get('old'))}~~"
    else:
        body = f": {md_escape(change.get('new'))}"
    nums = _numbers(change, md_escape)
    note = change.get("review_note")
    return (head + body + (f" — numbers: {nums}" if nums else "")
            + (f" — review note: {md_escape(note)}" if note else ""))


CONTEXT_WORDS = 6  # words of unchanged context kept around each edit in a word diff


def _context(text: str, *, head: bool, tail: bool) -> str:
    """Shorten an unchanged run to the words next to the edits around it."""
    words = text.split()
    if len(words) <= 2 * CONTEXT_WORDS:
        return text
    if head and tail:
        return " ".join([*words[:CONTEXT_WORDS], "…", *words[-CONTEXT_WORDS:]])
    if head:
        return " ".join(["…", *words[-CONTEXT_WORDS:]])
    return " ".join([*words[:CONTEXT_WORDS], "…"])


def word_diff_line(words: list[list[str]] | None, mark: Callable[[str, str], str],
                   esc: Callable[[str | None], str]) -> str:
    """A compact word diff: edits marked with ``mark(op, text)``, unchanged runs shortened."""
    if not words:
        return ""
    parts: list[str] = []
    for i, (op, text) in enumerate(words):
        if op == "equal":
            parts.append(esc(_context(text, head=i > 0, tail=i < len(words) - 1)))
        else:
            parts.append(mark(op, esc(text)))
    return " ".join(p for p in parts if p)


def _text_mark(op: str, text: str) -> str:
    return f"[-{text}-]" if op == "delete" else f"{{+{text}+}}"


def _md_mark(op: str, text: str) -> str:
    return f"~~{text}~~" if op == "delete" else f"**{text}**"


def _plain(text: str | None) -> str:
    return neutralise_controls(" ".join(str(text).split())) if text is not None else ""


def render_text(report: Report) -> str:
    run = report["run"]
    lines = [f"briefwatch run {run['id']}  ({_plain(run.get('started_at'))} → "
             f"{_plain(run.get('finished_at'))})"]
    if run.get("flow_run_id"):
        lines.append(f"flow run {_plain(run['flow_run_id'])}")
    lines.append(f"pages: {_counts_line(run)}")
    if carried_line(run):
        lines.append(carried_line(run))
    lines.extend(_summary_lines(report))
    unchanged = 0
    for page in _sorted_pages(report):
        if page["status"] == "unchanged":
            unchanged += 1
            continue
        lines.append("")
        lines.extend(_text_page(page))
    if unchanged:
        lines.extend(["", f"{unchanged} unchanged page(s)"])
    return "\n".join(lines) + "\n"


def _text_page(page: dict[str, Any]) -> list[str]:
    version = page.get("version")
    prev = page.get("previous_version")
    ver = f" v{prev} -> v{version}" if prev and version else (f" v{version}" if version else "")
    sig = f"  ({page['significance']})" if page.get("significance") else ""
    out = [f"[{page['status'].upper()}] {_plain(page.get('title') or page['key'])}{ver}{sig}",
           f"    {_plain(page['key'])}"]
    if carried_note(page):
        out.append(f"    {carried_note(page)}")
    if page.get("error"):
        out.append(f"    error: {_plain(page['error'])}")
    if page.get("title_change"):
        tc = page["title_change"]
        out.append(f"    title: {_plain(tc.get('old'))!r} -> {_plain(tc.get('new'))!r}")
    changes = page.get("changes") or []
    if page["status"] != "new":
        changes = order_changes(changes)
    shown = changes[:MAX_NEW_PAGE_STATEMENTS] if page["status"] == "new" else changes
    for change in shown:
        out.extend(_text_change(change, tags=page["status"] != "new"))
    if len(shown) < len(changes):
        out.append(f"    ... {len(changes) - len(shown)} more statement(s)")
    return out


def _text_change(change: dict[str, Any], *, tags: bool = True) -> list[str]:
    """A change as indented lines; ``tags``: show its significance and review state (not
    for a new page's statements, which are all "added")."""
    mark = CHANGE_MARK.get(change["type"], "?")
    who = _speaker_label(change, _plain)
    head = f"  {mark} {change['type']} #{change.get('position')}" + (f" [{who}]" if who else "")
    label = _change_tags(change) if tags else ""
    out = [head + (f"  ({_plain(label)})" if label else "")]
    if change.get("old") is not None and change["type"] in ("changed", "removed"):
        out.append(f"      - {_plain(change['old'])}")
    if change.get("new") is not None:
        out.append(f"      + {_plain(change['new'])}")
    if change["type"] == "changed" and change.get("words"):
        out.append(f"      Δ {word_diff_line(change['words'], _text_mark, _plain)}")
    nums = _numbers(change, _plain)
    if nums:
        out.append(f"      numbers: {nums}")
    if change.get("review_note"):
        out.append(f"      review note: {_plain(change['review_note'])}")
    return out
