"""Goal -> plan with an LLM: render the prompt, ask for structured output, parse, validate.

One call per function; retries belong to whoever calls (a Temporal activity), so every attempt
is visible in the workflow history.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from openai.types.chat import ChatCompletionMessageParam as Message

from activities.registry import ToolRegistry
from agents.goal_models import PlanDraft
from planner.catalog import Example, render_catalog, render_examples
from planner.llm import LLMConfig, complete_structured
from planner.parsing import parse_plan_output
from planner.plan import Plan, plan_json_schema
from planner.validation import Problem, validate_plan
from prompts import load_prompt


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


def _problem_line(p: Problem) -> str:
    where = ", ".join(x for x in (p.step_id and f"step {p.step_id}", p.location) if x)
    return f"{p.code} ({where}): {p.message}" if where else f"{p.code}: {p.message}"


def prompt_refs(repair: bool) -> str:
    names = ["plan", "plan_user"] + (["repair"] if repair else [])
    return ",".join(load_prompt(n).ref for n in names)


async def draft_plan(config: LLMConfig, goal: str, registry: ToolRegistry,
                     examples: Sequence[Example] = (),
                     previous: PlanDraft | None = None) -> PlanDraft:
    """One LLM call: a first plan, or (with ``previous``) a repaired one; parsed and validated."""
    messages = (repair_messages(goal, registry, examples, previous) if previous
                else planning_messages(goal, registry, examples))
    result = await complete_structured(config, messages, plan_json_schema(), "plan")
    raw = result.text
    outcome = parse_plan_output(result.data if result.data is not None else raw, goal=goal)
    problems = list(outcome.problems)
    plan: Plan | None = outcome.plan
    if plan is not None:
        problems += validate_plan(plan, {t.name: t for t in registry})
    return PlanDraft(plan=plan, problems=problems, raw=raw if isinstance(raw, str) else
                     json.dumps(raw), fixes=list(outcome.fixes), usage=result.usage,
                     mode=result.mode_used, prompt=prompt_refs(previous is not None))
