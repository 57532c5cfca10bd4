"""The Temporal worker: the plan and goal workflows, the planner's activities, one activity per
registered tool."""

from __future__ import annotations

import asyncio
import logging
import signal
from datetime import timedelta

from temporalio.client import Client
from temporalio.worker import UnsandboxedWorkflowRunner, Worker
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner

from activities.execution import tool_activities
from activities.planning import PlannerActivities
from activities.registry import ToolRegistry
from agents.goal_workflow import GoalWorkflow
from agents.prepare import tool_runtime
from agents.workflows import ExecutePlanWorkflow
from planner.memory.seed import open_store
from planner.settings import Settings

log = logging.getLogger(__name__)


def create_worker(client: Client, settings: Settings, registry: ToolRegistry, *,
                  task_queue: str | None = None,
                  max_cached_workflows: int = 1000,
                  sandboxed: bool = True) -> Worker:
    """A worker for the plan and goal workflows and every tool (as regular and local
    activities: one registration serves both). ``sandboxed=False`` runs the workflows without
    the SDK's import sandbox (measured in docs/performance.md)."""
    runtime = tool_runtime(settings, registry)
    planner = PlannerActivities(settings, registry,
                                lambda: open_store(settings, registry))
    return Worker(
        client,
        task_queue=task_queue or settings.task_queue,
        workflows=[ExecutePlanWorkflow, GoalWorkflow],
        activities=[*tool_activities(runtime), *planner.all()],
        max_cached_workflows=max_cached_workflows,
        workflow_runner=SandboxedWorkflowRunner() if sandboxed else UnsandboxedWorkflowRunner(),
        # on SIGTERM, let running tool calls finish (compose gives 60 s) before cancelling
        graceful_shutdown_timeout=timedelta(seconds=30),
    )


async def run_worker(client: Client, settings: Settings, registry: ToolRegistry) -> None:
    """Run until SIGINT/SIGTERM, then shut down cleanly (finishing in-flight tasks)."""
    worker = create_worker(client, settings, registry)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with worker:
        log.info("worker polling task queue %s on %s", settings.task_queue,
                 settings.temporal_address)
        await stop.wait()
