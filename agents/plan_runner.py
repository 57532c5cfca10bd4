"""The step driver inside workflow code: shared by the plan workflow and the goal workflow.

Deterministic: no I/O, clock or randomness. Every ready step starts at once as an activity (a
local activity for short read-only tools, see ``StepPolicy.local``; a timer for ``wait``);
references resolve from finished outputs; per-step status, attempts and timings live in
``state``; each step change goes to the workflow's event log.
"""

from __future__ import annotations

import asyncio
import builtins
from collections.abc import Callable
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
    from agents.history_budget import start_allowance
    from agents.inline_step_metrics import inline_attempt
    from agents.step_driver import StepDriver, StepFailed
    from planner.chains import ChainRule, may_group
    from planner.contracts.local_chain import ChainLink, ChainResult, LocalChain
    from planner.contracts.local_group import (
        GroupMember,
        GroupResult,
        LocalGroup,
        MemberAgain,
        MemberFailure,
    )
    from planner.contracts.names import (
        LOCAL_CHAIN_ACTIVITY,
        LOCAL_GROUP_ACTIVITY,
        NON_RETRYABLE_TOOL_ERRORS,
    )
    from planner.contracts.plan_run import (
        ExecutePlanInput,
        GateDecision,
        StepPolicy,
        StepState,
        ToolCall,
        ToolCallResult,
    )
    from planner.plan import Step
    from planner.pure_tools import call_pure, installed, json_size
    from planner.retry import RetrySpec
    from planner.step_io import InvalidToolArguments
    from planner.tool_errors import ToolError

StepListener = Callable[[StepState], None]
# a step's outcome in a local group (None: not run there, it runs on its own)
Outcome = ToolCallResult | MemberFailure | MemberAgain | None
Joined = tuple[GroupMember, "asyncio.Future[Outcome]"]
# the most steps that follow a lead in one local activity (its time budget usually ends it first)
MAX_LINKS = 100
# a local group's activity may run this much longer than its slowest member's timeout
GROUP_MARGIN_S = 5.0
# a group's results at most (Temporal refuses a marker past 2 MB); per result besides its output
GROUP_RESULT_BYTES = 1_000_000
RESULT_OVERHEAD = 1_000


class PlanRunner(StepDriver):
    """Executes one plan in a workflow; ``on_step`` hears every step change."""

    def __init__(self, inp: ExecutePlanInput, on_step: StepListener | None = None,
                 gate_book: dict[str, GateDecision] | None = None) -> None:
        """``gate_book``: where the workflow's Update handler puts people's decisions at the
        steps' gates (step id -> decision); None: this run cannot ask (gated steps fail)."""
        super().__init__(inp, engine="temporal")
        self._on_step = on_step
        self._wake = False
        self._gate_book = gate_book
        self.asks_people = gate_book is not None
        self._chains: ChainRule | None = None  # built at the first local step, if chains are on
        self._followed: dict[str, list[tuple[str, ToolCallResult]]] = {}  # lead -> links' results
        self._forming: list[Joined] | None = None  # the local group starting now, if any
        # the first attempt a step made as a link that stopped its chain (or its group's
        # links) by failing: it counts when the step runs on its own (inp.link_attempts)
        self._tried: dict[str, MemberFailure | MemberAgain] = {}

    async def gate_decision(self, step_id: str) -> GateDecision | None:
        book = self._gate_book
        if book is None:
            return None
        timeout = (timedelta(seconds=self.inp.gate_timeout_s) if self.inp.gate_timeout_s
                   else None)
        try:
            await workflow.wait_condition(lambda: step_id in book or bool(self.abandoned),
                                          timeout=timeout)
        except builtins.TimeoutError:
            return None
        return book.get(step_id)

    def now(self) -> float:
        return workflow.now().timestamp()

    async def sleep(self, seconds: float) -> None:
        await workflow.sleep(timedelta(seconds=seconds))

    def notify(self) -> None:
        self._wake = True

    async def wait_for_any(self, running: dict[str, asyncio.Task[None]]) -> None:
        self._wake = False
        await workflow.wait_condition(lambda: self._wake)

    def changed(self, step: StepState | None) -> None:
        if step is None:
            return
        if self._on_step is not None:
            self._on_step(step)
        if step.status.finished and (self.inp.policies[step.id].kind == "timer"
                                     or not step.attempts or step.inline):
            _log_without_activity(step, inline=step.inline)

    def start_allowance(self, running: int) -> int | None:
        return start_allowance(self.inp.history_events_limit, running)

    def fatal(self, exc: BaseException) -> bool:
        return isinstance(exc, TemporalError)  # the SDK's own (e.g. nondeterminism): visible

    async def call_tool(self, step: Step, policy: StepPolicy, call: ToolCall) -> ToolCallResult:
        """One tool call: a local activity when the policy says so (short, read-only,
        idempotent tools: no task-queue round trip), else a regular one on the tool's task
        queue (``policy.queue``; None: the workflow's own). Same activity name, per-attempt
        timeout and retry policy either way."""
        if policy.inline and not call.deferred:
            inline = self._run_inline(call)
            if inline is not None:
                return inline
        retry = policy.retry.merged(step.retry)
        timeout = timedelta(seconds=step.timeout_s or policy.timeout_s)
        retry_policy = tool_retry_policy(retry)
        result: ToolCallResult
        links = self._links_after(step.id) if policy.local else []
        before = 0  # attempts already made in a local group, or as a chain's link
        grouped: Outcome = self._tried.pop(step.id, None)
        if grouped is None and not links and self._may_group(step, policy):
            grouped = await self._in_group(call, timeout, retry.max_attempts > 1)
        if isinstance(grouped, MemberFailure):
            raise StepFailed(grouped.type, grouped.message, 1, grouped.worker)
        if isinstance(grouped, MemberAgain):  # its first attempt failed: the rest alone
            before = 1
            retry, wait = after_first_attempt(retry, grouped.retry_after_s)
            retry_policy = tool_retry_policy(retry)
            await workflow.sleep(wait)
        elif grouped is not None:
            return grouped
        try:
            if links:
                result = await self._run_chain(call, links, timeout, retry_policy)
            elif policy.local:
                result = await workflow.execute_local_activity(
                    policy.activity, call, start_to_close_timeout=timeout,
                    retry_policy=retry_policy, result_type=ToolCallResult)
            else:
                # task_queue=None schedules on the workflow's queue: the same command as
                # before routing existed, so recorded histories replay unchanged
                result = await workflow.execute_activity(
                    policy.activity, call, start_to_close_timeout=timeout,
                    retry_policy=retry_policy, result_type=ToolCallResult,
                    task_queue=policy.queue)
        except (ActivityError, ApplicationError) as exc:
            kind, message, attempts, worker = _failure(exc, retry.max_attempts, policy.local)
            raise StepFailed(kind, message, attempts + before, worker) from exc
        if before:
            result = result.model_copy(update={"attempt": result.attempt + before})
        return result

    def followers(self, lead: str) -> list[tuple[str, ToolCallResult]]:
        return self._followed.pop(lead, [])

    def _links_after(self, lead: str | list[str]) -> list[Step]:
        """The steps that may run after ``lead`` (a step, or a local group's steps) in its
        local activity (planner/chains.py): none when chains are off or the budget could
        refuse one of them before it starts (a wall-time limit within the chain's time, a step
        limit: the links stop short of it)."""
        inp = self.inp
        if inp.local_chain_s <= 0 or self.over_budget:
            return []
        budget = inp.budget
        if budget is not None and budget.max_wall_time_s is not None:
            now = self.now()
            if (inp.started_at or now) + budget.max_wall_time_s - now <= inp.local_chain_s:
                return []
        if self._chains is None:
            self._chains = ChainRule(inp.plan, inp.policies, excluded={*inp.gates, *inp.grants},
                                     deps=self.dependencies)
        links = self._chains.after(lead, lambda s: self.state.step(s).status, MAX_LINKS)
        if links and budget is not None and budget.max_steps is not None:
            started = sum(1 for s in self.state.steps if s.started_at is not None)
            links = links[:max(0, budget.max_steps - started)]
        return links

    async def _run_chain(self, call: ToolCall, links: list[Step], timeout: timedelta,
                         retry_policy: RetryPolicy) -> ToolCallResult:
        """The lead's call and its links in one local activity (the lead's timeout and retry
        policy; the activity's own timeout covers the links' too). The links that ran are
        recorded after the lead (``followers``); the rest run on their own."""
        inp = self.inp
        chain = LocalChain(lead=call, lead_timeout_s=timeout.total_seconds(),
                           budget_s=inp.local_chain_s, links=self._chain_links(links),
                           known=self._known(call.step_id, links))
        longest = max(link.timeout_s for link in chain.links)
        done: ChainResult = await workflow.execute_local_activity(
            LOCAL_CHAIN_ACTIVITY, chain, retry_policy=retry_policy, result_type=ChainResult,
            start_to_close_timeout=timeout + timedelta(seconds=inp.local_chain_s + longest))
        self._followed[call.step_id] = [(link.step.id, result) for link, result
                                        in zip(chain.links, done.results[1:], strict=False)]
        self._note_stopped_by(chain.links, len(done.results) - 1, done.stopped_by)
        lead: ToolCallResult = done.results[0]
        return lead

    def _note_stopped_by(self, links: list[ChainLink], ran: int,
                         stopped_by: MemberFailure | MemberAgain | None) -> None:
        """Keep the first attempt of the link that stopped a chain (the one after the ``ran``
        links that ran) for when its step runs on its own, if the run's input counts it."""
        if stopped_by is not None and self.inp.link_attempts and ran < len(links):
            self._tried[links[ran].step.id] = stopped_by

    def _may_group(self, step: Step, policy: StepPolicy) -> bool:
        """Whether ``step`` may run in a local group: groups are on for this run, and it is a
        step that may run inside another's local activity (planner/chains.py; its condition,
        if any, already held), with no gate or grant."""
        inp = self.inp
        return (inp.local_groups and not self.over_budget and step.id not in inp.grants
                and step.id not in inp.gates and may_group(step, policy))

    async def _in_group(self, call: ToolCall, timeout: timedelta, retryable: bool) -> Outcome:
        """Run ``call`` together with every other groupable call starting at this moment (the
        steps the driver started in this turn: each reaches here before the first resumes),
        in one local activity: its result; its failure when no retry would change it; its
        first attempt's failure when a retry may fix it (``MemberAgain``: the attempts left run
        on their own); or None to run it on its own (it started alone, or was not run there)."""
        member = GroupMember(call=call, timeout_s=timeout.total_seconds(), retryable=retryable)
        joined: Joined = (member, asyncio.get_running_loop().create_future())
        forming = self._forming
        if forming is not None and len(forming) < self._group_size():
            forming.append(joined)  # another step leads the group starting now
            return await joined[1]
        self._forming = members = [joined]  # this step leads a new group
        results: list[Outcome] = []
        try:
            await asyncio.sleep(0)  # one turn: the other steps started now join
            if self._forming is members:
                self._forming = None
            if len(members) > 1:
                results = await self._run_group([m for m, _ in members])
        finally:
            if self._forming is members:
                self._forming = None
            for index, (_, future) in enumerate(members[1:], start=1):
                if not future.done():  # resolved in every case: none waits for ever
                    future.set_result(results[index] if index < len(results) else None)
        return results[0] if results else None

    def _group_size(self) -> int:
        """The most members a group takes: their results travel in one marker, which Temporal
        refuses past 2 MB, and each inline output may be up to the payload limit."""
        return max(2, GROUP_RESULT_BYTES // (self.inp.payload_inline_limit + RESULT_OVERHEAD))

    async def _run_group(self, members: list[GroupMember]) -> list[Outcome]:
        """The members' results from one local activity (None: run it on its own), and the
        links after them (a chain, planner/chains.py: recorded after the last member,
        ``followers``). One attempt: a member's own retries happen on its own, and the
        group's own failure (a bug, its timeout) sends every member there."""
        ids = [m.call.step_id for m in members]
        links = self._links_after(ids)
        group = LocalGroup(members=members, budget_s=self.inp.local_chain_s if links else 0.0,
                           links=self._chain_links(links), known=self._known(ids, links))
        longest = max([m.timeout_s for m in members] + [link.timeout_s for link in group.links])
        try:
            done: GroupResult = await workflow.execute_local_activity(
                LOCAL_GROUP_ACTIVITY, group, result_type=GroupResult,
                retry_policy=RetryPolicy(maximum_attempts=1),
                start_to_close_timeout=timedelta(
                    seconds=longest + group.budget_s + GROUP_MARGIN_S))
        except (ActivityError, ApplicationError):
            return [None] * len(members)
        if len(done.results) != len(members):
            return [None] * len(members)
        self._followed[ids[-1]] = [(link.step.id, result) for link, result
                                   in zip(group.links, done.followers, strict=False)]
        self._note_stopped_by(group.links, len(done.followers), done.stopped_by)
        return done.results

    def _chain_links(self, links: list[Step]) -> list[ChainLink]:
        policies = self.inp.policies
        return [ChainLink(step=s, timeout_s=s.timeout_s or policies[s.id].timeout_s,
                          retryable=policies[s.id].retry.merged(s.retry).max_attempts > 1)
                for s in links]

    def _known(self, lead: str | list[str], links: list[Step]) -> dict[str, Any]:
        """The outputs of finished steps outside the chain its links refer to."""
        if not links or self._chains is None:
            return {}
        return {d: self.outputs[d] for d in self._chains.needs(lead, links) if d in self.outputs}

    def _run_inline(self, call: ToolCall) -> ToolCallResult | None:
        """A pure tool's call, run in the workflow (deterministic: its arguments alone decide
        the output, computed again on replay); None: too large, run it as an activity. Its
        attempt is counted and traced as an activity's is (agents/inline_step_metrics.py)."""
        try:
            result = self._call_inline(call)
        except StepFailed as exc:
            inline_attempt(call.tool, call.step_id, "failed", exc.kind)
            raise
        if result is not None:
            inline_attempt(call.tool, call.step_id, "succeeded")
        return result

    def _call_inline(self, call: ToolCall) -> ToolCallResult | None:
        tool = installed(call.tool)
        if tool is None:
            raise StepFailed("UnknownTool", f"pure tool '{call.tool}' is not installed on this "
                             "worker; pure tools are workflow code: every worker of the task "
                             "queue needs the same ones (deploy them together)", 1,
                             inline=True)
        try:
            output, conversions = call_pure(tool, call)
        except InvalidToolArguments as exc:
            raise StepFailed("InvalidArguments", str(exc), 1, inline=True) from None
        except TemporalError:  # the sandbox's refusal of I/O, say: the workflow's, visible
            raise
        except ToolError as exc:  # an input it refuses: the same input fails the same way
            raise StepFailed(type(exc).__name__, str(exc), 1, inline=True) from None
        except Exception as exc:  # a bug in the tool, or an input it did not foresee
            raise StepFailed(type(exc).__name__, f"{type(exc).__name__}: {exc}", 1,
                             inline=True) from None
        if json_size(output) > call.inline_limit:  # the activity puts it in the payload store
            return None
        now = self.now()
        return ToolCallResult(output=output, attempt=1, started_at=now, finished_at=now,
                              conversions=conversions, inline=True)


def after_first_attempt(retry: RetrySpec, retry_after_s: float | None
                        ) -> tuple[RetrySpec, timedelta]:
    """What is left of ``retry`` once its first attempt has failed elsewhere (in a local
    group): the wait before the second attempt (the tool's own ``retry_after_s`` if it asked)
    and a policy whose attempts and intervals go on from there, as Temporal's would have."""
    first = min(retry.initial_interval_s, retry.max_interval_s)
    rest = retry.model_copy(update={
        "max_attempts": retry.max_attempts - 1,
        "initial_interval_s": min(first * retry.backoff, retry.max_interval_s)})
    return rest, timedelta(seconds=retry_after_s if retry_after_s else first)


def tool_retry_policy(retry: RetrySpec) -> RetryPolicy:
    """A tool call's Temporal retry policy. A step may raise the initial interval above the
    tool's maximum (or lower the maximum below it); Temporal refuses such a policy, so every
    wait is capped at the maximum, as the simple engine's exponential wait does."""
    return RetryPolicy(
        maximum_attempts=retry.max_attempts,
        initial_interval=timedelta(seconds=min(retry.initial_interval_s, retry.max_interval_s)),
        backoff_coefficient=retry.backoff,
        maximum_interval=timedelta(seconds=retry.max_interval_s),
        non_retryable_error_types=list(NON_RETRYABLE_TOOL_ERRORS),
    )


def _log_without_activity(step: StepState, *, inline: bool = False) -> None:
    """The log line of a step no activity logged: a `wait` timer, a pure step run in the
    workflow (``inline``), or a step refused or skipped before it started (workflow.logger:
    not during replay)."""
    took = (step.finished_at - step.started_at
            if step.finished_at is not None and step.started_at is not None else 0.0)
    workflow_id = workflow.info().workflow_id
    fields = {"event": "step", "workflow_id": workflow_id, "step_id": step.id,
              "tool": step.tool, "attempt": step.attempts, "duration_s": round(took, 4),
              "outcome": step.status.value}
    if inline:
        fields["inline"] = True
    if step.error is not None:
        fields.update(error_type=step.error.type, error=step.error.message)
        when = "in the workflow (pure tool)" if inline else "before it started"
        workflow.logger.warning("%s step %s (%s): %s %s: %s: %s", workflow_id, step.id,
                                step.tool, step.status.value, when, step.error.type,
                                step.error.message, extra={"jarvis": fields})
        return
    if not step.attempts:  # skipped: its condition was false or what it needed failed
        workflow.logger.info("%s step %s (%s): %s, not run", workflow_id, step.id, step.tool,
                             step.status.value, extra={"jarvis": fields})
        return
    workflow.logger.info("%s step %s (%s) attempt %d: %s in %.3fs", workflow_id, step.id,
                         step.tool, step.attempts, step.status.value, took,
                         extra={"jarvis": fields})


def _failure(exc: ActivityError | ApplicationError, max_attempts: int,
             local: bool) -> tuple[str, str, int, str | None]:
    """(kind, message, attempts, worker) of a failed tool call. A regular activity fails with an
    ActivityError around the tool's error; a local activity raises the tool's ApplicationError
    itself (the SDK does not wrap it), and an ActivityError only for timeouts."""
    cause = exc.cause if isinstance(exc, ActivityError) else exc
    kind, message, attempts = "ActivityError", str(exc), 1
    worker = (exc.identity or None) if isinstance(exc, ActivityError) else None
    if isinstance(cause, ApplicationError):
        kind = cause.type or "ApplicationError"
        message = cause.message
        if cause.details and isinstance(cause.details[0], dict):
            attempts = int(cause.details[0].get("attempt", 1))
            worker = cause.details[0].get("worker") or worker
    elif isinstance(cause, TimeoutError):
        kind = "Timeout"
        message = f"{cause.type.name.lower() if cause.type else 'attempt'} timeout"
        if local:  # a local activity times out only once its retries are spent
            attempts = max_attempts
    if isinstance(exc, ActivityError) and exc.retry_state == RetryState.MAXIMUM_ATTEMPTS_REACHED:
        attempts = max_attempts
    return kind, message, attempts, worker
