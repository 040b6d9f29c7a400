"""Evaluation 3 — no false alarms: pages whose visible text did not change stay ``unchanged``.

Labelled negatives, each pair ingested as v1 then v2 through the real ingest path
(:class:`eval.ingest.VersionIngester`: the same file location overwritten, a fresh store per
pair):

- the 23 whitehouse-2020-html pairs labelled ``boilerplate_only_change`` in
  ``pairs_labels.json`` (asset hashes, tracking ids; the statements are identical);
- the GOV.UK pairs that ``versions_index.json`` marks ``visible_text_changed: false``
  (markup-only changes), consecutive versions of one page.

Reported beside them, not in the goal: the GOV.UK pairs whose visible text did change (their
share flagged ``changed``; the visible text includes page furniture such as the change
history, so 100% is not expected) and the two whitehouse pairs that are different documents
under one file name (they must not come out ``unchanged``).
"""

from __future__ import annotations

import itertools
import json
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from eval.common import (
    EvalOptions,
    Figure,
    SectionResult,
    corpus,
    parallel_map,
    sample,
    scratch_dir,
    share,
)
from eval.ingest import VersionIngester

SECTION = "3"
TITLE = "No false alarms (whitehouse-2020-html, govuk-versions)"
QUICK_GOVUK_PAIRS = 100
QUICK_GOVUK_CHANGED = 40


@dataclass(frozen=True, slots=True)
class Pair:
    group: str  # wh-boilerplate | wh-different | govuk-markup | govuk-text
    name: str
    old: str  # paths
    new: str
    filename: str


@dataclass(slots=True)
class PairOutcome:
    pair: Pair
    first: str = ""
    status: str = ""
    changes: list[dict[str, Any]] = field(default_factory=list)
    title_change: dict[str, Any] | None = None
    metadata_changes: dict[str, Any] = field(default_factory=dict)
    error: str | None = None


def wh_pairs(root: Path) -> list[Pair]:
    labels = json.loads((root / "pairs_labels.json").read_text(encoding="utf-8"))
    pairs = []
    for entry in labels:
        group = {"boilerplate_only_change": "wh-boilerplate",
                 "different_document_same_filename": "wh-different"}.get(entry["label"])
        if group is not None:
            pairs.append(Pair(group, entry["file"], str(root / entry["v1"]),
                              str(root / entry["v2"]), entry["file"]))
    return pairs


def govuk_pairs(root: Path) -> list[Pair]:
    index = json.loads((root / "versions_index.json").read_text(encoding="utf-8"))
    pairs = []
    for page in index:
        versions = page["versions"]
        for old, new in itertools.pairwise(versions):
            changed = new.get("vs_previous", {}).get("visible_text_changed")
            if changed is None:
                continue
            group = "govuk-text" if changed else "govuk-markup"
            pairs.append(Pair(group, f"{page['dir']}/{new['file']}",
                              str(root / page["dir"] / old["file"]),
                              str(root / page["dir"] / new["file"]), "page.html"))
    return pairs


def evaluate_pair(pair: Pair) -> PairOutcome:
    outcome = PairOutcome(pair)
    with scratch_dir("bw-eval-pair-") as tmp, VersionIngester(tmp, pair.filename) as ingester:
        first = ingester.ingest(Path(pair.old).read_bytes())
        second = ingester.ingest(Path(pair.new).read_bytes())
    outcome.first, outcome.status = first.status, second.status
    outcome.changes = [_brief(c) for c in second.changes]
    outcome.title_change = second.title_change
    outcome.metadata_changes = second.metadata_changes
    outcome.error = first.error or second.error
    return outcome


def _brief(change: dict[str, Any]) -> dict[str, Any]:
    return {key: change.get(key) for key in ("type", "speaker", "old_speaker", "old", "new")}


def run(options: EvalOptions) -> SectionResult:
    start = time.perf_counter()
    wh = wh_pairs(corpus(options, "whitehouse-2020-html"))
    gov = govuk_pairs(corpus(options, "govuk-versions"))
    markup = [p for p in gov if p.group == "govuk-markup"]
    text = [p for p in gov if p.group == "govuk-text"]
    if options.quick:
        markup = sample(markup, QUICK_GOVUK_PAIRS, options.seed)
        text = sample(text, QUICK_GOVUK_CHANGED, options.seed)
    outcomes = parallel_map(evaluate_pair, wh + markup + text, options.workers, chunksize=4)
    groups: dict[str, list[PairOutcome]] = {}
    for outcome in outcomes:
        groups.setdefault(outcome.pair.group, []).append(outcome)

    def count(group: str, *statuses: str) -> tuple[int, int]:
        items = groups.get(group, [])
        return sum(o.status in statuses for o in items), len(items)

    wh_ok, wh_n = count("wh-boilerplate", "unchanged")
    gov_ok, gov_n = count("govuk-markup", "unchanged")
    text_ok, text_n = count("govuk-text", "changed")
    diff_ok, diff_n = count("wh-different", "new", "changed")
    section = SectionResult(SECTION, TITLE)
    section.figures = [
        Figure(SECTION, "whitehouse boilerplate-only pairs reported unchanged",
               share(wh_ok, wh_n), 1.0, support=f"{wh_n} pairs"),
        Figure(SECTION, "GOV.UK markup-only pairs reported unchanged", share(gov_ok, gov_n),
               0.99, support=f"{gov_n} pairs"),
        Figure(SECTION, "GOV.UK visible-text-changed pairs reported changed (not in the goal)",
               share(text_ok, text_n), None, support=f"{text_n} pairs"),
        Figure(SECTION, "whitehouse different-document pairs not reported unchanged",
               share(diff_ok, diff_n), None, support=f"{diff_n} pairs"),
    ]
    section.details = _details(groups, options.examples)
    section.seconds = time.perf_counter() - start
    return section


def _exception(outcome: PairOutcome, count: int) -> dict[str, Any]:
    return {
        "pair": outcome.pair.name,
        "status": outcome.status,
        "first_status": outcome.first,
        "error": outcome.error,
        "title_change": outcome.title_change,
        "metadata_changes": outcome.metadata_changes,
        "changes": outcome.changes[:count],
        "change_count": len(outcome.changes),
    }


def _details(groups: dict[str, list[PairOutcome]], count: int) -> dict[str, Any]:
    expected = {"wh-boilerplate": ("unchanged",), "govuk-markup": ("unchanged",),
                "govuk-text": ("changed",), "wh-different": ("new", "changed")}
    details: dict[str, Any] = {}
    for group, items in groups.items():
        statuses = Counter(o.status for o in items)
        wrong = [o for o in items if o.status not in expected[group]]
        details[group] = {
            "pairs": len(items),
            "statuses": dict(statuses),
            "exceptions": [_exception(o, count) for o in wrong][: 4 * count],
        }
    return details
