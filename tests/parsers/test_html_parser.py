"""extract_html: main content blocks, boilerplate removal, metadata, site profiles, goldens.

Golden files: ``tests/golden/html/<fixture>.json`` hold the expected blocks and metadata of
each real page in ``tests/fixtures/html/``. ``BRIEFWATCH_UPDATE_GOLDEN=1`` rewrites them
(read the diff before committing).
"""

from __future__ import annotations

import gzip
import html as html_lib
import json
import os
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from briefwatch.errors import ParseError
from briefwatch.model import Block, Extracted, PageKind
from briefwatch.parsers.html import extract_html
from briefwatch.parsers.html.css import compile_css, css_to_xpath
from briefwatch.parsers.html.profiles import PROFILES
from briefwatch.textnorm import clean_text
from tests.support.paths import FIXTURES, GOLDEN, SHARED

FIXTURES = FIXTURES / "html"
GOLDEN = GOLDEN / "html"
SHARED = SHARED / "corpora"
WH_CORPUS = SHARED / "whitehouse-2020-html"
UPDATE_GOLDEN = os.environ.get("BRIEFWATCH_UPDATE_GOLDEN") == "1"

# fixture file -> the URL the page is fetched from (None: the page's own canonical link)
GOLDEN_CASES: dict[str, str | None] = {
    "wh2020-briefing-2020-04-01-v2.html.gz": None,
    "wh2020-briefing-2020-04-20-v2.html.gz": None,
    "govuk-news-haulier-tests.html": "https://www.gov.uk/government/news/"
    "235000-haulier-tests-completed-as-lorry-drivers-urged-to-get-tested-away-from-border",
    "govuk-speech-uk-eu-ppa.html": "https://www.gov.uk/government/speeches/"
    "address-to-the-inaugural-uk-eu-parliamentary-partnership-assembly",
    "edgi-doi-mission-a.html.gz": None,
    "edgi-epa-federal-partners-a.html.gz": None,
    "uswds-banner-page.html": "https://www.example-agency.gov/news/2024/03/port-inspections-resume",
}


def read_fixture(name: str) -> str:
    path = FIXTURES / name
    data = gzip.decompress(path.read_bytes()) if name.endswith(".gz") else path.read_bytes()
    return data.decode("utf-8")


def as_json(extracted: Extracted) -> dict[str, Any]:
    meta = extracted.meta
    return {
        "format": extracted.format,
        "meta": {
            "title": meta.title,
            "canonical_url": meta.canonical_url,
            "published": meta.published,
            "byline": meta.byline,
            "kind_hint": meta.kind_hint.value if meta.kind_hint else None,
            "site": meta.site,
        },
        "blocks": [[b.kind, b.text] for b in extracted.blocks],
    }


def texts(extracted: Extracted) -> list[str]:
    return [b.text for b in extracted.blocks]


def page(body: str, head: str = "", url_meta: str = "") -> str:
    return (
        f"<!DOCTYPE html><html><head><meta charset='utf-8'>{head}{url_meta}"
        f"<title>Test page</title></head><body>{body}</body></html>"
    )


ARTICLE = (
    "<h1>Test page</h1>"
    "<p>The first paragraph of the article says something long enough to be prose, "
    "with commas, clauses, and a full stop.</p>"
    "<p>The second paragraph adds more detail, names a number such as 163, and quotes "
    "an official who said the work would continue.</p>"
    "<p>The third paragraph closes the story with a final remark about next steps, "
    "dates, and what readers should expect.</p>"
)
ARTICLE_PARAGRAPHS = 3


# --- golden files ----------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(GOLDEN_CASES))
def test_golden(name: str) -> None:
    result = as_json(extract_html(read_fixture(name), base_url=GOLDEN_CASES[name]))
    golden_path = GOLDEN / f"{name.removesuffix('.gz')}.json"
    if UPDATE_GOLDEN:
        GOLDEN.mkdir(parents=True, exist_ok=True)
        payload = {"fixture": name, "base_url": GOLDEN_CASES[name], **result}
        golden_path.write_text(json.dumps(payload, indent=1, ensure_ascii=False) + "\n", "utf-8")
    expected = json.loads(golden_path.read_text("utf-8"))
    assert expected["fixture"] == name
    assert result["meta"] == expected["meta"]
    assert result["blocks"] == expected["blocks"]


def test_every_golden_has_a_fixture() -> None:
    goldens = {p.name for p in GOLDEN.glob("*.json")}
    assert goldens == {f"{n.removesuffix('.gz')}.json" for n in GOLDEN_CASES}


# --- whitehouse.gov 2020 theme ----------------------------------------------------------------


def test_wh2020_transcript_turns_start_paragraphs() -> None:
    result = extract_html(read_fixture("wh2020-briefing-2020-04-01-v2.html.gz"))
    paragraphs = texts(result)
    assert paragraphs[:3] == [
        "James S. Brady Press Briefing Room",
        "5:35 P.M. EDT",
        paragraphs[2],
    ]
    assert paragraphs[2].startswith("THE PRESIDENT: Thank you very much everybody.")
    assert sum(p.startswith("Q ") for p in paragraphs) >= 20
    assert any(p.startswith("SECRETARY ESPER: ") for p in paragraphs)
    assert paragraphs[-2:] == ["END", "7:18 P.M. EDT"]
    assert all(b.kind == "paragraph" for b in result.blocks)
    meta = result.meta
    assert meta.site == "whitehouse.gov-2017"
    assert meta.kind_hint is PageKind.TRANSCRIPT
    assert meta.published == "2020-04-01"
    assert meta.title == (
        "Remarks by President Trump, Vice President Pence, and Members of the "
        "Coronavirus Task Force in Press Briefing"
    )
    assert meta.canonical_url == (
        "https://www.whitehouse.gov/briefings-statements/"
        "remarks-president-trump-vice-president-pence-members-coronavirus-task-force-"
        "press-briefing-16/"
    )


def test_wh2020_transcript_in_bare_div_with_br() -> None:
    paragraphs = texts(extract_html(read_fixture("wh2020-briefing-2020-04-20-v2.html.gz")))
    assert paragraphs[0] == "James S. Brady Press Briefing Room 5:39 P.M. EDT"
    assert paragraphs[1].startswith("THE PRESIDENT: Thank you very much everyone.")


def test_wh2020_chrome_only_pair_fixture_is_identical() -> None:
    v1 = extract_html(read_fixture("wh2020-briefing-2020-04-03-v1.html.gz"))
    v2 = extract_html(read_fixture("wh2020-briefing-2020-04-03-v2.html.gz"))
    raw_v1 = read_fixture("wh2020-briefing-2020-04-03-v1.html.gz")
    assert raw_v1 != read_fixture("wh2020-briefing-2020-04-03-v2.html.gz")
    assert v1.blocks == v2.blocks
    assert v1.meta == v2.meta
    assert len(v1.blocks) > 300


WH_CHROME = {
    "Share", "Share:", "All News", "Briefings & Statements", "Copy URL to your clipboard",
    "Share this page on Facebook", "Share this page on Twitter", "Skip to content",
    "Issued on:", "Type Your Search", "Press enter to search", "Privacy Policy",
    "Copyright Policy", "Get Involved", "White House Logo", "Remarks", "Press Briefings",
    "Healthcare", "Open Menu", "Open Search", "Close Menu", "Search WhiteHouse.gov",
    "The White House", "Coronavirus.gov", "Live", "Jobs", "Contact", "Twitter", "Facebook",
    "Instagram", "News", "Issues", "The Administration", "Executive Offices",
    "Presidential Actions", "About The White House", "National Security & Defense",
}


def _wh_corpus_files() -> list[Path]:
    return sorted(WH_CORPUS.glob("v*/*.html")) if WH_CORPUS.is_dir() else []


def _wh_chrome_only_pairs() -> list[tuple[str, str]]:
    labels = WH_CORPUS / "pairs_labels.json"
    if not labels.is_file():
        return []
    return [
        (item["v1"], item["v2"])
        for item in json.loads(labels.read_text("utf-8"))
        if item["label"] == "boilerplate_only_change"
    ]


@pytest.mark.skipif(not _wh_corpus_files(), reason="../shared whitehouse-2020-html not present")
def test_wh2020_corpus_has_no_chrome_in_blocks() -> None:
    files = _wh_corpus_files()
    assert len(files) == 58
    for path in files:
        result = extract_html(path.read_text("utf-8"))
        leaked = [t for t in texts(result) if t in WH_CHROME or "Share this page" in t]
        assert leaked == [], path.name
        assert result.meta.site == "whitehouse.gov-2017", path.name
        assert result.meta.kind_hint is PageKind.TRANSCRIPT, path.name
        assert any(t.startswith("THE PRESIDENT: ") for t in texts(result)), path.name


@pytest.mark.skipif(not _wh_chrome_only_pairs(), reason="../shared pairs_labels.json not present")
def test_wh2020_corpus_chrome_only_pairs_are_identical() -> None:
    pairs = _wh_chrome_only_pairs()
    assert len(pairs) == 23
    for v1, v2 in pairs:
        a = extract_html((WH_CORPUS / v1).read_text("utf-8"))
        b = extract_html((WH_CORPUS / v2).read_text("utf-8"))
        assert a.blocks == b.blocks, v1
        assert a.meta == b.meta, v1


# --- other real pages ---------------------------------------------------------------------------


def test_edgi_footer_change_does_not_reach_the_blocks() -> None:
    a = extract_html(read_fixture("edgi-doi-mission-a.html.gz"))
    b = extract_html(read_fixture("edgi-doi-mission-b.html.gz"))
    assert a.blocks == b.blocks
    assert a.blocks[0].text == "Protecting America's Great Outdoors and Powering Our Future"


def test_govuk_fragment_without_url_matches_by_signature() -> None:
    result = extract_html(read_fixture("govuk-news-haulier-tests.html"))
    assert result.meta.site == "gov.uk"
    assert result.meta.kind_hint is PageKind.ARTICLE  # "News story"
    assert result.meta.published == "2021-02-24"
    assert texts(result)[0].startswith("HGV drivers reminded to get tested")  # lead paragraph
    assert not any("media enquiries" in t.lower() for t in texts(result))
    assert not any(t.startswith("Share this page") for t in texts(result))


def test_govuk_speech_nested_list_and_headings() -> None:
    result = extract_html(read_fixture("govuk-speech-uk-eu-ppa.html"))
    assert result.meta.kind_hint is PageKind.TRANSCRIPT  # "Speech"
    assert result.meta.byline == "Cabinet Office and The Rt Hon Michael Ellis QC MP"
    blocks = result.blocks
    assert Block("heading", "Introduction") in blocks
    items = [
        "six waves of punitive sanctions against the Russian economy, cutting off funding "
        "for its war effort;",
        "military, humanitarian and economic assistance for Ukraine; and",
        "measures to reduce our reliance on Russian hydrocarbons.",
    ]
    start = [b.text for b in blocks].index(items[0])
    assert [b.text for b in blocks[start : start + 3]] == items


# --- spacing and block structure ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("<p>Hello <b>world</b>, and <a href='/x'>a link</a>.</p>", ["Hello world, and a link."]),
        ("<p>one<br>two</p>", ["one two"]),
        ("<p>one<br><br>two</p>", ["one", "two"]),
        ("<div>first<br/> <br/>second<br><br><br>third</div>", ["first", "second", "third"]),
        ("<p>\n  Words in\n  <em>\n   pretty\n  </em>\n  ,\n  printed <a>\n link\n </a>\n .\n</p>",
         ["Words in pretty, printed link."]),
        ("<p>(<a href='/x'>\n  bracketed\n </a>) and “<em> quoted </em>”</p>",
         ["(bracketed) and “quoted”"]),
        ("<p><a href='/t'>Trump</a>\n’s plan and <a>Biden</a>\n's plan</p>",
         ["Trump’s plan and Biden's plan"]),
        ("<p>keep <b>glued</b>words and <i>x</i> y</p>", ["keep gluedwords and x y"]),
        ("<table><tr><td>cell one</td><td>cell two</td></tr></table>", ["cell one", "cell two"]),
        ("<ul><li>item one<ul><li>nested item</li></ul></li><li>item two</li></ul>",
         ["item one", "nested item", "item two"]),
        ("<div>intro text <div>inner block</div> tail text</div>",
         ["intro text", "inner block", "tail text"]),
        ("<blockquote><p>quoted paragraph</p></blockquote><p>after</p>",
         ["quoted paragraph", "after"]),
        ("<p>A&nbsp;non-breaking&#8203;space\tand\ttabs</p>", ["A non-breakingspace and tabs"]),
        ("<p>Q\u00a0\u00a0\u00a0 Mr. President, a question?<br>THE PRESIDENT:  An answer.</p>",
         ["Q Mr. President, a question?", "THE PRESIDENT: An answer."]),
        ("<p>Address line one<br>Address line two</p>", ["Address line one Address line two"]),
        ("<span>inline root text</span><p>para</p>", ["inline root text", "para"]),
    ],
)
def test_spacing_and_paragraphs(body: str, expected: list[str]) -> None:
    result = extract_html(page(body))
    assert texts(result) == expected


def test_headings_become_heading_blocks() -> None:
    body = (
        "<h1>Page Title</h1><h2>Section <span>one</span></h2><p>Text one is here.</p>"
        "<h3>Sub <div>section</div></h3><p>Text two is here.</p><h6>Small</h6>"
    )
    result = extract_html(page(body, head="<meta property='og:title' content='Page Title'>"))
    assert result.blocks == (
        Block("heading", "Section one"),
        Block("paragraph", "Text one is here."),
        Block("heading", "Sub section"),
        Block("paragraph", "Text two is here."),
        Block("heading", "Small"),
    )


def test_h1_kept_when_it_is_not_the_title() -> None:
    body = "<h1>Another Heading</h1><p>Body text of the page goes here.</p>"
    result = extract_html(page(body, head="<meta property='og:title' content='Page Title'>"))
    assert result.blocks[0] == Block("heading", "Another Heading")


@given(st.text())
def test_fast_clean_is_clean_text(text: str) -> None:
    from briefwatch.textnorm import _clean_slow

    assert clean_text(text) == _clean_slow(text)


# --- boilerplate ------------------------------------------------------------------------------

CHROME_SNIPPETS: dict[str, str] = {
    "nav": "<nav><ul><li><a href='/'>CHROMEMARK Home</a></li></ul></nav>",
    "header": "<header><div>CHROMEMARK site header text with many words in it</div></header>",
    "footer": "<footer><p>CHROMEMARK Footer text, copyright, contact details.</p></footer>",
    "aside": "<aside><p>CHROMEMARK a sidebar with a long paragraph of unrelated words.</p></aside>",
    "role-navigation": "<div role='navigation'><a href='/a'>CHROMEMARK menu</a></div>",
    "share-tools": "<div class='share-buttons'><span>CHROMEMARK Share</span><a>Email</a></div>",
    "print-tool": "<div class='print-link'><a href='#'>CHROMEMARK Print this page</a></div>",
    "form": "<form action='/s'><label>CHROMEMARK Search the site</label><input></form>",
    "script": "<script>var CHROMEMARK = 1;</script>",
    "style": "<style>.CHROMEMARK { color: red }</style>",
    "noscript": "<noscript><p>CHROMEMARK enable JavaScript for the full experience.</p></noscript>",
    "iframe": "<iframe src='https://video.example/x'>CHROMEMARK</iframe>",
    "video": "<video src='x.mp4'><p>CHROMEMARK Your browser does not play video.</p></video>",
    "figcaption": "<figure><img src='x.jpg'><figcaption>CHROMEMARK caption</figcaption></figure>",
    "photo-credit": "<p>Photo By: CHROMEMARK Staff Sgt. A. Person</p>",
    "virin": "<p>VIRIN: 170509-A-RT205-005 CHROMEMARK</p>",
    "related-list": "<div><h2>Related Stories</h2><ul><li><a href='/1'>CHROMEMARK story one</a>"
    "</li><li><a href='/2'>Story two</a></li></ul></div>",
    "related-class": "<div class='related-articles'><p>CHROMEMARK Another story teaser with "
    "enough words to look like a paragraph.</p></div>",
    "newsletter": "<div class='newsletter-box'><p>CHROMEMARK Get our newsletter every week, "
    "straight to your inbox.</p></div>",
    "breadcrumbs": "<ol class='breadcrumb'><li><a href='/'>CHROMEMARK Home</a></li></ol>",
    "cookie-banner": "<div id='cookie-notice'><p>CHROMEMARK This site uses cookies to give you "
    "the best experience.</p></div>",
    "hidden-attr": "<p hidden>CHROMEMARK hidden paragraph with enough words in it.</p>",
    "aria-hidden": "<div aria-hidden='true'><p>CHROMEMARK an aria hidden paragraph.</p></div>",
    "display-none": "<p style='color: red; DISPLAY : none'>CHROMEMARK invisible paragraph.</p>",
    "visibility-hidden": "<p style='visibility:hidden'>CHROMEMARK invisible paragraph.</p>",
    "sr-only": "<span class='sr-only'>CHROMEMARK screen reader text</span>",
    "skip-link": "<a href='#main'>Skip to main content CHROMEMARK</a>",
    "usa-banner": "<section class='usa-banner' aria-label='Official website of the United "
    "States government'><p>CHROMEMARK An official website of the United States "
    "government</p></section>",
    "byline-paragraph": "<p class='byline'>By CHROMEMARK Reporter Name</p>",
}


@pytest.mark.parametrize("where", ["before", "inside", "after"])
@pytest.mark.parametrize("name", sorted(CHROME_SNIPPETS))
def test_chrome_is_not_content(name: str, where: str) -> None:
    snippet = CHROME_SNIPPETS[name]
    if where == "before":
        body = snippet + f"<article>{ARTICLE}</article>"
    elif where == "inside":
        body = f"<article>{ARTICLE}{snippet}</article>"
    else:
        body = f"<article>{ARTICLE}</article>" + snippet
    result = extract_html(page(body))
    assert not any("CHROMEMARK" in t for t in texts(result))
    assert len(result.blocks) == ARTICLE_PARAGRAPHS


def test_chrome_inside_a_paragraph_keeps_the_words_after_it() -> None:
    body = "<p>Before the icon <span hidden>CHROMEMARK</span> and the words after it.</p>"
    assert texts(extract_html(page(body))) == ["Before the icon and the words after it."]


def test_aspnet_form_wrapping_the_whole_page_is_kept() -> None:
    body = f"<form id='aspnetForm' method='post'><div class='main'>{ARTICLE}</div></form>"
    assert len(extract_html(page(body)).blocks) == ARTICLE_PARAGRAPHS


USWDS_TEXT_BANNER = [
    "An official website of the United States government",
    "Here’s how you know",
    "Official websites use .gov",
    "A .gov website belongs to an official government organization in the United States.",
    "Secure .gov websites use HTTPS",
    "A lock ( lock ) or https:// means you’ve safely connected to the .gov website. "
    "Share sensitive information only on official, secure websites.",
]
USWDS_1_TEXT_BANNER = [
    "An official website of the United States government Here's how you know",
    "The .gov means it’s official. Federal government websites often end in .gov or .mil. "
    "Before sharing sensitive information, make sure you’re on a federal government site.",
    "The site is secure. The https:// ensures that you are connecting to the official website "
    "and that any information you provide is encrypted and transmitted securely.",
]


@pytest.mark.parametrize("lines", [USWDS_TEXT_BANNER, USWDS_1_TEXT_BANNER])
def test_banner_in_text_form_is_dropped(lines: list[str]) -> None:
    banner = "".join(f"<div class='top-strip'><p>{line}</p></div>" for line in lines)
    body = f"<div class='wrap'>{banner}<div class='main'>{ARTICLE}</div></div>"
    result = extract_html(page(body))
    assert len(result.blocks) == ARTICLE_PARAGRAPHS
    assert not any("official" in t.lower() and ".gov" in t for t in texts(result))


def test_text_dump_chrome_as_paragraphs_is_dropped() -> None:
    """The defense.gov seed (a text dump) as one <p> per line, all in one container."""
    seed = next((FIXTURES.parent / "seeds").glob("000_*.txt"))  # tests/fixtures/seeds
    lines = [line for line in seed.read_text("utf-8").splitlines() if line.strip()]
    body = "".join(f"<p>{html_lib.escape(line)}</p>" for line in lines)
    paragraphs = texts(extract_html(page(f"<div class='content'>{body}</div>")))
    joined = "\n".join(paragraphs)
    for phrase in (
        "official website", "Here's how you know", "Official websites use .gov",
        "Secure .gov websites", "Share sensitive information", "Photo By:", "VIRIN:",
        "VIDEO |", "Related Stories",
    ):
        assert phrase not in joined, phrase
    assert "00:32" not in paragraphs and "Play" not in paragraphs
    assert "Raqqa Offensive Begins" in paragraphs
    # 6 banner lines, "Photo By", "VIRIN", 2 x (time, "Play", "VIDEO |"), "Related Stories"
    assert len(paragraphs) == len(lines) - 15


def test_uswds_banner_markup_page() -> None:
    result = extract_html(
        read_fixture("uswds-banner-page.html"), base_url=GOLDEN_CASES["uswds-banner-page.html"]
    )
    joined = "\n".join(texts(result))
    for phrase in (
        "official website", "Here’s how you know", ".gov", "Share sensitive information",
        "Skip to main content", "Photo By", "VIRIN", "Related Stories", "newsletter",
        "cookies", "Draft note", "Internal", "Privacy Policy", "Share:", "Print", "Newsroom",
        "By Jordan Rivera", "Inspectors walk along",
    ):
        assert phrase not in joined, phrase
    assert "163 containers" in joined
    assert result.meta.byline == "Jordan Rivera"
    assert result.meta.canonical_url == (
        "https://www.example-agency.gov/news/2024/03/port-inspections-resume"
    )


# --- metadata ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("head", "body_extra", "expected"),
    [
        ("<meta property='og:title' content='OG Title | Example News'>"
         "<meta property='og:site_name' content='Example News'>", "", "OG Title"),
        ("<meta property='og:title' content='Dept. News - Example.gov'>", "", "Dept. News"),
        ("<meta property='og:site_name' content='Agency'>", "<h1>Heading One</h1>", "Heading One"),
        ("", "", "Test page"),
    ],
)
def test_title_choice(head: str, body_extra: str, expected: str) -> None:
    result = extract_html(page(body_extra + ARTICLE.replace("<h1>Test page</h1>", ""), head=head))
    assert result.meta.title == expected


def test_logo_h1_is_not_the_title() -> None:
    html = (
        "<html><head><title>Partner Work | Climate | US EPA</title></head><body>"
        "<header><h1>US EPA</h1></header><main><h1>Partner Work</h1>"
        f"{ARTICLE.replace('<h1>Test page</h1>', '')}</main></body></html>"
    )
    assert extract_html(html).meta.title == "Partner Work"


@pytest.mark.parametrize(
    ("head", "base_url", "expected"),
    [
        ("<link rel='canonical' href='/a/b'>", "https://example.gov/x?y=1", "https://example.gov/a/b"),
        ("<link rel='canonical' href='https://example.gov/c'>", None, "https://example.gov/c"),
        ("<link rel='canonical' href='/rel'><meta property='og:url' content='https://ex.gov/og'>",
         None, "https://ex.gov/og"),
        ("<link rel='alternate canonical' href='https://example.gov/d'>", None,
         "https://example.gov/d"),
        ("", "https://example.gov/page", None),
    ],
)
def test_canonical_url(head: str, base_url: str | None, expected: str | None) -> None:
    assert extract_html(page(ARTICLE, head=head), base_url=base_url).meta.canonical_url == expected


@pytest.mark.parametrize(
    ("head", "body_prefix", "expected"),
    [
        ("<meta property='article:published_time' content='2020-04-01T18:35:00-04:00'>", "",
         "2020-04-01T18:35:00-04:00"),
        ("<script type='application/ld+json'>{\"@context\": \"https://schema.org\", \"@graph\": "
         "[{\"@type\": \"WebPage\"}, {\"@type\": \"NewsArticle\", \"datePublished\": "
         "\"2019-11-19T08:57:40+01:00\"}]}</script>", "", "2019-11-19T08:57:40+01:00"),
        ("", "<article><time datetime='2021-05-06'>May 6</time></article>", "2021-05-06"),
        ("<meta name='DC.date.issued' content='20170613'>", "", "2017-06-13"),
        ("<meta name='date' content='June 13, 2017'>", "", "2017-06-13"),
        ("<script type='application/ld+json'>{not json</script>", "", None),
        ("", "", None),
    ],
)
def test_published(head: str, body_prefix: str, expected: str | None) -> None:
    assert extract_html(page(body_prefix + ARTICLE, head=head)).meta.published == expected


@pytest.mark.parametrize(
    ("head", "body_prefix", "expected"),
    [
        ("<meta name='author' content='Jane Doe'>", "", "Jane Doe"),
        ("<meta name='author' content='https://facebook.com/someone'>", "", None),
        ("<script type='application/ld+json'>{\"author\": [{\"name\": \"A. One\"}, "
         "{\"name\": \"B. Two\"}]}</script>", "", "A. One, B. Two"),
        ("", "<p class='byline'>By   Sam Writer</p>", "Sam Writer"),
        ("", "<a rel='author' href='/p/x'>Pat Author</a>", "Pat Author"),
        ("<meta property='og:site_name' content='Agency'><meta name='author' content='Agency'>",
         "", None),
    ],
)
def test_byline(head: str, body_prefix: str, expected: str | None) -> None:
    assert extract_html(page(body_prefix + ARTICLE, head=head)).meta.byline == expected


# --- page kind --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://www.example.gov/briefing-room/press-briefings/2023/01/x/", PageKind.TRANSCRIPT),
        ("https://www.example.gov/news/remarks-by-the-secretary-at-a-dinner", PageKind.TRANSCRIPT),
        ("https://www.example.gov/News/Transcripts/Transcript/Article/123/x/", PageKind.TRANSCRIPT),
        ("https://www.example.gov/briefing-room/statements-releases/2023/x/", PageKind.RELEASE),
        ("https://www.example.gov/newsroom/press-releases/new-rules", PageKind.RELEASE),
        ("https://www.example.gov/news/2024/03/port-inspections", PageKind.ARTICLE),
        ("https://www.example.gov/about/mission", None),
    ],
)
def test_kind_from_url(url: str, expected: PageKind | None) -> None:
    assert extract_html(page(ARTICLE), base_url=url).meta.kind_hint is expected


def test_kind_from_speaker_turns() -> None:
    turns = (
        "<p>MS. PSAKI:  Good afternoon, everyone.</p><p>Q    Thanks, Jen. A question.</p>"
        "<p>MS. PSAKI:  Sure.</p><p>Q    A follow-up.</p><p>MR. SMITH:  Let me add.</p>"
    )
    result = extract_html(page(turns), base_url="https://example.gov/about/page")
    assert result.meta.kind_hint is PageKind.TRANSCRIPT


def test_labels_without_text_are_not_turns() -> None:
    claims = "".join(
        f"<p>CLAIM:</p><p>A claim number {i} with words.</p><p>RESPONSE:</p><p>An answer {i}.</p>"
        for i in range(4)
    )
    result = extract_html(page(claims), base_url="https://example.gov/about/page")
    assert result.meta.kind_hint is None


def test_og_type_article_is_an_article() -> None:
    result = extract_html(page(ARTICLE, head="<meta property='og:type' content='article'>"))
    assert result.meta.kind_hint is PageKind.ARTICLE


# --- site profiles ----------------------------------------------------------------------------


def test_every_profile_selector_compiles() -> None:
    for profile in PROFILES:
        selectors = [*profile.content, *profile.drop]
        selectors += [s for s in (profile.signature, profile.label, profile.published,
                                  profile.byline) if s]
        for selector in selectors:
            compile_css(selector)
        assert len(profile.drop_text_res) == len(profile.drop_text)


@pytest.mark.parametrize(
    ("css", "xpath"),
    [
        ("div", "descendant-or-self::div"),
        ("p.lead", "descendant-or-self::p[contains(@class, 'lead') and contains(concat(' ', "
         "normalize-space(@class), ' '), ' lead ')]"),
        ("#main > p", "descendant-or-self::*[@id='main']/p"),
        ("[rel=canonical]", "descendant-or-self::*[@rel='canonical']"),
        ("a[href^='#']", "descendant-or-self::a[starts-with(@href, '#')]"),
        ("a, b", "descendant-or-self::a | descendant-or-self::b"),
    ],
)
def test_css_to_xpath(css: str, xpath: str) -> None:
    assert css_to_xpath(css) == xpath


@pytest.mark.parametrize("bad", ["", "div:hover", "a,", "p ~ q", "> p"])
def test_css_to_xpath_rejects_unsupported_syntax(bad: str) -> None:
    with pytest.raises(ValueError):
        css_to_xpath(bad)


def test_whitehouse_current_profile() -> None:
    body = (
        "<header><nav><a href='/'>Home</a></nav></header><main id='content'><article>"
        "<h1 class='page-title'>Statement from the Press Secretary</h1>"
        "<div class='topper__meta'><time class='posted-on entry-date published' "
        "datetime='2023-05-04T10:00:00-04:00'>May 4, 2023</time></div>"
        "<section class='body-content'><div class='container'>"
        "<p>The President welcomes the agreement reached today.</p>"
        "<p>He thanks the negotiators for their work.</p></div></section>"
        "<div class='related'><p>More statements and releases you may like.</p></div>"
        "</article></main>"
    )
    url = "https://www.whitehouse.gov/briefing-room/statements-releases/2023/05/04/statement/"
    result = extract_html(page(body), base_url=url)
    assert result.meta.site == "whitehouse.gov"
    assert result.meta.kind_hint is PageKind.RELEASE
    assert result.meta.published == "2023-05-04T10:00:00-04:00"
    assert texts(result) == [
        "The President welcomes the agreement reached today.",
        "He thanks the negotiators for their work.",
    ]


def test_defense_gov_profile() -> None:
    body = (
        "<form method='post' id='Form'><div class='container'>"
        "<div class='alert'><p>You have accessed part of a historical collection on defense.gov. "
        "Some of the information contained within may be outdated.</p></div>"
        "<article><h1 class='maintitle'>Spokesman Briefs Reporters</h1>"
        "<div class='body'><p>Army Col. Ryan S. Dillon briefed reporters today.</p>"
        "<p>Photo By: Spc. William Gibson</p><p>VIRIN: 170509-A-RT205-005</p>"
        "<p>MR. DILLON: Thank you for joining us.</p>"
        "<p>Q: What is the latest figure?</p><p>MR. DILLON: It is 163.</p></div>"
        "</article></div></form>"
    )
    url = "https://www.defense.gov/News/Transcripts/Transcript/Article/1210543/briefing/"
    result = extract_html(page(body), base_url=url)
    assert result.meta.site == "defense.gov"
    assert result.meta.kind_hint is PageKind.TRANSCRIPT
    assert texts(result) == [
        "Army Col. Ryan S. Dillon briefed reporters today.",
        "MR. DILLON: Thank you for joining us.",
        "Q: What is the latest figure?",
        "MR. DILLON: It is 163.",
    ]


def test_profile_without_content_falls_back_to_the_heuristic() -> None:
    body = f"<div class='new-theme'><div class='story'>{ARTICLE}</div></div>"
    result = extract_html(page(body), base_url="https://www.defense.gov/News/News-Stories/x/")
    assert result.meta.site == "defense.gov"
    assert len(result.blocks) == ARTICLE_PARAGRAPHS


def test_unknown_site_has_no_profile() -> None:
    result = extract_html(page(ARTICLE), base_url="https://news.example.com/story")
    assert result.meta.site is None


# --- bad input ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty"),
        ("  \n\t ", "empty"),
        ('{"title": "not html", "body": "<p>x</p>"}', "JSON"),
        ("[1, 2, 3]", "JSON"),
        ("%PDF-1.4\n1 0 obj << /Type /Catalog >>", "PDF"),
        ("Just a plain text note without any markup at all.", "no HTML markup"),
        ("<html>" + "\x01\x02\x03\x04" * 100 + "</html>", "binary"),
        ("<html><head><script>var x = 1;</script></head><body></body></html>", "no main-content"),
        ("<html><body><nav><a href='/'>Home</a></nav></body></html>", "no main-content"),
        ("<frameset><frame src='a.html'></frameset>", "body"),
    ],
)
def test_unusable_input_raises_parse_error(text: str, message: str) -> None:
    with pytest.raises(ParseError, match=message):
        extract_html(text)


def test_malformed_html_still_extracts() -> None:
    html = "<html><body><div><p>Unclosed paragraph one<p>Paragraph <b>two <i>bold</b> end</div>"
    assert texts(extract_html(html)) == ["Unclosed paragraph one", "Paragraph two bold end"]


def test_xml_declaration_and_xhtml_namespace() -> None:
    html = (
        '<?xml version="1.0" encoding="ISO-8859-1"?>\n<!DOCTYPE html>'
        '<html xmlns="http://www.w3.org/1999/xhtml"><body><p>Café text here.</p></body></html>'
    )
    assert texts(extract_html(html)) == ["Café text here."]


def test_private_use_marker_characters_in_input_are_removed() -> None:
    html = page("<p>odd \ue000\ue001\ue002\ue003 characters</p>")
    assert texts(extract_html(html)) == ["odd characters"]


def test_deep_nesting_within_the_parser_limit() -> None:
    depth = 1500
    html = page("<div>" * depth + ARTICLE + "</div>" * depth)
    assert len(extract_html(html).blocks) == ARTICLE_PARAGRAPHS


def test_nesting_beyond_the_parser_limit_is_a_parse_error() -> None:
    depth = 5000
    html = page("<div>" * depth + ARTICLE + "</div>" * depth)
    with pytest.raises(ParseError, match="nested too deeply"):
        extract_html(html)
    # the parser is reused: the next page must not inherit the error
    assert len(extract_html(page(ARTICLE)).blocks) == ARTICLE_PARAGRAPHS


def test_deep_inline_nesting_does_not_recurse() -> None:
    depth = 1900
    html = page("<p>" + "<span>" * depth + "deep words" + "</span>" * depth + "</p>")
    assert texts(extract_html(html)) == ["deep words"]


_FUZZ_PIECES = [
    "<p>", "</p>", "<div>", "</div>", "<br>", "<a href='#x'>", "</a>", "<b>", "</b>", "<h2>",
    "</h2>", "<li>", "<ul>", "</ul>", "<table><tr><td>", "</td></tr></table>", "Words, text.",
    " ", "\n", "\x00", "\ue000", "<!--", "-->", "<script>", "</script>", "&nbsp;", "&#0;",
    "<?xml version='1.0'?>", "<html>", "<body>", "<title>T</title>", "<meta charset=x>",
    "<link rel=canonical href='http://[::1'>", "THE PRESIDENT:  Hi.", "Q    What?", "\ud800",
    "<svg><p>x</p></svg>", "<frameset>", "<time datetime='2020-13-45'>",
    "<script type='application/ld+json'>{\"datePublished\": 5, \"author\": {}}</script>",
]


@given(
    st.lists(st.sampled_from(_FUZZ_PIECES), max_size=30).map("".join),
    st.sampled_from([None, "http://[bad", "https://www.whitehouse.gov/briefing-room/x/"]),
)
def test_any_input_gives_blocks_or_parse_error(text: str, base_url: str | None) -> None:
    try:
        result = extract_html(text, base_url=base_url)
    except ParseError:
        return
    assert result.blocks
    assert all(b.text and b.text == clean_text(b.text) for b in result.blocks)
