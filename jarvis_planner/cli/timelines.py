"""Finding the run to draw for `jarvis timeline ID` (a plan run, or a goal's execution), and why
there is none."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from temporalio.client import WorkflowExecutionStatus, WorkflowFailureError
from temporalio.service import RPCError, RPCStatusCode

from agents.client import Gone, JarvisClient
from jarvis_planner.cli.errors import CliError
from planner.contracts.goal_flow import GoalState
from planner.contracts.names import EXECUTE_PLAN_WORKFLOW, GOAL_WORKFLOW
from planner.contracts.plan_run import RunState
from planner.settings import Settings


@dataclass
class Found:
    """The run to draw and what the picture should say about where it came from."""

    state: RunState
    title: str
    subtitle: str
    partial: bool


def no_run_reason(goal_id: str, goal: GoalState) -> CliError:
    """Why a goal without a run has no timeline, with what to do about it."""
    show = f"`jarvis goal {goal_id}` shows its stage and messages"
    if goal.stage == "rejected":
        last = next((d for d in reversed(goal.decisions) if d.action == "reject"), None)
        who = f" by {last.by}" if last else ""
        why = f": {last.reason}" if last and last.reason else ""
        return CliError(f"goal {goal_id} was rejected{who}{why}; none of its steps ran, so it has "
                        "no timeline", show)
    if goal.stage == "invalid":
        return CliError(f"goal {goal_id} is invalid: its plan had {len(goal.problems)} "
                        "problem(s) left after repair, so nothing ran and it has no timeline",
                        show)
    if goal.stage == "planned":
        return CliError(f"goal {goal_id} was only planned (`jarvis plan`, a dry run): nothing "
                        "ran, so it has no timeline", "`jarvis run` plans and executes a goal")
    if goal.stage == "expired":
        return CliError(f"goal {goal_id} expired waiting for approval: nothing ran, so it has "
                        "no timeline", show)
    if goal.stage == "awaiting_approval":
        return CliError(f"goal {goal_id} waits for approval: nothing has run yet",
                        f"`jarvis approve {goal_id}` runs it")
    if goal.stage in ("failed", "cancelled"):
        detail = f": {goal.message}" if goal.message else ""
        return CliError(f"goal {goal_id} {goal.stage} before any step ran{detail}; it has no "
                        "timeline", show)
    return CliError(f"goal {goal_id} is still {goal.stage}: no step has run yet",
                    "try again once it is executing")


async def find(jarvis: JarvisClient, wf_id: str) -> Found:
    """The run state of a plan run or of a goal's execution, or a CliError saying why not."""
    task_queue = jarvis.task_queue
    try:
        desc = await jarvis.handle(wf_id).describe()
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            raise CliError(f"no plan run or goal with id '{wf_id}'",
                           "`jarvis list` shows recent plan runs") from exc
        raise CliError(f"'{wf_id}': {exc.message}") from exc
    running = desc.status == WorkflowExecutionStatus.RUNNING
    if running and not await jarvis.has_pollers():
        raise CliError(f"'{wf_id}' is still running and no worker polls task queue "
                       f"'{task_queue}' to report its state",
                       "start one with `jarvis up` (or `jarvis worker`)")
    status = desc.status.name.lower() if desc.status else "closed"
    try:
        if desc.workflow_type == EXECUTE_PLAN_WORKFLOW:
            try:
                run = await jarvis.plan_state(wf_id)
            except Gone as exc:
                raise CliError(f"run {wf_id} was cancelled before it reported a state; it has "
                               "no timeline", f"`jarvis status {wf_id}`") from exc
            return Found(run, run.goal, wf_id, partial=run.status == "running")
        if desc.workflow_type == GOAL_WORKFLOW:
            try:
                goal = await jarvis.state(wf_id)
            except Gone as exc:
                raise CliError(f"goal {wf_id} was {status} and left no state; it has no "
                               "timeline") from exc
            if goal.run is None:
                raise no_run_reason(wf_id, goal)
            return Found(goal.run, goal.goal, f"{wf_id} ({goal.stage})",
                         partial=goal.run.status == "running")
    except (RPCError, WorkflowFailureError) as exc:
        raise CliError(f"cannot read the state of '{wf_id}' ({status}): {exc}") from exc
    raise CliError(f"'{wf_id}' is a {desc.workflow_type} workflow, not a plan run or a goal")


def default_path(settings: Settings, wf_id: str) -> Path:
    safe = re.sub(r"[^A-Za-z0-9._-]", "_", wf_id).lstrip(".") or "timeline"
    return settings.data_dir / "timelines" / f"{safe}.svg"
