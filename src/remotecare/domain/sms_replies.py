"""What a patient's text says: a pain rating, a keyword (STOP, START, HELP), a crisis, or nothing we can read.

Pure: `parse_reply(body, is_crisis)` looks at the text alone. The crisis test
is passed in (`domain.questionnaires.crisis_text`) and comes first, so a
message that also holds a number or a keyword is still treated as a crisis.

Keywords follow the carriers' convention: the whole message, whatever its
case, surrounding spaces and trailing punctuation, is the keyword. A message
that starts with STOP ("stop texting me") also opts out: missing an opt-out is
worse than a needless one.

A pain rating is a whole number from 0 to 10, written as digits or a word,
optionally after "pain" (and "is", ":" or "=") and before "/10", "of 10" or
"out of 10": "7", " 7 ", "pain 7", "Pain: 7/10", "seven", "7 out of 10".
A whole number outside 0-10 ("11", "-1", "7/5" is not a rating) is
`OUT_OF_RANGE`; anything else (decimals, several numbers, words) is `UNKNOWN`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

PAIN_MIN, PAIN_MAX = 0, 10

OPT_OUT_WORDS = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"})
OPT_IN_WORDS = frozenset({"START", "UNSTOP"})
HELP_WORDS = frozenset({"HELP", "INFO"})

NUMBER_WORDS = {
    word: value
    for value, word in enumerate(
        ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve")
    )
}

_RATING = re.compile(
    r"""
    (?:(?:my\s+)?pain(?:\s+(?:is|level|score|today))*\s*[:=]?\s*)?   # "pain", "my pain is", "pain:"
    (?P<sign>[-+−])?\s*
    (?P<number>[0-9]{1,4}|"""
    + "|".join(NUMBER_WORDS)
    + r""")
    \s*(?:(?:/|out\s+of|of)\s*(?P<scale>[0-9]{1,4}))?               # "/10", "out of 10"
    \s*[.!]*
    """,
    re.VERBOSE,
)
_TRAILING = re.compile(r"[\s.!?,;:]+$")


class ReplyKind(StrEnum):
    PAIN = "pain"
    OPT_OUT = "opt_out"
    OPT_IN = "opt_in"
    HELP = "help"
    CRISIS = "crisis"
    OUT_OF_RANGE = "out_of_range"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class ParsedReply:
    kind: ReplyKind
    pain: int | None = None  # set for PAIN


def parse_reply(body: str, is_crisis: Callable[[str], bool]) -> ParsedReply:
    """What `body` asks or tells; see the module's note for the grammar."""
    if is_crisis(body):
        return ParsedReply(ReplyKind.CRISIS)
    text = " ".join(body.split())
    word = _TRAILING.sub("", text).upper()
    if word in OPT_OUT_WORDS or word.startswith("STOP "):
        return ParsedReply(ReplyKind.OPT_OUT)
    if word in OPT_IN_WORDS:
        return ParsedReply(ReplyKind.OPT_IN)
    if word in HELP_WORDS:
        return ParsedReply(ReplyKind.HELP)
    found = _RATING.fullmatch(text.lower())
    if found is None:
        return ParsedReply(ReplyKind.UNKNOWN)
    number = found["number"]
    value = NUMBER_WORDS[number] if number in NUMBER_WORDS else int(number)
    scale = found["scale"]
    if scale is not None and int(scale) != PAIN_MAX:
        return ParsedReply(ReplyKind.UNKNOWN)  # "7/5", "3 of 4": not a 0-10 rating
    if found["sign"] in ("-", "−") and value != 0:
        return ParsedReply(ReplyKind.OUT_OF_RANGE)
    if not PAIN_MIN <= value <= PAIN_MAX:
        return ParsedReply(ReplyKind.OUT_OF_RANGE)
    return ParsedReply(ReplyKind.PAIN, value)
