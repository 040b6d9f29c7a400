"""Pure helpers shared by the report renderers: filter a report by significance and review
state, order pages and changes for people, turn a diff into report-shaped dicts.

Orders (for people; the JSON report keeps the store's order, see
``briefwatch.store.queries.report``):

- pages: failed first (they need an operator), then pages with unreviewed changes, then by
  significance (high first), then failed / changed / new / gone, then by key;
- changes within a page: unreviewed, flagged, reviewed, dismissed; then significance (high
  first); then the diff's order (reading order of the new version).
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from dataclasses import dataclass

from briefwatch.contract import Change as ChangeDict
from briefwatch.contract import FilterOptions, Report
from briefwatch.contract import Page as PageDict
from briefwatch.diff.significance import Level, assess_change, page_level, parse_level
from briefwatch.model import Change, PageDiff

__all__ = ["ChangeDict", "PageDict", "Report"]  # the contract's types, by their old names

STATUS_ORDER = ("failed", "blocked", "changed", "new", "gone", "unchanged")
REVIEW_ORDER = ("unreviewed", "flagged", "reviewed", "dismissed")
SAFE_URL_SCHEMES = ("http://", "https://", "file://")


@dataclass(frozen=True, slots=True)
class ReportFilter:
    """What a report shows: changes at or above ``min_significance``; with ``unreviewed``,
    only changes nobody has reviewed yet."""

    min_significance: Level | None = None
    unreviewed: bool = False

    @property
    def active(self) -> bool:
        return self.min_significance is not None or self.unreviewed

    def keeps(self, change: ChangeDict) -> bool:
        if change.get("superseded_by_run") is not None:  # no longer produced (reparse)
            return False
        if self.unreviewed and (change.get("review_status") or "unreviewed") != "unreviewed":
            return False
        if self.min_significance is not None:
            return level_of(change) >= self.min_significance
        return True

    def as_dict(self) -> FilterOptions:
        return {
            "min_significance": None if self.min_significance is None
            else self.min_significance.label,
            "unreviewed": self.unreviewed,
        }


def level_of(change: ChangeDict) -> Level:
    """A change dict's level (computed by the store; assumed low when a dict lacks it)."""
    label = change.get("significance")
    return parse_level(label) if label else Level.LOW


def page_level_of(page: PageDict) -> Level | None:
    label = page.get("significance")
    return parse_level(label) if label else None


def filter_changes(changes: Iterable[ChangeDict], flt: ReportFilter) -> list[ChangeDict]:
    return [c for c in changes if flt.keeps(c)]


def filter_report(report: Report, flt: ReportFilter) -> Report:
    """A copy of ``report`` with only the changes ``flt`` keeps; pages left with nothing to
    show are dropped (failed, gone and unchanged pages always stay). The copy carries a
    ``filter`` entry: the filter and how many changes and pages it hid."""
    if not flt.active:
        return report
    result = copy.deepcopy(report)
    kept_pages = []
    hidden_changes = hidden_pages = 0
    for page in result["pages"]:
        before = page.get("changes") or []
        after = filter_changes(before, flt)
        hidden_changes += len(before) - len(after)
        page["changes"] = after
        if page["status"] in ("changed", "new") and not after and not _title_kept(page, flt):
            hidden_pages += 1
            continue
        kept_pages.append(page)
    result["pages"] = kept_pages
    result["filter"] = {**flt.as_dict(), "hidden_changes": hidden_changes,
                        "hidden_pages": hidden_pages}
    return result


def _title_kept(page: PageDict, flt: ReportFilter) -> bool:
    """A title change is no reviewable change: it keeps a page unless only unreviewed
    changes are asked for, or the threshold is above medium."""
    if not page.get("title_change") or flt.unreviewed:
        return False
    return flt.min_significance is None or flt.min_significance <= Level.MEDIUM


def _review_rank(change: ChangeDict) -> int:
    status = change.get("review_status") or "unreviewed"
    return REVIEW_ORDER.index(status) if status in REVIEW_ORDER else 0


def order_changes(changes: Iterable[ChangeDict]) -> list[ChangeDict]:
    indexed = list(enumerate(changes))
    indexed.sort(key=lambda ic: (_review_rank(ic[1]), -level_of(ic[1]), ic[0]))
    return [change for _, change in indexed]


def by_significance(changes: Iterable[ChangeDict]) -> list[ChangeDict]:
    """Most significant first, diff order among equals (review state ignored)."""
    return sorted(changes, key=lambda c: -level_of(c))


def has_unreviewed(page: PageDict) -> bool:
    """Whether a page still needs a look: an unreviewed change, or it is gone (a page that
    went away has no change to review)."""
    if page["status"] == "gone":
        return True
    return any((c.get("review_status") or "unreviewed") == "unreviewed"
               for c in page.get("changes") or ())


def order_pages(pages: Iterable[PageDict]) -> list[PageDict]:
    status_rank = {s: i for i, s in enumerate(STATUS_ORDER)}

    def key(page: PageDict) -> tuple[int, int, int, int, str]:
        level = page_level_of(page)
        return (
            0 if page["status"] in ("failed", "blocked") else 1,
            0 if has_unreviewed(page) else 1,
            -(level or 0),
            status_rank.get(page["status"], 9),
            str(page.get("key") or ""),
        )

    return sorted(pages, key=key)


def significance_counts(pages: Iterable[PageDict]) -> dict[str, int]:
    counts = {level.label: 0 for level in sorted(Level, reverse=True)}
    for page in pages:
        if page["status"] != "changed":
            continue  # a new page's statements are not changes
        for change in page.get("changes") or ():
            counts[level_of(change).label] += 1
    return counts


def review_counts(pages: Iterable[PageDict]) -> dict[str, int]:
    counts = dict.fromkeys(REVIEW_ORDER, 0)
    for page in pages:
        if page["status"] != "changed":
            continue
        for change in page.get("changes") or ():
            status = change.get("review_status") or "unreviewed"
            counts[status] = counts.get(status, 0) + 1
    return counts


def safe_url(url: str | None) -> str | None:
    """``url`` if it may be a link target (http, https, file), else None (``javascript:``,
    ``data:``, relative and malformed URLs are never linked)."""
    if not url:
        return None
    candidate = url.strip()
    if any(ch.isspace() or ord(ch) < 32 for ch in candidate):
        return None
    lowered = candidate.lower()
    return candidate if lowered.startswith(SAFE_URL_SCHEMES) else None


# ---------------------------------------------------------------- diff -> dicts


def change_to_dict(change: Change) -> ChangeDict:
    """A diff's change in the report's change shape (no id: it is not a stored change)."""
    assessment = assess_change(change)
    side = change.new if change.new is not None else change.old
    return {
        "id": None,
        "type": change.type.value,
        "kind": side.kind.value if side is not None else None,
        "speaker": change.speaker,
        "old_speaker": change.old_speaker,
        "old": change.old.text if change.old is not None else None,
        "new": change.new.text if change.new is not None else None,
        "numbers": [{"old": n.old, "new": n.new} for n in change.numbers],
        "words": [list(w) for w in change.words],
        "similarity": change.similarity,
        "position": change.position,
        "old_position": change.old.position if change.old is not None else None,
        "significance": assessment.level.label,
        "significance_reason": assessment.reason,
        "review_status": None,
        "review_note": None,
    }


def diff_page(
    diff: PageDiff, *, key: str, url: str | None, title: str | None, from_version: int,
    to_version: int,
) -> PageDict:
    """A report page entry for the diff of any two versions of a page."""
    changes = [change_to_dict(c) for c in diff.changes]
    level = page_level("changed", (parse_level(c["significance"]) for c in changes),
                       title_changed=diff.title_change is not None)
    return {
        "key": key,
        "url": url,
        "title": title,
        "status": "changed" if diff.changed else "unchanged",
        "version": to_version,
        "previous_version": from_version,
        "title_change": diff.title_change,
        "metadata_changes": diff.metadata_changes,
        "changes": changes,
        "error": None,
        "significance": None if level is None else level.label,
    }
