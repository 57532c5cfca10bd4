"""`jarvis goal GOAL_ID`: a goal's state."""

from __future__ import annotations

from typing import Annotated

import typer


def goal(goal_id: Annotated[str, typer.Argument(help="Goal id.")],
         as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Show a goal's stage, plan, problems, decisions, steps and token usage."""
    import asyncio
    import json

    from agents.client import Gone
    from jarvis_planner.cli.console import console
    from jarvis_planner.cli.errors import CliError
    from jarvis_planner.cli.goal_view import goal_view
    from jarvis_planner.cli.session import connect_or_fail
    from planner.contracts.goal_flow import GoalState
    from planner.settings import load_settings

    settings = load_settings()

    async def _go() -> GoalState:
        jarvis = await connect_or_fail(settings)
        try:
            return await jarvis.state(goal_id)
        except Gone as exc:
            raise CliError(f"goal {goal_id} was cancelled or terminated") from exc

    state = asyncio.run(_go())
    if as_json:
        print(json.dumps(state.model_dump(mode="json"), indent=2))
    else:
        console.print(goal_view(state, goal_id))
