"""The benchmark tools and plans: no-op steps, sleeping steps, chains."""

from __future__ import annotations

import asyncio
from typing import Any

from activities import default_registry
from planner.plan import Plan
from planner.tools import ToolRegistry, tool_from_function


async def bench_noop(i: int = 0) -> int:
    """Return ``i``: a tool call that does nothing (read-only, idempotent, short: local)."""
    return i


def bench_pure(i: int = 0) -> int:
    """Return ``i``: a pure tool's step (runs in the workflow itself: no activity)."""
    return i


async def bench_pause(seconds: float) -> float:
    """Sleep ``seconds``: a short read-only tool (local by default; also run as regular)."""
    await asyncio.sleep(seconds)
    return seconds


def bench_registry() -> ToolRegistry:
    registry = default_registry()
    registry.register(tool_from_function(bench_noop, timeout_s=10), replace=True)
    registry.register(tool_from_function(bench_pause, timeout_s=30), replace=True)
    registry.register(tool_from_function(bench_pure, timeout_s=10, pure=True), replace=True)
    return registry


def chain_plan(steps: int, goal: str = "sequential no-ops", tool: str = "bench_noop") -> Plan:
    """``steps`` calls of ``tool`` one after another (bench_noop: a tool that could do I/O, a
    local activity; bench_pure: a pure tool, in the workflow)."""
    return Plan.model_validate({"goal": goal, "steps": [
        {"id": f"s{k}", "tool": tool, "args": {"i": k},
         **({"deps": [f"s{k - 1}"]} if k else {})} for k in range(steps)]})


def fan_plan(width: int, seconds: float) -> Plan:
    fan = [{"id": f"p{k}", "tool": "bench_pause", "args": {"seconds": seconds}}
           for k in range(width)]
    join = {"id": "join", "tool": "bench_pause", "args": {"seconds": seconds},
            "deps": [s["id"] for s in fan]}
    return Plan.model_validate({"goal": f"fan out {width} x {seconds}s", "steps": [*fan, join]})


PLANNING_GOAL = "Save the line Benchmarks keep us honest to bench.txt"


PLANNING_PLAN: dict[str, Any] = {
    "goal": PLANNING_GOAL,
    "steps": [{"id": "write", "tool": "write_file",
               "args": {"path": "bench.txt", "text": "Benchmarks keep us honest"}}],
    "outputs": {"path": "${write.path}"},
}
