"""Recovery that keeps finished work: what a partial replan or a retry from a step re-runs, how
a replacement sub-plan joins the steps that finished, and the run state that starts from them.

Pure and deterministic (the goal workflow calls it). A step that succeeded and is not re-run
keeps its status and output, so no engine starts it again.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from planner.contracts.handles import is_handle
from planner.contracts.plan_run import CompensationPolicy, RunResume, RunState, StepState
from planner.plan import Plan, Step
from planner.refs import Ref, RefResolutionError, iter_refs, lookup, parse_ref, resolve
from planner.scheduler import StepStatus
from planner.validation import Problem

# A failure a new plan cannot fix: the budget ran out, or a person's approval is missing
NOT_REPLANNED = frozenset({"OverBudget", "ToolRefused"})


def descendants(roots: Iterable[str], deps: Mapping[str, set[str]]) -> set[str]:
    """``roots`` and every step that depends on one of them, directly or not."""
    found = set(roots)
    changed = True
    while changed:
        changed = False
        for step, needs in deps.items():
            if step not in found and needs & found:
                found.add(step)
                changed = True
    return found


def finished_outputs(run: RunState, rerun: set[str]) -> dict[str, Any]:
    """The outputs of the steps that succeeded and are not re-run (kept as they are)."""
    return {s.id: s.output for s in run.steps
            if s.status is StepStatus.SUCCEEDED and s.id not in rerun}


def resume_from(plan: Plan, run: RunState, rerun: set[str]) -> RunResume:
    """The run state a plan starts from: every step that finished and is not in ``rerun`` keeps
    its state (a succeeded step is never started again; a skipped one stays skipped); every
    other step of ``plan`` starts pending. The run's usage starts at zero (the goal already
    counted what the earlier run spent)."""
    before = {s.id: s for s in run.steps}
    steps: list[StepState] = []
    for step in plan.steps:
        old = before.get(step.id)
        keep = (old is not None and step.id not in rerun
                and old.status in (StepStatus.SUCCEEDED, StepStatus.SKIPPED))
        steps.append(old.model_copy() if keep and old is not None
                     else StepState(id=step.id, tool=step.tool, queue=old.queue if old else None))
    state = RunState(goal=plan.goal, steps=steps, engine=run.engine)
    return RunResume(state=state, outputs=finished_outputs(run, rerun))


def merge_replacement(plan: Plan, replaced: set[str], replacement: Plan) -> tuple[Plan,
                                                                                  list[Problem]]:
    """``plan`` with the ``replaced`` steps swapped for ``replacement``'s steps. The new steps
    take new ids (a replaced step's id is its failed attempt's identity: a side effect is keyed
    by it), and the plan's outputs come from the replacement when it names any, else those of
    the original that do not refer to a replaced step."""
    problems: list[Problem] = []
    taken = {s.id for s in plan.steps}
    for step in replacement.steps:
        if step.id in taken:
            what = "replaced" if step.id in replaced else "kept"
            problems.append(Problem(code="duplicate_id", step_id=step.id, message=(
                f"step id '{step.id}' is taken by a {what} step of the plan; give each new "
                "step a new id (a finished step is referred to, never repeated)")))
    kept = [s for s in plan.steps if s.id not in replaced]
    outputs = dict(replacement.outputs) or {
        name: value for name, value in plan.outputs.items()
        if not ({r.step for r in _refs(value)} & replaced)}
    merged = plan.model_copy(update={"steps": [*kept, *replacement.steps], "outputs": outputs})
    return merged, problems


def check_finished_refs(plan: Plan, outputs: Mapping[str, Any]) -> list[Problem]:
    """References from the plan's steps into finished steps, checked against the outputs those
    steps really produced (a declared schema may allow more than the value has)."""
    problems: list[Problem] = []
    for step in plan.steps:
        if step.id in outputs:
            continue
        for ref in _step_refs(step):
            value = outputs.get(ref.step)
            if ref.step not in outputs or is_handle(value):
                continue  # not finished, or too large to hold inline: checked at run time
            try:
                lookup(value, ref)
            except RefResolutionError as exc:
                problems.append(Problem(code="unknown_field", step_id=step.id, message=(
                    f"{exc}; the finished step '{ref.step}' output this: "
                    f"{_preview(value)}")))
    return problems


def _step_refs(step: Step) -> list[Ref]:
    return _refs(step.args)


def _refs(value: Any) -> list[Ref]:
    try:
        return list(iter_refs(value))
    except ValueError:
        return []  # a malformed reference: the validator reports it


def _preview(value: Any, limit: int = 300) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[:limit - 3] + "..."


def failed_step(run: RunState) -> StepState | None:
    """The first step that failed in a way a new plan may fix, or None."""
    for st in run.steps:
        if st.status is StepStatus.FAILED and st.error is not None:
            return st if st.error.type not in NOT_REPLANNED else None
    return None



def with_args(plan: Plan, step_id: str, args: dict[str, Any] | None) -> Plan:
    """``plan`` with ``step_id``'s arguments replaced (a retry with edited arguments)."""
    if args is None:
        return plan
    steps = [s.model_copy(update={"args": args}) if s.id == step_id else s for s in plan.steps]
    return plan.model_copy(update={"steps": steps})


def compensation_args(comp: CompensationPolicy, step: Step,
                      outputs: Mapping[str, Any]) -> dict[str, Any]:
    """The compensating call's arguments: each from the step's output (``output.x``) or its
    arguments resolved against the finished outputs (``args.x``). Raises LookupError naming
    what is missing (the output is in the payload store, or has no such field)."""
    found: dict[str, Any] = {}
    for name, source in comp.args.items():
        root, _, rest = source.partition(".")
        if root == "output":
            value = outputs.get(step.id)
        elif root == "args":
            value = resolve(step.args, outputs)
        else:
            raise LookupError(f"compensation argument {name!r}: {source!r} is neither "
                              "output.<field> nor args.<field>")
        if is_handle(value):
            raise LookupError(f"step '{step.id}': its {root} is in the payload store; undo "
                              "it by hand")
        ref = parse_ref(f"{step.id}.{rest}" if rest else step.id)
        found[name] = lookup(value, ref)
    return found
