"""One configuration brought up: a dev server of its own, a worker, the engines, the scripted
LLM."""

from __future__ import annotations

import contextlib
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from temporalio.client import Client

from agents.client import JarvisClient
from agents.connection import connect
from agents.devserver import (
    free_port,
    start_dev_server,
    stop_process,
)
from agents.gc_tuning import tuned_gc
from agents.worker import create_worker
from agents.workflow_levers import LEVERS
from evals.bench.levers import Levers, Size
from evals.bench.workloads import bench_registry, chain_plan, fan_plan
from jarvis_planner.testing import ScriptedLLM
from planner.contracts.plan_run import ExecutePlanInput, RunState
from planner.plan import Plan
from planner.preparation import prepare
from planner.settings import Settings
from planner.tools import ToolRegistry


@dataclass
class Bench:
    """Everything one configuration's benchmarks share."""

    levers: Levers
    size: Size
    client: Client
    settings: Settings
    registry: ToolRegistry
    engine: JarvisClient
    llm: ScriptedLLM
    notes: list[str] = field(default_factory=list)
    server_pid: int | None = None  # the dev server process (its memory, for scaling)

    def prepared(self, plan: Plan, *, regular: bool = False) -> ExecutePlanInput:
        """``regular``: every tool call a regular activity (no local, none in the workflow)."""
        local = self.levers.local_activities and not regular
        inline = self.levers.inline_pure and not regular
        return prepare(plan, self.registry, self.settings, local_activities=local,
                       inline_pure=inline)

    async def timed(self, inp: ExecutePlanInput) -> tuple[float, RunState]:
        """Seconds from the start request to the result, and the final state."""
        started = time.perf_counter()
        run_id = await self.engine.start_plan(inp, run_id=f"bench-{uuid.uuid4().hex[:12]}")
        state = await self.engine.plan_result(run_id)
        return time.perf_counter() - started, state


def _scripted_llm() -> ScriptedLLM:
    """The scripted OpenAI-compatible server (:mod:`jarvis_planner.testing`), started."""
    from activities.llm import forget_working_modes
    from jarvis_planner.testing import ScriptedLLM

    forget_working_modes()
    return ScriptedLLM().start()


def bench_settings(folder: Path, address: str, llm: ScriptedLLM | None) -> Settings:
    llm_fields: dict[str, Any] = {"llm_base_url": None, "llm_api_key": None}
    if llm is not None:
        llm_fields = {"llm_base_url": llm.base_url, "llm_api_key": "scripted-key",
                      "llm_model": llm.model, "llm_timeout_s": 10.0}
    return Settings(data_dir=folder / "data", workspace=None, temporal_address=address,
                    task_queue=f"bench-{uuid.uuid4().hex[:8]}", chroma_host=None,
                    embedding_backend="hashing", llm_structured_mode="auto",
                    plan_max_steps=100_000, **llm_fields)


@contextlib.contextmanager
def workflow_levers(levers: Levers) -> Iterator[None]:
    """The levers that live in workflow code, set for this configuration's in-process worker
    (and put back): which scheduler the step driver uses, whether goals call template memory
    and the plan check as local activities. Both give the same results either way."""
    before = replace(LEVERS)
    LEVERS.incremental_scheduler = levers.incremental_scheduler
    LEVERS.memory_local = levers.memory_local
    try:
        yield
    finally:
        LEVERS.incremental_scheduler = before.incremental_scheduler
        LEVERS.memory_local = before.memory_local


def with_levers(settings: Settings, levers: Levers) -> Settings:
    """``settings`` with the configuration's chains and groups (plan runs and goals: their
    worker prepares their plans)."""
    if not levers.local_chain:
        settings = settings.model_copy(update={"local_chain_s": 0.0})
    elif levers.chain_budget_s is not None:
        settings = settings.model_copy(update={"local_chain_s": levers.chain_budget_s})
    if not levers.local_group:
        settings = settings.model_copy(update={"local_groups": False})
    return settings


@contextlib.asynccontextmanager
async def bench_context(levers: Levers, size: Size, folder: Path) -> AsyncIterator[Bench]:
    """A dev server with the configuration's flags, a client and an in-process worker."""
    folder.mkdir(parents=True, exist_ok=True)
    port = free_port()
    server = start_dev_server(folder / "temporal.sqlite", port, log_file=folder / "server.log",
                              tuning=levers.server)
    llm = _scripted_llm()
    try:
        client = await connect(f"127.0.0.1:{port}")
        settings = bench_settings(folder, f"127.0.0.1:{port}", llm)
        settings = with_levers(settings, levers)
        registry = bench_registry()
        engine = JarvisClient(client, settings, eager_start=levers.eager_start)
        with workflow_levers(levers):
            async with create_worker(client, settings, registry, sandboxed=levers.sandboxed,
                                     options=levers.worker_options):
                bench = Bench(levers, size, client, settings, registry, engine, llm,
                              server_pid=server.pid)
                await _warm_up(bench)
                # as `jarvis worker` does once its worker runs (put back after)
                with tuned_gc() if levers.tuned_gc else contextlib.nullcontext():
                    yield bench
    finally:
        llm.stop()
        stop_process(server)


async def _warm_up(bench: Bench) -> None:
    """One small run of each kind first: the first workflow pays imports and connections."""
    await bench.timed(bench.prepared(chain_plan(3)))
    await bench.timed(bench.prepared(chain_plan(3), regular=True))
    await bench.timed(bench.prepared(fan_plan(2, 0.01)))
    await bench.timed(bench.prepared(chain_plan(3, tool="bench_pure")))
