"""SQLite store: every version of every page, content-addressed statements, flagged changes.

Owns the database through sqlite-utils; the schema lives in ``store.schema`` (sqlite-migrate).
"""

from __future__ import annotations

from store.db import Store
from store.records import (
    LocationState,
    Outcome,
    PageOutcome,
    PageStatus,
    PageSummary,
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
