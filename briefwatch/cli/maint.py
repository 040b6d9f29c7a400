"""Store maintenance commands: ``vacuum`` (retention of old raw payloads, compaction) and
``backup`` (a consistent online copy). See :mod:`briefwatch.store.maintenance`."""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from dataclasses import asdict
from typing import Any

from briefwatch.cli.argtypes import days, seconds
from briefwatch.cli.common import EXIT_OK, add_db, default_db, emit, open_store

Handler = Callable[[argparse.Namespace], int]


def add_commands(sub: Any) -> dict[str, Handler]:
    """Add ``vacuum`` and ``backup`` to ``sub`` (argparse subparsers); handlers by name."""
    vacuum = sub.add_parser(
        "vacuum", help="compact the store; with --drop-raw-older-than, drop old raw payloads "
                       "first (statements, versions and changes stay)")
    add_db(vacuum)
    vacuum.add_argument("--drop-raw-older-than", type=days, default=None, metavar="DAYS",
                        help="drop the raw bytes of versions created more than DAYS days ago "
                             "(0: all); only a re-parse needs them")
    vacuum.add_argument("--keep-current", action=argparse.BooleanOptionalAction, default=True,
                        help="keep the raw bytes of each page's current version whatever "
                             "its age (default: keep)")
    vacuum.add_argument("--dry-run", action="store_true",
                        help="say what would be dropped; write nothing")
    vacuum.add_argument("--wait", "--lock-wait", dest="lock_wait", type=seconds, default=0.0,
                        metavar="SECONDS",
                        help="wait this long for a store another run holds (default: 0, "
                             "refuse at once with exit status 3)")
    vacuum.add_argument("--format", choices=("text", "json"), default="text",
                        help="how to print what was done (default: text)")

    backup = sub.add_parser(
        "backup", help="a consistent copy of the store (SQLite online backup; safe while a "
                       "run writes)")
    backup.add_argument("dest", metavar="DEST",
                        help="file to write the copy to (in a folder that exists)")
    add_db(backup)
    backup.add_argument("--force", action="store_true", help="overwrite DEST if it exists")
    backup.add_argument("--format", choices=("text", "json"), default="text",
                        help="how to print what was copied (default: text)")
    return {"vacuum": cmd_vacuum, "backup": cmd_backup}


def cmd_vacuum(args: argparse.Namespace) -> int:
    from briefwatch.store.maintenance import RetentionPolicy, vacuum

    policy = None
    if args.drop_raw_older_than is not None:
        policy = RetentionPolicy(args.drop_raw_older_than, keep_current=args.keep_current)
    with open_store(args.db, create=False) as store:
        result = vacuum(store, policy, dry_run=args.dry_run, lock_wait=args.lock_wait)
    emit(_json(asdict(result)) if args.format == "json" else _vacuum_text(asdict(result)))
    return EXIT_OK


def _vacuum_text(result: dict[str, Any]) -> str:
    lines = []
    retention = result["retention"]
    if retention is not None:
        verb = "would drop" if result["dry_run"] else "dropped"
        current = " (current versions kept)" if retention["keep_current"] else ""
        lines.append(
            f"retention: {verb} the raw bytes of {retention['blobs_dropped']} blob(s) "
            f"({retention['versions_affected']} version(s) created before "
            f"{retention['cutoff']}){current}: {_size(retention['raw_bytes_dropped'])} raw, "
            f"{_size(retention['stored_bytes_dropped'])} stored")
        if retention["blobs_kept_as_current"]:
            lines.append(f"retention: kept {retention['blobs_kept_as_current']} old blob(s) "
                         "of current versions (--no-keep-current drops them)")
    if result["dry_run"]:
        lines.append(f"dry run: nothing written; {result['path']} is "
                     f"{_size(result['file_bytes_before'])}")
    else:
        before, after = result["file_bytes_before"], result["file_bytes_after"]
        lines.append(f"vacuum: {result['path']} {_size(before)} -> {_size(after)} "
                     f"({_ratio(after, before)}) in {result['seconds']:.2f} s")
        if not result["checkpoint_complete"]:
            lines.append("vacuum: a reader kept the write-ahead log busy; it shrinks at the "
                         "next checkpoint")
    return "\n".join(lines) + "\n"


def cmd_backup(args: argparse.Namespace) -> int:
    from briefwatch.store.maintenance import backup

    result = asdict(backup(args.db or default_db(), args.dest, force=args.force))
    if args.format == "json":
        emit(_json(result))
    else:
        emit(f"backup: {result['source']} -> {result['dest']}: {_size(result['bytes'])}, "
             f"{result['pages']} pages of {result['page_size']} bytes, integrity "
             f"{result['integrity']}, {result['seconds']:.2f} s\n")
    return EXIT_OK


def _json(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, indent=2) + "\n"


def _size(n: int) -> str:
    if n < 1024:
        return f"{n} bytes"
    return f"{n / 1024:.1f} KiB" if n < 1024 * 1024 else f"{n / 1024 / 1024:.1f} MiB"


def _ratio(after: int, before: int) -> str:
    return f"{100.0 * after / before:.1f}% of before" if before else "empty"
