"""Commands that need no server: tools, validate, schema."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from activities import default_registry
from jarvis_planner.cli.errors import CliError
from jarvis_planner.cli.render import console, print_json, print_problems
from planner.plan import PlanLoadError, load_plan, plan_json_schema
from planner.validation import validate_plan


def tools(
    name: Annotated[str | None, typer.Argument(help="Show one tool with its schemas.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """List the registered tools (built-ins and plugins) with their schemas."""
    registry = default_registry()
    if name:
        found = registry.get(name)
        if found is None:
            raise CliError(f"no tool named '{name}'", "run `jarvis tools` to list them")
        print_json(found.describe())
        return
    if as_json:
        print_json([t.describe() for t in registry])
        return
    table = Table(title=f"{len(registry)} tools", title_justify="left")
    for col in ("name", "risk", "args", "description"):
        table.add_column(col)
    for t in registry:
        props = t.args_schema.get("properties", {})
        required = set(t.args_schema.get("required", []))
        args = ", ".join(f"{k}{'' if k in required else '?'}" for k in props)
        risk_style = {"dangerous": "bold red", "side-effecting": "yellow"}.get(
            t.risk.value, "green")
        table.add_row(t.name, f"[{risk_style}]{t.risk.value}[/]", args,
                      t.description.splitlines()[0])
    console.print(table)
    console.print("[dim]`jarvis tools NAME` shows one tool's argument and output schemas[/]")


def validate(
    plan_file: Annotated[Path, typer.Argument(help="Plan JSON file.")],
    as_json: Annotated[bool, typer.Option("--json", help="Problems as JSON.")] = False,
) -> None:
    """Check a plan against the registered tools without running it."""
    try:
        plan = load_plan(plan_file)
    except PlanLoadError as exc:
        raise CliError(str(exc), "fix the file; `jarvis schema` prints the plan schema",
                       code=2) from exc
    registry = default_registry()
    problems = validate_plan(plan, {t.name: t for t in registry})
    if as_json:
        print(json.dumps([p.model_dump() for p in problems], indent=2))
    elif problems:
        print_problems(problems)
    else:
        console.print(f"[green]valid[/]: {len(plan.steps)} steps, goal: {plan.goal}")
    if problems:
        raise typer.Exit(2)


def schema() -> None:
    """Print the plan JSON Schema."""
    print(json.dumps(plan_json_schema(), indent=2))


def register(app: typer.Typer) -> None:
    app.command()(tools)
    app.command()(validate)
    app.command()(schema)
