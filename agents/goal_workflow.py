"""The goal workflow: retrieve -> plan (LLM, validate, repair) -> review -> execute -> remember.

One durable workflow per goal. Every LLM and memory call is an activity; the state exists from
the first moment (``@workflow.init``) and queries only read it; approval, rejection and edits
are Updates with validators; every change goes to the event log (``events`` query).

Failure convention (the same as plan runs, agents/plan_workflow.py): a goal whose work failed
(stage ``failed`` or ``invalid``) ends as a failed workflow with
``ApplicationError(type="GoalFailed", details=[GoalState])``; succeeded, planned (dry run),
rejected and expired goals complete with their state; cancellation is Temporal's own. Histories
recorded before this convention complete as they did (``workflow.patched``).
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any, Literal

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError, RetryState

with workflow.unsafe.imports_passed_through():
    from agents import goal_metrics, workflow_spans
    from agents.history_budget import log_continue, run_resume
    from agents.plan_runner import PlanRunner, tool_retry_policy
    from agents.search_attributes import goal_attributes
    from agents.workflow_levers import LEVERS
    from planner.approval import plan_digest, short
    from planner.budget import Spent, overrun, tighten
    from planner.contracts.event_record import LogSnapshot
    from planner.contracts.events import EventLog, EventsRequest, GoalEventPage
    from planner.contracts.goal_flow import (
        FAILED_STAGES,
        ApproveInput,
        DecideStepInput,
        Decision,
        DecisionAction,
        DraftRequest,
        EditInput,
        GoalInput,
        GoalResume,
        GoalState,
        PlanDraft,
        PrepareRequest,
        PrepareResult,
        Recovery,
        RejectInput,
        RememberRequest,
        ReplanRequest,
        RetrieveRequest,
        RetrieveResult,
        RetryFrom,
        Stage,
        Undo,
    )
    from planner.contracts.names import (
        APPROVE_UPDATE,
        DECIDE_STEP_UPDATE,
        DRAFT_ACTIVITY,
        EDIT_UPDATE,
        EVENTS_QUERY,
        GOAL_FAILED,
        GOAL_WORKFLOW,
        INVALID_EDIT,
        LLM_NOT_CONFIGURED,
        NON_RETRYABLE_LLM_ERRORS,
        OVER_BUDGET,
        PREPARE_ACTIVITY,
        REJECT_UPDATE,
        REMEMBER_ACTIVITY,
        REPAIR_ACTIVITY,
        REPLAN_ACTIVITY,
        RETRIEVE_ACTIVITY,
        STATE_QUERY,
    )
    from planner.contracts.plan_run import (
        ExecutePlanInput,
        GateDecision,
        RunState,
        StepState,
        ToolCall,
        ToolCallResult,
    )
    from planner.plan import Plan
    from planner.recovery import (
        compensation_args,
        descendants,
        failed_step,
        finished_outputs,
        resume_from,
        with_args,
    )
    from planner.scheduler import StepStatus, ancestors
    from planner.tools import Risk

PRE_APPROVED = "pre-approved by the submitter"  # `jarvis run --yes`, API submit(yes=True)
FAILURE_PATCH = "goal-failure-fails-workflow"  # failed/invalid goals fail the workflow
BUDGET_PATCH = "goal-budgets"  # limits checked before each LLM call and step
# goals started by a schedule run the plan approved at its creation (GoalInput.approved_plan)
SCHEDULE_PATCH = "scheduled-approved-plan"
SCHEDULED_BY = "schedule:"  # the prefix of the approval a scheduled run's goal records
# a step that failed for good is replanned (finished work kept); an abandoned goal's finished
# side effects are undone (compensations); a person's retry from a step (GoalInput.retry)
RECOVERY_PATCH = "goal-recovery"
RETRY_PATCH = "goal-retry-from-step"
# retrieve, prepare and remember run as local activities (fewer round trips per goal)
MEMORY_LOCAL_PATCH = "memory-local-activities"
# every patch above, decided once in the goal's first workflow task: a new goal records this one
# marker and takes every new path without calling patched() again. A patched() call made right
# after a local activity's result can land, in a replay, in an earlier workflow task than the
# marker it recorded (the SDK delivers the result where the workflow task was split, e.g. to
# answer a query while the local activity ran), and then its marker is a nondeterminism error.
# Goals recorded before this patch decide each patch where they did.
PATCHES_AT_START = "goal-patches-at-start"
# the patches that marker decides (a later patch needs a marker of its own: goals started with
# this one never ran its new branch)
DECIDED_AT_START = frozenset({FAILURE_PATCH, BUDGET_PATCH, SCHEDULE_PATCH, RECOVERY_PATCH,
                              RETRY_PATCH, MEMORY_LOCAL_PATCH})
_MEMORY_RETRY = RetryPolicy(maximum_attempts=3, initial_interval=timedelta(seconds=1))
_LLM_ATTEMPTS = 5
# a memory call takes well under a second (the first one loads the embedding model); the
# timeout is how long a goal waits when the worker running it died
_MEMORY_TIMEOUT = timedelta(seconds=20)


@workflow.defn(name=GOAL_WORKFLOW)
class GoalWorkflow:
    @workflow.init
    def __init__(self, inp: GoalInput) -> None:
        self._state = GoalState(goal=inp.goal, policy=inp.policy,
                                stage_since=workflow.now().isoformat(),
                                worker_version=_worker_version())
        self._log = EventLog()
        self._prepared: PrepareResult | None = None
        self._editing = False
        self._template_cost: float | None = None  # a reused template's cost per run, if known
        self._grants: dict[str, str] = {}  # a person's grants for the dangerous steps
        self._gates: list[str] = []  # steps the approval left to their gates
        self._until: str | None = None  # "approve up to step X"
        self._gate_book: dict[str, GateDecision] = {}  # decisions at the steps' gates
        self._review_from = 0  # decisions before this index belong to an earlier review
        self._limits = inp.budget  # the goal's own budget; the plan's can only tighten it
        self._state.budget = inp.budget
        self._index = inp.index
        self._all_patched = workflow.patched(PATCHES_AT_START)
        if inp.resume is not None:  # continued as new while executing (agents/history_budget)
            self._state = inp.resume.state
            self._log = EventLog(inp.resume.log)
            self._grants = dict(inp.resume.execution.grants)

    def _memory_local(self) -> bool:
        """Template memory and the plan check as local activities (MEMORY_LOCAL_PATCH)?"""
        return LEVERS.memory_local and self._patched(MEMORY_LOCAL_PATCH)

    def _patched(self, patch_id: str) -> bool:
        """``workflow.patched(patch_id)``, decided at the start for goals that recorded
        PATCHES_AT_START (only the patches it decides: DECIDED_AT_START)."""
        if patch_id not in DECIDED_AT_START:
            raise ValueError(f"patch {patch_id!r} is not decided by {PATCHES_AT_START}")
        return self._all_patched or workflow.patched(patch_id)

    @workflow.query(name=STATE_QUERY)
    def state(self) -> GoalState:
        return self._state

    @workflow.query(name=EVENTS_QUERY)
    def events(self, request: EventsRequest) -> GoalEventPage:
        return GoalEventPage(events=self._log.after(request), first_seq=self._log.first_seq,
                             state=self._state)

    @workflow.run
    async def run(self, inp: GoalInput) -> GoalState:
        try:
            if inp.resume is None:
                self._log.add("stage", self._state.stage)
                _log_stage(self._state)
                await self._pursue(inp)
            else:
                execution = inp.resume.execution
                await self._run_plan(execution, inp)
                await self._remember(execution.plan)
            # an Update still running (an edit being validated) finishes before the goal ends
            await workflow.wait_condition(workflow.all_handlers_finished)
        except asyncio.CancelledError:
            goal_metrics.goal_ended("cancelled")
            raise
        self._log.add("done", self._state.stage)
        goal_metrics.goal_ended(self._state.stage)
        if self._state.stage in FAILED_STAGES and self._patched(FAILURE_PATCH):
            raise ApplicationError(f"goal {self._state.stage}: {self._state.message}",
                                   self._state.model_dump(mode="json"), type=GOAL_FAILED,
                                   non_retryable=True)
        return self._state

    async def _pursue(self, inp: GoalInput) -> None:
        if inp.approved_plan is not None and self._patched(SCHEDULE_PATCH):
            await self._run_approved(inp, inp.approved_plan)
            return
        if inp.retry is not None and self._patched(RETRY_PATCH):
            await self._retry(inp, inp.retry)
            return
        try:
            plan = await self._plan(inp)
        except ActivityError as exc:
            self._state.message = _cause(exc)
            self._set_stage("failed")
            return
        except MemoryCallFailed as exc:
            self._state.message = f"gave up after {_MEMORY_RETRY.maximum_attempts} attempts: {exc}"
            self._set_stage("failed")
            return
        except OverBudget as exc:
            self._state.message = (f"over budget before planning finished: {exc}; nothing was "
                                   "run")
            self._set_stage("over_budget")
            return
        if plan is None or inp.dry_run:
            return
        self._prepared = await self._prepare(plan)
        if self._prepared is None or not await self._review(inp):
            return
        await self._execute(self._prepared, inp)
        await self._remember(self._prepared.execution.plan if self._prepared.execution
                             else plan)

    async def _run_approved(self, inp: GoalInput, plan: Plan) -> None:
        """A scheduled run: the plan approved when the schedule was created, validated against
        today's tools; run without review if nothing changed, else wait for a person."""
        st = self._state
        st.source, st.schedule_id = "schedule", inp.schedule_id
        st.message = (f"the plan approved by {inp.approved_by or 'unknown'} for schedule "
                      f"{inp.schedule_id or '?'}; no planning, no LLM call")
        self._set_plan(plan)
        self._prepared = await self._check(plan)
        self._show_checks(self._prepared)
        st.problems = self._prepared.problems
        why = _needs_review(inp, plan, self._prepared)
        if why:
            st.message = why
            if not await self._await_decision(inp):
                return
        else:
            self._decide("approve", f"{SCHEDULED_BY}{inp.schedule_id or '?'}",
                         f"approved by {inp.approved_by or 'unknown'} when the schedule was "
                         f"created (plan {short(inp.approved_digest)})")
        if self._prepared is None or self._prepared.execution is None:
            return  # an approval of an invalid plan is refused by the validator
        await self._execute(self._prepared, inp)

    async def _retry(self, inp: GoalInput, retry: RetryFrom) -> None:
        """A person's retry of the ended goal from ``retry.step``: the plan (that step's
        arguments edited, if given) validated again; the steps the retried one does not lead
        to keep their outcome, the rest run (and so do steps whose effects were undone). A
        dangerous step to run waits for an approval."""
        st = self._state
        st.source, st.template_id, st.retried_from = retry.source, retry.template_id, retry.step
        plan = with_args(retry.plan, retry.step, retry.args)
        self._set_plan(plan)
        self._prepared = await self._prepare(plan)
        if self._prepared is None:
            return
        rerun = descendants([retry.step, *retry.undone], plan.dependency_map())
        kept = [s.id for s in retry.run.steps
                if s.id not in rerun and s.status is StepStatus.SUCCEEDED]
        st.message = (f"retried from step '{retry.step}' by {retry.by}"
                      f"{' with new arguments' if retry.args is not None else ''}: "
                      f"{len(kept)} finished step(s) kept ({', '.join(kept) or 'none'}), "
                      f"{len(rerun)} to run")
        dangerous = [s for s in plan.steps if s.id in rerun
                     and self._prepared.risks.get(s.id) == Risk.DANGEROUS]
        if dangerous:
            st.message += (f"; step(s) {', '.join(s.id for s in dangerous)} use a dangerous "
                           "tool: approve this run to go on")
            if not await self._await_decision(inp):
                return
        else:
            self._decide("retry", retry.by, f"retry from step '{retry.step}'", step=retry.step)
        execution = self._execution(self._prepared, inp)
        # the person chose the retried step and its arguments: it does not ask again at a gate
        gates = [g for g in execution.gates if g != retry.step]
        st.gates = gates
        execution = execution.model_copy(
            update={"resume": resume_from(plan, retry.run, rerun), "gates": gates})
        await self._run_plan(execution, inp)
        await self._remember(execution.plan)

    # -- state changes (each one an event) ------------------------------------------------
    def _set_stage(self, stage: Stage) -> None:
        if stage != self._state.stage:
            self._state.stage = stage
            self._state.stage_since = workflow.now().isoformat()
            self._state.worker_version = _worker_version()
            self._log.add("stage", stage)
            _log_stage(self._state)
            if self._index:  # operators' queries (agents/search_attributes.py)
                workflow.upsert_search_attributes(goal_attributes(self._state))

    def _set_plan(self, plan: Plan | None) -> None:
        if plan != self._state.plan:
            self._state.plan = plan
            self._state.plan_digest = plan_digest(plan) if plan is not None else None
            if plan is not None:
                self._state.budget = tighten(self._limits, plan.budget)
                self._log.add("plan", self._state.stage)

    def _step_changed(self, step: StepState) -> None:
        self._log.add("step", self._state.stage, step.id, step.status.value)

    # -- planning ------------------------------------------------------------------------
    async def _plan(self, inp: GoalInput) -> Plan | None:
        st = self._state
        found: RetrieveResult = await _memory(RETRIEVE_ACTIVITY, RetrieveRequest(goal=inp.goal),
                                              RetrieveResult, _MEMORY_TIMEOUT,
                                              self._memory_local())
        if found.reuse is not None:
            st.source, st.template_id = "template", found.reuse.template_id
            self._template_cost = found.reuse.avg_cost_usd
            st.message = found.note or "reused a stored template; no LLM call"
            self._set_plan(found.reuse.plan)
            if inp.dry_run:
                self._set_stage("planned")
            return found.reuse.plan
        st.source = "llm"
        if found.note:  # e.g. template memory was unavailable
            st.message = found.note
        self._set_stage("planning")
        draft = await self._llm(DRAFT_ACTIVITY, DraftRequest(goal=inp.goal,
                                                             examples=found.examples), inp)
        while draft.problems and st.repair_rounds < inp.repair_rounds:
            st.repair_rounds += 1
            self._set_stage("repairing")
            draft = await self._llm(REPAIR_ACTIVITY, DraftRequest(
                goal=inp.goal, examples=found.examples, previous=draft), inp)
        goal_metrics.repair_rounds(st.repair_rounds)
        if draft.problems or draft.plan is None:
            st.message = (f"the plan is still invalid after {st.repair_rounds} repair "
                          f"round(s); nothing was run")
            self._set_stage("invalid")
            return None
        if inp.dry_run:
            self._set_stage("planned")
        return draft.plan

    async def _llm(self, activity: str, request: DraftRequest, inp: GoalInput) -> PlanDraft:
        st = self._state
        draft = await self._ask_planner(activity, request, inp)
        st.problems = draft.problems
        goal_metrics.plan_problems(draft.problems)
        self._set_plan(draft.plan)
        st.fixes += draft.fixes
        if draft.prompt and draft.prompt not in st.prompts:
            st.prompts.append(draft.prompt)
        return draft

    async def _ask_planner(self, activity: str, request: DraftRequest | ReplanRequest,
                           inp: GoalInput) -> PlanDraft:
        """One planning LLM call (an activity with retries), within the budget; its tokens
        are counted."""
        st = self._state
        if st.budget is not None and self._patched(BUDGET_PATCH):
            reason = overrun(st.budget, self._spent(), llm_call=True)
            if reason:
                raise OverBudget(f"{reason} (spent {self._spent().summary()})")
        draft: PlanDraft = await workflow.execute_activity(
            activity, request, result_type=PlanDraft,
            start_to_close_timeout=timedelta(seconds=inp.llm_timeout_s + 30),
            retry_policy=RetryPolicy(maximum_attempts=_LLM_ATTEMPTS,
                                     initial_interval=timedelta(seconds=1),
                                     maximum_interval=timedelta(seconds=60),
                                     non_retryable_error_types=[*NON_RETRYABLE_LLM_ERRORS,
                                                                LLM_NOT_CONFIGURED]),
        )
        st.usage = st.usage + draft.usage
        return draft

    async def _prepare(self, plan: Plan) -> PrepareResult | None:
        st = self._state
        prepared = await self._check(plan)
        self._show_checks(prepared)
        st.estimate_usd = _estimate(st, plan, prepared, self._template_cost)
        if prepared.problems or prepared.execution is None:
            goal_metrics.plan_problems(prepared.problems)
            st.problems = prepared.problems
            st.message = "the plan does not validate against today's tools; nothing was run"
            self._set_stage("invalid")
            return None
        return prepared

    def _show_checks(self, prepared: PrepareResult) -> None:
        """What the review shows of a prepared plan: each step's risk and the conversions of
        its arguments at the step boundary."""
        self._state.risks, self._state.conversions = prepared.risks, prepared.conversions

    async def _check(self, plan: Plan) -> PrepareResult:
        result: PrepareResult = await _memory(PREPARE_ACTIVITY, PrepareRequest(plan=plan),
                                              PrepareResult, timedelta(seconds=30),
                                              self._memory_local())
        return result

    # -- review --------------------------------------------------------------------------
    async def _review(self, inp: GoalInput) -> bool:
        st = self._state
        risks = set(st.risks.values())
        if inp.policy == "step-gates":  # each step that is not read-only asks at its gate
            self._decide("approve", f"policy:{inp.policy}", "the steps that are not "
                         f"{'/'.join(sorted(inp.auto_approve)) or 'read-only'} wait for a "
                         "person at their gates")
            return True
        if "dangerous" not in risks:
            if inp.policy == "approve-all":
                self._decide("approve", inp.submitted_by, PRE_APPROVED)
                return True
            if inp.policy == "auto-read-only" and risks <= set(inp.auto_approve):
                self._decide("approve", f"policy:{inp.policy}",
                             f"every step is {'/'.join(sorted(risks)) or 'empty'}")
                return True
        return await self._await_decision(inp)

    async def _await_decision(self, inp: GoalInput) -> bool:
        """Wait for a person's approval, rejection or the approval's expiry."""
        st = self._state
        self._review_from = len(st.decisions)  # earlier decisions decided earlier reviews
        timeout = timedelta(seconds=inp.approval_timeout_s) if inp.approval_timeout_s else None
        if timeout:
            st.approval_deadline = (workflow.now() + timeout).isoformat()
        self._set_stage("awaiting_approval")
        try:
            await workflow.wait_condition(self._decided, timeout=timeout)
        except TimeoutError:
            st.message = (f"no decision within {inp.approval_timeout_s:.0f}s; nothing was run "
                          "(submit the goal again to plan anew)")
            self._set_stage("expired")
            return False
        last = self._last_decision()
        if last is not None and last.action == "reject":
            st.message = f"rejected by {last.by}: {last.reason}"
            self._set_stage("rejected")
            return False
        return True

    def _decided(self) -> bool:
        return self._last_decision() is not None and not self._editing

    def _last_decision(self) -> Decision | None:
        decisions = [d for d in self._state.decisions[self._review_from:]
                     if d.action in ("approve", "reject")]
        return decisions[-1] if decisions else None

    def _decide(self, action: DecisionAction, by: str, reason: str = "",
                step: str | None = None) -> None:
        self._state.decisions.append(Decision(action=action, by=by, step=step,
                                              at=workflow.now().isoformat(), reason=reason))
        self._log.add("decision", self._state.stage, step_id=step, status=action)

    @workflow.update(name=APPROVE_UPDATE)
    def approve(self, decision: ApproveInput) -> GoalState:
        self._grants = dict(decision.grants)
        self._gates, self._until = list(decision.gates), decision.until
        self._decide("approve", decision.by, decision.note)
        return self._state

    @approve.validator
    def _validate_approve(self, decision: ApproveInput) -> None:
        self._must_await("approve")
        self._must_be_current("approve", decision.plan_digest)
        plan = self._state.plan
        ids = {s.id for s in plan.steps} if plan else set()
        unknown = [s for s in [*decision.gates, *([decision.until] if decision.until else [])]
                   if s not in ids]
        if unknown:
            raise ValueError(f"cannot approve: no step {', '.join(map(repr, unknown))} in the "
                             f"plan (its steps: {', '.join(sorted(ids))})")
        if self._prepared is not None and self._prepared.execution is None:
            # only a scheduled run waits for review with a plan that does not validate
            raise ValueError("cannot approve: the plan does not validate against today's "
                             "tools; edit it into one that does, or reject this run")

    @workflow.update(name=REJECT_UPDATE)
    def reject(self, decision: RejectInput) -> GoalState:
        self._decide("reject", decision.by, decision.reason)
        return self._state

    @reject.validator
    def _validate_reject(self, decision: RejectInput) -> None:
        self._must_await("reject")

    @workflow.update(name=EDIT_UPDATE)
    async def edit(self, change: EditInput) -> GoalState:
        """Replace the plan with an edited one, if it validates; the goal keeps waiting."""
        st = self._state
        self._editing = True
        try:
            prepared = await self._check(change.plan)
        finally:
            self._editing = False
        if prepared.problems or prepared.execution is None:
            raise ApplicationError(
                f"edit refused: the edited plan has {len(prepared.problems)} problem(s); the "
                "goal still waits for a decision on the current plan",
                [p.model_dump() for p in prepared.problems], type=INVALID_EDIT,
                non_retryable=True)
        if st.stage != "awaiting_approval":  # it expired while the edit was being checked
            raise ApplicationError(f"edit refused: the goal is {st.stage} now",
                                   type="DecisionTooLate", non_retryable=True)
        self._prepared = prepared
        self._show_checks(prepared)
        st.problems = []
        st.estimate_usd = _estimate(st, change.plan, prepared)  # edited: not the template's
        self._set_plan(change.plan)
        self._decide("edit", change.by, change.note)
        return st

    @edit.validator
    def _validate_edit(self, change: EditInput) -> None:
        self._must_await("edit")
        self._must_be_current("edit", change.plan_digest)

    def _must_be_current(self, action: str, digest: str | None) -> None:
        """A decision names the version of the plan the person saw; only the current one."""
        current = self._state.plan_digest
        if digest is None:
            raise ValueError(f"cannot {action}: say which version of the plan you saw "
                             f"(plan_digest; the current one is {short(current)})")
        if digest != current:
            raise ValueError(f"cannot {action}: the plan changed since you saw it (you saw "
                             f"version {short(digest)}, it is now {short(current)}); look at "
                             "the current plan and decide again")

    def _must_await(self, action: str) -> None:
        st = self._state
        if st.stage != "awaiting_approval" or self._last_decision() is not None:
            raise ValueError(f"cannot {action}: the goal is {st.stage}, not awaiting approval")
        if self._editing:
            raise ValueError(f"cannot {action}: an edit is being validated; try again")

    @workflow.update(name=DECIDE_STEP_UPDATE)
    def decide_step(self, decision: DecideStepInput) -> GoalState:
        """A person's decision at a step's gate: approved, the step starts with the arguments
        they saw; rejected, it is skipped with what depends on it and the rest goes on."""
        self._gate_book[decision.step_id] = GateDecision(
            step_id=decision.step_id, approve=decision.approve, by=decision.by,
            at=workflow.now().isoformat(), note=decision.note, grant=decision.grant,
            abandon=decision.abandon and not decision.approve)
        action: DecisionAction = ("approve_step" if decision.approve else
                                  "abandon" if decision.abandon else "reject_step")
        self._decide(action, decision.by, decision.note, step=decision.step_id)
        return self._state

    @decide_step.validator
    def _validate_decide_step(self, decision: DecideStepInput) -> None:
        run, action = self._state.run, "approve" if decision.approve else "reject"
        steps = {s.id: s for s in run.steps} if run else {}
        step = steps.get(decision.step_id)
        if step is None:
            raise ValueError(f"cannot {action} step '{decision.step_id}': "
                             + (f"no such step (steps: {', '.join(steps)})" if steps else
                                f"the goal is {self._state.stage}, not running its plan"))
        if step.gate != "waiting" or decision.step_id in self._gate_book:
            now = step.gate or step.status.value
            raise ValueError(f"cannot {action} step '{decision.step_id}': it is not waiting "
                             f"at a gate (it is {now})")

    def _gated_steps(self, plan: Plan, inp: GoalInput) -> list[str]:
        """Steps that wait at their gates: under the step-gates policy every step whose risk
        is not in ``auto_approve``; those the approval named; with "approve up to X" every
        step X does not need."""
        gates = set(self._gates)
        if inp.policy == "step-gates":
            gates |= {sid for sid, risk in self._state.risks.items()
                      if risk not in inp.auto_approve}
        if self._until is not None:
            needed = ancestors(self._until, plan.dependency_map()) | {self._until}
            gates |= {s.id for s in plan.steps if s.id not in needed}
        return [s.id for s in plan.steps if s.id in gates]

    # -- execution and memory ------------------------------------------------------------
    async def _execute(self, prepared: PrepareResult, inp: GoalInput) -> None:
        await self._run_plan(self._execution(prepared, inp), inp)

    def _execution(self, prepared: PrepareResult, inp: GoalInput) -> ExecutePlanInput:
        """The run's input: the prepared plan with what the last approval gave (a person's
        grants for dangerous steps), its gates, and the budget left."""
        st = self._state
        if prepared.execution is None:  # _prepare returns only prepared plans
            raise ApplicationError("no prepared plan to execute", type="BadState",
                                   non_retryable=True)
        last = self._last_decision()
        human = last is not None and last.action == "approve" and not last.by.startswith(
            ("policy:", SCHEDULED_BY)) and last.reason != PRE_APPROVED
        update = {"allow_dangerous": human, "grants": self._grants if human else {}}
        gates = self._gated_steps(prepared.execution.plan, inp)
        if gates:
            update.update(gates=gates, gate_timeout_s=inp.approval_timeout_s)
            self._state.gates = gates
        if st.budget is not None and self._patched(BUDGET_PATCH):
            update.update(budget=st.budget, spent_before=self._spent(),
                          started_at=workflow.info().workflow_start_time.timestamp())
        return prepared.execution.model_copy(update=update)

    async def _run_plan(self, execution: ExecutePlanInput, inp: GoalInput) -> None:
        """Run the plan (or go on with it after a continue-as-new) and set the outcome; a step
        that fails for good is replanned while rounds are left (finished work kept), and an
        abandoned goal's finished side effects are undone."""
        st = self._state
        while True:
            runner = PlanRunner(execution, on_step=self._step_changed,
                                gate_book=self._gate_book)
            st.run = runner.state  # the state query reads the live run state from here on
            self._set_stage("executing")
            run = await runner.run()
            if runner.paused:  # past the history budget: the next run goes on from here
                await workflow.wait_condition(workflow.all_handlers_finished)
                resume = run_resume(runner, self._log)
                log_continue("goal", resume)
                run_only = resume.model_copy(update={"log": LogSnapshot()})  # the goal's log
                carried = GoalResume(state=st.model_copy(update={"run": None}),
                                     execution=execution.model_copy(update={"resume": run_only}),
                                     log=resume.log)
                workflow.continue_as_new(inp.model_copy(update={"resume": carried}))
            st.usage = st.usage + run.usage
            if st.recoveries and st.recoveries[-1].outcome == "running":
                st.recoveries[-1].outcome = ("succeeded" if run.status == "succeeded"
                                             else "failed")
            if runner.abandoned:
                st.message = runner.abandoned
                await self._compensate(execution, run)
                self._set_stage("rejected")
                return
            if run.status == "succeeded":
                self._set_stage("succeeded")
                return
            st.message = run.failure_report()
            stopped = [s for s in run.steps if s.error and s.error.type == OVER_BUDGET]
            if stopped and stopped[0].error:
                undone = [s.id for s in run.steps if s.status.value != "succeeded"]
                st.message = (f"{stopped[0].error.message}; left undone: {', '.join(undone)}")
                self._set_stage("over_budget")
                return
            if not self._patched(RECOVERY_PATCH):
                self._set_stage("failed")
                return
            following = await self._recover(execution, run, inp)
            if following is not None:
                execution = following
                continue
            await self._compensate(execution, run)
            if st.stage not in ("rejected", "expired"):  # a replan's review may have ended it
                self._set_stage("failed")
            return

    # -- recovery --------------------------------------------------------------------------
    async def _recover(self, execution: ExecutePlanInput, run: RunState,
                       inp: GoalInput) -> ExecutePlanInput | None:
        """A partial replan after a step failed for good: the planner gets the failure and the
        finished outputs and returns a replacement for the failed steps and their dependants;
        it is validated against the tools and the real outputs, goes back to a person's review
        if it adds a step that is not read-only, and runs without re-running finished steps.
        None: no round left, or the replan did not give a plan that can run."""
        st = self._state
        failed = failed_step(run)
        if failed is None or failed.error is None or len(st.recoveries) >= inp.replan_rounds:
            return None
        plan = execution.plan
        broken = [s.id for s in run.steps if s.status is StepStatus.FAILED]
        replaced = descendants(broken, plan.dependency_map())
        error = failed.error
        recovery = Recovery(failed=failed.id, error=f"{error.type}: {error.message}",
                            replaced=[s.id for s in plan.steps if s.id in replaced])
        st.recoveries.append(recovery)
        failure = st.message
        self._set_stage("replanning")
        request = ReplanRequest(goal=st.goal, plan=plan, failure=error,
                                replaced=recovery.replaced,
                                finished=finished_outputs(run, replaced))
        try:
            draft = await self._ask_planner(REPLAN_ACTIVITY, request, inp)
            rounds = 0
            while draft.problems and rounds < inp.repair_rounds:
                rounds += 1
                draft = await self._ask_planner(
                    REPLAN_ACTIVITY, request.model_copy(update={"previous": draft}), inp)
        except (ActivityError, OverBudget) as exc:
            why = _cause(exc) if isinstance(exc, ActivityError) else f"over budget: {exc}"
            self._unrecovered(recovery, "failed", f"{failure}; replanning failed: {why}")
            return None
        if draft.problems or draft.plan is None:
            listed = "; ".join(str(p) for p in draft.problems[:3])
            self._unrecovered(recovery, "invalid", (
                f"{failure}; the replacement plan is still invalid after {rounds} repair "
                f"round(s) ({len(draft.problems)} problem(s): {listed})"))
            return None
        prepared = await self._check(draft.plan)
        if prepared.execution is None:
            self._unrecovered(recovery, "invalid", (
                f"{failure}; the replacement does not validate against today's tools "
                f"({'; '.join(str(p) for p in prepared.problems[:3])})"))
            return None
        before = {s.id for s in plan.steps}
        recovery.added = [s.id for s in draft.plan.steps if s.id not in before]
        self._set_plan(draft.plan)
        self._show_checks(prepared)
        self._prepared = prepared
        risky = [s for s in recovery.added if prepared.risks.get(s) != Risk.READ_ONLY]
        recovery.note = (f"step '{failed.id}' failed ({recovery.error}); replaced "
                         f"{', '.join(recovery.replaced)} with {', '.join(recovery.added)}")
        st.message = recovery.note
        if risky:
            recovery.reviewed = True
            st.message += (f"; step(s) {', '.join(risky)} are not read-only: the new plan "
                           "waits for your review")
            if not await self._await_decision(inp):
                recovery.outcome = "rejected" if st.stage == "rejected" else "expired"
                st.message = f"{failure}; the replacement was {st.stage}: {st.message}"
                return None
        return self._execution(prepared, inp).model_copy(
            update={"resume": resume_from(draft.plan, run, replaced)})

    def _unrecovered(self, recovery: Recovery, outcome: Literal["failed", "invalid"],
                     message: str) -> None:
        """Record why a replan did not give a plan that can run."""
        recovery.outcome = outcome
        recovery.note = message
        self._state.message = message

    async def _compensate(self, execution: ExecutePlanInput, run: RunState) -> None:
        """Undo the finished steps whose tools declare a compensation, latest first; each undo
        is an activity under the step's own id; the message lists what was undone."""
        st = self._state
        done = sorted((s for s in run.steps if s.status is StepStatus.SUCCEEDED
                       and (p := execution.policies.get(s.id)) is not None
                       and p.compensation is not None),
                      key=lambda s: s.finished_at or 0.0, reverse=True)
        outputs = {s.id: s.output for s in run.steps if s.status is StepStatus.SUCCEEDED}
        for step in done:
            comp = execution.policies[step.id].compensation
            if comp is None:
                continue
            self._set_stage("compensating")
            try:
                args = compensation_args(comp, execution.plan.step(step.id), outputs)
                result: ToolCallResult = await workflow.execute_activity(
                    comp.activity, ToolCall(step_id=step.id, tool=comp.tool, args=args),
                    result_type=ToolCallResult,
                    start_to_close_timeout=timedelta(seconds=comp.timeout_s),
                    retry_policy=tool_retry_policy(comp.retry))
                undo = Undo(step=step.id, tool=comp.tool, ok=True,
                            message=_undo_summary(result.output))
            except (LookupError, ValueError) as exc:  # the output lacks what the undo needs
                undo = Undo(step=step.id, tool=comp.tool, ok=False, message=str(exc))
            except ActivityError as exc:
                undo = Undo(step=step.id, tool=comp.tool, ok=False, message=_cause(exc))
            st.undone.append(undo)
            self._log.add("step", st.stage, step.id, "undone" if undo.ok else "undo_failed")
        if st.undone:
            ok = [f"{u.step} ({u.message})" for u in st.undone if u.ok]
            bad = [f"{u.step} ({u.message})" for u in st.undone if not u.ok]
            st.message += (f"; undone: {', '.join(ok) or 'nothing'}"
                           + (f"; could not undo: {', '.join(bad)}" if bad else ""))

    def _spent(self) -> Spent:
        """What the goal spent before its run (planning; the step driver adds the run's)."""
        usage = self._state.usage
        took = workflow.now() - workflow.info().workflow_start_time
        return Spent(tokens=usage.total_tokens, cost_usd=usage.cost_usd, llm_calls=usage.calls,
                     wall_time_s=took.total_seconds())

    async def _remember(self, plan: Plan) -> None:
        st = self._state
        run = st.run
        if run is None:
            return
        final = st.stage
        self._set_stage("remembering")
        started = min((s.started_at for s in run.steps if s.started_at), default=0.0)
        finished = max((s.finished_at for s in run.steps if s.finished_at), default=started)
        changed = bool(st.recoveries) or any(d.action == "edit" for d in st.decisions)
        request = RememberRequest(goal=st.goal, plan=st.plan or plan,
                                  template_id=None if st.recoveries else st.template_id,
                                  succeeded=final == "succeeded",
                                  duration_s=max(0.0, finished - started),
                                  tokens=st.usage.total_tokens,
                                  cost_usd=st.usage.cost_usd,
                                  edited=changed)
        template_id: str | None = await _memory(REMEMBER_ACTIVITY, request, None,
                                                _MEMORY_TIMEOUT, self._memory_local())
        st.template_id = st.template_id or template_id
        self._set_stage(final)


def _estimate(state: GoalState, plan: Plan, prepared: PrepareResult,
              template_cost: float | None = None) -> float:
    """Planning spend so far plus what the plan's steps are expected to cost: the reused
    template's average cost per run when it has one, else a typical call per `llm` step."""
    if template_cost is not None:
        return round(state.usage.cost_usd + template_cost, 6)
    llm_steps = sum(1 for s in plan.steps if s.tool == "llm")
    return round(state.usage.cost_usd + llm_steps * prepared.llm_step_cost_usd, 6)


class OverBudget(Exception):
    """The goal's budget is spent before an LLM call (caught in ``_pursue``)."""


# How many attempts each planning activity gets (its retry policy above), for the message of a
# goal whose activity ran out of them.
_ATTEMPTS = {DRAFT_ACTIVITY: _LLM_ATTEMPTS, REPAIR_ACTIVITY: _LLM_ATTEMPTS,
             RETRIEVE_ACTIVITY: 3, PREPARE_ACTIVITY: 3, REMEMBER_ACTIVITY: 3}


def _needs_review(inp: GoalInput, plan: Plan, prepared: PrepareResult) -> str:
    """Why a scheduled run must wait for a person ("" when it may run as approved)."""
    digest = plan_digest(plan)
    if digest != inp.approved_digest:
        return (f"the plan (version {short(digest)}) is not the version approved when the "
                f"schedule was created ({short(inp.approved_digest) or 'none'}); this run "
                "waits for review")
    if prepared.problems or prepared.execution is None:
        listed = "; ".join(f"{p.step_id or 'plan'}: {p.message}" for p in prepared.problems[:3])
        return (f"the approved plan no longer validates against today's tools "
                f"({len(prepared.problems)} problem(s): {listed}); this run waits for review "
                "instead of running it (edit the plan or reject the run, and re-create the "
                "schedule)")
    dangerous = sorted(s for s, r in prepared.risks.items() if r == Risk.DANGEROUS)
    if dangerous:
        return (f"step(s) {', '.join(dangerous)} use a dangerous tool: each run needs a "
                "person's approval (a grant is bound to one run)")
    return ""


async def _memory(activity: str, arg: object, result_type: type | None,
                  timeout: timedelta, local: bool) -> Any:
    """A call to template memory or the plan check: a local activity (it runs in this worker,
    which serves the planner's activities: no task-queue round trip, no extra workflow task);
    a regular activity in goals recorded before this patch. Same name, timeout and retries."""
    if local:
        try:
            return await workflow.execute_local_activity(
                activity, arg, result_type=result_type, start_to_close_timeout=timeout,
                retry_policy=_MEMORY_RETRY)
        except ApplicationError as exc:  # a local activity's own failure comes unwrapped
            raise MemoryCallFailed(f"{activity}: {exc.type or 'error'}: {exc.message}") from exc
    return await workflow.execute_activity(activity, arg, result_type=result_type,
                                           start_to_close_timeout=timeout,
                                           retry_policy=_MEMORY_RETRY)


class MemoryCallFailed(ApplicationError):
    """A local memory or plan-check activity that failed for good: caught with the planning
    failures in ``_pursue``; elsewhere it fails the goal, as an ActivityError did (an error
    that is not a Temporal failure would fail the workflow task, retried forever)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, type="MemoryCallFailed", non_retryable=True)


def _undo_summary(output: object) -> str:
    """What a compensation did, in a few words ("deleted out/report.txt")."""
    if isinstance(output, dict) and "action" in output:
        return " ".join(str(output[k]) for k in ("action", "path") if k in output)
    return "done"


def _cause(exc: ActivityError) -> str:
    """The innermost message of an activity failure, with its type; when retries ran out or
    time did, it says so (the goal's final message: nothing will try again)."""
    cause = exc.cause
    if isinstance(cause, ApplicationError):
        named = not cause.type or cause.message.startswith(cause.type)  # LLM errors name it
        text = cause.message if named else f"{cause.type}: {cause.message}"
    else:
        text = str(cause or exc)
    if exc.retry_state == RetryState.MAXIMUM_ATTEMPTS_REACHED:
        attempts = _ATTEMPTS.get(exc.activity_type)
        return f"gave up after {attempts or 'all'} attempts: {text}"
    if exc.retry_state == RetryState.TIMEOUT:
        return f"gave up (out of time): {text}"
    return text


def _worker_version() -> str:
    """The deployment version (``name.build_id``) of the worker running this workflow task
    (agents/versioning.py); deterministic: replay sees the version recorded in the history."""
    version = workflow.info().get_current_deployment_version()
    return version.to_canonical_string() if version else ""


def _log_stage(state: GoalState) -> None:
    """One line per stage change in the worker's log (workflow.logger: not during replay)."""
    info = workflow.info()
    took = (workflow.now() - info.workflow_start_time).total_seconds()
    outcome = f": {state.message}" if state.stage in FAILED_STAGES and state.message else ""
    workflow.logger.info("goal %s stage %s after %.1fs%s", info.workflow_id, state.stage, took,
                         outcome, extra={"jarvis": {"event": "goal_stage",
                                                    "goal_id": info.workflow_id,
                                                    "stage": state.stage,
                                                    "elapsed_s": round(took, 3)}})
    workflow_spans.mark(f"Stage:{state.stage}",
                        {"jarvis.stage": state.stage, "jarvis.elapsed_s": round(took, 3)})
