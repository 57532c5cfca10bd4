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
    done = jarvis("result", goal_id, "--json", env=env)
    assert '"stage": "succeeded"' in done.stdout, done.stdout + done.stderr
    assert (tmp_path / "data" / "workspace" / "total.txt").read_text() == "35"

    second = asyncio.run(gated_goal(env))
    no = jarvis("reject", second, "--step", "save", "--reason", "not now", env=env)
    assert no.returncode == 0 and "rejected step save" in no.stdout, no.stderr
    final = jarvis("goal", second, env=env)
    assert "rejected by" in final.stdout and "not now" in final.stdout, final.stdout
