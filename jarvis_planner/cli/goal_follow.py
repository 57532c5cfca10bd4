"""Following a goal in the terminal (a live view until it waits for review or ends) and
printing its outcome; shared by run, review, approve, reject."""

from __future__ import annotations

import typer
from rich.live import Live

from agents.client import JarvisClient
from jarvis_planner.cli.console import console, err_console, print_json
from jarvis_planner.cli.goal_view import goal_view
from jarvis_planner.cli.review_prompt import still_waiting
from planner.contracts.goal_flow import GoalState


async def follow(jarvis: JarvisClient, goal_id: str, as_json: bool) -> GoalState:
    """The goal's state once it waits for a decision or has ended."""
    if as_json:
        return await jarvis.wait_for_review(goal_id)
    with Live(console=err_console, refresh_per_second=8) as live:
        state = await jarvis.wait_for_review(
            goal_id, lambda event: live.update(goal_view(event.state, goal_id)))
        live.update(goal_view(state, goal_id))
        return state


async def follow_to_end(jarvis: JarvisClient, goal_id: str) -> GoalState:
    """A live view of the goal until it has ended (after a decision); its final state."""
    with Live(console=err_console, refresh_per_second=8) as live:
        async for event in jarvis.events(goal_id):
            live.update(goal_view(event.state, goal_id))
        state = await jarvis.result(goal_id)
        live.update(goal_view(state, goal_id))
    return state


def print_outcome(state: GoalState, goal_id: str, as_json: bool) -> None:
    """The result (exit 0), the reason it failed (exit 1), or how to decide (exit 3)."""
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


def interrupted(where: dict[str, str]) -> None:
    """Ctrl-C: say what happens to the goal and how to come back (exit 130)."""
    goal_id = where.get("goal_id")
    if goal_id and where.get("at") == "review":
        err_console.print(f"\n{still_waiting(goal_id)}", highlight=False)
    elif goal_id:
        err_console.print(f"\nstopped following; {goal_id} goes on: `jarvis goal {goal_id}` "
                          "shows it", highlight=False)
    raise typer.Exit(130)
