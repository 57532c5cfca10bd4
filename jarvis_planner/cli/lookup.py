"""What an id names: a goal or a plan run (asked of the server, never guessed from the id), its
state now, or a one-line error saying the id is unknown. Shared by status, result, cancel,
goal, approve, reject and review."""

from __future__ import annotations

from dataclasses import dataclass

from agents.client import Described, Gone, JarvisClient, NotFound
from jarvis_planner.cli.errors import CliError
from planner.contracts.goal_flow import FINAL_STAGES, GoalState
from planner.contracts.plan_run import RunState

LIST_HINT = "`jarvis list` shows recent runs, `jarvis list --goals` recent goals"


def unknown(wf_id: str) -> CliError:
    return CliError(f"no goal or run with id '{wf_id}'", LIST_HINT)


async def identify(jarvis: JarvisClient, wf_id: str) -> Described:
    """The goal or plan run named ``wf_id``; a CliError for an unknown id or another type."""
    try:
        found = await jarvis.describe(wf_id)
    except NotFound as exc:
        raise unknown(wf_id) from exc
    if found.kind is None:
        raise CliError(f"'{wf_id}' is a {found.workflow_type} workflow, not a goal or a plan "
                       "run", LIST_HINT)
    return found


async def require_goal(jarvis: JarvisClient, wf_id: str) -> Described:
    found = await identify(jarvis, wf_id)
    if found.kind != "goal":
        raise CliError(f"'{wf_id}' is a plan run, not a goal: plan runs need no review",
                       f"`jarvis status {wf_id}` shows it")
    return found


@dataclass(frozen=True)
class Snapshot:
    """A goal's or run's state now. ``ended_without_outcome``: it was cancelled or terminated
    (``state`` is then what it last reported, if a worker could replay it, else None)."""

    found: Described
    state: GoalState | RunState | None
    ended_without_outcome: bool = False
    last_stage: str = ""  # what a cancelled goal or run was doing when it was stopped

    @property
    def what(self) -> str:
        return f"{'goal' if self.found.kind == 'goal' else 'run'} {self.found.id}"

    @property
    def ending(self) -> str:
        """How a goal or run without an outcome ended: "cancelled" or "terminated"."""
        return "terminated" if self.found.status == "terminated" else "cancelled"

    @property
    def outcome(self) -> str:
        """The stage (goal) or status (run) it ended in, or where it is now."""
        if self.ended_without_outcome:
            return self.ending
        state = self.state
        if isinstance(state, GoalState):
            return state.stage
        return state.status if state is not None else self.found.status

    @property
    def finished(self) -> bool:
        """Whether it has ended (a goal waiting for review has not)."""
        if not self.found.running or self.ended_without_outcome:
            return True
        state = self.state
        return isinstance(state, GoalState) and state.stage in FINAL_STAGES


async def snapshot(jarvis: JarvisClient, wf_id: str) -> Snapshot:
    found = await identify(jarvis, wf_id)
    if found.running and not await jarvis.has_pollers(found.task_queue):
        # its state lives in the worker's memory: asking would wait for a worker
        kind = "goal" if found.kind == "goal" else "run"
        raise CliError(f"{kind} {wf_id} is running, but no worker polls its task queue "
                       f"'{found.task_queue}' to report its state",
                       "start one with `jarvis up` (or `jarvis worker` with "
                       f"JARVIS_TASK_QUEUE={found.task_queue})")
    try:
        if found.kind == "goal":
            return Snapshot(found, await jarvis.state(wf_id))
        return Snapshot(found, await jarvis.plan_state(wf_id))
    except Gone:
        pass
    if found.kind == "goal":
        goal = await jarvis.last_state(wf_id, GoalState)
        if goal is None:
            return Snapshot(found, None, ended_without_outcome=True)
        stage: str = goal.stage if goal.stage != "cancelled" else ""
        return Snapshot(found, goal.model_copy(update={"stage": "cancelled"}), True, stage)
    run = await jarvis.last_state(wf_id, RunState)
    if run is None:
        return Snapshot(found, None, ended_without_outcome=True)
    status: str = run.status if run.status != "cancelled" else ""  # a replay marks it so
    return Snapshot(found, run.model_copy(update={"status": "cancelled"}), True, status)


def read(wf_id: str) -> Snapshot:
    """The snapshot of ``wf_id``, connecting with the settings of this process."""
    import asyncio

    from jarvis_planner.cli.session import connect_or_fail
    from planner.settings import load_settings

    async def _go() -> Snapshot:
        return await snapshot(await connect_or_fail(load_settings()), wf_id)

    return asyncio.run(_go())
