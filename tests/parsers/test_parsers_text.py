"""Text dumps and Markdown: boilerplate, headings, statements, speakers — on the real seeds."""

from __future__ import annotations

import json
import os
from dataclasses import asdict
from pathlib import Path

import pytest

from briefwatch.errors import ParseError
from briefwatch.model import Document, PageKind, StatementKind
from briefwatch.parsers import parse
from briefwatch.parsers.lines import join_wrapped, wrap_width
from tests.support.paths import FIXTURES, GOLDEN

GOLDEN = GOLDEN / "text"
SEED_MOSUL = FIXTURES / "seeds" / "000_af1f5bc78c82e3ad.txt"
SEED_MATTIS = FIXTURES / "seeds" / "004_3f861037855dcd78.txt"
GAGGLE = FIXTURES / "markdown" / "press-gaggle-2022-05-17-v1.md"

BOILERPLATE_MARKERS = (
    "An official website of the United States",
    "Here's how you know",
    "Here’s how you know",
    "Share sensitive information only",
    "historical collection",
    "Photo By:",
    "VIRIN:",
    "Army photo by",
    "VIDEO |",
    "Follow Terri Moon Cronk",
    "Related Stories",
    "Spanish trainers load a CH-47",
)


def _parse(path: Path) -> Document:
    return parse(path.read_bytes(), location=path.resolve().as_uri())


def _golden_view(doc: Document) -> dict[str, object]:
    return {
        "title": doc.title,
        "kind": doc.kind.value,
        "url": doc.url,
        "published": doc.published,
        "headings": list(doc.headings),
        "statements": [
            {k: (v.value if isinstance(v, StatementKind) else v)
             for k, v in asdict(s).items() if k not in ("key", "sid")}
            for s in doc.statements
        ],
    }


@pytest.mark.parametrize("path", [SEED_MOSUL, SEED_MATTIS, GAGGLE], ids=lambda p: p.stem)
def test_golden(path: Path) -> None:
    view = _golden_view(_parse(path))
    golden = GOLDEN / f"{path.stem}.json"
    if os.environ.get("BRIEFWATCH_UPDATE_GOLDEN") == "1":
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(json.dumps(view, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    assert view == json.loads(golden.read_text(encoding="utf-8"))


@pytest.mark.parametrize("path", [SEED_MOSUL, SEED_MATTIS, GAGGLE], ids=lambda p: p.stem)
def test_no_boilerplate_in_statements(path: Path) -> None:
    doc = _parse(path)
    for statement in doc.statements:
        for marker in BOILERPLATE_MARKERS:
            assert marker not in statement.text, (marker, statement.text)
        assert "00:32" not in statement.text and statement.text not in ("Play",)


def test_mosul_seed_structure() -> None:
    doc = _parse(SEED_MOSUL)
    assert doc.title == "Coalition Progresses in Mosul, Raqqa to Defeat ISIS, Spokesman Says"
    assert doc.kind is PageKind.ARTICLE
    assert doc.url is None and doc.key == SEED_MOSUL.resolve().as_uri()
    assert doc.headings == (
        "Clearing Step-by-Step", "Raqqa Offensive Begins", "Strikes in Syria", "Closely Monitoring"
    )
    texts = [s.text for s in doc.statements]
    assert any("163 bodies" in t for t in texts)
    assert texts[-1].startswith('"The coalition calls on all parties')


@pytest.mark.parametrize(
    ("fragment", "speaker", "kind"),
    [
        ("Army Col. Ryan S. Dillon, spokesman", "Army Col. Ryan S. Dillon", "paraphrase"),
        ("As expected, the tight confines", "Army Col. Ryan S. Dillon", "quote"),
        ("But ISIS has reverted", "Army Col. Ryan S. Dillon", "paraphrase"),
        ("He noted that the United Nations", "Army Col. Ryan S. Dillon", "paraphrase"),
        ("the spokesman said", "Army Col. Ryan S. Dillon", "paraphrase"),
        # a quote continuing after "he said." keeps that speaker
        ("Understanding this, the coalition", "Army Col. Ryan S. Dillon", "quote"),
        ("We're watching the situation", "Army Col. Ryan S. Dillon", "quote"),
        ("The fight to defeat Islamic State", "Army Col. Ryan S. Dillon", "paraphrase"),
    ],
)
def test_mosul_speakers(fragment: str, speaker: str, kind: str) -> None:
    doc = _parse(SEED_MOSUL)
    matches = [s for s in doc.statements if fragment in s.text]
    assert matches, fragment
    assert matches[0].speaker == speaker
    assert matches[0].kind.value == kind


@pytest.mark.parametrize(
    ("fragment", "speaker", "kind"),
    [
        ("said the defeat of ISIS is now imminent", "US Secretary of Defense James Mattis",
         "paraphrase"),
        ("ISIS is on the run", "US Secretary of Defense James Mattis", "quote"),
        ("A year ago the liberation of Mosul", "Lt. Gen. Stephen Townsend", "quote"),
        # a quote spanning five sentences, attributed by "he said" at its end
        ("This week saw the start of Tal Afar", "Lt. Gen. Stephen Townsend", "quote"),
        ("Daesh’s defeat is inevitable.", "Lt. Gen. Stephen Townsend", "quote"),
        ("Precision gave us options", "US Secretary of Defense James Mattis", "quote"),
        ("An enemy that hides behind women", "US Secretary of Defense James Mattis", "quote"),
        # an unattributed quote paragraph right after Mattis's quote continues it
        ("I’ve seen people fleeing to ISF", "US Secretary of Defense James Mattis", "quote"),
        ("Mattis’s trip to Iraq coincided", None, "narration"),
        ("Two Syrian monitoring groups", None, "narration"),
    ],
)
def test_mattis_speakers(fragment: str, speaker: str | None, kind: str) -> None:
    doc = _parse(SEED_MATTIS)
    matches = [s for s in doc.statements if fragment in s.text]
    assert matches, fragment
    assert (matches[0].speaker, matches[0].kind.value) == (speaker, kind)


def test_transcript_turns_from_markdown() -> None:
    doc = _parse(GAGGLE)
    assert doc.kind is PageKind.TRANSCRIPT
    assert doc.url is not None and doc.key == doc.url
    assert doc.url.startswith("https://www.whitehouse.gov/briefing-room/press-briefings/")
    assert doc.title == "Press Gaggle by Press Secretary Karine Jean-Pierre En Route Buffalo, NY"
    speakers = {s.speaker for s in doc.statements}
    assert {"MS. JEAN-PIERRE", "Q", "THE PRESIDENT"} <= speakers
    first_turn = next(s for s in doc.statements if s.speaker == "MS. JEAN-PIERRE")
    assert first_turn.text == "Hello, hello, hello."
    questions = [s for s in doc.statements if s.speaker == "Q"]
    assert questions and all(s.kind is StatementKind.QUESTION for s in questions)
    # hard-wrapped lines are re-joined: no statement ends mid-line
    wrapped = next(s for s in doc.statements if s.text.startswith("I’ll try and speak"))
    assert wrapped.text == "I’ll try and speak loudly."


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Army Col. Ryan S. Dillon told reporters. He left.", 2),
        ("Lt. Gen. Stephen Townsend spoke at 9 a.m. Tuesday in the U.S. capital.", 1),
        ("It was 10 p.m. The meeting ended.", 2),
        ("The U.S. The end.", 2),
        ("“This is one. This is two,” he said. “Three.”", 3),
        ("No. 5 is here. Jan. 6 was a day.", 2),
        ("Really? Yes! Fine.", 3),
    ],
)
def test_sentence_splitting(text: str, expected: int) -> None:
    from briefwatch.parsers.sentences import sentences

    assert len(sentences(text)) == expected, sentences(text)


def test_hard_wrap_rejoined() -> None:
    lines = ["This is a long line of text that was wrapped at a fixed width by the",
             "scraper, and this continues it until the end of the paragraph here ok",
             "and ends."] * 4
    width = wrap_width(lines)
    assert width is not None
    assert len(join_wrapped(lines[:3], width)) == 1
    assert wrap_width(["short", "lines", "only", "here", "a", "b", "c", "d"]) is None


def test_nbsp_and_unicode_spaces_normalized() -> None:
    doc = parse("Officials said\u00a0the\u2009figure was 163.\u202fIt rose.".encode(),
                location="file:///x.txt")
    assert [s.text for s in doc.statements] == ["Officials said the figure was 163.", "It rose."]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty"),
        (b"   \n\n  ", "empty"),
        (b"\x00\x01\x02\x03binary\x00\x00\x00" * 50, "binary"),
    ],
)
def test_bad_input_raises_parse_error(data: bytes, message: str) -> None:
    with pytest.raises(ParseError, match=message):
        parse(data, location="file:///bad.txt")


def test_too_large_is_rejected() -> None:
    from briefwatch.parsers import ParseOptions

    with pytest.raises(ParseError, match="too large"):
        parse(b"x" * 2000, location="file:///big.txt", options=ParseOptions(max_bytes=1000))


def test_markdown_breadcrumbs_and_markup_dropped() -> None:
    md = (
        "---\ntitle: A Title\nsource_url: https://example.gov/a\ntags: articles\n---\n\n"
        "1.  [Home](https://example.gov/)\n2.  [News](https://example.gov/news/)\n\n"
        "**The Secretary** [announced](https://x.gov/y) a plan \\[sic\\] today.\n\n"
        "### A section\n\nSecond *paragraph* with ![img](a.png) text.\n"
    )
    doc = parse(md.encode(), location="file:///a.md")
    assert doc.key == "https://example.gov/a"
    assert [s.text for s in doc.statements] == [
        "The Secretary announced a plan [sic] today.", "Second paragraph with text."]
    assert doc.headings == ("A section",)
    assert doc.kind is PageKind.ARTICLE


GOVUK_QUOTE_HTML = b"""<!DOCTYPE html><html><head><title>Haulier tests - GOV.UK</title>
<link rel="canonical" href="https://www.gov.uk/government/news/haulier-tests"></head>
<body><main><article>
<p>More than 235,000 tests have been completed, officials said on Monday.</p>
<p>Transport Minister Rachel Maclean said:</p>
<blockquote><p>It is really encouraging to see traffic running smoothly through Kent.</p>
<p>It is vital that hauliers keep using the advice sites.</p></blockquote>
<p>The armed forces played a key role in the testing effort.</p>
<p>Secretary of State for Health and Social Care, Sajid Javid, said:</p>
<blockquote><p>Tackling waiting lists will require new ways of working.</p></blockquote>
</article></main></body></html>"""


@pytest.mark.parametrize(
    ("fragment", "speaker", "kind"),
    [
        ("It is really encouraging", "Transport Minister Rachel Maclean", "quote"),
        ("It is vital that hauliers", "Transport Minister Rachel Maclean", "quote"),
        ("The armed forces played", None, "narration"),
        ("Tackling waiting lists",
         "Secretary of State for Health and Social Care Sajid Javid", "quote"),
        ("More than 235,000 tests", None, "narration"),
    ],
)
def test_announced_blockquote_is_the_announcers_quote(fragment: str, speaker: str | None,
                                                      kind: str) -> None:
    doc = parse(GOVUK_QUOTE_HTML, location="file:///govuk.html")
    match = next(s for s in doc.statements if fragment in s.text)
    assert (match.speaker, match.kind.value) == (speaker, kind)


def test_markdown_blockquote_after_said() -> None:
    md = b"The President said:\n\n> We will rebuild. It starts today.\n\nThen he left the room.\n"
    doc = parse(md, location="file:///a.md")
    kinds = [(s.text, s.kind.value) for s in doc.statements]
    assert kinds[1:3] == [("We will rebuild.", "quote"), ("It starts today.", "quote")]
    assert kinds[3] == ("Then he left the room.", "narration")
