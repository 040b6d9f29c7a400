"""The evolving pages of the crash script (:mod:`reliability.crash`) and the ground truth of
every edit made to them.

Local pages are real White House briefing pages (``../shared/corpora/wh-briefings``,
Markdown with front matter) in a directory; web pages are synthetic articles served by real
HTTP servers on 127.0.0.1 (``tests/support/webserver.py``) with latency, answering conditional
requests (ETag) with 304. Every page ends with a "figure" sentence; an edit changes its
number, so each edit is exactly one ``changed`` statement in the next version of the page.
Pages are also added (local) and removed (local files deleted, web pages answering 404).

:class:`Truth` records what a reader must be told, as events: ``("new", location)``,
``("changed", location, version)``, ``("gone", location)``; :func:`report_events` turns a
delivered report into the same events, so "none lost, none twice" is a multiset equality.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.support.paths import REPO

ROOT = REPO

from tests.support.webserver import Reply, Seen, Site, html  # noqa: E402

# ../shared next to the checkout; BRIEFWATCH_SHARED names another copy (e.g. for a worktree)
SHARED = Path(os.environ.get("BRIEFWATCH_SHARED") or ROOT.parent / "shared")
CORPUS = SHARED / "corpora" / "wh-briefings" / "versions"
Event = tuple[Any, ...]
_SENTENCES = (
    "The delegation met regional officials on {day} to review the relief plan.",
    "A spokesperson said the convoy reached the northern district after a delay.",
    "Engineers inspected {n} bridges along the main supply route this week.",
    "The ministry said talks would resume once the ceasefire held for a month.",
    "Local councils asked for more water trucks and medical staff.",
    "The agency said it had registered {n} families at the new shelter.",
    "Officials declined to give a timeline for reopening the border crossing.",
    "The governor thanked volunteers who cleared debris from the market.",
)
_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday")


@dataclass
class Truth:
    """Events a reader must receive, each exactly once, and each page's version number."""

    expected: Counter[Event] = field(default_factory=Counter)
    versions: dict[str, int] = field(default_factory=dict)

    def new(self, location: str) -> None:
        self.versions[location] = 1
        self.expected[("new", location)] += 1

    def changed(self, location: str) -> None:
        self.versions[location] += 1
        self.expected[("changed", location, self.versions[location])] += 1

    def gone(self, location: str) -> None:
        self.expected[("gone", location)] += 1


def report_events(report: dict[str, Any]) -> Counter[Event]:
    """What a delivered report tells its reader, as :class:`Truth` events."""
    events: Counter[Event] = Counter()
    for page in report["pages"]:
        location = page["location"]
        changes = page.get("changes") or []
        if any(c["type"] == "added" for c in changes):
            events[("new", location)] += 1
        for change in changes:
            if change["type"] != "added":
                events[(change["type"], location, change["to_version"])] += 1
        if page["status"] == "gone":
            events[("gone", location)] += 1
    return events


def _figure(name: str, value: int) -> str:
    return f"Officials said {value} people were counted at checkpoint {name} on Sunday."


@dataclass
class LocalPages:
    """Briefing pages in a directory, each with a figure sentence to edit."""

    directory: Path
    bodies: dict[str, str] = field(default_factory=dict)  # file name -> text before figure
    figures: dict[str, int] = field(default_factory=dict)
    reserve: list[tuple[str, str]] = field(default_factory=list)

    def location(self, name: str) -> str:
        return (self.directory / name).resolve().as_uri()

    def write(self, name: str) -> None:
        text = f"{self.bodies[name]}\n\n{_figure(name, self.figures[name])}\n"
        (self.directory / name).write_text(text, encoding="utf-8")


def load_corpus(count: int, max_bytes: int = 30_000) -> list[tuple[str, str]]:
    """``count`` real briefing pages as (file name, text) with unique source URLs."""
    files = sorted(p for p in CORPUS.glob("*/*/v1_*.md") if p.stat().st_size <= max_bytes)
    if len(files) < count:
        raise SystemExit(f"crash: need {count} pages from {CORPUS}, found {len(files)}")
    pages = []
    for index, path in enumerate(files[:count]):
        text = path.read_text(encoding="utf-8")
        body = text.split("\n---\n", 1)[1] if text.startswith("---\n") else text
        title = next((line.split(":", 1)[1] for line in text.splitlines()
                      if line.startswith("title:")), f"Briefing {index}")
        title = json.dumps(" ".join(title.replace("\\", "").strip("'\" ").split()))
        front = (f"---\ntitle: {title}\n"
                 f"source_url: https://crash.example/local/{index}\n---\n")
        pages.append((f"page{index:04d}.md", front + body.strip()))
    return pages


@dataclass
class WebPage:
    site: Site
    path: str
    title: str
    paragraphs: list[str]
    figure: int
    gone: bool = False

    @property
    def url(self) -> str:
        return str(self.site.url(self.path))

    def body(self) -> bytes:
        body: bytes = html(self.title, *self.paragraphs,
                           _figure(self.path.strip("/"), self.figure))
        return body


def _route(page: WebPage) -> Any:
    def answer(seen: Seen, number: int) -> Reply:
        del number
        if page.gone:
            return Reply(404, b"<html><body>not found</body></html>",
                         {"Content-Type": "text/html"})
        body = page.body()
        etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
        headers = {"Content-Type": "text/html; charset=utf-8", "ETag": etag}
        if seen.headers.get("if-none-match") == etag:
            return Reply(304, b"", headers)
        return Reply(200, body, headers)

    return answer


def _paragraphs(rng: random.Random, count: int) -> list[str]:
    return [" ".join(s.format(day=rng.choice(_DAYS), n=rng.randint(2, 900))
                     for s in rng.sample(_SENTENCES, 3)) for _ in range(count)]


@dataclass
class World:
    """All pages, the HTTP servers, and the truth of what changed."""

    local: LocalPages
    web: list[WebPage]
    sites: list[Site]
    truth: Truth = field(default_factory=Truth)

    @classmethod
    def build(cls, workdir: Path, rng: random.Random, *, local_pages: int, web_pages: int,
              hosts: int, latency: float) -> World:
        corpus = load_corpus(local_pages + local_pages // 4 + 20)
        directory = workdir / "pages"
        directory.mkdir(parents=True)
        local = LocalPages(directory, reserve=corpus[local_pages:])
        for name, text in corpus[:local_pages]:
            local.bodies[name], local.figures[name] = text, rng.randint(100, 999)
            local.write(name)
        sites = [Site(latency=latency) for _ in range(hosts)]
        web = [WebPage(sites[i % hosts], f"/brief{i:04d}", f"Relief update {i}",
                       _paragraphs(rng, 12), rng.randint(100, 999)) for i in range(web_pages)]
        for page in web:
            page.site.route(page.path, _route(page))
        return cls(local, web, sites)

    def write_sources(self, path: Path) -> Path:
        urls = ",\n".join(f'  "{p.url}"' for p in self.web)
        path.write_text(
            "[fetch]\nper_host_delay = 0\nper_host_concurrency = 2\nconcurrency = 8\n"
            "retries = 0\nconnect_timeout = 2\nread_timeout = 5\ntotal_timeout = 20\n"
            "respect_robots = false\ncontact = \"crash-script@example.org\"\n\n"
            "[[source]]\nname = \"crash-web\"\nkind = \"urls\"\nmax_new = 100000\n"
            f"urls = [\n{urls}\n]\n", encoding="utf-8")
        return path

    def baseline(self) -> None:
        """The first run sees every page as new."""
        for name in self.local.bodies:
            self.truth.new(self.local.location(name))
        for page in self.web:
            self.truth.new(page.url)

    def edit(self, rng: random.Random, share: float) -> dict[str, int]:
        """One round of edits: ``share`` of the pages get a new figure; a few local pages
        are added and removed, now and then a web page disappears. Returns what was done."""
        done = Counter[str]()
        names = sorted(self.local.bodies)
        edited = rng.sample(names, max(1, int(len(names) * share)))
        for name in edited:
            self.local.figures[name] += rng.randint(1, 50)
            self.local.write(name)
            self.truth.changed(self.local.location(name))
            done["local_edits"] += 1
        live = [p for p in self.web if not p.gone]
        web_edited = rng.sample(live, max(1, int(len(live) * share)))
        for page in web_edited:
            page.figure += rng.randint(1, 50)
            self.truth.changed(page.url)
            done["web_edits"] += 1
        # a page removed this round was not edited in it (the edit would never be seen)
        done.update(self._add_and_remove(rng, sorted(set(names) - set(edited)),
                                         [p for p in live if p not in web_edited]))
        return dict(done)

    def _add_and_remove(self, rng: random.Random, names: list[str],
                        live: list[WebPage]) -> Iterable[str]:
        for _ in range(min(2, len(self.local.reserve))):
            name, text = self.local.reserve.pop()
            self.local.bodies[name], self.local.figures[name] = text, rng.randint(100, 999)
            self.local.write(name)
            self.truth.new(self.local.location(name))
            yield "local_new"
        gone = rng.choice(names)
        (self.local.directory / gone).unlink()
        del self.local.bodies[gone], self.local.figures[gone]
        self.truth.gone(self.local.location(gone))
        yield "local_gone"
        if rng.random() < 0.3 and len(live) > 10:
            page = rng.choice(live)
            page.gone = True
            self.truth.gone(page.url)
            yield "web_gone"

    def requests(self) -> int:
        return sum(len(s.seen) for s in self.sites)

    def in_flight(self) -> int:
        return sum(s.in_flight for s in self.sites)

    def close(self) -> None:
        for site in self.sites:
            site.close()
