"""`jarvis reject GOAL_ID`."""

from __future__ import annotations

from typing import Annotated

import typer


def reject(goal_id: Annotated[str, typer.Argument(help="Goal id.")],
           reason: Annotated[str, typer.Option(help="Why (kept with the decision).")] = "",
           step: Annotated[str | None, typer.Option(
               "--step", help="Reject only this step, waiting at its gate: it and what "
                              "depends on it are skipped, the rest of the plan goes on.")] = None,
           abandon: Annotated[bool, typer.Option(
               "--abandon", help="With --step: abandon the whole goal instead; no other step "
                                 "starts and the finished steps' effects are undone where their "
                                 "tools know how (a written file restored or removed).")] = False,
           ) -> None:
    """Reject a goal that waits for review, or one step waiting at its gate (--step)."""
    from jarvis_planner.cli.decisions import decide, decide_step
    from jarvis_planner.cli.errors import CliError

    if step is not None:
        decide_step(goal_id, step, False, reason, abandon=abandon)
        return
    if abandon:
        raise CliError("--abandon goes with --step (a goal waiting for review is rejected "
                       "before anything ran: there is nothing to undo)",
                       f"`jarvis reject {goal_id} --step STEP --abandon`")
    decide(goal_id, "reject", reason)
