"""What a version looked like when an earlier run saw it, after a reparse replaced it.

``briefwatch reparse`` (a run of kind ``reparse``) rewrites a version's statements and
parsed fields with the current parsers, keeping the previous ones in ``reparse_statements``
and ``reparse_versions.old_version`` (schema ``m008_reparse``). Run ``R`` saw version ``V``
as the first reparse after ``R`` archived it, or as it is now if no reparse after ``R``
touched it. The run report (``briefwatch.store.queries.report``) uses this so an old run's report
shows
what it showed.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlite_utils import Database

from briefwatch.contract import Change
from briefwatch.store.queries.change import added_dict
from briefwatch.store.rows import Row, from_json, to_json


def archives_after(db: Database, run_id: int, version_ids: Iterable[int]) -> dict[int, int]:
    """For each of ``version_ids`` re-parsed by a reparse run after ``run_id``: the first
    such run (whose archive holds the version as ``run_id`` saw it)."""
    rows = db.execute(
        "SELECT version_id, min(run_id) FROM reparse_versions "
        "WHERE outcome = 'reparsed' AND run_id > ? "
        "AND version_id IN (SELECT value FROM json_each(?)) GROUP BY version_id",
        [run_id, to_json(sorted(set(version_ids)))],
    )
    return {int(version_id): int(archive) for version_id, archive in rows}


def old_version_fields(db: Database, archive_run_id: int, version_id: int) -> dict[str, Any]:
    """The version row's parsed fields as the reparse ``archive_run_id`` found them."""
    row = next(iter(db.query(
        "SELECT old_version FROM reparse_versions WHERE run_id = ? AND version_id = ?",
        [archive_run_id, version_id])), None)
    return {} if row is None else dict(from_json(row["old_version"]) or {})


def old_statement_rows(db: Database, archive_run_id: int, version_id: int) -> list[Row]:
    """The version's statements as the reparse ``archive_run_id`` found them, in order,
    with the columns of a ``version_statements`` x ``statements`` read: ``position, text,
    speaker, kind, paragraph, section``."""
    return list(db.query(
        """
        SELECT a.position, coalesce(a.text, s.text) AS text, s.speaker, s.kind,
               a.paragraph, a.section
        FROM reparse_statements a JOIN statements s ON s.id = a.statement_id
        WHERE a.run_id = ? AND a.version_id = ? ORDER BY a.position
        """,
        [archive_run_id, version_id],
    ))


def titles_as_seen(db: Database, run_id: int, rows: Iterable[Row]) -> list[Row]:
    """Run report rows (``version_id``, ``version_title``) with the title of each version a
    later reparse rewrote as run ``run_id`` saw it."""
    rows = list(rows)
    versions = [r["version_id"] for r in rows if r["version_id"] is not None]
    titles: dict[int, Any] = {}
    for version_id, archive in archives_after(db, run_id, versions).items():
        fields = old_version_fields(db, archive, version_id)
        if "title" in fields:
            titles[version_id] = fields["title"]
    return [row | {"version_title": titles[row["version_id"]]}
            if row["version_id"] in titles else row for row in rows]


def added_as_seen(
    db: Database, run_id: int, grouped: dict[int, list[Change]]
) -> dict[int, list[Change]]:
    """A run report's ``added`` statements of new pages (by version id), those of versions
    a reparse after run ``run_id`` rewrote replaced by the statements the run saw."""
    for version_id, archive in archives_after(db, run_id, grouped).items():
        first = grouped[version_id][0]
        grouped[version_id] = [
            added_dict(row, run_id=first.get("run_id"), version=first.get("to_version"))
            for row in old_statement_rows(db, archive, version_id)
        ]
    return grouped
