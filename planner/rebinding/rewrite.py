"""Rebinding: a stored plan rewritten for a new goal that matches its pattern."""

from __future__ import annotations

import copy
import re
from typing import Any

from pydantic import ValidationError

from planner.plan import Plan
from planner.rebinding.goal_text import (
    _INT,
    _NUMBER,
    _SEQUENCING,
    MAX_SLOT_CHARS,
    PathItem,
    SiteKind,
)
from planner.rebinding.pattern import GoalPattern, RebindResult, Slot, _bounded, value_shape
from planner.rebinding.plan_leaves import _get, _set, _split_raw


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
