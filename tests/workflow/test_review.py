"""The review gate: approve / reject / edit Updates, expiry, risk policy, durability while waiting,
the Python API (async and sync) and the stock Temporal CLI."""

from __future__ import annotations

import asyncio
import json
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from temporalio import activity
from temporalio.client import Client

from activities import default_registry
from activities.memory.seed import open_store
from activities.planning import PlannerActivities
from agents.client import DecisionRefused, EditRefused
from agents.connection import connect
from agents.devserver import free_port, start_dev_server, stop_process, temporal_binary
from agents.worker import create_worker
from jarvis_planner.api import JarvisClient, JarvisClientSync
from planner.approval import plan_digest
from planner.contracts.goal_flow import PrepareRequest, PrepareResult
from planner.contracts.names import PREPARE_ACTIVITY
from planner.plan import Plan
from planner.settings import Settings
from tests.plans import open_gate
from tests.processes import start_worker_process, wait_for_pollers

REMIND = "remind me to stretch in 1 seconds"  # a shipped template: wait + notify (side effect)


@pytest.fixture
def offline(settings: Settings) -> Settings:
    return settings.model_copy(update={"embedding_backend": "hashing"})


@pytest.fixture
async def jarvis(client: Client, offline: Settings) -> AsyncIterator[JarvisClient]:
    async with create_worker(client, offline, default_registry()):
        yield JarvisClient(client, offline)


async def waiting(jarvis: JarvisClient, goal: str = REMIND) -> tuple[str, Plan]:
    goal_id = await jarvis.submit(goal)
    state = await jarvis.wait_for_review(goal_id)
    assert state.stage == "awaiting_approval", state.message
    assert state.plan is not None
    return goal_id, state.plan


def edited(plan: Plan, **changes: object) -> Plan:
    data = plan.model_dump(mode="json")
    data.update(changes)
    return Plan.model_validate(data)


async def test_invalid_edits_are_refused_and_the_goal_still_waits(jarvis: JarvisClient) -> None:
    goal_id, plan = await waiting(jarvis)
    steps = plan.model_dump(mode="json")["steps"]
    cyclic = [{**steps[0], "deps": [steps[1]["id"]]}, steps[1]]
    with pytest.raises(EditRefused) as refused:
        await jarvis.edit(goal_id, edited(plan, steps=cyclic), plan_digest(plan), by="alice")
    assert [p.code for p in refused.value.problems] == ["cycle"]
    unknown = [steps[0], {**steps[1], "tool": "send_carrier_pigeon"}]
    with pytest.raises(EditRefused) as refused:
        await jarvis.edit(goal_id, edited(plan, steps=unknown), plan_digest(plan), by="alice")
    assert refused.value.problems[0].code == "unknown_tool"
    state = await jarvis.state(goal_id)
    assert state.stage == "awaiting_approval" and state.plan == plan
    await jarvis.approve(goal_id, plan_digest(plan), by="alice")
    assert (await jarvis.result(goal_id)).stage == "succeeded"


async def test_valid_edit_replaces_the_plan_then_approval_runs_it(jarvis: JarvisClient,
                                                                  offline: Settings) -> None:
    goal_id, plan = await waiting(jarvis)
    steps = plan.model_dump(mode="json")["steps"]
    steps[1]["args"]["message"] = "Reminder: drink water"
    with pytest.raises(DecisionRefused, match="changed since you saw it"):
        await jarvis.edit(goal_id, edited(plan, steps=steps), "0" * 64, by="mallory")
    state = await jarvis.edit(goal_id, edited(plan, steps=steps), plan_digest(plan), by="bob",
                              note="water")
    assert state.stage == "awaiting_approval"
    assert state.plan_digest == plan_digest(edited(plan, steps=steps)) != plan_digest(plan)
    # an approval of the version before the edit (what someone else saw) is refused
    with pytest.raises(DecisionRefused, match="changed since you saw it"):
        await jarvis.approve(goal_id, plan_digest(plan), by="carol")
    await jarvis.approve(goal_id, state.plan_digest or "", by="carol")
    final = await jarvis.result(goal_id)
    assert final.stage == "succeeded"
    assert [(d.action, d.by) for d in final.decisions] == [("edit", "bob"), ("approve", "carol")]
    assert all(d.at for d in final.decisions)
    outbox = (offline.data_dir / "outbox.jsonl").read_text()
    assert "Reminder: drink water" in outbox and "Reminder: stretch" not in outbox
    # the edited plan is kept as an example of its own goal, never rebound to other goals, and
    # the shipped template it came from is not credited with a run of a plan it did not hold
    store = open_store(offline, default_registry())
    kept = [h for h in store.list() if h.goal == REMIND]
    assert [(h.rebindable, h.plan) for h in kept] == [(False, edited(plan, steps=steps))]
    assert final.template_id is not None
    source = store.get(final.template_id)
    assert source is not None and source.rebindable and source.runs == 0


async def test_approval_expires(client: Client, offline: Settings) -> None:
    settings = offline.model_copy(update={"approval_timeout_s": 1.0})
    async with create_worker(client, settings, default_registry()):
        jarvis = JarvisClient(client, settings)
        goal_id = await jarvis.submit(REMIND)
        final = await jarvis.result(goal_id)
    assert final.stage == "expired" and "no decision within 1s" in final.message
    assert final.run is None


async def test_an_edit_in_flight_when_the_approval_expires_finishes_and_is_refused(
        client: Client, offline: Settings) -> None:
    """The goal expires while an edit is being validated: the workflow waits for the edit
    (all_handlers_finished) and the edit is refused because the goal expired; nothing runs."""
    settings = offline.model_copy(update={"approval_timeout_s": 3.0})
    registry = default_registry()
    real = PlannerActivities(settings, registry, lambda: open_store(settings, registry))
    held = open_gate(f"edit-{settings.task_queue}")

    @activity.defn(name=PREPARE_ACTIVITY)
    async def slow_prepare(request: PrepareRequest) -> PrepareResult:
        if request.plan.goal == "held edit":
            held.entered.set()
            await asyncio.to_thread(held._released.wait, 60)
        return await real.prepare_plan(request)

    async with create_worker(client, settings, registry, replace_activities=[slow_prepare]):
        jarvis = JarvisClient(client, settings)
        goal_id, plan = await waiting(jarvis)
        edit = asyncio.ensure_future(jarvis.edit(goal_id, edited(plan, goal="held edit"),
                                                 plan_digest(plan), by="dave"))
        await held.wait_entered()
        async for event in jarvis.events(goal_id):  # the approval expires meanwhile
            if event.kind == "stage" and event.stage == "expired":
                break
        held.release()
        with pytest.raises(DecisionRefused, match="edit refused: the goal is expired now"):
            await edit
        final = await jarvis.result(goal_id)
    assert final.stage == "expired" and final.run is None
    assert final.plan == plan and final.decisions == []


async def test_risk_policy_from_settings(client: Client, offline: Settings) -> None:
    settings = offline.model_copy(update={"auto_approve": ["read-only", "side-effecting"]})
    async with create_worker(client, settings, default_registry()):
        jarvis = JarvisClient(client, settings)
        final = await jarvis.result(await jarvis.submit(REMIND))
    assert final.stage == "succeeded"
    assert final.decisions[0].by == "policy:auto-read-only"


async def test_api_streams_events_and_sync_wrapper_agrees(jarvis: JarvisClient,
                                                          offline: Settings) -> None:
    goal_id = await jarvis.submit(REMIND)
    kinds: list[tuple[str, str]] = []
    async for event in jarvis.events(goal_id, poll_s=0.1):
        kinds.append((event.kind, event.stage))
        if event.kind == "stage" and event.stage == "awaiting_approval":
            break
    # the workflow's own order, whatever the polling luck: the template's plan is announced
    # while retrieving, before the goal waits for review
    assert kinds == [("stage", "retrieving"), ("plan", "retrieving"),
                     ("stage", "awaiting_approval")]
    sync = await asyncio.to_thread(JarvisClientSync, offline)
    try:
        pending = await asyncio.to_thread(sync.list, pending=True)
        assert goal_id in [g.id for g in pending]
        seen = await asyncio.to_thread(sync.state, goal_id)
        await asyncio.to_thread(sync.approve, goal_id, seen.plan_digest or "", "dave")
        steps = [e for e in await asyncio.to_thread(lambda: list(sync.events(goal_id, 0.1)))
                 if e.kind == "step"]
        assert {(e.step_id, e.status) for e in steps} >= {("pause", "succeeded"),
                                                          ("ping", "succeeded")}
        assert (await asyncio.to_thread(sync.state, goal_id)).stage == "succeeded"
    finally:
        await asyncio.to_thread(sync.close)


async def test_stock_temporal_cli_can_approve(jarvis: JarvisClient, temporal_address: str
                                              ) -> None:
    goal_id, plan = await waiting(jarvis)

    def update(body: dict[str, str]) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [temporal_binary(), "workflow", "update", "execute", "--address", temporal_address,
             "--workflow-id", goal_id, "--name", "approve", "--input", json.dumps(body)],
            capture_output=True, text=True, timeout=60)

    # an approval must name the plan version it approves; the refusal says which one is current
    refused = await asyncio.to_thread(update, {"by": "ops"})
    assert refused.returncode != 0 and plan_digest(plan)[:12] in refused.stderr
    proc = await asyncio.to_thread(update, {"by": "ops", "plan_digest": plan_digest(plan)})
    assert proc.returncode == 0, proc.stderr
    final = await jarvis.result(goal_id)
    assert final.stage == "succeeded" and final.decisions[-1].by == "ops"


async def test_waiting_goal_survives_worker_and_server_restarts(tmp_path: Path) -> None:
    port = free_port()
    db = tmp_path / "server.sqlite"
    server = start_dev_server(db, port, log_file=tmp_path / "s1.log")
    settings = Settings(data_dir=tmp_path / "data", temporal_address=f"127.0.0.1:{port}",
                        task_queue="review-restarts", embedding_backend="hashing")
    worker = start_worker_process(settings, tmp_path / "w1.log")
    try:
        client = await connect(settings.temporal_address)
        engine = JarvisClient(client, settings)
        await wait_for_pollers(engine, worker)
        jarvis = JarvisClient(client, settings)
        goal_id, plan = await waiting(jarvis)
        worker.kill()
        worker.wait()
        stop_process(server)
        server = start_dev_server(db, port, log_file=tmp_path / "s2.log")
        worker = start_worker_process(settings, tmp_path / "w2.log")
        await wait_for_pollers(engine, worker)
        assert (await jarvis.state(goal_id)).stage == "awaiting_approval"
        await jarvis.approve(goal_id, plan_digest(plan), by="after-restart")
        final = await jarvis.result(goal_id)
    finally:
        if worker.poll() is None:
            worker.terminate()
            worker.wait(40)
        stop_process(server)
    assert final.stage == "succeeded"
    outbox = [json.loads(line) for line in
              (settings.data_dir / "outbox.jsonl").read_text().splitlines()]
    assert [o["message"] for o in outbox] == ["Reminder: stretch"]
