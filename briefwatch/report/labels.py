"""The words every people-facing format shares: counts, carried-over notes, speaker labels,
figures, tags and the compact word diff. Each takes the escaping function of its format
(:mod:`briefwatch.report.escape`) for any page content it shows."""

from __future__ import annotations

from collections.abc import Callable

from briefwatch.contract import Change, Page, Report, Run
from briefwatch.report.views import order_changes, review_counts, significance_counts

__all__ = ["CHANGE_MARK", "CONTEXT_WORDS", "MAX_NEW_PAGE_STATEMENTS", "Escape", "carried_line",
           "carried_note", "change_tags", "counts_line", "numbers_line", "shown_changes",
           "speaker_label", "summary_lines", "word_diff_line"]

Escape = Callable[[str | None], str]
CHANGE_MARK = {"added": "+", "removed": "-", "changed": "~", "moved": ">", "reattributed": "@"}
MAX_NEW_PAGE_STATEMENTS = 12  # a new page's statements are all "added"; show the first few
CONTEXT_WORDS = 6  # words of unchanged context kept around each edit in a word diff


def counts_line(run: Run) -> str:
    counts = run.get("counts") or {}
    line = ", ".join(f"{counts.get(k, 0)} {k}" for k in ("new", "changed", "unchanged", "gone",
                                                        "failed"))
    # blocked (web pages answered by a bot-block page) only when there are any
    return line + (f", {counts['blocked']} blocked" if counts.get("blocked") else "")


def carried_note(page: Page) -> str:
    """"carried over from run 5 (…)" for a page whose outcomes come from earlier runs whose
    reports were never delivered (see ``briefwatch.store.carryover``); "" otherwise."""
    runs = page.get("carried_from_runs") or []
    if not runs:
        return ""
    names = ", ".join(str(r) for r in runs)
    return (f"carried over from run{'s' if len(runs) > 1 else ''} {names} "
            "(stopped before its report was delivered)")


def carried_line(run: Run) -> str:
    """The run summary's line about carried-over pages; "" when there are none."""
    carried = run.get("carried_over")
    if not carried or not carried.get("pages"):
        return ""
    runs = ", ".join(str(r) for r in carried.get("contributing_runs") or [])
    return (f"includes {carried['pages']} page(s), {carried.get('changes', 0)} change(s) "
            f"carried over from undelivered run(s) {runs}")


def speaker_label(change: Change, esc: Escape) -> str:
    speaker, old = change.get("speaker"), change.get("old_speaker")
    if change["type"] == "reattributed" or (change["type"] == "changed" and
                                            (old or "") != (speaker or "")):
        return f"{esc(old or 'narration')} → {esc(speaker or 'narration')}"
    return esc(speaker) if speaker else ""


def numbers_line(change: Change, esc: Escape) -> str:
    nums = change.get("numbers") or []
    return ", ".join(f"{esc(n.get('old') or '∅')} → {esc(n.get('new') or '∅')}" for n in nums)


def summary_lines(report: Report) -> list[str]:
    """Significance and review counts of the report's changes, and its filter, if any."""
    pages = report["pages"]
    sig = significance_counts(pages)
    lines = []
    if any(sig.values()):
        review = review_counts(pages)
        lines.append("changes: " + ", ".join(f"{n} {k}" for k, n in sig.items()) + "; "
                     + ", ".join(f"{n} {k}" for k, n in review.items() if n))
    flt = report.get("filter")
    if flt:
        shown = []
        if flt.get("min_significance"):
            shown.append(f"significance {flt['min_significance']} or higher")
        if flt.get("unreviewed"):
            shown.append("unreviewed only")
        lines.append(f"showing {', '.join(shown)}: {flt['hidden_changes']} change(s) and "
                     f"{flt['hidden_pages']} page(s) hidden")
    return lines


def change_tags(change: Change) -> str:
    """``high: figure changed … · change 12 unreviewed`` (plain text, not escaped)."""
    parts = []
    if change.get("significance"):
        parts.append(f"{change['significance']}: {change.get('significance_reason') or ''}"
                     .rstrip(": "))
    if change.get("id") is not None:
        parts.append(f"change {change['id']} {change.get('review_status') or 'unreviewed'}")
    if change.get("superseded_by_run") is not None:
        parts.append(f"superseded by reparse run {change['superseded_by_run']}")
    return " · ".join(parts)


def shown_changes(page: Page) -> tuple[list[Change], int]:
    """The changes a page shows people, in review order, and how many more are not shown (a
    new page's statements: the first :data:`MAX_NEW_PAGE_STATEMENTS`, in page order)."""
    changes = page.get("changes") or []
    if page["status"] != "new":
        return order_changes(changes), 0
    shown = changes[:MAX_NEW_PAGE_STATEMENTS]
    return shown, len(changes) - len(shown)


def _context(text: str, *, head: bool, tail: bool) -> str:
    """Shorten an unchanged run to the words next to the edits around it."""
    words = text.split()
    if len(words) <= 2 * CONTEXT_WORDS:
        return text
    if head and tail:
        return " ".join([*words[:CONTEXT_WORDS], "…", *words[-CONTEXT_WORDS:]])
    if head:
        return " ".join(["…", *words[-CONTEXT_WORDS:]])
    return " ".join([*words[:CONTEXT_WORDS], "…"])


def word_diff_line(words: list[list[str]] | None, mark: Callable[[str, str], str],
                   esc: Escape) -> str:
    """A compact word diff: edits marked with ``mark(op, text)``, unchanged runs shortened."""
    if not words:
        return ""
    parts: list[str] = []
    for i, (op, text) in enumerate(words):
        if op == "equal":
            parts.append(esc(_context(text, head=i > 0, tail=i < len(words) - 1)))
        else:
            parts.append(mark(op, esc(text)))
    return " ".join(p for p in parts if p)
