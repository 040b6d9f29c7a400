"""``briefwatch runs``: the store's runs, newest first — id, kind, status, when, counts,
runner and Prefect flow run, whether the report was delivered (the rows are
``briefwatch.contract.RunRow``, from ``briefwatch.store.queries.runs``)."""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from briefwatch.cli.argtypes import at_least
from briefwatch.cli.common import EXIT_OK, add_db, emit, open_store
from briefwatch.contract import RUN_KINDS, RunRow

Handler = Callable[[argparse.Namespace], int]
DEFAULT_LIMIT = 20
_INGEST_COUNTS = ("new", "changed", "unchanged", "gone", "failed")
_REPARSE_COUNTS = (("reparsed", "re-parsed"), ("unchanged", "unchanged"), ("failed", "failed"))
_COLUMNS = ("RUN", "KIND", "STATUS", "STARTED", "FINISHED", "COUNTS", "RUNNER", "FLOW RUN",
            "DELIVERED")

__all__ = ["add_commands", "cmd_runs", "counts_line", "runs_text"]


def add_commands(sub: Any) -> dict[str, Handler]:
    """Add ``runs`` to ``sub`` (argparse subparsers); its handler by name."""
    runs = sub.add_parser("runs", help="the store's runs, newest first: kind, status, times, "
                                       "counts, Prefect flow run, report delivered")
    add_db(runs)
    runs.add_argument("--kind", choices=RUN_KINDS, default=None,
                      help="only runs of this kind (default: both)")
    runs.add_argument("--limit", type=at_least(1, "the number of runs"), default=DEFAULT_LIMIT,
                      metavar="N", help=f"at most the N newest runs (default: {DEFAULT_LIMIT})")
    runs.add_argument("--format", choices=("text", "json"), default="text",
                      help="text: one line per run; json: a list of run objects (README: "
                           "\"Listing runs\")")
    return {"runs": cmd_runs}


def cmd_runs(args: argparse.Namespace) -> int:
    with open_store(args.db, create=False) as store:
        rows = store.run_rows(args.limit, kind=args.kind)
    if args.format == "json":
        emit(json.dumps(rows, ensure_ascii=False, indent=2) + "\n")
    else:
        emit(runs_text(rows, kind=args.kind))
    return EXIT_OK


def runs_text(rows: Sequence[RunRow], *, kind: str | None = None) -> str:
    """A table, one line per run (columns as wide as their widest cell)."""
    if not rows:
        return f"no {kind + ' ' if kind else ''}runs in this store yet\n"
    from briefwatch.report.escape import plain

    table = [list(_COLUMNS)] + [[plain(cell) for cell in _cells(row)] for row in rows]
    widths = [max(len(line[i]) for line in table) for i in range(len(_COLUMNS))]
    return "".join("  ".join(cell.ljust(width) for cell, width in zip(line, widths,
                                                                        strict=True)).rstrip()
                   + "\n" for line in table)


def _cells(row: RunRow) -> list[str]:
    return [str(row["id"]), row["kind"], row["status"], row["started_at"],
            row["finished_at"] or "-", counts_line(row["counts"], row["kind"]),
            row["runner"] or "-",
            row["flow_run_id"] or "-", _delivered(row)]


def counts_line(counts: Mapping[str, int], kind: str = "ingest") -> str:
    """``3 new, 1 changed, …`` (a reparse run: ``2 re-parsed, 1 unchanged, 0 failed``)."""
    if kind == "reparse":
        return ", ".join(f"{counts.get(key, 0)} {label}" for key, label in _REPARSE_COUNTS)
    text = ", ".join(f"{counts.get(key, 0)} {key}" for key in _INGEST_COUNTS)
    return text + (f", {counts['blocked']} blocked" if counts.get("blocked") else "")


def _delivered(row: RunRow) -> str:
    if not row["delivered"]:
        return "no"
    carrier = row["reported_in"]
    return "yes" if carrier in (None, row["id"]) else f"in run {carrier}"
