"""The in-process asyncio engine: same plan semantics, no durability. Retries with tenacity.

Used when the Temporal server is unreachable (the engine facade warns loudly) and as the
reference the Temporal engine is compared with in tests.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

from tenacity import (
    AsyncRetrying,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential,
)

from activities.execution import StepFailure, ToolRuntime, execute_call
from planner.contracts.run import (
    ExecutePlanInput,
    RunState,
    StepError,
    StepPolicy,
    StepState,
    ToolCall,
)
from planner.plan import Step
from planner.scheduler import StepStatus, decide
from planner.step_io import StepInputError, condition_holds, final_outputs, prepare_call

ProgressCallback = Callable[[RunState], None]


class SimpleWorkflowEngine:
    def __init__(self, runtime: ToolRuntime) -> None:
        self.runtime = runtime

    async def execute(self, inp: ExecutePlanInput,
                      on_progress: ProgressCallback | None = None) -> RunState:
        run = _SimpleRun(self.runtime, inp, on_progress)
        return await run.execute()


class _SimpleRun:
    def __init__(self, runtime: ToolRuntime, inp: ExecutePlanInput,
                 on_progress: ProgressCallback | None) -> None:
        self.runtime = runtime
        self.inp = inp
        self.on_progress = on_progress or (lambda _state: None)
        self.outputs: dict[str, Any] = {}
        self.state = RunState(goal=inp.plan.goal, engine="simple",
                              steps=[StepState(id=s.id, tool=s.tool) for s in inp.plan.steps])

    async def execute(self) -> RunState:
        plan = self.inp.plan
        order = [s.id for s in plan.steps]
        deps = plan.dependency_map()
        tasks: dict[str, asyncio.Task[None]] = {}
        try:
            while True:
                tasks = {k: t for k, t in tasks.items() if not t.done()}
                decision = decide(order, deps, self.state.statuses(),
                                  stop_on_failure=plan.on_failure == "stop")
                self.state.apply(decision)
                settled = [self._start(plan.step(s), tasks) for s in decision.ready]
                self.on_progress(self.state)
                if any(settled):
                    continue
                if decision.done and not tasks:
                    break
                await asyncio.wait(tasks.values(), return_when=asyncio.FIRST_COMPLETED)
        except asyncio.CancelledError:
            for task in tasks.values():
                task.cancel()
            self.state.status = "cancelled"
            raise
        failed = [s for s in self.state.steps if s.status is StepStatus.FAILED]
        if failed:
            self.state.status = "failed"
            self.state.error = failed[0].error
        else:
            self.state.status = "succeeded"
            skipped = {s.id for s in self.state.steps if s.status is StepStatus.SKIPPED}
            self.state.outputs = final_outputs(plan, self.outputs, skipped)
        self.on_progress(self.state)
        return self.state

    def _start(self, step: Step, tasks: dict[str, asyncio.Task[None]]) -> bool:
        st = self.state.step(step.id)
        policy = self.inp.policies[step.id]
        try:
            if not condition_holds(step, self.outputs):
                st.status = StepStatus.SKIPPED
                return True
            call = prepare_call(step, self.outputs, self.inp.payload_inline_limit)
        except StepInputError as exc:
            self._fail(st, "InvalidArguments", str(exc), 0)
            return True
        if policy.risk == "dangerous" and not self.inp.allow_dangerous:
            self._fail(st, "ToolRefused", f"tool '{step.tool}' is dangerous and needs an "
                       "approval; this engine does not run dangerous steps without one", 0)
            return True
        st.status = StepStatus.RUNNING
        st.started_at = time.time()
        tasks[step.id] = asyncio.create_task(self._run_step(step, policy, call))
        return False

    async def _run_step(self, step: Step, policy: StepPolicy, call: ToolCall) -> None:
        st = self.state.step(step.id)
        if policy.kind == "timer":
            await asyncio.sleep(float(call.args.get("seconds", 0)))
            self._succeed(st, {"seconds": float(call.args.get("seconds", 0))}, 1,
                          st.started_at or time.time(), time.time())
            return
        retry = policy.retry.merged(step.retry)
        timeout = step.timeout_s or policy.timeout_s
        attempt = 0
        try:
            async for trial in AsyncRetrying(
                stop=stop_after_attempt(retry.max_attempts),
                wait=wait_exponential(multiplier=retry.initial_interval_s, exp_base=retry.backoff,
                                      max=retry.max_interval_s),
                retry=retry_if_exception(lambda e: isinstance(e, StepFailure) and e.retryable),
                reraise=True,
            ):
                with trial:
                    attempt += 1
                    st.attempts = attempt
                    self.on_progress(self.state)
                    try:
                        result = await asyncio.wait_for(
                            execute_call(self.runtime, call, attempt), timeout)
                    except TimeoutError as exc:
                        raise StepFailure(f"attempt timed out after {timeout}s", "Timeout",
                                          retryable=True) from exc
            if result.usage:
                self.state.usage = self.state.usage + result.usage
            self._succeed(st, result.output, attempt, result.started_at, result.finished_at)
        except StepFailure as exc:
            self._fail(st, exc.type, str(exc), attempt)

    def _succeed(self, st: StepState, output: Any, attempts: int, started: float,
                 finished: float) -> None:
        self.outputs[st.id] = output
        st.output, st.attempts = output, attempts
        st.started_at, st.finished_at = started, finished
        st.status = StepStatus.SUCCEEDED
        self.on_progress(self.state)

    def _fail(self, st: StepState, kind: str, message: str, attempts: int) -> None:
        st.status = StepStatus.FAILED
        st.attempts = attempts or st.attempts
        if st.started_at is not None:
            st.finished_at = time.time()  # so timelines and durations include failed steps
        st.error = StepError(step_id=st.id, tool=st.tool, type=kind, message=message,
                             attempts=attempts)
        self.on_progress(self.state)
