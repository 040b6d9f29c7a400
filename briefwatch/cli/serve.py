"""``briefwatch serve``: the ingest deployments of a configuration file, served on their
schedules against a Prefect server (see :mod:`briefwatch.flows.serve`; the same as
``python deploy/serve.py``)."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

Handler = Callable[[argparse.Namespace], int]


def add_commands(sub: Any) -> dict[str, Handler]:
    """Add ``serve`` to ``sub`` (argparse subparsers); its handler by name."""
    from briefwatch.flows.serve import add_arguments

    serve = sub.add_parser(
        "serve", help="serve the scheduled ingest deployments of deploy/briefwatch.toml "
                      "against the Prefect server at PREFECT_API_URL")
    add_arguments(serve)
    return {"serve": cmd_serve}


def cmd_serve(args: argparse.Namespace) -> int:
    from briefwatch.flows.serve import run

    return run(args.config, check=args.check, default=args.default_config)
