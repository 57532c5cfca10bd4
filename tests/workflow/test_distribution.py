"""Workers spread out: 60 goals over three worker processes (one SIGKILLed mid-run), the same
with each worker in its own network namespace, and tools routed to a queue only a privileged
worker serves.

Every worker is a real `jarvis worker` process on a real dev server. Steps write notes
(``notes_append``, idempotent by the step's key), so "nothing lost, nothing repeated" is read
from the notes file, and each attempt a worker ran is read from its JSON log."""

from __future__ import annotations

import asyncio
import json
import socket
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import pytest
from temporalio.client import Client

from activities import default_registry
from agents.client import JarvisClient
from agents.connection import connect
from agents.devserver import free_port, start_dev_server, stop_process
from agents.worker import create_worker
from jarvis_planner.testing import ScriptedLLM, reply_json
from planner.approval import plan_digest
from planner.contracts.goal_flow import GoalInput, GoalState
from planner.contracts.names import GOAL_WORKFLOW
from planner.plan import Plan
from planner.preparation import prepare
from planner.scheduler import StepStatus
from planner.settings import Settings
from tests.netns import Hosts, NetnsUnavailable
from tests.processes import start_worker_process, wait_until, worker_env

GOALS = 60
STEP_IDS = ("a", "b", "c", "d")  # a; b and c after a; d after both
WORKERS = 3
HOST = socket.gethostname()
Proc = subprocess.Popen[bytes]


def spread_plan(i: int) -> Plan:
    def step(sid: str, deps: list[str]) -> dict[str, object]:
        # a lost attempt (its worker killed) is retried after 3 s, not the tool's 60
        return {"id": sid, "tool": "notes_append", "args": {"text": f"run{i}-{sid}"},
                "deps": deps, "timeout_s": 3,
                "retry": {"initial_interval_s": 0.2, "max_interval_s": 0.5}}

    return Plan.model_validate({"goal": f"spread run {i}", "steps": [
        step("a", []), step("b", ["a"]), step("c", ["a"]), step("d", ["b", "c"])]})


def identity(proc: Proc) -> str:
    return f"{proc.pid}@{HOST}"  # the SDK's default worker identity


def notes_file(settings: Settings) -> Path:
    return Path(settings.data_dir) / "notes.jsonl"


def note_texts(settings: Settings) -> list[str]:
    path = notes_file(settings)
    if not path.exists():
        return []
    return [json.loads(line)["text"] for line in path.read_text().splitlines() if line.strip()]


async def wait_for_workers(client: Client, queue: str, procs: list[Proc]) -> None:
    """Until every worker polls the queue for workflow and activity tasks."""
    wanted = {identity(p) for p in procs}
    engine = JarvisClient(client, Settings(task_queue=queue))

    async def all_poll() -> bool:
        for proc in procs:
            assert proc.poll() is None, f"worker {proc.pid} exited with {proc.returncode}"
        return (wanted <= await engine.pollers(queue)
                and wanted <= await engine.pollers(queue, activities=True))

    await wait_until(all_poll, timeout_s=45, what=f"{len(procs)} workers polling {queue}")


def attempts_logged(logs: list[Path]) -> Counter[tuple[str, str]]:
    """(run id, step id) -> the attempts the workers' JSON logs report (a SIGKILLed worker may
    not have logged its last one)."""
    seen: Counter[tuple[str, str]] = Counter()
    for log in logs:
        for line in log.read_text(errors="replace").splitlines():
            try:
                rec = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(rec, dict) and rec.get("event") == "step" and "outcome" in rec:
                seen[(str(rec["workflow_id"]), str(rec["step_id"]))] += 1
    return seen


def stop_all(procs: list[Proc]) -> None:
    for proc in procs:
        if proc.poll() is None:
            proc.terminate()
    for proc in procs:
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


async def start_goal(client: Client, settings: Settings, goal_id: str, plan: Plan) -> str:
    """A goal with a plan a person approved beforehand, started as a schedule starts its runs
    (reviewed once, no LLM call, no template lookup: the one path to a goal that needs
    neither; a schedule's runs are not remembered as templates). It prepares its plan (a
    planner activity), checks it is still the approved version and runs it like any goal."""
    await client.start_workflow(GOAL_WORKFLOW, GoalInput(
        goal=plan.goal, submitted_by="test", approved_plan=plan,
        approved_digest=plan_digest(plan), approved_by="test", schedule_id="spread",
        budget=settings.goal_budget(), index=True), id=goal_id, task_queue=settings.task_queue)
    return goal_id


async def run_spread(client: Client, settings: Settings, tmp_path: Path,
                     start: Callable[[int, Path], Proc], label: str,
                     check_polling: Callable[[], None] | None = None) -> None:
    """GOALS goals over WORKERS worker processes; the first worker is SIGKILLed once a
    quarter of the steps are done. Every goal succeeds, every note is written exactly once, the
    steps ran on more than one worker, no step ran more often than its recorded attempts."""
    engine = JarvisClient(client, settings)
    logs = [tmp_path / f"worker{i}.log" for i in range(WORKERS)]
    procs = [start(i, logs[i]) for i in range(WORKERS)]
    began = time.monotonic()
    try:
        await wait_for_workers(client, settings.task_queue, procs)
        if check_polling is not None:
            check_polling()
        tag = uuid.uuid4().hex[:6]
        goal_ids = await asyncio.gather(*(
            start_goal(client, settings, f"goal-spread-{tag}-{i}", spread_plan(i))
            for i in range(GOALS)))
        total = GOALS * len(STEP_IDS)
        await wait_until(lambda: len(note_texts(settings)) >= total // 4, timeout_s=60,
                         what="a quarter of the steps")
        victim = procs[0]
        victim.kill()  # SIGKILL: its activities and cached workflows are lost mid-flight
        victim.wait()
        done_at_kill = len(note_texts(settings))
        goals: list[GoalState] = await asyncio.wait_for(
            asyncio.gather(*(engine.result(g) for g in goal_ids)), timeout=120)
    finally:
        stop_all(procs)
    took = time.monotonic() - began

    assert [g.stage for g in goals] == ["succeeded"] * GOALS, [
        g.message for g in goals if g.stage != "succeeded"]
    states = [g.run for g in goals if g.run is not None]
    assert len(states) == GOALS
    expected = Counter(f"run{i}-{sid}" for i in range(GOALS) for sid in STEP_IDS)
    assert Counter(note_texts(settings)) == expected, "a step's note was lost or written twice"

    steps = [(goal_id, st) for goal_id, state in zip(goal_ids, states, strict=True)
             for st in state.steps]
    assert all(st.status is StepStatus.SUCCEEDED for _, st in steps)
    per_worker = Counter(st.worker for _, st in steps)
    known = {identity(p) for p in procs}
    assert set(per_worker) <= known, f"steps ran on unknown workers: {per_worker}"
    assert len(per_worker) >= 2, f"all steps ran on one worker: {per_worker}"
    logged = attempts_logged(logs)
    repeated = {(r, st.id): (logged[(r, st.id)], st.attempts) for r, st in steps
                if logged[(r, st.id)] > st.attempts}
    assert not repeated, f"steps ran more often than their attempts: {repeated}"
    retried = sum(1 for _, st in steps if st.attempts > 1)
    names = {identity(p): f"worker{i}{' (killed)' if i == 0 else ''}"
             for i, p in enumerate(procs)}
    counts = ", ".join(f"{names[w or '']} {w}: {n}" for w, n in per_worker.most_common())
    print(f"\n[{label}] {GOALS} goals x {len(STEP_IDS)} steps in {took:.1f}s; worker0 killed "
          f"after {done_at_kill} of {total} steps; steps per worker: {counts}; steps retried "
          f"after the kill: {retried}")


async def test_goals_spread_over_three_workers_survive_a_killed_one(
        client: Client, settings: Settings, tmp_path: Path) -> None:
    def start(i: int, log: Path) -> Proc:
        return start_worker_process(settings, log, env={"JARVIS_LOG_FORMAT": "json"})

    await run_spread(client, settings, tmp_path, start, "one host")


@pytest.fixture
def hosts() -> Iterator[Hosts]:
    """Three network namespaces on a bridge; skipped only where they cannot be created."""
    made = Hosts(WORKERS)
    try:
        made.create()
    except (NetnsUnavailable, FileNotFoundError) as exc:
        made.remove()
        pytest.skip(f"cannot create network namespaces here ({exc}); the workers-on-a-"
                    "network test needs root and `ip netns`")
    try:
        yield made
    finally:
        made.remove()


def server_peers(port: int) -> set[str]:
    """The addresses of the TCP connections the dev server's frontend has open."""
    out = subprocess.run(["ss", "-tnH", "state", "established", f"( sport = :{port} )"],
                         capture_output=True, text=True, timeout=10, check=True).stdout
    peers = {line.split()[-1].rpartition(":")[0].strip("[]") for line in out.splitlines()
             if line.strip()}
    return {p.removeprefix("::ffff:") for p in peers}  # IPv4 on a dual-stack socket


async def test_workers_in_their_own_network_namespaces(hosts: Hosts, tmp_path: Path) -> None:
    """The same over a network: each worker in its own namespace reaches the dev server on the
    bridge address (loopback is not shared), so every task crosses a veth pair."""
    port = free_port()
    # every address (the server's own services dial its frontend on loopback); the workers
    # can only reach it on the bridge's
    server = start_dev_server(tmp_path / "temporal.sqlite", port, ip="0.0.0.0",
                              log_file=tmp_path / "server.log")
    try:
        settings = Settings(data_dir=tmp_path / "data",
                            temporal_address=f"{hosts.host_ip}:{port}", task_queue="spread")
        client = await connect(settings.temporal_address)

        def start(i: int, log: Path) -> Proc:
            return start_worker_process(settings, log, env={"JARVIS_LOG_FORMAT": "json"},
                                        prefix=hosts.prefix(i))

        def connected_from_namespaces() -> None:
            peers = server_peers(port)
            assert {hosts.ip(i) for i in range(WORKERS)} <= peers, (
                f"the server's connections come from {peers}, not the namespaces")

        await run_spread(client, settings, tmp_path, start, "network namespaces",
                         connected_from_namespaces)
    finally:
        stop_process(server)


# -- routing ---------------------------------------------------------------------------------
PRIVILEGED = "privileged"
GOAL = "Note it, then leave a marker file in the workspace"


@pytest.fixture
def routed(settings: Settings, scripted_llm: ScriptedLLM) -> Settings:
    return settings.model_copy(update={
        "llm_base_url": scripted_llm.base_url, "llm_api_key": "scripted-key",
        "llm_model": scripted_llm.model, "llm_timeout_s": 10.0, "embedding_backend": "hashing",
        "tool_queues": {"shell": PRIVILEGED}})


@pytest.fixture
async def jarvis(client: Client, routed: Settings) -> AsyncIterator[JarvisClient]:
    """A default worker in this process: the workflows and every tool but the shell."""
    async with create_worker(client, routed, default_registry()):
        yield JarvisClient(client, routed)


def goal_cli(settings: Settings, goal_id: str) -> str:
    out = subprocess.run([sys.executable, "-m", "jarvis_planner.cli", "goal", goal_id],
                         env={**worker_env(settings), "COLUMNS": "250"}, capture_output=True,
                         text=True, timeout=60, stdin=subprocess.DEVNULL)
    assert out.returncode == 0, out.stderr
    return out.stdout


async def test_a_routed_shell_step_waits_for_the_privileged_worker_and_runs_only_there(
        jarvis: JarvisClient, scripted_llm: ScriptedLLM, tmp_path: Path) -> None:
    settings = jarvis.settings
    scripted_llm.expect(reply_json({"goal": GOAL, "steps": [
        {"id": "note", "tool": "notes_append", "args": {"text": "before the shell"}},
        {"id": "touch", "tool": "shell", "args": {"command": "echo ran > marker.txt"},
         "deps": ["note"]}]}))
    goal_id = await jarvis.submit(GOAL, policy="approve-all")
    state = await jarvis.wait_for_review(goal_id)
    assert state.stage == "awaiting_approval", state.message
    await jarvis.approve(goal_id, state.plan_digest or "", by="alice")

    waiting = f"no worker serves queue {PRIVILEGED}"

    async def shell_waits() -> bool:
        run = (await jarvis.state(goal_id)).run
        return run is not None and run.step("touch").waiting == waiting

    await wait_until(shell_waits, what="the shell step to wait for a privileged worker")
    now = await jarvis.state(goal_id)
    assert now.run is not None and now.run.step("touch").status is StepStatus.RUNNING
    assert now.run.step("note").status is StepStatus.SUCCEEDED
    # what `jarvis goal` shows meanwhile (in a thread: this loop runs the default worker)
    assert waiting in await asyncio.to_thread(goal_cli, settings, goal_id)
    marker = Path(settings.workspace_dir) / "marker.txt"
    assert not marker.exists(), "the default worker must not run the shell"

    privileged = start_worker_process(settings, tmp_path / "privileged.log",
                                      ["--queue", PRIVILEGED])
    try:
        final = await asyncio.wait_for(jarvis.result(goal_id), timeout=60)
    finally:
        stop_all([privileged])
    assert final.stage == "succeeded", final.message
    assert final.run is not None
    assert marker.read_text().strip() == "ran"
    assert final.run.step("touch").worker == identity(privileged)
    assert final.run.step("note").worker == jarvis.temporal.identity
    assert final.run.step("touch").worker != final.run.step("note").worker


async def test_a_failed_step_names_the_worker_that_ran_it(client: Client, settings: Settings
                                                          ) -> None:
    """Failures carry the worker too: a local activity's (calc) and a regular one's
    (write_file outside the workspace), each failing for good on its first attempt."""
    plan = Plan.model_validate({"goal": "fail twice", "on_failure": "continue", "steps": [
        {"id": "bad_sum", "tool": "calc", "args": {"expression": "1 +"}},
        {"id": "escape", "tool": "write_file", "args": {"path": "../../x.txt", "text": "x"}}]})
    # calc as a local activity here, not in the workflow (pure steps run on no worker)
    inp = prepare(plan, default_registry(), settings, inline_pure=False)
    assert inp.policies["bad_sum"].local and not inp.policies["escape"].local
    engine = JarvisClient(client, settings)
    async with create_worker(client, settings, default_registry()):
        state = await engine.plan_result(await engine.start_plan(inp))
    assert state.status == "failed"
    for step_id in ("bad_sum", "escape"):
        st = state.step(step_id)
        assert st.status is StepStatus.FAILED and st.error is not None, st
        assert st.worker == client.identity, (step_id, st.worker)
