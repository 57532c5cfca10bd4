"""Deciding at a step's gate from the command line: `jarvis goal` shows the step waiting with
the arguments a person decides on, `jarvis approve GOAL --step X` lets it run, `jarvis reject
GOAL --step X` skips it (and what depends on it), usage errors are clear."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from agents.client import JarvisClient
from agents.connection import connect
from planner.contracts.goal_flow import GoalState
from planner.settings import Settings
from tests.e2e.clitools import assert_clean_error, cli_env, jarvis, worker_process

GOAL = "calculate (2 + 3) * 7 and save it to total.txt"  # a shipped template: no LLM


@pytest.fixture
def env(tmp_path: Path, temporal_address: str, task_queue: str) -> Iterator[dict[str, str]]:
    env = cli_env(tmp_path / "data", temporal_address, task_queue)
    with worker_process(env, tmp_path / "worker.log"):
        yield env


def ended(env: dict[str, str], goal_id: str) -> GoalState:
    """The goal's final state, waited for (the worker process runs it on its own time)."""
    async def final() -> GoalState:
        settings = Settings(data_dir=Path(env["JARVIS_DATA_DIR"]),
                            temporal_address=env["JARVIS_TEMPORAL_ADDRESS"],
                            task_queue=env["JARVIS_TASK_QUEUE"])
        return await JarvisClient(await connect(settings.temporal_address), settings).result(
            goal_id)
    return asyncio.run(asyncio.wait_for(final(), 60))


async def gated_goal(env: dict[str, str]) -> str:
    """A goal under the step-gates policy, once its `save` step waits at its gate."""
    settings = Settings(data_dir=Path(env["JARVIS_DATA_DIR"]),
                        temporal_address=env["JARVIS_TEMPORAL_ADDRESS"],
                        task_queue=env["JARVIS_TASK_QUEUE"], embedding_backend="hashing")
    client = JarvisClient(await connect(settings.temporal_address), settings)
    goal_id = await client.submit(GOAL, policy="step-gates")

    def waiting(state: GoalState) -> bool:
        return state.run is not None and state.run.step("save").gate == "waiting"

    async def follow() -> None:
        async for event in client.events(goal_id):
            if waiting(event.state):
                return

    await asyncio.wait_for(follow(), 60)
    return goal_id


def test_approve_and_reject_a_step_at_its_gate(env: dict[str, str], tmp_path: Path) -> None:
    goal_id = asyncio.run(gated_goal(env))
    shown = jarvis("goal", goal_id, env=env)
    assert shown.returncode == 0, shown.stderr
    assert "waits at its gate for a person" in shown.stdout
    assert "--step save" in shown.stdout and '"text": 35' in shown.stdout, shown.stdout
    mixed = jarvis("approve", goal_id, "--step", "save", "--until", "calc", env=env)
    assert_clean_error(mixed, 1, "--step decides one step's gate")
    wrong = jarvis("approve", goal_id, "--step", "calc", env=env)
    assert_clean_error(wrong, 1, "cannot approve step 'calc': it is not waiting at a gate")
    ok = jarvis("approve", goal_id, "--step", "save", "--note", "fine", env=env)
    assert ok.returncode == 0, ok.stderr
    assert "step save (write_file) with" in ok.stdout and "approved step save" in ok.stdout
    assert ended(env, goal_id).stage == "succeeded"
    done = jarvis("result", goal_id, "--json", env=env)
    assert '"stage": "succeeded"' in done.stdout, done.stdout + done.stderr
    assert (tmp_path / "data" / "workspace" / "total.txt").read_text() == "35"

    second = asyncio.run(gated_goal(env))
    no = jarvis("reject", second, "--step", "save", "--reason", "not now", env=env)
    assert no.returncode == 0 and "rejected step save" in no.stdout, no.stderr
    final = jarvis("goal", second, env=env)
    assert "rejected by" in final.stdout and "not now" in final.stdout, final.stdout


def test_abandon_at_a_gate_then_retry_from_that_step(env: dict[str, str],
                                                     tmp_path: Path) -> None:
    """`jarvis reject GOAL --step X --abandon` stops the goal; `jarvis retry GOAL --from X
    --args JSON` runs that step again with new arguments, keeping the finished calc."""
    goal_id = asyncio.run(gated_goal(env))
    alone = jarvis("reject", goal_id, "--abandon", env=env)
    assert_clean_error(alone, 1, "--abandon goes with --step")
    stop = jarvis("reject", goal_id, "--step", "save", "--abandon", "--reason", "stop", env=env)
    assert stop.returncode == 0, stop.stderr
    assert "rejected (the goal is abandoned) step save" in stop.stdout
    assert ended(env, goal_id).stage == "rejected"

    assert_clean_error(jarvis("retry", goal_id, "--from", "save", "--args", "{no", env=env),
                       1, "--args is not JSON")
    assert_clean_error(jarvis("retry", goal_id, "--from", "save", "--args", "[1]", env=env),
                       1, "--args must be a JSON object")
    assert_clean_error(jarvis("retry", goal_id, "--from", "nope", env=env), 1,
                       "cannot retry goal " + goal_id + " from step 'nope': no such step")
    again = jarvis("retry", goal_id, "--from", "save", "--args",
                   '{"path": "again.txt", "text": "${calc.value}"}', env=env)
    assert again.returncode == 0, again.stderr
    assert f"retrying {goal_id} from step save with new arguments" in again.stdout
    assert "(it had ended rejected; finished steps are kept unless they follow save: calc)" \
        in again.stdout, again.stdout
    assert "again.txt" in again.stdout  # followed to the end: the result printed
    done = jarvis("result", goal_id, "--json", env=env)
    assert '"stage": "succeeded"' in done.stdout, done.stdout + done.stderr
    assert (tmp_path / "data" / "workspace" / "again.txt").read_text() == "35"
    shown = jarvis("goal", goal_id, env=env)
    assert "retried from step save" in shown.stdout, shown.stdout


def test_run_with_step_gates_stops_at_the_first_gate(env: dict[str, str], tmp_path: Path) -> None:
    """`jarvis run --step-gates`: the read-only calc runs, then the command says which step
    waits at its gate and how to decide (exit 3, like a review); `--yes` with it is refused."""
    both = jarvis("run", GOAL, "--yes", "--step-gates", env=env)
    assert_clean_error(both, 1, "--yes approves the whole plan and --step-gates asks")
    ran = jarvis("run", GOAL, "--step-gates", env=env)
    assert ran.returncode == 3, ran.stdout + ran.stderr
    assert "step(s) save wait at their gates: `jarvis approve" in ran.stderr, ran.stderr
    goal_id = next(line.split()[-1] for line in ran.stderr.splitlines()
                   if line.startswith("goal id:"))
    ok = jarvis("approve", goal_id, "--step", "save", env=env)
    assert ok.returncode == 0, ok.stderr
    assert ended(env, goal_id).stage == "succeeded"
    assert (tmp_path / "data" / "workspace" / "total.txt").read_text() == "35"
