"""How fast ``briefwatch reparse`` re-reads a store, against ingesting the same versions.

Corpus: the GOV.UK pages of ``../shared/corpora/govuk-versions`` with every stored version
(401 pages, 1,025 versions): run ``k`` of the ingest lays version ``k`` of each page that has
one over the page's file (pages without one keep their bytes: ``unchanged`` without a parse,
as in a real scheduled run). Measured, each on a fresh store:

- **ingest, in process**: the ingest's own steps (``read_and_parse`` + ``store_results``,
  one process, no Prefect) over all runs — the same work the reparse redoes, so the ratio
  compares like with like;
- **ingest, flow**: ``briefwatch ingest`` (the Prefect flow, parse workers) over all runs;
- **reparse**: ``briefwatch.pipeline.reparse.reparse`` of the in-process store (every version; the
  parsers are today's, so nothing differs: the figure is the cost of checking), then a
  second time with the first version of every page stored as an older parser read it
  (a banner statement added), so each page is rewritten and its changes recomputed.

``.venv/bin/python -m bench.reparse [--pages N] [--workdir DIR]`` prints one JSON object.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import shutil
import sqlite3
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.corpus import GOVUK_DIR
from briefwatch.pipeline.reparse import ReparseOptions, reparse
from briefwatch.pipeline.sources import discover
from briefwatch.pipeline.steps import IngestOptions, read_and_parse, store_results
from briefwatch.store import Store


def _layouts(pages: int) -> list[list[tuple[Path, str]]]:
    """Per run: (version file, page file name) of the pages that have that version."""
    index = json.loads((GOVUK_DIR / "versions_index.json").read_text(encoding="utf-8"))
    entries = [e for e in index if e["versions"]][:pages]
    runs = max(len(e["versions"]) for e in entries)
    return [
        [(GOVUK_DIR / e["dir"] / e["versions"][k]["file"], e["dir"].replace("/", "__") + ".html")
         for e in entries if k < len(e["versions"])]
        for k in range(runs)
    ]


def _lay(pages_dir: Path, files: list[tuple[Path, str]]) -> None:
    pages_dir.mkdir(parents=True, exist_ok=True)
    for source, name in files:
        shutil.copyfile(source, pages_dir / name)


def ingest_in_process(work: Path, layouts: list[list[tuple[Path, str]]]) -> tuple[Path, float]:
    db, pages_dir = work / "inproc.db", work / "inproc-pages"
    options = IngestOptions()
    elapsed = 0.0
    with Store(db) as store:
        for files in layouts:
            _lay(pages_dir, files)
            start = time.perf_counter()
            items = discover([str(pages_dir)])
            run = store.start_run([str(pages_dir)])
            known = store.location_hashes(i.location for i in items)
            with store.batch():
                store_results(store, run, read_and_parse(items, known, options))
            store.finish_run(run)
            elapsed += time.perf_counter() - start
    return db, elapsed


def ingest_flow(work: Path, layouts: list[list[tuple[Path, str]]]) -> float:
    from briefwatch.cli import main

    db, pages_dir = work / "flow.db", work / "flow-pages"
    start = time.perf_counter()
    for files in layouts:
        _lay(pages_dir, files)
        with contextlib.redirect_stdout(io.StringIO()):
            assert main(["ingest", str(pages_dir), "--db", str(db), "--quiet"]) == 0
    return time.perf_counter() - start


def _with_banner_in_v1(db: Path) -> None:
    """Store every page's first version as an older parser read it: one more statement (the
    .gov banner) in front — what a reparse with today's parser then fixes."""
    banner_id = "bench-banner-statement"
    conn = sqlite3.connect(db)
    with conn:
        conn.execute("INSERT OR IGNORE INTO statements (id, text, kind) VALUES (?, ?, ?)",
                     [banner_id, "An official website of the United States Government",
                      "narration"])
        for (version_id,) in conn.execute("SELECT id FROM versions WHERE number = 1").fetchall():
            rows = conn.execute("SELECT position, statement_id, paragraph, section, text FROM "
                                "version_statements WHERE version_id = ? ORDER BY position "
                                "DESC", [version_id]).fetchall()
            conn.execute("DELETE FROM version_statements WHERE version_id = ?", [version_id])
            conn.executemany("INSERT INTO version_statements VALUES (?, ?, ?, ?, ?, ?)",
                             [(version_id, p + 1, s, para, sec, t) for p, s, para, sec, t in rows]
                             + [(version_id, 0, banner_id, 0, None, None)])
            conn.execute("UPDATE versions SET statement_count = statement_count + 1, "
                         "content_hash = 'older-parse' WHERE id = ?", [version_id])
    conn.close()


def timed_reparse(db: Path) -> tuple[float, dict[str, Any]]:
    with Store(db) as store:
        start = time.perf_counter()
        report = reparse(store, ReparseOptions())
        return time.perf_counter() - start, report["run"]["counts"]


def run(pages: int, work: Path) -> dict[str, Any]:
    layouts = _layouts(pages)
    versions = sum(len(files) for files in layouts)
    db, inproc = ingest_in_process(work, layouts)
    flow = ingest_flow(work, layouts)
    check, check_counts = timed_reparse(db)
    _with_banner_in_v1(db)
    rewrite, rewrite_counts = timed_reparse(db)
    page_count = len(layouts[0])
    return {
        "pages": page_count, "versions": versions, "runs": len(layouts),
        "ingest_in_process_s": round(inproc, 2), "ingest_flow_s": round(flow, 2),
        "reparse_nothing_differs_s": round(check, 2),
        "reparse_every_page_rewritten_s": round(rewrite, 2),
        "reparse_pages_per_s": round(page_count / check, 1),
        "reparse_versions_per_s": round(versions / check, 1),
        "reparse_rewrite_pages_per_s": round(page_count / rewrite, 1),
        "ratio_reparse_to_ingest_in_process": round(check / inproc, 2),
        "ratio_reparse_rewrite_to_ingest_in_process": round(rewrite / inproc, 2),
        "ratio_reparse_to_ingest_flow": round(check / flow, 2),
        "check_counts": check_counts, "rewrite_counts": rewrite_counts,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=401)
    parser.add_argument("--workdir", type=Path, default=None)
    args = parser.parse_args()
    work = args.workdir or Path(tempfile.mkdtemp(prefix="briefwatch-bench-reparse-"))
    work.mkdir(parents=True, exist_ok=True)
    print(json.dumps(run(args.pages, work), indent=2))


if __name__ == "__main__":
    main()
