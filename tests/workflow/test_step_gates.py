"""Approval at the step that needs it (issue 13 part 2), on the real dev server: steps that wait
at their own gates just before they start, with their resolved arguments; independent branches
run meanwhile; parallel gates decided independently in any order; a rejected gate skips its
step and dependants while the rest finishes; "approve up to step X"; decisions recorded with who
and when, as Updates the stock `temporal` CLI can send; a dangerous step at a gate runs only
with the grant the approving client signs."""

from __future__ import annotations

import asyncio
import json
import subprocess
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from temporalio.client import Client

from activities import default_registry
from agents.client import DecisionRefused, JarvisClient
from agents.devserver import temporal_binary
from agents.worker import create_worker
from jarvis_planner.testing import ScriptedLLM, reply_json
from planner.contracts.goal_flow import GoalState
from planner.scheduler import StepStatus
from planner.settings import Settings

GOAL = "note the answer and save it, and check my notes"
PLAN: dict[str, Any] = {"goal": GOAL, "steps": [
    {"id": "n", "tool": "calc", "args": {"expression": "6 * 7"}},
    {"id": "note", "tool": "notes_append", "args": {"text": "the answer is ${n.value}"}},
    {"id": "save", "tool": "write_file", "args": {"path": "answer.txt", "text": "${n.value}"}},
    {"id": "check", "tool": "notes_search", "args": {"query": "answer"}, "deps": ["note"]},
    {"id": "other", "tool": "calc", "args": {"expression": "1 + 1"}}]}


@pytest.fixture
async def jarvis(client: Client, settings: Settings, scripted_llm: ScriptedLLM
                 ) -> AsyncIterator[JarvisClient]:
    llm = settings.model_copy(update={
        "llm_base_url": scripted_llm.base_url, "llm_api_key": "scripted-key",
        "llm_model": scripted_llm.model, "llm_timeout_s": 10.0, "embedding_backend": "hashing"})
    async with create_worker(client, llm, default_registry()):
        yield JarvisClient(client, llm)


async def until(jarvis: JarvisClient, goal_id: str,
                holds: Callable[[GoalState], bool]) -> GoalState:
    """The goal's state once ``holds`` (followed through its events, not polled on a clock);
    a state that never comes fails the test after a minute with the last one seen."""
    seen: list[GoalState] = []

    async def follow() -> GoalState:
        async for event in jarvis.events(goal_id):
            seen[:] = [event.state]
            if holds(event.state):
                return event.state
        state = await jarvis.result(goal_id)
        assert holds(state), state
        return state

    try:
        return await asyncio.wait_for(follow(), 60)
    except TimeoutError:
        raise AssertionError(f"the goal never got there; last state: {seen}") from None


def waiting_at(state: GoalState) -> set[str]:
    return {s.id for s in state.run.steps if s.gate == "waiting"} if state.run else set()


def status(state: GoalState, step: str) -> StepStatus:
    assert state.run is not None
    return state.run.step(step).status


async def test_parallel_gates_decided_in_any_order_while_the_rest_runs(
        jarvis: JarvisClient, settings: Settings, scripted_llm: ScriptedLLM) -> None:
    scripted_llm.expect(reply_json(PLAN))
    goal_id = await jarvis.submit(GOAL, policy="step-gates")
    both = await until(jarvis, goal_id, lambda s: waiting_at(s) == {"note", "save"}
                       and s.run is not None and s.run.step("other").status.finished)
    assert both.stage == "executing" and both.gates == ["note", "save"]
    # read-only work went on; the person sees the real arguments of each gated step
    assert status(both, "n") is StepStatus.SUCCEEDED and status(both, "other") is (
        StepStatus.SUCCEEDED)
    assert both.run is not None
    assert both.run.step("save").gate_args == {"path": "answer.txt", "text": 42}
    assert both.run.step("note").gate_args == {"text": "the answer is 42"}
    assert status(both, "check") is StepStatus.PENDING  # it needs `note`
    assert not (settings.workspace_dir / "answer.txt").exists()

    # decided in the opposite order of their arrival: the later gate first
    after_save = await jarvis.decide_step(goal_id, "save", True, by="carol", note="fine")
    assert after_save.decisions[-1].action == "approve_step"
    assert (after_save.decisions[-1].step, after_save.decisions[-1].by) == ("save", "carol")
    saved = await until(jarvis, goal_id, lambda s: status(s, "save").finished)
    assert status(saved, "save") is StepStatus.SUCCEEDED
    assert waiting_at(saved) == {"note"}  # the other gate still waits, undisturbed
    await jarvis.decide_step(goal_id, "note", False, by="dave", note="not this one")
    done = await jarvis.result(goal_id)

    assert done.stage == "succeeded", done.message
    assert done.run is not None
    note, check = done.run.step("note"), done.run.step("check")
    assert (note.status, note.gate, note.gate_note) == (
        StepStatus.SKIPPED, "rejected", "rejected by dave: not this one")
    assert check.status is StepStatus.SKIPPED and check.attempts == 0
    assert done.run.step("save").gate == "approved"
    assert (settings.workspace_dir / "answer.txt").read_text() == "42"
    assert not (settings.data_dir / "notes.jsonl").exists()  # the rejected note never ran
    steps = [(d.action, d.step, d.by) for d in done.decisions if d.step]
    assert steps == [("approve_step", "save", "carol"), ("reject_step", "note", "dave")]
    assert all(d.at for d in done.decisions)
    with pytest.raises(DecisionRefused, match="step 'save': the goal is succeeded"):
        await jarvis.decide_step(goal_id, "save", True)


async def test_approve_up_to_a_step_and_decide_the_rest_with_the_stock_cli(
        jarvis: JarvisClient, temporal_address: str, scripted_llm: ScriptedLLM) -> None:
    scripted_llm.expect(reply_json(PLAN))
    goal_id = await jarvis.submit(GOAL, policy="always-ask")
    review = await jarvis.wait_for_review(goal_id)
    assert review.stage == "awaiting_approval" and review.plan_digest is not None
    with pytest.raises(DecisionRefused, match="no step 'nope'"):
        await jarvis.approve(goal_id, review.plan_digest, until="nope")
    await jarvis.approve(goal_id, review.plan_digest, by="carol", until="note")
    gated = await until(jarvis, goal_id, lambda s: waiting_at(s) == {"save", "check", "other"})
    assert gated.gates == ["save", "check", "other"]  # every step `note` does not need
    assert status(gated, "note") is StepStatus.SUCCEEDED
    with pytest.raises(DecisionRefused, match="step 'note': it is not waiting at a gate"):
        await jarvis.decide_step(goal_id, "note", True)  # approved with the plan: no gate

    def update(body: dict[str, Any]) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [temporal_binary(), "workflow", "update", "execute", "--address", temporal_address,
             "--workflow-id", goal_id, "--name", "decide_step", "--input", json.dumps(body)],
            capture_output=True, text=True, timeout=60)

    unknown = await asyncio.to_thread(update, {"step_id": "nope", "approve": True})
    assert unknown.returncode != 0 and "no such step" in unknown.stderr
    for step in ("other", "save"):
        proc = await asyncio.to_thread(update, {"step_id": step, "approve": True, "by": "ops"})
        assert proc.returncode == 0, proc.stderr
    check = await until(jarvis, goal_id, lambda s: waiting_at(s) == {"check"}
                        and status(s, "save").finished and status(s, "other").finished)
    await jarvis.decide_step(goal_id, "check", True, by="carol")
    done = await jarvis.result(goal_id)
    assert done.stage == "succeeded", done.message
    assert done.run is not None and all(s.status is StepStatus.SUCCEEDED for s in done.run.steps)
    assert check.run is not None and check.run.step("check").gate_args == {"query": "answer"}
    assert [(d.action, d.step, d.by) for d in done.decisions] == [
        ("approve", None, "carol"), ("approve_step", "other", "ops"),
        ("approve_step", "save", "ops"), ("approve_step", "check", "carol")]


async def test_a_dangerous_step_at_its_gate_runs_only_with_the_signed_grant(
        jarvis: JarvisClient, settings: Settings, temporal_address: str,
        scripted_llm: ScriptedLLM) -> None:
    """Under step-gates a shell step needs no up-front review, but its gate's approval must
    carry the grant the approving client signs: an approval sent straight to Temporal (no
    grant) reaches the worker, which refuses the step; the client's approval runs it."""
    plan = {"goal": "touch two markers", "steps": [
        {"id": "first", "tool": "shell", "args": {"command": "echo ran > first.txt"}},
        {"id": "second", "tool": "shell", "args": {"command": "echo ran > second.txt"}}]}
    scripted_llm.expect(reply_json(plan))
    goal_id = await jarvis.submit("touch two markers", policy="step-gates")
    both = await until(jarvis, goal_id, lambda s: waiting_at(s) == {"first", "second"})
    assert both.run is not None and both.run.step("first").gate_args == {
        "command": "echo ran > first.txt"}
    proc = await asyncio.to_thread(subprocess.run, [
        temporal_binary(), "workflow", "update", "execute", "--address", temporal_address,
        "--workflow-id", goal_id, "--name", "decide_step",
        "--input", json.dumps({"step_id": "first", "approve": True, "by": "ops"})],
        capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr  # the decision is recorded ...
    await jarvis.decide_step(goal_id, "second", True, by="carol")
    done = await jarvis.result(goal_id)
    assert done.run is not None
    first, second = done.run.step("first"), done.run.step("second")
    assert first.status is StepStatus.FAILED and first.error is not None
    assert first.error.type == "ToolRefused"  # ... but without a grant the worker refuses
    assert "no person's approval of this step came with it" in first.error.message
    assert not (settings.workspace_dir / "first.txt").exists()
    assert second.status is StepStatus.SUCCEEDED
    assert (settings.workspace_dir / "second.txt").read_text() == "ran\n"
