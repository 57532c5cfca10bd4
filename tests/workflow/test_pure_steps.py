"""Pure tools' steps run inside the workflow (no activity), with the same results and failures as
the activity path and the simple engine; too-large outputs and stored inputs go the activity
way; a replay computes them again."""

from __future__ import annotations

import uuid

import pytest
from temporalio.client import Client

from activities import default_registry
from activities.execution import tool_runtime
from agents.client import JarvisClient
from agents.simple_engine import SimpleWorkflowEngine
from agents.worker import create_worker
from planner.contracts.plan_run import ExecutePlanInput, RunState
from planner.plan import Plan
from planner.preparation import prepare
from planner.scheduler import StepStatus
from planner.settings import Settings
from planner.tools import ToolRegistry, tool_from_function
from tests.plan_outcomes import outcome, run_replayed


def echo_text(text: str) -> str:
    """Return ``text`` (pure)."""
    return text


def double(n: int) -> int:
    """Twice ``n`` (pure)."""
    return 2 * n


def repeat(text: str, times: int) -> str:
    """``text`` ``times`` times (pure; large on purpose)."""
    return text * times


def broken(n: int) -> int:
    """A pure tool with a bug."""
    return [1, 2][n]


@pytest.fixture
def registry() -> ToolRegistry:
    registry = default_registry()
    for fn in (echo_text, double, repeat, broken):
        registry.register(tool_from_function(fn, pure=True))
    return registry


async def run(client: Client, settings: Settings, registry: ToolRegistry,
              inp: ExecutePlanInput) -> tuple[RunState, list[str], RunState]:
    """The run on Temporal, the activities its history records, and the simple engine's run."""
    state, ran = await run_replayed(client, settings, registry, inp)
    simple = await SimpleWorkflowEngine(tool_runtime(settings, registry)).execute_plan(inp)
    return state, ran, simple


CHAIN = Plan.model_validate({"goal": "pure chain", "steps": [
    {"id": "a", "tool": "calc", "args": {"expression": "2 + 3"}},
    {"id": "b", "tool": "calc", "args": {"expression": "x * 10", "variables": {"x": "${a.value}"}}},
    {"id": "t", "tool": "echo_text", "args": {"text": "${b.value}"}},
    {"id": "save", "tool": "write_file", "args": {"path": "pure.txt", "text": "${t}"}},
    {"id": "d", "tool": "double", "args": {"n": "${t}"}, "deps": ["save"]},
], "outputs": {"total": "${d}", "path": "${save.path}"}})


async def test_pure_steps_run_in_the_workflow_with_the_same_results(
        client: Client, settings: Settings, registry: ToolRegistry) -> None:
    state, ran, simple = await run(client, settings, registry, prepare(CHAIN, registry, settings))
    assert state.status == "succeeded", state.failure_report()
    assert ran == ["tool.write_file"], "only the step with an effect is an activity"
    assert state.outputs == {"total": 100, "path": "pure.txt"}
    assert (settings.workspace_dir / "pure.txt").read_text() == "50"
    assert state.step("t").conversions == ["text: ${b.value} = 50 (number, passed as text)"]
    assert state.step("d").conversions == ['n: ${t} = "50" (text, parsed as a whole number)']
    assert all(state.step(s).attempts == 1 for s in ("a", "b", "t", "d"))
    assert outcome(state) == outcome(simple)
    assert state.step("a").worker is None and state.step("a").inline
    assert state.step("save").worker and not state.step("save").inline


async def test_off_by_setting_they_are_local_activities_again(
        client: Client, settings: Settings, registry: ToolRegistry) -> None:
    settings = settings.model_copy(update={"inline_pure_steps": False})
    inp = prepare(CHAIN, registry, settings)
    assert not any(p.inline for p in inp.policies.values())
    state, ran, _ = await run(client, settings, registry, inp)
    assert state.outputs == {"total": 100, "path": "pure.txt"}
    assert ran == ["planner.local_chain", "tool.echo_text", "tool.write_file", "tool.double"], \
        "a, b: local activities chained in one (echo_text's 60 s timeout: a regular one)"


async def test_failures_are_the_activity_paths_failures(
        client: Client, settings: Settings, registry: ToolRegistry) -> None:
    plan = Plan.model_validate({"goal": "pure failures", "on_failure": "continue", "steps": [
        {"id": "zero", "tool": "calc", "args": {"expression": "1 / 0"}},
        {"id": "words", "tool": "echo_text", "args": {"text": "forty-two"}},
        {"id": "num", "tool": "double", "args": {"n": "${words}"}},
        {"id": "bug", "tool": "broken", "args": {"n": 7}},
        {"id": "after", "tool": "calc", "args": {"expression": "${num} + 1"}},
    ]})
    state, ran, simple = await run(client, settings, registry, prepare(plan, registry, settings))
    assert ran == []
    assert state.status == "failed"
    errors = {s.id: (s.error.type, s.error.message) for s in state.steps if s.error}
    assert errors["zero"][0] == "ToolInputError" and "division by zero" in errors["zero"][1]
    assert errors["num"][0] == "InvalidArguments"
    assert "argument 'n'" in errors["num"][1]
    assert '"forty-two" is not a numeral' in errors["num"][1]
    assert errors["bug"] == ("IndexError", "IndexError: list index out of range")
    assert state.step("after").status is StepStatus.BLOCKED
    assert all(state.step(s).attempts == 1 for s in ("zero", "num", "bug")), \
        "the same arguments fail the same way: no retry"
    assert all(state.step(s).inline and state.step(s).worker is None
               for s in ("zero", "words", "num", "bug"))
    simple_errors = {s.id: (s.error.type, s.error.message) for s in simple.steps if s.error}
    assert simple_errors == errors
    assert simple.step("bug").attempts == 1, "a pure tool's bug is not retried on either engine"


async def test_large_outputs_and_stored_inputs_go_through_activities(
        client: Client, settings: Settings, registry: ToolRegistry) -> None:
    settings = settings.model_copy(update={"payload_inline_limit": 1_000})
    plan = Plan.model_validate({"goal": "big", "steps": [
        {"id": "small", "tool": "repeat", "args": {"text": "ab", "times": 3}},
        {"id": "big", "tool": "repeat", "args": {"text": "xyz", "times": 1_000}},
        {"id": "echo", "tool": "echo_text", "args": {"text": "${big}"}},
        {"id": "len", "tool": "calc", "args": {"expression": "len(s)",
                                               "variables": {"s": "${big}"}}},
    ], "outputs": {"len": "${len.value}", "small": "${small}"}})
    state, ran, _ = await run(client, settings, registry, prepare(plan, registry, settings))
    assert state.status == "succeeded", state.failure_report()
    assert state.outputs == {"len": 3_000, "small": "ababab"}
    # "big" ran inline first, then (too large for the history) as a local activity that stored
    # its output; the steps reading the stored output run as activities too
    assert sorted(ran) == ["tool.calc", "tool.echo_text", "tool.repeat"]
    assert state.step("big").output["bytes"] > 3_000  # a handle to the payload store


async def test_a_worker_without_the_pure_tool_fails_the_step_clearly(
        client: Client, settings: Settings) -> None:
    name = f"pure_{uuid.uuid4().hex[:8]}"
    theirs = default_registry()
    theirs.register(tool_from_function(double, name=name, pure=True))
    plan = Plan.model_validate({"goal": "missing", "steps": [
        {"id": "x", "tool": name, "args": {"n": 1}}]})
    engine = JarvisClient(client, settings)
    async with create_worker(client, settings, default_registry()):
        state = await engine.execute_plan(prepare(plan, theirs, settings))
    assert state.status == "failed"
    assert state.step("x").error is not None
    assert state.step("x").error.type == "UnknownTool"
    assert "not installed on this worker" in state.step("x").error.message
