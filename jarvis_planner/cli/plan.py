"""`jarvis plan "GOAL"`: plan a goal and show the plan; nothing runs."""

from __future__ import annotations

from typing import Annotated

import typer


def plan(goal: Annotated[str, typer.Argument(help="The goal, in plain language.")],
         as_json: Annotated[bool, typer.Option("--json", help="Print the state as JSON.")] = False
         ) -> None:
    """Plan a goal and show the plan (each step's risk), its problems and estimated cost.
    Nothing is executed."""
    import asyncio
    from contextlib import AsyncExitStack

    from activities import default_registry
    from jarvis_planner.cli.console import console
    from jarvis_planner.cli.goal_view import cost_line, goal_view
    from jarvis_planner.cli.session import session, user
    from planner.contracts.goal_flow import GoalState
    from planner.settings import load_settings

    settings = load_settings()

    async def _go() -> tuple[str, GoalState]:
        async with AsyncExitStack() as stack:
            jarvis, _ = await session(settings, stack)
            goal_id = await jarvis.submit(goal, dry_run=True, by=user())
            with console.status("planning …"):
                return goal_id, await jarvis.result(goal_id)

    goal_id, state = asyncio.run(_go())
    if state.plan is not None and not state.risks:  # a dry run stops before `prepare`
        from planner.validation import planned_conversions

        registry = default_registry(settings=settings)
        state = state.model_copy(update={"risks": {
            s.id: tool.risk for s in state.plan.steps if (tool := registry.get(s.tool))},
            "conversions": planned_conversions(state.plan, {t.name: t for t in registry})})
    if as_json:
        print(state.model_dump_json(indent=2))
    else:
        console.print(goal_view(state, goal_id))
        console.print(f"[dim]{cost_line(state)}[/]")
    if state.stage != "planned":
        raise typer.Exit(2)
