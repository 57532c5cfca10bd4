"""Approve or reject from the command line; when this process had to run the worker itself,
follow the goal to its end (nothing else would execute it)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from contextlib import AsyncExitStack
from typing import Any, Literal

from agents.client import DecisionRefused, JarvisClient, RetryRefused
from jarvis_planner.cli.console import console
from jarvis_planner.cli.errors import CliError
from jarvis_planner.cli.goal_follow import follow, print_outcome
from jarvis_planner.cli.goal_view import plan_tree
from jarvis_planner.cli.lookup import require_goal
from jarvis_planner.cli.session import connect_or_fail, ensure_worker, user
from planner.approval import short
from planner.contracts.goal_flow import GoalState
from planner.settings import load_settings

DONE = {"approve": "approved", "reject": "rejected"}


async def _show_plan(jarvis: JarvisClient, goal_id: str, version: str | None) -> str:
    """Print the plan about to be approved; its version (``version``, a prefix of it, must
    name the current one when given: the plan seen elsewhere, e.g. in the web app)."""
    state = await jarvis.state(goal_id)
    if state.plan is None or state.plan_digest is None:
        raise CliError(f"goal {goal_id} is {state.stage} and has no plan to approve",
                       f"`jarvis goal {goal_id}` shows its state")
    console.print(plan_tree(state.plan, state.risks, state.conversions))
    console.print(f"plan version {short(state.plan_digest)}", highlight=False)
    if version and not state.plan_digest.startswith(version.lower()):
        raise CliError(f"the plan of {goal_id} is version {short(state.plan_digest)} now, not "
                       f"{version}: it changed since you saw it",
                       f"look at the plan above and run `jarvis approve {goal_id}` again")
    return state.plan_digest


def decide(goal_id: str, action: Literal["approve", "reject"], text: str,
           version: str | None = None, *, gates: Sequence[str] = (),
           until: str | None = None) -> None:
    settings = load_settings()

    async def _go() -> tuple[GoalState, bool]:
        async with AsyncExitStack() as stack:
            jarvis = await connect_or_fail(settings)
            await require_goal(jarvis, goal_id)  # a clear error before any worker starts
            local = await ensure_worker(stack, jarvis)
            try:
                if action == "approve":
                    digest = await _show_plan(jarvis, goal_id, version)
                    state = await jarvis.approve(goal_id, digest, by=user(), note=text,
                                                 gates=gates, until=until)
                else:
                    state = await jarvis.reject(goal_id, by=user(), reason=text)
            except DecisionRefused as exc:
                raise CliError(str(exc), f"`jarvis goal {goal_id}` shows its state") from exc
            console.print(f"{DONE[action]} {goal_id}", highlight=False)
            if local:  # this process is the only worker: see the goal through
                return await follow(jarvis, goal_id, as_json=False), True
            return state, False

    state, followed = asyncio.run(_go())
    if followed:
        print_outcome(state, goal_id, as_json=False)


def decide_step(goal_id: str, step_id: str, approve: bool, text: str, *,
                abandon: bool = False) -> None:
    """Approve or reject one step waiting at its gate: shows the arguments the person decides
    on, then the decision; follows the goal when this process runs the worker."""
    settings = load_settings()

    async def _go() -> tuple[GoalState, bool]:
        async with AsyncExitStack() as stack:
            jarvis = await connect_or_fail(settings)
            await require_goal(jarvis, goal_id)
            local = await ensure_worker(stack, jarvis)
            state = await jarvis.state(goal_id)
            step = next((s for s in state.run.steps if s.id == step_id), None) \
                if state.run else None
            if step is not None and step.gate == "waiting":
                shown = json.dumps(step.gate_args, ensure_ascii=False)
                console.print(f"step {step_id} ({step.tool}) with {shown}", highlight=False,
                              markup=False)
            try:
                state = await jarvis.decide_step(goal_id, step_id, approve, by=user(),
                                                 note=text, abandon=abandon)
            except DecisionRefused as exc:
                raise CliError(str(exc), f"`jarvis goal {goal_id}` shows which steps wait "
                                         "at a gate") from exc
            said = ("approved" if approve else
                    "rejected (the goal is abandoned)" if abandon else "rejected")
            console.print(f"{said} step {step_id} of {goal_id}", highlight=False)
            if local:
                return await follow(jarvis, goal_id, as_json=False), True
            return state, False

    state, followed = asyncio.run(_go())
    if followed:
        print_outcome(state, goal_id, as_json=False)


def retry(goal_id: str, step_id: str, args: dict[str, Any] | None) -> None:
    """Run an ended goal again from ``step_id`` (optionally with new arguments) and follow it
    until it waits for a decision or ends."""
    settings = load_settings()

    async def _go() -> GoalState:
        async with AsyncExitStack() as stack:
            jarvis = await connect_or_fail(settings)
            await require_goal(jarvis, goal_id)
            await ensure_worker(stack, jarvis)
            try:
                before = await jarvis.retry(goal_id, step_id, args=args, by=user())
            except RetryRefused as exc:
                raise CliError(str(exc), f"`jarvis goal {goal_id}` shows its steps") from exc
            kept = [s.id for s in before.run.steps if s.status.value == "succeeded"] \
                if before.run else []
            console.print(f"retrying {goal_id} from step {step_id}"
                          f"{' with new arguments' if args is not None else ''} (it had "
                          f"ended {before.stage}; finished steps are kept unless they follow "
                          f"{step_id}: {', '.join(kept) or 'none'})", highlight=False,
                          markup=False)
            return await follow(jarvis, goal_id, as_json=False)

    print_outcome(asyncio.run(_go()), goal_id, as_json=False)
