"""Bench corpora: the real HTML pages, and a scaled corpus of distinct copies of them.

- **real**: the 58 whitehouse.gov 2020 transcripts (``whitehouse-2020-html``, 25 of them
  captured twice: same canonical URL, so the second capture is a second version of the
  same page) and the latest version of each of the 401 GOV.UK pages (``govuk-versions``),
  copied unchanged: 459 pages.
- **scaled**: ``n`` pages cycling through the real ones (in a fixed shuffled order, so a
  partial cycle has the corpus's mix too); copy ``k`` of a page is made a distinct page
  with distinct content by two byte-level changes, so that nothing is shared between
  copies that would not be shared between different real pages:

  1. its canonical URL (whitehouse.gov pages; GOV.UK fragments declare none and are
     identified by their file) gets ``copy-k/`` appended wherever it occurs, so the copy
     is its own page and the two captures of one briefing stay versions of one page;
  2. inside every ``<p>…</p>``, a lower-case word of four or more letters that ends a
     sentence gets `` ck`` after it (``… the region c7.``), so nearly every sentence's text
     — and therefore its content-addressed statement — differs between copies.

Within one copy the real corpus's own key structure stays: 25 whitehouse.gov canonical URLs
are declared by two files each (the same briefing captured twice, or two briefings the site
gave one URL), so those files are versions of one page.

``edit_one_sentence`` then changes the marker of one sentence of a page (the middle one:
``c7.`` -> ``c7x1.``, which ends in a digit like the marker, so sentence splitting is not
affected), which is what the store-growth-per-edit figure measures.
"""

from __future__ import annotations

import json
import random
import re
import shutil
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "corpora"
WH_DIR = SHARED / "whitehouse-2020-html"
GOVUK_DIR = SHARED / "govuk-versions"

_CANONICAL = re.compile(rb"""<link[^>]*?href="([^"]+)"[^>]*rel="canonical"|"""
                        rb"""<link[^>]*?rel="canonical"[^>]*href="([^"]+)\"""")
_P_BLOCK = re.compile(rb"<p[\s>].*?</p>", re.S)
_SENTENCE_END = re.compile(rb"\b([a-z]{4,})([.?!])(?=[\s<&\"')\xc2\xe2])")


@dataclass(frozen=True, slots=True)
class SourcePage:
    """One real page the corpora are built from."""

    path: Path
    name: str  # relative file name inside a corpus directory
    canonical: str | None  # the canonical URL the page declares, if any


@dataclass(frozen=True, slots=True)
class CorpusPage:
    path: Path
    source: SourcePage
    copy: int  # -1: the real page, unchanged


@dataclass(frozen=True, slots=True)
class Corpus:
    name: str
    root: Path
    pages: tuple[CorpusPage, ...]

    @property
    def bytes(self) -> int:
        return sum(p.path.stat().st_size for p in self.pages)

    @property
    def keys(self) -> int:
        """Distinct page keys: a declared canonical URL (per copy), else the file."""
        return len({(p.source.canonical, p.copy) if p.source.canonical else p.path
                    for p in self.pages})


def real_sources() -> list[SourcePage]:
    """The 58 whitehouse.gov pages and the latest version of each of the 401 GOV.UK pages."""
    sources: list[SourcePage] = []
    for path in sorted(WH_DIR.glob("*/*.html")):
        sources.append(SourcePage(path, f"wh/{path.parent.name}/{path.name}",
                                  _canonical(path.read_bytes())))
    index = json.loads((GOVUK_DIR / "versions_index.json").read_text(encoding="utf-8"))
    for entry in sorted(index, key=lambda e: e["dir"]):
        latest = entry["versions"][-1]["file"]
        path = GOVUK_DIR / entry["dir"] / latest
        # two index entries can share a folder: the file name keeps them apart
        name = f"govuk/{entry['dir'].replace('/', '__')}__{latest}"
        sources.append(SourcePage(path, name, None))
    return sources


def sample(sources: list[SourcePage], n: int) -> list[SourcePage]:
    """``n`` sources spread evenly over the list (all of them when ``n`` is not smaller)."""
    if n >= len(sources):
        return list(sources)
    step = len(sources) / n
    return [sources[int(i * step)] for i in range(n)]


def build_real(sources: list[SourcePage], root: Path) -> Corpus:
    pages = []
    for source in sources:
        target = root / source.name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source.path, target)
        pages.append(CorpusPage(target, source, -1))
    return Corpus("real", root, tuple(pages))


def build_scaled(sources: list[SourcePage], root: Path, n: int) -> Corpus:
    """``n`` distinct pages: copy ``k = i // len(sources)`` of source ``i % len(sources)``."""
    cache = {s.path: s.path.read_bytes() for s in sources}
    order = list(sources)
    random.Random(0).shuffle(order)
    pages = []
    for i in range(n):
        source, copy = order[i % len(order)], i // len(order)
        target = root / f"c{copy:03d}" / source.name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(variant(cache[source.path], source, copy))
        pages.append(CorpusPage(target, source, copy))
    return Corpus("scaled", root, tuple(pages))


def variant(data: bytes, source: SourcePage, copy: int) -> bytes:
    """Copy ``copy`` of a page: its own canonical URL, a marker in nearly every sentence."""
    if source.canonical:
        url = source.canonical.encode()
        data = data.replace(url, url.rstrip(b"/") + f"/copy-{copy}/".encode())
    marker = f" c{copy}".encode()

    def mark(block: re.Match[bytes]) -> bytes:
        return _SENTENCE_END.sub(rb"\1" + marker + rb"\2", block.group(0))

    return _P_BLOCK.sub(mark, data)


def edit_candidates(corpus: Corpus, n: int) -> list[CorpusPage]:
    """``n`` pages spread over the corpus whose key no other page shares (an edit of one
    capture of a twice-captured briefing would also bring back the other capture's text)."""
    shared = Counter(p.source.canonical for p in corpus.pages if p.source.canonical)
    eligible = [p for p in corpus.pages
                if p.copy >= 0 and (p.source.canonical is None or shared[p.source.canonical] == 1)]
    return sample_pages(eligible, n)


def sample_pages(pages: list[CorpusPage], n: int) -> list[CorpusPage]:
    if n >= len(pages):
        return list(pages)
    step = len(pages) / n
    return [pages[int(i * step)] for i in range(n)]


def edit_one_sentence(page: CorpusPage) -> bool:
    """Change the marker of the middle marked sentence of a scaled page; False if it has none."""
    data = page.path.read_bytes()
    marker = re.compile(rb" c%d(?=[.?!])" % page.copy)
    hits = list(marker.finditer(data))
    if not hits:
        return False
    hit = hits[len(hits) // 2]
    page.path.write_bytes(data[:hit.end()] + b"x1" + data[hit.end():])
    return True


def _canonical(data: bytes) -> str | None:
    match = _CANONICAL.search(data)
    if match is None:
        return None
    url = (match.group(1) or match.group(2)).decode("utf-8", "replace")
    return url or None
