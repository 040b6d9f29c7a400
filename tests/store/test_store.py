"""The SQLite store: real files, real transactions, real locks."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from briefwatch.errors import PageNotFoundError, RunNotFoundError, StoreBusyError, StoreError
from briefwatch.model import (
    Change,
    ChangeType,
    Document,
    NumberChange,
    PageDiff,
    PageKind,
    Statement,
    StatementKind,
)
from briefwatch.store import Outcome, PageWrite, Store, StoredVersion
from briefwatch.store.schema import known_migrations
from briefwatch.textnorm import sha256_hex
from tests.support.paths import REPO

ROOT = "file:///data/briefings/"
URL = "https://example.gov/briefing/1"
PROJECT = REPO

N = StatementKind.NARRATION
Q = StatementKind.QUOTE


# ------------------------------------------------------------------ builders


def stmt(
    text: str,
    position: int,
    *,
    speaker: str | None = None,
    kind: StatementKind = N,
    paragraph: int | None = None,
    section: str | None = "Update",
) -> Statement:
    return Statement(
        text=text,
        speaker=speaker,
        kind=kind,
        paragraph=position if paragraph is None else paragraph,
        position=position,
        section=section,
    )


def make_doc(
    statements: list[Statement],
    *,
    key: str = URL,
    url: str | None = URL,
    title: str | None = "Briefing",
) -> Document:
    return Document(
        key=key,
        url=url,
        title=title,
        published="2017-06-05",
        byline="By Jim Garamone",
        kind=PageKind.ARTICLE,
        format="html",
        headings=("Update",),
        statements=tuple(statements),
        site="example",
        extra={"parser": "test"},
    )


V1 = [
    stmt("The ministry reported 163 casualties on Monday.", 0),
    stmt("We are monitoring the situation closely.", 1, speaker="Dillon", kind=Q),
    stmt("The talks will resume next week.", 2),
]
V2 = [
    stmt("The ministry reported 170 casualties on Monday.", 0),
    stmt("We are monitoring the situation closely.", 1, speaker="Smith", kind=Q),
    stmt("Aid convoys reached the city.", 2),
]
TITLE_CHANGE: dict[str, str | None] = {"old": "Briefing", "new": "Briefing (updated)"}
META_CHANGES = {
    "values_changed": {
        "root['title']": {"new_value": "Briefing (updated)", "old_value": "Briefing"}
    }
}


def diff_v1_v2() -> PageDiff:
    return PageDiff(
        changes=(
            Change(
                ChangeType.CHANGED,
                old=V1[0],
                new=V2[0],
                numbers=(NumberChange("163", "170"),),
                words=(
                    ("equal", "The ministry reported"),
                    ("delete", "163"),
                    ("insert", "170"),
                    ("equal", "casualties on Monday."),
                ),
                similarity=0.93,
            ),
            Change(ChangeType.REATTRIBUTED, old=V1[1], new=V2[1]),
            Change(ChangeType.ADDED, old=None, new=V2[2]),
            Change(ChangeType.REMOVED, old=V1[2], new=None),
        ),
        metadata_changes=META_CHANGES,
        title_change=TITLE_CHANGE,
    )


def record(
    store: Store,
    run_id: int,
    doc: Document,
    *,
    location: str = ROOT + "a.html",
    raw: bytes | None = None,
    diff: PageDiff | None = None,
    source_root: str = ROOT,
) -> Any:
    raw = raw if raw is not None else f"<html>{doc.title}|{doc.content_hash()}</html>".encode()
    return store.record_page(run_id, PageWrite(
        location=location,
        source_root=source_root,
        raw=raw,
        raw_hash=sha256_hex(raw),
        doc=doc,
        diff=diff,
        previous=store.latest_document(doc.key),
    ))


def count(store: Store, table: str) -> int:
    return int(store.db.execute(f"SELECT count(*) FROM {table}").fetchone()[0])


def snapshot(store: Store, *, skip: tuple[str, ...] = ()) -> dict[str, list[tuple[Any, ...]]]:
    tables = [
        "runs", "pages", "locations", "blobs", "versions", "statements",
        "version_statements", "changes", "page_runs",
    ]
    return {
        t: store.db.execute(f"SELECT * FROM {t} ORDER BY 1, 2").fetchall()
        for t in tables
        if t not in skip
    }


def assert_consistent(path: Path) -> None:
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
    finally:
        conn.close()


@pytest.fixture
def store(fresh_db: Store) -> Store:
    return fresh_db


@pytest.fixture
def two_versions(store: Store) -> tuple[int, int]:
    run1 = store.start_run([ROOT])
    record(store, run1, make_doc(V1))
    store.finish_run(run1)
    run2 = store.start_run([ROOT], flow_run_id="flow-2")
    record(store, run2, make_doc(V2, title="Briefing (updated)"), diff=diff_v1_v2())
    store.finish_run(run2)
    return run1, run2


# ------------------------------------------------------------ open / schema


def test_open_twice_applies_migrations_once(tmp_path: Path) -> None:
    path = tmp_path / "briefwatch.db"
    Store(path).close()
    first = sqlite3.connect(path).execute("SELECT name FROM _sqlite_migrations").fetchall()
    with Store(path) as store:
        again = store.db.execute("SELECT name FROM _sqlite_migrations").fetchall()
        assert again == first
        assert {name for (name,) in first} == known_migrations()
        assert {"m001_core", "m002_statements_fts", "m003_change_significance",
                "m004_change_reviews", "m005_change_details_view", "m006_web_urls",
                "m007_run_kind_and_reporting"} <= known_migrations()
        assert {"runs", "pages", "locations", "blobs", "versions", "statements",
                "version_statements", "changes", "page_runs", "statements_fts",
                "reviews"} <= set(store.db.table_names())
        assert {"current_reviews", "change_details"} <= set(store.db.view_names())


def test_connection_pragmas(store: Store) -> None:
    assert store.db.execute("PRAGMA foreign_keys").fetchone() == (1,)
    assert store.db.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    assert store.db.execute("PRAGMA busy_timeout").fetchone()[0] >= 1000


def test_foreign_keys_are_enforced(store: Store) -> None:
    with pytest.raises(sqlite3.IntegrityError):
        store.db.execute(
            "INSERT INTO version_statements VALUES (999, 0, 'nope', 0, NULL, NULL)"
        )


@pytest.mark.parametrize(
    ("setup", "create"),
    [
        pytest.param(lambda p: p.write_bytes(b"this is not a database" * 100), True, id="text"),
        pytest.param(lambda p: p.write_bytes(os.urandom(8192)), True, id="random-bytes"),
        pytest.param(lambda p: p.mkdir(), True, id="directory"),
        pytest.param(lambda p: None, False, id="missing-create-false"),
    ],
)
def test_unusable_path_raises_store_error(tmp_path: Path, setup: Any, create: bool) -> None:
    path = tmp_path / "store.db"
    setup(path)
    with pytest.raises(StoreError, match=r"^cannot open store .*store\.db: "):
        Store(path, create=create)


def test_path_with_uri_special_characters(tmp_path: Path) -> None:
    path = tmp_path / "my store #1?%20.db"
    with Store(path) as store:
        store.start_run([ROOT])
    assert path.is_file()
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.endswith(".db")) == [path.name]


def test_write_error_is_a_store_error_and_writes_nothing(store: Store) -> None:
    before = snapshot(store)
    with pytest.raises(StoreError, match="record_page failed: FOREIGN KEY"):
        record(store, 42, make_doc(V1))  # no run 42
    assert snapshot(store) == before


def test_missing_parent_directory_raises_store_error(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="cannot open store"):
        Store(tmp_path / "no" / "such" / "dir" / "store.db")
    assert not (tmp_path / "no").exists()


def test_store_from_newer_code_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "briefwatch.db"
    Store(path).close()
    conn = sqlite3.connect(path)
    conn.execute(
        "INSERT INTO _sqlite_migrations (migration_set, name, applied_at) "
        "VALUES ('briefwatch.store', 'm999_future', 'x')"
    )
    conn.commit()
    conn.close()
    with pytest.raises(StoreError, match=r"newer briefwatch.*m999_future"):
        Store(path)


# ---------------------------------------------------------------- versions


def test_new_page_is_version_1_and_round_trips(store: Store) -> None:
    run = store.start_run([ROOT])
    doc = make_doc(V1)
    outcome = record(store, run, doc)
    assert (outcome.status, outcome.version, outcome.previous_version) == (Outcome.NEW, 1, None)
    stored = store.latest_document(URL)
    assert isinstance(stored, StoredVersion)
    assert stored.number == 1
    assert stored.document == doc
    assert stored.document.extra == {"parser": "test"}
    assert stored.content_hash == doc.content_hash()
    assert store.load_document(stored.version_id) == doc
    state = store.location_state(ROOT + "a.html")
    assert state is not None
    assert (state.key, state.current_version, state.status) == (URL, 1, "active")
    assert store.location_state(ROOT + "unknown.html") is None
    assert store.latest_document("https://example.gov/unknown") is None


@pytest.mark.parametrize("path", ["record_page", "record_unchanged"])
def test_same_content_creates_no_version(store: Store, path: str) -> None:
    run1 = store.start_run([ROOT])
    record(store, run1, make_doc(V1), raw=b"<html>v1</html>")
    before = (count(store, "versions"), count(store, "blobs"), count(store, "statements"))
    run2 = store.start_run([ROOT])
    if path == "record_page":  # new bytes (page chrome changed), same statements
        record(store, run2, make_doc(V1), raw=b"<html>v1 with a new tracking id</html>")
    else:
        store.record_unchanged(run2, location=ROOT + "a.html", source_root=ROOT,
                               raw_hash=sha256_hex(b"<html>v1</html>"))
    assert (count(store, "versions"), count(store, "blobs"), count(store, "statements")) == before
    report = store.run_report(run2)
    assert report["run"]["counts"] == {
        "new": 0, "changed": 0, "unchanged": 1, "gone": 0, "failed": 0, "blocked": 0
    }
    [page] = report["pages"]
    assert (page["status"], page["version"], page["previous_version"], page["changes"]) == (
        "unchanged", 1, 1, []
    )
    assert page["skipped_parse"] is (path == "record_unchanged")
    state = store.location_state(ROOT + "a.html")
    assert state is not None and state.last_run_id == run2
    if path == "record_page":  # the location remembers the new bytes: next run skips the parse
        assert state.last_raw_hash == sha256_hex(b"<html>v1 with a new tracking id</html>")


def test_record_unchanged_for_unknown_location_raises(store: Store) -> None:
    run = store.start_run([ROOT])
    with pytest.raises(StoreError, match="not in store"):
        store.record_unchanged(run, location=ROOT + "x.html", source_root=ROOT, raw_hash="0" * 64)


def test_changed_page_stores_version_2_and_change_rows(
    store: Store, two_versions: tuple[int, int]
) -> None:
    _, run2 = two_versions
    history = store.history(URL)
    assert [v.number for v in history] == [2, 1]
    assert history[0].changes == {"changed": 1, "reattributed": 1, "added": 1, "removed": 1}
    assert history[1].changes == {}
    rows = list(store.db.query("SELECT * FROM changes ORDER BY id"))
    assert [r["type"] for r in rows] == ["changed", "reattributed", "added", "removed"]
    assert all(r["run_id"] == run2 for r in rows)
    assert json.loads(rows[0]["numbers"]) == [{"old": "163", "new": "170"}]
    assert rows[1]["speaker"] == "Smith" and rows[1]["old_speaker"] == "Dillon"
    assert store.latest_document(URL).document == make_doc(V2, title="Briefing (updated)")  # type: ignore[union-attr]


ADDED_CHANGE_FIELDS = ("significance", "significance_reason", "review_status", "review_note",
                       "reviewed_at", "reviewer", "run_id", "from_version", "to_version",
                       "superseded_by_run")


def test_changed_run_report_exact_shape(store: Store, two_versions: tuple[int, int]) -> None:
    _, run2 = two_versions
    report = store.run_report("latest")
    ids = [r[0] for r in store.db.execute("SELECT id FROM changes ORDER BY id")]
    run = store.db.execute(
        "SELECT started_at, finished_at FROM runs WHERE id = ?", [run2]
    ).fetchone()
    base: dict[str, Any] = {"kind": "narration", "numbers": [], "words": [], "similarity": None}
    # fields added after the first release (the contract only ever adds fields)
    added_page = report["pages"][0].pop("significance")
    # crash safety (store.carryover): nothing carried over from earlier runs
    assert report["pages"][0].pop("carried_from_runs") == []
    assert report["run"].pop("carried_over") == {
        "runs": [], "interrupted": [], "contributing_runs": [], "pages": 0, "changes": 0}
    assert report["run"].pop("own_counts") == report["run"]["counts"]
    added = [{k: c.pop(k) for k in ADDED_CHANGE_FIELDS} for c in report["pages"][0]["changes"]]
    assert added_page == "high"
    assert [(a["significance"], a["significance_reason"]) for a in added] == [
        ("high", "figure changed: 163 → 170"), ("high", "speaker changed"),
        ("medium", "narration added"), ("medium", "narration removed")]
    for extra in added:
        assert (extra["review_status"], extra["review_note"], extra["reviewed_at"],
                extra["reviewer"]) == ("unreviewed", None, None, None)
        assert (extra["run_id"], extra["from_version"], extra["to_version"]) == (run2, 1, 2)
        assert extra["superseded_by_run"] is None  # current (see tests/pipeline/test_reparse.py)
    assert report == {
        "run": {
            "id": run2,
            "started_at": run[0],
            "finished_at": run[1],
            "flow_run_id": "flow-2",
            "counts": {"new": 0, "changed": 1, "unchanged": 0, "gone": 0, "failed": 0,
                       "blocked": 0},
            "status": "completed",
            "sources": [ROOT],
            "options": {},
        },
        "pages": [
            {
                "key": URL,
                "url": URL,
                "title": "Briefing (updated)",
                "status": "changed",
                "version": 2,
                "previous_version": 1,
                "title_change": TITLE_CHANGE,
                "metadata_changes": META_CHANGES,
                "changes": [
                    {
                        **base,
                        "id": ids[0], "type": "changed", "speaker": None, "old_speaker": None,
                        "old": V1[0].text, "new": V2[0].text,
                        "numbers": [{"old": "163", "new": "170"}],
                        "words": [["equal", "The ministry reported"], ["delete", "163"],
                                  ["insert", "170"], ["equal", "casualties on Monday."]],
                        "similarity": 0.93, "position": 0, "old_position": 0,
                    },
                    {
                        **base,
                        "id": ids[1], "type": "reattributed", "kind": "quote",
                        "speaker": "Smith", "old_speaker": "Dillon",
                        "old": V1[1].text, "new": V2[1].text, "position": 1, "old_position": 1,
                    },
                    {
                        **base,
                        "id": ids[2], "type": "added", "speaker": None, "old_speaker": None,
                        "old": None, "new": V2[2].text, "position": 2, "old_position": None,
                    },
                    {
                        **base,
                        "id": ids[3], "type": "removed", "speaker": None, "old_speaker": None,
                        "old": V1[2].text, "new": None, "position": 2, "old_position": 2,
                    },
                ],
                "error": None,
                "location": ROOT + "a.html",
                "note": None,
                "skipped_parse": False,
            }
        ],
    }


def test_new_page_report_lists_every_statement_as_added(
    store: Store, two_versions: tuple[int, int]
) -> None:
    run1, _ = two_versions
    [page] = store.run_report(run1)["pages"]
    assert (page["status"], page["version"], page["previous_version"]) == ("new", 1, None)
    assert (page["title_change"], page["metadata_changes"]) == (None, {})
    assert [(c["id"], c["type"], c["new"], c["speaker"], c["old_speaker"], c["position"])
            for c in page["changes"]] == [
        (None, "added", s.text, s.speaker, None, s.position) for s in V1
    ]
    assert count(store, "changes") == 4  # only the run-2 diff: no rows for a new page


def test_statements_are_shared_across_versions(store: Store, two_versions: tuple[int, int]) -> None:
    # V1 and V2 have 6 statements; none is identical (the quote changed speaker) ...
    assert count(store, "statements") == 6
    assert count(store, "version_statements") == 6
    # ... a third version that restores V1's last sentence reuses its row.
    run3 = store.start_run([ROOT])
    v3 = [*V2, stmt("The talks will resume next week.", 3)]
    record(store, run3, make_doc(v3, title="Briefing (updated)"),
           diff=PageDiff((Change(ChangeType.ADDED, None, v3[3]),), {}, None))
    assert count(store, "statements") == 6
    assert count(store, "version_statements") == 10
    assert count(store, "statements_fts") == 6


def test_typographic_variant_keeps_its_own_wording(store: Store) -> None:
    straight = stmt('He said "we will act" today.', 0)
    curly = stmt("He said \u201cwe will act\u201d today.", 0)
    assert straight.sid == curly.sid
    run1 = store.start_run([ROOT])
    record(store, run1, make_doc([straight, stmt("First.", 1)]))
    run2 = store.start_run([ROOT])
    new_doc = make_doc([curly, stmt("Second.", 1)])
    record(store, run2, new_doc)
    assert count(store, "statements") == 3
    assert store.latest_document(URL).document == new_doc  # type: ignore[union-attr]
    # the match key is stored only where it differs from the text
    keys = dict(store.db.execute("SELECT text, key FROM statements").fetchall())
    assert keys == {straight.text: None, "First.": None, "Second.": None}
    record(store, store.start_run([ROOT]), make_doc([stmt("It\u2019s done.", 0)]))
    assert store.db.execute(
        "SELECT key FROM statements WHERE text = ?", ["It\u2019s done."]
    ).fetchone() == ("It's done.",)


@pytest.mark.parametrize("compression", ["zlib", "lzma"])
def test_raw_blob_round_trip(tmp_path: Path, compression: Any) -> None:
    raw = ("<html><body>" + "<p>The ministry reported 163 casualties.</p>" * 200 + "</body></html>"
           ).encode() + bytes(range(256))
    with Store(tmp_path / "s.db", compression=compression) as store:
        run = store.start_run([ROOT])
        outcome = record(store, run, make_doc(V1), raw=raw)
        assert store.load_raw(outcome.version_id) == raw
        sql = "SELECT data, size, compression FROM blobs"
        data, size, stored = store.db.execute(sql).fetchone()
        assert (size, stored) == (len(raw), compression)
        assert len(data) < len(raw) // 5


def test_identical_raw_bytes_share_one_blob(store: Store) -> None:
    run = store.start_run([ROOT])
    record(store, run, make_doc(V1, key=URL), raw=b"same bytes")
    record(store, run, make_doc(V1, key=URL + "-copy", url=None), raw=b"same bytes",
           location=ROOT + "b.html")
    assert count(store, "versions") == 2
    assert count(store, "blobs") == 1


def test_stale_previous_is_refused_and_writes_nothing(store: Store) -> None:
    run = store.start_run([ROOT])
    record(store, run, make_doc(V1))
    before = snapshot(store)
    with pytest.raises(StoreError, match="stale previous"):
        store.record_page(run, PageWrite(location=ROOT + "a.html", source_root=ROOT, raw=b"x",
                                         raw_hash=sha256_hex(b"x"), doc=make_doc(V2)))
    assert snapshot(store) == before


def test_same_key_under_a_new_location_is_the_same_page(store: Store) -> None:
    run1 = store.start_run([ROOT])
    record(store, run1, make_doc(V1), location=ROOT + "old/a.html")
    run2 = store.start_run([ROOT])
    outcome = record(store, run2, make_doc(V2), location=ROOT + "new/a.html")
    assert (outcome.status, outcome.version) == (Outcome.CHANGED, 2)
    assert count(store, "pages") == 1
    assert store.mark_gone(run2, source_root=ROOT, seen_locations={ROOT + "new/a.html"}) == []
    assert [p.status for p in store.pages()] == ["active"]
    assert store.location_state(ROOT + "old/a.html").status == "gone"  # type: ignore[union-attr]


def test_location_that_gains_a_canonical_url_supersedes_its_old_page(store: Store) -> None:
    location = ROOT + "a.html"
    run1 = store.start_run([ROOT])
    record(store, run1, make_doc(V1, key=location, url=None), location=location)
    run2 = store.start_run([ROOT])
    record(store, run2, make_doc(V1), location=location)
    statuses = {p.key: p.status for p in store.pages()}
    assert statuses == {location: "gone", URL: "active"}
    pages = {p["key"]: p for p in store.run_report(run2)["pages"]}
    assert pages[URL]["status"] == "new"
    assert pages[location]["status"] == "gone"
    assert pages[location]["note"] == f"superseded: {location} is now page {URL}"


# ------------------------------------------------------------- gone / failed


def test_gone_detection_and_return(store: Store) -> None:
    a, b = ROOT + "a.html", ROOT + "b.html"
    other_root = "file:///elsewhere/"
    run1 = store.start_run([ROOT])
    record(store, run1, make_doc(V1, key=URL + "/a"), location=a)
    record(store, run1, make_doc(V1, key=URL + "/b"), location=b)
    record(store, run1, make_doc(V1, key=URL + "/c"), location=other_root + "c.html",
           source_root=other_root)
    run2 = store.start_run([ROOT])
    store.record_unchanged(run2, location=a, source_root=ROOT,
                           raw_hash=store.location_state(a).last_raw_hash)  # type: ignore[union-attr, arg-type]
    assert store.mark_gone(run2, source_root=ROOT, seen_locations={a}) == [URL + "/b"]
    summary = store.finish_run(run2)
    assert summary.counts == {"new": 0, "changed": 0, "unchanged": 1, "gone": 1, "failed": 0,
                              "blocked": 0}
    statuses = {p.key: p.status for p in store.pages()}
    assert statuses == {URL + "/a": "active", URL + "/b": "gone", URL + "/c": "active"}
    [gone] = [p for p in store.run_report(run2)["pages"] if p["status"] == "gone"]
    assert (gone["key"], gone["location"], gone["version"], gone["changes"]) == (
        URL + "/b", b, 1, []
    )
    assert len(store.history(URL + "/b")) == 1  # history kept
    # a page already gone is not reported gone again
    run3 = store.start_run([ROOT])
    assert store.mark_gone(run3, source_root=ROOT, seen_locations=set()) == [URL + "/a"]
    # it comes back: unchanged against its last version, noted as restored
    run4 = store.start_run([ROOT])
    record(store, run4, make_doc(V1, key=URL + "/b"), location=b)
    [back] = store.run_report(run4)["pages"]
    assert (back["status"], back["note"], back["version"]) == ("unchanged", "restored", 1)
    assert {p.key: p.status for p in store.pages()}[URL + "/b"] == "active"


def test_failed_location_is_not_gone(store: Store) -> None:
    run1 = store.start_run([ROOT])
    record(store, run1, make_doc(V1))
    run2 = store.start_run([ROOT])
    store.record_failure(run2, location=ROOT + "a.html", source_root=ROOT, key=None,
                         error="cannot parse: empty page")
    assert store.mark_gone(run2, source_root=ROOT, seen_locations=set()) == []
    assert [p.status for p in store.pages()] == ["active"]


def test_failure_keeps_everything_stored_before(
    store: Store, two_versions: tuple[int, int]
) -> None:
    before = snapshot(store, skip=("page_runs", "runs"))
    run3 = store.start_run([ROOT])
    store.record_failure(run3, location=ROOT + "a.html", source_root=ROOT, key=None,
                         error="ParseError: no text")
    store.record_failure(run3, location=ROOT + "new.html", source_root=ROOT, key=None,
                         error="ReadError: permission denied")
    assert snapshot(store, skip=("page_runs", "runs")) == before
    report = store.run_report(run3)
    assert report["run"]["counts"]["failed"] == 2
    unknown, known = report["pages"]  # by key: file://... sorts before https://...
    assert (known["key"], known["status"], known["version"], known["previous_version"],
            known["error"]) == (URL, "failed", 2, 2, "ParseError: no text")
    assert (unknown["key"], unknown["url"], unknown["version"], unknown["title"]) == (
        ROOT + "new.html", None, None, None
    )
    assert store.latest_document(URL).number == 2  # type: ignore[union-attr]


def test_retry_in_the_same_run_replaces_the_failure(store: Store) -> None:
    run = store.start_run([ROOT])
    store.record_failure(run, location=ROOT + "a.html", source_root=ROOT, key=None, error="boom")
    record(store, run, make_doc(V1))
    assert [p["status"] for p in store.run_report(run)["pages"]] == ["new"]


def test_report_orders_pages_by_outcome_then_key(store: Store) -> None:
    run1 = store.start_run([ROOT])
    for name in ("changed", "gone", "unchanged"):
        record(store, run1, make_doc(V1, key=f"{URL}/{name}"), location=f"{ROOT}{name}.html")
    run2 = store.start_run([ROOT])
    record(store, run2, make_doc(V1, key=f"{URL}/unchanged"), location=f"{ROOT}unchanged.html")
    record(store, run2, make_doc(V2, key=f"{URL}/changed"), location=f"{ROOT}changed.html")
    record(store, run2, make_doc(V1, key=f"{URL}/new"), location=f"{ROOT}new.html")
    store.record_failure(run2, location=f"{ROOT}failed.html", source_root=ROOT, key=None, error="x")
    store.mark_gone(run2, source_root=ROOT, seen_locations=set())
    statuses = [p["status"] for p in store.run_report(run2)["pages"]]
    assert statuses == ["failed", "changed", "new", "gone", "unchanged"]


# ------------------------------------------------------------- atomicity


@pytest.mark.parametrize("poisoned", ["statement_rows", "membership_rows", "change_rows"])
def test_exception_mid_write_leaves_no_partial_version(
    store: Store, monkeypatch: pytest.MonkeyPatch, poisoned: str
) -> None:
    import briefwatch.store.db as store_db

    run1 = store.start_run([ROOT])
    record(store, run1, make_doc(V1))
    run2 = store.start_run([ROOT])
    before = snapshot(store)
    real = getattr(store_db, poisoned)

    def poison(*args: Any, **kwargs: Any) -> Iterator[dict[str, Any]]:
        rows = real(*args, **kwargs)
        yield next(rows)
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(store_db, poisoned, poison)
    with pytest.raises(RuntimeError, match="disk on fire"):
        record(store, run2, make_doc(V2), diff=diff_v1_v2(), raw=b"<html>v2</html>")
    assert snapshot(store) == before
    monkeypatch.undo()
    assert_consistent(store.path)
    outcome = record(store, run2, make_doc(V2), diff=diff_v1_v2())  # still writable
    assert outcome.version == 2


def test_batch_commits_good_pages_and_rolls_back_the_failing_one(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    import briefwatch.store.db as store_db
    from briefwatch.store.rows import membership_rows as real

    run = store.start_run([ROOT])

    def poison(version_id: int, pairs: Any, shared: Any) -> Iterator[dict[str, Any]]:
        if pairs[0][0].text.startswith("BAD"):
            raise RuntimeError("bad page")
        return real(version_id, pairs, shared)

    monkeypatch.setattr(store_db, "membership_rows", poison)
    with store.batch():
        record(store, run, make_doc(V1, key=URL + "/1"), location=ROOT + "1.html")
        with pytest.raises(RuntimeError):
            record(store, run, make_doc([stmt("BAD page.", 0)], key=URL + "/2"),
                   location=ROOT + "2.html")
        store.record_failure(run, location=ROOT + "2.html", source_root=ROOT, key=URL + "/2",
                             error="bad page")
        record(store, run, make_doc(V2, key=URL + "/3"), location=ROOT + "3.html")
    assert [p.key for p in store.pages()] == [URL + "/1", URL + "/3"]
    assert store.run_report(run)["run"]["counts"] == {
        "new": 2, "changed": 0, "unchanged": 0, "gone": 0, "failed": 1, "blocked": 0
    }
    assert_consistent(store.path)


_KILLED_WRITER = textwrap.dedent(
    """
    import os, signal, sys, time
    signal.alarm(60)  # never outlive a broken test
    import briefwatch.store.db as store_db
    from briefwatch.store import Store
    from tests.store.test_store import V1, V2, make_doc, record, diff_v1_v2, stmt

    real = store_db.change_rows
    def stall(*args, **kwargs):
        rows = real(*args, **kwargs)
        yield next(rows)
        print("WRITING", flush=True)
        time.sleep(60)

    store = Store(sys.argv[1])
    run1 = store.start_run(["root"])
    record(store, run1, make_doc(V1))
    store_db.change_rows = stall
    run2 = store.start_run(["root"])
    store.db.execute("PRAGMA cache_size = 10")  # force the transaction to spill into the WAL
    print(os.path.getsize(sys.argv[1] + "-wal"), flush=True)
    many = [*V2, *[stmt(f"Filler sentence number {i}.", 3 + i) for i in range(3000)]]
    record(store, run2, make_doc(many), diff=diff_v1_v2())
    """
)


def test_sigkill_mid_write_leaves_no_partial_version(tmp_path: Path) -> None:
    path = tmp_path / "briefwatch.db"
    child = subprocess.Popen(
        [sys.executable, "-c", _KILLED_WRITER, str(path)],
        cwd=PROJECT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        committed_wal = int(child.stdout.readline())
        assert child.stdout.readline().strip() == "WRITING"
        # the uncommitted transaction has spilled into the WAL: a real mid-write state
        assert (tmp_path / "briefwatch.db-wal").stat().st_size > committed_wal
        child.send_signal(signal.SIGKILL)
    finally:
        child.kill()
        child.wait(timeout=30)
        if child.stdout is not None:
            child.stdout.close()
    assert child.returncode == -signal.SIGKILL
    assert_consistent(path)
    with Store(path) as store:
        assert [v.number for v in store.history(URL)] == [1]
        assert count(store, "statements") == 3
        assert count(store, "changes") == 0
        assert count(store, "page_runs") == 1
        run3 = store.start_run([ROOT])
        assert record(store, run3, make_doc(V2), diff=diff_v1_v2()).version == 2
    assert_consistent(path)


# ------------------------------------------------------------- writer lock


def test_writer_lock_refuses_a_second_holder(tmp_path: Path) -> None:
    path = tmp_path / "briefwatch.db"
    with Store(path) as first, Store(path) as second:
        with first.writer_lock():
            run = first.start_run([ROOT])
            with pytest.raises(StoreBusyError) as refused, second.writer_lock():
                pass
            message = str(refused.value)
            assert message.startswith(f"store {path} is in use by another run (pid {os.getpid()}, ")
            assert f"run {run}, since " in message
            with pytest.raises(StoreError, match="already holds"), first.writer_lock():
                pass
        with second.writer_lock():  # released on exit
            pass


_LOCK_HOLDER = textwrap.dedent(
    """
    import signal, sys, time
    signal.alarm(60)
    from briefwatch.store import Store
    store = Store(sys.argv[1])
    with store.writer_lock():
        run = store.start_run(["root"])
        print(run, flush=True)
        time.sleep(60)
    """
)


def test_lock_of_a_killed_holder_is_released(tmp_path: Path) -> None:
    path = tmp_path / "briefwatch.db"
    Store(path).close()
    child = subprocess.Popen(
        [sys.executable, "-c", _LOCK_HOLDER, str(path)], cwd=PROJECT, stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        run = int(child.stdout.readline())
        with Store(path) as store:
            busy = rf"\(pid {child.pid}, run {run}, since "
            with pytest.raises(StoreBusyError, match=busy), store.writer_lock():
                pass
            child.send_signal(signal.SIGKILL)
            child.wait(timeout=30)
            with store.writer_lock(wait=30):
                assert store.start_run([ROOT]) == run + 1
    finally:
        child.kill()
        child.wait(timeout=30)
        if child.stdout is not None:
            child.stdout.close()


# ------------------------------------------------------------------ queries


def test_history_by_key_url_or_location(store: Store, two_versions: tuple[int, int]) -> None:
    run1, run2 = two_versions
    by_key = store.history(URL)
    assert by_key == store.history(ROOT + "a.html")
    assert [(v.number, v.run_id, v.title, v.statement_count) for v in by_key] == [
        (2, run2, "Briefing (updated)", 3),
        (1, run1, "Briefing", 3),
    ]
    other = make_doc(V1, key=ROOT + "b.html", url="https://example.gov/other")
    record(store, run2, other, location=ROOT + "b.html")
    assert [v.number for v in store.history("https://example.gov/other")] == [1]
    with pytest.raises(PageNotFoundError, match="no page 'nope'"):
        store.history("nope")


def test_pages_summary(store: Store, two_versions: tuple[int, int]) -> None:
    _, run2 = two_versions
    [page] = store.pages()
    assert (page.key, page.url, page.title, page.status, page.versions) == (
        URL, URL, "Briefing (updated)", "active", 2
    )
    assert (page.last_run_id, page.last_changed_run_id) == (run2, run2)


def test_search(store: Store, two_versions: tuple[int, int]) -> None:
    hits = sorted(store.search("casualties"), key=lambda h: h.version)
    assert [(h.key, h.text, h.version, h.position, h.current) for h in hits] == [
        (URL, V1[0].text, 1, 0, False),
        (URL, V2[0].text, 2, 0, True),
    ]
    [convoy] = store.search("convoy")  # stemmed: "convoys"
    assert (convoy.text, convoy.version, convoy.current) == (V2[2].text, 2, True)
    assert [h.speaker for h in store.search("Smith")] == ["Smith"]
    assert store.search('"unbalanced AND NOT') == []  # no FTS syntax errors
    with pytest.raises(StoreError, match="empty"):
        store.search("  ")


def test_runs_and_finish(store: Store) -> None:
    run = store.start_run([ROOT, "https://example.gov/"], options={"chunk_size": 50})
    store.set_flow_run_id(run, "abc-123")
    summary = store.finish_run(run, status="failed")
    assert (summary.status, summary.flow_run_id, summary.sources, summary.options) == (
        "failed", "abc-123", (ROOT, "https://example.gov/"), {"chunk_size": 50}
    )
    assert summary.finished_at is not None and summary.finished_at.endswith("Z")
    assert [r.id for r in store.runs()] == [run]
    for bad in ("running", "bogus"):
        with pytest.raises(StoreError, match="must be 'completed' or 'failed'"):
            store.finish_run(run, status=bad)
    with pytest.raises(RunNotFoundError):
        store.finish_run(run + 1)
    with pytest.raises(RunNotFoundError):
        store.set_flow_run_id(run + 1, "x")


@pytest.mark.parametrize("run", [999, "999", "bogus"])
def test_report_of_unknown_run(store: Store, run: int | str) -> None:
    store.start_run([ROOT])
    with pytest.raises(RunNotFoundError):
        store.run_report(run)


def test_report_latest_without_runs(store: Store) -> None:
    with pytest.raises(RunNotFoundError, match="no runs"):
        store.run_report()


def test_location_hashes(store: Store) -> None:
    run = store.start_run([ROOT])
    record(store, run, make_doc(V1), raw=b"abc")
    assert store.location_hashes([ROOT + "a.html", ROOT + "zzz.html"]) == {
        ROOT + "a.html": sha256_hex(b"abc")
    }


def test_full_scenario_leaves_a_consistent_file(
    store: Store, two_versions: tuple[int, int]
) -> None:
    run3 = store.start_run([ROOT])
    store.mark_gone(run3, source_root=ROOT, seen_locations=set())
    store.finish_run(run3)
    assert_consistent(store.path)
