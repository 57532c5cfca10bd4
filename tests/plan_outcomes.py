"""Running a prepared plan on a real worker in tests, replaying its history, and what a run
came to (for comparing engines and paths)."""

from __future__ import annotations

from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer

from agents.client import JarvisClient
from agents.plan_workflow import ExecutePlanWorkflow
from agents.worker import create_worker
from planner.contracts.plan_run import ExecutePlanInput, RunState
from planner.settings import Settings
from planner.tools import ToolRegistry
from tests.histories_read import activities_run


async def run_replayed(client: Client, settings: Settings, registry: ToolRegistry,
                       inp: ExecutePlanInput) -> tuple[RunState, list[str]]:
    """The run on Temporal (its history must replay) and the activities its history records."""
    engine = JarvisClient(client, settings)
    async with create_worker(client, settings, registry):
        run_id = await engine.start_plan(inp)
        state = await engine.plan_result(run_id)
    history = await engine.handle(run_id).fetch_history()
    replay = await Replayer(workflows=[ExecutePlanWorkflow],
                            data_converter=pydantic_data_converter).replay_workflow(history)
    assert replay.replay_failure is None
    return state, activities_run(history)


def outcome(state: RunState) -> dict[str, object]:
    """What a run came to: status, outputs, each step's status, output, attempts, conversions
    and error."""
    return {"status": state.status, "outputs": state.outputs,
            "steps": {s.id: (s.status.value, s.output, s.attempts, s.conversions,
                             s.error.type if s.error else None,
                             s.error.message if s.error else None) for s in state.steps}}
