"""Hypothesis strategies that reach deep into briefwatch's parsers and diff.

Inputs are built from realistic pieces rather than random bytes alone, so that most of them
get past format sniffing and decoding into extraction, boilerplate removal, sentence
splitting, speaker attribution and the diff:

- HTML pages: headings, paragraphs with inline markup, lists, tables, block quotes, deep and
  misnested or unclosed tags, entities (valid, unknown, out of range), comments, scripts,
  styles, CDATA, processing instructions, profile signatures (whitehouse.gov, GOV.UK,
  defense.gov), canonical URLs (valid and malformed), JSON-LD, charset declarations;
- text dumps (hard-wrapped or not) and Markdown with YAML front matter (valid, invalid,
  aliases, odd value types);
- all of it encoded in one of several encodings, with or without a (possibly wrong) BOM and
  a (possibly wrong) declared charset; plus raw bytes and binary signatures;
- windows of real pages (``tests/fixtures``, and ``../shared`` when present) mutated by
  hypothesis (cut, duplicated, hostile pieces spliced in);
- pages with page chrome (the USWDS .gov banner in its markup and text forms, landmarks)
  placed where the product promises to strip it;
- statement lists and edits of them for the diff.
"""

from __future__ import annotations

import gzip
import html as html_lib
import random
import re
import textwrap
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Protocol

from hypothesis import strategies as st

from briefwatch.model import Statement, StatementKind
from briefwatch.parsers import Format, ParseOptions

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures"
SHARED = ROOT.parent / "shared"

# --------------------------------------------------------------------------- vocabulary

WORDS = tuple(
    """the a of and to in that we our forces city military operation people government week
    today report officials support security border attack coalition strike members press
    conference question answer policy plan troops civilian casualties reporters continue
    progress army navy fighters killed wounded rose fell announced agreed meeting allies
    funding vaccine shipments containers port inspections resumed tomorrow yesterday think
    know very important work together country economy jobs families""".split()
)
NUMBERS = (
    "163", "170", "1,800", "$1.2 million", "5%", "5 percent", "6th", "1:52", "-3", "2.5",
    "37", "42", "78", "2017", "$300", "10,000", "0", "1.", "3.14159", "$5B", "G7", "H5N1",
)
ABBREVIATIONS = (
    "U.S.", "Lt. Gen.", "Col.", "Jan. 6", "No. 5", "a.m.", "D.C.", "Mr.", "e.g.", "etc.",
    "vs.", "Sec. 3.", "1.", "(a)", "Dr.", "St.", "p.m.", "U.N.", "Inc.",
)
NAMES = (
    "Col. Ryan S. Dillon", "Dillon", "Navy Capt. Jeff Davis", "Secretary Austin", "Jane Roe",
    "the spokesman", "he", "she", "they", "Army Lt. Gen. Stephen J. Townsend", "Townsend",
    "a senior official", "Ms. Psaki", "the President",
)
SPEAKERS = (
    "MR. KIRBY", "MS. JEAN-PIERRE", "THE PRESIDENT", "SECRETARY BLINKEN", "GENERAL MILLEY",
    "MS. PSAKI", "MR. PRICE (via teleconference)", "SENIOR ADMINISTRATION OFFICIAL",
    "THE VICE PRESIDENT", "DR. FAUCI",
)
# words that make a statement unique
_NATO = tuple("alpha bravo charlie delta echo foxtrot golf hotel india juliett kilo lima mike "
              "november oscar papa quebec romeo sierra tango uniform victor whiskey".split())
SAY_VERBS = ("said", "told reporters", "added", "noted", "explained", "says")
TIMESTAMPS = ("9:07 A.M. EDT", "END 9:25 A.M. EDT", "1:52 P.M. EST", "12:00 PM")
ODD_CHARS = (
    "\x00\x01\x07\x08\x0b\x0c\x0e\x1b\x1c\x1d\x1e\x1f\x7f\x85\xa0\xad\u200b\u200c\u200d"
    "\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u2028\u2029\u2060"
    "\ufeff\ufffd\ufffe\uffff\ue000\ue001\ue0ff\U0001f600\u0301\u0130\u0131\u017f\u212a"
    "\u2018\u2019\u201c\u201d\u2014\u2013\u2026\uff0d\u3000\u00ab\u00bb\ud800\udfff\r\n\t"
    "<>&;\"'#\\|*_`[](){}"
)
ENTITIES = (
    "&amp;", "&nbsp;", "&#8217;", "&#x2014;", "&bogus;", "&#0;", "&#x110000;", "&#xD800;",
    "&#55296;", "&", "&#", "&#x;", "&#99999999999;", "&lt;", "&gt;p&lt;", "&quot;", "&rsquo;",
    "&ldquo;", "&rdquo;", "&hellip;", "&mdash;", "&#x1F600;", "&#1;", "&#x202E;", "&shy;",
)
CHARSET_LABELS = (
    "utf-8", "UTF-8", "utf8", "iso-8859-1", "latin1", "windows-1252", "ascii", "utf-16",
    "utf-16le", "shift_jis", "gb2312", "euc-kr", "koi8-r", "x-user-defined", "bogus",
    "replacement", "utf-7", "", "utf-8\x00", "ISO-2022-JP", "big5", "iso-8859-7", "idna",
    "punycode", "unicode_escape", "raw_unicode_escape", "base64", "rot13", "zlib", "hex",
    "undefined", "uu", "utf-32", "cp65001", "mbcs", "utf_16_be", " utf-8 ", "\"utf-8\"",
)
ENCODINGS = (
    "utf-8", "utf-8", "utf-8", "utf-8-sig", "utf-16", "utf-16-le", "utf-16-be", "utf-32",
    "cp1252", "latin-1", "shift_jis", "euc-jp", "gb18030", "big5", "koi8-r", "iso-8859-7",
    "utf-7", "cp437", "mac-roman",
)
BOMS = (b"", b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff", b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff")
LOCATIONS = (
    "page.html", "page.htm", "page.xhtml", "page.txt", "page.md", "page", "page.html?x=1#y",
    "file:///tmp/briefing.html",
    "https://www.whitehouse.gov/briefing-room/press-briefings/2024/01/05/press-briefing-by/",
    "https://www.whitehouse.gov/briefing-room/statements-releases/2021/02/01/statement/",
    "https://www.defense.gov/News/Transcripts/Transcript/Article/1/",
    "https://www.war.gov/News/News-Stories/Article/Article/2/",
    "https://www.gov.uk/government/speeches/a-speech",
    "https://example.gov/news/releases/2024/item",
    "http://[::1/broken", "https://example.gov:99999/x", "javascript:alert(1)",
)
CANONICAL_URLS = (*LOCATIONS[8:], "", "/relative/path", "//example.gov/x", "http://", "\x00")
FORMATS: tuple[Format | None, ...] = (None, None, None, "html", "text", "markdown")

# The USWDS .gov banner as a text dump gives it (two generations) and as published markup.
BANNER_LINES = (
    "An official website of the United States government",
    "Here’s how you know",
    "Official websites use .gov",
    "A .gov website belongs to an official government organization in the United States.",
    "Secure .gov websites use HTTPS",
    "A lock ( lock ) or https:// means you’ve safely connected to the .gov website. "
    "Share sensitive information only on official, secure websites.",
)
BANNER_1_LINES = (
    "An official website of the United States government Here's how you know",
    "The .gov means it’s official. Federal government websites often end in .gov or .mil. "
    "Before sharing sensitive information, make sure you’re on a federal government site.",
    "The site is secure. The https:// ensures that you are connecting to the official website "
    "and that any information you provide is encrypted and transmitted securely.",
)
USWDS_BANNER_HTML = (
    '<section class="usa-banner" aria-label="Official website of the United States government">'
    '<div class="usa-accordion"><header class="usa-banner__header">'
    '<div class="usa-banner__inner"><div class="grid-col-auto">'
    '<img aria-hidden="true" class="usa-banner__header-flag" src="/flag.png" alt=""></div>'
    '<div class="grid-col-fill tablet:grid-col-auto" aria-hidden="true">'
    '<p class="usa-banner__header-text">An official website of the United States government</p>'
    '<p class="usa-banner__header-action">Here’s how you know</p></div>'
    '<button type="button" class="usa-accordion__button usa-banner__button" '
    'aria-expanded="false" aria-controls="gov-banner-default">'
    '<span class="usa-banner__button-text">Here’s how you know</span></button></div></header>'
    '<div class="usa-banner__content usa-accordion__content" id="gov-banner-default" hidden>'
    '<div class="grid-row grid-gap-lg"><div class="usa-banner__guidance tablet:grid-col-6">'
    '<div class="usa-media-block__body"><p><strong>Official websites use .gov</strong><br>'
    "A <strong>.gov</strong> website belongs to an official government organization in the "
    'United States.</p></div></div><div class="usa-banner__guidance tablet:grid-col-6">'
    '<div class="usa-media-block__body"><p><strong>Secure .gov websites use HTTPS</strong><br>'
    'A <strong>lock</strong> (<span class="icon-lock">lock</span>) or <strong>https://</strong>'
    " means you’ve safely connected to the .gov website. Share sensitive information only on "
    "official, secure websites.</p></div></div></div></div></div></section>"
)
CHROME_MARK = "Chromemark"  # a word only page chrome carries in the chrome strategies
# comparison forms (match_key, casefolded) of what must never be a statement's text
CHROME_MARKERS = (
    "official website of the united states government",
    "here's how you know",
    "official websites use .gov",
    "secure .gov websites use https",
    ".gov website belongs to an official government organization",
    "means you've safely connected to the .gov website",
    "share sensitive information only on official",
    "the .gov means it's official",
    "the site is secure. the https://",
    CHROME_MARK.casefold(),
)
PROFILE_WRAPPERS = (
    ("", ""), ("<main>", "</main>"), ("<article>", "</article>"),
    ('<div class="page-content__content">', "</div>"),
    ('<section class="body-content">', "</section>"),
    ('<div class="gem-c-govspeak">', "</div>"), ('<div class="body">', "</div>"),
    ('<div itemprop="articleBody">', "</div>"), ('<div class="entry-content">', "</div>"),
    ('<div class="content">', "</div>"),
)


# --------------------------------------------------------------------------- inputs


@dataclass(frozen=True)
class ParseInput:
    """One call of :func:`briefwatch.parsers.parse`."""

    data: bytes
    location: str
    options: ParseOptions = field(default_factory=ParseOptions)


@dataclass(frozen=True)
class ChromePage:
    """A page whose chrome (banner, landmarks) is where the product promises to strip it."""

    input: ParseInput
    content_words: int  # words of body text the page carries besides the chrome


@dataclass(frozen=True)
class DiffCase:
    old: tuple[Statement, ...]
    new: tuple[Statement, ...]


@dataclass(frozen=True)
class KnownEdit:
    """Two statement lists that differ by exactly one known edit, and what the diff must say."""

    old: tuple[Statement, ...]
    new: tuple[Statement, ...]
    index: int  # the edited statement (same index on both sides)
    edit: str  # "number" | "speaker"
    numbers: tuple[str, str] = ("", "")  # the number before and after ("number" edits)


@dataclass(frozen=True)
class PageEdit:
    """Two versions of one page (bytes) and the single edit between them."""

    old: ParseInput
    new: ParseInput
    edit: str  # "number" | "speaker"
    before: str  # the number or speaker label in the old version
    after: str


# --------------------------------------------------------------------------- text pieces

odd_text = st.text(
    alphabet=st.one_of(st.sampled_from(ODD_CHARS), st.characters(exclude_categories=())),
    max_size=8,
)
word = st.sampled_from(WORDS)
_TOKENS = WORDS * 3 + NUMBERS + ABBREVIATIONS + NAMES
END_PUNCT = (".", ".", ".", "?", "!", "…", "", "...", '."', ".”", "?’", ")", ".)", ":")


class Chooser(Protocol):
    """Where text builders take their choices from: hypothesis draws (shrinkable) or a seeded
    ``random.Random`` (the pools below: one draw per sentence, generation being most of
    the fuzzer's time)."""

    def choice(self, options: Sequence[str], /) -> str: ...
    def randint(self, low: int, high: int, /) -> int: ...
    def odd(self) -> str: ...


class _Draws:
    def __init__(self, draw: st.DrawFn) -> None:
        self.draw = draw

    def choice(self, options: Sequence[str]) -> str:
        return self.draw(st.sampled_from(options))

    def randint(self, low: int, high: int) -> int:
        return self.draw(st.integers(low, high))

    def odd(self) -> str:
        return self.draw(odd_text)


class _Seeded(random.Random):
    def odd(self) -> str:
        return "".join(self.choice(ODD_CHARS) if self.random() < 0.7 else chr(self.randint(
            0, 0x10FFFF)) for _ in range(self.randint(0, 8)))


def build_sentence(c: Chooser, tokens: Sequence[str] = _TOKENS, odd: bool = True) -> str:
    """One sentence of briefing prose (sometimes odd)."""
    words = [c.odd() if odd and c.randint(0, 11) == 0 else c.choice(tokens)
             for _ in range(c.randint(1, 12))]
    text = " ".join(words)
    return text[:1].upper() + text[1:] + c.choice(END_PUNCT)


def build_quote(c: Chooser) -> str:
    """A quotation with (or without) an attribution, in the forms the attribution reads."""
    said = build_sentence(c).rstrip(".?!…")
    name, verb = c.choice(NAMES), c.choice(SAY_VERBS)
    return c.choice((
        f"“{said},” {name} {verb}.", f'"{said}," {verb} {name}.', f"{name} {verb}: “{said}.”",
        f'{name} {verb}, "{said}', f"“{said}.", f"{said}, {name} {verb}.",
        f"According to {name}, {said}.", f"{name} {verb} that {said}.",
        f"The spokesman, {name}, {verb} “{said}.”", f"„{said}“ {name} {verb}.",
    ))


def build_turn(c: Chooser) -> str:
    """A transcript paragraph: a speaker turn, a question, or a time stamp."""
    kind = c.randint(0, 5)
    body = " ".join(build_quote(c) if c.randint(0, 2) == 0 else build_sentence(c)
                    for _ in range(c.randint(1, 3)))
    if kind <= 2:
        return f"{c.choice(SPEAKERS)}{c.choice((': ', ':  ', ' : ', ':'))}{body}"
    if kind <= 4:
        return f"{c.choice(('Q ', 'Q. ', 'Q: ', 'Q  '))}{body}"
    return c.choice(TIMESTAMPS)


def _pool(build: Callable[[Chooser], str], seed: int, size: int = 4000) -> tuple[str, ...]:
    rng = _Seeded(seed)
    return tuple(build(rng) for _ in range(size))


SENTENCES = _pool(build_sentence, 1)
PLAIN_SENTENCES = _pool(lambda c: build_sentence(c, WORDS, odd=False), 2)
QUOTES = _pool(build_quote, 3)
TURNS = _pool(build_turn, 4)


def _pooled(pool: tuple[str, ...], build: Callable[[Chooser], str]) -> st.SearchStrategy[str]:
    """Mostly a pooled text (one draw), one time in eight built from hypothesis draws."""

    @st.composite
    def strategy(draw: st.DrawFn) -> str:
        if draw(st.integers(0, 7)) == 0:
            return build(_Draws(draw))
        return draw(st.sampled_from(pool))

    return strategy()


def sentence() -> st.SearchStrategy[str]:
    return _pooled(SENTENCES, build_sentence)


plain_sentence = _pooled(PLAIN_SENTENCES, lambda c: build_sentence(c, WORDS, odd=False))


def quote() -> st.SearchStrategy[str]:
    return _pooled(QUOTES, build_quote)


def turn() -> st.SearchStrategy[str]:
    return _pooled(TURNS, build_turn)


@st.composite
def _token(draw: st.DrawFn) -> str:
    return draw(odd_text) if draw(st.integers(0, 11)) == 0 else draw(st.sampled_from(_TOKENS))


token = _token()


paragraph_text = st.one_of(
    st.lists(sentence(), min_size=1, max_size=4).map(" ".join), quote(), turn()
)
heading_text = st.one_of(
    st.lists(word, min_size=1, max_size=6).map(lambda w: " ".join(w).title()),
    st.sampled_from(("Related Stories", "Share", "Play", "00:32", "Photo By: Sgt. X", "Q")),
)


# --------------------------------------------------------------------------- HTML


def _esc(text: str) -> str:
    return html_lib.escape(text, quote=False)


@st.composite
def inline(draw: st.DrawFn, text: st.SearchStrategy[str] = paragraph_text) -> str:
    """Paragraph text with inline markup, entities and line breaks spliced in."""
    pieces = [_esc(draw(text))]
    for _ in range(draw(st.integers(0, 3))):
        piece = draw(st.sampled_from((
            "<b>{}</b>", "<i>{}</i>", "<a href='/x'>{}</a>", "<span class='x'>{}</span>",
            "<em>{}</em>", "<strong>{}</strong>", "{}<br>", "<sup>{}</sup>", "<code>{}</code>",
            "<img alt='{}' src='x.png'>", "{} " + draw(st.sampled_from(ENTITIES)),
            "<span hidden>{}</span>", "<a href='#main'>{}</a>",
        )))
        pieces.append(piece.format(_esc(draw(st.sampled_from(WORDS)))))
    pos = draw(st.integers(0, len(pieces)))
    pieces.insert(pos, _esc(draw(sentence())))
    return " ".join(pieces)


_NEUTRAL_ATTRS = ("", "", "", " class='lead'", " dir='rtl'", " lang='en'", " title='x'",
                  " style='color:red'", " class='usa-prose'", " aria-hidden='false'")
# attributes that move where the main content is (a profile's selector, the heuristic) or
# that mark an element as chrome
_WEIGHTY_ATTRS = (" id='main'", " class='article-body'", " class='byline'",
                  " class='caption'", " role='main'")


@st.composite
def balanced_element(draw: st.DrawFn, weighty: bool = True) -> str:
    """A well-formed content element (closed, properly nested)."""
    kind = draw(st.integers(0, 9))
    attr = draw(st.sampled_from(_NEUTRAL_ATTRS + (_WEIGHTY_ATTRS if weighty else ())))
    if kind <= 3:
        return f"<p{attr}>{draw(inline())}</p>"
    if kind == 4:
        level = draw(st.integers(1, 6))
        return f"<h{level}>{_esc(draw(heading_text))}</h{level}>"
    if kind == 5:
        tag = draw(st.sampled_from(("ul", "ol")))
        items = draw(st.lists(inline(), min_size=1, max_size=4))
        return f"<{tag}>" + "".join(f"<li>{i}</li>" for i in items) + f"</{tag}>"
    if kind == 6:
        rows = draw(st.lists(st.lists(inline(plain_sentence), min_size=1, max_size=3),
                             min_size=1, max_size=2))
        cells = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in r) + "</tr>" for r in rows)
        return f"<table>{cells}</table>"
    if kind == 7:
        return f"<blockquote><p>{draw(inline(quote()))}</p></blockquote>"
    if kind == 8:
        return f"<div{attr}>{draw(inline())}</div>"
    depth = draw(st.integers(1, 12))
    return "<div>" * depth + f"<p>{draw(inline())}</p>" + "</div>" * depth


HOSTILE_PIECES = (
    "</div>", "</p>", "</body>", "<p>", "<b>", "<i>", "<b><i>x</b> y</i>", "<table><td>cell",
    "</html>", "<body>", "<html>", "<head>", "<frameset><frame src=x>", "<svg><text>svg</text>",
    "<math><mi>x</mi>", "<template><p>template</p>", "<noscript><p>noscript</p></noscript>",
    "<form><input value=x>", "<select><option>opt", "<?php echo 1; ?>", "<!DOCTYPE x>",
    "<![CDATA[ cdata <p> ]]>", "<<<", ">>>", "<!-- unterminated", "-->", "<!---->",
    "<script>document.write('<p>x</p>')</script>", "<style>p{}</style><p>", "<a href=",
    "<p class='", "<ul><li>a<li>b</ul>", "<dl><dt>t<dd>d</dl>", "<pre>  x\n  y</pre>",
    "<textarea><p>t</textarea>", "<title>inner title</title>", "<meta charset='koi8-r'>",
    "<base href='http://evil/'>", "<nav>", "<header>", "</footer>", "<iframe src=x>",
    "<p>" * 40, "</b>" * 20, "<br/>" * 30, "<wbr>", "<xmp><p>xmp</xmp>", "<plaintext>",
    "<image src=x>", "<isindex>", "<p\x00>", "<\u202e>", "<div a=\"b\" c='d' e=f g>",
)


@st.composite
def hostile_element(draw: st.DrawFn) -> str:
    """Anything an HTML page may hold, broken or not."""
    kind = draw(st.integers(0, 9))
    if kind <= 3:
        return draw(balanced_element())
    if kind == 4:
        return draw(st.sampled_from(HOSTILE_PIECES))
    if kind == 5:
        return draw(st.sampled_from(ENTITIES)) + _esc(draw(sentence()))
    if kind == 6:
        body = draw(st.one_of(sentence(), st.sampled_from(BANNER_LINES), odd_text))
        return draw(st.sampled_from((
            "<!-- {} -->", "<script>var s = '{}';</script>", "<style>/* {} */</style>",
            "<![CDATA[{}]]>", "<script type='application/ld+json'>{}</script>",
        ))).format(body)
    if kind == 7:
        depth = draw(st.sampled_from((1, 5, 50, 300, 2100, 3000)))
        tag = draw(st.sampled_from(("div", "span", "b", "p", "table", "li")))
        closed = draw(st.booleans())
        return f"<{tag}>" * depth + _esc(draw(sentence())) + (f"</{tag}>" * depth if closed else "")
    if kind == 8:
        return draw(odd_text) + draw(inline())  # raw odd characters, unescaped
    return f"<p>{draw(inline())}"  # unclosed paragraph


json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False),
              st.text(max_size=20)),
    lambda inner: st.one_of(st.lists(inner, max_size=4),
                            st.dictionaries(st.text(max_size=10), inner, max_size=4)),
    max_leaves=10,
)


@st.composite
def json_ld(draw: st.DrawFn) -> str:
    import json

    value = draw(st.one_of(
        json_values,
        st.fixed_dictionaries({
            "@type": st.sampled_from(("NewsArticle", "Article", ["Article"], 3)),
            "headline": st.one_of(st.text(max_size=30), json_values),
            "datePublished": st.one_of(st.sampled_from(("2024-03-05", "2024-13-45", "x")),
                                       json_values),
            "author": st.one_of(json_values, st.just({"name": "Jane Roe"})),
        }),
    ))
    text = json.dumps(value, ensure_ascii=draw(st.booleans()))
    if draw(st.booleans()):
        text = text[: draw(st.integers(0, len(text)))]  # truncated JSON
    return f"<script type='application/ld+json'>{text}</script>"


@st.composite
def head(draw: st.DrawFn) -> str:
    parts = []
    for _ in range(draw(st.integers(0, 5))):
        which = draw(st.integers(0, 7))
        if which == 0:
            parts.append(f"<title>{_esc(draw(st.one_of(heading_text, odd_text)))}</title>")
        elif which == 1:
            parts.append(f"<meta charset='{draw(st.sampled_from(CHARSET_LABELS))}'>")
        elif which == 2:
            parts.append(f"<meta property='og:title' content='{_esc(draw(heading_text))}'>")
        elif which == 3:
            url = html_lib.escape(draw(st.sampled_from(CANONICAL_URLS)))
            parts.append(f"<link rel='canonical' href='{url}'>")
        elif which == 4:
            parts.append(draw(json_ld()))
        elif which == 5:
            date = draw(st.sampled_from(("2024-03-05T10:00:00Z", "2024-02-30", "yesterday", "")))
            parts.append(f"<meta property='article:published_time' content='{date}'>")
        elif which == 6:
            parts.append("<meta property='og:type' content='article'>")
        else:
            parts.append(f"<meta name='author' content='{_esc(draw(st.sampled_from(NAMES)))}'>")
    return "<head>" + "".join(parts) + "</head>"


@st.composite
def html_page(draw: st.DrawFn) -> str:
    """A whole HTML document, from clean to badly broken."""
    elements = draw(st.lists(hostile_element(), min_size=0, max_size=12))
    before, after = draw(st.sampled_from(PROFILE_WRAPPERS))
    doctype = draw(st.sampled_from(("", "<!DOCTYPE html>", "<!doctype html>\n",
                                    "<?xml version='1.0' encoding='utf-8'?>\n",
                                    "<!DOCTYPE HTML PUBLIC \"-//W3C//DTD HTML 4.01//EN\">")))
    body = before + "\n".join(elements) + after
    shape = draw(st.integers(0, 3))
    if shape == 0:
        return f"{doctype}<html>{draw(head())}<body>{body}</body></html>"
    if shape == 1:
        return f"{doctype}<html>{draw(head())}<body>{body}"  # never closed
    if shape == 2:
        return f"{doctype}{body}"  # a fragment
    return f"{doctype}<body>{body}</body>"


# --------------------------------------------------------------------------- chrome pages

_CONTROLS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _no_controls(text: str) -> str:
    """Without C0 controls: a page with more than a few is refused as binary, which would
    make "no chrome in any statement" true of a page that has none."""
    return _CONTROLS.sub("", text)


# a paragraph a page has once (adjacent copies of a paragraph are dropped as caption repeats)
unique_paragraph = st.builds(
    lambda name, words: f"{name.title()} reported that the {' '.join(words)} had resumed.",
    st.sampled_from(_NATO), st.lists(word, min_size=1, max_size=8),
)


@st.composite
def chrome_piece(draw: st.DrawFn) -> tuple[str, bool]:
    """Page chrome carrying banner text or the chrome mark; True when it is a text-form
    banner (a run of block elements, one banner line each)."""
    mark = f"{CHROME_MARK} {draw(plain_sentence)}"
    kind = draw(st.integers(0, 9))
    if kind == 0:
        return USWDS_BANNER_HTML, False
    if kind <= 5:
        tag = draw(st.sampled_from(("header", "nav", "footer", "aside")))
        inner = draw(st.sampled_from((
            f"<p>{_esc(mark)}</p>", f"<ul><li><a href='/'>{_esc(mark)}</a></li></ul>",
            USWDS_BANNER_HTML, f"<div><p>{BANNER_LINES[0]}</p><p>{_esc(mark)}</p></div>",
        )))
        return f"<{tag}>{inner}</{tag}>", False
    if kind == 6:
        role = draw(st.sampled_from(("banner", "navigation", "contentinfo", "complementary")))
        return f"<div role='{role}'><p>{_esc(mark)}</p></div>", False
    if kind == 7:
        cls = draw(st.sampled_from(("usa-banner", "usa-identifier", "govuk-header",
                                    "govuk-footer", "usa-skipnav")))
        return f"<div class='{cls}'><p>{_esc(mark)}</p></div>", False
    lines = draw(st.sampled_from((BANNER_LINES, BANNER_1_LINES)))
    tag = draw(st.sampled_from(("p", "div")))
    return "".join(f"<{tag}>{_esc(line)}</{tag}>" for line in lines), True


@st.composite
def chrome_html_page(draw: st.DrawFn) -> ChromePage:
    """Content (well-formed, at least one paragraph) with chrome around and inside it."""
    # no attribute that moves the main content elsewhere: the page's own paragraph must be
    # content, so that "no chrome in any statement" is not true of an empty page
    content = draw(st.lists(balanced_element(weighty=False), max_size=6))
    # one paragraph the page has once (adjacent copies of a paragraph are caption repeats)
    content.insert(draw(st.integers(0, len(content))),
                   f"<p>{_esc(draw(unique_paragraph))} {draw(inline())}</p>")
    chrome = draw(st.lists(chrome_piece(), min_size=1, max_size=4))
    before, after = draw(st.sampled_from(PROFILE_WRAPPERS))
    inner: list[str] = list(content)
    outer: list[str] = []
    for piece, _text_form in chrome:
        if draw(st.booleans()):
            inner.insert(draw(st.integers(0, len(inner))), piece)
        else:
            outer.insert(draw(st.integers(0, len(outer))), piece)
    split = draw(st.integers(0, len(outer)))
    body = "".join(outer[:split]) + before + "".join(inner) + after + "".join(outer[split:])
    page = _no_controls(f"<!DOCTYPE html><html>{draw(head())}<body>{body}</body></html>")
    data = page.encode("utf-8", "replace")  # lone surrogates: "?" (the banner stays intact)
    location = draw(st.sampled_from(LOCATIONS))
    return ChromePage(ParseInput(data, location, ParseOptions(format="html")),
                      content_words=sum(len(c.split()) for c in content))


@st.composite
def chrome_text_page(draw: st.DrawFn) -> ChromePage:
    """A text dump or Markdown file that starts (or has a section starting) with the text-form
    banner, one banner line per line, as text dumps of .gov pages give it."""
    lines = list(draw(st.sampled_from((BANNER_LINES, BANNER_1_LINES))))
    if draw(st.booleans()):
        lines = [line.replace(" ", "\u00a0", 1) for line in lines]  # the seed's NBSP
    paragraphs = draw(st.lists(paragraph_text, max_size=6))
    paragraphs.insert(draw(st.integers(0, len(paragraphs))), draw(unique_paragraph))
    markdown = draw(st.booleans())
    sep = "\n\n" if markdown else "\n"
    banner = sep.join(lines)
    where = draw(st.integers(0, len(paragraphs)))
    body = [*paragraphs[:where], banner, *paragraphs[where:]]
    text = "\n\n".join(body) + "\n"
    if markdown:
        text = f"---\ntitle: {draw(plain_sentence)!r}\n---\n\n{text}"
    data = _no_controls(text).encode("utf-8", "replace")
    fmt: Format = "markdown" if markdown else "text"
    location = "page.md" if markdown else "page.txt"
    return ChromePage(ParseInput(data, location, ParseOptions(format=fmt)),
                      content_words=sum(len(p.split()) for p in paragraphs))


# --------------------------------------------------------------------------- text, Markdown


@st.composite
def text_dump(draw: st.DrawFn) -> str:
    """A plain-text dump: a title line, paragraphs one per line or hard-wrapped, odd spacing."""
    blocks = draw(st.lists(st.one_of(paragraph_text, heading_text, odd_text), max_size=10))
    if draw(st.booleans()):
        width = draw(st.integers(20, 90))
        blocks = ["\n".join(textwrap.wrap(b, width)) or b for b in blocks]
    sep = draw(st.sampled_from(("\n", "\n\n", "\r\n", "\r\n\r\n", "\n \n", "\f\n", "\r")))
    return sep.join(blocks)


@st.composite
def front_matter(draw: st.DrawFn) -> str:
    kind = draw(st.integers(0, 5))
    if kind == 0:
        return ""
    if kind == 1:
        return f"---\n{draw(st.text(max_size=40))}\n---\n"  # whatever YAML makes of it
    if kind == 2:  # aliases of aliases: a small "billion laughs"
        return ("---\na: &a [x, x, x]\nb: &b [*a, *a, *a]\nc: &c [*b, *b, *b]\n"
                "title: *c\ntags: *b\nauthor: *a\n---\n")
    fields = {
        "title": st.one_of(plain_sentence.map(repr), st.sampled_from(
            ("", "~", "[a, b]", "{x: 1}", "2024-01-01", "12", "!!binary aGk=", "!!set {a}"))),
        "date": st.sampled_from(("2024-01-05", "2024-13-45", "'x'", "2024-01-05 10:00:00", "[]")),
        "source_url": st.sampled_from(CANONICAL_URLS).map(repr),
        "tags": st.sampled_from(("[press-briefings]", "press-briefings", "[1, 2]", "{a: b}",
                                 "[blog, releases]", "")),
        "author": st.sampled_from(("Jane Roe", "[a, b]", "{name: x}", "42", "")),
    }
    lines = [f"{k}: {draw(v)}" for k, v in fields.items() if draw(st.booleans())]
    end = draw(st.sampled_from(("---", "...", "---  ", "")))
    return "---\n" + "\n".join(lines) + f"\n{end}\n"


@st.composite
def markdown_line(draw: st.DrawFn) -> str:
    text = draw(paragraph_text)
    return draw(st.sampled_from((
        "{}", "{}", "# {}", "## {} ##", "- {}", "* {}", "1. {}", "    - {}", "> {}", "> > {}",
        "| {} | x |", "|---|---|", "**{}**", "_{}_", "[{}](http://x)", "![{}](img.png)",
        "<p>{}</p>", "<div>{}", "```", "~~~", "---", "***", "===", "{}  ", "{}\\",
        "<script>{}</script>", "<!-- {} -->", "[{}][ref]", "<https://x.gov>", "\\*{}\\*",
    ))).format(text)


@st.composite
def markdown_doc(draw: st.DrawFn) -> str:
    lines = draw(st.lists(st.one_of(markdown_line(), st.just("")), max_size=16))
    return draw(front_matter()) + "\n".join(lines)


# --------------------------------------------------------------------------- bytes


@st.composite
def encoded(draw: st.DrawFn, text: str) -> tuple[bytes, str | None]:
    """``text`` as bytes: mostly plain UTF-8, else some encoding, maybe with a BOM, with the
    right, a wrong or no declared charset."""
    plain = draw(st.integers(0, 9)) < 6
    encoding = "utf-8" if plain else draw(st.sampled_from(ENCODINGS))
    errors = "surrogatepass" if not plain and draw(st.booleans()) else "replace"
    try:
        data = text.encode(encoding, errors)
    except UnicodeError:
        data = text.encode("utf-8", "surrogatepass")
    bom = b""
    if not plain and draw(st.integers(0, 3)) == 0:
        bom = draw(st.sampled_from(BOMS))
    declared = None
    which = draw(st.integers(0, 3))
    if which == 1:
        declared = encoding
    elif which == 2:
        declared = draw(st.sampled_from(CHARSET_LABELS))
    return bom + data, declared


@st.composite
def parse_input(draw: st.DrawFn, text: st.SearchStrategy[str], location: str) -> ParseInput:
    """A generated document as a parse call: encoded, located, maybe with options."""
    data, declared = draw(encoded(draw(text)))
    where = location if draw(st.booleans()) else draw(st.sampled_from(LOCATIONS))
    fmt = draw(st.sampled_from(FORMATS)) if draw(st.integers(0, 3)) == 0 else None
    max_bytes = draw(st.sampled_from((100, 1))) if draw(st.integers(0, 19)) == 0 else 2**24
    return ParseInput(data, where, ParseOptions(max_bytes=max_bytes, format=fmt,
                                                declared_encoding=declared))


html_inputs = parse_input(html_page(), "page.html")
text_inputs = parse_input(text_dump(), "page.txt")
markdown_inputs = parse_input(markdown_doc(), "page.md")

SIGNATURES = (b"%PDF-1.7\n", b"PK\x03\x04", b"\x89PNG\r\n\x1a\n", b"\x1f\x8b\x08", b"GIF89a",
              b"\x7fELF", b"<html>", b"<?xml ", b"---\n", b"{\"a\": ", b"\xef\xbb\xbf",
              b"\xff\xfe<\x00h\x00t\x00m\x00l\x00>\x00", b"\xed\xa0\x80", b"\xc0\x80", b"\x00" * 64)


@st.composite
def raw_bytes(draw: st.DrawFn) -> ParseInput:
    """Random bytes, alone or glued to signatures and markup."""
    parts = draw(st.lists(st.one_of(st.binary(max_size=300), st.sampled_from(SIGNATURES),
                                    plain_sentence.map(lambda s: s.encode())),
                          min_size=1, max_size=6))
    options = ParseOptions(format=draw(st.sampled_from(FORMATS)),
                           declared_encoding=draw(st.sampled_from((None, *CHARSET_LABELS))))
    return ParseInput(b"".join(parts), draw(st.sampled_from(LOCATIONS)), options)


# --------------------------------------------------------------------------- real pages


@lru_cache(maxsize=1)
def real_pages() -> tuple[tuple[str, str], ...]:
    """(location, text) of a few real pages: the test fixtures, plus ../shared when present.
    Read once; a few MB at most."""
    pages: list[tuple[str, str]] = []
    for path in sorted((FIXTURES / "html").glob("*.html*"))[:6]:
        raw = path.read_bytes()
        pages.append(("page.html", (gzip.decompress(raw) if path.suffix == ".gz" else raw)
                      .decode("utf-8", "replace")))
    for path in sorted((FIXTURES / "markdown").glob("*.md"))[:1]:
        pages.append(("page.md", path.read_text("utf-8")))
    for path in sorted((FIXTURES / "seeds").glob("*.txt")):
        pages.append(("page.txt", path.read_text("utf-8")))
    for pattern in ("corpora/edgi-pairs/falsepos-footer-a.html",
                    "corpora/edgi-pairs/truepos-image-removal-a.html"):
        for path in sorted(SHARED.glob(pattern)):
            pages.append(("page.html", path.read_text("utf-8", "replace")))
    return tuple(pages)


MUTATION_PIECES = st.one_of(
    st.sampled_from(HOSTILE_PIECES), st.sampled_from(ENTITIES), odd_text, inline(),
    st.sampled_from(BANNER_LINES), turn(),
)


@st.composite
def real_fragment(draw: st.DrawFn) -> ParseInput:
    """A window of a real page, cut, duplicated and spliced with hostile pieces."""
    pages = real_pages()
    location, text = draw(st.sampled_from(pages))
    size = draw(st.sampled_from((2_000, 8_000, 30_000, 10**9)))
    start = draw(st.integers(0, max(0, len(text) - size))) if size < len(text) else 0
    doc = text[start:start + size]
    for _ in range(draw(st.integers(0, 6))):
        pos = draw(st.integers(0, len(doc)))
        op = draw(st.integers(0, 3))
        if op == 0:
            doc = doc[:pos] + draw(MUTATION_PIECES) + doc[pos:]
        elif op == 1:
            doc = doc[:pos] + doc[pos + draw(st.integers(1, 400)):]
        elif op == 2:
            span = draw(st.integers(1, 400))
            doc = doc[:pos] + doc[pos:pos + span] * 2 + doc[pos + span:]
        else:
            doc = doc[:pos]
    data, declared = draw(encoded(doc))
    return ParseInput(data, location, ParseOptions(declared_encoding=declared))


# --------------------------------------------------------------------------- diff inputs

KINDS = tuple(StatementKind)
diff_speakers = st.sampled_from((None, None, "MR. KIRBY", "Q", "Dillon", "MS. PSAKI"))


def renumber(texts: Sequence[tuple[str, str | None, StatementKind]]) -> tuple[Statement, ...]:
    """Statements at positions 0..n-1. Lone surrogates become "?": no decoded page has them
    (Python's decoders refuse them; lxml turns "&#xD800;" into U+FFFD)."""
    return tuple(
        Statement(t.encode("utf-8", "replace").decode("utf-8"), s, k, paragraph=i, position=i)
        for i, (t, s, k) in enumerate(texts)
    )


@st.composite
def statement_list(draw: st.DrawFn, pool: Sequence[str]) -> list[tuple[str, str | None,
                                                                        StatementKind]]:
    texts = st.one_of(st.sampled_from(pool), sentence())
    return draw(st.lists(st.tuples(texts, diff_speakers, st.sampled_from(KINDS)), max_size=25))


def _edit_word(text: str, new_word: str, at: int) -> str:
    words = text.split()
    if not words:
        return new_word
    words[at % len(words)] = new_word
    return " ".join(words)


@st.composite
def diff_case(draw: st.DrawFn) -> DiffCase:
    """A statement list and a randomly edited copy (deletes, inserts, rewrites, moves,
    duplicates, speaker swaps, typography-only changes)."""
    pool = draw(st.lists(sentence(), min_size=1, max_size=6))
    old = draw(statement_list(pool))
    new = list(old)
    for _ in range(draw(st.integers(0, 8))):
        op = draw(st.integers(0, 6))
        if op == 0 and new:
            del new[draw(st.integers(0, len(new) - 1))]
            continue
        if op in (1, 2) or not new:
            item = (draw(st.one_of(st.sampled_from(pool), sentence())), draw(diff_speakers),
                    draw(st.sampled_from(KINDS)))
            if op == 2 and new:
                item = new[draw(st.integers(0, len(new) - 1))]  # a duplicate
            new.insert(draw(st.integers(0, len(new))), item)
            continue
        i = draw(st.integers(0, len(new) - 1))
        text, speaker, kind = new[i]
        if op == 3:
            text = _edit_word(text, draw(token), draw(st.integers(0, 20)))
        elif op == 4:
            speaker = draw(diff_speakers)
        elif op == 5:
            text = text.replace("'", "’").replace('"', "“").replace("-", " — ")
        else:
            new.insert(draw(st.integers(0, len(new) - 1)), new.pop(i))
            continue
        new[i] = (text, speaker, kind)
    return DiffCase(renumber(old), renumber(new))




@st.composite
def known_edit(draw: st.DrawFn) -> KnownEdit:
    """Unique statements; one gets a number changed (163 -> 170) or a new speaker."""
    n = draw(st.integers(1, 20))
    speakers = st.sampled_from(("MR. KIRBY", "Q", "Dillon", "MS. PSAKI", None))
    items = []
    for i in range(n):
        words = draw(st.lists(word, min_size=2, max_size=10))
        words.insert(draw(st.integers(0, len(words))), _NATO[i])  # unique per statement
        items.append((" ".join(words).capitalize() + ".", draw(speakers),
                      draw(st.sampled_from(KINDS))))
    index = draw(st.integers(0, n - 1))
    text, speaker, kind = items[index]
    edited = list(items)
    if draw(st.booleans()):
        before, after = draw(st.lists(st.integers(0, 10**6).map(str), min_size=2, max_size=2,
                                      unique=True))
        words = text.split()
        at = draw(st.integers(1, len(words)))
        old_text = " ".join([*words[:at], before, *words[at:]])
        items[index] = (old_text, speaker, kind)
        edited[index] = (" ".join([*words[:at], after, *words[at:]]), speaker, kind)
        return KnownEdit(renumber(items), renumber(edited), index, "number", (before, after))
    other = draw(speakers.filter(lambda s: s != speaker))
    edited[index] = (text, other, kind)
    return KnownEdit(renumber(items), renumber(edited), index, "speaker")


@st.composite
def page_edit(draw: st.DrawFn) -> PageEdit:
    """A transcript page (HTML, text or Markdown) and a copy with one number or one turn's
    speaker label changed."""
    nums = draw(st.lists(st.integers(1000, 10**7).map(str), min_size=2, max_size=2, unique=True))
    turns: list[str] = []
    for i in range(draw(st.integers(3, 8))):
        label = "Q" if i % 2 == 0 else draw(st.sampled_from(SPEAKERS[:6]))
        words = draw(st.lists(word, min_size=3, max_size=12))
        turns.append(f"{label}{': ' if label != 'Q' else ' '}"
                     f"{' '.join(words).capitalize()} {_NATO[i]}.")
    target = draw(st.integers(0, len(turns) - 1))
    if draw(st.booleans()):
        head_, _, tail = turns[target].rpartition(" ")
        old_turns = list(turns)
        old_turns[target] = f"{head_} {nums[0]} {tail}"
        new_turns = list(turns)
        new_turns[target] = f"{head_} {nums[1]} {tail}"
        edit, before, after = "number", nums[0], nums[1]
    else:
        target = 1 + 2 * draw(st.integers(0, (len(turns) - 2) // 2))  # a speaker's turn
        label, _, rest = turns[target].partition(": ")
        after = draw(st.sampled_from(SPEAKERS[:6]).filter(lambda s: s != label))
        old_turns, new_turns = list(turns), list(turns)
        new_turns[target] = f"{after}: {rest}"
        edit, before = "speaker", label
    fmt = draw(st.sampled_from(("html", "text", "markdown")))
    render = _RENDER[fmt]
    location = {"html": "page.html", "text": "page.txt", "markdown": "page.md"}[fmt]
    old = ParseInput(render(old_turns).encode("utf-8"), location)
    new = ParseInput(render(new_turns).encode("utf-8"), location)
    return PageEdit(old, new, edit, before, after)


_RENDER: dict[str, Callable[[list[str]], str]] = {
    "html": lambda turns: "<html><body><main><h1>Press Briefing</h1>"
    + "".join(f"<p>{_esc(t)}</p>" for t in turns) + "</main></body></html>",
    "text": lambda turns: "Press Briefing\n\n" + "\n\n".join(turns) + "\n",
    "markdown": lambda turns: "---\ntitle: Press Briefing\n---\n\n" + "\n\n".join(turns) + "\n",
}

# --------------------------------------------------------------------------- small texts

any_text = st.one_of(st.text(), odd_text, paragraph_text, st.text(st.sampled_from(ODD_CHARS)))
