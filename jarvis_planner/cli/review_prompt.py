"""The interactive review step: show the plan, then approve, edit in $EDITOR, or reject."""

from __future__ import annotations

import asyncio
import json
import os
import shlex
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from agents.client import DecisionRefused, EditRefused, JarvisClient
from jarvis_planner.cli.console import console, err_console
from jarvis_planner.cli.errors import CliError
from jarvis_planner.cli.goal_view import cost_line, plan_tree
from planner.approval import short
from planner.contracts.goal_flow import GoalState
from planner.plan import Plan, PlanLoadError, parse_plan

CHOICES = "[a]pprove / [e]dit / [r]eject"


def _who() -> str:
    return f"cli:{os.environ.get('USER', 'user')}"


async def review_interactively(jarvis: JarvisClient, goal_id: str, state: GoalState, *,
                               tree_shown: bool = False) -> GoalState | None:
    """Ask until a decision is accepted here, following the goal meanwhile: a decision made
    elsewhere (another terminal, the web app) ends the prompt and is said; returns the state
    then (None when the decision was made here). ``tree_shown``: the plan is on screen already
    (the live view showed it)."""
    watcher = asyncio.ensure_future(_left_review(jarvis, goal_id))
    try:
        while True:
            if state.plan is not None and not tree_shown:
                console.print(plan_tree(state.plan, state.risks, state.conversions))
            tree_shown = False
            console.print(f"[dim]plan version {short(state.plan_digest)}; {cost_line(state)}[/]",
                          highlight=False)
            if any(r == "dangerous" for r in state.risks.values()):
                console.print("[bold red]this plan has DANGEROUS steps (shown in red)[/]")
            choice = await ask(CHOICES, "r", watcher)
            if choice is None:
                return _said_elsewhere(watcher.result(), goal_id)
            try:
                if choice[:1] == "a":
                    await jarvis.approve(goal_id, state.plan_digest or "", by=_who())
                    return None
                if choice[:1] == "r":
                    reason = await ask("Reason", "not wanted", watcher)
                    if reason is None:
                        return _said_elsewhere(watcher.result(), goal_id)
                    await jarvis.reject(goal_id, by=_who(), reason=reason)
                    return None
                if choice[:1] == "e" and state.plan is not None:
                    edited = edit_in_editor(state.plan)
                    if edited is not None:
                        state = await jarvis.edit(goal_id, edited, state.plan_digest or "",
                                                  by=_who())
                        console.print("[green]edit accepted[/]; the goal still waits for "
                                      "approval")
                    continue
            except EditRefused as exc:
                err_console.print(f"[red]{exc}[/]", highlight=False)
                for problem in exc.problems:
                    err_console.print(f"  [red]{problem}[/]", highlight=False)
            except DecisionRefused as exc:
                if "changed since you saw it" not in str(exc):
                    raise CliError(str(exc)) from exc
                err_console.print("[yellow]the plan was edited elsewhere meanwhile; here is "
                                  "the current one[/]", highlight=False)
                state = await jarvis.state(goal_id)
    finally:
        watcher.cancel()


async def ask(prompt: str, default: str, watcher: asyncio.Future[GoalState]) -> str | None:
    """A line from the terminal, or None as soon as ``watcher`` finishes first (the goal
    moved on). Reads stdin through the event loop, so nothing blocks while the goal is
    followed and Ctrl-C interrupts at once."""
    console.print(f"{prompt} [{default}]: ", end="", highlight=False, markup=False)
    loop = asyncio.get_running_loop()
    line: asyncio.Future[str] = loop.create_future()
    fd = sys.stdin.fileno()

    def readable() -> None:
        if not line.done():
            line.set_result(sys.stdin.readline())

    loop.add_reader(fd, readable)
    try:
        pending: set[asyncio.Future[Any]] = {line, watcher}
        await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
    finally:
        loop.remove_reader(fd)
    if not line.done():
        line.cancel()
        console.print()
        return None
    text = line.result()
    if text == "":
        raise EOFError("stdin closed")
    if not sys.stdin.isatty():  # no echo from a pipe: end the prompt's line ourselves
        console.print(text.strip(), markup=False, highlight=False)
    return text.strip().lower() or default


async def _left_review(jarvis: JarvisClient, goal_id: str) -> GoalState:
    """The goal's state once it no longer waits for review."""
    async for event in jarvis.events(goal_id):
        if event.stage != "awaiting_approval" and event.state.stage != "awaiting_approval":
            return event.state
    return await jarvis.state(goal_id)


def _said_elsewhere(state: GoalState, goal_id: str) -> GoalState:
    decisions = [d for d in state.decisions if d.action != "edit"]
    if decisions:
        last = decisions[-1]
        verb = {"approve": "approved", "reject": "rejected"}.get(last.action, last.action)
        console.print(f"[bold]{goal_id} was {verb} elsewhere by {last.by}[/]"
                      + (f": {last.reason}" if last.reason else ""), highlight=False)
    else:
        console.print(f"[bold]{goal_id} is {state.stage} now[/]", highlight=False)
    return state


def still_waiting(goal_id: str) -> str:
    """What to say when the person leaves the prompt (Ctrl-C) while the goal waits."""
    return (f"stopped here; {goal_id} still waits for a decision: `jarvis review {goal_id}` "
            f"(or `jarvis approve {goal_id}` / `jarvis reject {goal_id}`)")


def edit_in_editor(plan: Plan) -> Plan | None:
    """Open the plan as JSON in $EDITOR (or $VISUAL, else vi); None if unchanged or unreadable."""
    editor = os.environ.get("VISUAL") or os.environ.get("EDITOR") or "vi"
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as fh:
        original = json.dumps(plan.model_dump(mode="json", exclude_defaults=True), indent=2)
        fh.write(original + "\n")
        path = Path(fh.name)
    try:
        subprocess.run([*shlex.split(editor), str(path)], check=False)
        text = path.read_text(encoding="utf-8")
    finally:
        path.unlink(missing_ok=True)
    if text.strip() == original.strip():
        console.print("no change")
        return None
    try:
        return parse_plan(text, "edited plan")
    except PlanLoadError as exc:
        err_console.print(f"[red]{exc}[/]", highlight=False)
        err_console.print("hint: `jarvis schema` prints the plan JSON Schema", highlight=False)
        return None
