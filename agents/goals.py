"""Client side of goals: submit, follow, approve / reject, read state. Used by the CLI."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from temporalio.client import (
    Client,
    WorkflowExecutionStatus,
    WorkflowFailureError,
    WorkflowHandle,
    WorkflowUpdateFailedError,
)
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from agents.following import follow
from agents.goal_workflow import GOAL_WORKFLOW
from agents.temporal_engine import new_run_id
from planner.contracts.goal import (
    ApprovalPolicy,
    ApproveInput,
    EditInput,
    GoalInput,
    GoalState,
    RejectInput,
)
from planner.plan import Plan
from planner.validation import Problem

GoalProgress = Callable[[GoalState], None]


class DecisionRefused(ValueError):
    """An approve/reject/edit the workflow refused (e.g. the goal is not waiting)."""


class EditRefused(DecisionRefused):
    """An edited plan that does not validate; the goal keeps waiting."""

    def __init__(self, message: str, problems: list[Problem]) -> None:
        super().__init__(message)
        self.problems = problems


@dataclass
class GoalSummary:
    id: str
    goal: str
    stage: str
    started: str


class GoalClient:
    def __init__(self, client: Client, task_queue: str) -> None:
        self.client = client
        self.task_queue = task_queue

    def handle(self, goal_id: str) -> WorkflowHandle[Any, GoalState]:
        return self.client.get_workflow_handle(goal_id, result_type=GoalState)

    async def submit(self, goal: str, *, policy: ApprovalPolicy = "auto-read-only",
                     dry_run: bool = False, submitted_by: str = "unknown",
                     repair_rounds: int = 2, llm_timeout_s: float = 60.0,
                     auto_approve: Sequence[str] = ("read-only",),
                     approval_timeout_s: float | None = 86_400.0) -> str:
        goal_id = new_run_id(goal, prefix="goal")
        inp = GoalInput(goal=goal, policy=policy, dry_run=dry_run, submitted_by=submitted_by,
                        repair_rounds=repair_rounds, llm_timeout_s=llm_timeout_s,
                        auto_approve=list(auto_approve),
                        approval_timeout_s=approval_timeout_s)
        await self.client.start_workflow(GOAL_WORKFLOW, inp, id=goal_id,
                                         task_queue=self.task_queue, result_type=GoalState,
                                         memo={"goal": goal[:500]})
        return goal_id

    async def state(self, goal_id: str) -> GoalState | None:
        handle = self.handle(goal_id)
        desc = await handle.describe()
        if desc.status == WorkflowExecutionStatus.RUNNING:
            state: GoalState | None = await handle.query("state", result_type=GoalState)
            return state
        return await self._closed(handle)

    async def _closed(self, handle: WorkflowHandle[Any, GoalState]) -> GoalState | None:
        try:
            return await handle.result()
        except WorkflowFailureError:
            return None  # cancelled or terminated: no final state

    async def wait(self, goal_id: str, on_progress: GoalProgress | None = None,
                   *, until_stage: set[str] | None = None, poll_s: float = 0.25) -> GoalState:
        """Follow a goal to its end (or until it reaches one of ``until_stage``)."""
        handle = self.handle(goal_id)
        if until_stage:
            return await self._wait_stage(handle, until_stage, on_progress, poll_s)
        final = await follow(handle, self._closed(handle), GoalState, on_progress, poll_s)
        if final is None:
            raise RuntimeError(f"goal {goal_id} was cancelled or terminated")
        return final

    async def _wait_stage(self, handle: WorkflowHandle[Any, GoalState], stages: set[str],
                          on_progress: GoalProgress | None, poll_s: float) -> GoalState:
        while True:
            state = await self.state(handle.id)
            if state is None:
                raise RuntimeError(f"goal {handle.id} was cancelled or terminated")
            if on_progress:
                on_progress(state)
            if state.stage in stages or state.finished:
                return state
            await asyncio.sleep(poll_s)

    async def approve(self, goal_id: str, by: str, note: str = "") -> GoalState:
        return await self._decide("approve", goal_id, ApproveInput(by=by, note=note))

    async def reject(self, goal_id: str, by: str, reason: str = "") -> GoalState:
        return await self._decide("reject", goal_id, RejectInput(by=by, reason=reason))

    async def edit(self, goal_id: str, plan: Plan, by: str, note: str = "") -> GoalState:
        """Replace the waiting goal's plan; raises EditRefused with the problems if invalid."""
        return await self._decide("edit", goal_id, EditInput(plan=plan, by=by, note=note))

    async def list_goals(self, limit: int = 20, *, pending: bool = False) -> list[GoalSummary]:
        """Recent goals, newest first; ``pending``: only those waiting for a decision."""
        query = f"WorkflowType = '{GOAL_WORKFLOW}'"
        if pending:
            query += " AND ExecutionStatus = 'Running'"
        out = []
        async for wf in self.client.list_workflows(query, limit=limit):
            memo = await wf.memo() if wf.raw_info.memo.fields else {}
            stage = await self._stage(wf.id, wf.status)
            if pending and stage != "awaiting_approval":
                continue
            out.append(GoalSummary(id=wf.id, goal=str(memo.get("goal", "")), stage=stage,
                                   started=wf.start_time.isoformat(timespec="seconds")))
        return out

    async def _stage(self, goal_id: str, status: WorkflowExecutionStatus | None) -> str:
        """The goal's stage: queried while running (briefly: no worker must not block a list),
        from the result once completed (rejected, failed and expired goals complete too)."""
        if status == WorkflowExecutionStatus.RUNNING:
            try:
                state: GoalState | None = await self.handle(goal_id).query(
                    "state", result_type=GoalState, rpc_timeout=timedelta(seconds=2))
            except RPCError:
                return "running (no worker answers)"
            return state.stage if state else "starting"
        if status == WorkflowExecutionStatus.COMPLETED:
            final = await self._closed(self.handle(goal_id))
            return final.stage if final else "completed"
        return status.name.lower() if status is not None else "unknown"

    async def _decide(self, update: str, goal_id: str,
                      arg: ApproveInput | RejectInput | EditInput) -> GoalState:
        try:
            state: GoalState = await self.handle(goal_id).execute_update(
                update, arg, result_type=GoalState)
        except WorkflowUpdateFailedError as exc:
            cause = exc.cause
            if isinstance(cause, ApplicationError) and cause.type == "InvalidEdit":
                details = cause.details[0] if cause.details else []
                raise EditRefused(cause.message,
                                  [Problem.model_validate(p) for p in details]) from exc
            raise DecisionRefused(getattr(cause, "message", None) or str(cause)) from exc
        except RPCError as exc:
            if exc.status != RPCStatusCode.NOT_FOUND:
                raise
            final = await self.state(goal_id)
            stage = final.stage if final else "closed"
            raise DecisionRefused(f"cannot {update}: the goal is {stage}, not awaiting "
                                  "approval") from exc
        return state

    async def cancel(self, goal_id: str) -> None:
        await self.handle(goal_id).cancel()
