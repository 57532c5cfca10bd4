"""Engine benchmarks: ratios measured in one run, on this machine, against an embedded dev server
that the run starts itself (free port, temporary SQLite file, in-process worker).

- **overhead**: a sequential plan of no-op tool calls (50 steps): ms per step on the Temporal
  engine (tools as the default policy runs them, and every call as a regular activity), the
  simple engine and a bare asyncio loop calling the same tool core (``execute_call``).
- **parallelism**: 20 independent steps of 200 ms (and of 1 s) then a join of the same length;
  the makespan (start request to result, seen by the client) divided by the critical path (2 x
  the step). The ideal is 1.0.
- **throughput**: 100 plan runs ("goals") of 5 steps started at once; steps per second from the
  first start to the last result, and how many runs completed (none may be lost).
- **planning**: a goal planned by the LLM (the scripted OpenAI-compatible server of
  ``tests/scripted_llm.py``, real HTTP) vs the same goal served from template memory, both through
  the goal workflow with ``dry_run=True``; time, tokens and LLM calls.
- **durability** (``--kill-check``): SIGKILL the dev server right after runs are acknowledged as
  started and completed, restart it on the same file, and check they are all still there.

Each lever is a configuration (:class:`Levers`); ``--baseline`` also runs every lever off,
``--ablate`` the tuned configuration minus one lever at a time and ``--explore`` the tuned one
plus one lever that was tried and not adopted; each configuration gets its own dev server.
Reports: ``bench-<name>.json`` and ``.md`` per benchmark plus ``bench.md`` (all of them, with
the machine) in ``--out`` (default ``eval-reports/``).

Run: ``python -m evals.bench [--size smoke|full] [--out DIR] [--baseline] [--ablate] [--explore]
[--kill-check] [--rounds N] [--only overhead,parallelism,throughput,planning]`` or
``jarvis bench``. With ``--rounds N`` every configuration runs N times, in rotated order, and
each number is the median over the rounds (the machine is shared and drifts).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import math
import os
import platform
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from importlib.metadata import version
from pathlib import Path
from typing import TYPE_CHECKING, Any

from temporalio.client import Client, WorkflowExecutionStatus

from activities import default_registry
from activities.execution import execute_call, tool_runtime
from agents.client import JarvisClient
from agents.connection import connect
from agents.devserver import (
    DEFAULT_TUNING,
    STOCK,
    ServerTuning,
    free_port,
    start_dev_server,
    stop_process,
    temporal_binary,
)
from agents.simple_engine import SimpleWorkflowEngine
from agents.worker import create_worker
from planner.contracts.run import ExecutePlanInput, RunState, ToolCall
from planner.plan import Plan
from planner.preparation import prepare
from planner.settings import Settings
from planner.tools import ToolRegistry, tool_from_function

if TYPE_CHECKING:
    from jarvis_planner.testing import ScriptedLLM

BENCHMARKS = ("overhead", "parallelism", "throughput", "planning")
Metrics = dict[str, Any]


# --- configuration -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Levers:
    """One configuration of the tuning levers."""

    name: str
    server: ServerTuning = DEFAULT_TUNING
    local_activities: bool = True
    eager_start: bool = True
    sandboxed: bool = False
    worker_options: Mapping[str, Any] = field(default_factory=dict)

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "server_flags": self.server.flags(),
                "local_activities": self.local_activities, "eager_start": self.eager_start,
                "sandboxed": self.sandboxed, "worker_options": dict(self.worker_options)}


TUNED = Levers("tuned")
BASELINE = Levers("baseline", server=STOCK, local_activities=False, eager_start=False,
                  sandboxed=True)


def ablations(tuned: Levers = TUNED) -> list[Levers]:
    """The tuned configuration minus one lever at a time."""
    server = tuned.server
    rates = {k: v for k, v in server.dynamic_config.items() if "MaxPollRPS" not in k}
    return [
        replace(tuned, name="stock queue read rates",
                server=ServerTuning(rates, server.pragmas)),
        replace(tuned, name="rollback journal",
                server=ServerTuning(server.dynamic_config, ())),
        replace(tuned, name="wal, synchronous=full",
                server=ServerTuning(server.dynamic_config, ("journal_mode=wal",))),
        replace(tuned, name="wal, synchronous=off",
                server=ServerTuning(server.dynamic_config,
                                    ("journal_mode=wal", "synchronous=off"))),
        replace(tuned, name="no local activities", local_activities=False),
        replace(tuned, name="no eager start", eager_start=False),
        replace(tuned, name="unsandboxed" if tuned.sandboxed else "sandboxed",
                sandboxed=not tuned.sandboxed),
    ]


def explorations(tuned: Levers = TUNED) -> list[Levers]:
    """Levers tried and not adopted: other queue read rates, pollers and slots, more server
    knobs (each the tuned configuration plus one change)."""
    server = tuned.server

    def with_config(name: str, **values: object) -> Levers:
        return replace(tuned, name=name,
                       server=ServerTuning({**server.dynamic_config, **values}, server.pragmas))

    rates = [with_config(f"queue read rate {rps}", **{
        k: rps for k in server.dynamic_config if "MaxPollRPS" in k}) for rps in (50, 200, 1000)]
    return [
        *rates,
        with_config("history.shardIOConcurrency=16", **{"history.shardIOConcurrency": 16}),
        with_config("host-level events cache",
                    **{"history.enableHostLevelEventsCache": True}),
        replace(tuned, name="20 eager activities per task",
                worker_options={"max_eager_activity_reservations_per_workflow_task": 20}),
        replace(tuned, name="10 pollers per kind",
                worker_options={"max_concurrent_activity_task_polls": 10,
                                "max_concurrent_workflow_task_polls": 10}),
    ]


@dataclass(frozen=True)
class Size:
    seq_steps: int
    seq_repeats: int
    fan_width: int
    fan_step_s: tuple[float, ...]
    fan_repeats: int
    goals: int
    goal_steps: int
    plan_repeats: int
    kill_rounds: int
    kill_burst: int


SIZES = {
    "full": Size(seq_steps=50, seq_repeats=3, fan_width=20, fan_step_s=(0.2, 1.0), fan_repeats=3,
                 goals=100, goal_steps=5, plan_repeats=3, kill_rounds=3, kill_burst=20),
    "smoke": Size(seq_steps=5, seq_repeats=1, fan_width=4, fan_step_s=(0.05,), fan_repeats=1,
                  goals=8, goal_steps=5, plan_repeats=1, kill_rounds=1, kill_burst=3),
}
TARGETS = {
    "overhead": {"temporal_default_ms_per_step": "<= 3 (local-activity tools)",
                 "temporal_regular_ms_per_step": "<= 20"},
    "parallelism": {"ratio_200ms": "<= 1.15", "ratio_1000ms": "<= 1.03",
                    "ratio_200ms_regular": "<= 1.15", "ratio_1000ms_regular": "<= 1.03"},
    "throughput": {"default_steps_per_s": ">= 200", "default_lost": "0", "regular_lost": "0"},
    "planning": {"template_ms": "<= 50", "template_llm_calls": "0"},
}


# --- benchmark tools and plans -------------------------------------------------------------------

async def bench_noop(i: int = 0) -> int:
    """Return ``i``: a tool call that does nothing (read-only, idempotent, short: local)."""
    return i


async def bench_pause(seconds: float) -> float:
    """Sleep ``seconds``: a short read-only tool (local by default; also run as regular)."""
    await asyncio.sleep(seconds)
    return seconds


def bench_registry() -> ToolRegistry:
    registry = default_registry()
    registry.register(tool_from_function(bench_noop, timeout_s=10), replace=True)
    registry.register(tool_from_function(bench_pause, timeout_s=30), replace=True)
    return registry


def chain_plan(steps: int, goal: str = "sequential no-ops") -> Plan:
    return Plan.model_validate({"goal": goal, "steps": [
        {"id": f"s{k}", "tool": "bench_noop", "args": {"i": k},
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


# --- one configuration: server, worker, engines --------------------------------------------------

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

    def prepared(self, plan: Plan, *, regular: bool = False) -> ExecutePlanInput:
        local = self.levers.local_activities and not regular
        return prepare(plan, self.registry, self.settings, local_activities=local)

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
                    embedding_backend="hashing", llm_structured_mode="auto", **llm_fields)


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
        registry = bench_registry()
        engine = JarvisClient(client, settings, eager_start=levers.eager_start)
        async with create_worker(client, settings, registry, sandboxed=levers.sandboxed,
                                 options=levers.worker_options):
            bench = Bench(levers, size, client, settings, registry, engine, llm)
            await _warm_up(bench)
            yield bench
    finally:
        llm.stop()
        stop_process(server)


async def _warm_up(bench: Bench) -> None:
    """One small run of each kind first: the first workflow pays imports and connections."""
    await bench.timed(bench.prepared(chain_plan(3)))
    await bench.timed(bench.prepared(chain_plan(3), regular=True))
    await bench.timed(bench.prepared(fan_plan(2, 0.01)))


# --- the benchmarks ------------------------------------------------------------------------------

def _median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else math.nan


def _round(value: float, digits: int = 3) -> float:
    return round(value, digits) if math.isfinite(value) else value


async def overhead(bench: Bench) -> Metrics:
    """ms per step of a sequential plan of no-ops, per engine, and the ratios."""
    n = bench.size.seq_steps
    plan = chain_plan(n)
    default_inp, regular_inp = bench.prepared(plan), bench.prepared(plan, regular=True)
    simple = SimpleWorkflowEngine(tool_runtime(bench.settings, bench.registry))
    times: dict[str, list[float]] = {"temporal_default": [], "temporal_regular": [],
                                     "simple": [], "bare": []}
    for _ in range(bench.size.seq_repeats):
        for key, inp in (("temporal_default", default_inp), ("temporal_regular", regular_inp)):
            seconds, state = await bench.timed(inp)
            _check(state, key)
            times[key].append(seconds)
        started = time.perf_counter()
        _check(await simple.execute_plan(default_inp), "simple")
        times["simple"].append(time.perf_counter() - started)
        times["bare"].append(await _bare_loop(bench, n))
    ms = {k: 1000 * _median(v) / n for k, v in times.items()}
    local_steps = sum(p.local for p in default_inp.policies.values())
    return {
        "steps": n, "repeats": bench.size.seq_repeats, "local_steps": local_steps,
        **{f"{k}_ms_per_step": _round(v) for k, v in ms.items()},
        "temporal_default_vs_simple": _round(ms["temporal_default"] / ms["simple"], 2),
        "temporal_regular_vs_simple": _round(ms["temporal_regular"] / ms["simple"], 2),
        "simple_vs_bare": _round(ms["simple"] / ms["bare"], 2),
        "temporal_default_vs_bare": _round(ms["temporal_default"] / ms["bare"], 1),
    }


async def _bare_loop(bench: Bench, n: int) -> float:
    """The same tool calls awaited one after another by a plain asyncio loop."""
    runtime = tool_runtime(bench.settings, bench.registry)
    started = time.perf_counter()
    for k in range(n):
        await execute_call(runtime, ToolCall(step_id=f"s{k}", tool="bench_noop",
                                             args={"i": k}), 1)
    return time.perf_counter() - started


def _check(state: RunState, what: str) -> None:
    if state.status != "succeeded":
        raise RuntimeError(f"benchmark run '{what}' {state.status}: {state.failure_report()}")


async def parallelism(bench: Bench) -> Metrics:
    """Fan-out of independent steps then a join: makespan / critical path, with the steps as the
    default policy runs them (local: short read-only tool) and as regular activities."""
    out: Metrics = {"width": bench.size.fan_width, "repeats": bench.size.fan_repeats}
    for seconds in bench.size.fan_step_s:
        for suffix, regular in (("", False), ("_regular", True)):
            inp = bench.prepared(fan_plan(bench.size.fan_width, seconds), regular=regular)
            spans = []
            for _ in range(bench.size.fan_repeats):
                span, state = await bench.timed(inp)
                _check(state, f"fan-out {seconds}s")
                spans.append(span)
            key = f"{round(seconds * 1000)}ms{suffix}"
            out[f"makespan_{key}_s"] = _round(_median(spans))
            out[f"ratio_{key}"] = _round(_median(spans) / (2 * seconds))
            out[f"ratio_{key}_min"] = _round(min(spans) / (2 * seconds))
    return out


async def throughput(bench: Bench) -> Metrics:
    """Many plan runs at once: steps per second, and every run accounted for."""
    out: Metrics = {"goals": bench.size.goals, "steps_per_goal": bench.size.goal_steps}
    for key, regular in (("default", False), ("regular", True)):
        inp = bench.prepared(chain_plan(bench.size.goal_steps, "throughput"), regular=regular)
        seconds, completed = await _concurrent_runs(bench, inp, bench.size.goals)
        steps = completed * bench.size.goal_steps
        out[f"{key}_seconds"] = _round(seconds)
        out[f"{key}_completed"] = completed
        out[f"{key}_lost"] = bench.size.goals - completed
        out[f"{key}_steps_per_s"] = _round(steps / seconds, 1)
    return out


async def _concurrent_runs(bench: Bench, inp: ExecutePlanInput, goals: int) -> tuple[float, int]:
    """Start ``goals`` runs at once, wait for all; (seconds, runs that completed with every
    step succeeded, checked from the result and again from the server's record)."""
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
    return seconds, completed


async def planning(bench: Bench) -> Metrics:
    """The same goal planned by the LLM, then served from a template (both dry runs)."""
    from jarvis_planner.testing import reply_json

    llm = bench.llm
    goals = bench.engine
    llm.expect(reply_json(PLANNING_PLAN))
    await _plan_once(goals, "llm")  # warm-up; also measures the prompt the planner sends
    prompt_tokens = _approx_tokens(json.dumps(llm.chat_requests()[-1]))
    completion_tokens = _approx_tokens(json.dumps(PLANNING_PLAN))
    llm_runs = []
    for _ in range(bench.size.plan_repeats):
        llm.expect(reply_json(PLANNING_PLAN, prompt_tokens=prompt_tokens,
                              completion_tokens=completion_tokens))
        llm_runs.append(await _measured_plan(goals, llm, "llm"))
    llm.expect(reply_json(PLANNING_PLAN))
    learned = await _learn(goals)
    template_runs = [await _measured_plan(goals, llm, "template")
                     for _ in range(bench.size.plan_repeats)]
    llm.assert_done()
    llm_ms, template_ms = _median([r[0] for r in llm_runs]), _median([r[0] for r in template_runs])
    return {
        "repeats": bench.size.plan_repeats, "template_id": learned,
        "llm_ms": _round(llm_ms, 1), "llm_tokens": llm_runs[-1][1],
        "llm_calls": max(r[2] for r in llm_runs),
        "template_ms": _round(template_ms, 1), "template_tokens": max(r[1] for r in template_runs),
        "template_llm_calls": max(r[2] for r in template_runs),
        "llm_vs_template": _round(llm_ms / template_ms, 2),
        "note": "scripted LLM answers at once: llm_ms is the planner's own cost, a real model "
                "adds its latency; tokens ~ chars/4 of the request the planner really sent",
    }


def _approx_tokens(text: str) -> int:
    return max(1, len(text) // 4)


async def _plan_once(goals: JarvisClient, source: str) -> tuple[float, Any]:
    started = time.perf_counter()
    goal_id = await goals.submit(PLANNING_GOAL, dry_run=True, by="bench")
    state = await goals.result(goal_id)
    seconds = time.perf_counter() - started
    if state.stage != "planned" or state.source != source:
        raise RuntimeError(f"planning benchmark: expected a plan from {source}, got stage "
                           f"{state.stage!r} source {state.source!r}: {state.message}")
    return seconds, state


async def _measured_plan(goals: JarvisClient, llm: ScriptedLLM,
                         source: str) -> tuple[float, int, int]:
    """(ms, tokens the goal accounted, chat calls the LLM server received)."""
    calls = llm.calls
    seconds, state = await _plan_once(goals, source)
    return 1000 * seconds, state.usage.total_tokens, llm.calls - calls


async def _learn(goals: JarvisClient) -> str | None:
    """Run the goal for real once, so its plan is remembered as a template."""
    goal_id = await goals.submit(PLANNING_GOAL, policy="approve-all", by="bench")
    state = await goals.result(goal_id)
    if state.stage != "succeeded" or not state.template_id:
        raise RuntimeError(f"planning benchmark: the learning run ended {state.stage!r} "
                           f"without a template: {state.message}")
    return state.template_id


RUNNERS: dict[str, Callable[[Bench], Awaitable[Metrics]]] = {
    "overhead": overhead, "parallelism": parallelism, "throughput": throughput,
    "planning": planning,
}


async def run_config(levers: Levers, size: Size, folder: Path,
                     only: Sequence[str] = BENCHMARKS) -> dict[str, Metrics]:
    """Every selected benchmark for one configuration, printing each result."""
    results: dict[str, Metrics] = {}
    async with bench_context(levers, size, folder) as bench:
        for name in only:
            started = time.perf_counter()
            results[name] = await RUNNERS[name](bench)
            print(f"[{levers.name}] {name} ({time.perf_counter() - started:.1f}s): "
                  f"{json.dumps(results[name])}", flush=True)
    return results


# --- durability of the server settings -----------------------------------------------------------

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


# --- reports -------------------------------------------------------------------------------------

def machine() -> dict[str, Any]:
    info: dict[str, Any] = {"nproc": os.cpu_count(), "python": platform.python_version(),
                            "platform": platform.platform(), "temporalio": version("temporalio")}
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                info["cpu"] = line.split(":", 1)[1].strip()
                break
    with contextlib.suppress(OSError, ValueError, IndexError):
        mem = Path("/proc/meminfo").read_text().splitlines()[0].split()[1]
        info["memory_gb"] = round(int(mem) / 1024 / 1024, 1)
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        out = subprocess.run([temporal_binary(), "--version"], capture_output=True, text=True,
                             timeout=30)
        info["temporal_cli"] = out.stdout.strip()
    with contextlib.suppress(OSError):
        info["load_avg_at_start"] = [round(x, 2) for x in os.getloadavg()]
    return info


@dataclass
class Report:
    command: str
    size: str
    machine: dict[str, Any]
    configs: list[dict[str, Any]] = field(default_factory=list)
    results: dict[str, dict[str, Metrics]] = field(default_factory=dict)  # bench -> config
    durability: dict[str, Metrics] = field(default_factory=dict)

    def add(self, levers: Levers, results: dict[str, Metrics]) -> None:
        self.configs.append(levers.describe())
        for name, metrics in results.items():
            self.results.setdefault(name, {})[levers.name] = metrics

    def write(self, out: Path) -> list[Path]:
        out.mkdir(parents=True, exist_ok=True)
        written = []
        for name, by_config in self.results.items():
            data = {"benchmark": name, "command": self.command, "size": self.size,
                    "machine": self.machine, "configs": self.configs, "results": by_config,
                    "targets": TARGETS.get(name, {})}
            written.append(_write(out / f"bench-{name}.json", json.dumps(data, indent=2)))
            written.append(_write(out / f"bench-{name}.md", self.markdown(name)))
        if self.durability:
            data = {"benchmark": "durability", "command": self.command,
                    "machine": self.machine, "results": self.durability}
            written.append(_write(out / "bench-durability.json", json.dumps(data, indent=2)))
        written.append(_write(out / "bench.md", self.summary()))
        return written

    def markdown(self, name: str) -> str:
        by_config = self.results[name]
        names = list(by_config)
        keys = [k for k in dict.fromkeys(k for m in by_config.values() for k in m)
                if k not in _NOT_IN_TABLES]
        targets = TARGETS.get(name, {})
        lines = [f"### {name}", "", f"`{self.command}` (size {self.size})", "",
                 "| metric | " + " | ".join(names) + " | target |",
                 "|---" * (len(names) + 2) + "|"]
        for key in keys:
            cells = [_cell(by_config[c].get(key)) for c in names]
            lines.append(f"| {key} | " + " | ".join(cells) + f" | {targets.get(key, '')} |")
        notes = dict.fromkeys(str(m["note"]) for m in by_config.values() if "note" in m)
        lines += ["", *(f"Note: {n}" for n in notes)] if notes else []
        return "\n".join(lines) + "\n"

    def summary(self) -> str:
        m = self.machine
        lines = ["# Engine benchmarks", "", f"Command: `{self.command}`", "",
                 f"Machine: {m.get('nproc')} CPUs ({m.get('cpu', '?')}), "
                 f"{m.get('memory_gb', '?')} GB, Python {m.get('python')}, temporalio "
                 f"{m.get('temporalio')}, {m.get('temporal_cli', 'temporal CLI ?')}; load "
                 f"average at start {m.get('load_avg_at_start')}", "", "Configurations:", ""]
        for cfg in self.configs:
            flags = " ".join(cfg["server_flags"]) or "(none)"
            worker = json.dumps(cfg["worker_options"]) if cfg["worker_options"] else "defaults"
            lines.append(f"- **{cfg['name']}**: local activities {cfg['local_activities']}, "
                         f"eager start {cfg['eager_start']}, sandboxed {cfg['sandboxed']}, "
                         f"worker options {worker}, server flags `{flags}`")
        lines.append("")
        lines += [self.markdown(name) for name in self.results]
        if self.durability:
            lines += ["### durability (SIGKILL after acknowledgement)", ""]
            lines += [f"- {k}: `{json.dumps(v)}`" for k, v in self.durability.items()]
        return "\n".join(lines) + "\n"


_NOT_IN_TABLES = {"note", "template_id"}  # in the JSON only


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


# --- entry point ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Options:
    size: str = "full"
    out: Path = Path("eval-reports")
    baseline: bool = False
    ablate: bool = False
    explore: bool = False
    kill_check: bool = False
    only: tuple[str, ...] = BENCHMARKS
    rounds: int = 1

    def command(self) -> str:
        parts = ["python -m evals.bench", f"--size {self.size}", f"--out {self.out}"]
        parts += ["--baseline"] * self.baseline + ["--ablate"] * self.ablate
        parts += ["--explore"] * self.explore + ["--kill-check"] * self.kill_check
        parts += [f"--rounds {self.rounds}"] if self.rounds != 1 else []
        if self.only != BENCHMARKS:
            parts.append(f"--only {','.join(self.only)}")
        return " ".join(parts)

    def configurations(self) -> list[Levers]:
        return [*([BASELINE] if self.baseline else []), TUNED,
                *(ablations() if self.ablate else []),
                *(explorations() if self.explore else [])]


async def run(options: Options) -> Report:
    """Run every configuration (one dev server each), ``rounds`` times in rotated order (the
    machine drifts), keep each metric's median over the rounds; then the optional kill check."""
    size = SIZES[options.size]
    report = Report(options.command(), options.size, machine())
    print(f"machine: {json.dumps(report.machine)}", flush=True)
    configs = options.configurations()
    rounds: dict[str, list[dict[str, Metrics]]] = {c.name: [] for c in configs}
    with tempfile.TemporaryDirectory(prefix="jarvis-bench-") as tmp:
        for r in range(options.rounds):
            for k in range(len(configs)):
                levers = configs[(k + r) % len(configs)]
                folder = Path(tmp) / f"r{r}c{k}"
                rounds[levers.name].append(await run_config(levers, size, folder, options.only))
        for levers in configs:
            report.add(levers, {name: combine([one[name] for one in rounds[levers.name]])
                                for name in options.only})
        if options.kill_check:
            metrics = await kill_check(Path(tmp) / "kill", DEFAULT_TUNING, size.kill_rounds,
                                       size.kill_burst)
            report.durability["tuned server flags"] = metrics
            print(f"durability: {json.dumps(metrics)}", flush=True)
    return report


def combine(runs: Sequence[Metrics]) -> Metrics:
    """One metrics dict from several rounds: the median of each number, the worst count of lost
    or completed runs, the first value of anything else."""
    out: Metrics = {}
    for key, first in runs[0].items():
        values = [r[key] for r in runs if key in r]
        if key.endswith("_lost"):
            out[key] = max(values)
        elif key.endswith("_completed"):
            out[key] = min(values)
        elif isinstance(first, float):
            out[key] = _round(_median(values))
        else:
            out[key] = first
    if len(runs) > 1:
        out["rounds"] = len(runs)
    return out


def parse_args(argv: Sequence[str] | None = None) -> Options:
    parser = argparse.ArgumentParser(prog="python -m evals.bench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", choices=sorted(SIZES), default="full")
    parser.add_argument("--out", type=Path, default=Path("eval-reports"))
    parser.add_argument("--baseline", action="store_true",
                        help="also run with every lever off (before/after in one run)")
    parser.add_argument("--ablate", action="store_true",
                        help="also run the tuned configuration minus one lever at a time")
    parser.add_argument("--explore", action="store_true",
                        help="also run levers tried and not adopted (rates, pollers, knobs)")
    parser.add_argument("--kill-check", action="store_true",
                        help="SIGKILL the tuned server after acknowledged runs; count losses")
    parser.add_argument("--rounds", type=int, default=1,
                        help="run every configuration this many times; report medians")
    parser.add_argument("--only", default=",".join(BENCHMARKS),
                        help=f"comma-separated subset of {','.join(BENCHMARKS)}")
    args = parser.parse_args(argv)
    only = tuple(b.strip() for b in args.only.split(",") if b.strip())
    unknown = [b for b in only if b not in BENCHMARKS]
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(unknown)}")
    return Options(size=args.size, out=args.out, baseline=args.baseline, ablate=args.ablate,
                   explore=args.explore, kill_check=args.kill_check, only=only,
                   rounds=max(1, args.rounds))


def main(argv: Sequence[str] | None = None) -> int:
    # SIGTERM unwinds like Ctrl-C, so the dev servers this run started are stopped
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("temporalio").setLevel(logging.ERROR)  # failed attempts are expected
    options = parse_args(argv)
    report = asyncio.run(run(options))
    for path in report.write(options.out):
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    code = main()
    sys.stdout.flush()
    os._exit(code)  # skip interpreter teardown: sdk-python #300 (jarvis_planner/cli)
