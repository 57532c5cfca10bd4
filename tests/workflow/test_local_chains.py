"""Chains of local steps run in one local activity (planner/chains.py, activities/local_chain.py)
with the same results and failures as one local activity per step and the simple engine; a link
that fails counts as its step's first attempt (the attempts left run on its own); the chain's
time and the goal's budget (steps, and tokens: a step that spent them ends its chain) bound it;
what settled meanwhile is not overwritten; a replay gives the same run."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from temporalio.client import Client

from activities import default_registry
from activities.errors import ToolInputError
from activities.execution import record_usage, tool_runtime
from agents.simple_engine import SimpleWorkflowEngine
from planner.contracts.plan_run import RunState
from planner.contracts.usage import Usage
from planner.plan import Plan, PlanBudget
from planner.preparation import prepare
from planner.scheduler import StepStatus
from planner.settings import Settings
from planner.tools import ToolRegistry, tool_from_function
from tests.plan_outcomes import outcome, run_replayed
from tests.plans import FLAKY_CALLS, flaky

CALLS: list[str] = []  # the tools' calls in this process, in order


async def add(n: int, k: int = 1) -> int:
    """``n + k`` (read-only, local)."""
    CALLS.append(f"add {n}")
    return n + k


async def as_text(n: int) -> str:
    """``n`` as text (read-only, local)."""
    CALLS.append(f"as_text {n}")
    return str(n)


async def pick(items: list[int], at: int) -> int:
    """``items[at]``; an index out of range is refused (not retried)."""
    CALLS.append(f"pick {at}")
    if not 0 <= at < len(items):
        raise ToolInputError(f"no item {at} among {len(items)}")
    return items[at]


async def think(n: int) -> int:
    """``n``, spending 100 LLM tokens as a tool that calls an LLM records them."""
    CALLS.append(f"think {n}")
    record_usage(Usage(prompt_tokens=60, completion_tokens=40, total_tokens=100, calls=1))
    return n


async def nap(seconds: float, n: int = 0) -> int:
    """Sleep, then return ``n``."""
    CALLS.append(f"nap {n}")
    await asyncio.sleep(seconds)
    return n


@pytest.fixture
def registry() -> ToolRegistry:
    registry = default_registry()
    for fn in (add, as_text, pick, nap, think, flaky):  # flaky: read-only and local here
        registry.register(tool_from_function(fn, timeout_s=10))
    CALLS.clear()
    FLAKY_CALLS.clear()
    return registry


async def same_unchained(client: Client, settings: Settings, registry: ToolRegistry,
                         plan: Plan, chained: RunState) -> None:
    """Run ``plan`` again with chains off (the tools' records reset): it must come to what
    the chained run came to, with the same attempts."""
    CALLS.clear()
    FLAKY_CALLS.clear()
    alone, _ = await run_replayed(client, unchained(settings), registry,
                                  prepare(plan, registry, unchained(settings)))
    assert outcome(alone) == outcome(chained)
    assert [s.attempts for s in alone.steps] == [s.attempts for s in chained.steps]


def unchained(settings: Settings) -> Settings:
    return settings.model_copy(update={"local_chain_s": 0.0})


CHAIN = Plan.model_validate({"goal": "a chain of local steps", "steps": [
    {"id": "a", "tool": "add", "args": {"n": 1}},
    {"id": "b", "tool": "add", "args": {"n": "${a}", "k": 10}},
    {"id": "t", "tool": "as_text", "args": {"n": "${b}"}},
    {"id": "c", "tool": "add", "args": {"n": "${t}"}},
    {"id": "save", "tool": "write_file", "args": {"path": "chain.txt", "text": "${c}"}},
    {"id": "d", "tool": "add", "args": {"n": "${c}", "k": 100}, "deps": ["save"]},
    {"id": "e", "tool": "add", "args": {"n": "${d}"}},
], "outputs": {"last": "${e}", "path": "${save.path}"}})


async def test_a_chain_runs_in_one_local_activity_with_the_same_results(
        client: Client, settings: Settings, registry: ToolRegistry) -> None:
    inp = prepare(CHAIN, registry, settings)
    assert inp.local_chain_s == settings.local_chain_s > 0
    state, ran = await run_replayed(client, settings, registry, inp)
    assert state.status == "succeeded", state.failure_report()
    assert state.outputs == {"last": 114, "path": "chain.txt"}
    assert ran == ["planner.local_chain", "tool.write_file", "planner.local_chain"], \
        "a, b, t, c in one local activity; c has two dependants (save, d); then d, e"
    assert (settings.workspace_dir / "chain.txt").read_text() == "13"
    assert state.step("c").conversions == ['n: ${t} = "12" (text, parsed as a whole number)']
    assert CALLS == ["add 1", "add 2", "as_text 12", "add 12", "add 13", "add 113"]
    steps = [state.step(s) for s in ("a", "b", "t", "c")]
    assert all(s.attempts == 1 and s.worker and not s.inline for s in steps)
    times = [t for s in steps for t in (s.started_at, s.finished_at)]
    assert all(t is not None for t in times) and times == sorted(times), \
        "each link starts after the step before it finished"

    CALLS.clear()
    (settings.workspace_dir / "chain.txt").unlink()
    alone, ran_alone = await run_replayed(client, unchained(settings), registry,
                                 prepare(CHAIN, registry, unchained(settings)))
    assert ran_alone == ["tool.add", "tool.add", "tool.as_text", "tool.add", "tool.write_file",
                         "tool.add", "tool.add"]
    assert outcome(alone) == outcome(state)
    simple = await SimpleWorkflowEngine(tool_runtime(settings, registry)).execute_plan(inp)
    assert outcome(simple) == outcome(state)


FAILING_LINK = Plan.model_validate({"goal": "a failing link", "steps": [
    {"id": "a", "tool": "add", "args": {"n": 5}},
    {"id": "p", "tool": "pick", "args": {"items": [1, 2], "at": "${a}"}},
    {"id": "after", "tool": "add", "args": {"n": "${p}"}},
]})


async def test_a_link_failure_no_retry_would_change_fails_its_step_from_the_chain(
        client: Client, settings: Settings, registry: ToolRegistry) -> None:
    inp = prepare(FAILING_LINK, registry, settings)
    assert inp.link_attempts
    state, ran = await run_replayed(client, settings, registry, inp)
    assert ran == ["planner.local_chain"], "p is not run again"
    assert CALLS == ["add 5", "pick 6"]
    assert state.status == "failed"
    error = state.step("p").error
    assert error is not None and (error.type, error.attempts) == ("ToolInputError", 1)
    assert error.message == "no item 6 among 2" and state.step("p").worker
    assert state.step("after").status is StepStatus.BLOCKED
    await same_unchained(client, settings, registry, FAILING_LINK, state)


async def test_inputs_recorded_before_link_attempts_run_a_failed_link_again(
        client: Client, settings: Settings, registry: ToolRegistry) -> None:
    """An input from before ``link_attempts`` (False) keeps what its runs did: the link runs
    again on its own, with its whole retry policy, and fails the same way."""
    inp = prepare(FAILING_LINK, registry, settings).model_copy(update={"link_attempts": False})
    state, ran = await run_replayed(client, settings, registry, inp)
    assert ran == ["planner.local_chain", "planner.local_chain"], \
        "p runs again as the lead of its own chain (p, after), and fails it"
    assert CALLS == ["add 5", "pick 6", "pick 6"], "once in the chain, once on its own"
    error = state.step("p").error
    assert error is not None and (error.type, error.attempts) == ("ToolInputError", 1)


async def test_a_link_failure_a_retry_may_fix_runs_the_attempts_left_on_its_own(
        client: Client, settings: Settings, registry: ToolRegistry) -> None:
    plan = Plan.model_validate({"goal": "a shaky link", "steps": [
        {"id": "a", "tool": "add", "args": {"n": 1}},
        {"id": "s", "tool": "flaky", "args": {"key": "k${a}", "failures": 1}},
        {"id": "after", "tool": "add", "args": {"n": "${s.calls}"}},
    ], "outputs": {"s": "${s}", "after": "${after}"}})
    state, ran = await run_replayed(client, settings, registry, prepare(plan, registry, settings))
    assert state.status == "succeeded", state.failure_report()
    assert ran == ["planner.local_chain", "planner.local_chain"], \
        "s's second attempt leads a chain of its own (s, after)"
    assert CALLS == ["add 1", "add 2"] and FLAKY_CALLS == {"k2": 2}
    assert state.outputs == {"s": {"key": "k2", "calls": 2}, "after": 3}
    assert state.step("s").attempts == 2, "the chain's attempt counts"
    await same_unchained(client, settings, registry, plan, state)


async def test_one_attempt_allowed_means_the_chains_attempt_is_the_last(
        client: Client, settings: Settings, registry: ToolRegistry) -> None:
    plan = Plan.model_validate({"goal": "links with one attempt", "steps": [
        {"id": "a", "tool": "add", "args": {"n": 1}},
        {"id": "s", "tool": "flaky", "args": {"key": "once", "failures": 1}, "deps": ["a"],
         "retry": {"max_attempts": 1}},
    ]})
    state, ran = await run_replayed(client, settings, registry, prepare(plan, registry, settings))
    assert ran == ["planner.local_chain"]
    assert CALLS == ["add 1"] and FLAKY_CALLS == {"once": 1}
    error = state.step("s").error
    assert error is not None and (error.type, error.attempts) == ("ToolError", 1)
    await same_unchained(client, settings, registry, plan, state)


async def test_a_link_that_times_out_with_attempts_left_runs_them_on_its_own(
        client: Client, settings: Settings, registry: ToolRegistry) -> None:
    plan = Plan.model_validate({"goal": "a slow link", "steps": [
        {"id": "a", "tool": "add", "args": {"n": 1}},
        {"id": "slow", "tool": "nap", "args": {"seconds": 5, "n": "${a}"}, "timeout_s": 0.3,
         "retry": {"max_attempts": 2, "initial_interval_s": 0.1}},
    ]})
    state, ran = await run_replayed(client, settings, registry, prepare(plan, registry, settings))
    assert ran == ["planner.local_chain", "tool.nap"]
    assert CALLS == ["add 1", "nap 2", "nap 2"], "once in the chain, once on its own"
    error = state.step("slow").error
    assert error is not None and (error.type, error.attempts) == ("Timeout", 2)
    await same_unchained(client, settings, registry, plan, state)


async def test_the_chains_time_bounds_how_many_steps_share_an_activity(
        client: Client, settings: Settings, registry: ToolRegistry) -> None:
    plan = Plan.model_validate({"goal": "naps", "steps": [
        {"id": f"n{k}", "tool": "nap", "args": {"seconds": 0.03, "n": k},
         **({"deps": [f"n{k - 1}"]} if k else {})} for k in range(6)]})
    settings = settings.model_copy(update={"local_chain_s": 0.05})
    state, ran = await run_replayed(client, settings, registry, prepare(plan, registry, settings))
    assert state.status == "succeeded"
    assert [f"nap {k}" for k in range(6)] == CALLS
    assert "planner.local_chain" in ran
    assert len(ran) >= 3, f"two naps of 0.03 s pass a chain time of 0.05 s: {ran}"


async def test_a_step_budget_stops_links_where_it_would_stop_steps(
        client: Client, settings: Settings, registry: ToolRegistry) -> None:
    plan = Plan.model_validate({"goal": "five adds", "steps": [
        {"id": f"s{k}", "tool": "add", "args": {"n": f"${{s{k - 1}}}" if k else 0}}
        for k in range(5)]})
    outcomes = []
    for each in (settings, unchained(settings)):
        inp = prepare(plan, registry, each).model_copy(update={"budget": PlanBudget(max_steps=3)})
        CALLS.clear()
        state, _ = await run_replayed(client, each, registry, inp)
        assert CALLS == ["add 0", "add 1", "add 2"]
        outcomes.append(outcome(state))
    assert outcomes[0] == outcomes[1]
    assert outcomes[0]["steps"]["s3"][4] == "OverBudget"  # type: ignore[index]


async def test_a_token_budget_stops_links_where_it_would_stop_steps(
        client: Client, settings: Settings, registry: ToolRegistry) -> None:
    """A step that spent tokens ends its chain: the run checks its budget before the next
    step, as it does when each step runs on its own (a group's links too)."""
    chain = Plan.model_validate({"goal": "three thoughts", "steps": [
        {"id": f"s{k}", "tool": "think", "args": {"n": f"${{s{k - 1}}}" if k else 0}}
        for k in range(3)]})
    fan = Plan.model_validate({"goal": "two thoughts, then one", "steps": [
        {"id": "x", "tool": "think", "args": {"n": 1}},
        {"id": "y", "tool": "think", "args": {"n": 2}},
        {"id": "join", "tool": "think", "args": {"n": "${x}"}, "deps": ["y"]}]})
    for plan, calls, refused in ((chain, ["think 0"], "s1"),
                                 (fan, ["think 1", "think 2"], "join")):
        outcomes = []
        for each in (settings, unchained(settings)):
            inp = prepare(plan, registry, each).model_copy(
                update={"budget": PlanBudget(max_tokens=100)})
            CALLS.clear()
            state, _ = await run_replayed(client, each, registry, inp)
            assert sorted(CALLS) == calls, plan.goal
            assert state.usage.total_tokens == 100 * len(calls)
            outcomes.append(outcome(state))
        assert outcomes[0] == outcomes[1]
        assert outcomes[0]["steps"][refused][4] == "OverBudget"  # type: ignore[index]


async def test_a_link_settled_meanwhile_is_not_overwritten(
        client: Client, settings: Settings, registry: ToolRegistry) -> None:
    """``b`` follows ``a`` in its activity; ``bad`` fails meanwhile and the run stops, which
    cancels ``b`` before the chain's results come back: ``b`` stays cancelled."""
    plan = Plan.model_validate({"goal": "stop while a chain runs", "steps": [
        {"id": "a", "tool": "nap", "args": {"seconds": 0.5, "n": 1}},
        {"id": "b", "tool": "add", "args": {"n": "${a}"}},
        {"id": "bad", "tool": "pick", "args": {"items": [], "at": 0}},
    ]})
    settings = settings.model_copy(update={"local_chain_s": 5.0})  # b fits after a's nap
    state, ran = await run_replayed(client, settings, registry, prepare(plan, registry, settings))
    assert "planner.local_chain" in ran and CALLS.count("add 1") == 1, "b ran in the chain"
    assert state.status == "failed"
    assert state.step("a").status is StepStatus.SUCCEEDED
    assert state.step("b").status is StepStatus.CANCELLED and state.step("b").output is None


async def test_parallel_steps_are_not_chained(
        client: Client, settings: Settings, registry: ToolRegistry) -> None:
    plan = Plan.model_validate({"goal": "fan out", "steps": [
        {"id": "a", "tool": "add", "args": {"n": 0}},
        {"id": "x", "tool": "nap", "args": {"seconds": 0.2, "n": "${a}"}},
        {"id": "y", "tool": "nap", "args": {"seconds": 0.2, "n": "${a}"}},
        {"id": "join", "tool": "add", "args": {"n": "${x}", "k": "${y}"}},
    ]})
    state, ran = await run_replayed(client, settings, registry, prepare(plan, registry, settings))
    assert state.status == "succeeded"
    assert ran == ["tool.add", "planner.local_group"], \
        "x and y are not chained: they start together (tests/workflow/test_local_groups.py), " \
        "and the join follows them in their group within the chain budget"
    x, y = state.step("x"), state.step("y")
    assert x.started_at is not None and y.started_at is not None
    assert x.finished_at is not None and y.started_at < x.finished_at, "x and y overlap"


async def test_the_workers_registry_decides_what_runs_in_a_chain(
        client: Client, settings: Settings, registry: ToolRegistry) -> None:
    """An input that calls a tool with an effect read-only and local (forged, or prepared
    against another registry) does not get it run inside a chain: the chain stops before it."""
    plan = Plan.model_validate({"goal": "a forged policy", "steps": [
        {"id": "a", "tool": "add", "args": {"n": 1}},
        {"id": "save", "tool": "write_file", "args": {"path": "forged.txt", "text": "${a}"}},
    ]})
    inp = prepare(plan, registry, settings)
    assert inp.policies["save"].risk.value == "side-effecting"
    inp.policies["save"] = inp.policies["save"].model_copy(update={
        "local": True, "risk": inp.policies["a"].risk, "compensation": None})
    state, ran = await run_replayed(client, settings, registry, inp)
    assert state.status == "succeeded"
    assert ran == ["planner.local_chain", "tool.write_file"], "save ran on its own"


def test_chains_off_by_setting(settings: Settings, registry: ToolRegistry,
                               monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("JARVIS_LOCAL_CHAIN_S", "0")
    assert prepare(CHAIN, registry, Settings(data_dir=tmp_path)).local_chain_s == 0
    assert prepare(CHAIN, registry, settings, local_chains=False).local_chain_s == 0
