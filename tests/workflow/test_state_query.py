"""A state request never hangs: the ``state`` query of a running goal or run is bounded, asked
again after a fresh look at the workflow, and ends in a clear error when no worker answers
(agents/client.py ``_now``); the web app answers that with a 504. Every other query a client
asks (a list's stages, a closed run's last state, the approval gauge's count, following the
events) is bounded by the same helper (agents/bounded_query.py). A run whose workflow task
keeps failing is reported as stuck, with the failure, where and what to do
(agents/stuck_runs.py), not as a query that waits or the server's bare refusal."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
from temporalio.client import Client

import agents.approval_gauge
import agents.client
import agents.following
from activities import default_registry
from agents.approval_gauge import count_waiting
from agents.bounded_query import ask
from agents.client import JarvisClient, NoAnswer
from agents.following import watch
from agents.search_attributes import STAGE
from agents.stuck_runs import Stuck
from agents.worker import create_worker
from jarvis_planner.testing import ScriptedLLM, reply_json
from jarvis_planner.web.error_mapping import describe_error
from planner.contracts.events import RunEventPage
from planner.contracts.names import STATE_QUERY
from planner.contracts.plan_run import RunState
from planner.plan import Plan
from planner.preparation import prepare
from planner.settings import Settings
from planner.tools import ToolRegistry, tool_from_function

PLAN = Plan.model_validate({"goal": "sum", "steps": [
    {"id": "c", "tool": "calc", "args": {"expression": "2 + 3"}}]})


async def test_a_run_no_worker_answers_for_is_a_clear_error_not_a_hang(
        client: Client, settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(agents.client, "QUERY_WAIT_S", 0.5)
    jarvis = JarvisClient(client, settings)
    run_id = await jarvis.start_plan(prepare(PLAN, default_registry(), settings))  # no worker
    started = time.monotonic()
    with pytest.raises(NoAnswer, match=f"{run_id} is running but no worker answered"):
        await jarvis.plan_state(run_id)
    assert time.monotonic() - started < 10, "three bounded tries, not the client's own timeout"
    message, hint, status = describe_error(NoAnswer("g is running but no worker answered"))
    assert message == "g is running but no worker answered"
    assert status == 504 and "worker" in hint

    async with create_worker(client, settings, default_registry()):
        state = await jarvis.plan_result(run_id)
        assert state.status == "succeeded"
        assert (await jarvis.plan_state(run_id)).outputs == state.outputs, \
            "a closed run's state is its outcome"


async def test_every_query_a_client_asks_is_bounded_when_no_worker_answers(
        client: Client, settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    jarvis = JarvisClient(client, settings)
    run_id = await jarvis.start_plan(prepare(PLAN, default_registry(), settings))  # no worker
    handle = jarvis.handle(run_id)

    started = time.monotonic()
    with pytest.raises(TimeoutError):
        await ask(handle, STATE_QUERY, RunState, wait_s=0.5)
    assert time.monotonic() - started < 3, "the helper's own bound, not the RPC's"

    goal_id = await jarvis.submit("sum two numbers")  # a goal no worker plans
    monkeypatch.setattr(agents.client, "STAGE_WAIT_S", 0.5)
    deadline = time.monotonic() + 30
    while goal_id not in (listed := {s.id: s.stage for s in await jarvis.list(limit=50)}):
        assert time.monotonic() < deadline, "visibility never listed the goal"
        await asyncio.sleep(0.2)
    assert listed[goal_id] == agents.client.NO_ANSWER
    monkeypatch.setattr(agents.approval_gauge, "_QUERY_WAIT_S", 0.5)
    started = time.monotonic()
    assert await count_waiting(client, settings.task_queue, indexed=False) == 0
    assert time.monotonic() - started < 5, "each running goal asked briefly"
    await jarvis.handle(goal_id).terminate("this test only lists it")

    # following: each events query gives up after its bound and asks again
    monkeypatch.setattr(agents.following, "EVENTS_WAIT_S", 0.3)
    asked = 0

    async def counted(*args: Any, **kwargs: Any) -> Any:
        nonlocal asked
        asked += 1
        return await ask(*args, **kwargs)

    monkeypatch.setattr(agents.following, "ask", counted)
    following = asyncio.ensure_future(_pages(handle))
    deadline = time.monotonic() + 10
    while asked < 3:
        assert time.monotonic() < deadline, f"one events query hung: {asked} asked in 10 s"
        await asyncio.sleep(0.05)
    assert not following.done()
    async with create_worker(client, settings, default_registry()):
        assert (await jarvis.plan_result(run_id)).status == "succeeded"
        pages = await asyncio.wait_for(following, 30)
    assert pages and pages[-1].events[-1].kind == "done"


async def _pages(handle: Any) -> list[RunEventPage]:
    return [page async for page in watch(handle, RunEventPage, poll_s=0.05)]


def slow_sum(a: int, b: int) -> int:
    """``a + b`` after holding its thread for 2.3 s: a tool wrongly registered pure (its steps
    run inside the workflow, where the SDK's deadlock detector fails a task after 2 s)."""
    until = time.monotonic() + 2.3
    while time.monotonic() < until:
        pass
    return a + b

def slow_sum_planned(settings: Settings, scripted_llm: ScriptedLLM
                     ) -> tuple[Settings, ToolRegistry]:
    """Settings that plan with the scripted LLM, which will plan one ``slow_sum`` step, and a
    registry where that tool is (wrongly) pure."""
    llm_settings = settings.model_copy(update={
        "llm_base_url": scripted_llm.base_url, "llm_api_key": "scripted-key",
        "llm_model": scripted_llm.model, "llm_timeout_s": 10.0, "embedding_backend": "hashing"})
    registry = default_registry()
    registry.register(tool_from_function(slow_sum, pure=True))
    scripted_llm.expect(reply_json({"goal": "a slow sum", "steps": [
        {"id": "s", "tool": "slow_sum", "args": {"a": 1, "b": 2}}]}))
    return llm_settings, registry



async def test_a_run_whose_workflow_task_keeps_failing_is_reported_stuck_with_its_cause(
        client: Client, settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    registry = default_registry()
    registry.register(tool_from_function(slow_sum, pure=True))
    plan = Plan.model_validate({"goal": "a slow sum", "steps": [
        {"id": "s", "tool": "slow_sum", "args": {"a": 1, "b": 2}}]})
    inp = prepare(plan, registry, settings)
    assert inp.policies["s"].inline, "the step runs inside the workflow"
    jarvis = JarvisClient(client, settings)
    monkeypatch.setattr(agents.client, "QUERY_WAIT_S", 60.0)  # told without waiting on one
    async with create_worker(client, settings, registry):
        run_id = await jarvis.start_plan(inp)
        handle = jarvis.handle(run_id)
        deadline = time.monotonic() + 30
        while not [e async for e in handle.fetch_history_events()
                   if e.HasField("workflow_task_failed_event_attributes")]:
            assert time.monotonic() < deadline, "the workflow task never failed"
            await asyncio.sleep(0.2)
        with pytest.raises(Stuck) as stuck:
            await asyncio.wait_for(jarvis.plan_state(run_id), 30)
        await handle.terminate("this test is over")
    message = str(stuck.value)
    assert message.startswith(f"{run_id} is stuck: its workflow task has failed"), message
    assert "Potential deadlock detected" in message and "failure, in slow_sum (" in message, message
    assert "without pure=True" in message and "worker's log" in message, message
    text, hint, status = describe_error(stuck.value)
    assert (text, status) == (message, 500) and "worker's log" in hint


async def test_a_goal_whose_workflow_task_keeps_failing_is_listed_as_stuck(
        client: Client, settings: Settings, scripted_llm: ScriptedLLM,
        monkeypatch: pytest.MonkeyPatch) -> None:
    llm_settings, registry = slow_sum_planned(settings, scripted_llm)
    jarvis = JarvisClient(client, llm_settings)
    monkeypatch.setattr(agents.client, "STAGE_WAIT_S", 1.0)
    async with create_worker(client, llm_settings, registry):
        goal_id = await jarvis.submit("add one and two, slowly", yes=True)
        handle = jarvis.handle(goal_id)
        deadline = time.monotonic() + 60
        # its task has failed and is retried (the first retry may count as attempt 1 again)
        while (await handle.describe()).raw_description.pending_workflow_task.attempt < 2:
            assert time.monotonic() < deadline, "the goal's workflow task never failed twice"
            await asyncio.sleep(0.2)
        while goal_id not in (listed := {s.id: s.stage for s in await jarvis.list(limit=50)}):
            assert time.monotonic() < deadline, "visibility never listed the goal"
            await asyncio.sleep(0.2)
        with pytest.raises(Stuck, match=f"{goal_id} is stuck: .* in slow_sum "):
            await asyncio.wait_for(jarvis.state(goal_id), 30)
        await handle.terminate("this test is over")
    assert listed[goal_id] == agents.client.STUCK, listed[goal_id]


async def test_a_goal_at_review_whose_task_then_keeps_failing_is_not_listed_as_waiting(
        client: Client, settings: Settings, scripted_llm: ScriptedLLM) -> None:
    """The pending list reads stages from the index, which keeps the last stage a goal
    recorded: a goal approved into a workflow task that fails on every attempt still says
    awaiting_approval there, and a decision on it would wait for ever."""
    llm_settings, registry = slow_sum_planned(settings, scripted_llm)
    jarvis = JarvisClient(client, llm_settings)
    assert await jarvis.indexed()  # the test server has the search attributes
    async with create_worker(client, llm_settings, registry):
        goal_id = await jarvis.submit("add one and two, slowly", policy="always-ask")
        state = await jarvis.wait_for_review(goal_id)
        assert state.plan_digest is not None, state
        deadline = time.monotonic() + 60
        while goal_id not in {s.id for s in await jarvis.list(pending=True, limit=200)}:
            assert time.monotonic() < deadline, "the index never listed the goal as waiting"
            await asyncio.sleep(0.2)
        # approved, its step runs in the workflow and holds it past the deadlock detector
        approving = asyncio.create_task(jarvis.approve(goal_id, state.plan_digest))
        handle = jarvis.handle(goal_id)
        while (desc := await handle.describe()).raw_description.pending_workflow_task.attempt < 2:
            assert time.monotonic() < deadline, "the goal's workflow task never failed twice"
            await asyncio.sleep(0.2)
        indexed_stage = desc.typed_search_attributes.get(STAGE)
        told = {s.id: s.stage for s in await jarvis.list(pending=True, unanswered=True,
                                                        limit=200)}
        waiting = {s.id for s in await jarvis.list(pending=True, limit=200)}
        await handle.terminate("this test is over")
        approving.cancel()
        await asyncio.gather(approving, return_exceptions=True)
    assert indexed_stage == "awaiting_approval"  # what the list would have shown
    assert told.get(goal_id) == agents.client.STUCK, told.get(goal_id)
    assert goal_id not in waiting
