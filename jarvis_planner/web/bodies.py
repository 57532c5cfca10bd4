"""Request and response bodies of the JSON API (OpenAPI is generated from these).

Who submits or decides is never in a body: it is the logged-in identity (``auth``); unknown
fields, a ``by`` among them, are ignored."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from jarvis_planner.web.view import StageGroup, Stages
from planner.plan import Plan


class SubmitBody(BaseModel):
    goal: str = Field(min_length=1, max_length=4000, description="The goal, in plain language.")
    yes: bool = Field(False, description="Pre-approve the plan (dangerous steps still ask).")
    dry_run: bool = Field(False, description="Stop after planning; nothing is executed.")


class Submitted(BaseModel):
    id: str


class GoalItem(BaseModel):
    id: str
    goal: str
    stage: str
    started: str
    group: StageGroup = Field(description="What the page's stage filter calls the stage: "
                                          "waiting, running, succeeded, failed or other.")
    short_id: str = Field(description="The id's random tail: tells apart goals of one text.")


DIGEST = Field(min_length=8, max_length=64, pattern="^[0-9a-f]+$",
               description="The version of the plan you saw (the goal's `plan_digest`, or a "
                           "prefix of at least 8 hex digits); refused if the plan changed.")


class ApproveBody(BaseModel):
    plan_digest: str = DIGEST
    note: str = Field("", max_length=2000)
    gates: list[str] = Field(default_factory=list, max_length=1000, description=(
        "Steps that still wait for a person at their gates, just before they start."))
    until: str | None = Field(None, max_length=200, description=(
        "Approve up to this step: every step it does not need waits at its gate."))


class StepDecisionBody(BaseModel):
    approve: bool = Field(description="true runs the step waiting at its gate; false skips it "
                                      "and what depends on it")
    note: str = Field("", max_length=2000)
    abandon: bool = Field(False, description=(
        "with approve false: abandon the goal; no other step starts and the finished steps' "
        "effects are undone where their tools declare how"))


class RetryBody(BaseModel):
    step: str = Field(min_length=1, max_length=200, description=(
        "The step to run again, with what depends on it; the other finished steps keep "
        "their outputs"))
    args: dict[str, Any] | None = Field(None, description=(
        "New arguments for that step (none: its arguments as they were)"))


class RejectBody(BaseModel):
    reason: str = Field("", max_length=2000)


class EditBody(BaseModel):
    plan: Plan = Field(description="The whole edited plan; re-validated before it replaces "
                                   "the current one.")
    plan_digest: str = DIGEST
    note: str = Field("", max_length=2000)


class Cancelled(BaseModel):
    id: str
    cancelled: bool


class Info(BaseModel):
    temporal_ui: str
    namespace: str
    task_queue: str
    temporal_address: str
    stages: Stages
    user: str = Field(description="Who is logged in.")
    admin: bool = Field(description="Whether they see and decide every goal.")
    planner_attempts: int = Field(description="How many times planning calls the LLM before "
                                              "the goal fails (retryable errors only).")


class ProblemOut(BaseModel):
    code: str
    step_id: str | None = None
    location: str = ""
    message: str


class ErrorOut(BaseModel):
    error: str
    hint: str = ""
    problems: list[ProblemOut] | None = None


