"""Schema errors as problems a model (or a person) can act on."""

from __future__ import annotations

import difflib
import json
from typing import Any

from pydantic import ValidationError

from planner.plan import Plan, Step
from planner.retry import RetryOverride
from planner.validation import Problem

_FIELDS: dict[str, list[str]] = {
    "plan": list(Plan.model_fields),
    "step": list(Step.model_fields),
    "retry": list(RetryOverride.model_fields),
}


_MISSING_HINTS = {
    ("plan", "goal"): "add 'goal', the user's goal in one sentence",
    ("plan", "steps"): "add 'steps', the list of tool calls",
    ("step", "id"): "every step needs a unique 'id' (letters, digits, _ and -, starting with "
                    "a letter)",
    ("step", "tool"): "every step needs 'tool', the exact name of a listed tool",
}


def _location(loc: tuple[int | str, ...]) -> str:
    out = ""
    for item in loc:
        out += f"[{item}]" if isinstance(item, int) else (f".{item}" if out else str(item))
    return out


def _level(loc: tuple[int | str, ...]) -> str:
    if len(loc) >= 2 and loc[0] == "steps" and isinstance(loc[1], int):
        return "retry" if len(loc) >= 4 and loc[2] == "retry" else "step"
    return "plan"


def _step_id(data: Any, loc: tuple[int | str, ...]) -> str | None:
    if _level(loc) == "plan" or not isinstance(data, dict):
        return None
    steps = data.get("steps")
    index = loc[1]
    if isinstance(steps, list) and isinstance(index, int) and index < len(steps):
        step = steps[index]
        if isinstance(step, dict) and isinstance(step.get("id"), str):
            return str(step["id"])
    return None


def _got(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= 80 else text[:77] + "..."


def _shape_problems(exc: ValidationError, data: Any) -> list[Problem]:
    problems = []
    for err in exc.errors():
        loc = tuple(err["loc"])
        problems.append(Problem(code="bad_plan_shape", step_id=_step_id(data, loc),
                                location=_location(loc), message=_shape_message(err, loc)))
    return problems


def _shape_message(err: Any, loc: tuple[int | str, ...]) -> str:
    kind, name, level = err["type"], str(loc[-1]) if loc else "", _level(loc[:-1])
    if not loc and kind in ("model_type", "model_attributes_type", "dict_type"):
        return (f"expected a plan object with 'goal' and 'steps', got {_kind(err['input'])} "
                f"{_got(err['input'])}")
    if kind == "missing":
        hint = _MISSING_HINTS.get((level, name))
        return f"missing required field '{name}'" + (f": {hint}" if hint else "")
    if kind == "extra_forbidden":
        allowed = _FIELDS[level]
        close = difflib.get_close_matches(name, allowed, n=1, cutoff=0.6)
        return (f"unknown field '{name}'" + (f" (did you mean '{close[0]}'?)" if close else "")
                + f"; allowed here: {', '.join(allowed)}")
    if kind == "string_pattern_mismatch" and level == "step" and name == "id":
        return (f"step id {_got(err['input'])} is not allowed: use letters, digits, _ and -, "
                "starting with a letter or _ (at most 64 characters)")
    if kind in _TYPE_WORDS:
        return f"expected {_TYPE_WORDS[kind]}, got {_kind(err['input'])} {_got(err['input'])}"
    if kind == "too_short" and loc == ("steps",):
        return "a plan needs at least one step"
    if kind == "string_too_short" and loc == ("goal",):
        return "the goal must not be empty"
    return f"{err['msg']} (got {_got(err['input'])})"


_TYPE_WORDS = {"list_type": "a list", "dict_type": "an object", "string_type": "a string",
               "float_type": "a number", "float_parsing": "a number", "int_type": "an integer"}


def _kind(value: Any) -> str:
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return "a string"
    return "null" if value is None else f"a {type(value).__name__}"

