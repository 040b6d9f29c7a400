"""Text normalisation shared by parsers, the diff and the store.

Two levels:
- ``clean_text``: what is displayed and stored. Unicode spaces (NBSP, thin space, ...) become
  plain spaces, zero-width characters vanish, runs of whitespace collapse.
- ``match_key``: what is compared. On top of ``clean_text`` it folds typographic quotes,
  apostrophes, dashes and ellipses to ASCII and ignores spacing around dashes, so that a
  re-typeset page does not count as a change.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata

_SPACE_CHARS = (
    "\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a"
    "\u202f\u205f\u3000\t\r\n\f\v\u0085\u2028\u2029"
)
_ZERO_WIDTH = "\u200b\u200c\u200d\u2060\ufeff\u00ad"
_SPACE_TABLE = {ord(c): " " for c in _SPACE_CHARS} | {ord(c): None for c in _ZERO_WIDTH}
_MULTI_SPACE = re.compile(r" {2,}")

_FOLD_TABLE = {
    **{ord(c): "'" for c in "\u2018\u2019\u201a\u201b\u2032\u00b4\u0060"},
    **{ord(c): '"' for c in "\u201c\u201d\u201e\u201f\u2033\u00ab\u00bb"},
    **{ord(c): "-" for c in "\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63\uff0d"},
    ord("\u2026"): "...",
}
# a run of dashes and the spaces in and around it is one "-" (a bounded run left "- -" and
# "----" as "--", so match_key(match_key(x)) differed from match_key(x))
_DASH_SPACING = re.compile(r"\s*-(?:\s*-)*\s*")


def _clean_slow(text: str) -> str:
    text = unicodedata.normalize("NFC", text).translate(_SPACE_TABLE)
    return _MULTI_SPACE.sub(" ", text).strip()


def _has_zero_width(text: str) -> bool:
    # ``in`` tests are much faster than a regex character class on long non-ASCII strings
    return (
        "\u200b" in text or "\u200c" in text or "\u200d" in text or "\u2060" in text
        or "\ufeff" in text or "\u00ad" in text
    )


def clean_text(text: str) -> str:
    """Normalise Unicode spaces, drop zero-width characters, collapse whitespace, strip.

    ``str.split()`` splits on every character the slow path turns into a space, so after it
    only NFC normalisation and zero-width characters are left; most text is already NFC and
    has none (this is the parsing hot path).
    """
    if "\x1c" in text or "\x1d" in text or "\x1e" in text or "\x1f" in text:
        return _clean_slow(text)  # str.split() splits on these; the slow path keeps them
    collapsed = " ".join(text.split())
    if collapsed.isascii() or (
        not _has_zero_width(collapsed) and unicodedata.is_normalized("NFC", collapsed)
    ):
        return collapsed
    return _clean_slow(collapsed)


def match_key(text: str) -> str:
    """The comparison form of a statement: typography and spacing do not count."""
    folded = clean_text(text)
    if not folded.isascii():
        folded = folded.translate(_FOLD_TABLE)
    if "-" in folded:
        folded = _DASH_SPACING.sub("-", folded)
    return folded


def sha256_hex(data: bytes | str) -> str:
    """Hex SHA-256 of bytes or UTF-8 text."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    return hashlib.sha256(data).hexdigest()
