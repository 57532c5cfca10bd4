"""The same plans on the Temporal engine (real dev server) and the simple engine."""

from __future__ import annotations

from pathlib import Path

import pytest
from temporalio.client import Client, WorkflowFailureError
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer

from activities import default_registry
from activities.execution import tool_runtime
from activities.payloads import FilePayloadStore, hydrate, is_handle
from agents.client import JarvisClient
from agents.plan_workflow import ExecutePlanWorkflow
from agents.simple_engine import SimpleWorkflowEngine
from agents.worker import create_worker
from planner.contracts.plan_run import ExecutePlanInput, RunState
from planner.plan import Plan
from planner.preparation import DangerousStepRefused, prepare
from planner.scheduler import StepStatus
from planner.settings import Settings
from planner.tools import ToolRegistry
from tests.plans import FLAKY_CALLS, add_test_tools, fan_plan, overlap


@pytest.fixture
def registry() -> ToolRegistry:
    return add_test_tools(default_registry())


async def run_both(client: Client, settings: Settings, registry: ToolRegistry,
                   inp: ExecutePlanInput, *, cache: bool = True) -> tuple[RunState, RunState]:
    """Run ``inp`` on Temporal (in-process worker) then on the simple engine."""
    engine = JarvisClient(client, settings)
    worker = create_worker(client, settings, registry,
                           max_cached_workflows=1000 if cache else 0)
    async with worker:
        temporal = await engine.execute_plan(inp)  # a failed run returns its state
    simple = await SimpleWorkflowEngine(tool_runtime(settings, registry)).execute_plan(inp)
    return temporal, simple


def untimed(value: object) -> object:
    """Outputs without wall-clock fields (slow_span reports when it ran)."""
    if isinstance(value, dict):
        return {k: v for k, v in value.items() if k not in ("started", "finished")}
    return value


def summary(state: RunState) -> dict[str, object]:
    return {"status": state.status, "outputs": state.outputs,
            "steps": {s.id: (s.status.value, untimed(s.output)) for s in state.steps}}


@pytest.mark.parametrize("cache", [True, False], ids=["cached", "replay-every-task"])
async def test_fan_out_fan_in_same_on_both_engines(
    client: Client, settings: Settings, registry: ToolRegistry, cache: bool
) -> None:
    inp = prepare(fan_plan(), registry, settings)
    temporal, simple = await run_both(client, settings, registry, inp, cache=cache)
    assert temporal.status == "succeeded", temporal.failure_report()
    assert summary(temporal) == summary(simple)
    assert temporal.outputs["summary"] == "Ada Lovelace|ada|31"  # 12 * 2 + len("tag ace")
    assert temporal.outputs["who"]["stats"] == {"len": 12}
    for state in (temporal, simple):
        spans = [(state.step(s).output["started"], state.step(s).output["finished"])
                 for s in ("a", "b", "c")]
        assert overlap(spans), f"{state.engine}: independent steps did not overlap: {spans}"
        who = state.step("who")
        assert all(state.step(s).started_at >= who.finished_at for s in ("a", "b", "c"))


async def test_failure_blocks_dependants_and_names_the_step(
    client: Client, settings: Settings, registry: ToolRegistry
) -> None:
    plan = Plan.model_validate({
        "goal": "read a missing file",
        "on_failure": "continue",
        "steps": [
            {"id": "ok", "tool": "calc", "args": {"expression": "1 + 1"}},
            {"id": "missing", "tool": "read_file", "args": {"path": "nope.txt"}},
            {"id": "after", "tool": "calc", "args": {"expression": "${missing.bytes} + 1"}},
            {"id": "later", "tool": "calc", "args": {"expression": "1"}, "deps": ["after"]},
        ],
    })
    temporal, simple = await run_both(client, settings, registry,
                                      prepare(plan, registry, settings))
    assert summary(temporal) == summary(simple)
    for state in (temporal, simple):
        assert state.status == "failed"
        assert state.step("ok").status is StepStatus.SUCCEEDED
        assert state.step("missing").status is StepStatus.FAILED
        assert state.step("missing").attempts == 1, "a non-retryable error must not retry"
        assert state.step("after").status is StepStatus.BLOCKED
        assert state.step("later").status is StepStatus.BLOCKED
        report = state.failure_report()
        assert "step 'missing'" in report and "tool 'read_file'" in report
        assert "no file 'nope.txt'" in report and "after, later" in report


async def test_stop_on_failure_cancels_independent_pending_steps(
    client: Client, settings: Settings, registry: ToolRegistry
) -> None:
    plan = Plan.model_validate({
        "goal": "stop early",
        "steps": [
            {"id": "bad", "tool": "calc", "args": {"expression": "1 / 0"}},
            {"id": "slow", "tool": "slow_span", "args": {"label": "x", "seconds": 0.2}},
            {"id": "next", "tool": "calc", "args": {"expression": "2"}, "deps": ["slow"]},
        ],
    })
    temporal, simple = await run_both(client, settings, registry,
                                      prepare(plan, registry, settings))
    for state in (temporal, simple):
        assert state.step("bad").status is StepStatus.FAILED
        assert "ZeroDivisionError" in state.step("bad").error.message  # type: ignore[union-attr]
        assert state.step("slow").status is StepStatus.SUCCEEDED  # in flight: finishes
        assert state.step("next").status is StepStatus.CANCELLED


async def test_retryable_errors_retry_and_count_attempts(
    client: Client, settings: Settings, registry: ToolRegistry
) -> None:
    FLAKY_CALLS.clear()
    plan = Plan.model_validate({"goal": "flaky", "steps": [
        {"id": "f", "tool": "flaky", "args": {"key": "t1", "failures": 2}}]})
    temporal, _ = await run_both(client, settings, registry, prepare(plan, registry, settings))
    assert temporal.status == "succeeded"
    assert temporal.step("f").attempts == 3
    assert temporal.step("f").output == {"key": "t1", "calls": 3}
    FLAKY_CALLS.clear()
    plan = Plan.model_validate({"goal": "too flaky", "steps": [
        {"id": "f", "tool": "flaky", "args": {"key": "t2", "failures": 5},
         "retry": {"max_attempts": 2}}]})
    temporal, simple = await run_both(client, settings, registry,
                                      prepare(plan, registry, settings))
    for state in (temporal, simple):
        assert state.status == "failed"
        assert state.step("f").attempts == 2
        assert "ToolError: transient failure" in state.failure_report()
    assert FLAKY_CALLS["t2"] == 4, "each engine must stop after exactly 2 attempts"


async def test_conditions_skip_steps_and_their_dependants(
    client: Client, settings: Settings, registry: ToolRegistry
) -> None:
    plan = Plan.model_validate({
        "goal": "conditional",
        "steps": [
            {"id": "n", "tool": "calc", "args": {"expression": "3"}},
            {"id": "big", "tool": "calc", "args": {"expression": "1"},
             "when": "${n.value} > 10"},
            {"id": "small", "tool": "calc", "args": {"expression": "2"},
             "when": "${n.value} <= 10"},
            {"id": "after_big", "tool": "calc", "args": {"expression": "${big.value}"}},
        ],
        "outputs": {"big": "${big.value}", "small": "${small.value}"},
    })
    temporal, simple = await run_both(client, settings, registry,
                                      prepare(plan, registry, settings))
    assert summary(temporal) == summary(simple)
    assert temporal.status == "succeeded"
    assert temporal.step("big").status is StepStatus.SKIPPED
    assert temporal.step("after_big").status is StepStatus.SKIPPED
    assert temporal.outputs == {"big": None, "small": 2}


async def test_large_outputs_stay_out_of_history(
    client: Client, settings: Settings, registry: ToolRegistry
) -> None:
    plan = Plan.model_validate({
        "goal": "large data by reference",
        "steps": [
            {"id": "data", "tool": "big", "args": {"kb": 300}},
            {"id": "pick", "tool": "calc", "args": {
                "expression": "n + i", "variables": {"n": "${data.count}",
                                                     "i": "${data.items[299].i}"}}},
        ],
        "outputs": {"count": "${pick.value}", "data": "${data}"},
    })
    temporal, simple = await run_both(client, settings, registry,
                                      prepare(plan, registry, settings))
    assert temporal.outputs["count"] == simple.outputs["count"] == 599
    assert is_handle(temporal.step("data").output)
    store = FilePayloadStore(settings.payload_dir)
    assert hydrate(temporal.outputs["data"], store)["count"] == 300
    run_id = (await anext(aiter(settings_runs(client, settings))))
    history = await client.get_workflow_handle(run_id).fetch_history()
    size = len(history.to_json())
    assert size < 100_000, f"history is {size} bytes; large outputs leaked into it"


async def settings_runs(client: Client, settings: Settings):  # type: ignore[no-untyped-def]
    query = f"TaskQueue = '{settings.task_queue}'"
    async for wf in client.list_workflows(query):
        yield wf.id


def test_dangerous_steps_are_refused_before_running(
    settings: Settings, registry: ToolRegistry
) -> None:
    plan = Plan.model_validate({"goal": "rm", "steps": [
        {"id": "x", "tool": "shell", "args": {"command": "echo hi > f"}}]})
    with pytest.raises(DangerousStepRefused, match="x use dangerous tools"):
        prepare(plan, registry, settings)
    assert not (Path(settings.workspace_dir) / "f").exists()


async def test_dangerous_step_refused_inside_the_workflow_too(
    client: Client, settings: Settings, registry: ToolRegistry
) -> None:
    plan = Plan.model_validate({"goal": "rm", "steps": [
        {"id": "x", "tool": "shell", "args": {"command": "echo hi > f"}}]})
    inp = prepare(plan, registry, settings, allow_dangerous=True).model_copy(
        update={"allow_dangerous": False})
    temporal, simple = await run_both(client, settings, registry, inp)
    for state in (temporal, simple):
        assert state.step("x").error.type == "ToolRefused"  # type: ignore[union-attr]
    assert not (Path(settings.workspace_dir) / "f").exists()


async def test_cancel_stops_a_running_plan(
    client: Client, settings: Settings, registry: ToolRegistry
) -> None:
    plan = Plan.model_validate({"goal": "long", "steps": [
        {"id": "w", "tool": "wait", "args": {"seconds": 60}},
        {"id": "after", "tool": "calc", "args": {"expression": "1"}, "deps": ["w"]}]})
    engine = JarvisClient(client, settings)
    async with create_worker(client, settings, registry):
        run_id = await engine.start_plan(prepare(plan, registry, settings))
        await engine.cancel_plan(run_id)
        with pytest.raises(WorkflowFailureError):
            await engine.handle(run_id).result()
    desc = await engine.handle(run_id).describe()
    assert desc.status is not None and desc.status.name == "CANCELED"


async def test_recorded_history_replays(
    client: Client, settings: Settings, registry: ToolRegistry
) -> None:
    engine = JarvisClient(client, settings)
    async with create_worker(client, settings, registry):
        run_id = await engine.start_plan(prepare(fan_plan(), registry, settings))
        await engine.handle(run_id).result()
    history = await engine.handle(run_id).fetch_history()
    replayer = Replayer(workflows=[ExecutePlanWorkflow], data_converter=pydantic_data_converter)
    result = await replayer.replay_workflow(history)
    assert result.replay_failure is None


async def test_a_condition_that_breaks_at_run_time_fails_its_step_on_both_engines(
    client: Client, settings: Settings, registry: ToolRegistry
) -> None:
    """Inside workflow code too: the step fails with the condition's error, the other branch
    finishes, and the workflow task never fails (the run completes)."""
    plan = Plan.model_validate({"goal": "g", "on_failure": "continue", "steps": [
        {"id": "a", "tool": "calc", "args": {"expression": "1"}},
        {"id": "b", "tool": "calc", "args": {"expression": "2"},
         "when": "'x' * 99999 + 'y' * (${a.value} * 2) != ''"},
        {"id": "c", "tool": "calc", "args": {"expression": "3"}, "deps": ["a"]}]})
    for state in await run_both(client, settings, registry, prepare(plan, registry, settings)):
        assert state.status == "failed", state.engine
        b = state.step("b")
        assert b.status.value == "failed" and b.error is not None
        assert b.error.type == "InvalidCondition"
        assert "condition" in b.error.message and "MAX_SIZE" in b.error.message
        assert state.step("c").status.value == "succeeded"
