"""The store's schema, as an ordered set of sqlite-migrate migrations.

Add a change by appending a new ``@MIGRATIONS()`` function (never edit an applied one); a
store opened by this code applies whatever it has not seen yet, inside one immediate
transaction. For example ``m003_change_significance`` adds a column with::

    db.table("changes").add_column("significance", int)

Data model (git-history style item / version / changed rows, plus removals):

- ``runs``: one row per ingest run, with its per-outcome counts once finished.
- ``pages``: one row per page identity (``key``: canonical URL, else file:// URI).
- ``locations``: where bytes were read (file URI or URL), the SOURCE root it was found under
  (gone detection) and the last raw hash (skip parsing identical bytes).
- ``blobs``: raw input bytes, compressed, content-addressed by SHA-256 of the raw bytes.
- ``versions``: the distinct parsed versions of each page (number 1, 2, ...).
- ``statements``: content-addressed statements (``Statement.sid``), shared by versions.
- ``version_statements``: which statement sits at which position of which version.
- ``changes``: flagged statement-level changes between consecutive versions.
- ``page_runs``: each page's (or location's) outcome in each run.
- ``reviews``: review history of changes (newest row per change = its state; view
  ``current_reviews``); ``change_details`` is a readable view of changes for Datasette.
- ``web_urls``: URLs fetched from the web, their last fetch, and the sources.toml source
  that tracks each page found by discovery.
"""

from __future__ import annotations

import json

from sqlite_migrate import Migrations
from sqlite_utils import Database

from briefwatch.diff.significance import assess

MIGRATIONS = Migrations("briefwatch.store")


@MIGRATIONS()
def m001_core(db: Database) -> None:
    """Every table and index of the first schema."""
    db.table("runs").create(
        {
            "id": int,
            "started_at": str,
            "finished_at": str,
            "flow_run_id": str,
            "status": str,
            "sources": str,  # JSON list
            "counts": str,  # JSON object, set by finish_run
            "options": str,  # JSON object
        },
        pk="id",
        not_null=["started_at", "status", "sources"],
        defaults={"status": "running"},
        strict=True,
    )
    db.table("blobs").create(
        {"hash": str, "data": bytes, "size": int, "compression": str},
        pk="hash",
        not_null=["data", "size", "compression"],
        strict=True,
    )
    db.table("pages").create(
        {
            "id": int,
            "key": str,
            "url": str,
            "title": str,
            "status": str,
            "first_run_id": int,
            "last_run_id": int,
            "gone_run_id": int,
            "current_version_id": int,
            "created_at": str,
        },
        pk="id",
        not_null=["key", "status", "first_run_id", "last_run_id", "created_at"],
        defaults={"status": "active"},
        foreign_keys=[
            ("first_run_id", "runs", "id"),
            ("last_run_id", "runs", "id"),
            ("gone_run_id", "runs", "id"),
        ],
        strict=True,
    )
    db.table("versions").create(
        {
            "id": int,
            "page_id": int,
            "number": int,
            "run_id": int,
            "created_at": str,
            "content_hash": str,
            "raw_hash": str,
            "location": str,
            "format": str,
            "title": str,
            "published": str,
            "byline": str,
            "kind": str,
            "canonical_url": str,
            "site": str,
            "headings": str,  # JSON list
            "statement_count": int,
            "extra": str,  # JSON object (Document.extra)
        },
        pk="id",
        not_null=[
            "page_id", "number", "run_id", "created_at", "content_hash", "raw_hash",
            "location", "format", "kind", "headings", "statement_count",
        ],
        foreign_keys=[
            ("page_id", "pages", "id"),
            ("run_id", "runs", "id"),
            ("raw_hash", "blobs", "hash"),
        ],
        strict=True,
    )
    # pages <-> versions reference each other; the second edge is added once both exist.
    db.table("pages").add_foreign_key("current_version_id", "versions", "id")
    # An integer id (plus a unique index on the text) so per-run rows stay small.
    db.table("locations").create(
        {
            "id": int,
            "location": str,
            "source_root": str,
            "page_id": int,
            "status": str,
            "last_raw_hash": str,
            "last_run_id": int,
            "gone_run_id": int,
            "etag": str,
            "last_modified": str,
        },
        pk="id",
        not_null=["location", "source_root", "page_id", "status", "last_raw_hash", "last_run_id"],
        defaults={"status": "active"},
        foreign_keys=[
            ("page_id", "pages", "id"),
            ("last_run_id", "runs", "id"),
            ("gone_run_id", "runs", "id"),
        ],
        strict=True,
    )
    # ``key`` (match key) is NULL when equal to ``text``, as it nearly always is: half the size.
    db.table("statements").create(
        {"id": str, "text": str, "key": str, "speaker": str, "kind": str},
        pk="id",
        not_null=["text", "kind"],
        strict=True,
    )
    # The biggest table: WITHOUT ROWID keeps it to one b-tree (sqlite-utils cannot say that).
    # ``text`` is set only when this version's wording differs from the shared statement's
    # (same match key, different typography), so a rebuilt document is exact.
    db.execute(
        """
        CREATE TABLE "version_statements" (
            "version_id" INTEGER NOT NULL REFERENCES "versions"("id"),
            "position" INTEGER NOT NULL,
            "statement_id" TEXT NOT NULL REFERENCES "statements"("id"),
            "paragraph" INTEGER NOT NULL,
            "section" TEXT,
            "text" TEXT,
            PRIMARY KEY ("version_id", "position")
        ) STRICT, WITHOUT ROWID
        """
    )
    db.table("changes").create(
        {
            "id": int,
            "run_id": int,
            "page_id": int,
            "from_version_id": int,
            "to_version_id": int,
            "type": str,
            "kind": str,
            "position": int,
            "old_position": int,
            "old_statement_id": str,
            "new_statement_id": str,
            "speaker": str,
            "old_speaker": str,
            "numbers": str,  # JSON list of {"old", "new"}
            "words": str,  # JSON list of [op, text]
            "similarity": float,
        },
        pk="id",
        not_null=["run_id", "page_id", "to_version_id", "type", "position", "numbers", "words"],
        foreign_keys=[
            ("run_id", "runs", "id"),
            ("page_id", "pages", "id"),
            ("from_version_id", "versions", "id"),
            ("to_version_id", "versions", "id"),
            ("old_statement_id", "statements", "id"),
            ("new_statement_id", "statements", "id"),
        ],
        strict=True,
    )
    # One row per page per run, so it is kept small: the page's key and location are reached
    # through page_id / location_id; the text columns are set only when there is no such row
    # (a failure of a page never stored, read from a location never stored).
    db.table("page_runs").create(
        {
            "id": int,
            "run_id": int,
            "page_id": int,
            "location_id": int,
            "key": str,
            "location": str,
            "status": str,
            "version_id": int,
            "previous_version_id": int,
            "error": str,
            "note": str,
            "title_change": str,  # JSON or NULL
            "metadata_changes": str,  # JSON object or NULL
            "skipped_parse": int,
        },
        pk="id",
        not_null=["run_id", "status", "skipped_parse"],
        defaults={"skipped_parse": 0},
        foreign_keys=[
            ("run_id", "runs", "id"),
            ("page_id", "pages", "id"),
            ("location_id", "locations", "id"),
            ("version_id", "versions", "id"),
            ("previous_version_id", "versions", "id"),
        ],
        strict=True,
    )
    _indexes(db)


def _indexes(db: Database) -> None:
    db.table("pages").create_index(["key"], unique=True)
    db.table("pages").create_index(["url"])
    db.table("versions").create_index(["page_id", "number"], unique=True)
    db.table("locations").create_index(["location"], unique=True)
    db.table("locations").create_index(["source_root", "status"])
    db.table("locations").create_index(["page_id"])
    db.table("version_statements").create_index(["statement_id", "version_id"])
    db.table("changes").create_index(["run_id", "page_id"])
    db.table("changes").create_index(["to_version_id"])
    # One outcome per location per run (a retry replaces it). NULLs repeat in a unique index:
    # rows of never-stored locations use the text column, superseded-page rows neither.
    db.table("page_runs").create_index(["run_id", "location_id"], unique=True)
    db.table("page_runs").create_index(["run_id", "location"], unique=True)


@MIGRATIONS()
def m002_statements_fts(db: Database) -> None:
    """Full-text search over statement text and speaker, kept current by triggers."""
    db.table("statements").enable_fts(["text", "speaker"], create_triggers=True, tokenize="porter")


@MIGRATIONS()
def m003_change_significance(db: Database) -> None:
    """``changes.significance``: the change's level by ``briefwatch.diff.significance`` when it was
    stored (1 low, 2 medium, 3 high), for SQL browsing; changes stored before are scored now.
    Reports compute the level afresh, so they always follow the current rule."""
    db.table("changes").add_column("significance", int)
    rows = db.query(
        """
        SELECT c.id, c.type, c.kind, c.speaker, c.old_speaker, c.numbers, c.words,
               os.text AS old, ns.text AS new
        FROM changes c
        LEFT JOIN statements os ON os.id = c.old_statement_id
        LEFT JOIN statements ns ON ns.id = c.new_statement_id
        """
    )
    updates = [
        (
            assess(
                type=row["type"], kind=row["kind"], old=row["old"], new=row["new"],
                speaker=row["speaker"], old_speaker=row["old_speaker"],
                numbers=json.loads(row["numbers"]), words=json.loads(row["words"]),
            ).level.value,
            row["id"],
        )
        for row in rows
    ]
    db.conn.executemany("UPDATE changes SET significance = ? WHERE id = ?", updates)


@MIGRATIONS()
def m004_change_reviews(db: Database) -> None:
    """Review state of changes as a history: each ``briefwatch review`` appends a row; a
    change's state is its newest row (view ``current_reviews``), ``unreviewed`` without one."""
    db.execute(
        """
        CREATE TABLE "reviews" (
            "id" INTEGER PRIMARY KEY,
            "change_id" INTEGER NOT NULL REFERENCES "changes"("id"),
            "status" TEXT NOT NULL
                CHECK ("status" IN ('unreviewed', 'reviewed', 'dismissed', 'flagged')),
            "note" TEXT,
            "reviewer" TEXT,
            "created_at" TEXT NOT NULL
        ) STRICT
        """
    )
    db.table("reviews").create_index(["change_id", "id"])
    db.execute(
        """
        CREATE VIEW current_reviews AS
        SELECT r.* FROM reviews r
        WHERE r.id = (SELECT max(x.id) FROM reviews x WHERE x.change_id = r.change_id)
        """
    )


@MIGRATIONS()
def m005_change_details_view(db: Database) -> None:
    """``change_details``: one readable row per stored change (page, versions, texts,
    significance, review state) for Datasette and ad-hoc SQL."""
    db.execute(
        """
        CREATE VIEW change_details AS
        SELECT c.id AS change_id, c.run_id, tv.created_at AS detected_at,
               p.key AS page_key, p.title AS page_title, p.url AS page_url,
               fv.number AS from_version, tv.number AS to_version,
               c.type, c.kind, c.position,
               CASE c.significance WHEN 3 THEN 'high' WHEN 2 THEN 'medium' WHEN 1 THEN 'low'
               END AS significance,
               c.significance AS significance_rank,
               c.old_speaker, c.speaker,
               coalesce(ovs.text, os.text) AS old_text, coalesce(nvs.text, ns.text) AS new_text,
               c.numbers,
               coalesce(cr.status, 'unreviewed') AS review_status, cr.note AS review_note
        FROM changes c
        JOIN pages p ON p.id = c.page_id
        JOIN versions tv ON tv.id = c.to_version_id
        LEFT JOIN versions fv ON fv.id = c.from_version_id
        LEFT JOIN statements os ON os.id = c.old_statement_id
        LEFT JOIN statements ns ON ns.id = c.new_statement_id
        LEFT JOIN version_statements ovs ON ovs.version_id = c.from_version_id
             AND ovs.position = c.old_position AND ovs.statement_id = c.old_statement_id
        LEFT JOIN version_statements nvs ON nvs.version_id = c.to_version_id
             AND nvs.position = c.position AND nvs.statement_id = c.new_statement_id
        LEFT JOIN current_reviews cr ON cr.change_id = c.id
        """
    )


@MIGRATIONS()
def m006_web_urls(db: Database) -> None:
    """``web_urls``: every URL fetched from the web, with what its last fetch gave (HTTP
    status, final URL after redirects, outcome, error), and — for pages found by a
    sources.toml source (feed, sitemap, index page, URL list) — the source that tracks it,
    so it is read again on every run of that source, whether or not the source still lists
    it. The page's ETag / Last-Modified live with its location (``locations``)."""
    db.execute(
        """
        CREATE TABLE "web_urls" (
            "id" INTEGER PRIMARY KEY,
            "url" TEXT NOT NULL UNIQUE,
            "source" TEXT,
            "tracked" INTEGER NOT NULL DEFAULT 0,
            "first_run_id" INTEGER NOT NULL REFERENCES "runs"("id"),
            "last_run_id" INTEGER NOT NULL REFERENCES "runs"("id"),
            "fetched_at" TEXT,
            "outcome" TEXT,
            "http_status" INTEGER,
            "final_url" TEXT,
            "redirects" TEXT,
            "error" TEXT
        ) STRICT
        """
    )
    db.table("web_urls").create_index(["source", "tracked"])


@MIGRATIONS()
def m007_run_kind_and_reporting(db: Database) -> None:
    """``runs.kind``: what the run did (``ingest``; ``reparse`` for a re-parse of stored raw
    versions). ``runs.reported_at`` / ``runs.reported_in``: when the run's report was
    delivered and by which run (itself, or a later run of the same kind that carried over
    the stored changes of a run killed before it could report them); NULL = not reported.
    Runs stored before this migration count as reported (their reports were delivered)."""
    runs = db.table("runs")
    runs.add_column("kind", str, not_null_default="ingest")
    runs.add_column("reported_at", str)
    runs.add_column("reported_in", int)
    db.execute("UPDATE runs SET reported_at = coalesce(finished_at, started_at), "
               "reported_in = id")
    runs.create_index(["kind", "reported_at"])


@MIGRATIONS()
def m008_reparse(db: Database) -> None:
    """Re-parsing stored raw versions with the current parsers (``briefwatch reparse``, a run
    of kind ``reparse``) without losing what earlier runs saw:

    - ``changes.superseded_run_id``: the reparse run after which the change is no longer
      produced by the parsers (its row, reviews and old reports stay; current views skip
      it). NULL: current.
    - ``reparse_versions``: one row per version a reparse run looked at and found different
      (``reparsed``), could not re-read (``raw_not_kept``) or could not parse (``failed``),
      with the version row's parsed fields as they were (``old_version``, JSON) and what the
      new parse sees differently (``detail``, JSON).
    - ``reparse_statements``: the statement list a re-parsed version had before the reparse
      (``version_statements`` rows), so a report of an earlier run is rebuilt as it was.
    - ``reparse_pages``: each page a reparse run changed or could not re-parse, with the
      consecutive-version pairs whose changes it recomputed (``detail``, JSON).
    - view ``change_details`` now lists current changes only.
    """
    db.execute(
        'ALTER TABLE "changes" ADD COLUMN "superseded_run_id" INTEGER REFERENCES "runs"("id")'
    )
    db.table("changes").create_index(["superseded_run_id"])
    db.execute(
        """
        CREATE TABLE "reparse_versions" (
            "run_id" INTEGER NOT NULL REFERENCES "runs"("id"),
            "version_id" INTEGER NOT NULL REFERENCES "versions"("id"),
            "page_id" INTEGER NOT NULL REFERENCES "pages"("id"),
            "outcome" TEXT NOT NULL CHECK ("outcome" IN ('reparsed', 'raw_not_kept', 'failed')),
            "old_version" TEXT,
            "detail" TEXT NOT NULL,
            PRIMARY KEY ("run_id", "version_id")
        ) STRICT
        """
    )
    db.table("reparse_versions").create_index(["version_id", "run_id"])
    db.execute(
        """
        CREATE TABLE "reparse_statements" (
            "run_id" INTEGER NOT NULL REFERENCES "runs"("id"),
            "version_id" INTEGER NOT NULL REFERENCES "versions"("id"),
            "position" INTEGER NOT NULL,
            "statement_id" TEXT NOT NULL REFERENCES "statements"("id"),
            "paragraph" INTEGER NOT NULL,
            "section" TEXT,
            "text" TEXT,
            PRIMARY KEY ("run_id", "version_id", "position")
        ) STRICT, WITHOUT ROWID
        """
    )
    db.execute(
        """
        CREATE TABLE "reparse_pages" (
            "run_id" INTEGER NOT NULL REFERENCES "runs"("id"),
            "page_id" INTEGER NOT NULL REFERENCES "pages"("id"),
            "status" TEXT NOT NULL CHECK ("status" IN ('reparsed', 'unchanged', 'failed')),
            "error" TEXT,
            "detail" TEXT NOT NULL,
            PRIMARY KEY ("run_id", "page_id")
        ) STRICT
        """
    )
    # the view as m005 made it, for current changes only
    (view,) = db.execute(
        "SELECT sql FROM sqlite_master WHERE type = 'view' AND name = 'change_details'"
    ).fetchone()
    db.execute("DROP VIEW change_details")
    db.execute(f"{view.rstrip()}\n        WHERE c.superseded_run_id IS NULL")


@MIGRATIONS()
def m009_blob_retention(db: Database) -> None:
    """``blobs.dropped_at``: when retention (``briefwatch vacuum --drop-raw-older-than``, or a
    deployment's ``raw_retention_days``) dropped the blob's raw bytes. A dropped blob keeps
    its row (``versions.raw_hash`` references it), its ``size``, an empty ``data`` and
    ``compression = 'dropped'``; its versions' statements and changes stay. NULL: kept."""
    db.table("blobs").add_column("dropped_at", str)


@MIGRATIONS()
def m010_version_parse_context(db: Database) -> None:
    """``versions.parse_context``: what the parser was told about the version's raw bytes
    besides the bytes (``briefwatch.parsers.ParseContext`` as a JSON object: the final URL after
    redirects, the format and the charset of the HTTP Content-Type), so a re-parse reads
    them as the ingest did. A column of its own, not ``versions.extra``: that one is parse
    output (``Document.extra``), compared and rewritten by a reparse. NULL: a file (parsed
    by its location alone), or a version stored before this migration."""
    db.table("versions").add_column("parse_context", str)


def known_migrations() -> frozenset[str]:
    """Names of every migration this code knows (all are pending on an empty database)."""
    return frozenset(m.name for m in MIGRATIONS.pending(Database(memory=True)))
