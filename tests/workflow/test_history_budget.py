"""History budget: plans of thousands of steps continue as new before Temporal's limits, keep
their state and their id, and run every step exactly once (agents/history_budget.py)."""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer

from activities import default_registry
from agents.client import JarvisClient
from agents.following import watch
from agents.goal_workflow import GoalWorkflow
from agents.history_budget import RESERVE
from agents.plan_workflow import ExecutePlanWorkflow
from agents.worker import create_worker
from jarvis_planner.testing import ScriptedLLM, reply_json
from planner.contracts.events import Event, GoalEventPage, RunEventPage
from planner.contracts.goal_flow import GoalState
from planner.contracts.plan_run import RunState
from planner.plan import Plan
from planner.preparation import prepare
from planner.scheduler import StepStatus
from planner.settings import Settings
from planner.tools import ToolRegistry, tool_from_function

LIMIT = 2_000  # history events per run in the plan test (the default is 10,000)
CHAINS, LENGTH = 20, 100  # 2,000 steps + the total
GOAL_LIMIT, GOAL_CHAINS, GOAL_LENGTH = 600, 10, 60  # the goal test: 600 steps + the total
CALLS: dict[str, Path] = {}  # test name -> the file each tick call appends a line to


def tick(log: str, chain: int, n: int) -> dict[str, int]:
    """A cheap step that counts its calls: one line per call in ``CALLS[log]``."""
    with CALLS[log].open("a") as f:
        f.write(f"{chain}:{n}\n")
    return {"n": n + 1}


def big_plan(log: str, chains: int = CHAINS, length: int = LENGTH) -> dict[str, Any]:
    steps: list[dict[str, Any]] = []
    for c in range(chains):
        for i in range(length):
            n: Any = f"${{c{c}_{i - 1}.n}}" if i else 0
            steps.append({"id": f"c{c}_{i}", "tool": "tick",
                          "args": {"log": log, "chain": c, "n": n}})
    names = [f"e{c}" for c in range(chains)]
    steps.append({"id": "total", "tool": "calc", "args": {
        "expression": " + ".join(names),
        "variables": {f"e{c}": f"${{c{c}_{length - 1}.n}}" for c in range(chains)}}})
    return {"goal": f"count {chains} chains of {length}", "steps": steps,
            "outputs": {"total": "${total.value}"}}


@pytest.fixture
def calls(tmp_path: Path, request: pytest.FixtureRequest) -> tuple[str, Path]:
    name = request.node.name
    CALLS[name] = tmp_path / "calls.txt"
    return name, CALLS[name]


@pytest.fixture
def registry() -> ToolRegistry:
    registry = default_registry()
    registry.register(tool_from_function(tick))
    return registry


@pytest.fixture
def small_budget(settings: Settings) -> Settings:
    return settings.model_copy(update={"history_events_limit": LIMIT, "budget_steps": 5_000,
                                            "plan_max_steps": 5_000})


async def follow(client: Client, workflow_id: str, page: type[Any]) -> list[Event]:
    events: list[Event] = []
    async for p in watch(client.get_workflow_handle(workflow_id), page, poll_s=0.05):
        events.extend(p.events)
    return events


async def check_chain(client: Client, workflow_id: str, calls: Path, events: list[Event],
                      steps: list[Any], limit: int = LIMIT) -> None:
    """Continued as new, every run's history under the budget, every step run once, the
    follower saw every event once and in order."""
    runs = [r async for r in client.list_workflows(f'WorkflowId="{workflow_id}"')]
    assert len(runs) >= 3, f"expected several continue-as-new runs, got {len(runs)}"
    assert sum(r.status is not None and r.status.name == "CONTINUED_AS_NEW" for r in runs) \
        == len(runs) - 1
    replayer = Replayer(workflows=[ExecutePlanWorkflow, GoalWorkflow],
                        data_converter=pydantic_data_converter)
    for i, r in enumerate(runs):
        history = await client.get_workflow_handle(workflow_id, run_id=r.run_id).fetch_history()
        assert len(history.events) <= limit + RESERVE, (r.run_id, len(history.events))
        if i in (0, 1, len(runs) - 1):  # the last, a resumed one that went on, the first
            replay = await replayer.replay_workflow(history, raise_on_replay_failure=False)
            assert replay.replay_failure is None, f"run {r.run_id}: {replay.replay_failure}"
    counted = Counter(calls.read_text().splitlines())
    assert len(counted) == len(steps) - 1 and set(counted.values()) == {1}, \
        "every step must run exactly once"
    assert all(s.status is StepStatus.SUCCEEDED and s.attempts == 1 for s in steps)
    seqs = [e.seq for e in events]
    assert seqs == list(range(1, len(seqs) + 1)), "the follower saw a gap or a duplicate"
    step_events = [(e.step_id, e.status) for e in events if e.kind == "step"]
    assert len(step_events) == len(set(step_events)) == 2 * len(steps)
    assert events[-1].kind == "done"


async def test_a_plan_of_thousands_of_steps_continues_as_new(
        client: Client, small_budget: Settings, registry: ToolRegistry,
        calls: tuple[str, Path]) -> None:
    name, path = calls
    inp = prepare(Plan.model_validate(big_plan(name)), registry, small_budget)
    assert inp.history_events_limit == LIMIT
    engine = JarvisClient(client, small_budget)
    async with create_worker(client, small_budget, registry):
        run_id = await engine.start_plan(inp)
        follower = asyncio.ensure_future(follow(client, run_id, RunEventPage))
        state = await engine.plan_result(run_id)  # the result follows the run chain
        events = await follower
        queried = await engine.plan_state(run_id)
    assert state.status == "succeeded", state.failure_report()
    assert state.outputs == {"total": CHAINS * LENGTH}
    assert isinstance(queried, RunState) and queried.outputs == state.outputs
    await check_chain(client, run_id, path, events, state.steps)
    assert [e.stage for e in events if e.kind == "stage"] == ["running", "succeeded"]


async def test_a_goal_with_a_long_plan_keeps_its_state_across_runs(
        client: Client, small_budget: Settings, registry: ToolRegistry,
        scripted_llm: ScriptedLLM, calls: tuple[str, Path]) -> None:
    name, path = calls
    settings = small_budget.model_copy(update={"history_events_limit": GOAL_LIMIT,
        "llm_base_url": scripted_llm.base_url, "llm_api_key": "scripted-key",
        "llm_model": scripted_llm.model, "llm_timeout_s": 10.0, "embedding_backend": "hashing"})
    plan = big_plan(name, GOAL_CHAINS, GOAL_LENGTH)
    scripted_llm.expect(reply_json(plan, prompt_tokens=300, completion_tokens=40))
    engine = JarvisClient(client, settings)
    async with create_worker(client, settings, registry):
        goal_id = await engine.submit("count many chains", policy="approve-all")
        follower = asyncio.ensure_future(follow(client, goal_id, GoalEventPage))
        state = await engine.result(goal_id)
        events = await follower
        queried = await engine.state(goal_id)  # the state query, on the latest run
    assert isinstance(state, GoalState)
    assert state.stage == "succeeded", state.message
    assert state.run is not None
    assert state.run.outputs == {"total": GOAL_CHAINS * GOAL_LENGTH}
    assert state.usage.total_tokens == 340, "the planning usage survives continue-as-new"
    assert [d.action for d in state.decisions] == ["approve"]
    assert queried.stage == "succeeded" and queried.run is not None
    assert queried.run.outputs == state.run.outputs
    await check_chain(client, goal_id, path, events, state.run.steps, GOAL_LIMIT)
    stages = [e.stage for e in events if e.kind == "stage"]
    assert stages[-3:] == ["succeeded", "remembering", "succeeded"], stages
    assert stages.count("executing") == 1
