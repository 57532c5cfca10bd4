"""The goal workflow: retrieve -> plan (LLM, validate, repair) -> review -> execute -> remember.

One durable workflow per goal. Every LLM and memory call is an activity; the state is queryable
at every stage; approval and rejection are Temporal Updates with validators.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Literal

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.llm.errors import NON_RETRYABLE_KINDS
    from agents.plan_runner import PlanRunner
    from planner.contracts.goal import (
        ApproveInput,
        Decision,
        DraftRequest,
        EditInput,
        GoalInput,
        GoalState,
        PlanDraft,
        PrepareResult,
        RejectInput,
        RememberRequest,
        RetrieveResult,
    )
    from planner.plan import Plan

GOAL_WORKFLOW = "jarvis.Goal"  # durable contracts: never rename
RETRIEVE, DRAFT, REPAIR = "planner.retrieve", "planner.draft", "planner.repair"
PREPARE, REMEMBER = "planner.prepare", "planner.remember"

PRE_APPROVED = "pre-approved by the submitter"  # `jarvis run --yes`, API submit(yes=True)
_MEMORY_RETRY = RetryPolicy(maximum_attempts=3, initial_interval=timedelta(seconds=1))


@workflow.defn(name=GOAL_WORKFLOW)
class GoalWorkflow:
    def __init__(self) -> None:
        self._state: GoalState | None = None
        self._runner: PlanRunner | None = None
        self._prepared: PrepareResult | None = None
        self._editing = False

    @workflow.query(name="state")
    def state(self) -> GoalState | None:
        if self._state is not None and self._runner is not None:
            self._state.run = self._runner.state
        return self._state

    @workflow.run
    async def run(self, inp: GoalInput) -> GoalState:
        self._state = GoalState(goal=inp.goal, policy=inp.policy)
        try:
            plan = await self._plan(inp)
        except ActivityError as exc:
            self._state.stage = "failed"
            self._state.message = _cause(exc)
            return self._state
        if plan is None or inp.dry_run:
            return self._state
        self._prepared = await self._prepare(plan)
        if self._prepared is None:
            return self._state
        if not await self._review(inp):
            return self._state
        await self._execute(self._prepared)
        await self._remember(self._prepared.execution.plan if self._prepared.execution
                             else plan)
        return self._state

    # -- planning ------------------------------------------------------------------------
    async def _plan(self, inp: GoalInput) -> Plan | None:
        st = self._require()
        st.stage = "retrieving"
        found: RetrieveResult = await workflow.execute_activity(
            RETRIEVE, inp.goal, result_type=RetrieveResult,
            start_to_close_timeout=timedelta(seconds=60), retry_policy=_MEMORY_RETRY)
        if found.reuse is not None:
            st.source, st.template_id, st.plan = "template", found.reuse.template_id, \
                found.reuse.plan
            st.message = found.note or "reused a stored template; no LLM call"
            st.stage = "planned" if inp.dry_run else st.stage
            return found.reuse.plan
        st.source, st.stage = "llm", "planning"
        draft = await self._llm(DRAFT, DraftRequest(goal=inp.goal, examples=found.examples), inp)
        while draft.problems and st.repair_rounds < inp.repair_rounds:
            st.repair_rounds += 1
            st.stage = "repairing"
            draft = await self._llm(REPAIR, DraftRequest(goal=inp.goal,
                                                         examples=found.examples,
                                                         previous=draft), inp)
        if draft.problems or draft.plan is None:
            st.stage = "invalid"
            st.message = (f"the plan is still invalid after {st.repair_rounds} repair "
                          f"round(s); nothing was run")
            return None
        st.stage = "planned" if inp.dry_run else st.stage
        return draft.plan

    async def _llm(self, activity: str, request: DraftRequest, inp: GoalInput) -> PlanDraft:
        st = self._require()
        draft: PlanDraft = await workflow.execute_activity(
            activity, request, result_type=PlanDraft,
            start_to_close_timeout=timedelta(seconds=inp.llm_timeout_s + 30),
            retry_policy=RetryPolicy(maximum_attempts=5, initial_interval=timedelta(seconds=1),
                                     maximum_interval=timedelta(seconds=60),
                                     non_retryable_error_types=[*NON_RETRYABLE_KINDS,
                                                                "LLMNotConfigured"]),
        )
        st.usage = st.usage + draft.usage
        st.plan, st.problems = draft.plan, draft.problems
        st.fixes += draft.fixes
        if draft.prompt and draft.prompt not in st.prompts:
            st.prompts.append(draft.prompt)
        return draft

    async def _prepare(self, plan: Plan) -> PrepareResult | None:
        st = self._require()
        prepared: PrepareResult = await workflow.execute_activity(
            PREPARE, plan, result_type=PrepareResult,
            start_to_close_timeout=timedelta(seconds=30), retry_policy=_MEMORY_RETRY)
        st.risks = prepared.risks
        if prepared.problems or prepared.execution is None:
            st.problems, st.stage = prepared.problems, "invalid"
            st.message = "the plan does not validate against today's tools; nothing was run"
            return None
        return prepared

    # -- review --------------------------------------------------------------------------
    async def _review(self, inp: GoalInput) -> bool:
        st = self._require()
        risks = set(st.risks.values())
        if "dangerous" not in risks:
            if inp.policy == "approve-all":
                self._decide("approve", inp.submitted_by, PRE_APPROVED)
                return True
            if inp.policy == "auto-read-only" and risks <= set(inp.auto_approve):
                self._decide("approve", f"policy:{inp.policy}",
                             f"every step is {'/'.join(sorted(risks)) or 'empty'}")
                return True
        st.stage = "awaiting_approval"
        timeout = timedelta(seconds=inp.approval_timeout_s) if inp.approval_timeout_s else None
        if timeout:
            st.approval_deadline = (workflow.now() + timeout).isoformat()
        try:
            await workflow.wait_condition(self._decided, timeout=timeout)
        except TimeoutError:
            st.stage = "expired"
            st.message = (f"no decision within {inp.approval_timeout_s:.0f}s; nothing was run "
                          "(submit the goal again to plan anew)")
            return False
        last = self._last_decision()
        if last is not None and last.action == "reject":
            st.stage = "rejected"
            st.message = f"rejected by {last.by}: {last.reason}"
            return False
        return True

    def _decided(self) -> bool:
        return self._last_decision() is not None and not self._editing

    def _last_decision(self) -> Decision | None:
        decisions = [d for d in self._require().decisions if d.action != "edit"]
        return decisions[-1] if decisions else None

    def _decide(self, action: Literal["approve", "reject", "edit"], by: str,
                reason: str = "") -> None:
        self._require().decisions.append(Decision(action=action,
                                                  by=by, at=workflow.now().isoformat(),
                                                  reason=reason))

    @workflow.update(name="approve")
    def approve(self, decision: ApproveInput) -> GoalState:
        self._decide("approve", decision.by, decision.note)
        return self._require()

    @approve.validator
    def _validate_approve(self, decision: ApproveInput) -> None:
        self._must_await("approve")

    @workflow.update(name="reject")
    def reject(self, decision: RejectInput) -> GoalState:
        self._decide("reject", decision.by, decision.reason)
        return self._require()

    @reject.validator
    def _validate_reject(self, decision: RejectInput) -> None:
        self._must_await("reject")

    @workflow.update(name="edit")
    async def edit(self, change: EditInput) -> GoalState:
        """Replace the plan with an edited one, if it validates; the goal keeps waiting."""
        st = self._require()
        self._editing = True
        try:
            prepared: PrepareResult = await workflow.execute_activity(
                PREPARE, change.plan, result_type=PrepareResult,
                start_to_close_timeout=timedelta(seconds=30), retry_policy=_MEMORY_RETRY)
        finally:
            self._editing = False
        if prepared.problems or prepared.execution is None:
            raise ApplicationError(
                f"edit refused: the edited plan has {len(prepared.problems)} problem(s); the "
                "goal still waits for a decision on the current plan",
                [p.model_dump() for p in prepared.problems], type="InvalidEdit",
                non_retryable=True)
        self._prepared = prepared
        st.plan, st.risks, st.problems = change.plan, prepared.risks, []
        self._decide("edit", change.by, change.note)
        return st

    @edit.validator
    def _validate_edit(self, change: EditInput) -> None:
        self._must_await("edit")

    def _must_await(self, action: str) -> None:
        st = self._state
        if st is None or st.stage != "awaiting_approval" or self._last_decision() is not None:
            stage = st.stage if st else "starting"
            raise ValueError(f"cannot {action}: the goal is {stage}, not awaiting approval")
        if self._editing:
            raise ValueError(f"cannot {action}: an edit is being validated; try again")

    # -- execution and memory ------------------------------------------------------------
    async def _execute(self, prepared: PrepareResult) -> None:
        st = self._require()
        assert prepared.execution is not None
        last = self._last_decision()
        human = last is not None and last.action == "approve" and not last.by.startswith(
            "policy:") and last.reason != PRE_APPROVED
        execution = prepared.execution.model_copy(update={"allow_dangerous": human})
        st.stage = "executing"
        self._runner = PlanRunner(execution)
        st.run = await self._runner.run()
        st.usage = st.usage + st.run.usage
        st.stage = "succeeded" if st.run.status == "succeeded" else "failed"
        if st.run.status != "succeeded":
            st.message = st.run.failure_report()

    async def _remember(self, plan: Plan) -> None:
        st = self._require()
        run = st.run
        if run is None:
            return
        final = st.stage
        st.stage = "remembering"
        started = min((s.started_at for s in run.steps if s.started_at), default=0.0)
        finished = max((s.finished_at for s in run.steps if s.finished_at), default=started)
        request = RememberRequest(goal=st.goal, plan=plan, template_id=st.template_id,
                                  succeeded=final == "succeeded",
                                  duration_s=max(0.0, finished - started),
                                  tokens=st.usage.total_tokens)
        template_id: str | None = await workflow.execute_activity(
            REMEMBER, request, start_to_close_timeout=timedelta(seconds=60),
            retry_policy=_MEMORY_RETRY)
        st.template_id = st.template_id or template_id
        st.stage = final

    def _require(self) -> GoalState:
        assert self._state is not None
        return self._state


def _cause(exc: ActivityError) -> str:
    """The innermost message of an activity failure, with its type."""
    cause = exc.cause
    if isinstance(cause, ApplicationError):
        return f"{cause.type}: {cause.message}" if cause.type else cause.message
    return str(cause or exc)
