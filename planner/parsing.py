"""Model output -> :class:`~planner.plan.Plan`: tolerant of the usual LLM slips, honest about each.

:func:`parse_plan_output` takes what a model answered (text, or already decoded JSON from a
structured-output API) and returns a :class:`ParseOutcome`: a plan, or problems ready to send back
to the model for repair, plus the list of tolerant steps that were taken (``fixes``).

Text is handled in three stages, none of which uses ``eval`` or regular expressions:

1. **Locate.** The text is split at Markdown code-fence lines; in each region a small JSON-aware
   scanner (it knows strings in either quote, comments and bracket nesting) finds the JSON blocks.
   Every block is decoded and the one that looks most like a plan wins (a dict with ``steps`` beats
   a list of steps beats any other object; ties go to complete blocks, then fenced ones, then the
   last one: models put corrected plans after drafts).
2. **Repair.** A block that is not strict JSON goes through ``json_repair`` (trailing commas,
   single quotes, ``True``/``None``, comments, unquoted keys). What the scanner saw names the fix.
   A block cut off at the end (the model hit its token limit) is completed only when the cut
   falls between whole steps, or between top-level fields, so that only the closing brackets of
   the step list, the plan and its wrappers are missing; the fix says that what came after the
   cut is lost. A cut inside a step (a string, a number, a key, after a comma or colon, or an
   unfinished ``args``) is an ``unparseable`` problem, never a half-written step.
3. **Normalise.** A few shape slips with our schema are mended, each recorded: wrappers
   (``{"plan": ...}``, tool-call envelopes such as OpenAI ``tool_calls`` or ``{"name",
   "arguments"}``, with arguments as a JSON string or an object), a top-level list of steps, step
   keys ``name``/``tool_name`` (-> ``tool``), ``arguments``/``parameters``/``input`` (-> ``args``),
   ``depends_on``/``dependencies`` (-> ``deps``), numeric step ids (``1`` -> ``"s1"``, with deps
   and ``${1.x}`` references to match) and a missing goal (-> the ``goal`` argument).

Nothing is invented: no steps, tools or references are added. Whatever still does not match the
schema becomes one ``bad_plan_shape`` problem per pydantic error, with its location. Unknown tools,
dangling references and cycles are not the parser's business: such plans parse, and
:func:`planner.validation.validate_plan` reports them.
"""

from __future__ import annotations

import copy
import difflib
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

import json_repair
from pydantic import BaseModel, Field, ValidationError

from planner.plan import Plan, Step
from planner.retry import RetryOverride
from planner.validation import Problem

# Step keys models use instead of ours (only renamed when ours is absent).
STEP_KEY_ALIASES: dict[str, tuple[str, ...]] = {
    "tool": ("name", "tool_name"),
    "args": ("arguments", "parameters", "input"),
    "deps": ("depends_on", "dependencies"),
}
# Keys under which tool-call envelopes carry their payload, in the order they are searched.
WRAPPER_KEYS = ("plan", "tool_calls", "tool_call", "function_call", "function", "arguments",
                "input", "parameters", "args")
_MAX_WRAP_DEPTH = 5
_MAX_BLOCKS = 64
_PY_LITERALS = ("True", "False", "None")
_SCORE_PLAN, _SCORE_STEP_LIST, _SCORE_PLAN_KEYS, _SCORE_JSON = 4, 3, 2, 1
_PLAN_KEYS = {"goal", "steps", "plan", "tool", "tool_name", "id", "args", "arguments", "deps",
              "depends_on", "outputs"}


class ParseOutcome(BaseModel):
    """A plan (then ``problems`` is empty) or the problems that stop it, and the fixes taken."""

    plan: Plan | None = None
    problems: list[Problem] = Field(default_factory=list)
    fixes: list[str] = Field(
        default_factory=list, description="Each tolerant step taken, in order, e.g. "
        "'removed code fence' or \"renamed 'arguments' to 'args' (steps 0, 1)\".")

    @property
    def ok(self) -> bool:
        return self.plan is not None


def parse_plan_output(raw: str | dict[str, Any] | list[Any], *,
                      goal: str | None = None) -> ParseOutcome:
    """Turn a model's answer into a plan, or into problems the model can act on.

    ``goal`` fills in a plan that has none (the model answered with steps only)."""
    fixes: list[str] = []
    truncated: _Segment | None = None
    if isinstance(raw, str):
        found = _locate(raw, fixes)
        if isinstance(found, list):
            return ParseOutcome(problems=found, fixes=fixes)
        data, truncated = found
    else:
        data = _unwrap(copy.deepcopy(raw), fixes)
    data = _normalise(data, goal, fixes)
    try:
        plan = Plan.model_validate(data)
    except ValidationError as exc:
        problems = _shape_problems(exc, data)
        if truncated is not None:
            problems.insert(0, Problem(
                code="unparseable", location="end of output",
                message=f"the output is cut off (it ends without the closing "
                f"'{truncated.closers}'); completed, it still does not match the plan schema, "
                "see the other problems; answer with the whole plan"))
        return ParseOutcome(problems=problems, fixes=fixes)
    return ParseOutcome(plan=plan, fixes=fixes)


# ------------------------------------------------------------------------------ scanning

Tail = Literal["value", "nested", "key", "string", "word", "comma", "colon", "open"]
# Containers that may be left open by a cut we complete: the plan object, its step list, and
# the wrappers around them. A cut inside a step (or outputs, or any other value) is a problem.
_PLAN_LEVEL = frozenset({"steps", *WRAPPER_KEYS})


@dataclass
class _Segment:
    """One JSON-like block: from an opening bracket to its match, or to the end of its region."""

    start: int
    end: int
    closed: bool
    stack: list[str] = field(default_factory=list)  # brackets still open at ``end``
    keys: list[str | None] = field(default_factory=list)  # the key each one was opened under
    tail: Tail = "value"  # what the block ends in, when it is not closed
    single_quotes: bool = False
    py_literals: set[str] = field(default_factory=set)
    comments: bool = False
    trailing_commas: bool = False

    @property
    def closers(self) -> str:
        return "".join("}" if c == "{" else "]" for c in reversed(self.stack))

    @property
    def completable(self) -> bool:
        """Cut off right after a complete step (or top-level value): only closing brackets of
        the plan, its step list or its wrappers are missing."""
        return self.tail == "value"


_WORD_END = set(" \t\r\n,:{}[]\"'/")


class _Scanner:
    """A JSON(-ish) tokenizer: enough to find where a block ends and what it contains."""

    def __init__(self, text: str, start: int, end: int) -> None:
        self.text, self.i, self.end = text, start, end
        self.seg = _Segment(start=start, end=end, closed=False)
        self.last: Tail = "open"
        self.key: str | None = None

    def run(self) -> _Segment:
        text, seg = self.text, self.seg
        while self.i < self.end:
            ch = text[self.i]
            if ch.isspace():
                self.i += 1
            elif ch in "\"'":
                if not self._string(ch):
                    return self._cut("string")
            elif ch == "/" and text.startswith(("//", "/*"), self.i):
                self._comment()
            elif ch in "{[":
                seg.stack.append(ch)
                seg.keys.append(self.key if self.last == "colon" else None)
                self.last = "open"
                self.i += 1
            elif ch in "}]":
                if self.last == "comma":
                    seg.trailing_commas = True
                if seg.stack:
                    seg.stack.pop()
                    seg.keys.pop()
                self.last = "value"
                self.i += 1
                if not seg.stack:
                    seg.end, seg.closed = self.i, True
                    return seg
            elif ch == ",":
                self.last = "comma"
                self.i += 1
            elif ch == ":":
                self.last = "colon"
                self.i += 1
            elif not self._word():
                return self._cut("word")
        return self._cut(self.last)

    def _expects_key(self) -> bool:
        return bool(self.seg.stack) and self.seg.stack[-1] == "{" and self.last in (
            "open", "comma")

    def _string(self, quote: str) -> bool:
        if quote == "'":
            self.seg.single_quotes = True
        is_key = self._expects_key()
        j, escaped = self.i + 1, False
        while j < self.end:
            c = self.text[j]
            if escaped:
                escaped = False
            elif c == "\\":
                escaped = True
            elif c == quote:
                if is_key:
                    self.key = self.text[self.i + 1:j]
                self.i = j + 1
                self.last = "key" if is_key else "value"
                return True
            j += 1
        return False

    def _comment(self) -> None:
        self.seg.comments = True
        if self.text.startswith("//", self.i):
            stop = self.text.find("\n", self.i, self.end)
        else:
            stop = self.text.find("*/", self.i + 2, self.end)
            stop = stop + 2 if stop >= 0 else -1
        self.i = stop if stop >= 0 else self.end

    def _word(self) -> bool:
        is_key = self._expects_key()
        j = self.i + 1  # at least one character: a stray '/' or other punctuation
        while j < self.end and self.text[j] not in _WORD_END:
            j += 1
        word = self.text[self.i:j]
        if word in _PY_LITERALS:
            self.seg.py_literals.add(word)
        if is_key:
            self.key = word
        self.i = j
        self.last = "key" if is_key else "value"
        return j < self.end

    def _cut(self, tail: Tail) -> _Segment:
        if tail == "value" and any(k not in _PLAN_LEVEL for k in self.seg.keys[1:]):
            tail = "nested"
        self.seg.tail = tail
        return self.seg


@dataclass(frozen=True)
class _Region:
    start: int
    end: int
    fenced: bool


def _regions(text: str) -> list[_Region]:
    """The text split at Markdown fence lines (```` ``` ```` or ```` ```json ````)."""
    regions: list[_Region] = []
    pos, begin, fenced = 0, 0, False
    for line in text.splitlines(keepends=True):
        if line.lstrip().startswith("```"):
            regions.append(_Region(begin, pos, fenced))
            fenced, begin = not fenced, pos + len(line)
        pos += len(line)
    regions.append(_Region(begin, len(text), fenced))
    return [r for r in regions if text[r.start:r.end].strip()]


def _fence_lines(text: str) -> Iterator[tuple[int, int]]:
    pos = 0
    for line in text.splitlines(keepends=True):
        if line.lstrip().startswith("```"):
            yield pos, pos + len(line)
        pos += len(line)


# ------------------------------------------------------------------------------ locating


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


def _decode(text: str) -> tuple[Any, bool, str]:
    """(value, strict, error): json.loads, else json_repair; ``_FAILED`` when both fail."""
    try:
        return json.loads(text), True, ""
    except json.JSONDecodeError as exc:
        error = f"{exc.msg} at line {exc.lineno}, column {exc.colno}"
    try:
        value: Any = json_repair.loads(text, skip_json_loads=True)
    except (ValueError, RecursionError, IndexError) as exc:  # json_repair's own failures
        return _FAILED, False, f"{error}; json_repair: {exc}"
    return value, False, error


def _blocks(text: str) -> Iterator[_Block]:
    count = 0
    for region in _regions(text):
        i = region.start
        while i < region.end and count < _MAX_BLOCKS:
            starts = [p for p in (text.find("{", i, region.end), text.find("[", i, region.end))
                      if p >= 0]
            if not starts:
                break
            start = min(starts)
            seg = _Scanner(text, start, region.end).run()
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
    stripped = text.strip()
    if stripped[:1] in "{[\"":
        try:  # fast path: the whole output is JSON
            whole: Any = json.loads(stripped)
        except json.JSONDecodeError:
            pass
        else:
            if isinstance(whole, dict | list) or _score(_unwrap(whole, [])):
                return _unwrap(whole, fixes), None
    blocks = [b for b in _blocks(text) if b.score >= _SCORE_PLAN_KEYS or (
        b.score and (b.region.fenced or text[b.segment.start:b.segment.end].strip() == stripped))]
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


# ----------------------------------------------------------------------------- unwrapping


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


# ---------------------------------------------------------------------------- normalising


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


# ------------------------------------------------------------------------------- problems

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


__all__ = ["STEP_KEY_ALIASES", "WRAPPER_KEYS", "ParseOutcome", "parse_plan_output"]
