"""`jarvis chat`: the conversation in the terminal. Goals in; plans shown for review; progress and
results streamed back. Commands: /pending, /goals, /quit."""

from __future__ import annotations

import asyncio
import json
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.console import Console

    from agents.client import JarvisClient
    from agents.following import GoalEvent

HELP = "type a goal, or /pending, /goals, /quit"


def chat() -> None:
    """Talk to JARVIS in the terminal: each line is a goal, reviewed and run here."""
    from contextlib import AsyncExitStack

    from rich.console import Console

    from jarvis_planner.cli.session import session
    from planner.settings import load_settings

    settings = load_settings()
    out = Console()

    async def _go() -> None:
        async with AsyncExitStack() as stack:
            jarvis, _ = await session(settings, stack)
            out.print(f"[bold]JARVIS[/] ready ({HELP})")
            while True:
                line = await asyncio.to_thread(_read, out)
                if line is None or line in ("/quit", "/exit"):
                    return
                if not line:
                    continue
                if line in ("/pending", "/goals"):
                    for g in await jarvis.list(pending=line == "/pending"):
                        out.print(f"  {g.id}  [{g.stage}]  {g.goal}", highlight=False)
                    continue
                await _converse(jarvis, line, out)

    asyncio.run(_go())


def _read(out: Console) -> str | None:
    out.print("[bold cyan]you>[/] ", end="")
    line = sys.stdin.readline()
    return line.strip() if line else None


async def _converse(jarvis: JarvisClient, goal: str, out: Console) -> None:
    """Follow one goal to its end; review it here when it waits for a decision."""
    from jarvis_planner.cli.review_prompt import review_interactively

    goal_id = await jarvis.submit(goal, by="chat")
    async for event in jarvis.events(goal_id, poll_s=0.2):
        _show(event, out)
        if (event.kind == "stage" and event.stage == "awaiting_approval"
                and event.state.stage == "awaiting_approval"):
            await review_interactively(jarvis, goal_id, event.state)


def _show(event: GoalEvent, out: Console) -> None:
    state = event.state
    if event.kind == "stage":
        out.print(f"[dim]jarvis> {event.stage}[/]", highlight=False)
    elif event.kind == "step":
        out.print(f"[dim]  step {event.step_id}: {event.status}[/]", highlight=False)
    elif event.kind == "done":
        if state.stage == "succeeded" and state.run is not None:
            out.print("[bold green]jarvis> done[/]: "
                      + json.dumps(state.run.outputs, ensure_ascii=False), highlight=False)
        else:
            out.print(f"[bold red]jarvis> {state.stage}[/]: {state.message}", highlight=False)
            for problem in state.problems:
                out.print(f"  [red]{problem}[/]", highlight=False)

