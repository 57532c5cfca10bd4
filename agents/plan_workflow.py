"""The plan-execution workflow: runs one validated plan (see agents/plan_runner.py)."""

from __future__ import annotations

from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from agents.plan_runner import PlanRunner
    from planner.contracts.run import ExecutePlanInput, RunState

EXECUTE_PLAN_WORKFLOW = "jarvis.ExecutePlan"  # durable contract: never rename


def plan_failed(state: RunState) -> ApplicationError:
    """The workflow failure for a failed plan: names step, tool, error; carries the state."""
    return ApplicationError(state.failure_report(), state.model_dump(mode="json"),
                            type="PlanFailed", non_retryable=True)


@workflow.defn(name=EXECUTE_PLAN_WORKFLOW)
class ExecutePlanWorkflow:
    def __init__(self) -> None:
        self._runner: PlanRunner | None = None

    @workflow.query(name="state")
    def state(self) -> RunState | None:
        return self._runner.state if self._runner else None

    @workflow.run
    async def run(self, inp: ExecutePlanInput) -> RunState:
        self._runner = PlanRunner(inp)
        state = await self._runner.run()
        if state.status == "failed":
            raise plan_failed(state)
        return state
