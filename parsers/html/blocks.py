"""Content subtree -> paragraphs and headings, with browser-like spacing.

The walk is iterative (``etree.iterwalk``), so document depth never touches Python's
recursion limit.

Spacing rules:

- Block-level elements (``p``, ``div``, ``li``, ``td``, ``blockquote``, ``h1``-``h6``, ...)
  end a paragraph; inline elements (``a``, ``span``, ``em``, ``b``, ...) do not.
- Text is joined exactly as written, as a browser renders it: ``Hello <b>world</b>`` is
  "Hello world", ``a<b>b</b>`` is "ab". Source whitespace at tag boundaries survives, so
  inline tags never glue two words that the page separates.
- Whitespace that sits at a tag boundary before closing punctuation (``.,;:!?)]%”’``) or
  after opening brackets/quotes is dropped: pretty-printed markup like ``<em>\\n abuela\\n
  </em>,`` reads "abuela," not "abuela ,". Whitespace inside a text node is never touched.
- ``<br>`` is a line break inside the paragraph (a space), two or more ``<br>`` in a row
  end the paragraph, and a ``<br>`` followed by a transcript speaker label
  (``THE PRESIDENT:``, ``Q``) also ends it, so every speaker turn starts a paragraph.
- The text of each block goes through :func:`briefwatch.textnorm.clean_text`.

Each block carries its link density (share of its characters inside ``<a>``), which the
callers use to recognise link lists.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any, NamedTuple

from lxml import etree

from briefwatch.model import BlockKind
from briefwatch.textnorm import clean_text

__all__ = ["BLOCK_TAGS", "HEADING_TAGS", "SPEAKER_LABEL", "RawBlock", "extract_blocks"]

BLOCK_TAGS = frozenset(
    {
        "address", "article", "aside", "blockquote", "body", "caption", "center", "dd",
        "details", "dialog", "dir", "div", "dl", "dt", "fieldset", "figure", "footer",
        "form", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hgroup", "hr", "html",
        "legend", "li", "main", "menu", "nav", "ol", "p", "pre", "section", "summary",
        "table", "tbody", "td", "tfoot", "th", "thead", "tr", "ul", "noscript", "frameset",
        "listing", "plaintext", "xmp", "optgroup", "search",
    }
)
HEADING_TAGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})

# Private-use code points stand for markup inside a paragraph's raw text.
_TAG = "\ue000"  # an inline tag boundary
_BR = "\ue001"  # <br>
_LINK_OPEN = "\ue002"
_LINK_CLOSE = "\ue003"
_MARKS = _TAG + _LINK_OPEN + _LINK_CLOSE
_ALL_MARKS = _MARKS + _BR
_ANY_MARK = re.compile(f"[{_ALL_MARKS}]")

# A transcript speaker label at the start of a line: "THE PRESIDENT:", "MS. PSAKI:", "Q".
SPEAKER_LABEL = re.compile(
    r"(?:Q(?:[:.]|\s)|(?:[A-Z][A-Z.'’\-]*\s+){0,5}[A-Z][A-Z.'’\-]+:(?:\s|$))"
)
_BR_RUN = re.compile(f"{_BR}(?:[\\s{_MARKS}]*{_BR})+")
_BR_BEFORE_SPEAKER = re.compile(f"{_BR}(?=[\\s{_MARKS}]*{SPEAKER_LABEL.pattern})")
_LINK_SPAN = re.compile(f"{_LINK_OPEN}([^{_LINK_OPEN}{_LINK_CLOSE}]*){_LINK_CLOSE}")
_SPACE_BEFORE_CLOSING = re.compile(
    f"\\s*[{_MARKS}][\\s{_MARKS}]*(?=[.,;:!?%)\\]}}”’»]|'s\\b)"
)
_SPACE_AFTER_OPENING = re.compile(f"(?<=[(\\[{{“‘«])[\\s{_MARKS}]*[{_MARKS}]\\s*")
_HAS_WORD = re.compile(r"\w")


class RawBlock(NamedTuple):
    """A block before boilerplate filtering: its text, link density and source element."""

    kind: BlockKind
    text: str
    link_density: float
    tag: str
    owner: Any = None  # the block element the text came from


def _non_space_len(text: str) -> int:
    return len("".join(text.split()))


def _plain(raw: str) -> str:
    """``raw`` without marker code points (``<br>`` becomes a space)."""
    return (
        raw.replace(_TAG, "")
        .replace(_LINK_OPEN, "")
        .replace(_LINK_CLOSE, "")
        .replace(_BR, " ")
    )


def _link_density(raw: str) -> float:
    if _LINK_OPEN not in raw:
        return 0.0
    total = _non_space_len(_plain(raw))
    if not total:
        return 0.0
    linked = 0
    for m in _LINK_SPAN.finditer(raw.replace(_TAG, "").replace(_BR, " ")):
        linked += _non_space_len(m.group(1))
    return min(1.0, linked / total)


def _has_mark(text: str) -> bool:
    return _TAG in text or _BR in text or _LINK_OPEN in text or _LINK_CLOSE in text


def _finish(raw: str) -> str:
    if _TAG in raw or _LINK_OPEN in raw or _LINK_CLOSE in raw:
        raw = _SPACE_BEFORE_CLOSING.sub("", raw)
        raw = _SPACE_AFTER_OPENING.sub("", raw)
    return clean_text(_plain(raw))


def _split_paragraphs(raw: str) -> list[str]:
    parts: list[str] = []
    for chunk in _BR_RUN.split(raw):
        parts.extend(_BR_BEFORE_SPEAKER.split(chunk))
    return parts


def _emit(raw: str, kind: BlockKind, owner: Any, blocks: list[RawBlock]) -> None:
    """Turn the raw text of one block element into zero or more blocks."""
    if _HAS_WORD.search(raw) is None:
        return
    tag = owner.tag if isinstance(owner.tag, str) else ""
    if not _has_mark(raw):  # plain text, the common case
        text = clean_text(raw)
        if text:
            blocks.append(RawBlock(kind, text, 0.0, tag, owner))
        return
    pieces = [raw] if kind == "heading" or _BR not in raw else _split_paragraphs(raw)
    for piece in pieces:
        text = _finish(piece)
        if text and _HAS_WORD.search(text):
            blocks.append(RawBlock(kind, text, _link_density(piece), tag, owner))


def _walk(root: Any, blocks: list[RawBlock]) -> None:
    buf: list[str] = []
    add = buf.append
    block_stack: list[Any] = [root]
    heading_depth = 0

    def flush(kind: BlockKind, owner: Any) -> None:
        if buf:
            raw = "".join(buf)
            buf.clear()
            if not raw.isspace():
                _emit(raw, kind, owner, blocks)

    for event, el in etree.iterwalk(root, events=("start", "end")):
        tag = el.tag
        if event == "start":
            if tag in BLOCK_TAGS:
                if heading_depth == 0:
                    flush("paragraph", block_stack[-1])
                block_stack.append(el)
                if tag in HEADING_TAGS:
                    heading_depth += 1
            elif tag == "a":
                add(_LINK_OPEN)
            elif tag == "br":
                add(_BR)
            elif isinstance(tag, str):
                add(_TAG)
            else:  # comment or processing instruction: no text of its own
                continue
            text = el.text
            if text:
                add(text)
        else:
            if tag in BLOCK_TAGS:
                if tag in HEADING_TAGS:
                    heading_depth -= 1
                    if heading_depth == 0:
                        flush("heading", el)
                elif heading_depth == 0:
                    flush("paragraph", el)
                block_stack.pop()
            elif tag == "a":
                add(_LINK_CLOSE)
            elif tag != "br" and isinstance(tag, str):
                add(_TAG)
            if el is not root:
                tail = el.tail
                if tail:
                    add(tail)
    flush("paragraph", root)


def extract_blocks(roots: Iterable[Any]) -> list[RawBlock]:
    """The blocks of the given content roots, in order."""
    blocks: list[RawBlock] = []
    for root in roots:
        _walk(root, blocks)
    return blocks


def strip_private_marks(text: str) -> str:
    """Remove the private-use code points the walker uses as markers from input text."""
    return _ANY_MARK.sub("", text)
