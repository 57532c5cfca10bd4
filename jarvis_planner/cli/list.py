"""`jarvis list`: recent plan runs, goals, or the goals waiting for a decision."""

from __future__ import annotations

from typing import Annotated

import typer

from jarvis_planner.cli.options import JsonFlag

NONE_WAIT = "no goals wait for review"


def list_(limit: Annotated[int, typer.Option(help="How many to show.")] = 20,
          goals: Annotated[bool, typer.Option("--goals", help="List goals.")] = False,
          pending: Annotated[bool, typer.Option(
              "--pending", help="Only goals waiting for approval.")] = False,
          as_json: JsonFlag = False) -> None:
    """List recent plan runs (or goals, or the goals waiting for approval)."""
    import asyncio
    import json
    from dataclasses import asdict

    from rich.markup import escape
    from rich.table import Table

    from agents.client import NO_ANSWER, STUCK, Summary
    from jarvis_planner.cli.console import console, plural
    from jarvis_planner.cli.session import connect_or_fail
    from planner.settings import load_settings

    settings = load_settings()
    want_goals = goals or pending

    async def _go() -> tuple[list[Summary], bool]:
        jarvis = await connect_or_fail(settings)
        if want_goals:
            found = await jarvis.list(limit, pending=pending, unanswered=True)
            # a waiting goal's decision needs a worker: say so when none polls
            return found, not (pending and found) or await jarvis.has_pollers()
        return await jarvis.list_plans(limit), True

    found, served = asyncio.run(_go())
    if as_json:
        kind = "goal" if want_goals else "run"
        print(json.dumps([{"kind": kind, **asdict(s), "status": s.stage} for s in found],
                         indent=2))
        return
    if pending and not found:
        console.print(NONE_WAIT)
        return
    unknown = sum(1 for g in found if g.stage == NO_ANSWER)
    stuck = sum(1 for g in found if g.stage == STUCK)
    if want_goals:
        title = (f"{plural(len(found) - unknown - stuck, 'goal')} waiting for approval" if pending
                 else f"{plural(len(found), 'recent goal')}")
        if pending and unknown:
            title += (f"; {plural(unknown, 'running goal')} no worker answers for (it may "
                      "wait too: `jarvis up` starts a worker)")
        elif pending and not served:
            title += (f"; no worker polls task queue {settings.task_queue!r}: a decision waits "
                      "until one does (`jarvis up` starts one)")
        if stuck:
            title += (f"; {plural(stuck, 'goal')} stuck (a workflow task that fails on every "
                      "attempt: `jarvis status ID` says why)")
        columns = ("stage", "started", "goal")
    else:
        title, columns = plural(len(found), "recent run"), ("status", "started", "goal")
    table = Table(title=title, title_justify="left")
    table.add_column("id", no_wrap=True)
    for col in columns:
        table.add_column(col)
    for item in found:
        table.add_row(*(escape(x) for x in (item.id, item.stage, item.started, item.goal)))
    console.print(table)
    if pending:
        console.print("[dim]`jarvis review ID` to decide[/]")
