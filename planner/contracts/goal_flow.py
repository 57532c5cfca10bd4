"""Typed inputs, outputs and state of the goal workflow (plan -> review -> execute -> remember)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field, model_validator

from planner.contracts.event_record import LogSnapshot
from planner.contracts.plan_run import ExecutePlanInput, RunState, StepError
from planner.contracts.usage import Usage
from planner.plan import Plan, PlanBudget
from planner.tools import Risk
from planner.validation import Problem

Stage = Literal[
    "retrieving", "planning", "repairing", "awaiting_approval", "executing", "remembering",
    "succeeded", "failed", "rejected", "invalid", "planned", "cancelled", "expired",
    "over_budget", "replanning", "compensating",
]
# step-gates: the plan starts without a whole-plan review; every step whose risk is not in
# ``auto_approve`` waits at its own gate, just before it starts, for a person's decision
ApprovalPolicy = Literal["auto-read-only", "always-ask", "approve-all", "step-gates"]
# The order a goal moves through, and where it can end.
FLOW_STAGES: tuple[Stage, ...] = ("retrieving", "planning", "repairing", "awaiting_approval",
                                  "executing", "remembering")
FINAL_STAGES: frozenset[str] = frozenset({"succeeded", "failed", "rejected", "invalid",
                                          "planned", "cancelled", "expired",
                                          "over_budget"})
# Final stages that mean the work failed: the workflow fails (see agents/goal_workflow.py).
FAILED_STAGES: frozenset[str] = frozenset({"failed", "invalid", "over_budget"})


class Example(BaseModel):
    """A past plan shown to the model (from template memory)."""

    goal: str
    plan: Plan
    template_id: str | None = None
    distance: float | None = None
    # the template's average LLM cost per run (planning of its first run included, so it errs
    # high); None: no run with a cost yet. The estimate of a goal that reuses it.
    avg_cost_usd: float | None = None


class GoalInput(BaseModel):
    goal: str = Field(min_length=1, max_length=4000)
    policy: ApprovalPolicy = "auto-read-only"
    # risk levels that run without asking under "auto-read-only" (settings: JARVIS_AUTO_APPROVE);
    # dangerous steps always ask, whatever this says
    auto_approve: list[Risk] = Field(default_factory=lambda: [Risk.READ_ONLY])
    approval_timeout_s: float | None = Field(86_400.0, gt=0, le=366 * 86_400)
    dry_run: bool = False  # stop after planning (`jarvis plan`)
    submitted_by: str = Field("unknown", max_length=200)
    repair_rounds: int = Field(2, ge=0, le=10)
    llm_timeout_s: float = Field(60.0, gt=0, le=3600)
    # limits on what the goal may spend (settings' defaults: Settings.goal_budget); the plan's
    # own budget can only tighten them. None (goals recorded before budgets): no limit.
    budget: PlanBudget | None = None
    # upsert the Jarvis* search attributes (the client sets it when the namespace has them)
    index: bool = False
    # A goal started by a schedule (docs/schedules.md): the plan a person approved when the
    # schedule was created, its version and who approved it. Each run executes this plan with
    # no retrieval and no LLM call if it still validates against today's tools and is still
    # that version (and has no dangerous step); otherwise the run waits for review.
    approved_plan: Plan | None = None
    approved_digest: str | None = Field(None, max_length=64)
    approved_by: str | None = Field(None, max_length=200)
    schedule_id: str | None = Field(None, max_length=200)
    # set only in the input of a goal continued as new (agents/history_budget.py)
    resume: GoalResume | None = None
    # how many times a step that failed for good may be replanned (a replacement for it and
    # its dependants, finished steps kept); 0: the goal fails (inputs recorded before recovery)
    replan_rounds: int = Field(0, ge=0, le=5)
    # a person's retry of an ended goal from one of its steps (`jarvis retry`): the steps
    # before it keep their outputs and are not run again
    retry: RetryFrom | None = None


class RetryFrom(BaseModel):
    """What a retry from a step starts with: the goal's plan and run as they ended, the step to
    run again (with its dependants) and, optionally, that step's new arguments."""

    plan: Plan
    run: RunState
    step: str = Field(min_length=1, max_length=200)
    args: dict[str, Any] | None = None
    by: str = Field("unknown", max_length=200)
    source: Literal["template", "llm", "schedule", ""] = ""
    template_id: str | None = None
    # steps whose effects were undone when the goal was abandoned: they run again too
    undone: list[str] = Field(default_factory=list)


class Recovery(BaseModel):
    """One partial replan: the step that failed and why, the steps replaced, those added, and
    whether the new steps went back to a person's review."""

    failed: str
    error: str
    replaced: list[str]
    added: list[str] = Field(default_factory=list)
    reviewed: bool = False
    # running: the new plan runs; then how it ended (failed: its run failed too)
    outcome: Literal["running", "succeeded", "invalid", "rejected", "expired",
                     "failed"] = "running"
    note: str = ""


class Undo(BaseModel):
    """One compensation run after the goal was abandoned: the step undone, by which tool, and
    how it went."""

    step: str
    tool: str
    ok: bool
    message: str = ""


class ReplanRequest(BaseModel):
    """Input of ``planner.replan``: the plan, the failure, the steps to replace and the outputs
    of the finished steps the replacement may use."""

    goal: str
    plan: Plan
    failure: StepError
    replaced: list[str]
    finished: dict[str, Any] = Field(default_factory=dict)
    previous: PlanDraft | None = None  # a repair round of the replacement


class GoalResume(BaseModel):
    """What an executing goal carries across a continue-as-new: its state (stage, decisions,
    usage, budget; its run's state lives in ``execution.resume``), the execution input (plan,
    policies, grants, budget, where the run stopped) and its event log."""

    state: GoalState
    execution: ExecutePlanInput
    log: LogSnapshot = Field(default_factory=LogSnapshot)


DecisionAction = Literal["approve", "reject", "edit", "approve_step", "reject_step", "retry",
                         "abandon"]


class Decision(BaseModel):
    action: DecisionAction
    by: str
    at: str  # ISO time from workflow.now()
    reason: str = ""
    step: str | None = None  # the gated step of an approve_step / reject_step


class DecideStepInput(BaseModel):
    """A person's decision at one step's gate (the ``decide_step`` Update)."""

    step_id: str = Field(min_length=1, max_length=200)
    approve: bool
    by: str = Field("unknown", max_length=200)
    note: str = Field("", max_length=2000)
    grant: str | None = Field(None, max_length=128)  # a dangerous step's grant
    # with a rejection: abandon the goal (no other step starts, finished side effects undone)
    abandon: bool = False


class ApproveInput(BaseModel):
    by: str = Field("unknown", max_length=200)
    note: str = Field("", max_length=2000)
    # the version of the plan the person saw (planner.approval.plan_digest); an approval of any
    # other version is refused. None only in histories recorded before it existed.
    plan_digest: str | None = Field(None, max_length=64)
    # step id -> grant for each dangerous step, signed by the approving client
    grants: dict[str, str] = Field(default_factory=dict, max_length=1000)
    # steps that still wait for a person just before they start (their gates), and "approve up
    # to step X": every step that X does not need waits at a gate
    gates: list[str] = Field(default_factory=list, max_length=10_000)
    until: str | None = Field(None, max_length=200)


class RejectInput(BaseModel):
    by: str = Field("unknown", max_length=200)
    reason: str = Field("", max_length=2000)


class EditInput(BaseModel):
    """A changed plan; re-validated against the tools before it replaces the current one."""

    plan: Plan
    by: str = Field("unknown", max_length=200)
    note: str = Field("", max_length=2000)
    # the version of the plan the person edited (refused if the goal's plan changed since)
    plan_digest: str | None = Field(None, max_length=64)


class RetrieveRequest(BaseModel):
    """Input of ``planner.retrieve``. Histories recorded before this model passed the goal
    text alone; that form is still accepted."""

    goal: str

    @model_validator(mode="before")
    @classmethod
    def _bare_goal(cls, data: Any) -> Any:
        return {"goal": data} if isinstance(data, str) else data


class PrepareRequest(BaseModel):
    """Input of ``planner.prepare``. Histories recorded before this model passed the plan
    alone; that form is still accepted."""

    plan: Plan

    @model_validator(mode="before")
    @classmethod
    def _bare_plan(cls, data: Any) -> Any:
        if isinstance(data, dict) and "plan" not in data and "steps" in data:
            return {"plan": data}
        return data


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
    # step id -> argument -> how a whole reference's declared type is converted at the step
    # boundary ("number, passed as text"; planner/conversions.py), shown at review
    conversions: dict[str, dict[str, str]] = Field(default_factory=dict)
    # what one `llm` step is expected to cost at the worker's model and prices
    # (planner.pricing.LLM_STEP_TOKENS); with the planning spend, the estimate shown at review
    llm_step_cost_usd: float = 0.0


class RememberRequest(BaseModel):
    goal: str
    plan: Plan
    template_id: str | None = None
    succeeded: bool
    duration_s: float
    tokens: int
    cost_usd: float | None = None  # None: recorded before costs existed
    # a person changed the plan at review: its values may not come from the goal's words, so it
    # is kept as an example for the planner, never rebound to other goals
    edited: bool = False


class GoalState(BaseModel):
    goal: str
    stage: Stage = "retrieving"
    source: Literal["template", "llm", "schedule", ""] = ""
    schedule_id: str | None = None  # the schedule that started this goal
    template_id: str | None = None
    plan: Plan | None = None
    plan_digest: str | None = None  # the plan's version: approve and edit must name it
    problems: list[Problem] = Field(default_factory=list)
    repair_rounds: int = 0
    fixes: list[str] = Field(default_factory=list)
    risks: dict[str, Risk] = Field(default_factory=dict)
    conversions: dict[str, dict[str, str]] = Field(default_factory=dict)  # as PrepareResult's
    policy: ApprovalPolicy = "auto-read-only"
    budget: PlanBudget | None = None  # the limits in force (the goal's, tightened by the plan's)
    # US dollars expected for the whole goal once planned: planning so far plus the plan's llm
    # steps at a typical call each (None before a plan is prepared); usage.cost_usd is actual
    estimate_usd: float | None = None
    stage_since: str = ""  # ISO time the current stage began ("" in goals recorded before it)
    decisions: list[Decision] = Field(default_factory=list)
    gates: list[str] = Field(default_factory=list)  # steps that wait for a person at a gate
    run: RunState | None = None
    recoveries: list[Recovery] = Field(default_factory=list)  # partial replans, in order
    undone: list[Undo] = Field(default_factory=list)  # compensations of an abandoned goal
    retried_from: str | None = None  # the step a person retried this goal from
    usage: Usage = Field(default_factory=Usage)
    message: str = ""
    prompts: list[str] = Field(default_factory=list)

    approval_deadline: str | None = None  # ISO time the approval expires
    # the worker version (deployment.build_id) that ran the latest stage change
    worker_version: str = ""

    @property
    def finished(self) -> bool:
        return self.stage in FINAL_STAGES

    @property
    def pending_approval(self) -> bool:
        return self.stage == "awaiting_approval"


# their fields name models defined below them
GoalInput.model_rebuild()
ReplanRequest.model_rebuild()
