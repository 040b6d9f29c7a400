"""Queries and writes for pages read from the web (table ``web_urls``, validators in
``locations``). Plain functions on a sqlite-utils ``Database``; :class:`briefwatch.store.Store`
wraps
them with its mutex and transactions."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlite_utils import Database

from briefwatch.store.records import WebState
from briefwatch.store.rows import now_iso, to_json


def web_states(db: Database, urls: Iterable[str]) -> dict[str, WebState]:
    """Conditional-GET state of the stored ones among ``urls``: only locations whose page
    has a stored version (a 304 must mean "the version we have")."""
    rows = db.execute(
        """
        SELECT l.location, l.etag, l.last_modified, l.last_raw_hash, l.status
        FROM locations l JOIN pages p ON p.id = l.page_id
        WHERE l.location IN (SELECT value FROM json_each(?))
          AND p.current_version_id IS NOT NULL
        """,
        [to_json(list(urls))],
    )
    return {location: WebState(etag, last_modified, raw_hash, status)
            for location, etag, last_modified, raw_hash, status in rows}


def set_validators(db: Database, location: str, etag: str | None,
                   last_modified: str | None) -> None:
    db.execute("UPDATE locations SET etag = ?, last_modified = ? WHERE location = ?",
               [etag, last_modified, location])


def already_tracked(db: Database, urls: Iterable[str]) -> set[str]:
    """Those of ``urls`` some source tracks."""
    rows = db.execute(
        "SELECT url FROM web_urls WHERE tracked = 1 "
        "AND url IN (SELECT value FROM json_each(?))",
        [to_json(list(urls))],
    )
    return {row[0] for row in rows}


def track(db: Database, source: str, urls: Sequence[str], run_id: int) -> list[str]:
    """Track ``urls`` for ``source`` from now on; returns those it did not track before (a
    URL another source tracks stays with that source)."""
    added: list[str] = []
    for url in urls:
        row = next(iter(db.query("SELECT source, tracked FROM web_urls WHERE url = ?", [url])),
                   None)
        if row is None:
            db.execute(
                "INSERT INTO web_urls (url, source, tracked, first_run_id, last_run_id) "
                "VALUES (?, ?, 1, ?, ?)", [url, source, run_id, run_id])
        elif row["tracked"]:
            continue  # tracked already, by this source or another one
        else:
            db.execute("UPDATE web_urls SET source = ?, tracked = 1 WHERE url = ?",
                       [source, url])
        added.append(url)
    return added


def tracked(db: Database, source: str) -> list[str]:
    """The URLs ``source`` tracks, in the order they were first tracked."""
    rows = db.execute(
        "SELECT url FROM web_urls WHERE source = ? AND tracked = 1 ORDER BY id", [source])
    return [row[0] for row in rows]


def untrack(db: Database, source: str, keep: Iterable[str]) -> list[str]:
    """Stop tracking ``source``'s URLs that are not in ``keep``; returns them."""
    kept = set(keep)
    dropped = [url for url in tracked(db, source) if url not in kept]
    db.conn.executemany("UPDATE web_urls SET tracked = 0 WHERE url = ?",
                        [(url,) for url in dropped])
    return dropped


def record_fetch(db: Database, run_id: int, url: str, *, outcome: str,
                 http_status: int | None, final_url: str | None,
                 redirects: Sequence[str], error: str | None) -> None:
    """What fetching ``url`` gave in this run (a URL fetched the first time gets a row)."""
    db.execute(
        """
        INSERT INTO web_urls (url, first_run_id, last_run_id, fetched_at, outcome,
                              http_status, final_url, redirects, error)
        VALUES (:url, :run, :run, :at, :outcome, :status, :final, :redirects, :error)
        ON CONFLICT (url) DO UPDATE SET
            last_run_id = :run, fetched_at = :at, outcome = :outcome, http_status = :status,
            final_url = :final, redirects = :redirects, error = :error
        """,
        {"url": url, "run": run_id, "at": now_iso(), "outcome": outcome,
         "status": http_status, "final": final_url,
         "redirects": to_json(list(redirects)) if redirects else None, "error": error},
    )


def web_url(db: Database, url: str) -> dict[str, Any] | None:
    row = next(iter(db.query("SELECT * FROM web_urls WHERE url = ?", [url])), None)
    return None if row is None else dict(row)
