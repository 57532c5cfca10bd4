"""The incremental scheduler answers exactly what decide() answers, on generated plans and
generated runs (steps started, finished, failed, skipped at their conditions or gates,
cancelled), from fresh and from resumed states: the step driver's choices, and so the commands
a workflow records, do not change (the recorded histories replay too,
tests/unit/test_recorded_histories.py)."""

from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from planner.scheduler import Scheduler, StepStatus, decide

STARTED = (StepStatus.RUNNING, StepStatus.SKIPPED, StepStatus.FAILED)  # a ready step becomes
ENDED = (StepStatus.SUCCEEDED, StepStatus.SUCCEEDED, StepStatus.FAILED, StepStatus.SKIPPED,
         StepStatus.CANCELLED)  # a running step ends as


@st.composite
def runs(draw: st.DrawFn) -> tuple[list[str], dict[str, set[str]], dict[str, StepStatus], bool,
                                   int]:
    n = draw(st.integers(1, 14))
    ids = [f"s{k}" for k in range(n)]
    deps = {s: {ids[j] for j in range(k) if draw(st.booleans()) and draw(st.booleans())}
            for k, s in enumerate(ids)}
    order = draw(st.permutations(ids))  # a plan's order need not be topological
    resumed = draw(st.booleans())
    status = {s: (draw(st.sampled_from(list(StepStatus))) if resumed else StepStatus.PENDING)
              for s in ids}
    if resumed:  # a resumed run has nothing running (it stopped between steps)
        status = {s: StepStatus.PENDING if v is StepStatus.RUNNING else v
                  for s, v in status.items()}
    return list(order), deps, status, draw(st.booleans()), draw(st.integers(0, 2**32))


@settings(max_examples=400, deadline=None)
@given(runs())
def test_the_same_answers_as_decide(run: tuple[list[str], dict[str, set[str]],
                                               dict[str, StepStatus], bool, int]) -> None:
    order, deps, status, stop, seed = run
    rng = random.Random(seed)
    scheduler = Scheduler(order, deps, status, stop_on_failure=stop)
    for _ in range(200):
        expected = decide(order, deps, status, stop_on_failure=stop)
        for ids, new in ((expected.blocked, StepStatus.BLOCKED),
                         (expected.skipped, StepStatus.SKIPPED),
                         (expected.cancelled, StepStatus.CANCELLED)):
            for s in ids:
                status[s] = new
        got = scheduler.decide()
        assert got == expected, (order, deps, status)
        running = [s for s in order if status[s] is StepStatus.RUNNING]
        if expected.done and not running:
            break
        moves = [(s, rng.choice(STARTED)) for s in expected.ready if rng.random() < 0.7]
        moves += [(s, rng.choice(ENDED)) for s in running if rng.random() < 0.5]
        for s, new in moves:
            status[s] = new
            scheduler.set(s, new)


def test_a_long_chain_costs_the_same_per_step() -> None:
    """Deterministic work count, not time: on a chain the incremental scheduler touches each
    step's dependants once, where decide() walks the plan at every call."""
    n = 3000
    order = [f"s{k}" for k in range(n)]
    deps = {s: ({order[k - 1]} if k else set()) for k, s in enumerate(order)}
    scheduler = Scheduler(order, deps, dict.fromkeys(order, StepStatus.PENDING))
    started = []
    while True:
        answer = scheduler.decide()
        if answer.done:
            break
        assert len(answer.ready) == 1 and not answer.blocked
        step = answer.ready[0]
        started.append(step)
        scheduler.set(step, StepStatus.RUNNING)
        scheduler.set(step, StepStatus.SUCCEEDED)
    assert started == order
