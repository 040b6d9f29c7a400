"""Numbers inside statements: find them, compare them by value, pair the ones that changed.

``extract_numbers`` finds the figures a reader cares about in a sentence: counts (``163``),
thousands with separators (``1,800``), decimals (``1.2``), negative numbers (``-3``),
percentages (``5%``, ``5 percent``, ``5 per cent``, ``2 percentage points``), money
(``$300``, ``$1.2 million``, ``$5B``), ordinals (``6th``) and clock times (``1:52``).
Digits glued to letters (``G7``, ``H5N1``) are part of a name, not a figure, and are skipped.
Spelled-out numbers ("seven") are not recognised: "one" is as often a pronoun as a number.

Two mentions are the same number when their *values* are equal, so ``5%`` and ``5 percent``,
or ``$1.2 million`` and ``$1,200,000``, are not a change; ``June 6`` -> ``June 7`` is 6 -> 7.

``number_changes`` aligns the two sequences of values (longest common subsequence, as
:mod:`difflib` finds it) and pairs, inside each stretch that differs, the removed numbers
with the added ones in order. One changed number among several unchanged ones therefore
gives exactly one pair, and a number that only appears on one side is paired with ``None``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from difflib import SequenceMatcher
from itertools import zip_longest

from briefwatch.model import NumberChange
from briefwatch.textnorm import clean_text

__all__ = ["NumberMention", "extract_numbers", "find_numbers", "number_changes"]

_SCALE_WORDS = {
    "hundred": Decimal(100),
    "thousand": Decimal(10) ** 3,
    "million": Decimal(10) ** 6,
    "billion": Decimal(10) ** 9,
    "trillion": Decimal(10) ** 12,
}
# Abbreviated scales are only read after a currency sign ($5M), where they cannot be a unit.
_SCALE_ABBREV = {
    "k": Decimal(10) ** 3,
    "m": Decimal(10) ** 6,
    "mn": Decimal(10) ** 6,
    "b": Decimal(10) ** 9,
    "bn": Decimal(10) ** 9,
    "t": Decimal(10) ** 12,
    "tn": Decimal(10) ** 12,
}
_CURRENCIES = {"$": "$", "us$": "$", "£": "£", "€": "€", "¥": "¥"}

_NUMBER_RE = re.compile(
    r"""
    (?<![\w.])                                   # not inside a word or another number
    (?P<sign>[-+\u2212](?=(?:US)?[$£€¥]?\d))?    # a sign right before the figure
    (?P<cur>(?:US)?[$£€¥])?
    (?P<num>\d{1,3}(?:,\d{3})+(?!\d)(?:\.\d+)?|\d+(?:\.\d+)?)
    (?:
        (?P<time>:\d{2}(?!\d))
      | (?P<ord>st|nd|rd|th)\b
      | \s?(?P<pct>%)
      | \s(?P<pctword>percent|per\ cent|percentage\ points?)\b
      | \s(?P<scale>hundred|thousand|million|billion|trillion)\b
      | (?P<abbrev>(?<=\d)(?:[kKmMbBtT]|bn|mn|tn)\b)
    )?
    """,
    re.VERBOSE | re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class NumberMention:
    """One number as written (``text``) and its comparison form (``value``)."""

    text: str
    value: str


def find_numbers(text: str) -> list[NumberMention]:
    """Every number in ``text``, in reading order, with its comparison form."""
    found: list[NumberMention] = []
    for match in _NUMBER_RE.finditer(clean_text(text)):
        mention = _mention(match)
        if mention is not None:
            found.append(mention)
    return found


def extract_numbers(text: str) -> list[str]:
    """The numbers in ``text`` as written, in reading order (``["$1.2 million", "5%"]``)."""
    return [mention.text for mention in find_numbers(text)]


def number_changes(old_text: str, new_text: str) -> tuple[NumberChange, ...]:
    """Pairs of numbers that differ between two versions of a statement.

    The result is symmetric: swapping the arguments swaps ``old`` and ``new`` in every pair.
    """
    old = find_numbers(old_text)
    new = find_numbers(new_text)
    old_values = [m.value for m in old]
    new_values = [m.value for m in new]
    if old_values == new_values:
        return ()
    # difflib breaks ties by position, so always align in one canonical direction and
    # mirror the result: number_changes(b, a) is then exactly the mirror of (a, b).
    if old_values <= new_values:
        return _pair_hunks(old, new)
    return tuple(NumberChange(old=c.new, new=c.old) for c in _pair_hunks(new, old))


def _pair_hunks(
    old: list[NumberMention], new: list[NumberMention]
) -> tuple[NumberChange, ...]:
    matcher = SequenceMatcher(
        None, [m.value for m in old], [m.value for m in new], autojunk=False
    )
    pairs: list[NumberChange] = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        for before, after in zip_longest(old[i1:i2], new[j1:j2]):
            pairs.append(
                NumberChange(
                    old=before.text if before is not None else None,
                    new=after.text if after is not None else None,
                )
            )
    return tuple(pairs)


def _mention(match: re.Match[str]) -> NumberMention | None:
    groups = match.groupdict()
    digits = groups["num"].replace(",", "")
    try:
        amount = Decimal(digits)
    except InvalidOperation:  # pragma: no cover - the pattern only admits digits
        return None
    sign = "-" if groups["sign"] in ("-", "\u2212") else ""
    currency = _CURRENCIES.get((groups["cur"] or "").lower(), "")
    unit = ""
    if groups["time"]:
        return NumberMention(match.group(0), f"time:{digits}{groups['time']}")
    if groups["ord"]:
        unit = "th"
    elif groups["pct"]:
        unit = "%"
    elif groups["pctword"]:
        unit = "pp" if groups["pctword"].lower().startswith("percentage") else "%"
    elif groups["scale"]:
        amount *= _SCALE_WORDS[groups["scale"].lower()]
    elif groups["abbrev"]:
        if not currency:
            # "5m" without a currency is a distance, "3D" a name: keep the bare figure.
            text = (groups["sign"] or "") + groups["num"]
            return NumberMention(text, _value(sign, "", Decimal(digits), ""))
        amount *= _SCALE_ABBREV[groups["abbrev"].lower()]
    return NumberMention(match.group(0), _value(sign, currency, amount, unit))


def _value(sign: str, currency: str, amount: Decimal, unit: str) -> str:
    if amount == 0:
        sign = ""
    normal = format(amount.normalize(), "f")
    return f"{sign}{currency}{normal}{unit}"
