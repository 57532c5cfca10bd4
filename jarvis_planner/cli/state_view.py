"""Showing what an id names, goal or plan run, as a person reads it or as JSON; shared by
status, goal and result."""

from __future__ import annotations

import json

from jarvis_planner.cli.console import console, err_console, settled, steps_table
from jarvis_planner.cli.goal_view import goal_view
from jarvis_planner.cli.lookup import Snapshot
from planner.contracts.goal_flow import GoalState


def show(snap: Snapshot, as_json: bool) -> None:
    state = snap.state
    if as_json:
        if state is None:
            print(json.dumps({"id": snap.found.id, "kind": snap.found.kind,
                              "status": snap.ending, "closed_at": snap.found.closed_at}))
        else:
            print(state.model_dump_json(indent=2))
        return
    if snap.ended_without_outcome:
        when = f" at {snap.found.closed_at}" if snap.found.closed_at else ""
        if state is None:
            console.print(f"{snap.what} was {snap.ending}{when}; what it last reported needs a "
                          "worker to replay its history, and none answered (`jarvis up` starts "
                          "one)", highlight=False)
            return
        during = f" while {snap.last_stage}" if snap.last_stage else ""
        console.print(f"{snap.what} was {snap.ending}{when}{during}; what it last reported:",
                      highlight=False)
    if isinstance(state, GoalState):
        console.print(goal_view(state, snap.found.id))
    elif state is not None:
        console.print(steps_table(state, f"{snap.found.id}: {state.goal} [{state.status}]"))
        if state.error:
            err_console.print(settled(state.failure_report()), style="red", highlight=False)
