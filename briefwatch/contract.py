"""The JSON report as types: what ``briefwatch report --format json`` (and ``ingest``,
``reparse``, the Prefect artifact, the notifications) prints, and what every renderer reads.

A contract other tools read: fields are only ever added, never renamed or dropped. The
meaning of each field is written down with the queries that produce it
(``briefwatch.store.queries.report`` for a run report, ``...queries.change`` for a change,
``...queries.reparse`` for a reparse run's report, ``briefwatch.store.carryover`` for what a
killed run's changes add). ``NotRequired`` marks fields only some report kinds have.

``docs/report.schema.json`` is generated from :data:`Report` (``python -m
briefwatch.contract > docs/report.schema.json``; a test checks it is current). The schema
allows fields it does not name (the contract only grows).
"""

from __future__ import annotations

import json
import sys
from typing import Any, NotRequired

from typing_extensions import TypedDict


class NumberChange(TypedDict):
    """A number inside a changed statement (``None`` on one side: added / removed)."""

    old: str | None
    new: str | None


class TitleChange(TypedDict):
    old: str | None
    new: str | None


class UnscoredChange(TypedDict):
    """A change before its significance is assessed (the fields of :class:`Change` but
    ``significance`` and ``significance_reason``)."""

    id: int | None
    type: str  # added | removed | changed | moved | reattributed
    kind: str | None
    speaker: str | None
    old_speaker: str | None
    old: str | None
    new: str | None
    numbers: list[NumberChange]
    words: list[list[str]]  # [op, word]: op equal | insert | delete
    similarity: float | None
    position: int | None
    old_position: int | None
    review_status: str | None  # unreviewed | reviewed | dismissed | flagged
    review_note: str | None
    reviewed_at: NotRequired[str | None]
    reviewer: NotRequired[str | None]
    run_id: NotRequired[int | None]
    from_version: NotRequired[int | None]
    to_version: NotRequired[int | None]
    superseded_by_run: NotRequired[int | None]


class Change(UnscoredChange):
    """One flagged change. Stored changes have every field; a diff made on the fly (``diff``
    of two versions, a reparse's ``statement_changes``) has no id and no run/version/
    review-history fields."""

    significance: str  # low | medium | high
    significance_reason: str


class PageRef(TypedDict):
    key: str
    url: str | None
    title: str | None


class ChangeDetail(Change):
    """One stored change with its page and review history (``briefwatch review show``; not
    part of a run report)."""

    page: NotRequired[PageRef]
    reviews: NotRequired[list[dict[str, Any]]]


class ReparseVersion(TypedDict):
    """One re-parsed version of a reparse report's page (``outcome`` reparsed | raw_not_kept
    | failed; the statement fields only for ``reparsed``)."""

    version: int
    outcome: str
    error: str | None
    statements: NotRequired[dict[str, int]]  # added, removed, changed, moved, reattributed
    old_statement_count: NotRequired[int]
    new_statement_count: NotRequired[int]
    title_change: NotRequired[TitleChange | None]
    metadata_changes: NotRequired[dict[str, Any]]
    layout_only: NotRequired[bool]
    statement_changes: NotRequired[list[Change]]


class ReparsePair(TypedDict):
    """The changes recomputed between two consecutive versions."""

    from_version: int
    to_version: int
    added: int
    superseded: int
    kept: int
    title_change: TitleChange | None
    metadata_changes: dict[str, Any]


class ReparseDetail(TypedDict):
    versions: list[ReparseVersion]
    pairs: list[ReparsePair]
    superseded_changes: list[Change]


class Page(TypedDict):
    """One page of a report. ``status``: new | changed | unchanged | gone | failed | blocked
    (a reparse report: reparsed | unchanged | failed)."""

    key: str
    url: str | None
    title: str | None
    status: str
    version: int | None
    previous_version: int | None
    title_change: TitleChange | None
    metadata_changes: dict[str, Any]
    changes: list[Change]
    error: str | None
    # every run report page has these three; a page of ``briefwatch diff`` does not
    location: NotRequired[str | None]
    note: NotRequired[str | None]
    skipped_parse: NotRequired[bool]
    significance: str | None
    carried_from_runs: NotRequired[list[int]]  # ingest reports
    reparse: NotRequired[ReparseDetail]  # reparse reports


class CarriedOver(TypedDict):
    """Earlier runs whose report was never delivered, merged into this one."""

    runs: list[int]
    interrupted: list[int]
    contributing_runs: list[int]
    pages: int
    changes: int


class Run(TypedDict):
    """The run a report is of. ``counts``: pages per status (a reparse run adds its own
    counters)."""

    id: int | None  # None: a reparse dry run (nothing stored)
    started_at: str
    finished_at: str | None
    flow_run_id: str | None
    counts: dict[str, int]
    status: str
    sources: list[str]
    options: dict[str, Any]
    own_counts: NotRequired[dict[str, int]]  # ingest reports
    carried_over: NotRequired[CarriedOver]  # ingest reports
    kind: NotRequired[str]  # reparse reports: "reparse"
    dry_run: NotRequired[bool]  # reparse reports


class FilterOptions(TypedDict):
    """What ``--min-significance`` / ``--unreviewed`` asked for."""

    min_significance: str | None
    unreviewed: bool


class Filter(FilterOptions):
    """The filter a filtered report was made with, and how much it hid."""

    hidden_changes: int
    hidden_pages: int


class Report(TypedDict):
    run: Run
    pages: list[Page]
    filter: NotRequired[Filter]  # a filtered report


RUN_KINDS = ("ingest", "reparse")  # runs.kind


class RunRow(TypedDict):
    """One run as ``briefwatch runs --format json`` lists them (a list, newest first; the
    query is ``briefwatch.store.queries.runs``). A contract too: fields are only ever added.

    ``status``: running | completed | failed | interrupted (a run killed mid-way stays
    ``running`` until the next run notices it). ``counts``: pages per outcome (a reparse run
    adds its own counters; a running run's counts so far). ``runner``: ``in-process`` or
    ``prefect flow`` (``options.runner``; None for runs stored before it was recorded).
    ``delivered``: its report was delivered (printed by ``briefwatch ingest``, handed to the
    deliverer of a scheduled run); ``reported_at`` when, ``reported_in`` by which run (itself,
    or a later run of its kind that carried over the changes of a run killed before its
    report went out)."""

    id: int
    kind: str  # ingest | reparse
    status: str
    started_at: str
    finished_at: str | None
    counts: dict[str, int]
    flow_run_id: str | None
    runner: str | None
    sources: list[str]
    delivered: bool
    reported_at: str | None
    reported_in: int | None


def json_schema() -> dict[str, Any]:
    """The JSON Schema of :class:`Report` (needs pydantic, installed with prefect)."""
    from pydantic import TypeAdapter

    schema: dict[str, Any] = TypeAdapter(Report).json_schema()
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", **schema}


def schema_text() -> str:
    return json.dumps(json_schema(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


if __name__ == "__main__":
    sys.stdout.write(schema_text())
