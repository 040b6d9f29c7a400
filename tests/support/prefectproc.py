"""Real Prefect servers, workers and PostgreSQL clusters for the deployment tests.

Every process is started in its own session (process group) and stopped through it, so
nothing outlives a test: Prefect workers need two SIGTERMs (the first asks them to finish
their runs), anything still alive after that gets SIGKILL. Every wait has a deadline.
Subprocesses get an explicit environment: tests/conftest.py changes this process's
``PREFECT_*`` variables at import, and a server, a worker and a CLI each need their own.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, TypeVar

import httpx

from tests.support.paths import REPO

BIN = Path(sys.executable).parent
PREFECT = str(BIN / "prefect")
T = TypeVar("T")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def prefect_env(home: Path, api_url: str | None = None, **extra: str) -> dict[str, str]:
    """This process's environment without its Prefect settings, plus a private
    PREFECT_HOME, nothing phoning home, and PREFECT_API_URL when given."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("PREFECT_") and k not in ("BRIEFWATCH_DB", "BRIEFWATCH_HOME")}
    env.update(PREFECT_HOME=str(home), PREFECT_SERVER_ANALYTICS_ENABLED="false",
               DO_NOT_TRACK="1", PYTHONUNBUFFERED="1")
    if api_url:
        env["PREFECT_API_URL"] = api_url
    env.update(extra)
    return env


def wait_for(what: str, check: Callable[[], T | None], timeout: float,
             interval: float = 0.5, log: Path | None = None) -> T:
    """Poll ``check`` until it returns something other than None/False; AssertionError
    naming ``what`` (and the tail of ``log``) at the deadline."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result is not None and result is not False:
            return result
        if time.monotonic() > deadline:
            tail = log.read_text(errors="replace")[-3000:] if log and log.exists() else ""
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}\n{tail}")
        time.sleep(interval)


@dataclass
class Proc:
    """A started process group and the file its output goes to."""

    name: str
    popen: subprocess.Popen[bytes]
    log: Path
    signals: int = 1  # SIGTERMs to send before SIGKILL (workers: 2)
    _out: IO[bytes] | None = field(default=None, repr=False)

    def alive(self) -> bool:
        return self.popen.poll() is None

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def stop(self, first: int = signal.SIGTERM) -> None:
        sig = first
        for _ in range(self.signals):
            self._signal(sig)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.popen.wait(timeout=10)
            sig = signal.SIGTERM
        self._signal(signal.SIGKILL)  # the group: children too
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.popen.wait(timeout=10)
        if self._out is not None:
            self._out.close()

    def _signal(self, sig: int) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.popen.pid, sig)


def spawn(name: str, argv: list[str], env: Mapping[str, str], log_dir: Path,
          cwd: Path = REPO, signals: int = 1) -> Proc:
    log = log_dir / f"{name}.log"
    out = log.open("ab")
    popen = subprocess.Popen(argv, env=dict(env), cwd=cwd, stdout=out,
                             stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                             start_new_session=True)
    return Proc(name, popen, log, signals, out)


def run(argv: list[str], env: Mapping[str, str], timeout: float,
        cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    """A command to completion (killed at ``timeout``), output captured."""
    return subprocess.run(argv, env=dict(env), cwd=cwd, capture_output=True, text=True,
                          timeout=timeout, stdin=subprocess.DEVNULL, check=False)


# ------------------------------------------------------------------------- Prefect server


@dataclass
class PrefectServer:
    url: str  # the API: http://127.0.0.1:PORT/api
    proc: Proc
    work: Path  # a temp dir for this server's clients, logs and data
    procs: list[Proc] = field(default_factory=list)

    def client_env(self, **extra: str) -> dict[str, str]:
        return prefect_env(self.work / "client-home", self.url, **extra)

    def api(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=30)

    def start(self, name: str, argv: list[str], env: Mapping[str, str], *,
              cwd: Path = REPO, signals: int = 1) -> Proc:
        proc = spawn(name, argv, env, self.work, cwd=cwd, signals=signals)
        self.procs.append(proc)
        return proc

    def start_worker(self, pool: str, name: str, queue: str | None = None,
                     **env: str) -> Proc:
        argv = [PREFECT, "worker", "start", "--pool", pool, "--name", name]
        if queue:
            argv += ["--work-queue", queue]
        worker_env = self.client_env(PREFECT_WORKER_QUERY_SECONDS="1", **env)
        proc = self.start(f"worker-{name}", argv, worker_env, cwd=self.work, signals=2)
        wait_for(f"worker {name} to poll", lambda: "started" in proc.output().lower()
                 or not proc.alive(), 60, log=proc.log)
        assert proc.alive(), proc.output()
        return proc

    def stop(self) -> None:
        for proc in reversed(self.procs):
            proc.stop()
        self.proc.stop()


@contextlib.contextmanager
def prefect_server(work: Path, **server_env: str) -> Iterator[PrefectServer]:
    """``prefect server start --host 127.0.0.1`` on a free port with a private PREFECT_HOME
    (no PREFECT_API_URL of its own); stopped, with everything started through it, at exit."""
    work.mkdir(parents=True, exist_ok=True)
    port = free_port()
    env = prefect_env(work / "server-home", None, **server_env)
    proc = spawn("server", [PREFECT, "server", "start", "--host", "127.0.0.1", "--port",
                            str(port)], env, work)
    server = PrefectServer(f"http://127.0.0.1:{port}/api", proc, work)
    try:
        wait_for("the Prefect server's /api/health", lambda: _healthy(server) or (
            None if proc.alive() else _died(proc)), 90, log=proc.log)
        yield server
    finally:
        server.stop()


def _healthy(server: PrefectServer) -> bool:
    try:
        return httpx.get(f"{server.url}/health", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def _died(proc: Proc) -> bool:
    raise AssertionError(f"{proc.name} exited with {proc.popen.returncode}:\n"
                         f"{proc.output()[-3000:]}")


# ------------------------------------------------------------------- Prefect REST helpers

FINAL = {"COMPLETED", "FAILED", "CRASHED", "CANCELLED"}


def deployment_id(api: httpx.Client, name: str) -> str:
    response = api.get(f"/deployments/name/{name}")
    response.raise_for_status()
    return str(response.json()["id"])


def _retrying(send: Any, attempts: int = 6) -> httpx.Response:
    """A request the server may answer 503 while its SQLite database is busy (a loaded CI
    machine): the server committed nothing then, so sending it again is safe."""
    response: httpx.Response = send()
    for _ in range(attempts - 1):
        if response.status_code != 503:
            break
        time.sleep(1.0)
        response = send()
    return response


def create_run(api: httpx.Client, deployment: str, parameters: dict[str, Any]) -> str:
    url = f"/deployments/{deployment_id(api, deployment)}/create_flow_run"
    response = _retrying(lambda: api.post(url, json={"parameters": parameters}))
    response.raise_for_status()
    return str(response.json()["id"])


def flow_run(api: httpx.Client, run_id: str) -> dict[str, Any]:
    response = _retrying(lambda: api.get(f"/flow_runs/{run_id}"))
    response.raise_for_status()
    data: dict[str, Any] = response.json()
    return data


def wait_final(api: httpx.Client, run_id: str, timeout: float = 120,
               log: Path | None = None) -> dict[str, Any]:
    def final() -> dict[str, Any] | None:
        run = flow_run(api, run_id)
        return run if run["state"]["type"] in FINAL else None

    return wait_for(f"flow run {run_id} to finish", final, timeout, log=log)


def state_names(api: httpx.Client, run_id: str) -> list[str]:
    response = api.get("/flow_run_states/", params={"flow_run_id": run_id})
    response.raise_for_status()
    return [s["name"] for s in response.json()]


def run_logs(api: httpx.Client, run_id: str) -> str:
    response = api.post("/logs/filter", json={"logs": {"flow_run_id": {"any_": [run_id]}},
                                              "sort": "TIMESTAMP_ASC", "limit": 200})
    response.raise_for_status()
    return "\n".join(entry["message"] for entry in response.json())


def wait_log(api: httpx.Client, run_id: str, text: str, timeout: float = 60,
             log: Path | None = None) -> str:
    """The flow run's log once it has ``text`` (logs reach the API in batches, after the
    events they describe)."""
    def logs_with_text() -> str | None:
        logs = run_logs(api, run_id)
        return logs if text in logs else None

    return wait_for(f"{text!r} in the logs of flow run {run_id}", logs_with_text, timeout,
                    log=log)


def artifacts(api: httpx.Client, key: str) -> list[dict[str, Any]]:
    response = api.post("/artifacts/filter", json={"artifacts": {"key": {"any_": [key]}},
                                                   "sort": "CREATED_DESC"})
    response.raise_for_status()
    found: list[dict[str, Any]] = response.json()
    return found


# ------------------------------------------------------------------------------ PostgreSQL


def postgres_bin() -> Path | None:
    """The directory of Debian's PostgreSQL server programs (initdb, pg_ctl), if installed."""
    found = shutil.which("initdb")
    if found:
        return Path(found).resolve().parent
    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), reverse=True)
    return candidates[0].parent if candidates else None


@dataclass
class PostgresCluster:
    url: str  # postgresql+asyncpg://prefect@127.0.0.1:PORT/prefect


@contextlib.contextmanager
def postgres_cluster(bindir: Path) -> Iterator[PostgresCluster]:
    """A throw-away PostgreSQL cluster on 127.0.0.1 and a free port (trust auth, user and
    database ``prefect``), in a temp dir; run as ``postgres`` when this process is root
    (PostgreSQL refuses to run as root). Stopped and deleted at exit."""
    root = os.geteuid() == 0
    # as root, under /tmp: the postgres user must be able to reach the directory
    base = Path(tempfile.mkdtemp(prefix="briefwatch-pg-", dir="/tmp" if root else None))
    as_user: dict[str, Any] = {}
    if root:
        import pwd

        account = pwd.getpwnam("postgres")
        os.chown(base, account.pw_uid, account.pw_gid)
        as_user = {"user": account.pw_uid, "group": account.pw_gid, "extra_groups": []}
    data, port = base / "data", free_port()
    env = {"PATH": os.environ.get("PATH", ""), "LC_ALL": "C.UTF-8", "HOME": str(base)}

    def pg(*argv: str, timeout: float = 60) -> None:
        result = subprocess.run([str(bindir / argv[0]), *argv[1:]], env=env, cwd=base,
                                capture_output=True, text=True, timeout=timeout,
                                check=False, **as_user)
        if result.returncode != 0:
            raise AssertionError(f"{' '.join(argv)} failed:\n{result.stdout}{result.stderr}")

    try:
        pg("initdb", "-D", str(data), "-U", "prefect", "--auth=trust", "-E", "UTF8",
           "--no-sync")
        pg("pg_ctl", "-D", str(data), "-l", str(base / "postgres.log"), "-w", "-t", "60",
           "-o", f"-h 127.0.0.1 -p {port} -k {base} -c fsync=off", "start")
        try:
            pg("createdb", "-h", "127.0.0.1", "-p", str(port), "-U", "prefect", "prefect")
            yield PostgresCluster(f"postgresql+asyncpg://prefect@127.0.0.1:{port}/prefect")
        finally:
            pg("pg_ctl", "-D", str(data), "-m", "immediate", "-w", "stop")
    finally:
        shutil.rmtree(base, ignore_errors=True)
