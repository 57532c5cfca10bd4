"""`jarvis tools [NAME]`: the registered tools and their schemas."""

from __future__ import annotations

from typing import Annotated

import typer


def tools(
    name: Annotated[str | None, typer.Argument(help="Show one tool with its schemas.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """List the registered tools (built-ins, plugins and MCP servers' tools) with their
    schemas; says which configured MCP servers did not answer."""
    from rich.text import Text

    from activities import default_registry
    from jarvis_planner.cli.console import console, plural, print_json
    from jarvis_planner.cli.errors import CliError
    from jarvis_planner.cli.rows import Column, Rows
    from planner.settings import load_settings

    registry = default_registry(settings=load_settings())
    if name:
        found = registry.get(name)
        if found is None:
            raise CliError(f"no tool named '{name}'", "run `jarvis tools` to list them")
        print_json(found.describe())
        return
    if as_json:
        print_json([t.describe() for t in registry])
        return
    rows = Rows(plural(len(registry), "tool"), (
        Column("name", no_wrap=True), Column("risk"),
        Column("args", fact=lambda names: f"args: {names}"),
        Column("source", fact=lambda where: f"from {where}"), Column("description")))
    for t in registry:
        props = t.args_schema.get("properties", {})
        required = set(t.args_schema.get("required", []))
        args = ", ".join(f"{k}{'' if k in required else '?'}" for k in props)
        risk_style = {"dangerous": "bold red", "side-effecting": "yellow"}.get(
            t.risk.value, "green")
        rows.add(t.name, Text(t.risk.value, style=risk_style), args, t.source,
                 (t.description.splitlines() or [""])[0])
    console.print(rows)
    for why in registry.unavailable.values():
        console.print(f"[yellow]{why}[/]")
    console.print("[dim]`jarvis tools NAME` shows one tool's argument and output schemas[/]")
