"""Bench measurements, each run in its own child process by ``bench.run_all``.

    python -m bench.jobs JOB SPEC.json OUT.json

JOB is ``extract`` (bare lxml parsing and ``trafilatura.extract`` over the corpora),
``flow`` (briefwatch through the Prefect ingest flow, and the same work without Prefect)
or ``diff`` (``bench/diff_scaling.py``'s cases). The parent sets the Prefect environment
(a private PREFECT_HOME, no analytics) before this process starts.
"""

from __future__ import annotations

import json
import os
import resource
import sqlite3
import sys
import time
from collections import Counter
from collections.abc import Callable
from functools import partial, wraps
from pathlib import Path
from typing import Any

Spec = dict[str, Any]
Result = dict[str, Any]


# ------------------------------------------------------------------ process


def cpu_seconds() -> float:
    """CPU time of this process and of its finished children (e.g. a process pool)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def peak_rss_mb() -> dict[str, float]:
    """Peak RSS so far of this process, and the largest of its finished children."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return {"self_mb": round(own, 1), "largest_child_mb": round(kids, 1)}


def timed(run: Callable[[], Any]) -> tuple[Any, dict[str, float]]:
    cpu0, wall0 = cpu_seconds(), time.perf_counter()
    value = run()
    return value, {"seconds": time.perf_counter() - wall0, "cpu_seconds": cpu_seconds() - cpu0}


# --------------------------------------------------------------- extraction


def extract_job(spec: Spec) -> Result:
    """Bare ``lxml.html.fromstring`` and ``trafilatura.extract`` on each corpus's files
    (bytes read inside the timing, as the pipeline reads them)."""
    import lxml.html
    import trafilatura

    def lxml_parse(path: str) -> object:
        with open(path, "rb") as handle:
            return lxml.html.fromstring(handle.read())

    def trafilatura_extract(path: str) -> object:
        with open(path, "rb") as handle:
            return trafilatura.extract(handle.read())

    tools: dict[str, Callable[[str], object]] = {
        "lxml": lxml_parse, "trafilatura": trafilatura_extract,
    }
    def run_all(tool: Callable[[str], object], files: list[str]) -> None:
        for path in files:
            tool(path)  # the result is dropped, as the pipeline drops its trees

    out: Result = {}
    for corpus, files in spec["corpora"].items():
        for name, tool in tools.items():
            tool(files[0])  # warm-up: imports, caches
            _, timing = timed(partial(run_all, tool, files))
            out[f"{corpus}/{name}"] = {**timing, "pages": len(files)}
    return out


# --------------------------------------------------------------------- flow


def store_stats(db: str) -> dict[str, Any]:
    """Size of a store after a checkpoint, and its row counts."""
    conn = sqlite3.connect(db)
    try:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        counts = {
            table: conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
            for table in ("pages", "versions", "statements", "version_statements", "changes",
                          "page_runs", "blobs")
        }
        try:
            tables = dict(conn.execute("SELECT name, sum(pgsize) FROM dbstat GROUP BY name"))
        except sqlite3.Error:
            tables = {}
    finally:
        conn.close()
    wal = Path(db + "-wal")
    size = Path(db).stat().st_size + (wal.stat().st_size if wal.exists() else 0)
    return {"bytes": size, "rows": counts, "table_bytes": tables}


def _report_summary(report: dict[str, Any]) -> dict[str, Any]:
    pages = report["pages"]
    changes = Counter(c["type"] for p in pages if p["status"] == "changed" for c in p["changes"])
    return {"counts": report["run"]["counts"], "change_types": dict(changes),
            "changes_per_changed_page": sorted(
                {len(p["changes"]) for p in pages if p["status"] == "changed"})}


def watch_report_memory() -> dict[str, float]:
    """Make ``Store.run_report`` note the peak RSS reached before it builds a report (the
    parse and store phases of a run), so the report's own share of the peak shows."""
    from briefwatch.store import Store

    marks: dict[str, float] = {}
    build_report = Store.run_report

    def run_report(self: Store, run: int | str = "latest") -> dict[str, Any]:
        marks["peak_before_report_mb"] = peak_rss_mb()["self_mb"]
        report = build_report(self, run)
        marks["rss_with_report_mb"] = current_rss_mb()
        return report

    Store.run_report = run_report  # type: ignore[method-assign]
    return marks


class PhaseTimer:
    """Wall seconds spent inside some pipeline functions during one run (the flow and the
    plain replica call the same ones), so a run's time can be split into its parts."""

    def __init__(self) -> None:
        self.totals: dict[str, float] = {}

    def wrap(self, owner: Any, name: str, label: str) -> None:
        original = getattr(owner, name)

        @wraps(original)
        def timed_call(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                self.totals[label] = self.totals.get(label, 0.0) + time.perf_counter() - start

        setattr(owner, name, timed_call)

    def take(self) -> dict[str, float]:
        totals, self.totals = self.totals, {}
        return {k: round(v, 3) for k, v in totals.items()}


def instrument() -> PhaseTimer:
    from bench import plain
    from briefwatch.flows import ingest as flow_module
    from briefwatch.pipeline import ingest as pipeline_module
    from briefwatch.store import Store

    timer = PhaseTimer()
    timer.wrap(pipeline_module, "store_results", "store pages")
    timer.wrap(Store, "run_report", "build report")
    for module in (flow_module, plain):
        timer.wrap(module, "render_markdown_artifact", "render markdown")
    timer.wrap(flow_module, "create_markdown_artifact", "upload artifacts")
    timer.wrap(flow_module, "create_table_artifact", "upload artifacts")
    return timer


def current_rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    return float("nan")


def flow_job(spec: Spec) -> Result:
    wall0 = time.perf_counter()
    from bench.plain import run_plain
    from briefwatch.flows.ingest import ingest

    report_memory = watch_report_memory()
    timer = instrument()
    out: Result = {"import_seconds": time.perf_counter() - wall0}
    work = Path(spec["workdir"])
    probe = spec["probe"]
    _, out["prefect_cold_start"] = timed(
        lambda: ingest([probe], db_path=str(work / "probe-1.db")))
    _, out["prefect_warm_1page"] = timed(
        lambda: ingest([probe], db_path=str(work / "probe-2.db")))
    _, out["plain_1page"] = timed(lambda: run_plain([probe], str(work / "probe-3.db")))
    for corpus in spec["corpora"]:
        out[corpus["name"]] = _flow_corpus(corpus, work, report_memory, timer)
    out["rss_end"] = peak_rss_mb()
    return out


def _flow_corpus(
    corpus: Spec, work: Path, report_memory: dict[str, float], timer: PhaseTimer
) -> Result:
    """First run, unchanged re-run and (with ``edits``) a run after one-sentence edits,
    each through the flow and then without Prefect into a second store."""
    from bench.corpus import CorpusPage, SourcePage, edit_one_sentence
    from bench.plain import run_plain
    from briefwatch.flows.ingest import ingest

    name, root = corpus["name"], corpus["root"]
    flow_db, plain_db = str(work / f"{name}-flow.db"), str(work / f"{name}-plain.db")
    res: Result = {"pages": corpus["pages"]}

    def flow_run(phase: str, db: str = flow_db) -> None:
        timer.take()
        report, res[f"flow_{phase}"] = timed(lambda: ingest([root], db_path=db))
        res[f"flow_{phase}"].update(_report_summary(report), parts=timer.take())

    def plain_run(phase: str, db: str = plain_db) -> None:
        timer.take()
        report, res[f"plain_{phase}"] = timed(lambda: run_plain([root], db))
        res[f"plain_{phase}"].update(_report_summary(report), parts=timer.take())

    flow_run("first")
    res["rss_after_flow_first"] = {**peak_rss_mb(), **report_memory}
    res["store_after_first"] = store_stats(flow_db)
    plain_run("first")
    for n in range(2, int(corpus.get("first_runs", 1)) + 1):  # flow, plain, flow, plain
        flow_run(f"first{n}", str(work / f"{name}-flow{n}.db"))
        plain_run(f"first{n}", str(work / f"{name}-plain{n}.db"))
    flow_run("rerun")
    res["store_after_rerun"] = store_stats(flow_db)
    plain_run("rerun")
    for again in ("rerun2", "rerun3"):  # short runs: the figure takes the median of three
        flow_run(again)
        plain_run(again)
    edits = corpus.get("edits") or []
    if edits:
        res["edited_pages"] = sum(
            edit_one_sentence(CorpusPage(Path(e["path"]), SourcePage(Path(), "", None),
                                         e["copy"]))
            for e in edits
        )
        res["store_before_edit"] = store_stats(flow_db)
        flow_run("edit")
        res["store_after_edit"] = store_stats(flow_db)
        plain_run("edit")
    return res


# --------------------------------------------------------------------- diff


def diff_job(spec: Spec) -> Result:
    from bench import diff_scaling

    small, repeat = int(spec["small"]), int(spec["repeat"])
    corpus = diff_scaling.load_statements(2 * 10 * small)
    out: Result = {"loaded_statements": len(corpus)}
    for size in (small, 10 * small):
        res = diff_scaling.measure(size, corpus, repeat)
        out[str(size)] = res
    return out


JOBS: dict[str, Callable[[Spec], Result]] = {
    "extract": extract_job, "flow": flow_job, "diff": diff_job,
}


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 3 or args[0] not in JOBS:
        print(f"usage: python -m bench.jobs {{{','.join(JOBS)}}} SPEC.json OUT.json",
              file=sys.stderr)
        return 2
    spec = json.loads(Path(args[1]).read_text(encoding="utf-8"))
    result = JOBS[args[0]](spec)
    result["pid"] = os.getpid()
    Path(args[2]).write_text(json.dumps(result, indent=1, default=str), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
