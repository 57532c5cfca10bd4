"""Running plans and following runs: run-plan, status, list, cancel, result."""

from __future__ import annotations

import asyncio
import json
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.live import Live
from rich.table import Table
from temporalio.client import WorkflowFailureError
from temporalio.service import RPCError

from activities import default_registry
from activities.payloads import FilePayloadStore, hydrate
from agents.engine import TemporalUnreachable, choose_engine
from agents.goals import GoalClient, GoalSummary
from agents.temporal_engine import TemporalWorkflowEngine
from jarvis_planner.cli.errors import CliError
from jarvis_planner.cli.render import console, err_console, print_json, print_problems, steps_table
from jarvis_planner.cli.session import connect_or_fail, ensure_worker
from planner.contracts.run import RunState
from planner.plan import PlanLoadError, load_plan
from planner.preparation import DangerousStepRefused, prepare
from planner.settings import Settings, load_settings
from planner.validation import ValidationFailed

EngineOpt = Annotated[str | None, typer.Option(
    "--engine", help="auto (default: Temporal, else in-process), temporal or simple.")]


def run_plan(
    plan_file: Annotated[Path, typer.Argument(help="Plan JSON file (see examples/).")],
    engine: EngineOpt = None,
    detach: Annotated[bool, typer.Option(help="Start and print the run id; don't wait.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the final state as JSON.")] = False,
) -> None:
    """Validate and run a plan, showing live progress per step, then its result."""
    settings = load_settings(**({"engine": engine} if engine else {}))
    try:
        plan = load_plan(plan_file)
    except PlanLoadError as exc:
        raise CliError(str(exc), "`jarvis schema` prints the plan JSON Schema", code=2) from exc
    registry = default_registry()
    try:
        inp = prepare(plan, registry, settings)
    except ValidationFailed as exc:
        print_problems(exc.problems)
        raise CliError("nothing was run", f"`jarvis validate {plan_file}` re-checks it",
                       code=2) from exc
    except DangerousStepRefused as exc:
        raise CliError(str(exc), code=2) from exc
    state = asyncio.run(_run(settings, inp, detach, as_json))
    if state is None:
        return
    _print_result(state, settings, as_json)
    if state.status != "succeeded":
        raise typer.Exit(1)


async def _run(settings: Settings, inp: Any, detach: bool, as_json: bool) -> RunState | None:
    registry = default_registry()
    try:
        choice = await choose_engine(settings, registry)
    except TemporalUnreachable as exc:
        raise CliError(str(exc), "or use --engine auto to fall back in-process") from exc
    if choice.warning:
        err_console.print(f"[bold yellow]warning:[/] {choice.warning}", highlight=False)
    eng = choice.engine
    async with AsyncExitStack() as stack:
        if isinstance(eng, TemporalWorkflowEngine):
            await ensure_worker(stack, eng.client, settings, registry, detach=detach)
            run_id = await eng.start(inp)
            err_console.print(f"run id: [bold]{run_id}[/]  (jarvis status {run_id})",
                              highlight=False)
            if detach:
                return None
            return await _follow(lambda cb: eng.wait(run_id, cb), as_json)
        return await _follow(lambda cb: eng.execute(inp, cb), as_json)
    return None  # pragma: no cover


async def _follow(start: Any, as_json: bool) -> RunState:
    if as_json:
        result: RunState = await start(None)
        return result
    with Live(console=err_console, refresh_per_second=8, transient=False) as live:
        def show(state: RunState) -> None:
            live.update(steps_table(state))
        try:
            result = await start(show)
        except WorkflowFailureError as exc:
            raise CliError(f"run failed: {exc.cause}") from exc
    return result


def _print_result(state: RunState, settings: Settings, as_json: bool) -> None:
    store = FilePayloadStore(settings.payload_dir)
    if as_json:
        print(json.dumps(hydrate(state.model_dump(mode="json"), store), indent=2))
        return
    if state.status == "succeeded":
        console.print("[bold green]succeeded[/]; result:")
        print_json(hydrate(state.outputs, store))
    else:
        err_console.print(f"[bold red]{state.status}[/]: {state.failure_report()}",
                          highlight=False)


async def _engine(settings: Settings) -> TemporalWorkflowEngine:
    return TemporalWorkflowEngine(await connect_or_fail(settings), settings.task_queue)


def _missing(run_id: str, exc: RPCError) -> CliError:
    return CliError(f"run '{run_id}': {exc.message}", "`jarvis list` shows recent runs")


def _run_state(settings: Settings, run_id: str) -> RunState | None:
    """A run's state from the server, or a one-line error naming the run."""

    async def _go() -> RunState | None:
        eng = await _engine(settings)
        try:
            return await eng.state(run_id)
        except RPCError as exc:
            raise _missing(run_id, exc) from exc

    return asyncio.run(_go())


def status(run_id: Annotated[str, typer.Argument(help="Run id (from run-plan or list).")],
           as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Show a run's per-step status, attempts and timings."""
    settings = load_settings()
    state = _run_state(settings, run_id)
    if state is None:
        console.print(f"run {run_id} was cancelled before it reported a state")
    elif as_json:
        print(state.model_dump_json(indent=2))
    else:
        console.print(steps_table(state, f"{run_id}: {state.goal} [{state.status}]"))
        if state.error:
            err_console.print(f"[red]{state.failure_report()}[/]", highlight=False)


def list_runs(limit: Annotated[int, typer.Option(help="How many runs.")] = 20,
              goals: Annotated[bool, typer.Option("--goals", help="List goals.")] = False,
              pending: Annotated[bool, typer.Option(
                  "--pending", help="Only goals waiting for approval.")] = False) -> None:
    """List recent plan runs (or goals, or the goals waiting for approval)."""
    settings = load_settings()
    if goals or pending:
        _list_goals(settings, limit, pending)
        return

    async def _go() -> Any:
        return await (await _engine(settings)).list_runs(limit)

    runs = asyncio.run(_go())
    table = Table(title=f"{len(runs)} recent runs", title_justify="left")
    table.add_column("id", no_wrap=True)
    table.add_column("status")
    table.add_column("started")
    table.add_column("goal")
    for r in runs:
        table.add_row(r.id, r.status, r.started, r.goal)
    console.print(table)


def _list_goals(settings: Settings, limit: int, pending: bool) -> None:
    async def _go() -> list[GoalSummary]:
        client = GoalClient(await connect_or_fail(settings), settings.task_queue)
        return await client.list_goals(limit, pending=pending)

    found = asyncio.run(_go())
    title = "goals waiting for approval" if pending else "recent goals"
    table = Table(title=f"{len(found)} {title}", title_justify="left")
    table.add_column("id", no_wrap=True)
    for col in ("stage", "started", "goal"):
        table.add_column(col)
    for g in found:
        table.add_row(g.id, g.stage, g.started, g.goal)
    console.print(table)
    if pending and found:
        console.print("[dim]`jarvis review ID` to decide[/]")


def cancel(run_id: Annotated[str, typer.Argument(help="Run id.")]) -> None:
    """Cancel a running plan (running steps are cancelled, nothing new starts)."""
    settings = load_settings()

    async def _go() -> None:
        eng = await _engine(settings)
        try:
            await eng.cancel(run_id)
        except RPCError as exc:
            raise _missing(run_id, exc) from exc

    asyncio.run(_go())
    console.print(f"cancellation requested for {run_id}")


def result(run_id: Annotated[str, typer.Argument(help="Run id.")]) -> None:
    """Print a finished run's result (large outputs are read back from the payload store)."""
    settings = load_settings()
    state = _run_state(settings, run_id)
    if state is None:
        raise CliError(f"run {run_id} was cancelled; it has no result")
    if state.status == "running":
        raise CliError(f"run {run_id} is still running", f"`jarvis status {run_id}`")
    _print_result(state, settings, as_json=False)
    if state.status != "succeeded":
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.command("run-plan")(run_plan)
    app.command()(status)
    app.command("list")(list_runs)
    app.command()(cancel)
    app.command()(result)
