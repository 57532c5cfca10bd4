"""Goals in plain language: plan, run (with the review gate), approve, reject."""

from __future__ import annotations

import asyncio
import getpass
import json
import sys
from contextlib import AsyncExitStack
from typing import Annotated

import typer
from rich.live import Live

from activities import default_registry
from agents.goals import DecisionRefused, GoalClient
from jarvis_planner.api import JarvisClient
from jarvis_planner.cli.errors import CliError
from jarvis_planner.cli.goal_view import cost_line, goal_view
from jarvis_planner.cli.render import console, err_console, print_json
from jarvis_planner.cli.review import review_interactively
from jarvis_planner.cli.session import connect_or_fail, ensure_worker
from planner.contracts.goal import GoalState
from planner.settings import Settings, load_settings

WAITING = {"awaiting_approval"}


def _user() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except OSError:
        return "cli"


async def _session(settings: Settings, stack: AsyncExitStack) -> JarvisClient:
    client = await connect_or_fail(settings)
    await ensure_worker(stack, client, settings, default_registry())
    return JarvisClient(GoalClient(client, settings.task_queue), settings)


def plan(goal: Annotated[str, typer.Argument(help="The goal, in plain language.")],
         as_json: Annotated[bool, typer.Option("--json", help="Print the state as JSON.")] = False
         ) -> None:
    """Plan a goal and show the plan, its problems and estimated cost. Nothing is executed."""
    settings = load_settings()

    async def _go() -> tuple[str, GoalState]:
        async with AsyncExitStack() as stack:
            jarvis = await _session(settings, stack)
            goal_id = await jarvis.submit(goal, dry_run=True, by=_user())
            with console.status("planning …"):
                return goal_id, await jarvis.result(goal_id)

    goal_id, state = asyncio.run(_go())
    if as_json:
        print(state.model_dump_json(indent=2))
    else:
        console.print(goal_view(state, goal_id))
        console.print(f"[dim]{cost_line(state)}[/]")
    if state.stage != "planned":
        raise typer.Exit(2)


def run(goal: Annotated[str, typer.Argument(help="The goal, in plain language.")],
        yes: Annotated[bool, typer.Option("--yes", "-y",
                                          help="Approve the plan without asking (dangerous "
                                               "steps still need `jarvis approve`).")] = False,
        as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Plan a goal, pass the review gate, execute with live progress, print the result."""
    settings = load_settings()
    state, goal_id = asyncio.run(_run(settings, goal, yes, as_json))
    _print_outcome(state, goal_id, as_json)


async def _run(settings: Settings, goal: str, yes: bool, as_json: bool
               ) -> tuple[GoalState, str]:
    async with AsyncExitStack() as stack:
        jarvis = await _session(settings, stack)
        goal_id = await jarvis.submit(goal, yes=yes, by=_user())
        err_console.print(f"goal id: [bold]{goal_id}[/]", highlight=False)
        while True:
            state = await _watch(jarvis.goals, goal_id, as_json)
            if state.stage not in WAITING or not sys.stdin.isatty():
                return state, goal_id
            await review_interactively(jarvis, goal_id, state)


async def _watch(goals: GoalClient, goal_id: str, as_json: bool) -> GoalState:
    if as_json:
        return await goals.wait(goal_id, until_stage=WAITING)
    with Live(console=err_console, refresh_per_second=8) as live:
        return await goals.wait(goal_id, lambda s: live.update(goal_view(s, goal_id)),
                                until_stage=WAITING)


def _print_outcome(state: GoalState, goal_id: str, as_json: bool) -> None:
    if as_json:
        print(state.model_dump_json(indent=2))
    if state.stage == "awaiting_approval":
        err_console.print(f"waiting for approval: `jarvis approve {goal_id}` or "
                          f"`jarvis reject {goal_id}`")
        raise typer.Exit(3)
    if as_json:
        raise typer.Exit(0 if state.stage == "succeeded" else 1)
    if state.stage == "succeeded" and state.run is not None:
        console.print(f"[bold green]succeeded[/] ({state.source or 'llm'} plan); result:")
        print_json(state.run.outputs)
        return
    err_console.print(f"[bold red]{state.stage}[/]: {state.message}", highlight=False)
    for problem in state.problems:
        err_console.print(f"  [red]{problem}[/]", highlight=False)
    raise typer.Exit(1)


def approve(goal_id: Annotated[str, typer.Argument(help="Goal id.")],
            note: Annotated[str, typer.Option(help="A note kept with the decision.")] = ""
            ) -> None:
    """Approve a goal that waits for review."""
    _decide(goal_id, "approve", note)


def reject(goal_id: Annotated[str, typer.Argument(help="Goal id.")],
           reason: Annotated[str, typer.Option(help="Why (kept with the decision).")] = ""
           ) -> None:
    """Reject a goal that waits for review."""
    _decide(goal_id, "reject", reason)


def _decide(goal_id: str, action: str, text: str) -> None:
    settings = load_settings()

    async def _go() -> tuple[GoalState, bool]:
        async with AsyncExitStack() as stack:
            client = await connect_or_fail(settings)
            local = await ensure_worker(stack, client, settings, default_registry())
            goals = GoalClient(client, settings.task_queue)
            try:
                if action == "approve":
                    state = await goals.approve(goal_id, by=_user(), note=text)
                else:
                    state = await goals.reject(goal_id, by=_user(), reason=text)
            except DecisionRefused as exc:
                raise CliError(str(exc), f"`jarvis goal {goal_id}` shows its state") from exc
            console.print(f"{action}d {goal_id}")
            if local:  # this process is the only worker: see the goal through
                return await _watch(goals, goal_id, as_json=False), True
            return state, False

    state, followed = asyncio.run(_go())
    if followed:
        _print_outcome(state, goal_id, as_json=False)


def goal(goal_id: Annotated[str, typer.Argument(help="Goal id.")],
         as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Show a goal's stage, plan, problems, decisions, steps and token usage."""
    settings = load_settings()

    async def _go() -> GoalState | None:
        return await GoalClient(await connect_or_fail(settings), settings.task_queue).state(
            goal_id)

    state = asyncio.run(_go())
    if state is None:
        raise CliError(f"goal {goal_id} was cancelled or terminated")
    if as_json:
        print(json.dumps(state.model_dump(mode="json"), indent=2))
    else:
        console.print(goal_view(state, goal_id))


def review(goal_id: Annotated[str, typer.Argument(help="Goal id (`jarvis list --pending`).")]
           ) -> None:
    """Review a waiting goal: see its plan, then approve, edit (in $EDITOR) or reject."""
    settings = load_settings()

    async def _go() -> tuple[GoalState, bool]:
        async with AsyncExitStack() as stack:
            client = await connect_or_fail(settings)
            local = await ensure_worker(stack, client, settings, default_registry())
            jarvis = JarvisClient(GoalClient(client, settings.task_queue), settings)
            state = await jarvis.state(goal_id)
            if state.stage not in WAITING:
                raise CliError(f"goal {goal_id} is {state.stage}, not awaiting approval",
                               "`jarvis list --pending` shows the goals that wait")
            await review_interactively(jarvis, goal_id, state)
            if local:
                return await _watch(jarvis.goals, goal_id, as_json=False), True
            return await jarvis.state(goal_id), False

    state, followed = asyncio.run(_go())
    if followed:
        _print_outcome(state, goal_id, as_json=False)
    else:
        console.print(f"{goal_id}: {state.stage}")


def register(app: typer.Typer) -> None:
    app.command()(plan)
    app.command()(run)
    app.command()(review)
    app.command()(approve)
    app.command()(reject)
    app.command()(goal)
