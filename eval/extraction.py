"""Main-content extraction quality: briefwatch's HTML extractor beside trafilatura.

Runs both extractors on the pages of the article-extraction-benchmark (181 gzipped news
pages with hand-checked article bodies, ``ground-truth.json``) in the same run and scores
them the way that benchmark does:

- text is tokenised into runs of word characters (``\\w+``, Unicode);
- each text becomes a multiset of 4-token shingles (a text shorter than 4 tokens is one
  shingle);
- per page, true/false positives and false negatives are counted over the shingles and
  normalised to sum to 1 (so long pages do not weigh more);
- precision and recall are averaged over the pages (pages with nothing predicted / nothing
  expected are left out of that average, and a page where both are empty counts 1);
  F1 is the harmonic mean of the two averages;
- accuracy is the share of pages whose predicted tokens equal the true tokens exactly;
- ``±`` values are standard deviations from bootstrap resampling of the pages.

Usage (from the project root; trafilatura comes with the ``eval`` extra)::

    .venv/bin/python eval/extraction.py [--json out.json] [--no-trafilatura] [--worst 10]

Prints a table and optionally writes everything (including per-page scores) as JSON.

``--speed`` also times ``extract_html`` on the whitehouse-2020-html pages (the site-profile
path, ~160 KB pages) beside a bare lxml parse of the same pages, in CPU time, and reports
pages/s and the ratio (the ratio is what carries over between machines).
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import re
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from briefwatch.errors import ParseError  # noqa: E402
from briefwatch.parsers.html import extract_html  # noqa: E402

DEFAULT_CORPUS = ROOT.parent / "shared" / "corpora" / "article-extraction-benchmark"
DEFAULT_SPEED_CORPUS = ROOT.parent / "shared" / "corpora" / "whitehouse-2020-html"
_TOKEN = re.compile(r"\w+", re.UNICODE)
SHINGLE = 4

Extractor = Callable[[str, str | None], str]


@dataclass(frozen=True, slots=True)
class PageScore:
    page: str
    tp: float
    fp: float
    fn: float
    exact: bool
    precision: float | None  # None: left out of the average (nothing predicted)
    recall: float | None  # None: left out of the average (nothing expected)


@dataclass(slots=True)
class SystemResult:
    name: str
    version: str
    f1: float = 0.0
    precision: float = 0.0
    recall: float = 0.0
    accuracy: float = 0.0
    f1_std: float = 0.0
    precision_std: float = 0.0
    recall_std: float = 0.0
    pages: int = 0
    failures: int = 0
    seconds: float = 0.0
    pages_per_second: float = 0.0
    per_page: list[PageScore] = field(default_factory=list)


def tokens(text: str) -> list[str]:
    return _TOKEN.findall(text or "")


def shingles(text: str, n: int = SHINGLE) -> Counter[tuple[str, ...]]:
    toks = tokens(text)
    if not toks:
        return Counter()
    if len(toks) < n:
        return Counter([tuple(toks)])
    return Counter(tuple(toks[i : i + n]) for i in range(len(toks) - n + 1))


def score_page(page: str, true: str, pred: str) -> PageScore:
    t, p = shingles(true), shingles(pred)
    tp = float(sum((t & p).values()))
    fp = float(sum((p - t).values()))
    fn = float(sum((t - p).values()))
    total = tp + fp + fn
    if total:
        tp, fp, fn = tp / total, fp / total, fn / total
    exact = tokens(true) == tokens(pred)
    if fp == 0 and fn == 0:
        precision: float | None = 1.0
        recall: float | None = 1.0
    else:
        precision = tp / (tp + fp) if tp + fp > 0 else None
        recall = tp / (tp + fn) if tp + fn > 0 else None
    return PageScore(page, tp, fp, fn, exact, precision, recall)


def summarise(scores: list[PageScore]) -> tuple[float, float, float, float]:
    precisions = [s.precision for s in scores if s.precision is not None]
    recalls = [s.recall for s in scores if s.recall is not None]
    precision = statistics.mean(precisions) if precisions else 0.0
    recall = statistics.mean(recalls) if recalls else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    accuracy = statistics.mean(1.0 if s.exact else 0.0 for s in scores) if scores else 0.0
    return f1, precision, recall, accuracy


def bootstrap(scores: list[PageScore], rounds: int, seed: int = 0) -> tuple[float, float, float]:
    rng = random.Random(seed)
    f1s, ps, rs = [], [], []
    n = len(scores)
    for _ in range(rounds):
        sample = [scores[rng.randrange(n)] for _ in range(n)]
        f1, p, r, _acc = summarise(sample)
        f1s.append(f1)
        ps.append(p)
        rs.append(r)
    if rounds < 2:
        return 0.0, 0.0, 0.0
    return statistics.stdev(f1s), statistics.stdev(ps), statistics.stdev(rs)


def load_corpus(corpus: Path) -> list[tuple[str, str, str | None, str]]:
    """(page id, html, url, true article body) for every page of the benchmark."""
    truth = json.loads((corpus / "ground-truth.json").read_text(encoding="utf-8"))
    pages = []
    for page_id in sorted(truth):
        path = corpus / "html" / f"{page_id}.html.gz"
        with gzip.open(path, "rt", encoding="utf-8") as fh:
            html = fh.read()
        item = truth[page_id]
        pages.append((page_id, html, item.get("url"), item.get("articleBody", "")))
    return pages


def briefwatch_extract(html: str, url: str | None) -> str:
    extracted = extract_html(html, base_url=url)
    return "\n\n".join(block.text for block in extracted.blocks)


def trafilatura_extract(html: str, url: str | None) -> str:
    import trafilatura

    return trafilatura.extract(html, include_comments=False) or ""


def run(
    name: str,
    version: str,
    extract: Extractor,
    pages: list[tuple[str, str, str | None, str]],
    rounds: int,
) -> SystemResult:
    result = SystemResult(name=name, version=version, pages=len(pages))
    outputs: list[tuple[str, str, str]] = []
    start = time.perf_counter()
    for page_id, html, url, true in pages:
        try:
            pred = extract(html, url)
        except ParseError:
            pred = ""
            result.failures += 1
        outputs.append((page_id, true, pred))
    result.seconds = time.perf_counter() - start
    result.pages_per_second = len(pages) / result.seconds if result.seconds else 0.0
    result.per_page = [score_page(pid, true, pred) for pid, true, pred in outputs]
    result.f1, result.precision, result.recall, result.accuracy = summarise(result.per_page)
    result.f1_std, result.precision_std, result.recall_std = bootstrap(result.per_page, rounds)
    return result


def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "?"


def print_table(results: list[SystemResult]) -> None:
    header = f"{'system':<12} {'version':<8} {'F1':<14} {'precision':<14} {'recall':<14} "
    header += f"{'accuracy':<9} {'pages/s':>8} {'failures':>8}"
    print(header)
    for r in results:
        print(
            f"{r.name:<12} {r.version:<8} {r.f1:.3f} ± {r.f1_std:.3f}  "
            f"{r.precision:.3f} ± {r.precision_std:.3f}  {r.recall:.3f} ± {r.recall_std:.3f}  "
            f"{r.accuracy:<9.3f} {r.pages_per_second:>8.1f} {r.failures:>8}"
        )


def print_worst(result: SystemResult, count: int) -> None:
    def f1_of(s: PageScore) -> float:
        p, r = s.precision or 0.0, s.recall or 0.0
        return 2 * p * r / (p + r) if p + r else 0.0

    print(f"\nworst {count} pages for {result.name}:")
    for s in sorted(result.per_page, key=f1_of)[:count]:
        print(f"  {s.page[:16]}  F1={f1_of(s):.3f}  P={s.precision}  R={s.recall}")


def speed(corpus: Path, rounds: int = 3) -> dict[str, float]:
    """CPU-time pages/s of extract_html and of a bare lxml parse on the pages of ``corpus``."""
    from lxml import etree

    pages = [p.read_text("utf-8") for p in sorted(corpus.glob("**/*.html"))]
    if not pages:
        raise SystemExit(f"no .html pages under {corpus}")
    parser = etree.HTMLParser(encoding="utf-8")
    start = time.process_time()
    for _ in range(rounds):
        for html in pages:
            etree.fromstring(html.encode("utf-8"), parser=parser)
    parse_s = time.process_time() - start
    start = time.process_time()
    for _ in range(rounds):
        for html in pages:
            extract_html(html)
    extract_s = time.process_time() - start
    n = len(pages) * rounds
    return {
        "pages": len(pages),
        "avg_kb": sum(len(p.encode("utf-8")) for p in pages) / len(pages) / 1024,
        "lxml_parse_pages_per_s": n / parse_s,
        "extract_html_pages_per_s": n / extract_s,
        "ratio_to_parse": parse_s / extract_s,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--json", type=Path, help="write results (with per-page scores) here")
    parser.add_argument("--no-trafilatura", action="store_true")
    parser.add_argument("--bootstrap", type=int, default=1000, help="bootstrap rounds")
    parser.add_argument("--worst", type=int, default=0, help="list the N worst pages")
    parser.add_argument("--limit", type=int, default=0, help="only the first N pages")
    parser.add_argument("--speed", action="store_true", help="also time the profile path")
    parser.add_argument("--speed-corpus", type=Path, default=DEFAULT_SPEED_CORPUS)
    args = parser.parse_args(argv)

    pages = load_corpus(args.corpus)
    if args.limit:
        pages = pages[: args.limit]
    results = [run("briefwatch", _version("briefwatch"), briefwatch_extract, pages, args.bootstrap)]
    if not args.no_trafilatura:
        results.append(
            run("trafilatura", _version("trafilatura"), trafilatura_extract, pages, args.bootstrap)
        )
    print(f"{len(pages)} pages from {args.corpus}")
    print_table(results)
    if args.worst:
        for r in results:
            print_worst(r, args.worst)
    timing = speed(args.speed_corpus) if args.speed else None
    if timing is not None:
        print(
            f"\nprofile path on {timing['pages']:.0f} pages of {args.speed_corpus.name} "
            f"(avg {timing['avg_kb']:.0f} KB), CPU time: extract_html "
            f"{timing['extract_html_pages_per_s']:.0f} pages/s, lxml parse alone "
            f"{timing['lxml_parse_pages_per_s']:.0f} pages/s "
            f"(extract_html runs at {timing['ratio_to_parse']:.3f} x parse speed)"
        )
    if args.json:
        payload = {
            "corpus": str(args.corpus),
            "pages": len(pages),
            "metric": "4-token shingle P/R/F1 as in article-extraction-benchmark evaluate.py",
            "systems": [asdict(r) for r in results],
            "speed": timing,
        }
        args.json.write_text(json.dumps(payload, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
