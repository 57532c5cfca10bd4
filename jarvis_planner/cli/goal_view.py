"""Rendering a goal: the plan as a tree (tools, arguments, references, risk), stage, usage."""

from __future__ import annotations

import json
from collections.abc import Mapping

from rich.console import Group, RenderableType
from rich.text import Text
from rich.tree import Tree

from jarvis_planner.cli.console import settled, steps_table
from planner.contracts.goal_flow import FINAL_STAGES, GoalState
from planner.plan import Plan
from planner.refs import iter_refs

RISK_STYLE = {"read-only": "green", "side-effecting": "yellow", "dangerous": "bold red"}


def plan_tree(plan: Plan, risks: Mapping[str, str] | None = None,
              conversions: Mapping[str, Mapping[str, str]] | None = None) -> Tree:
    """The plan as a tree; ``conversions`` (step -> argument -> note) marks the arguments whose
    value is converted at the step boundary ("number, passed as text")."""
    tree = Tree(Text(f"plan: {plan.goal}", style="bold"))
    for step in plan.steps:
        converted = (conversions or {}).get(step.id, {})
        risk = (risks or {}).get(step.id, "")
        label = Text.assemble((step.id, "bold"), " ", (step.tool, "cyan"),
                              (f" [{risk}]", RISK_STYLE.get(risk, "dim")) if risk else "")
        if step.description:
            label.append(f"  {step.description}", style="dim")
        node = tree.add(label)
        for key, value in step.args.items():
            refs = {r.step for r in iter_refs(value)}
            shown = json.dumps(value, ensure_ascii=False)
            shown = shown if len(shown) <= 100 else shown[:99] + "…"
            notes = [f"{where}: {note}" if where != key else note
                     for where, note in converted.items() if _under(where, key)]
            node.add(Text.assemble(f"{key} = ", (shown, "magenta" if refs else ""),
                                   (f"  ({'; '.join(notes)})" if notes else "", "dim")))
        deps = sorted(step.dependencies())
        if deps:
            node.add(Text(f"after: {', '.join(deps)}", style="dim"))
        if step.when:
            node.add(Text(f"when: {step.when}", style="dim"))
    if plan.outputs:
        tree.add(Text(f"outputs: {json.dumps(plan.outputs, ensure_ascii=False)}", style="dim"))
    return tree


def _under(location: str, key: str) -> bool:
    return location == key or location.startswith((f"{key}.", f"{key}["))


def goal_view(state: GoalState, goal_id: str = "") -> RenderableType:
    header = Text.assemble((f"{goal_id}  " if goal_id else "", "dim"),
                           ("stage: ", ""), (state.stage, "bold"),
                           (f"  source: {state.source}" if state.source else "", "dim"),
                           (f"  tokens: {state.usage.total_tokens} in {state.usage.calls} "
                            f"LLM call(s), {usd(state.usage.cost_usd)}", "dim"),
                           (f"  worker: {state.worker_version}" if state.worker_version else "",
                            "dim"))
    parts: list[RenderableType] = [header]
    if state.run is not None:
        parts.append(steps_table(state.run))
    elif state.plan is not None:
        parts.append(plan_tree(state.plan, state.risks, state.conversions))
    for r in state.recoveries:
        reviewed = ", reviewed" if r.reviewed else ""
        added = f" with {', '.join(r.added)}" if r.added else ""
        parts.append(Text(f"replanned after step {r.failed} failed ({r.error}): replaced "
                          f"{', '.join(r.replaced)}{added} [{r.outcome}{reviewed}]",
                          style="cyan"))
    for u in state.undone:
        parts.append(Text(f"undone {u.step} by {u.tool}: {u.message}" if u.ok else
                          f"NOT undone {u.step} ({u.tool}): {u.message}",
                          style="cyan" if u.ok else "bold red"))
    if state.retried_from:
        parts.append(Text(f"retried from step {state.retried_from}", style="cyan"))
    if state.problems:
        parts.append(Text("problems:", style="bold red"))
        parts += [Text(f"  {p}", style="red") for p in state.problems]
    if state.message:
        final = state.stage in FINAL_STAGES
        parts.append(Text(settled(state.message) if final else state.message, style="yellow"))
    return Group(*parts)


def cost_line(state: GoalState) -> str:
    plan = state.plan
    llm_steps = sum(1 for s in plan.steps if s.tool == "llm") if plan else 0
    estimate = (f"; estimated cost {usd(state.estimate_usd)}"
                if state.estimate_usd is not None else "")
    return (f"planning used {state.usage.total_tokens} tokens in {state.usage.calls} LLM "
            f"call(s) ({state.repair_rounds} repair round(s), {usd(state.usage.cost_usd)}); the "
            f"plan has {len(plan.steps) if plan else 0} step(s), {llm_steps} of them LLM "
            f"calls{estimate}")


def usd(amount: float) -> str:
    """Dollars as people read them: $0.34, $0.0012, $0."""
    if amount == 0:
        return "$0"
    return f"${amount:.2f}" if amount >= 0.01 else f"${amount:.4f}"
