"""Speed and memory of briefwatch, every figure a ratio measured side by side in one run.

    .venv/bin/python -m bench.run_all [--json out.json] [--pages N] [--edits N]
                                      [--diff-small N] [--workdir DIR]

Builds two corpora in a temporary directory (see ``bench/corpus.py``): the real HTML pages
(whitehouse-2020-html and the latest version of each govuk-versions page, at most
``--pages``) and a scaled corpus of ``--pages`` distinct pages (default 10,000) made from
them. Then, each in its own child process (so peak memory is per job):

- ``extract``: bare ``lxml.html.fromstring`` and ``trafilatura.extract`` over each corpus,
  before and again after the flow job (the faster of the two counts);
- ``flow``: briefwatch end to end through the Prefect ingest flow (ephemeral Prefect, a
  temporary store): first run, re-run with nothing changed, and — on the scaled corpus —
  a run after one sentence was edited in ``--edits`` pages; beside each, the same work
  without Prefect (``bench/plain.py``) in the same process;
- ``diff``: ``bench/diff_scaling.py``'s cases at ``--diff-small`` statements and 10x that.

Prints the figures (Markdown tables) and, with ``--json``, writes them with the raw
measurements. Peak memory of the whole process tree (the flow process, its process-pool
workers and Prefect's temporary API server) is sampled from /proc every 0.1 s.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from bench.corpus import (
    Corpus,
    build_real,
    build_scaled,
    edit_candidates,
    real_sources,
    sample,
)

ROOT = Path(__file__).resolve().parents[1]
PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")


# ------------------------------------------------------------ child processes


class TreeSampler(threading.Thread):
    """Peak summed RSS of a process and all its descendants, sampled from /proc."""

    def __init__(self, pid: int, interval: float = 0.1) -> None:
        super().__init__(daemon=True)
        self.pid, self.interval = pid, interval
        self.peak_bytes = 0
        self.peak_processes = 0
        self._stop_event = threading.Event()

    def run(self) -> None:
        while not self._stop_event.is_set():
            pids = _descendants(self.pid)
            total = sum(_rss(pid) for pid in pids)
            if total > self.peak_bytes:
                self.peak_bytes, self.peak_processes = total, len(pids)
            self._stop_event.wait(self.interval)

    def stop(self) -> None:
        self._stop_event.set()
        self.join()


def _descendants(root: int) -> list[int]:
    parents: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        parents[int(entry)] = int(stat.rsplit(")", 1)[1].split()[1])
    found, frontier = [root], [root]
    while frontier:
        frontier = [pid for pid, ppid in parents.items() if ppid in frontier]
        found.extend(frontier)
    return found


def _rss(pid: int) -> int:
    try:
        return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE_SIZE
    except (OSError, IndexError, ValueError):
        return 0


def run_job(job: str, spec: dict[str, Any], workdir: Path) -> dict[str, Any]:
    """Run one ``bench.jobs`` job in a fresh Python process with a private PREFECT_HOME."""
    spec_path, out_path = workdir / f"{job}-spec.json", workdir / f"{job}-out.json"
    spec_path.write_text(json.dumps(spec), encoding="utf-8")
    prefect_home = Path(tempfile.mkdtemp(prefix="briefwatch-bench-prefect-"))
    env = {
        **os.environ,
        "PREFECT_HOME": str(prefect_home),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "DO_NOT_TRACK": "1",
        "PREFECT_LOGGING_LEVEL": "WARNING",
    }
    env.pop("PREFECT_API_URL", None)
    started = time.perf_counter()
    try:
        proc = subprocess.Popen(
            [sys.executable, "-m", "bench.jobs", job, str(spec_path), str(out_path)],
            cwd=ROOT, env=env,
        )
        sampler = TreeSampler(proc.pid)
        sampler.start()
        code = proc.wait()
        sampler.stop()
    finally:
        shutil.rmtree(prefect_home, ignore_errors=True)
    if code != 0:
        raise RuntimeError(f"bench job {job} failed with exit status {code}")
    result: dict[str, Any] = json.loads(out_path.read_text(encoding="utf-8"))
    result["job_seconds"] = time.perf_counter() - started
    result["tree_peak_rss_mb"] = round(sampler.peak_bytes / 2**20, 1)
    result["tree_peak_processes"] = sampler.peak_processes
    return result


def fastest(first: dict[str, Any], second: dict[str, Any]) -> dict[str, Any]:
    """Per measurement, the faster of two extract jobs (both kept under ``runs``)."""
    merged: dict[str, Any] = {}
    for key, value in first.items():
        other = second.get(key)
        if isinstance(value, dict) and isinstance(other, dict) and "seconds" in value:
            best = min(value, other, key=lambda r: r["seconds"])
            merged[key] = {**best, "runs": [round(value["seconds"], 2),
                                            round(other["seconds"], 2)]}
        else:
            merged[key] = value
    return merged


# ------------------------------------------------------------------- figures


@dataclass(frozen=True, slots=True)
class Figure:
    section: str
    name: str
    value: float
    unit: str
    context: str = ""  # the absolute numbers behind a ratio
    goal: str = ""
    met: bool | None = None


def _rate(pages: int, seconds: float) -> float:
    return pages / seconds if seconds > 0 else float("nan")


def _share(flow: float, plain: float) -> float:
    return (flow - plain) / flow if flow > 0 else float("nan")


def best_first(flow: dict[str, Any], kind: str) -> dict[str, Any]:
    """The fastest of the first runs (each into a fresh store; flow and plain alternate)."""
    runs = [v for k, v in flow.items() if k == f"{kind}_first"
            or (k.startswith(f"{kind}_first") and k[len(kind) + 6:].isdigit())]
    best: dict[str, Any] = min(runs, key=lambda r: r["seconds"])
    return {**best, "all_seconds": [round(r["seconds"], 1) for r in runs]}


def throughput_figures(corpus: str, extract: dict[str, Any], flow: dict[str, Any]
                       ) -> list[Figure]:
    pages = flow["pages"]
    lx, tr = extract[f"{corpus}/lxml"], extract[f"{corpus}/trafilatura"]
    first, plain = best_first(flow, "flow"), best_first(flow, "plain")
    bw = _rate(pages, first["seconds"])
    rates = {
        "lxml.html.fromstring": _rate(pages, lx["seconds"]),
        "trafilatura.extract": _rate(pages, tr["seconds"]),
        "briefwatch flow": bw,
        "briefwatch, no Prefect": _rate(pages, plain["seconds"]),
    }
    section = f"ingest throughput, {corpus} corpus ({pages:,} pages, first run)"
    figs = [Figure(section, f"{name} pages/s", rate, "pages/s") for name, rate in rates.items()]
    ratio = bw / rates["trafilatura.extract"]
    figs.append(Figure(
        section, "briefwatch flow / trafilatura.extract", ratio, "x",
        f"{bw:.1f} vs {rates['trafilatura.extract']:.1f} pages/s (wall; fastest of flow runs "
        f"{first['all_seconds']} s and of trafilatura runs {tr.get('runs', [])} s)",
        ">= 1x (stretch 2x)", ratio >= 1))
    figs.append(Figure(
        section, "briefwatch flow / bare lxml parse", bw / rates["lxml.html.fromstring"], "x",
        f"{bw:.1f} vs {rates['lxml.html.fromstring']:.1f} pages/s"))
    cpu_ratio = (tr["cpu_seconds"] / first["cpu_seconds"]) if first["cpu_seconds"] else 0.0
    figs.append(Figure(
        section, "same, per CPU-second (flow / trafilatura)", cpu_ratio, "x",
        f"{pages / first['cpu_seconds']:.1f} vs {pages / tr['cpu_seconds']:.1f} pages per "
        "CPU-s (flow: its process and pool workers; Prefect's API server not counted)"))
    return figs


def rerun_seconds(flow: dict[str, Any], kind: str) -> float:
    """Median of the three unchanged re-runs (a short run's time is noisy)."""
    runs = [flow[f"{kind}_{p}"]["seconds"] for p in ("rerun", "rerun2", "rerun3")
            if f"{kind}_{p}" in flow]
    return float(statistics.median(runs))


def rerun_figures(corpus: str, flow: dict[str, Any]) -> list[Figure]:
    first, rerun = best_first(flow, "flow")["seconds"], rerun_seconds(flow, "flow")
    ratio = first / rerun
    section = f"re-run with nothing changed, {corpus} corpus"
    return [Figure(section, "first run / unchanged re-run", ratio, "x",
                   f"{first:.1f} s vs {rerun:.2f} s (median of 3 re-runs)", ">= 10x",
                   ratio >= 10)]


def prefect_figures(corpus: str, flow: dict[str, Any], job: dict[str, Any],
                    headline: bool) -> list[Figure]:
    section = f"Prefect's share of wall time, {corpus} corpus"
    figs = []
    for phase in ("first", "rerun", "edit"):
        if f"flow_{phase}" not in flow:
            continue
        if phase == "rerun":
            f, p = rerun_seconds(flow, "flow"), rerun_seconds(flow, "plain")
        elif phase == "first":
            f, p = best_first(flow, "flow")["seconds"], best_first(flow, "plain")["seconds"]
        else:
            f, p = flow[f"flow_{phase}"]["seconds"], flow[f"plain_{phase}"]["seconds"]
        share = _share(f, p)
        is_goal = headline and phase == "first"
        figs.append(Figure(
            section, f"{phase} run: (flow - same work without Prefect) / flow", 100 * share, "%",
            f"{f:.2f} s vs {p:.2f} s", "<= 10%" if is_goal else "",
            share <= 0.10 if is_goal else None))
    if headline:
        cold = job["prefect_cold_start"]["seconds"]
        warm = job["prefect_warm_1page"]["seconds"]
        plain = job["plain_1page"]["seconds"]
        first = best_first(flow, "flow")["seconds"]
        figs.append(Figure(
            section, "first flow run in a fresh process, 1 page", cold, "s",
            f"then {warm:.2f} s per 1-page flow run vs {plain:.3f} s without Prefect; "
            f"{100 * (cold - warm) / (first + cold - warm):.1f}% of a cold {corpus} run"))
    return figs


def parts_figures(corpus: str, flow: dict[str, Any]) -> list[Figure]:
    """Where the first run's wall time goes, flow beside the same work without Prefect."""
    section = f"time split of the first run, {corpus} corpus (s, flow vs without Prefect)"
    first, plain = flow["flow_first"], flow["plain_first"]
    if "parts" not in first:
        return []
    figs = []
    for label in sorted(set(first["parts"]) | set(plain["parts"])):
        f, p = first["parts"].get(label, 0.0), plain["parts"].get(label, 0.0)
        figs.append(Figure(section, label, f, "s", f"without Prefect {p:.2f} s"))
    rest_f = first["seconds"] - sum(first["parts"].values())
    rest_p = plain["seconds"] - sum(plain["parts"].values())
    figs.append(Figure(section, "rest: waiting for parse results, start-up, Prefect", rest_f,
                       "s", f"without Prefect {rest_p:.2f} s"))
    return figs


def memory_figures(corpus: str, flow: dict[str, Any], job: dict[str, Any]) -> list[Figure]:
    section = f"memory and store size, {corpus} corpus"
    pages = flow["pages"]
    rss = flow["rss_after_flow_first"]
    figs = [
        Figure(section, "peak RSS of the flow process (first run)", rss["self_mb"], "MB",
               f"largest finished child (parse worker) {rss['largest_child_mb']} MB",
               "< 500 MB", rss["self_mb"] < 500),
    ]
    if "peak_before_report_mb" in rss:
        figs.append(Figure(
            section, "same, before the run report is built (read, parse, store)",
            rss["peak_before_report_mb"], "MB",
            f"RSS holding the finished report: {rss.get('rss_with_report_mb')} MB"))
    figs += [
        Figure(section, "peak RSS of the whole process tree (whole job, sampled)",
               job["tree_peak_rss_mb"], "MB",
               f"{job['tree_peak_processes']} processes at the peak (the flow process, its "
               "pool workers, Prefect's temporary API server)"),
    ]
    first = flow["store_after_first"]["bytes"]
    rerun = flow["store_after_rerun"]["bytes"]
    figs.append(Figure(section, "store size after the first run", first / 2**20, "MiB",
                       f"{first / pages / 1024:.1f} KiB per page; corpus "
                       f"{flow.get('corpus_bytes', 0) / 2**20:.0f} MiB of HTML"))
    per_rerun = (rerun - first) / pages
    figs.append(Figure(section, "store growth per unchanged re-run, per page", per_rerun,
                       "bytes"))
    if "store_after_edit" in flow:
        edited = flow["edited_pages"]
        changed = flow["flow_edit"]["counts"].get("changed", 0)
        grown = flow["store_after_edit"]["bytes"] - flow["store_before_edit"]["bytes"]
        per_edit = (grown - (rerun - first)) / changed if changed else float("nan")
        figs.append(Figure(
            section, "store growth per one-sentence edit", per_edit, "bytes",
            f"({grown:,} B grown - {rerun - first:,} B of an unchanged re-run) / {changed} "
            f"pages the run flagged changed ({edited} edited; an edit in text the parser "
            f"drops changes nothing); changes {flow['flow_edit']['change_types']}"))
    return figs


def diff_figures(diff: dict[str, Any]) -> list[Figure]:
    sizes = sorted(int(k) for k in diff if k.isdigit())
    small, large = sizes[0], sizes[-1]
    section = "statement diff scaling (bench/diff_scaling.py)"
    figs = []
    for case in ("edit5", "rewrite50", "different", "identical"):
        t_small = diff[str(small)][case]["seconds"]
        t_large = diff[str(large)][case]["seconds"]
        goal = case == "edit5"
        figs.append(Figure(section, f"{case}: {small:,} statements", t_small, "s", "",
                           "< 0.5 s" if goal else "", t_small < 0.5 if goal else None))
        ratio = t_large / t_small if t_small else float("nan")
        figs.append(Figure(section, f"{case}: {large:,} / {small:,} statements", ratio, "x",
                           f"{t_large:.3f} s vs {t_small:.3f} s",
                           "near-linear (<= 15x for 10x)" if goal else "",
                           ratio <= 15 if goal else None))
    return figs


# -------------------------------------------------------------------- output


def machine() -> dict[str, Any]:
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "cores": os.cpu_count(),
        "cpu": model,
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


def _fmt(value: float, unit: str) -> str:
    if unit in ("x",):
        return f"{value:.2f}x"
    if unit == "%":
        return f"{value:.1f}%"
    if unit == "bytes":
        return f"{value:,.0f} B"
    if abs(value) >= 100:
        return f"{value:,.0f} {unit}"
    return f"{value:.2f} {unit}"


def render(figures: list[Figure]) -> str:
    lines: list[str] = []
    section = None
    for fig in figures:
        if fig.section != section:
            section = fig.section
            lines += ["", f"### {section}", "", "| figure | value | context | goal |",
                      "|---|---|---|---|"]
        verdict = "" if fig.met is None else (" — met" if fig.met else " — **missed**")
        goal = f"{fig.goal}{verdict}" if fig.goal else ""
        lines.append(f"| {fig.name} | {_fmt(fig.value, fig.unit)} | {fig.context} | {goal} |")
    return "\n".join(lines).lstrip() + "\n"


# ---------------------------------------------------------------------- main


def build_corpora(workdir: Path, pages: int) -> tuple[Corpus, Corpus, Path]:
    sources = real_sources()
    real = build_real(sample(sources, min(pages, len(sources))), workdir / "real")
    scaled = build_scaled(sources, workdir / "scaled", pages)
    probe = workdir / "probe"
    probe.mkdir()
    smallest = min((s for s in sources if s.canonical is None), key=lambda s: s.path.stat().st_size)
    shutil.copyfile(smallest.path, probe / "probe.html")
    return real, scaled, probe


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path, help="write figures and raw measurements here")
    parser.add_argument("--pages", type=int, default=10_000,
                        help="pages of the scaled corpus (and at most this many real pages)")
    parser.add_argument("--edits", type=int, default=None,
                        help="pages given a one-sentence edit (default: pages / 100)")
    parser.add_argument("--diff-small", type=int, default=2_000,
                        help="statements of the small diff case (the large one is 10x)")
    parser.add_argument("--diff-repeat", type=int, default=3)
    parser.add_argument("--first-runs", type=int, default=2,
                        help="first runs of the scaled corpus, flow and plain alternating "
                             "(the fastest counts)")
    parser.add_argument("--workdir", type=Path,
                        help="build corpora and stores here and keep them (default: temp)")
    args = parser.parse_args(argv)
    if args.pages < 1:
        parser.error("--pages must be at least 1")
    edits = args.edits if args.edits is not None else max(1, args.pages // 100)
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="briefwatch-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    try:
        real, scaled, probe = build_corpora(workdir, args.pages)
        print(f"corpora in {workdir}: real {len(real.pages)} pages "
              f"({real.bytes / 2**20:.0f} MiB), scaled {len(scaled.pages)} pages "
              f"({scaled.bytes / 2**20:.0f} MiB)", file=sys.stderr)
        corpora = {"real": real, "scaled": scaled}
        extract_spec = {"corpora": {
            name: [str(p.path) for p in c.pages] for name, c in corpora.items()}}
        extract = run_job("extract", extract_spec, workdir)
        edit_pages = [{"path": str(p.path), "copy": p.copy}
                      for p in edit_candidates(scaled, edits)]
        flow = run_job("flow", {
            "workdir": str(workdir), "probe": str(probe),
            "corpora": [
                {"name": "scaled", "root": str(scaled.root), "pages": len(scaled.pages),
                 "edits": edit_pages, "first_runs": args.first_runs},
                {"name": "real", "root": str(real.root), "pages": len(real.pages)},
            ],
        }, workdir)
        # again after the flow job: on a shared machine the load changes; the faster of the
        # two counts, so briefwatch is compared with the extractors' best
        extract = fastest(extract, run_job("extract", extract_spec, workdir))
        for name, corpus in corpora.items():
            flow[name]["corpus_bytes"] = corpus.bytes
            flow[name]["corpus_keys"] = corpus.keys
        diff = run_job("diff", {"small": args.diff_small, "repeat": args.diff_repeat}, workdir)
    finally:
        if args.workdir is None:
            shutil.rmtree(workdir, ignore_errors=True)
    figures: list[Figure] = []
    for name in ("scaled", "real"):
        figures += throughput_figures(name, extract, flow[name])
    for name in ("scaled", "real"):
        figures += rerun_figures(name, flow[name])
    figures += prefect_figures("scaled", flow["scaled"], flow, headline=True)
    figures += prefect_figures("real", flow["real"], flow, headline=False)
    figures += parts_figures("scaled", flow["scaled"])
    figures += memory_figures("scaled", flow["scaled"], flow)
    figures += diff_figures(diff)
    info = machine()
    print(f"# briefwatch bench — {info['date']}, {info['cores']} cores ({info['cpu']}), "
          f"Python {info['python']}, --pages {args.pages}, "
          f"{time.perf_counter() - started:.0f} s\n")
    print(render(figures))
    if args.json:
        args.json.write_text(json.dumps({
            "machine": info, "args": {k: str(v) for k, v in vars(args).items()},
            "figures": [asdict(f) for f in figures],
            "raw": {"extract": extract, "flow": flow, "diff": diff},
        }, indent=1, default=str), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
