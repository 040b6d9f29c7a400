"""Feed successive versions of one page through the product's real ingest path.

Each version's bytes are written to the *same* file (so the page keeps its location and, when
it declares no canonical URL, its key), then read, parsed, diffed and stored exactly as the
ingest flow does: :func:`briefwatch.pipeline.steps.read_and_parse` and
:func:`briefwatch.pipeline.steps.store_results` into a temporary :class:`briefwatch.store.Store`.
The page's
entry of the run report (the JSON contract) is what an evaluation sees.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from briefwatch.pipeline.sources import SourceItem
from briefwatch.pipeline.steps import IngestOptions, read_and_parse, store_results
from briefwatch.store import Store


@dataclass(frozen=True, slots=True)
class IngestOutcome:
    """One version's outcome: status and, for a changed page, the report's changes."""

    status: str  # new | changed | unchanged | failed
    changes: list[dict[str, Any]] = field(default_factory=list)
    title_change: dict[str, Any] | None = None
    metadata_changes: dict[str, Any] = field(default_factory=dict)
    error: str | None = None

    @property
    def flagged(self) -> bool:
        return self.status == "changed"


class VersionIngester:
    """One page in its own store; :meth:`ingest` one version after the other."""

    def __init__(self, workdir: Path, filename: str) -> None:
        workdir.mkdir(parents=True, exist_ok=True)
        self.path = workdir / filename
        self.store = Store(workdir / "briefwatch.db")
        uri = self.path.as_uri()
        self.item = SourceItem(location=uri, path=str(self.path), source_root=uri)
        self.options = IngestOptions(max_workers=1)

    def close(self) -> None:
        self.store.close()

    def __enter__(self) -> VersionIngester:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def ingest(self, data: bytes, *, report_new: bool = False) -> IngestOutcome:
        """Ingest one version; the report's changes come with a ``changed`` page (and with a
        ``new`` one when ``report_new``: every statement listed as added)."""
        self.path.write_bytes(data)
        store = self.store
        run_id = store.start_run([self.item.location])
        known = store.location_hashes([self.item.location])
        results = read_and_parse([self.item], known, self.options)
        status = str(store_results(store, run_id, results)[0])
        store.finish_run(run_id)
        if status not in ("changed", "failed") and not (report_new and status == "new"):
            return IngestOutcome(status=status)
        page = _only_page(store.run_report(run_id))
        return IngestOutcome(
            status=status,
            changes=list(page.get("changes") or []),
            title_change=page.get("title_change"),
            metadata_changes=dict(page.get("metadata_changes") or {}),
            error=page.get("error"),
        )


def _only_page(report: dict[str, Any]) -> dict[str, Any]:
    pages = report.get("pages") or []
    if len(pages) != 1:
        raise RuntimeError(f"expected one page in the run report, got {len(pages)}")
    page: dict[str, Any] = pages[0]
    return page
