"""Read-side queries: run reports, page histories, page lists, search.

Run report JSON contract (other tools read it; fields may be added, never renamed/dropped;
as types: ``briefwatch.contract``, published as ``docs/report.schema.json``)::

    {"run": {"id", "started_at", "finished_at", "flow_run_id", "counts": {new, changed,
             unchanged, gone, failed, + blocked}, + "status", "sources", "options",
             + "own_counts", "carried_over": {"runs", "interrupted", "contributing_runs",
             "pages", "changes"}},
     "pages": [{"key", "url", "title", "status", "version", "previous_version",
                "title_change", "metadata_changes", "changes": [...], "error",
                + "location", "note", "skipped_parse", "significance",
                + "carried_from_runs"}]}

- Carry-over (see ``briefwatch.store.carryover``): a run killed before its report was delivered
  (``runs.reported_at`` NULL; status ``interrupted`` once the next run noticed it, or
  ``completed`` if it died while delivering) stored changes nobody saw. The report of the
  next run of its kind merges them into its pages: ``carried_from_runs`` lists the earlier
  runs a page's outcomes came from ([] for a page of this run alone); a page unchanged now
  but changed in killed run K is ``changed`` with K's changes; changed in both, it shows
  ``previous_version`` from before K and both runs' changes (each change names its
  ``run_id``, ``from_version``, ``to_version``). ``counts`` counts the merged pages (so a
  consumer alerting on ``counts.changed`` misses nothing); ``own_counts`` are the run's own
  outcomes (what ``runs.counts`` stores); ``carried_over.runs`` lists the earlier unreported
  runs, ``interrupted`` those among them that died, ``contributing_runs`` those that gave
  pages, ``pages`` / ``changes`` how many came from them. Runs not reported before run R
  are the same whenever R's report is made, so a regenerated report is identical.

- ``version`` is the page's version number after the run, ``previous_version`` the one
  before it: new -> (1, null); changed -> (n+1, n); unchanged, gone and failed -> (n, n);
  a failure of a never-stored page -> (null, null).
- ``changes``: a changed page's flagged changes in diff order; every statement of a new page
  as ``added`` (``id`` null: no change rows are stored for new pages); ``[]`` otherwise.
  Each change: ``id, type, kind, speaker, old_speaker, old, new, numbers, words,
  similarity, position, old_position``, + ``significance``, ``significance_reason``,
  ``review_status``, ``review_note``, ``reviewed_at``, ``reviewer``, ``run_id``,
  ``from_version``, ``to_version``, ``superseded_by_run`` (see ``briefwatch.store.queries.change``).
  ``speaker`` is the new side's speaker (the old side's for removed), ``old_speaker`` the
  old side's (null for added); ``position`` is the new side's position (the old side's
  for removed).
- A run's report shows what the run saw: a change a later ``briefwatch reparse`` no
  longer produces stays, with ``superseded_by_run`` set to that reparse run's id; the
  statements and titles of versions a later reparse rewrote are shown as they were
  (``briefwatch.store.queries.archive``). A run of kind ``reparse`` has a report of its own shape
  (``briefwatch.store.queries.reparse``).
- ``status`` is one of new, changed, unchanged, gone, failed and (pages fetched from the
  web) ``blocked``: the site answered with a bot-block / WAF / captcha page, the reason is
  in ``error`` and nothing was stored (like failed). A web page that answered 404/410 is
  ``gone`` once, with the HTTP status in ``note``; when it comes back, ``note`` is
  ``restored`` (and a changed page carries its diff against its last version).
- Pages are ordered failed, blocked, changed, new, gone, unchanged, then by key and
  location (then ``carried_from_runs``: a page failed now, changed in a killed run, has
  two entries).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

from sqlite_utils import Database

from briefwatch.contract import Change, Page, Report, Run
from briefwatch.diff.significance import page_level, parse_level
from briefwatch.errors import PageNotFoundError, RunNotFoundError, StoreError
from briefwatch.store.carryover import (
    CARRIED_STATUSES,
    PageDict,
    carried_summary,
    merge_carried,
    page_counts,
)
from briefwatch.store.queries.archive import added_as_seen, titles_as_seen
from briefwatch.store.queries.change import added_dict, changes_where, grouped_by_version
from briefwatch.store.records import (
    OUTCOMES,
    REPORT_ORDER,
    PageSummary,
    RunSummary,
    SearchHit,
    VersionInfo,
)
from briefwatch.store.rows import Row, from_json, to_json

_ORDER = {outcome.value: index for index, outcome in enumerate(REPORT_ORDER)}


def _first(db: Database, sql: str, params: Sequence[Any]) -> Row | None:
    return next(iter(db.query(sql, params)), None)


# --------------------------------------------------------------------- runs


def resolve_run(db: Database, run: int | str) -> int:
    """A run id from an id, a numeric string or "latest"; RunNotFoundError otherwise."""
    if run == "latest":
        row = _first(db, "SELECT max(id) AS id FROM runs", [])
        if row is None or row["id"] is None:
            raise RunNotFoundError("the store has no runs yet")
        return int(row["id"])
    try:
        run_id = int(run)
    except ValueError:
        raise RunNotFoundError(f"no run {run!r}: expected a run id or 'latest'") from None
    if _first(db, "SELECT id FROM runs WHERE id = ?", [run_id]) is None:
        raise RunNotFoundError(f"no run {run_id}")
    return run_id


def outcome_counts(db: Database, run_id: int) -> dict[str, int]:
    counts = dict.fromkeys(OUTCOMES, 0)
    for status, count in db.execute(
        "SELECT status, count(*) FROM page_runs WHERE run_id = ? GROUP BY status", [run_id]
    ):
        counts[status] = count
    return counts


def stored_counts(db: Database, row: Row) -> dict[str, int]:
    """A ``runs`` row's outcome counts: as stored when it finished, else (running, or killed
    before it counted) its outcomes so far; outcomes added since it ran count 0."""
    counts = dict.fromkeys(OUTCOMES, 0)
    counts.update(from_json(row["counts"]) if row["counts"] else outcome_counts(db, row["id"]))
    return counts


def run_summary(db: Database, run_id: int) -> RunSummary:
    row = _first(db, "SELECT * FROM runs WHERE id = ?", [run_id])
    if row is None:
        raise RunNotFoundError(f"no run {run_id}")
    return RunSummary(
        id=row["id"],
        status=row["status"],
        started_at=row["started_at"],
        finished_at=row["finished_at"],
        flow_run_id=row["flow_run_id"],
        sources=tuple(from_json(row["sources"])),
        counts=stored_counts(db, row),
        options=from_json(row["options"]) or {},
    )


def run_report(db: Database, run_id: int) -> Report:
    summary = run_summary(db, run_id)
    carried = carried_runs(db, run_id)
    entries = _page_entries(db, [run_id])
    counts = summary.counts
    if carried:
        earlier = _page_entries(db, [r["id"] for r in carried], statuses=CARRIED_STATUSES)
        entries = merge_carried(run_id, entries, earlier, page_significance)
        counts = page_counts(entries, list(summary.counts))
    else:
        entries = [{**page, "carried_from_runs": []} for page in entries]
    for entry in entries:
        entry.pop("_page_id", None)
        entry.pop("_run_id", None)
    pages: list[Page] = list(entries)
    pages.sort(key=lambda p: (_ORDER[p["status"]], p["key"], p["location"] or "",
                              p["carried_from_runs"]))
    return {
        "run": {
            **run_fields(summary, counts),
            "own_counts": summary.counts,
            "carried_over": carried_summary(pages, carried),
        },
        "pages": pages,
    }


def run_fields(summary: RunSummary, counts: dict[str, int]) -> Run:
    """The ``run`` object's fields every report kind shares (ingest and reparse)."""
    return {
        "id": summary.id,
        "started_at": summary.started_at,
        "finished_at": summary.finished_at,
        "flow_run_id": summary.flow_run_id,
        "counts": counts,
        "status": summary.status,
        "sources": list(summary.sources),
        "options": summary.options,
    }


def carried_runs(db: Database, run_id: int) -> list[dict[str, Any]]:
    """Earlier runs of run ``run_id``'s kind that were not reported before it (id, status),
    oldest first: never reported, or reported by ``run_id`` or a later run. Whether the
    report is made now or regenerated later, the answer is the same. A run still
    ``running`` is not one of them (its process may be alive; the next run that takes the
    writer lock marks a dead one ``interrupted``)."""
    return [dict(row) for row in db.query(
        """
        SELECT k.id, k.status FROM runs k JOIN runs r ON r.id = ?
        WHERE k.kind = r.kind AND k.id < r.id AND k.status != 'running'
          AND (k.reported_in IS NULL OR k.reported_in >= r.id)
        ORDER BY k.id
        """,
        [run_id],
    )]


def mark_reported(db: Database, run_id: int, when: str) -> list[int]:
    """Run ``run_id``'s report was delivered: it and every earlier unreported run of its
    kind (carried over into it) are reported, in ``run_id``. Returns the ids marked."""
    row = _first(db, "SELECT kind FROM runs WHERE id = ?", [run_id])
    if row is None:
        raise RunNotFoundError(f"no run {run_id}")
    ids = [r[0] for r in db.execute(
        "SELECT id FROM runs WHERE kind = ? AND id <= ? AND reported_at IS NULL ORDER BY id",
        [row["kind"], run_id])]
    db.conn.executemany("UPDATE runs SET reported_at = ?, reported_in = ? WHERE id = ?",
                        [(when, run_id, i) for i in ids])
    return ids


def _page_entries(db: Database, run_ids: Sequence[int],
                  statuses: Sequence[str] = OUTCOMES) -> list[PageDict]:
    """Report page entries of the runs' outcomes with one of ``statuses`` (with the private
    ``_page_id`` / ``_run_id`` keys)."""
    params = [to_json(list(run_ids)), to_json(list(statuses))]
    changes = _changes_by_version(db, run_ids)
    added = _added_by_version(db, run_ids)
    return [
        {**_page_entry(row, changes, added), "_page_id": row["page_id"], "_run_id": row["run_id"]}
        for row in titles_as_seen(db, max(run_ids), db.query(
            """
            SELECT coalesce(pr.key, p.key, pr.location) AS key,
                   coalesce(l.location, pr.location) AS location,
                   pr.status, pr.version_id, pr.error, pr.note, pr.title_change,
                   pr.metadata_changes, pr.skipped_parse, pr.run_id, pr.page_id,
                   p.url, p.title AS page_title, v.number AS version,
                   v.title AS version_title, pv.number AS previous_version
            FROM page_runs pr
            LEFT JOIN pages p ON p.id = pr.page_id
            LEFT JOIN locations l ON l.id = pr.location_id
            LEFT JOIN versions v ON v.id = pr.version_id
            LEFT JOIN versions pv ON pv.id = pr.previous_version_id
            WHERE pr.run_id IN (SELECT value FROM json_each(?))
              AND pr.status IN (SELECT value FROM json_each(?))
            """,
            params,
        ))
    ]


def _page_entry(
    row: Row, changes: dict[int, list[Change]], added: dict[int, list[Change]]
) -> Page:
    status = row["status"]
    version_id = row["version_id"]
    if status == "changed":
        page_changes = changes.get(version_id, [])
    elif status == "new":
        page_changes = added.get(version_id, [])
    else:
        page_changes = []
    title = row["version_title"] if version_id is not None else row["page_title"]
    entry: Page = {
        "key": row["key"],
        "url": row["url"],
        "title": title,
        "status": status,
        "version": row["version"],
        "previous_version": row["previous_version"],
        "title_change": from_json(row["title_change"]),
        "metadata_changes": from_json(row["metadata_changes"]) or {},
        "changes": page_changes,
        "error": row["error"],
        "location": row["location"],
        "note": row["note"],
        "skipped_parse": bool(row["skipped_parse"]),
        "significance": None,
    }
    entry["significance"] = page_significance(entry)
    return entry


def _changes_by_version(db: Database, run_ids: Sequence[int]) -> dict[int, list[Change]]:
    return grouped_by_version(changes_where(
        db, "c.run_id IN (SELECT value FROM json_each(?))", [to_json(list(run_ids))]))


def _added_by_version(db: Database, run_ids: Sequence[int]) -> dict[int, list[Change]]:
    grouped: dict[int, list[Change]] = defaultdict(list)
    for row in db.query(
        """
        SELECT pr.version_id, pr.run_id, v.number, vs.position,
               coalesce(vs.text, s.text) AS text, s.speaker, s.kind
        FROM page_runs pr
        JOIN versions v ON v.id = pr.version_id
        JOIN version_statements vs ON vs.version_id = pr.version_id
        JOIN statements s ON s.id = vs.statement_id
        WHERE pr.run_id IN (SELECT value FROM json_each(?)) AND pr.status = 'new'
        ORDER BY pr.version_id, vs.position
        """,
        [to_json(list(run_ids))],
    ):
        grouped[row["version_id"]].append(
            added_dict(row, run_id=row["run_id"], version=row["number"]))
    return added_as_seen(db, max(run_ids, default=0), grouped)  # re-parsed since: as it was


def page_significance(page: Mapping[str, Any]) -> str | None:
    """A report page's level (see ``briefwatch.diff.significance.page_level``) as its label."""
    level = page_level(
        page["status"],
        (parse_level(c["significance"]) for c in page.get("changes") or ()
         if c.get("significance")),
        title_changed=bool(page.get("title_change")),
    )
    return None if level is None else level.label


# -------------------------------------------------------------------- pages


def resolve_page(db: Database, page: str) -> int:
    """A page id from its key, its canonical URL or a location it was read from."""
    for sql in (
        "SELECT id FROM pages WHERE key = ?",
        "SELECT id FROM pages WHERE url = ? ORDER BY id LIMIT 1",
        "SELECT page_id AS id FROM locations WHERE location = ?",
    ):
        row = _first(db, sql, [page])
        if row is not None:
            return int(row["id"])
    raise PageNotFoundError(f"no page {page!r} in the store (tried key, URL and location)")


def history(db: Database, page: str) -> list[VersionInfo]:
    page_id = resolve_page(db, page)
    counts: dict[int, dict[str, int]] = defaultdict(dict)
    for version_id, change_type, count in db.execute(
        "SELECT to_version_id, type, count(*) FROM changes "
        "WHERE to_version_id IN (SELECT id FROM versions WHERE page_id = ?) "
        "AND superseded_run_id IS NULL "
        "GROUP BY to_version_id, type",
        [page_id],
    ):
        counts[version_id][change_type] = count
    return [
        VersionInfo(
            version_id=row["id"],
            number=row["number"],
            run_id=row["run_id"],
            created_at=row["created_at"],
            content_hash=row["content_hash"],
            raw_hash=row["raw_hash"],
            location=row["location"],
            title=row["title"],
            statement_count=row["statement_count"],
            changes=counts.get(row["id"], {}),
        )
        for row in db.query(
            "SELECT id, number, run_id, created_at, content_hash, raw_hash, location, title, "
            "statement_count FROM versions WHERE page_id = ? ORDER BY number DESC",
            [page_id],
        )
    ]


def pages(db: Database) -> list[PageSummary]:
    return [
        PageSummary(**row)
        for row in db.query(
            """
            SELECT p.key, p.url, p.title, p.status,
                   (SELECT count(*) FROM versions v WHERE v.page_id = p.id) AS versions,
                   p.first_run_id, p.last_run_id,
                   cv.run_id AS last_changed_run_id, cv.created_at AS last_changed_at
            FROM pages p LEFT JOIN versions cv ON cv.id = p.current_version_id
            ORDER BY p.key
            """
        )
    ]


def search(
    db: Database, query: str, limit: int, speakers: Sequence[str] | None = None
) -> list[SearchHit]:
    """Statements matching ``query`` (each word quoted: no FTS syntax), best first; with
    ``speakers``, only statements by one of them (exact names)."""
    if not query.strip():
        raise StoreError("search: the query is empty")
    speaker_filter = ""
    if speakers is not None:
        speaker_filter = (
            "AND statements_fts.rowid IN (SELECT rowid FROM statements "
            "WHERE speaker IN (SELECT value FROM json_each(:speakers)))"
        )
    rows = db.query(
        f"""
        WITH hits AS (
            SELECT rowid, rank FROM statements_fts WHERE statements_fts MATCH :q
            {speaker_filter}
            ORDER BY rank LIMIT :limit
        )
        SELECT s.id AS statement_id, s.text, s.speaker, s.kind, p.key, p.title, p.url,
               max(v.number) AS version, vs.position, v.id = p.current_version_id AS current,
               hits.rank
        FROM hits
        JOIN statements s ON s.rowid = hits.rowid
        JOIN version_statements vs ON vs.statement_id = s.id
        JOIN versions v ON v.id = vs.version_id
        JOIN pages p ON p.id = v.page_id
        GROUP BY s.id, p.id
        ORDER BY hits.rank, p.key
        LIMIT :limit
        """,
        {"q": db.quote_fts(query), "limit": limit, "speakers": to_json(list(speakers or []))},
    )
    return [
        SearchHit(
            statement_id=row["statement_id"],
            text=row["text"],
            speaker=row["speaker"],
            kind=row["kind"],
            key=row["key"],
            version=row["version"],
            position=row["position"],
            current=bool(row["current"]),
            title=row["title"],
            url=row["url"],
        )
        for row in rows
    ]
