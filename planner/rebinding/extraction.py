"""Extracting a goal pattern from a goal and the plan that served it."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from planner.migrations import earliest_form
from planner.plan import Plan
from planner.rebinding.goal_text import _TOKEN, MAX_SLOT_CHARS, SiteKind, normalise_goal
from planner.rebinding.pattern import GoalPattern, Site, Slot, _bounded
from planner.rebinding.plan_leaves import (
    _get,
    _is_number,
    _literal_text,
    _number_texts,
    _plan_leaves,
    _set,
)
from planner.rebinding.rewrite import _replace
from planner.words import STOP_WORDS


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


EDITED_REASON = ("a person edited the plan at review, so its values need not come from the "
                 "goal's words")


def example_pattern(goal: str, reason: str = EDITED_REASON) -> GoalPattern:
    """The pattern of a plan kept only as an example: it matches its own goal, never rebinds."""
    return GoalPattern(parts=(normalise_goal(goal),), rebindable=False, reason=reason)


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
    # the earliest schema form: a template keeps its id when plans gain a schema version
    data = earliest_form(plan.model_dump(mode="json", exclude={"goal"}))
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
