"""Workflow-task slots (``JARVIS_WORKFLOW_TASK_SLOTS``): a client with a worker in its process
hands a goal it starts straight to that worker (eager start) only while a slot is free, so the
SDK's 100 slots sent every goal past the 100th in flight through the server's task queue (more
server work per goal: docs/performance.md, "goals in flight")."""

from __future__ import annotations

import asyncio
import uuid

from temporalio.client import Client, WorkflowHandle

from activities import default_registry
from agents.client import JarvisClient
from agents.worker import create_worker
from planner.contracts.names import EXECUTE_PLAN_WORKFLOW
from planner.contracts.plan_run import RunState
from planner.plan import Plan
from planner.preparation import prepare
from planner.settings import Settings
from planner.tools import tool_from_function

GOALS = 150
LET_GO = asyncio.Event()


async def hold(n: int = 0) -> int:
    """Wait until the test lets go, then return ``n`` (read-only: a local activity)."""
    await LET_GO.wait()
    return n


async def started_eagerly(client: Client, settings: Settings) -> int:
    """How many of ``GOALS`` plan runs, started at once while every earlier one still runs,
    went straight to the worker; each also runs to the end."""
    registry = default_registry()
    registry.register(tool_from_function(hold, timeout_s=10))
    plan = Plan.model_validate({"goal": "hold", "steps": [
        {"id": "h", "tool": "hold", "args": {"n": 1}}], "outputs": {"n": "${h}"}})
    inp = prepare(plan, registry, settings)
    assert inp.policies["h"].local
    LET_GO.clear()
    async with create_worker(client, settings, registry):
        handles: list[WorkflowHandle[object, RunState]] = await asyncio.gather(*(
            client.start_workflow(EXECUTE_PLAN_WORKFLOW, inp, id=f"slots-{uuid.uuid4().hex}",
                                  task_queue=settings.task_queue, result_type=RunState,
                                  request_eager_start=True)
            for _ in range(GOALS)))
        LET_GO.set()
        states = await asyncio.gather(*(h.result() for h in handles))
    assert [s.outputs for s in states] == [{"n": 1}] * GOALS
    # the SDK marks a handle whose start came back with the goal's first workflow task
    return sum(bool(getattr(h, "__temporal_eagerly_started", False)) for h in handles)


async def test_a_worker_takes_every_goal_in_flight_straight_from_its_client(
        client: Client, settings: Settings) -> None:
    assert settings.workflow_task_slots == 1000
    assert JarvisClient(client, settings).eager_start
    assert await started_eagerly(client, settings) == GOALS


async def test_the_sdks_100_slots_send_the_rest_through_the_servers_queue(
        client: Client, settings: Settings) -> None:
    sdk_default = settings.model_copy(update={"workflow_task_slots": 100})
    eager = await started_eagerly(client, sdk_default)
    assert 0 < eager <= 100, eager
