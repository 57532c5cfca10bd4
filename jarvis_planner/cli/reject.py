"""`jarvis reject GOAL_ID`."""

from __future__ import annotations

from typing import Annotated

import typer


def reject(goal_id: Annotated[str, typer.Argument(help="Goal id.")],
           reason: Annotated[str, typer.Option(help="Why (kept with the decision).")] = "",
           step: Annotated[str | None, typer.Option(
               "--step", help="Reject only this step, waiting at its gate: it and what "
                              "depends on it are skipped, the rest of the plan goes on.")] = None,
           ) -> None:
    """Reject a goal that waits for review, or one step waiting at its gate (--step)."""
    from jarvis_planner.cli.decisions import decide, decide_step

    if step is not None:
        decide_step(goal_id, step, False, reason)
        return
    decide(goal_id, "reject", reason)
