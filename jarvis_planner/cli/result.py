"""`jarvis result ID`: a finished plan run's or goal's result."""

from __future__ import annotations

import typer

from jarvis_planner.cli.options import IdArg, JsonFlag


def result(wf_id: IdArg, as_json: JsonFlag = False) -> None:
    """Print a finished run's or goal's result (large outputs are read back from the payload
    store). Exit 1 if it failed, 3 if a goal waits for approval."""
    from jarvis_planner.cli.errors import CliError
    from jarvis_planner.cli.goal_follow import print_outcome
    from jarvis_planner.cli.lookup import read
    from jarvis_planner.cli.plan_runs import print_result
    from planner.contracts.goal_flow import GoalState
    from planner.settings import load_settings

    snap = read(wf_id)
    state = snap.state
    if snap.ended_without_outcome or state is None:
        raise CliError(f"{snap.what} was {snap.ending}; it has no result",
                       f"`jarvis status {wf_id}` shows what it last reported")
    waiting = isinstance(state, GoalState) and state.stage == "awaiting_approval"
    if not snap.finished and not waiting:
        raise CliError(f"{snap.what} is still {snap.outcome}",
                       f"`jarvis status {wf_id}` shows its progress")
    if isinstance(state, GoalState):
        print_outcome(state, wf_id, as_json)
        return
    print_result(state, load_settings(), as_json)
    if state.status != "succeeded":
        raise typer.Exit(1)
