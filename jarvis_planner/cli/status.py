"""`jarvis status RUN_ID`: a plan run's steps."""

from __future__ import annotations

from typing import Annotated

import typer


def status(run_id: Annotated[str, typer.Argument(help="Run id (from run-plan or list).")],
           as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Show a run's per-step status, attempts and timings."""
    from jarvis_planner.cli.console import console, err_console, steps_table
    from jarvis_planner.cli.plan_runs import run_state
    from planner.settings import load_settings

    state = run_state(load_settings(), run_id)
    if state is None:
        console.print(f"run {run_id} was cancelled before it reported a state")
    elif as_json:
        print(state.model_dump_json(indent=2))
    else:
        console.print(steps_table(state, f"{run_id}: {state.goal} [{state.status}]"))
        if state.error:
            err_console.print(f"[red]{state.failure_report()}[/]", highlight=False)
