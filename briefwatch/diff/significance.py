"""How much a flagged change matters to a reviewer: one level per change, per page.

Pure functions, no I/O. Reports sort by the level and filter by it (``--min-significance``).

The rule, first match wins:

====  ======================================================================  ========
step  the change                                                              level
====  ======================================================================  ========
1     ``moved``: the same words in another place                              low
2     a number changed (``163`` -> ``170``; a figure added to or dropped      high
      from a changed statement)
3     the speaker changed (``reattributed``, or ``changed`` with another       high
      speaker): who said it matters more than where it stands
4     ``changed`` by at most :data:`SMALL_EDIT_CHARS` characters, or only in  low
      letter case / punctuation (a typo fix), unless step 5 applies
5     ``changed`` so that a negation (*not*, *no*, *never*, *…n't*) appears   high
      or disappears
6     a quotation or an on-the-record turn (``quote``, ``answer``,            high
      ``remarks``) changed, added or removed
7     anything else: reworded narration or paraphrase, an added or removed    medium
      narration sentence, a changed question
====  ======================================================================  ========

A page's level is the highest of its changes'; a changed title counts as medium, a page
that is gone as high (everything it said is withdrawn). ``failed`` and ``unchanged`` pages
have no level.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher
from enum import IntEnum
from typing import Any

from briefwatch.model import Change

__all__ = [
    "SMALL_EDIT_CHARS",
    "Assessment",
    "Level",
    "assess",
    "assess_change",
    "assess_dict",
    "edit_distance",
    "page_level",
    "parse_level",
]

SMALL_EDIT_CHARS = 2  # a changed statement within this many characters is a "fix"
ON_THE_RECORD_KINDS = frozenset({"quote", "answer", "remarks"})
NEGATIONS = frozenset(
    "not no never none nor neither nobody nothing nowhere cannot without".split()
)
_TOKEN_EDGE = re.compile(r"^[^\w']+|[^\w']+$")
_FOLD_QUOTES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'"})
_NOT_WORD = re.compile(r"[\W_]+")


class Level(IntEnum):
    """Significance levels, comparable: ``Level.HIGH > Level.MEDIUM > Level.LOW``."""

    LOW = 1
    MEDIUM = 2
    HIGH = 3

    @property
    def label(self) -> str:
        return self.name.lower()


def parse_level(name: str) -> Level:
    """``"low" | "medium" | "high"`` (any case) -> :class:`Level`; ValueError otherwise."""
    try:
        return Level[name.strip().upper()]
    except KeyError:
        raise ValueError(f"unknown significance {name!r}; choose low, medium or high") from None


@dataclass(frozen=True, slots=True)
class Assessment:
    level: Level
    reason: str  # short, for people: "figure changed: 163 → 170"


def assess(
    *,
    type: str,
    kind: str | None,
    old: str | None,
    new: str | None,
    speaker: str | None = None,
    old_speaker: str | None = None,
    numbers: Sequence[Mapping[str, str | None]] = (),
    words: Sequence[Sequence[str]] = (),
) -> Assessment:
    """The significance of one change, from the fields a report carries (see module doc)."""
    if type == "moved":
        return Assessment(Level.LOW, "moved")
    if numbers:
        shown = ", ".join(f"{n.get('old') or '∅'} → {n.get('new') or '∅'}" for n in numbers)
        return Assessment(Level.HIGH, f"figure changed: {shown}")
    if type == "reattributed" or (type == "changed" and (speaker or "") != (old_speaker or "")):
        return Assessment(Level.HIGH, "speaker changed")
    what = _kind_name(kind)
    if type == "changed":
        runs = list(words) if words else _char_runs(old or "", new or "")
        if _negation_changed(runs):
            return Assessment(Level.HIGH, "negation changed")
        if _only_case_or_punctuation(old or "", new or ""):
            return Assessment(Level.LOW, "case or punctuation fix")
        distance = _runs_distance(runs, limit=SMALL_EDIT_CHARS)
        if distance <= SMALL_EDIT_CHARS:
            return Assessment(Level.LOW, f"{distance}-character fix")
        verb = "reworded"
    else:
        verb = type  # added | removed
    level = Level.HIGH if kind in ON_THE_RECORD_KINDS else Level.MEDIUM
    return Assessment(level, f"{what} {verb}")


def assess_dict(change: Mapping[str, Any]) -> Assessment:
    """:func:`assess` of a report's change dict (the JSON contract's shape)."""
    return assess(
        type=str(change["type"]),
        kind=change.get("kind"),
        old=change.get("old"),
        new=change.get("new"),
        speaker=change.get("speaker"),
        old_speaker=change.get("old_speaker"),
        numbers=change.get("numbers") or (),
        words=change.get("words") or (),
    )


def assess_change(change: Change) -> Assessment:
    """:func:`assess` of a diff's :class:`~briefwatch.model.Change`."""
    side = change.new if change.new is not None else change.old
    return assess(
        type=change.type.value,
        kind=side.kind.value if side is not None else None,
        old=change.old.text if change.old is not None else None,
        new=change.new.text if change.new is not None else None,
        speaker=change.speaker,
        old_speaker=change.old_speaker,
        numbers=[{"old": n.old, "new": n.new} for n in change.numbers],
        words=change.words,
    )


def page_level(
    status: str, change_levels: Iterable[Level], *, title_changed: bool = False
) -> Level | None:
    """A page's level: the highest of its changes (see module doc)."""
    if status == "gone":
        return Level.HIGH
    levels = list(change_levels)
    if title_changed:
        levels.append(Level.MEDIUM)
    return max(levels) if levels else None


def _kind_name(kind: str | None) -> str:
    return {
        "quote": "quote",
        "answer": "answer",
        "remarks": "remarks",
        "question": "question",
        "paraphrase": "paraphrase",
    }.get(kind or "", "narration")


# ------------------------------------------------------------------ edit size


def _char_runs(old: str, new: str) -> list[tuple[str, str]]:
    """Word-diff-shaped runs computed here when a change carries none (older data)."""
    old_words, new_words = old.split(), new.split()
    runs: list[tuple[str, str]] = []
    matcher = SequenceMatcher(None, old_words, new_words, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            runs.append(("equal", " ".join(new_words[j1:j2])))
            continue
        if i2 > i1:
            runs.append(("delete", " ".join(old_words[i1:i2])))
        if j2 > j1:
            runs.append(("insert", " ".join(new_words[j1:j2])))
    return runs


def _hunks(runs: Sequence[Sequence[str]]) -> list[tuple[str, str]]:
    """(deleted, inserted) text of each stretch that differs."""
    hunks: list[tuple[str, str]] = []
    deleted: list[str] = []
    inserted: list[str] = []
    for op, text in runs:
        if op == "equal":
            if deleted or inserted:
                hunks.append((" ".join(deleted), " ".join(inserted)))
            deleted, inserted = [], []
        elif op == "delete":
            deleted.append(text)
        else:
            inserted.append(text)
    if deleted or inserted:
        hunks.append((" ".join(deleted), " ".join(inserted)))
    return hunks


def _runs_distance(runs: Sequence[Sequence[str]], *, limit: int) -> int:
    """Characters edited over all hunks (stops counting once past ``limit``)."""
    total = 0
    for deleted, inserted in _hunks(runs):
        total += edit_distance(deleted, inserted, limit=limit - total)
        if total > limit:
            return total
    return total


def edit_distance(a: str, b: str, *, limit: int | None = None) -> int:
    """Levenshtein distance between ``a`` and ``b``; with ``limit``, any value above it may
    be returned as ``limit + 1`` (the work is then bounded by the shorter text's length)."""
    if limit is not None and abs(len(a) - len(b)) > limit:
        return limit + 1
    if len(a) < len(b):
        a, b = b, a
    previous = list(range(len(b) + 1))
    for i, char_a in enumerate(a, 1):
        current = [i]
        for j, char_b in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1,
                               previous[j - 1] + (char_a != char_b)))
        if limit is not None and min(current) > limit:
            return limit + 1
        previous = current
    return previous[-1]


def _only_case_or_punctuation(old: str, new: str) -> bool:
    def bare(text: str) -> str:
        return _NOT_WORD.sub(" ", text.casefold()).strip()

    return old != new and bare(old) == bare(new)


def _negation_changed(runs: Sequence[Sequence[str]]) -> bool:
    return any(_negations(deleted) != _negations(inserted) for deleted, inserted in _hunks(runs))


def _negations(text: str) -> int:
    count = 0
    for token in text.translate(_FOLD_QUOTES).casefold().split():
        word = _TOKEN_EDGE.sub("", token)
        if word in NEGATIONS or word.endswith("n't"):
            count += 1
    return count
