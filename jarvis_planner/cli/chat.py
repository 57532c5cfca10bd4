"""`jarvis chat`: the conversation in the terminal. Goals in; plans shown for review; progress and
results streamed back. A line starting with `/` is a command (never a goal): /help, /pending,
/goals, /quit."""

from __future__ import annotations

import asyncio
import json
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.console import Console

    from agents.client import JarvisClient
    from agents.following import GoalEvent

HELP = "type a goal, or /help for the commands"
COMMANDS = {
    "/help": "this list",
    "/pending": "the goals waiting for your review",
    "/goals": "recent goals with their stage",
    "/quit": "leave (also /exit, or Ctrl-D)",
}


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
                if line.startswith("/"):
                    await _command(jarvis, line, out)
                elif line:
                    await _converse(jarvis, line, out)

    asyncio.run(_go())


async def _command(jarvis: JarvisClient, line: str, out: Console) -> None:
    """A chat command; an unknown one is said so (it is never sent as a goal)."""
    from rich.markup import escape
    from rich.table import Table

    from jarvis_planner.cli.list import NONE_WAIT

    name = line.split()[0].lower()
    if name == "/help":
        for command, what in COMMANDS.items():
            out.print(f"  [bold]{command:<9}[/] {what}", highlight=False)
        out.print("  anything else is a goal, planned and (after your review if needed) run")
        return
    if name not in ("/pending", "/goals"):
        out.print(f"unknown command {escape(name)}; /help lists them", highlight=False)
        return
    found = await jarvis.list(pending=name == "/pending")
    if not found:
        out.print(NONE_WAIT if name == "/pending" else "no goals yet", highlight=False)
        return
    table = Table(box=None, pad_edge=False)
    for column in ("id", "stage", "started", "goal"):
        table.add_column(column, no_wrap=column == "id")
    for g in found:
        table.add_row(*(escape(x) for x in (g.id, g.stage, g.started, g.goal)))
    out.print(table)


def _read(out: Console) -> str | None:
    """The next line typed. When the input is not a terminal nothing echoes it, so the prompt
    is printed with the line (a transcript, never a prompt glued to the next output)."""
    from rich.markup import escape

    if sys.stdin.isatty():
        out.print("[bold cyan]you>[/] ", end="")
        line = sys.stdin.readline()
    else:
        line = sys.stdin.readline()
        if line:
            out.print(f"[bold cyan]you>[/] {escape(line.strip())}", highlight=False)
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
    from rich.text import Text

    from jarvis_planner.cli.console import settled

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
            out.print(Text.assemble((f"jarvis> {state.stage}", "bold red"), ": ",
                                    settled(state.message)), highlight=False)
            for problem in state.problems:
                out.print(f"  {problem}", style="red", highlight=False, markup=False)

