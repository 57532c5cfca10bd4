"""The one step driver both engines use: the scheduling loop, the start of a step, refusals, the
success and failure paths, cancellation. An engine supplies four hooks: the clock, how a tool call
runs, how a timer sleeps, and how to wait until some running step has finished.

The Temporal engine (:mod:`agents.plan_runner`) runs inside workflow code, so the driver itself is
deterministic: no I/O, clock or randomness except through the hooks.
"""

from __future__ import annotations

import asyncio
from abc import ABC, abstractmethod
from typing import Any, Literal

from agents.workflow_levers import LEVERS
from planner.budget import LLM_TOOL, Spent, overrun
from planner.contracts.names import OVER_BUDGET
from planner.contracts.plan_run import (
    ExecutePlanInput,
    GateDecision,
    RunState,
    StepError,
    StepPolicy,
    StepState,
    ToolCall,
    ToolCallResult,
)
from planner.plan import Step
from planner.scheduler import RecomputingScheduler, Scheduler, StepStatus
from planner.step_io import (
    ConditionError,
    StepInputError,
    condition_holds,
    final_outputs,
    prepare_call,
)
from planner.tools import Risk


class StepFailed(Exception):
    """A tool call that failed for good (its retries are spent or it cannot be retried)."""

    def __init__(self, kind: str, message: str, attempts: int,
                 worker: str | None = None, *, inline: bool = False) -> None:
        super().__init__(message)
        self.kind, self.message, self.attempts = kind, message, attempts
        self.worker = worker  # the worker that ran the last attempt, when known
        self.inline = inline  # a pure tool's call that failed inside the workflow


def refusal(tool: str) -> str:
    return (f"tool '{tool}' is dangerous and needs an approval; this engine does not run "
            "dangerous steps without one")


class StepDriver(ABC):
    """Runs one plan to its end; ``state`` is always current."""

    def __init__(self, inp: ExecutePlanInput,
                 engine: Literal["temporal", "simple"] = "temporal") -> None:
        self.inp = inp
        self.state = RunState(goal=inp.plan.goal, engine=engine,
                              steps=[StepState(id=s.id, tool=s.tool,
                                               queue=_queue(inp.policies.get(s.id)))
                                     for s in inp.plan.steps])
        self.outputs: dict[str, Any] = {}
        self._over_budget = ""  # why no more steps start (the budget ran out)
        # why no more steps start because a person abandoned the goal at a gate ("": not)
        self.abandoned = ""
        self.paused = False  # stopped between steps to continue as new (agents/history_budget)
        if inp.resume is not None:  # a run continued as new: finished steps are not run again
            self.state = inp.resume.state
            self.outputs = dict(inp.resume.outputs)
            self._over_budget = inp.resume.over_budget
        # which steps may start, kept as statuses change (the driver reports each change)
        kind = Scheduler if LEVERS.incremental_scheduler else RecomputingScheduler
        self.dependencies = inp.plan.dependency_map()  # step -> the steps it waits for
        self._scheduler = kind([s.id for s in inp.plan.steps], self.dependencies,
                               self.state.statuses(),
                               stop_on_failure=inp.plan.on_failure == "stop")

    # -- hooks ----------------------------------------------------------------------------
    @abstractmethod
    def now(self) -> float:
        """Seconds since the epoch (``workflow.now()`` in workflow code)."""

    @abstractmethod
    async def call_tool(self, step: Step, policy: StepPolicy, call: ToolCall) -> ToolCallResult:
        """Run the tool call with its retry policy; raise :class:`StepFailed` when it fails."""

    @abstractmethod
    async def sleep(self, seconds: float) -> None:
        """A durable timer (``wait`` steps)."""

    @abstractmethod
    async def wait_for_any(self, running: dict[str, asyncio.Task[None]]) -> None:
        """Return once some running step has finished (``notify`` was called)."""

    def notify(self) -> None:
        """A step finished: wake ``wait_for_any``."""
        return None

    asks_people = False  # whether gate_decision can get a person's decision

    async def gate_decision(self, step_id: str) -> GateDecision | None:
        """A person's decision at ``step_id``'s gate, waited for; None when the gate's time
        ran out or the goal was abandoned at another gate (``abandoned``). Only called when
        ``asks_people``."""
        return None

    def changed(self, step: StepState | None) -> None:
        """The state changed (``step``: that step's status or attempts). For progress and
        event logs; no effect by default."""
        return None

    def _changed(self, st: StepState) -> None:
        """``st`` changed: the scheduler hears its status, then the engine's ``changed``."""
        self._scheduler.set(st.id, st.status)
        self.changed(st)

    def fatal(self, exc: BaseException) -> bool:
        """Errors that must escape the step (and fail the engine) instead of failing it."""
        return False

    @property
    def over_budget(self) -> str:
        """Why no more steps start (the budget ran out), or ""."""
        return self._over_budget

    def start_allowance(self, running: int) -> int | None:
        """How many more steps may start now (None: any number). When it is 0 and no step is
        running, ``run`` returns early with ``paused`` set, for the engine to go on elsewhere
        (the Temporal engine's history budget)."""
        return None

    # -- the loop -------------------------------------------------------------------------
    async def run(self) -> RunState:
        """Run to the end. A failed plan returns a state with status "failed" (no exception);
        cancellation marks what did not finish and re-raises."""
        plan = self.inp.plan
        steps = {s.id: s for s in plan.steps}
        tasks: dict[str, asyncio.Task[None]] = {}
        try:
            while True:
                tasks = _running(tasks)
                decision = self._scheduler.decide()
                for step_id in self.state.apply(decision):
                    self.changed(self.state.step(step_id))
                if self.abandoned:  # a person abandoned the goal: nothing else starts
                    self._cancel_pending()
                    if not tasks:
                        break
                    await self.wait_for_any(tasks)
                    continue
                allowance = self.start_allowance(len(tasks))
                ready = decision.ready if allowance is None else decision.ready[:allowance]
                settled = [self._start(steps[s], tasks) for s in ready]
                if any(settled):
                    continue  # a step was skipped or refused: decide again before waiting
                if decision.done and not tasks:
                    break
                if not tasks and len(ready) < len(decision.ready):
                    self.paused = True  # quiescent, and no more steps may start here
                    return self.state
                await self.wait_for_any(tasks)
        except asyncio.CancelledError:
            for task in tasks.values():
                task.cancel()
            self.state.status = "cancelled"
            for st in self.state.steps:
                if not st.status.finished:
                    st.status = StepStatus.CANCELLED
            self.changed(None)
            raise
        return self._finish()

    def _cancel_pending(self) -> None:
        for st in self.state.steps:
            if st.status is StepStatus.PENDING:
                st.status = StepStatus.CANCELLED
                self._changed(st)

    def _finish(self) -> RunState:
        failed = [s for s in self.state.steps if s.status is StepStatus.FAILED]
        if self.abandoned:
            self.state.status = "cancelled"
        elif failed:
            self.state.status = "failed"
            self.state.error = failed[0].error
        else:
            skipped = {s.id for s in self.state.steps if s.status is StepStatus.SKIPPED}
            self.state.status = "succeeded"
            self.state.outputs = final_outputs(self.inp.plan, self.outputs, skipped)
        self.changed(None)
        return self.state

    def _start(self, step: Step, tasks: dict[str, asyncio.Task[None]]) -> bool:
        """Start ``step``; return True if it finished at once (skipped or refused)."""
        st = self.state.step(step.id)
        policy = self.inp.policies[step.id]
        try:
            if not condition_holds(step, self.outputs):
                st.status = StepStatus.SKIPPED
                self._changed(st)
                return True
            call = prepare_call(step, self.outputs, self.inp.payload_inline_limit)
        except StepInputError as exc:  # a condition's failure included: the step fails, not the run
            kind = "InvalidCondition" if isinstance(exc, ConditionError) else "InvalidArguments"
            self._fail(st, kind, str(exc), 0)
            return True
        reason = self._budget_refusal(step)
        if reason:
            self._fail(st, OVER_BUDGET, reason, 0)
            return True
        gated = step.id in self.inp.gates and st.gate != "approved"
        if gated and not self.asks_people:
            self._fail(st, "ToolRefused", f"step '{step.id}' waits for a person's decision "
                       "at its gate, and this engine cannot ask one; run it as a goal (on "
                       "the Temporal engine) to decide there", 0)
            return True
        if policy.risk == Risk.DANGEROUS and not self.inp.allow_dangerous and not gated:
            self._fail(st, "ToolRefused", refusal(step.tool), 0)
            return True
        grant = self.inp.grants.get(step.id)
        if grant:  # the worker checks it against the template the person approved
            call = call.model_copy(update={"grant": grant, "template": step.args})
        st.status = StepStatus.RUNNING
        if gated:  # a person decides on the resolved arguments just before it starts
            st.gate, st.gate_args = "waiting", dict(call.args)
            self._changed(st)
            tasks[step.id] = asyncio.create_task(self._at_gate(step, policy, call))
            return False
        st.started_at = self.now()
        self._changed(st)
        tasks[step.id] = asyncio.create_task(self._run_step(step, policy, call))
        return False

    async def _at_gate(self, step: Step, policy: StepPolicy, call: ToolCall) -> None:
        """Wait for the person's decision at ``step``'s gate: approved, it runs (a dangerous
        step with the grant that came with the decision); rejected or unanswered, it is
        skipped with its dependants and the rest of the plan goes on."""
        st = self.state.step(step.id)
        decision = await self.gate_decision(step.id)
        if decision is None and self.abandoned:
            st.gate, st.gate_note = "rejected", f"not decided: {self.abandoned}"
        elif decision is None:
            st.gate, st.gate_note = "expired", (f"no decision within "
                                                f"{self.inp.gate_timeout_s or 0:.0f}s")
        else:
            said = decision.by + (f": {decision.note}" if decision.note else "")
            st.gate = "approved" if decision.approve else "rejected"
            st.gate_note = f"{st.gate} by {said}"
            if decision.abandon and not decision.approve:
                self.abandoned = (f"the goal was abandoned at step '{step.id}' by {said}")
        if st.gate != "approved":
            st.status = StepStatus.CANCELLED if self.abandoned else StepStatus.SKIPPED
            self._changed(st)
            self.notify()
            return
        if decision is not None and decision.grant:
            call = call.model_copy(update={"grant": decision.grant, "template": step.args})
        st.started_at = self.now()
        self._changed(st)
        await self._run_step(step, policy, call)

    def _budget_refusal(self, step: Step) -> str:
        """Why ``step`` must not start (the budget is spent), or ""; once the budget runs out
        no other step starts either."""
        inp = self.inp
        if inp.budget is None or self._over_budget:
            return f"not started: {self._over_budget}" if self._over_budget else ""
        usage = self.state.usage
        before = inp.spent_before
        spent = Spent(tokens=before.tokens + usage.total_tokens,
                      cost_usd=before.cost_usd + usage.cost_usd,
                      llm_calls=before.llm_calls + usage.calls,
                      wall_time_s=self.now() - (inp.started_at or self.now()),
                      steps=sum(1 for s in self.state.steps if s.started_at is not None))
        reason = overrun(inp.budget, spent, step=True, llm_call=step.tool == LLM_TOOL)
        if reason:
            self._over_budget = reason
            return f"over budget: {reason} (spent {spent.summary()})"
        return ""

    async def _run_step(self, step: Step, policy: StepPolicy, call: ToolCall) -> None:
        st = self.state.step(step.id)
        try:
            if policy.kind == "timer":
                await self._timer(st, call.args)
            else:
                result = await self.call_tool(step, policy, call)
                self._record(st, result)
                self._record_followers(step.id)
        except StepFailed as exc:
            st.worker, st.inline = exc.worker or st.worker, exc.inline
            self._fail(st, exc.kind, exc.message, exc.attempts)
        except Exception as exc:  # e.g. a retry policy the SDK refuses: fail the step, not hang
            if self.fatal(exc):
                raise
            self._fail(st, type(exc).__name__, str(exc), st.attempts)
        finally:
            self.notify()

    def _record(self, st: StepState, result: ToolCallResult) -> None:
        if result.usage:
            self.state.usage = self.state.usage + result.usage
        st.worker, st.inline = result.worker, result.inline
        st.conversions = result.conversions
        self._succeed(st, result.output, result.attempt, result.started_at, result.finished_at)

    def _record_followers(self, lead: str) -> None:
        """The steps that ran after ``lead`` in its call (a chain): each started and succeeded,
        in order, unless something else settled it meanwhile (a failure elsewhere cancelled
        it, say); then neither it nor the rest of the chain is recorded."""
        for step_id, result in self.followers(lead):
            st = self.state.step(step_id)
            if st.status is not StepStatus.PENDING:
                break
            st.status, st.started_at = StepStatus.RUNNING, result.started_at
            self._changed(st)
            self._record(st, result)

    def followers(self, lead: str) -> list[tuple[str, ToolCallResult]]:
        """The results of steps that ran after ``lead`` in the same tool call (step id,
        result), taken once; none unless the engine runs chains (agents/plan_runner.py)."""
        return []

    async def _timer(self, st: StepState, args: dict[str, Any]) -> None:
        try:
            seconds = float(args["seconds"])
        except (KeyError, TypeError, ValueError):
            self._fail(st, "InvalidArguments", f"wait needs a number of seconds, got {args}", 0)
            return
        await self.sleep(seconds)
        self._succeed(st, {"seconds": seconds}, 1, st.started_at or self.now(), self.now())

    def _succeed(self, st: StepState, output: Any, attempts: int, started: float,
                 finished: float) -> None:
        self.outputs[st.id] = output
        st.output, st.attempts = output, attempts
        st.started_at, st.finished_at = started, finished
        st.status = StepStatus.SUCCEEDED
        self._changed(st)

    def _fail(self, st: StepState, kind: str, message: str, attempts: int) -> None:
        st.status = StepStatus.FAILED
        st.attempts = attempts or st.attempts
        if st.started_at is not None and st.finished_at is None:
            st.finished_at = self.now()  # so timelines and durations include failed steps
        st.error = StepError(step_id=st.id, tool=st.tool, type=kind, message=message,
                             attempts=attempts)
        self._changed(st)
        self.notify()


def _queue(policy: StepPolicy | None) -> str | None:
    return policy.queue if policy is not None else None


def _running(tasks: dict[str, asyncio.Task[None]]) -> dict[str, asyncio.Task[None]]:
    """The step tasks still running. A step task that died of an unexpected exception (a bug, or
    a ``fatal`` error) re-raises it here, failing the engine visibly instead of leaving the step
    "running" forever."""
    for task in tasks.values():
        if task.done() and not task.cancelled() and (exc := task.exception()) is not None:
            raise exc
    return {k: t for k, t in tasks.items() if not t.done()}
