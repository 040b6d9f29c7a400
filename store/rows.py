"""Conversions between model objects and table rows (no I/O)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from typing import Any

from briefwatch.contract import TitleChange
from briefwatch.diff.significance import assess_change
from briefwatch.model import Change, Document, PageKind, Statement, StatementKind

Row = dict[str, Any]


def now_iso() -> str:
    """The current time as ISO 8601 UTC with milliseconds, e.g. 2024-05-01T12:00:00.000Z."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def to_json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


def from_json(text: str | None) -> Any:
    return None if text is None else json.loads(text)


@dataclass(frozen=True, slots=True)
class PageRunRow:
    """One row of ``page_runs``: a page's outcome in one run.

    ``key`` / ``location`` text only for a failure without a stored page / location.
    """

    run_id: int
    status: str
    page_id: int | None = None
    location_id: int | None = None
    version_id: int | None = None
    previous_version_id: int | None = None
    key: str | None = None
    location: str | None = None
    error: str | None = None
    note: str | None = None
    title_change: TitleChange | None = None
    metadata_changes: dict[str, Any] | None = None
    skipped_parse: bool = False

    def values(self) -> list[Any]:
        """The column values in ``PAGE_RUN_COLUMNS`` order (JSON columns serialised)."""
        return [
            self.run_id, self.page_id, self.location_id, self.key, self.location, str(self.status),
            self.version_id, self.previous_version_id, self.error, self.note,
            None if self.title_change is None else to_json(self.title_change),
            None if not self.metadata_changes else to_json(self.metadata_changes),
            int(self.skipped_parse),
        ]


PAGE_RUN_COLUMNS = (
    "run_id", "page_id", "location_id", "key", "location", "status", "version_id",
    "previous_version_id", "error", "note", "title_change", "metadata_changes",
    "skipped_parse",
)
# a retry of the same location in the same run replaces its row
PAGE_RUN_SQL = (
    f"INSERT OR REPLACE INTO page_runs ({', '.join(PAGE_RUN_COLUMNS)}) "
    f"VALUES ({', '.join('?' for _ in PAGE_RUN_COLUMNS)})"
)


def version_row(
    doc: Document,
    *,
    page_id: int,
    number: int,
    run_id: int,
    created_at: str,
    content_hash: str,
    raw_hash: str,
    location: str,
    parse_context: Mapping[str, str] | None = None,
) -> Row:
    return {
        "page_id": page_id,
        "number": number,
        "run_id": run_id,
        "created_at": created_at,
        "content_hash": content_hash,
        "raw_hash": raw_hash,
        "location": location,
        "format": doc.format,
        "title": doc.title,
        "published": doc.published,
        "byline": doc.byline,
        "kind": doc.kind.value,
        "canonical_url": doc.url,
        "site": doc.site,
        "headings": to_json(list(doc.headings)),
        "statement_count": len(doc.statements),
        "extra": to_json(doc.extra) if doc.extra else None,
        "parse_context": to_json(dict(parse_context)) if parse_context else None,
    }


def statement_rows(statements: Iterable[tuple[Statement, str]]) -> Iterator[Row]:
    """Rows for ``statements`` (content-addressed: insert-or-ignore); pairs of (stmt, sid)."""
    for stmt, sid in statements:
        key = stmt.key
        yield {
            "id": sid,
            "text": stmt.text,
            "key": None if key == stmt.text else key,  # NULL: the text is its own match key
            "speaker": stmt.speaker,
            "kind": stmt.kind.value,
        }


def membership_rows(
    version_id: int,
    statements: Iterable[tuple[Statement, str]],
    shared_text: Mapping[str, str],
) -> Iterator[Row]:
    """Rows for ``version_statements``; ``statements`` pairs each statement with its sid.

    ``text`` is stored only when this version's wording differs from the shared row's.
    """
    for stmt, sid in statements:
        yield {
            "version_id": version_id,
            "position": stmt.position,
            "statement_id": sid,
            "paragraph": stmt.paragraph,
            "section": stmt.section,
            "text": None if shared_text.get(sid) == stmt.text else stmt.text,
        }


def change_rows(
    changes: Iterable[Change],
    *,
    run_id: int,
    page_id: int,
    from_version_id: int,
    to_version_id: int,
) -> Iterator[Row]:
    for change in changes:
        side = change.new if change.new is not None else change.old
        yield {
            "run_id": run_id,
            "page_id": page_id,
            "from_version_id": from_version_id,
            "to_version_id": to_version_id,
            "type": change.type.value,
            "kind": side.kind.value if side is not None else None,
            "position": change.position,
            "old_position": change.old.position if change.old is not None else None,
            "old_statement_id": change.old.sid if change.old is not None else None,
            "new_statement_id": change.new.sid if change.new is not None else None,
            "speaker": change.speaker,
            "old_speaker": change.old_speaker,
            "numbers": to_json([{"old": n.old, "new": n.new} for n in change.numbers]),
            "words": to_json([list(w) for w in change.words]),
            "similarity": change.similarity,
            "significance": assess_change(change).level.value,
        }


def statement_from_row(row: Mapping[str, Any]) -> Statement:
    """A statement from a ``version_statements`` x ``statements`` row; with the stored ``sid``
    and ``key`` columns in the row, those are taken instead of recomputed."""
    if "sid" in row:
        return restore_statement(row["text"], row["speaker"], StatementKind(row["kind"]),
                                 row["paragraph"], row["position"], row["section"],
                                 row["key"], row["sid"])
    return Statement(
        text=row["text"],
        speaker=row["speaker"],
        kind=StatementKind(row["kind"]),
        paragraph=row["paragraph"],
        position=row["position"],
        section=row["section"],
    )


# Statement's fields in order, the derived (init=False) ``key`` and ``sid`` last
STATEMENT_FIELDS = ("text", "speaker", "kind", "paragraph", "position", "section", "key", "sid")
if tuple(f.name for f in fields(Statement)) != STATEMENT_FIELDS:  # pragma: no cover
    raise ImportError("store.rows.restore_statement is out of step with briefwatch.model")


def restore_statement(
    text: str, speaker: str | None, kind: StatementKind, paragraph: int, position: int,
    section: str | None, key: str, sid: str,
) -> Statement:
    """A Statement with its derived ``key`` (match key) and ``sid`` (content address) as
    stored, not recomputed: the constructor normalises and hashes every statement, which
    made loading a 1,600-statement version (to diff against it) cost as much as parsing it.
    ``sid``/``key`` of a stored statement are what the constructor computed when it was
    stored (content addressing)."""
    statement = object.__new__(Statement)
    for name, value in zip(
        STATEMENT_FIELDS, (text, speaker, kind, paragraph, position, section, key, sid),
        strict=True,
    ):
        object.__setattr__(statement, name, value)
    return statement


def document_from_rows(
    key: str, version: Mapping[str, Any], statements: Iterable[Mapping[str, Any]]
) -> Document:
    return Document(
        key=key,
        url=version["canonical_url"],
        title=version["title"],
        published=version["published"],
        byline=version["byline"],
        kind=PageKind(version["kind"]),
        format=version["format"],
        headings=tuple(from_json(version["headings"])),
        statements=tuple(statement_from_row(row) for row in statements),
        site=version["site"],
        extra=from_json(version["extra"]) or {},
    )
