"""Run every quality evaluation and print one table (each figure beside its goal).

Usage, from the project root::

    .venv/bin/python -m eval.run_all [--json out.json] [--quick] [--only 2,4] [--workers 2]

``--quick`` is the fixed-seed CI subset (what ``tests/tools/test_eval_gate.py`` runs). The figures
are deterministic; the timings are not. ``--strict`` exits 1 when a goal is missed.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from eval import chrome, edgi, edits, false_alarms, main_content, turns
from eval.common import DEFAULT_CORPORA, ROOT, EvalOptions, Figure, SectionResult

Runner = Callable[[EvalOptions], SectionResult]

SECTIONS: dict[str, Runner] = {
    "1": main_content.run,
    "2": chrome.run,
    "3": false_alarms.run,
    "4": edits.run,
    "5": turns.run,
    "6": edgi.run,
}


def run_sections(options: EvalOptions, only: Sequence[str] = ()) -> list[SectionResult]:
    """Run the chosen evaluations (all by default), in order."""
    chosen = list(only) or list(SECTIONS)
    unknown = [name for name in chosen if name not in SECTIONS]
    if unknown:
        raise ValueError(f"unknown evaluation(s): {', '.join(unknown)}")
    return [SECTIONS[name](options) for name in chosen]


def format_value(figure: Figure, value: float | None = None) -> str:
    v = figure.value if value is None else value
    if figure.unit == "share":
        return f"{100 * v:.2f}%"
    if figure.unit == "count":
        return f"{v:,.0f}"
    return f"{v:.3f}"


def format_goal(figure: Figure) -> str:
    if figure.goal is None:
        return f"({figure.reference})" if figure.reference else "-"
    sign = {">=": "≥", "<=": "≤", "==": "="}[figure.comparison]
    goal = f"{sign} {format_value(figure, figure.goal)}"
    return f"{goal} ({figure.reference})" if figure.reference else goal


def table(results: Sequence[SectionResult]) -> str:
    rows = [("#", "figure", "value", "goal / reference", "met", "over")]
    for result in results:
        for fig in result.figures:
            met = {True: "yes", False: "NO", None: ""}[fig.passed]
            rows.append((fig.section, fig.name, format_value(fig), format_goal(fig), met,
                         fig.support))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    lines = []
    for k, row in enumerate(rows):
        cells = [row[i].ljust(widths[i]) for i in range(len(widths))] + [row[-1]]
        lines.append("  ".join(cells).rstrip())
        if k == 0:
            lines.append("  ".join("-" * w for w in widths) + "  " + "-" * 4)
    return "\n".join(lines)


def machine() -> dict[str, Any]:
    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpus": os.cpu_count(),
    }


def git_state() -> dict[str, Any]:
    """The commit the product was measured at, and whether the tree had local changes."""
    def git(*args: str) -> str:
        out = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True,
                             timeout=10, check=False)
        return out.stdout.strip() if out.returncode == 0 else ""

    changed = [line[3:] for line in git("status", "--porcelain").splitlines()]
    product = [p for p in changed if p.split("/")[0] in ("parsers", "briefwatch", "store")]
    return {"commit": git("rev-parse", "--short", "HEAD") or None,
            "uncommitted_product_files": len(product)}


def payload(results: Sequence[SectionResult], options: EvalOptions,
            seconds: float) -> dict[str, Any]:
    figures = [f for r in results for f in r.figures]
    return {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "mode": "quick" if options.quick else "full",
        "seed": options.seed,
        "workers": options.workers,
        "corpora": str(options.corpora),
        "machine": machine(),
        "git": git_state(),
        "seconds": round(seconds, 1),
        "goals_met": sum(f.passed is True for f in figures),
        "goals": sum(f.passed is not None for f in figures),
        "sections": [r.as_dict() for r in results],
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", type=Path, help="also write every figure and detail here")
    parser.add_argument("--quick", action="store_true", help="the fast fixed-seed CI subset")
    parser.add_argument("--only", default="", help="comma-separated evaluations, e.g. 2,4")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--corpora", type=Path, default=DEFAULT_CORPORA)
    parser.add_argument("--strict", action="store_true", help="exit 1 when a goal is missed")
    args = parser.parse_args(argv)
    options = EvalOptions(corpora=args.corpora, quick=args.quick, workers=args.workers)
    only = [s.strip() for s in args.only.split(",") if s.strip()]
    start = time.perf_counter()
    try:
        results = run_sections(options, only)
    except (FileNotFoundError, ValueError) as exc:
        print(f"eval: {exc}", file=sys.stderr)
        return 2
    seconds = time.perf_counter() - start
    data = payload(results, options, seconds)
    print(f"briefwatch quality evaluation ({data['mode']}, seed {options.seed}, "
          f"{options.workers} workers, corpora {options.corpora})")
    for result in results:
        print(f"  [{result.section}] {result.title}: {result.seconds:.1f} s")
    print()
    print(table(results))
    git = data["git"]
    print(f"\n{data['goals_met']} of {data['goals']} goals met in {seconds:.0f} s "
          f"(Python {data['machine']['python']}, {data['machine']['cpus']} CPUs, "
          f"commit {git['commit']}, {git['uncommitted_product_files']} uncommitted "
          f"product files)")
    if args.json:
        args.json.write_text(json.dumps(data, indent=2, ensure_ascii=False, default=str),
                             encoding="utf-8")
        print(f"written: {args.json}")
    if args.strict and data["goals_met"] < data["goals"]:
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
