"""Approve or reject from the command line; when this process had to run the worker itself,
follow the goal to its end (nothing else would execute it)."""

from __future__ import annotations

import asyncio
from contextlib import AsyncExitStack
from typing import Literal

from agents.client import DecisionRefused
from jarvis_planner.cli.console import console
from jarvis_planner.cli.errors import CliError
from jarvis_planner.cli.goal_follow import follow, print_outcome
from jarvis_planner.cli.session import session, user
from planner.contracts.goal_flow import GoalState
from planner.settings import load_settings


def decide(goal_id: str, action: Literal["approve", "reject"], text: str) -> None:
    settings = load_settings()

    async def _go() -> tuple[GoalState, bool]:
        async with AsyncExitStack() as stack:
            jarvis, local = await session(settings, stack)
            try:
                if action == "approve":
                    state = await jarvis.approve(goal_id, by=user(), note=text)
                else:
                    state = await jarvis.reject(goal_id, by=user(), reason=text)
            except DecisionRefused as exc:
                raise CliError(str(exc), f"`jarvis goal {goal_id}` shows its state") from exc
            console.print(f"{action}d {goal_id}")
            if local:  # this process is the only worker: see the goal through
                return await follow(jarvis, goal_id, as_json=False), True
            return state, False

    state, followed = asyncio.run(_go())
    if followed:
        print_outcome(state, goal_id, as_json=False)
