"""What the MCP tools return (their structured output schemas): a goal's state in a form an
MCP client can read and act on, bounded like the web app's view."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from agents.client import Summary
from planner.contracts.goal_flow import GoalState

MAX_OUTPUT_CHARS = 20_000  # a step's output beyond this is cut (the full one: `jarvis goal`)


class StepView(BaseModel):
    id: str
    tool: str
    risk: str = Field(description="read-only, side-effecting or dangerous")
    status: str = Field("", description="empty until the goal executes")
    attempts: int = 0
    error: str = ""
    output: Any = None


class GoalView(BaseModel):
    goal_id: str
    goal: str
    stage: str = Field(description="e.g. planning, awaiting_approval, executing, succeeded, "
                                   "failed, rejected, planned (a dry run), expired")
    waiting_for_review: bool = Field(description="true when the goal needs approve or reject")
    plan_digest: str | None = Field(None, description="the plan's version: approve must name it")
    steps: list[StepView] = Field(default_factory=list)
    outputs: dict[str, Any] = Field(default_factory=dict,
                                    description="the plan's final outputs once it ran")
    message: str = ""
    problems: list[str] = Field(default_factory=list)
    approval_deadline: str | None = None
    decisions: list[str] = Field(default_factory=list,
                                 description="who approved or rejected, and when")
    hint: str = Field("", description="what to do next")


class PendingGoal(BaseModel):
    goal_id: str
    goal: str
    stage: str
    started: str
    by: str


class PendingList(BaseModel):
    goals: list[PendingGoal]


class Cancelled(BaseModel):
    goal_id: str
    cancel_requested: bool = Field(description="false when the goal had already finished")
    status: str = Field(description="the goal's workflow status now: canceled once it stopped, "
                                    "running while its steps stop, or how it had finished")


def _bounded(value: Any) -> Any:
    import json

    text = json.dumps(value, default=str)
    if len(text) <= MAX_OUTPUT_CHARS:
        return value
    return {"truncated": True, "preview": text[:MAX_OUTPUT_CHARS]}


def _hint(goal_id: str, state: GoalState) -> str:
    if state.pending_approval:
        return (f"review the steps and risks, then call approve with goal_id={goal_id} and "
                f"plan_digest={state.plan_digest}, or reject")
    if not state.finished and state.stage != "planned":
        return f"still {state.stage}: call goal_state with goal_id={goal_id} to see it progress"
    return ""


def goal_view(goal_id: str, state: GoalState) -> GoalView:
    ran = {s.id: s for s in state.run.steps} if state.run is not None else {}
    steps = []
    for step in state.plan.steps if state.plan is not None else []:
        done = ran.get(step.id)
        steps.append(StepView(
            id=step.id, tool=step.tool, risk=str(state.risks.get(step.id, "")),
            status=str(done.status) if done else "", attempts=done.attempts if done else 0,
            error=done.error.message if done and done.error else "",
            output=_bounded(done.output) if done else None))
    return GoalView(
        goal_id=goal_id, goal=state.goal, stage=state.stage,
        waiting_for_review=state.pending_approval, plan_digest=state.plan_digest, steps=steps,
        outputs=_bounded(state.run.outputs) if state.run is not None else {},
        message=state.message, problems=[p.message for p in state.problems],
        approval_deadline=state.approval_deadline,
        decisions=[f"{d.action} by {d.by} at {d.at}" + (f": {d.reason}" if d.reason else "")
                   for d in state.decisions],
        hint=_hint(goal_id, state))


def pending_list(summaries: list[Summary]) -> PendingList:
    return PendingList(goals=[PendingGoal(goal_id=s.id, goal=s.goal, stage=s.stage,
                                          started=s.started, by=s.by) for s in summaries])
