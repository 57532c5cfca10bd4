"""Goals end to end: scripted OpenAI-compatible server, real Temporal, real chromadb."""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from temporalio.client import Client

from activities import default_registry
from agents.client import DecisionRefused, JarvisClient
from agents.worker import create_worker
from jarvis_planner.testing import ScriptedLLM, reply_error, reply_json, reply_text, reply_tool_call
from planner.contracts.goal_flow import GoalState
from planner.settings import Settings
from planner.tools import Risk, ToolRegistry, tool_from_function
from tests.histories_read import activities_run
from tests.plans import BROKEN_PLAN, COFFEE_GOAL, TEA_GOAL, TEA_PLAN


@pytest.fixture
def llm_settings(settings: Settings, scripted_llm: ScriptedLLM) -> Settings:
    return settings.model_copy(update={
        "llm_base_url": scripted_llm.base_url, "llm_api_key": "scripted-key",
        "llm_model": scripted_llm.model, "llm_timeout_s": 10.0, "embedding_backend": "hashing"})


class Goals:
    """A worker plus a goal client for one test."""

    def __init__(self, client: Client, settings: Settings, registry: ToolRegistry) -> None:
        self.settings = settings
        self.client = JarvisClient(client, settings)
        self.worker = create_worker(client, settings, registry)

    async def run(self, goal: str, policy: str = "approve-all", **kw: Any) -> GoalState:
        goal_id = await self.client.submit(goal, policy=policy, **kw)  # type: ignore[arg-type]
        self.last_id = goal_id
        return await self.client.result(goal_id)

    async def activity_types(self, goal_id: str) -> list[str]:
        return activities_run(await self.client.handle(goal_id).fetch_history())


@pytest.fixture
async def goals(client: Client, llm_settings: Settings) -> AsyncIterator[Goals]:
    g = Goals(client, llm_settings, default_registry())
    async with g.worker:
        yield g


async def test_llm_plan_runs_then_similar_goal_reuses_template(
        goals: Goals, scripted_llm: ScriptedLLM) -> None:
    scripted_llm.expect(reply_json(TEA_PLAN, prompt_tokens=300, completion_tokens=40),
                        expects_response_format="json_schema",
                        expects_text_in_messages="Green tea is calming")
    first = await goals.run(TEA_GOAL)
    assert first.stage == "succeeded", first.message
    assert first.source == "llm" and first.usage.total_tokens == 340
    assert {"planner.retrieve", "planner.draft", "planner.prepare", "tool.write_file",
            "planner.remember"} <= set(await goals.activity_types(goals.last_id))
    assert first.template_id
    calls = scripted_llm.calls
    second = await goals.run(COFFEE_GOAL)
    assert scripted_llm.calls == calls, "a template hit must not call the LLM"
    assert second.stage == "succeeded" and second.source == "template"
    assert second.usage.calls == 0
    assert second.plan is not None and second.plan.steps[0].args["path"] == "coffee.txt"
    workspace = Path(goals.settings.workspace_dir)
    assert (workspace / "coffee.txt").read_text() == "Coffee keeps me awake"


async def test_template_whose_tool_changed_is_not_reused(
        client: Client, llm_settings: Settings, scripted_llm: ScriptedLLM) -> None:
    scripted_llm.expect(reply_json(TEA_PLAN))
    g = Goals(client, llm_settings, default_registry())
    async with g.worker:
        assert (await g.run(TEA_GOAL)).stage == "succeeded"

    def write_file(path: str, text: str, encoding: str = "utf-8") -> dict[str, Any]:
        """A write_file whose argument schema changed."""
        return {"path": path, "bytes": len(text.encode(encoding))}

    changed = default_registry()
    changed.register(tool_from_function(write_file, risk=Risk.SIDE_EFFECTING), replace=True)
    scripted_llm.expect(reply_json({**TEA_PLAN, "goal": "coffee", "steps": [
        {"id": "write", "tool": "write_file", "args": {"path": "coffee.txt", "text": "c"}}]}))
    g2 = Goals(client, llm_settings, changed)
    async with g2.worker:
        state = await g2.run(COFFEE_GOAL)
    assert state.source == "llm", "the stale template must not be reused"
    assert state.stage == "succeeded"


@pytest.mark.parametrize("broken_replies", [1, 2, 3], ids=["fixed-in-1", "fixed-in-2", "never"])
async def test_repair_rounds(goals: Goals, scripted_llm: ScriptedLLM,
                             broken_replies: int) -> None:
    for _ in range(broken_replies):
        scripted_llm.expect(reply_json(BROKEN_PLAN))
    if broken_replies <= 2:
        scripted_llm.expect(reply_json(TEA_PLAN), expects_text_in_messages="unknown_tool")
    state = await goals.run(TEA_GOAL)
    types = await goals.activity_types(goals.last_id)
    assert types.count("planner.draft") == 1
    if broken_replies <= 2:
        assert state.stage == "succeeded"
        assert state.repair_rounds == broken_replies
        assert types.count("planner.repair") == broken_replies
    else:
        assert state.stage == "invalid" and state.repair_rounds == 2
        assert [p.code for p in state.problems] == ["unknown_tool"]
        assert "did you mean 'write_file'" in state.problems[0].message
        assert "tool.write_fil" not in types and "tool.write_file" not in types
    assert state.usage.calls == min(broken_replies + 1, 3)


@pytest.mark.parametrize("mode", ["tools", "json"])
async def test_structured_output_modes(client: Client, llm_settings: Settings,
                                       scripted_llm: ScriptedLLM, mode: str) -> None:
    settings = llm_settings.model_copy(update={"llm_structured_mode": mode})
    if mode == "tools":
        scripted_llm.expect(reply_tool_call("plan", TEA_PLAN), expects_tools=True)
    else:
        fenced = "Here is the plan:\n```json\n" + json.dumps(TEA_PLAN) + "\n```"
        scripted_llm.expect(reply_text(fenced), expects_response_format="json_object")
    g = Goals(client, settings, default_registry())
    async with g.worker:
        state = await g.run(TEA_GOAL)
    assert state.stage == "succeeded", state.message
    if mode == "json":
        assert any("fence" in fix for fix in state.fixes), state.fixes


async def test_rate_limit_retry_after_then_success(goals: Goals,
                                                   scripted_llm: ScriptedLLM) -> None:
    scripted_llm.expect(reply_error(429, headers={"retry-after": "1"}))
    scripted_llm.expect(reply_json(TEA_PLAN))
    state = await goals.run(TEA_GOAL)
    assert state.stage == "succeeded"
    history = await goals.client.handle(goals.last_id).fetch_history()
    scheduled = {e.event_id: e.activity_task_scheduled_event_attributes.activity_type.name
                 for e in history.events if e.HasField("activity_task_scheduled_event_attributes")}
    draft = [e.activity_task_started_event_attributes for e in history.events
             if e.HasField("activity_task_started_event_attributes")
             and scheduled[e.activity_task_started_event_attributes.scheduled_event_id]
             == "planner.draft"]
    assert len(draft) == 1 and draft[0].attempt == 2, "planner.draft's 2nd attempt won"
    assert "RateLimited" in draft[0].last_failure.message
    assert state.usage.calls == 1


async def test_auth_error_fails_fast(goals: Goals, scripted_llm: ScriptedLLM) -> None:
    scripted_llm.expect(reply_error(401, message="Incorrect API key provided"))
    state = await goals.run(TEA_GOAL)
    assert state.stage == "failed"
    assert "AuthenticationFailed" in state.message and "JARVIS_LLM_API_KEY" in state.message
    assert scripted_llm.calls == 1


async def test_approval_gate(goals: Goals, scripted_llm: ScriptedLLM) -> None:
    scripted_llm.expect(reply_json(TEA_PLAN))
    goal_id = await goals.client.submit(TEA_GOAL, policy="auto-read-only")
    waiting = await goals.client.wait_for_review(goal_id)
    assert waiting.stage == "awaiting_approval" and waiting.risks == {"write": "side-effecting"}
    assert not (Path(goals.settings.workspace_dir) / "tea.txt").exists()
    await goals.client.approve(goal_id, waiting.plan_digest or "", by="alice", note="fine")
    done = await goals.client.result(goal_id)
    assert done.stage == "succeeded"
    assert [(d.action, d.by) for d in done.decisions] == [("approve", "alice")]
    with pytest.raises(DecisionRefused, match="not awaiting approval"):
        await goals.client.reject(goal_id, by="bob")


async def test_rejection_runs_nothing(goals: Goals, scripted_llm: ScriptedLLM) -> None:
    scripted_llm.expect(reply_json(TEA_PLAN))
    goal_id = await goals.client.submit(TEA_GOAL, policy="auto-read-only")
    await goals.client.wait_for_review(goal_id)
    await goals.client.reject(goal_id, by="bob", reason="no tea today")
    done = await goals.client.result(goal_id)
    assert done.stage == "rejected" and "no tea today" in done.message
    assert done.run is None
    assert not (Path(goals.settings.workspace_dir) / "tea.txt").exists()


async def test_llm_step_and_token_usage(goals: Goals, scripted_llm: ScriptedLLM) -> None:
    plan = {"goal": "summarize and save", "steps": [
        {"id": "sum", "tool": "llm", "args": {"task": "summarize", "input": "Long text. " * 20}},
        {"id": "save", "tool": "write_file", "args": {"path": "s.txt", "text": "${sum.text}"}}],
        "outputs": {"summary": "${sum.text}"}}
    scripted_llm.expect(reply_json(plan, prompt_tokens=100, completion_tokens=50))
    scripted_llm.expect(reply_text("A short summary.", prompt_tokens=20, completion_tokens=5),
                        expects_text_in_messages="Summarize the input")
    state = await goals.run("Summarize my text and save it")
    assert state.stage == "succeeded", state.message
    assert state.run is not None and state.run.outputs == {"summary": "A short summary."}
    assert state.usage.total_tokens == 175 and state.usage.calls == 2
    assert "tool.llm" in await goals.activity_types(goals.last_id)


async def test_offline_template_goal_runs_and_other_goals_explain(
        client: Client, settings: Settings) -> None:
    offline = settings.model_copy(update={"embedding_backend": "hashing"})
    assert not offline.llm_configured
    g = Goals(client, offline, default_registry())
    async with g.worker:
        state = await g.run("remember that the car needs new tyres in March")
        assert state.stage == "succeeded" and state.source == "template"
        other = await g.run("book me a table for two at an Italian restaurant")
    assert other.stage == "failed"
    assert "no LLM endpoint is configured" in other.message
    assert "JARVIS_LLM_BASE_URL" in other.message
    # says whose settings these are, and how to change them for the embedded stack
    assert f"worker pid {os.getpid()}" in other.message
    assert "jarvis config set llm_base_url" in other.message
    assert "jarvis up --restart" in other.message
    notes = (offline.data_dir / "notes.jsonl").read_text()
    assert "the car needs new tyres in March" in notes
