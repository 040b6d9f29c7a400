"""SQLite store: every version of every page, content-addressed statements, flagged changes.

Owns the database through sqlite-utils; the schema lives in ``briefwatch.store.schema``
(sqlite-migrate).
"""

from __future__ import annotations

from briefwatch.store.db import Store
from briefwatch.store.records import (
    LocationState,
    Outcome,
    PageOutcome,
    PageStatus,
    PageSummary,
    PageWrite,
    ReviewRecord,
    ReviewStatus,
    RunStatus,
    RunSummary,
    SearchHit,
    StoredVersion,
    VersionInfo,
    WebState,
)

__all__ = [
    "LocationState",
    "Outcome",
    "PageOutcome",
    "PageStatus",
    "PageSummary",
    "PageWrite",
    "ReviewRecord",
    "ReviewStatus",
    "RunStatus",
    "RunSummary",
    "SearchHit",
    "Store",
    "StoredVersion",
    "VersionInfo",
    "WebState",
]
