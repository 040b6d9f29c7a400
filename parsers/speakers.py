"""Who said it: transcript labels, quotation attribution and indirect speech.

Pure text functions; :mod:`briefwatch.parsers.statements` applies them sentence by sentence.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from briefwatch.parsers.sentences import TITLE_ABBREVIATIONS

SPEECH_VERBS = (
    "said|says|say|told|tells|added|adds|noted|notes|emphasized|emphasised|emphasizes|stressed|"
    "stresses|explained|explains|continued|asked|asks|wrote|writes|stated|states|warned|warns|"
    "remarked|declared|declares|insisted|insists|argued|argues|acknowledged|acknowledges|"
    "announced|announces|confirmed|confirms|replied|responded|observed|recalled|cautioned|"
    "concluded|claimed|claims|predicted|suggested|urged|vowed|pledged|promised|admitted|"
    "testified|tweeted|posted|reiterated|reiterates|highlighted|underscored|affirmed|"
    "contended|maintained|countered|conceded|quipped|joked|mused|shouted|whispered|"
    "commented|exclaimed|agreed"
)
_ABBREVIATED_TITLE = "|".join(sorted((a.capitalize() for a in TITLE_ABBREVIATIONS), key=len,
                                      reverse=True))
# a name token: an abbreviated title ("Lt.", "Col."), an initial ("S."), or a capitalised word
_TOKEN = rf"(?:(?:{_ABBREVIATED_TITLE})\.|[A-Z]\.|[A-Z][\w’'\-]+)"
_CONNECTOR = (
    r"(?:of|for|and|de|del|der|da|van|von|al|bin|la|le|du|y|spokesman|spokeswoman|spokesperson"
    r"|press secretary|secretary|deputy|chief|commander|official|minister|ambassador)"
)
NAME = rf"{_TOKEN}(?:\s+(?:{_CONNECTOR}\s+)?{_TOKEN}){{0,7}}"
DESCRIPTOR_NOUNS = frozenset(
    """spokesman spokeswoman spokesperson secretary general colonel commander official
    officer president minister ambassador senator governor director admiral chief lieutenant
    captain major sergeant envoy representative congressman congresswoman mayor""".split()
)
PRONOUNS = frozenset({"he", "she"})
LEADING_STOPWORDS = frozenset(
    """the a an but and so yet or then now in on at as after before when while if although
    though because since meanwhile however also still thus this that these those there
    providing speaking asked according""".split()
)

_WHO = rf"(?P<who>{NAME}|[Hh]e|[Ss]he|the\s+[^,.;:“”\"]{{1,100}}?)"
_VERB = rf"(?P<verb>{SPEECH_VERBS})"
# "…, Dillon said" / "He noted that …" / "…, the spokesman said" — WHO must start a clause
WHO_VERB = re.compile(
    rf"(?:^\s*|(?<=[,;:—–”\"])\s*|(?<=,\s)(?:and|but)\s+){_WHO}\s+(?:also\s+|later\s+|then\s+|"
    rf"again\s+|further\s+|previously\s+|recently\s+|had\s+|has\s+|would\s+|will\s+)?{_VERB}\b"
)
# "…,” said Lt. Gen. Stephen Townsend" / "said Mattis."
VERB_WHO = re.compile(rf"(?:^\s*|(?<=[,;:—–”\"])\s*){_VERB}\s+(?P<who>{NAME})")
# "Army Col. Ryan S. Dillon, spokesman for …, told reporters"
APPOSITIVE = re.compile(
    rf"(?:^\s*|(?<=[,;:—–”\"])\s*){_WHO},\s[^,“”\"]{{1,140}},\s+(?:also\s+)?{_VERB}\b"
)
# "Secretary of State for Health and Social Care, Sajid Javid, said:" — a role, then the name
TITLE_THEN_NAME = re.compile(
    rf"(?:^\s*|(?<=[,;:—–”\"])\s*)(?:[Tt]he\s+)?(?P<title>{NAME}),\s(?P<name>{NAME}),\s+"
    rf"(?:also\s+)?{_VERB}\b"
)
ROLE_WORDS = frozenset(
    """secretary minister president chancellor director chief ceo chair chairman chairwoman
    commissioner officer spokesman spokeswoman spokesperson ambassador governor mayor leader
    general admiral colonel commander head founder manager adviser advisor""".split()
)
ACCORDING_TO = re.compile(rf"\baccording to\s+(?P<who>{NAME})")

LABEL = re.compile(
    r"^(?P<label>(?:[A-Z][A-Z.'’\-]*\s+){0,5}[A-Z][A-Z.'’\-]*[A-Z.]"
    r"(?:\s+\([A-Za-z][^)]{0,60}\))?)\s*:\s*(?P<rest>.*)$",
    re.S,
)
QUESTION_LABEL = re.compile(r"^Q(?:[.:]\s*|\s+|$)(?P<rest>.*)$", re.S)
NOT_LABELS = frozenset(
    """NOTE UPDATE CORRECTION WASHINGTON BACKGROUND EMBARGOED FOR IMMEDIATE RELEASE CONTACT
    EDITOR'S EDITORS ATTENTION WHEN WHERE WHAT WHO WHY HOW TOPIC LOCATION DATE TIME""".split()
)


@dataclass(frozen=True, slots=True)
class Turn:
    """A transcript turn label found at the start of a paragraph."""

    label: str  # as written, without the colon: "MS. JEAN-PIERRE", "Q"
    rest: str  # paragraph text after the label
    question: bool


def transcript_label(text: str) -> Turn | None:
    """The speaker label a transcript paragraph starts with, if any."""
    q = QUESTION_LABEL.match(text)
    if q and _starts_like_question(q.group("rest")):
        return Turn("Q", q.group("rest").strip(), True)
    m = LABEL.match(text)
    if not m:
        return None
    label = " ".join(m.group("label").split())
    words = [w.strip(".'’") for w in label.split("(")[0].split()]
    if not any(len(w) >= 2 for w in words) or (set(words) & NOT_LABELS and len(words) <= 2):
        return None
    if len(label) > 60:
        return None
    return Turn(label, m.group("rest").strip(), False)


def _starts_like_question(rest: str) -> bool:
    """After a bare "Q": anything — an interrupted question starts with "—", "$1.1 billion"
    or lower case ("Q in order to …"); "Q&A" or "Q1" never reach here (no space)."""
    return True


@dataclass
class SpeakerContext:
    """Resolves names to their fullest form in the page and pronouns to the last named speaker."""

    document_text: str
    last_named: str | None = None
    _full: dict[str, str] = field(default_factory=dict)

    def resolve(self, who: str) -> str | None:
        who = " ".join(who.split())
        lower = who.lower()
        if lower in PRONOUNS:
            return self.last_named
        if lower.startswith("the "):
            return self._descriptor(who)
        name = _strip_leading_stopwords(who)
        if not name:
            return None
        full = self.fullest(name)
        self.last_named = full
        return full

    def _descriptor(self, phrase: str) -> str | None:
        words = phrase.split()
        head = words[-1].lower().strip(".,")
        if head in DESCRIPTOR_NOUNS and len(words) <= 4:
            return self.last_named
        if any(w[:1].isupper() for w in words[1:]):
            return phrase
        return None

    def fullest(self, name: str) -> str:
        """The longest form of ``name`` the page writes: "Dillon" -> "Army Col. Ryan S. Dillon"."""
        if name in self._full:
            return self._full[name]
        best = name
        for match in _name_pattern(name.split()[-1]).finditer(self.document_text):
            candidate = _strip_leading_stopwords(" ".join(match.group(0).split()))
            if " and " in candidate[: -len(name)] and " and " not in name:
                continue  # "Mattis and Townsend" is two people, not a longer name
            if candidate.endswith(name) and len(candidate.split()) > len(best.split()):
                best = candidate
        self._full[name] = best
        return best


@lru_cache(maxsize=4096)
def _name_pattern(surname: str) -> re.Pattern[str]:
    # a name never spans two blocks: only spaces and tabs between its words
    prefix = rf"(?:{_TOKEN}[ \t]+(?:{_CONNECTOR}[ \t]+)?){{0,6}}"
    return re.compile(rf"(?<![\w.]){prefix}{re.escape(surname)}\b")


def _strip_leading_stopwords(name: str) -> str:
    words = name.split()
    while words and words[0].lower() in LEADING_STOPWORDS:
        words.pop(0)
    # a lone honorific is not a name
    return " ".join(words)


@dataclass(frozen=True, slots=True)
class Attribution:
    who: str
    start: int  # offset of the attribution in the searched text


def find_attribution(text: str) -> Attribution | None:
    """The earliest speech attribution in ``text`` (quoted parts should be blanked out)."""
    titled = TITLE_THEN_NAME.search(text)
    if titled and ROLE_WORDS & {w.lower().strip(".") for w in titled.group("title").split()}:
        return Attribution(f"{titled.group('title')} {titled.group('name')}", titled.start())
    best: Attribution | None = None
    for pattern in (WHO_VERB, VERB_WHO, APPOSITIVE, ACCORDING_TO):
        for match in pattern.finditer(text):
            who = match.group("who").strip()
            if not _plausible_who(who):
                continue
            if best is None or match.start() < best.start:
                best = Attribution(who, match.start())
            break
    return best


def _plausible_who(who: str) -> bool:
    lower = who.lower()
    if lower in PRONOUNS:
        return True
    if lower.startswith("the "):
        words = who.split()
        return words[-1].lower().strip(".,") in DESCRIPTOR_NOUNS or any(
            w[:1].isupper() for w in words[1:]
        )
    stripped = _strip_leading_stopwords(who)
    return bool(stripped) and stripped[0].isupper()
