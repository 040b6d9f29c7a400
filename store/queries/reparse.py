"""Store side of ``briefwatch reparse``: what to re-parse, writing one page's re-parse, and
the report of a reparse run.

A reparse is a row of ``runs`` with ``kind = 'reparse'`` (``options``: the page / since
filter and the parser fingerprint; ``counts``: see below). For each page it is one
transaction (``apply_page``): each re-parsed version's previous statements go to
``reparse_statements`` and its previous parsed fields to ``reparse_versions.old_version``;
its ``version_statements`` and version row are replaced; the changes of every consecutive
pair touching a re-parsed version are recomputed — a stored change the new parse no longer
produces is marked ``changes.superseded_run_id`` (never deleted: reviews and old reports
refer to it), one it still produces is kept as is (same versions, type, old and new
statement: its id and reviews stay), a new one is inserted with ``run_id`` = the reparse.

Reparse run report (``Store.run_report`` of a ``reparse`` run; fields are only ever added;
as types: ``briefwatch.contract``)::

    {"run": {"id", "kind": "reparse", "started_at", "finished_at", "flow_run_id": null,
             "status", "sources": [], "options": {"page", "since", "parser"},
             "counts": {new: 0, changed: 0, unchanged, gone: 0, failed, blocked: 0,
                        reparsed, pages, versions, versions_reparsed, versions_identical,
                        raw_not_kept, changes_added, changes_superseded, changes_kept},
             "dry_run"},
     "pages": [{"key", "url", "title", "status": "reparsed" | "unchanged" | "failed",
                "version", "previous_version" (both: the current version number),
                "title_change", "metadata_changes" (of the current version: old parse ->
                new parse), "changes": [change dicts the reparse added, between versions],
                "error", "location": null, "note", "skipped_parse": false, "significance",
                "reparse": {"versions": [{"version", "outcome": "reparsed" |
                                          "raw_not_kept" | "failed", "statements":
                                          {"added", "removed", "changed", "moved",
                                           "reattributed"}, "old_statement_count",
                                          "new_statement_count", "title_change",
                                          "metadata_changes", "layout_only",
                                          "statement_changes": [...], "error"}],
                            "pairs": [{"from_version", "to_version", "added",
                                       "superseded", "kept", "title_change",
                                       "metadata_changes"}],
                            "superseded_changes": [change dicts, superseded_by_run set]}}]}

``counts``: ``reparsed`` pages had a version the new parsers read differently, ``unchanged``
pages none (listed only when a version's raw bytes were not kept), ``failed`` pages could
not be re-parsed (the reason in ``error``; nothing of them was touched). A page's
``statement_changes`` are change dicts (``id`` null) of the old parse against the new parse
of the same raw bytes; ``layout_only``: the statements are the same but their paragraphs,
sections or typography moved.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlite_utils import Database

from briefwatch.contract import Change as ChangeDict
from briefwatch.contract import Page, ReparsePair, ReparseVersion, Report, Run, TitleChange
from briefwatch.model import Change, Document
from briefwatch.store.queries.change import StoredChange, changes_where, without_private
from briefwatch.store.queries.report import page_significance, run_fields, run_summary
from briefwatch.store.records import RunSummary
from briefwatch.store.rows import Row, from_json, now_iso, to_json, version_row

REPARSE_KIND = "reparse"
COUNT_KEYS = (
    "new", "changed", "unchanged", "gone", "failed", "blocked", "reparsed", "pages",
    "versions", "versions_reparsed", "versions_identical", "raw_not_kept", "changes_added",
    "changes_superseded", "changes_kept",
)
# the version row's columns a parse produces (the rest — page, number, run, time, raw bytes,
# location — are the version's identity and history and never change)
PARSED_FIELDS = (
    "content_hash", "format", "title", "published", "byline", "kind", "canonical_url",
    "site", "headings", "statement_count", "extra",
)


@dataclass(frozen=True, slots=True)
class VersionReparse:
    """One version's outcome: ``reparsed`` (``document`` is the new parse), ``raw_not_kept``
    or ``failed``; ``detail``: what the report says about it (JSON-able)."""

    version_id: int
    number: int
    outcome: str
    document: Document | None
    detail: ReparseVersion


@dataclass(frozen=True, slots=True)
class PairReparse:
    """The recomputed changes between two consecutive versions."""

    from_version_id: int
    to_version_id: int
    from_number: int
    to_number: int
    superseded: tuple[int, ...]  # ids of stored changes the new parse does not produce
    kept: tuple[int, ...]  # ids of stored changes it produces again
    added: tuple[Change, ...]  # changes to store
    title_change: TitleChange | None = None
    metadata_changes: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class PageReparse:
    """Everything a reparse writes for one page (``status``: reparsed | unchanged |
    failed; ``current``: the new parse of the page's current version, if re-parsed)."""

    page_id: int
    key: str
    status: str
    versions: tuple[VersionReparse, ...] = ()
    pairs: tuple[PairReparse, ...] = ()
    current: Document | None = None
    error: str | None = None

    @property
    def worth_recording(self) -> bool:
        return self.status != "unchanged" or bool(self.versions)


# ----------------------------------------------------------------------- reads


def selected_pages(db: Database, page_id: int | None, since: str | None) -> list[Row]:
    """Pages (id, key) with at least one version the filters select, by key."""
    where, params = _version_filter(page_id, since)
    return list(db.query(
        f"SELECT p.id, p.key FROM pages p WHERE p.id IN "
        f"(SELECT v.page_id FROM versions v WHERE {where}) ORDER BY p.key",
        params,
    ))


def page_versions(db: Database, page_id: int) -> list[Row]:
    """A page's versions, oldest first: id, number, created_at, location, format,
    content_hash, parse_context (a dict, or None: see schema ``m010_version_parse_context``)."""
    rows = db.query(
        "SELECT id, number, created_at, location, format, content_hash, parse_context "
        "FROM versions WHERE page_id = ? ORDER BY number",
        [page_id],
    )
    return [row | {"parse_context": from_json(row["parse_context"])} for row in rows]


def pair_changes(db: Database, from_version_id: int, to_version_id: int) -> list[Row]:
    """The current (not superseded) stored changes between two versions."""
    return list(db.query(
        "SELECT id, type, old_statement_id, new_statement_id, speaker, old_speaker "
        "FROM changes WHERE from_version_id = ? AND to_version_id = ? "
        "AND superseded_run_id IS NULL ORDER BY id",
        [from_version_id, to_version_id],
    ))


def _version_filter(page_id: int | None, since: str | None) -> tuple[str, list[Any]]:
    clauses: list[str] = ["1"]
    params: list[Any] = []
    if page_id is not None:
        clauses.append("v.page_id = ?")
        params.append(page_id)
    if since is not None:
        clauses.append("v.created_at >= ?")
        params.append(since)
    return " AND ".join(clauses), params


# ---------------------------------------------------------------------- writes


def finish(db: Database, run_id: int, status: str, counts: dict[str, int]) -> None:
    """Close a reparse run; its report is delivered by the command itself (reported_in)."""
    now = now_iso()
    db.execute(
        "UPDATE runs SET finished_at = ?, status = ?, counts = ?, reported_at = ?, "
        "reported_in = id WHERE id = ? AND kind = ?",
        [now, status, to_json(counts), now, run_id, REPARSE_KIND],
    )


def archive_version(db: Database, run_id: int, version: VersionReparse, page_id: int) -> None:
    """Keep a version's statements and parsed fields as they are, before they are replaced
    (``version.outcome`` reparsed), or just record the outcome (raw_not_kept, failed)."""
    old = None
    if version.outcome == "reparsed":
        row = next(iter(db.query(
            f"SELECT {', '.join(PARSED_FIELDS)} FROM versions WHERE id = ?",
            [version.version_id])))
        old = to_json(dict(row))
        db.execute(
            "INSERT INTO reparse_statements (run_id, version_id, position, statement_id, "
            "paragraph, section, text) SELECT ?, version_id, position, statement_id, "
            "paragraph, section, text FROM version_statements WHERE version_id = ?",
            [run_id, version.version_id],
        )
    db.execute(
        "INSERT INTO reparse_versions (run_id, version_id, page_id, outcome, old_version, "
        "detail) VALUES (?, ?, ?, ?, ?, ?)",
        [run_id, version.version_id, page_id, version.outcome, old, to_json(version.detail)],
    )


def replace_version_fields(db: Database, version_id: int, doc: Document) -> None:
    """Set the version row's parsed fields from ``doc`` (its statements are written apart)."""
    row = version_row(doc, page_id=0, number=0, run_id=0, created_at="",
                      content_hash=doc.content_hash(), raw_hash="", location="")
    db.execute(
        f"UPDATE versions SET {', '.join(f'{c} = ?' for c in PARSED_FIELDS)} WHERE id = ?",
        [*(row[c] for c in PARSED_FIELDS), version_id],
    )
    db.execute("DELETE FROM version_statements WHERE version_id = ?", [version_id])


def supersede(db: Database, run_id: int, change_ids: Sequence[int]) -> None:
    db.conn.executemany(
        "UPDATE changes SET superseded_run_id = ? WHERE id = ? AND superseded_run_id IS NULL",
        [(run_id, change_id) for change_id in change_ids],
    )


def set_page_current(db: Database, page_id: int, doc: Document) -> None:
    """The page's title and canonical URL from the new parse of its current version."""
    db.execute("UPDATE pages SET title = ?, url = ? WHERE id = ?",
               [doc.title, doc.url, page_id])


def record_page(db: Database, run_id: int, page: PageReparse) -> None:
    pairs = [
        {"from_version": p.from_number, "to_version": p.to_number, "added": len(p.added),
         "superseded": len(p.superseded), "kept": len(p.kept),
         "title_change": p.title_change, "metadata_changes": p.metadata_changes}
        for p in page.pairs
    ]
    db.execute(
        "INSERT INTO reparse_pages (run_id, page_id, status, error, detail) "
        "VALUES (?, ?, ?, ?, ?)",
        [run_id, page.page_id, page.status, page.error, to_json({"pairs": pairs})],
    )


# ---------------------------------------------------------------------- report


def is_reparse_run(db: Database, run_id: int) -> bool:
    row = next(iter(db.query("SELECT kind FROM runs WHERE id = ?", [run_id])), None)
    return row is not None and row["kind"] == REPARSE_KIND


def report(db: Database, run_id: int) -> Report:
    """The report of reparse run ``run_id`` (shape: the module docstring)."""
    summary = run_summary(db, run_id)
    counts = dict.fromkeys(COUNT_KEYS, 0) | summary.counts
    if summary.status == "interrupted":  # died before it counted: what it wrote
        counts |= written_counts(db, run_id)
    versions = _versions_by_page(db, run_id)
    added = grouped_by_page(changes_where(db, "c.run_id = ?", [run_id]))
    superseded = grouped_by_page(changes_where(db, "c.superseded_run_id = ?", [run_id]))
    pages = [
        page_entry(row, versions.get(row["page_id"], []), from_json(row["detail"])["pairs"],
                   added.get(row["page_id"], []), superseded.get(row["page_id"], []))
        for row in db.query(
            """
            SELECT rp.page_id, rp.status, rp.error, rp.detail, p.key, p.url, p.title,
                   cv.number AS version
            FROM reparse_pages rp JOIN pages p ON p.id = rp.page_id
            LEFT JOIN versions cv ON cv.id = p.current_version_id
            WHERE rp.run_id = ? ORDER BY p.key
            """,
            [run_id],
        )
    ]
    return report_shape(summary_dict(summary, counts), pages, dry_run=False)


def written_counts(db: Database, run_id: int) -> dict[str, int]:
    """The counts a reparse run's rows give (pages and versions found identical leave no
    row: those counts stay as stored)."""
    counts: dict[str, int] = {}
    for status, n in db.execute(
            "SELECT status, count(*) FROM reparse_pages WHERE run_id = ? GROUP BY status",
            [run_id]):
        counts[status] = n
    for outcome, n in db.execute(
            "SELECT outcome, count(*) FROM reparse_versions WHERE run_id = ? "
            "AND outcome != 'failed' GROUP BY outcome", [run_id]):
        counts["versions_reparsed" if outcome == "reparsed" else outcome] = n
    for key, column in (("changes_added", "run_id"), ("changes_superseded",
                                                       "superseded_run_id")):
        (counts[key],) = db.execute(
            f"SELECT count(*) FROM changes WHERE {column} = ?", [run_id]).fetchone()
    return counts


def summary_dict(summary: RunSummary, counts: dict[str, int]) -> Run:
    return {"id": summary.id, "kind": REPARSE_KIND, **run_fields(summary, counts)}


def report_shape(run: Run, pages: list[Page], *, dry_run: bool) -> Report:
    order = {"failed": 0, "reparsed": 1, "unchanged": 2}
    pages.sort(key=lambda p: (order.get(p["status"], 3), p["key"]))
    return {"run": run | {"dry_run": dry_run}, "pages": pages}


def page_entry(
    row: Mapping[str, Any], versions: list[ReparseVersion], pairs: list[ReparsePair],
    added: list[ChangeDict], superseded: list[ChangeDict],
) -> Page:
    """One page of a reparse report (``row``: key, url, title, version, status, error)."""
    current = next((v for v in versions if v["version"] == row["version"]), None)
    entry: Page = {
        "key": row["key"],
        "url": row["url"],
        "title": row["title"],
        "status": row["status"],
        "version": row["version"],
        "previous_version": row["version"],
        "title_change": None if current is None else current.get("title_change"),
        "metadata_changes": {} if current is None else current.get("metadata_changes") or {},
        "changes": added,
        "error": row["error"],
        "location": None,
        "note": page_note(versions, pairs),
        "skipped_parse": False,
        "reparse": {"versions": versions, "pairs": pairs, "superseded_changes": superseded},
        "significance": None,
    }
    entry["significance"] = page_significance(
        {"status": "changed", "changes": added, "title_change": entry["title_change"]})
    return entry


def page_note(versions: list[ReparseVersion], pairs: list[ReparsePair]) -> str | None:
    reparsed = sum(v["outcome"] == "reparsed" for v in versions)
    parts = []
    if reparsed:
        parts.append(f"{reparsed} version(s) re-parsed differently")
    missing = [v["version"] for v in versions if v["outcome"] == "raw_not_kept"]
    if missing:
        parts.append("raw not kept: " + ", ".join(f"v{n}" for n in missing))
    added = sum(p["added"] for p in pairs)
    superseded = sum(p["superseded"] for p in pairs)
    if added or superseded:
        parts.append(f"changes between versions: {added} added, {superseded} superseded")
    return "; ".join(parts) or None


def grouped_by_page(changes: list[StoredChange]) -> dict[int, list[ChangeDict]]:
    by_page: dict[int, list[ChangeDict]] = {}
    for stored in changes:
        change, page_id = without_private(stored)
        by_page.setdefault(page_id, []).append(change)
    return by_page


def _versions_by_page(db: Database, run_id: int) -> dict[int, list[ReparseVersion]]:
    by_page: dict[int, list[ReparseVersion]] = {}
    for row in db.query(
        "SELECT rv.page_id, rv.detail FROM reparse_versions rv "
        "JOIN versions v ON v.id = rv.version_id WHERE rv.run_id = ? ORDER BY v.number",
        [run_id],
    ):
        by_page.setdefault(row["page_id"], []).append(from_json(row["detail"]))
    return by_page


