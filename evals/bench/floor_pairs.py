"""JARVIS beside the Temporal floor on one server, in interleaved pairs: what JARVIS itself adds
to a run, the part of a run's cost this project can cut.

The peers' run (``--peers``) brings each engine up on its own, one after another, so the
machine's drift between them (several ms a run here) is as large as what separates them. This
benchmark runs the floor's workflow (evals/bench/temporal_floor.py: one local activity a run)
on a second worker of the same process, against the same dev server as JARVIS, and alternates
them run by run (which goes first alternates too). Per pair it takes the difference, so drift
cancels: ``*_over_floor_ms`` is the median of the pairs' differences.

- a fan-out of ``fan_width`` steps of the first ``fan_step_s`` then a join, and the same of
  0 s steps (the fixed cost of a run, with nothing to wait for): ms over the critical path;
- batches of ``goals`` runs of ``goal_steps`` no-op steps (local activities) at once, batches
  alternated: steps/s, and the CPU time per run of this process (client and workers: JARVIS's
  own work) and of the dev server.
"""

from __future__ import annotations

import statistics
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path

from evals.bench.batch import run_batch
from evals.bench.benchmarks import _check, _round
from evals.bench.fixture import Bench
from evals.bench.levers import Metrics
from evals.bench.temporal_floor import FloorJob, floor_batch, floor_worker, timed_floor
from evals.bench.workloads import chain_plan, fan_plan


def _server_cpu_s(pid: int | None) -> float:
    """The dev server's CPU seconds so far (user + system), from /proc; 0 without one."""
    if pid is None:
        return 0.0
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / 100  # clock ticks (USER_HZ is 100 on Linux)


async def _pairs(first: Callable[[], Awaitable[float]], second: Callable[[], Awaitable[float]],
                 count: int) -> tuple[list[float], list[float]]:
    """``count`` results of each, alternating which goes first."""
    ours: list[float] = []
    floor: list[float] = []
    for k in range(count):
        if k % 2:
            floor.append(await second())
            ours.append(await first())
        else:
            ours.append(await first())
            floor.append(await second())
    return ours, floor


async def floor_pairs(bench: Bench) -> Metrics:
    size = bench.size
    queue = f"floor-{uuid.uuid4().hex[:8]}"
    out: Metrics = {"pairs": size.floor_pairs, "width": size.fan_width}
    async with floor_worker(bench.client, queue):
        await timed_floor(bench.client, queue, FloorJob(steps=2))  # warm-up
        for seconds in (size.fan_step_s[0], 0.0):
            out.update(await _fan_pairs(bench, queue, seconds))
        out.update(await _throughput_pairs(bench, queue))
    return out


async def _fan_pairs(bench: Bench, queue: str, seconds: float) -> Metrics:
    inp = bench.prepared(fan_plan(bench.size.fan_width, seconds))
    job = FloorJob(width=bench.size.fan_width, seconds=seconds)

    async def jarvis() -> float:
        took, state = await bench.timed(inp)
        _check(state, f"fan-out {seconds}s")
        return took

    async def floor() -> float:
        return await timed_floor(bench.client, queue, job)

    ours, theirs = await _pairs(jarvis, floor, bench.size.floor_pairs)
    key, path_ms = f"{round(seconds * 1000)}ms", 2000 * seconds
    return {
        f"fan_{key}_ms_over_path": _round(1000 * statistics.median(ours) - path_ms, 2),
        f"floor_fan_{key}_ms_over_path": _round(1000 * statistics.median(theirs) - path_ms, 2),
        f"fan_{key}_over_floor_ms": _round(1000 * statistics.median(
            [a - b for a, b in zip(ours, theirs, strict=True)]), 2),
    }


async def _throughput_pairs(bench: Bench, queue: str) -> Metrics:
    size = bench.size
    inp = bench.prepared(chain_plan(size.goal_steps, "throughput"))
    job = FloorJob(steps=size.goal_steps)
    runs = size.goals
    cost: dict[str, list[tuple[float, float, float]]] = {"jarvis": [], "floor": []}
    lost = {"jarvis": 0, "floor": 0}

    async def measured(name: str, batch: Callable[[], Awaitable[tuple[float, int]]]) -> float:
        cpu, server = time.process_time(), _server_cpu_s(bench.server_pid)
        seconds, completed = await batch()
        cost[name].append((completed * size.goal_steps / seconds,
                           1000 * (time.process_time() - cpu) / runs,
                           1000 * (_server_cpu_s(bench.server_pid) - server) / runs))
        lost[name] += runs - completed
        return seconds

    async def jarvis_batch() -> tuple[float, int]:
        done = await run_batch(bench, inp, runs)
        return done.seconds, done.completed

    await _pairs(lambda: measured("jarvis", jarvis_batch),
                 lambda: measured("floor", lambda: floor_batch(bench.client, queue, job, runs)),
                 size.floor_batches)
    out: Metrics = {"batches": size.floor_batches, "runs_per_batch": runs}
    for name, prefix in (("jarvis", ""), ("floor", "floor_")):
        rows = cost[name]
        out[f"{prefix}steps_per_s"] = _round(statistics.median(r[0] for r in rows), 1)
        out[f"{prefix}cpu_ms_per_run"] = _round(statistics.median(r[1] for r in rows), 2)
        out[f"{prefix}server_cpu_ms_per_run"] = _round(statistics.median(r[2] for r in rows), 2)
        out[f"{prefix}lost"] = lost[name]
    out["steps_per_s_vs_floor"] = _round(out["steps_per_s"] / out["floor_steps_per_s"], 3)
    return out
