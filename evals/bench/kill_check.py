"""Durability of the server settings: SIGKILL the dev server after acknowledged runs, restart it
on the same file, count what survived."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path
from typing import Any

from temporalio.client import WorkflowExecutionStatus

from agents.client import JarvisClient
from agents.connection import connect
from agents.devserver import (
    DEFAULT_TUNING,
    ServerTuning,
    free_port,
    start_dev_server,
    stop_process,
)
from agents.worker import create_worker
from evals.bench.fixture import bench_settings
from evals.bench.levers import Metrics
from evals.bench.workloads import bench_registry, chain_plan
from planner.plan import Plan
from planner.preparation import prepare
from planner.settings import Settings


async def kill_check(folder: Path, tuning: ServerTuning = DEFAULT_TUNING, rounds: int = 3,
                     burst: int = 10) -> Metrics:
    """SIGKILL the dev server right after runs are acknowledged, restart it on the same SQLite
    file and count what survived. Each round: start ``burst`` long runs (acknowledged = the
    start call returned), run one plan to completion (acknowledged = its result arrived), and
    kill the server at once."""
    folder.mkdir(parents=True, exist_ok=True)
    db, port = folder / "temporal.sqlite", free_port()
    address = f"127.0.0.1:{port}"
    settings = bench_settings(folder, address, None)
    registry = bench_registry()
    started_ids: list[str] = []
    completed: dict[str, Any] = {}
    server = start_dev_server(db, port, log_file=folder / "server.log", tuning=tuning)
    try:
        for round_ in range(rounds):
            client = await connect(address)
            engine = JarvisClient(client, settings, eager_start=False)
            wait = prepare(Plan.model_validate({"goal": "wait an hour", "steps": [
                {"id": "w", "tool": "wait", "args": {"seconds": 3600}}]}), registry, settings)
            ids = [f"kill-{round_}-{k}-{uuid.uuid4().hex[:6]}" for k in range(burst)]
            await asyncio.gather(*(engine.start_plan(wait, run_id=i) for i in ids))
            started_ids += ids
            async with create_worker(client, settings, registry):
                run_id = await engine.start_plan(prepare(chain_plan(3), registry, settings))
                completed[run_id] = (await engine.plan_result(run_id)).outputs
                server.kill()  # SIGKILL right after the acknowledgement
                server.wait()
                server = start_dev_server(db, port, log_file=folder / "server.log",
                                          tuning=tuning)
        return await _survivors(address, settings, started_ids, completed)
    finally:
        stop_process(server)


async def _survivors(address: str, settings: Settings, started: list[str],
                     completed: dict[str, Any]) -> Metrics:
    client = await connect(address)
    engine = JarvisClient(client, settings)
    found = 0
    for run_id in started:
        desc = await engine.handle(run_id).describe()
        found += desc.status == WorkflowExecutionStatus.RUNNING
    done = 0
    for run_id, outputs in completed.items():
        desc = await engine.handle(run_id).describe()
        same = (await engine.plan_result(run_id)).outputs == outputs
        done += desc.status == WorkflowExecutionStatus.COMPLETED and same
    return {"started_acknowledged": len(started), "started_found_after_restart": found,
            "completed_acknowledged": len(completed), "completed_found_after_restart": done,
            "lost": len(started) - found + len(completed) - done}
