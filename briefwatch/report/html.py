"""HTML renderings: the run report, a page's history, a diff of two versions, a speaker's
statements and search results — each one self-contained page (inline CSS, no script, no
external resource) that opens from disk.

Page content is untrusted. Templates are rendered by Jinja2 with autoescaping on, so every
value is HTML-escaped; links are only made from http(s) and file URLs
(:func:`briefwatch.report.views.safe_url`); and each page carries a Content-Security-Policy
that allows no script, no network and no plugins, so even a renderer bug could not run
code from a page.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import datetime
from functools import cache
from typing import Any

from jinja2 import Environment, PackageLoader

from briefwatch.report.escape import neutralise_controls
from briefwatch.report.labels import MAX_NEW_PAGE_STATEMENTS, carried_line, carried_note
from briefwatch.report.views import (
    ChangeDict,
    PageDict,
    Report,
    by_significance,
    order_changes,
    order_pages,
    review_counts,
    safe_url,
    significance_counts,
)

__all__ = [
    "CSP",
    "change_fragment_html",
    "render_diff_html",
    "render_history_html",
    "render_report_html",
    "render_said_html",
    "render_search_html",
]

CSP = ("default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; "
       "form-action 'none'; frame-ancestors 'none'")
_WORD = re.compile(r"\w+", re.UNICODE)


@cache
def _environment() -> Environment:
    env = Environment(
        loader=PackageLoader("briefwatch.report", "templates"),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.globals.update(csp=CSP, max_new=MAX_NEW_PAGE_STATEMENTS)
    env.filters.update(
        plain=_plain,
        safe_url=safe_url,
        when=_when,
        old_words=_old_words,
        new_words=_new_words,
        type_counts=_type_counts,
        metadata_lines=_metadata_lines,
        ordered_changes=order_changes,
        by_significance=by_significance,
        carried_note=carried_note,
        carried_line=carried_line,
    )
    return env


def _render(template: str, **context: Any) -> str:
    return _environment().get_template(template).render(**context)


# -------------------------------------------------------------------- filters


def _plain(text: Any) -> str:
    """Whitespace collapsed, control characters replaced (escaping is Jinja's job)."""
    return "" if text is None else neutralise_controls(" ".join(str(text).split()))


def _when(stamp: str | None) -> str:
    """``2026-01-01T06:54:59.963Z`` -> ``2026-01-01 06:54:59 UTC`` (as given if unparsable)."""
    if not stamp:
        return ""
    try:
        moment = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    except ValueError:
        return _plain(stamp)
    suffix = " UTC" if moment.utcoffset() is not None and not moment.utcoffset() else ""
    return moment.strftime("%Y-%m-%d %H:%M:%S") + suffix


def _side_words(words: Sequence[Sequence[str]] | None, keep: str) -> list[tuple[str, bool]]:
    """Runs of one side of a word diff as (text, highlighted); ``keep`` is the op shown."""
    return [(_plain(text), op == keep) for op, text in words or () if op in ("equal", keep)]


def _old_words(words: Sequence[Sequence[str]] | None) -> list[tuple[str, bool]]:
    return _side_words(words, "delete")


def _new_words(words: Sequence[Sequence[str]] | None) -> list[tuple[str, bool]]:
    return _side_words(words, "insert")


def _type_counts(changes: Iterable[ChangeDict]) -> str:
    counts = Counter(c["type"] for c in changes)
    order = ("changed", "reattributed", "added", "removed", "moved")
    return " · ".join(f"{counts[t]} {t}" for t in order if counts[t])


def _metadata_lines(metadata: dict[str, Any] | None) -> list[str]:
    """DeepDiff metadata changes as short lines: ``published: 2024-01-01 → 2024-01-02``."""
    lines: list[str] = []
    for kind, entries in (metadata or {}).items():
        if isinstance(entries, dict):
            for path, value in entries.items():
                name = _field_name(path)
                if isinstance(value, dict) and {"old_value", "new_value"} <= set(value):
                    lines.append(f"{name}: {_plain(value['old_value'])} → "
                                 f"{_plain(value['new_value'])}")
                else:
                    lines.append(f"{name}: {kind.replace('_', ' ')} {_plain(value)}")
        else:
            for path in entries or ():
                lines.append(f"{_field_name(str(path))}: {kind.replace('_', ' ')}")
    return lines


def _field_name(path: str) -> str:
    found = re.findall(r"\['([^']*)'\]|\[(\d+)\]", path)
    parts = [name or f"#{index}" for name, index in found]
    return _plain(" ".join(parts) or path)


def highlight(text: str, query: str) -> list[tuple[str, bool]]:
    """``text`` split into (run, is_match) where words start like a query word (a cheap
    stand-in for the index's stemming: the first five letters, or the whole word if shorter)."""
    stems = {w.casefold()[:5] for w in _WORD.findall(query)}
    if not stems:
        return [(text, False)]
    parts: list[tuple[str, bool]] = []
    last = 0
    for match in _WORD.finditer(text):
        word = match.group().casefold()
        if any(word.startswith(stem) for stem in stems):
            if match.start() > last:
                parts.append((text[last:match.start()], False))
            parts.append((match.group(), True))
            last = match.end()
    if last < len(text):
        parts.append((text[last:], False))
    return parts


# -------------------------------------------------------------------- renderers


def render_report_html(report: Report) -> str:
    """The run report as one self-contained HTML page."""
    pages = order_pages(report["pages"])
    shown = [p for p in pages if p["status"] not in ("unchanged", "failed", "blocked")]
    return _render(
        "report.html.j2",
        run=report["run"],
        pages=shown,
        failed=[p for p in pages if p["status"] == "failed"],
        blocked=[p for p in pages if p["status"] == "blocked"],
        unchanged=[p for p in pages if p["status"] == "unchanged"],
        significance=significance_counts(pages),
        reviews=review_counts(pages),
        filter=report.get("filter"),
    )


def render_history_html(timeline: dict[str, Any]) -> str:
    """A page's versions on a timeline (``Store.page_timeline``), newest first."""
    return _render("history.html.j2", page=timeline["page"], versions=timeline["versions"])


def render_diff_html(page: PageDict) -> str:
    """Any two versions of a page compared (``reportview.diff_page``)."""
    return _render("diff.html.j2", page=page)


def render_said_html(view: dict[str, Any]) -> str:
    """A speaker's statements and how they changed (``Store.speaker_view``)."""
    return _render("said.html.j2", view=view)


def render_search_html(query: str, hits: Sequence[dict[str, Any]]) -> str:
    """Full-text search hits, words of the query marked."""
    marked = [hit | {"parts": highlight(_plain(hit["text"]), query)} for hit in hits]
    return _render("search.html.j2", query=query, hits=marked)


def change_fragment_html(page: PageDict) -> str:
    """A page's changes as an HTML fragment (no document, classes only as hints): the
    content of an Atom entry."""
    return _render("fragment.html.j2", page=page)
