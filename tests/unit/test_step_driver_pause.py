"""The step driver stops between steps when no more may start (the history budget) and a new
driver given the stopped state goes on without running a finished step again."""

from __future__ import annotations

import asyncio

from activities import default_registry
from agents.step_driver import StepDriver
from planner.contracts.plan_run import (
    ExecutePlanInput,
    RunResume,
    StepPolicy,
    ToolCall,
    ToolCallResult,
)
from planner.plan import Plan, Step
from planner.preparation import prepare
from planner.scheduler import StepStatus
from planner.settings import Settings


class CountingDriver(StepDriver):
    """Runs ``calc`` steps in memory; lets ``allow`` steps start, then asks to pause."""

    def __init__(self, inp: ExecutePlanInput, allow: int | None) -> None:
        super().__init__(inp, engine="simple")
        self.allow = allow
        self.called: list[str] = []
        self._done = asyncio.Event()

    def now(self) -> float:
        return 0.0

    async def sleep(self, seconds: float) -> None:
        return None

    def notify(self) -> None:
        self._done.set()

    async def wait_for_any(self, running: dict[str, asyncio.Task[None]]) -> None:
        await self._done.wait()
        self._done.clear()

    def start_allowance(self, running: int) -> int | None:
        if self.allow is None:
            return None
        return max(0, self.allow - len(self.called) - running)

    async def call_tool(self, step: Step, policy: StepPolicy, call: ToolCall) -> ToolCallResult:
        self.called.append(step.id)
        value = sum(int(v) for v in call.args["variables"].values()) + 1
        return ToolCallResult(output={"value": value}, attempt=1, started_at=0.0,
                              finished_at=0.0)


def chain(n: int) -> ExecutePlanInput:
    steps = [{"id": f"s{i}", "tool": "calc", "args": {
        "expression": "x + 1", "variables": {"x": f"${{s{i - 1}.value}}" if i else 0}}}
        for i in range(n)]
    plan = Plan.model_validate({"goal": "chain", "steps": steps,
                                "outputs": {"last": f"${{s{n - 1}.value}}"}})
    return prepare(plan, default_registry(), Settings())


async def test_pause_then_resume_runs_every_step_once() -> None:
    inp = chain(7)
    first = CountingDriver(inp, allow=3)
    state = await first.run()
    assert first.paused and state.status == "running"
    assert first.called == ["s0", "s1", "s2"]
    assert [s.status for s in state.steps[:4]] == [StepStatus.SUCCEEDED] * 3 + [
        StepStatus.PENDING]
    resume = RunResume(state=state, outputs=first.outputs)
    carried = ExecutePlanInput.model_validate_json(
        inp.model_copy(update={"resume": resume}).model_dump_json())  # as Temporal carries it
    second = CountingDriver(carried, allow=None)
    final = await second.run()
    assert not second.paused and final.status == "succeeded"
    assert second.called == ["s3", "s4", "s5", "s6"], "finished steps must not run again"
    assert final.outputs == {"last": 7}


def test_old_inputs_load_without_the_new_fields() -> None:
    raw = chain(2).model_dump(mode="json")
    del raw["history_events_limit"], raw["resume"]
    inp = ExecutePlanInput.model_validate(raw)
    assert inp.history_events_limit is None and inp.resume is None
