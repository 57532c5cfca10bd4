"""`jarvis review GOAL_ID`: see a waiting goal's plan; approve, edit or reject it."""

from __future__ import annotations

from typing import Annotated

import typer


def review(goal_id: Annotated[str, typer.Argument(help="Goal id (`jarvis list --pending`).")]
           ) -> None:
    """Review a waiting goal: see its plan, then approve, edit (in $EDITOR) or reject."""
    import asyncio
    from contextlib import AsyncExitStack

    from jarvis_planner.cli.errors import CliError
    from jarvis_planner.cli.goal_follow import follow_to_end, interrupted, print_outcome
    from jarvis_planner.cli.lookup import require_goal
    from jarvis_planner.cli.review_prompt import review_interactively
    from jarvis_planner.cli.session import connect_or_fail, ensure_worker
    from planner.contracts.goal_flow import GoalState
    from planner.settings import load_settings

    settings = load_settings()
    where = {"goal_id": goal_id, "at": "review"}

    async def _go() -> GoalState:
        async with AsyncExitStack() as stack:
            jarvis = await connect_or_fail(settings)
            await require_goal(jarvis, goal_id)  # a clear error before any worker starts
            await ensure_worker(stack, jarvis)
            state = await jarvis.state(goal_id)
            if state.stage != "awaiting_approval":
                raise CliError(f"goal {goal_id} is {state.stage}, not awaiting approval",
                               "`jarvis list --pending` shows the goals that wait")
            await review_interactively(jarvis, goal_id, state)
            where["at"] = "following"  # decided (here or elsewhere): show it through
            return await follow_to_end(jarvis, goal_id)

    try:
        state = asyncio.run(_go())
    except KeyboardInterrupt:
        interrupted(where)
    print_outcome(state, goal_id, as_json=False)
