"""Budgets: limits on what a goal may spend (tokens, LLM cost, wall time, steps, LLM calls).

A goal's budget comes from settings (``JARVIS_BUDGET_*``) or its submitter; a plan's own
``budget`` (schema version 2) can only tighten it (:func:`tighten`): plans come from an LLM. The
workflow checks the budget before each LLM call and before each step starts (:func:`overrun`),
so the goal ends *before* the call that would cross a count limit (steps, LLM calls, wall
time). Tokens and cost are known only after a call returns: a call starts only while the spend
is under the limit, so one call can take the spend past it, never a second one.
"""

from __future__ import annotations

from pydantic import BaseModel

from planner.plan import PlanBudget


class Spent(BaseModel):
    """What a goal has spent so far."""

    tokens: int = 0
    cost_usd: float = 0.0
    wall_time_s: float = 0.0
    steps: int = 0
    llm_calls: int = 0

    def summary(self) -> str:
        return (f"{self.llm_calls} LLM call(s), {self.tokens:,} tokens, ${self.cost_usd:.4f}, "
                f"{self.wall_time_s:.0f} s, {self.steps} step(s)")


def tighten(limits: PlanBudget | None, plan: PlanBudget | None) -> PlanBudget | None:
    """The stricter of two budgets, limit by limit (None: no limit)."""
    if limits is None or plan is None:
        return limits or plan
    merged = {}
    for name in PlanBudget.model_fields:
        a, b = getattr(limits, name), getattr(plan, name)
        merged[name] = b if a is None else a if b is None else min(a, b)
    return PlanBudget(**merged)


LLM_TOOL = "llm"  # the built-in tool whose steps count as LLM calls


def overrun(budget: PlanBudget | None, spent: Spent, *, llm_call: bool = False,
            step: bool = False) -> str | None:
    """Why the next LLM call (``llm_call``) or step (``step``) must not start, or None."""
    if budget is None:
        return None
    checks: list[tuple[float | int | None, float | int, str]] = [
        (budget.max_wall_time_s, spent.wall_time_s, "seconds of wall time"),
        (budget.max_tokens, spent.tokens, "tokens"),
        (budget.max_cost_usd, spent.cost_usd, "US dollars of LLM cost"),
    ]
    for limit, used, what in checks:
        if limit is not None and used >= limit:
            return f"the budget of {limit:g} {what} is spent ({used:g})"
    if step and budget.max_steps is not None and spent.steps + 1 > budget.max_steps:
        return f"the next step would be step {spent.steps + 1}; the budget is {budget.max_steps}"
    if llm_call and budget.max_llm_calls is not None and spent.llm_calls + 1 > budget.max_llm_calls:
        return (f"the next LLM call would be call {spent.llm_calls + 1}; the budget is "
                f"{budget.max_llm_calls}")
    return None
