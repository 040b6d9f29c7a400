"""The ingest pipeline's steps as plain functions (no Prefect): read → parse → diff → store.

``flows/`` wraps these in Prefect tasks; keeping them here keeps the flow thin and lets the
steps be reused by other entry points (re-parse, benchmarks).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from briefwatch.diff import diff_documents
from briefwatch.errors import BriefwatchError
from briefwatch.model import Document
from briefwatch.sources import SourceItem, read_page
from briefwatch.textnorm import sha256_hex
from parsers import ParseOptions, parse
from store import Store


@dataclass(frozen=True, slots=True)
class IngestOptions:
    """Options of one ingest run."""

    chunk_size: int = 64  # pages per Prefect task
    max_workers: int = 2  # parallel parse tasks
    max_bytes: int = 20 * 1024 * 1024  # larger pages fail with a clear error


@dataclass(frozen=True, slots=True)
class PageResult:
    """What reading and parsing one page gave, before anything is stored."""

    item: SourceItem
    raw: bytes | None = None
    raw_hash: str | None = None
    document: Document | None = None
    unchanged_bytes: bool = False  # bytes equal to last time: not parsed at all
    error: str | None = None


def read_and_parse(
    items: Sequence[SourceItem], known_hashes: Mapping[str, str], options: IngestOptions
) -> list[PageResult]:
    """Read and parse a chunk of pages. Never raises for a bad page: the error is in the result."""
    parse_options = ParseOptions(max_bytes=options.max_bytes)
    return [_read_and_parse_one(item, known_hashes, parse_options) for item in items]


def _read_and_parse_one(
    item: SourceItem, known_hashes: Mapping[str, str], parse_options: ParseOptions
) -> PageResult:
    try:
        raw = read_page(item, parse_options.max_bytes)
    except BriefwatchError as exc:
        return PageResult(item, error=str(exc))
    raw_hash = sha256_hex(raw)
    if known_hashes.get(item.location) == raw_hash:
        return PageResult(item, raw_hash=raw_hash, unchanged_bytes=True)
    try:
        document = parse(raw, location=item.location, options=parse_options)
    except BriefwatchError as exc:
        return PageResult(item, raw=raw, raw_hash=raw_hash, error=str(exc))
    except (RecursionError, MemoryError, ValueError, UnicodeError) as exc:
        return PageResult(item, raw=raw, raw_hash=raw_hash,
                          error=f"cannot parse: {type(exc).__name__}: {exc}"[:500])
    return PageResult(item, raw=raw, raw_hash=raw_hash, document=document)


def store_results(store: Store, run_id: int, results: Sequence[PageResult]) -> list[str]:
    """Diff each parsed page against its latest stored version and store it (one transaction
    per page). Returns the statuses, in order."""
    statuses: list[str] = []
    for result in results:
        statuses.append(store_one(store, run_id, result))
    return statuses


def store_one(store: Store, run_id: int, result: PageResult) -> str:
    item = result.item
    if result.error is not None or result.raw_hash is None:
        store.record_failure(run_id, location=item.location, source_root=item.source_root,
                             key=None, error=result.error or "unknown error")
        return "failed"
    if result.unchanged_bytes or result.document is None or result.raw is None:
        store.record_unchanged(run_id, location=item.location, source_root=item.source_root,
                               raw_hash=result.raw_hash)
        return "unchanged"
    doc = result.document
    previous = store.latest_document(doc.key)
    diff = None
    if previous is not None and previous.content_hash != doc.content_hash():
        diff = diff_documents(previous.document, doc)
    outcome = store.record_page(run_id, location=item.location, source_root=item.source_root,
                                raw=result.raw, raw_hash=result.raw_hash, doc=doc, diff=diff,
                                previous=previous)
    return outcome.status
