"""The goal workflow: retrieve -> plan (LLM, validate, repair) -> review -> execute -> remember.

One durable workflow per goal. Every LLM and memory call is an activity; the state is queryable
at every stage; approval and rejection are Temporal Updates with validators.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from agents.goal_models import (
        ApproveInput,
        Decision,
        DraftRequest,
        GoalInput,
        GoalState,
        PlanDraft,
        PrepareResult,
        RejectInput,
        RememberRequest,
        RetrieveResult,
    )
    from agents.plan_runner import PlanRunner
    from planner.llm.errors import NON_RETRYABLE_KINDS
    from planner.plan import Plan

GOAL_WORKFLOW = "jarvis.Goal"  # durable contracts: never rename
RETRIEVE, DRAFT, REPAIR = "planner.retrieve", "planner.draft", "planner.repair"
PREPARE, REMEMBER = "planner.prepare", "planner.remember"

_MEMORY_RETRY = RetryPolicy(maximum_attempts=3, initial_interval=timedelta(seconds=1))


@workflow.defn(name=GOAL_WORKFLOW)
class GoalWorkflow:
    def __init__(self) -> None:
        self._state: GoalState | None = None
        self._runner: PlanRunner | None = None

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
        prepared = await self._prepare(plan)
        if prepared is None:
            return self._state
        if not await self._review(inp):
            return self._state
        await self._execute(prepared)
        await self._remember(plan)
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
        read_only = all(r == "read-only" for r in st.risks.values())
        dangerous = any(r == "dangerous" for r in st.risks.values())
        if (inp.policy == "auto-read-only" and read_only) or (
                inp.policy == "approve-all" and not dangerous):
            st.decisions.append(Decision(action="approve", by=f"policy:{inp.policy}",
                                         at=workflow.now().isoformat()))
            return True
        st.stage = "awaiting_approval"
        await workflow.wait_condition(lambda: bool(st.decisions))
        if st.decisions[-1].action == "reject":
            st.stage = "rejected"
            st.message = f"rejected by {st.decisions[-1].by}: {st.decisions[-1].reason}"
            return False
        return True

    @workflow.update(name="approve")
    def approve(self, decision: ApproveInput) -> GoalState:
        st = self._require()
        st.decisions.append(Decision(action="approve", by=decision.by,
                                     at=workflow.now().isoformat(), reason=decision.note))
        return st

    @approve.validator
    def _validate_approve(self, decision: ApproveInput) -> None:
        self._must_await("approve")

    @workflow.update(name="reject")
    def reject(self, decision: RejectInput) -> GoalState:
        st = self._require()
        st.decisions.append(Decision(action="reject", by=decision.by,
                                     at=workflow.now().isoformat(), reason=decision.reason))
        return st

    @reject.validator
    def _validate_reject(self, decision: RejectInput) -> None:
        self._must_await("reject")

    def _must_await(self, action: str) -> None:
        st = self._state
        if st is None or st.stage != "awaiting_approval" or st.decisions:
            stage = st.stage if st else "starting"
            raise ValueError(f"cannot {action}: the goal is {stage}, not awaiting approval")

    # -- execution and memory ------------------------------------------------------------
    async def _execute(self, prepared: PrepareResult) -> None:
        st = self._require()
        assert prepared.execution is not None
        human = any(d.action == "approve" and not d.by.startswith("policy:")
                    for d in st.decisions)
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
