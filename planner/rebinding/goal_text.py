"""Goal text: normalising a goal, the small-word and shape heuristics the patterns rely on."""

from __future__ import annotations

import re
from typing import Literal

PathItem = str | int


SiteKind = Literal["str", "int", "float"]


Shape = Literal["text", "number", "arithmetic", "token"]


MAX_SLOT_CHARS = 300


ARTICLES = ("the", "a", "an")


_TOKEN = re.compile(r"\w+(?:[.'@/:+\-]\w+)*")


_PREFIX = re.compile(
    r"^\s*(?:(?:hey|hi|ok|okay)\b[\s,]*)?(?:jarvis\b[\s,:]*)?"
    r"(?:(?:please|kindly|can you|could you|would you|will you)\b[\s,]*)*",
    re.IGNORECASE)


_SUFFIX = re.compile(r"(?:[\s,]*\bplease\b|[\s.!?,;:]+)$", re.IGNORECASE)


_UNIT = re.compile(r"(?:second|minute|hour|day|week|month|year)s?", re.IGNORECASE)


_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)")


_INT = re.compile(r"[+-]?\d+")


_ARITHMETIC = re.compile(r"[\d\s.+\-*/%()^,]+")


_ACTION_VERBS = ("send|email|e-mail|mail|notify|tell|text|message|save|write|post|delete|remove|"
                 "fetch|download|upload|open|read|list|search|find|remind|calculate|compute|"
                 "wait|schedule|book|call|run|create|update|append|add|summari[sz]e|translate|"
                 "compare|explain|count|sort|share|forward|print|show|cancel|store|copy|move|"
                 "rename|convert|check|get|set|make|put|ping|alert|publish|reply")


_SEQUENCING = re.compile(
    r"(?:^|\s)(?:and then|then|afterwards|after that|also|and also)(?:\s|$)|;|"
    r"[.!?]\s+\S|"  # a second sentence
    rf"(?:^|[\s,:])and\s+(?:{_ACTION_VERBS})\b|[,:]\s*(?:{_ACTION_VERBS})\b",
    re.IGNORECASE)


def normalise_goal(goal: str) -> str:
    """The goal as patterns see it: one-spaced, without polite prefix or final punctuation."""
    text = _PREFIX.sub("", " ".join(goal.split()), count=1)
    previous = None
    while previous != text:
        previous, text = text, _SUFFIX.sub("", text, count=1)
    return text.strip() or " ".join(goal.split())
