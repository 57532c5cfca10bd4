"""The floor under any engine built on Temporal here: the peers' workloads, each run a workflow
whose whole work is one local activity, started eagerly on a dev server with the tuned flags
(the same as JARVIS tuned), on an unsandboxed worker, its result awaited by the client.

No planner, no steps, no per-step state: what is left is what the SDK and the server cost a
durable run (the start, one workflow task, its completion, the client's result) plus the
work itself. A JARVIS figure near this one has little of its own left to cut; a gap between
this and LangGraph's is the engine's, not JARVIS's. ``python -m evals.bench --peers``.

Its sequential figure is a run of ``seq_steps`` no-ops in the one local activity, divided by
``seq_steps``: what a JARVIS chain of local steps comes down to (the run's fixed cost spread
over its steps), not the cost of one step recorded on its own.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from temporalio import activity, workflow
from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.worker import UnsandboxedWorkflowRunner, Worker

from agents.connection import connect
from agents.devserver import (
    DEFAULT_TUNING,
    ServerTuning,
    free_port,
    start_dev_server,
    stop_process,
)
from agents.gc_tuning import tuned_gc
from evals.bench.levers import Metrics, Size
from evals.bench.peer_workloads import PeerRuns, peer_workloads

FLOOR_WORKFLOW = "BenchTemporalFloor"  # the benchmark's own: no product code starts it


@dataclass(frozen=True)
class FloorJob:
    """``steps`` no-op calls in a row; or, with ``width``, that many sleeps of ``seconds`` at
    once, then one more (the fan-out and its join)."""

    steps: int = 0
    width: int = 0
    seconds: float = 0.0

    @property
    def expected(self) -> int:
        """The run's result: how many calls it made."""
        return self.width + 1 if self.width else self.steps


def _noop(k: int) -> int:
    return k


@activity.defn(name="bench_floor_work")
async def floor_work(job: FloorJob) -> int:
    if job.width:
        await asyncio.gather(*(asyncio.sleep(job.seconds) for _ in range(job.width)))
        await asyncio.sleep(job.seconds)
        return job.width + 1
    return sum(1 for k in range(job.steps) if _noop(k) == k)


@workflow.defn(name=FLOOR_WORKFLOW)
class FloorWorkflow:
    @workflow.run
    async def run(self, job: FloorJob) -> int:
        done: int = await workflow.execute_local_activity(
            floor_work, job, start_to_close_timeout=timedelta(seconds=60))
        return done


def floor_worker(client: Client, queue: str) -> Worker:
    """A worker for the floor's workflow on ``queue`` (unsandboxed, as JARVIS tuned runs)."""
    return Worker(client, task_queue=queue, workflows=[FloorWorkflow], activities=[floor_work],
                  workflow_runner=UnsandboxedWorkflowRunner())


async def floor_batch(client: Client, queue: str, job: FloorJob, runs: int
                      ) -> tuple[float, int]:
    """``runs`` runs of ``job`` started at once and awaited: the seconds from the first start
    to the last result, and how many the server holds as completed with the right result."""
    started = time.perf_counter()
    handles = await asyncio.gather(*(client.start_workflow(
        FloorWorkflow.run, job, id=f"floor-{uuid.uuid4().hex}", task_queue=queue,
        request_eager_start=True) for _ in range(runs)))
    results = await asyncio.gather(*(h.result() for h in handles), return_exceptions=True)
    took = time.perf_counter() - started
    stored = 0  # accounted for from the server: each run closed as completed, with its result
    for handle, result in zip(handles, results, strict=True):
        status = (await handle.describe()).status
        stored += result == job.expected and status == WorkflowExecutionStatus.COMPLETED
    return took, stored


async def timed_floor(client: Client, queue: str, job: FloorJob) -> float:
    started = time.perf_counter()
    done = await client.execute_workflow(FloorWorkflow.run, job, id=f"floor-{uuid.uuid4().hex}",
                                         task_queue=queue, request_eager_start=True)
    took = time.perf_counter() - started
    assert done == job.expected, (job, done)
    return took


async def temporal_floor(size: Size, folder: Path,
                         server_tuning: ServerTuning = DEFAULT_TUNING) -> dict[str, Metrics]:
    """The three workloads (metric names as the other peers'), on a dev server of its own."""
    port = free_port()
    server = start_dev_server(folder / "temporal.sqlite", port, log_file=folder / "server.log",
                              tuning=server_tuning)
    try:
        client = await connect(f"127.0.0.1:{port}")
        queue = f"floor-{uuid.uuid4().hex[:8]}"
        async with floor_worker(client, queue):
            runs = PeerRuns(
                chain=lambda n: timed_floor(client, queue, FloorJob(steps=n)),
                fan=lambda width, s: timed_floor(client, queue, FloorJob(width=width, seconds=s)),
                batch=lambda n, count: floor_batch(client, queue, FloorJob(steps=n), count))
            with tuned_gc():  # as JARVIS tuned runs
                return await peer_workloads(runs, size)
    finally:
        stop_process(server)
