"""The store side of the review tools, on real stores built by the CLI from the bundled
example pages (tests/conftest.py: ``demo_db``): reviews, timelines, the speaker view, search
by speaker, the significance migration and the Datasette metadata's canned queries."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from briefwatch.errors import ChangeNotFoundError, PageNotFoundError, VersionNotFoundError
from briefwatch.store import ReviewStatus, Store
from tests.support.paths import REPO

ROOT = REPO
METADATA = ROOT / "deploy" / "datasette-metadata.json"
MOSUL = "defense-gov-mosul-raqqa.txt"


def _key(store: Store, name: str) -> str:
    return next(p.key for p in store.pages() if name in p.key)


def _change_id(store: Store, needle: str) -> int:
    row = store.db.execute(
        "SELECT c.id FROM changes c JOIN statements s ON s.id = c.new_statement_id "
        "WHERE s.text LIKE ?", [f"%{needle}%"]).fetchone()
    assert row is not None, needle
    return int(row[0])


def test_review_history_and_current_state(demo_db_copy: Path) -> None:
    with Store(demo_db_copy) as store:
        bodies = _change_id(store, "170 bodies")
        assert store.change(bodies)["review_status"] == "unreviewed"
        store.review(bodies, "flagged", note="check the UN source", reviewer="ana")
        store.review(bodies, ReviewStatus.REVIEWED, reviewer="ben")
        detail = store.change(bodies)
        assert (detail["review_status"], detail["review_note"], detail["reviewer"]) == (
            "reviewed", None, "ben")
        assert [(r["status"], r["note"]) for r in detail["reviews"]] == [
            ("flagged", "check the UN source"), ("reviewed", None)]
        assert detail["page"]["key"].endswith(MOSUL)
        # the run report carries the current state; other changes stay unreviewed
        report = store.run_report("latest")
        states = {c["id"]: c["review_status"] for p in report["pages"] for c in p["changes"]}
        assert states[bodies] == "reviewed"
        assert sum(s == "unreviewed" for s in states.values()) == len(states) - 1


def test_review_errors(demo_db_copy: Path) -> None:
    with Store(demo_db_copy) as store:
        with pytest.raises(ChangeNotFoundError, match="no change 9999"):
            store.review(9999, "reviewed")
        with pytest.raises(ChangeNotFoundError):
            store.change(9999)
        change_id = _change_id(store, "170 bodies")
        with pytest.raises(Exception, match="unknown review status"):
            store.review(change_id, "approved")
        # the database itself refuses a status outside the four
        with pytest.raises(sqlite3.IntegrityError):
            store.db.execute("INSERT INTO reviews (change_id, status, created_at) "
                             "VALUES (?, 'approved', 'x')", [change_id])


def test_timeline(demo_db: Path) -> None:
    with Store(demo_db, create=False) as store:
        timeline = store.page_timeline(_key(store, MOSUL))
    assert timeline["page"]["versions"] == 2 and timeline["page"]["version"] == 2
    v2, v1 = timeline["versions"]
    assert (v2["number"], v2["previous_version"], v1["number"], v1["previous_version"]) == (
        2, 1, 1, None)
    assert v1["change_details"] == [] and v1["significance"] is None
    types = sorted(c["type"] for c in v2["change_details"])
    assert types == ["added", "changed", "changed", "reattributed", "reattributed", "removed"]
    assert v2["significance"] == "high"
    assert all(c["from_version"] == 1 and c["to_version"] == 2 for c in v2["change_details"])


def test_version_lookup(demo_db: Path) -> None:
    with Store(demo_db, create=False) as store:
        key = _key(store, MOSUL)
        assert store.load_version(store.version_id(key, 1)).number == 1
        assert store.current_version_number(key) == 2
        with pytest.raises(VersionNotFoundError, match="no version 7"):
            store.version_id(key, 7)
        with pytest.raises(PageNotFoundError):
            store.version_id("https://nowhere.example/page", 1)


def test_speaker_view_is_case_insensitive_substring(demo_db: Path) -> None:
    with Store(demo_db, create=False) as store:
        view = store.speaker_view("dILLon")
    assert view["speakers"] == ["Army Col. Ryan S. Dillon"]
    [page] = view["pages"]
    assert page["key"].endswith(MOSUL)
    assert all(s["speaker"] == "Army Col. Ryan S. Dillon" for s in page["statements"])
    assert any("170 bodies" in s["text"] for s in page["statements"])  # the current wording
    # the re-attributed quotes were his before the change: they are in his history
    reattributed = [c for c in page["changes"] if c["type"] == "reattributed"]
    assert len(reattributed) == 2
    assert {c["old_speaker"] for c in reattributed} == {"Army Col. Ryan S. Dillon"}


def test_speaker_view_without_match(demo_db: Path) -> None:
    with Store(demo_db, create=False) as store:
        assert store.speaker_view("Nobody Such") == {"query": "Nobody Such", "speakers": [],
                                                     "pages": []}


def test_search_by_speaker(demo_db: Path) -> None:
    with Store(demo_db, create=False) as store:
        everyone = store.search("casualties")
        davis = store.search("casualties", speaker="davis")
    assert len(everyone) > len(davis) >= 1
    assert {h.speaker for h in davis} == {"Pentagon spokesman Navy Capt. Jeff Davis"}
    assert all(h.title for h in davis)


def test_migration_scores_changes_stored_before_it(demo_db_copy: Path) -> None:
    """A store written before m003-m005 gets significance backfilled when opened."""
    conn = sqlite3.connect(demo_db_copy)
    before = dict(conn.execute("SELECT id, significance FROM changes").fetchall())
    conn.executescript(
        """
        DROP VIEW change_details; DROP VIEW current_reviews; DROP TABLE reviews;
        ALTER TABLE changes DROP COLUMN significance;
        DELETE FROM _sqlite_migrations WHERE name IN
            ('m003_change_significance', 'm004_change_reviews', 'm005_change_details_view');
        """
    )
    conn.commit()
    conn.close()
    with Store(demo_db_copy) as store:
        after = dict(store.db.execute("SELECT id, significance FROM changes").fetchall())
        report = store.run_report("latest")
    assert after == before and set(after.values()) == {1, 2, 3}
    levels = {1: "low", 2: "medium", 3: "high"}
    for page in report["pages"]:
        for change in page["changes"]:
            assert levels[after[change["id"]]] == change["significance"]


# --------------------------------------------------------------------------- Datasette


def _metadata() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(METADATA.read_text())
    return data


def test_datasette_metadata_names_real_tables(demo_db: Path) -> None:
    database = _metadata()["databases"]["briefwatch"]
    with Store(demo_db, create=False) as store:
        names = set(store.db.table_names()) | set(store.db.view_names())
    assert set(database["tables"]) <= names, set(database["tables"]) - names
    assert {"latest_changes", "changes_by_speaker"} <= set(database["queries"])


def test_canned_query_latest_changes(demo_db: Path) -> None:
    sql = _metadata()["databases"]["briefwatch"]["queries"]["latest_changes"]["sql"]
    conn = sqlite3.connect(demo_db)
    conn.row_factory = sqlite3.Row
    rows = conn.execute(sql).fetchall()
    with Store(demo_db, create=False) as store:
        report = store.run_report("latest")
    expected = {c["id"] for p in report["pages"] for c in p["changes"]}
    assert {r["change_id"] for r in rows} == expected
    ranks = [{"high": 3, "medium": 2, "low": 1}[r["significance"]] for r in rows]
    assert ranks == sorted(ranks, reverse=True)
    bodies = next(r for r in rows if r["new_text"] and "170 bodies" in r["new_text"])
    assert (bodies["old_text"].count("163"), bodies["from_version"], bodies["to_version"]) == (
        1, 1, 2)
    assert json.loads(bodies["numbers"]) == [{"old": "163", "new": "170"}]


@pytest.mark.parametrize(("speaker", "count"), [("dillon", 6), ("JEAN-PIERRE", 8),
                                                ("President", 8), ("nobody", 0)])
def test_canned_query_changes_by_speaker(demo_db: Path, speaker: str, count: int) -> None:
    sql = _metadata()["databases"]["briefwatch"]["queries"]["changes_by_speaker"]["sql"]
    rows = sqlite3.connect(demo_db).execute(sql, {"speaker": speaker}).fetchall()
    assert len(rows) == count


def test_other_canned_queries_run(demo_db_copy: Path) -> None:
    queries = _metadata()["databases"]["briefwatch"]["queries"]
    with Store(demo_db_copy) as store:
        store.review(_change_id(store, "170 bodies"), "dismissed")
    conn = sqlite3.connect(demo_db_copy)
    unreviewed = conn.execute(queries["unreviewed_changes"]["sql"]).fetchall()
    total = conn.execute("SELECT count(*) FROM changes").fetchone()[0]
    assert len(unreviewed) == total - 1
    speakers = dict((r[0], r[1]) for r in conn.execute(queries["speakers"]["sql"]))
    assert speakers["MS. JEAN-PIERRE"] > 0
