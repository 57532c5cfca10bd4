"""`jarvis reject GOAL_ID`."""

from __future__ import annotations

from typing import Annotated

import typer


def reject(goal_id: Annotated[str, typer.Argument(help="Goal id.")],
           reason: Annotated[str, typer.Option(help="Why (kept with the decision).")] = ""
           ) -> None:
    """Reject a goal that waits for review."""
    from jarvis_planner.cli.decisions import decide

    decide(goal_id, "reject", reason)
