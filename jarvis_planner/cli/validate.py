"""`jarvis validate FILE`: check a plan without running it."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def validate(
    plan_file: Annotated[Path, typer.Argument(help="Plan JSON file.")],
    as_json: Annotated[bool, typer.Option("--json", help="Problems as JSON.")] = False,
) -> None:
    """Check a plan against the registered tools without running it."""
    import json

    from rich.markup import escape

    from activities import default_registry
    from jarvis_planner.cli.console import console, plural, print_problems
    from jarvis_planner.cli.errors import CliError
    from planner.plan import PlanLoadError, load_plan
    from planner.validation import validate_plan

    try:
        plan = load_plan(plan_file)
    except PlanLoadError as exc:
        raise CliError(str(exc), "fix the file; `jarvis schema` prints the plan schema",
                       code=2) from exc
    from planner.settings import load_settings

    registry = default_registry(settings=load_settings())
    problems = validate_plan(plan, {t.name: t for t in registry})
    if as_json:
        print(json.dumps([p.model_dump() for p in problems], indent=2))
    elif problems:
        print_problems(problems)
    else:
        console.print(f"[green]valid[/]: {plural(len(plan.steps), 'step')}, goal: "
                      f"{escape(plan.goal)}", highlight=False)
    if problems:
        raise typer.Exit(2)
