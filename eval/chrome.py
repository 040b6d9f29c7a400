"""Evaluation 2 — government page chrome: whitehouse.gov (2020 theme), 58 raw pages.

Ground truth by an lxml walk of the raw HTML, independent of ``parsers/``. The transcript
body of this theme (hand-inspected) is the children of ``<div class="page-content__content
editor">`` other than its ``<aside>`` modules (share tools, "All News" button).

(a) **Turns**: the ``<p>`` elements of the body whose text starts with an ALL-CAPS label and a
colon, or ``Q`` and whitespace (:func:`eval.turnmatch.turn_label`); each must come out of
:func:`briefwatch.parsers.parse`, in order, as a statement with that speaker
(:func:`eval.turnmatch.match_turns`).

(b) **Chrome**: every visible text node of the page *outside* the body — header, navigation,
page header (section name, issue flag, "Issued on:" date), share tools, sidebar button,
footer, social links, copyright — but not the ``<h1>`` title and not ``<script>`` /
``<style>`` / ``<noscript>`` / ``<template>``. A chrome line that also occurs in the body's
text is ambiguous and left out. A statement *leaks* chrome when its text equals a chrome line
or contains one of at least three words and 15 characters (typography folded, spacing
collapsed).

(c) Beside it, not in the goal: statements whose text cannot be found in the body's text at
all (whatever their origin).
"""

from __future__ import annotations

import copy
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import lxml.html
from lxml.html import HtmlElement

from briefwatch.errors import ParseError
from briefwatch.parsers import parse
from briefwatch.textnorm import match_key
from eval.common import EvalOptions, Figure, SectionResult, corpus, parallel_map, share
from eval.turnmatch import Turn, TurnMiss, make_said, make_turn, match_turns

SECTION = "2"
TITLE = "Government page chrome (whitehouse-2020-html)"
BODY_XPATH = (
    '//div[contains(concat(" ", normalize-space(@class), " "), " page-content__content ")]'
)
TITLE_XPATH = '//h1[contains(concat(" ", normalize-space(@class), " "), " page-header__title ")]'
INVISIBLE = ("script", "style", "noscript", "template")
REGIONS = ("header", "nav", "footer", "aside")
MIN_CONTAINED_WORDS = 3
MIN_CONTAINED_CHARS = 15


@dataclass(slots=True)
class PageResult:
    name: str
    turns: int = 0
    recovered: int = 0
    misses: list[TurnMiss] = field(default_factory=list)
    chrome_lines: int = 0
    ambiguous_lines: int = 0
    statements: int = 0
    leaks: list[dict[str, str]] = field(default_factory=list)
    untraceable: list[str] = field(default_factory=list)
    error: str | None = None


@dataclass(frozen=True, slots=True)
class PageTruth:
    turns: list[Turn]
    body_text: str  # folded, spacing collapsed
    chrome: dict[str, str]  # chrome line (folded) -> region it came from


def _collapse(text: str) -> str:
    return " ".join(match_key(text).split())


def _region(element: HtmlElement) -> str:
    for ancestor in (element, *element.iterancestors()):
        tag = ancestor.tag if isinstance(ancestor.tag, str) else ""
        classes = ancestor.get("class", "")
        if "share" in classes.split() or "editor__module-share" in classes:
            return "share tools"
        if "page-header" in classes.split():
            return "page header"
        if tag in REGIONS:
            return tag
    return "other"


def page_truth(raw: bytes) -> PageTruth:
    """Turns, body text and chrome lines of one page, from the raw HTML."""
    root = lxml.html.fromstring(raw)
    bodies = root.xpath(BODY_XPATH)
    if not bodies:
        raise ValueError("no page-content__content container: not the 2020 theme")
    body = bodies[0]
    content = [ch for ch in body if isinstance(ch.tag, str) and ch.tag != "aside"]
    paragraphs = [p for el in content for p in el.iter("p")]
    turns = [t for p in paragraphs if (t := make_turn(p.text_content())) is not None]
    body_text = _collapse(" ".join(el.text_content() for el in content))

    chrome_root = copy.deepcopy(root)
    for el in chrome_root.xpath("|".join(f"//{tag}" for tag in INVISIBLE) + "|" + TITLE_XPATH):
        el.drop_tree()
    chrome_body = chrome_root.xpath(BODY_XPATH)[0]
    for ch in list(chrome_body):
        if isinstance(ch.tag, str) and ch.tag != "aside":
            ch.drop_tree()
    chrome: dict[str, str] = {}
    for el in chrome_root.body.iter():
        if not isinstance(el.tag, str):
            continue
        for text, owner in ((el.text, el), (el.tail, el.getparent())):
            line = _collapse(text or "")
            if line and owner is not None and line not in chrome:
                chrome[line] = _region(owner)
    return PageTruth(turns, body_text, chrome)


def evaluate_page(path_str: str) -> PageResult:
    path = Path(path_str)
    raw = path.read_bytes()
    result = PageResult(f"{path.parent.name}/{path.name}")
    truth = page_truth(raw)
    result.turns = len(truth.turns)
    try:
        doc = parse(raw, location=path.resolve().as_uri())
    except ParseError as exc:
        result.error = str(exc)
        result.misses = [TurnMiss(t, "page failed to parse") for t in truth.turns]
        return result
    result.statements = len(doc.statements)
    said = [make_said(s.text, s.speaker) for s in doc.statements]
    result.recovered, result.misses = match_turns(truth.turns, said)

    chrome = {line: region for line, region in truth.chrome.items()
              if line not in truth.body_text}
    result.chrome_lines = len(chrome)
    result.ambiguous_lines = len(truth.chrome) - len(chrome)
    contained = [line for line in chrome
                 if len(line.split()) >= MIN_CONTAINED_WORDS and len(line) >= MIN_CONTAINED_CHARS]
    for statement in doc.statements:
        text = _collapse(statement.text)
        hit = text if text in chrome else next((c for c in contained if c in text), None)
        if hit is not None:
            result.leaks.append({"statement": statement.text[:200], "chrome_line": hit,
                                 "region": chrome[hit], "speaker": statement.speaker or ""})
        if text not in truth.body_text:
            result.untraceable.append(statement.text[:200])
    return result


def run(options: EvalOptions) -> SectionResult:
    start = time.perf_counter()
    root = corpus(options, "whitehouse-2020-html")
    files = [str(p) for p in sorted(root.glob("v*/*.html"))]
    results = parallel_map(evaluate_page, files, options.workers, chunksize=2)
    turns = sum(r.turns for r in results)
    recovered = sum(r.recovered for r in results)
    statements = sum(r.statements for r in results)
    leaks = sum(len(r.leaks) for r in results)
    untraceable = sum(len(r.untraceable) for r in results)
    section = SectionResult(SECTION, TITLE)
    section.figures = [
        Figure(SECTION, "(a) transcript turns recovered with their speaker",
               share(recovered, turns), 0.99, support=f"{len(results)} pages, {turns:,} turns"),
        Figure(SECTION, "(b) statements leaking page chrome", float(leaks), 0.0,
               comparison="<=", unit="count",
               support=f"{statements:,} statements, "
                       f"{sum(r.chrome_lines for r in results):,} chrome lines"),
        Figure(SECTION, "(c) statements not found in the transcript body (not in the goal)",
               float(untraceable), None, unit="count", support=f"{statements:,} statements"),
        Figure(SECTION, "pages that failed to parse", float(sum(bool(r.error) for r in results)),
               0.0, comparison="<=", unit="count", support=f"{len(results)} pages"),
    ]
    section.details = _details(results, options.examples)
    section.seconds = time.perf_counter() - start
    return section


def _details(results: list[PageResult], count: int) -> dict[str, Any]:
    categories: Counter[str] = Counter(m.category for r in results for m in r.misses)
    leak_lines: Counter[str] = Counter(leak["chrome_line"] for r in results for leak in r.leaks)
    leak_regions: Counter[str] = Counter(leak["region"] for r in results for leak in r.leaks)
    untraceable: Counter[str] = Counter(s for r in results for s in r.untraceable)
    return {
        "pages": len(results),
        "turns": sum(r.turns for r in results),
        "recovered": sum(r.recovered for r in results),
        "misses_by_category": dict(categories.most_common()),
        "miss_examples": [
            {"page": r.name, "turn": m.turn.text[:200], "category": m.category,
             "parsed_as": (m.statement or "")[:200], "parsed_speaker": m.got_speaker}
            for r in results for m in r.misses
        ][:count],
        "chrome_lines_per_page": round(sum(r.chrome_lines for r in results) / len(results), 1)
        if results else 0,
        "ambiguous_chrome_lines_left_out": sum(r.ambiguous_lines for r in results),
        "leaks_by_line": dict(leak_lines.most_common(count)),
        "leaks_by_region": dict(leak_regions.most_common()),
        "leak_examples": [dict(leak, page=r.name) for r in results for leak in r.leaks][:count],
        "untraceable_statements": dict(untraceable.most_common(count)),
        "failed": [{"page": r.name, "error": r.error} for r in results if r.error],
    }
