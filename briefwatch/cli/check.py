"""``briefwatch check``: is the store whole? (see :mod:`briefwatch.store.integrity`).

Exit status: 0 the store is whole (notices — a run killed mid-way that the next run will
mark interrupted, runs whose changes are not reported yet — are printed but are not
errors); 1 problems found (listed); 2 no usable store; 3 a run holds the store (``--wait``).
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from typing import Any

from briefwatch.cli.argtypes import seconds
from briefwatch.cli.common import EXIT_OK, add_db, default_db, emit

Handler = Callable[[argparse.Namespace], int]
EXIT_PROBLEMS = 1


def add_commands(sub: Any) -> dict[str, Handler]:
    """Add ``check`` to ``sub`` (argparse subparsers); its handler by name."""
    check = sub.add_parser("check", help="check the store: SQLite and full-text integrity, "
                                         "partial versions, orphan rows, dead runs")
    add_db(check)
    check.add_argument("--format", choices=("text", "json"), default="text",
                       help="how to print the checks' findings (default: text)")
    check.add_argument("--wait", "--lock-wait", dest="wait", type=seconds, default=0.0,
                       metavar="SECONDS",
                       help="wait up to SECONDS for a run that holds the store (default: 0)")
    return {"check": cmd_check}


def cmd_check(args: argparse.Namespace) -> int:
    from briefwatch.store.integrity import check_store

    report = check_store(args.db or default_db(), lock_wait=args.wait)
    if args.format == "json":
        emit(json.dumps(report.as_dict(), ensure_ascii=False, indent=2) + "\n")
    else:
        lines = [f"store {report.path}: {'ok' if report.ok else 'PROBLEMS FOUND'} "
                 f"({len(report.checks)} checks)"]
        lines += [f"error   {p.kind}: {p.message}" for p in report.errors]
        lines += [f"notice  {p.kind}: {p.message}" for p in report.notices]
        emit("\n".join(lines) + "\n")
    return EXIT_OK if report.ok else EXIT_PROBLEMS
