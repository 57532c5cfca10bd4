"""Operating goals: search attributes the stock CLI can query, the pending list as one visibility
query, LLM cost from the price table, and budgets that stop a goal before the call or step that
would cross them."""

from __future__ import annotations

import asyncio
import json
import subprocess
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from temporalio.client import Client

from activities import default_registry
from activities.memory.seed import open_store
from agents import search_attributes
from agents.client import JarvisClient
from agents.connection import connect
from agents.devserver import free_port, serving, stop_process, temporal_binary
from agents.worker import create_worker
from jarvis_planner.testing import ScriptedLLM, reply_json
from planner.contracts.names import SEARCH_ATTRIBUTES
from planner.plan import PlanBudget
from planner.pricing import ModelPrice
from planner.settings import Settings
from tests.processes import wait_until

TEA = "Save the line Green tea is calming to tea.txt"
WRITE_THEN_READ: dict[str, Any] = {
    "goal": TEA,
    "steps": [{"id": "write", "tool": "write_file",
               "args": {"path": "tea.txt", "text": "Green tea is calming"}},
              {"id": "check", "tool": "read_file", "args": {"path": "${write.path}"}}],
    "outputs": {"text": "${check.text}"},
}
READ_MISSING: dict[str, Any] = {
    "goal": "Read the file nope.txt",
    "steps": [{"id": "read", "tool": "read_file", "args": {"path": "nope.txt"}}],
}
BROKEN: dict[str, Any] = {**WRITE_THEN_READ, "steps": [
    {"id": "write", "tool": "write_fil", "args": {"path": "tea.txt", "text": "x"}}]}


@pytest.fixture
def priced(settings: Settings, scripted_llm: ScriptedLLM) -> Settings:
    # the scripted model at $1,000 per million tokens in and out: 340 tokens cost $0.34
    return settings.model_copy(update={
        "llm_base_url": scripted_llm.base_url, "llm_api_key": "scripted-key",
        "llm_model": scripted_llm.model, "llm_timeout_s": 10.0, "embedding_backend": "hashing",
        "llm_prices": {scripted_llm.model: ModelPrice(input=1000.0, output=1000.0)}})


@pytest.fixture
async def jarvis(client: Client, priced: Settings) -> AsyncIterator[JarvisClient]:
    async with create_worker(client, priced, default_registry()):
        yield JarvisClient(client, priced)


def temporal_list(address: str, query: str) -> list[str]:
    out = subprocess.run([temporal_binary(), "workflow", "list", "--address", address,
                          "--query", query, "--output", "json"],
                         capture_output=True, text=True, timeout=60, check=True)
    rows = json.loads(out.stdout or "[]")
    return sorted(r["execution"]["workflowId"] for r in rows)


async def listed(address: str, query: str, expected: list[str], timeout_s: float = 20) -> list[str]:
    """What the stock CLI lists for ``query``, once it lists ``expected`` (visibility lags)."""
    deadline = time.monotonic() + timeout_s
    while True:
        found = await asyncio.to_thread(temporal_list, address, query)
        if found == sorted(expected) or time.monotonic() > deadline:
            return found
        await asyncio.sleep(0.2)


async def test_failed_goals_are_found_as_failed_by_the_stock_cli(
        jarvis: JarvisClient, scripted_llm: ScriptedLLM, temporal_address: str,
        task_queue: str) -> None:
    assert await jarvis.indexed(), "the test server registers the Jarvis search attributes"
    scripted_llm.expect(reply_json(WRITE_THEN_READ, prompt_tokens=300, completion_tokens=40))
    scripted_llm.expect(reply_json(READ_MISSING, prompt_tokens=300, completion_tokens=40))
    ok = await jarvis.submit(TEA, yes=True)
    assert (await jarvis.result(ok)).stage == "succeeded"
    bad = await jarvis.submit("Read the file nope.txt", yes=True)
    failed = await jarvis.result(bad)
    assert failed.stage == "failed"
    mine = f'TaskQueue="{task_queue}"'
    assert await listed(temporal_address, f'JarvisStage="failed" AND {mine}', [bad]) == [bad]
    assert await listed(temporal_address, f'JarvisStage="succeeded" AND {mine}', [ok]) == [ok]
    assert await listed(temporal_address, f'JarvisSource="llm" AND {mine}', [ok, bad]) == sorted(
        [ok, bad])
    assert await listed(temporal_address, f'JarvisRisk="side-effecting" AND {mine}', [ok]) == [ok]
    # each goal's LLM cost, from the price table: 340 tokens at $1,000 per million
    assert (await jarvis.result(ok)).usage.cost_usd == pytest.approx(0.34)
    assert await listed(temporal_address, f"JarvisCost > 0.33 AND {mine}", [ok, bad]) == sorted(
        [ok, bad])


async def test_the_pending_list_comes_from_the_index_without_a_worker(
        client: Client, priced: Settings, scripted_llm: ScriptedLLM) -> None:
    scripted_llm.expect(reply_json(WRITE_THEN_READ))
    async with create_worker(client, priced, default_registry()):
        jarvis = JarvisClient(client, priced)
        waiting = await jarvis.submit(TEA, policy="always-ask")
        assert (await jarvis.wait_for_review(waiting)).stage == "awaiting_approval"
    # no worker answers queries now: the stage comes from the index, not from asking the goal
    deadline = time.monotonic() + 20
    while True:
        pending = {s.id: s.stage for s in await jarvis.list(pending=True, limit=200)}
        if waiting in pending or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.2)
    assert pending.get(waiting) == "awaiting_approval"
    await jarvis.cancel(waiting)


async def test_a_goal_stops_before_the_llm_call_over_its_budget(
        jarvis: JarvisClient, scripted_llm: ScriptedLLM) -> None:
    # one call allowed: the broken draft would need a repair call, which is never made (the
    # scripted server fails the test on any call it was not given)
    scripted_llm.expect(reply_json(BROKEN))
    goal_id = await jarvis.submit(TEA, yes=True, budget=PlanBudget(max_llm_calls=1))
    final = await jarvis.result(goal_id)
    assert final.stage == "over_budget"
    assert "the next LLM call would be call 2; the budget is 1" in final.message
    assert "nothing was run" in final.message
    assert final.usage.calls == 1 and final.run is None


async def test_a_plan_can_tighten_the_budget_and_the_run_stops_before_the_step_over_it(
        jarvis: JarvisClient, scripted_llm: ScriptedLLM, priced: Settings) -> None:
    # the plan asks for one step at most and for more LLM calls than the goal allows
    plan = {**WRITE_THEN_READ, "budget": {"max_steps": 1, "max_llm_calls": 50}}
    scripted_llm.expect(reply_json(plan))
    goal_id = await jarvis.submit(TEA, yes=True, budget=PlanBudget(max_llm_calls=3))
    final = await jarvis.result(goal_id)
    assert final.budget == PlanBudget(max_steps=1, max_llm_calls=3)
    assert final.stage == "over_budget", final.message
    assert "the next step would be step 2; the budget is 1" in final.message
    assert final.message.endswith("left undone: check")
    assert final.run is not None
    assert [s.status.value for s in final.run.steps] == ["succeeded", "failed"]
    assert (priced.workspace_dir / "tea.txt").read_text() == "Green tea is calming"


async def test_llm_cost_stops_a_goal_before_its_first_step(
        jarvis: JarvisClient, scripted_llm: ScriptedLLM, priced: Settings) -> None:
    scripted_llm.expect(reply_json(WRITE_THEN_READ, prompt_tokens=300, completion_tokens=40))
    goal_id = await jarvis.submit(TEA, yes=True, budget=PlanBudget(max_cost_usd=0.3))
    final = await jarvis.result(goal_id)
    assert final.stage == "over_budget"
    assert "the budget of 0.3 US dollars of LLM cost is spent (0.34)" in final.message
    assert "left undone: write, check" in final.message
    assert not (priced.workspace_dir / "tea.txt").exists()


async def test_the_review_shows_an_estimate_and_the_goal_its_actual_cost(
        jarvis: JarvisClient, scripted_llm: ScriptedLLM, priced: Settings) -> None:
    plan = {"goal": "Summarise a line", "steps": [
        {"id": "sum", "tool": "llm", "args": {"task": "summarize", "input": "Tea is calming"}}],
        "outputs": {"summary": "${sum.text}"}}
    scripted_llm.expect(reply_json(plan, prompt_tokens=300, completion_tokens=40))
    goal_id = await jarvis.submit("Summarise a line", policy="always-ask")
    waiting = await jarvis.wait_for_review(goal_id)
    # planning so far ($0.34) plus one llm step at a typical 1,500 + 500 tokens ($2.00)
    assert waiting.usage.cost_usd == pytest.approx(0.34)
    assert waiting.estimate_usd == pytest.approx(2.34)
    scripted_llm.expect(reply_json({"text": "calm"}, prompt_tokens=100, completion_tokens=10))
    await jarvis.approve(goal_id, waiting.plan_digest or "", by="test")
    final = await jarvis.result(goal_id)
    assert final.stage == "succeeded", final.message
    assert final.usage.cost_usd == pytest.approx(0.34 + 0.11)  # the step's real 110 tokens
    # the template this goal became keeps what its runs cost
    store = open_store(priced, default_registry())
    kept = [h for h in store.list() if h.goal == "Summarise a line"]
    assert [h.avg_cost_usd for h in kept] == [pytest.approx(0.45)]
    # the same goal again reuses that template: its estimate is the template's cost per run,
    # not a typical call per llm step ($2.00), and no planning was spent
    again = await jarvis.submit("Summarise a line", policy="always-ask")
    reused = await jarvis.wait_for_review(again)
    assert reused.source == "template" and reused.usage.cost_usd == 0, reused.message
    assert reused.estimate_usd == pytest.approx(0.45)
    await jarvis.reject(again, by="test", reason="estimated only")


async def test_a_namespace_without_the_attributes_gets_them_from_the_worker(
        tmp_path: Path) -> None:
    """A production namespace starts without them: goals run unindexed (an upsert of an unknown
    attribute would fail their tasks) until the worker registers them at start."""
    port = free_port()
    bare = subprocess.Popen(  # a dev server started by hand, without --search-attribute
        [temporal_binary(), "server", "start-dev", "--headless", "--ip", "127.0.0.1",
         "--port", str(port), "--db-filename", str(tmp_path / "t.sqlite"), "--log-level",
         "error"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        await wait_until(lambda: serving(f"127.0.0.1:{port}"), 60, "the bare dev server")
        client = await connect(f"127.0.0.1:{port}")
        assert set(await search_attributes.missing(client)) == set(SEARCH_ATTRIBUTES)
        assert not await JarvisClient(client, Settings(data_dir=tmp_path)).indexed()
        assert set(await search_attributes.register(client)) == set(SEARCH_ATTRIBUTES)
        assert await search_attributes.missing(client) == []
        assert await search_attributes.register(client) == []  # idempotent
        assert await JarvisClient(client, Settings(data_dir=tmp_path)).indexed()
    finally:
        stop_process(bare)
