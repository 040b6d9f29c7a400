"""Long fuzzing run of briefwatch's parsers and diff (issue 7).

    python -m reliability.fuzz --inputs 100000 [--seed N] [--jobs 2] [--only NAME ...] [--json]

Runs every property of :mod:`reliability.fuzz_checks` with hypothesis, the inputs spread
over the properties by their share, each property split into ``--jobs`` chunks with their
own seeds (run in parallel processes). Prints inputs, failures and time per property; exits
1 when a property fails, printing the minimal (shrunk) failing example. Also checks that
parsing and diffing do not depend on Python's string-hash seed (two subprocesses with
different ``PYTHONHASHSEED`` digest the same derandomized inputs).

The CI suite (``tests/system/test_fuzz.py``) runs the same properties with a few hundred
derandomized examples.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import subprocess
import sys
import time
import traceback
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, Phase, given, seed, settings

ROOT = Path(__file__).resolve().parents[1]
CHUNK = 2_000  # most examples one hypothesis run (one seed) gets


@dataclass
class Outcome:
    """What one chunk (or, summed, one property) of the run gave."""

    name: str
    inputs: int = 0
    seconds: float = 0.0
    failures: list[str] = field(default_factory=list)


def long_settings(examples: int) -> settings:
    return settings(
        max_examples=examples,
        database=None,
        deadline=None,
        derandomize=False,
        suppress_health_check=list(HealthCheck),
        phases=(Phase.generate, Phase.shrink),
        report_multiple_bugs=False,
        print_blob=True,
    )


def run_chunk(name: str, examples: int, chunk_seed: int) -> Outcome:
    """Run one property for ``examples`` inputs with ``chunk_seed`` (in a worker process)."""
    from reliability.fuzz_checks import PROPERTY_BY_NAME

    logging.getLogger("bs4").setLevel(logging.ERROR)  # "characters could not be decoded"
    prop = PROPERTY_BY_NAME[name]
    outcome = Outcome(name)
    calls = [0]

    def body(value: Any) -> None:
        calls[0] += 1
        prop.check(value)

    test = seed(chunk_seed)(long_settings(examples)(given(prop.strategy)(body)))
    started = time.perf_counter()
    try:
        test()
    except Exception as exc:  # a property failed: keep the shrunk example and the reason
        outcome.failures.append("".join(traceback.format_exception(exc, limit=-3)).strip())
    outcome.inputs = calls[0]
    outcome.seconds = time.perf_counter() - started
    return outcome


def plan(total: int, names: Sequence[str], jobs: int, base_seed: int) -> list[tuple[str, int,
                                                                                     int]]:
    """(property, examples, seed) chunks: ``total`` spread by share, each split ``jobs`` ways."""
    from reliability.fuzz_checks import PROPERTY_BY_NAME

    props = [PROPERTY_BY_NAME[n] for n in names]
    weight = sum(p.share for p in props)
    chunks = []
    for k, prop in enumerate(props):
        examples = max(1, round(total * prop.share / weight))
        # at least one chunk per worker, at most CHUNK examples each (hypothesis keeps a tree
        # of every example of a run: long runs grow slow and big)
        count = max(jobs, -(-examples // CHUNK))
        per_chunk = -(-examples // count)
        for j in range(count):
            chunks.append((prop.name, per_chunk, base_seed * 100_000 + k * 1000 + j))
    return sorted(chunks, key=lambda chunk: chunk[2] % 1000)  # every property early on


def hashseed_digest(count: int) -> str:
    """Digest of parse and diff results over derandomized inputs (run per hash seed)."""
    import hashlib

    from hypothesis import strategies as st

    from briefwatch.diff import diff_statements
    from reliability import fuzz_inputs as fi
    from reliability.fuzz_checks import parse_or_none

    digest = hashlib.sha256()

    @settings(max_examples=count, database=None, deadline=None, derandomize=True,
              suppress_health_check=list(HealthCheck), phases=(Phase.generate,))
    @given(st.one_of(fi.html_inputs, fi.text_inputs, fi.markdown_inputs), fi.diff_case())
    def digest_inputs(case: fi.ParseInput, edits: fi.DiffCase) -> None:
        doc = parse_or_none(case)
        digest.update(repr(doc).encode() if doc is None else doc.content_hash().encode())
        digest.update(repr(diff_statements(edits.old, edits.new)).encode())

    digest_inputs()
    return digest.hexdigest()


def check_hashseed(count: int) -> Outcome:
    """Same inputs, two PYTHONHASHSEED values: the digests must be equal."""
    outcome = Outcome("hash_seed_independence", inputs=count)
    started = time.perf_counter()
    digests = []
    for hash_seed in ("1", "4242"):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        proc = subprocess.run(
            [sys.executable, "-m", "reliability.fuzz", "--digest", str(count)],
            cwd=ROOT, env=env, capture_output=True, text=True, check=False,
        )
        if proc.returncode != 0:
            outcome.failures.append(f"digest run failed: {proc.stderr[-2000:]}")
            return outcome
        digests.append(proc.stdout.strip())
    if digests[0] != digests[1]:
        outcome.failures.append(f"results depend on the hash seed: {digests}")
    outcome.seconds = time.perf_counter() - started
    return outcome


def merge(outcomes: Sequence[Outcome]) -> list[Outcome]:
    merged: dict[str, Outcome] = {}
    for o in outcomes:
        m = merged.setdefault(o.name, Outcome(o.name))
        m.inputs += o.inputs
        m.seconds += o.seconds
        m.failures.extend(o.failures)
    return list(merged.values())


def main(argv: Sequence[str] | None = None) -> int:
    from reliability.fuzz_checks import PROPERTIES

    parser = argparse.ArgumentParser(prog="python -m reliability.fuzz", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--inputs", type=int, default=100_000, help="total inputs (default 100000)")
    parser.add_argument("--seed", type=int, default=0, help="base seed (default 0)")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1,
                        help="worker processes (default: CPU count)")
    parser.add_argument("--only", nargs="+", choices=[p.name for p in PROPERTIES],
                        help="run only these properties")
    parser.add_argument("--hashseed-inputs", type=int, default=300,
                        help="inputs of the hash-seed independence check (0: skip)")
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    parser.add_argument("--digest", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.digest is not None:
        print(hashseed_digest(args.digest))
        return 0

    names = args.only or [p.name for p in PROPERTIES]
    chunks = plan(args.inputs, names, max(1, args.jobs), args.seed)
    started = time.perf_counter()
    done: list[Outcome] = []
    with ProcessPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        futures = [pool.submit(run_chunk, *chunk) for chunk in chunks]
        for future in as_completed(futures):
            done.append(future.result())
            last = done[-1]
            print(f"[{len(done)}/{len(chunks)}] {last.name}: {last.inputs:,} inputs, "
                  f"{last.seconds:.0f} s, {'FAILED' if last.failures else 'ok'}",
                  file=sys.stderr, flush=True)
    outcomes = merge(sorted(done, key=lambda o: names.index(o.name)))
    if args.hashseed_inputs > 0:
        outcomes.append(check_hashseed(args.hashseed_inputs))
    wall = time.perf_counter() - started
    report(outcomes, wall, args)
    return 1 if any(o.failures for o in outcomes) else 0


def report(outcomes: Sequence[Outcome], wall: float, args: argparse.Namespace) -> None:
    total = sum(o.inputs for o in outcomes)
    failed = [o for o in outcomes if o.failures]
    if args.json:
        print(json.dumps({
            "inputs": total, "wall_seconds": round(wall, 1), "seed": args.seed,
            "jobs": args.jobs, "failed": len(failed),
            "properties": [asdict(o) | {"seconds": round(o.seconds, 1)} for o in outcomes],
        }, indent=2))
        return
    print(f"{'property':<24} {'inputs':>8} {'cpu s':>8}  result")
    for o in outcomes:
        print(f"{o.name:<24} {o.inputs:>8,} {o.seconds:>8.1f}  "
              f"{'FAILED' if o.failures else 'ok'}")
    print(f"{'total':<24} {total:>8,}  wall {wall:.0f} s, seed {args.seed}, jobs {args.jobs}; "
          f"{len(failed)} propert{'y' if len(failed) == 1 else 'ies'} failed")
    for o in failed:
        for failure in o.failures:
            print(f"\n=== {o.name}: minimal failing example ===\n{failure}")


if __name__ == "__main__":
    sys.exit(main())
