"""Blocks -> statements: sentences with speaker and kind.

Two modes:
- **transcript** (two or more paragraphs open with a speaker label such as ``MS. JEAN-PIERRE:``
  or ``Q``): a turn runs from its label to the next label; every sentence in it belongs to the
  label as written; ``Q`` turns are questions, a named turn after a question is an answer,
  other named turns are remarks.
- **prose**: quotations are found per paragraph (curly or straight double quotes, spanning
  sentences and paragraphs) and attributed by the nearest "…,” he said" / "said NAME" /
  "NAME said: “…" clause; a quote with no attribution continues the previous quote's speaker
  (same paragraph, or a paragraph that opens a quote right after a quoted one). Sentences with
  an indirect-speech clause ("…, Dillon said.", "He noted that …") are paraphrases. Pronouns
  and "the spokesman" resolve to the last named speaker; names resolve to the fullest form the
  page writes ("Dillon" -> "Army Col. Ryan S. Dillon").
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass

from briefwatch.errors import ParseError
from briefwatch.model import Block, Statement, StatementKind
from briefwatch.parsers.sentences import Span, split_sentences
from briefwatch.parsers.speakers import SpeakerContext, find_attribution, transcript_label

MIN_TRANSCRIPT_TURNS = 2
# "9:07 A.M. EDT", "END 9:25 A.M. EDT": a transcript's time stamps are narration, not the turn's
TIMESTAMP_LINE = re.compile(r"^(?:END\s+)?\d{1,2}:\d{2}\s*[AaPp]\.?\s?[Mm]\.?(?:\s+[A-Z]{2,5})?$")
_QUOTE_CHAR = re.compile('[“”"]')
# a page with more sentences is refused (ParseError): the longest briefings in the reference
# corpora have ~2,250; a hostile page of millions of tiny sentences would cost gigabytes
MAX_STATEMENTS = 50_000


@dataclass(frozen=True, slots=True)
class QuoteSpan:
    start: int
    end: int  # exclusive; len(text) when the quote runs past the paragraph
    closed: bool
    opened_before: bool = False  # continues a quote left open by the previous paragraph


def is_transcript(blocks: Sequence[Block]) -> bool:
    """Two or more speaker-label paragraphs, with a ``Q`` turn or a speaker who speaks twice.

    Fact sheets open paragraphs with ALL-CAPS lead-ins ("DELIVERING RESULTS: …") that look
    like labels, but each appears once and none is ``Q``.
    """
    return transcript_labels(blocks) is not None


def transcript_labels(blocks: Sequence[Block]) -> frozenset[str] | None:
    """The labels that are speaker turns in a transcript, or None when it is not one."""
    counts: dict[str, int] = {}
    for block in blocks:
        if block.kind == "paragraph":
            turn = transcript_label(block.text)
            if turn is not None:
                counts[turn.label] = counts.get(turn.label, 0) + 1
    if sum(counts.values()) < MIN_TRANSCRIPT_TURNS:
        return None
    if "Q" not in counts and max(counts.values()) < 2:
        return None
    return frozenset(label for label, n in counts.items() if n >= 2 or _speaker_like(label))


def _speaker_like(label: str) -> bool:
    """A label heard once is a speaker when it is short and not a headline lead-in."""
    words = label.split("(")[0].split()
    return len(words) <= 3 and not any(w.endswith("ING") for w in words)


def build_statements(blocks: Sequence[Block], *, transcript: bool | None = None) -> list[Statement]:
    """Statements of a page's main-content blocks (headings become sections, not statements)."""
    if transcript is None:
        transcript = is_transcript(blocks)
    if transcript:
        return _transcript_statements(blocks)
    return _prose_statements(blocks)


class _Emitter:
    def __init__(self) -> None:
        self.out: list[Statement] = []

    def room(self) -> int:
        """How many more statements the page may have."""
        return MAX_STATEMENTS - len(self.out)

    def room_for(self, sentences: Sequence[Span]) -> None:
        """ParseError when a paragraph's sentences would take the page past MAX_STATEMENTS
        (checked before they are built: memory stays bounded on a hostile page)."""
        if len(self.out) + len(sentences) > MAX_STATEMENTS:
            raise ParseError(f"too many statements: over {MAX_STATEMENTS:,} sentences in one "
                             "page (the limit; the longest real briefings have a few "
                             "thousand)")

    def add(self, text: str, speaker: str | None, kind: StatementKind, paragraph: int,
            section: str | None) -> None:
        text = text.strip()
        if text:
            self.out.append(Statement(text, speaker, kind, paragraph, len(self.out), section))


def _transcript_statements(blocks: Sequence[Block]) -> list[Statement]:
    labels = transcript_labels(blocks) or frozenset()
    emit = _Emitter()
    section: str | None = None
    speaker: str | None = None
    kind = StatementKind.NARRATION
    previous_was_question = False
    paragraph = -1
    for block in blocks:
        if block.kind == "heading":
            section = block.text
            continue
        paragraph += 1
        text = block.text
        if TIMESTAMP_LINE.match(text):
            emit.add(text, None, StatementKind.NARRATION, paragraph, section)
            continue
        turn = transcript_label(text)
        if turn is not None and turn.label in labels:
            speaker = turn.label
            if turn.question:
                kind = StatementKind.QUESTION
            else:
                kind = StatementKind.ANSWER if previous_was_question else StatementKind.REMARKS
            previous_was_question = turn.question
            text = turn.rest
        spans = split_sentences(text, emit.room())
        emit.room_for(spans)
        for span in spans:
            emit.add(text[span.start:span.end], speaker, kind, paragraph, section)
    return emit.out


def find_quotes(text: str, open_at_start: bool = False) -> list[QuoteSpan]:
    """Double-quoted spans of one paragraph (curly quotes nest-aware, straight ones toggle)."""
    spans: list[QuoteSpan] = []
    start: int | None = 0 if open_at_start else None
    continued = open_at_start
    for found in _QUOTE_CHAR.finditer(text):  # only quote characters change anything
        i, ch = found.start(), found.group()
        if ch == "“" or (ch == '"' and start is None):
            if start is not None and i > start:
                if continued and i <= 1:
                    continue  # the usual re-opening quote of a continued paragraph
                spans.append(QuoteSpan(start, i, False, continued))
                continued = False
            start = i
        elif (ch == "”" or ch == '"') and start is not None:
            spans.append(QuoteSpan(start, i + 1, True, continued))
            start = None
            continued = False
    if start is not None:
        spans.append(QuoteSpan(start, len(text), False, continued))
    return spans


def _blank_quotes(text: str, quotes: Sequence[QuoteSpan]) -> str:
    """Text with quoted parts replaced by spaces, so attribution only reads the frame."""
    chars = list(text)
    for q in quotes:
        chars[q.start:q.end] = " " * (q.end - q.start)
        if q.closed and q.end - 1 < len(chars):
            chars[q.end - 1] = "”"  # keep a marker where the quote closed
    return "".join(chars)


@dataclass
class _ProseState:
    ctx: SpeakerContext
    last_quote_speaker: str | None = None
    previous_paragraph_quoted: bool = False
    open_quote_speaker: str | None = None
    open_quote: bool = False
    # "Transport Secretary Grant Shapps said:" announces the quotation in the next block(s)
    announced_speaker: str | None = None


def _prose_statements(blocks: Sequence[Block]) -> list[Statement]:
    ctx = SpeakerContext("\n".join(b.text for b in blocks))
    state = _ProseState(ctx)
    emit = _Emitter()
    section: str | None = None
    paragraph = -1
    for block in blocks:
        if block.kind == "heading":
            section = block.text
            continue
        paragraph += 1
        _paragraph_statements(block, paragraph, section, state, emit)
    return emit.out


def _paragraph_statements(block: Block, paragraph: int, section: str | None,
                          state: _ProseState, emit: _Emitter) -> None:
    text = block.text
    continues = state.open_quote and text.lstrip()[:1] in "“\""
    quotes = find_quotes(text, open_at_start=continues)
    sentences = split_sentences(text, emit.room())
    emit.room_for(sentences)
    framed = _blank_quotes(text, quotes)
    speakers = _quote_speakers(text, framed, quotes, sentences, state)
    announced = state.announced_speaker
    if announced is not None and not (block.quoted or (quotes and quotes[0].start <= 1)):
        announced = state.announced_speaker = None  # the announced quotation has ended
    if announced is not None:
        speakers = [s if s is not None else announced for s in speakers]
    quote_ends = [q.end for q in quotes]
    for span in sentences:
        quote_idx = _overlapping_quote(span, quotes, quote_ends)
        if quote_idx is not None:
            emit.add(text[span.start:span.end], speakers[quote_idx], StatementKind.QUOTE,
                     paragraph, section)
            continue
        if block.quoted:
            emit.add(text[span.start:span.end], announced, StatementKind.QUOTE, paragraph,
                     section)
            continue
        attribution = find_attribution(framed[span.start:span.end])
        if attribution is not None:
            speaker = state.ctx.resolve(attribution.who)
            emit.add(text[span.start:span.end], speaker, StatementKind.PARAPHRASE, paragraph,
                     section)
            if text[:span.end].rstrip().endswith(":") and span is sentences[-1]:
                state.announced_speaker = speaker  # "… said:" — the quotation follows
        else:
            emit.add(text[span.start:span.end], None, StatementKind.NARRATION, paragraph, section)
    state.previous_paragraph_quoted = bool(quotes) and text.lstrip()[:1] in "“\""
    state.open_quote = bool(quotes) and not quotes[-1].closed
    if quotes:
        state.open_quote_speaker = speakers[-1]


def _overlapping_quote(span: Span, quotes: Sequence[QuoteSpan],
                       quote_ends: Sequence[int]) -> int | None:
    """Index of the quote that covers a good part of the sentence (≥ 3 words), if any.

    Quotes are in order and do not overlap (``quote_ends`` ascending), so only the ones
    from the first ending after the sentence's start are looked at: a paragraph of many
    short quotes costs linear time, not quotes × sentences."""
    for i in range(bisect_right(quote_ends, span.start), len(quotes)):
        q = quotes[i]
        if q.start >= span.end:
            break
        lo, hi = max(span.start, q.start), min(span.end, q.end)
        if hi - lo > 0 and (hi - lo >= 0.4 * (span.end - span.start) or hi - lo >= 60):
            return i
    return None


def _sentence_of(offset: int, sentences: Sequence[Span],
                 starts: Sequence[int]) -> Span | None:
    """The sentence holding ``offset`` (sentences in order, ``starts`` their starts), else
    the last sentence."""
    if not sentences:
        return None
    i = bisect_right(starts, offset) - 1
    if i >= 0 and offset < sentences[i].end:
        return sentences[i]
    return sentences[-1]


def _quote_speakers(text: str, framed: str, quotes: Sequence[QuoteSpan],
                    sentences: Sequence[Span], state: _ProseState) -> list[str | None]:
    """Speaker of each quote span: its own attribution, else the quote it continues."""
    found: list[str | None] = []
    starts = [s.start for s in sentences]
    for q in quotes:
        who = _attribution_near(framed, q, sentences, starts)
        found.append(state.ctx.resolve(who) if who is not None else None)
    speakers: list[str | None] = []
    for i, q in enumerate(quotes):
        speaker = found[i]
        if speaker is None and q.opened_before:
            speaker = state.open_quote_speaker
        if speaker is None and i > 0:
            speaker = speakers[i - 1]
        if speaker is None and i == 0 and state.previous_paragraph_quoted and q.start <= 1:
            speaker = state.last_quote_speaker
        speakers.append(speaker)
    # a quote left open at the end takes the attribution found later in the same paragraph
    for i in range(len(speakers) - 2, -1, -1):
        if speakers[i] is None and speakers[i + 1] is not None and not quotes[i].closed:
            speakers[i] = speakers[i + 1]
    if speakers and speakers[-1] is not None:
        state.last_quote_speaker = speakers[-1]
    return speakers


def _attribution_near(framed: str, q: QuoteSpan, sentences: Sequence[Span],
                      starts: Sequence[int]) -> str | None:
    """An attribution in the same sentence as the quote: after it first, then before it."""
    end_sentence = _sentence_of(max(q.end - 1, q.start), sentences, starts)
    if q.closed and end_sentence is not None:
        after = framed[q.end:end_sentence.end]
        attribution = find_attribution(after)
        if attribution is not None and attribution.start <= 3:
            return attribution.who
    start_sentence = _sentence_of(q.start, sentences, starts)
    if start_sentence is not None:
        before = framed[start_sentence.start:q.start]
        attribution = find_attribution(before)
        if attribution is not None:
            return attribution.who
    return None
