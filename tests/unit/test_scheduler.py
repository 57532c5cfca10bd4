from __future__ import annotations

import random

from planner.scheduler import StepStatus, ancestors, decide, find_cycle

P, R, S, F = StepStatus.PENDING, StepStatus.RUNNING, StepStatus.SUCCEEDED, StepStatus.FAILED
DEPS = {"a": set(), "b": {"a"}, "c": {"a"}, "d": {"b", "c"}, "e": set()}
ORDER = list(DEPS)


def test_ready_steps_start_together() -> None:
    d = decide(ORDER, DEPS, dict.fromkeys(ORDER, P))
    assert d.ready == ["a", "e"]
    d = decide(ORDER, DEPS, {**dict.fromkeys(ORDER, P), "a": S, "e": R})
    assert d.ready == ["b", "c"] and not d.done


def test_failure_blocks_descendants_and_stops_the_rest() -> None:
    status = {"a": S, "b": F, "c": P, "d": P, "e": R}
    d = decide(ORDER, DEPS, status)
    assert d.blocked == ["d"] and d.cancelled == ["c"] and d.ready == []
    d = decide(ORDER, DEPS, status, stop_on_failure=False)
    assert d.blocked == ["d"] and d.ready == ["c"]


def test_skip_propagates_and_done() -> None:
    status = {"a": S, "b": StepStatus.SKIPPED, "c": S, "d": P, "e": S}
    d = decide(ORDER, DEPS, status)
    assert d.skipped == ["d"] and d.done


def test_cycles() -> None:
    assert find_cycle(DEPS) is None
    cycle = find_cycle({"a": {"c"}, "b": {"a"}, "c": {"b"}, "x": set()})
    assert cycle is not None and cycle[0] == cycle[-1] and set(cycle) == {"a", "b", "c"}
    assert ancestors("d", DEPS) == {"a", "b", "c"}


def test_random_dags_run_every_step_after_its_dependencies() -> None:
    rng = random.Random(7)
    for _ in range(200):
        n = rng.randint(1, 12)
        ids = [f"s{i}" for i in range(n)]
        deps = {s: {ids[j] for j in range(i) if rng.random() < 0.3} for i, s in enumerate(ids)}
        status = dict.fromkeys(ids, P)
        finished_order: list[str] = []
        for _round in range(n + 1):
            d = decide(ids, deps, status)
            if d.done:
                break
            for s in d.ready:
                assert all(status[x] is S for x in deps[s])
                status[s] = S
                finished_order.append(s)
        assert sorted(finished_order) == sorted(ids)
        assert decide(ids, deps, status).done
