"""Parameter rebinding: reuse a stored plan for a new goal that differs only in its values.

When a plan is stored, the literal values in its step arguments (and ``when`` conditions) that
also appear verbatim in the goal become **slots**: ``remember that the boiler is serviced in May``
with ``notes_append(text="the boiler is serviced in May")`` gives the pattern
``remember that {0}`` and the site ``steps[0].args.text``. A new goal is matched against the
whole pattern; on a match the new values are written into a copy of the plan: whole values
(typed: ``30`` -> ``45``), text inside strings (``"Reminder: call mom"`` -> ``"Reminder: buy
milk"``, never inside ``${...}`` references), also in ``outputs`` and step descriptions, with the
planner's case change kept (``Paris`` written ``paris`` in a URL). The caller re-validates the
rebound plan against today's tools (:meth:`TemplateStore.find_reusable` does).

What makes a value a slot:

- a whole literal argument (string, or number written the same way in the goal), except a
  single word that is the goal's first word (its verb: "append ..." -> ``mode="append"``), or
- a span of goal words found inside a literal string: two or more words with at least one that
  is not a stop word, or one word carrying a digit, a capital (not the goal's first word) or
  inner punctuation (``report.txt``, ``wttr.in``). Single lowercase words inside longer text
  (``weather`` in ``weather.txt``) stay literal: they are more often vocabulary than parameters.
  Longer values win: an occurrence inside a longer value's span belongs to that value
  (``notes.txt`` inside ``backup/notes.txt``). A value that occurs several times in the goal
  is a slot only when the plan has as many places holding it (else one occurrence may be
  another parameter the planner rewrote, "$10,000" -> 10000), and then it must be the same at
  each place in the new goal.

When a pattern does not rebind (precision first, the LLM is the fallback):

- its literal words differ from the goal's (after lowercasing, collapsing whitespace, dropping
  a polite prefix such as "please" / "hey jarvis, can you", trailing punctuation, and treating
  "the/a/an" before a word and the plural of time units ("1 second") as optional);
- a new value is empty, much longer than the old one (> 3x words + 5, or > 300 characters),
  several words where the old one was one word (a path, a name, a URL part: "reports
  recursively" is not a folder), of another shape (old value a number or arithmetic, new one
  not), or adds a sequencing clause the old one did not have ("and then", "; ", "also", a
  second sentence, "and send/email/save/...", ", send ..."): such goals need a different plan,
  not the same one;
- the template is not rebindable: text of a slot's value also occurs elsewhere in the plan
  where it cannot be rewritten (``tags=["boiler"]`` next to the note text), or the pattern has
  fewer than two literal words (``{0}`` alone would match anything). Such a template still
  matches its own goal exactly.

Limits: values the planner *derived* from the goal (coordinates for a city, 120 for "2 minutes",
a date for "tomorrow") are not recognised as parameters, so the goal words they came from stay
literal and a goal with other words does not match; but if the plan holds both a recognised value
and a derived one (a city name and its coordinates), rebinding the name leaves the derived value
stale. Paraphrases never match (the LLM plans them, with the stored plan as an example).
"""

from __future__ import annotations

import copy
import hashlib
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import ValidationError

from planner.plan import Plan
from planner.refs import scan
from planner.words import STOP_WORDS

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


# ------------------------------------------------------------------------------ data model


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


# --------------------------------------------------------------------------- regex building


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


# ------------------------------------------------------------------------- plan traversal


def _split_raw(text: str) -> list[tuple[bool, int, int]]:
    """Segments of a raw argument string: (is_reference, start, end), from the one scanner
    (:func:`planner.refs.scan`); ``$${`` and an unclosed ``${`` stay literal."""
    return [(span.kind == "ref", span.start, span.end) for span in scan(text)]


def _literal_text(text: str) -> list[str]:
    return [text[a:b] for is_ref, a, b in _split_raw(text) if not is_ref]


def _leaves(value: Any, path: tuple[PathItem, ...]) -> Iterator[tuple[tuple[PathItem, ...], Any]]:
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _leaves(v, (*path, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _leaves(v, (*path, i))
    else:
        yield path, value


def _plan_leaves(data: dict[str, Any], *, sources: bool) -> Iterator[tuple[tuple[PathItem, ...],
                                                                          Any]]:
    """Leaves of the plan dict: step args and conditions; with ``sources=False`` also the
    outputs (values are rewritten there but never discovered there)."""
    for i, step in enumerate(data["steps"]):
        yield from _leaves(step.get("args", {}), ("steps", i, "args"))
        if step.get("when"):
            yield ("steps", i, "when"), step["when"]
    if not sources:
        yield from _leaves(data.get("outputs", {}), ("outputs",))


def _get(data: Any, path: tuple[PathItem, ...]) -> Any:
    for item in path:
        data = data[item]
    return data


def _set(data: Any, path: tuple[PathItem, ...], value: Any) -> None:
    for item in path[:-1]:
        data = data[item]
    data[path[-1]] = value


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _number_texts(value: float) -> list[str]:
    if isinstance(value, int):
        return [str(value)]
    texts = [repr(value)]
    if value.is_integer():
        texts.insert(0, str(int(value)))
    return texts


# ----------------------------------------------------------------------- pattern extraction


@dataclass
class _Candidate:
    value: str
    spans: list[tuple[int, int]]
    goal: str
    sites: list[Site] = field(default_factory=list)

    def add(self, site: Site) -> None:
        if site not in self.sites:
            self.sites.append(site)


def _content_tokens(text: str) -> set[str]:
    return {t for t in (x.lower() for x in _TOKEN.findall(text))
            if (len(t) >= 3 and t not in STOP_WORDS) or any(c.isdigit() for c in t)}


def _qualifies_whole(value: str) -> bool:
    toks = [t.lower() for t in _TOKEN.findall(value)]
    return 0 < len(value) <= MAX_SLOT_CHARS and any(t not in STOP_WORDS for t in toks)


def _qualifies_fragment(text: str, goal_start: int) -> bool:
    toks = _TOKEN.findall(text)
    if len(toks) >= 2:
        return any(t.lower() not in STOP_WORDS for t in toks)
    if len(toks) != 1 or toks[0].lower() in STOP_WORDS or len(toks[0]) < 2:
        return False
    tok = toks[0]
    capital = goal_start > 0 and any(c.isupper() for c in tok)
    return capital or any(c.isdigit() for c in tok) or any(c in ".@/:+-'" for c in tok)


def _fragments(goal: str, tokens: list[re.Match[str]], literal: str) -> Iterator[tuple[int, int]]:
    """Maximal spans of goal tokens (greedy, left to right) that occur inside ``literal``."""
    i = 0
    while i < len(tokens):
        best = -1
        for j in range(i, len(tokens)):
            if _bounded(goal[tokens[i].start():tokens[j].end()]).search(literal):
                best = j
            else:
                break  # a longer span contains this one, so it cannot occur either
        if best >= 0:
            yield tokens[i].start(), tokens[best].end()
            i = best + 1
        else:
            i += 1


def _candidates(goal: str, data: dict[str, Any]) -> dict[str, _Candidate]:
    cands: dict[str, _Candidate] = {}
    tokens = list(_TOKEN.finditer(goal))

    def note(text: str, spans: list[tuple[int, int]], site: Site) -> None:
        if not spans:
            return
        key = " ".join(text.lower().split())
        if key not in cands:
            cands[key] = _Candidate(value=goal[spans[0][0]:spans[0][1]], spans=spans, goal=goal)
        cands[key].add(site)

    for path, leaf in _plan_leaves(data, sources=True):
        if _is_number(leaf):
            kind: SiteKind = "int" if isinstance(leaf, int) else "float"
            for text in _number_texts(leaf):
                spans = [m.span() for m in _bounded(text, number=True).finditer(goal)]
                if spans:
                    note(text, spans, Site(path, True, kind))
                    break
        elif isinstance(leaf, str) and leaf.strip():
            literal_parts = _literal_text(leaf)
            whole = leaf.strip()
            if literal_parts == [leaf] and _qualifies_whole(whole):
                spans = [m.span() for m in _bounded(whole).finditer(goal)]
                if spans == [(0, len(whole))] and len(_TOKEN.findall(whole)) == 1:
                    continue  # the goal's first word is its verb ("append" -> mode=append)
                if spans:
                    note(whole, spans, Site(path, whole == leaf))
                    continue
            for part in literal_parts:
                for a, b in _fragments(goal, tokens, part):
                    text = goal[a:b]
                    if _qualifies_fragment(text, a):
                        spans = [m.span() for m in _bounded(text).finditer(goal)]
                        note(text, spans, Site(path, False))
    return cands


def _choose(cands: dict[str, _Candidate]) -> list[_Candidate]:
    """Longest values first; occurrences inside a chosen value's span are not the value's
    (``notes.txt`` in ``backup/notes.txt``); a value left with no occurrence is dropped."""
    chosen: list[_Candidate] = []
    taken: list[tuple[int, int]] = []
    for cand in sorted(cands.values(), key=lambda c: (-len(c.value), c.spans[0][0])):
        free = [(a, b) for a, b in cand.spans if not any(a < d and c < b for c, d in taken)]
        if not free or len(free) > len({site.path for site in cand.sites}):
            # more places in the goal than in the plan: some occurrence may be another
            # parameter the planner wrote differently (10 in "length 10" and "$10 thousand")
            continue
        cand.spans = free
        cand.value = cand.goal[free[0][0]:free[0][1]]
        chosen.append(cand)
        taken.extend(free)
    return sorted(chosen, key=lambda c: c.spans[0][0])


def _leftover(data: dict[str, Any], chosen: list[_Candidate]) -> str | None:
    """Text of a slot value that survives in the plan outside the slot's sites, if any."""
    content = set().union(*(_content_tokens(c.value) for c in chosen)) if chosen else set()
    if not content:
        return None
    values = [c.value for c in chosen]
    whole_sites = {s.path for c in chosen for s in c.sites if s.whole}
    for path, leaf in _plan_leaves(data, sources=False):
        if path in whole_sites:
            continue
        if _is_number(leaf):
            texts = set(_number_texts(leaf)) & content
            if texts:
                return f"{'.'.join(map(str, path))} = {leaf} also occurs in a goal value"
        elif isinstance(leaf, str):
            rest = " ".join(_literal_text(_replace(leaf, {v: " " for v in values})))
            clash = _content_tokens(rest) & content
            if clash:
                return (f"{'.'.join(map(str, path))} also contains '{sorted(clash)[0]}' from a "
                        "goal value, which rebinding could not update")
    return None


def extract_pattern(goal: str, plan: Plan) -> GoalPattern:
    """The goal's pattern and where each slot's value sits in ``plan``."""
    text = normalise_goal(goal)
    data = plan.model_dump(mode="json")
    chosen = _choose(_candidates(text, data))
    reason = _leftover(data, chosen)
    if reason is None and chosen:
        parts, slots = _parts(text, chosen), _slots(data, chosen)
        literal = " ".join(p for p in parts if isinstance(p, str))
        words = [t.lower() for t in _TOKEN.findall(literal)]
        if len(words) < 2 or all(w in STOP_WORDS for w in words):
            reason = "too little fixed text around the values (it would match almost any goal)"
        else:
            return GoalPattern(parts=parts, slots=slots)
    return GoalPattern(parts=(text,), rebindable=reason is None, reason=reason or "")


def _parts(goal: str, chosen: list[_Candidate]) -> tuple[str | int, ...]:
    spans = sorted((a, b, i) for i, c in enumerate(chosen) for a, b in c.spans)
    parts: list[str | int] = []
    pos = 0
    for a, b, i in spans:
        if a > pos:
            parts.append(goal[pos:a])
        parts.append(i)
        pos = b
    if pos < len(goal):
        parts.append(goal[pos:])
    return tuple(parts)


def _slots(data: dict[str, Any], chosen: list[_Candidate]) -> tuple[Slot, ...]:
    slots = []
    for cand in chosen:
        sites = list(cand.sites)
        # values are also rewritten in outputs and step descriptions (never discovered there)
        extra = [(p, v) for p, v in _plan_leaves(data, sources=False) if p[0] == "outputs"]
        extra += [(("steps", i, "description"), s.get("description") or "")
                  for i, s in enumerate(data["steps"])]
        for path, leaf in extra:
            if isinstance(leaf, str) and any(_bounded(cand.value).search(t)
                                             for t in _literal_text(leaf)):
                sites.append(Site(path, False))
        slots.append(Slot(value=cand.value, sites=tuple(sites)))
    return tuple(slots)


def template_key(pattern: GoalPattern, plan: Plan) -> str:
    """Identity of a template: its pattern and its plan with slot values blanked out."""
    data = plan.model_dump(mode="json", exclude={"goal"})
    data_full = plan.model_dump(mode="json")
    for i, slot in enumerate(pattern.slots):
        for site in slot.sites:
            if site.path and site.path[-1] == "description":
                continue
            marker = f"{{{{slot{i}}}}}"
            if site.whole:
                _set(data, site.path, marker)
            else:
                _set(data, site.path, _replace(_get(data_full, site.path), {slot.value: marker}))
    for step in data["steps"]:
        step.pop("description", None)
    payload = json.dumps({"pattern": pattern.key(), "plan": data}, sort_keys=True,
                         ensure_ascii=False)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


# ------------------------------------------------------------------------------- rebinding


def _replace(raw: str, mapping: dict[str, str]) -> str:
    """Replace whole-word occurrences of each key in the literal (non-reference) parts of
    ``raw`` at once, keeping the case style (lower/upper) of each occurrence."""
    if not mapping:
        return raw
    keys = sorted(mapping, key=len, reverse=True)
    regexes = [(_bounded(k), k, mapping[k]) for k in keys]
    pieces = []
    for is_ref, a, b in _split_raw(raw):
        text = raw[a:b]
        if not is_ref:
            text = _replace_all(text, regexes)
        pieces.append(text)
    return "".join(pieces)


def _replace_all(text: str, regexes: list[tuple[re.Pattern[str], str, str]]) -> str:
    combined = "|".join(f"(?:{r.pattern})" for r, _, _ in regexes)

    def sub(m: re.Match[str]) -> str:
        found = m.group(0)
        for rx, old, new in regexes:
            if rx.fullmatch(found):
                return same_case(old, found, new)
        return found

    return re.sub(combined, sub, text, flags=re.IGNORECASE)


def same_case(goal_value: str, plan_value: str, new: str) -> str:
    """``new`` with the case change the planner applied to the goal's value (``Paris`` written
    ``paris`` in a URL, ``open`` written ``OPEN``); unchanged when there was none."""
    if plan_value == goal_value or not plan_value:
        return new
    if plan_value == goal_value.lower():
        return new.lower()
    if plan_value == goal_value.upper():
        return new.upper()
    if plan_value == goal_value[:1].upper() + goal_value[1:]:
        return new[:1].upper() + new[1:]
    if plan_value == goal_value[:1].lower() + goal_value[1:]:
        return new[:1].lower() + new[1:]
    if plan_value == _title(goal_value):
        return _title(new)
    return new


_SMALL_WORDS = frozenset(["a", "an", "the", "and", "or", "but", "of", "to", "in", "on", "at",
                          "by", "for", "with", "from", "as"])


def _title(text: str) -> str:
    """Title Case as planners write it: small words stay lower except the first."""
    words = text.split(" ")
    return " ".join(w if (i and w.lower() in _SMALL_WORDS) else w[:1].upper() + w[1:]
                    for i, w in enumerate(words))


def _guard(slot: Slot, new: str) -> bool:
    """Is ``new`` a plausible value for the same plan (see the module doc)?"""
    if not new or len(new) > MAX_SLOT_CHARS:
        return False
    old_words, new_words = len(slot.value.split()), len(new.split())
    if new_words > 3 * old_words + 5:
        return False
    if old_words == 1 and new_words > 1:
        return False  # one-word values are names, paths, URLs: "reports recursively" is not one
    shape = slot.shape
    if shape != "text" and value_shape(new) != shape:
        return False
    numeric = any(site.whole and site.kind != "str" for site in slot.sites)
    if numeric and not _NUMBER.fullmatch(new):
        return False
    return not (_SEQUENCING.search(new) and not _SEQUENCING.search(slot.value))


def _typed(new: str, kind: SiteKind) -> Any:
    """The new value as the site's JSON type; a number stays an int when written as one (the
    tool's schema, checked by validation afterwards, decides whether a float is acceptable)."""
    if kind == "str":
        return new
    return int(new) if _INT.fullmatch(new) else float(new)


def rebind(pattern: GoalPattern, plan: Plan, goal: str) -> RebindResult | None:
    """``plan`` rewritten for ``goal`` when the goal matches ``pattern``, else None."""
    values = pattern.match(goal)
    if values is None:
        return None
    slots = pattern.slots
    if any(not _guard(slots[i], v) for i, v in values.items()):
        return None
    data = plan.model_dump(mode="json")
    fragments: dict[tuple[PathItem, ...], dict[str, str]] = {}
    bindings: dict[str, Any] = {}
    try:
        for i, new in values.items():
            slot = slots[i]
            bindings[f"slot{i}"] = _typed(new, slot.sites[0].kind if slot.sites[0].whole
                                          else "str")
            for site in slot.sites:
                if site.whole:
                    old = _get(data, site.path)
                    text = same_case(slot.value, old, new) if isinstance(old, str) else new
                    _set(data, site.path, _typed(text, site.kind))
                else:
                    fragments.setdefault(site.path, {})[slot.value] = new
        whole_paths = {site.path for slot in slots for site in slot.sites if site.whole}
        for path, mapping in fragments.items():
            if path not in whole_paths:  # a whole value already replaced it
                _set(data, path, _replace(_get(data, path), mapping))
    except (KeyError, IndexError, TypeError, ValueError):
        return None  # the stored sites do not fit this plan: never guess
    data["goal"] = goal
    try:
        new_plan = Plan.model_validate(copy.deepcopy(data))
    except ValidationError:
        return None
    return RebindResult(plan=new_plan, bindings=bindings)


__all__ = [
    "GoalPattern",
    "RebindResult",
    "Site",
    "Slot",
    "extract_pattern",
    "goal_head",
    "normalise_goal",
    "rebind",
    "template_key",
]
