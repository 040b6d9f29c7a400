"""Small lxml helpers shared by the HTML modules (plain ``etree`` elements, no lxml.html).

The HTML modules use ``etree.HTMLParser`` rather than ``lxml.html``: its elements are plain
C proxies, which makes walking a page about twice as fast (lxml.html looks up a Python
element class for every element it touches).
"""

from __future__ import annotations

import re
from typing import Any

from lxml import etree

__all__ = ["drop", "text_of"]

_STRING = etree.XPath("string()")
# What lxml does not accept in text it is given (not an XML Char): C0 controls other than
# tab, newline and CR, and U+FFFE/U+FFFF. Vertical tab and form feed are whitespace to HTML,
# the rest is invisible.
_UNSETTABLE = {c: None for c in (*range(0, 9), *range(14, 32), 0xFFFE, 0xFFFF)} | {
    11: " ", 12: " "}
_HAS_UNSETTABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def text_of(el: Any) -> str:
    """All text below ``el`` (like ``text_content()``), without its tail."""
    return str(_STRING(el))


def drop(el: Any) -> None:
    """Remove ``el`` and its subtree, keeping its tail text in place."""
    parent = el.getparent()
    if parent is None:
        return
    tail = el.tail
    if tail:
        previous = el.getprevious()
        if previous is not None:
            previous.tail = _settable((previous.tail or "") + tail)
        else:
            parent.text = _settable((parent.text or "") + tail)
    parent.remove(el)


def _settable(text: str) -> str:
    """``text`` without the control characters lxml refuses to set (a page's "&#1;" or form
    feed is parsed into the tree, but cannot be written back)."""
    return text.translate(_UNSETTABLE) if _HAS_UNSETTABLE.search(text) else text
