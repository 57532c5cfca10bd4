"""`jarvis run "GOAL"`: plan a goal, pass the review gate, execute, print the result."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from planner.contracts.goal_flow import GoalState
    from planner.settings import Settings


def run(goal: Annotated[str, typer.Argument(help="The goal, in plain language.")],
        yes: Annotated[bool, typer.Option("--yes", "-y",
                                          help="Approve the plan without asking (dangerous "
                                               "steps still need `jarvis approve`).")] = False,
        as_json: Annotated[bool, typer.Option(
            "--json", help="Print the goal's final state as JSON (no live view, no "
                           "questions).")] = False) -> None:
    """Plan a goal, pass the review gate, execute with live progress, print the result."""
    import asyncio

    from jarvis_planner.cli.goal_follow import interrupted, print_outcome
    from planner.settings import load_settings

    where: dict[str, str] = {}
    try:
        state, goal_id = asyncio.run(_run(load_settings(), goal, yes, as_json, where))
    except KeyboardInterrupt:
        interrupted(where)
    print_outcome(state, goal_id, as_json)


async def _run(settings: Settings, goal: str, yes: bool, as_json: bool,
               where: dict[str, str]) -> tuple[GoalState, str]:
    import sys
    from contextlib import AsyncExitStack

    from jarvis_planner.cli.console import err_console
    from jarvis_planner.cli.goal_follow import follow
    from jarvis_planner.cli.review_prompt import review_interactively
    from jarvis_planner.cli.session import session, user

    async with AsyncExitStack() as stack:
        jarvis, _ = await session(settings, stack)
        goal_id = await jarvis.submit(goal, yes=yes, by=user())
        where["goal_id"] = goal_id
        err_console.print(f"goal id: [bold]{goal_id}[/]", highlight=False)
        while True:
            where["at"] = "following"
            state = await follow(jarvis, goal_id, as_json)
            if state.stage != "awaiting_approval" or not sys.stdin.isatty():
                return state, goal_id
            where["at"] = "review"
            await review_interactively(jarvis, goal_id, state, tree_shown=not as_json)
