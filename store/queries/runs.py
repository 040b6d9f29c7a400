"""The runs of a store as ``briefwatch runs`` lists them (``briefwatch.contract.RunRow``):
newest first, optionally of one kind (``ingest`` / ``reparse``)."""

from __future__ import annotations

from typing import Any

from sqlite_utils import Database

from briefwatch.contract import RUN_KINDS, RunRow
from briefwatch.store.queries.report import stored_counts
from briefwatch.store.rows import Row, from_json

__all__ = ["RUN_KINDS", "newest_runs_sql", "run_rows"]

_ROW_COLUMNS = ("id, kind, status, started_at, finished_at, counts, flow_run_id, options, "
                "sources, reported_at, reported_in")


def newest_runs_sql(columns: str, *, limit: int, kind: str | None = None
                    ) -> tuple[str, list[Any]]:
    """The SQL and parameters selecting ``columns`` of at most ``limit`` runs (of ``kind``
    when given), newest first."""
    where, params = ("", []) if kind is None else ("WHERE kind = ? ", [kind])
    return (f"SELECT {columns} FROM runs {where}ORDER BY id DESC LIMIT ?",
            [*params, limit])


def run_rows(db: Database, *, limit: int, kind: str | None = None) -> list[RunRow]:
    """At most ``limit`` runs (of ``kind`` when given), newest first."""
    sql, params = newest_runs_sql(_ROW_COLUMNS, limit=limit, kind=kind)
    return [_run_row(db, row) for row in db.query(sql, params)]


def _run_row(db: Database, row: Row) -> RunRow:
    options: dict[str, Any] = from_json(row["options"]) or {}
    runner = options.get("runner")
    return {
        "id": row["id"],
        "kind": row["kind"],
        "status": row["status"],
        "started_at": row["started_at"],
        "finished_at": row["finished_at"],
        "counts": stored_counts(db, row),
        "flow_run_id": row["flow_run_id"],
        "runner": runner if isinstance(runner, str) else None,
        "sources": list(from_json(row["sources"]) or []),
        "delivered": row["reported_at"] is not None,
        "reported_at": row["reported_at"],
        "reported_in": row["reported_in"],
    }
