"""Property-based tests of the parsers and the diff (issue 7), short and deterministic.

The properties and input strategies live in ``reliability/fuzz_checks.py`` and
``reliability/fuzz_inputs.py``; ``python -m reliability.fuzz --inputs 100000`` runs them
long. Here each runs a few dozen derandomized examples (hypothesis profile ``ci``) plus the
minimal failing examples the long runs found, as explicit ``@example``s.
"""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings

from tests.support.paths import REPO

ROOT = REPO

from briefwatch.model import StatementKind  # noqa: E402
from briefwatch.parsers import ParseOptions, parse  # noqa: E402
from reliability import fuzz_checks as fc  # noqa: E402
from reliability import fuzz_inputs as fi  # noqa: E402

settings.register_profile(
    "ci",
    max_examples=25,
    derandomize=True,  # the same inputs on every run: CI stays deterministic
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    print_blob=True,
)
CI = settings.get_profile("ci")


def ci(examples: int = 25) -> Any:
    return settings(CI, max_examples=examples)


# --- minimal failing examples the long run found (each fixed in the product) ------------------

P = fi.ParseInput
CHROME_1X_TEXT = ("\n".join(fi.BANNER_1_LINES) + "\n\nAlpha reported that the port had resumed.\n")
FOUND = {
    # a charset label with a NUL: codecs.lookup raised ValueError
    "nul_in_declared_charset": P(b"<body></body>", "page.html",
                                 ParseOptions(declared_encoding="utf-8\x00")),
    # Python text codecs no page is written in: decoding raised UnicodeError
    "punycode_charset": P(b'<p>"x', "page.html", ParseOptions(declared_encoding="punycode")),
    "meta_undefined_charset": P(b"<meta charset=undefined><p>The text.</p>", "page.html"),
    # a control character in the tail of a dropped element: lxml refused to set the text
    "form_feed_in_tail": P(b"<html><head></head><body><p>The. The.</p>\n\x0c. The. "
                           b"<span hidden>the</span>\n<p>The. The.</p></body></html>", "p.html"),
    "char_ref_1_in_tail": P(b"<body><p>Words here.</p><noscript>x</noscript>&#1; more words."
                            b"</body>", "p.html"),
    "nonchar_fffe_in_tail": P(b"<body><p class='byline'>Troops.</p>\nTroops very \xef\xbf\xbe "
                              b"more words here.</body>", "page.html"),
    # UTF-7 (declared) decoded into lone surrogates: content_hash() raised UnicodeEncodeError
    "utf7_surrogates": P(b'Townsend explained: +IBzf/w"+2+zcgdpX3EMACwB/ALsgKw security attack '
                         b"support conference.+IB0.+IB0-\n\nThe port had resumed.\n", "page.txt",
                         ParseOptions(declared_encoding="utf-7")),
    # YAML reads "2024-13-45" as a date and raised ValueError
    "front_matter_bad_date": P(b"---\ndate: 2024-13-45\n---\n\nThe port had resumed.\n", "p.md"),
}


@pytest.mark.parametrize("name", sorted(FOUND))
def test_found_inputs_parse_under_the_contract(name: str) -> None:
    fc.check_parse(FOUND[name])  # a Document, or ParseError with a one-line reason


def test_meta_charset_utf16_in_any_spelling_is_read_as_utf8() -> None:
    """A <meta> that says UTF-16 (here "utf_16_be") on bytes readable as ASCII means UTF-8
    (WHATWG); the page was decoded as UTF-16 and lost all its text."""
    page = (b"<html><head><meta charset='utf_16_be'></head><body><p>Alpha reported that the "
            b"port had resumed.</p></body></html>")
    page += b" " * (len(page) % 2)  # an even length decodes as UTF-16 without an error
    doc = parse(page, location="page.html")
    assert [s.text for s in doc.statements] == ["Alpha reported that the port had resumed."]


@pytest.mark.parametrize("fmt", ["text", "markdown"])
def test_uswds_1_text_banner_is_dropped_from_text_and_markdown(fmt: str) -> None:
    text = CHROME_1X_TEXT if fmt == "text" else "---\ntitle: x\n---\n\n" + CHROME_1X_TEXT.replace(
        "\n", "\n\n")
    page = fi.ChromePage(P(text.encode(), f"page.{'txt' if fmt == 'text' else 'md'}",
                           ParseOptions(format="text" if fmt == "text" else "markdown")), 6)
    fc.check_chrome(page)


# --- the properties ---------------------------------------------------------------------------


@ci()
@given(fi.html_inputs)
@example(FOUND["form_feed_in_tail"])
@example(FOUND["nul_in_declared_charset"])
def test_parse_html(case: fi.ParseInput) -> None:
    fc.check_parse(case)


@ci(15)
@given(fi.text_inputs)
@example(FOUND["utf7_surrogates"])
def test_parse_text(case: fi.ParseInput) -> None:
    fc.check_parse(case)


@ci(15)
@given(fi.markdown_inputs)
@example(FOUND["front_matter_bad_date"])
def test_parse_markdown(case: fi.ParseInput) -> None:
    fc.check_parse(case)


@ci()
@given(fi.raw_bytes())
@example(FOUND["punycode_charset"])
def test_parse_raw_bytes(case: fi.ParseInput) -> None:
    fc.check_parse(case)


@ci(15)
@given(fi.real_fragment())
def test_parse_mutated_real_pages(case: fi.ParseInput) -> None:
    fc.check_parse(case)


# the text-form banner, one <div> per line, outscored a short article in <main>: the
# heuristic picked the banner, which was then dropped, and the page had no statements
BANNER_DIVS = ("<html><body><main><p>Alpha reported that the port had resumed. Troops very "
               "No. 5...</p></main>" + "".join(f"<div>{line}</div>" for line in fi.BANNER_LINES)
               + "</body></html>")


@ci()
@given(fi.chrome_html_page())
@example(fi.ChromePage(P(BANNER_DIVS.encode(), "page.html"), 12))
def test_chrome_in_html_is_never_a_statement(page: fi.ChromePage) -> None:
    fc.check_chrome(page)


@ci(15)
@given(fi.chrome_text_page())
def test_text_form_banner_is_never_a_statement(page: fi.ChromePage) -> None:
    fc.check_chrome(page)


@ci(40)
@given(fi.diff_case())
def test_diff_accounts_for_every_statement(case: fi.DiffCase) -> None:
    fc.check_diff(case)


@ci(30)
@given(fi.known_edit())
def test_diff_reports_a_known_edit_as_that_change(case: fi.KnownEdit) -> None:
    fc.check_known_edit(case)


@ci(15)
@given(fi.page_edit())
def test_page_edit_end_to_end(case: fi.PageEdit) -> None:
    fc.check_page_edit(case)


@ci(40)
@given(fi.any_text)
@example("-\x85-")  # match_key gave "--", and match_key("--") is "-"
def test_text_normalisation_is_idempotent(text: str) -> None:
    fc.check_textnorm(text)


@ci(40)
@given(fi.any_text)
@example("U.S. officials said. He left… “Yes.” No. 5 is\u2028here. \x1cx")
def test_sentence_splitting_loses_no_character(text: str) -> None:
    fc.check_sentences(text)


# --- the checks themselves can fail -------------------------------------------------------------


def test_the_chrome_check_sees_a_banner_statement() -> None:
    page = fi.ChromePage(P(b"<p>An official website of the United States government, he said "
                           b"in a long sentence about the port.</p>", "page.html"), 10)
    with pytest.raises(AssertionError, match="chrome"):
        fc.check_chrome(page)


def test_the_known_edit_check_sees_a_wrong_expectation() -> None:
    old = fi.renumber([("Port inspections resumed 163 times alpha.", None,
                        StatementKind.NARRATION)])
    new = fi.renumber([("Port inspections resumed 170 times alpha.", None,
                        StatementKind.NARRATION)])
    fc.check_known_edit(fi.KnownEdit(old, new, 0, "number", ("163", "170")))
    with pytest.raises(AssertionError):
        fc.check_known_edit(fi.KnownEdit(old, new, 0, "number", ("163", "171")))


def test_parse_and_diff_do_not_depend_on_the_hash_seed() -> None:
    digests = set()
    for hash_seed in ("1", "4242"):
        proc = subprocess.run(
            [sys.executable, "-m", "reliability.fuzz", "--digest", "20"], cwd=ROOT,
            env={**os.environ, "PYTHONHASHSEED": hash_seed}, capture_output=True, text=True,
            check=True, timeout=120,
        )
        digests.add(proc.stdout.strip())
    assert len(digests) == 1
