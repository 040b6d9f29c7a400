"""Crash safety, shown: kill ``briefwatch ingest`` with SIGKILL at random points, again and
again, and check that nothing is lost, broken or reported twice.

    .venv/bin/python -m reliability.crash --kills 24 --seed 7 [--json]

Each round edits the pages (:mod:`reliability.crash_world`: real briefing pages in a
directory and synthetic pages on local HTTP servers with latency), starts ``briefwatch
ingest DIR --config sources.toml --format json`` as a subprocess in a session of its own,
and kills its whole process group (the CLI, its parse workers, Prefect's temporary API
server) with SIGKILL at a random point of a chosen phase, detected from outside:

- ``parse``: the run's row is in the store, no page outcome yet, no write transaction
  open (the first chunks are being read and parsed), plus a random delay;
- ``store write``: a write transaction is open (a probe's ``BEGIN IMMEDIATE`` is refused)
  and a random number of page outcomes are committed;
- ``fetch``: a random number of requests reached the web servers, one is in flight;
- ``report``: the run is ``completed`` in the store (report built, artifacts publishing,
  printing, marking reported), plus a random delay, or its output has started.

The phase a kill hit is what was observed just before the signal. Then: ``check_store``
must find no error; a normal run must complete (exit 0); the store must be clean (no dead
run, nothing unreported); and the union of every DELIVERED report — a run the store marks
as reported by itself, whose output must then be complete — must hold exactly the edits
made so far (:class:`reliability.crash_world.Truth`), none lost, none twice. Each
delivered report must also equal the report regenerated from the store at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from contextlib import ExitStack, closing, suppress
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from reliability.crash_world import ROOT, Event, World, report_events

# isort: split
from tests.support.prefectproc import (  # tests/ (on sys.path: crash_world)
    prefect_env,
    prefect_server,
)

PHASES = ("parse", "store write", "fetch", "report")
_POLL = 0.003


@dataclass(frozen=True)
class CrashOptions:
    kills: int = 24
    seed: int = 7
    local_pages: int = 300
    web_pages: int = 120
    hosts: int = 4
    latency: float = 0.05
    edit_share: float = 0.35
    workdir: Path | None = None
    timeout: float = 180.0
    # "server": one `prefect server start` for the whole script (runs start in seconds);
    # "ephemeral": each run starts Prefect's temporary API server, as plain `briefwatch
    # ingest` does (killed with the run's process group; ~20 s a run on a loaded machine)
    prefect: str = "server"
    phases: tuple[str, ...] = PHASES  # targeted in turn


@dataclass
class Observation:
    """The run as seen from outside, at one instant."""

    run_id: int | None = None
    run_status: str | None = None
    outcomes: int = 0
    write_open: bool = False
    requests: int = 0
    in_flight: int = 0
    output_bytes: int = 0

    def phase(self) -> str:
        if self.run_id is None:
            return "startup"
        if self.run_status != "running" or self.output_bytes:
            return "report"
        if self.write_open:
            return "store write"
        if self.in_flight or self.requests:
            return "fetch"
        return "parse"


@dataclass
class KillResult:
    kill: int
    target: str
    hit: str
    delay: float
    observed: dict[str, Any]
    killed_run: int | None
    killed_run_status: str | None = None
    check_after_kill: list[str] = field(default_factory=list)
    notices_after_kill: list[str] = field(default_factory=list)
    recovery_exit: int | None = None
    recovery_carried: dict[str, Any] = field(default_factory=dict)
    check_after_recovery: list[str] = field(default_factory=list)
    lost: list[str] = field(default_factory=list)
    twice: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def recovered(self) -> bool:
        return not (self.check_after_kill or self.check_after_recovery or self.lost
                    or self.twice) and self.recovery_exit == 0


class Trigger:
    """When to kill, for a target phase: a condition on observations, then a delay."""

    def __init__(self, target: str, rng: random.Random, world: World) -> None:
        self.target = target
        self.delay = 0.0
        self.threshold = 0
        self.on_output = False
        if target == "parse":
            self.delay = rng.uniform(0.0, 0.25)
        elif target == "store write":
            self.threshold = rng.randint(0, max(1, int(len(world.local.bodies) * 0.8)))
        elif target == "fetch":
            self.threshold = rng.randint(1, max(2, len(world.web) // 2))
            self.delay = rng.uniform(0.0, 0.02)
        else:
            self.on_output = rng.random() < 0.3
            self.delay = rng.uniform(0.0, 0.01) if self.on_output else rng.uniform(0.0, 0.5)

    def ready(self, obs: Observation, start_requests: int) -> bool:
        if obs.run_id is None:
            return False
        if self.target == "parse":
            return obs.run_status == "running" and obs.outcomes == 0 and not obs.write_open
        if self.target == "store write":
            return obs.write_open and obs.outcomes >= self.threshold
        if self.target == "fetch":
            return obs.in_flight > 0 and obs.requests - start_requests >= self.threshold
        if self.on_output:
            return obs.output_bytes > 0
        return obs.run_status not in (None, "running")


class Runner:
    """Starts ingest runs over the world and watches them from outside."""

    def __init__(self, workdir: Path, world: World, options: CrashOptions,
                 api_url: str | None) -> None:
        self.workdir, self.world, self.options = workdir, world, options
        self.db = workdir / "store.db"
        self.sources = world.write_sources(workdir / "sources.toml")
        self.outputs: dict[int, Path] = {}  # run id -> its stdout
        self.count = 0
        self.env = prefect_env(workdir / "prefect-home", api_url,
                               PREFECT_LOGGING_LEVEL="WARNING",
                               # a loaded machine can take longer than the default 20 s
                               PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS="120")

    def start(self) -> tuple[subprocess.Popen[bytes], Path]:
        self.count += 1
        out = self.workdir / f"run{self.count:03d}.out"
        with open(out, "wb") as stdout, open(out.with_suffix(".err"), "wb") as stderr:
            proc = subprocess.Popen(
                [sys.executable, "-m", "briefwatch.cli", "ingest", str(self.world.local.directory),
                 "--config", str(self.sources), "--db", str(self.db), "--format", "json"],
                stdout=stdout, stderr=stderr, cwd=ROOT, env=self.env, start_new_session=True)
        return proc, out

    def run_to_end(self) -> tuple[int, dict[str, Any] | None]:
        """A normal run: its exit status and its report."""
        proc, out = self.start()
        try:
            code = proc.wait(timeout=self.options.timeout)
        except subprocess.TimeoutExpired:
            _kill_group(proc)
            return -1, None
        self._keep_output(out)
        return code, _parse_output(out)

    def run_and_kill(self, trigger: Trigger) -> tuple[Observation | None, int | None]:
        """A run killed when ``trigger`` fires; what was observed at the kill (None: the
        run ended first) and the killed run's id."""
        last_run = self._last_run()
        start_requests = self.world.requests()
        proc, out = self.start()
        deadline = time.monotonic() + self.options.timeout
        with closing(_probe(self.db)) as probe:
            fired = None
            while proc.poll() is None and time.monotonic() < deadline:
                obs = self._observe(probe, last_run, out)
                if fired is None and trigger.ready(obs, start_requests):
                    fired = time.monotonic()
                if fired is not None and time.monotonic() - fired >= trigger.delay:
                    obs = self._observe(probe, last_run, out)
                    _kill_group(proc)
                    obs.requests -= start_requests
                    # killed after its report was printed: the store says whether it
                    # counts as delivered (marked reported) or will be carried over
                    self._keep_output(out)
                    return obs, obs.run_id
                time.sleep(_POLL)
        if proc.poll() is None:
            _kill_group(proc)
        self._keep_output(out)
        return None, None

    def _keep_output(self, out: Path) -> None:
        report = _parse_output(out)
        if report is not None:
            self.outputs[int(report["run"]["id"])] = out

    def _last_run(self) -> int:
        with closing(sqlite3.connect(f"{self.db.resolve().as_uri()}?mode=ro", uri=True)) as c:
            return int(c.execute("SELECT coalesce(max(id), 0) FROM runs").fetchone()[0])

    def _observe(self, probe: sqlite3.Connection, last_run: int, out: Path) -> Observation:
        obs = Observation(requests=self.world.requests(), in_flight=self.world.in_flight(),
                          output_bytes=out.stat().st_size if out.exists() else 0)
        try:
            row = probe.execute("SELECT id, status FROM runs WHERE id > ? ORDER BY id DESC "
                                "LIMIT 1", [last_run]).fetchone()
            if row is not None:
                obs.run_id, obs.run_status = int(row[0]), str(row[1])
                obs.outcomes = int(probe.execute(
                    "SELECT count(*) FROM page_runs WHERE run_id = ?", [obs.run_id]
                ).fetchone()[0])
            obs.write_open = _write_open(probe)
        except sqlite3.OperationalError:
            obs.write_open = True  # the probe's read waited out its timeout: a writer
        return obs


def _probe(db: Path) -> sqlite3.Connection:
    """A connection that reads (WAL: never blocks the writer) and asks, without waiting,
    whether a write transaction is open."""
    return sqlite3.connect(f"{db.resolve().as_uri()}?mode=rw", uri=True, timeout=0,
                           isolation_level=None)


def _write_open(conn: sqlite3.Connection) -> bool:
    try:
        conn.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError:
        return True
    conn.execute("ROLLBACK")
    return False


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    with suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


def _parse_output(path: Path) -> dict[str, Any] | None:
    try:
        report: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return report


def _check(db: Path) -> tuple[list[str], list[str]]:
    from briefwatch.store.integrity import check_store

    result = check_store(db, lock_wait=30)
    return ([f"{p.kind}: {p.message}" for p in result.errors],
            [f"{p.kind}: {p.message}" for p in result.notices])


def _reported_runs(db: Path) -> dict[int, int | None]:
    with closing(sqlite3.connect(f"{db.resolve().as_uri()}?mode=ro", uri=True)) as conn:
        return {int(r[0]): r[1] for r in conn.execute("SELECT id, reported_in FROM runs")}


def delivered_events(runner: Runner) -> tuple[Counter[Event], list[str]]:
    """Events of every delivered report (reported by itself in the store), and problems:
    a run marked reported whose output is not a complete report."""
    events: Counter[Event] = Counter()
    problems = []
    for run_id, reported_in in sorted(_reported_runs(runner.db).items()):
        if reported_in != run_id:
            continue
        out = runner.outputs.get(run_id)
        report = None if out is None else _parse_output(out)
        if report is None:
            problems.append(f"run {run_id} is marked reported but printed no complete report")
            continue
        events += report_events(report)
    return events, problems


def _diff(expected: Counter[Event], got: Counter[Event]) -> tuple[list[str], list[str]]:
    lost = sorted(str(e) for e in (expected - got).elements())
    twice = sorted(str(e) for e in (got - expected).elements())
    return lost, twice


def one_kill(number: int, runner: Runner, rng: random.Random, target: str,
             log: Callable[[str], None]) -> KillResult | None:
    """Edit, run and kill in phase ``target``, recover, verify. None: the run ended
    before the trigger fired (it completed normally; nothing to recover)."""
    started = time.monotonic()
    runner.world.edit(rng, runner.options.edit_share)
    trigger = Trigger(target, rng, runner.world)
    obs, killed = runner.run_and_kill(trigger)
    if obs is None:
        log(f"  {target}: the run ended before the trigger fired; not counted")
        return None
    result = KillResult(number, target, obs.phase(), round(trigger.delay, 3), asdict(obs),
                        killed)
    result.check_after_kill, result.notices_after_kill = _check(runner.db)
    code, report = runner.run_to_end()
    result.recovery_exit = code
    if report is not None:
        result.recovery_carried = report["run"].get("carried_over", {})
    errors, notices = _check(runner.db)
    result.check_after_recovery = errors + [n for n in notices
                                            if n.startswith(("dead_run", "unreported"))]
    if killed is not None:
        result.killed_run_status = _run_status(runner.db, killed)
    got, problems = delivered_events(runner)
    result.lost, result.twice = _diff(runner.world.truth.expected, got)
    result.check_after_recovery += problems
    result.seconds = round(time.monotonic() - started, 1)
    return result


def _run_status(db: Path, run_id: int) -> str | None:
    with closing(sqlite3.connect(f"{db.resolve().as_uri()}?mode=ro", uri=True)) as conn:
        row = conn.execute("SELECT status FROM runs WHERE id = ?", [run_id]).fetchone()
    return None if row is None else str(row[0])


def regenerated_mismatches(runner: Runner) -> list[int]:
    """Delivered runs whose report, regenerated from the store now, differs."""
    from briefwatch.store import Store

    mismatched = []
    with Store(runner.db, create=False) as store:
        for run_id, reported_in in _reported_runs(runner.db).items():
            out = runner.outputs.get(run_id)
            if (reported_in == run_id and out is not None
                    and store.run_report(run_id) != _parse_output(out)):
                mismatched.append(run_id)
    return mismatched


def run(options: CrashOptions, log: Callable[[str], None]) -> dict[str, Any]:
    rng = random.Random(options.seed)
    with tempfile.TemporaryDirectory(prefix="briefwatch-crash-") as tmp:
        workdir = options.workdir or Path(tmp)
        workdir.mkdir(parents=True, exist_ok=True)
        world = World.build(workdir, rng, local_pages=options.local_pages,
                            web_pages=options.web_pages, hosts=options.hosts,
                            latency=options.latency)
        try:
            with ExitStack() as stack:
                api_url = None
                if options.prefect == "server":
                    api_url = stack.enter_context(prefect_server(workdir / "server")).url
                return _rounds(Runner(workdir, world, options, api_url), rng, options, log)
        finally:
            world.close()


def _rounds(runner: Runner, rng: random.Random, options: CrashOptions,
            log: Callable[[str], None]) -> dict[str, Any]:
    began = time.monotonic()
    runner.world.baseline()
    code, _ = runner.run_to_end()
    if code != 0:
        raise SystemExit(f"crash: the first run failed (exit {code}); see {runner.workdir}")
    results: list[KillResult] = []
    missed: Counter[str] = Counter()
    attempts = 0
    while len(results) < options.kills and attempts < options.kills * 3:
        target = options.phases[attempts % len(options.phases)]
        attempts += 1
        result = one_kill(len(results) + 1, runner, rng, target, log)
        if result is None:
            missed[target] += 1
            continue
        results.append(result)
        log(f"kill {result.kill:2d}: target {target:11s} hit {result.hit:11s} "
            f"run {result.killed_run} -> {result.killed_run_status}; carried "
            f"{result.recovery_carried.get('changes', 0)} change(s) from runs "
            f"{result.recovery_carried.get('contributing_runs', [])}; "
            f"{'recovered' if result.recovered else 'NOT RECOVERED'} ({result.seconds} s)")
        for problem in (result.check_after_kill + result.check_after_recovery
                        + result.lost[:5] + result.twice[:5]):
            log(f"    {problem}")
    return _summary(runner, results, missed, time.monotonic() - began)


def _summary(runner: Runner, results: list[KillResult], missed: Counter[str],
             seconds: float) -> dict[str, Any]:
    recovered = sum(r.recovered for r in results)
    mismatched = regenerated_mismatches(runner)
    reported = _reported_runs(runner.db)
    unmarked_complete = sum(1 for run_id in runner.outputs if reported.get(run_id) != run_id)
    return {
        "kills": len(results),
        "recovered": recovered,
        "by_phase_hit": dict(Counter(r.hit for r in results)),
        "by_phase_target": dict(Counter(r.target for r in results)),
        "missed_triggers": dict(missed),
        "expected_events": sum(runner.world.truth.expected.values()),
        "regenerated_reports_differing": mismatched,
        "complete_output_not_marked": unmarked_complete,
        "seconds": round(seconds, 1),
        "results": [asdict(r) | {"recovered": r.recovered} for r in results],
    }


def _arguments(argv: list[str] | None) -> tuple[CrashOptions, bool]:
    parser = argparse.ArgumentParser(prog="python -m reliability.crash", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--kills", type=int, default=24, help="kills to make (default 24)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--local-pages", type=int, default=300)
    parser.add_argument("--web-pages", type=int, default=120)
    parser.add_argument("--workdir", type=Path, default=None,
                        help="keep the pages, store and run outputs here")
    parser.add_argument("--prefect", choices=("server", "ephemeral"), default="server",
                        help="one Prefect server for all runs (default), or each run's "
                             "temporary API server, as plain `briefwatch ingest` starts it")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    args = parser.parse_args(argv)
    return CrashOptions(kills=args.kills, seed=args.seed, local_pages=args.local_pages,
                        web_pages=args.web_pages, workdir=args.workdir,
                        prefect=args.prefect), args.json


def main(argv: list[str] | None = None) -> int:
    options, as_json = _arguments(argv)
    summary = run(options, lambda line: print(line, file=sys.stderr, flush=True))
    ok = (summary["recovered"] == summary["kills"] and not summary["regenerated_reports_differing"])
    if as_json:
        print(json.dumps(summary, indent=2))
    else:
        phases = ", ".join(f"{n} {p}" for p, n in sorted(summary["by_phase_hit"].items()))
        print(f"{summary['recovered']} of {summary['kills']} kills recovered ({phases}); "
              f"{summary['expected_events']} page events delivered exactly once; "
              f"regenerated reports differing: {summary['regenerated_reports_differing'] or 0}; "
              f"{summary['seconds']} s")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
