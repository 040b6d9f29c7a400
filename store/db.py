"""The SQLite store: every version of every page, their statements and flagged changes.

One ``Store`` wraps one sqlite-utils ``Database`` (WAL, foreign keys on, busy timeout). Each
``record_*`` call is one transaction; inside ``Store.batch()`` each becomes a savepoint of
the batch's transaction, so a chunk of pages costs one commit and a failing page still
rolls back alone. The connection may be shared by threads; calls are serialised.

Caller protocol for one page (see ``flows``):

1. ``location_state(location)``; if its ``last_raw_hash`` equals the new bytes' hash,
   ``record_unchanged(...)`` and stop (no parse).
2. Parse; ``previous = latest_document(doc.key)`` (by page key, not location: a page seen
   before under another location is the same page); diff against ``previous.document``.
3. ``record_page(run_id, PageWrite(location, source_root, raw, raw_hash, doc, diff, previous))``,
   or ``record_failure`` on error.
4. At the end of a run, ``mark_gone`` per SOURCE root, then ``finish_run``.

Pages fetched from the web (``briefwatch.pipeline.web``) also use ``record_gone`` (404/410),
``record_blocked`` (a bot-block page), ``set_validators`` (ETag / Last-Modified for the next
conditional GET) and the ``web_urls`` table (``track_urls``, ``record_fetch``).
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from functools import wraps
from itertools import chain, islice
from operator import itemgetter
from pathlib import Path
from typing import Any, Concatenate, ParamSpec, TypeVar

from sqlite_utils import Database

from briefwatch.contract import ChangeDetail, Report, RunRow
from briefwatch.errors import RawDroppedError, RunNotFoundError, StoreError
from briefwatch.model import Document, PageDiff, Statement
from briefwatch.store.blobs import DROPPED, Compression, compress, decompress
from briefwatch.store.lock import WriterLock
from briefwatch.store.queries import reparse as reparse_data
from briefwatch.store.queries import report as report_data
from briefwatch.store.queries import review as review_data
from briefwatch.store.queries import runs as runs_data
from briefwatch.store.queries import web as web_data
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
from briefwatch.store.rows import (
    PAGE_RUN_SQL,
    PageRunRow,
    Row,
    change_rows,
    document_from_rows,
    membership_rows,
    now_iso,
    statement_rows,
    to_json,
    version_row,
)
from briefwatch.store.schema import MIGRATIONS, known_migrations

P = ParamSpec("P")
T = TypeVar("T")

# rows per multi-row INSERT: at most 500, and at most 999 bound values (the limit of SQLite
# builds before 3.32), as sqlite-utils does
_INSERT_ROWS, _MAX_VARIABLES = 500, 999

_CURRENT_SQL = """
    SELECT v.id, v.number, v.content_hash FROM versions v WHERE v.id = ?
"""


def _serialised(
    method: Callable[Concatenate[Store, P], T],
) -> Callable[Concatenate[Store, P], T]:
    """Run the method under the store's mutex, mapping SQLite errors to StoreError."""

    @wraps(method)
    def wrapper(self: Store, /, *args: P.args, **kwargs: P.kwargs) -> T:
        with self._mutex:
            try:
                return method(self, *args, **kwargs)
            except sqlite3.Error as exc:
                raise StoreError(f"store {self.path}: {method.__name__} failed: {exc}") from exc

    return wrapper


class Store:
    """A briefwatch SQLite store (created and migrated on open); a context manager.

    The write side (``record_*``, ``mark_gone``, runs, reparse) is here; the read side's SQL
    is in ``briefwatch.store.queries``. The read methods that hand a query module's result
    through stay on purpose: each runs under the store's mutex (one SQLite connection is
    shared by the flow's task threads and the fetcher's threads) and turns ``sqlite3.Error``
    into a ``StoreError`` naming the store file, so no caller outside ``store/`` touches a
    ``Database`` handle or a raw SQLite error.
    """

    def __init__(
        self,
        path: str | Path,
        *,
        create: bool = True,
        compression: Compression = "zlib",
        busy_timeout: float = 30.0,
    ) -> None:
        self.path = Path(path)
        self.compression: Compression = compression
        self._mutex = threading.RLock()
        self._writer: WriterLock | None = None
        self.db = _open(self.path, create=create, busy_timeout=busy_timeout)

    # ----------------------------------------------------------------- lifecycle

    def close(self) -> None:
        with self._mutex:
            if self._writer is not None:
                self._writer.release()
                self._writer = None
            self.db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def writer_lock(self, *, wait: float = 0.0) -> Iterator[None]:
        """Hold the exclusive run lock; StoreBusyError if another holder keeps it ``wait`` s."""
        if self._writer is not None:
            raise StoreError(f"store {self.path}: this Store already holds the writer lock")
        lock = WriterLock(self.path)
        lock.acquire(wait=wait)
        self._writer = lock
        try:
            yield
        finally:
            self._writer = None
            lock.release()

    @contextmanager
    def batch(self) -> Iterator[None]:
        """Group many ``record_*`` calls into one transaction (each call is a savepoint)."""
        with self._mutex:
            try:
                with self.db.atomic():
                    yield
            except sqlite3.Error as exc:
                raise StoreError(f"store {self.path}: batch failed: {exc}") from exc

    @contextmanager
    def _transaction(self) -> Iterator[Database]:
        with self._mutex, self.db.atomic():
            yield self.db

    # ---------------------------------------------------------------------- runs

    @_serialised
    def start_run(
        self,
        sources: Sequence[str],
        *,
        flow_run_id: str | None = None,
        options: dict[str, Any] | None = None,
        kind: str = "ingest",
    ) -> int:
        """Record a new run (``kind``: ``ingest``, or ``reparse``); its id.

        When this Store holds the writer lock, runs still ``running`` are dead (their
        holder's lock is gone): they become ``interrupted``, with their outcome counts.
        """
        with self._transaction() as db:
            if self._writer is not None:
                _interrupt_dead_runs(db)
            table = db.table("runs")
            table.insert(
                {
                    "started_at": now_iso(),
                    "flow_run_id": flow_run_id,
                    "status": RunStatus.RUNNING.value,
                    "sources": to_json(list(sources)),
                    "options": to_json(options or {}),
                    "kind": kind,
                }
            )
            run_id = table.last_rowid
            assert run_id is not None
        if self._writer is not None:
            self._writer.set_run(run_id)
        return run_id

    @_serialised
    def set_flow_run_id(self, run_id: int, flow_run_id: str) -> None:
        with self._transaction() as db:
            cursor = db.execute(
                "UPDATE runs SET flow_run_id = ? WHERE id = ?", [flow_run_id, run_id]
            )
            if cursor.rowcount == 0:
                raise RunNotFoundError(f"no run {run_id} in store {self.path}")

    @_serialised
    def finish_run(self, run_id: int, *, status: str = "completed",
                   reported: bool = True) -> RunSummary:
        """The run is over: its status and outcome counts. ``reported``: its report counts
        as delivered at once (a caller that reads it from the store); the ingest flow passes
        False and calls ``mark_reported`` once it has delivered the report, so a run killed
        in between is carried over by the next run's report (``briefwatch.store.carryover``)."""
        if status not in (RunStatus.COMPLETED, RunStatus.FAILED):
            raise StoreError(f"finish_run: status must be 'completed' or 'failed', not {status!r}")
        run_status = RunStatus(status)
        with self._transaction() as db:
            counts = report_data.outcome_counts(db, run_id)
            cursor = db.execute(
                "UPDATE runs SET finished_at = ?, status = ?, counts = ? WHERE id = ?",
                [now_iso(), run_status.value, to_json(counts), run_id],
            )
            if cursor.rowcount == 0:
                raise RunNotFoundError(f"no run {run_id} in store {self.path}")
            if reported:
                report_data.mark_reported(db, run_id, now_iso())
            return report_data.run_summary(db, run_id)

    @_serialised
    def mark_reported(self, run_id: int, *, lock_wait: float = 30.0) -> list[int]:
        """Run ``run_id``'s report was delivered: set ``reported_at`` / ``reported_in`` on it
        and on every earlier unreported run of its kind (their changes were carried over
        into it). Returns the ids marked. Done under the writer lock: taken here (waiting up
        to ``lock_wait`` s) unless this Store holds it already."""
        lock = None
        if self._writer is None:
            lock = WriterLock(self.path)
            lock.acquire(wait=lock_wait)
        try:
            with self._transaction() as db:
                return report_data.mark_reported(db, run_id, now_iso())
        finally:
            if lock is not None:
                lock.release()

    @_serialised
    def run_summary(self, run: int | str = "latest") -> RunSummary:
        return report_data.run_summary(self.db, report_data.resolve_run(self.db, run))

    @_serialised
    def runs(self, limit: int = 50, *, kind: str | None = None) -> list[RunSummary]:
        """The most recent runs (of ``kind``, e.g. "ingest", when given), newest first."""
        sql, params = runs_data.newest_runs_sql("id", limit=limit, kind=kind)
        ids = [r[0] for r in self.db.execute(sql, params)]
        return [report_data.run_summary(self.db, run_id) for run_id in ids]

    @_serialised
    def run_rows(self, limit: int = 20, *, kind: str | None = None) -> list[RunRow]:
        """The most recent runs as ``briefwatch runs`` lists them (of ``kind`` when given),
        newest first (see ``briefwatch.store.queries.runs``)."""
        return runs_data.run_rows(self.db, limit=limit, kind=kind)

    # --------------------------------------------------------------------- reads

    @_serialised
    def location_state(self, location: str) -> LocationState | None:
        """What the store knows about ``location``; None if it was never recorded."""
        row = _first(
            self.db,
            """
            SELECT l.location, l.source_root, l.status, l.page_id, p.key,
                   p.status AS page_status, l.last_raw_hash, l.last_run_id,
                   p.current_version_id, v.number AS current_version, v.content_hash,
                   l.etag, l.last_modified
            FROM locations l
            JOIN pages p ON p.id = l.page_id
            LEFT JOIN versions v ON v.id = p.current_version_id
            WHERE l.location = ?
            """,
            [location],
        )
        return None if row is None else LocationState(**row)

    @_serialised
    def location_hashes(self, locations: Iterable[str]) -> dict[str, str]:
        """Last raw hash of each known location among ``locations`` (one query)."""
        rows = self.db.execute(
            "SELECT location, last_raw_hash FROM locations "
            "WHERE location IN (SELECT value FROM json_each(?))",
            [to_json(list(locations))],
        )
        return dict(rows.fetchall())

    @_serialised
    def latest_document(self, key: str) -> StoredVersion | None:
        """The page's current version with its document; None if the key is not stored."""
        row = _first(self.db, "SELECT current_version_id FROM pages WHERE key = ?", [key])
        if row is None or row["current_version_id"] is None:
            return None
        return self._stored_version(row["current_version_id"])

    @_serialised
    def rekey_page(self, old_key: str, new_key: str) -> None:
        """A page moved to a new canonical URL: its history continues under ``new_key``.

        Raises StoreError when ``old_key`` is unknown or ``new_key`` is already a page.
        """
        with self._transaction() as db:
            if _first(db, "SELECT id FROM pages WHERE key = ?", [new_key]) is not None:
                raise StoreError(f"cannot move page {old_key} to {new_key}: already a page")
            cursor = db.execute(
                "UPDATE pages SET key = ?, url = ? WHERE key = ?", [new_key, new_key, old_key]
            )
            if cursor.rowcount != 1:
                raise StoreError(f"cannot move page {old_key}: no such page")

    @_serialised
    def load_document(self, version_id: int) -> Document:
        return self._stored_version(version_id).document

    @_serialised
    def load_version(self, version_id: int) -> StoredVersion:
        return self._stored_version(version_id)

    @_serialised
    def load_raw(self, version_id: int) -> bytes:
        """The raw bytes a version was parsed from; RawDroppedError if retention dropped
        them (``briefwatch.store.maintenance``), StoreError if there is no such version."""
        row = _first(
            self.db,
            "SELECT b.hash, b.data, b.compression, b.dropped_at, v.number, p.key "
            "FROM versions v JOIN blobs b ON b.hash = v.raw_hash "
            "JOIN pages p ON p.id = v.page_id WHERE v.id = ?",
            [version_id],
        )
        if row is None:
            raise StoreError(f"no version {version_id} in store {self.path}")
        if row["compression"] == DROPPED:
            raise RawDroppedError(
                f"raw bytes of version {row['number']} of {row['key']} were dropped on "
                f"{str(row['dropped_at'])[:10]} by retention (its statements and changes "
                "are kept)"
            )
        return decompress(row["data"], row["compression"], blob_hash=row["hash"])

    def _stored_version(self, version_id: int) -> StoredVersion:
        version = _first(
            self.db,
            "SELECT v.*, p.key FROM versions v JOIN pages p ON p.id = v.page_id WHERE v.id = ?",
            [version_id],
        )
        if version is None:
            raise StoreError(f"no version {version_id} in store {self.path}")
        statements = self.db.query(
            """
            SELECT vs.position, vs.paragraph, vs.section, coalesce(vs.text, s.text) AS text,
                   s.speaker, s.kind, s.id AS sid, coalesce(s.key, s.text) AS key
            FROM version_statements vs JOIN statements s ON s.id = vs.statement_id
            WHERE vs.version_id = ? ORDER BY vs.position
            """,
            [version_id],
        )
        return StoredVersion(
            version_id=version["id"],
            number=version["number"],
            page_id=version["page_id"],
            key=version["key"],
            content_hash=version["content_hash"],
            raw_hash=version["raw_hash"],
            run_id=version["run_id"],
            created_at=version["created_at"],
            document=document_from_rows(version["key"], version, statements),
        )

    # -------------------------------------------------------------------- writes

    @_serialised
    def record_unchanged(
        self, run_id: int, *, location: str, source_root: str, raw_hash: str
    ) -> None:
        """The page at a known ``location`` is unchanged (same bytes, or same content hash).

        ``skipped_parse`` is set when ``raw_hash`` equals the location's last raw hash.
        """
        with self._transaction() as db:
            row = _first(
                db,
                "SELECT l.id, l.page_id, l.last_raw_hash, p.status, p.current_version_id "
                "FROM locations l JOIN pages p ON p.id = l.page_id WHERE l.location = ?",
                [location],
            )
            if row is None:
                raise StoreError(
                    f"record_unchanged: location {location} is not in store {self.path}"
                )
            db.execute(
                "UPDATE locations SET last_raw_hash = ?, last_run_id = ?, source_root = ?, "
                "status = 'active', gone_run_id = NULL WHERE id = ?",
                [raw_hash, run_id, source_root, row["id"]],
            )
            _touch_page(db, row["page_id"], run_id)
            _write_page_run(db, PageRunRow(
                run_id=run_id,
                page_id=row["page_id"],
                location_id=row["id"],
                status=Outcome.UNCHANGED,
                version_id=row["current_version_id"],
                previous_version_id=row["current_version_id"],
                note="restored" if row["status"] == PageStatus.GONE else None,
                skipped_parse=row["last_raw_hash"] == raw_hash,
            ))

    @_serialised
    def record_page(self, run_id: int, page: PageWrite) -> PageOutcome:
        """Store a parsed page in one transaction (a new version only if its content changed).

        ``page.previous`` must be what ``latest_document(page.doc.key)`` returned (the version
        the diff was computed against); a stale one raises StoreError and nothing is written.
        """
        doc, diff = page.doc, page.diff
        content_hash = doc.content_hash()
        with self._transaction() as db:
            row = _first(
                db, "SELECT id, status, current_version_id FROM pages WHERE key = ?", [doc.key]
            )
            if row is None:
                page_id, current = _insert_page(db, doc, run_id), None
            else:
                page_id, current = row["id"], _version_head(db, row["current_version_id"])
            _check_previous(doc.key, current, page.previous)
            note = "restored" if row is not None and row["status"] == PageStatus.GONE else None
            if current is not None and current["content_hash"] == content_hash:
                outcome, version_id, number = Outcome.UNCHANGED, current["id"], current["number"]
                _touch_page(db, page_id, run_id)
            else:
                number = 1 if current is None else current["number"] + 1
                outcome = Outcome.NEW if current is None else Outcome.CHANGED
                version_id = self._write_version(db, page, page_id=page_id, number=number,
                                                 run_id=run_id, content_hash=content_hash)
                if current is not None and diff is not None:
                    _write_changes(db, diff, run_id, page_id, current["id"], version_id)
                _set_current(db, page_id, doc, version_id, run_id)
            location_id, left_page = _upsert_location(
                db, page.location, page.source_root, page_id, page.raw_hash, run_id
            )
            previous_id = None if current is None else current["id"]
            diffed = diff if previous_id is not None else None
            _write_page_run(db, PageRunRow(
                run_id=run_id,
                page_id=page_id,
                location_id=location_id,
                status=outcome,
                version_id=version_id,
                previous_version_id=previous_id,
                note=note,
                title_change=None if diffed is None else diffed.title_change,
                metadata_changes=None if diffed is None else diffed.metadata_changes,
            ))
            if left_page is not None:
                _retire_if_orphaned(db, left_page, run_id, location_id=None,
                                    location=page.location, now_key=doc.key)
        return PageOutcome(
            key=doc.key,
            page_id=page_id,
            status=outcome,
            version_id=version_id,
            version=number,
            previous_version=None if current is None else current["number"],
            note=note,
        )

    def _write_version(self, db: Database, page: PageWrite, *, page_id: int, number: int,
                       run_id: int, content_hash: str) -> int:
        self._write_blob(db, page.raw_hash, page.raw, page.compressed_raw)
        row = version_row(
            page.doc,
            page_id=page_id,
            number=number,
            run_id=run_id,
            created_at=now_iso(),
            content_hash=content_hash,
            raw_hash=page.raw_hash,
            location=page.location,
            parse_context=page.parse_context,
        )
        version_id = _insert(db, "versions", row)
        _write_statements(db, version_id, [(stmt, stmt.sid) for stmt in page.doc.statements])
        return version_id

    def _write_blob(
        self, db: Database, raw_hash: str, raw: bytes, compressed: tuple[str, bytes] | None
    ) -> None:
        known = _first(db, "SELECT compression FROM blobs WHERE hash = ?", [raw_hash])
        if known is not None and known["compression"] != DROPPED:
            return
        if compressed is not None and compressed[0] == self.compression:
            data = compressed[1]
        else:
            data = compress(raw, self.compression)
        if known is not None:  # bytes retention dropped came back: keep them again
            db.execute(
                "UPDATE blobs SET data = ?, compression = ?, dropped_at = NULL WHERE hash = ?",
                [data, self.compression, raw_hash],
            )
            return
        db.table("blobs").insert(
            {"hash": raw_hash, "data": data, "size": len(raw), "compression": self.compression}
        )

    @_serialised
    def record_failure(
        self, run_id: int, *, location: str, source_root: str, key: str | None, error: str
    ) -> None:
        """A page failed this run; only a ``page_runs`` row is written, nothing else changes.

        ``source_root`` is accepted for symmetry; a failed location counts as seen by
        ``mark_gone`` (its page keeps its status).
        """
        del source_root  # not needed: nothing about the location changes
        with self._transaction() as db:
            _write_problem(db, run_id, location, key, Outcome.FAILED, error)

    @_serialised
    def record_blocked(self, run_id: int, *, location: str, error: str) -> None:
        """The site answered a bot-block / WAF / captcha page instead of the page at
        ``location``: a ``blocked`` outcome with the reason; nothing else changes."""
        with self._transaction() as db:
            _write_problem(db, run_id, location, None, Outcome.BLOCKED, error)

    @_serialised
    def record_gone(self, run_id: int, *, location: str, reason: str) -> str:
        """``location`` (a URL) answered 404 / 410: the location is gone, and its page too
        when no other location of it is active; history is kept. Returns what was written:

        - ``"gone"``: the page is gone as of this run (reported once, ``reason`` in note);
        - ``"still_gone"``: the location was gone already; nothing is reported again;
        - ``"failed"``: nothing was ever stored from it, or its page is still read from
          another location (a failed outcome with ``reason``).
        """
        with self._transaction() as db:
            row = _first(db, "SELECT id, page_id, status FROM locations WHERE location = ?",
                         [location])
            if row is None:
                _write_problem(db, run_id, location, None, Outcome.FAILED,
                               f"{reason}: nothing was ever read from this URL")
                return "failed"
            if row["status"] == PageStatus.GONE:
                return "still_gone"
            db.execute("UPDATE locations SET status = 'gone', gone_run_id = ? WHERE id = ?",
                       [run_id, row["id"]])
            key = _retire_if_orphaned(db, row["page_id"], run_id, location_id=row["id"],
                                      location=location)
            if key is None:
                _write_problem(db, run_id, location, None, Outcome.FAILED,
                               f"{reason}; the page is still read from another location")
                return "failed"
            db.execute("UPDATE page_runs SET note = ? WHERE run_id = ? AND location_id = ?",
                       [reason, run_id, row["id"]])
            return "gone"

    @_serialised
    def mark_gone(self, run_id: int, *, source_root: str, seen_locations: set[str]) -> list[str]:
        """Mark locations under ``source_root`` not seen this run as gone; return page keys
        that became gone (a page is gone once none of its locations is active).

        Locations with any outcome in this run (including failures) count as seen.
        """
        with self._transaction() as db:
            in_run = {
                r[0]
                for r in db.execute(
                    "SELECT location_id FROM page_runs "
                    "WHERE run_id = ? AND location_id IS NOT NULL",
                    [run_id],
                )
            }
            missing = [
                (location_id, location, page_id)
                for location_id, location, page_id in db.execute(
                    "SELECT id, location, page_id FROM locations "
                    "WHERE source_root = ? AND status = 'active' ORDER BY location",
                    [source_root],
                )
                if location not in seen_locations and location_id not in in_run
            ]
            db.conn.executemany(
                "UPDATE locations SET status = 'gone', gone_run_id = ? WHERE id = ?",
                [(run_id, location_id) for location_id, _, _ in missing],
            )
            gone: list[str] = []
            for location_id, location, page_id in missing:
                key = _retire_if_orphaned(
                    db, page_id, run_id, location_id=location_id, location=location
                )
                if key is not None:
                    gone.append(key)
            return sorted(gone)

    # ----------------------------------------------------------------------- web

    @_serialised
    def web_states(self, urls: Iterable[str]) -> dict[str, WebState]:
        """ETag, Last-Modified and last raw hash of the stored ones among ``urls``."""
        return web_data.web_states(self.db, urls)

    @_serialised
    def set_validators(self, location: str, *, etag: str | None,
                       last_modified: str | None) -> None:
        """Keep a stored location's ETag / Last-Modified for its next conditional GET."""
        with self._transaction() as db:
            web_data.set_validators(db, location, etag, last_modified)

    @_serialised
    def already_tracked(self, urls: Iterable[str]) -> set[str]:
        return web_data.already_tracked(self.db, urls)

    @_serialised
    def track_urls(self, source: str, urls: Sequence[str], run_id: int) -> list[str]:
        """Track ``urls`` for the sources.toml source ``source``; returns the new ones."""
        with self._transaction() as db:
            return web_data.track(db, source, urls, run_id)

    @_serialised
    def tracked_urls(self, source: str) -> list[str]:
        return web_data.tracked(self.db, source)

    @_serialised
    def untrack_urls(self, source: str, keep: Iterable[str]) -> list[str]:
        with self._transaction() as db:
            return web_data.untrack(db, source, keep)

    @_serialised
    def record_fetch(self, run_id: int, url: str, *, outcome: str, http_status: int | None,
                     final_url: str | None, redirects: Sequence[str] = (),
                     error: str | None = None) -> None:
        """What fetching ``url`` gave this run (table ``web_urls``)."""
        with self._transaction() as db:
            web_data.record_fetch(db, run_id, url, outcome=outcome, http_status=http_status,
                                  final_url=final_url, redirects=redirects, error=error)

    @_serialised
    def web_url(self, url: str) -> dict[str, Any] | None:
        return web_data.web_url(self.db, url)

    # ------------------------------------------------------------------- reparse

    def start_reparse(self, options: dict[str, Any]) -> int:
        """Record a run of kind ``reparse`` (``briefwatch.pipeline.reparse``); hold the writer lock
        (runs a dead process left ``running`` become ``interrupted``, as for any run)."""
        return self.start_run([], options=options, kind=reparse_data.REPARSE_KIND)

    @_serialised
    def finish_reparse(self, run_id: int, *, status: str, counts: dict[str, int]) -> None:
        with self._transaction() as db:
            reparse_data.finish(db, run_id, RunStatus(status).value, counts)

    @_serialised
    def reparse_selection(self, page: str | None, since: str | None) -> list[tuple[int, str]]:
        """(id, key) of the pages with a version the filters select (``page``: key, URL or
        location; ``since``: versions created at or after it), by key."""
        page_id = None if page is None else report_data.resolve_page(self.db, page)
        return [(r["id"], r["key"]) for r in reparse_data.selected_pages(self.db, page_id, since)]

    @_serialised
    def reparse_versions(self, page_id: int) -> list[dict[str, Any]]:
        """A page's versions, oldest first (``briefwatch.store.queries.reparse.page_versions``)."""
        return reparse_data.page_versions(self.db, page_id)

    @_serialised
    def pair_changes(self, from_version_id: int, to_version_id: int) -> list[dict[str, Any]]:
        """Current stored changes between two versions (id, type, statement ids, speakers)."""
        return reparse_data.pair_changes(self.db, from_version_id, to_version_id)

    @_serialised
    def apply_reparse(self, run_id: int, page: reparse_data.PageReparse) -> None:
        """Write one page's re-parse in one transaction (see
        ``briefwatch.store.queries.reparse``)."""
        with self._transaction() as db:
            for version in page.versions:
                reparse_data.archive_version(db, run_id, version, page.page_id)
                if version.outcome == "reparsed" and version.document is not None:
                    reparse_data.replace_version_fields(db, version.version_id, version.document)
                    _write_statements(db, version.version_id,
                                      [(s, s.sid) for s in version.document.statements])
            for pair in page.pairs:
                reparse_data.supersede(db, run_id, pair.superseded)
                if pair.added:
                    _write_changes(db, PageDiff(pair.added, {}, None), run_id, page.page_id,
                                   pair.from_version_id, pair.to_version_id)
            if page.current is not None:
                reparse_data.set_page_current(db, page.page_id, page.current)
            if page.worth_recording:
                reparse_data.record_page(db, run_id, page)

    # ------------------------------------------------------------------- queries

    @_serialised
    def run_report(self, run: int | str = "latest") -> Report:
        """The run's JSON report (see ``briefwatch.store.queries.report`` for the contract; a
        reparse
        run's: ``briefwatch.store.queries.reparse``)."""
        run_id = report_data.resolve_run(self.db, run)
        if reparse_data.is_reparse_run(self.db, run_id):
            return reparse_data.report(self.db, run_id)
        return report_data.run_report(self.db, run_id)

    @_serialised
    def history(self, page: str) -> list[VersionInfo]:
        """Versions of a page (by key, URL or location), newest first."""
        return report_data.history(self.db, page)

    @_serialised
    def pages(self) -> list[PageSummary]:
        return report_data.pages(self.db)

    @_serialised
    def search(
        self, query: str, limit: int = 50, *, speaker: str | None = None
    ) -> list[SearchHit]:
        """Full-text search over statement text and speaker (words, porter stemming); with
        ``speaker``, only statements by speakers whose name contains it (any case)."""
        speakers = None if speaker is None else review_data.speakers_matching(self.db, speaker)
        return report_data.search(self.db, query, limit, speakers)

    # ------------------------------------------------------------ review tools

    @_serialised
    def page_timeline(self, page: str) -> dict[str, Any]:
        """A page's versions, newest first, each with the changes that made it
        (see ``briefwatch.store.queries.review.timeline``)."""
        return review_data.timeline(self.db, page)

    @_serialised
    def version_id(self, page: str, number: int) -> int:
        """The id of version ``number`` of a page; VersionNotFoundError if it has none."""
        return review_data.version_id(self.db, page, number)

    @_serialised
    def current_version_number(self, page: str) -> int:
        return review_data.current_version_number(self.db, page)

    @_serialised
    def page_key(self, page: str) -> str:
        """The key of a page given by key, URL or location (PageNotFoundError otherwise)."""
        return str(review_data.page_info(self.db, report_data.resolve_page(self.db, page))["key"])

    @_serialised
    def speakers(self, query: str) -> list[str]:
        """Speaker names containing ``query`` (case-insensitive)."""
        return review_data.speakers_matching(self.db, query)

    @_serialised
    def speaker_view(self, query: str) -> dict[str, Any]:
        """Statements and changes of speakers matching ``query`` (see
        ``briefwatch.store.queries.review.speaker_view``)."""
        return review_data.speaker_view(self.db, query)

    @_serialised
    def change(self, change_id: int) -> ChangeDetail:
        """One stored change with its page and review history; ChangeNotFoundError."""
        return review_data.change_detail(self.db, change_id)

    @_serialised
    def review(
        self,
        change_id: int,
        status: ReviewStatus | str,
        *,
        note: str | None = None,
        reviewer: str | None = None,
    ) -> ReviewRecord:
        """Record a review of a change (appended to its history; the newest one counts)."""
        try:
            review_status = ReviewStatus(status)
        except ValueError:
            choices = ", ".join(s.value for s in ReviewStatus)
            raise StoreError(f"unknown review status {status!r}; choose {choices}") from None
        with self._transaction() as db:
            return review_data.add_review(db, change_id, review_status, note, reviewer)

    @_serialised
    def reviews(self, change_id: int) -> list[ReviewRecord]:
        """A change's review history, oldest first."""
        return review_data.reviews(self.db, change_id)


# ------------------------------------------------------------------ opening


def _open(path: Path, *, create: bool, busy_timeout: float) -> Database:
    if not create and not path.is_file():
        raise StoreError(f"cannot open store {path}: no such file")
    try:
        uri = f"{path.resolve().as_uri()}?mode={'rwc' if create else 'rw'}"
        conn = sqlite3.connect(uri, uri=True, timeout=busy_timeout, check_same_thread=False)
    except (sqlite3.Error, OSError, ValueError) as exc:
        raise StoreError(f"cannot open store {path}: {exc}") from exc
    try:
        db = Database(conn, execute_plugins=False)
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout * 1000)}")
        db.enable_wal()
        conn.execute("PRAGMA synchronous = NORMAL")  # WAL: durable across crashes, fewer fsyncs
        # 64 MiB page cache (default 2 MiB): statement ids are hashes, so inserts land all over
        # the statement indexes; at 10,000 pages this cut write CPU by a fifth
        conn.execute("PRAGMA cache_size = -65536")
        _migrate(db, path)
    except (sqlite3.Error, StoreError) as exc:
        conn.close()
        if isinstance(exc, StoreError):
            raise
        raise StoreError(f"cannot open store {path}: {exc}") from exc
    return db


def _migrate(db: Database, path: Path) -> None:
    unknown = {m.name for m in MIGRATIONS.applied(db)} - known_migrations()
    if unknown:
        raise StoreError(
            f"cannot open store {path}: it was written by a newer briefwatch "
            f"(unknown migrations: {', '.join(sorted(unknown))})"
        )
    if not MIGRATIONS.pending(db):
        return
    # IMMEDIATE: two processes opening a new store at once must not both create tables.
    db.conn.execute("BEGIN IMMEDIATE")
    try:
        MIGRATIONS.apply(db)
    except BaseException:
        db.conn.rollback()
        raise
    db.conn.execute("COMMIT")


# ------------------------------------------------------------ write helpers


def _first(db: Database, sql: str, params: Sequence[Any]) -> Row | None:
    return next(iter(db.query(sql, params)), None)


def _interrupt_dead_runs(db: Database) -> None:
    """Runs left ``running`` by a process that died become ``interrupted`` (counts kept)."""
    dead = [r[0] for r in db.execute("SELECT id FROM runs WHERE status = ?",
                                     [RunStatus.RUNNING.value])]
    for run_id in dead:
        db.execute(
            "UPDATE runs SET status = ?, counts = ? WHERE id = ?",
            [RunStatus.INTERRUPTED.value, to_json(report_data.outcome_counts(db, run_id)),
             run_id],
        )


def _insert(db: Database, table: str, row: Row) -> int:
    cursor = db.execute(
        f"INSERT INTO {table} ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})",
        list(row.values()),
    )
    assert cursor.lastrowid is not None
    return cursor.lastrowid


def _version_head(db: Database, version_id: int | None) -> Row | None:
    return None if version_id is None else _first(db, _CURRENT_SQL, [version_id])


def _check_previous(key: str, current: Row | None, previous: StoredVersion | None) -> None:
    current_id = None if current is None else current["id"]
    previous_id = None if previous is None else previous.version_id
    if current_id != previous_id:
        raise StoreError(
            f"record_page {key}: stale previous version (diffed against version id "
            f"{previous_id}, current is {current_id}); load latest_document and diff again"
        )


def _insert_page(db: Database, doc: Document, run_id: int) -> int:
    return _insert(
        db,
        "pages",
        {
            "key": doc.key,
            "url": doc.url,
            "title": doc.title,
            "status": PageStatus.ACTIVE.value,
            "first_run_id": run_id,
            "last_run_id": run_id,
            "created_at": now_iso(),
        },
    )


def _touch_page(db: Database, page_id: int, run_id: int) -> None:
    db.execute(
        "UPDATE pages SET last_run_id = ?, status = 'active', gone_run_id = NULL WHERE id = ?",
        [run_id, page_id],
    )


def _set_current(db: Database, page_id: int, doc: Document, version_id: int, run_id: int) -> None:
    db.execute(
        "UPDATE pages SET current_version_id = ?, title = ?, url = ?, last_run_id = ?, "
        "status = 'active', gone_run_id = NULL WHERE id = ?",
        [version_id, doc.title, doc.url, run_id, page_id],
    )


def _write_statements(db: Database, version_id: int, pairs: list[tuple[Statement, str]]) -> None:
    """Insert the statements the store lacks, then the version's membership rows."""
    shared: dict[str, str] = dict(
        db.execute(
            "SELECT id, text FROM statements WHERE id IN (SELECT value FROM json_each(?))",
            [to_json([sid for _, sid in pairs])],
        ).fetchall()
    )
    missing: dict[str, Statement] = {}
    for stmt, sid in pairs:
        if sid not in shared and sid not in missing:
            missing[sid] = stmt
    _insert_rows(db, "statements", statement_rows((s, sid) for sid, s in missing.items()))
    shared.update((sid, stmt.text) for sid, stmt in missing.items())
    _insert_rows(db, "version_statements", membership_rows(version_id, pairs, shared))


def _insert_rows(db: Database, table: str, rows: Iterable[Row], *, ignore: bool = False) -> None:
    """INSERT (OR IGNORE) rows that all have the same keys and plain SQL values.

    Multi-row INSERTs of up to 500 rows, as sqlite-utils' ``insert_all`` writes them (they
    measured faster than ``executemany``), built here directly: ``insert_all`` spent more
    Python time per row (type checks, JSON conversion) than SQLite spent storing it.
    """
    iterator = iter(rows)
    first = next(iterator, None)
    if first is None:
        return
    columns = list(first)
    values = itemgetter(*columns)
    head = (
        f"INSERT {'OR IGNORE ' if ignore else ''}INTO [{table}] "
        f"({', '.join(f'[{c}]' for c in columns)}) VALUES "
    )
    one_row = f"({', '.join('?' * len(columns))})"
    per_statement = max(1, min(_INSERT_ROWS, _MAX_VARIABLES // len(columns)))
    pending = chain([first], iterator)
    while batch := list(islice(pending, per_statement)):
        if len(columns) == 1:
            params = [row[columns[0]] for row in batch]
        else:
            params = [value for row in batch for value in values(row)]
        db.conn.execute(head + ", ".join([one_row] * len(batch)), params)


def _write_changes(
    db: Database, diff: PageDiff, run_id: int, page_id: int, from_id: int, to_id: int
) -> None:
    # Old-side statements were stored with the previous version; insert-or-ignore anyway
    # so a diff against an equivalent document can never break the foreign key.
    old_side = [(c.old, c.old.sid) for c in diff.changes if c.old is not None]
    _insert_rows(db, "statements", statement_rows(old_side), ignore=True)
    rows = change_rows(
        diff.changes, run_id=run_id, page_id=page_id, from_version_id=from_id, to_version_id=to_id
    )
    _insert_rows(db, "changes", rows)


def _upsert_location(
    db: Database, location: str, source_root: str, page_id: int, raw_hash: str, run_id: int
) -> tuple[int, int | None]:
    """Point ``location`` at ``page_id``; return its id and the page it pointed at before,
    if that was another page."""
    before = _first(db, "SELECT id, page_id FROM locations WHERE location = ?", [location])
    values = {
        "source_root": source_root,
        "page_id": page_id,
        "status": "active",
        "last_raw_hash": raw_hash,
        "last_run_id": run_id,
        "gone_run_id": None,
    }
    if before is None:
        location_id = db.table("locations").insert({"location": location, **values}).last_rowid
        assert location_id is not None
        # a failure recorded earlier in this run for the then-unknown location is replaced
        db.execute(
            "DELETE FROM page_runs WHERE run_id = ? AND location = ?", [run_id, location]
        )
        return location_id, None
    db.table("locations").update(before["id"], values)
    left = None if before["page_id"] == page_id else int(before["page_id"])
    return int(before["id"]), left


def _retire_if_orphaned(
    db: Database,
    page_id: int,
    run_id: int,
    *,
    location_id: int | None,
    location: str,
    now_key: str | None = None,
) -> str | None:
    """Mark an active page gone if none of its locations is active; return its key if so.

    ``location_id`` is the location that went away (None when the location now yields
    another page, ``now_key``: the row then names no location).
    """
    page = _first(db, "SELECT key, status, current_version_id FROM pages WHERE id = ?", [page_id])
    if page is None or page["status"] != PageStatus.ACTIVE:
        return None
    active = _first(
        db,
        "SELECT 1 AS x FROM locations WHERE page_id = ? AND status = 'active' LIMIT 1",
        [page_id],
    )
    if active is not None:
        return None
    db.execute(
        "UPDATE pages SET status = 'gone', gone_run_id = ? WHERE id = ?", [run_id, page_id]
    )
    _write_page_run(db, PageRunRow(
        run_id=run_id,
        page_id=page_id,
        location_id=location_id,
        status=Outcome.GONE,
        version_id=page["current_version_id"],
        previous_version_id=page["current_version_id"],
        note=None if now_key is None else f"superseded: {location} is now page {now_key}",
    ))
    return str(page["key"])


def _write_problem(
    db: Database, run_id: int, location: str, key: str | None, status: Outcome, error: str
) -> None:
    """A failed / blocked outcome of ``location`` (page ``key`` if known); nothing else."""
    known = _first(
        db,
        "SELECT l.id, p.id AS page_id, p.current_version_id FROM locations l "
        "JOIN pages p ON p.id = l.page_id WHERE l.location = ?",
        [location],
    )
    page = known
    if key is not None:
        page = _first(
            db, "SELECT id AS page_id, current_version_id FROM pages WHERE key = ?", [key]
        ) or known
    current = None if page is None else page["current_version_id"]
    _write_page_run(db, PageRunRow(
        run_id=run_id,
        page_id=None if page is None else page["page_id"],
        location_id=None if known is None else known["id"],
        key=key if page is None else None,
        location=location if known is None else None,
        status=status,
        version_id=current,
        previous_version_id=current,
        error=error,
    ))


def _write_page_run(db: Database, row: PageRunRow) -> None:
    """Insert a page's outcome row; a retry of the same location in the same run replaces it."""
    db.execute(PAGE_RUN_SQL, row.values())
