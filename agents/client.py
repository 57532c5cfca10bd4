"""The one client of JARVIS's workflows: goals (submit, follow, review, cancel, list) and plan
runs (start, follow, cancel, list), over one Temporal connection. The CLI, the web app and host
applications all use it (``jarvis_planner.JarvisClient`` is this class).

Following a workflow is one mechanism, :func:`agents.following.watch`: the workflow keeps an event
log, and the client asks for what came after the last event it saw. Waiting for an outcome
waits on the workflow's result (a long poll on the server), never on a polling loop.
"""

from __future__ import annotations

import asyncio
import builtins
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any, Literal, TypeVar

from temporalio.client import (
    Client,
    WorkflowExecutionDescription,
    WorkflowExecutionStatus,
    WorkflowFailureError,
    WorkflowHandle,
    WorkflowUpdateFailedError,
)
from temporalio.common import SearchAttributePair, TypedSearchAttributes
from temporalio.exceptions import ApplicationError, WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from activities.approval_key import approval_key
from agents import search_attributes
from agents.bounded_query import QUERY_WAIT_S, UNANSWERED, ask
from agents.connection import (
    alive,
    connect_with_retry,
    new_run_id,
)
from agents.following import GoalEvent, goal_events, watch
from agents.schedules import ScheduleMixin
from agents.search_attributes import STAGE
from agents.stuck_runs import Stuck, stuck
from planner.approval import sign_plan, sign_step
from planner.contracts.events import RunEventPage
from planner.contracts.goal_flow import (
    ApprovalPolicy,
    ApproveInput,
    DecideStepInput,
    EditInput,
    GoalInput,
    GoalState,
    RejectInput,
    RetryFrom,
)
from planner.contracts.names import (
    APPROVE_UPDATE,
    DECIDE_STEP_UPDATE,
    EDIT_UPDATE,
    EXECUTE_PLAN_WORKFLOW,
    GOAL_FAILED,
    GOAL_WORKFLOW,
    INVALID_EDIT,
    PLAN_FAILED,
    REJECT_UPDATE,
    STATE_QUERY,
)
from planner.contracts.plan_run import ExecutePlanInput, RunState
from planner.plan import Plan, PlanBudget
from planner.scheduler import StepStatus
from planner.settings import Settings, load_settings
from planner.tools import Risk
from planner.validation import Problem

ProgressCallback = Callable[[RunState], None]
S = TypeVar("S", GoalState, RunState)
WAITING_STAGES = frozenset({"awaiting_approval"})
NO_ANSWER = "running (no worker answers)"  # a running goal's stage when no worker answers
# a running goal's stage when its workflow task fails on every attempt (agents/stuck_runs.py)
STUCK = "stuck (`jarvis status ID` says why)"
STAGE_WAIT_S = 2.0  # a list asks each running goal its stage this briefly
OWNER_SCAN = 2_000  # goals looked at, newest first, to list one person's


class DecisionRefused(ValueError):
    """An approve/reject/edit the workflow refused (e.g. the goal is not waiting)."""


def gate_waiting(state: GoalState) -> list[str]:
    """The steps of ``state``'s run that wait at their gates for a person."""
    return [s.id for s in state.run.steps if s.gate == "waiting"] if state.run else []


class RetryRefused(DecisionRefused):
    """A retry from a step that cannot start (the goal still runs, or has no such step)."""


class EditRefused(DecisionRefused):
    """An edited plan that does not validate; the goal keeps waiting."""

    def __init__(self, message: str, problems: list[Problem]) -> None:
        super().__init__(message)
        self.problems = problems


class Gone(LookupError):
    """A goal or run that was cancelled or terminated: it has no final state."""


class NoAnswer(RuntimeError):
    """A running goal or run whose worker did not answer the ``state`` query in time."""


QUERY_TRIES = 3  # a state query unanswered in QUERY_WAIT_S is asked again after a fresh look


class NotFound(LookupError):
    """No workflow with this id (on this namespace, within its retention)."""


@dataclass(frozen=True)
class ActivityAttempt:
    """An activity the server holds for a workflow: which attempt is next or running, out of
    how many, and why the last one failed ("" before any failure)."""

    activity: str
    attempt: int
    max_attempts: int  # 0: unlimited
    last_failure: str
    next_attempt_in_s: float | None  # while it waits out its backoff


@dataclass(frozen=True)
class Described:
    """What the server says of a workflow id: a goal, a plan run (or another workflow type),
    and whether it still runs (``status``: running, completed, failed, canceled, terminated,
    timed_out, continued_as_new)."""

    id: str
    workflow_type: str
    status: str
    closed_at: str = ""  # ISO time, "" while it runs
    task_queue: str = ""

    @property
    def kind(self) -> Literal["goal", "run"] | None:
        if self.workflow_type == GOAL_WORKFLOW:
            return "goal"
        if self.workflow_type == EXECUTE_PLAN_WORKFLOW:
            return "run"
        return None

    @property
    def running(self) -> bool:
        return self.status == "running"


@dataclass(frozen=True)
class Summary:
    """One goal or plan run in a list: ``stage`` is a goal's stage or a run's status."""

    id: str
    goal: str
    stage: str
    started: str
    by: str = ""  # who submitted a goal (its memo); "" when not recorded

    @property
    def status(self) -> str:
        return self.stage


class JarvisClient(ScheduleMixin):
    """Goals, plan runs and schedules (agents/schedules.py) on one Temporal connection.

        async with await JarvisClient.connect() as jarvis:
            goal_id = await jarvis.submit("remember that the boiler is serviced in May")
            async for event in jarvis.events(goal_id):
                print(event.kind, event.stage, event.step_id, event.status)
            final = await jarvis.result(goal_id)
    """

    name = "temporal"  # as an engine (see agents.engines)

    def __init__(self, client: Client, settings: Settings, *, eager_start: bool = True) -> None:
        self.temporal = client
        self.settings = settings
        self.task_queue = settings.task_queue
        # Eager workflow start: when a worker in this process polls the task queue with this
        # same client, the server hands the first workflow task back in the start response.
        # Not with worker versioning: that worker may not be the deployment's current version,
        # and the goal would be pinned to it (docs/versioning.md).
        self.eager_start = eager_start and not settings.worker_versioning
        self._final_stages: dict[str, str] = {}  # closed goals never change: id -> stage
        self._indexed: bool | None = None

    @classmethod
    async def connect(cls, settings: Settings | None = None) -> JarvisClient:
        settings = settings or load_settings()
        return cls(await connect_with_retry(settings), settings)

    async def __aenter__(self) -> JarvisClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        return None  # the Temporal client needs no closing

    def handle(self, workflow_id: str) -> WorkflowHandle[Any, Any]:
        return self.temporal.get_workflow_handle(workflow_id)

    async def _describe_workflow(self, workflow_id: str) -> WorkflowExecutionDescription:
        try:
            return await self.handle(workflow_id).describe()
        except RPCError as exc:
            if exc.status == RPCStatusCode.NOT_FOUND:
                raise NotFound(f"no workflow with id '{workflow_id}'") from exc
            raise

    async def describe(self, workflow_id: str) -> Described:
        """Which kind of workflow ``workflow_id`` is (goal or plan run: asked of the server,
        not guessed from the id) and whether it runs; raises NotFound for an unknown id."""
        desc = await self._describe_workflow(workflow_id)
        closed = desc.close_time.isoformat(timespec="seconds") if desc.close_time else ""
        status = desc.status.name.lower() if desc.status is not None else "unknown"
        return Described(id=workflow_id, workflow_type=desc.workflow_type, status=status,
                         closed_at=closed, task_queue=desc.task_queue)

    async def activity_attempts(self, workflow_id: str) -> builtins.list[ActivityAttempt]:
        """The workflow's pending activities with their attempt and last failure (what the
        Temporal UI shows while an LLM call is retried); raises NotFound for an unknown id."""
        desc = await self._describe_workflow(workflow_id)
        out = []
        for pending in desc.raw_description.pending_activities:
            failure = pending.last_failure.message if pending.HasField("last_failure") else ""
            wait: float | None = None
            if pending.HasField("next_attempt_schedule_time"):
                due = pending.next_attempt_schedule_time.ToDatetime(tzinfo=UTC)
                wait = max(0.0, (due - datetime.now(UTC)).total_seconds())
            out.append(ActivityAttempt(activity=pending.activity_type.name,
                                       attempt=pending.attempt,
                                       max_attempts=pending.maximum_attempts,
                                       last_failure=failure[:500], next_attempt_in_s=wait))
        return out

    async def last_state(self, workflow_id: str, state_type: type[S],
                         timeout_s: float = 5.0) -> S | None:
        """The state a closed (e.g. cancelled) goal or run had when it closed, as a worker
        replays it for the ``state`` query; None when no worker polls or the query fails."""
        queue = (await self.describe(workflow_id)).task_queue
        if not await self.has_pollers(queue):
            return None
        try:
            return await ask(self.handle(workflow_id), STATE_QUERY, state_type, wait_s=timeout_s)
        except UNANSWERED:
            return None

    def _goal(self, goal_id: str) -> WorkflowHandle[Any, GoalState]:
        return self.temporal.get_workflow_handle(goal_id, result_type=GoalState)

    def _run(self, run_id: str) -> WorkflowHandle[Any, RunState]:
        return self.temporal.get_workflow_handle(run_id, result_type=RunState)

    # -- goals ----------------------------------------------------------------------------
    async def submit(self, goal: str, *, yes: bool = False, dry_run: bool = False,
                     by: str = "api", policy: ApprovalPolicy | None = None,
                     approval_timeout_s: float | None = None,
                     auto_approve: Sequence[str] | None = None,
                     goal_id: str | None = None, budget: PlanBudget | None = None) -> str:
        """Start a goal; returns its id. ``yes`` pre-approves (dangerous steps still ask).
        With ``goal_id`` a retried submission (e.g. after a timeout that hid a success) starts
        nothing twice: the second start finds the goal already there and returns its id.
        ``budget``: the goal's limits (default: the settings' ``budget_*``)."""
        s = self.settings
        inp = self._goal_input(goal, by, policy or ("approve-all" if yes else "auto-read-only"),
                               approval_timeout_s, auto_approve, budget, dry_run=dry_run)
        given = goal_id is not None
        goal_id = goal_id or new_run_id(goal, prefix="goal", readable=not s.payload_key_id)
        try:
            await self._start_goal(inp, goal_id, by)
        except WorkflowAlreadyStartedError:
            if not given:
                raise
        return goal_id

    def _goal_input(self, goal: str, by: str, policy: ApprovalPolicy,
                    approval_timeout_s: float | None, auto_approve: Sequence[str] | None,
                    budget: PlanBudget | None, **more: Any) -> GoalInput:
        s = self.settings
        return GoalInput.model_validate({
            "budget": budget or s.goal_budget(), "index": self._indexed or False,
            "goal": goal, "policy": policy, "submitted_by": by,
            "repair_rounds": s.llm_repair_rounds, "replan_rounds": s.replan_rounds,
            "llm_timeout_s": s.llm_timeout_s,
            "auto_approve": list(auto_approve if auto_approve is not None else s.auto_approve),
            "approval_timeout_s": approval_timeout_s or s.approval_timeout_s, **more})

    async def _start_goal(self, inp: GoalInput, goal_id: str, by: str) -> None:
        index = await self.indexed()
        inp = inp.model_copy(update={"index": index})
        await self.temporal.start_workflow(
            GOAL_WORKFLOW, inp, id=goal_id, task_queue=self.task_queue,
            result_type=GoalState, memo={"goal": inp.goal[:500], "by": by},
            search_attributes=TypedSearchAttributes([SearchAttributePair(STAGE, "retrieving")])
            if index else None,
            request_eager_start=self.eager_start)

    async def retry(self, goal_id: str, from_step: str, *, args: dict[str, Any] | None = None,
                    by: str = "api") -> GoalState:
        """Run an ended goal again from ``from_step`` (with ``args`` as its new arguments, if
        given): the steps it does not depend on that succeeded keep their outputs and do not
        run again. The goal keeps its id (a new run of its workflow); the state returned is
        the ended one the retry starts from. Refused (RetryRefused) while the goal runs, when
        it never ran a plan, or when the plan has no such step."""
        state = await self.state(goal_id)
        if not state.finished:
            raise RetryRefused(f"cannot retry goal {goal_id}: it is {state.stage}; retry once "
                               "it has ended (or cancel it)")
        if state.plan is None or state.run is None:
            raise RetryRefused(f"cannot retry goal {goal_id}: it ended {state.stage} before "
                               "running a plan; submit the goal again")
        ids = [s.id for s in state.plan.steps]
        if from_step not in ids:
            raise RetryRefused(f"cannot retry goal {goal_id} from step '{from_step}': no such "
                               f"step (its steps: {', '.join(ids)})")
        retry = RetryFrom(plan=state.plan, run=state.run, step=from_step, args=args, by=by,
                          source=state.source, template_id=state.template_id,
                          undone=[u.step for u in state.undone if u.ok])
        inp = self._goal_input(state.goal, by, state.policy, None, None, state.budget,
                               retry=retry)
        await self._start_goal(inp, goal_id, by)
        return state

    async def indexed(self) -> bool:
        """Whether the namespace has the Jarvis search attributes (asked once per client):
        goals upsert them only then, since an upsert of an unknown one fails the goal's task."""
        if self._indexed is None:
            try:
                self._indexed = not await search_attributes.missing(self.temporal)
            except RPCError:  # no rights to list them: goals go unindexed
                self._indexed = False
        return self._indexed

    async def owner(self, goal_id: str) -> str | None:
        """Who submitted the goal (``by`` at submit, kept in its memo); None for goals started
        before the owner was recorded."""
        memo = await (await self.handle(goal_id).describe()).memo()
        by = memo.get("by")
        return by if isinstance(by, str) else None

    async def state(self, goal_id: str) -> GoalState:
        """The goal's state now: queried while it runs, its outcome once closed. A running
        step whose task queue no worker polls says so (``StepState.waiting``)."""
        state = await _now(self._goal(goal_id), GoalState, GOAL_FAILED)
        if state.run is not None:
            await self.mark_waiting(state.run)
        return state

    async def plan(self, goal_id: str) -> Plan | None:
        return (await self.state(goal_id)).plan

    async def events(self, goal_id: str, poll_s: float = 0.25, *, after: int = 0
                     ) -> AsyncIterator[GoalEvent]:
        """Every stage, plan, step and decision change after event ``after`` (0: from the
        start), in the workflow's order, until the goal finishes (the last event is ``done``).
        Waiting for review is a ``stage`` event with stage ``awaiting_approval``; the stream
        goes on after a decision. Each event carries the goal's state when it was delivered."""
        async for event in goal_events(self.handle(goal_id), lambda: self.result(goal_id),
                                       after=after, poll_s=poll_s):
            yield event

    async def result(self, goal_id: str) -> GoalState:
        """Wait for the goal to finish (approval included) and return its final state."""
        return await _outcome(self._goal(goal_id), GoalState, GOAL_FAILED)

    async def wait_for_review(self, goal_id: str,
                              on_event: Callable[[GoalEvent], None] | None = None, *,
                              at_gates: bool = False) -> GoalState:
        """The goal's state once it waits for a decision, or its final state, whichever comes
        first (the end is the workflow's result: no polling delay); ``on_event`` hears each
        event meanwhile. ``at_gates``: a step waiting at its gate counts as waiting too."""
        final = asyncio.ensure_future(self.result(goal_id))

        async def until_waiting() -> GoalState:
            async for event in self.events(goal_id):
                if on_event is not None:
                    on_event(event)
                if event.state.stage in WAITING_STAGES:  # waiting now, not earlier
                    return event.state
                if at_gates and gate_waiting(event.state):
                    return event.state
            return await final

        watcher = asyncio.ensure_future(until_waiting())
        try:
            done, _ = await asyncio.wait({final, watcher}, return_when=asyncio.FIRST_COMPLETED)
            return (final if final in done else watcher).result()
        finally:
            for task in (final, watcher):
                task.cancel()
            await asyncio.gather(final, watcher, return_exceptions=True)

    async def approve(self, goal_id: str, plan_digest: str, by: str = "api", note: str = "",
                      *, gates: Sequence[str] = (), until: str | None = None) -> GoalState:
        """Approve version ``plan_digest`` of the goal's plan (``GoalState.plan_digest`` of the
        state the person saw); refused if the plan is another version now. The approval carries
        a grant, signed with the approval key, for each dangerous step of that version.
        ``gates``: steps that still wait for a person just before they start; ``until``:
        approve up to that step (every step it does not need waits at its gate)."""
        state = await self.state(goal_id)
        grants: dict[str, str] = {}
        if state.plan is not None and state.plan_digest == plan_digest:
            dangerous = {s.tool for s in state.plan.steps
                         if state.risks.get(s.id) == Risk.DANGEROUS}
            if dangerous:
                run_id = (await self.handle(goal_id).describe()).run_id
                grants = sign_plan(approval_key(self.settings), goal_id, run_id, state.plan,
                                   dangerous)
        return await self._decide(APPROVE_UPDATE, goal_id, ApproveInput(
            by=by, note=note, plan_digest=plan_digest, grants=grants, gates=list(gates),
            until=until))

    async def decide_step(self, goal_id: str, step_id: str, approve: bool, by: str = "api",
                          note: str = "", *, abandon: bool = False) -> GoalState:
        """A decision at a step's gate (the step waits, its resolved arguments in
        ``StepState.gate_args``): approved it starts, rejected it is skipped with what depends
        on it. A dangerous step's approval carries its grant, signed with the approval key.
        ``abandon`` (with a rejection): no other step starts and the finished steps' effects
        are undone where their tools declare how (GoalState.undone)."""
        grant = None
        if approve:
            state = await self.state(goal_id)
            step = next((s for s in state.plan.steps if s.id == step_id), None) \
                if state.plan else None
            if step is not None and state.risks.get(step_id) == Risk.DANGEROUS:
                run_id = (await self.handle(goal_id).describe()).run_id
                grant = sign_step(approval_key(self.settings), goal_id, run_id, step)
        return await self._decide(DECIDE_STEP_UPDATE, goal_id, DecideStepInput(
            step_id=step_id, approve=approve, by=by, note=note, grant=grant,
            abandon=abandon and not approve))

    async def reject(self, goal_id: str, by: str = "api", reason: str = "") -> GoalState:
        return await self._decide(REJECT_UPDATE, goal_id, RejectInput(by=by, reason=reason))

    async def edit(self, goal_id: str, plan: Plan, plan_digest: str, by: str = "api",
                   note: str = "") -> GoalState:
        """Replace the waiting goal's plan, version ``plan_digest`` (the one the person edited),
        with ``plan``; raises EditRefused with the problems if invalid, DecisionRefused if the
        goal's plan is another version now."""
        return await self._decide(EDIT_UPDATE, goal_id, EditInput(
            plan=plan, by=by, note=note, plan_digest=plan_digest))

    async def cancel(self, goal_id: str) -> None:
        await self.handle(goal_id).cancel()

    async def list(self, limit: int = 20, *, pending: bool = False, by: str | None = None,
                   unanswered: bool = False) -> builtins.list[Summary]:
        """Recent goals, newest first; ``pending``: only those waiting for a decision (with
        ``unanswered``, also the running ones no worker answered for: they may be waiting);
        ``by``: only those this person submitted (up to ``limit`` of theirs among the newest
        ``OWNER_SCAN`` goals)."""
        # this deployment's goals: another task queue sharing the namespace is another JARVIS
        query = f"WorkflowType = '{GOAL_WORKFLOW}' AND TaskQueue = '{self.task_queue}'"
        if pending:
            query += " AND ExecutionStatus = 'Running'"
        # with the search attributes, the waiting goals are one visibility query (and a look
        # at each, for the stuck ones); without them (a namespace that lacks them) each running
        # goal is asked, and ``unanswered`` adds those no worker answered for
        by_index = pending and await self.indexed()
        if by_index:
            query += f" AND {STAGE.name} = 'awaiting_approval'"
        out = []
        scan = limit if by is None else max(limit, OWNER_SCAN)
        async for wf in self.temporal.list_workflows(query, limit=scan):
            memo = await wf.memo() if wf.raw_info.memo.fields else {}
            owner = memo.get("by")
            owner = owner if isinstance(owner, str) else ""
            if by is not None and owner != by:
                continue
            stage = (wf.typed_search_attributes.get(STAGE) or "" if by_index
                     else await self._stage(wf.id, wf.status))
            if pending and stage not in WAITING_STAGES and not (
                    unanswered and stage in (NO_ANSWER, STUCK)):
                continue
            out.append(Summary(id=wf.id, goal=str(memo.get("goal", "")), stage=stage,
                               started=wf.start_time.isoformat(timespec="seconds"), by=owner))
            if by is not None and len(out) >= limit:
                break
        if by_index:
            out = await self._told_stuck(out, keep=unanswered)
        return out

    async def _told_stuck(self, waiting: builtins.list[Summary], *, keep: bool
                          ) -> builtins.list[Summary]:
        """``waiting`` (the goals the index says wait for a decision), with those whose workflow
        task keeps failing marked ``STUCK`` (left out unless ``keep``): the index holds the
        stage a goal last recorded, and a goal whose task fails (a deploy its history no longer
        replays on, say) records nothing more, so a decision on it would wait for ever. One
        look per goal; its history is read only while a workflow task is pending, which a goal
        parked at review has none of."""
        async def told(goal: Summary) -> Summary | None:
            try:
                failing = await _failing(self.handle(goal.id))
            except RPCError:  # gone since the list, or no rights: as the index says
                return goal
            if failing is None:
                return goal
            return replace(goal, stage=STUCK) if keep else None

        return [g for g in await asyncio.gather(*(told(g) for g in waiting)) if g is not None]

    async def _stage(self, goal_id: str, status: WorkflowExecutionStatus | None) -> str:
        """The goal's stage: queried while running (briefly: no worker must not block a list),
        from its outcome once closed (rejected, failed and expired goals close too). A running
        goal no worker answered for is told apart from one whose workflow task keeps failing
        (``STUCK``: asking again would never help)."""
        if status == WorkflowExecutionStatus.RUNNING:
            handle = self.handle(goal_id)
            try:
                state = await ask(handle, STATE_QUERY, GoalState, wait_s=STAGE_WAIT_S)
            except UNANSWERED:  # its history says whether its task failed last
                return STUCK if await _failing(handle) is not None else NO_ANSWER
            return state.stage
        if status in (WorkflowExecutionStatus.COMPLETED, WorkflowExecutionStatus.FAILED):
            if goal_id not in self._final_stages:
                try:
                    self._final_stages[goal_id] = (await self.result(goal_id)).stage
                except (Gone, WorkflowFailureError):
                    self._final_stages[goal_id] = "failed"
            return self._final_stages[goal_id]
        return status.name.lower() if status is not None else "unknown"

    async def _decide(self, update: str, goal_id: str,
                      arg: ApproveInput | RejectInput | EditInput | DecideStepInput
                      ) -> GoalState:
        try:
            state: GoalState = await self.handle(goal_id).execute_update(
                update, arg, result_type=GoalState)
        except WorkflowUpdateFailedError as exc:
            cause = exc.cause
            if isinstance(cause, ApplicationError) and cause.type == INVALID_EDIT:
                details = cause.details[0] if cause.details else []
                raise EditRefused(cause.message,
                                  [Problem.model_validate(p) for p in details]) from exc
            raise DecisionRefused(getattr(cause, "message", None) or str(cause)) from exc
        except RPCError as exc:
            if exc.status != RPCStatusCode.NOT_FOUND:
                raise
            stage: str
            try:
                stage = (await self.state(goal_id)).stage
            except Gone:
                stage = "closed"
            if isinstance(arg, DecideStepInput):
                raise DecisionRefused(f"cannot decide at step '{arg.step_id}': the goal is "
                                      f"{stage}, no step waits at a gate") from exc
            raise DecisionRefused(f"cannot {update}: the goal is {stage}, not awaiting "
                                  "approval") from exc
        return state

    # -- plan runs ------------------------------------------------------------------------
    async def start_plan(self, inp: ExecutePlanInput, run_id: str | None = None) -> str:
        """Start a prepared plan as a durable run; returns its id."""
        run_id = run_id or new_run_id(inp.plan.goal,
                                      readable=not self.settings.payload_key_id)
        await self.temporal.start_workflow(
            EXECUTE_PLAN_WORKFLOW, inp, id=run_id, task_queue=self.task_queue,
            result_type=RunState, memo={"goal": inp.plan.goal[:500]},
            request_eager_start=self.eager_start)
        return run_id

    async def plan_state(self, run_id: str) -> RunState:
        """The run's state now: queried while it runs, its outcome once closed."""
        return await self.mark_waiting(await _now(self._run(run_id), RunState, PLAN_FAILED))

    async def plan_result(self, run_id: str, on_progress: ProgressCallback | None = None
                          ) -> RunState:
        """Wait for the run to end (reporting each change to ``on_progress``); its final state.
        A failed run returns its state (status "failed"); a cancelled one raises Gone."""
        handle = self._run(run_id)
        final = asyncio.ensure_future(_outcome(handle, RunState, PLAN_FAILED))
        if on_progress is None:
            return await final
        follower = asyncio.ensure_future(_report(handle, on_progress))
        try:
            state = await final
        finally:
            follower.cancel()
            await asyncio.gather(follower, return_exceptions=True)
        on_progress(state)
        return state

    async def execute_plan(self, inp: ExecutePlanInput,
                           on_progress: ProgressCallback | None = None) -> RunState:
        """Start a prepared plan and wait for its end (the engine interface)."""
        return await self.plan_result(await self.start_plan(inp), on_progress)

    async def cancel_plan(self, run_id: str) -> None:
        await self.handle(run_id).cancel()

    async def list_plans(self, limit: int = 20) -> builtins.list[Summary]:
        runs = []
        query = f"WorkflowType = '{EXECUTE_PLAN_WORKFLOW}'"
        async for wf in self.temporal.list_workflows(query, limit=limit):
            memo = await wf.memo() if wf.raw_info.memo.fields else {}
            runs.append(Summary(id=wf.id, goal=str(memo.get("goal", "")),
                                stage=wf.status.name.lower() if wf.status else "unknown",
                                started=wf.start_time.isoformat(timespec="seconds")))
        return runs

    # -- workers ---------------------------------------------------------------------------
    async def mark_waiting(self, run: RunState) -> RunState:
        """Set ``waiting`` on each running step routed to a task queue no live worker polls
        for activities ("no worker serves queue privileged"); it starts once one does."""
        served: dict[str, bool] = {}
        for st in run.steps:
            if st.status is not StepStatus.RUNNING or not st.queue:
                continue
            if st.queue not in served:
                served[st.queue] = await self.has_pollers(st.queue, activities=True)
            st.waiting = "" if served[st.queue] else f"no worker serves queue {st.queue}"
        return run

    async def has_pollers(self, task_queue: str | None = None, *,
                          activities: bool = False) -> bool:
        """Whether some live worker polls this task queue (or ``task_queue``) right now, for
        workflow tasks (or, with ``activities``, for activity tasks)."""
        return any(alive(p) for p in await self.pollers(task_queue, activities=activities))

    async def pollers(self, task_queue: str | None = None, *,
                      activities: bool = False) -> set[str]:
        """The identities of the workers polling the task queue (Temporal lists a dead one for
        a few minutes). Asked of every partition of the queue (the "enhanced" describe): the
        plain describe sees only the root partition's pollers, and a worker whose polls all
        went to other partitions would look absent; servers without it get the plain one."""
        from temporalio.api.enums.v1 import DescribeTaskQueueMode, TaskQueueType
        from temporalio.api.taskqueue.v1 import TaskQueue
        from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest

        kind = (TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY if activities
                else TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW)
        queue = TaskQueue(name=task_queue or self.task_queue)
        service = self.temporal.workflow_service
        try:
            resp = await service.describe_task_queue(DescribeTaskQueueRequest(
                namespace=self.temporal.namespace, task_queue=queue, task_queue_types=[kind],
                api_mode=DescribeTaskQueueMode.DESCRIBE_TASK_QUEUE_MODE_ENHANCED,
                report_pollers=True))
            found = {p.identity for v in resp.versions_info.values()
                     for t in v.types_info.values() for p in t.pollers}
        except RPCError:
            found = set()
        plain = await service.describe_task_queue(DescribeTaskQueueRequest(
            namespace=self.temporal.namespace, task_queue=queue, task_queue_type=kind))
        return found | {p.identity for p in plain.pollers}


async def _report(handle: WorkflowHandle[Any, Any], on_progress: ProgressCallback) -> None:
    async for page in watch(handle, RunEventPage):
        if page.events:
            on_progress(page.state)


async def _failing(handle: WorkflowHandle[Any, Any]) -> Stuck | None:
    """Why ``handle``'s workflow is stuck, if its pending workflow task (any attempt) follows a
    failure in its history (agents/stuck_runs.py); None with no task pending or none failed."""
    attempt = (await handle.describe()).raw_description.pending_workflow_task.attempt
    return await stuck(handle, attempt) if attempt else None


async def _now(handle: WorkflowHandle[Any, S], state_type: type[S], failure_type: str) -> S:
    """The current state: the ``state`` query while the workflow runs, else its outcome. A
    query unanswered within ``QUERY_WAIT_S`` is asked again after a fresh look (the workflow
    may have closed meanwhile, and a worker letting a finished workflow go can drop a query
    that came just then: it hung until the client gave up); after ``QUERY_TRIES``, NoAnswer.
    A workflow whose task fails on every attempt raises Stuck (agents/stuck_runs.py)."""
    for _ in range(QUERY_TRIES):
        desc = await handle.describe()
        if desc.status != WorkflowExecutionStatus.RUNNING:
            return await _outcome(handle, state_type, failure_type)
        attempt = desc.raw_description.pending_workflow_task.attempt
        if attempt > 1 and (failing := await stuck(handle, attempt)):
            raise failing  # its task is being retried after a failure: a query would wait
        try:
            state = await ask(handle, STATE_QUERY, state_type, wait_s=QUERY_WAIT_S)
        except TimeoutError:
            continue
        return state
    raise NoAnswer(f"{handle.id} is running but no worker answered its state query in "
                   f"{QUERY_TRIES * QUERY_WAIT_S:.0f} s; is a worker polling its task queue?")


async def _outcome(handle: WorkflowHandle[Any, S], state_type: type[S],
                   failure_type: str) -> S:
    """The final state of a closed workflow (waiting for it to close). A workflow that failed
    by our convention (``failure_type``, the state in the details) returns that state; a
    cancelled or terminated one raises Gone."""
    try:
        return await handle.result()
    except WorkflowFailureError as exc:
        cause = exc.cause
        if (isinstance(cause, ApplicationError) and cause.type == failure_type
                and cause.details):
            return state_type.model_validate(cause.details[0])
        desc = await handle.describe()
        if desc.status in (WorkflowExecutionStatus.CANCELED,
                           WorkflowExecutionStatus.TERMINATED):
            raise Gone(f"{handle.id} was cancelled or terminated "
                       f"({desc.status.name.lower()}); it has no final state") from exc
        raise
