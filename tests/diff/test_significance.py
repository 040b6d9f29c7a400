"""The significance rule (briefwatch.diff.significance): one level per change, per page."""

from __future__ import annotations

from typing import Any

import pytest

from briefwatch.diff import diff_statements
from briefwatch.diff.significance import (
    Level,
    assess,
    assess_change,
    assess_dict,
    edit_distance,
    page_level,
    parse_level,
)
from briefwatch.model import Statement, StatementKind


def change(type: str, kind: str = "narration", old: str | None = None, new: str | None = None,
           **extra: Any) -> dict[str, Any]:
    return {"type": type, "kind": kind, "old": old, "new": new, **extra}


@pytest.mark.parametrize(
    ("fields", "level", "reason"),
    [
        # step 1: moved
        (change("moved", "quote", "A quote.", "A quote."), Level.LOW, "moved"),
        # step 2: a number changed, whatever else
        (change("changed", old="It was 163 bodies.", new="It was 170 bodies.",
                numbers=[{"old": "163", "new": "170"}]),
         Level.HIGH, "figure changed: 163 → 170"),
        (change("changed", old="Seven.", new="Seven, 5 of them.",
                numbers=[{"old": None, "new": "5"}]),
         Level.HIGH, "figure changed: ∅ → 5"),
        # step 3: speaker
        (change("reattributed", "quote", "x", "x", speaker="B", old_speaker="A"),
         Level.HIGH, "speaker changed"),
        (change("changed", "answer", "We will go there.", "We will go there now.",
                speaker="MS. B", old_speaker="MS. A"), Level.HIGH, "speaker changed"),
        # step 4: a small fix, even in a quote
        (change("changed", "quote", '"The goverment acted."', '"The government acted."'),
         Level.LOW, "1-character fix"),
        (change("changed", "narration", "The ministry said so .", "The Ministry said so."),
         Level.LOW, "case or punctuation fix"),
        # step 5: negation flips outrank the small-edit rule
        (change("changed", "narration", "We can confirm it.", "We can't confirm it."),
         Level.HIGH, "negation changed"),
        (change("changed", "narration", "Troops will stay.", "Troops will not stay."),
         Level.HIGH, "negation changed"),
        (change("changed", "narration", "We never said that.", "We said that."),
         Level.HIGH, "negation changed"),
        # step 6: on-the-record words
        (change("changed", "quote", '"We will respond firmly," she said.',
                '"We will respond very firmly and quickly," she said.'),
         Level.HIGH, "quote reworded"),
        (change("added", "answer", None, "We have nothing to announce."),
         Level.HIGH, "answer added"),
        (change("removed", "remarks", "Good afternoon, everyone.", None),
         Level.HIGH, "remarks removed"),
        # step 7: the rest
        (change("changed", "narration", "The talks ended on Monday in Geneva.",
                "The talks ended late on Monday in Geneva, officials said."),
         Level.MEDIUM, "narration reworded"),
        (change("added", "narration", None, "A new paragraph."), Level.MEDIUM, "narration added"),
        (change("removed", "paraphrase", "Dillon said it went well.", None),
         Level.MEDIUM, "paraphrase removed"),
        (change("changed", "question", "Is that final?", "Is that the final answer, sir?"),
         Level.MEDIUM, "question reworded"),
    ],
)
def test_rule(fields: dict[str, Any], level: Level, reason: str) -> None:
    assessment = assess_dict(fields)
    assert (assessment.level, assessment.reason) == (level, reason)


def test_word_diff_runs_are_used_when_present() -> None:
    # the runs say one word changed by one letter; the texts alone would say the same
    words = [["equal", "The"], ["delete", "goverment"], ["insert", "government"],
             ["equal", "acted."]]
    result = assess(type="changed", kind="narration", old="The goverment acted.",
                    new="The government acted.", words=words)
    assert result.level is Level.LOW


def test_model_change_and_dict_agree() -> None:
    def stmt(text: str, position: int) -> Statement:
        return Statement(text, "Dillon", StatementKind.QUOTE, paragraph=0, position=position)

    old = (stmt('"It was 163 bodies," Dillon said.', 0), stmt("Same.", 1))
    new = (stmt('"It was 170 bodies," Dillon said.', 0), stmt("Same.", 1))
    [diffed] = diff_statements(old, new)
    assert assess_change(diffed).reason == "figure changed: 163 → 170"
    assert assess_change(diffed).level is Level.HIGH


@pytest.mark.parametrize(
    ("a", "b", "limit", "expected"),
    [("kitten", "sitting", None, 3), ("", "abc", None, 3), ("same", "same", None, 0),
     ("abcdef", "a", 2, 3), ("flaw", "lawn", 5, 2)],
)
def test_edit_distance(a: str, b: str, limit: int | None, expected: int) -> None:
    assert edit_distance(a, b, limit=limit) == expected


def test_levels_order_and_parse() -> None:
    assert Level.HIGH > Level.MEDIUM > Level.LOW
    assert parse_level("Medium") is Level.MEDIUM
    with pytest.raises(ValueError, match="unknown significance"):
        parse_level("urgent")


@pytest.mark.parametrize(
    ("status", "levels", "title_changed", "expected"),
    [("changed", [Level.LOW, Level.HIGH], False, Level.HIGH),
     ("changed", [Level.LOW], True, Level.MEDIUM),
     ("changed", [], False, None),
     ("gone", [], False, Level.HIGH),
     ("unchanged", [], False, None)],
)
def test_page_level(status: str, levels: list[Level], title_changed: bool,
                    expected: Level | None) -> None:
    assert page_level(status, levels, title_changed=title_changed) == expected
