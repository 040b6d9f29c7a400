"""Statement-level diff between two versions of a page.

Pure functions: no I/O. The pipeline, in order:

1. **Exact matches** on ``Statement.key`` (typographic quotes, apostrophes, dashes and
   spacing do not count). First a patience-style alignment: statements whose key and
   speaker are unique on both sides anchor the alignment (common prefix and suffix
   first), the anchors are
   reduced to their longest in-order chain, and the stretches between anchors are aligned
   the same way, recursively; where no key is unique, equal keys are matched in order
   (same speaker first). Then the statements still unmatched are matched as multisets
   across the whole page, duplicates in order (same speaker first). Matching copies
   locally first keeps the many repeated lines of a transcript ("Thank you.", "Go
   ahead.") from being paired with a copy far away, which would make them look moved.
2. **Moves**: among all exact matches, the longest chain increasing in both old and new
   position is "in place"; every other exact match is ``moved``. A sentence moved from the
   top to the bottom is therefore one move, not N.
3. **Reattribution**: an exact match whose speaker differs is ``reattributed`` (whether or
   not it also moved: who said it matters more than where it stands).
4. **Similarity pairing** of what is left: candidate pairs come from an inverted index on
   the rarest word tokens (so the work per statement is bounded) plus, for small stretches,
   every leftover between the same two in-place anchors ("region"). Candidates are scored
   by word-level similarity ``2 * LCS / (len_old + len_new)`` over lowercased word tokens,
   computed exactly with a bit-parallel LCS after cheap upper bounds; pairs at or above
   :attr:`DiffOptions.similarity_threshold` (or where the shorter statement recurs almost
   whole in the longer one, see :class:`DiffOptions`) are taken greedily, best first, ties
   going to pairs in the same region, then to the same speaker, then to nearer positions.
   A pair is ``changed``, with a word diff (:func:`word_diff`) and number changes
   (:func:`briefwatch.diff.numbers.number_changes`). A changed statement whose speaker also
   changed is still ``changed``; ``Change.old_speaker`` shows the old speaker.
5. Leftovers are ``removed`` (old side) or ``added`` (new side).

A sentence split in two is reported as the better-matching half ``changed`` plus the other
half ``added``; two sentences merged into one as ``changed`` plus ``removed``.

Every step is symmetric, so ``diff(b, a)`` is the mirror of ``diff(a, b)``: added and
removed swap, and ``changed`` pairs swap their old and new sides (and their numbers).

Order of the result: a report reads top to bottom in the *new* document. A change with a
new statement sits at that statement's index in ``new``; a removed statement sits right
after the new counterpart of the nearest statement before it in ``old`` that is still
there (in place, or changed within the same stretch), and before anything that follows.
Ties keep old order. Note that ``Change.position`` is the statement's own ``position``
(the old one for removals), so it is not monotonic over the result.
"""

from __future__ import annotations

import json
import re
from bisect import bisect_left, bisect_right
from collections import Counter, defaultdict
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher
from functools import lru_cache
from itertools import pairwise
from typing import Any

from deepdiff import DeepDiff

from briefwatch.contract import TitleChange
from briefwatch.diff.numbers import extract_numbers, number_changes
from briefwatch.model import (
    Change,
    ChangeType,
    Document,
    PageDiff,
    Statement,
    WordOp,
)
from briefwatch.textnorm import clean_text, match_key

__all__ = [
    "DiffOptions",
    "diff_documents",
    "diff_statements",
    "extract_numbers",
    "metadata_changes",
    "number_changes",
    "similarity",
    "word_diff",
]

_WORD = re.compile(r"\w+")
_MAX_PATIENCE_DEPTH = 8


@dataclass(frozen=True, slots=True)
class DiffOptions:
    """Tuning of the statement diff.

    similarity_threshold: lowest word similarity (0..1) at which a removed and an added
        statement are reported as one ``changed`` statement instead.
    max_candidates: candidates taken from the word index per statement and direction.
    rare_tokens: how many of a statement's rarest word tokens are looked up in the index.
    max_posting: postings read from the word index per statement and direction (rarest
        words first); this bounds the work per statement.
    region_window: when the stretch between two in-place anchors holds at most this many
        leftovers on the other side, all of them are candidates too (catches edits to short
        sentences made of common words).
    containment_threshold, containment_min_words: a pair below the similarity threshold is
        still ``changed`` when the shorter statement has at least ``containment_min_words``
        words and at least this share of them recurs, in order, in the longer one - a
        sentence extended by a long clause ("X." -> "X, which ... ."). Its ``similarity``
        stays the (low) word similarity, and such pairs come after all others.
    """

    similarity_threshold: float = 0.5
    max_candidates: int = 8
    rare_tokens: int = 6
    max_posting: int = 32
    region_window: int = 8
    containment_threshold: float = 0.9
    containment_min_words: int = 6

    def __post_init__(self) -> None:
        for name in ("similarity_threshold", "containment_threshold"):
            if not 0.0 < getattr(self, name) <= 1.0:
                raise ValueError(f"{name} must be in (0, 1]")
        if self.containment_min_words < 1:
            raise ValueError("containment_min_words must be at least 1")
        for name in ("max_candidates", "rare_tokens", "max_posting"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1")
        if self.region_window < 0:
            raise ValueError("region_window must not be negative")


_DEFAULT_OPTIONS = DiffOptions()


# --------------------------------------------------------------------------- documents


def diff_documents(
    old: Document, new: Document, options: DiffOptions = _DEFAULT_OPTIONS
) -> PageDiff:
    """Everything that changed between two versions of one page."""
    return PageDiff(
        changes=diff_statements(old.statements, new.statements, options),
        metadata_changes=metadata_changes(old.metadata(), new.metadata()),
        title_change=_title_change(old.title, new.title),
    )


def metadata_changes(old_meta: dict[str, Any], new_meta: dict[str, Any]) -> dict[str, Any]:
    """DeepDiff of two metadata dicts as JSON data; typography-only differences vanish."""
    neutral = {
        name: _typography_neutral(old_meta.get(name), value) for name, value in new_meta.items()
    }
    result: dict[str, Any] = json.loads(DeepDiff(old_meta, neutral).to_json())
    return result


def _typography_neutral(old: Any, new: Any) -> Any:
    """``new`` with every string that equals its old counterpart up to typography replaced
    by the old string, so that DeepDiff only sees real changes."""
    if isinstance(old, str) and isinstance(new, str):
        return old if match_key(old) == match_key(new) else new
    if isinstance(old, list) and isinstance(new, list):
        by_key: dict[str, str] = {}
        for item in old:
            if isinstance(item, str):
                by_key.setdefault(match_key(item), item)
        return [by_key.get(match_key(item), item) if isinstance(item, str) else item
                for item in new]
    return new


def _title_change(old: str | None, new: str | None) -> TitleChange | None:
    if old is None and new is None:
        return None
    if old is not None and new is not None and match_key(old) == match_key(new):
        return None
    return {"old": old, "new": new}


# --------------------------------------------------------------------------- words


@lru_cache(maxsize=65536)
def _token_key(token: str) -> str:
    return match_key(token)


def word_diff(old_text: str, new_text: str) -> tuple[tuple[WordOp, str], ...]:
    """Word-level diff of two texts as runs of ``("equal" | "delete" | "insert", words)``.

    Words are whitespace-separated tokens of the cleaned text, compared by ``match_key``
    (so a curly apostrophe is equal to a straight one); the words of a run are joined by
    single spaces. Equal runs show the new wording. In each stretch that differs the
    deletions come before the insertions. The equal and insert runs, in order, are the
    words of the new text; swapping the arguments mirrors the result (insert <-> delete).
    """
    old_tokens = clean_text(old_text).split()
    new_tokens = clean_text(new_text).split()
    old_keys = [_token_key(t) for t in old_tokens]
    new_keys = [_token_key(t) for t in new_tokens]
    # difflib breaks ties by position: align in one canonical direction, mirror if needed.
    if old_keys <= new_keys:
        opcodes = _opcodes(old_keys, new_keys)
    else:
        opcodes = [(tag, i1, i2, j1, j2) for tag, j1, j2, i1, i2 in _opcodes(new_keys, old_keys)]
    runs: list[tuple[WordOp, list[str]]] = []
    for tag, i1, i2, j1, j2 in opcodes:
        if tag == "equal":
            _extend(runs, "equal", new_tokens[j1:j2])
        else:
            _extend(runs, "delete", old_tokens[i1:i2])
            _extend(runs, "insert", new_tokens[j1:j2])
    return tuple((op, " ".join(words)) for op, words in runs)


def _opcodes(a: list[str], b: list[str]) -> list[tuple[str, int, int, int, int]]:
    matcher = SequenceMatcher(None, a, b, autojunk=False)
    return [(tag, i1, i2, j1, j2) for tag, i1, i2, j1, j2 in matcher.get_opcodes()]


def _extend(runs: list[tuple[WordOp, list[str]]], op: WordOp, words: list[str]) -> None:
    if not words:
        return
    if runs and runs[-1][0] == op:
        runs[-1][1].extend(words)
    else:
        runs.append((op, list(words)))


def _words(key: str) -> tuple[str, ...]:
    return tuple(_WORD.findall(key.casefold()))


def similarity(old_text: str, new_text: str) -> float:
    """Word similarity ``2 * LCS / (len_old + len_new)`` over lowercased word tokens.

    1.0 means the same words in the same order (only punctuation, case or typography
    differ); 0.0 means no word in common, or no words at all.
    """
    a = _words(match_key(old_text))
    b = _words(match_key(new_text))
    if not a or not b:
        return 0.0
    return 2.0 * _lcs_length(_masks(a), len(a), b) / (len(a) + len(b))


def _masks(words: Sequence[str]) -> dict[str, int]:
    masks: dict[str, int] = {}
    for index, word in enumerate(words):
        masks[word] = masks.get(word, 0) | (1 << index)
    return masks


def _lcs_length(masks: dict[str, int], length: int, other: Iterable[str]) -> int:
    """Length of the longest common subsequence, bit-parallel (Allison-Dix / Hyyro)."""
    full = (1 << length) - 1
    row = full
    for word in other:
        match = masks.get(word)
        if match:
            low = row & match
            row = (row + low) | (row - low)
    return length - (row & full).bit_count()


# --------------------------------------------------------------------------- statements


Pair = tuple[int, int]


def diff_statements(
    old: Sequence[Statement],
    new: Sequence[Statement],
    options: DiffOptions = _DEFAULT_OPTIONS,
) -> tuple[Change, ...]:
    """Statement-level changes from ``old`` to ``new``, in report order (module docstring).

    Indices into the sequences are what counts, not ``Statement.position``.
    """
    old_keys = [s.key for s in old]  # Statement.key is match_key(text), computed once
    new_keys = [s.key for s in new]
    old_speakers = [s.speaker for s in old]
    new_speakers = [s.speaker for s in new]

    exact = _exact_matches(old_keys, new_keys, old_speakers, new_speakers)
    in_place = _chain(exact, old_keys)
    anchors = _Anchors(in_place, len(new))
    left_old = _unmatched(len(old), {i for i, _ in exact})
    left_new = _unmatched(len(new), {j for _, j in exact})
    similar = _pair_similar(
        left_old, left_new, old_keys, new_keys, old_speakers, new_speakers, anchors, options
    )

    ranked: list[tuple[tuple[int, int, int], Change]] = []
    in_place_set = set(in_place)
    for i, j in exact:
        if old_speakers[i] != new_speakers[j]:
            ranked.append(((j, 1, i), Change(ChangeType.REATTRIBUTED, old[i], new[j])))
        elif (i, j) not in in_place_set:
            ranked.append(((j, 1, i), Change(ChangeType.MOVED, old[i], new[j])))
    for i, j, score in similar:
        ranked.append(((j, 1, i), _changed(old[i], new[j], score)))
    paired_new = {j for _, j, _ in similar}
    for j in left_new:
        if j not in paired_new:
            ranked.append(((j, 1, -1), Change(ChangeType.ADDED, None, new[j])))
    paired_old = {i for i, _, _ in similar}
    placer = _RemovalPlacer(anchors, [(i, j) for i, j, _ in similar])
    for i in left_old:
        if i not in paired_old:
            ranked.append(((placer.place(i), 2, i), Change(ChangeType.REMOVED, old[i], None)))
    ranked.sort(key=lambda item: item[0])
    return tuple(change for _, change in ranked)


def _exact_matches(
    old_keys: Sequence[str],
    new_keys: Sequence[str],
    old_speakers: Sequence[str | None],
    new_speakers: Sequence[str | None],
) -> list[Pair]:
    """All exact (key) matches: local alignment first, then page-wide, then uncrossed."""
    exact = _patience(old_keys, new_keys, old_speakers, new_speakers)
    exact += _match_in_order(
        _unmatched(len(old_keys), {i for i, _ in exact}),
        _unmatched(len(new_keys), {j for _, j in exact}),
        old_keys, new_keys, old_speakers, new_speakers,
    )
    return _untranspose(exact, old_keys)


def _unmatched(length: int, matched: set[int]) -> list[int]:
    return [n for n in range(length) if n not in matched]


_QUOTED = re.compile(r'"([^"]+)"')


def quoted_words(text: str) -> str:
    """The words inside double quotes of a statement (comparison form), "" when none."""
    return " ".join(_QUOTED.findall(match_key(text))).strip()


def _is_reattribution(old: Statement, new: Statement) -> bool:
    """A quote whose quoted words are the same but whose attribution names another speaker:
    '"…," Dillon noted.' -> '"…," Navy Capt. Jeff Davis noted.'"""
    if old.speaker == new.speaker or old.speaker is None or new.speaker is None:
        return False
    quoted = quoted_words(old.text)
    return len(quoted.split()) >= 3 and quoted == quoted_words(new.text)


def _changed(old: Statement, new: Statement, score: float) -> Change:
    kind = ChangeType.REATTRIBUTED if _is_reattribution(old, new) else ChangeType.CHANGED
    return Change(
        kind,
        old,
        new,
        numbers=number_changes(old.text, new.text),
        words=word_diff(old.text, new.text),
        similarity=round(score, 4),
    )


# ------------------------------------------------------------------ exact alignment


def _patience(
    old_keys: Sequence[str],
    new_keys: Sequence[str],
    old_speakers: Sequence[str | None],
    new_speakers: Sequence[str | None],
) -> list[Pair]:
    """Non-crossing exact matches: common ends, unique anchors, recursively.

    Ends and anchors compare key *and* speaker; key-only matches (reattributions) are
    made where no anchor is left, in order, so that equal keys never cross.
    """
    old_tok = list(zip(old_keys, old_speakers, strict=True))
    new_tok = list(zip(new_keys, new_speakers, strict=True))
    pairs: list[Pair] = []
    stack = [(0, len(old_keys), 0, len(new_keys), 0)]
    while stack:
        olo, ohi, nlo, nhi, depth = stack.pop()
        while olo < ohi and nlo < nhi and old_tok[olo] == new_tok[nlo]:
            pairs.append((olo, nlo))
            olo, nlo = olo + 1, nlo + 1
        while olo < ohi and nlo < nhi and old_tok[ohi - 1] == new_tok[nhi - 1]:
            pairs.append((ohi - 1, nhi - 1))
            ohi, nhi = ohi - 1, nhi - 1
        if olo == ohi or nlo == nhi:
            continue
        anchors = [] if depth >= _MAX_PATIENCE_DEPTH else _unique_pairs(
            old_tok, new_tok, olo, ohi, nlo, nhi
        )
        if not anchors:
            found = _match_in_order(
                range(olo, ohi), range(nlo, nhi),
                old_keys, new_keys, old_speakers, new_speakers,
            )
            pairs.extend(_chain(_uncross(found, old_keys), old_keys))
            continue
        chain = _chain(_uncross(anchors, old_keys), old_keys)
        pairs.extend(chain)
        bounds = [(olo - 1, nlo - 1), *chain, (ohi, nhi)]
        for (i0, j0), (i1, j1) in pairwise(bounds):
            if i1 - i0 > 1 and j1 - j0 > 1:
                stack.append((i0 + 1, i1, j0 + 1, j1, depth + 1))
    return pairs


def _untranspose(pairs: list[Pair], old_keys: Sequence[str]) -> list[Pair]:
    """Replace each swapped couple of copies, (a, b) and (b, a), by (a, a) and (b, b).

    Such a couple is the one case where the in-place chain cannot choose symmetrically
    (old and new look the same from both sides), and in order is the natural reading.
    Other crossings of copies are left alone: re-pairing them all in order would let one
    copy inserted far away shift every copy in between, flagging each as moved.
    """
    present = set(pairs)
    return [
        (i, i) if i != j and (j, i) in present and old_keys[i] == old_keys[j] else (i, j)
        for i, j in pairs
    ]


def _uncross(pairs: list[Pair], old_keys: Sequence[str]) -> list[Pair]:
    """Re-pair the matched copies of each key in order (k-th old with k-th new).

    Used inside one stretch of the alignment, where copies of a line that match crosswise
    (same text, different speakers) would otherwise make one of them look moved.
    """
    olds: dict[str, list[int]] = defaultdict(list)
    news: dict[str, list[int]] = defaultdict(list)
    for i, j in pairs:
        olds[old_keys[i]].append(i)
        news[old_keys[i]].append(j)
    result: list[Pair] = []
    for key, old_list in olds.items():
        result.extend(zip(sorted(old_list), sorted(news[key]), strict=True))
    return result


def _unique_pairs(
    old_keys: Sequence[Hashable], new_keys: Sequence[Hashable],
    olo: int, ohi: int, nlo: int, nhi: int,
) -> list[Pair]:
    old_count = Counter(old_keys[olo:ohi])
    new_where: dict[Hashable, int] = {}
    new_count: Counter[Hashable] = Counter()
    for j in range(nlo, nhi):
        key = new_keys[j]
        new_count[key] += 1
        new_where[key] = j
    return [
        (i, new_where[old_keys[i]])
        for i in range(olo, ohi)
        if old_count[old_keys[i]] == 1 and new_count.get(old_keys[i]) == 1
    ]


def _match_in_order(
    old_idx: Iterable[int],
    new_idx: Iterable[int],
    old_keys: Sequence[str],
    new_keys: Sequence[str],
    old_speakers: Sequence[str | None],
    new_speakers: Sequence[str | None],
) -> list[Pair]:
    """Multiset matching of equal keys, k-th with k-th: same speaker first, then any."""
    old_list = list(old_idx)
    new_list = list(new_idx)
    first = _kth_with_kth(
        old_list, new_list,
        lambda i: (old_keys[i], old_speakers[i]), lambda j: (new_keys[j], new_speakers[j]),
    )
    used_old = {i for i, _ in first}
    used_new = {j for _, j in first}
    second = _kth_with_kth(
        [i for i in old_list if i not in used_old],
        [j for j in new_list if j not in used_new],
        lambda i: (old_keys[i], None), lambda j: (new_keys[j], None),
    )
    return first + second


def _kth_with_kth(
    old_list: list[int],
    new_list: list[int],
    old_class: Callable[[int], tuple[str, str | None]],
    new_class: Callable[[int], tuple[str, str | None]],
) -> list[Pair]:
    queues: dict[tuple[str, str | None], list[int]] = defaultdict(list)
    for i in old_list:
        queues[old_class(i)].append(i)
    taken: dict[tuple[str, str | None], int] = defaultdict(int)
    pairs: list[Pair] = []
    for j in new_list:
        cls = new_class(j)
        queue = queues.get(cls)
        if queue is not None and taken[cls] < len(queue):
            pairs.append((queue[taken[cls]], j))
            taken[cls] += 1
    return pairs


def _chain(pairs: Sequence[Pair], old_keys: Sequence[str]) -> list[Pair]:
    """Longest chain of pairs increasing in both coordinates, chosen symmetrically.

    Patience sorting gives every pair its level (length of the longest chain ending
    there); the chain is then rebuilt from the top level down, each time taking among the
    admissible pairs the one nearest the diagonal, then by key, then by ``i + j`` -
    criteria that do not change when old and new are swapped.
    """
    if not pairs:
        return []
    tails: list[int] = []
    level_i: list[list[int]] = []
    level_negj: list[list[int]] = []
    for i, j in sorted(pairs):
        level = bisect_left(tails, j)
        if level == len(tails):
            tails.append(j)
            level_i.append([])
            level_negj.append([])
        else:
            tails[level] = j
        level_i[level].append(i)
        level_negj[level].append(-j)  # within a level i rises and j falls

    def rank(i: int, j: int) -> tuple[int, str, int]:
        return (abs(i - j), old_keys[i], i + j)

    chain: list[Pair] = []
    bound_i = bound_j = 1 << 62
    for level in range(len(tails) - 1, -1, -1):
        is_, negjs = level_i[level], level_negj[level]
        hi = bisect_left(is_, bound_i)
        lo = bisect_right(negjs, -bound_j)
        best = lo if hi - lo == 1 else min(
            range(lo, hi), key=lambda k: rank(is_[k], -negjs[k])
        )
        bound_i, bound_j = is_[best], -negjs[best]
        chain.append((bound_i, bound_j))
    chain.reverse()
    return chain


class _Anchors:
    """The in-place chain, for region look-ups."""

    def __init__(self, chain: list[Pair], new_length: int) -> None:
        self.old = [i for i, _ in chain]
        self.new = [j for _, j in chain]
        self.new_length = new_length

    def region_old(self, i: int) -> int:
        return bisect_left(self.old, i)

    def region_new(self, j: int) -> int:
        return bisect_left(self.new, j)


class _RemovalPlacer:
    """Where a removed statement goes in report order (see the module docstring)."""

    def __init__(self, anchors: _Anchors, changed: list[Pair]) -> None:
        self.anchors = anchors
        kept = sorted([*zip(anchors.old, anchors.new, strict=True), *changed])
        self.kept_old = [i for i, _ in kept]
        self.kept_new = [j for _, j in kept]

    def place(self, i: int) -> int:
        region = self.anchors.region_old(i)
        low = self.anchors.new[region - 1] if region > 0 else -1
        high = (self.anchors.new[region] if region < len(self.anchors.new)
                else self.anchors.new_length)
        k = bisect_left(self.kept_old, i) - 1
        if k < 0:
            return low
        j = self.kept_new[k]
        return j if low <= j < high else low


# ------------------------------------------------------------------ similarity pairing


@dataclass(slots=True)
class _Side:
    """Leftover statements of one side, prepared for candidate search and scoring."""

    index: list[int]  # statement index in the document
    words: list[tuple[str, ...]]
    region: list[int]
    speaker: list[str | None]
    key: list[str]
    postings: dict[str, list[int]]  # word -> leftover numbers (into index) containing it
    by_region: dict[int, list[int]]
    counts: list[dict[str, int]]
    masks: list[dict[str, int] | None]

    @classmethod
    def build(
        cls,
        index: list[int],
        keys: Sequence[str],
        speakers: Sequence[str | None],
        region_of: Callable[[int], int],
    ) -> _Side:
        words = [_words(keys[s]) for s in index]
        postings: dict[str, list[int]] = defaultdict(list)
        by_region: dict[int, list[int]] = defaultdict(list)
        regions = [region_of(s) for s in index]
        counts: list[dict[str, int]] = []
        for n, toks in enumerate(words):
            count = Counter(toks)
            counts.append(count)
            for tok in count:
                postings[tok].append(n)
            by_region[regions[n]].append(n)
        return cls(
            index=index,
            words=words,
            region=regions,
            speaker=[speakers[s] for s in index],
            key=[keys[s] for s in index],
            postings=postings,
            by_region=by_region,
            counts=counts,
            masks=[None] * len(index),
        )

    def mask(self, n: int) -> dict[str, int]:
        cached = self.masks[n]
        if cached is None:
            cached = self.masks[n] = _masks(self.words[n])
        return cached


def _pair_similar(
    left_old: list[int],
    left_new: list[int],
    old_keys: Sequence[str],
    new_keys: Sequence[str],
    old_speakers: Sequence[str | None],
    new_speakers: Sequence[str | None],
    anchors: _Anchors,
    options: DiffOptions,
) -> list[tuple[int, int, float]]:
    """Greedy best-first pairing of leftovers: (old index, new index, similarity)."""
    if not left_old or not left_new:
        return []
    old_side = _Side.build(left_old, old_keys, old_speakers, anchors.region_old)
    new_side = _Side.build(left_new, new_keys, new_speakers, anchors.region_new)
    # Candidates are looked up from both sides, so that the edge set (and with it the
    # whole pairing) is the same when old and new are swapped.
    edges = _candidates(old_side, new_side, options)
    edges |= {(a, b) for b, a in _candidates(new_side, old_side, options)}

    scored: list[tuple[tuple[Any, ...], int, int, float]] = []
    for a, b in edges:  # a: old leftover number, b: new leftover number
        score = _score(old_side, a, new_side, b, options)
        if score is None:
            continue
        i, j = old_side.index[a], new_side.index[b]
        rank = (
            -score,
            abs(old_side.region[a] - new_side.region[b]),  # same region first
            old_side.speaker[a] != new_side.speaker[b],
            abs(i - j),
            i + j,
            min(old_side.key[a], new_side.key[b]),
            max(old_side.key[a], new_side.key[b]),
        )
        scored.append((rank, a, b, score))
    scored.sort(key=lambda item: item[0])

    taken_old: set[int] = set()
    taken_new: set[int] = set()
    result: list[tuple[int, int, float]] = []
    for _, a, b, score in scored:
        if a in taken_old or b in taken_new:
            continue
        taken_old.add(a)
        taken_new.add(b)
        result.append((old_side.index[a], new_side.index[b], score))
    return result


def _score(old: _Side, a: int, new: _Side, b: int, options: DiffOptions) -> float | None:
    """Word similarity of a candidate pair, or None when the pair is not acceptable.

    Cheap upper bounds come first - the length ratio, then (a bound on) the shared-word
    multiset, like difflib's ``real_quick_ratio`` and ``quick_ratio`` - and only then the
    exact LCS.
    """
    wa, wb = old.words[a], new.words[b]
    total = len(wa) + len(wb)
    shorter = min(len(wa), len(wb))
    threshold = options.similarity_threshold
    can_contain = shorter >= options.containment_min_words
    if not shorter or (2.0 * shorter < threshold * total and not can_contain):
        return None
    # Shared distinct words plus the fewer repeats bound the shared-word multiset.
    shared = len(old.counts[a].keys() & new.counts[b].keys()) + min(
        len(wa) - len(old.counts[a]), len(wb) - len(new.counts[b])
    )
    contain = options.containment_threshold * shorter
    if 2.0 * shared < threshold * total and not (can_contain and shared >= contain):
        return None
    common = _lcs_length(old.mask(a), len(wa), wb)
    if 2.0 * common >= threshold * total or (can_contain and common >= contain):
        return 2.0 * common / total
    return None


def _candidates(query: _Side, other: _Side, options: DiffOptions) -> set[Pair]:
    """(query leftover, other leftover) candidate pairs, looked up from the query side.

    Per query statement: every leftover of the same region when the region is small, plus
    the ``max_candidates`` statements sharing most of the query's rarest words. Rarity is
    the posting length on the other side; words are looked up rarest first, at most
    ``rare_tokens`` of them and at most ``max_posting`` postings in all, which bounds the
    work per statement. Ties go to nearer regions.
    """
    edges: set[Pair] = set()
    postings = other.postings
    limit = options.max_candidates
    for q, count in enumerate(query.counts):
        region = query.region[q]
        nearby = other.by_region.get(region, ())
        if len(nearby) <= options.region_window:
            edges.update((q, o) for o in nearby)
        lookup = sorted((len(postings[t]), t) for t in count if t in postings)
        shared: dict[int, int] = {}
        budget = options.max_posting
        for size, tok in lookup[: options.rare_tokens]:
            if size > budget:
                break
            budget -= size
            for o in postings[tok]:
                shared[o] = shared.get(o, 0) + 1
        if len(shared) <= limit:
            edges.update((q, o) for o in shared)
            continue
        by_count: dict[int, list[int]] = defaultdict(list)
        for o, hits in shared.items():
            by_count[hits].append(o)
        room = limit
        for hits in sorted(by_count, reverse=True):
            bucket = by_count[hits]
            if len(bucket) > room:
                near = sorted([(abs(other.region[o] - region), o) for o in bucket])
                bucket = [o for _, o in near[:room]]
            edges.update((q, o) for o in bucket)
            room -= len(bucket)
            if room <= 0:
                break
    return edges
