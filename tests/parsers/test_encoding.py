"""decode_bytes: BOM, <meta charset>, declared charset, UTF-8, detection, binary rejection."""

from __future__ import annotations

import codecs

import pytest
from hypothesis import given
from hypothesis import strategies as st

import briefwatch.parsers.encoding as encoding_module
from briefwatch.errors import ParseError
from briefwatch.parsers.encoding import decode_bytes

WESTERN = "Café prices rose to £20 — “quite steep”, said the naïve critic. "
RUSSIAN = "Привет, мир! Как дела? Это проверка кодировки. Чем больше текста, тем лучше. "


def _page(body: str, head: str = "") -> str:
    return (
        f"<!DOCTYPE html><html><head>{head}<title>t</title></head>"
        f"<body><p>{body}</p></body></html>"
    )


@pytest.mark.parametrize(
    ("bom", "codec"),
    [
        (codecs.BOM_UTF8, "utf-8"),
        (codecs.BOM_UTF16_LE, "utf-16-le"),
        (codecs.BOM_UTF16_BE, "utf-16-be"),
        (codecs.BOM_UTF32_LE, "utf-32-le"),
        (codecs.BOM_UTF32_BE, "utf-32-be"),
    ],
)
def test_byte_order_mark_wins_and_is_removed(bom: bytes, codec: str) -> None:
    page = _page(WESTERN, '<meta charset="windows-1252">')
    assert decode_bytes(bom + page.encode(codec), is_html=True, declared="latin-1") == page


def test_meta_charset_decodes_legacy_page() -> None:
    page = _page(WESTERN, '<meta charset="windows-1252">')
    assert decode_bytes(page.encode("cp1252"), is_html=True) == page


def test_meta_http_equiv_content_type() -> None:
    head = '<meta http-equiv="Content-Type" content="text/html; charset=windows-1251">'
    page = _page(RUSSIAN, head)
    assert decode_bytes(page.encode("cp1251"), is_html=True) == page


def test_meta_label_is_read_like_a_browser() -> None:
    # iso-8859-1 means windows-1252: 0x93/0x94 are curly quotes, not C1 controls
    page = _page(WESTERN, '<meta charset="iso-8859-1">')
    assert decode_bytes(page.encode("cp1252"), is_html=True) == page


def test_meta_is_only_read_for_html() -> None:
    text = '<meta charset="windows-1251"> ' + RUSSIAN
    # not HTML: the meta is ignored and the UTF-8 bytes decode as UTF-8
    assert decode_bytes(text.encode("utf-8"), is_html=False) == text


def test_declared_charset_used_without_meta() -> None:
    page = _page(RUSSIAN)
    assert decode_bytes(page.encode("koi8-r"), declared="koi8-r", is_html=True) == page


def test_meta_comes_before_declared_charset() -> None:
    page = _page(RUSSIAN, '<meta charset="windows-1251">')
    assert decode_bytes(page.encode("cp1251"), declared="koi8-r", is_html=True) == page


def test_unknown_labels_are_ignored() -> None:
    page = _page(WESTERN, '<meta charset="x-no-such-charset">')
    assert decode_bytes(page.encode("utf-8"), declared="bogus", is_html=True) == page


def test_legacy_label_on_utf8_bytes_means_utf8() -> None:
    """The documented deviation: a mislabelled UTF-8 page is read as UTF-8."""
    page = _page(WESTERN, '<meta charset="iso-8859-1">')
    assert decode_bytes(page.encode("utf-8"), is_html=True) == page


def test_utf16_meta_on_ascii_compatible_bytes_means_utf8() -> None:
    page = _page(WESTERN, '<meta charset="utf-16">')
    assert decode_bytes(page.encode("utf-8"), is_html=True) == page


def test_plain_utf8_needs_no_detector(monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("the detector must not run on valid UTF-8")

    monkeypatch.setattr(encoding_module, "UnicodeDammit", fail)
    page = _page(WESTERN + RUSSIAN)
    assert decode_bytes(page.encode("utf-8"), is_html=True) == page
    assert decode_bytes(page.encode("utf-8")) == page


def test_detection_for_undeclared_western_text() -> None:
    page = _page(WESTERN * 3)
    assert decode_bytes(page.encode("cp1252"), is_html=True) == page


def test_detection_for_undeclared_cyrillic_text() -> None:
    page = _page(RUSSIAN * 5)
    assert decode_bytes(page.encode("cp1251"), is_html=True) == page


def test_empty_bytes_decode_to_empty_text() -> None:
    assert decode_bytes(b"") == ""


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj", "PDF"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "PNG"),
        (b"PK\x03\x04\x14\x00\x06\x00", "ZIP"),
        (b"\x1f\x8b\x08\x00\x00\x00\x00\x00", "gzip"),
        (b"<html>" + b"\x00\x01\x02\x03" * 200, "NUL"),
        (bytes(range(1, 9)) * 300, "control characters"),
    ],
)
def test_binary_data_is_rejected(data: bytes, reason: str) -> None:
    with pytest.raises(ParseError, match=reason):
        decode_bytes(data, is_html=True)


def test_a_stray_nul_is_not_binary() -> None:
    page = _page("One stray NUL\x00 in a long page. " + WESTERN * 20)
    assert decode_bytes(page.encode("utf-8"), is_html=True) == page


@given(st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc"))))
def test_any_utf8_text_round_trips(text: str) -> None:
    assert decode_bytes(text.encode("utf-8")) == text.removeprefix("\ufeff")
