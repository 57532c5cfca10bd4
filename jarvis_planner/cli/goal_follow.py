"""Following a goal in the terminal (a live view until it waits for review or ends; progress
lines when the output is not a terminal) and printing its outcome; shared by run, review,
approve, reject and result."""

from __future__ import annotations

import typer
from rich.text import Text

from agents.client import JarvisClient, gate_waiting
from agents.following import GoalEvent
from jarvis_planner.cli.console import console, err_console, live_view, print_json, settled
from jarvis_planner.cli.goal_view import goal_view
from jarvis_planner.cli.review_prompt import still_waiting
from planner.contracts.goal_flow import GoalState


def event_line(event: GoalEvent) -> str | None:
    """One progress line for an event (what a pipe or a log shows instead of a redraw)."""
    if event.kind == "stage":
        return f"stage: {event.stage}"
    if event.kind == "step":
        return f"step {event.step_id}: {event.status}"
    if event.kind == "plan" and event.state.plan is not None:
        return f"plan: {len(event.state.plan.steps)} step(s)"
    if event.kind == "decision":
        return f"decision: {event.status}"
    return None


async def follow(jarvis: JarvisClient, goal_id: str, as_json: bool) -> GoalState:
    """The goal's state once it waits for a decision (a review, or a step at its gate) or has
    ended."""
    if as_json:
        return await jarvis.wait_for_review(goal_id, at_gates=True)
    with live_view(err_console) as view:
        state = await jarvis.wait_for_review(
            goal_id, lambda event: view.update(goal_view(event.state, goal_id),
                                               event_line(event)), at_gates=True)
        view.update(goal_view(state, goal_id))
        return state


async def follow_to_end(jarvis: JarvisClient, goal_id: str) -> GoalState:
    """A live view of the goal until it has ended (after a decision); its final state."""
    with live_view(err_console) as view:
        async for event in jarvis.events(goal_id):
            view.update(goal_view(event.state, goal_id), event_line(event))
        state = await jarvis.result(goal_id)
        view.update(goal_view(state, goal_id))
    return state


def print_outcome(state: GoalState, goal_id: str, as_json: bool) -> None:
    """The result (exit 0), the reason it failed (exit 1), or how to decide (exit 3)."""
    if as_json:
        print(state.model_dump_json(indent=2))
    if state.stage == "awaiting_approval":
        err_console.print(f"waiting for approval: `jarvis approve {goal_id}` or "
                          f"`jarvis reject {goal_id}`", highlight=False, markup=False)
        raise typer.Exit(3)
    gated = gate_waiting(state) if not state.finished else []
    if gated:
        steps = ", ".join(gated)
        err_console.print(f"step(s) {steps} wait at their gates: `jarvis approve {goal_id} "
                          f"--step {gated[0]}` or `jarvis reject {goal_id} --step {gated[0]}`",
                          highlight=False, markup=False)
        raise typer.Exit(3)
    if as_json:
        raise typer.Exit(0 if state.stage in ("succeeded", "planned") else 1)
    if state.stage == "succeeded" and state.run is not None:
        console.print(f"[bold green]succeeded[/] ({state.source or 'llm'} plan); result:")
        print_json(state.run.outputs)
        return
    if state.stage == "planned" and state.plan is not None:  # a dry run's result is its plan
        console.print("[bold green]planned[/] (nothing ran); the plan:")
        print_json(state.plan.model_dump(mode="json", exclude_defaults=True))
        return
    err_console.print(Text.assemble((state.stage, "bold red"), ": ", settled(state.message)),
                      highlight=False)
    for problem in state.problems:
        err_console.print(f"  {problem}", style="red", highlight=False, markup=False)
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
