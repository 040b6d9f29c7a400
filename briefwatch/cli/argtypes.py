"""Argument types for numeric options: a value that makes no sense (a chunk of 0 pages, a
negative wait, a version 0) is refused by argparse — exit status 2 with a one-line reason
naming the option — instead of making the command quietly do nothing."""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable

__all__ = ["at_least", "days", "seconds"]


def at_least(minimum: int, what: str) -> Callable[[str], int]:
    """The type of an integer option whose values start at ``minimum`` (``what``: what one
    counts, for the message: ``pages``, ``a version number``)."""

    def whole_number(value: str) -> int:
        try:
            number = int(value)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a whole number: {value!r}") from None
        if number < minimum:
            raise argparse.ArgumentTypeError(f"{what} must be at least {minimum}, not {number}")
        return number

    whole_number.__name__ = f"whole number >= {minimum}"
    return whole_number


def _non_negative(value: str, unit: str) -> float:
    try:
        number = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of {unit}: {value!r}") from None
    if not number >= 0 or math.isinf(number):  # NaN fails the first test
        raise argparse.ArgumentTypeError(f"must be a number of {unit} >= 0, not {value}")
    return number


def seconds(value: str) -> float:
    """A wait: a finite number of seconds >= 0."""
    return _non_negative(value, "seconds")


def days(value: str) -> float:
    """An age: a finite number of days >= 0."""
    return _non_negative(value, "days")
