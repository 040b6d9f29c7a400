"""Small lxml helpers shared by the HTML modules (plain ``etree`` elements, no lxml.html).

The HTML modules use ``etree.HTMLParser`` rather than ``lxml.html``: its elements are plain
C proxies, which makes walking a page about twice as fast (lxml.html looks up a Python
element class for every element it touches).
"""

from __future__ import annotations

from typing import Any

from lxml import etree

__all__ = ["drop", "text_of"]

_STRING = etree.XPath("string()")


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
            previous.tail = (previous.tail or "") + tail
        else:
            parent.text = (parent.text or "") + tail
    parent.remove(el)
