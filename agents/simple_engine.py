"""The in-process asyncio engine: the same step driver, no durability. Retries with tenacity.

Used when the Temporal server is unreachable (the engine choice warns loudly) and as the
reference the Temporal engine is compared with in tests.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable

from tenacity import (
    AsyncRetrying,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential,
)

from activities.execution import StepFailure, ToolRuntime, execute_call
from agents.step_driver import StepDriver, StepFailed
from planner.contracts.plan_run import (
    ExecutePlanInput,
    RunState,
    StepPolicy,
    StepState,
    ToolCall,
    ToolCallResult,
)
from planner.plan import Step

ProgressCallback = Callable[[RunState], None]


class SimpleWorkflowEngine:
    name = "simple"

    def __init__(self, runtime: ToolRuntime) -> None:
        self.runtime = runtime

    async def execute_plan(self, inp: ExecutePlanInput,
                           on_progress: ProgressCallback | None = None) -> RunState:
        """Run a prepared plan to its end in this process."""
        return await _SimpleRun(self.runtime, inp, on_progress).run()


class _SimpleRun(StepDriver):
    def __init__(self, runtime: ToolRuntime, inp: ExecutePlanInput,
                 on_progress: ProgressCallback | None) -> None:
        super().__init__(inp, engine="simple")
        self.runtime = runtime
        self.on_progress = on_progress or (lambda _state: None)
        self.run_key = f"simple-{uuid.uuid4().hex}"  # one per run: the steps' idempotency keys

    def now(self) -> float:
        return time.time()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)

    async def wait_for_any(self, running: dict[str, asyncio.Task[None]]) -> None:
        await asyncio.wait(running.values(), return_when=asyncio.FIRST_COMPLETED)

    def changed(self, step: StepState | None) -> None:
        self.on_progress(self.state)

    async def call_tool(self, step: Step, policy: StepPolicy, call: ToolCall) -> ToolCallResult:
        st = self.state.step(step.id)
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
                    self.changed(st)
                    try:
                        result = await asyncio.wait_for(
                            execute_call(self.runtime, call, attempt, run_key=self.run_key),
                            timeout)
                    except TimeoutError as exc:
                        raise StepFailure(f"attempt timed out after {timeout}s", "Timeout",
                                          retryable=True) from exc
        except StepFailure as exc:
            raise StepFailed(exc.type, str(exc), attempt) from exc
        return result
