"""The peers a user would pick instead, on the same workloads, in the same run: LangGraph with
its SQLite checkpointer (every step's checkpoint written before the next starts: durability
"sync") and DBOS on SQLite (every step recorded in its system database). Both come from the
optional extra ``peers`` (``pip install -e '.[peers]'``); ``python -m evals.bench --peers``.
Beside them, the floor under any engine on Temporal (:mod:`evals.bench.temporal_floor`: each
run one local activity, no planner), which needs nothing more.

Each peer runs the workloads of :mod:`evals.bench.benchmarks` with the same sizes: a chain of
no-op steps (ms per step), a fan-out of sleeping steps then a join (makespan / critical path),
and many short runs at once (steps per second, and every run accounted for from the peer's own
store). The metric names match the JARVIS ones so the report sets them side by side.
"""

from __future__ import annotations

import asyncio
import functools
import importlib
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from agents.devserver import DEFAULT_TUNING, ServerTuning
from evals.bench.benchmarks import _median, fan_ratio
from evals.bench.levers import Metrics, Size
from evals.bench.peer_langgraph import langgraph_peer
from evals.bench.temporal_floor import temporal_floor

PEERS = ("langgraph", "dbos", "temporal-floor")
_PACKAGES = {"langgraph": ("langgraph", "langgraph.checkpoint.sqlite.aio"),
             "dbos": ("dbos",), "temporal-floor": ("temporalio",)}


def missing(peers: tuple[str, ...] = PEERS) -> dict[str, str]:
    """Peers that cannot run here, with what to install."""
    out = {}
    for peer in peers:
        for module in _PACKAGES[peer]:
            try:
                importlib.import_module(module)
            except ImportError as exc:
                out[peer] = (f"{exc}; install the peers with `.venv/bin/pip install -e "
                             "'.[peers]'`")
                break
    return out


def peer_versions() -> dict[str, str]:
    found = {}
    for dist in ("langgraph", "langgraph-checkpoint-sqlite", "dbos"):
        try:
            found[dist] = version(dist)
        except PackageNotFoundError:
            continue
    return found


async def run_peer(peer: str, size: Size, folder: Path,
                   server: ServerTuning = DEFAULT_TUNING) -> dict[str, Metrics]:
    """The three workloads on one peer, with a fresh SQLite file in ``folder``; ``server``: the
    floor's dev server's flags and CPUs (those of JARVIS's in the same run)."""
    folder.mkdir(parents=True, exist_ok=True)
    runners: dict[str, Callable[[Size, Path], Awaitable[dict[str, Metrics]]]] = {
        "langgraph": langgraph_peer, "dbos": _dbos,
        "temporal-floor": functools.partial(temporal_floor, server_tuning=server)}
    results = await runners[peer](size, folder)
    for name, metrics in results.items():
        print(f"[{peer}] {name}: {metrics}", flush=True)
    return results


# -- DBOS -----------------------------------------------------------------------------------
_DBOS_FUNCTIONS: dict[str, Any] = {}


def _dbos_functions() -> dict[str, Any]:
    """The DBOS workflows and steps, registered once per process (DBOS keeps a registry)."""
    if _DBOS_FUNCTIONS:
        return _DBOS_FUNCTIONS
    from dbos import DBOS

    @DBOS.step()
    async def bench_noop(i: int) -> int:
        return i

    @DBOS.step()
    async def bench_pause(seconds: float) -> float:
        await asyncio.sleep(seconds)
        return seconds

    @DBOS.workflow()
    async def chain(n: int) -> int:
        for k in range(n):
            await bench_noop(k)
        return n

    @DBOS.workflow()
    async def fan(width: int, seconds: float) -> int:
        await asyncio.gather(*(bench_pause(seconds) for _ in range(width)))
        await bench_pause(seconds)
        return width + 1

    _DBOS_FUNCTIONS.update(chain=chain, fan=fan)
    return _DBOS_FUNCTIONS


async def _dbos(size: Size, folder: Path) -> dict[str, Metrics]:
    from dbos import DBOS

    fns = _dbos_functions()
    DBOS(config={"name": "jarvis-bench", "log_level": "WARNING",
                 "system_database_url": f"sqlite:///{folder / 'dbos.sqlite'}"})
    DBOS.launch()
    try:
        chain, fan = fns["chain"], fns["fan"]
        await chain(2)  # warm-up
        times = []
        for _ in range(size.seq_repeats):
            started = time.perf_counter()
            assert await chain(size.seq_steps) == size.seq_steps
            times.append(time.perf_counter() - started)
        overhead = {"steps": size.seq_steps,
                    "ms_per_step": round(1000 * _median(times) / size.seq_steps, 3)}
        parallelism: Metrics = {"width": size.fan_width}
        for seconds in size.fan_step_s:
            spans: list[float] = []
            for _ in range(size.fan_repeats):
                started = time.perf_counter()
                assert await fan(size.fan_width, seconds) == size.fan_width + 1
                spans.append(time.perf_counter() - started)
            parallelism[f"ratio_{round(seconds * 1000)}ms"] = fan_ratio(spans, seconds)
        started = time.perf_counter()
        handles = await asyncio.gather(*(DBOS.start_workflow_async(chain, size.goal_steps)
                                         for _ in range(size.goals)))
        results = await asyncio.gather(*(h.get_result() for h in handles),
                                       return_exceptions=True)
        took = time.perf_counter() - started
        # accounted for from its system database: each workflow recorded as a success
        stored = 0
        for handle, result in zip(handles, results, strict=True):
            status = await handle.get_status()
            stored += result == size.goal_steps and status.status == "SUCCESS"
        throughput = {"goals": size.goals, "steps_per_s": round(stored * size.goal_steps / took,
                                                                1),
                      "completed": stored, "lost": size.goals - stored}
    finally:
        DBOS.destroy(destroy_registry=False)
        # DBOS made its executor this loop's default (asyncio.to_thread) and has shut it down:
        # give the loop a working one back (the benchmark, or a test, goes on in this loop)
        asyncio.get_running_loop().set_default_executor(ThreadPoolExecutor())
    return {"overhead": overhead, "parallelism": parallelism, "throughput": throughput}
