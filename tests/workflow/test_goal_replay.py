"""A goal watched by queries while its local activities run still replays.

Queries that arrive while a local activity runs can split the workflow task, and a replay then
delivers the local activity's result in an earlier task than the one the original run continued
in. A ``workflow.patched()`` call made there found its marker missing (a nondeterminism error,
seen by the web app's polling: "Non-deprecated patch marker encountered for change
goal-failure-fails-workflow"; about 3 runs in 10 of this test before the fix). New goals decide
every patch in their first workflow task (``goal-patches-at-start``)."""

from __future__ import annotations

import asyncio
import json

from temporalio.client import Client, WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer

from activities import default_registry
from agents.client import JarvisClient
from agents.goal_workflow import PATCHES_AT_START, GoalWorkflow
from agents.plan_workflow import ExecutePlanWorkflow
from agents.worker import create_worker
from planner.plan import Plan
from planner.settings import Settings

REMIND = "remind me to stretch in 1 seconds"  # a shipped template: no LLM call
MISSING = Plan.model_validate({"goal": "read the report", "steps": [
    {"id": "read", "tool": "read_file", "args": {"path": "missing.txt"}}],
    "outputs": {"text": "${read.text}"}})
RUNS = 8


def patch_markers(history: WorkflowHistory) -> list[tuple[int, str]]:
    """(event id, patch id) of each patch marker."""
    found = []
    for event in history.events:
        if (event.HasField("marker_recorded_event_attributes")
                and event.marker_recorded_event_attributes.marker_name == "core_patch"):
            data = event.marker_recorded_event_attributes.details["patch-data"].payloads[0].data
            found.append((event.event_id, json.loads(data)["id"]))
    return found


def first_task_end(history: WorkflowHistory) -> int:
    return next(e.event_id for e in history.events
                if e.HasField("workflow_task_completed_event_attributes"))


async def test_a_failed_goal_polled_while_it_runs_replays(client: Client,
                                                           settings: Settings) -> None:
    # as in the web app: the default replan round, no LLM (the replan fails, then the goal)
    settings = settings.model_copy(update={"replan_rounds": 1, "llm_base_url": None})
    jarvis = JarvisClient(client, settings)
    replayer = Replayer(workflows=[GoalWorkflow, ExecutePlanWorkflow],
                        data_converter=pydantic_data_converter)
    async with create_worker(client, settings, default_registry()):
        for _ in range(RUNS):
            goal_id = await jarvis.submit(REMIND, policy="always-ask", by="test")
            waiting = await jarvis.wait_for_review(goal_id)
            await jarvis.edit(goal_id, MISSING, waiting.plan_digest or "", by="test")
            edited = await jarvis.state(goal_id)
            done = asyncio.Event()
            failures: list[str] = []

            async def poll(goal_id: str = goal_id, done: asyncio.Event = done,
                           failures: list[str] = failures) -> None:
                while not done.is_set():  # as the web app does while a goal runs
                    try:
                        await jarvis.state(goal_id)
                    except Exception as exc:  # a query that fails: the bug
                        failures.append(repr(exc))
                    await asyncio.sleep(0.01)

            poller = asyncio.create_task(poll())
            await jarvis.approve(goal_id, edited.plan_digest or "", by="test")
            final = await jarvis.result(goal_id)
            done.set()
            await poller
            assert final.stage == "failed" and "missing.txt" in final.message
            assert failures == []
            history = await jarvis.handle(goal_id).fetch_history()
            markers = patch_markers(history)
            assert [p for _, p in markers] == [PATCHES_AT_START]
            assert markers[0][0] < first_task_end(history) + 2, "decided in the first task"
            result = await replayer.replay_workflow(history, raise_on_replay_failure=False)
            assert result.replay_failure is None, result.replay_failure
