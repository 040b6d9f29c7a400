"""How the statement diff scales: 2,000 vs 20,000 statements of real briefing transcripts.

Statements are real sentences from the White House press-briefing transcripts in
``../shared/corpora/wh-briefings/press-briefings_snapshot_HEAD.tar.gz`` (speaker turns such
as ``MS. JEAN-PIERRE:`` and ``Q``, naive sentence split). Three scenarios per size:

- ``edit5``: 5% of the statements edited - word substitutions, number changes, moves,
  reattributions, insertions and deletions - the normal case; the script also checks
  that exactly the edited statements are flagged;
- ``rewrite50``: half of the statements rewritten (a third of their words replaced), the
  worst case for similarity pairing;
- ``different``: the page replaced by a different one of the same size (other transcripts).

Prints a table with the best-of-N seconds per case and the ratio 20k / 2k (near-linear
scaling gives about 10; quadratic would give about 100).

    .venv/bin/python bench/diff_scaling.py [--json out.json] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
import tarfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

from briefwatch.diff import diff_statements
from briefwatch.model import Statement, StatementKind

ARCHIVE = (
    Path(__file__).resolve().parents[1].parent
    / "shared" / "corpora" / "wh-briefings" / "press-briefings_snapshot_HEAD.tar.gz"
)
SMALL, LARGE = 2_000, 20_000
_LABEL = re.compile(r"^(Q|[A-Z][A-Z.' -]{1,60}?):?\s{2,}|^(Q)\s+|^([A-Z][A-Z.' -]{1,60}):\s+")
_SENTENCE_END = re.compile(r"(?<=[.?!])\s+(?=[\"“(A-Z0-9])")


def transcript_turns(markdown: str) -> Iterator[tuple[str | None, str]]:
    """(speaker, paragraph text) of a press-briefing Markdown file: front matter dropped,
    hard-wrapped lines joined, ``LABEL:`` / ``Q`` turn openers read as the speaker."""
    body = markdown.split("\n---", 1)[1] if markdown.startswith("---") else markdown
    speaker: str | None = None
    for block in re.split(r"\n\s*\n", body):
        text = " ".join(line.strip() for line in block.splitlines()).replace("\u00a0", " ")
        text = text.strip()
        if not text:
            continue
        match = _LABEL.match(text)
        if match:
            speaker = next(g for g in match.groups() if g).strip()
            text = text[match.end():].strip()
        if text:
            yield speaker, text


def load_statements(limit: int) -> list[Statement]:
    """The first ``limit`` sentences of the transcripts, in archive order."""
    statements: list[Statement] = []
    paragraph = 0
    with tarfile.open(ARCHIVE) as archive:
        members = sorted(
            (m for m in archive.getmembers() if m.isfile() and m.name.endswith(".md")),
            key=lambda m: m.name,
        )
        for member in members:
            handle = archive.extractfile(member)
            if handle is None:
                continue
            markdown = handle.read().decode("utf-8", errors="replace")
            for speaker, text in transcript_turns(markdown):
                kind = StatementKind.QUESTION if speaker == "Q" else StatementKind.ANSWER
                for sentence in _SENTENCE_END.split(text):
                    if sentence.strip():
                        statements.append(
                            Statement(sentence.strip(), speaker, kind, paragraph,
                                      len(statements))
                        )
                        if len(statements) == limit:
                            return statements
                paragraph += 1
    return statements


def renumber(statements: list[Statement]) -> tuple[Statement, ...]:
    return tuple(replace(s, position=n) for n, s in enumerate(statements))


def _substitute(text: str, rng: random.Random, vocabulary: list[str], share: float) -> str:
    words = text.split()
    count = max(1, round(len(words) * share))
    for index in rng.sample(range(len(words)), min(count, len(words))):
        words[index] = rng.choice(vocabulary)
    return " ".join(words)


def _change_number(text: str, rng: random.Random) -> str:
    numbers = list(re.finditer(r"\d[\d,]*", text))
    if not numbers:
        return f"{text} ({rng.randint(2, 999)} times)"
    target = rng.choice(numbers)
    return text[: target.start()] + str(rng.randint(1000, 9999)) + text[target.end():]


def edit_five_percent(
    base: list[Statement], pool: list[Statement], seed: int
) -> tuple[tuple[Statement, ...], int]:
    """5% of the statements edited; returns the new version and how many edits were made."""
    rng = random.Random(seed)
    vocabulary = [w for s in pool[:500] for w in s.text.split() if w.isalpha()]
    statements = list(base)
    chosen = rng.sample(range(len(statements)), len(statements) // 20)
    deletions: list[int] = []
    insertions: list[int] = []
    moves: list[int] = []
    for n, index in enumerate(chosen):
        s = statements[index]
        bucket = n % 20
        if bucket < 7:  # word substitution
            statements[index] = replace(s, text=_substitute(s.text, rng, vocabulary, 0.1))
        elif bucket < 11:  # number change
            statements[index] = replace(s, text=_change_number(s.text, rng))
        elif bucket < 13:  # reattribution
            statements[index] = replace(s, speaker="MR. KIRBY" if s.speaker != "MR. KIRBY"
                                        else "MS. JEAN-PIERRE")
        elif bucket < 14:
            moves.append(index)
        elif bucket < 17:
            insertions.append(index)
        else:
            deletions.append(index)
    moved = [statements[i] for i in moves]
    inserted = {i: pool[k] for k, i in enumerate(insertions)}
    drop = set(deletions) | set(moves)
    result: list[Statement] = []
    for index, statement in enumerate(statements):
        if index in inserted:
            result.append(inserted[index])
        if index not in drop:
            result.append(statement)
    for statement in moved:
        result.insert(rng.randrange(len(result) + 1), statement)
    return renumber(result), len(chosen)


def rewrite_half(base: list[Statement], pool: list[Statement], seed: int) -> tuple[Statement, ...]:
    rng = random.Random(seed)
    vocabulary = [w for s in pool[:500] for w in s.text.split() if w.isalpha()]
    statements = list(base)
    for index in rng.sample(range(len(statements)), len(statements) // 2):
        s = statements[index]
        statements[index] = replace(s, text=_substitute(s.text, rng, vocabulary, 1 / 3))
    return renumber(statements)


def best_time(run: Callable[[], object], repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - start)
    return best


def measure(size: int, corpus: list[Statement], repeat: int) -> dict[str, dict[str, object]]:
    old = renumber(corpus[:size])
    pool = corpus[size: 2 * size]
    results: dict[str, dict[str, object]] = {}

    new, edits = edit_five_percent(list(old), pool, seed=size)
    changes = diff_statements(old, new)
    counts = Counter(c.type.value for c in changes)
    results["edit5"] = {
        "seconds": best_time(lambda: diff_statements(old, new), repeat),
        "edits": edits,
        "flagged": len(changes),
        "counts": dict(counts),
    }
    rewritten = rewrite_half(list(old), pool, seed=size + 1)
    changes = diff_statements(old, rewritten)
    results["rewrite50"] = {
        "seconds": best_time(lambda: diff_statements(old, rewritten), repeat),
        "flagged": len(changes),
        "counts": dict(Counter(c.type.value for c in changes)),
    }
    other = renumber(list(pool))
    changes = diff_statements(old, other)
    results["different"] = {
        "seconds": best_time(lambda: diff_statements(old, other), repeat),
        "flagged": len(changes),
        "counts": dict(Counter(c.type.value for c in changes)),
    }
    results["identical"] = {
        "seconds": best_time(lambda: diff_statements(old, old), repeat),
        "flagged": len(diff_statements(old, old)),
    }
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path, help="write the figures to this JSON file")
    parser.add_argument("--repeat", type=int, default=3, help="runs per case (best is kept)")
    args = parser.parse_args(argv)
    if not ARCHIVE.exists():
        print(f"corpus not found: {ARCHIVE}", file=sys.stderr)
        return 2
    corpus = load_statements(2 * LARGE)
    if len(corpus) < 2 * LARGE:
        print(f"corpus too small: {len(corpus)} statements", file=sys.stderr)
        return 2
    small = measure(SMALL, corpus, args.repeat)
    large = measure(LARGE, corpus, args.repeat)
    print(f"{'case':<10} {'2k s':>8} {'20k s':>8} {'20k/2k':>7}  flagged 2k / 20k")
    table: dict[str, object] = {}
    for case in small:
        t_small = float(small[case]["seconds"])  # type: ignore[arg-type]
        t_large = float(large[case]["seconds"])  # type: ignore[arg-type]
        ratio = t_large / t_small if t_small > 0 else float("nan")
        print(f"{case:<10} {t_small:8.3f} {t_large:8.3f} {ratio:7.1f}  "
              f"{small[case]['flagged']} / {large[case]['flagged']}")
        table[case] = {"2k": small[case], "20k": large[case], "ratio": ratio}
    for label, res in (("2k", small), ("20k", large)):
        print(f"edit5 {label}: {res['edit5']['edits']} edits -> {res['edit5']['counts']}")
    if args.json:
        args.json.write_text(json.dumps(table, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

