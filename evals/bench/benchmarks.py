"""The benchmarks: per-step overhead, fan-out parallelism, throughput, planning."""

from __future__ import annotations

import json
import math
import statistics
import time
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

from activities.execution import execute_call, tool_runtime
from agents.client import JarvisClient
from agents.simple_engine import SimpleWorkflowEngine
from evals.bench.batch import run_batch
from evals.bench.fixture import Bench, bench_context
from evals.bench.levers import BENCHMARKS, Levers, Metrics, Size
from evals.bench.scaling import scaling
from evals.bench.workloads import PLANNING_GOAL, PLANNING_PLAN, chain_plan, fan_plan
from jarvis_planner.testing import ScriptedLLM
from planner.contracts.plan_run import RunState, ToolCall


def _median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else math.nan


def _round(value: float, digits: int = 3) -> float:
    return round(value, digits) if math.isfinite(value) else value


def fan_ratio(spans: Sequence[float], step_s: float) -> float:
    """A fan-out's makespan (the median of ``spans``) over its critical path: a step of
    ``step_s``, then the join's."""
    return _round(_median(spans) / (2 * step_s))


async def overhead(bench: Bench) -> Metrics:
    """ms per step of a sequential plan of no-ops, per engine, and the ratios; the no-op as a
    tool that could do I/O (local activity; regular) and as a pure tool (in the workflow)."""
    n = bench.size.seq_steps
    plan = chain_plan(n)
    default_inp, regular_inp = bench.prepared(plan), bench.prepared(plan, regular=True)
    pure_inp = bench.prepared(chain_plan(n, "sequential pure steps", tool="bench_pure"))
    simple = SimpleWorkflowEngine(tool_runtime(bench.settings, bench.registry))
    times: dict[str, list[float]] = {"temporal_default": [], "temporal_regular": [],
                                     "temporal_pure": [], "simple": [], "bare": []}
    for _ in range(bench.size.seq_repeats):
        for key, inp in (("temporal_default", default_inp), ("temporal_regular", regular_inp),
                         ("temporal_pure", pure_inp)):
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
        "inline_steps": sum(p.inline for p in pure_inp.policies.values()),
        "local_chain_s": default_inp.local_chain_s,  # 0: one local activity per step
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
            out[f"ratio_{key}"] = fan_ratio(spans, seconds)
            out[f"ratio_{key}_min"] = _round(min(spans) / (2 * seconds))
    return out


async def throughput(bench: Bench) -> Metrics:
    """Many plan runs at once: steps per second, and every run accounted for (no-op tool calls
    as local activities, as regular ones, and pure steps in the workflow)."""
    out: Metrics = {"goals": bench.size.goals, "steps_per_goal": bench.size.goal_steps}
    for key, tool, regular in (("default", "bench_noop", False), ("regular", "bench_noop", True),
                               ("pure", "bench_pure", False)):
        inp = bench.prepared(chain_plan(bench.size.goal_steps, "throughput", tool),
                             regular=regular)
        batch = await run_batch(bench, inp, bench.size.goals)
        seconds, completed = batch.seconds, batch.completed
        steps = completed * bench.size.goal_steps
        out[f"{key}_seconds"] = _round(seconds)
        out[f"{key}_completed"] = completed
        out[f"{key}_lost"] = bench.size.goals - completed
        out[f"{key}_steps_per_s"] = _round(steps / seconds, 1)
    return out


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


async def floor(bench: Bench) -> Metrics:
    """JARVIS beside the Temporal floor and LangGraph, run by run (evals/bench/floor_pairs.py)."""
    from evals.bench.floor_pairs import floor_pairs  # it uses this module's helpers

    return await floor_pairs(bench)


RUNNERS: dict[str, Callable[[Bench], Awaitable[Metrics]]] = {
    "overhead": overhead, "parallelism": parallelism, "throughput": throughput,
    "planning": planning, "scaling": scaling, "floor": floor,
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
