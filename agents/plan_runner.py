"""Runs a plan inside workflow code: shared by the plan workflow and the goal workflow.

Deterministic: no I/O, clock or randomness. Every ready step starts at once as an activity (a
local activity for short read-only tools, see ``StepPolicy.local``; a timer for ``wait``);
references resolve from finished outputs; per-step status, attempts and timings live in
``state``.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import (
    ActivityError,
    ApplicationError,
    RetryState,
    TemporalError,
    TimeoutError,
)

with workflow.unsafe.imports_passed_through():
    from activities.execution import NON_RETRYABLE_TYPES
    from planner.contracts.run import (
        ExecutePlanInput,
        RunState,
        StepError,
        StepPolicy,
        StepState,
        ToolCall,
        ToolCallResult,
    )
    from planner.plan import Step
    from planner.scheduler import StepStatus, decide
    from planner.step_io import StepInputError, condition_holds, final_outputs, prepare_call


class PlanRunner:
    """Executes one plan; ``state`` is always current (for queries)."""

    def __init__(self, inp: ExecutePlanInput) -> None:
        self.inp = inp
        self.state = RunState(
            goal=inp.plan.goal, steps=[StepState(id=s.id, tool=s.tool) for s in inp.plan.steps]
        )
        self._outputs: dict[str, Any] = {}
        self._wake = False

    async def run(self) -> RunState:
        """Run to the end. A failed plan returns a state with status "failed" (no exception)."""
        inp = self.inp
        plan = inp.plan
        order = [s.id for s in plan.steps]
        deps = plan.dependency_map()
        tasks: dict[str, asyncio.Task[None]] = {}
        try:
            while True:
                tasks = _running(tasks)
                decision = decide(order, deps, self.state.statuses(),
                                  stop_on_failure=plan.on_failure == "stop")
                self.state.apply(decision)
                settled = [self._start(plan.step(s), inp, tasks) for s in decision.ready]
                if any(settled):
                    continue  # a step was skipped or refused: decide again before waiting
                if decision.done and not tasks:
                    break
                self._wake = False
                await workflow.wait_condition(lambda: self._wake)
        except asyncio.CancelledError:
            for task in tasks.values():
                task.cancel()
            self.state.status = "cancelled"
            for step in self.state.steps:
                if not step.status.finished:
                    step.status = StepStatus.CANCELLED
            raise
        return self._finish(inp)

    def _finish(self, inp: ExecutePlanInput) -> RunState:
        failed = [s for s in self.state.steps if s.status is StepStatus.FAILED]
        skipped = {s.id for s in self.state.steps if s.status is StepStatus.SKIPPED}
        if failed:
            self.state.status = "failed"
            self.state.error = failed[0].error
            return self.state
        self.state.status = "succeeded"
        self.state.outputs = final_outputs(inp.plan, self._outputs, skipped)
        return self.state

    def _start(self, step: Step, inp: ExecutePlanInput,
               tasks: dict[str, asyncio.Task[None]]) -> bool:
        """Start ``step``; return True if it finished synchronously (skipped or refused)."""
        st = self.state.step(step.id)
        policy = inp.policies[step.id]
        try:
            if not condition_holds(step, self._outputs):
                st.status = StepStatus.SKIPPED
                return True
            call = prepare_call(step, self._outputs, inp.payload_inline_limit)
        except StepInputError as exc:
            self._fail(st, "InvalidArguments", str(exc), 0)
            return True
        if policy.risk == "dangerous" and not inp.allow_dangerous:
            self._fail(st, "ToolRefused",
                       f"tool '{step.tool}' is dangerous and needs an approval; this engine "
                       "does not run dangerous steps without one", 0)
            return True
        st.status = StepStatus.RUNNING
        st.started_at = workflow.now().timestamp()
        tasks[step.id] = asyncio.create_task(self._run_step(step, policy, call))
        return False

    async def _run_step(self, step: Step, policy: StepPolicy, call: ToolCall) -> None:
        st = self.state.step(step.id)
        try:
            if policy.kind == "timer":
                await self._timer(st, call.args)
            else:
                result = await self._activity(step, policy, call)
                st.attempts = result.attempt
                st.started_at, st.finished_at = result.started_at, result.finished_at
                if result.usage:
                    self.state.usage = self.state.usage + result.usage
                self._outputs[step.id] = result.output
                st.output = result.output
                st.status = StepStatus.SUCCEEDED
        except (ActivityError, ApplicationError) as exc:
            max_attempts = policy.retry.merged(step.retry).max_attempts
            self._fail(st, *_failure(exc, max_attempts, policy.local))
        except TemporalError:
            raise  # the SDK's own (e.g. nondeterminism): fail the workflow task, visibly
        except Exception as exc:  # e.g. a retry policy the SDK refuses: fail the step, not hang
            self._fail(st, type(exc).__name__, str(exc), st.attempts)
        finally:
            self._wake = True

    async def _timer(self, st: StepState, args: dict[str, Any]) -> None:
        try:
            seconds = float(args["seconds"])
        except (KeyError, TypeError, ValueError):
            self._fail(st, "InvalidArguments", f"wait needs a number of seconds, got {args}", 0)
            return
        await workflow.sleep(timedelta(seconds=seconds))
        st.attempts = 1
        st.finished_at = workflow.now().timestamp()
        self._outputs[st.id] = {"seconds": seconds}
        st.output = self._outputs[st.id]
        st.status = StepStatus.SUCCEEDED

    async def _activity(self, step: Step, policy: StepPolicy, call: ToolCall) -> ToolCallResult:
        """One tool call: a local activity when the policy says so (short, read-only,
        idempotent tools: no task-queue round trip), else a regular one. Same activity name,
        per-attempt timeout and retry policy either way."""
        retry = policy.retry.merged(step.retry)
        timeout = timedelta(seconds=step.timeout_s or policy.timeout_s)
        # A step may raise the initial interval above the tool's maximum (or lower the maximum
        # below it); Temporal refuses such a policy, so every wait is capped at the maximum,
        # as the simple engine's exponential wait does.
        initial_s = min(retry.initial_interval_s, retry.max_interval_s)
        retry_policy = RetryPolicy(
            maximum_attempts=retry.max_attempts,
            initial_interval=timedelta(seconds=initial_s),
            backoff_coefficient=retry.backoff,
            maximum_interval=timedelta(seconds=retry.max_interval_s),
            non_retryable_error_types=NON_RETRYABLE_TYPES,
        )
        result: ToolCallResult
        if policy.local:
            result = await workflow.execute_local_activity(
                policy.activity, call, start_to_close_timeout=timeout,
                retry_policy=retry_policy, result_type=ToolCallResult)
        else:
            result = await workflow.execute_activity(
                policy.activity, call, start_to_close_timeout=timeout,
                retry_policy=retry_policy, result_type=ToolCallResult)
        return result

    def _fail(self, st: StepState, kind: str, message: str, attempts: int) -> None:
        st.status = StepStatus.FAILED
        st.attempts = attempts or st.attempts
        st.error = StepError(step_id=st.id, tool=st.tool, type=kind, message=message,
                             attempts=attempts)
        self._wake = True


def _running(tasks: dict[str, asyncio.Task[None]]) -> dict[str, asyncio.Task[None]]:
    """The step tasks still running. A step task that died of an unexpected exception (a bug:
    tool failures are caught in ``_run_step``) re-raises it here, failing the workflow task so
    Temporal retries it visibly, instead of leaving the step "running" forever."""
    for task in tasks.values():
        if task.done() and not task.cancelled() and (exc := task.exception()) is not None:
            raise exc
    return {k: t for k, t in tasks.items() if not t.done()}


def _failure(exc: ActivityError | ApplicationError, max_attempts: int,
             local: bool) -> tuple[str, str, int]:
    """(kind, message, attempts) of a failed tool call. A regular activity fails with an
    ActivityError around the tool's error; a local activity raises the tool's ApplicationError
    itself (the SDK does not wrap it), and an ActivityError only for timeouts."""
    cause = exc.cause if isinstance(exc, ActivityError) else exc
    kind, message, attempts = "ActivityError", str(exc), 1
    if isinstance(cause, ApplicationError):
        kind = cause.type or "ApplicationError"
        message = cause.message
        if cause.details and isinstance(cause.details[0], dict):
            attempts = int(cause.details[0].get("attempt", 1))
    elif isinstance(cause, TimeoutError):
        kind = "Timeout"
        message = f"{cause.type.name.lower() if cause.type else 'attempt'} timeout"
        if local:  # a local activity times out only once its retries are spent
            attempts = max_attempts
    if isinstance(exc, ActivityError) and exc.retry_state == RetryState.MAXIMUM_ATTEMPTS_REACHED:
        attempts = max_attempts
    return kind, message, attempts
