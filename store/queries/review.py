"""Queries behind the review tools: a page's timeline, a speaker's statements, one change
with its review history, and writing a review.

Everything returned is plain JSON-able data (change dicts as in
``briefwatch.store.queries.change``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from typing import Any

from sqlite_utils import Database

from briefwatch.contract import ChangeDetail
from briefwatch.errors import ChangeNotFoundError, StoreError, VersionNotFoundError
from briefwatch.store.queries.change import changes_where, grouped_by_version, without_private
from briefwatch.store.queries.report import history, page_significance, resolve_page
from briefwatch.store.records import ReviewRecord, ReviewStatus
from briefwatch.store.rows import Row, from_json, now_iso, to_json


def _first(db: Database, sql: str, params: Sequence[Any]) -> Row | None:
    return next(iter(db.query(sql, params)), None)


# --------------------------------------------------------------------- pages


def page_info(db: Database, page_id: int) -> dict[str, Any]:
    row = _first(
        db,
        """
        SELECT p.id, p.key, p.url, p.title, p.status, p.gone_run_id,
               cv.number AS version,
               (SELECT count(*) FROM versions v WHERE v.page_id = p.id) AS versions
        FROM pages p LEFT JOIN versions cv ON cv.id = p.current_version_id
        WHERE p.id = ?
        """,
        [page_id],
    )
    assert row is not None, "page ids come from resolve_page"
    return {k: row[k] for k in ("key", "url", "title", "status", "gone_run_id", "version",
                                "versions")}


def timeline(db: Database, page: str) -> dict[str, Any]:
    """Every version of a page, newest first, each with what changed to make it.

    ``{"page": {key, url, title, status, gone_run_id, version, versions},
       "versions": [VersionInfo fields + previous_version, title_change, metadata_changes,
                    change_details (change dicts), significance]}``
    """
    page_id = resolve_page(db, page)
    changes = grouped_by_version(changes_where(  # by to_version_id: an indexed lookup
        db, "c.to_version_id IN (SELECT id FROM versions WHERE page_id = ?) "
        "AND c.superseded_run_id IS NULL", [page_id]))
    meta = {
        row["version_id"]: row
        for row in db.query(
            "SELECT version_id, title_change, metadata_changes FROM page_runs "
            "WHERE page_id = ? AND status = 'changed' AND version_id IS NOT NULL",
            [page_id],
        )
    }
    versions: list[dict[str, Any]] = []
    for info in history(db, page):
        row = asdict(info)
        extra = meta.get(info.version_id)
        row["previous_version"] = info.number - 1 if info.number > 1 else None
        row["title_change"] = from_json(extra["title_change"]) if extra else None
        row["metadata_changes"] = (from_json(extra["metadata_changes"]) if extra else None) or {}
        row["change_details"] = changes.get(info.version_id, [])
        row["significance"] = (
            page_significance({"status": "changed", "changes": row["change_details"],
                               "title_change": row["title_change"]})
            if info.number > 1 else None
        )
        versions.append(row)
    return {"page": page_info(db, page_id), "versions": versions}


def version_id(db: Database, page: str, number: int) -> int:
    """The id of version ``number`` of a page (by key, URL or location)."""
    page_id = resolve_page(db, page)
    row = _first(db, "SELECT id FROM versions WHERE page_id = ? AND number = ?",
                 [page_id, number])
    if row is None:
        count = _first(db, "SELECT count(*) AS n FROM versions WHERE page_id = ?", [page_id])
        have = count["n"] if count else 0
        has = f"only v1 to v{have}" if have > 1 else "only v1" if have else "no versions"
        raise VersionNotFoundError(f"page {page!r} has no version {number}: it has {has}")
    return int(row["id"])


def current_version_number(db: Database, page: str) -> int:
    info = page_info(db, resolve_page(db, page))
    if info["version"] is None:
        raise VersionNotFoundError(f"page {page!r} has no stored version")
    return int(info["version"])


# ------------------------------------------------------------------ speakers


def speakers_matching(db: Database, query: str) -> list[str]:
    """Speaker names containing ``query`` (case-insensitive), sorted."""
    needle = " ".join(query.split()).casefold()
    if not needle:
        raise StoreError("the speaker to look for is empty")
    names = [r[0] for r in db.execute(
        "SELECT DISTINCT speaker FROM statements WHERE speaker IS NOT NULL")]
    return sorted(name for name in names if needle in " ".join(name.split()).casefold())


def speaker_view(db: Database, query: str) -> dict[str, Any]:
    """What speakers matching ``query`` say in each page's current version, and every stored
    change to their statements (theirs before or after the change).

    ``{"query", "speakers": [...], "pages": [{key, url, title, status, version,
       statements: [{position, text, speaker, kind, section}],
       changes: [change dicts, newest version first, diff order within one]}]}``
    """
    speakers = speakers_matching(db, query)
    names = to_json(speakers)
    pages: dict[int, dict[str, Any]] = {}

    def page_entry(page_id: int) -> dict[str, Any]:
        if page_id not in pages:
            pages[page_id] = page_info(db, page_id) | {"statements": [], "changes": []}
        return pages[page_id]

    for row in db.query(
        """
        SELECT p.id AS page_id, vs.position, coalesce(vs.text, s.text) AS text, s.speaker,
               s.kind, vs.section
        FROM pages p
        JOIN version_statements vs ON vs.version_id = p.current_version_id
        JOIN statements s ON s.id = vs.statement_id
        WHERE s.speaker IN (SELECT value FROM json_each(?))
        ORDER BY p.key, vs.position
        """,
        [names],
    ):
        page_entry(row["page_id"])["statements"].append(
            {k: row[k] for k in ("position", "text", "speaker", "kind", "section")})
    for change in changes_where(
        db,
        "(c.speaker IN (SELECT value FROM json_each(?)) "
        "OR c.old_speaker IN (SELECT value FROM json_each(?))) "
        "AND c.superseded_run_id IS NULL",
        [names, names],
    ):
        change.pop("_to_version_id")
        page_entry(change.pop("_page_id"))["changes"].append(change)
    ordered = sorted(pages.values(), key=lambda p: p["key"])
    for entry in ordered:
        entry.pop("gone_run_id", None)
        entry["changes"].sort(key=lambda c: -(c["to_version"] or 0))  # newest first, stable
    return {"query": query, "speakers": speakers, "pages": ordered}


# ------------------------------------------------------------------- reviews


def change_detail(db: Database, change_id: int) -> ChangeDetail:
    """One stored change with its page and its review history (oldest first)."""
    found = changes_where(db, "c.id = ?", [change_id])
    if not found:
        raise ChangeNotFoundError(f"no change {change_id} in the store")
    change, page_id = without_private(found[0])
    info = page_info(db, page_id)
    detail: ChangeDetail = {**change, "page": {"key": info["key"], "url": info["url"],
                                               "title": info["title"]},
                            "reviews": [asdict(r) for r in reviews(db, change_id)]}
    return detail


def reviews(db: Database, change_id: int) -> list[ReviewRecord]:
    return [
        ReviewRecord(
            id=row["id"],
            change_id=row["change_id"],
            status=ReviewStatus(row["status"]),
            note=row["note"],
            reviewer=row["reviewer"],
            created_at=row["created_at"],
        )
        for row in db.query("SELECT * FROM reviews WHERE change_id = ? ORDER BY id",
                            [change_id])
    ]


def add_review(
    db: Database, change_id: int, status: ReviewStatus, note: str | None, reviewer: str | None
) -> ReviewRecord:
    """Append a review of ``change_id`` (caller holds a transaction)."""
    if _first(db, "SELECT id FROM changes WHERE id = ?", [change_id]) is None:
        raise ChangeNotFoundError(
            f"no change {change_id} in the store (statements of a page's first version are "
            f"not changes and cannot be reviewed)"
        )
    created_at = now_iso()
    cursor = db.execute(
        "INSERT INTO reviews (change_id, status, note, reviewer, created_at) "
        "VALUES (?, ?, ?, ?, ?)",
        [change_id, ReviewStatus(status).value, note, reviewer, created_at],
    )
    assert cursor.lastrowid is not None
    return ReviewRecord(id=cursor.lastrowid, change_id=change_id, status=ReviewStatus(status),
                        note=note, reviewer=reviewer, created_at=created_at)
