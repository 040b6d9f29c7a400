"""Plain-text dumps of briefing pages (like ``shared/seeds/*.txt``) into blocks."""

from __future__ import annotations

from briefwatch.errors import ParseError
from briefwatch.model import Block, Extracted, PageMeta
from briefwatch.parsers.lines import join_wrapped, looks_like_heading, split_groups, wrap_width


def extract_text(text: str) -> Extracted:
    """Split a text dump into paragraph and heading blocks.

    Blank lines separate groups. In a hard-wrapped text the lines of a group are re-joined
    into paragraphs; otherwise every line is its own block (text dumps put one paragraph,
    caption or heading per line). Short lines without sentence punctuation are headings.
    The title is the first heading before any paragraph.
    """
    if not text.strip():
        raise ParseError("empty document: no text")
    groups = split_groups(text)
    width = wrap_width([line for group in groups for line in group])
    blocks: list[Block] = []
    for group in groups:
        for para in join_wrapped(group, width):
            blocks.append(Block("heading" if looks_like_heading(para) else "paragraph", para))
    if not blocks:
        raise ParseError("empty document: no text")
    return Extracted(blocks=tuple(blocks), meta=PageMeta(), format="text")
