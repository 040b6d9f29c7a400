"""``briefwatch reparse``: rebuild statements and changes from the stored raw versions with
the current parsers (see :mod:`briefwatch.pipeline.reparse`).

Exit status as for every command: 0 done (pages that failed to re-parse are in the report),
2 unusable arguments (unknown page, bad --since, unreadable store), 3 another run holds the
store.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable

from briefwatch.cli.argtypes import seconds
from briefwatch.cli.common import EXIT_OK, add_db, add_output, emit, open_store, page_argument

Handler = Callable[[argparse.Namespace], int]

__all__ = ["add_commands", "cmd_reparse"]


def add_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> dict[str, Handler]:
    reparse = sub.add_parser(
        "reparse",
        help="re-parse stored raw versions with the current parsers; recompute changes",
        description="Re-parse the raw bytes kept for each selected version with the current "
                    "parsers, rewrite versions the new parsers read differently, recompute "
                    "the changes between versions (old changes are kept, marked superseded), "
                    "and report what the new parsers see differently. One transaction per "
                    "page; recorded as a run of kind 'reparse'.")
    add_db(reparse)
    reparse.add_argument("--page", metavar="PAGE", default=None,
                         help="only this page (key, URL or file path)")
    reparse.add_argument("--since", metavar="DATE", default=None,
                         help="only versions stored at or after DATE (ISO date or datetime; "
                              "UTC unless it says otherwise)")
    reparse.add_argument("--dry-run", action="store_true",
                         help="parse and report what would change; write nothing")
    reparse.add_argument("--format", choices=("text", "json", "markdown"), default="text",
                         help="how to print the reparse run's report (default: text)")
    reparse.add_argument("--wait", "--lock-wait", dest="lock_wait", type=seconds, default=0.0,
                         metavar="SECONDS",
                         help="wait this long for a store another run holds (default: 0)")
    add_output(reparse)
    return {"reparse": cmd_reparse}


def cmd_reparse(args: argparse.Namespace) -> int:
    from briefwatch.pipeline.reparse import ReparseOptions, parse_since, reparse
    from briefwatch.report.registry import render

    options = ReparseOptions(
        page=None if args.page is None else page_argument(args.page),
        since=None if args.since is None else parse_since(args.since),
        dry_run=args.dry_run,
        lock_wait=args.lock_wait,
    )
    with open_store(args.db, create=False) as store:
        report = reparse(store, options)
    emit(render(report, args.format), args.output)
    return EXIT_OK
