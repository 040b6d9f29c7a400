"""``briefwatch reparse``: stored raw versions parsed again with the current parsers.

A parser improvement is simulated honestly: the store's first version of a real page (the
bundled defense.gov transcript dump) was stored as an older parser read it — with the .gov
banner kept as a statement — so the ingest of the edited second version (parsed by today's
parser) flagged a false "removed" change next to the real ones (163 -> 170 bodies, ...).
Re-parsing the raw bytes kept in the store must fix the first version, supersede the false
change, keep the real ones with their reviews, and leave every old report as it was.
"""

from __future__ import annotations

import contextlib
import io
import json
import sqlite3
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from briefwatch.cli.app import EXAMPLES, main
from briefwatch.model import Document, Statement, StatementKind
from briefwatch.parsers import parse
from briefwatch.pipeline.reparse import ReparseOptions, parse_since, plan_page, reparse
from briefwatch.pipeline.sources import SourceItem
from briefwatch.pipeline.steps import PageResult, store_one
from briefwatch.store import PageWrite, Store
from briefwatch.textnorm import sha256_hex

BANNER = "An official website of the United States Government"
MOSUL = "defense-gov-mosul-raqqa.txt"
MATTIS = "mattis-iraq-visit.txt"


# ------------------------------------------------------------------ builders


def with_banner(doc: Document) -> Document:
    """What an older parser made of a page: the .gov banner kept as its first statement."""
    banner = Statement(BANNER, None, StatementKind.NARRATION, paragraph=0, position=0)
    shifted = tuple(replace(s, position=s.position + 1, paragraph=s.paragraph + 1)
                    for s in doc.statements)
    return replace(doc, statements=(banner, *shifted))


LOST = "Syrian monitoring groups claimed"  # a sentence an older parser lost (both versions)


def losing_a_sentence(doc: Document) -> Document:
    """An older parser that dropped one sentence (taken for a caption, say): the edit of
    that sentence between two versions was never flagged."""
    kept = [s for s in doc.statements if LOST not in s.text]
    return replace(doc, statements=tuple(replace(s, position=i) for i, s in enumerate(kept)))


OLDER_PARSERS: dict[tuple[int, str], Callable[[Document], Document]] = {
    (1, MOSUL): with_banner,
    (2, MOSUL): lambda d: d,
    (1, MATTIS): lambda d: with_banner(losing_a_sentence(d)),
    (2, MATTIS): losing_a_sentence,
}


def ingest_page(store: Store, run_id: int, raw: bytes, location: str,
                parser: Callable[[Document], Document] = lambda d: d) -> str:
    """Store one page's bytes through the ingest's own store step, parsed by today's parser
    as changed by ``parser`` (an older parser's reading)."""
    doc = parser(parse(raw, location=location))
    item = SourceItem(location=location, path="", source_root=location)
    return store_one(store, run_id, PageResult(item, raw=raw, raw_hash=sha256_hex(raw),
                                               document=doc))


def location_of(tmp_path: Path, name: str) -> str:
    return (tmp_path / "pages" / name).as_uri()


def build_store(tmp_path: Path) -> Path:
    """Run 1: v1 of both pages, read by an older parser that kept the .gov banner. Run 2:
    v2 of Mosul read by today's parser, v2 of Mattis by one that lost a sentence (as did
    its v1). Reviews on two of run 2's changes."""
    db = tmp_path / "briefwatch.db"
    with Store(db) as store:
        for number in (1, 2):
            run = store.start_run([str(tmp_path)])
            for name in (MOSUL, MATTIS):
                raw = (EXAMPLES / f"v{number}" / name).read_bytes()
                ingest_page(store, run, raw, location_of(tmp_path, name),
                            OLDER_PARSERS[number, name])
            finish(store, run)
        report = store.run_report(2)
        for change in changes_of(report, MOSUL):
            if change["type"] == "removed" and change["old"] == BANNER:
                store.review(change["id"], "dismissed", note="banner, not content")
            if any(n == {"old": "163", "new": "170"} for n in change["numbers"]):
                store.review(change["id"], "flagged", note="UN figure differs")
    return db


def finish(store: Store, run_id: int) -> None:
    """Finish a run and mark its report delivered, as the ingest flow does (a run left
    unreported would be carried over into the next run's report)."""
    store.finish_run(run_id)
    store.db.execute("UPDATE runs SET reported_at = finished_at, reported_in = id "
                     "WHERE id = ?", [run_id])
    store.db.conn.commit()


def changes_of(report: dict[str, Any], name: str) -> list[dict[str, Any]]:
    page = next(p for p in report["pages"] if p["key"].endswith(name))
    return list(page["changes"])


def table_dump(db: Path) -> list[str]:
    conn = sqlite3.connect(db)
    try:
        return list(conn.iterdump())
    finally:
        conn.close()


def cli(*args: str) -> tuple[int, str]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(list(args))
    return code, out.getvalue()


def assert_whole(db: Path) -> None:
    conn = sqlite3.connect(db)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
    finally:
        conn.close()
    try:
        from briefwatch.store.integrity import check_store
    except ImportError:  # pragma: no cover - the check arrives with another change
        return
    report = check_store(db)
    assert report.errors == (), report.errors


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return build_store(tmp_path)


# ---------------------------------------------------------------------- tests


def test_the_older_parse_made_a_false_change(db: Path) -> None:
    """The premise: run 2 flagged the banner's disappearance next to the real edits."""
    with Store(db) as store:
        changes = changes_of(store.run_report(2), MOSUL)
    removed = [c["old"] for c in changes if c["type"] == "removed"]
    assert removed[0] == BANNER and len(removed) == 2  # and a real removal
    assert any(n == {"old": "163", "new": "170"} for c in changes for n in c["numbers"])


def test_reparse_fixes_statements_and_recomputes_changes(db: Path, tmp_path: Path) -> None:
    with Store(db) as store:
        before = {c["id"]: c for c in changes_of(store.run_report(2), MOSUL)}
        report = reparse(store, ReparseOptions())
        run_id = report["run"]["id"]
        v1 = store.load_document(store.version_id(location_of(tmp_path, MOSUL), 1))
        raw = (EXAMPLES / "v1" / MOSUL).read_bytes()
        assert v1.statements == parse(raw, location=location_of(tmp_path, MOSUL)).statements
        assert BANNER not in [s.text for s in v1.statements]
        timeline = store.page_timeline(location_of(tmp_path, MOSUL))
        current = {c["id"]: c for c in timeline["versions"][0]["change_details"]}
        false_change = next(i for i, c in before.items() if c["old"] == BANNER)
        figure = next(i for i, c in before.items()
                      if {"old": "163", "new": "170"} in c["numbers"])
        # the false change is no longer current, but kept and marked; the real ones stay
        assert false_change not in current
        assert set(current) == set(before) - {false_change}
        assert store.change(false_change)["superseded_by_run"] == run_id
        assert current[figure]["review_status"] == "flagged"
        assert current[figure]["review_note"] == "UN figure differs"
        assert store.change(false_change)["reviews"][0]["status"] == "dismissed"
        views = store.db.execute("SELECT change_id FROM change_details").fetchall()
        assert false_change not in {r[0] for r in views}
        assert sum(store.history(location_of(tmp_path, MOSUL))[0].changes.values()) == \
            len(current)
        # the edit the lost sentence hid is found now, as a change of the reparse run
        mattis = store.page_timeline(location_of(tmp_path, MATTIS))["versions"][0]
        found = [c for c in mattis["change_details"] if c["run_id"] == run_id]
        assert [(c["type"], c["numbers"]) for c in found] == \
            [("changed", [{"old": "37", "new": "40"}])]
        assert LOST in found[0]["new"]
    counts = report["run"]["counts"]
    assert counts["versions_reparsed"] == 3  # v1 of both pages (banner), v2 of Mattis
    assert counts["changes_superseded"] == 2 and counts["changes_added"] == 1
    assert counts["changes_kept"] >= len(before) - 1
    assert_whole(db)


def test_old_run_reports_show_what_they_showed(db: Path) -> None:
    with Store(db) as store:
        before = [store.run_report(1), store.run_report(2)]
        reparse(store, ReparseOptions())
        run_id = store.run_report("latest")["run"]["id"]
        after = [store.run_report(1), store.run_report(2)]
    # run 1 (new pages): every statement as it saw them, the banner included
    assert next(c["new"] for c in changes_of(after[0], MOSUL)) == BANNER
    assert after[0] == before[0]
    superseded = [c for p in after[1]["pages"] for c in p["changes"]
                  if c["superseded_by_run"] is not None]
    assert [(c["type"], c["old"], c["superseded_by_run"]) for c in superseded] == \
        [("removed", BANNER, run_id)] * 2
    for change in superseded:
        change["superseded_by_run"] = None
    assert after[1] == before[1]  # nothing else moved


def test_report_filters_and_renderings_mark_superseded_changes(db: Path) -> None:
    reparse_store(db)
    code, text = cli("report", "--db", str(db), "--run", "2")
    assert code == 0 and "superseded by reparse run 3" in text
    code, html = cli("report", "--db", str(db), "--run", "2", "--format", "html")
    assert code == 0 and html.count("superseded by reparse run 3") == 2
    code, shown = cli("report", "--db", str(db), "--run", "2", "--format", "json",
                      "--min-significance", "low")
    assert code == 0
    olds = [c["old"] for p in json.loads(shown)["pages"] for c in p["changes"]]
    assert BANNER not in olds and olds  # a filtered view is a current view


def reparse_store(db: Path, *args: str) -> dict[str, Any]:
    code, out = cli("reparse", "--db", str(db), "--format", "json", *args)
    assert code == 0
    return dict(json.loads(out))


def test_reparse_is_a_run_with_its_own_report(db: Path) -> None:
    report = reparse_store(db)
    run = report["run"]
    assert run["kind"] == "reparse" and run["status"] == "completed" and run["id"] == 3
    assert run["options"]["page"] is None and len(run["options"]["parser"]) == 16
    mosul = next(p for p in report["pages"] if p["key"].endswith(MOSUL))
    assert mosul["status"] == "reparsed"
    (v1,) = mosul["reparse"]["versions"]
    assert (v1["version"], v1["outcome"]) == (1, "reparsed")
    assert v1["statements"]["removed"] == 1 and v1["statements"]["added"] == 0
    assert [c["old"] for c in v1["statement_changes"]] == [BANNER]
    assert v1["new_statement_count"] == v1["old_statement_count"] - 1
    (pair,) = mosul["reparse"]["pairs"]
    assert (pair["from_version"], pair["to_version"], pair["superseded"], pair["added"]) == \
        (1, 2, 1, 0)
    assert [c["old"] for c in mosul["reparse"]["superseded_changes"]] == [BANNER]
    # the same report, later, from the store; and rendered
    code, again = cli("report", "--db", str(db), "--run", "3", "--format", "json")
    assert code == 0 and json.loads(again) == report
    code, text = cli("report", "--db", str(db), "--run", "3")
    assert "briefwatch reparse run 3" in text and "v1: 1 removed" in text
    assert "v1 -> v2: changes 0 added, 1 superseded" in text
    code, markdown = cli("report", "--db", str(db), "--run", "3", "--format", "markdown")
    assert markdown.startswith("# briefwatch reparse run 3")


def test_second_reparse_changes_nothing_and_says_so(db: Path) -> None:
    reparse_store(db)
    data = [line for line in table_dump(db) if "INSERT INTO \"runs\"" not in line]
    report = reparse_store(db)
    assert report["pages"] == []
    counts = report["run"]["counts"]
    assert counts["versions_reparsed"] == 0 and counts["versions_identical"] == 4
    assert counts["changes_added"] == counts["changes_superseded"] == 0
    assert [line for line in table_dump(db) if "INSERT INTO \"runs\"" not in line] == data
    code, text = cli("reparse", "--db", str(db))
    assert code == 0 and "nothing to change" in text


def test_dry_run_writes_nothing_and_predicts_the_run(db: Path) -> None:
    before = table_dump(db)
    dry = reparse_store(db, "--dry-run")
    assert table_dump(db) == before
    assert dry["run"]["id"] is None and dry["run"]["dry_run"] is True
    real = reparse_store(db)
    assert dry["run"]["counts"] == real["run"]["counts"]
    assert [p["key"] for p in dry["pages"]] == [p["key"] for p in real["pages"]]
    assert [p["reparse"]["versions"] for p in dry["pages"]] == \
        [p["reparse"]["versions"] for p in real["pages"]]


def test_page_filter(db: Path, tmp_path: Path) -> None:
    report = reparse_store(db, "--page", location_of(tmp_path, MATTIS))
    assert [p["key"] for p in report["pages"]] == [location_of(tmp_path, MATTIS)]
    assert report["run"]["options"]["page"] == location_of(tmp_path, MATTIS)
    with Store(db) as store:  # the other page still has its older parse
        mosul = store.load_document(store.version_id(location_of(tmp_path, MOSUL), 1))
    assert mosul.statements[0].text == BANNER


def test_since_filter_reparses_later_versions_and_their_pairs(db: Path, tmp_path: Path) -> None:
    with Store(db) as store:
        created = store.db.execute(
            "SELECT min(created_at) FROM versions WHERE number = 2").fetchone()[0]
    report = reparse_store(db, "--since", created)
    assert report["run"]["counts"]["versions"] == 2  # the v2s only
    (mattis,) = report["pages"]  # Mosul v2 was read by today's parser: nothing differs
    assert [v["version"] for v in mattis["reparse"]["versions"]] == [2]
    # its pair with v1 is recomputed; v1, not re-parsed, still has the banner (its removal
    # stays a change of the pair) and lacks the lost sentence: v2's is "added"
    assert [(p["added"], p["superseded"]) for p in mattis["reparse"]["pairs"]] == [(1, 0)]
    assert [(c["type"], c["old"]) for c in mattis["changes"]] == [("added", None)]
    first = mattis["changes"][0]["id"]
    report = reparse_store(db, "--since", "2000-01-01")
    assert report["run"]["counts"]["versions_reparsed"] == 2  # the v1s
    # the banners' removal and that "added" are superseded: v1 has the sentence now
    assert report["run"]["counts"]["changes_superseded"] == 3
    mattis = next(p for p in report["pages"] if p["key"].endswith(MATTIS))
    assert first in [c["id"] for c in mattis["reparse"]["superseded_changes"]]
    assert [c["numbers"] for c in mattis["changes"]] == [[{"old": "37", "new": "40"}]]


def test_since_is_checked() -> None:
    assert parse_since("2026-11-01") == "2026-11-01"
    assert parse_since("2026-11-01T12:00:00+01:00") == "2026-11-01T11:00:00.000Z"
    assert parse_since("2026-11-01T12:00Z") == "2026-11-01T12:00:00.000Z"
    code, _ = cli("reparse", "--db", "/nonexistent.db", "--since", "yesterday")
    assert code == 2


def test_failing_raw_page_fails_alone(tmp_path: Path) -> None:
    """A payload an older parser accepted and today's parser refuses (no body text)."""
    db = tmp_path / "briefwatch.db"
    odd = location_of(tmp_path, "odd.txt")
    with Store(db) as store:
        run = store.start_run([str(tmp_path)])
        raw = (EXAMPLES / "v1" / MOSUL).read_bytes()
        ingest_page(store, run, raw, location_of(tmp_path, MOSUL), with_banner)
        older = with_banner(parse(raw, location=odd))
        store.record_page(run, PageWrite(location=odd, source_root=odd, raw=b"\n \n",
                                         raw_hash="odd", doc=replace(older, key=odd, url=None)))
        finish(store, run)
    before = table_dump(db)
    report = reparse_store(db)
    failed = next(p for p in report["pages"] if p["key"] == odd)
    assert failed["status"] == "failed"
    assert "version 1 no longer parses: empty document" in failed["error"]
    assert report["run"]["counts"]["failed"] == 1 and report["run"]["counts"]["reparsed"] == 1
    assert report["run"]["status"] == "completed"
    with Store(db) as store:
        stored = store.load_document(store.version_id(odd, 1))
    assert stored.statements[0].text == BANNER  # untouched
    assert len(table_dump(db)) > len(before)
    assert_whole(db)  # the banner statement is kept for the old report only


def test_raw_not_kept_keeps_the_stored_statements(db: Path, tmp_path: Path) -> None:
    with Store(db) as store:  # the raw bytes of MOSUL v1 are unreadable (corrupt blob)
        store.db.execute(
            "UPDATE blobs SET data = x'00' WHERE hash = (SELECT raw_hash FROM versions "
            "WHERE id = ?)", [store.version_id(location_of(tmp_path, MOSUL), 1)])
        store.db.conn.commit()
    report = reparse_store(db)
    mosul = next(p for p in report["pages"] if p["key"].endswith(MOSUL))
    assert mosul["status"] == "unchanged"
    assert [(v["version"], v["outcome"]) for v in mosul["reparse"]["versions"]] == \
        [(1, "raw_not_kept")]
    assert "corrupt" in mosul["reparse"]["versions"][0]["error"]
    assert report["run"]["counts"]["raw_not_kept"] == 1
    with Store(db) as store:
        v1 = store.load_document(store.version_id(location_of(tmp_path, MOSUL), 1))
    assert v1.statements[0].text == BANNER
    code, text = cli("report", "--db", str(db), "--run", str(report["run"]["id"]))
    assert code == 0 and "v1: raw not kept" in text


def test_busy_store_exits_3(db: Path) -> None:
    with Store(db) as holder, holder.writer_lock():
        code, _ = cli("reparse", "--db", str(db))
        assert code == 3
        code, _ = cli("reparse", "--db", str(db), "--dry-run")  # reads only: no lock
        assert code == 0


def test_next_ingest_diffs_against_the_reparsed_version(db: Path, tmp_path: Path) -> None:
    reparse_store(db)
    with Store(db) as store:
        run = store.start_run([str(tmp_path)])
        raw = (EXAMPLES / "v2" / MOSUL).read_bytes().replace(b"170 bodies", b"171 bodies")
        assert ingest_page(store, run, raw, location_of(tmp_path, MOSUL)) == "changed"
        finish(store, run)
        changes = changes_of(store.run_report(run), MOSUL)
    assert [c["numbers"] for c in changes] == [[{"old": "170", "new": "171"}]]
    assert_whole(db)


def test_raw_dropped_by_retention_is_listed_and_kept(db: Path, tmp_path: Path) -> None:
    """``briefwatch vacuum --drop-raw-older-than 0`` drops the raw bytes of every version
    but the current ones: the v1s keep their (older) statements, the report says why."""
    code, _ = cli("vacuum", "--db", str(db), "--drop-raw-older-than", "0")
    assert code == 0
    report = reparse_store(db)
    counts = report["run"]["counts"]
    assert counts["raw_not_kept"] == 2 and counts["versions_reparsed"] == 1  # Mattis v2
    mosul = next(p for p in report["pages"] if p["key"].endswith(MOSUL))
    (v1,) = mosul["reparse"]["versions"]
    assert v1["outcome"] == "raw_not_kept" and "dropped" in v1["error"]
    with Store(db) as store:
        stored = store.load_document(store.version_id(location_of(tmp_path, MOSUL), 1))
    assert stored.statements[0].text == BANNER
    assert_whole(db)


def test_unknown_page_is_a_usage_error_and_records_nothing(db: Path) -> None:
    before = table_dump(db)
    code, _ = cli("reparse", "--db", str(db), "--page", "https://nowhere.example/x")
    assert code == 2
    assert table_dump(db) == before


def test_a_reparse_killed_midway_is_interrupted_and_the_next_one_completes(db: Path) -> None:
    """A reparse whose process died (its run left ``running``, its lock gone) after it
    rewrote some pages: the next reparse marks it interrupted and finishes the job."""
    with Store(db) as store, store.writer_lock():
        (page_id, key), (_, other) = store.reparse_selection(None, None)
        dead = store.start_reparse(ReparseOptions().as_dict())
        page, _seen = plan_page(store, page_id, key, ReparseOptions())
        store.apply_reparse(dead, page)  # one page done, then the process "dies"
    report = reparse_store(db)
    assert [p["key"] for p in report["pages"]] == [other]  # what was left to do
    with Store(db) as store:
        status = store.db.execute("SELECT status FROM runs WHERE id = ?", [dead]).fetchone()
        assert status == ("interrupted",)
        dead_report = store.run_report(dead)
    assert [p["key"] for p in dead_report["pages"]] == [key]
    assert dead_report["run"]["status"] == "interrupted"
    assert (dead_report["run"]["counts"]["reparsed"],
            dead_report["run"]["counts"]["versions_reparsed"]) == (1, 1)
    assert reparse_store(db)["pages"] == []
    assert_whole(db)
