"""Tests of the statement diff (briefwatch.diff) and number handling (briefwatch.diff.numbers).

Statements are built directly; the real-text cases below are excerpts of White House
press-briefing pages and their published corrections (wh-briefings corpus, CC0).
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Sequence
from dataclasses import replace

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from briefwatch.diff import (
    DiffOptions,
    _lcs_length,
    _masks,
    diff_documents,
    diff_statements,
    similarity,
    word_diff,
)
from briefwatch.diff.numbers import extract_numbers, number_changes
from briefwatch.model import (
    Change,
    ChangeType,
    Document,
    NumberChange,
    PageKind,
    Statement,
    StatementKind,
)
from briefwatch.textnorm import clean_text, match_key

KJP = "MS. JEAN-PIERRE"
POTUS = "THE PRESIDENT"

# Real sentences (press gaggle en route Buffalo, 2022-05-17, and neighbours).
REAL = [
    "So, I mean, just to reiterate, Jonathan, I’m not going to give them a platform.",
    "So, I just want to make that very clear.",
    "The President will then participate in a bilateral meeting with President Yoon.",
    "They will have extensive discussions on a range of issues, as I’m sure you’d expect.",
    "We expect that there will be a joint statement.",
    "These two Venezuelans were arrested about seven years ago for unsuccessfully "
    "attempting to smuggle cocaine into the United States.",
    "They have been in U.S. custody ever since then.",
    "They were sentenced in the United States in 2017 for 18 years.",
    "Coach Kerr and Steph will say a few words about their visit to D.C. today.",
    "All right.  Thanks, everybody.  I’ll see you tomorrow.",
]


def stmt(text: str, position: int = 0, speaker: str | None = KJP,
         kind: StatementKind = StatementKind.ANSWER, paragraph: int = 0) -> Statement:
    return Statement(text, speaker, kind, paragraph, position)


def stmts(texts: Sequence[str], speaker: str | None = KJP) -> list[Statement]:
    return [stmt(t, n, speaker, paragraph=n) for n, t in enumerate(texts)]


def renumber(statements: Sequence[Statement]) -> list[Statement]:
    return [replace(s, position=n) for n, s in enumerate(statements)]


def doc(statements: Sequence[Statement] = (), *, title: str | None = "Press Gaggle",
        headings: tuple[str, ...] = (), published: str | None = "2022-05-17",
        byline: str | None = None) -> Document:
    return Document(
        key="https://www.whitehouse.gov/briefing-room/press-briefings/x/",
        url="https://www.whitehouse.gov/briefing-room/press-briefings/x/",
        title=title, published=published, byline=byline, kind=PageKind.TRANSCRIPT,
        format="markdown", headings=headings, statements=tuple(statements),
    )


def only(changes: Sequence[Change]) -> Change:
    assert len(changes) == 1, changes
    return changes[0]


def summary(changes: Sequence[Change]) -> list[tuple[str, int | None, int | None]]:
    return [(c.type.value, c.old.position if c.old else None,
             c.new.position if c.new else None) for c in changes]


# ------------------------------------------------------------------------- numbers


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("The toll rose to 163 on June 6, 2023.", ["163", "6", "2023"]),
        ("We have 1,800 troops, up 5 percent or 5%.", ["1,800", "5 percent", "5%"]),
        ("It costs $1.2 million, or $300 a head.", ["$1.2 million", "$300"]),
        ("Down -3.5% to −4 degrees, a 2 percentage point drop.",
         ["-3.5%", "−4", "2 percentage point"]),
        ("The 6th meeting starts at 1:52 P.M.", ["6th", "1:52"]),
        ("G7 leaders discussed H5N1 and the F-35.", ["35"]),
        ("A $5B plan in the 1990s.", ["$5B", "1990"]),
        ("No figures here at all.", []),
    ],
)
def test_extract_numbers(text: str, expected: list[str]) -> None:
    assert extract_numbers(text) == expected


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("The toll rose to 163 today.", "The toll rose to 170 today.", [("163", "170")]),
        ("We have 1,800 troops there.", "We have 2,100 troops there.", [("1,800", "2,100")]),
        ("Prices rose 5 percent in May.", "Prices rose 7 percent in May.",
         [("5 percent", "7 percent")]),
        ("A $1.2 million grant.", "A $1.5 million grant.", [("$1.2 million", "$1.5 million")]),
        ("Costs were $300 each.", "Costs were $350 each.", [("$300", "$350")]),
        ("Growth was 2.5 points.", "Growth was 2.75 points.", [("2.5", "2.75")]),
        ("A -3 reading.", "A -4 reading.", [("-3", "-4")]),
        ("On June 6, 2023, we met.", "On June 7, 2023, we met.", [("6", "7")]),
        ("Sent 12 ships.", "Sent 12 ships and 3 planes.", [(None, "3")]),
        ("Sent 12 ships and 3 planes.", "Sent 12 ships.", [("3", None)]),
        ("In 2017, 18 years, 7 men.", "In 2017, 20 years, 7 men.", [("18", "20")]),
        ("It fell 5 percent.", "It fell 5%.", []),
        ("A $1.2 million grant.", "A $1,200,000 grant.", []),
        ("From 10 to 20 to 30.", "From 15 to 20 to 35.", [("10", "15"), ("30", "35")]),
    ],
)
def test_number_changes(old: str, new: str, expected: list[tuple[str | None, str | None]]
                        ) -> None:
    pairs = number_changes(old, new)
    assert [(p.old, p.new) for p in pairs] == expected
    assert number_changes(new, old) == tuple(NumberChange(p.new, p.old) for p in pairs)


# ------------------------------------------------------------------------- examples


@pytest.mark.parametrize(
    ("old_text", "new_text", "numbers"),
    [
        ("The death toll rose to 163 overnight, officials said.",
         "The death toll rose to 170 overnight, officials said.", [("163", "170")]),
        ("About 1,800 troops remain in the region.",
         "About 2,100 troops remain in the region.", [("1,800", "2,100")]),
        ("Inflation fell 5 percent over the year.",
         "Inflation fell 7 percent over the year.", [("5 percent", "7 percent")]),
        ("They were sentenced in the United States in 2017 for 18 years.",
         "They were sentenced in the United States in 2017 for 20 years.", [("18", "20")]),
    ],
)
def test_number_change_inside_a_sentence(old_text: str, new_text: str,
                                         numbers: list[tuple[str, str]]) -> None:
    old = stmts([REAL[0], old_text, REAL[4]])
    new = stmts([REAL[0], new_text, REAL[4]])
    change = only(diff_statements(old, new))
    assert change.type is ChangeType.CHANGED
    assert (change.old, change.new) == (old[1], new[1])
    assert [(n.old, n.new) for n in change.numbers] == numbers
    assert change.similarity is not None and change.similarity >= 0.5
    deleted = " ".join(text for op, text in change.words if op == "delete").split()
    assert numbers[0][0].split()[0] in deleted


@pytest.mark.parametrize(
    ("old_text", "new_text"),
    [
        ("I’m not going to give them a platform.", "I'm not going to give them a platform."),
        ("This so-called “privatization” scheme.", 'This so-called "privatization" scheme.'),
        ("I am proud — so proud to welcome you.", "I am proud -- so proud to welcome you."),
        ("I am proud — so proud to welcome you.", "I am proud—so proud to welcome you."),
        ("Press Briefing by Karine Jean-Pierre, January 17,\u00a02023",
         "Press Briefing by Karine Jean-Pierre, January 17, 2023"),
        ("Wait for it…", "Wait for it..."),
        ("Good  afternoon,\teverybody. ", "Good afternoon, everybody."),
    ],
)
def test_typography_only_change_is_not_a_change(old_text: str, new_text: str) -> None:
    old = doc(stmts([REAL[0], old_text, REAL[1]]), title=old_text, headings=(old_text,))
    new = doc(stmts([REAL[0], new_text, REAL[1]]), title=new_text, headings=(new_text,))
    result = diff_documents(old, new)
    assert result.changes == ()
    assert result.metadata_changes == {}
    assert result.title_change is None
    assert not result.changed


@pytest.mark.parametrize(("source", "target"), [(0, 9), (9, 0), (2, 7), (6, 1)])
def test_a_moved_sentence_is_one_move(source: int, target: int) -> None:
    old = stmts(REAL)
    order = list(range(len(REAL)))
    order.insert(target, order.pop(source))
    new = renumber([old[k] for k in order])
    change = only(diff_statements(old, new))
    assert change.type is ChangeType.MOVED
    assert change.old == old[source]
    assert change.new == new[target]


def test_reattribution() -> None:
    """The real correction: a turn labelled THE PRESIDENT was the press secretary's."""
    old = [stmt("Q Will you hear it from the President today?", 0, "Q"),
           stmt(REAL[0], 1, POTUS), stmt(REAL[1], 2, POTUS), stmt(REAL[3], 3, "Q")]
    new = [old[0], replace(old[1], speaker=KJP), replace(old[2], speaker=KJP), old[3]]
    changes = diff_statements(old, new)
    assert summary(changes) == [("reattributed", 1, 1), ("reattributed", 2, 2)]
    assert [(c.old_speaker, c.speaker) for c in changes] == [(POTUS, KJP)] * 2


def test_changed_statement_with_new_speaker_stays_changed() -> None:
    old = [stmt(REAL[2], 0, POTUS), stmt(REAL[3], 1, POTUS), stmt(REAL[4], 2, POTUS)]
    edited = "They will have extensive discussions on many issues, as I’m sure you’d expect."
    new = [old[0], stmt(edited, 1, KJP), old[2]]
    change = only(diff_statements(old, new))
    assert change.type is ChangeType.CHANGED
    assert (change.old_speaker, change.speaker) == (POTUS, KJP)


@pytest.mark.parametrize(
    ("old_text", "new_text", "expected_words"),
    [
        ("So, I just want to make that clear.", "So, I just want to make that very clear.",
         (("equal", "So, I just want to make that"), ("insert", "very"), ("equal", "clear."))),
        ("Foreign Minister Wong met with Secretary Blinken in Bali.",
         "Foreign Minister Wang met with Secretary Blinken in Bali.",
         (("equal", "Foreign Minister"), ("delete", "Wong"), ("insert", "Wang"),
          ("equal", "met with Secretary Blinken in Bali."))),
        ("They have been in a U.S. city ever since then.",
         "They have been in U.S. custody ever since then.",
         (("equal", "They have been in"), ("delete", "a"), ("equal", "U.S."),
          ("delete", "city"), ("insert", "custody"), ("equal", "ever since then."))),
    ],
)
def test_word_level_edit_is_changed_with_words(old_text: str, new_text: str,
                                               expected_words: tuple[tuple[str, str], ...]
                                               ) -> None:
    old = stmts([REAL[4], old_text, REAL[8]])
    new = stmts([REAL[4], new_text, REAL[8]])
    change = only(diff_statements(old, new))
    assert change.type is ChangeType.CHANGED
    assert change.words == expected_words
    assert change.numbers == ()


def test_sentence_split_in_two_is_changed_plus_added() -> None:
    """Decision: the half that keeps most words is ``changed``, the other half ``added``."""
    whole = ("The President will travel to Buffalo on Tuesday to meet the families of the "
             "victims, and he will speak with local officials about gun violence.")
    first = "The President will travel to Buffalo on Tuesday to meet the families of the victims."
    second = "He will speak with local officials about gun violence."
    old = stmts([REAL[0], whole, REAL[1]])
    new = stmts([REAL[0], first, second, REAL[1]])
    assert summary(diff_statements(old, new)) == [("changed", 1, 1), ("added", None, 2)]
    assert summary(diff_statements(new, old)) == [("changed", 1, 1), ("removed", 2, None)]


def test_sentence_extended_by_long_clause_is_changed() -> None:
    short = "Liz Simons is Chair of the Board of the Heising-Simons Foundation."
    long = ("Liz Simons is Chair of the Board of the Heising-Simons Foundation, a family "
            "foundation that supports a number of programs in climate, clean energy, "
            "education, human rights, and science across the country and the world, and that "
            "has done so for more than two decades.")
    assert similarity(short, long) < DiffOptions().similarity_threshold
    change = only(diff_statements(stmts([REAL[0], short]), stmts([REAL[0], long])))
    assert change.type is ChangeType.CHANGED


def test_unrelated_replacement_is_removed_and_added_in_place() -> None:
    old = stmts([REAL[0], REAL[1], REAL[5], REAL[3]])
    new = stmts([REAL[0], REAL[1], REAL[8], REAL[3]])
    assert summary(diff_statements(old, new)) == [("removed", 2, None), ("added", None, 2)]


def test_report_order_reads_top_to_bottom() -> None:
    old = stmts([REAL[0], REAL[1], "We expect that there will be a joint statement.",
                 REAL[5], REAL[6], REAL[7], REAL[8]])
    new = stmts([REAL[0], "A new first point.", REAL[1],
                 "We expect that there will be a joint statement on Friday.", REAL[6],
                 REAL[7], REAL[9]])
    assert summary(diff_statements(old, new)) == [
        ("added", None, 1),
        ("changed", 2, 3),
        ("removed", 3, None),
        ("removed", 6, None),
        ("added", None, 6),
    ]


def test_deleting_one_of_many_repeated_lines_removes_just_that_one() -> None:
    texts: list[str] = []
    for n, sentence in enumerate(REAL):
        texts += [sentence, "Thank you." if n % 2 else "Go ahead."]
    old = stmts(texts)
    new = renumber(old[:3] + old[4:])  # the second "Thank you." (index 3) goes
    assert summary(diff_statements(old, new)) == [("removed", 3, None)]


def test_duplicates_are_matched_in_order_same_speaker_first() -> None:
    old = [stmt("Thank you.", 0, "MR. KIRBY"), stmt(REAL[0], 1), stmt("Thank you.", 2, KJP)]
    new = [stmt(REAL[0], 0), stmt("Thank you.", 1, KJP)]
    assert summary(diff_statements(old, new)) == [("removed", 0, None)]


def test_copies_with_different_speakers_pair_in_order() -> None:
    old = [stmt("Thank you.", 0, "Q"), stmt("Thank you.", 1, KJP), stmt(REAL[0], 2)]
    new = [stmt("Thank you.", 0, KJP), stmt("Thank you.", 1, KJP)]
    assert summary(diff_statements(old, new)) == [("reattributed", 0, 0), ("removed", 2, None)]
    assert summary(diff_statements(new, old)) == [("reattributed", 0, 0), ("added", None, 2)]
    swapped = [stmt("Thank you.", 0, KJP), stmt("Thank you.", 1, "Q")]
    assert summary(diff_statements(old[:2], swapped)) == [("reattributed", 0, 0),
                                                          ("reattributed", 1, 1)]


_TY, _GA = "Thank you.", "Go ahead."


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ([(_TY, KJP), (_TY, "Q")], [(_TY, "Q"), (_TY, KJP), (_TY, KJP)]),
        ([(_TY, "Q"), (REAL[2], "Q"), (_GA, KJP), (_TY, KJP)],
         [(_TY, KJP), (_GA, "Q"), (_GA, "Q"), (_TY, "Q"), (_GA, "Q")]),
    ],
)
def test_swapped_copies_diff_symmetrically(old: list[tuple[str, str]],
                                           new: list[tuple[str, str]]) -> None:
    """Regression: copies matched crosswise once made the result depend on the direction."""
    before = [stmt(t, n, s) for n, (t, s) in enumerate(old)]
    after = [stmt(t, n, s) for n, (t, s) in enumerate(new)]
    assert _canonical(diff_statements(before, after), mirrored=False) == _canonical(
        diff_statements(after, before), mirrored=True)


def test_identical_documents_have_no_changes() -> None:
    old = doc(stmts(REAL), headings=("Opening", "Questions"))
    result = diff_documents(old, old)
    assert result.changes == () and result.metadata_changes == {} and not result.changed


def test_title_change_via_deepdiff() -> None:
    old = doc(stmts(REAL), title="Press Gaggle by Press Secretary Karine Jean-Pierre")
    new = doc(stmts(REAL), title="Press Gaggle by Karine Jean-Pierre En Route Buffalo, NY")
    result = diff_documents(old, new)
    assert result.changes == ()
    assert result.title_change == {"old": old.title, "new": new.title}
    assert result.metadata_changes == {
        "values_changed": {"root['title']": {"old_value": old.title, "new_value": new.title}}
    }
    assert result.changed


def test_other_metadata_changes_via_deepdiff() -> None:
    old = doc(stmts(REAL), published=None, headings=("Opening",), byline="Staff")
    new = doc(stmts(REAL), published="2022-05-17", headings=("Opening", "Questions"),
              byline="Staff")
    result = diff_documents(old, new)
    assert result.title_change is None
    assert result.metadata_changes["iterable_item_added"] == {"root['headings'][1]": "Questions"}
    assert result.metadata_changes["type_changes"]["root['published']"]["new_value"] == (
        "2022-05-17")


@pytest.mark.parametrize(
    "kwargs",
    [{"similarity_threshold": 0.0}, {"similarity_threshold": 1.5}, {"max_candidates": 0},
     {"rare_tokens": 0}, {"max_posting": 0}, {"region_window": -1},
     {"containment_threshold": 0.0}, {"containment_min_words": 0}],
)
def test_invalid_options_are_rejected(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        DiffOptions(**kwargs)  # type: ignore[arg-type]


def test_threshold_decides_between_changed_and_removed_added() -> None:
    old = stmts([REAL[0], "It was instinctive.", REAL[1]])
    new = stmts([REAL[0], "It was great to meet them.", REAL[1]])
    score = similarity("It was instinctive.", "It was great to meet them.")
    assert 0.4 < score < 0.5
    assert summary(diff_statements(old, new)) == [("removed", 1, None), ("added", None, 1)]
    loose = DiffOptions(similarity_threshold=0.4)
    assert summary(diff_statements(old, new, loose)) == [("changed", 1, 1)]


# ------------------------------------------------------------------------- 2,000 statements


_SYLLABLES = ["ka", "lo", "mi", "ne", "pu", "ra", "si", "to", "vu", "ze", "bo", "de"]


def _word(rng: random.Random) -> str:
    return "".join(rng.choice(_SYLLABLES) for _ in range(rng.randint(1, 3)))


def _sentence(rng: random.Random) -> str:
    words = [_word(rng) for _ in range(rng.randint(6, 18))]
    words.insert(rng.randrange(len(words)), str(rng.randint(10, 99_999)))
    return " ".join(words).capitalize() + "."


def _transcript(rng: random.Random, size: int) -> list[Statement]:
    out: list[Statement] = []
    for n in range(size):
        if n % 25 == 7:
            out.append(stmt("Thank you.", n, "Q", StatementKind.QUESTION, n))
        elif n % 25 == 19:
            out.append(stmt("Go ahead.", n, KJP, StatementKind.ANSWER, n))
        else:
            speaker = "Q" if n % 5 == 0 else KJP
            out.append(stmt(_sentence(rng), n, speaker, paragraph=n))
    return out


def test_two_thousand_statements_five_percent_edited_flags_exactly_the_edits() -> None:
    rng = random.Random(20_000)
    old = _transcript(rng, 2000)
    unique = [n for n in range(2000) if n % 25 not in (7, 19)]
    chosen = rng.sample(unique, 100)
    kinds = (["word"] * 40 + ["number"] * 20 + ["speaker"] * 10 + ["move"] * 10
             + ["insert"] * 10 + ["delete"] * 10)
    plan = dict(zip(chosen, kinds, strict=True))

    items: list[tuple[Statement, int | None, str | None]] = []  # (statement, old index, kind)
    moved: list[tuple[Statement, int]] = []
    for n, s in enumerate(old):
        kind = plan.get(n)
        if kind == "insert":
            items.append((stmt(_sentence(rng), 0), None, "insert"))
            items.append((s, n, None))
        elif kind == "delete":
            continue
        elif kind == "move":
            moved.append((s, n))
        elif kind == "word":
            words = s.text.split()
            k = next(k for k, w in enumerate(words) if not w.rstrip(".").isdigit())
            words[k] = "brandnewword"
            items.append((replace(s, text=" ".join(words)), n, "word"))
        elif kind == "number":
            number = next(w for w in s.text.split() if w.rstrip(".").isdigit()).rstrip(".")
            items.append((replace(s, text=s.text.replace(number, "123456", 1)), n, "number"))
        elif kind == "speaker":
            items.append((replace(s, speaker="MR. KIRBY"), n, "speaker"))
        else:
            items.append((s, n, None))
    for s, n in moved:  # far from where it was
        target = (n + 1000) % len(items)
        items.insert(target, (s, n, "move"))
    new = renumber([s for s, _, _ in items])

    type_of = {"word": "changed", "number": "changed", "speaker": "reattributed",
               "move": "moved", "insert": "added"}
    expected: set[tuple[str, int | None, int | None]] = {
        (type_of[kind], n, j) for j, (_, n, kind) in enumerate(items) if kind
    }
    expected |= {("removed", n, None) for n, kind in plan.items() if kind == "delete"}
    changes = diff_statements(old, new)
    assert set(summary(changes)) == expected
    assert len(changes) == 100
    numbers = [c.numbers for c in changes if c.numbers]
    assert len(numbers) == 20 and all(len(n) == 1 and n[0].new == "123456" for n in numbers)


# ------------------------------------------------------------------------- words and LCS


def test_word_diff_of_typography_is_all_equal() -> None:
    assert word_diff("I’m “sure”.", "I'm \"sure\".") == (("equal", "I'm \"sure\"."),)
    assert word_diff("", "") == ()
    assert word_diff("", "New words") == (("insert", "New words"),)


@pytest.mark.parametrize(
    ("old", "new"),
    [("alpha beta", "beta alpha"), ("x y x", "y x y"), ("one two three", "three two one"),
     ("Rose 5 then 6.", "Rose 6 then 5."), ("A 1 2 3 b", "A 3 2 1 b")],
)
def test_word_diff_and_numbers_mirror_when_swapped(old: str, new: str) -> None:
    forward, backward = word_diff(old, new), word_diff(new, old)
    assert any(op == "equal" for op, _ in forward)
    assert _mirror_words(forward) == [(op, match_key(t) if op == "equal" else t)
                                      for op, t in backward]
    assert number_changes(new, old) == tuple(
        NumberChange(c.new, c.old) for c in number_changes(old, new))


def _lcs_dp(a: Sequence[str], b: Sequence[str]) -> int:
    row = [0] * (len(b) + 1)
    for x in a:
        prev = 0
        for k, y in enumerate(b, start=1):
            prev, row[k] = row[k], (prev + 1 if x == y else max(row[k], row[k - 1]))
    return row[-1]


@given(st.lists(st.sampled_from("abcde"), max_size=40),
       st.lists(st.sampled_from("abcdef"), max_size=40))
def test_bit_parallel_lcs_equals_dynamic_programming(a: list[str], b: list[str]) -> None:
    assert _lcs_length(_masks(a), len(a), b) == _lcs_dp(a, b)


# ------------------------------------------------------------------------- properties


_POOL = [*REAL, "Thank you.", "Go ahead.", "We rose 163 points on June 6.",
         "We rose 170 points on June 7.", "They were sentenced in 2017 for 20 years."]
_SPEAKERS = [KJP, POTUS, "Q", None]


@st.composite
def documents(draw: st.DrawFn) -> list[Statement]:
    texts = draw(st.lists(
        st.one_of(st.sampled_from(_POOL), st.text(max_size=60),
                  st.sampled_from(_POOL).map(lambda t: t.replace("the", "a"))),
        max_size=14,
    ))
    speakers = draw(st.lists(st.sampled_from(_SPEAKERS), min_size=len(texts),
                             max_size=len(texts)))
    return [stmt(t, n, s, paragraph=n) for n, (t, s) in enumerate(zip(texts, speakers,
                                                                       strict=True))]


@st.composite
def edited_pairs(draw: st.DrawFn) -> tuple[list[Statement], list[Statement]]:
    old = draw(documents())
    new = list(old)
    for _ in range(draw(st.integers(0, 5))):
        op = draw(st.sampled_from(["insert", "delete", "move", "speaker", "word"]))
        if op == "insert" or not new:
            new.insert(draw(st.integers(0, len(new))),
                       stmt(draw(st.sampled_from(_POOL)), 0, draw(st.sampled_from(_SPEAKERS))))
            continue
        k = draw(st.integers(0, len(new) - 1))
        if op == "delete":
            new.pop(k)
        elif op == "move":
            new.insert(draw(st.integers(0, len(new) - 1)), new.pop(k))
        elif op == "speaker":
            new[k] = replace(new[k], speaker=draw(st.sampled_from(_SPEAKERS)))
        else:
            new[k] = replace(new[k], text=new[k].text + " " + draw(st.sampled_from(_POOL)))
    return old, renumber(new)


def _side_counts(changes: Sequence[Change]) -> tuple[Counter[int], Counter[int]]:
    olds = Counter(c.old.position for c in changes if c.old is not None)
    news = Counter(c.new.position for c in changes if c.new is not None)
    return olds, news


_MIRROR = {ChangeType.ADDED: ChangeType.REMOVED, ChangeType.REMOVED: ChangeType.ADDED}


def _mirror_words(words: Sequence[tuple[str, str]]) -> list[tuple[str, str]]:
    """Swap insert and delete, keeping deletions first within each differing stretch."""
    out: list[tuple[str, str]] = []
    hunk: list[tuple[str, str]] = []
    for op, text in [*words, ("equal", "")]:
        if op == "equal":
            out += [("delete", t) for o, t in hunk if o == "insert"]
            out += [("insert", t) for o, t in hunk if o == "delete"]
            hunk = []
            if text:
                out.append((op, match_key(text)))
        else:
            hunk.append((op, text))
    return out


def _canonical(changes: Sequence[Change], mirrored: bool) -> set[tuple[object, ...]]:
    result: set[tuple[object, ...]] = set()
    for c in changes:
        old, new = c.old, c.new
        ctype = c.type
        numbers = tuple((n.old, n.new) for n in c.numbers)
        words: list[tuple[str, str]] = [
            (op, match_key(t) if op == "equal" else t) for op, t in c.words
        ]
        if mirrored:
            old, new = new, old
            ctype = _MIRROR.get(ctype, ctype)
            numbers = tuple((b, a) for a, b in numbers)
            words = _mirror_words(c.words)
        result.add((ctype, old.position if old else None, new.position if new else None,
                    numbers, tuple(words), c.similarity))
    return result


_PROPERTY = settings(max_examples=300, deadline=None,
                     suppress_health_check=[HealthCheck.too_slow])


@_PROPERTY
@given(documents())
def test_property_diff_of_a_document_with_itself_is_empty(old: list[Statement]) -> None:
    assert diff_statements(old, old) == ()
    assert diff_statements(old, renumber(list(old))) == ()


@_PROPERTY
@given(edited_pairs())
def test_property_swapping_arguments_mirrors_the_diff(
        pair: tuple[list[Statement], list[Statement]]) -> None:
    old, new = pair
    forward = diff_statements(old, new)
    backward = diff_statements(new, old)
    assert _canonical(forward, mirrored=False) == _canonical(backward, mirrored=True)


@_PROPERTY
@given(st.one_of(edited_pairs(), st.tuples(documents(), documents())))
def test_property_every_statement_is_accounted_for_exactly_once(
        pair: tuple[list[Statement], list[Statement]]) -> None:
    old, new = pair
    changes = diff_statements(old, new)
    olds, news = _side_counts(changes)
    assert all(n == 1 for n in olds.values()) and all(n == 1 for n in news.values())
    # What is not flagged is unchanged: the same statements, same speakers, same order.
    kept_old = [(s.key, s.speaker) for s in old if s.position not in olds]
    kept_new = [(s.key, s.speaker) for s in new if s.position not in news]
    assert kept_old == kept_new
    for c in changes:
        assert (c.old is None) == (c.type is ChangeType.ADDED)
        assert (c.new is None) == (c.type is ChangeType.REMOVED)
        if c.type in (ChangeType.MOVED, ChangeType.REATTRIBUTED):
            assert c.old is not None and c.new is not None and c.old.key == c.new.key
            assert (c.old.speaker != c.new.speaker) == (c.type is ChangeType.REATTRIBUTED)
        if c.type is ChangeType.CHANGED:
            assert c.old is not None and c.new is not None and c.old.key != c.new.key
            assert c.similarity is not None and 0.0 <= c.similarity <= 1.0
        else:
            assert c.words == () and c.numbers == () and c.similarity is None
    # Report order: statements of the new document appear top to bottom.
    new_order = [c.new.position for c in changes if c.new is not None]
    assert new_order == sorted(new_order)


@_PROPERTY
@given(st.text(), st.text())
def test_property_text_helpers_accept_any_unicode(old: str, new: str) -> None:
    assert number_changes(old, old) == ()
    extract_numbers(old)
    words = word_diff(old, new)
    assert " ".join(t for op, t in words if op != "delete") == " ".join(clean_text(new).split())
    old_side = " ".join(t for op, t in words if op != "insert").split()
    assert [match_key(t) for t in old_side] == [match_key(t) for t in clean_text(old).split()]
    assert 0.0 <= similarity(old, new) <= 1.0
    result = diff_documents(doc(stmts([old]), title=old), doc(stmts([new]), title=new))
    assert (result.title_change is None) == (match_key(old) == match_key(new))
