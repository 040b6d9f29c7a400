"""Typed values the store returns. Plain frozen data, no database handles."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from briefwatch.model import Document, PageDiff


class RunStatus(StrEnum):
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"
    # the run's process died (killed, crashed) before it finished: noticed by the next run
    # that took the writer lock (``Store.start_run``); what it stored stays, its page
    # outcomes count, and the next report of the same kind carries its changes over
    INTERRUPTED = "interrupted"


class PageStatus(StrEnum):
    ACTIVE = "active"
    GONE = "gone"


class Outcome(StrEnum):
    """A page's outcome in one run (``page_runs.status``)."""

    NEW = "new"
    CHANGED = "changed"
    UNCHANGED = "unchanged"
    GONE = "gone"
    FAILED = "failed"
    # fetched from the web, the site answered with a bot-block / WAF / captcha page: not
    # a version of the page (reported, nothing stored)
    BLOCKED = "blocked"


OUTCOMES: tuple[str, ...] = tuple(o.value for o in Outcome)

# Order of pages in a run report: what needs attention first, then by key.
REPORT_ORDER: tuple[Outcome, ...] = (
    Outcome.FAILED,
    Outcome.BLOCKED,
    Outcome.CHANGED,
    Outcome.NEW,
    Outcome.GONE,
    Outcome.UNCHANGED,
)


@dataclass(frozen=True, slots=True)
class RunSummary:
    id: int
    status: str
    started_at: str
    finished_at: str | None
    flow_run_id: str | None
    sources: tuple[str, ...]
    counts: dict[str, int] = field(default_factory=dict)
    options: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class LocationState:
    """What the store knows about a place bytes were read from."""

    location: str
    source_root: str
    status: str  # active | gone
    page_id: int
    key: str
    page_status: str
    last_raw_hash: str | None
    last_run_id: int | None
    current_version_id: int | None
    current_version: int | None  # version number
    content_hash: str | None
    etag: str | None
    last_modified: str | None


@dataclass(frozen=True, slots=True)
class WebState:
    """What a conditional GET of a stored web location needs."""

    etag: str | None
    last_modified: str | None
    raw_hash: str
    status: str  # the location's: active | gone


@dataclass(frozen=True, slots=True)
class StoredVersion:
    """A stored version with its document rebuilt from the store."""

    version_id: int
    number: int
    page_id: int
    key: str
    content_hash: str
    raw_hash: str
    run_id: int
    created_at: str
    document: Document


@dataclass(frozen=True, slots=True)
class PageWrite:
    """One parsed page for ``Store.record_page``: where it was read, its bytes, its document
    and its diff, travelling together from the pipeline's ``PageResult`` down to the rows.

    ``previous`` must be what ``Store.latest_document(doc.key)`` returned (the version
    ``diff`` was computed against; ``None`` for a page not seen before). ``compressed_raw``,
    optional: ``raw`` already compressed, as ``(compression, data)`` (the parse workers do
    it); used when it is the store's compression. ``parse_context``, optional: what the
    parser was told besides the bytes (``ParseContext.as_dict()``), kept for re-parsing.
    """

    location: str
    source_root: str
    raw: bytes
    raw_hash: str
    doc: Document
    diff: PageDiff | None = None
    previous: StoredVersion | None = None
    compressed_raw: tuple[str, bytes] | None = None
    parse_context: Mapping[str, str] | None = None


@dataclass(frozen=True, slots=True)
class PageOutcome:
    """What ``record_page`` did."""

    key: str
    page_id: int
    status: Outcome  # new | changed | unchanged
    version_id: int
    version: int  # version number after the write
    previous_version: int | None
    note: str | None = None


@dataclass(frozen=True, slots=True)
class VersionInfo:
    version_id: int
    number: int
    run_id: int
    created_at: str
    content_hash: str
    raw_hash: str
    location: str
    title: str | None
    statement_count: int
    changes: dict[str, int]  # change type -> count against the previous version


@dataclass(frozen=True, slots=True)
class PageSummary:
    key: str
    url: str | None
    title: str | None
    status: str
    versions: int
    first_run_id: int
    last_run_id: int
    last_changed_run_id: int | None  # run that created the current version
    last_changed_at: str | None


@dataclass(frozen=True, slots=True)
class SearchHit:
    """A statement matching a search, in the newest version of one page that contains it."""

    statement_id: str
    text: str
    speaker: str | None
    kind: str
    key: str
    version: int
    position: int
    current: bool  # the statement is in the page's current version
    title: str | None = None  # the page's current title
    url: str | None = None  # the page's canonical URL


class ReviewStatus(StrEnum):
    """A change's review state; ``unreviewed`` until someone reviews it."""

    UNREVIEWED = "unreviewed"
    REVIEWED = "reviewed"
    DISMISSED = "dismissed"
    FLAGGED = "flagged"


@dataclass(frozen=True, slots=True)
class ReviewRecord:
    """One entry of a change's review history (the newest is its current state)."""

    id: int
    change_id: int
    status: ReviewStatus
    note: str | None
    reviewer: str | None
    created_at: str
