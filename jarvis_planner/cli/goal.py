"""`jarvis goal ID`: a goal's state (a plan run id shows the run)."""

from __future__ import annotations

from jarvis_planner.cli.options import IdArg, JsonFlag


def goal(goal_id: IdArg, as_json: JsonFlag = False) -> None:
    """Show a goal's stage, plan, problems, decisions, steps and token usage."""
    from jarvis_planner.cli.lookup import read
    from jarvis_planner.cli.state_view import show

    show(read(goal_id), as_json)
