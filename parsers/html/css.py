"""A small CSS-selector to XPath translator for the site profiles.

Profiles are written as CSS selectors because they read like the page's markup
(``div.page-content__content``). lxml's own CSS support needs the ``cssselect`` package,
which briefwatch does not depend on, and profiles only need a small subset:

- type selectors and ``*``: ``div``, ``*``
- classes and ids: ``.usa-banner``, ``#main-content``
- attributes: ``[hidden]``, ``[rel=canonical]``, ``[rel~=author]``, ``[class^=x]``,
  ``[class*=x]``, ``[class$=x]`` (values may be quoted)
- combinators: descendant (space) and child (``>``)
- groups: ``a, b`` (results come back in document order)

Anything else raises :class:`ValueError` (a profile bug, caught by the tests).
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from lxml import etree

_TOKEN = re.compile(
    r"""
    (?P<ws>\s*>\s*|\s+)                              # combinator
    | (?P<type>\*|[a-zA-Z][\w-]*)                    # type selector
    | \.(?P<cls>-?[_a-zA-Z][\w-]*)                   # class
    | \#(?P<id>-?[_a-zA-Z][\w-]*)                    # id
    | \[\s*(?P<attr>[a-zA-Z_:][\w:.-]*)\s*
        (?:(?P<op>[~^$*|]?=)\s*
           (?:"(?P<dq>[^"]*)"|'(?P<sq>[^']*)'|(?P<bare>[\w-]+))\s*)?
      \]                                             # attribute
    """,
    re.VERBOSE,
)


def _literal(value: str) -> str:
    """An XPath string literal for ``value`` (XPath 1.0 has no escapes)."""
    if "'" not in value:
        return f"'{value}'"
    if '"' not in value:
        return f'"{value}"'
    parts = value.split("'")
    return "concat(" + ", \"'\", ".join(f"'{p}'" for p in parts) + ")"


def _attr_predicate(name: str, op: str | None, value: str) -> str:
    attr = f"@{name}"
    lit = _literal(value)
    if op is None:
        return attr
    if op == "=":
        return f"{attr}={lit}"
    if op == "~=":
        # the cheap contains() first: libxml2 short-circuits ``and``
        return (
            f"contains({attr}, {lit}) and "
            f"contains(concat(' ', normalize-space({attr}), ' '), {_literal(' ' + value + ' ')})"
        )
    if op == "^=":
        return f"starts-with({attr}, {lit})"
    if op == "*=":
        return f"contains({attr}, {lit})"
    if op == "$=":
        return (
            f"substring({attr}, string-length({attr}) - {len(value) - 1}) = {lit}"
        )
    if op == "|=":
        return f"({attr}={lit} or starts-with({attr}, {_literal(value + '-')}))"
    raise ValueError(f"unsupported attribute operator {op!r}")


def _compound_to_xpath(tag: str, predicates: list[str]) -> str:
    return tag + "".join(f"[{p}]" for p in predicates)


def _selector_to_xpath(selector: str, prefix: str) -> str:
    pos = 0
    steps: list[str] = []
    axis = prefix
    tag = ""
    preds: list[str] = []
    selector = selector.strip()
    if not selector:
        raise ValueError("empty CSS selector")

    def close_compound() -> None:
        nonlocal tag, preds
        if not tag and not preds:
            raise ValueError(f"dangling combinator in CSS selector {selector!r}")
        steps.append(axis + _compound_to_xpath(tag or "*", preds))
        tag, preds = "", []

    while pos < len(selector):
        m = _TOKEN.match(selector, pos)
        if m is None:
            raise ValueError(f"unsupported CSS selector syntax at {selector[pos:]!r}")
        pos = m.end()
        if m.group("ws") is not None:
            close_compound()
            axis = "/" if ">" in m.group("ws") else "//"
        elif m.group("type") is not None:
            if tag or preds:
                raise ValueError(f"type selector must come first in {selector!r}")
            tag = m.group("type").lower()
        elif m.group("cls") is not None:
            preds.append(_attr_predicate("class", "~=", m.group("cls")))
        elif m.group("id") is not None:
            preds.append(_attr_predicate("id", "=", m.group("id")))
        else:
            value = m.group("dq") if m.group("dq") is not None else (
                m.group("sq") if m.group("sq") is not None else (m.group("bare") or "")
            )
            preds.append(_attr_predicate(m.group("attr"), m.group("op"), value))
    close_compound()
    return "".join(steps)


def css_to_xpath(selector: str, *, prefix: str = "descendant-or-self::") -> str:
    """Translate a (group of) CSS selector(s) into one XPath 1.0 expression."""
    groups = [g for g in selector.split(",")]
    if any(not g.strip() for g in groups):
        raise ValueError(f"empty selector in group {selector!r}")
    return " | ".join(_selector_to_xpath(g, prefix) for g in groups)


@lru_cache(maxsize=512)
def compile_css(selector: str) -> Any:
    """A compiled ``etree.XPath`` that finds ``selector`` at or below its context node."""
    return etree.XPath(css_to_xpath(selector))


def select(node: Any, selector: str) -> list[Any]:
    """Elements at or below ``node`` matching ``selector``, in document order."""
    result: list[Any] = compile_css(selector)(node)
    return result
