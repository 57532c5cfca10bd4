"""Read-only local steps that start at the same moment run together in one local activity
(agents/plan_runner.py ``_in_group``, activities/local_group.py), concurrently, with the same
results and failures as one local activity each and as the simple engine: a failure no retry
would change fails the step from the group; one a retry may fix, or a timeout, is the step's
first attempt, and it runs the attempts left on its own; the worker's registry decides what runs
there; a replay gives the same run."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from temporalio.client import Client

from activities import default_registry
from activities.errors import ToolError, ToolInputError
from activities.execution import tool_runtime
from agents.client import JarvisClient
from agents.following import watch
from agents.simple_engine import SimpleWorkflowEngine
from agents.worker import create_worker
from planner.contracts.events import RunEventPage
from planner.contracts.plan_run import RunState
from planner.plan import Plan
from planner.preparation import prepare
from planner.scheduler import StepStatus
from planner.settings import Settings
from planner.tools import ToolRegistry, tool_from_function
from tests.plan_outcomes import outcome, run_replayed

CALLS: list[str] = []  # the tools' calls in this process, in order
FLAKY: dict[str, int] = {}


async def add(n: int, k: int = 1) -> int:
    """``n + k`` (read-only, local)."""
    CALLS.append(f"add {n}")
    return n + k


async def nap(seconds: float, n: int = 0) -> int:
    """Sleep, then return ``n``."""
    CALLS.append(f"nap {n}")
    await asyncio.sleep(seconds)
    return n


async def pick(items: list[int], at: int) -> int:
    """``items[at]``; an index out of range is refused (not retried)."""
    CALLS.append(f"pick {at}")
    if not 0 <= at < len(items):
        raise ToolInputError(f"no item {at} among {len(items)}")
    return items[at]


async def shaky(key: str) -> dict[str, Any]:
    """Fails once per key with an error a retry may fix, then answers."""
    CALLS.append(f"shaky {key}")
    FLAKY[key] = FLAKY.get(key, 0) + 1
    if FLAKY[key] == 1:
        raise ToolError("a transient failure")
    return {"key": key, "calls": FLAKY[key]}


@pytest.fixture
def registry() -> ToolRegistry:
    registry = default_registry()
    for fn in (add, nap, pick, shaky):
        registry.register(tool_from_function(fn, timeout_s=10))
    CALLS.clear()
    FLAKY.clear()
    return registry


def ungrouped(settings: Settings) -> Settings:
    return settings.model_copy(update={"local_groups": False})


async def same_without_groups(client: Client, settings: Settings, registry: ToolRegistry,
                              plan: Plan, grouped: RunState) -> list[str]:
    """Run ``plan`` again with groups off (the tools' records reset): it must come to what the
    grouped run came to. The activities it ran."""
    CALLS.clear()
    FLAKY.clear()
    alone, ran = await run_replayed(client, ungrouped(settings), registry,
                                    prepare(plan, registry, ungrouped(settings)))
    assert outcome(alone) == outcome(grouped)
    return ran


def fan(*members: dict[str, Any]) -> Plan:
    """``a``, then ``members`` in parallel (each needs ``a``), then a join of all of them."""
    return Plan.model_validate({"goal": "fan out", "steps": [
        {"id": "a", "tool": "add", "args": {"n": 0}},
        *({**m, "deps": ["a"]} for m in members),
        {"id": "join", "tool": "add", "args": {"n": 1}, "deps": [m["id"] for m in members]},
    ], "outputs": {m["id"]: f"${{{m['id']}}}" for m in members}})


NAPS = fan(*({"id": f"x{k}", "tool": "nap", "args": {"seconds": 0.2, "n": k}}
             for k in range(3)))


async def test_parallel_local_steps_run_together_with_the_same_results(
        client: Client, settings: Settings, registry: ToolRegistry) -> None:
    inp = prepare(NAPS, registry, settings)
    assert inp.local_groups
    state, ran = await run_replayed(client, settings, registry, inp)
    assert state.status == "succeeded", state.failure_report()
    assert ran == ["tool.add", "planner.local_group"], "the join follows in the group"
    assert state.outputs == {"x0": 0, "x1": 1, "x2": 2}
    naps = [state.step(f"x{k}") for k in range(3)]
    assert all(s.attempts == 1 and s.worker and not s.inline for s in naps)
    assert max(s.started_at or 0 for s in naps) < min(s.finished_at or 0 for s in naps), \
        "the three overlap"

    ran_alone = await same_without_groups(client, settings, registry, NAPS, state)
    assert ran_alone == ["tool.add", "tool.nap", "tool.nap", "tool.nap", "tool.add"]
    simple = await SimpleWorkflowEngine(tool_runtime(settings, registry)).execute_plan(inp)
    assert outcome(simple) == outcome(state)


async def test_a_group_that_spent_the_chain_budget_leaves_its_join_on_its_own(
        client: Client, settings: Settings, registry: ToolRegistry) -> None:
    """The chain budget counts from the group's start: members that took longer than it
    leave the join to run in its own local activity, with the same results."""
    settings = settings.model_copy(update={"local_chain_s": 0.1})  # the naps take 0.2 s
    state, ran = await run_replayed(client, settings, registry,
                                    prepare(NAPS, registry, settings))
    assert state.status == "succeeded", state.failure_report()
    assert ran == ["tool.add", "planner.local_group", "tool.add"]
    assert state.outputs == {"x0": 0, "x1": 1, "x2": 2}


async def test_the_join_after_a_quick_group_runs_in_it_as_a_chain_link(
        client: Client, settings: Settings, registry: ToolRegistry) -> None:
    """The only step the group's success makes ready follows it in the same local activity, as
    a chain's link would, while the chain's time lasts; it is recorded after every member."""
    plan = Plan.model_validate({"goal": "fan out, then sum", "steps": [
        {"id": "a", "tool": "add", "args": {"n": 0}},
        *({"id": f"p{k}", "tool": "add", "args": {"n": "${a}", "k": k}} for k in range(3)),
        {"id": "sum", "tool": "add", "args": {"n": "${p1}", "k": "${p2}"}},
        {"id": "last", "tool": "add", "args": {"n": "${sum}", "k": 100}},
    ], "outputs": {"last": "${last}"}})
    inp = prepare(plan, registry, settings)
    state, ran = await run_replayed(client, settings, registry, inp)
    assert state.status == "succeeded", state.failure_report()
    assert ran == ["tool.add", "planner.local_group"], "p0-p2, then sum and last, in one"
    assert state.outputs == {"last": 105}
    engine = JarvisClient(client, settings)
    async with create_worker(client, settings, registry):  # the log, as a client reads it
        run_id = await engine.start_plan(inp)
        pages = [page async for page in watch(engine.handle(run_id), RunEventPage)]
    done = [e.step_id for page in pages for e in page.events if e.status == "succeeded"]
    assert done.index("sum") > max(done.index(f"p{k}") for k in range(3)), done
    assert all(state.step(s).attempts == 1 and state.step(s).worker for s in ("sum", "last"))
    ran_alone = await same_without_groups(client, settings, registry, plan, state)
    assert ran_alone == ["tool.add", "tool.add", "tool.add", "tool.add", "planner.local_chain"]


async def test_a_failure_no_retry_would_change_fails_the_step_from_the_group(
        client: Client, settings: Settings, registry: ToolRegistry) -> None:
    plan = fan({"id": "bad", "tool": "pick", "args": {"items": [1], "at": 5}},
               {"id": "ok", "tool": "nap", "args": {"seconds": 0.1, "n": 7}})
    state, ran = await run_replayed(client, settings, registry, prepare(plan, registry, settings))
    assert ran == ["tool.add", "planner.local_group"], "bad is not run again"
    assert CALLS.count("pick 5") == 1
    assert state.status == "failed"
    error = state.step("bad").error
    assert error is not None and (error.type, error.attempts) == ("ToolInputError", 1)
    assert error.message == "no item 5 among 1" and state.step("bad").worker
    assert state.step("join").status is StepStatus.BLOCKED
    await same_without_groups(client, settings, registry, plan, state)


async def test_a_failure_a_retry_may_fix_runs_the_rest_of_its_attempts_on_its_own(
        client: Client, settings: Settings, registry: ToolRegistry) -> None:
    plan = fan({"id": "s", "tool": "shaky", "args": {"key": "s"}},
               {"id": "n", "tool": "nap", "args": {"seconds": 0.05, "n": 3}})
    state, ran = await run_replayed(client, settings, registry, prepare(plan, registry, settings))
    assert state.status == "succeeded", state.failure_report()
    assert ran == ["tool.add", "planner.local_group", "tool.shaky", "tool.add"]
    assert state.outputs == {"s": {"key": "s", "calls": 2}, "n": 3}
    assert CALLS.count("shaky s") == 2, "once in the group, once on its own"
    assert state.step("s").attempts == 2, "the group's attempt counts"
    await same_without_groups(client, settings, registry, plan, state)


async def test_one_attempt_allowed_means_the_groups_attempt_is_the_last(
        client: Client, settings: Settings, registry: ToolRegistry) -> None:
    plan = fan({"id": "s", "tool": "shaky", "args": {"key": "once"},
                "retry": {"max_attempts": 1}},
               {"id": "slow", "tool": "nap", "args": {"seconds": 5, "n": 1}, "timeout_s": 0.3,
                "retry": {"max_attempts": 1}})
    state, ran = await run_replayed(client, settings, registry, prepare(plan, registry, settings))
    assert ran == ["tool.add", "planner.local_group"]
    assert CALLS.count("shaky once") == 1 and CALLS.count("nap 1") == 1
    errors = {k: state.step(k).error for k in ("s", "slow")}
    assert {k: (e.type, e.attempts) for k, e in errors.items() if e} == {
        "s": ("ToolError", 1), "slow": ("Timeout", 1)}
    await same_without_groups(client, settings, registry, plan, state)


async def test_a_member_that_times_out_with_attempts_left_runs_them_on_its_own(
        client: Client, settings: Settings, registry: ToolRegistry) -> None:
    plan = fan({"id": "slow", "tool": "nap", "args": {"seconds": 5, "n": 1}, "timeout_s": 0.3,
                "retry": {"max_attempts": 2, "initial_interval_s": 0.1}},
               {"id": "n", "tool": "nap", "args": {"seconds": 0.05, "n": 2}})
    state, ran = await run_replayed(client, settings, registry, prepare(plan, registry, settings))
    assert ran == ["tool.add", "planner.local_group", "tool.nap"]
    assert CALLS.count("nap 1") == 2, "once in the group, once on its own: two attempts"
    error = state.step("slow").error
    assert error is not None and (error.type, error.attempts) == ("Timeout", 2)
    assert state.step("n").status is StepStatus.SUCCEEDED
    await same_without_groups(client, settings, registry, plan, state)


async def test_the_workers_registry_decides_what_runs_in_a_group(
        client: Client, settings: Settings, registry: ToolRegistry) -> None:
    """An input that calls a tool with an effect read-only and local (forged, or prepared
    against another registry) does not get it run in a group: it runs on its own."""
    plan = fan({"id": "save", "tool": "write_file", "args": {"path": "forged.txt", "text": "x"}},
               {"id": "n", "tool": "nap", "args": {"seconds": 0.05, "n": 2}})
    inp = prepare(plan, registry, settings)
    inp.policies["save"] = inp.policies["save"].model_copy(update={
        "local": True, "risk": inp.policies["n"].risk, "compensation": None})
    state, ran = await run_replayed(client, settings, registry, inp)
    assert state.status == "succeeded", state.failure_report()
    assert ran == ["tool.add", "planner.local_group", "tool.write_file", "tool.add"]
    assert (settings.workspace_dir / "forged.txt").read_text() == "x"


async def test_a_group_takes_no_more_members_than_one_marker_holds(
        client: Client, settings: Settings, registry: ToolRegistry) -> None:
    """Each member's output may be as large as the payload limit and the results travel in one
    marker (Temporal refuses one past 2 MB): at a 400 kB limit a group takes two members, and
    the third step starting with them leads its own (here: alone, its own local activity)."""
    settings = settings.model_copy(update={"payload_inline_limit": 400_000})
    state, ran = await run_replayed(client, settings, registry, prepare(NAPS, registry, settings))
    assert state.status == "succeeded", state.failure_report()
    assert sorted(ran) == ["planner.local_group", "tool.add", "tool.add", "tool.nap"]
    assert state.outputs == {"x0": 0, "x1": 1, "x2": 2}


def test_groups_off_by_setting(settings: Settings, registry: ToolRegistry,
                               monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("JARVIS_LOCAL_GROUPS", "false")
    assert not prepare(NAPS, registry, Settings(data_dir=tmp_path)).local_groups
    assert not prepare(NAPS, registry, settings, local_chains=False).local_groups
