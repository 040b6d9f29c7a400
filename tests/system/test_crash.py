"""Crash safety (issue 7): carry-over of unreported changes, dead runs, ``check_store`` and
``briefwatch check``, and a few real SIGKILLs of ``briefwatch ingest`` (the long version:
``python -m reliability.crash --kills 24``).

The carry-over tests drive the pipeline's own steps on a real store, stopping a run where
a SIGKILL would (after its pages were stored, before it finished or reported), so the
semantics are checked exactly; the kill tests check that real kills leave nothing else.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from briefwatch.cli import main
from briefwatch.pipeline.sources import discover
from briefwatch.pipeline.steps import IngestOptions, read_and_parse, store_results
from briefwatch.store import Store
from briefwatch.store.integrity import check_store
from tests.support.paths import REPO

ROOT = REPO

from reliability.crash import CrashOptions, run  # noqa: E402

FIGURE = "Officials said {n} people were counted at the northern checkpoint on Sunday."
OTHER = "The convoy reached the district after a delay of {n} hours, the agency said."


def _write(pages: Path, name: str, figure: int, other: int = 5) -> None:
    pages.mkdir(exist_ok=True)
    (pages / f"{name}.md").write_text(
        f"---\ntitle: Briefing {name}\nsource_url: https://example.gov/{name}\n---\n\n"
        f"The ministry held a briefing on the relief effort.\n\n{FIGURE.format(n=figure)}\n\n"
        f"{OTHER.format(n=other)}\n", encoding="utf-8")


def _run(db: Path, pages: Path, *, finish: bool = True,
         report: bool = True) -> tuple[int, dict[str, Any] | None]:
    """One ingest run through the pipeline's steps. ``finish=False``: stop after storing
    the pages, as a run killed there (its lock dies with it); ``report=False``: finished
    but never delivered (killed while printing)."""
    with Store(db) as store, store.writer_lock():
        run_id = store.start_run([str(pages)])
        items = discover([str(pages)])
        known = store.location_hashes([i.location for i in items])
        store_results(store, run_id, read_and_parse(items, known, IngestOptions()))
        if not finish:
            return run_id, None
        store.mark_gone(run_id, source_root=pages.resolve().as_uri(),
                        seen_locations={i.location for i in items})
        store.finish_run(run_id, reported=False)
        delivered = store.run_report(run_id)
        if report:
            store.mark_reported(run_id)
        return run_id, delivered


def _pages(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {p["key"].rsplit("/", 1)[1]: p for p in report["pages"]}


def _report(db: Path, run_id: int) -> dict[str, Any]:
    with Store(db, create=False) as store:
        return store.run_report(run_id)


def _runs(db: Path) -> list[tuple[int, str, int | None]]:
    with sqlite3.connect(db) as conn:
        return [tuple(r) for r in conn.execute("SELECT id, status, reported_in FROM runs")]


@pytest.fixture
def store_paths(tmp_path: Path) -> tuple[Path, Path]:
    pages = tmp_path / "pages"
    for name, figure in (("a", 163), ("b", 40), ("c", 7)):
        _write(pages, name, figure)
    return tmp_path / "store.db", pages


def test_killed_run_changes_are_reported_once_by_the_next_run(
        store_paths: tuple[Path, Path]) -> None:
    db, pages = store_paths
    _run(db, pages)
    _write(pages, "a", 170)  # edited, then a run stores it and is killed
    killed, _ = _run(db, pages, finish=False)
    _write(pages, "b", 41)  # edited after the kill
    recovery, delivered = _run(db, pages)
    assert delivered is not None
    assert [(r, s) for r, s, _ in _runs(db)][:2] == [(1, "completed"), (killed, "interrupted")]

    page_a, page_b = _pages(delivered)["a"], _pages(delivered)["b"]
    # unchanged in the recovery run, changed in the killed one: reported with its changes
    assert (page_a["status"], page_a["previous_version"], page_a["version"]) == ("changed", 1, 2)
    assert page_a["carried_from_runs"] == [killed]
    assert [(c["run_id"], c["numbers"]) for c in page_a["changes"]] == [
        (killed, [{"old": "163", "new": "170"}])]
    assert page_b["carried_from_runs"] == [] and page_b["changes"][0]["run_id"] == recovery
    run = delivered["run"]
    assert run["counts"]["changed"] == 2 and run["counts"]["unchanged"] == 1
    assert run["own_counts"]["changed"] == 1 and run["own_counts"]["unchanged"] == 2
    assert run["carried_over"] | {} == {"runs": [killed], "interrupted": [killed],
                                        "contributing_runs": [killed], "pages": 1,
                                        "changes": 1}
    assert [r for r in _runs(db) if r[0] in (killed, recovery)] == [
        (killed, "interrupted", recovery), (recovery, "completed", recovery)]

    # regenerated later, after more runs: the same report; the killed run's own report
    # is its own outcomes only; the next run carries nothing again
    _write(pages, "c", 8)
    third, later = _run(db, pages)
    assert later is not None and later["run"]["carried_over"]["runs"] == []
    assert [p["carried_from_runs"] for p in later["pages"]] == [[], [], []]
    assert _report(db, recovery) == delivered
    assert _pages(_report(db, killed))["a"]["carried_from_runs"] == []
    assert third == recovery + 1


def test_page_changed_in_killed_and_next_run_shows_both(store_paths: tuple[Path, Path]) -> None:
    db, pages = store_paths
    _run(db, pages)
    _write(pages, "a", 170)
    killed, _ = _run(db, pages, finish=False)
    _write(pages, "a", 170, other=9)
    recovery, delivered = _run(db, pages)
    assert delivered is not None
    page = _pages(delivered)["a"]
    assert (page["status"], page["previous_version"], page["version"]) == ("changed", 1, 3)
    assert [(c["run_id"], c["from_version"], c["to_version"]) for c in page["changes"]] == [
        (killed, 1, 2), (recovery, 2, 3)]
    assert page["carried_from_runs"] == [killed]
    assert delivered["run"]["counts"]["changed"] == 1


def test_run_killed_while_reporting_is_carried_new_and_gone_too(
        store_paths: tuple[Path, Path]) -> None:
    """A run that finished but died printing its report (completed, never reported): its
    new and gone pages come with the next report, once."""
    db, pages = store_paths
    _run(db, pages)
    (pages / "c.md").unlink()
    _write(pages, "d", 1)
    unreported, first_try = _run(db, pages, report=False)
    assert first_try is not None
    recovery, delivered = _run(db, pages)
    assert delivered is not None
    by_key = _pages(delivered)
    assert by_key["c"]["status"] == "gone" and by_key["c"]["carried_from_runs"] == [unreported]
    assert by_key["d"]["status"] == "new" and by_key["d"]["carried_from_runs"] == [unreported]
    assert {c["type"] for c in by_key["d"]["changes"]} == {"added"}
    assert (delivered["run"]["counts"]["new"], delivered["run"]["counts"]["gone"]) == (1, 1)
    assert _runs(db)[1:] == [(unreported, "completed", recovery),
                             (recovery, "completed", recovery)]
    # the undelivered report, made again now, is what it would have printed
    assert _report(db, unreported) == first_try


def test_start_run_marks_dead_runs_interrupted_with_counts(
        store_paths: tuple[Path, Path]) -> None:
    db, pages = store_paths
    dead, _ = _run(db, pages, finish=False)
    report = check_store(db)
    assert report.ok and [p.kind for p in report.notices] == ["dead_run", "unreported"]
    _run(db, pages)
    with Store(db, create=False) as store:
        summary = store.run_summary(dead)
    assert summary.status == "interrupted" and summary.counts["new"] == 3
    assert check_store(db).problems == ()


def _corrupt_partial_version(conn: sqlite3.Connection) -> None:
    conn.execute("DELETE FROM version_statements WHERE version_id = 1 AND position = 0")


def _corrupt_orphans(conn: sqlite3.Connection) -> None:
    conn.execute("INSERT INTO statements (id, text, kind) VALUES ('x1', 'Orphan.', 'narration')")
    conn.execute("INSERT INTO blobs (hash, data, size, compression) VALUES ('h', x'00', 1, 'none')")


def _corrupt_current_version(conn: sqlite3.Connection) -> None:
    conn.execute("UPDATE pages SET current_version_id = NULL WHERE id = 1")


@pytest.mark.parametrize(("corrupt", "kinds"), [
    (_corrupt_partial_version, {"partial_version"}),
    (_corrupt_orphans, {"orphan"}),
    (_corrupt_current_version, {"partial_version"}),
])
def test_check_finds_partial_versions_and_orphans(
        store_paths: tuple[Path, Path], capsys: pytest.CaptureFixture[str],
        corrupt: Callable[[sqlite3.Connection], None], kinds: set[str]) -> None:
    db, pages = store_paths
    _run(db, pages)
    assert main(["check", "--db", str(db)]) == 0
    with sqlite3.connect(db) as conn:
        corrupt(conn)
    capsys.readouterr()
    assert main(["check", "--db", str(db), "--format", "json"]) == 1
    result = json.loads(capsys.readouterr().out)
    assert not result["ok"] and {e["kind"] for e in result["errors"]} == kinds


def test_check_refuses_a_held_store(store_paths: tuple[Path, Path],
                                    capsys: pytest.CaptureFixture[str]) -> None:
    db, pages = store_paths
    _run(db, pages)
    with Store(db) as store, store.writer_lock():
        assert main(["check", "--db", str(db)]) == 3
    assert "in use by another run" in capsys.readouterr().err


def test_real_kills_leave_a_clean_store_and_lose_nothing(tmp_path: Path) -> None:
    """Two SIGKILLs of `briefwatch ingest` subprocesses, mid store write and while
    reporting; each followed by check_store and a normal run (see reliability/crash.py)."""
    options = CrashOptions(kills=2, seed=3, local_pages=80, web_pages=16, hosts=2,
                           latency=0.02, workdir=tmp_path / "crash",
                           phases=("store write", "report"))
    summary = run(options, lambda line: None)
    assert summary["kills"] == 2, summary
    assert summary["recovered"] == 2, json.dumps(summary["results"], indent=1)[:4000]
    assert summary["regenerated_reports_differing"] == []
    assert set(summary["by_phase_target"]) == {"store write", "report"}


def test_crash_script_world_counts_each_edit_once() -> None:
    """The script's ground truth: an edit is one event; a report's events come from its
    pages' changes (new pages once, however many statements)."""
    from reliability.crash_world import Truth, report_events

    truth = Truth()
    truth.new("file:///a")
    truth.changed("file:///a")
    report = {"pages": [
        {"location": "file:///a", "status": "changed",
         "changes": [{"type": "changed", "to_version": 2}]},
        {"location": "file:///b", "status": "new",
         "changes": [{"type": "added", "to_version": 1}, {"type": "added", "to_version": 1}]},
    ]}
    assert report_events(report) - truth.expected == {("new", "file:///b"): 1}
    assert truth.expected - report_events(report) == {("new", "file:///a"): 1}
