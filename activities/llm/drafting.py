"""Goal -> plan with an LLM: send the prompt, ask for structured output, parse, validate.

One call per function; retries belong to whoever calls (a Temporal activity), so every attempt
is visible in the workflow history.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import cast

from openai.types.chat import ChatCompletionMessageParam

from activities.llm.endpoint import LLMConfig
from activities.llm.structured import complete_structured
from planner.contracts.goal_flow import Example, PlanDraft, ReplanRequest
from planner.parsing import parse_plan_output
from planner.plan import Plan, plan_json_schema
from planner.prompting import planning_messages, prompt_refs, repair_messages, replan_messages
from planner.recovery import check_finished_refs, merge_replacement
from planner.tools import ToolRegistry
from planner.validation import Limits, validate_plan


async def draft_plan(config: LLMConfig, goal: str, registry: ToolRegistry,
                     examples: Sequence[Example] = (),
                     previous: PlanDraft | None = None,
                     limits: Limits | None = None) -> PlanDraft:
    """One LLM call: a first plan, or (with ``previous``) a repaired one; parsed and validated."""
    messages = (repair_messages(goal, registry, examples, previous) if previous
                else planning_messages(goal, registry, examples))
    result = await complete_structured(config, cast("list[ChatCompletionMessageParam]", messages),
                                       plan_json_schema(), "plan")
    raw = result.text
    outcome = parse_plan_output(result.data if result.data is not None else raw, goal=goal)
    problems = list(outcome.problems)
    plan: Plan | None = outcome.plan
    if plan is not None:
        problems += validate_plan(plan, {t.name: t for t in registry}, limits)
    return PlanDraft(plan=plan, problems=problems, raw=raw if isinstance(raw, str) else
                     json.dumps(raw), fixes=list(outcome.fixes), usage=result.usage,
                     mode=result.mode_used, prompt=prompt_refs(previous is not None))


async def replan_steps(config: LLMConfig, request: ReplanRequest, registry: ToolRegistry,
                       limits: Limits | None = None) -> PlanDraft:
    """One LLM call for a replacement of the failed step and its dependants; the draft's plan
    is the whole new plan (finished steps kept), validated against the tools and against the
    finished steps' real outputs."""
    messages = replan_messages(request, registry)
    result = await complete_structured(config, cast("list[ChatCompletionMessageParam]", messages),
                                       plan_json_schema(), "plan")
    raw = result.text if isinstance(result.text, str) else json.dumps(result.text)
    outcome = parse_plan_output(result.data if result.data is not None else raw,
                                goal=request.goal)
    problems = list(outcome.problems)
    plan: Plan | None = None
    if outcome.plan is not None:
        plan, clashes = merge_replacement(request.plan, set(request.replaced), outcome.plan)
        problems += clashes + validate_plan(plan, {t.name: t for t in registry}, limits)
        problems += check_finished_refs(plan, request.finished)
    return PlanDraft(plan=plan, problems=problems, raw=raw, fixes=list(outcome.fixes),
                     usage=result.usage, mode=result.mode_used,
                     prompt=prompt_refs(request.previous is not None, replan=True))
