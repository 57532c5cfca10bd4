"""The DAG scheduler both engines share: pure and deterministic.

Given a plan's dependency map and the status of every step, it says which steps are ready to
start, which are blocked by a failure, which are skipped, and whether the run is over.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum


class StepStatus(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    SKIPPED = "skipped"  # its condition was false, or an upstream step was skipped
    BLOCKED = "blocked"  # an upstream step failed or was blocked
    CANCELLED = "cancelled"  # never started: the run stopped after a failure or was cancelled

    @property
    def finished(self) -> bool:
        return self not in (StepStatus.PENDING, StepStatus.RUNNING)


@dataclass(frozen=True)
class NextSteps:
    """What the scheduler says to do next."""

    ready: list[str] = field(default_factory=list)
    blocked: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    cancelled: list[str] = field(default_factory=list)
    done: bool = False


_BAD = (StepStatus.FAILED, StepStatus.BLOCKED)


def decide(
    order: Sequence[str],
    deps: Mapping[str, set[str]],
    status: Mapping[str, StepStatus],
    *,
    stop_on_failure: bool = True,
) -> NextSteps:
    """What to do next. ``order`` is the plan's step order (ties are broken by it)."""
    new: dict[str, StepStatus] = {}

    def current(step: str) -> StepStatus:
        return new.get(step, status[step])

    failed = any(status[s] is StepStatus.FAILED for s in order)
    changed = True
    while changed:  # propagate blocked/skipped through chains in one call
        changed = False
        for step in order:
            if current(step) is not StepStatus.PENDING:
                continue
            upstream = [current(d) for d in deps[step]]
            if any(u in _BAD for u in upstream):
                new[step] = StepStatus.BLOCKED
                changed = True
            elif any(u in (StepStatus.SKIPPED, StepStatus.CANCELLED) for u in upstream):
                new[step] = (
                    StepStatus.SKIPPED
                    if StepStatus.SKIPPED in upstream
                    else StepStatus.CANCELLED
                )
                changed = True
    ready: list[str] = []
    cancelled = []
    for step in order:
        if current(step) is not StepStatus.PENDING:
            continue
        if failed and stop_on_failure:
            new[step] = StepStatus.CANCELLED
            cancelled.append(step)
        elif all(current(d) is StepStatus.SUCCEEDED for d in deps[step]):
            ready.append(step)
    done = not ready and all(current(s).finished for s in order)
    return NextSteps(
        ready=ready,
        blocked=[s for s in order if new.get(s) is StepStatus.BLOCKED],
        skipped=[s for s in order if new.get(s) is StepStatus.SKIPPED],
        cancelled=[s for s in order if new.get(s) is StepStatus.CANCELLED],
        done=done,
    )


def find_cycle(deps: Mapping[str, set[str]]) -> list[str] | None:
    """One cycle as a list of step ids (first id repeated at the end), or None."""
    white, grey, black = 0, 1, 2
    color = dict.fromkeys(deps, white)
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        color[node] = grey
        stack.append(node)
        for nxt in sorted(deps.get(node, ())):
            if nxt not in color:
                continue
            if color[nxt] == grey:
                return [*stack[stack.index(nxt) :], nxt]
            if color[nxt] == white and (cycle := visit(nxt)):
                return cycle
        stack.pop()
        color[node] = black
        return None

    for node in sorted(deps):
        if color[node] == white and (cycle := visit(node)):
            return cycle
    return None


def ancestors(step: str, deps: Mapping[str, set[str]]) -> set[str]:
    seen: set[str] = set()
    todo = list(deps.get(step, ()))
    while todo:
        cur = todo.pop()
        if cur in seen:
            continue
        seen.add(cur)
        todo.extend(deps.get(cur, ()))
    return seen
