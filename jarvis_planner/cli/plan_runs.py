"""Printing a plan run's result (run-plan, result), with large outputs read back from the
payload store."""

from __future__ import annotations

import json

from rich.text import Text

from activities.payloads import FilePayloadStore, hydrate
from jarvis_planner.cli.console import console, err_console, print_json, settled
from planner.contracts.plan_run import RunState
from planner.settings import Settings


def print_result(state: RunState, settings: Settings, as_json: bool) -> None:
    store = FilePayloadStore(settings.payload_dir)
    if as_json:
        print(json.dumps(hydrate(state.model_dump(mode="json"), store), indent=2))
        return
    if state.status == "succeeded":
        console.print("[bold green]succeeded[/]; result:")
        print_json(hydrate(state.outputs, store))
    else:
        err_console.print(Text.assemble((state.status, "bold red"), ": ",
                                        settled(state.failure_report())), highlight=False)
