"""A small, documented significance score for one page's flagged changes.

Self-contained on purpose (it reads only the JSON report's fields: ``type``, ``old``,
``new``, ``numbers``, ``words``, and the page's ``title_change``) so it can move into the
product later. Each change gets a weight; the page's *raw* score is their sum and the
*normalised* score is ``1 - exp(-raw / scale)`` (0 = nothing, towards 1 = much that matters).

=====================================  ======================================  ========
change                                 condition                               weight
=====================================  ======================================  ========
``changed``                            a number changed (each, at most 3)      3.0
``changed``                            at most one word and two characters     0.1
                                       changed (a typo or punctuation fix)
``changed``                            words of a quotation changed            3.0
``changed``                            otherwise (rewording)                   1.0
``added`` / ``removed``                a quote or a number in it               3.0
``added`` / ``removed``                otherwise (narration)                   1.0
``reattributed``                                                               3.0
``moved``                                                                      0.2
title changed                                                                  2.0
=====================================  ======================================  ========
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from difflib import SequenceMatcher
from typing import Any

_QUOTE = re.compile("[\"“”«»]")
_NUMBER = re.compile(r"\d")


@dataclass(frozen=True, slots=True)
class Weights:
    number: float = 3.0
    quote: float = 3.0
    small_fix: float = 0.1
    rewording: float = 1.0
    content: float = 1.0  # a statement added or removed
    reattribution: float = 3.0
    moved: float = 0.2
    title: float = 2.0
    max_numbers: int = 3
    fix_chars: int = 2  # a "fix" changes at most this many characters
    scale: float = 5.0  # raw score that normalises to 1 - 1/e


WEIGHTS = Weights()


def _changed_words(change: Mapping[str, Any]) -> int:
    """Words inserted plus deleted in the change's word diff (``[op, text]`` pairs)."""
    count = 0
    for op, text in change.get("words") or []:
        if op != "equal":
            count += len(str(text).split())
    return count


def _changed_chars(old: str, new: str) -> int:
    """Characters inserted, deleted or replaced between two texts."""
    matcher = SequenceMatcher(None, old, new, autojunk=False)
    return sum(max(i2 - i1, j2 - j1) for op, i1, i2, j1, j2 in matcher.get_opcodes()
               if op != "equal")


def change_weight(change: Mapping[str, Any], weights: Weights = WEIGHTS) -> float:
    """The weight of one change of the report."""
    kind = change.get("type")
    old, new = str(change.get("old") or ""), str(change.get("new") or "")
    if kind == "moved":
        return weights.moved
    if kind == "reattributed":
        return weights.reattribution
    if kind in ("added", "removed"):
        text = new or old
        hit = _QUOTE.search(text) or _NUMBER.search(text)
        return weights.quote if hit else weights.content
    if kind == "changed":
        numbers = len(change.get("numbers") or [])
        if numbers:
            return weights.number * min(numbers, weights.max_numbers)
        if _changed_words(change) <= 1 and _changed_chars(old, new) <= weights.fix_chars:
            return weights.small_fix
        if _QUOTE.search(old) or _QUOTE.search(new):
            return weights.quote
        return weights.rewording
    return 0.0


def raw_score(changes: Iterable[Mapping[str, Any]], title_change: object = None,
              weights: Weights = WEIGHTS) -> float:
    total = sum(change_weight(c, weights) for c in changes)
    return total + (weights.title if title_change else 0.0)


def significance(changes: Iterable[Mapping[str, Any]], title_change: object = None,
                 weights: Weights = WEIGHTS) -> float:
    """The normalised significance of one page's changes, in [0, 1)."""
    return 1.0 - math.exp(-raw_score(changes, title_change, weights) / weights.scale)
