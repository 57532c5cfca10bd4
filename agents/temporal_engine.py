"""The Temporal engine: start plans as durable workflows, follow them, cancel them, read results."""

from __future__ import annotations

import asyncio
import os
import re
import socket
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from temporalio.client import (
    Client,
    WorkflowExecutionStatus,
    WorkflowFailureError,
    WorkflowHandle,
)
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.exceptions import ApplicationError

from agents.following import follow
from agents.plan_workflow import EXECUTE_PLAN_WORKFLOW
from planner.contracts.run import ExecutePlanInput, RunState

ProgressCallback = Callable[[RunState], None]


async def connect(address: str, namespace: str = "default") -> Client:
    return await Client.connect(address, namespace=namespace,
                                data_converter=pydantic_data_converter)


@dataclass
class RunSummary:
    id: str
    status: str
    goal: str
    started: str


def new_run_id(goal: str, prefix: str = "plan") -> str:
    """A readable, unique workflow id: ``<prefix>-<slug of the goal>-<8 hex>``."""
    slug = re.sub(r"[^a-z0-9]+", "-", goal.lower()).strip("-")[:40] or prefix
    return f"{prefix}-{slug}-{uuid.uuid4().hex[:8]}"


class TemporalWorkflowEngine:
    name = "temporal"

    def __init__(self, client: Client, task_queue: str, *, eager_start: bool = True) -> None:
        self.client = client
        self.task_queue = task_queue
        # Eager workflow start: when a worker in this process polls the task queue with this
        # same client, the server hands the first workflow task back in the start response
        # (no matching round trip). Without such a worker the SDK does not ask for it.
        self.eager_start = eager_start

    async def start(self, inp: ExecutePlanInput, run_id: str | None = None) -> str:
        run_id = run_id or new_run_id(inp.plan.goal)
        await self.client.start_workflow(
            EXECUTE_PLAN_WORKFLOW, inp, id=run_id, task_queue=self.task_queue,
            result_type=RunState, memo={"goal": inp.plan.goal[:500]},
            request_eager_start=self.eager_start,
        )
        return run_id

    def handle(self, run_id: str) -> WorkflowHandle[Any, RunState]:
        return self.client.get_workflow_handle(run_id, result_type=RunState)

    async def state(self, run_id: str) -> RunState | None:
        """Current state: from the query while running, from the result or failure once closed."""
        handle = self.handle(run_id)
        desc = await handle.describe()
        if desc.status == WorkflowExecutionStatus.RUNNING:
            state: RunState | None = await handle.query("state", result_type=RunState)
            return state
        return await self._closed_state(handle, desc.status)

    async def _closed_state(self, handle: WorkflowHandle[Any, RunState],
                            status: WorkflowExecutionStatus | None) -> RunState | None:
        try:
            return await handle.result()
        except WorkflowFailureError as exc:
            cause = exc.cause
            if isinstance(cause, ApplicationError) and cause.details:
                return RunState.model_validate(cause.details[0])
            if status == WorkflowExecutionStatus.CANCELED:
                return None
            raise

    async def wait(self, run_id: str, on_progress: ProgressCallback | None = None,
                   poll_s: float = 0.25) -> RunState:
        """Follow a run to its end, reporting state changes; return the final state."""
        handle = self.handle(run_id)
        final = await follow(handle, self._closed_state(handle, None), RunState, on_progress,
                             poll_s)
        if final is None:
            raise asyncio.CancelledError(f"run {run_id} was cancelled")
        return final

    async def execute(self, inp: ExecutePlanInput,
                      on_progress: ProgressCallback | None = None) -> RunState:
        return await self.wait(await self.start(inp), on_progress)

    async def cancel(self, run_id: str) -> None:
        await self.handle(run_id).cancel()

    async def list_runs(self, limit: int = 20) -> list[RunSummary]:
        runs = []
        query = f"WorkflowType = '{EXECUTE_PLAN_WORKFLOW}'"
        async for wf in self.client.list_workflows(query, limit=limit):
            memo = await wf.memo() if wf.raw_info.memo.fields else {}
            runs.append(RunSummary(
                id=wf.id,
                status=wf.status.name.lower() if wf.status else "unknown",
                goal=str(memo.get("goal", "")),
                started=wf.start_time.isoformat(timespec="seconds"),
            ))
        return runs

    async def has_pollers(self) -> bool:
        """Whether some worker is polling this task queue right now."""
        from temporalio.api.enums.v1 import TaskQueueType
        from temporalio.api.taskqueue.v1 import TaskQueue
        from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest

        resp = await self.client.workflow_service.describe_task_queue(
            DescribeTaskQueueRequest(
                namespace=self.client.namespace,
                task_queue=TaskQueue(name=self.task_queue),
                task_queue_type=TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
            )
        )
        return any(_alive(p.identity) for p in resp.pollers)


def _alive(identity: str) -> bool:
    """Temporal lists a poller for minutes after its worker died. A poller whose identity is
    ``<pid>@<this host>`` (the SDK's default) counts only while that process is alive."""
    pid, _, host = identity.rpartition("@")
    if host != socket.gethostname() or not pid.isdigit():
        return True  # another machine: trust the server
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
