"""HTML page -> main-content blocks + page metadata (:class:`briefwatch.model.Extracted`).

Pipeline (lxml throughout; parsing is the hot path):

1. Reject input that is not HTML (empty, JSON, PDF, binary, no markup) with ParseError.
2. Parse with lxml's HTML parser (``etree.HTMLParser``; comments and processing
   instructions dropped).
3. Read metadata before anything is removed (:mod:`briefwatch.parsers.html.meta`): og/meta tags,
   ``<link rel=canonical>``, JSON-LD, ``<time>``.
4. Pick the main content:
   - a site profile (:mod:`briefwatch.parsers.html.profiles`) that matches the host or DOM signature
   gives
     the content subtrees and extra chrome selectors;
   - otherwise the readability-style heuristic (:mod:`briefwatch.parsers.html.heuristic`) on the
     page with chrome removed (:mod:`briefwatch.parsers.html.clean`).
5. Walk the content into heading/paragraph blocks with browser-like spacing
   (:mod:`briefwatch.parsers.html.blocks`) and drop text-form chrome: the USWDS banner sentences,
   skip links, photo credits, video player chrome, "Related Stories" link lists, and
   (heuristic pages) link lists and one-word share/print tools.
6. Guess the page kind: several transcript speaker turns (``THE PRESIDENT:``, ``Q``) make a
   transcript; else the profile's rules (category label, title, URL); else the URL path;
   else ``og:type=article``.

Title choice: og:title, else the first ``<h1>``, else ``<title>``; a trailing
``" | Site"`` is removed (and an ``<h1>`` that is only the site's logo is skipped). A
heading block within the first three blocks that repeats that title is not kept: the title
is metadata, not body. Other headings (including an ``<h1>`` that differs from the title)
stay as heading blocks.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterable, Sequence
from itertools import islice
from typing import Any
from urllib.parse import urlsplit

from lxml import etree

from briefwatch.errors import ParseError
from briefwatch.model import Block, Extracted, PageKind, PageMeta
from briefwatch.parsers.html.blocks import (
    SPEAKER_LABEL,
    RawBlock,
    extract_blocks,
    strip_private_marks,
)
from briefwatch.parsers.html.clean import CleanOptions, clean_tree, remove_selectors
from briefwatch.parsers.html.css import select
from briefwatch.parsers.html.heuristic import find_main_content
from briefwatch.parsers.html.meta import (
    HeadMeta,
    clean_byline,
    find_byline,
    find_published,
    find_text_date,
    normalise_date,
    read_body_meta,
    read_head_meta,
)
from briefwatch.parsers.html.profiles import SiteProfile, match_profile
from briefwatch.parsers.html.tree import text_of
from briefwatch.textnorm import clean_text, match_key

__all__ = ["extract_html"]

_local = threading.local()
_MARKUP = re.compile(r"<(?:[a-zA-Z][a-zA-Z0-9-]*|!--|!doctype|/[a-zA-Z])", re.I)
_CONTROL_BYTES = bytes([*range(0, 9), 11, *range(14, 32), 127])
_PRIVATE_USE_PREFIX = "\ue000".encode()[:2]  # U+E000..U+E0FF in UTF-8
_MAX_CONTROL_RATIO = 0.02
# pages with more elements are refused: the largest of ~1,300 real pages in the reference
# corpora has 1,709
MAX_ELEMENTS = 100_000
_MAX_TAGS = 4 * MAX_ELEMENTS
_DEPTH = re.compile(r"depth in document: (\d+)")
_MIN_TEXT_CHARS = 200  # below this the heuristic retries with gentler cleaning
_TITLE_LOOKAHEAD = 3
_MIN_TURNS = 3
_MAX_CHROME_TEXT = 300  # longer blocks are never text-form chrome
_TURN = re.compile(f"(?:{SPEAKER_LABEL.pattern})\\s*\\S")

_CHROME_TEXT = re.compile(
    r"^(?:an official website of the united states government\b.{0,40}$"
    r"|here[’']s how you know\.?$"
    r"|official websites use \.gov\b"
    r"|(?:a |the )?\.gov (?:website belongs|means it[’']s official)"
    r"|secure \.gov websites use https\b"
    r"|(?:a )?lock \(.{0,40}\) or https:// means you[’']ve safely connected"
    r"|share sensitive information only on official, secure websites\.?$"
    r"|federal government websites (?:often|always) end in \.gov or \.mil"
    r"|the site is secure\.? the https://"
    r"|skip to (?:main )?(?:content|navigation)$|skip navigation$|back to top$"
    r"|(?:photo|image|video|photograph) (?:by|credit|courtesy)\s*:"
    r"|virin:"
    r"|\d{1,2}:\d{2}(?::\d{2})?$|play$|pause$"
    r"|video \| \d{1,2}:\d{2}"
    r")",
    re.I,
)
_SHARE_TEXT = re.compile(
    r"^(?:share(?: this)?(?: page| story| article| on \w+)?:?|print(?: this page)?|email"
    r"|e-mail|facebook|twitter|x|linkedin|whatsapp|reddit|pinterest|copy link"
    r"|copy url(?: to your clipboard)?|tweet|subscribe|sign up|advertisement|ad"
    r"|sponsored|all news)$",
    re.I,
)
_RELATED = re.compile(
    r"^(?:related(?: \w+){0,2}|more (?:stories|news|from \w+(?: \w+)?)|read more|see also"
    r"|you may also like|recommended(?: for you)?|most (?:read|popular)|further reading)\s*:?$",
    re.I,
)

_SLUG_KINDS: tuple[tuple[re.Pattern[str], PageKind], ...] = (
    (
        re.compile(
            r"^(?:remarks|press-briefing|press-gaggle|background-press-call|on-the-record"
            r"|press-conference|media-availability|transcript|interview|roundtable)"
            r"|transcript"
        ),
        PageKind.TRANSCRIPT,
    ),
    (
        re.compile(r"^(?:statement|readout|fact-sheet|press-release|joint-statement)"),
        PageKind.RELEASE,
    ),
)
_DIR_KINDS: tuple[tuple[re.Pattern[str], PageKind], ...] = (
    (
        re.compile(r"/(?:press-briefings?|speeches-remarks|remarks|transcripts?|speeches)(?:/|$)"),
        PageKind.TRANSCRIPT,
    ),
    (
        re.compile(
            r"/(?:statements-releases|releases?|press-releases?|news-releases?|statements?"
            r"|fact-sheets|advisories|readouts)(?:/|$)"
        ),
        PageKind.RELEASE,
    ),
    (
        re.compile(r"/(?:news|articles?|stories|news-stories|feature-stories|blog)(?:/|$)"),
        PageKind.ARTICLE,
    ),
)


def extract_html(text: str, *, base_url: str | None = None) -> Extracted:
    """Main content (heading/paragraph blocks) and metadata of an HTML page.

    Raises :class:`ParseError` when the text is not usable HTML or has no main-content text.
    """
    data = _check_input(text)
    doc = _parse(data)
    body = doc.find("body")
    if body is None:
        raise ParseError("HTML has no <body> (a frameset or a bare head)")
    head = read_head_meta(doc, base_url=base_url)
    profile = match_profile(doc, _host(head.url) or _host(base_url))
    # Metadata first: content extraction removes chrome (bylines, dates) from the tree.
    label, published, byline = _page_facts(doc, head, profile)

    raw = _profile_blocks(doc, profile) if profile is not None else None
    if raw is None:
        raw = _heuristic_blocks(body, data)
        if not _final_blocks(raw, head):
            # the heuristic's pick was all text-form chrome (a banner's lines, each its own
            # <div>, outscoring a short article): take the whole page, chrome removed
            raw = _whole_page_blocks(data)
    blocks = _final_blocks(raw, head)
    if not blocks:
        raise ParseError("no main-content text found in the HTML")

    meta = PageMeta(
        title=head.title,
        canonical_url=head.url,
        published=published,
        byline=byline,
        kind_hint=_kind(blocks, profile, label=label, head=head, path=_path(head.url or base_url)),
        site=profile.name if profile is not None else None,
    )
    return Extracted(blocks=tuple(blocks), meta=meta, format="html")


def _page_facts(
    doc: Any, head: HeadMeta, profile: SiteProfile | None
) -> tuple[str | None, str | None, str | None]:
    """(category label, publication date, byline): the profile's selectors, then generic."""
    label = published = byline = None
    if profile is not None:
        label = _first_text(doc, profile.label)
        published = _profile_date(doc, profile.published)
        byline = clean_byline(_first_text(doc, profile.byline))
    search_byline = byline is None and (profile is None or profile.byline_search)
    if published is None or search_byline:
        body_meta = read_body_meta(doc)
        published = published or find_published(doc, head, body_meta)
        if search_byline:
            byline = find_byline(head, body_meta)
    return label, published, byline


# --- input checks and parsing -----------------------------------------------------------


def _check_input(text: str) -> bytes:
    """The page as UTF-8 bytes ready for lxml; ParseError when it is not HTML at all."""
    stripped = text.lstrip("\ufeff \t\r\n\f")
    if not stripped:
        raise ParseError("empty document: no text")
    if stripped.startswith("%PDF-"):
        raise ParseError("a PDF document, not HTML")
    if stripped[0] in "{[":
        try:
            json.loads(stripped)
        except (ValueError, RecursionError):
            pass
        else:
            raise ParseError("JSON data, not HTML")
    if _MARKUP.search(stripped) is None:
        raise ParseError("no HTML markup found (plain text?)")
    data = stripped.encode("utf-8", "replace")
    sample = data[:8192]
    controls = len(sample) - len(sample.translate(None, _CONTROL_BYTES))
    if controls / len(sample) > _MAX_CONTROL_RATIO:
        raise ParseError(f"binary data: {controls} control characters in the first {len(sample)}")
    data = data.translate(None, _CONTROL_BYTES)  # libxml2 rejects them; browsers ignore them
    if _PRIVATE_USE_PREFIX in data:  # the walker's marker code points must not be in the input
        data = strip_private_marks(data.decode("utf-8")).encode("utf-8")
    return data


def _parser() -> Any:
    """One parser per thread (lxml parsers must not be shared between threads)."""
    parser = getattr(_local, "parser", None)
    if parser is None:
        parser = etree.HTMLParser(
            encoding="utf-8",
            remove_comments=True,
            remove_pis=True,
            no_network=True,
            huge_tree=True,  # nesting up to 2048 levels instead of 256 (broken pages nest deep)
        )
        _local.parser = parser
    return parser


def _parse(data: bytes) -> Any:
    # counted before parsing too (C-speed byte counts; '<' in scripts counts, hence the
    # margin): a 20 MB page of millions of tags would cost a gigabyte of tree to refuse
    tags = data.count(b"<") - data.count(b"</") - data.count(b"<!")
    if tags > _MAX_TAGS:
        raise ParseError(f"too many HTML elements: over {_MAX_TAGS:,} tags (the limit is "
                         f"{MAX_ELEMENTS:,} elements; real pages have a few thousand)")
    parser = _parser()
    try:
        doc = etree.fromstring(data, parser=parser)
    except (etree.LxmlError, ValueError) as exc:
        raise ParseError(f"unparseable HTML: {exc}") from exc
    except RecursionError as exc:  # pragma: no cover - lxml parses iteratively in C
        raise ParseError("HTML nested too deeply to parse") from exc
    if doc is None:
        raise ParseError("unparseable HTML: no document element")
    for error in parser.error_log:
        if error.type_name == "ERR_RESOURCE_LIMIT":
            # libxml2 stops at its depth limit and drops the rest of the page.
            depth = _DEPTH.search(error.message or "")
            limit = f"over {int(depth.group(1)):,} levels" if depth else error.message
            raise ParseError(f"HTML nested too deeply to parse completely ({limit}; the "
                             "rest of the page would be lost)")
    if sum(1 for _ in islice(doc.iter(), MAX_ELEMENTS + 1)) > MAX_ELEMENTS:
        # every later step walks the tree in Python: a hostile page of millions of
        # elements would cost minutes and gigabytes before any other limit is met
        raise ParseError(f"too many HTML elements: over {MAX_ELEMENTS:,} (the limit; real "
                         "pages have a few thousand)")
    return doc


def _host(url: str | None) -> str | None:
    if not url:
        return None
    try:
        host = urlsplit(url).hostname
    except ValueError:  # a malformed URL (bad IPv6 literal, port)
        return None
    return host.lower() if host else None


def _path(url: str | None) -> str:
    if not url:
        return ""
    try:
        return urlsplit(url).path.lower()
    except ValueError:
        return ""


# --- content ------------------------------------------------------------------------------


def _outermost(nodes: Sequence[Any]) -> list[Any]:
    chosen = set(nodes)
    result = []
    for node in nodes:
        parent = node.getparent()
        nested = False
        while parent is not None:
            if parent in chosen:
                nested = True
                break
            parent = parent.getparent()
        if not nested:
            result.append(node)
    return result


def _text_len(blocks: Iterable[RawBlock]) -> int:
    return sum(len(b.text) for b in blocks if b.kind == "paragraph")


def _profile_blocks(doc: Any, profile: SiteProfile) -> list[RawBlock] | None:
    """Blocks from the profile's content selectors; ``None`` when they find no text."""
    for group in profile.content:
        roots = _outermost(select(doc, group))
        if not roots:
            continue
        for root in roots:
            remove_selectors(root, profile.drop)
            clean_tree(root)
        raw = extract_blocks(roots)
        if profile.drop_text:
            raw = [b for b in raw if not _site_chrome(b, profile)]
        if _text_len(raw) > 0:
            return raw
    return None


def _site_chrome(block: RawBlock, profile: SiteProfile) -> bool:
    return any(p.search(block.text) for p in profile.drop_text_res)


def _heuristic_blocks(body: Any, data: bytes) -> list[RawBlock]:
    raw = _link_filtered(extract_blocks(find_main_content(body)))
    if _text_len(raw) >= _MIN_TEXT_CHARS:
        return raw
    # Too little text: the class/id chrome rules may have eaten the content. Retry on a
    # fresh tree without them and keep whichever finds more.
    fresh = _parse(data).find("body")
    if fresh is None:  # pragma: no cover - the first parse had a body
        return raw
    retry = _link_filtered(
        extract_blocks(find_main_content(fresh, clean=CleanOptions(class_hints=False)))
    )
    return retry if _text_len(retry) > _text_len(raw) else raw


def _whole_page_blocks(data: bytes) -> list[RawBlock]:
    body = _parse(data).find("body")
    if body is None:  # pragma: no cover - the first parse had a body
        return []
    clean_tree(body)
    return _link_filtered(extract_blocks([body]))


def _link_filtered(blocks: list[RawBlock]) -> list[RawBlock]:
    """Heuristic pages: link lists and lone share/print words are chrome."""
    kept = []
    for b in blocks:
        if b.link_density > 0.5 and (b.kind == "paragraph" or b.link_density > 0.9):
            continue
        if len(b.text) <= 40 and _SHARE_TEXT.match(b.text):
            continue
        kept.append(b)
    return kept


def _final_blocks(raw: list[RawBlock], head: HeadMeta) -> list[Block]:
    """Text-form chrome out, "Related ..." trailers out, title heading out."""
    blocks: list[Block] = []
    in_related = False
    titles = {match_key(head.title).casefold()} if head.title else set()
    for b in raw:
        short = len(b.text) <= _MAX_CHROME_TEXT
        if in_related:
            if b.link_density >= 0.5 or (b.kind == "heading" and _RELATED.match(b.text)):
                continue
            in_related = False
        if short and len(b.text) <= 60 and _RELATED.match(b.text):
            in_related = True
            continue
        if short and _CHROME_TEXT.match(b.text):
            continue
        if (
            b.kind == "heading"
            and len(blocks) < _TITLE_LOOKAHEAD
            and match_key(b.text).casefold() in titles
        ):
            continue
        blocks.append(Block(b.kind, b.text, quoted=_in_blockquote(b.owner)))
    return blocks


def _in_blockquote(owner: Any) -> bool:
    """True when a block's element is, or sits inside, a <blockquote>."""
    if owner is None or not hasattr(owner, "iterancestors"):
        return False
    return owner.tag == "blockquote" or next(owner.iterancestors("blockquote"), None) is not None


# --- metadata helpers ----------------------------------------------------------------------


def _first_text(doc: Any, selector: str | None) -> str | None:
    if not selector:
        return None
    for el in select(doc, selector):
        text = clean_text(text_of(el))
        if text:
            return text
    return None


def _profile_date(doc: Any, selector: str | None) -> str | None:
    if not selector:
        return None
    for el in select(doc, selector):
        value = el.get("datetime")
        date = normalise_date(value) if value else None
        if date is None:
            date = find_text_date(clean_text(text_of(el)))
        if date:
            return date
    return None


def _speaker_turns(blocks: Sequence[Block]) -> int:
    """Paragraphs that start with a speaker label and go on to say something."""
    return sum(1 for b in blocks if b.kind == "paragraph" and _TURN.match(b.text))


def _url_kind(path: str) -> PageKind | None:
    if not path:
        return None
    slug = path.rstrip("/").rsplit("/", 1)[-1]
    for pattern, kind in _SLUG_KINDS:
        if pattern.search(slug):
            return kind
    for pattern, kind in _DIR_KINDS:
        if pattern.search(path):
            return kind
    return None


def _kind(
    blocks: Sequence[Block],
    profile: SiteProfile | None,
    *,
    label: str | None,
    head: HeadMeta,
    path: str,
) -> PageKind | None:
    if profile is not None and label:
        kind = profile.kind_for(label=label, title=None, path=None, default=False)
        if kind is not None:
            return kind  # the site's own category label is the best evidence
    if _speaker_turns(blocks) >= _MIN_TURNS:
        return PageKind.TRANSCRIPT
    if profile is not None:
        kind = profile.kind_for(label=None, title=head.title, path=path)
        if kind is not None:
            return kind
    kind = _url_kind(path)
    if kind is not None:
        return kind
    if head.og_type and head.og_type.lower() == "article":
        return PageKind.ARTICLE
    return None
