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
from evals.bench.levers import Metrics, Size
from evals.bench.peer_langgraph import langgraph_peer
from evals.bench.peer_workloads import PeerRuns, peer_workloads
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
        return await peer_workloads(PeerRuns(
            chain=lambda n: _timed(lambda: chain(n), n),
            fan=lambda width, s: _timed(lambda: fan(width, s), width + 1),
            batch=functools.partial(_dbos_batch, chain)), size)
    finally:
        DBOS.destroy(destroy_registry=False)
        # DBOS made its executor this loop's default (asyncio.to_thread) and has shut it down:
        # give the loop a working one back (the benchmark, or a test, goes on in this loop)
        asyncio.get_running_loop().set_default_executor(ThreadPoolExecutor())


async def _timed(run: Callable[[], Awaitable[int]], steps: int) -> float:
    """Seconds for one run of a DBOS workflow, checked: it ran ``steps`` steps."""
    started = time.perf_counter()
    done = await run()
    took = time.perf_counter() - started
    assert done == steps, (steps, done)
    return took


async def _dbos_batch(chain: Callable[..., Any], steps: int, runs: int) -> tuple[float, int]:
    """``runs`` chains started at once: seconds until the last ended, and how many its
    system database records as a success with the right result."""
    from dbos import DBOS

    started = time.perf_counter()
    handles = await asyncio.gather(*(DBOS.start_workflow_async(chain, steps)
                                     for _ in range(runs)))
    results = await asyncio.gather(*(h.get_result() for h in handles), return_exceptions=True)
    took = time.perf_counter() - started
    stored = 0
    for handle, result in zip(handles, results, strict=True):
        status = await handle.get_status()
        stored += result == steps and status.status == "SUCCESS"
    return took, stored
