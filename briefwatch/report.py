"""Renderings of a run report (the dict of the JSON contract) for people and tools.

- ``json``: the contract itself, one object.
- ``markdown``: for Prefect artifacts and reviews; page content is escaped so it can never
  inject markup or links.
- ``text``: for the terminal.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

Report = dict[str, Any]
STATUS_ORDER = ("failed", "changed", "new", "gone", "unchanged")
CHANGE_MARK = {"added": "+", "removed": "-", "changed": "~", "moved": ">", "reattributed": "@"}
_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>|~&])")  # what can start inline markup
MAX_NEW_PAGE_STATEMENTS = 12  # a new page's statements are all "added"; show the first few


def render(report: Report, fmt: str) -> str:
    renderers: dict[str, Callable[[Report], str]] = {
        "json": render_json,
        "markdown": render_markdown,
        "text": render_text,
    }
    try:
        return renderers[fmt](report)
    except KeyError:
        raise ValueError(f"unknown format {fmt!r}; choose json, markdown or text") from None


def render_json(report: Report) -> str:
    return json.dumps(report, ensure_ascii=False, indent=2) + "\n"


def md_escape(text: str | None) -> str:
    """Escape page text for Markdown: no markup, links, HTML or line structure survives."""
    if text is None:
        return ""
    flat = " ".join(str(text).split())
    return _MD_SPECIAL.sub(r"\\\1", flat)


def _counts_line(run: dict[str, Any]) -> str:
    counts = run.get("counts") or {}
    return ", ".join(f"{counts.get(k, 0)} {k}" for k in ("new", "changed", "unchanged", "gone",
                                                        "failed"))


def _speaker_label(change: dict[str, Any], esc: Callable[[str | None], str]) -> str:
    speaker, old = change.get("speaker"), change.get("old_speaker")
    if change["type"] == "reattributed" or (old and speaker and old != speaker):
        return f"{esc(old or 'narration')} → {esc(speaker or 'narration')}"
    return esc(speaker) if speaker else ""


def _numbers(change: dict[str, Any], esc: Callable[[str | None], str]) -> str:
    nums = change.get("numbers") or []
    return ", ".join(f"{esc(n.get('old') or '∅')} → {esc(n.get('new') or '∅')}" for n in nums)


def _sorted_pages(report: Report) -> list[dict[str, Any]]:
    order = {s: i for i, s in enumerate(STATUS_ORDER)}
    return sorted(report["pages"], key=lambda p: (order.get(p["status"], 9), p["key"]))


def render_markdown(report: Report) -> str:
    run = report["run"]
    lines = [f"# briefwatch run {run['id']}", ""]
    lines.append(f"- started: {md_escape(run.get('started_at'))}")
    lines.append(f"- finished: {md_escape(run.get('finished_at'))}")
    if run.get("flow_run_id"):
        lines.append(f"- flow run: `{run['flow_run_id']}`")
    lines.append(f"- pages: {_counts_line(run)}")
    unchanged = 0
    for page in _sorted_pages(report):
        if page["status"] == "unchanged":
            unchanged += 1
            continue
        lines.extend(["", *_markdown_page(page)])
    if unchanged:
        lines.extend(["", f"_{unchanged} unchanged page(s) not shown._"])
    return "\n".join(lines) + "\n"


def _markdown_page(page: dict[str, Any]) -> list[str]:
    title = md_escape(page.get("title") or page["key"])
    version = page.get("version")
    prev = page.get("previous_version")
    ver = f"v{prev} → v{version}" if prev and version else (f"v{version}" if version else "")
    out = [f"## {page['status'].upper()}: {title}", "",
           f"`{page['key'].replace('`', '%60')}` {ver}".rstrip()]
    if page.get("error"):
        out.append(f"- **error:** {md_escape(page['error'])}")
    if page.get("title_change"):
        tc = page["title_change"]
        out.append(f"- **title:** {md_escape(tc.get('old'))} → {md_escape(tc.get('new'))}")
    changes = page.get("changes") or []
    shown = changes[:MAX_NEW_PAGE_STATEMENTS] if page["status"] == "new" else changes
    for change in shown:
        out.append(_markdown_change(change))
    if len(shown) < len(changes):
        out.append(f"- … {len(changes) - len(shown)} more statement(s)")
    return out


def _markdown_change(change: dict[str, Any]) -> str:
    kind = change["type"]
    who = _speaker_label(change, md_escape)
    head = f"- **{kind}** #{change.get('position')}" + (f" ({who})" if who else "")
    if kind == "changed" and change.get("words"):
        body = ": " + word_diff_line(change["words"], _md_mark, md_escape)
    elif kind == "changed":
        body = f": ~~{md_escape(change.get('old'))}~~ → {md_escape(change.get('new'))}"
    elif kind == "removed":
        body = f": ~~{md_escape(change.get('old'))}~~"
    else:
        body = f": {md_escape(change.get('new'))}"
    nums = _numbers(change, md_escape)
    return head + body + (f" — numbers: {nums}" if nums else "")


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
    return " ".join(str(text).split()) if text is not None else ""


def render_text(report: Report) -> str:
    run = report["run"]
    lines = [f"briefwatch run {run['id']}  ({_plain(run.get('started_at'))} → "
             f"{_plain(run.get('finished_at'))})"]
    if run.get("flow_run_id"):
        lines.append(f"flow run {run['flow_run_id']}")
    lines.append(f"pages: {_counts_line(run)}")
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
    out = [f"[{page['status'].upper()}] {_plain(page.get('title') or page['key'])}{ver}",
           f"    {page['key']}"]
    if page.get("error"):
        out.append(f"    error: {_plain(page['error'])}")
    if page.get("title_change"):
        tc = page["title_change"]
        out.append(f"    title: {_plain(tc.get('old'))!r} -> {_plain(tc.get('new'))!r}")
    changes = page.get("changes") or []
    shown = changes[:MAX_NEW_PAGE_STATEMENTS] if page["status"] == "new" else changes
    for change in shown:
        out.extend(_text_change(change))
    if len(shown) < len(changes):
        out.append(f"    ... {len(changes) - len(shown)} more statement(s)")
    return out


def _text_change(change: dict[str, Any]) -> list[str]:
    mark = CHANGE_MARK.get(change["type"], "?")
    who = _speaker_label(change, _plain)
    head = f"  {mark} {change['type']} #{change.get('position')}" + (f" [{who}]" if who else "")
    out = [head]
    if change.get("old") is not None and change["type"] in ("changed", "removed"):
        out.append(f"      - {_plain(change['old'])}")
    if change.get("new") is not None:
        out.append(f"      + {_plain(change['new'])}")
    if change["type"] == "changed" and change.get("words"):
        out.append(f"      Δ {word_diff_line(change['words'], _text_mark, _plain)}")
    nums = _numbers(change, _plain)
    if nums:
        out.append(f"      numbers: {nums}")
    return out
