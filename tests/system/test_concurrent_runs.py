"""Two `briefwatch ingest` processes started at the same moment on one store, over the same
pages that have just changed (issue 7, "concurrency"). No Prefect server: each process runs
the flow on Prefect's ephemeral API, as a cron job or a user at a terminal would.

The sources include a page on a local web server that holds its first reader until the test
lets go (tests/support/racing.py: GatedPage): whichever run takes the store's writer lock first is
held inside it, so the other one meets a busy store every time — no timing luck. Then:
with ``--wait`` the other prints one line naming the holder, waits, and runs after it; with
the default ``--wait 0`` it stops with exit status 3 and one line naming the holder. Either
way every change is reported exactly once and the store holds no duplicate version.
"""

from __future__ import annotations

import contextlib
import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from briefwatch.cli.app import EXIT_BUSY, main
from tests.support.racing import (
    CliRun,
    GatedPage,
    assert_store_consistent,
    copy_pages,
    figure_changes,
    holder_of,
    page_outcomes,
    released,
    reported_changes,
    start_cli,
    store_rows,
    stored_changes,
    wait_until,
)
from tests.support.webserver import Site

WAIT = 90.0


@dataclass
class Race:
    """One race: the store, the run that held it, the other one, what the pages became."""

    db: Path
    holder: CliRun
    other: CliRun
    figures: tuple[tuple[str, str], ...]


@pytest.fixture(scope="module")
def races(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Race]:
    """A first capture (v1, in this process), then two races on the same store: every page
    edited (v2) and both runs with ``--wait``; then every page edited back (v1) and both
    runs without it."""
    base = tmp_path_factory.mktemp("races")
    pages, db = base / "pages", base / "store.db"
    with Site() as site:
        gate = GatedPage(site)
        _seed(pages, gate, db)
        found = {}
        for label, version, wait, figures in (
                ("wait", "v2", WAIT, (("163", "170"), ("12", "19"))),
                ("refuse", "v1", 0.0, (("170", "163"), ("19", "12")))):
            copy_pages(pages, version)
            args = [str(pages), "--config", str(gate.config(base))]
            holder, other = _race(base / label, gate, args, db, wait)
            found[label] = Race(db, holder, other, figures)
            assert_store_consistent(db)
    return found


def _seed(pages: Path, gate: GatedPage, db: Path) -> None:
    """The first capture (v1 of every page), in this process."""
    copy_pages(pages, "v1")
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["ingest", str(pages), "--config", str(gate.config(pages.parent)),
                     "--db", str(db), "--quiet"]) == 0


def _race(work: Path, gate: GatedPage, args: list[str], db: Path,
          wait: float) -> tuple[CliRun, CliRun]:
    """Start two runs at once; once one holds the store, wait for the other to meet it (a
    waiting line, or exit status 3), then let the holder go. Returns (holder, other)."""
    gate.close("v2" if gate.version == "v1" else "v1")
    with released(gate):
        runs = [start_cli(name, work, args, db, wait) for name in ("first", "second")]
        wait_until("a run to hold the store (and be held by the gated page)",
                   lambda: gate.held() or _all_exited(runs))

        def loser() -> CliRun | None:
            for cli in runs:
                if (wait and "waits up to" in cli.stderr()) or (
                        not wait and cli.popen.poll() is not None):
                    return cli
            return None

        other: CliRun = wait_until("the other run to meet the busy store", loser)
    for cli in runs:
        cli.finish()
    [holder] = [cli for cli in runs if cli is not other]
    return holder, other


def _all_exited(runs: list[CliRun]) -> bool:
    if all(cli.popen.poll() is not None for cli in runs):
        raise AssertionError("both runs ended before either held the store:\n"
                             + "\n".join(cli.stderr()[-2000:] for cli in runs))
    return False


def _assert_reported_once(race: Race, reports: list[dict[str, Any]]) -> None:
    """Every page edit and every change the race stored reported exactly once, over all
    reports; the store holds no duplicate version."""
    assert_store_consistent(race.db)
    outcomes = page_outcomes(*reports)
    assert sorted(outcomes.values()) == [1, 1, 1, 1], outcomes
    assert {status for _key, status in outcomes} == {"changed"}
    run_ids = [r["run"]["id"] for r in reports]
    stored = stored_changes(race.db, run_ids)
    assert stored and reported_changes(*reports) == stored
    for old, new in race.figures:
        assert figure_changes(reports, old, new) == 1, (old, new)


def test_with_wait_the_second_run_waits_then_finds_nothing_new(races: dict[str, Race]) -> None:
    race = races["wait"]
    first, second = race.holder.report(), race.other.report()
    _assert_reported_once(race, [first, second])
    assert first["run"]["counts"]["changed"] == 4
    assert second["run"]["counts"] == {"new": 0, "changed": 0, "unchanged": 4, "gone": 0,
                                       "failed": 0, "blocked": 0}
    assert first["run"]["finished_at"] <= second["run"]["started_at"]
    # one clear line, from briefwatch itself, naming the holder and saying that it waits
    err = race.other.stderr()
    busy = [line for line in err.splitlines() if "is in use by another run" in line]
    assert len(busy) == 1 and busy[0].startswith("briefwatch: store "), err
    assert busy[0].endswith(f"; this run waits up to {WAIT:g} s for it")
    named = holder_of(busy[0])
    assert named["db"] == str(race.db)
    assert (int(named["pid"]), int(named["run"])) == (race.holder.pid, first["run"]["id"])
    assert "Traceback" not in err


def test_without_wait_the_second_run_is_refused_and_writes_nothing(
        races: dict[str, Race]) -> None:
    race = races["refuse"]
    assert race.other.popen.returncode == EXIT_BUSY, race.other.stderr()
    first = race.holder.report()
    _assert_reported_once(race, [first])
    assert race.other.out.read_text() == ""
    err = race.other.stderr()
    named = holder_of(err)
    assert (int(named["pid"]), int(named["run"])) == (race.holder.pid, first["run"]["id"])
    assert (f"briefwatch: store {race.db} is in use by another run (pid {race.holder.pid}, "
            in err)
    assert "; this run wrote nothing and did not wait (--wait SECONDS waits for it)" in err
    assert "Traceback" not in err
    # seed, the two runs of the first race, this race's holder: the refused run left no trace
    assert store_rows(race.db, "SELECT id FROM runs ORDER BY id") == [(1,), (2,), (3,), (4,)]


@pytest.mark.parametrize("value", ["-1", "soon", "nan", "inf"])
def test_wait_must_be_seconds(value: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["ingest", ".", "--wait", value])
    assert exited.value.code == 2
    assert "--wait" in capsys.readouterr().err
