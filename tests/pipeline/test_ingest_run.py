"""The ingest run in plain Python (briefwatch.pipeline.ingest) and as the Prefect flow: the
same steps give the same report; the CLI runs in-process unless a Prefect API is configured
or --flow asks for the flow."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from briefwatch.cli.app import prefect_api_configured
from briefwatch.pipeline.ingest import (
    RUNNER_FLOW,
    RUNNER_IN_PROCESS,
    IngestRequest,
    run_ingest,
)
from tests.support.paths import REPO

EXAMPLES = REPO / "briefwatch" / "examples"


def _comparable(value: Any) -> Any:
    """A report without what differs between two runs of the same pages: timestamps, the
    flow run id and the runner."""
    if isinstance(value, dict):
        return {k: _comparable(v) for k, v in value.items()
                if not k.endswith("_at") and k not in ("flow_run_id", "runner")}
    if isinstance(value, list):
        return [_comparable(v) for v in value]
    return value


def _two_runs(pages: Path, ingest: Any) -> list[dict[str, Any]]:
    """v1 of the examples, then v2 written over it in place: a first run and one with
    changes."""
    reports = []
    for version in ("v1", "v2"):
        shutil.rmtree(pages, ignore_errors=True)
        shutil.copytree(EXAMPLES / version, pages)
        reports.append(ingest(str(pages)))
    return reports


def test_in_process_and_flow_give_the_same_reports(tmp_path: Path) -> None:
    from briefwatch.flows.ingest import ingest as flow_ingest

    plain_db, flow_db = tmp_path / "plain.db", tmp_path / "flow.db"
    pages = tmp_path / "pages"  # the same location for both: page keys are locations
    plain = _two_runs(pages, lambda src: run_ingest(
        IngestRequest(sources=[src], db_path=str(plain_db))))
    flowed = _two_runs(pages, lambda src: flow_ingest([src], db_path=str(flow_db),
                                                      publish_artifacts=False))
    assert plain[1]["run"]["counts"]["changed"] >= 1  # the second run found changes
    assert [_comparable(r) for r in plain] == [_comparable(r) for r in flowed]
    assert all(r["run"]["flow_run_id"] is None for r in plain)
    assert all(r["run"]["options"]["runner"] == RUNNER_IN_PROCESS for r in plain)
    assert all(r["run"]["flow_run_id"] for r in flowed)
    assert all(r["run"]["options"]["runner"] == RUNNER_FLOW for r in flowed)


def _cli(args: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    code = ("import sys; from briefwatch.cli import main; status = main(sys.argv[1:]); "
            "print('PREFECT-IMPORTED' if 'prefect' in sys.modules else 'NO-PREFECT', "
            "file=sys.stderr); sys.exit(status)")
    return subprocess.run([sys.executable, "-c", code, *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300)


@pytest.fixture
def no_api_env(tmp_path: Path) -> dict[str, str]:
    import os

    env = {k: v for k, v in os.environ.items() if k not in ("PREFECT_API_URL", "PREFECT_PROFILE")}
    env["PREFECT_HOME"] = str(tmp_path / "prefect-home")
    return env


def test_cli_ingest_without_an_api_runs_in_process_and_never_imports_prefect(
        tmp_path: Path, no_api_env: dict[str, str]) -> None:
    done = _cli(["ingest", str(EXAMPLES / "v1"), "--db", str(tmp_path / "b.db"),
                 "--format", "json"], tmp_path, no_api_env)
    assert done.returncode == 0, done.stderr
    assert done.stderr.strip().splitlines()[-1] == "NO-PREFECT"
    run = json.loads(done.stdout)["run"]
    assert run["flow_run_id"] is None and run["options"]["runner"] == RUNNER_IN_PROCESS
    assert run["counts"]["new"] == 3


def test_cli_flow_flag_runs_the_prefect_flow(tmp_path: Path,
                                             no_api_env: dict[str, str]) -> None:
    done = _cli(["ingest", str(EXAMPLES / "v1"), "--db", str(tmp_path / "b.db"),
                 "--format", "json", "--flow"], tmp_path, no_api_env)
    assert done.returncode == 0, done.stderr
    run = json.loads(done.stdout)["run"]
    assert run["flow_run_id"] and run["options"]["runner"] == RUNNER_FLOW


def test_text_report_says_which_runner_ran(tmp_path: Path,
                                           no_api_env: dict[str, str]) -> None:
    done = _cli(["ingest", str(EXAMPLES / "v1"), "--db", str(tmp_path / "b.db"), "--no-flow"],
                tmp_path, no_api_env)
    assert done.returncode == 0, done.stderr
    assert "ran in-process (no Prefect flow run)" in done.stdout.splitlines()[1]


def test_prefect_api_configured_reads_env_and_active_profile(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    monkeypatch.delenv("PREFECT_PROFILE", raising=False)
    monkeypatch.setenv("PREFECT_HOME", str(tmp_path))
    assert not prefect_api_configured()  # no profiles file
    (tmp_path / "profiles.toml").write_text(
        'active = "local"\n[profiles.local]\nPREFECT_API_URL = "http://127.0.0.1:4200/api"\n'
        '[profiles.ephemeral]\nPREFECT_SERVER_ALLOW_EPHEMERAL_MODE = "true"\n')
    assert prefect_api_configured()
    monkeypatch.setenv("PREFECT_PROFILE", "ephemeral")
    assert not prefect_api_configured()
    (tmp_path / "profiles.toml").write_text("not = [toml")
    assert not prefect_api_configured()  # unreadable: no API (the flow is not forced)
    monkeypatch.setenv("PREFECT_API_URL", "http://127.0.0.1:4200/api")
    assert prefect_api_configured()
