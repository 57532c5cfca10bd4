"""Scaling: how the cost of a step grows with the size of a plan and the number of goals in
flight, measured on the benchmark's dev server and in-process worker.

- **plan size**: a chain and a fan-out (then a join) of no-op steps (local activities), and a
  chain of pure steps (in the workflow), 10 / 100 / 1,000 steps
  (``Size.scale_steps``): ms per step (start request to result, over the steps), history events
  and bytes per step (every run of the workflow id: a long plan continues as new), worker and
  server resident memory after the run.
- **goals in flight**: 1 / 10 / 100 / 1,000 runs of 5 no-op steps started at once
  (``Size.scale_goals``): steps per second, ms per step of wall time, none lost, and the
  longest workflow task (Temporal times one out after 10 s).
- **parked goals**: goals waiting for review (a shipped template's plan under the
  ``always-ask`` policy), measured first: worker memory per waiting goal (RSS growth after a
  collection and a heap trim), and the server's RSS growth. The worker keeps up
  to 1,000 workflows in its cache (agents/worker.py); past that a parked goal costs nothing on
  the worker until it is decided (replayed then).

Flat is the goal: a per-step figure that grows with the size means work per step that depends
on the plan's size (scheduler recomputation, state snapshots, history replay).
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import gc
import math
import time
import uuid
from pathlib import Path

from temporalio.api.enums.v1 import EventType

from evals.bench.batch import run_batch
from evals.bench.fixture import Bench
from evals.bench.levers import Metrics
from evals.bench.workloads import chain_plan
from planner.plan import Plan

PARK_GOAL = "remind me to stretch in 1 seconds"  # a shipped template: no LLM call


def rss_mb(pid: int | None = None) -> float:
    """Resident memory of a process (this one by default), in MB; NaN where unreadable."""
    path = Path(f"/proc/{pid}/status" if pid else "/proc/self/status")
    with contextlib.suppress(OSError, ValueError, IndexError):
        for line in path.read_text().splitlines():
            if line.startswith("VmRSS:"):
                return round(int(line.split()[1]) / 1024, 1)
    return float("nan")


def noop_fan_plan(steps: int, max_deps: int = 64) -> Plan:
    """``steps`` no-op steps: independent ones, then a join of them all; past ``max_deps``
    (the validator's limit per step) the join is two-level (groups, then the join)."""
    groups = 0 if steps - 1 <= max_deps else math.ceil((steps - 1) / (max_deps + 1))
    width = steps - 1 - groups
    fan = [{"id": f"p{k}", "tool": "bench_noop", "args": {"i": k}} for k in range(width)]
    mid = [{"id": f"g{j}", "tool": "bench_noop", "args": {"i": j},
            "deps": [f"p{k}" for k in range(j, width, groups)]} for j in range(groups)]
    join = {"id": "join", "tool": "bench_noop", "args": {"i": 0},
            "deps": [s["id"] for s in (mid or fan)]}
    return Plan.model_validate({"goal": f"fan out {steps}", "steps": [*fan, *mid, join]})


async def scaling(bench: Bench) -> Metrics:
    # parked goals first: after 1,000 runs the heap gives memory back while they park (the
    # RSS growth per goal came out negative)
    out: Metrics = await _parked(bench, bench.size.scale_parked)
    for shape in ("chain", "fan", "pure"):
        for n in bench.size.scale_steps:
            plan = (chain_plan(n) if shape == "chain" else noop_fan_plan(n) if shape == "fan"
                    else chain_plan(n, "pure chain", tool="bench_pure"))
            out.update({f"{shape}_{n}_{k}": v for k, v in (await _one_plan(bench, plan)).items()})
    for goals in bench.size.scale_goals:
        out.update({f"goals_{goals}_{k}": v
                    for k, v in (await _in_flight(bench, goals)).items()})
    return out


async def _one_plan(bench: Bench, plan: Plan) -> Metrics:
    n = len(plan.steps)
    run_id = f"scale-{uuid.uuid4().hex[:12]}"
    inp = bench.prepared(plan)
    started = time.perf_counter()
    await bench.engine.start_plan(inp, run_id=run_id)
    state = await bench.engine.plan_result(run_id)
    took = time.perf_counter() - started
    if state.status != "succeeded":
        raise RuntimeError(f"scaling: a plan of {n} steps {state.status}: "
                           f"{state.failure_report()}")
    events, size, runs = await _history(bench, run_id)
    return {"ms_per_step": round(1000 * took / n, 3), "events_per_step": round(events / n, 2),
            "history_bytes_per_step": round(size / n, 1), "runs": runs,
            "worker_rss_mb": rss_mb(), "server_rss_mb": rss_mb(bench.server_pid)}


VISIBILITY_WAIT_S = 10.0


async def _history(bench: Bench, workflow_id: str) -> tuple[int, int, int]:
    """Events and bytes of every run of ``workflow_id`` (continued-as-new runs included), once
    visibility lists its last run (it lags the run's end by a moment: a run not listed yet
    counted nothing)."""
    last = (await bench.client.get_workflow_handle(workflow_id).describe()).run_id
    deadline = time.monotonic() + VISIBILITY_WAIT_S
    while True:
        listed = [e.run_id async for e in bench.client.list_workflows(
            f'WorkflowId="{workflow_id}"')]
        if last in listed or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.1)
    events = size = 0
    for run_id in listed:
        history = await bench.client.get_workflow_handle(workflow_id,
                                                         run_id=run_id).fetch_history()
        events += len(history.events)
        size += sum(e.ByteSize() for e in history.events)
    return events, size, len(listed)


async def _in_flight(bench: Bench, goals: int) -> Metrics:
    steps = bench.size.goal_steps
    inp = bench.prepared(chain_plan(steps, "in flight"))
    batch = await run_batch(bench, inp, goals)
    out: Metrics = {"steps_per_s": round(batch.completed * steps / batch.seconds, 1),
                    "ms_per_step": round(1000 * batch.seconds / (goals * steps), 3),
                    "lost": goals - batch.completed, "worker_rss_mb": rss_mb(),
                    "server_rss_mb": rss_mb(bench.server_pid)}
    return out | await _workflow_tasks(bench, batch.ids)


async def _workflow_tasks(bench: Bench, ids: list[str]) -> Metrics:
    """The longest workflow task of these runs, from start to completion on the server's clock
    (Temporal times one out after 10 s: the worker's slots must not take more work than it
    finishes well within that), and how many timed out or failed."""
    longest, lapsed = 0.0, 0
    for chunk in (ids[k:k + 100] for k in range(0, len(ids), 100)):
        histories = await asyncio.gather(*(bench.client.get_workflow_handle(i).fetch_history()
                                           for i in chunk))
        for history in histories:
            started: float | None = None
            for event in history.events:
                at = event.event_time.ToDatetime().timestamp()
                if event.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED:
                    started = at
                elif event.event_type in _TASK_ENDS and started is not None:
                    longest = max(longest, at - started)
                    lapsed += event.event_type != EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED
                    started = None
    return {"longest_workflow_task_s": round(longest, 3), "workflow_tasks_lapsed": lapsed}


_TASK_ENDS = (EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED,
              EventType.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT,
              EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED)


async def _parked(bench: Bench, goals: int) -> Metrics:
    """``goals`` goals waiting for review at once: memory per waiting goal (the worker's and
    the server's RSS growth, the worker's read after a collection and with freed heap given back
    to the system, so the collector's timing moves it less); then rejected."""
    jarvis = bench.engine
    warm = await jarvis.submit(PARK_GOAL, policy="always-ask", by="bench")  # loads memory
    await jarvis.wait_for_review(warm)
    await jarvis.reject(warm, by="bench", reason="warm-up")
    worker_before, server_before = settled_rss_mb(), rss_mb(bench.server_pid)
    ids = await asyncio.gather(*(jarvis.submit(PARK_GOAL, policy="always-ask", by="bench")
                                 for _ in range(goals)))
    states = await asyncio.gather(*(jarvis.wait_for_review(i) for i in ids))
    waiting = sum(s.stage == "awaiting_approval" for s in states)
    del states  # the client's copies: what is left is the worker's
    worker_after, server_after = settled_rss_mb(), rss_mb(bench.server_pid)
    await asyncio.gather(*(jarvis.reject(i, by="bench", reason="scaling benchmark")
                           for i in ids if i))
    return {"parked_goals": goals, "parked_waiting": waiting,
            "parked_worker_kb_per_goal": round(1024 * (worker_after - worker_before) / goals, 1),
            "parked_server_kb_per_goal": round(1024 * (server_after - server_before) / goals, 1)}


def settled_rss_mb() -> float:
    """This process's RSS after a full collection and glibc's ``malloc_trim`` (freed heap
    returned to the system; skipped where there is no glibc)."""
    gc.collect()
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    return rss_mb()
