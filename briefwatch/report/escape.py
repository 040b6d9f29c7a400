"""Making untrusted page text inert for each output: terminal text and Markdown.

Every renderer shows page content (titles, statements, speakers, errors) through one of these:
:func:`plain` for terminal text (one line, control characters and bidirectional overrides
replaced), :func:`md_escape` / :func:`md_code` for Markdown (no markup, link, HTML or line
structure survives). HTML is escaped by Jinja2's autoescaping (:mod:`briefwatch.report.html`),
XML by ElementTree (:mod:`briefwatch.report.atom`), both after :func:`neutralise_controls`.
"""

from __future__ import annotations

import re
import unicodedata

__all__ = ["md_code", "md_escape", "neutralise_controls", "plain"]

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


def neutralise_controls(text: str) -> str:
    """Control characters (terminal escapes, NUL, ...) and bidirectional overrides replaced
    by U+FFFD."""
    if text.isprintable():
        return text
    return "".join("\ufffd" if unicodedata.category(ch) == "Cc" or ch in _BIDI_CONTROLS
                   else ch for ch in text)


def plain(text: str | None) -> str:
    """Page text for a terminal: whitespace runs (newlines included) made one space, controls
    replaced; ``None`` is ""."""
    return neutralise_controls(" ".join(str(text).split())) if text is not None else ""


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
