"""Markdown with YAML front matter (like the wh-briefings corpus) into blocks.

Front matter gives title, date and source URL. The body is read with Markdown's paragraph
rules: blank lines separate paragraphs, soft line breaks inside a paragraph are spaces (so
hard-wrapped lines are re-joined), a line ending in two spaces or a backslash is a hard
break. ATX/setext headings become heading blocks, list items and table rows paragraphs.
Lists whose items are only links (breadcrumbs, related links) are navigation, not content.
Inline markup (emphasis, links, images, escapes, inline HTML) is reduced to its text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import yaml

from briefwatch.errors import ParseError
from briefwatch.model import Block, Extracted, PageKind, PageMeta
from briefwatch.parsers.lines import ends_sentence, looks_like_heading
from briefwatch.parsers.speakers import transcript_label
from briefwatch.textnorm import clean_text

_FRONT_MATTER = re.compile(
    r"\A(?:\ufeff)?---[ \t]*\r?\n(.*?)\r?\n(?:---|\.\.\.)[ \t]*(?:\r?\n|\Z)", re.S
)
_ATX = re.compile(r"^\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$")
_SETEXT = re.compile(r"^\s{0,3}(=+|-+)\s*$")
_HR = re.compile(r"^\s{0,3}(?:(?:\*\s*){3,}|(?:-\s*){3,}|(?:_\s*){3,})$")
_LIST_START = re.compile(r"^(\s{0,3})(?:[-*+]|\d{1,9}[.)])(\s+)(.*)$")
_NESTED_ITEM = re.compile(r"^(\s{4,})(?:[-*+]|\d{1,9}[.)])(\s+)(.*)$")  # an item of a sub-list
_QUOTE = re.compile(r"^\s{0,3}>\s?")
_FENCE = re.compile(r"^\s{0,3}(```|~~~)")

_IMAGE = re.compile(r"!\[([^\]]*)\]\([^)]*\)")
_LINK = re.compile(r"\[((?:[^\[\]]|\\\[|\\\])*)\]\((?:[^()\s]|\([^)]*\))*(?:\s+\"[^\"]*\")?\)")
_REF_LINK = re.compile(r"\[([^\]]+)\]\[[^\]]*\]")
_AUTOLINK = re.compile(r"<((?:https?|mailto):[^>\s]+)>")
_HTML_DROP = re.compile(
    r"<(figcaption|script|style|iframe)\b[^>]*>.*?</\1\s*>|<img\b[^>]*>|<!--.*?-->", re.S | re.I
)
_HTML_BLOCK = re.compile(
    r"</?(?:p|div|tr|table|tbody|thead|figure|h[1-6]|ul|ol|li|br)\b[^>]*/?>", re.I
)
_HTML_CELL = re.compile(r"</?t[dh]\b[^>]*>", re.I)
_HTML_TAG = re.compile(r"</?[a-zA-Z][a-zA-Z0-9-]*\b[^>]*>")
_STRONG = re.compile(r"(\*\*|__)(?=\S)(.+?)(?<=\S)\1", re.S)
_EM = re.compile(
    r"(?<![\w*])\*(?=\S)(.+?)(?<=\S)\*(?!\w)|(?<![\w_])_(?=\S)(.+?)(?<=\S)_(?![\w])", re.S
)
_STRAY_EMPHASIS = re.compile(r"(?<!\\)\*{1,3}")
_ESCAPE = re.compile(r"\\([\\`*_{}\[\]()#+\-.!|>~\"'$%&,/:;<=?@^ ])")
_HARD_BREAK = re.compile(r"(?: {2,}|\\)$")
_LINK_ONLY = re.compile(r"^\s*(?:\[[^\]]*\]\([^)]*\)|<span[^>]*>.*?</span>|[\s,|·•>-])*\s*$", re.S)

_KIND_BY_TAG = {
    "press-briefings": PageKind.TRANSCRIPT,
    "speeches-remarks": PageKind.TRANSCRIPT,
    "remarks": PageKind.TRANSCRIPT,
    "briefings-statements": PageKind.RELEASE,
    "statements-releases": PageKind.RELEASE,
    "releases": PageKind.RELEASE,
    "presidential-actions": PageKind.RELEASE,
    "fact-sheets": PageKind.RELEASE,
    "articles": PageKind.ARTICLE,
    "blog": PageKind.ARTICLE,
}


@dataclass(frozen=True, slots=True)
class _Para:
    kind: str  # "heading" | "paragraph" | "list"
    lines: tuple[str, ...]
    quoted: bool = False  # the lines were "> " block-quote lines


def extract_markdown(text: str) -> Extracted:
    """Parse Markdown (with optional YAML front matter) into blocks and metadata."""
    front, body = split_front_matter(text)
    meta = _meta_from_front_matter(front)
    blocks = _blocks(body)
    if not blocks:
        raise ParseError("empty document: the Markdown body has no text")
    return Extracted(blocks=tuple(blocks), meta=meta, format="markdown")


def split_front_matter(text: str) -> tuple[dict[str, Any], str]:
    """YAML front matter as a dict (empty if none) and the body after it."""
    match = _FRONT_MATTER.match(text)
    if not match:
        return {}, text
    try:
        loaded = yaml.load(match.group(1), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except (yaml.YAMLError, ValueError) as exc:  # ValueError: "date: 2024-13-45"
        raise ParseError(f"invalid YAML front matter: {_first_line(str(exc))}") from exc
    if not isinstance(loaded, dict):
        return {}, text[match.end():]
    return loaded, text[match.end():]


def _first_line(message: str) -> str:
    return message.strip().splitlines()[0] if message.strip() else message


def _as_str(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime | date):
        return value.isoformat()
    text = clean_text(str(value))
    return text or None


def _meta_from_front_matter(front: dict[str, Any]) -> PageMeta:
    tags = front.get("tags")
    tag_list = tags if isinstance(tags, list) else [tags] if tags else []
    kind = next((_KIND_BY_TAG[t] for t in map(str, tag_list) if t in _KIND_BY_TAG), None)
    byline = front.get("author") or front.get("byline")
    if isinstance(byline, list):
        byline = ", ".join(map(str, byline))
    return PageMeta(
        title=_as_str(front.get("title")),
        canonical_url=_as_str(front.get("source_url") or front.get("canonical_url")
                              or front.get("url")),
        published=_as_str(front.get("published_time") or front.get("date")),
        byline=_as_str(byline),
        kind_hint=kind,
    )


def _blocks(body: str) -> list[Block]:
    body = _HTML_DROP.sub("", body)
    body = _HTML_CELL.sub(" | ", body)
    body = _HTML_BLOCK.sub("\n\n", body)
    blocks: list[Block] = []
    for para in _paragraphs(body.splitlines()):
        blocks.extend(_to_blocks(para))
    return blocks


def _paragraphs(lines: list[str]) -> list[_Para]:
    """Group lines into headings, paragraphs and lists (Markdown block structure, simplified)."""
    out: list[_Para] = []
    current: list[str] = []
    in_fence = False
    quoted = False

    def flush() -> None:
        nonlocal quoted
        if current:
            kind = "list" if _LIST_START.match(current[0]) else "paragraph"
            out.append(_Para(kind, tuple(current), quoted))
            current.clear()
        quoted = False

    for line in lines:
        if _FENCE.match(line):
            in_fence = not in_fence
            flush()
            continue
        if in_fence:
            current.append(line)
            continue
        if not line.strip():
            flush()
            continue
        atx = _ATX.match(line)
        if atx:
            flush()
            out.append(_Para("heading", (atx.group(2),)))
            continue
        if _SETEXT.match(line) and current and not _LIST_START.match(current[0]):
            out.append(_Para("heading", (" ".join(s.strip() for s in current),)))
            current.clear()
            continue
        if _HR.match(line):
            flush()
            continue
        if _QUOTE.match(line):
            quoted = not current or quoted
            line = _QUOTE.sub("", line)
        if _LIST_START.match(line) and current and not _LIST_START.match(current[0]):
            flush()
        current.append(line)
    flush()
    return out


def _to_blocks(para: _Para) -> list[Block]:
    if para.kind == "heading":
        text = inline_text(para.lines[0])
        return [Block("heading", text)] if text else []
    blocks = _list_blocks(para.lines) if para.kind == "list" else _paragraph_blocks(para.lines)
    if para.quoted:
        return [Block(b.kind, b.text, quoted=True) for b in blocks]
    return blocks


def _paragraph_blocks(lines: tuple[str, ...]) -> list[Block]:
    """One paragraph. A hard line break splits it only where a new transcript turn starts
    after it or a sentence ended before it; elsewhere ("… set my hand this  \\n thirtieth
    day …") it is layout, and moving it must not change the statements."""
    raw = "\n".join(lines)
    stripped = raw.strip()
    bold_only = stripped.startswith(("**", "__")) and stripped.endswith(("**", "__"))
    pieces: list[list[str]] = [[]]
    for line, following in zip(lines, (*lines[1:], ""), strict=True):
        pieces[-1].append(line.strip())
        if _HARD_BREAK.search(line) and _breaks_paragraph(line, following):
            pieces.append([])
    texts = [inline_text(" ".join(p)) for p in pieces if p]
    texts = [t for t in texts if t]
    if bold_only and len(texts) >= 1:
        joined = " ".join(texts)
        if looks_like_heading(joined):
            return [Block("heading", joined)]
    return [Block("paragraph", t) for t in texts]


def _breaks_paragraph(line: str, following: str) -> bool:
    if transcript_label(inline_text(following)) is not None:
        return True
    return ends_sentence(inline_text(_HARD_BREAK.sub("", line.rstrip(" "))))


def _list_blocks(lines: tuple[str, ...]) -> list[Block]:
    items: list[list[str]] = []
    for line in lines:
        match = _LIST_START.match(line) or _NESTED_ITEM.match(line)
        if match:
            items.append([match.group(3)])
        elif items:
            items[-1].append(line.strip())
    raw_items = [" ".join(item) for item in items]
    if raw_items and all(_LINK_ONLY.match(item) for item in raw_items):
        return []  # breadcrumbs / related links / navigation
    texts = [inline_text(item) for item in raw_items]
    return [Block("paragraph", t) for t in texts if t]


def inline_text(text: str) -> str:
    """Markdown inline markup reduced to plain text."""
    text = _IMAGE.sub("", text)
    text = _LINK.sub(lambda m: m.group(1), text)
    text = _REF_LINK.sub(lambda m: m.group(1), text)
    text = _AUTOLINK.sub(lambda m: m.group(1), text)
    text = _HTML_TAG.sub("", text)
    for _ in range(2):
        text = _STRONG.sub(lambda m: m.group(2), text)
    text = _EM.sub(lambda m: m.group(1) or m.group(2) or "", text)
    text = _STRAY_EMPHASIS.sub("", text)
    text = _ESCAPE.sub(lambda m: " " if m.group(1) == " " else m.group(1), text)
    text = text.replace("&nbsp;", " ").replace("&amp;", "&").replace("&lt;", "<")
    text = text.replace("&gt;", ">").replace("&quot;", '"').replace("&#39;", "'")
    return clean_text(text)
