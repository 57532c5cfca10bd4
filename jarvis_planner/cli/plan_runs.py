"""What the plan-run commands (run-plan, status, result) share: reading a run, printing a
result with large outputs read back from the payload store."""

from __future__ import annotations

import asyncio
import json

from temporalio.service import RPCError

from activities.payloads import FilePayloadStore, hydrate
from agents.client import Gone
from jarvis_planner.cli.console import console, err_console, print_json
from jarvis_planner.cli.errors import CliError
from jarvis_planner.cli.session import connect_or_fail
from planner.contracts.plan_run import RunState
from planner.settings import Settings


def missing(run_id: str, exc: RPCError) -> CliError:
    return CliError(f"run '{run_id}': {exc.message}", "`jarvis list` shows recent runs")


def run_state(settings: Settings, run_id: str) -> RunState | None:
    """A run's state from the server (None: cancelled), or a one-line error naming the run."""

    async def _go() -> RunState | None:
        jarvis = await connect_or_fail(settings)
        try:
            return await jarvis.plan_state(run_id)
        except Gone:
            return None
        except RPCError as exc:
            raise missing(run_id, exc) from exc

    return asyncio.run(_go())


def print_result(state: RunState, settings: Settings, as_json: bool) -> None:
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
