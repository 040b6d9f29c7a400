"""Fetching speed: briefwatch's fetcher and web ingest against local servers with latency.

    .venv/bin/python -m bench.fetch [--pages 1000] [--hosts 8] [--latency 0.05]
                                    [--concurrency 32] [--per-host 4] [--sequential 200]
                                    [--json out.json]

Starts ``--hosts`` HTTP servers on 127.0.0.1 (one port each: a "host" for the per-host
limits; ``tests/support/webserver.py``) in a process of their own, each answering after
``--latency`` seconds, serving ``--pages`` distinct article pages in all, with ETags. Then
measures, side by side:

- ``fetcher``: :class:`briefwatch.web.fetch.Fetcher` over every page (pooled session,
  ``--concurrency`` requests in flight, ``--per-host`` per host, no per-host delay, robots.txt
  read), in pages/s and as a share of the ideal ``pages × latency / concurrency``;
- ``sequential``: a plain ``requests.get`` loop over the first ``--sequential`` pages (what
  a naive script does), in pages/s; and the same Fetcher over those pages one host at a
  time (each host within its own limits);
- ``ingest``: the whole ``ingest`` flow (fetch, parse, store) over every page into a new
  store, then the same again, where every page answers 304 Not Modified (nothing parsed,
  nothing written but the outcome); the second run's time against the first.

Prefect is warmed up first (its temporary API server starts with the first flow run in a
process), so the ingest times are the runs' own. Figures are printed as a Markdown table.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import tempfile
import time
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from tests.support.paths import REPO

ROOT = REPO
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")

import requests  # noqa: E402

from briefwatch.pipeline.web import WebItem, interleave_hosts  # noqa: E402
from briefwatch.web.fetch import Fetcher, FetchOptions, FetchStatus  # noqa: E402
from tests.support.webserver import Site, html, page  # noqa: E402

WORDS = ("minister ambassador convoy ceasefire talks delegation harbour aid city council "
         "budget vote statement press briefing official spokesman region border").split()


def _article(n: int) -> bytes:
    sentences = [f"Briefing {n} began at {9 + n % 8} a.m. with remarks on {WORDS[n % 17]}."]
    for k in range(12):
        w = [WORDS[(n * 7 + k * 3 + j) % len(WORDS)] for j in range(8)]
        sentences.append(f"The {w[0]} said {n + k} {w[1]}s met the {w[2]} about the {w[3]} "
                         f"and the {w[4]} on day {k + 1}.")
    return bytes(html(f"Briefing number {n}", *sentences))


def _serve_forever(pages: int, hosts: int, host: int, latency: float,
                   conn: Connection) -> None:
    """One host's process: serve its share of the pages (every ``hosts``-th, from ``host``),
    send their URLs, serve until told to stop."""
    with Site(latency=latency) as site:
        conn.send({n: site.route(f"/briefing/{n}", page(_article(n), etag=f'"{n}-v1"'))
                   for n in range(host, pages, hosts)})
        conn.recv()


class Servers:
    """The HTTP servers, one process per host (so serving shares neither the measured
    process's interpreter lock nor one server process's)."""

    def __init__(self, pages: int, hosts: int, latency: float) -> None:
        context = multiprocessing.get_context("spawn")
        self._children = []
        for host in range(hosts):
            mine, theirs = context.Pipe()
            process = context.Process(target=_serve_forever, daemon=True,
                                      args=(pages, hosts, host, latency, theirs))
            process.start()
            self._children.append((mine, process))
        by_number: dict[int, str] = {}
        for conn, _ in self._children:
            by_number.update(conn.recv())
        self.urls = [by_number[n] for n in range(pages)]

    def close(self) -> None:
        for conn, _ in self._children:
            conn.send("stop")
        for _, process in self._children:
            process.join(timeout=10)


def _options(concurrency: int, per_host: int) -> FetchOptions:
    return FetchOptions(concurrency=concurrency, per_host_concurrency=per_host,
                        per_host_delay=0.0, connect_timeout=10.0, read_timeout=30.0,
                        batch_size=100, contact="bench@example.org")


def _config(path: Path, concurrency: int, per_host: int) -> Path:
    path.write_text(f"""[fetch]
concurrency = {concurrency}
per_host_concurrency = {per_host}
per_host_delay = 0
batch_size = 100
contact = "bench@example.org"
""")
    return path


def measure_fetcher(urls: list[str], options: FetchOptions) -> float:
    items = interleave_hosts([WebItem(u, "bench") for u in urls])
    with Fetcher(options) as fetcher:
        start = time.perf_counter()
        results = list(fetcher.fetch_many([(i.url, None) for i in items]))
        elapsed = time.perf_counter() - start
    bad = [r for r in results if r.status is not FetchStatus.OK]
    if bad:
        raise SystemExit(f"fetcher: {len(bad)} page(s) not fetched, e.g. {bad[0].error}")
    return elapsed


def measure_host_by_host(urls: list[str], options: FetchOptions) -> float:
    """The same fetcher, but one host at a time (each host's pages, then the next's)."""
    by_host: dict[str, list[str]] = {}
    for url in urls:
        by_host.setdefault(url.split("/")[2], []).append(url)
    with Fetcher(options) as fetcher:
        start = time.perf_counter()
        for host_urls in by_host.values():
            list(fetcher.fetch_many([(u, None) for u in host_urls]))
        return time.perf_counter() - start


def measure_sequential(urls: list[str]) -> float:
    start = time.perf_counter()
    for url in urls:
        response = requests.get(url, timeout=30)
        response.raise_for_status()
    return time.perf_counter() - start


def measure_ingest(urls: list[str], work: Path, config: Path) -> tuple[float, float,
                                                                       dict[str, Any]]:
    from briefwatch.flows.ingest import ingest

    db = str(work / "bench.db")
    ingest(urls[:1], db_path=str(work / "warmup.db"), config=str(config),
           publish_artifacts=False)
    start = time.perf_counter()
    first = ingest(urls, db_path=db, config=str(config), publish_artifacts=False)
    first_s = time.perf_counter() - start
    start = time.perf_counter()
    second = ingest(urls, db_path=db, config=str(config), publish_artifacts=False)
    second_s = time.perf_counter() - start
    if first["run"]["counts"]["new"] != len(urls):
        raise SystemExit(f"first ingest: {first['run']['counts']}")
    if second["run"]["counts"]["unchanged"] != len(urls):
        raise SystemExit(f"second ingest: {second['run']['counts']}")
    return first_s, second_s, {"first": first["run"]["counts"],
                               "second": second["run"]["counts"]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", type=int, default=1000)
    parser.add_argument("--hosts", type=int, default=8)
    parser.add_argument("--latency", type=float, default=0.05, help="seconds per answer")
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--per-host", type=int, default=4)
    parser.add_argument("--sequential", type=int, default=200,
                        help="pages for the plain requests.get loop")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)

    servers = Servers(args.pages, args.hosts, args.latency)
    urls = servers.urls
    try:
        options = _options(args.concurrency, args.per_host)
        concurrency = min(args.concurrency, args.hosts * args.per_host)
        ideal = args.pages * args.latency / concurrency
        fetch_s = measure_fetcher(urls, options)
        seq_n = min(args.sequential, args.pages)
        seq_s = measure_sequential(urls[:seq_n])
        hosts_s = measure_host_by_host(urls[:seq_n], options)
        with tempfile.TemporaryDirectory(prefix="briefwatch-bench-fetch-") as tmp:
            work = Path(tmp)
            first_s, second_s, counts = measure_ingest(
                urls, work, _config(work / "sources.toml", args.concurrency, args.per_host))
    finally:
        servers.close()

    figures = {
        "pages": args.pages, "hosts": args.hosts, "latency_s": args.latency,
        "concurrency": concurrency, "ideal_s": ideal,
        "fetcher_s": fetch_s, "fetcher_pages_per_s": args.pages / fetch_s,
        "fetcher_share_of_ideal": ideal / fetch_s,
        "sequential_pages": seq_n, "sequential_s": seq_s,
        "sequential_pages_per_s": seq_n / seq_s,
        "speedup_vs_sequential": (args.pages / fetch_s) / (seq_n / seq_s),
        "host_by_host_s": hosts_s, "host_by_host_pages_per_s": seq_n / hosts_s,
        "ingest_first_s": first_s, "ingest_second_s": second_s,
        "ingest_first_pages_per_s": args.pages / first_s,
        "second_over_first": second_s / first_s, "counts": counts,
    }
    print(f"{args.pages} pages on {args.hosts} hosts, {args.latency * 1000:.0f} ms latency, "
          f"{concurrency} requests in flight ({args.per_host} per host)\n")
    print("| measure | time | pages/s | ratio |")
    print("|---|---:|---:|---|")
    print(f"| ideal: pages × latency / concurrency | {ideal:.2f} s | "
          f"{args.pages / ideal:.0f} | |")
    print(f"| Fetcher (fetch only) | {fetch_s:.2f} s | {args.pages / fetch_s:.0f} | "
          f"{ideal / fetch_s:.0%} of ideal |")
    print(f"| sequential `requests.get` loop ({seq_n} pages) | {seq_s:.2f} s | "
          f"{seq_n / seq_s:.1f} | Fetcher is {figures['speedup_vs_sequential']:.1f}× faster |")
    print(f"| same Fetcher, one host at a time ({seq_n} pages) | {hosts_s:.2f} s | "
          f"{seq_n / hosts_s:.0f} | all hosts at once is "
          f"{(args.pages / fetch_s) / (seq_n / hosts_s):.1f}× faster |")
    print(f"| `ingest` flow, first run (fetch, parse, store) | {first_s:.2f} s | "
          f"{args.pages / first_s:.0f} | |")
    print(f"| `ingest` flow, second run (all 304) | {second_s:.2f} s | "
          f"{args.pages / second_s:.0f} | {second_s / first_s:.2f}× the first run |")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
