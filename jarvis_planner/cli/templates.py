"""`jarvis templates list|show|delete`: the plan templates kept in chromadb."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from jarvis_planner.cli.options import JsonFlag

if TYPE_CHECKING:
    from activities.memory import TemplateStore

app = typer.Typer(help="Plan templates: stored successful plans, reused for similar goals.",
                  no_args_is_help=True)


def _store() -> TemplateStore:
    from activities import default_registry
    from activities.memory.seed import open_store
    from planner.settings import load_settings

    return open_store(load_settings(), default_registry())


@app.command("list")
def list_templates(as_json: JsonFlag = False) -> None:
    """List stored templates with their success counts and validity."""
    from rich.text import Text

    from jarvis_planner.cli.console import console, plural, print_json
    from jarvis_planner.cli.goal_view import usd
    from jarvis_planner.cli.rows import Column, Rows

    hits = _store().list()
    if as_json:
        print_json([{"id": h.id, "goal": h.goal, "pattern": h.pattern, "source": h.source,
                     "successes": h.successes, "failures": h.failures,
                     "avg_tokens": h.avg_tokens, "avg_cost_usd": h.avg_cost_usd,
                     "invalidated": h.invalidated, "reason": h.invalid_reason} for h in hits])
        return
    rows = Rows(plural(len(hits), "template"), (
        Column("id", no_wrap=True), Column("state"),
        Column("runs ok/failed", fact=lambda counts: f"runs ok/failed {counts}"),
        Column("avg tokens", fact=lambda tokens: f"{tokens} tokens a run"),
        Column("avg cost", fact=lambda cost: f"{cost} a run"), Column("goal pattern")))
    for h in sorted(hits, key=lambda h: h.goal):
        state = (Text(f"invalid: {h.invalid_reason or ''}", style="red") if h.invalidated
                 else Text("valid", style="green"))
        tokens = f"{h.avg_tokens:.0f}" if h.avg_tokens is not None else ""
        cost = usd(h.avg_cost_usd) if h.avg_cost_usd is not None else ""
        rows.add(h.id, state, f"{h.successes}/{h.failures}", tokens, cost, h.pattern or h.goal)
    console.print(rows)


@app.command()
def show(template_id: Annotated[str, typer.Argument(help="Template id (from list).")],
         as_json: JsonFlag = False) -> None:
    """Show one template: its goal, pattern, plan and counts."""
    from jarvis_planner.cli.console import console, print_json
    from jarvis_planner.cli.errors import CliError
    from jarvis_planner.cli.goal_view import plan_tree

    hit = _store().get(template_id)
    if hit is None:
        raise CliError(f"no template '{template_id}'", "`jarvis templates list` shows them")
    if as_json:
        print_json({"id": hit.id, "goal": hit.goal, "pattern": hit.pattern,
                    "plan": hit.plan.model_dump(mode="json"), "fingerprints": hit.fingerprints,
                    "successes": hit.successes, "failures": hit.failures,
                    "invalidated": hit.invalidated, "reason": hit.invalid_reason})
        return
    console.print(f"[bold]{hit.id}[/] goal: {hit.goal}\npattern: {hit.pattern}\n"
                  f"runs: {hit.successes} ok, {hit.failures} failed; source: {hit.source}")
    if hit.invalidated:
        console.print(f"[red]invalid: {hit.invalid_reason}[/]")
    console.print(plan_tree(hit.plan))


@app.command()
def delete(template_id: Annotated[str, typer.Argument(help="Template id.")]) -> None:
    """Delete a template."""
    from jarvis_planner.cli.console import console
    from jarvis_planner.cli.errors import CliError

    if not _store().delete(template_id):
        raise CliError(f"no template '{template_id}'", "`jarvis templates list` shows them")
    console.print(f"deleted {template_id}")

