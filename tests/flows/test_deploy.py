"""Deployments: the configuration files in deploy/, the store lock as flow runs meet it, and
the whole path on real Prefect servers — ``prefect deploy`` from deploy/prefect.yaml with a
process worker, manual triggers with parameters, artifacts, two runs at once, a cron schedule
served by deploy/serve.py, and workers on two queues of a server backed by PostgreSQL.

The server tests share one Prefect server (SQLite-backed, as a single machine runs it) per
module; the PostgreSQL test starts its own cluster and server. Every process they start is
stopped in teardown (tests/support/prefectproc.py).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import shutil
import signal
import sqlite3
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from briefwatch.cli.app import EXAMPLES, EXIT_BUSY, main
from briefwatch.flows.config import ConfigError, load_config, parse_config
from briefwatch.flows.run_support import artifact_keys
from briefwatch.flows.steps import (
    CheckoutNotFoundError,
    checkout_of,
    enter_checkout,
    installed_checkout,
)
from briefwatch.store import Store
from tests.support.paths import REPO
from tests.support.prefectproc import (
    PREFECT,
    PrefectServer,
    artifacts,
    create_run,
    flow_run,
    postgres_bin,
    postgres_cluster,
    prefect_server,
    run,
    state_names,
    wait_final,
    wait_for,
    wait_log,
)

DEPLOY = REPO / "deploy"
POOL = "briefwatch"


def _pages(where: Path, version: str = "v1") -> Path:
    where.mkdir(parents=True, exist_ok=True)
    for src in sorted((EXAMPLES / version).iterdir()):
        shutil.copyfile(src, where / src.name)
    return where


def _runs(db: Path) -> list[tuple[Any, ...]]:
    with contextlib.closing(sqlite3.connect(db)) as conn:
        return conn.execute("SELECT id, flow_run_id, status, counts, started_at, finished_at "
                            "FROM runs ORDER BY id").fetchall()


def _count(db: Path, table: str) -> int:
    with contextlib.closing(sqlite3.connect(db)) as conn:
        count: int = conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
        return count


# ------------------------------------------------------------- configuration (no server)


def test_served_config_file_is_valid_and_absolute() -> None:
    config = load_config(DEPLOY / "briefwatch.toml")
    assert config.deployments, "deploy/briefwatch.toml declares no deployment"
    for entry in config.deployments:
        assert all(Path(s).is_absolute() for s in entry.sources)
        assert Path(entry.db_path).is_absolute()
        assert all(Path(s).exists() for s in entry.sources), entry.sources


def test_prefect_yaml_declares_loadable_ingest_deployments() -> None:
    import inspect

    from prefect.flows import load_flow_from_entrypoint

    spec = yaml.safe_load((DEPLOY / "prefect.yaml").read_text())
    assert spec["pull"] == [{"briefwatch.flows.steps.enter_checkout":
                             {"directory": "{{ $BRIEFWATCH_HOME }}"}}]
    served = {d.name for d in load_config(DEPLOY / "briefwatch.toml").deployments}
    for deployment in spec["deployments"]:
        flow: Any = load_flow_from_entrypoint(deployment["entrypoint"])
        assert flow.name == "ingest"
        accepted = set(inspect.signature(flow.fn).parameters)
        assert set(deployment["parameters"]) <= accepted, "a parameter the flow does not take"
        assert "sources" in deployment["parameters"]
        for sched in deployment["schedules"]:
            assert len(sched["cron"].split()) == 5 and sched["timezone"]
        assert deployment["concurrency_limit"]["limit"] == 1
        assert deployment["work_pool"]["name"] == POOL
        assert deployment["name"] not in served, "one name for a worker and a served deployment"


_GOOD = {"name": "d", "sources": ["pages"], "db": "s.db", "cron": "*/5 * * * *"}


@pytest.mark.parametrize(("change", "message"), [
    ({"timezon": "UTC"}, "unknown key(s) timezon"),
    ({"db": None}, "missing db"),
    ({"timezone": "Mars/Olympus"}, "unknown time zone 'Mars/Olympus'"),
    ({"cron": "every hour"}, "is not five fields"),
    ({"cron": "0 * * *"}, "is not five fields"),
    ({"sources": []}, "sources must be a non-empty list"),
    ({"lock_wait": "10"}, "lock_wait has the wrong type"),
    ({"active": 1}, "active has the wrong type"),
    ({"chunk_size": True}, "chunk_size has the wrong type"),
    ({"artifact_suffix": "White House"}, "artifact_suffix must be lowercase"),
    ({"name": "a/b"}, "name must be letters"),
    ({"lock_wait": -1}, "lock_wait must be >= 0"),
])
def test_config_errors_name_the_problem(change: dict[str, Any], message: str,
                                        tmp_path: Path) -> None:
    table = {k: v for k, v in {**_GOOD, **change}.items() if v is not None}
    with pytest.raises(ConfigError) as raised:
        parse_config({"deployment": [table]}, tmp_path / "x.toml")
    assert message in str(raised.value)
    assert str(tmp_path / "x.toml") in str(raised.value)


@pytest.mark.parametrize(("data", "message"), [
    ({}, "no [[deployment]] tables"),
    ({"deployment": [_GOOD, _GOOD]}, "used twice: d"),
    ({"deployment": [_GOOD], "limit": 0}, "limit must be a positive integer"),
    ({"deployment": [_GOOD], "schedule": "x"}, "unknown key(s) schedule"),
])
def test_config_file_level_errors(data: dict[str, Any], message: str, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=re.escape(message)):
        parse_config(data, tmp_path / "x.toml")


def test_config_paths_are_relative_to_root(tmp_path: Path) -> None:
    conf = tmp_path / "conf" / "serve.toml"
    conf.parent.mkdir()
    conf.write_text('root = ".."\n[[deployment]]\nname = "n"\ncron = "0 7 * * 1-5"\n'
                    'timezone = "Europe/Berlin"\nsources = ["pages", "/abs/dir", '
                    '"https://example.org/feed"]\ndb = "store/b.db"\nartifact_suffix = "n-1"\n')
    entry = load_config(conf).deployments[0]
    assert entry.sources == (str(tmp_path / "pages"), "/abs/dir", "https://example.org/feed")
    assert entry.db_path == str(tmp_path / "store" / "b.db")
    assert entry.parameters() == {"sources": list(entry.sources), "db_path": entry.db_path,
                                  "chunk_size": 64, "lock_wait": 900.0,
                                  "artifact_suffix": "n-1"}


def test_unreadable_config_is_a_usage_error(tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["serve", "--config", str(tmp_path / "none.toml")]) == 2
    assert "cannot read" in capsys.readouterr().err
    bad = tmp_path / "bad.toml"
    bad.write_text("[[deployment]\n")
    assert main(["serve", "--config", str(bad)]) == 2
    assert "not valid TOML" in capsys.readouterr().err


def test_serve_refuses_without_a_server(tmp_path: Path) -> None:
    from tests.support.prefectproc import prefect_env

    result = run([sys.executable, str(DEPLOY / "serve.py")],
                 prefect_env(tmp_path / "home"), timeout=120, cwd=tmp_path)
    assert result.returncode == 2
    assert "no Prefect server: set PREFECT_API_URL" in result.stderr


@pytest.mark.parametrize(("suffix", "keys"), [
    ("", ("briefwatch-report", "briefwatch-changed-pages")),
    ("whitehouse", ("briefwatch-report-whitehouse", "briefwatch-changed-pages-whitehouse")),
    ("dod-2017", ("briefwatch-report-dod-2017", "briefwatch-changed-pages-dod-2017")),
])
def test_artifact_keys(suffix: str, keys: tuple[str, str]) -> None:
    assert artifact_keys(suffix) == keys


@pytest.mark.parametrize("suffix", ["DoD", "a_b", "-x", "x-", "a--b", "a b"])
def test_artifact_suffix_prefect_would_reject(suffix: str) -> None:
    with pytest.raises(ValueError, match="artifact_suffix"):
        artifact_keys(suffix)


def test_pull_step_enters_the_checkout(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BRIEFWATCH_HOME", raising=False)
    monkeypatch.chdir(tmp_path)
    assert enter_checkout("") == {"directory": str(REPO)}  # the installed (editable) one
    assert Path.cwd() == REPO == installed_checkout()
    monkeypatch.chdir(tmp_path)
    assert enter_checkout(f"  {REPO}  ") == {"directory": str(REPO)}
    assert Path.cwd() == REPO
    monkeypatch.chdir(tmp_path)
    with pytest.raises(CheckoutNotFoundError, match=r"is not a briefwatch checkout.*set "
                                                    r"BRIEFWATCH_HOME"):
        enter_checkout(str(tmp_path))
    assert Path.cwd() == tmp_path  # nothing entered


def test_pull_step_reads_briefwatch_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An empty directory parameter falls back to this process's $BRIEFWATCH_HOME before the
    installed checkout; a named directory wins over both."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("BRIEFWATCH_HOME", str(tmp_path))
    with pytest.raises(CheckoutNotFoundError, match=re.escape(str(tmp_path))):
        enter_checkout("")
    monkeypatch.setenv("BRIEFWATCH_HOME", str(REPO))
    assert enter_checkout("") == {"directory": str(REPO)}
    with pytest.raises(CheckoutNotFoundError):
        enter_checkout(str(tmp_path))


def _fake_tree(root: Path, pyproject: str | None) -> Path:
    """A tree shaped like a checkout (or a site-packages) with a flows/steps.py in it."""
    for name in ("briefwatch/__init__.py", "flows/ingest.py", "flows/steps.py"):
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text("")
    if pyproject is not None:
        (root / "pyproject.toml").write_text(pyproject)
    return root / "flows" / "steps.py"


def test_checkout_of_an_editable_checkout(tmp_path: Path) -> None:
    steps = _fake_tree(tmp_path / "co", '[project]\nname = "briefwatch"\n')
    assert checkout_of(steps) == (tmp_path / "co").resolve()


@pytest.mark.parametrize("pyproject", [None, '[project]\nname = "other"\n', "not [toml"])
def test_checkout_of_a_plain_install_is_refused(tmp_path: Path, pyproject: str | None) -> None:
    """A plain install: site-packages/briefwatch/flows/steps.py, whose grandparent
    site-packages/briefwatch has flows/ingest.py but is no checkout; the pull step must not
    enter it (nor a tree whose pyproject names another project or does not parse)."""
    package = tmp_path / "site-packages" / "briefwatch"
    steps = _fake_tree(package, pyproject)
    with pytest.raises(CheckoutNotFoundError, match=r"not installed from a checkout.*set "
                                                    r"BRIEFWATCH_HOME"):
        checkout_of(steps)


def test_cli_ingest_on_a_held_store_exits_3_and_writes_nothing(tmp_path: Path) -> None:
    """What a user sees: `briefwatch ingest` while another run holds the store."""
    from tests.support.prefectproc import BIN, prefect_env

    pages, db = _pages(tmp_path / "pages"), tmp_path / "store.db"
    holder = Store(db)
    try:
        with holder.writer_lock():
            result = run([str(BIN / "briefwatch"), "ingest", str(pages), "--db", str(db)],
                         prefect_env(tmp_path / "home"), timeout=180, cwd=tmp_path)
    finally:
        holder.close()
    assert result.returncode == EXIT_BUSY, result.stderr
    held_by = f"store {db} is in use by another run (pid {os.getpid()}, run not started, "
    assert f"briefwatch: {held_by}" in result.stderr
    assert "this run stops without writing (lock_wait is 0)" in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""
    assert _runs(db) == []


# ------------------------------------------------------------ a Prefect server (SQLite)


@pytest.fixture(scope="module")
def deployed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrefectServer]:
    """A Prefect server with deploy/prefect.yaml deployed (`prefect deploy`) and one process
    worker (BRIEFWATCH_HOME set, as deploy/README.md says) serving its pool."""
    work = tmp_path_factory.mktemp("prefect-sqlite")
    # a run waiting for its deployment's concurrency slot retries every 2 s, not 30
    with prefect_server(work, PREFECT_SERVER_DEPLOYMENTS_CONCURRENCY_SLOT_WAIT_SECONDS="2",
                        PREFECT_SERVER_SERVICES_SCHEDULER_LOOP_SECONDS="10") as server:
        env = server.client_env()
        created = run([PREFECT, "work-pool", "create", POOL, "--type", "process"], env, 120)
        assert created.returncode == 0, created.stdout + created.stderr
        before = hashlib.sha256((DEPLOY / "prefect.yaml").read_bytes()).hexdigest()
        result = run([PREFECT, "deploy", "--prefect-file", "deploy/prefect.yaml", "--all",
                      "--no-prompt"], env, 180)
        assert result.returncode == 0, result.stdout + result.stderr
        assert "Deployment 'ingest/examples' successfully created" in " ".join(
            result.stdout.split())
        assert hashlib.sha256((DEPLOY / "prefect.yaml").read_bytes()).hexdigest() == before
        server.start_worker(POOL, "host-a", BRIEFWATCH_HOME=str(REPO))
        yield server


def _trigger(server: PrefectServer, pages: Path, db: Path) -> str:
    """`prefect deployment run 'ingest/examples' --param ... --watch`, as a user types it;
    the flow run's id."""
    result = run([PREFECT, "deployment", "run", "ingest/examples",
                  "--param", f'sources=["{pages}"]', "--param", f"db_path={db}", "--watch",
                  "--watch-timeout", "150"], server.client_env(), 180)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "Completed" in output, output
    found = re.search(r"UUID: ([0-9a-f-]{36})", output)
    assert found, output
    return found.group(1)


@pytest.mark.server
def test_manual_trigger_on_a_worker_stores_and_publishes(deployed: PrefectServer,
                                                         tmp_path: Path) -> None:
    pages, db = _pages(tmp_path / "pages"), tmp_path / "store.db"
    first = _trigger(deployed, pages, db)
    _pages(pages, "v2")
    second = _trigger(deployed, pages, db)

    runs = _runs(db)
    assert [r[1] for r in runs] == [first, second], "the store records each flow run id"
    assert [r[2] for r in runs] == ["completed", "completed"]
    assert '"new": 3' in runs[0][3] and '"changed": 3' in runs[1][3]
    assert _count(db, "versions") == 6

    with deployed.api() as api:
        reports = artifacts(api, "briefwatch-report")  # the history under one key, newest first
        tables = artifacts(api, "briefwatch-changed-pages")
        assert flow_run(api, second)["state"]["type"] == "COMPLETED"
    mine = [a for a in reports if a["flow_run_id"] in (first, second)]
    assert [a["flow_run_id"] for a in mine] == [second, first]
    assert f"- flow run: `{second}`" in mine[0]["data"], "the report names its flow run"
    assert "163 → 170" in mine[0]["data"]
    assert mine[0]["type"] == "markdown"
    table = next(a for a in tables if a["flow_run_id"] == second)
    assert table["type"] == "table" and "changed" in str(table["data"])


@pytest.mark.server
def test_two_runs_at_once_on_one_store_run_one_after_the_other(deployed: PrefectServer,
                                                               tmp_path: Path) -> None:
    pages, db = _pages(tmp_path / "pages"), tmp_path / "store.db"
    params = {"sources": [str(pages)], "db_path": str(db)}
    with deployed.api() as api:
        ids = [create_run(api, "ingest/examples", params) for _ in range(2)]
        finals = [wait_final(api, i, 180, log=deployed.procs[-1].log) for i in ids]
        histories = [state_names(api, i) for i in ids]
    assert [f["state"]["type"] for f in finals] == ["COMPLETED", "COMPLETED"]
    # the deployment's concurrency limit held one back while the other ran
    assert any("AwaitingConcurrencySlot" in h for h in histories), histories
    runs = _runs(db)
    assert sorted(r[1] for r in runs) == sorted(ids)
    assert [r[3] for r in runs] == [
        '{"blocked": 0, "changed": 0, "failed": 0, "gone": 0, "new": 3, "unchanged": 0}',
        '{"blocked": 0, "changed": 0, "failed": 0, "gone": 0, "new": 0, "unchanged": 3}',
    ], "counted once: the second run found every page unchanged"
    assert runs[0][5] <= runs[1][4], "the runs' store writes did not overlap"
    assert _count(db, "versions") == 3


@pytest.mark.server
def test_run_on_a_held_store_is_refused_or_waits(deployed: PrefectServer,
                                                 tmp_path: Path) -> None:
    """Another writer (here: this test process, as `briefwatch ingest` would) holds the
    store: a run with lock_wait 0 ends Failed naming the holder; one with lock_wait waits,
    then runs once the store is free."""
    pages, db = _pages(tmp_path / "pages"), tmp_path / "store.db"
    params: dict[str, Any] = {"sources": [str(pages)], "db_path": str(db)}
    worker_log = deployed.procs[-1].log
    holder = Store(db)
    try:
        with holder.writer_lock(), deployed.api() as api:
            refused = create_run(api, "ingest/examples", {**params, "lock_wait": 0})
            final = wait_final(api, refused, 150, log=worker_log)
            assert final["state"]["type"] == "FAILED"
            held_by = f"store {db} is in use by another run (pid {os.getpid()}, "
            assert final["state"]["message"].startswith(held_by), final["state"]["message"]
            logs = wait_log(api, refused, "this run stops without writing (lock_wait is 0)")
            assert held_by in logs

            waiting = create_run(api, "ingest/examples", {**params, "lock_wait": 120})
            wait_log(api, waiting, "this run waits up to 120 s for it", 150, log=worker_log)
            assert flow_run(api, waiting)["state"]["type"] == "RUNNING"
            assert _runs(db) == [], "nothing written while the store is held"
    finally:
        holder.close()  # releases the lock
    with deployed.api() as api:
        final = wait_final(api, waiting, 120, log=worker_log)
        assert final["state"]["type"] == "COMPLETED"
        wait_log(api, waiting, "is free; this run goes on")
    assert [(r[1], r[2]) for r in _runs(db)] == [(waiting, "completed")]


@pytest.mark.server
def test_served_cron_schedule_starts_a_run_by_itself(deployed: PrefectServer,
                                                     tmp_path: Path) -> None:
    """deploy/serve.py with a `* * * * *` schedule: cron has one-minute granularity, so the
    first run is due at the next full minute (at most 60 s away)."""
    _pages(tmp_path / "pages")
    db = tmp_path / "store.db"
    conf = tmp_path / "serve.toml"
    conf.write_text('[[deployment]]\nname = "every-minute"\nsources = ["pages"]\n'
                    'db = "store.db"\ncron = "* * * * *"\ntimezone = "Europe/Berlin"\n'
                    'artifact_suffix = "every-minute"\n')
    serve = deployed.start("serve", [sys.executable, str(DEPLOY / "serve.py"), "--config",
                                     str(conf)],
                           deployed.client_env(PREFECT_RUNNER_POLL_FREQUENCY="2"),
                           cwd=tmp_path)
    with deployed.api() as api:
        wait_for("serve to register ingest/every-minute",
                 lambda: api.get("/deployments/name/ingest/every-minute").status_code == 200
                 or not serve.alive(), 90, log=serve.log)
        assert serve.alive(), serve.output()
        deployment = api.get("/deployments/name/ingest/every-minute").json()
        assert deployment["schedules"][0]["schedule"] == {
            "cron": "* * * * *", "timezone": "Europe/Berlin", "day_or": True}
        assert deployment["parameters"]["db_path"] == str(db)

        def completed_run() -> dict[str, Any] | None:
            found = api.post("/flow_runs/filter", json={
                "deployments": {"id": {"any_": [deployment["id"]]}},
                "flow_runs": {"state": {"type": {"any_": ["COMPLETED"]}}}}).json()
            return found[0] if found else None

        scheduled = wait_for("a scheduled run to complete", completed_run, 100,
                             interval=1, log=serve.log)
        assert scheduled["auto_scheduled"] is True, "created by the schedule, not by hand"
        reports = artifacts(api, "briefwatch-report-every-minute")
    assert [r[1] for r in _runs(db)][:1] == [scheduled["id"]]
    assert any(a["flow_run_id"] == scheduled["id"] for a in reports)
    serve.stop(first=signal.SIGINT)  # Ctrl-C: the schedule is paused
    with deployed.api() as api:
        assert api.get("/deployments/name/ingest/every-minute").json()["paused"] is True


# --------------------------------------------- several workers, a server on PostgreSQL


def _multi_host_yaml(where: Path, stores: dict[str, tuple[Path, Path]]) -> Path:
    """deploy/prefect.yaml's deployment, once per store, each pinned to its host's queue:
    the layout deploy/README.md describes for workers on several machines."""
    spec = yaml.safe_load((DEPLOY / "prefect.yaml").read_text())
    template = spec["deployments"][0]
    spec["deployments"] = []
    for host, (pages, db) in stores.items():
        entry = {**template, "name": f"briefings-{host}"}
        entry["parameters"] = {**template["parameters"], "sources": [str(pages)],
                               "db_path": str(db), "artifact_suffix": host}
        entry["work_pool"] = {"name": POOL, "work_queue_name": host}
        spec["deployments"].append(entry)
    path = where / "prefect.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    return path


@pytest.mark.server
def test_workers_on_two_queues_of_a_postgres_backed_server(tmp_path: Path) -> None:
    bindir = postgres_bin()
    if bindir is None:
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL is not installed (.ci/run installs Debian's postgresql)")
        pytest.skip("PostgreSQL server programs (Debian package postgresql) not installed")
    names = sorted(p.name for p in (EXAMPLES / "v1").iterdir())
    stores: dict[str, tuple[Path, Path]] = {}
    for host, files in (("host-a", names[:1]), ("host-b", names[1:])):
        pages = tmp_path / host / "pages"
        pages.mkdir(parents=True)
        for name in files:
            shutil.copyfile(EXAMPLES / "v1" / name, pages / name)
        stores[host] = (pages, tmp_path / host / "briefwatch.db")
    prefect_file = _multi_host_yaml(tmp_path, stores)

    with postgres_cluster(bindir) as pg, prefect_server(
            tmp_path / "prefect", PREFECT_API_DATABASE_CONNECTION_URL=pg.url) as server:
        env = server.client_env()
        for argv in ([PREFECT, "work-pool", "create", POOL, "--type", "process"],
                     [PREFECT, "deploy", "--prefect-file", str(prefect_file), "--all",
                      "--no-prompt"]):
            result = run(argv, env, 180)
            assert result.returncode == 0, result.stdout + result.stderr
        for host in stores:  # one worker per "machine", each serving only its queue
            server.start_worker(POOL, host, queue=host)
        with server.api() as api:
            ids = {host: create_run(api, f"ingest/briefings-{host}", {}) for host in stores}
            finals = {host: wait_final(api, i, 180, log=server.procs[-1].log)
                      for host, i in ids.items()}
            logs = {host: wait_log(api, i, f"Worker '{host}' submitting flow run")
                    for host, i in ids.items()}
            reports = {host: artifacts(api, f"briefwatch-report-{host}") for host in stores}
    for host, (_pages_dir, db) in stores.items():
        assert finals[host]["state"]["type"] == "COMPLETED", logs[host]
        assert [r[1] for r in _runs(db)] == [ids[host]]
        assert [a["flow_run_id"] for a in reports[host]] == [ids[host]]
    # partitioned by source: each store holds its own pages; together they hold them all
    assert _count(stores["host-a"][1], "pages") == 1
    assert _count(stores["host-b"][1], "pages") == len(names) - 1


# ------------------------------------- a CLI run and a deployment run on one store at once


def _store_run(db: Path, flow_run_id: str) -> int:
    found = [r[0] for r in _runs(db) if r[1] == flow_run_id]
    assert len(found) == 1, (flow_run_id, _runs(db))
    return int(found[0])


def _deployment_report(db: Path, flow_run_id: str) -> dict[str, Any]:
    with Store(db, create=False) as store:
        report: dict[str, Any] = store.run_report(_store_run(db, flow_run_id))
    return report


@pytest.mark.server
def test_cli_and_deployment_runs_on_one_store(deployed: PrefectServer, tmp_path: Path) -> None:
    """`briefwatch ingest` and deployment runs of one store, over pages that just changed.
    A web page among the sources holds its first reader (tests/support/racing.py), so the run that
    took the store keeps it until the test lets go.

    A: the CLI holds the store; a deployment run with lock_wait 0 ends Failed, its state
    message naming the CLI process and its run; one with lock_wait waits, then finds nothing
    new. B: a deployment run holds it; `briefwatch ingest` is refused (exit 3) and
    `briefwatch ingest --wait`, started at the same moment, waits, then finds nothing new.
    Each time: every change reported once, no duplicate version."""
    from tests.support.racing import (
        GatedPage,
        assert_store_consistent,
        copy_pages,
        figure_changes,
        holder_of,
        page_outcomes,
        released,
        reported_changes,
        start_cli,
        stored_changes,
        wait_until,
    )
    from tests.support.webserver import Site

    pages, db = tmp_path / "pages", tmp_path / "store.db"
    worker_log = deployed.procs[0].log if deployed.procs else None

    def assert_once(reports: list[dict[str, Any]], old: str, new: str) -> None:
        assert_store_consistent(db)
        outcomes = page_outcomes(*reports)
        assert sorted(outcomes.values()) == [1, 1, 1, 1], outcomes
        stored = stored_changes(db, [r["run"]["id"] for r in reports])
        assert stored and reported_changes(*reports) == stored
        assert figure_changes(reports, old, new) == 1

    with Site() as site, deployed.api() as api:
        gate = GatedPage(site)
        config = gate.config(tmp_path)
        args = [str(pages), "--config", str(config)]
        params: dict[str, Any] = {"sources": [str(pages)], "db_path": str(db),
                                  "config": str(config)}
        copy_pages(pages, "v1")
        seed = start_cli("seed", tmp_path, args, db, 0, deployed.url)
        assert seed.finish() == 0, seed.stderr()

        # A: the CLI holds the store
        copy_pages(pages, "v2")
        gate.close("v2")
        with released(gate):
            cli = start_cli("cli-a", tmp_path, args, db, 0, deployed.url)
            wait_until("the CLI run to hold the store", lambda: gate.held() or (
                cli.popen.poll() is not None and cli.stderr()))
            assert gate.held(), cli.stderr()
            cli_run = _store_run(db, cli_flow_run := _runs(db)[-1][1])
            refused = create_run(api, "ingest/examples", {**params, "lock_wait": 0})
            final = wait_final(api, refused, 120, log=worker_log)
            assert final["state"]["type"] == "FAILED"
            message = final["state"]["message"]
            assert message.startswith(f"store {db} is in use by another run (pid {cli.pid}, "
                                      f"run {cli_run}, since "), message
            waiting = create_run(api, "ingest/examples", {**params, "lock_wait": 90})
            wait_log(api, waiting, "this run waits up to 90 s for it", 120, log=worker_log)
            assert flow_run(api, waiting)["state"]["type"] == "RUNNING"
        assert cli.finish() == 0, cli.stderr()
        assert wait_final(api, waiting, 120, log=worker_log)["state"]["type"] == "COMPLETED"
        cli_report = cli.report()
        assert cli_report["run"]["flow_run_id"] == cli_flow_run
        later = _deployment_report(db, waiting)
        assert later["run"]["counts"]["unchanged"] == 4
        assert cli_report["run"]["finished_at"] <= later["run"]["started_at"]
        assert_once([cli_report, later], "163", "170")
        assert refused not in [r[1] for r in _runs(db)], "the refused run wrote nothing"

        # B: a deployment run holds the store; two CLI runs started at the same moment
        copy_pages(pages, "v1")
        gate.close("v1")
        with released(gate):
            holder = create_run(api, "ingest/examples", {**params, "lock_wait": 0})
            wait_until("the deployment run to hold the store", lambda: gate.held() or (
                flow_run(api, holder)["state"]["type"] in ("FAILED", "CRASHED")))
            assert gate.held(), flow_run(api, holder)["state"]
            clis = [start_cli(name, tmp_path, args, db, wait, deployed.url)
                    for name, wait in (("cli-refused", 0), ("cli-waits", 90))]
            assert clis[0].finish() == EXIT_BUSY, clis[0].stderr()
            wait_until("the waiting line", lambda: "waits up to" in clis[1].stderr())
        assert wait_final(api, holder, 120, log=worker_log)["state"]["type"] == "COMPLETED"
        assert clis[1].finish() == 0, clis[1].stderr()
        holder_run = _store_run(db, holder)
        for cli_b in clis:
            named = holder_of(cli_b.stderr())
            assert named["db"] == str(db) and int(named["run"]) == holder_run
            assert int(named["pid"]) not in (os.getpid(), *[c.pid for c in clis])
            assert "Traceback" not in cli_b.stderr()
        assert "this run wrote nothing and did not wait" in clis[0].stderr()
        assert clis[0].out.read_text() == ""
        busy = [line for line in clis[1].stderr().splitlines() if "is in use" in line]
        assert len(busy) == 1 and busy[0].endswith("; this run waits up to 90 s for it"), busy
        first, second = _deployment_report(db, holder), clis[1].report()
        assert second["run"]["counts"]["unchanged"] == 4
        assert_once([first, second], "170", "163")
