"""`jarvis result RUN_ID`: a finished plan run's result."""

from __future__ import annotations

from typing import Annotated

import typer


def result(run_id: Annotated[str, typer.Argument(help="Run id.")]) -> None:
    """Print a finished run's result (large outputs are read back from the payload store)."""
    from jarvis_planner.cli.errors import CliError
    from jarvis_planner.cli.plan_runs import print_result, run_state
    from planner.settings import load_settings

    settings = load_settings()
    state = run_state(settings, run_id)
    if state is None:
        raise CliError(f"run {run_id} was cancelled; it has no result")
    if state.status == "running":
        raise CliError(f"run {run_id} is still running", f"`jarvis status {run_id}`")
    print_result(state, settings, as_json=False)
    if state.status != "succeeded":
        raise typer.Exit(1)
