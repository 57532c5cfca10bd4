"""`jarvis list`: recent plan runs, goals, or the goals waiting for a decision."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Annotated

import typer

from jarvis_planner.cli.options import JsonFlag

if TYPE_CHECKING:
    from rich.console import Console

    from agents.client import Summary

NONE_WAIT = "no goals wait for review"
GOAL_ROOM = 20  # a table only when its goal column gets this many characters


def print_summaries(out: Console, found: Sequence[Summary], title: str,
                    columns: tuple[str, ...]) -> None:
    """``found`` as a table (id, ``columns``: stage, started, goal) when ``out`` is wide
    enough for its whole ids and a readable goal column; else, as in an 80-column terminal
    with readable goal ids, a goal's id on a line of its own (whole, to copy) and the rest
    indented under it (jarvis_planner/cli/rows.py)."""
    from jarvis_planner.cli.rows import Column, Rows

    stage, started, goal = columns
    rows = Rows(title, (Column("id", no_wrap=True), Column(stage),
                        Column(started, fact=lambda when: f"started {when}"), Column(goal)),
                room=GOAL_ROOM)
    for item in found:
        rows.add(item.id, item.stage, item.started, item.goal)
    out.print(rows)


def list_(limit: Annotated[int, typer.Option(help="How many to show.")] = 20,
          goals: Annotated[bool, typer.Option("--goals", help="List goals.")] = False,
          pending: Annotated[bool, typer.Option(
              "--pending", help="Only goals waiting for approval.")] = False,
          as_json: JsonFlag = False) -> None:
    """List recent plan runs (or goals, or the goals waiting for approval)."""
    import asyncio
    import json
    from dataclasses import asdict

    from agents.client import NO_ANSWER, STUCK
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
    print_summaries(console, found, title, columns)
    if pending:
        console.print("[dim]`jarvis review ID` to decide[/]")
