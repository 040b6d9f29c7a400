"""What retention of old raw payloads gives back, on a real store of real page versions.

The store: every page of ``govuk-versions`` (401 GOV.UK pages, HTML, 2-4 versions each),
``wh-briefings`` (754 whitehouse.gov pages, Markdown, 2-30 versions each) and
``whitehouse-2020-html`` (whitehouse.gov transcripts, full-page HTML, two captures),
ingested in rounds through the Prefect ``ingest`` flow: round r writes each page's version
min(r, its last) into one directory, so every real edit becomes a stored version (pages
whose later captures parse the same stay unchanged, as they would in production).

Then, each on its own copy (taken with :func:`briefwatch.store.maintenance.backup`):

- ``briefwatch vacuum`` (compaction only: the baseline),
- ``briefwatch vacuum --drop-raw-older-than 0`` (every old version's raw bytes dropped,
  current versions' kept),
- ``briefwatch vacuum --drop-raw-older-than 0 --no-keep-current`` (every raw payload).

Run: ``.venv/bin/python -m bench.retention [--rounds 4] [--workdir DIR]``; prints a
Markdown table and writes ``retention.json`` in the work directory.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "corpora"


def page_versions() -> dict[str, list[Path]]:
    """Each page's version files, oldest first, under a relative path of its own."""
    pages: dict[str, list[Path]] = {}
    for corpus, suffix in (("govuk-versions", ".html"), ("wh-briefings", ".md")):
        index = json.loads((SHARED / corpus / "versions_index.json").read_text("utf-8"))
        for entry in index:
            folder = SHARED / corpus / entry["dir"]
            files = [folder / v["file"] for v in entry["versions"]]
            name = f"{corpus}/{entry['dir']}/page{suffix}"
            pages[name] = [f for f in files if f.is_file()]
    captures = sorted((SHARED / "whitehouse-2020-html").glob("v*/"))
    for capture in captures:
        for path in sorted(capture.glob("*.html")):
            pages.setdefault(f"wh2020/{path.name}", []).append(path)
    return {name: files for name, files in pages.items() if files}


def build(work: Path, rounds: int) -> tuple[Path, list[dict[str, Any]]]:
    from briefwatch.flows.ingest import ingest

    pages_dir, db = work / "pages", work / "briefwatch.db"
    pages_dir.mkdir(parents=True)
    versions = page_versions()
    runs = []
    for r in range(rounds):
        for name, files in versions.items():
            (pages_dir / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(files[min(r, len(files) - 1)], pages_dir / name)
        started = time.monotonic()
        report = ingest([str(pages_dir)], db_path=str(db), publish_artifacts=False)
        runs.append({"round": r + 1, "counts": report["run"]["counts"],
                     "seconds": round(time.monotonic() - started, 1)})
        print(f"round {r + 1}: {report['run']['counts']}", file=sys.stderr)
    return db, runs


def measure(db: Path, work: Path) -> dict[str, Any]:
    from briefwatch.store import Store
    from briefwatch.store.maintenance import RetentionPolicy, backup, vacuum

    out: dict[str, Any] = {}
    variants = {"compact only": None,
                "drop old raw (keep current)": RetentionPolicy(0),
                "drop all raw (--no-keep-current)": RetentionPolicy(0, keep_current=False)}
    for label, policy in variants.items():
        copy = work / f"copy-{len(out)}.db"
        backup(db, copy)
        with Store(copy, create=False) as store:
            result = vacuum(store, policy)
        out[label] = asdict(result)
    with Store(db, create=False) as store:
        counts = {t: store.db.table(t).count for t in ("pages", "versions", "blobs",
                                                        "statements", "changes")}
    out["counts"] = counts
    out["raw_bytes_total"] = _sum(db, "SELECT sum(size) FROM blobs")
    out["stored_raw_bytes_total"] = _sum(db, "SELECT sum(length(data)) FROM blobs")
    return out


def _sum(db: Path, sql: str) -> int:
    import sqlite3
    from contextlib import closing

    with closing(sqlite3.connect(db)) as conn:
        return int(conn.execute(sql).fetchone()[0] or 0)


def table(result: dict[str, Any]) -> str:
    base = result["compact only"]["file_bytes_after"]
    lines = ["| variant | blobs dropped | raw bytes dropped | stored bytes dropped | "
             "file after | vs compact | seconds |", "|---|---|---|---|---|---|---|"]
    for label in ("compact only", "drop old raw (keep current)",
                  "drop all raw (--no-keep-current)"):
        row = result[label]
        retention = row["retention"] or {}
        after = row["file_bytes_after"]
        lines.append(
            f"| {label} | {retention.get('blobs_dropped', 0)} | "
            f"{retention.get('raw_bytes_dropped', 0) / 1e6:.1f} MB | "
            f"{retention.get('stored_bytes_dropped', 0) / 1e6:.1f} MB | {after / 1e6:.1f} MB "
            f"| {100 * after / base:.1f}% | {row['seconds']:.2f} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--workdir", type=Path, default=None)
    args = parser.parse_args(argv)
    work = args.workdir or Path(tempfile.mkdtemp(prefix="briefwatch-retention-"))
    db, runs = build(work, args.rounds)
    result = measure(db, work)
    result["runs"] = runs
    before = db.stat().st_size
    result["store_bytes_after_ingest"] = before
    (work / "retention.json").write_text(json.dumps(result, indent=2))
    print(f"store after {args.rounds} rounds: {before / 1e6:.1f} MB; {result['counts']}; "
          f"raw payload {result['raw_bytes_total'] / 1e6:.1f} MB raw, "
          f"{result['stored_raw_bytes_total'] / 1e6:.1f} MB stored")
    print(table(result))
    print(f"(work directory: {work})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
