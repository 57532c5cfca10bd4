"""The plan-execution workflow: runs one validated plan (see agents/plan_runner.py).

Failure convention (the same for goals, see agents/goal_workflow.py): a run whose work failed
ends as a failed workflow with ``ApplicationError(type="PlanFailed", details=[RunState])``, so
the Temporal UI lists it under failures and clients still get the whole state; a succeeded run
completes with its ``RunState``; a cancelled run is Temporal's own cancellation.
"""

from __future__ import annotations

from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from agents.history_budget import log_continue, run_resume
    from agents.plan_runner import PlanRunner
    from planner.contracts.events import EventLog, EventsRequest, RunEventPage
    from planner.contracts.names import (
        EVENTS_QUERY,
        EXECUTE_PLAN_WORKFLOW,
        PLAN_FAILED,
        STATE_QUERY,
    )
    from planner.contracts.plan_run import ExecutePlanInput, RunState, StepState


def plan_failed(state: RunState) -> ApplicationError:
    """The workflow failure for a failed plan: names step, tool, error; carries the state."""
    return ApplicationError(state.failure_report(), state.model_dump(mode="json"),
                            type=PLAN_FAILED, non_retryable=True)


@workflow.defn(name=EXECUTE_PLAN_WORKFLOW)
class ExecutePlanWorkflow:
    @workflow.init
    def __init__(self, inp: ExecutePlanInput) -> None:
        self._log = EventLog(inp.resume.log if inp.resume is not None else None)
        self._runner = PlanRunner(inp, on_step=self._step_changed)

    @workflow.query(name=STATE_QUERY)
    def state(self) -> RunState:
        return self._runner.state

    @workflow.query(name=EVENTS_QUERY)
    def events(self, request: EventsRequest) -> RunEventPage:
        return RunEventPage(events=self._log.after(request), first_seq=self._log.first_seq,
                            state=self._runner.state)

    @workflow.run
    async def run(self, inp: ExecutePlanInput) -> RunState:
        if inp.resume is None:  # a run continued as new goes on without a second start
            self._log.add("stage", "running")
            _log_status("running", len(inp.plan.steps))
        state = await self._runner.run()
        if self._runner.paused:  # past the history budget (agents/history_budget.py)
            await workflow.wait_condition(workflow.all_handlers_finished)
            resume = run_resume(self._runner, self._log)
            log_continue("run", resume)
            workflow.continue_as_new(inp.model_copy(update={"resume": resume}))
        self._log.add("stage", state.status)
        _log_status(state.status, len(inp.plan.steps), state.failure_report())
        self._log.add("done", state.status)
        if state.status == "failed":
            raise plan_failed(state)
        return state

    def _step_changed(self, step: StepState) -> None:
        self._log.add("step", self._runner.state.status, step.id, step.status.value)


def _log_status(status: str, steps: int, detail: str = "") -> None:
    """A line in the worker's log when the run starts and ends (workflow.logger: not during
    replay); each step attempt logs its own line from its activity."""
    info = workflow.info()
    took = (workflow.now() - info.workflow_start_time).total_seconds()
    workflow.logger.info("run %s %s (%d steps) after %.1fs%s", info.workflow_id, status, steps,
                         took, f": {detail}" if detail else "",
                         extra={"jarvis": {"event": "run_status", "workflow_id": info.workflow_id,
                                           "status": status, "elapsed_s": round(took, 3)}})
