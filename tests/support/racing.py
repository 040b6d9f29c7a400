"""Helpers for the concurrent-run tests: a web page that holds its first reader (so the run
that took the store's writer lock keeps it until the test lets go), `briefwatch ingest`
processes whose output can be read while they run, and the store invariants two runs at
once must keep (tests/system/test_concurrent_runs.py, tests/flows/test_deploy.py)."""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import re
import shutil
import sqlite3
import subprocess
import threading
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from briefwatch.cli.app import EXAMPLES
from tests.support.prefectproc import BIN, prefect_env, wait_for
from tests.support.webserver import Reply, Seen, Site, html

GATE_PATH = "/briefing/gated"
GATE_LIMIT = 90.0  # s, then it answers anyway (below the read timeout of config())
HOLDER = re.compile(r"store (?P<db>\S+) is in use by another run \(pid (?P<pid>\d+), "
                    r"run (?P<run>\d+), since (?P<since>[0-9T:.\-]+Z)\)")


@dataclass
class GatedPage:
    """A page on ``site`` whose first request waits until :meth:`open` (at most GATE_LIMIT
    seconds): the run that fetches it first sits inside the store's writer lock until the
    test lets it go. Later requests are answered at once. ``version`` picks its content."""

    site: Site
    version: str = "v1"
    _gate: threading.Event = field(default_factory=threading.Event)
    _calls: int = 0

    def __post_init__(self) -> None:
        self.url = self.site.route(GATE_PATH, self._answer)
        self._gate.set()  # open until the test closes it

    def _answer(self, seen: Seen, number: int) -> Reply:
        del seen
        if number == self._calls:
            self._gate.wait(GATE_LIMIT)  # then answers anyway: a stuck test cannot hang
        words = {"v1": ("12 people were evacuated on Monday.", "The bridge stays closed."),
                 "v2": ("19 people were evacuated on Monday.", "The bridge reopens Friday.")}
        body = html(f"Gated briefing ({self.version})", *words[self.version],
                    canonical=self.site.url(GATE_PATH))
        return Reply(200, body, {"Content-Type": "text/html; charset=utf-8"})

    def close(self, version: str) -> None:
        """Serve ``version`` and hold the next run that asks."""
        self.version = version
        self._calls = len(self.site.requests_to(GATE_PATH))
        self._gate.clear()

    def open(self) -> None:
        self._gate.set()

    def config(self, where: Path) -> Path:
        """A sources.toml with this page as a web source, and a read timeout longer than a
        test holds it."""
        path = where / "gated-sources.toml"
        path.write_text(f'[fetch]\nread_timeout = {GATE_LIMIT + 30:g}\n'
                        f'total_timeout = {GATE_LIMIT + 60:g}\nretries = 0\n\n'
                        f'[[source]]\nname = "gated"\nkind = "urls"\nurls = ["{self.url}"]\n')
        return path

    def held(self) -> bool:
        """Whether a run is being held (it asked since :meth:`close`)."""
        return len(self.site.requests_to(GATE_PATH)) > self._calls


def copy_pages(pages: Path, version: str) -> None:
    """The bundled example pages of ``version`` into ``pages`` (edits them in place)."""
    pages.mkdir(parents=True, exist_ok=True)
    for src in sorted((EXAMPLES / version).iterdir()):
        shutil.copyfile(src, pages / src.name)


@dataclass
class CliRun:
    """A `briefwatch ingest ... --format json` process; stdout and stderr go to files."""

    name: str
    popen: subprocess.Popen[bytes]
    out: Path
    err: Path

    @property
    def pid(self) -> int:
        return self.popen.pid

    def stderr(self) -> str:
        return self.err.read_text(errors="replace") if self.err.exists() else ""

    def finish(self, timeout: float = 150) -> int:
        try:
            return self.popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.popen.kill()
            self.popen.wait()
            raise AssertionError(f"{self.name} did not finish in {timeout:g} s:\n"
                                 f"{self.stderr()[-3000:]}") from None

    def report(self) -> dict[str, Any]:
        assert self.popen.returncode == 0, self.stderr()
        found: dict[str, Any] = json.loads(self.out.read_text())
        return found


def warm_prefect_home(home: Path) -> None:
    """Give ``home`` a copy of this process's Prefect database (tests/conftest.py sets
    PREFECT_HOME; it exists once a flow ran here): a process starting Prefect's ephemeral
    API on it skips creating and migrating one, half its start-up time."""
    source = Path(os.environ["PREFECT_HOME"]) / "prefect.db"
    if not source.exists():
        return
    home.mkdir(parents=True, exist_ok=True)
    with contextlib.closing(sqlite3.connect(source)) as src, \
            contextlib.closing(sqlite3.connect(home / "prefect.db")) as dest:
        src.backup(dest)


def start_cli(name: str, work: Path, args: list[str], db: Path, wait: float,
              api_url: str | None = None) -> CliRun:
    """`briefwatch ingest ARGS --db DB --format json --wait WAIT` in its own process (and
    its own PREFECT_HOME: without ``api_url``, each runs Prefect's ephemeral API)."""
    work.mkdir(parents=True, exist_ok=True)
    out, err = work / f"{name}.out", work / f"{name}.err"
    home = work / f"{name}-home"
    if api_url is None:
        warm_prefect_home(home)
    env = prefect_env(home, api_url)
    with out.open("wb") as stdout, err.open("wb") as stderr:
        popen = subprocess.Popen(
            [str(BIN / "briefwatch"), "ingest", *args, "--db", str(db), "--format", "json",
             "--wait", f"{wait:g}"],
            env=env, cwd=work, stdout=stdout, stderr=stderr, stdin=subprocess.DEVNULL)
    return CliRun(name, popen, out, err)


def wait_until(what: str, check: Any, timeout: float = 120) -> Any:
    return wait_for(what, check, timeout, interval=0.1)


@contextlib.contextmanager
def released(gate: GatedPage) -> Iterator[None]:
    """Open the gate when the block ends, however it ends."""
    try:
        yield
    finally:
        gate.open()


# --------------------------------------------------------------------- store invariants


def store_rows(db: Path, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    with contextlib.closing(sqlite3.connect(db)) as conn:
        return conn.execute(sql, params).fetchall()


def assert_store_consistent(db: Path) -> None:
    """What two runs at once must never leave: a damaged file, two versions with one number,
    a version that repeats the one before it (a duplicate), runs whose writes overlapped."""
    assert store_rows(db, "PRAGMA integrity_check") == [("ok",)]
    assert store_rows(db, "SELECT page_id, number FROM versions GROUP BY page_id, number "
                          "HAVING count(*) > 1") == [], "two versions with one number"
    repeats = store_rows(db, """
        SELECT a.page_id, a.number FROM versions a JOIN versions b
          ON b.page_id = a.page_id AND b.number = a.number + 1
         WHERE a.content_hash = b.content_hash""")
    assert repeats == [], f"a version repeats the one before it: {repeats}"
    runs = store_rows(db, "SELECT id, status, started_at, finished_at FROM runs ORDER BY "
                          "started_at")
    assert all(r[1] == "completed" for r in runs), runs
    for before, after in itertools.pairwise(runs):
        assert before[3] <= after[2], f"runs {before[0]} and {after[0]} wrote at once"


def page_outcomes(*reports: dict[str, Any]) -> Counter[tuple[str, str]]:
    """(page key, status) over ``reports``, unchanged pages left out."""
    return Counter((p["key"], p["status"]) for r in reports for p in r["pages"]
                   if p["status"] != "unchanged")


def reported_changes(*reports: dict[str, Any]) -> Counter[int]:
    """Stored change ids over ``reports`` (a change reported twice counts 2)."""
    return Counter(c["id"] for r in reports for p in r["pages"] for c in p.get("changes") or []
                   if c.get("id") is not None)


def stored_changes(db: Path, run_ids: list[int]) -> Counter[int]:
    """Ids of the changes the versions of ``run_ids`` stored."""
    marks = ", ".join("?" for _ in run_ids)
    return Counter(row[0] for row in store_rows(
        db, f"SELECT id FROM changes WHERE run_id IN ({marks})", tuple(run_ids)))


def figure_changes(reports: list[dict[str, Any]], old: str, new: str) -> int:
    """How many times ``old → new`` is reported as a changed number over ``reports``."""
    return sum(1 for r in reports for p in r["pages"] for c in p.get("changes") or []
               for n in c.get("numbers") or [] if (n.get("old"), n.get("new")) == (old, new))


def holder_of(text: str) -> dict[str, str]:
    """pid, run and since of the holder named in a busy message in ``text``."""
    found = HOLDER.search(text)
    assert found, f"no holder named in:\n{text[-2000:]}"
    return found.groupdict()

