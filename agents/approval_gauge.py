"""``jarvis_goals_waiting_for_approval``: how many goals wait for a person's decision now.

A gauge of the whole task queue, not of one worker, so no workflow can keep it (each goal
knows only itself). The worker counts instead, every ``JARVIS_METRICS_SAMPLE_S``: with the
``JarvisStage`` search attribute registered, one visibility count of the running goals of its
task queue at that stage (visibility lags a second or so); without it, the running goals of its
task queue (one visibility list), each asked its stage (the ``state`` query). Every worker
reports the same number: aggregate with ``max``, never ``sum``.
"""

from __future__ import annotations

import asyncio
import logging

from temporalio.client import Client
from temporalio.common import MetricMeter
from temporalio.service import RPCError

from agents import search_attributes
from agents.bounded_query import UNANSWERED, ask
from planner.contracts.goal_flow import GoalState
from planner.contracts.metric_series import GOALS_WAITING
from planner.contracts.names import GOAL_WORKFLOW, STATE_QUERY

log = logging.getLogger(__name__)
SCAN_LIMIT = 5_000  # running goals looked at per count
_QUERY_WAIT_S = 2.0
_PARALLEL_QUERIES = 16


async def count_waiting(client: Client, task_queue: str, *, indexed: bool = False) -> int:
    """Running goals of ``task_queue`` whose stage is ``awaiting_approval``: counted by the
    server when ``indexed``, else each asked (a goal no worker answers for is not counted)."""
    query = (f"WorkflowType = '{GOAL_WORKFLOW}' AND ExecutionStatus = 'Running' "
             f"AND TaskQueue = '{task_queue}'")
    if indexed:
        counted = await client.count_workflows(
            f"{query} AND {search_attributes.STAGE.name} = 'awaiting_approval'")
        return counted.count
    ids = [wf.id async for wf in client.list_workflows(query, limit=SCAN_LIMIT)]
    gate = asyncio.Semaphore(_PARALLEL_QUERIES)

    async def waiting(goal_id: str) -> bool:
        async with gate:
            try:
                state = await ask(client.get_workflow_handle(goal_id), STATE_QUERY, GoalState,
                                  wait_s=_QUERY_WAIT_S)
            except UNANSWERED:
                return False  # no worker answers, or the goal closed meanwhile
        return state.stage == "awaiting_approval"

    return sum(await asyncio.gather(*(waiting(i) for i in ids)))


async def sample_waiting(client: Client, task_queue: str, meter: MetricMeter,
                         every_s: float) -> None:
    """Set the gauge now and every ``every_s`` seconds until cancelled; a failed count keeps
    the last value (and is logged once per failure)."""
    gauge = meter.create_gauge(GOALS_WAITING.name, GOALS_WAITING.description, GOALS_WAITING.unit)
    try:
        indexed = not await search_attributes.missing(client)
    except RPCError:  # no rights to list them: ask each goal
        indexed = False
    while True:
        try:
            gauge.set(await count_waiting(client, task_queue, indexed=indexed))
        except RPCError as exc:
            log.warning("could not count the goals waiting for approval: %s", exc)
        await asyncio.sleep(every_s)
