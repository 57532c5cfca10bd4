"""The interactive review step: show the plan, then approve, edit in $EDITOR, or reject."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
import tempfile
from pathlib import Path

import typer

from agents.client import DecisionRefused, EditRefused, JarvisClient
from jarvis_planner.cli.console import console, err_console
from jarvis_planner.cli.errors import CliError
from jarvis_planner.cli.goal_view import plan_tree
from planner.approval import short
from planner.contracts.goal_flow import GoalState
from planner.plan import Plan, PlanLoadError, parse_plan

CHOICES = "[a]pprove / [e]dit / [r]eject"


def ask(question: str, default: str) -> str:
    """typer's prompt; when the input is not a terminal the answer is echoed, so the prompt's
    line ends before whatever comes next."""
    answer = str(typer.prompt(question, default=default))
    if not sys.stdin.isatty():
        console.print(answer, markup=False, highlight=False)
    return answer


def _who() -> str:
    return f"cli:{os.environ.get('USER', 'user')}"


async def review_interactively(jarvis: JarvisClient, goal_id: str, state: GoalState) -> None:
    """Loop until a decision was accepted by the workflow."""
    while True:
        if state.plan is not None:
            console.print(plan_tree(state.plan, state.risks))
            console.print(f"[dim]plan version {short(state.plan_digest)}[/]")
        if any(r == "dangerous" for r in state.risks.values()):
            console.print("[bold red]this plan has DANGEROUS steps (shown in red)[/]")
        choice = ask(CHOICES, default="r").strip().lower()[:1]
        try:
            if choice == "a":
                await jarvis.approve(goal_id, state.plan_digest or "", by=_who())
                return
            if choice == "r":
                reason = ask("Reason", default="not wanted")
                await jarvis.reject(goal_id, by=_who(), reason=reason)
                return
            if choice == "e" and state.plan is not None:
                edited = edit_in_editor(state.plan)
                if edited is not None:
                    state = await jarvis.edit(goal_id, edited, state.plan_digest or "",
                                              by=_who())
                    console.print("[green]edit accepted[/]; the goal still waits for approval")
                continue
        except EditRefused as exc:
            err_console.print(f"[red]{exc}[/]", highlight=False)
            for problem in exc.problems:
                err_console.print(f"  [red]{problem}[/]", highlight=False)
        except DecisionRefused as exc:
            raise CliError(str(exc)) from exc


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
        return None
