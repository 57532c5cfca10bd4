"""Many plan runs started at once and waited for: what the throughput and scaling benchmarks
measure."""

from __future__ import annotations

import asyncio
import time
import uuid
from dataclasses import dataclass

from temporalio.client import WorkflowExecutionStatus

from evals.bench.fixture import Bench
from planner.contracts.plan_run import ExecutePlanInput, RunState


@dataclass(frozen=True)
class RunBatch:
    """``ids``: the runs started; ``completed``: how many ended with every step succeeded,
    checked from the result and again from the server's record; ``seconds``: from the first
    start to the last result."""

    ids: list[str]
    seconds: float
    completed: int


async def run_batch(bench: Bench, inp: ExecutePlanInput, goals: int) -> RunBatch:
    """Start ``goals`` runs of ``inp`` at once and wait for all of them."""
    ids = [f"tp-{uuid.uuid4().hex[:12]}" for _ in range(goals)]
    started = time.perf_counter()
    await asyncio.gather(*(bench.engine.start_plan(inp, run_id=run_id) for run_id in ids))
    states = await asyncio.gather(*(bench.engine.plan_result(i) for i in ids),
                                  return_exceptions=True)
    seconds = time.perf_counter() - started
    done = [i for i, s in zip(ids, states, strict=True)
            if isinstance(s, RunState) and s.status == "succeeded"
            and all(st.status.value == "succeeded" for st in s.steps)]
    described = await asyncio.gather(*(bench.engine.handle(i).describe() for i in done))
    completed = sum(d.status == WorkflowExecutionStatus.COMPLETED for d in described)
    return RunBatch(ids, seconds, completed)
