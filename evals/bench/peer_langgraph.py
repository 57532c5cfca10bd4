"""LangGraph with its SQLite checkpointer (every step's checkpoint written before the next
starts: durability "sync") on the benchmark's workloads: a chain of no-op nodes, a fan-out of
sleeping nodes then a join, and many short runs at once. Used by the peers' run
(evals/bench/peers.py) and, run by run, beside JARVIS (evals/bench/floor_pairs.py). From the
optional extra ``peers``.
"""

from __future__ import annotations

import asyncio
import contextlib
import operator
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Annotated, Any, TypedDict

from evals.bench.levers import Metrics, Size
from evals.bench.peer_workloads import PeerRuns, peer_workloads


class _Done(TypedDict):
    done: Annotated[list[int], operator.add]


class LangGraphRuns:
    """The workloads' graphs, compiled once each, on one SQLite checkpointer."""

    def __init__(self, saver: Any) -> None:
        self._saver = saver
        self._graphs: dict[tuple[str, int, float], Any] = {}

    @classmethod
    @contextlib.asynccontextmanager
    async def open(cls, path: Path) -> AsyncIterator[LangGraphRuns]:
        """Runs checkpointed in the SQLite file at ``path``."""
        from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver

        async with AsyncSqliteSaver.from_conn_string(str(path)) as saver:
            yield cls(saver)

    def _graph(self, kind: str, size: int, seconds: float = 0.0) -> Any:
        key = (kind, size, seconds)
        if key not in self._graphs:
            builder = _chain(size) if kind == "chain" else _fan(size, seconds)
            self._graphs[key] = builder.compile(checkpointer=self._saver)
        return self._graphs[key]

    async def _invoke(self, graph: Any, thread: str) -> dict[str, Any]:
        config = {"configurable": {"thread_id": thread}, "recursion_limit": 10_000}
        result: dict[str, Any] = await graph.ainvoke({"done": []}, config, durability="sync")
        return result

    async def timed_chain(self, steps: int) -> float:
        """Seconds for one run of ``steps`` no-op nodes in a row, checked."""
        started = time.perf_counter()
        out = await self._invoke(self._graph("chain", steps), uuid.uuid4().hex)
        took = time.perf_counter() - started
        assert len(out["done"]) == steps, out
        return took

    async def timed_fan(self, width: int, seconds: float) -> float:
        """Seconds for one run of ``width`` sleeps of ``seconds`` at once then a join, checked."""
        started = time.perf_counter()
        out = await self._invoke(self._graph("fan", width, seconds), uuid.uuid4().hex)
        took = time.perf_counter() - started
        assert len(out["done"]) == width + 1, out
        return took

    async def batch(self, steps: int, runs: int) -> tuple[float, int]:
        """``runs`` runs of ``steps`` no-op nodes started at once: the seconds until the last
        ended, and how many the store holds as finished (the last checkpoint of each has every
        step and nothing next)."""
        graph = self._graph("chain", steps)
        threads = [uuid.uuid4().hex for _ in range(runs)]
        started = time.perf_counter()
        outs = await asyncio.gather(*(self._invoke(graph, t) for t in threads),
                                    return_exceptions=True)
        took = time.perf_counter() - started
        stored = 0
        for thread, out in zip(threads, outs, strict=True):
            if not (isinstance(out, dict) and len(out["done"]) == steps):
                continue
            snap = await graph.aget_state({"configurable": {"thread_id": thread}})
            stored += len(snap.values.get("done", [])) == steps and not snap.next
        return took, stored


def _chain(n: int) -> Any:
    from langgraph.graph import END, START, StateGraph

    builder: Any = StateGraph(_Done)
    for k in range(n):
        async def node(state: _Done, k: int = k) -> dict[str, list[int]]:
            return {"done": [k]}
        builder.add_node(f"s{k}", node)
        builder.add_edge(START if k == 0 else f"s{k - 1}", f"s{k}")
    builder.add_edge(f"s{n - 1}", END)
    return builder


def _fan(width: int, seconds: float) -> Any:
    from langgraph.graph import END, START, StateGraph

    builder: Any = StateGraph(_Done)

    async def pause(state: _Done) -> dict[str, list[int]]:
        await asyncio.sleep(seconds)
        return {"done": [1]}
    for k in range(width):
        builder.add_node(f"p{k}", pause)
        builder.add_edge(START, f"p{k}")
    builder.add_node("join", pause)
    builder.add_edge([f"p{k}" for k in range(width)], "join")
    builder.add_edge("join", END)
    return builder


async def langgraph_peer(size: Size, folder: Path) -> dict[str, Metrics]:
    """The three workloads (metric names as JARVIS's), in a fresh SQLite file in ``folder``."""
    async with LangGraphRuns.open(folder / "langgraph.sqlite") as runs:
        return await peer_workloads(PeerRuns(runs.timed_chain, runs.timed_fan, runs.batch),
                                    size)
