"""Evaluation 5 — speaker turns at scale: 1,154 press-briefing transcripts (wh-briefings).

Ground truth (independent of ``parsers/``): the Markdown body of each transcript (front matter
cut off) is split into paragraphs at blank lines; a paragraph whose reader-visible text
(:func:`eval.mdtext.visible_text`) starts with an ALL-CAPS label and a colon, or with ``Q``
and whitespace, is a turn (:func:`eval.turnmatch.turn_label`). Each transcript is parsed with
:func:`briefwatch.parsers.parse` and every turn must come out, in order, as a statement with that
speaker (:func:`eval.turnmatch.match_turns`).

Reported beside it, not in the goal: label lines that follow a Markdown hard line break
inside a paragraph (a line ending in two spaces or a backslash), which a browser also shows
as a new line.

The tarball's members are read in memory (nothing is extracted).
"""

from __future__ import annotations

import re
import tarfile
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from briefwatch.errors import ParseError
from briefwatch.parsers import parse
from eval.common import (
    EvalOptions,
    Figure,
    SectionResult,
    corpus,
    parallel_map,
    sample,
    share,
)
from eval.mdtext import split_front_matter, visible_text
from eval.turnmatch import Turn, TurnMiss, make_said, make_turn, match_turns

SECTION = "5"
TITLE = "Speaker turns at scale (wh-briefings press-briefings snapshot)"
TARBALL = "press-briefings_snapshot_HEAD.tar.gz"
QUICK_TRANSCRIPTS = 150
_BLANK = re.compile(r"^[ \t]*$")
_HARD_BREAK = re.compile(r"(?: {2,}|\\)$")


@dataclass(slots=True)
class TranscriptResult:
    name: str
    turns: int = 0
    recovered: int = 0
    misses: list[TurnMiss] = field(default_factory=list)
    break_turns: int = 0
    break_recovered: int = 0
    error: str | None = None


def transcript_turns(markdown: str) -> tuple[list[Turn], list[Turn]]:
    """(turns that start a paragraph, turns that start a line after a hard break)."""
    _front, body = split_front_matter(markdown)
    paragraphs: list[list[str]] = [[]]
    for line in body.splitlines():
        if _BLANK.match(line):
            if paragraphs[-1]:
                paragraphs.append([])
        else:
            paragraphs[-1].append(line)
    starts: list[Turn] = []
    after_breaks: list[Turn] = []
    for lines in paragraphs:
        if not lines:
            continue
        segments = _segments(lines)
        first = make_turn(visible_text("\n".join(segments[0])))
        if first is not None:
            starts.append(first)
        for segment in segments[1:]:
            turn = make_turn(visible_text("\n".join(segment)))
            if turn is not None:
                after_breaks.append(turn)
    return starts, after_breaks


def _segments(lines: list[str]) -> list[list[str]]:
    """A paragraph's lines cut at hard line breaks."""
    segments: list[list[str]] = [[]]
    for line in lines:
        segments[-1].append(line)
        if _HARD_BREAK.search(line):
            segments.append([])
    return [s for s in segments if s]


def evaluate_transcript(item: tuple[str, bytes]) -> TranscriptResult:
    name, data = item
    result = TranscriptResult(name)
    starts, after_breaks = transcript_turns(data.decode("utf-8", errors="replace"))
    result.turns, result.break_turns = len(starts), len(after_breaks)
    try:
        doc = parse(data, location=f"file:///snapshot/{name}")
    except ParseError as exc:
        result.error = str(exc)
        result.misses = [TurnMiss(t, "page failed to parse") for t in starts]
        return result
    said = [make_said(s.text, s.speaker) for s in doc.statements]
    result.recovered, result.misses = match_turns(starts, said)
    result.break_recovered, _ = match_turns(after_breaks, said)
    return result


def load_transcripts(options: EvalOptions) -> list[tuple[str, bytes]]:
    path = corpus(options, "wh-briefings") / TARBALL
    items: list[tuple[str, bytes]] = []
    with tarfile.open(path, "r:gz") as tar:
        for member in tar:
            if member.isfile() and member.name.endswith(".md"):
                fh = tar.extractfile(member)
                if fh is not None:
                    items.append((member.name, fh.read()))
    items.sort()
    return items


def run(options: EvalOptions) -> SectionResult:
    start = time.perf_counter()
    items = load_transcripts(options)
    total = len(items)
    if options.quick:
        items = sample(items, QUICK_TRANSCRIPTS, options.seed)
    results = parallel_map(evaluate_transcript, items, options.workers, chunksize=8)
    section = SectionResult(SECTION, TITLE)
    turns = sum(r.turns for r in results)
    recovered = sum(r.recovered for r in results)
    breaks = sum(r.break_turns for r in results)
    break_recovered = sum(r.break_recovered for r in results)
    support = f"{len(results):,} of {total:,} transcripts, {turns:,} turns"
    section.figures = [
        Figure(SECTION, "turns recovered with their speaker", share(recovered, turns), 0.995,
               support=support),
        Figure(SECTION, "turns after a hard line break recovered (not in the goal)",
               share(break_recovered, breaks), None, support=f"{breaks:,} turns"),
        Figure(SECTION, "transcripts that failed to parse", float(sum(bool(r.error)
               for r in results)), 0.0, comparison="<=", unit="count",
               support=f"{len(results):,} transcripts"),
    ]
    section.details = _details(results, options.examples)
    section.seconds = time.perf_counter() - start
    return section


def _details(results: list[TranscriptResult], count: int) -> dict[str, Any]:
    by_category: Counter[str] = Counter()
    by_label: Counter[str] = Counter()
    got: Counter[str] = Counter()
    examples: dict[str, list[dict[str, Any]]] = {}
    for r in results:
        for miss in r.misses:
            by_category[miss.category] += 1
            by_label[miss.turn.label] += 1
            if miss.got_speaker is not None or miss.category.startswith("wrong"):
                got[f"{miss.turn.label} -> {miss.got_speaker}"] += 1
            bucket = examples.setdefault(miss.category, [])
            if len(bucket) < count:
                bucket.append({
                    "transcript": r.name,
                    "turn": miss.turn.text[:200],
                    "parsed_as": (miss.statement or "")[:200],
                    "parsed_speaker": miss.got_speaker,
                })
    return {
        "turns": sum(r.turns for r in results),
        "recovered": sum(r.recovered for r in results),
        "misses_by_category": dict(by_category.most_common()),
        "misses_by_label": dict(by_label.most_common(15)),
        "wrong_speaker_pairs": dict(got.most_common(15)),
        "examples": examples,
        "pages_with_misses": sum(1 for r in results if r.misses),
        "failed": [{"transcript": r.name, "error": r.error} for r in results if r.error],
    }
