"""Evaluation 1 — main-content extraction: briefwatch beside trafilatura.

A thin wrapper around :mod:`eval.extraction` (the benchmark's own metric: 4-token shingle
precision / recall / F1 averaged over pages, bootstrap standard deviations): both extractors
run on the same pages in the same run, and briefwatch's F1 is checked against trafilatura's.
``--quick`` takes a fixed-seed sample of :data:`QUICK_PAGES` pages.
"""

from __future__ import annotations

import time
from importlib import metadata

from eval import extraction
from eval.common import EvalOptions, Figure, SectionResult, corpus, sample

SECTION = "1"
TITLE = "Main-content extraction (article-extraction-benchmark)"
QUICK_PAGES = 40
BOOTSTRAP_ROUNDS = 200
WORST = 5


def run(options: EvalOptions) -> SectionResult:
    start = time.perf_counter()
    pages = extraction.load_corpus(corpus(options, "article-extraction-benchmark"))
    total = len(pages)
    if options.quick:
        pages = sample(pages, QUICK_PAGES, options.seed)
    rounds = 0 if options.quick else BOOTSTRAP_ROUNDS
    ours = extraction.run("briefwatch", _version("briefwatch"),
                          extraction.briefwatch_extract, pages, rounds)
    theirs = extraction.run("trafilatura", _version("trafilatura"),
                            extraction.trafilatura_extract, pages, rounds)
    support = f"{len(pages)} of {total} pages"
    section = SectionResult(SECTION, TITLE)
    section.figures = [
        Figure(SECTION, "F1 briefwatch", ours.f1, theirs.f1, unit="score",
               reference=f"trafilatura {theirs.version} F1, same pages, same run",
               support=support),
        Figure(SECTION, "precision briefwatch", ours.precision, None, unit="score",
               reference=f"trafilatura {theirs.precision:.3f}"),
        Figure(SECTION, "recall briefwatch", ours.recall, None, unit="score",
               reference=f"trafilatura {theirs.recall:.3f}"),
        Figure(SECTION, "F1 trafilatura (reference)", theirs.f1, None, unit="score"),
        Figure(SECTION, "pages briefwatch failed on", float(ours.failures), 0.0,
               comparison="<=", unit="count", support=support),
    ]
    section.details = {
        "systems": [
            {"name": r.name, "version": r.version, "f1": r.f1, "f1_std": r.f1_std,
             "precision": r.precision, "precision_std": r.precision_std, "recall": r.recall,
             "recall_std": r.recall_std, "accuracy": r.accuracy, "failures": r.failures,
             "pages_per_second": round(r.pages_per_second, 1)}
            for r in (ours, theirs)
        ],
        "bootstrap_rounds": rounds,
        "worst_briefwatch_pages": [
            {"page": s.page, "precision": s.precision, "recall": s.recall}
            for s in sorted(ours.per_page, key=_f1)[:WORST]
        ],
    }
    section.seconds = time.perf_counter() - start
    return section


def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "?"


def _f1(score: extraction.PageScore) -> float:
    p, r = score.precision or 0.0, score.recall or 0.0
    return 2 * p * r / (p + r) if p + r else 0.0
