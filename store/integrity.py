"""Is a store whole? ``check_store`` looks for what a crash, a bug or a hand edit could
leave behind, without changing anything.

Errors (a store that is not whole; ``briefwatch check`` exits 1):

- ``integrity``: ``PRAGMA integrity_check`` is not ``ok``; ``foreign_key``: a row points at
  a missing row (``PRAGMA foreign_key_check``); ``fts``: the full-text index of statements
  disagrees with the statements (FTS5 ``integrity-check``);
- ``partial_version``: a version whose ``statement_count`` differs from its rows in
  ``version_statements``, a version whose raw blob is missing, a page whose
  ``current_version_id`` is not its latest version, version numbers with a gap;
- ``orphan``: statements no version or change uses, blobs no version uses, pages without a
  version, ``page_runs`` / ``changes`` rows pointing at missing runs, pages or versions,
  changes without the page outcome of their run that reports them.

Notices (recoverable; exit 0): ``dead_run``: a run still ``running`` although nobody holds
the writer lock (its process died; the next run marks it ``interrupted`` and carries its
changes over); ``unreported``: runs whose changes no delivered report has shown yet (the
next run's report carries them).

The check takes the store's writer lock (a running ingest is not disturbed: StoreBusyError,
exit 3) because the FTS5 check needs a write transaction; it is rolled back.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from briefwatch.errors import StoreError
from briefwatch.store.lock import WriterLock


@dataclass(frozen=True, slots=True)
class Problem:
    """One finding: ``kind`` (see the module doc), ``severity`` (error | notice), what."""

    kind: str
    severity: str
    message: str
    count: int = 1


@dataclass(frozen=True, slots=True)
class IntegrityReport:
    path: str
    problems: tuple[Problem, ...] = field(default_factory=tuple)
    checks: tuple[str, ...] = field(default_factory=tuple)

    @property
    def errors(self) -> tuple[Problem, ...]:
        return tuple(p for p in self.problems if p.severity == "error")

    @property
    def notices(self) -> tuple[Problem, ...]:
        return tuple(p for p in self.problems if p.severity == "notice")

    @property
    def ok(self) -> bool:
        return not self.errors

    def as_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "ok": self.ok,
            "checks": list(self.checks),
            "errors": [_problem_dict(p) for p in self.errors],
            "notices": [_problem_dict(p) for p in self.notices],
        }


def _problem_dict(problem: Problem) -> dict[str, Any]:
    return {"kind": problem.kind, "message": problem.message, "count": problem.count}


# (kind, what the rows are, SQL selecting the offending rows' ids)
_COUNT_CHECKS: tuple[tuple[str, str, str], ...] = (
    ("partial_version", "version(s) whose statement_count differs from their statements",
     """SELECT v.id FROM versions v WHERE v.statement_count !=
        (SELECT count(*) FROM version_statements vs WHERE vs.version_id = v.id)"""),
    ("partial_version", "version(s) without their raw blob",
     "SELECT v.id FROM versions v LEFT JOIN blobs b ON b.hash = v.raw_hash "
     "WHERE b.hash IS NULL"),
    ("partial_version", "page(s) whose current version is not their latest version",
     """SELECT p.id FROM pages p WHERE EXISTS (SELECT 1 FROM versions v WHERE v.page_id = p.id)
        AND p.current_version_id IS NOT (SELECT v.id FROM versions v WHERE v.page_id = p.id
                                         ORDER BY v.number DESC LIMIT 1)"""),
    ("partial_version", "page(s) whose version numbers have a gap",
     "SELECT page_id FROM versions GROUP BY page_id HAVING max(number) != count(*)"),
    ("orphan", "statement(s) used by no version and no change",
     # EXCEPT (sorted sets), not NOT EXISTS: changes has no index on its statement ids;
     # a version's statements before a reparse rewrote it are kept (reparse_statements)
     """SELECT id FROM statements EXCEPT SELECT statement_id FROM version_statements
        EXCEPT SELECT old_statement_id FROM changes EXCEPT SELECT new_statement_id
        FROM changes EXCEPT SELECT statement_id FROM reparse_statements"""),
    ("orphan", "blob(s) used by no version",
     "SELECT hash FROM blobs EXCEPT SELECT raw_hash FROM versions"),
    ("orphan", "page(s) without any version",
     "SELECT p.id FROM pages p "
     "WHERE NOT EXISTS (SELECT 1 FROM versions v WHERE v.page_id = p.id)"),
    ("orphan", "version_statements row(s) of a missing version or statement",
     """SELECT vs.version_id FROM version_statements vs
        WHERE NOT EXISTS (SELECT 1 FROM versions v WHERE v.id = vs.version_id)
           OR NOT EXISTS (SELECT 1 FROM statements s WHERE s.id = vs.statement_id)"""),
    ("orphan", "page_runs row(s) pointing at a missing run, page, location or version",
     """SELECT pr.id FROM page_runs pr
        WHERE NOT EXISTS (SELECT 1 FROM runs r WHERE r.id = pr.run_id)
           OR (pr.page_id IS NOT NULL
               AND NOT EXISTS (SELECT 1 FROM pages p WHERE p.id = pr.page_id))
           OR (pr.location_id IS NOT NULL
               AND NOT EXISTS (SELECT 1 FROM locations l WHERE l.id = pr.location_id))
           OR (pr.version_id IS NOT NULL
               AND NOT EXISTS (SELECT 1 FROM versions v WHERE v.id = pr.version_id))"""),
    ("orphan", "change(s) pointing at a missing run, page or version",
     """SELECT c.id FROM changes c
        WHERE NOT EXISTS (SELECT 1 FROM runs r WHERE r.id = c.run_id)
           OR NOT EXISTS (SELECT 1 FROM pages p WHERE p.id = c.page_id)
           OR NOT EXISTS (SELECT 1 FROM versions v WHERE v.id = c.to_version_id)
           OR (c.from_version_id IS NOT NULL
               AND NOT EXISTS (SELECT 1 FROM versions v WHERE v.id = c.from_version_id))"""),
    ("orphan", "change(s) without the page outcome of their run",
     # a reparse run's changes (between two stored versions) are reported by reparse_pages
     "SELECT to_version_id FROM (SELECT run_id, to_version_id FROM changes "
     "EXCEPT SELECT run_id, version_id FROM page_runs "
     "EXCEPT SELECT rp.run_id, c.to_version_id FROM reparse_pages rp "
     "JOIN changes c ON c.run_id = rp.run_id AND c.page_id = rp.page_id)"),
)


def check_store(path: str | Path, *, lock_wait: float = 0.0) -> IntegrityReport:
    """Check the store at ``path`` (see the module doc); StoreBusyError when a run holds
    it for longer than ``lock_wait`` seconds, StoreError when it is not a usable store."""
    store_path = Path(path)
    if not store_path.is_file():
        raise StoreError(f"cannot check store {store_path}: no such file")
    lock = WriterLock(store_path)
    lock.acquire(wait=lock_wait)
    try:
        with closing(_connect(store_path)) as conn:
            return _check(conn, str(store_path))
    finally:
        lock.release()


def _connect(path: Path) -> sqlite3.Connection:
    try:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=rw", uri=True, timeout=30,
                               isolation_level=None)
        conn.execute("PRAGMA query_only = OFF")
        return conn
    except sqlite3.Error as exc:
        raise StoreError(f"cannot check store {path}: {exc}") from exc


def _check(conn: sqlite3.Connection, path: str) -> IntegrityReport:
    problems: list[Problem] = []
    checks: list[str] = []
    try:
        tables = {r[0] for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type IN ('table', 'view')")}
        problems.extend(_sqlite_checks(conn, tables))
        checks.extend(["integrity_check", "foreign_key_check", "fts"])
        if {"versions", "pages", "changes", "page_runs"} <= tables:
            problems.extend(_row_checks(conn))
            checks.extend(kind + ": " + what for kind, what, _ in _COUNT_CHECKS)
        if "runs" in tables:
            problems.extend(_run_notices(conn))
            checks.append("runs")
    except sqlite3.DatabaseError as exc:
        problems.append(Problem("integrity", "error", f"cannot read the store: {exc}"))
    return IntegrityReport(path=path, problems=tuple(problems), checks=tuple(checks))


def _sqlite_checks(conn: sqlite3.Connection, tables: set[str]) -> Iterator[Problem]:
    result = [r[0] for r in conn.execute("PRAGMA integrity_check")]
    if result != ["ok"]:
        yield Problem("integrity", "error", "; ".join(result[:5]), len(result))
    violations = conn.execute("PRAGMA foreign_key_check").fetchall()
    if violations:
        shown = ", ".join(f"{t} rowid {rowid} -> {parent}" for t, rowid, parent, _ in
                          violations[:5])
        yield Problem("foreign_key", "error", f"{len(violations)} row(s) point at missing "
                      f"rows ({shown})", len(violations))
    if "statements_fts" in tables:
        yield from _fts_check(conn)


def _fts_check(conn: sqlite3.Connection) -> Iterator[Problem]:
    conn.execute("BEGIN IMMEDIATE")  # the check is an INSERT: rolled back, nothing written
    try:
        conn.execute("INSERT INTO statements_fts(statements_fts, rank) "
                     "VALUES ('integrity-check', 1)")
    except sqlite3.DatabaseError as exc:
        yield Problem("fts", "error", f"full-text index of statements: {exc}")
    finally:
        conn.execute("ROLLBACK")


def _row_checks(conn: sqlite3.Connection) -> Iterator[Problem]:
    for kind, what, sql in _COUNT_CHECKS:
        rows = [r[0] for r in conn.execute(sql)]
        if rows:
            sample = ", ".join(str(r) for r in rows[:5])
            yield Problem(kind, "error", f"{len(rows)} {what} (e.g. {sample})", len(rows))


def _run_notices(conn: sqlite3.Connection) -> Iterator[Problem]:
    dead = [r[0] for r in conn.execute("SELECT id FROM runs WHERE status = 'running'")]
    if dead:
        yield Problem("dead_run", "notice",
                      f"run(s) {_ids(dead)} left running by a process that died; the next run "
                      "marks them interrupted and reports their changes", len(dead))
    columns = {r[1] for r in conn.execute("PRAGMA table_info(runs)")}
    if "reported_at" in columns:
        unreported = [r[0] for r in conn.execute(
            "SELECT id FROM runs WHERE reported_at IS NULL ORDER BY id")]
        if unreported:
            yield Problem("unreported", "notice",
                          f"run(s) {_ids(unreported)} not reported yet; the next run's report "
                          "carries their changes over", len(unreported))


def _ids(ids: list[int]) -> str:
    return ", ".join(str(i) for i in ids[:10]) + (" …" if len(ids) > 10 else "")
