"""Text-level boilerplate rules, applied to the blocks of every format.

HTML chrome is removed structurally by the HTML extractor; what is left here are the
patterns that survive as *text*: the USWDS ".gov banner" in a text dump, the defense.gov
"historical collection" notice, photo captions and their repeats, photo credits, video
embeds, "(Follow … on Twitter …)" lines and "Related Stories" trailers.

Each rule is a small named predicate so the evaluation can count what each one removes.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from briefwatch.model import Block

BANNER_START = re.compile(r"^an official website of the united states government\b", re.I)
BANNER_END = re.compile(r"share sensitive information only on official,? secure websites\.?", re.I)
BANNER_LINES = re.compile(
    r"^(?:here[’']s how you know|official websites use \.gov|secure \.gov websites use https"
    r"|\.gov website belongs to an official government organization in the united states\.?"
    r"|a \.gov website belongs to an official government organization in the united states\.?"
    r"|a lock \(\s*lock\s*\) or https:// means you[’']ve safely connected to the \.gov website\.?"
    r"|\.gov means it[’']s official\.?|the \.gov means it[’']s official\.?"
    # USWDS 1.x: each line goes on with the explanation
    r"|the \.gov means it[’']s official\.\s+federal government websites (?:often|always) end in"
    r" \.gov or \.mil\b.{0,200}|the site is secure\.\s+the https:// ensures\b.{0,200})$",
    re.I,
)
HISTORICAL_NOTICE = re.compile(
    r"^you have accessed part of a historical collection on defense\.gov\b", re.I
)
PHOTO_CREDIT = re.compile(r"^(?:photo by|photo credit|virin|image credit|credit)\s*:", re.I)
CAPTION_TAIL = re.compile(
    r"\b(?:(?:u\.s\. )?(?:army|navy|air force|marine corps|coast guard|dod|defense department"
    r"|national guard|space force|white house)\s+)?(?:photo|illustration|graphic|video)"
    r"(?:\s+illustration)?\s+by\s+[A-Z][\w.’' -]{0,80}$",
    re.I,
)
VIDEO_TIME = re.compile(r"^\d{1,2}:\d{2}(?::\d{2})?$")
VIDEO_CONTROL = re.compile(r"^(?:play|pause|mute|unmute|fullscreen|replay)$", re.I)
VIDEO_TITLE = re.compile(r"^video\s*\|\s*\d{1,2}:\d{2}", re.I)
FOLLOW_LINE = re.compile(
    r"^\(?\s*follow\b.{0,120}\bon (?:twitter|x|facebook|instagram)\b.*\)?$", re.I
)
RELATED_MARKER = re.compile(
    r"^(?:related (?:stories|links|content|articles|news|posts|coverage)|more (?:stories|news)"
    r"|read more|see also|you may also like|recommended)\s*:?$",
    re.I,
)
SKIP_LINK = re.compile(r"^(?:skip to (?:main )?content|skip navigation|back to top)$", re.I)
SHARE_TOOLS = re.compile(
    r"^(?:share(?: this)?(?: page| story| article)?|print(?: this page)?|email|facebook|twitter|"
    r"linkedin|copy link|subscribe|sign up)$",
    re.I,
)
MIN_REPEAT_LEN = 60
# besides ASCII case, re.IGNORECASE matches these four letters to i, i, s and k
_IGNORECASE_EXTRA = str.maketrans({"\u0130": "i", "\u0131": "i", "\u017f": "s", "\u212a": "k"})


@dataclass(frozen=True, slots=True)
class BoilerplateStats:
    """How many blocks each rule removed (for evaluation and debugging)."""

    removed: dict[str, int]


def _is_caption_title(blocks: Sequence[Block], i: int, dropped: set[int]) -> bool:
    """A short title line right before a dropped caption or credit line is part of the caption."""
    text = blocks[i].text
    if len(text) > 80 or text.endswith((".", "?", "!")):
        return False
    nxt = i + 1
    return nxt < len(blocks) and nxt in dropped


def strip_boilerplate(blocks: Sequence[Block]) -> tuple[tuple[Block, ...], BoilerplateStats]:
    """Remove text-form boilerplate blocks; return the kept blocks and per-rule counts."""
    removed: Counter[str] = Counter()
    dropped: set[int] = set()
    repeats = _caption_repeats(blocks)

    i = 0
    n = len(blocks)
    while i < n:
        text = blocks[i].text
        if BANNER_START.match(text):
            end = _banner_end(blocks, i)
            for j in range(i, end + 1):
                dropped.add(j)
            removed["gov_banner"] += end + 1 - i
            i = end + 1
            continue
        rule = _single_block_rule(text, repeats)
        if rule:
            dropped.add(i)
            removed[rule] += 1
        i += 1

    _drop_related_trailer(blocks, dropped, removed)
    # caption titles ("Spanish Trainers") sit right before a dropped caption; walk backwards
    for i in range(n - 1, -1, -1):
        if (
            i not in dropped
            and _is_caption_title(blocks, i, dropped)
            and _next_is_caption(blocks, i, dropped)
        ):
            dropped.add(i)
            removed["caption_title"] += 1
    kept = tuple(b for k, b in enumerate(blocks) if k not in dropped)
    return kept, BoilerplateStats(dict(removed))


def _next_is_caption(blocks: Sequence[Block], i: int, dropped: set[int]) -> bool:
    nxt = blocks[i + 1].text
    return bool(CAPTION_TAIL.search(nxt) or PHOTO_CREDIT.match(nxt))


def _banner_end(blocks: Sequence[Block], start: int) -> int:
    """Index of the last block of a text-form .gov banner that starts at ``start``."""
    for j in range(start, min(start + 12, len(blocks))):
        if BANNER_END.search(blocks[j].text):
            return j
    # no closing sentence: drop only the lines that are banner phrases
    j = start
    while j + 1 < len(blocks) and BANNER_LINES.match(blocks[j + 1].text):
        j += 1
    return j


def _single_block_rule(text: str, repeats: Counter[str]) -> str | None:
    """Name of the rule that marks one block as boilerplate, or None when it is content.

    Rules are tried in order and the first hit names the block (evaluated lazily: this
    runs for every block of every page)."""
    if BANNER_LINES.match(text):
        return "gov_banner"
    if HISTORICAL_NOTICE.match(text):
        return "historical_notice"
    if PHOTO_CREDIT.match(text):
        return "photo_credit"
    if repeats.get(text, 0) > 1:
        return "repeated_caption"
    if _may_be_caption(text) and CAPTION_TAIL.search(text):
        return "photo_caption"
    if VIDEO_TIME.match(text) or VIDEO_CONTROL.match(text) or VIDEO_TITLE.match(text):
        return "video_embed"
    if FOLLOW_LINE.match(text):
        return "follow_line"
    if SKIP_LINK.match(text):
        return "skip_link"
    if SHARE_TOOLS.match(text):
        return "share_tools"
    return None


def _may_be_caption(text: str) -> bool:
    """Cheap necessary condition for ``CAPTION_TAIL``: a match contains "by" and one of
    photo / video / graphic / illustration in some letter case. (An unanchored regex search
    over every paragraph was the costliest boilerplate rule.)"""
    if not text.isascii() and (
        "\u0130" in text or "\u0131" in text or "\u017f" in text or "\u212a" in text
    ):
        text = text.translate(_IGNORECASE_EXTRA)
    low = text.lower()
    return "by" in low and (
        "photo" in low or "video" in low or "graphic" in low or "illustration" in low
    )


CAPTION_EVIDENCE_DISTANCE = 3  # blocks between a repeated paragraph and a credit/caption line


def _caption_repeats(blocks: Sequence[Block]) -> Counter[str]:
    """Long paragraphs that occur more than once *and* sit next to photo evidence (a credit
    line, a "photo by" caption, or a copy of themselves): caption repeats. A paragraph a page
    simply repeats (a transcript's "Next question, please." or a re-pasted section) stays."""
    counts = Counter(b.text for b in blocks if len(b.text) >= MIN_REPEAT_LEN)
    repeated = {text for text, n in counts.items() if n > 1}
    if not repeated:
        return Counter()
    evidence = [
        i for i, b in enumerate(blocks)
        if PHOTO_CREDIT.match(b.text) or (_may_be_caption(b.text) and CAPTION_TAIL.search(b.text))
    ]
    captions: set[str] = set()
    for i, block in enumerate(blocks):
        if block.text not in repeated or block.text in captions:
            continue
        adjacent_copy = i + 1 < len(blocks) and blocks[i + 1].text == block.text
        near = any(abs(i - j) <= CAPTION_EVIDENCE_DISTANCE for j in evidence)
        if adjacent_copy or near:
            captions.add(block.text)
    return Counter({text: counts[text] for text in captions})


def _drop_related_trailer(
    blocks: Sequence[Block], dropped: set[int], removed: Counter[str]
) -> None:
    """Drop a "Related Stories" marker and the link titles that follow it."""
    for i, block in enumerate(blocks):
        if i in dropped or not RELATED_MARKER.match(block.text):
            continue
        dropped.add(i)
        removed["related_links"] += 1
        j = i + 1
        while j < len(blocks) and _looks_like_link_title(blocks[j].text):
            dropped.add(j)
            removed["related_links"] += 1
            j += 1


def _looks_like_link_title(text: str) -> bool:
    """A related-link entry: short, no sentence punctuation at the end."""
    return len(text) <= 160 and not text.rstrip("”\"’'").endswith((".", "?", "!"))
