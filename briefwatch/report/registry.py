"""One registry of report kind × output format → renderer (after Datasette's output
renderers): the CLI, the flow and the tests all go through :func:`render`.

A report's kind is its ``run.kind`` (``ingest`` when absent; ``reparse``). To add a format,
write a module with a ``render_<format>(report) -> str`` and register it here for the kinds
it can show; a kind without its own renderer for a format falls back to the ``ingest`` one.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from briefwatch.contract import Report
from briefwatch.report import reparse
from briefwatch.report.html import render_report_html
from briefwatch.report.markdown import render_markdown
from briefwatch.report.text import render_text

__all__ = ["FORMATS", "RENDERERS", "Renderer", "render", "render_json"]

Renderer = Callable[[Report], str]
FORMATS = ("json", "markdown", "text", "html")


def render_json(report: Report) -> str:
    return json.dumps(report, ensure_ascii=False, indent=2) + "\n"


RENDERERS: dict[tuple[str, str], Renderer] = {
    ("ingest", "json"): render_json,
    ("ingest", "markdown"): render_markdown,
    ("ingest", "text"): render_text,
    ("ingest", "html"): render_report_html,
    ("reparse", "text"): reparse.render_text,
    ("reparse", "markdown"): reparse.render_markdown,
}


def render(report: Report, fmt: str) -> str:
    """``report`` rendered as ``fmt`` (json, markdown, text or html); ValueError for any
    other format."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; choose json, markdown, text or html")
    kind = report["run"].get("kind") or "ingest"
    renderer = RENDERERS.get((kind, fmt)) or RENDERERS[("ingest", fmt)]
    return renderer(report)
