"""Step semantics both engines share: argument resolution, conditions, final outputs. Pure."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ValidationError

from planner.conditions import condition_source
from planner.contracts.handles import HANDLE_KEY, is_handle
from planner.contracts.plan_run import RefAt, ToolCall
from planner.conversions import ConversionRefused, convert_args, whole_ref_sites
from planner.expr import evaluate
from planner.plan import Plan, Step
from planner.refs import RefResolutionError, is_whole_ref, iter_refs, lookup, resolve
from planner.tools import Tool


class StepInputError(ValueError):
    """A step's references or condition cannot be resolved from the finished outputs."""


class ConditionError(StepInputError):
    """A step's condition cannot be evaluated: the step fails, never the workflow."""


def prepare_call(step: Step, outputs: Mapping[str, Any], inline_limit: int) -> ToolCall:
    """Resolve the step's references; defer to the activity when an output is in the store.
    The call names its whole references, so the tool runtime converts their values to the
    parameters' types (planner/conversions.py) the same way on both engines."""
    try:
        needed = {r.step for r in iter_refs(step.args)}
    except ValueError as exc:  # a reference that does not parse (validation reports it first)
        raise StepInputError(str(exc)) from exc
    refs = [RefAt(path=list(site.path), ref=str(site.ref)) for site in whole_ref_sites(step.args)]
    stored = {s: outputs[s] for s in needed if s in outputs and is_handle(outputs[s])}
    if stored:
        small = {s: outputs[s] for s in needed if s not in stored}
        return ToolCall(step_id=step.id, tool=step.tool, args=step.args, refs=refs,
                        deferred={**small, **stored}, inline_limit=inline_limit)
    try:
        args = resolve(step.args, outputs)
    except (LookupError, ValueError, RecursionError) as exc:
        raise StepInputError(str(exc)) from exc
    return ToolCall(step_id=step.id, tool=step.tool, args=args, refs=refs,
                    inline_limit=inline_limit)


def condition_holds(step: Step, outputs: Mapping[str, Any]) -> bool:
    """Whether ``step`` runs. Any failure to evaluate its condition (a bad reference, an
    expression over the evaluator's limits, whatever else) is a :class:`ConditionError` naming
    the condition and the reason, so it fails the step and never the workflow task."""
    if not step.when:
        return True
    try:
        text, refs = condition_source(step.when)
        values: dict[str, Any] = {}
        for i, ref in enumerate(refs):
            if ref.step not in outputs:
                raise RefResolutionError(f"{ref}: step '{ref.step}' has no output")
            values[f"_ref{i}"] = lookup(outputs[ref.step], ref)
        return bool(evaluate(text, values))
    except Exception as exc:  # the evaluator is bounded; this is the last line of defence
        reason = str(exc) if isinstance(exc, LookupError | ValueError) else (
            f"{type(exc).__name__}: {exc}")
        raise ConditionError(f"condition {_shown(step.when)}: {reason}") from exc


def _shown(text: str, limit: int = 200) -> str:
    return repr(text if len(text) <= limit else text[:limit - 3] + "...")


def final_outputs(plan: Plan, outputs: Mapping[str, Any], skipped: set[str]) -> dict[str, Any]:
    """The plan's output mapping, resolved. References into stored payloads stay as handles
    with a path; clients hydrate them. References to skipped steps give None."""
    result: dict[str, Any] = {}
    for name, value in plan.outputs.items():
        whole = is_whole_ref(value)
        if whole and whole.step in skipped:
            result[name] = None
        elif whole and is_handle(outputs.get(whole.step)):
            handle = outputs[whole.step]
            result[name] = {HANDLE_KEY: handle[HANDLE_KEY], "path": list(whole.path)}
        else:
            try:
                result[name] = resolve(value, outputs)
            except LookupError as exc:
                result[name] = {"error": str(exc)}
    return result


class InvalidToolArguments(ValueError):
    """A call's resolved arguments do not fit its tool (message: which, and why)."""


def checked_args(tool: Tool, call: ToolCall,
                 args: Mapping[str, Any]) -> tuple[BaseModel, list[str]]:
    """``args`` converted where a reference's value needs it (planner/conversions.py) and
    validated against the tool's model: (parsed arguments, the conversions made). Both engines'
    tool calls and the workflow's pure steps (planner/pure_tools.py) go through it."""
    conversions: list[str] = []
    values = dict(args)
    if call.refs:
        try:
            values, conversions = convert_args(values, tool.args_schema,
                                               ((tuple(r.path), r.ref) for r in call.refs))
        except ConversionRefused as exc:
            raise InvalidToolArguments(
                f"invalid arguments for tool '{tool.name}': {exc}") from exc
    try:
        return tool.parse(values), conversions
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(map(str, e['loc'])) or 'args'}: {e['msg']}" for e in exc.errors()
        )
        raise InvalidToolArguments(
            f"invalid arguments for tool '{tool.name}': {problems}") from exc
