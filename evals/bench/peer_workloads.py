"""The peers' three workloads (the same as JARVIS's, metric names as JARVIS's), run the same
way on any engine that can time one run of each: LangGraph, DBOS, the Temporal floor."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from evals.bench.benchmarks import _median, fan_ratio
from evals.bench.levers import Metrics, Size


@dataclass(frozen=True)
class PeerRuns:
    """One engine's runs, each timed in seconds: ``chain(n)``, n no-op steps in a row;
    ``fan(width, s)``, ``width`` steps of ``s`` seconds at once then a join; ``batch(n,
    runs)``, ``runs`` chains of n started at once, with how many its store shows completed."""

    chain: Callable[[int], Awaitable[float]]
    fan: Callable[[int, float], Awaitable[float]]
    batch: Callable[[int, int], Awaitable[tuple[float, int]]]


async def peer_workloads(runs: PeerRuns, size: Size) -> dict[str, Metrics]:
    """ms per sequential step, fan-outs' makespan over their critical path, and steps/s with
    every run accounted for (a warm-up chain first)."""
    await runs.chain(size.seq_steps)
    times = [await runs.chain(size.seq_steps) for _ in range(size.seq_repeats)]
    overhead = {"steps": size.seq_steps,
                "ms_per_step": round(1000 * _median(times) / size.seq_steps, 3)}
    parallelism: Metrics = {"width": size.fan_width}
    for seconds in size.fan_step_s:
        spans = [await runs.fan(size.fan_width, seconds) for _ in range(size.fan_repeats)]
        parallelism[f"ratio_{round(seconds * 1000)}ms"] = fan_ratio(spans, seconds)
    took, stored = await runs.batch(size.goal_steps, size.goals)
    throughput = {"goals": size.goals, "steps_per_s": round(stored * size.goal_steps / took, 1),
                  "completed": stored, "lost": size.goals - stored}
    return {"overhead": overhead, "parallelism": parallelism, "throughput": throughput}
