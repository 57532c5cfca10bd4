"""Prompt building: the tool catalogue as the model sees it, example plans as few-shot text, and
the planning and repair messages. Pure: the prompts are files in ``prompts/``; sending them is
:mod:`activities.llm.drafting`."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

from planner.contracts.goal_flow import Example, PlanDraft, ReplanRequest
from planner.tools import Tool, ToolRegistry
from planner.validation import Problem
from prompts import load_prompt

# A chat message as the OpenAI-compatible APIs take it ({"role": ..., "content": ...}).
Message = dict[str, str]


def _compact(schema: dict[str, Any] | None) -> str:
    if not schema:
        return "any"
    return json.dumps(_strip_titles(schema), separators=(",", ":"), ensure_ascii=False)


def _strip_titles(value: Any) -> Any:
    """Titles repeat the field names: drop them to save tokens."""
    if isinstance(value, dict):
        return {k: _strip_titles(v) for k, v in value.items() if k != "title"}
    if isinstance(value, list):
        return [_strip_titles(v) for v in value]
    return value


def render_tool(tool: Tool) -> str:
    args = dict(tool.args_schema)
    about = " ".join(str(args.pop("description", "") or tool.description).split())
    return (f"- {tool.name} [{tool.risk.value}]: {about}\n"
            f"  args: {_compact(args)}\n"
            f"  output: {_compact(tool.output_schema)}")


def render_catalog(registry: ToolRegistry) -> str:
    return "\n".join(render_tool(t) for t in registry if not t.internal)


def render_examples(examples: Iterable[Example]) -> str:
    parts = []
    for ex in examples:
        plan = ex.plan.model_dump(mode="json", exclude_defaults=True)
        parts.append(f"Goal: {ex.goal}\nPlan: {json.dumps(plan, ensure_ascii=False)}")
    return "\n\n".join(parts)


def planning_messages(goal: str, registry: ToolRegistry,
                      examples: Sequence[Example]) -> list[Message]:
    system = load_prompt("plan").render(catalog=render_catalog(registry),
                                        has_notify="notify" in registry,
                                        has_examples=bool(examples),
                                        examples=render_examples(examples))
    user = load_prompt("plan_user").render(goal=goal)
    return [{"role": "system", "content": system}, {"role": "user", "content": user}]


def repair_messages(goal: str, registry: ToolRegistry, examples: Sequence[Example],
                    previous: PlanDraft) -> list[Message]:
    problems = "\n".join(f"- {_problem_line(p)}" for p in previous.problems)
    shown = previous.raw or (previous.plan.model_dump_json() if previous.plan else "")
    repair = load_prompt("repair").render(problems=problems, previous=shown)
    return [*planning_messages(goal, registry, examples),
            {"role": "assistant", "content": shown},
            {"role": "user", "content": repair}]


FINISHED_OUTPUT_CHARS = 2_000  # of each finished step's output shown to the replanner


def replan_messages(request: ReplanRequest, registry: ToolRegistry) -> list[Message]:
    """The planning system prompt, then the failure and what finished; with a previous
    answer, its problems too (a repair round of the replacement)."""
    plan = request.plan
    finished = "\n".join(
        f"- {sid} ({plan.step(sid).tool}): {_clip(json.dumps(out, ensure_ascii=False))}"
        for sid, out in request.finished.items()) or "- none"
    fail = request.failure
    user = load_prompt("replan").render(
        goal=request.goal, plan=plan.model_dump_json(exclude_defaults=True), finished=finished,
        failed=fail.step_id, tool=fail.tool,
        error=f"{fail.type} after {fail.attempts} attempt(s): {fail.message}",
        replaced=", ".join(request.replaced))
    messages = [planning_messages(request.goal, registry, ())[0],
                {"role": "user", "content": user}]
    previous = request.previous
    if previous is None:
        return messages
    problems = "\n".join(f"- {_problem_line(p)}" for p in previous.problems)
    repair = load_prompt("replan_repair").render(problems=problems, previous=previous.raw)
    return [*messages, {"role": "assistant", "content": previous.raw},
            {"role": "user", "content": repair}]


def _clip(text: str, limit: int = FINISHED_OUTPUT_CHARS) -> str:
    return text if len(text) <= limit else text[:limit - 3] + "..."


def _problem_line(p: Problem) -> str:
    where = ", ".join(x for x in (p.step_id and f"step {p.step_id}", p.location) if x)
    return f"{p.code} ({where}): {p.message}" if where else f"{p.code}: {p.message}"


def prompt_refs(repair: bool, replan: bool = False) -> str:
    names = (["plan", "replan"] + (["replan_repair"] if repair else []) if replan else
             ["plan", "plan_user"] + (["repair"] if repair else []))
    return ",".join(load_prompt(n).ref for n in names)
