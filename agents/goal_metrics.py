"""JARVIS's series recorded by the goal workflow: how goals end, the problems found in their
plans, the repair rounds they needed.

Through ``workflow.metric_meter()``: replay-safe (nothing is recorded while a history is
replayed, so a goal replayed after a worker restart is not counted twice) and no command (a
metric changes nothing in the history, so recorded histories replay unchanged). Workflow code:
no I/O of its own; the SDK's runtime exports the values.
"""

from __future__ import annotations

from collections.abc import Iterable

from temporalio import workflow
from temporalio.common import MetricCounter

with workflow.unsafe.imports_passed_through():
    from planner.contracts.metric_series import GOALS, PLAN_PROBLEMS, REPAIR_ROUNDS, MetricSpec
    from planner.validation import Problem


def _counter(spec: MetricSpec) -> MetricCounter:
    return workflow.metric_meter().create_counter(spec.name, spec.description, spec.unit)


def goal_ended(outcome: str) -> None:
    """``outcome``: the goal's final stage (succeeded, failed, invalid, rejected, expired,
    planned) or ``cancelled``."""
    _counter(GOALS).add(1, {"outcome": outcome})


def plan_problems(problems: Iterable[Problem]) -> None:
    counter = _counter(PLAN_PROBLEMS)
    for problem in problems:
        counter.add(1, {"code": problem.code})


def repair_rounds(rounds: int) -> None:
    workflow.metric_meter().create_histogram(
        REPAIR_ROUNDS.name, REPAIR_ROUNDS.description, REPAIR_ROUNDS.unit).record(rounds)
