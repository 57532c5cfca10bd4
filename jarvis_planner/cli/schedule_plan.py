"""The review of a recurring goal, once, when its schedule is created: the plan (planned now by
a dry run, read from a file or taken from a template), checked against today's tools, shown,
and approved (a question at a terminal, or `--yes`)."""

from __future__ import annotations

import re
import sys
from contextlib import AsyncExitStack
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from rich.markup import escape

from jarvis_planner.cli.console import console, err_console, print_problems
from jarvis_planner.cli.errors import CliError
from jarvis_planner.cli.goal_view import plan_tree
from planner.approval import plan_digest, short
from planner.plan import Plan
from planner.settings import Settings

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$")
_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86_400.0, None: 1.0}


def duration(text: str, option: str) -> timedelta:
    """``90``, ``90s``, ``30m``, ``1h``, ``1.5d``, ``500ms`` as a timedelta."""
    found = _DURATION.match(text)
    if not found or float(found.group(1)) <= 0:
        raise CliError(f"{option} {text!r} is not a duration",
                       "write a positive number with a unit: 500ms, 30s, 10m, 1h, 1d")
    return timedelta(seconds=float(found.group(1)) * _UNITS[found.group(2)])


def moment(text: str, option: str) -> datetime:
    """An ISO 8601 time (local time when it names no zone)."""
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError as exc:
        raise CliError(f"{option} {text!r} is not a time",
                       "write an ISO 8601 time, e.g. 2026-12-01T08:00 or "
                       "2026-12-01T08:00:00+00:00") from exc
    return value.astimezone(UTC) if value.tzinfo is None else value


@dataclass(frozen=True)
class Reviewed:
    plan: Plan
    source: str  # llm, template:<id>, file:<name>
    risks: dict[str, str]


def read_plan_file(path: Path) -> Plan:
    from planner.plan import PlanLoadError, load_plan

    try:
        return load_plan(path)
    except PlanLoadError as exc:
        raise CliError(str(exc), "fix the file; `jarvis schema` prints the plan schema",
                       code=2) from exc


def template_plan(template_id: str) -> Plan:
    from activities import default_registry
    from activities.memory.seed import open_store
    from planner.settings import load_settings

    hit = open_store(load_settings(), default_registry()).get(template_id)
    if hit is None:
        raise CliError(f"no template '{template_id}'", "`jarvis templates list` shows them")
    if hit.invalidated:
        raise CliError(f"template '{template_id}' is invalid: {hit.invalid_reason}",
                       "plan the goal anew instead (give the goal text)")
    return hit.plan


async def plan_now(settings: Settings, goal: str, by: str) -> tuple[Plan, str]:
    """Plan ``goal`` now (a dry run: template memory or the LLM); the plan and its source."""
    from jarvis_planner.cli.session import session

    async with AsyncExitStack() as stack:
        jarvis, _ = await session(settings, stack)
        goal_id = await jarvis.submit(goal, dry_run=True, by=by)
        with console.status("planning …"):
            state = await jarvis.result(goal_id)
    if state.stage != "planned" or state.plan is None:
        raise CliError(f"planning the goal ended {state.stage}: {state.message or 'no plan'}",
                       f"`jarvis goal {goal_id}` shows it; fix the goal or give --plan FILE")
    source = f"template:{state.template_id}" if state.source == "template" else "llm"
    return state.plan, source


def checked(plan: Plan, source: str) -> Reviewed:
    """The plan checked against today's tools, with each step's risk; invalid: exit 2."""
    from activities import default_registry
    from planner.validation import validate_plan

    registry = default_registry()
    problems = validate_plan(plan, {t.name: t for t in registry})
    if problems:
        print_problems(problems)
        raise CliError("the plan does not validate against today's tools; no schedule was "
                       "created", "fix the plan (`jarvis validate FILE`)", code=2)
    risks = {s.id: str(tool.risk) for s in plan.steps if (tool := registry.get(s.tool))}
    return Reviewed(plan, source, risks)


def approve(reviewed: Reviewed, when: str, yes: bool, *, quiet_stdout: bool = False) -> None:
    """Show the plan and get the approval of every run of it: a question at a terminal, or
    ``--yes``; without either, a clear error (nothing is created). ``quiet_stdout``: show it
    on stderr (stdout is for --json)."""
    out = err_console if quiet_stdout else console
    out.print(plan_tree(reviewed.plan, reviewed.risks))
    out.print(f"[dim]plan version {short(plan_digest(reviewed.plan))} (from "
              f"{escape(reviewed.source)}); runs {escape(when)}[/]", highlight=False)
    if "dangerous" in reviewed.risks.values():
        out.print("[bold red]this plan has DANGEROUS steps: every run will wait for a "
                  "person's approval (`jarvis review ID`)[/]")
    if yes:
        return
    if not sys.stdin.isatty():
        raise CliError("a schedule runs its plan without asking: approve it here",
                       "run the command in a terminal to answer, or pass --yes to approve "
                       "the plan shown above")
    answer = out.input("Approve this plan for every run of the schedule? [y/N] ")
    if answer.strip().lower() not in ("y", "yes"):
        raise CliError("not approved; no schedule was created", code=1)
