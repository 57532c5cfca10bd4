"""JARVIS beside the Temporal floor, and beside LangGraph, on one machine in interleaved
rounds: what JARVIS itself adds to a run (the part of a run's cost this project can cut), and
where it stands against the engine a user would most likely pick instead.

The peers' run (``--peers``) brings each engine up on its own, one after another, so the
machine's drift between them (several ms a run here) is as large as what separates them. This
benchmark runs, round by round, a JARVIS run, a run of the floor's workflow
(evals/bench/temporal_floor.py: one local activity a run) on a second worker of the same
process against the same dev server, and, when the ``peers`` extra is installed, a LangGraph
run (evals/bench/peer_langgraph.py: SQLite checkpointer, durability "sync") in the same
process. Which goes first rotates. Per round it takes JARVIS's difference to each, so drift
cancels: ``*_over_floor_ms`` and ``*_over_langgraph_ms`` are the medians of the rounds'
differences (negative: JARVIS was faster). LangGraph's runs have Python's own garbage collector
thresholds, as in a process of their own; JARVIS's and the floor's the worker's tuned ones.

- a run of ``seq_steps`` no-op steps in a row (local activities: one chain): ms per step;
- a fan-out of ``fan_width`` steps of the first ``fan_step_s`` then a join, and the same of
  0 s steps (the fixed cost of a run, with nothing to wait for): ms over the critical path;
- batches of ``goals`` runs of ``goal_steps`` no-op steps (local activities) at once, batches
  rotated the same way: steps/s, and the CPU time per run of this process (client and workers,
  or all of LangGraph's work) and of the dev server.
"""

from __future__ import annotations

import contextlib
import gc
import statistics
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

from evals.bench.batch import run_batch
from evals.bench.benchmarks import _check, _round
from evals.bench.fixture import Bench
from evals.bench.levers import Metrics
from evals.bench.peer_langgraph import LangGraphRuns
from evals.bench.peers import missing
from evals.bench.temporal_floor import FloorJob, floor_batch, floor_worker, timed_floor
from evals.bench.workloads import chain_plan, fan_plan
from planner.contracts.plan_run import ExecutePlanInput

T = TypeVar("T")
# each entrant's metrics are named with its prefix (JARVIS's with none)
_PREFIX = {"jarvis": "", "floor": "floor_", "langgraph": "langgraph_"}


def _server_cpu_s(pid: int | None) -> float:
    """The dev server's CPU seconds so far (user + system), from /proc; 0 without one."""
    if pid is None:
        return 0.0
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / 100  # clock ticks (USER_HZ is 100 on Linux)


async def _rounds(entrants: dict[str, Callable[[], Awaitable[float]]],
                  count: int) -> dict[str, list[float]]:
    """``count`` results of each entrant, one of each a round; which goes first rotates."""
    names = list(entrants)
    out: dict[str, list[float]] = {name: [] for name in names}
    for k in range(count):
        shift = k % len(names)
        for name in names[shift:] + names[:shift]:
            out[name].append(await entrants[name]())
    return out


STOCK_THRESHOLDS = (700, 10, 10)  # Python's own collector thresholds


def _stock_gc(run: Callable[[], Awaitable[T]]) -> Callable[[], Awaitable[T]]:
    """``run`` with Python's own collector thresholds, as LangGraph runs in a process of its
    own: this benchmark's process has the worker's tuned ones (agents/gc_tuning.py), a JARVIS
    feature that LangGraph's users do not get."""
    async def stock() -> T:
        tuned = gc.get_threshold()
        gc.set_threshold(*STOCK_THRESHOLDS)
        try:
            return await run()
        finally:
            gc.set_threshold(*tuned)
    return stock


def _over(ours: list[float], theirs: list[float]) -> float:
    """The median of the rounds' differences, in ms."""
    return _round(1000 * statistics.median(a - b for a, b in zip(ours, theirs, strict=True)), 2)


async def floor_pairs(bench: Bench) -> Metrics:
    size = bench.size
    queue = f"floor-{uuid.uuid4().hex[:8]}"
    out: Metrics = {"pairs": size.floor_pairs, "width": size.fan_width}
    async with contextlib.AsyncExitStack() as stack:
        await stack.enter_async_context(floor_worker(bench.client, queue))
        await timed_floor(bench.client, queue, FloorJob(steps=2))  # warm-up
        graphs: LangGraphRuns | None = None
        if not missing(("langgraph",)):
            folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="jarvis-lg-")))
            graphs = await stack.enter_async_context(
                LangGraphRuns.open(folder / "langgraph.sqlite"))
            await graphs.timed_fan(2, 0.0)  # warm-up
        else:
            bench.notes.append("floor: LangGraph is not installed (the `peers` extra), so it is "
                               "not in the rounds")
        out.update(await _seq_rounds(bench, queue, graphs))
        for seconds in (size.fan_step_s[0], 0.0):
            out.update(await _fan_rounds(bench, queue, graphs, seconds))
        out.update(await _throughput_rounds(bench, queue, graphs))
    return out


async def _timed_rounds(bench: Bench, inp: ExecutePlanInput, label: str,
                       floor: Callable[[], Awaitable[float]],
                       langgraph: Callable[[], Awaitable[float]] | None) -> dict[str, list[float]]:
    """Each entrant's seconds, round by round: JARVIS running ``inp`` (its outcome checked),
    the floor's and, when installed, LangGraph's runs of the same workload."""
    async def jarvis() -> float:
        took, state = await bench.timed(inp)
        _check(state, label)
        return took

    entrants = {"jarvis": jarvis, "floor": floor}
    if langgraph is not None:
        entrants["langgraph"] = _stock_gc(langgraph)
    return await _rounds(entrants, bench.size.floor_pairs)


async def _seq_rounds(bench: Bench, queue: str, graphs: LangGraphRuns | None) -> Metrics:
    """ms per step of a run of ``seq_steps`` no-op steps in a row, of each; JARVIS's over each
    of the others' (``seq_vs_*``) as the median of the rounds' quotients."""
    steps = bench.size.seq_steps
    job = FloorJob(steps=steps)
    runs = await _timed_rounds(
        bench, bench.prepared(chain_plan(steps)), "sequential no-ops",
        lambda: timed_floor(bench.client, queue, job),
        None if graphs is None else lambda: graphs.timed_chain(steps))
    out: Metrics = {"seq_steps": steps}
    for name, prefix in _PREFIX.items():
        if name in runs:
            out[f"{prefix}seq_ms_per_step"] = _round(1000 * statistics.median(runs[name]) / steps)
            if name != "jarvis":
                out[f"seq_vs_{name}"] = _round(statistics.median(
                    a / b for a, b in zip(runs["jarvis"], runs[name], strict=True)))
    return out


async def _fan_rounds(bench: Bench, queue: str, graphs: LangGraphRuns | None,
                      seconds: float) -> Metrics:
    width = bench.size.fan_width
    job = FloorJob(width=width, seconds=seconds)
    spans = await _timed_rounds(
        bench, bench.prepared(fan_plan(width, seconds)), f"fan-out {seconds}s",
        lambda: timed_floor(bench.client, queue, job),
        None if graphs is None else lambda: graphs.timed_fan(width, seconds))
    key, path_ms = f"{round(seconds * 1000)}ms", 2000 * seconds
    out: Metrics = {}
    for name, prefix in _PREFIX.items():
        if name in spans:
            out[f"{prefix}fan_{key}_ms_over_path"] = _round(
                1000 * statistics.median(spans[name]) - path_ms, 2)
            if name != "jarvis":
                out[f"fan_{key}_over_{name}_ms"] = _over(spans["jarvis"], spans[name])
    if "langgraph" in spans:  # the floor itself beside LangGraph: what no engine on Temporal beats
        out[f"floor_fan_{key}_over_langgraph_ms"] = _over(spans["floor"], spans["langgraph"])
    return out


async def _throughput_rounds(bench: Bench, queue: str, graphs: LangGraphRuns | None) -> Metrics:
    size = bench.size
    inp = bench.prepared(chain_plan(size.goal_steps, "throughput"))
    job = FloorJob(steps=size.goal_steps)
    runs = size.goals
    cost: dict[str, list[tuple[float, float, float]]] = {}
    lost: dict[str, int] = {}

    def measured(name: str, batch: Callable[[], Awaitable[tuple[float, int]]]
                 ) -> Callable[[], Awaitable[float]]:
        async def one() -> float:
            cpu, server = time.process_time(), _server_cpu_s(bench.server_pid)
            seconds, completed = await batch()
            cost.setdefault(name, []).append((
                completed * size.goal_steps / seconds, 1000 * (time.process_time() - cpu) / runs,
                1000 * (_server_cpu_s(bench.server_pid) - server) / runs))
            lost[name] = lost.get(name, 0) + runs - completed
            return seconds
        return one

    async def jarvis_batch() -> tuple[float, int]:
        done = await run_batch(bench, inp, runs)
        return done.seconds, done.completed

    entrants = {"jarvis": measured("jarvis", jarvis_batch),
                "floor": measured("floor", lambda: floor_batch(bench.client, queue, job, runs))}
    if graphs is not None:
        entrants["langgraph"] = measured("langgraph",
                                         _stock_gc(lambda: graphs.batch(size.goal_steps, runs)))
    await _rounds(entrants, size.floor_batches)
    out: Metrics = {"batches": size.floor_batches, "runs_per_batch": runs}
    for name in (n for n in _PREFIX if n in cost):  # JARVIS first: the others compare to it
        rows, prefix = cost[name], _PREFIX[name]
        out[f"{prefix}steps_per_s"] = _round(statistics.median(r[0] for r in rows), 1)
        out[f"{prefix}cpu_ms_per_run"] = _round(statistics.median(r[1] for r in rows), 2)
        out[f"{prefix}server_cpu_ms_per_run"] = _round(statistics.median(r[2] for r in rows), 2)
        out[f"{prefix}lost"] = lost[name]
        if name != "jarvis":
            out[f"steps_per_s_vs_{name}"] = _round(out["steps_per_s"] / out[f"{prefix}steps_per_s"],
                                                   3)
    if "langgraph" in cost:
        out["floor_steps_per_s_vs_langgraph"] = _round(
            out["floor_steps_per_s"] / out["langgraph_steps_per_s"], 3)
    return out
