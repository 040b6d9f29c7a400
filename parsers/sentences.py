"""Sentence splitting tuned for briefing prose.

Rules, in order, for a candidate boundary (``.``/``!``/``?``/``…`` plus closing quotes or
brackets, then whitespace, then something that can start a sentence):
- ``!`` and ``?`` end a sentence.
- a period after a title or rank abbreviation (``Col.``, ``Lt.``, ``Gen.``, ``Mr.``, ``Sen.``
  …), a single-letter initial (``S.``) or ``No.``/``Nos.`` before a digit does not;
- a period closing a dotted acronym (``U.S.``, ``a.m.``, ``D.C.``) ends the sentence only when
  the next word is a typical sentence opener (``The``, ``He``, ``We`` …);
- a month abbreviation before a digit (``Jan. 6``) does not;
- anything else does.
A boundary needs the next sentence to start with an upper-case letter, a digit or an
opening quote/bracket; "… said. he" is not split.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

TITLE_ABBREVIATIONS = frozenset(
    """mr mrs ms messrs dr prof rev hon sr jr st mt ft gen lt col maj capt cpt cmdr cdr adm
    brig sgt ssgt msgt cpl pvt pfc spc spec amn ens cwo wo lcdr sen sens rep reps gov govs
    pres supt insp det atty dist pro ph amb sec secs gens cols
    fr msgr sra srta mme mlle""".split()
)
NUMBER_ABBREVIATIONS = frozenset("no nos vol vols art arts sec p pp fig figs ch para".split())
MONTH_ABBREVIATIONS = frozenset("jan feb mar apr jun jul aug sep sept oct nov dec".split())
OTHER_ABBREVIATIONS = frozenset("vs approx est inc corp co ltd dept univ assn bros cf al".split())
SENTENCE_OPENERS = frozenset(
    """the a an he she it we they i you his her its our their this that these those there
    but and so yet or nor then now today yesterday tomorrow in on at as after before when
    while if although though because since meanwhile however also still thus what who how
    why where my your q mr mrs ms dr no yes well okay ok thank thanks let please""".split()
)

_CANDIDATE = re.compile(
    r"""(?P<end>[.!?…]+|\.\.\.)(?P<close>["'”’)\]]*)(?P<space>\s+)(?=(?P<next>["'“‘(\[]*[A-Z0-9À-Ý]))"""
)
# a list or section number standing alone before the period: "1.", "(a).", "iv.", "Sec. 3."
_ENUMERATOR = re.compile(
    r"\s*(?:(?:Sec|Section|Art|Article|No)\.?\s*)?\(?(?:\d{1,3}|[A-Za-z]|[ivxlcIVXLC]{1,6})"
    r"[.)]+\s*"
)
_ACRONYM = re.compile(r"(?:[A-Za-z]\.){1,}[A-Za-z]$")
_LETTERS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
_WORD_CHARS = _LETTERS | frozenset(".'’-")
_NEXT_WORD = re.compile(r"""["'“‘(\[]*([A-Za-z0-9]+)""")


@dataclass(frozen=True, slots=True)
class Span:
    """A sentence as character offsets into its paragraph."""

    start: int
    end: int


def split_sentences(text: str, limit: int | None = None) -> list[Span]:
    """Sentence spans of one paragraph (whitespace between sentences excluded). With
    ``limit``, splitting stops after ``limit + 1`` spans (enough for a caller to tell the
    paragraph has more than ``limit`` sentences without splitting all of a hostile one)."""
    spans: list[Span] = []
    start = 0
    for match in _CANDIDATE.finditer(text):
        if not _is_boundary(text, match):
            continue
        if _ENUMERATOR.fullmatch(text, start, match.end("close")):
            continue  # "1. The Secretary shall …": a list number is not a sentence
        end = match.end("close")
        if text[start:end].strip():
            spans.append(_trimmed(text, start, end))
            if limit is not None and len(spans) > limit:
                return spans
        start = match.end("space")
    if text[start:].strip():
        spans.append(_trimmed(text, start, len(text)))
    return spans


def sentences(text: str) -> list[str]:
    return [text[s.start:s.end] for s in split_sentences(text)]


def _trimmed(text: str, start: int, end: int) -> Span:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return Span(start, end)


def _is_boundary(text: str, match: re.Match[str]) -> bool:
    end = match.group("end")
    if "!" in end or "?" in end or "…" in end or end.startswith(".."):
        return True
    word = _word_before(text, match.start("end"))
    if not word:
        return True  # "… 163." or "…)." — a number or bracket ends the sentence
    next_word_match = _NEXT_WORD.match(text, match.end("space"))
    next_word = next_word_match.group(1) if next_word_match else ""
    return _period_ends_sentence(word, next_word, match.group("close"))


def _word_before(text: str, end: int) -> str:
    """The word that ends at ``end``: the longest run of letters, dots, apostrophes and
    hyphens before it, from its first letter ("" if none) — what the regex
    ``[A-Za-z][A-Za-z.'’-]*$`` finds in ``text[:end]``, without copying the prefix (a
    paragraph-long prefix per candidate made long transcript turns quadratic)."""
    if end > 0 and text[end - 1] == "\n":
        end -= 1  # ``$`` also matches before a final newline
    start = end
    while start > 0 and text[start - 1] in _WORD_CHARS:
        start -= 1
    while start < end and text[start] not in _LETTERS:
        start += 1
    return text[start:end]


def _period_ends_sentence(word: str, next_word: str, closing: str) -> bool:
    lower = word.lower().rstrip(".")
    bare = lower.split(".")[-1] if "." in lower else lower
    opener = next_word.lower() in SENTENCE_OPENERS
    if closing:
        return True  # '… ended."' — a closing quote or bracket after the period
    if _ACRONYM.search(word):  # U.S / a.m / D.C
        return opener
    if len(word) == 1 and word.isalpha():
        return word.islower() and opener  # an initial: "Ryan S. Dillon"
    if bare in TITLE_ABBREVIATIONS:
        return False
    if bare in NUMBER_ABBREVIATIONS:
        return not next_word[:1].isdigit()
    if bare in MONTH_ABBREVIATIONS:
        return not next_word[:1].isdigit() and opener
    if bare in OTHER_ABBREVIATIONS:
        return opener
    return True
