"""Helpers shared by the command modules (``briefwatch.cli``, ``briefwatch.cli.review``)."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from briefwatch.diff.significance import Level, parse_level
from briefwatch.errors import OutputError
from briefwatch.report.views import ReportFilter

EXIT_OK = 0
EXIT_USAGE = 2
EXIT_BUSY = 3
DEFAULT_DB = "briefwatch.db"
LEVEL_CHOICES = tuple(level.label for level in Level)


class VersionAction(argparse.Action):
    """``--version``: print ``briefwatch VERSION`` and exit 0 (the version is read only when
    asked for; see ``briefwatch.__version__``)."""

    def __init__(self, option_strings: list[str], dest: str = argparse.SUPPRESS,
                 default: str = argparse.SUPPRESS, help: str | None = None) -> None:
        super().__init__(option_strings, dest=dest, default=default, nargs=0, help=help)

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace,
                 values: object, option_string: str | None = None) -> None:
        import briefwatch

        sys.stdout.write(f"briefwatch {briefwatch.__version__}\n")
        parser.exit()


def default_db() -> str:
    return os.environ.get("BRIEFWATCH_DB") or DEFAULT_DB


def add_db(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--db", default=None, metavar="PATH",
                        help=f"SQLite store (default: $BRIEFWATCH_DB or ./{DEFAULT_DB})")


def add_output(parser: argparse.ArgumentParser, *, html_dir: bool = False) -> None:
    where = "FILE (html: a FILE.html, or a DIR that gets index.html)" if html_dir else "FILE"
    parser.add_argument("-o", "--output", metavar="FILE|DIR" if html_dir else "FILE",
                        help=f"write to {where} instead of stdout")


def add_filters(parser: argparse.ArgumentParser, *, unreviewed: bool = True) -> None:
    parser.add_argument("--min-significance", choices=LEVEL_CHOICES, default=None,
                        help="only changes at or above this level (low < medium < high)")
    if unreviewed:
        parser.add_argument("--unreviewed", action="store_true",
                            help="only changes nobody has reviewed yet")


def report_filter(args: argparse.Namespace) -> ReportFilter:
    level = args.min_significance
    return ReportFilter(
        min_significance=None if level is None else parse_level(level),
        unreviewed=bool(getattr(args, "unreviewed", False)),
    )


def open_store(db: str | None, *, create: bool) -> Any:
    from briefwatch.store import Store

    return Store(db or default_db(), create=create)


def page_argument(page: str) -> str:
    """A PAGE argument: a file path that exists becomes its file:// URI (as the store keeps
    locations); anything else (key, URL) is used as given."""
    if os.path.exists(page):
        return Path(page).resolve().as_uri()
    return page


def emit(text: str, output: str | None = None) -> None:
    """Write ``text`` to ``output`` (a file), or to stdout."""
    if not output:
        sys.stdout.write(text)
        return
    try:
        Path(output).write_text(text, encoding="utf-8")
    except OSError as exc:
        raise OutputError(f"cannot write {output}: {exc.strerror or exc}") from exc


def emit_html(text: str, output: str | None) -> None:
    """Write an HTML page: to stdout, to ``output`` if it ends in .html/.htm, else into the
    directory ``output`` (created) as ``index.html``; says where on stdout."""
    if not output:
        sys.stdout.write(text)
        return
    path = Path(output)
    target = path if path.suffix.lower() in (".html", ".htm") else path / "index.html"
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise OutputError(f"cannot write {target}: {exc.strerror or exc}") from exc
    print(f"wrote {target}")
