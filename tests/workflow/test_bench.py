"""The performance levers and their benchmarks.

The benchmarks are scripts (``python -m evals.bench``), not timed tests: here they run at smoke
size and only the reports' sanity is checked (the machine is shared, so no timing thresholds).
The dev server's SQLite settings are proven to lose nothing when the server is SIGKILLed.
"""

from __future__ import annotations

import asyncio
import json
import math
import os
import subprocess
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from temporalio.client import Client

from activities import default_registry
from activities.execution import tool_runtime
from agents.client import JarvisClient
from agents.devserver import (
    DEFAULT_TUNING,
    STOCK,
    DevServerError,
    dev_server_command,
    free_port,
    start_dev_server,
    stop_process,
)
from agents.simple_engine import SimpleWorkflowEngine
from agents.worker import create_worker
from agents.workflow_levers import LEVERS
from evals.bench import BENCHMARKS, SIZES, Options, ablations, kill_check, parse_args, run
from evals.bench.fixture import with_levers
from evals.bench.levers import TUNED
from planner.plan import Plan
from planner.preparation import prepare
from planner.retry import RetrySpec
from planner.settings import Settings
from planner.tools import tool_from_function
from tests.plans import FLAKY_CALLS, add_test_tools, flaky


async def test_smoke_benchmarks_write_sane_reports(tmp_path: Path) -> None:
    report = await run(Options(size="smoke", out=tmp_path, baseline=True))
    report.write(tmp_path)
    for name in BENCHMARKS:
        data = json.loads((tmp_path / f"bench-{name}.json").read_text())
        assert set(data["results"]) == {"baseline", "tuned"}, name
        assert data["command"].startswith("python -m evals.bench --size smoke")
        table = (tmp_path / f"bench-{name}.md").read_text()
        assert "| metric | baseline | tuned | target |" in table
    assert "Machine: " in (tmp_path / "bench.md").read_text()
    size = SIZES["smoke"]
    for config in ("baseline", "tuned"):
        overhead = report.results["overhead"][config]
        for key in ("temporal_default", "temporal_regular", "temporal_pure", "simple", "bare"):
            assert 0 < overhead[f"{key}_ms_per_step"] < math.inf, (config, key)
        fan = report.results["parallelism"][config]
        ratios = [v for k, v in fan.items() if k.startswith("ratio_")]
        assert ratios and all(1.0 <= r < math.inf for r in ratios), (config, fan)
        throughput = report.results["throughput"][config]
        for kind in ("default", "regular", "pure"):
            assert throughput[f"{kind}_completed"] == size.goals, (config, throughput)
            assert throughput[f"{kind}_lost"] == 0
            assert 0 < throughput[f"{kind}_steps_per_s"] < math.inf
        planning = report.results["planning"][config]
        assert planning["llm_calls"] == 1 and planning["llm_tokens"] > 0, planning
        assert planning["template_llm_calls"] == 0 and planning["template_tokens"] == 0
        assert 0 < planning["template_ms"] < math.inf
    assert report.results["overhead"]["tuned"]["local_steps"] == size.seq_steps
    assert report.results["overhead"]["baseline"]["local_steps"] == 0
    # the baseline turns issue 14's levers off too (pure steps as regular activities, the
    # recomputing scheduler, memory as regular activities, no local chains): same results, and
    # put back after
    assert report.results["overhead"]["tuned"]["inline_steps"] == size.seq_steps
    assert report.results["overhead"]["baseline"]["inline_steps"] == 0
    assert report.results["overhead"]["tuned"]["local_chain_s"] > 0
    assert report.results["overhead"]["baseline"]["local_chain_s"] == 0
    assert LEVERS.incremental_scheduler and LEVERS.memory_local


def test_ablations_can_be_chosen_by_name() -> None:
    options = parse_args(["--ablate", "no pure steps inline; recomputing scheduler"])
    assert [c.name for c in options.configurations()] == [
        "tuned", "no pure steps inline", "recomputing scheduler"]
    assert "--ablate 'no pure steps inline;recomputing scheduler'" in options.command()
    assert len(parse_args(["--ablate"]).configurations()) == 1 + len(ablations())
    with pytest.raises(SystemExit):
        parse_args(["--ablate", "no such lever"])


def test_server_cpus_place_every_server_of_the_run_and_leave_the_rest_to_the_benchmark(
        capsys: pytest.CaptureFixture[str]) -> None:
    usable = sorted(os.sched_getaffinity(0))
    if len(usable) < 2:
        pytest.skip("placing the server apart needs two CPUs this process may use")
    options = parse_args(["--server-cpus", str(usable[0]), "--ablate", "no local groups",
                          "--peers"])
    assert options.server_cpus == (usable[0],)
    assert [c.server.cpus for c in options.configurations()] == [(usable[0],)] * 2
    assert options.placed(DEFAULT_TUNING).cpus == (usable[0],)  # the floor's, the kill check's
    assert options.placed(DEFAULT_TUNING).pragmas == DEFAULT_TUNING.pragmas
    assert options.bench_cpus() == set(usable[1:])
    assert f"--server-cpus {usable[0]}" in options.command()
    assert parse_args([]).bench_cpus() is None
    assert all(not c.server.cpus for c in parse_args([]).configurations())
    for wrong, says in ((",".join(map(str, usable)), "leaves no CPU for the benchmark"),
                        ("99999", "may use CPUs"), ("first", "CPU numbers separated by commas")):
        with pytest.raises(SystemExit):
            parse_args(["--server-cpus", wrong])
        assert says in capsys.readouterr().err


def test_a_server_placed_on_a_cpu_runs_every_thread_there(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cpu = min(os.sched_getaffinity(0))
    tuning = replace(DEFAULT_TUNING, cpus=(cpu,))
    with monkeypatch.context() as no_taskset:
        no_taskset.setenv("PATH", str(tmp_path))
        with pytest.raises(DevServerError, match=r"needs `taskset` \(the util-linux package\)"):
            tuning.placement()
    assert dev_server_command(Path("t.sqlite"), 7233, None, tuning=tuning)[1:3] == [
        "-c", str(cpu)]
    server = start_dev_server(tmp_path / "t.sqlite", free_port(), tuning=tuning)
    try:
        threads = list(Path(f"/proc/{server.pid}/task").iterdir())
        assert len(threads) > 1  # the Go runtime's threads, started after the placement
        assert {frozenset(os.sched_getaffinity(int(t.name))) for t in threads} == {
            frozenset({cpu})}
    finally:
        stop_process(server)


def test_chain_levers_reach_the_settings_plans_are_prepared_with(tmp_path: Path) -> None:
    """The ablations of the chain budget, chains and groups change what plans are prepared
    with; the tuned configuration keeps the setting's default."""
    settings = Settings(data_dir=tmp_path)
    named = {c.name: c for c in ablations()}
    tuned = with_levers(settings, TUNED)
    assert tuned.local_chain_s == settings.local_chain_s and tuned.local_groups
    assert with_levers(settings, named["0.2 s chain budget"]).local_chain_s == 0.2
    assert with_levers(settings, named["no local chains"]).local_chain_s == 0
    assert not with_levers(settings, named["no local groups"]).local_groups
    plan = Plan.model_validate({"goal": "two reads", "steps": [
        {"id": "a", "tool": "read_file", "args": {"path": "a.txt"}},
        {"id": "b", "tool": "read_file", "args": {"path": "b.txt"}, "deps": ["a"]}]})
    budget = with_levers(settings, named["0.2 s chain budget"])
    assert prepare(plan, default_registry(), budget).local_chain_s == 0.2


async def test_sigkilled_server_keeps_every_acknowledged_run(tmp_path: Path) -> None:
    """The adopted SQLite pragmas (WAL, synchronous=normal): runs acknowledged as started or
    completed right before a SIGKILL are all there after a restart on the same file."""
    metrics = await kill_check(tmp_path, DEFAULT_TUNING, rounds=2, burst=5)
    assert metrics["started_acknowledged"] == 10 and metrics["completed_acknowledged"] == 2
    assert metrics["lost"] == 0, metrics


def test_server_flags_are_the_default_for_every_start() -> None:
    cmd = dev_server_command(Path("t.sqlite"), 7233, None)
    assert cmd[cmd.index("--sqlite-pragma") + 1] == "journal_mode=wal"
    assert "synchronous=normal" in cmd
    assert "history.transferProcessorMaxPollRPS=100" in cmd
    stock = dev_server_command(Path("t.sqlite"), 7233, None, tuning=STOCK)
    assert "--sqlite-pragma" not in stock and "--dynamic-config-value" not in stock


def test_the_server_gets_a_tuning_go_environment_unless_the_operator_sets_it(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GOGC", raising=False)
    monkeypatch.setenv("GOMEMLIMIT", "3GiB")  # the operator's own limit

    def environ(proc: subprocess.Popen[bytes]) -> dict[str, str]:
        pairs = Path(f"/proc/{proc.pid}/environ").read_bytes().split(b"\0")
        return dict(p.decode().split("=", 1) for p in pairs if b"=" in p)

    tuned_go = replace(DEFAULT_TUNING, go_env={"GOGC": "400", "GOMEMLIMIT": "1GiB"})
    for tuning, gogc in ((tuned_go, "400"), (DEFAULT_TUNING, None)):
        server = start_dev_server(tmp_path / f"{gogc}.sqlite", free_port(), tuning=tuning)
        try:
            env = environ(server)
        finally:
            stop_process(server)
        assert env.get("GOGC") == gogc
        assert env["GOMEMLIMIT"] == "3GiB", "what the operator set wins"


def test_local_activities_only_for_short_read_only_idempotent_tools(settings: Settings) -> None:
    registry = default_registry()
    local = {t.name for t in registry if t.runs_local}
    assert local == {"calc", "list_files", "notes_search", "read_file"}
    plan = Plan.model_validate({"goal": "mix", "steps": [
        {"id": "c", "tool": "calc", "args": {"expression": "1"}},
        {"id": "w", "tool": "write_file", "args": {"path": "x", "text": "${c.value}"}},
        {"id": "t", "tool": "wait", "args": {"seconds": 1}}]})
    policies = prepare(plan, registry, settings).policies
    assert {k: p.local for k, p in policies.items()} == {"c": True, "w": False, "t": False}
    assert policies["c"].activity == "tool.calc", "activity names are durable contracts"
    regular = prepare(plan, registry, settings, local_activities=False).policies
    assert not any(p.local for p in regular.values())
    opted_out = tool_from_function(lambda: 1, name="quick", local_ok=False)
    opted_in = tool_from_function(lambda: 1, name="side", risk=opted_out.risk, local_ok=True,
                                  timeout_s=120)
    assert not opted_out.runs_local and opted_in.runs_local
    # a tool that is not idempotent never runs local, even when it asks to
    effect = tool_from_function(lambda: 1, name="effect", local_ok=True, idempotent=False)
    assert not effect.runs_local


async def dawdle(seconds: float) -> float:
    """Sleep (longer than the step's timeout in the test below)."""
    await asyncio.sleep(seconds)
    return seconds


async def test_local_activity_keeps_timeout_and_retry_semantics(
        client: Client, settings: Settings) -> None:
    registry = default_registry()
    registry.register(tool_from_function(dawdle, timeout_s=5, retry=RetrySpec(
        max_attempts=2, initial_interval_s=0.1, backoff=1.0, max_interval_s=0.1)))
    plan = Plan.model_validate({"goal": "too slow", "steps": [
        {"id": "ok", "tool": "calc", "args": {"expression": "2 * 3"}},
        {"id": "slow", "tool": "dawdle", "args": {"seconds": 3}, "timeout_s": 0.3,
         "deps": ["ok"]}]})
    inp = prepare(plan, registry, settings)
    assert inp.policies["slow"].local and inp.policies["ok"].local
    async with create_worker(client, settings, registry):
        temporal = await JarvisClient(client, settings).execute_plan(inp)
    simple = await SimpleWorkflowEngine(tool_runtime(settings, registry)).execute_plan(inp)
    for state in (temporal, simple):
        assert state.step("ok").output["value"] == 6, state.engine
        error = state.step("slow").error
        assert error is not None and error.type == "Timeout", (state.engine, error)
        assert state.step("slow").attempts == 2, state.engine


@pytest.mark.parametrize("local", [True, False], ids=["local", "regular"])
async def test_initial_retry_interval_above_the_maximum_is_capped(
        client: Client, settings: Settings, local: bool) -> None:
    """Temporal refuses a retry policy whose initial interval exceeds its maximum; a step that
    asks for one (the tool's maximum is 0.2 s here) waits the maximum, as the simple engine
    does, instead of failing every workflow task (the run used to never end)."""
    FLAKY_CALLS.clear()
    registry = add_test_tools(default_registry())
    registry.register(tool_from_function(flaky, name="flaky_read", timeout_s=10, retry=RetrySpec(
        max_attempts=3, initial_interval_s=0.1, backoff=1.0, max_interval_s=0.2)))
    tool = "flaky_read" if local else "flaky"
    plan = Plan.model_validate({"goal": "capped retry", "steps": [
        {"id": "f", "tool": tool, "args": {"key": f"cap-{local}", "failures": 1},
         "retry": {"initial_interval_s": 5}}]})
    inp = prepare(plan, registry, settings)
    assert inp.policies["f"].local is local
    async with create_worker(client, settings, registry):
        state = await asyncio.wait_for(
            JarvisClient(client, settings).execute_plan(inp), 30)
    assert state.status == "succeeded", state.failure_report()
    assert state.step("f").attempts == 2


async def test_peers_run_beside_jarvis_and_scaling_draws_its_curves(tmp_path: Path) -> None:
    """`--peers` runs LangGraph (SQLite checkpointer), DBOS (SQLite) and the Temporal floor
    (each run one local activity) on the same workloads in the same run (the test command
    installs the extra `peers`), and the side-by-side table has a column for each; the scaling
    benchmark measures plan sizes and goals in flight and draws its curves as SVG."""
    import xml.etree.ElementTree as ET

    only = ("overhead", "parallelism", "throughput", "scaling")
    report = await run(Options(size="smoke", out=tmp_path, peers=True, only=only))
    written = {p.name for p in report.write(tmp_path)}
    size = SIZES["smoke"]
    assert set(report.peers) == {"langgraph", "dbos", "temporal-floor"}
    for peer, results in report.peers.items():
        assert 0 < results["overhead"]["ms_per_step"] < math.inf, peer
        ratios = [v for k, v in results["parallelism"].items() if k.startswith("ratio_")]
        assert ratios and all(1.0 <= r < math.inf for r in ratios), (peer, ratios)
        assert results["throughput"]["completed"] == size.goals, (peer, results)
        assert results["throughput"]["lost"] == 0
    summary = (tmp_path / "bench.md").read_text()
    assert ("| workload | JARVIS Temporal (tuned) | JARVIS, regular activities | JARVIS simple "
            "| LangGraph + SQLite (sync) | DBOS + SQLite "
            "| Temporal floor (one local activity a run) |") in summary
    assert "| fan-out + join of 0.05 s steps, makespan / critical path |" in summary
    scaling = report.results["scaling"]["tuned"]
    for shape in ("chain", "fan", "pure"):
        for n in size.scale_steps:
            assert 0 < scaling[f"{shape}_{n}_ms_per_step"] < math.inf
            assert scaling[f"{shape}_{n}_events_per_step"] > 0
            assert scaling[f"{shape}_{n}_runs"] == 1
    # pure steps add nothing to the history: a run's few events, whatever the plan's length
    small, large = (scaling[f"pure_{n}_events_per_step"] * n for n in size.scale_steps[:2])
    assert abs(small - large) < 0.5, (small, large)
    for goals in size.scale_goals:
        assert scaling[f"goals_{goals}_lost"] == 0 and scaling[f"goals_{goals}_steps_per_s"] > 0
        assert 0 < scaling[f"goals_{goals}_longest_workflow_task_s"] < 10
        assert scaling[f"goals_{goals}_workflow_tasks_lapsed"] == 0
    assert scaling["parked_waiting"] == size.scale_parked
    for chart in ("scaling-plan-size", "scaling-history", "scaling-goals"):
        assert f"bench-{chart}.svg" in written
        svg = ET.parse(tmp_path / f"bench-{chart}.svg").getroot()
        paths = svg.findall("{http://www.w3.org/2000/svg}path")
        assert paths and all(p.get("d", "").count("L") >= 1 for p in paths), chart


async def test_the_floor_benchmark_runs_jarvis_the_floor_and_langgraph_in_rounds(
        tmp_path: Path) -> None:
    """`--only floor --rounds 2`: JARVIS, the Temporal floor's workflow (on the same dev
    server) and LangGraph (the `peers` extra, installed by the test command) take turns
    (evals/bench/floor_pairs.py); every run of each is accounted for from its own store. The
    report keeps each round's figures beside their medians."""
    report = await run(Options(size="smoke", out=tmp_path, only=("floor",), rounds=2))
    report.write(tmp_path)
    size = SIZES["smoke"]
    floor = report.results["floor"]["tuned"]
    each = json.loads((tmp_path / "bench-floor.json").read_text())["rounds"]["tuned"]
    assert len(each) == 2
    for one in each:
        _check_floor_round(one)
    assert floor["pairs"] == size.floor_pairs and floor["batches"] == size.floor_batches
    for key in ("fan_0ms_over_floor_ms", "fan_0ms_over_langgraph_ms", "seq_vs_langgraph",
                "steps_per_s"):  # each a median of the rounds' (the mean of two)
        assert floor[key] == pytest.approx((each[0][key] + each[1][key]) / 2, abs=1e-3), key
    for prefix in ("", "floor_", "langgraph_"):
        assert floor[f"{prefix}lost"] == 0, floor
    table = (tmp_path / "bench-floor.md").read_text()
    assert "| fan_0ms_over_floor_ms |" in table and "| fan_0ms_over_langgraph_ms |" in table
    assert "each round's figures: `bench-floor.json`" in table


def _check_floor_round(floor: dict[str, Any]) -> None:
    size = SIZES["smoke"]
    assert floor["seq_steps"] == size.seq_steps
    for prefix in ("", "floor_", "langgraph_"):
        assert 0 < floor[f"{prefix}seq_ms_per_step"] < math.inf, floor
    for rival in ("floor", "langgraph"):
        assert 0 < floor[f"seq_vs_{rival}"] < math.inf, floor
    for step_ms in (round(size.fan_step_s[0] * 1000), 0):
        # a run never ends before its critical path: each over it, the differences finite
        for prefix in ("", "floor_", "langgraph_"):
            assert 0 < floor[f"{prefix}fan_{step_ms}ms_ms_over_path"] < math.inf, floor
        for rival in ("floor", "langgraph"):
            assert math.isfinite(floor[f"fan_{step_ms}ms_over_{rival}_ms"]), floor
        assert math.isfinite(floor[f"floor_fan_{step_ms}ms_over_langgraph_ms"]), floor
    for prefix in ("", "floor_", "langgraph_"):
        assert floor[f"{prefix}lost"] == 0, floor
        assert 0 < floor[f"{prefix}steps_per_s"] < math.inf, floor
        assert floor[f"{prefix}cpu_ms_per_run"] > 0, floor
    # the server works for the Temporal runs; LangGraph's own work is all in this process
    assert floor["server_cpu_ms_per_run"] > 0 and floor["floor_server_cpu_ms_per_run"] > 0
    for rival, prefix in (("floor", "floor_"), ("langgraph", "langgraph_")):
        assert floor[f"steps_per_s_vs_{rival}"] == round(
            floor["steps_per_s"] / floor[f"{prefix}steps_per_s"], 3)
    assert floor["floor_steps_per_s_vs_langgraph"] == round(
        floor["floor_steps_per_s"] / floor["langgraph_steps_per_s"], 3)
