"""`jarvis timeline ID`: a Gantt picture (SVG, optionally PNG) of a plan run or a goal's run."""

from __future__ import annotations

import asyncio
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import typer
from temporalio.client import Client, WorkflowExecutionStatus, WorkflowFailureError
from temporalio.service import RPCError, RPCStatusCode

from agents.goal_workflow import GOAL_WORKFLOW
from agents.goals import GoalClient
from agents.plan_workflow import EXECUTE_PLAN_WORKFLOW
from agents.temporal_engine import TemporalWorkflowEngine
from jarvis_planner.cli.errors import CliError
from jarvis_planner.cli.render import err_console
from jarvis_planner.cli.session import connect_or_fail
from jarvis_planner.gantt import PngUnavailable, render_png, render_svg, system_fonts_found
from planner.contracts.goal import GoalState
from planner.contracts.run import RunState
from planner.settings import Settings, load_settings


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


async def find(client: Client, task_queue: str, wf_id: str) -> Found:
    """The run state of a plan run or of a goal's execution, or a CliError saying why not."""
    try:
        desc = await client.get_workflow_handle(wf_id).describe()
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            raise CliError(f"no plan run or goal with id '{wf_id}'",
                           "`jarvis list` shows recent plan runs") from exc
        raise CliError(f"'{wf_id}': {exc.message}") from exc
    running = desc.status == WorkflowExecutionStatus.RUNNING
    if running and not await TemporalWorkflowEngine(client, task_queue).has_pollers():
        raise CliError(f"'{wf_id}' is still running and no worker polls task queue "
                       f"'{task_queue}' to report its state",
                       "start one with `jarvis up` (or `jarvis worker`)")
    status = desc.status.name.lower() if desc.status else "closed"
    try:
        if desc.workflow_type == EXECUTE_PLAN_WORKFLOW:
            run = await TemporalWorkflowEngine(client, task_queue).state(wf_id)
            if run is None:
                raise CliError(f"run {wf_id} was cancelled before it reported a state; it has "
                               "no timeline", f"`jarvis status {wf_id}`")
            return Found(run, run.goal, wf_id, partial=run.status == "running")
        if desc.workflow_type == GOAL_WORKFLOW:
            goal = await GoalClient(client, task_queue).state(wf_id)
            if goal is None:
                raise CliError(f"goal {wf_id} was {status} and left no state; it has no "
                               "timeline")
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


def timeline(
    wf_id: Annotated[str, typer.Argument(metavar="ID",
                                         help="A plan run id (plan-…) or a goal id (goal-…).")],
    out: Annotated[Path | None, typer.Option(
        "--out", "-o", help="Where to write the SVG (default: <data dir>/timelines/<ID>.svg); "
                            "a .png name writes the PNG there and the SVG beside it.")] = None,
    png: Annotated[bool, typer.Option(
        "--png", help="Also write a PNG beside the SVG (needs `pip install resvg-py`).")] = False,
) -> None:
    """Draw a timeline (Gantt chart) of a run's steps: when each ran, for how long, its status."""
    settings = load_settings()

    async def _go() -> Found:
        return await find(await connect_or_fail(settings), settings.task_queue, wf_id)

    found = asyncio.run(_go())
    svg_path = out or default_path(settings, wf_id)
    png_path = svg_path.with_suffix(".png") if png else None
    if svg_path.suffix.lower() == ".png":
        png_path, svg_path = svg_path, svg_path.with_suffix(".svg")
    svg = render_svg(found.state, title=found.title, subtitle=found.subtitle,
                     now=time.time() if found.partial else None)
    _write(svg_path, svg.encode())
    print(svg_path)
    if found.partial:
        err_console.print(f"[yellow]note:[/] {wf_id} is still running: the timeline is partial "
                          "(running steps end at the time of this drawing)", highlight=False)
    if png_path is None:
        return
    try:
        data = render_png(svg)
    except PngUnavailable as exc:
        raise CliError(str(exc), "pip install resvg-py") from exc
    if not system_fonts_found():
        err_console.print("[yellow]warning:[/] no system font found: the PNG has no text (on "
                          "Debian: apt-get install fonts-dejavu-core)", highlight=False)
    _write(png_path, data)
    print(png_path)


def _write(path: Path, data: bytes) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    except OSError as exc:
        raise CliError(f"cannot write {path}: {exc.strerror or exc}",
                       "choose another file with --out") from exc


def register(app: typer.Typer) -> None:
    app.command()(timeline)
