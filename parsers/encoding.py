"""Bytes to text: byte-order mark, HTML ``<meta charset>``, declared charset, UTF-8, detection.

Order of evidence (first that decodes without error wins):

1. a byte-order mark (UTF-8, UTF-16 LE/BE, UTF-32 LE/BE);
2. for HTML, ``<meta charset=...>`` or ``<meta http-equiv="Content-Type" content="...;
   charset=...">`` in the first few KB;
3. ``declared`` (the HTTP ``Content-Type`` charset, when the caller has one);
4. strict UTF-8;
5. detection with ``bs4.dammit.UnicodeDammit`` (which uses charset_normalizer here), with
   its last resorts (UTF-8, windows-1252, then replacement characters).

Labels are read the way browsers read them (WHATWG): ``iso-8859-1``/``latin1``/``ascii``
mean windows-1252, and a ``<meta>`` that claims UTF-16 on a byte stream without a BOM means
UTF-8. One deliberate deviation from browsers: when a declared charset is a single-byte
legacy one but the bytes are valid UTF-8 *and* contain multi-byte sequences, the page is
UTF-8 (mislabelled pages are common; legacy text that happens to be valid UTF-8 is not).

The common path (UTF-8 page, ``<meta charset="utf-8">``) is one regex over the first 4 KB
and one ``bytes.decode``; no detector runs.

Binary input (PDF, images, archives, NUL-heavy data, text full of control characters)
raises :class:`briefwatch.errors.ParseError`.
"""

from __future__ import annotations

import codecs
import re

from bs4.dammit import UnicodeDammit

from briefwatch.errors import ParseError

__all__ = ["decode_bytes"]

_PRESCAN_BYTES = 4096
_BINARY_SAMPLE = 8192

_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),  # before UTF-16 LE: it starts with the same bytes
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)

_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"%PDF-", "PDF"),
    (b"PK\x03\x04", "ZIP archive / Office document"),
    (b"\x89PNG\r\n\x1a\n", "PNG image"),
    (b"GIF87a", "GIF image"),
    (b"GIF89a", "GIF image"),
    (b"\xff\xd8\xff", "JPEG image"),
    (b"\x1f\x8b", "gzip data"),
    (b"\x7fELF", "executable"),
    (b"RIFF", "RIFF media"),
    (b"\x00\x00\x01\x00", "icon"),
    (b"OggS", "Ogg media"),
    (b"ID3", "MP3 audio"),
)

_META_CHARSET = re.compile(
    rb"""<meta\b[^>]*?\bcharset\s*=\s*["']?\s*([a-zA-Z0-9_.:\-]+)""", re.IGNORECASE
)

# WHATWG Encoding Standard: labels browsers decode differently from Python's codec names.
_WHATWG_ALIASES = {
    "iso-8859-1": "windows-1252",
    "iso8859-1": "windows-1252",
    "latin1": "windows-1252",
    "latin-1": "windows-1252",
    "l1": "windows-1252",
    "ascii": "windows-1252",
    "us-ascii": "windows-1252",
    "iso-8859-9": "windows-1254",
    "latin5": "windows-1254",
    "iso-8859-11": "windows-874",
    "tis-620": "windows-874",
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "x-gbk": "gb18030",
    "ks_c_5601-1987": "euc-kr",
    "x-sjis": "shift_jis",
    "unicode-1-1-utf-8": "utf-8",
    "utf8": "utf-8",
}
# text codecs of Python that no page is written in; decoding with them raises UnicodeError,
# or (UTF-7, which browsers refuse to decode) yields lone surrogates
_NOT_PAGE_CODECS = {"idna", "punycode", "undefined", "unicode-escape", "raw-unicode-escape",
                    "utf-7"}
_SURROGATE = re.compile("[\ud800-\udfff]")
_UTF16_LABELS = {"utf-16", "utf-16le", "utf-16be", "utf-16-le", "utf-16-be", "ucs-2"}
_MULTIBYTE = {
    codecs.lookup(name).name
    for name in ("utf-8", "gb18030", "big5", "big5hkscs", "shift_jis", "cp932", "euc-jp", "euc-kr")
}

# C0 controls other than TAB LF VT FF CR, plus DEL: text pages hardly ever contain them.
_CONTROL_CHARS = re.compile("[\x00-\x08\x0e-\x1f\x7f]")
_MAX_NUL_RATIO = 0.01
_MAX_CONTROL_RATIO = 0.02


def decode_bytes(data: bytes, *, declared: str | None = None, is_html: bool = False) -> str:
    """Decode a page's bytes to text; see the module docstring for the order of evidence.

    Raises :class:`ParseError` for binary data or when no encoding can decode it.
    Empty input decodes to ``""`` (the format parsers reject empty documents).
    """
    if not data:
        return ""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return _checked(_decode_or_raise(data[len(bom):], encoding, "byte-order mark"))
    wide = _declared_wide(declared)
    if wide is not None:  # UTF-16/32 without a BOM, as the HTTP Content-Type says
        text = _try_declared(data, wide)
        if text is not None:
            return _checked(text)
    _reject_binary(data)

    candidates: list[str] = []
    if is_html:
        meta = _meta_charset(data)
        if meta is not None:
            candidates.append(meta)
    if declared:
        label = _normalise_label(declared, from_meta=False)
        if label is not None:
            candidates.append(label)
    for encoding in candidates:
        text = _try_declared(data, encoding)
        if text is not None:
            return _checked(text)
    try:
        return _checked(data.decode("utf-8"))
    except UnicodeDecodeError:
        pass
    if "utf-8" in candidates:
        # declared UTF-8 with some bytes that are not: a page pasted together from parts in
        # two encodings. The UTF-8 parts stay right; each stray byte is read as windows-1252
        # (as bs4's "detwingle" does), not the whole page re-guessed.
        return _checked(data.decode("utf-8", _STRAY_BYTES))
    return _checked(_detect(data, is_html=is_html))


def _declared_wide(declared: str | None) -> str | None:
    """A UTF-16/32 codec when the caller's declared charset (HTTP) names one."""
    label = _normalise_label(declared, from_meta=False) if declared else None
    return label if label is not None and label.startswith(("utf-16", "utf-32")) else None


def _stray_bytes_as_cp1252(exc: UnicodeError) -> tuple[str, int]:
    if not isinstance(exc, UnicodeDecodeError):
        raise exc
    stray = exc.object[exc.start:exc.end]
    return stray.decode("cp1252", "replace"), exc.end


_STRAY_BYTES = "briefwatch-stray-cp1252"
codecs.register_error(_STRAY_BYTES, _stray_bytes_as_cp1252)


def _reject_binary(data: bytes) -> None:
    for signature, kind in _SIGNATURES:
        if data.startswith(signature):
            raise ParseError(f"binary data ({kind}), not a text page")
    sample = data[:_BINARY_SAMPLE]
    nuls = sample.count(0)
    if nuls and nuls / len(sample) > _MAX_NUL_RATIO:
        raise ParseError(
            f"binary data: {nuls} NUL bytes in the first {len(sample)} bytes "
            "(and no UTF-16/32 byte-order mark)"
        )


def _checked(text: str) -> str:
    sample = text[:_BINARY_SAMPLE]
    if sample:
        controls = len(_CONTROL_CHARS.findall(sample))
        if controls / len(sample) > _MAX_CONTROL_RATIO:
            raise ParseError(
                f"binary data: {controls} control characters in the first {len(sample)} "
                "characters after decoding"
            )
    if not text.isascii() and _SURROGATE.search(text):
        # a lone surrogate (a detector's UTF-7 guess) cannot be encoded, hashed or stored
        text = _SURROGATE.sub("\ufffd", text)
    return text


def _meta_charset(data: bytes) -> str | None:
    m = _META_CHARSET.search(data, 0, _PRESCAN_BYTES)
    if m is None:
        return None
    return _normalise_label(m.group(1).decode("ascii", "replace"), from_meta=True)


def _normalise_label(label: str, *, from_meta: bool) -> str | None:
    """The Python codec for a charset label, read like a browser; ``None`` if unknown."""
    key = label.strip().strip("\"'").lower()
    if from_meta and key in _UTF16_LABELS:
        # A byte stream whose <meta> could be read as ASCII is not UTF-16 (WHATWG).
        return "utf-8"
    key = _WHATWG_ALIASES.get(key, key)
    try:
        info = codecs.lookup(key)
    except (LookupError, ValueError):  # unknown, or not a label at all ("utf-8\x00")
        return None
    if not getattr(info, "_is_text_encoding", True) or info.name in _NOT_PAGE_CODECS:
        return None  # base64, rot13, zlib, punycode, ...: no web page is encoded that way
    if from_meta and info.name.startswith(("utf-16", "utf-32")):
        return "utf-8"  # any spelling ("utf_16_be", "UTF-32")
    return info.name


def _is_multibyte(encoding: str) -> bool:
    name = codecs.lookup(encoding).name
    return name in _MULTIBYTE or name.startswith(("utf-", "iso2022"))


def _try_declared(data: bytes, encoding: str) -> str | None:
    """Decode with a declared encoding; ``None`` if it does not fit the bytes."""
    if not _is_multibyte(encoding) and not data.isascii():
        # A legacy single-byte label on valid, non-ASCII UTF-8: the label is wrong.
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            pass
    try:
        return data.decode(encoding)
    except (UnicodeError, LookupError):
        return None


def _decode_or_raise(data: bytes, encoding: str, evidence: str) -> str:
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        raise ParseError(f"bytes do not decode as {encoding} ({evidence}): {exc}") from exc


def _detect(data: bytes, *, is_html: bool) -> str:
    dammit = UnicodeDammit(data, is_html=is_html)
    text = dammit.unicode_markup
    if text is None:
        raise ParseError("cannot detect the character encoding of the data")
    detected = str(text)
    encoding = dammit.original_encoding
    if (
        isinstance(encoding, str)
        and not _is_multibyte(encoding)
        and codecs.lookup(encoding).name != "cp1252"
    ):
        western = _western_alternative(data, detected)
        if western is not None:
            return western
    return detected


def _western_alternative(data: bytes, detected: str) -> str | None:
    """windows-1252 instead of another single-byte guess, when it reads at least as well.

    Detectors are unreliable on mostly-ASCII text with a few accented letters or symbols
    (``£20`` read as ``Ł20`` in windows-1250). For Latin-script text (non-ASCII letters are
    a minority of the letters) windows-1252 wins unless the detector's reading is more
    plausible: more non-ASCII characters that sit where such characters belong.
    """
    try:
        western = data.decode("cp1252")
    except UnicodeDecodeError:
        return None
    letters = sum(1 for c in western if c.isalpha())
    non_ascii_letters = sum(1 for c in western if c.isalpha() and not c.isascii())
    if not letters or non_ascii_letters * 2 > letters:
        return None  # a non-Latin script: trust the detector
    if _plausibility(western) >= _plausibility(detected):
        return western
    return None


def _plausibility(text: str) -> int:
    """How many non-ASCII characters sit plausibly: letters next to letters, symbols not
    glued inside words."""
    score = 0
    last = len(text) - 1
    for i, c in enumerate(text):
        if c.isascii():
            continue
        before = text[i - 1].isalpha() if i > 0 else False
        after = text[i + 1].isalpha() if i < last else False
        if c.isalpha():
            score += before or after
        else:
            score += not (before and after)
    return score
