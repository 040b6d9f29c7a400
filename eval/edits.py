"""Evaluation 4 — real post-publication edits: the wh-briefings version chains.

Every page of ``versions/`` (754 pages, 1,689 versions, ``versions_index.json``) is ingested
version after version through the real ingest path (:class:`eval.ingest.VersionIngester`, one
store and one file location per page). Each step vN -> vN+1 is scored against ground truth
that never goes through ``parsers/``:

(a) **Page level** — the page *really changed* when its reader-visible text changed beyond
whitespace and typography: the front matter ``title`` or the body rendered to text by
:func:`eval.mdtext.page_text` (Markdown and inline HTML reduced to text, breadcrumbs dropped,
typography folded with ``match_key``), compared as word sequences (``diff -b``). The page is
*flagged* when the ingest reports it ``changed`` (or ``new`` right after a version that failed
to parse: the report then lists every statement as added). Precision and recall of the flag.

(b) **Hunk coverage** — the published ``diff_vN_vN+1.diff`` is cut into hunks (its line
numbers are checked against the version files); a hunk *changes text* when the visible text
of its removed lines and of its added lines differ as word sequences. It is *covered* when a
flagged statement lies on its changed lines: the statement's old text is located in vN's
visible text (whitespace and Markdown punctuation ignored) and its span meets a removed line,
or its new text in vN+1 meets an added line. A statement that cannot be located (the parser
changed its text) overlaps when it shares a run of :data:`NGRAM` words with the hunk's lines;
one without words ("###") when its characters occur there. A re-attribution overlaps the hunk
that changes that label (d). A heading change of the report's ``metadata_changes`` also
covers a hunk (headings are not statements; reported as "by a heading change").

(c) **False flags** — flagged statements (every change of the report: added, removed,
changed, moved, reattributed) that overlap no text-changing hunk of their step, as a share of
all flagged statements.

(d) **Re-attributed turns** — a *label change* in a published diff is a removed line and an
added line of one hunk that start speaker turns (:func:`eval.turnmatch.turn_label`) with
different labels and the same first five words after the label. It is *found* when the step
reports a statement re-attributed from that label to the new one (type ``reattributed``, or
``changed`` with a different ``old_speaker``).
"""

from __future__ import annotations

import difflib
import json
import re
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from briefwatch.textnorm import match_key
from eval.common import (
    EvalOptions,
    Figure,
    SectionResult,
    corpus,
    norm_label,
    parallel_map,
    sample,
    scratch_dir,
    share,
    words,
)
from eval.ingest import IngestOutcome, VersionIngester
from eval.mdtext import (
    Hunk,
    PageText,
    parse_unified_diff,
    source_lines,
    split_front_matter,
    text_changed,
    visible_text,
)
from eval.turnmatch import turn_label

SECTION = "4"
TITLE = "Real edits found (wh-briefings version chains)"
QUICK_CHAINS = 150
NGRAM = 3
LABEL_WORDS = 5
_VERSION = re.compile(r"^v(\d+)_")


@dataclass(frozen=True, slots=True)
class Chain:
    name: str  # category/slug
    dir: str
    files: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class LabelChange:
    old: str
    new: str
    text: str


@dataclass(slots=True)
class StepResult:
    chain: str
    step: str  # "v1->v2"
    truth: bool  # visible text changed
    flagged: bool
    status: str
    hunks: int = 0  # text-changing hunks
    covered: int = 0
    flags: int = 0  # flagged statements
    false_flags: int = 0
    hunk_says_changed: bool = False  # any text-changing hunk (consistency with ``truth``)
    label_changes: list[tuple[LabelChange, bool]] = field(default_factory=list)  # (.., found)
    reattributions: int = 0  # flagged statements whose speaker changed
    reattributions_matched: int = 0  # ... that match a label change of the diff
    uncovered: list[str] = field(default_factory=list)
    false_flag_examples: list[dict[str, Any]] = field(default_factory=list)
    changes: list[dict[str, Any]] = field(default_factory=list)  # kept for wrong page flags
    truth_diff: str = ""
    diff_line_mismatches: int = 0
    covered_by_headings: int = 0  # hunks covered only by a heading change
    unlocated: int = 0  # flagged statements whose text is nowhere in the version's text
    error: str | None = None


def chains(root: Path) -> list[Chain]:
    index = json.loads((root / "versions_index.json").read_text(encoding="utf-8"))
    return [
        Chain(page["dir"].removeprefix("versions/"), page["dir"],
              tuple(v["file"] for v in page["versions"]))
        for page in index
    ]


def _ngrams(tokens: list[str]) -> set[tuple[str, ...]]:
    return {tuple(tokens[i : i + NGRAM]) for i in range(len(tokens) - NGRAM + 1)}


def _contains(hay: list[str], needle: list[str]) -> bool:
    n = len(needle)
    return n > 0 and any(hay[i : i + n] == needle for i in range(len(hay) - n + 1))


_MARKUP_PUNCTUATION = str.maketrans("", "", "-\\*_|#>[]")


def _squeeze(text: str | None) -> str:
    """Text as it is located: whitespace and Markdown punctuation (list dashes, stars,
    backslashes, brackets, pipes, hashes) removed, so a statement that kept a nested list's
    ``-`` or an escape's backslash is still found in the rendered text."""
    return "".join(match_key(text or "").split()).translate(_MARKUP_PUNCTUATION)


Span = tuple[int, int]


@dataclass(frozen=True, slots=True)
class VersionText:
    """One version as the ground truth sees it, line by line as its published diffs number
    it, with the visible text of all lines squeezed (whitespace removed) into ``flat`` so a
    statement can be located in it and compared with the lines of a hunk."""

    page: PageText
    lines: list[str]
    flat: str
    starts: list[int]  # offset in ``flat`` of each line; one more entry for the end

    @classmethod
    def of(cls, markdown: str) -> VersionText:
        front, _body = split_front_matter(markdown)
        lines = source_lines(diff_source(markdown))
        starts = [0]
        pieces = []
        for line in lines:
            piece = _squeeze(line)
            pieces.append(piece)
            starts.append(starts[-1] + len(piece))
        title = front.get("title")
        page = PageText(title=match_key(str(title)) if title else "",
                        body=match_key(" ".join(line for line in lines if line)))
        return cls(page, lines, "".join(pieces), starts)

    def spans(self, text: str | None, limit: int = 64) -> list[Span]:
        """Where the statement's text occurs (whitespace ignored); [] when nowhere."""
        needle = _squeeze(text)
        found: list[Span] = []
        at = self.flat.find(needle) if needle else -1
        while at >= 0 and len(found) < limit:
            found.append((at, at + len(needle)))
            at = self.flat.find(needle, at + 1)
        return found

    def line_spans(self, numbers: list[int]) -> list[Span]:
        return [(self.starts[n - 1], self.starts[n]) for n in numbers
                if 0 < n < len(self.starts) and self.starts[n - 1] < self.starts[n]]


def _intersects(spans: list[Span], lines: list[Span]) -> bool:
    return any(s < b and a < e for s, e in spans for a, b in lines)


@dataclass(frozen=True, slots=True)
class _Side:
    """One side (removed or added lines) of a text-changing hunk."""

    lines: list[Span]
    tokens: list[str]
    grams: set[tuple[str, ...]]
    bare: str  # the side's text without whitespace

    @classmethod
    def of(cls, lines: list[Span], text: str) -> _Side:
        tokens = words(text)
        return cls(lines, tokens, _ngrams(tokens), "".join(text.split()))

    def overlaps(self, text: str | None, spans: list[Span]) -> bool:
        """The statement lies (partly) on these lines; located by ``spans`` in the version,
        or — when it cannot be found there — by sharing a run of NGRAM words."""
        if not text:
            return False
        if spans:
            return _intersects(spans, self.lines)
        stmt = words(text)
        if not stmt:  # "###", "***": no words, no place; compared as characters
            bare = "".join(match_key(text).split())
            return bool(bare) and bare in self.bare
        if not stmt or not self.tokens:
            return False
        if len(stmt) < NGRAM:
            return _contains(self.tokens, stmt)
        if len(self.tokens) < NGRAM:
            return _contains(stmt, self.tokens)
        return any(g in self.grams for g in _ngrams(stmt))


@dataclass(frozen=True, slots=True)
class _Flag:
    """A flagged statement with where its old and new text lie in the two versions."""

    change: dict[str, Any]
    old_spans: list[Span]
    new_spans: list[Span]

    @property
    def located(self) -> bool:
        return bool((self.old_spans or not self.change.get("old"))
                    and (self.new_spans or not self.change.get("new")))


@dataclass(frozen=True, slots=True)
class _TextHunk:
    hunk: Hunk
    removed: _Side
    added: _Side
    labels: tuple[LabelChange, ...]

    def overlaps(self, flag: _Flag) -> bool:
        change = flag.change
        if self.removed.overlaps(change.get("old"), flag.old_spans) or self.added.overlaps(
            change.get("new"), flag.new_spans
        ):
            return True
        return _is_reattribution(change) and any(
            lc.old == norm_label(change.get("old_speaker")) and lc.new == norm_label(
                change.get("speaker")) for lc in self.labels
        )


_HEADING_PATH = re.compile(r"^root\['headings'\]\[\d+\]$")


def heading_changes(metadata_changes: dict[str, Any]) -> list[dict[str, Any]]:
    """Headings added / removed / changed, from the report's deepdiff ``metadata_changes``."""
    found: list[dict[str, Any]] = []
    for kind, items in metadata_changes.items():
        if not isinstance(items, dict):
            continue
        for path, value in items.items():
            if not _HEADING_PATH.match(str(path)):
                continue
            if kind == "iterable_item_added":
                found.append({"type": "heading", "old": None, "new": str(value)})
            elif kind == "iterable_item_removed":
                found.append({"type": "heading", "old": str(value), "new": None})
            elif kind == "values_changed" and isinstance(value, dict):
                found.append({"type": "heading", "old": value.get("old_value"),
                              "new": value.get("new_value")})
    return found


def _is_reattribution(change: dict[str, Any]) -> bool:
    if change.get("type") == "reattributed":
        return True
    old, new = norm_label(change.get("old_speaker")), norm_label(change.get("speaker"))
    return change.get("type") == "changed" and bool(old) and bool(new) and old != new


def label_changes(hunk: Hunk) -> list[LabelChange]:
    """Lines of one hunk whose turn label changed while the words after it stayed."""

    def turns(lines: list[str]) -> list[tuple[str, list[str]]]:
        out = []
        for line in lines:
            found = turn_label(visible_text(line))
            if found is not None:
                out.append((norm_label(found[0]), words(found[1])[:LABEL_WORDS]))
        return out

    added = turns(hunk.added)
    used: set[int] = set()
    found: list[LabelChange] = []
    for label, head in turns(hunk.removed):
        for k, (new_label, new_head) in enumerate(added):
            if k not in used and new_label != label and head and head == new_head:
                used.add(k)
                found.append(LabelChange(label, new_label, " ".join(head)))
                break
    return found


def _truth_diff(old: str, new: str, limit: int = 6) -> str:
    a, b = old.split(), new.split()
    parts = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if op != "equal":
            parts.append(f"{' '.join(a[i1:i2])[:120]!r} -> {' '.join(b[j1:j2])[:120]!r}")
    return "; ".join(parts[:limit])


def diff_source(markdown: str) -> str:
    """The text a published diff numbers its lines in: everything after the front matter's
    closing ``---`` (so line 1 is the empty rest of that line)."""
    return "\n" + split_front_matter(markdown)[1]


def score_step(chain: str, step: str, old_md: str, new_md: str, diff: str,
               outcome: IngestOutcome) -> StepResult:
    old, new = VersionText.of(old_md), VersionText.of(new_md)
    truth = text_changed(old.page, new.page)
    # a page first stored now because its previous version failed is reported as new, every
    # statement listed as added: the reviewer sees it, so it counts as flagged
    flagged = outcome.flagged or outcome.status == "new"
    result = StepResult(chain, step, truth, flagged, outcome.status, error=outcome.error)
    hunks = []
    old_source, new_source = diff_source(old_md), diff_source(new_md)
    for hunk in parse_unified_diff(diff):
        result.diff_line_mismatches += hunk.mismatches(old_source, new_source)
        hunk.render(old.lines, new.lines)
        if hunk.changes_text():
            hunks.append(_TextHunk(
                hunk,
                _Side.of(old.line_spans(hunk.removed_at), hunk.removed_text),
                _Side.of(new.line_spans(hunk.added_at), hunk.added_text),
                tuple(label_changes(hunk)),
            ))
    changes = outcome.changes if flagged else []
    flags = [_Flag(c, old.spans(c.get("old")), new.spans(c.get("new"))) for c in changes]
    result.unlocated = sum(not f.located for f in flags)
    # heading changes are flagged in the report's metadata, not as statements: they cover
    # hunks but are not counted among the flagged statements
    headings = [_Flag(c, old.spans(c.get("old")), new.spans(c.get("new")))
                for c in (heading_changes(outcome.metadata_changes) if flagged else [])]
    result.hunks = len(hunks)
    result.hunk_says_changed = bool(hunks)
    for h in hunks:
        if any(h.overlaps(f) for f in flags):
            result.covered += 1
        elif any(h.overlaps(f) for f in headings):
            result.covered += 1
            result.covered_by_headings += 1
        else:
            result.uncovered.append(
                f"-{h.hunk.removed_text[:160]!r} +{h.hunk.added_text[:160]!r}"
            )
    result.flags = len(flags)
    for flag in flags:
        if not any(h.overlaps(flag) for h in hunks):
            result.false_flags += 1
            result.false_flag_examples.append(
                {k: flag.change.get(k) for k in ("type", "speaker", "old_speaker", "old", "new")}
            )
    reattributed = [c for c in changes if _is_reattribution(c)]
    result.reattributions = len(reattributed)
    pairs = {(norm_label(c.get("old_speaker")), norm_label(c.get("speaker")))
             for c in reattributed}
    result.label_changes = [(lc, (lc.old, lc.new) in pairs) for h in hunks for lc in h.labels]
    label_pairs = {(lc.old, lc.new) for h in hunks for lc in h.labels}
    result.reattributions_matched = sum(
        (norm_label(c.get("old_speaker")), norm_label(c.get("speaker"))) in label_pairs
        for c in reattributed
    )
    if truth != flagged:
        result.truth_diff = _truth_diff(f"{old.page.title} | {old.page.body}",
                                        f"{new.page.title} | {new.page.body}")
        result.changes = [
            {k: c.get(k) for k in ("type", "speaker", "old", "new")} for c in changes[:6]
        ]
        if outcome.title_change:
            result.changes.append({"title_change": outcome.title_change})
        if outcome.metadata_changes:
            result.changes.append({"metadata_changes": outcome.metadata_changes})
    return result


def evaluate_chain(item: tuple[Chain, str]) -> list[StepResult]:
    chain, root = item
    folder = Path(root) / chain.dir
    texts = [(folder / f).read_text(encoding="utf-8") for f in chain.files]
    outcomes: list[IngestOutcome] = []
    with scratch_dir("bw-eval-chain-") as tmp, VersionIngester(tmp, "page.md") as ingester:
        for text in texts:
            after_failure = bool(outcomes) and outcomes[-1].status == "failed"
            outcomes.append(ingester.ingest(text.encode("utf-8"), report_new=after_failure))
    results = []
    for k in range(1, len(texts)):
        old_n, new_n = (_number(chain.files[k - 1]), _number(chain.files[k]))
        diff_path = folder / f"diff_v{old_n}_v{new_n}.diff"
        diff = diff_path.read_text(encoding="utf-8") if diff_path.exists() else ""
        results.append(score_step(chain.name, f"v{old_n}->v{new_n}", texts[k - 1], texts[k],
                                  diff, outcomes[k]))
    return results


def _number(filename: str) -> int:
    match = _VERSION.match(filename)
    if match is None:
        raise ValueError(f"not a version file name: {filename}")
    return int(match.group(1))


def has_label_change(root: Path, chain: Chain) -> bool:
    """Does a published diff of the chain re-label a speaker turn? (cheap: raw lines)"""
    folder = root / chain.dir
    return any(
        label_changes(hunk)
        for diff in sorted(folder.glob("diff_v*_v*.diff"))
        for hunk in parse_unified_diff(diff.read_text(encoding="utf-8"))
    )


def quick_chains(root: Path, all_chains: list[Chain], seed: int) -> list[Chain]:
    """The CI subset: a fixed-seed sample, plus every chain with a label change (so (d) is
    measured in the subset too), in index order."""
    chosen = {c.name for c in sample(all_chains, QUICK_CHAINS, seed)}
    chosen |= {c.name for c in all_chains if has_label_change(root, c)}
    return [c for c in all_chains if c.name in chosen]


def run(options: EvalOptions) -> SectionResult:
    start = time.perf_counter()
    root = corpus(options, "wh-briefings")
    all_chains = chains(root)
    selected = quick_chains(root, all_chains, options.seed) if options.quick else all_chains
    nested = parallel_map(evaluate_chain, [(c, str(root)) for c in selected], options.workers,
                          chunksize=4)
    steps = [s for chain_steps in nested for s in chain_steps]
    section = SectionResult(SECTION, TITLE)
    section.figures = _figures(steps, len(selected), len(all_chains))
    section.details = _details(steps, options.examples)
    section.seconds = time.perf_counter() - start
    return section


def _figures(steps: list[StepResult], chains_run: int, chains_total: int) -> list[Figure]:
    tp = sum(s.truth and s.flagged for s in steps)
    fp = sum(s.flagged and not s.truth for s in steps)
    fn = sum(s.truth and not s.flagged for s in steps)
    hunks = sum(s.hunks for s in steps)
    covered = sum(s.covered for s in steps)
    by_headings = sum(s.covered_by_headings for s in steps)
    flags = sum(s.flags for s in steps)
    false_flags = sum(s.false_flags for s in steps)
    labels = sum(len(s.label_changes) for s in steps)
    found = sum(ok for s in steps for _lc, ok in s.label_changes)
    reattributions = sum(s.reattributions for s in steps)
    matched = sum(s.reattributions_matched for s in steps)
    support = f"{chains_run} of {chains_total} pages, {len(steps):,} steps"
    return [
        Figure(SECTION, "(a) page-level recall", share(tp, tp + fn), 1.0,
               support=f"{support}, {tp + fn:,} really changed"),
        Figure(SECTION, "(a) page-level precision", share(tp, tp + fp), 1.0,
               support=f"{tp + fp:,} flagged"),
        Figure(SECTION, "(b) text-changing hunks covered by a flagged statement",
               share(covered, hunks), 0.98,
               support=f"{hunks:,} hunks, {by_headings} of them by a heading change"),
        Figure(SECTION, "(c) false flags (share of flagged statements)",
               false_flags / flags if flags else 0.0, 0.02, comparison="<=",
               support=f"{flags:,} flagged statements"),
        Figure(SECTION, "(d) label changes in the diffs found as re-attributions",
               share(found, labels), None, support=f"{labels} label changes"),
        Figure(SECTION, "(d) re-attributed statements reported", float(reattributions), None,
               unit="count", support=f"{matched} match a label change of the diffs"),
    ]


def _details(steps: list[StepResult], count: int) -> dict[str, Any]:
    def step_id(s: StepResult) -> str:
        return f"{s.chain} {s.step}"

    missed = [s for s in steps if s.truth and not s.flagged]
    wrong = [s for s in steps if s.flagged and not s.truth]
    statuses = Counter(s.status for s in steps)
    return {
        "steps": len(steps),
        "statuses": dict(statuses),
        "really_changed": sum(s.truth for s in steps),
        "truth_vs_diff_disagreements": [
            step_id(s) for s in steps if s.hunk_says_changed and not s.truth
        ][:count],
        "changed_without_text_hunk_(title_only)": sum(s.truth and not s.hunk_says_changed
                                               for s in steps),
        "diff_lines_not_matching_the_versions": sum(s.diff_line_mismatches for s in steps),
        "flagged_statements_not_located_in_the_text": sum(s.unlocated for s in steps),
        "missed_pages": [
            {"step": step_id(s), "status": s.status, "error": s.error, "truth": s.truth_diff}
            for s in missed
        ],
        "wrongly_flagged_pages": [
            {"step": step_id(s), "truth": s.truth_diff or "(no visible text change)",
             "changes": s.changes}
            for s in wrong
        ],
        "uncovered_hunks": [
            {"step": step_id(s), "hunk": h} for s in steps for h in s.uncovered
        ][: 3 * count],
        "uncovered_hunk_count_by_step": dict(
            Counter({step_id(s): len(s.uncovered) for s in steps if s.uncovered}).most_common(
                count)
        ),
        "false_flags_by_type": dict(
            Counter(str(e.get("type")) for s in steps for e in s.false_flag_examples)
        ),
        "false_flags_by_step": dict(
            Counter({step_id(s): s.false_flags for s in steps if s.false_flags}).most_common(
                count)
        ),
        "false_flag_examples": [
            dict(e, step=step_id(s)) for s in steps for e in s.false_flag_examples
        ][: 3 * count],
        "label_changes": [
            {"step": step_id(s), "old": lc.old, "new": lc.new, "text": lc.text, "found": ok}
            for s in steps for lc, ok in s.label_changes
        ],
    }
