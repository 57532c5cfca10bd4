"""Typed inputs, outputs and state of plan execution, shared by both engines and the clients.

Each workflow and activity takes one model, so fields can be added without breaking callers.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field, PrivateAttr

from planner.budget import Spent
from planner.contracts.event_record import LogSnapshot
from planner.contracts.usage import Usage
from planner.plan import Plan, PlanBudget
from planner.retry import RetrySpec
from planner.scheduler import NextSteps, StepStatus
from planner.tools import Risk

RunStatus = Literal["running", "succeeded", "failed", "cancelled"]


class StepPolicy(BaseModel):
    """How one step runs; fixed by the starter from the registry, so the workflow stays pure."""

    activity: str
    kind: Literal["activity", "timer"] = "activity"
    risk: Risk = Risk.READ_ONLY
    timeout_s: float = 60.0
    retry: RetrySpec = Field(default_factory=RetrySpec)
    # run as a local activity (same activity name, timeout and retry policy); False for inputs
    # recorded before this field existed, so their histories replay unchanged
    local: bool = False
    # a pure tool's step (planner.tools.Tool.pure) runs inside the workflow, no activity; a
    # step whose arguments are in the payload store or whose output is too large for the
    # history runs as a local activity instead. False in inputs recorded before it existed
    inline: bool = False
    # the task queue of the workers that run this tool (JARVIS_TOOL_QUEUES); None: the
    # workflow's own queue (inputs recorded before this field existed run as they did)
    queue: str | None = None
    # how the step is undone if the goal is abandoned after it ran (None: it is not)
    compensation: CompensationPolicy | None = None


class CompensationPolicy(BaseModel):
    """How a finished step is undone when its goal is abandoned: the compensating tool (its
    activity, timeout and retries) and its arguments, each taken from the step's output
    (``"output.path"``) or its resolved arguments (``"args.path"``). The compensating call
    carries the step's own id, so its idempotency key is the one the step's effect had."""

    tool: str
    activity: str
    args: dict[str, str] = Field(default_factory=dict)
    timeout_s: float = 30.0
    retry: RetrySpec = Field(default_factory=RetrySpec)


class ExecutePlanInput(BaseModel):
    plan: Plan
    policies: dict[str, StepPolicy]
    payload_inline_limit: int = Field(32_000, ge=256, le=2_000_000)
    allow_dangerous: bool = False
    # step id -> a person's grant for that dangerous step (planner.approval); the worker checks
    # it before a dangerous tool runs, whatever ``allow_dangerous`` and the policies say
    grants: dict[str, str] = Field(default_factory=dict)
    # limits on what the run may spend (planner/budget.py), what the goal spent before it (its
    # planning) and when the goal started (epoch seconds): wall time counts from there
    budget: PlanBudget | None = None
    spent_before: Spent = Field(default_factory=Spent)
    started_at: float | None = None
    # history budget (agents/history_budget.py): past this many events in its history the run
    # continues as new between steps (None: never; runs recorded before the budget)
    history_events_limit: int | None = Field(None, ge=100)
    # set only in the input of a run continued as new: where the last run stopped
    resume: RunResume | None = None
    # steps that wait for a person just before they start (their resolved arguments shown);
    # the engine asks through its gate hook (a goal: the decide_step Update). Empty in inputs
    # recorded before gates. ``gate_timeout_s``: how long a gate waits (then: rejected).
    gates: list[str] = Field(default_factory=list, max_length=10_000)
    gate_timeout_s: float | None = Field(None, gt=0)
    # a local step and the chain of read-only local steps after it run in one local activity
    # until the chain has run this long (planner/chains.py; JARVIS_LOCAL_CHAIN_S); 0: each step
    # in its own, as in inputs recorded before chains
    local_chain_s: float = Field(0.0, ge=0, le=60)
    # read-only local steps that start at the same moment run together in one local activity
    # (agents/plan_runner.py; JARVIS_LOCAL_GROUPS); False: each in its own, as in inputs
    # recorded before groups
    local_groups: bool = False
    # a chain's (or a group's) link that failed there counts as its step's first attempt: a
    # failure no retry would change fails the step, one a retry may fix leaves the attempts
    # left to run on its own (agents/plan_runner.py); False: the link runs again on its own
    # with its whole retry policy, as in inputs recorded before
    link_attempts: bool = False


class GateDecision(BaseModel):
    """A person's decision at a step's gate; for a dangerous step, ``grant`` is the approving
    client's grant for it (planner.approval)."""

    step_id: str
    approve: bool
    by: str = "unknown"
    at: str = ""  # ISO time from workflow.now()
    note: str = ""
    grant: str | None = None
    # reject the step and abandon the goal: no other step starts; what ran is undone
    abandon: bool = False


GateState = Literal["waiting", "approved", "rejected", "expired"]


class RunResume(BaseModel):
    """What a run carries across a continue-as-new: its state (step statuses, attempts, timings,
    outputs or their payload handles), the outputs later steps refer to, why no more steps
    start (a spent budget), how many runs came before, and its event log."""

    state: RunState
    outputs: dict[str, Any] = Field(default_factory=dict)
    over_budget: str = ""
    continued: int = Field(0, ge=0)
    log: LogSnapshot = Field(default_factory=LogSnapshot)


class RefAt(BaseModel):
    """A whole reference in a step's arguments: its place (keys and indexes from the
    arguments' root) and its text; the tool runtime converts the value found there to the
    parameter's type (planner/conversions.py)."""

    path: list[str | int]
    ref: str


class ToolCall(BaseModel):
    step_id: str
    tool: str
    args: dict[str, Any]
    # the whole references among the arguments (none in calls recorded before conversions)
    refs: list[RefAt] = Field(default_factory=list)
    # outputs of referenced steps that live in the payload store: the activity resolves the args
    deferred: dict[str, Any] = Field(default_factory=dict)
    inline_limit: int = 32_000
    # for a step that holds a grant: the grant and the argument template it signs
    grant: str | None = None
    template: dict[str, Any] | None = None


class ToolCallResult(BaseModel):
    output: Any
    attempt: int
    started_at: float
    finished_at: float
    usage: Usage | None = None  # tokens spent by tools that call an LLM
    worker: str | None = None  # the identity of the worker that ran this attempt (pid@host)
    # what the runtime converted at the step boundary, one note per argument
    # ("text: ${sum.value} = 84 (number, passed as text)")
    conversions: list[str] = Field(default_factory=list)
    # a pure tool's call run inside the workflow (no activity, no worker to name)
    inline: bool = False


class StepError(BaseModel):
    step_id: str
    tool: str
    type: str
    message: str
    attempts: int = 1


class StepState(BaseModel):
    id: str
    tool: str
    status: StepStatus = StepStatus.PENDING
    attempts: int = 0
    started_at: float | None = None
    finished_at: float | None = None
    error: StepError | None = None
    output: Any = None
    queue: str | None = None  # the task queue its tool is routed to (None: the default one)
    worker: str | None = None  # the worker (pid@host) that ran its last attempt
    conversions: list[str] = Field(default_factory=list)  # as in ToolCallResult
    inline: bool = False  # it ran inside the workflow (a pure tool): no activity, no worker
    # a gated step: waiting for a person, then their decision; ``gate_args`` are the resolved
    # arguments the person decides on (the template when an output is in the payload store)
    gate: GateState | None = None
    gate_args: dict[str, Any] | None = None
    gate_note: str = ""  # who decided and why ("rejected by bob: not today")
    # why a running step has not started, e.g. "no worker serves queue privileged"; set by the
    # client reading the state (the workflow cannot know who polls a queue)
    waiting: str = ""


class RunState(BaseModel):
    """What a person (or the CLI) can see of a run at any moment."""

    goal: str
    status: RunStatus = "running"
    steps: list[StepState]
    outputs: dict[str, Any] = Field(default_factory=dict)
    error: StepError | None = None
    engine: Literal["temporal", "simple"] = "temporal"
    usage: Usage = Field(default_factory=Usage)
    # step id -> state, for the list it was built from (rebuilt when the list is replaced or
    # grows): a lookup per step change must not walk the whole run
    _by_id: tuple[list[StepState], int, dict[str, StepState]] | None = PrivateAttr(None)

    def step(self, step_id: str) -> StepState:
        # read from pydantic's store of private attributes directly: ``self._by_id`` goes
        # through the model's __getattr__, most of this method's cost (it runs ~5 times a step)
        private = self.__pydantic_private__
        index = private.get("_by_id") if private is not None else self._by_id
        if index is None or index[0] is not self.steps or index[1] != len(self.steps):
            index = (self.steps, len(self.steps), {s.id: s for s in self.steps})
            self._by_id = index
        found = index[2].get(step_id)
        if found is None or found.id != step_id:
            return next(s for s in self.steps if s.id == step_id)  # StopIteration: no such step
        return found

    def statuses(self) -> dict[str, StepStatus]:
        return {s.id: s.status for s in self.steps}

    def apply(self, decision: NextSteps) -> list[str]:
        """Record the steps the scheduler marked blocked, skipped or cancelled; their ids."""
        changed = []
        for ids, new in ((decision.blocked, StepStatus.BLOCKED),
                         (decision.skipped, StepStatus.SKIPPED),
                         (decision.cancelled, StepStatus.CANCELLED)):
            for step_id in ids:
                self.step(step_id).status = new
                changed.append(step_id)
        return changed

    def failure_report(self) -> str:
        if not self.error:
            return ""
        e = self.error
        blocked = [s.id for s in self.steps if s.status is StepStatus.BLOCKED]
        text = (f"step '{e.step_id}' (tool '{e.tool}') failed after {e.attempts} attempt(s): "
                f"{e.type}: {e.message}")
        if blocked:
            text += f"; not run because of it: {', '.join(blocked)}"
        return text


StepPolicy.model_rebuild()  # its compensation field names CompensationPolicy, defined below it
ExecutePlanInput.model_rebuild()  # its resume field names RunResume, defined below it
