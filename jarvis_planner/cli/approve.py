"""`jarvis approve GOAL_ID`."""

from __future__ import annotations

from typing import Annotated

import typer


def approve(goal_id: Annotated[str, typer.Argument(help="Goal id.")],
            note: Annotated[str, typer.Option(help="A note kept with the decision.")] = "",
            version: Annotated[str | None, typer.Option(
                "--version", help="The plan version you reviewed (shown with the plan, e.g. in "
                                  "the web app); refused if the plan changed since.")] = None,
            step: Annotated[str | None, typer.Option(
                "--step", help="Approve this step, waiting at its gate, with the arguments "
                               "`jarvis goal` shows (instead of a whole plan).")] = None,
            until: Annotated[str | None, typer.Option(
                "--until", help="Approve up to this step: every step it does not need waits "
                                "at its own gate.")] = None,
            gate: Annotated[list[str] | None, typer.Option(
                "--gate", help="A step that still waits at its gate just before it starts "
                               "(repeatable).")] = None,
            ) -> None:
    """Approve a goal that waits for review (prints the plan and its version), or one step
    waiting at its gate (--step)."""
    from jarvis_planner.cli.decisions import decide, decide_step
    from jarvis_planner.cli.errors import CliError

    if step is not None:
        if until or gate or version:
            raise CliError("--step decides one step's gate; --until, --gate and --version are "
                           "for a whole plan", f"`jarvis approve {goal_id} --step {step}`")
        decide_step(goal_id, step, True, note)
        return
    decide(goal_id, "approve", note, version, gates=gate or [], until=until)
