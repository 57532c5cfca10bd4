"""`jarvis goal ID` names the worker version that ran the goal's latest stage."""

from __future__ import annotations

from rich.console import Console

from jarvis_planner.cli.goal_view import goal_view
from planner.contracts.goal_flow import GoalState


def rendered(state: GoalState) -> str:
    console = Console(width=200, record=True, file=None, color_system=None)
    with console.capture() as captured:
        console.print(goal_view(state, "goal-1"))
    return captured.get()


def test_the_header_names_the_worker_version_when_one_is_recorded() -> None:
    header = rendered(GoalState(goal="g", stage="succeeded", worker_version="jarvis.a1")
                      ).splitlines()[0]
    assert header.startswith("goal-1  stage: succeeded") and header.endswith("worker: jarvis.a1")
    # goals recorded before the field existed have none: no empty label
    assert "worker" not in rendered(GoalState(goal="g", stage="succeeded"))
