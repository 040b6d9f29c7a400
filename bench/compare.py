"""Two ``bench.run_all --json`` outputs side by side (e.g. before and after a change).

    .venv/bin/python -m bench.compare BEFORE.json AFTER.json

Prints one Markdown table per section: each figure's value in both runs and its goal,
judged on the second run.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from bench.run_all import _fmt


def load(path: Path) -> list[dict[str, Any]]:
    figures: list[dict[str, Any]] = json.loads(path.read_text(encoding="utf-8"))["figures"]
    return figures


def compare(before: list[dict[str, Any]], after: list[dict[str, Any]]) -> str:
    old = {(f["section"], f["name"]): f for f in before}
    lines: list[str] = []
    section = None
    for fig in after:
        if fig["section"] != section:
            section = fig["section"]
            lines += ["", f"### {section}", "", "| figure | before | after | goal |",
                      "|---|---|---|---|"]
        prior = old.get((fig["section"], fig["name"]))
        was = _fmt(prior["value"], prior["unit"]) if prior else "–"
        verdict = "" if fig["met"] is None else (" — met" if fig["met"] else " — **missed**")
        goal = f"{fig['goal']}{verdict}" if fig["goal"] else ""
        lines.append(f"| {fig['name']} | {was} | {_fmt(fig['value'], fig['unit'])} | {goal} |")
    return "\n".join(lines).lstrip() + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("before", type=Path)
    parser.add_argument("after", type=Path)
    args = parser.parse_args(argv)
    print(compare(load(args.before), load(args.after)), end="")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
