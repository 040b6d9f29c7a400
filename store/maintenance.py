"""Store maintenance: retention of old raw payloads, compaction, and online backups.

**Retention** (:func:`drop_raw`) drops the raw bytes of versions older than N days: the
``blobs`` row stays (``versions.raw_hash`` references it) with an empty ``data``,
``compression = 'dropped'`` and ``dropped_at``; versions, statements, changes, reviews and
runs are not touched, so reports, history, diffs and search work as before. Only a version's
re-parse needs its raw bytes (:meth:`briefwatch.store.Store.load_raw` then raises
``RawDroppedError``).
A blob is dropped only when *every* version that references it is older than the cutoff and,
by default, none of them is a page's current version: the current version's bytes are what a
re-parse of today's page starts from. (The next run's unchanged-bytes check compares hashes,
``locations.last_raw_hash``, never the bytes, so it skips parsing either way.) Bytes that
come back later (a page reverted to an old text) are stored again by the next ingest.

**Compaction** (:func:`vacuum`): ``VACUUM``, ``PRAGMA optimize`` and a
``wal_checkpoint(TRUNCATE)`` — under the store's writer lock, like an ingest run. Plain
``VACUUM`` rather than ``VACUUM INTO`` a copy and a rename: readers (``briefwatch report``,
Datasette) may have the file open, and a rename would leave them on the unlinked old file
while the new one met the old ``-wal``/``-shm`` files. ``VACUUM`` needs free disk of about
twice the compacted size while it runs (a temporary copy, then the WAL).

**Backup** (:func:`backup`): SQLite's online backup API, in one step, from a read
transaction — a consistent snapshot even while an ingest writes (WAL readers do not block
the writer, nor it them); the copy is written next to ``DEST`` under a temporary name,
switched to ``journal_mode=DELETE`` (one self-contained file), checked with
``PRAGMA integrity_check``, then renamed into place.
"""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from briefwatch.errors import StoreError
from briefwatch.store.blobs import DROPPED
from briefwatch.store.db import Store
from briefwatch.store.rows import now_iso

_SECONDS_PER_DAY = 86400.0


@dataclass(frozen=True)
class RetentionPolicy:
    """Drop the raw bytes of versions created more than ``older_than_days`` days before
    ``now`` (default: the current time); ``keep_current`` keeps every page's current
    version's bytes whatever their age."""

    older_than_days: float
    keep_current: bool = True
    now: datetime | None = None

    def cutoff(self) -> str:
        """The ISO timestamp before which a version counts as old (the store's format)."""
        if self.older_than_days < 0:
            raise StoreError(f"retention: days must be >= 0, not {self.older_than_days:g}")
        now = self.now or datetime.now(UTC)
        moment = now - timedelta(seconds=self.older_than_days * _SECONDS_PER_DAY)
        return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass(frozen=True)
class RetentionResult:
    """What retention dropped (or, on a dry run, would drop)."""

    cutoff: str
    keep_current: bool
    blobs_dropped: int
    versions_affected: int
    raw_bytes_dropped: int  # raw (uncompressed) size of the dropped payloads
    stored_bytes_dropped: int  # what they took in the store (compressed)
    blobs_kept_as_current: int  # old enough, kept because a page's current version uses it
    dry_run: bool


@dataclass(frozen=True)
class VacuumResult:
    """One ``briefwatch vacuum``: optional retention, then compaction."""

    path: str
    retention: RetentionResult | None
    file_bytes_before: int  # the .db file plus its -wal
    file_bytes_after: int
    checkpoint_complete: bool  # False: a reader kept the WAL from being emptied
    seconds: float
    dry_run: bool


@dataclass(frozen=True)
class BackupResult:
    source: str
    dest: str
    bytes: int
    pages: int
    page_size: int
    integrity: str
    seconds: float


# ----------------------------------------------------------------- retention

# Hashes of blobs that a version newer than the cutoff (or, optionally, a current version)
# still needs; NOT IN over it is one scan of versions, not one per blob.
_KEPT_SQL = """
    SELECT raw_hash FROM versions WHERE created_at >= :cutoff
    UNION SELECT v.raw_hash FROM pages p JOIN versions v ON v.id = p.current_version_id
    WHERE :keep_current
"""
_CANDIDATES_SQL = f"""
    SELECT b.hash, b.size, length(b.data) AS stored,
           (SELECT count(*) FROM versions v WHERE v.raw_hash = b.hash) AS versions
    FROM blobs b
    WHERE b.compression != '{DROPPED}' AND b.hash NOT IN ({_KEPT_SQL})
"""
_HELD_BY_CURRENT_SQL = f"""
    SELECT count(DISTINCT v.raw_hash) FROM pages p JOIN versions v ON v.id = p.current_version_id
    JOIN blobs b ON b.hash = v.raw_hash
    WHERE b.compression != '{DROPPED}' AND v.raw_hash NOT IN (
        SELECT raw_hash FROM versions WHERE created_at >= :cutoff)
"""


def drop_raw(store: Store, policy: RetentionPolicy, *, dry_run: bool = False
             ) -> RetentionResult:
    """Apply ``policy`` in one transaction (see the module doc); on ``dry_run`` only count.

    The caller holds the store's writer lock (:func:`vacuum` does; the ingest flow applies
    a deployment's ``raw_retention_days`` inside its own lock)."""
    cutoff = policy.cutoff()
    params = {"cutoff": cutoff, "keep_current": int(policy.keep_current)}
    with _store_errors(store, "retention"), store.batch():
        rows = store.db.execute(_CANDIDATES_SQL, params).fetchall()
        held = 0
        if policy.keep_current:
            held = int(store.db.execute(_HELD_BY_CURRENT_SQL, params).fetchone()[0])
        if not dry_run and rows:
            store.db.conn.executemany(
                "UPDATE blobs SET data = x'', compression = ?, dropped_at = ? WHERE hash = ?",
                [(DROPPED, now_iso(), row[0]) for row in rows],
            )
    return RetentionResult(
        cutoff=cutoff,
        keep_current=policy.keep_current,
        blobs_dropped=len(rows),
        versions_affected=sum(int(r[3]) for r in rows),
        raw_bytes_dropped=sum(int(r[1]) for r in rows),
        stored_bytes_dropped=sum(int(r[2]) for r in rows),
        blobs_kept_as_current=held,
        dry_run=dry_run,
    )


# ------------------------------------------------------------------- vacuum


def vacuum(store: Store, policy: RetentionPolicy | None = None, *, dry_run: bool = False,
           lock_wait: float = 0.0) -> VacuumResult:
    """Under the store's writer lock (StoreBusyError if another run holds it longer than
    ``lock_wait`` s): apply ``policy`` if given, then VACUUM, optimize, checkpoint.
    ``dry_run``: report what retention would drop, take no lock, write nothing."""
    started = time.monotonic()
    before = file_bytes(store.path)
    if dry_run:
        retention = None if policy is None else drop_raw(store, policy, dry_run=True)
        return VacuumResult(str(store.path), retention, before, before, True,
                            time.monotonic() - started, True)
    with store.writer_lock(wait=lock_wait):
        retention = None if policy is None else drop_raw(store, policy)
        complete = compact(store)
    return VacuumResult(str(store.path), retention, before, file_bytes(store.path), complete,
                        time.monotonic() - started, False)


def compact(store: Store) -> bool:
    """VACUUM, ``PRAGMA optimize``, then ``wal_checkpoint(TRUNCATE)``; False when a reader
    kept the checkpoint from finishing (the space is reclaimed at a later checkpoint)."""
    with _store_errors(store, "vacuum"):
        conn = store.db.conn
        if conn.in_transaction:
            raise StoreError(f"store {store.path}: vacuum inside a transaction")
        conn.execute("VACUUM")
        conn.execute("PRAGMA optimize")
        busy, _log, _done = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
    return not busy


def file_bytes(path: Path) -> int:
    """Size of the store's file plus its write-ahead log (what it takes on disk)."""
    return sum(p.stat().st_size for p in (path, Path(f"{path}-wal")) if p.exists())


# ------------------------------------------------------------------- backup


def backup(source: str | Path, dest: str | Path, *, force: bool = False) -> BackupResult:
    """A consistent copy of the store at ``source`` in ``dest`` (see the module doc);
    StoreError if ``dest`` exists (unless ``force``), is the source, or the copy fails its
    integrity check (nothing is left at ``dest`` then)."""
    started = time.monotonic()
    source, dest = Path(source), Path(dest)
    if not source.is_file():
        raise StoreError(f"cannot back up {source}: no such file")
    _check_destination(dest)
    if dest.exists() and not force:
        raise StoreError(f"backup: {dest} exists (--force to overwrite it)")
    if dest.exists() and dest.resolve() == source.resolve():
        raise StoreError(f"backup: {dest} is the store itself")
    partial = dest.with_name(f".{dest.name}.partial-{os.getpid()}")
    try:
        pages, page_size, integrity = _copy(source, partial)
        if integrity != "ok":
            raise StoreError(f"backup of {source} failed its integrity check: {integrity}")
        try:
            for stale in (Path(f"{dest}-wal"), Path(f"{dest}-shm"), Path(f"{dest}-journal")):
                stale.unlink(missing_ok=True)  # another database's log must never meet it
            os.replace(partial, dest)
        except OSError as exc:
            raise StoreError(f"backup: cannot write {dest}: {exc.strerror or exc}") from exc
    finally:
        partial.unlink(missing_ok=True)
    return BackupResult(str(source), str(dest), dest.stat().st_size, pages, page_size,
                        integrity, time.monotonic() - started)


def _check_destination(dest: Path) -> None:
    """StoreError naming the destination when the copy cannot be written there: a
    directory, or a folder that is missing, not a folder or not writable."""
    folder = dest.parent
    if dest.is_dir():
        raise StoreError(f"backup: cannot write {dest}: it is a directory (give the file "
                         "to write the copy to)")
    if not folder.is_dir():
        what = "is not a directory" if folder.exists() else "does not exist"
        raise StoreError(f"backup: cannot write {dest}: the folder {folder} {what}")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise StoreError(f"backup: cannot write {dest}: the folder {folder} is not writable")


def _copy(source: Path, partial: Path) -> tuple[int, int, str]:
    partial.unlink(missing_ok=True)
    try:
        # read-write when allowed (it only reads): a read-only connection in WAL mode
        # leaves -wal/-shm files behind, as it may not remove them on close
        writable = os.access(source, os.W_OK) and os.access(source.parent, os.W_OK)
        uri = f"{source.resolve().as_uri()}?mode={'rw' if writable else 'ro'}"
        src = sqlite3.connect(uri, uri=True, timeout=30.0)
        src.execute("SELECT count(*) FROM sqlite_master").fetchone()  # not SQLite: fails
    except sqlite3.Error as exc:
        raise StoreError(f"cannot back up {source}: {exc}") from exc
    with closing(src):
        try:
            out = sqlite3.connect(partial)
            out.execute("PRAGMA user_version").fetchone()
        except sqlite3.Error as exc:
            raise StoreError(f"backup: cannot write in {partial.parent}: {exc}") from exc
        with closing(out):
            try:
                src.backup(out)  # pages=-1: one step, one read snapshot of the source
                out.execute("PRAGMA journal_mode = DELETE")
                integrity = "; ".join(r[0] for r in out.execute("PRAGMA integrity_check"))
                pages = int(out.execute("PRAGMA page_count").fetchone()[0])
                page_size = int(out.execute("PRAGMA page_size").fetchone()[0])
            except sqlite3.Error as exc:
                raise StoreError(f"cannot back up {source} to {partial.parent}: {exc}") from exc
    return pages, page_size, integrity


@contextmanager
def _store_errors(store: Store, what: str) -> Iterator[None]:
    try:
        yield
    except sqlite3.Error as exc:
        raise StoreError(f"store {store.path}: {what} failed: {exc}") from exc
