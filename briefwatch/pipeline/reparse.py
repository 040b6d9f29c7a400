"""Re-parse stored raw versions with the current parsers (``briefwatch reparse``).

Parser improvements apply to history without refetching: every selected version's raw bytes
(kept compressed in the store) are parsed again with the same options the ingest uses; a
version whose new parse differs from its stored statements or fields is rewritten, and the
changes of every consecutive pair of versions touching it are recomputed with
:func:`briefwatch.diff.diff_documents`. What earlier runs saw is kept
(``briefwatch.store.queries.reparse``
has the storage rules and the report's JSON shape): a reparse is a run of kind ``reparse``
with its own report, and old run reports still show what they showed.

No Prefect here: this is one process holding the store's writer lock, one transaction per
page. A version whose raw bytes retention dropped keeps its stored statements (``raw not
kept``); a page whose raw bytes no longer parse fails in the report and is left untouched.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import pkgutil
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from itertools import pairwise
from pathlib import Path
from typing import Any

from briefwatch.contract import Change as ChangeDict
from briefwatch.contract import Page, ReparsePair, ReparseVersion, Report, Run
from briefwatch.diff import diff_documents
from briefwatch.errors import BriefwatchError, StoreError
from briefwatch.model import Change, ChangeType, Document
from briefwatch.parsers import DEFAULT_MAX_BYTES, Format, ParseContext, parse
from briefwatch.pipeline.steps import PARSE_FAILURES
from briefwatch.report.views import change_to_dict
from briefwatch.store import Store
from briefwatch.store.queries.reparse import (
    COUNT_KEYS,
    REPARSE_KIND,
    PageReparse,
    PairReparse,
    VersionReparse,
    page_entry,
    report_shape,
)

# what decides a parse: the parsers, and the model's statement identity (match key, sid)
_PARSER_PACKAGE = "briefwatch.parsers"
_PARSER_MODULES = ("briefwatch.model", "briefwatch.textnorm")
_CHANGE_TYPES = tuple(t.value for t in ChangeType)

__all__ = ["ReparseOptions", "parse_context", "parse_since", "parser_fingerprint", "plan_page",
           "reparse"]


@dataclass(frozen=True, slots=True)
class ReparseOptions:
    """page: one page (key, URL or location); since: versions created at or after this
    ISO date/datetime (see :func:`parse_since`); dry_run: parse and report, write nothing;
    lock_wait: seconds to wait for a store another run holds."""

    page: str | None = None
    since: str | None = None
    dry_run: bool = False
    max_bytes: int = DEFAULT_MAX_BYTES
    lock_wait: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return {"page": self.page, "since": self.since, "dry_run": self.dry_run,
                "parser": parser_fingerprint()}


def parse_since(text: str) -> str:
    """``--since``: an ISO date (``2026-11-01``) or datetime (``2026-11-01T12:00``, with an
    offset or ``Z``; without one it is UTC), as the store's UTC timestamps compare."""
    value = text.strip()
    try:
        if len(value) == 10:
            return date.fromisoformat(value).isoformat()
        moment = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise BriefwatchError(f"--since {text!r}: expected an ISO date (2026-11-01) or "
                              f"datetime (2026-11-01T12:00:00Z)") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parser_fingerprint() -> str:
    """A short hash of the parsers' source (and the model's statement identity): two runs
    with the same fingerprint parse alike. Read from the importable modules (a checkout, an
    editable or a plain install alike), named by module, not by path."""
    digest = hashlib.sha256()
    for name, source in sorted(_parser_sources()):
        digest.update(name.encode())
        digest.update(b"\0")
        digest.update(source)
    return digest.hexdigest()[:16]


def _parser_sources() -> Iterable[tuple[str, bytes]]:
    package = importlib.import_module(_PARSER_PACKAGE)
    names = [_PARSER_PACKAGE, *_PARSER_MODULES]
    names += [info.name for info in pkgutil.walk_packages(package.__path__, _PARSER_PACKAGE + ".")]
    for name in names:
        spec = importlib.util.find_spec(name)
        if spec is None or spec.origin is None or not spec.origin.endswith(".py"):
            raise ImportError(f"parser fingerprint: no Python source for {name}")
        yield name, Path(spec.origin).read_bytes()


# ------------------------------------------------------------------- the run


@dataclass(slots=True)
class _Tally:
    counts: Counter[str] = field(default_factory=Counter)
    pages: list[Page] = field(default_factory=list)  # dry run: report entries

    def add(self, page: PageReparse, versions_seen: int) -> None:
        c = self.counts
        c["pages"] += 1
        c[page.status] += 1
        c["versions"] += versions_seen
        outcomes = Counter(v.outcome for v in page.versions)
        c["versions_reparsed"] += outcomes["reparsed"]
        c["raw_not_kept"] += outcomes["raw_not_kept"]
        c["versions_identical"] += versions_seen - sum(outcomes.values())
        for pair in page.pairs:
            c["changes_added"] += len(pair.added)
            c["changes_superseded"] += len(pair.superseded)
            c["changes_kept"] += len(pair.kept)

    def as_dict(self) -> dict[str, int]:
        return {key: self.counts.get(key, 0) for key in COUNT_KEYS}


def reparse(store: Store, options: ReparseOptions,
            progress: Callable[[int, int], None] | None = None) -> Report:
    """Re-parse the selected versions; returns the run's report (a dry run's is built in
    memory: ``run.id`` null). StoreBusyError when another run holds the store."""
    if options.dry_run:
        return _dry_run(store, options, progress)
    with store.writer_lock(wait=options.lock_wait):
        selection = store.reparse_selection(options.page, options.since)
        run_id = store.start_reparse(options.as_dict())
        tally = _Tally()
        try:
            for done, (page_id, key) in enumerate(selection, 1):
                page, seen = plan_page(store, page_id, key, options)
                store.apply_reparse(run_id, page)
                tally.add(page, seen)
                if progress is not None:
                    progress(done, len(selection))
        except BaseException:
            store.finish_reparse(run_id, status="failed", counts=tally.as_dict())
            raise
        store.finish_reparse(run_id, status="completed", counts=tally.as_dict())
    return store.run_report(run_id)


def _dry_run(store: Store, options: ReparseOptions,
             progress: Callable[[int, int], None] | None) -> Report:
    started = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    selection = store.reparse_selection(options.page, options.since)
    tally = _Tally()
    for done, (page_id, key) in enumerate(selection, 1):
        page, seen = plan_page(store, page_id, key, options)
        tally.add(page, seen)
        if page.worth_recording:
            tally.pages.append(_dry_entry(store, page))
        if progress is not None:
            progress(done, len(selection))
    finished = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    run: Run = {
        "id": None, "kind": REPARSE_KIND, "started_at": started, "finished_at": finished,
        "flow_run_id": None, "counts": tally.as_dict(), "status": "completed", "sources": [],
        "options": options.as_dict(),
    }
    return report_shape(run, tally.pages, dry_run=True)


def _dry_entry(store: Store, page: PageReparse) -> Page:
    """A dry run's report page: what the reparse would write (added changes have no id)."""
    timeline = store.page_timeline(page.key)["page"]
    row = {"key": page.key, "url": timeline["url"], "title": timeline["title"],
           "version": timeline["version"], "status": page.status, "error": page.error}
    if page.current is not None:
        row |= {"url": page.current.url, "title": page.current.title}
    added: list[ChangeDict] = []
    for pair in page.pairs:
        added.extend(change_to_dict(c) | {"from_version": pair.from_number,
                                          "to_version": pair.to_number} for c in pair.added)
    superseded = [_stored_change(store, change_id) for pair in page.pairs
                  for change_id in pair.superseded]
    return page_entry(row, [v.detail for v in page.versions], _pairs_detail(page.pairs),
                      added, superseded)


def _stored_change(store: Store, change_id: int) -> ChangeDict:
    change = store.change(change_id)
    change.pop("page", None)
    change.pop("reviews", None)
    return change


def _pairs_detail(pairs: Iterable[PairReparse]) -> list[ReparsePair]:
    return [{"from_version": p.from_number, "to_version": p.to_number, "added": len(p.added),
             "superseded": len(p.superseded), "kept": len(p.kept),
             "title_change": p.title_change, "metadata_changes": p.metadata_changes}
            for p in pairs]


# ------------------------------------------------------------------ one page


def plan_page(store: Store, page_id: int, key: str,
              options: ReparseOptions) -> tuple[PageReparse, int]:
    """What re-parsing one page's selected versions changes (nothing is written), and how
    many versions were looked at."""
    versions = store.reparse_versions(page_id)
    selected = [v for v in versions
                if options.since is None or v["created_at"] >= options.since]
    stored: dict[int, Document] = {}

    def stored_doc(version_id: int) -> Document:
        if version_id not in stored:
            stored[version_id] = store.load_document(version_id)
        return stored[version_id]

    outcomes: list[VersionReparse] = []
    new_docs: dict[int, Document] = {}
    for version in selected:
        try:
            raw = store.load_raw(version["id"])
        except StoreError as exc:
            outcomes.append(_outcome(version, "raw_not_kept", error=str(exc)))
            continue
        try:
            doc = replace(_parse(raw, version, options.max_bytes), key=key)
        except PARSE_FAILURES as exc:
            reason = f"version {version['number']} no longer parses: {_reason(exc)}"
            failed = _outcome(version, "failed", error=reason)
            return PageReparse(page_id, key, "failed", versions=(failed,), error=reason), \
                len(selected)
        old = stored_doc(version["id"])
        if old == doc and old.extra == doc.extra:
            continue
        new_docs[version["id"]] = doc
        outcomes.append(VersionReparse(version["id"], version["number"], "reparsed", doc,
                                       version_detail(version["number"], old, doc)))
    pairs = tuple(
        _recompute_pair(store, older, newer, new_docs, stored_doc)
        for older, newer in pairwise(versions)
        if older["id"] in new_docs or newer["id"] in new_docs
    )
    current = new_docs.get(versions[-1]["id"]) if versions else None
    status = "reparsed" if new_docs else "unchanged"
    return PageReparse(page_id, key, status, tuple(outcomes), pairs, current), len(selected)


def _parse(raw: bytes, version: dict[str, Any], max_bytes: int) -> Document:
    """Parse as the ingest did (see :func:`parse_context`)."""
    context = parse_context(version)
    return parse(raw, location=context.location, options=context.options(max_bytes))


def parse_context(version: dict[str, Any]) -> ParseContext:
    """What the ingest told the parser about a version's bytes: as stored with the version
    (a web page: final URL, Content-Type format and charset); otherwise (a file, or a version
    stored before the store kept it) its location, and for a web page the format it was
    parsed as (the ingest took it from the Content-Type) — a charset given only in the HTTP
    header is not known then."""
    if version.get("parse_context"):
        return ParseContext.from_dict(version["parse_context"])
    location: str = version["location"]
    web = location.startswith(("http://", "https://"))
    fmt: Format | None = version["format"] if web else None
    return ParseContext(location, format=fmt)


def _reason(exc: BaseException) -> str:
    if isinstance(exc, BriefwatchError):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"[:500]


def _outcome(version: dict[str, Any], outcome: str, *, error: str) -> VersionReparse:
    detail: ReparseVersion = {"version": version["number"], "outcome": outcome, "error": error}
    return VersionReparse(version["id"], version["number"], outcome, None, detail)


def version_detail(number: int, old: Document, new: Document) -> ReparseVersion:
    """What the new parse of a version sees differently from its stored parse."""
    diff = diff_documents(old, new)
    types = Counter(c.type.value for c in diff.changes)
    return {
        "version": number,
        "outcome": "reparsed",
        "statements": {t: types.get(t, 0) for t in _CHANGE_TYPES},
        "old_statement_count": len(old.statements),
        "new_statement_count": len(new.statements),
        "title_change": diff.title_change,
        "metadata_changes": diff.metadata_changes,
        "layout_only": not diff.changes and not diff.metadata_changes,
        "statement_changes": [change_to_dict(c) for c in diff.changes],
        "error": None,
    }


def _recompute_pair(
    store: Store, older: dict[str, Any], newer: dict[str, Any], new_docs: dict[int, Document],
    stored_doc: Callable[[int], Document],
) -> PairReparse:
    """The changes between two consecutive versions under the new parse, matched against
    the stored ones: same type, old and new statement = the same change (kept with its id
    and reviews); stored ones not produced any more are superseded, the rest are added."""
    old_doc = new_docs.get(older["id"]) or stored_doc(older["id"])
    new_doc = new_docs.get(newer["id"]) or stored_doc(newer["id"])
    diff = None
    if old_doc.content_hash() != new_doc.content_hash():  # as the ingest decides
        diff = diff_documents(old_doc, new_doc)
    pool: dict[tuple[str, str | None, str | None], list[int]] = defaultdict(list)
    for row in store.pair_changes(older["id"], newer["id"]):
        pool[(row["type"], row["old_statement_id"], row["new_statement_id"])].append(row["id"])
    kept: list[int] = []
    added: list[Change] = []
    for change in (diff.changes if diff is not None else ()):
        same = pool.get(_identity(change))
        if same:
            kept.append(same.pop(0))
        else:
            added.append(change)
    superseded = sorted(i for ids in pool.values() for i in ids)
    return PairReparse(
        older["id"], newer["id"], older["number"], newer["number"], tuple(superseded),
        tuple(kept), tuple(added),
        title_change=None if diff is None else diff.title_change,
        metadata_changes={} if diff is None else diff.metadata_changes,
    )


def _identity(change: Change) -> tuple[str, str | None, str | None]:
    return (change.type.value, None if change.old is None else change.old.sid,
            None if change.new is None else change.new.sid)
