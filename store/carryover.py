"""Carry-over: a run's report also delivers what earlier runs stored but never reported.

A run killed after it stored pages (or after it finished but before its report was
delivered) leaves changes nobody has seen: the next run finds those pages ``unchanged``.
So the report of run R merges in the ``new`` / ``changed`` / ``gone`` page outcomes of the
earlier runs of R's kind that were not reported before R
(``briefwatch.store.queries.report.carried_runs``).
Pure functions over report page dicts (the JSON contract, plus the private ``_page_id`` and
``_run_id`` keys that ``briefwatch.store.queries.report`` strips before returning a report).

Merging one page's outcomes, oldest first (the carried ones, then R's own unless it failed):

- ``status``: ``gone`` if the last of them is gone (``unchanged`` if R then found the page
  back, identical); else ``new`` if the first is new (the reader never saw the page); else
  ``changed``.
- ``previous_version`` from the oldest outcome (the version the reader last saw),
  ``version``, ``title``, ``location``, ``skipped_parse`` from the newest;
  ``title_change`` spans them all; ``metadata_changes`` merged (newer wins); ``note``: the
  newest one set.
- ``changes``: every outcome's changes, oldest run first (each names its ``run_id`` and
  ``from_version`` / ``to_version``); nothing is dropped or repeated.
- ``carried_from_runs``: the earlier runs whose outcomes were merged in ([] otherwise).

A page R reports as failed or blocked keeps that entry; its carried outcomes form a second
entry for the same page.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from briefwatch.contract import CarriedOver, Page, TitleChange


class PageDict(Page, total=False):
    """A report page as the store assembles it: with the private keys (the page's and the
    run's ids) that ``queries.report`` strips before it returns the report."""

    _page_id: int | None
    _run_id: int


CARRIED_STATUSES = ("new", "changed", "gone")
_PROBLEMS = ("failed", "blocked")


def merge_carried(
    run_id: int, own: Sequence[PageDict], earlier: Sequence[PageDict],
    significance: Callable[[Page], str | None],
) -> list[PageDict]:
    """Run ``run_id``'s page entries ``own`` with the carried outcomes ``earlier`` (any
    order) merged in."""
    history: dict[int, list[PageDict]] = defaultdict(list)
    for entry in sorted(earlier, key=lambda e: e["_run_id"]):
        earlier_id = entry["_page_id"]
        if entry["status"] in CARRIED_STATUSES and earlier_id is not None:
            history[earlier_id].append(entry)
    merged: list[PageDict] = []
    for entry in own:
        page_id = entry["_page_id"]
        if page_id is None or entry["status"] in _PROBLEMS or page_id not in history:
            merged.append(_carried_none(entry))
            continue
        merged.append(combine(run_id, [*history.pop(page_id), entry], significance))
    merged.extend(combine(run_id, entries, significance) for entries in history.values())
    return merged


def _carried_none(entry: PageDict) -> PageDict:
    page = entry.copy()
    page["carried_from_runs"] = []
    return page


def combine(run_id: int, entries: Sequence[PageDict],
            significance: Callable[[Page], str | None]) -> PageDict:
    """One page's outcomes (oldest first; the last may be R's own) as one report entry."""
    newest = entries[-1]
    relevant = [e for e in entries if e["status"] in CARRIED_STATUSES]
    if not relevant:
        return _carried_none(newest)
    page = newest.copy()
    page["status"] = _status(relevant, newest)
    page["previous_version"] = relevant[0]["previous_version"]
    page["title_change"] = _title_change(relevant)
    page["metadata_changes"] = _metadata_changes(relevant)
    page["changes"] = [change for e in relevant for change in e["changes"]]
    page["note"] = next((e["note"] for e in reversed(entries) if e.get("note")), None)
    page["carried_from_runs"] = sorted({e["_run_id"] for e in relevant} - {run_id})
    page["significance"] = significance(page)
    return page


def _status(relevant: Sequence[PageDict], newest: PageDict) -> str:
    if relevant[-1]["status"] == "gone":
        return "unchanged" if newest["status"] == "unchanged" else "gone"
    return "new" if relevant[0]["status"] == "new" else "changed"


def _title_change(relevant: Sequence[PageDict]) -> TitleChange | None:
    changes = [e["title_change"] for e in relevant if e.get("title_change")]
    first, last = (changes[0], changes[-1]) if changes else (None, None)
    if first is None or last is None:
        return None
    return {**last, "old": first.get("old"), "new": last.get("new")}


def _metadata_changes(relevant: Sequence[PageDict]) -> dict[str, Any]:
    merged: dict[str, Any] = {}
    for entry in relevant:
        merged.update(entry.get("metadata_changes") or {})
    return merged


def page_counts(pages: Sequence[Page], outcomes: Sequence[str]) -> dict[str, int]:
    """Pages per status (every outcome present, 0 if none)."""
    counted = Counter(p["status"] for p in pages)
    return {outcome: counted.get(outcome, 0) for outcome in outcomes}


def carried_summary(pages: Sequence[Page], runs: Sequence[Mapping[str, Any]]) -> CarriedOver:
    """The report's ``run.carried_over``: the earlier unreported runs (``runs``: id, status),
    and how many pages and changes came from them."""
    contributing = {r for p in pages for r in p.get("carried_from_runs") or ()}
    return {
        "runs": [r["id"] for r in runs],
        "interrupted": [r["id"] for r in runs if r["status"] == "interrupted"],
        "contributing_runs": sorted(contributing),
        "pages": sum(1 for p in pages if p.get("carried_from_runs")),
        "changes": sum(1 for p in pages for c in p.get("changes") or ()
                       if c.get("run_id") in contributing),
    }
