"""Ground-truth text of the wh-briefings Markdown pages, independent of ``parsers/``.

What a reader sees of a page, by a few regular expressions (not by briefwatch's Markdown
parser):

- the front matter is cut off (its ``title`` is kept apart: it is the page's headline);
- HTML comments, ``<script>`` / ``<style>`` are dropped; block tags (``<p>``, ``<li>``,
  ``<figure>``, ...) become a space, inline tags (``<span>``, ``<s>``, ...) vanish (their text
  stays); ``<https://...>`` autolinks keep their URL as text;
- a *breadcrumb* (a block of list items that are only links, ending in
  ``<span aria-current="page">``) is navigation and is dropped;
- Markdown markup is reduced to its text: list markers, ATX ``#`` heading marks, ``>``
  quote marks, horizontal rules, emphasis ``*`` / ``_``, link brackets and targets
  ``[text](url)`` -> ``text``, images ``![alt](src)`` -> nothing; a backslash escape
  (``\\*``, ``\\###``, ``\\[sic\\]``) is the literal character, so it is kept;
- HTML entities are decoded, then typography is folded with
  :func:`briefwatch.textnorm.match_key`.

The text is rendered line by line (:func:`source_lines`), after blanking HTML tags and
comments that span lines and breadcrumb blocks, so that every line of a published diff has
its own visible text; a page's body is the join of its lines, typography folded once more
(dash spacing across line joins).

Two texts are *equal* when their word sequences are equal (``diff -b`` semantics: line
breaks, re-wrapping, indentation and the amount of spacing do not count; a space inserted
between two words, ``Hyundaiannounced`` -> ``Hyundai announced``, does).
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field

import yaml

from briefwatch.textnorm import match_key

_FRONT_MATTER = re.compile(r"\A\ufeff?---[ \t]*\r?\n(.*?)\r?\n---[ \t]*(?:\r?\n|\Z)", re.S)
_COMMENT = re.compile(r"<!--.*?-->", re.S)
_SCRIPT = re.compile(r"<(script|style)\b.*?</\1\s*>", re.S | re.I)
_ESCAPE = re.compile(r"\\([!-/:-@\[-`{-~])")
_ESCAPED = re.compile("[\ue000-\ue0ff]")
_BLANK_LINES = re.compile(r"\n[ \t]*\n")
_LIST_MARK = re.compile(r"^[ \t]*(?:[-*+]|\d{1,9}[.)])[ \t]+", re.M)
_ATX = re.compile(r"^[ \t]{0,3}#{1,6}(?:[ \t]+|$)", re.M)
_QUOTE_MARK = re.compile(r"^[ \t]*>[ \t]?", re.M)
_RULE = re.compile(r"^[ \t]*(?:[-*_=][ \t]*){3,}$", re.M)
_IMAGE = re.compile(r"!\[[^\]]*\]\((?:[^()\s]|\([^()\s]*\))*(?:\s+\"[^\"]*\")?\)")
_LINK_TARGET = re.compile(r"\]\((?:[^()\s]|\([^()\s]*\))*(?:\s+\"[^\"]*\")?\)")
_AUTOLINK = re.compile(r"<((?:https?|mailto):[^>\s]+)>")
_BLOCK_TAG = re.compile(
    r"</?(?:p|div|br|li|ul|ol|dl|dt|dd|figure|figcaption|h[1-6]|table|tr|td|th|thead|tbody"
    r"|blockquote|hr|section|article|img|iframe)\b[^>]*>",
    re.I,
)
_INLINE_TAG = re.compile(r"</?[a-zA-Z][a-zA-Z0-9-]*\b[^>]*>")
_BRACKETS_STARS = re.compile(r"[\[\]*]")
_UNDERSCORES = re.compile(r"(?<!\w)_+|_+(?!\w)")
_SPAN = re.compile(r"<span\b[^>]*>.*?</span\s*>", re.S)
_BACKSLASH_BREAK = re.compile(r"\\$", re.M)  # a hard line break, not text
_BARE_LINK = re.compile(r"\[[^\]]*\]\((?:[^()\s]|\([^()\s]*\))*\)")


def split_front_matter(text: str) -> tuple[dict[str, object], str]:
    """(front matter as a dict, body). A page without front matter is all body."""
    match = _FRONT_MATTER.match(text)
    if match is None:
        return {}, text
    try:
        front = yaml.safe_load(match.group(1))
    except yaml.YAMLError:
        front = None
    return (front if isinstance(front, dict) else {}), text[match.end():]


_MULTILINE = re.compile(
    r"<!--.*?-->|<(script|style)\b.*?</\1\s*>|</?[a-zA-Z][a-zA-Z0-9-]*\b[^<>]*>", re.S | re.I
)


def mask_multiline_markup(body: str) -> str:
    """The body with every HTML tag / comment that spans lines blanked out, line count kept.

    A diff hunk can start or end inside such a tag (``<img`` on one line, its attributes on
    the next ones); blanking the whole construct keeps a fragment of it from passing for
    text.
    """

    def blank(match: re.Match[str]) -> str:
        text = match.group(0)
        return text if "\n" not in text else " " + "\n" * text.count("\n")

    return _MULTILINE.sub(blank, body)


def _hide_escape(match: re.Match[str]) -> str:
    return chr(0xE000 + ord(match.group(1)))


def _show_escape(match: re.Match[str]) -> str:
    return chr(ord(match.group(0)) - 0xE000)


def is_breadcrumb(block: str) -> bool:
    """A list of links ending in the current page's ``<span aria-current="page">``."""
    if 'aria-current="page"' not in block:
        return False
    rest = _BARE_LINK.sub("", _SPAN.sub("", block))
    return not _LIST_MARK.sub("", rest).strip()


def visible_text(markdown: str) -> str:
    """The reader-visible text of a Markdown body (or a fragment of one), typography folded."""
    text = _SCRIPT.sub(" ", _COMMENT.sub(" ", markdown))
    text = _ESCAPE.sub(_hide_escape, _BACKSLASH_BREAK.sub("", text))
    text = "\n\n".join(b for b in _BLANK_LINES.split(text) if not is_breadcrumb(b))
    text = _RULE.sub("", text)
    text = _LIST_MARK.sub("", _QUOTE_MARK.sub("", _ATX.sub("", text)))
    text = _LINK_TARGET.sub("]", _IMAGE.sub(" ", text))
    text = _AUTOLINK.sub(r"\1", text)
    text = _INLINE_TAG.sub("", _BLOCK_TAG.sub(" ", text))
    text = _UNDERSCORES.sub("", _BRACKETS_STARS.sub("", text))
    text = html.unescape(_ESCAPED.sub(_show_escape, text))
    return match_key(text)


def same_text(a: str, b: str) -> bool:
    """Equal word sequences (``diff -b``): only the amount of whitespace may differ."""
    return a.split() == b.split()


@dataclass(frozen=True, slots=True)
class PageText:
    """Ground-truth text of one version: headline (front matter title) and body."""

    title: str
    body: str


def mask_breadcrumbs(text: str) -> str:
    """The text with the lines of breadcrumb blocks blanked out (line count kept)."""
    out: list[str] = []
    block: list[str] = []

    def flush() -> None:
        if block and is_breadcrumb("\n".join(block)):
            out.extend("" for _ in block)
        else:
            out.extend(block)
        block.clear()

    for line in text.split("\n"):
        if line.strip():
            block.append(line)
        else:
            flush()
            out.append(line)
    flush()
    return "\n".join(out)


def source_lines(text: str) -> list[str]:
    """The reader-visible text of every line of a Markdown text, line count kept.

    Multi-line tags and comments and breadcrumb blocks are blanked first, so each line can
    be rendered on its own; a line's text is what :func:`visible_text` gives for it.
    """
    masked = mask_breadcrumbs(mask_multiline_markup(text))
    return [visible_text(line) if line.strip() else "" for line in masked.split("\n")]


def page_text(markdown: str) -> PageText:
    front, body = split_front_matter(markdown)
    title = front.get("title")
    return PageText(title=match_key(str(title)) if title else "",
                    body=match_key(" ".join(line for line in source_lines(body) if line)))


def text_changed(old: PageText, new: PageText) -> bool:
    return not (same_text(old.title, new.title) and same_text(old.body, new.body))


_HUNK_HEADER = re.compile(r"^@@ -(\d+)(?:,\d+)? \+(\d+)(?:,\d+)? @@")


@dataclass(slots=True)
class Hunk:
    """One hunk of a unified diff: its removed and added lines (context lines left out),
    with their 1-based line numbers in the old and the new file."""

    header: str
    removed: list[str] = field(default_factory=list)
    added: list[str] = field(default_factory=list)
    removed_at: list[int] = field(default_factory=list)
    added_at: list[int] = field(default_factory=list)
    removed_text: str = ""  # reader-visible text of the removed lines (see ``render``)
    added_text: str = ""

    def render(self, old_lines: list[str] | None = None,
               new_lines: list[str] | None = None) -> None:
        """Set the visible text of both sides. Given :func:`source_lines` of the two texts
        the diff was computed on, the lines are taken from there (so a hunk cut through a
        multi-line tag shows no attribute soup); otherwise from the diff's own lines."""
        self.removed_text = _side_text(self.removed, self.removed_at, old_lines)
        self.added_text = _side_text(self.added, self.added_at, new_lines)

    def mismatches(self, old_source: str, new_source: str) -> int:
        """Lines of the hunk that differ from the texts at their line numbers (0 when the
        diff really was computed on these texts)."""
        old, new = old_source.split("\n"), new_source.split("\n")
        bad = sum(not (0 < n <= len(old) and old[n - 1] == line)
                  for line, n in zip(self.removed, self.removed_at, strict=True))
        return bad + sum(not (0 < n <= len(new) and new[n - 1] == line)
                         for line, n in zip(self.added, self.added_at, strict=True))

    def changes_text(self) -> bool:
        """Does the hunk change visible text beyond whitespace and typography?"""
        return not same_text(self.removed_text, self.added_text)


def _side_text(raw: list[str], numbers: list[int], lines: list[str] | None) -> str:
    if lines is None:
        return visible_text("\n".join(raw))
    return match_key(" ".join(lines[n - 1] for n in numbers
                              if 0 < n <= len(lines) and lines[n - 1]))


def parse_unified_diff(diff: str) -> list[Hunk]:
    """The hunks of a unified diff (one file), with line numbers; not yet rendered."""
    hunks: list[Hunk] = []
    current: Hunk | None = None
    old_no = new_no = 0
    for line in diff.split("\n"):
        header = _HUNK_HEADER.match(line)
        if header is not None:
            current = Hunk(header=line)
            hunks.append(current)
            old_no, new_no = int(header.group(1)), int(header.group(2))
        elif current is None or line.startswith("\\"):  # "--- a" header, "\ No newline"
            continue
        elif line.startswith("-"):
            current.removed.append(line[1:])
            current.removed_at.append(old_no)
            old_no += 1
        elif line.startswith("+"):
            current.added.append(line[1:])
            current.added_at.append(new_no)
            new_no += 1
        elif line.startswith(" ") or line == "":
            old_no += 1
            new_no += 1
    return hunks
