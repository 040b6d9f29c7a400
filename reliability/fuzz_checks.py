"""The properties the fuzzer checks, as plain functions that raise AssertionError.

Shared by the CI tests (``tests/system/test_fuzz.py``, a few hundred derandomized examples) and the
long run (``python -m reliability.fuzz``, 100,000+ inputs). :data:`PROPERTIES` names each
property with its input strategy and its share of a long run.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st

from briefwatch.diff import diff_documents, diff_statements, word_diff
from briefwatch.errors import ParseError
from briefwatch.model import Change, ChangeType, Document, NumberChange, Statement
from briefwatch.parsers import parse
from briefwatch.parsers.sentences import split_sentences
from briefwatch.textnorm import _clean_slow, clean_text, match_key, sha256_hex
from reliability import fuzz_inputs as fi

_HEX64 = re.compile(r"^[0-9a-f]{64}$")


# --------------------------------------------------------------------------- parsing


def parse_or_none(case: fi.ParseInput) -> Document | None:
    """``parse`` under its contract: a Document, or ParseError with a one-line reason
    (``None`` here). Any other exception propagates: that is a failure."""
    try:
        return parse(case.data, location=case.location, options=case.options)
    except ParseError as exc:
        reason = str(exc)
        assert reason.strip(), "ParseError without a reason"
        assert "\n" not in reason and "\r" not in reason, f"multi-line reason: {reason!r}"
        return None


def check_statement(s: Statement, index: int) -> None:
    assert s.position == index, f"position {s.position} at index {index}"
    assert s.text and s.text == s.text.strip(), f"text not stripped: {s.text!r}"
    assert clean_text(s.text) == s.text, f"text not normalised: {s.text!r}"
    assert s.key == match_key(s.text)
    sid = sha256_hex("\x1f".join((s.key, s.speaker or "", s.kind.value)))[:32]
    assert s.sid == sid, "sid does not match the statement's content"
    assert s.speaker is None or (s.speaker.strip() and s.speaker == s.speaker.strip()), (
        f"speaker {s.speaker!r}"
    )
    assert s.paragraph >= 0
    assert s.section is None or s.section.strip(), f"section {s.section!r}"


def check_document(doc: Document) -> None:
    """A well-formed Document: statements non-empty, in order, consistent ids."""
    assert doc.statements, "a parsed document has statements"
    for index, statement in enumerate(doc.statements):
        check_statement(statement, index)
    paragraphs = [s.paragraph for s in doc.statements]
    assert paragraphs == sorted(paragraphs), "paragraph indices go backwards"
    assert doc.key, "a document has a key"
    assert all(h.strip() for h in doc.headings), f"blank heading in {doc.headings!r}"
    assert doc.title is None or doc.title.strip(), f"blank title {doc.title!r}"
    json.dumps(doc.metadata(), ensure_ascii=False)  # storable
    assert _HEX64.match(doc.content_hash())


def check_self_diff(a: Document, b: Document) -> None:
    diff = diff_documents(a, b)
    assert not diff.changes, f"diff of equal documents has changes: {diff.changes[:3]}"
    assert not diff.metadata_changes, f"metadata changes: {diff.metadata_changes}"
    assert diff.title_change is None


def check_parse(case: fi.ParseInput) -> None:
    """(1) contract + well-formed Document, (2) diff(a, a) and diff(parse twice) empty."""
    doc = parse_or_none(case)
    if doc is None:
        return
    check_document(doc)
    check_self_diff(doc, doc)
    again = parse_or_none(case)
    assert again is not None, "the same bytes parsed once and failed once"
    assert again == doc, "parse is not deterministic"
    assert again.content_hash() == doc.content_hash()
    check_self_diff(doc, again)


def check_chrome(page: fi.ChromePage) -> None:
    """(3) chrome the product promises to strip never reaches a statement; the content does."""
    doc = parse_or_none(page.input)
    assert doc is not None, "a page with body text and chrome did not parse"
    check_document(doc)
    for statement in doc.statements:
        low = match_key(statement.text).casefold()
        for marker in fi.CHROME_MARKERS:
            assert marker not in low, f"chrome {marker!r} in statement {statement.text!r}"


# --------------------------------------------------------------------------- diff


def _accounted(changes: Sequence[Change], old: Sequence[Statement],
               new: Sequence[Statement]) -> None:
    """Every statement is in at most one change; the rest are equal, in order, on both sides."""
    old_seen = Counter(c.old.position for c in changes if c.old is not None)
    new_seen = Counter(c.new.position for c in changes if c.new is not None)
    assert all(n == 1 for n in old_seen.values()), f"old statement twice: {old_seen}"
    assert all(n == 1 for n in new_seen.values()), f"new statement twice: {new_seen}"
    kept_old = [(s.key, s.speaker) for s in old if s.position not in old_seen]
    kept_new = [(s.key, s.speaker) for s in new if s.position not in new_seen]
    assert kept_old == kept_new, "statements outside every change differ"


def _change_shape(change: Change) -> None:
    kind, a, b = change.type, change.old, change.new
    if kind is ChangeType.ADDED:
        assert a is None and b is not None
    elif kind is ChangeType.REMOVED:
        assert a is not None and b is None
    else:
        assert a is not None and b is not None, f"{kind} without both sides"
    if kind is ChangeType.MOVED:
        assert a is not None and b is not None
        assert a.key == b.key and a.speaker == b.speaker, "moved statement differs"
    if kind is ChangeType.CHANGED:
        assert a is not None and b is not None
        assert a.key != b.key, "changed statement with equal text"
        kept = [w for op, run in change.words if op != "delete" for w in run.split()]
        assert kept == clean_text(b.text).split(), "word diff does not rebuild the new text"
    if kind is ChangeType.REATTRIBUTED:
        assert a is not None and b is not None and a.speaker != b.speaker


_MIRROR = {ChangeType.ADDED: ChangeType.REMOVED, ChangeType.REMOVED: ChangeType.ADDED}


def _signature(changes: Sequence[Change], *, mirrored: bool = False) -> Counter[Any]:
    out: Counter[Any] = Counter()
    for c in changes:
        a = c.old.position if c.old is not None else None
        b = c.new.position if c.new is not None else None
        kind = c.type
        if mirrored:
            a, b, kind = b, a, _MIRROR.get(kind, kind)
        out[(kind, a, b)] += 1
    return out


def check_diff(case: fi.DiffCase) -> None:
    """(4) accounting, change shapes, determinism, mirror symmetry of diff(a, b)."""
    changes = diff_statements(case.old, case.new)
    for change in changes:
        _change_shape(change)
    _accounted(changes, case.old, case.new)
    assert diff_statements(case.old, case.new) == changes, "diff is not deterministic"
    back = diff_statements(case.new, case.old)
    assert _signature(back, mirrored=True) == _signature(changes), "diff(b, a) is no mirror"
    assert not diff_statements(case.old, case.old)


def check_known_edit(case: fi.KnownEdit) -> None:
    """(4) a single known edit is reported as exactly that change."""
    changes = diff_statements(case.old, case.new)
    assert len(changes) == 1, f"expected one change, got {[c.type for c in changes]}"
    change = changes[0]
    assert change.old == case.old[case.index] and change.new == case.new[case.index]
    if case.edit == "number":
        assert change.type is ChangeType.CHANGED, change.type
        before, after = case.numbers
        assert change.numbers == (NumberChange(before, after),), change.numbers
    else:
        assert change.type is ChangeType.REATTRIBUTED, change.type


def check_page_edit(case: fi.PageEdit) -> None:
    """(4) end to end: one number or one turn's speaker changed in a page's bytes."""
    old, new = parse_or_none(case.old), parse_or_none(case.new)
    assert old is not None and new is not None, "a generated transcript did not parse"
    changes = diff_documents(old, new).changes
    if case.edit == "number":
        assert len(changes) == 1, f"expected one change, got {changes}"
        assert changes[0].type is ChangeType.CHANGED, changes[0].type
        assert changes[0].numbers == (NumberChange(case.before, case.after),)
        return
    assert changes, "a speaker swap went unnoticed"
    for change in changes:
        assert change.type is ChangeType.REATTRIBUTED, change.type
        assert change.old_speaker == case.before and change.speaker == case.after


# --------------------------------------------------------------------------- text


def check_textnorm(text: str) -> None:
    """(5) normalisation is idempotent and the fast path equals the slow one."""
    cleaned = clean_text(text)
    assert clean_text(cleaned) == cleaned
    assert cleaned == _clean_slow(text)
    key = match_key(text)
    assert match_key(key) == key
    assert match_key(cleaned) == key
    assert all(op == "equal" for op, _ in word_diff(text, text))


def check_sentences(text: str) -> None:
    """(5) sentence splitting keeps every non-space character, in order, spans trimmed."""
    spans = split_sentences(text)
    last = 0
    for span in spans:
        assert last <= span.start < span.end <= len(text), f"bad span {span}"
        piece = text[span.start:span.end]
        assert piece and piece == piece.strip(), f"span not trimmed: {piece!r}"
        last = span.end
    joined = "".join("".join(text[s.start:s.end].split()) for s in spans)
    assert joined == "".join(text.split()), "sentence splitting lost characters"


# --------------------------------------------------------------------------- registry


@dataclass(frozen=True)
class Property:
    name: str
    strategy: st.SearchStrategy[Any]
    check: Callable[[Any], None]
    share: float  # of a long run's inputs
    doc: str


PROPERTIES: tuple[Property, ...] = (
    Property("parse_html", fi.html_inputs, check_parse, 0.18,
             "generated HTML (broken, deep, odd encodings): contract, Document, self-diff"),
    Property("parse_text", fi.text_inputs, check_parse, 0.08, "text dumps: same"),
    Property("parse_markdown", fi.markdown_inputs, check_parse, 0.08, "Markdown + YAML: same"),
    Property("parse_bytes", fi.raw_bytes(), check_parse, 0.08, "raw bytes and signatures"),
    Property("parse_real", fi.real_fragment(), check_parse, 0.10,
             "mutated windows of real pages"),
    Property("chrome_html", fi.chrome_html_page(), check_chrome, 0.10,
             "USWDS banner / landmarks in HTML never in statements"),
    Property("chrome_text", fi.chrome_text_page(), check_chrome, 0.05,
             "text-form banner in text dumps and Markdown never in statements"),
    Property("diff_edits", fi.diff_case(), check_diff, 0.12,
             "random edits: accounting, shapes, determinism, mirror"),
    Property("diff_known_edit", fi.known_edit(), check_known_edit, 0.05,
             "one number or speaker edit is reported as that change"),
    Property("page_edit", fi.page_edit(), check_page_edit, 0.04,
             "end to end: one edit in a page's bytes"),
    Property("textnorm", fi.any_text, check_textnorm, 0.06,
             "clean_text / match_key idempotent, fast path = slow path"),
    Property("sentences", st.one_of(fi.any_text, fi.paragraph_text), check_sentences, 0.06,
             "sentence splitting loses no character"),
)
PROPERTY_BY_NAME = {p.name: p for p in PROPERTIES}
