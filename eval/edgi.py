"""Evaluation 6 — significance labels: the six labelled EDGI pairs (``edgi-pairs``).

Each pair is ingested as ``a`` then ``b`` through the real ingest path
(:class:`eval.ingest.VersionIngester`), and the report's changes are scored with
:func:`eval.significance.significance`. The labels (``pairs_labels.json``) say which three
changes .gov analysts care about (dataset removed, image removed, rewrite) and which three
they ignore (footer, view counter, small edits). Figure: pairwise ranking accuracy — over the
nine (care, ignore) pairs, 1 when the care pair scores higher, 0.5 on a tie, 0 otherwise —
and the ordering itself.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eval.common import EvalOptions, Figure, SectionResult, corpus, parallel_map, scratch_dir
from eval.ingest import VersionIngester
from eval.significance import raw_score, significance

SECTION = "6"
TITLE = "Significance labels (edgi-pairs)"


@dataclass(frozen=True, slots=True)
class Scored:
    pair: str
    care: bool
    kind: str
    status: str
    changes: int
    raw: float
    score: float
    types: dict[str, int]
    examples: list[dict[str, Any]]


def score_pair(item: tuple[dict[str, Any], str]) -> Scored:
    label, root = item
    folder = Path(root)
    with scratch_dir("bw-eval-edgi-") as tmp, VersionIngester(tmp, "page.html") as ingester:
        ingester.ingest((folder / label["a"]).read_bytes())
        outcome = ingester.ingest((folder / label["b"]).read_bytes())
    types: dict[str, int] = {}
    for change in outcome.changes:
        types[str(change.get("type"))] = types.get(str(change.get("type")), 0) + 1
    return Scored(
        pair=label["pair"],
        care=str(label["label"]).startswith("true_positive"),
        kind=label.get("kind", ""),
        status=outcome.status,
        changes=len(outcome.changes),
        raw=raw_score(outcome.changes, outcome.title_change),
        score=significance(outcome.changes, outcome.title_change),
        types=types,
        examples=[{k: c.get(k) for k in ("type", "old", "new")} for c in outcome.changes[:3]],
    )


def pairwise_accuracy(scored: list[Scored]) -> float:
    care = [s.score for s in scored if s.care]
    ignore = [s.score for s in scored if not s.care]
    pairs = [(c, i) for c in care for i in ignore]
    if not pairs:
        return 1.0
    return sum(1.0 if c > i else 0.5 if c == i else 0.0 for c, i in pairs) / len(pairs)


def run(options: EvalOptions) -> SectionResult:
    start = time.perf_counter()
    root = corpus(options, "edgi-pairs")
    labels = json.loads((root / "pairs_labels.json").read_text(encoding="utf-8"))
    items = [(label, str(root)) for label in labels if (root / label["b"]).exists()]
    scored = parallel_map(score_pair, items, options.workers, chunksize=1)
    ordering = sorted(scored, key=lambda s: -s.score)
    section = SectionResult(SECTION, TITLE)
    section.figures = [
        Figure(SECTION, "pairwise ranking accuracy (care above ignore)",
               pairwise_accuracy(scored), 1.0,
               support=f"{sum(s.care for s in scored)} care x "
                       f"{sum(not s.care for s in scored)} ignore pairs"),
    ]
    section.details = {
        "ordering": [
            {"pair": s.pair, "care": s.care, "score": round(s.score, 4), "raw": s.raw,
             "status": s.status, "changes": s.changes, "types": s.types, "examples": s.examples}
            for s in ordering
        ],
        "missing_pairs": [label["pair"] for label in labels
                          if not (root / label["b"]).exists()],
    }
    section.seconds = time.perf_counter() - start
    return section
