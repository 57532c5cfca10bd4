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


_ODD = (StepStatus.FAILED, StepStatus.BLOCKED, StepStatus.SKIPPED, StepStatus.CANCELLED)


class Scheduler:
    """:func:`decide` for one run, kept incrementally: the same answers, at a cost per call that
    depends on what changed, not on the size of the plan (a chain of n steps asked :func:`decide`
    n times, each walking every step: O(n^2)).

    It keeps its own view of the statuses: the driver reports every change (:meth:`set`), and
    :meth:`decide` records the statuses it hands out. While no pending step has a failed,
    blocked, skipped or cancelled dependency (and no failure stops the run), the answer is the
    pending steps whose dependencies all succeeded, in plan order; otherwise it is
    :func:`decide` itself, on the whole plan, so the rules live in one place."""

    def __init__(self, order: Sequence[str], deps: Mapping[str, set[str]],
                 status: Mapping[str, StepStatus], *, stop_on_failure: bool = True) -> None:
        self._order = list(order)
        self._index = {s: i for i, s in enumerate(self._order)}
        self._deps = deps
        self._stop = stop_on_failure
        self._dependants: dict[str, list[str]] = {s: [] for s in self._order}
        for step in self._order:
            for dep in deps[step]:
                self._dependants[dep].append(step)
        self._status = {s: status[s] for s in self._order}
        self._unmet = {s: sum(1 for d in deps[s] if status[d] is not StepStatus.SUCCEEDED)
                       for s in self._order}
        self._odd_deps = {s: sum(1 for d in deps[s] if status[d] in _ODD) for s in self._order}
        self._ready = {s for s in self._order
                       if status[s] is StepStatus.PENDING and not self._unmet[s]}
        # pending steps with an odd dependency: the whole walk decides what becomes of them
        self._frontier = {s for s in self._order
                          if status[s] is StepStatus.PENDING and self._odd_deps[s]}
        self._unfinished = sum(1 for s in self._order if not status[s].finished)
        self._pending = sum(1 for s in self._order if status[s] is StepStatus.PENDING)
        self._failed = sum(1 for s in self._order if status[s] is StepStatus.FAILED)

    def set(self, step: str, new: StepStatus) -> None:
        """``step`` is ``new`` now."""
        old = self._status[step]
        if old is new:
            return
        self._status[step] = new
        self._unfinished += int(old.finished) - int(new.finished)
        self._pending += (new is StepStatus.PENDING) - (old is StepStatus.PENDING)
        self._failed += (new is StepStatus.FAILED) - (old is StepStatus.FAILED)
        if old is StepStatus.PENDING:
            self._ready.discard(step)
            self._frontier.discard(step)
        elif new is StepStatus.PENDING:
            if not self._unmet[step]:
                self._ready.add(step)
            if self._odd_deps[step]:
                self._frontier.add(step)
        was_ok, is_ok = old is StepStatus.SUCCEEDED, new is StepStatus.SUCCEEDED
        was_odd, is_odd = old in _ODD, new in _ODD
        for after in self._dependants[step]:
            pending = self._status[after] is StepStatus.PENDING
            if was_ok != is_ok:
                self._unmet[after] += 1 if was_ok else -1
                if pending and not self._unmet[after]:
                    self._ready.add(after)
                elif pending:
                    self._ready.discard(after)
            if was_odd != is_odd:
                self._odd_deps[after] += 1 if is_odd else -1
                if pending and self._odd_deps[after]:
                    self._frontier.add(after)
                elif pending:
                    self._frontier.discard(after)

    def decide(self) -> NextSteps:
        """What to do next, as :func:`decide` would answer for the statuses now."""
        if self._frontier or (self._failed and self._stop and self._pending):
            answer = decide(self._order, self._deps, self._status,
                            stop_on_failure=self._stop)
            for ids, new in ((answer.blocked, StepStatus.BLOCKED),
                             (answer.skipped, StepStatus.SKIPPED),
                             (answer.cancelled, StepStatus.CANCELLED)):
                for step in ids:
                    self.set(step, new)
            return answer
        ready = sorted(self._ready, key=self._index.__getitem__)
        return NextSteps(ready=ready, done=not ready and not self._unfinished)


class RecomputingScheduler:
    """:func:`decide` over the whole plan at every call (O(steps) a call, O(steps^2) a chain):
    the scheduling the driver did before :class:`Scheduler`. Kept for the benchmark's ablation
    of that lever (``python -m evals.bench --ablate``); the same answers."""

    def __init__(self, order: Sequence[str], deps: Mapping[str, set[str]],
                 status: Mapping[str, StepStatus], *, stop_on_failure: bool = True) -> None:
        self._order, self._deps, self._stop = list(order), deps, stop_on_failure
        self._status = {s: status[s] for s in self._order}

    def set(self, step: str, new: StepStatus) -> None:
        self._status[step] = new

    def decide(self) -> NextSteps:
        answer = decide(self._order, self._deps, self._status, stop_on_failure=self._stop)
        for ids, new in ((answer.blocked, StepStatus.BLOCKED), (answer.skipped,
                         StepStatus.SKIPPED), (answer.cancelled, StepStatus.CANCELLED)):
            for step in ids:
                self._status[step] = new
        return answer
