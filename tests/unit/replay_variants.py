"""Two changed goal workflows for tests/unit/test_replay_safety.py (a module of their own: the
replay sandbox re-imports the module a workflow class is defined in)."""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow

from agents.goal_workflow import GoalWorkflow
from planner.contracts.goal_flow import GoalInput, GoalState
from planner.contracts.names import GOAL_WORKFLOW
from planner.plan import Plan


@workflow.defn(name=GOAL_WORKFLOW)
class PauseBeforeRemembering(GoalWorkflow):
    """The incompatible change: a durable timer before the remember activity."""

    @workflow.run
    async def run(self, inp: GoalInput) -> GoalState:
        return await super().run(inp)

    async def _remember(self, plan: Plan) -> None:
        await workflow.sleep(timedelta(milliseconds=10))
        await super()._remember(plan)


@workflow.defn(name=GOAL_WORKFLOW)
class PatchedPauseBeforeRemembering(GoalWorkflow):
    """The same change behind a patch: goals recorded before it take the old path."""

    @workflow.run
    async def run(self, inp: GoalInput) -> GoalState:
        return await super().run(inp)

    async def _remember(self, plan: Plan) -> None:
        if workflow.patched("pause-before-remembering"):
            await workflow.sleep(timedelta(milliseconds=10))
        await super()._remember(plan)
