"""The review commands: ``diff``, ``said``, ``search``, ``review`` and ``feed`` (``report`` and
``history`` live in :mod:`briefwatch.cli` and use the renderers here too)."""

from __future__ import annotations

import argparse
import json
import os
from collections.abc import Callable
from dataclasses import asdict
from typing import Any

from briefwatch.cli.argtypes import at_least
from briefwatch.cli.common import (
    EXIT_OK,
    LEVEL_CHOICES,
    add_db,
    add_filters,
    add_output,
    default_db,
    emit,
    emit_html,
    open_store,
    page_argument,
    report_filter,
)
from briefwatch.errors import BriefwatchError

Handler = Callable[[argparse.Namespace], int]
REVIEW_STATUSES = ("reviewed", "dismissed", "flagged", "unreviewed")
_VERSION = at_least(1, "a version number")


def _json(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n"


def add_commands(sub: Any) -> dict[str, Handler]:
    """Add the review commands to ``sub`` (argparse subparsers); their handlers by name."""
    diff = sub.add_parser("diff", help="compare any two versions of a page")
    add_db(diff)
    diff.add_argument("page", metavar="PAGE", help="page key, URL or file path")
    diff.add_argument("--from", dest="from_version", type=_VERSION, metavar="N",
                      help="older version number, from 1 (default: the one before --to)")
    diff.add_argument("--to", dest="to_version", type=_VERSION, metavar="M",
                      help="newer version number, from 1 (default: the current version)")
    diff.add_argument("--format", choices=("text", "markdown", "json", "html"), default="text",
                      help="how to print the changes (default: text)")
    add_output(diff, html_dir=True)
    add_filters(diff, unreviewed=False)

    said = sub.add_parser("said", help="a speaker's statements and how they changed")
    add_db(said)
    said.add_argument("speaker", metavar="NAME",
                      help="part of the speaker's name, any case (\"Dillon\", \"jean-pierre\")")
    said.add_argument("--format", choices=("text", "json", "html"), default="text",
                      help="how to print the statements (default: text)")
    add_output(said, html_dir=True)
    add_filters(said)

    search = sub.add_parser("search", help="full-text search over every stored statement")
    add_db(search)
    search.add_argument("query", nargs="+", metavar="WORDS",
                        help="words to find, quoted or not (search Tal Afar; stemmed: "
                             "casualty finds casualties)")
    search.add_argument("--speaker", metavar="NAME", help="only statements by this speaker "
                                                          "(part of the name, any case)")
    search.add_argument("--limit", type=at_least(1, "the number of statements"), default=50,
                        metavar="N", help="at most N statements (default: 50)")
    search.add_argument("--format", choices=("text", "json", "html"), default="text",
                        help="how to print the statements found (default: text)")
    add_output(search, html_dir=True)

    review = sub.add_parser("review", help="record a review of changes (or show one)")
    add_db(review)
    review.add_argument("change_ids", nargs="+", type=at_least(1, "a change id"),
                        metavar="CHANGE_ID",
                        help="id of a stored change (reports show it)")
    review.add_argument("--status", choices=REVIEW_STATUSES,
                        help="new review state; without it, show the change and its reviews")
    review.add_argument("--note", metavar="TEXT", help="why (kept with the review)")
    review.add_argument("--by", default=None, metavar="NAME",
                        help="reviewer (default: $BRIEFWATCH_REVIEWER, else $USER)")
    review.add_argument("--format", choices=("text", "json"), default="text",
                        help="how to print the changes (default: text)")

    feed = sub.add_parser("feed", help="an Atom feed of changes, one entry per changed page "
                                       "per run")
    add_db(feed)
    add_output(feed)
    feed.add_argument("--runs", type=at_least(1, "the number of runs"), default=20,
                      metavar="N",
                      help="the N most recent runs (default: 20)")
    feed.add_argument("--min-significance", choices=LEVEL_CHOICES, default=None,
                      help="leave out changes below this level")
    feed.add_argument("--title", default=None, metavar="TEXT",
                      help="feed title (default: \"briefwatch: changed briefing statements\")")
    feed.add_argument("--feed-url", default=None, metavar="URL",
                      help="where the feed will be published (its rel=self link)")
    feed.add_argument("--id", dest="feed_id", default=None, metavar="IRI",
                      help="the feed's permanent id (default: derived from the store's path)")
    return {"diff": cmd_diff, "said": cmd_said, "search": cmd_search, "review": cmd_review,
            "feed": cmd_feed}


# ------------------------------------------------------------------------ history


def render_history(timeline: dict[str, Any], fmt: str) -> str:
    from briefwatch.report.html import render_history_html
    from briefwatch.report.review import history_text

    if fmt == "json":
        return _json(timeline["versions"])
    if fmt == "html":
        return render_history_html(timeline)
    return history_text(timeline)


def filter_timeline(timeline: dict[str, Any], args: argparse.Namespace) -> dict[str, Any]:
    from briefwatch.report.views import filter_changes

    flt = report_filter(args)
    if not flt.active:
        return timeline
    for version in timeline["versions"]:
        version["change_details"] = filter_changes(version["change_details"], flt)
    return timeline


# ------------------------------------------------------------------------ commands


def cmd_diff(args: argparse.Namespace) -> int:
    from briefwatch.diff import diff_documents
    from briefwatch.report.html import render_diff_html
    from briefwatch.report.markdown import markdown_page
    from briefwatch.report.review import diff_text
    from briefwatch.report.views import diff_page, filter_changes

    page = page_argument(args.page)
    with open_store(args.db, create=False) as store:
        key = store.page_key(page)
        to_number = (store.current_version_number(page) if args.to_version is None
                     else args.to_version)
        new_id = store.version_id(page, to_number)  # the version asked for exists?
        from_number = _from_version(page, args.from_version, to_number)
        old = store.load_version(store.version_id(page, from_number))
        new = store.load_version(new_id)
    doc = new.document
    entry = diff_page(diff_documents(old.document, doc), key=key, url=doc.url, title=doc.title,
                      from_version=from_number, to_version=to_number)
    entry["changes"] = filter_changes(entry["changes"], report_filter(args))
    if args.format == "json":
        emit(_json(entry), args.output)
    elif args.format == "html":
        emit_html(render_diff_html(entry), args.output)
    elif args.format == "markdown":
        emit("\n".join(markdown_page(entry)) + "\n", args.output)
    else:
        emit(diff_text(entry), args.output)
    return EXIT_OK


def _from_version(page: str, asked: int | None, to_number: int) -> int:
    """The older side of ``diff``: as asked, else the version before ``to_number``."""
    if asked is not None:
        return asked
    if to_number == 1:
        raise BriefwatchError(f"page {page!r}: v1 is its first version, there is none before "
                              "it to compare with (--from N compares version N with v1)")
    return to_number - 1


def cmd_said(args: argparse.Namespace) -> int:
    from briefwatch.report.html import render_said_html
    from briefwatch.report.review import said_text
    from briefwatch.report.views import filter_changes

    with open_store(args.db, create=False) as store:
        view = store.speaker_view(args.speaker)
    flt = report_filter(args)
    if flt.active:
        for page in view["pages"]:
            page["changes"] = filter_changes(page["changes"], flt)
    if args.format == "json":
        emit(_json(view), args.output)
    elif args.format == "html":
        emit_html(render_said_html(view), args.output)
    else:
        emit(said_text(view), args.output)
    return EXIT_OK


def cmd_search(args: argparse.Namespace) -> int:
    from briefwatch.report.html import render_search_html
    from briefwatch.report.review import search_text

    query = " ".join(args.query)
    with open_store(args.db, create=False) as store:
        hits = [asdict(h) for h in store.search(query, args.limit, speaker=args.speaker)]
    if args.format == "json":
        emit(_json(hits), args.output)
    elif args.format == "html":
        emit_html(render_search_html(query, hits), args.output)
    else:
        emit(search_text(query, hits), args.output)
    return EXIT_OK


def cmd_review(args: argparse.Namespace) -> int:
    from briefwatch.report.escape import plain
    from briefwatch.report.review import change_text

    if args.status is None and (args.note is not None or args.by is not None):
        raise BriefwatchError("--note and --by need --status")
    reviewer = args.by or os.environ.get("BRIEFWATCH_REVIEWER") or os.environ.get("USER")
    with open_store(args.db, create=False) as store:
        changes = [store.change(change_id) for change_id in args.change_ids]  # all exist?
        if args.status is not None:
            for change in changes:
                store.review(change["id"], args.status, note=args.note, reviewer=reviewer)
            changes = [store.change(change_id) for change_id in args.change_ids]
    if args.format == "json":
        emit(_json(changes))
    elif args.status is not None:
        for change in changes:
            note = f" ({plain(change['review_note'])})" if change.get("review_note") else ""
            emit(f"change {change['id']}: {change['review_status']}{note}\n")
    else:
        emit("\n".join(change_text(c) for c in changes))
    return EXIT_OK


def cmd_feed(args: argparse.Namespace) -> int:
    from pathlib import Path

    from briefwatch.diff.significance import parse_level
    from briefwatch.report.atom import DEFAULT_TITLE, FeedOptions, build_feed, feed_id_for

    db = args.db or default_db()
    with open_store(db, create=False) as store:
        # ingest runs only: a reparse run's report lists re-read versions, not changes
        # pages went through (those are in the feed already, by the runs that found them)
        reports = [store.run_report(run.id)
                   for run in store.runs(limit=args.runs, kind="ingest")]
    options = FeedOptions(
        feed_id=args.feed_id or feed_id_for(str(Path(db).resolve())),
        title=args.title or DEFAULT_TITLE,
        self_url=args.feed_url,
        min_significance=None if args.min_significance is None
        else parse_level(args.min_significance),
    )
    xml = build_feed(reports, options).decode("utf-8")
    emit(xml, args.output)
    return EXIT_OK


__all__ = ["add_commands", "filter_timeline", "render_history"]
