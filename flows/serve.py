"""Serve the ``ingest`` flow's deployments from one process, on their cron schedules.

``briefwatch serve`` and ``python deploy/serve.py`` read a deployments file
(:mod:`briefwatch.flows.config`, ``deploy/briefwatch.toml`` by default), register one Prefect
deployment per entry with the Prefect server at ``PREFECT_API_URL``, and run their flow runs —
scheduled ones and ones triggered by hand (``prefect deployment run 'ingest/NAME'``) — in
subprocesses of this process until it is stopped (on Ctrl-C the schedules are paused on the
way out, so no late runs pile up while nothing serves them; serving again resumes them).

A server is required: without one Prefect would start a temporary API inside the process,
whose scheduler never runs, so nothing would ever be scheduled.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, cast

from briefwatch.errors import BriefwatchError
from briefwatch.flows.config import DEFAULT_CONFIG, ConfigError, ServeConfig, load_config

if TYPE_CHECKING:
    from prefect.deployments.runner import RunnerDeployment


class ServerUnavailableError(BriefwatchError):
    """No Prefect server is configured, or the configured one does not answer."""


def quiet_prefect_defaults() -> None:
    """Settings that must be in place before prefect is imported: nothing phones home."""
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("DO_NOT_TRACK", "1")


def require_server() -> str:
    """The URL of the Prefect API this process uses; ServerUnavailableError if there is none
    or it does not answer its health check."""
    from prefect.client.orchestration import get_client
    from prefect.settings import get_current_settings

    url = get_current_settings().api.url
    if not url:
        raise ServerUnavailableError(
            "no Prefect server: set PREFECT_API_URL (e.g. http://127.0.0.1:4200/api) to a "
            "server started with `prefect server start --host 127.0.0.1`")
    with get_client(sync_client=True) as client:
        problem = client.api_healthcheck()
    if problem is not None:
        raise ServerUnavailableError(f"the Prefect server at {url} does not answer: {problem}")
    return str(url)


def build_deployments(config: ServeConfig) -> list[RunnerDeployment]:
    """One Prefect deployment of the ingest flow per configured entry."""
    from prefect.client.schemas.objects import ConcurrencyLimitConfig, ConcurrencyLimitStrategy
    from prefect.schedules import Cron

    from briefwatch.flows.ingest import ingest_flow

    deployments: list[RunnerDeployment] = []
    for entry in config.deployments:
        try:
            schedule = Cron(entry.cron, timezone=entry.timezone, active=entry.active)
        except ValueError as exc:
            raise ConfigError(f"{config.path}: deployment {entry.name!r}: cron "
                              f"{entry.cron!r}: {exc}") from exc
        # to_deployment is async-dispatching: called from sync code it returns the deployment
        deployments.append(cast("RunnerDeployment", ingest_flow.to_deployment(
            name=entry.name,
            schedules=[schedule],
            parameters=entry.parameters(),
            description=entry.description or None,
            tags=list(entry.tags),
            # one run of a deployment at a time; a run triggered meanwhile waits its turn
            concurrency_limit=ConcurrencyLimitConfig(
                limit=1, collision_strategy=ConcurrencyLimitStrategy.ENQUEUE),
        )))
    return deployments


def serve_config(config: ServeConfig) -> None:
    """Register ``config``'s deployments and run their flow runs until interrupted."""
    from prefect import serve

    deployments = build_deployments(config)
    url = require_server()
    for entry in config.deployments:
        print(f"serving ingest/{entry.name}: cron {entry.cron!r} ({entry.timezone}), "
              f"{len(entry.sources)} source(s) -> {entry.db_path}", flush=True)
    print(f"Prefect server: {url}", flush=True)
    serve(*deployments, limit=config.limit)


def build_parser(prog: str = "serve.py", default: Path = DEFAULT_CONFIG
                 ) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=prog, description="Serve briefwatch's ingest deployments on their schedules "
                               "against the Prefect server at PREFECT_API_URL.")
    add_arguments(parser, default)
    return parser


def add_arguments(parser: argparse.ArgumentParser, default: Path = DEFAULT_CONFIG) -> None:
    parser.add_argument("--config", default=None, metavar="FILE",
                        help=f"deployments file (default: $BRIEFWATCH_SERVE_CONFIG or "
                             f"{default})")
    parser.set_defaults(default_config=default)
    parser.add_argument("--check", action="store_true",
                        help="read and check the file, print the deployments, do not serve")


def config_path(value: str | None, default: Path = DEFAULT_CONFIG) -> Path:
    return Path(value or os.environ.get("BRIEFWATCH_SERVE_CONFIG") or default)


def run(config_file: str | None, *, check: bool = False,
        default: Path = DEFAULT_CONFIG) -> int:
    """``serve`` proper: 0 after a clean stop (or a good ``--check``)."""
    path = config_path(config_file, default)
    if path == default and not path.is_file():
        raise ConfigError(f"no deployments file {path} under {Path.cwd()}: run from the "
                          f"directory holding it, or give --config FILE (or set "
                          f"BRIEFWATCH_SERVE_CONFIG); deploy/briefwatch.toml in the "
                          f"repository is an example")
    config = load_config(path)
    if check:
        for entry in config.deployments:
            print(f"ingest/{entry.name}: cron {entry.cron!r} ({entry.timezone}); "
                  f"sources {', '.join(entry.sources)}; store {entry.db_path}; "
                  f"lock_wait {entry.lock_wait:g} s")
        return 0
    quiet_prefect_defaults()
    serve_config(config)
    return 0


def main(argv: Sequence[str] | None = None, default_config: Path = DEFAULT_CONFIG) -> int:
    """``python deploy/serve.py``: exit 0 after a clean stop, 2 with a one-line reason."""
    args = build_parser(default=default_config).parse_args(argv)
    try:
        return run(args.config, check=args.check, default=default_config)
    except BriefwatchError as exc:
        print(f"serve: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 0
