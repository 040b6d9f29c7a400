"""Transcript speaker turns: an independent detector and an in-order matcher.

A *turn* starts a paragraph with an ALL-CAPS label followed by a colon (``THE PRESIDENT:``,
``MS. JEAN-PIERRE:``, ``SECRETARY ESPER:``) or with ``Q`` followed by whitespace (a reporter's
question). :func:`turn_label` finds one in a paragraph's text by a regular expression — the
ground truth never goes through ``parsers/``.

:func:`match_turns` checks that every turn shows up, in order, as a statement with that
speaker: a statement *fits* a turn when the first words of the two agree (up to six words, as
many as the shorter of the two has) and its speaker is the turn's label. The matching is the
longest chain of fitting (turn, statement) pairs increasing in both orders, so a repeated
opening ("Thank you.") is never paired with a copy far away at the cost of other turns. A turn
left out is a miss, classified by what the parser made of it.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from eval.common import norm_label, words

_LABEL = re.compile(
    r"^(?P<label>[A-Z][A-Z0-9.'’\-&,]*(?:[ \t\u00a0]+[A-Z0-9.'’\-&,()]+){0,7})[ \t\u00a0]*:"
    r"(?=[\s\u00a0]|$)"
)
_Q = re.compile(r"^Q(?=[\s\u00a0])")
PREFIX_WORDS = 6
TURN_WORDS = 8


@dataclass(frozen=True, slots=True)
class Turn:
    """A speaker turn of the ground truth."""

    label: str  # normalised (norm_label)
    tokens: tuple[str, ...]  # first words after the label
    text: str  # the paragraph, for examples


@dataclass(frozen=True, slots=True)
class Said:
    """A parsed statement as the matcher sees it."""

    speaker: str  # normalised ("" for none)
    tokens: tuple[str, ...]
    text: str


@dataclass(frozen=True, slots=True)
class TurnMiss:
    turn: Turn
    category: str
    got_speaker: str | None = None
    statement: str | None = None


def turn_label(paragraph: str) -> tuple[str, str] | None:
    """(label, rest of the paragraph) when the paragraph starts a speaker turn, else None."""
    text = paragraph.strip().replace("\u00a0", " ")
    q = _Q.match(text)
    if q is not None:
        return "Q", text[q.end():].strip()
    m = _LABEL.match(text)
    if m is None:
        return None
    return m.group("label"), text[m.end():].strip()


def make_turn(paragraph: str) -> Turn | None:
    found = turn_label(paragraph)
    if found is None:
        return None
    label, rest = found
    return Turn(norm_label(label), tuple(words(rest)[:TURN_WORDS]), " ".join(paragraph.split()))


def make_said(text: str, speaker: str | None) -> Said:
    return Said(norm_label(speaker), tuple(words(text)), text)


def fits(turn_tokens: Sequence[str], said_tokens: Sequence[str]) -> bool:
    n = min(len(turn_tokens), len(said_tokens), PREFIX_WORDS)
    if n == 0:
        return not turn_tokens  # a label with nothing after it fits any statement
    return tuple(turn_tokens[:n]) == tuple(said_tokens[:n])


def _chain(pairs: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Longest chain of pairs strictly increasing in both coordinates."""
    pairs = sorted(pairs, key=lambda p: (p[0], -p[1]))
    tails: list[int] = []  # smallest statement index ending a chain of each length
    tail_pair: list[int] = []  # index into pairs of that tail
    back: list[int] = [-1] * len(pairs)
    for k, (_t, s) in enumerate(pairs):
        pos = bisect_left(tails, s)
        if pos == len(tails):
            tails.append(s)
            tail_pair.append(k)
        else:
            tails[pos] = s
            tail_pair[pos] = k
        back[k] = tail_pair[pos - 1] if pos > 0 else -1
    chain: list[tuple[int, int]] = []
    k = tail_pair[-1] if tail_pair else -1
    while k >= 0:
        chain.append(pairs[k])
        k = back[k]
    return chain[::-1]


def match_turns(turns: Sequence[Turn], said: Sequence[Said]) -> tuple[int, list[TurnMiss]]:
    """(turns recovered, misses) of one page."""
    by_first: dict[str, list[int]] = defaultdict(list)
    for j, s in enumerate(said):
        if s.tokens:
            by_first[s.tokens[0]].append(j)
    pairs: list[tuple[int, int]] = []
    for i, turn in enumerate(turns):
        candidates = by_first.get(turn.tokens[0], []) if turn.tokens else range(len(said))
        pairs.extend(
            (i, j) for j in candidates
            if said[j].speaker == turn.label and fits(turn.tokens, said[j].tokens)
        )
    matched = dict(_chain(pairs))
    misses = [
        _classify(turns[i], i, matched, said) for i in range(len(turns)) if i not in matched
    ]
    return len(matched), misses


def _classify(turn: Turn, i: int, matched: dict[int, int], said: Sequence[Said]) -> TurnMiss:
    """What became of a turn that no statement with its speaker fits."""
    before = max((j for t, j in matched.items() if t < i), default=-1)
    after = min((j for t, j in matched.items() if t > i), default=len(said))
    window = range(before + 1, after)
    for j in window:
        if fits(turn.tokens, said[j].tokens):
            got = said[j].speaker or None
            category = "wrong speaker: none (narration)" if got is None else "wrong speaker"
            return TurnMiss(turn, category, got, said[j].text)
    label_words = tuple(words(turn.label))
    for j in window:
        if said[j].tokens[: len(label_words)] == label_words:
            return TurnMiss(turn, "label left in the text", said[j].speaker or None, said[j].text)
    head = turn.tokens[:4]
    for j in window:
        toks = said[j].tokens
        if head and any(toks[k : k + len(head)] == head for k in range(1, len(toks))):
            return TurnMiss(
                turn, "merged into the statement before", said[j].speaker or None, said[j].text
            )
    return TurnMiss(turn, "text not found")
