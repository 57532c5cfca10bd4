"""Plan validation: a pure function returning every problem, precise enough to act on.

The same list goes to the LLM for repair and to the person on the review screen.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from pydantic import BaseModel, ValidationError

from planner.conditions import check_condition
from planner.conversions import RefSite, sites_and_schemas, static_conversion
from planner.expr import ExpressionError
from planner.plan import Plan, Step
from planner.refs import Ref, RefSyntaxError, format_path, is_whole_ref, iter_refs
from planner.scheduler import find_cycle
from planner.schema_paths import PathProblem, json_types, schema_at
from planner.suggestions import suggest_tools
from planner.tools import args_schema_of

ProblemCode = Literal[
    "duplicate_id",
    "unknown_tool",
    "invalid_args",
    "bad_reference",
    "unknown_step",
    "not_ancestor",
    "unknown_field",
    "type_mismatch",
    "cycle",
    "bad_condition",
    "too_large",
    "unparseable",  # the model's output is not a plan at all (no JSON object found)
    "bad_plan_shape",  # JSON found, but it does not match the plan schema
    "validator_crashed",  # a check failed on this plan: treated like any other problem
]


class Limits(BaseModel):
    max_steps: int = 200
    max_args_bytes: int = 64_000
    max_plan_bytes: int = 1_000_000
    max_deps: int = 64


class Problem(BaseModel):
    code: ProblemCode
    step_id: str | None = None
    location: str = ""
    message: str

    def __str__(self) -> str:
        where = " ".join(p for p in (self.step_id and f"step '{self.step_id}'", self.location) if p)
        return f"[{self.code}] {where + ': ' if where else ''}{self.message}"


class ToolLike(Protocol):
    @property
    def args_model(self) -> type[BaseModel]: ...
    @property
    def output_schema(self) -> dict[str, Any] | None: ...


class ValidationFailed(ValueError):
    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__(
            f"plan is invalid ({len(problems)} problem(s)):\n"
            + "\n".join(f"  - {p}" for p in problems)
        )


def validate_plan(
    plan: Plan, tools: Mapping[str, ToolLike], limits: Limits | None = None
) -> list[Problem]:
    """Every problem of ``plan``. A check that fails on the plan (raises) is reported as a
    ``validator_crashed`` problem naming the check and the step, so the plan goes to repair
    like any other; the other checks still run."""
    limits = limits or Limits()
    problems: list[Problem] = []
    problems += _guarded("size", None, _check_size, plan, limits)
    ids = [s.id for s in plan.steps]
    problems += _guarded("unique ids", None, _check_duplicates, ids)
    known = set(ids)
    deps: dict[str, set[str]] = {}
    for step in plan.steps:
        refs: list[Ref] = []
        problems += _guarded("references", step.id, _collect_refs, step, refs)
        problems += _guarded("dependencies", step.id, _check_dependencies, step, refs, known)
        # self references are reported as not_ancestor above, not again as a cycle
        deps[step.id] = (({r.step for r in refs} | set(step.deps)) & known) - {step.id}
        tool = tools.get(step.tool)
        if tool is None or getattr(tool, "internal", False):
            problems += _guarded("tool", step.id, lambda s: [_unknown_tool(s, tools)], step)
            continue
        problems += _guarded("arguments", step.id, _check_args, step, tool)
        problems += _guarded("referenced fields", step.id, _check_fields, step, refs, plan, tools)
    problems += _guarded("outputs", None, _check_outputs, plan, known, tools)
    problems += _guarded("cycles", None, _check_cycle, deps)
    return problems


def _guarded(check: str, step_id: str | None, fn: Callable[..., list[Problem]],
             *args: Any) -> list[Problem]:
    try:
        return fn(*args)
    except Exception as exc:  # a plan that crashes a check is a problem of the plan
        detail = f"{type(exc).__name__}: {exc}"
        detail = detail if len(detail) <= 200 else detail[:197] + "..."
        return [Problem(code="validator_crashed", step_id=step_id, location=check,
                        message=f"the {check} check failed on this plan ({detail}); write it "
                        "more simply (shorter, less deeply nested values)")]


def _check_cycle(deps: dict[str, set[str]]) -> list[Problem]:
    cycle = find_cycle(deps)
    if not cycle:
        return []
    return [Problem(code="cycle", step_id=cycle[0],
                    message="steps depend on each other in a cycle: " + " -> ".join(cycle))]


def ensure_valid(plan: Plan, tools: Mapping[str, ToolLike]) -> None:
    problems = validate_plan(plan, tools)
    if problems:
        raise ValidationFailed(problems)


def _check_size(plan: Plan, limits: Limits) -> list[Problem]:
    out = []
    if len(plan.steps) > limits.max_steps:
        out.append(Problem(code="too_large", location="steps",
                           message=f"{len(plan.steps)} steps; the limit is {limits.max_steps}"))
    size = len(plan.model_dump_json())
    if size > limits.max_plan_bytes:
        out.append(Problem(code="too_large", message=f"plan is {size} bytes; "
                           f"the limit is {limits.max_plan_bytes}"))
    for step in plan.steps:
        args_size = len(json.dumps(step.args, default=str))
        if args_size > limits.max_args_bytes:
            out.append(Problem(code="too_large", step_id=step.id, location="args",
                               message=f"arguments are {args_size} bytes; the limit is "
                               f"{limits.max_args_bytes} (pass large data by reference)"))
        if len(step.deps) > limits.max_deps:
            out.append(Problem(code="too_large", step_id=step.id, location="deps",
                               message=f"{len(step.deps)} deps; the limit is {limits.max_deps}"))
    return out


def _check_duplicates(ids: list[str]) -> list[Problem]:
    seen: set[str] = set()
    out = []
    for i, step_id in enumerate(ids):
        if step_id in seen:
            out.append(Problem(code="duplicate_id", step_id=step_id, location=f"steps[{i}].id",
                               message=f"step id '{step_id}' is used more than once"))
        seen.add(step_id)
    return out


def _collect_refs(step: Step, refs: list[Ref]) -> list[Problem]:
    """The step's references (appended to ``refs``) and the problems of its references and
    condition."""
    problems: list[Problem] = []
    for loc, value in _walk(step.args, "args"):
        try:
            refs.extend(iter_refs(value))
        except RefSyntaxError as exc:
            problems.append(Problem(code="bad_reference", step_id=step.id, location=loc,
                                    message=str(exc)))
    if step.when:
        try:
            refs.extend(iter_refs(step.when))
            check_condition(step.when)
        except RefSyntaxError as exc:
            problems.append(Problem(code="bad_reference", step_id=step.id, location="when",
                                    message=str(exc)))
        except ExpressionError as exc:
            problems.append(Problem(code="bad_condition", step_id=step.id, location="when",
                                    message=str(exc)))
    return problems


def _walk(value: Any, loc: str) -> Iterable[tuple[str, Any]]:
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _walk(v, f"{loc}.{k}")
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _walk(v, f"{loc}[{i}]")
    else:
        yield loc, value


def _check_dependencies(step: Step, refs: list[Ref], known: set[str]) -> list[Problem]:
    out = []
    for ref in refs:
        if ref.step == step.id:
            out.append(Problem(code="not_ancestor", step_id=step.id, location=str(ref),
                               message="a step cannot use its own output"))
        elif ref.step not in known:
            out.append(Problem(code="unknown_step", step_id=step.id, location=str(ref),
                               message=f"reference to unknown step '{ref.step}'"
                               + _suggest(ref.step, known)))
    for i, dep in enumerate(step.deps):
        if dep == step.id:
            out.append(Problem(code="not_ancestor", step_id=step.id, location=f"deps[{i}]",
                               message="a step cannot depend on itself"))
        elif dep not in known:
            out.append(Problem(code="unknown_step", step_id=step.id, location=f"deps[{i}]",
                               message=f"dependency on unknown step '{dep}'"
                               + _suggest(dep, known)))
    return out


def _suggest(name: str, choices: Iterable[str]) -> str:
    close = difflib.get_close_matches(name, list(choices), n=3, cutoff=0.6)
    return f" (did you mean {', '.join(repr(c) for c in close)}?)" if close else ""


def _unknown_tool(step: Step, tools: Mapping[str, ToolLike]) -> Problem:
    """Suggests by spelling and by meaning (``calculator`` -> calc, ``sleep`` -> wait)."""
    if getattr(tools.get(step.tool), "internal", False):
        return Problem(code="unknown_tool", step_id=step.id, location="tool", message=(
            f"tool '{step.tool}' only undoes other steps' effects when a goal is abandoned; "
            "a plan cannot call it"))
    maybe = suggest_tools(step.tool, {n: t for n, t in tools.items()
                                      if not getattr(t, "internal", False)})
    hint = f" (did you mean {', '.join(repr(c) for c in maybe)}?)" if maybe else ""
    return Problem(code="unknown_tool", step_id=step.id, location="tool",
                   message=f"no tool named '{step.tool}'{hint} (`jarvis tools` lists them)")


def _check_args(step: Step, tool: ToolLike) -> list[Problem]:
    literal: dict[str, Any] = {}
    referenced: set[str] = set()
    out: list[Problem] = []
    fields = tool.args_model.model_fields
    schema = args_schema_of(tool.args_model)
    for key, value in step.args.items():
        try:
            has_refs = any(True for _ in iter_refs(value))
        except RefSyntaxError:
            continue  # reported already
        if not has_refs:
            literal[key] = value
            continue
        referenced.add(key)
        if isinstance(value, str) and not is_whole_ref(value) and key in fields:
            target = json_types(schema.get("properties", {}).get(key), schema)
            if target and "string" not in target:
                out.append(Problem(code="type_mismatch", step_id=step.id, location=f"args.{key}",
                                   message=f"text with references is a string, but '{key}' "
                                   f"expects {'/'.join(sorted(target))}; reference a value "
                                   "directly or add a calc step"))
    if tool.args_model.model_config.get("extra") == "forbid":
        for key in sorted(referenced - set(fields)):
            out.append(Problem(code="invalid_args", step_id=step.id, location=f"args.{key}",
                               message=_arg_message({"type": "extra_forbidden"}, key, fields)))
    try:
        tool.args_model.model_validate(literal)
    except ValidationError as exc:
        for err in exc.errors():
            loc = err["loc"]
            if loc and loc[0] in referenced and err["type"] == "missing":
                continue
            path = ".".join(str(p) for p in loc)
            out.append(Problem(code="invalid_args", step_id=step.id,
                               location=f"args.{path}" if path else "args",
                               message=_arg_message(err, path, fields)))
    return out


def _arg_message(err: Any, path: str, fields: Mapping[str, Any]) -> str:
    if err["type"] == "extra_forbidden":
        return (f"unexpected argument '{path}'" + _suggest(path, fields)
                + f"; accepted: {', '.join(fields) or 'none'}")
    if err["type"] == "missing":
        return f"missing required argument '{path}'"
    return f"{err['msg']} (got {json.dumps(err.get('input'), default=str)[:80]})"


def _check_fields(
    step: Step, refs: list[Ref], plan: Plan, tools: Mapping[str, ToolLike]
) -> list[Problem]:
    """Every reference names a field its producer declares; a whole reference's declared type
    fits its parameter under the conversion table (planner/conversions.py)."""
    out = []
    by_id = {s.id: s for s in plan.steps}
    target_tool = tools.get(step.tool)
    target_schema = args_schema_of(target_tool.args_model) if target_tool else {}
    for key, value in step.args.items():
        for ref in _safe_refs(value):
            src_schema = _producer_schema(ref, by_id, tools)
            if src_schema is None:
                continue
            try:
                schema_at(src_schema, ref.path)
            except PathProblem as exc:
                out.append(Problem(code="unknown_field", step_id=step.id, location=f"args.{key}",
                                   message=f"{ref}: {exc} of step '{ref.step}' "
                                   f"(tool '{by_id[ref.step].tool}')"))
    for site, verdict in _site_verdicts(step, by_id, tools, target_schema):
        if verdict.refused:
            out.append(Problem(code="type_mismatch", step_id=step.id,
                               location=f"args.{site.location}",
                               message=f"{site.ref} is {verdict.source} but "
                               f"'{site.location}' expects {verdict.target}: {verdict.refused}"))
    return out


@dataclass(frozen=True)
class _Verdict:
    source: str
    target: str
    note: str
    refused: str


def _site_verdicts(step: Step, by_id: Mapping[str, Step], tools: Mapping[str, ToolLike],
                   target_schema: dict[str, Any]) -> list[tuple[RefSite, _Verdict]]:
    """Each whole reference of ``step`` whose producer declares its type, with the table's
    verdict for the parameter it fills."""
    out = []
    for site, dst_schema in sites_and_schemas(step.args, target_schema):
        src_schema = _producer_schema(site.ref, by_id, tools)
        if src_schema is None or dst_schema is None:
            continue
        try:
            sub = schema_at(src_schema, site.ref.path)
        except PathProblem:
            continue  # reported as unknown_field
        src, dst = json_types(sub, src_schema), json_types(dst_schema, target_schema)
        verdict = static_conversion(src, dst)
        if verdict.note or verdict.refused:
            out.append((site, _Verdict("/".join(sorted(src)), "/".join(sorted(dst)),
                                       verdict.note, verdict.refused)))
    return out


def planned_conversions(plan: Plan, tools: Mapping[str, ToolLike]) -> dict[str, dict[str, str]]:
    """What the review screen shows beside arguments: step id -> argument -> the conversion
    the table applies to the producer's declared type ("number, passed as text")."""
    by_id = {s.id: s for s in plan.steps}
    out: dict[str, dict[str, str]] = {}
    for step in plan.steps:
        tool = tools.get(step.tool)
        if tool is None:
            continue
        schema = args_schema_of(tool.args_model)
        for site, verdict in _site_verdicts(step, by_id, tools, schema):
            if verdict.note and not verdict.refused:
                out.setdefault(step.id, {})[site.location] = verdict.note
    return out


def _safe_refs(value: Any) -> list[Ref]:
    try:
        return list(iter_refs(value))
    except RefSyntaxError:
        return []


def _producer_schema(
    ref: Ref, by_id: Mapping[str, Step], tools: Mapping[str, ToolLike]
) -> dict[str, Any] | None:
    producer = by_id.get(ref.step)
    tool = tools.get(producer.tool) if producer else None
    if tool is None or producer is None:
        return None
    of_step = getattr(tool, "output_schema_of", None)  # a step's own output schema, if any
    return of_step(producer.args) if callable(of_step) else tool.output_schema


def _check_outputs(plan: Plan, known: set[str], tools: Mapping[str, ToolLike]) -> list[Problem]:
    out = []
    by_id = {s.id: s for s in plan.steps}
    for name, value in plan.outputs.items():
        try:
            refs = list(iter_refs(value))
        except RefSyntaxError as exc:
            out.append(Problem(code="bad_reference", location=f"outputs.{name}",
                               message=str(exc)))
            continue
        for ref in refs:
            if ref.step not in known:
                out.append(Problem(code="unknown_step", location=f"outputs.{name}",
                                   message=f"reference to unknown step '{ref.step}'"
                                   + _suggest(ref.step, known)))
                continue
            schema = _producer_schema(ref, by_id, tools)
            if schema is None:
                continue
            try:
                schema_at(schema, ref.path)
            except PathProblem as exc:
                out.append(Problem(code="unknown_field", location=f"outputs.{name}",
                                   message=f"{ref}: {exc} of step '{ref.step}'"))
    return out


__all__ = ["Limits", "Problem", "ValidationFailed", "ensure_valid", "format_path",
           "planned_conversions", "validate_plan"]
