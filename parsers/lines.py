"""Line-level helpers for plain text and Markdown: hard-wrap detection and re-joining."""

from __future__ import annotations

import re
from collections.abc import Sequence
from itertools import pairwise

from briefwatch.textnorm import clean_text

_SENTENCE_END = re.compile(r"[.!?:;…][\"'”’)\]]*$")
_HEADING_BAD_END = re.compile(r"[.!?:;,…][\"'”’)\]]*$")
_LIST_ITEM = re.compile(r"^\s*(?:[-*•+]|\d{1,3}[.)])\s+")


def wrap_width(lines: Sequence[str]) -> int | None:
    """The column a text was hard-wrapped at, or None when its lines are not wrapped.

    A wrapped text has many lines whose length sits just under one width; a text with one
    paragraph per line has lengths all over the place (and usually much longer lines).
    """
    lengths = sorted(len(line.rstrip()) for line in lines if line.strip())
    if len(lengths) < 8:
        return None
    width = lengths[int(len(lengths) * 0.95) - 1]
    if not 40 <= width <= 160:
        return None
    near = sum(1 for n in lengths if width - 20 <= n <= width + 2)
    return width if near >= 0.3 * len(lengths) else None


def was_wrapped(line: str, next_line: str, width: int) -> bool:
    """True when ``line`` ended only because ``next_line``'s first word did not fit."""
    first_word = next_line.strip().split(" ", 1)[0]
    return len(line.rstrip()) + 1 + len(first_word) > width - 1 and not _LIST_ITEM.match(
        next_line
    )


def join_wrapped(lines: Sequence[str], width: int | None) -> list[str]:
    """Re-join hard-wrapped lines of one blank-line-separated group into paragraphs."""
    if not lines:
        return []
    if width is None:
        return [clean_text(line) for line in lines if line.strip()]
    paragraphs: list[str] = []
    current = lines[0].strip()
    for prev, line in pairwise(lines):
        if was_wrapped(prev, line, width):
            current = _join(current, line.strip())
        else:
            paragraphs.append(current)
            current = line.strip()
    paragraphs.append(current)
    return [clean_text(p) for p in paragraphs if p.strip()]


def _join(left: str, right: str) -> str:
    """Join two wrapped fragments; a hyphen-broken word keeps its hyphen (we cannot know)."""
    return f"{left} {right}"


def looks_like_heading(text: str) -> bool:
    """A section heading in a text dump: short, no sentence punctuation at the end."""
    words = text.split()
    if not words or len(words) > 14 or len(text) > 100:
        return False
    if _HEADING_BAD_END.search(text):
        return False
    if text.startswith(("“", '"', "(", "-", "•")):
        return False
    first = words[0].lstrip("“\"'‘")
    return bool(first) and (first[0].isupper() or first[0].isdigit())


def ends_sentence(text: str) -> bool:
    return bool(_SENTENCE_END.search(text))


def split_groups(text: str) -> list[list[str]]:
    """Blank-line-separated groups of lines."""
    groups: list[list[str]] = []
    current: list[str] = []
    for line in text.splitlines():
        if line.strip():
            current.append(line)
        elif current:
            groups.append(current)
            current = []
    if current:
        groups.append(current)
    return groups
