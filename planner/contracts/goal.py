"""Typed inputs, outputs and state of the goal workflow (plan -> review -> execute -> remember)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from planner.contracts.run import ExecutePlanInput, RunState
from planner.contracts.usage import Usage
from planner.plan import Plan
from planner.tools import Risk
from planner.validation import Problem

Stage = Literal[
    "retrieving", "planning", "repairing", "awaiting_approval", "executing", "remembering",
    "succeeded", "failed", "rejected", "invalid", "planned", "cancelled", "expired",
]
ApprovalPolicy = Literal["auto-read-only", "always-ask", "approve-all"]


class Example(BaseModel):
    """A past plan shown to the model (from template memory)."""

    goal: str
    plan: Plan
    template_id: str | None = None
    distance: float | None = None


class GoalInput(BaseModel):
    goal: str = Field(min_length=1, max_length=4000)
    policy: ApprovalPolicy = "auto-read-only"
    # risk levels that run without asking under "auto-read-only" (settings: JARVIS_AUTO_APPROVE);
    # dangerous steps always ask, whatever this says
    auto_approve: list[Risk] = Field(default_factory=lambda: [Risk.READ_ONLY])
    approval_timeout_s: float | None = Field(86_400.0, gt=0)
    dry_run: bool = False  # stop after planning (`jarvis plan`)
    submitted_by: str = "unknown"
    repair_rounds: int = 2
    llm_timeout_s: float = 60.0


class Decision(BaseModel):
    action: Literal["approve", "reject", "edit"]
    by: str
    at: str  # ISO time from workflow.now()
    reason: str = ""


class ApproveInput(BaseModel):
    by: str = "unknown"
    note: str = ""


class RejectInput(BaseModel):
    by: str = "unknown"
    reason: str = Field("", max_length=2000)


class EditInput(BaseModel):
    """A changed plan; re-validated against the tools before it replaces the current one."""

    plan: Plan
    by: str = "unknown"
    note: str = ""


class RetrieveResult(BaseModel):
    examples: list[Example] = Field(default_factory=list)
    reuse: Example | None = None  # a template rebound to this goal, validated: no LLM call
    bindings: dict[str, Any] = Field(default_factory=dict)
    note: str = ""


class PlanDraft(BaseModel):
    plan: Plan | None = None
    problems: list[Problem] = Field(default_factory=list)
    raw: str = ""
    fixes: list[str] = Field(default_factory=list)
    usage: Usage = Field(default_factory=Usage)
    mode: str = ""
    prompt: str = ""


class DraftRequest(BaseModel):
    goal: str
    examples: list[Example] = Field(default_factory=list)
    previous: PlanDraft | None = None  # set for a repair round


class PrepareResult(BaseModel):
    execution: ExecutePlanInput | None = None
    problems: list[Problem] = Field(default_factory=list)
    risks: dict[str, Risk] = Field(default_factory=dict)  # step id -> risk level


class RememberRequest(BaseModel):
    goal: str
    plan: Plan
    template_id: str | None = None
    succeeded: bool
    duration_s: float
    tokens: int


class GoalState(BaseModel):
    goal: str
    stage: Stage = "retrieving"
    source: Literal["template", "llm", ""] = ""
    template_id: str | None = None
    plan: Plan | None = None
    problems: list[Problem] = Field(default_factory=list)
    repair_rounds: int = 0
    fixes: list[str] = Field(default_factory=list)
    risks: dict[str, Risk] = Field(default_factory=dict)
    policy: ApprovalPolicy = "auto-read-only"
    decisions: list[Decision] = Field(default_factory=list)
    run: RunState | None = None
    usage: Usage = Field(default_factory=Usage)
    message: str = ""
    prompts: list[str] = Field(default_factory=list)

    approval_deadline: str | None = None  # ISO time the approval expires

    @property
    def finished(self) -> bool:
        return self.stage in ("succeeded", "failed", "rejected", "invalid", "planned",
                              "cancelled", "expired")

    @property
    def pending_approval(self) -> bool:
        return self.stage == "awaiting_approval"
