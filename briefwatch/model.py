"""The document model shared by parsers, diff, store and report.

Parsers turn bytes into a :class:`Document`; the diff compares two documents' statements;
the store persists them. These classes are plain, immutable data with no I/O.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Literal

from briefwatch.contract import TitleChange
from briefwatch.textnorm import match_key, sha256_hex


class StatementKind(StrEnum):
    """What a statement is, as far as the page's wording tells."""

    NARRATION = "narration"  # the writer's own text
    QUOTE = "quote"  # words inside quotation marks, attributed where the page says who
    PARAPHRASE = "paraphrase"  # indirect speech: "..., Dillon said." without quotation marks
    QUESTION = "question"  # a reporter's turn (Q) in a transcript
    ANSWER = "answer"  # a named speaker's turn that answers a question
    REMARKS = "remarks"  # a named speaker's turn that is not an answer (opening remarks)


class PageKind(StrEnum):
    ARTICLE = "article"
    TRANSCRIPT = "transcript"
    RELEASE = "release"
    OTHER = "other"


BlockKind = Literal["heading", "paragraph"]


@dataclass(frozen=True, slots=True)
class Block:
    """One unit of main content after boilerplate removal: a section heading or a paragraph."""

    kind: BlockKind
    text: str
    quoted: bool = False  # inside a block quotation (<blockquote>, Markdown "> ")


@dataclass(frozen=True, slots=True)
class PageMeta:
    """Metadata a format parser finds; every field is optional."""

    title: str | None = None
    canonical_url: str | None = None
    published: str | None = None  # ISO 8601 date or datetime as the page gives it
    byline: str | None = None
    kind_hint: PageKind | None = None  # a site profile or front matter may know the kind
    site: str | None = None  # name of the site profile that matched, if any


@dataclass(frozen=True, slots=True)
class Extracted:
    """What a format parser (HTML / text / Markdown) returns: main content as blocks + meta."""

    blocks: tuple[Block, ...]
    meta: PageMeta
    format: str  # "html" | "text" | "markdown"


@dataclass(frozen=True, slots=True)
class Statement:
    """One sentence of the body with who said it."""

    text: str
    speaker: str | None
    kind: StatementKind
    paragraph: int  # index of the paragraph (block) the sentence is in
    position: int  # index of the statement in the document
    section: str | None = None  # the heading the statement sits under, if any
    # derived once at construction (hot path: hashing, diffing, storing)
    key: str = field(init=False, repr=False, compare=False)  # comparison form (match_key)
    sid: str = field(init=False, repr=False, compare=False)  # content address

    def __post_init__(self) -> None:
        key = match_key(self.text)
        object.__setattr__(self, "key", key)
        # the same words by the same speaker in the same role share an id
        sid = sha256_hex("\x1f".join((key, self.speaker or "", self.kind.value)))[:32]
        object.__setattr__(self, "sid", sid)


@dataclass(frozen=True, slots=True)
class Document:
    """A parsed page."""

    key: str  # page identity: canonical URL, else the file's file:// URI
    url: str | None  # canonical URL when the page declares one
    title: str | None
    published: str | None
    byline: str | None
    kind: PageKind
    format: str
    headings: tuple[str, ...]
    statements: tuple[Statement, ...]
    site: str | None = None
    extra: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    def metadata(self) -> dict[str, Any]:
        """The metadata fields the diff compares (via deepdiff)."""
        return {
            "title": self.title,
            "published": self.published,
            "byline": self.byline,
            "canonical_url": self.url,
            "kind": self.kind.value,
            "headings": list(self.headings),
        }

    def content_hash(self) -> str:
        """Hash of the normalised content: equal hashes mean no version is created."""
        payload = {
            "meta": {k: (match_key(v) if isinstance(v, str) else v)
                     for k, v in self.metadata().items() if k != "headings"},
            "headings": [match_key(h) for h in self.headings],
            "statements": [s.sid for s in self.statements],
        }
        return sha256_hex(json.dumps(payload, sort_keys=True, ensure_ascii=False))


class ChangeType(StrEnum):
    ADDED = "added"
    REMOVED = "removed"
    CHANGED = "changed"
    MOVED = "moved"
    REATTRIBUTED = "reattributed"


WordOp = Literal["equal", "insert", "delete"]


@dataclass(frozen=True, slots=True)
class NumberChange:
    """A number inside a changed statement: 163 -> 170. ``None`` on one side = added/removed."""

    old: str | None
    new: str | None


@dataclass(frozen=True, slots=True)
class Change:
    """One flagged statement-level change between two versions of a page."""

    type: ChangeType
    old: Statement | None
    new: Statement | None
    numbers: tuple[NumberChange, ...] = ()
    words: tuple[tuple[WordOp, str], ...] = ()  # word-level diff old -> new (changed only)
    similarity: float | None = None

    @property
    def position(self) -> int:
        stmt = self.new if self.new is not None else self.old
        assert stmt is not None, "a change has at least one side"
        return stmt.position

    @property
    def speaker(self) -> str | None:
        stmt = self.new if self.new is not None else self.old
        return stmt.speaker if stmt is not None else None

    @property
    def old_speaker(self) -> str | None:
        return self.old.speaker if self.old is not None else None


@dataclass(frozen=True, slots=True)
class PageDiff:
    """Everything that changed between two versions of one page."""

    changes: tuple[Change, ...]
    metadata_changes: dict[str, Any]  # deepdiff output as JSON-able dict ({} when none)
    title_change: TitleChange | None  # {"old": ..., "new": ...} or None

    @property
    def changed(self) -> bool:
        return bool(self.changes or self.metadata_changes)
