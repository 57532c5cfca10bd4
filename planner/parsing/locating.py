"""Locating the plan's JSON in model text (candidate blocks, decoding with json-repair, scoring,
completing a truncated answer at a step or field boundary) and unwrapping envelopes (tool-call
and function-call wrappers, {"plan": ...}, JSON inside strings)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import json_repair

from planner.parsing.keys import (
    _MAX_BLOCKS,
    _MAX_WRAP_DEPTH,
    _PLAN_KEYS,
    _PY_LITERALS,
    _SCORE_JSON,
    _SCORE_PLAN,
    _SCORE_PLAN_KEYS,
    _SCORE_STEP_LIST,
    MAX_DEPTH,
    MAX_OUTPUT_CHARS,
    MAX_REPAIR_CHARS,
    SCAN_BUDGET,
    WRAPPER_KEYS,
)
from planner.parsing.scanning import _fence_lines, _Region, _regions, _Scanner, _Segment
from planner.validation import Problem


@dataclass
class _Block:
    segment: _Segment
    region: _Region
    value: Any
    score: int
    unwrap_fixes: list[str]
    strict: bool  # decoded by json.loads as is
    decode_error: str


_FAILED = object()


class _TooDeep(Exception):
    """The output nests deeper than MAX_DEPTH at ``position``: no plan is that deep."""

    def __init__(self, position: int) -> None:
        super().__init__(position)
        self.position = position


def _decode(text: str) -> tuple[Any, bool, str]:
    """(value, strict, error): json.loads, else json_repair; ``_FAILED`` when both fail."""
    try:
        return json.loads(text), True, ""
    except json.JSONDecodeError as exc:
        error = f"{exc.msg} at line {exc.lineno}, column {exc.colno}"
    except RecursionError:
        return _FAILED, False, "nested too deeply"
    except ValueError as exc:  # e.g. an integer literal too long to convert
        return _FAILED, False, str(exc)
    if len(text) > MAX_REPAIR_CHARS:
        return _FAILED, False, f"{error}; too long to repair ({len(text)} characters)"
    try:
        value: Any = json_repair.loads(text, skip_json_loads=True)
    except (ValueError, RecursionError, IndexError) as exc:  # json_repair's own failures
        return _FAILED, False, f"{error}; json_repair: {exc}"
    return value, False, error


def _blocks(text: str) -> Iterator[_Block]:
    count, budget = 0, SCAN_BUDGET * len(text) + 1000  # characters scanned, all blocks
    for region in _regions(text):
        i = region.start
        while i < region.end and count < _MAX_BLOCKS and budget > 0:
            starts = [p for p in (text.find("{", i, region.end), text.find("[", i, region.end))
                      if p >= 0]
            if not starts:
                break
            start = min(starts)
            seg = _Scanner(text, start, region.end).run()
            if seg.too_deep:
                raise _TooDeep(seg.end)
            budget -= seg.end - seg.start
            body = text[seg.start:seg.end]
            value, strict, error = _decode(body + seg.closers if seg.completable else body)
            count += 1
            if value is not _FAILED:
                fixes: list[str] = []
                value = _unwrap(value, fixes)
                block = _Block(seg, region, value, _score(value), fixes, strict, error)
                yield block
                if not seg.closed and block.score >= _SCORE_PLAN:
                    break  # a cut-off plan: its inner blocks are parts of it, not candidates
            i = seg.end if seg.closed else start + 1


def _score(value: Any) -> int:
    if isinstance(value, dict):
        if "steps" in value:
            return _SCORE_PLAN
        return _SCORE_PLAN_KEYS if _PLAN_KEYS & set(value) else _SCORE_JSON
    if isinstance(value, list) and value:
        if all(isinstance(v, dict) for v in value) and any(
                {"tool", "tool_name", "name"} & set(v) for v in value):
            return _SCORE_STEP_LIST
        return _SCORE_JSON
    return 0


def _locate(text: str, fixes: list[str]) -> tuple[Any, _Segment | None] | list[Problem]:
    """The decoded JSON block that looks most like a plan (and its segment when it was cut
    off and completed), or the problems when there is none."""
    if not text.strip():
        return [Problem(code="unparseable", message="the output is empty; answer with the plan "
                        "as one JSON object with 'goal' and 'steps'")]
    if len(text) > MAX_OUTPUT_CHARS:
        return [Problem(code="unparseable", message=f"the output is {len(text)} characters "
                        f"long (at most {MAX_OUTPUT_CHARS} are read); answer with the plan "
                        "alone, as one JSON object with 'goal' and 'steps'")]
    stripped = text.strip()
    if stripped[:1] in "{[\"":
        try:  # fast path: the whole output is JSON
            whole: Any = json.loads(stripped)
        except (ValueError, RecursionError):  # JSONDecodeError is a ValueError
            pass
        else:
            if isinstance(whole, dict | list) or _score(_unwrap(whole, [])):
                return _unwrap(whole, fixes), None
    try:
        blocks = [b for b in _blocks(text) if b.score >= _SCORE_PLAN_KEYS or (
            b.score and (b.region.fenced
                         or text[b.segment.start:b.segment.end].strip() == stripped))]
    except _TooDeep as deep:
        line, col = _line_col(text, deep.position)
        return [Problem(code="unparseable", location=f"line {line}, column {col}",
                        message=f"the JSON nests deeper than {MAX_DEPTH} levels here; a plan "
                        "needs only a few: answer with the plan as one flat JSON object with "
                        "'goal' and 'steps'")]
    if not blocks:
        return [Problem(code="unparseable", message=f"no plan JSON in the output (it starts "
                        f"{_excerpt(stripped)}); answer with the plan as one JSON object with "
                        "'goal' and 'steps', and nothing else")]
    best = max(blocks, key=lambda b: (b.score, b.segment.closed, b.region.fenced,
                                      b.segment.start))
    seg = best.segment
    if best.region.fenced:
        fixes.append("removed code fence")
    before, after = _prose_around(text, seg)
    if before:
        fixes.append("dropped prose before JSON")
    if after:
        fixes.append("dropped prose after JSON")
    if len(blocks) > 1:
        rivals = sum(b.score == best.score for b in blocks)
        why = ("the only one that looks like a plan" if rivals == 1 else
               f"{rivals} look like plans: the last {'complete ' if seg.closed else ''}one")
        number = next(n for n, b in enumerate(blocks, 1) if b is best)
        fixes.append(f"used JSON block {number} of {len(blocks)} ({why})")
    if not seg.closed and not seg.completable:
        line, col = _line_col(text, seg.end)
        return [Problem(code="unparseable", location=f"line {line}, column {col}",
                        message=f"the output is cut off {_TAILS[seg.tail]}, so the plan is "
                        "incomplete; answer with the whole plan again (shorter descriptions "
                        "help if it was long)")]
    fixes.extend(_repair_fixes(best))
    fixes.extend(best.unwrap_fixes)
    return best.value, (None if seg.closed else seg)


_TAILS: dict[str, str] = {
    "string": "inside a string", "word": "inside a number or literal",
    "key": "after an object key", "comma": "after a comma (more was coming)",
    "colon": "after a ':' (a value is missing)", "open": "right after an opening bracket",
    "nested": "inside an unfinished step (or another nested object or list)",
    "value": "after a value",
}


def _repair_fixes(block: _Block) -> list[str]:
    seg, out = block.segment, []
    if not seg.closed:
        out.append(f"repaired truncated JSON (added the missing '{seg.closers}' at the end; "
                   "anything the model meant to write after the cut is lost)")
    if seg.comments:
        out.append("removed comments")
    if seg.trailing_commas:
        out.append("removed trailing commas")
    literals = [name for name in ("single quotes", *_PY_LITERALS)
                if (name == "single quotes" and seg.single_quotes) or name in seg.py_literals]
    if literals:
        out.append(f"converted Python literals ({', '.join(literals)})")
    if not block.strict and not out:
        out.append(f"repaired malformed JSON ({block.decode_error})")
    return out


def _prose_around(text: str, seg: _Segment) -> tuple[bool, bool]:
    fences = list(_fence_lines(text))

    def has_prose(lo: int, hi: int) -> bool:
        pos = lo
        for f_start, f_end in fences:
            if f_end <= lo or f_start >= hi:
                continue
            if text[pos:max(pos, f_start)].strip():
                return True
            pos = max(pos, f_end)
        return bool(text[pos:hi].strip())

    return has_prose(0, seg.start), has_prose(seg.end, len(text))


def _line_col(text: str, index: int) -> tuple[int, int]:
    line = text.count("\n", 0, index) + 1
    return line, index - (text.rfind("\n", 0, index) + 1) + 1


def _excerpt(text: str, limit: int = 60) -> str:
    flat = " ".join(text.split())
    return json.dumps(flat if len(flat) <= limit else flat[:limit - 3] + "...")


def _unwrap(value: Any, fixes: list[str]) -> Any:
    """The plan inside a JSON string, a one-element list or a wrapper; ``value`` otherwise."""
    if isinstance(value, str):
        inner = _json_in_string(value)
        if inner is not None:
            fixes.append("decoded the JSON string that holds the plan")
            return _unwrap(inner, fixes)
        return value
    if isinstance(value, list) and len(value) == 1 and isinstance(value[0], dict) and (
            _score(_unwrap(value[0], [])) == _SCORE_PLAN):
        fixes.append("unwrapped a one-element list")
        return _unwrap(value[0], fixes)
    if not isinstance(value, dict) or "steps" in value:
        return value
    plan_list = value.get("plan")
    if isinstance(plan_list, list) and _score(plan_list) == _SCORE_STEP_LIST:
        fixes.append("renamed 'plan' to 'steps'")
        return {("steps" if k == "plan" else k): v for k, v in value.items()}
    found = _find_wrapped(value, "", 0)
    if found is None:
        return value
    inner, path, encoded = found
    if path == "plan":
        fixes.append("unwrapped {'plan': ...}")
    else:
        name = _call_name(value)
        fixes.append(f"unwrapped tool call{f' {name!r}' if name else ''} ({path}"
                     + (", a JSON string)" if encoded else ")"))
    if isinstance(value.get("goal"), str) and isinstance(inner, dict) and "goal" not in inner:
        inner = {"goal": value["goal"], **inner}
        fixes.append("kept the goal from outside the wrapper")
    return inner


def _json_in_string(text: str) -> Any:
    stripped = text.strip()
    if stripped[:1] not in ("{", "["):
        return None
    value, _, _ = _decode(stripped)
    return value if isinstance(value, dict | list) else None


def _find_wrapped(value: Any, path: str, depth: int) -> tuple[Any, str, bool] | None:
    """Search the wrapper keys for a dict with ``steps``: (it, its path, was a JSON string)."""
    if depth > _MAX_WRAP_DEPTH:
        return None
    if isinstance(value, list):
        for i, item in enumerate(value):
            found = _find_wrapped(item, f"{path}[{i}]", depth + 1)
            if found:
                return found
        return None
    if not isinstance(value, dict):
        return None
    for key in WRAPPER_KEYS:
        if key not in value:
            continue
        inner, encoded = value[key], False
        if isinstance(inner, str):
            inner, encoded = _json_in_string(inner), True
        where = f"{path}.{key}" if path else key
        if isinstance(inner, dict) and isinstance(inner.get("steps"), list):
            return inner, where, encoded
        found = _find_wrapped(inner, where, depth + 1)
        if found:
            return found
    return None


def _call_name(value: dict[str, Any]) -> str | None:
    for holder in (value, value.get("function"), value.get("function_call")):
        name = holder.get("name") if isinstance(holder, dict) else None
        if isinstance(name, str):
            return name
    calls = value.get("tool_calls")
    if isinstance(calls, list) and calls and isinstance(calls[0], dict):
        return _call_name(calls[0])
    return None
