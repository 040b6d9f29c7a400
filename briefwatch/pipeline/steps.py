"""The ingest pipeline's steps as plain functions (no Prefect): read → parse → diff → store.

``flows/`` wraps these in Prefect tasks; keeping them here keeps the flow thin and lets the
steps be reused by other entry points (re-parse, benchmarks).
"""

from __future__ import annotations

import copyreg
import logging
import multiprocessing
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from operator import attrgetter
from typing import Any

from briefwatch.diff import diff_documents
from briefwatch.errors import BriefwatchError
from briefwatch.model import Document, Statement
from briefwatch.parsers import ParseContext, parse
from briefwatch.pipeline.sources import SourceItem, read_page
from briefwatch.store import PageWrite, Store, StoredVersion
from briefwatch.store.blobs import Compression, compress
from briefwatch.store.rows import STATEMENT_FIELDS, restore_statement
from briefwatch.textnorm import sha256_hex

_log = logging.getLogger(__name__)
_statement_fields = attrgetter(*STATEMENT_FIELDS)


def _pickle_statement(statement: Statement) -> tuple[Callable[..., Statement], tuple[Any, ...]]:
    return restore_statement, _statement_fields(statement)


# Parse results come back from the worker processes with every statement of every page:
# pickle a statement as its fields and restore it without recomputing ``key``/``sid`` (the
# frozen-dataclass default looks up ``dataclasses.fields()`` per object: twice as slow).
copyreg.pickle(Statement, _pickle_statement)


@dataclass(frozen=True, slots=True)
class IngestOptions:
    """Options of one ingest run."""

    chunk_size: int = 64  # pages per Prefect task
    max_workers: int = 2  # parallel parse tasks (worker processes, see ParsePool)
    # a run with at least this many pages parses on worker processes (starting them costs
    # about half a second); a smaller run parses in its own process
    process_pool_min_pages: int = 128
    max_bytes: int = 20 * 1024 * 1024  # larger pages fail with a clear error
    # parsed pages' raw bytes are compressed by the parse step (in the worker processes)
    # with this; the store uses it when it is the store's own compression
    compression: Compression = "zlib"


@dataclass(frozen=True, slots=True)
class PageResult:
    """What reading and parsing one page gave, before anything is stored."""

    item: SourceItem
    raw: bytes | None = None
    raw_hash: str | None = None
    document: Document | None = None
    unchanged_bytes: bool = False  # bytes equal to last time: not parsed at all
    error: str | None = None
    compressed_raw: tuple[str, bytes] | None = None  # (compression, data) of a parsed page
    # what the parser was told besides the bytes, kept with the version (web pages; a file
    # is parsed by its location alone)
    context: ParseContext | None = None


def read_and_parse(
    items: Sequence[SourceItem], known_hashes: Mapping[str, str], options: IngestOptions
) -> list[PageResult]:
    """Read and parse a chunk of pages. Never raises for a bad page: the error is in the result."""
    return [_read_and_parse_one(item, known_hashes, options) for item in items]


class ParsePool:
    """Worker processes that run :func:`read_and_parse` (parsing is CPU-bound Python, so
    threads would share one core). Use as a context manager; thread-safe.

    Workers are started with ``spawn``: a script that runs an ingest at import time needs
    the usual ``if __name__ == "__main__":`` guard. Should the pool break (a worker dies),
    the chunk and every later one are parsed in the calling process instead, as without
    a pool.
    """

    def __init__(self, workers: int) -> None:
        self._executor: ProcessPoolExecutor | None = ProcessPoolExecutor(
            max_workers=workers, mp_context=multiprocessing.get_context("spawn")
        )

    def read_and_parse(
        self, items: Sequence[SourceItem], known_hashes: Mapping[str, str],
        options: IngestOptions,
    ) -> list[PageResult]:
        executor = self._executor
        if executor is not None:
            try:
                return executor.submit(read_and_parse, list(items), dict(known_hashes),
                                       options).result()
            except BrokenProcessPool as exc:
                _log.warning("parse workers unavailable (%s); parsing in this process", exc)
                self._executor = None
        return read_and_parse(items, known_hashes, options)

    def close(self) -> None:
        executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=True, cancel_futures=True)

    def __enter__(self) -> ParsePool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _read_and_parse_one(
    item: SourceItem, known_hashes: Mapping[str, str], options: IngestOptions
) -> PageResult:
    try:
        raw = read_page(item, options.max_bytes)
    except BriefwatchError as exc:
        return PageResult(item, error=str(exc))
    return parse_page(item, raw, known_hashes, options)


# what parsing a hostile page can raise besides ParseError (lxml's ValueError on characters
# XML cannot hold, a RecursionError, ...): each fails that page, never the run
PARSE_FAILURES = (BriefwatchError, RecursionError, MemoryError, ValueError, UnicodeError)


def parse_page(
    item: SourceItem, raw: bytes, known_hashes: Mapping[str, str], options: IngestOptions,
    context: ParseContext | None = None,
) -> PageResult:
    """Parse one page's bytes (read from disk or fetched): unchanged when they hash as last
    time; else the document, or the reason it could not be parsed. ``context``: what the
    parser is told besides the bytes (default: the item's location alone); it is kept with
    the version when given."""
    raw_hash = sha256_hex(raw)
    if known_hashes.get(item.location) == raw_hash:
        return PageResult(item, raw_hash=raw_hash, unchanged_bytes=True)
    told = context or ParseContext(item.location)
    try:
        document = parse(raw, location=told.location, options=told.options(options.max_bytes))
    except PARSE_FAILURES as exc:
        reason = (str(exc) if isinstance(exc, BriefwatchError)
                  else f"cannot parse: {type(exc).__name__}: {exc}"[:500])
        return PageResult(item, raw=raw, raw_hash=raw_hash, error=reason)
    return PageResult(item, raw=raw, raw_hash=raw_hash, document=document,
                      compressed_raw=(options.compression, compress(raw, options.compression)),
                      context=context)


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
    if previous is None:
        previous = _follow_move(store, item.location, doc)
    diff = None
    if previous is not None and previous.content_hash != doc.content_hash():
        diff = diff_documents(previous.document, doc)
    outcome = store.record_page(run_id, PageWrite(
        location=item.location, source_root=item.source_root, raw=result.raw,
        raw_hash=result.raw_hash, doc=doc, diff=diff, previous=previous,
        compressed_raw=result.compressed_raw,
        parse_context=None if result.context is None else result.context.as_dict(),
    ))
    return outcome.status


# a location whose page now declares another canonical URL is the same page moved when at
# least this share of the smaller version's (non-trivial) statements is in the other one
MOVED_PAGE_MIN_OVERLAP = 0.25
_TRIVIAL_WORDS = 3


def _follow_move(store: Store, location: str, doc: Document) -> StoredVersion | None:
    """When the page read at ``location`` used to have another key and is recognisably the
    same document (renamed canonical URL), move its history to the new key and return its
    latest version; otherwise None (a different document now lives at that location)."""
    state = store.location_state(location)
    if state is None or state.key == doc.key:
        return None
    old = store.latest_document(state.key)
    if old is None or not same_document(old.document, doc):
        return None
    store.rekey_page(state.key, doc.key)
    return store.latest_document(doc.key)


def same_document(a: Document, b: Document) -> bool:
    """Do two versions share enough statements to be one page (rewritten), not two?"""
    keys_a = {s.key for s in a.statements if len(s.key.split()) > _TRIVIAL_WORDS}
    keys_b = {s.key for s in b.statements if len(s.key.split()) > _TRIVIAL_WORDS}
    smaller = min(len(keys_a), len(keys_b))
    return smaller > 0 and len(keys_a & keys_b) / smaller >= MOVED_PAGE_MIN_OVERLAP
