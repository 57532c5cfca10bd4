"""`jarvis run-plan FILE`: validate a plan file and run it with live progress."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from planner.contracts.plan_run import ExecutePlanInput, RunState
    from planner.settings import Settings

EngineOpt = Annotated[str | None, typer.Option(
    "--engine", help="auto (default: Temporal, else in-process), temporal or simple.")]


def run_plan(
    plan_file: Annotated[Path, typer.Argument(help="Plan JSON file (see examples/).")],
    engine: EngineOpt = None,
    detach: Annotated[bool, typer.Option(help="Start and print the run id; don't wait.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the final state as JSON.")] = False,
) -> None:
    """Validate and run a plan, showing live progress per step, then its result."""
    import asyncio

    from activities import default_registry
    from jarvis_planner.cli.console import print_problems
    from jarvis_planner.cli.errors import CliError
    from jarvis_planner.cli.plan_runs import print_result
    from planner.plan import PlanLoadError, load_plan
    from planner.preparation import DangerousStepRefused, prepare
    from planner.settings import load_settings
    from planner.validation import ValidationFailed

    settings = load_settings(**({"engine": engine} if engine else {}))
    try:
        plan = load_plan(plan_file)
    except PlanLoadError as exc:
        raise CliError(str(exc), "`jarvis schema` prints the plan JSON Schema", code=2) from exc
    try:
        inp = prepare(plan, default_registry(settings=settings), settings)
    except ValidationFailed as exc:
        print_problems(exc.problems)
        raise CliError("nothing was run", f"`jarvis validate {plan_file}` re-checks it",
                       code=2) from exc
    except DangerousStepRefused as exc:
        raise CliError(str(exc), code=2) from exc
    state = asyncio.run(_run(settings, inp, detach, as_json))
    if state is None:
        return
    print_result(state, settings, as_json)
    if state.status != "succeeded":
        raise typer.Exit(1)


async def _run(settings: Settings, inp: ExecutePlanInput, detach: bool, as_json: bool
               ) -> RunState | None:
    from contextlib import AsyncExitStack

    from activities import default_registry
    from agents.client import Gone, JarvisClient
    from agents.connection import TemporalUnreachable
    from agents.engines import choose_engine
    from jarvis_planner.cli.console import err_console, live_view, step_changes, steps_table
    from jarvis_planner.cli.errors import CliError
    from jarvis_planner.cli.session import ensure_worker

    if detach:  # a detached run must be durable: never the in-process fallback
        if settings.engine == "simple":
            raise CliError("--detach needs the Temporal engine (an in-process run ends with "
                           "this command)", "drop --engine simple", code=2)
        settings = settings.model_copy(update={"engine": "temporal"})
    try:
        choice = await choose_engine(settings, default_registry(settings=settings))
    except TemporalUnreachable as exc:
        if detach:
            raise CliError(f"{exc}; nothing was started (--detach runs only on the Temporal "
                           "server, never in this process)",
                           "start the server with `jarvis up`, then run again") from exc
        raise CliError(str(exc), "or use --engine auto to fall back in-process") from exc
    if choice.warning:
        err_console.print(f"[bold yellow]warning:[/] {choice.warning}", highlight=False)
    engine = choice.engine
    async with AsyncExitStack() as stack:
        if isinstance(engine, JarvisClient):
            await ensure_worker(stack, engine, detach=detach)
            run_id = await engine.start_plan(inp)
            err_console.print(f"run id: [bold]{run_id}[/]  (`jarvis status {run_id}`)",
                              highlight=False)
            if detach:
                return None
        try:
            if as_json:
                return await (engine.plan_result(run_id) if isinstance(engine, JarvisClient)
                              else engine.execute_plan(inp))
            with live_view(err_console) as view:
                seen: dict[str, str] = {}

                def show(state: RunState) -> None:
                    view.update(steps_table(state), step_changes(state, seen))

                if isinstance(engine, JarvisClient):
                    return await engine.plan_result(run_id, show)
                return await engine.execute_plan(inp, show)
        except Gone as exc:
            raise CliError(str(exc)) from exc
