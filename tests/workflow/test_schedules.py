"""Recurring goals on Temporal Schedules (real dev server): a schedule keeps the plan approved at
its creation; each run executes it with no LLM call (the scripted LLM server has no responses and
fails the test on any call), or waits for review when the plan no longer validates. Waits are on
the schedule's recent actions and the goals' results, never on sleeps."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from temporalio.client import Client, WorkflowFailureError

from activities import default_registry
from agents.client import DecisionRefused, JarvisClient
from agents.schedules import ScheduleNotApproved, ScheduleNotFound, ScheduleView
from agents.worker import create_worker
from jarvis_planner.api import JarvisClientSync
from jarvis_planner.testing import ScriptedLLM
from planner.approval import plan_digest
from planner.contracts.goal_flow import GoalInput, GoalState
from planner.contracts.names import GOAL_WORKFLOW
from planner.plan import Plan
from planner.settings import Settings
from planner.tools import ToolRegistry
from tests.histories_read import activities_run
from tests.processes import wait_until

GOAL = "Save the line Green tea is calming to tea.txt"
PLAN = Plan.model_validate({
    "goal": GOAL,
    "steps": [{"id": "write", "tool": "write_file",
               "args": {"path": "tea.txt", "text": "Green tea is calming"}}],
    "outputs": {"path": "${write.path}"},
})
DAILY = ["0 8 * * *"]


@pytest.fixture
def strict_llm(settings: Settings, scripted_llm: ScriptedLLM) -> Settings:
    """Settings whose LLM is the scripted server with no responses: any call fails the test."""
    return settings.model_copy(update={
        "llm_base_url": scripted_llm.base_url, "llm_api_key": "scripted-key",
        "llm_model": scripted_llm.model, "embedding_backend": "hashing"})


async def _jarvis(client: Client, settings: Settings, registry: ToolRegistry
                  ) -> AsyncIterator[JarvisClient]:
    jarvis = JarvisClient(client, settings)
    async with create_worker(client, settings, registry):
        yield jarvis
    for view in await jarvis.list_schedules():  # those the listing shows already
        await jarvis.delete_schedule(view.id)


@pytest.fixture
async def jarvis(client: Client, strict_llm: Settings) -> AsyncIterator[JarvisClient]:
    async for j in _jarvis(client, strict_llm, default_registry()):
        yield j


async def next_run(jarvis: JarvisClient, sid: str, count: int = 1) -> ScheduleView:
    """The schedule once it has started ``count`` goals (its recent actions)."""
    found: dict[str, ScheduleView] = {}

    async def started() -> bool:
        found["view"] = await jarvis.describe_schedule(sid)
        return found["view"].actions >= count

    await wait_until(started, what=f"schedule {sid} to start {count} goal(s)")
    return found["view"]


async def history_activities(jarvis: JarvisClient, goal_id: str) -> list[str]:
    return activities_run(await jarvis.handle(goal_id).fetch_history())


async def test_triggered_run_executes_the_approved_plan_without_planning(
        jarvis: JarvisClient, strict_llm: Settings) -> None:
    sid = await jarvis.create_schedule(PLAN, approve=True, by="cli:alice", cron=DAILY,
                                       deadline=timedelta(minutes=5))
    view = await jarvis.describe_schedule(sid)
    assert view.actions == 0 and view.next_runs and view.plan == PLAN
    assert view.approved_by == "cli:alice" and view.plan_digest == plan_digest(PLAN)
    assert view.overlap == "skip" and view.deadline_s == 300 and view.when == "cron 0 8 * * *"

    await jarvis.trigger_schedule(sid)
    goal_id = (await next_run(jarvis, sid)).recent[0].goal_id
    assert goal_id.startswith(f"goal-{sid}-"), goal_id  # recognisable: the schedule's goals
    final = await jarvis.result(goal_id)
    assert final.stage == "succeeded", final.message
    assert final.source == "schedule" and final.schedule_id == sid
    assert final.usage.calls == 0
    assert [d.by for d in final.decisions] == [f"schedule:{sid}"]
    assert "cli:alice" in final.decisions[0].reason
    assert await history_activities(jarvis, goal_id) == ["planner.prepare", "tool.write_file"]
    assert (Path(strict_llm.workspace_dir) / "tea.txt").read_text() == "Green tea is calming"

    described = await jarvis.describe_schedule(sid)
    assert [(r.goal_id, r.stage) for r in described.recent] == [(goal_id, "succeeded")]
    assert described.last_outcome == "succeeded"
    # each run's LLM cost from its search attribute: none here, the plan has no llm step
    assert [r.cost_usd for r in described.recent] == [0.0] and described.cost_usd == 0.0
    assert (await jarvis.describe(goal_id)).kind == "goal"
    assert (await jarvis.owner(goal_id)) == "cli:alice"

    await jarvis.delete_schedule(sid)
    with pytest.raises(ScheduleNotFound, match=sid):
        await jarvis.describe_schedule(sid)
    with pytest.raises(ScheduleNotFound):
        await jarvis.trigger_schedule(sid)


async def test_creation_needs_an_approval_and_valid_times(jarvis: JarvisClient) -> None:
    with pytest.raises(ScheduleNotApproved, match="approve"):
        await jarvis.create_schedule(PLAN, approve=False, cron=DAILY)
    with pytest.raises(ValueError, match="overlap"):
        await jarvis.create_schedule(PLAN, approve=True, cron=DAILY,
                                     overlap="sometimes")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="refused the schedule"):
        await jarvis.create_schedule(PLAN, approve=True, cron=["every morning"])
    sid = await jarvis.create_schedule(PLAN, approve=True, cron=DAILY,
                                       time_zone="Asia/Kolkata")  # UTC+05:30
    view = await jarvis.describe_schedule(sid)
    assert view.when == "cron 0 8 * * * (Asia/Kolkata)"
    assert {t[11:19] for t in view.next_runs} == {"02:30:00"}
    await jarvis.delete_schedule(sid)


async def test_interval_pause_resume(jarvis: JarvisClient) -> None:
    sid = await jarvis.create_schedule(PLAN, approve=True, every=timedelta(seconds=1),
                                       overlap="buffer_one", jitter=timedelta(milliseconds=100),
                                       catchup_window=timedelta(minutes=1))
    try:
        await _pause_and_resume(jarvis, sid)
    finally:
        await jarvis.delete_schedule(sid)  # an interval schedule would go on starting goals


async def _pause_and_resume(jarvis: JarvisClient, sid: str) -> None:
    first = await next_run(jarvis, sid)
    assert first.when == "every 1s" and first.overlap == "buffer_one"
    assert first.jitter_s == 0.1 and first.catchup_window_s == 60
    await jarvis.pause_schedule(sid, "boiler room closed")
    paused = await jarvis.describe_schedule(sid)
    assert paused.paused and paused.note == "boiler room closed"
    await jarvis.resume_schedule(sid)
    resumed = await next_run(jarvis, sid, paused.actions + 1)
    assert not resumed.paused
    for run in resumed.recent:
        assert (await jarvis.result(run.goal_id)).stage == "succeeded"


async def test_backfill_runs_the_missed_times(jarvis: JarvisClient) -> None:
    sid = await jarvis.create_schedule(PLAN, approve=True, every=timedelta(hours=1),
                                       paused=True)
    end = datetime.now(UTC).replace(minute=30, second=0, microsecond=0)
    await jarvis.backfill_schedule(sid, end - timedelta(hours=3), end)
    view = await next_run(jarvis, sid, 3)
    assert view.paused and view.actions == 3
    hours = [datetime.fromisoformat(r.scheduled_at).hour for r in view.recent]
    assert hours == [(end - timedelta(hours=h)).hour for h in (2, 1, 0)]
    for run in view.recent:
        assert (await jarvis.result(run.goal_id)).stage == "succeeded"


async def test_listed_with_next_run_and_last_outcome(jarvis: JarvisClient) -> None:
    sid = await jarvis.create_schedule(PLAN, approve=True, cron=DAILY)
    await jarvis.trigger_schedule(sid)
    goal_id = (await next_run(jarvis, sid)).recent[0].goal_id
    await jarvis.result(goal_id)
    found: dict[str, Any] = {}

    async def listed() -> bool:
        found["all"] = {v.id: v for v in await jarvis.list_schedules()}
        return sid in found["all"]

    await wait_until(listed, what="the schedule in the list")
    view = found["all"][sid]
    assert view.next_runs and view.last_outcome == "succeeded"
    data = view.to_json(with_plan=False)
    assert data["id"] == sid and data["last_outcome"] == "succeeded" and data["plan"] is None


@pytest.fixture
async def no_write_file(client: Client, strict_llm: Settings) -> AsyncIterator[JarvisClient]:
    """A worker whose registry no longer has the tool the approved plan uses."""
    registry = ToolRegistry()
    for tool in default_registry():
        if tool.name != "write_file":
            registry.register(tool)
    async for j in _jarvis(client, strict_llm, registry):
        yield j


async def test_a_plan_that_no_longer_validates_waits_for_review(
        no_write_file: JarvisClient) -> None:
    jarvis = no_write_file
    sid = await jarvis.create_schedule(PLAN, approve=True, by="cli:alice", cron=DAILY)
    await jarvis.trigger_schedule(sid)
    goal_id = (await next_run(jarvis, sid)).recent[0].goal_id
    state = await jarvis.wait_for_review(goal_id)
    assert state.stage == "awaiting_approval"
    assert "no longer validates" in state.message and state.problems
    assert state.run is None, "nothing ran"
    with pytest.raises(DecisionRefused, match="does not validate"):
        await jarvis.approve(goal_id, state.plan_digest or "")
    assert (await jarvis.describe_schedule(sid)).recent[0].stage == "awaiting_approval"
    await jarvis.reject(goal_id, "cli:bob", "the tool is gone")
    assert (await jarvis.result(goal_id)).stage == "rejected"


async def test_a_plan_other_than_the_approved_version_waits_for_review(
        jarvis: JarvisClient) -> None:
    """A goal input whose plan is not the approved version (e.g. a schedule changed by hand
    behind JARVIS's back) is not run without a person."""
    inp = GoalInput(goal=GOAL, approved_plan=PLAN, approved_digest="0" * 64,
                    approved_by="cli:alice", schedule_id="edited")
    handle = await jarvis.temporal.start_workflow(
        GOAL_WORKFLOW, inp, id=f"goal-sched-edited-{datetime.now(UTC).timestamp()}",
        task_queue=jarvis.task_queue, result_type=GoalState)
    state = await jarvis.wait_for_review(handle.id)
    assert state.stage == "awaiting_approval" and "not the version approved" in state.message
    final = await jarvis.approve(handle.id, state.plan_digest or "", by="cli:bob")
    assert final.decisions[-1].by == "cli:bob"
    assert (await jarvis.result(handle.id)).stage == "succeeded"


async def test_sync_api_agrees(jarvis: JarvisClient, strict_llm: Settings) -> None:
    sync = await asyncio.to_thread(JarvisClientSync, strict_llm)
    try:
        sid = await asyncio.to_thread(lambda: sync.create_schedule(
            PLAN, approve=True, by="host-app", cron=DAILY, paused=True))
        await asyncio.to_thread(sync.trigger_schedule, sid)
        view = await next_run(jarvis, sid)
        assert (await jarvis.result(view.recent[0].goal_id)).stage == "succeeded"
        await asyncio.to_thread(sync.resume_schedule, sid, "back")
        seen = await asyncio.to_thread(sync.describe_schedule, sid)
        assert not seen.paused and seen.note == "back" and seen.approved_by == "host-app"
        assert seen.recent[0].stage == "succeeded"
        await asyncio.to_thread(sync.delete_schedule, sid)
        with pytest.raises(ScheduleNotFound):
            await asyncio.to_thread(sync.describe_schedule, sid)
    finally:
        await asyncio.to_thread(sync.close)


async def test_a_goal_past_its_deadline_times_out(jarvis: JarvisClient) -> None:
    """The per-goal deadline is the workflow execution timeout of each run's goal."""
    slow = Plan.model_validate({"goal": "wait a minute", "steps": [
        {"id": "pause", "tool": "wait", "args": {"seconds": 60}}]})
    sid = await jarvis.create_schedule(slow, approve=True, cron=DAILY,
                                       deadline=timedelta(seconds=1))
    await jarvis.trigger_schedule(sid)
    goal_id = (await next_run(jarvis, sid)).recent[0].goal_id
    with pytest.raises(WorkflowFailureError):
        await jarvis.result(goal_id)
    assert (await jarvis.describe(goal_id)).status == "timed_out"
    view = await jarvis.describe_schedule(sid)
    assert view.deadline_s == 1 and view.recent[0].stage == "timed_out"
    await jarvis.delete_schedule(sid)


async def test_a_dangerous_step_waits_for_a_person_at_every_run(
        jarvis: JarvisClient, strict_llm: Settings) -> None:
    """A grant is bound to one run: a scheduled plan with a dangerous step never runs on the
    approval given at creation; the person's approval of the run (with its grant) runs it."""
    shell = Plan.model_validate({"goal": "leave a marker", "steps": [
        {"id": "touch", "tool": "shell", "args": {"command": "echo ran > marker.txt"}}]})
    sid = await jarvis.create_schedule(shell, approve=True, by="cli:alice", cron=DAILY)
    await jarvis.trigger_schedule(sid)
    goal_id = (await next_run(jarvis, sid)).recent[0].goal_id
    state = await jarvis.wait_for_review(goal_id)
    assert state.stage == "awaiting_approval" and "dangerous" in state.message
    marker = Path(strict_llm.workspace_dir) / "marker.txt"
    assert not marker.exists()
    await jarvis.approve(goal_id, state.plan_digest or "", by="cli:bob")
    assert (await jarvis.result(goal_id)).stage == "succeeded"
    assert marker.read_text().strip() == "ran"
    await jarvis.delete_schedule(sid)
