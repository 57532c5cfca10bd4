"""`jarvis status ID`: a plan run's steps, or a goal's stage, plan and steps."""

from __future__ import annotations

from jarvis_planner.cli.options import IdArg, JsonFlag


def status(wf_id: IdArg, as_json: JsonFlag = False) -> None:
    """Show a run's (or a goal's) per-step status, attempts and timings."""
    from jarvis_planner.cli.lookup import read
    from jarvis_planner.cli.state_view import show

    show(read(wf_id), as_json)
