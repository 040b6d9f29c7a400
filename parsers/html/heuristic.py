"""Main-content heuristic for pages no site profile knows (measured: ``eval/extraction.py``).

Readability-style scoring on an lxml tree, with one addition (step 4):

0. Link text is tallied per element on the raw tree, then chrome is removed
   (:mod:`briefwatch.parsers.html.clean`).
1. The cleaned body is walked into blocks (:mod:`briefwatch.parsers.html.blocks`), so a *text
   carrier* is whatever renders as a paragraph: a ``p``/``li``/``td``/... or text sitting
   directly in a ``div``. A paragraph of at least ``min_carrier_chars`` characters scores
   ``1 + commas + min(chars / 100, 3)``, scaled by ``1 - link density``.
2. Scores flow to the containers above (a ``p``'s parent, a bare-text ``div`` itself) and
   on up, decaying with distance (1, 1/2, then 1/(3 * level)). A container starts from a
   tag prior (``div`` +5, ``li``/``ul`` -3, headings -5, ...) and a class/id prior (+/-25 for
   content-ish/chrome-ish names). Its final score is multiplied by ``1 - link density``.
3. The best container is lifted to a common ancestor when several strong candidates share
   one (an article split into several sections).
4. *Widening*: among the best container and its ancestors, take the one with the most prose
   (paragraphs of at least ``prose_chars`` with little link text) net of penalised other
   text (``chrome_penalty`` per character) and link text counted before cleaning
   (``link_penalty`` per character). This recovers article bodies split over sibling
   containers without pulling in teaser lists, whose headlines are links.
5. Siblings of the chosen container join it when they score close to it (bonus for the same
   class) or are plain prose paragraphs.

:func:`find_main_content` returns the chosen subtrees in document order.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from lxml import etree

from briefwatch.parsers.html.blocks import RawBlock, extract_blocks
from briefwatch.parsers.html.clean import CleanOptions, clean_tree
from briefwatch.parsers.html.tree import text_of

__all__ = ["HeuristicOptions", "find_main_content"]

_LINKS = etree.XPath("descendant-or-self::a")

_POSITIVE = re.compile(
    r"article|body|content|entry|hentry|h-entry|main|page|pagination|post|text|blog|story"
    r"|prose|govspeak|editor",
    re.I,
)
_NEGATIVE = re.compile(
    r"-ad-|hidden|^hid$| hid$| hid |^hid |banner|combx|comment|com-|contact|footer|gdpr"
    r"|masthead|media|meta|outbrain|promo|related|scroll|share|shoutbox|sidebar|skyscraper"
    r"|sponsor|shopping|tags|widget|byline|author|dateline|caption|credit",
    re.I,
)
_TAG_PRIOR = {
    "div": 5.0, "article": 8.0, "main": 5.0, "section": 3.0, "pre": 3.0, "td": 3.0,
    "blockquote": 3.0, "address": -3.0, "ol": -3.0, "ul": -3.0, "dl": -3.0, "dd": -3.0,
    "dt": -3.0, "li": -3.0, "form": -3.0, "h1": -5.0, "h2": -5.0, "h3": -5.0, "h4": -5.0,
    "h5": -5.0, "h6": -5.0, "th": -5.0,
}


_DEFAULT_CLEAN = CleanOptions()


@dataclass(frozen=True, slots=True)
class HeuristicOptions:
    """Tuning of :func:`find_main_content` (defaults measured on the extraction benchmark)."""

    min_carrier_chars: int = 25
    ancestor_levels: int = 5
    top_candidates: int = 5
    sibling_ratio: float = 0.2
    shared_parent_ratio: float = 0.75
    prose_chars: int = 60
    prose_link_density: float = 0.3
    chrome_penalty: float = 4
    link_penalty: float = 5


def _norm_len(text: str) -> int:
    return len(" ".join(text.split()))


def _link_len(el: Any) -> int:
    return sum(_norm_len(text_of(a)) for a in _LINKS(el))


def _class_weight(el: Any) -> float:
    weight = 0.0
    for attr in ("class", "id"):
        value = el.get(attr)
        if not value:
            continue
        if _NEGATIVE.search(value):
            weight -= 25
        if _POSITIVE.search(value):
            weight += 25
    return weight


_PARAGRAPH_LIKE = frozenset(
    {"p", "li", "td", "th", "pre", "blockquote", "dd", "dt", "h1", "h2", "h3", "h4", "h5", "h6"}
)


def _block_score(block: RawBlock, options: HeuristicOptions) -> float:
    length = len(block.text)
    if block.kind != "paragraph" or length < options.min_carrier_chars:
        return 0.0
    commas = block.text.count(",") + block.text.count("，") + block.text.count("、")
    score = 1.0 + commas + min(length / 100.0, 3.0)
    return score * max(0.0, 1.0 - block.link_density)


@dataclass(slots=True)
class _Tally:
    """Per-element totals gathered from the blocks below it."""

    scores: dict[Any, float]
    good: dict[Any, int]  # characters of prose paragraphs below the element
    bad: dict[Any, int]  # characters of everything else (link lists, short lines)
    links: dict[Any, int]  # characters of link text below the element before cleaning


def link_tally(body: Any) -> dict[Any, int]:
    """Characters of link text below each element (taken before chrome is removed)."""
    totals: dict[Any, int] = {}
    for a in _LINKS(body):
        length = _norm_len(text_of(a))
        if not length:
            continue
        node = a.getparent()
        while node is not None:
            totals[node] = totals.get(node, 0) + length
            node = node.getparent()
    return totals


def _is_prose(block: RawBlock, options: HeuristicOptions) -> bool:
    return (
        block.kind == "paragraph"
        and len(block.text) >= options.prose_chars
        and block.link_density < options.prose_link_density
    )


def _score_tree(body: Any, links: dict[Any, int], options: HeuristicOptions) -> _Tally:
    """Scores of the containers of running text (see the module docstring)."""
    tally = _Tally({}, {}, {}, links)
    scores, good, bad = tally.scores, tally.good, tally.bad
    for block in extract_blocks([body]):
        owner = block.owner
        if owner is None:
            continue
        prose = _is_prose(block, options)
        totals = good if prose else bad
        length = len(block.text)
        node = owner
        while node is not None:
            totals[node] = totals.get(node, 0) + length
            node = node.getparent()
        score = _block_score(block, options)
        if score <= 0:
            continue
        ancestor = owner.getparent() if block.tag in _PARAGRAPH_LIKE else owner
        level = 0
        while ancestor is not None and level < options.ancestor_levels:
            if ancestor not in scores:
                atag = ancestor.tag.lower() if isinstance(ancestor.tag, str) else ""
                scores[ancestor] = _TAG_PRIOR.get(atag, 0.0) + _class_weight(ancestor)
            divider = 1.0 if level == 0 else (2.0 if level == 1 else level * 3.0)
            scores[ancestor] += score / divider
            ancestor = ancestor.getparent()
            level += 1
    return tally


def _widen(top: Any, body: Any, tally: _Tally, options: HeuristicOptions) -> Any:
    """The ancestor of ``top`` (or ``top``) with the most prose net of penalised chrome."""
    best, best_gain = top, -1e18
    node = top
    while node is not None:
        gain = (
            tally.good.get(node, 0)
            - options.chrome_penalty * tally.bad.get(node, 0)
            - options.link_penalty * tally.links.get(node, 0)
        )
        if gain > best_gain:
            best, best_gain = node, gain
        if node is body:
            break
        node = node.getparent()
    return best


def _link_density(el: Any) -> float:
    length = _norm_len(text_of(el))
    return _link_len(el) / length if length else 0.0


def find_main_content(
    body: Any,
    options: HeuristicOptions = HeuristicOptions(),
    clean: CleanOptions = _DEFAULT_CLEAN,
) -> list[Any]:
    """The subtrees of ``body`` that hold the main content, in document order.

    Removes chrome from ``body`` (in place) first.
    """
    links = link_tally(body) if options.link_penalty > 0 else {}
    clean_tree(body, clean)
    tally = _score_tree(body, links, options)
    scores = tally.scores
    if not scores:
        return [body]
    ranked = sorted(scores.items(), key=lambda kv: kv[1], reverse=True)
    ranked = ranked[: options.top_candidates * 3]
    finals = [(el, raw * (1.0 - _link_density(el))) for el, raw in ranked]
    finals.sort(key=lambda kv: kv[1], reverse=True)
    top, top_score = finals[0]
    if top_score <= 0:
        return [body]

    # Several strong candidates under one ancestor: the article is split into sections.
    strong = [el for el, s in finals[1 : options.top_candidates + 1]
              if s >= top_score * options.shared_parent_ratio]
    if len(strong) >= 2:
        parent = top.getparent()
        while parent is not None and parent is not body:
            shared = sum(1 for el in strong if _is_ancestor(parent, el))
            if shared >= 2:
                top = parent
                break
            parent = parent.getparent()

    if options.chrome_penalty > 0:
        top = _widen(top, body, tally, options)
    parent = top.getparent()
    if parent is None or top is body:
        return [top]
    threshold = max(10.0, top_score * options.sibling_ratio)
    top_class = top.get("class") or ""
    chosen: list[Any] = []
    for sibling in parent:
        if not isinstance(sibling.tag, str):
            continue
        if sibling is top:
            chosen.append(sibling)
            continue
        bonus = top_score * 0.2 if top_class and sibling.get("class") == top_class else 0.0
        sib_score = scores.get(sibling)
        if sib_score is not None and sib_score * (1 - _link_density(sibling)) + bonus >= threshold:
            chosen.append(sibling)
        elif sibling.tag.lower() == "p":
            text = " ".join(text_of(sibling).split())
            density = _link_density(sibling)
            if (len(text) > 80 and density < 0.25) or (
                0 < len(text) <= 80 and density == 0 and re.search(r"\.( |$)", text)
            ):
                chosen.append(sibling)
    return chosen or [top]


def _is_ancestor(ancestor: Any, el: Any) -> bool:
    node = el.getparent()
    while node is not None:
        if node is ancestor:
            return True
        node = node.getparent()
    return False
