"""The floor benchmark's rounds (evals/bench/floor_pairs.py): drift cancels only if every
entrant runs once a round and each goes first as often as the others."""

from __future__ import annotations

import gc
from collections import Counter
from collections.abc import Awaitable, Callable

import pytest

from evals.bench.floor_pairs import STOCK_THRESHOLDS, _over, _rounds, _stock_gc


async def test_each_entrant_runs_once_a_round_and_the_first_place_rotates() -> None:
    order: list[str] = []

    def entrant(name: str, seconds: float) -> Callable[[], Awaitable[float]]:
        async def run() -> float:
            order.append(name)
            return seconds + len(order) / 1000  # each result its own: none mixed up
        return run

    results = await _rounds({"jarvis": entrant("jarvis", 1.0), "floor": entrant("floor", 2.0),
                             "langgraph": entrant("langgraph", 3.0)}, 6)
    rounds = [order[k:k + 3] for k in range(0, len(order), 3)]
    assert all(sorted(r) == ["floor", "jarvis", "langgraph"] for r in rounds), rounds
    assert Counter(r[0] for r in rounds) == {"jarvis": 2, "floor": 2, "langgraph": 2}
    assert [r[0] for r in rounds[:3]] == ["jarvis", "floor", "langgraph"]
    for name, base in (("jarvis", 1.0), ("floor", 2.0), ("langgraph", 3.0)):
        # in the order it ran, each result from its own entrant
        assert [round(v - base, 3) for v in results[name]] == [
            (i + 1) / 1000 for i, ran in enumerate(order) if ran == name]


def test_the_difference_is_the_median_of_the_rounds_differences_in_ms() -> None:
    # medians of each side (2.0 vs 1.5) would say 500 ms; the rounds' differences say 100
    assert _over([1.0, 2.0, 3.0], [0.9, 1.5, 3.5]) == 100.0
    assert _over([1.0], [1.002]) == -2.0  # negative: JARVIS was the faster one


async def test_langgraph_runs_with_the_stock_collector_and_the_tuned_one_comes_back() -> None:
    tuned = (20_000, 20, 20)
    before = gc.get_threshold()
    gc.set_threshold(*tuned)
    seen: list[tuple[int, int, int]] = []

    async def run() -> float:
        seen.append(gc.get_threshold())
        return 1.0

    async def broken() -> float:
        raise RuntimeError("a run that failed")
    try:
        assert await _stock_gc(run)() == 1.0
        assert seen == [STOCK_THRESHOLDS] and gc.get_threshold() == tuned
        with pytest.raises(RuntimeError):
            await _stock_gc(broken)()
        assert gc.get_threshold() == tuned
    finally:
        gc.set_threshold(*before)
