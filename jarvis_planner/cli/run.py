"""`jarvis run "GOAL"`: plan a goal, pass the review gate, execute, print the result."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from planner.contracts.goal_flow import ApprovalPolicy, GoalState
    from planner.plan import PlanBudget
    from planner.settings import Settings


def run(goal: Annotated[str, typer.Argument(help="The goal, in plain language.")],
        yes: Annotated[bool, typer.Option("--yes", "-y",
                                          help="Approve the plan without asking (dangerous "
                                               "steps still need `jarvis approve`).")] = False,
        step_gates: Annotated[bool, typer.Option(
            "--step-gates", help="No whole-plan review: read-only steps run, and each other "
                                 "step waits at its own gate, just before it starts, with its "
                                 "real arguments (`jarvis approve ID --step X`).")] = False,
        as_json: Annotated[bool, typer.Option(
            "--json", help="Print the goal's final state as JSON (no live view, no "
                           "questions).")] = False,
        max_cost: Annotated[float | None, typer.Option(
            "--max-cost", min=0, help="Budget: US dollars of LLM cost (default: setting "
                                      "budget_cost_usd).")] = None,
        max_tokens: Annotated[int | None, typer.Option(
            "--max-tokens", min=0, help="Budget: LLM tokens, planning included.")] = None,
        max_steps: Annotated[int | None, typer.Option(
            "--max-steps", min=0, help="Budget: steps started.")] = None,
        max_llm_calls: Annotated[int | None, typer.Option(
            "--max-llm-calls", min=0, help="Budget: LLM calls, planning included.")] = None,
        max_time: Annotated[float | None, typer.Option(
            "--max-time", min=1, help="Budget: seconds from submission (review "
                                      "included).")] = None) -> None:
    """Plan a goal, pass the review gate, execute with live progress, print the result.

    The goal ends as over_budget, before the LLM call or step that would cross a limit; limits
    not given come from the settings (`jarvis config list`)."""
    import asyncio

    from jarvis_planner.cli.errors import CliError
    from jarvis_planner.cli.goal_follow import interrupted, print_outcome
    from planner.settings import load_settings

    if yes and step_gates:
        raise CliError("--yes approves the whole plan and --step-gates asks at each step: "
                       "choose one", f"`jarvis run {goal!r} --step-gates`")
    settings = load_settings()
    given = {"max_cost_usd": max_cost, "max_tokens": max_tokens, "max_steps": max_steps,
             "max_llm_calls": max_llm_calls, "max_wall_time_s": max_time}
    budget = settings.goal_budget().model_copy(
        update={k: v for k, v in given.items() if v is not None})
    where: dict[str, str] = {}
    try:
        state, goal_id = asyncio.run(_run(settings, goal, yes, as_json, where, budget,
                                          "step-gates" if step_gates else None))
    except KeyboardInterrupt:
        interrupted(where)
    print_outcome(state, goal_id, as_json)


async def _run(settings: Settings, goal: str, yes: bool, as_json: bool,
               where: dict[str, str], budget: PlanBudget,
               policy: ApprovalPolicy | None) -> tuple[GoalState, str]:
    import sys
    from contextlib import AsyncExitStack

    from jarvis_planner.cli.console import err_console
    from jarvis_planner.cli.goal_follow import follow
    from jarvis_planner.cli.review_prompt import review_interactively
    from jarvis_planner.cli.session import session, user

    async with AsyncExitStack() as stack:
        jarvis, _ = await session(settings, stack)
        goal_id = await jarvis.submit(goal, yes=yes, by=user(), budget=budget, policy=policy)
        where["goal_id"] = goal_id
        err_console.print(f"goal id: [bold]{goal_id}[/]", highlight=False)
        while True:
            where["at"] = "following"
            state = await follow(jarvis, goal_id, as_json)
            if state.stage != "awaiting_approval" or not sys.stdin.isatty():
                return state, goal_id
            where["at"] = "review"
            await review_interactively(jarvis, goal_id, state, tree_shown=not as_json)
