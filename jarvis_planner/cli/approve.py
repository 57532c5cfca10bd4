"""`jarvis approve GOAL_ID`."""

from __future__ import annotations

from typing import Annotated

import typer


def approve(goal_id: Annotated[str, typer.Argument(help="Goal id.")],
            note: Annotated[str, typer.Option(help="A note kept with the decision.")] = "",
            version: Annotated[str | None, typer.Option(
                "--version", help="The plan version you reviewed (shown with the plan, e.g. in "
                                  "the web app); refused if the plan changed since.")] = None
            ) -> None:
    """Approve a goal that waits for review. Prints the plan being approved and its version."""
    from jarvis_planner.cli.decisions import decide

    decide(goal_id, "approve", note, version)
