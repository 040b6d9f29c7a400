"""The ``briefwatch`` command line.

Commands: ``ingest``, ``report``, ``history``, ``pages``, ``demo`` here; the review commands
``diff``, ``said``, ``search``, ``review`` and ``feed`` in :mod:`briefwatch.cli.review`;
``runs`` in :mod:`briefwatch.cli.runs`; the others in a module each. Numeric options take
the types of :mod:`briefwatch.cli.argtypes` (nonsense values are exit 2).

Exit status: 0 when the command did its job (an ingest run that completed, even if some pages
failed — they are in the report); 2 with a one-line reason for unusable arguments (missing
path, unreadable store, unknown run or page); 3 when another run holds the store.
``check`` (:mod:`briefwatch.cli.check`) exits 1 when it found problems in the store.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tomllib
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from briefwatch.cli import check as cli_check
from briefwatch.cli import maint as cli_maint
from briefwatch.cli import reparse as cli_reparse
from briefwatch.cli import review as cli_review
from briefwatch.cli import runs as cli_runs
from briefwatch.cli import serve as cli_serve
from briefwatch.cli.argtypes import at_least
from briefwatch.cli.argtypes import seconds as _seconds
from briefwatch.cli.common import (
    DEFAULT_DB,
    EXIT_BUSY,
    EXIT_OK,
    EXIT_USAGE,
    VersionAction,
    add_db,
    add_filters,
    emit_html,
    page_argument,
    report_filter,
)
from briefwatch.cli.common import default_db as _default_db
from briefwatch.cli.common import emit as _emit
from briefwatch.cli.common import open_store as _open_store
from briefwatch.contract import Report
from briefwatch.errors import BriefwatchError, StoreBusyError

if TYPE_CHECKING:
    from briefwatch.store import Store

__all__ = ["DEFAULT_DB", "EXAMPLES", "EXIT_BUSY", "EXIT_OK", "EXIT_USAGE", "build_parser",
           "main"]
EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def _quiet_prefect_defaults() -> None:
    """Prefect settings that must be in place before prefect is imported."""
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("DO_NOT_TRACK", "1")
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    # Prefect's temporary API server gets 20 s to start; a fresh PREFECT_HOME (migrating its
    # database) on a busy machine, e.g. two runs started at once, can take longer
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")


def build_parser() -> argparse.ArgumentParser:
    return _build_parser()[0]


Handler = Callable[[argparse.Namespace], int]


def _build_parser() -> tuple[argparse.ArgumentParser, dict[str, Handler]]:
    """The parser and each command's handler (the review commands come from cli_review)."""
    parser = argparse.ArgumentParser(
        prog="briefwatch",
        description="Ingest briefing pages, keep every version, flag changed statements.",
    )
    parser.add_argument("--version", action=VersionAction,
                        help="print briefwatch's version and exit")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND",
                                help="what to do (briefwatch COMMAND --help: its options)")

    ingest = sub.add_parser("ingest", help="one run of the ingest flow over files, directories "
                                           "and web pages")
    ingest.add_argument("sources", nargs="*", metavar="SOURCE",
                        help="file or directory (recursively: .html .htm .txt .md), or an "
                             "http(s) URL of a page")
    ingest.add_argument("--config", metavar="FILE", default=None,
                        help="sources.toml: web sources (URL lists, feeds, sitemaps, index "
                             "pages) and how to fetch them")
    add_db(ingest)
    ingest.add_argument("--format", choices=("text", "markdown", "json"), default="text",
                        help="how to print the run's report (default: text)")
    ingest.add_argument("--quiet", action="store_true", help="print only the counts line")
    ingest.add_argument("--chunk-size", type=at_least(1, "the chunk size"), default=64,
                        metavar="N",
                        help="pages read, parsed and stored together (one Prefect task in a "
                             "flow run; default: 64)")
    ingest.add_argument("--wait", "--lock-wait", dest="wait", type=_seconds, default=0.0,
                        metavar="SECONDS",
                        help="if another run holds the store, wait up to SECONDS for it "
                             "(saying so on stderr) instead of stopping at once with exit "
                             "status 3 (default: 0, do not wait)")
    runner = ingest.add_mutually_exclusive_group()
    runner.add_argument("--flow", dest="flow", action="store_const", const=True, default=None,
                        help="run as the Prefect ingest flow (shown in the Prefect UI with its "
                             "artifacts; starts a temporary Prefect server when no API is "
                             "configured). Default when PREFECT_API_URL or the active Prefect "
                             "profile names an API")
    runner.add_argument("--no-flow", dest="flow", action="store_const", const=False,
                        help="run in this process without Prefect (the default when no "
                             "Prefect API is configured): the same steps, store and report")

    report = sub.add_parser("report", help="print a run's change report (default: the latest "
                                           "ingest run)")
    add_db(report)
    report.add_argument("--run", default="latest", metavar="latest|ID",
                        help="which run: latest (default) is the most recent ingest run; an "
                             "ID is any run, ingest or reparse (briefwatch runs lists them)")
    report.add_argument("--format", choices=("json", "markdown", "text", "html"), default="text",
                        help="json: the report contract (README); markdown, text; html: one "
                             "self-contained page (default: text)")
    report.add_argument("-o", "--output", metavar="FILE|DIR",
                        help="write to FILE instead of stdout (html: a DIR gets index.html)")
    add_filters(report)

    history = sub.add_parser("history", help="versions of one page, newest first, with what "
                                             "changed at each")
    add_db(history)
    history.add_argument("page", metavar="PAGE", help="page key, URL or file path")
    history.add_argument("--format", choices=("text", "json", "html"), default="text",
                         help="how to print the versions (default: text)")
    history.add_argument("-o", "--output", metavar="FILE|DIR",
                         help="write to FILE instead of stdout (html: a DIR gets index.html)")
    add_filters(history)

    pages = sub.add_parser("pages", help="pages the store tracks, with status and versions")
    add_db(pages)
    pages.add_argument("--format", choices=("text", "json"), default="text",
                       help="text: one line per page; json: a list of page objects "
                            "(default: text)")

    demo = sub.add_parser("demo", help="ingest the bundled example pages (v1, then edited v2) "
                                       "and print the change report")
    demo.add_argument("--workdir", default="briefwatch-demo", metavar="DIR",
                      help="where the demo's pages and store live (default: ./briefwatch-demo)")
    demo.add_argument("--format", choices=("text", "markdown", "json"), default="text",
                      help="how to print the second run's report (default: text)")
    handlers: dict[str, Handler] = {
        "ingest": cmd_ingest,
        "report": cmd_report,
        "history": cmd_history,
        "pages": cmd_pages,
        "demo": cmd_demo,
    }
    handlers.update(cli_review.add_commands(sub))
    handlers.update(cli_serve.add_commands(sub))
    handlers.update(cli_maint.add_commands(sub))
    handlers.update(cli_check.add_commands(sub))
    handlers.update(cli_reparse.add_commands(sub))
    handlers.update(cli_runs.add_commands(sub))
    return parser, handlers


def main(argv: Sequence[str] | None = None) -> int:
    parser, handlers = _build_parser()
    args = parser.parse_args(argv)
    try:
        return handlers[args.command](args)
    except StoreBusyError as exc:
        print(f"briefwatch: {exc}", file=sys.stderr)
        return EXIT_BUSY
    except BriefwatchError as exc:
        print(f"briefwatch: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except BrokenPipeError:
        return EXIT_OK


def _print_notice(message: str) -> None:
    print(f"briefwatch: {message}", file=sys.stderr, flush=True)


def _run_ingest(sources: list[str], db: str, chunk_size: int = 64,
                config: str | None = None, wait: float = 0.0,
                deliver: Callable[[Report], None] | None = None,
                flow: bool = True) -> Report:
    """One ingest run; ``deliver`` (e.g. print the report) is called with the report
    before the run is marked reported (see :mod:`briefwatch.pipeline.delivery`). ``flow``:
    run it as the Prefect flow, else in this process (no Prefect imported)."""
    from briefwatch.pipeline import delivery, progress
    from briefwatch.pipeline.ingest import IngestRequest, run_ingest
    from briefwatch.pipeline.sources import resolve_sources
    from briefwatch.web.config import load_web_config, split_sources

    # fail fast, before Prefect starts, on a missing path, a bad URL or config
    local, _urls = split_sources(sources)
    if local or not (sources or config):
        resolve_sources(local)
    if config is not None:
        load_web_config(config)
    _open_store(db, create=True).close()  # fail fast on an unusable store
    bar = progress.TerminalProgress(sys.stderr) if sys.stderr.isatty() else None
    try:
        with progress.progress_hook.installed(bar), \
                progress.notice_hook.installed(_print_notice), \
                delivery.deliverer_hook.installed(
                    None if deliver is None else _after_progress(bar, deliver)):
            report = (_flow_ingest(sources, db, chunk_size, config, wait) if flow else
                      run_ingest(IngestRequest(sources=sources, db_path=db,
                                               chunk_size=chunk_size, config=config,
                                               lock_wait=wait)))
    finally:
        if bar is not None:
            bar.close()
    return report


def _flow_ingest(sources: list[str], db: str, chunk_size: int, config: str | None,
                 wait: float) -> Report:
    _quiet_prefect_defaults()
    from briefwatch.flows.ingest import ingest

    return ingest(sources=sources, db_path=db, chunk_size=chunk_size, config=config,
                  lock_wait=wait)


def prefect_api_configured() -> bool:
    """Whether a Prefect API is configured, read without importing Prefect: the
    PREFECT_API_URL environment variable, else the active profile of
    ``$PREFECT_HOME/profiles.toml`` (default ``~/.prefect``)."""
    if os.environ.get("PREFECT_API_URL", "").strip():
        return True
    home = Path(os.environ.get("PREFECT_HOME") or Path.home() / ".prefect").expanduser()
    try:
        profiles = tomllib.loads((home / "profiles.toml").read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return False
    active = os.environ.get("PREFECT_PROFILE") or profiles.get("active") or "ephemeral"
    profile = (profiles.get("profiles") or {}).get(active) or {}
    return isinstance(profile, dict) and bool(str(profile.get("PREFECT_API_URL") or "").strip())


def _after_progress(bar: Any, deliver: Callable[[Report], None],
                    ) -> Callable[[Report], None]:
    def deliver_after_bar(report: Report) -> None:
        if bar is not None:
            bar.close()
        deliver(report)

    return deliver_after_bar


def _print_report(args: argparse.Namespace) -> Callable[[Report], None]:
    """The deliverer of ``ingest``: print the report as asked and flush stdout (the run is
    marked reported after this returns)."""
    from briefwatch.report.registry import render

    def deliver(report: Report) -> None:
        if args.quiet:
            _emit(f"run {report['run']['id']}: {_counts(report)}\n")
        else:
            _emit(render(report, args.format))
        sys.stdout.flush()

    return deliver


def cmd_ingest(args: argparse.Namespace) -> int:
    db = args.db or _default_db()
    try:
        _run_ingest([str(s) for s in args.sources], db, args.chunk_size, args.config,
                    args.wait, deliver=_print_report(args),
                    flow=prefect_api_configured() if args.flow is None else args.flow)
    except StoreBusyError as busy:
        how = (f"gave up after waiting {args.wait:g} s" if args.wait
               else "did not wait (--wait SECONDS waits for it)")
        print(f"briefwatch: {busy}; this run wrote nothing and {how}", file=sys.stderr)
        return EXIT_BUSY
    return EXIT_OK


def _counts(report: Report) -> str:
    return cli_runs.counts_line(report["run"]["counts"])


def cmd_report(args: argparse.Namespace) -> int:
    from briefwatch.report.registry import render
    from briefwatch.report.views import filter_report

    with _open_store(args.db, create=False) as store:
        report = store.run_report(_report_run(store, args.run))
    report = filter_report(report, report_filter(args))
    if args.format == "html":
        emit_html(render(report, "html"), args.output)
    else:
        _emit(render(report, args.format), args.output)
    return EXIT_OK


def _report_run(store: Store, run: str) -> int | str:
    """``--run``: an ID as given; ``latest``: the most recent ingest run (a reparse run's
    report is asked for by its ID), or the most recent run of any kind if none is an ingest."""
    if run != "latest":
        return int(run) if run.isdigit() else run
    latest = store.runs(limit=1, kind="ingest")
    return latest[0].id if latest else run


def cmd_history(args: argparse.Namespace) -> int:
    with _open_store(args.db, create=False) as store:
        timeline = store.page_timeline(page_argument(args.page))
    timeline = cli_review.filter_timeline(timeline, args)
    text = cli_review.render_history(timeline, args.format)
    if args.format == "html":
        emit_html(text, args.output)
    else:
        _emit(text, args.output)
    return EXIT_OK


def cmd_pages(args: argparse.Namespace) -> int:
    with _open_store(args.db, create=False) as store:
        rows = [_as_dict(p) for p in store.pages()]
    if args.format == "json":
        _emit(json.dumps(rows, ensure_ascii=False, indent=2, default=str) + "\n")
        return EXIT_OK
    for row in rows:
        _emit(f"{row.get('status', ''):8} v{row.get('versions', row.get('version_count', '?'))}"
              f"  {row.get('key')}  {row.get('title') or ''}\n")
    return EXIT_OK


def _as_dict(obj: Any) -> dict[str, Any]:
    if isinstance(obj, dict):
        return obj
    from dataclasses import asdict, is_dataclass

    if is_dataclass(obj) and not isinstance(obj, type):
        return asdict(obj)
    return dict(vars(obj))


def cmd_demo(args: argparse.Namespace) -> int:
    """Ingest the bundled pages as a first capture, then their edited versions."""
    from briefwatch.report.registry import render

    workdir = Path(args.workdir).resolve()
    pages = workdir / "pages"
    db = str(workdir / "briefwatch.db")
    if pages.exists():
        shutil.rmtree(pages)
    for path in (Path(db), Path(db + "-wal"), Path(db + "-shm")):
        path.unlink(missing_ok=True)
    pages.mkdir(parents=True)
    _copy_examples(EXAMPLES / "v1", pages)
    first = _run_ingest([str(pages)], db)
    print(f"run {first['run']['id']} (first capture): {_counts(first)}")
    _copy_examples(EXAMPLES / "v2", pages)
    second = _run_ingest([str(pages)], db)
    print(f"run {second['run']['id']} (edited capture): report follows\n")
    _emit(render(second, args.format))
    print(f"\nstore: {db}  (try: briefwatch pages --db {db})")
    print(f"HTML report: briefwatch report --db {db} --format html -o {workdir / 'report'}")
    return EXIT_OK


def _copy_examples(src: Path, dest: Path) -> None:
    for path in sorted(src.iterdir()):
        if path.is_file():
            shutil.copyfile(path, dest / path.name)


if __name__ == "__main__":
    raise SystemExit(main())
