"""`jarvis retry GOAL_ID --from STEP`."""

from __future__ import annotations

from typing import Annotated

import typer


def retry(goal_id: Annotated[str, typer.Argument(help="Goal id (an ended goal).")],
          from_step: Annotated[str, typer.Option(
              "--from", help="The step to run again, with every step that depends on it; the "
                             "steps that finished and do not depend on it keep their outputs "
                             "and do not run again.")],
          args: Annotated[str | None, typer.Option(
              "--args", help="New arguments for that step, as a JSON object (e.g. "
                             "'{\"value\": 21}'); references like \"${step.field}\" work.")
          ] = None,
          ) -> None:
    """Run an ended goal (failed, rejected, or done) again from one of its steps. The goal
    keeps its id; a step with a dangerous tool to run again waits for an approval."""
    import json

    from jarvis_planner.cli.decisions import retry as run_retry
    from jarvis_planner.cli.errors import CliError

    parsed = None
    if args is not None:
        try:
            parsed = json.loads(args)
        except json.JSONDecodeError as exc:
            raise CliError(f"--args is not JSON: {exc.msg} at column {exc.colno}",
                           "give an object, e.g. --args '{\"value\": 21}'") from None
        if not isinstance(parsed, dict):
            raise CliError(f"--args must be a JSON object of argument names to values, not "
                           f"{type(parsed).__name__}", "e.g. --args '{\"value\": 21}'")
    run_retry(goal_id, from_step, parsed)
