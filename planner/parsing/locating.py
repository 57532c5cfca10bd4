"""Locating the plan's JSON in model text (candidate blocks, decoding with json-repair, scoring,
completing a truncated answer at a step or field boundary) and unwrapping envelopes (tool-call
and function-call wrappers, {"plan": ...}, JSON inside strings)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import json_repair

from planner.nesting import nests_deeper
from planner.parsing.keys import (
    _MAX_BLOCKS,
    _MAX_WRAP_DEPTH,
    _PLAN_KEYS,
    _PY_LITERALS,
    _REPAIR_BUDGET,
    _SCAN_BUDGET,
    _SCORE_JSON,
    _SCORE_PLAN,
    _SCORE_PLAN_KEYS,
    _SCORE_PREFIX,
    _SCORE_STEP_LIST,
    MAX_NESTING,
    MAX_OUTPUT_CHARS,
    WRAPPER_KEYS,
)
from planner.parsing.scanning import _fence_lines, _Region, _regions, _Scanner, _Segment
from planner.validation import Problem


@dataclass
class _Budget:
    """What is left of one parse's scanning and repair budgets (:mod:`planner.parsing.keys`)."""

    scan: int = _SCAN_BUDGET
    repair: int = _REPAIR_BUDGET
    refused: str | None = None  # why the first block refused for the budget was not valid


class _TooDeep(Exception):
    """The output's JSON nests deeper than MAX_NESTING (at ``index`` of the text, if known)."""

    def __init__(self, index: int | None) -> None:
        super().__init__(index)
        self.index = index


def too_deep_problem(text: str | None, index: int | None) -> Problem:
    where = ""
    if text is not None and index is not None:
        line, col = _line_col(text, index)
        where = f"line {line}, column {col}"
    return Problem(code="unparseable", location=where, message=f"the JSON nests deeper than "
                   f"{MAX_NESTING} levels of objects and lists (MAX_NESTING is {MAX_NESTING}); "
                   "a plan needs only a few: answer with the plan as one JSON object with "
                   "'goal' and 'steps'")


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


def _decode(text: str, budget: _Budget, depth: int) -> tuple[Any, bool, str]:
    """(value, strict, error): json.loads, else json_repair (while the repair budget lasts;
    ``depth`` is the text's bracket nesting); ``_FAILED`` when both fail. Raises
    :class:`_TooDeep` for a value nested too deep."""
    try:
        value: Any = json.loads(text)
    except (ValueError, RecursionError) as exc:  # JSONDecodeError, too many digits, too deep
        error = (f"{exc.msg} at line {exc.lineno}, column {exc.colno}"
                 if isinstance(exc, json.JSONDecodeError) else f"{type(exc).__name__}: {exc}")
    else:
        _shallow(value)
        return value, True, ""
    cost = len(text) * (depth + 1)
    if cost > budget.repair:
        budget.refused = budget.refused or error
        return _FAILED, False, f"{error}; too large to repair"
    budget.repair -= cost
    try:
        value = json_repair.loads(text, skip_json_loads=True)
    except (ValueError, RecursionError, IndexError) as exc:  # json_repair's own failures
        return _FAILED, False, f"{error}; json_repair: {exc}"
    _shallow(value)
    return value, False, error


def _shallow(value: Any, index: int | None = None) -> None:
    if nests_deeper(value, MAX_NESTING):
        raise _TooDeep(index)


def _blocks(text: str, budget: _Budget) -> Iterator[_Block]:
    count = 0
    for region in _regions(text):
        i = region.start
        while i < region.end and count < _MAX_BLOCKS and budget.scan > 0:
            starts = [p for p in (text.find("{", i, region.end), text.find("[", i, region.end))
                      if p >= 0]
            if not starts:
                break
            start = min(starts)
            seg = _Scanner(text, start, region.end).run()
            budget.scan -= seg.end - start
            if seg.too_deep:
                raise _TooDeep(seg.end)
            body = text[seg.start:seg.end]
            if seg.completable:
                body += seg.closers
            elif not seg.closed:  # it ends in a problem if chosen: decoded only to score it
                body = body[:_SCORE_PREFIX]
            try:
                value, strict, error = _decode(body, budget, seg.max_depth)
            except _TooDeep as exc:
                raise _TooDeep(start) from exc
            count += 1
            if value is not _FAILED:
                fixes: list[str] = []
                value = _unwrap(value, fixes, budget)
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
                        f"long, more than the {MAX_OUTPUT_CHARS} read (MAX_OUTPUT_CHARS); answer "
                        "with the plan as one JSON object with 'goal' and 'steps', and nothing "
                        "else")]
    try:
        return _locate_in(text, fixes, _Budget())
    except _TooDeep as exc:
        return [too_deep_problem(text, exc.index)]


def _locate_in(text: str, fixes: list[str], budget: _Budget
               ) -> tuple[Any, _Segment | None] | list[Problem]:
    stripped = text.strip()
    if stripped[:1] in "{[\"":
        try:  # fast path: the whole output is JSON
            whole: Any = json.loads(stripped)
        except (ValueError, RecursionError):  # not JSON, too many digits, too deep
            pass
        else:
            _shallow(whole, len(text) - len(text.lstrip()))
            if isinstance(whole, dict | list) or _score(_unwrap(whole, [], budget)):
                return _unwrap(whole, fixes, budget), None
    blocks = [b for b in _blocks(text, budget) if b.score >= _SCORE_PLAN_KEYS or (
        b.score and (b.region.fenced or text[b.segment.start:b.segment.end].strip() == stripped))]
    if not blocks and budget.refused:
        return [Problem(code="unparseable", message=f"the JSON in the output is not valid "
                        f"({budget.refused}) and too large to repair automatically; answer with "
                        "the plan as one valid JSON object with 'goal' and 'steps'")]
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


def _unwrap(value: Any, fixes: list[str], budget: _Budget) -> Any:
    """The plan inside a JSON string, a one-element list or a wrapper; ``value`` otherwise."""
    if isinstance(value, str):
        inner = _json_in_string(value, budget)
        if inner is not None:
            fixes.append("decoded the JSON string that holds the plan")
            return _unwrap(inner, fixes, budget)
        return value
    if isinstance(value, list) and len(value) == 1 and isinstance(value[0], dict) and (
            _score(_unwrap(value[0], [], budget)) == _SCORE_PLAN):
        fixes.append("unwrapped a one-element list")
        return _unwrap(value[0], fixes, budget)
    if not isinstance(value, dict) or "steps" in value:
        return value
    plan_list = value.get("plan")
    if isinstance(plan_list, list) and _score(plan_list) == _SCORE_STEP_LIST:
        fixes.append("renamed 'plan' to 'steps'")
        return {("steps" if k == "plan" else k): v for k, v in value.items()}
    found = _find_wrapped(value, "", 0, budget)
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


def _json_in_string(text: str, budget: _Budget) -> Any:
    stripped = text.strip()
    if stripped[:1] not in ("{", "["):
        return None
    seg = _Scanner(stripped, 0, len(stripped)).run()
    budget.scan -= seg.end
    if seg.too_deep:
        raise _TooDeep(None)
    value, _, _ = _decode(stripped, budget, seg.max_depth)
    return value if isinstance(value, dict | list) else None


def _find_wrapped(value: Any, path: str, depth: int, budget: _Budget
                  ) -> tuple[Any, str, bool] | None:
    """Search the wrapper keys for a dict with ``steps``: (it, its path, was a JSON string)."""
    if depth > _MAX_WRAP_DEPTH:
        return None
    if isinstance(value, list):
        for i, item in enumerate(value):
            found = _find_wrapped(item, f"{path}[{i}]", depth + 1, budget)
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
            inner, encoded = _json_in_string(inner, budget), True
        where = f"{path}.{key}" if path else key
        if isinstance(inner, dict) and isinstance(inner.get("steps"), list):
            return inner, where, encoded
        found = _find_wrapped(inner, where, depth + 1, budget)
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
