"""`jarvis list`: recent plan runs, goals, or the goals waiting for a decision."""

from __future__ import annotations

from typing import Annotated

import typer


def list_(limit: Annotated[int, typer.Option(help="How many runs.")] = 20,
          goals: Annotated[bool, typer.Option("--goals", help="List goals.")] = False,
          pending: Annotated[bool, typer.Option(
              "--pending", help="Only goals waiting for approval.")] = False) -> None:
    """List recent plan runs (or goals, or the goals waiting for approval)."""
    import asyncio

    from rich.table import Table

    from agents.client import Summary
    from jarvis_planner.cli.console import console
    from jarvis_planner.cli.session import connect_or_fail
    from planner.settings import load_settings

    settings = load_settings()
    want_goals = goals or pending

    async def _go() -> list[Summary]:
        jarvis = await connect_or_fail(settings)
        if want_goals:
            return await jarvis.list(limit, pending=pending)
        return await jarvis.list_plans(limit)

    found = asyncio.run(_go())
    if want_goals:
        title = "goals waiting for approval" if pending else "recent goals"
        columns = ("stage", "started", "goal")
    else:
        title, columns = "recent runs", ("status", "started", "goal")
    table = Table(title=f"{len(found)} {title}", title_justify="left")
    table.add_column("id", no_wrap=True)
    for col in columns:
        table.add_column(col)
    for item in found:
        table.add_row(item.id, item.stage, item.started, item.goal)
    console.print(table)
    if pending and found:
        console.print("[dim]`jarvis review ID` to decide[/]")
