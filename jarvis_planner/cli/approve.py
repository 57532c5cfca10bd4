"""`jarvis approve GOAL_ID`."""

from __future__ import annotations

from typing import Annotated

import typer


def approve(goal_id: Annotated[str, typer.Argument(help="Goal id.")],
            note: Annotated[str, typer.Option(help="A note kept with the decision.")] = ""
            ) -> None:
    """Approve a goal that waits for review."""
    from jarvis_planner.cli.decisions import decide

    decide(goal_id, "approve", note)
