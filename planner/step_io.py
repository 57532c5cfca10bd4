"""Step semantics both engines share: argument resolution, conditions, final outputs. Pure."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from planner.contracts.handles import HANDLE_KEY, is_handle
from planner.contracts.plan_run import ToolCall
from planner.expr import evaluate
from planner.plan import Plan, Step
from planner.refs import Ref, is_whole_ref, iter_refs, lookup, parse_template, resolve


class StepInputError(ValueError):
    """A step's references or condition cannot be resolved from the finished outputs."""


def prepare_call(step: Step, outputs: Mapping[str, Any], inline_limit: int) -> ToolCall:
    """Resolve the step's references; defer to the activity when an output is in the store."""
    needed = {r.step for r in iter_refs(step.args)}
    stored = {s: outputs[s] for s in needed if s in outputs and is_handle(outputs[s])}
    if stored:
        small = {s: outputs[s] for s in needed if s not in stored}
        return ToolCall(step_id=step.id, tool=step.tool, args=step.args,
                        deferred={**small, **stored}, inline_limit=inline_limit)
    try:
        args = resolve(step.args, outputs)
    except LookupError as exc:
        raise StepInputError(str(exc)) from exc
    return ToolCall(step_id=step.id, tool=step.tool, args=args, inline_limit=inline_limit)


def condition_holds(step: Step, outputs: Mapping[str, Any]) -> bool:
    if not step.when:
        return True
    try:
        parts = parse_template(step.when)
        refs = [p for p in parts if isinstance(p, Ref)]
        text = "".join(p if isinstance(p, str) else f"_ref{refs.index(p)}" for p in parts)
        values = {f"_ref{i}": lookup(outputs[r.step], r) for i, r in enumerate(refs)}
        return bool(evaluate(text, values))
    except (LookupError, ValueError) as exc:
        raise StepInputError(f"condition {step.when!r}: {exc}") from exc
    except Exception as exc:  # anything else fails this step, never the workflow task
        raise StepInputError(f"condition {step.when!r} could not be evaluated: "
                             f"{type(exc).__name__}: {exc}") from exc


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
