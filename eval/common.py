"""What every evaluation shares: options, the figure/result records, sampling, a 2-worker map."""

from __future__ import annotations

import multiprocessing
import os
import random
import re
import tempfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, TypeVar

from briefwatch.textnorm import match_key

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_CORPORA = ROOT.parent / "shared" / "corpora"
SEED = 20240601

T = TypeVar("T")
R = TypeVar("R")

Comparison = Literal[">=", "<=", "=="]


@dataclass(frozen=True, slots=True)
class EvalOptions:
    """How to run the evaluations."""

    corpora: Path = DEFAULT_CORPORA
    quick: bool = False  # the fast CI subset (fixed seeds)
    workers: int = 2
    seed: int = SEED
    examples: int = 8  # examples kept per category of miss / exception


@dataclass(frozen=True, slots=True)
class Figure:
    """One measured figure beside its goal (or a reference measured in the same run)."""

    section: str
    name: str
    value: float
    goal: float | None = None  # None: informational, no goal
    comparison: Comparison = ">="
    unit: Literal["share", "count", "score"] = "share"
    reference: str = ""  # how the goal was obtained, when it is measured (e.g. trafilatura)
    support: str = ""  # what the figure is computed over ("58 pages, 4,312 turns")

    @property
    def passed(self) -> bool | None:
        if self.goal is None:
            return None
        if self.comparison == ">=":
            return self.value >= self.goal - 1e-12
        if self.comparison == "<=":
            return self.value <= self.goal + 1e-12
        return abs(self.value - self.goal) < 1e-12

    def as_dict(self) -> dict[str, Any]:
        return {
            "section": self.section,
            "name": self.name,
            "value": self.value,
            "goal": self.goal,
            "comparison": self.comparison,
            "unit": self.unit,
            "reference": self.reference,
            "support": self.support,
            "passed": self.passed,
        }


@dataclass(slots=True)
class SectionResult:
    """What one evaluation returns: its figures and JSON-able details (examples, counts)."""

    section: str
    title: str
    figures: list[Figure] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0

    def figure(self, name: str) -> Figure:
        for fig in self.figures:
            if fig.name == name:
                return fig
        raise KeyError(f"{self.section}: no figure {name!r}")

    def as_dict(self) -> dict[str, Any]:
        return {
            "section": self.section,
            "title": self.title,
            "seconds": round(self.seconds, 2),
            "figures": [f.as_dict() for f in self.figures],
            "details": self.details,
        }


class CorpusMissingError(FileNotFoundError):
    """A corpus the evaluation needs is not where it should be."""


def corpus(options: EvalOptions, name: str) -> Path:
    path = options.corpora / name
    if not path.exists():
        raise CorpusMissingError(f"corpus not found: {path}")
    return path


def share(part: int, whole: int) -> float:
    """part / whole, and 1.0 for an empty whole (nothing to get wrong)."""
    return part / whole if whole else 1.0


def sample(items: Sequence[T], count: int, seed: int) -> list[T]:
    """A fixed-seed sample of ``count`` items in their original order (all if fewer)."""
    if count >= len(items):
        return list(items)
    chosen = sorted(random.Random(seed).sample(range(len(items)), count))
    return [items[i] for i in chosen]


def parallel_map(
    func: Callable[[T], R], items: Sequence[T], workers: int, chunksize: int = 4
) -> list[R]:
    """``[func(x) for x in items]`` on ``workers`` processes (in order); serial for 1 worker."""
    if workers <= 1 or len(items) < 2:
        return [func(item) for item in items]
    context = multiprocessing.get_context("fork")
    with context.Pool(workers) as pool:
        return pool.map(func, items, chunksize=chunksize)


@contextmanager
def scratch_dir(prefix: str) -> Iterator[Path]:
    """A temporary directory, in memory (/dev/shm) when the machine has it."""
    base = "/dev/shm" if os.access("/dev/shm", os.W_OK) else None
    with tempfile.TemporaryDirectory(prefix=prefix, dir=base) as tmp:
        yield Path(tmp)


_WORD = re.compile(r"\w+")


def words(text: str | None) -> list[str]:
    """Lower-cased word tokens of a text after typographic folding."""
    return _WORD.findall(match_key(text or "").lower())


def norm_label(label: str | None) -> str:
    """A speaker label compared across sources: folded, spaces collapsed, upper case."""
    return " ".join(match_key(label or "").upper().split()).rstrip(":").strip()


def examples(items: Iterable[T], count: int) -> list[T]:
    out: list[T] = []
    for item in items:
        if len(out) >= count:
            break
        out.append(item)
    return out
