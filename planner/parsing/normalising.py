"""Normalising a found plan: key aliases, numeric step ids and references, a missing goal."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from planner.parsing.keys import STEP_KEY_ALIASES


def _normalise(data: Any, goal: str | None, fixes: list[str]) -> Any:
    if isinstance(data, list) and data and all(isinstance(s, dict) for s in data):
        data = {"steps": data}
        fixes.append("wrapped the top-level list of steps in a plan")
    if not isinstance(data, dict):
        return data
    current = data.get("goal")
    if goal and (current is None or (isinstance(current, str) and not current.strip())):
        data["goal"] = goal
        fixes.append("used the given goal (the output had none)")
    steps = data.get("steps")
    if isinstance(steps, list):
        _rename_step_keys(steps, fixes)
        _number_ids(data, steps, fixes)
    return data


def _rename_step_keys(steps: list[Any], fixes: list[str]) -> None:
    renamed: dict[tuple[str, str], list[int]] = {}
    for index, step in enumerate(steps):
        if not isinstance(step, dict):
            continue
        for ours, theirs in STEP_KEY_ALIASES.items():
            for alias in theirs:
                if ours not in step and alias in step:
                    step[ours] = step.pop(alias)
                    renamed.setdefault((alias, ours), []).append(index)
    for (alias, ours), indexes in renamed.items():
        which = ", ".join(map(str, indexes))
        fixes.append(f"renamed '{alias}' to '{ours}' (step{'s' if len(indexes) > 1 else ''} "
                     f"{which})")


def _as_number(value: Any) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    if isinstance(value, str) and value.isascii() and value.isdigit():
        return int(value)
    return None


def _number_ids(data: dict[str, Any], steps: list[Any], fixes: list[str]) -> None:
    """Numeric step ids (``1``, ``"2"``) -> ``"s1"``, ``"s2"``; deps and references follow."""
    dicts = [s for s in steps if isinstance(s, dict)]
    taken = {s.get("id") for s in dicts if isinstance(s.get("id"), str)}
    changed: list[str] = []
    for step in dicts:
        number = _as_number(step.get("id"))
        if number is None or f"s{number}" in taken:
            continue
        changed.append(f"{json.dumps(step['id'])} -> 's{number}'")
        step["id"] = f"s{number}"
        taken.add(step["id"])
    if not changed:
        return
    for step in dicts:
        deps = step.get("deps")
        if isinstance(deps, list):
            step["deps"] = [f"s{n}" if (n := _as_number(d)) is not None else d for d in deps]
        for key in ("args", "when"):
            if key in step:
                step[key] = _map_strings(step[key], _prefix_numeric_refs)
    if "outputs" in data:
        data["outputs"] = _map_strings(data["outputs"], _prefix_numeric_refs)
    fixes.append(f"converted numeric step ids to strings ({', '.join(changed)}), "
                 "with their deps and references")


def _map_strings(value: Any, fn: Callable[[str], str]) -> Any:
    if isinstance(value, str):
        return fn(value)
    if isinstance(value, dict):
        return {k: _map_strings(v, fn) for k, v in value.items()}
    if isinstance(value, list):
        return [_map_strings(v, fn) for v in value]
    return value


def _prefix_numeric_refs(text: str) -> str:
    """``${1.text}`` -> ``${s1.text}`` (``$${`` stays a literal)."""
    out: list[str] = []
    i = 0
    while (j := text.find("${", i)) >= 0:
        k = j + 2
        out.append(text[i:k])
        if not (j > 0 and text[j - 1] == "$") and text[k:k + 1].isdigit():
            out.append("s")
        i = k
    out.append(text[i:])
    return "".join(out)
