"""The goal-pattern model (sites, slots, the pattern and its regular expression)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from planner.plan import Plan
from planner.rebinding.goal_text import (
    _ARITHMETIC,
    _NUMBER,
    _TOKEN,
    _UNIT,
    ARTICLES,
    PathItem,
    Shape,
    SiteKind,
    normalise_goal,
)


@dataclass(frozen=True)
class Site:
    """Where a slot's value sits in the plan: a path into ``plan.model_dump(mode="json")``."""

    path: tuple[PathItem, ...]
    whole: bool  # the leaf is the value itself (typed), else the value is text inside a string
    kind: SiteKind = "str"


@dataclass(frozen=True)
class Slot:
    value: str  # as written in the stored goal
    sites: tuple[Site, ...]

    @property
    def shape(self) -> Shape:
        return value_shape(self.value)


@dataclass(frozen=True)
class GoalPattern:
    """A goal with slots: ``parts`` mixes literal text and slot indexes."""

    parts: tuple[str | int, ...]
    slots: tuple[Slot, ...] = ()
    rebindable: bool = True
    reason: str = ""
    _regex: list[re.Pattern[str]] = field(default_factory=list, compare=False, repr=False)

    def text(self) -> str:
        """Human form, e.g. ``remember that {0}``."""
        return "".join(p if isinstance(p, str) else "{" + str(p) + "}" for p in self.parts)

    def key(self) -> str:
        """Normalised pattern text: equal keys match the same goals."""
        out = []
        for part in self.parts:
            if isinstance(part, int):
                out.append("{" + str(part) + "}")
            else:
                out.append(" ".join(part.lower().split()) if part.strip() else " ")
        return "".join(out)

    def head(self) -> str:
        """The pattern's first literal word (not an article), or "" when it starts with a slot."""
        if not self.parts or not isinstance(self.parts[0], str):
            return ""
        return goal_head(self.parts[0])

    def regex(self) -> re.Pattern[str]:
        if not self._regex:
            self._regex.append(_compile(self.parts, self.slots))
        return self._regex[0]

    def match(self, goal: str) -> dict[int, str] | None:
        """Slot values for a goal (normalised here) matching the whole pattern, else None."""
        m = self.regex().fullmatch(normalise_goal(goal))
        if m is None:
            return None
        return {i: m.group(f"s{i}").strip() for i in range(len(self.slots))}

    def to_json(self) -> str:
        return json.dumps({
            "parts": list(self.parts),
            "slots": [{"value": s.value,
                       "sites": [{"path": list(t.path), "whole": t.whole, "kind": t.kind}
                                 for t in s.sites]} for s in self.slots],
            "rebindable": self.rebindable,
            "reason": self.reason,
        }, ensure_ascii=False, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> GoalPattern:
        data = json.loads(text)
        slots = tuple(
            Slot(value=s["value"],
                 sites=tuple(Site(path=tuple(t["path"]), whole=t["whole"], kind=t["kind"])
                             for t in s["sites"]))
            for s in data["slots"])
        return cls(parts=tuple(data["parts"]), slots=slots, rebindable=data["rebindable"],
                   reason=data["reason"])


@dataclass(frozen=True)
class RebindResult:
    plan: Plan
    bindings: dict[str, Any]  # "slot0" -> the new value (typed as the first site needs it)


def goal_head(text: str) -> str:
    """First word of a (normalised) goal that is not an article, lowercased."""
    for m in _TOKEN.finditer(normalise_goal(text).lower()):
        if m.group(0) not in ARTICLES:
            return m.group(0)
    return ""


def value_shape(value: str) -> Shape:
    if _NUMBER.fullmatch(value):
        return "number"
    if _ARITHMETIC.fullmatch(value) and any(c.isdigit() for c in value):
        return "arithmetic"
    if not any(c.isspace() for c in value) and any(not c.isalpha() for c in value):
        return "token"
    return "text"


def _literal_regex(text: str) -> str:
    out: list[str] = []
    pieces = [p for p in re.split(r"(\s+)", text) if p]
    i = 0
    while i < len(pieces):
        piece = pieces[i]
        if piece.isspace():
            out.append(r"\s+")
        elif piece.lower() in ARTICLES and i + 1 < len(pieces) and pieces[i + 1].isspace():
            out.append(rf"(?:{re.escape(piece)}\s+)?")  # "the " is optional
            i += 1
        elif _UNIT.fullmatch(piece):
            out.append(re.escape(piece.rstrip("sS")) + "s?")  # "in 1 second" / "in 30 seconds"
        else:
            out.append(re.escape(piece))
        i += 1
    return "".join(out)


def _compile(parts: tuple[str | int, ...], slots: tuple[Slot, ...]) -> re.Pattern[str]:
    seen: set[int] = set()
    out = []
    for part in parts:
        if isinstance(part, int):
            # a one-word value stays one word (see _guard); saying so in the regex also splits
            # adjacent slots right: "contact {1} {2}" with {2} a phone number
            one_word = part < len(slots) and len(slots[part].value.split()) == 1
            body = r"\S+" if one_word else ".+?"
            out.append(f"(?P=s{part})" if part in seen else f"(?P<s{part}>{body})")
            seen.add(part)
        else:
            out.append(_literal_regex(part))
    return re.compile("".join(out), re.IGNORECASE | re.DOTALL)


def _bounded(needle: str, *, number: bool = False) -> re.Pattern[str]:
    """Case-insensitive search for ``needle`` not glued to surrounding word characters."""
    core = r"\s+".join(re.escape(w) for w in needle.split())
    if number:  # not part of a longer number: 10 is not in 2.10, 10.5 or $10,000
        return re.compile(rf"(?<![\w.,]){core}(?![\w]|[.,]\d)", re.IGNORECASE)
    pre = r"(?<!\w)" if re.match(r"\w", needle) else ""
    post = r"(?!\w)" if re.search(r"\w$", needle) else ""
    return re.compile(pre + core + post, re.IGNORECASE)
