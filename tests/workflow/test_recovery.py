"""Recovery that keeps finished work, on a real dev server with the scripted LLM: a step that
fails for good is replanned (the planner sees the failure and the finished outputs, the
replacement joins the finished steps, nothing finished runs again); a replacement that adds a
side effect goes back to review; a person retries a failed goal from a step with new
arguments; a goal abandoned at a later gate undoes the files it wrote, latest first.

Side effects are counted where they land (the notes file, a tally file each call appends to)."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel
from temporalio.client import Client

from activities import default_registry
from agents.client import JarvisClient, RetryRefused
from agents.worker import create_worker
from jarvis_planner.testing import ScriptedLLM, reply_json
from planner.scheduler import StepStatus
from planner.settings import Settings
from planner.tools import ToolContext, ToolRegistry, tool_from_function
from tests.workflow.test_step_gates import until, waiting_at


class Tallied(BaseModel):
    label: str
    text: str


def tally(label: str, ctx: ToolContext) -> Tallied:
    """Record one call (a line in <data dir>/tally.txt) and give back some text."""
    with open(Path(ctx.data_dir) / "tally.txt", "a", encoding="utf-8") as f:
        f.write(label + "\n")
    return Tallied(label=label, text="forty-two" if label == "words" else "42")


class Number(BaseModel):
    value: float


def double(value: float) -> Number:
    """Twice a number."""
    return Number(value=value * 2)


def tallies(settings: Settings) -> list[str]:
    path = settings.data_dir / "tally.txt"
    return path.read_text().split() if path.exists() else []


def notes(settings: Settings) -> list[str]:
    path = settings.data_dir / "notes.jsonl"
    return path.read_text().splitlines() if path.exists() else []


@pytest.fixture
def registry() -> ToolRegistry:
    registry = default_registry()
    registry.register(tool_from_function(tally, idempotent=True))
    registry.register(tool_from_function(double, idempotent=True))
    return registry


def with_llm(settings: Settings, scripted_llm: ScriptedLLM, **more: Any) -> Settings:
    return settings.model_copy(update={
        "llm_base_url": scripted_llm.base_url, "llm_api_key": "scripted-key",
        "llm_model": scripted_llm.model, "llm_timeout_s": 10.0, "embedding_backend": "hashing",
        "replan_rounds": 1, **more})


def plan(goal: str, *steps: dict[str, Any], **more: Any) -> dict[str, Any]:
    return {"goal": goal, "steps": list(steps), **more}


# a side effect, then a step that fails at run time ("forty-two" is no number)
NOTE_THEN_DOUBLE = plan(
    "note it, then double the words",
    {"id": "note", "tool": "notes_append", "args": {"text": "doubling"}},
    {"id": "words", "tool": "tally", "args": {"label": "words"}},
    {"id": "twice", "tool": "double", "args": {"value": "${words.text}"}, "deps": ["note"]},
    outputs={"result": "${twice.value}"})


async def test_a_run_time_argument_failure_is_replanned_keeping_finished_steps(
        client: Client, settings: Settings, scripted_llm: ScriptedLLM,
        registry: ToolRegistry) -> None:
    """The producer declares its text as a string, so the plan validates; at run time "forty-
    two" is no number: the step fails with InvalidArguments, the planner gets the failure and
    the finished outputs, and its replacement reads the number another way. The finished
    steps ran once each."""
    goal = "double the number in the words"
    scripted_llm.expect(reply_json(plan(
        goal,
        {"id": "words", "tool": "tally", "args": {"label": "words"}},
        {"id": "digits", "tool": "tally", "args": {"label": "digits"}},
        {"id": "twice", "tool": "double", "args": {"value": "${words.text}"}},
        outputs={"result": "${twice.value}"})))
    scripted_llm.expect(reply_json(plan(
        goal,
        {"id": "twice_digits", "tool": "double", "args": {"value": "${digits.text}"}},
        outputs={"result": "${twice_digits.value}"})),
        expects_text_in_messages='"forty-two" is not a numeral')
    llm = with_llm(settings, scripted_llm)
    jarvis = JarvisClient(client, llm)
    async with create_worker(client, llm, registry):
        done = await jarvis.result(await jarvis.submit(goal))
    assert done.stage == "succeeded", done.message
    assert sorted(tallies(llm)) == ["digits", "words"]  # each finished step ran once
    assert [s.id for s in done.plan.steps] == ["words", "digits", "twice_digits"]  # type: ignore[union-attr]
    assert done.run is not None and done.run.outputs == {"result": 84.0}
    (recovery,) = done.recoveries
    assert recovery.failed == "twice" and recovery.replaced == ["twice"]
    assert recovery.added == ["twice_digits"] and not recovery.reviewed
    assert recovery.error.startswith("InvalidArguments:")
    assert [d.action for d in done.decisions] == ["approve"]  # read-only: no second review
    assert done.usage.calls == 2  # the replan is an LLM call like any other, counted


async def test_a_network_failure_is_replanned_with_another_tool(
        client: Client, settings: Settings, scripted_llm: ScriptedLLM) -> None:
    """A page on a port nothing listens on: every attempt fails to connect; the replacement
    reads the saved copy from the workspace instead."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed once the block ends: nothing listens there
    goal = "read the status page"
    url = f"http://127.0.0.1:{port}/status"
    scripted_llm.expect(reply_json(plan(goal, {
        "id": "page", "tool": "fetch_page", "args": {"url": url},
        "retry": {"max_attempts": 2, "initial_interval_s": 0.1}},
        outputs={"status": "${page.text}"})))
    scripted_llm.expect(reply_json(plan(goal, {
        "id": "saved", "tool": "read_file", "args": {"path": "status.txt"}},
        outputs={"status": "${saved.text}"})), expects_text_in_messages=url)
    llm = with_llm(settings, scripted_llm, egress_allow=["127.0.0.1"])
    llm.workspace_dir.mkdir(parents=True, exist_ok=True)
    (llm.workspace_dir / "status.txt").write_text("all systems go")
    jarvis = JarvisClient(client, llm)
    async with create_worker(client, llm, default_registry()):
        done = await jarvis.result(await jarvis.submit(goal))
    assert done.stage == "succeeded", done.message
    assert done.run is not None and done.run.outputs == {"status": "all systems go"}
    (recovery,) = done.recoveries
    assert recovery.failed == "page" and recovery.added == ["saved"]
    assert [s.tool for s in done.plan.steps] == ["read_file"]  # type: ignore[union-attr]


async def test_a_replacement_with_a_side_effect_goes_back_to_review(
        client: Client, settings: Settings, scripted_llm: ScriptedLLM,
        registry: ToolRegistry) -> None:
    """The person approved a note and a computation; the computation fails and the
    replacement writes a file: the goal waits for a review of the new plan (the old approval
    does not cover it); approved, it runs the new step and the note is not appended again."""
    goal = NOTE_THEN_DOUBLE["goal"]
    scripted_llm.expect(reply_json(NOTE_THEN_DOUBLE))
    scripted_llm.expect(reply_json(plan(
        goal,
        {"id": "save", "tool": "write_file",
         "args": {"path": "words.txt", "text": "${words.text}"}})))
    llm = with_llm(settings, scripted_llm)
    jarvis = JarvisClient(client, llm)
    async with create_worker(client, llm, registry):
        goal_id = await jarvis.submit(goal)
        first = await jarvis.wait_for_review(goal_id)
        assert first.plan_digest is not None
        await jarvis.approve(goal_id, first.plan_digest, by="alice")
        again = await jarvis.wait_for_review(goal_id)
        assert again.stage == "awaiting_approval", again.message
        assert again.plan_digest != first.plan_digest
        assert "step(s) save are not read-only" in again.message
        assert again.recoveries[0].reviewed and again.risks["save"] == "side-effecting"
        assert again.run is not None and again.run.step("note").status is StepStatus.SUCCEEDED
        assert again.plan_digest is not None
        await jarvis.approve(goal_id, again.plan_digest, by="bob")
        done = await jarvis.result(goal_id)
    assert done.stage == "succeeded", done.message
    assert len(notes(llm)) == 1  # the finished note was not appended again
    assert tallies(llm) == ["words"]
    assert (llm.workspace_dir / "words.txt").read_text() == "forty-two"
    assert [(d.action, d.by) for d in done.decisions] == [("approve", "alice"),
                                                         ("approve", "bob")]


async def test_a_person_retries_a_failed_goal_from_a_step_with_new_arguments(
        client: Client, settings: Settings, scripted_llm: ScriptedLLM,
        registry: ToolRegistry) -> None:
    """No replan round: the goal fails. `retry --from twice` with a number as the argument
    runs that step again under the same goal id; the note before it is not appended again."""
    goal = NOTE_THEN_DOUBLE["goal"]
    scripted_llm.expect(reply_json(NOTE_THEN_DOUBLE))
    llm = with_llm(settings, scripted_llm, replan_rounds=0, auto_approve=["read-only",
                                                                          "side-effecting"])
    jarvis = JarvisClient(client, llm)
    async with create_worker(client, llm, registry):
        goal_id = await jarvis.submit(goal)
        failed = await jarvis.result(goal_id)
        assert failed.stage == "failed" and "'twice'" in failed.message
        with pytest.raises(RetryRefused, match="no such step"):
            await jarvis.retry(goal_id, "nope", by="carol")
        await jarvis.retry(goal_id, "twice", args={"value": 21}, by="carol")
        done = await jarvis.result(goal_id)
    assert done.stage == "succeeded", done.message
    assert done.retried_from == "twice" and done.run is not None
    assert done.run.outputs == {"result": 42.0}
    assert len(notes(llm)) == 1 and tallies(llm) == ["words"]  # kept, not run again
    assert done.plan is not None and done.plan.step("twice").args == {"value": 21}
    assert [(d.action, d.by, d.step) for d in done.decisions] == [("retry", "carol", "twice")]


async def test_rejecting_a_later_gate_abandons_the_goal_and_undoes_its_writes(
        client: Client, settings: Settings, scripted_llm: ScriptedLLM) -> None:
    """Two writes (a new file, an overwrite of an existing one), then a note behind a gate.
    The person rejects the note and abandons the goal: the overwrite is undone (the old text
    back) and then the new file removed, latest first; the note never runs."""
    goal = "write the report, update the index, then note it"
    scripted_llm.expect(reply_json(plan(
        goal,
        {"id": "report", "tool": "write_file", "args": {"path": "report.txt", "text": "new"}},
        {"id": "index", "tool": "write_file", "args": {"path": "index.txt", "text": "v2"},
         "deps": ["report"]},
        {"id": "note", "tool": "notes_append", "args": {"text": "reported"},
         "deps": ["index"]})))
    llm = with_llm(settings, scripted_llm)
    llm.workspace_dir.mkdir(parents=True, exist_ok=True)
    (llm.workspace_dir / "index.txt").write_text("v1")
    jarvis = JarvisClient(client, llm)
    async with create_worker(client, llm, default_registry()):
        goal_id = await jarvis.submit(goal)
        review = await jarvis.wait_for_review(goal_id)
        assert review.plan_digest is not None
        await jarvis.approve(goal_id, review.plan_digest, by="alice", gates=["note"])
        await until(jarvis, goal_id, lambda s: waiting_at(s) == {"note"})
        assert (llm.workspace_dir / "report.txt").read_text() == "new"
        assert (llm.workspace_dir / "index.txt").read_text() == "v2"
        await jarvis.decide_step(goal_id, "note", approve=False, by="alice",
                                 note="wrong numbers", abandon=True)
        done = await jarvis.result(goal_id)
    assert done.stage == "rejected", done.message
    assert [(u.step, u.ok, u.message) for u in done.undone] == [
        ("index", True, "restored index.txt"), ("report", True, "deleted report.txt")]
    assert "abandoned at step 'note' by alice: wrong numbers" in done.message
    assert "undone: index (restored index.txt), report (deleted report.txt)" in done.message
    assert (llm.workspace_dir / "index.txt").read_text() == "v1"
    assert not (llm.workspace_dir / "report.txt").exists()
    assert notes(llm) == []
    assert done.run is not None and done.run.step("note").status is StepStatus.CANCELLED
